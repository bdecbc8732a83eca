/* store.c — picks the store implementation from the URL scheme and forwards every public
 * lm_store_* call to it through the ops table (store_impl.h). */
#include <stdlib.h>
#include <string.h>

#include "lm/store.h"
#include "store/store_impl.h"


/* True when url starts with the given scheme prefix (case-sensitive, as schemes are written). */
static int has_prefix(const char *url, const char *prefix)
{
    return strncmp(url, prefix, strlen(prefix)) == 0;
}

/* Which implementation serves url: 1 sqlite, 2 postgres, 0 unknown. */
static int url_kind(const char *url)
{
    if (has_prefix(url, "sqlite:")) return 1;
    if (has_prefix(url, "postgres://") || has_prefix(url, "postgresql://")) return 2;
    return 0;
}

/* Opens the store named by params->url. */
int lm_store_open(const struct lm_store_open_params *params, struct lm_store **out, struct lm_error *err)
{
    if (!out) return lm_error_set(err, LM_EINVAL, "store: out is NULL");
    *out = NULL;
    if (!params || !params->url || !*params->url)
        return lm_error_set(err, LM_EINVAL, "store: DATABASE_URL is empty");
    switch (url_kind(params->url)) {
    case 1: return lm__store_sqlite_open(params, out, err);
    case 2: return lm__store_pg_open(params, out, err);
    default:
        return lm_error_set(err, LM_EINVAL,
                            "store: DATABASE_URL must start with sqlite: or postgres:// (got \"%.40s\")",
                            params->url);
    }
}

/* Closes s and frees everything it owns; NULL is a no-op. */
void lm_store_close(struct lm_store *s)
{
    if (s) s->ops->close(s);
}

/* "sqlite" or "postgres". */
const char *lm_store_kind(const struct lm_store *s)
{
    return s ? s->ops->kind : "none";
}

/* Forwards to the implementation (one transaction, all or nothing). */
int lm_store_add_document(struct lm_store *s, const char *source, const char *content_hash,
                          const struct lm_chunk_in *chunks, size_t n_chunks, int64_t *doc_id,
                          int64_t *duplicate_of, struct lm_error *err)
{
    if (duplicate_of) *duplicate_of = 0;
    if (!s || !doc_id || (n_chunks && !chunks))
        return lm_error_set(err, LM_EINVAL, "store: add_document: bad arguments");
    for (size_t i = 0; i < n_chunks; i++)
        if (!chunks[i].content || !chunks[i].embedding)
            return lm_error_set(err, LM_EINVAL, "store: add_document: chunk %zu has no content or embedding", i);
    return s->ops->add_document(s, source, content_hash, chunks, n_chunks, doc_id, duplicate_of, err);
}

/* Forwards to the implementation. */
int lm_store_delete_document(struct lm_store *s, int64_t doc_id, struct lm_error *err)
{
    if (!s) return lm_error_set(err, LM_EINVAL, "store: NULL store");
    return s->ops->delete_document(s, doc_id, err);
}

/* Forwards to the implementation. */
int lm_store_list_documents(struct lm_store *s, struct lm_doc_info **out, size_t *n, struct lm_error *err)
{
    if (!s || !out || !n) return lm_error_set(err, LM_EINVAL, "store: list_documents: bad arguments");
    *out = NULL;
    *n = 0;
    return s->ops->list_documents(s, out, n, err);
}

/* Frees a list returned by lm_store_list_documents. */
void lm_store_free_docs(struct lm_doc_info *docs, size_t n)
{
    if (!docs) return;
    for (size_t i = 0; i < n; i++) free(docs[i].source);
    free(docs);
}

/* Forwards to the implementation; k <= 0 gives an empty result. */
int lm_store_search_vector(struct lm_store *s, const float *query, int k, struct lm_hit **out, size_t *n,
                           struct lm_error *err)
{
    if (!s || !query || !out || !n) return lm_error_set(err, LM_EINVAL, "store: search_vector: bad arguments");
    *out = NULL;
    *n = 0;
    if (k <= 0) return 0;
    return s->ops->search_vector(s, query, k, out, n, err);
}

/* Forwards to the implementation; empty text or k <= 0 gives an empty result. */
int lm_store_search_keyword(struct lm_store *s, const char *text, int k, struct lm_hit **out, size_t *n,
                            struct lm_error *err)
{
    if (!s || !text || !out || !n) return lm_error_set(err, LM_EINVAL, "store: search_keyword: bad arguments");
    *out = NULL;
    *n = 0;
    if (k <= 0 || !*text) return 0;
    return s->ops->search_keyword(s, text, k, out, n, err);
}

/* Frees a result array of lm_store_search_*. */
void lm_store_free_hits(struct lm_hit *hits, size_t n)
{
    if (!hits) return;
    for (size_t i = 0; i < n; i++) {
        free(hits[i].source);
        free(hits[i].content);
    }
    free(hits);
}

/* Forwards to the implementation. */
int lm_store_counts(struct lm_store *s, struct lm_store_counts *out, struct lm_error *err)
{
    if (!s || !out) return lm_error_set(err, LM_EINVAL, "store: counts: bad arguments");
    memset(out, 0, sizeof *out);
    return s->ops->counts(s, out, err);
}

/* Forwards to the implementation. */
int lm_store_ping(struct lm_store *s, struct lm_error *err)
{
    if (!s) return lm_error_set(err, LM_EINVAL, "store: NULL store");
    return s->ops->ping(s, err);
}

/* Forwards to the implementation when it has an index to rebuild. */
int lm_store_reindex(struct lm_store *s, bool force, bool *rebuilt, struct lm_error *err)
{
    if (rebuilt) *rebuilt = false;
    if (!s) return lm_error_set(err, LM_EINVAL, "store: NULL store");
    if (!s->ops->reindex) return 0;
    return s->ops->reindex(s, force, rebuilt, err);
}

/* SQLite builds its schema at open, so it has no migrations; Postgres has real ones. */
int lm_store_migrate(const char *url, const char *action, int dim, char **report, struct lm_error *err)
{
    if (report) *report = NULL;
    if (!url || !action) return lm_error_set(err, LM_EINVAL, "store: migrate: bad arguments");
    switch (url_kind(url)) {
    case 1:
        if (report) {
            const char *msg = "sqlite: no migrations (the schema is created when the store is opened)\n";
            *report = malloc(strlen(msg) + 1);
            if (!*report) return lm_error_set(err, LM_ENOMEM, "store: out of memory");
            memcpy(*report, msg, strlen(msg) + 1);
        }
        return 0;
    case 2: return lm__store_pg_migrate(url, action, dim, report, err);
    default: return lm_error_set(err, LM_EINVAL, "store: DATABASE_URL must start with sqlite: or postgres://");
    }
}
