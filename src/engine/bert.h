/* bert.h — internal: the BERT encoder (llama.cpp's "bert" GGUF layout) and its batched forward
 * pass, used by the embedding API (embed.c). Also the GELU that llama.cpp's CPU backend computes
 * (tanh form through an f16 table), shared with gemma3.c.
 *
 * Weights borrow from the GGUF mapping (2-D matrices) or are copied to f32 (1-D vectors), so a
 * struct lm__bert must not outlive the struct lm_gguf it was made from.
 */
#ifndef LM_ENGINE_BERT_H
#define LM_ENGINE_BERT_H

#include <stddef.h>
#include <stdint.h>

#include "lm/err.h"
#include "lm/quant.h"

struct lm_gguf;
struct lm_pool;

/* A weight matrix of nrows x ncols (GGUF ne[1] x ne[0]), rows of `type`. */
struct lm__bert_mat {
    enum lm_type type;
    const void *data;
    int64_t nrows, ncols;
};

struct lm__bert_layer {
    struct lm__bert_mat wq, wk, wv, wo, up, down;
    const float *bq, *bk, *bv, *bo;        /* n_embd */
    const float *attn_norm_w, *attn_norm_b; /* attn_output_norm, n_embd */
    const float *up_b;                     /* n_ff */
    const float *down_b;                   /* n_embd */
    const float *out_norm_w, *out_norm_b;  /* layer_output_norm, n_embd */
};

struct lm__bert {
    int n_vocab, n_embd, n_head, n_layer, n_ff, n_ctx;
    float eps;                              /* layer_norm_epsilon */
    struct lm__bert_mat tok_embd;           /* n_vocab x n_embd */
    struct lm__bert_mat pos_embd;           /* n_ctx x n_embd */
    float *type0;                           /* row 0 of token_types (n_embd), or NULL */
    const float *embd_norm_w, *embd_norm_b; /* token_embd_norm */
    struct lm__bert_layer *layers;
    float *vecs;                            /* owns every 1-D f32 vector above */
};

/* Reads hyper-parameters and tensors of a "bert" GGUF. Fails with a message naming the missing
 * key or tensor, or the bad shape. Free with lm__bert_free. */
int lm__bert_load(const struct lm_gguf *g, struct lm__bert **out, struct lm_error *err);
void lm__bert_free(struct lm__bert *b);

/* Scratch for forward passes of up to max_tokens tokens in total and max_len per sequence. */
struct lm__bert_ws;
struct lm__bert_ws *lm__bert_ws_new(const struct lm__bert *b, int max_tokens, int max_len, int n_threads);
void lm__bert_ws_free(struct lm__bert_ws *ws);

/* Runs n_seq sequences packed back to back: sequence s is tokens[start[s] .. start[s+1]) (start
 * has n_seq + 1 entries, each sequence 1..max_len tokens, positions restart at 0). Attention
 * stays inside each sequence (the same result as a padded batch with masked padding). Writes
 * the mean over each sequence's tokens of the last hidden state to pooled[n_seq][n_embd]
 * (not normalised). Token ids must be < n_vocab. */
int lm__bert_forward(const struct lm__bert *b, struct lm_pool *pool, struct lm__bert_ws *ws,
                     const int32_t *tokens, const int *start, int n_seq, float *pooled,
                     struct lm_error *err);

/* GELU as ggml's CPU backend computes it: tanh approximation, input rounded to f16 and the
 * result read from an f16 table (exact identity above 10, zero below -10). */
void lm__gelu_f32(float *x, int64_t n);
/* y[i] = gelu(g[i]) * u[i] (GeGLU with the same GELU). */
void lm__geglu_f32(float *y, const float *g, const float *u, int64_t n);

/* The architecture table entry (model_internal.h): m->impl is a struct lm__bert. */
struct lm__arch;
extern const struct lm__arch lm__arch_bert;

#endif
