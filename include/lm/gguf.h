/* gguf.h — reading GGUF files (versions 2 and 3, little-endian), as ggml writes them.
 *
 * Layout of a file: magic "GGUF", u32 version, u64 tensor count, u64 metadata count, then the
 * metadata (key: string, u32 value type, value), then the tensor infos (name, u32 n_dims,
 * u64 ne[n_dims], u32 type, u64 offset), padding to the alignment (general.alignment, default
 * 32), then the tensor data. Strings are u64 length + bytes (no NUL); arrays are u32 element
 * type + u64 count + elements.
 *
 * lm_gguf_open maps the file read-only; lm_gguf_open_memory parses borrowed bytes (tests, the
 * fuzz target). Everything is validated at open, before any use: magic, version, counts against
 * the bytes remaining, string and array lengths, nesting depth, duplicate keys and tensor
 * names, tensor dims (each > 0, no overflow), types (lm_type_traits), byte sizes, alignment (a
 * power of two), tensor offsets (aligned, inside the file) and overlapping tensors. The first
 * problem is reported in one line naming the key or tensor.
 *
 * Every pointer or lm_str returned borrows from the struct lm_gguf (and its mapping or the
 * caller's bytes) and stays valid until lm_gguf_close. Strings are NOT NUL-terminated.
 * Getters never abort: LM_ENOENT when the key is absent, LM_EFORMAT when its type does not fit,
 * LM_ERANGE when an integer value does not fit the requested type. Integer getters accept any
 * integer type whose value fits. A struct lm_gguf is immutable after open and may be read from
 * many threads.
 *
 *     struct lm_gguf *g; struct lm_error err;
 *     if (lm_gguf_open("m.gguf", &g, &err) < 0) { fprintf(stderr, "%s\n", err.msg); ... }
 *     uint32_t n_embd;
 *     if (lm_gguf_get_u32(g, "llama.embedding_length", &n_embd) < 0) ...
 *     struct lm_gguf_arr toks;
 *     lm_gguf_get_arr(g, "tokenizer.ggml.tokens", &toks);
 *     struct lm_str s; lm_gguf_arr_str(&toks, 42, &s);
 *     const struct lm_gguf_tensor *t = lm_gguf_find_tensor(g, "token_embd.weight");
 *     lm_gguf_close(g);
 */
#ifndef LM_GGUF_H
#define LM_GGUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lm/buf.h"
#include "lm/err.h"

/* Metadata value types, numbered as in the file format. */
enum lm_gguf_type {
    LM_GGUF_TYPE_UINT8 = 0,
    LM_GGUF_TYPE_INT8 = 1,
    LM_GGUF_TYPE_UINT16 = 2,
    LM_GGUF_TYPE_INT16 = 3,
    LM_GGUF_TYPE_UINT32 = 4,
    LM_GGUF_TYPE_INT32 = 5,
    LM_GGUF_TYPE_FLOAT32 = 6,
    LM_GGUF_TYPE_BOOL = 7,
    LM_GGUF_TYPE_STRING = 8,
    LM_GGUF_TYPE_ARRAY = 9,
    LM_GGUF_TYPE_UINT64 = 10,
    LM_GGUF_TYPE_INT64 = 11,
    LM_GGUF_TYPE_FLOAT64 = 12,
    LM_GGUF_TYPE_COUNT = 13,
};

#define LM_GGUF_DEFAULT_ALIGNMENT 32
#define LM_GGUF_MAX_DIMS 4
/* Tensor names are shorter than this (ggml's limit); keys and names contain no NUL byte. */
#define LM_GGUF_MAX_NAME 64
/* Arrays nested deeper than this are rejected (ggml itself writes no nested arrays). */
#define LM_GGUF_MAX_DEPTH 8

struct lm_gguf;

/* One tensor's description. data points into the mapping (or the caller's bytes); it is only
 * guaranteed aligned to lm_gguf_alignment() relative to the start of the file. */
struct lm_gguf_tensor {
    struct lm_str name;
    int type;                      /* enum lm_type (lm/quant.h); always a supported type */
    int n_dims;                    /* 1..4 */
    int64_t ne[LM_GGUF_MAX_DIMS];  /* elements per dim, ne[0] innermost; unused dims are 1 */
    uint64_t offset;               /* from the start of the data section */
    size_t size;                   /* bytes */
    const void *data;
};

/* A view of an array value (copyable; borrowed from the struct lm_gguf). */
struct lm_gguf_arr {
    enum lm_gguf_type type;        /* element type */
    uint64_t n;                    /* element count */
    const uint8_t *_data;          /* private: first element */
    const uint64_t *_offs;         /* private: element offsets (string arrays), or NULL */
};

/* Maps and parses path. *out must be closed with lm_gguf_close. */
int lm_gguf_open(const char *path, struct lm_gguf **out, struct lm_error *err);
/* Parses data[0..size) in place; the bytes must outlive the struct lm_gguf. */
int lm_gguf_open_memory(const void *data, size_t size, struct lm_gguf **out, struct lm_error *err);
void lm_gguf_close(struct lm_gguf *g);

uint32_t lm_gguf_version(const struct lm_gguf *g);
size_t lm_gguf_alignment(const struct lm_gguf *g);
/* Byte offset of the tensor data section from the start of the file. */
size_t lm_gguf_data_offset(const struct lm_gguf *g);
/* The whole file's bytes (mapping or caller's memory) and size. */
const void *lm_gguf_bytes(const struct lm_gguf *g);
size_t lm_gguf_size(const struct lm_gguf *g);

/* Name of a value type ("u32", "string", "array", ...); "?" when unknown. */
const char *lm_gguf_type_name(enum lm_gguf_type t);

/* --- metadata ------------------------------------------------------------------------- */

int64_t lm_gguf_n_kv(const struct lm_gguf *g);
/* Index of key, or -1. */
int64_t lm_gguf_find_key(const struct lm_gguf *g, const char *key);
/* Name and type of metadata entry i (0 <= i < n_kv). */
struct lm_str lm_gguf_key_name(const struct lm_gguf *g, int64_t i);
enum lm_gguf_type lm_gguf_key_type(const struct lm_gguf *g, int64_t i);

int lm_gguf_get_u32(const struct lm_gguf *g, const char *key, uint32_t *out);
int lm_gguf_get_i32(const struct lm_gguf *g, const char *key, int32_t *out);
int lm_gguf_get_u64(const struct lm_gguf *g, const char *key, uint64_t *out);
int lm_gguf_get_i64(const struct lm_gguf *g, const char *key, int64_t *out);
/* Accepts FLOAT32 and FLOAT64 values. */
int lm_gguf_get_f32(const struct lm_gguf *g, const char *key, float *out);
int lm_gguf_get_bool(const struct lm_gguf *g, const char *key, bool *out);
int lm_gguf_get_str(const struct lm_gguf *g, const char *key, struct lm_str *out);
int lm_gguf_get_arr(const struct lm_gguf *g, const char *key, struct lm_gguf_arr *out);

/* Encoded bytes of metadata entry i's value exactly as in the file (after the u32 type), and
 * their length; for copying values verbatim (lm_gguf_copy_kv). NULL when i is out of range. */
const void *lm_gguf_value_bytes(const struct lm_gguf *g, int64_t i, size_t *len);

/* Appends metadata entry i's value as text (numbers, strings verbatim, arrays as
 * "[a, b, ...]" cut after max_elems elements with ", ...]"). */
int lm_gguf_render_value(const struct lm_gguf *g, int64_t i, size_t max_elems, struct lm_buf *out);

/* --- array elements (index i < a->n; LM_ERANGE when out of range, LM_EFORMAT on type) ----- */

/* Integer elements of any integer type (and BOOL) whose value fits int64. */
int lm_gguf_arr_i64(const struct lm_gguf_arr *a, uint64_t i, int64_t *out);
/* FLOAT32/FLOAT64 elements (and integers, converted). */
int lm_gguf_arr_f32(const struct lm_gguf_arr *a, uint64_t i, float *out);
/* STRING elements: O(1) for top-level arrays (offsets are precomputed at open). */
int lm_gguf_arr_str(const struct lm_gguf_arr *a, uint64_t i, struct lm_str *out);
/* ARRAY elements (nested arrays). */
int lm_gguf_arr_arr(const struct lm_gguf_arr *a, uint64_t i, struct lm_gguf_arr *out);
/* Raw little-endian element bytes of a numeric array (NOT necessarily aligned: memcpy from
 * it), or NULL for STRING/ARRAY arrays. Fast path for scores and token types. */
const void *lm_gguf_arr_raw(const struct lm_gguf_arr *a);

/* --- tensors -------------------------------------------------------------------------- */

int64_t lm_gguf_n_tensors(const struct lm_gguf *g);
/* Tensor i (0 <= i < n_tensors), or NULL. */
const struct lm_gguf_tensor *lm_gguf_tensor(const struct lm_gguf *g, int64_t i);
/* Tensor by name, or NULL. */
const struct lm_gguf_tensor *lm_gguf_find_tensor(const struct lm_gguf *g, const char *name);

#endif
