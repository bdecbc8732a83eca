/* bert.c — the BERT encoder: weights from a "bert" GGUF and a batched, non-causal forward pass
 * that follows llama.cpp's graph (src/models/bert.cpp): token + token-type(0) + position
 * embeddings, LayerNorm, then per layer self-attention with biases, residual, LayerNorm, GELU FFN
 * with biases, residual, LayerNorm. Mean pooling of the last hidden state per sequence. */
#include "engine/bert.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/model_internal.h"
#include "lm/cpu.h"
#include "lm/gguf.h"
#include "lm/kernels.h"
#include "lm/pool.h"

/* ---- GELU (ggml's f16-table form) ------------------------------------------------------- */

static float gelu_table[1 << 16];
static pthread_once_t gelu_once = PTHREAD_ONCE_INIT;

/* ggml_gelu_f32: 0.5 x (1 + tanh(sqrt(2/pi) x (1 + 0.044715 x^2))). fused: as ggml's x86
 * CPU backend built for FMA hardware computes it (its compiler contracts 1 + (0.044715 x) x
 * into one fused multiply-add), which changes some table entries by one f16 step. */
static float gelu_exact(float x, bool fused)
{
    const float k = 0.79788456080286535587989211986876f;
    const float inner = fused ? fmaf(0.044715f * x, x, 1.0f) : 1.0f + 0.044715f * x * x;
    return 0.5f * x * (1.0f + tanhf(k * x * inner));
}

/* Fills the table: for each f16 input, the f16-rounded GELU (ggml_table_gelu_f16). */
static void gelu_init(void)
{
    bool fused = false;
#if defined(__x86_64__)
    const struct lm_cpu_features *f = lm_cpu_features();
    fused = f->avx2 && f->fma && f->f16c;
#endif
    for (uint32_t i = 0; i < (1u << 16); i++) {
        float x = lm_f16_to_f32((uint16_t)i);
        gelu_table[i] = lm_f16_to_f32(lm_f32_to_f16(gelu_exact(x, fused)));
    }
}

/* f32 -> f16 bits, round to nearest even (as F16C's _cvtss_sh); inputs here are |x| < 10. */
static inline uint16_t f16_bits(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t ax = x & 0x7fffffffu;
    if (ax < 0x38800000u) {            /* below the smallest normal f16: subnormal or zero */
        float a;
        memcpy(&a, &ax, 4);
        /* adding 0.5 moves the f16 subnormal grid onto the f32 mantissa's last bits */
        float t = a + 0.5f;
        uint32_t tb;
        memcpy(&tb, &t, 4);
        return (uint16_t)(sign | (tb - 0x3f000000u));
    }
    uint32_t mant_odd = (ax >> 13) & 1u;
    ax += 0x0fffu + mant_odd;          /* round to nearest even on the 13 dropped bits */
    return (uint16_t)(sign | ((ax - 0x38000000u) >> 13));
}

/* Table lookup GELU of one value, as ggml_vec_gelu_f32 with GGML_GELU_FP16. */
static inline float gelu_one(float x)
{
    if (x <= -10.0f) return 0.0f;
    if (x >= 10.0f) return x;
    return gelu_table[f16_bits(x)];
}

void lm__gelu_f32(float *x, int64_t n)
{
    pthread_once(&gelu_once, gelu_init);
    for (int64_t i = 0; i < n; i++) x[i] = gelu_one(x[i]);
}

void lm__geglu_f32(float *y, const float *g, const float *u, int64_t n)
{
    pthread_once(&gelu_once, gelu_init);
    for (int64_t i = 0; i < n; i++) {
        float x = g[i];
        if (x <= -10.0f) y[i] = 0.0f;
        else if (x >= 10.0f) y[i] = x * u[i];
        else y[i] = gelu_table[f16_bits(x)] * u[i];
    }
}

/* ---- loading ------------------------------------------------------------------------------ */

/* Integer hyper-parameter "bert.<name>"; required. */
static int get_hp(const struct lm_gguf *g, const char *name, int *out, struct lm_error *err)
{
    char key[96];
    snprintf(key, sizeof key, "bert.%s", name);
    uint32_t v;
    int rc = lm_gguf_get_u32(g, key, &v);
    if (rc < 0 || v == 0 || v > (1u << 24))
        return lm_error_set(err, LM_EFORMAT, "bert: missing or bad key %s", key);
    *out = (int)v;
    return 0;
}

/* A 2-D weight nrows x ncols (ne[0] = ncols). */
static int get_mat(const struct lm_gguf *g, const char *name, int64_t nrows, int64_t ncols,
                   struct lm__bert_mat *m, struct lm_error *err)
{
    const struct lm_gguf_tensor *t = lm_gguf_find_tensor(g, name);
    if (!t) return lm_error_set(err, LM_EFORMAT, "bert: missing tensor %s", name);
    if (t->n_dims != 2 || t->ne[0] != ncols || t->ne[1] != nrows)
        return lm_error_set(err, LM_EFORMAT, "bert: tensor %s has shape %lldx%lld, expected %lldx%lld",
                            name, (long long)t->ne[0], (long long)t->ne[1], (long long)ncols,
                            (long long)nrows);
    if (lm_row_size((enum lm_type)t->type, ncols) == 0)
        return lm_error_set(err, LM_ENOTSUP, "bert: tensor %s: type %s does not fit its row length",
                            name, lm_type_traits(t->type)->name);
    m->type = (enum lm_type)t->type;
    m->data = t->data;
    m->nrows = nrows;
    m->ncols = ncols;
    return 0;
}

/* Copies a 1-D tensor of n elements into dst as f32. */
static int get_vec(const struct lm_gguf *g, const char *name, int64_t n, float *dst,
                   struct lm_error *err)
{
    const struct lm_gguf_tensor *t = lm_gguf_find_tensor(g, name);
    if (!t) return lm_error_set(err, LM_EFORMAT, "bert: missing tensor %s", name);
    if (t->n_dims != 1 || t->ne[0] != n)
        return lm_error_set(err, LM_EFORMAT, "bert: tensor %s has %lld elements, expected %lld",
                            name, (long long)t->ne[0], (long long)n);
    if (lm_row_size((enum lm_type)t->type, n) == 0)
        return lm_error_set(err, LM_ENOTSUP, "bert: tensor %s: type %s does not fit its length",
                            name, lm_type_traits(t->type)->name);
    lm_dequantize_row((enum lm_type)t->type, t->data, dst, n);
    return 0;
}

void lm__bert_free(struct lm__bert *b)
{
    if (!b) return;
    free(b->layers);
    free(b->vecs);
    free(b);
}

int lm__bert_load(const struct lm_gguf *g, struct lm__bert **out, struct lm_error *err)
{
    *out = NULL;
    struct lm__bert *b = calloc(1, sizeof *b);
    if (!b) return lm_error_set(err, LM_ENOMEM, "bert: out of memory");
    int rc;
    if ((rc = get_hp(g, "embedding_length", &b->n_embd, err)) < 0 ||
        (rc = get_hp(g, "block_count", &b->n_layer, err)) < 0 ||
        (rc = get_hp(g, "attention.head_count", &b->n_head, err)) < 0 ||
        (rc = get_hp(g, "feed_forward_length", &b->n_ff, err)) < 0 ||
        (rc = get_hp(g, "context_length", &b->n_ctx, err)) < 0)
        goto fail;
    if (lm_gguf_get_f32(g, "bert.attention.layer_norm_epsilon", &b->eps) < 0) b->eps = 1e-12f;
    if (b->n_embd % b->n_head != 0) {
        rc = lm_error_set(err, LM_EFORMAT, "bert: embedding_length %d not a multiple of head_count %d",
                          b->n_embd, b->n_head);
        goto fail;
    }
    const struct lm_gguf_tensor *te = lm_gguf_find_tensor(g, "token_embd.weight");
    if (!te || te->n_dims != 2) {
        rc = lm_error_set(err, LM_EFORMAT, "bert: missing tensor token_embd.weight");
        goto fail;
    }
    b->n_vocab = (int)te->ne[1];
    const int64_t E = b->n_embd, F = b->n_ff, L = b->n_layer;
    /* 1-D vectors: 2 (embd norm) + type row + per layer 9 of E and 1 of F */
    size_t nvec = (size_t)(3 * E + L * (9 * E + F));
    b->vecs = malloc(nvec * sizeof(float));
    b->layers = calloc((size_t)L, sizeof *b->layers);
    if (!b->vecs || !b->layers) {
        rc = lm_error_set(err, LM_ENOMEM, "bert: out of memory");
        goto fail;
    }
    float *v = b->vecs;
    if ((rc = get_mat(g, "token_embd.weight", b->n_vocab, E, &b->tok_embd, err)) < 0 ||
        (rc = get_mat(g, "position_embd.weight", b->n_ctx, E, &b->pos_embd, err)) < 0)
        goto fail;
    const struct lm_gguf_tensor *tt = lm_gguf_find_tensor(g, "token_types.weight");
    if (tt) {
        struct lm__bert_mat types;
        if ((rc = get_mat(g, "token_types.weight", tt->ne[1], E, &types, err)) < 0) goto fail;
        int32_t zero = 0;
        lm_get_rows(types.type, types.data, E, &zero, 1, v);
        b->type0 = v;
        v += E;
    }
    if ((rc = get_vec(g, "token_embd_norm.weight", E, v, err)) < 0) goto fail;
    b->embd_norm_w = v, v += E;
    if ((rc = get_vec(g, "token_embd_norm.bias", E, v, err)) < 0) goto fail;
    b->embd_norm_b = v, v += E;

    char name[96];
#define MAT(field, nm, r, c) \
    do { snprintf(name, sizeof name, "blk.%d.%s.weight", il, nm); \
         if ((rc = get_mat(g, name, r, c, &ly->field, err)) < 0) goto fail; } while (0)
#define VEC(field, nm, n) \
    do { snprintf(name, sizeof name, "blk.%d.%s", il, nm); \
         if ((rc = get_vec(g, name, n, v, err)) < 0) goto fail; \
         ly->field = v; v += (n); } while (0)
    for (int il = 0; il < b->n_layer; il++) {
        struct lm__bert_layer *ly = &b->layers[il];
        if (lm_gguf_find_tensor(g, (snprintf(name, sizeof name, "blk.%d.attn_qkv.weight", il), name))) {
            rc = lm_error_set(err, LM_ENOTSUP, "bert: fused tensor %s is not supported", name);
            goto fail;
        }
        MAT(wq, "attn_q", E, E);
        MAT(wk, "attn_k", E, E);
        MAT(wv, "attn_v", E, E);
        MAT(wo, "attn_output", E, E);
        MAT(up, "ffn_up", F, E);
        MAT(down, "ffn_down", E, F);
        VEC(bq, "attn_q.bias", E);
        VEC(bk, "attn_k.bias", E);
        VEC(bv, "attn_v.bias", E);
        VEC(bo, "attn_output.bias", E);
        VEC(attn_norm_w, "attn_output_norm.weight", E);
        VEC(attn_norm_b, "attn_output_norm.bias", E);
        VEC(up_b, "ffn_up.bias", F);
        VEC(down_b, "ffn_down.bias", E);
        VEC(out_norm_w, "layer_output_norm.weight", E);
        VEC(out_norm_b, "layer_output_norm.bias", E);
    }
#undef MAT
#undef VEC
    *out = b;
    return 0;
fail:
    lm__bert_free(b);
    return rc;
}

/* ---- forward ------------------------------------------------------------------------------ */

/* Queries per attention block: the scores of a block are ATT_QB x len. */
#define ATT_QB 64

struct lm__bert_ws {
    int max_tokens, max_len, n_threads;
    float *x, *q, *k, *v, *att, *cur, *h;   /* activations, max_tokens rows */
    float *scores;                           /* n_threads x att_per_thread: attention scratch */
    size_t att_per_thread;                   /* floats: keys, values^T, queries, scores, outputs */
    int32_t *pos;                            /* max_tokens */
};

void lm__bert_ws_free(struct lm__bert_ws *ws)
{
    if (!ws) return;
    free(ws->x);
    free(ws->scores);
    free(ws->pos);
    free(ws);
}

struct lm__bert_ws *lm__bert_ws_new(const struct lm__bert *b, int max_tokens, int max_len, int n_threads)
{
    struct lm__bert_ws *ws = calloc(1, sizeof *ws);
    if (!ws) return NULL;
    if (n_threads < 1) n_threads = 1;
    ws->max_tokens = max_tokens;
    ws->max_len = max_len;
    ws->n_threads = n_threads;
    size_t T = (size_t)max_tokens, E = (size_t)b->n_embd, F = (size_t)b->n_ff;
    /* one block: six T x E activations and the T x F FFN hidden */
    ws->x = malloc((6 * T * E + T * F) * sizeof(float));
    /* per thread: one head's keys (max_len x D) and transposed values (D x max_len), a block
     * of queries and of outputs (ATT_QB x D each) and its scores (ATT_QB x max_len) */
    size_t L = (size_t)max_len, D = E / (size_t)b->n_head;
    ws->att_per_thread = 2 * L * D + 2 * (size_t)ATT_QB * D + (size_t)ATT_QB * L;
    ws->scores = malloc((size_t)n_threads * ws->att_per_thread * sizeof(float));
    ws->pos = malloc(T * sizeof(int32_t));
    if (!ws->x || !ws->scores || !ws->pos) {
        lm__bert_ws_free(ws);
        return NULL;
    }
    ws->q = ws->x + T * E;
    ws->k = ws->q + T * E;
    ws->v = ws->k + T * E;
    ws->att = ws->v + T * E;
    ws->cur = ws->att + T * E;
    ws->h = ws->cur + T * E;
    return ws;
}

/* y[i] += b (broadcast over n_tok rows of n). */
static void add_bias(float *y, const float *b, int64_t n_tok, int64_t n)
{
    for (int64_t t = 0; t < n_tok; t++) {
        float *r = y + t * n;
        for (int64_t i = 0; i < n; i++) r[i] += b[i];
    }
}

/* One row of ggml_norm (mean and variance summed in double, as ggml does) then weight and bias.
 * The double sums run in four interleaved lanes so the adds do not wait on each other; the
 * order differs from ggml's only far below float precision. */
static void layer_norm_row(float *x, const float *w, const float *b, int64_t n, float eps)
{
    double s[4] = {0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 4 <= n; i += 4)
        for (int l = 0; l < 4; l++) s[l] += x[i + l];
    for (; i < n; i++) s[0] += x[i];
    float mean = (float)((s[0] + s[1] + s[2] + s[3]) / (double)n);
    double q[4] = {0, 0, 0, 0};
    for (i = 0; i + 4 <= n; i += 4)
        for (int l = 0; l < 4; l++) {
            float d = x[i + l] - mean;
            x[i + l] = d;
            q[l] += (double)(d * d);
        }
    for (; i < n; i++) {
        float d = x[i] - mean;
        x[i] = d;
        q[0] += (double)(d * d);
    }
    float scale = 1.0f / sqrtf((float)((q[0] + q[1] + q[2] + q[3]) / (double)n) + eps);
    for (i = 0; i < n; i++) x[i] = x[i] * scale * w[i] + b[i];
}

/* Work shared with the pool's threads for one step of the forward pass. */
struct step {
    const struct lm__bert *b;
    struct lm__bert_ws *ws;
    const int *start;
    int n_seq, n_tok;
    /* residual + layer norm: x = LN(a + r) */
    float *a;
    const float *r, *bias, *w, *nb;
    /* gelu over h */
    int64_t n_elem;
};

/* Rows [t0, t1) of thread ith out of nth for n rows. */
static void split(int n, int ith, int nth, int *t0, int *t1)
{
    int per = (n + nth - 1) / nth;
    *t0 = ith * per < n ? ith * per : n;
    *t1 = *t0 + per < n ? *t0 + per : n;
}

/* out = LN(a + bias + r) written to a; bias may be NULL. */
static void step_residual_norm(void *arg, int ith, int nth)
{
    struct step *s = arg;
    int64_t E = s->b->n_embd;
    int t0, t1;
    split(s->n_tok, ith, nth, &t0, &t1);
    for (int t = t0; t < t1; t++) {
        float *row = s->a + (int64_t)t * E;
        const float *res = s->r + (int64_t)t * E;
        if (s->bias)
            for (int64_t i = 0; i < E; i++) row[i] = (row[i] + s->bias[i]) + res[i];
        else
            for (int64_t i = 0; i < E; i++) row[i] += res[i];
        layer_norm_row(row, s->w, s->nb, E, s->b->eps);
    }
}

/* h = gelu(h + up_b). */
static void step_gelu(void *arg, int ith, int nth)
{
    struct step *s = arg;
    int64_t F = s->b->n_ff;
    int t0, t1;
    split(s->n_tok, ith, nth, &t0, &t1);
    pthread_once(&gelu_once, gelu_init);
    for (int t = t0; t < t1; t++) {
        float *row = s->ws->h + (int64_t)t * F;
        for (int64_t i = 0; i < F; i++) row[i] = gelu_one(row[i] + s->bias[i]);
    }
}

/* Self-attention of every (sequence, head) pair, one pair per work item, as two small matrix
 * products on the SIMD kernels: the head's keys are gathered into rows and its values transposed
 * into rows, then per block of queries S = Q K^T, softmax of each row of S (scaled,
 * max-subtracted, as ggml_soft_max_ext), O = P V, and O goes back into att. */
static void step_attention(void *arg, int ith, int nth)
{
    struct step *s = arg;
    const struct lm__bert *b = s->b;
    struct lm__bert_ws *ws = s->ws;
    const int E = b->n_embd, H = b->n_head, D = E / H;
    const float scale = 1.0f / sqrtf((float)D);
    float *kh = ws->scores + (size_t)ith * ws->att_per_thread;     /* len x D */
    float *vt = kh + (size_t)ws->max_len * D;                       /* D x len */
    float *qb = vt + (size_t)ws->max_len * D;                       /* ATT_QB x D */
    float *ob = qb + (size_t)ATT_QB * D;                            /* ATT_QB x D */
    float *sc = ob + (size_t)ATT_QB * D;                            /* ATT_QB x len */
    for (int item = ith; item < s->n_seq * H; item += nth) {
        int sq = item / H, hd = item % H;
        int t0 = s->start[sq], len = s->start[sq + 1] - t0;
        for (int j = 0; j < len; j++) {
            const float *kj = ws->k + (int64_t)(t0 + j) * E + hd * D;
            const float *vj = ws->v + (int64_t)(t0 + j) * E + hd * D;
            memcpy(kh + (size_t)j * D, kj, (size_t)D * sizeof(float));
            for (int d = 0; d < D; d++) vt[(size_t)d * len + j] = vj[d];
        }
        for (int i0 = 0; i0 < len; i0 += ATT_QB) {
            const int qn = len - i0 < ATT_QB ? len - i0 : ATT_QB;
            for (int i = 0; i < qn; i++)
                memcpy(qb + (size_t)i * D, ws->q + (int64_t)(t0 + i0 + i) * E + hd * D, (size_t)D * sizeof(float));
            lm_matmul(NULL, LM_TYPE_F32, kh, len, D, qb, qn, sc);
            for (int i = 0; i < qn; i++) {
                float *row = sc + (size_t)i * len, mx = -INFINITY;
                for (int j = 0; j < len; j++) {
                    row[j] *= scale;
                    if (row[j] > mx) mx = row[j];
                }
                double sum = 0.0;
                for (int j = 0; j < len; j++) {
                    row[j] = expf(row[j] - mx);
                    sum += row[j];
                }
                const float inv = (float)(1.0 / sum);
                for (int j = 0; j < len; j++) row[j] *= inv;
            }
            lm_matmul(NULL, LM_TYPE_F32, vt, D, len, sc, qn, ob);
            for (int i = 0; i < qn; i++)
                memcpy(ws->att + (int64_t)(t0 + i0 + i) * E + hd * D, ob + (size_t)i * D, (size_t)D * sizeof(float));
        }
    }
}

int lm__bert_forward(const struct lm__bert *b, struct lm_pool *pool, struct lm__bert_ws *ws,
                     const int32_t *tokens, const int *start, int n_seq, float *pooled,
                     struct lm_error *err)
{
    const int E = b->n_embd, F = b->n_ff;
    const int T = start[n_seq];
    if (T > ws->max_tokens)
        return lm_error_set(err, LM_ERANGE, "bert: batch of %d tokens exceeds the workspace (%d)",
                            T, ws->max_tokens);
    if (lm_pool_size(pool) > ws->n_threads)
        return lm_error_set(err, LM_EINVAL, "bert: pool larger than the workspace's threads");
    for (int s = 0; s < n_seq; s++) {
        int len = start[s + 1] - start[s];
        if (len < 1 || len > ws->max_len || len > b->n_ctx)
            return lm_error_set(err, LM_ERANGE, "bert: sequence %d has %d tokens (max %d)", s, len,
                                ws->max_len < b->n_ctx ? ws->max_len : b->n_ctx);
        for (int i = 0; i < len; i++) ws->pos[start[s] + i] = i;
    }
    for (int t = 0; t < T; t++)
        if (tokens[t] < 0 || tokens[t] >= b->n_vocab)
            return lm_error_set(err, LM_EINVAL, "bert: token id %d outside the vocabulary (%d)",
                                (int)tokens[t], b->n_vocab);

    /* embeddings: (token + type 0) + position, then LayerNorm */
    lm_get_rows(b->tok_embd.type, b->tok_embd.data, E, tokens, T, ws->x);
    lm_get_rows(b->pos_embd.type, b->pos_embd.data, E, ws->pos, T, ws->cur);
    if (b->type0) add_bias(ws->x, b->type0, T, E);
    struct step st = {.b = b, .ws = ws, .start = start, .n_seq = n_seq, .n_tok = T};
    st.a = ws->x, st.r = ws->cur, st.bias = NULL, st.w = b->embd_norm_w, st.nb = b->embd_norm_b;
    lm_pool_run(pool, step_residual_norm, &st);

    /* x holds the layer input, cur the scratch row block; they swap after each norm */
    float *x = ws->x, *cur = ws->cur;
    for (int il = 0; il < b->n_layer; il++) {
        const struct lm__bert_layer *ly = &b->layers[il];
        lm_matmul(pool, ly->wq.type, ly->wq.data, E, E, x, T, ws->q);
        lm_matmul(pool, ly->wk.type, ly->wk.data, E, E, x, T, ws->k);
        lm_matmul(pool, ly->wv.type, ly->wv.data, E, E, x, T, ws->v);
        add_bias(ws->q, ly->bq, T, E);
        add_bias(ws->k, ly->bk, T, E);
        add_bias(ws->v, ly->bv, T, E);
        lm_pool_run(pool, step_attention, &st);
        lm_matmul(pool, ly->wo.type, ly->wo.data, E, E, ws->att, T, cur);
        /* x = LN(cur + bo + x): the attention output re-adds the layer input */
        st.a = cur, st.r = x, st.bias = ly->bo, st.w = ly->attn_norm_w, st.nb = ly->attn_norm_b;
        lm_pool_run(pool, step_residual_norm, &st);
        float *tmp = x; x = cur; cur = tmp;
        /* FFN: h = gelu(x up^T + up_b); cur = h down^T + down_b; x = LN(cur + x) */
        lm_matmul(pool, ly->up.type, ly->up.data, F, E, x, T, ws->h);
        st.bias = ly->up_b;
        lm_pool_run(pool, step_gelu, &st);
        lm_matmul(pool, ly->down.type, ly->down.data, E, F, ws->h, T, cur);
        st.a = cur, st.r = x, st.bias = ly->down_b, st.w = ly->out_norm_w, st.nb = ly->out_norm_b;
        lm_pool_run(pool, step_residual_norm, &st);
        tmp = x; x = cur; cur = tmp;
    }

    /* mean pooling over every token of each sequence (including [CLS] and [SEP]) */
    for (int s = 0; s < n_seq; s++) {
        float *o = pooled + (size_t)s * (size_t)E;
        int t0 = start[s], len = start[s + 1] - t0;
        memset(o, 0, (size_t)E * sizeof(float));
        for (int t = t0; t < t0 + len; t++)
            for (int i = 0; i < E; i++) o[i] += x[(int64_t)t * E + i];
        float inv = 1.0f / (float)len;
        for (int i = 0; i < E; i++) o[i] *= inv;
    }
    return 0;
}

/* ---- architecture table entry ---------------------------------------------------------- */

/* arch->load: the encoder's weights into m->impl and its sizes into m->info. */
static int bert_arch_load(struct lm_model *m, struct lm_error *err)
{
    struct lm__bert *b;
    int rc = lm__bert_load(m->gguf, &b, err);
    if (rc < 0) return rc;
    m->impl = b;
    m->info.n_vocab = b->n_vocab;
    m->info.n_ctx_train = b->n_ctx;
    m->info.n_embd = b->n_embd;
    m->info.n_layer = b->n_layer;
    m->info.n_head = b->n_head;
    m->info.n_head_kv = b->n_head;
    m->info.n_ff = b->n_ff;
    m->info.is_embedding = true;
    return 0;
}

/* arch->free. */
static void bert_arch_free(struct lm_model *m)
{
    lm__bert_free(m->impl);
    m->impl = NULL;
}

/* Encoder only: no decode context (lm_ctx_init refuses it); use lm/embed.h. */
const struct lm__arch lm__arch_bert = {
    .name = "bert",
    .is_embedding = true,
    .load = bert_arch_load,
    .free = bert_arch_free,
};
