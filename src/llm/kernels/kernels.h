/*
** kernels.h -- the matmul and gather kernels of the guard-model engine.
**
** Everything the forward pass multiplies goes through pp_gemm:
**
**     Y[n][m] = X[n][k] . W^T
**
** W is a weight matrix straight out of the GGUF mmap: m rows of k values in ggml type
** `wtype` (F32 F16 BF16 Q8_0 Q4_0 Q4_K Q5_K Q6_K), row stride w_row_bytes (the ggml
** row size).  X holds n activation rows (tokens) of k floats, Y receives n rows of m
** floats.  n == 1 is the decode (GEMV) case, n = 64..512 the prefill case.
**
** As in llama.cpp (docs/guard-models-and-gguf.md B.4), activations are first
** quantized to the weight type's "vec_dot" type and the products are integer dot
** products:
**
**     weights            activations      per block of the weight type
**     Q8_0, Q4_0         Q8_0 (32)        y += (float)isum * (d_w * d_a)
**     Q4_K, Q5_K         Q8_K (256)       y += (float)isum * (d_w*d_a) - (float)imin * (dmin_w*d_a)
**     Q6_K               Q8_K (256)       y += (float)isum * (d_w * d_a)
**     F32, F16           f32              y += w * x
**     BF16               bf16             y += w * bf16(x)
**
** isum is the exact integer sum of the block (sub-block scales included), so every
** ISA computes the same integers, and the float accumulation over blocks is done in
** block order with one fused multiply-add each: for the integer types all ISAs give
** bit-identical results (tests/llm/test_kernels.c checks this).  The float types
** differ only by summation order.
**
** The activation quantization uses llama.cpp's rounding (nearest, ties to even as in
** its x86 code): Q8_0 d = max|x|/127 rounded through fp16; Q8_K d = 1/(-127/x_max)
** where x_max is the element of largest magnitude.
**
** Which instruction set runs is chosen once from the CPU (llm/cpu.h): AVX-512 VNNI,
** AVX2, or the portable scalar reference (ref.c).  PARAPET_ISA=scalar|avx2|avx512 in
** the environment, or pp_kernels_set_isa() in tests and benchmarks, forces one.
**
** Threads: pp_gemm splits the weight rows over the pool's threads (contiguous ranges,
** multiples of 16 rows); pool may be NULL (one thread).  All memory comes from the
** caller's `work` buffer: the kernels allocate nothing.
*/
#ifndef PP_KERNELS_H
#define PP_KERNELS_H

#include <stddef.h>
#include <stdint.h>
#include "llm/ggml_types.h"
#include "llm/pool.h"

/* ----------------------------------------------------------------- the ISA ---- */

typedef enum pp_isa {
    PP_ISA_SCALAR = 0,   /* portable C, the reference */
    PP_ISA_AVX2 = 1,     /* AVX2 + FMA + F16C */
    PP_ISA_AVX512 = 2,   /* AVX-512 F/BW/VL/VNNI (+BF16 when present) */
    PP_ISA_COUNT
} pp_isa;

/* The kernel set in use: the best the CPU and OS allow, or PARAPET_ISA if set (an
** ISA the CPU lacks falls back to the best available one). */
pp_isa pp_kernels_isa(void);
/* Forces a kernel set; returns 0, or -1 (and changes nothing) if the CPU lacks it.
** Not thread-safe against concurrent pp_gemm calls: for tests and benchmarks. */
int pp_kernels_set_isa(pp_isa isa);
/* Whether this CPU can run `isa`. */
int pp_kernels_isa_available(pp_isa isa);
const char *pp_isa_name(pp_isa isa);   /* "scalar", "avx2", "avx512" */

/* ------------------------------------------------------------------ matmul ---- */

/* Whether pp_gemm handles weight type `wtype`. */
int pp_gemm_supported(int wtype);

/* Bytes of `work` that pp_gemm / pp_gemm_rows need for n activation rows of k values
** with a pool of n_threads threads (0 for an unsupported type).  k must be a multiple
** of the weight type's block size. */
size_t pp_gemm_work_size(int wtype, size_t k, size_t n, int n_threads);

/* Y[t][i] = sum_j W[i][j] * X[t][j] for t < n, i < m (see the table above).
** X: n rows, stride ldx floats; Y: n rows, stride ldy floats (Y may not overlap X or
** work).  work: pp_gemm_work_size(wtype, k, n, pp_pool_size(pool)) bytes, 64-byte
** aligned.  No pointer needs any other alignment.  The caller has validated the
** shapes (k a multiple of the block size, w_row_bytes >= the ggml row size). */
void pp_gemm(int wtype, const void *W, size_t w_row_bytes, size_t m, size_t k,
             const float *X, size_t ldx, size_t n, float *Y, size_t ldy,
             void *work, pp_pool *pool);

/* Packing once.  pp_gemm repacks every 16 weight rows into a panel (internal.h) before
** multiplying them; a matrix used many times can be packed once instead:
**   pp_packed_bytes   bytes the packed form of an m x k matrix of wtype takes with the
**                     active kernel set, or 0 when that set multiplies W as it is (the
**                     scalar reference) -- then there is nothing to pack;
**   pp_pack_matrix    writes it into dst (64-byte aligned), panels split over the pool;
**   pp_gemm_packed    pp_gemm reading the panels from `packed` (W is still needed: a
**                     kernel set switched to the reference afterwards reads W).
** Results are bit-identical to pp_gemm's.  The panel layout is the same for every SIMD
** set, so a packed matrix stays valid when the set changes. */
size_t pp_packed_bytes(int wtype, size_t m, size_t k);
void pp_pack_matrix(int wtype, const void *W, size_t w_row_bytes, size_t m, size_t k,
                    void *dst, pp_pool *pool);
void pp_gemm_packed(int wtype, const void *packed, const void *W, size_t w_row_bytes, size_t m,
                    size_t k, const float *X, size_t ldx, size_t n, float *Y, size_t ldy,
                    void *work, pp_pool *pool);

/* As pp_gemm for the weight rows rows[0..n_rows) only (the LM head in scoring mode):
** Y[t][r] = sum_j W[rows[r]][j] * X[t][j].  The caller checked the ids are < m. */
void pp_gemm_rows(int wtype, const void *W, size_t w_row_bytes, const int32_t *rows,
                  size_t n_rows, size_t k, const float *X, size_t ldx, size_t n,
                  float *Y, size_t ldy, void *work, pp_pool *pool);

/* ------------------------------------------------------ element-wise ops ---- */

/* The forward pass's exp-heavy element-wise steps, vectorized per ISA with their own
** exp (range reduction to [-ln2/2, ln2/2] and a degree-6 polynomial: within 2 ulp of
** expf); the scalar set runs ops.c's references (pp_silu_mul, pp_softmax: libm expf).
**   pp_vec_silu_mul  g[i] = g[i] / (1 + exp(-g[i])) * u[i]
**   pp_vec_softmax   x[i] = exp(x[i] - max) / sum, the sum accumulated in double
**   pp_vec_gelu_mul  pp_gelu_mul (ops.h) bit for bit: the input rounded to f16 by the
**                    hardware's conversion, then a lookup in pp_gelu_f16_table() (a
**                    gather) instead of a tanhf per element */
void pp_vec_silu_mul(float *g, const float *u, size_t n);
void pp_vec_gelu_mul(float *g, const float *u, size_t n);

/* pp_fa_query (ops.h) bit for bit, with the head's dimensions in vector lanes (for head
** sizes that are a multiple of 16; others run the reference). */
void pp_vec_fa_query(const float *q, const float *kf, const float *vf, uint32_t hd, uint32_t first,
                     uint32_t n_valid, float scale, float softcap, float *out);

/* dst[i] = the f16 src[i] as f32 (exact), i < n. */
void pp_vec_f16_to_f32(float *dst, const uint16_t *src, size_t n);
void pp_vec_softmax(float *x, size_t n);

/* out[t][0..k) = W[ids[t]] dequantized, for t < n (the token embedding gather).
** Any type quant.h can dequantize.  The caller checked the ids. */
void pp_get_rows(int wtype, const void *W, size_t w_row_bytes, size_t k,
                 const int32_t *ids, size_t n, float *out);

#endif
