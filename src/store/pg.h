/* pg.h — private: the PostgreSQL + pgvector store (pg_pool.c, pg_migrate.c, pg_store.c).
 *
 * A small pool of libpq connections (reconnecting after a server restart), migrations compiled
 * into the binary (pg_migrations_data.c, generated from src/store/migrations/ by
 * tools/embed-sql.sh), and the store operations of store_impl.h over parameterised statements.
 */
#ifndef LM_STORE_PG_H
#define LM_STORE_PG_H

#include <libpq-fe.h>
#include <pthread.h>
#include <stdbool.h>

#include "lm/buf.h"
#include "store/store_impl.h"

struct lm__pg_migration {
    int version;
    const char *name;
    const char *up;     /* SQL; {{DIM}} is replaced by the embedding dimension */
    const char *down;
};
extern const struct lm__pg_migration lm__pg_migrations[];
extern const int lm__pg_n_migrations;

struct lm__pg_pool {
    char *conninfo;
    int size;
    PGconn **conns;          /* NULL entries are opened lazily */
    bool *busy;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char *session_sql;       /* run on every new connection (search settings), or NULL */
};

/* Pool of up to size connections to url (postgres://...). Connects once to check. session_sql
 * (copied; may be NULL) runs on every new connection. */
int lm__pg_pool_init(struct lm__pg_pool *p, const char *url, int size, const char *session_sql,
                     struct lm_error *err);
void lm__pg_pool_free(struct lm__pg_pool *p);
/* Takes a live connection (waits while all are busy; reconnects a broken one). */
PGconn *lm__pg_get(struct lm__pg_pool *p, struct lm_error *err);
/* Returns a connection; broken = true drops it so the next get reconnects. */
void lm__pg_put(struct lm__pg_pool *p, PGconn *c, bool broken);

/* Runs a statement without results (or with results discarded); 0 or LM_EIO with the server's
 * message in err. Sets *broken when the connection itself failed. */
int lm__pg_exec(PGconn *c, const char *sql, struct lm_error *err, bool *broken);

/* Migrations on an open connection. action: "up", "down", "status". report (may be NULL)
 * receives a readable account, one line per migration. */
int lm__pg_migrate_conn(PGconn *c, const char *action, int dim, struct lm_buf *report, struct lm_error *err);

#endif
