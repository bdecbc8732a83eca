/* kern_arm_neon.h — helpers shared by the NEON kernel files (ARM64 only) and the entry points
 * through which each file installs its kernels into a struct lm__kern.
 *
 *   kern_arm_neon.c          table fill, float weights (F32, F16, BF16), f32 helpers, F16/BF16 rows
 *   kern_arm_q_neon.c        32-element block types: Q4_0, Q4_1, Q8_0; Q8_0/Q8_1 quantisers
 *   kern_arm_k_neon.c        K-quants: Q4_K, Q5_K, Q6_K; the Q8_K quantiser
 *   kern_arm_dotprod_neon.c  the SDOT variants of the integer products
 *   kern_arm_neon_q.h, kern_arm_neon_k.h  the product templates the last three instantiate
 *
 * The Makefile compiles *_neon.c for plain ARMv8-A and only *_dotprod_neon.c with +dotprod, so
 * nothing outside the dotprod file can contain an instruction a Cortex-A53/A72 lacks; the
 * dotprod kernels are installed only when the CPU reports dotprod. (Function-level target
 * attributes cannot do this with the toolchains we build with: GCC 12 refuses to inline
 * vdotq_s32 into a target("+dotprod") function of an ARMv8-A file, and Clang 14 declares the
 * intrinsic only when the whole file has the feature.) */
#ifndef LM_KERN_ARM_NEON_H
#define LM_KERN_ARM_NEON_H

#include <arm_neon.h>

#include "kernels/kern_internal.h"

#define LM_NEON_AI static inline __attribute__((always_inline))
/* Before the loops over rows, tokens and sub-blocks of a tile (constant trip counts): GCC -O2
 * does not unroll them by itself, which leaves the accumulator arrays in memory. */
#define LM_NEON_UNROLL _Pragma("GCC unroll 16")

/* acc + 4-way int8 dot products per 32-bit lane: SDOT where the file is compiled with dotprod
 * and DP is set, else SMULL + SADALP (ARMv8.0). DP is a constant in every instantiation. */
LM_NEON_AI int32x4_t lm__neon_mull(int32x4_t acc, int8x16_t a, int8x16_t b)
{
    const int16x8_t lo = vmull_s8(vget_low_s8(a), vget_low_s8(b));
    const int16x8_t hi = vmull_high_s8(a, b);
    return vpadalq_s16(vpadalq_s16(acc, lo), hi);
}

LM_NEON_AI int32x4_t lm__neon_dot(int DP, int32x4_t acc, int8x16_t a, int8x16_t b)
{
#if defined(__ARM_FEATURE_DOTPROD)
    if (DP) return vdotq_s32(acc, a, b);
#endif
    (void)DP;
    return lm__neon_mull(acc, a, b);
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

/* ARMv8.0 kernels of each family; the dotprod file replaces the integer products. */
void lm__neon_fill_q(struct lm__kern *k);
void lm__neon_fill_k(struct lm__kern *k);
void lm__neon_fill_dotprod(struct lm__kern *k);

#endif
