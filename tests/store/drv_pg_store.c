/* drv_pg_store.c — what only the PostgreSQL store has: the seed's schema after migrations,
 * down/up round trips, the dimension and model checks, all-or-nothing ingestion, Chinese keyword
 * search through trigrams, and ivfflat recall after the automatic rebuild.
 *
 * Needs LM_PG_URL (a PostgreSQL with pgvector, e.g. PGlite from tests/store/pg.test.sh, pointing
 * at an empty database); skips without it. */
#include <libpq-fe.h>
#include <stdint.h>
#include <unistd.h>

#include "lm/store.h"
#include "lm_test.h"

static const char *g_url;

/* One text value from a catalog query (static buffer). */
static const char *q1(const char *sql)
{
    static char out[1024];
    PGconn *c = PQconnectdb(g_url);
    ASSERT(PQstatus(c) == CONNECTION_OK);
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) LM_FAIL_("%s: %s", sql, PQresultErrorMessage(r));
    snprintf(out, sizeof out, "%s", PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
    PQfinish(c);
    usleep(150 * 1000); /* PGlite needs a pause before the next connection */
    return out;
}

static char *migrate(const char *action, int dim)
{
    char *report = NULL;
    struct lm_error err = {0};
    if (lm_store_migrate(g_url, action, dim, &report, &err) < 0) LM_FAIL_("migrate %s: %s", action, err.msg);
    usleep(150 * 1000);
    return report;
}

static struct lm_store *open_store(const char *model, int dim, struct lm_error *err)
{
    struct lm_store_open_params p = {.url = g_url, .model_name = model, .dim = dim, .migrate = true,
                                     .pool_size = 1, .pg_probes = 10, .pg_exact_below = -1};
    struct lm_store *s = NULL;
    if (lm_store_open(&p, &s, err) < 0) return NULL;
    return s;
}

/* The catalog after `up` is exactly the seed's table, column types and index. */
static void check_seed_schema(void)
{
    ASSERT_STR_EQ(q1("SELECT string_agg(column_name || ':' || data_type, ',' ORDER BY ordinal_position) "
                     "FROM information_schema.columns WHERE table_name = 'knowledge_chunks' "
                     "AND column_name IN ('id','source','content','embedding','created_at')"),
                  "id:integer,source:character varying,content:text,embedding:USER-DEFINED,"
                  "created_at:timestamp without time zone");
    ASSERT_STR_EQ(q1("SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                     "WHERE attrelid = 'knowledge_chunks'::regclass AND attname = 'embedding'"),
                  "vector(384)");
    ASSERT_STR_EQ(q1("SELECT attnotnull::text FROM pg_attribute WHERE attrelid = 'knowledge_chunks'::regclass "
                     "AND attname = 'embedding'"),
                  "true");
    const char *idx = q1("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_knowledge_chunks_embedding'");
    ASSERT(strstr(idx, "USING ivfflat (embedding vector_cosine_ops)"));
    ASSERT(strstr(idx, "lists='100'"));
    ASSERT_STR_EQ(q1("SELECT col_description('knowledge_chunks'::regclass, 2)"), "来源标识");
    ASSERT_STR_EQ(q1("SELECT col_description('knowledge_chunks'::regclass, 4)"), "向量表示");
    ASSERT_STR_EQ(q1("SELECT count(*) FROM schema_migrations"), "3");
}

static void test_migrations(void)
{
    char *r = migrate("status", 384);
    ASSERT(strstr(r, "pending 001_seed_knowledge_chunks"));
    free(r);
    r = migrate("up", 384);
    ASSERT(strstr(r, "applied 001_seed_knowledge_chunks"));
    free(r);
    check_seed_schema();
    r = migrate("up", 384);
    ASSERT(strstr(r, "nothing to apply"));
    free(r);
    /* down one step, then up again: same schema */
    r = migrate("down", 384);
    ASSERT(strstr(r, "reverted 003_keyword_search"));
    free(r);
    ASSERT_STR_EQ(q1("SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_knowledge_chunks_tsv'"), "0");
    r = migrate("up", 384);
    free(r);
    check_seed_schema();
    /* all the way down and up */
    for (int i = 0; i < 3; i++) free(migrate("down", 384));
    ASSERT_STR_EQ(q1("SELECT count(*) FROM information_schema.tables WHERE table_name = 'knowledge_chunks'"), "0");
    r = migrate("down", 384);
    ASSERT(strstr(r, "nothing to revert"));
    free(r);
    free(migrate("up", 384));
    check_seed_schema();
    struct lm_error err = {0};
    ASSERT(lm_store_migrate(g_url, "sideways", 384, &r, &err) == LM_EINVAL);
    usleep(150 * 1000);
}

static void test_dimension_mismatch(void)
{
    struct lm_error err = {0};
    struct lm_store *s = open_store("other-model", 768, &err);
    ASSERT(s == NULL);
    ASSERT(strstr(err.msg, "vector(384)"));
    ASSERT(strstr(err.msg, "768"));
    ASSERT(strstr(err.msg, "re-index"));
    usleep(150 * 1000);
}

/* Unit vector with most weight on axis a (clusters), deterministic noise from seed. */
static void vec(float *v, int dim, int a, unsigned seed)
{
    uint32_t x = seed * 2654435761u + 7u;
    double ss = 0;
    for (int i = 0; i < dim; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        v[i] = (float)((double)(x % 1000) / 1000.0 - 0.5) * 0.6f + (i == a % dim ? 3.0f : 0.0f);
        ss += (double)v[i] * v[i];
    }
    for (int i = 0; i < dim; i++) v[i] = (float)(v[i] / sqrt(ss));
}

static void test_ingest_search_delete(void)
{
    struct lm_error err = {0};
    struct lm_store *s = open_store("minilm", 384, &err);
    if (!s) LM_FAIL_("open: %s", err.msg);
    float v[3][384];
    for (int i = 0; i < 3; i++) vec(v[i], 384, i * 7, (unsigned)i + 1);
    struct lm_chunk_in zh[] = {{"检索增强生成把文档切分成块，再用向量检索相关的块。", v[0]},
                               {"知识库保存在 PostgreSQL 和 pgvector 中。", v[1]}};
    struct lm_chunk_in en[] = {{"The ivfflat index uses the cosine operator class.", v[2]}};
    int64_t id1 = 0, id2 = 0, dup = -1;
    ASSERT_OK(lm_store_add_document(s, "zh.md", "hash-zh", zh, 2, &id1, &dup, &err));
    ASSERT_EQ(dup, 0);
    ASSERT_OK(lm_store_add_document(s, "en.txt", "hash-en", en, 1, &id2, &dup, &err));
    int64_t again = 0;
    ASSERT_OK(lm_store_add_document(s, "zh-copy.md", "hash-zh", zh, 2, &again, &dup, &err));
    ASSERT_EQ(again, id1);
    ASSERT_EQ(dup, id1);

    /* all or nothing: invalid UTF-8 in the second chunk is refused by the server, and the
     * document with its first chunk is rolled back */
    struct lm_chunk_in bad[] = {{"a fine first chunk", v[0]}, {"broken \xff\xfe bytes", v[1]}};
    int64_t bad_id = 0;
    ASSERT(lm_store_add_document(s, "bad.txt", "hash-bad", bad, 2, &bad_id, NULL, &err) < 0);
    struct lm_store_counts c;
    ASSERT_OK(lm_store_counts(s, &c, &err));
    ASSERT_EQ(c.documents, 2);
    ASSERT_EQ(c.chunks, 3);

    struct lm_hit *h = NULL;
    size_t n = 0;
    ASSERT_OK(lm_store_search_vector(s, v[2], 2, &h, &n, &err));
    ASSERT(n >= 1);
    ASSERT_STR_EQ(h[0].source, "en.txt");
    ASSERT_EQ(h[0].document_id, id2);
    ASSERT_NEAR(h[0].score, 1.0, 1e-4);
    lm_store_free_hits(h, n);

    /* Chinese has no spaces: found through trigrams */
    ASSERT_OK(lm_store_search_keyword(s, "向量检索", 3, &h, &n, &err));
    ASSERT(n >= 1);
    ASSERT_STR_EQ(h[0].source, "zh.md");
    lm_store_free_hits(h, n);
    ASSERT_OK(lm_store_search_keyword(s, "cosine operator", 3, &h, &n, &err));
    ASSERT(n >= 1);
    ASSERT_STR_EQ(h[0].source, "en.txt");
    lm_store_free_hits(h, n);
    /* SQL metacharacters are data */
    ASSERT_OK(lm_store_search_keyword(s, "'; DROP TABLE knowledge_chunks; --", 3, &h, &n, &err));
    lm_store_free_hits(h, n);

    struct lm_doc_info *d = NULL;
    ASSERT_OK(lm_store_list_documents(s, &d, &n, &err));
    ASSERT_EQ(n, 2);
    ASSERT(d[0].created_at > 1700000000);
    lm_store_free_docs(d, n);

    ASSERT_OK(lm_store_delete_document(s, id1, &err));
    ASSERT_EQ(lm_store_delete_document(s, id1, &err), LM_ENOENT);
    ASSERT_OK(lm_store_counts(s, &c, &err));
    ASSERT_EQ(c.documents, 1);
    ASSERT_EQ(c.chunks, 1);
    ASSERT_OK(lm_store_delete_document(s, id2, &err));
    ASSERT_OK(lm_store_ping(s, &err));
    lm_store_close(s);
    usleep(150 * 1000);

    /* another model over an empty table is fine; over chunks it is refused */
    s = open_store("another-384d-model", 384, &err);
    if (!s) LM_FAIL_("reopen: %s", err.msg);
    ASSERT_OK(lm_store_add_document(s, "x", "hash-x", en, 1, &id2, NULL, &err));
    lm_store_close(s);
    usleep(150 * 1000);
    s = open_store("minilm", 384, &err);
    ASSERT(s == NULL);
    ASSERT(strstr(err.msg, "another-384d-model"));
    usleep(150 * 1000);
    s = open_store("another-384d-model", 384, &err);
    ASSERT(s);
    ASSERT_OK(lm_store_delete_document(s, id2, &err));
    lm_store_close(s);
    usleep(150 * 1000);
}

/* The seed builds ivfflat on an empty table; after the automatic rebuild recall is high. */
static void test_ivfflat_recall(void)
{
    enum { N = 1200, DIM = 384, Q = 20, K = 10 };
    struct lm_error err = {0};
    struct lm_store *s = open_store("another-384d-model", DIM, &err);
    if (!s) LM_FAIL_("open: %s", err.msg);
    float *all = malloc(sizeof(float) * N * DIM);
    struct lm_chunk_in *ch = malloc(sizeof *ch * 200);
    char (*texts)[32] = malloc(32 * 200);
    for (int i = 0; i < N; i++) vec(all + (size_t)i * DIM, DIM, i % 48, (unsigned)i + 100);
    for (int d = 0; d < N / 200; d++) {
        for (int j = 0; j < 200; j++) {
            snprintf(texts[j], 32, "chunk %d", d * 200 + j);
            ch[j].content = texts[j];
            ch[j].embedding = all + (size_t)(d * 200 + j) * DIM;
        }
        char src[32], hash[32];
        snprintf(src, sizeof src, "doc%d", d);
        snprintf(hash, sizeof hash, "h%d", d);
        int64_t id;
        ASSERT_OK(lm_store_add_document(s, src, hash, ch, 200, &id, NULL, &err));
    }
    /* PGlite serves one connection: look at the catalog between two opens */
    lm_store_close(s);
    usleep(150 * 1000);
    ASSERT(atoi(q1("SELECT value FROM ragd_meta WHERE key = 'ivfflat_rows_at_build'")) >= 1000);
    s = open_store("another-384d-model", DIM, &err);
    if (!s) LM_FAIL_("reopen: %s", err.msg);
    double hits = 0;
    for (int q = 0; q < Q; q++) {
        float qv[DIM];
        vec(qv, DIM, (q * 5) % 48, 90000u + (unsigned)q);
        /* exact answer */
        double best[K];
        int best_i[K];
        for (int k = 0; k < K; k++) best[k] = -2, best_i[k] = -1;
        for (int i = 0; i < N; i++) {
            double dot = 0;
            for (int j = 0; j < DIM; j++) dot += (double)qv[j] * all[(size_t)i * DIM + j];
            for (int k = 0; k < K; k++)
                if (dot > best[k]) {
                    for (int m = K - 1; m > k; m--) best[m] = best[m - 1], best_i[m] = best_i[m - 1];
                    best[k] = dot, best_i[k] = i;
                    break;
                }
        }
        struct lm_hit *h;
        size_t n;
        ASSERT_OK(lm_store_search_vector(s, qv, K, &h, &n, &err));
        for (size_t a = 0; a < n; a++) {
            int idx = atoi(h[a].content + 6);
            for (int k = 0; k < K; k++) hits += best_i[k] == idx;
        }
        lm_store_free_hits(h, n);
    }
    double recall = hits / (Q * K);
    fprintf(stderr, "ivfflat recall@10 (probes 10, %d rows): %.3f\n", N, recall);
    ASSERT(recall >= 0.9);
    bool rebuilt = false;
    ASSERT_OK(lm_store_reindex(s, true, &rebuilt, &err));
    ASSERT(rebuilt);
    lm_store_close(s);
    free(all);
    free(ch);
    free(texts);
}

int main(void)
{
    g_url = getenv("LM_PG_URL");
    if (!g_url || !*g_url) {
        printf("SKIP: LM_PG_URL not set (tests/store/pg.test.sh sets it)\n");
        return 77;
    }
    RUN_TEST(test_migrations);
    RUN_TEST(test_dimension_mismatch);
    RUN_TEST(test_ingest_search_delete);
    RUN_TEST(test_ivfflat_recall);
    return 0;
}
