/* llmd — OpenAI-compatible inference server and engine command line (placeholder entry). */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: llmd [run|tokenize|serve] ...\n");
        return 0;
    }
    fprintf(stderr, "llmd: not built yet\n");
    return 2;
}
