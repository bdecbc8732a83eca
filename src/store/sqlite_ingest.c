/* sqlite_ingest.c — adding and deleting documents in the embedded store, one transaction each. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/sqlite.h"

/* Runs a statement without parameters; returns the SQLite result code. */
static int run(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* Bumps meta('generation') inside the current transaction and returns the new value. */
static int bump_generation(sqlite3 *db, int64_t *gen, struct lm_error *err)
{
    if (run(db, "UPDATE meta SET value = value + 1 WHERE key = 'generation'") != SQLITE_OK)
        return lm__sq_err(db, err, "bump generation");
    return lm__sq_read_generation(db, gen, err);
}

/* Looks up a document by content hash; *id = 0 when absent. */
static int find_hash(sqlite3 *db, const char *hash, int64_t *id, struct lm_error *err)
{
    sqlite3_stmt *st = NULL;
    *id = 0;
    if (sqlite3_prepare_v2(db, "SELECT id FROM documents WHERE content_hash = ?1", -1, &st, NULL) != SQLITE_OK)
        return lm__sq_err(db, err, "find hash");
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : lm__sq_err(db, err, "find hash");
}

/* Inserts the document row and its chunks; fills ids. */
static int insert_all(struct lm__sq_store *s, const char *source, const char *hash,
                      const struct lm_chunk_in *chunks, size_t n, int64_t now, int64_t *doc_id, int64_t *ids,
                      struct lm_error *err)
{
    sqlite3 *db = s->writer;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO documents(source, content_hash, n_chunks, created_at) VALUES (?1, ?2, ?3, ?4)",
                           -1, &st, NULL) != SQLITE_OK)
        return lm__sq_err(db, err, "insert document");
    if (source) sqlite3_bind_text(st, 1, source, -1, SQLITE_STATIC);
    if (hash && *hash) sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)n);
    sqlite3_bind_int64(st, 4, now);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return lm__sq_err(db, err, "insert document");
    *doc_id = sqlite3_last_insert_rowid(db);

    if (sqlite3_prepare_v2(db,
                           "INSERT INTO chunks(document_id, source, content, embedding, created_at)"
                           " VALUES (?1, ?2, ?3, ?4, ?5)",
                           -1, &st, NULL) != SQLITE_OK)
        return lm__sq_err(db, err, "insert chunk");
    int bytes = s->base.dim * (int)sizeof(float);
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_int64(st, 1, *doc_id);
        if (source) sqlite3_bind_text(st, 2, source, -1, SQLITE_STATIC);
        else sqlite3_bind_null(st, 2);
        sqlite3_bind_text(st, 3, chunks[i].content, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 4, chunks[i].embedding, bytes, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, now);
        if (sqlite3_step(st) != SQLITE_DONE) {
            int r = lm__sq_err(db, err, "insert chunk");
            sqlite3_finalize(st);
            return r;
        }
        ids[i] = sqlite3_last_insert_rowid(db);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return 0;
}

/* What a committed write does to the in-memory matrix: append the n rows (ids, vecs) of doc_id,
 * or, with ids NULL, remove every row of doc_id. */
struct matrix_change {
    int64_t doc_id;
    const int64_t *ids;
    const float *const *vecs;
    size_t n;
};

/* Ends the write transaction whose generation is gen: rolls back when rc is nonzero, else
 * commits and brings the in-memory matrix up to gen when it was one generation behind (or marks
 * it stale, so that the next search reloads it). Returns rc, or the commit's error. */
static int finish_write(struct lm__sq_store *s, int rc, int64_t gen, const struct matrix_change *ch,
                        struct lm_error *err)
{
    sqlite3 *db = s->writer;
    if (rc) {
        run(db, "ROLLBACK");
        return rc;
    }
    pthread_rwlock_wrlock(&s->mlock);
    bool in_step = s->m.generation == gen - 1;
    if (run(db, "COMMIT") != SQLITE_OK) {
        rc = lm__sq_err(db, err, "commit");
        run(db, "ROLLBACK");
    } else if (in_step && !ch->ids) {
        lm__sq_matrix_remove_doc(&s->m, ch->doc_id);
        s->m.generation = gen;
    } else if (in_step && lm__sq_matrix_append(&s->m, ch->ids, ch->doc_id, ch->vecs, ch->n) == 0) {
        s->m.generation = gen;
    } else {
        s->m.generation = -1; /* out of step (or out of memory): the next search reloads */
    }
    pthread_rwlock_unlock(&s->mlock);
    lm__sq_maybe_checkpoint(s);
    return rc;
}

/* Adds a document and its chunks in one transaction (see store.h). */
int lm__sq_add_document(struct lm_store *st, const char *source, const char *content_hash,
                        const struct lm_chunk_in *chunks, size_t n_chunks, int64_t *doc_id,
                        int64_t *duplicate_of, struct lm_error *err)
{
    struct lm__sq_store *s = (struct lm__sq_store *)st;
    int64_t *ids = malloc((n_chunks ? n_chunks : 1) * sizeof *ids);
    const float **vecs = malloc((n_chunks ? n_chunks : 1) * sizeof *vecs);
    if (!ids || !vecs) {
        free(ids);
        free(vecs);
        return lm_error_set(err, LM_ENOMEM, "sqlite: out of memory");
    }
    for (size_t i = 0; i < n_chunks; i++) vecs[i] = chunks[i].embedding;
    sqlite3 *db = s->writer;
    pthread_mutex_lock(&s->wmu);
    int rc = 0;
    int64_t dup = 0, gen = 0;
    if (run(db, "BEGIN IMMEDIATE") != SQLITE_OK) rc = lm__sq_err(db, err, "begin");
    if (!rc && content_hash && *content_hash) rc = find_hash(db, content_hash, &dup, err);
    if (!rc && dup) {
        run(db, "ROLLBACK");
        pthread_mutex_unlock(&s->wmu);
        *doc_id = dup;
        if (duplicate_of) *duplicate_of = dup;
        free(ids);
        free(vecs);
        return 0;
    }
    if (!rc) rc = insert_all(s, source, content_hash, chunks, n_chunks, (int64_t)time(NULL), doc_id, ids, err);
    if (!rc) rc = bump_generation(db, &gen, err);
    struct matrix_change ch = {rc ? 0 : *doc_id, ids, vecs, n_chunks}; /* *doc_id is set on success */
    rc = finish_write(s, rc, gen, &ch, err);
    pthread_mutex_unlock(&s->wmu);
    free(ids);
    free(vecs);
    return rc;
}

/* Deletes a document and its chunks (LM_ENOENT when absent). */
int lm__sq_delete_document(struct lm_store *st, int64_t doc_id, struct lm_error *err)
{
    struct lm__sq_store *s = (struct lm__sq_store *)st;
    sqlite3 *db = s->writer;
    sqlite3_stmt *q = NULL;
    int rc = 0;
    int64_t gen = 0;
    pthread_mutex_lock(&s->wmu);
    if (run(db, "BEGIN IMMEDIATE") != SQLITE_OK) rc = lm__sq_err(db, err, "begin");
    /* chunks first, explicitly: the FTS triggers see each row, whatever the foreign-key setting */
    if (!rc && sqlite3_prepare_v2(db, "DELETE FROM chunks WHERE document_id = ?1", -1, &q, NULL) != SQLITE_OK)
        rc = lm__sq_err(db, err, "delete chunks");
    if (!rc) {
        sqlite3_bind_int64(q, 1, doc_id);
        if (sqlite3_step(q) != SQLITE_DONE) rc = lm__sq_err(db, err, "delete chunks");
    }
    sqlite3_finalize(q);
    q = NULL;
    if (!rc && sqlite3_prepare_v2(db, "DELETE FROM documents WHERE id = ?1", -1, &q, NULL) != SQLITE_OK)
        rc = lm__sq_err(db, err, "delete document");
    if (!rc) {
        sqlite3_bind_int64(q, 1, doc_id);
        if (sqlite3_step(q) != SQLITE_DONE) rc = lm__sq_err(db, err, "delete document");
        else if (sqlite3_changes(db) == 0)
            rc = lm_error_set(err, LM_ENOENT, "no document with id %lld", (long long)doc_id);
    }
    sqlite3_finalize(q);
    if (!rc) rc = bump_generation(db, &gen, err);
    rc = finish_write(s, rc, gen, &(struct matrix_change){doc_id, NULL, NULL, 0}, err);
    pthread_mutex_unlock(&s->wmu);
    return rc;
}
