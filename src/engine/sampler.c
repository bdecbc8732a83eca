/* sampler.c — the token sampler (lm/sampler.h), in llama.cpp's default chain order:
 * penalties → top-k → top-p → min-p → temperature → draw. Greedy (temperature <= 0) is the
 * argmax after penalties. Penalty counts are kept incrementally over a ring of the last
 * penalty_last_n accepted tokens, so a sample never scans the window. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lm/sampler.h"

struct cand {
    int32_t id;
    float logit;
};

struct lm_sampler {
    struct lm_sampler_params p;
    int n_vocab;
    struct cand *c;           /* n_vocab candidates, scratch */
    float *logits;            /* n_vocab, penalised copy */
    int32_t *count;           /* occurrences of each id in the window */
    int32_t *ring;            /* the window */
    int ring_len, ring_pos;
    uint64_t rng;
};

void lm_sampler_defaults(struct lm_sampler_params *p)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    *p = (struct lm_sampler_params){
        .temperature = 0.8f, .top_k = 40, .top_p = 0.95f, .min_p = 0.05f, .repeat_penalty = 1.0f,
        .penalty_last_n = 64, .presence_penalty = 0, .frequency_penalty = 0,
        .seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ ((uint64_t)getpid() << 40),
    };
}

int lm_sampler_init(const struct lm_sampler_params *p, int n_vocab, struct lm_sampler **out, struct lm_error *err)
{
    *out = NULL;
    if (n_vocab <= 0) return lm_error_set(err, LM_EINVAL, "sampler: n_vocab %d", n_vocab);
    if (!(p->top_p > 0 && p->top_p <= 1) || p->min_p < 0 || p->min_p > 1 || !(p->repeat_penalty > 0) ||
        p->penalty_last_n < 0 || isnan(p->temperature) || isnan(p->presence_penalty) || isnan(p->frequency_penalty))
        return lm_error_set(err, LM_EINVAL, "sampler: parameter out of range (top_p in (0,1], min_p in [0,1], repeat_penalty > 0)");
    struct lm_sampler *s = calloc(1, sizeof *s);
    if (!s) return lm_error_set(err, LM_ENOMEM, "sampler: out of memory");
    s->p = *p;
    if (s->p.penalty_last_n == 0) s->p.penalty_last_n = 64;
    s->n_vocab = n_vocab;
    s->c = malloc((size_t)n_vocab * sizeof *s->c);
    s->logits = malloc((size_t)n_vocab * sizeof *s->logits);
    s->count = calloc((size_t)n_vocab, sizeof *s->count);
    s->ring = malloc((size_t)s->p.penalty_last_n * sizeof *s->ring);
    if (!s->c || !s->logits || !s->count || !s->ring) {
        lm_sampler_free(s);
        return lm_error_set(err, LM_ENOMEM, "sampler: out of memory");
    }
    s->rng = p->seed;
    *out = s;
    return 0;
}

void lm_sampler_free(struct lm_sampler *s)
{
    if (!s) return;
    free(s->c);
    free(s->logits);
    free(s->count);
    free(s->ring);
    free(s);
}

void lm_sampler_reset(struct lm_sampler *s)
{
    memset(s->count, 0, (size_t)s->n_vocab * sizeof *s->count);
    s->ring_len = s->ring_pos = 0;
    s->rng = s->p.seed;
}

void lm_sampler_accept(struct lm_sampler *s, int32_t id)
{
    if (id < 0 || id >= s->n_vocab) return;
    const int cap = s->p.penalty_last_n;
    if (s->ring_len == cap) {
        s->count[s->ring[s->ring_pos]]--;
    } else {
        s->ring_len++;
    }
    s->ring[s->ring_pos] = id;
    s->count[id]++;
    s->ring_pos = (s->ring_pos + 1) % cap;
}

/* splitmix64 → uniform double in [0, 1). */
static double uniform(struct lm_sampler *s)
{
    uint64_t z = (s->rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

/* Descending by logit, ties by id (deterministic). */
static int cmp_cand(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;
    if (x->logit != y->logit) return x->logit < y->logit ? 1 : -1;
    return (x->id > y->id) - (x->id < y->id);
}

/* Moves the k best candidates of c[0..n) to the front, sorted (quickselect, then sort). */
static void top_sorted(struct cand *c, int n, int k)
{
    int lo = 0, hi = n - 1;
    while (k < n && lo < hi) {
        struct cand pivot = c[(lo + hi) / 2];
        int i = lo, j = hi;
        while (i <= j) {
            while (cmp_cand(&c[i], &pivot) < 0) i++;
            while (cmp_cand(&c[j], &pivot) > 0) j--;
            if (i <= j) {
                struct cand t = c[i];
                c[i] = c[j];
                c[j] = t;
                i++;
                j--;
            }
        }
        if (k - 1 <= j) hi = j;
        else if (k - 1 >= i) lo = i;
        else break;
    }
    qsort(c, (size_t)k, sizeof *c, cmp_cand);
}

/* Applies the repetition, presence and frequency penalties to s->logits. */
static void penalise(struct lm_sampler *s)
{
    const struct lm_sampler_params *p = &s->p;
    if (p->repeat_penalty == 1.0f && p->presence_penalty == 0 && p->frequency_penalty == 0) return;
    for (int k = 0; k < s->ring_len; k++) {
        int32_t id = s->ring[k];
        int32_t n = s->count[id];
        if (n <= 0) continue;  /* already done for a repeated id (count set negative below) */
        float *l = &s->logits[id];
        if (*l <= 0) *l *= p->repeat_penalty;
        else *l /= p->repeat_penalty;
        *l -= (float)n * p->frequency_penalty + p->presence_penalty;
        s->count[id] = -n;
    }
    for (int k = 0; k < s->ring_len; k++)
        if (s->count[s->ring[k]] < 0) s->count[s->ring[k]] = -s->count[s->ring[k]];
}

int32_t lm_sampler_sample(struct lm_sampler *s, const float *logits)
{
    const struct lm_sampler_params *p = &s->p;
    const int nv = s->n_vocab;
    memcpy(s->logits, logits, (size_t)nv * sizeof *logits);
    penalise(s);
    if (p->temperature <= 0) {
        int best = 0;
        for (int i = 1; i < nv; i++)
            if (s->logits[i] > s->logits[best]) best = i;
        return best;
    }
    struct cand *c = s->c;
    for (int i = 0; i < nv; i++) c[i] = (struct cand){i, s->logits[i]};
    int n = nv;
    /* top-k (or a full sort, which top-p needs anyway) */
    int k = p->top_k > 0 && p->top_k < nv ? p->top_k : nv;
    top_sorted(c, n, k);
    n = k;
    /* top-p: smallest prefix whose probability reaches top_p */
    if (p->top_p < 1.0f) {
        double sum = 0, cum = 0;
        for (int i = 0; i < n; i++) sum += exp((double)(c[i].logit - c[0].logit));
        for (int i = 0; i < n; i++) {
            cum += exp((double)(c[i].logit - c[0].logit)) / sum;
            if (cum >= p->top_p) {
                n = i + 1;
                break;
            }
        }
    }
    /* min-p: probability at least min_p times the best one's */
    if (p->min_p > 0) {
        const float thr = c[0].logit + logf(p->min_p);
        int m = 1;
        while (m < n && c[m].logit >= thr) m++;
        n = m;
    }
    /* temperature, then draw */
    double sum = 0;
    for (int i = 0; i < n; i++) sum += exp((double)((c[i].logit - c[0].logit) / p->temperature));
    double r = uniform(s) * sum, acc = 0;
    for (int i = 0; i < n; i++) {
        acc += exp((double)((c[i].logit - c[0].logit) / p->temperature));
        if (r < acc) return c[i].id;
    }
    return c[n - 1].id;
}
