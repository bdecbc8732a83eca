/* test_store_suite.c — the store contract, run against any store URL.
 *
 * LM_STORE_URL selects the store (e.g. postgres://127.0.0.1:5433/test); the default is a fresh
 * SQLite file in LM_TMP. A Postgres run should point at an empty database: the suite checks
 * exact counts. Everything here must behave the same on every store.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "lm/store.h"
#include "lm_test.h"

#define DIM 16

static char g_url[4096];

/* Deterministic pseudo-random unit vector for a seed. */
static void unit_vec(float *v, unsigned seed)
{
    uint32_t x = seed * 2654435761u + 12345u;
    double ss = 0;
    for (int i = 0; i < DIM; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        v[i] = (float)((double)(x & 0xffff) / 65536.0 - 0.5);
        ss += (double)v[i] * v[i];
    }
    for (int i = 0; i < DIM; i++) v[i] = (float)(v[i] / sqrt(ss));
}

static struct lm_store *open_store(const char *model, int dim)
{
    struct lm_store_open_params p = {.url = g_url, .model_name = model, .dim = dim, .migrate = true};
    struct lm_store *s = NULL;
    struct lm_error err = {0};
    int rc = lm_store_open(&p, &s, &err);
    if (rc < 0) LM_FAIL_("open %s: %s", g_url, err.msg);
    return s;
}

/* Adds a document whose chunk i has vector unit_vec(seed0 + i). */
static int64_t add_doc(struct lm_store *s, const char *source, const char *hash, const char *const *texts,
                       size_t n, unsigned seed0, int64_t *dup)
{
    float vecs[64][DIM];
    struct lm_chunk_in ch[64];
    ASSERT(n <= 64);
    for (size_t i = 0; i < n; i++) {
        unit_vec(vecs[i], seed0 + (unsigned)i);
        ch[i].content = texts[i];
        ch[i].embedding = vecs[i];
    }
    int64_t id = 0;
    struct lm_error err = {0};
    int rc = lm_store_add_document(s, source, hash, ch, n, &id, dup, &err);
    if (rc < 0) LM_FAIL_("add %s: %s", source, err.msg);
    ASSERT(id > 0);
    return id;
}

static void expect_counts(struct lm_store *s, int64_t docs, int64_t chunks)
{
    struct lm_store_counts c;
    ASSERT_OK(lm_store_counts(s, &c, NULL));
    ASSERT_EQ(c.documents, docs);
    ASSERT_EQ(c.chunks, chunks);
}

static const char *EN[] = {
    "The X-200 router costs 149 dollars and ships in March.",
    "Our return policy allows refunds within 30 days of purchase.",
    "Support is open Monday to Friday, nine to five.",
};
static const char *ZH[] = {
    "退货政策：购买后三十天内可以全额退款。",
    "客服时间为周一至周五，上午九点到下午五点。",
    "我家的猫狗都喜欢在院子里晒太阳。",
};

static int64_t g_en, g_zh;

static void test_open_empty(void)
{
    struct lm_store *s = open_store("test-model", DIM);
    expect_counts(s, 0, 0);
    ASSERT_OK(lm_store_ping(s, NULL));
    struct lm_doc_info *docs = NULL;
    size_t n = 99;
    ASSERT_OK(lm_store_list_documents(s, &docs, &n, NULL));
    ASSERT_EQ(n, 0);
    lm_store_free_docs(docs, n);
    float q[DIM];
    unit_vec(q, 1);
    struct lm_hit *hits = NULL;
    ASSERT_OK(lm_store_search_vector(s, q, 3, &hits, &n, NULL));
    ASSERT_EQ(n, 0);
    lm_store_free_hits(hits, n);
    lm_store_close(s);
}

static void test_add_list_duplicate(void)
{
    struct lm_store *s = open_store("test-model", DIM);
    int64_t dup = -1;
    g_en = add_doc(s, "en.txt", "hash-en", EN, 3, 100, &dup);
    ASSERT_EQ(dup, 0);
    g_zh = add_doc(s, "zh.txt", "hash-zh", ZH, 3, 200, &dup);
    ASSERT_EQ(dup, 0);
    ASSERT(g_zh != g_en);
    expect_counts(s, 2, 6);
    /* the same content hash again: nothing stored, the first id reported */
    int64_t again = add_doc(s, "en-copy.txt", "hash-en", EN, 2, 900, &dup);
    ASSERT_EQ(again, g_en);
    ASSERT_EQ(dup, g_en);
    expect_counts(s, 2, 6);
    struct lm_doc_info *docs = NULL;
    size_t n = 0;
    ASSERT_OK(lm_store_list_documents(s, &docs, &n, NULL));
    ASSERT_EQ(n, 2);
    ASSERT_EQ(docs[0].id, g_zh); /* newest first */
    ASSERT_STR_EQ(docs[0].source, "zh.txt");
    ASSERT_EQ(docs[0].n_chunks, 3);
    ASSERT_STR_EQ(docs[1].source, "en.txt");
    ASSERT(docs[1].created_at > 1600000000);
    lm_store_free_docs(docs, n);
    lm_store_close(s);
}

static void test_vector_search(void)
{
    struct lm_store *s = open_store("test-model", DIM);
    float q[DIM];
    unit_vec(q, 201); /* exactly ZH[1]'s vector */
    struct lm_hit *hits = NULL;
    size_t n = 0;
    ASSERT_OK(lm_store_search_vector(s, q, 4, &hits, &n, NULL));
    ASSERT_EQ(n, 4);
    ASSERT_STR_EQ(hits[0].content, ZH[1]);
    ASSERT_STR_EQ(hits[0].source, "zh.txt");
    ASSERT_EQ(hits[0].document_id, g_zh);
    ASSERT_NEAR(hits[0].score, 1.0, 1e-4);
    for (size_t i = 1; i < n; i++) ASSERT(hits[i].score <= hits[i - 1].score + 1e-9);
    /* scores are cosine similarities: check one against a direct computation */
    float v[DIM];
    bool checked = false;
    for (unsigned seed = 100; seed < 103; seed++) {
        unit_vec(v, seed);
        for (size_t i = 0; i < n; i++)
            if (!strcmp(hits[i].content, EN[seed - 100])) {
                double dot = 0;
                for (int j = 0; j < DIM; j++) dot += (double)v[j] * q[j];
                ASSERT_NEAR(hits[i].score, dot, 1e-3);
                checked = true;
            }
    }
    ASSERT(checked);
    lm_store_free_hits(hits, n);
    /* k larger than the store */
    ASSERT_OK(lm_store_search_vector(s, q, 50, &hits, &n, NULL));
    ASSERT_EQ(n, 6);
    lm_store_free_hits(hits, n);
    lm_store_close(s);
}

/* First hit of a keyword search, or NULL (static copy). */
static const char *kw_first(struct lm_store *s, const char *q, size_t *n_out)
{
    static char first[1024];
    struct lm_hit *hits = NULL;
    size_t n = 0;
    struct lm_error err = {0};
    if (lm_store_search_keyword(s, q, 5, &hits, &n, &err) < 0) LM_FAIL_("keyword %s: %s", q, err.msg);
    if (n_out) *n_out = n;
    if (!n) {
        lm_store_free_hits(hits, n);
        return NULL;
    }
    snprintf(first, sizeof first, "%s", hits[0].content);
    ASSERT(hits[0].score > 0);
    lm_store_free_hits(hits, n);
    return first;
}

static void test_keyword_search(void)
{
    struct lm_store *s = open_store("test-model", DIM);
    size_t n = 0;
    ASSERT_STR_EQ(kw_first(s, "How much is the X-200?", NULL), EN[0]);
    ASSERT_STR_EQ(kw_first(s, "refunds", NULL), EN[1]);
    ASSERT_STR_EQ(kw_first(s, "REFUNDS policy", NULL), EN[1]); /* case-insensitive */
    /* Chinese, no spaces: whole questions, and words of 3+ characters */
    ASSERT_STR_EQ(kw_first(s, "退货政策是什么？", NULL), ZH[0]);
    ASSERT_STR_EQ(kw_first(s, "客服时间", NULL), ZH[1]);
    /* shorter than a trigram: the substring fallback */
    ASSERT_STR_EQ(kw_first(s, "猫狗", NULL), ZH[2]);
    ASSERT_STR_EQ(kw_first(s, "猫", NULL), ZH[2]);
    ASSERT_STR_EQ(kw_first(s, "30", NULL), EN[1]);
    /* FTS5 syntax in user text is just text */
    kw_first(s, "\"unbalanced AND (OR NOT * ^", &n);
    ASSERT(kw_first(s, "zzzyyyxxx", &n) == NULL && n == 0);
    ASSERT(kw_first(s, "?!。", &n) == NULL && n == 0);
    /* invalid UTF-8 never breaks the query */
    kw_first(s, "\xff\xfe\xc3 refunds \xe4\xb8", &n);
    lm_store_close(s);
}

static void test_model_mismatch(void)
{
    struct lm_store_open_params p = {.url = g_url, .model_name = "other-model", .dim = DIM, .migrate = true};
    struct lm_store *s = NULL;
    struct lm_error err = {0};
    ASSERT_EQ(lm_store_open(&p, &s, &err), LM_EINVAL);
    ASSERT(s == NULL);
    ASSERT(strstr(err.msg, "re-index") != NULL);
    ASSERT(strstr(err.msg, "test-model") != NULL);
    p.model_name = "test-model";
    p.dim = DIM * 2;
    memset(&err, 0, sizeof err);
    ASSERT_EQ(lm_store_open(&p, &s, &err), LM_EINVAL);
    ASSERT(strstr(err.msg, "re-index") != NULL);
}

static void test_delete_cascade(void)
{
    struct lm_store *s = open_store("test-model", DIM);
    struct lm_error err = {0};
    ASSERT_OK(lm_store_delete_document(s, g_zh, &err));
    expect_counts(s, 1, 3);
    ASSERT(kw_first(s, "退货政策", NULL) == NULL);
    float q[DIM];
    unit_vec(q, 201);
    struct lm_hit *hits = NULL;
    size_t n = 0;
    ASSERT_OK(lm_store_search_vector(s, q, 10, &hits, &n, NULL));
    ASSERT_EQ(n, 3);
    for (size_t i = 0; i < n; i++) ASSERT_EQ(hits[i].document_id, g_en);
    lm_store_free_hits(hits, n);
    ASSERT_EQ(lm_store_delete_document(s, g_zh, &err), LM_ENOENT);
    ASSERT_EQ(lm_store_delete_document(s, 987654321, &err), LM_ENOENT);
    /* the hash is free again after delete */
    int64_t dup = -1;
    g_zh = add_doc(s, "zh.txt", "hash-zh", ZH, 3, 200, &dup);
    ASSERT_EQ(dup, 0);
    expect_counts(s, 2, 6);
    ASSERT_STR_EQ(kw_first(s, "退货政策", NULL), ZH[0]);
    lm_store_close(s);
}

/* Exact search against a brute-force reference on a bigger random set. */
static void test_exact_topk(void)
{
    struct lm_store *s = open_store("test-model", DIM);
    enum { NDOC = 40, PER = 25, K = 10 };
    char texts[PER][48];
    const char *tp[PER];
    for (int d = 0; d < NDOC; d++) {
        for (int i = 0; i < PER; i++) {
            snprintf(texts[i], sizeof texts[i], "doc %d chunk %d", d, i);
            tp[i] = texts[i];
        }
        char src[32], hash[32];
        snprintf(src, sizeof src, "bulk-%d", d);
        snprintf(hash, sizeof hash, "bulk-hash-%d", d);
        add_doc(s, src, hash, tp, PER, 10000u + (unsigned)(d * PER), NULL);
    }
    expect_counts(s, 2 + NDOC, 6 + NDOC * PER);
    for (unsigned qs = 0; qs < 5; qs++) {
        float q[DIM], v[DIM];
        unit_vec(q, 77777u + qs);
        /* reference: all 1000 bulk vectors plus the 6 named ones */
        double best[K];
        for (int i = 0; i < K; i++) best[i] = -2;
        unsigned seeds[NDOC * PER + 6];
        int ns = 0;
        for (unsigned i = 0; i < NDOC * PER; i++) seeds[ns++] = 10000u + i;
        for (unsigned i = 0; i < 3; i++) seeds[ns++] = 100 + i, seeds[ns++] = 200 + i;
        for (int i = 0; i < ns; i++) {
            unit_vec(v, seeds[i]);
            double dot = 0;
            for (int j = 0; j < DIM; j++) dot += (double)v[j] * q[j];
            for (int a = 0; a < K; a++)
                if (dot > best[a]) {
                    for (int b = K - 1; b > a; b--) best[b] = best[b - 1];
                    best[a] = dot;
                    break;
                }
        }
        struct lm_hit *hits = NULL;
        size_t n = 0;
        ASSERT_OK(lm_store_search_vector(s, q, K, &hits, &n, NULL));
        ASSERT_EQ(n, K);
        for (int i = 0; i < K; i++) ASSERT_NEAR(hits[i].score, best[i], 1e-4);
        lm_store_free_hits(hits, n);
    }
    lm_store_close(s);
}

struct reader_arg {
    struct lm_store *s;
    volatile int *stop;
    int searches, errors;
};

static void *reader_main(void *p)
{
    struct reader_arg *a = p;
    float q[DIM];
    int64_t last_chunks = 0;
    while (!*a->stop) {
        unit_vec(q, (unsigned)a->searches);
        struct lm_hit *hits = NULL;
        size_t n = 0;
        if (lm_store_search_vector(a->s, q, 5, &hits, &n, NULL) < 0 || n != 5) a->errors++;
        lm_store_free_hits(hits, n);
        if (lm_store_search_keyword(a->s, "concurrent", 5, &hits, &n, NULL) < 0) a->errors++;
        lm_store_free_hits(hits, n);
        struct lm_store_counts c;
        if (lm_store_counts(a->s, &c, NULL) < 0 || c.chunks < last_chunks) a->errors++;
        last_chunks = c.chunks;
        a->searches++;
    }
    return NULL;
}

/* Readers keep working (and see counts only grow) while a writer ingests. */
static void test_concurrent_readers(void)
{
    struct lm_store *s = open_store("test-model", DIM);
    volatile int stop = 0;
    struct reader_arg args[3];
    pthread_t th[3];
    for (int i = 0; i < 3; i++) {
        args[i] = (struct reader_arg){.s = s, .stop = &stop};
        ASSERT_EQ(pthread_create(&th[i], NULL, reader_main, &args[i]), 0);
    }
    const char *texts[20];
    for (int i = 0; i < 20; i++) texts[i] = "concurrent ingestion text";
    for (int d = 0; d < 30; d++) {
        char hash[32];
        snprintf(hash, sizeof hash, "conc-%d", d);
        add_doc(s, "conc", hash, texts, 20, 50000u + (unsigned)d * 20, NULL);
    }
    stop = 1;
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        ASSERT_EQ(args[i].errors, 0);
        ASSERT(args[i].searches > 0);
    }
    expect_counts(s, 2 + 40 + 30, 6 + 1000 + 600);
    lm_store_close(s);
}

int main(void)
{
    const char *url = getenv("LM_STORE_URL");
    if (url && *url) snprintf(g_url, sizeof g_url, "%s", url);
    else snprintf(g_url, sizeof g_url, "sqlite:%.4000s", lm_test_tmp("suite/store.db"));
    fprintf(stderr, "store url: %s\n", g_url);
    RUN_TEST(test_open_empty);
    RUN_TEST(test_add_list_duplicate);
    RUN_TEST(test_vector_search);
    RUN_TEST(test_keyword_search);
    RUN_TEST(test_model_mismatch);
    RUN_TEST(test_delete_cascade);
    RUN_TEST(test_exact_topk);
    RUN_TEST(test_concurrent_readers);
    fprintf(stderr, "ok\n");
    return 0;
}
