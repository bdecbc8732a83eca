/* model_internal.h — what an architecture file (llama.c, gemma3.c, bert.c, ...) sees of the
 * model and the context, and the helpers model.c offers them.
 *
 * An architecture is one `const struct lm__arch lm__arch_<name>` defined in its own file and
 * listed in model.c's table (weakly, so a table entry whose file is absent links fine).
 * lm_model_load opens the GGUF, builds the tokenizer, fills the common lm_model_info fields,
 * then calls arch->load, which reads its hyper-parameters (lm__hp_*), validates and maps its
 * tensors (lm__model_mat / lm__model_vec: shape and type are checked, data stays in the
 * mapping), and stores its weights struct in m->impl.
 *
 * Decoders: lm_ctx_decode splits a batch into micro-batches of at most n_batch tokens and calls
 * arch->forward for each; the forward pass appends K/V for every token to its cache (kv.c
 * offers the generic per-layer cache) and writes the logits of the tokens listed in
 * ub->out_idx to logits_out rows in that order.
 */
#ifndef LM_MODEL_INTERNAL_H
#define LM_MODEL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lm/err.h"
#include "lm/gguf.h"
#include "lm/model.h"
#include "lm/quant.h"

struct lm_pool;

/* A weight matrix of nrows x ncols (GGUF ne[1] x ne[0]), rows of type, borrowed from the map. */
struct lm__mat {
    enum lm_type type;
    const void *data;
    int64_t nrows, ncols;
};

/* One micro-batch handed to arch->forward. */
struct lm__ubatch {
    int n;
    const int32_t *tokens;    /* n ids, validated < n_vocab */
    const int32_t *pos;       /* n positions, consecutive per sequence with its cache */
    const int32_t *seq;       /* n sequence ids, validated < n_seq */
    int n_out;                /* tokens whose logits are wanted ... */
    const int32_t *out_idx;   /* ... their indexes into the micro-batch, ascending */
};

struct lm__arch {
    const char *name;         /* general.architecture */
    bool is_embedding;
    /* Reads hparams and tensors into m->impl; fills m->info's n_* fields. */
    int (*load)(struct lm_model *m, struct lm_error *err);
    void (*free)(struct lm_model *m);
    /* Decoders only (NULL for encoders): per-context state (KV cache, scratch) in c->impl. */
    int (*ctx_init)(struct lm_ctx *c, struct lm_error *err);
    void (*ctx_free)(struct lm_ctx *c);
    /* Runs ub, appends to the KV cache, writes n_out x n_vocab logits. The cache may be left
     * with the micro-batch appended only when 0 is returned. */
    int (*forward)(struct lm_ctx *c, const struct lm__ubatch *ub, float *logits_out, struct lm_error *err);
    /* Drops cached positions >= from of seq (the context has already lowered seq_len). */
    void (*seq_truncate)(struct lm_ctx *c, int seq, int from);
};

struct lm__meta_entry;

struct lm_model {
    struct lm_gguf *gguf;
    const struct lm__arch *arch;
    struct lm_model_info info;
    struct lm_tokenizer *tok;         /* NULL when the file has no usable tokenizer */
    char *arch_name, *name, *chat_template;
    void *impl;                       /* the architecture's weights */
    void **owned;                     /* buffers freed with the model (converted vectors) */
    size_t n_owned, cap_owned;
    void **prepared;                  /* repacked weights (lm_weights_prepare), lm_weights_free'd */
    size_t n_prepared, cap_prepared;
    bool mapped;                      /* weights are in a file mapping (not a no_mmap copy) */
    int load_fd;                      /* the file, open while loading (vectors are pread), or -1 */
    const struct lm_gguf_tensor **dropped; /* mapped tensors replaced by repacked copies */
    size_t n_dropped, cap_dropped;
    struct lm__meta_entry *meta;      /* lm_model_meta_str cache */
    size_t n_meta;
    void *meta_lock;                  /* pthread mutex for the cache */
};

struct lm_ctx {
    struct lm_model *m;
    int n_ctx, n_seq, n_batch, n_threads;
    bool flash_attn;
    struct lm_pool *pool;
    int32_t *seq_len;                 /* n_seq: tokens cached per sequence */
    float *logits;                    /* n_logits_cap x n_vocab, rows of the last decode */
    int32_t *logits_row;              /* per batch index of the last decode: row or -1 */
    int n_logits_cap, n_last;         /* ... and the last batch's size */
    struct lm_ctx_timings timings;
    void *impl;                       /* the architecture's per-context state */
};

/* --- helpers for architecture files (model.c) ---------------------------------------- */

/* "<arch>.<suffix>" integer/float hyper-parameter. required = false leaves *out unchanged
 * when the key is absent. Errors name the key. */
int lm__hp_u32(const struct lm_model *m, const char *suffix, bool required, uint32_t *out, struct lm_error *err);
int lm__hp_f32(const struct lm_model *m, const char *suffix, bool required, float *out, struct lm_error *err);

/* Maps the 2-D tensor name (printf format) checking ne = {ncols, nrows} and that its type
 * has a matmul kernel. required = false: returns LM_ENOENT (no message) when absent. When the
 * kernels have a faster layout for it (lm_weights_prepare), out describes the repacked copy
 * (out->type may then be a kernel-private type: use it only with lm_matmul and lm_get_rows)
 * and the mapped pages are released. */
int lm__model_mat(struct lm_model *m, struct lm__mat *out, int64_t ncols, int64_t nrows, bool required,
                  struct lm_error *err, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
/* An f32 vector of n elements, copied (converted when not F32) into memory owned by the model,
 * so that running the model reads no mapped page besides the matrices. required = false:
 * *out = NULL and 0 when absent. */
int lm__model_vec(struct lm_model *m, const float **out, int64_t n, bool required, struct lm_error *err,
                  const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Registers a malloc'ed buffer to free with the model; frees it and returns LM_ENOMEM on failure. */
int lm__model_own(struct lm_model *m, void *p);

/* --- shared math (model_ops.c) -------------------------------------------------------- */

/* out[i] = x[i] / rms(x) * w[i] (w may be NULL: no scale); out may equal x. */
void lm__rmsnorm(float *out, const float *x, const float *w, int64_t n, float eps);
/* RoPE as ggml computes it (no YaRN): cs[0..n_rot) gets cos/sin pairs for position pos,
 * theta_i = freq_scale * pos * freq_base^(-2i/n_rot) / freq_factors[i] (freq_factors may be
 * NULL; freq_scale is 1 / the linear scaling factor, else 1). Then lm__rope_apply rotates the first n_rot values of one head vector in place:
 * neox = false pairs (2i, 2i+1) (llama); true pairs (i, i + n_rot/2) (qwen2, gemma). */
void lm__rope_cache(float *cs, int n_rot, int pos, float freq_base, float freq_scale, const float *freq_factors);
void lm__rope_apply(float *x, const float *cs, int n_rot, bool neox);
/* In-place softmax over n values. */
void lm__softmax(float *x, int64_t n);
/* x = silu(x) * y over n (SwiGLU). */
void lm__swiglu(float *x, const float *y, int64_t n);
/* out[i] += x[i] over n. */
void lm__add(float *out, const float *x, int64_t n);
/* Runs fn(arg, i0, i1, ith) over [0, n) split into equal contiguous ranges, one per pool
 * thread (ith = its index, < lm_pool_size), or on the caller alone (ith 0) when n < 2 * grain. */
typedef void (*lm__range_fn)(void *arg, int64_t i0, int64_t i1, int ith);
void lm__parallel_for(struct lm_pool *pool, int64_t n, int64_t grain, lm__range_fn fn, void *arg);
/* Monotonic milliseconds. */
double lm__now_ms(void);

/* --- the KV cache (kv.c) --------------------------------------------------------------
 * f16 like llama.cpp's default cache. Per layer, sequence and KV head: K rows [n_ctx][hd_k],
 * V transposed [hd_v][n_ctx]. Attention (lm__attention) dots the cache rows directly, one work
 * item per token, KV head and up to four of its query heads, with the query and the
 * probabilities rounded to f16 on the way, as in llama.cpp. */
struct lm__kv {
    int n_layer, n_seq, n_ctx, n_head_kv, hd_k, hd_v;
    uint16_t *k, *v;
};

int lm__kv_init(struct lm__kv *kv, int n_layer, int n_seq, int n_ctx, int n_head_kv, int hd_k, int hd_v,
                struct lm_error *err);
void lm__kv_free(struct lm__kv *kv);
/* Stores one token's K (n_head_kv * hd_k) and V (n_head_kv * hd_v) at (layer, seq, pos). */
void lm__kv_store(struct lm__kv *kv, int il, int seq, int pos, const float *k, const float *v);

/* Attention of n_tok tokens over the cache of layer il: q is n_tok x (n_head * hd_k), out is
 * n_tok x (n_head * hd_v). Token t attends to positions j of its sequence with
 * j <= pos[t] and (window <= 0 or pos[t] - j < window). The cache must already hold every
 * token of the batch. softcap > 0 applies tanh soft-capping to the scaled scores. */
struct lm__attn {
    const struct lm__kv *kv;
    int il, n_tok, n_head;
    const int32_t *pos, *seq;
    const float *q;
    float *out;
    float scale, softcap;
    int window;
    bool flash;               /* llama.cpp's flash-attention numerics (online softmax, f16 sums) */
};
void lm__attention(struct lm_pool *pool, const struct lm__attn *a);

#endif
