/* pg_pool.c — a small libpq connection pool that survives server restarts.
 *
 * Connections are opened lazily up to the pool size. A connection whose status is bad when it
 * is taken, or that a caller reports broken, is reset before its next use, so a restarted
 * server costs one failed request at most (callers retry idempotent reads once). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/pg.h"

/* Opens one connection and sets the session up (UTF-8, quiet notices, search settings). */
static PGconn *pg_connect(const struct lm__pg_pool *p, struct lm_error *err)
{
    PGconn *c = NULL;
    /* a server that is restarting, or one that just closed our previous connection, may
     * refuse for a moment: try a few times with a short backoff before giving up */
    for (int attempt = 0; attempt < 4; attempt++) {
        if (attempt) usleep(100000u << attempt);
        if (c) PQfinish(c);
        c = PQconnectdb(p->conninfo);
        if (!c || PQstatus(c) == CONNECTION_OK) break;
    }
    if (!c) {
        lm_error_set(err, LM_ENOMEM, "postgres: out of memory connecting");
        return NULL;
    }
    if (PQstatus(c) != CONNECTION_OK) {
        const char *m = PQerrorMessage(c);
        size_t n = strcspn(m, "\n");
        lm_error_set(err, LM_EIO, "postgres: cannot connect: %.*s", (int)n, m);
        PQfinish(c);
        return NULL;
    }
    PQsetClientEncoding(c, "UTF8");
    PGresult *r = PQexec(c, "SET client_min_messages = warning");
    PQclear(r);
    if (p->session_sql && lm__pg_exec(c, p->session_sql, err, NULL) < 0) {
        PQfinish(c);
        return NULL;
    }
    return c;
}

int lm__pg_pool_init(struct lm__pg_pool *p, const char *url, int size, const char *session_sql,
                     struct lm_error *err)
{
    memset(p, 0, sizeof *p);
    p->size = size > 0 ? size : 8;
    p->conninfo = strdup(url);
    if (session_sql && !(p->session_sql = strdup(session_sql))) {
        free(p->conninfo);
        return lm_error_set(err, LM_ENOMEM, "postgres: out of memory");
    }
    p->conns = calloc((size_t)p->size, sizeof *p->conns);
    p->busy = calloc((size_t)p->size, sizeof *p->busy);
    if (!p->conninfo || !p->conns || !p->busy) {
        free(p->conninfo);
        free(p->session_sql);
        free(p->conns);
        free(p->busy);
        memset(p, 0, sizeof *p);
        return lm_error_set(err, LM_ENOMEM, "postgres: out of memory");
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->conns[0] = pg_connect(p, err);
    if (!p->conns[0]) {
        int code = err ? err->code : LM_EIO;
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->cv);
        free(p->session_sql);
        free(p->conninfo);
        free(p->conns);
        free(p->busy);
        memset(p, 0, sizeof *p);
        return code ? code : LM_EIO;
    }
    return 0;
}

void lm__pg_pool_free(struct lm__pg_pool *p)
{
    if (p->conns)
        for (int i = 0; i < p->size; i++)
            if (p->conns[i]) PQfinish(p->conns[i]);
    if (p->conninfo) {
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->cv);
    }
    free(p->conninfo);
    free(p->session_sql);
    free(p->conns);
    free(p->busy);
    memset(p, 0, sizeof *p);
}

PGconn *lm__pg_get(struct lm__pg_pool *p, struct lm_error *err)
{
    pthread_mutex_lock(&p->mu);
    int slot = -1;
    for (;;) {
        /* prefer an open idle connection, then an empty slot */
        for (int i = 0; i < p->size && slot < 0; i++)
            if (!p->busy[i] && p->conns[i]) slot = i;
        for (int i = 0; i < p->size && slot < 0; i++)
            if (!p->busy[i]) slot = i;
        if (slot >= 0) break;
        pthread_cond_wait(&p->cv, &p->mu);
    }
    p->busy[slot] = true;
    PGconn *c = p->conns[slot];
    pthread_mutex_unlock(&p->mu);

    /* connect or repair outside the lock: it may take a while */
    if (c && PQstatus(c) != CONNECTION_OK) {
        PQreset(c);
        if (PQstatus(c) != CONNECTION_OK) {
            PQfinish(c);
            c = NULL;
        }
    }
    if (!c) c = pg_connect(p, err);

    pthread_mutex_lock(&p->mu);
    p->conns[slot] = c;
    if (!c) {
        p->busy[slot] = false;
        pthread_cond_signal(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    return c;
}

void lm__pg_put(struct lm__pg_pool *p, PGconn *c, bool broken)
{
    pthread_mutex_lock(&p->mu);
    for (int i = 0; i < p->size; i++) {
        if (p->conns[i] != c) continue;
        if (broken || PQstatus(c) != CONNECTION_OK ||
            PQtransactionStatus(c) != PQTRANS_IDLE) {
            /* a connection left inside a transaction or broken is not reused as is */
            PQfinish(c);
            p->conns[i] = NULL;
        }
        p->busy[i] = false;
        break;
    }
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

int lm__pg_exec(PGconn *c, const char *sql, struct lm_error *err, bool *broken)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        PQclear(r);
        return 0;
    }
    const char *m = r ? PQresultErrorMessage(r) : PQerrorMessage(c);
    size_t n = strcspn(m, "\n");
    lm_error_set(err, LM_EIO, "postgres: %.*s", (int)n, m);
    if (broken && PQstatus(c) != CONNECTION_OK) *broken = true;
    PQclear(r);
    return LM_EIO;
}
