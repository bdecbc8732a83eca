/* fuzz/sse.c — the SSE parser on arbitrary bytes, fed whole and in two pieces. */
#include <stdint.h>
#include <string.h>

#include "lm/sse_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Checks what the parser hands out: data_len bytes readable and NUL-terminated. */
static int on_event(void *user, const char *event, const char *d, size_t len)
{
    size_t *total = user;
    *total += len + strlen(event);
    if (d[len] != 0) __builtin_trap();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lm_sse_parser p;
    size_t total = 0;
    size_t cut = size ? data[0] % (size + 1) : 0;
    lm_sse_init(&p, 4096);
    if (lm_sse_feed(&p, (const char *)data, cut, on_event, &total, NULL) == 0 &&
        lm_sse_feed(&p, (const char *)data + cut, size - cut, on_event, &total, NULL) == 0)
        lm_sse_finish(&p, on_event, &total);
    lm_sse_free(&p);
    return 0;
}
