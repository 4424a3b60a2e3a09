/*
** matmul_bench.c -- throughput of pp_gemm on the Llama Guard 3 1B matmul shapes.
**
**   matmul_bench [--threads N] [--n TOKENS] [--isa scalar|avx2|avx512] [--reps R] [--unpacked]
**
** For Q8_0 and Q4_K_M it times every distinct matmul of one LG3-1B layer (k=2048:
** q/o m=2048, k/v m=512, gate/up m=8192; ffn_down k=8192 m=2048) on random weights,
** reports GFLOP/s per shape, and adds them up (x16 layers, Q4_K_M's Q6_K layers
** weighted as in B.3: attn_v and ffn_down are Q6_K on 8 of 16 layers) into the
** prefill tokens/s the matmuls alone allow.  Attention, norms and the LM head are not
** included, so this is an upper bound for a whole forward pass.
*/
#include "llm/kernels/kernels.h"
#include "llm/pool.h"
#include "llm/quant.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int g_unpacked;

/* Median seconds of one pp_gemm of type t, m x k, n tokens. */
static double time_gemm(int t, size_t m, size_t k, size_t n, pp_pool *pool, int reps) {
    uint64_t rb;
    pp_ggml_row_bytes((uint32_t)t, k, &rb);
    uint8_t *W = malloc(m * rb);
    float *row = malloc(k * sizeof(float));
    uint64_t s = 88172645463325252ull;
    for (size_t i = 0; i < m; i++) {
        for (size_t j = 0; j < k; j++) {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            row[j] = (float)((s >> 40) & 0xffff) / 32768.0f - 1.0f;
        }
        pp_quantize_row((uint32_t)t, row, W + i * rb, (int64_t)k);
    }
    float *X = malloc(n * k * sizeof(float)), *Y = malloc(n * m * sizeof(float));
    for (size_t i = 0; i < n * k; i++) X[i] = (float)((i * 2654435761u) % 1000) / 500.0f - 1.0f;
    size_t ws = pp_gemm_work_size(t, k, n, pp_pool_size(pool));
    void *work = aligned_alloc(64, (ws + 63) & ~(size_t)63);
    double best[64];
    if (reps > 64) reps = 64;
    /* packed once, as the forward pass does (weights.c); --unpacked: per-call packing */
    size_t pb = g_unpacked ? 0 : pp_packed_bytes(t, m, k);
    void *P = pb ? aligned_alloc(64, pb) : NULL;
    if (P) pp_pack_matrix(t, W, rb, m, k, P, pool);
    pp_gemm_packed(t, P, W, rb, m, k, X, k, n, Y, m, work, pool);   /* warm up */
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        pp_gemm_packed(t, P, W, rb, m, k, X, k, n, Y, m, work, pool);
        best[r] = now() - t0;
    }
    free(P);
    for (int i = 1; i < reps; i++)   /* insertion sort for the median */
        for (int j = i; j > 0 && best[j] < best[j - 1]; j--) { double x = best[j]; best[j] = best[j - 1]; best[j - 1] = x; }
    free(work); free(Y); free(X); free(row); free(W);
    return getenv("MATMUL_MIN") ? best[0] : best[reps / 2];   /* MATMUL_MIN=1: the fastest run */
}

int main(int argc, char **argv) {
    int threads = 2, reps = 5;
    size_t n = 224;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--n") && i + 1 < argc) n = (size_t)atol(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--quant") && i + 1 < argc) only = argv[++i];
        else if (!strcmp(argv[i], "--unpacked")) g_unpacked = 1;
        else if (!strcmp(argv[i], "--isa") && i + 1 < argc) {
            const char *want = argv[++i];
            int ok = -1;
            for (int isa = 0; isa < PP_ISA_COUNT; isa++)
                if (!strcmp(want, pp_isa_name((pp_isa)isa))) ok = pp_kernels_set_isa((pp_isa)isa);
            if (ok) { fprintf(stderr, "isa %s not available\n", want); return 2; }
        } else {
            fprintf(stderr, "usage: %s [--threads N] [--n TOKENS] [--isa NAME] [--reps R] [--quant q8_0|q4_k_m] [--unpacked]\n", argv[0]);
            return 2;
        }
    }
    pp_pool *pool = NULL;
    if (pp_pool_create(threads, &pool) != PARAPET_OK) return 1;
    printf("isa %s, %d threads, n=%zu tokens\n", pp_isa_name(pp_kernels_isa()), threads, n);
    struct { const char *name; size_t m, k; int count; } shapes[] = {
        { "attn_q/o", 2048, 2048, 2 }, { "attn_k/v", 512, 2048, 2 },
        { "ffn_gate/up", 8192, 2048, 2 }, { "ffn_down", 2048, 8192, 1 },
    };
    const char *quants[] = { "q8_0", "q4_k_m" };
    for (int q = 0; q < 2; q++) {
        if (only && strcmp(only, quants[q])) continue;
        double layer = 0;
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            int base = q == 0 ? PP_GGML_Q8_0 : PP_GGML_Q4_K;
            double t = time_gemm(base, shapes[s].m, shapes[s].k, n, pool, reps);
            double flop = 2.0 * shapes[s].m * shapes[s].k * n;
            printf("  %-7s %-12s m=%5zu k=%5zu  %8.2f ms  %7.1f GFLOP/s\n", quants[q], shapes[s].name,
                   shapes[s].m, shapes[s].k, t * 1e3, flop / t * 1e-9);
            double cost = t * shapes[s].count;
            if (q == 1 && (s == 1 || s == 3)) {   /* attn_v / ffn_down: Q6_K on half the layers */
                double t6 = time_gemm(PP_GGML_Q6_K, shapes[s].m, shapes[s].k, n, pool, reps);
                printf("  %-7s %-12s m=%5zu k=%5zu  %8.2f ms  %7.1f GFLOP/s (q6_K)\n", quants[q],
                       shapes[s].name, shapes[s].m, shapes[s].k, t6 * 1e3, flop / t6 * 1e-9);
                double one = s == 1 ? t : 0;   /* attn_k stays Q4_K; attn_v or ffn_down mixes */
                cost = s == 1 ? one + 0.5 * (t + t6) : 0.5 * (t + t6);
            }
            layer += cost;
        }
        double total = 16 * layer;
        printf("  %-7s all matmuls of 16 layers: %.1f ms for %zu tokens = %.1f tok/s (%.1f GFLOP/s)\n",
               quants[q], total * 1e3, n, n / total, 1.95e9 * n / total * 1e-9);
    }
    pp_pool_destroy(pool);
    return 0;
}
