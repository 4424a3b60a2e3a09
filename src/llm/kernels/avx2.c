/*
** avx2.c -- AVX2 kernels: the fast path on x86-64 CPUs without AVX-512 VNNI.
**
** Same panels (internal.h) and the same integers and fma order as the AVX-512 file
** and ref.c, so the results are bit-identical to the reference.  A panel's 16 rows
** are two ymm halves.  Without VNNI the u8 x s8 dot is vpmaddubsw (pairs to s16,
** saturating) then vpmaddwd with ones (to s32).  Saturation decides the tricks:
** K-quants and Q4_0 have weights <= 63, so 2 * 63 * 127 fits in s16 and the unsigned
** panel values go straight in; Q8_0's panel holds q+128, which would saturate, so it
** is turned back into s8 and fed through the sign trick (|w| x sign(a, w)), as
** llama.cpp does, and needs no offset correction.
**
** Every function has a target attribute; nothing here runs unless cpu.h reports
** AVX2, FMA and F16C.
*/
#include "llm/kernels/internal.h"
#include "llm/ops.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>
#include <string.h>

#define TGT __attribute__((target("avx2,fma,f16c")))
#define INLINE static inline __attribute__((always_inline))
#define NT2 2   /* tokens per register tile (16 ymm registers) */

static inline int32_t ld32(const void *p) { int32_t v; memcpy(&v, p, 4); return v; }

TGT INLINE void store_rows(float *y, __m256 lo, __m256 hi, int nr) {
    if (nr == 16) {
        _mm256_storeu_ps(y, lo);
        _mm256_storeu_ps(y + 8, hi);
        return;
    }
    float tmp[16];
    _mm256_storeu_ps(tmp, lo);
    _mm256_storeu_ps(tmp + 8, hi);
    memcpy(y, tmp, (size_t)nr * sizeof(float));
}

/* u8 x s8 -> s32, 4 products per lane, added to acc. */
TGT INLINE __m256i dot_us(__m256i acc, __m256i u, __m256i s) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)));
}

/* ------------------------------------------------------------ Q8_0, Q4_0 ---- */

TGT INLINE void tile_q8(const uint8_t *panel, size_t nb, const uint8_t *act, size_t as,
                        const int nt, const int off, float *Y, size_t ldy, int nr) {
    __m256 f[NT2][2];
#pragma GCC unroll 4
    for (int t = 0; t < nt; t++) f[t][0] = f[t][1] = _mm256_setzero_ps();
    const __m256i x80 = _mm256_set1_epi8((char)0x80), m4 = _mm256_set1_epi8(0x0f);
    const size_t qb = off == 8 ? 4 * 64 : 8 * 64;   /* Q4_0: nibble pairs */
    for (size_t b = 0; b < nb; b++) {
        const uint8_t *pb = panel + b * (qb + 64);
        const pp_act_q8_0 *a[NT2];
        __m256i acc[NT2][2];
#pragma GCC unroll 4
        for (int t = 0; t < nt; t++) {
            a[t] = (const pp_act_q8_0 *)(const void *)(act + t * as) + b;
            acc[t][0] = acc[t][1] = _mm256_set1_epi32(off == 128 ? 0 : -off * a[t]->sum);
        }
#pragma GCC unroll 8
        for (int i = 0; i < 8; i++)
#pragma GCC unroll 2
            for (int h = 0; h < 2; h++) {
                __m256i w;
                if (off == 128) {   /* back to s8, then the sign trick */
                    w = _mm256_load_si256((const void *)(pb + 64 * i + 32 * h));
                    __m256i ws = _mm256_xor_si256(w, x80), wa = _mm256_abs_epi8(ws);
#pragma GCC unroll 4
                    for (int t = 0; t < nt; t++)
                        acc[t][h] = dot_us(acc[t][h], wa, _mm256_sign_epi8(_mm256_set1_epi32(ld32(a[t]->qs + 4 * i)), ws));
                } else {
                    w = _mm256_load_si256((const void *)(pb + 64 * (i & 3) + 32 * h));
                    w = _mm256_and_si256(i < 4 ? w : _mm256_srli_epi32(w, 4), m4);
#pragma GCC unroll 4
                    for (int t = 0; t < nt; t++)
                        acc[t][h] = dot_us(acc[t][h], w, _mm256_set1_epi32(ld32(a[t]->qs + 4 * i)));
                }
            }
        const float *dw = (const float *)(const void *)(pb + qb);
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++) {
            __m256 d = _mm256_load_ps(dw + 8 * h);
#pragma GCC unroll 4
            for (int t = 0; t < nt; t++)
                f[t][h] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc[t][h]), _mm256_mul_ps(d, _mm256_set1_ps(a[t]->d)), f[t][h]);
        }
    }
#pragma GCC unroll 4
    for (int t = 0; t < nt; t++) store_rows(Y + t * ldy, f[t][0], f[t][1], nr);
}

#define DEFINE_PANEL(name, tile, arg)                                                         \
    TGT static void name(const void *panel, size_t k, const void *act, size_t as, size_t n,   \
                         float *Y, size_t ldy, int nr) {                                       \
        const uint8_t *ac = act;                                                               \
        size_t t = 0;                                                                          \
        for (; t + NT2 <= n; t += NT2) tile(panel, k, ac + t * as, as, NT2, arg, Y + t * ldy, ldy, nr); \
        if (t < n) tile(panel, k, ac + t * as, as, 1, arg, Y + t * ldy, ldy, nr);               \
    }

TGT INLINE void tile_q8_0(const uint8_t *p, size_t k, const uint8_t *a, size_t as, const int nt,
                          int unused, float *Y, size_t ldy, int nr) {
    tile_q8(p, k / 32, a, as, nt, 128, Y, ldy, nr);
}
TGT INLINE void tile_q4_0(const uint8_t *p, size_t k, const uint8_t *a, size_t as, const int nt,
                          int unused, float *Y, size_t ldy, int nr) {
    tile_q8(p, k / 32, a, as, nt, 8, Y, ldy, nr);
}
DEFINE_PANEL(panel_q8_0, tile_q8_0, 0)
DEFINE_PANEL(panel_q4_0, tile_q4_0, 0)

/* ------------------------------------------------------ Q4_K, Q5_K, Q6_K ---- */

/* kind 4 (Q4_K: nibble pairs), 5 (Q5_K) or 6 (Q6_K), as in avx512.c. */
TGT INLINE void tile_k(const uint8_t *panel, size_t k, const uint8_t *act, size_t as,
                       const int nt, const int kind, float *Y, size_t ldy, int nr) {
    const int ns = kind == 6 ? 16 : 8;
    const size_t qsb = kind == 4 ? PP_PANEL_Q4K_QS : 4096;
    const size_t bb = qsb + (size_t)ns * 64 + (size_t)ns / 2 * 64 + (ns == 8 ? 2 * 64 : 64);
    const int qps = 64 / ns;
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    __m256 f[NT2][2];
#pragma GCC unroll 4
    for (int t = 0; t < nt; t++) f[t][0] = f[t][1] = _mm256_setzero_ps();
    for (size_t b = 0; b < k / 256; b++) {
        const uint8_t *pb = panel + b * bb;
        const int32_t *sc = (const int32_t *)(const void *)(pb + qsb);
        const uint8_t *mn = pb + qsb + (size_t)ns * 64;
        const float *dv = (const float *)(const void *)(mn + (size_t)ns / 2 * 64);
        const pp_act_q8_K *a[NT2];
        __m256i isum[NT2][2], imin[NT2][2];
#pragma GCC unroll 4
        for (int t = 0; t < nt; t++) {
            a[t] = (const pp_act_q8_K *)(const void *)(act + t * as) + b;
            isum[t][0] = isum[t][1] = imin[t][0] = imin[t][1] = _mm256_setzero_si256();
        }
        for (int s = 0; s < ns; s++)
#pragma GCC unroll 2
            for (int h = 0; h < 2; h++) {
                __m256i acc[NT2];
#pragma GCC unroll 4
                for (int t = 0; t < nt; t++) acc[t] = _mm256_setzero_si256();
#pragma GCC unroll 8
                for (int i = 0; i < qps; i++) {
                    int qd = s * qps + i;
                    __m256i w;
                    if (kind == 4) {
                        w = _mm256_load_si256((const void *)(pb + 64 * (8 * (s >> 1) + i) + 32 * h));
                        w = _mm256_and_si256((s & 1) ? _mm256_srli_epi32(w, 4) : w, m4);
                    } else {
                        w = _mm256_load_si256((const void *)(pb + 64 * qd + 32 * h));
                    }
#pragma GCC unroll 4
                    for (int t = 0; t < nt; t++)
                        acc[t] = dot_us(acc[t], w, _mm256_set1_epi32(ld32(a[t]->qs + 4 * qd)));
                }
                __m256i scv = _mm256_load_si256((const void *)(sc + 16 * s + 8 * h));
#pragma GCC unroll 4
                for (int t = 0; t < nt; t++) isum[t][h] = _mm256_add_epi32(isum[t][h], _mm256_mullo_epi32(acc[t], scv));
            }
        for (int p = 0; p < ns / 2; p++)
#pragma GCC unroll 2
            for (int h = 0; h < 2; h++) {
                __m256i mv = _mm256_load_si256((const void *)(mn + 64 * p + 32 * h));
#pragma GCC unroll 4
                for (int t = 0; t < nt; t++) {
                    const int16_t *bs = ns == 8 ? a[t]->bsum32 : a[t]->bsum16;
                    imin[t][h] = _mm256_add_epi32(imin[t][h], _mm256_madd_epi16(mv, _mm256_set1_epi32(ld32(bs + 2 * p))));
                }
            }
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++) {
            __m256 d = _mm256_load_ps(dv + 8 * h);
            if (ns == 16) {
#pragma GCC unroll 4
                for (int t = 0; t < nt; t++)
                    f[t][h] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(isum[t][h], imin[t][h])),
                                              _mm256_mul_ps(d, _mm256_set1_ps(a[t]->d)), f[t][h]);
            } else {
                __m256 dmin = _mm256_load_ps(dv + 16 + 8 * h);
#pragma GCC unroll 4
                for (int t = 0; t < nt; t++) {
                    __m256 da = _mm256_set1_ps(a[t]->d);
                    f[t][h] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[t][h]), _mm256_mul_ps(d, da), f[t][h]);
                    f[t][h] = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(imin[t][h]), _mm256_mul_ps(dmin, da), f[t][h]);
                }
            }
        }
    }
#pragma GCC unroll 4
    for (int t = 0; t < nt; t++) store_rows(Y + t * ldy, f[t][0], f[t][1], nr);
}
DEFINE_PANEL(panel_q4_K, tile_k, 4)
DEFINE_PANEL(panel_q5_K, tile_k, 5)
DEFINE_PANEL(panel_q6_K, tile_k, 6)

/* ----------------------------------------------------------- float types ---- */

#define NTF 4
/* F32 weights (panel f32[k][16]) or F16 ones (f16[k][16], converted as loaded). */
TGT INLINE void tile_f(const uint8_t *panel, size_t k, const uint8_t *act, size_t as,
                       const int nt, const int half, float *Y, size_t ldy, int nr) {
    __m256 f[NTF][2];
    const float *x[NTF];
#pragma GCC unroll 4
    for (int t = 0; t < nt; t++) {
        f[t][0] = f[t][1] = _mm256_setzero_ps();
        x[t] = (const float *)(const void *)(act + t * as);
    }
    for (size_t j = 0; j < k; j++) {
        __m256 w0, w1;
        if (half) {
            w0 = _mm256_cvtph_ps(_mm_load_si128((const void *)(panel + 32 * j)));
            w1 = _mm256_cvtph_ps(_mm_load_si128((const void *)(panel + 32 * j + 16)));
        } else {
            w0 = _mm256_load_ps((const void *)(panel + 64 * j));
            w1 = _mm256_load_ps((const void *)(panel + 64 * j + 32));
        }
#pragma GCC unroll 4
        for (int t = 0; t < nt; t++) {
            __m256 xv = _mm256_broadcast_ss(x[t] + j);
            f[t][0] = _mm256_fmadd_ps(w0, xv, f[t][0]);
            f[t][1] = _mm256_fmadd_ps(w1, xv, f[t][1]);
        }
    }
#pragma GCC unroll 4
    for (int t = 0; t < nt; t++) store_rows(Y + t * ldy, f[t][0], f[t][1], nr);
}

/* BF16 pairs: the low bf16 of a dword becomes a float by shifting left 16, the high
** one by masking. */
TGT INLINE void tile_bf16(const uint8_t *panel, size_t k, const uint8_t *act, size_t as,
                          const int nt, int unused, float *Y, size_t ldy, int nr) {
    __m256 f[NTF][2];
#pragma GCC unroll 4
    for (int t = 0; t < nt; t++) f[t][0] = f[t][1] = _mm256_setzero_ps();
    const __m256i hi_mask = _mm256_set1_epi32((int)0xffff0000u);
    for (size_t p = 0; p < (k + 1) / 2; p++)
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++) {
            __m256i w = _mm256_load_si256((const void *)(panel + 64 * p + 32 * h));
            __m256 wl = _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
            __m256 wh = _mm256_castsi256_ps(_mm256_and_si256(w, hi_mask));
#pragma GCC unroll 4
            for (int t = 0; t < nt; t++) {
                __m256i xv = _mm256_set1_epi32(ld32(act + t * as + 4 * p));
                f[t][h] = _mm256_fmadd_ps(wl, _mm256_castsi256_ps(_mm256_slli_epi32(xv, 16)), f[t][h]);
                f[t][h] = _mm256_fmadd_ps(wh, _mm256_castsi256_ps(_mm256_and_si256(xv, hi_mask)), f[t][h]);
            }
        }
#pragma GCC unroll 4
    for (int t = 0; t < nt; t++) store_rows(Y + t * ldy, f[t][0], f[t][1], nr);
}

#define DEFINE_PANEL_F(name, tile, arg)                                                       \
    TGT static void name(const void *panel, size_t k, const void *act, size_t as, size_t n,   \
                         float *Y, size_t ldy, int nr) {                                       \
        const uint8_t *ac = act;                                                               \
        size_t t = 0;                                                                          \
        for (; t + NTF <= n; t += NTF) tile(panel, k, ac + t * as, as, NTF, arg, Y + t * ldy, ldy, nr); \
        switch (n - t) {                                                                       \
        case 3: tile(panel, k, ac + t * as, as, 3, arg, Y + t * ldy, ldy, nr); break;          \
        case 2: tile(panel, k, ac + t * as, as, 2, arg, Y + t * ldy, ldy, nr); break;          \
        case 1: tile(panel, k, ac + t * as, as, 1, arg, Y + t * ldy, ldy, nr); break;          \
        default: break;                                                                        \
        }                                                                                      \
    }
DEFINE_PANEL_F(panel_f32, tile_f, 0)
DEFINE_PANEL_F(panel_f16, tile_f, 1)
DEFINE_PANEL_F(panel_bf16, tile_bf16, 0)

/* ------------------------------------------------------ element-wise ops ---- */

/* exp(x), 8 lanes: the same algorithm as avx512.c's exp512. */
TGT INLINE __m256 exp256(__m256 x) {
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.3f)), _mm256_set1_ps(88.7f));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.0f / 720);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    __m256i e = _mm256_slli_epi32(_mm256_cvtps_epi32(n), 23);
    return _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(p), e));
}

TGT static void silu_mul256(float *g, const float *u, size_t n) {
    const __m256 one = _mm256_set1_ps(1.0f);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 x = _mm256_loadu_ps(g + i);
        __m256 s = _mm256_div_ps(x, _mm256_add_ps(one, exp256(_mm256_sub_ps(_mm256_setzero_ps(), x))));
        _mm256_storeu_ps(g + i, _mm256_mul_ps(s, _mm256_loadu_ps(u + i)));
    }
    for (; i < n; i++) {   /* the tail through the same lanes */
        float gx[8] = {g[i]}, ux[8] = {u[i]};
        silu_mul256(gx, ux, 8);
        g[i] = gx[0];
    }
}

/* gelu_mul as the table says: x rounded to f16 (vcvtps2ph, nearest even), its entry
** gathered; 0 at or below -10, x at or above 10 (ops.c). */
TGT static __m256 gelu256(__m256 x, const float *tab) {
    __m256i idx = _mm256_cvtepu16_epi32(_mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT));
    __m256 y = _mm256_i32gather_ps(tab, idx, 4);
    y = _mm256_blendv_ps(y, x, _mm256_cmp_ps(x, _mm256_set1_ps(10.0f), _CMP_GE_OQ));
    return _mm256_andnot_ps(_mm256_cmp_ps(x, _mm256_set1_ps(-10.0f), _CMP_LE_OQ), y);
}

TGT static void gelu_mul256(float *g, const float *u, const float *tab, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(g + i, _mm256_mul_ps(gelu256(_mm256_loadu_ps(g + i), tab), _mm256_loadu_ps(u + i)));
    for (; i < n; i++) {   /* the tail through the same lanes */
        float gx[8] = {g[i]};
        _mm256_storeu_ps(gx, gelu256(_mm256_loadu_ps(gx), tab));
        g[i] = gx[0] * u[i];
    }
}

TGT static inline __m256 f16r256(__m256 x) {
    return _mm256_cvtph_ps(_mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT));
}

/* pp_fa_query with the head's dimensions in lanes, hd % 16 == 0: pp_dot_f32's 16 partial
** sums are two vectors here (avx512.c's fa_query512 in 8 lanes). */
TGT static void fa_query256(const float *q, const float *kf, const float *vf, uint32_t hd, uint32_t first,
                            uint32_t n_valid, float scale, float softcap, float *out) {
    __m256 acc[PP_FA_MAX_HEAD_DIM / 8], qh[PP_FA_MAX_HEAD_DIM / 8];
    const uint32_t nv = hd / 8;
    for (uint32_t b = 0; b < nv; b++) {
        acc[b] = _mm256_setzero_ps();
        qh[b] = f16r256(_mm256_loadu_ps(q + 8 * b));
    }
    float M = -INFINITY, S = 0.0f;
    for (uint32_t p = first; p < n_valid; p++) {
        const float *k = kf + (size_t)p * hd, *v = vf + (size_t)p * hd;
        __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
        for (uint32_t b = 0; b < nv; b += 2) {
            lo = _mm256_add_ps(lo, _mm256_mul_ps(qh[b], _mm256_loadu_ps(k + 8 * b)));
            hi = _mm256_add_ps(hi, _mm256_mul_ps(qh[b + 1], _mm256_loadu_ps(k + 8 * b + 8)));
        }
        float part[16], s = 0.0f;
        _mm256_storeu_ps(part, lo);
        _mm256_storeu_ps(part + 8, hi);
        for (int l = 0; l < 16; l++) s += part[l];
        s *= scale;
        if (softcap != 0.0f) s = softcap * tanhf(s);
        float Mold = M, ms = 1.0f, vs = 1.0f;
        if (s > M) {
            M = s;
            ms = expf(Mold - M);
            const __m256 m = _mm256_set1_ps(ms);
            for (uint32_t b = 0; b < nv; b++) acc[b] = f16r256(_mm256_mul_ps(acc[b], m));
        } else {
            vs = expf(s - M);
        }
        const __m256 w = _mm256_set1_ps(vs);
        for (uint32_t b = 0; b < nv; b++) acc[b] = f16r256(_mm256_fmadd_ps(_mm256_loadu_ps(v + 8 * b), w, acc[b]));
        S = S * ms + vs;
    }
    const __m256 inv = _mm256_set1_ps(S == 0.0f ? 0.0f : 1.0f / S);
    for (uint32_t b = 0; b < nv; b++) _mm256_storeu_ps(out + 8 * b, _mm256_mul_ps(acc[b], inv));
}

TGT static void f16_to_f32_256(float *dst, const uint16_t *src, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
    for (; i < n; i++) dst[i] = _cvtsh_ss(src[i]);
}

TGT static void softmax256(float *x, size_t n) {
    if (!n) return;
    float mx = -INFINITY;
    for (size_t i = 0; i < n; i++) mx = x[i] > mx ? x[i] : mx;
    const __m256 m = _mm256_set1_ps(mx);
    double sum = 0;
    size_t i = 0;
    __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
    for (; i + 8 <= n; i += 8) {
        __m256 e = exp256(_mm256_sub_ps(_mm256_loadu_ps(x + i), m));
        _mm256_storeu_ps(x + i, e);
        s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
        s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
    }
    double part[4];
    _mm256_storeu_pd(part, _mm256_add_pd(s0, s1));
    sum = (part[0] + part[1]) + (part[2] + part[3]);
    for (; i < n; i++) {
        float t[8] = {x[i] - mx};
        __m256 e = exp256(_mm256_loadu_ps(t));
        x[i] = _mm256_cvtss_f32(e);
        sum += x[i];
    }
    const float inv = (float)(1.0 / sum);
    for (i = 0; i < n; i++) x[i] *= inv;
}

void pp_kernels_avx2_init(pp_kernel_set *ks) {
    ks->panel[PP_GGML_Q8_0] = panel_q8_0;
    ks->panel[PP_GGML_Q4_0] = panel_q4_0;
    ks->panel[PP_GGML_Q4_K] = panel_q4_K;
    ks->panel[PP_GGML_Q5_K] = panel_q5_K;
    ks->panel[PP_GGML_Q6_K] = panel_q6_K;
    ks->panel[PP_GGML_F32] = panel_f32;
    ks->panel[PP_GGML_F16] = panel_f16;
    ks->panel[PP_GGML_BF16] = panel_bf16;
    ks->silu_mul = silu_mul256;
    ks->softmax = softmax256;
    ks->gelu_mul = gelu_mul256;
    ks->fa_query = fa_query256;
    ks->f16_to_f32 = f16_to_f32_256;
}

#else
void pp_kernels_avx2_init(pp_kernel_set *ks) { (void)ks; }
#endif
