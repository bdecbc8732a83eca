/* pg_store.c — the knowledge store on PostgreSQL + pgvector (store_impl.h operations).
 *
 * The seed's knowledge_chunks table is used as it is (vector(DIM) with the ivfflat cosine index),
 * plus knowledge_documents (migration 002) and keyword columns (003). Every statement is
 * parameterised; vectors travel as pgvector text ("[0.1,0.2,...]"). Reads that fail because the
 * server restarted are retried once on a fresh connection. */
#include <ctype.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/pg.h"

#define IVFFLAT_LISTS 100          /* the seed's lists = 100 */
#define INSERT_BATCH 64            /* chunk rows per INSERT statement */

struct pg_store {
    struct lm_store base;          /* first member: converts to/from struct lm_store */
    struct lm__pg_pool pool;
    bool hnsw;
    /* The seed's ivfflat index is built on an empty table, where its lists are meaningless and
     * an index scan misses rows; until it has been rebuilt on enough rows, search exactly. */
    _Atomic bool ann_ready;
    long long exact_below;         /* rows under which search stays exact anyway */
};

static struct pg_store *as_pg(struct lm_store *s) { return (struct pg_store *)s; }

/* pgvector text of v[0..dim) appended to b. */
static int vector_text(struct lm_buf *b, const float *v, int dim)
{
    if (lm_buf_append_char(b, '[') < 0) return LM_ENOMEM;
    for (int i = 0; i < dim; i++) {
        float x = isfinite(v[i]) ? v[i] : 0.0f;
        if (lm_buf_printf(b, i ? ",%.9g" : "%.9g", (double)x) < 0) return LM_ENOMEM;
    }
    return lm_buf_append_char(b, ']');
}

/* One-line server error for a failed result. */
static int result_error(struct lm_error *err, PGresult *r, const char *what)
{
    const char *m = r ? PQresultErrorMessage(r) : "no result";
    size_t n = strcspn(m, "\n");
    return lm_error_set(err, LM_EIO, "postgres: %s: %.*s", what, (int)n, m);
}

static void rollback(PGconn *c)
{
    PGresult *r = PQexec(c, "ROLLBACK");
    PQclear(r);
}

/* Reads the single text value of a one-row result, or NULL. */
static char *scalar(PGconn *c, const char *sql, int n, const char *const *params)
{
    PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
    char *v = NULL;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
        v = strdup(PQgetvalue(r, 0, 0));
    PQclear(r);
    return v;
}

/* ---- open: schema, dimension and model checks ------------------------------------------- */

/* The table's vector dimension must be the embedding model's. */
static int check_dimension(PGconn *c, int dim, struct lm_error *err)
{
    char *t = scalar(c,
                     "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                     "WHERE attrelid = 'knowledge_chunks'::regclass AND attname = 'embedding'",
                     0, NULL);
    if (!t) return lm_error_set(err, LM_EIO, "postgres: knowledge_chunks.embedding not found (run: ragd migrate up)");
    char want[32];
    snprintf(want, sizeof want, "vector(%d)", dim);
    int rc = 0;
    if (strcmp(t, want))
        rc = lm_error_set(err, LM_EINVAL,
                          "postgres: knowledge_chunks.embedding is %s but the embedding model gives %d dimensions; "
                          "use the model the table was built with, or re-index: `ragd migrate down` until "
                          "nothing is applied, `ragd migrate up`, then add the documents again",
                          t, dim);
    free(t);
    return rc;
}

/* Records the embedding model on first use; another model over existing chunks is an error. */
static int check_model(PGconn *c, const char *model, struct lm_error *err)
{
    if (!model || !*model) return 0;
    char *have = scalar(c, "SELECT value FROM ragd_meta WHERE key = 'embedding_model'", 0, NULL);
    int rc = 0;
    if (have && strcmp(have, model)) {
        char *n = scalar(c, "SELECT count(*) FROM knowledge_chunks", 0, NULL);
        bool empty = n && !strcmp(n, "0");
        free(n);
        if (!empty) {
            rc = lm_error_set(err, LM_EINVAL,
                              "postgres: the store was built with embedding model \"%s\", not \"%s\"; set "
                              "EMBEDDING_MODEL back, or re-index (delete the documents and add them again)",
                              have, model);
            free(have);
            return rc;
        }
    }
    if (!have || strcmp(have, model)) {
        const char *p[1] = {model};
        PGresult *r = PQexecParams(c,
                                   "INSERT INTO ragd_meta (key, value) VALUES ('embedding_model', $1) "
                                   "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                                   1, NULL, p, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) rc = result_error(err, r, "recording the embedding model");
        PQclear(r);
    }
    free(have);
    return rc;
}

/* Integer environment variable, or def when unset or not a number. */
static int env_int(const char *name, int def)
{
    const char *v = getenv(name);
    char *end;
    if (!v || !*v) return def;
    long x = strtol(v, &end, 10);
    return *end || x < -1000000000L || x > 1000000000L ? def : (int)x;
}

static void pg_close(struct lm_store *s)
{
    struct pg_store *p = as_pg(s);
    lm__pg_pool_free(&p->pool);
    free(p);
}

static int pg_reindex(struct lm_store *s, bool force, bool *rebuilt, struct lm_error *err);

static const struct lm_store_ops pg_ops;

int lm__store_pg_open(const struct lm_store_open_params *prm, struct lm_store **out, struct lm_error *err)
{
    *out = NULL;
    if (prm->dim <= 0) return lm_error_set(err, LM_EINVAL, "postgres: embedding dimension must be positive");
    struct pg_store *p = calloc(1, sizeof *p);
    if (!p) return lm_error_set(err, LM_ENOMEM, "postgres: out of memory");
    p->base.ops = &pg_ops;
    p->base.dim = prm->dim;
    /* unset parameters fall back to the documented environment variables (store.h) */
    const char *index = prm->pg_index && *prm->pg_index ? prm->pg_index : getenv("RAG_PG_INDEX");
    int probes = prm->pg_probes > 0 ? prm->pg_probes : env_int("RAG_PG_PROBES", 10);
    int ef_search = prm->pg_ef_search > 0 ? prm->pg_ef_search : env_int("RAG_PG_EF_SEARCH", 100);
    long long exact_below = prm->pg_exact_below ? prm->pg_exact_below : env_int("RAG_PG_EXACT_BELOW", 20000);
    const char *auto_migrate = getenv("RAG_AUTO_MIGRATE");
    bool migrate = prm->migrate && !(auto_migrate && (!strcmp(auto_migrate, "0") || !strcmp(auto_migrate, "false")));
    p->hnsw = index && !strcmp(index, "hnsw");
    p->exact_below = exact_below < 0 ? 0 : exact_below;
    if (index && *index && !p->hnsw && strcmp(index, "ivfflat")) {
        free(p);
        return lm_error_set(err, LM_EINVAL, "postgres: RAG_PG_INDEX must be ivfflat or hnsw (got \"%s\")", index);
    }
    char session[160];
    snprintf(session, sizeof session,
             "SET ivfflat.probes = %d; SET hnsw.ef_search = %d; SET pg_trgm.word_similarity_threshold = 0.3",
             probes, ef_search);
    /* a server that takes one connection at a time (PGlite) needs RAG_PG_POOL_SIZE=1 */
    int pool_size = prm->pool_size > 0 ? prm->pool_size : env_int("RAG_PG_POOL_SIZE", 8);
    int rc = lm__pg_pool_init(&p->pool, prm->url, pool_size, session, err);
    if (rc < 0) {
        free(p);
        return rc;
    }
    PGconn *c = lm__pg_get(&p->pool, err);
    if (!c) rc = LM_EIO;
    if (rc == 0 && migrate) rc = lm__pg_migrate_conn(c, "up", prm->dim, NULL, err);
    if (rc == 0) rc = check_dimension(c, prm->dim, err);
    if (rc == 0) rc = check_model(c, prm->model_name, err);
    if (rc == 0 && p->hnsw)
        rc = lm__pg_exec(c,
                         "CREATE INDEX IF NOT EXISTS ix_knowledge_chunks_embedding_hnsw ON knowledge_chunks "
                         "USING hnsw (embedding vector_cosine_ops)",
                         err, NULL);
    if (c) lm__pg_put(&p->pool, c, rc < 0);
    if (rc == 0) rc = pg_reindex(&p->base, false, NULL, err);
    if (rc < 0) {
        pg_close(&p->base);
        return rc;
    }
    *out = &p->base;
    return 0;
}

/* ---- writes ------------------------------------------------------------------------------ */

/* Inserts chunks[from..to) of document doc_id in one statement. */
static int insert_chunks(PGconn *c, const char *source, const char *doc_id, const struct lm_chunk_in *chunks,
                         size_t from, size_t to, int dim, struct lm_error *err)
{
    size_t n = to - from;
    struct lm_buf sql = {0};
    struct lm_buf *vecs = calloc(n, sizeof *vecs);
    const char **params = calloc(n * 2 + 2, sizeof *params);
    int rc = (!vecs || !params) ? LM_ENOMEM : 0;
    if (rc == 0) rc = lm_buf_append_str(&sql, "INSERT INTO knowledge_chunks (source, document_id, content, embedding) VALUES ");
    params[0] = source;
    params[1] = doc_id;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = vector_text(&vecs[i], chunks[from + i].embedding, dim);
        params[2 + 2 * i] = chunks[from + i].content;
        params[3 + 2 * i] = vecs[i].data;
        if (rc == 0)
            rc = lm_buf_printf(&sql, "%s($1, $2::bigint, $%zu, $%zu::vector)", i ? ", " : "", 3 + 2 * i, 4 + 2 * i);
    }
    if (rc == 0) {
        PGresult *r = PQexecParams(c, sql.data, (int)(n * 2 + 2), NULL, params, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) rc = result_error(err, r, "inserting chunks");
        PQclear(r);
    } else if (rc == LM_ENOMEM) {
        lm_error_set(err, LM_ENOMEM, "postgres: out of memory");
    }
    for (size_t i = 0; vecs && i < n; i++) lm_buf_free(&vecs[i]);
    free(vecs);
    free(params);
    lm_buf_free(&sql);
    return rc;
}

static int pg_add_document(struct lm_store *s, const char *source, const char *content_hash,
                           const struct lm_chunk_in *chunks, size_t n_chunks, int64_t *doc_id,
                           int64_t *duplicate_of, struct lm_error *err)
{
    struct pg_store *p = as_pg(s);
    PGconn *c = lm__pg_get(&p->pool, err);
    if (!c) return LM_EIO;
    bool broken = false;
    int rc = lm__pg_exec(c, "BEGIN", err, &broken);
    char *existing = NULL;
    if (rc == 0 && content_hash && *content_hash) {
        const char *prm[1] = {content_hash};
        existing = scalar(c, "SELECT id FROM knowledge_documents WHERE content_hash = $1 ORDER BY id LIMIT 1", 1, prm);
    }
    if (rc == 0 && existing) {
        *doc_id = strtoll(existing, NULL, 10);
        if (duplicate_of) *duplicate_of = *doc_id;
        free(existing);
        rc = lm__pg_exec(c, "COMMIT", err, &broken);
        lm__pg_put(&p->pool, c, broken);
        return rc;
    }
    char count[24], id[24] = "";
    snprintf(count, sizeof count, "%zu", n_chunks);
    if (rc == 0) {
        const char *prm[3] = {source ? source : "", content_hash ? content_hash : "", count};
        PGresult *r = PQexecParams(c,
                                   "INSERT INTO knowledge_documents (source, content_hash, n_chunks) "
                                   "VALUES ($1, $2, $3::int) RETURNING id",
                                   3, NULL, prm, NULL, NULL, 0);
        if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
            snprintf(id, sizeof id, "%s", PQgetvalue(r, 0, 0));
        else
            rc = result_error(err, r, "inserting the document");
        PQclear(r);
    }
    for (size_t i = 0; rc == 0 && i < n_chunks; i += INSERT_BATCH) {
        size_t to = i + INSERT_BATCH < n_chunks ? i + INSERT_BATCH : n_chunks;
        rc = insert_chunks(c, source ? source : "", id, chunks, i, to, s->dim, err);
    }
    if (rc == 0) rc = lm__pg_exec(c, "COMMIT", err, &broken);
    if (rc < 0) {
        if (PQstatus(c) == CONNECTION_OK) rollback(c);
        else broken = true;
    } else {
        *doc_id = strtoll(id, NULL, 10);
    }
    lm__pg_put(&p->pool, c, broken);
    if (rc == 0) {
        /* the seed's index was built on an empty table: rebuild it as the table grows */
        struct lm_error ignored;
        pg_reindex(s, false, NULL, &ignored);
    }
    return rc;
}

static int pg_delete_document(struct lm_store *s, int64_t doc_id, struct lm_error *err)
{
    struct pg_store *p = as_pg(s);
    PGconn *c = lm__pg_get(&p->pool, err);
    if (!c) return LM_EIO;
    char id[24];
    snprintf(id, sizeof id, "%" PRId64, doc_id);
    const char *prm[1] = {id};
    PGresult *r = PQexecParams(c, "DELETE FROM knowledge_documents WHERE id = $1::bigint", 1, NULL, prm, NULL, NULL, 0);
    int rc = 0;
    if (PQresultStatus(r) != PGRES_COMMAND_OK) rc = result_error(err, r, "deleting the document");
    else if (!strcmp(PQcmdTuples(r), "0")) rc = lm_error_set(err, LM_ENOENT, "no document %" PRId64, doc_id);
    PQclear(r);
    lm__pg_put(&p->pool, c, rc == LM_EIO && PQstatus(c) != CONNECTION_OK);
    return rc;
}

/* ---- reads (retried once after a lost connection) ---------------------------------------- */

/* Runs a read statement, retrying once on a fresh connection if the first one was dead. */
static PGresult *read_query(struct pg_store *p, const char *sql, int n, const char *const *params,
                            struct lm_error *err)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        PGconn *c = lm__pg_get(&p->pool, err);
        if (!c) return NULL;
        PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(r) == PGRES_TUPLES_OK) {
            lm__pg_put(&p->pool, c, false);
            return r;
        }
        bool dead = PQstatus(c) != CONNECTION_OK;
        if (!dead || attempt == 1) result_error(err, r, "query");
        PQclear(r);
        lm__pg_put(&p->pool, c, dead);
        if (!dead) return NULL;
    }
    return NULL;
}

static int pg_list_documents(struct lm_store *s, struct lm_doc_info **out, size_t *n, struct lm_error *err)
{
    PGresult *r = read_query(as_pg(s),
                             "SELECT id, source, n_chunks, extract(epoch FROM created_at)::bigint "
                             "FROM knowledge_documents ORDER BY created_at DESC, id DESC",
                             0, NULL, err);
    if (!r) return LM_EIO;
    size_t rows = (size_t)PQntuples(r);
    struct lm_doc_info *d = rows ? calloc(rows, sizeof *d) : NULL;
    if (rows && !d) {
        PQclear(r);
        return lm_error_set(err, LM_ENOMEM, "postgres: out of memory");
    }
    for (size_t i = 0; i < rows; i++) {
        d[i].id = strtoll(PQgetvalue(r, (int)i, 0), NULL, 10);
        d[i].source = strdup(PQgetvalue(r, (int)i, 1));
        d[i].n_chunks = strtoll(PQgetvalue(r, (int)i, 2), NULL, 10);
        d[i].created_at = strtoll(PQgetvalue(r, (int)i, 3), NULL, 10);
    }
    PQclear(r);
    *out = d;
    *n = rows;
    return 0;
}

/* Converts result rows (id, document_id, source, content, score) to hits appended to *hits. */
static int collect_hits(PGresult *r, struct lm_hit **hits, size_t *n, size_t cap, struct lm_error *err)
{
    for (int row = 0; row < PQntuples(r) && *n < cap; row++) {
        int64_t id = strtoll(PQgetvalue(r, row, 0), NULL, 10);
        bool seen = false;
        for (size_t j = 0; j < *n && !seen; j++) seen = (*hits)[j].chunk_id == id;
        if (seen) continue;
        struct lm_hit *h = &(*hits)[(*n)++];
        h->chunk_id = id;
        h->document_id = PQgetisnull(r, row, 1) ? 0 : strtoll(PQgetvalue(r, row, 1), NULL, 10);
        h->source = strdup(PQgetvalue(r, row, 2));
        h->content = strdup(PQgetvalue(r, row, 3));
        h->score = strtod(PQgetvalue(r, row, 4), NULL);
        if (!h->source || !h->content) return lm_error_set(err, LM_ENOMEM, "postgres: out of memory");
    }
    return 0;
}

static int pg_search_vector(struct lm_store *s, const float *query, int k, struct lm_hit **out, size_t *n,
                            struct lm_error *err)
{
    struct lm_buf v = {0};
    if (vector_text(&v, query, s->dim) < 0) return lm_error_set(err, LM_ENOMEM, "postgres: out of memory");
    char lim[16];
    snprintf(lim, sizeof lim, "%d", k);
    const char *prm[2] = {v.data, lim};
    struct pg_store *p = as_pg(s);
    /* "+ 0" makes the ordering an expression no index provides: an exact scan */
    PGresult *r = read_query(p,
                             p->ann_ready
                                 ? "SELECT id, document_id, coalesce(source, ''), content, 1 - (embedding <=> $1::vector) "
                                   "FROM knowledge_chunks ORDER BY embedding <=> $1::vector LIMIT $2::int"
                                 : "SELECT id, document_id, coalesce(source, ''), content, 1 - (embedding <=> $1::vector) "
                                   "FROM knowledge_chunks ORDER BY (embedding <=> $1::vector) + 0, id LIMIT $2::int",
                             2, prm, err);
    lm_buf_free(&v);
    if (!r) return LM_EIO;
    int rc = 0;
    *out = calloc((size_t)k, sizeof **out);
    if (!*out) rc = lm_error_set(err, LM_ENOMEM, "postgres: out of memory");
    if (rc == 0) rc = collect_hits(r, out, n, (size_t)k, err);
    PQclear(r);
    return rc;
}

/* Decodes one UTF-8 code point at s[*i] (advancing *i); invalid bytes give -1. */
static long next_cp(const unsigned char *s, size_t len, size_t *i)
{
    unsigned char c = s[*i];
    if (c < 0x80) {
        (*i)++;
        return c;
    }
    int n = (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : -1;
    if (n < 0 || *i + (size_t)n >= len) {
        (*i)++;
        return -1;
    }
    long cp = c & (0x3f >> n);
    for (int k = 1; k <= n; k++) {
        if ((s[*i + (size_t)k] & 0xc0) != 0x80) {
            (*i)++;
            return -1;
        }
        cp = (cp << 6) | (s[*i + (size_t)k] & 0x3f);
    }
    *i += (size_t)n + 1;
    return cp;
}

/* Scripts written without spaces between words. */
static bool is_ideograph(long cp)
{
    return (cp >= 0x3040 && cp <= 0x30ff) || (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0x4e00 && cp <= 0x9fff) ||
           (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0xac00 && cp <= 0xd7af);
}

/* Appends a term (NUL-separated list in b) unless present; at most 64 terms. */
static void add_term(struct lm_buf *b, int *count, const char *t, size_t n)
{
    if (*count >= 64 || n == 0) return;
    for (size_t off = 0; off < b->len;) {
        size_t m = strlen(b->data + off);
        if (m == n && !memcmp(b->data + off, t, n)) return;
        off += m + 1;
    }
    lm_buf_append(b, t, n);
    lm_buf_append(b, "", 1); /* NUL-separated while collecting */
    (*count)++;
}

/* Keyword terms of a query, joined by U+001F for string_to_array: lower-cased ASCII words, and
 * for runs of ideographs their 3-character pieces (the whole run when shorter), so a question
 * written without spaces still matches the chunks that share its words. */
static char *query_terms(const char *text)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t len = strlen(text), i = 0;
    struct lm_buf terms = {0}, word = {0};
    int count = 0;
    size_t run_start[512];
    int run = 0;
    while (i <= len) {
        size_t at = i;
        long cp = i < len ? next_cp(s, len, &i) : -2;
        if (i == at) i++;
        bool alnum = cp >= 0 && cp < 0x80 && (isalnum((int)cp));
        bool ideo = cp >= 0 && is_ideograph(cp);
        if (alnum) {
            char ch = (char)tolower((int)cp);
            lm_buf_append(&word, &ch, 1);
        } else if (word.len) {
            add_term(&terms, &count, word.data, word.len);
            lm_buf_clear(&word);
        }
        if (ideo && run < 511) {
            run_start[run++] = at;
            if (run >= 3) add_term(&terms, &count, text + run_start[run - 3], i - run_start[run - 3]);
        } else if (!ideo && run) {
            if (run < 3) add_term(&terms, &count, text + run_start[0], at - run_start[0]);
            run = 0;
        }
    }
    lm_buf_free(&word);
    for (size_t k = 0; k < terms.len; k++)
        if (terms.data[k] == 0) terms.data[k] = '\x1f';
    if (terms.len) terms.data[--terms.len] = 0; /* drop the last separator */
    return lm_buf_take(&terms);
}

/* Words first (the tsvector column, 'simple' configuration, any query word may match, ranked by
 * ts_rank); then chunks sharing the query's terms (ideograph trigrams for Chinese, where the
 * parser keeps a whole run as one token; short words by substring), ranked by terms matched. */
static int pg_search_keyword(struct lm_store *s, const char *text, int k, struct lm_hit **out, size_t *n,
                             struct lm_error *err)
{
    struct pg_store *p = as_pg(s);
    char lim[16];
    snprintf(lim, sizeof lim, "%d", k);
    char *terms = query_terms(text);
    if (!terms) return lm_error_set(err, LM_ENOMEM, "postgres: out of memory");
    if (!*terms) {
        free(terms);
        return 0;
    }
    *out = calloc((size_t)k, sizeof **out);
    if (!*out) {
        free(terms);
        return lm_error_set(err, LM_ENOMEM, "postgres: out of memory");
    }
    const char *prm[2] = {terms, lim};
    PGresult *r = read_query(p,
                             "WITH q AS (SELECT to_tsquery('simple', string_agg(quote_literal(w), ' | ')) AS q "
                             "  FROM unnest(string_to_array($1, chr(31))) AS w WHERE w ~ '^[a-z0-9]+$') "
                             "SELECT id, document_id, coalesce(source, ''), content, ts_rank(content_tsv, q.q) AS score "
                             "FROM knowledge_chunks, q WHERE q.q IS NOT NULL AND content_tsv @@ q.q "
                             "ORDER BY score DESC, id LIMIT $2::int",
                             2, prm, err);
    int rc = r ? collect_hits(r, out, n, (size_t)k, err) : LM_EIO;
    PQclear(r);
    if (rc == 0 && *n < (size_t)k) {
        r = read_query(p,
                       "SELECT id, document_id, coalesce(source, ''), content, m.score FROM knowledge_chunks, "
                       "LATERAL (SELECT count(*) AS score FROM unnest(string_to_array($1, chr(31))) AS t "
                       "         WHERE strpos(lower(content), t) > 0) AS m "
                       "WHERE m.score > 0 ORDER BY m.score DESC, id LIMIT $2::int",
                       2, prm, err);
        rc = r ? collect_hits(r, out, n, (size_t)k, err) : LM_EIO;
        PQclear(r);
    }
    free(terms);
    return rc;
}

static int pg_counts(struct lm_store *s, struct lm_store_counts *out, struct lm_error *err)
{
    PGresult *r = read_query(as_pg(s),
                             "SELECT (SELECT count(*) FROM knowledge_documents), (SELECT count(*) FROM knowledge_chunks)",
                             0, NULL, err);
    if (!r) return LM_EIO;
    out->documents = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    out->chunks = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
    PQclear(r);
    return 0;
}

static int pg_ping(struct lm_store *s, struct lm_error *err)
{
    PGresult *r = read_query(as_pg(s), "SELECT 1", 0, NULL, err);
    if (!r) return LM_EIO;
    PQclear(r);
    return 0;
}

/* Rebuilds the seed's ivfflat index once the table holds >= 10 x lists rows and has doubled
 * since the last build (an ivfflat index built on an empty table recalls badly). */
static int pg_reindex(struct lm_store *s, bool force, bool *rebuilt, struct lm_error *err)
{
    struct pg_store *p = as_pg(s);
    if (rebuilt) *rebuilt = false;
    PGconn *c = lm__pg_get(&p->pool, err);
    if (!c) return LM_EIO;
    char *rows_s = scalar(c, "SELECT count(*) FROM knowledge_chunks", 0, NULL);
    char *last_s = scalar(c, "SELECT value FROM ragd_meta WHERE key = 'ivfflat_rows_at_build'", 0, NULL);
    long long rows = rows_s ? atoll(rows_s) : 0, last = last_s ? atoll(last_s) : 0;
    free(rows_s);
    free(last_s);
    p->ann_ready = rows >= p->exact_below && (p->hnsw || last >= 10LL * IVFFLAT_LISTS);
    int rc = 0;
    if (force || (rows >= 10LL * IVFFLAT_LISTS && rows >= 2 * last)) {
        bool broken = false;
        /* CONCURRENTLY keeps searches and inserts running; servers that cannot do it get a
         * plain REINDEX */
        if (lm__pg_exec(c, "REINDEX INDEX CONCURRENTLY ix_knowledge_chunks_embedding", err, &broken) < 0 && !broken)
            rc = lm__pg_exec(c, "REINDEX INDEX ix_knowledge_chunks_embedding", err, &broken);
        if (rc == 0 && !broken) {
            char v[24];
            snprintf(v, sizeof v, "%lld", rows);
            const char *prm[1] = {v};
            PGresult *r = PQexecParams(c,
                                       "INSERT INTO ragd_meta (key, value) VALUES ('ivfflat_rows_at_build', $1) "
                                       "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value; ",
                                       1, NULL, prm, NULL, NULL, 0);
            PQclear(r);
            r = PQexec(c, "ANALYZE knowledge_chunks");
            PQclear(r);
            p->ann_ready = rows >= p->exact_below && (p->hnsw || rows >= 10LL * IVFFLAT_LISTS);
            if (rebuilt) *rebuilt = true;
        }
        if (broken) rc = LM_EIO;
        lm__pg_put(&p->pool, c, broken);
        return rc;
    }
    lm__pg_put(&p->pool, c, false);
    return 0;
}

static const struct lm_store_ops pg_ops = {
    .kind = "postgres",
    .close = pg_close,
    .add_document = pg_add_document,
    .delete_document = pg_delete_document,
    .list_documents = pg_list_documents,
    .search_vector = pg_search_vector,
    .search_keyword = pg_search_keyword,
    .counts = pg_counts,
    .ping = pg_ping,
    .reindex = pg_reindex,
};
