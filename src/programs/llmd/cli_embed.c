/* cli_embed.c — `llmd embed`: prints the L2-normalised embedding of each text, one line per
 * text, numbers separated by spaces.
 *
 *   llmd embed -m MODEL -p TEXT [-p TEXT ...] [-f FILE] [-t N] [--batch-tokens N] [--timing]
 *
 * -f reads one text per line (blank lines skipped). --timing reports texts/s and tokens/s of the
 * lm_embed call on stderr, by wall clock and by process CPU time (for the benchmark). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "lm/embed.h"
#include "lm/model.h"

/* Parses a positive int flag value; -1 when not a number in 1..1e6. */
static int parse_count(const char *s)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 1 || v > 1000000) return -1;
    return (int)v;
}

/* Appends the lines of path (without their newline; blank lines skipped) to *texts. */
static int read_lines(const char *path, char ***texts, size_t *n, size_t *cap)
{
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    int rc = 0;
    while ((len = getline(&line, &lcap, f)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (len == 0) continue;
        if (*n == *cap) {
            size_t nc = *cap ? *cap * 2 : 16;
            char **t = realloc(*texts, nc * sizeof *t);
            if (!t) { rc = -1; break; }
            *texts = t, *cap = nc;
        }
        if (!((*texts)[*n] = strdup(line))) { rc = -1; break; }
        (*n)++;
    }
    free(line);
    fclose(f);
    return rc;
}

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int llmd_cmd_embed(int argc, char **argv)
{
    const char *model_path = NULL;
    char **texts = NULL;
    size_t n = 0, cap = 0;
    int n_threads = 0, batch_tokens = 0, timing = 0, rc = 2;
    struct lm_model *m = NULL;
    struct lm_embedder *e = NULL;
    float *out = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--timing")) { timing = 1; continue; }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            printf("usage: llmd embed -m MODEL -p TEXT [-p TEXT ...] [-f FILE] [-t N] [--batch-tokens N] [--timing]\n");
            rc = 0;
            goto done;
        }
        if (!v) { fprintf(stderr, "llmd embed: %s needs a value\n", a); goto done; }
        i++;
        if (!strcmp(a, "-m") || !strcmp(a, "--model")) model_path = v;
        else if (!strcmp(a, "-p") || !strcmp(a, "--prompt")) {
            if (n == cap) {
                size_t nc = cap ? cap * 2 : 16;
                char **t = realloc(texts, nc * sizeof *t);
                if (!t) { fprintf(stderr, "llmd embed: out of memory\n"); rc = 1; goto done; }
                texts = t, cap = nc;
            }
            if (!(texts[n] = strdup(v))) { fprintf(stderr, "llmd embed: out of memory\n"); rc = 1; goto done; }
            n++;
        } else if (!strcmp(a, "-f") || !strcmp(a, "--file")) {
            if (read_lines(v, &texts, &n, &cap) < 0) {
                fprintf(stderr, "llmd embed: cannot read %s: %s\n", v, strerror(errno));
                rc = 1;
                goto done;
            }
        } else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) {
            if ((n_threads = parse_count(v)) < 0) { fprintf(stderr, "llmd embed: bad thread count %s\n", v); goto done; }
        } else if (!strcmp(a, "--batch-tokens")) {
            if ((batch_tokens = parse_count(v)) < 0) { fprintf(stderr, "llmd embed: bad --batch-tokens %s\n", v); goto done; }
        } else {
            fprintf(stderr, "llmd embed: unknown flag %s\n", a);
            goto done;
        }
    }
    if (!model_path || n == 0) {
        fprintf(stderr, "llmd embed: need -m MODEL and at least one -p TEXT or -f FILE\n");
        goto done;
    }
    rc = 1;
    struct lm_error err = {0};
    if (lm_model_load(model_path, NULL, &m, &err) < 0 ||
        lm_embedder_init(m, &(struct lm_embed_params){.n_threads = n_threads, .max_batch_tokens = batch_tokens},
                         &e, &err) < 0) {
        fprintf(stderr, "llmd embed: %s\n", err.msg);
        goto done;
    }
    int dim = lm_embedder_dim(e);
    out = malloc(n * (size_t)dim * sizeof(float));
    if (!out) { fprintf(stderr, "llmd embed: out of memory\n"); goto done; }
    struct lm_embed_stats st;
    double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    if (lm_embed(e, (const char *const *)texts, n, out, &st, &err) < 0) {
        fprintf(stderr, "llmd embed: %s\n", err.msg);
        goto done;
    }
    double dt = clock_s(CLOCK_MONOTONIC) - t0, dc = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    if (st.n_truncated)
        fprintf(stderr, "llmd embed: %zu tokens cut (texts longer than %d tokens)\n", st.n_truncated,
                lm_embedder_max_tokens(e));
    if (timing)
        fprintf(stderr, "embedded %zu texts, %zu tokens in %.3f s: %.1f texts/s, %.0f tokens/s; cpu %.3f s: %.1f texts/cpu-s\n",
                n, st.n_tokens, dt, (double)n / dt, (double)st.n_tokens / dt, dc, (double)n / dc);
    for (size_t i = 0; i < n; i++) {
        for (int j = 0; j < dim; j++) printf(j ? " %.7g" : "%.7g", (double)out[i * (size_t)dim + (size_t)j]);
        putchar('\n');
    }
    rc = fflush(stdout) == 0 ? 0 : 1;
done:
    free(out);
    lm_embedder_free(e);
    lm_model_free(m);
    for (size_t i = 0; i < n; i++) free(texts[i]);
    free(texts);
    return rc;
}
