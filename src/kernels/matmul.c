/* matmul.c — kernel selection and the matrix products the models call.
 *
 * lm_matmul converts the activations once per call to the weight type's vec_dot_type, then
 * splits the output into (row block x token block) tiles that the pool's threads take from an
 * atomic counter, so a thread that got descheduled does not hold the others back. */
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

struct mm_job {
    lm__gemm_fn gemm;
    lm__from_float_fn from_float;
    const char *w;
    size_t wstride;
    int64_t nrows, ncols;
    const float *xf;            /* f32 activations */
    char *x;                    /* converted activations */
    size_t xstride;
    int64_t n_tok;
    float *y;
    int64_t rb, tb, n_rb, n_tb; /* tile sizes and counts */
    atomic_llong next;
};

static void convert_worker(void *a, int ith, int nth)
{
    struct mm_job *j = a;
    for (int64_t t = ith; t < j->n_tok; t += nth)
        j->from_float(j->xf + t * j->ncols, j->x + (size_t)t * j->xstride, j->ncols);
}

static void mm_worker(void *a, int ith, int nth)
{
    struct mm_job *j = a;
    const int64_t total = j->n_rb * j->n_tb;
    (void)ith; (void)nth;
    for (;;) {
        int64_t c = atomic_fetch_add_explicit(&j->next, 1, memory_order_relaxed);
        if (c >= total) break;
        int64_t tbi = c / j->n_rb, rbi = c % j->n_rb;
        int64_t r0 = rbi * j->rb, t0 = tbi * j->tb;
        int64_t nr = j->nrows - r0 < j->rb ? j->nrows - r0 : j->rb;
        int64_t nt = j->n_tok - t0 < j->tb ? j->n_tok - t0 : j->tb;
        j->gemm(j->ncols, j->w + (size_t)r0 * j->wstride, j->wstride, nr, j->x + (size_t)t0 * j->xstride,
                j->xstride, nt, j->y + t0 * j->nrows + r0, j->nrows);
    }
}

/* Y = X * W^T over the pool (see lm/kernels.h). */
void lm_matmul(struct lm_pool *pool, enum lm_type wtype, const void *w, int64_t nrows, int64_t ncols,
               const float *x, int64_t n_tok, float *y)
{
    const struct lm__kern *k = lm__kern_active();
    const struct lm_type_traits *tr = lm__type_traits((int)wtype);
    if (!tr || !k->gemm[wtype] || nrows <= 0 || n_tok <= 0) return;
    if (wtype == LM_TYPE_Q4_0_R8 && nrows % 8) return;      /* lm_weights_prepare never makes it */
    enum lm_type vt = tr->vec_dot_type;
    struct mm_job j = {
        .gemm = k->gemm[wtype], .from_float = k->from_float[vt], .w = w,
        .wstride = lm_row_size(wtype == LM_TYPE_Q4_0_R8 ? LM_TYPE_Q4_0 : wtype, ncols), .nrows = nrows, .ncols = ncols, .xf = x,
        .xstride = lm_row_size(vt, ncols), .n_tok = n_tok, .y = y,
    };
    int nth = lm_pool_size(pool);
    if (vt == LM_TYPE_F32) {
        j.x = (char *)x;
    } else {
        size_t need = j.xstride * (size_t)n_tok;
        j.x = pool ? lm_pool_scratch(pool, need) : thread_scratch(need);
        if (!j.x) return;
        if (n_tok >= 2 * nth && nth > 1) lm_pool_run(pool, convert_worker, &j);
        else convert_worker(&j, 0, 1);
    }
    /* Generation: many row blocks per thread so early finishers can steal. Prefill: tiles of
     * 64 rows x 64 tokens keep both operands in L2. */
    if (n_tok == 1) {
        int64_t rb = nrows / (nth * 8);
        j.rb = rb < 16 ? 16 : (rb + 15) / 16 * 16;
        j.tb = 1;
    } else {
        j.rb = 64;
        j.tb = 64;
    }
    j.n_rb = (nrows + j.rb - 1) / j.rb;
    j.n_tb = (n_tok + j.tb - 1) / j.tb;
    atomic_init(&j.next, 0);
    if (j.n_rb * j.n_tb == 1 || nth == 1) mm_worker(&j, 0, 1);
    else lm_pool_run(pool, mm_worker, &j);
}

/* Whether the active kernels have a faster layout for these weights. */
static bool prefers_r8(enum lm_type t, int64_t nrows)
{
    const char *name = lm__kern_active()->name;
    return t == LM_TYPE_Q4_0 && nrows % 8 == 0 && strncmp(name, "avx", 3) == 0;
}

/* Repacks Q4_0 weights into 8-row interleaved blocks when the kernels in use have them. */
int lm_weights_prepare(enum lm_type type, const void *w, int64_t nrows, int64_t ncols, void **out)
{
    *out = NULL;
    if (!prefers_r8(type, nrows) || ncols % LM_QK4_0 || ncols <= 0) return (int)type;
    void *dst = NULL;
    if (posix_memalign(&dst, 64, lm_row_size(LM_TYPE_Q4_0, ncols) * (size_t)nrows) != 0) return -1;
    lm__q4_0_to_r8(w, nrows, ncols, dst);
    *out = dst;
    return LM_TYPE_Q4_0_R8;
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

/* Dequantises the rows ids[] of W into out. */
void lm_get_rows(enum lm_type wtype, const void *w, int64_t ncols, const int32_t *ids, int64_t n, float *out)
{
    if (wtype == LM_TYPE_Q4_0_R8) {
        for (int64_t i = 0; i < n; i++) get_row_q4_0_r8(w, ncols, ids[i], out + i * ncols);
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
