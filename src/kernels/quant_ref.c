/* quant_ref.c — type traits, half-precision conversions and the reference quantisers for the
 * 32-element block types (Q4_0, Q4_1, Q8_0, Q8_1). Bit-exact with ggml's *_ref quantisers, so
 * tensors we write and activations we quantise match llama.cpp's. */
#include <float.h>
#include <math.h>
#include <string.h>
#include <strings.h>

#include "kernels/kern_internal.h"

static const struct lm_type_traits traits[LM_TYPE_ALL] = {
    [LM_TYPE_F32]  = {"F32", 1, 4, false, LM_TYPE_F32},
    [LM_TYPE_F16]  = {"F16", 1, 2, false, LM_TYPE_F16},
    [LM_TYPE_BF16] = {"BF16", 1, 2, false, LM_TYPE_BF16},
    [LM_TYPE_Q4_0] = {"Q4_0", LM_QK4_0, sizeof(struct lm__block_q4_0), true, LM_TYPE_Q8_0},
    [LM_TYPE_Q4_1] = {"Q4_1", LM_QK4_1, sizeof(struct lm__block_q4_1), true, LM_TYPE_Q8_1},
    [LM_TYPE_Q8_0] = {"Q8_0", LM_QK8_0, sizeof(struct lm__block_q8_0), true, LM_TYPE_Q8_0},
    [LM_TYPE_Q8_1] = {"Q8_1", LM_QK8_1, sizeof(struct lm__block_q8_1), true, LM_TYPE_Q8_1},
    [LM_TYPE_Q4_K] = {"Q4_K", LM_QK_K, sizeof(struct lm__block_q4_K), true, LM_TYPE_Q8_K},
    [LM_TYPE_Q5_K] = {"Q5_K", LM_QK_K, sizeof(struct lm__block_q5_K), true, LM_TYPE_Q8_K},
    [LM_TYPE_Q6_K] = {"Q6_K", LM_QK_K, sizeof(struct lm__block_q6_K), true, LM_TYPE_Q8_K},
    [LM_TYPE_Q8_K] = {"Q8_K", LM_QK_K, sizeof(struct lm__block_q8_K), true, LM_TYPE_Q8_K},
    [LM_TYPE_Q4_0_R8] = {"Q4_0_R8", LM_QK4_0, sizeof(struct lm__block_q4_0), true, LM_TYPE_Q8_0},
    [LM_TYPE_Q8_0_R8] = {"Q8_0_R8", LM_QK8_0, sizeof(struct lm__block_q8_0), true, LM_TYPE_Q8_0},
};

/* Traits of file types and kernel-private types. */
const struct lm_type_traits *lm__type_traits(int t)
{
    if (t < 0 || t >= LM_TYPE_ALL || !traits[t].name) return NULL;
    return &traits[t];
}

/* Traits of t or NULL for types we do not implement. */
const struct lm_type_traits *lm_type_traits(int t)
{
    if (t < 0 || t >= LM_TYPE_COUNT || !traits[t].name) return NULL;
    return &traits[t];
}

/* Type number by case-insensitive name, or -1. */
int lm_type_from_name(const char *name)
{
    if (!name) return -1;
    for (int t = 0; t < LM_TYPE_COUNT; t++)
        if (traits[t].name && strcasecmp(traits[t].name, name) == 0) return t;
    return -1;
}

/* Bytes of a row of n elements (0 when n does not fill whole blocks or t is unknown). */
size_t lm_row_size(enum lm_type t, int64_t n)
{
    const struct lm_type_traits *tr = lm_type_traits((int)t);
    if (!tr || n < 0 || n % tr->block_size) return 0;
    return (size_t)(n / tr->block_size) * tr->type_size;
}

static inline uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static inline float bits_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* IEEE half to float (exact). */
float lm_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t e = (h >> 10) & 0x1f, m = h & 0x3ff;
    if (e == 0x1f) return bits_f32(sign | 0x7f800000 | (m << 13));
    if (e == 0) {
        if (!m) return bits_f32(sign);
        float v = (float)m * 0x1p-24f;    /* subnormal: exact in float */
        return sign ? -v : v;
    }
    return bits_f32(sign | ((e + 112) << 23) | (m << 13));
}

/* Float to IEEE half, round to nearest even (as F16C and ggml's fallback do). */
uint16_t lm_f32_to_f16(float f)
{
    uint32_t u = f32_bits(f);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000);
    u &= 0x7fffffff;
    if (u > 0x7f800000) return sign | 0x7e00;               /* NaN */
    if (u >= 0x477ff000) return sign | 0x7c00;              /* rounds past 65504: inf */
    if (u < 0x38800000) {                                   /* half subnormal or zero */
        if (u < 0x33000000) return sign;
        uint32_t e = u >> 23, m = (u & 0x7fffff) | 0x800000;
        uint32_t shift = 126 - e, r = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (r & 1))) r++;
        return sign | (uint16_t)r;
    }
    uint32_t r = (u - 0x38000000) >> 13, rem = u & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (r & 1))) r++;
    return sign | (uint16_t)r;
}

/* bfloat16 to float (exact). */
float lm_bf16_to_f32(uint16_t h)
{
    return bits_f32((uint32_t)h << 16);
}

/* Float to bfloat16, round to nearest even; NaN stays a quiet NaN (ggml's rule). */
uint16_t lm_f32_to_bf16(float f)
{
    uint32_t u = f32_bits(f);
    if ((u & 0x7fffffff) > 0x7f800000) return (uint16_t)((u >> 16) | 64);
    return (uint16_t)((u + (0x7fff + ((u >> 16) & 1))) >> 16);
}

/* Q4_0: d = max/-8 where max is the element of largest magnitude; q = x/d + 8 in 0..15. */
void lm__quantize_q4_0_ref(const float *x, void *vy, int64_t n)
{
    struct lm__block_q4_0 *y = vy;
    for (int64_t i = 0; i < n / LM_QK4_0; i++, x += LM_QK4_0) {
        float amax = 0, max = 0;
        for (int j = 0; j < LM_QK4_0; j++)
            if (amax < fabsf(x[j])) { amax = fabsf(x[j]); max = x[j]; }
        const float d = max / -8, id = d ? 1.0f / d : 0.0f;
        y[i].d = lm_f32_to_f16(d);
        for (int j = 0; j < LM_QK4_0 / 2; j++) {
            int8_t a = (int8_t)(x[j] * id + 8.5f), b = (int8_t)(x[LM_QK4_0 / 2 + j] * id + 8.5f);
            uint8_t q0 = (uint8_t)(a < 15 ? a : 15), q1 = (uint8_t)(b < 15 ? b : 15);
            y[i].qs[j] = (uint8_t)(q0 | (q1 << 4));
        }
    }
}

/* Q4_1: d = (max-min)/15, m = min; q = (x-min)/d in 0..15. */
void lm__quantize_q4_1_ref(const float *x, void *vy, int64_t n)
{
    struct lm__block_q4_1 *y = vy;
    for (int64_t i = 0; i < n / LM_QK4_1; i++, x += LM_QK4_1) {
        float min = FLT_MAX, max = -FLT_MAX;
        for (int j = 0; j < LM_QK4_1; j++) {
            if (x[j] < min) min = x[j];
            if (x[j] > max) max = x[j];
        }
        const float d = (max - min) / 15, id = d ? 1.0f / d : 0.0f;
        y[i].d = lm_f32_to_f16(d);
        y[i].m = lm_f32_to_f16(min);
        for (int j = 0; j < LM_QK4_1 / 2; j++) {
            int8_t a = (int8_t)((x[j] - min) * id + 0.5f), b = (int8_t)((x[LM_QK4_1 / 2 + j] - min) * id + 0.5f);
            uint8_t q0 = (uint8_t)(a < 15 ? a : 15), q1 = (uint8_t)(b < 15 ? b : 15);
            y[i].qs[j] = (uint8_t)(q0 | (q1 << 4));
        }
    }
}

/* Q8_0: d = amax/127, q = round(x/d) (round half away from zero, like roundf in ggml). */
void lm__quantize_q8_0_ref(const float *x, void *vy, int64_t n)
{
    struct lm__block_q8_0 *y = vy;
    for (int64_t i = 0; i < n / LM_QK8_0; i++, x += LM_QK8_0) {
        float amax = 0;
        for (int j = 0; j < LM_QK8_0; j++) amax = fmaxf(amax, fabsf(x[j]));
        const float d = amax / 127, id = d ? 1.0f / d : 0.0f;
        y[i].d = lm_f32_to_f16(d);
        for (int j = 0; j < LM_QK8_0; j++) y[i].qs[j] = (int8_t)roundf(x[j] * id);
    }
}

/* Q8_1: as Q8_0 plus s = d * sum(q) (used with Q4_1 weights). */
void lm__quantize_q8_1_ref(const float *x, void *vy, int64_t n)
{
    struct lm__block_q8_1 *y = vy;
    for (int64_t i = 0; i < n / LM_QK8_1; i++, x += LM_QK8_1) {
        float amax = 0;
        for (int j = 0; j < LM_QK8_1; j++) amax = fmaxf(amax, fabsf(x[j]));
        const float d = amax / 127, id = d ? 1.0f / d : 0.0f;
        y[i].d = lm_f32_to_f16(d);
        int sum = 0;
        for (int j = 0; j < LM_QK8_1 / 2; j++) {
            int8_t a = (int8_t)roundf(x[j] * id), b = (int8_t)roundf(x[LM_QK8_1 / 2 + j] * id);
            y[i].qs[j] = a;
            y[i].qs[LM_QK8_1 / 2 + j] = b;
            sum += a + b;
        }
        y[i].s = lm_f32_to_f16((float)sum * d);
    }
}

/* Converts n elements of type t into f32. */
void lm_dequantize_row(enum lm_type t, const void *src, float *dst, int64_t n)
{
    switch (t) {
    case LM_TYPE_F32:
        memcpy(dst, src, (size_t)n * 4);
        break;
    case LM_TYPE_F16: {
        const uint16_t *s = src;
        for (int64_t i = 0; i < n; i++) dst[i] = lm_f16_to_f32(s[i]);
        break;
    }
    case LM_TYPE_BF16: {
        const uint16_t *s = src;
        for (int64_t i = 0; i < n; i++) dst[i] = lm_bf16_to_f32(s[i]);
        break;
    }
    case LM_TYPE_Q4_0: {
        const struct lm__block_q4_0 *b = src;
        for (int64_t i = 0; i < n / LM_QK4_0; i++, dst += LM_QK4_0) {
            const float d = lm_f16_to_f32(b[i].d);
            for (int j = 0; j < LM_QK4_0 / 2; j++) {
                dst[j] = (float)((b[i].qs[j] & 0xF) - 8) * d;
                dst[j + LM_QK4_0 / 2] = (float)((b[i].qs[j] >> 4) - 8) * d;
            }
        }
        break;
    }
    case LM_TYPE_Q4_1: {
        const struct lm__block_q4_1 *b = src;
        for (int64_t i = 0; i < n / LM_QK4_1; i++, dst += LM_QK4_1) {
            const float d = lm_f16_to_f32(b[i].d), m = lm_f16_to_f32(b[i].m);
            for (int j = 0; j < LM_QK4_1 / 2; j++) {
                dst[j] = (float)(b[i].qs[j] & 0xF) * d + m;
                dst[j + LM_QK4_1 / 2] = (float)(b[i].qs[j] >> 4) * d + m;
            }
        }
        break;
    }
    case LM_TYPE_Q8_0: {
        const struct lm__block_q8_0 *b = src;
        for (int64_t i = 0; i < n / LM_QK8_0; i++, dst += LM_QK8_0) {
            const float d = lm_f16_to_f32(b[i].d);
            for (int j = 0; j < LM_QK8_0; j++) dst[j] = (float)b[i].qs[j] * d;
        }
        break;
    }
    case LM_TYPE_Q8_1: {
        const struct lm__block_q8_1 *b = src;
        for (int64_t i = 0; i < n / LM_QK8_1; i++, dst += LM_QK8_1) {
            const float d = lm_f16_to_f32(b[i].d);
            for (int j = 0; j < LM_QK8_1; j++) dst[j] = (float)b[i].qs[j] * d;
        }
        break;
    }
    case LM_TYPE_Q4_K: lm__dequantize_q4_K(src, dst, n); break;
    case LM_TYPE_Q5_K: lm__dequantize_q5_K(src, dst, n); break;
    case LM_TYPE_Q6_K: lm__dequantize_q6_K(src, dst, n); break;
    case LM_TYPE_Q8_K: lm__dequantize_q8_K(src, dst, n); break;
    default:
        break;
    }
}

/* Converts n f32 elements into type t with the reference quantisers. */
void lm_quantize_row(enum lm_type t, const float *src, void *dst, int64_t n)
{
    switch (t) {
    case LM_TYPE_F32:
        memcpy(dst, src, (size_t)n * 4);
        break;
    case LM_TYPE_F16: {
        uint16_t *d = dst;
        for (int64_t i = 0; i < n; i++) d[i] = lm_f32_to_f16(src[i]);
        break;
    }
    case LM_TYPE_BF16: {
        uint16_t *d = dst;
        for (int64_t i = 0; i < n; i++) d[i] = lm_f32_to_bf16(src[i]);
        break;
    }
    case LM_TYPE_Q4_0: lm__quantize_q4_0_ref(src, dst, n); break;
    case LM_TYPE_Q4_1: lm__quantize_q4_1_ref(src, dst, n); break;
    case LM_TYPE_Q8_0: lm__quantize_q8_0_ref(src, dst, n); break;
    case LM_TYPE_Q8_1: lm__quantize_q8_1_ref(src, dst, n); break;
    case LM_TYPE_Q4_K: lm__quantize_q4_K_ref(src, dst, n); break;
    case LM_TYPE_Q5_K: lm__quantize_q5_K_ref(src, dst, n); break;
    case LM_TYPE_Q6_K: lm__quantize_q6_K_ref(src, dst, n); break;
    case LM_TYPE_Q8_K: lm__quantize_q8_K_ref(src, dst, n); break;
    default:
        break;
    }
}
