/* err.h — the one error convention of the project.
 *
 * Functions that can fail return int: 0 on success or a negative LM_E* code (errno-compatible
 * where one exists). The human text goes into a caller-owned struct lm_error, one line that
 * names what was wrong (key, tensor, field), never only to stderr:
 *
 *     struct lm_error err = {0};
 *     if (lm_gguf_open(path, &g, &err) < 0) { fprintf(stderr, "%s\n", err.msg); ... }
 *
 * Every pointer argument named err may be NULL when the caller does not want the text.
 */
#ifndef LM_ERR_H
#define LM_ERR_H

#include <errno.h>

enum {
    LM_OK       = 0,
    LM_ENOENT   = -ENOENT,    /* missing file, key, route, row */
    LM_EIO      = -EIO,       /* read/write/network failure */
    LM_ENOMEM   = -ENOMEM,    /* allocation failed */
    LM_EINVAL   = -EINVAL,    /* bad argument or request */
    LM_ERANGE   = -ERANGE,    /* value or size out of range, overflow */
    LM_ENOTSUP  = -ENOTSUP,   /* unsupported architecture, type, feature */
    LM_EBUSY    = -EBUSY,     /* no free slot, queue full */
    LM_ETIMEDOUT = -ETIMEDOUT,
    LM_ECANCELED = -ECANCELED,
    LM_EFORMAT  = -1000,      /* malformed input data (file, JSON, frame) */
    LM_ETOOBIG  = -1001,      /* input larger than a configured limit */
    LM_ECONTEXT = -1002,      /* prompt does not fit in the context */
};

#define LM_ERROR_MSG_MAX 256

struct lm_error {
    int code;
    char msg[LM_ERROR_MSG_MAX];
};

/* Short fixed description of a code ("malformed input"). Never NULL. */
const char *lm_strerror(int code);

/* Formats the message into err (if not NULL), stores code, and returns code,
 * so that `return lm_error_set(err, LM_EFORMAT, "gguf: key %s: ...", k);` reads naturally. */
int lm_error_set(struct lm_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes the existing message with "prefix: " (bounded). */
void lm_error_prefix(struct lm_error *err, const char *prefix);

#endif
