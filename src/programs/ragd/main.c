/* ragd — entry point: dispatches to a command (see cmds.h). */
#include <stdio.h>
#include <string.h>

#include "cmds.h"

/* Top-level usage. */
static void usage(FILE *f)
{
    fputs("usage: ragd [COMMAND] [ARGS]\n"
          "  serve              serve the chat and the knowledge API (the default)\n"
          "  ask \"QUESTION\"     one answer on stdout, its sources after it\n"
          "  ingest FILE...     add documents (.txt .md .html .pdf)\n"
          "  pull               download a model from the Hugging Face Hub\n"
          "  migrate up|down|status   database migrations\n"
          "  reindex            rebuild the store's approximate vector index\n"
          "Each command takes --help. Settings come from the environment and .env (see ragd serve --help).\n",
          f);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argv[1][0] == '-') {
        if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
            usage(stdout);
            return 0;
        }
        return ragd_cmd_serve(argc, argv);
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "serve")) return ragd_cmd_serve(argc - 1, argv + 1);
    if (!strcmp(cmd, "pull")) return ragd_cmd_pull(argc - 1, argv + 1);
    if (!strcmp(cmd, "migrate")) return ragd_cmd_migrate(argc - 1, argv + 1);
    if (!strcmp(cmd, "reindex")) return ragd_cmd_reindex(argc - 1, argv + 1);
    if (!strcmp(cmd, "ask")) return ragd_cmd_ask(argc - 1, argv + 1);
    if (!strcmp(cmd, "ingest")) return ragd_cmd_ingest(argc - 1, argv + 1);
    if (!strcmp(cmd, "extract-pdf")) return ragd_cmd_extract_pdf(argc - 1, argv + 1);
    if (!strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "ragd: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
