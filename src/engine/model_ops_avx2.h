/* model_ops_avx2.h — attention pieces in ggml's exact x86 (AVX2 + FMA + F16C) arithmetic, so
 * an f16 KV cache gives llama.cpp's numbers bit for bit (model_ops_avx2.c). Call only when
 * lm_cpu_features() reports avx2, fma and f16c. No function allocates or keeps memory. */
#ifndef LM_MODEL_OPS_AVX2_H
#define LM_MODEL_OPS_AVX2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__)
/* Softmax of x[0..n) in place as ggml_compute_forward_soft_max_f32: ggml's vector exp over
 * groups of 8 (x[0..8), x[8..16), ...), each group summed in f32 and added to a double
 * total, the last n % 8 values with expf. Masked entries are -INFINITY (they become 0). */
void lm__softmax_ggml_avx2(float *x, int n);

/* Dot product of two f16 vectors of n values (n % 8 == 0) as llamafile's tinyBLAS computes
 * one output of an f16 x f16 product (llama.cpp's matrix products of 2 or more columns):
 * one 8-lane fused multiply-add accumulator, then a horizontal sum. */
float lm__dot_f16_tinyblas_avx2(const uint16_t *a, const uint16_t *b, int n);

/* The same as ggml_vec_dot_f16 computes it (products of one column): four 8-lane
 * accumulators over steps of 32, reduced pairwise, then the last n % 32 products summed in
 * double. */
float lm__dot_f16_vec_avx2(const uint16_t *a, const uint16_t *b, int n);

/* The attention's V^T p for rows value rows of a ring of cap positions (row r at
 * v + r * stride; position j at column j % cap), weights p[0..n) for the positions
 * start..start+n: out[r] = sum of v[r][(start + i) % cap] * p[i], in tinyBLAS's order (tiny)
 * or ggml_vec_dot_f16's. start, n and cap must be multiples of 32, so that no group of 32
 * positions wraps; the values at positions with weight 0 must be finite. */
void lm__attn_v_avx2(const uint16_t *v, size_t stride, int rows, int cap, int start, const uint16_t *p, int n,
                     bool tiny, float *out);
#endif

#endif
