/* pool.h — the engine's compute thread pool.
 *
 * Persistent workers that run one function over ith = 0..nth-1 (the caller's thread takes
 * part as ith 0) and return when all are done. No allocation or thread creation per call.
 * One caller at a time per pool.
 */
#ifndef LM_POOL_H
#define LM_POOL_H

struct lm_pool;

typedef void (*lm_pool_fn)(void *arg, int ith, int nth);

/* New pool of n_threads (including the caller; 0 = number of cores). NULL on failure.
 * Free with lm_pool_free. */
struct lm_pool *lm_pool_new(int n_threads);
void lm_pool_free(struct lm_pool *p);
int lm_pool_size(const struct lm_pool *p);

/* Runs fn(arg, ith, nth) on every thread and waits for all. p may be NULL (runs on the caller
 * with nth = 1). */
void lm_pool_run(struct lm_pool *p, lm_pool_fn fn, void *arg);

/* Scratch memory of at least n bytes, 64-byte aligned, owned by the pool: valid until the next
 * call with a larger n or lm_pool_free (previous contents are not kept). Caller thread only.
 * NULL when p is NULL or on allocation failure. Used by the kernels for converted activations. */
void *lm_pool_scratch(struct lm_pool *p, size_t n);

#endif
