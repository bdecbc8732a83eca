/* cmd_pull.c — `ragd pull` (not built yet). */
#include <stdio.h>

#include "cmds.h"

int ragd_cmd_pull(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "ragd pull: not implemented yet\n");
    return 2;
}
