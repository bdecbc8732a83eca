/* kquant_ref.c — reference quantisers and dequantisers of the K-quants (Q4_K, Q5_K, Q6_K and
 * the Q8_K activation blocks), bit-exact with ggml's *_ref functions (no importance matrix),
 * so files written by our tools are the files llama.cpp would write. */
#include <math.h>
#include <string.h>

#include "kernels/kern_internal.h"

#define GROUP_MAX_EPS 1e-15f

static inline int imin(int a, int b) { return a < b ? a : b; }
static inline int imax(int a, int b) { return a > b ? a : b; }

/* Affine fit x ~ scale*L + min with L in 0..nmax, searching nstep scales around the range
 * (ggml's make_qkx2_quants). Returns scale, stores -min. */
static float make_qkx2_quants(int n, int nmax, const float *x, const float *weights, uint8_t *L,
                              float *the_min, uint8_t *Laux, float rmin, float rdelta, int nstep)
{
    float min = x[0], max = x[0];
    float sum_w = weights[0], sum_x = sum_w * x[0];
    for (int i = 1; i < n; ++i) {
        if (x[i] < min) min = x[i];
        if (x[i] > max) max = x[i];
        float w = weights[i];
        sum_w += w;
        sum_x += w * x[i];
    }
    if (min > 0) min = 0;
    if (max == min) {
        for (int i = 0; i < n; ++i) L[i] = 0;
        *the_min = -min;
        return 0.f;
    }
    float iscale = nmax / (max - min);
    float scale = 1 / iscale;
    float best_error = 0;
    for (int i = 0; i < n; ++i) {
        int l = lm__nearest_int(iscale * (x[i] - min));
        L[i] = (uint8_t)imax(0, imin(nmax, l));
        float diff = scale * L[i] + min - x[i];
        best_error += weights[i] * (diff * diff);
    }
    if (nstep < 1) {
        *the_min = -min;
        return scale;
    }
    for (int is = 0; is <= nstep; ++is) {
        iscale = (rmin + rdelta * is + nmax) / (max - min);
        float sum_l = 0, sum_l2 = 0, sum_xl = 0;
        for (int i = 0; i < n; ++i) {
            int l = lm__nearest_int(iscale * (x[i] - min));
            l = imax(0, imin(nmax, l));
            Laux[i] = (uint8_t)l;
            float w = weights[i];
            sum_l += w * l;
            sum_l2 += w * l * l;
            sum_xl += w * l * x[i];
        }
        float D = sum_w * sum_l2 - sum_l * sum_l;
        if (D > 0) {
            float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
            float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
            if (this_min > 0) {
                this_min = 0;
                this_scale = sum_xl / sum_l2;
            }
            float cur_error = 0;
            for (int i = 0; i < n; ++i) {
                float diff = this_scale * Laux[i] + this_min - x[i];
                cur_error += weights[i] * (diff * diff);
            }
            if (cur_error < best_error) {
                for (int i = 0; i < n; ++i) L[i] = Laux[i];
                best_error = cur_error;
                scale = this_scale;
                min = this_min;
            }
        }
    }
    *the_min = -min;
    return scale;
}

/* Symmetric fit x ~ scale*(L-nmax), L in 0..2*nmax-1, weights x^2 (ggml's make_qx_quants,
 * rmse_type 1, no importance). Returns scale. */
static float make_qx_quants(int n, int nmax, const float *x, int8_t *L)
{
    float max = 0, amax = 0;
    for (int i = 0; i < n; ++i) {
        float ax = fabsf(x[i]);
        if (ax > amax) { amax = ax; max = x[i]; }
    }
    if (amax < GROUP_MAX_EPS) {
        for (int i = 0; i < n; ++i) L[i] = 0;
        return 0.f;
    }
    float iscale = -nmax / max;
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; ++i) {
        int l = lm__nearest_int(iscale * x[i]);
        l = imax(-nmax, imin(nmax - 1, l));
        L[i] = (int8_t)(l + nmax);
        float w = x[i] * x[i];
        sumlx += w * x[i] * l;
        suml2 += w * l * l;
    }
    float scale = suml2 ? sumlx / suml2 : 0.0f;
    float best = scale * sumlx;
    for (int is = -9; is <= 9; ++is) {
        if (is == 0) continue;
        iscale = -(nmax + 0.1f * is) / max;
        sumlx = suml2 = 0;
        for (int i = 0; i < n; ++i) {
            int l = lm__nearest_int(iscale * x[i]);
            l = imax(-nmax, imin(nmax - 1, l));
            float w = x[i] * x[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        if (suml2 > 0 && sumlx * sumlx > best * suml2) {
            for (int i = 0; i < n; ++i) {
                int l = lm__nearest_int(iscale * x[i]);
                L[i] = (int8_t)(nmax + imax(-nmax, imin(nmax - 1, l)));
            }
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

/* Packs 8 six-bit scales and mins into the 12-byte K-quant scale field. */
static void pack_scales_k4(uint8_t *s, const float *scales, const float *mins, float inv_scale, float inv_min)
{
    for (int j = 0; j < LM_QK_K / 32; ++j) {
        uint8_t ls = (uint8_t)lm__nearest_int(inv_scale * scales[j]);
        uint8_t lm = (uint8_t)lm__nearest_int(inv_min * mins[j]);
        ls = ls < 63 ? ls : 63;
        lm = lm < 63 ? lm : 63;
        if (j < 4) {
            s[j] = ls;
            s[j + 4] = lm;
        } else {
            s[j + 4] = (uint8_t)((ls & 0xF) | ((lm & 0xF) << 4));
            s[j - 4] |= (uint8_t)((ls >> 4) << 6);
            s[j - 0] |= (uint8_t)((lm >> 4) << 6);
        }
    }
}

/* Per sub-block affine fits shared by Q4_K (nmax 15) and Q5_K (nmax 31); fills L and the
 * block's d, dmin, scales. */
static void fit_k_block(const float *x, int nmax, float rmin, int nstep, uint8_t *L, uint16_t *d,
                        uint16_t *dmin, uint8_t *sc12)
{
    float mins[LM_QK_K / 32], scales[LM_QK_K / 32], weights[32];
    uint8_t Laux[32];
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < LM_QK_K / 32; ++j) {
        float sum_x2 = 0;
        for (int l = 0; l < 32; ++l) sum_x2 += x[32 * j + l] * x[32 * j + l];
        float av_x = sqrtf(sum_x2 / 32);
        for (int l = 0; l < 32; ++l) weights[l] = av_x + fabsf(x[32 * j + l]);
        scales[j] = make_qkx2_quants(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j], Laux, rmin, 0.1f, nstep);
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
    float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
    memset(sc12, 0, LM_K_SCALE_SIZE);
    pack_scales_k4(sc12, scales, mins, inv_scale, inv_min);
    *d = lm_f32_to_f16(max_scale / 63.f);
    *dmin = lm_f32_to_f16(max_min / 63.f);
    for (int j = 0; j < LM_QK_K / 32; ++j) {
        uint8_t sc, m;
        lm__scale_min_k4(j, sc12, &sc, &m);
        const float dd = lm_f16_to_f32(*d) * sc;
        if (!dd) continue;
        const float dm = lm_f16_to_f32(*dmin) * m;
        for (int ii = 0; ii < 32; ++ii) {
            int l = lm__nearest_int((x[32 * j + ii] + dm) / dd);
            L[32 * j + ii] = (uint8_t)imax(0, imin(nmax, l));
        }
    }
}

/* Q4_K reference quantiser. */
void lm__quantize_q4_K_ref(const float *x, void *vy, int64_t n)
{
    struct lm__block_q4_K *y = vy;
    uint8_t L[LM_QK_K];
    for (int64_t i = 0; i < n / LM_QK_K; i++, x += LM_QK_K) {
        fit_k_block(x, 15, -1.f, 20, L, &y[i].d, &y[i].dmin, y[i].scales);
        uint8_t *q = y[i].qs;
        for (int j = 0; j < LM_QK_K; j += 64, q += 32)
            for (int l = 0; l < 32; ++l) q[l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 4));
    }
}

/* Q5_K reference quantiser. */
void lm__quantize_q5_K_ref(const float *x, void *vy, int64_t n)
{
    struct lm__block_q5_K *y = vy;
    uint8_t L[LM_QK_K];
    for (int64_t i = 0; i < n / LM_QK_K; i++, x += LM_QK_K) {
        fit_k_block(x, 31, -0.5f, 15, L, &y[i].d, &y[i].dmin, y[i].scales);
        uint8_t *qh = y[i].qh, *ql = y[i].qs;
        memset(qh, 0, LM_QK_K / 8);
        uint8_t m1 = 1, m2 = 2;
        for (int k = 0; k < LM_QK_K; k += 64) {
            for (int j = 0; j < 32; ++j) {
                int l1 = L[k + j], l2 = L[k + j + 32];
                if (l1 > 15) { l1 -= 16; qh[j] |= m1; }
                if (l2 > 15) { l2 -= 16; qh[j] |= m2; }
                ql[j] = (uint8_t)(l1 | (l2 << 4));
            }
            m1 = (uint8_t)(m1 << 2);
            m2 = (uint8_t)(m2 << 2);
            ql += 32;
        }
    }
}

/* Q6_K reference quantiser. */
void lm__quantize_q6_K_ref(const float *x, void *vy, int64_t n)
{
    struct lm__block_q6_K *y = vy;
    int8_t L[LM_QK_K];
    float scales[LM_QK_K / 16];
    for (int64_t i = 0; i < n / LM_QK_K; i++, x += LM_QK_K) {
        float max_scale = 0, max_abs_scale = 0;
        for (int ib = 0; ib < LM_QK_K / 16; ++ib) {
            const float scale = make_qx_quants(16, 32, x + 16 * ib, L + 16 * ib);
            scales[ib] = scale;
            if (fabsf(scale) > max_abs_scale) {
                max_abs_scale = fabsf(scale);
                max_scale = scale;
            }
        }
        if (max_abs_scale < GROUP_MAX_EPS) {
            memset(&y[i], 0, sizeof y[i]);
            continue;
        }
        float iscale = -128.f / max_scale;
        y[i].d = lm_f32_to_f16(1 / iscale);
        for (int ib = 0; ib < LM_QK_K / 16; ++ib) y[i].scales[ib] = (int8_t)imin(127, lm__nearest_int(iscale * scales[ib]));
        for (int j = 0; j < LM_QK_K / 16; ++j) {
            float d = lm_f16_to_f32(y[i].d) * y[i].scales[j];
            if (!d) continue;
            for (int ii = 0; ii < 16; ++ii) {
                int l = lm__nearest_int(x[16 * j + ii] / d);
                L[16 * j + ii] = (int8_t)(imax(-32, imin(31, l)) + 32);
            }
        }
        uint8_t *ql = y[i].ql, *qh = y[i].qh;
        for (int j = 0; j < LM_QK_K; j += 128, ql += 64, qh += 32) {
            for (int l = 0; l < 32; ++l) {
                const uint8_t q1 = L[j + l + 0] & 0xF, q2 = L[j + l + 32] & 0xF;
                const uint8_t q3 = L[j + l + 64] & 0xF, q4 = L[j + l + 96] & 0xF;
                ql[l + 0] = (uint8_t)(q1 | (q3 << 4));
                ql[l + 32] = (uint8_t)(q2 | (q4 << 4));
                qh[l] = (uint8_t)((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) | ((L[j + l + 64] >> 4) << 4) |
                                  ((L[j + l + 96] >> 4) << 6));
            }
        }
    }
}

/* Q8_K: d = max/-127 over the element of largest magnitude, sums of 16 kept for K-quant mins. */
void lm__quantize_q8_K_ref(const float *x, void *vy, int64_t n)
{
    struct lm__block_q8_K *y = vy;
    for (int64_t i = 0; i < n / LM_QK_K; i++, x += LM_QK_K) {
        float max = 0, amax = 0;
        for (int j = 0; j < LM_QK_K; ++j) {
            float ax = fabsf(x[j]);
            if (ax > amax) { amax = ax; max = x[j]; }
        }
        if (!amax) {
            memset(&y[i], 0, sizeof y[i]);
            continue;
        }
        const float iscale = -127.f / max;
        for (int j = 0; j < LM_QK_K; ++j) y[i].qs[j] = (int8_t)imin(127, lm__nearest_int(iscale * x[j]));
        for (int j = 0; j < LM_QK_K / 16; ++j) {
            int sum = 0;
            for (int ii = 0; ii < 16; ++ii) sum += y[i].qs[j * 16 + ii];
            y[i].bsums[j] = (int16_t)sum;
        }
        y[i].d = 1 / iscale;
    }
}

/* Q4_K to f32. */
void lm__dequantize_q4_K(const void *vx, float *y, int64_t n)
{
    const struct lm__block_q4_K *x = vx;
    for (int64_t i = 0; i < n / LM_QK_K; i++) {
        const uint8_t *q = x[i].qs;
        const float d = lm_f16_to_f32(x[i].d), min = lm_f16_to_f32(x[i].dmin);
        for (int j = 0, is = 0; j < LM_QK_K; j += 64, is += 2, q += 32) {
            uint8_t sc, m;
            lm__scale_min_k4(is + 0, x[i].scales, &sc, &m);
            const float d1 = d * sc, m1 = min * m;
            lm__scale_min_k4(is + 1, x[i].scales, &sc, &m);
            const float d2 = d * sc, m2 = min * m;
            for (int l = 0; l < 32; ++l) *y++ = d1 * (q[l] & 0xF) - m1;
            for (int l = 0; l < 32; ++l) *y++ = d2 * (q[l] >> 4) - m2;
        }
    }
}

/* Q5_K to f32. */
void lm__dequantize_q5_K(const void *vx, float *y, int64_t n)
{
    const struct lm__block_q5_K *x = vx;
    for (int64_t i = 0; i < n / LM_QK_K; i++) {
        const uint8_t *ql = x[i].qs, *qh = x[i].qh;
        const float d = lm_f16_to_f32(x[i].d), min = lm_f16_to_f32(x[i].dmin);
        uint8_t u1 = 1, u2 = 2;
        for (int j = 0, is = 0; j < LM_QK_K; j += 64, is += 2, ql += 32) {
            uint8_t sc, m;
            lm__scale_min_k4(is + 0, x[i].scales, &sc, &m);
            const float d1 = d * sc, m1 = min * m;
            lm__scale_min_k4(is + 1, x[i].scales, &sc, &m);
            const float d2 = d * sc, m2 = min * m;
            for (int l = 0; l < 32; ++l) *y++ = d1 * ((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
            for (int l = 0; l < 32; ++l) *y++ = d2 * ((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
            u1 = (uint8_t)(u1 << 2);
            u2 = (uint8_t)(u2 << 2);
        }
    }
}

/* Q6_K to f32. */
void lm__dequantize_q6_K(const void *vx, float *y, int64_t n)
{
    const struct lm__block_q6_K *x = vx;
    for (int64_t i = 0; i < n / LM_QK_K; i++) {
        const float d = lm_f16_to_f32(x[i].d);
        const uint8_t *ql = x[i].ql, *qh = x[i].qh;
        const int8_t *sc = x[i].scales;
        for (int k = 0; k < LM_QK_K; k += 128, y += 128, ql += 64, qh += 32, sc += 8) {
            for (int l = 0; l < 32; ++l) {
                int is = l / 16;
                const int q1 = (int8_t)((ql[l + 0] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int q2 = (int8_t)((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q3 = (int8_t)((ql[l + 0] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q4 = (int8_t)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[l + 0] = d * sc[is + 0] * q1;
                y[l + 32] = d * sc[is + 2] * q2;
                y[l + 64] = d * sc[is + 4] * q3;
                y[l + 96] = d * sc[is + 6] * q4;
            }
        }
    }
}

/* Q8_K to f32. */
void lm__dequantize_q8_K(const void *vx, float *y, int64_t n)
{
    const struct lm__block_q8_K *x = vx;
    for (int64_t i = 0; i < n / LM_QK_K; i++)
        for (int j = 0; j < LM_QK_K; ++j) *y++ = x[i].d * x[i].qs[j];
}
