/* kv.c — the f16 KV cache and attention over it (see model_internal.h). The query and the
 * probabilities are rounded to f16 exactly where llama.cpp's (non flash-attention) graph
 * rounds them, then dotted with the f16 cache rows in f32 (F16C + FMA where available). */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "engine/kv_internal.h"
#include "engine/model_internal.h"
#include "lm/cpu.h"
#include "lm/pool.h"

int lm__kv_init(struct lm__kv *kv, int n_layer, int n_seq, int n_ctx, int n_head_kv, int hd_k, int hd_v,
                struct lm_error *err)
{
    memset(kv, 0, sizeof *kv);
    size_t per = (size_t)n_layer * (size_t)n_seq * (size_t)n_ctx * (size_t)n_head_kv;
    kv->k = calloc(per * (size_t)hd_k, sizeof *kv->k);
    kv->v = calloc(per * (size_t)hd_v, sizeof *kv->v);
    if (!kv->k || !kv->v) {
        lm__kv_free(kv);
        return lm_error_set(err, LM_ENOMEM, "kv cache: cannot allocate %zu MiB",
                            per * (size_t)(hd_k + hd_v) * 2 >> 20);
    }
    kv->n_layer = n_layer;
    kv->n_seq = n_seq;
    kv->n_ctx = n_ctx;
    kv->n_head_kv = n_head_kv;
    kv->hd_k = hd_k;
    kv->hd_v = hd_v;
    return 0;
}

void lm__kv_free(struct lm__kv *kv)
{
    free(kv->k);
    free(kv->v);
    kv->k = kv->v = NULL;
}

/* First element of the (layer, seq, head) block: K rows [n_ctx][hd_k] or V^T [hd_v][n_ctx]. */
static size_t block(const struct lm__kv *kv, int il, int seq, int h, int hd)
{
    return ((((size_t)il * (size_t)kv->n_seq + (size_t)seq) * (size_t)kv->n_head_kv + (size_t)h) *
            (size_t)kv->n_ctx) * (size_t)hd;
}


/* sum a[i] * b[i], a in f16: the scalar reference. */
static float dot_f16_f32_ref(const uint16_t *a, const float *b, int n)
{
    float r = 0;
    for (int i = 0; i < n; i++) r += lm_f16_to_f32(a[i]) * b[i];
    return r;
}

/* x rounded through f16, as ggml rounds a matmul's f32 operand against f16 data. */
static void round_f16_ref(float *dst, const float *x, int n)
{
    for (int i = 0; i < n; i++) dst[i] = lm_f16_to_f32(lm_f32_to_f16(x[i]));
}

static void to_f16_ref(uint16_t *dst, const float *x, int n)
{
    for (int i = 0; i < n; i++) dst[i] = lm_f32_to_f16(x[i]);
}

typedef float (*dot_f16_fn)(const uint16_t *a, const float *b, int n);
static dot_f16_fn dot_f16 = dot_f16_f32_ref;

/* out[h] = dot_f16(a, b + h * ldb, n) for h < G. */
static void dot_f16_multi_ref(const uint16_t *a, const float *b, int ldb, int G, int n, float *out)
{
    for (int h = 0; h < G; h++) out[h] = dot_f16(a, b + (size_t)h * (size_t)ldb, n);
}
static void (*dot_f16_multi)(const uint16_t *a, const float *b, int ldb, int G, int n, float *out) = dot_f16_multi_ref;
static void (*round_f16)(float *dst, const float *x, int n) = round_f16_ref;
static void (*to_f16)(uint16_t *dst, const float *x, int n) = to_f16_ref;
static pthread_once_t dot_once = PTHREAD_ONCE_INIT;

static void pick_dot(void)
{
#if defined(__x86_64__)
    const struct lm_cpu_features *f = lm_cpu_features();
    if (f->avx2 && f->fma && f->f16c) {
        dot_f16 = lm__dot_f16_f32_avx2;
        dot_f16_multi = lm__dot_f16_f32_multi_avx2;
        round_f16 = lm__round_f16_avx2;
        to_f16 = lm__to_f16_avx2;
    }
#endif
}

void lm__kv_store(struct lm__kv *kv, int il, int seq, int pos, const float *k, const float *v)
{
    pthread_once(&dot_once, pick_dot);
    for (int h = 0; h < kv->n_head_kv; h++) {
        uint16_t *kd = kv->k + block(kv, il, seq, h, kv->hd_k) + (size_t)pos * (size_t)kv->hd_k;
        to_f16(kd, k + (size_t)h * (size_t)kv->hd_k, kv->hd_k);
        uint16_t *vd = kv->v + block(kv, il, seq, h, kv->hd_v) + (size_t)pos;
        for (int d = 0; d < kv->hd_v; d++) vd[(size_t)d * (size_t)kv->n_ctx] = lm_f32_to_f16(v[h * kv->hd_v + d]);
    }
}

struct attn_job {
    const struct lm__attn *a;
};

/* One (token, head) the way ggml's CPU flash attention computes it with an f16 V cache:
 * online softmax, the weighted V sum kept in f16 and rounded after every fused multiply-add. */
static void attn_flash_one(const struct lm__attn *a, const uint16_t *kb, const uint16_t *vb, const float *q16, int n,
                           uint16_t *acc, float *o)
{
    const struct lm__kv *kv = a->kv;
    float S = 0, M = -INFINITY;
    for (int d = 0; d < kv->hd_v; d++) acc[d] = 0;
    for (int j = 0; j < n; j++) {
        float s = dot_f16(kb + (size_t)j * (size_t)kv->hd_k, q16, kv->hd_k) * a->scale;
        if (a->softcap > 0) s = a->softcap * tanhf(s / a->softcap);
        float ms = 1.0f, vs = 1.0f;
        if (s > M) {
            const float Mold = M;
            M = s;
            ms = expf(Mold - M);
            for (int d = 0; d < kv->hd_v; d++) acc[d] = lm_f32_to_f16(lm_f16_to_f32(acc[d]) * ms);
        } else {
            vs = expf(s - M);
        }
        for (int d = 0; d < kv->hd_v; d++)
            acc[d] = lm_f32_to_f16(fmaf(lm_f16_to_f32(vb[(size_t)d * (size_t)kv->n_ctx + (size_t)j]), vs,
                                        lm_f16_to_f32(acc[d])));
        S = S * ms + vs;
    }
    const float inv = S > 0 ? 1.0f / S : 0.0f;
    for (int d = 0; d < kv->hd_v; d++) o[d] = lm_f16_to_f32(acc[d]) * inv;
}

/* Query heads per work item: heads sharing a KV head are done together, so each K and V
 * row is converted once for up to HEADS of them. */
#define HEADS 4
/* Scratch of up to this many floats per worker lives on its stack (else one malloc per call). */
#define STACK_FLOATS 16384

/* Worker: items (token, KV head, chunk of up to HEADS of its query heads) ith, ith + nth, ...
 * Scores = K q and out = V^T p are computed with q and p rounded to f16 first, which is what
 * llama.cpp's f16 matrix products do; each dot product sums as the single-head one does. */
static void attn_worker(void *arg, int ith, int nth)
{
    const struct lm__attn *a = ((struct attn_job *)arg)->a;
    const struct lm__kv *kv = a->kv;
    const size_t need = (size_t)HEADS * ((size_t)kv->n_ctx + (size_t)kv->hd_k) + (size_t)kv->hd_v;
    float stack[STACK_FLOATS];
    float *sc = need <= STACK_FLOATS ? stack : malloc(need * sizeof *sc);
    if (!sc) return;  /* cannot happen in practice; leaves out unchanged rather than crash */
    float *q16 = sc + (size_t)HEADS * (size_t)kv->n_ctx;
    uint16_t *acc = (uint16_t *)(q16 + (size_t)HEADS * (size_t)kv->hd_k);
    const int group = a->n_head / kv->n_head_kv, n_chunk = (group + HEADS - 1) / HEADS;
    const int n_items = a->n_tok * kv->n_head_kv * n_chunk;
    for (int it = ith; it < n_items; it += nth) {
        const int t = it / (kv->n_head_kv * n_chunk), r = it % (kv->n_head_kv * n_chunk);
        const int hk = r / n_chunk, h0 = hk * group + r % n_chunk * HEADS;
        const int G = hk * group + group - h0 < HEADS ? hk * group + group - h0 : HEADS;
        const int pos = a->pos[t], seq = a->seq[t];
        int j0 = 0;
        if (a->window > 0 && pos - a->window + 1 > 0) j0 = pos - a->window + 1;
        const int n = pos + 1 - j0;
        for (int g = 0; g < G; g++)
            round_f16(q16 + (size_t)g * (size_t)kv->hd_k,
                      a->q + ((size_t)t * (size_t)a->n_head + (size_t)(h0 + g)) * (size_t)kv->hd_k, kv->hd_k);
        const uint16_t *kb = kv->k + block(kv, a->il, seq, hk, kv->hd_k) + (size_t)j0 * (size_t)kv->hd_k;
        float *o = a->out + ((size_t)t * (size_t)a->n_head + (size_t)h0) * (size_t)kv->hd_v;
        const uint16_t *vb = kv->v + block(kv, a->il, seq, hk, kv->hd_v) + (size_t)j0;
        if (a->flash) {
            for (int g = 0; g < G; g++)
                attn_flash_one(a, kb, vb, q16 + (size_t)g * (size_t)kv->hd_k, n, acc, o + (size_t)g * (size_t)kv->hd_v);
            continue;
        }
        float d[HEADS];
        for (int j = 0; j < n; j++) {
            dot_f16_multi(kb + (size_t)j * (size_t)kv->hd_k, q16, kv->hd_k, G, kv->hd_k, d);
            for (int g = 0; g < G; g++) {
                float s = d[g] * a->scale;
                if (a->softcap > 0) s = a->softcap * tanhf(s / a->softcap);
                sc[(size_t)g * (size_t)n + (size_t)j] = s;
            }
        }
        for (int g = 0; g < G; g++) {
            lm__softmax(sc + (size_t)g * (size_t)n, n);
            round_f16(sc + (size_t)g * (size_t)n, sc + (size_t)g * (size_t)n, n);
        }
        for (int dd = 0; dd < kv->hd_v; dd++) {
            dot_f16_multi(vb + (size_t)dd * (size_t)kv->n_ctx, sc, n, G, n, d);
            for (int g = 0; g < G; g++) o[(size_t)g * (size_t)kv->hd_v + (size_t)dd] = d[g];
        }
    }
    if (sc != stack) free(sc);
}

void lm__attention(struct lm_pool *pool, const struct lm__attn *a)
{
    pthread_once(&dot_once, pick_dot);
    struct attn_job job = {a};
    lm_pool_run(pool, attn_worker, &job);
}
