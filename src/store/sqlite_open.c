/* sqlite_open.c — the embedded store's URL, connections, schema and model record. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lm/log.h"
#include "store/sqlite.h"

#define SQ_READERS 4
#define SQ_BUSY_MS 10000

static const char *const SCHEMA[] = {
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value NOT NULL)",
    "CREATE TABLE IF NOT EXISTS documents("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " source TEXT,"
    " content_hash TEXT UNIQUE,"
    " n_chunks INTEGER NOT NULL,"
    " created_at INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS chunks("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,"
    " source TEXT,"
    " content TEXT NOT NULL,"
    " embedding BLOB NOT NULL," /* dim little-endian f32 */
    " created_at INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS ix_chunks_document ON chunks(document_id)",
    /* trigram: substrings of 3+ characters match, so Chinese (no spaces) is searchable */
    "CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5("
    " content, content='chunks', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER IF NOT EXISTS chunks_fts_ai AFTER INSERT ON chunks BEGIN"
    " INSERT INTO chunks_fts(rowid, content) VALUES (new.id, new.content); END",
    "CREATE TRIGGER IF NOT EXISTS chunks_fts_ad AFTER DELETE ON chunks BEGIN"
    " INSERT INTO chunks_fts(chunks_fts, rowid, content) VALUES ('delete', old.id, old.content); END",
    "INSERT OR IGNORE INTO meta(key, value) VALUES ('generation', 0)",
};

/* Formats a SQLite failure of db into err. */
int lm__sq_err(sqlite3 *db, struct lm_error *err, const char *what)
{
    int ec = db ? sqlite3_errcode(db) : SQLITE_ERROR;
    int code = (ec == SQLITE_NOMEM) ? LM_ENOMEM : (ec == SQLITE_BUSY || ec == SQLITE_LOCKED) ? LM_EBUSY : LM_EIO;
    return lm_error_set(err, code, "sqlite: %s: %s", what, db ? sqlite3_errmsg(db) : "cannot open");
}

/* Runs one statement without parameters or results. */
static int exec1(sqlite3 *db, const char *sql, struct lm_error *err)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        int rc = lm_error_set(err, LM_EIO, "sqlite: %.60s: %s", sql, msg ? msg : "error");
        sqlite3_free(msg);
        return rc;
    }
    return 0;
}

/* Reads meta('generation'). */
int lm__sq_read_generation(sqlite3 *db, int64_t *gen, struct lm_error *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'generation'", -1, &st, NULL) != SQLITE_OK)
        return lm__sq_err(db, err, "read generation");
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *gen = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        return 0;
    }
    int r = rc == SQLITE_DONE ? lm_error_set(err, LM_EFORMAT, "sqlite: meta has no generation row")
                              : lm__sq_err(db, err, "read generation");
    sqlite3_finalize(st);
    return r;
}

/* Creates the parent folders of path (mkdir -p of its dirname). */
static int make_parent_dirs(const char *path, struct lm_error *err)
{
    size_t len = strlen(path);
    char *tmp = malloc(len + 1);
    if (!tmp) return lm_error_set(err, LM_ENOMEM, "sqlite: out of memory");
    memcpy(tmp, path, len + 1);
    for (size_t i = 1; i < len; i++) {
        if (tmp[i] != '/') continue;
        tmp[i] = 0;
        if (mkdir(tmp, 0755) < 0 && errno != EEXIST) {
            int rc = lm_error_set(err, LM_EIO, "sqlite: cannot create folder %s: %s", tmp, strerror(errno));
            free(tmp);
            return rc;
        }
        tmp[i] = '/';
    }
    free(tmp);
    return 0;
}

/* Opens one connection with the store's settings; cache_kb is its page cache. */
static int open_conn(const char *path, bool memory, int cache_kb, sqlite3 **out, struct lm_error *err)
{
    sqlite3 *db = NULL;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(memory ? ":memory:" : path, &db, flags, NULL) != SQLITE_OK) {
        int rc = lm__sq_err(db, err, path);
        sqlite3_close(db);
        return rc;
    }
    sqlite3_busy_timeout(db, SQ_BUSY_MS);
    sqlite3_extended_result_codes(db, 0);
    int rc = exec1(db, "PRAGMA foreign_keys = ON", err);
    if (!rc && !memory) rc = exec1(db, "PRAGMA journal_mode = WAL", err);
    /* NORMAL in WAL: a process crash never loses or tears a commit; only power loss may lose the last ones */
    if (!rc && !memory) rc = exec1(db, "PRAGMA synchronous = NORMAL", err);
    /* a big writer cache keeps the FTS index and the chunks B-tree hot while ingesting */
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA cache_size = -%d", cache_kb);
    if (!rc) rc = exec1(db, pragma, err);
    if (rc) {
        sqlite3_close(db);
        return rc;
    }
    *out = db;
    return 0;
}

/* Reads a meta value as text into buf (empty when absent). */
static int meta_get(sqlite3 *db, const char *key, char *buf, size_t cap, struct lm_error *err)
{
    sqlite3_stmt *st = NULL;
    buf[0] = 0;
    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?1", -1, &st, NULL) != SQLITE_OK)
        return lm__sq_err(db, err, "read meta");
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const unsigned char *v = sqlite3_column_text(st, 0);
        snprintf(buf, cap, "%s", v ? (const char *)v : "");
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : lm__sq_err(db, err, "read meta");
}

/* Writes a meta value. */
static int meta_set(sqlite3 *db, const char *key, const char *value, struct lm_error *err)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)", -1, &st, NULL) != SQLITE_OK)
        return lm__sq_err(db, err, "write meta");
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : lm__sq_err(db, err, "write meta");
}

/* Creates the schema and records (or checks) the embedding model and dimension. */
static int init_schema(struct lm__sq_store *s, const struct lm_store_open_params *p, struct lm_error *err)
{
    sqlite3 *db = s->writer;
    int rc = exec1(db, "BEGIN IMMEDIATE", err);
    if (rc) return rc;
    for (size_t i = 0; i < sizeof SCHEMA / sizeof SCHEMA[0] && !rc; i++) rc = exec1(db, SCHEMA[i], err);
    char model[512], dimtxt[32];
    if (!rc) rc = meta_get(db, "embedding_model", model, sizeof model, err);
    if (!rc) rc = meta_get(db, "embedding_dim", dimtxt, sizeof dimtxt, err);
    if (!rc) {
        /* a NULL or empty model name (tools such as `ragd reindex`) neither records nor checks one */
        const char *want = p->model_name ? p->model_name : "";
        int have_dim = dimtxt[0] ? atoi(dimtxt) : 0;
        if (!dimtxt[0]) {
            if (p->dim <= 0) {
                rc = lm_error_set(err, LM_EINVAL, "sqlite: new store %s needs the embedding dimension", s->path);
            } else {
                char d[32];
                snprintf(d, sizeof d, "%d", p->dim);
                rc = meta_set(db, "embedding_dim", d, err);
                if (!rc && *want) rc = meta_set(db, "embedding_model", want, err);
                s->base.dim = p->dim;
            }
        } else if ((p->dim > 0 && have_dim != p->dim) || (*want && model[0] && strcmp(model, want) != 0)) {
            rc = lm_error_set(err, LM_EINVAL,
                              "store %s holds embeddings of model \"%s\" (dim %d) but this run uses \"%s\" (dim %d);"
                              " re-index: point DATABASE_URL at a new file (or delete this one) and ingest the"
                              " documents again",
                              s->path, model, have_dim, want, p->dim);
        } else {
            s->base.dim = have_dim;
            if (*want && !model[0]) rc = meta_set(db, "embedding_model", want, err);
        }
    }
    if (!rc) rc = exec1(db, "COMMIT", err);
    else sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* WAL hook of the writer: remembers the WAL size for lm__sq_maybe_checkpoint. */
static int on_wal(void *ud, sqlite3 *db, const char *name, int pages)
{
    (void)db, (void)name;
    ((struct lm__sq_store *)ud)->wal_pages = pages;
    return SQLITE_OK;
}

/* See sqlite.h. PASSIVE never waits for readers; what it cannot copy now is copied later. */
void lm__sq_maybe_checkpoint(struct lm__sq_store *s)
{
    if (s->memory || s->wal_pages < 1000) return;
    int log = 0, done = 0;
    if (sqlite3_wal_checkpoint_v2(s->writer, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done) == SQLITE_OK)
        s->wal_pages = log - done;
}

/* Closes every connection and frees the store. */
static void sq_close(struct lm_store *st)
{
    struct lm__sq_store *s = (struct lm__sq_store *)st;
    if (!s) return;
    for (int i = 0; i < s->n_readers; i++) sqlite3_close(s->readers[i]);
    if (s->writer) {
        /* fold the WAL back into the main file so the folder holds one file when idle; best effort
         * and without waiting: another process holding the store (a write lock) must not add the
         * busy timeout to every shutdown and every failed open (the WAL stays, nothing is lost) */
        sqlite3_busy_timeout(s->writer, 0);
        if (!s->memory) sqlite3_exec(s->writer, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
        sqlite3_close(s->writer);
    }
    free(s->readers);
    free(s->free_idx);
    lm__sq_matrix_free(&s->m);
    pthread_mutex_destroy(&s->wmu);
    pthread_mutex_destroy(&s->pmu);
    pthread_cond_destroy(&s->pcv);
    pthread_rwlock_destroy(&s->mlock);
    free(s->path);
    free(s);
}

static const struct lm_store_ops SQ_OPS = {
    .kind = "sqlite",
    .close = sq_close,
    .add_document = lm__sq_add_document,
    .delete_document = lm__sq_delete_document,
    .list_documents = lm__sq_list_documents,
    .search_vector = lm__sq_search_vector,
    .search_keyword = lm__sq_search_keyword,
    .counts = lm__sq_counts,
    .ping = lm__sq_ping,
};

/* Borrows a reading connection (see sqlite.h). */
sqlite3 *lm__sq_conn_get(struct lm__sq_store *s)
{
    if (s->memory) {
        pthread_mutex_lock(&s->wmu);
        return s->writer;
    }
    pthread_mutex_lock(&s->pmu);
    while (s->n_free == 0) pthread_cond_wait(&s->pcv, &s->pmu);
    sqlite3 *db = s->readers[s->free_idx[--s->n_free]];
    pthread_mutex_unlock(&s->pmu);
    return db;
}

/* Returns a connection from lm__sq_conn_get. */
void lm__sq_conn_put(struct lm__sq_store *s, sqlite3 *db)
{
    if (s->memory) {
        pthread_mutex_unlock(&s->wmu);
        return;
    }
    pthread_mutex_lock(&s->pmu);
    for (int i = 0; i < s->n_readers; i++)
        if (s->readers[i] == db) s->free_idx[s->n_free++] = i;
    pthread_cond_signal(&s->pcv);
    pthread_mutex_unlock(&s->pmu);
}

/* Opens "sqlite:PATH", "sqlite://PATH" or "sqlite::memory:". */
int lm__store_sqlite_open(const struct lm_store_open_params *p, struct lm_store **out, struct lm_error *err)
{
    const char *path = p->url + strlen("sqlite:");
    if (path[0] == '/' && path[1] == '/') path += 2;
    if (!*path) return lm_error_set(err, LM_EINVAL, "sqlite: DATABASE_URL has no file name (sqlite:data/ragd.db)");
    if (sqlite3_libversion_number() < 3034000)
        return lm_error_set(err, LM_ENOTSUP, "sqlite: version %s has no FTS5 trigram tokenizer (need 3.34+)",
                            sqlite3_libversion());
    struct lm__sq_store *s = calloc(1, sizeof *s);
    if (!s) return lm_error_set(err, LM_ENOMEM, "sqlite: out of memory");
    s->base.ops = &SQ_OPS;
    s->memory = strcmp(path, ":memory:") == 0;
    s->path = strdup(path);
    pthread_mutex_init(&s->wmu, NULL);
    pthread_mutex_init(&s->pmu, NULL);
    pthread_cond_init(&s->pcv, NULL);
    pthread_rwlock_init(&s->mlock, NULL);
    s->m.generation = -1;
    int rc = s->path ? 0 : lm_error_set(err, LM_ENOMEM, "sqlite: out of memory");
    if (!rc && !s->memory) rc = make_parent_dirs(path, err);
    if (!rc) rc = open_conn(path, s->memory, 65536, &s->writer, err);
    if (!rc) rc = init_schema(s, p, err);
    if (!rc && !s->memory) sqlite3_wal_hook(s->writer, on_wal, s); /* replaces the automatic checkpoint */
    if (!rc && !s->memory) {
        int n = p->pool_size > 0 ? p->pool_size : SQ_READERS;
        s->readers = calloc((size_t)n, sizeof *s->readers);
        s->free_idx = calloc((size_t)n, sizeof *s->free_idx);
        if (!s->readers || !s->free_idx) rc = lm_error_set(err, LM_ENOMEM, "sqlite: out of memory");
        for (int i = 0; i < n && !rc; i++) {
            rc = open_conn(path, false, 16384, &s->readers[i], err);
            if (!rc) {
                s->free_idx[s->n_free++] = i;
                s->n_readers++;
            }
        }
    }
    s->m.dim = s->base.dim;
    if (!rc) {
        /* load the vectors once, now, so the first search does not pay for it */
        sqlite3 *db = lm__sq_conn_get(s);
        rc = lm__sq_matrix_sync(s, db, err);
        lm__sq_conn_put(s, db);
    }
    if (rc) {
        sq_close(&s->base);
        return rc;
    }
    LM_LOG_DEBUG("sqlite store %s: dim %d, %zu chunks", s->path, s->base.dim, s->m.n);
    *out = &s->base;
    return 0;
}
