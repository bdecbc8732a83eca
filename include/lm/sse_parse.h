/* sse_parse.h — a sans-I/O parser for Server-Sent Events (the text/event-stream format of
 * the WHATWG HTML spec), as an OpenAI-compatible server streams chat completions.
 *
 * Feed it bytes as they arrive, in pieces of any size; it calls back once per complete event
 * (a blank line ends an event). Lines may end in \n, \r\n or \r, even split across feeds.
 * Comment lines (":...") and unknown fields are ignored; several data lines of one event are
 * joined with \n. One event larger than max_event bytes is LM_ETOOBIG (a hostile or broken
 * server cannot make the client grow without bound).
 *
 *     struct lm_sse_parser p;
 *     lm_sse_init(&p, 1 << 20);
 *     while ((n = recv(...)) > 0)
 *         if (lm_sse_feed(&p, buf, n, on_event, user, &err) != 0) break;
 *     lm_sse_free(&p);
 */
#ifndef LM_SSE_PARSE_H
#define LM_SSE_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "lm/buf.h"
#include "lm/err.h"

/* One event. event is "message" when the server named none; data is NUL-terminated and
 * may hold NULs (data_len counts bytes). Both are borrowed for the duration of the call.
 * Return 0 to go on; any other value stops lm_sse_feed, which returns it. */
typedef int (*lm_sse_event_fn)(void *user, const char *event, const char *data, size_t data_len);

struct lm_sse_parser {
    struct lm_buf _line;      /* the line being read */
    struct lm_buf _data;      /* data of the event being read */
    struct lm_buf _event;     /* event type of the event being read */
    size_t _max;              /* bytes allowed in one event */
    bool _have_data;          /* a data field was seen */
    bool _skip_lf;            /* the last byte was \r: a following \n belongs to it */
    bool _started;            /* past a possible leading byte-order mark */
};

/* Prepares p; max_event of 0 means 1 MiB. */
void lm_sse_init(struct lm_sse_parser *p, size_t max_event);
/* Parses len bytes. Returns 0, the callback's non-zero value, LM_ETOOBIG or LM_ENOMEM. */
int lm_sse_feed(struct lm_sse_parser *p, const char *buf, size_t len, lm_sse_event_fn fn, void *user,
                struct lm_error *err);
/* Dispatches a final event not followed by a blank line (the stream ended). The spec drops
 * such an event; callers that want it anyway call this at end of stream. */
int lm_sse_finish(struct lm_sse_parser *p, lm_sse_event_fn fn, void *user);
void lm_sse_free(struct lm_sse_parser *p);

#endif
