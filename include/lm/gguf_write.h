/* gguf_write.h — building GGUF files (version 3 by default), for gguf-synth and tests.
 *
 * A writer collects metadata and tensors in memory (values and tensor data are copied), then
 * writes the file in one go: header, metadata in insertion order, tensor infos, tensor data
 * each aligned to general.alignment (32 unless that key is set as u32). Setting an existing key
 * replaces its value in place. lm_gguf_writer_write is atomic (temp file + rename).
 *
 *     struct lm_gguf_writer *w = lm_gguf_writer_new();
 *     lm_gguf_set_str(w, "general.architecture", "llama");
 *     lm_gguf_set_u32(w, "llama.block_count", 2);
 *     lm_gguf_add_tensor(w, "output_norm.weight", LM_TYPE_F32, 1, (int64_t[]){64}, data, 256);
 *     lm_gguf_writer_write(w, "m.gguf", &err);
 *     lm_gguf_writer_free(w);
 *
 * Functions return 0, LM_ENOMEM, or LM_EINVAL (bad type/size).
 */
#ifndef LM_GGUF_WRITE_H
#define LM_GGUF_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lm/buf.h"
#include "lm/err.h"
#include "lm/gguf.h"

struct lm_gguf_writer;

/* New empty writer (NULL on ENOMEM). */
struct lm_gguf_writer *lm_gguf_writer_new(void);
void lm_gguf_writer_free(struct lm_gguf_writer *w);
/* File format version to write: 2 or 3 (default 3). */
void lm_gguf_writer_set_version(struct lm_gguf_writer *w, uint32_t version);

int lm_gguf_set_u8(struct lm_gguf_writer *w, const char *key, uint8_t v);
int lm_gguf_set_i8(struct lm_gguf_writer *w, const char *key, int8_t v);
int lm_gguf_set_u16(struct lm_gguf_writer *w, const char *key, uint16_t v);
int lm_gguf_set_i16(struct lm_gguf_writer *w, const char *key, int16_t v);
int lm_gguf_set_u32(struct lm_gguf_writer *w, const char *key, uint32_t v);
int lm_gguf_set_i32(struct lm_gguf_writer *w, const char *key, int32_t v);
int lm_gguf_set_u64(struct lm_gguf_writer *w, const char *key, uint64_t v);
int lm_gguf_set_i64(struct lm_gguf_writer *w, const char *key, int64_t v);
int lm_gguf_set_f32(struct lm_gguf_writer *w, const char *key, float v);
int lm_gguf_set_f64(struct lm_gguf_writer *w, const char *key, double v);
int lm_gguf_set_bool(struct lm_gguf_writer *w, const char *key, bool v);
int lm_gguf_set_str(struct lm_gguf_writer *w, const char *key, const char *v);
int lm_gguf_set_strn(struct lm_gguf_writer *w, const char *key, struct lm_str v);
/* Array of n numeric elements of type (not STRING/ARRAY), data in little-endian element
 * layout (e.g. float[n] for FLOAT32). */
int lm_gguf_set_arr(struct lm_gguf_writer *w, const char *key, enum lm_gguf_type type, const void *data,
                    size_t n);
/* Array of n strings. */
int lm_gguf_set_arr_str(struct lm_gguf_writer *w, const char *key, const struct lm_str *strs, size_t n);
/* A value given as its encoded bytes (type + value as in the file, e.g. a nested array). The
 * bytes are not checked. */
int lm_gguf_set_raw(struct lm_gguf_writer *w, const char *key, enum lm_gguf_type type, const void *bytes,
                    size_t len);
/* Copies metadata entry i of g (any type, nested arrays included) under the same key. */
int lm_gguf_copy_kv(struct lm_gguf_writer *w, const struct lm_gguf *g, int64_t i);
/* Removes key if present. */
void lm_gguf_unset(struct lm_gguf_writer *w, const char *key);

/* Adds a tensor of n_dims dims ne[0..n_dims) (ne[0] innermost) and type (enum lm_type);
 * size must equal the type's byte size for that shape. data is copied. LM_EINVAL on a
 * duplicate name, unknown type or size mismatch. */
int lm_gguf_add_tensor(struct lm_gguf_writer *w, const char *name, int type, int n_dims, const int64_t *ne,
                       const void *data, size_t size);

/* The whole file into out (appended). */
int lm_gguf_writer_to_buf(const struct lm_gguf_writer *w, struct lm_buf *out);
/* Writes path atomically (path.tmp.PID, then rename). */
int lm_gguf_writer_write(const struct lm_gguf_writer *w, const char *path, struct lm_error *err);

#endif
