/* Tests for llmd's OpenAI request parser (oai_request.c): fields, defaults, and the 400
 * messages that name the field at fault. */
#include "../../src/programs/llmd/oai_request.c"
#include "lm_test.h"

static int parse(enum llmd_kind kind, const char *body, struct llmd_request *r, struct lm_error *err)
{
    memset(err, 0, sizeof *err);
    return llmd_request_parse(body, strlen(body), kind, 128, 7, r, err);
}

static void test_chat_fields(void)
{
    struct llmd_request r;
    struct lm_error err;
    ASSERT_OK(parse(LLMD_CHAT,
                    "{\"model\":\"m\",\"messages\":[{\"role\":\"developer\",\"content\":\"sys\"},"
                    "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a\"},{\"type\":\"text\",\"text\":\"b\"}]},"
                    "{\"role\":\"assistant\",\"content\":null}],"
                    "\"stream\":true,\"stream_options\":{\"include_usage\":true},\"temperature\":0,\"top_p\":0.5,"
                    "\"top_k\":3,\"min_p\":0.2,\"max_completion_tokens\":9,\"stop\":[\"x\",\"\",\"yz\"],\"seed\":11,"
                    "\"presence_penalty\":0.5,\"frequency_penalty\":-1,\"repeat_penalty\":1.2,"
                    "\"response_format\":{\"type\":\"json_object\"},\"user\":\"ignored\"}",
                    &r, &err));
    ASSERT_EQ(r.n_msgs, 3);
    ASSERT_STR_EQ(r.msgs[0].role, "system");
    ASSERT_STR_EQ(r.msgs[1].content, "ab");
    ASSERT_STR_EQ(r.msgs[2].content, "");
    ASSERT(r.stream && r.include_usage && r.json_mode);
    ASSERT_NEAR(r.sp.temperature, 0, 0);
    ASSERT_NEAR(r.sp.top_p, 0.5, 1e-6);
    ASSERT_EQ(r.sp.top_k, 3);
    ASSERT_NEAR(r.sp.min_p, 0.2, 1e-6);
    ASSERT_EQ(r.n_predict, 9);
    ASSERT_EQ(r.n_stop, 2);
    ASSERT_STR_EQ(r.stop[1], "yz");
    ASSERT_EQ(r.sp.seed, 11);
    ASSERT_NEAR(r.sp.frequency_penalty, -1, 1e-6);
    ASSERT_NEAR(r.sp.repeat_penalty, 1.2, 1e-6);
    ASSERT_STR_EQ(r.model, "m");
    llmd_request_free(&r);
}

static void test_defaults(void)
{
    struct llmd_request r;
    struct lm_error err;
    struct lm_sampler_params d;
    lm_sampler_defaults(&d);
    ASSERT_OK(parse(LLMD_COMPLETION, "{\"prompt\":\"hi\",\"stop\":\"\\n\"}", &r, &err));
    ASSERT_STR_EQ(r.prompt, "hi");
    ASSERT_EQ(r.n_predict, 128);
    ASSERT_EQ(r.sp.seed, 7);
    ASSERT_NEAR(r.sp.temperature, d.temperature, 1e-6);
    ASSERT(!r.stream && !r.json_mode);
    ASSERT_EQ(r.n_stop, 1);
    ASSERT_STR_EQ(r.stop[0], "\n");
    llmd_request_free(&r);
    ASSERT_OK(parse(LLMD_COMPLETION, "{\"prompt\":[1,2,3]}", &r, &err));
    ASSERT_EQ(r.n_prompt_ids, 3);
    ASSERT_EQ(r.prompt_ids[2], 3);
    llmd_request_free(&r);
    ASSERT_OK(parse(LLMD_COMPLETION, "{\"prompt\":[\"one\"],\"max_tokens\":null}", &r, &err));
    ASSERT_STR_EQ(r.prompt, "one");
    llmd_request_free(&r);
}

static void expect_error(enum llmd_kind kind, const char *body, const char *needle)
{
    struct llmd_request r;
    struct lm_error err;
    int rc = parse(kind, body, &r, &err);
    if (rc >= 0) LM_FAIL_("accepted: %s", body);
    if (!strstr(err.msg, needle)) LM_FAIL_("for %s: message '%s' lacks '%s'", body, err.msg, needle);
}

static void test_errors(void)
{
    expect_error(LLMD_CHAT, "", "not valid JSON");
    expect_error(LLMD_CHAT, "[1]", "JSON object");
    expect_error(LLMD_CHAT, "{}", "'messages'");
    expect_error(LLMD_CHAT, "{\"messages\":[]}", "must not be empty");
    expect_error(LLMD_CHAT, "{\"messages\":[1]}", "messages[0]");
    expect_error(LLMD_CHAT, "{\"messages\":[{\"role\":\"robot\",\"content\":\"x\"}]}", "messages[0].role");
    expect_error(LLMD_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":{}}]}", "messages[0].content");
    expect_error(LLMD_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\"}]}]}", "text");
    const char *m = "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],";
    char b[256];
    const char *cases[][2] = {
        {"\"temperature\":\"hot\"}", "'temperature'"}, {"\"top_p\":2}", "'top_p'"},
        {"\"stream\":1}", "'stream'"}, {"\"max_tokens\":-5}", "'max_tokens'"},
        {"\"stop\":[1]}", "'stop'"}, {"\"n\":3}", "'n'"},
        {"\"response_format\":{\"type\":\"yaml\"}}", "response_format"},
        {"\"stream_options\":true}", "'stream_options'"},
        {"\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\",\"j\",\"k\",\"l\",\"m\",\"n\",\"o\",\"p\",\"q\"]}", "16"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        snprintf(b, sizeof b, "%s%s", m, cases[i][0]);
        expect_error(LLMD_CHAT, b, cases[i][1]);
    }
    char longstop[1200];
    memset(longstop, 'a', sizeof longstop);
    memcpy(longstop, "{\"prompt\":\"x\",\"stop\":\"", 22);
    memcpy(longstop + sizeof longstop - 3, "\"}", 3);
    expect_error(LLMD_COMPLETION, longstop, "1024 bytes");
    expect_error(LLMD_COMPLETION, "{\"prompt\":5}", "'prompt'");
    expect_error(LLMD_COMPLETION, "{\"prompt\":[1,-2]}", "'prompt'");
    expect_error(LLMD_COMPLETION, "{\"prompt\":[1.5]}", "'prompt'");
}

int main(void)
{
    RUN_TEST(test_chat_fields);
    RUN_TEST(test_defaults);
    RUN_TEST(test_errors);
    return 0;
}
