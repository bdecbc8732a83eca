/* embed.h — sentence embeddings with an encoder model (bert).
 *
 * lm_embed runs a batch of texts through the model in one call: tokenise (WordPiece,
 * [CLS] ... [SEP], truncated at the model's context), forward, mean pooling over all tokens
 * (including [CLS]/[SEP]), then L2 normalisation, as sentence-transformers does for
 * all-MiniLM-L6-v2. Decoder models are not accepted (LM_ENOTSUP).
 *
 * The texts are packed back to back (no padding tokens) into forward passes of up to
 * max_batch_tokens tokens: every matrix product covers all tokens of all texts of a pass, and
 * attention stays inside each text, which gives exactly what a padded batch with masked padding
 * gives. A text longer than the context keeps [CLS], its first tokens and [SEP]; the tokens cut
 * are counted in lm_embed_stats. An empty text embeds [CLS] [SEP]. Results equal llama.cpp's
 * pooled embeddings (normalised) to cosine >= 0.9999.
 *
 * Memory: the embedder keeps scratch for the largest pass so far (about
 * tokens x (6 n_embd + n_ff) floats; 8192 tokens of a MiniLM-sized model take ~126 MB).
 */
#ifndef LM_EMBED_H
#define LM_EMBED_H

#include <stddef.h>

#include "lm/err.h"

struct lm_model;
struct lm_embedder;

struct lm_embed_params {
    int n_threads;           /* 0 = number of cores */
    int max_batch_tokens;    /* padded tokens per forward pass; 0 = 8192 */
};

/* Embedding context over m (m must outlive it; m must be an encoder). Free with
 * lm_embedder_free. One thread at a time per embedder. */
int lm_embedder_init(struct lm_model *m, const struct lm_embed_params *params,
                     struct lm_embedder **out, struct lm_error *err);
void lm_embedder_free(struct lm_embedder *e);
/* Output dimension (n_embd). */
int lm_embedder_dim(const struct lm_embedder *e);

struct lm_embed_stats {
    size_t n_tokens;         /* tokens embedded (after truncation) */
    size_t n_truncated;      /* tokens cut because a text exceeded the model's context */
};

/* Embeds n texts (NUL-terminated UTF-8) into out[n * dim], each row L2-normalised.
 * stats may be NULL. */
int lm_embed(struct lm_embedder *e, const char *const *texts, size_t n, float *out,
             struct lm_embed_stats *stats, struct lm_error *err);

/* Number of tokens text becomes (with [CLS]/[SEP], before truncation); for the chunker's
 * budget. Negative LM_E* on failure. Safe to call from any thread. */
int lm_embed_count_tokens(const struct lm_embedder *e, const char *text, size_t len);
/* Largest number of tokens one text may have (the model's context). */
int lm_embedder_max_tokens(const struct lm_embedder *e);

#endif
