/*
** avx512.c -- AVX-512 VNNI kernels: the prefill path on Zen 4 / Ice Lake and later.
**
** Compiled without global -m flags: every function carries a target attribute, and
** dispatch.c calls into this file only after cpu.h has confirmed AVX-512
** F/BW/VL/VNNI (and BF16 for the bf16 kernel) are usable, so the library still runs
** on any x86-64.
**
** The panel kernels (layout in internal.h) keep 16 weight rows in the 16 lanes of a
** zmm and a tile of NT tokens in registers.  For the integer types one zmm load of
** weights (4 k-positions x 16 rows, unsigned) feeds NT vpdpbusd with the token's 4
** activation bytes broadcast as a dword, so each weight byte is loaded once per NT
** tokens and the scale math (convert, multiply, fma) is paid once per block per 16
** rows.  The integer sums and the per-block fused multiply-adds are exactly those of
** ref.c, so results are bit-identical to the reference.
**
** Unsigned-weight offsets (Q8_0 stores q+128, Q4_0 nibbles are q+8, Q6_K q+32) are
** undone with the activation sums: Q8_0/Q4_0 start the block accumulator at
** -off*sum(a); the K types subtract sum_s mn_s * bsum_s, computed with vpdpwssd.
*/
#include "llm/kernels/internal.h"
#include "llm/ops.h"
#include "llm/cpu.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>
#include <string.h>

#define TGT __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))
#define TGT_BF16 __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx512bf16")))
#define INLINE static inline __attribute__((always_inline))

#define NT 8   /* tokens per register tile */

static inline int32_t ld32(const void *p) { int32_t v; memcpy(&v, p, 4); return v; }

/* ------------------------------------------------------------ Q8_0, Q4_0 ---- */

/* off 128: Q8_0 (one byte per quant); off 8: Q4_0 (nibble pairs, 4 dwords a block) */
TGT INLINE void tile_q8(const uint8_t *panel, size_t nb, const uint8_t *act, size_t as,
                        const int nt, const int off, float *Y, size_t ldy, __mmask16 mask) {
    const size_t qb = off == 8 ? 4 * 64 : 8 * 64;
    const __m512i m4 = _mm512_set1_epi8(0x0f);
    __m512 f[NT];
#pragma GCC unroll 8
    for (int t = 0; t < nt; t++) f[t] = _mm512_setzero_ps();
    for (size_t b = 0; b < nb; b++) {
        const uint8_t *pb = panel + b * (qb + 64);
        const pp_act_q8_0 *a[NT];
        __m512i acc[NT];
#pragma GCC unroll 8
        for (int t = 0; t < nt; t++) {
            a[t] = (const pp_act_q8_0 *)(const void *)(act + t * as) + b;
            acc[t] = _mm512_set1_epi32(-off * a[t]->sum);
        }
#pragma GCC unroll 8
        for (int i = 0; i < 8; i++) {
            __m512i w;
            if (off == 8) {
                w = _mm512_load_si512((const void *)(pb + 64 * (i & 3)));
                w = _mm512_and_si512(i < 4 ? w : _mm512_srli_epi32(w, 4), m4);
            } else {
                w = _mm512_load_si512((const void *)(pb + 64 * i));
            }
#pragma GCC unroll 8
            for (int t = 0; t < nt; t++)
                acc[t] = _mm512_dpbusd_epi32(acc[t], w, _mm512_set1_epi32(ld32(a[t]->qs + 4 * i)));
        }
        __m512 dw = _mm512_load_ps((const void *)(pb + qb));
#pragma GCC unroll 8
        for (int t = 0; t < nt; t++)
            f[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[t]), _mm512_mul_ps(dw, _mm512_set1_ps(a[t]->d)), f[t]);
    }
#pragma GCC unroll 8
    for (int t = 0; t < nt; t++) _mm512_mask_storeu_ps(Y + t * ldy, mask, f[t]);
}

#define DEFINE_PANEL(name, tile, ...)                                                         \
    TGT static void name(const void *panel, size_t k, const void *act, size_t as, size_t n,   \
                         float *Y, size_t ldy, int nr) {                                       \
        __mmask16 mask = (__mmask16)((1u << nr) - 1);                                          \
        const uint8_t *ac = act;                                                               \
        size_t t = 0;                                                                          \
        for (; t + NT <= n; t += NT) tile(panel, k, ac + t * as, as, NT, __VA_ARGS__, Y + t * ldy, ldy, mask); \
        switch (n - t) {                                                                       \
        case 7: tile(panel, k, ac + t * as, as, 7, __VA_ARGS__, Y + t * ldy, ldy, mask); break; \
        case 6: tile(panel, k, ac + t * as, as, 6, __VA_ARGS__, Y + t * ldy, ldy, mask); break; \
        case 5: tile(panel, k, ac + t * as, as, 5, __VA_ARGS__, Y + t * ldy, ldy, mask); break; \
        case 4: tile(panel, k, ac + t * as, as, 4, __VA_ARGS__, Y + t * ldy, ldy, mask); break; \
        case 3: tile(panel, k, ac + t * as, as, 3, __VA_ARGS__, Y + t * ldy, ldy, mask); break; \
        case 2: tile(panel, k, ac + t * as, as, 2, __VA_ARGS__, Y + t * ldy, ldy, mask); break; \
        case 1: tile(panel, k, ac + t * as, as, 1, __VA_ARGS__, Y + t * ldy, ldy, mask); break; \
        default: break;                                                                        \
        }                                                                                      \
    }

TGT INLINE void tile_q8_0(const uint8_t *p, size_t k, const uint8_t *a, size_t as, const int nt,
                          int unused, float *Y, size_t ldy, __mmask16 m) {
    tile_q8(p, k / 32, a, as, nt, 128, Y, ldy, m);
}
TGT INLINE void tile_q4_0(const uint8_t *p, size_t k, const uint8_t *a, size_t as, const int nt,
                          int unused, float *Y, size_t ldy, __mmask16 m) {
    tile_q8(p, k / 32, a, as, nt, 8, Y, ldy, m);
}
DEFINE_PANEL(panel_q8_0, tile_q8_0, 0)
DEFINE_PANEL(panel_q4_0, tile_q4_0, 0)

/* ------------------------------------------------------ Q4_K, Q5_K, Q6_K ---- */

/* kind 4 (Q4_K: nibble pairs), 5 (Q5_K) or 6 (Q6_K).  ns = 8 (Q4_K/Q5_K, sub-blocks
** of 32, separate dmin) or 16 (Q6_K, sub-blocks of 16, offset folded into the integer
** sum). */
TGT INLINE void tile_k(const uint8_t *panel, size_t k, const uint8_t *act, size_t as,
                       const int nt, const int kind, float *Y, size_t ldy, __mmask16 mask) {
    const int ns = kind == 6 ? 16 : 8;
    const size_t qsb = kind == 4 ? PP_PANEL_Q4K_QS : 4096;
    const size_t bb = qsb + (size_t)ns * 64 + (size_t)ns / 2 * 64 + (ns == 8 ? 2 * 64 : 64);
    const int qps = 64 / ns;   /* quads per sub-block */
    const __m512i m4 = _mm512_set1_epi8(0x0f);
    __m512 f[NT];
#pragma GCC unroll 8
    for (int t = 0; t < nt; t++) f[t] = _mm512_setzero_ps();
    for (size_t b = 0; b < k / 256; b++) {
        const uint8_t *pb = panel + b * bb;
        const int32_t *sc = (const int32_t *)(const void *)(pb + qsb);
        const uint8_t *mn = pb + qsb + (size_t)ns * 64;
        const float *dv = (const float *)(const void *)(mn + (size_t)ns / 2 * 64);
        const pp_act_q8_K *a[NT];
        __m512i isum[NT];
#pragma GCC unroll 8
        for (int t = 0; t < nt; t++) {
            a[t] = (const pp_act_q8_K *)(const void *)(act + t * as) + b;
            isum[t] = _mm512_setzero_si512();
        }
        for (int s = 0; s < ns; s++) {
            __m512i acc[NT];
#pragma GCC unroll 8
            for (int t = 0; t < nt; t++) acc[t] = _mm512_setzero_si512();
#pragma GCC unroll 8
            for (int i = 0; i < qps; i++) {
                int qd = s * qps + i;
                __m512i w;
                if (kind == 4) {   /* sub-block s: nibble (s & 1) of dword 8*(s/2) + i */
                    w = _mm512_load_si512((const void *)(pb + 64 * (8 * (s >> 1) + i)));
                    w = _mm512_and_si512((s & 1) ? _mm512_srli_epi32(w, 4) : w, m4);
                } else {
                    w = _mm512_load_si512((const void *)(pb + 64 * qd));
                }
#pragma GCC unroll 8
                for (int t = 0; t < nt; t++)
                    acc[t] = _mm512_dpbusd_epi32(acc[t], w, _mm512_set1_epi32(ld32(a[t]->qs + 4 * qd)));
            }
            __m512i scv = _mm512_load_si512((const void *)(sc + 16 * s));
#pragma GCC unroll 8
            for (int t = 0; t < nt; t++) isum[t] = _mm512_add_epi32(isum[t], _mm512_mullo_epi32(acc[t], scv));
        }
        __m512i imin[NT];
#pragma GCC unroll 8
        for (int t = 0; t < nt; t++) imin[t] = _mm512_setzero_si512();
#pragma GCC unroll 8
        for (int p = 0; p < ns / 2; p++) {
            __m512i mv = _mm512_load_si512((const void *)(mn + 64 * p));
#pragma GCC unroll 8
            for (int t = 0; t < nt; t++) {
                const int16_t *bs = ns == 8 ? a[t]->bsum32 : a[t]->bsum16;
                imin[t] = _mm512_dpwssd_epi32(imin[t], mv, _mm512_set1_epi32(ld32(bs + 2 * p)));
            }
        }
        __m512 d = _mm512_load_ps(dv);
        if (ns == 16) {
#pragma GCC unroll 8
            for (int t = 0; t < nt; t++)
                f[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(isum[t], imin[t])),
                                       _mm512_mul_ps(d, _mm512_set1_ps(a[t]->d)), f[t]);
        } else {
            __m512 dmin = _mm512_load_ps(dv + 16);
#pragma GCC unroll 8
            for (int t = 0; t < nt; t++) {
                __m512 da = _mm512_set1_ps(a[t]->d);
                f[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum[t]), _mm512_mul_ps(d, da), f[t]);
                f[t] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(imin[t]), _mm512_mul_ps(dmin, da), f[t]);
            }
        }
    }
#pragma GCC unroll 8
    for (int t = 0; t < nt; t++) _mm512_mask_storeu_ps(Y + t * ldy, mask, f[t]);
}

DEFINE_PANEL(panel_q4_K, tile_k, 4)
DEFINE_PANEL(panel_q5_K, tile_k, 5)
DEFINE_PANEL(panel_q6_K, tile_k, 6)

/* ----------------------------------------------------------- float types ---- */

/* F32 weights (panel f32[k][16]) or F16 ones (f16[k][16], converted as loaded) times
** f32 activations. */
TGT INLINE void tile_f(const uint8_t *panel, size_t k, const uint8_t *act, size_t as,
                       const int nt, const int half, float *Y, size_t ldy, __mmask16 mask) {
    __m512 f[NT];
    const float *x[NT];
#pragma GCC unroll 8
    for (int t = 0; t < nt; t++) {
        f[t] = _mm512_setzero_ps();
        x[t] = (const float *)(const void *)(act + t * as);
    }
    for (size_t j = 0; j < k; j++) {
        __m512 wv = half ? _mm512_cvtph_ps(_mm256_load_si256((const void *)(panel + 32 * j)))
                         : _mm512_load_ps((const void *)(panel + 64 * j));
#pragma GCC unroll 8
        for (int t = 0; t < nt; t++) f[t] = _mm512_fmadd_ps(wv, _mm512_set1_ps(x[t][j]), f[t]);
    }
#pragma GCC unroll 8
    for (int t = 0; t < nt; t++) _mm512_mask_storeu_ps(Y + t * ldy, mask, f[t]);
}
DEFINE_PANEL(panel_f32, tile_f, 0)
DEFINE_PANEL(panel_f16, tile_f, 1)

/* BF16 pairs times bf16 activation pairs with vdpbf16ps. */
TGT_BF16 INLINE void tile_bf16(const uint8_t *panel, size_t k, const uint8_t *act, size_t as,
                               const int nt, int unused, float *Y, size_t ldy, __mmask16 mask) {
    __m512 f[NT];
#pragma GCC unroll 8
    for (int t = 0; t < nt; t++) f[t] = _mm512_setzero_ps();
    for (size_t p = 0; p < (k + 1) / 2; p++) {
        __m512bh wv = (__m512bh)_mm512_load_si512((const void *)(panel + 64 * p));
#pragma GCC unroll 8
        for (int t = 0; t < nt; t++)
            f[t] = _mm512_dpbf16_ps(f[t], wv, (__m512bh)_mm512_set1_epi32(ld32(act + t * as + 4 * p)));
    }
#pragma GCC unroll 8
    for (int t = 0; t < nt; t++) _mm512_mask_storeu_ps(Y + t * ldy, mask, f[t]);
}
#undef TGT
#define TGT TGT_BF16
DEFINE_PANEL(panel_bf16, tile_bf16, 0)
#undef TGT
#define TGT __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))

/* -------------------------------------------------- activation quantizers ---- */

/* Bit-identical to pp_quantize_act_q8_0: same divisions, products, and
** round-to-nearest-even (cvtps2dq under the default MXCSR). */
TGT static void quant_q8_0(const float *x, size_t k, pp_act_q8_0 *dst) {
    for (size_t b = 0; b < k / 32; b++, x += 32) {
        __m512 v0 = _mm512_loadu_ps(x), v1 = _mm512_loadu_ps(x + 16);
        __m512 am = _mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1));
        float amax = _mm512_reduce_max_ps(am);
        float d = amax / 127.0f, id = amax != 0.0f ? 127.0f / amax : 0.0f;
        __m512 idv = _mm512_set1_ps(id);
        __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, idv));
        __m512i q1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, idv));
        pp_act_q8_0 *o = &dst[b];
        o->d = _cvtsh_ss(_cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT));
        o->sum = _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
        _mm_storeu_si128((__m128i *)(void *)o->qs, _mm512_cvtepi32_epi8(q0));
        _mm_storeu_si128((__m128i *)(void *)(o->qs + 16), _mm512_cvtepi32_epi8(q1));
    }
}

/* Bit-identical to pp_quantize_act_q8_K. */
TGT static void quant_q8_K(const float *x, size_t k, pp_act_q8_K *dst) {
    for (size_t b = 0; b < k / 256; b++, x += 256) {
        pp_act_q8_K *o = &dst[b];
        __m512 am = _mm512_setzero_ps();
        for (int j = 0; j < 256; j += 16) am = _mm512_max_ps(am, _mm512_abs_ps(_mm512_loadu_ps(x + j)));
        float amax = _mm512_reduce_max_ps(am);
        if (amax == 0.0f) {
            memset(o, 0, sizeof *o);
            continue;
        }
        float max = 0.0f;   /* the first element whose magnitude is amax */
        __m512 amv = _mm512_set1_ps(amax);
        for (int j = 0; j < 256; j += 16) {
            __mmask16 hit = _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_loadu_ps(x + j)), amv, _CMP_EQ_OQ);
            if (hit) { max = x[j + __builtin_ctz(hit)]; break; }
        }
        float iscale = -127.0f / max;
        __m512 isv = _mm512_set1_ps(iscale);
        __m512i lim = _mm512_set1_epi32(127);
        for (int j = 0; j < 256; j += 16) {
            __m512i q = _mm512_min_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(isv, _mm512_loadu_ps(x + j))), lim);
            _mm_storeu_si128((__m128i *)(void *)(o->qs + j), _mm512_cvtepi32_epi8(q));
            o->bsum16[j / 16] = (int16_t)_mm512_reduce_add_epi32(q);
        }
        for (int s = 0; s < 8; s++) o->bsum32[s] = (int16_t)(o->bsum16[2 * s] + o->bsum16[2 * s + 1]);
        o->d = 1.0f / iscale;
    }
}

/* ------------------------------------------------------ element-wise ops ---- */

/* exp(x), 16 lanes: x = n ln2 + r with |r| <= ln2/2 (ln2 split in two for an exact
** product), exp(r) by its degree-6 Taylor polynomial (error < 1.2e-7 relative), times
** 2^n put into the exponent.  x is clamped to [-87.3, 88.7] first, so the result stays
** a finite normal number. */
TGT INLINE __m512 exp512(__m512 x) {
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.3f)), _mm512_set1_ps(88.7f));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.0f / 720);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    __m512i e = _mm512_slli_epi32(_mm512_cvtps_epi32(n), 23);
    return _mm512_castsi512_ps(_mm512_add_epi32(_mm512_castps_si512(p), e));
}

TGT static void silu_mul512(float *g, const float *u, size_t n) {
    const __m512 one = _mm512_set1_ps(1.0f);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 x = _mm512_loadu_ps(g + i);
        __m512 s = _mm512_div_ps(x, _mm512_add_ps(one, exp512(_mm512_sub_ps(_mm512_setzero_ps(), x))));
        _mm512_storeu_ps(g + i, _mm512_mul_ps(s, _mm512_loadu_ps(u + i)));
    }
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        __m512 x = _mm512_maskz_loadu_ps(m, g + i);
        __m512 s = _mm512_div_ps(x, _mm512_add_ps(one, exp512(_mm512_sub_ps(_mm512_setzero_ps(), x))));
        _mm512_mask_storeu_ps(g + i, m, _mm512_mul_ps(s, _mm512_maskz_loadu_ps(m, u + i)));
    }
}

/* gelu_mul as the table says (avx2.c's gelu256, 16 lanes). */
TGT static __m512 gelu512(__m512 x, const float *tab) {
    __m512i idx = _mm512_cvtepu16_epi32(_mm512_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    __m512 y = _mm512_i32gather_ps(idx, tab, 4);
    y = _mm512_mask_mov_ps(y, _mm512_cmp_ps_mask(x, _mm512_set1_ps(10.0f), _CMP_GE_OQ), x);
    return _mm512_maskz_mov_ps(~_mm512_cmp_ps_mask(x, _mm512_set1_ps(-10.0f), _CMP_LE_OQ), y);
}

TGT static void gelu_mul512(float *g, const float *u, const float *tab, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(g + i, _mm512_mul_ps(gelu512(_mm512_loadu_ps(g + i), tab), _mm512_loadu_ps(u + i)));
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        __m512 y = gelu512(_mm512_maskz_loadu_ps(m, g + i), tab);
        _mm512_mask_storeu_ps(g + i, m, _mm512_mul_ps(y, _mm512_maskz_loadu_ps(m, u + i)));
    }
}

/* x rounded to f16 and back (nearest, ties to even) */
TGT static inline __m512 f16r512(__m512 x) {
    return _mm512_cvtph_ps(_mm512_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
}

/* pp_fa_query with the head's dimensions in lanes, hd % 16 == 0.  The dot product keeps
** pp_dot_f32's 16 partial sums (a product, then an add: no contraction) and adds them
** in its order. */
TGT static void fa_query512(const float *q, const float *kf, const float *vf, uint32_t hd, uint32_t first,
                            uint32_t n_valid, float scale, float softcap, float *out) {
    __m512 acc[PP_FA_MAX_HEAD_DIM / 16], qh[PP_FA_MAX_HEAD_DIM / 16];
    const uint32_t nv = hd / 16;
    for (uint32_t b = 0; b < nv; b++) {
        acc[b] = _mm512_setzero_ps();
        qh[b] = f16r512(_mm512_loadu_ps(q + 16 * b));
    }
    float M = -INFINITY, S = 0.0f;
    for (uint32_t p = first; p < n_valid; p++) {
        const float *k = kf + (size_t)p * hd, *v = vf + (size_t)p * hd;
        __m512 sum = _mm512_setzero_ps();
        for (uint32_t b = 0; b < nv; b++) sum = _mm512_add_ps(sum, _mm512_mul_ps(qh[b], _mm512_loadu_ps(k + 16 * b)));
        float part[16], s = 0.0f;
        _mm512_storeu_ps(part, sum);
        for (int l = 0; l < 16; l++) s += part[l];
        s *= scale;
        if (softcap != 0.0f) s = softcap * tanhf(s);
        float Mold = M, ms = 1.0f, vs = 1.0f;
        if (s > M) {
            M = s;
            ms = expf(Mold - M);
            const __m512 m = _mm512_set1_ps(ms);
            for (uint32_t b = 0; b < nv; b++) acc[b] = f16r512(_mm512_mul_ps(acc[b], m));
        } else {
            vs = expf(s - M);
        }
        const __m512 w = _mm512_set1_ps(vs);
        for (uint32_t b = 0; b < nv; b++) acc[b] = f16r512(_mm512_fmadd_ps(_mm512_loadu_ps(v + 16 * b), w, acc[b]));
        S = S * ms + vs;
    }
    const __m512 inv = _mm512_set1_ps(S == 0.0f ? 0.0f : 1.0f / S);
    for (uint32_t b = 0; b < nv; b++) _mm512_storeu_ps(out + 16 * b, _mm512_mul_ps(acc[b], inv));
}

TGT static void f16_to_f32_512(float *dst, const uint16_t *src, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(src + i))));
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(dst + i, m, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, src + i)));
    }
}

TGT static void softmax512(float *x, size_t n) {
    if (!n) return;
    __m512 mx = _mm512_set1_ps(-INFINITY);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) mx = _mm512_max_ps(mx, _mm512_loadu_ps(x + i));
    __mmask16 tail = (__mmask16)((1u << (n - i)) - 1);
    if (i < n) mx = _mm512_mask_max_ps(mx, tail, mx, _mm512_maskz_loadu_ps(tail, x + i));
    const __m512 m = _mm512_set1_ps(_mm512_reduce_max_ps(mx));
    __m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd();
    for (i = 0; i + 16 <= n; i += 16) {
        __m512 e = exp512(_mm512_sub_ps(_mm512_loadu_ps(x + i), m));
        _mm512_storeu_ps(x + i, e);
        s0 = _mm512_add_pd(s0, _mm512_cvtps_pd(_mm512_castps512_ps256(e)));
        s1 = _mm512_add_pd(s1, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(e), 1))));
    }
    if (i < n) {
        __m512 e = _mm512_maskz_mov_ps(tail, exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(tail, x + i), m)));
        _mm512_mask_storeu_ps(x + i, tail, e);
        s0 = _mm512_add_pd(s0, _mm512_cvtps_pd(_mm512_castps512_ps256(e)));
        s1 = _mm512_add_pd(s1, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(e), 1))));
    }
    const __m512 inv = _mm512_set1_ps((float)(1.0 / _mm512_reduce_add_pd(_mm512_add_pd(s0, s1))));
    for (i = 0; i + 16 <= n; i += 16) _mm512_storeu_ps(x + i, _mm512_mul_ps(_mm512_loadu_ps(x + i), inv));
    if (i < n) _mm512_mask_storeu_ps(x + i, tail, _mm512_mul_ps(_mm512_maskz_loadu_ps(tail, x + i), inv));
}

void pp_kernels_avx512_init(pp_kernel_set *ks) {
    ks->panel[PP_GGML_Q8_0] = panel_q8_0;
    ks->panel[PP_GGML_Q4_0] = panel_q4_0;
    ks->panel[PP_GGML_Q4_K] = panel_q4_K;
    ks->panel[PP_GGML_Q5_K] = panel_q5_K;
    ks->panel[PP_GGML_Q6_K] = panel_q6_K;
    ks->panel[PP_GGML_F32] = panel_f32;
    ks->panel[PP_GGML_F16] = panel_f16;
    if (pp_cpu()->avx512bf16) ks->panel[PP_GGML_BF16] = panel_bf16;
    ks->quant_q8_0 = quant_q8_0;
    ks->quant_q8_K = quant_q8_K;
    ks->silu_mul = silu_mul512;
    ks->softmax = softmax512;
    ks->gelu_mul = gelu_mul512;
    ks->fa_query = fa_query512;
    ks->f16_to_f32 = f16_to_f32_512;
}

#else
void pp_kernels_avx512_init(pp_kernel_set *ks) { (void)ks; }
#endif
