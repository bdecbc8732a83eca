/* Tests for llmd's streamed-text rules (textout.c) and the JSON-prefix validator
 * (json_prefix.c): stop strings never leak, UTF-8 is never cut, json_object output parses. */
#include "../../src/programs/llmd/json_prefix.c"
#include "../../src/programs/llmd/textout.c"
#include "lm_test.h"

/* Feeds pieces one by one, collecting what would be streamed. */
static void run(const char *const *pieces, size_t n, char *const *stop, size_t n_stop, struct lm_buf *out,
                bool *stopped)
{
    struct llmd_textout t = {.stop = stop, .n_stop = n_stop};
    *stopped = false;
    for (size_t i = 0; i < n && !*stopped; i++) {
        *stopped = llmd_textout_add(&t, pieces[i], strlen(pieces[i]));
        if (!*stopped) llmd_textout_take(&t, false, out);
    }
    llmd_textout_take(&t, true, out);
    llmd_textout_free(&t);
    if (!out->data) lm_buf_append(out, "", 0);
}

static void test_stop_across_pieces(void)
{
    char *stop[] = {"</end>", "STOP"};
    const char *pieces[] = {"Hello ", "wor", "ld<", "/e", "nd> after"};
    struct lm_buf out = {0};
    bool stopped;
    run(pieces, 5, stop, 2, &out, &stopped);
    ASSERT(stopped);
    ASSERT_STR_EQ(out.data, "Hello world");
    lm_buf_free(&out);
}

static void test_partial_stop_released(void)
{
    /* "<" looked like the start of "</end>" but was not: it must come out, in order */
    char *stop[] = {"</end>"};
    const char *pieces[] = {"a <", "b", " </", "x"};
    struct lm_buf out = {0};
    bool stopped;
    struct llmd_textout t = {.stop = stop, .n_stop = 1};
    ASSERT(!llmd_textout_add(&t, pieces[0], strlen(pieces[0])));
    llmd_textout_take(&t, false, &out);
    ASSERT_STR_EQ(out.data, "a ");   /* "<" held back */
    llmd_textout_free(&t);
    lm_buf_free(&out);
    run(pieces, 4, stop, 1, &out, &stopped);
    ASSERT(!stopped);
    ASSERT_STR_EQ(out.data, "a <b </x");
    lm_buf_free(&out);
}

static void test_stop_at_start(void)
{
    char *stop[] = {"\n\n"};
    const char *pieces[] = {"\n", "\n", "more"};
    struct lm_buf out = {0};
    bool stopped;
    run(pieces, 3, stop, 1, &out, &stopped);
    ASSERT(stopped);
    ASSERT_STR_EQ(out.data, "");
    lm_buf_free(&out);
}

static void test_utf8_held_back(void)
{
    /* "é" = C3 A9 and "😀" = F0 9F 98 80 arriving byte by byte */
    struct llmd_textout t = {0};
    struct lm_buf out = {0};
    llmd_textout_add(&t, "x\xC3", 2);
    llmd_textout_take(&t, false, &out);
    ASSERT_STR_EQ(out.data, "x");
    llmd_textout_add(&t, "\xA9", 1);
    llmd_textout_take(&t, false, &out);
    ASSERT_STR_EQ(out.data, "x\xC3\xA9");
    llmd_textout_add(&t, "\xF0\x9F", 2);
    llmd_textout_take(&t, false, &out);
    ASSERT_EQ(out.len, 3);
    llmd_textout_add(&t, "\x98", 1);
    llmd_textout_take(&t, false, &out);
    ASSERT_EQ(out.len, 3);
    llmd_textout_add(&t, "\x80!", 2);
    llmd_textout_take(&t, false, &out);
    ASSERT_STR_EQ(out.data, "x\xC3\xA9\xF0\x9F\x98\x80!");
    /* an unfinished sequence at the very end becomes U+FFFD */
    llmd_textout_add(&t, "\xE2\x82", 2);
    llmd_textout_take(&t, true, &out);
    ASSERT_STR_EQ(out.data, "x\xC3\xA9\xF0\x9F\x98\x80!\xEF\xBF\xBD\xEF\xBF\xBD");
    llmd_textout_free(&t);
    lm_buf_free(&out);
}

static void test_sanitize(void)
{
    struct lm_buf out = {0};
    llmd_utf8_sanitize("a\xFF" "b\xED\xA0\x80" "c", 7, &out);  /* stray byte, surrogate */
    ASSERT_STR_EQ(out.data, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" "c");
    ASSERT_EQ(llmd_utf8_complete_len("ab\xE2\x82", 4), 2);
    ASSERT_EQ(llmd_utf8_complete_len("ab\xE2\x82\xAC", 5), 5);
    ASSERT_EQ(llmd_utf8_complete_len("\x80\x80", 2), 2);
    lm_buf_free(&out);
}

static bool json_prefix_ok(const char *s)
{
    struct llmd_json j;
    llmd_json_init(&j);
    return llmd_json_feed(&j, s, strlen(s));
}

static bool json_complete(const char *s)
{
    struct llmd_json j;
    llmd_json_init(&j);
    return llmd_json_feed(&j, s, strlen(s)) && llmd_json_done(&j);
}

static void test_json_prefix(void)
{
    ASSERT(json_prefix_ok(""));
    ASSERT(json_prefix_ok("  {"));
    ASSERT(json_prefix_ok("{\"a\": [1, -2.5e+3, true, nul"));
    ASSERT(json_prefix_ok("{\"k\\u00e9\\n\": {\"x\": \"caf\xC3\xA9\"}"));
    ASSERT(!json_prefix_ok("["));
    ASSERT(!json_prefix_ok("x"));
    ASSERT(!json_prefix_ok("{a"));
    ASSERT(!json_prefix_ok("{\"a\" 1"));
    ASSERT(!json_prefix_ok("{\"a\":01"));
    ASSERT(!json_prefix_ok("{\"a\":1,}"));
    ASSERT(!json_prefix_ok("{\"a\":[1,]"));
    ASSERT(!json_prefix_ok("{\"a\":tru "));
    ASSERT(!json_prefix_ok("{\"a\":\"\x01"));
    ASSERT(!json_prefix_ok("{\"a\":\"\\x"));
    ASSERT(!json_prefix_ok("{} x"));
    ASSERT(json_complete("{}"));
    ASSERT(json_complete(" {\"a\":{\"b\":[1,2,{}]},\"c\":0.5} \n"));
    ASSERT(!json_complete("{\"a\":1"));
}

static void test_json_closing(void)
{
    const char *prefixes[] = {"", "{", "{\"a", "{\"a\"", "{\"a\":", "{\"a\":-", "{\"a\":1.", "{\"a\":1e",
                              "{\"a\":[", "{\"a\":[1,", "{\"a\":{\"b\":\"x\\", "{\"a\":\"\\u00", "{\"a\":tr",
                              "{\"a\":12", "{\"a\":[{\"b\":[[", "{\"a\":1,"};
    for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++) {
        struct llmd_json j;
        llmd_json_init(&j);
        ASSERT(llmd_json_feed(&j, prefixes[i], strlen(prefixes[i])));
        char close[128], full[256];
        llmd_json_closing(&j, close, sizeof close);
        snprintf(full, sizeof full, "%s%s", prefixes[i], close);
        if (!json_complete(full)) LM_FAIL_("closing of '%s' gave '%s'", prefixes[i], full);
    }
    char deep[200] = "{\"a\":";
    for (int i = 0; i < 70; i++) strcat(deep, "[");
    ASSERT(!json_prefix_ok(deep));  /* nesting is bounded */
}

int main(void)
{
    RUN_TEST(test_stop_across_pieces);
    RUN_TEST(test_partial_stop_released);
    RUN_TEST(test_stop_at_start);
    RUN_TEST(test_utf8_held_back);
    RUN_TEST(test_sanitize);
    RUN_TEST(test_json_prefix);
    RUN_TEST(test_json_closing);
    return 0;
}
