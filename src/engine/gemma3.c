/* gemma3.c — the Gemma 3 text decoder as llama.cpp runs it (src/models/gemma3.cpp with the
 * gemma3 hyper-parameters of llama-model.cpp):
 *
 *   x = embd(token) * sqrt(n_embd)
 *   per layer:  h = rmsnorm(x) -> Q, K, V;  Q, K: per-head rmsnorm, NeoX RoPE (local layers:
 *               base rope.freq_base_swa (10000), scale 1; global layers: rope.freq_base and the
 *               linear rope scaling), Q *= attention scale;  causal attention, local layers
 *               only over the last attention.sliding_window positions;  x += rmsnorm(att Wo)
 *               (post_attention_norm);  x += rmsnorm(down(gelu(gate h') * up h')) (post_ffw_norm)
 *               with h' = rmsnorm(x) (ffn_norm)
 *   logits = rmsnorm(x) (output_norm) * output (tied to token_embd when absent)
 *
 * RMSNorm weights are used as stored (the converter already wrote 1 + w). Every 6th layer is
 * global unless attention.sliding_window_pattern says otherwise. The KV cache is f16 as
 * llama.cpp's default, and attention rounds Q and the softmax weights to f16 as its non-flash
 * CPU path does, so greedy continuations agree with it. On x86 with AVX2, FMA and F16C, RoPE,
 * softmax and the attention's f16 products also follow the operation order of llama.cpp's
 * CPU backend built for that hardware (g3_attn_exact), and with the Q8_0 activation quantiser
 * of the x86 kernels and the GELU table of bert.c the logits of one sequence are then
 * bit-identical to llama.cpp's for Q8_0 weights (measured on 32-token greedy runs). Local layers
 * keep a ring of sliding_window + n_batch positions (rounded up to 32) per sequence when full
 * caches would be large (use_rings). */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/bert.h"
#include "engine/kv_internal.h"
#include "engine/model_ops_avx2.h"
#include "engine/model_internal.h"
#include "lm/cpu.h"
#include "lm/kernels.h"
#include "lm/pool.h"

struct g3_layer {
    struct lm__mat wq, wk, wv, wo, gate, up, down;
    const float *attn_norm, *q_norm, *k_norm, *post_attn_norm, *ffn_norm, *post_ffn_norm;
    bool swa;                      /* local (sliding-window) layer */
    float freq_base, freq_scale;   /* RoPE of this layer */
};

struct g3 {
    int n_vocab, n_embd, n_layer, n_head, n_head_kv, hd_k, hd_v, n_ff, n_swa;
    float eps, attn_scale, softcap;
    struct lm__mat tok_embd, output;
    const float *output_norm;
    struct g3_layer *layers;
};

/* Per-context state: caches (f16) and scratch. */
struct g3_ctx {
    int n_seq, n_ctx, n_batch;
    int cap_local;                 /* ring size of local layers */
    uint16_t **k, **v;             /* per layer: K rows n_seq x cap x (n_head_kv * hd_k);
                                    * V transposed n_seq x n_head_kv x hd_v x cap */
    int *cap;                      /* per layer */
    int32_t *ring_lo;              /* per seq: oldest position still in the local rings */
    float *x, *xn, *q, *kk, *vv, *att, *o, *g, *u;   /* n_batch rows */
    uint16_t *qh;                  /* n_batch x n_head x hd_k, f16 queries */
    float *scores;                 /* n_threads x (n_ctx + 64 + hd_k) */
    uint16_t *p16;                 /* n_threads x (n_ctx + 64): f16 softmax weights (exact) */
    int n_threads;
    bool exact;                    /* ggml's x86 AVX2/FMA/F16C operation order in attention and RoPE */
};

/* ---- loading ------------------------------------------------------------------------------ */

static void g3_free(struct lm_model *m)
{
    struct g3 *g = m->impl;
    if (g) free(g->layers);
    free(g);
    m->impl = NULL;
}

/* The sliding-window pattern: "attention.sliding_window_pattern" as a period (u32) or a per-layer
 * bool array (true = local); else every 6th layer global. */
static int g3_pattern(struct lm_model *m, struct g3 *g, struct lm_error *err)
{
    char key[128];
    snprintf(key, sizeof key, "%s.attention.sliding_window_pattern", m->arch_name);
    int64_t ki = lm_gguf_find_key(m->gguf, key);
    uint32_t period = 6;
    if (ki >= 0 && lm_gguf_key_type(m->gguf, ki) == LM_GGUF_TYPE_ARRAY) {
        struct lm_gguf_arr a;
        if (lm_gguf_get_arr(m->gguf, key, &a) < 0 || a.n != (uint64_t)g->n_layer)
            return lm_error_set(err, LM_EFORMAT, "gemma3: key %s must have one entry per layer", key);
        for (int il = 0; il < g->n_layer; il++) {
            int64_t v;
            if (lm_gguf_arr_i64(&a, (uint64_t)il, &v) < 0)
                return lm_error_set(err, LM_EFORMAT, "gemma3: key %s: bad element %d", key, il);
            g->layers[il].swa = v != 0;
        }
        return 0;
    }
    if (ki >= 0 && lm__hp_u32(m, "attention.sliding_window_pattern", true, &period, err) < 0) return LM_EFORMAT;
    for (int il = 0; il < g->n_layer; il++)
        g->layers[il].swa = period > 0 && (uint32_t)il % period < period - 1;
    return 0;
}

/* arch->load. */
static int g3_load(struct lm_model *m, struct lm_error *err)
{
    struct g3 *g = calloc(1, sizeof *g);
    if (!g) return lm_error_set(err, LM_ENOMEM, "gemma3: out of memory");
    m->impl = g;
    uint32_t n_embd = 0, n_layer = 0, n_head = 0, n_head_kv = 0, n_ff = 0, n_ctx = 0, hd_k = 0, hd_v = 0,
             n_swa = 0;
    float eps = 1e-6f, base = 10000.0f, base_swa = 10000.0f, rope_factor = 0.0f, softcap = 0.0f;
    int rc;
    if ((rc = lm__hp_u32(m, "embedding_length", true, &n_embd, err)) < 0 ||
        (rc = lm__hp_u32(m, "block_count", true, &n_layer, err)) < 0 ||
        (rc = lm__hp_u32(m, "attention.head_count", true, &n_head, err)) < 0 ||
        (rc = lm__hp_u32(m, "feed_forward_length", true, &n_ff, err)) < 0 ||
        (rc = lm__hp_u32(m, "context_length", true, &n_ctx, err)) < 0 ||
        (rc = lm__hp_f32(m, "attention.layer_norm_rms_epsilon", true, &eps, err)) < 0)
        return rc;
    n_head_kv = n_head;
    if ((rc = lm__hp_u32(m, "attention.head_count_kv", false, &n_head_kv, err)) < 0 ||
        (rc = lm__hp_u32(m, "attention.sliding_window", false, &n_swa, err)) < 0 ||
        (rc = lm__hp_f32(m, "rope.freq_base", false, &base, err)) < 0 ||
        (rc = lm__hp_f32(m, "rope.freq_base_swa", false, &base_swa, err)) < 0 ||
        (rc = lm__hp_f32(m, "final_logit_softcapping", false, &softcap, err)) < 0)
        return rc;
    if (n_embd == 0 || n_layer == 0 || n_head == 0 || n_head_kv == 0 || n_head % n_head_kv != 0 ||
        n_ff == 0 || n_layer > 4096 || n_embd > (1u << 20) || n_head > 4096)
        return lm_error_set(err, LM_EFORMAT, "gemma3: bad sizes (embd %u, layers %u, heads %u/%u, ff %u)",
                            n_embd, n_layer, n_head, n_head_kv, n_ff);
    hd_k = n_embd / n_head;
    if ((rc = lm__hp_u32(m, "attention.key_length", false, &hd_k, err)) < 0) return rc;
    hd_v = hd_k;
    if ((rc = lm__hp_u32(m, "attention.value_length", false, &hd_v, err)) < 0) return rc;
    if (hd_k == 0 || hd_v == 0 || hd_k % 2 || hd_k > 4096 || hd_v > 4096)
        return lm_error_set(err, LM_EFORMAT, "gemma3: bad head size (key %u, value %u)", hd_k, hd_v);
    /* linear RoPE scaling (Gemma 3 4B+: factor 8) applies to the global layers only */
    char key[128];
    struct lm_str st;
    snprintf(key, sizeof key, "%s.rope.scaling.type", m->arch_name);
    bool linear = lm_gguf_get_str(m->gguf, key, &st) == 0 && lm_str_eq_c(st, "linear");
    if (linear && (rc = lm__hp_f32(m, "rope.scaling.factor", false, &rope_factor, err)) < 0) return rc;
    float freq_scale = linear && rope_factor > 0.0f ? 1.0f / rope_factor : 1.0f;
    snprintf(key, sizeof key, "%s.rope.scale_linear", m->arch_name);
    if (lm_gguf_get_f32(m->gguf, key, &rope_factor) == 0 && rope_factor > 0.0f) freq_scale = 1.0f / rope_factor;

    g->n_embd = (int)n_embd, g->n_layer = (int)n_layer, g->n_head = (int)n_head;
    g->n_head_kv = (int)n_head_kv, g->n_ff = (int)n_ff, g->hd_k = (int)hd_k, g->hd_v = (int)hd_v;
    g->n_swa = (int)n_swa, g->eps = eps, g->softcap = softcap;
    /* query_pre_attn_scalar as llama.cpp derives it: n_embd / n_head for the 27B (62 layers),
     * the key head size otherwise */
    g->attn_scale = n_layer == 62 ? 1.0f / sqrtf((float)(n_embd / n_head)) : 1.0f / sqrtf((float)hd_k);
    g->layers = calloc(n_layer, sizeof *g->layers);
    if (!g->layers) return lm_error_set(err, LM_ENOMEM, "gemma3: out of memory");
    if (n_swa > 0) {
        if ((rc = g3_pattern(m, g, err)) < 0) return rc;
    }

    const struct lm_gguf_tensor *te = lm_gguf_find_tensor(m->gguf, "token_embd.weight");
    if (!te || te->n_dims != 2) return lm_error_set(err, LM_EFORMAT, "gemma3: missing tensor token_embd.weight");
    g->n_vocab = (int)te->ne[1];
    const int64_t E = n_embd, QD = (int64_t)n_head * hd_k, KD = (int64_t)n_head_kv * hd_k,
                  VD = (int64_t)n_head_kv * hd_v, OD = (int64_t)n_head * hd_v, F = n_ff;
    if ((rc = lm__model_mat(m, &g->tok_embd, E, g->n_vocab, true, err, "token_embd.weight")) < 0 ||
        (rc = lm__model_vec(m, &g->output_norm, E, true, err, "output_norm.weight")) < 0)
        return rc;
    rc = lm__model_mat(m, &g->output, E, g->n_vocab, false, err, "output.weight");
    if (rc == LM_ENOENT) g->output = g->tok_embd;   /* tied */
    else if (rc < 0) return rc;
    for (int il = 0; il < g->n_layer; il++) {
        struct g3_layer *ly = &g->layers[il];
        if ((rc = lm__model_vec(m, &ly->attn_norm, E, true, err, "blk.%d.attn_norm.weight", il)) < 0 ||
            (rc = lm__model_mat(m, &ly->wq, E, QD, true, err, "blk.%d.attn_q.weight", il)) < 0 ||
            (rc = lm__model_mat(m, &ly->wk, E, KD, true, err, "blk.%d.attn_k.weight", il)) < 0 ||
            (rc = lm__model_mat(m, &ly->wv, E, VD, true, err, "blk.%d.attn_v.weight", il)) < 0 ||
            (rc = lm__model_mat(m, &ly->wo, OD, E, true, err, "blk.%d.attn_output.weight", il)) < 0 ||
            (rc = lm__model_vec(m, &ly->q_norm, hd_k, true, err, "blk.%d.attn_q_norm.weight", il)) < 0 ||
            (rc = lm__model_vec(m, &ly->k_norm, hd_k, true, err, "blk.%d.attn_k_norm.weight", il)) < 0 ||
            (rc = lm__model_vec(m, &ly->post_attn_norm, E, true, err, "blk.%d.post_attention_norm.weight", il)) < 0 ||
            (rc = lm__model_vec(m, &ly->ffn_norm, E, true, err, "blk.%d.ffn_norm.weight", il)) < 0 ||
            (rc = lm__model_mat(m, &ly->gate, E, F, true, err, "blk.%d.ffn_gate.weight", il)) < 0 ||
            (rc = lm__model_mat(m, &ly->up, E, F, true, err, "blk.%d.ffn_up.weight", il)) < 0 ||
            (rc = lm__model_mat(m, &ly->down, F, E, true, err, "blk.%d.ffn_down.weight", il)) < 0 ||
            (rc = lm__model_vec(m, &ly->post_ffn_norm, E, true, err, "blk.%d.post_ffw_norm.weight", il)) < 0)
            return rc;
        ly->freq_base = ly->swa ? base_swa : base;
        ly->freq_scale = ly->swa ? 1.0f : freq_scale;
    }
    m->info.n_vocab = g->n_vocab;
    m->info.n_ctx_train = (int)n_ctx;
    m->info.n_embd = g->n_embd;
    m->info.n_layer = g->n_layer;
    m->info.n_head = g->n_head;
    m->info.n_head_kv = g->n_head_kv;
    m->info.n_ff = g->n_ff;
    return 0;
}

/* ---- context ------------------------------------------------------------------------------ */

static void g3_ctx_free(struct lm_ctx *c)
{
    struct g3_ctx *s = c->impl;
    if (!s) return;
    const struct g3 *g = c->m->impl;
    for (int il = 0; s->k && il < g->n_layer; il++) {
        free(s->k[il]);
        free(s->v[il]);
    }
    free(s->k);
    free(s->v);
    free(s->cap);
    free(s->ring_lo);
    free(s->x);
    free(s->qh);
    free(s->scores);
    free(s->p16);
    free(s);
    c->impl = NULL;
}

/* Whether local layers keep only a ring of n_swa + n_batch positions. Rings save most of the
 * cache on long contexts, but a sequence truncated by more than n_batch positions from its end
 * has lost part of its window (forward then fails with a message; the caller must clear and
 * re-decode it, as llama.cpp's server does). So rings are used only when full caches would
 * pass 2 GiB; LM_SWA_RING=1 forces them (tests), LM_SWA_RING=0 forbids them. */
static bool use_rings(const struct g3 *g, const struct lm_ctx *c)
{
    const char *env = getenv("LM_SWA_RING");
    if (env && *env) return *env == '1';
    double full = (double)g->n_layer * c->n_seq * c->n_ctx * (g->n_head_kv * (g->hd_k + g->hd_v)) * 2.0;
    return full > 2.0 * 1024 * 1024 * 1024;
}

/* arch->ctx_init: f16 caches (global layers: n_ctx positions; local: n_ctx or a ring) and scratch. */
static int g3_ctx_init(struct lm_ctx *c, struct lm_error *err)
{
    const struct g3 *g = c->m->impl;
    struct g3_ctx *s = calloc(1, sizeof *s);
    if (!s) return lm_error_set(err, LM_ENOMEM, "gemma3: out of memory");
    c->impl = s;
    s->n_seq = c->n_seq, s->n_ctx = c->n_ctx, s->n_batch = c->n_batch;
    s->n_threads = c->pool ? lm_pool_size(c->pool) : 1;
#if defined(__x86_64__)
    const struct lm_cpu_features *f = lm_cpu_features();
    s->exact = f->avx2 && f->fma && f->f16c;
#endif
    /* capacities are multiples of 32 positions, so that a group of 32 consecutive positions
     * starting at a multiple of 32 never wraps a ring (the exact attention sums by groups) */
    const int cap_full = (c->n_ctx + 31) & ~31;
    s->cap_local = cap_full;
    if (g->n_swa > 0 && g->n_swa + c->n_batch < c->n_ctx && use_rings(g, c))
        s->cap_local = (g->n_swa + c->n_batch + 31) & ~31;
    s->k = calloc((size_t)g->n_layer, sizeof *s->k);
    s->v = calloc((size_t)g->n_layer, sizeof *s->v);
    s->cap = calloc((size_t)g->n_layer, sizeof *s->cap);
    s->ring_lo = calloc((size_t)c->n_seq, sizeof *s->ring_lo);
    if (!s->k || !s->v || !s->cap || !s->ring_lo) goto oom;
    for (int il = 0; il < g->n_layer; il++) {
        s->cap[il] = g->layers[il].swa ? s->cap_local : cap_full;
        size_t rows = (size_t)c->n_seq * (size_t)s->cap[il];
        /* zeroed: the exact attention multiplies unused slots by weight 0, which needs them finite */
        s->k[il] = calloc(rows * (size_t)(g->n_head_kv * g->hd_k), sizeof(uint16_t));
        s->v[il] = calloc(rows * (size_t)(g->n_head_kv * g->hd_v), sizeof(uint16_t));
        if (!s->k[il] || !s->v[il]) goto oom;
    }
    size_t B = (size_t)c->n_batch, E = (size_t)g->n_embd, F = (size_t)g->n_ff;
    size_t QD = (size_t)(g->n_head * g->hd_k), KD = (size_t)(g->n_head_kv * g->hd_k);
    size_t VD = (size_t)(g->n_head_kv * g->hd_v), OD = (size_t)(g->n_head * g->hd_v);
    s->x = malloc(B * (3 * E + QD + KD + VD + OD + 2 * F) * sizeof(float));
    s->qh = malloc(B * QD * sizeof(uint16_t));
    s->scores = malloc((size_t)s->n_threads * (size_t)(cap_full + 64 + g->hd_k) * sizeof(float));
    s->p16 = malloc((size_t)s->n_threads * (size_t)(cap_full + 64) * sizeof(uint16_t));
    if (!s->x || !s->qh || !s->scores || !s->p16) goto oom;
    s->xn = s->x + B * E;
    s->o = s->xn + B * E;
    s->q = s->o + B * E;
    s->kk = s->q + B * QD;
    s->vv = s->kk + B * KD;
    s->att = s->vv + B * VD;
    s->g = s->att + B * OD;
    s->u = s->g + B * F;
    return 0;
oom:
    g3_ctx_free(c);
    return lm_error_set(err, LM_ENOMEM, "gemma3: out of memory for the KV cache (%d x %d tokens)",
                        c->n_seq, c->n_ctx);
}

/* arch->seq_truncate: the caches are indexed by position, so dropping needs no copy; a cleared
 * sequence starts its rings afresh. */
static void g3_seq_truncate(struct lm_ctx *c, int seq, int from)
{
    struct g3_ctx *s = c->impl;
    if (from == 0) s->ring_lo[seq] = 0;
}

/* ---- forward ------------------------------------------------------------------------------ */

/* ggml_rms_norm (sum of squares in double) times w; out may equal x. */
static void rmsnorm(float *out, const float *x, const float *w, int n, float eps)
{
    double sum = 0.0;
    for (int i = 0; i < n; i++) sum += (double)(x[i] * x[i]);
    float scale = 1.0f / sqrtf((float)(sum / n) + eps);
    for (int i = 0; i < n; i++) out[i] = x[i] * scale * w[i];
}

/* NeoX RoPE over a head of n values as ggml computes it (theta advanced by repeated
 * multiplication, linear scaling by freq_scale). fused: the rotation as ggml's CPU backend
 * compiled for FMA hardware computes it (its compiler contracts x0 cos - x1 sin into
 * fma(x0, cos, -(x1 sin)) and x0 sin + x1 cos into fma(x0, sin, x1 cos)). */
static void rope_neox(float *x, int n, int pos, float base, float freq_scale, bool fused)
{
    const float theta_scale = powf(base, -2.0f / (float)n);
    float theta = (float)pos;
    for (int i = 0; i < n / 2; i++) {
        float t = theta * freq_scale;
        float c = cosf(t), sn = sinf(t);
        float a = x[i], b = x[i + n / 2];
        if (fused) {
            x[i] = fmaf(a, c, -(b * sn));
            x[i + n / 2] = fmaf(a, sn, b * c);
        } else {
            x[i] = a * c - b * sn;
            x[i + n / 2] = a * sn + b * c;
        }
        theta *= theta_scale;
    }
}

struct g3_step {
    const struct g3 *g;
    struct g3_ctx *s;
    const struct lm__ubatch *ub;
    int il;
};

/* Per-token work before attention: Q/K norms, RoPE, query scale; K/V into the cache. */
static void g3_qk(void *arg, int ith, int nth)
{
    struct g3_step *st = arg;
    const struct g3 *g = st->g;
    struct g3_ctx *s = st->s;
    const struct g3_layer *ly = &g->layers[st->il];
    const int QD = g->n_head * g->hd_k, KD = g->n_head_kv * g->hd_k, VD = g->n_head_kv * g->hd_v;
    for (int t = ith; t < st->ub->n; t += nth) {
        int pos = st->ub->pos[t], seq = st->ub->seq[t];
        float *q = s->q + (size_t)t * QD;
        for (int h = 0; h < g->n_head; h++) {
            float *qh = q + h * g->hd_k;
            rmsnorm(qh, qh, ly->q_norm, g->hd_k, g->eps);
            rope_neox(qh, g->hd_k, pos, ly->freq_base, ly->freq_scale, s->exact);
            for (int i = 0; i < g->hd_k; i++) s->qh[(size_t)t * QD + (size_t)(h * g->hd_k + i)] =
                lm_f32_to_f16(qh[i] * g->attn_scale);
        }
        float *k = s->kk + (size_t)t * KD;
        size_t slot = (size_t)seq * (size_t)s->cap[st->il] + (size_t)(pos % s->cap[st->il]);
        uint16_t *kc = s->k[st->il] + slot * (size_t)KD;
        /* V^T: row (seq, head, d) holds the cap positions; head-major rows follow VD order */
        uint16_t *vc = s->v[st->il] + (size_t)seq * (size_t)VD * (size_t)s->cap[st->il] + (size_t)(pos % s->cap[st->il]);
        for (int h = 0; h < g->n_head_kv; h++) {
            float *kh = k + h * g->hd_k;
            rmsnorm(kh, kh, ly->k_norm, g->hd_k, g->eps);
            rope_neox(kh, g->hd_k, pos, ly->freq_base, ly->freq_scale, s->exact);
        }
        for (int i = 0; i < KD; i++) kc[i] = lm_f32_to_f16(k[i]);
        const float *v = s->vv + (size_t)t * VD;
        for (int i = 0; i < VD; i++) vc[(size_t)i * (size_t)s->cap[st->il]] = lm_f32_to_f16(v[i]);
    }
}

/* f16 x f32 dot product: the AVX2 variant llama's attention uses (kv.c) where available, so
 * both architectures sum in ggml's order. */
static float dot_f16_ref(const uint16_t *a, const float *b, int n)
{
    float r = 0;
    for (int i = 0; i < n; i++) r += lm_f16_to_f32(a[i]) * b[i];
    return r;
}

static float (*dot_f16)(const uint16_t *a, const float *b, int n) = dot_f16_ref;
static pthread_once_t dot_once = PTHREAD_ONCE_INIT;

static void pick_dot(void)
{
#if defined(__x86_64__)
    const struct lm_cpu_features *f = lm_cpu_features();
    if (f->avx2 && f->fma && f->f16c) dot_f16 = lm__dot_f16_f32_avx2;
#endif
}

/* Per-thread scratch: scores of n_ctx positions plus alignment groups, then hd_k floats. */
static int scores_stride(const struct g3_ctx *s)
{
    return ((s->n_ctx + 31) & ~31) + 64;
}

#if defined(__x86_64__)
/* Causal attention of each (token, head) in the operation order of llama.cpp's x86 CPU
 * backend (AVX2, FMA, F16C), whose attention spans all cache cells with masked ones at -inf;
 * a cell there is our position. So the softmax runs over the aligned groups of 8 positions
 * that hold lo..pos (ggml's vector exp, a double sum of per-group f32 sums), and the products
 * K q and V^T p sum each position in the lane its cell index gives: with tinyBLAS's order for
 * micro-batches of 2+ tokens, ggml_vec_dot_f16's for single tokens. Weights outside lo..pos
 * are 0 and add nothing, so only the groups of 32 positions around lo..pos are summed. */
static void g3_attn_exact(struct g3_step *st, int ith, int nth)
{
    const struct g3 *g = st->g;
    struct g3_ctx *s = st->s;
    const struct g3_layer *ly = &g->layers[st->il];
    const int QD = g->n_head * g->hd_k, KD = g->n_head_kv * g->hd_k, VD = g->n_head_kv * g->hd_v;
    const int OD = g->n_head * g->hd_v, grp = g->n_head / g->n_head_kv, cap = s->cap[st->il];
    const int stride = scores_stride(s);
    float *sc = s->scores + (size_t)ith * (size_t)(stride + g->hd_k);
    uint16_t *p16 = s->p16 + (size_t)ith * (size_t)stride;
    const bool tiny = st->ub->n >= 2, tiny_k = tiny && g->hd_k % 8 == 0;
    for (int item = ith; item < st->ub->n * g->n_head; item += nth) {
        const int t = item / g->n_head, h = item % g->n_head, kvh = h / grp;
        const int pos = st->ub->pos[t], seq = st->ub->seq[t];
        const int lo = ly->swa && g->n_swa > 0 && pos - g->n_swa + 1 > 0 ? pos - g->n_swa + 1 : 0;
        const uint16_t *q16 = s->qh + (size_t)t * QD + (size_t)(h * g->hd_k);
        const uint16_t *kbase = s->k[st->il] + (size_t)seq * (size_t)cap * (size_t)KD + (size_t)(kvh * g->hd_k);
        const int g0 = lo & ~7, g1 = (pos + 8) & ~7;
        for (int j = g0; j < g1; j++) {
            const uint16_t *kr = kbase + (size_t)(j % cap) * (size_t)KD;
            sc[j - g0] = j < lo || j > pos ? -INFINITY
                         : tiny_k     ? lm__dot_f16_tinyblas_avx2(kr, q16, g->hd_k)
                                      : lm__dot_f16_vec_avx2(kr, q16, g->hd_k);
        }
        lm__softmax_ggml_avx2(sc, g1 - g0);
        const int w0 = lo & ~31, w1 = (pos + 32) & ~31;
        for (int j = w0; j < w1; j++) p16[j - w0] = j < g0 || j >= g1 ? 0 : lm_f32_to_f16(sc[j - g0]);
        const uint16_t *vrow = s->v[st->il] + ((size_t)seq * (size_t)VD + (size_t)(kvh * g->hd_v)) * (size_t)cap;
        float *out = s->att + (size_t)t * OD + (size_t)(h * g->hd_v);
        lm__attn_v_avx2(vrow, (size_t)cap, g->hd_v, cap, w0, p16, w1 - w0, tiny, out);
    }
}
#endif

/* Causal attention of each (token, head): scores over the sequence's cached positions (local
 * layers: the last n_swa), softmax, weights rounded to f16, then one f16 dot per value row, as
 * ggml's f16 matrix products compute K q and V^T p. A wrapped ring is summed in two parts. */
static void g3_attn(void *arg, int ith, int nth)
{
    struct g3_step *st = arg;
    const struct g3 *g = st->g;
    struct g3_ctx *s = st->s;
#if defined(__x86_64__)
    if (s->exact) {
        g3_attn_exact(st, ith, nth);
        return;
    }
#endif
    const struct g3_layer *ly = &g->layers[st->il];
    const int QD = g->n_head * g->hd_k, KD = g->n_head_kv * g->hd_k, VD = g->n_head_kv * g->hd_v;
    const int OD = g->n_head * g->hd_v, grp = g->n_head / g->n_head_kv, cap = s->cap[st->il];
    const int stride = scores_stride(s);
    float *sc = s->scores + (size_t)ith * (size_t)(stride + g->hd_k);
    float *qf = sc + stride;
    for (int item = ith; item < st->ub->n * g->n_head; item += nth) {
        int t = item / g->n_head, h = item % g->n_head, kvh = h / grp;
        int pos = st->ub->pos[t], seq = st->ub->seq[t];
        int lo = ly->swa && g->n_swa > 0 && pos - g->n_swa + 1 > 0 ? pos - g->n_swa + 1 : 0;
        int n = pos + 1 - lo;
        for (int i = 0; i < g->hd_k; i++) qf[i] = lm_f16_to_f32(s->qh[(size_t)t * QD + (size_t)(h * g->hd_k + i)]);
        const uint16_t *kbase = s->k[st->il] + (size_t)seq * (size_t)cap * (size_t)KD + (size_t)(kvh * g->hd_k);
        for (int j = lo; j <= pos; j++) sc[j - lo] = dot_f16(kbase + (size_t)(j % cap) * (size_t)KD, qf, g->hd_k);
        lm__softmax(sc, n);
        for (int j = 0; j < n; j++) sc[j] = lm_f16_to_f32(lm_f32_to_f16(sc[j]));
        /* the positions lo..pos sit at ring slots a..cap-1 then 0..b when they wrap */
        int a = lo % cap, n1 = a + n <= cap ? n : cap - a;
        const uint16_t *vrow = s->v[st->il] + ((size_t)seq * (size_t)VD + (size_t)(kvh * g->hd_v)) * (size_t)cap;
        float *out = s->att + (size_t)t * OD + (size_t)(h * g->hd_v);
        for (int d = 0; d < g->hd_v; d++) {
            const uint16_t *vr = vrow + (size_t)d * (size_t)cap;
            float o = dot_f16(vr + a, sc, n1);
            if (n1 < n) o += dot_f16(vr, sc + n1, n - n1);
            out[d] = o;
        }
    }
}

/* arch->forward. */
static int g3_forward(struct lm_ctx *c, const struct lm__ubatch *ub, float *logits_out, struct lm_error *err)
{
    const struct g3 *g = c->m->impl;
    struct g3_ctx *s = c->impl;
    struct lm_pool *pool = c->pool;
    const int n = ub->n, E = g->n_embd, F = g->n_ff;
    const int QD = g->n_head * g->hd_k, KD = g->n_head_kv * g->hd_k, VD = g->n_head_kv * g->hd_v;
    const int OD = g->n_head * g->hd_v;
    if (n > s->n_batch) return lm_error_set(err, LM_EINVAL, "gemma3: micro-batch of %d > n_batch %d", n, s->n_batch);
    pthread_once(&dot_once, pick_dot);
    /* the local rings must still hold the window before each sequence's first new token */
    for (int t = 0; t < n; t++) {
        int pos = ub->pos[t], seq = ub->seq[t];
        int need = pos - g->n_swa + 1 > 0 ? pos - g->n_swa + 1 : 0;
        if (g->n_swa > 0 && (t == 0 || ub->seq[t - 1] != seq || ub->pos[t - 1] != pos - 1) &&
            pos > 0 && need < s->ring_lo[seq])
            return lm_error_set(err, LM_EINVAL,
                                "gemma3: sequence %d was truncated behind its sliding-window cache; clear it and decode again",
                                seq);
    }
    lm_get_rows(g->tok_embd.type, g->tok_embd.data, E, ub->tokens, n, s->x);
    const float emb_scale = sqrtf((float)E);
    for (size_t i = 0; i < (size_t)n * (size_t)E; i++) s->x[i] *= emb_scale;

    struct g3_step st = {.g = g, .s = s, .ub = ub};
    for (int il = 0; il < g->n_layer; il++) {
        const struct g3_layer *ly = &g->layers[il];
        st.il = il;
        for (int t = 0; t < n; t++) rmsnorm(s->xn + (size_t)t * E, s->x + (size_t)t * E, ly->attn_norm, E, g->eps);
        lm_matmul(pool, ly->wq.type, ly->wq.data, QD, E, s->xn, n, s->q);
        lm_matmul(pool, ly->wk.type, ly->wk.data, KD, E, s->xn, n, s->kk);
        lm_matmul(pool, ly->wv.type, ly->wv.data, VD, E, s->xn, n, s->vv);
        lm_pool_run(pool, g3_qk, &st);
        lm_pool_run(pool, g3_attn, &st);
        lm_matmul(pool, ly->wo.type, ly->wo.data, E, OD, s->att, n, s->o);
        for (int t = 0; t < n; t++) {
            float *o = s->o + (size_t)t * E, *x = s->x + (size_t)t * E;
            rmsnorm(o, o, ly->post_attn_norm, E, g->eps);
            for (int i = 0; i < E; i++) x[i] = o[i] + x[i];
            rmsnorm(s->xn + (size_t)t * E, x, ly->ffn_norm, E, g->eps);
        }
        lm_matmul(pool, ly->gate.type, ly->gate.data, F, E, s->xn, n, s->g);
        lm_matmul(pool, ly->up.type, ly->up.data, F, E, s->xn, n, s->u);
        lm__geglu_f32(s->g, s->g, s->u, (int64_t)n * F);
        lm_matmul(pool, ly->down.type, ly->down.data, E, F, s->g, n, s->o);
        for (int t = 0; t < n; t++) {
            float *o = s->o + (size_t)t * E, *x = s->x + (size_t)t * E;
            rmsnorm(o, o, ly->post_ffn_norm, E, g->eps);
            for (int i = 0; i < E; i++) x[i] = o[i] + x[i];
        }
    }
    /* ring bookkeeping: positions older than (last written - cap_local) are gone */
    for (int t = 0; t < n; t++) {
        int lo = ub->pos[t] + 1 - s->cap_local;
        if (lo > s->ring_lo[ub->seq[t]]) s->ring_lo[ub->seq[t]] = lo;
    }
    if (ub->n_out == 0) return 0;
    for (int i = 0; i < ub->n_out; i++)
        rmsnorm(s->xn + (size_t)i * E, s->x + (size_t)ub->out_idx[i] * E, g->output_norm, E, g->eps);
    lm_matmul(pool, g->output.type, g->output.data, g->n_vocab, E, s->xn, ub->n_out, logits_out);
    if (g->softcap > 0.0f) {
        size_t nl = (size_t)ub->n_out * (size_t)g->n_vocab;
        for (size_t i = 0; i < nl; i++) logits_out[i] = tanhf(logits_out[i] / g->softcap) * g->softcap;
    }
    return 0;
}

const struct lm__arch lm__arch_gemma3 = {
    .name = "gemma3",
    .is_embedding = false,
    .load = g3_load,
    .free = g3_free,
    .ctx_init = g3_ctx_init,
    .ctx_free = g3_ctx_free,
    .forward = g3_forward,
    .seq_truncate = g3_seq_truncate,
};
