/* pg_bench.c — top-10 latency and recall@10 of the PostgreSQL + pgvector store (exact scan,
 * ivfflat with probes 1 and 10 after the rebuild, HNSW) next to the embedded SQLite store, on the
 * same clustered vectors and the same queries.
 *
 *   pg_bench PG_URL SQLITE_PATH N [DIM]      (run by bench/pg/run.sh)
 *
 * Recall@10 is measured against a brute-force answer computed here in double precision. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lm/store.h"

#define NQ 100
#define K 10
#define PER_DOC 500

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static double urand(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}
static double nrand(void)
{
    double u = urand() + 1e-12, v = urand();
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

/* A unit vector near one of n_cent random centroids: clustered like real embeddings. */
static void clustered(float *out, const float *cent, int n_cent, int dim)
{
    const float *c = cent + (size_t)(urand() * n_cent) * (size_t)dim;
    double ss = 0;
    for (int j = 0; j < dim; j++) {
        out[j] = c[j] + (float)(0.9 * nrand() / sqrt(dim)); /* neighbours ~0.55 cosine apart */
        ss += (double)out[j] * out[j];
    }
    for (int j = 0; j < dim; j++) out[j] = (float)(out[j] / sqrt(ss));
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static struct lm_store *open_store(const char *url, int dim, const char *index, int probes, int exact_below)
{
    struct lm_store_open_params p = {.url = url, .model_name = "bench", .dim = dim, .migrate = true, .pool_size = 1,
                                     .pg_index = index, .pg_probes = probes, .pg_exact_below = exact_below};
    struct lm_store *s = NULL;
    struct lm_error err = {0};
    if (lm_store_open(&p, &s, &err) < 0) {
        fprintf(stderr, "open %s: %s\n", url, err.msg);
        exit(1);
    }
    return s;
}

static void load(struct lm_store *s, const float *vecs, int n, int dim)
{
    struct lm_chunk_in *ch = malloc(sizeof *ch * PER_DOC);
    char (*texts)[24] = malloc(24 * PER_DOC);
    for (int d = 0; d * PER_DOC < n; d++) {
        int m = n - d * PER_DOC < PER_DOC ? n - d * PER_DOC : PER_DOC;
        for (int i = 0; i < m; i++) {
            snprintf(texts[i], 24, "%d", d * PER_DOC + i);
            ch[i].content = texts[i];
            ch[i].embedding = vecs + (size_t)(d * PER_DOC + i) * dim;
        }
        char src[32], hash[32];
        snprintf(src, sizeof src, "doc-%d", d);
        snprintf(hash, sizeof hash, "bench-%d", d);
        int64_t id;
        struct lm_error err = {0};
        if (lm_store_add_document(s, src, hash, ch, (size_t)m, &id, NULL, &err) < 0) {
            fprintf(stderr, "add: %s\n", err.msg);
            exit(1);
        }
    }
    free(ch);
    free(texts);
}

/* p50 latency (ms) and recall@10 of store s over the queries. */
static void measure(const char *label, struct lm_store *s, const float *q, const int *truth, int dim)
{
    double lat[NQ], found = 0;
    for (int i = 0; i < NQ; i++) {
        struct lm_hit *h = NULL;
        size_t n = 0;
        struct lm_error err = {0};
        double t0 = now_ms();
        if (lm_store_search_vector(s, q + (size_t)i * dim, K, &h, &n, &err) < 0) {
            fprintf(stderr, "%s: %s\n", label, err.msg);
            exit(1);
        }
        lat[i] = now_ms() - t0;
        for (size_t a = 0; a < n; a++) {
            int id = atoi(h[a].content);
            for (int k = 0; k < K; k++) found += truth[i * K + k] == id;
        }
        lm_store_free_hits(h, n);
    }
    qsort(lat, NQ, sizeof lat[0], cmp_d);
    printf("| %s | %.2f | %.2f | %.3f |\n", label, lat[NQ / 2], lat[NQ * 95 / 100], found / (NQ * K));
    fflush(stdout);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: pg_bench PG_URL SQLITE_PATH N [DIM]\n");
        return 2;
    }
    const char *pg = argv[1];
    int n = atoi(argv[3]), dim = argc > 4 ? atoi(argv[4]) : 384, n_cent = 256;
    float *cent = malloc(sizeof(float) * (size_t)n_cent * dim);
    /* unit centroids, so a cluster's spread (noise of norm ~0.35) is real: neighbours differ by
     * far more than float rounding, and recall measures the index, not the arithmetic */
    for (int c = 0; c < n_cent; c++) {
        double ss = 0;
        for (int j = 0; j < dim; j++) {
            cent[(size_t)c * dim + j] = (float)nrand();
            ss += (double)cent[(size_t)c * dim + j] * cent[(size_t)c * dim + j];
        }
        for (int j = 0; j < dim; j++) cent[(size_t)c * dim + j] = (float)(cent[(size_t)c * dim + j] / sqrt(ss));
    }
    float *vecs = malloc(sizeof(float) * (size_t)n * dim), *q = malloc(sizeof(float) * NQ * dim);
    for (int i = 0; i < n; i++) clustered(vecs + (size_t)i * dim, cent, n_cent, dim);
    for (int i = 0; i < NQ; i++) clustered(q + (size_t)i * dim, cent, n_cent, dim);
    int *truth = malloc(sizeof(int) * NQ * K);
    for (int i = 0; i < NQ; i++) {
        double best[K];
        for (int k = 0; k < K; k++) best[k] = -3, truth[i * K + k] = -1;
        for (int r = 0; r < n; r++) {
            double dot = 0;
            for (int j = 0; j < dim; j++) dot += (double)q[(size_t)i * dim + j] * vecs[(size_t)r * dim + j];
            for (int k = 0; k < K; k++)
                if (dot > best[k]) {
                    for (int m = K - 1; m > k; m--) best[m] = best[m - 1], truth[i * K + m] = truth[i * K + m - 1];
                    best[k] = dot, truth[i * K + k] = r;
                    break;
                }
        }
    }
    printf("| store, %d x %d | top-10 p50 ms | p95 ms | recall@10 |\n|---|---|---|---|\n", n, dim);

    char sqlite_url[4200];
    snprintf(sqlite_url, sizeof sqlite_url, "sqlite:%s", argv[2]);
    struct lm_store *s = open_store(sqlite_url, dim, NULL, 0, 0);
    double t0 = now_ms();
    load(s, vecs, n, dim);
    fprintf(stderr, "sqlite load: %.1f s\n", (now_ms() - t0) / 1e3);
    measure("SQLite (embedded, exact)", s, q, truth, dim);
    lm_store_close(s);

    s = open_store(pg, dim, "ivfflat", 10, 1 << 30); /* exact: index never used */
    t0 = now_ms();
    load(s, vecs, n, dim);
    fprintf(stderr, "postgres load (with ivfflat rebuilds): %.1f s\n", (now_ms() - t0) / 1e3);
    measure("PostgreSQL exact scan", s, q, truth, dim);
    lm_store_close(s);
    usleep(200000);
    for (int probes = 1; probes <= 10; probes += 9) {
        s = open_store(pg, dim, "ivfflat", probes, -1);
        char label[64];
        snprintf(label, sizeof label, "PostgreSQL ivfflat (lists 100, rebuilt), probes %d", probes);
        measure(label, s, q, truth, dim);
        lm_store_close(s);
        usleep(200000);
    }
    t0 = now_ms();
    s = open_store(pg, dim, "hnsw", 10, -1);
    fprintf(stderr, "hnsw build: %.1f s\n", (now_ms() - t0) / 1e3);
    measure("PostgreSQL HNSW (m 16, ef_construction 64, ef_search 100)", s, q, truth, dim);
    lm_store_close(s);
    free(cent);
    free(vecs);
    free(q);
    free(truth);
    return 0;
}
