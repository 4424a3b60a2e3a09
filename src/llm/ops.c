/*
** ops.c -- scalar element-wise ops of the forward pass (see ops.h for the contract).
**
** Written for the auto-vectorizer: counted loops, restrict pointers, independent
** partial sums.  Where ggml's rounding choices matter for matching llama.cpp (double
** accumulators in RMSNorm and softmax, float angle recurrence in RoPE) this file
** makes the same choices.
*/
#include "llm/ops.h"
#include "llm/quant.h"
#include <math.h>
#include <pthread.h>
#include <string.h>

void pp_rmsnorm(float *y, const float *x, const float *w, int64_t n, float eps) {
    double ss = 0.0;
    for (int64_t i = 0; i < n; i++) ss += (double)x[i] * x[i];
    const float scale = 1.0f / sqrtf((float)(ss / (double)n) + eps);
    for (int64_t i = 0; i < n; i++) y[i] = x[i] * scale * w[i];
}

void pp_rope_table(float *cs, uint32_t pos, uint32_t n_rot, float base, float freq_scale,
                   const float *freqs) {
    /* ggml_rope: theta_scale = base^(-2/n_dims); theta_i = pos * theta_scale^i, advanced
    ** by multiplication in float; the frequency factor divides the angle. */
    const float theta_scale = powf(base, -2.0f / (float)n_rot);
    float theta = (float)pos;
    for (uint32_t i = 0; i < n_rot / 2; i++) {
        float t = freq_scale * (freqs ? theta / freqs[i] : theta);
        cs[2 * i] = cosf(t);
        cs[2 * i + 1] = sinf(t);
        theta *= theta_scale;
    }
}

void pp_rope_norm(float *x, uint32_t n_heads, uint32_t head_dim, uint32_t n_rot,
                  const float *cs) {
    for (uint32_t h = 0; h < n_heads; h++) {
        float *restrict p = x + (size_t)h * head_dim;
        for (uint32_t i = 0; i < n_rot / 2; i++) {
            const float c = cs[2 * i], s = cs[2 * i + 1];
            const float a = p[2 * i], b = p[2 * i + 1];
            p[2 * i] = a * c - b * s;
            p[2 * i + 1] = a * s + b * c;
        }
    }
}

void pp_rope_neox(float *x, uint32_t n_heads, uint32_t head_dim, uint32_t n_rot,
                  const float *cs) {
    const uint32_t half = n_rot / 2;
    for (uint32_t h = 0; h < n_heads; h++) {
        float *restrict p = x + (size_t)h * head_dim;
        for (uint32_t i = 0; i < half; i++) {
            const float c = cs[2 * i], s = cs[2 * i + 1];
            const float a = p[i], b = p[i + half];
            p[i] = a * c - b * s;
            p[i + half] = a * s + b * c;
        }
    }
}

void pp_softmax(float *x, int64_t n) {
    float mx = -INFINITY;
    for (int64_t i = 0; i < n; i++) mx = x[i] > mx ? x[i] : mx;
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) {
        float e = expf(x[i] - mx);
        x[i] = e;
        sum += e;
    }
    const float inv = (float)(1.0 / sum);
    for (int64_t i = 0; i < n; i++) x[i] *= inv;
}

void pp_silu_mul(float *restrict g, const float *restrict u, int64_t n) {
    for (int64_t i = 0; i < n; i++) g[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

/* ggml_gelu_f32 (ggml-cpu/vec.h), the function behind ggml's f16 GELU table */
static inline float gelu_tanh(float x) {
    const float a = 0.044715f, sqrt_2_over_pi = 0.79788456080286535587989211986876f;
    return 0.5f * x * (1.0f + tanhf(sqrt_2_over_pi * x * (1.0f + a * x * x)));
}

void pp_gelu_mul(float *restrict g, const float *restrict u, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        const float x = g[i];
        float y;
        if (x <= -10.0f) y = 0.0f;
        else if (x >= 10.0f) y = x;
        else y = pp_fp16_to_f32(pp_f32_to_fp16(gelu_tanh(pp_fp16_to_f32(pp_f32_to_fp16(x)))));
        g[i] = y * u[i];
    }
}

/* The table itself: f16 bits -> that GELU, for the vectorized kernels (a gather per
** lane instead of a tanhf).  256 KB, built on first use. */
static float gelu_tab[65536];
static pthread_once_t gelu_once = PTHREAD_ONCE_INIT;

static void gelu_build(void) {
    for (uint32_t h = 0; h < 65536; h++)
        gelu_tab[h] = pp_fp16_to_f32(pp_f32_to_fp16(gelu_tanh(pp_fp16_to_f32((uint16_t)h))));
}

const float *pp_gelu_f16_table(void) {
    pthread_once(&gelu_once, gelu_build);
    return gelu_tab;
}

void pp_scale(float *restrict x, float s, int64_t n) {
    for (int64_t i = 0; i < n; i++) x[i] *= s;
}

void pp_softcap(float *restrict x, float cap, int64_t n) {
    const float inv = 1.0f / cap;
    for (int64_t i = 0; i < n; i++) x[i] = tanhf(x[i] * inv) * cap;
}

void pp_add(float *restrict y, const float *restrict x, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] += x[i];
}

float pp_dot_f32(const float *restrict a, const float *restrict b, int64_t n) {
    float s[16] = {0};
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++) s[j] += a[i + j] * b[i + j];
    float t = 0.0f;
    for (; i < n; i++) t += a[i] * b[i];
    for (int j = 0; j < 16; j++) t += s[j];
    return t;
}

/* x rounded to the nearest f16 value (ties to even), as f32: what storing x in an f16
** and reading it back gives.  Inline bit arithmetic for the normal f16 range (this
** runs head_dim times per key per query); quant.c's exact conversion elsewhere. */
static inline float f16r(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    const uint32_t a = u & 0x7fffffffu;
    if (a < 0x38800000u || a >= 0x477ff000u)   /* f16 subnormal/zero, overflow, inf, NaN */
        return pp_fp16_to_f32(pp_f32_to_fp16(x));
    u += 0x0fffu + ((u >> 13) & 1u);            /* round the low 13 mantissa bits, ties even */
    u &= 0xffffe000u;
    memcpy(&x, &u, sizeof x);
    return x;
}

void pp_fa_query(const float *q, const float *kf, const float *vf, uint32_t hd, uint32_t first,
                 uint32_t n_valid, float scale, float softcap, float *out) {
    float acc[PP_FA_MAX_HEAD_DIM], qh[PP_FA_MAX_HEAD_DIM];
    for (uint32_t d = 0; d < hd; d++) {
        acc[d] = 0.0f;
        qh[d] = pp_fp16_to_f32(pp_f32_to_fp16(q[d]));
    }
    float M = -INFINITY, S = 0.0f;
    for (uint32_t p = first; p < n_valid; p++) {
        float s = pp_dot_f32(qh, kf + (size_t)p * hd, hd) * scale;
        if (softcap != 0.0f) s = softcap * tanhf(s);
        float Mold = M, ms = 1.0f, vs = 1.0f;
        if (s > M) {
            M = s;
            ms = expf(Mold - M);
            for (uint32_t d = 0; d < hd; d++) acc[d] = f16r(acc[d] * ms);
        } else {
            vs = expf(s - M);
        }
        const float *v = vf + (size_t)p * hd;
        for (uint32_t d = 0; d < hd; d++) acc[d] = f16r(fmaf(v[d], vs, acc[d]));
        S = S * ms + vs;
    }
    const float inv = S == 0.0f ? 0.0f : 1.0f / S;
    for (uint32_t d = 0; d < hd; d++) out[d] = acc[d] * inv;
}
