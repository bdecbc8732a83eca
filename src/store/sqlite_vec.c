/* sqlite_vec.c — the embedded store's in-memory vector matrix and exact top-k cosine scan.
 *
 * All vectors sit in one contiguous row-major float array, so a search is one pass over memory
 * (100k x 384 f32 = 154 MB). The dot product is written with GCC/Clang vector extensions; on
 * x86-64 an AVX2+FMA build of the scan is picked at run time (the store may use only core, so it
 * does not go through the kernels' dispatch table).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite.h"

/* 8 floats; aligned(4) makes loads from any float address legal (rows need not be aligned). */
typedef float lm__v8f __attribute__((vector_size(32), aligned(4)));

/* Frees the matrix arrays. */
void lm__sq_matrix_free(struct lm__sq_matrix *m)
{
    free(m->vec);
    free(m->inv_norm);
    free(m->chunk_id);
    free(m->doc_id);
    m->vec = m->inv_norm = NULL;
    m->chunk_id = m->doc_id = NULL;
    m->n = m->cap = 0;
}

/* Grows capacity to at least want rows; LM_ENOMEM leaves it unchanged. */
static int matrix_reserve(struct lm__sq_matrix *m, size_t want)
{
    if (want <= m->cap) return 0;
    size_t cap = m->cap ? m->cap : 1024;
    while (cap < want) cap *= 2;
    size_t d = (size_t)m->dim;
    if (d && cap > SIZE_MAX / sizeof(float) / d) return LM_ENOMEM;
    float *vec = realloc(m->vec, cap * d * sizeof(float) + 32);
    if (!vec) return LM_ENOMEM;
    m->vec = vec;
    float *nrm = realloc(m->inv_norm, cap * sizeof(float));
    if (!nrm) return LM_ENOMEM;
    m->inv_norm = nrm;
    int64_t *cid = realloc(m->chunk_id, cap * sizeof(int64_t));
    if (!cid) return LM_ENOMEM;
    m->chunk_id = cid;
    int64_t *did = realloc(m->doc_id, cap * sizeof(int64_t));
    if (!did) return LM_ENOMEM;
    m->doc_id = did;
    m->cap = cap;
    return 0;
}

/* 1/|v|, or 0 for a zero (or non-finite) vector so it scores 0 against everything. */
static float inv_norm_of(const float *v, int dim)
{
    double ss = 0;
    for (int i = 0; i < dim; i++) ss += (double)v[i] * v[i];
    if (!(ss > 0) || !isfinite(ss)) return 0.0f;
    return (float)(1.0 / sqrt(ss));
}

/* Appends n rows of one document. */
int lm__sq_matrix_append(struct lm__sq_matrix *m, const int64_t *chunk_ids, int64_t doc_id,
                         const float *const *vecs, size_t n)
{
    if (matrix_reserve(m, m->n + n) < 0) return LM_ENOMEM;
    size_t d = (size_t)m->dim;
    for (size_t i = 0; i < n; i++) {
        size_t r = m->n + i;
        memcpy(m->vec + r * d, vecs[i], d * sizeof(float));
        m->inv_norm[r] = inv_norm_of(vecs[i], m->dim);
        m->chunk_id[r] = chunk_ids[i];
        m->doc_id[r] = doc_id;
    }
    m->n += n;
    return 0;
}

/* Removes the rows of doc_id, keeping the rest in order. */
void lm__sq_matrix_remove_doc(struct lm__sq_matrix *m, int64_t doc_id)
{
    size_t d = (size_t)m->dim, w = 0;
    for (size_t r = 0; r < m->n; r++) {
        if (m->doc_id[r] == doc_id) continue;
        if (w != r) {
            memmove(m->vec + w * d, m->vec + r * d, d * sizeof(float));
            m->inv_norm[w] = m->inv_norm[r];
            m->chunk_id[w] = m->chunk_id[r];
            m->doc_id[w] = m->doc_id[r];
        }
        w++;
    }
    m->n = w;
}

/* Replaces the matrix with what db holds, read in one transaction together with its generation. */
int lm__sq_matrix_load(struct lm__sq_matrix *m, sqlite3 *db, struct lm_error *err)
{
    struct lm__sq_matrix t = {.dim = m->dim, .generation = -1};
    sqlite3_stmt *st = NULL;
    int rc = 0;
    if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) return lm__sq_err(db, err, "begin");
    rc = lm__sq_read_generation(db, &t.generation, err);
    if (!rc && sqlite3_prepare_v2(db, "SELECT id, document_id, embedding FROM chunks ORDER BY id", -1, &st,
                                  NULL) != SQLITE_OK)
        rc = lm__sq_err(db, err, "load vectors");
    while (!rc) {
        int s = sqlite3_step(st);
        if (s == SQLITE_DONE) break;
        if (s != SQLITE_ROW) {
            rc = lm__sq_err(db, err, "load vectors");
            break;
        }
        int64_t cid = sqlite3_column_int64(st, 0);
        const void *blob = sqlite3_column_blob(st, 2);
        int bytes = sqlite3_column_bytes(st, 2);
        if (!blob || bytes != t.dim * (int)sizeof(float)) {
            rc = lm_error_set(err, LM_EFORMAT, "sqlite: chunk %lld has a %d-byte embedding, expected %d",
                              (long long)cid, bytes, t.dim * (int)sizeof(float));
            break;
        }
        /* the blob may be unaligned: copy through the row slot */
        if (matrix_reserve(&t, t.n + 1) < 0) {
            rc = lm_error_set(err, LM_ENOMEM, "sqlite: out of memory loading vectors");
            break;
        }
        float *row = t.vec + t.n * (size_t)t.dim;
        memcpy(row, blob, (size_t)bytes);
        t.inv_norm[t.n] = inv_norm_of(row, t.dim);
        t.chunk_id[t.n] = cid;
        t.doc_id[t.n] = sqlite3_column_int64(st, 1);
        t.n++;
    }
    sqlite3_finalize(st);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    if (rc) {
        lm__sq_matrix_free(&t);
        return rc;
    }
    lm__sq_matrix_free(m);
    *m = t;
    return 0;
}

/* Makes the matrix current with respect to db's view of the file. */
int lm__sq_matrix_sync(struct lm__sq_store *s, sqlite3 *db, struct lm_error *err)
{
    int64_t gen = 0;
    int rc = lm__sq_read_generation(db, &gen, err);
    if (rc) return rc;
    pthread_rwlock_rdlock(&s->mlock);
    bool fresh = s->m.generation == gen;
    pthread_rwlock_unlock(&s->mlock);
    if (fresh) return 0;
    pthread_rwlock_wrlock(&s->mlock);
    if (s->m.generation != gen) rc = lm__sq_matrix_load(&s->m, db, err);
    pthread_rwlock_unlock(&s->mlock);
    return rc;
}

/* Dot product, portable build (vector extensions lower to SSE2 on x86-64, NEON on arm64). */
static float dot_generic(const float *a, const float *b, int n)
{
    lm__v8f acc0 = {0}, acc1 = {0};
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        acc0 += *(const lm__v8f *)(a + i) * *(const lm__v8f *)(b + i);
        acc1 += *(const lm__v8f *)(a + i + 8) * *(const lm__v8f *)(b + i + 8);
    }
    acc0 += acc1;
    float s = 0;
    for (int j = 0; j < 8; j++) s += acc0[j];
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

/* Keeps the best k (score, id) pairs sorted best first; returns the new count. */
static size_t topk_push(int64_t *ids, double *scores, size_t cnt, int k, int64_t id, double sc)
{
    if (cnt == (size_t)k && !(sc > scores[cnt - 1])) return cnt;
    size_t pos = cnt < (size_t)k ? cnt : (size_t)k - 1;
    while (pos > 0 && scores[pos - 1] < sc) {
        scores[pos] = scores[pos - 1];
        ids[pos] = ids[pos - 1];
        pos--;
    }
    scores[pos] = sc;
    ids[pos] = id;
    return cnt < (size_t)k ? cnt + 1 : cnt;
}

/* Scan with a given dot function (inlined into each ISA build below). */
static inline __attribute__((always_inline)) size_t scan(const struct lm__sq_matrix *m, const float *q, int k,
                                                          int64_t *ids, double *scores,
                                                          float (*dot)(const float *, const float *, int))
{
    float qn = inv_norm_of(q, m->dim);
    size_t cnt = 0, d = (size_t)m->dim;
    double worst = -INFINITY;
    for (size_t r = 0; r < m->n; r++) {
        float sc = dot(q, m->vec + r * d, m->dim) * m->inv_norm[r] * qn;
        if (cnt == (size_t)k && !(sc > worst)) continue;
        cnt = topk_push(ids, scores, cnt, k, m->chunk_id[r], sc);
        if (cnt == (size_t)k) worst = scores[cnt - 1];
    }
    return cnt;
}

#if defined(__x86_64__)
/* AVX2+FMA build of the dot product: 4 independent 8-wide accumulators hide the FMA latency. */
__attribute__((target("avx2,fma"))) static float dot_avx2(const float *a, const float *b, int n)
{
    lm__v8f acc0 = {0}, acc1 = {0}, acc2 = {0}, acc3 = {0};
    int i = 0;
    for (; i + 32 <= n; i += 32) {
        acc0 += *(const lm__v8f *)(a + i) * *(const lm__v8f *)(b + i);
        acc1 += *(const lm__v8f *)(a + i + 8) * *(const lm__v8f *)(b + i + 8);
        acc2 += *(const lm__v8f *)(a + i + 16) * *(const lm__v8f *)(b + i + 16);
        acc3 += *(const lm__v8f *)(a + i + 24) * *(const lm__v8f *)(b + i + 24);
    }
    for (; i + 8 <= n; i += 8) acc0 += *(const lm__v8f *)(a + i) * *(const lm__v8f *)(b + i);
    acc0 += acc1 + acc2 + acc3;
    float s = 0;
    for (int j = 0; j < 8; j++) s += acc0[j];
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

__attribute__((target("avx2,fma"))) static size_t scan_avx2(const struct lm__sq_matrix *m, const float *q,
                                                             int k, int64_t *ids, double *scores)
{
    return scan(m, q, k, ids, scores, dot_avx2);
}
#endif

static size_t scan_generic(const struct lm__sq_matrix *m, const float *q, int k, int64_t *ids, double *scores)
{
    return scan(m, q, k, ids, scores, dot_generic);
}

/* Exact top-k by cosine similarity over all rows. */
size_t lm__sq_matrix_topk(const struct lm__sq_matrix *m, const float *q, int k, int64_t *ids, double *scores)
{
    if (k <= 0 || m->n == 0) return 0;
#if defined(__x86_64__)
    /* reads a table filled by the runtime at start-up: cheap next to the scan */
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return scan_avx2(m, q, k, ids, scores);
#endif
    return scan_generic(m, q, k, ids, scores);
}
