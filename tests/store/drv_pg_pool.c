/* drv_pg_pool.c — the PostgreSQL connection pool on Debian's PostgreSQL 15 (no pgvector
 * needed): concurrent users share a bounded pool, a server restart costs no more than the
 * statement in flight, and the migration bookkeeping refuses cleanly where pgvector is missing
 * (all or nothing: no half-applied migration is recorded).
 *
 * Driven by tests/store/pg15.test.sh, which starts the server and sets LM_PG15_URL and
 * LM_PG15_RESTART (a command that restarts the server). */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "lm_test.h"
#include "lm/store.h"
#include "store/pg.h"

static const char *g_url;

struct worker {
    struct lm__pg_pool *pool;
    int ok;
};

/* Each worker takes a connection, runs a query that holds it a moment, and returns it. */
static void *worker_main(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < 10; i++) {
        struct lm_error err = {0};
        PGconn *c = lm__pg_get(w->pool, &err);
        if (!c) continue;
        if (lm__pg_exec(c, "SELECT pg_sleep(0.01)", &err, NULL) == 0) w->ok++;
        lm__pg_put(w->pool, c, false);
    }
    return NULL;
}

static void test_concurrent_pool(void)
{
    struct lm__pg_pool pool;
    struct lm_error err = {0};
    if (lm__pg_pool_init(&pool, g_url, 3, "SET application_name = 'ragd-test'", &err) < 0) LM_FAIL_("%s", err.msg);
    pthread_t t[8];
    struct worker w[8];
    for (int i = 0; i < 8; i++) {
        w[i] = (struct worker){&pool, 0};
        pthread_create(&t[i], NULL, worker_main, &w[i]);
    }
    int total = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        total += w[i].ok;
    }
    ASSERT_EQ(total, 80);
    /* never more than 3 connections were opened */
    PGconn *c = lm__pg_get(&pool, &err);
    ASSERT(c);
    PGresult *r = PQexec(c, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'ragd-test'");
    ASSERT(PQresultStatus(r) == PGRES_TUPLES_OK);
    ASSERT(atoi(PQgetvalue(r, 0, 0)) <= 3);
    PQclear(r);
    lm__pg_put(&pool, c, false);
    lm__pg_pool_free(&pool);
}

static void test_reconnect_after_restart(void)
{
    struct lm__pg_pool pool;
    struct lm_error err = {0};
    if (lm__pg_pool_init(&pool, g_url, 2, NULL, &err) < 0) LM_FAIL_("%s", err.msg);
    PGconn *c = lm__pg_get(&pool, &err);
    ASSERT(c);
    ASSERT_OK(lm__pg_exec(c, "CREATE TABLE IF NOT EXISTS restart_probe (x int)", &err, NULL));
    lm__pg_put(&pool, c, false);

    ASSERT_EQ(system(getenv("LM_PG15_RESTART")), 0);

    /* the pooled connection is dead; the first statement on it fails and marks it broken... */
    c = lm__pg_get(&pool, &err);
    ASSERT(c);
    bool broken = false;
    int rc = lm__pg_exec(c, "INSERT INTO restart_probe VALUES (1)", &err, &broken);
    lm__pg_put(&pool, c, broken || rc < 0);
    /* ...and the next one gets a fresh connection */
    c = lm__pg_get(&pool, &err);
    if (!c) LM_FAIL_("no connection after restart: %s", err.msg);
    ASSERT_OK(lm__pg_exec(c, "INSERT INTO restart_probe VALUES (2)", &err, NULL));
    lm__pg_put(&pool, c, false);
    lm__pg_pool_free(&pool);
}

static void test_migration_without_pgvector(void)
{
    /* Debian's PostgreSQL has no pgvector: migration 001 fails as a whole, nothing recorded */
    char *report = NULL;
    struct lm_error err = {0};
    ASSERT(lm_store_migrate(g_url, "up", 384, &report, &err) < 0);
    ASSERT(strstr(err.msg, "001_seed_knowledge_chunks"));
    ASSERT(strstr(err.msg, "vector"));
    ASSERT(report == NULL);
    ASSERT_OK(lm_store_migrate(g_url, "status", 384, &report, &err));
    ASSERT(strstr(report, "pending 001_seed_knowledge_chunks"));
    free(report);
    struct lm__pg_pool pool;
    ASSERT_OK(lm__pg_pool_init(&pool, g_url, 1, NULL, &err));
    PGconn *c = lm__pg_get(&pool, &err);
    PGresult *r = PQexec(c, "SELECT count(*) FROM schema_migrations");
    ASSERT_STR_EQ(PQgetvalue(r, 0, 0), "0");
    PQclear(r);
    r = PQexec(c, "SELECT to_regclass('knowledge_chunks') IS NULL");
    ASSERT_STR_EQ(PQgetvalue(r, 0, 0), "t");
    PQclear(r);
    lm__pg_put(&pool, c, false);
    lm__pg_pool_free(&pool);
    /* a store cannot be opened there, with a message that says why */
    struct lm_store *s = NULL;
    struct lm_store_open_params p = {.url = g_url, .model_name = "m", .dim = 384, .migrate = true};
    ASSERT(lm_store_open(&p, &s, &err) < 0);
    ASSERT(s == NULL);
    ASSERT(strstr(err.msg, "vector"));
}

int main(void)
{
    g_url = getenv("LM_PG15_URL");
    if (!g_url || !getenv("LM_PG15_RESTART")) {
        printf("SKIP: LM_PG15_URL/LM_PG15_RESTART not set (tests/store/pg15.test.sh sets them)\n");
        return 77;
    }
    RUN_TEST(test_concurrent_pool);
    RUN_TEST(test_reconnect_after_restart);
    RUN_TEST(test_migration_without_pgvector);
    return 0;
}
