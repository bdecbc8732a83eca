/* The K-quant products must be bit-identical to llama.cpp's float orders, not only close: a
 * last-bit difference in one output can move a later Q8_K activation across a rounding boundary
 * and change a greedy pick many tokens on (a synthetic Q4_K model departed from llama.cpp at
 * token 17 that way). The x86 kernels follow llama.cpp's AVX2 code (Q4_K its repacked gemv/gemm,
 * Q5_K and Q6_K its plain vec_dot, see expected()); the scalar kernels follow ggml's generic C.
 * (tools/peer/kquant-vs-ggml.sh checks the same against the llama.cpp library itself.)
 *
 * Data shaped like a model's: normal weights (std 0.08) quantised by the reference quantiser,
 * activations like RMS-normed hidden states with a few large outliers, values exactly on Q8_K
 * rounding boundaries, both signs of the block maximum; 1, 2 and 8 blocks per row; token counts
 * 1..7 and 9 (the prompt path: tiles of 4 and odd remainders). The Q8_K conversion of the same
 * data must be byte-identical to the reference quantiser. */
#include <math.h>
#include <stdint.h>

#include "kernels/kern_internal.h"
#include "lm_test.h"

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static float frand(void)     /* uniform in [-1, 1) */
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (float)((rng >> 40) * (1.0 / 8388608.0)) - 1.0f;
}
static float grand(void)     /* roughly normal, std ~1 */
{
    return (frand() + frand() + frand() + frand()) * 0.8660254f;
}

/* The values (unsigned: Q6_K without its offset of 32), per-element scales and the mins of block
 * i of a K-quant row. */
struct kblock {
    int v[LM_QK_K], sc[LM_QK_K], mins[8];
    float d, dmin;
};
static void kblock_get(enum lm_type t, const void *w, int64_t i, struct kblock *o)
{
    if (t == LM_TYPE_Q6_K) {
        const struct lm__block_q6_K *b = (const struct lm__block_q6_K *)w + i;
        for (int e = 0; e < LM_QK_K; e++) {
            const int h = e / 128, r = e % 128, l = r % 32, part = r / 32;
            const uint8_t lo = b->ql[64 * h + l + (part % 2) * 32];
            o->v[e] = ((part < 2 ? lo & 0xF : lo >> 4) | (((b->qh[32 * h + l] >> (2 * part)) & 3) << 4));
            o->sc[e] = b->scales[e / 16];
        }
        o->d = lm_f16_to_f32(b->d);
        return;
    }
    const uint8_t *scales, *qs, *qh = NULL;
    if (t == LM_TYPE_Q4_K) {
        const struct lm__block_q4_K *b = (const struct lm__block_q4_K *)w + i;
        scales = b->scales; qs = b->qs; o->d = lm_f16_to_f32(b->d); o->dmin = lm_f16_to_f32(b->dmin);
    } else {
        const struct lm__block_q5_K *b = (const struct lm__block_q5_K *)w + i;
        scales = b->scales; qs = b->qs; qh = b->qh; o->d = lm_f16_to_f32(b->d); o->dmin = lm_f16_to_f32(b->dmin);
    }
    for (int j = 0; j < 8; j++) {
        uint8_t sc, m;
        lm__scale_min_k4(j, scales, &sc, &m);
        o->mins[j] = m;
        for (int l = 0; l < 32; l++) {
            int q = j % 2 ? qs[32 * (j / 2) + l] >> 4 : qs[32 * (j / 2) + l] & 0xF;
            if (qh) q += ((qh[l] >> j) & 1) << 4;
            o->v[32 * j + l] = q;
            o->sc[32 * j + l] = sc;
        }
    }
}

/* hsum_float_8's order: high half plus low half, then lanes 0+2 and 1+3, then those two. */
static float hsum8(const float v[8])
{
    float h[4];
    for (int k = 0; k < 4; k++) h[k] = v[4 + k] + v[k];
    return (h[0] + h[2]) + (h[1] + h[3]);
}

/* The expected product of one row and one activation row.
 * x86 = 1: llama.cpp's AVX2 orders. Q4_K as its repacked gemv/gemm (exact block sums, two fused
 * accumulations, difference at the end); Q5_K and Q6_K as ggml_vec_dot_q5_K/q6_K_q8_K (not
 * repacked there): 8 i32 lanes per block (lane k: bytes 4k..4k+3 of each 32-value group; Q6_K's
 * lane k less 32 * the scaled bsums of sub-blocks 2k, 2k+1), accumulated per lane with one fma
 * by d_w*d_x, the lanes summed as hsum_float_8, plus (Q5_K) the exact min sums accumulated with
 * one fma by -d_x*dmin_w.
 * x86 = 0: ggml's generic C as built with fused multiply-adds: lane l holds the elements l mod 8
 * (Q6_K with its offset), one fma per lane and block, the mins subtracted from a separate float
 * with one fma, then the lanes added to it in order. */
static float expected(int x86, enum lm_type t, int64_t n, const void *w, const struct lm__block_q8_K *a)
{
    float s = 0, m = 0, lanes[8] = {0};
    for (int64_t i = 0; i < n / LM_QK_K; i++) {
        struct kblock b;
        kblock_get(t, w, i, &b);
        int32_t lane[8] = {0}, sumi = 0, summ = 0;
        for (int e = 0; e < LM_QK_K; e++) {
            const int v = t == LM_TYPE_Q6_K && !x86 ? b.v[e] - 32 : b.v[e];
            const int32_t p = b.sc[e] * v * a[i].qs[e];
            lane[x86 ? (e % 32) / 4 : e % 8] += p;
            sumi += p;
        }
        if (t != LM_TYPE_Q6_K)
            for (int j = 0; j < 8; j++) summ += b.mins[j] * (a[i].bsums[2 * j] + a[i].bsums[2 * j + 1]);
        if (x86 && t == LM_TYPE_Q4_K) {
            s = fmaf((float)sumi, b.d * a[i].d, s);
            m = fmaf((float)summ, b.dmin * a[i].d, m);
            continue;
        }
        if (x86 && t == LM_TYPE_Q6_K)
            for (int k = 0; k < 8; k++)
                lane[k] -= 32 * (b.sc[32 * k] * a[i].bsums[2 * k] + b.sc[32 * k + 16] * a[i].bsums[2 * k + 1]);
        const float d = x86 ? a[i].d * b.d : b.d * a[i].d;
        for (int k = 0; k < 8; k++) lanes[k] = fmaf(d, (float)lane[k], lanes[k]);
        if (t != LM_TYPE_Q6_K) m = fmaf(-(x86 ? a[i].d * b.dmin : b.dmin * a[i].d), (float)summ, m);
    }
    if (x86) return t == LM_TYPE_Q4_K ? s - m : hsum8(lanes) + m;
    for (int k = 0; k < 8; k++) m += lanes[k];
    return m;
}

/* Activation rows: hidden-state-like values, outliers, rounding boundaries, max of either sign. */
static void fill_activations(float *x, int64_t n, int64_t nt)
{
    for (int64_t t = 0; t < nt; t++) {
        float *r = x + t * n;
        for (int64_t i = 0; i < n; i++) r[i] = grand();
        for (int64_t b = 0; b < n / LM_QK_K; b++) {
            float *blk = r + b * LM_QK_K;
            const float mx = (t + b) % 2 ? 9.5f : -9.5f;        /* the outlier sets the scale */
            blk[(t * 37 + b * 11) % LM_QK_K] = mx;
            if (t % 3 == 0) blk[(t * 53 + 200) % LM_QK_K] = -mx; /* the same magnitude, other sign */
            /* values that scale to k + 0.5 exactly: ties, rounded to even */
            const float step = fabsf(mx) / 127.0f;
            for (int k = 0; k < 8; k++) blk[(17 * k + 3 + t) % LM_QK_K] = step * ((float)(k * 9 - 30) + 0.5f);
            if (t == 2) for (int i = 0; i < 16; i++) blk[64 + i] = 0;   /* a zero group */
        }
    }
}

static int check_level(int level, const char *lv, int x86)
{
    struct lm__kern k;
    if (lm__kern_build(&k, level) != 0) {
        fprintf(stderr, "-- %s: not available here\n", lv);
        return 0;
    }
    fprintf(stderr, "-- %s\n", lv);
    const enum lm_type types[] = {LM_TYPE_Q4_K, LM_TYPE_Q5_K, LM_TYPE_Q6_K};
    const int64_t cols[] = {256, 512, 2048};
    const int64_t toks[] = {1, 2, 3, 4, 5, 6, 7, 9};
    enum { NR = 13, NT = 9 };
    for (size_t ci = 0; ci < sizeof cols / sizeof cols[0]; ci++) {
        const int64_t n = cols[ci];
        const size_t xs = lm_row_size(LM_TYPE_Q8_K, n);
        float *xf = malloc(sizeof(float) * (size_t)(n * NT)), *wf = malloc(sizeof(float) * (size_t)n);
        uint8_t *xa = malloc(xs * NT), *xb = malloc(xs * NT);
        ASSERT(xf && wf && xa && xb);
        fill_activations(xf, n, NT);
        for (int t = 0; t < NT; t++) {
            lm__kern_ref.from_float[LM_TYPE_Q8_K](xf + t * n, xa + (size_t)t * xs, n);
            k.from_float[LM_TYPE_Q8_K](xf + t * n, xb + (size_t)t * xs, n);
        }
        if (memcmp(xa, xb, xs * NT)) LM_FAIL_("%s Q8_K n=%d: conversion differs from the reference", lv, (int)n);
        for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
            const enum lm_type t = types[ti];
            const size_t ws = lm_row_size(t, n);
            uint8_t *w = malloc(ws * NR);
            ASSERT(w);
            for (int r = 0; r < NR; r++) {
                for (int64_t i = 0; i < n; i++) wf[i] = grand() * 0.08f;
                lm_quantize_row(t, wf, w + (size_t)r * ws, n);
            }
            for (size_t k2 = 0; k2 < sizeof toks / sizeof toks[0]; k2++) {
                const int64_t T = toks[k2];
                for (int64_t R = 1; R <= NR; R += 4) {
                    float y[NT * (NR + 1)];
                    const int64_t ldy = R + 1;
                    k.gemm[t](n, w, ws, R, xa, xs, T, y, ldy);
                    for (int64_t tt = 0; tt < T; tt++)
                        for (int64_t r = 0; r < R; r++) {
                            const float want = expected(x86, t, n, w + (size_t)r * ws,
                                                        (const struct lm__block_q8_K *)(xa + (size_t)tt * xs));
                            const float got = y[tt * ldy + r];
                            if (memcmp(&want, &got, sizeof got))
                                LM_FAIL_("%s %s n=%d R=%d T=%d r=%d t=%d: %.9g, llama.cpp's order gives %.9g", lv,
                                         lm_type_traits(t)->name, (int)n, (int)R, (int)T, (int)r, (int)tt, got, want);
                        }
                }
            }
            free(w);
        }
        free(xf); free(wf); free(xa); free(xb);
    }
    return 1;
}

int main(void)
{
    ASSERT(check_level(LM__KERN_REF, "scalar", 0));
#if defined(__x86_64__)
    int tested = check_level(LM__KERN_AVX2, "avx2", 1);
    tested += check_level(LM__KERN_AVX512, "avx512", 1);
    tested += check_level(LM__KERN_AVX512VNNI, "avx512vnni", 1);
    fprintf(stderr, "%d x86 kernel sets tested\n", tested);
    if (!getenv("LM_CPU_DISABLE")) ASSERT(tested > 0);
#else
    fprintf(stderr, "not x86: only the scalar kernels' order is checked here\n");
#endif
    return 0;
}
