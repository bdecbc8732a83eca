/* Tests for core/buf.c and core/err.c. */
#include "lm/buf.h"
#include "lm/err.h"
#include "lm_test.h"

static void test_append_and_printf(void)
{
    struct lm_buf b = {0};
    ASSERT_OK(lm_buf_append_str(&b, "abc"));
    ASSERT_OK(lm_buf_append(&b, "\0x", 2));
    ASSERT_EQ(b.len, 5);
    ASSERT_EQ(b.data[5], 0);
    ASSERT_OK(lm_buf_printf(&b, "%d-%s", 42, "z"));
    ASSERT_EQ(b.len, 9);
    ASSERT(memcmp(b.data, "abc\0x42-z", 9) == 0);
    for (int i = 0; i < 10000; i++) ASSERT_OK(lm_buf_append_char(&b, 'q'));
    ASSERT_EQ(b.len, 10009);
    char *s = lm_buf_take(&b);
    ASSERT(b.data == NULL && b.len == 0);
    free(s);
    lm_buf_free(&b);
}

static void test_str(void)
{
    struct lm_str a = LM_STR("hello");
    ASSERT(lm_str_eq_c(a, "hello"));
    ASSERT(!lm_str_eq_c(a, "hell"));
    char *d = lm_str_dup((struct lm_str){"hello world", 5});
    ASSERT_STR_EQ(d, "hello");
    free(d);
}

static void test_error(void)
{
    struct lm_error e = {0};
    ASSERT_EQ(lm_error_set(&e, LM_EFORMAT, "key %s bad", "x"), LM_EFORMAT);
    ASSERT_STR_EQ(e.msg, "key x bad");
    lm_error_prefix(&e, "gguf");
    ASSERT_STR_EQ(e.msg, "gguf: key x bad");
    ASSERT_EQ(lm_error_set(NULL, LM_EIO, "ignored"), LM_EIO);
    ASSERT_STR_EQ(lm_strerror(LM_ENOMEM), "out of memory");
}

int main(void)
{
    RUN_TEST(test_append_and_printf);
    RUN_TEST(test_str);
    RUN_TEST(test_error);
    return 0;
}
