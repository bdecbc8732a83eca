/* cli_template.c — `llmd template` (not built yet). */
#include <stdio.h>

#include "cli.h"

int llmd_cmd_template(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "llmd template: not implemented yet\n");
    return 2;
}
