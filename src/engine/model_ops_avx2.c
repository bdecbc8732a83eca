/* model_ops_avx2.c — softmax and f16 dot products in the operation order of ggml's x86 CPU
 * backend built for AVX2 + FMA + F16C (compiled with those flags; see model_ops_avx2.h). */
#include <immintrin.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/model_ops_avx2.h"

/* ggml's vector exp (ggml_v_expf for __m256): a degree-5 polynomial after range reduction,
 * with the special cases for |n| > 126. The constants are the published coefficients. */
static inline __m256 v_expf(__m256 x)
{
    const __m256 r = _mm256_set1_ps(0x1.8p23f);
    const __m256 z = _mm256_fmadd_ps(x, _mm256_set1_ps(0x1.715476p+0f), r);
    const __m256 n = _mm256_sub_ps(z, r);
    const __m256 b = _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.7f7d1cp-20f),
                                      _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.62e4p-1f), x));
    const __m256i e = _mm256_slli_epi32(_mm256_castps_si256(z), 23);
    const __m256 k = _mm256_castsi256_ps(_mm256_add_epi32(e, _mm256_castps_si256(_mm256_set1_ps(1))));
    const __m256i c = _mm256_castps_si256(
        _mm256_cmp_ps(_mm256_andnot_ps(_mm256_set1_ps(-0.f), n), _mm256_set1_ps(126), _CMP_GT_OQ));
    const __m256 u = _mm256_mul_ps(b, b);
    const __m256 j = _mm256_fmadd_ps(
        _mm256_fmadd_ps(_mm256_fmadd_ps(_mm256_set1_ps(0x1.0e4020p-7f), b, _mm256_set1_ps(0x1.573e2ep-5f)), u,
                        _mm256_fmadd_ps(_mm256_set1_ps(0x1.555e66p-3f), b, _mm256_set1_ps(0x1.fffdb6p-2f))),
        u, _mm256_mul_ps(_mm256_set1_ps(0x1.ffffecp-1f), b));
    if (!_mm256_movemask_ps(_mm256_castsi256_ps(c))) return _mm256_fmadd_ps(j, k, k);
    const __m256i g = _mm256_and_si256(_mm256_castps_si256(_mm256_cmp_ps(n, _mm256_setzero_ps(), _CMP_LE_OQ)),
                                       _mm256_set1_epi32((int)0x82000000u));
    const __m256 s1 = _mm256_castsi256_ps(_mm256_add_epi32(g, _mm256_set1_epi32(0x7f000000)));
    const __m256 s2 = _mm256_castsi256_ps(_mm256_sub_epi32(e, g));
    const __m256i d = _mm256_castps_si256(
        _mm256_cmp_ps(_mm256_andnot_ps(_mm256_set1_ps(-0.f), n), _mm256_set1_ps(192), _CMP_GT_OQ));
    return _mm256_or_ps(
        _mm256_and_ps(_mm256_castsi256_ps(d), _mm256_mul_ps(s1, s1)),
        _mm256_andnot_ps(_mm256_castsi256_ps(d),
                         _mm256_or_ps(_mm256_and_ps(_mm256_castsi256_ps(c), _mm256_mul_ps(_mm256_fmadd_ps(s2, j, s2), s1)),
                                      _mm256_andnot_ps(_mm256_castsi256_ps(c), _mm256_fmadd_ps(k, j, k)))));
}

void lm__softmax_ggml_avx2(float *x, int n)
{
    float max = -INFINITY;
    for (int i = 0; i < n; i++) max = x[i] > max ? x[i] : max;
    double sum = 0;
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = v_expf(_mm256_sub_ps(_mm256_loadu_ps(x + i), _mm256_set1_ps(max)));
        _mm256_storeu_ps(x + i, v);
        __m128 s = _mm_add_ps(_mm256_extractf128_ps(v, 1), _mm256_castps256_ps128(v));
        s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        s = _mm_add_ss(s, _mm_movehdup_ps(s));
        sum += (double)_mm_cvtss_f32(s);
    }
    for (; i < n; i++) {
        x[i] = expf(x[i] - max);
        sum += (double)x[i];
    }
    const float inv = (float)(1.0 / sum);
    for (i = 0; i < n; i++) x[i] *= inv;
}

static inline __m256 load_f16(const uint16_t *p)
{
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}

float lm__dot_f16_tinyblas_avx2(const uint16_t *a, const uint16_t *b, int n)
{
    __m256 acc = _mm256_setzero_ps();
    for (int i = 0; i < n; i += 8) acc = _mm256_fmadd_ps(load_f16(a + i), load_f16(b + i), acc);
    __m128 s = _mm_add_ps(_mm256_extractf128_ps(acc, 1), _mm256_castps256_ps128(acc));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

float lm__dot_f16_vec_avx2(const uint16_t *a, const uint16_t *b, int n)
{
    const int np = n & ~31;
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    for (int i = 0; i < np; i += 32)
        for (int j = 0; j < 4; j++) acc[j] = _mm256_fmadd_ps(load_f16(a + i + 8 * j), load_f16(b + i + 8 * j), acc[j]);
    acc[0] = _mm256_add_ps(acc[0], acc[2]);
    acc[1] = _mm256_add_ps(acc[1], acc[3]);
    acc[0] = _mm256_add_ps(acc[0], acc[1]);
    const __m128 t0 = _mm_add_ps(_mm256_castps256_ps128(acc[0]), _mm256_extractf128_ps(acc[0], 1));
    const __m128 t1 = _mm_hadd_ps(t0, t0);
    double sum = (double)_mm_cvtss_f32(_mm_hadd_ps(t1, t1));
    for (int i = np; i < n; i++) sum += (double)(_cvtsh_ss(a[i]) * _cvtsh_ss(b[i]));
    return (float)sum;
}

/* hsum of tinyBLAS (and of ggml's hsum_float_8) */
static inline float hsum_tiny(__m256 acc)
{
    __m128 s = _mm_add_ps(_mm256_extractf128_ps(acc, 1), _mm256_castps256_ps128(acc));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* GGML_F32x8_REDUCE of four accumulators */
static inline float reduce_vec(__m256 a0, __m256 a1, __m256 a2, __m256 a3)
{
    a0 = _mm256_add_ps(a0, a2);
    a1 = _mm256_add_ps(a1, a3);
    a0 = _mm256_add_ps(a0, a1);
    const __m128 t0 = _mm_add_ps(_mm256_castps256_ps128(a0), _mm256_extractf128_ps(a0, 1));
    const __m128 t1 = _mm_hadd_ps(t0, t0);
    return _mm_cvtss_f32(_mm_hadd_ps(t1, t1));
}

void lm__attn_v_avx2(const uint16_t *v, size_t stride, int rows, int cap, int start, const uint16_t *p, int n,
                     bool tiny, float *out)
{
    int r = 0;
    /* four rows at a time: independent accumulators keep the FMA units busy while each
     * output keeps its own summation order */
    for (; r + 4 <= rows; r += 4) {
        const uint16_t *v0 = v + (size_t)r * stride, *v1 = v0 + stride, *v2 = v1 + stride, *v3 = v2 + stride;
        if (tiny) {
            __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0;
            for (int i = 0; i < n; i += 32) {
                const int o = (start + i) % cap;
                for (int j = 0; j < 32; j += 8) {
                    const __m256 pb = load_f16(p + i + j);
                    c0 = _mm256_fmadd_ps(load_f16(v0 + o + j), pb, c0);
                    c1 = _mm256_fmadd_ps(load_f16(v1 + o + j), pb, c1);
                    c2 = _mm256_fmadd_ps(load_f16(v2 + o + j), pb, c2);
                    c3 = _mm256_fmadd_ps(load_f16(v3 + o + j), pb, c3);
                }
            }
            out[r] = hsum_tiny(c0), out[r + 1] = hsum_tiny(c1), out[r + 2] = hsum_tiny(c2), out[r + 3] = hsum_tiny(c3);
        } else {
            for (int k = 0; k < 4; k++) {
                const uint16_t *vr = v + (size_t)(r + k) * stride;
                __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
                for (int i = 0; i < n; i += 32) {
                    const uint16_t *a = vr + (start + i) % cap;
                    a0 = _mm256_fmadd_ps(load_f16(a), load_f16(p + i), a0);
                    a1 = _mm256_fmadd_ps(load_f16(a + 8), load_f16(p + i + 8), a1);
                    a2 = _mm256_fmadd_ps(load_f16(a + 16), load_f16(p + i + 16), a2);
                    a3 = _mm256_fmadd_ps(load_f16(a + 24), load_f16(p + i + 24), a3);
                }
                out[r + k] = reduce_vec(a0, a1, a2, a3);
            }
        }
    }
    for (; r < rows; r++) {
        const uint16_t *vr = v + (size_t)r * stride;
        if (tiny) {
            __m256 c = _mm256_setzero_ps();
            for (int i = 0; i < n; i += 32) {
                const int o = (start + i) % cap;
                for (int j = 0; j < 32; j += 8) c = _mm256_fmadd_ps(load_f16(vr + o + j), load_f16(p + i + j), c);
            }
            out[r] = hsum_tiny(c);
        } else {
            __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
            for (int i = 0; i < n; i += 32) {
                const uint16_t *a = vr + (start + i) % cap;
                a0 = _mm256_fmadd_ps(load_f16(a), load_f16(p + i), a0);
                a1 = _mm256_fmadd_ps(load_f16(a + 8), load_f16(p + i + 8), a1);
                a2 = _mm256_fmadd_ps(load_f16(a + 16), load_f16(p + i + 16), a2);
                a3 = _mm256_fmadd_ps(load_f16(a + 24), load_f16(p + i + 24), a3);
            }
            out[r] = reduce_vec(a0, a1, a2, a3);
        }
    }
}
