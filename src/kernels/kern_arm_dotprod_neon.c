/* kern_arm_dotprod_neon.c — the SDOT (ARMv8.2 dotprod) variants of the NEON integer products:
 * Q4_0, Q4_1, Q8_0, Q4_K, Q5_K, Q6_K. This is the only NEON file compiled with +dotprod; its
 * kernels are installed only when the CPU reports dotprod (HWCAP_ASIMDDP). */
#include "kernels/kern_arm_neon_k.h"
#include "kernels/kern_arm_neon_q.h"

#ifndef __ARM_FEATURE_DOTPROD
#error "kern_arm_dotprod_neon.c must be compiled with +dotprod"
#endif

NEON_GEMM4(gemm_q4_0_dp, tile_q4_0, 1, struct lm__block_q4_0, struct lm__block_q8_0, LM_QK4_0)
NEON_GEMM4(gemm_q8_0_dp, tile_q8_0, 1, struct lm__block_q8_0, struct lm__block_q8_0, LM_QK8_0)
NEON_GEMM4(gemm_q4_1_dp, tile_q4_1, 1, struct lm__block_q4_1, struct lm__block_q8_1, LM_QK4_1)
NEON_K_GEMM(gemm_q4_K_dp, row_q4_K, 1)
NEON_K_GEMM(gemm_q5_K_dp, row_q5_K, 1)
NEON_K_GEMM(gemm_q6_K_dp, row_q6_K, 1)

/* Replaces the integer products with their SDOT variants. */
void lm__neon_fill_dotprod(struct lm__kern *k)
{
    k->gemm[LM_TYPE_Q4_0] = gemm_q4_0_dp;
    k->gemm[LM_TYPE_Q4_1] = gemm_q4_1_dp;
    k->gemm[LM_TYPE_Q8_0] = gemm_q8_0_dp;
    k->gemm[LM_TYPE_Q4_K] = gemm_q4_K_dp;
    k->gemm[LM_TYPE_Q5_K] = gemm_q5_K_dp;
    k->gemm[LM_TYPE_Q6_K] = gemm_q6_K_dp;
}
