/* kernels.h — the compute kernels the models call. SIMD variants drop in behind these calls.
 *
 * Weights are rows of a type from lm/quant.h (a matrix W of nrows x ncols, row-major, each row
 * lm_row_size(type, ncols) bytes). Activations are f32; for quantised weights they are first
 * converted to the type's vec_dot_type (Q8_0 or Q8_K, as llama.cpp does), so results agree with
 * llama.cpp's.
 *
 * The implementation is chosen once at run time from lm_cpu_features(): scalar reference,
 * AVX2, AVX-512 (+VNNI), NEON (+dotprod); LM_CPU_DISABLE=avx2 (etc.) forces a fallback.
 * SIMD coverage (anything else runs the scalar reference, same results within float rounding):
 *   x86 AVX2: F32, F16, BF16, Q4_0, Q4_0_R8, Q4_1, Q8_0, Q8_0_R8, Q4_K, Q5_K, Q6_K; Q8_0/Q8_1/Q8_K/F16 activations.
 *   x86 AVX-512 VNNI: the AVX2 set, Q4_0/Q8_0 tiles with VPDPBUSD.
 *   ARM NEON (+SDOT): F32, F16, BF16, Q4_0, Q4_1, Q8_0, Q4_K, Q5_K, Q6_K; Q8_0/Q8_1/Q8_K/F16/BF16
 *   activation conversion.
 * Activation conversion (f32 to the vec_dot_type) is byte-exact with what llama.cpp's CPU build
 * for the same kind of CPU makes, so the paths differ from each other on rounding ties:
 *   scalar reference: ggml's generic C quantisers (Q8_0/Q8_1: d = amax/127, id = 1/d, roundf,
 *     i.e. halves away from zero; Q8_K: -127/max, nearest_int, halves to even), which is what
 *     llama.cpp runs without SIMD.
 *   x86: Q8_0/Q8_1 as llama.cpp's x86 build (id = 127/amax, halves to even); Q8_K and F16 are
 *     the reference's (llama.cpp's x86 build uses the generic Q8_K too).
 *   NEON: Q8_0/Q8_1 as llama.cpp's ARM build (id = 1/(amax/127) as the reference, but FCVTNS:
 *     halves to even; a NaN in a block makes its d NaN and its values 0); Q8_K, F16, BF16 are
 *     the reference's (llama.cpp's ARM build uses the generic Q8_K too).
 * So the same f32 row can quantise to different Q8_0 bytes on x86, NEON and the reference. The
 * kernel tests check each SIMD conversion byte for byte against the reference or a scalar model
 * of llama.cpp's form, and check SIMD products against the reference's on the same quantised
 * activations (made by the reference's quantiser), within float summation error.
 */
#ifndef LM_KERNELS_H
#define LM_KERNELS_H

#include <stdint.h>

#include "lm/quant.h"

struct lm_pool;

/* Y[t][r] = sum_c W[r][c] * X[t][c] for t < n_tok, r < nrows (Y is n_tok x nrows, X is
 * n_tok x ncols, both row-major f32). Rows are split across the pool's threads; n_tok > 1 uses
 * the matrix-matrix kernels (prompt processing). ncols must be a multiple of the block size.
 * Scratch for converted activations is kept per thread inside the kernels module. */
void lm_matmul(struct lm_pool *pool, enum lm_type wtype, const void *w, int64_t nrows, int64_t ncols,
               const float *x, int64_t n_tok, float *y);

/* One of several products of the same activations: Y (n_tok x nrows) = X * W^T. */
struct lm_matmul_out {
    enum lm_type wtype;
    const void *w;
    int64_t nrows;
    float *y;
};

/* lm_matmul for n_out matrices that all read the same X (ncols wide): the activations are
 * converted once and all products share one pass of the pool, so there is one synchronisation
 * instead of n_out. Same results as n_out lm_matmul calls. */
void lm_matmul_multi(struct lm_pool *pool, const struct lm_matmul_out *outs, int n_out, int64_t ncols,
                     const float *x, int64_t n_tok);

/* Optional faster layout for a weight matrix, made once at load: when the kernels in use have
 * one for (type, nrows, ncols), returns the type to pass to lm_matmul from then on (e.g.
 * LM_TYPE_Q4_0_R8, LM_TYPE_Q8_0_R8) and stores in *out a new buffer of the same size holding W
 * repacked (owned by the caller, free with lm_weights_free). Otherwise returns type unchanged
 * and *out = NULL: keep using W as it is. Repacked weights work only with lm_matmul and
 * lm_get_rows (same row indices), with the same results as the original layout. Returns -1
 * if allocation fails. */
int lm_weights_prepare(enum lm_type type, const void *w, int64_t nrows, int64_t ncols, void **out);
void lm_weights_free(void *p);

/* Dequantises rows ids[0..n) of W (ncols wide) into out[n][ncols]. Works for the prepared
 * layouts too (slower there: meant for the odd tied-embedding lookup). */
void lm_get_rows(enum lm_type wtype, const void *w, int64_t ncols, const int32_t *ids, int64_t n, float *out);

/* f32 helpers used by attention and norms (SIMD where it pays). */
float lm_dot_f32(const float *a, const float *b, int64_t n);
void lm_axpy_f32(float *y, float a, const float *x, int64_t n);   /* y += a*x */

#endif
