/* fuzz/multipart.c — multipart/form-data parsing on arbitrary bytes: the first line is the
 * Content-Type header, the rest the body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lm/multipart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *nl = memchr(data, '\n', size);
    if (!nl) return 0;
    size_t hl = (size_t)(nl - (const char *)data);
    char *ct = malloc(hl + 1);
    if (!ct) return 0;
    memcpy(ct, data, hl);
    ct[hl] = 0;
    char boundary[71];
    if (lm_multipart_boundary(ct, boundary, NULL) == 0) {
        struct lm_multipart_part parts[8];
        size_t n, body_len = size - hl - 1;
        const char *body = (const char *)data + hl + 1;
        if (lm_multipart_parse(body, body_len, boundary, parts, 8, &n, NULL) == 0)
            for (size_t i = 0; i < n; i++)
                if (parts[i].data.ptr < body || parts[i].data.ptr + parts[i].data.len > body + body_len)
                    __builtin_trap();
    }
    free(ct);
    return 0;
}
