/* kern_x86_avx2.c — AVX2 + FMA + F16C kernels (x86-64). Compiled with -mavx2 -mfma -mf16c -mbmi2
 * and only called when lm_cpu_features() reports them. */
#define LM_X86_VNNI 0
#include "kernels/kern_x86.h"

/* Installs the AVX2 kernels into k. */
void lm__kern_fill_avx2(struct lm__kern *k)
{
    k->name = "avx2";
    k->gemm[LM_TYPE_Q4_0] = x86_gemm_q4_0;
    k->gemm[LM_TYPE_Q8_0] = x86_gemm_q8_0;
    k->gemm[LM_TYPE_Q4_1] = x86_gemm_q4_1;
    k->gemm[LM_TYPE_Q4_0_R8] = x86_gemm_q4_0_r8;
    k->gemm[LM_TYPE_Q8_0_R8] = x86_gemm_q8_0_r8;
    k->from_float[LM_TYPE_Q8_0] = x86_quantize_q8_0;
    k->from_float[LM_TYPE_Q8_1] = x86_quantize_q8_1;
    k->from_float[LM_TYPE_Q8_K] = x86_quantize_q8_K;
    k->gemm[LM_TYPE_Q4_K] = x86_gemm_q4_K;
    k->gemm[LM_TYPE_Q5_K] = x86_gemm_q5_K;
    k->gemm[LM_TYPE_F32] = x86_gemm_f32;
    k->gemm[LM_TYPE_F16] = x86_gemm_f16;
    k->gemm[LM_TYPE_BF16] = x86_gemm_bf16;
    k->from_float[LM_TYPE_F16] = x86_from_f16;
    k->gemm[LM_TYPE_Q6_K] = x86_gemm_q6_K;
    k->dot_f32 = x86_dot_f32;
    k->axpy_f32 = x86_axpy_f32;
}
