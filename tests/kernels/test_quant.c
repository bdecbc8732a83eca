/* Tests for the tensor types: traits, f16/bf16 conversion, ggml-identical block bytes, round
 * trips of every quantiser, and the reference dot products against dequantised arithmetic. */
#include <stdint.h>

#include "kernels/kern_internal.h"
#include "lm/kernels.h"
#include "lm/quant.h"
#include "lm_test.h"

static uint64_t rng = 88172645463325252ull;
static float frand(void)     /* uniform in [-1, 1) */
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (float)((rng >> 40) * (1.0 / 8388608.0)) - 1.0f;
}
static float grand(void)     /* roughly normal, std ~1 */
{
    return (frand() + frand() + frand() + frand()) * 0.8660254f;
}

static void test_traits(void)
{
    ASSERT_EQ(lm_type_traits(LM_TYPE_Q4_0)->type_size, 18);
    ASSERT_EQ(lm_type_traits(LM_TYPE_Q4_1)->type_size, 20);
    ASSERT_EQ(lm_type_traits(LM_TYPE_Q8_0)->type_size, 34);
    ASSERT_EQ(lm_type_traits(LM_TYPE_Q4_K)->type_size, 144);
    ASSERT_EQ(lm_type_traits(LM_TYPE_Q5_K)->type_size, 176);
    ASSERT_EQ(lm_type_traits(LM_TYPE_Q6_K)->type_size, 210);
    ASSERT_EQ(lm_type_traits(LM_TYPE_Q8_K)->type_size, 292);
    ASSERT_EQ(lm_type_traits(LM_TYPE_Q4_K)->block_size, 256);
    ASSERT_EQ(lm_type_traits(LM_TYPE_Q4_0)->vec_dot_type, LM_TYPE_Q8_0);
    ASSERT_EQ(lm_type_traits(LM_TYPE_Q4_1)->vec_dot_type, LM_TYPE_Q8_1);
    ASSERT_EQ(lm_type_traits(LM_TYPE_Q6_K)->vec_dot_type, LM_TYPE_Q8_K);
    ASSERT(lm_type_traits(LM_TYPE_COUNT) == NULL);
    ASSERT(lm_type_traits(-1) == NULL);
    ASSERT(lm_type_traits(6) == NULL);           /* Q5_0: not supported */
    ASSERT_EQ(lm_type_from_name("q4_k"), LM_TYPE_Q4_K);
    ASSERT_EQ(lm_type_from_name("BF16"), LM_TYPE_BF16);
    ASSERT_EQ(lm_type_from_name("q3_k"), -1);
    ASSERT_EQ(lm_row_size(LM_TYPE_Q4_0, 4096), 4096 / 32 * 18);
    ASSERT_EQ(lm_row_size(LM_TYPE_Q4_0, 33), 0);
    ASSERT_EQ(lm_row_size(LM_TYPE_F16, 7), 14);
    ASSERT_EQ(lm_row_size(LM_TYPE_Q6_K, 512), 420);
}

static float bits_f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

static void test_f16(void)
{
    /* every half survives a round trip through f32 */
    for (uint32_t h = 0; h < 65536; h++) {
        if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff)) continue;     /* NaN payloads */
        ASSERT_EQ(lm_f32_to_f16(lm_f16_to_f32((uint16_t)h)), h);
    }
    ASSERT_EQ(lm_f32_to_f16(1.0f), 0x3c00);
    ASSERT_EQ(lm_f32_to_f16(-2.0f), 0xc000);
    ASSERT_EQ(lm_f32_to_f16(65504.0f), 0x7bff);
    ASSERT_EQ(lm_f32_to_f16(65519.0f), 0x7bff);
    ASSERT_EQ(lm_f32_to_f16(65520.0f), 0x7c00);                  /* tie, rounds to even: inf */
    ASSERT_EQ(lm_f32_to_f16(1.0f + 0x1p-11f), 0x3c00);           /* tie to even (down) */
    ASSERT_EQ(lm_f32_to_f16(1.0f + 3 * 0x1p-11f), 0x3c02);       /* tie to even (up) */
    ASSERT_EQ(lm_f32_to_f16(0x1p-24f), 0x0001);
    ASSERT_EQ(lm_f32_to_f16(0x1p-25f), 0x0000);                  /* tie to even: zero */
    ASSERT_EQ(lm_f32_to_f16(0x1.8p-25f), 0x0001);
    ASSERT_EQ(lm_f32_to_f16(0x1.8p-24f), 0x0002);                /* 1.5 ulp: tie to even */
    ASSERT_EQ(lm_f32_to_f16(bits_f(0x7fc00000)) & 0x7e00, 0x7e00);
    ASSERT_NEAR(lm_f16_to_f32(0x3555), 0.333251953125, 0);
#ifdef __FLT16_MAX__
    /* compiler's own conversion (round to nearest even) as the oracle on random floats */
    for (int i = 0; i < 200000; i++) {
        uint32_t u = (uint32_t)(rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17);
        float f = bits_f(u);
        if (f != f) continue;
        _Float16 h = (_Float16)f;
        uint16_t hb;
        memcpy(&hb, &h, 2);
        if (lm_f32_to_f16(f) != hb) LM_FAIL_("f16(%a): %04x != %04x", (double)f, lm_f32_to_f16(f), hb);
    }
#endif
}

static void test_bf16(void)
{
    ASSERT_EQ(lm_f32_to_bf16(1.0f), 0x3f80);
    ASSERT_EQ(lm_f32_to_bf16(bits_f(0x3f808000)), 0x3f80);       /* tie to even (down) */
    ASSERT_EQ(lm_f32_to_bf16(bits_f(0x3f818000)), 0x3f82);       /* tie to even (up) */
    ASSERT_EQ(lm_f32_to_bf16(bits_f(0x3f808001)), 0x3f81);
    ASSERT_EQ(lm_f32_to_bf16(bits_f(0x7f800001)), 0x7fc0);       /* signalling NaN made quiet */
    ASSERT_NEAR(lm_bf16_to_f32(0x4049), 3.140625, 0);
}

/* Block bytes worked out by hand from ggml's reference algorithms. */
static void test_known_blocks(void)
{
    float x[32];
    for (int j = 0; j < 32; j++) x[j] = (float)(j - 16);
    struct lm__block_q4_0 q4;
    lm_quantize_row(LM_TYPE_Q4_0, x, &q4, 32);
    ASSERT_EQ(q4.d, 0x4000);                                   /* d = -16 / -8 = 2 */
    static const uint8_t q4_qs[16] = {0x80, 0x91, 0x91, 0xa2, 0xa2, 0xb3, 0xb3, 0xc4,
                                      0xc4, 0xd5, 0xd5, 0xe6, 0xe6, 0xf7, 0xf7, 0xf8};
    for (int j = 0; j < 16; j++) ASSERT_EQ(q4.qs[j], q4_qs[j]);

    for (int j = 0; j < 32; j++) x[j] = (float)(j * 8 - 127);  /* -127..121: amax 127, d = 1 */
    struct lm__block_q8_0 q8;
    lm_quantize_row(LM_TYPE_Q8_0, x, &q8, 32);
    ASSERT_EQ(q8.d, 0x3c00);
    for (int j = 0; j < 32; j++) ASSERT_EQ(q8.qs[j], j * 8 - 127);

    for (int j = 0; j < 32; j++) x[j] = 1.0f + (float)j * 0.5f; /* min 1, max 16.5: d = 15.5/15 */
    struct lm__block_q4_1 q41;
    lm_quantize_row(LM_TYPE_Q4_1, x, &q41, 32);
    ASSERT_EQ(q41.m, 0x3c00);
    ASSERT_EQ(q41.d, lm_f32_to_f16(15.5f / 15));
    ASSERT_EQ(q41.qs[0], 0x80);                                 /* 0 and (8/ (15.5/15) + .5) = 8 */
    ASSERT_EQ(q41.qs[15] >> 4, 15);

    /* Q8_K: d = max / -127 with max the signed extreme; sums of 16 */
    float k[256];
    for (int j = 0; j < 256; j++) k[j] = (float)((j % 64) - 32) / 32.0f;   /* max = -1 */
    struct lm__block_q8_K q8k;
    lm_quantize_row(LM_TYPE_Q8_K, k, &q8k, 256);
    ASSERT_NEAR(q8k.d, 1.0 / 127.0, 1e-9);
    ASSERT_EQ(q8k.qs[0], -127);
    ASSERT_EQ(q8k.qs[32], 0);
    int s = 0;
    for (int j = 0; j < 16; j++) s += q8k.qs[j];
    ASSERT_EQ(q8k.bsums[0], s);

    /* all-zero blocks */
    memset(k, 0, sizeof k);
    uint8_t buf[292];
    memset(buf, 0xff, sizeof buf);
    lm_quantize_row(LM_TYPE_Q6_K, k, buf, 256);
    for (int j = 0; j < 210; j++) ASSERT_EQ(buf[j], 0);
    lm_quantize_row(LM_TYPE_Q4_K, k, buf, 256);
    float back[256];
    lm_dequantize_row(LM_TYPE_Q4_K, buf, back, 256);
    for (int j = 0; j < 256; j++) ASSERT_EQ(back[j], 0);
}

/* rms error of a quantise/dequantise round trip relative to the data's rms. */
static double roundtrip_rel_rms(enum lm_type t, const float *x, int64_t n)
{
    size_t rs = lm_row_size(t, n);
    void *q = malloc(rs);
    float *y = malloc((size_t)n * 4);
    lm_quantize_row(t, x, q, n);
    lm_dequantize_row(t, q, y, n);
    double e = 0, s = 0;
    for (int64_t i = 0; i < n; i++) {
        e += (double)(x[i] - y[i]) * (x[i] - y[i]);
        s += (double)x[i] * x[i];
    }
    free(q);
    free(y);
    return sqrt(e / s);
}

static void test_roundtrips(void)
{
    enum { N = 4096 };
    static float x[N];
    for (int i = 0; i < N; i++) x[i] = grand() * 0.07f;
    struct { enum lm_type t; double max_rel; } c[] = {
        {LM_TYPE_F32, 0}, {LM_TYPE_F16, 1e-3}, {LM_TYPE_BF16, 5e-3}, {LM_TYPE_Q8_0, 0.01},
        {LM_TYPE_Q8_1, 0.01}, {LM_TYPE_Q8_K, 0.01}, {LM_TYPE_Q6_K, 0.03}, {LM_TYPE_Q5_K, 0.06},
        {LM_TYPE_Q4_K, 0.12}, {LM_TYPE_Q4_1, 0.15}, {LM_TYPE_Q4_0, 0.16},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        double r = roundtrip_rel_rms(c[i].t, x, N);
        fprintf(stderr, "   %-5s rel rms %.5f\n", lm_type_traits(c[i].t)->name, r);
        ASSERT(r <= c[i].max_rel);
    }
    /* a K-quant must beat its 32-block sibling on the same data (the fits are doing work) */
    ASSERT(roundtrip_rel_rms(LM_TYPE_Q4_K, x, N) < roundtrip_rel_rms(LM_TYPE_Q4_0, x, N));
    /* Q8_0: every element within half a step, plus the rounding of d to f16 (127 * 2^-11 steps) */
    struct lm__block_q8_0 b[N / 32];
    float y[N];
    lm_quantize_row(LM_TYPE_Q8_0, x, b, N);
    lm_dequantize_row(LM_TYPE_Q8_0, b, y, N);
    for (int i = 0; i < N; i++) ASSERT(fabsf(x[i] - y[i]) <= lm_f16_to_f32(b[i / 32].d) * 0.57f + 1e-7f);
}

/* Reference matmul equals dequantised weights dotted with dequantised converted activations. */
static void test_ref_dot(void)
{
    const enum lm_type types[] = {LM_TYPE_F32, LM_TYPE_F16, LM_TYPE_BF16, LM_TYPE_Q4_0, LM_TYPE_Q4_1,
                                  LM_TYPE_Q8_0, LM_TYPE_Q4_K, LM_TYPE_Q5_K, LM_TYPE_Q6_K};
    const int64_t ncols = 512, nrows = 7, ntok = 3;
    float *w = malloc(sizeof(float) * ncols * nrows), *x = malloc(sizeof(float) * ncols * ntok);
    float *wd = malloc(sizeof(float) * ncols), *xd = malloc(sizeof(float) * ncols);
    float y[7 * 3];
    for (int64_t i = 0; i < ncols * nrows; i++) w[i] = grand() * 0.05f;
    for (int64_t i = 0; i < ncols * ntok; i++) x[i] = grand();
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
        enum lm_type t = types[ti], vt = lm_type_traits(t)->vec_dot_type;
        size_t rs = lm_row_size(t, ncols);
        char *wq = malloc(rs * nrows), *xq = malloc(lm_row_size(vt, ncols));
        for (int64_t r = 0; r < nrows; r++) lm_quantize_row(t, w + r * ncols, wq + r * rs, ncols);
        lm_matmul(NULL, t, wq, nrows, ncols, x, ntok, y);
        for (int64_t tk = 0; tk < ntok; tk++) {
            lm_quantize_row(vt, x + tk * ncols, xq, ncols);
            lm_dequantize_row(vt, xq, xd, ncols);
            for (int64_t r = 0; r < nrows; r++) {
                lm_dequantize_row(t, wq + r * rs, wd, ncols);
                double s = 0, a = 0, slack = 0;
                for (int64_t c = 0; c < ncols; c++) {
                    s += (double)wd[c] * xd[c];
                    a += fabs((double)wd[c] * xd[c]);
                }
                if (t == LM_TYPE_Q4_1) {    /* Q8_1 keeps d*sum(q) rounded to f16: allow for it */
                    const struct lm__block_q4_1 *wb = (const void *)(wq + r * rs);
                    const struct lm__block_q8_1 *xb = (const void *)xq;
                    for (int64_t b = 0; b < ncols / 32; b++)
                        slack += fabs(lm_f16_to_f32(wb[b].m) * lm_f16_to_f32(xb[b].s)) * 0x1p-10;
                }
                double got = y[tk * nrows + r];
                if (fabs(got - s) > 1e-5 * a + slack + 1e-6)
                    LM_FAIL_("%s row %d tok %d: %.7g vs %.7g", lm_type_traits(t)->name, (int)r, (int)tk, got, s);
            }
        }
        free(wq);
        free(xq);
    }
    free(w); free(x); free(wd); free(xd);
}

static void test_get_rows_and_f32(void)
{
    float w[4 * 64], out[2 * 64];
    for (int i = 0; i < 4 * 64; i++) w[i] = grand();
    uint8_t q[4 * 68];
    for (int r = 0; r < 4; r++) lm_quantize_row(LM_TYPE_Q8_0, w + r * 64, q + r * 68, 64);
    int32_t ids[2] = {3, 1};
    lm_get_rows(LM_TYPE_Q8_0, q, 64, ids, 2, out);
    float ref[64];
    lm_dequantize_row(LM_TYPE_Q8_0, q + 3 * 68, ref, 64);
    ASSERT(memcmp(ref, out, sizeof ref) == 0);
    lm_get_rows(LM_TYPE_F32, w, 64, ids, 2, out);
    ASSERT(memcmp(w + 64, out + 64, 64 * 4) == 0);
    for (int n = 0; n < 70; n++) {
        double s = 0;
        for (int i = 0; i < n; i++) s += (double)w[i] * w[64 + (i % 64)];
        float b[70];
        for (int i = 0; i < n; i++) b[i] = w[64 + (i % 64)];
        ASSERT_NEAR(lm_dot_f32(w, b, n), s, 1e-4);
        float yy[70];
        memcpy(yy, b, sizeof(float) * (size_t)n);
        lm_axpy_f32(yy, 0.5f, w, n);
        for (int i = 0; i < n; i++) ASSERT_NEAR(yy[i], b[i] + 0.5f * w[i], 1e-6);
    }
}

/* The interleaved layout gives the same numbers as plain Q4_0, through matmul and get_rows. */
static void test_q4_0_r8_ref(void)
{
    const int64_t n = 256, nr = 24, nt = 5;
    size_t ws = lm_row_size(LM_TYPE_Q4_0, n);
    float *wf = malloc(sizeof(float) * n * nr), *x = malloc(sizeof(float) * n * nt);
    uint8_t *w = malloc(ws * nr), *w8 = malloc(ws * nr);
    for (int64_t i = 0; i < n * nr; i++) wf[i] = grand() * 0.05f;
    for (int64_t i = 0; i < n * nt; i++) x[i] = grand();
    for (int64_t r = 0; r < nr; r++) lm_quantize_row(LM_TYPE_Q4_0, wf + r * n, w + r * ws, n);
    lm__q4_0_to_r8(w, nr, n, w8);
    float ya[24 * 5], yb[24 * 5];
    lm__kern_ref.gemm[LM_TYPE_Q4_0](n, w, ws, nr, x, 0, 0, ya, nr);   /* nt 0: no-op */
    uint8_t xq[5 * 272];
    for (int t = 0; t < nt; t++) lm_quantize_row(LM_TYPE_Q8_0, x + t * n, xq + t * 272, n);
    lm__kern_ref.gemm[LM_TYPE_Q4_0](n, w, ws, nr, xq, 272, nt, ya, nr);
    lm__gemm_q4_0_r8_ref(n, w8, ws, nr, xq, 272, nt, yb, nr);
    ASSERT(memcmp(ya, yb, sizeof ya) == 0);
    int32_t ids[3] = {0, 13, 23};
    float ra[3 * 256], rb[3 * 256];
    lm_get_rows(LM_TYPE_Q4_0, w, n, ids, 3, ra);
    lm_get_rows(LM_TYPE_Q4_0_R8, w8, n, ids, 3, rb);
    ASSERT(memcmp(ra, rb, sizeof ra) == 0);
    /* prepare: either a repacked copy used through matmul, or nothing to do */
    void *p = NULL;
    int t = lm_weights_prepare(LM_TYPE_Q4_0, w, nr, n, &p);
    ASSERT(t == LM_TYPE_Q4_0 || t == LM_TYPE_Q4_0_R8);
    ASSERT((t == LM_TYPE_Q4_0) == (p == NULL));
    lm_matmul(NULL, LM_TYPE_Q4_0, w, nr, n, x, nt, ya);
    lm_matmul(NULL, (enum lm_type)t, p ? p : w, nr, n, x, nt, yb);
    for (int i = 0; i < 24 * 5; i++) ASSERT_NEAR(ya[i], yb[i], 1e-4 * (1 + fabs(ya[i])));
    lm_weights_free(p);
    ASSERT_EQ(lm_weights_prepare(LM_TYPE_Q4_0, w, 12, n, &p), LM_TYPE_Q4_0);    /* rows not a multiple of 8 */
    ASSERT(p == NULL);
    ASSERT_EQ(lm_weights_prepare(LM_TYPE_Q8_0, w, 8, n, &p), LM_TYPE_Q8_0);
    ASSERT(lm_type_traits(LM_TYPE_Q4_0_R8) == NULL);    /* never a file type */
    free(wf); free(x); free(w); free(w8);
}

int main(void)
{
    RUN_TEST(test_traits);
    RUN_TEST(test_f16);
    RUN_TEST(test_bf16);
    RUN_TEST(test_known_blocks);
    RUN_TEST(test_roundtrips);
    RUN_TEST(test_ref_dot);
    RUN_TEST(test_get_rows_and_f32);
    RUN_TEST(test_q4_0_r8_ref);
    return 0;
}
