/* sse_write.c — Server-Sent Events on top of an HTTP stream (lm/http.h). */
#include <string.h>

#include "lm/buf.h"
#include "lm/http.h"

/* Appends "event: <event>\n" (when event is set), "data: <line>\n" for each line of data and
 * the blank line that ends the event. */
static int sse_format(struct lm_buf *b, const char *event, const char *data)
{
    if (event && lm_buf_printf(b, "event: %s\n", event) < 0) return LM_ENOMEM;
    const char *p = data ? data : "";
    for (;;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (n && p[n - 1] == '\r') n--;
        if (lm_buf_append_str(b, "data: ") < 0 || lm_buf_append(b, p, n) < 0 || lm_buf_append_char(b, '\n') < 0)
            return LM_ENOMEM;
        if (!nl) break;
        p = nl + 1;
    }
    return lm_buf_append_char(b, '\n');
}

/* One write per event, so that an event never reaches the client in pieces of our making. */
static int sse_write(struct lm_http_stream *st, const char *event, const char *data)
{
    struct lm_buf b = {0};
    int rc = sse_format(&b, event, data);
    if (rc == 0) rc = lm_http_stream_write(st, b.data, b.len);
    lm_buf_free(&b);
    return rc;
}

int lm_http_sse_data(struct lm_http_stream *st, const char *data)
{
    return sse_write(st, NULL, data);
}

int lm_http_sse_event(struct lm_http_stream *st, const char *event, const char *data)
{
    return sse_write(st, event, data);
}
