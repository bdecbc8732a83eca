/* kern_arm_neon.c — NEON kernels (ARM64). The SDOT variants run only when the CPU reports
 * dotprod (getauxval); the others use widening multiplies, so this file's code without SDOT is
 * valid ARMv8.0 even though the file is compiled with +dotprod. */
#include <arm_neon.h>
#include <string.h>

#include "kernels/kern_internal.h"

#define AI static inline __attribute__((always_inline))

/* acc + 4-way int8 dot products, per 32-bit lane */
AI int32x4_t dot_sdot(int32x4_t acc, int8x16_t a, int8x16_t b)
{
    return vdotq_s32(acc, a, b);
}

AI int32x4_t dot_mull(int32x4_t acc, int8x16_t a, int8x16_t b)
{
    const int16x8_t lo = vmull_s8(vget_low_s8(a), vget_low_s8(b));
    const int16x8_t hi = vmull_high_s8(a, b);
    return vpadalq_s16(vpadalq_s16(acc, lo), hi);
}

AI float f16_to_f32(uint16_t h)
{
    float16x4_t v = vreinterpret_f16_u16(vdup_n_u16(h));
    return vgetq_lane_f32(vcvt_f32_f16(v), 0);
}

/* R rows x 1..T tokens of Q4_0 x Q8_0; DP selects SDOT. */
AI void tile_q4_0(int DP, int R, int T, int64_t nb, const struct lm__block_q4_0 *const *w,
                  const struct lm__block_q8_0 *const *x, float *y, int64_t ldy)
{
    float32x4_t acc[4][2];
    for (int r = 0; r < R; r++)
        for (int t = 0; t < T; t++) acc[r][t] = vdupq_n_f32(0);
    const uint8x16_t m4 = vdupq_n_u8(0x0F);
    const int8x16_t s8 = vdupq_n_s8(8);
    for (int64_t b = 0; b < nb; b++) {
        int8x16_t lo[4], hi[4];
        float dw[4];
        for (int r = 0; r < R; r++) {
            const uint8x16_t q = vld1q_u8(w[r][b].qs);
            lo[r] = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(q, m4)), s8);
            hi[r] = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(q, 4)), s8);
            dw[r] = f16_to_f32(w[r][b].d);
        }
        for (int t = 0; t < T; t++) {
            const int8x16_t x0 = vld1q_s8(x[t][b].qs), x1 = vld1q_s8(x[t][b].qs + 16);
            const float dx = f16_to_f32(x[t][b].d);
            for (int r = 0; r < R; r++) {
                int32x4_t v = vdupq_n_s32(0);
                v = DP ? dot_sdot(v, lo[r], x0) : dot_mull(v, lo[r], x0);
                v = DP ? dot_sdot(v, hi[r], x1) : dot_mull(v, hi[r], x1);
                acc[r][t] = vmlaq_n_f32(acc[r][t], vcvtq_f32_s32(v), dw[r] * dx);
            }
        }
    }
    for (int t = 0; t < T; t++)
        for (int r = 0; r < R; r++) y[t * ldy + r] = vaddvq_f32(acc[r][t]);
}

AI void tile_q8_0(int DP, int R, int T, int64_t nb, const struct lm__block_q8_0 *const *w,
                  const struct lm__block_q8_0 *const *x, float *y, int64_t ldy)
{
    float32x4_t acc[4][2];
    for (int r = 0; r < R; r++)
        for (int t = 0; t < T; t++) acc[r][t] = vdupq_n_f32(0);
    for (int64_t b = 0; b < nb; b++) {
        int8x16_t w0[4], w1[4];
        float dw[4];
        for (int r = 0; r < R; r++) {
            w0[r] = vld1q_s8(w[r][b].qs);
            w1[r] = vld1q_s8(w[r][b].qs + 16);
            dw[r] = f16_to_f32(w[r][b].d);
        }
        for (int t = 0; t < T; t++) {
            const int8x16_t x0 = vld1q_s8(x[t][b].qs), x1 = vld1q_s8(x[t][b].qs + 16);
            const float dx = f16_to_f32(x[t][b].d);
            for (int r = 0; r < R; r++) {
                int32x4_t v = vdupq_n_s32(0);
                v = DP ? dot_sdot(v, w0[r], x0) : dot_mull(v, w0[r], x0);
                v = DP ? dot_sdot(v, w1[r], x1) : dot_mull(v, w1[r], x1);
                acc[r][t] = vmlaq_n_f32(acc[r][t], vcvtq_f32_s32(v), dw[r] * dx);
            }
        }
    }
    for (int t = 0; t < T; t++)
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

NEON_GEMM(gemm_q4_0_dp, tile_q4_0, 1, struct lm__block_q4_0)
NEON_GEMM(gemm_q4_0_mull, tile_q4_0, 0, struct lm__block_q4_0)
NEON_GEMM(gemm_q8_0_dp, tile_q8_0, 1, struct lm__block_q8_0)
NEON_GEMM(gemm_q8_0_mull, tile_q8_0, 0, struct lm__block_q8_0)

/* K-quant sub-block scales/mins of Q4_K (ggml's 12-byte packing): out[0..7] scales, [8..15] mins */
AI void k4_scales(const uint8_t *q, uint8_t out[16])
{
    uint32_t u[4];
    memcpy(u, q, 12);
    const uint32_t k1 = 0x3f3f3f3f, k2 = 0x0f0f0f0f, k3 = 0x03030303;
    u[3] = ((u[2] >> 4) & k2) | (((u[1] >> 6) & k3) << 4);
    const uint32_t mins_lo = u[1] & k1;
    u[1] = (u[2] & k2) | (((u[0] >> 6) & k3) << 4);
    u[2] = mins_lo;
    u[0] &= k1;
    memcpy(out, u, 16);
}

AI float q4_K_dot(int DP, int64_t nb, const struct lm__block_q4_K *w, const struct lm__block_q8_K *x)
{
    const uint8x16_t m4 = vdupq_n_u8(0x0F);
    float s = 0;
    for (int64_t i = 0; i < nb; i++) {
        uint8_t sm[16];
        k4_scales(w[i].scales, sm);
        int32_t isum = 0, summ = 0;
        for (int j = 0; j < 8; j++) summ += sm[8 + j] * (x[i].bsums[2 * j] + x[i].bsums[2 * j + 1]);
        for (int j = 0; j < 4; j++) {
            const uint8x16_t q0 = vld1q_u8(w[i].qs + 32 * j), q1 = vld1q_u8(w[i].qs + 32 * j + 16);
            const int8_t *y = x[i].qs + 64 * j;
            int32x4_t a = vdupq_n_s32(0), b = vdupq_n_s32(0);
            const int8x16_t l0 = vreinterpretq_s8_u8(vandq_u8(q0, m4)), l1 = vreinterpretq_s8_u8(vandq_u8(q1, m4));
            const int8x16_t h0 = vreinterpretq_s8_u8(vshrq_n_u8(q0, 4)), h1 = vreinterpretq_s8_u8(vshrq_n_u8(q1, 4));
            a = DP ? dot_sdot(a, l0, vld1q_s8(y)) : dot_mull(a, l0, vld1q_s8(y));
            a = DP ? dot_sdot(a, l1, vld1q_s8(y + 16)) : dot_mull(a, l1, vld1q_s8(y + 16));
            b = DP ? dot_sdot(b, h0, vld1q_s8(y + 32)) : dot_mull(b, h0, vld1q_s8(y + 32));
            b = DP ? dot_sdot(b, h1, vld1q_s8(y + 48)) : dot_mull(b, h1, vld1q_s8(y + 48));
            isum += vaddvq_s32(a) * sm[2 * j] + vaddvq_s32(b) * sm[2 * j + 1];
        }
        s += x[i].d * f16_to_f32(w[i].d) * (float)isum - x[i].d * f16_to_f32(w[i].dmin) * (float)summ;
    }
    return s;
}

AI float q6_K_dot(int DP, int64_t nb, const struct lm__block_q6_K *w, const struct lm__block_q8_K *x)
{
    const uint8x16_t m4 = vdupq_n_u8(0x0F), m2 = vdupq_n_u8(3);
    const int8x16_t s32 = vdupq_n_s8(32);
    float s = 0;
    for (int64_t i = 0; i < nb; i++) {
        int32_t isum = 0;
        for (int h = 0; h < 2; h++) {
            const uint8_t *ql = w[i].ql + 64 * h, *qh = w[i].qh + 32 * h;
            const int8_t *sc = w[i].scales + 8 * h, *y = x[i].qs + 128 * h;
            for (int u = 0; u < 2; u++) {       /* 16 of the 32 columns at a time */
                const uint8x16_t l0 = vld1q_u8(ql + 16 * u), l1 = vld1q_u8(ql + 32 + 16 * u);
                const uint8x16_t hb = vld1q_u8(qh + 16 * u);
                int8x16_t q[4];
                q[0] = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(vandq_u8(l0, m4), vshlq_n_u8(vandq_u8(hb, m2), 4))), s32);
                q[1] = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(vandq_u8(l1, m4), vshlq_n_u8(vandq_u8(vshrq_n_u8(hb, 2), m2), 4))), s32);
                q[2] = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(l0, 4), vshlq_n_u8(vandq_u8(vshrq_n_u8(hb, 4), m2), 4))), s32);
                q[3] = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(l1, 4), vshlq_n_u8(vshrq_n_u8(hb, 6), 4))), s32);
                for (int k = 0; k < 4; k++) {
                    int32x4_t v = vdupq_n_s32(0);
                    const int8x16_t yv = vld1q_s8(y + 32 * k + 16 * u);
                    v = DP ? dot_sdot(v, q[k], yv) : dot_mull(v, q[k], yv);
                    isum += vaddvq_s32(v) * sc[2 * k + u];
                }
            }
        }
        s += x[i].d * f16_to_f32(w[i].d) * (float)isum;
    }
    return s;
}

#define NEON_K_GEMM(NAME, DOT, DP, WB)                                                                  \
    static void NAME(int64_t n, const void *w, size_t ws, int64_t nr, const void *x, size_t xs,         \
                     int64_t nt, float *y, int64_t ldy)                                                  \
    {                                                                                                    \
        for (int64_t t = 0; t < nt; t++)                                                                 \
            for (int64_t r = 0; r < nr; r++)                                                             \
                y[t * ldy + r] = DOT(DP, n / LM_QK_K, (const WB *)((const char *)w + (size_t)r * ws),    \
                                     (const struct lm__block_q8_K *)((const char *)x + (size_t)t * xs));  \
    }
NEON_K_GEMM(gemm_q4_K_dp, q4_K_dot, 1, struct lm__block_q4_K)
NEON_K_GEMM(gemm_q4_K_mull, q4_K_dot, 0, struct lm__block_q4_K)
NEON_K_GEMM(gemm_q6_K_dp, q6_K_dot, 1, struct lm__block_q6_K)
NEON_K_GEMM(gemm_q6_K_mull, q6_K_dot, 0, struct lm__block_q6_K)

/* Q8_0 activations, bit-identical to the reference (roundf: vrndaq rounds half away from 0). */
static void neon_quantize_q8_0(const float *x, void *vy, int64_t n)
{
    struct lm__block_q8_0 *y = vy;
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        float32x4_t v[8], m = vdupq_n_f32(0);
        for (int k = 0; k < 8; k++) {
            v[k] = vld1q_f32(x + 4 * k);
            m = vmaxq_f32(m, vabsq_f32(v[k]));
        }
        const float amax = vmaxvq_f32(m);
        const float d = amax / 127, id = d ? 1.0f / d : 0.0f;
        y[i].d = lm_f32_to_f16(d);
        for (int k = 0; k < 8; k += 2) {
            const int32x4_t a = vcvtq_s32_f32(vrndaq_f32(vmulq_n_f32(v[k], id)));
            const int32x4_t b = vcvtq_s32_f32(vrndaq_f32(vmulq_n_f32(v[k + 1], id)));
            const int16x8_t h = vcombine_s16(vmovn_s32(a), vmovn_s32(b));
            vst1_s8(y[i].qs + 4 * k, vmovn_s16(h));
        }
    }
}

static float neon_dot_f32(const float *a, const float *b, int64_t n)
{
    float32x4_t s0 = vdupq_n_f32(0), s1 = vdupq_n_f32(0);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        s0 = vfmaq_f32(s0, vld1q_f32(a + i), vld1q_f32(b + i));
        s1 = vfmaq_f32(s1, vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));
    }
    float s = vaddvq_f32(vaddq_f32(s0, s1));
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

static void neon_axpy_f32(float *y, float a, const float *x, int64_t n)
{
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vfmaq_n_f32(vld1q_f32(y + i), vld1q_f32(x + i), a));
    for (; i < n; i++) y[i] += a * x[i];
}

/* Installs the NEON kernels into k. */
void lm__kern_fill_neon(struct lm__kern *k, int dotprod)
{
    k->name = dotprod ? "neon+dotprod" : "neon";
    k->gemm[LM_TYPE_Q4_0] = dotprod ? gemm_q4_0_dp : gemm_q4_0_mull;
    k->gemm[LM_TYPE_Q8_0] = dotprod ? gemm_q8_0_dp : gemm_q8_0_mull;
    k->gemm[LM_TYPE_Q4_K] = dotprod ? gemm_q4_K_dp : gemm_q4_K_mull;
    k->gemm[LM_TYPE_Q6_K] = dotprod ? gemm_q6_K_dp : gemm_q6_K_mull;
    k->from_float[LM_TYPE_Q8_0] = neon_quantize_q8_0;
    k->dot_f32 = neon_dot_f32;
    k->axpy_f32 = neon_axpy_f32;
}
