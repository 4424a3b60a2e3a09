/*
** forward.c -- the decoder's forward pass over a batch of tokens, with a KV cache.
**
** One pass for the four architectures model.c loads (llama, gemma2, qwen3, granite):
** their differences are data in pp_llm_hparams and optional tensors in pp_llm_layer,
** applied by the small "per-architecture steps" above eval_chunk (biases, QK-norm,
** post-norms and residual scale, logit scale and soft-cap) and by two parameters of
** the attention softmax (soft-cap, sliding window); model.h has the table.
**
** Part of the guard-model engine (src/llm); the model comes from model.c, the
** element-wise ops from ops.c, the weight products from the kernels (pp_gemm).  The
** moderation workload is one long prefill and a handful of logits, so the pass is
** written for batches: each weight matrix is applied to all n tokens of a chunk at
** once (matrix-matrix), and the LM head runs for the last position only -- over the
** whole vocabulary, or over the few rows a scorer asks for.
**
** A context owns, sized once at creation and never reallocated:
**     the KV cache      k: (n_layer, n_ctx, kv_dim), v: (n_layer, kv_dim, n_ctx)
**                       (V transposed, so P.V is a product with rows of V^T), in f16
**                       (default) or f32
**     the activations   x, xn: (n_batch, n_embd)   q, att: (n_batch, q_dim)
**                       k, v: (n_batch, kv_dim)    gate, up: (n_batch, n_ff)
**     attention scratch kf: (n_ctx, kv_dim), vf: (kv_dim, n_ctx) f32 copies of the
**                       cached layer (f16 cache only), scores: (n_batch, n_ctx)
**     the output        hidden: (n_embd) final-normed state of the last position,
**                       logits: (n_vocab)
** An eval longer than n_batch runs as consecutive chunks; the cache makes that the
** same computation.  Positions are absolute: eval(ids, n, pos) truncates to pos and
** appends, which is how a shared prefix is reused.
**
** Attention is two matrix products per head, through the same kernels:
** S = q K^T (K rows as an f32 "weight"), a masked softmax per row, then att = S V
** (rows of V^T as the weight).  The scores of positions after a query's own (the
** causal mask) are computed and zeroed: at most half of the last chunk's square.
**
** Threading: matrix products split output rows across the pool inside the kernels;
** the softmax splits rows across it here.  The pool is created with the
** context and runs jobs without allocating.
*/
#include "llm/model.h"
#include "llm/kernels/kernels.h"
#include "llm/ops.h"
#include "llm/pool.h"
#include "llm/quant.h"
#include <math.h>
#include <string.h>

/* Chunks shorter than this many tokens attend as llama.cpp's CPU flash attention does
** for short query batches (GGML_FA_TILE_Q = 64): f16 q, f16 output accumulator.
** Longer chunks use f32 throughout, as llama.cpp's tiled path does. */
#define PP_LLM_F16_ATTN_BELOW 64

struct pp_llm_ctx {
    const pp_llm_model *m;
    uint32_t n_ctx, n_batch, n_past;
    int kv_f32, n_threads;
    pp_pool *pool;
    size_t kv_dim, q_dim;
    void *kc;                 /* (n_layer, n_ctx, kv_dim) f16 or f32 */
    void *vc;                 /* (n_layer, kv_dim, n_ctx) f16 or f32, transposed */
    float *x, *xn;            /* (n_batch, n_embd) */
    float *q, *att;           /* (n_batch, q_dim) */
    float *k, *v;             /* (n_batch, kv_dim) */
    float *gate, *up;         /* (n_batch, n_ff) */
    float *rope;              /* (n_batch, n_rot) cos/sin tables */
    float *kf;                /* (n_ctx, kv_dim) f32 copy of a layer's K (f16 cache only) */
    float *vf;                /* (kv_dim, n_ctx) f32 copy of a layer's V^T (f16 cache only) */
    float *scores;            /* (n_batch, n_ctx) attention probabilities of one head */
    float *wrow;              /* (n_threads, max row) dequantized weight rows (ref_matmul) */
    void *work_mem;           /* pp_gemm's work buffer, work = work_mem aligned to 64 */
    void *work;
    int ref_matmul;
    float *hidden;            /* (n_embd) last position, after output_norm */
    float *logits;            /* (n_vocab) */
    int have_hidden, have_logits;
    uint64_t bytes;           /* all of the above, for reports */
};

/* ------------------------------------------------------------ weight products ---- */

/* y (n, w->ne1) = x (n, w->ne0) . W^T : every token against every row.
**
** Normally pp_gemm (kernels/), which quantizes the activations as llama.cpp does and
** multiplies with the ISA's integer kernels.  With ref_matmul (tests) it is the plain
** reference below instead: rows dequantized one at a time into a per-thread scratch
** row and dotted in f32 with every token, so each weight byte is read once per chunk. */
typedef struct mm_job {
    const pp_llm_weight *w;
    const float *x;
    float *y;
    size_t n;
    const int32_t *rows;      /* optional: only these rows (y is then (n, n_rows)) */
    size_t n_rows;
    float *wrow;
    size_t wrow_stride;
} mm_job;

static void mm_range(void *arg, size_t r0, size_t r1, int thread) {
    const mm_job *j = arg;
    const pp_llm_weight *w = j->w;
    float *wrow = j->wrow + (size_t)thread * j->wrow_stride;
    const size_t n_out = j->rows ? j->n_rows : (size_t)w->ne1;
    for (size_t r = r0; r < r1; r++) {
        size_t src = j->rows ? (size_t)j->rows[r] : r;
        pp_dequantize_row(w->type, (const uint8_t *)w->data + src * w->row_bytes, wrow, w->ne0);
        for (size_t t = 0; t < j->n; t++)
            j->y[t * n_out + r] = pp_dot_f32(wrow, j->x + t * (size_t)w->ne0, w->ne0);
    }
}

static void matmul(pp_llm_ctx *c, const pp_llm_weight *w, const float *x, size_t n, float *y) {
    if (!c->ref_matmul) {
        pp_gemm((int)w->type, w->data, w->row_bytes, (size_t)w->ne1, (size_t)w->ne0, x,
                (size_t)w->ne0, n, y, (size_t)w->ne1, c->work, c->pool);
        return;
    }
    mm_job j = {w, x, y, n, NULL, 0, c->wrow, 0};
    j.wrow_stride = (size_t)PP_MAX(PP_MAX(c->m->hp.n_embd, c->m->hp.n_ff), c->q_dim);
    pp_pool_for(c->pool, (size_t)w->ne1, 16, mm_range, &j);
}

static void matmul_rows(pp_llm_ctx *c, const pp_llm_weight *w, const float *x,
                        const int32_t *rows, size_t n_rows, float *y) {
    if (!c->ref_matmul) {
        pp_gemm_rows((int)w->type, w->data, w->row_bytes, rows, n_rows, (size_t)w->ne0, x,
                     (size_t)w->ne0, 1, y, n_rows, c->work, c->pool);
        return;
    }
    mm_job j = {w, x, y, 1, rows, n_rows, c->wrow, 0};
    j.wrow_stride = (size_t)PP_MAX(PP_MAX(c->m->hp.n_embd, c->m->hp.n_ff), c->q_dim);
    pp_pool_for(c->pool, n_rows, 1, mm_range, &j);
}

/* ------------------------------------------------------------------ context ---- */

void pp_llm_ctx_free(pp_llm_ctx *c) {
    if (!c) return;
    pp_pool_destroy(c->pool);
    pp_free(c->kc);
    pp_free(c->vc);
    pp_free(c->x);
    pp_free(c->xn);
    pp_free(c->q);
    pp_free(c->att);
    pp_free(c->k);
    pp_free(c->v);
    pp_free(c->gate);
    pp_free(c->up);
    pp_free(c->rope);
    pp_free(c->kf);
    pp_free(c->vf);
    pp_free(c->scores);
    pp_free(c->wrow);
    pp_free(c->work_mem);
    pp_free(c->hidden);
    pp_free(c->logits);
    pp_free(c);
}

/* Allocates a*b elements of sz bytes (failing on overflow), counting them in *total. */
static void *alloc_n_(size_t a, size_t b, size_t sz, uint64_t *total) {
    if (b && a > SIZE_MAX / b) return NULL;
    size_t n = PP_MAX(a * b, (size_t)1);
    if (n > SIZE_MAX / sz) return NULL;
    *total += (uint64_t)n * sz;
    return pp_malloc(n * sz);
}
#define alloc_n(a, b, sz) alloc_n_((a), (b), (sz), &c->bytes)

pp_status pp_llm_ctx_new(const pp_llm_model *m, const pp_llm_ctx_params *p, pp_llm_ctx **out,
                         char **detail) {
    if (detail) *detail = NULL;
    if (!m || !out) return PARAPET_ERR_ARG;
    const pp_llm_hparams *hp = &m->hp;
    pp_llm_ctx_params d = {0, 0, 1, 0};
    if (p) d = *p;
    if (!d.n_ctx) d.n_ctx = PP_MIN(hp->n_ctx_train, 4096u);
    if (!d.n_batch) d.n_batch = 512;   /* llama.cpp's default ubatch: same chunking */
    if (d.n_batch > d.n_ctx) d.n_batch = d.n_ctx;
    if (d.n_threads < 1) d.n_threads = 1;
    if (d.n_ctx > PP_LLM_MAX_CTX || d.n_threads > PP_POOL_MAX_THREADS) {
        if (detail) *detail = pp_asprintf("context of %u positions / %d threads is out of range "
                                          "(at most %u / %d)", d.n_ctx, d.n_threads,
                                          (unsigned)PP_LLM_MAX_CTX, PP_POOL_MAX_THREADS);
        return PARAPET_ERR_ARG;
    }
    pp_llm_ctx *c = pp_calloc(1, sizeof *c);
    if (!c) return PARAPET_ERR_NOMEM;
    c->m = m;
    c->n_ctx = d.n_ctx;
    c->n_batch = d.n_batch;
    c->kv_f32 = d.kv_f32 != 0;
    c->n_threads = d.n_threads;
    c->kv_dim = (size_t)hp->n_head_kv * hp->head_dim;
    c->q_dim = (size_t)hp->n_head * hp->head_dim;
    const size_t E = hp->n_embd, B = c->n_batch, T = (size_t)c->n_threads;
    const size_t cache_elems = (size_t)hp->n_layer * c->n_ctx;   /* rows of kv_dim */
    const size_t kv_el = c->kv_f32 ? sizeof(float) : sizeof(uint16_t);
    const size_t max_row = PP_MAX(PP_MAX(E, (size_t)hp->n_ff), c->q_dim);
    /* pp_gemm's work buffer: the largest any weight of the model needs for a full chunk */
    size_t work = 0;
    const pp_llm_weight *ws[] = {&m->output};
    for (size_t i = 0; i < PP_ARRAY_LEN(ws); i++)
        work = PP_MAX(work, pp_gemm_work_size((int)ws[i]->type, (size_t)ws[i]->ne0, 1, c->n_threads));
    for (uint32_t l = 0; l < hp->n_layer; l++) {
        const pp_llm_layer *ly = &m->layers[l];
        const pp_llm_weight *lw[] = {&ly->wq, &ly->wk, &ly->wv, &ly->wo, &ly->gate, &ly->up, &ly->down};
        for (size_t i = 0; i < PP_ARRAY_LEN(lw); i++)
            work = PP_MAX(work, pp_gemm_work_size((int)lw[i]->type, (size_t)lw[i]->ne0, B,
                                                  c->n_threads));
    }
    /* attention: S = q K^T (k = head_dim) and S V (k up to n_ctx), f32 operands */
    work = PP_MAX(work, pp_gemm_work_size(PP_GGML_F32, hp->head_dim, B, c->n_threads));
    work = PP_MAX(work, pp_gemm_work_size(PP_GGML_F32, c->n_ctx, B, c->n_threads));
    c->ref_matmul = d.ref_matmul != 0;
    if ((c->n_threads > 1 && pp_pool_create(c->n_threads, &c->pool)) ||
        !(c->work_mem = alloc_n(work + 64, 1, 1)) ||
        !(c->kc = alloc_n(cache_elems, c->kv_dim, kv_el)) ||
        !(c->vc = alloc_n(cache_elems, c->kv_dim, kv_el)) ||
        !(c->x = alloc_n(B, E, sizeof(float))) || !(c->xn = alloc_n(B, E, sizeof(float))) ||
        !(c->q = alloc_n(B, c->q_dim, sizeof(float))) ||
        !(c->att = alloc_n(B, c->q_dim, sizeof(float))) ||
        !(c->k = alloc_n(B, c->kv_dim, sizeof(float))) ||
        !(c->v = alloc_n(B, c->kv_dim, sizeof(float))) ||
        !(c->gate = alloc_n(B, hp->n_ff, sizeof(float))) ||
        !(c->up = alloc_n(B, hp->n_ff, sizeof(float))) ||
        !(c->rope = alloc_n(B, hp->n_rot, sizeof(float))) ||
        (!c->kv_f32 && !(c->kf = alloc_n(c->n_ctx, c->kv_dim, sizeof(float)))) ||
        (!c->kv_f32 && !(c->vf = alloc_n(c->n_ctx, c->kv_dim, sizeof(float)))) ||
        !(c->scores = alloc_n(B, c->n_ctx, sizeof(float))) ||
        !(c->wrow = alloc_n(T, max_row, sizeof(float))) ||
        !(c->hidden = alloc_n(E, 1, sizeof(float))) ||
        !(c->logits = alloc_n(hp->n_vocab, 1, sizeof(float)))) {
        pp_llm_ctx_free(c);
        if (detail) *detail = pp_strdup("out of memory for the context (KV cache and buffers)");
        return PARAPET_ERR_NOMEM;
    }
    c->work = (void *)(((uintptr_t)c->work_mem + 63) & ~(uintptr_t)63);
    *out = c;
    return PARAPET_OK;
}

uint32_t pp_llm_ctx_n_past(const pp_llm_ctx *c) { return c ? c->n_past : 0; }
uint32_t pp_llm_ctx_n_ctx(const pp_llm_ctx *c) { return c ? c->n_ctx : 0; }
uint64_t pp_llm_ctx_bytes(const pp_llm_ctx *c) { return c ? c->bytes : 0; }

void pp_llm_ctx_truncate(pp_llm_ctx *c, uint32_t pos) {
    if (!c || pos >= c->n_past) return;
    c->n_past = pos;
    c->have_hidden = c->have_logits = 0;
}

const float *pp_llm_ctx_logits(const pp_llm_ctx *c) {
    return c && c->have_logits ? c->logits : NULL;
}

/* --------------------------------------------------------------- attention ---- */

/* Scaled, causally masked softmax of score rows [t0, t1): row t holds the query at
** position pos+t against keys [0, n_kv); keys after pos+t get probability 0.
** Per-architecture parameters (llama.cpp's flash attention order: scale, soft-cap,
** mask, softmax): softcap != 0 turns a score s into softcap*tanh(s*scale) -- the
** caller passes scale already divided by softcap, as ggml does -- and window != 0
** also masks the keys at or before pos+t-window (a sliding-window layer). */
typedef struct smax_job {
    float *s;
    size_t ld;
    uint32_t pos, n_kv;
    float scale;
    float softcap;            /* 0: none */
    uint32_t window;          /* 0: none */
} smax_job;

/* First key a query at position p sees: p-window+1 in a sliding-window layer. */
static inline uint32_t window_start(uint32_t p, uint32_t window) {
    return window && p >= window ? p - window + 1 : 0;
}

static void smax_range(void *arg, size_t t0, size_t t1, int thread) {
    const smax_job *j = arg;
    (void)thread;
    for (size_t t = t0; t < t1; t++) {
        float *row = j->s + t * j->ld;
        uint32_t valid = j->pos + (uint32_t)t + 1;
        uint32_t lo = window_start(valid - 1, j->window);
        if (j->softcap != 0.0f)
            for (uint32_t i = lo; i < valid; i++) row[i] = j->softcap * tanhf(row[i] * j->scale);
        else
            for (uint32_t i = lo; i < valid; i++) row[i] *= j->scale;
        pp_softmax(row + lo, valid - lo);
        for (uint32_t i = 0; i < lo; i++) row[i] = 0.0f;
        for (uint32_t i = valid; i < j->n_kv; i++) row[i] = 0.0f;
    }
}

/* Attention for short chunks, with llama.cpp's numerics for them (its CPU flash
** attention for fewer than 64 queries with an f16 cache): per query, keys in order
** with a running max, and the output accumulated in f16 (each update rounded),
** rescaled when the max grows.  The f16 rounding is llama.cpp's, not a need of the
** model: it is reproduced so that decode steps and short appends give the same
** numbers as llama.cpp (tests/conformance/llm).  Item i = (token t, head h). */
typedef struct fa_job {
    pp_llm_ctx *c;
    const float *kf, *vf;     /* kf (n_kv, kv_dim); vf (kv_dim, n_ctx) */
    uint32_t pos;
    float scale;
    float softcap;            /* as smax_job */
    uint32_t window;
} fa_job;

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

static void fa_range(void *arg, size_t i0, size_t i1, int thread) {
    const fa_job *j = arg;
    pp_llm_ctx *c = j->c;
    const pp_llm_hparams *hp = &c->m->hp;
    const uint32_t H = hp->n_head, hd = hp->head_dim, group = hp->n_head / hp->n_head_kv;
    float acc[PP_LLM_MAX_HEAD_DIM];
    (void)thread;
    for (size_t i = i0; i < i1; i++) {
        uint32_t t = (uint32_t)(i / H), h = (uint32_t)(i % H), kvh = h / group;
        const float *q = c->q + (size_t)t * c->q_dim + (size_t)h * hd;
        float *out = c->att + (size_t)t * c->q_dim + (size_t)h * hd;
        float M = -INFINITY, S = 0.0f;
        for (uint32_t d = 0; d < hd; d++) acc[d] = 0.0f;
        for (uint32_t p = window_start(j->pos + t, j->window); p <= j->pos + t; p++) {
            const float *k = j->kf + (size_t)p * c->kv_dim + (size_t)kvh * hd;
            float s = pp_dot_f32(q, k, hd) * j->scale;
            if (j->softcap != 0.0f) s = j->softcap * tanhf(s);
            float Mold = M, ms = 1.0f, vs = 1.0f;
            if (s > M) {
                M = s;
                ms = expf(Mold - M);
                for (uint32_t d = 0; d < hd; d++) acc[d] = f16r(acc[d] * ms);
            } else {
                vs = expf(s - M);
            }
            for (uint32_t d = 0; d < hd; d++)
                acc[d] = f16r(fmaf(j->vf[((size_t)kvh * hd + d) * c->n_ctx + p], vs, acc[d]));
            S = S * ms + vs;
        }
        const float inv = S == 0.0f ? 0.0f : 1.0f / S;
        for (uint32_t d = 0; d < hd; d++) out[d] = acc[d] * inv;
    }
}

/* Converts a layer's cached K rows [0, n_kv) and V^T columns [0, n_kv) to f32
** (f16 cache).  Work item r < n_kv is K row r; item n_kv + d is V^T row d. */
typedef struct conv_job {
    const uint16_t *ks, *vs;
    float *kd, *vd;
    size_t kv_dim, n_ctx, n_kv;
} conv_job;

static void conv_range(void *arg, size_t r0, size_t r1, int thread) {
    const conv_job *j = arg;
    (void)thread;
    for (size_t r = r0; r < r1; r++) {
        const uint16_t *src;
        float *dst;
        size_t len;
        if (r < j->n_kv) {
            src = j->ks + r * j->kv_dim;
            dst = j->kd + r * j->kv_dim;
            len = j->kv_dim;
        } else {
            src = j->vs + (r - j->n_kv) * j->n_ctx;
            dst = j->vd + (r - j->n_kv) * j->n_ctx;
            len = j->n_kv;
        }
        for (size_t i = 0; i < len; i++) dst[i] = pp_fp16_to_f32(src[i]);
    }
}

/* ----------------------------------------------------------------- the pass ---- */

/* Per-architecture steps of the pass (model.h lists which architecture uses what).
** Each is a no-op for the architectures that do not have it. */

/* y (n, d) += b (d): an optional bias after a product. */
static void add_bias(float *y, const float *b, uint32_t n, size_t d) {
    if (!b) return;
    for (uint32_t t = 0; t < n; t++) pp_add(y + t * d, b, (int64_t)d);
}

/* qwen3's QK-norm: RMSNorm over each head's head_dim values of x (n, n_heads*hd). */
static void head_norm(float *x, const float *w, uint32_t n, uint32_t n_heads, uint32_t hd,
                      float eps) {
    if (!w) return;
    for (size_t r = 0; r < (size_t)n * n_heads; r++)
        pp_rmsnorm(x + r * hd, x + r * hd, w, (int64_t)hd, eps);
}

/* The end of an attention or FFN branch, y (n, E): gemma2's post-norm, granite's
** residual scale, then the residual add into x. */
static void residual(const pp_llm_hparams *hp, float *x, float *y, const float *post_norm,
                     uint32_t n) {
    const size_t E = hp->n_embd;
    if (post_norm)
        for (uint32_t t = 0; t < n; t++)
            pp_rmsnorm(y + t * E, y + t * E, post_norm, (int64_t)E, hp->rms_eps);
    if (hp->residual_scale != 1.0f) pp_scale(y, hp->residual_scale, (int64_t)(n * E));
    pp_add(x, y, (int64_t)(n * E));
}

/* Logits as the architecture defines them: granite divides by logit_scale (as a
** multiplication by its reciprocal, like llama.cpp), gemma2 soft-caps. */
static void finish_logits(const pp_llm_hparams *hp, float *l, size_t n) {
    if (hp->logit_scale != 1.0f) pp_scale(l, 1.0f / hp->logit_scale, (int64_t)n);
    if (hp->final_softcap != 0.0f) pp_softcap(l, hp->final_softcap, (int64_t)n);
}

/* Runs one chunk of n <= n_batch tokens at positions [pos, pos+n), pos == n_past. */
static void eval_chunk(pp_llm_ctx *c, const int32_t *ids, uint32_t n, uint32_t pos) {
    const pp_llm_model *m = c->m;
    const pp_llm_hparams *hp = &m->hp;
    const size_t E = hp->n_embd, FF = hp->n_ff, kvd = c->kv_dim, qd = c->q_dim;

    /* token embeddings: x (n, E) */
    pp_get_rows((int)m->tok_embd.type, m->tok_embd.data, m->tok_embd.row_bytes, E, ids, n, c->x);
    if (hp->embd_scale != 1.0f) pp_scale(c->x, hp->embd_scale, (int64_t)(n * E));  /* gemma2, granite */
    /* rotation tables, one per position, shared by all layers and heads */
    if (hp->use_rope)
        for (uint32_t t = 0; t < n; t++)
            pp_rope_table(c->rope + (size_t)t * hp->n_rot, pos + t, hp->n_rot, hp->rope_base,
                          hp->rope_freq_scale, m->rope_freqs);
    /* the softmax's scale; with a soft-cap, already divided by it (as ggml does) */
    const float scale = hp->attn_softcap != 0.0f ? hp->kq_scale / hp->attn_softcap : hp->kq_scale;

    for (uint32_t l = 0; l < hp->n_layer; l++) {
        const pp_llm_layer *ly = &m->layers[l];
        /* ---- attention block */
        for (uint32_t t = 0; t < n; t++)
            pp_rmsnorm(c->xn + t * E, c->x + t * E, ly->attn_norm, (int64_t)E, hp->rms_eps);
        matmul(c, &ly->wq, c->xn, n, c->q);     /* q (n, q_dim) */
        matmul(c, &ly->wk, c->xn, n, c->k);     /* k (n, kv_dim) */
        matmul(c, &ly->wv, c->xn, n, c->v);     /* v (n, kv_dim) */
        add_bias(c->q, ly->bq, n, qd);
        add_bias(c->k, ly->bk, n, kvd);
        add_bias(c->v, ly->bv, n, kvd);
        head_norm(c->q, ly->q_norm, n, hp->n_head, hp->head_dim, hp->rms_eps);     /* qwen3 */
        head_norm(c->k, ly->k_norm, n, hp->n_head_kv, hp->head_dim, hp->rms_eps);
        if (hp->use_rope)
            for (uint32_t t = 0; t < n; t++) {
                const float *cs = c->rope + (size_t)t * hp->n_rot;
                if (hp->rope_neox) {
                    pp_rope_neox(c->q + t * qd, hp->n_head, hp->head_dim, hp->n_rot, cs);
                    pp_rope_neox(c->k + t * kvd, hp->n_head_kv, hp->head_dim, hp->n_rot, cs);
                } else {
                    pp_rope_norm(c->q + t * qd, hp->n_head, hp->head_dim, hp->n_rot, cs);
                    pp_rope_norm(c->k + t * kvd, hp->n_head_kv, hp->head_dim, hp->n_rot, cs);
                }
            }
        if (hp->q_scale != 1.0f) pp_scale(c->q, hp->q_scale, (int64_t)((size_t)n * qd)); /* gemma2 */
        /* Short chunks with an f16 cache take llama.cpp's one-query-at-a-time path (see
        ** fa_range), which multiplies q.K^T in f16: q is converted to the cache's type. */
        const int f16_attn = !c->kv_f32 && n < PP_LLM_F16_ATTN_BELOW;
        if (f16_attn)
            for (size_t i = 0; i < (size_t)n * qd; i++) c->q[i] = pp_fp16_to_f32(pp_f32_to_fp16(c->q[i]));
        /* append to the cache (K by rows, V transposed), then view the layer as f32 */
        const size_t n_ctx = c->n_ctx, n_kv = (size_t)pos + n;
        const size_t kbase = ((size_t)l * n_ctx + pos) * kvd, vbase = (size_t)l * kvd * n_ctx;
        const float *kf, *vf;
        if (c->kv_f32) {
            float *kc = (float *)c->kc, *vc = (float *)c->vc;
            memcpy(kc + kbase, c->k, (size_t)n * kvd * sizeof(float));
            for (uint32_t t = 0; t < n; t++)
                for (size_t d = 0; d < kvd; d++) vc[vbase + d * n_ctx + pos + t] = c->v[t * kvd + d];
            kf = kc + (size_t)l * n_ctx * kvd;
            vf = vc + vbase;
        } else {
            uint16_t *kc = (uint16_t *)c->kc, *vc = (uint16_t *)c->vc;
            for (size_t i = 0; i < (size_t)n * kvd; i++) kc[kbase + i] = pp_f32_to_fp16(c->k[i]);
            for (uint32_t t = 0; t < n; t++)
                for (size_t d = 0; d < kvd; d++)
                    vc[vbase + d * n_ctx + pos + t] = pp_f32_to_fp16(c->v[t * kvd + d]);
            conv_job cj = {kc + (size_t)l * n_ctx * kvd, vc + vbase, c->kf, c->vf, kvd, n_ctx, n_kv};
            pp_pool_for(c->pool, n_kv + kvd, 16, conv_range, &cj);
            kf = c->kf;
            vf = c->vf;
        }
        /* per head: S = q K^T (n, n_kv); masked softmax; att = S V (n, head_dim) */
        const uint32_t hd = hp->head_dim, group = hp->n_head / hp->n_head_kv;
        const uint32_t window = ly->swa ? hp->n_swa : 0;
        if (f16_attn) {
            fa_job fj = {c, kf, vf, pos, scale, hp->attn_softcap, window};
            pp_pool_for(c->pool, (size_t)n * hp->n_head, 1, fa_range, &fj);
        } else
        for (uint32_t h = 0; h < hp->n_head; h++) {
            const size_t kvh = h / group;
            pp_gemm(PP_GGML_F32, kf + kvh * hd, kvd * sizeof(float), n_kv, hd, c->q + (size_t)h * hd,
                    qd, n, c->scores, n_ctx, c->work, c->pool);
            smax_job sj = {c->scores, n_ctx, pos, (uint32_t)n_kv, scale, hp->attn_softcap, window};
            pp_pool_for(c->pool, n, 4, smax_range, &sj);
            pp_gemm(PP_GGML_F32, vf + kvh * hd * n_ctx, n_ctx * sizeof(float), hd, n_kv, c->scores,
                    n_ctx, n, c->att + (size_t)h * hd, qd, c->work, c->pool);
        }
        matmul(c, &ly->wo, c->att, n, c->xn);   /* reuse xn (n, E) for the projection */
        add_bias(c->xn, ly->bo, n, E);
        residual(hp, c->x, c->xn, ly->post_attn_norm, n);

        /* ---- feed-forward block */
        for (uint32_t t = 0; t < n; t++)
            pp_rmsnorm(c->xn + t * E, c->x + t * E, ly->ffn_norm, (int64_t)E, hp->rms_eps);
        matmul(c, &ly->gate, c->xn, n, c->gate);  /* (n, FF) */
        matmul(c, &ly->up, c->xn, n, c->up);      /* (n, FF) */
        add_bias(c->gate, ly->b_gate, n, FF);
        add_bias(c->up, ly->b_up, n, FF);
        if (hp->ffn_gelu) pp_gelu_mul(c->gate, c->up, (int64_t)(n * FF));   /* gemma2 */
        else pp_silu_mul(c->gate, c->up, (int64_t)(n * FF));
        matmul(c, &ly->down, c->gate, n, c->xn);  /* (n, E) */
        add_bias(c->xn, ly->b_down, n, E);
        residual(hp, c->x, c->xn, ly->post_ffn_norm, n);
    }
    /* the last position's final-normed state, kept for the LM head */
    pp_rmsnorm(c->hidden, c->x + (size_t)(n - 1) * E, m->output_norm, (int64_t)E, hp->rms_eps);
}

pp_status pp_llm_ctx_eval(pp_llm_ctx *c, const int32_t *ids, size_t n, uint32_t pos,
                          unsigned flags) {
    if (!c || !ids || n == 0 || pos > c->n_past || n > c->n_ctx - pos) return PARAPET_ERR_ARG;
    for (size_t i = 0; i < n; i++)
        if (ids[i] < 0 || (uint32_t)ids[i] >= c->m->hp.n_vocab) return PARAPET_ERR_ARG;
    pp_llm_ctx_truncate(c, pos);
    c->have_hidden = c->have_logits = 0;
    for (size_t done = 0; done < n;) {
        uint32_t k = (uint32_t)PP_MIN((size_t)c->n_batch, n - done);
        eval_chunk(c, ids + done, k, c->n_past);
        c->n_past += k;
        done += k;
    }
    c->have_hidden = 1;
    if (flags & PP_LLM_OUT_LOGITS) {
        matmul(c, &c->m->output, c->hidden, 1, c->logits);
        finish_logits(&c->m->hp, c->logits, c->m->hp.n_vocab);
        c->have_logits = 1;
    }
    return PARAPET_OK;
}

pp_status pp_llm_ctx_logits_rows(pp_llm_ctx *c, const int32_t *rows, size_t n, float *out) {
    if (!c || !c->have_hidden || (n && (!rows || !out))) return PARAPET_ERR_ARG;
    for (size_t i = 0; i < n; i++)
        if (rows[i] < 0 || (uint32_t)rows[i] >= c->m->hp.n_vocab) return PARAPET_ERR_ARG;
    if (n) {
        matmul_rows(c, &c->m->output, c->hidden, rows, n, out);
        finish_logits(&c->m->hp, out, n);
    }
    return PARAPET_OK;
}
