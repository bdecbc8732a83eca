/* kern_x86_f.h — products of float weights (F32, F16, BF16) for kern_x86.h (AVX2 + FMA + F16C;
 * also compiled into the AVX-512 set, on 256-bit registers).
 *
 * Activations arrive in the weight type's vec_dot_type (F32 for F32, F16 for F16, BF16 for BF16),
 * so every product of two elements is exact in f32 and only the summation order differs from the
 * reference.
 *
 * One to three tokens (generation): the weights are streamed once, R rows x T tokens of dot
 * products at a time, and memory bandwidth is the limit.
 *
 * Four tokens or more (prompts, embedding batches): compute is the limit, so the work is done as a
 * packed outer product. For a chunk of FKC columns, the tokens' activations are converted to f32
 * once (F32 activations are read in place), and each panel of 16 weight rows is converted and
 * transposed once into wp[k][16]. A micro-tile of 16 rows x 6 tokens then keeps 12 accumulators
 * of 8 rows each in registers; per column it loads two weight vectors, broadcasts one activation
 * per token and issues 12 FMAs. The accumulators hold rows in their lanes, so no horizontal sums
 * are needed; partial sums of a block of up to 64 rows x 64 tokens live in an f32 buffer across
 * the column chunks. */
#ifndef LM_KERN_X86_F_H
#define LM_KERN_X86_F_H

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

/* ---- few tokens: R (1..4) rows x T (1..2) tokens of dot products; n % 8 tails in scalar ---- */
#define LM_X86_FLOAT_DOTS(NAME, LOAD, TOF)                                                           \
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
            for (int r = 0; r < R; r++) {                                                            \
                float s = hsum_ps(acc[r][t]);                                                        \
                for (int64_t k = i; k < n; k++)                                                      \
                    s += TOF(w[r], k) * TOF(x[t], k);                                                \
                y[t * ldy + r] = s;                                                                  \
            }                                                                                        \
    }                                                                                                \
    static void NAME(int64_t n, const void *w, size_t ws, int64_t nr, const void *x, size_t xs,     \
                     int64_t nt, float *y, int64_t ldy)                                              \
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

LM_X86_FLOAT_DOTS(x86_gemm_f32_dots, load8_f32, tof_f32)
LM_X86_FLOAT_DOTS(x86_gemm_f16_dots, load8_f16, tof_f16)
LM_X86_FLOAT_DOTS(x86_gemm_bf16_dots, load8_bf16, tof_bf16)

/* ---- many tokens: packed outer products ---- */

#ifndef LM_FKC
#define LM_FKC 128
#endif
enum {
    FKC = LM_FKC,   /* columns per chunk: the 4 packed panels of a row block are 32 KiB */
    FMR = 16,       /* rows per panel and micro-tile (two vectors) */
    FNR = 6,        /* tokens per micro-tile: 12 accumulators + 2 weights + 1 broadcast = 15 */
    FTB = 64,       /* tokens per block */
    FRB = 64,       /* rows per block (the f32 partial sums, FTB x FRB, are 16 KiB) */
};

/* For t < T: out[t*ldo + 0..16) = in[t*ldi + 0..16) (zero when in is NULL)
 *                                 + sum over k < kc of wp[16k + 0..16) * x[t*ldx + k]. */
LM_AI void f_micro(int T, int64_t kc, const float *wp, const float *x, int64_t ldx, const float *in,
                   int64_t ldi, float *out, int64_t ldo)
{
    __m256 a0[FNR], a1[FNR];
#pragma GCC unroll 6
    for (int t = 0; t < T; t++) {
        a0[t] = in ? _mm256_loadu_ps(in + t * ldi) : _mm256_setzero_ps();
        a1[t] = in ? _mm256_loadu_ps(in + t * ldi + 8) : _mm256_setzero_ps();
    }
    for (int64_t k = 0; k < kc; k++) {
        const __m256 w0 = _mm256_load_ps(wp + 16 * k), w1 = _mm256_load_ps(wp + 16 * k + 8);
#pragma GCC unroll 6
        for (int t = 0; t < T; t++) {
            const __m256 b = _mm256_broadcast_ss(x + t * ldx + k);
            a0[t] = _mm256_fmadd_ps(w0, b, a0[t]);
            a1[t] = _mm256_fmadd_ps(w1, b, a1[t]);
        }
    }
#pragma GCC unroll 6
    for (int t = 0; t < T; t++) {
        _mm256_storeu_ps(out + t * ldo, a0[t]);
        _mm256_storeu_ps(out + t * ldo + 8, a1[t]);
    }
}

/* f_micro for T in 1..FNR (the compiler keeps one register set per count). */
static void f_micro_n(int T, int64_t kc, const float *wp, const float *x, int64_t ldx, const float *in,
                      int64_t ldi, float *out, int64_t ldo)
{
    switch (T) {
    case 6: f_micro(6, kc, wp, x, ldx, in, ldi, out, ldo); break;
    case 5: f_micro(5, kc, wp, x, ldx, in, ldi, out, ldo); break;
    case 4: f_micro(4, kc, wp, x, ldx, in, ldi, out, ldo); break;
    case 3: f_micro(3, kc, wp, x, ldx, in, ldi, out, ldo); break;
    case 2: f_micro(2, kc, wp, x, ldx, in, ldi, out, ldo); break;
    default: f_micro(1, kc, wp, x, ldx, in, ldi, out, ldo); break;
    }
}

/* One token group (T <= FNR tokens, activations x as f32) against the np packed panels of a row
 * block (wp: np panels of kc x 16) for one column chunk. Partial sums live in c (ldc FRB); the
 * first chunk starts from zero, the last one writes y (ldy) directly for full panels. */
static void f_group(int T, int64_t kc, const float *wp, int64_t np, int64_t rb, const float *x,
                    int64_t ldx, float *c, bool first, bool last, float *y, int64_t ldy)
{
    for (int64_t p = 0; p < np; p++) {
        const float *in = first ? NULL : c + p * FMR;
        const float *w = wp + p * FMR * kc;
        if (last && (p + 1) * FMR <= rb) {
            f_micro_n(T, kc, w, x, ldx, in, FRB, y + p * FMR, ldy);
        } else {
            f_micro_n(T, kc, w, x, ldx, in, FRB, c + p * FMR, FRB);
            if (last)       /* a partial panel: only its rows reach y */
                for (int t = 0; t < T; t++)
                    memcpy(y + t * ldy + p * FMR, c + t * FRB + p * FMR, (size_t)(rb - p * FMR) * sizeof(float));
        }
    }
}

/* 8x8 transpose: r[i] holds row i's 8 columns; afterwards r[j] holds column j's 8 rows. */
LM_AI void transpose8_ps(__m256 r[8])
{
    const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    const __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    const __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    const __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    const __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
    r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
    r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
    r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
    r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
    r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
    r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
    r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

/* Row pointers of panel p of the row block [r0, r0 + rb); rows past the block's end repeat the
 * panel's first row (their sums are dropped). */
static void f_panel_rows(const char **wr, const char *w, size_t ws, int64_t r0, int64_t rb, int64_t p)
{
    const int64_t rp = r0 + p * FMR;
    for (int r = 0; r < FMR; r++) wr[r] = w + (size_t)(rp + (rp + r < r0 + rb ? r : 0)) * ws;
}

/* The packed product for one element type: LOAD converts 8 elements to f32, TOF one, ESIZE is
 * the element's size in bytes; F32X is true when the activations are f32 already (read in place,
 * no conversion). */
#define LM_X86_FLOAT_PACKED(NAME, LOAD, TOF, ESIZE, F32X)                                                   \
    /* wp[16k + r] = row r (w[r]) element k0 + k, for k < kc; meanwhile the cache lines of the     \
     * next panel to pack (rows wn, from column kn) are prefetched, one per row per 64 bytes */       \
    static void NAME##_pack_w(float *wp, const char *const *w, int64_t k0, int64_t kc,               \
                              const char *const *wn, int64_t kn)                                     \
    {                                                                                                \
        int64_t k = 0;                                                                               \
        for (; k + 8 <= kc; k += 8)                                                                  \
            for (int h = 0; h < 2; h++) {                                                            \
                __m256 v[8];                                                                         \
                if ((k * ESIZE) % 64 == 0)                                                           \
                    for (int r = 0; r < 8; r++)                                                      \
                        _mm_prefetch(wn[8 * h + r] + (kn + k) * ESIZE, _MM_HINT_T0);                 \
                for (int r = 0; r < 8; r++) v[r] = LOAD(w[8 * h + r], k0 + k);                       \
                transpose8_ps(v);                                                                    \
                for (int j = 0; j < 8; j++) _mm256_store_ps(wp + 16 * (k + j) + 8 * h, v[j]);       \
            }                                                                                        \
        for (; k < kc; k++)                                                                          \
            for (int r = 0; r < FMR; r++) wp[16 * k + r] = TOF(w[r], k0 + k);                        \
    }                                                                                                \
    /* xb[t*FKC + k] = token t element k0 + k, for t < T, k < kc; the same columns of the next     \
     * FNR tokens are prefetched */                                                                  \
    static void NAME##_pack_x(float *xb, const char *x, size_t xs, int T, int64_t k0, int64_t kc)   \
    {                                                                                                \
        for (int t = 0; t < T; t++) {                                                                \
            const char *xt = x + (size_t)t * xs;                                                     \
            float *o = xb + t * FKC;                                                                 \
            int64_t k = 0;                                                                           \
            for (; k + 8 <= kc; k += 8) {                                                            \
                if ((k * ESIZE) % 64 == 0)                                                           \
                    _mm_prefetch(xt + (size_t)FNR * xs + (k0 + k) * ESIZE, _MM_HINT_T0);             \
                _mm256_store_ps(o + k, LOAD(xt, k0 + k));                                            \
            }                                                                                        \
            for (; k < kc; k++) o[k] = TOF(xt, k0 + k);                                              \
        }                                                                                            \
    }                                                                                                \
    static void NAME(int64_t n, const void *w, size_t ws, int64_t nr, const void *x, size_t xs,     \
                     int64_t nt, float *y, int64_t ldy)                                              \
    {                                                                                                \
        if (nt < 4) {                                                                                \
            NAME##_dots(n, w, ws, nr, x, xs, nt, y, ldy);                                            \
            return;                                                                                  \
        }                                                                                            \
        _Alignas(32) float wp[FRB * FKC];    /* the row block's panels for one column chunk */       \
        _Alignas(32) float xb[FNR * FKC];    /* one token group's activations (not for f32) */       \
        _Alignas(32) float c[FTB * FRB];     /* partial sums across column chunks */                 \
        for (int64_t t0 = 0; t0 < nt; t0 += FTB) {                                                   \
            const int64_t tb = nt - t0 < FTB ? nt - t0 : FTB;                                        \
            for (int64_t r0 = 0; r0 < nr; r0 += FRB) {                                               \
                const int64_t rb = nr - r0 < FRB ? nr - r0 : FRB, np = (rb + FMR - 1) / FMR;         \
                for (int64_t k0 = 0; k0 < n; k0 += FKC) {                                            \
                    const int64_t kc = n - k0 < FKC ? n - k0 : FKC;                                  \
                    const char *wr[FMR], *wn[FMR];                                                   \
                    f_panel_rows(wr, (const char *)w, ws, r0, rb, 0);                                \
                    for (int64_t p = 0; p < np; p++) {                                               \
                        /* the next panel: in this chunk, else the first of the next chunk */         \
                        const int64_t pn = p + 1 < np ? p + 1 : 0;                                   \
                        f_panel_rows(wn, (const char *)w, ws, r0, rb, pn);                           \
                        NAME##_pack_w(wp + p * FMR * kc, wr, k0, kc, wn, pn ? k0 : k0 + kc);         \
                        memcpy(wr, wn, sizeof wr);                                                   \
                    }                                                                                \
                    for (int64_t t = 0; t < tb; t += FNR) {                                          \
                        const int T = tb - t < FNR ? (int)(tb - t) : FNR;                            \
                        const char *xt = (const char *)x + (size_t)(t0 + t) * xs;                    \
                        const float *xp = (const float *)xt + k0;                                    \
                        int64_t ldx = (int64_t)(xs / sizeof(float));                                 \
                        if (!F32X) {                                                                 \
                            NAME##_pack_x(xb, xt, xs, T, k0, kc);                                    \
                            xp = xb;                                                                 \
                            ldx = FKC;                                                               \
                        }                                                                            \
                        f_group(T, kc, wp, np, rb, xp, ldx, c + t * FRB, k0 == 0, k0 + kc >= n,      \
                                y + (t0 + t) * ldy + r0, ldy);                                       \
                    }                                                                                \
                }                                                                                    \
            }                                                                                        \
        }                                                                                            \
    }

LM_X86_FLOAT_PACKED(x86_gemm_f32, load8_f32, tof_f32, 4, 1)
LM_X86_FLOAT_PACKED(x86_gemm_f16, load8_f16, tof_f16, 2, 0)
LM_X86_FLOAT_PACKED(x86_gemm_bf16, load8_bf16, tof_bf16, 2, 0)

#endif
