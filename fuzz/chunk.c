/* fuzz/chunk.c — the chunker on arbitrary bytes. The first two bytes pick size and overlap
 * (and whether a token budget is applied); the rest is the text. Invariants: no failure other
 * than the documented ones, every chunk non-empty valid UTF-8 without NUL. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lm/chunk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Token stand-in: one per 3 bytes, at least 1. */
static int count3(const char *text, size_t len, void *user)
{
    (void)text, (void)user;
    return (int)(len / 3) + 1;
}

/* Strict UTF-8 check (no overlongs, surrogates or values past U+10FFFF). */
static int valid_utf8(const unsigned char *p)
{
    while (*p) {
        unsigned c = *p, n = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : 9;
        if (n == 9) return 0;
        uint32_t cp = n == 0 ? c : n == 1 ? (c & 0x1f) : n == 2 ? (c & 0x0f) : (c & 0x07);
        for (unsigned i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80) return 0;
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        static const uint32_t minv[] = {0, 0x80, 0x800, 0x10000};
        if (cp < minv[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
        p += n + 1;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    struct lm_chunk_params p = {.size = 1 + data[0] % 128, .overlap = 0};
    p.overlap = (data[1] & 0x7f) % p.size;
    if (data[1] & 0x80) {
        p.count_tokens = count3;
        p.max_tokens = 1 + data[0] % 40;
    }
    struct lm_chunks c = {0};
    int rc = lm_chunk_split((const char *)data + 2, size - 2, &p, &c, NULL);
    if (rc < 0) abort();
    for (size_t i = 0; i < c.n; i++)
        if (!c.items[i][0] || !valid_utf8((const unsigned char *)c.items[i])) abort();
    lm_chunks_free(&c);
    return 0;
}
