/* kern_internal.h — block layouts of the quantised types and the kernel dispatch table.
 *
 * Block structs are byte-for-byte ggml's (ggml-common.h), so GGUF tensor data maps directly.
 * Each instruction-set file (kern_ref.c, *_avx2.c, *_avx512.c, *_neon.c) fills a struct
 * lm__kern; matmul.c picks one at first use from lm_cpu_features().
 */
#ifndef LM_KERN_INTERNAL_H
#define LM_KERN_INTERNAL_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lm/quant.h"

#define LM_QK4_0 32
#define LM_QK4_1 32
#define LM_QK8_0 32
#define LM_QK8_1 32
#define LM_QK_K 256
#define LM_K_SCALE_SIZE 12

struct lm__block_q4_0 {
    uint16_t d;                      /* f16 scale */
    uint8_t qs[LM_QK4_0 / 2];        /* nibbles: low = elements 0..15, high = 16..31 */
};
static_assert(sizeof(struct lm__block_q4_0) == 18, "q4_0 block");

struct lm__block_q4_1 {
    uint16_t d, m;                   /* f16 scale and minimum */
    uint8_t qs[LM_QK4_1 / 2];
};
static_assert(sizeof(struct lm__block_q4_1) == 20, "q4_1 block");

struct lm__block_q8_0 {
    uint16_t d;
    int8_t qs[LM_QK8_0];
};
static_assert(sizeof(struct lm__block_q8_0) == 34, "q8_0 block");

struct lm__block_q8_1 {
    uint16_t d, s;                   /* f16 scale and d * sum(qs) */
    int8_t qs[LM_QK8_1];
};
static_assert(sizeof(struct lm__block_q8_1) == 36, "q8_1 block");

/* 8 sub-blocks of 32, 6-bit scales and mins: x = d*sc*q - dmin*m */
struct lm__block_q4_K {
    uint16_t d, dmin;
    uint8_t scales[LM_K_SCALE_SIZE];
    uint8_t qs[LM_QK_K / 2];
};
static_assert(sizeof(struct lm__block_q4_K) == 144, "q4_K block");

struct lm__block_q5_K {
    uint16_t d, dmin;
    uint8_t scales[LM_K_SCALE_SIZE];
    uint8_t qh[LM_QK_K / 8];         /* fifth bits */
    uint8_t qs[LM_QK_K / 2];
};
static_assert(sizeof(struct lm__block_q5_K) == 176, "q5_K block");

/* 16 sub-blocks of 16, 8-bit signed scales: x = d*sc*(q-32) */
struct lm__block_q6_K {
    uint8_t ql[LM_QK_K / 2];         /* low 4 bits */
    uint8_t qh[LM_QK_K / 4];         /* high 2 bits */
    int8_t scales[LM_QK_K / 16];
    uint16_t d;
};
static_assert(sizeof(struct lm__block_q6_K) == 210, "q6_K block");

/* 8 Q4_0 rows interleaved (LM_TYPE_Q4_0_R8): block b of rows 8g..8g+7. Byte 32*k + 4*r + j of
 * qs is byte 4*k + j of row r's original qs (low nibble: column 4k+j, high: column 16+4k+j),
 * so one 32-byte load gives 4 columns of all 8 rows. Same size as 8 Q4_0 blocks. */
struct lm__block_q4_0x8 {
    uint16_t d[8];
    uint8_t qs[128];
};
static_assert(sizeof(struct lm__block_q4_0x8) == 8 * sizeof(struct lm__block_q4_0), "q4_0x8 block");

/* 8 Q8_0 rows interleaved (LM_TYPE_Q8_0_R8): block b of rows 8g..8g+7. Byte 32*k + 4*r + j of
 * qs is byte 4*k + j of row r's original qs (k = 0..7), so one 32-byte load gives 4 columns of
 * all 8 rows. Same size as 8 Q8_0 blocks. */
struct lm__block_q8_0x8 {
    uint16_t d[8];
    int8_t qs[256];
};
static_assert(sizeof(struct lm__block_q8_0x8) == 8 * sizeof(struct lm__block_q8_0), "q8_0x8 block");

/* activations for K-quant dot products */
struct lm__block_q8_K {
    float d;
    int8_t qs[LM_QK_K];
    int16_t bsums[LM_QK_K / 16];     /* sums of groups of 16 */
};
static_assert(sizeof(struct lm__block_q8_K) == 292, "q8_K block");

/* Y[t*ldy + r] = dot(row r of W, row t of X) for r < nr, t < nt. W rows are wstride bytes apart,
 * X rows (already in the weight type's vec_dot_type) xstride bytes apart; n elements per row. */
typedef void (*lm__gemm_fn)(int64_t n, const void *w, size_t wstride, int64_t nr,
                            const void *x, size_t xstride, int64_t nt, float *y, int64_t ldy);
/* Converts n f32 activations to a vec_dot_type row. */
typedef void (*lm__from_float_fn)(const float *src, void *dst, int64_t n);

struct lm__kern {
    const char *name;
    lm__gemm_fn gemm[LM_TYPE_ALL];                /* by weight type (nr a multiple of 8 for _R8) */
    lm__from_float_fn from_float[LM_TYPE_COUNT];  /* by vec_dot_type */
    float (*dot_f32)(const float *a, const float *b, int64_t n);
    void (*axpy_f32)(float *y, float a, const float *x, int64_t n);
};

/* Scalar reference set (always present). */
extern const struct lm__kern lm__kern_ref;
/* Instruction-set sets: each fills the entries it accelerates into k (starting from a copy of
 * the reference), so a missing kernel falls back to the scalar one. */
void lm__kern_fill_avx2(struct lm__kern *k);
void lm__kern_fill_avx512(struct lm__kern *k, int vnni);
void lm__kern_fill_neon(struct lm__kern *k, int dotprod);

/* Kernel sets, best last; lm__kern_build fills k with one (-1 when it is not compiled for this
 * architecture or the CPU lacks it). lm__kern_active is the one lm_matmul uses. */
enum lm__kern_level {
    LM__KERN_REF, LM__KERN_AVX2, LM__KERN_AVX512, LM__KERN_AVX512VNNI, LM__KERN_NEON,
    LM__KERN_NEON_DOTPROD, LM__KERN_LEVELS
};
int lm__kern_build(struct lm__kern *k, int level);
const struct lm__kern *lm__kern_active(void);

/* Traits including the kernel-private types (lm_type_traits knows only file types). */
const struct lm_type_traits *lm__type_traits(int t);
/* Writes Q4_0 weights (nrows a multiple of 8) interleaved as LM_TYPE_Q4_0_R8 into dst (same size). */
void lm__q4_0_to_r8(const void *w, int64_t nrows, int64_t ncols, void *dst);
/* Writes Q8_0 weights (nrows a multiple of 8) interleaved as LM_TYPE_Q8_0_R8 into dst (same
 * size). Returns false (dst partly written) when a weight byte is -128: the x86 kernels multiply
 * |x| by w*sign(x), which needs -w to fit in a byte, so such weights keep the Q8_0 layout. */
bool lm__q8_0_to_r8(const void *w, int64_t nrows, int64_t ncols, void *dst);
/* Reference product for LM_TYPE_Q8_0_R8 (w at a row that is a multiple of 8; nr multiple of 8). */
void lm__gemm_q8_0_r8_ref(int64_t n, const void *w, size_t ws, int64_t nr, const void *x, size_t xs,
                          int64_t nt, float *y, int64_t ldy);
/* Reference product for LM_TYPE_Q4_0_R8 (w at a row that is a multiple of 8; nr multiple of 8). */
void lm__gemm_q4_0_r8_ref(int64_t n, const void *w, size_t ws, int64_t nr, const void *x, size_t xs,
                          int64_t nt, float *y, int64_t ldy);

/* Reference quantisers and dequantisers by type (n a multiple of the block size). */
void lm__quantize_q4_0_ref(const float *x, void *y, int64_t n);
void lm__quantize_q4_1_ref(const float *x, void *y, int64_t n);
void lm__quantize_q8_0_ref(const float *x, void *y, int64_t n);
void lm__quantize_q8_1_ref(const float *x, void *y, int64_t n);
void lm__quantize_q8_K_ref(const float *x, void *y, int64_t n);
void lm__quantize_q4_K_ref(const float *x, void *y, int64_t n);
void lm__quantize_q5_K_ref(const float *x, void *y, int64_t n);
void lm__quantize_q6_K_ref(const float *x, void *y, int64_t n);
void lm__dequantize_q4_K(const void *x, float *y, int64_t n);
void lm__dequantize_q5_K(const void *x, float *y, int64_t n);
void lm__dequantize_q6_K(const void *x, float *y, int64_t n);
void lm__dequantize_q8_K(const void *x, float *y, int64_t n);

/* K-quant sub-block scale and min (6 bits each) for sub-block j of a Q4_K/Q5_K block. */
static inline void lm__scale_min_k4(int j, const uint8_t *q, uint8_t *d, uint8_t *m)
{
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4));
    }
}

/* All 8 six-bit scales and mins of a Q4_K/Q5_K block (ggml's 12-byte packing) as bytes:
 * out[0..7] scales, out[8..15] mins (the SIMD kernels' form of lm__scale_min_k4). */
static inline void lm__k4_scales(const uint8_t *q, uint8_t out[16])
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

/* Round to nearest integer (ties to even), as ggml's nearest_int; |f| < 2^22. */
static inline int lm__nearest_int(float f)
{
    float v = f + 12582912.f;
    int32_t i;
    __builtin_memcpy(&i, &v, sizeof i);
    return (i & 0x007fffff) - 0x00400000;
}

#endif
