/*
** ops.h -- the element-wise and row-wise operations of the decoder forward pass.
**
** Part of the guard-model engine (src/llm), used by forward.c: RMSNorm, rotary
** position embedding (llama "NORM" pairing with llama3 frequency factors, and the
** "NEOX" pairing of gemma2 and qwen3), softmax, SiLU- and GELU-gated products,
** scaling and tanh soft-capping.  Matrix products -- with weights, and attention's q.K^T and
** S.V -- are not here (kernels/).  Everything is plain scalar C over f32 written
** as simple counted loops over restrict pointers, so the compiler vectorizes it; none
** of these functions allocates.
**
** Numerics follow ggml where it matters for agreement with llama.cpp: sums of squares
** and softmax denominators accumulate in double, angles are advanced by repeated
** multiplication in float as ggml_rope does.
*/
#ifndef PP_LLM_OPS_H
#define PP_LLM_OPS_H

#include <stdint.h>
#include <stddef.h>

/* y[i] = x[i] / sqrt(mean(x^2) + eps) * w[i], i < n.  y may equal x. */
void pp_rmsnorm(float *y, const float *x, const float *w, int64_t n, float eps);

/* The rotation table of one position: cs[2i] = cos(theta_i), cs[2i+1] = sin(theta_i)
** for i < n_rot/2, theta_i = pos * freq_scale * base^(-2i/n_rot) / freqs[i]
** (freqs may be NULL: factors of 1). */
void pp_rope_table(float *cs, uint32_t pos, uint32_t n_rot, float base, float freq_scale,
                   const float *freqs);

/* Rotates the first n_rot elements of each of n_heads heads of x (head h at
** x + h*head_dim) by the table cs, pairing (x[2i], x[2i+1]). */
void pp_rope_norm(float *x, uint32_t n_heads, uint32_t head_dim, uint32_t n_rot,
                  const float *cs);

/* The same rotation with llama.cpp's NEOX pairing (x[i], x[i + n_rot/2]), i < n_rot/2:
** gemma2 and qwen3, whose converter leaves Wq and Wk unpermuted. */
void pp_rope_neox(float *x, uint32_t n_heads, uint32_t head_dim, uint32_t n_rot,
                  const float *cs);

/* x[i] = exp(x[i] - max) / sum, i < n (n >= 1). */
void pp_softmax(float *x, int64_t n);

/* g[i] = silu(g[i]) * u[i] = g/(1+exp(-g)) * u, i < n. */
void pp_silu_mul(float *g, const float *u, int64_t n);

/* g[i] = gelu(g[i]) * u[i], i < n, with the tanh GELU as ggml's CPU backend computes
** it (GGML_GELU_FP16): 0 below -10, the identity above 10, otherwise the GELU of g
** rounded to f16, evaluated in float and rounded to f16 again (its lookup table). */
void pp_gelu_mul(float *g, const float *u, int64_t n);

/* That table: entry h is the f32 value of the f16 GELU of the f16 number with bits h
** (the middle of pp_gelu_mul).  Built on first use, thread-safe; 256 KB. */
const float *pp_gelu_f16_table(void);

/* One query of a short item with llama.cpp's numerics for them (its CPU flash attention
** for fewer than 64 queries with an f16 cache): keys first..n_valid-1 in order with a
** running max, q rounded to f16, the dot products as pp_dot_f32 sums them, the output
** accumulated in f16 (each update a fused multiply-add, then rounded) and rescaled when
** the max grows.  The f16 rounding is llama.cpp's, not a need of the model: it is
** reproduced so that decode steps and short appends give the same numbers as llama.cpp
** (tests/conformance/llm).  kf and vf: K and V rows (hd floats per position);
** softcap 0: none, else scores -> softcap * tanh(s * scale).  hd <= PP_FA_MAX_HEAD_DIM.
** The reference of pp_vec_fa_query (kernels.h). */
#define PP_FA_MAX_HEAD_DIM 1024
void pp_fa_query(const float *q, const float *kf, const float *vf, uint32_t hd, uint32_t first,
                 uint32_t n_valid, float scale, float softcap, float *out);

/* x[i] *= s, i < n. */
void pp_scale(float *x, float s, int64_t n);

/* x[i] = cap * tanh(x[i] * (1/cap)), i < n: gemma2's final logit soft-cap, in
** llama.cpp's order of operations (scale, tanh, scale). */
void pp_softcap(float *x, float cap, int64_t n);

/* y[i] += x[i], i < n. */
void pp_add(float *y, const float *x, int64_t n);

/* Dot product of two f32 vectors (4 partial sums, vectorizable). */
float pp_dot_f32(const float *a, const float *b, int64_t n);

#endif
