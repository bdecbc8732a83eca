/* buf.c — growable byte buffer and string slices. */
#include "lm/buf.h"
#include "lm/err.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool lm_str_eq(struct lm_str a, struct lm_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

bool lm_str_eq_c(struct lm_str a, const char *b) { return lm_str_eq(a, lm_str_c(b)); }

char *lm_str_dup(struct lm_str s)
{
    char *p = malloc(s.len + 1);
    if (!p) return NULL;
    if (s.len) memcpy(p, s.ptr, s.len);
    p[s.len] = 0;
    return p;
}

int lm_buf_reserve(struct lm_buf *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len - 1) return LM_ENOMEM;
    size_t need = b->len + extra + 1;
    if (need <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = realloc(b->data, cap);
    if (!p) return LM_ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int lm_buf_append(struct lm_buf *b, const void *data, size_t len)
{
    if (lm_buf_reserve(b, len) < 0) return LM_ENOMEM;
    if (len) memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = 0;
    return 0;
}

int lm_buf_append_str(struct lm_buf *b, const char *s) { return lm_buf_append(b, s, strlen(s)); }
int lm_buf_append_char(struct lm_buf *b, char c) { return lm_buf_append(b, &c, 1); }

int lm_buf_vprintf(struct lm_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) return LM_EINVAL;
    if (lm_buf_reserve(b, (size_t)n) < 0) return LM_ENOMEM;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int lm_buf_printf(struct lm_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = lm_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

void lm_buf_clear(struct lm_buf *b)
{
    b->len = 0;
    if (b->data) b->data[0] = 0;
}

char *lm_buf_take(struct lm_buf *b)
{
    char *p = b->data;
    if (!p) p = calloc(1, 1);
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

void lm_buf_free(struct lm_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
