/* log.h — logging through a settable sink.
 *
 * Library code calls LM_LOG_INFO("loaded %s", name) and friends; the text goes to the sink set
 * with lm_log_set (default: stderr, one line per call, prefixed with the level). The sink and
 * the minimum level are process globals, set once at start-up and read-only afterwards.
 */
#ifndef LM_LOG_H
#define LM_LOG_H

enum lm_log_level { LM_LOG_DEBUG = 0, LM_LOG_INFO = 1, LM_LOG_WARN = 2, LM_LOG_ERROR = 3 };

typedef void (*lm_log_fn)(enum lm_log_level level, const char *text, void *user);

/* Replaces the sink (NULL restores stderr). */
void lm_log_set(lm_log_fn fn, void *user);
void lm_log_set_level(enum lm_log_level min);
enum lm_log_level lm_log_get_level(void);

void lm_log(enum lm_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define LM_LOG_DEBUG(...) lm_log(LM_LOG_DEBUG, __VA_ARGS__)
#define LM_LOG_INFO(...)  lm_log(LM_LOG_INFO, __VA_ARGS__)
#define LM_LOG_WARN(...)  lm_log(LM_LOG_WARN, __VA_ARGS__)
#define LM_LOG_ERROR(...) lm_log(LM_LOG_ERROR, __VA_ARGS__)

#endif
