/* rag.h — retrieval-augmented generation: the embedder seam, hybrid retrieval, the seed's
 * prompt, the conversation budget, ingestion and document text extraction.
 *
 * The rag layer sits on the engine and the store (SPEC §8); it never talks HTTP. Embeddings
 * come through struct lm_rag_embedder, a small vtable: lm_rag_embedder_local wraps the
 * in-process engine (lm/embed.h); a program may fill one that calls a server instead.
 *
 *     struct lm_hit *hits; size_t n;
 *     lm_rag_retrieve(store, emb, "question", 3, &hits, &n, &err);    // fused (weighted RRF) scores
 *     char *turn = lm_rag_user_turn("question", hits, n);             // the seed's wording
 */
#ifndef LM_RAG_H
#define LM_RAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lm/err.h"
#include "lm/store.h"

struct lm_model;

/* ---- embedders ---- */

struct lm_rag_embedder {
    int dim;                     /* output dimension */
    int max_tokens;              /* longest text in tokens (0 = unknown) */
    const char *name;            /* model name recorded in the store */
    /* Embeds n texts into out[n * dim], L2-normalised rows. Thread-safe. */
    int (*embed)(void *self, const char *const *texts, size_t n, float *out, struct lm_error *err);
    /* Tokens of text, or -1 when unknown. May be NULL. */
    int (*count_tokens)(void *self, const char *text, size_t len);
    void (*free)(void *self);
    void *self;
};

/* An embedder over the engine: loads the bert GGUF at path (n_threads 0 = all cores) and
 * serialises calls (one engine context). Free with lm_rag_embedder_free. */
int lm_rag_embedder_local(const char *path, int n_threads, struct lm_rag_embedder *out, struct lm_error *err);
void lm_rag_embedder_free(struct lm_rag_embedder *e);

/* ---- retrieval ---- */

/* Hybrid retrieval: the question's vector top-k and keyword top-k from the store (each
 * fetching more than k), merged by lm_rag_fuse_hybrid, the best k returned with the fused
 * score. A failed keyword half degrades to vector only; emb may be NULL for keyword only.
 * *out freed with lm_store_free_hits. */
int lm_rag_retrieve(struct lm_store *s, const struct lm_rag_embedder *emb, const char *question, int k,
                    struct lm_hit **out, size_t *n, struct lm_error *err);

/* Fuses two ranked lists (best first) by reciprocal rank fusion into the best k; takes the
 * hits' strings (the inputs are freed). Exposed for tests. */
int lm_rag_fuse(struct lm_hit *a, size_t na, struct lm_hit *b, size_t nb, int k, struct lm_hit **out, size_t *n);
/* Weighted RRF of a vector list v (similarities, best first) and a keyword list kw (scores,
 * best first): score = wv/(60 + rank_v) + wk·(score/best keyword score)/(60 + rank_k), with wv
 * from the spread of v's similarities (lm_rag_vector_weight: a flat list, as a weak embedder
 * gives, votes little), wk = 1, both scaled to sum to 2 (plain RRF's scale). So a chunk that
 * alone matches a rare exact term (a name, a number) comes first unless the vectors clearly
 * disagree. No keyword hits: plain 1/(60 + rank) of v. Takes the hits like lm_rag_fuse. */
int lm_rag_fuse_hybrid(struct lm_hit *v, size_t nv, struct lm_hit *kw, size_t nk, int k, struct lm_hit **out,
                       size_t *n);
/* The vector list's vote in lm_rag_fuse_hybrid: (top - tenth similarity) / 0.1, within [0.1, 1];
 * 1 with fewer than 3 hits. */
double lm_rag_vector_weight(const struct lm_hit *v, size_t nv);

/* ---- prompt ---- */

#define LM_RAG_SYSTEM_PROMPT "You are a helpful assistant."

/* The user turn sent to the LLM: with hits, the seed's
 * "请参考以下资料回答问题，若资料不足请说明：\n{contents joined by \n---\n}\n问题：{question}";
 * without, the question itself. New string, caller frees; NULL on ENOMEM. */
char *lm_rag_user_turn(const char *question, const struct lm_hit *hits, size_t n);

/* ---- conversation budget ---- */

/* Token estimate: a counter (e.g. the LLM server's /tokenize) or, when it fails, an upper
 * bound from the bytes (byte-level tokenizers never need more than one token per byte). */
typedef int (*lm_rag_count_fn)(void *user, const char *text);

struct lm_rag_turn {
    char *question;              /* the plain question (not the context block) */
    char *answer;
    int tokens;                  /* question + answer, counted once */
};

/* How many of the newest turns fit: a prompt of system + turns[n-keep..n) + current user turn
 * must stay within budget tokens (each message costs its tokens + 8 for the template). The
 * current turn's cost is given. Returns the number of turns to keep (0..n). */
size_t lm_rag_history_fit(const struct lm_rag_turn *turns, size_t n, int current_tokens, int budget);

/* ---- ingestion ---- */

struct lm_rag_ingest_params {
    int chunk_size;              /* code points; 0 = 300 */
    int chunk_overlap;           /* code points; 0 = 50 */
    size_t max_chunks;           /* more chunks: LM_ETOOBIG; 0 = unlimited */
    int batch;                   /* texts per embed call; 0 = 32 */
    /* progress: called after each batch with chunks embedded so far / total. May be NULL. */
    void (*progress)(void *user, size_t done, size_t total);
    void *user;
};

struct lm_rag_ingest_result {
    int64_t document_id;
    size_t n_chunks;
    bool duplicate;              /* the same content was already stored (document_id is it) */
};

/* Chunks content, embeds the chunks in batches, stores the document and its chunks in one
 * transaction. Empty content (only whitespace) is LM_EINVAL. */
int lm_rag_ingest(struct lm_store *s, const struct lm_rag_embedder *emb, const char *source, const char *content,
                  const struct lm_rag_ingest_params *p, struct lm_rag_ingest_result *res, struct lm_error *err);

/* ---- document text ---- */

/* Visible text of an HTML document (libxml2's HTML parser; scripts, styles and the head
 * dropped, block elements become line breaks). New string in *out, caller frees. */
int lm_rag_html_text(const char *html, size_t len, char **out, struct lm_error *err);
/* Text of a PDF (poppler), pages separated by blank lines. Runs in the calling process:
 * servers should call it in a child process with limits (ragd does). */
int lm_rag_pdf_text(const char *pdf, size_t len, char **out, struct lm_error *err);
/* Replaces invalid UTF-8 sequences and NUL bytes in s[0..len) with U+FFFD / nothing. New
 * string, caller frees; NULL on ENOMEM. */
char *lm_rag_clean_utf8(const char *s, size_t len);

#endif
