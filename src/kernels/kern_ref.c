/* kern_ref.c — scalar reference dot products for every weight type against its vec_dot_type,
 * and the reference kernel table. Every SIMD kernel is tested against these. Integer sums are
 * exact within a block; floats accumulate per block in the order ggml's generic code uses. */
#include <math.h>
#include <string.h>

#include "kernels/kern_internal.h"

/* One row of W (type of the function) against one converted activation row. */
typedef float (*dot_fn)(int64_t n, const void *w, const void *x);

static float dot_f32(int64_t n, const void *vw, const void *vx)
{
    const float *w = vw, *x = vx;
    double s = 0;   /* ggml's scalar path accumulates in double (ggml_float) */
    for (int64_t i = 0; i < n; i++) s += (double)(w[i] * x[i]);
    return (float)s;
}

static float dot_f16(int64_t n, const void *vw, const void *vx)
{
    const uint16_t *w = vw, *x = vx;
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += (double)(lm_f16_to_f32(w[i]) * lm_f16_to_f32(x[i]));
    return (float)s;
}

static float dot_bf16(int64_t n, const void *vw, const void *vx)
{
    const uint16_t *w = vw, *x = vx;
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += (double)(lm_bf16_to_f32(w[i]) * lm_bf16_to_f32(x[i]));
    return (float)s;
}

static float dot_q4_0(int64_t n, const void *vw, const void *vx)
{
    const struct lm__block_q4_0 *w = vw;
    const struct lm__block_q8_0 *x = vx;
    float s = 0;
    for (int64_t i = 0; i < n / LM_QK8_0; i++) {
        int sumi = 0;
        for (int j = 0; j < LM_QK4_0 / 2; j++) {
            sumi += ((w[i].qs[j] & 0xF) - 8) * x[i].qs[j];
            sumi += ((w[i].qs[j] >> 4) - 8) * x[i].qs[j + LM_QK4_0 / 2];
        }
        s += (float)sumi * (lm_f16_to_f32(w[i].d) * lm_f16_to_f32(x[i].d));
    }
    return s;
}

static float dot_q4_1(int64_t n, const void *vw, const void *vx)
{
    const struct lm__block_q4_1 *w = vw;
    const struct lm__block_q8_1 *x = vx;
    float s = 0;
    for (int64_t i = 0; i < n / LM_QK8_1; i++) {
        int sumi = 0;
        for (int j = 0; j < LM_QK4_1 / 2; j++) {
            sumi += (w[i].qs[j] & 0xF) * x[i].qs[j];
            sumi += (w[i].qs[j] >> 4) * x[i].qs[j + LM_QK4_1 / 2];
        }
        s += (float)sumi * (lm_f16_to_f32(w[i].d) * lm_f16_to_f32(x[i].d)) +
             lm_f16_to_f32(w[i].m) * lm_f16_to_f32(x[i].s);
    }
    return s;
}

static float dot_q8_0(int64_t n, const void *vw, const void *vx)
{
    const struct lm__block_q8_0 *w = vw, *x = vx;
    float s = 0;
    for (int64_t i = 0; i < n / LM_QK8_0; i++) {
        int sumi = 0;
        for (int j = 0; j < LM_QK8_0; j++) sumi += w[i].qs[j] * x[i].qs[j];
        s += (float)sumi * (lm_f16_to_f32(w[i].d) * lm_f16_to_f32(x[i].d));
    }
    return s;
}

/* The K-quant products follow ggml's generic C (ggml_vec_dot_q*_K_q8_K_generic) as compilers
 * build it with fused multiply-adds: per block eight integer lanes (lane l: the elements whose
 * index is l mod 8, times their sub-block scale), each accumulated in its own float with one fma
 * by d_w*d_x; the min corrections of Q4_K/Q5_K subtracted from a separate float with one fma a
 * block; at the end the eight lane floats added to it one after the other. (llama.cpp's x86 and
 * ARM kernels use other orders; the SIMD kernels here follow those, see kern_x86.h.) */
static float kref_finish(const float sums[8], float sumf)
{
    for (int l = 0; l < 8; l++) sumf += sums[l];
    return sumf;
}

/* Q4_K (five = 0) or Q5_K against Q8_K. */
static float dot_q45_K(int five, int64_t n, const void *vw, const void *vx)
{
    const struct lm__block_q8_K *x = vx;
    float sums[8] = {0}, sumf = 0;
    for (int64_t i = 0; i < n / LM_QK_K; i++) {
        const uint8_t *q, *qh = NULL, *scales;
        uint16_t d, dmin;
        if (five) {
            const struct lm__block_q5_K *w = (const struct lm__block_q5_K *)vw + i;
            q = w->qs; qh = w->qh; scales = w->scales; d = w->d; dmin = w->dmin;
        } else {
            const struct lm__block_q4_K *w = (const struct lm__block_q4_K *)vw + i;
            q = w->qs; scales = w->scales; d = w->d; dmin = w->dmin;
        }
        const int8_t *a = x[i].qs;
        int32_t lane[8] = {0};
        int summ = 0;
        for (int j = 0; j < LM_QK_K / 32; j++) {
            uint8_t sc, m;
            lm__scale_min_k4(j, scales, &sc, &m);
            summ += m * (x[i].bsums[2 * j] + x[i].bsums[2 * j + 1]);
            for (int l = 0; l < 32; l++) {
                const uint8_t b = q[32 * (j / 2) + l];
                int v = j % 2 ? b >> 4 : b & 0xF;
                if (qh) v += ((qh[l] >> j) & 1) << 4;
                lane[l % 8] += sc * (v * a[32 * j + l]);
            }
        }
        const float dd = lm_f16_to_f32(d) * x[i].d, dm = lm_f16_to_f32(dmin) * x[i].d;
        for (int l = 0; l < 8; l++) sums[l] = fmaf(dd, (float)lane[l], sums[l]);
        sumf = fmaf(-dm, (float)summ, sumf);
    }
    return kref_finish(sums, sumf);
}

static float dot_q4_K(int64_t n, const void *vw, const void *vx)
{
    return dot_q45_K(0, n, vw, vx);
}

static float dot_q5_K(int64_t n, const void *vw, const void *vx)
{
    return dot_q45_K(1, n, vw, vx);
}

static float dot_q6_K(int64_t n, const void *vw, const void *vx)
{
    const struct lm__block_q6_K *w = vw;
    const struct lm__block_q8_K *x = vx;
    float sums[8] = {0};
    for (int64_t i = 0; i < n / LM_QK_K; i++) {
        const uint8_t *ql = w[i].ql, *qh = w[i].qh;
        const int8_t *sc = w[i].scales, *a = x[i].qs;
        int32_t lane[8] = {0};
        for (int k = 0; k < LM_QK_K; k += 128, ql += 64, qh += 32, sc += 8, a += 128) {
            for (int l = 0; l < 32; l++) {
                const int is = l / 16;
                const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                lane[l % 8] += sc[is + 0] * (q1 * a[l]) + sc[is + 2] * (q2 * a[l + 32]) +
                               sc[is + 4] * (q3 * a[l + 64]) + sc[is + 6] * (q4 * a[l + 96]);
            }
        }
        const float dd = lm_f16_to_f32(w[i].d) * x[i].d;
        for (int l = 0; l < 8; l++) sums[l] = fmaf(dd, (float)lane[l], sums[l]);
    }
    return kref_finish(sums, 0);
}

/* LM_TYPE_Q4_0_R8 reference: undoes the interleaving block by block. */
void lm__gemm_q4_0_r8_ref(int64_t n, const void *w, size_t ws, int64_t nr, const void *x, size_t xs,
                          int64_t nt, float *y, int64_t ldy)
{
    const int64_t nb = n / 32;
    for (int64_t g = 0; g < nr / 8; g++) {
        const struct lm__block_q4_0x8 *wb = (const void *)((const char *)w + (size_t)g * 8 * ws);
        for (int64_t t = 0; t < nt; t++) {
            const struct lm__block_q8_0 *xb = (const void *)((const char *)x + (size_t)t * xs);
            for (int r = 0; r < 8; r++) {
                float s = 0;
                for (int64_t b = 0; b < nb; b++) {
                    int sumi = 0;
                    for (int k = 0; k < 4; k++)
                        for (int j = 0; j < 4; j++) {
                            const uint8_t q = wb[b].qs[32 * k + 4 * r + j];
                            sumi += ((q & 0xF) - 8) * xb[b].qs[4 * k + j] + ((q >> 4) - 8) * xb[b].qs[16 + 4 * k + j];
                        }
                    s += (float)sumi * (lm_f16_to_f32(wb[b].d[r]) * lm_f16_to_f32(xb[b].d));
                }
                y[t * ldy + g * 8 + r] = s;
            }
        }
    }
}

/* LM_TYPE_Q8_0_R8 reference: undoes the interleaving block by block. */
void lm__gemm_q8_0_r8_ref(int64_t n, const void *w, size_t ws, int64_t nr, const void *x, size_t xs,
                          int64_t nt, float *y, int64_t ldy)
{
    const int64_t nb = n / 32;
    for (int64_t g = 0; g < nr / 8; g++) {
        const struct lm__block_q8_0x8 *wb = (const void *)((const char *)w + (size_t)g * 8 * ws);
        for (int64_t t = 0; t < nt; t++) {
            const struct lm__block_q8_0 *xb = (const void *)((const char *)x + (size_t)t * xs);
            for (int r = 0; r < 8; r++) {
                float s = 0;
                for (int64_t b = 0; b < nb; b++) {
                    int sumi = 0;
                    for (int k = 0; k < 8; k++)
                        for (int j = 0; j < 4; j++) sumi += wb[b].qs[32 * k + 4 * r + j] * xb[b].qs[4 * k + j];
                    s += (float)sumi * (lm_f16_to_f32(wb[b].d[r]) * lm_f16_to_f32(xb[b].d));
                }
                y[t * ldy + g * 8 + r] = s;
            }
        }
    }
}

/* Tile of dot products from a single-row dot function. */
static inline void gemm_from_dot(dot_fn dot, int64_t n, const void *w, size_t wstride, int64_t nr,
                                 const void *x, size_t xstride, int64_t nt, float *y, int64_t ldy)
{
    for (int64_t t = 0; t < nt; t++)
        for (int64_t r = 0; r < nr; r++)
            y[t * ldy + r] = dot(n, (const char *)w + r * wstride, (const char *)x + t * xstride);
}

#define REF_GEMM(name)                                                                                   \
    static void gemm_##name(int64_t n, const void *w, size_t ws, int64_t nr, const void *x, size_t xs, \
                            int64_t nt, float *y, int64_t ldy)                                          \
    {                                                                                                    \
        gemm_from_dot(dot_##name, n, w, ws, nr, x, xs, nt, y, ldy);                                      \
    }
REF_GEMM(f32)
REF_GEMM(f16)
REF_GEMM(bf16)
REF_GEMM(q4_0)
REF_GEMM(q4_1)
REF_GEMM(q8_0)
REF_GEMM(q4_K)
REF_GEMM(q5_K)
REF_GEMM(q6_K)

static void from_f32(const float *src, void *dst, int64_t n) { memcpy(dst, src, (size_t)n * 4); }
static void from_f16(const float *src, void *dst, int64_t n) { lm_quantize_row(LM_TYPE_F16, src, dst, n); }
static void from_bf16(const float *src, void *dst, int64_t n) { lm_quantize_row(LM_TYPE_BF16, src, dst, n); }

static float ref_dot_f32(const float *a, const float *b, int64_t n)
{
    float s = 0;
    for (int64_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

static void ref_axpy_f32(float *y, float a, const float *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++) y[i] += a * x[i];
}

const struct lm__kern lm__kern_ref = {
    .name = "scalar",
    .gemm = {
        [LM_TYPE_F32] = gemm_f32, [LM_TYPE_F16] = gemm_f16, [LM_TYPE_BF16] = gemm_bf16,
        [LM_TYPE_Q4_0] = gemm_q4_0, [LM_TYPE_Q4_1] = gemm_q4_1, [LM_TYPE_Q8_0] = gemm_q8_0,
        [LM_TYPE_Q4_K] = gemm_q4_K, [LM_TYPE_Q5_K] = gemm_q5_K, [LM_TYPE_Q6_K] = gemm_q6_K,
        [LM_TYPE_Q4_0_R8] = lm__gemm_q4_0_r8_ref,
        [LM_TYPE_Q8_0_R8] = lm__gemm_q8_0_r8_ref,
    },
    .from_float = {
        [LM_TYPE_F32] = from_f32, [LM_TYPE_F16] = from_f16, [LM_TYPE_BF16] = from_bf16,
        [LM_TYPE_Q8_0] = lm__quantize_q8_0_ref, [LM_TYPE_Q8_1] = lm__quantize_q8_1_ref,
        [LM_TYPE_Q8_K] = lm__quantize_q8_K_ref,
    },
    .dot_f32 = ref_dot_f32,
    .axpy_f32 = ref_axpy_f32,
};
