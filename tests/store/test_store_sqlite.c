/* test_store_sqlite.c — what is specific to the embedded store: SIGKILL in the middle of a
 * large ingest leaves no partial document; a second handle (another process in real life) sees
 * changes made through the first; URL forms; the file is a valid SQLite database in WAL mode. */
#include <signal.h>
#include <stdbool.h>
#include <sqlite3.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lm/store.h"
#include "lm_test.h"

#define DIM 64

static char g_path[4096], g_url[4200];

static struct lm_store *open_store(void)
{
    struct lm_store_open_params p = {.url = g_url, .model_name = "crash-model", .dim = DIM};
    struct lm_store *s = NULL;
    struct lm_error err = {0};
    if (lm_store_open(&p, &s, &err) < 0) LM_FAIL_("open %s: %s", g_url, err.msg);
    return s;
}

/* Adds a document of n chunks; vectors are cheap deterministic values. */
static int add_big(struct lm_store *s, const char *hash, size_t n)
{
    float *vec = malloc(n * DIM * sizeof(float));
    struct lm_chunk_in *ch = malloc(n * sizeof *ch);
    if (!vec || !ch) return -1;
    static const char text[] = "a fairly long chunk of text that makes the transaction big enough to take a while "
                               "to write, so that the parent kills the child in the middle of it.";
    for (size_t i = 0; i < n; i++) {
        for (int j = 0; j < DIM; j++) vec[i * DIM + (size_t)j] = (float)((i * 31 + (size_t)j * 7) % 97) - 48.0f;
        ch[i].content = text;
        ch[i].embedding = vec + i * DIM;
    }
    int64_t id = 0;
    struct lm_error err = {0};
    int rc = lm_store_add_document(s, hash, hash, ch, n, &id, NULL, &err);
    if (rc < 0) fprintf(stderr, "add %s: %s\n", hash, err.msg);
    free(vec);
    free(ch);
    return rc;
}

/* Raw SQLite view of the file: integrity and cross-table consistency. */
static void check_file_consistent(int64_t *docs, int64_t *chunks)
{
    sqlite3 *db = NULL;
    ASSERT_EQ(sqlite3_open_v2(g_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    ASSERT_STR_EQ((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    /* every document has exactly n_chunks chunks, no chunk without a document, FTS in step */
    ASSERT_EQ(sqlite3_prepare_v2(db,
                                 "SELECT (SELECT count(*) FROM documents d WHERE n_chunks !="
                                 " (SELECT count(*) FROM chunks c WHERE c.document_id = d.id)),"
                                 " (SELECT count(*) FROM chunks WHERE document_id NOT IN (SELECT id FROM documents)),"
                                 " (SELECT count(*) FROM documents), (SELECT count(*) FROM chunks)",
                                 -1, &st, NULL),
              SQLITE_OK);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    ASSERT_EQ(sqlite3_column_int64(st, 0), 0);
    ASSERT_EQ(sqlite3_column_int64(st, 1), 0);
    *docs = sqlite3_column_int64(st, 2);
    *chunks = sqlite3_column_int64(st, 3);
    sqlite3_finalize(st);
    ASSERT_EQ(sqlite3_prepare_v2(db, "INSERT INTO chunks_fts(chunks_fts, rank) VALUES ('integrity-check', 1)", -1,
                                 &st, NULL),
              SQLITE_OK);
    sqlite3_finalize(st); /* read-only handle: just make sure the table is there */
    ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    ASSERT_STR_EQ((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Forks a child that opens the store and ingests one big document; returns its pid once it is
 * about to start the transaction. */
static pid_t spawn_ingester(const char *hash, size_t n_chunks)
{
    int pfd[2];
    ASSERT_EQ(pipe(pfd), 0);
    pid_t pid = fork();
    ASSERT(pid >= 0);
    if (pid == 0) {
        close(pfd[0]);
        struct lm_store *cs = open_store();
        if (write(pfd[1], "x", 1) != 1) _exit(3);
        int rc = add_big(cs, hash, n_chunks);
        lm_store_close(cs);
        _exit(rc < 0 ? 2 : 0);
    }
    close(pfd[1]);
    char c;
    ASSERT_EQ(read(pfd[0], &c, 1), 1);
    close(pfd[0]);
    return pid;
}

/* A child ingests a big document; the parent SIGKILLs it at 20%, 50% and 80% of the time a full
 * ingest took (measured first), so the kill lands inside the transaction. */
static void test_sigkill_mid_ingest(void)
{
    enum { BIG = 3000 };
    struct lm_store *s = open_store();
    ASSERT_OK(add_big(s, "small-1", 3));
    lm_store_close(s);
    double t0 = now_s();
    pid_t pid = spawn_ingester("big-complete", BIG);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    double full = now_s() - t0;
    int64_t docs, chunks;
    check_file_consistent(&docs, &chunks);
    ASSERT_EQ(docs, 2);
    ASSERT_EQ(chunks, 3 + BIG);
    fprintf(stderr, "a full ingest of %d chunks took %.2f s\n", BIG, full);
    int killed_mid = 0;
    static const double FRACTION[] = {0.2, 0.5, 0.8};
    for (int round = 0; round < 3; round++) {
        char hash[32];
        snprintf(hash, sizeof hash, "big-%d", round);
        pid = spawn_ingester(hash, BIG);
        struct timespec ts = {0, 0};
        double wait = full * FRACTION[round];
        ts.tv_sec = (time_t)wait;
        ts.tv_nsec = (long)((wait - (double)ts.tv_sec) * 1e9);
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        bool killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
        killed_mid += killed;
        check_file_consistent(&docs, &chunks);
        fprintf(stderr, "round %d: %s, file has %lld docs / %lld chunks\n", round, killed ? "killed" : "finished",
                (long long)docs, (long long)chunks);
        if (killed) {
            ASSERT_EQ(docs, 2);
            ASSERT_EQ(chunks, 3 + BIG);
        } else { /* finished first (slow machine): then the document is whole */
            ASSERT_EQ(chunks - 3 - BIG, BIG * (docs - 2));
        }
    }
    ASSERT(killed_mid > 0); /* otherwise the test proved nothing */
    /* reopen through the store: readable, counts agree with the list, ingestion works again */
    s = open_store();
    struct lm_store_counts cnt;
    ASSERT_OK(lm_store_counts(s, &cnt, NULL));
    ASSERT_EQ(cnt.documents, docs);
    ASSERT_EQ(cnt.chunks, chunks);
    struct lm_doc_info *list = NULL;
    size_t nl = 0;
    ASSERT_OK(lm_store_list_documents(s, &list, &nl, NULL));
    int64_t sum = 0;
    for (size_t i = 0; i < nl; i++) sum += list[i].n_chunks;
    ASSERT_EQ(sum, cnt.chunks);
    lm_store_free_docs(list, nl);
    float q[DIM] = {1};
    struct lm_hit *hits = NULL;
    size_t n = 0;
    ASSERT_OK(lm_store_search_vector(s, q, 10, &hits, &n, NULL));
    ASSERT_EQ(n, 10);
    lm_store_free_hits(hits, n);
    ASSERT_OK(add_big(s, "small-2", 5));
    ASSERT_OK(lm_store_counts(s, &cnt, NULL));
    ASSERT_EQ(cnt.documents, docs + 1);
    ASSERT_EQ(cnt.chunks, chunks + 5);
    lm_store_close(s);
}

/* Two handles on one file (another process in real life): changes through one are seen by
 * the other's vector search, which reloads its matrix. */
static void test_second_handle_sees_changes(void)
{
    struct lm_store *a = open_store(), *b = open_store();
    float u[DIM] = {0};
    u[DIM - 1] = 1, u[DIM - 2] = -1;
    struct lm_hit *hits = NULL;
    size_t n = 0;
    ASSERT_OK(lm_store_search_vector(b, u, 1, &hits, &n, NULL)); /* b's matrix is loaded now */
    ASSERT_EQ(n, 1);
    ASSERT(hits[0].score < 0.99);
    lm_store_free_hits(hits, n);
    struct lm_chunk_in ch = {"unique chunk added through a", u};
    int64_t id = 0;
    ASSERT_OK(lm_store_add_document(a, "via-a", "via-a", &ch, 1, &id, NULL, NULL));
    ASSERT_OK(lm_store_search_vector(b, u, 1, &hits, &n, NULL));
    ASSERT_EQ(n, 1);
    ASSERT_STR_EQ(hits[0].content, "unique chunk added through a");
    ASSERT_NEAR(hits[0].score, 1.0, 1e-9);
    lm_store_free_hits(hits, n);
    ASSERT_OK(lm_store_delete_document(b, id, NULL));
    ASSERT_OK(lm_store_search_vector(a, u, 1, &hits, &n, NULL));
    ASSERT_EQ(n, 1);
    ASSERT(hits[0].document_id != id);
    lm_store_free_hits(hits, n);
    lm_store_close(a);
    lm_store_close(b);
}

static void test_urls(void)
{
    struct lm_error err = {0};
    struct lm_store *s = NULL;
    struct lm_store_open_params p = {.url = "sqlite::memory:", .model_name = "m", .dim = 4};
    ASSERT_OK(lm_store_open(&p, &s, &err));
    ASSERT_STR_EQ(lm_store_kind(s), "sqlite");
    float v[4] = {0, 1, 0, 0};
    struct lm_chunk_in ch = {"memory chunk", v};
    int64_t id;
    ASSERT_OK(lm_store_add_document(s, "m", NULL, &ch, 1, &id, NULL, &err));
    ASSERT_OK(lm_store_add_document(s, "m", NULL, &ch, 1, &id, NULL, &err)); /* no hash: no dedup */
    struct lm_store_counts c;
    ASSERT_OK(lm_store_counts(s, &c, NULL));
    ASSERT_EQ(c.documents, 2);
    lm_store_close(s);
    /* sqlite:// form, nested folders created */
    char url[4300];
    snprintf(url, sizeof url, "sqlite://%.4000s", lm_test_tmp("a/b/c/x.db"));
    p.url = url;
    ASSERT_OK(lm_store_open(&p, &s, &err));
    lm_store_close(s);
    ASSERT_EQ(access(lm_test_tmp("a/b/c/x.db"), F_OK), 0);
    p.url = "mysql://x";
    ASSERT_EQ(lm_store_open(&p, &s, &err), LM_EINVAL);
    p.url = "sqlite:";
    ASSERT_EQ(lm_store_open(&p, &s, &err), LM_EINVAL);
    p.url = "sqlite::memory:";
    p.dim = 0;
    ASSERT_EQ(lm_store_open(&p, &s, &err), LM_EINVAL); /* a new store needs a dimension */
    /* a tool that opens without a model name (ragd reindex) records none; the first real open does */
    char murl[4300];
    snprintf(murl, sizeof murl, "sqlite:%.4000s", lm_test_tmp("nomodel.db"));
    struct lm_store_open_params np = {.url = murl, .dim = 4};
    ASSERT_OK(lm_store_open(&np, &s, &err));
    lm_store_close(s);
    np.model_name = "real-model";
    ASSERT_OK(lm_store_open(&np, &s, &err));
    lm_store_close(s);
    np.model_name = "other-model";
    ASSERT_EQ(lm_store_open(&np, &s, &err), LM_EINVAL);
    np.model_name = NULL;
    ASSERT_OK(lm_store_open(&np, &s, &err)); /* no name: no check */
    lm_store_close(s);
    char *report = NULL;
    ASSERT_OK(lm_store_migrate("sqlite:x.db", "status", 4, &report, &err));
    ASSERT(report && strstr(report, "sqlite"));
    free(report);
}

int main(void)
{
    snprintf(g_path, sizeof g_path, "%s", lm_test_tmp("crash/store.db"));
    snprintf(g_url, sizeof g_url, "sqlite:%s", g_path);
    RUN_TEST(test_urls);
    RUN_TEST(test_sigkill_mid_ingest);
    RUN_TEST(test_second_handle_sees_changes);
    fprintf(stderr, "ok\n");
    return 0;
}
