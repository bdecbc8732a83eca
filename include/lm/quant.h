/* quant.h — tensor element types and their block formats, as GGUF/ggml number them.
 *
 * Quantised types store blocks of block_size elements in type_size bytes (layouts identical
 * to ggml's, so GGUF files map directly). The scalar code for each type lives in
 * src/kernels/ (generic: the reference every SIMD kernel is tested against).
 */
#ifndef LM_QUANT_H
#define LM_QUANT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum lm_type {
    LM_TYPE_F32 = 0,
    LM_TYPE_F16 = 1,
    LM_TYPE_Q4_0 = 2,
    LM_TYPE_Q4_1 = 3,
    LM_TYPE_Q8_0 = 8,
    LM_TYPE_Q8_1 = 9,
    LM_TYPE_Q4_K = 12,
    LM_TYPE_Q5_K = 13,
    LM_TYPE_Q6_K = 14,
    LM_TYPE_Q8_K = 15,
    LM_TYPE_BF16 = 30,
    LM_TYPE_COUNT = 40,       /* bound for tables indexed by GGUF type */
    /* Kernel-private layouts made by lm_weights_prepare (lm/kernels.h); never in a file, and
     * lm_type_traits/lm_row_size do not know them. */
    LM_TYPE_Q4_0_R8 = 40,     /* Q4_0, 8 rows interleaved per block */
    LM_TYPE_Q8_0_R8 = 41,     /* Q8_0, 8 rows interleaved per block (no weight byte is -128) */
    LM_TYPE_ALL = 42,         /* bound for the kernels' own tables */
};

struct lm_type_traits {
    const char *name;         /* "F32", "Q4_0", ... */
    int block_size;           /* elements per block (1 for F32/F16/BF16) */
    size_t type_size;         /* bytes per block */
    bool quantized;
    enum lm_type vec_dot_type;/* type activations are converted to for dot products */
};

/* Traits of t, or NULL when t is not a type this engine supports. */
const struct lm_type_traits *lm_type_traits(int t);
/* Type by name ("q4_0", case-insensitive), or -1. */
int lm_type_from_name(const char *name);

/* Bytes of a row of n elements; 0 if n is not a multiple of the block size. */
size_t lm_row_size(enum lm_type t, int64_t n);

/* Converts n elements (n a multiple of the block size). Reference implementations. */
void lm_dequantize_row(enum lm_type t, const void *src, float *dst, int64_t n);
void lm_quantize_row(enum lm_type t, const float *src, void *dst, int64_t n);

/* Half-precision helpers. */
float lm_f16_to_f32(uint16_t h);
uint16_t lm_f32_to_f16(float f);
float lm_bf16_to_f32(uint16_t h);
uint16_t lm_f32_to_bf16(float f);

#endif
