/* gguf.c — fuzz target for the GGUF reader: parse arbitrary bytes, then read back everything
 * the parse accepted (every key rendered, every array element, every tensor's bytes). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lm/buf.h"
#include "lm/gguf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Touches every element of a (nested arrays recursively). */
static void walk(const struct lm_gguf_arr *a, int depth)
{
    uint64_t n = a->n < 64 ? a->n : 64;
    for (uint64_t i = 0; i < n; i++) {
        int64_t iv;
        float f;
        struct lm_str s;
        struct lm_gguf_arr sub;
        lm_gguf_arr_i64(a, i, &iv);
        lm_gguf_arr_f32(a, i, &f);
        if (lm_gguf_arr_str(a, i, &s) == 0 && s.len) (void)(volatile char)s.ptr[s.len - 1];
        if (lm_gguf_arr_arr(a, i, &sub) == 0 && depth < LM_GGUF_MAX_DEPTH) walk(&sub, depth + 1);
    }
    if (a->n) {
        struct lm_str s;
        lm_gguf_arr_str(a, a->n - 1, &s);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lm_gguf *g;
    struct lm_error err;
    if (lm_gguf_open_memory(data, size, &g, &err) < 0) return 0;
    struct lm_buf b = {0};
    for (int64_t i = 0; i < lm_gguf_n_kv(g); i++) {
        lm_buf_clear(&b);
        lm_gguf_render_value(g, i, 16, &b);
        char *key = lm_str_dup(lm_gguf_key_name(g, i));
        if (!key) continue;
        uint32_t u;
        int32_t s32;
        uint64_t u64;
        int64_t i64;
        float f;
        bool bv;
        struct lm_str s;
        struct lm_gguf_arr a;
        lm_gguf_get_u32(g, key, &u);
        lm_gguf_get_i32(g, key, &s32);
        lm_gguf_get_u64(g, key, &u64);
        lm_gguf_get_i64(g, key, &i64);
        lm_gguf_get_f32(g, key, &f);
        lm_gguf_get_bool(g, key, &bv);
        lm_gguf_get_str(g, key, &s);
        if (lm_gguf_get_arr(g, key, &a) == 0) walk(&a, 0);
        free(key);
    }
    lm_buf_free(&b);
    volatile uint8_t sink = 0;
    for (int64_t i = 0; i < lm_gguf_n_tensors(g); i++) {
        const struct lm_gguf_tensor *t = lm_gguf_tensor(g, i);
        const uint8_t *p = t->data;
        if (t->size) sink ^= p[0] ^ p[t->size - 1];
        char *name = lm_str_dup(t->name);
        if (name && lm_gguf_find_tensor(g, name) != t) __builtin_trap();
        free(name);
    }
    (void)sink;
    lm_gguf_close(g);
    return 0;
}
