/* chunk.h — splitting a document into chunks for embedding (the seed's split_text).
 *
 * Semantics (SPEC §3; lengths are Unicode code points, never bytes):
 *   1. Sentences: the text is cut after a run of sentence terminators and at line breaks.
 *      Terminators are 。！？； (always) and ASCII . ! ? (unless an ASCII letter or digit follows
 *      directly, so "3.14", "v1.2" and "example.com" stay whole). The terminators stay with their
 *      sentence; line breaks are dropped. Each sentence is stripped of surrounding white space,
 *      and empty ones are skipped.
 *   2. Packing, exactly as the seed: cur = first sentence; for each next sentence s, with
 *      sep = " " unless cur ends with a space or newline: if len(cur) + len(sep) + len(s) <= size,
 *      cur = cur + sep + s; else emit cur and start the next chunk with prefix = the last
 *      `overlap` code points of cur (only when len(cur) > overlap), then " " (unless the prefix
 *      ends with a space or newline), then s. The last cur is emitted.
 *   3. Beyond the seed: a sentence longer than size - overlap - 1 is cut into pieces of that many
 *      code points (at the last space of the window when there is one in its second half), so a
 *      text without punctuation does not become one huge chunk; text that is only white space
 *      gives no chunks (the seed returned it as one chunk).
 *   4. Token budget (optional): with count_tokens set, a chunk is only grown while the model's
 *      tokenizer says it fits max_tokens; the overlap prefix is dropped when it would not fit; a
 *      sentence that alone exceeds the budget is halved (at a space when possible) until it fits.
 *   Invalid UTF-8 bytes become U+FFFD and NUL bytes become spaces, so every chunk is valid
 *   UTF-8; no chunk is ever cut inside a UTF-8 sequence.
 */
#ifndef LM_CHUNK_H
#define LM_CHUNK_H

#include <stddef.h>

#include "lm/err.h"

/* Returns the number of tokens the embedding model's tokenizer makes of text[0..len) (UTF-8,
 * not NUL-terminated), or a negative LM_E* code to abort the split. */
typedef int (*lm_chunk_count_fn)(const char *text, size_t len, void *user);

struct lm_chunk_params {
    int size;                       /* CHUNK_SIZE, code points (> 0) */
    int overlap;                    /* CHUNK_OVERLAP, code points (>= 0, < size) */
    lm_chunk_count_fn count_tokens; /* optional token budget check (NULL: none) */
    void *user;                     /* passed to count_tokens */
    int max_tokens;                 /* budget per chunk when count_tokens is set (> 0) */
};

/* size 300, overlap 50, no token budget (the seed's defaults). */
struct lm_chunk_params lm_chunk_params_default(void);

struct lm_chunks {
    char **items;                   /* n NUL-terminated UTF-8 strings, owned */
    size_t n;
};

/* Splits text[0..len) into chunks. *out receives new strings; free with lm_chunks_free (also
 * safe after a failure). LM_EINVAL for bad parameters; errors of count_tokens are passed on. */
int lm_chunk_split(const char *text, size_t len, const struct lm_chunk_params *p, struct lm_chunks *out,
                   struct lm_error *err);
void lm_chunks_free(struct lm_chunks *c);

/* Number of code points in text[0..len) as lm_chunk_split counts them (invalid bytes count 1). */
size_t lm_chunk_codepoints(const char *text, size_t len);

#endif
