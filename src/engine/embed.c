/* embed.c — the sentence-embedding API (lm/embed.h) over the BERT encoder: tokenise each text
 * ([CLS] ... [SEP]), cut it at the model's context, pack as many texts as fit into one forward
 * pass, mean-pool and L2-normalise each row. */
#include "lm/embed.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/bert.h"
#include "engine/model_internal.h"
#include "lm/model.h"
#include "lm/pool.h"
#include "lm/tokenizer.h"

struct lm_embedder {
    struct lm_model *model;
    const struct lm_tokenizer *tok;
    const struct lm__bert *bert;   /* the model's weights (m->impl), borrowed */
    struct lm_pool *pool;
    int n_threads;
    int max_len;             /* tokens per text */
    int max_batch;           /* packed tokens per forward pass */
    struct lm__bert_ws *ws;  /* grown on demand up to max_batch tokens */
    int ws_tokens;
};

int lm_embedder_init(struct lm_model *m, const struct lm_embed_params *params,
                     struct lm_embedder **out, struct lm_error *err)
{
    *out = NULL;
    const struct lm_model_info *info = lm_model_info(m);
    if (!info->is_embedding || m->arch != &lm__arch_bert || !m->impl)
        return lm_error_set(err, LM_ENOTSUP, "embed: architecture %s is not an embedding model (bert)",
                            info->arch);
    struct lm_embedder *e = calloc(1, sizeof *e);
    if (!e) return lm_error_set(err, LM_ENOMEM, "embed: out of memory");
    e->model = m;
    e->tok = lm_model_tokenizer(m);
    e->bert = m->impl;
    e->max_len = e->bert->n_ctx;
    if (info->n_ctx_train > 0 && info->n_ctx_train < e->max_len) e->max_len = info->n_ctx_train;
    e->max_batch = params && params->max_batch_tokens > 0 ? params->max_batch_tokens : 8192;
    if (e->max_batch < e->max_len) e->max_batch = e->max_len;
    e->pool = lm_pool_new(params ? params->n_threads : 0);
    if (!e->pool) {
        lm_embedder_free(e);
        return lm_error_set(err, LM_ENOMEM, "embed: cannot start the thread pool");
    }
    e->n_threads = lm_pool_size(e->pool);
    *out = e;
    return 0;
}

void lm_embedder_free(struct lm_embedder *e)
{
    if (!e) return;
    lm__bert_ws_free(e->ws);
    lm_pool_free(e->pool);
    free(e);
}

int lm_embedder_dim(const struct lm_embedder *e)
{
    return e->bert->n_embd;
}

int lm_embedder_max_tokens(const struct lm_embedder *e)
{
    return e->max_len;
}

int lm_embed_count_tokens(const struct lm_embedder *e, const char *text, size_t len)
{
    int32_t *ids = NULL;
    size_t n = 0;
    int rc = lm_tokenize(e->tok, text, len, true, false, &ids, &n, NULL);
    free(ids);
    if (rc < 0) return rc;
    return n > INT32_MAX ? INT32_MAX : (int)n;
}

/* Makes sure the workspace holds n_tokens packed tokens. */
static int ensure_ws(struct lm_embedder *e, int n_tokens, struct lm_error *err)
{
    if (e->ws && e->ws_tokens >= n_tokens) return 0;
    lm__bert_ws_free(e->ws);
    /* grow geometrically so a stream of growing batches reallocates a few times only */
    int want = e->ws_tokens * 2 > n_tokens ? e->ws_tokens * 2 : n_tokens;
    if (want > e->max_batch) want = e->max_batch;
    e->ws = lm__bert_ws_new(e->bert, want, e->max_len, e->n_threads);
    e->ws_tokens = e->ws ? want : 0;
    return e->ws ? 0 : lm_error_set(err, LM_ENOMEM, "embed: out of memory for %d tokens", want);
}

/* L2-normalises v[0..n) in place (a zero vector stays zero). */
static void l2_normalize(float *v, int n)
{
    double sum = 0.0;
    for (int i = 0; i < n; i++) sum += (double)v[i] * v[i];
    if (sum <= 0.0) return;
    float inv = (float)(1.0 / sqrt(sum));
    for (int i = 0; i < n; i++) v[i] *= inv;
}

int lm_embed(struct lm_embedder *e, const char *const *texts, size_t n, float *out,
             struct lm_embed_stats *stats, struct lm_error *err)
{
    if (stats) memset(stats, 0, sizeof *stats);
    if (n == 0) return 0;
    if (!texts || !out) return lm_error_set(err, LM_EINVAL, "embed: NULL texts or output");
    const int E = e->bert->n_embd;
    const int32_t sep = lm_tokenizer_sep(e->tok);
    int rc = 0;
    /* packed token ids of the current batch and each text's start offset */
    int32_t *ids = malloc((size_t)e->max_batch * sizeof(int32_t));
    int *start = malloc(((size_t)e->max_batch + 1) * sizeof(int));
    if (!ids || !start) {
        rc = lm_error_set(err, LM_ENOMEM, "embed: out of memory");
        goto done;
    }
    size_t first = 0;      /* first text of the current batch */
    int n_seq = 0;
    start[0] = 0;
    for (size_t i = 0; i <= n; i++) {
        int32_t *tk = NULL;
        size_t nt = 0;
        if (i < n) {
            if (!texts[i]) {
                rc = lm_error_set(err, LM_EINVAL, "embed: text %zu is NULL", i);
                goto done;
            }
            rc = lm_tokenize(e->tok, texts[i], strlen(texts[i]), true, false, &tk, &nt, err);
            if (rc < 0) goto done;
            if (nt == 0) {  /* a tokenizer that adds nothing to empty text: embed [SEP] alone */
                free(tk);
                rc = lm_error_set(err, LM_EINVAL, "embed: text %zu gives no tokens", i);
                goto done;
            }
            if (nt > (size_t)e->max_len) {
                /* keep [CLS] and the first tokens, end with [SEP] as the tokenizer did */
                if (stats) stats->n_truncated += nt - (size_t)e->max_len;
                int32_t last = tk[nt - 1];
                nt = (size_t)e->max_len;
                if (sep >= 0 && last == sep) tk[nt - 1] = sep;
            }
        }
        /* run the batch when this text does not fit, or at the end */
        if (n_seq > 0 && (i == n || start[n_seq] + (int)nt > e->max_batch)) {
            if ((rc = ensure_ws(e, start[n_seq], err)) < 0 ||
                (rc = lm__bert_forward(e->bert, e->pool, e->ws, ids, start, n_seq,
                                       out + first * (size_t)E, err)) < 0) {
                free(tk);
                goto done;
            }
            for (int s = 0; s < n_seq; s++) l2_normalize(out + (first + (size_t)s) * (size_t)E, E);
            if (stats) stats->n_tokens += (size_t)start[n_seq];
            first = i;
            n_seq = 0;
        }
        if (i < n) {
            memcpy(ids + start[n_seq], tk, nt * sizeof(int32_t));
            start[n_seq + 1] = start[n_seq] + (int)nt;
            n_seq++;
        }
        free(tk);
    }
done:
    free(ids);
    free(start);
    return rc;
}
