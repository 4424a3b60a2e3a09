/*
** test_kernels.c -- every matmul kernel, on every ISA this CPU has, against ref.c.
**
** Two kinds of check:
**  - exact: for the integer weight types each ISA must reproduce the reference dot
**    product (same quantized activations, same integers, same fma order) bit for bit;
**    the float types (F32, F16, BF16) only up to summation order, checked against a
**    bound of k * 2^-22 * sum|w*x| (a few ulps of the sum of magnitudes);
**  - semantic: the reference itself against plain float math on dequantized weights,
**    within the error activation quantization adds (8-bit: a relative 1/127 of each
**    |w*x| at worst, so 1.2% of sum|w*x| bounds it).
** Shapes are odd on purpose: m and n that fill neither a 16-row panel nor a token
** tile, the smallest legal k, and X/Y pointers offset by one float.
*/
#include "test.h"
#include "llm/kernels/internal.h"
#include "llm/ops.h"
#include "llm/quant.h"
#include "llm/pool.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static float frand(void) {   /* uniform in [-1, 1) */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (float)((rng_state >> 40) & 0xffffff) / 8388608.0f - 1.0f;
}

static const int kTypes[] = { PP_GGML_F32, PP_GGML_F16, PP_GGML_BF16, PP_GGML_Q8_0,
                              PP_GGML_Q4_0, PP_GGML_Q4_K, PP_GGML_Q5_K, PP_GGML_Q6_K };

static int is_int_type(int t) { return t != PP_GGML_F32 && t != PP_GGML_F16 && t != PP_GGML_BF16; }

/* m random rows of type t, k values each; caller frees.  Values get a per-row scale
** so rows differ in magnitude. */
static uint8_t *make_weights(int t, size_t m, size_t k, size_t *rb) {
    uint64_t b;
    pp_ggml_row_bytes((uint32_t)t, k, &b);
    *rb = (size_t)b;
    uint8_t *w = malloc(m * *rb + 1);
    float *row = malloc(k * sizeof(float));
    for (size_t i = 0; i < m; i++) {
        float s = 0.1f + (float)(i % 5);
        for (size_t j = 0; j < k; j++) row[j] = s * frand();
        pp_quantize_row((uint32_t)t, row, w + i * *rb, (int64_t)k);
    }
    free(row);
    return w;
}

/* Activations quantized by the scalar reference, row by row. */
static uint8_t *ref_act(int t, const float *X, size_t ldx, size_t n, size_t k) {
    size_t arb = pp_act_row_bytes(t, k);
    if (!arb) return NULL;
    uint8_t *a = malloc(n * arb);
    for (size_t r = 0; r < n; r++) {
        int at = pp_act_type(t);
        if (at == PP_GGML_Q8_0) pp_quantize_act_q8_0(X + r * ldx, k, (pp_act_q8_0 *)(void *)(a + r * arb));
        else if (at == PP_GGML_Q8_K) pp_quantize_act_q8_K(X + r * ldx, k, (pp_act_q8_K *)(void *)(a + r * arb));
        else pp_quantize_act_bf16(X + r * ldx, k, (uint16_t *)(void *)(a + r * arb));
    }
    return a;
}

/* sum_j |w_ij x_j| with dequantized weights: the scale of the rounding errors. */
static double abs_dot(int t, const uint8_t *w, const float *x, size_t k, float *tmp) {
    pp_dequantize_row((uint32_t)t, w, tmp, (int64_t)k);
    double s = 0;
    for (size_t j = 0; j < k; j++) s += fabs((double)tmp[j] * x[j]);
    return s;
}

/* Runs pp_gemm for type t on the current ISA and compares with the reference. */
static int check_gemm(int t, size_t m, size_t n, size_t k, pp_pool *pool) {
    size_t rb;
    uint8_t *W = make_weights(t, m, k, &rb);
    size_t ldx = k + 3, ldy = m + 5;
    float *Xbuf = malloc((n * ldx + 1) * sizeof(float)), *X = Xbuf + 1;   /* unaligned */
    float *Ybuf = malloc((n * ldy + 1) * sizeof(float)), *Y = Ybuf + 1;
    for (size_t i = 0; i < n * ldx; i++) X[i] = frand() * 2.0f;
    for (size_t i = 0; i < n * ldy; i++) Y[i] = -12345.0f;   /* untouched outside m */
    size_t ws = pp_gemm_work_size(t, k, n, pp_pool_size(pool));
    void *work = aligned_alloc(64, (ws + 63) & ~(size_t)63);
    pp_gemm(t, W, rb, m, k, X, ldx, n, Y, ldy, work, pool);
    uint8_t *A = ref_act(t, X, ldx, n, k);
    size_t arb = pp_act_row_bytes(t, k);
    float *tmp = malloc(k * sizeof(float));
    int ok = 1;
    for (size_t r = 0; r < n && ok; r++) {
        if (Y[r * ldy + m] != -12345.0f) {
            pt_fail(__FILE__, __LINE__, "%s: write past row end (m=%zu n=%zu)", pp_ggml_type_name((uint32_t)t), m, n);
            ok = 0;
        }
        for (size_t i = 0; i < m && ok; i++) {
            const void *arow = A ? (const void *)(A + r * arb) : (const void *)(X + r * ldx);
            float want = pp_ref_dot(t, W + i * rb, arow, k), got = Y[r * ldy + i];
            double scale = abs_dot(t, W + i * rb, X + r * ldx, k, tmp);
            if (is_int_type(t) ? got != want
                               : !(fabs((double)got - want) <= (double)k * 0x1p-22 * scale + 1e-30)) {
                pt_fail(__FILE__, __LINE__, "%s on %s: m=%zu n=%zu k=%zu Y[%zu][%zu] = %.9g, ref %.9g",
                        pp_ggml_type_name((uint32_t)t), pp_isa_name(pp_kernels_isa()), m, n, k, r, i,
                        got, want);
                ok = 0;
            }
        }
    }
    free(tmp); free(A); free(work); free(Ybuf); free(Xbuf); free(W);
    return ok;
}

static int for_each_isa(int (*fn)(pp_pool *), pp_pool *pool) {
    pp_isa saved = pp_kernels_isa();
    int ok = 1;
    for (int isa = 0; isa < PP_ISA_COUNT && ok; isa++) {
        if (pp_kernels_set_isa((pp_isa)isa) != 0) continue;
        ok = fn(pool);
    }
    pp_kernels_set_isa(saved);
    return ok;
}

static int gemm_shapes(pp_pool *pool) {
    static const size_t ms[] = { 1, 3, 17, 33 }, ns[] = { 1, 3, 7, 9, 13 };
    for (size_t ti = 0; ti < PP_ARRAY_LEN(kTypes); ti++) {
        int t = kTypes[ti];
        size_t blk = pp_ggml_type_get((uint32_t)t)->blck;
        size_t kbase = blk == 1 ? 37 : blk;   /* odd k for the plain types */
        for (size_t a = 0; a < PP_ARRAY_LEN(ms); a++)
            for (size_t b = 0; b < PP_ARRAY_LEN(ns); b++) {
                size_t k = kbase * (1 + (a + b) % 2);
                if (!check_gemm(t, ms[a], ns[b], k, pool)) return 0;
            }
    }
    return 1;
}

TEST(kernels_gemm_every_isa_matches_reference) {
    CHECK(for_each_isa(gemm_shapes, NULL));
}

TEST(kernels_gemm_threads_match_reference) {
    pp_pool *pool = NULL;
    CHECK_OK(pp_pool_create(3, &pool));
    int ok = for_each_isa(gemm_shapes, pool);
    pp_pool_destroy(pool);
    CHECK(ok);
}

/* The reference against float math on dequantized weights: catches a reference that
** is self-consistent but wrong (bad layout, wrong offsets, wrong sign of the mins). */
TEST(kernels_reference_matches_dequantized_math) {
    size_t k = 512, n = 3;
    for (size_t ti = 0; ti < PP_ARRAY_LEN(kTypes); ti++) {
        int t = kTypes[ti];
        size_t rb;
        uint8_t *W = make_weights(t, 4, k, &rb);
        float X[3 * 512], *w = malloc(k * sizeof(float));
        for (size_t i = 0; i < n * k; i++) X[i] = frand();
        uint8_t *A = ref_act(t, X, k, n, k);
        int ok = 1;
        for (size_t i = 0; i < 4 && ok; i++)
            for (size_t r = 0; r < n && ok; r++) {
                pp_dequantize_row((uint32_t)t, W + i * rb, w, (int64_t)k);
                double exact = 0, mag = 0;
                for (size_t j = 0; j < k; j++) { exact += (double)w[j] * X[r * k + j]; mag += fabs((double)w[j] * X[r * k + j]); }
                const void *arow = A ? (const void *)(A + r * pp_act_row_bytes(t, k)) : (const void *)(X + r * k);
                double got = pp_ref_dot(t, W + i * rb, arow, k);
                double tol = (t == PP_GGML_F32 || t == PP_GGML_F16) ? 1e-5 * mag : 0.012 * mag;
                if (!(fabs(got - exact) <= tol)) {
                    pt_fail(__FILE__, __LINE__, "%s: ref %.6g, float math %.6g (tol %.3g)",
                            pp_ggml_type_name((uint32_t)t), got, exact, tol);
                    ok = 0;
                }
            }
        free(A); free(w); free(W);
        if (!ok) return;
    }
}

/* The checker can fail: a weight changed after the gemm must show up. */
TEST(kernels_checker_detects_a_wrong_result) {
    size_t k = 64, rb;
    uint8_t *W = make_weights(PP_GGML_Q8_0, 1, k, &rb);
    float X[64], Y[1];
    for (int j = 0; j < 64; j++) X[j] = frand();
    void *work = aligned_alloc(64, (pp_gemm_work_size(PP_GGML_Q8_0, k, 1, 1) + 63) & ~(size_t)63);
    pp_gemm(PP_GGML_Q8_0, W, rb, 1, k, X, k, 1, Y, 1, work, NULL);
    W[2] ^= 0x7f;   /* first quant of the first block */
    pp_act_q8_0 A[2];
    pp_quantize_act_q8_0(X, k, A);
    float want = pp_ref_dot(PP_GGML_Q8_0, W, A, k);
    free(work); free(W);
    CHECK(Y[0] != want);
}

static int act_quant_isa(pp_pool *pool) {
    const pp_kernel_set *ks = pp_kernels_active();
    float x[512];
    for (int round = 0; round < 4; round++) {
        for (int j = 0; j < 512; j++) x[j] = frand() * (round == 3 ? 1e-3f : 3.0f);
        if (round == 1) for (int j = 0; j < 256; j++) x[j] = 0.0f;          /* all-zero block */
        if (round == 2) { x[5] = 7.0f; x[9] = -7.0f; }                         /* tie for max */
        pp_act_q8_0 a[16], b[16];
        pp_act_q8_K c[2], d[2];
        memset(a, 0, sizeof a); memset(b, 0, sizeof b); memset(c, 0, sizeof c); memset(d, 0, sizeof d);
        pp_quantize_act_q8_0(x, 512, a);
        (ks->quant_q8_0 ? ks->quant_q8_0 : pp_quantize_act_q8_0)(x, 512, b);
        pp_quantize_act_q8_K(x, 512, c);
        (ks->quant_q8_K ? ks->quant_q8_K : pp_quantize_act_q8_K)(x, 512, d);
        if (memcmp(a, b, sizeof a) || memcmp(c, d, sizeof c)) {
            pt_fail(__FILE__, __LINE__, "activation quantizer differs on %s (round %d)",
                    pp_isa_name(pp_kernels_isa()), round);
            return 0;
        }
    }
    return 1;
}

TEST(kernels_activation_quantizers_bit_identical) {
    CHECK(for_each_isa(act_quant_isa, NULL));
}

TEST(kernels_act_q8_0_follows_llama_cpp) {
    float x[32];
    for (int j = 0; j < 32; j++) x[j] = (float)(j - 16) / 4.0f;   /* max |x| = 4 at j=0 */
    pp_act_q8_0 a;
    pp_quantize_act_q8_0(x, 32, &a);
    CHECK_EQ(a.qs[0], -127);
    CHECK_EQ(a.qs[16], 0);
    CHECK_EQ(a.qs[31], 119);   /* 3.75 * 127/4 = 119.06 */
    CHECK(a.d == pp_fp16_to_f32(pp_f32_to_fp16(4.0f / 127.0f)));
    int sum = 0;
    for (int j = 0; j < 32; j++) sum += a.qs[j];
    CHECK_EQ(a.sum, sum);
}

TEST(kernels_act_q8_K_maps_max_to_minus_127) {
    float x[256];
    for (int j = 0; j < 256; j++) x[j] = 0.01f * (float)(j % 7);
    x[100] = -2.0f;
    pp_act_q8_K a;
    pp_quantize_act_q8_K(x, 256, &a);
    CHECK_EQ(a.qs[100], -127);   /* iscale = -127/max with max = -2 -> +63.5 */
    CHECK_NEAR(a.d, 2.0f / 127.0f, 1e-9);   /* d = 1/iscale */
    CHECK_NEAR(a.d * a.qs[100], -2.0f, 1e-6);
    int s = 0;
    for (int j = 96; j < 112; j++) s += a.qs[j];
    CHECK_EQ(a.bsum16[6], s);
    CHECK_EQ(a.bsum32[3], a.bsum16[6] + a.bsum16[7]);
}

static int rows_isa(pp_pool *pool) {
    const int types[] = { PP_GGML_Q6_K, PP_GGML_Q8_0, PP_GGML_F16 };
    for (size_t ti = 0; ti < 3; ti++) {
        int t = types[ti];
        size_t k = t == PP_GGML_Q8_0 ? 64 : 256, m = 40, n = 3, rb;
        uint8_t *W = make_weights(t, m, k, &rb);
        float X[3 * 256], Yall[3 * 40], Ysub[3 * 5];
        for (size_t i = 0; i < n * k; i++) X[i] = frand();
        const int32_t rows[5] = { 39, 0, 17, 17, 5 };
        void *work = aligned_alloc(64, (pp_gemm_work_size(t, k, n, pp_pool_size(pool)) + 63) & ~(size_t)63);
        pp_gemm(t, W, rb, m, k, X, k, n, Yall, m, work, pool);
        pp_gemm_rows(t, W, rb, rows, 5, k, X, k, n, Ysub, 5, work, pool);
        int ok = 1;
        for (size_t r = 0; r < n; r++)
            for (int j = 0; j < 5; j++)
                if (Ysub[r * 5 + j] != Yall[r * m + (size_t)rows[j]]) ok = 0;
        free(work); free(W);
        if (!ok) {
            pt_fail(__FILE__, __LINE__, "gemm_rows differs from gemm (%s, %s)",
                    pp_ggml_type_name((uint32_t)t), pp_isa_name(pp_kernels_isa()));
            return 0;
        }
    }
    return 1;
}

TEST(kernels_gemm_rows_equals_gemm_columns) {
    CHECK(for_each_isa(rows_isa, NULL));
}

/* A matrix packed once gives pp_gemm's bits on every ISA, for every type, with m that
** leaves a partial last panel; and a matrix packed under one set stays valid when the
** set changes (the layout is shared), including a switch to the reference. */
static int packed_isa(pp_pool *pool) {
    pp_isa isa = pp_kernels_isa();
    for (size_t ti = 0; ti < PP_ARRAY_LEN(kTypes); ti++) {
        int t = kTypes[ti];
        size_t blk = pp_ggml_type_get((uint32_t)t)->blck;
        size_t k = blk == 1 ? 74 : 2 * blk, m = 37, n = 11, rb;
        uint8_t *W = make_weights(t, m, k, &rb);
        float *X = malloc(n * k * sizeof(float)), *Y1 = malloc(n * m * sizeof(float)),
              *Y2 = malloc(n * m * sizeof(float));
        for (size_t i = 0; i < n * k; i++) X[i] = frand();
        void *work = aligned_alloc(64, (pp_gemm_work_size(t, k, n, pp_pool_size(pool)) + 63) & ~(size_t)63);
        pp_gemm(t, W, rb, m, k, X, k, n, Y1, m, work, pool);
        /* pack under the best set (the one a model load sees), multiply under this one */
        pp_kernels_set_isa(pp_kernels_isa_available(PP_ISA_AVX512) ? PP_ISA_AVX512
                           : pp_kernels_isa_available(PP_ISA_AVX2) ? PP_ISA_AVX2 : PP_ISA_SCALAR);
        size_t pb = pp_packed_bytes(t, m, k);
        void *P = pb ? aligned_alloc(64, pb) : NULL;
        if (P) pp_pack_matrix(t, W, rb, m, k, P, pool);
        pp_kernels_set_isa(isa);
        pp_gemm_packed(t, P, W, rb, m, k, X, k, n, Y2, m, work, pool);
        int same = !memcmp(Y1, Y2, n * m * sizeof(float));
        free(P); free(work); free(Y2); free(Y1); free(X); free(W);
        if (!same) {
            pt_fail(__FILE__, __LINE__, "packed gemm differs from gemm (%s, %s)",
                    pp_ggml_type_name((uint32_t)t), pp_isa_name(isa));
            return 0;
        }
    }
    return 1;
}

TEST(kernels_packed_gemm_equals_gemm) {
    pp_pool *pool = NULL;
    CHECK_OK(pp_pool_create(2, &pool));
    int ok = for_each_isa(packed_isa, NULL) && for_each_isa(packed_isa, pool);
    pp_pool_destroy(pool);
    CHECK(ok);
}

/* The vectorized SiLU product and softmax against ops.c's libm references: odd lengths
** (vector bodies and tails), values across the exp range including its clamps. */
static int elementwise_isa(pp_pool *pool) {
    (void)pool;
    static const size_t lens[] = {1, 7, 8, 15, 16, 17, 33, 1000};
    for (size_t li = 0; li < PP_ARRAY_LEN(lens); li++) {
        size_t n = lens[li];
        float g[1000], u[1000], g_ref[1000], x[1000], x_ref[1000];
        for (size_t i = 0; i < n; i++) {
            g[i] = g_ref[i] = frand() * (i % 5 == 0 ? 120.0f : 12.0f);   /* some beyond exp's range */
            u[i] = frand() * 3.0f;
            x[i] = x_ref[i] = frand() * 30.0f;
        }
        pp_vec_silu_mul(g, u, n);
        pp_silu_mul(g_ref, u, (int64_t)n);
        pp_vec_softmax(x, n);
        pp_softmax(x_ref, (int64_t)n);
        double sum = 0;
        for (size_t i = 0; i < n; i++) {
            sum += x[i];
            double tol_g = 4e-7 * fabs(g_ref[i]) + 1e-30, tol_x = 1e-6 * x_ref[i] + 1e-38;
            if (!(fabs((double)g[i] - g_ref[i]) <= tol_g) || !(fabs((double)x[i] - x_ref[i]) <= tol_x)) {
                pt_fail(__FILE__, __LINE__, "%s n=%zu i=%zu: silu %.9g vs %.9g, softmax %.9g vs %.9g",
                        pp_isa_name(pp_kernels_isa()), n, i, g[i], g_ref[i], x[i], x_ref[i]);
                return 0;
            }
        }
        if (fabs(sum - 1) > 1e-5) {
            pt_fail(__FILE__, __LINE__, "%s n=%zu: softmax sums to %.9g", pp_isa_name(pp_kernels_isa()), n, sum);
            return 0;
        }
    }
    return 1;
}

TEST(kernels_elementwise_match_reference) {
    CHECK(for_each_isa(elementwise_isa, NULL));
}

/* The table GELU against ops.c's reference, bit for bit: every f16 number as input
** (both its lanes and tails), then random floats, which the f16 rounding of the input
** has to round like the reference does, and the +-10 edges, infinities and a NaN. */
static int gelu_isa(pp_pool *pool) {
    (void)pool;
    enum { N = 65536 + 4099 };
    float *g = malloc(N * sizeof *g), *u = malloc(N * sizeof *u), *ref = malloc(N * sizeof *ref);
    int ok = g && u && ref;
    for (size_t i = 0; ok && i < N; i++) {
        g[i] = i < 65536 ? pp_fp16_to_f32((uint16_t)i) : frand() * 11.0f;
        u[i] = 0.5f + frand();
    }
    static const float edges[] = {-10.0f, 10.0f, -9.999999f, 9.999999f, -10.000001f, 10.000001f,
                                  INFINITY, -INFINITY, NAN, 0.0f, -0.0f, 1e-30f};
    for (size_t i = 0; ok && i < PP_ARRAY_LEN(edges); i++) g[N - 1 - i] = edges[i];
    if (ok) memcpy(ref, g, N * sizeof *g);
    if (ok) pp_gelu_mul(ref, u, N);
    static const size_t cuts[] = {N, 1, 7, 15, 17, 33};
    for (size_t c = 0; ok && c < PP_ARRAY_LEN(cuts); c++) {
        float *x = malloc(N * sizeof *x);
        if (!x) { ok = 0; break; }
        memcpy(x, g, N * sizeof *g);
        for (size_t off = 0; off < N; off += cuts[c])   /* the same values, called in pieces */
            pp_vec_gelu_mul(x + off, u + off, PP_MIN(cuts[c], N - off));
        for (size_t i = 0; ok && i < N; i++)
            if (memcmp(&x[i], &ref[i], 4) && !(isnan(x[i]) && isnan(ref[i]))) {
                pt_fail(__FILE__, __LINE__, "%s pieces of %zu: gelu(%.9g) * %.9g = %.9g, reference %.9g",
                        pp_isa_name(pp_kernels_isa()), cuts[c], g[i], u[i], x[i], ref[i]);
                ok = 0;
            }
        free(x);
    }
    free(g); free(u); free(ref);
    return ok;
}

TEST(kernels_gelu_table_matches_reference) {
    CHECK(for_each_isa(gelu_isa, NULL));
}

/* The short-item attention query against its reference, bit for bit: head sizes with
** and without the vector path, windows (first > 0), keys in rising and random order
** (the running max grows often or rarely), with and without a soft-cap. */
static int fa_query_isa(pp_pool *pool) {
    (void)pool;
    static const uint32_t hds[] = {16, 64, 128, 256, 40};
    enum { NKV = 300 };
    int ok = 1;
    for (size_t hi = 0; ok && hi < PP_ARRAY_LEN(hds); hi++) {
        const uint32_t hd = hds[hi];
        float *q = malloc(hd * sizeof *q), *k = malloc((size_t)NKV * hd * sizeof *k),
              *v = malloc((size_t)NKV * hd * sizeof *v), out[256], ref[256];
        if (!q || !k || !v) { free(q); free(k); free(v); return 0; }
        for (int round = 0; ok && round < 4; round++) {
            for (uint32_t d = 0; d < hd; d++) q[d] = frand() * 2.0f;
            for (size_t p = 0; p < (size_t)NKV * hd; p++) {
                k[p] = pp_fp16_to_f32(pp_f32_to_fp16(frand() * 2.0f));   /* an f16 cache */
                v[p] = pp_fp16_to_f32(pp_f32_to_fp16(frand() * 3.0f));
            }
            if (round & 1)   /* rising scores: a new max at nearly every key */
                for (size_t p = 0; p < NKV; p++)
                    for (uint32_t d = 0; d < hd; d++) k[p * hd + d] += (float)p * 0.01f * (q[d] > 0 ? 1 : -1);
            const float softcap = round >= 2 ? 50.0f : 0.0f, scale = 1.0f / sqrtf((float)hd) / (softcap ? softcap : 1);
            static const uint32_t spans[][2] = {{0, 1}, {0, 7}, {0, NKV}, {100, NKV}, {250, 251}};
            for (size_t si = 0; ok && si < PP_ARRAY_LEN(spans); si++) {
                pp_vec_fa_query(q, k, v, hd, spans[si][0], spans[si][1], scale, softcap, out);
                pp_fa_query(q, k, v, hd, spans[si][0], spans[si][1], scale, softcap, ref);
                if (memcmp(out, ref, hd * sizeof *out)) {
                    pt_fail(__FILE__, __LINE__, "%s hd=%u keys [%u,%u) round %d: fa_query differs",
                            pp_isa_name(pp_kernels_isa()), hd, spans[si][0], spans[si][1], round);
                    ok = 0;
                }
            }
        }
        free(q); free(k); free(v);
    }
    /* and the f16 -> f32 conversion of the cache, every f16 number, odd lengths */
    float *x = malloc(65536 * sizeof *x);
    uint16_t *h = malloc(65536 * sizeof *h);
    if (!x || !h) ok = 0;
    for (uint32_t i = 0; ok && i < 65536; i++) h[i] = (uint16_t)i;
    static const size_t cuts[] = {65536, 13, 16};
    for (size_t c = 0; ok && c < PP_ARRAY_LEN(cuts); c++) {
        for (size_t off = 0; off < 65536; off += cuts[c]) pp_vec_f16_to_f32(x + off, h + off, PP_MIN(cuts[c], 65536 - off));
        for (uint32_t i = 0; ok && i < 65536; i++) {
            float r = pp_fp16_to_f32((uint16_t)i);
            if (memcmp(&x[i], &r, 4) && !(isnan(x[i]) && isnan(r))) {
                pt_fail(__FILE__, __LINE__, "%s: f16 %04x -> %.9g, reference %.9g", pp_isa_name(pp_kernels_isa()),
                        i, x[i], r);
                ok = 0;
            }
        }
    }
    free(x); free(h);
    return ok;
}

TEST(kernels_fa_query_matches_reference) {
    CHECK(for_each_isa(fa_query_isa, NULL));
}

TEST(kernels_get_rows_dequantizes) {
    size_t k = 256, rb;
    uint8_t *W = make_weights(PP_GGML_Q4_K, 6, k, &rb);
    const int32_t ids[3] = { 5, 0, 5 };
    float out[3 * 256], want[256];
    pp_get_rows(PP_GGML_Q4_K, W, rb, k, ids, 3, out);
    pp_dequantize_row(PP_GGML_Q4_K, W + 5 * rb, want, (int64_t)k);
    int same = !memcmp(out, want, sizeof want) && !memcmp(out + 512, want, sizeof want);
    pp_dequantize_row(PP_GGML_Q4_K, W, want, (int64_t)k);
    same = same && !memcmp(out + 256, want, sizeof want);
    free(W);
    CHECK(same);
}

TEST(kernels_isa_selection) {
    CHECK(pp_kernels_isa_available(PP_ISA_SCALAR));
    pp_isa saved = pp_kernels_isa();
    CHECK_EQ(pp_kernels_set_isa(PP_ISA_SCALAR), 0);
    CHECK_EQ(pp_kernels_isa(), PP_ISA_SCALAR);
    CHECK_EQ(pp_kernels_set_isa((pp_isa)99), -1);
    CHECK_EQ(pp_kernels_isa(), PP_ISA_SCALAR);
    pp_kernels_set_isa(saved);
    CHECK_STR(pp_isa_name(PP_ISA_AVX512), "avx512");
    CHECK_EQ(pp_gemm_work_size(PP_GGML_Q2_K, 256, 1, 1), 0);
    CHECK(!pp_gemm_supported(PP_GGML_Q2_K));
}
