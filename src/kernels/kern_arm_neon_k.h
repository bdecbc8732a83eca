/* kern_arm_neon_k.h — templates of the NEON K-quant products (Q4_K, Q5_K, Q6_K against Q8_K
 * activations). One weight row is unpacked to int8 once per 256-element block and multiplied
 * with up to 4 tokens, so prompt processing reuses each unpacked block 4 times. DP selects
 * SDOT; each kernel file instantiates the variant its compile flags allow (kern_arm_neon.h).
 *
 * Float order: NOT llama.cpp's on ARM (only its x86 order is matched bit for bit, by kern_x86.h;
 * the scalar kernels follow ggml's generic C). Here each block adds 4 float lanes with one fma
 * each (Q4_K/Q5_K: lane k = sub-blocks k and k+4, then an fms of the min corrections into the
 * same lanes), and the lanes are summed at the end. llama.cpp on ARM64, for matrices with a
 * multiple of 8 rows, repacks Q4_K, Q5_K and Q6_K (8x8 blocks with i8mm, 8x4 with dotprod only)
 * and otherwise runs its NEON vec_dot (Q4_K there: exact per-block integer sums into one float,
 * the min correction subtracted and then d*sum added, block by block). Matching those paths needs
 * a kernel per path chosen by the same CPU features and row counts, and a check against the
 * arm64 ggml library under emulation; until then, NEON K-quant results agree with llama.cpp
 * only to the last bits (parity goldens come from its x86 build). */
#ifndef LM_KERN_ARM_NEON_K_H
#define LM_KERN_ARM_NEON_K_H

#include <string.h>

#include "kernels/kern_arm_neon.h"

/* One Q4_K (Q5 = 0) or Q5_K (Q5 = 1) row against T (1..4, constant) tokens: y[t*ldy].
 * Per block: q[2s], q[2s+1] hold the 32 values (0..15 or 0..31) of sub-block s; the eight
 * sub-block dot products are folded into two vectors (ADDP) and scaled with MUL/MLA, the mins
 * term comes from the activation block sums (pairs added with ADDP, SMULL/SMLAL2 by the mins). */
LM_NEON_AI void row_q45_K(int DP, int Q5, int T, int64_t nb, const void *wv,
                          const struct lm__block_q8_K *const *x, float *y, int64_t ldy)
{
    const struct lm__block_q4_K *w4 = wv;
    const struct lm__block_q5_K *w5 = wv;
    const uint8x16_t m4 = vdupq_n_u8(0x0F), one = vdupq_n_u8(1);
    float32x4_t acc[4];
    LM_NEON_UNROLL
    for (int t = 0; t < T; t++) acc[t] = vdupq_n_f32(0);
    for (int64_t i = 0; i < nb; i++) {
        const uint8_t *qs = Q5 ? w5[i].qs : w4[i].qs;
        uint8_t sm[16];
        lm__k4_scales(Q5 ? w5[i].scales : w4[i].scales, sm);
        const int16x8_t sc16 = vreinterpretq_s16_u16(vmovl_u8(vld1_u8(sm)));
        const int32x4_t sc_lo = vmovl_s16(vget_low_s16(sc16)), sc_hi = vmovl_high_s16(sc16);
        const int16x8_t mins = vreinterpretq_s16_u16(vmovl_u8(vld1_u8(sm + 8)));
        const float dw = lm__neon_f16(Q5 ? w5[i].d : w4[i].d), dmw = lm__neon_f16(Q5 ? w5[i].dmin : w4[i].dmin);
        uint8x16_t h0 = vdupq_n_u8(0), h1 = vdupq_n_u8(0);
        if (Q5) {
            h0 = vld1q_u8(w5[i].qh);
            h1 = vld1q_u8(w5[i].qh + 16);
        }
        int8x16_t q[16];
        LM_NEON_UNROLL
        for (int j = 0; j < 4; j++) {
            const uint8x16_t q0 = vld1q_u8(qs + 32 * j), q1 = vld1q_u8(qs + 32 * j + 16);
            uint8x16_t l0 = vandq_u8(q0, m4), l1 = vandq_u8(q1, m4);
            uint8x16_t u0 = vshrq_n_u8(q0, 4), u1 = vshrq_n_u8(q1, 4);
            if (Q5) {       /* bit 2j of qh[l] is bit 4 of element 64j+l, bit 2j+1 of 64j+32+l */
                l0 = vorrq_u8(l0, vshlq_n_u8(vandq_u8(h0, one), 4));
                l1 = vorrq_u8(l1, vshlq_n_u8(vandq_u8(h1, one), 4));
                u0 = vorrq_u8(u0, vshlq_n_u8(vandq_u8(vshrq_n_u8(h0, 1), one), 4));
                u1 = vorrq_u8(u1, vshlq_n_u8(vandq_u8(vshrq_n_u8(h1, 1), one), 4));
                h0 = vshrq_n_u8(h0, 2);
                h1 = vshrq_n_u8(h1, 2);
            }
            q[4 * j + 0] = vreinterpretq_s8_u8(l0);
            q[4 * j + 1] = vreinterpretq_s8_u8(l1);
            q[4 * j + 2] = vreinterpretq_s8_u8(u0);
            q[4 * j + 3] = vreinterpretq_s8_u8(u1);
        }
        LM_NEON_UNROLL
        for (int t = 0; t < T; t++) {
            const struct lm__block_q8_K *xb = &x[t][i];
            int32x4_t p[8];
            LM_NEON_UNROLL
            for (int s = 0; s < 8; s++) {
                int32x4_t v = lm__neon_dot(DP, vdupq_n_s32(0), q[2 * s], vld1q_s8(xb->qs + 32 * s));
                p[s] = lm__neon_dot(DP, v, q[2 * s + 1], vld1q_s8(xb->qs + 32 * s + 16));
            }
            int32x4_t isum = vmulq_s32(lm__neon_hsum4_s32(p[0], p[1], p[2], p[3]), sc_lo);
            isum = vmlaq_s32(isum, lm__neon_hsum4_s32(p[4], p[5], p[6], p[7]), sc_hi);
            const int16x8_t bs = vpaddq_s16(vld1q_s16(xb->bsums), vld1q_s16(xb->bsums + 8));
            const int32x4_t mm = vmlal_high_s16(vmull_s16(vget_low_s16(bs), vget_low_s16(mins)), bs, mins);
            acc[t] = vfmaq_n_f32(acc[t], vcvtq_f32_s32(isum), dw * xb->d);
            acc[t] = vfmsq_f32(acc[t], vcvtq_f32_s32(mm), vdupq_n_f32(dmw * xb->d));
        }
    }
    LM_NEON_UNROLL
    for (int t = 0; t < T; t++) y[t * ldy] = vaddvq_f32(acc[t]);
}

LM_NEON_AI void row_q4_K(int DP, int T, int64_t nb, const void *w, const struct lm__block_q8_K *const *x,
                         float *y, int64_t ldy)
{
    row_q45_K(DP, 0, T, nb, w, x, y, ldy);
}

LM_NEON_AI void row_q5_K(int DP, int T, int64_t nb, const void *w, const struct lm__block_q8_K *const *x,
                         float *y, int64_t ldy)
{
    row_q45_K(DP, 1, T, nb, w, x, y, ldy);
}

/* One Q6_K row against T (1..4, constant) tokens. Values q-32 in -32..31 are signed bytes; q[v]
 * holds elements 16v..16v+15, whose scale is scales[v], so groups of four dot products are
 * folded (ADDP) and multiplied by four widened scales at once. */
LM_NEON_AI void row_q6_K(int DP, int T, int64_t nb, const void *wv, const struct lm__block_q8_K *const *x,
                         float *y, int64_t ldy)
{
    const struct lm__block_q6_K *w = wv;
    const uint8x16_t m4 = vdupq_n_u8(0x0F), m2 = vdupq_n_u8(3);
    const int8x16_t s32 = vdupq_n_s8(32);
    float32x4_t acc[4];
    LM_NEON_UNROLL
    for (int t = 0; t < T; t++) acc[t] = vdupq_n_f32(0);
    for (int64_t i = 0; i < nb; i++) {
        int8x16_t q[16];
        LM_NEON_UNROLL
        for (int h = 0; h < 2; h++) {
            const uint8_t *ql = w[i].ql + 64 * h, *qh = w[i].qh + 32 * h;
            LM_NEON_UNROLL
            for (int u = 0; u < 2; u++) {
                const uint8x16_t l0 = vld1q_u8(ql + 16 * u), l1 = vld1q_u8(ql + 32 + 16 * u);
                const uint8x16_t hb = vld1q_u8(qh + 16 * u);
                const uint8x16_t a = vorrq_u8(vandq_u8(l0, m4), vshlq_n_u8(vandq_u8(hb, m2), 4));
                const uint8x16_t b = vorrq_u8(vandq_u8(l1, m4), vshlq_n_u8(vandq_u8(vshrq_n_u8(hb, 2), m2), 4));
                const uint8x16_t c = vorrq_u8(vshrq_n_u8(l0, 4), vshlq_n_u8(vandq_u8(vshrq_n_u8(hb, 4), m2), 4));
                const uint8x16_t d = vorrq_u8(vshrq_n_u8(l1, 4), vshlq_n_u8(vshrq_n_u8(hb, 6), 4));
                q[8 * h + 0 + u] = vsubq_s8(vreinterpretq_s8_u8(a), s32);
                q[8 * h + 2 + u] = vsubq_s8(vreinterpretq_s8_u8(b), s32);
                q[8 * h + 4 + u] = vsubq_s8(vreinterpretq_s8_u8(c), s32);
                q[8 * h + 6 + u] = vsubq_s8(vreinterpretq_s8_u8(d), s32);
            }
        }
        const int8x16_t sc8 = vld1q_s8(w[i].scales);
        const int16x8_t s_lo = vmovl_s8(vget_low_s8(sc8)), s_hi = vmovl_high_s8(sc8);
        const int32x4_t sc[4] = {vmovl_s16(vget_low_s16(s_lo)), vmovl_high_s16(s_lo),
                                 vmovl_s16(vget_low_s16(s_hi)), vmovl_high_s16(s_hi)};
        const float dw = lm__neon_f16(w[i].d);
        LM_NEON_UNROLL
        for (int t = 0; t < T; t++) {
            const struct lm__block_q8_K *xb = &x[t][i];
            int32x4_t isum = vdupq_n_s32(0);
            LM_NEON_UNROLL
            for (int g = 0; g < 4; g++) {
                int32x4_t p[4];
                LM_NEON_UNROLL
                for (int k = 0; k < 4; k++)
                    p[k] = lm__neon_dot(DP, vdupq_n_s32(0), q[4 * g + k], vld1q_s8(xb->qs + 64 * g + 16 * k));
                isum = vmlaq_s32(isum, lm__neon_hsum4_s32(p[0], p[1], p[2], p[3]), sc[g]);
            }
            acc[t] = vfmaq_n_f32(acc[t], vcvtq_f32_s32(isum), dw * xb->d);
        }
    }
    LM_NEON_UNROLL
    for (int t = 0; t < T; t++) y[t * ldy] = vaddvq_f32(acc[t]);
}

/* Tokens in groups of 4 (a constant token count per instantiation), outer so the group's
 * activation blocks stay in L1, against every row in turn. */
#define NEON_K_GEMM(NAME, ROW, DP)                                                                      \
    static void NAME(int64_t n, const void *w, size_t ws, int64_t nr, const void *x, size_t xs,         \
                     int64_t nt, float *y, int64_t ldy)                                                 \
    {                                                                                                   \
        const int64_t nb = n / LM_QK_K;                                                                 \
        for (int64_t t0 = 0; t0 < nt; t0 += 4) {                                                        \
            const int T = nt - t0 >= 4 ? 4 : (int)(nt - t0);                                            \
            const struct lm__block_q8_K *xp[4];                                                         \
            for (int t = 0; t < 4; t++)                                                                 \
                xp[t] = (const void *)((const char *)x + (size_t)(t0 + (t < T ? t : 0)) * xs);          \
            for (int64_t r = 0; r < nr; r++) {                                                          \
                const void *wr = (const char *)w + (size_t)r * ws;                                      \
                float *yt = y + t0 * ldy + r;                                                           \
                switch (T) {                                                                            \
                case 4: ROW(DP, 4, nb, wr, xp, yt, ldy); break;                                         \
                case 3: ROW(DP, 3, nb, wr, xp, yt, ldy); break;                                         \
                case 2: ROW(DP, 2, nb, wr, xp, yt, ldy); break;                                         \
                default: ROW(DP, 1, nb, wr, xp, yt, ldy); break;                                        \
                }                                                                                       \
            }                                                                                           \
        }                                                                                               \
    }

#endif
