/* ragd — entry point: dispatches to a command (see cmds.h). */
#include <stdio.h>
#include <string.h>

#include "cmds.h"

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "pull")) return ragd_cmd_pull(argc - 1, argv + 1);
    if (argc > 1 && !strcmp(argv[1], "migrate")) return ragd_cmd_migrate(argc - 1, argv + 1);
    fprintf(stderr, "ragd: serve not implemented yet\n");
    return 2;
}
