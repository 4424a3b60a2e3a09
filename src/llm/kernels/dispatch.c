/*
** dispatch.c -- picks the kernel set at run time and drives pp_gemm over the pool.
**
** A matmul runs in two parallel phases separated by the pool's barrier:
**   1. the n activation rows are quantized to the weight type's vec_dot type
**      (tokens split over threads) into the front of the work buffer;
**   2. the m weight rows are split into contiguous ranges of whole 16-row panels, one
**      per thread; each thread packs one panel at a time into its own slice of the
**      work buffer and runs the ISA's panel kernel over all n tokens.
** With the scalar set (or a type an ISA has no kernel for) phase 2 calls the
** reference dot product of ref.c row by row instead.
**
** The set is chosen once: the best of avx512 > avx2 > scalar that cpu.h reports as
** usable, unless PARAPET_ISA names another (an unusable one is ignored).
*/
#include "llm/kernels/internal.h"
#include "llm/cpu.h"
#include "llm/ops.h"
#include "llm/quant.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static pp_kernel_set g_sets[PP_ISA_COUNT];
static pp_isa g_isa = PP_ISA_SCALAR;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static const char *const isa_names[PP_ISA_COUNT] = { "scalar", "avx2", "avx512" };

const char *pp_isa_name(pp_isa isa) {
    return (unsigned)isa < PP_ISA_COUNT ? isa_names[isa] : "unknown";
}

int pp_kernels_isa_available(pp_isa isa) {
    const pp_cpu_features *f = pp_cpu();
    switch (isa) {
    case PP_ISA_SCALAR: return 1;
    case PP_ISA_AVX2: return f->avx2 && f->fma && f->f16c;
    case PP_ISA_AVX512:
        return f->avx2 && f->fma && f->f16c && f->avx512f && f->avx512bw && f->avx512vl &&
               f->avx512vnni;
    default: return 0;
    }
}

static void init_sets(void) {
    if (pp_kernels_isa_available(PP_ISA_AVX2)) pp_kernels_avx2_init(&g_sets[PP_ISA_AVX2]);
    if (pp_kernels_isa_available(PP_ISA_AVX512)) {
        /* AVX-512 implies AVX2 here: kernels it lacks (bf16 without AVX512_BF16) come
        ** from the AVX2 set */
        g_sets[PP_ISA_AVX512] = g_sets[PP_ISA_AVX2];
        pp_kernels_avx512_init(&g_sets[PP_ISA_AVX512]);
    }
    g_isa = PP_ISA_SCALAR;
    for (int i = PP_ISA_COUNT - 1; i > 0; i--)
        if (pp_kernels_isa_available((pp_isa)i)) { g_isa = (pp_isa)i; break; }
    const char *env = getenv("PARAPET_ISA");
    if (env)
        for (int i = 0; i < PP_ISA_COUNT; i++)
            if (!strcmp(env, isa_names[i]) && pp_kernels_isa_available((pp_isa)i)) g_isa = (pp_isa)i;
}

pp_isa pp_kernels_isa(void) {
    pthread_once(&g_once, init_sets);
    return g_isa;
}

int pp_kernels_set_isa(pp_isa isa) {
    pthread_once(&g_once, init_sets);
    if ((unsigned)isa >= PP_ISA_COUNT || !pp_kernels_isa_available(isa)) return -1;
    g_isa = isa;
    return 0;
}

const pp_kernel_set *pp_kernels_active(void) {
    pthread_once(&g_once, init_sets);
    return &g_sets[g_isa];
}

/* ------------------------------------------------------------------ matmul ---- */

int pp_gemm_supported(int wtype) {
    switch (wtype) {
    case PP_GGML_F32: case PP_GGML_F16: case PP_GGML_BF16: case PP_GGML_Q8_0:
    case PP_GGML_Q4_0: case PP_GGML_Q4_K: case PP_GGML_Q5_K: case PP_GGML_Q6_K: return 1;
    default: return 0;
    }
}

static size_t round64(size_t x) { return (x + 63) & ~(size_t)63; }

size_t pp_gemm_work_size(int wtype, size_t k, size_t n, int n_threads) {
    if (!pp_gemm_supported(wtype)) return 0;
    if (n_threads < 1) n_threads = 1;
    return round64(n * pp_act_row_bytes(wtype, k)) +
           (size_t)n_threads * round64(pp_panel_bytes(wtype, k));
}

typedef struct gemm_ctx {
    int wtype;
    const uint8_t *W;
    size_t wrb;              /* bytes between weight rows */
    const int32_t *rows;     /* NULL: rows 0..m-1, else the row ids */
    size_t m, k;
    const float *X;
    size_t ldx, n;
    float *Y;
    size_t ldy;
    const uint8_t *packed;   /* NULL, or every panel of W packed (pp_pack_matrix) */
    const uint8_t *act;      /* quantized activations (or X) */
    size_t act_stride;       /* bytes between activation rows */
    uint8_t *scratch;        /* per-thread panels */
    size_t scratch_stride;
    const pp_kernel_set *ks;
} gemm_ctx;

static void quantize_job(void *arg, size_t t0, size_t t1, int thread) {
    gemm_ctx *c = arg;
    int at = pp_act_type(c->wtype);
    for (size_t t = t0; t < t1; t++) {
        const float *x = c->X + t * c->ldx;
        void *dst = (void *)(c->act + t * c->act_stride);
        if (at == PP_GGML_Q8_0) (c->ks->quant_q8_0 ? c->ks->quant_q8_0 : pp_quantize_act_q8_0)(x, c->k, dst);
        else if (at == PP_GGML_Q8_K) (c->ks->quant_q8_K ? c->ks->quant_q8_K : pp_quantize_act_q8_K)(x, c->k, dst);
        else pp_quantize_act_bf16(x, c->k, dst);
    }
}

static const uint8_t *row_ptr(const gemm_ctx *c, size_t i) {
    return c->W + (c->rows ? (size_t)c->rows[i] : i) * c->wrb;
}

static void rows_job(void *arg, size_t i0, size_t i1, int thread) {
    gemm_ctx *c = arg;
    pp_panel_fn fn = c->ks->panel[c->wtype];
    if (!fn) {
        for (size_t i = i0; i < i1; i++) {
            const uint8_t *w = row_ptr(c, i);
            for (size_t t = 0; t < c->n; t++)
                c->Y[t * c->ldy + i] = pp_ref_dot(c->wtype, w, c->act + t * c->act_stride, c->k);
        }
        return;
    }
    void *panel = c->scratch + (size_t)thread * c->scratch_stride;
    for (size_t p = i0; p < i1; p += PP_PANEL) {
        int nr = (int)PP_MIN((size_t)PP_PANEL, i1 - p);
        if (c->packed) {
            panel = (void *)(c->packed + p / PP_PANEL * c->scratch_stride);
        } else {
            const void *rows[PP_PANEL];
            for (int r = 0; r < PP_PANEL; r++) rows[r] = r < nr ? row_ptr(c, p + (size_t)r) : NULL;
            pp_pack_panel(c->wtype, rows, c->k, panel);
        }
        fn(panel, c->k, c->act, c->act_stride, c->n, c->Y + p, c->ldy, nr);
    }
}

static void gemm_common(gemm_ctx *c, void *work, pp_pool *pool) {
    c->ks = pp_kernels_active();
    size_t arb = pp_act_row_bytes(c->wtype, c->k);
    if (arb) {
        c->act = work;
        c->act_stride = arb;
        pp_pool_for(pool, c->n, 1, quantize_job, c);
    } else {
        c->act = (const uint8_t *)c->X;
        c->act_stride = c->ldx * sizeof(float);
    }
    c->scratch = (uint8_t *)work + round64(c->n * arb);
    c->scratch_stride = round64(pp_panel_bytes(c->wtype, c->k));
    if (!c->ks->panel[c->wtype]) c->packed = NULL;   /* the reference reads W itself */
    pp_pool_for(pool, c->m, PP_PANEL, rows_job, c);
}

void pp_gemm(int wtype, const void *W, size_t w_row_bytes, size_t m, size_t k,
             const float *X, size_t ldx, size_t n, float *Y, size_t ldy,
             void *work, pp_pool *pool) {
    if (!m || !n) return;
    gemm_ctx c = { .wtype = wtype, .W = W, .wrb = w_row_bytes, .m = m, .k = k,
                   .X = X, .ldx = ldx, .n = n, .Y = Y, .ldy = ldy };
    gemm_common(&c, work, pool);
}

/* ------------------------------------------------------- packed matrices ---- */

size_t pp_packed_bytes(int wtype, size_t m, size_t k) {
    if (!pp_gemm_supported(wtype) || !pp_kernels_active()->panel[wtype]) return 0;
    return (m + PP_PANEL - 1) / PP_PANEL * round64(pp_panel_bytes(wtype, k));
}

typedef struct pack_ctx {
    int wtype;
    const uint8_t *W;
    size_t wrb, m, k, stride;
    uint8_t *dst;
} pack_ctx;

static void pack_job(void *arg, size_t p0, size_t p1, int thread) {
    const pack_ctx *c = arg;
    (void)thread;
    for (size_t p = p0; p < p1; p++) {
        const void *rows[PP_PANEL];
        for (size_t r = 0; r < PP_PANEL; r++) {
            size_t i = p * PP_PANEL + r;
            rows[r] = i < c->m ? c->W + i * c->wrb : NULL;
        }
        pp_pack_panel(c->wtype, rows, c->k, c->dst + p * c->stride);
    }
}

void pp_pack_matrix(int wtype, const void *W, size_t w_row_bytes, size_t m, size_t k,
                    void *dst, pp_pool *pool) {
    pack_ctx c = { wtype, W, w_row_bytes, m, k, round64(pp_panel_bytes(wtype, k)), dst };
    pp_pool_for(pool, (m + PP_PANEL - 1) / PP_PANEL, 1, pack_job, &c);
}

void pp_gemm_packed(int wtype, const void *packed, const void *W, size_t w_row_bytes, size_t m,
                    size_t k, const float *X, size_t ldx, size_t n, float *Y, size_t ldy,
                    void *work, pp_pool *pool) {
    if (!m || !n) return;
    gemm_ctx c = { .wtype = wtype, .W = W, .wrb = w_row_bytes, .m = m, .k = k, .packed = packed,
                   .X = X, .ldx = ldx, .n = n, .Y = Y, .ldy = ldy };
    gemm_common(&c, work, pool);
}

void pp_gemm_rows(int wtype, const void *W, size_t w_row_bytes, const int32_t *rows,
                  size_t n_rows, size_t k, const float *X, size_t ldx, size_t n,
                  float *Y, size_t ldy, void *work, pp_pool *pool) {
    if (!n_rows || !n) return;
    gemm_ctx c = { .wtype = wtype, .W = W, .wrb = w_row_bytes, .rows = rows, .m = n_rows,
                   .k = k, .X = X, .ldx = ldx, .n = n, .Y = Y, .ldy = ldy };
    gemm_common(&c, work, pool);
}

/* ------------------------------------------------------- element-wise ops ---- */

void pp_vec_silu_mul(float *g, const float *u, size_t n) {
    const pp_kernel_set *ks = pp_kernels_active();
    if (ks->silu_mul) ks->silu_mul(g, u, n);
    else pp_silu_mul(g, u, (int64_t)n);
}

void pp_vec_gelu_mul(float *g, const float *u, size_t n) {
    const pp_kernel_set *ks = pp_kernels_active();
    const float *tab = pp_gelu_f16_table();
    if (ks->gelu_mul) {
        ks->gelu_mul(g, u, tab, n);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const float x = g[i];
        const float y = x <= -10.0f ? 0.0f : x >= 10.0f ? x : tab[pp_f32_to_fp16(x)];
        g[i] = y * u[i];
    }
}

void pp_vec_fa_query(const float *q, const float *kf, const float *vf, uint32_t hd, uint32_t first,
                     uint32_t n_valid, float scale, float softcap, float *out) {
    const pp_kernel_set *ks = pp_kernels_active();
    if (ks->fa_query && hd % 16 == 0) ks->fa_query(q, kf, vf, hd, first, n_valid, scale, softcap, out);
    else pp_fa_query(q, kf, vf, hd, first, n_valid, scale, softcap, out);
}

void pp_vec_f16_to_f32(float *dst, const uint16_t *src, size_t n) {
    const pp_kernel_set *ks = pp_kernels_active();
    if (ks->f16_to_f32) {
        ks->f16_to_f32(dst, src, n);
        return;
    }
    for (size_t i = 0; i < n; i++) dst[i] = pp_fp16_to_f32(src[i]);
}

void pp_vec_softmax(float *x, size_t n) {
    const pp_kernel_set *ks = pp_kernels_active();
    if (ks->softmax) ks->softmax(x, n);
    else pp_softmax(x, (int64_t)n);
}

void pp_get_rows(int wtype, const void *W, size_t w_row_bytes, size_t k,
                 const int32_t *ids, size_t n, float *out) {
    for (size_t t = 0; t < n; t++)
        pp_dequantize_row((uint32_t)wtype, (const uint8_t *)W + (size_t)ids[t] * w_row_bytes,
                          out + t * k, (int64_t)k);
}
