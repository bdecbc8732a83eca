/* llmd — entry point: dispatches to a command (see cli.h). */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int main(int argc, char **argv)
{
    if (argc > 1) {
        const char *c = argv[1];
        if (!strcmp(c, "run")) return llmd_cmd_run(argc - 1, argv + 1);
        if (!strcmp(c, "tokenize")) return llmd_cmd_tokenize(argc - 1, argv + 1);
        if (!strcmp(c, "embed")) return llmd_cmd_embed(argc - 1, argv + 1);
        if (!strcmp(c, "template")) return llmd_cmd_template(argc - 1, argv + 1);
        if (!strcmp(c, "serve")) return llmd_cmd_serve(argc - 1, argv + 1);
    }
    return llmd_cmd_serve(argc, argv);
}
