/* kern_arm_neon.h — helpers shared by the NEON kernel files (ARM64 only) and the entry points
 * through which each family file installs its kernels into a struct lm__kern.
 *
 *   kern_arm_neon.c    table fill, float weights (F32, F16, BF16), f32 helpers, F16/BF16 rows
 *   kern_arm_q_neon.c  32-element block types: Q4_0, Q4_1, Q8_0 and the Q8_0/Q8_1 quantisers
 *   kern_arm_k_neon.c  K-quants: Q4_K, Q5_K, Q6_K and the Q8_K quantiser
 *
 * The files are compiled with +dotprod+fp16, but only functions whose names end in _dp may use
 * SDOT (they are installed only when the CPU reports dotprod); everything else must stay
 * ARMv8.0 (FCVTL/FCVTN half<->single conversions are ARMv8.0). tests/kernels/arm.test.sh checks
 * the object code for that. */
#ifndef LM_KERN_ARM_NEON_H
#define LM_KERN_ARM_NEON_H

#include <arm_neon.h>

#include "kernels/kern_internal.h"

#define LM_NEON_AI static inline __attribute__((always_inline))

/* acc + 4-way int8 dot products per 32-bit lane: SDOT (dotprod) or SMULL + SADALP (ARMv8.0). */
LM_NEON_AI int32x4_t lm__neon_sdot(int32x4_t acc, int8x16_t a, int8x16_t b)
{
    return vdotq_s32(acc, a, b);
}

LM_NEON_AI int32x4_t lm__neon_mull(int32x4_t acc, int8x16_t a, int8x16_t b)
{
    const int16x8_t lo = vmull_s8(vget_low_s8(a), vget_low_s8(b));
    const int16x8_t hi = vmull_high_s8(a, b);
    return vpadalq_s16(vpadalq_s16(acc, lo), hi);
}

/* DP is a compile-time constant in every instantiation. */
LM_NEON_AI int32x4_t lm__neon_dot(int DP, int32x4_t acc, int8x16_t a, int8x16_t b)
{
    return DP ? lm__neon_sdot(acc, a, b) : lm__neon_mull(acc, a, b);
}

LM_NEON_AI float lm__neon_f16(uint16_t h)
{
    return vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(h))), 0);
}

/* Four halves (e.g. the scales of four rows' blocks) as a float vector. */
LM_NEON_AI float32x4_t lm__neon_f16x4(uint16_t a, uint16_t b, uint16_t c, uint16_t d)
{
    uint16x4_t v = vdup_n_u16(a);
    v = vset_lane_u16(b, v, 1);
    v = vset_lane_u16(c, v, 2);
    v = vset_lane_u16(d, v, 3);
    return vcvt_f32_f16(vreinterpret_f16_u16(v));
}

/* Lane r of the per-row sums: {sum(v0), sum(v1), sum(v2), sum(v3)}. */
LM_NEON_AI int32x4_t lm__neon_hsum4_s32(int32x4_t v0, int32x4_t v1, int32x4_t v2, int32x4_t v3)
{
    return vpaddq_s32(vpaddq_s32(v0, v1), vpaddq_s32(v2, v3));
}

/* Stores lanes 0..R-1 of v (R in 1..4). */
LM_NEON_AI void lm__neon_store_lanes(float *y, float32x4_t v, int R)
{
    if (R == 4) {
        vst1q_f32(y, v);
        return;
    }
    float t[4];
    vst1q_f32(t, v);
    for (int r = 0; r < R; r++) y[r] = t[r];
}

void lm__neon_fill_q(struct lm__kern *k, int dotprod);
void lm__neon_fill_k(struct lm__kern *k, int dotprod);

#endif
