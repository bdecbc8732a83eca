/* test_rag_prompt.c — the seed's RAG user turn, reciprocal rank fusion, the history budget,
 * HTML text and UTF-8 clean-up. */
#include "lm/rag.h"
#include "lm_test.h"

/* A hit array with new strings (as the store returns them). */
static struct lm_hit *hits_of(const int64_t *ids, size_t n)
{
    struct lm_hit *h = calloc(n + 1, sizeof *h);
    for (size_t i = 0; i < n; i++) {
        char buf[32];
        snprintf(buf, sizeof buf, "chunk %lld", (long long)ids[i]);
        h[i] = (struct lm_hit){.chunk_id = ids[i], .document_id = 1, .source = strdup("s"), .content = strdup(buf),
                               .score = 0.5};
    }
    return h;
}

static void test_user_turn(void)
{
    struct lm_hit h[2] = {{.content = "甲 first"}, {.content = "second"}};
    char *t = lm_rag_user_turn("问题是什么？", h, 2);
    ASSERT_STR_EQ(t, "请参考以下资料回答问题，若资料不足请说明：\n甲 first\n---\nsecond\n问题：问题是什么？");
    free(t);
    t = lm_rag_user_turn("plain", h, 0);
    ASSERT_STR_EQ(t, "plain");
    free(t);
    ASSERT_STR_EQ(LM_RAG_SYSTEM_PROMPT, "You are a helpful assistant.");
}

static void test_fuse(void)
{
    /* vector: 1 2 3; keyword: 3 4. 3 is in both and wins; then 1 (rank 1 once); 2 and 4 tie at
     * rank 2 once, the lower id first */
    const int64_t va[] = {1, 2, 3}, kb[] = {3, 4};
    struct lm_hit *out;
    size_t n;
    ASSERT_OK(lm_rag_fuse(hits_of(va, 3), 3, hits_of(kb, 2), 2, 3, &out, &n));
    ASSERT_EQ(n, 3);
    ASSERT_EQ(out[0].chunk_id, 3);
    ASSERT_NEAR(out[0].score, 1.0 / 63 + 1.0 / 61, 1e-12);
    ASSERT_EQ(out[1].chunk_id, 1);
    ASSERT_NEAR(out[1].score, 1.0 / 61, 1e-12);
    ASSERT_EQ(out[2].chunk_id, 2);
    ASSERT_STR_EQ(out[0].content, "chunk 3");
    lm_store_free_hits(out, n);

    /* empty halves and k larger than the union */
    ASSERT_OK(lm_rag_fuse(NULL, 0, hits_of(kb, 2), 2, 10, &out, &n));
    ASSERT_EQ(n, 2);
    ASSERT_EQ(out[0].chunk_id, 3);
    lm_store_free_hits(out, n);
    ASSERT_OK(lm_rag_fuse(NULL, 0, NULL, 0, 3, &out, &n));
    ASSERT_EQ(n, 0);
    lm_store_free_hits(out, n);
}

static void test_history_fit(void)
{
    struct lm_rag_turn t[3] = {{.tokens = 100}, {.tokens = 100}, {.tokens = 100}};
    /* each turn costs 100 + 16; current 50 + 16 */
    ASSERT_EQ(lm_rag_history_fit(t, 3, 50, 10000), 3);
    ASSERT_EQ(lm_rag_history_fit(t, 3, 50, 66 + 116 * 2), 2);
    ASSERT_EQ(lm_rag_history_fit(t, 3, 50, 66 + 116 * 2 - 1), 1);
    ASSERT_EQ(lm_rag_history_fit(t, 3, 5000, 1000), 0);
    ASSERT_EQ(lm_rag_history_fit(t, 0, 10, 1000), 0);
}

static void test_html(void)
{
    const char *html = "<!doctype html><html><head><title>x</title><style>p{}</style></head><body>"
                       "<h1>Title</h1><p>Para &amp; <b>bold</b>   text</p><script>alert(1)</script>"
                       "<ul><li>one</li><li>二</li></ul><div><div><p>deep</p></div></div></body></html>";
    char *t;
    ASSERT_OK(lm_rag_html_text(html, strlen(html), &t, NULL));
    ASSERT_STR_EQ(t, "Title\n\nPara & bold text\n\none\n\n二\n\ndeep");
    free(t);
    /* broken markup still gives text; deep nesting does not recurse */
    char *deep = malloc(200000);
    size_t o = 0;
    for (int i = 0; i < 20000; i++) o += (size_t)sprintf(deep + o, "<b>");
    strcpy(deep + o, "core");
    ASSERT_OK(lm_rag_html_text(deep, strlen(deep), &t, NULL));
    ASSERT(strstr(t, "core") || t[0] == 0);
    free(t);
    free(deep);
    /* an empty document is either no text or a format error, never a crash */
    t = NULL;
    int rc = lm_rag_html_text("", 0, &t, NULL);
    ASSERT(rc == 0 || rc == LM_EFORMAT);
    if (rc == 0) ASSERT_STR_EQ(t, "");
    free(t);
}

static void test_clean_utf8(void)
{
    char *s = lm_rag_clean_utf8("a\xff" "b\0c\xe4\xbd\xa0\xe4", 9);
    ASSERT_STR_EQ(s, "a\xEF\xBF\xBD" "bc你\xEF\xBF\xBD");
    free(s);
}

int main(void)
{
    RUN_TEST(test_user_turn);
    RUN_TEST(test_fuse);
    RUN_TEST(test_history_fit);
    RUN_TEST(test_html);
    RUN_TEST(test_clean_utf8);
    return 0;
}
