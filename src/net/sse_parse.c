/* sse_parse.c — Server-Sent Events parser (see lm/sse_parse.h). */
#include "lm/sse_parse.h"

#include <string.h>

/* Prepares an empty parser. */
void lm_sse_init(struct lm_sse_parser *p, size_t max_event)
{
    memset(p, 0, sizeof *p);
    p->_max = max_event ? max_event : (size_t)1 << 20;
}

/* Frees the parser's buffers. */
void lm_sse_free(struct lm_sse_parser *p)
{
    lm_buf_free(&p->_line);
    lm_buf_free(&p->_data);
    lm_buf_free(&p->_event);
}

/* Forgets the event being read (after dispatch or at a blank line without data). */
static void reset_event(struct lm_sse_parser *p)
{
    lm_buf_clear(&p->_data);
    lm_buf_clear(&p->_event);
    p->_have_data = false;
}

/* Sends the event read so far to fn, if it has data (the spec ignores data-less events). */
static int dispatch(struct lm_sse_parser *p, lm_sse_event_fn fn, void *user)
{
    int rc = 0;
    if (p->_have_data) {
        const char *ev = p->_event.len ? p->_event.data : "message";
        const char *data = p->_data.data ? p->_data.data : "";
        rc = fn(user, ev, data, p->_data.len);
    }
    reset_event(p);
    return rc;
}

/* Handles one complete line (without its terminator). */
static int process_line(struct lm_sse_parser *p, lm_sse_event_fn fn, void *user, struct lm_error *err)
{
    const char *line = p->_line.data ? p->_line.data : "";
    size_t len = p->_line.len;
    if (len == 0) return dispatch(p, fn, user);
    if (line[0] == ':') return 0; /* comment, e.g. keep-alive */
    const char *colon = memchr(line, ':', len);
    size_t name_len = colon ? (size_t)(colon - line) : len;
    const char *value = colon ? colon + 1 : line + len;
    size_t value_len = len - (size_t)(value - line);
    if (value_len && value[0] == ' ') value++, value_len--;

    if (name_len == 4 && !memcmp(line, "data", 4)) {
        if (p->_data.len + value_len + 1 > p->_max)
            return lm_error_set(err, LM_ETOOBIG, "sse: event larger than %zu bytes", p->_max);
        if (p->_have_data && lm_buf_append_char(&p->_data, '\n') < 0) return LM_ENOMEM;
        if (lm_buf_append(&p->_data, value, value_len) < 0) return LM_ENOMEM;
        p->_have_data = true;
    } else if (name_len == 5 && !memcmp(line, "event", 5)) {
        lm_buf_clear(&p->_event);
        if (lm_buf_append(&p->_event, value, value_len) < 0) return LM_ENOMEM;
    }
    /* id and retry concern reconnection, which a completion stream never does */
    return 0;
}

/* Parses len bytes, dispatching each complete event. */
int lm_sse_feed(struct lm_sse_parser *p, const char *buf, size_t len, lm_sse_event_fn fn, void *user,
                struct lm_error *err)
{
    size_t i = 0;
    if (!p->_started && len) {
        /* a UTF-8 byte-order mark may open the stream; it can arrive split, but servers send
         * none in practice, so only a whole one at the very start is skipped */
        if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3)) i = 3;
        p->_started = true;
    }
    while (i < len) {
        char c = buf[i];
        if (p->_skip_lf) {
            p->_skip_lf = false;
            if (c == '\n') { i++; continue; }
        }
        if (c == '\r' || c == '\n') {
            p->_skip_lf = (c == '\r');
            int rc = process_line(p, fn, user, err);
            lm_buf_clear(&p->_line);
            i++;
            if (rc != 0) return rc;
            continue;
        }
        /* copy the run of ordinary bytes up to the next line end at once */
        size_t j = i;
        while (j < len && buf[j] != '\r' && buf[j] != '\n') j++;
        if (p->_line.len + (j - i) > p->_max)
            return lm_error_set(err, LM_ETOOBIG, "sse: line longer than %zu bytes", p->_max);
        if (lm_buf_append(&p->_line, buf + i, j - i) < 0) return LM_ENOMEM;
        i = j;
    }
    return 0;
}

/* Dispatches what is pending at end of stream (a last line without terminator included). */
int lm_sse_finish(struct lm_sse_parser *p, lm_sse_event_fn fn, void *user)
{
    int rc = 0;
    if (p->_line.len) {
        rc = process_line(p, fn, user, NULL);
        lm_buf_clear(&p->_line);
        if (rc != 0) return rc;
    }
    return dispatch(p, fn, user);
}
