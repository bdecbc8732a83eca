/* kquant-vs-ggml.c — our K-quant products against llama.cpp's own, bit for bit.
 *
 * Linked against the ggml CPU library that node-llama-cpp ships (see kquant-vs-ggml.sh), it
 * compares, on random model-like rows of 1..8 blocks and 1 or 4 tokens:
 *   the active SIMD kernels' Q5_K and Q6_K with ggml_vec_dot_q5_K/q6_K_q8_K (the code llama.cpp
 *   runs for them on that CPU; Q4_K is repacked there, so its plain vec_dot is only reported),
 *   the scalar kernels' Q4_K, Q5_K and Q6_K with ggml's *_generic versions,
 *   the Q8_K activation conversion (scalar and active kernels) with ggml's quantize_row_q8_K and
 *   with the values and scales of ggml_quantize_mat_q8_K_4x8 (the 4-row conversion llama.cpp's
 *   repacked Q4_K prompt path uses).
 * Exit status 1 when any required comparison differs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kern_internal.h"

typedef void (*ggml_vec_dot_fn)(int n, float *s, size_t bs, const void *vx, size_t bx, const void *vy, size_t by,
                                int nrc);
void ggml_cpu_init(void);
void ggml_vec_dot_q4_K_q8_K(int, float *, size_t, const void *, size_t, const void *, size_t, int);
void ggml_vec_dot_q5_K_q8_K(int, float *, size_t, const void *, size_t, const void *, size_t, int);
void ggml_vec_dot_q6_K_q8_K(int, float *, size_t, const void *, size_t, const void *, size_t, int);
void ggml_vec_dot_q4_K_q8_K_generic(int, float *, size_t, const void *, size_t, const void *, size_t, int);
void ggml_vec_dot_q5_K_q8_K_generic(int, float *, size_t, const void *, size_t, const void *, size_t, int);
void ggml_vec_dot_q6_K_q8_K_generic(int, float *, size_t, const void *, size_t, const void *, size_t, int);
void quantize_row_q8_K(const float *x, void *y, int64_t k);
void ggml_quantize_mat_q8_K_4x8(const float *x, void *y, int64_t k);

static uint64_t rng = 88172645463325252ull;
static float frand(void)
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (float)((rng >> 40) * (1.0 / 8388608.0)) - 1.0f;
}
static float grand(void) { return (frand() + frand() + frand() + frand()) * 0.866f; }

/* Number of differing products of kernel set k against the ggml functions f (by type). */
static int compare(const struct lm__kern *k, const ggml_vec_dot_fn f[3], const char *what, int required)
{
    const enum lm_type types[3] = {LM_TYPE_Q4_K, LM_TYPE_Q5_K, LM_TYPE_Q6_K};
    int bad[3] = {0}, total[3] = {0}, fail = 0;
    for (int it = 0; it < 2000; it++) {
        const int n = 256 * (1 + it % 8);
        float *w = malloc(sizeof(float) * n), *x = malloc(sizeof(float) * 4 * n);
        const size_t xs = lm_row_size(LM_TYPE_Q8_K, n);
        char *xq = malloc(4 * xs);
        if (!w || !x || !xq) return 1;
        for (int i = 0; i < n; i++) w[i] = grand() * 0.08f;
        for (int i = 0; i < 4 * n; i++) x[i] = grand() * (it % 3 ? 1.0f : 3.0f);
        for (int t = 0; t < 4; t++) k->from_float[LM_TYPE_Q8_K](x + t * n, xq + t * xs, n);
        for (int ti = 0; ti < 3; ti++) {
            const size_t ws = lm_row_size(types[ti], n);
            char *wq = malloc(ws);
            if (!wq) return 1;
            lm_quantize_row(types[ti], w, wq, n);
            for (int T = 1; T <= 4; T += 3) {
                float y[4];
                k->gemm[types[ti]](n, wq, ws, 1, xq, xs, T, y, 1);
                for (int t = 0; t < T; t++) {
                    float r;
                    f[ti](n, &r, 0, wq, 0, xq + t * xs, 0, 1);
                    total[ti]++;
                    if (memcmp(&r, &y[t], sizeof r) && bad[ti]++ < 2)
                        printf("  %s n=%d T=%d t=%d: ours %.9g, ggml %.9g\n", lm_type_traits(types[ti])->name, n, T, t,
                               y[t], r);
                }
            }
            free(wq);
        }
        free(w); free(x); free(xq);
    }
    for (int ti = 0; ti < 3; ti++) {
        const int need = required & (1 << ti);
        printf("%-6s %-34s %5d of %d differ%s\n", lm_type_traits(types[ti])->name, what, bad[ti], total[ti],
               need ? "" : " (not the path llama.cpp takes; reported only)");
        if (need && bad[ti]) fail = 1;
    }
    return fail;
}

/* Q8_K conversions of 4 rows of n: ours (kernel set k) against ggml's. Returns the number of
 * blocks differing from quantize_row_q8_K; *bad_mat counts those differing from the 4-row one. */
static int compare_q8_K(const struct lm__kern *k, const float *x, int n, int *bad_mat)
{
    const size_t xs = lm_row_size(LM_TYPE_Q8_K, n);
    const int nb = n / LM_QK_K;
    char ours[4 * 8 * sizeof(struct lm__block_q8_K)], ref[sizeof ours];
    /* block_q8_Kx4: d[4], qs[4*256] in runs of 8 per row, bsums[64] */
    struct { float d[4]; int8_t qs[4 * LM_QK_K]; int16_t bsums[64]; } mat[8];
    int bad = 0;
    for (int t = 0; t < 4; t++) {
        k->from_float[LM_TYPE_Q8_K](x + t * n, ours + t * xs, n);
        quantize_row_q8_K(x + t * n, ref + t * xs, n);
    }
    ggml_quantize_mat_q8_K_4x8(x, mat, n);
    for (int t = 0; t < 4; t++)
        for (int b = 0; b < nb; b++) {
            const struct lm__block_q8_K *o = (const void *)(ours + t * xs), *r = (const void *)(ref + t * xs);
            bad += memcmp(&o[b], &r[b], sizeof o[b]) != 0;
            int diff = memcmp(&o[b].d, &mat[b].d[t], sizeof(float)) != 0;
            for (int j = 0; j < 4 * LM_QK_K; j++)
                if ((j % 32) / 8 == t && mat[b].qs[j] != o[b].qs[(j / 32) * 8 + j % 8]) diff = 1;
            *bad_mat += diff;
        }
    return bad;
}

int main(void)
{
    ggml_cpu_init();
    const ggml_vec_dot_fn simd[3] = {ggml_vec_dot_q4_K_q8_K, ggml_vec_dot_q5_K_q8_K, ggml_vec_dot_q6_K_q8_K};
    const ggml_vec_dot_fn generic[3] = {ggml_vec_dot_q4_K_q8_K_generic, ggml_vec_dot_q5_K_q8_K_generic,
                                        ggml_vec_dot_q6_K_q8_K_generic};
    int fail = 0;
    struct lm__kern ref;
    lm__kern_build(&ref, LM__KERN_REF);
    {
        int bad_ref = 0, bad_k = 0, bad_mat = 0, total = 0;
        static float x[4 * 2048];
        for (int it = 0; it < 500; it++) {
            const int n = 256 * (1 + it % 8);
            for (int i = 0; i < 4 * n; i++) x[i] = grand() * (it % 3 ? 1.0f : 3.0f);
            if (it % 4 == 1) x[3] = 9.5f, x[7] = -9.5f;     /* the block maximum with both signs */
            if (it % 4 == 3) x[3] = -9.5f, x[7] = 9.5f;     /* (the negative one first) */
            bad_ref += compare_q8_K(&ref, x, n, &bad_mat);
            bad_k += compare_q8_K(lm__kern_active(), x, n, &bad_mat);
            total += 4 * (n / 256);
        }
        printf("Q8_K   conversion, scalar / %s vs quantize_row_q8_K  %d / %d of %d blocks differ\n",
               lm__kern_active()->name, bad_ref, bad_k, total);
        /* ggml's 4-row AVX2 conversion takes the positive sign when the largest magnitude occurs
         * with both signs; the row conversion (and ours) the first one: reported only */
        printf("Q8_K   conversion vs ggml_quantize_mat_q8_K_4x8  %d of %d blocks differ (reported only)\n", bad_mat,
               2 * total);
        fail |= bad_ref || bad_k;
    }
    fail |= compare(&ref, generic, "scalar vs ggml generic", 7);
    const struct lm__kern *k = lm__kern_active();
    if (strcmp(k->name, ref.name)) {
        char what[64];
        snprintf(what, sizeof what, "%s vs ggml vec_dot", k->name);
        fail |= compare(k, simd, what, 6);
    }
    return fail;
}
