/* store_bench.c — the embedded SQLite store: ingestion throughput (embeddings precomputed),
 * cold open (vector matrix load), exact top-10 vector search and keyword search latency.
 *
 *   store_bench DIR N [DIM]      (run by bench/store/run.sh)
 *
 * Vectors are clustered like real embeddings (256 random unit centroids plus noise, then
 * normalised); queries are drawn the same way. Latencies include fetching the hits' text.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lm/store.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* CPU time of the process (the scan helper thread included): the machine is shared, so wall
 * time alone overstates the cost. */
static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static uint64_t rng = 88172645463325252ull;
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

static void clustered(float *out, const float *centroids, int n_cent, int dim)
{
    const float *c = centroids + (size_t)(urand() * n_cent) * (size_t)dim;
    double ss = 0;
    for (int j = 0; j < dim; j++) {
        out[j] = c[j] + (float)(0.35 * nrand() / sqrt(dim));
        ss += (double)out[j] * out[j];
    }
    for (int j = 0; j < dim; j++) out[j] = (float)(out[j] / sqrt(ss));
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* A vocabulary of 4096 made-up words (4-9 letters), so a keyword matches well under 1% of chunks,
 * as names and numbers in real documents do. */
#define NWORDS 4096
static char WORDS[NWORDS][12];

static void make_words(void)
{
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < NWORDS; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int len = 4 + (int)(x % 6);
        for (int j = 0; j < len; j++) WORDS[i][j] = (char)('a' + (x >> (8 + 4 * j)) % 26);
        WORDS[i][len] = 0;
    }
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: store_bench DIR N [DIM]\n");
        return 2;
    }
    const char *dir = argv[1];
    int n = atoi(argv[2]);
    int dim = argc > 3 ? atoi(argv[3]) : 384;
    const int n_cent = 256, per_doc = 100, n_q = 200, k = 10;
    make_words();
    float *cent = malloc((size_t)n_cent * dim * sizeof(float));
    for (int i = 0; i < n_cent; i++) {
        double ss = 0;
        for (int j = 0; j < dim; j++) {
            cent[(size_t)i * dim + j] = (float)nrand();
            ss += (double)cent[(size_t)i * dim + j] * cent[(size_t)i * dim + j];
        }
        for (int j = 0; j < dim; j++) cent[(size_t)i * dim + j] = (float)(cent[(size_t)i * dim + j] / sqrt(ss));
    }
    char url[4200];
    snprintf(url, sizeof url, "sqlite:%s/bench-%d.db", dir, n);
    char file[4200];
    snprintf(file, sizeof file, "%s/bench-%d.db", dir, n);
    remove(file);
    struct lm_store_open_params p = {.url = url, .model_name = "bench", .dim = dim};
    struct lm_store *s = NULL;
    struct lm_error err = {0};
    if (lm_store_open(&p, &s, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    /* ingestion: documents of 100 chunks of ~300 characters */
    float *vec = malloc((size_t)per_doc * dim * sizeof(float));
    struct lm_chunk_in ch[100];
    char text[100][400];
    double t0 = 0, ingest_ms = 0, ingest_cpu = 0;
    for (int d = 0; d * per_doc < n; d++) {
        int m = n - d * per_doc < per_doc ? n - d * per_doc : per_doc;
        for (int i = 0; i < m; i++) {
            clustered(vec + (size_t)i * dim, cent, n_cent, dim);
            int len = snprintf(text[i], sizeof text[i], "doc %d chunk %d:", d, i);
            while (len < 300) len += snprintf(text[i] + len, sizeof text[i] - (size_t)len, " %s %d",
                                              WORDS[(size_t)(urand() * NWORDS)], (int)(urand() * 1000));
            ch[i].content = text[i];
            ch[i].embedding = vec + (size_t)i * dim;
        }
        char hash[32];
        snprintf(hash, sizeof hash, "h%d", d);
        int64_t id;
        t0 = now_ms();
        double c0 = cpu_ms();
        if (lm_store_add_document(s, "bench", hash, ch, (size_t)m, &id, NULL, &err) < 0) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        ingest_ms += now_ms() - t0;
        ingest_cpu += cpu_ms() - c0;
    }
    lm_store_close(s);
    /* cold open: loads the vector matrix */
    t0 = now_ms();
    if (lm_store_open(&p, &s, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    double open_ms = now_ms() - t0;
    double lat[200], klat[200], clat[200], cklat[200];
    float q[4096];
    for (int i = 0; i < n_q; i++) {
        clustered(q, cent, n_cent, dim);
        struct lm_hit *hits = NULL;
        size_t nh = 0;
        t0 = now_ms();
        double c0 = cpu_ms();
        if (lm_store_search_vector(s, q, k, &hits, &nh, &err) < 0 || nh != (size_t)k) {
            fprintf(stderr, "search: %s\n", err.msg);
            return 1;
        }
        lat[i] = now_ms() - t0;
        clat[i] = cpu_ms() - c0;
        lm_store_free_hits(hits, nh);
        char kq[64];
        snprintf(kq, sizeof kq, "%s %s", WORDS[(i * 37) % NWORDS], WORDS[(i * 7 + 3) % NWORDS]);
        t0 = now_ms();
        c0 = cpu_ms();
        if (lm_store_search_keyword(s, kq, k, &hits, &nh, &err) < 0) {
            fprintf(stderr, "keyword: %s\n", err.msg);
            return 1;
        }
        klat[i] = now_ms() - t0;
        cklat[i] = cpu_ms() - c0;
        lm_store_free_hits(hits, nh);
    }
    qsort(lat, n_q, sizeof lat[0], cmp_d);
    qsort(klat, n_q, sizeof klat[0], cmp_d);
    qsort(clat, n_q, sizeof clat[0], cmp_d);
    qsort(cklat, n_q, sizeof cklat[0], cmp_d);
    printf("| %d x %d | %.0f (%.0f) | %.0f ms | %.2f (%.2f) | %.2f | %.2f (%.2f) | %.2f |\n", n, dim,
           n / (ingest_ms / 1e3), n / (ingest_cpu / 1e3), open_ms, lat[n_q / 2], clat[n_q / 2], lat[n_q * 95 / 100],
           klat[n_q / 2], cklat[n_q / 2], klat[n_q * 95 / 100]);
    lm_store_close(s);
    remove(file);
    free(vec);
    free(cent);
    return 0;
}
