/*
** forward.c -- the decoder's forward pass over batches of tokens, with a KV cache shared
** by several sequences.
**
** One pass for the four architectures model.c loads (llama, gemma2, qwen3, granite):
** their differences are data in pp_llm_hparams and optional tensors in pp_llm_layer,
** applied by the small "per-architecture steps" above eval_chunk (biases, QK-norm,
** post-norms and residual scale, logit scale and soft-cap) and by two parameters of
** the attention (soft-cap, sliding window); model.h has the table.
**
** Part of the guard-model engine (src/llm); the model comes from model.c, the
** element-wise ops from ops.c, the weight products from the kernels (pp_gemm).  The
** moderation workload is one long, mostly constant prompt and a handful of logits, so
** the pass is written for batches: each weight matrix is applied to every token of a
** chunk at once (matrix-matrix), and the LM head runs for the last position only --
** over the whole vocabulary, or over the few rows a scorer asks for.
**
** Sequences.  A context holds n_seq sequences.  Sequence 0 is the main one: positions
** [0, n_ctx) in cells [0, n_ctx) of the cache.  A sequence s >= 1 can start from a
** prefix of sequence 0 (pp_llm_ctx_seq_share): its positions [0, shared) are read
** from sequence 0's cells, without a copy, and its own positions [shared, shared +
** n_ctx_seq) live in a region of n_ctx_seq cells of its own.  This is how a guard
** model's policy prompt is computed once and shared by every request in flight.
** pp_llm_ctx_eval_batch runs items of several sequences in ONE forward pass: the
** weight products see all their tokens together, attention keeps each item to its own
** sequence.  Every product is computed per token row (activations are quantized per
** row, integer dot products per row), so an item's results do not depend on what else
** is in the batch, bit for bit.
**
** A context owns, sized once at creation and never reallocated:
**     the KV cache      k, v: (n_layer, n_cells, kv_dim), f16 (default) or f32
**     the activations   x, xn: (n_batch, n_embd)   q, att: (n_batch, q_dim)
**                       k, v: (n_batch, kv_dim)    gate, up: (n_batch, n_ff)
**     per thread        the attention scratch of one (item, kv head): K and V^T of
**                       the item's positions in f32, the scores, pp_gemm work
**     per sequence      hidden: (n_embd) final-normed state of its last position
**     the output        logits: (n_vocab), sequence 0's full distribution
** An item longer than n_batch runs alone as consecutive chunks; the cache makes that
** the same computation.  Positions are absolute: an item (seq, ids, n, pos) truncates
** its sequence to pos and appends.
**
** Attention is one parallel job per layer over (item, kv head) pairs.  Each runs the
** query heads of its group: S = q K^T (K rows as an f32 "weight"), a masked softmax
** per row, then att = S V (rows of V^T as the weight), through the kernels on the
** calling thread.  Items shorter than 64 tokens attend as llama.cpp's CPU flash
** attention does for short query batches (see pp_fa_query in ops.h).
**
** The last layer computes queries, attention, the output projection and the FFN for
** the last token of each item only (llama.cpp does the same from the attention output
** on): the keys and values of every token still go to the cache.
**
** Threading: matrix products split output rows across the pool inside the kernels;
** norms, rotations and the gated product split tokens across it here.  The pool is
** created with the context and runs jobs without allocating.
*/
#include "llm/model.h"
#include "llm/kernels/kernels.h"
#include "llm/ops.h"
#include "llm/pool.h"
#include "llm/quant.h"
#include <math.h>
#include <string.h>

/* Items shorter than this many tokens attend as llama.cpp's CPU flash attention does
** for short query batches (GGML_FA_TILE_Q = 64): f16 q, f16 output accumulator.
** Longer ones use f32 throughout, as llama.cpp's tiled path does. */
#define PP_LLM_F16_ATTN_BELOW 64

/* Queries per block of the f32 attention path (each block sees the keys up to its last
** query). */
#define ATT_QB 64

typedef struct seq_state {
    uint32_t n_past;          /* positions held */
    uint32_t shared;          /* positions [0, shared) are sequence 0's cells */
    size_t base;              /* first own cell */
    uint32_t cap;             /* own cells */
    int have_hidden;
} seq_state;

/* One item of the chunk being run: tokens [off, off+n) at positions [pos, pos+n) of
** sequence seq; n_item is the whole item's length (the attention path depends on it);
** qoff/nq: the item's query rows in q/att (all n, or its last one in the last layer). */
typedef struct seg {
    uint32_t seq, pos, n, off, n_item, qoff, nq;
} seg;

struct pp_llm_ctx {
    const pp_llm_model *m;
    uint32_t n_ctx, n_batch, n_seq, n_ctx_seq;
    int kv_f32, n_threads, ref_matmul;
    pp_pool *pool;
    size_t kv_dim, q_dim, n_cells;
    void *kc, *vc;            /* (n_layer, n_cells, kv_dim) f16 or f32 */
    seq_state *seq;           /* (n_seq) */
    float *x, *xn;            /* (n_batch, n_embd) */
    float *q, *att;           /* (n_batch, q_dim) */
    float *k, *v;             /* (n_batch, kv_dim) */
    float *gate, *up;         /* (n_batch, n_ff) */
    float *rope;              /* (n_batch, n_rot) cos/sin tables */
    uint32_t *rpos;           /* (n_batch) position of each row, for the rope tables */
    seg *segs;                /* (n_batch) items of the current chunk */
    int32_t *cids;            /* (n_batch) token ids of the current chunk */
    /* per-thread attention scratch, thread t at base + t * stride */
    float *akf, *avf, *ascore;
    size_t akf_stride, ascore_stride;
    uint8_t *awork;
    size_t awork_stride;
    float *wrow;              /* (n_threads, max row) dequantized weight rows (ref_matmul) */
    void *work_mem;           /* pp_gemm's work buffer, work = work_mem aligned to 64 */
    void *work;
    float *hidden;            /* (n_seq, n_embd) last position of each sequence, normed */
    float *logits;            /* (n_vocab) */
    int have_logits;
    uint64_t bytes;           /* all of the above, for reports */
};

/* ------------------------------------------------------------ weight products ---- */

/* y (n, w->ne1) = x (n, w->ne0) . W^T : every token against every row.
**
** Normally the kernels (kernels/), which quantize the activations as llama.cpp does
** and multiply with the ISA's integer kernels, from the matrix packed at load when
** there is one.  With ref_matmul (tests) it is the plain reference below instead:
** rows dequantized one at a time into a per-thread scratch row and dotted in f32 with
** every token, so each weight byte is read once per chunk. */
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

static size_t max_row(const pp_llm_ctx *c) {
    return (size_t)PP_MAX(PP_MAX(c->m->hp.n_embd, c->m->hp.n_ff), c->q_dim);
}

static void matmul(pp_llm_ctx *c, const pp_llm_weight *w, const float *x, size_t n, float *y) {
    if (!n) return;
    if (!c->ref_matmul) {
        pp_gemm_packed((int)w->type, w->packed, w->data, w->row_bytes, (size_t)w->ne1,
                       (size_t)w->ne0, x, (size_t)w->ne0, n, y, (size_t)w->ne1, c->work, c->pool);
        return;
    }
    mm_job j = {w, x, y, n, NULL, 0, c->wrow, max_row(c)};
    pp_pool_for(c->pool, (size_t)w->ne1, 16, mm_range, &j);
}

static void matmul_rows(pp_llm_ctx *c, const pp_llm_weight *w, const float *x,
                        const int32_t *rows, size_t n_rows, float *y) {
    if (!c->ref_matmul) {
        pp_gemm_rows((int)w->type, w->data, w->row_bytes, rows, n_rows, (size_t)w->ne0, x,
                     (size_t)w->ne0, 1, y, n_rows, c->work, c->pool);
        return;
    }
    mm_job j = {w, x, y, 1, rows, n_rows, c->wrow, max_row(c)};
    pp_pool_for(c->pool, n_rows, 1, mm_range, &j);
}

/* ------------------------------------------------------------------ context ---- */

void pp_llm_ctx_free(pp_llm_ctx *c) {
    if (!c) return;
    pp_pool_destroy(c->pool);
    void *bufs[] = {c->kc, c->vc, c->seq, c->x, c->xn, c->q, c->att, c->k, c->v, c->gate,
                    c->up, c->rope, c->rpos, c->segs, c->cids, c->akf, c->avf, c->ascore, c->awork,
                    c->wrow, c->work_mem, c->hidden, c->logits};
    for (size_t i = 0; i < PP_ARRAY_LEN(bufs); i++) pp_free(bufs[i]);
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

static size_t round64(size_t x) { return (x + 63) & ~(size_t)63; }

pp_status pp_llm_ctx_new(const pp_llm_model *m, const pp_llm_ctx_params *p, pp_llm_ctx **out,
                         char **detail) {
    if (detail) *detail = NULL;
    if (!m || !out) return PARAPET_ERR_ARG;
    const pp_llm_hparams *hp = &m->hp;
    pp_llm_ctx_params d = {0, 0, 1, 0, 0, 0, 0};
    if (p) d = *p;
    if (!d.n_ctx) d.n_ctx = PP_MIN(hp->n_ctx_train, 4096u);
    if (!d.n_batch) d.n_batch = 512;   /* llama.cpp's default ubatch: same chunking */
    if (d.n_batch > d.n_ctx) d.n_batch = d.n_ctx;
    if (d.n_threads < 1) d.n_threads = 1;
    if (d.n_seq < 1) d.n_seq = 1;
    if (!d.n_ctx_seq) d.n_ctx_seq = PP_MIN(d.n_ctx, 512u);
    if (d.n_ctx_seq > d.n_ctx) d.n_ctx_seq = d.n_ctx;
    if (d.n_ctx > PP_LLM_MAX_CTX || d.n_threads > PP_POOL_MAX_THREADS || d.n_seq > PP_LLM_MAX_SEQ ||
        (uint64_t)d.n_ctx + (uint64_t)(d.n_seq - 1) * d.n_ctx_seq > PP_LLM_MAX_CTX) {
        if (detail) *detail = pp_asprintf("context of %u positions, %u sequences of %u, %d threads "
                                          "is out of range (at most %u cells, %u sequences, %d threads)",
                                          d.n_ctx, d.n_seq, d.n_ctx_seq, d.n_threads,
                                          (unsigned)PP_LLM_MAX_CTX, (unsigned)PP_LLM_MAX_SEQ,
                                          PP_POOL_MAX_THREADS);
        return PARAPET_ERR_ARG;
    }
    pp_llm_ctx *c = pp_calloc(1, sizeof *c);
    if (!c) return PARAPET_ERR_NOMEM;
    c->m = m;
    c->n_ctx = d.n_ctx;
    c->n_batch = d.n_batch;
    c->n_seq = d.n_seq;
    c->n_ctx_seq = d.n_ctx_seq;
    c->kv_f32 = d.kv_f32 != 0;
    c->n_threads = d.n_threads;
    c->ref_matmul = d.ref_matmul != 0;
    c->kv_dim = (size_t)hp->n_head_kv * hp->head_dim;
    c->q_dim = (size_t)hp->n_head * hp->head_dim;
    c->n_cells = (size_t)c->n_ctx + (size_t)(c->n_seq - 1) * c->n_ctx_seq;
    const size_t E = hp->n_embd, B = c->n_batch, T = (size_t)c->n_threads, hd = hp->head_dim;
    const size_t kv_el = c->kv_f32 ? sizeof(float) : sizeof(uint16_t);
    /* pp_gemm's work buffer: the largest any weight of the model needs for a full chunk */
    size_t work = pp_gemm_work_size((int)m->output.type, (size_t)m->output.ne0, 1, c->n_threads);
    for (uint32_t l = 0; l < hp->n_layer; l++) {
        const pp_llm_layer *ly = &m->layers[l];
        const pp_llm_weight *lw[] = {&ly->wq, &ly->wk, &ly->wv, &ly->wo, &ly->gate, &ly->up, &ly->down};
        for (size_t i = 0; i < PP_ARRAY_LEN(lw); i++)
            work = PP_MAX(work, pp_gemm_work_size((int)lw[i]->type, (size_t)lw[i]->ne0, B,
                                                  c->n_threads));
    }
    /* attention, per thread: S = q K^T (k = head_dim) and S V (k up to n_ctx), f32
    ** operands, on one thread */
    c->awork_stride = round64(PP_MAX(pp_gemm_work_size(PP_GGML_F32, hd, B, 1),
                                     pp_gemm_work_size(PP_GGML_F32, c->n_ctx, B, 1)));
    c->akf_stride = (size_t)c->n_ctx * hd;
    c->ascore_stride = B * (size_t)c->n_ctx;
    if ((c->n_threads > 1 && pp_pool_create(c->n_threads, &c->pool)) ||
        !(c->work_mem = alloc_n(work + 64, 1, 1)) ||
        !(c->kc = alloc_n((size_t)hp->n_layer * c->n_cells, c->kv_dim, kv_el)) ||
        !(c->vc = alloc_n((size_t)hp->n_layer * c->n_cells, c->kv_dim, kv_el)) ||
        !(c->seq = alloc_n(c->n_seq, 1, sizeof(seq_state))) ||
        !(c->x = alloc_n(B, E, sizeof(float))) || !(c->xn = alloc_n(B, E, sizeof(float))) ||
        !(c->q = alloc_n(B, c->q_dim, sizeof(float))) ||
        !(c->att = alloc_n(B, c->q_dim, sizeof(float))) ||
        !(c->k = alloc_n(B, c->kv_dim, sizeof(float))) ||
        !(c->v = alloc_n(B, c->kv_dim, sizeof(float))) ||
        !(c->gate = alloc_n(B, hp->n_ff, sizeof(float))) ||
        !(c->up = alloc_n(B, hp->n_ff, sizeof(float))) ||
        !(c->rope = alloc_n(B, hp->n_rot, sizeof(float))) ||
        !(c->rpos = alloc_n(B, 1, sizeof(uint32_t))) ||
        !(c->segs = alloc_n(B, 1, sizeof(seg))) ||
        !(c->cids = alloc_n(B, 1, sizeof(int32_t))) ||
        !(c->akf = alloc_n(T, c->akf_stride, sizeof(float))) ||
        !(c->avf = alloc_n(T, c->akf_stride, sizeof(float))) ||
        !(c->ascore = alloc_n(T, c->ascore_stride, sizeof(float))) ||
        !(c->awork = alloc_n(T * c->awork_stride + 64, 1, 1)) ||
        !(c->wrow = alloc_n(T, max_row(c), sizeof(float))) ||
        !(c->hidden = alloc_n(c->n_seq, E, sizeof(float))) ||
        !(c->logits = alloc_n(hp->n_vocab, 1, sizeof(float)))) {
        pp_llm_ctx_free(c);
        if (detail) *detail = pp_strdup("out of memory for the context (KV cache and buffers)");
        return PARAPET_ERR_NOMEM;
    }
    c->work = (void *)(((uintptr_t)c->work_mem + 63) & ~(uintptr_t)63);
    memset(c->seq, 0, c->n_seq * sizeof *c->seq);
    c->seq[0].cap = c->n_ctx;
    for (uint32_t s = 1; s < c->n_seq; s++) {
        c->seq[s].base = (size_t)c->n_ctx + (size_t)(s - 1) * c->n_ctx_seq;
        c->seq[s].cap = c->n_ctx_seq;
    }
    *out = c;
    return PARAPET_OK;
}

uint32_t pp_llm_ctx_n_past(const pp_llm_ctx *c) { return c ? c->seq[0].n_past : 0; }
uint32_t pp_llm_ctx_n_ctx(const pp_llm_ctx *c) { return c ? c->n_ctx : 0; }
uint32_t pp_llm_ctx_n_seq(const pp_llm_ctx *c) { return c ? c->n_seq : 0; }
uint64_t pp_llm_ctx_bytes(const pp_llm_ctx *c) { return c ? c->bytes : 0; }

uint32_t pp_llm_ctx_seq_cap(const pp_llm_ctx *c, uint32_t seq) {
    return c && seq < c->n_seq ? c->seq[seq].cap : 0;
}

uint32_t pp_llm_ctx_seq_n_past(const pp_llm_ctx *c, uint32_t seq) {
    return c && seq < c->n_seq ? c->seq[seq].n_past : 0;
}

/* Positions [pos, ...) of seq are gone; sequences sharing what seq 0 dropped are
** emptied with it. */
static void seq_truncate(pp_llm_ctx *c, uint32_t seq, uint32_t pos) {
    seq_state *s = &c->seq[seq];
    if (pos < s->n_past) {
        s->n_past = pos;
        s->have_hidden = 0;
        if (seq == 0) c->have_logits = 0;
    }
    if (seq == 0)
        for (uint32_t o = 1; o < c->n_seq; o++)
            if (c->seq[o].shared > pos) {
                c->seq[o].n_past = c->seq[o].shared = 0;
                c->seq[o].have_hidden = 0;
            }
}

void pp_llm_ctx_truncate(pp_llm_ctx *c, uint32_t pos) {
    if (c) seq_truncate(c, 0, pos);
}

void pp_llm_ctx_seq_truncate(pp_llm_ctx *c, uint32_t seq, uint32_t pos) {
    if (c && seq < c->n_seq) seq_truncate(c, seq, PP_MAX(pos, c->seq[seq].shared));
}

pp_status pp_llm_ctx_seq_share(pp_llm_ctx *c, uint32_t seq, uint32_t n_shared) {
    if (!c || seq == 0 || seq >= c->n_seq || n_shared > c->seq[0].n_past) return PARAPET_ERR_ARG;
    seq_state *s = &c->seq[seq];
    s->shared = s->n_past = n_shared;
    s->have_hidden = 0;
    return PARAPET_OK;
}

static size_t cell_of(const pp_llm_ctx *c, uint32_t seq, uint32_t pos) {
    const seq_state *s = &c->seq[seq];
    return seq == 0 || pos < s->shared ? pos : s->base + (pos - s->shared);
}

pp_status pp_llm_ctx_seq_copy(pp_llm_ctx *c, uint32_t dst, uint32_t src, uint32_t n) {
    if (!c || dst == 0 || dst >= c->n_seq || src >= c->n_seq || src == dst ||
        n > c->seq[src].n_past)
        return PARAPET_ERR_ARG;
    uint32_t shared = src == 0 ? n : PP_MIN(c->seq[src].shared, n);
    if (n - shared > c->seq[dst].cap) return PARAPET_ERR_ARG;
    const size_t el = (c->kv_f32 ? sizeof(float) : sizeof(uint16_t)) * c->kv_dim;
    for (uint32_t l = 0; l < c->m->hp.n_layer; l++) {
        size_t lb = (size_t)l * c->n_cells;
        size_t from = lb + cell_of(c, src, shared), to = lb + c->seq[dst].base;
        memcpy((uint8_t *)c->kc + to * el, (const uint8_t *)c->kc + from * el, (n - shared) * el);
        memcpy((uint8_t *)c->vc + to * el, (const uint8_t *)c->vc + from * el, (n - shared) * el);
    }
    c->seq[dst].shared = shared;
    c->seq[dst].n_past = n;
    c->seq[dst].have_hidden = 0;
    return PARAPET_OK;
}

const float *pp_llm_ctx_logits(const pp_llm_ctx *c) {
    return c && c->have_logits ? c->logits : NULL;
}

/* ------------------------------------------------------------ token-wise ops ---- */

/* A parallel pass over the rows of the chunk: norms, rotations, the gated product. */
typedef enum { OP_NORM, OP_ROPE_TABLE, OP_ROPE, OP_GATE_MUL, OP_KV_STORE } row_op;

typedef struct row_job {
    pp_llm_ctx *c;
    row_op op;
    const float *w;           /* OP_NORM: the norm weight */
    float *dst;               /* OP_NORM: output rows (n_embd apart) */
    const float *src;         /* OP_NORM: input rows */
    float *rot;               /* OP_ROPE: rows of rot_heads heads, bias added first, */
    size_t rot_stride;        /* then the per-head norm, then the rotation */
    uint32_t rot_heads;
    const float *bias, *head_norm;
    const float *bias_up;     /* OP_GATE_MUL: bias is the gate's, this the up product's */
    uint32_t layer;           /* OP_KV_STORE */
} row_job;

static void row_range(void *arg, size_t r0, size_t r1, int thread) {
    const row_job *j = arg;
    pp_llm_ctx *c = j->c;
    const pp_llm_model *m = c->m;
    const pp_llm_hparams *hp = &m->hp;
    const size_t E = hp->n_embd;
    (void)thread;
    switch (j->op) {
    case OP_NORM:
        for (size_t t = r0; t < r1; t++) pp_rmsnorm(j->dst + t * E, j->src + t * E, j->w, (int64_t)E, hp->rms_eps);
        break;
    case OP_ROPE_TABLE:
        for (size_t t = r0; t < r1; t++)
            pp_rope_table(c->rope + t * hp->n_rot, c->rpos[t], hp->n_rot, hp->rope_base,
                          hp->rope_freq_scale, m->rope_freqs);
        break;
    case OP_ROPE:
        for (size_t t = r0; t < r1; t++) {
            float *x = j->rot + t * j->rot_stride;
            if (j->bias) pp_add(x, j->bias, (int64_t)j->rot_heads * hp->head_dim);
            if (j->head_norm)   /* qwen3's QK-norm: RMSNorm over each head, before RoPE */
                for (uint32_t h = 0; h < j->rot_heads; h++)
                    pp_rmsnorm(x + (size_t)h * hp->head_dim, x + (size_t)h * hp->head_dim, j->head_norm,
                               (int64_t)hp->head_dim, hp->rms_eps);
            if (!hp->use_rope) continue;
            if (hp->rope_neox) pp_rope_neox(x, j->rot_heads, hp->head_dim, hp->n_rot, c->rope + t * hp->n_rot);
            else pp_rope_norm(x, j->rot_heads, hp->head_dim, hp->n_rot, c->rope + t * hp->n_rot);
        }
        break;
    case OP_GATE_MUL: {
        const size_t FF = hp->n_ff;
        for (size_t t = r0; t < r1; t++) {
            float *g = c->gate + t * FF, *u = c->up + t * FF;
            if (j->bias) pp_add(g, j->bias, (int64_t)FF);
            if (j->bias_up) pp_add(u, j->bias_up, (int64_t)FF);
            if (hp->ffn_gelu) pp_vec_gelu_mul(g, u, FF);          /* gemma2: GeGLU */
            else pp_vec_silu_mul(g, u, FF);
        }
        break;
    }
    case OP_KV_STORE: {
        /* row t of k and v to its sequence's cell (row t of the chunk is token t) */
        const size_t kvd = c->kv_dim, lb = (size_t)j->layer * c->n_cells;
        for (size_t t = r0; t < r1; t++) {
            const seg *sg = NULL;
            for (uint32_t i = 0;; i++)
                if (t < (size_t)c->segs[i].off + c->segs[i].n) { sg = &c->segs[i]; break; }
            size_t cell = lb + cell_of(c, sg->seq, sg->pos + (uint32_t)(t - sg->off));
            const float *k = c->k + t * kvd, *v = c->v + t * kvd;
            if (c->kv_f32) {
                memcpy((float *)c->kc + cell * kvd, k, kvd * sizeof(float));
                memcpy((float *)c->vc + cell * kvd, v, kvd * sizeof(float));
            } else {
                uint16_t *kc = (uint16_t *)c->kc + cell * kvd, *vc = (uint16_t *)c->vc + cell * kvd;
                for (size_t d = 0; d < kvd; d++) kc[d] = pp_f32_to_fp16(k[d]);
                for (size_t d = 0; d < kvd; d++) vc[d] = pp_f32_to_fp16(v[d]);
            }
        }
        break;
    }
    }
}

static void rows_op(pp_llm_ctx *c, row_job *j, size_t n) {
    j->c = c;
    pp_pool_for(c->pool, n, 1, row_range, j);
}

/* --------------------------------------------------------------- attention ---- */

/* Item i / n_head_kv of the chunk, kv head i % n_head_kv: gathers the item's keys and
** values of that head into the thread's scratch as f32 (K rows; V^T rows, or V rows for
** a short item), then runs each query head of the group over the item's query rows. */
typedef struct attn_job {
    pp_llm_ctx *c;
    uint32_t layer, n_seg;
    float scale;              /* with a soft-cap, already divided by it (as ggml does) */
    float softcap;            /* scores -> softcap * tanh(s * scale); 0: none */
    uint32_t window;          /* a sliding-window layer: keys p-window < k <= p; 0: none */
} attn_job;

/* First key a query at position p sees: p-window+1 in a sliding-window layer. */
static inline uint32_t window_start(uint32_t p, uint32_t window) {
    return window && p >= window ? p - window + 1 : 0;
}

static void attn_range(void *arg, size_t i0, size_t i1, int thread) {
    const attn_job *j = arg;
    pp_llm_ctx *c = j->c;
    const pp_llm_hparams *hp = &c->m->hp;
    const uint32_t hd = hp->head_dim, HKV = hp->n_head_kv, group = hp->n_head / hp->n_head_kv;
    const size_t kvd = c->kv_dim, qd = c->q_dim, lb = (size_t)j->layer * c->n_cells;
    float *kf = c->akf + (size_t)thread * c->akf_stride, *vf = c->avf + (size_t)thread * c->akf_stride;
    float *S = c->ascore + (size_t)thread * c->ascore_stride;
    uint8_t *awork = (uint8_t *)(((uintptr_t)c->awork + 63) & ~(uintptr_t)63);
    void *work = awork + (size_t)thread * c->awork_stride;
    for (size_t i = i0; i < i1; i++) {
        const seg *sg = &c->segs[i / HKV];
        const uint32_t kvh = (uint32_t)(i % HKV);
        const size_t n_kv = (size_t)sg->pos + sg->n;
        /* first query row's position: the last layer keeps only the item's last token */
        const uint32_t qpos = sg->pos + sg->n - sg->nq;
        /* V rows as they are for a short item (pp_vec_fa_query), V^T for the products */
        const int short_item = !c->kv_f32 && sg->n_item < PP_LLM_F16_ATTN_BELOW;
        for (size_t p = 0; p < n_kv; p++) {
            size_t cell = lb + cell_of(c, sg->seq, (uint32_t)p);
            if (c->kv_f32) {
                const float *ks = (const float *)c->kc + cell * kvd + (size_t)kvh * hd;
                const float *vs = (const float *)c->vc + cell * kvd + (size_t)kvh * hd;
                memcpy(kf + p * hd, ks, hd * sizeof(float));
                for (uint32_t d = 0; d < hd; d++) vf[(size_t)d * n_kv + p] = vs[d];
            } else {
                const uint16_t *ks = (const uint16_t *)c->kc + cell * kvd + (size_t)kvh * hd;
                const uint16_t *vs = (const uint16_t *)c->vc + cell * kvd + (size_t)kvh * hd;
                pp_vec_f16_to_f32(kf + p * hd, ks, hd);
                if (short_item) {
                    pp_vec_f16_to_f32(vf + p * hd, vs, hd);
                } else {
                    for (uint32_t d = 0; d < hd; d++) vf[(size_t)d * n_kv + p] = pp_fp16_to_f32(vs[d]);
                }
            }
        }
        for (uint32_t h = kvh * group; h < (kvh + 1) * group; h++) {
            const float *q = c->q + (size_t)sg->qoff * qd + (size_t)h * hd;
            float *o = c->att + (size_t)sg->qoff * qd + (size_t)h * hd;
            if (short_item) {
                for (uint32_t t = 0; t < sg->nq; t++)
                    pp_vec_fa_query(q + t * qd, kf, vf, hd, window_start(qpos + t, j->window),
                                    qpos + t + 1, j->scale, j->softcap, o + t * qd);
                continue;
            }
            /* S (nq, n_kv) = q K^T; scaled (soft-capped), masked softmax per row (llama.cpp's
            ** flash-attention order); att = S V.  In blocks of ATT_QB queries, each against
            ** the keys up to its last query only: the causal triangle's far side is never
            ** computed, and S V just leaves out trailing zero terms (the same sums). */
            for (uint32_t t0 = 0; t0 < sg->nq; t0 += ATT_QB) {
                const uint32_t t1 = PP_MIN(sg->nq, t0 + ATT_QB), nb = t1 - t0;
                const size_t n_kb = (size_t)qpos + t1;   /* keys the block's queries see */
                float *Sb = S + (size_t)t0 * n_kv;
                pp_gemm(PP_GGML_F32, kf, hd * sizeof(float), n_kb, hd, q + (size_t)t0 * qd, qd, nb, Sb,
                        n_kv, work, NULL);
                for (uint32_t t = t0; t < t1; t++) {
                    float *row = S + (size_t)t * n_kv;
                    uint32_t valid = qpos + t + 1, lo = window_start(valid - 1, j->window);
                    if (j->softcap != 0.0f)
                        for (uint32_t p = lo; p < valid; p++) row[p] = j->softcap * tanhf(row[p] * j->scale);
                    else
                        for (uint32_t p = lo; p < valid; p++) row[p] *= j->scale;
                    pp_vec_softmax(row + lo, valid - lo);
                    for (uint32_t p = 0; p < lo; p++) row[p] = 0.0f;
                    for (size_t p = valid; p < n_kb; p++) row[p] = 0.0f;
                }
                pp_gemm(PP_GGML_F32, vf, n_kv * sizeof(float), hd, n_kb, Sb, n_kv, nb, o + (size_t)t0 * qd,
                        qd, work, NULL);
            }
        }
    }
}

/* ----------------------------------------------------------------- the pass ---- */

/* Per-architecture steps of the pass (model.h lists which architecture uses what).
** Each is a no-op for the architectures that do not have it. */

/* y (n, d) += b (d): an optional bias after a product. */
static void add_bias(float *y, const float *b, size_t n, size_t d) {
    if (!b) return;
    for (size_t t = 0; t < n; t++) pp_add(y + t * d, b, (int64_t)d);
}

/* The end of an attention or FFN branch, y (n, E): gemma2's post-norm, granite's
** residual scale, then the residual add into x. */
static void residual(pp_llm_ctx *c, float *x, float *y, const float *post_norm, size_t n) {
    const pp_llm_hparams *hp = &c->m->hp;
    const size_t E = hp->n_embd;
    if (post_norm) {
        row_job rj = {.op = OP_NORM, .w = post_norm, .dst = y, .src = y};
        rows_op(c, &rj, n);
    }
    if (hp->residual_scale != 1.0f) pp_scale(y, hp->residual_scale, (int64_t)(n * E));
    pp_add(x, y, (int64_t)(n * E));
}

/* Logits as the architecture defines them: granite divides by logit_scale (as a
** multiplication by its reciprocal, like llama.cpp), gemma2 soft-caps. */
static void finish_logits(const pp_llm_hparams *hp, float *l, size_t n) {
    if (hp->logit_scale != 1.0f) pp_scale(l, 1.0f / hp->logit_scale, (int64_t)n);
    if (hp->final_softcap != 0.0f) pp_softcap(l, hp->final_softcap, (int64_t)n);
}

/* Runs the chunk of items c->segs[0..n_seg) (n tokens, ids in chunk order): every
** item's positions [pos, pos+n) are appended to its sequence.  Leaves each item's last
** position, final-normed, in its sequence's hidden state. */
static void eval_chunk(pp_llm_ctx *c, const int32_t *ids, uint32_t n, uint32_t n_seg) {
    const pp_llm_model *m = c->m;
    const pp_llm_hparams *hp = &m->hp;
    const size_t E = hp->n_embd, kvd = c->kv_dim, qd = c->q_dim;
    seg *segs = c->segs;

    /* token embeddings: x (n, E); rotation tables, one per row, shared by all layers */
    pp_get_rows((int)m->tok_embd.type, m->tok_embd.data, m->tok_embd.row_bytes, E, ids, n, c->x);
    if (hp->embd_scale != 1.0f) pp_scale(c->x, hp->embd_scale, (int64_t)((size_t)n * E));  /* gemma2, granite */
    for (uint32_t i = 0; i < n_seg; i++) {
        segs[i].qoff = segs[i].off;
        segs[i].nq = segs[i].n;
        for (uint32_t t = 0; t < segs[i].n; t++) c->rpos[segs[i].off + t] = segs[i].pos + t;
    }
    row_job rj = {.op = OP_ROPE_TABLE};
    if (hp->use_rope) rows_op(c, &rj, n);
    /* the attention's scale; with a soft-cap, already divided by it (as ggml does) */
    attn_job aj = {c, 0, n_seg, hp->attn_softcap != 0.0f ? hp->kq_scale / hp->attn_softcap : hp->kq_scale,
                   hp->attn_softcap, 0};

    size_t nr = n;   /* rows that go on through the layer (all, or the items' last ones) */
    for (uint32_t l = 0; l < hp->n_layer; l++) {
        const pp_llm_layer *ly = &m->layers[l];
        const int last = l + 1 == hp->n_layer;
        /* ---- attention block */
        rj = (row_job){.op = OP_NORM, .w = ly->attn_norm, .dst = c->xn, .src = c->x};
        rows_op(c, &rj, n);
        matmul(c, &ly->wk, c->xn, n, c->k);     /* k (n, kv_dim) */
        matmul(c, &ly->wv, c->xn, n, c->v);     /* v (n, kv_dim) */
        add_bias(c->v, ly->bv, n, kvd);
        rj = (row_job){.op = OP_ROPE, .rot = c->k, .rot_stride = kvd, .rot_heads = hp->n_head_kv,
                       .bias = ly->bk, .head_norm = ly->k_norm};
        rows_op(c, &rj, n);
        rj = (row_job){.op = OP_KV_STORE, .layer = l};
        rows_op(c, &rj, n);
        if (last && nr > n_seg) {
            /* from here on only each item's last token: its x, xn and rope rows move to
            ** row i (rows only move down: off + n - 1 >= i) */
            for (uint32_t i = 0; i < n_seg; i++) {
                size_t from = (size_t)segs[i].off + segs[i].n - 1;
                if (from != i) {
                    memcpy(c->x + i * E, c->x + from * E, E * sizeof(float));
                    memcpy(c->xn + i * E, c->xn + from * E, E * sizeof(float));
                    memcpy(c->rope + (size_t)i * hp->n_rot, c->rope + from * hp->n_rot,
                           hp->n_rot * sizeof(float));
                }
                segs[i].qoff = i;
                segs[i].nq = 1;
            }
            nr = n_seg;
        }
        matmul(c, &ly->wq, c->xn, nr, c->q);    /* q (nr, q_dim) */
        rj = (row_job){.op = OP_ROPE, .rot = c->q, .rot_stride = qd, .rot_heads = hp->n_head,
                       .bias = ly->bq, .head_norm = ly->q_norm};
        rows_op(c, &rj, nr);
        if (hp->q_scale != 1.0f) pp_scale(c->q, hp->q_scale, (int64_t)(nr * qd));   /* gemma2 */
        aj.layer = l;
        aj.window = ly->swa ? hp->n_swa : 0;
        pp_pool_for(c->pool, (size_t)n_seg * hp->n_head_kv, 1, attn_range, &aj);
        matmul(c, &ly->wo, c->att, nr, c->xn);  /* reuse xn (nr, E) for the projection */
        add_bias(c->xn, ly->bo, nr, E);
        residual(c, c->x, c->xn, ly->post_attn_norm, nr);

        /* ---- feed-forward block */
        rj = (row_job){.op = OP_NORM, .w = ly->ffn_norm, .dst = c->xn, .src = c->x};
        rows_op(c, &rj, nr);
        matmul(c, &ly->gate, c->xn, nr, c->gate);  /* (nr, FF) */
        matmul(c, &ly->up, c->xn, nr, c->up);      /* (nr, FF) */
        rj = (row_job){.op = OP_GATE_MUL, .bias = ly->b_gate, .bias_up = ly->b_up};
        rows_op(c, &rj, nr);
        matmul(c, &ly->down, c->gate, nr, c->xn);  /* (nr, E) */
        add_bias(c->xn, ly->b_down, nr, E);
        residual(c, c->x, c->xn, ly->post_ffn_norm, nr);
    }
    /* each item's last position, final-normed, kept for the LM head */
    for (uint32_t i = 0; i < n_seg; i++) {
        seq_state *s = &c->seq[segs[i].seq];
        size_t row = nr == n_seg ? i : (size_t)segs[i].off + segs[i].n - 1;
        pp_rmsnorm(c->hidden + (size_t)segs[i].seq * E, c->x + row * E, m->output_norm,
                   (int64_t)E, hp->rms_eps);
        s->have_hidden = 1;
    }
}

/* Checks an item against its sequence: the ids, the positions, the cells. */
static pp_status item_ok(const pp_llm_ctx *c, const pp_llm_item *it) {
    if (it->seq >= c->n_seq || !it->ids || it->n == 0) return PARAPET_ERR_ARG;
    const seq_state *s = &c->seq[it->seq];
    if (it->pos > s->n_past || it->pos < s->shared || it->n > c->n_ctx - it->pos ||
        (uint64_t)it->pos + it->n - s->shared > s->cap)
        return PARAPET_ERR_ARG;
    for (size_t i = 0; i < it->n; i++)
        if (it->ids[i] < 0 || (uint32_t)it->ids[i] >= c->m->hp.n_vocab) return PARAPET_ERR_ARG;
    return PARAPET_OK;
}

pp_status pp_llm_ctx_eval_batch(pp_llm_ctx *c, const pp_llm_item *items, size_t n_items) {
    if (!c || !items || !n_items) return PARAPET_ERR_ARG;
    for (size_t i = 0; i < n_items; i++) {
        pp_status st = item_ok(c, &items[i]);
        if (st) return st;
        for (size_t o = 0; o < i; o++)
            if (items[o].seq == items[i].seq) return PARAPET_ERR_ARG;   /* one item a sequence */
    }
    /* sequence 0 may not rewrite what another item's sequence shares */
    for (size_t i = 0; i < n_items; i++)
        if (items[i].seq == 0)
            for (size_t o = 0; o < n_items; o++)
                if (c->seq[items[o].seq].shared > items[i].pos) return PARAPET_ERR_ARG;
    for (size_t i = 0; i < n_items; i++) seq_truncate(c, items[i].seq, items[i].pos);
    /* chunks of whole items up to n_batch tokens; an item longer than n_batch runs alone
    ** in n_batch pieces */
    size_t i = 0;
    while (i < n_items) {
        const pp_llm_item *it = &items[i];
        if (it->n > c->n_batch) {
            for (uint32_t done = 0; done < it->n;) {
                uint32_t k = PP_MIN(c->n_batch, it->n - done);
                c->segs[0] = (seg){it->seq, it->pos + done, k, 0, k, 0, 0};
                eval_chunk(c, it->ids + done, k, 1);
                c->seq[it->seq].n_past = it->pos + done + k;
                done += k;
            }
            i++;
            continue;
        }
        uint32_t n_tok = 0, n_seg = 0;
        while (i < n_items && items[i].n <= c->n_batch - n_tok) {
            const pp_llm_item *t = &items[i];
            c->segs[n_seg++] = (seg){t->seq, t->pos, t->n, n_tok, t->n, 0, 0};
            memcpy(c->cids + n_tok, t->ids, t->n * sizeof *t->ids);
            n_tok += t->n;
            i++;
        }
        eval_chunk(c, c->cids, n_tok, n_seg);
        for (uint32_t s = 0; s < n_seg; s++) c->seq[c->segs[s].seq].n_past = c->segs[s].pos + c->segs[s].n;
    }
    return PARAPET_OK;
}

pp_status pp_llm_ctx_eval(pp_llm_ctx *c, const int32_t *ids, size_t n, uint32_t pos,
                          unsigned flags) {
    if (!c || n > UINT32_MAX) return PARAPET_ERR_ARG;
    pp_llm_item it = {0, ids, (uint32_t)n, pos};
    pp_status st = pp_llm_ctx_eval_batch(c, &it, 1);
    if (st) return st;
    if (flags & PP_LLM_OUT_LOGITS) {
        matmul(c, &c->m->output, c->hidden, 1, c->logits);
        finish_logits(&c->m->hp, c->logits, c->m->hp.n_vocab);
        c->have_logits = 1;
    }
    return PARAPET_OK;
}

pp_status pp_llm_ctx_seq_logits_rows(pp_llm_ctx *c, uint32_t seq, const int32_t *rows, size_t n,
                                     float *out) {
    if (!c || seq >= c->n_seq || !c->seq[seq].have_hidden || (n && (!rows || !out)))
        return PARAPET_ERR_ARG;
    for (size_t i = 0; i < n; i++)
        if (rows[i] < 0 || (uint32_t)rows[i] >= c->m->hp.n_vocab) return PARAPET_ERR_ARG;
    if (n) {
        matmul_rows(c, &c->m->output, c->hidden + (size_t)seq * c->m->hp.n_embd, rows, n, out);
        finish_logits(&c->m->hp, out, n);
    }
    return PARAPET_OK;
}

pp_status pp_llm_ctx_logits_rows(pp_llm_ctx *c, const int32_t *rows, size_t n, float *out) {
    return pp_llm_ctx_seq_logits_rows(c, 0, rows, n, out);
}
