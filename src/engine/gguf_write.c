/* gguf_write.c — the GGUF writer: metadata and tensors collected in memory, serialised in
 * one pass (see lm/gguf_write.h). */
#include "lm/gguf_write.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lm/quant.h"

struct wkv {
    char *key;
    enum lm_gguf_type type;
    struct lm_buf val;        /* encoded value bytes */
};

struct wtensor {
    char *name;
    int type, n_dims;
    int64_t ne[LM_GGUF_MAX_DIMS];
    void *data;
    size_t size;
};

struct lm_gguf_writer {
    uint32_t version;
    struct wkv *kv;
    size_t n_kv, cap_kv;
    struct wtensor *t;
    size_t n_t, cap_t;
};

struct lm_gguf_writer *lm_gguf_writer_new(void)
{
    struct lm_gguf_writer *w = calloc(1, sizeof *w);
    if (w) w->version = 3;
    return w;
}

void lm_gguf_writer_free(struct lm_gguf_writer *w)
{
    if (!w) return;
    for (size_t i = 0; i < w->n_kv; i++) {
        free(w->kv[i].key);
        lm_buf_free(&w->kv[i].val);
    }
    for (size_t i = 0; i < w->n_t; i++) {
        free(w->t[i].name);
        free(w->t[i].data);
    }
    free(w->kv);
    free(w->t);
    free(w);
}

void lm_gguf_writer_set_version(struct lm_gguf_writer *w, uint32_t version)
{
    w->version = version == 2 ? 2 : 3;
}

/* The entry for key, created (empty) at the end when absent; NULL on ENOMEM. */
static struct wkv *slot(struct lm_gguf_writer *w, const char *key, enum lm_gguf_type type)
{
    for (size_t i = 0; i < w->n_kv; i++) {
        if (!strcmp(w->kv[i].key, key)) {
            lm_buf_clear(&w->kv[i].val);
            w->kv[i].type = type;
            return &w->kv[i];
        }
    }
    if (w->n_kv == w->cap_kv) {
        size_t nc = w->cap_kv ? w->cap_kv * 2 : 32;
        struct wkv *nk = realloc(w->kv, nc * sizeof *nk);
        if (!nk) return NULL;
        w->kv = nk;
        w->cap_kv = nc;
    }
    struct wkv *kv = &w->kv[w->n_kv];
    memset(kv, 0, sizeof *kv);
    kv->key = strdup(key);
    if (!kv->key) return NULL;
    kv->type = type;
    w->n_kv++;
    return kv;
}

void lm_gguf_unset(struct lm_gguf_writer *w, const char *key)
{
    for (size_t i = 0; i < w->n_kv; i++) {
        if (!strcmp(w->kv[i].key, key)) {
            free(w->kv[i].key);
            lm_buf_free(&w->kv[i].val);
            memmove(&w->kv[i], &w->kv[i + 1], (w->n_kv - i - 1) * sizeof *w->kv);
            w->n_kv--;
            return;
        }
    }
}

int lm_gguf_set_raw(struct lm_gguf_writer *w, const char *key, enum lm_gguf_type type, const void *bytes,
                    size_t len)
{
    if ((unsigned)type >= LM_GGUF_TYPE_COUNT) return LM_EINVAL;
    struct wkv *kv = slot(w, key, type);
    if (!kv) return LM_ENOMEM;
    return lm_buf_append(&kv->val, bytes, len);
}

int lm_gguf_set_u8(struct lm_gguf_writer *w, const char *k, uint8_t v) { return lm_gguf_set_raw(w, k, LM_GGUF_TYPE_UINT8, &v, 1); }
int lm_gguf_set_i8(struct lm_gguf_writer *w, const char *k, int8_t v) { return lm_gguf_set_raw(w, k, LM_GGUF_TYPE_INT8, &v, 1); }
int lm_gguf_set_u16(struct lm_gguf_writer *w, const char *k, uint16_t v) { return lm_gguf_set_raw(w, k, LM_GGUF_TYPE_UINT16, &v, 2); }
int lm_gguf_set_i16(struct lm_gguf_writer *w, const char *k, int16_t v) { return lm_gguf_set_raw(w, k, LM_GGUF_TYPE_INT16, &v, 2); }
int lm_gguf_set_u32(struct lm_gguf_writer *w, const char *k, uint32_t v) { return lm_gguf_set_raw(w, k, LM_GGUF_TYPE_UINT32, &v, 4); }
int lm_gguf_set_i32(struct lm_gguf_writer *w, const char *k, int32_t v) { return lm_gguf_set_raw(w, k, LM_GGUF_TYPE_INT32, &v, 4); }
int lm_gguf_set_u64(struct lm_gguf_writer *w, const char *k, uint64_t v) { return lm_gguf_set_raw(w, k, LM_GGUF_TYPE_UINT64, &v, 8); }
int lm_gguf_set_i64(struct lm_gguf_writer *w, const char *k, int64_t v) { return lm_gguf_set_raw(w, k, LM_GGUF_TYPE_INT64, &v, 8); }
int lm_gguf_set_f32(struct lm_gguf_writer *w, const char *k, float v) { return lm_gguf_set_raw(w, k, LM_GGUF_TYPE_FLOAT32, &v, 4); }
int lm_gguf_set_f64(struct lm_gguf_writer *w, const char *k, double v) { return lm_gguf_set_raw(w, k, LM_GGUF_TYPE_FLOAT64, &v, 8); }

int lm_gguf_set_bool(struct lm_gguf_writer *w, const char *k, bool v)
{
    uint8_t b = v;
    return lm_gguf_set_raw(w, k, LM_GGUF_TYPE_BOOL, &b, 1);
}

/* Appends a string (u64 length + bytes). */
static int put_str(struct lm_buf *b, struct lm_str s)
{
    uint64_t n = s.len;
    int rc = lm_buf_append(b, &n, 8);
    return rc ? rc : lm_buf_append(b, s.ptr, s.len);
}

int lm_gguf_set_strn(struct lm_gguf_writer *w, const char *key, struct lm_str v)
{
    struct wkv *kv = slot(w, key, LM_GGUF_TYPE_STRING);
    return kv ? put_str(&kv->val, v) : LM_ENOMEM;
}

int lm_gguf_set_str(struct lm_gguf_writer *w, const char *key, const char *v)
{
    return lm_gguf_set_strn(w, key, lm_str_c(v));
}

/* Element size of a numeric type, 0 otherwise. */
static size_t elem_size(enum lm_gguf_type t)
{
    switch (t) {
    case LM_GGUF_TYPE_UINT8: case LM_GGUF_TYPE_INT8: case LM_GGUF_TYPE_BOOL: return 1;
    case LM_GGUF_TYPE_UINT16: case LM_GGUF_TYPE_INT16: return 2;
    case LM_GGUF_TYPE_UINT32: case LM_GGUF_TYPE_INT32: case LM_GGUF_TYPE_FLOAT32: return 4;
    case LM_GGUF_TYPE_UINT64: case LM_GGUF_TYPE_INT64: case LM_GGUF_TYPE_FLOAT64: return 8;
    default: return 0;
    }
}

/* Appends an array header. */
static int put_arr_header(struct lm_buf *b, enum lm_gguf_type et, uint64_t n)
{
    uint32_t t = (uint32_t)et;
    int rc = lm_buf_append(b, &t, 4);
    return rc ? rc : lm_buf_append(b, &n, 8);
}

int lm_gguf_set_arr(struct lm_gguf_writer *w, const char *key, enum lm_gguf_type type, const void *data, size_t n)
{
    size_t es = elem_size(type);
    if (!es) return LM_EINVAL;
    struct wkv *kv = slot(w, key, LM_GGUF_TYPE_ARRAY);
    if (!kv) return LM_ENOMEM;
    int rc = put_arr_header(&kv->val, type, n);
    return rc ? rc : lm_buf_append(&kv->val, data, n * es);
}

int lm_gguf_set_arr_str(struct lm_gguf_writer *w, const char *key, const struct lm_str *strs, size_t n)
{
    struct wkv *kv = slot(w, key, LM_GGUF_TYPE_ARRAY);
    if (!kv) return LM_ENOMEM;
    int rc = put_arr_header(&kv->val, LM_GGUF_TYPE_STRING, n);
    for (size_t i = 0; i < n && rc == 0; i++) rc = put_str(&kv->val, strs[i]);
    return rc;
}

int lm_gguf_copy_kv(struct lm_gguf_writer *w, const struct lm_gguf *g, int64_t i)
{
    size_t len;
    const void *bytes = lm_gguf_value_bytes(g, i, &len);
    if (!bytes) return LM_EINVAL;
    char *key = lm_str_dup(lm_gguf_key_name(g, i));
    if (!key) return LM_ENOMEM;
    int rc = lm_gguf_set_raw(w, key, lm_gguf_key_type(g, i), bytes, len);
    free(key);
    return rc;
}

int lm_gguf_add_tensor(struct lm_gguf_writer *w, const char *name, int type, int n_dims, const int64_t *ne,
                       const void *data, size_t size)
{
    const struct lm_type_traits *tr = lm_type_traits(type);
    if (!tr || n_dims < 1 || n_dims > LM_GGUF_MAX_DIMS) return LM_EINVAL;
    int64_t rows = 1;
    for (int d = 1; d < n_dims; d++) rows *= ne[d];
    size_t row = lm_row_size((enum lm_type)type, ne[0]);
    if (!row || row * (size_t)rows != size) return LM_EINVAL;
    for (size_t i = 0; i < w->n_t; i++)
        if (!strcmp(w->t[i].name, name)) return LM_EINVAL;
    if (w->n_t == w->cap_t) {
        size_t nc = w->cap_t ? w->cap_t * 2 : 32;
        struct wtensor *nt = realloc(w->t, nc * sizeof *nt);
        if (!nt) return LM_ENOMEM;
        w->t = nt;
        w->cap_t = nc;
    }
    struct wtensor *t = &w->t[w->n_t];
    memset(t, 0, sizeof *t);
    t->name = strdup(name);
    t->data = malloc(size ? size : 1);
    if (!t->name || !t->data) {
        free(t->name);
        free(t->data);
        return LM_ENOMEM;
    }
    memcpy(t->data, data, size);
    t->type = type;
    t->n_dims = n_dims;
    for (int d = 0; d < LM_GGUF_MAX_DIMS; d++) t->ne[d] = d < n_dims ? ne[d] : 1;
    t->size = size;
    w->n_t++;
    return 0;
}

/* Alignment the file will declare. */
static size_t alignment(const struct lm_gguf_writer *w)
{
    for (size_t i = 0; i < w->n_kv; i++) {
        if (!strcmp(w->kv[i].key, "general.alignment") && w->kv[i].type == LM_GGUF_TYPE_UINT32 && w->kv[i].val.len == 4) {
            uint32_t a;
            memcpy(&a, w->kv[i].val.data, 4);
            if (a && !(a & (a - 1))) return a;
        }
    }
    return LM_GGUF_DEFAULT_ALIGNMENT;
}

/* Appends zero bytes until out->len is a multiple of align. */
static int pad(struct lm_buf *out, size_t base, size_t align)
{
    int rc = 0;
    while (rc == 0 && (out->len - base) % align) rc = lm_buf_append_char(out, 0);
    return rc;
}

/* Appends the header, metadata and tensor infos, padded to the alignment (everything before
 * the tensor data). */
static int header_to_buf(const struct lm_gguf_writer *w, struct lm_buf *out, size_t base, size_t align)
{
    uint32_t magic = 0x46554747u, version = w->version;
    uint64_t nt = w->n_t, nkv = w->n_kv;
    int rc = lm_buf_append(out, &magic, 4);
    if (!rc) rc = lm_buf_append(out, &version, 4);
    if (!rc) rc = lm_buf_append(out, &nt, 8);
    if (!rc) rc = lm_buf_append(out, &nkv, 8);
    for (size_t i = 0; i < w->n_kv && !rc; i++) {
        uint32_t t = (uint32_t)w->kv[i].type;
        rc = put_str(out, lm_str_c(w->kv[i].key));
        if (!rc) rc = lm_buf_append(out, &t, 4);
        if (!rc) rc = lm_buf_append(out, w->kv[i].val.data, w->kv[i].val.len);
    }
    uint64_t off = 0;
    for (size_t i = 0; i < w->n_t && !rc; i++) {
        const struct wtensor *t = &w->t[i];
        uint32_t nd = (uint32_t)t->n_dims, type = (uint32_t)t->type;
        rc = put_str(out, lm_str_c(t->name));
        if (!rc) rc = lm_buf_append(out, &nd, 4);
        for (int d = 0; d < t->n_dims && !rc; d++) {
            uint64_t ne = (uint64_t)t->ne[d];
            rc = lm_buf_append(out, &ne, 8);
        }
        if (!rc) rc = lm_buf_append(out, &type, 4);
        if (!rc) rc = lm_buf_append(out, &off, 8);
        off += (t->size + align - 1) / align * align;
    }
    return rc ? rc : pad(out, base, align);
}

int lm_gguf_writer_to_buf(const struct lm_gguf_writer *w, struct lm_buf *out)
{
    size_t base = out->len, align = alignment(w);
    int rc = header_to_buf(w, out, base, align);
    for (size_t i = 0; i < w->n_t && !rc; i++) {
        rc = lm_buf_append(out, w->t[i].data, w->t[i].size);
        if (!rc) rc = pad(out, base, align);
    }
    return rc;
}

/* Writes the file to f: the header from memory, then each tensor straight from the writer (no
 * second copy of the weights). */
static bool write_stream(const struct lm_gguf_writer *w, FILE *f)
{
    static const char zeros[256];
    size_t align = alignment(w);
    struct lm_buf h = {0};
    if (header_to_buf(w, &h, 0, align) < 0) {
        lm_buf_free(&h);
        return false;
    }
    bool ok = fwrite(h.data, 1, h.len, f) == h.len;
    lm_buf_free(&h);
    for (size_t i = 0; i < w->n_t && ok; i++) {
        ok = fwrite(w->t[i].data, 1, w->t[i].size, f) == w->t[i].size;
        size_t padn = (align - w->t[i].size % align) % align;
        while (ok && padn) {
            size_t k = padn < sizeof zeros ? padn : sizeof zeros;
            ok = fwrite(zeros, 1, k, f) == k;
            padn -= k;
        }
    }
    return ok;
}

int lm_gguf_writer_write(const struct lm_gguf_writer *w, const char *path, struct lm_error *err)
{
    struct lm_buf tmp = {0};
    if (lm_buf_printf(&tmp, "%s.tmp.%ld", path, (long)getpid()) < 0)
        return lm_error_set(err, LM_ENOMEM, "gguf write: out of memory");
    FILE *f = fopen(tmp.data, "wb");
    int rc = 0;
    if (!f) {
        rc = lm_error_set(err, LM_EIO, "gguf write: cannot create %s: %s", tmp.data, strerror(errno));
    } else {
        bool ok = write_stream(w, f);
        ok = (fflush(f) == 0) && ok;
        ok = (fclose(f) == 0) && ok;
        if (!ok || rename(tmp.data, path) != 0) {
            rc = lm_error_set(err, LM_EIO, "gguf write: cannot write %s: %s", path, strerror(errno));
            unlink(tmp.data);
        }
    }
    lm_buf_free(&tmp);
    return rc;
}
