/* ingest.c — adding a document: chunk (the seed's split_text, lm/chunk.h), embed in batches,
 * store the document and its chunks in one transaction. The content hash (SHA-256) lets the
 * store recognise a document that is already there. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lm/chunk.h"
#include "lm/rag.h"
#include "lm/sha256.h"

/* Hex SHA-256 of data into out[65]. */
static void sha256_hex(const void *data, size_t len, char out[65])
{
    struct lm_sha256 h;
    uint8_t d[32];
    lm_sha256_init(&h);
    lm_sha256_update(&h, data, len);
    lm_sha256_final(&h, d);
    lm_sha256_hex(d, out);
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
