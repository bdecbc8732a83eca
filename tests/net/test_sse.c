/* test_sse.c — the SSE parser: line endings, split feeds, multi-line data, comments, limits. */
#include "lm/sse_parse.h"
#include "lm_test.h"

struct rec {
    struct lm_buf out;   /* "event|data;" per event */
    int n;
    int stop_at;         /* return 1 from the callback at this event (0 = never) */
};

static int on_event(void *user, const char *event, const char *data, size_t len)
{
    struct rec *r = user;
    r->n++;
    lm_buf_printf(&r->out, "%s|", event);
    lm_buf_append(&r->out, data, len);
    lm_buf_append_char(&r->out, ';');
    return r->n == r->stop_at ? 1 : 0;
}

/* Feeds text in pieces of `step` bytes and returns the record. */
static char *parse_in_steps(const char *text, size_t step, int *n_events)
{
    struct lm_sse_parser p;
    struct rec r = {0};
    lm_sse_init(&p, 0);
    size_t len = strlen(text);
    for (size_t i = 0; i < len; i += step) {
        size_t n = len - i < step ? len - i : step;
        ASSERT_EQ(lm_sse_feed(&p, text + i, n, on_event, &r, NULL), 0);
    }
    lm_sse_free(&p);
    if (n_events) *n_events = r.n;
    return r.out.data ? lm_buf_take(&r.out) : strdup("");
}

static void test_openai_stream(void)
{
    const char *s = "data: {\"a\":1}\n\ndata: {\"b\":2}\n\n: keep-alive\n\ndata: [DONE]\n\n";
    const char *want = "message|{\"a\":1};message|{\"b\":2};message|[DONE];";
    for (size_t step = 1; step <= strlen(s); step++) {
        int n;
        char *got = parse_in_steps(s, step, &n);
        ASSERT_STR_EQ(got, want);
        ASSERT_EQ(n, 3);
        free(got);
    }
}

static void test_line_endings(void)
{
    const char *s = "event: e1\r\ndata: x\r\ndata:y\r\n\r\ndata:  z\r\rdata: w\n\n";
    for (size_t step = 1; step <= 4; step++) {
        char *got = parse_in_steps(s, step, NULL);
        ASSERT_STR_EQ(got, "e1|x\ny;message| z;message|w;");
        free(got);
    }
}

static void test_no_data_and_unknown_fields(void)
{
    char *got = parse_in_steps("event: x\n\nid: 3\nretry: 10\nfoo\ndata\n\n", 1, NULL);
    ASSERT_STR_EQ(got, "message|;");
    free(got);
}

static void test_finish_and_stop(void)
{
    struct lm_sse_parser p;
    struct rec r = {.stop_at = 1};
    lm_sse_init(&p, 0);
    ASSERT_EQ(lm_sse_feed(&p, "data: 1\n\ndata: 2\n\n", 18, on_event, &r, NULL), 1);
    lm_sse_free(&p);
    lm_buf_free(&r.out);

    struct rec r2 = {0};
    lm_sse_init(&p, 0);
    ASSERT_EQ(lm_sse_feed(&p, "data: tail", 10, on_event, &r2, NULL), 0);
    ASSERT_EQ(r2.n, 0);
    ASSERT_EQ(lm_sse_finish(&p, on_event, &r2), 0);
    ASSERT_STR_EQ(r2.out.data, "message|tail;");
    lm_sse_free(&p);
    lm_buf_free(&r2.out);
}

static void test_limit(void)
{
    struct lm_sse_parser p;
    struct rec r = {0};
    struct lm_error err = {0};
    lm_sse_init(&p, 16);
    int rc = 0;
    for (int i = 0; i < 10 && rc == 0; i++) rc = lm_sse_feed(&p, "data: 0123\n", 11, on_event, &r, &err);
    ASSERT_EQ(rc, LM_ETOOBIG);
    ASSERT(strstr(err.msg, "16"));
    lm_sse_free(&p);
    lm_buf_free(&r.out);
}

int main(void)
{
    RUN_TEST(test_openai_stream);
    RUN_TEST(test_line_endings);
    RUN_TEST(test_no_data_and_unknown_fields);
    RUN_TEST(test_finish_and_stop);
    RUN_TEST(test_limit);
    return 0;
}
