/* test_embed.c — the embedding API (lm/embed.h) on the bert fixture: parity with llama.cpp's
 * embeddings (tests/parity/bert_golden_fixture.json, written by tests/parity/bert_goldens.mjs:
 * cosine >= 0.9999 per text, tokens identical), one batch equals one text at a time, packed
 * batches split by max_batch_tokens, L2 norm 1, truncation at the context with its count,
 * token counting, and the errors (decoder model, NULL text, encoder in lm_ctx_init). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lm/embed.h"
#include "lm/model.h"
#include "lm/tokenizer.h"
#include "lm_test.h"
#include "lm_test_models.h"

static double cosine(const float *a, const double *b, int n)
{
    double ab = 0, aa = 0, bb = 0;
    for (int i = 0; i < n; i++) ab += a[i] * b[i], aa += (double)a[i] * a[i], bb += b[i] * b[i];
    return ab / sqrt(aa * bb);
}

static struct lm_model *model;

/* Every golden text embedded in one call matches llama.cpp's vector and tokens. */
static void test_parity(void)
{
    cJSON *j = lm_test_golden("bert_golden_fixture.json", true);
    const cJSON *texts = cJSON_GetObjectItem(j, "texts"), *vecs = cJSON_GetObjectItem(j, "vectors"),
                *toks = cJSON_GetObjectItem(j, "tokens");
    int n = cJSON_GetArraySize(texts);
    ASSERT(n >= 10);
    const char **tv = calloc((size_t)n, sizeof *tv);
    for (int i = 0; i < n; i++) tv[i] = cJSON_GetArrayItem(texts, i)->valuestring;
    struct lm_embedder *e;
    struct lm_error err = {0};
    ASSERT_OK(lm_embedder_init(model, &(struct lm_embed_params){.n_threads = 2}, &e, &err));
    int dim = lm_embedder_dim(e);
    ASSERT_EQ(dim, 64);
    float *out = malloc((size_t)n * (size_t)dim * sizeof(float));
    struct lm_embed_stats st;
    ASSERT_OK(lm_embed(e, tv, (size_t)n, out, &st, &err));
    ASSERT_EQ(st.n_truncated, 0);
    const struct lm_tokenizer *tok = lm_model_tokenizer(model);
    size_t total = 0;
    double worst = 1.0;
    for (int i = 0; i < n; i++) {
        /* our tokens: [CLS] + llama.cpp's tokens (it gives them without specials) + [SEP] */
        int32_t *ids;
        size_t nt;
        ASSERT_OK(lm_tokenize(tok, tv[i], strlen(tv[i]), true, false, &ids, &nt, &err));
        const cJSON *gt = cJSON_GetArrayItem(toks, i);
        ASSERT_EQ(nt, (size_t)cJSON_GetArraySize(gt) + 2);
        ASSERT_EQ(ids[0], lm_tokenizer_cls(tok));
        ASSERT_EQ(ids[nt - 1], lm_tokenizer_sep(tok));
        for (size_t k = 0; k + 2 < nt; k++) ASSERT_EQ(ids[k + 1], cJSON_GetArrayItem(gt, (int)k)->valueint);
        ASSERT_EQ(lm_embed_count_tokens(e, tv[i], strlen(tv[i])), (int)nt);
        total += nt;
        free(ids);
        const cJSON *gv = cJSON_GetArrayItem(vecs, i);
        if (cJSON_GetArraySize(gv) == 0) continue;   /* node-llama-cpp returns nothing for "" */
        ASSERT_EQ(cJSON_GetArraySize(gv), dim);
        double ref[1024];
        for (int k = 0; k < dim; k++) ref[k] = cJSON_GetArrayItem(gv, k)->valuedouble;
        double c = cosine(out + (size_t)i * (size_t)dim, ref, dim);
        if (c < worst) worst = c;
        if (c < 0.9999) LM_FAIL_("text %d \"%s\": cosine %.6f with llama.cpp", i, tv[i], c);
    }
    ASSERT_EQ(st.n_tokens, total);
    printf("bert parity: %d texts, worst cosine %.7f\n", n, worst);
    free(out);
    free(tv);
    lm_embedder_free(e);
    cJSON_Delete(j);
}

/* One call over many texts (packed in one pass, or split into several by a small token budget)
 * gives each text's own embedding; rows have norm 1. */
static void test_batching(void)
{
    const char *texts[] = {"hello world", "", "The quick brown fox jumps over the lazy dog.",
                           "北京是中国的首都。", "a", "retrieval augmented generation, again and again and again"};
    const size_t n = sizeof texts / sizeof texts[0];
    struct lm_error err = {0};
    struct lm_embedder *e1, *e2;
    ASSERT_OK(lm_embedder_init(model, &(struct lm_embed_params){.n_threads = 1}, &e1, &err));
    ASSERT_OK(lm_embedder_init(model, &(struct lm_embed_params){.n_threads = 2, .max_batch_tokens = 16}, &e2, &err));
    int dim = lm_embedder_dim(e1);
    float batch[6 * 64], small[6 * 64], one[64];
    ASSERT_OK(lm_embed(e1, texts, n, batch, NULL, &err));
    ASSERT_OK(lm_embed(e2, texts, n, small, NULL, &err));
    for (size_t i = 0; i < n; i++) {
        ASSERT_OK(lm_embed(e1, &texts[i], 1, one, NULL, &err));
        double norm = 0;
        for (int k = 0; k < dim; k++) {
            ASSERT_NEAR(batch[i * 64 + (size_t)k], one[k], 1e-5);
            ASSERT_NEAR(small[i * 64 + (size_t)k], one[k], 1e-5);
            norm += (double)one[k] * one[k];
        }
        ASSERT_NEAR(norm, 1.0, 1e-5);
    }
    /* different texts give different vectors */
    double d = 0;
    for (int k = 0; k < dim; k++) d += fabs(batch[k] - batch[2 * 64 + k]);
    ASSERT(d > 0.1);
    ASSERT_OK(lm_embed(e1, texts, 0, batch, NULL, &err));
    lm_embedder_free(e1);
    lm_embedder_free(e2);
}

/* A text longer than the context is cut to it ([CLS] ... [SEP]) and the cut is counted. */
static void test_truncation(void)
{
    struct lm_error err = {0};
    struct lm_embedder *e;
    ASSERT_OK(lm_embedder_init(model, NULL, &e, &err));
    ASSERT_EQ(lm_embedder_max_tokens(e), 512);
    size_t cap = 700 * 6 + 1;
    char *big = malloc(cap);
    big[0] = 0;
    for (int i = 0; i < 700; i++) strcat(big, "word ");   /* "word" is one token */
    int nt = lm_embed_count_tokens(e, big, strlen(big));
    ASSERT_EQ(nt, 702);
    const char *texts[] = {"short one", big, "another short one"};
    float out[3 * 64], alone[64];
    struct lm_embed_stats st;
    ASSERT_OK(lm_embed(e, texts, 3, out, &st, &err));
    ASSERT_EQ(st.n_truncated, 702 - 512);
    ASSERT_EQ(st.n_tokens, 4 + 512 + 5);
    /* the cut text equals a text of exactly 510 words */
    big[510 * 5] = 0;
    ASSERT_EQ(lm_embed_count_tokens(e, big, strlen(big)), 512);
    ASSERT_OK(lm_embed(e, (const char *const[]){big}, 1, alone, &st, &err));
    ASSERT_EQ(st.n_truncated, 0);
    for (int k = 0; k < 64; k++) ASSERT_NEAR(out[64 + k], alone[k], 1e-5);
    free(big);
    lm_embedder_free(e);
}

/* Errors: a decoder is refused by the embedder, an encoder by lm_ctx_init, NULL texts. */
static void test_errors(void)
{
    struct lm_error err = {0};
    struct lm_embedder *e;
    const char *texts[] = {"ok", NULL};
    float out[2 * 64];
    ASSERT_OK(lm_embedder_init(model, NULL, &e, &err));
    ASSERT_EQ(lm_embed(e, texts, 2, out, NULL, &err), LM_EINVAL);
    lm_embedder_free(e);
    struct lm_ctx *c;
    ASSERT(lm_ctx_init(model, NULL, &c, &err) < 0);
    struct lm_model *llama;
    ASSERT_OK(lm_model_load(lm_test_fixture("llama-2-tiny-random.gguf"), NULL, &llama, &err));
    ASSERT_EQ(lm_embedder_init(llama, NULL, &e, &err), LM_ENOTSUP);
    ASSERT(strstr(err.msg, "llama"));
    lm_model_free(llama);
}

int main(void)
{
    struct lm_error err = {0};
    FILE *fx = fopen(lm_test_fixture("bert-uncased-vocab-tiny.gguf"), "rb");
    if (!fx) { printf("SKIP: fixtures absent\n"); return 77; }
    fclose(fx);
    if (lm_model_load(lm_test_fixture("bert-uncased-vocab-tiny.gguf"), NULL, &model, &err) < 0) LM_FAIL_("%s", err.msg);
    const struct lm_model_info *info = lm_model_info(model);
    ASSERT(info->is_embedding);
    ASSERT_STR_EQ(info->arch, "bert");
    ASSERT_EQ(info->n_embd, 64);
    ASSERT_EQ(info->n_ctx_train, 512);
    RUN_TEST(test_parity);
    RUN_TEST(test_batching);
    RUN_TEST(test_truncation);
    RUN_TEST(test_errors);
    lm_model_free(model);
    return 0;
}
