/* kern_x86.h — x86-64 integer-dot kernels shared by the AVX2 and AVX-512 files.
 *
 * Included by kern_x86_avx2.c (LM_X86_VNNI 0: maddubs+madd) and kern_x86_avx512.c
 * (LM_X86_VNNI 1: vpdpbusd on 256-bit registers, AVX512-VL), each compiled with its own flags.
 * Products are computed in tiles of R weight rows x T activation rows so one decoded weight block
 * serves T tokens (prefill) and one activation block serves R rows.
 *
 * u8 x s8 dot products: Q4_0 nibbles are used unsigned (0..15) and the offset of 8 is removed
 * with a per-activation-block correction (8 * sum of the activation block) that seeds the
 * accumulator; Q8_0 weights are signed, so the activations are made unsigned (x + 128) and the
 * correction is 128 * sum of the weight block. Both are exact in int32. */
#ifndef LM_KERN_X86_H
#define LM_KERN_X86_H

#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "kernels/kern_internal.h"

#define LM_AI static inline __attribute__((always_inline))

/* acc + sum over groups of 4 of u[i]*s[i] (u unsigned bytes, s signed bytes) */
LM_AI __m256i dot_u8s8(__m256i acc, __m256i u, __m256i s)
{
#if LM_X86_VNNI
    return _mm256_dpbusd_epi32(acc, u, s);
#else
    /* maddubs saturates pairs at 32767: callers keep u small enough (nibbles: 2*15*128; Q8_0
     * uses |w| <= 127 against x*sign(w): 2*127*128) */
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)));
#endif
}

LM_AI float hsum_ps(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

LM_AI float f16_to_f32(uint16_t h)
{
    return _cvtsh_ss(h);
}

/* 32 nibbles of a Q4_0/Q4_1 block as bytes 0..15 (low nibbles first, as the format orders them) */
LM_AI __m256i nibbles32(const uint8_t *qs)
{
    __m128i raw = _mm_loadu_si128((const __m128i *)qs);
    __m256i both = _mm256_inserti128_si256(_mm256_castsi128_si256(raw), _mm_srli_epi16(raw, 4), 1);
    return _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
}

/* One R x T tile of Q4_0 weights against Q8_0 activations. */
LM_AI void tile_q4_0(int R, int T, int64_t nb, const struct lm__block_q4_0 *const *w,
                     const struct lm__block_q8_0 *const *x, float *y, int64_t ldy)
{
    __m256 acc[4][4];
    for (int r = 0; r < R; r++)
        for (int t = 0; t < T; t++) acc[r][t] = _mm256_setzero_ps();
    const __m256i eights = _mm256_set1_epi8(8);
    for (int64_t b = 0; b < nb; b++) {
        __m256i qw[4];
        __m256 dw[4];
        for (int r = 0; r < R; r++) {
            qw[r] = nibbles32(w[r][b].qs);
            dw[r] = _mm256_set1_ps(f16_to_f32(w[r][b].d));
        }
        for (int t = 0; t < T; t++) {
            const __m256i qx = _mm256_loadu_si256((const __m256i *)x[t][b].qs);
            const __m256 dx = _mm256_set1_ps(f16_to_f32(x[t][b].d));
            /* seed with -8*sum(x) so the unsigned nibbles act as q-8 */
            const __m256i neg = _mm256_sub_epi32(_mm256_setzero_si256(), dot_u8s8(_mm256_setzero_si256(), eights, qx));
            for (int r = 0; r < R; r++) {
                const __m256i v = dot_u8s8(neg, qw[r], qx);
                acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(v), _mm256_mul_ps(dw[r], dx), acc[r][t]);
            }
        }
    }
    for (int t = 0; t < T; t++)
        for (int r = 0; r < R; r++) y[t * ldy + r] = hsum_ps(acc[r][t]);
}

/* One R x T tile of Q8_0 weights against Q8_0 activations (sign trick: |w| times x*sign(w)). */
LM_AI void tile_q8_0(int R, int T, int64_t nb, const struct lm__block_q8_0 *const *w,
                     const struct lm__block_q8_0 *const *x, float *y, int64_t ldy)
{
    __m256 acc[4][4];
    for (int r = 0; r < R; r++)
        for (int t = 0; t < T; t++) acc[r][t] = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        __m256i qw[4], aw[4];
        __m256 dw[4];
        for (int r = 0; r < R; r++) {
            qw[r] = _mm256_loadu_si256((const __m256i *)w[r][b].qs);
            aw[r] = _mm256_sign_epi8(qw[r], qw[r]);
            dw[r] = _mm256_set1_ps(f16_to_f32(w[r][b].d));
        }
        for (int t = 0; t < T; t++) {
            const __m256i qx = _mm256_loadu_si256((const __m256i *)x[t][b].qs);
            const __m256 dx = _mm256_set1_ps(f16_to_f32(x[t][b].d));
            for (int r = 0; r < R; r++) {
                const __m256i v = dot_u8s8(_mm256_setzero_si256(), aw[r], _mm256_sign_epi8(qx, qw[r]));
                acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(v), _mm256_mul_ps(dw[r], dx), acc[r][t]);
            }
        }
    }
    for (int t = 0; t < T; t++)
        for (int r = 0; r < R; r++) y[t * ldy + r] = hsum_ps(acc[r][t]);
}

/* One R x T tile of Q4_1 weights against Q8_1 activations: d*d8*dot(q, x) + m*s8. */
LM_AI void tile_q4_1(int R, int T, int64_t nb, const struct lm__block_q4_1 *const *w,
                     const struct lm__block_q8_1 *const *x, float *y, int64_t ldy)
{
    __m256 acc[4][4];
    float accm[4][4];
    for (int r = 0; r < R; r++)
        for (int t = 0; t < T; t++) {
            acc[r][t] = _mm256_setzero_ps();
            accm[r][t] = 0;
        }
    for (int64_t b = 0; b < nb; b++) {
        __m256i qw[4];
        float dw[4], mw[4];
        for (int r = 0; r < R; r++) {
            qw[r] = nibbles32(w[r][b].qs);
            dw[r] = f16_to_f32(w[r][b].d);
            mw[r] = f16_to_f32(w[r][b].m);
        }
        for (int t = 0; t < T; t++) {
            const __m256i qx = _mm256_loadu_si256((const __m256i *)x[t][b].qs);
            const float dx = f16_to_f32(x[t][b].d), sx = f16_to_f32(x[t][b].s);
            for (int r = 0; r < R; r++) {
                const __m256i v = dot_u8s8(_mm256_setzero_si256(), qw[r], qx);
                acc[r][t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(v), _mm256_set1_ps(dw[r] * dx), acc[r][t]);
                accm[r][t] += mw[r] * sx;
            }
        }
    }
    for (int t = 0; t < T; t++)
        for (int r = 0; r < R; r++) y[t * ldy + r] = hsum_ps(acc[r][t]) + accm[r][t];
}

/* Walks the nr x nt output in 4x4 tiles (edges in smaller tiles). */
#define LM_X86_TILED_GEMM(NAME, TILE, WB, XB)                                                          \
    static void NAME(int64_t n, const void *w, size_t ws, int64_t nr, const void *x, size_t xs,        \
                     int64_t nt, float *y, int64_t ldy)                                                 \
    {                                                                                                   \
        const int64_t nb = n / 32;                                                                      \
        int64_t r0 = 0;                                                                                 \
        for (; r0 < nr; r0 += 4) {                                                                      \
            const int R = nr - r0 >= 4 ? 4 : (int)(nr - r0);                                            \
            const WB *wp[4];                                                                            \
            for (int r = 0; r < 4; r++)                                                                 \
                wp[r] = (const WB *)((const char *)w + (size_t)(r0 + (r < R ? r : 0)) * ws);            \
            int64_t t0 = 0;                                                                             \
            for (; t0 + 4 <= nt; t0 += 4) {                                                             \
                const XB *xp[4];                                                                        \
                for (int t = 0; t < 4; t++) xp[t] = (const XB *)((const char *)x + (size_t)(t0 + t) * xs); \
                if (R == 4) TILE(4, 4, nb, wp, xp, y + t0 * ldy + r0, ldy);                             \
                else for (int r = 0; r < R; r++) TILE(1, 4, nb, wp + r, xp, y + t0 * ldy + r0 + r, ldy); \
            }                                                                                           \
            for (; t0 < nt; t0++) {                                                                     \
                const XB *xp[1] = {(const XB *)((const char *)x + (size_t)t0 * xs)};                    \
                if (R == 4) TILE(4, 1, nb, wp, xp, y + t0 * ldy + r0, ldy);                             \
                else for (int r = 0; r < R; r++) TILE(1, 1, nb, wp + r, xp, y + t0 * ldy + r0 + r, ldy); \
            }                                                                                           \
        }                                                                                               \
    }

LM_X86_TILED_GEMM(x86_gemm_q4_0_tiles, tile_q4_0, struct lm__block_q4_0, struct lm__block_q8_0)
LM_X86_TILED_GEMM(x86_gemm_q8_0, tile_q8_0, struct lm__block_q8_0, struct lm__block_q8_0)
LM_X86_TILED_GEMM(x86_gemm_q4_1, tile_q4_1, struct lm__block_q4_1, struct lm__block_q8_1)

/* Prompt processing for Q4_0: 8 weight rows are unpacked into an interleaved buffer (for each
 * group of 4 columns, 4 bytes of each of the 8 rows side by side), so one maddubs multiplies
 * 4 columns of 8 rows by 4 broadcast activation bytes and the 8 lanes of the result are the 8
 * rows: no horizontal sums and one scale multiply per 8 rows. The unpacking is paid once per
 * 8 rows and reused by every token of the tile. Columns go in chunks of KCHUNK blocks so the
 * buffer stays in L1/L2. */
#define KCHUNK 64
struct q4_0_x8 {
    _Alignas(32) uint8_t q[KCHUNK][8][32];   /* [block][4-column group][row*4 + byte] values 0..15 */
    float d[KCHUNK][8];         /* row scales per block */
};

static void unpack_q4_0_x8(struct q4_0_x8 *p, const struct lm__block_q4_0 *const *w, int64_t b0, int64_t nbc)
{
    for (int64_t b = 0; b < nbc; b++) {
        /* rows' 32 values as bytes; then transpose 4-byte groups: out[g][r] = row r bytes 4g..4g+3 */
        __m256i v[8];
        for (int r = 0; r < 8; r++) {
            v[r] = nibbles32(w[r][b0 + b].qs);
            p->d[b][r] = f16_to_f32(w[r][b0 + b].d);
        }
        /* 8x8 transpose of 32-bit elements */
        __m256i t0 = _mm256_unpacklo_epi32(v[0], v[1]), t1 = _mm256_unpackhi_epi32(v[0], v[1]);
        __m256i t2 = _mm256_unpacklo_epi32(v[2], v[3]), t3 = _mm256_unpackhi_epi32(v[2], v[3]);
        __m256i t4 = _mm256_unpacklo_epi32(v[4], v[5]), t5 = _mm256_unpackhi_epi32(v[4], v[5]);
        __m256i t6 = _mm256_unpacklo_epi32(v[6], v[7]), t7 = _mm256_unpackhi_epi32(v[6], v[7]);
        __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);
        __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);
        __m256i u4 = _mm256_unpacklo_epi64(t4, t6), u5 = _mm256_unpackhi_epi64(t4, t6);
        __m256i u6 = _mm256_unpacklo_epi64(t5, t7), u7 = _mm256_unpackhi_epi64(t5, t7);
        __m256i *o = (__m256i *)p->q[b];
        _mm256_storeu_si256(o + 0, _mm256_permute2x128_si256(u0, u4, 0x20));
        _mm256_storeu_si256(o + 1, _mm256_permute2x128_si256(u1, u5, 0x20));
        _mm256_storeu_si256(o + 2, _mm256_permute2x128_si256(u2, u6, 0x20));
        _mm256_storeu_si256(o + 3, _mm256_permute2x128_si256(u3, u7, 0x20));
        _mm256_storeu_si256(o + 4, _mm256_permute2x128_si256(u0, u4, 0x31));
        _mm256_storeu_si256(o + 5, _mm256_permute2x128_si256(u1, u5, 0x31));
        _mm256_storeu_si256(o + 6, _mm256_permute2x128_si256(u2, u6, 0x31));
        _mm256_storeu_si256(o + 7, _mm256_permute2x128_si256(u3, u7, 0x31));
    }
}

/* Per-token values of a chunk of activation blocks: scale as float and 8 * sum(q) (the
 * correction for the unsigned nibbles), computed once per chunk for all row groups. */
struct act_chunk {
    float d[KCHUNK];
    int32_t s8[KCHUNK];
};

static void act_fill(float *d, int32_t *s8, const struct lm__block_q8_0 *x, int64_t nbc)
{
    const __m256i ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
    for (int64_t b = 0; b < nbc; b++) {
        const __m256i xs = _mm256_loadu_si256((const __m256i *)x[b].qs);
        const __m256i sx = _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, xs), ones16);
        __m128i h = _mm_add_epi32(_mm256_castsi256_si128(sx), _mm256_extracti128_si256(sx, 1));
        h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4e));
        h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xb1));
        s8[b] = _mm_cvtsi128_si32(h) * 8;
        d[b] = f16_to_f32(x[b].d);
    }
}

static void act_chunk_fill(struct act_chunk *a, const struct lm__block_q8_0 *x, int64_t nbc)
{
    act_fill(a->d, a->s8, x, nbc);
}

LM_AI __m256i bcast4(const int8_t *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
}

/* acc0/acc1 (8 rows each) += the chunk's blocks against two tokens' activation blocks; the
 * interleaved weights are loaded once for both. i16 partial sums stay below 4*2*15*128. */
LM_AI void q4_0_x8_tokens2(const struct q4_0_x8 *p, int64_t nbc, const struct lm__block_q8_0 *x0,
                           const struct lm__block_q8_0 *x1, const struct act_chunk *a0,
                           const struct act_chunk *a1, __m256 *acc0, __m256 *acc1)
{
    const __m256i ones16 = _mm256_set1_epi16(1);
    __m256 c0 = *acc0, c1 = *acc1;
    for (int64_t b = 0; b < nbc; b++) {
        const __m256i *q = (const __m256i *)p->q[b];
        __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
        __m256i u0 = _mm256_setzero_si256(), u1 = _mm256_setzero_si256();
        for (int k = 0; k < 4; k++) {
            const __m256i qa = _mm256_load_si256(q + k), qb = _mm256_load_si256(q + 4 + k);
            s0 = _mm256_add_epi16(s0, _mm256_maddubs_epi16(qa, bcast4(x0[b].qs + 4 * k)));
            u0 = _mm256_add_epi16(u0, _mm256_maddubs_epi16(qb, bcast4(x0[b].qs + 16 + 4 * k)));
            s1 = _mm256_add_epi16(s1, _mm256_maddubs_epi16(qa, bcast4(x1[b].qs + 4 * k)));
            u1 = _mm256_add_epi16(u1, _mm256_maddubs_epi16(qb, bcast4(x1[b].qs + 16 + 4 * k)));
        }
        __m256i v0 = _mm256_add_epi32(_mm256_madd_epi16(s0, ones16), _mm256_madd_epi16(u0, ones16));
        __m256i v1 = _mm256_add_epi32(_mm256_madd_epi16(s1, ones16), _mm256_madd_epi16(u1, ones16));
        v0 = _mm256_sub_epi32(v0, _mm256_set1_epi32(a0->s8[b]));
        v1 = _mm256_sub_epi32(v1, _mm256_set1_epi32(a1->s8[b]));
        const __m256 dw = _mm256_load_ps(p->d[b]);
        c0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(v0), _mm256_mul_ps(dw, _mm256_set1_ps(a0->d[b])), c0);
        c1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(v1), _mm256_mul_ps(dw, _mm256_set1_ps(a1->d[b])), c1);
    }
    *acc0 = c0;
    *acc1 = c1;
}

#define GEMM_TOK 64     /* tokens per pass; the matmul driver hands out tiles of at most 64 */
#define GEMM_ROWS 64    /* rows per pass (8 groups of 8) */

/* Tile of Q4_0 x Q8_0 products through the interleaved 8-row layout; loops: tokens (64), rows
 * (64), column chunks, 8-row groups, tokens. Per chunk the activation values are computed once
 * and each 8-row group is unpacked once. */
static void x86_gemm_q4_0(int64_t n, const void *w, size_t ws, int64_t nr, const void *x, size_t xs,
                          int64_t nt, float *y, int64_t ldy)
{
    if (nt < 4 || nr < 8) {
        x86_gemm_q4_0_tiles(n, w, ws, nr, x, xs, nt, y, ldy);
        return;
    }
    const int64_t nb = n / 32, r8 = nr / 8 * 8;
    _Alignas(32) struct q4_0_x8 p;
    struct act_chunk ac[GEMM_TOK];
    __m256 acc[GEMM_ROWS / 8][GEMM_TOK];
    for (int64_t t0 = 0; t0 < nt; t0 += GEMM_TOK) {
        const int64_t tn = nt - t0 < GEMM_TOK ? nt - t0 : GEMM_TOK;
        for (int64_t rp = 0; rp < r8; rp += GEMM_ROWS) {
            const int64_t ng = (r8 - rp < GEMM_ROWS ? r8 - rp : GEMM_ROWS) / 8;
            for (int64_t g = 0; g < ng; g++)
                for (int64_t t = 0; t < tn; t++) acc[g][t] = _mm256_setzero_ps();
            for (int64_t b0 = 0; b0 < nb; b0 += KCHUNK) {
                const int64_t nbc = nb - b0 < KCHUNK ? nb - b0 : KCHUNK;
                for (int64_t t = 0; t < tn; t++)
                    act_chunk_fill(&ac[t], (const struct lm__block_q8_0 *)((const char *)x + (size_t)(t0 + t) * xs) + b0, nbc);
                for (int64_t g = 0; g < ng; g++) {
                    const struct lm__block_q4_0 *wp[8];
                    for (int r = 0; r < 8; r++)
                        wp[r] = (const struct lm__block_q4_0 *)((const char *)w + (size_t)(rp + g * 8 + r) * ws);
                    unpack_q4_0_x8(&p, wp, b0, nbc);
                    for (int64_t t = 0; t < tn; t += 2) {
                        const int64_t t1 = t + 1 < tn ? t + 1 : t;      /* odd count: last one twice */
                        const struct lm__block_q8_0 *xb0 = (const struct lm__block_q8_0 *)((const char *)x + (size_t)(t0 + t) * xs) + b0;
                        const struct lm__block_q8_0 *xb1 = (const struct lm__block_q8_0 *)((const char *)x + (size_t)(t0 + t1) * xs) + b0;
                        __m256 dummy = acc[g][t1];
                        q4_0_x8_tokens2(&p, nbc, xb0, xb1, &ac[t], &ac[t1], &acc[g][t], t1 != t ? &acc[g][t1] : &dummy);
                    }
                }
            }
            for (int64_t g = 0; g < ng; g++)
                for (int64_t t = 0; t < tn; t++) _mm256_storeu_ps(y + (t0 + t) * ldy + rp + g * 8, acc[g][t]);
        }
    }
    if (r8 < nr)
        x86_gemm_q4_0_tiles(n, (const char *)w + (size_t)r8 * ws, ws, nr - r8, x, xs, nt, y + r8, ldy);
}

/* ---- LM_TYPE_Q4_0_R8: 8 interleaved rows; lanes of the int32/float vectors are the 8 rows ---- */

/* 8 rows x 1 block x 1 token: dot products of the unsigned nibbles with the activations.
 * lo[k]/hi[k] hold columns 4k..4k+3 / 16+4k..16+4k+3 of the 8 rows (bytes 0..15). The eight
 * i16 partial sums add up to at most 8 * 2 * 15 * 128 = 30720, so they are summed in i16 and
 * widened once. */
LM_AI __m256i r8_dot(const __m256i *lo, const __m256i *hi, const int8_t *xq)
{
    __m256i a = _mm256_maddubs_epi16(lo[0], bcast4(xq + 0));
    __m256i b = _mm256_maddubs_epi16(hi[0], bcast4(xq + 16));
#pragma GCC unroll 4
    for (int k = 1; k < 4; k++) {
        a = _mm256_add_epi16(a, _mm256_maddubs_epi16(lo[k], bcast4(xq + 4 * k)));
        b = _mm256_add_epi16(b, _mm256_maddubs_epi16(hi[k], bcast4(xq + 16 + 4 * k)));
    }
    return _mm256_madd_epi16(_mm256_add_epi16(a, b), _mm256_set1_epi16(1));
}

/* T tokens (1..4) against nbc blocks of one 8-row group; acc[t] holds the 8 rows. */
LM_AI void r8_group(int T, const struct lm__block_q4_0x8 *wb, int64_t nbc, const struct lm__block_q8_0 *const *x,
                    const struct act_chunk *ac, __m256 *acc)
{
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    __m256 c[4];
#pragma GCC unroll 4
    for (int t = 0; t < T; t++) c[t] = acc[t];
    for (int64_t b = 0; b < nbc; b++) {
        __m256i lo[4], hi[4];
#pragma GCC unroll 4
        for (int k = 0; k < 4; k++) {
            const __m256i p = _mm256_loadu_si256((const __m256i *)(wb[b].qs + 32 * k));
            lo[k] = _mm256_and_si256(p, m4);
            hi[k] = _mm256_and_si256(_mm256_srli_epi16(p, 4), m4);
        }
        const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)wb[b].d));
#pragma GCC unroll 4
        for (int t = 0; t < T; t++) {
            __m256i v = r8_dot(lo, hi, x[t][b].qs);
            v = _mm256_sub_epi32(v, _mm256_set1_epi32(ac[t].s8[b]));
            c[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(v), _mm256_mul_ps(dw, _mm256_set1_ps(ac[t].d[b])), c[t]);
        }
    }
#pragma GCC unroll 4
    for (int t = 0; t < T; t++) acc[t] = c[t];
}

/* One token against G (1, 2 or 4) 8-row groups: the activation broadcasts of a block serve all
 * G groups. All 8 byte products of a block are summed in i16 (at most 8 * 2 * 15 * 128 = 30720)
 * before the one widening madd. Each group's blocks are read front to back, so the G streams
 * stay sequential; PF is how far ahead (bytes) they are prefetched. */
#ifndef LM_R8_PF
#define LM_R8_PF 1152       /* 8 blocks ahead: measured best of 0, 576, 1152, 1728, 2304 */
#endif
LM_AI void r8_gemv_groups(int G, const struct lm__block_q4_0x8 *const *wg, int64_t nb,
                          const struct lm__block_q8_0 *x, const float *dx, const int32_t *s8, bool add, float *y)
{
    const __m256i m4 = _mm256_set1_epi8(0x0F), ones16 = _mm256_set1_epi16(1);
    __m256 c[4];
#pragma GCC unroll 4
    for (int g = 0; g < G; g++) c[g] = add ? _mm256_loadu_ps(y + 8 * g) : _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; b++) {
        __m256i s[4];
#pragma GCC unroll 4
        for (int g = 0; g < G; g++) {
            if (LM_R8_PF) {
                _mm_prefetch((const char *)(wg[g] + b) + LM_R8_PF, _MM_HINT_T0);
                _mm_prefetch((const char *)(wg[g] + b) + LM_R8_PF + 64, _MM_HINT_T0);
                _mm_prefetch((const char *)(wg[g] + b) + LM_R8_PF + 128, _MM_HINT_T0);
            }
            s[g] = _mm256_setzero_si256();
        }
#pragma GCC unroll 4
        for (int k = 0; k < 4; k++) {
            const __m256i xl = bcast4(x[b].qs + 4 * k), xh = bcast4(x[b].qs + 16 + 4 * k);
#pragma GCC unroll 4
            for (int g = 0; g < G; g++) {
                const __m256i p = _mm256_loadu_si256((const __m256i *)(wg[g][b].qs + 32 * k));
                s[g] = _mm256_add_epi16(s[g], _mm256_maddubs_epi16(_mm256_and_si256(p, m4), xl));
                s[g] = _mm256_add_epi16(s[g], _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(p, 4), m4), xh));
            }
        }
        const __m256i corr = _mm256_set1_epi32(s8[b]);
        const __m256 vdx = _mm256_set1_ps(dx[b]);
#pragma GCC unroll 4
        for (int g = 0; g < G; g++) {
            const __m256i v = _mm256_sub_epi32(_mm256_madd_epi16(s[g], ones16), corr);
            const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)wg[g][b].d));
            c[g] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(v), _mm256_mul_ps(dw, vdx), c[g]);
        }
    }
#pragma GCC unroll 4
    for (int g = 0; g < G; g++) _mm256_storeu_ps(y + 8 * g, c[g]);
}

/* y[0..nr) = W x for one token (nr a multiple of 8): groups four at a time, blocks in chunks of
 * up to GEMV_CHUNK whose activation scales and sums are computed once (the sums run on in y,
 * in the same order as in the 4-token tiles). */
#define GEMV_CHUNK 512
static void r8_gemv(int64_t n, const void *w, size_t ws, int64_t nr, const struct lm__block_q8_0 *x, float *y)
{
    const int64_t nb = n / 32, ng = nr / 8;
    float dx[GEMV_CHUNK];
    int32_t s8[GEMV_CHUNK];
    for (int64_t b0 = 0; b0 < nb; b0 += GEMV_CHUNK) {
        const int64_t nbc = nb - b0 < GEMV_CHUNK ? nb - b0 : GEMV_CHUNK;
        act_fill(dx, s8, x + b0, nbc);
        for (int64_t g = 0; g < ng;) {
            const int G = ng - g >= 4 ? 4 : ng - g >= 2 ? 2 : 1;
            const struct lm__block_q4_0x8 *wg[4];
            for (int i = 0; i < G; i++) wg[i] = (const struct lm__block_q4_0x8 *)((const char *)w + (size_t)(g + i) * 8 * ws) + b0;
            if (G == 4) r8_gemv_groups(4, wg, nbc, x + b0, dx, s8, b0 > 0, y + g * 8);
            else if (G == 2) r8_gemv_groups(2, wg, nbc, x + b0, dx, s8, b0 > 0, y + g * 8);
            else r8_gemv_groups(1, wg, nbc, x + b0, dx, s8, b0 > 0, y + g * 8);
            g += G;
        }
    }
}

/* Product for interleaved Q4_0 (nr a multiple of 8, w at a multiple-of-8 row). Tokens in fours
 * (column chunks, activation sums computed once per chunk, 8-row groups), the rest one by one. */
static void x86_gemm_q4_0_r8(int64_t n, const void *w, size_t ws, int64_t nr, const void *x, size_t xs,
                             int64_t nt, float *y, int64_t ldy)
{
    const int64_t nb = n / 32, ng = nr / 8;
    struct act_chunk ac[4];
    enum { GMAX = 32 };
    __m256 acc[GMAX][4];
    int64_t t0 = 0;
    for (; t0 + 4 <= nt; t0 += 4) {
        for (int64_t gp = 0; gp < ng; gp += GMAX) {
            const int64_t gn = ng - gp < GMAX ? ng - gp : GMAX;
            for (int64_t g = 0; g < gn; g++)
                for (int t = 0; t < 4; t++) acc[g][t] = _mm256_setzero_ps();
            for (int64_t b0 = 0; b0 < nb; b0 += KCHUNK) {
                const int64_t nbc = nb - b0 < KCHUNK ? nb - b0 : KCHUNK;
                const struct lm__block_q8_0 *xp[4];
                for (int t = 0; t < 4; t++) {
                    xp[t] = (const struct lm__block_q8_0 *)((const char *)x + (size_t)(t0 + t) * xs) + b0;
                    act_chunk_fill(&ac[t], xp[t], nbc);
                }
                for (int64_t g = 0; g < gn; g++) {
                    const struct lm__block_q4_0x8 *wb = (const struct lm__block_q4_0x8 *)((const char *)w + (size_t)(gp + g) * 8 * ws) + b0;
                    r8_group(4, wb, nbc, xp, ac, acc[g]);
                }
            }
            for (int64_t g = 0; g < gn; g++)
                for (int t = 0; t < 4; t++) _mm256_storeu_ps(y + (t0 + t) * ldy + (gp + g) * 8, acc[g][t]);
        }
    }
    for (; t0 < nt; t0++)
        r8_gemv(n, w, ws, nr, (const struct lm__block_q8_0 *)((const char *)x + (size_t)t0 * xs), y + t0 * ldy);
}

/* ---- LM_TYPE_Q8_0_R8: 8 interleaved Q8_0 rows; lanes of the int32/float vectors are the 8 rows ----
 * Signed weights times signed activations as |x| (unsigned) times w*sign(x): exact because the
 * repacking refuses -128 weights and activations stay within -127..127 (pairs at most
 * 2*127*127 in i16). Each 32-byte load is 4 columns of the 8 rows, so the activation broadcasts
 * serve 8 rows and no horizontal sums remain. */
#ifndef LM_Q8R8_PF
#define LM_Q8R8_PF 2176     /* 8 blocks ahead (as for Q4_0_R8; not tuned for Q8_0) */
#endif
/* llama.cpp's x86 Q8_0 order: per row, 8 float lanes (lane k: columns 4k..4k+3 of every block),
 * each fed one fma by d_w*d_x a block, added at the end as ((0+4)+(2+6))+((1+5)+(3+7)). In the
 * interleaved layout lane k of the 8 rows is one vector, so acc[k] holds lane k of all 8 rows. */
LM_AI void q8r8_lanes(const struct lm__block_q8_0x8 *wb, int64_t nbc, const struct lm__block_q8_0 *x, __m256 *acc)
{
    __m256 c[8];
#pragma GCC unroll 8
    for (int k = 0; k < 8; k++) c[k] = acc[k];
    for (int64_t b = 0; b < nbc; b++) {
        if (LM_Q8R8_PF)
            for (int l = 0; l < 272; l += 64) _mm_prefetch((const char *)(wb + b) + LM_Q8R8_PF + l, _MM_HINT_T0);
        const __m256 dd = _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)wb[b].d)),
                                        _mm256_set1_ps(f16_to_f32(x[b].d)));
#pragma GCC unroll 8
        for (int k = 0; k < 8; k++) {
            const __m256i xs = bcast4(x[b].qs + 4 * k), xa = _mm256_sign_epi8(xs, xs);
            const __m256i p = _mm256_loadu_si256((const __m256i *)(wb[b].qs + 32 * k));
            const __m256i v = dot_u8s8(_mm256_setzero_si256(), xa, _mm256_sign_epi8(p, xs));
            c[k] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(v), dd, c[k]);
        }
    }
#pragma GCC unroll 8
    for (int k = 0; k < 8; k++) acc[k] = c[k];
}

LM_AI __m256 q8r8_lanes_sum(const __m256 *a)
{
    return _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a[0], a[4]), _mm256_add_ps(a[2], a[6])),
                         _mm256_add_ps(_mm256_add_ps(a[1], a[5]), _mm256_add_ps(a[3], a[7])));
}

/* Product for interleaved Q8_0 (nr a multiple of 8, w at a multiple-of-8 row). Tokens in fours:
 * column chunks of KCHUNK blocks (a group's chunk stays in L1 for the 4 tokens), the lanes kept
 * in memory between chunks; the rest one token at a time. Same bits either way. */
static void x86_gemm_q8_0_r8(int64_t n, const void *w, size_t ws, int64_t nr, const void *x, size_t xs,
                             int64_t nt, float *y, int64_t ldy)
{
    const int64_t nb = n / 32, ng = nr / 8;
    int64_t t0 = 0;
    enum { GMAX = 16 };
    __m256 acc[GMAX][4][8];
    for (; t0 + 4 <= nt; t0 += 4) {
        for (int64_t gp = 0; gp < ng; gp += GMAX) {
            const int64_t gn = ng - gp < GMAX ? ng - gp : GMAX;
            for (int64_t g = 0; g < gn; g++)
                for (int t = 0; t < 4; t++)
                    for (int k = 0; k < 8; k++) acc[g][t][k] = _mm256_setzero_ps();
            for (int64_t b0 = 0; b0 < nb; b0 += KCHUNK) {
                const int64_t nbc = nb - b0 < KCHUNK ? nb - b0 : KCHUNK;
                for (int64_t g = 0; g < gn; g++) {
                    const struct lm__block_q8_0x8 *wb = (const struct lm__block_q8_0x8 *)((const char *)w + (size_t)(gp + g) * 8 * ws) + b0;
                    for (int t = 0; t < 4; t++)
                        q8r8_lanes(wb, nbc, (const struct lm__block_q8_0 *)((const char *)x + (size_t)(t0 + t) * xs) + b0, acc[g][t]);
                }
            }
            for (int64_t g = 0; g < gn; g++)
                for (int t = 0; t < 4; t++) _mm256_storeu_ps(y + (t0 + t) * ldy + (gp + g) * 8, q8r8_lanes_sum(acc[g][t]));
        }
    }
    for (; t0 < nt; t0++)
        for (int64_t g = 0; g < ng; g++) {
            __m256 a[8];
            for (int k = 0; k < 8; k++) a[k] = _mm256_setzero_ps();
            q8r8_lanes((const struct lm__block_q8_0x8 *)((const char *)w + (size_t)g * 8 * ws), nb,
                       (const struct lm__block_q8_0 *)((const char *)x + (size_t)t0 * xs), a);
            _mm256_storeu_ps(y + t0 * ldy + g * 8, q8r8_lanes_sum(a));
        }
}

/* ---- K-quants against Q8_K activations: one weight row at a time against T tokens ---- */

/* ---- Q4_K against Q8_K activations (and the Q5_K block decoding) ----
 *
 * The float order is llama.cpp's x86 one for Q4_K (its repacked 8-row gemv/gemm, which AVX2 runs
 * for every Q4_K matrix with a multiple of 8 rows except the token embeddings): per
 * block the exact integer sums (scaled products, and min corrections) are each accumulated with
 * one fused multiply-add by d_w*d_x and dmin_w*d_x into two separate floats; the result is their
 * difference at the end of the row. Summing per SIMD lane in float instead (one rounding per
 * lane and block) differs in the last bits, which is enough to move a later Q8_K activation
 * across a rounding boundary and change a greedy pick some tokens on. The horizontal integer
 * sums are shared four at a time (hadd): four tokens of one row, or four blocks of one row. */

struct k4_block {
    __m256i lo[4], hi[4];   /* values of sub-blocks 2j and 2j+1 as bytes */
    __m256i sc[8];          /* sub-block scales as i16 */
    __m128i mins16;         /* sub-block mins as i16 */
    float d, dmin;
};

/* Unpacks block i of a Q4_K (five = 0) or Q5_K (five = 1) row. */
LM_AI void k4_decode(int five, const void *row, int64_t i, struct k4_block *o)
{
    const __m256i m4 = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1);
    const uint8_t *scales, *qs;
    __m256i hb = _mm256_setzero_si256();
    uint16_t d, dmin;
    if (five) {
        const struct lm__block_q5_K *b = (const struct lm__block_q5_K *)row + i;
        scales = b->scales; qs = b->qs; d = b->d; dmin = b->dmin;
        hb = _mm256_loadu_si256((const __m256i *)b->qh);
    } else {
        const struct lm__block_q4_K *b = (const struct lm__block_q4_K *)row + i;
        scales = b->scales; qs = b->qs; d = b->d; dmin = b->dmin;
    }
    uint8_t sm[16];
    lm__k4_scales(scales, sm);
    o->mins16 = _mm_cvtepu8_epi16(_mm_loadl_epi64((const __m128i *)(sm + 8)));
#pragma GCC unroll 8
    for (int j = 0; j < 8; j++) o->sc[j] = _mm256_set1_epi16(sm[j]);
#pragma GCC unroll 4
    for (int j = 0; j < 4; j++) {
        const __m256i q = _mm256_loadu_si256((const __m256i *)(qs + 32 * j));
        o->lo[j] = _mm256_and_si256(q, m4);
        o->hi[j] = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
        if (five) {
            const __m256i b0 = _mm256_and_si256(_mm256_srli_epi16(hb, 2 * j), one);
            const __m256i b1 = _mm256_and_si256(_mm256_srli_epi16(hb, 2 * j + 1), one);
            o->lo[j] = _mm256_or_si256(o->lo[j], _mm256_slli_epi16(b0, 4));
            o->hi[j] = _mm256_or_si256(o->hi[j], _mm256_slli_epi16(b1, 4));
        }
    }
    o->d = f16_to_f32(d);
    o->dmin = f16_to_f32(dmin);
}

/* Scaled products of one decoded block with one Q8_K block, as 8 partial i32 sums (u8 values at
 * most 31 times i8: the i16 pairs stay below 2*31*128). */
LM_AI __m256i k4_dot(const struct k4_block *w, const struct lm__block_q8_K *xb)
{
    __m256i sum = _mm256_setzero_si256();
#pragma GCC unroll 4
    for (int j = 0; j < 4; j++) {
        const __m256i y0 = _mm256_loadu_si256((const __m256i *)(xb->qs + 64 * j));
        const __m256i y1 = _mm256_loadu_si256((const __m256i *)(xb->qs + 64 * j + 32));
        const __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(w->lo[j], y0), w->sc[2 * j]);
        const __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(w->hi[j], y1), w->sc[2 * j + 1]);
        sum = _mm256_add_epi32(sum, _mm256_add_epi32(p0, p1));
    }
    return sum;
}

/* mins[j] * (bsums[2j] + bsums[2j+1]) as 4 partial i32 sums. */
LM_AI __m128i k4_mins(const struct k4_block *w, const struct lm__block_q8_K *xb)
{
    const __m128i b0 = _mm_loadu_si128((const __m128i *)xb->bsums);
    const __m128i b1 = _mm_loadu_si128((const __m128i *)(xb->bsums + 8));
    return _mm_madd_epi16(w->mins16, _mm_hadd_epi16(b0, b1));
}

/* k4_dot and k4_mins of block i of a row used once (one token): values unpacked on the fly
 * instead of kept for other tokens. */
LM_AI __m256i k4_dot_once(int five, const void *row, int64_t i, const struct lm__block_q8_K *xb, __m128i *pm,
                          float *d, float *dmin)
{
    const __m256i m4 = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1);
    const uint8_t *scales, *qs, *qh = NULL;
    if (five) {
        const struct lm__block_q5_K *b = (const struct lm__block_q5_K *)row + i;
        scales = b->scales; qs = b->qs; qh = b->qh;
        *d = f16_to_f32(b->d);
        *dmin = f16_to_f32(b->dmin);
    } else {
        const struct lm__block_q4_K *b = (const struct lm__block_q4_K *)row + i;
        scales = b->scales; qs = b->qs;
        *d = f16_to_f32(b->d);
        *dmin = f16_to_f32(b->dmin);
    }
    uint8_t sm[16];
    lm__k4_scales(scales, sm);
    const __m128i mins16 = _mm_cvtepu8_epi16(_mm_loadl_epi64((const __m128i *)(sm + 8)));
    const __m128i b0 = _mm_loadu_si128((const __m128i *)xb->bsums);
    const __m128i b1 = _mm_loadu_si128((const __m128i *)(xb->bsums + 8));
    *pm = _mm_madd_epi16(mins16, _mm_hadd_epi16(b0, b1));
    const __m256i hb = five ? _mm256_loadu_si256((const __m256i *)qh) : _mm256_setzero_si256();
    __m256i sum = _mm256_setzero_si256();
#pragma GCC unroll 4
    for (int j = 0; j < 4; j++) {
        const __m256i q = _mm256_loadu_si256((const __m256i *)(qs + 32 * j));
        __m256i lo = _mm256_and_si256(q, m4), hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
        if (five) {
            lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2 * j), one), 4));
            hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2 * j + 1), one), 4));
        }
        const __m256i y0 = _mm256_loadu_si256((const __m256i *)(xb->qs + 64 * j));
        const __m256i y1 = _mm256_loadu_si256((const __m256i *)(xb->qs + 64 * j + 32));
        const __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, y0), _mm256_set1_epi16(sm[2 * j]));
        const __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(hi, y1), _mm256_set1_epi16(sm[2 * j + 1]));
        sum = _mm256_add_epi32(sum, _mm256_add_epi32(p0, p1));
    }
    return sum;
}

/* The totals of four 8-lane / four 4-lane i32 vectors, lane k = vector k (exact). */
LM_AI __m128i hsum4_epi32x8(__m256i a, __m256i b, __m256i c, __m256i d)
{
    const __m256i h = _mm256_hadd_epi32(_mm256_hadd_epi32(a, b), _mm256_hadd_epi32(c, d));
    return _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
}
LM_AI __m128i hsum4_epi32x4(__m128i a, __m128i b, __m128i c, __m128i d)
{
    return _mm_hadd_epi32(_mm_hadd_epi32(a, b), _mm_hadd_epi32(c, d));
}

/* One row against four tokens: y[t*ldy] for t < 4. The block is unpacked once for the four. */
LM_AI void k4_row4(int five, int64_t nb, const void *row, const struct lm__block_q8_K *const *x, float *y, int64_t ldy)
{
    __m128 s = _mm_setzero_ps(), m = _mm_setzero_ps();
    for (int64_t i = 0; i < nb; i++) {
        struct k4_block b;
        k4_decode(five, row, i, &b);
        __m256i p[4];
        __m128i pm[4];
#pragma GCC unroll 4
        for (int t = 0; t < 4; t++) {
            p[t] = k4_dot(&b, &x[t][i]);
            pm[t] = k4_mins(&b, &x[t][i]);
        }
        const __m128 dx = _mm_setr_ps(x[0][i].d, x[1][i].d, x[2][i].d, x[3][i].d);
        const __m128 sumi = _mm_cvtepi32_ps(hsum4_epi32x8(p[0], p[1], p[2], p[3]));
        const __m128 summ = _mm_cvtepi32_ps(hsum4_epi32x4(pm[0], pm[1], pm[2], pm[3]));
        s = _mm_fmadd_ps(sumi, _mm_mul_ps(_mm_set1_ps(b.d), dx), s);
        m = _mm_fmadd_ps(summ, _mm_mul_ps(_mm_set1_ps(b.dmin), dx), m);
    }
    float out[4];
    _mm_storeu_ps(out, _mm_sub_ps(s, m));
    for (int t = 0; t < 4; t++) y[t * ldy] = out[t];
}

/* One row against one token. Blocks in fours share the horizontal sums; the float steps then
 * run block by block, in order. (Rows stay one at a time: streaming four rows side by side
 * from memory measured slower here than reading one row after the other.) */
LM_AI float k4_row1(int five, int64_t nb, const void *row, const struct lm__block_q8_K *x)
{
    float s = 0, m = 0;
    for (int64_t i0 = 0; i0 < nb; i0 += 4) {
        const int nk = nb - i0 < 4 ? (int)(nb - i0) : 4;
        __m256i p[4];
        __m128i pm[4];
        float dw[4], dm[4];
#pragma GCC unroll 4
        for (int k = 0; k < 4; k++) {
            if (k < nk) {
                p[k] = k4_dot_once(five, row, i0 + k, &x[i0 + k], &pm[k], &dw[k], &dm[k]);
            } else {
                p[k] = _mm256_setzero_si256();
                pm[k] = _mm_setzero_si128();
            }
        }
        int32_t si[4], sm[4];
        _mm_storeu_si128((__m128i *)si, hsum4_epi32x8(p[0], p[1], p[2], p[3]));
        _mm_storeu_si128((__m128i *)sm, hsum4_epi32x4(pm[0], pm[1], pm[2], pm[3]));
        for (int k = 0; k < nk; k++) {
            const float dx = x[i0 + k].d;
            s = fmaf((float)si[k], dw[k] * dx, s);
            m = fmaf((float)sm[k], dm[k] * dx, m);
        }
    }
    return s - m;
}

/* Q4_K/Q5_K products: each row against tokens in fours, then the remaining tokens one by one. */
LM_AI void k4_gemm(int five, int64_t n, const void *w, size_t ws, int64_t nr, const void *x, size_t xs, int64_t nt,
                   float *y, int64_t ldy)
{
    const int64_t nb = n / LM_QK_K;
    int64_t t0 = 0;
    for (; t0 + 4 <= nt; t0 += 4) {
        const struct lm__block_q8_K *xp[4];
        for (int t = 0; t < 4; t++) xp[t] = (const void *)((const char *)x + (size_t)(t0 + t) * xs);
        for (int64_t r = 0; r < nr; r++) k4_row4(five, nb, (const char *)w + (size_t)r * ws, xp, y + t0 * ldy + r, ldy);
    }
    for (; t0 < nt; t0++) {
        const struct lm__block_q8_K *xp = (const void *)((const char *)x + (size_t)t0 * xs);
        for (int64_t r = 0; r < nr; r++) y[t0 * ldy + r] = k4_row1(five, nb, (const char *)w + (size_t)r * ws, xp);
    }
}

static void x86_gemm_q4_K(int64_t n, const void *w, size_t ws, int64_t nr, const void *x, size_t xs, int64_t nt,
                          float *y, int64_t ldy)
{
    k4_gemm(0, n, w, ws, nr, x, xs, nt, y, ldy);
}

/* T tokens against one Q5_K row in llama.cpp's x86 order for Q5_K, which it does not repack on
 * AVX2 (its plain vec_dot runs): the 8 i32 lanes of each block's scaled products are accumulated
 * per lane in float, one fma by d_w*d_x a block; the min corrections are summed exactly per block
 * and accumulated in one float with one fma by -(d_x*dmin_w); the result is the horizontal sum of
 * the lanes plus that float. */
LM_AI void q5_K_row(int T, int64_t nb, const struct lm__block_q5_K *w, const struct lm__block_q8_K *const *x,
                    float *y, int64_t ldy)
{
    __m256 acc[4];
    float summs[4];
    for (int t = 0; t < T; t++) {
        acc[t] = _mm256_setzero_ps();
        summs[t] = 0;
    }
    for (int64_t i = 0; i < nb; i++) {
        struct k4_block b;
        k4_decode(1, w, i, &b);
        __m128i pm[4];
#pragma GCC unroll 4
        for (int t = 0; t < T; t++) {
            const struct lm__block_q8_K *xb = &x[t][i];
            pm[t] = k4_mins(&b, xb);
            acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(xb->d * b.d), _mm256_cvtepi32_ps(k4_dot(&b, xb)), acc[t]);
        }
        /* the exact min sums of the tokens, four at a time */
        int32_t mi[4];
        if (T == 4) {
            _mm_storeu_si128((__m128i *)mi, hsum4_epi32x4(pm[0], pm[1], pm[2], pm[3]));
        } else {
            for (int t = 0; t < T; t++) {
                const __m128i h = _mm_hadd_epi32(_mm_hadd_epi32(pm[t], pm[t]), pm[t]);
                mi[t] = _mm_cvtsi128_si32(h);
            }
        }
#pragma GCC unroll 4
        for (int t = 0; t < T; t++) summs[t] = fmaf(-x[t][i].d * b.dmin, (float)mi[t], summs[t]);
    }
    for (int t = 0; t < T; t++) y[t * ldy] = hsum_ps(acc[t]) + summs[t];
}

/* T tokens against one Q6_K row. The 6-bit values are used unsigned (0..63) and the offset of
 * 32 removed with the activation block sums: 32 * sum(scale * bsum). */
LM_AI void q6_K_row(int T, int64_t nb, const struct lm__block_q6_K *w, const struct lm__block_q8_K *const *x,
                    float *y, int64_t ldy)
{
    const __m256i m4 = _mm256_set1_epi8(0x0F), m2 = _mm256_set1_epi8(3);
    __m256 acc[4];
    for (int t = 0; t < T; t++) acc[t] = _mm256_setzero_ps();
    for (int64_t i = 0; i < nb; i++) {
        const float dw = f16_to_f32(w[i].d);
        __m256i q[8];     /* 8 x 32 values: elements 32k..32k+31 */
        for (int h = 0; h < 2; h++) {
            const uint8_t *ql = w[i].ql + 64 * h, *qh = w[i].qh + 32 * h;
            const __m256i l0 = _mm256_loadu_si256((const __m256i *)ql);
            const __m256i l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
            const __m256i hb = _mm256_loadu_si256((const __m256i *)qh);
            q[4 * h + 0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(hb, m2), 4));
            q[4 * h + 1] = _mm256_or_si256(_mm256_and_si256(l1, m4),
                                           _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2), m2), 4));
            q[4 * h + 2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                                           _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 4), m2), 4));
            q[4 * h + 3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                           _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 6), m2), 4));
        }
        /* scale pairs as i16 vectors: low 128 bits sub-block 2k, high 2k+1 */
        __m256i s16[8];
        for (int k = 0; k < 8; k++)
            s16[k] = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_set1_epi16(w[i].scales[2 * k])),
                                             _mm_set1_epi16(w[i].scales[2 * k + 1]), 1);
        const __m256i scv = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)w[i].scales));
        for (int t = 0; t < T; t++) {
            const struct lm__block_q8_K *xb = &x[t][i];
            __m256i sum = _mm256_setzero_si256();
            for (int k = 0; k < 8; k++) {
                const __m256i yv = _mm256_loadu_si256((const __m256i *)(xb->qs + 32 * k));
                sum = _mm256_add_epi32(sum, _mm256_madd_epi16(_mm256_maddubs_epi16(q[k], yv), s16[k]));
            }
            const __m256i corr = _mm256_madd_epi16(scv, _mm256_loadu_si256((const __m256i *)xb->bsums));
            sum = _mm256_sub_epi32(sum, _mm256_slli_epi32(corr, 5));
            acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(dw * xb->d), _mm256_cvtepi32_ps(sum), acc[t]);
        }
    }
    for (int t = 0; t < T; t++) y[t * ldy] = hsum_ps(acc[t]);
}

#define LM_X86_K_GEMM(NAME, ROW, WB)                                                                   \
    static void NAME(int64_t n, const void *w, size_t ws, int64_t nr, const void *x, size_t xs,        \
                     int64_t nt, float *y, int64_t ldy)                                                 \
    {                                                                                                   \
        const int64_t nb = n / LM_QK_K;                                                                 \
        for (int64_t r = 0; r < nr; r++) {                                                              \
            const WB *wr = (const WB *)((const char *)w + (size_t)r * ws);                              \
            int64_t t0 = 0;                                                                             \
            for (; t0 + 4 <= nt; t0 += 4) {                                                             \
                const struct lm__block_q8_K *xp[4];                                                     \
                for (int t = 0; t < 4; t++) xp[t] = (const void *)((const char *)x + (size_t)(t0 + t) * xs); \
                ROW(4, nb, wr, xp, y + t0 * ldy + r, ldy);                                              \
            }                                                                                           \
            for (; t0 < nt; t0++) {                                                                     \
                const struct lm__block_q8_K *xp[1] = {(const void *)((const char *)x + (size_t)t0 * xs)}; \
                ROW(1, nb, wr, xp, y + t0 * ldy + r, ldy);                                              \
            }                                                                                           \
        }                                                                                               \
    }

LM_X86_K_GEMM(x86_gemm_q5_K, q5_K_row, struct lm__block_q5_K)
LM_X86_K_GEMM(x86_gemm_q6_K, q6_K_row, struct lm__block_q6_K)

/* Q8_K activations, bit-identical to lm__quantize_q8_K_ref. */
static void x86_quantize_q8_K(const float *x, void *vy, int64_t n)
{
    struct lm__block_q8_K *y = vy;
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    for (int64_t i = 0; i < n / LM_QK_K; i++, x += LM_QK_K) {
        /* the element of largest magnitude, first one on ties (as the scalar loop) */
        __m256 m = _mm256_setzero_ps();
        for (int k = 0; k < LM_QK_K; k += 8) m = _mm256_max_ps(m, _mm256_and_ps(_mm256_loadu_ps(x + k), absmask));
        __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        const float amax = _mm_cvtss_f32(m4);
        if (!amax) {
            memset(&y[i], 0, sizeof y[i]);
            continue;
        }
        float max = 0;
        for (int k = 0; k < LM_QK_K; k++)
            if (fabsf(x[k]) == amax) { max = x[k]; break; }
        const float iscale = -127.f / max;
        const __m256 vs = _mm256_set1_ps(iscale), magic = _mm256_set1_ps(12582912.f);
        for (int k = 0; k < LM_QK_K; k += 32) {
            __m256i q[4];
            for (int u = 0; u < 4; u++) {
                /* nearest_int: add 1.5*2^23 and take the low mantissa bits (ties to even) */
                const __m256 v = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(x + k + 8 * u), vs), magic);
                q[u] = _mm256_sub_epi32(_mm256_and_si256(_mm256_castps_si256(v), _mm256_set1_epi32(0x007fffff)),
                                        _mm256_set1_epi32(0x00400000));
                q[u] = _mm256_min_epi32(q[u], _mm256_set1_epi32(127));
            }
            const __m256i p01 = _mm256_packs_epi32(q[0], q[1]), p23 = _mm256_packs_epi32(q[2], q[3]);
            __m256i p = _mm256_packs_epi16(p01, p23);
            p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
            _mm256_storeu_si256((__m256i *)(y[i].qs + k), p);
        }
        for (int j = 0; j < LM_QK_K / 16; j++) {
            const __m128i b = _mm_loadu_si128((const __m128i *)(y[i].qs + 16 * j));
            __m128i s = _mm_sad_epu8(_mm_xor_si128(b, _mm_set1_epi8((char)0x80)), _mm_setzero_si128());
            const int sum = _mm_cvtsi128_si32(s) + _mm_extract_epi16(s, 4) - 16 * 128;
            y[i].bsums[j] = (int16_t)sum;
        }
        y[i].d = 1 / iscale;
    }
}

/* ---- float weights: F32 x F32, F16 x F16, BF16 x BF16 (as the vec_dot_types say) ---- */
#include "kernels/kern_x86_f.h"

/* f32 to f16 activations (F16C rounds to nearest even, like lm_f32_to_f16). */
static void x86_from_f16(const float *x, void *vy, int64_t n)
{
    uint16_t *y = vy;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(y + i), _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) y[i] = lm_f32_to_f16(x[i]);
}

/* Q8_0 activations as llama.cpp's x86 CPU backend quantises them (quantize_row_q8_0 for
 * AVX/AVX2, also used by its AVX-512 builds): id = 127 / amax and round half to even. This
 * differs from lm__quantize_q8_0_ref (ggml's generic form: id = 1 / (amax / 127), halves away
 * from zero) on ties and where the two ids differ in the last bit; values whose scaled form
 * sits on a tie are common enough to part greedy continuations from llama.cpp's. */
static void x86_quantize_q8_0(const float *x, void *vy, int64_t n)
{
    struct lm__block_q8_0 *y = vy;
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        __m256 v[4], m = _mm256_setzero_ps();
        for (int k = 0; k < 4; k++) {
            v[k] = _mm256_loadu_ps(x + 8 * k);
            m = _mm256_max_ps(m, _mm256_and_ps(v[k], absmask));
        }
        __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        const float amax = _mm_cvtss_f32(m4);
        const float d = amax / 127, id = amax != 0.0f ? 127.0f / amax : 0.0f;
        y[i].d = lm_f32_to_f16(d);
        const __m256 vid = _mm256_set1_ps(id);
        __m256i q[4];
        for (int k = 0; k < 4; k++)
            q[k] = _mm256_cvtps_epi32(
                _mm256_round_ps(_mm256_mul_ps(v[k], vid), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        const __m256i p01 = _mm256_packs_epi32(q[0], q[1]), p23 = _mm256_packs_epi32(q[2], q[3]);
        __m256i p = _mm256_packs_epi16(p01, p23);
        p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_storeu_si256((__m256i *)y[i].qs, p);
    }
}

/* Q8_1 activations (Q8_0 plus s = fp16(d * sum(q))) as llama.cpp's x86 CPU backend quantises
 * them (quantize_row_q8_1 for AVX2, also used by its AVX-512 builds): the same steps as
 * x86_quantize_q8_0 (id = 127 / amax, round half to even), the sum taken over the rounded
 * 32-bit values before they are packed to bytes. lm__quantize_q8_1_ref (ggml's generic form)
 * differs on ties and where the two ids differ in the last bit. */
static void x86_quantize_q8_1(const float *x, void *vy, int64_t n)
{
    struct lm__block_q8_1 *y = vy;
    const __m256 sign = _mm256_set1_ps(-0.0f);
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        __m256 v[4];
        for (int k = 0; k < 4; k++) v[k] = _mm256_loadu_ps(x + 8 * k);
        __m256 m = _mm256_andnot_ps(sign, v[0]);
        for (int k = 1; k < 4; k++) m = _mm256_max_ps(m, _mm256_andnot_ps(sign, v[k]));
        __m128 m4 = _mm_max_ps(_mm256_extractf128_ps(m, 1), _mm256_castps256_ps128(m));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        const float amax = _mm_cvtss_f32(m4);
        const float d = amax / 127, id = amax != 0.0f ? 127.0f / amax : 0.0f;
        y[i].d = lm_f32_to_f16(d);
        const __m256 vid = _mm256_set1_ps(id);
        __m256i q[4];
        for (int k = 0; k < 4; k++)
            q[k] = _mm256_cvtps_epi32(
                _mm256_round_ps(_mm256_mul_ps(v[k], vid), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        const __m256i s8 = _mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3]));
        __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(s8), _mm256_extracti128_si256(s8, 1));
        s4 = _mm_add_epi32(s4, _mm_unpackhi_epi64(s4, s4));
        s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, _MM_SHUFFLE(2, 3, 0, 1)));
        y[i].s = lm_f32_to_f16(d * (float)_mm_cvtsi128_si32(s4));
        const __m256i p01 = _mm256_packs_epi32(q[0], q[1]), p23 = _mm256_packs_epi32(q[2], q[3]);
        __m256i p = _mm256_packs_epi16(p01, p23);
        p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_storeu_si256((__m256i *)y[i].qs, p);
    }
}

static float x86_dot_f32(const float *a, const float *b, int64_t n)
{
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
    }
    float s = hsum_ps(_mm256_add_ps(s0, s1));
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

static void x86_axpy_f32(float *y, float a, const float *x, int64_t n)
{
    const __m256 va = _mm256_set1_ps(a);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] += a * x[i];
}

#endif
