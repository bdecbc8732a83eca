/* kern_arm_k_neon.c — ARMv8.0 NEON kernels for the K-quants: Q4_K, Q5_K and Q6_K weights against
 * Q8_K activations (SMULL + SADALP; the SDOT variants are instantiated in
 * kern_arm_dotprod_neon.c), and the Q8_K activation quantiser. */
#include <math.h>
#include <string.h>

#include "kernels/kern_arm_neon_k.h"

#define AI LM_NEON_AI

NEON_K_GEMM(gemm_q4_K_mull, row_q4_K, 0)
NEON_K_GEMM(gemm_q5_K_mull, row_q5_K, 0)
NEON_K_GEMM(gemm_q6_K_mull, row_q6_K, 0)

/* Q8_K activations, bit-identical to lm__quantize_q8_K_ref: FMAXNM for the largest magnitude
 * (a quiet NaN is skipped as the scalar comparison skips it), the first element of that
 * magnitude gives the sign, FCVTNS rounds to nearest even as the reference's nearest_int, and
 * SADDLV sums each group of 16. */
static void neon_quantize_q8_K(const float *x, void *vy, int64_t n)
{
    struct lm__block_q8_K *y = vy;
    const int32x4_t i127 = vdupq_n_s32(127);
    for (int64_t i = 0; i < n / LM_QK_K; i++, x += LM_QK_K) {
        float32x4_t m = vdupq_n_f32(0);
        for (int k = 0; k < LM_QK_K; k += 4) m = vmaxnmq_f32(m, vabsq_f32(vld1q_f32(x + k)));
        const float amax = vmaxnmvq_f32(m);
        if (!amax) {
            memset(&y[i], 0, sizeof y[i]);
            continue;
        }
        float max = 0;
        for (int k = 0; k < LM_QK_K; k++)
            if (fabsf(x[k]) == amax) { max = x[k]; break; }
        const float iscale = -127.f / max;
        for (int k = 0; k < LM_QK_K; k += 16) {
            int32x4_t q[4];
            LM_NEON_UNROLL
            for (int u = 0; u < 4; u++)
                q[u] = vminq_s32(vcvtnq_s32_f32(vmulq_n_f32(vld1q_f32(x + k + 4 * u), iscale)), i127);
            const int16x8_t a = vcombine_s16(vmovn_s32(q[0]), vmovn_s32(q[1]));
            const int16x8_t b = vcombine_s16(vmovn_s32(q[2]), vmovn_s32(q[3]));
            const int8x16_t v = vcombine_s8(vmovn_s16(a), vmovn_s16(b));
            vst1q_s8(y[i].qs + k, v);
            y[i].bsums[k / 16] = vaddlvq_s8(v);
        }
        y[i].d = 1 / iscale;
    }
}

/* Installs the ARMv8.0 K-quant kernels. */
void lm__neon_fill_k(struct lm__kern *k)
{
    k->gemm[LM_TYPE_Q4_K] = gemm_q4_K_mull;
    k->gemm[LM_TYPE_Q5_K] = gemm_q5_K_mull;
    k->gemm[LM_TYPE_Q6_K] = gemm_q6_K_mull;
    k->from_float[LM_TYPE_Q8_K] = neon_quantize_q8_K;
}
