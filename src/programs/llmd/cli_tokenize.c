/* cli_tokenize.c — `llmd tokenize -m MODEL -p TEXT [--special] [--no-bos]`: prints the token ids
 * of TEXT on one line, space-separated (BOS and the model's other added tokens included unless
 * --no-bos). Only the GGUF metadata is read, never the weights. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "lm/buf.h"
#include "lm/gguf.h"
#include "lm/tokenizer.h"

static int usage(void)
{
    fprintf(stderr, "usage: llmd tokenize -m MODEL (-p TEXT | -f FILE) [--special] [--no-bos] [--pieces] [--time]\n");
    return 2;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Reads a whole file into b; 0 or -1. */
static int read_file(const char *path, struct lm_buf *b)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    char tmp[65536];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0) {
        if (lm_buf_append(b, tmp, n) < 0) {
            fclose(f);
            return -1;
        }
    }
    int bad = ferror(f);
    fclose(f);
    return bad ? -1 : 0;
}

int llmd_cmd_tokenize(int argc, char **argv)
{
    const char *model = NULL, *prompt = NULL, *file = NULL;
    bool special = false, no_bos = false, pieces = false, timing = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if ((!strcmp(a, "-m") || !strcmp(a, "--model")) && i + 1 < argc) model = argv[++i];
        else if ((!strcmp(a, "-p") || !strcmp(a, "--prompt")) && i + 1 < argc) prompt = argv[++i];
        else if ((!strcmp(a, "-f") || !strcmp(a, "--file")) && i + 1 < argc) file = argv[++i];
        else if (!strcmp(a, "--special")) special = true;
        else if (!strcmp(a, "--no-bos")) no_bos = true;
        else if (!strcmp(a, "--pieces")) pieces = true;
        else if (!strcmp(a, "--time")) timing = true;
        else return usage();
    }
    if (!model || (!prompt && !file) || (prompt && file)) return usage();

    struct lm_buf text = {0};
    if (file) {
        if (read_file(file, &text) < 0) {
            fprintf(stderr, "llmd tokenize: cannot read %s\n", file);
            lm_buf_free(&text);
            return 1;
        }
    } else if (lm_buf_append_str(&text, prompt) < 0) {
        return 1;
    }
    struct lm_error err = {0};
    struct lm_gguf *g = NULL;
    struct lm_tokenizer *t = NULL;
    int32_t *ids = NULL;
    size_t n = 0;
    int code = 1;
    double t0 = now_ms();
    if (lm_gguf_open(model, &g, &err) < 0 || lm_tokenizer_from_gguf(g, &t, &err) < 0) {
        fprintf(stderr, "llmd tokenize: %s: %s\n", model, err.msg);
        goto done;
    }
    lm_gguf_close(g);
    g = NULL;
    double t1 = now_ms();
    if (lm_tokenize(t, text.data ? text.data : "", text.len, !no_bos, special, &ids, &n, &err) < 0) {
        fprintf(stderr, "llmd tokenize: %s\n", err.msg);
        goto done;
    }
    double t2 = now_ms();
    /* --time: load and tokenisation times on stderr (for the speed bench) */
    if (timing)
        fprintf(stderr, "load_ms=%.1f tokenize_ms=%.1f bytes=%zu tokens=%zu\n", t1 - t0, t2 - t1, text.len, n);
    struct lm_buf line = {0};
    for (size_t i = 0; i < n; i++) {
        if (i) lm_buf_append_char(&line, ' ');
        lm_buf_printf(&line, "%d", ids[i]);
        if (pieces) {
            struct lm_buf p = {0};
            lm_token_to_piece(t, ids[i], true, &p);
            lm_buf_printf(&line, ":'%s'", p.data ? p.data : "");
            lm_buf_free(&p);
        }
    }
    lm_buf_append_char(&line, '\n');
    fwrite(line.data, 1, line.len, stdout);
    lm_buf_free(&line);
    code = fflush(stdout) == 0 ? 0 : 1;
done:
    free(ids);
    lm_tokenizer_free(t);
    lm_gguf_close(g);
    lm_buf_free(&text);
    return code;
}
