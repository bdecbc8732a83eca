/* serve.c — `llmd -m MODEL`: the OpenAI-compatible server (not built yet). */
#include <stdio.h>

#include "cli.h"

int llmd_cmd_serve(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "llmd: server not implemented yet\n");
    return 2;
}
