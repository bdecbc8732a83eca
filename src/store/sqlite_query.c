/* sqlite_query.c — reading the embedded store: vector and keyword search, list, counts, ping. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "lm/buf.h"
#include "store/sqlite.h"

#define KW_MAX_TERMS 64     /* FTS terms (phrases or trigrams) per query */
#define KW_MAX_SHORT 8      /* short (<3 characters) terms in the substring fallback */
#define KW_MAX_QUERY 4096   /* bytes of query text considered */

/* strdup of a column's text ("" for NULL); NULL only on ENOMEM. */
static char *col_dup(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    int len = sqlite3_column_bytes(st, col);
    char *c = malloc((size_t)len + 1);
    if (!c) return NULL;
    if (t && len) memcpy(c, t, (size_t)len);
    c[len] = 0;
    return c;
}

/* Reads (id, document_id, source, content, score) rows into a new hit array. */
static int collect_hits(sqlite3 *db, sqlite3_stmt *st, int k, struct lm_hit **out, size_t *n, struct lm_error *err)
{
    struct lm_hit *hits = calloc((size_t)k, sizeof *hits);
    if (!hits) return lm_error_set(err, LM_ENOMEM, "sqlite: out of memory");
    size_t cnt = 0;
    int rc = 0;
    while (cnt < (size_t)k) {
        int s = sqlite3_step(st);
        if (s == SQLITE_DONE) break;
        if (s != SQLITE_ROW) {
            rc = lm__sq_err(db, err, "search");
            break;
        }
        struct lm_hit *h = &hits[cnt++];
        h->chunk_id = sqlite3_column_int64(st, 0);
        h->document_id = sqlite3_column_int64(st, 1);
        h->source = col_dup(st, 2);
        h->content = col_dup(st, 3);
        h->score = sqlite3_column_double(st, 4);
        if (!h->source || !h->content) {
            rc = lm_error_set(err, LM_ENOMEM, "sqlite: out of memory");
            break;
        }
    }
    if (rc || cnt == 0) {
        lm_store_free_hits(hits, cnt);
        return rc;
    }
    *out = hits;
    *n = cnt;
    return 0;
}

struct scored {
    int64_t id;
    double score;
};

static int scored_cmp(const void *a, const void *b)
{
    const struct scored *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Exact cosine of query (with 1/|query| = qinv) against the f32 BLOB of chunk id; a row
 * deleted meanwhile gets -inf. */
static int exact_score(sqlite3 *db, sqlite3_stmt *st, const float *query, double qinv, int dim, int64_t id,
                       double *out, struct lm_error *err)
{
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    *out = -INFINITY;
    if (rc == SQLITE_ROW) {
        const unsigned char *blob = sqlite3_column_blob(st, 0);
        if (blob && sqlite3_column_bytes(st, 0) == dim * (int)sizeof(float)) {
            double dot = 0, ss = 0;
            for (int j = 0; j < dim; j++) {
                float v;
                memcpy(&v, blob + (size_t)j * sizeof v, sizeof v); /* BLOBs need not be aligned */
                dot += (double)v * query[j];
                ss += (double)v * v;
            }
            *out = ss > 0 && qinv > 0 ? dot * qinv / sqrt(ss) : 0.0;
        }
    } else if (rc != SQLITE_DONE) {
        sqlite3_reset(st);
        return lm__sq_err(db, err, "vector search");
    }
    sqlite3_reset(st);
    return 0;
}

/* Exact top-k by cosine: half-precision candidates from the in-memory matrix, rescored from the
 * stored f32 vectors, then the winners' text. */
int lm__sq_search_vector(struct lm_store *st, const float *query, int k, struct lm_hit **out, size_t *n,
                         struct lm_error *err)
{
    struct lm__sq_store *s = (struct lm__sq_store *)st;
    if (k > 10000) k = 10000;
    int dim = s->base.dim;
    double qss = 0;
    for (int j = 0; j < dim; j++) qss += (double)query[j] * query[j];
    double qinv = qss > 0 && isfinite(qss) ? 1.0 / sqrt(qss) : 0.0;
    sqlite3 *db = lm__sq_conn_get(s);
    int64_t *ids = NULL;
    size_t nc = 0, cnt = 0;
    struct scored *sc = NULL;
    struct lm_hit *hits = NULL;
    sqlite3_stmt *emb = NULL, *txt = NULL;
    int rc = lm__sq_matrix_sync(s, db, err);
    if (!rc) {
        pthread_rwlock_rdlock(&s->mlock);
        rc = lm__sq_matrix_candidates(&s->m, query, k, &ids, &nc);
        pthread_rwlock_unlock(&s->mlock);
        if (rc) rc = lm_error_set(err, LM_ENOMEM, "sqlite: out of memory");
    }
    if (!rc && nc) {
        sc = malloc(nc * sizeof *sc);
        hits = calloc((size_t)k, sizeof *hits);
        if (!sc || !hits) rc = lm_error_set(err, LM_ENOMEM, "sqlite: out of memory");
    }
    if (!rc && nc &&
        (sqlite3_prepare_v2(db, "SELECT embedding FROM chunks WHERE id = ?1", -1, &emb, NULL) != SQLITE_OK ||
         sqlite3_prepare_v2(db, "SELECT id, document_id, source, content, 0 FROM chunks WHERE id = ?1", -1, &txt,
                            NULL) != SQLITE_OK))
        rc = lm__sq_err(db, err, "vector search");
    /* one read transaction: the rescoring and the text see the same snapshot */
    if (!rc && nc) sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    for (size_t i = 0; i < nc && !rc; i++) {
        sc[i].id = ids[i];
        rc = exact_score(db, emb, query, qinv, dim, ids[i], &sc[i].score, err);
    }
    if (!rc && nc) qsort(sc, nc, sizeof *sc, scored_cmp);
    for (size_t i = 0; i < nc && cnt < (size_t)k && !rc; i++) {
        if (sc[i].score == -INFINITY) break; /* deleted since the scan */
        sqlite3_bind_int64(txt, 1, sc[i].id);
        struct lm_hit *one = NULL;
        size_t got = 0;
        rc = collect_hits(db, txt, 1, &one, &got, err);
        sqlite3_reset(txt);
        if (!rc && got) {
            hits[cnt] = one[0];
            hits[cnt].score = sc[i].score;
            cnt++;
        }
        free(one);
    }
    if (nc) sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    sqlite3_finalize(emb);
    sqlite3_finalize(txt);
    lm__sq_conn_put(s, db);
    free(ids);
    free(sc);
    if (rc || cnt == 0) {
        lm_store_free_hits(hits, cnt);
        return rc;
    }
    *out = hits;
    *n = cnt;
    return 0;
}

/* Query terms: FTS5 phrases (3+ characters) and short terms for the substring fallback. */
struct kw_terms {
    struct lm_buf match;             /* FTS5 expression: "t1" OR "t2" ... */
    int n_match;
    char *shortt[KW_MAX_SHORT];
    int n_short;
};

/* True for characters that belong inside a search term. */
static bool term_char(utf8proc_int32_t cp)
{
    if (cp == '-' || cp == '_' || cp == '.' || cp == '@' || cp == '+' || cp == '#') return true;
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME: case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
        return true;
    default:
        return false;
    }
}

/* Appends one quoted FTS5 phrase (quotes doubled) to the OR list. */
static int add_phrase(struct kw_terms *t, const char *p, size_t len)
{
    if (t->n_match >= KW_MAX_TERMS) return 0;
    int rc = 0;
    if (t->n_match) rc |= lm_buf_append_str(&t->match, " OR ");
    rc |= lm_buf_append_char(&t->match, '"');
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '"') rc |= lm_buf_append_char(&t->match, '"');
        rc |= lm_buf_append_char(&t->match, p[i]);
    }
    rc |= lm_buf_append_char(&t->match, '"');
    t->n_match++;
    return rc ? LM_ENOMEM : 0;
}

/* Adds a term: long ones as FTS phrases (runs of ideographs as their trigrams, since a whole
 * Chinese question rarely occurs verbatim), short ones for the substring fallback. */
static int add_term(struct kw_terms *t, const char *p, size_t len)
{
    /* trailing/leading joiners are punctuation ("end." -> "end") */
    while (len && strchr("-_.@+#", p[len - 1])) len--;
    while (len && strchr("-_.@+#", p[0])) p++, len--;
    if (!len) return 0;
    size_t off[KW_MAX_QUERY + 1];
    size_t ncp = 0;
    bool wide = false;
    for (size_t i = 0; i < len && ncp < KW_MAX_QUERY;) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t l = utf8proc_iterate((const utf8proc_uint8_t *)p + i, (utf8proc_ssize_t)(len - i), &cp);
        if (l <= 0) break;
        if (cp >= 0x2E80) wide = true;
        off[ncp++] = i;
        i += (size_t)l;
    }
    off[ncp] = len;
    if (ncp < 3) {
        if (t->n_short >= KW_MAX_SHORT) return 0;
        t->shortt[t->n_short] = strndup(p, len);
        if (!t->shortt[t->n_short]) return LM_ENOMEM;
        t->n_short++;
        return 0;
    }
    if (!wide) return add_phrase(t, p, len);
    for (size_t i = 0; i + 3 <= ncp; i++) {
        int rc = add_phrase(t, p + off[i], off[i + 3] - off[i]);
        if (rc) return rc;
    }
    return 0;
}

/* Splits text into terms at punctuation and spaces. */
static int parse_terms(const char *text, struct kw_terms *t)
{
    size_t len = strlen(text);
    if (len > KW_MAX_QUERY) len = KW_MAX_QUERY;
    size_t i = 0, start = 0;
    bool in = false;
    while (i < len) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t l = utf8proc_iterate((const utf8proc_uint8_t *)text + i, (utf8proc_ssize_t)(len - i), &cp);
        bool tc = l > 0 && term_char(cp);
        size_t step = l > 0 ? (size_t)l : 1; /* invalid bytes separate terms */
        if (tc && !in) {
            start = i;
            in = true;
        } else if (!tc && in) {
            int rc = add_term(t, text + start, i - start);
            if (rc) return rc;
            in = false;
        }
        i += step;
    }
    if (in) return add_term(t, text + start, len - start);
    return 0;
}

static void free_terms(struct kw_terms *t)
{
    lm_buf_free(&t->match);
    for (int i = 0; i < t->n_short; i++) free(t->shortt[i]);
}

/* Substring fallback for terms too short for trigrams: score = number of terms found. */
static int search_short(sqlite3 *db, struct kw_terms *t, int k, struct lm_hit **out, size_t *n, struct lm_error *err)
{
    struct lm_buf sql = {0}, score = {0};
    int rc = 0;
    for (int i = 0; i < t->n_short; i++)
        rc |= lm_buf_printf(&score, "%s(instr(lower(content), lower(?%d)) > 0)", i ? " + " : "", i + 1);
    rc |= lm_buf_printf(&sql,
                        "SELECT id, document_id, source, content, sc FROM"
                        " (SELECT id, document_id, source, content, %s AS sc FROM chunks)"
                        " WHERE sc > 0 ORDER BY sc DESC, id LIMIT ?%d",
                        score.data, t->n_short + 1);
    lm_buf_free(&score);
    if (rc) {
        lm_buf_free(&sql);
        return lm_error_set(err, LM_ENOMEM, "sqlite: out of memory");
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql.data, -1, &st, NULL) != SQLITE_OK) {
        rc = lm__sq_err(db, err, "keyword search");
    } else {
        for (int i = 0; i < t->n_short; i++) sqlite3_bind_text(st, i + 1, t->shortt[i], -1, SQLITE_STATIC);
        sqlite3_bind_int(st, t->n_short + 1, k);
        rc = collect_hits(db, st, k, out, n, err);
    }
    sqlite3_finalize(st);
    lm_buf_free(&sql);
    return rc;
}

/* Keyword search: FTS5 trigram with BM25 (score = -bm25, higher is better); queries with only
 * short terms (Chinese words of 1-2 characters, "AI") use a substring scan instead. */
int lm__sq_search_keyword(struct lm_store *st, const char *text, int k, struct lm_hit **out, size_t *n,
                          struct lm_error *err)
{
    struct lm__sq_store *s = (struct lm__sq_store *)st;
    struct kw_terms t = {0};
    if (k > 10000) k = 10000;
    int rc = parse_terms(text, &t);
    if (rc) {
        free_terms(&t);
        return lm_error_set(err, LM_ENOMEM, "sqlite: out of memory");
    }
    if (!t.n_match && !t.n_short) {
        free_terms(&t);
        return 0;
    }
    sqlite3 *db = lm__sq_conn_get(s);
    if (t.n_match) {
        sqlite3_stmt *q = NULL;
        if (sqlite3_prepare_v2(db,
                               "SELECT c.id, c.document_id, c.source, c.content, -bm25(chunks_fts) FROM chunks_fts"
                               " JOIN chunks c ON c.id = chunks_fts.rowid WHERE chunks_fts MATCH ?1"
                               " ORDER BY bm25(chunks_fts) LIMIT ?2",
                               -1, &q, NULL) != SQLITE_OK) {
            rc = lm__sq_err(db, err, "keyword search");
        } else {
            sqlite3_bind_text(q, 1, t.match.data, (int)t.match.len, SQLITE_STATIC);
            sqlite3_bind_int(q, 2, k);
            rc = collect_hits(db, q, k, out, n, err);
        }
        sqlite3_finalize(q);
    } else {
        rc = search_short(db, &t, k, out, n, err);
    }
    lm__sq_conn_put(s, db);
    free_terms(&t);
    return rc;
}

/* Lists documents, newest first. */
int lm__sq_list_documents(struct lm_store *st, struct lm_doc_info **out, size_t *n, struct lm_error *err)
{
    struct lm__sq_store *s = (struct lm__sq_store *)st;
    sqlite3 *db = lm__sq_conn_get(s);
    sqlite3_stmt *q = NULL;
    struct lm_doc_info *docs = NULL;
    size_t cnt = 0, cap = 0;
    int rc = 0;
    if (sqlite3_prepare_v2(db, "SELECT id, source, n_chunks, created_at FROM documents ORDER BY id DESC", -1, &q,
                           NULL) != SQLITE_OK)
        rc = lm__sq_err(db, err, "list documents");
    while (!rc) {
        int r = sqlite3_step(q);
        if (r == SQLITE_DONE) break;
        if (r != SQLITE_ROW) {
            rc = lm__sq_err(db, err, "list documents");
            break;
        }
        if (cnt == cap) {
            size_t nc = cap ? cap * 2 : 16;
            struct lm_doc_info *nd = realloc(docs, nc * sizeof *nd);
            if (!nd) {
                rc = lm_error_set(err, LM_ENOMEM, "sqlite: out of memory");
                break;
            }
            docs = nd;
            cap = nc;
        }
        struct lm_doc_info *d = &docs[cnt];
        d->id = sqlite3_column_int64(q, 0);
        d->source = col_dup(q, 1);
        d->n_chunks = sqlite3_column_int64(q, 2);
        d->created_at = sqlite3_column_int64(q, 3);
        if (!d->source) {
            rc = lm_error_set(err, LM_ENOMEM, "sqlite: out of memory");
            break;
        }
        cnt++;
    }
    sqlite3_finalize(q);
    lm__sq_conn_put(s, db);
    if (rc) {
        lm_store_free_docs(docs, cnt);
        return rc;
    }
    *out = docs;
    *n = cnt;
    return 0;
}

/* Counts documents and chunks in one read transaction, so the pair is consistent. */
int lm__sq_counts(struct lm_store *st, struct lm_store_counts *out, struct lm_error *err)
{
    struct lm__sq_store *s = (struct lm__sq_store *)st;
    sqlite3 *db = lm__sq_conn_get(s);
    sqlite3_stmt *q = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM documents), (SELECT count(*) FROM chunks)", -1, &q,
                           NULL) != SQLITE_OK || sqlite3_step(q) != SQLITE_ROW) {
        rc = lm__sq_err(db, err, "counts");
    } else {
        out->documents = sqlite3_column_int64(q, 0);
        out->chunks = sqlite3_column_int64(q, 1);
    }
    sqlite3_finalize(q);
    lm__sq_conn_put(s, db);
    return rc;
}

/* Liveness: one trivial query on a pool connection. */
int lm__sq_ping(struct lm_store *st, struct lm_error *err)
{
    struct lm__sq_store *s = (struct lm__sq_store *)st;
    sqlite3 *db = lm__sq_conn_get(s);
    int rc = sqlite3_exec(db, "SELECT 1 FROM meta LIMIT 1", NULL, NULL, NULL) == SQLITE_OK ? 0
                                                                                      : lm__sq_err(db, err, "ping");
    lm__sq_conn_put(s, db);
    return rc;
}
