/* err.c — error codes to text, and the struct lm_error formatter. */
#include "lm/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *lm_strerror(int code)
{
    switch (code) {
    case LM_OK: return "ok";
    case LM_ENOENT: return "not found";
    case LM_EIO: return "input/output error";
    case LM_ENOMEM: return "out of memory";
    case LM_EINVAL: return "invalid argument";
    case LM_ERANGE: return "out of range";
    case LM_ENOTSUP: return "not supported";
    case LM_EBUSY: return "busy";
    case LM_ETIMEDOUT: return "timed out";
    case LM_ECANCELED: return "canceled";
    case LM_EFORMAT: return "malformed input";
    case LM_ETOOBIG: return "too large";
    case LM_ECONTEXT: return "context exceeded";
    default: return "error";
    }
}

int lm_error_set(struct lm_error *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

void lm_error_prefix(struct lm_error *err, const char *prefix)
{
    if (!err) return;
    char tmp[LM_ERROR_MSG_MAX];
    size_t n = strlen(prefix);
    if (n > sizeof tmp - 3) n = sizeof tmp - 3;
    memcpy(tmp, prefix, n);
    tmp[n] = ':';
    tmp[n + 1] = ' ';
    size_t m = strnlen(err->msg, sizeof err->msg);
    if (m > sizeof tmp - n - 3) m = sizeof tmp - n - 3;
    memcpy(tmp + n + 2, err->msg, m);
    tmp[n + 2 + m] = 0;
    memcpy(err->msg, tmp, sizeof tmp);
}
