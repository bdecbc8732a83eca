/* lm_test.h — a tiny assert header for the C tests.
 *
 * Each test file is its own program: main() calls the test functions, which use the ASSERT
 * macros; a failed assertion prints file:line and both values, then exits 1. Tests find the
 * fixtures and a scratch folder through the runner's environment (see tests/run.sh):
 * lm_test_fixture("llama-2-tiny-random.gguf"), lm_test_tmp("model.gguf").
 */
#ifndef LM_TEST_H
#define LM_TEST_H

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LM_FAIL_(...) do { fprintf(stderr, "%s:%d: ", __FILE__, __LINE__); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); exit(1); } while (0)

#define ASSERT(c) do { if (!(c)) LM_FAIL_("assertion failed: %s", #c); } while (0)
#define ASSERT_EQ(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
    if (a_ != b_) LM_FAIL_("%s == %s: %lld != %lld", #a, #b, a_, b_); } while (0)
#define ASSERT_NE(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
    if (a_ == b_) LM_FAIL_("%s != %s: both %lld", #a, #b, a_); } while (0)
#define ASSERT_STR_EQ(a, b) do { const char *a_ = (a), *b_ = (b); \
    if (!a_ || !b_ || strcmp(a_, b_)) LM_FAIL_("%s == %s: \"%s\" != \"%s\"", #a, #b, \
        a_ ? a_ : "(null)", b_ ? b_ : "(null)"); } while (0)
#define ASSERT_NEAR(a, b, tol) do { double a_ = (a), b_ = (b); \
    if (!(fabs(a_ - b_) <= (tol))) LM_FAIL_("%s ~ %s: %.9g vs %.9g (tol %g)", #a, #b, a_, b_, (double)(tol)); } while (0)
#define ASSERT_OK(expr) do { int rc_ = (expr); if (rc_ < 0) LM_FAIL_("%s returned %d", #expr, rc_); } while (0)

static inline const char *lm_test_env(const char *name, const char *def)
{
    const char *v = getenv(name);
    return v && *v ? v : def;
}

/* Path of a shared fixture; static buffer, copy it if you need two at once. */
static inline const char *lm_test_fixture(const char *name)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s", lm_test_env("LM_FIXTURES", "../shared/fixtures"), name);
    return path;
}

/* Path inside this test's scratch folder; static buffer. */
static inline const char *lm_test_tmp(const char *name)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s", lm_test_env("LM_TMP", "/tmp"), name);
    return path;
}

#define RUN_TEST(fn) do { fprintf(stderr, "-- %s\n", #fn); fn(); } while (0)

#endif
