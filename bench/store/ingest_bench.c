/* ingest_bench.c — end-to-end ingestion into the embedded store, embedding included: a long
 * English document is chunked (300/50, token budget from the embedder), embedded in batches
 * with our engine, and stored in one transaction, as ragd does for add-document.
 *
 *   ingest_bench MODEL.gguf DIR N_CHUNKS      (run by bench/store/run.sh)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lm/chunk.h"
#include "lm/embed.h"
#include "lm/model.h"
#include "lm/store.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int count_tokens(const char *text, size_t len, void *user)
{
    return lm_embed_count_tokens(user, text, len);
}

static const char *SENT[] = {
    "The X-200 router ships with a three year warranty and costs 149 dollars.",
    "Refunds are accepted within thirty days of purchase when the receipt is included.",
    "Support answers questions on weekdays between nine in the morning and five in the evening.",
    "Firmware updates are released every quarter and fix security issues found by researchers.",
    "The battery lasts about ten hours of mixed use and charges to eighty percent in one hour.",
    "Orders above fifty dollars ship for free to every country in the European Union.",
};

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: ingest_bench MODEL.gguf DIR N_CHUNKS\n");
        return 2;
    }
    int want = atoi(argv[3]);
    struct lm_error err = {0};
    struct lm_model *model = NULL;
    struct lm_model_params mp = {0};
    struct lm_embedder *emb = NULL;
    struct lm_embed_params ep = {0};
    if (lm_model_load(argv[1], &mp, &model, &err) < 0 || lm_embedder_init(model, &ep, &emb, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    int dim = lm_embedder_dim(emb);
    /* a document long enough for `want` chunks of ~300 characters */
    size_t cap = (size_t)want * 260 + 1024, len = 0;
    char *doc = malloc(cap);
    for (unsigned i = 0; len + 200 < cap; i++) {
        const char *s = SENT[(i * 7 + i / 6) % 6];
        len += (size_t)snprintf(doc + len, cap - len, "%s Item %u. ", s, i);
    }
    char url[4300], file[4200];
    snprintf(file, sizeof file, "%s/ingest.db", argv[2]);
    snprintf(url, sizeof url, "sqlite:%s", file);
    remove(file);
    struct lm_store_open_params sp = {.url = url, .model_name = "bench-minilm", .dim = dim};
    struct lm_store *store = NULL;
    if (lm_store_open(&sp, &store, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    double t0 = now_s();
    struct lm_chunk_params cp = lm_chunk_params_default();
    cp.count_tokens = count_tokens;
    cp.user = emb;
    cp.max_tokens = lm_embedder_max_tokens(emb);
    struct lm_chunks ch = {0};
    if (lm_chunk_split(doc, len, &cp, &ch, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    double t1 = now_s();
    float *vec = malloc(sizeof(float) * (size_t)dim * ch.n);
    const size_t batch = 32;
    for (size_t i = 0; i < ch.n; i += batch) {
        size_t nb = ch.n - i < batch ? ch.n - i : batch;
        if (lm_embed(emb, (const char *const *)ch.items + i, nb, vec + i * (size_t)dim, NULL, &err) < 0) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
    }
    double t2 = now_s();
    struct lm_chunk_in *in = malloc(sizeof *in * ch.n);
    for (size_t i = 0; i < ch.n; i++) in[i] = (struct lm_chunk_in){ch.items[i], vec + i * (size_t)dim};
    int64_t id;
    if (lm_store_add_document(store, "bench", "bench", in, ch.n, &id, NULL, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    double t3 = now_s();
    struct timespec cpu;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
    printf("| %zu chunks, dim %d | %.1f chunks/s | chunk %.2f s, embed %.2f s, store %.2f s | %.1f s |\n", ch.n, dim,
           ch.n / (t3 - t0), t1 - t0, t2 - t1, t3 - t2, cpu.tv_sec + cpu.tv_nsec / 1e9);
    lm_store_close(store);
    remove(file);
    lm_chunks_free(&ch);
    free(in), free(vec), free(doc);
    lm_embedder_free(emb);
    lm_model_free(model);
    return 0;
}
