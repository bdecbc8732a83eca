/* ingest.c — adding a document: chunk (the seed's split_text, lm/chunk.h), embed in batches,
 * store the document and its chunks in one transaction. The content hash (SHA-256, written
 * out below) lets the store recognise a document that is already there. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lm/chunk.h"
#include "lm/rag.h"

/* ---- SHA-256 (FIPS 180-4) ---- */

static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

/* Rotates x right by n bits. */
static uint32_t ror(uint32_t x, int n)
{
    return (x >> n) | (x << (32 - n));
}

/* Compresses one 64-byte block into h. */
static void sha256_block(uint32_t h[8], const uint8_t *p)
{
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = hh + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K256[i] + w[i];
        uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        hh = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
}

/* Hex SHA-256 of data into out[65]. */
static void sha256_hex(const void *data, size_t len, char out[65])
{
    uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    const uint8_t *p = data;
    size_t left = len;
    while (left >= 64) {
        sha256_block(h, p);
        p += 64;
        left -= 64;
    }
    uint8_t tail[128] = {0};
    memcpy(tail, p, left);
    tail[left] = 0x80;
    size_t tl = left + 1 + 8 <= 64 ? 64 : 128;
    uint64_t bits = (uint64_t)len * 8;
    for (int i = 0; i < 8; i++) tail[tl - 1 - i] = (uint8_t)(bits >> (8 * i));
    sha256_block(h, tail);
    if (tl == 128) sha256_block(h, tail + 64);
    for (int i = 0; i < 8; i++) snprintf(out + 8 * i, 9, "%08x", h[i]);
}

/* ---- ingestion ---- */

/* Adapts the embedder's token counter to the chunker's callback. */
static int count_for_chunker(const char *text, size_t len, void *user)
{
    const struct lm_rag_embedder *e = user;
    int n = e->count_tokens(e->self, text, len);
    return n < 0 ? 0 : n;
}

/* Chunks, embeds and stores one document (see header). */
int lm_rag_ingest(struct lm_store *s, const struct lm_rag_embedder *emb, const char *source, const char *content,
                  const struct lm_rag_ingest_params *p, struct lm_rag_ingest_result *res, struct lm_error *err)
{
    memset(res, 0, sizeof *res);
    size_t len = strlen(content);
    size_t i = 0;
    while (i < len && (content[i] == ' ' || content[i] == '\n' || content[i] == '\r' || content[i] == '\t')) i++;
    if (i == len) return lm_error_set(err, LM_EINVAL, "the document has no text");

    struct lm_chunk_params cp = lm_chunk_params_default();
    if (p->chunk_size > 0) cp.size = p->chunk_size;
    if (p->chunk_overlap >= 0 && p->chunk_overlap < cp.size) cp.overlap = p->chunk_overlap;
    /* a chunk never exceeds what the embedding model reads: count with its own tokenizer */
    if (emb->count_tokens && emb->max_tokens > 0) {
        cp.count_tokens = count_for_chunker;
        cp.user = (void *)emb;
        cp.max_tokens = emb->max_tokens;
    }
    struct lm_chunks ch = {0};
    int rc = lm_chunk_split(content, len, &cp, &ch, err);
    if (rc < 0) {
        lm_chunks_free(&ch);
        return rc;
    }
    if (ch.n == 0) {
        lm_chunks_free(&ch);
        return lm_error_set(err, LM_EINVAL, "the document has no text");
    }
    if (p->max_chunks && ch.n > p->max_chunks) {
        rc = lm_error_set(err, LM_ETOOBIG, "the document makes %zu chunks, more than the limit of %zu (RAGD_MAX_CHUNKS)",
                          ch.n, p->max_chunks);
        lm_chunks_free(&ch);
        return rc;
    }
    size_t dim = (size_t)emb->dim;
    float *vecs = malloc(sizeof(float) * dim * ch.n);
    struct lm_chunk_in *in = calloc(ch.n, sizeof *in);
    if (!vecs || !in) {
        rc = lm_error_set(err, LM_ENOMEM, "out of memory for %zu chunks", ch.n);
        goto out;
    }
    size_t batch = p->batch > 0 ? (size_t)p->batch : 32;
    for (size_t b = 0; b < ch.n; b += batch) {
        size_t nb = ch.n - b < batch ? ch.n - b : batch;
        rc = emb->embed(emb->self, (const char *const *)ch.items + b, nb, vecs + b * dim, err);
        if (rc < 0) goto out;
        if (p->progress) p->progress(p->user, b + nb, ch.n);
    }
    for (size_t k = 0; k < ch.n; k++) in[k] = (struct lm_chunk_in){ch.items[k], vecs + k * dim};
    char hash[65];
    sha256_hex(content, len, hash);
    int64_t dup = 0;
    rc = lm_store_add_document(s, source, hash, in, ch.n, &res->document_id, &dup, err);
    if (rc == 0) {
        res->duplicate = dup != 0;
        res->n_chunks = ch.n;
    }
out:
    free(in);
    free(vecs);
    lm_chunks_free(&ch);
    return rc;
}
