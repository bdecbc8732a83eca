/* cli_run.c — `llmd run` (not built yet). */
#include <stdio.h>

#include "cli.h"

int llmd_cmd_run(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "llmd run: not implemented yet\n");
    return 2;
}
