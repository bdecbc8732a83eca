/* kv_avx2.c — the attention dot product f16 x f32 with F16C + FMA (compiled with AVX2 flags,
 * called only when lm_cpu_features() reports them). */
#include <immintrin.h>
#include <stdint.h>

#include "engine/kv_internal.h"

float lm__dot_f16_f32_avx2(const uint16_t *a, const float *b, int n)
{
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 a0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(a + i)));
        __m256 a1 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(a + i + 8)));
        acc0 = _mm256_fmadd_ps(a0, _mm256_loadu_ps(b + i), acc0);
        acc1 = _mm256_fmadd_ps(a1, _mm256_loadu_ps(b + i + 8), acc1);
    }
    for (; i + 8 <= n; i += 8) {
        __m256 a0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(a + i)));
        acc0 = _mm256_fmadd_ps(a0, _mm256_loadu_ps(b + i), acc0);
    }
    acc0 = _mm256_add_ps(acc0, acc1);
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc0), _mm256_extractf128_ps(acc0, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    float r = _mm_cvtss_f32(s);
    for (; i < n; i++) r += _cvtsh_ss(a[i]) * b[i];
    return r;
}

/* out[h] = lm__dot_f16_f32_avx2(a, b + h * ldb, n) for h < G (1..4), with a read once: the
 * same sums in the same order as G separate calls. */
static inline __attribute__((always_inline)) void dot_multi(const uint16_t *a, const float *b, int ldb, int G, int n,
                                                             float *out)
{
    __m256 acc0[4], acc1[4];
#pragma GCC unroll 4
    for (int h = 0; h < G; h++) acc0[h] = acc1[h] = _mm256_setzero_ps();
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256 a0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(a + i)));
        const __m256 a1 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(a + i + 8)));
#pragma GCC unroll 4
        for (int h = 0; h < G; h++) {
            acc0[h] = _mm256_fmadd_ps(a0, _mm256_loadu_ps(b + (size_t)h * ldb + i), acc0[h]);
            acc1[h] = _mm256_fmadd_ps(a1, _mm256_loadu_ps(b + (size_t)h * ldb + i + 8), acc1[h]);
        }
    }
    const int i8 = i;
#pragma GCC unroll 4
    for (int h = 0; h < G; h++) {
        const float *bh = b + (size_t)h * ldb;
        __m256 s0 = acc0[h];
        for (i = i8; i + 8 <= n; i += 8)
            s0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(a + i))), _mm256_loadu_ps(bh + i), s0);
        s0 = _mm256_add_ps(s0, acc1[h]);
        __m128 s = _mm_add_ps(_mm256_castps256_ps128(s0), _mm256_extractf128_ps(s0, 1));
        s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        s = _mm_add_ss(s, _mm_movehdup_ps(s));
        float r = _mm_cvtss_f32(s);
        for (; i < n; i++) r += _cvtsh_ss(a[i]) * bh[i];
        out[h] = r;
    }
}

void lm__dot_f16_f32_multi_avx2(const uint16_t *a, const float *b, int ldb, int G, int n, float *out)
{
    switch (G) {
    case 4: dot_multi(a, b, ldb, 4, n, out); break;
    case 3: dot_multi(a, b, ldb, 3, n, out); break;
    case 2: dot_multi(a, b, ldb, 2, n, out); break;
    default: dot_multi(a, b, ldb, 1, n, out); break;
    }
}

void lm__round_f16_avx2(float *dst, const float *x, int n)
{
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT);
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(h));
    }
    for (; i < n; i++) dst[i] = _cvtsh_ss(_cvtss_sh(x[i], _MM_FROUND_TO_NEAREST_INT));
}

void lm__to_f16_avx2(uint16_t *dst, const float *x, int n)
{
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(dst + i), _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) dst[i] = _cvtss_sh(x[i], _MM_FROUND_TO_NEAREST_INT);
}
