/* cmd_ingest.c — `ragd ingest FILE...`: adds documents from the command line, with a
 * progress bar when stderr is a terminal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "cmds.h"
#include "lm/buf.h"

/* Draws "name [#####     ] 12/40 chunks" on one terminal line. */
static void progress_bar(void *user, size_t done, size_t total)
{
    const char *name = user;
    int width = 30, fill = total ? (int)(done * (size_t)width / total) : width;
    fprintf(stderr, "\r%-30.30s [%.*s%*s] %zu/%zu chunks", name, fill, "##############################", width - fill,
            "", done, total);
    fflush(stderr);
}

/* Reads a whole file (bounded). */
static int read_file(const char *path, size_t max, struct lm_buf *b, struct lm_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) return lm_error_set(err, LM_ENOENT, "cannot open %s", path);
    char buf[65536];
    size_t n;
    int rc = 0;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        if (b->len + n > max) {
            rc = lm_error_set(err, LM_ETOOBIG, "%s is larger than %zu bytes (RAGD_MAX_BODY)", path, max);
            break;
        }
        if (lm_buf_append(b, buf, n) < 0) {
            rc = lm_error_set(err, LM_ENOMEM, "out of memory");
            break;
        }
    }
    fclose(f);
    return rc;
}

/* `ragd ingest`. */
int ragd_cmd_ingest(int argc, char **argv)
{
    int first = 1;
    const char *source = NULL;
    for (; first < argc && argv[first][0] == '-'; first++) {
        if (!strcmp(argv[first], "-h") || !strcmp(argv[first], "--help")) {
            fputs("usage: ragd ingest [--source NAME] FILE...\n"
                  "Adds each file (.txt .md .html .pdf) as a document: chunked, embedded, stored in one\n"
                  "transaction. The source shown in answers is the file's name (or NAME for a single file).\n",
                  stdout);
            return 0;
        } else if (!strcmp(argv[first], "--source") && first + 1 < argc) {
            source = argv[++first];
        } else {
            fprintf(stderr, "ragd ingest: unknown option '%s'\n", argv[first]);
            return 2;
        }
    }
    if (first >= argc) {
        fprintf(stderr, "ragd ingest: no files given (usage: ragd ingest FILE...)\n");
        return 2;
    }
    static struct ragd_app app;
    int rc = ragd_app_open(&app, false);
    if (rc) return rc;
    bool tty = isatty(2);
    int failed = 0;
    for (int i = first; i < argc; i++) {
        const char *path = argv[i];
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        const char *src = source && argc - first == 1 ? source : base;
        struct lm_buf data = {0};
        struct lm_error err = {0};
        char *text = NULL;
        struct lm_rag_ingest_result res;
        if (read_file(path, app.cfg.max_body, &data, &err) < 0 ||
            ragd_doc_text(&app, base, data.data ? data.data : "", data.len, &text, &err) < 0 ||
            ragd_ingest(&app, src, text, &res, tty ? progress_bar : NULL, (void *)base, &err) < 0) {
            if (tty) fputc('\n', stderr);
            fprintf(stderr, "ragd ingest: %s: %s\n", path, err.msg);
            failed++;
        } else {
            if (tty) fputc('\n', stderr);
            printf("%s: document %lld, %zu chunks%s\n", path, (long long)res.document_id, res.n_chunks,
                   res.duplicate ? " (already present)" : "");
        }
        free(text);
        lm_buf_free(&data);
    }
    ragd_app_close(&app);
    return failed ? 1 : 0;
}
