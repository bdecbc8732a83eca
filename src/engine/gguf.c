/* gguf.c — the GGUF reader: maps a file, validates every byte of its header, then answers
 * typed queries about metadata and tensors without further checks (see lm/gguf.h). */
#include "lm/gguf.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lm/quant.h"

#define GGUF_MAGIC 0x46554747u  /* "GGUF" little-endian */

struct gguf_kv {
    struct lm_str key;
    enum lm_gguf_type type;
    const uint8_t *val;       /* value bytes; for arrays the u32 type + u64 count header */
    uint64_t *offs;           /* string arrays: offsets of each element from the first */
};

struct lm_gguf {
    const uint8_t *bytes;
    size_t size;
    void *map;                /* mmap'ed region (NULL for open_memory) */
    size_t map_size;
    uint32_t version;
    size_t alignment;
    size_t data_offset;
    int64_t n_kv, n_tensors;
    struct gguf_kv *kv;
    struct lm_gguf_tensor *tensors;
    uint32_t *kv_hash, *t_hash;   /* open addressing: index + 1, 0 = empty */
    size_t kv_cap, t_cap;         /* hash capacities (powers of two) */
};

/* Bounds-checked little-endian cursor over the file. */
struct rd {
    const uint8_t *p, *end;
};

static size_t rd_left(const struct rd *r) { return (size_t)(r->end - r->p); }

static bool rd_bytes(struct rd *r, void *dst, size_t n)
{
    if (rd_left(r) < n) return false;
    memcpy(dst, r->p, n);
    r->p += n;
    return true;
}

static bool rd_u32(struct rd *r, uint32_t *v) { return rd_bytes(r, v, 4); }
static bool rd_u64(struct rd *r, uint64_t *v) { return rd_bytes(r, v, 8); }

/* Reads a string (u64 length + bytes) as a slice into the file. */
static bool rd_str(struct rd *r, struct lm_str *s)
{
    uint64_t n;
    if (!rd_u64(r, &n) || n > rd_left(r)) return false;
    s->ptr = (const char *)r->p;
    s->len = (size_t)n;
    r->p += n;
    return true;
}

/* Fixed element size of a value type, 0 for STRING/ARRAY, -1 for an unknown type. */
static int type_size(uint32_t t)
{
    switch (t) {
    case LM_GGUF_TYPE_UINT8: case LM_GGUF_TYPE_INT8: case LM_GGUF_TYPE_BOOL: return 1;
    case LM_GGUF_TYPE_UINT16: case LM_GGUF_TYPE_INT16: return 2;
    case LM_GGUF_TYPE_UINT32: case LM_GGUF_TYPE_INT32: case LM_GGUF_TYPE_FLOAT32: return 4;
    case LM_GGUF_TYPE_UINT64: case LM_GGUF_TYPE_INT64: case LM_GGUF_TYPE_FLOAT64: return 8;
    case LM_GGUF_TYPE_STRING: case LM_GGUF_TYPE_ARRAY: return 0;
    default: return -1;
    }
}

const char *lm_gguf_type_name(enum lm_gguf_type t)
{
    static const char *const names[LM_GGUF_TYPE_COUNT] = {
        "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64",
    };
    return (unsigned)t < LM_GGUF_TYPE_COUNT ? names[t] : "?";
}

/* Copies a name from the file into buf for an error message: bounded, unprintables as '?'. */
static const char *safe_name(struct lm_str s, char *buf, size_t cap)
{
    size_t n = s.len < cap - 4 ? s.len : cap - 4;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        buf[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    if (n < s.len) { memcpy(buf + n, "...", 3); n += 3; }
    buf[n] = 0;
    return buf;
}

static uint64_t hash_str(struct lm_str s)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < s.len; i++) h = (h ^ (unsigned char)s.ptr[i]) * 1099511628211ull;
    return h;
}

static size_t hash_cap(int64_t n)
{
    size_t c = 16;
    while (c < (size_t)n * 2) c *= 2;
    return c;
}

/* Validates (and skips) one value of type t at depth; fills *offs for top-level string
 * arrays when offs is not NULL. Returns 0 or an error naming the key. */
static int skip_value(struct rd *r, uint32_t t, int depth, const char *key, uint64_t **offs,
                      struct lm_error *err)
{
    int sz = type_size(t);
    if (sz < 0) return lm_error_set(err, LM_EFORMAT, "gguf: key %s: unknown value type %u", key, t);
    if (sz > 0) {
        if (rd_left(r) < (size_t)sz) return lm_error_set(err, LM_EFORMAT, "gguf: key %s: value past the end of the file", key);
        r->p += sz;
        return 0;
    }
    if (t == LM_GGUF_TYPE_STRING) {
        struct lm_str s;
        if (!rd_str(r, &s)) return lm_error_set(err, LM_EFORMAT, "gguf: key %s: string length past the end of the file", key);
        return 0;
    }
    if (depth >= LM_GGUF_MAX_DEPTH)
        return lm_error_set(err, LM_EFORMAT, "gguf: key %s: arrays nested deeper than %d", key, LM_GGUF_MAX_DEPTH);
    uint32_t et;
    uint64_t n;
    if (!rd_u32(r, &et) || !rd_u64(r, &n))
        return lm_error_set(err, LM_EFORMAT, "gguf: key %s: array header past the end of the file", key);
    int esz = type_size(et);
    if (esz < 0) return lm_error_set(err, LM_EFORMAT, "gguf: key %s: unknown array element type %u", key, et);
    if (esz > 0) {
        if (n > rd_left(r) / (size_t)esz)
            return lm_error_set(err, LM_EFORMAT, "gguf: key %s: array of %llu %s exceeds the file", key,
                                (unsigned long long)n, lm_gguf_type_name(et));
        r->p += n * (size_t)esz;
        return 0;
    }
    /* each string takes at least 8 bytes, each array at least 12: bounds the loop first */
    size_t min = et == LM_GGUF_TYPE_STRING ? 8 : 12;
    if (n > rd_left(r) / min)
        return lm_error_set(err, LM_EFORMAT, "gguf: key %s: array of %llu %ss exceeds the file", key,
                            (unsigned long long)n, lm_gguf_type_name(et));
    uint64_t *o = NULL;
    if (offs && et == LM_GGUF_TYPE_STRING && n > 0) {
        o = malloc((size_t)n * sizeof *o);
        if (!o) return lm_error_set(err, LM_ENOMEM, "gguf: key %s: out of memory", key);
    }
    const uint8_t *first = r->p;
    for (uint64_t i = 0; i < n; i++) {
        if (o) o[i] = (uint64_t)(r->p - first);
        int rc = skip_value(r, et, depth + 1, key, NULL, err);
        if (rc < 0) { free(o); return rc; }
    }
    if (offs) *offs = o;
    return 0;
}

/* Fills the key hash table; reports the first duplicate. */
static int index_keys(struct lm_gguf *g, struct lm_error *err)
{
    g->kv_cap = hash_cap(g->n_kv);
    g->kv_hash = calloc(g->kv_cap, sizeof *g->kv_hash);
    if (!g->kv_hash) return lm_error_set(err, LM_ENOMEM, "gguf: out of memory");
    for (int64_t i = 0; i < g->n_kv; i++) {
        size_t h = hash_str(g->kv[i].key) & (g->kv_cap - 1);
        while (g->kv_hash[h]) {
            if (lm_str_eq(g->kv[g->kv_hash[h] - 1].key, g->kv[i].key)) {
                char nb[80];
                return lm_error_set(err, LM_EFORMAT, "gguf: duplicate key %s", safe_name(g->kv[i].key, nb, sizeof nb));
            }
            h = (h + 1) & (g->kv_cap - 1);
        }
        g->kv_hash[h] = (uint32_t)(i + 1);
    }
    return 0;
}

/* Fills the tensor name hash table; reports the first duplicate. */
static int index_tensors(struct lm_gguf *g, struct lm_error *err)
{
    g->t_cap = hash_cap(g->n_tensors);
    g->t_hash = calloc(g->t_cap, sizeof *g->t_hash);
    if (!g->t_hash) return lm_error_set(err, LM_ENOMEM, "gguf: out of memory");
    for (int64_t i = 0; i < g->n_tensors; i++) {
        size_t h = hash_str(g->tensors[i].name) & (g->t_cap - 1);
        while (g->t_hash[h]) {
            if (lm_str_eq(g->tensors[g->t_hash[h] - 1].name, g->tensors[i].name)) {
                char nb[80];
                return lm_error_set(err, LM_EFORMAT, "gguf: duplicate tensor %s",
                                    safe_name(g->tensors[i].name, nb, sizeof nb));
            }
            h = (h + 1) & (g->t_cap - 1);
        }
        g->t_hash[h] = (uint32_t)(i + 1);
    }
    return 0;
}

/* Parses the metadata section. */
static int parse_kv(struct lm_gguf *g, struct rd *r, struct lm_error *err)
{
    for (int64_t i = 0; i < g->n_kv; i++) {
        struct gguf_kv *kv = &g->kv[i];
        char nb[80];
        if (!rd_str(r, &kv->key))
            return lm_error_set(err, LM_EFORMAT, "gguf: metadata entry %lld: key past the end of the file", (long long)i);
        if (memchr(kv->key.ptr, 0, kv->key.len))
            return lm_error_set(err, LM_EFORMAT, "gguf: key %s: contains a NUL byte", safe_name(kv->key, nb, sizeof nb));
        uint32_t t;
        if (!rd_u32(r, &t))
            return lm_error_set(err, LM_EFORMAT, "gguf: key %s: type past the end of the file",
                                safe_name(kv->key, nb, sizeof nb));
        kv->type = (enum lm_gguf_type)t;
        kv->val = r->p;
        int rc = skip_value(r, t, 0, safe_name(kv->key, nb, sizeof nb), &kv->offs, err);
        if (rc < 0) return rc;
    }
    return index_keys(g, err);
}

/* Reads general.alignment (u32, a power of two) when present. */
static int read_alignment(struct lm_gguf *g, struct lm_error *err)
{
    g->alignment = LM_GGUF_DEFAULT_ALIGNMENT;
    int64_t i = lm_gguf_find_key(g, "general.alignment");
    if (i < 0) return 0;
    if (g->kv[i].type != LM_GGUF_TYPE_UINT32)
        return lm_error_set(err, LM_EFORMAT, "gguf: key general.alignment: type %s, expected u32",
                            lm_gguf_type_name(g->kv[i].type));
    uint32_t a;
    memcpy(&a, g->kv[i].val, 4);
    if (a == 0 || (a & (a - 1)))
        return lm_error_set(err, LM_EFORMAT, "gguf: key general.alignment: %u is not a power of two", a);
    g->alignment = a;
    return 0;
}

/* Parses one tensor info and computes its byte size. */
static int parse_tensor(struct lm_gguf *g, struct rd *r, int64_t i, struct lm_error *err)
{
    struct lm_gguf_tensor *t = &g->tensors[i];
    char nb[80];
    if (!rd_str(r, &t->name))
        return lm_error_set(err, LM_EFORMAT, "gguf: tensor %lld: name past the end of the file", (long long)i);
    const char *name = safe_name(t->name, nb, sizeof nb);
    /* ggml keeps names in 64-byte fields: longer ones are rejected by llama.cpp too */
    if (t->name.len >= LM_GGUF_MAX_NAME)
        return lm_error_set(err, LM_EFORMAT, "gguf: tensor %s: name longer than %d bytes", name, LM_GGUF_MAX_NAME - 1);
    if (memchr(t->name.ptr, 0, t->name.len))
        return lm_error_set(err, LM_EFORMAT, "gguf: tensor %s: name contains a NUL byte", name);
    uint32_t nd;
    if (!rd_u32(r, &nd)) return lm_error_set(err, LM_EFORMAT, "gguf: tensor %s: header past the end of the file", name);
    if (nd < 1 || nd > LM_GGUF_MAX_DIMS)
        return lm_error_set(err, LM_EFORMAT, "gguf: tensor %s: %u dimensions (1..%d supported)", name, nd, LM_GGUF_MAX_DIMS);
    t->n_dims = (int)nd;
    uint64_t total = 1;
    for (int d = 0; d < LM_GGUF_MAX_DIMS; d++) {
        uint64_t ne = 1;
        if (d < (int)nd && !rd_u64(r, &ne))
            return lm_error_set(err, LM_EFORMAT, "gguf: tensor %s: header past the end of the file", name);
        if (ne == 0 || ne > (uint64_t)INT64_MAX)
            return lm_error_set(err, LM_EFORMAT, "gguf: tensor %s: dimension %d is %llu", name, d, (unsigned long long)ne);
        if (total > (uint64_t)INT64_MAX / ne)
            return lm_error_set(err, LM_EFORMAT, "gguf: tensor %s: element count overflows", name);
        total *= ne;
        t->ne[d] = (int64_t)ne;
    }
    uint32_t type;
    if (!rd_u32(r, &type) || !rd_u64(r, &t->offset))
        return lm_error_set(err, LM_EFORMAT, "gguf: tensor %s: header past the end of the file", name);
    const struct lm_type_traits *tr = lm_type_traits((int)type);
    if (!tr) return lm_error_set(err, LM_ENOTSUP, "gguf: tensor %s: unsupported type %u", name, type);
    t->type = (int)type;
    if (t->ne[0] % tr->block_size)
        return lm_error_set(err, LM_EFORMAT, "gguf: tensor %s: row of %lld not a multiple of the %s block size %d",
                            name, (long long)t->ne[0], tr->name, tr->block_size);
    uint64_t row = lm_row_size((enum lm_type)type, t->ne[0]);
    uint64_t rows = total / (uint64_t)t->ne[0];
    if (row == 0 || rows > SIZE_MAX / row)
        return lm_error_set(err, LM_EFORMAT, "gguf: tensor %s: byte size overflows", name);
    t->size = (size_t)(row * rows);
    return 0;
}

static int cmp_offset(const void *a, const void *b)
{
    const struct lm_gguf_tensor *x = *(const struct lm_gguf_tensor *const *)a;
    const struct lm_gguf_tensor *y = *(const struct lm_gguf_tensor *const *)b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Checks offsets (aligned, inside the data section) and that no two tensors overlap. */
static int check_layout(struct lm_gguf *g, struct lm_error *err)
{
    size_t data_size = g->size > g->data_offset ? g->size - g->data_offset : 0;
    char nb[80];
    for (int64_t i = 0; i < g->n_tensors; i++) {
        struct lm_gguf_tensor *t = &g->tensors[i];
        if (t->offset % g->alignment)
            return lm_error_set(err, LM_EFORMAT, "gguf: tensor %s: offset %llu not aligned to %zu",
                                safe_name(t->name, nb, sizeof nb), (unsigned long long)t->offset, g->alignment);
        if (t->offset > data_size || t->size > data_size - t->offset)
            return lm_error_set(err, LM_EFORMAT, "gguf: tensor %s: data (offset %llu, %zu bytes) past the end of the file",
                                safe_name(t->name, nb, sizeof nb), (unsigned long long)t->offset, t->size);
        t->data = g->bytes + g->data_offset + t->offset;
    }
    if (g->n_tensors < 2) return 0;
    struct lm_gguf_tensor **by = malloc((size_t)g->n_tensors * sizeof *by);
    if (!by) return lm_error_set(err, LM_ENOMEM, "gguf: out of memory");
    for (int64_t i = 0; i < g->n_tensors; i++) by[i] = &g->tensors[i];
    qsort(by, (size_t)g->n_tensors, sizeof *by, cmp_offset);
    int rc = 0;
    for (int64_t i = 0; i + 1 < g->n_tensors; i++) {
        if (by[i]->offset + by[i]->size > by[i + 1]->offset) {
            char nb2[80];
            rc = lm_error_set(err, LM_EFORMAT, "gguf: tensor %s overlaps tensor %s",
                              safe_name(by[i + 1]->name, nb, sizeof nb), safe_name(by[i]->name, nb2, sizeof nb2));
            break;
        }
    }
    free(by);
    return rc;
}

/* Parses the whole header of g->bytes[0..size). */
static int parse(struct lm_gguf *g, struct lm_error *err)
{
    struct rd r = {g->bytes, g->bytes + g->size};
    uint32_t magic;
    uint64_t n_tensors, n_kv;
    if (!rd_u32(&r, &magic)) return lm_error_set(err, LM_EFORMAT, "gguf: file too small (%zu bytes)", g->size);
    if (magic != GGUF_MAGIC) return lm_error_set(err, LM_EFORMAT, "gguf: bad magic (not a GGUF file)");
    if (!rd_u32(&r, &g->version) || !rd_u64(&r, &n_tensors) || !rd_u64(&r, &n_kv))
        return lm_error_set(err, LM_EFORMAT, "gguf: header truncated");
    if (g->version != 2 && g->version != 3)
        return lm_error_set(err, LM_ENOTSUP, "gguf: unsupported version %u (2 and 3 are)", g->version);
    /* each entry takes at least 12 bytes (key length + type), each tensor info 24 */
    if (n_kv > rd_left(&r) / 12)
        return lm_error_set(err, LM_EFORMAT, "gguf: %llu metadata entries exceed the file", (unsigned long long)n_kv);
    if (n_tensors > rd_left(&r) / 24)
        return lm_error_set(err, LM_EFORMAT, "gguf: %llu tensors exceed the file", (unsigned long long)n_tensors);
    if (n_kv > UINT32_MAX / 4 || n_tensors > UINT32_MAX / 4)
        return lm_error_set(err, LM_ETOOBIG, "gguf: too many entries");
    g->n_kv = (int64_t)n_kv;
    g->n_tensors = (int64_t)n_tensors;
    g->kv = calloc(n_kv ? n_kv : 1, sizeof *g->kv);
    g->tensors = calloc(n_tensors ? n_tensors : 1, sizeof *g->tensors);
    if (!g->kv || !g->tensors) return lm_error_set(err, LM_ENOMEM, "gguf: out of memory");
    int rc = parse_kv(g, &r, err);
    if (rc < 0) return rc;
    if ((rc = read_alignment(g, err)) < 0) return rc;
    for (int64_t i = 0; i < g->n_tensors; i++)
        if ((rc = parse_tensor(g, &r, i, err)) < 0) return rc;
    if ((rc = index_tensors(g, err)) < 0) return rc;
    size_t pos = (size_t)(r.p - g->bytes);
    g->data_offset = (pos + g->alignment - 1) / g->alignment * g->alignment;
    if (g->n_tensors > 0 && g->data_offset > g->size)
        return lm_error_set(err, LM_EFORMAT, "gguf: data section starts past the end of the file");
    return check_layout(g, err);
}

/* Common tail of both open functions. */
static int finish_open(struct lm_gguf *g, struct lm_gguf **out, struct lm_error *err)
{
    int rc = parse(g, err);
    if (rc < 0) {
        lm_gguf_close(g);
        return rc;
    }
    *out = g;
    return 0;
}

int lm_gguf_open_memory(const void *data, size_t size, struct lm_gguf **out, struct lm_error *err)
{
    *out = NULL;
    struct lm_gguf *g = calloc(1, sizeof *g);
    if (!g) return lm_error_set(err, LM_ENOMEM, "gguf: out of memory");
    g->bytes = data;
    g->size = size;
    return finish_open(g, out, err);
}

int lm_gguf_open(const char *path, struct lm_gguf **out, struct lm_error *err)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return lm_error_set(err, errno == ENOENT ? LM_ENOENT : LM_EIO, "gguf: cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return lm_error_set(err, LM_EIO, "gguf: %s is not a regular file", path);
    }
    if (st.st_size < 24) {
        close(fd);
        return lm_error_set(err, LM_EFORMAT, "gguf: %s: file too small (%lld bytes)", path, (long long)st.st_size);
    }
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) return lm_error_set(err, LM_EIO, "gguf: cannot map %s: %s", path, strerror(errno));
    struct lm_gguf *g = calloc(1, sizeof *g);
    if (!g) {
        munmap(map, (size_t)st.st_size);
        return lm_error_set(err, LM_ENOMEM, "gguf: out of memory");
    }
    g->map = map;
    g->map_size = (size_t)st.st_size;
    g->bytes = map;
    g->size = (size_t)st.st_size;
    return finish_open(g, out, err);
}

void lm_gguf_close(struct lm_gguf *g)
{
    if (!g) return;
    if (g->kv)
        for (int64_t i = 0; i < g->n_kv; i++) free(g->kv[i].offs);
    free(g->kv);
    free(g->tensors);
    free(g->kv_hash);
    free(g->t_hash);
    if (g->map) munmap(g->map, g->map_size);
    free(g);
}

uint32_t lm_gguf_version(const struct lm_gguf *g) { return g->version; }
size_t lm_gguf_alignment(const struct lm_gguf *g) { return g->alignment; }
size_t lm_gguf_data_offset(const struct lm_gguf *g) { return g->data_offset; }
const void *lm_gguf_bytes(const struct lm_gguf *g) { return g->bytes; }
size_t lm_gguf_size(const struct lm_gguf *g) { return g->size; }
int64_t lm_gguf_n_kv(const struct lm_gguf *g) { return g->n_kv; }
int64_t lm_gguf_n_tensors(const struct lm_gguf *g) { return g->n_tensors; }

int64_t lm_gguf_find_key(const struct lm_gguf *g, const char *key)
{
    if (!g->kv_hash) return -1;
    struct lm_str k = lm_str_c(key);
    size_t h = hash_str(k) & (g->kv_cap - 1);
    while (g->kv_hash[h]) {
        int64_t i = g->kv_hash[h] - 1;
        if (lm_str_eq(g->kv[i].key, k)) return i;
        h = (h + 1) & (g->kv_cap - 1);
    }
    return -1;
}

struct lm_str lm_gguf_key_name(const struct lm_gguf *g, int64_t i)
{
    return i >= 0 && i < g->n_kv ? g->kv[i].key : (struct lm_str){"", 0};
}

enum lm_gguf_type lm_gguf_key_type(const struct lm_gguf *g, int64_t i)
{
    return i >= 0 && i < g->n_kv ? g->kv[i].type : LM_GGUF_TYPE_COUNT;
}

const struct lm_gguf_tensor *lm_gguf_tensor(const struct lm_gguf *g, int64_t i)
{
    return i >= 0 && i < g->n_tensors ? &g->tensors[i] : NULL;
}

const struct lm_gguf_tensor *lm_gguf_find_tensor(const struct lm_gguf *g, const char *name)
{
    if (!g->t_hash) return NULL;
    struct lm_str k = lm_str_c(name);
    size_t h = hash_str(k) & (g->t_cap - 1);
    while (g->t_hash[h]) {
        int64_t i = g->t_hash[h] - 1;
        if (lm_str_eq(g->tensors[i].name, k)) return &g->tensors[i];
        h = (h + 1) & (g->t_cap - 1);
    }
    return NULL;
}

/* --- typed values ----------------------------------------------------------------------- */

/* Integer at p of type t as a signed/unsigned pair; false if t is not an integer type. */
static bool load_int(const uint8_t *p, enum lm_gguf_type t, int64_t *sv, uint64_t *uv, bool *is_unsigned)
{
    *is_unsigned = false;
    switch (t) {
    case LM_GGUF_TYPE_UINT8: case LM_GGUF_TYPE_BOOL: *sv = p[0]; break;
    case LM_GGUF_TYPE_INT8: *sv = (int8_t)p[0]; break;
    case LM_GGUF_TYPE_UINT16: { uint16_t v; memcpy(&v, p, 2); *sv = v; break; }
    case LM_GGUF_TYPE_INT16: { int16_t v; memcpy(&v, p, 2); *sv = v; break; }
    case LM_GGUF_TYPE_UINT32: { uint32_t v; memcpy(&v, p, 4); *sv = v; break; }
    case LM_GGUF_TYPE_INT32: { int32_t v; memcpy(&v, p, 4); *sv = v; break; }
    case LM_GGUF_TYPE_INT64: { memcpy(sv, p, 8); break; }
    case LM_GGUF_TYPE_UINT64: { memcpy(uv, p, 8); *is_unsigned = true; return true; }
    default: return false;
    }
    return true;
}

/* Looks key up; LM_ENOENT when absent. */
static int find(const struct lm_gguf *g, const char *key, const struct gguf_kv **kv)
{
    int64_t i = lm_gguf_find_key(g, key);
    if (i < 0) return LM_ENOENT;
    *kv = &g->kv[i];
    return 0;
}

/* Integer value of key within [lo, hi] (as signed) or [0, uhi] for unsigned callers. */
static int get_int(const struct lm_gguf *g, const char *key, int64_t lo, uint64_t hi, int64_t *sout, uint64_t *uout)
{
    const struct gguf_kv *kv;
    int rc = find(g, key, &kv);
    if (rc < 0) return rc;
    if (kv->type == LM_GGUF_TYPE_BOOL) return LM_EFORMAT;
    int64_t sv = 0;
    uint64_t uv = 0;
    bool u;
    if (!load_int(kv->val, kv->type, &sv, &uv, &u)) return LM_EFORMAT;
    if (u) {
        if (uv > hi) return LM_ERANGE;
        if (uout) *uout = uv; else *sout = (int64_t)uv;
        return 0;
    }
    if (sv < lo || (sv > 0 && (uint64_t)sv > hi)) return LM_ERANGE;
    if (uout) *uout = (uint64_t)sv; else *sout = sv;
    return 0;
}

int lm_gguf_get_u32(const struct lm_gguf *g, const char *key, uint32_t *out)
{
    uint64_t v;
    int rc = get_int(g, key, 0, UINT32_MAX, NULL, &v);
    if (rc == 0) *out = (uint32_t)v;
    return rc;
}

int lm_gguf_get_i32(const struct lm_gguf *g, const char *key, int32_t *out)
{
    int64_t v;
    int rc = get_int(g, key, INT32_MIN, INT32_MAX, &v, NULL);
    if (rc == 0) *out = (int32_t)v;
    return rc;
}

int lm_gguf_get_u64(const struct lm_gguf *g, const char *key, uint64_t *out)
{
    return get_int(g, key, 0, UINT64_MAX, NULL, out);
}

int lm_gguf_get_i64(const struct lm_gguf *g, const char *key, int64_t *out)
{
    return get_int(g, key, INT64_MIN, INT64_MAX, out, NULL);
}

int lm_gguf_get_f32(const struct lm_gguf *g, const char *key, float *out)
{
    const struct gguf_kv *kv;
    int rc = find(g, key, &kv);
    if (rc < 0) return rc;
    if (kv->type == LM_GGUF_TYPE_FLOAT32) { memcpy(out, kv->val, 4); return 0; }
    if (kv->type == LM_GGUF_TYPE_FLOAT64) { double d; memcpy(&d, kv->val, 8); *out = (float)d; return 0; }
    return LM_EFORMAT;
}

int lm_gguf_get_bool(const struct lm_gguf *g, const char *key, bool *out)
{
    const struct gguf_kv *kv;
    int rc = find(g, key, &kv);
    if (rc < 0) return rc;
    if (kv->type != LM_GGUF_TYPE_BOOL) return LM_EFORMAT;
    *out = kv->val[0] != 0;
    return 0;
}

int lm_gguf_get_str(const struct lm_gguf *g, const char *key, struct lm_str *out)
{
    const struct gguf_kv *kv;
    int rc = find(g, key, &kv);
    if (rc < 0) return rc;
    if (kv->type != LM_GGUF_TYPE_STRING) return LM_EFORMAT;
    uint64_t n;
    memcpy(&n, kv->val, 8);
    out->ptr = (const char *)kv->val + 8;
    out->len = (size_t)n;
    return 0;
}

/* Array view of an array header at p (u32 type + u64 count + elements). */
static struct lm_gguf_arr arr_at(const uint8_t *p, const uint64_t *offs)
{
    struct lm_gguf_arr a;
    uint32_t t;
    memcpy(&t, p, 4);
    memcpy(&a.n, p + 4, 8);
    a.type = (enum lm_gguf_type)t;
    a._data = p + 12;
    a._offs = offs;
    return a;
}

int lm_gguf_get_arr(const struct lm_gguf *g, const char *key, struct lm_gguf_arr *out)
{
    const struct gguf_kv *kv;
    int rc = find(g, key, &kv);
    if (rc < 0) return rc;
    if (kv->type != LM_GGUF_TYPE_ARRAY) return LM_EFORMAT;
    *out = arr_at(kv->val, kv->offs);
    return 0;
}

/* Bytes taken by an already validated value of type t at p. */
static size_t value_size(const uint8_t *p, enum lm_gguf_type t)
{
    int sz = type_size(t);
    if (sz > 0) return (size_t)sz;
    if (t == LM_GGUF_TYPE_STRING) {
        uint64_t n;
        memcpy(&n, p, 8);
        return 8 + (size_t)n;
    }
    struct lm_gguf_arr a = arr_at(p, NULL);
    int esz = type_size(a.type);
    if (esz > 0) return 12 + (size_t)a.n * (size_t)esz;
    size_t off = 12;
    for (uint64_t i = 0; i < a.n; i++) off += value_size(p + off, a.type);
    return off;
}

/* Pointer to element i of a validated array. */
static const uint8_t *elem(const struct lm_gguf_arr *a, uint64_t i)
{
    int esz = type_size(a->type);
    if (esz > 0) return a->_data + i * (size_t)esz;
    if (a->_offs) return a->_data + a->_offs[i];
    const uint8_t *p = a->_data;
    for (uint64_t k = 0; k < i; k++) p += value_size(p, a->type);
    return p;
}

int lm_gguf_arr_i64(const struct lm_gguf_arr *a, uint64_t i, int64_t *out)
{
    if (i >= a->n) return LM_ERANGE;
    int64_t sv = 0;
    uint64_t uv = 0;
    bool u;
    if (!load_int(elem(a, i), a->type, &sv, &uv, &u)) return LM_EFORMAT;
    if (u) {
        if (uv > (uint64_t)INT64_MAX) return LM_ERANGE;
        sv = (int64_t)uv;
    }
    *out = sv;
    return 0;
}

int lm_gguf_arr_f32(const struct lm_gguf_arr *a, uint64_t i, float *out)
{
    if (i >= a->n) return LM_ERANGE;
    const uint8_t *p = elem(a, i);
    if (a->type == LM_GGUF_TYPE_FLOAT32) { memcpy(out, p, 4); return 0; }
    if (a->type == LM_GGUF_TYPE_FLOAT64) { double d; memcpy(&d, p, 8); *out = (float)d; return 0; }
    int64_t sv = 0;
    uint64_t uv = 0;
    bool u;
    if (!load_int(p, a->type, &sv, &uv, &u)) return LM_EFORMAT;
    *out = u ? (float)uv : (float)sv;
    return 0;
}

int lm_gguf_arr_str(const struct lm_gguf_arr *a, uint64_t i, struct lm_str *out)
{
    if (i >= a->n) return LM_ERANGE;
    if (a->type != LM_GGUF_TYPE_STRING) return LM_EFORMAT;
    const uint8_t *p = elem(a, i);
    uint64_t n;
    memcpy(&n, p, 8);
    out->ptr = (const char *)p + 8;
    out->len = (size_t)n;
    return 0;
}

int lm_gguf_arr_arr(const struct lm_gguf_arr *a, uint64_t i, struct lm_gguf_arr *out)
{
    if (i >= a->n) return LM_ERANGE;
    if (a->type != LM_GGUF_TYPE_ARRAY) return LM_EFORMAT;
    *out = arr_at(elem(a, i), NULL);
    return 0;
}

const void *lm_gguf_arr_raw(const struct lm_gguf_arr *a)
{
    return type_size(a->type) > 0 ? a->_data : NULL;
}

/* Appends one value of type t at p as text. */
static int render(const uint8_t *p, enum lm_gguf_type t, size_t max_elems, struct lm_buf *out)
{
    int64_t sv;
    uint64_t uv;
    bool u;
    switch (t) {
    case LM_GGUF_TYPE_FLOAT32: { float f; memcpy(&f, p, 4); return lm_buf_printf(out, "%g", (double)f); }
    case LM_GGUF_TYPE_FLOAT64: { double d; memcpy(&d, p, 8); return lm_buf_printf(out, "%g", d); }
    case LM_GGUF_TYPE_BOOL: return lm_buf_append_str(out, p[0] ? "true" : "false");
    case LM_GGUF_TYPE_STRING: {
        uint64_t n;
        memcpy(&n, p, 8);
        return lm_buf_append(out, p + 8, (size_t)n);
    }
    case LM_GGUF_TYPE_ARRAY: {
        struct lm_gguf_arr a = arr_at(p, NULL);
        int rc = lm_buf_append_char(out, '[');
        const uint8_t *e = a._data;
        for (uint64_t i = 0; i < a.n && rc == 0; i++) {
            if (i) rc = lm_buf_append_str(out, ", ");
            if (i == max_elems) { rc = lm_buf_append_str(out, "..."); break; }
            if (rc == 0) rc = render(e, a.type, max_elems, out);
            e += value_size(e, a.type);
        }
        return rc ? rc : lm_buf_append_char(out, ']');
    }
    default:
        if (!load_int(p, t, &sv, &uv, &u)) return LM_EFORMAT;
        return u ? lm_buf_printf(out, "%llu", (unsigned long long)uv) : lm_buf_printf(out, "%lld", (long long)sv);
    }
}

const void *lm_gguf_value_bytes(const struct lm_gguf *g, int64_t i, size_t *len)
{
    if (i < 0 || i >= g->n_kv) return NULL;
    *len = value_size(g->kv[i].val, g->kv[i].type);
    return g->kv[i].val;
}

int lm_gguf_render_value(const struct lm_gguf *g, int64_t i, size_t max_elems, struct lm_buf *out)
{
    if (i < 0 || i >= g->n_kv) return LM_ERANGE;
    return render(g->kv[i].val, g->kv[i].type, max_elems, out);
}
