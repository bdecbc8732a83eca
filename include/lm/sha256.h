/* sha256.h — SHA-256 (FIPS 180-4), streaming. Used to verify downloads against the Hub's
 * X-Linked-Etag. No allocation; the context is a plain caller-owned struct.
 *
 *     struct lm_sha256 h;
 *     lm_sha256_init(&h);
 *     lm_sha256_update(&h, data, len);   // any number of times
 *     uint8_t d[32]; lm_sha256_final(&h, d);
 */
#ifndef LM_SHA256_H
#define LM_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct lm_sha256 {
    uint32_t h[8];
    uint64_t total;        /* bytes hashed so far */
    uint8_t block[64];
    size_t fill;           /* bytes waiting in block */
};

void lm_sha256_init(struct lm_sha256 *c);
void lm_sha256_update(struct lm_sha256 *c, const void *data, size_t len);
/* Writes the 32-byte digest; the context must be re-initialised before reuse. */
void lm_sha256_final(struct lm_sha256 *c, uint8_t digest[32]);
/* Lower-case hex of a digest into out[65] (NUL-terminated). */
void lm_sha256_hex(const uint8_t digest[32], char out[65]);

#endif
