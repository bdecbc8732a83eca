/* test_sampler.c — greedy, seeds, and each filter of the sampler chain (penalties, top-k,
 * top-p, min-p, temperature), checked on small hand-made logit vectors. */
#include <math.h>

#include "lm/sampler.h"
#include "lm_test.h"

#define NV 8

static struct lm_sampler *make(struct lm_sampler_params p)
{
    struct lm_sampler *s;
    struct lm_error err = {0};
    if (lm_sampler_init(&p, NV, &s, &err) < 0) LM_FAIL_("%s", err.msg);
    return s;
}

static struct lm_sampler_params base(void)
{
    return (struct lm_sampler_params){.temperature = 1, .top_k = 0, .top_p = 1, .min_p = 0, .repeat_penalty = 1,
                                      .penalty_last_n = 64, .seed = 42};
}

/* Draws n tokens and counts each id. */
static void histogram(struct lm_sampler *s, const float *l, int n, int *h)
{
    for (int i = 0; i < NV; i++) h[i] = 0;
    for (int i = 0; i < n; i++) {
        int32_t id = lm_sampler_sample(s, l);
        ASSERT(id >= 0 && id < NV);
        h[id]++;
    }
}

static const float L[NV] = {1.0f, 3.0f, 2.5f, -1.0f, 0.5f, 2.9f, -3.0f, 0.0f};

static void test_greedy(void)
{
    struct lm_sampler_params p = base();
    p.temperature = 0;
    struct lm_sampler *s = make(p);
    for (int i = 0; i < 5; i++) ASSERT_EQ(lm_sampler_sample(s, L), 1);
    lm_sampler_free(s);
    /* greedy applies the penalties first: a repeated 1 loses to 5 */
    p.repeat_penalty = 1.1f;
    s = make(p);
    lm_sampler_accept(s, 1);
    ASSERT_EQ(lm_sampler_sample(s, L), 5);
    lm_sampler_free(s);
}

static void test_seed(void)
{
    struct lm_sampler *a = make(base()), *b = make(base());
    struct lm_sampler_params p = base();
    p.seed = 43;
    struct lm_sampler *c = make(p);
    int diff = 0;
    int32_t first[100];
    for (int i = 0; i < 100; i++) {
        int32_t x = lm_sampler_sample(a, L), y = lm_sampler_sample(b, L), z = lm_sampler_sample(c, L);
        ASSERT_EQ(x, y);
        first[i] = x;
        diff += x != z;
    }
    ASSERT(diff > 10);
    lm_sampler_reset(a);  /* reset restarts the seeded sequence */
    for (int i = 0; i < 100; i++) ASSERT_EQ(lm_sampler_sample(a, L), first[i]);
    lm_sampler_free(a);
    lm_sampler_free(b);
    lm_sampler_free(c);
}

static void test_top_k(void)
{
    struct lm_sampler_params p = base();
    p.top_k = 3;
    struct lm_sampler *s = make(p);
    int h[NV];
    histogram(s, L, 3000, h);
    ASSERT(h[1] > 0 && h[5] > 0 && h[2] > 0);
    ASSERT_EQ(h[0] + h[3] + h[4] + h[6] + h[7], 0);
    lm_sampler_free(s);
    p.top_k = 1;
    s = make(p);
    histogram(s, L, 200, h);
    ASSERT_EQ(h[1], 200);
    lm_sampler_free(s);
}

static void test_top_p(void)
{
    /* probabilities 0.6, 0.3, 0.1 */
    float l[NV];
    for (int i = 0; i < NV; i++) l[i] = -INFINITY;
    l[4] = logf(0.6f); l[2] = logf(0.3f); l[7] = logf(0.1f);
    struct lm_sampler_params p = base();
    p.top_p = 0.5f;
    struct lm_sampler *s = make(p);
    int h[NV];
    histogram(s, l, 500, h);
    ASSERT_EQ(h[4], 500);
    lm_sampler_free(s);
    p.top_p = 0.8f;
    s = make(p);
    histogram(s, l, 3000, h);
    ASSERT(h[4] > 0 && h[2] > 0);
    ASSERT_EQ(h[7], 0);
    ASSERT_NEAR((double)h[4] / 3000, 0.6 / 0.9, 0.04);
    lm_sampler_free(s);
}

static void test_min_p(void)
{
    struct lm_sampler_params p = base();
    p.min_p = 0.5f;   /* keeps logits >= 3 + ln 0.5 = 2.31: ids 1, 5, 2 */
    struct lm_sampler *s = make(p);
    int h[NV];
    histogram(s, L, 3000, h);
    ASSERT(h[1] > 0 && h[5] > 0 && h[2] > 0);
    ASSERT_EQ(h[0] + h[3] + h[4] + h[6] + h[7], 0);
    lm_sampler_free(s);
}

static void test_temperature(void)
{
    float l[NV];
    for (int i = 0; i < NV; i++) l[i] = -INFINITY;
    l[0] = 0; l[1] = logf(3.0f);  /* p = 0.25 / 0.75 at temperature 1 */
    struct lm_sampler_params p = base();
    struct lm_sampler *s = make(p);
    int h[NV];
    histogram(s, l, 8000, h);
    ASSERT_NEAR((double)h[1] / 8000, 0.75, 0.03);
    lm_sampler_free(s);
    p.temperature = 0.5f;  /* squares the odds: 9:1 */
    s = make(p);
    histogram(s, l, 8000, h);
    ASSERT_NEAR((double)h[1] / 8000, 0.9, 0.02);
    lm_sampler_free(s);
    p.temperature = 100;  /* nearly uniform */
    s = make(p);
    histogram(s, l, 8000, h);
    ASSERT_NEAR((double)h[1] / 8000, 0.5, 0.03);
    lm_sampler_free(s);
}

static void test_penalties(void)
{
    struct lm_sampler_params p = base();
    p.temperature = 0;
    p.presence_penalty = 0.45f;  /* 3.0 - 0.45 = 2.55 > 2.5, still 1 ... */
    struct lm_sampler *s = make(p);
    lm_sampler_accept(s, 1);
    ASSERT_EQ(lm_sampler_sample(s, L), 5);  /* 2.55 < 2.9 */
    lm_sampler_free(s);

    p.presence_penalty = 0;
    p.frequency_penalty = 0.05f;  /* 1 seen twice: 3.0 - 0.1 = 2.9, ties broken by lower id... */
    s = make(p);
    lm_sampler_accept(s, 1);
    ASSERT_EQ(lm_sampler_sample(s, L), 1);  /* 2.95 > 2.9 */
    lm_sampler_accept(s, 1);
    lm_sampler_accept(s, 1);
    ASSERT_EQ(lm_sampler_sample(s, L), 5);  /* 2.85 < 2.9 */
    lm_sampler_free(s);

    /* the window forgets: penalty_last_n 2 */
    p.frequency_penalty = 0;
    p.repeat_penalty = 2.0f;
    p.penalty_last_n = 2;
    s = make(p);
    lm_sampler_accept(s, 1);
    ASSERT_EQ(lm_sampler_sample(s, L), 5);
    lm_sampler_accept(s, 3);
    lm_sampler_accept(s, 4);  /* 1 left the window */
    ASSERT_EQ(lm_sampler_sample(s, L), 1);
    /* negative logits are multiplied: -1 * 2 = -2 for id 3 (still in the window) */
    float l2[NV] = {-5, -5, -5, -1, -5, -5, -5, -1.5f};
    ASSERT_EQ(lm_sampler_sample(s, l2), 7);
    lm_sampler_free(s);
}

static void test_bad_params(void)
{
    struct lm_sampler *s;
    struct lm_sampler_params p = base();
    p.top_p = 0;
    ASSERT_EQ(lm_sampler_init(&p, NV, &s, NULL), LM_EINVAL);
    p = base();
    ASSERT_EQ(lm_sampler_init(&p, 0, &s, NULL), LM_EINVAL);
    struct lm_sampler_params d;
    lm_sampler_defaults(&d);
    ASSERT_NEAR(d.temperature, 0.8, 1e-6);
    ASSERT_EQ(d.top_k, 40);
    ASSERT_OK(lm_sampler_init(&d, 1000, &s, NULL));
    float big[1000];
    for (int i = 0; i < 1000; i++) big[i] = (float)((i * 7919) % 1000) / 100.0f;
    for (int i = 0; i < 50; i++) {
        int32_t id = lm_sampler_sample(s, big);
        ASSERT(big[id] >= 9.6f);  /* top-40 of 0.00..9.99 */
        lm_sampler_accept(s, id);
    }
    lm_sampler_free(s);
}

int main(void)
{
    RUN_TEST(test_greedy);
    RUN_TEST(test_seed);
    RUN_TEST(test_top_k);
    RUN_TEST(test_top_p);
    RUN_TEST(test_min_p);
    RUN_TEST(test_temperature);
    RUN_TEST(test_penalties);
    RUN_TEST(test_bad_params);
    return 0;
}
