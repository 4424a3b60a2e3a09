/*
** ref.c -- the portable scalar reference for every matmul kernel.
**
** This file defines what the kernels compute (kernels.h gives the table): how
** activations are quantized, which integers each weight block contributes, and the
** order in which they are accumulated in floats.  The SIMD files reproduce the same
** integers and the same fused multiply-adds in the same order, so for the integer
** weight types their output equals this file's bit for bit; the tests check that.
** It is also the kernel set used on CPUs without AVX2, so it is written to be
** correct first and tolerable in speed second.
**
** Blocks are read with memcpy into the ggml_types.h structs, so no pointer needs to
** be aligned.  Little-endian host, as ggml.
*/
#include "llm/kernels/internal.h"
#include "llm/quant.h"

#include <math.h>
#include <string.h>

/* ---------------------------------------------------- activation quantizing ---- */

/* Q8_0 as llama.cpp's x86 quantize_row_q8_0: id = 127/amax, q = round-to-even(x*id),
** d = fp16(amax/127) (the dot products use the fp16-rounded d). */
void pp_quantize_act_q8_0(const float *x, size_t k, pp_act_q8_0 *dst) {
    for (size_t b = 0; b < k / 32; b++, x += 32) {
        float amax = 0.0f;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[j]));
        float d = amax / 127.0f, id = amax != 0.0f ? 127.0f / amax : 0.0f;
        pp_act_q8_0 *o = &dst[b];
        o->d = pp_fp16_to_f32(pp_f32_to_fp16(d));
        int32_t sum = 0;
        for (int j = 0; j < 32; j++) {
            int v = (int)nearbyintf(x[j] * id);
            o->qs[j] = (int8_t)v;
            sum += v;
        }
        o->sum = sum;
    }
}

/* Q8_K as ggml's quantize_row_q8_K_ref: the element of largest magnitude maps to
** -127 (iscale = -127/max), q = min(127, round-to-even(x*iscale)), d = 1/iscale. */
void pp_quantize_act_q8_K(const float *x, size_t k, pp_act_q8_K *dst) {
    for (size_t b = 0; b < k / 256; b++, x += 256) {
        pp_act_q8_K *o = &dst[b];
        float amax = 0.0f, max = 0.0f;
        for (int j = 0; j < 256; j++) {
            float ax = fabsf(x[j]);
            if (ax > amax) { amax = ax; max = x[j]; }
        }
        if (amax == 0.0f) {
            memset(o, 0, sizeof *o);
            continue;
        }
        float iscale = -127.0f / max;
        for (int j = 0; j < 256; j++) {
            int v = (int)nearbyintf(iscale * x[j]);
            o->qs[j] = (int8_t)(v > 127 ? 127 : v);
        }
        for (int s = 0; s < 16; s++) {
            int sum = 0;
            for (int j = 0; j < 16; j++) sum += o->qs[16 * s + j];
            o->bsum16[s] = (int16_t)sum;
        }
        for (int s = 0; s < 8; s++) o->bsum32[s] = (int16_t)(o->bsum16[2 * s] + o->bsum16[2 * s + 1]);
        o->d = 1.0f / iscale;
    }
}

void pp_quantize_act_bf16(const float *x, size_t k, uint16_t *dst) {
    for (size_t j = 0; j < k; j++) dst[j] = pp_f32_to_bf16(x[j]);
    if (k & 1) dst[k] = 0;
}

int pp_act_type(int wtype) {
    switch (wtype) {
    case PP_GGML_Q8_0: case PP_GGML_Q4_0: return PP_GGML_Q8_0;
    case PP_GGML_Q4_K: case PP_GGML_Q5_K: case PP_GGML_Q6_K: return PP_GGML_Q8_K;
    case PP_GGML_BF16: return PP_GGML_BF16;
    default: return PP_GGML_F32;
    }
}

size_t pp_act_row_bytes(int wtype, size_t k) {
    switch (pp_act_type(wtype)) {
    case PP_GGML_Q8_0: return k / 32 * sizeof(pp_act_q8_0);
    case PP_GGML_Q8_K: return k / 256 * sizeof(pp_act_q8_K);
    case PP_GGML_BF16: return (k + 1) / 2 * 4;   /* whole pairs; an odd k ends in a zero */
    default: return 0;
    }
}

/* ------------------------------------------------------- unpacking K blocks ---- */

/* One K-quant block as unsigned quants q[256], sub-block scales sc[] and min terms
** mn[] (the integer multiplying that sub-block's activation sum), plus d and dmin.
** Returns the number of sub-blocks (8 of 32, or 16 of 16 for Q6_K). */
static int unpack_k(int t, const uint8_t *p, uint8_t q[256], int sc[16], int mn[16],
                    float *d, float *dmin) {
    if (t == PP_GGML_Q6_K) {
        pp_block_q6_K b;
        memcpy(&b, p, sizeof b);
        for (int h = 0; h < 2; h++)
            for (int l = 0; l < 32; l++) {
                const uint8_t *ql = b.ql + 64 * h, *qh = b.qh + 32 * h;
                uint8_t *y = q + 128 * h;
                y[l] = (uint8_t)((ql[l] & 15) | ((qh[l] & 3) << 4));
                y[l + 32] = (uint8_t)((ql[l + 32] & 15) | (((qh[l] >> 2) & 3) << 4));
                y[l + 64] = (uint8_t)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4));
                y[l + 96] = (uint8_t)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4));
            }
        for (int s = 0; s < 16; s++) { sc[s] = b.scales[s]; mn[s] = 32 * b.scales[s]; }
        *d = *dmin = pp_fp16_to_f32(b.d);
        return 16;
    }
    const uint8_t *qs, *scales, *qh = NULL;
    uint16_t hd, hdmin;
    pp_block_q5_K b5;
    pp_block_q4_K b4;
    if (t == PP_GGML_Q5_K) {
        memcpy(&b5, p, sizeof b5);
        qs = b5.qs; scales = b5.scales; qh = b5.qh; hd = b5.d; hdmin = b5.dmin;
    } else {
        memcpy(&b4, p, sizeof b4);
        qs = b4.qs; scales = b4.scales; hd = b4.d; hdmin = b4.dmin;
    }
    for (int g = 0; g < 4; g++)
        for (int l = 0; l < 32; l++) {
            int lo = qs[32 * g + l] & 15, hi = qs[32 * g + l] >> 4;
            if (qh) {
                lo |= ((qh[l] >> (2 * g)) & 1) << 4;
                hi |= ((qh[l] >> (2 * g + 1)) & 1) << 4;
            }
            q[64 * g + l] = (uint8_t)lo;
            q[64 * g + 32 + l] = (uint8_t)hi;
        }
    for (int j = 0; j < 8; j++) {
        uint8_t s, m;
        pp_get_scale_min_k4(j, scales, &s, &m);
        sc[j] = s;
        mn[j] = m;
    }
    *d = pp_fp16_to_f32(hd);
    *dmin = pp_fp16_to_f32(hdmin);
    return 8;
}

/* ------------------------------------------------------------ dot products ---- */

static float dot_q8_0(const uint8_t *w, const pp_act_q8_0 *a, size_t nb) {
    float y = 0.0f;
    for (size_t b = 0; b < nb; b++, w += sizeof(pp_block_q8_0)) {
        pp_block_q8_0 blk;
        memcpy(&blk, w, sizeof blk);
        int32_t isum = 0;
        for (int j = 0; j < 32; j++) isum += blk.qs[j] * a[b].qs[j];
        y = fmaf((float)isum, pp_fp16_to_f32(blk.d) * a[b].d, y);
    }
    return y;
}

static float dot_q4_0(const uint8_t *w, const pp_act_q8_0 *a, size_t nb) {
    float y = 0.0f;
    for (size_t b = 0; b < nb; b++, w += sizeof(pp_block_q4_0)) {
        pp_block_q4_0 blk;
        memcpy(&blk, w, sizeof blk);
        int32_t isum = 0;
        for (int j = 0; j < 16; j++)
            isum += ((blk.qs[j] & 15) - 8) * a[b].qs[j] + ((blk.qs[j] >> 4) - 8) * a[b].qs[j + 16];
        y = fmaf((float)isum, pp_fp16_to_f32(blk.d) * a[b].d, y);
    }
    return y;
}

/* Q4_K / Q5_K / Q6_K against Q8_K. */
static float dot_k(int t, const uint8_t *w, size_t wb, const pp_act_q8_K *a, size_t nb) {
    float y = 0.0f;
    for (size_t b = 0; b < nb; b++, w += wb) {
        uint8_t q[256];
        int sc[16], mn[16];
        float d, dmin;
        int ns = unpack_k(t, w, q, sc, mn, &d, &dmin), len = 256 / ns;
        int32_t isum = 0, imin = 0;
        for (int s = 0; s < ns; s++) {
            int32_t dot = 0;
            for (int j = 0; j < len; j++) dot += q[len * s + j] * a[b].qs[len * s + j];
            isum += sc[s] * dot;
            imin += mn[s] * (ns == 8 ? a[b].bsum32[s] : a[b].bsum16[s]);
        }
        if (t == PP_GGML_Q6_K) {
            y = fmaf((float)(isum - imin), d * a[b].d, y);
        } else {
            y = fmaf((float)isum, d * a[b].d, y);
            y = fmaf(-(float)imin, dmin * a[b].d, y);
        }
    }
    return y;
}

float pp_ref_dot(int wtype, const void *wrow, const void *arow, size_t k) {
    const uint8_t *w = wrow;
    switch (wtype) {
    case PP_GGML_Q8_0: return dot_q8_0(w, arow, k / 32);
    case PP_GGML_Q4_0: return dot_q4_0(w, arow, k / 32);
    case PP_GGML_Q4_K: return dot_k(wtype, w, sizeof(pp_block_q4_K), arow, k / 256);
    case PP_GGML_Q5_K: return dot_k(wtype, w, sizeof(pp_block_q5_K), arow, k / 256);
    case PP_GGML_Q6_K: return dot_k(wtype, w, sizeof(pp_block_q6_K), arow, k / 256);
    case PP_GGML_F32: {
        const float *x = arow;
        float y = 0.0f, v;
        for (size_t j = 0; j < k; j++) { memcpy(&v, w + 4 * j, 4); y += v * x[j]; }
        return y;
    }
    case PP_GGML_F16: {
        const float *x = arow;
        float y = 0.0f;
        uint16_t h;
        for (size_t j = 0; j < k; j++) { memcpy(&h, w + 2 * j, 2); y += pp_fp16_to_f32(h) * x[j]; }
        return y;
    }
    case PP_GGML_BF16: {
        const uint16_t *x = arow;
        float y = 0.0f;
        uint16_t h;
        for (size_t j = 0; j < k; j++) {
            memcpy(&h, w + 2 * j, 2);
            y += pp_bf16_to_f32(h) * pp_bf16_to_f32(x[j]);
        }
        return y;
    }
    default: return 0.0f;
    }
}
