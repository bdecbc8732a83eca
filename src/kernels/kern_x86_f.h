/* kern_x86_f.h — products of float weights (F32, F16, BF16) for kern_x86.h (AVX2 + FMA + F16C;
 * also compiled into the AVX-512 set, on 256-bit registers).
 *
 * Activations arrive in the weight type's vec_dot_type (F32 for F32, F16 for F16, BF16 for BF16),
 * so every product of two elements is exact in f32. Every path sums a dot product the same way:
 * eight lanes of FMAs over the columns in steps of 8, hsum_ps of the lanes, then the n % 8 tail in
 * order. A token's result is therefore bit-identical whether it comes alone or in a batch (the
 * models' batch-invariance tests rely on this), and identical to the earlier kernels.
 *
 * One to three tokens (generation): the weights are streamed once, R rows x T tokens of dot
 * products at a time, converted as they are loaded; memory bandwidth is the limit.
 *
 * Four tokens or more (prompts, embedding batches): compute is the limit. For a block of up to 64
 * rows and a chunk of up to 512 columns, the rows are converted to f32 once into a per-thread
 * buffer (128 KiB, L2; F32 rows are read in place); then for every group of 3 tokens (converted
 * once, so they stay in L1) the block is swept in 4-row tiles: 12 accumulators in registers,
 * 7 loads per 12 FMAs, no conversion in the loop. */
#ifndef LM_KERN_X86_F_H
#define LM_KERN_X86_F_H

#include <pthread.h>
#include <stdlib.h>

LM_AI __m256 load8_f32(const void *p, int64_t i) { return _mm256_loadu_ps((const float *)p + i); }
LM_AI __m256 load8_f16(const void *p, int64_t i)
{
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)p + i)));
}
LM_AI __m256 load8_bf16(const void *p, int64_t i)
{
    const __m128i h = _mm_loadu_si128((const __m128i *)((const uint16_t *)p + i));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

LM_AI float tof_f32(const void *p, int64_t k) { return ((const float *)p)[k]; }
LM_AI float tof_f16(const void *p, int64_t k) { return f16_to_f32(((const uint16_t *)p)[k]); }
LM_AI float tof_bf16(const void *p, int64_t k) { return lm_bf16_to_f32(((const uint16_t *)p)[k]); }

/* ---- the sum of one dot product, shared by every path ---- */
#define LM_X86_FLOAT_FINISH(NAME, TOF)                                                               \
    /* s (the lanes' sum, columns below i), then columns i..n-1 of w and x in order */               \
    LM_AI float NAME##_tail(float s, const void *w, const void *x, int64_t i, int64_t n)            \
    {                                                                                                \
        for (int64_t k = i; k < n; k++) s += TOF(w, k) * TOF(x, k);                                  \
        return s;                                                                                    \
    }                                                                                                \
    LM_AI float NAME##_finish(__m256 acc, const void *w, const void *x, int64_t i, int64_t n)       \
    {                                                                                                \
        return NAME##_tail(hsum_ps(acc), w, x, i, n);                                                \
    }

/* hsum_ps of four vectors at once, with the same additions in the same order: out = {a, c, b, d}. */
LM_AI __m128 hsum4_ps(__m256 a, __m256 b, __m256 c, __m256 d)
{
    /* halves: [a.lo + a.hi | b.lo + b.hi] and [c.lo + c.hi | d.lo + d.hi] */
    const __m256 p = _mm256_add_ps(_mm256_permute2f128_ps(a, b, 0x20), _mm256_permute2f128_ps(a, b, 0x31));
    const __m256 q = _mm256_add_ps(_mm256_permute2f128_ps(c, d, 0x20), _mm256_permute2f128_ps(c, d, 0x31));
    /* per 128-bit lane: [s0 + s2, s1 + s3] of p's then q's vector */
    const __m256 z = _mm256_add_ps(_mm256_shuffle_ps(p, q, _MM_SHUFFLE(1, 0, 1, 0)),
                                   _mm256_shuffle_ps(p, q, _MM_SHUFFLE(3, 2, 3, 2)));
    /* (s0 + s2) + (s1 + s3) */
    const __m256 f = _mm256_add_ps(z, _mm256_shuffle_ps(z, z, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_shuffle_ps(_mm256_castps256_ps128(f), _mm256_extractf128_ps(f, 1), _MM_SHUFFLE(2, 0, 2, 0));
}

/* ---- few tokens: R (1..4) rows x T (1..2) tokens of dot products, converted on load ---- */
#define LM_X86_FLOAT_DOTS(NAME, LOAD)                                                                \
    LM_AI void NAME##_tile(int R, int T, int64_t n, const char *const *w, const char *const *x,      \
                           float *y, int64_t ldy)                                                    \
    {                                                                                                \
        __m256 acc[4][2];                                                                            \
        for (int r = 0; r < R; r++)                                                                  \
            for (int t = 0; t < T; t++) acc[r][t] = _mm256_setzero_ps();                             \
        int64_t i = 0;                                                                               \
        for (; i + 8 <= n; i += 8) {                                                                 \
            __m256 xv[2];                                                                            \
            for (int t = 0; t < T; t++) xv[t] = LOAD(x[t], i);                                       \
            for (int r = 0; r < R; r++) {                                                            \
                const __m256 wv = LOAD(w[r], i);                                                     \
                for (int t = 0; t < T; t++) acc[r][t] = _mm256_fmadd_ps(wv, xv[t], acc[r][t]);       \
            }                                                                                        \
        }                                                                                            \
        for (int t = 0; t < T; t++)                                                                  \
            for (int r = 0; r < R; r++) y[t * ldy + r] = NAME##_finish(acc[r][t], w[r], x[t], i, n); \
    }                                                                                                \
    static void NAME##_dots(int64_t n, const void *w, size_t ws, int64_t nr, const void *x,          \
                            size_t xs, int64_t nt, float *y, int64_t ldy)                            \
    {                                                                                                \
        for (int64_t r0 = 0; r0 < nr; r0 += 4) {                                                     \
            const int R = nr - r0 >= 4 ? 4 : (int)(nr - r0);                                         \
            const char *wp[4];                                                                       \
            for (int r = 0; r < R; r++) wp[r] = (const char *)w + (size_t)(r0 + r) * ws;             \
            int64_t t0 = 0;                                                                          \
            for (; t0 + 2 <= nt; t0 += 2) {                                                          \
                const char *xp[2] = {(const char *)x + (size_t)t0 * xs, (const char *)x + (size_t)(t0 + 1) * xs}; \
                if (R == 4) NAME##_tile(4, 2, n, wp, xp, y + t0 * ldy + r0, ldy);                    \
                else for (int r = 0; r < R; r++) NAME##_tile(1, 2, n, wp + r, xp, y + t0 * ldy + r0 + r, ldy); \
            }                                                                                        \
            if (t0 < nt) {                                                                           \
                const char *xp[1] = {(const char *)x + (size_t)t0 * xs};                             \
                if (R == 4) NAME##_tile(4, 1, n, wp, xp, y + t0 * ldy + r0, ldy);                    \
                else for (int r = 0; r < R; r++) NAME##_tile(1, 1, n, wp + r, xp, y + t0 * ldy + r0 + r, ldy); \
            }                                                                                        \
        }                                                                                            \
    }

/* ---- many tokens: f32 copies and 4-row x 3-token register tiles ---- */

enum {
    FKC = 512,      /* columns per chunk: a block's f32 rows are 128 KiB (L2) */
    FRB = 64,       /* rows per block */
    FTB = 64,       /* tokens per block */
    FNR = 3,        /* tokens per group: 12 accumulators + 3 activations + 1 weight = 16 */
};

/* Per-thread buffer for the f32 copies, grown on demand and freed when the thread exits. */
struct f_buf {
    float *p;
    size_t cap;     /* floats */
};
static pthread_key_t f_buf_key;
static pthread_once_t f_buf_once = PTHREAD_ONCE_INIT;

static void f_buf_free(void *v)
{
    struct f_buf *b = v;
    free(b->p);
    free(b);
}

static void f_buf_init(void)
{
    pthread_key_create(&f_buf_key, f_buf_free);
}

/* n floats of this thread's buffer, 64-byte aligned; NULL when out of memory. */
static float *f_scratch(size_t n)
{
    pthread_once(&f_buf_once, f_buf_init);
    struct f_buf *b = pthread_getspecific(f_buf_key);
    if (!b) {
        b = calloc(1, sizeof *b);
        if (!b) return NULL;
        if (pthread_setspecific(f_buf_key, b) != 0) {
            free(b);
            return NULL;
        }
    }
    if (n > b->cap) {
        void *p = NULL;
        if (posix_memalign(&p, 64, n * sizeof(float)) != 0) return NULL;
        free(b->p);
        b->p = p;
        b->cap = n;
    }
    return b->p;
}

/* acc[r][t] += lanes of dot(w[r], x[t]) over columns [0, n8), for r < R, t < T (f32 rows). */
LM_AI void f_dot_tile(int R, int T, int64_t n8, const float *const *w, const float *const *x, __m256 acc[4][FNR])
{
    /* local accumulators and row pointers: written back once, so they can live in registers */
    __m256 a[4][FNR];
    const float *wr[4], *xr[FNR];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) wr[r] = w[r];
#pragma GCC unroll 4
    for (int t = 0; t < T; t++) xr[t] = x[t];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int t = 0; t < T; t++) a[r][t] = acc[r][t];
    for (int64_t i = 0; i < n8; i += 8) {
        __m256 xv[FNR];
#pragma GCC unroll 4
        for (int t = 0; t < T; t++) xv[t] = _mm256_loadu_ps(xr[t] + i);
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) {
            const __m256 wv = _mm256_loadu_ps(wr[r] + i);
#pragma GCC unroll 4
            for (int t = 0; t < T; t++) a[r][t] = _mm256_fmadd_ps(wv, xv[t], a[r][t]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int t = 0; t < T; t++) acc[r][t] = a[r][t];
}

/* The tile with R and T as constants, so its accumulators stay in registers. */
static void f_dot_tile_n(int R, int T, int64_t n8, const float *const *w, const float *const *x, __m256 acc[4][FNR])
{
    if (R == 4) {
        if (T == 3) f_dot_tile(4, 3, n8, w, x, acc);
        else if (T == 2) f_dot_tile(4, 2, n8, w, x, acc);
        else f_dot_tile(4, 1, n8, w, x, acc);
    } else {
        if (T == 3) f_dot_tile(1, 3, n8, w, x, acc);
        else if (T == 2) f_dot_tile(1, 2, n8, w, x, acc);
        else f_dot_tile(1, 1, n8, w, x, acc);
    }
}

/* The product for one element type: LOAD converts 8 elements to f32, TOF one, ESIZE is the
 * element size in bytes; F32X is true when rows are f32 already (read in place, no copies).
 * Blocks of FTB tokens x FRB rows go through the columns in chunks of FKC; between chunks each
 * dot product's 8 lanes wait in st (exact, so the sum is the same as in one pass). */
#define LM_X86_FLOAT_GEMM(NAME, LOAD, TOF, ESIZE, F32X)                                              \
    LM_X86_FLOAT_FINISH(NAME, TOF)                                                                   \
    LM_X86_FLOAT_DOTS(NAME, LOAD)                                                                    \
    /* dst[i] = src element i, i < n8 */                                                             \
    static void NAME##_to_f32(float *dst, const char *src, int64_t n8)                              \
    {                                                                                                \
        for (int64_t i = 0; i < n8; i += 8) _mm256_store_ps(dst + i, LOAD(src, i));                  \
    }                                                                                                \
    static void NAME(int64_t n, const void *w, size_t ws, int64_t nr, const void *x, size_t xs,     \
                     int64_t nt, float *y, int64_t ldy)                                              \
    {                                                                                                \
        const int64_t n8 = n / 8 * 8;                                                                \
        /* lane sums FTB x FRB x 8, then the f32 rows of a block and of a token group */             \
        float *st = nt >= 4 && n8 > 0 ? f_scratch((size_t)FTB * FRB * 8 + (size_t)(FRB + FNR) * FKC) : NULL; \
        if (!st) {                                                                                   \
            NAME##_dots(n, w, ws, nr, x, xs, nt, y, ldy);                                            \
            return;                                                                                  \
        }                                                                                            \
        float *wb = st + (size_t)FTB * FRB * 8, *xb = wb + (size_t)FRB * FKC;                        \
        for (int64_t t0 = 0; t0 < nt; t0 += FTB) {                                                   \
            const int64_t tb = nt - t0 < FTB ? nt - t0 : FTB;                                        \
            for (int64_t r0 = 0; r0 < nr; r0 += FRB) {                                               \
                const int64_t rb = nr - r0 < FRB ? nr - r0 : FRB;                                    \
                const char *wrow = (const char *)w + (size_t)r0 * ws;                                \
                for (int64_t k0 = 0; k0 < n8; k0 += FKC) {                                           \
                    const int64_t kc = n8 - k0 < FKC ? n8 - k0 : FKC;                                \
                    const int first = k0 == 0, last = k0 + kc == n8;                                 \
                    if (!F32X)                                                                       \
                        for (int64_t r = 0; r < rb; r++)                                             \
                            NAME##_to_f32(wb + r * FKC, wrow + (size_t)r * ws + (size_t)k0 * ESIZE, kc); \
                    for (int64_t tg = 0; tg < tb; tg += FNR) {                                       \
                        const int T = tb - tg < FNR ? (int)(tb - tg) : FNR;                          \
                        const char *xrow = (const char *)x + (size_t)(t0 + tg) * xs;                 \
                        const float *xp[FNR];                                                        \
                        for (int t = 0; t < T; t++) {                                                \
                            if (F32X) {                                                              \
                                xp[t] = (const float *)(xrow + (size_t)t * xs) + k0;                 \
                            } else {                                                                 \
                                NAME##_to_f32(xb + t * FKC, xrow + (size_t)t * xs + (size_t)k0 * ESIZE, kc); \
                                xp[t] = xb + t * FKC;                                                \
                            }                                                                        \
                        }                                                                            \
                        for (int64_t r = 0; r < rb; r += 4) {                                        \
                            const int R = rb - r >= 4 ? 4 : 1;                                       \
                            const float *wp[4];                                                      \
                            for (int i = 0; i < R; i++)                                              \
                                wp[i] = F32X ? (const float *)(wrow + (size_t)(r + i) * ws) + k0     \
                                             : wb + (r + i) * FKC;                                   \
                            __m256 acc[4][FNR];                                                      \
                            for (int t = 0; t < T; t++)                                              \
                                for (int i = 0; i < R; i++)                                          \
                                    acc[i][t] = first ? _mm256_setzero_ps()                          \
                                                      : _mm256_load_ps(st + ((tg + t) * FRB + r + i) * 8); \
                            f_dot_tile_n(R, T, kc, wp, xp, acc);                                     \
                            for (int t = 0; t < T; t++) {                                            \
                                float *yt = y + (t0 + tg + t) * ldy + r0 + r;                        \
                                const char *xt = xrow + (size_t)t * xs;                              \
                                if (last && R == 4) {                                                \
                                    float h[4];                                                      \
                                    _mm_storeu_ps(h, hsum4_ps(acc[0][t], acc[1][t], acc[2][t], acc[3][t])); \
                                    static const int at[4] = {0, 2, 1, 3};                           \
                                    for (int i = 0; i < 4; i++)                                      \
                                        yt[i] = NAME##_tail(h[at[i]], wrow + (size_t)(r + i) * ws, xt, n8, n); \
                                } else {                                                             \
                                    for (int i = 0; i < R; i++) {                                    \
                                        if (last)                                                    \
                                            yt[i] = NAME##_finish(acc[i][t], wrow + (size_t)(r + i) * ws, xt, n8, n); \
                                        else                                                         \
                                            _mm256_store_ps(st + ((tg + t) * FRB + r + i) * 8, acc[i][t]); \
                                    }                                                                \
                                }                                                                    \
                            }                                                                        \
                            if (R == 1) r -= 3;     /* advanced by one row only */                   \
                        }                                                                            \
                    }                                                                                \
                }                                                                                    \
            }                                                                                        \
        }                                                                                            \
    }

LM_X86_FLOAT_GEMM(x86_gemm_f32, load8_f32, tof_f32, 4, 1)
LM_X86_FLOAT_GEMM(x86_gemm_f16, load8_f16, tof_f16, 2, 0)
LM_X86_FLOAT_GEMM(x86_gemm_bf16, load8_bf16, tof_bf16, 2, 0)

#endif
