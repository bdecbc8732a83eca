/* sqlite.h — private: the embedded SQLite store, split by phase:
 *   sqlite_open.c    URL, connections (one writer + a reader pool), schema, model record, close
 *   sqlite_ingest.c  add_document / delete_document (one transaction each)
 *   sqlite_query.c   vector and keyword search, list, counts, ping
 *   sqlite_vec.c     the in-memory vector matrix and the exact top-k scan
 *
 * Concurrency: one writer connection behind wmu (SQLite allows one writer anyway) and a pool of
 * reader connections (WAL lets them read while the writer ingests). The vectors live in one
 * contiguous matrix, loaded once and updated after each commit, behind a rwlock. The table
 * meta('generation') is bumped in every writing transaction; a search compares it with the
 * matrix's generation and reloads when another process changed the file.
 * Lock order: wmu (or a pool connection) before mlock.
 */
#ifndef LM_STORE_SQLITE_H
#define LM_STORE_SQLITE_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "store/store_impl.h"

/* Every chunk's vector, L2-normalised and stored as IEEE half floats (row-major, chunk id
 * order): a scan reads 2 bytes per dimension instead of 4. Half precision changes a cosine by at
 * most LM__SQ_F16_MARGIN/2, so the scan returns every row within that margin of the k-th best
 * and the caller rescores those exactly from the f32 BLOBs: the result is the exact top-k. */
#define LM__SQ_F16_MARGIN 2.5e-3f

struct lm__sq_matrix {
    uint16_t *vec;       /* [cap][dim] half floats of v/|v| (zeros for a zero vector) */
    int64_t *chunk_id;   /* [cap] */
    int64_t *doc_id;     /* [cap] */
    size_t n, cap;
    int dim;
    int64_t generation;  /* meta generation these rows reflect; -1 = must reload */
};

struct lm__sq_store {
    struct lm_store base;      /* first member: converts to and from struct lm_store */
    char *path;
    bool memory;               /* ":memory:": one connection serves everything */
    sqlite3 *writer;
    pthread_mutex_t wmu;       /* guards writer */
    sqlite3 **readers;         /* pool (empty when memory) */
    int n_readers, n_free;
    int *free_idx;
    pthread_mutex_t pmu;
    pthread_cond_t pcv;
    pthread_rwlock_t mlock;    /* guards m */
    struct lm__sq_matrix m;
    int wal_pages;             /* WAL size after the writer's last commit (wal hook, under wmu) */
};

/* Checkpoints the WAL once it has grown past ~1000 pages. The writer's automatic checkpoint is
 * off because it would run inside COMMIT, while mlock is held and searches wait. Call with wmu
 * held and mlock released. */
void lm__sq_maybe_checkpoint(struct lm__sq_store *s);

/* A connection for reading: a pool reader, or the writer (locked) in memory mode.
 * Blocks until one is free. Give it back with lm__sq_conn_put. */
sqlite3 *lm__sq_conn_get(struct lm__sq_store *s);
void lm__sq_conn_put(struct lm__sq_store *s, sqlite3 *db);

/* Reads meta('generation') with db. */
int lm__sq_read_generation(sqlite3 *db, int64_t *gen, struct lm_error *err);
/* Error from the connection's last failure: "sqlite: <what>: <sqlite message>". */
int lm__sq_err(sqlite3 *db, struct lm_error *err, const char *what);

/* Matrix (sqlite_vec.c). */
void lm__sq_matrix_free(struct lm__sq_matrix *m);
/* Appends rows; LM_ENOMEM leaves the matrix unchanged. */
int lm__sq_matrix_append(struct lm__sq_matrix *m, const int64_t *chunk_ids, int64_t doc_id,
                         const float *const *vecs, size_t n);
/* Removes every row of doc_id (keeps order). */
void lm__sq_matrix_remove_doc(struct lm__sq_matrix *m, int64_t doc_id);
/* Replaces the matrix with the chunks table as read by db (one read transaction). */
int lm__sq_matrix_load(struct lm__sq_matrix *m, sqlite3 *db, struct lm_error *err);
/* Candidates for the exact top-k by cosine: every row whose half-precision score is within
 * LM__SQ_F16_MARGIN of the k-th best (at least min(k, n) rows), best first. *ids is new
 * (free()), *n its length. LM_ENOMEM on failure. */
int lm__sq_matrix_candidates(const struct lm__sq_matrix *m, const float *q, int k, int64_t **ids, size_t *n);
/* Round-to-nearest-even conversions (exposed for tests). */
uint16_t lm__sq_f32_to_f16(float f);
float lm__sq_f16_to_f32(uint16_t h);
/* Makes sure the matrix reflects the database as seen by db (reloads on a generation change).
 * Called without mlock held. */
int lm__sq_matrix_sync(struct lm__sq_store *s, sqlite3 *db, struct lm_error *err);

/* Ops (sqlite_ingest.c, sqlite_query.c). */
int lm__sq_add_document(struct lm_store *st, const char *source, const char *content_hash,
                        const struct lm_chunk_in *chunks, size_t n_chunks, int64_t *doc_id,
                        int64_t *duplicate_of, struct lm_error *err);
int lm__sq_delete_document(struct lm_store *st, int64_t doc_id, struct lm_error *err);
int lm__sq_list_documents(struct lm_store *st, struct lm_doc_info **out, size_t *n, struct lm_error *err);
int lm__sq_search_vector(struct lm_store *st, const float *query, int k, struct lm_hit **out, size_t *n,
                         struct lm_error *err);
int lm__sq_search_keyword(struct lm_store *st, const char *text, int k, struct lm_hit **out, size_t *n,
                          struct lm_error *err);
int lm__sq_counts(struct lm_store *st, struct lm_store_counts *out, struct lm_error *err);
int lm__sq_ping(struct lm_store *st, struct lm_error *err);

#endif
