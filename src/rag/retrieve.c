/* retrieve.c — hybrid retrieval: vector and keyword top-k fused by reciprocal rank fusion.
 *
 * Why RRF: cosine similarities and BM25 scores live on different scales, ranks do not; and a
 * weak or generic embedder (small test models are random) still leaves the keyword half to
 * carry exact names and numbers. */
#include <stdlib.h>
#include <string.h>

#include "lm/rag.h"

#define RRF_K 60.0          /* the constant of Cormack et al.; damps the top ranks */
#define FETCH_MIN 20        /* each half fetches at least this many before fusion */

/* qsort: higher fused score first, then lower chunk id (stable across runs). */
static int by_score(const void *a, const void *b)
{
    const struct lm_hit *x = a, *y = b;
    if (x->score != y->score) return x->score < y->score ? 1 : -1;
    return (x->chunk_id > y->chunk_id) - (x->chunk_id < y->chunk_id);
}

/* Fuses two ranked lists (see header). */
int lm_rag_fuse(struct lm_hit *a, size_t na, struct lm_hit *b, size_t nb, int k, struct lm_hit **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    struct lm_hit *all = calloc(na + nb + 1, sizeof *all);
    if (!all) {
        lm_store_free_hits(a, na);
        lm_store_free_hits(b, nb);
        return LM_ENOMEM;
    }
    size_t m = 0;
    for (size_t i = 0; i < na; i++) {
        all[m] = a[i];
        all[m].score = 1.0 / (RRF_K + (double)(i + 1));
        memset(&a[i], 0, sizeof a[i]);
        m++;
    }
    for (size_t i = 0; i < nb; i++) {
        double s = 1.0 / (RRF_K + (double)(i + 1));
        size_t j = 0;
        while (j < na && all[j].chunk_id != b[i].chunk_id) j++;
        if (j < na) {
            all[j].score += s; /* in both lists: the two reciprocal ranks add up */
            free(b[i].source);
            free(b[i].content);
        } else {
            all[m] = b[i];
            all[m].score = s;
            m++;
        }
        memset(&b[i], 0, sizeof b[i]);
    }
    free(a);
    free(b);
    qsort(all, m, sizeof *all, by_score);
    size_t keep = k < 0 ? 0 : ((size_t)k < m ? (size_t)k : m);
    for (size_t i = keep; i < m; i++) {
        free(all[i].source);
        free(all[i].content);
    }
    *out = all;
    *n = keep;
    return 0;
}

/* Retrieves the k best chunks for a question (see header). */
int lm_rag_retrieve(struct lm_store *s, const struct lm_rag_embedder *emb, const char *question, int k,
                    struct lm_hit **out, size_t *n, struct lm_error *err)
{
    *out = NULL;
    *n = 0;
    if (k <= 0) return 0;
    int fetch = k * 4 > FETCH_MIN ? k * 4 : FETCH_MIN;
    struct lm_hit *vh = NULL, *kh = NULL;
    size_t nv = 0, nk = 0;
    int rc;
    if (emb) {
        float *q = malloc(sizeof(float) * (size_t)emb->dim);
        if (!q) return lm_error_set(err, LM_ENOMEM, "retrieve: out of memory");
        rc = emb->embed(emb->self, &question, 1, q, err);
        if (rc == 0) rc = lm_store_search_vector(s, q, fetch, &vh, &nv, err);
        free(q);
        if (rc < 0) return rc;
    }
    struct lm_error kerr = {0};
    rc = lm_store_search_keyword(s, question, fetch, &kh, &nk, &kerr);
    if (rc < 0) {
        /* a keyword failure (e.g. an FTS syntax corner) must not sink the answer */
        kh = NULL;
        nk = 0;
        if (!emb) return lm_error_set(err, rc, "%s", kerr.msg);
    }
    return lm_rag_fuse(vh, nv, kh, nk, k, out, n) < 0 ? lm_error_set(err, LM_ENOMEM, "retrieve: out of memory") : 0;
}
