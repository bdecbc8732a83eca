/* retrieve.c — hybrid retrieval: vector and keyword top-k fused by weighted reciprocal rank
 * fusion.
 *
 * Why ranks: cosine similarities and BM25 / ts_rank scores live on different scales, ranks do
 * not. Why weights: plain RRF gives both lists the same vote, so a weak or generic embedder
 * (small test models are random; real ones know nothing of codewords and part numbers) lets a
 * near-arbitrary vector ranking outvote an exact keyword match. So each list's vote is scaled
 * by how much it tells apart:
 *  - the vector list by the spread of its similarities: a list whose top and tenth entries are
 *    nearly equal carries little information (weight down to VEC_W_MIN);
 *  - each keyword hit by its score relative to the best keyword hit, so a chunk matching a
 *    rare exact term keeps its full vote while chunks sharing only common words with the
 *    question fall away.
 * The two weights are normalised to sum to 2, so the fused score stays on plain RRF's scale
 * (at most 2/61 for a chunk first in both lists). With only vectors (no keyword hits) the
 * result is the plain reciprocal rank of the vector list, as before. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lm/rag.h"

#define RRF_K 60.0          /* the constant of Cormack et al.; damps the top ranks */
#define FETCH_MIN 20        /* each half fetches at least this many before fusion */
#define VEC_SPREAD_FULL 0.1 /* cosine spread (top minus tenth) at which vectors get full weight */
#define VEC_W_MIN 0.1       /* a flat vector list still breaks ties among keyword hits */
#define SPREAD_AT 10        /* the spread is measured down to this rank */

/* qsort: higher fused score first, then lower chunk id (stable across runs). */
static int by_score(const void *a, const void *b)
{
    const struct lm_hit *x = a, *y = b;
    if (x->score != y->score) return x->score < y->score ? 1 : -1;
    return (x->chunk_id > y->chunk_id) - (x->chunk_id < y->chunk_id);
}

/* Fuses a (weight wa) and b (weight wb); with rel_b each b hit's vote is also scaled by its
 * score relative to b's first. Takes the hits' strings; frees both arrays. */
static int fuse(struct lm_hit *a, size_t na, double wa, struct lm_hit *b, size_t nb, double wb, bool rel_b, int k,
                struct lm_hit **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    struct lm_hit *all = calloc(na + nb + 1, sizeof *all);
    if (!all) {
        lm_store_free_hits(a, na);
        lm_store_free_hits(b, nb);
        return LM_ENOMEM;
    }
    double top = nb ? b[0].score : 0;
    size_t m = 0;
    for (size_t i = 0; i < na; i++) {
        all[m] = a[i];
        all[m].score = wa / (RRF_K + (double)(i + 1));
        memset(&a[i], 0, sizeof a[i]);
        m++;
    }
    for (size_t i = 0; i < nb; i++) {
        double rel = 1.0;
        if (rel_b && top > 0 && isfinite(top)) {
            rel = b[i].score / top;
            rel = rel < 0 ? 0 : rel > 1 ? 1 : rel;
        }
        double s = wb * rel / (RRF_K + (double)(i + 1));
        size_t j = 0;
        while (j < na && all[j].chunk_id != b[i].chunk_id) j++;
        if (j < na) {
            all[j].score += s; /* in both lists: the two votes add up */
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

/* Fuses two ranked lists by plain reciprocal rank fusion (see header). */
int lm_rag_fuse(struct lm_hit *a, size_t na, struct lm_hit *b, size_t nb, int k, struct lm_hit **out, size_t *n)
{
    return fuse(a, na, 1.0, b, nb, 1.0, false, k, out, n);
}

/* The vector list's weight from the spread of its similarities (see the top of this file). */
double lm_rag_vector_weight(const struct lm_hit *v, size_t nv)
{
    if (nv < 3) return 1.0; /* too few to judge */
    size_t last = nv - 1 < SPREAD_AT - 1 ? nv - 1 : SPREAD_AT - 1;
    double spread = v[0].score - v[last].score;
    if (!isfinite(spread)) return 1.0;
    double w = spread / VEC_SPREAD_FULL;
    return w < VEC_W_MIN ? VEC_W_MIN : w > 1 ? 1 : w;
}

/* Fuses the vector and keyword lists by weighted RRF (see header). */
int lm_rag_fuse_hybrid(struct lm_hit *v, size_t nv, struct lm_hit *kw, size_t nk, int k, struct lm_hit **out,
                       size_t *n)
{
    if (!nk) return fuse(v, nv, 1.0, kw, 0, 1.0, false, k, out, n); /* vectors only: plain ranks */
    if (!nv) return fuse(v, 0, 1.0, kw, nk, 1.0, true, k, out, n);
    double wv = lm_rag_vector_weight(v, nv), wk = 1.0;
    double scale = 2.0 / (wv + wk);
    return fuse(v, nv, wv * scale, kw, nk, wk * scale, true, k, out, n);
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
    return lm_rag_fuse_hybrid(vh, nv, kh, nk, k, out, n) < 0 ? lm_error_set(err, LM_ENOMEM, "retrieve: out of memory")
                                                               : 0;
}
