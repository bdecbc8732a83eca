/* kern_arm_neon_q.h — templates of the NEON products of the 32-element block types (Q4_0,
 * Q8_0 against Q8_0 activations, Q4_1 against Q8_1). DP selects SDOT; each kernel file
 * instantiates the variant its compile flags allow (see kern_arm_neon.h). */
#ifndef LM_KERN_ARM_NEON_Q_H
#define LM_KERN_ARM_NEON_Q_H

#include "kernels/kern_arm_neon.h"

/* R rows x 1..T tokens of Q4_0 x Q8_0; DP selects SDOT. */
LM_NEON_AI void tile_q4_0(int DP, int R, int T, int64_t nb, const struct lm__block_q4_0 *const *w,
                          const struct lm__block_q8_0 *const *x, float *y, int64_t ldy)
{
    float32x4_t acc[4][2];
    LM_NEON_UNROLL
    for (int r = 0; r < R; r++)
        LM_NEON_UNROLL
        for (int t = 0; t < T; t++) acc[r][t] = vdupq_n_f32(0);
    const uint8x16_t m4 = vdupq_n_u8(0x0F);
    const int8x16_t s8 = vdupq_n_s8(8);
    for (int64_t b = 0; b < nb; b++) {
        int8x16_t lo[4], hi[4];
        float dw[4];
        LM_NEON_UNROLL
        for (int r = 0; r < R; r++) {
            const uint8x16_t q = vld1q_u8(w[r][b].qs);
            lo[r] = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(q, m4)), s8);
            hi[r] = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(q, 4)), s8);
            dw[r] = lm__neon_f16(w[r][b].d);
        }
        LM_NEON_UNROLL
        for (int t = 0; t < T; t++) {
            const int8x16_t x0 = vld1q_s8(x[t][b].qs), x1 = vld1q_s8(x[t][b].qs + 16);
            const float dx = lm__neon_f16(x[t][b].d);
            LM_NEON_UNROLL
            for (int r = 0; r < R; r++) {
                int32x4_t v = vdupq_n_s32(0);
                v = lm__neon_dot(DP, v, lo[r], x0);
                v = lm__neon_dot(DP, v, hi[r], x1);
                acc[r][t] = vmlaq_n_f32(acc[r][t], vcvtq_f32_s32(v), dw[r] * dx);
            }
        }
    }
    LM_NEON_UNROLL
    for (int t = 0; t < T; t++)
        LM_NEON_UNROLL
        for (int r = 0; r < R; r++) y[t * ldy + r] = vaddvq_f32(acc[r][t]);
}

LM_NEON_AI void tile_q8_0(int DP, int R, int T, int64_t nb, const struct lm__block_q8_0 *const *w,
                          const struct lm__block_q8_0 *const *x, float *y, int64_t ldy)
{
    float32x4_t acc[4][2];
    LM_NEON_UNROLL
    for (int r = 0; r < R; r++)
        LM_NEON_UNROLL
        for (int t = 0; t < T; t++) acc[r][t] = vdupq_n_f32(0);
    for (int64_t b = 0; b < nb; b++) {
        int8x16_t w0[4], w1[4];
        float dw[4];
        LM_NEON_UNROLL
        for (int r = 0; r < R; r++) {
            w0[r] = vld1q_s8(w[r][b].qs);
            w1[r] = vld1q_s8(w[r][b].qs + 16);
            dw[r] = lm__neon_f16(w[r][b].d);
        }
        LM_NEON_UNROLL
        for (int t = 0; t < T; t++) {
            const int8x16_t x0 = vld1q_s8(x[t][b].qs), x1 = vld1q_s8(x[t][b].qs + 16);
            const float dx = lm__neon_f16(x[t][b].d);
            LM_NEON_UNROLL
            for (int r = 0; r < R; r++) {
                int32x4_t v = vdupq_n_s32(0);
                v = lm__neon_dot(DP, v, w0[r], x0);
                v = lm__neon_dot(DP, v, w1[r], x1);
                acc[r][t] = vmlaq_n_f32(acc[r][t], vcvtq_f32_s32(v), dw[r] * dx);
            }
        }
    }
    LM_NEON_UNROLL
    for (int t = 0; t < T; t++)
        LM_NEON_UNROLL
        for (int r = 0; r < R; r++) y[t * ldy + r] = vaddvq_f32(acc[r][t]);
}

/* Walks nr x nt in 4-row x 2-token tiles (edges smaller). */
#define NEON_GEMM(NAME, TILE, DP, WB)                                                                   \
    static void NAME(int64_t n, const void *w, size_t ws, int64_t nr, const void *x, size_t xs,         \
                     int64_t nt, float *y, int64_t ldy)                                                  \
    {                                                                                                    \
        const int64_t nb = n / 32;                                                                       \
        for (int64_t r0 = 0; r0 < nr; r0 += 4) {                                                         \
            const int R = nr - r0 >= 4 ? 4 : (int)(nr - r0);                                             \
            const WB *wp[4];                                                                             \
            for (int r = 0; r < 4; r++) wp[r] = (const WB *)((const char *)w + (size_t)(r0 + (r < R ? r : 0)) * ws); \
            int64_t t0 = 0;                                                                              \
            for (; t0 + 2 <= nt; t0 += 2) {                                                              \
                const struct lm__block_q8_0 *xp[2] = {                                                   \
                    (const void *)((const char *)x + (size_t)t0 * xs),                                   \
                    (const void *)((const char *)x + (size_t)(t0 + 1) * xs)};                            \
                if (R == 4) TILE(DP, 4, 2, nb, wp, xp, y + t0 * ldy + r0, ldy);                          \
                else for (int r = 0; r < R; r++) TILE(DP, 1, 2, nb, wp + r, xp, y + t0 * ldy + r0 + r, ldy); \
            }                                                                                            \
            if (t0 < nt) {                                                                               \
                const struct lm__block_q8_0 *xp[1] = {(const void *)((const char *)x + (size_t)t0 * xs)}; \
                if (R == 4) TILE(DP, 4, 1, nb, wp, xp, y + t0 * ldy + r0, ldy);                          \
                else for (int r = 0; r < R; r++) TILE(DP, 1, 1, nb, wp + r, xp, y + t0 * ldy + r0 + r, ldy); \
            }                                                                                            \
        }                                                                                                \
    }

/* 4 rows x T (1..4, a constant per instantiation) tokens of Q4_1 x Q8_1:
 * d*dx*dot(q, xq) + m*sx per block. Rows are the lanes of the accumulators: the four rows'
 * integer dot products are folded into one vector (ADDP) so each token costs one convert and
 * two FMAs per block. Rows past the edge point at a valid row; only R lanes are stored. */
LM_NEON_AI void tile_q4_1(int DP, int R, int T, int64_t nb, const struct lm__block_q4_1 *const *w,
                          const struct lm__block_q8_1 *const *x, float *y, int64_t ldy)
{
    float32x4_t acc[4];
    LM_NEON_UNROLL
    for (int t = 0; t < T; t++) acc[t] = vdupq_n_f32(0);
    const uint8x16_t m4 = vdupq_n_u8(0x0F);
    for (int64_t b = 0; b < nb; b++) {
        int8x16_t lo[4], hi[4];
        LM_NEON_UNROLL
        for (int r = 0; r < 4; r++) {
            const uint8x16_t q = vld1q_u8(w[r][b].qs);
            lo[r] = vreinterpretq_s8_u8(vandq_u8(q, m4));
            hi[r] = vreinterpretq_s8_u8(vshrq_n_u8(q, 4));
        }
        const float32x4_t dw = lm__neon_f16x4(w[0][b].d, w[1][b].d, w[2][b].d, w[3][b].d);
        const float32x4_t mw = lm__neon_f16x4(w[0][b].m, w[1][b].m, w[2][b].m, w[3][b].m);
        LM_NEON_UNROLL
        for (int t = 0; t < T; t++) {
            const int8x16_t x0 = vld1q_s8(x[t][b].qs), x1 = vld1q_s8(x[t][b].qs + 16);
            int32x4_t v[4];
            LM_NEON_UNROLL
            for (int r = 0; r < 4; r++)
                v[r] = lm__neon_dot(DP, lm__neon_dot(DP, vdupq_n_s32(0), lo[r], x0), hi[r], x1);
            const int32x4_t s = lm__neon_hsum4_s32(v[0], v[1], v[2], v[3]);
            acc[t] = vfmaq_f32(acc[t], vcvtq_f32_s32(s), vmulq_n_f32(dw, lm__neon_f16(x[t][b].d)));
            acc[t] = vfmaq_n_f32(acc[t], mw, lm__neon_f16(x[t][b].s));
        }
    }
    LM_NEON_UNROLL
    for (int t = 0; t < T; t++) lm__neon_store_lanes(y + t * ldy, acc[t], R);
}

/* Walks nr x nt in 4-row x 4-token tiles; the token count of a tile is a constant in each
 * instantiation, so generation (one token) does no padded work. */
#define NEON_GEMM4(NAME, TILE, DP, WB, XB, QK)                                                          \
    static void NAME(int64_t n, const void *w, size_t ws, int64_t nr, const void *x, size_t xs,         \
                     int64_t nt, float *y, int64_t ldy)                                                  \
    {                                                                                                    \
        const int64_t nb = n / (QK);                                                                     \
        for (int64_t r0 = 0; r0 < nr; r0 += 4) {                                                         \
            const int R = nr - r0 >= 4 ? 4 : (int)(nr - r0);                                             \
            const WB *wp[4];                                                                             \
            for (int r = 0; r < 4; r++) wp[r] = (const WB *)((const char *)w + (size_t)(r0 + (r < R ? r : 0)) * ws); \
            for (int64_t t0 = 0; t0 < nt; t0 += 4) {                                                     \
                const int T = nt - t0 >= 4 ? 4 : (int)(nt - t0);                                         \
                const XB *xp[4];                                                                         \
                for (int t = 0; t < 4; t++) xp[t] = (const XB *)((const char *)x + (size_t)(t0 + (t < T ? t : 0)) * xs); \
                float *yt = y + t0 * ldy + r0;                                                           \
                switch (T) {                                                                             \
                case 4: TILE(DP, R, 4, nb, wp, xp, yt, ldy); break;                                      \
                case 3: TILE(DP, R, 3, nb, wp, xp, yt, ldy); break;                                      \
                case 2: TILE(DP, R, 2, nb, wp, xp, yt, ldy); break;                                      \
                default: TILE(DP, R, 1, nb, wp, xp, yt, ldy); break;                                     \
                }                                                                                        \
            }                                                                                            \
        }                                                                                                \
    }

#endif
