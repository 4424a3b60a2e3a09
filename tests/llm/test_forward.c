/*
** test_forward.c -- the llama forward pass (src/llm/model.c, forward.c, ops.c, llm_api.c).
**
** Every test builds a small model in memory with the GGUF writer: 256-wide, 2 layers,
** 4 query heads sharing 2 kv heads (GQA), rope factors, an untied output matrix, and
** one weight type per matrix so that all eight supported types (F32 F16 BF16 Q8_0
** Q4_0 Q4_K Q5_K Q6_K) are exercised in one file, as in a Q4_K_M file's mix.
**
** What is proven:
**   - the pass equals a naive forward written here from the equations alone (f32
**     everything, dequantized weights, textbook attention), to 1e-3;
**   - a batch of n tokens gives the same logits as n single-token steps through the KV
**     cache, and as chunks of any size;
**   - truncate + recompute reproduces the logits exactly (prefix reuse);
**   - chosen-row logits equal the full logits' entries; tied output works;
**   - hostile files (wrong shapes, missing tensors, inconsistent hyper-parameters,
**     unsupported architecture or type) are refused with a detail naming the problem;
**   - nothing is allocated after the context exists (pp_alloc_fail_after counts), and
**     allocation failure at every step of open cleans up (run under `make asan`).
** The comparison against llama.cpp itself is tests/conformance/llm/.
*/
#include "test.h"
#include <math.h>
#include <stdlib.h>
#include "core/core.h"
#include "llm/gguf.h"
#include "llm/model.h"
#include "llm/quant.h"

/* ---------------------------------------------------------- the test model ---- */

enum { E = 256, L = 2, H = 4, HKV = 2, HD = 64, FF = 512, V = 96, NROT = 64 };

typedef struct spec {
    const char *arch;
    uint32_t types[9];       /* embd, q, k, v, o, gate, up, down, output */
    int tied, no_rope_freqs;
    uint64_t k_rows;         /* rows of attn_k (HKV*HD unless sabotaged) */
    uint32_t head_count;     /* H unless sabotaged */
    uint32_t vocab_key;      /* 0: no llama.vocab_size key */
    const char *drop;        /* a tensor to leave out */
    uint64_t rope_len;       /* NROT/2 unless sabotaged */
} spec;

static const spec good = {
    "llama",
    {PP_GGML_F32, PP_GGML_Q8_0, PP_GGML_Q4_K, PP_GGML_Q6_K, PP_GGML_F16, PP_GGML_Q5_K,
     PP_GGML_BF16, PP_GGML_Q4_0, PP_GGML_Q8_0},
    0, 0, HKV * HD, H, V, NULL, NROT / 2,
};

static uint64_t rng_state;
static float frand(void) {   /* roughly N(0,1): sum of 4 uniforms, scaled */
    float s = 0;
    for (int i = 0; i < 4; i++) {
        rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
        s += (float)((rng_state >> 40) & 0xffffff) / 16777216.0f - 0.5f;
    }
    return s * 1.7320508f;
}

/* Builds the GGUF bytes for spec s.  Caller pp_free's *mem. */
static pp_status build(const spec *s, void **mem, size_t *len) {
    rng_state = 12345;
    pp_gguf_writer *w = pp_gguf_writer_new(32);
    if (!w) return PARAPET_ERR_NOMEM;
    pp_status st;
    if ((st = pp_gguf_w_str(w, "general.architecture", s->arch, strlen(s->arch)))) goto out;
    char key[96];
#define KEY(k) (snprintf(key, sizeof key, "%s.%s", s->arch, k), key)
    if ((st = pp_gguf_w_u32(w, KEY("embedding_length"), E)) ||
        (st = pp_gguf_w_u32(w, KEY("block_count"), L)) ||
        (st = pp_gguf_w_u32(w, KEY("feed_forward_length"), FF)) ||
        (st = pp_gguf_w_u32(w, KEY("context_length"), 2048)) ||
        (st = pp_gguf_w_u32(w, KEY("attention.head_count"), s->head_count)) ||
        (st = pp_gguf_w_u32(w, KEY("attention.head_count_kv"), HKV)) ||
        (st = pp_gguf_w_f32(w, KEY("attention.layer_norm_rms_epsilon"), 1e-5f)) ||
        (st = pp_gguf_w_f32(w, KEY("rope.freq_base"), 500000.0f)) ||
        (s->vocab_key && (st = pp_gguf_w_u32(w, KEY("vocab_size"), s->vocab_key))))
        goto out;
#undef KEY
    /* tensor list: name, type, ne0, ne1 (0 = vector) */
    struct { char name[64]; uint32_t type; uint64_t ne0, ne1; } t[64];
    size_t nt = 0;
#define ADD(nm, ty, a, b) do { snprintf(t[nt].name, 64, "%s", nm); t[nt].type = (ty); \
                               t[nt].ne0 = (a); t[nt].ne1 = (b); nt++; } while (0)
    ADD("token_embd.weight", s->types[0], E, V);
    for (int l = 0; l < L; l++) {
        char n[64];
#define LN(x) (snprintf(n, sizeof n, "blk.%d.%s", l, x), n)
        ADD(LN("attn_norm.weight"), PP_GGML_F32, E, 0);
        ADD(LN("attn_q.weight"), s->types[1], E, H * HD);
        ADD(LN("attn_k.weight"), s->types[2], E, s->k_rows);
        ADD(LN("attn_v.weight"), s->types[3], E, HKV * HD);
        ADD(LN("attn_output.weight"), s->types[4], H * HD, E);
        ADD(LN("ffn_norm.weight"), PP_GGML_F32, E, 0);
        ADD(LN("ffn_gate.weight"), s->types[5], E, FF);
        ADD(LN("ffn_up.weight"), s->types[6], E, FF);
        ADD(LN("ffn_down.weight"), s->types[7], FF, E);
#undef LN
    }
    ADD("output_norm.weight", PP_GGML_F32, E, 0);
    if (!s->tied) ADD("output.weight", s->types[8], E, V);
    if (!s->no_rope_freqs) ADD("rope_freqs.weight", PP_GGML_F32, s->rope_len, 0);
#undef ADD
    size_t kept = 0;
    for (size_t i = 0; i < nt; i++)
        if (!s->drop || strcmp(t[i].name, s->drop)) t[kept++] = t[i];
    nt = kept;
    for (size_t i = 0; i < nt; i++) {
        uint64_t ne[2] = {t[i].ne0, t[i].ne1};
        if ((st = pp_gguf_w_tensor(w, t[i].name, t[i].type, t[i].ne1 ? 2 : 1, ne))) goto out;
    }
    if ((st = pp_gguf_w_begin(w, NULL))) goto out;
    float *row = pp_malloc(FF * sizeof(float));
    uint8_t *q = pp_malloc(FF * 4);
    if (!row || !q) { pp_free(row); pp_free(q); st = PARAPET_ERR_NOMEM; goto out; }
    for (size_t i = 0; i < nt && !st; i++) {
        uint64_t rows = t[i].ne1 ? t[i].ne1 : 1;
        for (uint64_t r = 0; r < rows && !st; r++) {
            for (uint64_t j = 0; j < t[i].ne0; j++) {
                if (!t[i].ne1 && strstr(t[i].name, "rope_freqs")) row[j] = 1.0f + 0.5f * (float)j;
                else if (!t[i].ne1) row[j] = 1.0f + 0.1f * frand();
                else row[j] = (strstr(t[i].name, "token_embd") ? 1.0f : 0.08f) * frand();
            }
            uint64_t rb;
            pp_ggml_row_bytes(t[i].type, t[i].ne0, &rb);
            if (!pp_can_quantize(t[i].type)) memset(q, 0, (size_t)rb);  /* types we refuse */
            else st = pp_quantize_row(t[i].type, row, q, (int64_t)t[i].ne0);
            if (!st) st = pp_gguf_w_data(w, q, (size_t)rb);
        }
    }
    pp_free(row);
    pp_free(q);
    if (!st) st = pp_gguf_w_finish(w, mem, len);
out:
    pp_gguf_writer_free(w);
    return st;
}

/* Loads spec s: *bytes must stay alive until the model is freed. */
static pp_status load(const spec *s, void **bytes, pp_llm_model **m, char **detail) {
    size_t len;
    *bytes = NULL;
    pp_status st = build(s, bytes, &len);
    if (st) return st;
    pp_gguf *g;
    if ((st = pp_gguf_open_mem(*bytes, len, &g, detail))) return st;
    return pp_llm_model_from_gguf(g, m, detail);
}

static const int32_t prompt[] = {3, 17, 95, 0, 42, 42, 7, 63, 12, 88, 5, 31, 77, 2, 60, 9};
#define NP ((size_t)(sizeof prompt / sizeof prompt[0]))

static double max_abs_diff(const float *a, const float *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs((double)a[i] - b[i]));
    return m;
}

/* ------------------------------------------------------- a naive reference ---- */

/* The decoder straight from the equations: every weight dequantized to f32, a plain
** loop per token, attention with explicit causal loops.  Returns the last position's
** logits in out[V].  Independent of forward.c except for the model loader. */
static void naive_forward(const pp_llm_model *m, const int32_t *ids, size_t n, float *out) {
    const pp_llm_hparams *hp = &m->hp;
    float *x = calloc(n * E, 4), *xn = calloc(E, 4), *K = calloc(L * n * HKV * HD, 4),
          *Vc = calloc(L * n * HKV * HD, 4), *q = calloc(H * HD, 4), *att = calloc(H * HD, 4),
          *g = calloc(FF, 4), *u = calloc(FF, 4), *tmp = calloc(FF, 4), *p = calloc(n, 4),
          *wrow = calloc(FF, 4);
#define MATVEC(w, in, outv) for (int64_t r_ = 0; r_ < (w).ne1; r_++) { \
        pp_dequantize_row((w).type, (const uint8_t *)(w).data + r_ * (w).row_bytes, wrow, (w).ne0); \
        double s_ = 0; for (int64_t j_ = 0; j_ < (w).ne0; j_++) s_ += (double)wrow[j_] * (in)[j_]; \
        (outv)[r_] = (float)s_; }
#define NORM(dst, src, wt) do { double ss_ = 0; for (int j_ = 0; j_ < E; j_++) ss_ += (double)(src)[j_] * (src)[j_]; \
        float sc_ = (float)(1.0 / sqrt(ss_ / E + hp->rms_eps)); \
        for (int j_ = 0; j_ < E; j_++) (dst)[j_] = (src)[j_] * sc_ * (wt)[j_]; } while (0)
    for (size_t t = 0; t < n; t++)
        pp_dequantize_row(m->tok_embd.type, (const uint8_t *)m->tok_embd.data + ids[t] * m->tok_embd.row_bytes,
                          x + t * E, E);
    for (int l = 0; l < L; l++) {
        const pp_llm_layer *ly = &m->layers[l];
        for (size_t t = 0; t < n; t++) {   /* k, v of every position */
            NORM(xn, x + t * E, ly->attn_norm);
            float *k = K + (l * n + t) * HKV * HD, *v = Vc + (l * n + t) * HKV * HD;
            MATVEC(ly->wk, xn, k);
            MATVEC(ly->wv, xn, v);
            for (int h = 0; h < HKV; h++)
                for (int i = 0; i < NROT / 2; i++) {
                    double th = t * pow(500000.0, -2.0 * i / NROT) / m->rope_freqs[i];
                    float a = k[h * HD + 2 * i], b = k[h * HD + 2 * i + 1];
                    k[h * HD + 2 * i] = (float)(a * cos(th) - b * sin(th));
                    k[h * HD + 2 * i + 1] = (float)(a * sin(th) + b * cos(th));
                }
        }
        for (size_t t = 0; t < n; t++) {
            NORM(xn, x + t * E, ly->attn_norm);
            MATVEC(ly->wq, xn, q);
            for (int h = 0; h < H; h++)
                for (int i = 0; i < NROT / 2; i++) {
                    double th = t * pow(500000.0, -2.0 * i / NROT) / m->rope_freqs[i];
                    float a = q[h * HD + 2 * i], b = q[h * HD + 2 * i + 1];
                    q[h * HD + 2 * i] = (float)(a * cos(th) - b * sin(th));
                    q[h * HD + 2 * i + 1] = (float)(a * sin(th) + b * cos(th));
                }
            for (int h = 0; h < H; h++) {
                int kh = h / (H / HKV);
                double mx = -1e30, sum = 0;
                for (size_t j = 0; j <= t; j++) {
                    double s = 0;
                    for (int d = 0; d < HD; d++) s += (double)q[h * HD + d] * K[((l * n + j) * HKV + kh) * HD + d];
                    p[j] = (float)(s / sqrt((double)HD));
                    mx = fmax(mx, p[j]);
                }
                for (size_t j = 0; j <= t; j++) sum += exp(p[j] - mx);
                for (int d = 0; d < HD; d++) {
                    double o = 0;
                    for (size_t j = 0; j <= t; j++)
                        o += exp(p[j] - mx) / sum * Vc[((l * n + j) * HKV + kh) * HD + d];
                    att[h * HD + d] = (float)o;
                }
            }
            MATVEC(ly->wo, att, tmp);
            for (int j = 0; j < E; j++) x[t * E + j] += tmp[j];
        }
        for (size_t t = 0; t < n; t++) {
            NORM(xn, x + t * E, ly->ffn_norm);
            MATVEC(ly->gate, xn, g);
            MATVEC(ly->up, xn, u);
            for (int j = 0; j < FF; j++) g[j] = (float)(g[j] / (1.0 + exp(-(double)g[j])) * u[j]);
            MATVEC(ly->down, g, tmp);
            for (int j = 0; j < E; j++) x[t * E + j] += tmp[j];
        }
    }
    NORM(xn, x + (n - 1) * E, m->output_norm);
    MATVEC(m->output, xn, out);
#undef MATVEC
#undef NORM
    free(x); free(xn); free(K); free(Vc); free(q); free(att); free(g); free(u); free(tmp);
    free(p); free(wrow);
}

/* ------------------------------------------------------------------- tests ---- */

TEST(forward_matches_naive_reference) {
    void *bytes;
    pp_llm_model *m = NULL;
    char *detail = NULL;
    CHECK_OK(load(&good, &bytes, &m, &detail));
    CHECK(m->rope_freqs != NULL && !m->tied);
    float want[V];
    naive_forward(m, prompt, NP, want);
    /* f32 cache + reference products: only summation order differs */
    pp_llm_ctx_params p = {64, 0, 1, 1, 1};
    pp_llm_ctx *c;
    CHECK_OK(pp_llm_ctx_new(m, &p, &c, NULL));
    CHECK_OK(pp_llm_ctx_eval(c, prompt, NP, 0, PP_LLM_OUT_LOGITS));
    double d = max_abs_diff(pp_llm_ctx_logits(c), want, V);
    pp_llm_ctx_free(c);
    /* the shipping configuration: pp_gemm (quantized activations), f16 cache */
    pp_llm_ctx_params p2 = {64, 0, 2, 0, 0};
    CHECK_OK(pp_llm_ctx_new(m, &p2, &c, NULL));
    CHECK_OK(pp_llm_ctx_eval(c, prompt, NP, 0, PP_LLM_OUT_LOGITS));
    double d2 = max_abs_diff(pp_llm_ctx_logits(c), want, V);
    double spread = 0;
    for (int i = 0; i < V; i++) spread = fmax(spread, fabs(want[i]));
    pp_llm_ctx_free(c);
    pp_llm_model_free(m);
    pp_free(bytes);
    CHECK_MSG(spread > 0.5, "logits too flat to test anything: max |logit| %g", spread);
    CHECK_MSG(d < 1e-3, "reference path vs naive: max |diff| %g", d);
    CHECK_MSG(d2 < 0.05 * spread, "pp_gemm path vs naive: max |diff| %g (max |logit| %g)", d2, spread);
}

/* The naive model must be able to disagree: a different prompt gives other logits. */
TEST(forward_naive_reference_can_fail) {
    void *bytes;
    pp_llm_model *m = NULL;
    CHECK_OK(load(&good, &bytes, &m, NULL));
    float a[V], b[V];
    naive_forward(m, prompt, NP, a);
    int32_t other[NP];
    memcpy(other, prompt, sizeof other);
    other[3] = 50;
    naive_forward(m, other, NP, b);
    pp_llm_model_free(m);
    pp_free(bytes);
    CHECK_MSG(max_abs_diff(a, b, V) > 1e-2, "changing a token changed nothing");
}

TEST(forward_batch_equals_steps) {
    void *bytes;
    pp_llm_model *m = NULL;
    CHECK_OK(load(&good, &bytes, &m, NULL));
    pp_llm_ctx *c;
    pp_llm_ctx_params p = {64, 0, 1, 0, 0};
    CHECK_OK(pp_llm_ctx_new(m, &p, &c, NULL));
    float batch[V], steps[V], chunked[V];
    CHECK_OK(pp_llm_ctx_eval(c, prompt, NP, 0, PP_LLM_OUT_LOGITS));
    memcpy(batch, pp_llm_ctx_logits(c), sizeof batch);
    CHECK_EQ(pp_llm_ctx_n_past(c), NP);
    for (size_t i = 0; i < NP; i++)
        CHECK_OK(pp_llm_ctx_eval(c, prompt + i, 1, (uint32_t)i, i + 1 == NP ? PP_LLM_OUT_LOGITS : 0));
    memcpy(steps, pp_llm_ctx_logits(c), sizeof steps);
    pp_llm_ctx_free(c);
    pp_llm_ctx_params p5 = {64, 5, 2, 0, 0};   /* chunks of 5, two threads */
    CHECK_OK(pp_llm_ctx_new(m, &p5, &c, NULL));
    CHECK_OK(pp_llm_ctx_eval(c, prompt, NP, 0, PP_LLM_OUT_LOGITS));
    memcpy(chunked, pp_llm_ctx_logits(c), sizeof chunked);
    pp_llm_ctx_free(c);
    pp_llm_model_free(m);
    pp_free(bytes);
    CHECK_MSG(max_abs_diff(batch, steps, V) < 1e-4, "batch vs steps %g", max_abs_diff(batch, steps, V));
    CHECK_MSG(max_abs_diff(batch, chunked, V) < 1e-4, "batch vs chunks %g", max_abs_diff(batch, chunked, V));
}

TEST(forward_truncate_recompute) {
    void *bytes;
    pp_llm_model *m = NULL;
    CHECK_OK(load(&good, &bytes, &m, NULL));
    pp_llm_ctx *c;
    CHECK_OK(pp_llm_ctx_new(m, NULL, &c, NULL));
    float first[V];
    CHECK_OK(pp_llm_ctx_eval(c, prompt, NP, 0, PP_LLM_OUT_LOGITS));
    memcpy(first, pp_llm_ctx_logits(c), sizeof first);
    /* overwrite positions 6.. with another continuation, then go back */
    static const int32_t other[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    CHECK_OK(pp_llm_ctx_eval(c, other, PP_ARRAY_LEN(other), 6, PP_LLM_OUT_LOGITS));
    CHECK_EQ(pp_llm_ctx_n_past(c), 6 + PP_ARRAY_LEN(other));
    CHECK(max_abs_diff(first, pp_llm_ctx_logits(c), V) > 1e-3);
    pp_llm_ctx_truncate(c, 6);
    CHECK_EQ(pp_llm_ctx_n_past(c), 6);
    CHECK(pp_llm_ctx_logits(c) == NULL);
    CHECK_OK(pp_llm_ctx_eval(c, prompt + 6, NP - 6, 6, PP_LLM_OUT_LOGITS));
    double d = max_abs_diff(first, pp_llm_ctx_logits(c), V);
    pp_llm_ctx_free(c);
    pp_llm_model_free(m);
    pp_free(bytes);
    CHECK_MSG(d == 0, "recomputed suffix differs by %g", d);
}

TEST(forward_rows_equal_full_logits) {
    spec tied = good;
    tied.tied = 1;
    const spec *specs[] = {&good, &tied};
    for (size_t s = 0; s < 2; s++) {
        void *bytes;
        pp_llm_model *m = NULL;
        CHECK_OK(load(specs[s], &bytes, &m, NULL));
        CHECK_EQ(m->tied, (int)s);
        pp_llm_ctx *c;
        CHECK_OK(pp_llm_ctx_new(m, NULL, &c, NULL));
        float part[4];
        static const int32_t rows[4] = {95, 0, 42, 13};
        CHECK(pp_llm_ctx_logits_rows(c, rows, 4, part) == PARAPET_ERR_ARG);  /* nothing yet */
        CHECK_OK(pp_llm_ctx_eval(c, prompt, NP, 0, PP_LLM_OUT_LOGITS));
        const float *full = pp_llm_ctx_logits(c);
        CHECK_OK(pp_llm_ctx_logits_rows(c, rows, 4, part));
        double d = 0;
        for (int i = 0; i < 4; i++) d = fmax(d, fabs(part[i] - full[rows[i]]));
        static const int32_t bad[1] = {V};
        pp_status st = pp_llm_ctx_logits_rows(c, bad, 1, part);
        /* rows work without PP_LLM_OUT_LOGITS too */
        CHECK_OK(pp_llm_ctx_eval(c, prompt, NP, 0, 0));
        CHECK(pp_llm_ctx_logits(c) == NULL);
        float again[4];
        CHECK_OK(pp_llm_ctx_logits_rows(c, rows, 4, again));
        pp_llm_ctx_free(c);
        pp_llm_model_free(m);
        pp_free(bytes);
        CHECK_MSG(d < 1e-4, "rows vs full: %g", d);
        CHECK_EQ(st, PARAPET_ERR_ARG);
        CHECK(memcmp(again, part, sizeof part) == 0);
    }
}

TEST(forward_eval_argument_errors) {
    void *bytes;
    pp_llm_model *m = NULL;
    CHECK_OK(load(&good, &bytes, &m, NULL));
    pp_llm_ctx *c;
    pp_llm_ctx_params p = {8, 0, 1, 0, 0};
    CHECK_OK(pp_llm_ctx_new(m, &p, &c, NULL));
    static const int32_t bad[2] = {1, V};
    CHECK_EQ(pp_llm_ctx_eval(c, bad, 2, 0, 0), PARAPET_ERR_ARG);          /* id >= vocab */
    CHECK_EQ(pp_llm_ctx_eval(c, prompt, 2, 1, 0), PARAPET_ERR_ARG);       /* pos > n_past */
    CHECK_EQ(pp_llm_ctx_eval(c, prompt, 9, 0, 0), PARAPET_ERR_ARG);       /* beyond n_ctx */
    CHECK_EQ(pp_llm_ctx_eval(c, prompt, 0, 0, 0), PARAPET_ERR_ARG);       /* empty */
    CHECK_OK(pp_llm_ctx_eval(c, prompt, 8, 0, 0));                        /* exactly full */
    CHECK_EQ(pp_llm_ctx_eval(c, prompt, 1, 8, 0), PARAPET_ERR_ARG);
    pp_llm_ctx_free(c);
    pp_llm_model_free(m);
    pp_free(bytes);
}

TEST(forward_hostile_files) {
    struct { spec s; pp_status want; const char *needle; } cases[8];
    size_t n = 0;
    cases[n].s = good; cases[n].s.k_rows = HKV * HD + 32;
    cases[n].want = PARAPET_ERR_FORMAT; cases[n++].needle = "attn_k";
    cases[n].s = good; cases[n].s.drop = "blk.1.ffn_down.weight";
    cases[n].want = PARAPET_ERR_FORMAT; cases[n++].needle = "blk.1.ffn_down.weight is missing";
    cases[n].s = good; cases[n].s.head_count = 3;
    cases[n].want = PARAPET_ERR_FORMAT; cases[n++].needle = "head_count";
    cases[n].s = good; cases[n].s.arch = "mamba";
    cases[n].want = PARAPET_ERR_UNSUPPORTED; cases[n++].needle = "mamba";
    cases[n].s = good; cases[n].s.vocab_key = V + 1;
    cases[n].want = PARAPET_ERR_FORMAT; cases[n++].needle = "vocab_size";
    cases[n].s = good; cases[n].s.rope_len = NROT;
    cases[n].want = PARAPET_ERR_FORMAT; cases[n++].needle = "rope_freqs";
    cases[n].s = good; cases[n].s.types[5] = PP_GGML_Q4_1;
    cases[n].want = PARAPET_ERR_UNSUPPORTED; cases[n++].needle = "ffn_gate";
    cases[n].s = good; cases[n].s.drop = "output_norm.weight";
    cases[n].want = PARAPET_ERR_FORMAT; cases[n++].needle = "output_norm";
    for (size_t i = 0; i < n; i++) {
        void *bytes;
        pp_llm_model *m = NULL;
        char *detail = NULL;
        pp_status st = load(&cases[i].s, &bytes, &m, &detail);
        int found = detail && strstr(detail, cases[i].needle);
        if (!st) pp_llm_model_free(m);
        pp_free(bytes);
        CHECK_MSG(st == cases[i].want && found, "case %zu: status %d, detail \"%s\" (want %d, \"%s\")",
                  i, st, detail ? detail : "(none)", cases[i].want, cases[i].needle);
        pp_free(detail);
    }
    /* and the good spec without rope factors loads (they are optional) */
    spec plain = good;
    plain.no_rope_freqs = 1;
    void *bytes;
    pp_llm_model *m = NULL;
    CHECK_OK(load(&plain, &bytes, &m, NULL));
    CHECK(m->rope_freqs == NULL);
    pp_llm_model_free(m);
    pp_free(bytes);
}

TEST(forward_no_allocation_after_context) {
    void *bytes;
    pp_llm_model *m = NULL;
    CHECK_OK(load(&good, &bytes, &m, NULL));
    for (int threads = 1; threads <= 2; threads++) {
        pp_llm_ctx *c;
        pp_llm_ctx_params p = {64, 4, threads, 0, 0};
        CHECK_OK(pp_llm_ctx_new(m, &p, &c, NULL));
        pp_alloc_fail_after(0);             /* from now on every allocation fails */
        pp_status a = pp_llm_ctx_eval(c, prompt, NP, 0, PP_LLM_OUT_LOGITS);
        pp_status b = pp_llm_ctx_eval(c, prompt + 3, 5, 3, 0);
        float r[2];
        pp_status d = pp_llm_ctx_logits_rows(c, prompt, 2, r);
        long count = pp_alloc_fail_after(-1);
        pp_llm_ctx_free(c);
        CHECK_OK(a);
        CHECK_OK(b);
        CHECK_OK(d);
        CHECK_MSG(count == 0, "%ld allocation attempts during eval (%d threads)", count, threads);
    }
    pp_llm_model_free(m);
    pp_free(bytes);
}

TEST(forward_alloc_failure_cleans_up) {
    size_t len;
    void *bytes = NULL;
    CHECK_OK(build(&good, &bytes, &len));
    int ok = 0;
    for (long k = 0; k < 200 && !ok; k++) {
        pp_alloc_fail_after(k);
        pp_gguf *g = NULL;
        pp_llm_model *m = NULL;
        pp_llm_ctx *c = NULL;
        pp_status st = pp_gguf_open_mem(bytes, len, &g, NULL);
        if (!st) st = pp_llm_model_from_gguf(g, &m, NULL);
        pp_llm_ctx_params p = {32, 0, 2, 0, 0};
        if (!st) st = pp_llm_ctx_new(m, &p, &c, NULL);
        pp_alloc_fail_after(-1);
        if (!st) {
            ok = 1;
            st = pp_llm_ctx_eval(c, prompt, 4, 0, PP_LLM_OUT_LOGITS);
        } else if (st != PARAPET_ERR_NOMEM) {
            pp_llm_ctx_free(c);
            pp_llm_model_free(m);
            pp_free(bytes);
            CHECK_MSG(0, "allocation %ld failing gave status %d, not NOMEM", k, st);
        }
        pp_llm_ctx_free(c);
        pp_llm_model_free(m);
        if (ok) CHECK_OK(st);
    }
    pp_free(bytes);
    CHECK_MSG(ok, "open never succeeded within 200 allocations");
}
