/* test_store_f16.c — the embedded store's half-precision matrix: conversions are exact where
 * they must be and round to nearest even, and search stays exact when vectors differ by less
 * than half precision can show (the f32 rescoring decides). */
#include <stdint.h>

#include "lm/store.h"
#include "lm_test.h"
#include "store/sqlite.h"

static void test_conversions(void)
{
    /* every finite half survives a round trip through float */
    for (uint32_t h = 0; h < 0x10000; h++) {
        if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff)) continue; /* NaN payloads */
        float f = lm__sq_f16_to_f32((uint16_t)h);
        ASSERT_EQ(lm__sq_f32_to_f16(f), h);
    }
    ASSERT_EQ(lm__sq_f32_to_f16(1.0f), 0x3c00);
    ASSERT_EQ(lm__sq_f32_to_f16(-2.0f), 0xc000);
    ASSERT_EQ(lm__sq_f32_to_f16(65504.0f), 0x7bff);
    ASSERT_EQ(lm__sq_f32_to_f16(65520.0f), 0x7c00);          /* rounds up to inf */
    ASSERT_EQ(lm__sq_f32_to_f16(ldexpf(1, -24)), 0x0001);     /* smallest subnormal */
    ASSERT_EQ(lm__sq_f32_to_f16(ldexpf(1, -25)), 0x0000);     /* tie -> even (0) */
    ASSERT_EQ(lm__sq_f32_to_f16(ldexpf(3, -25)), 0x0002);     /* tie -> even (2) */
    ASSERT_EQ(lm__sq_f32_to_f16(1.0f + ldexpf(1, -11)), 0x3c00); /* tie -> even */
    ASSERT_EQ(lm__sq_f32_to_f16(1.0f + ldexpf(3, -11)), 0x3c02);
    ASSERT_EQ(lm__sq_f32_to_f16(1.0f + ldexpf(1, -11) + ldexpf(1, -20)), 0x3c01);
    ASSERT_NEAR(lm__sq_f16_to_f32(0x3555), 0.333251953125, 0);
    /* random floats: the result is one of the two neighbours and the nearer one */
    uint32_t x = 1;
    for (int i = 0; i < 100000; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        float f = ldexpf((float)(x & 0xffffff) / 16777216.0f, (int)(x >> 24) % 30 - 26);
        uint16_t h = lm__sq_f32_to_f16(f);
        double err = fabs((double)lm__sq_f16_to_f32(h) - f);
        ASSERT(err <= fabs((double)lm__sq_f16_to_f32((uint16_t)(h + 1)) - f));
        if (h) ASSERT(err <= fabs((double)lm__sq_f16_to_f32((uint16_t)(h - 1)) - f));
    }
}

/* 60 vectors equal in half precision, distinct in f32: the exact answer must still win. */
static void test_exact_below_half_precision(void)
{
    enum { DIM = 64, N = 60 };
    struct lm_store_open_params p = {.url = "sqlite::memory:", .model_name = "m", .dim = DIM};
    struct lm_store *s = NULL;
    ASSERT_OK(lm_store_open(&p, &s, NULL));
    static float v[N][DIM];
    static char text[N][16];
    struct lm_chunk_in ch[N];
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < DIM; j++) v[i][j] = 0.125f;
        v[i][i % DIM] += 2e-5f * (float)(i + 1); /* far below half precision at 0.125 (2^-14) */
        snprintf(text[i], sizeof text[i], "row %d", i);
        ch[i].content = text[i];
        ch[i].embedding = v[i];
    }
    int64_t id;
    ASSERT_OK(lm_store_add_document(s, "near", NULL, ch, N, &id, NULL, NULL));
    for (int want = 0; want < N; want += 7) {
        struct lm_hit *hits = NULL;
        size_t n = 0;
        ASSERT_OK(lm_store_search_vector(s, v[want], 3, &hits, &n, NULL));
        ASSERT_EQ(n, 3);
        ASSERT_STR_EQ(hits[0].content, text[want]);
        ASSERT_NEAR(hits[0].score, 1.0, 1e-9);
        ASSERT(hits[1].score < hits[0].score);
        lm_store_free_hits(hits, n);
    }
    lm_store_close(s);
}

/* Enough rows that the scan is split across two threads: same answers as brute force. */
static void test_split_scan(void)
{
    enum { DIM = 8, N = 40000, K = 5 };
    struct lm_store_open_params p = {.url = "sqlite::memory:", .model_name = "m", .dim = DIM};
    struct lm_store *s = NULL;
    ASSERT_OK(lm_store_open(&p, &s, NULL));
    float *v = malloc(sizeof(float) * DIM * N);
    struct lm_chunk_in *ch = malloc(sizeof *ch * N);
    ASSERT(v && ch);
    uint32_t x = 7;
    for (int i = 0; i < N * DIM; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        v[i] = (float)(x % 2001) / 1000.0f - 1.0f;
    }
    for (int i = 0; i < N; i++) ch[i] = (struct lm_chunk_in){"r", v + (size_t)i * DIM};
    int64_t id;
    ASSERT_OK(lm_store_add_document(s, "big", NULL, ch, N, &id, NULL, NULL));
    for (int qi = 0; qi < 4; qi++) {
        const float *q = v + (size_t)(qi * 9973 + 5) * DIM; /* rows from both halves */
        double best[K];
        for (int i = 0; i < K; i++) best[i] = -2;
        double qq = 0;
        for (int j = 0; j < DIM; j++) qq += (double)q[j] * q[j];
        for (int r = 0; r < N; r++) {
            const float *row = v + (size_t)r * DIM;
            double dot = 0, vv = 0;
            for (int j = 0; j < DIM; j++) {
                dot += (double)q[j] * row[j];
                vv += (double)row[j] * row[j];
            }
            double c = vv > 0 ? dot / sqrt(qq * vv) : 0;
            for (int a = 0; a < K; a++)
                if (c > best[a]) {
                    for (int b = K - 1; b > a; b--) best[b] = best[b - 1];
                    best[a] = c;
                    break;
                }
        }
        struct lm_hit *hits = NULL;
        size_t n = 0;
        ASSERT_OK(lm_store_search_vector(s, q, K, &hits, &n, NULL));
        ASSERT_EQ(n, K);
        for (int i = 0; i < K; i++) ASSERT_NEAR(hits[i].score, best[i], 1e-9);
        lm_store_free_hits(hits, n);
    }
    free(v);
    free(ch);
    lm_store_close(s);
}

int main(void)
{
    RUN_TEST(test_conversions);
    RUN_TEST(test_exact_below_half_precision);
    RUN_TEST(test_split_scan);
    fprintf(stderr, "ok\n");
    return 0;
}
