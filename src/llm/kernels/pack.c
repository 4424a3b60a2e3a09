/*
** pack.c -- repacking 16 weight rows into the panel layout the SIMD kernels read.
**
** The layout is described in internal.h.  Packing runs once per 16 rows per matmul
** and is shared by every token of the batch, so it only has to be cheap next to n
** token dot products: the integer types are unpacked a dword (4 quants) at a time
** with mask-and-shift, never quant by quant.  Shared by the AVX2 and AVX-512 sets.
** Source rows come straight from the GGUF mapping: read with memcpy, any alignment.
*/
#include "llm/kernels/internal.h"
#include "llm/quant.h"

#include <string.h>

static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }

size_t pp_panel_block_bytes(int wtype) {
    switch (wtype) {
    case PP_GGML_Q8_0: return 8 * 64 + 64;
    case PP_GGML_Q4_0: return 4 * 64 + 64;            /* nibble pairs */
    case PP_GGML_Q4_K: return PP_PANEL_Q4K_QS + 8 * 64 + 4 * 64 + 2 * 64;
    case PP_GGML_Q5_K: return 64 * 64 + 8 * 64 + 4 * 64 + 2 * 64;
    case PP_GGML_Q6_K: return 64 * 64 + 16 * 64 + 8 * 64 + 64;
    case PP_GGML_F32: return 64;                      /* per k */
    case PP_GGML_F16: return 32;                      /* per k */
    case PP_GGML_BF16: return 64;                     /* per pair of k */
    default: return 0;
    }
}

size_t pp_panel_bytes(int wtype, size_t k) {
    switch (wtype) {
    case PP_GGML_Q8_0: case PP_GGML_Q4_0: return k / 32 * pp_panel_block_bytes(wtype);
    case PP_GGML_Q4_K: case PP_GGML_Q5_K: case PP_GGML_Q6_K:
        return k / 256 * pp_panel_block_bytes(wtype);
    case PP_GGML_F32: return k * 64;
    case PP_GGML_F16: return (k * 32 + 63) & ~(size_t)63;
    case PP_GGML_BF16: return (k + 1) / 2 * 64;
    default: return 0;
    }
}

/* Quad `qd` (4 quants) of row r within a panel block starting at `blk`. */
#define QUAD(blk, qd, r) ((uint32_t *)(void *)((blk) + ((size_t)(qd) * PP_PANEL + (r)) * 4))

static void pack_q8_0(const uint8_t *src, size_t nb, uint8_t *dst, int r) {
    size_t bb = pp_panel_block_bytes(PP_GGML_Q8_0);
    for (size_t b = 0; b < nb; b++, src += sizeof(pp_block_q8_0), dst += bb) {
        for (int i = 0; i < 8; i++) *QUAD(dst, i, r) = rd32(src + 2 + 4 * i) ^ 0x80808080u;
        ((float *)(void *)(dst + 512))[r] = pp_fp16_to_f32(rd16(src));
    }
}

/* Q4_0: the block's bytes as they are (nibble pairs): low nibbles are elements
** 4i..4i+3, high nibbles 16+4i..16+4i+3. */
static void pack_q4_0(const uint8_t *src, size_t nb, uint8_t *dst, int r) {
    size_t bb = pp_panel_block_bytes(PP_GGML_Q4_0);
    for (size_t b = 0; b < nb; b++, src += sizeof(pp_block_q4_0), dst += bb) {
        for (int i = 0; i < 4; i++) *QUAD(dst, i, r) = rd32(src + 2 + 4 * i);
        ((float *)(void *)(dst + 256))[r] = pp_fp16_to_f32(rd16(src));
    }
}

/* Q4_K: the quant bytes as they are: dword 8g+i of a row holds elements 64g+4i..+3
** in its low nibbles and 64g+32+4i..+3 in its high ones (sub-blocks 2g and 2g+1).
** Q5_K: one byte per quant in element order; element 64g+l is the low nibble of
** qs[32g+l], 64g+32+l the high one, and the fifth bits come from qh[l]. */
static void pack_q45_K(int t, const uint8_t *src, size_t nb, uint8_t *dst, int r) {
    size_t bb = pp_panel_block_bytes(t);
    size_t wb = t == PP_GGML_Q5_K ? sizeof(pp_block_q5_K) : sizeof(pp_block_q4_K);
    size_t qsb = t == PP_GGML_Q5_K ? 4096 : PP_PANEL_Q4K_QS;
    for (size_t b = 0; b < nb; b++, src += wb, dst += bb) {
        const uint8_t *scales = src + 4;
        if (t == PP_GGML_Q4_K) {
            for (int i = 0; i < 32; i++) *QUAD(dst, i, r) = rd32(src + 16 + 4 * i);
        } else {
            const uint8_t *qh = src + 16, *qs = src + 48;
            for (int g = 0; g < 4; g++)
                for (int i = 0; i < 8; i++) {
                    uint32_t x = rd32(qs + 32 * g + 4 * i);
                    uint32_t lo = x & 0x0f0f0f0fu, hi = (x >> 4) & 0x0f0f0f0fu;
                    uint32_t h = rd32(qh + 4 * i);
                    lo |= ((h >> (2 * g)) & 0x01010101u) << 4;
                    hi |= ((h >> (2 * g + 1)) & 0x01010101u) << 4;
                    *QUAD(dst, 16 * g + i, r) = lo;
                    *QUAD(dst, 16 * g + 8 + i, r) = hi;
                }
        }
        int32_t *sc = (int32_t *)(void *)(dst + qsb);
        int16_t *mn = (int16_t *)(void *)(dst + qsb + 512);
        float *d = (float *)(void *)(dst + qsb + 512 + 256);
        for (int j = 0; j < 8; j++) {
            uint8_t s, m;
            pp_get_scale_min_k4(j, scales, &s, &m);
            sc[j * PP_PANEL + r] = s;
            mn[((j / 2) * PP_PANEL + r) * 2 + (j & 1)] = m;
        }
        d[r] = pp_fp16_to_f32(rd16(src));
        d[PP_PANEL + r] = pp_fp16_to_f32(rd16(src + 2));
    }
}

/* Q6_K: half h, quad i covers l = 4i..4i+3 of the four 32-runs (see ref.c). */
static void pack_q6_K(const uint8_t *src, size_t nb, uint8_t *dst, int r) {
    size_t bb = pp_panel_block_bytes(PP_GGML_Q6_K);
    for (size_t b = 0; b < nb; b++, src += sizeof(pp_block_q6_K), dst += bb) {
        for (int h = 0; h < 2; h++)
            for (int i = 0; i < 8; i++) {
                uint32_t A = rd32(src + 64 * h + 4 * i), B = rd32(src + 64 * h + 32 + 4 * i);
                uint32_t H = rd32(src + 128 + 32 * h + 4 * i);
                const uint32_t m4 = 0x0f0f0f0fu, m2 = 0x03030303u;
                *QUAD(dst, 32 * h + i, r) = (A & m4) | ((H & m2) << 4);
                *QUAD(dst, 32 * h + 8 + i, r) = (B & m4) | (((H >> 2) & m2) << 4);
                *QUAD(dst, 32 * h + 16 + i, r) = ((A >> 4) & m4) | (((H >> 4) & m2) << 4);
                *QUAD(dst, 32 * h + 24 + i, r) = ((B >> 4) & m4) | (((H >> 6) & m2) << 4);
            }
        int32_t *sc = (int32_t *)(void *)(dst + 4096);
        int16_t *mn = (int16_t *)(void *)(dst + 4096 + 1024);
        float *d = (float *)(void *)(dst + 4096 + 1024 + 512);
        for (int s = 0; s < 16; s++) {
            int v = (int8_t)src[192 + s];
            sc[s * PP_PANEL + r] = v;
            mn[((s / 2) * PP_PANEL + r) * 2 + (s & 1)] = (int16_t)(32 * v);
        }
        d[r] = pp_fp16_to_f32(rd16(src + 208));
    }
}

void pp_pack_panel(int wtype, const void *const rows[PP_PANEL], size_t k, void *panel) {
    uint8_t *dst = panel;
    int any_null = 0;
    for (int r = 0; r < PP_PANEL; r++) any_null |= rows[r] == NULL;
    if (any_null) memset(panel, 0, pp_panel_bytes(wtype, k));
    for (int r = 0; r < PP_PANEL; r++) {
        const uint8_t *src = rows[r];
        if (!src) continue;
        switch (wtype) {
        case PP_GGML_Q8_0: pack_q8_0(src, k / 32, dst, r); break;
        case PP_GGML_Q4_0: pack_q4_0(src, k / 32, dst, r); break;
        case PP_GGML_Q4_K: case PP_GGML_Q5_K: pack_q45_K(wtype, src, k / 256, dst, r); break;
        case PP_GGML_Q6_K: pack_q6_K(src, k / 256, dst, r); break;
        case PP_GGML_F32: {
            float *o = (float *)(void *)dst;
            for (size_t j = 0; j < k; j++) memcpy(&o[j * PP_PANEL + r], src + 4 * j, 4);
            break;
        }
        case PP_GGML_F16: {
            uint16_t *o = (uint16_t *)(void *)dst;
            for (size_t j = 0; j < k; j++) o[j * PP_PANEL + r] = rd16(src + 2 * j);
            break;
        }
        case PP_GGML_BF16: {
            uint16_t *o = (uint16_t *)(void *)dst;
            for (size_t j = 0; j < k; j++) o[(j / 2 * PP_PANEL + r) * 2 + (j & 1)] = rd16(src + 2 * j);
            break;
        }
        default: break;
        }
    }
}
