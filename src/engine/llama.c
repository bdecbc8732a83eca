/* llama.c — the llama-family decoder (llama, and qwen2 which adds Q/K/V biases and NeoX
 * RoPE), computed as llama.cpp's graph does: RMSNorm, RoPE, grouped-query attention over an
 * f16 KV cache, SwiGLU, tied output when output.weight is absent. Every matrix product runs
 * on the whole micro-batch through lm_matmul. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/model_internal.h"
#include "lm/kernels.h"
#include "lm/pool.h"

struct llama_layer {
    const float *attn_norm, *ffn_norm;
    const float *bq, *bk, *bv;          /* qwen2 biases, else NULL */
    struct lm__mat wq, wk, wv, wo, gate, up, down;
};

struct llama {
    int n_embd, n_layer, n_head, n_head_kv, hd, n_ff, n_vocab, n_rot;
    float eps, freq_base, freq_scale;
    bool neox;
    const float *freq_factors;          /* rope_freqs.weight (llama 3.1), or NULL */
    struct lm__mat tok_embd, output;
    const float *output_norm;
    struct llama_layer *layers;
};

/* Per-context state: the KV cache and activations for n_batch tokens. */
struct llama_ctx {
    struct lm__kv kv;
    float *x, *xn, *q, *k, *v, *att, *tmp, *gate, *up;
    float *rope;                        /* a RoPE cache of n_rot per pool thread */
};

static int hp_int(const struct lm_model *m, const char *suffix, bool required, int def, int lo, int hi, int *out,
                  struct lm_error *err)
{
    uint32_t v = (uint32_t)def;
    int rc = lm__hp_u32(m, suffix, required, &v, err);
    if (rc < 0) return rc;
    if ((int64_t)v < lo || (int64_t)v > hi)
        return lm_error_set(err, LM_EFORMAT, "model: key %s.%s: %u out of range [%d, %d]", m->arch_name, suffix, v, lo, hi);
    *out = (int)v;
    return 0;
}

static void llama_free(struct lm_model *m)
{
    struct llama *l = m->impl;
    if (!l) return;
    free(l->layers);
    free(l);
    m->impl = NULL;
}

/* RoPE scaling: none or linear (positions divided by the factor); YaRN and others are refused
 * by name rather than run wrong. */
static int rope_scaling(const struct lm_model *m, float *freq_scale, struct lm_error *err)
{
    char key[160];
    struct lm_str type = {"none", 4};
    float factor = 0;
    snprintf(key, sizeof key, "%s.rope.scaling.type", m->arch_name);
    if (lm_gguf_get_str(m->gguf, key, &type) == LM_EFORMAT)
        return lm_error_set(err, LM_EFORMAT, "model: key %s: not a string", key);
    int rc = lm__hp_f32(m, "rope.scaling.factor", false, &factor, err);
    if (rc == 0 && factor == 0) rc = lm__hp_f32(m, "rope.scale_linear", false, &factor, err);
    if (rc < 0) return rc;
    *freq_scale = 1.0f;
    if (lm_str_eq_c(type, "none") || factor == 0 || factor == 1) return 0;
    if (!lm_str_eq_c(type, "linear"))
        return lm_error_set(err, LM_ENOTSUP, "model: rope scaling %.*s not supported", (int)(type.len < 32 ? type.len : 32),
                            type.ptr);
    if (!(factor > 0)) return lm_error_set(err, LM_EFORMAT, "model: rope scaling factor %g", (double)factor);
    *freq_scale = 1.0f / factor;
    return 0;
}

/* Reads hparams and maps every tensor, checking shapes and types. */
static int llama_load(struct lm_model *m, struct lm_error *err)
{
    struct llama *l = calloc(1, sizeof *l);
    if (!l) return lm_error_set(err, LM_ENOMEM, "model: out of memory");
    m->impl = l;
    int rc, n_ctx_train = 0;
    if ((rc = hp_int(m, "embedding_length", true, 0, 1, 1 << 20, &l->n_embd, err)) < 0) return rc;
    if ((rc = hp_int(m, "block_count", true, 0, 1, 4096, &l->n_layer, err)) < 0) return rc;
    if ((rc = hp_int(m, "feed_forward_length", true, 0, 1, 1 << 22, &l->n_ff, err)) < 0) return rc;
    if ((rc = hp_int(m, "attention.head_count", true, 0, 1, 4096, &l->n_head, err)) < 0) return rc;
    if ((rc = hp_int(m, "attention.head_count_kv", false, l->n_head, 1, l->n_head, &l->n_head_kv, err)) < 0) return rc;
    if ((rc = hp_int(m, "context_length", false, 2048, 1, 1 << 24, &n_ctx_train, err)) < 0) return rc;
    if (l->n_embd % l->n_head || l->n_head % l->n_head_kv)
        return lm_error_set(err, LM_EFORMAT, "model: %d heads / %d KV heads do not divide n_embd %d", l->n_head,
                            l->n_head_kv, l->n_embd);
    l->hd = l->n_embd / l->n_head;
    int kl = l->hd, vl = l->hd;
    if ((rc = hp_int(m, "attention.key_length", false, l->hd, 1, 1 << 16, &kl, err)) < 0) return rc;
    if ((rc = hp_int(m, "attention.value_length", false, l->hd, 1, 1 << 16, &vl, err)) < 0) return rc;
    if (kl != vl)
        return lm_error_set(err, LM_ENOTSUP, "model: key_length %d != value_length %d not supported", kl, vl);
    l->hd = kl;
    if ((rc = hp_int(m, "rope.dimension_count", false, l->hd, 2, l->hd, &l->n_rot, err)) < 0) return rc;
    if (l->n_rot % 2) return lm_error_set(err, LM_EFORMAT, "model: rope.dimension_count %d is odd", l->n_rot);
    l->eps = 1e-5f;
    l->freq_base = 10000.0f;
    if ((rc = lm__hp_f32(m, "attention.layer_norm_rms_epsilon", false, &l->eps, err)) < 0) return rc;
    if ((rc = lm__hp_f32(m, "rope.freq_base", false, &l->freq_base, err)) < 0) return rc;
    if (!(l->freq_base > 0)) return lm_error_set(err, LM_EFORMAT, "model: rope.freq_base must be positive");
    if ((rc = rope_scaling(m, &l->freq_scale, err)) < 0) return rc;
    l->neox = !strcmp(m->arch_name, "qwen2");

    const struct lm_gguf_tensor *te = lm_gguf_find_tensor(m->gguf, "token_embd.weight");
    if (!te) return lm_error_set(err, LM_EFORMAT, "model: %s: missing tensor token_embd.weight", m->arch_name);
    if (te->ne[1] < 1 || te->ne[1] > INT32_MAX) return lm_error_set(err, LM_EFORMAT, "model: token_embd.weight: bad vocabulary size");
    l->n_vocab = (int)te->ne[1];
    if ((rc = lm__model_mat(m, &l->tok_embd, l->n_embd, l->n_vocab, true, err, "token_embd.weight")) < 0) return rc;
    rc = lm__model_mat(m, &l->output, l->n_embd, l->n_vocab, false, err, "output.weight");
    if (rc == LM_ENOENT) l->output = l->tok_embd;  /* tied embeddings */
    else if (rc < 0) return rc;
    if ((rc = lm__model_vec(m, &l->output_norm, l->n_embd, true, err, "output_norm.weight")) < 0) return rc;
    if ((rc = lm__model_vec(m, &l->freq_factors, l->n_rot / 2, false, err, "rope_freqs.weight")) < 0) return rc;

    l->layers = calloc((size_t)l->n_layer, sizeof *l->layers);
    if (!l->layers) return lm_error_set(err, LM_ENOMEM, "model: out of memory");
    const int64_t nq = (int64_t)l->n_head * l->hd, nkv = (int64_t)l->n_head_kv * l->hd;
    const bool bias = !strcmp(m->arch_name, "qwen2");
    for (int i = 0; i < l->n_layer; i++) {
        struct llama_layer *y = &l->layers[i];
        if ((rc = lm__model_vec(m, &y->attn_norm, l->n_embd, true, err, "blk.%d.attn_norm.weight", i)) < 0) return rc;
        if ((rc = lm__model_vec(m, &y->ffn_norm, l->n_embd, true, err, "blk.%d.ffn_norm.weight", i)) < 0) return rc;
        if ((rc = lm__model_mat(m, &y->wq, l->n_embd, nq, true, err, "blk.%d.attn_q.weight", i)) < 0) return rc;
        if ((rc = lm__model_mat(m, &y->wk, l->n_embd, nkv, true, err, "blk.%d.attn_k.weight", i)) < 0) return rc;
        if ((rc = lm__model_mat(m, &y->wv, l->n_embd, nkv, true, err, "blk.%d.attn_v.weight", i)) < 0) return rc;
        if ((rc = lm__model_mat(m, &y->wo, nq, l->n_embd, true, err, "blk.%d.attn_output.weight", i)) < 0) return rc;
        if ((rc = lm__model_mat(m, &y->gate, l->n_embd, l->n_ff, true, err, "blk.%d.ffn_gate.weight", i)) < 0) return rc;
        if ((rc = lm__model_mat(m, &y->up, l->n_embd, l->n_ff, true, err, "blk.%d.ffn_up.weight", i)) < 0) return rc;
        if ((rc = lm__model_mat(m, &y->down, l->n_ff, l->n_embd, true, err, "blk.%d.ffn_down.weight", i)) < 0) return rc;
        if ((rc = lm__model_vec(m, &y->bq, nq, bias, err, "blk.%d.attn_q.bias", i)) < 0) return rc;
        if ((rc = lm__model_vec(m, &y->bk, nkv, bias, err, "blk.%d.attn_k.bias", i)) < 0) return rc;
        if ((rc = lm__model_vec(m, &y->bv, nkv, bias, err, "blk.%d.attn_v.bias", i)) < 0) return rc;
    }
    m->info.n_vocab = l->n_vocab;
    m->info.n_ctx_train = n_ctx_train;
    m->info.n_embd = l->n_embd;
    m->info.n_layer = l->n_layer;
    m->info.n_head = l->n_head;
    m->info.n_head_kv = l->n_head_kv;
    m->info.n_ff = l->n_ff;
    return 0;
}

static void llama_ctx_free(struct lm_ctx *c)
{
    struct llama_ctx *s = c->impl;
    if (!s) return;
    lm__kv_free(&s->kv);
    free(s->x); free(s->xn); free(s->q); free(s->k); free(s->v);
    free(s->att); free(s->tmp); free(s->gate); free(s->up); free(s->rope);
    free(s);
    c->impl = NULL;
}

static int llama_ctx_init(struct lm_ctx *c, struct lm_error *err)
{
    const struct llama *l = c->m->impl;
    struct llama_ctx *s = calloc(1, sizeof *s);
    if (!s) return lm_error_set(err, LM_ENOMEM, "context: out of memory");
    c->impl = s;
    int rc = lm__kv_init(&s->kv, l->n_layer, c->n_seq, c->n_ctx, l->n_head_kv, l->hd, l->hd, err);
    if (rc < 0) return rc;
    const size_t nb = (size_t)c->n_batch, nq = (size_t)l->n_head * (size_t)l->hd,
                 nkv = (size_t)l->n_head_kv * (size_t)l->hd, ne = (size_t)l->n_embd;
    s->x = malloc(nb * ne * sizeof(float));
    s->xn = malloc(nb * ne * sizeof(float));
    s->q = malloc(nb * nq * sizeof(float));
    s->k = malloc(nb * nkv * sizeof(float));
    s->v = malloc(nb * nkv * sizeof(float));
    s->att = malloc(nb * nq * sizeof(float));
    s->tmp = malloc(nb * ne * sizeof(float));
    s->gate = malloc(nb * (size_t)l->n_ff * sizeof(float));
    s->up = malloc(nb * (size_t)l->n_ff * sizeof(float));
    s->rope = malloc((size_t)lm_pool_size(c->pool) * (size_t)l->n_rot * sizeof(float));
    if (!s->x || !s->xn || !s->q || !s->k || !s->v || !s->att || !s->tmp || !s->gate || !s->up || !s->rope)
        return lm_error_set(err, LM_ENOMEM, "context: out of memory for a batch of %d", c->n_batch);
    return 0;
}

/* The per-token work between the matrix products, split over the batch's tokens by
 * lm__parallel_for. Each step does per token exactly what the sequential code would. */
struct tok_job {
    const struct llama *l;
    struct llama_ctx *s;
    const struct llama_layer *y;
    const struct lm__ubatch *ub;
    int il;
    bool residual;                      /* add s->tmp into s->x first */
    const float *norm;                  /* rmsnorm weight: s->xn = rmsnorm(s->x) */
};

/* x += tmp (when residual), xn = rmsnorm(x) * norm, for tokens [t0, t1). */
static void tok_add_norm(void *arg, int64_t t0, int64_t t1, int ith)
{
    (void)ith;
    const struct tok_job *j = arg;
    const int64_t ne = j->l->n_embd;
    for (int64_t t = t0; t < t1; t++) {
        float *x = j->s->x + t * ne;
        if (j->residual) lm__add(x, j->s->tmp + t * ne, ne);
        lm__rmsnorm(j->s->xn + t * ne, x, j->norm, ne, j->l->eps);
    }
}

/* Q/K/V biases, RoPE and the KV cache store for tokens [t0, t1). */
static void tok_rope_store(void *arg, int64_t t0, int64_t t1, int ith)
{
    const struct tok_job *j = arg;
    const struct llama *l = j->l;
    struct llama_ctx *s = j->s;
    const int hd = l->hd;
    const int64_t nq = (int64_t)l->n_head * hd, nkv = (int64_t)l->n_head_kv * hd;
    float *cs = s->rope + (size_t)ith * (size_t)l->n_rot;         /* this thread's cache */
    for (int64_t t = t0; t < t1; t++) {
        float *q = s->q + t * nq, *k = s->k + t * nkv, *v = s->v + t * nkv;
        if (j->y->bq) lm__add(q, j->y->bq, nq);
        if (j->y->bk) lm__add(k, j->y->bk, nkv);
        if (j->y->bv) lm__add(v, j->y->bv, nkv);
        lm__rope_cache(cs, l->n_rot, j->ub->pos[t], l->freq_base, l->freq_scale, l->freq_factors);
        for (int h = 0; h < l->n_head; h++) lm__rope_apply(q + (size_t)h * hd, cs, l->n_rot, l->neox);
        for (int h = 0; h < l->n_head_kv; h++) lm__rope_apply(k + (size_t)h * hd, cs, l->n_rot, l->neox);
        lm__kv_store(&s->kv, j->il, j->ub->seq[t], j->ub->pos[t], k, v);
    }
}

/* gate = silu(gate) * up over elements [i0, i1). */
static void elt_swiglu(void *arg, int64_t i0, int64_t i1, int ith)
{
    (void)ith;
    const struct tok_job *j = arg;
    lm__swiglu(j->s->gate + i0, j->s->up + i0, i1 - i0);
}

static int llama_forward(struct lm_ctx *c, const struct lm__ubatch *ub, float *logits, struct lm_error *err)
{
    const struct llama *l = c->m->impl;
    struct llama_ctx *s = c->impl;
    const int n = ub->n, ne = l->n_embd, hd = l->hd;
    const int64_t nq = (int64_t)l->n_head * hd, nkv = (int64_t)l->n_head_kv * hd;
    struct lm_pool *pool = c->pool;
    struct tok_job j = {.l = l, .s = s, .ub = ub};

    lm_get_rows(l->tok_embd.type, l->tok_embd.data, ne, ub->tokens, n, s->x);
    for (int il = 0; il < l->n_layer; il++) {
        const struct llama_layer *y = &l->layers[il];
        j.y = y;
        j.il = il;
        /* the previous layer's FFN output joins the residual here, with this layer's norm */
        j.residual = il > 0;
        j.norm = y->attn_norm;
        lm__parallel_for(pool, n, 1, tok_add_norm, &j);
        const struct lm_matmul_out qkv[3] = {{y->wq.type, y->wq.data, nq, s->q},
                                             {y->wk.type, y->wk.data, nkv, s->k},
                                             {y->wv.type, y->wv.data, nkv, s->v}};
        lm_matmul_multi(pool, qkv, 3, ne, s->xn, n);
        lm__parallel_for(pool, n, 1, tok_rope_store, &j);
        struct lm__attn a = {&s->kv, il, n, l->n_head, ub->pos, ub->seq, s->q, s->att, 1.0f / sqrtf((float)hd), 0, 0,
                             c->flash_attn};
        lm__attention(pool, &a);
        lm_matmul(pool, y->wo.type, y->wo.data, ne, nq, s->att, n, s->tmp);
        j.residual = true;
        j.norm = y->ffn_norm;
        lm__parallel_for(pool, n, 1, tok_add_norm, &j);
        const struct lm_matmul_out gate_up[2] = {{y->gate.type, y->gate.data, l->n_ff, s->gate},
                                                 {y->up.type, y->up.data, l->n_ff, s->up}};
        lm_matmul_multi(pool, gate_up, 2, ne, s->xn, n);
        lm__parallel_for(pool, (int64_t)n * l->n_ff, 2048, elt_swiglu, &j);
        lm_matmul(pool, y->down.type, y->down.data, ne, l->n_ff, s->gate, n, s->tmp);
    }
    lm__add(s->x, s->tmp, (int64_t)n * ne);
    if (ub->n_out == 0) return 0;
    for (int k = 0; k < ub->n_out; k++)
        lm__rmsnorm(s->xn + (size_t)k * ne, s->x + (size_t)ub->out_idx[k] * ne, l->output_norm, ne, l->eps);
    lm_matmul(pool, l->output.type, l->output.data, l->n_vocab, ne, s->xn, ub->n_out, logits);
    (void)err;
    return 0;
}

const struct lm__arch lm__arch_llama = {
    .name = "llama",
    .load = llama_load,
    .free = llama_free,
    .ctx_init = llama_ctx_init,
    .ctx_free = llama_ctx_free,
    .forward = llama_forward,
};

const struct lm__arch lm__arch_qwen2 = {
    .name = "qwen2",
    .load = llama_load,
    .free = llama_free,
    .ctx_init = llama_ctx_init,
    .ctx_free = llama_ctx_free,
    .forward = llama_forward,
};
