/* test_multipart.c — multipart/form-data: boundaries, files, fields, malformed bodies. */
#include "lm/multipart.h"
#include "lm_test.h"

static void test_boundary(void)
{
    char b[71];
    ASSERT_OK(lm_multipart_boundary("multipart/form-data; boundary=----WebKitFormBoundaryA1b2", b, NULL));
    ASSERT_STR_EQ(b, "----WebKitFormBoundaryA1b2");
    ASSERT_OK(lm_multipart_boundary("Multipart/Form-Data;charset=utf-8; boundary=\"x y\"", b, NULL));
    ASSERT_STR_EQ(b, "x y");
    ASSERT_EQ(lm_multipart_boundary("application/json", b, NULL), LM_EINVAL);
    ASSERT_EQ(lm_multipart_boundary("multipart/form-data", b, NULL), LM_EINVAL);
    ASSERT_EQ(lm_multipart_boundary(NULL, b, NULL), LM_EINVAL);
}

static void test_parts(void)
{
    static const char body[] =
        "preamble\r\n--XB\r\n"
        "Content-Disposition: form-data; name=\"source\"\r\n\r\n"
        "my doc\r\n--XB\r\n"
        "Content-Disposition: form-data; name=\"file\"; filename=\"a b.txt\"\r\n"
        "Content-Type: text/plain \r\n\r\n"
        "line1\r\nline2 --X\r\n\r\n--XB--\r\nepilogue";
    struct lm_multipart_part p[4];
    size_t n;
    ASSERT_OK(lm_multipart_parse(body, sizeof body - 1, "XB", p, 4, &n, NULL));
    ASSERT_EQ(n, 2);
    ASSERT(lm_str_eq_c(p[0].name, "source"));
    ASSERT(p[0].filename.ptr == NULL);
    ASSERT(lm_str_eq_c(p[0].data, "my doc"));
    ASSERT(lm_str_eq_c(p[1].name, "file"));
    ASSERT(lm_str_eq_c(p[1].filename, "a b.txt"));
    ASSERT(lm_str_eq_c(p[1].content_type, "text/plain"));
    ASSERT(lm_str_eq_c(p[1].data, "line1\r\nline2 --X\r\n"));
}

static void test_malformed(void)
{
    struct lm_multipart_part p[1];
    size_t n;
    const char *cases[] = {
        "", "--XB", "--XB\r\nContent-Disposition: form-data; name=a\r\n\r\nunterminated",
        "--XB\r\nno header end", "no boundary at all", "--XBgarbage",
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        ASSERT_EQ(lm_multipart_parse(cases[i], strlen(cases[i]), "XB", p, 1, &n, NULL), LM_EFORMAT);
    const char *two = "--XB\r\n\r\na\r\n--XB\r\n\r\nb\r\n--XB--";
    ASSERT_EQ(lm_multipart_parse(two, strlen(two), "XB", p, 1, &n, NULL), LM_ETOOBIG);
}

int main(void)
{
    RUN_TEST(test_boundary);
    RUN_TEST(test_parts);
    RUN_TEST(test_malformed);
    return 0;
}
