/* store.h — the knowledge store interface, implemented by SQLite (embedded default) and
 * PostgreSQL + pgvector. ragd above it does not know which one it talks to.
 *
 * Logical schema (both stores): documents(id, source, content_hash, n_chunks, created_at) and
 * chunks(id, document_id, source, content, embedding[dim], created_at) — the seed's
 * knowledge_chunks plus a document each chunk belongs to (deleting a document deletes its
 * chunks). The embedding model's name and dimension are recorded once; opening with another
 * model is LM_EINVAL with a message that says how to re-index.
 *
 * Thread safety: a store may be used from many threads at once (SQLite: a connection per
 * thread/pool; Postgres: a connection pool).
 */
#ifndef LM_STORE_H
#define LM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lm/err.h"

struct lm_store;

struct lm_store_open_params {
    const char *url;          /* "sqlite:data/ragd.db", "sqlite::memory:", "postgres://..." */
    const char *model_name;   /* embedding model id recorded in the store (NULL: not checked, for tools) */
    int dim;                  /* embedding dimension */
    bool migrate;             /* apply pending migrations at open (default path: true);
                                 RAG_AUTO_MIGRATE=0 in the environment turns it off */
    /* PostgreSQL settings; each unset (0/NULL) field takes the environment variable named in
     * its comment, else its default. */
    int pool_size;            /* connections; RAG_PG_POOL_SIZE, 8 (PGlite needs 1) */
    const char *pg_index;     /* ANN index: "ivfflat" (the seed's, default) or "hnsw"; RAG_PG_INDEX */
    int pg_probes;            /* ivfflat.probes per query (recall vs speed); RAG_PG_PROBES, 10 */
    int pg_ef_search;         /* hnsw.ef_search per query; RAG_PG_EF_SEARCH, 100 */
    int pg_exact_below;       /* search exactly (no index) while the table has fewer rows:
                                 exact is cheap there and recalls everything; RAG_PG_EXACT_BELOW,
                                 20000; negative = use the index as soon as it is built */
};

/* Opens (creating when needed) the store at params->url. *out must be freed with
 * lm_store_close. */
int lm_store_open(const struct lm_store_open_params *params, struct lm_store **out, struct lm_error *err);
void lm_store_close(struct lm_store *s);
/* "sqlite" or "postgres". */
const char *lm_store_kind(const struct lm_store *s);

struct lm_chunk_in {
    const char *content;      /* UTF-8, NUL-terminated */
    const float *embedding;   /* dim floats (L2-normalised) */
};

/* Adds a document and all its chunks in one transaction: all or nothing. *doc_id receives the
 * new id. When a document with the same content hash already exists, nothing is added,
 * *doc_id is that document's id and *duplicate_of is set to it too (else 0), so callers can
 * report "already present" instead of storing it twice. duplicate_of may be NULL. */
int lm_store_add_document(struct lm_store *s, const char *source, const char *content_hash,
                          const struct lm_chunk_in *chunks, size_t n_chunks, int64_t *doc_id,
                          int64_t *duplicate_of, struct lm_error *err);

/* Deletes a document and its chunks; LM_ENOENT when there is no such id. */
int lm_store_delete_document(struct lm_store *s, int64_t doc_id, struct lm_error *err);

struct lm_doc_info {
    int64_t id;
    char *source;             /* owned by the list */
    int64_t n_chunks;
    int64_t created_at;       /* unix seconds */
};

/* Lists documents, newest first. *out is a new array of *n (free with lm_store_free_docs). */
int lm_store_list_documents(struct lm_store *s, struct lm_doc_info **out, size_t *n, struct lm_error *err);
void lm_store_free_docs(struct lm_doc_info *docs, size_t n);

struct lm_hit {
    int64_t chunk_id;
    int64_t document_id;
    char *source;             /* owned by the result array */
    char *content;            /* owned by the result array */
    double score;             /* higher is better: cosine similarity, keyword rank or fused score */
};

/* Nearest chunks by cosine similarity to query[dim] (exact, or the store's index). */
int lm_store_search_vector(struct lm_store *s, const float *query, int k, struct lm_hit **out, size_t *n,
                           struct lm_error *err);
/* Keyword search (FTS5 trigram / tsvector + trigram); works on Chinese text. */
int lm_store_search_keyword(struct lm_store *s, const char *text, int k, struct lm_hit **out, size_t *n,
                            struct lm_error *err);
void lm_store_free_hits(struct lm_hit *hits, size_t n);

struct lm_store_counts {
    int64_t documents, chunks;
};
int lm_store_counts(struct lm_store *s, struct lm_store_counts *out, struct lm_error *err);

/* Cheap liveness check for /api/v1/health (opens/pings a connection). */
int lm_store_ping(struct lm_store *s, struct lm_error *err);

/* Rebuilds the approximate vector index (postgres ivfflat, whose lists are fixed when it is
 * built: an index built on few rows recalls badly). Stores without one return 0.
 * ragd also calls it after ingestion when the table has grown enough (>= 10 x lists rows and
 * doubled since the last build). *rebuilt (may be NULL) says whether anything was done;
 * force = false applies that growth rule, true rebuilds anyway (`ragd reindex`). */
int lm_store_reindex(struct lm_store *s, bool force, bool *rebuilt, struct lm_error *err);

/* Migrations (ragd migrate up|down|status): apply all pending, revert the last one, or print
 * the applied/pending list into a caller buffer. Stores without migrations return 0. */
int lm_store_migrate(const char *url, const char *action, int dim, char **report, struct lm_error *err);

#endif
