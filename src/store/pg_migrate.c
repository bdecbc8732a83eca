/* pg_migrate.c — SQL migrations compiled into the binary, applied in order, each inside its own
 * transaction, tracked in schema_migrations. An advisory lock keeps two ragd processes starting
 * at once from applying the same migration twice. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/pg.h"

#define MIGRATION_LOCK_KEY 7264823401LL /* arbitrary, constant: "ragd migrations" */

/* Copies sql with every {{DIM}} replaced by dim. Caller frees. */
static char *subst_dim(const char *sql, int dim)
{
    struct lm_buf b = {0};
    char num[16];
    snprintf(num, sizeof num, "%d", dim);
    for (const char *p = sql; *p;) {
        const char *q = strstr(p, "{{DIM}}");
        if (!q) {
            if (lm_buf_append_str(&b, p) < 0) goto oom;
            break;
        }
        if (lm_buf_append(&b, p, (size_t)(q - p)) < 0 || lm_buf_append_str(&b, num) < 0) goto oom;
        p = q + 7;
    }
    return lm_buf_take(&b);
oom:
    lm_buf_free(&b);
    return NULL;
}

/* Versions already applied, as a bitmap over migration indexes (applied[i] for migration i). */
static int read_applied(PGconn *c, bool *applied, struct lm_error *err)
{
    if (lm__pg_exec(c,
                    "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    " version INTEGER PRIMARY KEY,"
                    " name TEXT NOT NULL,"
                    " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
                    err, NULL) < 0)
        return LM_EIO;
    PGresult *r = PQexec(c, "SELECT version FROM schema_migrations ORDER BY version");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        lm_error_set(err, LM_EIO, "postgres: reading schema_migrations: %s", PQresultErrorMessage(r));
        PQclear(r);
        return LM_EIO;
    }
    for (int i = 0; i < lm__pg_n_migrations; i++) applied[i] = false;
    for (int row = 0; row < PQntuples(r); row++) {
        int v = atoi(PQgetvalue(r, row, 0));
        for (int i = 0; i < lm__pg_n_migrations; i++)
            if (lm__pg_migrations[i].version == v) applied[i] = true;
    }
    PQclear(r);
    return 0;
}

/* Applies (up) or reverts (down) migration i in one transaction. */
static int run_one(PGconn *c, int i, bool up, int dim, struct lm_error *err)
{
    const struct lm__pg_migration *m = &lm__pg_migrations[i];
    char *sql = subst_dim(up ? m->up : m->down, dim);
    if (!sql) return lm_error_set(err, LM_ENOMEM, "postgres: out of memory");
    char lock[96], ver[16];
    snprintf(lock, sizeof lock, "SELECT pg_advisory_xact_lock(%lld)", MIGRATION_LOCK_KEY);
    snprintf(ver, sizeof ver, "%d", m->version);
    int rc = lm__pg_exec(c, "BEGIN", err, NULL);
    if (rc == 0) rc = lm__pg_exec(c, lock, err, NULL);
    if (rc == 0) {
        /* another process may have applied it while we waited for the lock */
        const char *params[1] = {ver};
        PGresult *r = PQexecParams(c, "SELECT 1 FROM schema_migrations WHERE version = $1::int", 1, NULL,
                                   params, NULL, NULL, 0);
        bool present = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0;
        PQclear(r);
        if (present == up) {
            free(sql);
            return lm__pg_exec(c, "COMMIT", err, NULL);
        }
    }
    if (rc == 0) {
        rc = lm__pg_exec(c, sql, err, NULL);
        if (rc < 0) {
            char tmp[LM_ERROR_MSG_MAX];
            snprintf(tmp, sizeof tmp, "migration %03d_%s %s", m->version, m->name, up ? "up" : "down");
            lm_error_prefix(err, tmp);
        }
    }
    if (rc == 0) {
        const char *params[2] = {ver, m->name};
        PGresult *r = up ? PQexecParams(c, "INSERT INTO schema_migrations (version, name) VALUES ($1::int, $2)", 2,
                                        NULL, params, NULL, NULL, 0)
                         : PQexecParams(c, "DELETE FROM schema_migrations WHERE version = $1::int", 1, NULL, params,
                                        NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            rc = lm_error_set(err, LM_EIO, "postgres: recording migration %d: %s", m->version,
                              PQresultErrorMessage(r));
        PQclear(r);
    }
    if (rc == 0) rc = lm__pg_exec(c, "COMMIT", err, NULL);
    if (rc < 0) {
        PGresult *r = PQexec(c, "ROLLBACK");
        PQclear(r);
    }
    free(sql);
    return rc;
}

int lm__pg_migrate_conn(PGconn *c, const char *action, int dim, struct lm_buf *report, struct lm_error *err)
{
    bool applied[64];
    if (lm__pg_n_migrations > 64) return lm_error_set(err, LM_ERANGE, "too many migrations");
    if (dim <= 0 || dim > 16000) return lm_error_set(err, LM_EINVAL, "postgres: embedding dimension %d out of range", dim);
    int rc = read_applied(c, applied, err);
    if (rc < 0) return rc;

    if (!strcmp(action, "status")) {
        for (int i = 0; i < lm__pg_n_migrations && report; i++)
            lm_buf_printf(report, "%s %03d_%s\n", applied[i] ? "applied" : "pending", lm__pg_migrations[i].version,
                          lm__pg_migrations[i].name);
        return 0;
    }
    if (!strcmp(action, "up")) {
        for (int i = 0; i < lm__pg_n_migrations; i++) {
            if (applied[i]) continue;
            rc = run_one(c, i, true, dim, err);
            if (rc < 0) return rc;
            if (report) lm_buf_printf(report, "applied %03d_%s\n", lm__pg_migrations[i].version, lm__pg_migrations[i].name);
        }
        if (report && report->len == 0) lm_buf_append_str(report, "nothing to apply\n");
        return 0;
    }
    if (!strcmp(action, "down")) {
        for (int i = lm__pg_n_migrations - 1; i >= 0; i--) {
            if (!applied[i]) continue;
            rc = run_one(c, i, false, dim, err);
            if (rc < 0) return rc;
            if (report) lm_buf_printf(report, "reverted %03d_%s\n", lm__pg_migrations[i].version, lm__pg_migrations[i].name);
            return 0;
        }
        if (report) lm_buf_append_str(report, "nothing to revert\n");
        return 0;
    }
    return lm_error_set(err, LM_EINVAL, "migrate: unknown action \"%s\" (up, down, status)", action);
}

/* ragd migrate up|down|status against a postgres:// URL. */
int lm__store_pg_migrate(const char *url, const char *action, int dim, char **report, struct lm_error *err)
{
    if (report) *report = NULL;
    struct lm__pg_pool pool;
    int rc = lm__pg_pool_init(&pool, url, 1, NULL, err);
    if (rc < 0) return rc;
    PGconn *c = lm__pg_get(&pool, err);
    if (!c) {
        lm__pg_pool_free(&pool);
        return LM_EIO;
    }
    struct lm_buf out = {0};
    rc = lm__pg_migrate_conn(c, action, dim, &out, err);
    lm__pg_put(&pool, c, false);
    lm__pg_pool_free(&pool);
    if (report && rc == 0) *report = lm_buf_take(&out);
    lm_buf_free(&out);
    return rc;
}
