/* kern_arm_q_neon.c — ARMv8.0 NEON kernels for the 32-element block types: Q4_0 and Q8_0 against
 * Q8_0 activations, Q4_1 against Q8_1 (SMULL + SADALP; the SDOT variants are instantiated in
 * kern_arm_dotprod_neon.c), and the Q8_0 / Q8_1 activation quantisers. */
#include <string.h>

#include "kernels/kern_arm_neon_q.h"

#define AI LM_NEON_AI

NEON_GEMM4(gemm_q4_0_mull, tile_q4_0, 0, struct lm__block_q4_0, struct lm__block_q8_0, LM_QK4_0)
NEON_GEMM4(gemm_q8_0_mull, tile_q8_0, 0, struct lm__block_q8_0, struct lm__block_q8_0, LM_QK8_0)
NEON_GEMM4(gemm_q4_1_mull, tile_q4_1, 0, struct lm__block_q4_1, struct lm__block_q8_1, LM_QK4_1)

/* One block of 32 activations in eight int32 vectors, as llama.cpp's ARM build quantises them
 * (quantize_row_q8_0 / q8_1 under __ARM_NEON): amax by FMAX (a NaN propagates), d = amax / 127,
 * id = d ? 1 / d : 0, and FCVTNS rounds x * id to nearest, halves to even. The reference
 * (ggml's generic C) uses roundf instead, halves away from zero. Returns d. */
AI float quant32(const float *x, int32x4_t q[8])
{
    float32x4_t v[8], m = vdupq_n_f32(0);
    LM_NEON_UNROLL
    for (int k = 0; k < 8; k++) {
        v[k] = vld1q_f32(x + 4 * k);
        m = vmaxq_f32(m, vabsq_f32(v[k]));
    }
    const float amax = vmaxvq_f32(m);
    const float d = amax / 127, id = d ? 1.0f / d : 0.0f;
    LM_NEON_UNROLL
    for (int k = 0; k < 8; k++) q[k] = vcvtnq_s32_f32(vmulq_n_f32(v[k], id));
    return d;
}

AI void store32_s8(int8_t *dst, const int32x4_t q[8])
{
    LM_NEON_UNROLL
    for (int k = 0; k < 8; k += 2) {
        const int16x8_t h = vcombine_s16(vmovn_s32(q[k]), vmovn_s32(q[k + 1]));
        vst1_s8(dst + 4 * k, vmovn_s16(h));
    }
}

/* Q8_0 activations, bit-identical to llama.cpp's ARM quantize_row_q8_0. */
static void neon_quantize_q8_0(const float *x, void *vy, int64_t n)
{
    struct lm__block_q8_0 *y = vy;
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        int32x4_t q[8];
        y[i].d = lm_f32_to_f16(quant32(x, q));
        store32_s8(y[i].qs, q);
    }
}

/* Q8_1 activations (Q8_0 plus s = fp16(d * sum(q))), bit-identical to llama.cpp's ARM
 * quantize_row_q8_1. */
static void neon_quantize_q8_1(const float *x, void *vy, int64_t n)
{
    struct lm__block_q8_1 *y = vy;
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        int32x4_t q[8];
        const float d = quant32(x, q);
        int32x4_t s = vdupq_n_s32(0);
        LM_NEON_UNROLL
        for (int k = 0; k < 8; k++) s = vaddq_s32(s, q[k]);
        y[i].d = lm_f32_to_f16(d);
        y[i].s = lm_f32_to_f16((float)vaddvq_s32(s) * d);
        store32_s8(y[i].qs, q);
    }
}

/* Installs the ARMv8.0 32-block kernels. */
void lm__neon_fill_q(struct lm__kern *k)
{
    k->gemm[LM_TYPE_Q4_0] = gemm_q4_0_mull;
    k->gemm[LM_TYPE_Q4_1] = gemm_q4_1_mull;
    k->gemm[LM_TYPE_Q8_0] = gemm_q8_0_mull;
    k->from_float[LM_TYPE_Q8_0] = neon_quantize_q8_0;
    k->from_float[LM_TYPE_Q8_1] = neon_quantize_q8_1;
}
