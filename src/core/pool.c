/* pool.c — persistent compute workers woken per run by a generation counter.
 *
 * Each run bumps `gen`; workers spin on it for a short while (a run usually follows the previous
 * one within microseconds during a forward pass) and then sleep on it with a futex. The caller
 * takes part as thread 0, then waits for `pending` to reach 0 the same way. Nothing is allocated
 * per run. */
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lm/cpu.h"
#include "lm/pool.h"

#define SPIN_ITERS (1 << 15)

struct worker {
    struct lm_pool *pool;
    int ith;
    pthread_t tid;
};

struct lm_pool {
    int n;
    int spin;                       /* spin iterations before sleeping (0 when oversubscribed) */
    struct worker *workers;         /* n-1 helper threads */
    _Alignas(64) atomic_uint gen;   /* futex word: bumped per run */
    atomic_int sleepers;            /* workers inside futex_wait on gen */
    _Alignas(64) atomic_uint pending; /* futex word: workers still running this run */
    atomic_int caller_sleeping;
    atomic_int stop;
    lm_pool_fn fn;                  /* written by the caller before the gen bump */
    void *arg;
    void *scratch;                  /* lm_pool_scratch */
    size_t scratch_cap;
};

static void futex_wait(atomic_uint *addr, unsigned val)
{
    syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake(atomic_uint *addr, int n)
{
    syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

/* Worker loop: wait for a new generation, run the function, count down. */
static void *worker_main(void *a)
{
    struct worker *w = a;
    struct lm_pool *p = w->pool;
    unsigned seen = 0;
    for (;;) {
        unsigned g;
        int spins = 0;
        while ((g = atomic_load_explicit(&p->gen, memory_order_acquire)) == seen) {
            if (spins++ < p->spin) {
                cpu_relax();
                continue;
            }
            atomic_fetch_add(&p->sleepers, 1);
            futex_wait(&p->gen, seen);
            atomic_fetch_sub(&p->sleepers, 1);
        }
        seen = g;
        if (atomic_load(&p->stop)) break;
        p->fn(p->arg, w->ith, p->n);
        if (atomic_fetch_sub(&p->pending, 1) == 1 &&
            atomic_load(&p->caller_sleeping))
            futex_wake(&p->pending, 1);
    }
    return NULL;
}

/* New pool of n_threads (0 = cores); NULL on failure. */
struct lm_pool *lm_pool_new(int n_threads)
{
    if (n_threads <= 0) n_threads = lm_cpu_count();
    if (n_threads < 1) n_threads = 1;
    if (n_threads > 512) n_threads = 512;
    struct lm_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->n = n_threads;
    /* With more threads than cores a spinning thread steals the core of the one it waits for. */
    p->spin = n_threads <= lm_cpu_count() ? SPIN_ITERS : 0;
    if (n_threads > 1) {
        p->workers = calloc((size_t)n_threads - 1, sizeof *p->workers);
        if (!p->workers) {
            free(p);
            return NULL;
        }
    }
    for (int i = 1; i < n_threads; i++) {
        struct worker *w = &p->workers[i - 1];
        w->pool = p;
        w->ith = i;
        if (pthread_create(&w->tid, NULL, worker_main, w) != 0) {
            p->n = i;       /* stop the ones already started */
            lm_pool_free(p);
            return NULL;
        }
    }
    return p;
}

/* Stops and joins the workers, frees the pool. */
void lm_pool_free(struct lm_pool *p)
{
    if (!p) return;
    atomic_store(&p->stop, 1);
    atomic_fetch_add(&p->gen, 1);
    futex_wake(&p->gen, INT_MAX);
    for (int i = 1; i < p->n; i++) pthread_join(p->workers[i - 1].tid, NULL);
    free(p->workers);
    free(p->scratch);
    free(p);
}

/* Threads in the pool, the caller included. */
int lm_pool_size(const struct lm_pool *p)
{
    return p ? p->n : 1;
}

/* Runs fn on all threads (caller is ith 0) and waits for every one to finish. */
void lm_pool_run(struct lm_pool *p, lm_pool_fn fn, void *arg)
{
    if (!p || p->n == 1) {
        fn(arg, 0, 1);
        return;
    }
    p->fn = fn;
    p->arg = arg;
    atomic_store_explicit(&p->pending, (unsigned)(p->n - 1), memory_order_relaxed);
    atomic_fetch_add(&p->gen, 1);                     /* seq_cst: pairs with sleepers++ */
    if (atomic_load(&p->sleepers) > 0) futex_wake(&p->gen, INT_MAX);
    fn(arg, 0, p->n);
    int spins = 0;
    unsigned left;
    while ((left = atomic_load_explicit(&p->pending, memory_order_acquire)) != 0) {
        if (spins++ < p->spin) {
            cpu_relax();
            continue;
        }
        atomic_store(&p->caller_sleeping, 1);
        left = atomic_load(&p->pending);
        if (left) futex_wait(&p->pending, left);
        atomic_store(&p->caller_sleeping, 0);
    }
}

/* Scratch memory owned by the pool (grown, never shrunk; caller thread only). */
void *lm_pool_scratch(struct lm_pool *p, size_t n)
{
    if (!p) return NULL;
    if (n > p->scratch_cap) {
        void *s = NULL;
        size_t cap = n + (n >> 2) + 4096;
        if (posix_memalign(&s, 64, cap) != 0) return NULL;
        free(p->scratch);
        p->scratch = s;
        p->scratch_cap = cap;
    }
    return p->scratch;
}
