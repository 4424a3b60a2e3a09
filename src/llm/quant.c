/*
** quant.c -- scalar reference (de)quantization for the ggml formats parapet reads.
**
** See quant.h for the contract.  Each block is memcpy'd into its struct (ggml_types.h)
** before use and built in a local struct before being copied out, so callers may pass
** unaligned pointers (a GGUF opened from memory, a fuzzer's buffer).  Host byte order
** must be little endian, as in ggml itself.
**
** Formats (x = dequantized value; see docs/guard-models-and-gguf.md B):
**   Q8_0  x = d*q                       q int8, 32 per block
**   Q4_0  x = d*(q-8)                   low nibbles = elements 0..15, high = 16..31
**   Q4_1  x = d*q + m
**   Q5_0  x = d*(q-16)                  fifth bit j from the u32 qh
**   Q5_1  x = d*q + m
**   Q4_K  x = d*sc_j*q - dmin*m_j       8 sub-blocks of 32, 6-bit sc/m packed in 12 bytes
**   Q5_K  as Q4_K with a fifth bit from qh
**   Q6_K  x = d*sc_i*(q-32)             16 sub-blocks of 16, int8 sc, d stored last
*/
#include "llm/quant.h"
#include <math.h>
#include <string.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "quant.c assumes a little-endian host, as ggml does"
#endif

/* ------------------------------------------------------------ fp16, bf16 ---- */

float pp_fp16_to_f32(uint16_t h) {
    uint32_t s = (uint32_t)(h & 0x8000) << 16, e = (h >> 10) & 0x1f, m = h & 0x3ff, bits;
    if (e == 0) {
        float f = (float)m * 0x1p-24f;   /* zero or subnormal: m * 2^-24, exact */
        return s ? -f : f;
    }
    if (e == 31) bits = s | 0x7f800000u | (m << 13);
    else bits = s | ((e + 112) << 23) | (m << 13);
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

uint16_t pp_f32_to_fp16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint16_t s = (uint16_t)((x >> 16) & 0x8000);
    uint32_t ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) return (uint16_t)(s | 0x7e00 | ((ax >> 13) & 0x3ff)); /* NaN */
    if (ax >= 0x477ff000u) return (uint16_t)(s | 0x7c00);   /* >= 65520 rounds to inf */
    if (ax < 0x38800000u) {                                  /* below 2^-14: subnormal */
        float a;
        memcpy(&a, &ax, 4);
        return (uint16_t)(s | (uint16_t)lrintf(a * 0x1p24f)); /* scaling is exact */
    }
    uint32_t h = ((ax >> 23) - 112) << 10 | ((ax & 0x7fffff) >> 13);
    uint32_t rem = ax & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) h++;  /* carries into the exponent */
    return (uint16_t)(s | h);
}

float pp_bf16_to_f32(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

uint16_t pp_f32_to_bf16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40); /* quiet NaN */
    return (uint16_t)((x + 0x7fffu + ((x >> 16) & 1)) >> 16);
}

#define H2F(h) pp_fp16_to_f32(h)

void pp_get_scale_min_k4(int j, const uint8_t *q, uint8_t *sc, uint8_t *m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (uint8_t)((q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

/* -------------------------------------------------------- dequantization ---- */

void pp_dequantize_row_q8_0(const void *src, float *y, int64_t n) {
    const uint8_t *p = src;
    for (int64_t i = 0; i < n / 32; i++, p += sizeof(pp_block_q8_0)) {
        pp_block_q8_0 b;
        memcpy(&b, p, sizeof b);
        float d = H2F(b.d);
        for (int j = 0; j < 32; j++) *y++ = d * b.qs[j];
    }
}

void pp_dequantize_row_q4_0(const void *src, float *y, int64_t n) {
    const uint8_t *p = src;
    for (int64_t i = 0; i < n / 32; i++, p += sizeof(pp_block_q4_0), y += 32) {
        pp_block_q4_0 b;
        memcpy(&b, p, sizeof b);
        float d = H2F(b.d);
        for (int j = 0; j < 16; j++) {
            y[j] = d * ((b.qs[j] & 15) - 8);
            y[j + 16] = d * ((b.qs[j] >> 4) - 8);
        }
    }
}

static void dequantize_row_q4_1(const void *src, float *y, int64_t n) {
    const uint8_t *p = src;
    for (int64_t i = 0; i < n / 32; i++, p += sizeof(pp_block_q4_1), y += 32) {
        pp_block_q4_1 b;
        memcpy(&b, p, sizeof b);
        float d = H2F(b.d), m = H2F(b.m);
        for (int j = 0; j < 16; j++) {
            y[j] = d * (b.qs[j] & 15) + m;
            y[j + 16] = d * (b.qs[j] >> 4) + m;
        }
    }
}

static void dequantize_row_q5_0(const void *src, float *y, int64_t n) {
    const uint8_t *p = src;
    for (int64_t i = 0; i < n / 32; i++, p += sizeof(pp_block_q5_0), y += 32) {
        pp_block_q5_0 b;
        memcpy(&b, p, sizeof b);
        uint32_t qh;
        memcpy(&qh, b.qh, 4);
        float d = H2F(b.d);
        for (int j = 0; j < 16; j++) {
            int lo = (b.qs[j] & 15) | (int)((qh >> j) & 1) << 4;
            int hi = (b.qs[j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4;
            y[j] = d * (lo - 16);
            y[j + 16] = d * (hi - 16);
        }
    }
}

static void dequantize_row_q5_1(const void *src, float *y, int64_t n) {
    const uint8_t *p = src;
    for (int64_t i = 0; i < n / 32; i++, p += sizeof(pp_block_q5_1), y += 32) {
        pp_block_q5_1 b;
        memcpy(&b, p, sizeof b);
        uint32_t qh;
        memcpy(&qh, b.qh, 4);
        float d = H2F(b.d), m = H2F(b.m);
        for (int j = 0; j < 16; j++) {
            int lo = (b.qs[j] & 15) | (int)((qh >> j) & 1) << 4;
            int hi = (b.qs[j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4;
            y[j] = d * lo + m;
            y[j + 16] = d * hi + m;
        }
    }
}

void pp_dequantize_row_q4_K(const void *src, float *y, int64_t n) {
    const uint8_t *p = src;
    for (int64_t i = 0; i < n / PP_QK_K; i++, p += sizeof(pp_block_q4_K)) {
        pp_block_q4_K b;
        memcpy(&b, p, sizeof b);
        float d = H2F(b.d), dmin = H2F(b.dmin);
        const uint8_t *q = b.qs;
        for (int g = 0; g < 4; g++, q += 32) {
            uint8_t sc, m;
            pp_get_scale_min_k4(2 * g, b.scales, &sc, &m);
            float d1 = d * sc, m1 = dmin * m;
            pp_get_scale_min_k4(2 * g + 1, b.scales, &sc, &m);
            float d2 = d * sc, m2 = dmin * m;
            for (int l = 0; l < 32; l++) *y++ = d1 * (q[l] & 15) - m1;
            for (int l = 0; l < 32; l++) *y++ = d2 * (q[l] >> 4) - m2;
        }
    }
}

void pp_dequantize_row_q5_K(const void *src, float *y, int64_t n) {
    const uint8_t *p = src;
    for (int64_t i = 0; i < n / PP_QK_K; i++, p += sizeof(pp_block_q5_K)) {
        pp_block_q5_K b;
        memcpy(&b, p, sizeof b);
        float d = H2F(b.d), dmin = H2F(b.dmin);
        const uint8_t *q = b.qs;
        for (int g = 0; g < 4; g++, q += 32) {
            uint8_t sc, m;
            pp_get_scale_min_k4(2 * g, b.scales, &sc, &m);
            float d1 = d * sc, m1 = dmin * m;
            pp_get_scale_min_k4(2 * g + 1, b.scales, &sc, &m);
            float d2 = d * sc, m2 = dmin * m;
            uint8_t u1 = (uint8_t)(1u << (2 * g)), u2 = (uint8_t)(2u << (2 * g));
            for (int l = 0; l < 32; l++) *y++ = d1 * ((q[l] & 15) + (b.qh[l] & u1 ? 16 : 0)) - m1;
            for (int l = 0; l < 32; l++) *y++ = d2 * ((q[l] >> 4) + (b.qh[l] & u2 ? 16 : 0)) - m2;
        }
    }
}

void pp_dequantize_row_q6_K(const void *src, float *y, int64_t n) {
    const uint8_t *p = src;
    for (int64_t i = 0; i < n / PP_QK_K; i++, p += sizeof(pp_block_q6_K)) {
        pp_block_q6_K b;
        memcpy(&b, p, sizeof b);
        float d = H2F(b.d);
        for (int h = 0; h < 2; h++, y += 128) {
            const uint8_t *ql = b.ql + 64 * h, *qh = b.qh + 32 * h;
            const int8_t *sc = b.scales + 8 * h;
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                int q1 = ((ql[l] & 15) | ((qh[l] >> 0 & 3) << 4)) - 32;
                int q2 = ((ql[l + 32] & 15) | ((qh[l] >> 2 & 3) << 4)) - 32;
                int q3 = ((ql[l] >> 4) | ((qh[l] >> 4 & 3) << 4)) - 32;
                int q4 = ((ql[l + 32] >> 4) | ((qh[l] >> 6 & 3) << 4)) - 32;
                y[l] = d * sc[is + 0] * q1;
                y[l + 32] = d * sc[is + 2] * q2;
                y[l + 64] = d * sc[is + 4] * q3;
                y[l + 96] = d * sc[is + 6] * q4;
            }
        }
    }
}

/* ---------------------------------------------------------- quantization ---- */

static int clampi(long v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : (int)v; }

void pp_quantize_row_q8_0(const float *x, void *dst, int64_t n) {
    uint8_t *p = dst;
    for (int64_t i = 0; i < n / 32; i++, x += 32, p += sizeof(pp_block_q8_0)) {
        pp_block_q8_0 b;
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[j]));
        float d = amax / 127, id = d ? 1 / d : 0;
        b.d = pp_f32_to_fp16(d);
        for (int j = 0; j < 32; j++) b.qs[j] = (int8_t)clampi(lrintf(x[j] * id), -127, 127);
        memcpy(p, &b, sizeof b);
    }
}

/* ggml's reference: the value of largest magnitude maps to -8 exactly. */
void pp_quantize_row_q4_0(const float *x, void *dst, int64_t n) {
    uint8_t *p = dst;
    for (int64_t i = 0; i < n / 32; i++, x += 32, p += sizeof(pp_block_q4_0)) {
        pp_block_q4_0 b;
        float amax = 0, max = 0;
        for (int j = 0; j < 32; j++)
            if (fabsf(x[j]) > amax) { amax = fabsf(x[j]); max = x[j]; }
        float d = max / -8, id = d ? 1 / d : 0;
        b.d = pp_f32_to_fp16(d);
        for (int j = 0; j < 16; j++) {
            int lo = clampi((long)floorf(x[j] * id + 8.5f), 0, 15);
            int hi = clampi((long)floorf(x[j + 16] * id + 8.5f), 0, 15);
            b.qs[j] = (uint8_t)(lo | hi << 4);
        }
        memcpy(p, &b, sizeof b);
    }
}

/* Packs 8 six-bit scales and mins into the 12-byte layout of get_scale_min_k4. */
static void pack_scales_k4(const uint8_t *sc, const uint8_t *m, uint8_t *q) {
    for (int j = 0; j < 4; j++) {
        q[j] = (uint8_t)((sc[j] & 63) | (sc[j + 4] >> 4) << 6);
        q[j + 4] = (uint8_t)((m[j] & 63) | (m[j + 4] >> 4) << 6);
        q[j + 8] = (uint8_t)((sc[j + 4] & 15) | (m[j + 4] & 15) << 4);
    }
}

/* Shared by Q4_K (nmax 15) and Q5_K (nmax 31): per 32-value sub-block an affine map
** [-m, -m + nmax*s] covering [min(0, lo), hi]; the 6-bit scale is rounded up so the
** range is never clipped.  Writes d, dmin, scales and the levels L[256]. */
static void quantize_k_affine(const float *x, int nmax, uint16_t *d16, uint16_t *dmin16,
                              uint8_t *scales, uint8_t *L) {
    float scale[8], min[8], max_scale = 0, max_min = 0;
    for (int j = 0; j < 8; j++) {
        float lo = 0, hi = -INFINITY;
        for (int l = 0; l < 32; l++) {
            lo = fminf(lo, x[32 * j + l]);
            hi = fmaxf(hi, x[32 * j + l]);
        }
        if (hi < lo) hi = lo;
        scale[j] = (hi - lo) / nmax;
        min[j] = -lo;
        max_scale = fmaxf(max_scale, scale[j]);
        max_min = fmaxf(max_min, min[j]);
    }
    *d16 = pp_f32_to_fp16(max_scale / 63);
    *dmin16 = pp_f32_to_fp16(max_min / 63);
    float d = H2F(*d16), dmin = H2F(*dmin16);
    uint8_t sc[8], m[8];
    for (int j = 0; j < 8; j++) {
        sc[j] = (uint8_t)(d > 0 ? clampi((long)ceilf(scale[j] / d - 1e-4f), 0, 63) : 0);
        m[j] = (uint8_t)(dmin > 0 ? clampi(lrintf(min[j] / dmin), 0, 63) : 0);
        float ed = d * sc[j], em = dmin * m[j];
        for (int l = 0; l < 32; l++)
            L[32 * j + l] = (uint8_t)(ed > 0 ? clampi(lrintf((x[32 * j + l] + em) / ed), 0, nmax) : 0);
    }
    pack_scales_k4(sc, m, scales);
}

void pp_quantize_row_q4_K(const float *x, void *dst, int64_t n) {
    uint8_t *p = dst;
    for (int64_t i = 0; i < n / PP_QK_K; i++, x += PP_QK_K, p += sizeof(pp_block_q4_K)) {
        pp_block_q4_K b;
        uint8_t L[PP_QK_K];
        quantize_k_affine(x, 15, &b.d, &b.dmin, b.scales, L);
        for (int g = 0; g < 4; g++)
            for (int l = 0; l < 32; l++)
                b.qs[32 * g + l] = (uint8_t)(L[64 * g + l] | L[64 * g + 32 + l] << 4);
        memcpy(p, &b, sizeof b);
    }
}

void pp_quantize_row_q5_K(const float *x, void *dst, int64_t n) {
    uint8_t *p = dst;
    for (int64_t i = 0; i < n / PP_QK_K; i++, x += PP_QK_K, p += sizeof(pp_block_q5_K)) {
        pp_block_q5_K b;
        uint8_t L[PP_QK_K];
        quantize_k_affine(x, 31, &b.d, &b.dmin, b.scales, L);
        memset(b.qh, 0, sizeof b.qh);
        for (int g = 0; g < 4; g++)
            for (int l = 0; l < 32; l++) {
                uint8_t a = L[64 * g + l], c = L[64 * g + 32 + l];
                b.qs[32 * g + l] = (uint8_t)((a & 15) | (c & 15) << 4);
                b.qh[l] |= (uint8_t)((a >> 4) << (2 * g) | (c >> 4) << (2 * g + 1));
            }
        memcpy(p, &b, sizeof b);
    }
}

/* Per 16-value sub-block, the value of largest magnitude maps to level -32; the 16
** sub-block scales are then quantized to int8 against one fp16 d. */
void pp_quantize_row_q6_K(const float *x, void *dst, int64_t n) {
    uint8_t *p = dst;
    for (int64_t i = 0; i < n / PP_QK_K; i++, x += PP_QK_K, p += sizeof(pp_block_q6_K)) {
        pp_block_q6_K b;
        float scale[16], amax_scale = 0;
        for (int s = 0; s < 16; s++) {
            float amax = 0, max = 0;
            for (int l = 0; l < 16; l++)
                if (fabsf(x[16 * s + l]) > amax) { amax = fabsf(x[16 * s + l]); max = x[16 * s + l]; }
            scale[s] = max / -32;
            amax_scale = fmaxf(amax_scale, fabsf(scale[s]));
        }
        b.d = pp_f32_to_fp16(amax_scale / 127);
        float d = H2F(b.d);
        uint8_t L[PP_QK_K];
        for (int s = 0; s < 16; s++) {
            b.scales[s] = (int8_t)(d > 0 ? clampi(lrintf(scale[s] / d), -128, 127) : 0);
            float ed = d * b.scales[s];
            for (int l = 0; l < 16; l++)
                L[16 * s + l] = (uint8_t)(ed != 0 ? clampi(lrintf(x[16 * s + l] / ed), -32, 31) + 32 : 32);
        }
        for (int h = 0; h < 2; h++)
            for (int l = 0; l < 32; l++) {
                const uint8_t *q = L + 128 * h;
                uint8_t q1 = q[l], q2 = q[l + 32], q3 = q[l + 64], q4 = q[l + 96];
                b.ql[64 * h + l] = (uint8_t)((q1 & 15) | (q3 & 15) << 4);
                b.ql[64 * h + l + 32] = (uint8_t)((q2 & 15) | (q4 & 15) << 4);
                b.qh[32 * h + l] = (uint8_t)((q1 >> 4) | (q2 >> 4) << 2 | (q3 >> 4) << 4 | (q4 >> 4) << 6);
            }
        memcpy(p, &b, sizeof b);
    }
}

/* ------------------------------------------------------------- dispatch ---- */

int pp_can_dequantize(uint32_t t) {
    switch (t) {
    case PP_GGML_F32: case PP_GGML_F16: case PP_GGML_BF16: case PP_GGML_Q4_0:
    case PP_GGML_Q4_1: case PP_GGML_Q5_0: case PP_GGML_Q5_1: case PP_GGML_Q8_0:
    case PP_GGML_Q4_K: case PP_GGML_Q5_K: case PP_GGML_Q6_K:
        return 1;
    default:
        return 0;
    }
}

int pp_can_quantize(uint32_t t) {
    switch (t) {
    case PP_GGML_F32: case PP_GGML_F16: case PP_GGML_BF16: case PP_GGML_Q4_0:
    case PP_GGML_Q8_0: case PP_GGML_Q4_K: case PP_GGML_Q5_K: case PP_GGML_Q6_K:
        return 1;
    default:
        return 0;
    }
}

static pp_status check_n(uint32_t t, int64_t n) {
    const pp_ggml_type_info *ti = pp_ggml_type_get(t);
    if (!ti || n < 0 || n % ti->blck) return PARAPET_ERR_ARG;
    return PARAPET_OK;
}

pp_status pp_dequantize_row(uint32_t t, const void *src, float *y, int64_t n) {
    if (!pp_can_dequantize(t)) return PARAPET_ERR_UNSUPPORTED;
    if (check_n(t, n)) return PARAPET_ERR_ARG;
    const uint8_t *p = src;
    switch (t) {
    case PP_GGML_F32: memcpy(y, p, (size_t)n * 4); break;
    case PP_GGML_F16:
        for (int64_t i = 0; i < n; i++) y[i] = H2F((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
        break;
    case PP_GGML_BF16:
        for (int64_t i = 0; i < n; i++) y[i] = pp_bf16_to_f32((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
        break;
    case PP_GGML_Q4_0: pp_dequantize_row_q4_0(p, y, n); break;
    case PP_GGML_Q4_1: dequantize_row_q4_1(p, y, n); break;
    case PP_GGML_Q5_0: dequantize_row_q5_0(p, y, n); break;
    case PP_GGML_Q5_1: dequantize_row_q5_1(p, y, n); break;
    case PP_GGML_Q8_0: pp_dequantize_row_q8_0(p, y, n); break;
    case PP_GGML_Q4_K: pp_dequantize_row_q4_K(p, y, n); break;
    case PP_GGML_Q5_K: pp_dequantize_row_q5_K(p, y, n); break;
    case PP_GGML_Q6_K: pp_dequantize_row_q6_K(p, y, n); break;
    }
    return PARAPET_OK;
}

pp_status pp_quantize_row(uint32_t t, const float *x, void *dst, int64_t n) {
    if (!pp_can_quantize(t)) return PARAPET_ERR_UNSUPPORTED;
    if (check_n(t, n)) return PARAPET_ERR_ARG;
    uint8_t *p = dst;
    switch (t) {
    case PP_GGML_F32: memcpy(p, x, (size_t)n * 4); break;
    case PP_GGML_F16:
        for (int64_t i = 0; i < n; i++) {
            uint16_t h = pp_f32_to_fp16(x[i]);
            p[2 * i] = (uint8_t)h;
            p[2 * i + 1] = (uint8_t)(h >> 8);
        }
        break;
    case PP_GGML_BF16:
        for (int64_t i = 0; i < n; i++) {
            uint16_t h = pp_f32_to_bf16(x[i]);
            p[2 * i] = (uint8_t)h;
            p[2 * i + 1] = (uint8_t)(h >> 8);
        }
        break;
    case PP_GGML_Q4_0: pp_quantize_row_q4_0(x, p, n); break;
    case PP_GGML_Q8_0: pp_quantize_row_q8_0(x, p, n); break;
    case PP_GGML_Q4_K: pp_quantize_row_q4_K(x, p, n); break;
    case PP_GGML_Q5_K: pp_quantize_row_q5_K(x, p, n); break;
    case PP_GGML_Q6_K: pp_quantize_row_q6_K(x, p, n); break;
    }
    return PARAPET_OK;
}
