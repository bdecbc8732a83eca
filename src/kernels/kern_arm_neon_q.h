/* kern_arm_neon_q.h — templates of the NEON products of the 32-element block types (Q4_0,
 * Q8_0 against Q8_0 activations, Q4_1 against Q8_1). DP selects SDOT; each kernel file
 * instantiates the variant its compile flags allow (see kern_arm_neon.h). */
#ifndef LM_KERN_ARM_NEON_Q_H
#define LM_KERN_ARM_NEON_Q_H

#include "kernels/kern_arm_neon.h"

/* acc + the four rows' integer dot products with one token's block (lo/hi: the rows' first
 * and second 16 values, x0/x1 the token's), folded into one vector (ADDP) whose lane r is row r,
 * converted and scaled by the rows' scales times the token's: one SCVTF, FMUL, FMLA per block. */
LM_NEON_AI float32x4_t acc_rows4(int DP, float32x4_t acc, const int8x16_t *lo, const int8x16_t *hi,
                                 int8x16_t x0, int8x16_t x1, float32x4_t dw, float dx)
{
    int32x4_t v[4];
    LM_NEON_UNROLL
    for (int r = 0; r < 4; r++) v[r] = lm__neon_dot(DP, lm__neon_dot(DP, vdupq_n_s32(0), lo[r], x0), hi[r], x1);
    const int32x4_t s = lm__neon_hsum4_s32(v[0], v[1], v[2], v[3]);
    return vfmaq_f32(acc, vcvtq_f32_s32(s), vmulq_n_f32(dw, dx));
}

/* 4 rows x T (1..4, a constant per instantiation) tokens of Q4_0 x Q8_0: rows are the lanes of
 * the accumulators. Rows past the edge point at a valid row; only R lanes are stored. */
LM_NEON_AI void tile_q4_0(int DP, int R, int T, int64_t nb, const struct lm__block_q4_0 *const *w,
                          const struct lm__block_q8_0 *const *x, float *y, int64_t ldy)
{
    float32x4_t acc[4];
    LM_NEON_UNROLL
    for (int t = 0; t < T; t++) acc[t] = vdupq_n_f32(0);
    const uint8x16_t m4 = vdupq_n_u8(0x0F);
    const int8x16_t s8 = vdupq_n_s8(8);
    for (int64_t b = 0; b < nb; b++) {
        int8x16_t lo[4], hi[4];
        LM_NEON_UNROLL
        for (int r = 0; r < 4; r++) {
            const uint8x16_t q = vld1q_u8(w[r][b].qs);
            lo[r] = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(q, m4)), s8);
            hi[r] = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(q, 4)), s8);
        }
        const float32x4_t dw = lm__neon_f16x4(w[0][b].d, w[1][b].d, w[2][b].d, w[3][b].d);
        LM_NEON_UNROLL
        for (int t = 0; t < T; t++)
            acc[t] = acc_rows4(DP, acc[t], lo, hi, vld1q_s8(x[t][b].qs), vld1q_s8(x[t][b].qs + 16), dw,
                               lm__neon_f16(x[t][b].d));
    }
    LM_NEON_UNROLL
    for (int t = 0; t < T; t++) lm__neon_store_lanes(y + t * ldy, acc[t], R);
}

/* 4 rows x T tokens of Q8_0 x Q8_0, as tile_q4_0. */
LM_NEON_AI void tile_q8_0(int DP, int R, int T, int64_t nb, const struct lm__block_q8_0 *const *w,
                          const struct lm__block_q8_0 *const *x, float *y, int64_t ldy)
{
    float32x4_t acc[4];
    LM_NEON_UNROLL
    for (int t = 0; t < T; t++) acc[t] = vdupq_n_f32(0);
    for (int64_t b = 0; b < nb; b++) {
        int8x16_t w0[4], w1[4];
        LM_NEON_UNROLL
        for (int r = 0; r < 4; r++) {
            w0[r] = vld1q_s8(w[r][b].qs);
            w1[r] = vld1q_s8(w[r][b].qs + 16);
        }
        const float32x4_t dw = lm__neon_f16x4(w[0][b].d, w[1][b].d, w[2][b].d, w[3][b].d);
        LM_NEON_UNROLL
        for (int t = 0; t < T; t++)
            acc[t] = acc_rows4(DP, acc[t], w0, w1, vld1q_s8(x[t][b].qs), vld1q_s8(x[t][b].qs + 16), dw,
                               lm__neon_f16(x[t][b].d));
    }
    LM_NEON_UNROLL
    for (int t = 0; t < T; t++) lm__neon_store_lanes(y + t * ldy, acc[t], R);
}

/* 4 rows x T tokens of Q4_1 x Q8_1: d*dx*dot(q, xq) + m*sx per block, as tile_q4_0 plus the
 * mins term (one more FMLA). */
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
            acc[t] = acc_rows4(DP, acc[t], lo, hi, vld1q_s8(x[t][b].qs), vld1q_s8(x[t][b].qs + 16), dw,
                               lm__neon_f16(x[t][b].d));
            acc[t] = vfmaq_n_f32(acc[t], mw, lm__neon_f16(x[t][b].s));
        }
    }
    LM_NEON_UNROLL
    for (int t = 0; t < T; t++) lm__neon_store_lanes(y + t * ldy, acc[t], R);
}

/* Walks nr x nt in 4-row x 4-token tiles, token groups outer so their activations stay in L1
 * while the weight rows stream past; the token count of a tile is a constant in each
 * instantiation, so generation (one token) does no padded work. */
#define NEON_GEMM4(NAME, TILE, DP, WB, XB, QK)                                                          \
    static void NAME(int64_t n, const void *w, size_t ws, int64_t nr, const void *x, size_t xs,         \
                     int64_t nt, float *y, int64_t ldy)                                                 \
    {                                                                                                   \
        const int64_t nb = n / (QK);                                                                    \
        for (int64_t t0 = 0; t0 < nt; t0 += 4) {                                                        \
            const int T = nt - t0 >= 4 ? 4 : (int)(nt - t0);                                            \
            const XB *xp[4];                                                                            \
            for (int t = 0; t < 4; t++) xp[t] = (const XB *)((const char *)x + (size_t)(t0 + (t < T ? t : 0)) * xs); \
            for (int64_t r0 = 0; r0 < nr; r0 += 4) {                                                    \
                const int R = nr - r0 >= 4 ? 4 : (int)(nr - r0);                                        \
                const WB *wp[4];                                                                        \
                for (int r = 0; r < 4; r++) wp[r] = (const WB *)((const char *)w + (size_t)(r0 + (r < R ? r : 0)) * ws); \
                float *yt = y + t0 * ldy + r0;                                                          \
                switch (T) {                                                                            \
                case 4: TILE(DP, R, 4, nb, wp, xp, yt, ldy); break;                                     \
                case 3: TILE(DP, R, 3, nb, wp, xp, yt, ldy); break;                                     \
                case 2: TILE(DP, R, 2, nb, wp, xp, yt, ldy); break;                                     \
                default: TILE(DP, R, 1, nb, wp, xp, yt, ldy); break;                                    \
                }                                                                                       \
            }                                                                                           \
        }                                                                                               \
    }

#endif
