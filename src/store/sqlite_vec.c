/* sqlite_vec.c — the embedded store's in-memory vector matrix and the exact top-k scan.
 *
 * All vectors sit in one contiguous row-major array of half floats (normalised first), so a
 * search is one pass over 2 bytes per dimension (100k x 384 = 77 MB). The half-precision scores
 * select candidates (everything within the provable f16 error of the k-th best); the caller
 * rescores those from the f32 BLOBs, so results are exact. On x86-64 an AVX2+FMA+F16C scan is
 * picked at run time (the store may use only core, so it does not go through the kernels'
 * dispatch table); elsewhere a portable loop converts in software.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

#include "store/sqlite.h"

/* float -> IEEE half, round to nearest even (overflow -> inf, NaN kept). */
uint16_t lm__sq_f32_to_f16(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000, mant = x & 0x7fffff;
    int32_t exp = (int32_t)((x >> 23) & 0xff);
    if (exp == 0xff) return (uint16_t)(sign | 0x7c00 | (mant ? 0x200 : 0));
    int32_t e = exp - 127 + 15;
    if (e >= 0x1f) return (uint16_t)(sign | 0x7c00);
    if (e <= 0) { /* half subnormal (or zero): value / 2^-24 */
        if (e < -10) return (uint16_t)sign;
        mant |= 0x800000;
        uint32_t shift = (uint32_t)(14 - e), half = mant >> shift, rem = mant & ((1u << shift) - 1),
                 mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1))) half++;
        return (uint16_t)(sign | half);
    }
    uint32_t half = ((uint32_t)e << 10) | (mant >> 13), rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (half & 1))) half++; /* a carry rounds up the exponent */
    return (uint16_t)(sign | half);
}

/* IEEE half -> float (exact). */
float lm__sq_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, x;
    if (exp == 0) {
        if (!mant) {
            x = sign;
        } else {
            int e = -1;
            do {
                e++;
                mant <<= 1;
            } while (!(mant & 0x400));
            x = sign | ((uint32_t)(127 - 15 - e) << 23) | ((mant & 0x3ff) << 13);
        }
    } else if (exp == 0x1f) {
        x = sign | 0x7f800000 | (mant << 13);
    } else {
        x = sign | ((exp - 15 + 127) << 23) | (mant << 13);
    }
    float f;
    memcpy(&f, &x, 4);
    return f;
}

/* Frees the matrix arrays. */
void lm__sq_matrix_free(struct lm__sq_matrix *m)
{
    free(m->vec);
    free(m->chunk_id);
    free(m->doc_id);
    m->vec = NULL;
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
    if (d && cap > SIZE_MAX / sizeof(uint16_t) / d) return LM_ENOMEM;
    uint16_t *vec = realloc(m->vec, cap * d * sizeof(uint16_t) + 64);
    if (!vec) return LM_ENOMEM;
    m->vec = vec;
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
static double inv_norm_of(const float *v, int dim)
{
    double ss = 0;
    for (int i = 0; i < dim; i++) ss += (double)v[i] * v[i];
    if (!(ss > 0) || !isfinite(ss)) return 0.0;
    return 1.0 / sqrt(ss);
}

/* Appends n rows of one document (normalised, as half floats). */
int lm__sq_matrix_append(struct lm__sq_matrix *m, const int64_t *chunk_ids, int64_t doc_id,
                         const float *const *vecs, size_t n)
{
    if (matrix_reserve(m, m->n + n) < 0) return LM_ENOMEM;
    size_t d = (size_t)m->dim;
    for (size_t i = 0; i < n; i++) {
        size_t r = m->n + i;
        double inv = inv_norm_of(vecs[i], m->dim);
        uint16_t *row = m->vec + r * d;
        for (size_t j = 0; j < d; j++) row[j] = lm__sq_f32_to_f16((float)(vecs[i][j] * inv));
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
            memmove(m->vec + w * d, m->vec + r * d, d * sizeof(uint16_t));
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
    float *row = malloc((size_t)t.dim * sizeof(float) + 1);
    if (!row) return lm_error_set(err, LM_ENOMEM, "sqlite: out of memory loading vectors");
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
        /* the blob may be unaligned: copy it into an aligned row first */
        memcpy(row, blob, (size_t)bytes);
        const float *rp = row;
        if (lm__sq_matrix_append(&t, &cid, sqlite3_column_int64(st, 1), &rp, 1) < 0) {
            rc = lm_error_set(err, LM_ENOMEM, "sqlite: out of memory loading vectors");
            break;
        }
    }
    sqlite3_finalize(st);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    free(row);
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

/* Dot product of a float query with a half row, portable build. */
static float dot_f16_generic(const float *q, const uint16_t *v, int n)
{
    float acc[8] = {0};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) acc[j] += q[i + j] * lm__sq_f16_to_f32(v[i + j]);
    float s = 0;
    for (int j = 0; j < 8; j++) s += acc[j];
    for (; i < n; i++) s += q[i] * lm__sq_f16_to_f32(v[i]);
    return s;
}

#if defined(__x86_64__)
/* AVX2+FMA+F16C: 4 independent 8-wide accumulators hide the FMA latency. */
__attribute__((target("avx2,fma,f16c"))) static float dot_f16_avx2(const float *q, const uint16_t *v, int n)
{
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    int i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(v + i))), a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 8),
                             _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(v + i + 8))), a1);
        a2 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 16),
                             _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(v + i + 16))), a2);
        a3 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 24),
                             _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(v + i + 24))), a3);
    }
    for (; i + 8 <= n; i += 8)
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(v + i))), a0);
    __m256 a = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_shuffle_ps(h, h, 1));
    float s = _mm_cvtss_f32(h);
    for (; i < n; i++) s += q[i] * lm__sq_f16_to_f32(v[i]);
    return s;
}

/* AVX2 and FMA with OS support (the builtins check XSAVE), plus the F16C cpuid bit. */
static bool has_avx2_f16c(void)
{
    unsigned a, b, c, d;
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return false;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
    return (c >> 29) & 1;
}

__attribute__((target("avx2,fma,f16c"))) static void scores_avx2(const struct lm__sq_matrix *m, const float *q,
                                                                  float *out, size_t r0, size_t r1)
{
    size_t d = (size_t)m->dim;
    for (size_t r = r0; r < r1; r++) out[r] = dot_f16_avx2(q, m->vec + r * d, m->dim);
}
#endif

static void scores_generic(const struct lm__sq_matrix *m, const float *q, float *out, size_t r0, size_t r1)
{
    size_t d = (size_t)m->dim;
    for (size_t r = r0; r < r1; r++) out[r] = dot_f16_generic(q, m->vec + r * d, m->dim);
}

/* Scores of rows [r0, r1) with the best build for this CPU. */
static void scores_range(const struct lm__sq_matrix *m, const float *q, float *out, size_t r0, size_t r1)
{
#if defined(__x86_64__)
    if (has_avx2_f16c()) {
        scores_avx2(m, q, out, r0, r1);
        return;
    }
#endif
    scores_generic(m, q, out, r0, r1);
}

struct scan_part {
    const struct lm__sq_matrix *m;
    const float *q;
    float *out;
    size_t r0, r1;
};

static void *scan_part_main(void *arg)
{
    struct scan_part *p = arg;
    scores_range(p->m, p->q, p->out, p->r0, p->r1);
    return NULL;
}

/* All scores. Large matrices are split with one helper thread: a scan is bound by memory
 * bandwidth, which one core does not saturate, and a thread costs tens of microseconds next to
 * milliseconds of scanning. */
static void scores_all(const struct lm__sq_matrix *m, const float *q, float *out)
{
    static const size_t SPLIT_ROWS = 32768;
    if (m->n >= SPLIT_ROWS && sysconf(_SC_NPROCESSORS_ONLN) > 1) {
        struct scan_part half = {m, q, out, m->n / 2, m->n};
        pthread_t th;
        if (pthread_create(&th, NULL, scan_part_main, &half) == 0) {
            scores_range(m, q, out, 0, m->n / 2);
            pthread_join(th, NULL);
            return;
        }
    }
    scores_range(m, q, out, 0, m->n);
}

struct cand {
    float score;
    size_t row;
};

static int cand_cmp(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return x->row < y->row ? -1 : x->row > y->row;
}

/* Candidates for the exact top-k (see sqlite.h). */
int lm__sq_matrix_candidates(const struct lm__sq_matrix *m, const float *q, int k, int64_t **ids, size_t *n)
{
    *ids = NULL;
    *n = 0;
    if (k <= 0 || m->n == 0) return 0;
    int dim = m->dim;
    float *qn = malloc((size_t)dim * sizeof(float));
    float *sc = malloc(m->n * sizeof(float));
    float *best = malloc((size_t)k * sizeof(float));
    if (!qn || !sc || !best) {
        free(qn), free(sc), free(best);
        return LM_ENOMEM;
    }
    double inv = inv_norm_of(q, dim);
    if (inv == 0) { /* zero or non-finite query: every cosine is 0, any k rows will do */
        size_t kk = (size_t)k < m->n ? (size_t)k : m->n;
        int64_t *out = malloc(kk * sizeof *out);
        free(qn), free(sc), free(best);
        if (!out) return LM_ENOMEM;
        for (size_t i = 0; i < kk; i++) out[i] = m->chunk_id[i];
        *ids = out;
        *n = kk;
        return 0;
    }
    for (int j = 0; j < dim; j++) qn[j] = (float)(q[j] * inv);
    scores_all(m, qn, sc);
    /* the k-th best half-precision score */
    size_t nb = 0, kk = (size_t)k < m->n ? (size_t)k : m->n;
    for (size_t r = 0; r < m->n; r++) {
        float v = sc[r];
        if (nb == kk && !(v > best[nb - 1])) continue;
        size_t pos = nb < kk ? nb++ : kk - 1;
        while (pos > 0 && best[pos - 1] < v) {
            best[pos] = best[pos - 1];
            pos--;
        }
        best[pos] = v;
    }
    /* per-score error bound with unit vectors: half rounding (2^-11 relative, 2^-25 absolute
     * for subnormals) plus f32 accumulation; two scores can each be off by it */
    double e = ldexp(1, -11) + ldexp(1, -25) * sqrt(dim) + dim * ldexp(1, -23);
    float thr = best[kk - 1] - (float)(2 * e) - 1e-6f;
    if (!(thr == thr)) thr = -INFINITY; /* NaN query: everything is a candidate */
    size_t nc = 0;
    for (size_t r = 0; r < m->n; r++)
        if (!(sc[r] < thr)) nc++;
    struct cand *c = malloc((nc ? nc : 1) * sizeof *c);
    int64_t *out = malloc((nc ? nc : 1) * sizeof *out);
    if (!c || !out) {
        free(qn), free(sc), free(best), free(c), free(out);
        return LM_ENOMEM;
    }
    nc = 0;
    for (size_t r = 0; r < m->n; r++)
        if (!(sc[r] < thr)) c[nc++] = (struct cand){sc[r] == sc[r] ? sc[r] : -INFINITY, r};
    qsort(c, nc, sizeof *c, cand_cmp);
    for (size_t i = 0; i < nc; i++) out[i] = m->chunk_id[c[i].row];
    free(qn), free(sc), free(best), free(c);
    *ids = out;
    *n = nc;
    return 0;
}
