/* kbench.c — microbenchmark of the matmul kernels on TinyLlama-1.1B-like shapes: generation
 * (one token, weights streamed: GB/s) and prompt processing (many tokens: GOP/s), plus the
 * machine's read bandwidth with the same threads. Built and run by bench/engine/run.sh.
 * Usage: kbench [threads] [type ...]   (types: q4_0 q4_0_r8 q8_0 q8_0_r8 q4_k q6_k f16 f32 ...) */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/kern_internal.h"
#include "lm/cpu.h"
#include "lm/kernels.h"
#include "lm/pool.h"

/* Wall clock, or with LM_KBENCH_CPUTIME=1 and one thread the thread's CPU time (to compare
 * kernels on a busy machine). */
static double now(void)
{
    static int cpu = -1;
    if (cpu < 0) cpu = getenv("LM_KBENCH_CPUTIME") != NULL;
    struct timespec ts;
    clock_gettime(cpu ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

struct rd { const uint64_t *p; size_t n; uint64_t sink[8][8]; };

static void read_fn(void *a, int ith, int nth)
{
    struct rd *r = a;
    size_t lo = r->n * (size_t)ith / (size_t)nth, hi = r->n * (size_t)(ith + 1) / (size_t)nth;
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (size_t i = lo; i + 4 <= hi; i += 4) {
        s0 += r->p[i]; s1 += r->p[i + 1]; s2 += r->p[i + 2]; s3 += r->p[i + 3];
    }
    r->sink[ith & 7][0] = s0 + s1 + s2 + s3;
}

/* Median-free simple timing: best of several repetitions. */
int main(int argc, char **argv)
{
    int nth = argc > 1 ? atoi(argv[1]) : 2;
    struct lm_pool *pool = lm_pool_new(nth);
    printf("kernels: %s, threads: %d\n", lm_cpu_kernel_name(), nth);

    /* read bandwidth over 1 GiB */
    size_t bytes = (size_t)1 << 30;
    uint64_t *buf = malloc(bytes);
    memset(buf, 1, bytes);
    struct rd r = {buf, bytes / 8, {{0}}};
    double best = 1e9;
    for (int i = 0; i < 5; i++) {
        double t0 = now();
        lm_pool_run(pool, read_fn, &r);
        double dt = now() - t0;
        if (dt < best) best = dt;
    }
    printf("read bandwidth: %.1f GB/s\n", bytes / best / 1e9);
    free(buf);

    const char *types[] = {"q4_0", "q8_0", "q4_k", "q6_k", "f16", "f32"};
    int ntypes = 6;
    if (argc > 2) ntypes = 0;
    for (int ti = 0; ti < (argc > 2 ? argc - 2 : ntypes); ti++) {
        const char *tn = argc > 2 ? argv[2 + ti] : types[ti];
        /* "q4_0_r8"/"q8_0_r8": Q4_0/Q8_0 repacked by lm_weights_prepare (what the loader opts into) */
        const bool r8 = strcmp(tn, "q4_0_r8") == 0 || strcmp(tn, "q8_0_r8") == 0;
        int t = r8 ? (strncmp(tn, "q4", 2) == 0 ? LM_TYPE_Q4_0 : LM_TYPE_Q8_0) : lm_type_from_name(tn);
        if (t < 0) continue;
        /* one TinyLlama layer's matrices, repeated to exceed the caches: 22 layers worth */
        const int64_t ne = 2048, nff = 5632;
        const int64_t shapes[4][2] = {{2048, ne}, {256, ne}, {nff, ne}, {ne, nff}};
        const int reps[4] = {2, 2, 2, 1};   /* q+o, k+v, gate+up, down */
        const int nl = 22;
        void *w[4];
        size_t wbytes = 0;
        int pt = t;     /* type passed to lm_matmul */
        for (int s = 0; s < 4; s++) {
            size_t sz = lm_row_size(t, shapes[s][1]) * (size_t)shapes[s][0] * reps[s] * nl;
            w[s] = malloc(sz);
            float *row = malloc(sizeof(float) * shapes[s][1]);
            for (int64_t i = 0; i < shapes[s][1]; i++) row[i] = (float)((i * 7919) % 1000) / 10000.0f - 0.05f;
            size_t rs = lm_row_size(t, shapes[s][1]);
            lm_quantize_row(t, row, w[s], shapes[s][1]);
            for (size_t o = rs; o < sz; o += rs) memcpy((char *)w[s] + o, w[s], rs);
            free(row);
            if (r8) {
                void *p = NULL;
                int nt = lm_weights_prepare((enum lm_type)t, w[s], shapes[s][0] * reps[s] * nl, shapes[s][1], &p);
                if (p) {
                    free(w[s]);
                    w[s] = p;
                    pt = nt;
                }
            }
            wbytes += sz;
        }
        float *x = malloc(sizeof(float) * 512 * nff), *y = malloc(sizeof(float) * 512 * nff);
        for (int64_t i = 0; i < 512 * nff; i++) x[i] = (float)((i * 104729) % 2000) / 1000.0f - 1.0f;
        /* generation: every matrix once per "token" */
        best = 1e9;
        for (int it = 0; it < 5; it++) {
            double t0 = now();
            for (int s = 0; s < 4; s++) {
                size_t rs = lm_row_size(t, shapes[s][1]) * (size_t)shapes[s][0];
                for (int k = 0; k < reps[s] * nl; k++)
                    lm_matmul(pool, (enum lm_type)pt, (char *)w[s] + rs * k, shapes[s][0], shapes[s][1], x, 1, y);
            }
            double dt = now() - t0;
            if (dt < best) best = dt;
        }
        printf("%-5s gemv: %.1f GB/s (%.1f ms per %.0f MB of weights)\n", tn, wbytes / best / 1e9, best * 1e3, wbytes / 1e6);
        /* prompt: 512 tokens through one layer's matrices */
        double ops = 0;
        best = 1e9;
        for (int it = 0; it < 2; it++) {
            double t0 = now();
            ops = 0;
            for (int s = 0; s < 4; s++) {
                lm_matmul(pool, (enum lm_type)pt, w[s], shapes[s][0], shapes[s][1], x, 512, y);
                ops += 2.0 * shapes[s][0] * shapes[s][1] * 512;
            }
            double dt = now() - t0;
            if (dt < best) best = dt;
        }
        printf("%-5s gemm 512 tokens: %.1f GOP/s\n", tn, ops / best / 1e9);
        for (int s = 0; s < 4; s++) free(w[s]);
        free(x);
        free(y);
    }
    lm_pool_free(pool);
    return 0;
}
