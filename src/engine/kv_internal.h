/* kv_internal.h — instruction-set variants of the attention's f16 x f32 dot product (kv.c
 * picks one at first use). */
#ifndef LM_KV_INTERNAL_H
#define LM_KV_INTERNAL_H

#include <stdint.h>

#if defined(__x86_64__)
float lm__dot_f16_f32_avx2(const uint16_t *a, const float *b, int n);
#endif

#endif
