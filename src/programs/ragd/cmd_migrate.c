/* cmd_migrate.c — `ragd migrate up|down|status` (not built yet). */
#include <stdio.h>

#include "cmds.h"

int ragd_cmd_migrate(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "ragd migrate: not implemented yet\n");
    return 2;
}
