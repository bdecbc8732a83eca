/* kv_internal.h — instruction-set variants of the attention's f16 x f32 dot product (kv.c
 * picks one at first use). */
#ifndef LM_KV_INTERNAL_H
#define LM_KV_INTERNAL_H

#include <stdint.h>

#if defined(__x86_64__)
float lm__dot_f16_f32_avx2(const uint16_t *a, const float *b, int n);
/* out[h] = dot(a, b + h * ldb) over n for h < G (1..4), each exactly as lm__dot_f16_f32_avx2. */
void lm__dot_f16_f32_multi_avx2(const uint16_t *a, const float *b, int ldb, int G, int n, float *out);
/* dst = x rounded through f16 (round to nearest even), and x to f16. */
void lm__round_f16_avx2(float *dst, const float *x, int n);
void lm__to_f16_avx2(uint16_t *dst, const float *x, int n);
#endif

#endif
