/* model_ops.c — the small f32 operations the architectures share, written to give the same
 * numbers as ggml's CPU ops (double sums in RMSNorm, iterative RoPE angles). */
#include <math.h>
#include <time.h>

#include "engine/model_internal.h"
#include "lm/pool.h"

void lm__rmsnorm(float *out, const float *x, const float *w, int64_t n, float eps)
{
    double sum = 0;
    for (int64_t i = 0; i < n; i++) sum += (double)(x[i] * x[i]);
    const float mean = (float)(sum / (double)n);
    const float scale = 1.0f / sqrtf(mean + eps);
    for (int64_t i = 0; i < n; i++) out[i] = x[i] * scale;
    if (w)
        for (int64_t i = 0; i < n; i++) out[i] *= w[i];
}

void lm__rope_cache(float *cs, int n_rot, int pos, float freq_base, float freq_scale, const float *freq_factors)
{
    const float theta_scale = powf(freq_base, -2.0f / (float)n_rot);
    float theta = (float)pos;
    for (int i = 0; i < n_rot; i += 2) {
        const float ff = freq_factors ? freq_factors[i / 2] : 1.0f;
        const float t = freq_scale * (theta / ff);
        cs[i] = cosf(t);
        cs[i + 1] = sinf(t);
        theta *= theta_scale;
    }
}

void lm__rope_apply(float *x, const float *cs, int n_rot, bool neox)
{
    for (int i = 0; i < n_rot; i += 2) {
        const float c = cs[i], s = cs[i + 1];
        const int a = neox ? i / 2 : i, b = neox ? i / 2 + n_rot / 2 : i + 1;
        const float x0 = x[a], x1 = x[b];
        x[a] = x0 * c - x1 * s;
        x[b] = x0 * s + x1 * c;
    }
}

void lm__softmax(float *x, int64_t n)
{
    float max = -INFINITY;
    for (int64_t i = 0; i < n; i++) max = x[i] > max ? x[i] : max;
    double sum = 0;
    for (int64_t i = 0; i < n; i++) {
        x[i] = expf(x[i] - max);
        sum += (double)x[i];
    }
    const float inv = (float)(1.0 / sum);
    for (int64_t i = 0; i < n; i++) x[i] *= inv;
}

void lm__swiglu(float *x, const float *y, int64_t n)
{
    for (int64_t i = 0; i < n; i++) x[i] = x[i] / (1.0f + expf(-x[i])) * y[i];
}

void lm__add(float *out, const float *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++) out[i] += x[i];
}

double lm__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

struct range_job {
    lm__range_fn fn;
    void *arg;
    int64_t n;
};

static void range_worker(void *a, int ith, int nth)
{
    const struct range_job *j = a;
    const int64_t i0 = j->n * ith / nth, i1 = j->n * (ith + 1) / nth;
    if (i0 < i1) j->fn(j->arg, i0, i1, ith);
}

void lm__parallel_for(struct lm_pool *pool, int64_t n, int64_t grain, lm__range_fn fn, void *arg)
{
    if (n <= 0) return;
    if (lm_pool_size(pool) == 1 || n < 2 * grain) {
        fn(arg, 0, n, 0);
        return;
    }
    struct range_job j = {fn, arg, n};
    lm_pool_run(pool, range_worker, &j);
}
