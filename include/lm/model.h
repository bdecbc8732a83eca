/* model.h — the engine's public API: load a GGUF model, run it.
 *
 * A struct lm_model holds the memory-mapped weights, hyper-parameters and tokenizer. It is
 * immutable after lm_model_load and may be shared by any number of threads and contexts.
 *
 * A struct lm_ctx is one inference context: a KV cache for n_seq independent sequences of up to
 * n_ctx tokens each, scratch buffers and a compute thread pool. It is used by one thread at a
 * time. All sequences advance together in lm_ctx_decode (continuous batching): a batch mixes
 * prompt tokens of new sequences and one generated token of each running sequence.
 *
 *     struct lm_model *m; struct lm_ctx *c; struct lm_error err;
 *     lm_model_load("m.gguf", NULL, &m, &err);
 *     lm_ctx_init(m, &(struct lm_ctx_params){.n_ctx = 2048, .n_seq = 1}, &c, &err);
 *     struct lm_batch b = {.n = n, .tokens = ids, .pos = pos, .seq = seq, .logits = want};
 *     lm_ctx_decode(c, &b, &err);
 *     const float *logits = lm_ctx_logits(c, n - 1);   // row of the last token (if wanted)
 *
 * Errors follow lm/err.h: 0 or a negative LM_E* code and a one-line message that names the
 * architecture, tensor type or tensor at fault.
 */
#ifndef LM_MODEL_H
#define LM_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lm/err.h"

struct lm_model;
struct lm_ctx;
struct lm_tokenizer;

struct lm_model_params {
    int n_threads;          /* for load-time work (repacking); 0 = number of cores */
    bool no_mmap;           /* read the file into memory instead of mapping it */
};

/* Loads path. On success *out is a new model, free with lm_model_free. */
int lm_model_load(const char *path, const struct lm_model_params *params, struct lm_model **out,
                  struct lm_error *err);
void lm_model_free(struct lm_model *m);

struct lm_model_info {
    const char *arch;        /* "llama", "qwen2", "gemma3", "bert" */
    const char *name;        /* general.name, or the file name */
    int n_vocab;
    int n_ctx_train;         /* <arch>.context_length */
    int n_embd;              /* hidden size; also the embedding size for bert */
    int n_layer, n_head, n_head_kv;
    int n_ff;
    uint64_t n_params;       /* number of weights */
    uint64_t file_size;      /* bytes */
    const char *ftype;       /* most common weight type, e.g. "Q4_0" */
    bool is_embedding;       /* encoder-only model (bert): use lm_embed, not lm_ctx_decode */
};

/* Borrowed, valid until lm_model_free. */
const struct lm_model_info *lm_model_info(const struct lm_model *m);
/* The model's tokenizer (lm/tokenizer.h). Borrowed, valid until lm_model_free. */
const struct lm_tokenizer *lm_model_tokenizer(const struct lm_model *m);
/* tokenizer.chat_template from the file, or NULL. Borrowed. */
const char *lm_model_chat_template(const struct lm_model *m);
/* Any metadata value rendered as a string ("" when absent); borrowed from a small internal
 * cache keyed by name, valid until lm_model_free. For /props and /v1/models meta. */
const char *lm_model_meta_str(const struct lm_model *m, const char *key);

struct lm_ctx_params {
    int n_ctx;               /* tokens per sequence; 0 = min(n_ctx_train, 8192) */
    int n_seq;               /* independent sequences (server slots); 0 = 1 */
    int n_batch;             /* max tokens per lm_ctx_decode call; 0 = 512 */
    int n_threads;           /* compute threads; 0 = number of cores */
    bool flash_attn;         /* attention numerics of llama.cpp's flash-attention path (its CPU
                              * default, "auto"): online softmax with the V sum kept in f16.
                              * false: its classic path (probabilities rounded to f16). Same
                              * speed here; only the last bits differ. */
};

/* New context over m (m must outlive it). Free with lm_ctx_free. */
int lm_ctx_init(struct lm_model *m, const struct lm_ctx_params *params, struct lm_ctx **out,
                struct lm_error *err);
void lm_ctx_free(struct lm_ctx *c);
int lm_ctx_n_ctx(const struct lm_ctx *c);
int lm_ctx_n_seq(const struct lm_ctx *c);

/* One batch of tokens. Arrays have n entries and are borrowed for the call.
 * pos[i] is the token's position in its sequence seq[i] (0-based, consecutive with what the
 * cache already holds for that sequence). logits[i] != 0 asks for the output row of token i.
 * pos may be NULL (positions continue from the sequence's cache length), logits may be NULL
 * (only the last token of each sequence in the batch gets logits). */
struct lm_batch {
    int n;
    const int32_t *tokens;
    const int32_t *pos;
    const int32_t *seq;
    const int8_t *logits;
};

/* Runs the forward pass, appending the batch to the KV cache. Splits internally when
 * n > n_batch. Fails with LM_ECONTEXT when a sequence would exceed n_ctx, LM_EINVAL on a token
 * id outside the vocabulary; the cache is unchanged on failure. */
int lm_ctx_decode(struct lm_ctx *c, const struct lm_batch *b, struct lm_error *err);

/* Logits (n_vocab floats) of batch token i from the last lm_ctx_decode, or NULL if that
 * token's logits were not requested. Borrowed until the next decode. */
const float *lm_ctx_logits(struct lm_ctx *c, int i);

/* Number of tokens cached for seq. */
int lm_ctx_seq_len(const struct lm_ctx *c, int seq);
/* Drops the cached tokens of seq at positions >= from (from = 0 clears it). */
void lm_ctx_seq_truncate(struct lm_ctx *c, int seq, int from);

/* Timing counters of the context since creation (or the last reset). */
struct lm_ctx_timings {
    uint64_t n_prompt_tokens, n_gen_tokens;  /* tokens decoded in multi-token / single-token rows */
    double prompt_ms, gen_ms;
};
void lm_ctx_timings(const struct lm_ctx *c, struct lm_ctx_timings *out);

#endif
