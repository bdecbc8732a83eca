/* test_gguf.c — the GGUF reader and writer: round trips of every value type, getter rules,
 * a table of hand-built corrupt files (each must fail with its one-line message), every
 * truncation of a valid file, and the shared fixtures. */
#include <stdint.h>
#include <string.h>

#include "lm/buf.h"
#include "lm/gguf.h"
#include "lm/gguf_write.h"
#include "lm/quant.h"
#include "lm_test.h"

/* --- raw byte builder for corrupt files --- */
static void u32(struct lm_buf *b, uint32_t v) { ASSERT_OK(lm_buf_append(b, &v, 4)); }
static void u64(struct lm_buf *b, uint64_t v) { ASSERT_OK(lm_buf_append(b, &v, 8)); }
static void str(struct lm_buf *b, const char *s) { u64(b, strlen(s)); ASSERT_OK(lm_buf_append(b, s, strlen(s))); }
static void header(struct lm_buf *b, uint32_t version, uint64_t nt, uint64_t nkv)
{
    u32(b, 0x46554747u);
    u32(b, version);
    u64(b, nt);
    u64(b, nkv);
}
static void kv_u32(struct lm_buf *b, const char *k, uint32_t v) { str(b, k); u32(b, LM_GGUF_TYPE_UINT32); u32(b, v); }
static void tinfo(struct lm_buf *b, const char *name, uint32_t nd, const uint64_t *ne, uint32_t type, uint64_t off)
{
    str(b, name);
    u32(b, nd);
    for (uint32_t i = 0; i < nd; i++) u64(b, ne[i]);
    u32(b, type);
    u64(b, off);
}
static void pad_to(struct lm_buf *b, size_t align, size_t extra)
{
    while (b->len % align) ASSERT_OK(lm_buf_append_char(b, 0));
    for (size_t i = 0; i < extra; i++) ASSERT_OK(lm_buf_append_char(b, 0));
}

/* Expects b to fail with code and a message containing needle. */
static void expect_fail(const char *what, struct lm_buf *b, int code, const char *needle)
{
    struct lm_gguf *g = (struct lm_gguf *)1;
    struct lm_error err = {0};
    int rc = lm_gguf_open_memory(b->data, b->len, &g, &err);
    if (rc != code || !strstr(err.msg, needle) || strchr(err.msg, '\n'))
        LM_FAIL_("%s: rc %d (want %d), msg \"%s\" (want \"%s\")", what, rc, code, err.msg, needle);
    ASSERT(g == NULL);
    lm_buf_free(b);
}

static void test_corrupt_table(void)
{
    struct lm_buf b = {0};
    uint64_t ne2[2] = {32, 2};

    ASSERT_OK(lm_buf_append(&b, "GGU", 3));
    expect_fail("tiny", &b, LM_EFORMAT, "too small");

    header(&b, 3, 0, 0); b.data[0] = 'X';
    expect_fail("magic", &b, LM_EFORMAT, "bad magic");

    header(&b, 1, 0, 0);
    expect_fail("version 1", &b, LM_ENOTSUP, "version 1");
    header(&b, 4, 0, 0);
    expect_fail("version 4", &b, LM_ENOTSUP, "version 4");

    header(&b, 3, 0, UINT64_MAX);
    expect_fail("huge n_kv", &b, LM_EFORMAT, "metadata entries exceed");
    header(&b, 3, 1ull << 60, 0);
    expect_fail("huge n_tensors", &b, LM_EFORMAT, "tensors exceed");

    header(&b, 3, 0, 1); u64(&b, 1ull << 62); u32(&b, 4);
    expect_fail("key length", &b, LM_EFORMAT, "key past the end");

    header(&b, 3, 0, 1); str(&b, "a.b"); u32(&b, 99); u32(&b, 0);
    expect_fail("value type", &b, LM_EFORMAT, "key a.b: unknown value type 99");

    header(&b, 3, 0, 1); str(&b, "toks"); u32(&b, LM_GGUF_TYPE_ARRAY); u32(&b, LM_GGUF_TYPE_STRING); u64(&b, 1ull << 40);
    expect_fail("string array count", &b, LM_EFORMAT, "key toks: array of 1099511627776 strings");

    header(&b, 3, 0, 1); str(&b, "f"); u32(&b, LM_GGUF_TYPE_ARRAY); u32(&b, LM_GGUF_TYPE_FLOAT32); u64(&b, 3); u32(&b, 0);
    expect_fail("f32 array past end", &b, LM_EFORMAT, "key f: array of 3 f32");

    header(&b, 3, 0, 1); str(&b, "s"); u32(&b, LM_GGUF_TYPE_STRING); u64(&b, 100); ASSERT_OK(lm_buf_append(&b, "abc", 3));
    expect_fail("string past end", &b, LM_EFORMAT, "key s: string length");

    header(&b, 3, 0, 1); str(&b, "deep"); u32(&b, LM_GGUF_TYPE_ARRAY);
    for (int i = 0; i < 20; i++) { u32(&b, LM_GGUF_TYPE_ARRAY); u64(&b, 1); }
    expect_fail("nesting", &b, LM_EFORMAT, "key deep: arrays nested deeper");

    header(&b, 3, 0, 2); kv_u32(&b, "x", 1); kv_u32(&b, "x", 2);
    expect_fail("dup key", &b, LM_EFORMAT, "duplicate key x");

    header(&b, 3, 0, 1); kv_u32(&b, "general.alignment", 48);
    expect_fail("alignment", &b, LM_EFORMAT, "general.alignment: 48 is not a power of two");
    header(&b, 3, 0, 1); kv_u32(&b, "general.alignment", 0);
    expect_fail("alignment 0", &b, LM_EFORMAT, "not a power of two");
    header(&b, 3, 0, 1); str(&b, "general.alignment"); u32(&b, LM_GGUF_TYPE_UINT64); u64(&b, 32);
    expect_fail("alignment type", &b, LM_EFORMAT, "expected u32");

    header(&b, 3, 1, 0); tinfo(&b, "t5", 5, (uint64_t[]){1, 1, 1, 1, 1}, 0, 0); pad_to(&b, 32, 64);
    expect_fail("n_dims", &b, LM_EFORMAT, "tensor t5: 5 dimensions");

    header(&b, 3, 1, 0); tinfo(&b, "z", 2, (uint64_t[]){4, 0}, 0, 0); pad_to(&b, 32, 64);
    expect_fail("zero dim", &b, LM_EFORMAT, "tensor z: dimension 1 is 0");

    header(&b, 3, 1, 0); tinfo(&b, "big", 3, (uint64_t[]){1ull << 32, 1ull << 32, 1ull << 32}, 0, 0); pad_to(&b, 32, 64);
    expect_fail("overflow", &b, LM_EFORMAT, "tensor big: element count overflows");

    header(&b, 3, 1, 0); tinfo(&b, "bytes", 2, (uint64_t[]){1ull << 20, 1ull << 20}, 0, 0); pad_to(&b, 32, 64);
    expect_fail("past end", &b, LM_EFORMAT, "tensor bytes: data");

    header(&b, 3, 1, 0); tinfo(&b, "wt", 2, ne2, 99, 0); pad_to(&b, 32, 256);
    expect_fail("type", &b, LM_ENOTSUP, "tensor wt: unsupported type 99");

    header(&b, 3, 1, 0); tinfo(&b, "q", 2, (uint64_t[]){16, 2}, LM_TYPE_Q4_0, 0); pad_to(&b, 32, 256);
    expect_fail("block size", &b, LM_EFORMAT, "tensor q: row of 16 not a multiple");

    header(&b, 3, 1, 0); tinfo(&b, "mis", 2, ne2, 0, 4); pad_to(&b, 32, 512);
    expect_fail("misaligned", &b, LM_EFORMAT, "tensor mis: offset 4 not aligned to 32");

    header(&b, 3, 1, 0); tinfo(&b, "far", 2, ne2, 0, 1ull << 40); pad_to(&b, 32, 512);
    expect_fail("offset past end", &b, LM_EFORMAT, "tensor far: data (offset 1099511627776");

    header(&b, 3, 2, 0); tinfo(&b, "a", 2, ne2, 0, 0); tinfo(&b, "b", 2, ne2, 0, 128); pad_to(&b, 32, 512);
    expect_fail("overlap", &b, LM_EFORMAT, "tensor b overlaps tensor a");

    header(&b, 3, 2, 0); tinfo(&b, "a", 2, ne2, 0, 0); tinfo(&b, "a", 2, ne2, 0, 256); pad_to(&b, 32, 512);
    expect_fail("dup tensor", &b, LM_EFORMAT, "duplicate tensor a");

    /* a name with a newline is sanitised so the message stays one line */
    header(&b, 3, 2, 0); tinfo(&b, "x\ny", 2, ne2, 0, 0); tinfo(&b, "x\ny", 2, ne2, 0, 256); pad_to(&b, 32, 512);
    expect_fail("dup tensor newline", &b, LM_EFORMAT, "duplicate tensor x?y");

    header(&b, 3, 1, 0);
    tinfo(&b, "a.very.long.tensor.name.that.goes.on.and.on.past.the.ggml.limit.of.64", 2, ne2, 0, 0);
    pad_to(&b, 32, 512);
    expect_fail("long name", &b, LM_EFORMAT, "name longer than 63 bytes");

    header(&b, 3, 0, 1); u64(&b, 3); ASSERT_OK(lm_buf_append(&b, "a\0b", 3)); u32(&b, LM_GGUF_TYPE_UINT8); ASSERT_OK(lm_buf_append_char(&b, 1));
    expect_fail("nul key", &b, LM_EFORMAT, "key a?b: contains a NUL byte");

    /* a valid file with two adjacent tensors for contrast */
    header(&b, 3, 2, 0); tinfo(&b, "a", 2, ne2, 0, 0); tinfo(&b, "b", 2, ne2, 0, 256); pad_to(&b, 32, 512);
    struct lm_gguf *g;
    ASSERT_OK(lm_gguf_open_memory(b.data, b.len, &g, NULL));
    ASSERT_EQ(lm_gguf_n_tensors(g), 2);
    ASSERT_EQ(lm_gguf_find_tensor(g, "b")->size, 256);
    lm_gguf_close(g);
    lm_buf_free(&b);
}

/* Writes one of everything. */
static struct lm_gguf_writer *sample_writer(void)
{
    struct lm_gguf_writer *w = lm_gguf_writer_new();
    ASSERT(w);
    ASSERT_OK(lm_gguf_set_str(w, "general.architecture", "llama"));
    ASSERT_OK(lm_gguf_set_u8(w, "u8", 200));
    ASSERT_OK(lm_gguf_set_i8(w, "i8", -5));
    ASSERT_OK(lm_gguf_set_u16(w, "u16", 60000));
    ASSERT_OK(lm_gguf_set_i16(w, "i16", -30000));
    ASSERT_OK(lm_gguf_set_u32(w, "u32", 4000000000u));
    ASSERT_OK(lm_gguf_set_i32(w, "i32", -7));
    ASSERT_OK(lm_gguf_set_u64(w, "u64", UINT64_MAX));
    ASSERT_OK(lm_gguf_set_i64(w, "i64", -(1ll << 40)));
    ASSERT_OK(lm_gguf_set_f32(w, "f32", 1.5f));
    ASSERT_OK(lm_gguf_set_f64(w, "f64", 0.1));
    ASSERT_OK(lm_gguf_set_bool(w, "yes", true));
    float fs[3] = {1, 2, 3.5f};
    ASSERT_OK(lm_gguf_set_arr(w, "farr", LM_GGUF_TYPE_FLOAT32, fs, 3));
    int32_t is[4] = {-1, 0, 1, 1 << 30};
    ASSERT_OK(lm_gguf_set_arr(w, "iarr", LM_GGUF_TYPE_INT32, is, 4));
    struct lm_str ss[3] = {LM_STR("a"), LM_STR(""), LM_STR("héllo")};
    ASSERT_OK(lm_gguf_set_arr_str(w, "sarr", ss, 3));
    /* nested: [[1, 2], ["x"]] */
    struct lm_buf n = {0};
    u32(&n, LM_GGUF_TYPE_ARRAY); u64(&n, 2);
    u32(&n, LM_GGUF_TYPE_UINT16); u64(&n, 2);
    uint16_t v16[2] = {1, 2};
    ASSERT_OK(lm_buf_append(&n, v16, 4));
    u32(&n, LM_GGUF_TYPE_STRING); u64(&n, 1); str(&n, "x");
    ASSERT_OK(lm_gguf_set_raw(w, "nested", LM_GGUF_TYPE_ARRAY, n.data, n.len));
    lm_buf_free(&n);
    ASSERT_OK(lm_gguf_set_u32(w, "replaced", 1));
    ASSERT_OK(lm_gguf_set_u32(w, "replaced", 2));
    float t1[64];
    for (int i = 0; i < 64; i++) t1[i] = (float)i;
    ASSERT_OK(lm_gguf_add_tensor(w, "t.f32", LM_TYPE_F32, 2, (int64_t[]){32, 2}, t1, sizeof t1));
    uint8_t q[18 * 2];
    lm_quantize_row(LM_TYPE_Q4_0, t1, q, 64);
    ASSERT_OK(lm_gguf_add_tensor(w, "t.q4", LM_TYPE_Q4_0, 1, (int64_t[]){64}, q, sizeof q));
    ASSERT_EQ(lm_gguf_add_tensor(w, "t.q4", LM_TYPE_Q4_0, 1, (int64_t[]){64}, q, sizeof q), LM_EINVAL);
    ASSERT_EQ(lm_gguf_add_tensor(w, "bad", LM_TYPE_Q4_0, 1, (int64_t[]){64}, q, 10), LM_EINVAL);
    return w;
}

static void check_sample(const struct lm_gguf *g)
{
    uint32_t u32v;
    int32_t i32v;
    uint64_t u64v;
    int64_t i64v;
    float f;
    bool bv;
    struct lm_str s;
    ASSERT_OK(lm_gguf_get_str(g, "general.architecture", &s));
    ASSERT(lm_str_eq_c(s, "llama"));
    ASSERT_OK(lm_gguf_get_u32(g, "u8", &u32v)); ASSERT_EQ(u32v, 200);
    ASSERT_OK(lm_gguf_get_i32(g, "i8", &i32v)); ASSERT_EQ(i32v, -5);
    ASSERT_EQ(lm_gguf_get_u32(g, "i8", &u32v), LM_ERANGE);
    ASSERT_OK(lm_gguf_get_i32(g, "u16", &i32v)); ASSERT_EQ(i32v, 60000);
    ASSERT_OK(lm_gguf_get_i64(g, "i16", &i64v)); ASSERT_EQ(i64v, -30000);
    ASSERT_OK(lm_gguf_get_u32(g, "u32", &u32v)); ASSERT_EQ(u32v, 4000000000u);
    ASSERT_EQ(lm_gguf_get_i32(g, "u32", &i32v), LM_ERANGE);
    ASSERT_OK(lm_gguf_get_u64(g, "u64", &u64v)); ASSERT(u64v == UINT64_MAX);
    ASSERT_EQ(lm_gguf_get_i64(g, "u64", &i64v), LM_ERANGE);
    ASSERT_OK(lm_gguf_get_i64(g, "i64", &i64v)); ASSERT_EQ(i64v, -(1ll << 40));
    ASSERT_EQ(lm_gguf_get_u64(g, "i64", &u64v), LM_ERANGE);
    ASSERT_OK(lm_gguf_get_f32(g, "f32", &f)); ASSERT_NEAR(f, 1.5, 0);
    ASSERT_OK(lm_gguf_get_f32(g, "f64", &f)); ASSERT_NEAR(f, 0.1, 1e-7);
    ASSERT_EQ(lm_gguf_get_f32(g, "u32", &f), LM_EFORMAT);
    ASSERT_EQ(lm_gguf_get_u32(g, "f32", &u32v), LM_EFORMAT);
    ASSERT_EQ(lm_gguf_get_u32(g, "yes", &u32v), LM_EFORMAT);
    ASSERT_OK(lm_gguf_get_bool(g, "yes", &bv)); ASSERT(bv);
    ASSERT_EQ(lm_gguf_get_bool(g, "u8", &bv), LM_EFORMAT);
    ASSERT_EQ(lm_gguf_get_u32(g, "missing", &u32v), LM_ENOENT);
    ASSERT_EQ(lm_gguf_get_str(g, "u8", &s), LM_EFORMAT);
    ASSERT_OK(lm_gguf_get_u32(g, "replaced", &u32v)); ASSERT_EQ(u32v, 2);

    struct lm_gguf_arr a, sub;
    ASSERT_EQ(lm_gguf_get_arr(g, "u8", &a), LM_EFORMAT);
    ASSERT_OK(lm_gguf_get_arr(g, "farr", &a));
    ASSERT_EQ(a.type, LM_GGUF_TYPE_FLOAT32);
    ASSERT_EQ(a.n, 3);
    ASSERT_OK(lm_gguf_arr_f32(&a, 2, &f)); ASSERT_NEAR(f, 3.5, 0);
    ASSERT_EQ(lm_gguf_arr_f32(&a, 3, &f), LM_ERANGE);
    ASSERT_EQ(lm_gguf_arr_str(&a, 0, &s), LM_EFORMAT);
    ASSERT(lm_gguf_arr_raw(&a) != NULL);
    ASSERT_OK(lm_gguf_get_arr(g, "iarr", &a));
    ASSERT_OK(lm_gguf_arr_i64(&a, 0, &i64v)); ASSERT_EQ(i64v, -1);
    ASSERT_OK(lm_gguf_arr_i64(&a, 3, &i64v)); ASSERT_EQ(i64v, 1 << 30);
    ASSERT_OK(lm_gguf_get_arr(g, "sarr", &a));
    ASSERT(lm_gguf_arr_raw(&a) == NULL);
    ASSERT_OK(lm_gguf_arr_str(&a, 2, &s)); ASSERT(lm_str_eq_c(s, "héllo"));
    ASSERT_OK(lm_gguf_arr_str(&a, 1, &s)); ASSERT_EQ(s.len, 0);
    ASSERT_OK(lm_gguf_arr_str(&a, 0, &s)); ASSERT(lm_str_eq_c(s, "a"));
    ASSERT_OK(lm_gguf_get_arr(g, "nested", &a));
    ASSERT_EQ(a.type, LM_GGUF_TYPE_ARRAY);
    ASSERT_OK(lm_gguf_arr_arr(&a, 1, &sub));
    ASSERT_OK(lm_gguf_arr_str(&sub, 0, &s)); ASSERT(lm_str_eq_c(s, "x"));
    ASSERT_OK(lm_gguf_arr_arr(&a, 0, &sub));
    ASSERT_OK(lm_gguf_arr_i64(&sub, 1, &i64v)); ASSERT_EQ(i64v, 2);

    struct lm_buf r = {0};
    ASSERT_OK(lm_gguf_render_value(g, lm_gguf_find_key(g, "nested"), 8, &r));
    ASSERT_STR_EQ(r.data, "[[1, 2], [x]]");
    lm_buf_clear(&r);
    ASSERT_OK(lm_gguf_render_value(g, lm_gguf_find_key(g, "iarr"), 2, &r));
    ASSERT_STR_EQ(r.data, "[-1, 0, ...]");
    lm_buf_free(&r);

    ASSERT_EQ(lm_gguf_n_tensors(g), 2);
    const struct lm_gguf_tensor *t = lm_gguf_find_tensor(g, "t.f32");
    ASSERT(t && t->type == LM_TYPE_F32 && t->n_dims == 2 && t->ne[0] == 32 && t->ne[1] == 2 && t->ne[2] == 1);
    ASSERT_EQ(t->size, 256);
    float v;
    memcpy(&v, (const char *)t->data + 4 * 33, 4);
    ASSERT_NEAR(v, 33, 0);
    t = lm_gguf_find_tensor(g, "t.q4");
    ASSERT(t && t->size == 36);
    ASSERT_EQ(((const char *)t->data - (const char *)lm_gguf_bytes(g)) % 32, 0);
    ASSERT(lm_gguf_find_tensor(g, "nope") == NULL);
}

static void test_round_trip(void)
{
    struct lm_gguf_writer *w = sample_writer();
    struct lm_buf b = {0};
    ASSERT_OK(lm_gguf_writer_to_buf(w, &b));
    struct lm_gguf *g;
    struct lm_error err = {0};
    if (lm_gguf_open_memory(b.data, b.len, &g, &err) < 0) LM_FAIL_("%s", err.msg);
    ASSERT_EQ(lm_gguf_version(g), 3);
    ASSERT_EQ(lm_gguf_alignment(g), 32);
    check_sample(g);

    /* copy every key into a new v2 file with 64-byte alignment: values survive verbatim */
    struct lm_gguf_writer *w2 = lm_gguf_writer_new();
    lm_gguf_writer_set_version(w2, 2);
    for (int64_t i = 0; i < lm_gguf_n_kv(g); i++) ASSERT_OK(lm_gguf_copy_kv(w2, g, i));
    ASSERT_OK(lm_gguf_set_u32(w2, "general.alignment", 64));
    for (int64_t i = 0; i < lm_gguf_n_tensors(g); i++) {
        const struct lm_gguf_tensor *t = lm_gguf_tensor(g, i);
        char *name = lm_str_dup(t->name);
        ASSERT_OK(lm_gguf_add_tensor(w2, name, t->type, t->n_dims, t->ne, t->data, t->size));
        free(name);
    }
    const char *path = lm_test_tmp("copy.gguf");
    ASSERT_OK(lm_gguf_writer_write(w2, path, &err));
    struct lm_gguf *g2;
    if (lm_gguf_open(path, &g2, &err) < 0) LM_FAIL_("%s", err.msg);
    ASSERT_EQ(lm_gguf_version(g2), 2);
    ASSERT_EQ(lm_gguf_alignment(g2), 64);
    check_sample(g2);
    double d;
    size_t len;
    const void *raw = lm_gguf_value_bytes(g2, lm_gguf_find_key(g2, "f64"), &len);
    ASSERT_EQ(len, 8);
    memcpy(&d, raw, 8);
    ASSERT(d == 0.1);
    lm_gguf_close(g2);

    /* every truncation of the valid file fails cleanly (the fuzz target's basic case) */
    const struct lm_gguf_tensor *last = lm_gguf_find_tensor(g, "t.q4");
    size_t end = lm_gguf_data_offset(g) + last->offset + last->size;  /* the rest is padding */
    for (size_t n = 0; n < end; n += (n < 600 ? 1 : 13)) {
        struct lm_gguf *gt;
        int rc = lm_gguf_open_memory(b.data, n, &gt, &err);
        ASSERT(rc < 0);
        ASSERT(err.msg[0] != 0);
    }
    lm_gguf_close(g);
    lm_gguf_writer_free(w);
    lm_gguf_writer_free(w2);
    lm_buf_free(&b);

    ASSERT_EQ(lm_gguf_open(lm_test_tmp("absent.gguf"), &g, &err), LM_ENOENT);
    ASSERT(strstr(err.msg, "absent.gguf"));
}

static void test_fixtures(void)
{
    struct lm_gguf *g;
    struct lm_error err = {0};
    if (lm_gguf_open(lm_test_fixture("llama-2-tiny-random.gguf"), &g, &err) < 0) {
        if (err.code == LM_ENOENT) { printf("SKIP: fixtures absent\n"); exit(77); }
        LM_FAIL_("%s", err.msg);
    }
    struct lm_str s;
    uint32_t u;
    ASSERT_OK(lm_gguf_get_str(g, "general.architecture", &s));
    ASSERT(lm_str_eq_c(s, "llama"));
    ASSERT_OK(lm_gguf_get_u32(g, "llama.embedding_length", &u)); ASSERT_EQ(u, 8);
    struct lm_gguf_arr a;
    ASSERT_OK(lm_gguf_get_arr(g, "tokenizer.ggml.tokens", &a));
    ASSERT_EQ(a.n, 32000);
    ASSERT_OK(lm_gguf_arr_str(&a, 1, &s)); ASSERT(lm_str_eq_c(s, "<s>"));
    ASSERT_OK(lm_gguf_arr_str(&a, 31999, &s)); ASSERT(s.len > 0);
    const struct lm_gguf_tensor *t = lm_gguf_find_tensor(g, "token_embd.weight");
    ASSERT(t && t->type == LM_TYPE_F16 && t->ne[0] == 8 && t->ne[1] == 32000);
    ASSERT(lm_gguf_find_tensor(g, "output.weight"));
    lm_gguf_close(g);

    ASSERT_OK(lm_gguf_open(lm_test_fixture("llama3-vocab-tiny.gguf"), &g, &err));
    ASSERT_OK(lm_gguf_get_arr(g, "tokenizer.ggml.merges", &a));
    ASSERT_EQ(a.n, 280147);
    ASSERT_OK(lm_gguf_get_arr(g, "tokenizer.ggml.tokens", &a));
    ASSERT_OK(lm_gguf_arr_str(&a, 128000, &s)); ASSERT(lm_str_eq_c(s, "<|begin_of_text|>"));
    ASSERT(lm_gguf_find_tensor(g, "output.weight") == NULL);
    t = lm_gguf_find_tensor(g, "token_embd.weight");
    ASSERT(t && t->type == LM_TYPE_Q4_0);
    lm_gguf_close(g);

    ASSERT_OK(lm_gguf_open(lm_test_fixture("bert-uncased-vocab-tiny.gguf"), &g, &err));
    ASSERT_OK(lm_gguf_get_str(g, "general.architecture", &s));
    ASSERT(lm_str_eq_c(s, "bert"));
    ASSERT_OK(lm_gguf_get_u32(g, "tokenizer.ggml.cls_token_id", &u)); ASSERT_EQ(u, 101);
    lm_gguf_close(g);
}

int main(void)
{
    RUN_TEST(test_corrupt_table);
    RUN_TEST(test_round_trip);
    RUN_TEST(test_fixtures);
    return 0;
}
