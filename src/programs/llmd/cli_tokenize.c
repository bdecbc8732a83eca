/* cli_tokenize.c — `llmd tokenize` (not built yet). */
#include <stdio.h>

#include "cli.h"

int llmd_cmd_tokenize(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "llmd tokenize: not implemented yet\n");
    return 2;
}
