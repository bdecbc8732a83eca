/* log.c — the default stderr sink and level filter. */
#include "lm/log.h"

#include <stdarg.h>
#include <stdio.h>

static lm_log_fn g_fn;
static void *g_user;
static enum lm_log_level g_min = LM_LOG_INFO;

void lm_log_set(lm_log_fn fn, void *user)
{
    g_fn = fn;
    g_user = user;
}

void lm_log_set_level(enum lm_log_level min) { g_min = min; }
enum lm_log_level lm_log_get_level(void) { return g_min; }

void lm_log(enum lm_log_level level, const char *fmt, ...)
{
    if (level < g_min) return;
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (g_fn) {
        g_fn(level, text, g_user);
        return;
    }
    static const char *names[] = {"debug", "info", "warn", "error"};
    fprintf(stderr, "%s: %s\n", names[level & 3], text);
}
