/* kern_arm_neon.c — NEON kernel table (ARM64) and the float-weight kernels: F32 x F32, F16 x F16
 * and BF16 x BF16 products (the vec_dot_types of the float types), the F16/BF16 activation
 * conversions and the f32 dot/axpy helpers. The integer kernels live in kern_arm_q_neon.c and
 * kern_arm_k_neon.c; see kern_arm_neon.h for what may use instructions beyond ARMv8.0.
 *
 * Float products widen to f32 (FCVTL for F16, SHLL #16 for BF16) and accumulate with f32 FMLA:
 * the product of two halves is exact in f32, so this matches the reference up to summation
 * order, where FP16 FMLA would round every product and partial sum to 11 bits. */
#include <string.h>

#include "kernels/kern_arm_neon.h"

#define AI LM_NEON_AI

enum { F_F32, F_F16, F_BF16 };

/* Four elements i..i+3 of a row of kind K as f32. */
AI float32x4_t load4(int K, const void *p, int64_t i)
{
    if (K == F_F32) return vld1q_f32((const float *)p + i);
    const uint16x4_t h = vld1_u16((const uint16_t *)p + i);
    if (K == F_F16) return vcvt_f32_f16(vreinterpret_f16_u16(h));
    return vreinterpretq_f32_u32(vshll_n_u16(h, 16));
}

AI float load1(int K, const void *p, int64_t i)
{
    if (K == F_F32) return ((const float *)p)[i];
    const uint16_t h = ((const uint16_t *)p)[i];
    return K == F_F16 ? lm__neon_f16(h) : lm_bf16_to_f32(h);
}

/* 4 rows x T (1..4, constant) tokens; rows past R point at a valid row and are not stored.
 * 4-element steps with one accumulator per row and token, a scalar tail for n % 4. */
AI void tile_f(int K, int R, int T, int64_t n, const void *const *w, const void *const *x, float *y, int64_t ldy)
{
    float32x4_t acc[4][4];
    LM_NEON_UNROLL
    for (int r = 0; r < 4; r++)
        LM_NEON_UNROLL
        for (int t = 0; t < T; t++) acc[r][t] = vdupq_n_f32(0);
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t xv[4];
        LM_NEON_UNROLL
        for (int t = 0; t < T; t++) xv[t] = load4(K, x[t], i);
        LM_NEON_UNROLL
        for (int r = 0; r < 4; r++) {
            const float32x4_t wv = load4(K, w[r], i);
            LM_NEON_UNROLL
            for (int t = 0; t < T; t++) acc[r][t] = vfmaq_f32(acc[r][t], wv, xv[t]);
        }
    }
    LM_NEON_UNROLL
    for (int t = 0; t < T; t++) {
        float tail[4] = {0, 0, 0, 0};
        for (int64_t k = i; k < n; k++) {
            const float xk = load1(K, x[t], k);
            LM_NEON_UNROLL
            for (int r = 0; r < 4; r++) tail[r] += load1(K, w[r], k) * xk;
        }
        float32x4_t s = vpaddq_f32(vpaddq_f32(acc[0][t], acc[1][t]), vpaddq_f32(acc[2][t], acc[3][t]));
        s = vaddq_f32(s, vld1q_f32(tail));
        lm__neon_store_lanes(y + t * ldy, s, R);
    }
}

/* Walks nr x nt in 4-row x 4-token tiles, token groups outer (token count a constant per
 * instantiation). */
#define NEON_FLOAT_GEMM(NAME, K)                                                                        \
    static void NAME(int64_t n, const void *w, size_t ws, int64_t nr, const void *x, size_t xs,         \
                     int64_t nt, float *y, int64_t ldy)                                                 \
    {                                                                                                   \
        for (int64_t t0 = 0; t0 < nt; t0 += 4) {                                                        \
            const int T = nt - t0 >= 4 ? 4 : (int)(nt - t0);                                            \
            const void *xp[4];                                                                          \
            for (int t = 0; t < 4; t++) xp[t] = (const char *)x + (size_t)(t0 + (t < T ? t : 0)) * xs;  \
            for (int64_t r0 = 0; r0 < nr; r0 += 4) {                                                    \
                const int R = nr - r0 >= 4 ? 4 : (int)(nr - r0);                                        \
                const void *wp[4];                                                                      \
                for (int r = 0; r < 4; r++) wp[r] = (const char *)w + (size_t)(r0 + (r < R ? r : 0)) * ws; \
                float *yt = y + t0 * ldy + r0;                                                          \
                switch (T) {                                                                            \
                case 4: tile_f(K, R, 4, n, wp, xp, yt, ldy); break;                                     \
                case 3: tile_f(K, R, 3, n, wp, xp, yt, ldy); break;                                     \
                case 2: tile_f(K, R, 2, n, wp, xp, yt, ldy); break;                                     \
                default: tile_f(K, R, 1, n, wp, xp, yt, ldy); break;                                    \
                }                                                                                       \
            }                                                                                           \
        }                                                                                               \
    }

NEON_FLOAT_GEMM(gemm_f32, F_F32)
NEON_FLOAT_GEMM(gemm_f16, F_F16)
NEON_FLOAT_GEMM(gemm_bf16, F_BF16)

/* f32 to f16 activations: FCVTN rounds to nearest even like lm_f32_to_f16; NaN lanes are
 * replaced by sign | 0x7e00, the reference's quiet NaN (FCVTN would keep payload bits). */
static void neon_from_f16(const float *x, void *vy, int64_t n)
{
    uint16_t *y = vy;
    const uint16x4_t sign = vdup_n_u16(0x8000), qnan = vdup_n_u16(0x7e00);
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const float32x4_t v = vld1q_f32(x + i);
        const uint16x4_t h = vreinterpret_u16_f16(vcvt_f16_f32(v));
        const uint16x4_t isnan = vmovn_u32(vmvnq_u32(vceqq_f32(v, v)));
        const uint16x4_t fix = vorr_u16(vand_u16(vshrn_n_u32(vreinterpretq_u32_f32(v), 16), sign), qnan);
        vst1_u16(y + i, vbsl_u16(isnan, fix, h));
    }
    for (; i < n; i++) y[i] = lm_f32_to_f16(x[i]);
}

/* f32 to bf16 activations, round to nearest even in integer arithmetic as lm_f32_to_bf16;
 * NaN becomes its top half with the quiet bit set. */
static void neon_from_bf16(const float *x, void *vy, int64_t n)
{
    uint16_t *y = vy;
    const uint32x4_t bias = vdupq_n_u32(0x7fff), one = vdupq_n_u32(1);
    const uint32x4_t abs = vdupq_n_u32(0x7fffffff), inf = vdupq_n_u32(0x7f800000);
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const uint32x4_t u = vreinterpretq_u32_f32(vld1q_f32(x + i));
        const uint32x4_t r = vaddq_u32(u, vaddq_u32(bias, vandq_u32(vshrq_n_u32(u, 16), one)));
        const uint16x4_t isnan = vmovn_u32(vcgtq_u32(vandq_u32(u, abs), inf));
        const uint16x4_t nanv = vorr_u16(vshrn_n_u32(u, 16), vdup_n_u16(64));
        vst1_u16(y + i, vbsl_u16(isnan, nanv, vshrn_n_u32(r, 16)));
    }
    for (; i < n; i++) y[i] = lm_f32_to_bf16(x[i]);
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

/* Installs the NEON kernels into k (dotprod: the SDOT variants of the integer products). */
void lm__kern_fill_neon(struct lm__kern *k, int dotprod)
{
    k->name = dotprod ? "neon+dotprod" : "neon";
    lm__neon_fill_q(k);
    lm__neon_fill_k(k);
    if (dotprod) lm__neon_fill_dotprod(k);
    k->gemm[LM_TYPE_F32] = gemm_f32;
    k->gemm[LM_TYPE_F16] = gemm_f16;
    k->gemm[LM_TYPE_BF16] = gemm_bf16;
    k->from_float[LM_TYPE_F16] = neon_from_f16;
    k->from_float[LM_TYPE_BF16] = neon_from_bf16;
    k->dot_f32 = neon_dot_f32;
    k->axpy_f32 = neon_axpy_f32;
}
