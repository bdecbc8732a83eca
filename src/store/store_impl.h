/* store_impl.h — private: the table of operations each store implements.
 *
 * lm_store_open (store.c) picks the implementation from the URL scheme and calls its open;
 * every public lm_store_* function forwards to the matching entry. An implementation's state
 * struct starts with struct lm_store (first member), so the pointers convert both ways.
 */
#ifndef LM_STORE_IMPL_H
#define LM_STORE_IMPL_H

#include "lm/store.h"

struct lm_store_ops {
    const char *kind;
    void (*close)(struct lm_store *s);
    int (*add_document)(struct lm_store *s, const char *source, const char *content_hash,
                        const struct lm_chunk_in *chunks, size_t n_chunks, int64_t *doc_id,
                        int64_t *duplicate_of, struct lm_error *err);
    int (*delete_document)(struct lm_store *s, int64_t doc_id, struct lm_error *err);
    int (*list_documents)(struct lm_store *s, struct lm_doc_info **out, size_t *n, struct lm_error *err);
    int (*search_vector)(struct lm_store *s, const float *query, int k, struct lm_hit **out, size_t *n,
                         struct lm_error *err);
    int (*search_keyword)(struct lm_store *s, const char *text, int k, struct lm_hit **out, size_t *n,
                          struct lm_error *err);
    int (*counts)(struct lm_store *s, struct lm_store_counts *out, struct lm_error *err);
    int (*ping)(struct lm_store *s, struct lm_error *err);
    /* optional (NULL: nothing to rebuild) */
    int (*reindex)(struct lm_store *s, bool force, bool *rebuilt, struct lm_error *err);
};

struct lm_store {
    const struct lm_store_ops *ops;
    int dim;
};

/* Implementations (sqlite.c, pg_*.c). */
int lm__store_sqlite_open(const struct lm_store_open_params *p, struct lm_store **out, struct lm_error *err);
int lm__store_pg_open(const struct lm_store_open_params *p, struct lm_store **out, struct lm_error *err);
int lm__store_pg_migrate(const char *url, const char *action, int dim, char **report, struct lm_error *err);

#endif
