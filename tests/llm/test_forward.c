/*
** test_forward.c -- the forward pass (src/llm/model.c, forward.c, ops.c, llm_api.c) of
** the four architectures: llama, gemma2, qwen3, granite.
**
** Every test builds a small model in memory with the GGUF writer: 256-wide, 2 layers,
** 4 query heads sharing 2 kv heads (GQA), rope factors, an untied output matrix, and
** one weight type per matrix so that all eight supported types (F32 F16 BF16 Q8_0
** Q4_0 Q4_K Q5_K Q6_K) are exercised in one file, as in a Q4_K_M file's mix.  The
** other architectures' models carry their quirks, made strong enough to matter at
** this size: gemma2 with a head dim of 128 (q width 512 != 256), small soft-caps (2
** and 3) and a 5-position sliding window on layer 0; qwen3 with QK-norm and a head dim
** of 128; granite with its four multipliers and every optional bias; granite without
** RoPE (rope.scaling.finetuned false).
**
** What is proven:
**   - the pass equals a naive forward written here from the equations alone (f32
**     everything, dequantized weights, textbook attention, each architecture's quirks
**     from the file's keys), to 1e-3, for every architecture;
**   - a batch of n tokens gives the same logits as n single-token steps through the KV
**     cache, and as chunks of any size;
**   - truncate + recompute reproduces the logits exactly (prefix reuse);
**   - chosen-row logits equal the full logits' entries; tied output works;
**   - hostile files (wrong shapes, missing tensors, inconsistent hyper-parameters,
**     unsupported architecture or type, a tensor the architecture does not use, bad
**     architecture keys) are refused with a detail naming the problem;
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
#include "llm/kernels/kernels.h"
#include "llm/quant.h"

/* ---------------------------------------------------------- the test model ---- */

enum { E = 256, L = 2, H = 4, HKV = 2, HD = 64, FF = 512, V = 96, NROT = 64 };

typedef struct spec {
    const char *arch;
    uint32_t types[9];       /* embd, q, k, v, o, gate, up, down, output */
    int tied, no_rope_freqs;
    uint64_t k_rows;         /* rows of attn_k (HKV*hd unless sabotaged) */
    uint32_t head_count;     /* H unless sabotaged */
    uint32_t vocab_key;      /* 0: no {arch}.vocab_size key */
    const char *drop;        /* a tensor to leave out */
    uint64_t rope_len;       /* rope_freqs length: NROT/2 unless sabotaged */
    /* ---- other architectures */
    uint32_t hd;             /* 0: HD (= E/H, no key_length key); else written as key_length */
    int biases;              /* write attn_q/k/v biases (+ attn_output and ffn_* for llama/granite) */
    const char *add;         /* an extra vector tensor of E values (a hostile file) */
    float attn_cap, final_cap; /* gemma2 soft-caps (0: key absent) */
    uint32_t swa;            /* gemma2 sliding window (0: key absent) */
    float g_embd, g_res, g_attn, g_logit;  /* granite multipliers (0: key absent) */
    int g_no_rope;           /* granite.rope.scaling.finetuned = false */
} spec;

static const spec good = {
    "llama",
    {PP_GGML_F32, PP_GGML_Q8_0, PP_GGML_Q4_K, PP_GGML_Q6_K, PP_GGML_F16, PP_GGML_Q5_K,
     PP_GGML_BF16, PP_GGML_Q4_0, PP_GGML_Q8_0},
    0, 0, HKV * HD, H, V, NULL, NROT / 2,
};

/* gemma2: tied, no rope factors, head dim 128, soft-caps small enough to bite, a
** sliding window shorter than the test prompt on layer 0 */
static spec gemma2_spec(void) {
    spec s = good;
    s.arch = "gemma2";
    s.tied = 1;
    s.no_rope_freqs = 1;
    s.hd = 128;
    s.k_rows = HKV * 128;
    s.attn_cap = 2.0f;
    s.final_cap = 3.0f;
    s.swa = 5;
    return s;
}

static spec qwen3_spec(void) {
    spec s = good;
    s.arch = "qwen3";
    s.tied = 1;
    s.no_rope_freqs = 1;
    s.hd = 128;
    s.k_rows = HKV * 128;
    return s;
}

static spec granite_spec(void) {
    spec s = good;
    s.arch = "granite";
    s.biases = 1;
    s.g_embd = 12.0f;
    s.g_res = 0.22f;
    s.g_attn = 0.015625f;
    s.g_logit = 8.0f;
    return s;
}

static uint32_t spec_hd(const spec *s) { return s->hd ? s->hd : HD; }

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
    const uint32_t hd = spec_hd(s), QD = H * hd;
    const int is_gemma2 = !strcmp(s->arch, "gemma2"), is_qwen3 = !strcmp(s->arch, "qwen3"),
              is_granite = !strcmp(s->arch, "granite"), is_llama = !strcmp(s->arch, "llama");
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
        (s->hd && (st = pp_gguf_w_u32(w, KEY("attention.key_length"), s->hd))) ||
        (s->vocab_key && (st = pp_gguf_w_u32(w, KEY("vocab_size"), s->vocab_key))) ||
        (s->attn_cap && (st = pp_gguf_w_f32(w, KEY("attn_logit_softcapping"), s->attn_cap))) ||
        (s->final_cap && (st = pp_gguf_w_f32(w, KEY("final_logit_softcapping"), s->final_cap))) ||
        (s->swa && (st = pp_gguf_w_u32(w, KEY("attention.sliding_window"), s->swa))) ||
        (s->g_embd && (st = pp_gguf_w_f32(w, KEY("embedding_scale"), s->g_embd))) ||
        (s->g_res && (st = pp_gguf_w_f32(w, KEY("residual_scale"), s->g_res))) ||
        (s->g_attn && (st = pp_gguf_w_f32(w, KEY("attention.scale"), s->g_attn))) ||
        (s->g_logit && (st = pp_gguf_w_f32(w, KEY("logit_scale"), s->g_logit))) ||
        (s->g_no_rope && (st = pp_gguf_w_bool(w, KEY("rope.scaling.finetuned"), 0))))
        goto out;
#undef KEY
    /* tensor list: name, type, ne0, ne1 (0 = vector) */
    struct { char name[64]; uint32_t type; uint64_t ne0, ne1; } t[128];
    size_t nt = 0;
#define ADD(nm, ty, a, b) do { snprintf(t[nt].name, 64, "%s", nm); t[nt].type = (ty); \
                               t[nt].ne0 = (a); t[nt].ne1 = (b); nt++; } while (0)
    ADD("token_embd.weight", s->types[0], E, V);
    for (int l = 0; l < L; l++) {
        char n[64];
#define LN(x) (snprintf(n, sizeof n, "blk.%d.%s", l, x), n)
        ADD(LN("attn_norm.weight"), PP_GGML_F32, E, 0);
        ADD(LN("attn_q.weight"), s->types[1], E, QD);
        ADD(LN("attn_k.weight"), s->types[2], E, s->k_rows);
        ADD(LN("attn_v.weight"), s->types[3], E, HKV * hd);
        ADD(LN("attn_output.weight"), s->types[4], QD, E);
        ADD(LN("ffn_norm.weight"), PP_GGML_F32, E, 0);
        ADD(LN("ffn_gate.weight"), s->types[5], E, FF);
        ADD(LN("ffn_up.weight"), s->types[6], E, FF);
        ADD(LN("ffn_down.weight"), s->types[7], FF, E);
        if (is_qwen3) {
            ADD(LN("attn_q_norm.weight"), PP_GGML_F32, hd, 0);
            ADD(LN("attn_k_norm.weight"), PP_GGML_F32, hd, 0);
        }
        if (is_gemma2) {
            ADD(LN("post_attention_norm.weight"), PP_GGML_F32, E, 0);
            ADD(LN("post_ffw_norm.weight"), PP_GGML_F32, E, 0);
        }
        if (s->biases) {
            ADD(LN("attn_q.bias"), PP_GGML_F32, QD, 0);
            ADD(LN("attn_k.bias"), PP_GGML_F32, HKV * hd, 0);
            ADD(LN("attn_v.bias"), PP_GGML_F32, HKV * hd, 0);
            if (is_llama || is_granite) {
                ADD(LN("attn_output.bias"), PP_GGML_F32, E, 0);
                ADD(LN("ffn_gate.bias"), PP_GGML_F32, FF, 0);
                ADD(LN("ffn_up.bias"), PP_GGML_F32, FF, 0);
                ADD(LN("ffn_down.bias"), PP_GGML_F32, E, 0);
            }
        }
#undef LN
    }
    ADD("output_norm.weight", PP_GGML_F32, E, 0);
    if (!s->tied) ADD("output.weight", s->types[8], E, V);
    if (!s->no_rope_freqs) ADD("rope_freqs.weight", PP_GGML_F32, s->rope_len, 0);
    if (s->add) ADD(s->add, PP_GGML_F32, E, 0);
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
                else if (!t[i].ne1 && strstr(t[i].name, ".bias")) row[j] = 0.1f * frand();
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

/* Rotates the n_rot = hd dims of each of nh heads of x at position t: NORM pairs
** (2i, 2i+1), NEOX pairs (i, i+hd/2); angle t * 500000^(-2i/hd) / factor_i. */
static void naive_rope(float *x, int nh, int hd, size_t t, int neox, int factors) {
    for (int h = 0; h < nh; h++)
        for (int i = 0; i < hd / 2; i++) {
            double th = t * pow(500000.0, -2.0 * i / hd) / (factors ? 1.0 + 0.5 * i : 1.0);
            int i0 = neox ? i : 2 * i, i1 = neox ? i + hd / 2 : 2 * i + 1;
            float a = x[h * hd + i0], b = x[h * hd + i1];
            x[h * hd + i0] = (float)(a * cos(th) - b * sin(th));
            x[h * hd + i1] = (float)(a * sin(th) + b * cos(th));
        }
}

/* The tanh GELU, in ggml's f16-table form (the value of the f16-rounded input,
** rounded to f16; 0 below -10, identity above 10) -- the definition, not forward.c's. */
static double naive_gelu(double x) {
    if (x <= -10) return 0;
    if (x >= 10) return x;
    double xr = pp_fp16_to_f32(pp_f32_to_fp16((float)x));
    double y = 0.5 * xr * (1 + tanh(sqrt(2 / M_PI) * (xr + 0.044715 * xr * xr * xr)));
    return pp_fp16_to_f32(pp_f32_to_fp16((float)y));
}

/* The decoder straight from the equations: every weight dequantized to f32, a plain
** loop per token, attention with explicit causal loops, each architecture's quirks
** taken from the spec (what the file says), not from the loader's flags.  Returns the
** last position's logits in out[V].  Independent of forward.c except for the model
** loader (tensors). */
static void naive_forward(const spec *sp, const pp_llm_model *m, const int32_t *ids, size_t n,
                          float *out) {
    const pp_llm_hparams *hp = &m->hp;
    const int hd = (int)spec_hd(sp), QD = H * hd, KVD = HKV * hd;
    const int gemma2 = !strcmp(sp->arch, "gemma2"), qwen3 = !strcmp(sp->arch, "qwen3"),
              granite = !strcmp(sp->arch, "granite");
    const int neox = gemma2 || qwen3, rope = !(granite && sp->g_no_rope);
    const double embd_scale = gemma2 ? sqrt((double)E) : granite && sp->g_embd ? sp->g_embd : 1;
    const double q_scale = gemma2 ? 1 / sqrt((double)hd) : 1;
    const double kq_scale = gemma2 ? 1 : granite && sp->g_attn ? sp->g_attn : 1 / sqrt((double)hd);
    const double res_scale = granite && sp->g_res ? sp->g_res : 1;
    const double attn_cap = gemma2 ? (sp->attn_cap ? sp->attn_cap : 50) : 0;
    const double final_cap = gemma2 ? (sp->final_cap ? sp->final_cap : 30) : 0;
    const double logit_scale = granite ? sp->g_logit : 1;
    float *x = calloc(n * E, 4), *xn = calloc(E, 4), *K = calloc(L * n * KVD, 4),
          *Vc = calloc(L * n * KVD, 4), *q = calloc(QD, 4), *att = calloc(QD, 4),
          *g = calloc(FF, 4), *u = calloc(FF, 4), *tmp = calloc(FF, 4), *p = calloc(n, 4),
          *wrow = calloc(FF, 4);
#define MATVEC(w, in, outv) for (int64_t r_ = 0; r_ < (w).ne1; r_++) { \
        pp_dequantize_row((w).type, (const uint8_t *)(w).data + r_ * (w).row_bytes, wrow, (w).ne0); \
        double s_ = 0; for (int64_t j_ = 0; j_ < (w).ne0; j_++) s_ += (double)wrow[j_] * (in)[j_]; \
        (outv)[r_] = (float)s_; }
#define NORMN(dst, src, wt, nn) do { double ss_ = 0; for (int j_ = 0; j_ < (nn); j_++) ss_ += (double)(src)[j_] * (src)[j_]; \
        float sc_ = (float)(1.0 / sqrt(ss_ / (nn) + hp->rms_eps)); \
        for (int j_ = 0; j_ < (nn); j_++) (dst)[j_] = (src)[j_] * sc_ * (wt)[j_]; } while (0)
#define NORM(dst, src, wt) NORMN(dst, src, wt, E)
#define BIAS(y, b, nn) do { if (b) for (int j_ = 0; j_ < (nn); j_++) (y)[j_] += (b)[j_]; } while (0)
    for (size_t t = 0; t < n; t++) {
        pp_dequantize_row(m->tok_embd.type, (const uint8_t *)m->tok_embd.data + ids[t] * m->tok_embd.row_bytes,
                          x + t * E, E);
        for (int j = 0; j < E; j++) x[t * E + j] = (float)(x[t * E + j] * embd_scale);
    }
    for (int l = 0; l < L; l++) {
        const pp_llm_layer *ly = &m->layers[l];
        /* gemma2: layer 0 of 2 slides (period 2: even layers) */
        const size_t window = gemma2 && l % 2 == 0 ? (sp->swa ? sp->swa : 4096) : 0;
        for (size_t t = 0; t < n; t++) {   /* k, v of every position */
            NORM(xn, x + t * E, ly->attn_norm);
            float *k = K + (l * n + t) * KVD, *v = Vc + (l * n + t) * KVD;
            MATVEC(ly->wk, xn, k);
            MATVEC(ly->wv, xn, v);
            BIAS(k, ly->bk, KVD);
            BIAS(v, ly->bv, KVD);
            if (qwen3)
                for (int h = 0; h < HKV; h++) NORMN(k + h * hd, k + h * hd, ly->k_norm, hd);
            if (rope) naive_rope(k, HKV, hd, t, neox, !sp->no_rope_freqs);
        }
        for (size_t t = 0; t < n; t++) {
            NORM(xn, x + t * E, ly->attn_norm);
            MATVEC(ly->wq, xn, q);
            BIAS(q, ly->bq, QD);
            if (qwen3)
                for (int h = 0; h < H; h++) NORMN(q + h * hd, q + h * hd, ly->q_norm, hd);
            if (rope) naive_rope(q, H, hd, t, neox, !sp->no_rope_freqs);
            for (int j = 0; j < QD; j++) q[j] = (float)(q[j] * q_scale);
            size_t lo = window && t + 1 > window ? t + 1 - window : 0;
            for (int h = 0; h < H; h++) {
                int kh = h / (H / HKV);
                double mx = -1e30, sum = 0;
                for (size_t j = lo; j <= t; j++) {
                    double s = 0;
                    for (int d = 0; d < hd; d++) s += (double)q[h * hd + d] * K[((l * n + j) * HKV + kh) * hd + d];
                    s *= kq_scale;
                    if (attn_cap) s = attn_cap * tanh(s / attn_cap);
                    p[j] = (float)s;
                    mx = fmax(mx, p[j]);
                }
                for (size_t j = lo; j <= t; j++) sum += exp(p[j] - mx);
                for (int d = 0; d < hd; d++) {
                    double o = 0;
                    for (size_t j = lo; j <= t; j++)
                        o += exp(p[j] - mx) / sum * Vc[((l * n + j) * HKV + kh) * hd + d];
                    att[h * hd + d] = (float)o;
                }
            }
            MATVEC(ly->wo, att, tmp);
            BIAS(tmp, ly->bo, E);
            if (gemma2) NORM(tmp, tmp, ly->post_attn_norm);
            for (int j = 0; j < E; j++) x[t * E + j] += (float)(tmp[j] * res_scale);
        }
        for (size_t t = 0; t < n; t++) {
            NORM(xn, x + t * E, ly->ffn_norm);
            MATVEC(ly->gate, xn, g);
            MATVEC(ly->up, xn, u);
            BIAS(g, ly->b_gate, FF);
            BIAS(u, ly->b_up, FF);
            for (int j = 0; j < FF; j++)
                g[j] = (float)((gemma2 ? naive_gelu(g[j]) : g[j] / (1.0 + exp(-(double)g[j]))) * u[j]);
            MATVEC(ly->down, g, tmp);
            BIAS(tmp, ly->b_down, E);
            if (gemma2) NORM(tmp, tmp, ly->post_ffn_norm);
            for (int j = 0; j < E; j++) x[t * E + j] += (float)(tmp[j] * res_scale);
        }
    }
    NORM(xn, x + (n - 1) * E, m->output_norm);
    MATVEC(m->output, xn, out);
    for (int i = 0; i < V; i++) {
        double o = out[i] / logit_scale;
        if (final_cap) o = final_cap * tanh(o / final_cap);
        out[i] = (float)o;
    }
#undef MATVEC
#undef NORM
#undef NORMN
#undef BIAS
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
    naive_forward(&good, m, prompt, NP, want);
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

/* Packing the layer matrices once (weights.c) changes no bits of the logits. */
TEST(forward_packed_weights_same_bits) {
    void *bytes;
    pp_llm_model *m = NULL;
    CHECK_OK(load(&good, &bytes, &m, NULL));
    pp_llm_ctx_params p = {64, 0, 2, 0, 0};
    pp_llm_ctx *c;
    float plain[V], packed[V];
    CHECK_OK(pp_llm_ctx_new(m, &p, &c, NULL));
    CHECK_OK(pp_llm_ctx_eval(c, prompt, NP, 0, PP_LLM_OUT_LOGITS));
    memcpy(plain, pp_llm_ctx_logits(c), sizeof plain);
    pp_llm_ctx_free(c);
    CHECK_OK(pp_llm_model_pack(m, 2, 1));
    int want_packed = pp_kernels_isa() != PP_ISA_SCALAR;
    CHECK_EQ(m->layers[0].wq.packed != NULL, want_packed);
    CHECK_EQ(m->packed_bytes > 0, want_packed);
    CHECK_EQ(m->output.packed != NULL, want_packed);
    CHECK_OK(pp_llm_model_pack(m, 2, 1));   /* a second call is a no-op */
    CHECK_OK(pp_llm_ctx_new(m, &p, &c, NULL));
    CHECK_OK(pp_llm_ctx_eval(c, prompt, NP, 0, PP_LLM_OUT_LOGITS));
    memcpy(packed, pp_llm_ctx_logits(c), sizeof packed);
    pp_llm_ctx_free(c);
    pp_llm_model_free(m);
    pp_free(bytes);
    CHECK_MSG(!memcmp(plain, packed, sizeof plain), "packed weights changed the logits: %g",
              max_abs_diff(plain, packed, V));
}

/* One architecture's model against the naive reference (reference products and f32
** cache: 1e-3; the shipping path: 5% of the logit range), and batch == steps ==
** chunks of 5 (chunks cross the sliding window's edge).  Returns the pass's logits. */
static void check_arch(const spec *sp, float *logits_out) {
    void *bytes;
    pp_llm_model *m = NULL;
    char *detail = NULL;
    pp_status st = load(sp, &bytes, &m, &detail);
    CHECK_MSG(st == PARAPET_OK, "%s: %s", sp->arch, detail ? detail : "?");
    pp_free(detail);
    if (st) { pp_free(bytes); return; }
    float want[V], got[V], steps[V], chunked[V];
    naive_forward(sp, m, prompt, NP, want);
    pp_llm_ctx_params p = {64, 0, 1, 1, 1};
    pp_llm_ctx *c;
    CHECK_OK(pp_llm_ctx_new(m, &p, &c, NULL));
    CHECK_OK(pp_llm_ctx_eval(c, prompt, NP, 0, PP_LLM_OUT_LOGITS));
    double d = max_abs_diff(pp_llm_ctx_logits(c), want, V);
    pp_llm_ctx_free(c);
    pp_llm_ctx_params p2 = {64, 0, 2, 0, 0};
    CHECK_OK(pp_llm_ctx_new(m, &p2, &c, NULL));
    CHECK_OK(pp_llm_ctx_eval(c, prompt, NP, 0, PP_LLM_OUT_LOGITS));
    memcpy(got, pp_llm_ctx_logits(c), sizeof got);
    for (size_t i = 0; i < NP; i++)
        CHECK_OK(pp_llm_ctx_eval(c, prompt + i, 1, (uint32_t)i, i + 1 == NP ? PP_LLM_OUT_LOGITS : 0));
    memcpy(steps, pp_llm_ctx_logits(c), sizeof steps);
    float rows[3];
    static const int32_t ids3[3] = {5, 90, 41};
    CHECK_OK(pp_llm_ctx_logits_rows(c, ids3, 3, rows));
    pp_llm_ctx_free(c);
    pp_llm_ctx_params p5 = {64, 5, 2, 0, 0};
    CHECK_OK(pp_llm_ctx_new(m, &p5, &c, NULL));
    CHECK_OK(pp_llm_ctx_eval(c, prompt, NP, 0, PP_LLM_OUT_LOGITS));
    memcpy(chunked, pp_llm_ctx_logits(c), sizeof chunked);
    pp_llm_ctx_free(c);
    pp_llm_model_free(m);
    pp_free(bytes);
    double spread = 0, dr = 0;
    for (int i = 0; i < V; i++) spread = fmax(spread, fabs(want[i]));
    for (int i = 0; i < 3; i++) dr = fmax(dr, fabs(rows[i] - steps[ids3[i]]));
    CHECK_MSG(spread > 0.5, "%s: logits too flat to test anything: max |logit| %g", sp->arch, spread);
    CHECK_MSG(d < 1e-3, "%s: reference path vs naive: max |diff| %g", sp->arch, d);
    CHECK_MSG(max_abs_diff(got, want, V) < 0.05 * spread, "%s: pp_gemm path vs naive: max |diff| %g "
              "(max |logit| %g)", sp->arch, max_abs_diff(got, want, V), spread);
    CHECK_MSG(max_abs_diff(got, steps, V) < 1e-4, "%s: batch vs steps %g", sp->arch,
              max_abs_diff(got, steps, V));
    CHECK_MSG(max_abs_diff(got, chunked, V) < 1e-4, "%s: batch vs chunks %g", sp->arch,
              max_abs_diff(got, chunked, V));
    CHECK_MSG(dr < 1e-5, "%s: chosen rows vs full logits %g", sp->arch, dr);
    if (logits_out) memcpy(logits_out, got, sizeof got);
}

TEST(forward_gemma2_matches_naive_reference) {
    spec g = gemma2_spec();
    float a[V], b[V];
    check_arch(&g, a);
    /* the window and the soft-caps are live: without them the logits move */
    g.swa = 1000;
    check_arch(&g, b);
    CHECK_MSG(max_abs_diff(a, b, V) > 1e-3, "the sliding window changed nothing");
    g.attn_cap = 1000.0f;
    check_arch(&g, a);
    CHECK_MSG(max_abs_diff(a, b, V) > 1e-3, "the attention soft-cap changed nothing");
}

TEST(forward_qwen3_matches_naive_reference) {
    spec q = qwen3_spec();
    check_arch(&q, NULL);
}

TEST(forward_granite_matches_naive_reference) {
    spec g = granite_spec();
    float a[V], b[V];
    check_arch(&g, a);
    g.g_no_rope = 1;   /* rope.scaling.finetuned false: no rotation at all */
    check_arch(&g, b);
    CHECK_MSG(max_abs_diff(a, b, V) > 1e-3, "turning RoPE off changed nothing");
    g = granite_spec();
    g.biases = 0;
    g.g_embd = g.g_res = g.g_attn = 0;   /* only logit_scale (required) */
    check_arch(&g, NULL);
}

TEST(forward_llama_biases_match_naive_reference) {
    spec b = good;
    b.biases = 1;
    check_arch(&b, NULL);
}

/* The naive model must be able to disagree: a different prompt gives other logits. */
TEST(forward_naive_reference_can_fail) {
    void *bytes;
    pp_llm_model *m = NULL;
    CHECK_OK(load(&good, &bytes, &m, NULL));
    float a[V], b[V];
    naive_forward(&good, m, prompt, NP, a);
    int32_t other[NP];
    memcpy(other, prompt, sizeof other);
    other[3] = 50;
    naive_forward(&good, m, other, NP, b);
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

/* Logits rows after evaluating ids in sequence 0 of a fresh context as the evals
** [ev[0], ev[1]), [ev[2], ev[3]), ... (pairs of positions, ended by a 0 pair). */
static void alone_rows(const pp_llm_model *m, uint32_t n_batch, const int32_t *ids,
                       const uint32_t *ev, const int32_t *rows, float *out) {
    pp_llm_ctx_params p = {256, n_batch, 2, 0, 0};
    pp_llm_ctx *c;
    memset(out, 0, 4 * sizeof *out);
    if (pp_llm_ctx_new(m, &p, &c, NULL)) return;
    for (; ev[1]; ev += 2) pp_llm_ctx_eval(c, ids + ev[0], ev[1] - ev[0], ev[0], 0);
    pp_llm_ctx_logits_rows(c, rows, 4, out);
    pp_llm_ctx_free(c);
}

/* Items of several sequences, sharing sequence 0's prefix, evaluated in one batch give
** each sequence the same bits as evaluating it alone, whatever else is in the batch,
** for long items (f32 attention), short ones (f16 path), chunked batches, appends and
** copies; and the sequence rules are enforced. */
static void batch_of_sequences(const spec *sp) {
    void *bytes;
    pp_llm_model *m = NULL;
    CHECK_OK(load(sp, &bytes, &m, NULL));
    if (!m) return;
    CHECK_OK(pp_llm_model_pack(m, 2, 0));
    int32_t ids[4][140];
    for (int s = 0; s < 4; s++)
        for (int i = 0; i < 140; i++) ids[s][i] = (int32_t)((i * 7 + s * 13 + i * i * s) % V);
    for (int s = 1; s < 4; s++) memcpy(ids[s], ids[0], 20 * sizeof(int32_t));   /* common prefix */
    static const int32_t rows[4] = {3, 50, 95, 7};
    const uint32_t tail[4] = {0, 70, 5, 9};
    const uint32_t shared[4] = {0, 20, 20, 12};
    const uint32_t batches[2] = {128, 16};
    for (int bi = 0; bi < 2; bi++) {
        pp_llm_ctx_params p = {256, batches[bi], 2, 0, 0, 4, 128};
        pp_llm_ctx *c;
        CHECK_OK(pp_llm_ctx_new(m, &p, &c, NULL));
        CHECK_OK(pp_llm_ctx_eval(c, ids[0], 20, 0, 0));
        pp_llm_item it[3];
        for (int s = 1; s < 4; s++) {
            CHECK_OK(pp_llm_ctx_seq_share(c, (uint32_t)s, shared[s]));
            it[s - 1] = (pp_llm_item){(uint32_t)s, ids[s] + shared[s], tail[s] + 20 - shared[s], shared[s]};
        }
        CHECK_OK(pp_llm_ctx_eval_batch(c, it, 3));
        for (int s = 1; s < 4; s++) {
            float got[4], want[4];
            CHECK_EQ(pp_llm_ctx_seq_n_past(c, (uint32_t)s), 20 + tail[s]);
            CHECK_OK(pp_llm_ctx_seq_logits_rows(c, (uint32_t)s, rows, 4, got));
            const uint32_t ev[6] = {0, shared[s], shared[s], 20 + tail[s], 0, 0};
            alone_rows(m, batches[bi], ids[s], ev, rows, want);
            CHECK_MSG(!memcmp(got, want, sizeof got), "batch %u seq %d: %g vs %g", batches[bi], s, got[0], want[0]);
        }
        /* appends of two more tokens to sequences 1 and 2, one batch */
        pp_llm_item more[2] = {{1, ids[1] + 90, 2, 90}, {2, ids[2] + 25, 2, 25}};
        CHECK_OK(pp_llm_ctx_eval_batch(c, more, 2));
        float got[4], want[4];
        CHECK_OK(pp_llm_ctx_seq_logits_rows(c, 1, rows, 4, got));
        const uint32_t ev_a[8] = {0, 20, 20, 90, 90, 92, 0, 0};
        alone_rows(m, batches[bi], ids[1], ev_a, rows, want);
        CHECK(!memcmp(got, want, sizeof got));
        /* a copy of sequence 1's first 50 positions, continued with 3 tokens */
        CHECK_OK(pp_llm_ctx_seq_copy(c, 3, 1, 50));
        pp_llm_item cont = {3, ids[1] + 50, 3, 50};
        CHECK_OK(pp_llm_ctx_eval_batch(c, &cont, 1));
        CHECK_OK(pp_llm_ctx_seq_logits_rows(c, 3, rows, 4, got));
        const uint32_t ev_b[8] = {0, 20, 20, 90, 50, 53, 0, 0};
        alone_rows(m, batches[bi], ids[1], ev_b, rows, want);
        CHECK(!memcmp(got, want, sizeof got));
        /* the rules */
        pp_llm_item bad1 = {1, ids[1], 2, 10};               /* inside the shared prefix */
        CHECK_EQ(pp_llm_ctx_eval_batch(c, &bad1, 1), PARAPET_ERR_ARG);
        pp_llm_item twice[2] = {{2, ids[2], 1, 27}, {2, ids[2], 1, 27}};
        CHECK_EQ(pp_llm_ctx_eval_batch(c, twice, 2), PARAPET_ERR_ARG);
        pp_llm_item rewrite[2] = {{0, ids[0], 1, 15}, {2, ids[2], 1, 27}};
        CHECK_EQ(pp_llm_ctx_eval_batch(c, rewrite, 2), PARAPET_ERR_ARG);
        pp_llm_item too_long = {2, ids[2], 140, 27};         /* beyond its 128 own cells */
        CHECK_EQ(pp_llm_ctx_eval_batch(c, &too_long, 1), PARAPET_ERR_ARG);
        CHECK_EQ(pp_llm_ctx_seq_share(c, 1, 21), PARAPET_ERR_ARG);   /* beyond seq 0 */
        CHECK_EQ(pp_llm_ctx_seq_logits_rows(c, 4, rows, 4, got), PARAPET_ERR_ARG);
        CHECK_EQ(pp_llm_ctx_seq_n_past(c, 2), 27u);
        pp_llm_ctx_truncate(c, 15);                           /* seq 0 drops what 1, 2 share */
        CHECK_EQ(pp_llm_ctx_seq_n_past(c, 1), 0u);
        CHECK_EQ(pp_llm_ctx_seq_n_past(c, 2), 0u);
        CHECK_EQ(pp_llm_ctx_seq_logits_rows(c, 2, rows, 4, got), PARAPET_ERR_ARG);
        pp_llm_ctx_free(c);
    }
    pp_llm_model_free(m);
    pp_free(bytes);
}

TEST(forward_batch_of_sequences_equals_one_at_a_time) {
    batch_of_sequences(&good);
    spec g = gemma2_spec(), q = qwen3_spec(), r = granite_spec();
    batch_of_sequences(&g);   /* soft-caps and a sliding window */
    batch_of_sequences(&q);   /* QK-norm */
    batch_of_sequences(&r);   /* multipliers */
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
    struct { spec s; pp_status want; const char *needle; } cases[20];
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
    /* the other architectures: their own tensors and keys, and tensors they do not use */
    cases[n].s = good; cases[n].s.add = "blk.0.attn_extra.weight";
    cases[n].want = PARAPET_ERR_UNSUPPORTED; cases[n++].needle = "blk.0.attn_extra.weight is not part of the llama graph";
    cases[n].s = gemma2_spec(); cases[n].s.tied = 0;
    cases[n].want = PARAPET_ERR_UNSUPPORTED; cases[n++].needle = "output.weight is not part of the gemma2 graph";
    cases[n].s = gemma2_spec(); cases[n].s.drop = "blk.1.post_ffw_norm.weight";
    cases[n].want = PARAPET_ERR_FORMAT; cases[n++].needle = "blk.1.post_ffw_norm.weight is missing";
    cases[n].s = gemma2_spec(); cases[n].s.attn_cap = 1e-9f;
    cases[n].want = PARAPET_ERR_FORMAT; cases[n++].needle = "gemma2.attn_logit_softcapping";
    cases[n].s = gemma2_spec(); cases[n].s.no_rope_freqs = 0;
    cases[n].want = PARAPET_ERR_UNSUPPORTED; cases[n++].needle = "rope_freqs.weight is not part of the gemma2 graph";
    cases[n].s = qwen3_spec(); cases[n].s.drop = "blk.0.attn_k_norm.weight";
    cases[n].want = PARAPET_ERR_FORMAT; cases[n++].needle = "blk.0.attn_k_norm.weight is missing";
    cases[n].s = qwen3_spec(); cases[n].s.add = "blk.1.attn_output.bias";
    cases[n].want = PARAPET_ERR_UNSUPPORTED; cases[n++].needle = "blk.1.attn_output.bias is not part of the qwen3 graph";
    cases[n].s = qwen3_spec(); cases[n].s.k_rows = HKV * 64;
    cases[n].want = PARAPET_ERR_FORMAT; cases[n++].needle = "attn_k";
    cases[n].s = granite_spec(); cases[n].s.g_logit = 0;
    cases[n].want = PARAPET_ERR_FORMAT; cases[n++].needle = "granite.logit_scale is missing";
    cases[n].s = granite_spec(); cases[n].s.g_res = -1.0f;
    cases[n].want = PARAPET_ERR_FORMAT; cases[n++].needle = "granite.residual_scale";
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
