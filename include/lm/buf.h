/* buf.h — the two string types.
 *
 * struct lm_str is a non-owning slice (pointer + length) into someone else's memory: parsers
 * return them, and they stay valid as long as the memory they point into.
 *
 * struct lm_buf is an owning, growable, binary-safe byte buffer that is always NUL-terminated
 * (data[len] == 0 once anything was appended). Zero-initialise it, append, then lm_buf_free.
 * Appends return 0 or LM_ENOMEM and leave the buffer unchanged on failure.
 */
#ifndef LM_BUF_H
#define LM_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct lm_str {
    const char *ptr;
    size_t len;
};

struct lm_buf {
    char *data;
    size_t len, cap;
};

#define LM_STR(lit) ((struct lm_str){(lit), sizeof(lit) - 1})

static inline struct lm_str lm_str_c(const char *s)
{
    size_t n = 0;
    if (s) while (s[n]) n++;
    return (struct lm_str){s, n};
}

bool lm_str_eq(struct lm_str a, struct lm_str b);
bool lm_str_eq_c(struct lm_str a, const char *b);
/* Returns a new NUL-terminated copy (malloc), or NULL on ENOMEM. Caller frees. */
char *lm_str_dup(struct lm_str s);

int lm_buf_reserve(struct lm_buf *b, size_t extra);
int lm_buf_append(struct lm_buf *b, const void *data, size_t len);
int lm_buf_append_str(struct lm_buf *b, const char *s);
int lm_buf_append_char(struct lm_buf *b, char c);
int lm_buf_printf(struct lm_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int lm_buf_vprintf(struct lm_buf *b, const char *fmt, va_list ap);
/* Empties the buffer, keeps its memory. */
void lm_buf_clear(struct lm_buf *b);
/* Hands the data to the caller (NUL-terminated, caller frees) and resets the buffer. */
char *lm_buf_take(struct lm_buf *b);
void lm_buf_free(struct lm_buf *b);

#endif
