/* cli_embed.c — `llmd embed` (not built yet). */
#include <stdio.h>

#include "cli.h"

int llmd_cmd_embed(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "llmd embed: not implemented yet\n");
    return 2;
}
