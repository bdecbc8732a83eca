/* sampler.h — choosing the next token from logits.
 *
 * Order, as llama.cpp's default chain: penalties (repetition over the last penalty_last_n
 * tokens, presence, frequency) → top-k → top-p → min-p → temperature → draw from the seeded
 * generator. temperature <= 0 is greedy (argmax after penalties). Same seed, same logits,
 * same output.
 */
#ifndef LM_SAMPLER_H
#define LM_SAMPLER_H

#include <stdint.h>

#include "lm/err.h"

struct lm_sampler;

struct lm_sampler_params {
    float temperature;        /* 0 = greedy */
    int top_k;                /* <= 0: off */
    float top_p;              /* 1.0: off */
    float min_p;              /* 0: off */
    float repeat_penalty;     /* 1.0: off */
    int penalty_last_n;       /* window for the penalties; 0 = 64 */
    float presence_penalty;   /* 0: off */
    float frequency_penalty;  /* 0: off */
    uint64_t seed;
};

/* Defaults as llama-server's: temperature 0.8, top_k 40, top_p 0.95, min_p 0.05,
 * repeat_penalty 1.0, penalty_last_n 64, presence/frequency 0, seed random. */
void lm_sampler_defaults(struct lm_sampler_params *p);

/* New sampler for a vocabulary of n_vocab; free with lm_sampler_free. */
int lm_sampler_init(const struct lm_sampler_params *p, int n_vocab, struct lm_sampler **out,
                    struct lm_error *err);
void lm_sampler_free(struct lm_sampler *s);

/* Picks a token from logits[n_vocab] (not modified). */
int32_t lm_sampler_sample(struct lm_sampler *s, const float *logits);
/* Records a token in the penalty window (prompt tokens too, as llama.cpp does). */
void lm_sampler_accept(struct lm_sampler *s, int32_t id);
void lm_sampler_reset(struct lm_sampler *s);

#endif
