/* Every SIMD kernel set this CPU supports, against the scalar reference on random data: odd row
 * counts, token counts that leave tile remainders, several row lengths. Activation conversion
 * must be bit-identical to the reference (x86 Q8_0/Q8_1: to llama.cpp's x86 form; NEON Q8_0/Q8_1: to
 * llama.cpp's ARM form; both modelled below); products must agree within float summation error. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "kernels/kern_internal.h"
#include "lm/cpu.h"
#include "lm/kernels.h"
#include "lm_test.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static float frand(void)
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (float)((rng >> 40) * (1.0 / 8388608.0)) - 1.0f;
}

static const char *level_names[LM__KERN_LEVELS] = {"scalar", "avx2", "avx512", "avx512vnni", "neon", "neon+dotprod"};

/* llama.cpp's x86 Q8_0 activation quantiser (quantize_row_q8_0 for AVX/AVX2): id = 127/amax,
 * round half to even, which the x86 kernels reproduce so that Q8_0 products match it. */
static void quantize_q8_0_x86_model(const float *x, void *vy, int64_t n)
{
    struct lm__block_q8_0 *y = vy;
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[j]));
        const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        y[i].d = lm_f32_to_f16(amax / 127);
        for (int j = 0; j < 32; j++) y[i].qs[j] = (int8_t)nearbyintf(x[j] * id);
    }
}

/* llama.cpp's x86 Q8_1 activation quantiser (quantize_row_q8_1 for AVX2): the Q8_0 steps above,
 * plus s = fp16(d * sum(q)) over the rounded values. */
static void quantize_q8_1_x86_model(const float *x, void *vy, int64_t n)
{
    struct lm__block_q8_1 *y = vy;
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[j]));
        const float d = amax / 127, id = amax != 0.0f ? 127.0f / amax : 0.0f;
        y[i].d = lm_f32_to_f16(d);
        int sum = 0;
        for (int j = 0; j < 32; j++) {
            y[i].qs[j] = (int8_t)nearbyintf(x[j] * id);
            sum += y[i].qs[j];
        }
        y[i].s = lm_f32_to_f16(d * (float)sum);
    }
}

/* llama.cpp's ARM Q8_0 / Q8_1 activation quantisers (quantize_row_q8_0 / q8_1 under
 * __ARM_NEON): d = amax/127, id = d ? 1/d : 0, round half to even (FCVTNS), s = fp16(d * sum).
 * On aarch64 the halves are made by the compiler's own conversion (FCVT), as llama.cpp's are. */
static uint16_t f16_arm_model(float f)
{
#if defined(__aarch64__)
    const __fp16 h = (__fp16)f;
    uint16_t u;
    memcpy(&u, &h, 2);
    return u;
#else
    return lm_f32_to_f16(f);
#endif
}

static void quantize_q8_arm_model(const float *x, void *vy, int64_t n, bool q8_1)
{
    for (int64_t i = 0; i < n / 32; i++, x += 32) {
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[j]));
        const float d = amax / 127, id = d ? 1.0f / d : 0.0f;
        int8_t *qs;
        if (q8_1) {
            struct lm__block_q8_1 *y = (struct lm__block_q8_1 *)vy + i;
            qs = y->qs;
            y->d = f16_arm_model(d);
        } else {
            struct lm__block_q8_0 *y = (struct lm__block_q8_0 *)vy + i;
            qs = y->qs;
            y->d = f16_arm_model(d);
        }
        int sum = 0;
        for (int j = 0; j < 32; j++) {
            const long r = lrintf(x[j] * id);
            qs[j] = (int8_t)r;
            sum += (int)r;
        }
        if (q8_1) ((struct lm__block_q8_1 *)vy)[i].s = f16_arm_model(d * (float)sum);
    }
}

/* Expected activation conversion of vts on kernel set lv. */
static void expected_from_float(const char *lv, enum lm_type vt, const float *x, void *y, int64_t n)
{
    if (!strncmp(lv, "avx", 3) && vt == LM_TYPE_Q8_0) quantize_q8_0_x86_model(x, y, n);
    else if (!strncmp(lv, "avx", 3) && vt == LM_TYPE_Q8_1) quantize_q8_1_x86_model(x, y, n);
    else if (!strncmp(lv, "neon", 4) && (vt == LM_TYPE_Q8_0 || vt == LM_TYPE_Q8_1))
        quantize_q8_arm_model(x, y, n, vt == LM_TYPE_Q8_1);
    else lm__kern_ref.from_float[vt](x, y, n);
}

static void check_from_float(const struct lm__kern *k, const char *lv)
{
    const enum lm_type vts[] = {LM_TYPE_F32, LM_TYPE_F16, LM_TYPE_BF16, LM_TYPE_Q8_0, LM_TYPE_Q8_1, LM_TYPE_Q8_K};
    enum { N = 1024 };
    static float x[N];
    for (int i = 0; i < N; i++) x[i] = frand() * 3.0f;
    /* a block with amax 127 (d = 1): halves must round away from zero like roundf (x86 and NEON
     * Q8_0/Q8_1: to even, as llama.cpp's builds for those CPUs). Halves above odd and even
     * integers of both signs (+1.5, -2.5, +4.5, -7.5, ...), so the two rules give other bytes. */
    for (int i = 0; i < 32; i++) x[i] = (i & 2 ? -1.0f : 1.0f) * ((float)i + (i % 3 ? 0.5f : 0.0f));
    x[0] = 127.0f;
    for (int i = 64; i < 96; i++) x[i] = 0;           /* all-zero block */
    for (size_t v = 0; v < sizeof vts / sizeof vts[0]; v++) {
        size_t rs = lm_row_size(vts[v], N);
        uint8_t *a = malloc(rs), *b = malloc(rs);
        expected_from_float(lv, vts[v], x, a, N);
        k->from_float[vts[v]](x, b, N);
        for (size_t i = 0; i < rs; i++)
            if (a[i] != b[i]) LM_FAIL_("%s from_float %s: byte %zu differs (%d vs %d)", lv, lm_type_traits(vts[v])->name, i, a[i], b[i]);
        free(a);
        free(b);
    }
}

static void check_gemm(const struct lm__kern *k, const char *lv, enum lm_type t)
{
    const struct lm_type_traits *tr = lm_type_traits(t);
    const enum lm_type vt = tr->vec_dot_type;
    const int64_t cols[] = {256, 512, 768, 32 * 3, 2048};
    const int64_t rows[] = {1, 3, 4, 5, 7, 13, 33};
    const int64_t toks[] = {1, 2, 3, 4, 5, 9};
    for (size_t ci = 0; ci < sizeof cols / sizeof cols[0]; ci++) {
        const int64_t n = cols[ci];
        if (n % tr->block_size) continue;
        const int64_t nr = 33, nt = 9;
        size_t ws = lm_row_size(t, n), xs = lm_row_size(vt, n);
        float *wf = malloc(sizeof(float) * n * nr), *xf = malloc(sizeof(float) * n * nt);
        uint8_t *w = malloc(ws * nr), *x = malloc(xs * nt);
        for (int64_t i = 0; i < n * nr; i++) wf[i] = frand() * 0.1f + (i % 7 == 0 ? 0.05f : 0.0f);
        for (int64_t i = 0; i < n * nt; i++) xf[i] = frand() * 2.0f;
        for (int64_t r = 0; r < nr; r++) lm_quantize_row(t, wf + r * n, w + r * ws, n);
        for (int64_t r = 0; r < nt; r++) lm__kern_ref.from_float[vt](xf + r * n, x + r * xs, n);
        /* magnitude of each product for the tolerance */
        float *wd = malloc(sizeof(float) * n * nr), *xd = malloc(sizeof(float) * n * nt);
        for (int64_t r = 0; r < nr; r++) lm_dequantize_row(t, w + r * ws, wd + r * n, n);
        for (int64_t r = 0; r < nt; r++) lm_dequantize_row(vt, x + r * xs, xd + r * n, n);
        for (size_t ri = 0; ri < sizeof rows / sizeof rows[0]; ri++) {
            for (size_t ti = 0; ti < sizeof toks / sizeof toks[0]; ti++) {
                const int64_t R = rows[ri], T = toks[ti], ldy = R + 2;
                float ya[9 * 35], yb[9 * 35];
                for (int i = 0; i < 9 * 35; i++) ya[i] = yb[i] = -777.0f;
                lm__kern_ref.gemm[t](n, w, ws, R, x, xs, T, ya, ldy);
                k->gemm[t](n, w, ws, R, x, xs, T, yb, ldy);
                for (int64_t tt = 0; tt < T; tt++) {
                    for (int64_t r = 0; r < ldy; r++) {
                        float a = ya[tt * ldy + r], b = yb[tt * ldy + r];
                        if (r >= R) {       /* padding must stay untouched */
                            if (b != -777.0f) LM_FAIL_("%s %s: wrote outside the tile", lv, tr->name);
                            continue;
                        }
                        double mag = 0;
                        for (int64_t c = 0; c < n; c++) mag += fabs((double)wd[r * n + c] * xd[tt * n + c]);
                        if (fabs((double)a - b) > 2e-5 * mag + 1e-6)
                            LM_FAIL_("%s %s n=%d R=%d T=%d r=%d t=%d: %.8g vs ref %.8g (mag %.3g)", lv, tr->name,
                                     (int)n, (int)R, (int)T, (int)r, (int)tt, b, a, mag);
                    }
                }
            }
        }
        free(wf); free(xf); free(w); free(x); free(wd); free(xd);
    }
}

/* Float weights (F32, F16, BF16) through every tile path: row lengths that are not multiples of 8,
 * row counts that leave partial 4-row tiles and cross 64-row blocks, token counts below and above
 * the few-token path and its 3-token groups; row strides wider than the rows; nothing written
 * outside the tile. A token's result must not depend on the batch it comes in (bit for bit):
 * the models' batch-invariance tests rely on it. */
static void check_float_gemm(const struct lm__kern *k, const char *lv)
{
    const enum lm_type types[] = {LM_TYPE_F32, LM_TYPE_F16, LM_TYPE_BF16};
    const int64_t cols[] = {5, 100, 257, 1000};
    const int64_t rows[] = {1, 7, 16, 17, 50, 130};
    const int64_t toks[] = {1, 2, 3, 4, 5, 6, 7, 17, 64, 70};
    const int64_t NR = 130, NT = 70;
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        const enum lm_type t = types[ti];
        const struct lm_type_traits *tr = lm_type_traits(t);
        const enum lm_type vt = tr->vec_dot_type;
        for (size_t ci = 0; ci < sizeof cols / sizeof cols[0]; ci++) {
            const int64_t n = cols[ci];
            const size_t ws = lm_row_size(t, n) + 24, xs = lm_row_size(vt, n) + 40;   /* gaps between rows */
            float *wf = malloc(sizeof(float) * n), *xf = malloc(sizeof(float) * n);
            uint8_t *w = calloc(NR, ws), *x = calloc(NT, xs);
            float *wd = malloc(sizeof(float) * n * NR), *xd = malloc(sizeof(float) * n * NT);
            for (int64_t r = 0; r < NR; r++) {
                for (int64_t i = 0; i < n; i++) wf[i] = frand() * 0.1f + (i % 5 == 0 ? 0.03f : 0.0f);
                lm_quantize_row(t, wf, w + r * ws, n);
                lm_dequantize_row(t, w + r * ws, wd + r * n, n);
            }
            for (int64_t r = 0; r < NT; r++) {
                for (int64_t i = 0; i < n; i++) xf[i] = frand() * 2.0f;
                lm__kern_ref.from_float[vt](xf, x + r * xs, n);
                lm_dequantize_row(vt, x + r * xs, xd + r * n, n);
            }
            const int64_t ldy = NR + 3;
            float *ya = malloc(sizeof(float) * ldy * NT), *yb = malloc(sizeof(float) * ldy * NT);
            for (size_t ri = 0; ri < sizeof rows / sizeof rows[0]; ri++)
                for (size_t tj = 0; tj < sizeof toks / sizeof toks[0]; tj++) {
                    const int64_t R = rows[ri], T = toks[tj];
                    if (n == 1000 && R * T > 50 * 17) continue;     /* keep the scalar reference quick */
                    for (int64_t i = 0; i < ldy * NT; i++) ya[i] = yb[i] = -777.0f;
                    lm__kern_ref.gemm[t](n, w, ws, R, x, xs, T, ya, ldy);
                    k->gemm[t](n, w, ws, R, x, xs, T, yb, ldy);
                    for (int64_t tt = 0; tt < NT; tt++)
                        for (int64_t r = 0; r < ldy; r++) {
                            const float a = ya[tt * ldy + r], b = yb[tt * ldy + r];
                            if (r >= R || tt >= T) {
                                if (b != -777.0f)
                                    LM_FAIL_("%s %s n=%d R=%d T=%d: wrote outside the tile at r=%d t=%d", lv,
                                             tr->name, (int)n, (int)R, (int)T, (int)r, (int)tt);
                                continue;
                            }
                            double mag = 0;
                            for (int64_t c = 0; c < n; c++) mag += fabs((double)wd[r * n + c] * xd[tt * n + c]);
                            if (!(fabs((double)a - b) <= 2e-5 * mag + 1e-6))
                                LM_FAIL_("%s %s n=%d R=%d T=%d r=%d t=%d: %.8g vs ref %.8g (mag %.3g)", lv,
                                         tr->name, (int)n, (int)R, (int)T, (int)r, (int)tt, b, a, mag);
                        }
                    /* each token alone gives the same bits as in the batch */
                    for (int64_t tt = 0; tt < T; tt++) {
                        float one[NR];
                        k->gemm[t](n, w, ws, R, x + tt * xs, xs, 1, one, R);
                        for (int64_t r = 0; r < R; r++)
                            if (one[r] != yb[tt * ldy + r])
                                LM_FAIL_("%s %s n=%d R=%d T=%d r=%d t=%d: %.9g in the batch, %.9g alone", lv,
                                         tr->name, (int)n, (int)R, (int)T, (int)r, (int)tt, yb[tt * ldy + r], one[r]);
                    }
                }
            free(wf); free(xf); free(w); free(x); free(wd); free(xd); free(ya); free(yb);
        }
    }
}

/* Interleaved Q4_0 against the reference Q4_0 product on the original rows: row counts that
 * leave 1, 2 and 4-group remainders, token counts around the 4-token tiles, and rows longer than
 * the kernels' column chunks. */
static void check_q4_0_r8(const struct lm__kern *k, const char *lv)
{
    const int64_t lens[] = {2048 + 64, 32 * 600};
    for (int li = 0; li < 2; li++) {
        const int64_t n = lens[li], nr = 56, nt = 11;
        size_t ws = lm_row_size(LM_TYPE_Q4_0, n), xs = lm_row_size(LM_TYPE_Q8_0, n);
        float *wf = malloc(sizeof(float) * n * nr), *xf = malloc(sizeof(float) * n * nt);
        uint8_t *w = malloc(ws * nr), *w8 = malloc(ws * nr), *x = malloc(xs * nt);
        for (int64_t i = 0; i < n * nr; i++) wf[i] = frand() * 0.1f;
        for (int64_t i = 0; i < n * nt; i++) xf[i] = frand();
        for (int64_t r = 0; r < nr; r++) lm_quantize_row(LM_TYPE_Q4_0, wf + r * n, w + r * ws, n);
        for (int64_t r = 0; r < nt; r++) lm_quantize_row(LM_TYPE_Q8_0, xf + r * n, x + r * xs, n);
        lm__q4_0_to_r8(w, nr, n, w8);
        const int64_t rows[] = {8, 16, 24, 40, 48, 56}, toks[] = {1, 2, 3, 4, 5, 8, 11};
        for (int ri = 0; ri < 6; ri++)
            for (int ti = 0; ti < 7; ti++) {
                float ya[11 * 56], yb[11 * 56];
                lm__kern_ref.gemm[LM_TYPE_Q4_0](n, w, ws, rows[ri], x, xs, toks[ti], ya, rows[ri]);
                k->gemm[LM_TYPE_Q4_0_R8](n, w8, ws, rows[ri], x, xs, toks[ti], yb, rows[ri]);
                for (int64_t i = 0; i < rows[ri] * toks[ti]; i++)
                    if (fabsf(ya[i] - yb[i]) > 1e-4f * (1 + fabsf(ya[i])))
                        LM_FAIL_("%s Q4_0_R8 n=%d R=%d T=%d i=%d: %.7g vs %.7g", lv, (int)n, (int)rows[ri],
                                 (int)toks[ti], (int)i, yb[i], ya[i]);
                /* each token alone gives the same bits as in the batch */
                for (int64_t t = 0; t < toks[ti]; t++) {
                    float one[56];
                    k->gemm[LM_TYPE_Q4_0_R8](n, w8, ws, rows[ri], x + t * xs, xs, 1, one, rows[ri]);
                    for (int64_t r = 0; r < rows[ri]; r++)
                        if (one[r] != yb[t * rows[ri] + r])
                            LM_FAIL_("%s Q4_0_R8 n=%d R=%d T=%d r=%d t=%d: %.9g in the batch, %.9g alone", lv, (int)n,
                                     (int)rows[ri], (int)toks[ti], (int)r, (int)t, yb[t * rows[ri] + r], one[r]);
                }
            }
        free(wf); free(xf); free(w); free(w8); free(x);
    }
}

/* Interleaved Q8_0 against the reference Q8_0 product and the set's Q8_0 kernel on the original
 * rows: row counts of 1 to 7 groups, token counts around the 4-token tiles and a 64-token tile,
 * rows longer than the kernels' column chunks; get_rows; -128 weights refused. */
static void check_q8_0_r8(const struct lm__kern *k, const char *lv)
{
    const int64_t lens[] = {2048 + 64, 32 * 600};
    enum { NR = 56, NT = 64 };
    for (int li = 0; li < 2; li++) {
        const int64_t n = lens[li], nr = NR, nt = NT;
        size_t ws = lm_row_size(LM_TYPE_Q8_0, n), xs = lm_row_size(LM_TYPE_Q8_0, n);
        float *wf = malloc(sizeof(float) * n * nr), *xf = malloc(sizeof(float) * n * nt);
        uint8_t *w = malloc(ws * nr), *w8 = malloc(ws * nr), *x = malloc(xs * nt);
        float *ya = malloc(sizeof(float) * NR * NT), *yb = malloc(sizeof(float) * NR * NT);
        for (int64_t i = 0; i < n * nr; i++) wf[i] = frand() * 0.1f;
        for (int64_t i = 0; i < n * nt; i++) xf[i] = frand();
        for (int64_t r = 0; r < nr; r++) lm_quantize_row(LM_TYPE_Q8_0, wf + r * n, w + r * ws, n);
        for (int64_t r = 0; r < nt; r++) lm_quantize_row(LM_TYPE_Q8_0, xf + r * n, x + r * xs, n);
        ASSERT(lm__q8_0_to_r8(w, nr, n, w8));
        const int64_t rows[] = {8, 16, 24, 40, 48, 56}, toks[] = {1, 2, 3, 4, 5, 8, 11, 64};
        for (int ri = 0; ri < 6; ri++)
            for (int ti = 0; ti < 8; ti++) {
                lm__kern_ref.gemm[LM_TYPE_Q8_0](n, w, ws, rows[ri], x, xs, toks[ti], ya, rows[ri]);
                k->gemm[LM_TYPE_Q8_0_R8](n, w8, ws, rows[ri], x, xs, toks[ti], yb, rows[ri]);
                for (int64_t i = 0; i < rows[ri] * toks[ti]; i++)
                    if (fabsf(ya[i] - yb[i]) > 1e-4f * (1 + fabsf(ya[i])))
                        LM_FAIL_("%s Q8_0_R8 n=%d R=%d T=%d i=%d: %.7g vs %.7g", lv, (int)n, (int)rows[ri],
                                 (int)toks[ti], (int)i, yb[i], ya[i]);
                /* same bits as the set's own Q8_0 kernel (the same lane order as llama.cpp's) */
                k->gemm[LM_TYPE_Q8_0](n, w, ws, rows[ri], x, xs, toks[ti], ya, rows[ri]);
                for (int64_t i = 0; i < rows[ri] * toks[ti]; i++)
                    if (ya[i] != yb[i])
                        LM_FAIL_("%s Q8_0_R8 n=%d R=%d T=%d i=%d: %.9g, Q8_0 kernel %.9g", lv, (int)n,
                                 (int)rows[ri], (int)toks[ti], (int)i, yb[i], ya[i]);
                /* each token alone gives the same bits as in the batch */
                for (int64_t t = 0; t < toks[ti]; t++) {
                    float one[NR];
                    k->gemm[LM_TYPE_Q8_0_R8](n, w8, ws, rows[ri], x + t * xs, xs, 1, one, rows[ri]);
                    for (int64_t r = 0; r < rows[ri]; r++)
                        if (one[r] != yb[t * rows[ri] + r])
                            LM_FAIL_("%s Q8_0_R8 n=%d R=%d T=%d r=%d t=%d: %.9g in the batch, %.9g alone", lv, (int)n,
                                     (int)rows[ri], (int)toks[ti], (int)r, (int)t, yb[t * rows[ri] + r], one[r]);
                }
            }
        /* the interleaved reference agrees too, and get_rows gives back the original rows */
        lm__gemm_q8_0_r8_ref(n, w8, ws, nr, x, xs, 5, yb, nr);
        lm__kern_ref.gemm[LM_TYPE_Q8_0](n, w, ws, nr, x, xs, 5, ya, nr);
        for (int64_t i = 0; i < nr * 5; i++)
            if (fabsf(ya[i] - yb[i]) > 1e-4f * (1 + fabsf(ya[i])))
                LM_FAIL_("Q8_0_R8 reference n=%d i=%d: %.7g vs %.7g", (int)n, (int)i, yb[i], ya[i]);
        const int32_t ids[3] = {0, 13, 55};
        float *ra = malloc(sizeof(float) * n * 3), *rb = malloc(sizeof(float) * n * 3);
        lm_get_rows(LM_TYPE_Q8_0, w, n, ids, 3, ra);
        lm_get_rows(LM_TYPE_Q8_0_R8, w8, n, ids, 3, rb);
        ASSERT(memcmp(ra, rb, sizeof(float) * n * 3) == 0);
        /* a -128 weight byte is refused (the kernels could not negate it) */
        ((struct lm__block_q8_0 *)(w + 9 * ws))[1].qs[7] = -128;
        ASSERT(!lm__q8_0_to_r8(w, nr, n, w8));
        free(ra); free(rb);
        free(wf); free(xf); free(w); free(w8); free(x); free(ya); free(yb);
    }
}

static void check_f32_helpers(const struct lm__kern *k, const char *lv)
{
    float a[131], b[131], y1[131], y2[131];
    for (int i = 0; i < 131; i++) { a[i] = frand(); b[i] = frand(); }
    for (int n = 0; n <= 131; n++) {
        ASSERT_NEAR(k->dot_f32(a, b, n), lm__kern_ref.dot_f32(a, b, n), 1e-4);
        memcpy(y1, b, sizeof b);
        memcpy(y2, b, sizeof b);
        k->axpy_f32(y1, 0.37f, a, n);
        lm__kern_ref.axpy_f32(y2, 0.37f, a, n);
        for (int i = 0; i < 131; i++) ASSERT_NEAR(y1[i], y2[i], 1e-6);
    }
    (void)lv;
}

/* ---- NEON-specific cases (run for the neon kernel sets only) ---- */

/* Every weight type against the reference with the shapes the NEON tiles have edges at: row
 * counts around the 4-row tiles, token counts 1, 2, 3, 7 and 64 (tiles of 4 tokens plus
 * remainders), row lengths that are not a multiple of the vector width for the float types,
 * and row strides larger than a row. */
static void check_neon_gemm_shapes(const struct lm__kern *k, const char *lv)
{
    const enum lm_type types[] = {LM_TYPE_F32, LM_TYPE_F16, LM_TYPE_BF16, LM_TYPE_Q4_0, LM_TYPE_Q4_1,
                                  LM_TYPE_Q8_0, LM_TYPE_Q4_K, LM_TYPE_Q5_K, LM_TYPE_Q6_K};
    const int64_t fcols[] = {1, 3, 4, 7, 37, 100, 259, 2051};
    const int64_t qcols[] = {32, 96, 224, 2048};
    const int64_t kcols[] = {256, 768, 2048};
    const int64_t rows[] = {1, 3, 5, 7, 9, 17};
    const int64_t toks[] = {1, 2, 3, 7, 64};
    enum { NR = 17, NT = 64, PAD = 3 };
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        const enum lm_type t = types[ti];
        const struct lm_type_traits *tr = lm_type_traits(t);
        const enum lm_type vt = tr->vec_dot_type;
        const int64_t *cols = tr->block_size == 1 ? fcols : tr->block_size == 32 ? qcols : kcols;
        const size_t ncols = tr->block_size == 1 ? 8 : tr->block_size == 32 ? 4 : 3;
        for (size_t ci = 0; ci < ncols; ci++) {
            const int64_t n = cols[ci];
            const size_t ws = lm_row_size(t, n) + 8, xs = lm_row_size(vt, n) + 8;
            float *wf = malloc(sizeof(float) * n * NR), *xf = malloc(sizeof(float) * n * NT);
            float *wd = malloc(sizeof(float) * n * NR), *xd = malloc(sizeof(float) * n * NT);
            uint8_t *w = calloc(NR, ws), *x = calloc(NT, xs);
            double *mag = malloc(sizeof(double) * NR * NT);
            float *ya = malloc(sizeof(float) * NT * (NR + PAD)), *yb = malloc(sizeof(float) * NT * (NR + PAD));
            for (int64_t i = 0; i < n * NR; i++) wf[i] = frand() * 0.1f + (i % 5 == 0 ? 0.03f : 0.0f);
            for (int64_t i = 0; i < n * NT; i++) xf[i] = frand() * 2.0f;
            for (int64_t r = 0; r < NR; r++) {
                lm_quantize_row(t, wf + r * n, w + r * ws, n);
                lm_dequantize_row(t, w + r * ws, wd + r * n, n);
            }
            for (int64_t r = 0; r < NT; r++) {
                lm__kern_ref.from_float[vt](xf + r * n, x + r * xs, n);
                lm_dequantize_row(vt, x + r * xs, xd + r * n, n);
            }
            for (int64_t r = 0; r < NR; r++)
                for (int64_t tt = 0; tt < NT; tt++) {
                    double m = 0;
                    for (int64_t c = 0; c < n; c++) m += fabs((double)wd[r * n + c] * xd[tt * n + c]);
                    mag[r * NT + tt] = m;
                }
            for (size_t ri = 0; ri < sizeof rows / sizeof rows[0]; ri++)
                for (size_t ki = 0; ki < sizeof toks / sizeof toks[0]; ki++) {
                    const int64_t R = rows[ri], T = toks[ki], ldy = R + PAD;
                    for (int64_t i = 0; i < T * ldy; i++) ya[i] = yb[i] = -777.0f;
                    lm__kern_ref.gemm[t](n, w, ws, R, x, xs, T, ya, ldy);
                    k->gemm[t](n, w, ws, R, x, xs, T, yb, ldy);
                    for (int64_t tt = 0; tt < T; tt++)
                        for (int64_t r = 0; r < ldy; r++) {
                            const float a = ya[tt * ldy + r], b = yb[tt * ldy + r];
                            if (r >= R) {
                                if (b != -777.0f) LM_FAIL_("%s %s n=%d R=%d T=%d: wrote outside the tile", lv, tr->name, (int)n, (int)R, (int)T);
                                continue;
                            }
                            const double m = mag[r * NT + tt];
                            if (!(fabs((double)a - b) <= 2e-5 * m + 1e-6))
                                LM_FAIL_("%s %s n=%d R=%d T=%d r=%d t=%d: %.8g vs ref %.8g (mag %.3g)", lv, tr->name,
                                         (int)n, (int)R, (int)T, (int)r, (int)tt, b, a, m);
                        }
                }
            free(wf); free(xf); free(wd); free(xd); free(w); free(x); free(mag); free(ya); free(yb);
        }
    }
}

static float f32_of_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static uint32_t bits_of_f32(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

/* Activation conversions on the values where a vector conversion could differ from the scalar
 * one: NaNs with payloads, infinities, overflow to inf, half subnormals, exact rounding ties,
 * signs of zero; odd lengths for F16/BF16 (vector body plus scalar tail); for Q8_K and Q8_1
 * blocks with ties after scaling, equal magnitudes of both signs, all zeros. Byte-exact. */
static void check_neon_convert_edges(const struct lm__kern *k, const char *lv)
{
    static const uint32_t special[] = {
        0x7fc00000, 0xffc00000, 0x7f812345, 0xffa00001, 0x7fffffff, 0x7f800000, 0xff800000,
        0x80000000, 0x00000000, 0x477fe000, 0x477ff000, 0x477fefff, 0xc77ff000, 0x47800000,
        0x33000000, 0x33000001, 0x32ffffff, 0x35800000, 0x387fc000, 0x38800000, 0x00000001,
        0x3f801000, 0x3f803000, 0x3f808000, 0x3f818000, 0x3f817fff, 0x7f7f8000, 0x7f7fffff,
        0xbf808000, 0x3f800fff, 0x3f801001, 0x40490fdb, 0xc0490fdb};
    enum { NS = sizeof special / sizeof special[0] };
    float x[NS * 3];
    for (int i = 0; i < NS * 3; i++) x[i] = i < NS ? f32_of_bits(special[i]) : frand() * 1000.0f;
    const enum lm_type fts[] = {LM_TYPE_F16, LM_TYPE_BF16};
    for (int f = 0; f < 2; f++)
        for (int n = 1; n <= NS * 3; n += (n < 12 ? 1 : 7)) {
            for (int off = 0; off + n <= NS * 3; off += NS) {
                uint16_t a[NS * 3], b[NS * 3];
                lm__kern_ref.from_float[fts[f]](x + off, a, n);
                k->from_float[fts[f]](x + off, b, n);
                for (int i = 0; i < n; i++)
                    if (a[i] != b[i])
                        LM_FAIL_("%s from_float %s n=%d: input 0x%08x gives 0x%04x, reference 0x%04x", lv,
                                 lm_type_traits(fts[f])->name, n, (unsigned)bits_of_f32(x[off + i]), b[i], a[i]);
            }
        }
    /* Q8_K: 4 blocks of 256 */
    enum { NK = 4 * 256 };
    static float q[NK];
    for (int i = 0; i < NK; i++) q[i] = frand();
    /* block 0: largest magnitude 127 first negative, then positive: iscale = 1, ties x.5 */
    q[3] = -127.0f;
    q[200] = 127.0f;
    for (int i = 10; i < 60; i++) q[i] = (float)(i - 35) + 0.5f;
    /* block 1: all zero except the sign of zero */
    for (int i = 256; i < 512; i++) q[i] = i % 2 ? -0.0f : 0.0f;
    /* block 2: positive maximum first, a quiet NaN, tiny values */
    q[512 + 7] = 3.0f;
    q[512 + 8] = -3.0f;
    q[512 + 9] = f32_of_bits(0x7fc00000);
    for (int i = 512 + 20; i < 512 + 40; i++) q[i] = 1e-30f * (float)(i - 530);
    /* block 3: a single nonzero element */
    for (int i = 768; i < NK; i++) q[i] = 0;
    q[768 + 255] = -1e-3f;
    const enum lm_type qts[] = {LM_TYPE_Q8_K, LM_TYPE_Q8_1, LM_TYPE_Q8_0};
    for (int v = 0; v < 3; v++) {
        if (qts[v] == LM_TYPE_Q8_1 || qts[v] == LM_TYPE_Q8_0) {
            /* 32-blocks: no NaN (the reference's float-to-int8 cast of a NaN is undefined);
             * the ties with d = 1 as in check_from_float, at several block offsets */
            q[512 + 9] = 0.25f;
            for (int b = 0; b < 3; b++) {
                for (int i = 0; i < 32; i++) q[64 * b + i] = (float)(i % 2 ? i : -i) + (i % 3 ? 0.5f : 0.0f);
                q[64 * b + 5 + b] = b == 1 ? -127.0f : 127.0f;
            }
        }
        const size_t rs = lm_row_size(qts[v], NK);
        uint8_t *a = malloc(rs), *b = malloc(rs);
        expected_from_float(lv, qts[v], q, a, NK);
        k->from_float[qts[v]](q, b, NK);
        for (size_t i = 0; i < rs; i++)
            if (a[i] != b[i]) LM_FAIL_("%s from_float %s edges: byte %zu differs (%d vs %d)", lv, lm_type_traits(qts[v])->name, i, a[i], b[i]);
        free(a);
        free(b);
    }
}

/* llama.cpp's generic quantize_row_q8_K_ref, which its ARM build uses too (its nearest_int:
 * add 1.5 * 2^23 and read the low mantissa bits, i.e. round half to even). */
static int nearest_int_model(float f)
{
    const float v = f + 12582912.f;
    int32_t i;
    memcpy(&i, &v, 4);
    return (i & 0x007fffff) - 0x00400000;
}

static void quantize_q8_K_model(const float *x, void *vy, int64_t n)
{
    struct lm__block_q8_K *y = vy;
    for (int64_t i = 0; i < n / 256; i++, x += 256) {
        float max = 0, amax = 0;
        for (int j = 0; j < 256; j++)
            if (fabsf(x[j]) > amax) { amax = fabsf(x[j]); max = x[j]; }
        memset(&y[i], 0, sizeof y[i]);
        if (!amax) continue;
        const float iscale = -127.f / max;
        for (int j = 0; j < 256; j++) {
            const int q = nearest_int_model(iscale * x[j]);
            y[i].qs[j] = (int8_t)(q < 127 ? q : 127);
            y[i].bsums[j / 16] = (int16_t)(y[i].bsums[j / 16] + y[i].qs[j]);
        }
        y[i].d = 1 / iscale;
    }
}

/* NEON Q8_0 / Q8_1 / Q8_K activations against the scalar models of llama.cpp's ARM build, byte
 * for byte, on: blocks of exact halves after scaling (d = 1, 1/2, 2^-10, 4), all-zero blocks
 * (both signs of zero), the largest magnitude positive, negative or both, an fp16-subnormal d,
 * and NaN-free random blocks over many magnitudes. The tie blocks must also differ from the
 * reference's half-away-from-zero form, so a kernel that kept that form fails here. */
static void check_neon_q8_llama_arm(const struct lm__kern *k, const char *lv)
{
    enum { NB = 256, N = NB * 32 };
    static float x[N];
    for (int b = 0; b < NB; b++) {
        float *v = x + 32 * b;
        const int kind = b % 8;
        if (kind < 4) {
            /* halves: amax = 127 * s, every other value (m + 0.5) * s with m of both parities */
            const float s = kind == 0 ? 1.0f : kind == 1 ? 0.5f : kind == 2 ? 1.0f / 1024 : 4.0f;
            for (int j = 0; j < 32; j++) {
                const int m = (int)((b * 37 + j * 11) % 253) - 126;  /* -126..126 */
                v[j] = (float)m * s + (j % 2 ? 0.5f * s : 0.0f) * (m < 0 ? -1.0f : 1.0f);
            }
            v[(b / 8) % 32] = ((b / 8) % 3 == 1 ? -127.0f : 127.0f) * s;
            if ((b / 8) % 3 == 2) v[(b / 8 + 5) % 32] = -127.0f * s;   /* both signs of the max */
        } else if (kind == 4) {
            for (int j = 0; j < 32; j++) v[j] = (j + b) % 2 ? -0.0f : 0.0f;
            if (b % 16 == 12) v[b % 32] = -1e-3f * (float)(b % 7 + 1);     /* d subnormal in fp16 */
        } else {
            /* random, magnitudes 1e-6 .. 1e4, the largest magnitude positive or negative */
            const float scale = powf(10.0f, (float)(b % 11) - 6.0f);
            for (int j = 0; j < 32; j++) v[j] = frand() * scale;
            v[(b * 7) % 32] = (kind == 5 ? -1.5f : 1.5f) * scale;
        }
    }
    const enum lm_type ts[] = {LM_TYPE_Q8_0, LM_TYPE_Q8_1, LM_TYPE_Q8_K};
    for (int t = 0; t < 3; t++) {
        const size_t rs = lm_row_size(ts[t], N);
        uint8_t *a = malloc(rs), *b = malloc(rs), *r = malloc(rs);
        if (ts[t] == LM_TYPE_Q8_K) quantize_q8_K_model(x, a, N);
        else quantize_q8_arm_model(x, a, N, ts[t] == LM_TYPE_Q8_1);
        k->from_float[ts[t]](x, b, N);
        lm__kern_ref.from_float[ts[t]](x, r, N);
        size_t bad = 0;
        for (size_t i = 0; i < rs; i++)
            if (a[i] != b[i] && bad++ < 5)
                LM_FAIL_("%s from_float %s vs llama.cpp ARM model: byte %zu differs (%d vs %d)", lv,
                         lm_type_traits(ts[t])->name, i, b[i], a[i]);
        /* Q8_0/Q8_1 ties: the ARM form is not the reference's; Q8_K: it is */
        if (ts[t] == LM_TYPE_Q8_K) ASSERT(memcmp(a, r, rs) == 0);
        else ASSERT(memcmp(a, r, rs) != 0);
        free(a);
        free(b);
        free(r);
    }
}

int main(void)
{
    const enum lm_type types[] = {LM_TYPE_F32, LM_TYPE_F16, LM_TYPE_BF16, LM_TYPE_Q4_0, LM_TYPE_Q4_1,
                                  LM_TYPE_Q8_0, LM_TYPE_Q4_K, LM_TYPE_Q5_K, LM_TYPE_Q6_K};
    int tested = 0;
    fprintf(stderr, "active kernels: %s (cpu says %s)\n", lm__kern_active()->name, lm_cpu_kernel_name());
    ASSERT_STR_EQ(lm__kern_active()->name, lm_cpu_kernel_name());
    for (int lv = 1; lv < LM__KERN_LEVELS; lv++) {
        struct lm__kern k;
        if (lm__kern_build(&k, lv) != 0) {
            fprintf(stderr, "-- %s: not available here\n", level_names[lv]);
            continue;
        }
        fprintf(stderr, "-- %s\n", level_names[lv]);
        ASSERT_STR_EQ(k.name, level_names[lv]);
        check_from_float(&k, level_names[lv]);
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) check_gemm(&k, level_names[lv], types[i]);
        check_float_gemm(&k, level_names[lv]);
        check_q4_0_r8(&k, level_names[lv]);
        if (k.gemm[LM_TYPE_Q8_0_R8] != lm__kern_ref.gemm[LM_TYPE_Q8_0_R8]) check_q8_0_r8(&k, level_names[lv]);
        check_f32_helpers(&k, level_names[lv]);
        if (strncmp(level_names[lv], "neon", 4) == 0) {
            check_neon_gemm_shapes(&k, level_names[lv]);
            check_neon_convert_edges(&k, level_names[lv]);
            check_neon_q8_llama_arm(&k, level_names[lv]);
        }
        tested++;
    }
    fprintf(stderr, "%d SIMD kernel sets tested\n", tested);
#if defined(__x86_64__) || defined(__aarch64__)
    /* a 64-bit x86/ARM machine without any SIMD set would be a detection bug, unless disabled */
    if (!getenv("LM_CPU_DISABLE")) ASSERT(tested > 0);
#endif
    return 0;
}
