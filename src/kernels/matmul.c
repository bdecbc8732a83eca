/* matmul.c — kernel selection and the matrix products the models call.
 *
 * lm_matmul(_multi) converts the activations once per call to the weight type's vec_dot_type,
 * then the pool's threads take the work from an atomic counter, so a thread that got
 * descheduled does not hold the others back: for one token, chunks of rows that shrink towards
 * the end; for several, tiles of (row block x token block). Several matrices that read the same
 * activations (Q/K/V, gate/up) share one conversion and one pass of the pool. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kern_internal.h"
#include "lm/cpu.h"
#include "lm/kernels.h"
#include "lm/pool.h"

static struct lm__kern active;
static pthread_once_t active_once = PTHREAD_ONCE_INIT;

/* Fills k with the kernel set of level, starting from the reference. */
int lm__kern_build(struct lm__kern *k, int level)
{
    const struct lm_cpu_features *f = lm_cpu_features();
    *k = lm__kern_ref;
#if defined(__x86_64__)
    bool avx2 = f->avx2 && f->fma && f->f16c && f->bmi2;
    bool avx512 = avx2 && f->avx512f && f->avx512bw && f->avx512vl && f->avx512dq;
#endif
    (void)f;
    switch (level) {
    case LM__KERN_REF:
        return 0;
#if defined(__x86_64__)
    case LM__KERN_AVX2:
        if (!avx2) return -1;
        lm__kern_fill_avx2(k);
        return 0;
    case LM__KERN_AVX512:
    case LM__KERN_AVX512VNNI:
        if (!avx512 || (level == LM__KERN_AVX512VNNI && !f->avx512vnni)) return -1;
        lm__kern_fill_avx2(k);
        lm__kern_fill_avx512(k, level == LM__KERN_AVX512VNNI);
        return 0;
#elif defined(__aarch64__)
    case LM__KERN_NEON:
    case LM__KERN_NEON_DOTPROD:
        if (!f->neon || (level == LM__KERN_NEON_DOTPROD && !f->dotprod)) return -1;
        lm__kern_fill_neon(k, level == LM__KERN_NEON_DOTPROD);
        return 0;
#endif
    default:
        return -1;
    }
}

static void pick_active(void)
{
    for (int level = LM__KERN_LEVELS - 1; level >= 0; level--)
        if (lm__kern_build(&active, level) == 0) return;
}

/* The kernel set in use, chosen once from the CPU's features. */
const struct lm__kern *lm__kern_active(void)
{
    pthread_once(&active_once, pick_active);
    return &active;
}

/* Scratch for converted activations when no pool is given: per calling thread, freed at exit. */
struct tls_buf {
    void *p;
    size_t cap;
};
static pthread_key_t tls_key;
static pthread_once_t tls_once = PTHREAD_ONCE_INIT;

static void tls_free(void *v)
{
    struct tls_buf *b = v;
    free(b->p);
    free(b);
}

static void tls_init(void)
{
    pthread_key_create(&tls_key, tls_free);
}

static void *thread_scratch(size_t n)
{
    pthread_once(&tls_once, tls_init);
    struct tls_buf *b = pthread_getspecific(tls_key);
    if (!b) {
        b = calloc(1, sizeof *b);
        if (!b) return NULL;
        pthread_setspecific(tls_key, b);
    }
    if (n > b->cap) {
        void *p = NULL;
        if (posix_memalign(&p, 64, n + 4096) != 0) return NULL;
        free(b->p);
        b->p = p;
        b->cap = n + 4096;
    }
    return b->p;
}

/* One matrix of a job: weights, rows, output and its tile counts. */
struct mm_part {
    lm__gemm_fn gemm;
    const char *w;
    size_t wstride;
    int64_t nrows;
    float *y;
    int64_t row0;               /* first row in the job's row space (gemv) or first row block (gemm) */
    int64_t align;              /* gemv row chunks are multiples of this but at a part's end */
};

#define MM_MAX_PARTS 4

struct mm_job {
    struct mm_part part[MM_MAX_PARTS];
    int n_part;
    lm__from_float_fn from_float;
    int64_t ncols;
    const float *xf;            /* f32 activations */
    char *x;                    /* converted activations */
    size_t xstride;
    int64_t n_tok;
    int64_t rows;               /* gemv: rows of all parts */
    int64_t rb, tb, n_rb, n_tb; /* gemm: tile sizes; row blocks of all parts, token blocks */
    int64_t min_chunk;          /* gemv: fewest rows per chunk */
    int nth;
    _Alignas(64) atomic_llong next;
};

static void convert_worker(void *a, int ith, int nth)
{
    struct mm_job *j = a;
    for (int64_t t = ith; t < j->n_tok; t += nth)
        j->from_float(j->xf + t * j->ncols, j->x + (size_t)t * j->xstride, j->ncols);
}

/* Part holding row (gemv) or row block (gemm) i of the job. */
static const struct mm_part *part_of(const struct mm_job *j, int64_t i)
{
    int p = 0;
    while (p + 1 < j->n_part && i >= j->part[p + 1].row0) p++;
    return &j->part[p];
}

/* One token: threads take chunks of rows of the concatenated matrices, large first and
 * smaller towards the end (a quarter of what is left per thread, at least min_chunk rows),
 * so they finish together without taking a shared counter for every few rows. */
static void gemv_worker(void *a, int ith, int nth)
{
    struct mm_job *j = a;
    (void)ith;
    long long r = atomic_load_explicit(&j->next, memory_order_relaxed);
    for (;;) {
        if (r >= j->rows) break;
        const struct mm_part *p = part_of(j, r);
        const int64_t end = p->row0 + p->nrows;
        int64_t c = (j->rows - r) / (4 * (int64_t)nth);
        if (c < j->min_chunk) c = j->min_chunk;
        c = (c + p->align - 1) / p->align * p->align;
        if (c > end - r) c = end - r;
        if (!atomic_compare_exchange_weak_explicit(&j->next, &r, r + c, memory_order_relaxed, memory_order_relaxed))
            continue;   /* r now holds the current value */
        const int64_t r0 = r - p->row0;
        p->gemm(j->ncols, p->w + (size_t)r0 * p->wstride, p->wstride, c, j->x, j->xstride, 1, p->y + r0, p->nrows);
        r = atomic_load_explicit(&j->next, memory_order_relaxed);
    }
}

/* Several tokens: tiles of rb rows x tb tokens from a shared counter, row blocks of all parts
 * for the first token block, then the next. */
static void gemm_worker(void *a, int ith, int nth)
{
    struct mm_job *j = a;
    const int64_t total = j->n_rb * j->n_tb;
    (void)ith; (void)nth;
    for (;;) {
        int64_t c = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed);
        if (c >= total) break;
        const int64_t tbi = c / j->n_rb, rbi = c % j->n_rb;
        const struct mm_part *p = part_of(j, rbi);
        const int64_t r0 = (rbi - p->row0) * j->rb, t0 = tbi * j->tb;
        const int64_t nr = p->nrows - r0 < j->rb ? p->nrows - r0 : j->rb;
        const int64_t nt = j->n_tok - t0 < j->tb ? j->n_tok - t0 : j->tb;
        p->gemm(j->ncols, p->w + (size_t)r0 * p->wstride, p->wstride, nr, j->x + (size_t)t0 * j->xstride, j->xstride,
                nt, p->y + t0 * p->nrows + r0, p->nrows);
    }
}

/* The file type whose row size an interleaved type keeps. */
static enum lm_type r8_base(enum lm_type t)
{
    return t == LM_TYPE_Q4_0_R8 ? LM_TYPE_Q4_0 : t == LM_TYPE_Q8_0_R8 ? LM_TYPE_Q8_0 : t;
}

/* Y_i = X * W_i^T for every part over the pool (see lm/kernels.h). */
void lm_matmul_multi(struct lm_pool *pool, const struct lm_matmul_out *outs, int n_out, int64_t ncols,
                     const float *x, int64_t n_tok)
{
    const struct lm__kern *k = lm__kern_active();
    if (n_tok <= 0 || n_out <= 0) return;
    enum lm_type vt = LM_TYPE_COUNT;
    bool same = n_out <= MM_MAX_PARTS;
    for (int i = 0; i < n_out && same; i++) {
        const struct lm_type_traits *tr = lm__type_traits((int)outs[i].wtype);
        if (!tr) same = false;
        else if (i == 0) vt = tr->vec_dot_type;
        else same = tr->vec_dot_type == vt;
    }
    if (!same) {        /* different activation types (or an unknown type): one product at a time */
        if (n_out > 1)
            for (int i = 0; i < n_out; i++) lm_matmul_multi(pool, &outs[i], 1, ncols, x, n_tok);
        return;
    }
    struct mm_job j = {.from_float = k->from_float[vt], .ncols = ncols, .xf = x, .xstride = lm_row_size(vt, ncols),
                       .n_tok = n_tok, .nth = lm_pool_size(pool)};
    /* Generation: chunks of at least 32 rows (64 for short rows). Prefill: tiles of 64 rows x
     * 64 tokens keep both operands in L2. */
    j.min_chunk = ncols >= 4096 ? 32 : 64;
    j.rb = 64;
    j.tb = n_tok == 1 ? 1 : 64;
    for (int i = 0; i < n_out; i++) {
        const struct lm_matmul_out *o = &outs[i];
        if (!k->gemm[o->wtype] || o->nrows <= 0) continue;
        const bool r8 = o->wtype == LM_TYPE_Q4_0_R8 || o->wtype == LM_TYPE_Q8_0_R8;
        if (r8 && o->nrows % 8) continue;      /* lm_weights_prepare never makes it */
        struct mm_part *p = &j.part[j.n_part++];
        *p = (struct mm_part){
            .gemm = k->gemm[o->wtype], .w = o->w, .nrows = o->nrows, .y = o->y,
            .wstride = lm_row_size(r8_base(o->wtype), ncols),
            .row0 = n_tok == 1 ? j.rows : j.n_rb, .align = r8 ? 32 : 1,
        };
        j.rows += o->nrows;
        j.n_rb += (o->nrows + j.rb - 1) / j.rb;
    }
    if (j.n_part == 0) return;
    if (vt == LM_TYPE_F32) {
        j.x = (char *)x;
    } else {
        size_t need = j.xstride * (size_t)n_tok;
        j.x = pool ? lm_pool_scratch(pool, need) : thread_scratch(need);
        if (!j.x) return;
        if (n_tok >= 2 * j.nth && j.nth > 1) lm_pool_run(pool, convert_worker, &j);
        else convert_worker(&j, 0, 1);
    }
    j.n_tb = (n_tok + j.tb - 1) / j.tb;
    atomic_init(&j.next, 0);
    lm_pool_fn fn = n_tok == 1 ? gemv_worker : gemm_worker;
    if (j.nth == 1 || (n_tok == 1 ? j.rows <= j.min_chunk : j.n_rb * j.n_tb == 1)) fn(&j, 0, 1);
    else lm_pool_run(pool, fn, &j);
}

/* Y = X * W^T over the pool (see lm/kernels.h). */
void lm_matmul(struct lm_pool *pool, enum lm_type wtype, const void *w, int64_t nrows, int64_t ncols,
               const float *x, int64_t n_tok, float *y)
{
    const struct lm_matmul_out o = {wtype, w, nrows, y};
    lm_matmul_multi(pool, &o, 1, ncols, x, n_tok);
}

/* Whether the active kernels have a faster layout for these weights. */
static bool prefers_r8(enum lm_type t, int64_t nrows)
{
    const char *name = lm__kern_active()->name;
    return (t == LM_TYPE_Q4_0 || t == LM_TYPE_Q8_0) && nrows % 8 == 0 && strncmp(name, "avx", 3) == 0;
}

/* Repacks Q4_0/Q8_0 weights into 8-row interleaved blocks when the kernels in use have them. */
int lm_weights_prepare(enum lm_type type, const void *w, int64_t nrows, int64_t ncols, void **out)
{
    *out = NULL;
    if (!prefers_r8(type, nrows) || ncols % 32 || ncols <= 0) return (int)type;
    void *dst = NULL;
    if (posix_memalign(&dst, 64, lm_row_size(type, ncols) * (size_t)nrows) != 0) return -1;
    if (type == LM_TYPE_Q4_0) {
        lm__q4_0_to_r8(w, nrows, ncols, dst);
        *out = dst;
        return LM_TYPE_Q4_0_R8;
    }
    if (!lm__q8_0_to_r8(w, nrows, ncols, dst)) {
        free(dst);
        return (int)type;
    }
    *out = dst;
    return LM_TYPE_Q8_0_R8;
}

/* Interleaves groups of 8 Q8_0 rows (nrows a multiple of 8); false at a -128 weight byte. */
bool lm__q8_0_to_r8(const void *w, int64_t nrows, int64_t ncols, void *vdst)
{
    const int64_t nb = ncols / LM_QK8_0;
    const size_t rs = lm_row_size(LM_TYPE_Q8_0, ncols);
    struct lm__block_q8_0x8 *dst = vdst;
    for (int64_t g = 0; g < nrows / 8; g++) {
        const struct lm__block_q8_0 *src[8];
        for (int r = 0; r < 8; r++) src[r] = (const void *)((const char *)w + (size_t)(g * 8 + r) * rs);
        for (int64_t b = 0; b < nb; b++) {
            struct lm__block_q8_0x8 *o = &dst[g * nb + b];
            for (int r = 0; r < 8; r++) {
                o->d[r] = src[r][b].d;
                for (int i = 0; i < LM_QK8_0; i++)
                    if (src[r][b].qs[i] == -128) return false;
                for (int k = 0; k < 8; k++) memcpy(o->qs + 32 * k + 4 * r, src[r][b].qs + 4 * k, 4);
            }
        }
    }
    return true;
}

/* Interleaves groups of 8 Q4_0 rows (nrows a multiple of 8). */
void lm__q4_0_to_r8(const void *w, int64_t nrows, int64_t ncols, void *vdst)
{
    const int64_t nb = ncols / LM_QK4_0;
    const size_t rs = lm_row_size(LM_TYPE_Q4_0, ncols);
    struct lm__block_q4_0x8 *dst = vdst;
    for (int64_t g = 0; g < nrows / 8; g++) {
        const struct lm__block_q4_0 *src[8];
        for (int r = 0; r < 8; r++) src[r] = (const void *)((const char *)w + (size_t)(g * 8 + r) * rs);
        for (int64_t b = 0; b < nb; b++) {
            struct lm__block_q4_0x8 *o = &dst[g * nb + b];
            for (int r = 0; r < 8; r++) {
                o->d[r] = src[r][b].d;
                for (int k = 0; k < 4; k++) memcpy(o->qs + 32 * k + 4 * r, src[r][b].qs + 4 * k, 4);
            }
        }
    }
}

/* Frees a buffer from lm_weights_prepare. */
void lm_weights_free(void *p)
{
    free(p);
}

/* Row r of interleaved Q4_0 weights as f32. */
static void get_row_q4_0_r8(const void *w, int64_t ncols, int64_t r, float *out)
{
    const int64_t nb = ncols / LM_QK4_0;
    const struct lm__block_q4_0x8 *g = (const struct lm__block_q4_0x8 *)w + (r / 8) * nb;
    const int ri = (int)(r % 8);
    for (int64_t b = 0; b < nb; b++, out += 32) {
        const float d = lm_f16_to_f32(g[b].d[ri]);
        for (int k = 0; k < 4; k++)
            for (int j = 0; j < 4; j++) {
                const uint8_t q = g[b].qs[32 * k + 4 * ri + j];
                out[4 * k + j] = (float)((q & 0xF) - 8) * d;
                out[16 + 4 * k + j] = (float)((q >> 4) - 8) * d;
            }
    }
}

/* Row r of interleaved Q8_0 weights as f32. */
static void get_row_q8_0_r8(const void *w, int64_t ncols, int64_t r, float *out)
{
    const int64_t nb = ncols / LM_QK8_0;
    const struct lm__block_q8_0x8 *g = (const struct lm__block_q8_0x8 *)w + (r / 8) * nb;
    const int ri = (int)(r % 8);
    for (int64_t b = 0; b < nb; b++, out += 32) {
        const float d = lm_f16_to_f32(g[b].d[ri]);
        for (int k = 0; k < 8; k++)
            for (int j = 0; j < 4; j++) out[4 * k + j] = (float)g[b].qs[32 * k + 4 * ri + j] * d;
    }
}

/* Dequantises the rows ids[] of W into out. */
void lm_get_rows(enum lm_type wtype, const void *w, int64_t ncols, const int32_t *ids, int64_t n, float *out)
{
    if (wtype == LM_TYPE_Q4_0_R8) {
        for (int64_t i = 0; i < n; i++) get_row_q4_0_r8(w, ncols, ids[i], out + i * ncols);
        return;
    }
    if (wtype == LM_TYPE_Q8_0_R8) {
        for (int64_t i = 0; i < n; i++) get_row_q8_0_r8(w, ncols, ids[i], out + i * ncols);
        return;
    }
    size_t rs = lm_row_size(wtype, ncols);
    if (!rs) return;
    for (int64_t i = 0; i < n; i++)
        lm_dequantize_row(wtype, (const char *)w + (size_t)ids[i] * rs, out + i * ncols, ncols);
}

/* Dot product of two f32 vectors. */
float lm_dot_f32(const float *a, const float *b, int64_t n)
{
    return lm__kern_active()->dot_f32(a, b, n);
}

/* y += a*x. */
void lm_axpy_f32(float *y, float a, const float *x, int64_t n)
{
    lm__kern_active()->axpy_f32(y, a, x, n);
}
