/* Tests for the thread pool (every thread runs once per call, many calls, sleeping workers wake)
 * and for lm_matmul over a pool giving the same numbers as on one thread. */
#include <stdatomic.h>
#include <unistd.h>

#include "lm/cpu.h"
#include "lm/kernels.h"
#include "lm/pool.h"
#include "lm_test.h"

struct count_arg {
    atomic_int hits[8];
    atomic_int calls;
    int nth_seen;
};

static void count_fn(void *a, int ith, int nth)
{
    struct count_arg *c = a;
    atomic_fetch_add(&c->hits[ith], 1);
    atomic_fetch_add(&c->calls, 1);
    c->nth_seen = nth;
}

static void test_runs(void)
{
    for (int n = 1; n <= 4; n++) {
        struct lm_pool *p = lm_pool_new(n);
        ASSERT(p != NULL);
        ASSERT_EQ(lm_pool_size(p), n);
        struct count_arg c = {0};
        for (int i = 0; i < 3000; i++) lm_pool_run(p, count_fn, &c);
        for (int t = 0; t < n; t++) ASSERT_EQ(atomic_load(&c.hits[t]), 3000);
        ASSERT_EQ(c.nth_seen, n);
        usleep(30000);              /* workers go to sleep on the futex; a run must wake them */
        lm_pool_run(p, count_fn, &c);
        ASSERT_EQ(atomic_load(&c.calls), 3001 * n);
        lm_pool_free(p);
    }
    struct count_arg c = {0};
    lm_pool_run(NULL, count_fn, &c);
    ASSERT_EQ(atomic_load(&c.hits[0]), 1);
    ASSERT_EQ(lm_pool_size(NULL), 1);
    ASSERT(lm_cpu_count() >= 1);
    struct lm_pool *p = lm_pool_new(0);
    ASSERT_EQ(lm_pool_size(p), lm_cpu_count());
    ASSERT(lm_pool_scratch(p, 100) != NULL);
    lm_pool_free(p);
}

static void test_matmul_threads(void)
{
    const int64_t ncols = 256, nrows = 333;
    float *w = malloc(sizeof(float) * ncols * nrows), *x = malloc(sizeof(float) * ncols * 70);
    float *y1 = malloc(sizeof(float) * nrows * 70), *y3 = malloc(sizeof(float) * nrows * 70);
    for (int64_t i = 0; i < ncols * nrows; i++) w[i] = (float)((i * 7919) % 201 - 100) / 1000.f;
    for (int64_t i = 0; i < ncols * 70; i++) x[i] = (float)((i * 104729) % 197 - 98) / 100.f;
    size_t rs = lm_row_size(LM_TYPE_Q4_0, ncols);
    char *wq = malloc(rs * (size_t)nrows);
    for (int64_t r = 0; r < nrows; r++) lm_quantize_row(LM_TYPE_Q4_0, w + r * ncols, wq + r * rs, ncols);
    struct lm_pool *p = lm_pool_new(3);
    const int64_t toks[] = {1, 2, 5, 70};
    for (int i = 0; i < 4; i++) {
        lm_matmul(NULL, LM_TYPE_Q4_0, wq, nrows, ncols, x, toks[i], y1);
        lm_matmul(p, LM_TYPE_Q4_0, wq, nrows, ncols, x, toks[i], y3);
        ASSERT(memcmp(y1, y3, sizeof(float) * (size_t)(nrows * toks[i])) == 0);
        lm_matmul(NULL, LM_TYPE_F32, w, nrows, ncols, x, toks[i], y1);
        lm_matmul(p, LM_TYPE_F32, w, nrows, ncols, x, toks[i], y3);
        ASSERT(memcmp(y1, y3, sizeof(float) * (size_t)(nrows * toks[i])) == 0);
    }
    lm_pool_free(p);
    free(w); free(x); free(y1); free(y3); free(wq);
}

/* lm_matmul_multi over a pool against lm_matmul of each matrix on one thread: Q/K/V-like
 * shapes in the layout the loader prepares, and a mix of activation types (done one by one). */
static void test_matmul_multi(void)
{
    const int64_t ncols = 512, rows[3] = {256, 64, 72}, ntok_max = 70;
    float *x = malloc(sizeof(float) * ncols * ntok_max);
    for (int64_t i = 0; i < ncols * ntok_max; i++) x[i] = (float)((i * 104729) % 197 - 98) / 100.f;
    void *wp[3], *wf[3];
    enum lm_type wt[3];
    float *y1[3], *y3[3];
    for (int m = 0; m < 3; m++) {
        float *w = malloc(sizeof(float) * ncols * rows[m]);
        for (int64_t i = 0; i < ncols * rows[m]; i++) w[i] = (float)((i * 7919 + m) % 201 - 100) / 1000.f;
        size_t rs = lm_row_size(LM_TYPE_Q4_0, ncols);
        char *wq = malloc(rs * (size_t)rows[m]);
        for (int64_t r = 0; r < rows[m]; r++) lm_quantize_row(LM_TYPE_Q4_0, w + r * ncols, wq + r * rs, ncols);
        void *pre = NULL;
        int t = lm_weights_prepare(LM_TYPE_Q4_0, wq, rows[m], ncols, &pre);
        ASSERT(t >= 0);
        wt[m] = (enum lm_type)t;
        wp[m] = pre ? pre : wq;
        if (pre) free(wq);
        wf[m] = w;
        y1[m] = malloc(sizeof(float) * (size_t)(rows[m] * ntok_max));
        y3[m] = malloc(sizeof(float) * (size_t)(rows[m] * ntok_max));
    }
    struct lm_pool *p = lm_pool_new(3);
    const int64_t toks[] = {1, 2, 5, 70};
    for (int i = 0; i < 4; i++) {
        const int64_t nt = toks[i];
        struct lm_matmul_out o[3];
        for (int m = 0; m < 3; m++) o[m] = (struct lm_matmul_out){wt[m], wp[m], rows[m], y3[m]};
        lm_matmul_multi(p, o, 3, ncols, x, nt);
        for (int m = 0; m < 3; m++) {
            lm_matmul(NULL, wt[m], wp[m], rows[m], ncols, x, nt, y1[m]);
            ASSERT(memcmp(y1[m], y3[m], sizeof(float) * (size_t)(rows[m] * nt)) == 0);
        }
        /* the middle one in f32: its activations are not converted like the others' */
        o[1] = (struct lm_matmul_out){LM_TYPE_F32, wf[1], rows[1], y3[1]};
        for (int m = 0; m < 3; m++) memset(y3[m], 0, sizeof(float) * (size_t)(rows[m] * nt));
        lm_matmul_multi(p, o, 3, ncols, x, nt);
        lm_matmul(NULL, LM_TYPE_F32, wf[1], rows[1], ncols, x, nt, y1[1]);
        for (int m = 0; m < 3; m++) {
            if (m != 1) lm_matmul(NULL, wt[m], wp[m], rows[m], ncols, x, nt, y1[m]);
            ASSERT(memcmp(y1[m], y3[m], sizeof(float) * (size_t)(rows[m] * nt)) == 0);
        }
    }
    /* a type without kernels leaves its output alone, alone or among others */
    float keep = 123.0f;
    const struct lm_matmul_out bad = {(enum lm_type)1000, wf[0], 1, &keep};
    lm_matmul_multi(p, &bad, 1, ncols, x, 1);
    const struct lm_matmul_out mixed[2] = {bad, {wt[0], wp[0], rows[0], y3[0]}};
    lm_matmul_multi(p, mixed, 2, ncols, x, 1);
    lm_matmul(NULL, wt[0], wp[0], rows[0], ncols, x, 1, y1[0]);
    ASSERT(memcmp(y1[0], y3[0], sizeof(float) * (size_t)rows[0]) == 0);
    ASSERT(keep == 123.0f);
    lm_pool_free(p);
    for (int m = 0; m < 3; m++) {
        if (wt[m] == LM_TYPE_Q4_0) free(wp[m]);
        else lm_weights_free(wp[m]);
        free(wf[m]); free(y1[m]); free(y3[m]);
    }
    free(x);
}

int main(void)
{
    RUN_TEST(test_runs);
    RUN_TEST(test_matmul_threads);
    RUN_TEST(test_matmul_multi);
    return 0;
}
