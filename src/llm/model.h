/*
** model.h -- a decoder of the llama family loaded from a GGUF file, and its forward pass.
**
** Part of the guard-model engine (src/llm).  model.c turns a validated GGUF (gguf.h)
** into a pp_llm_model: hyper-parameters read with llama.cpp's keys and defaults, every
** tensor looked up by its llama.cpp name and checked against those hyper-parameters
** (shape, number of dimensions, a weight type the kernels can multiply).  A model file
** is untrusted input, so any mismatch is PARAPET_ERR_FORMAT with a detail naming the
** tensor or key; nothing is asserted.  Weight matrices stay in the mmap (zero copy);
** only the small 1-D vectors (norms, biases, rope factors) are copied out, as f32, so
** the forward pass never reads an unaligned float.
**
** forward.c runs the model: a pp_llm_ctx owns a KV cache of n_ctx positions and every
** scratch buffer, all sized at creation, and evaluates a batch of tokens at positions
** [pos, pos+n) in one pass per layer (matrix-matrix products over the batch), then
** produces the logits of the last position (all of them, or chosen vocabulary rows).
** No allocation happens after pp_llm_ctx_new.
**
** The decoder (docs/guard-models-and-gguf.md C.0-C.4; docs/engine.md):
**     x = token_embd[ids] * embd_scale
**     per layer: x += rs * post_norm(Wo * attn(rope(qk_norm(Wq*n1(x))), rope(qk_norm(Wk*n1(x))), Wv*n1(x)))
**                x += rs * post_norm(Wdown * (act(Wgate*n2(x)) . Wup*n2(x)))
**     logits = cap(Wout * norm(x) / logit_scale)  (Wout = token_embd when output.weight is absent)
** One pass serves four architectures; what differs is data in pp_llm_hparams (flags
** and constants, each 0 or 1 where the architecture does not use it) and optional
** tensors in pp_llm_layer:
**     llama    NORM RoPE (x[2i], x[2i+1]: the converter permuted Wq, Wk), llama3 rope
**              factors (rope_freqs), SiLU-gated FFN;
**     gemma2   NEOX RoPE (x[i], x[i+n_rot/2]), embeddings * sqrt(n_embd), q * 1/sqrt(head_dim)
**              and attention scale 1, attention logits soft-capped 50*tanh(s/50), a sliding
**              window on even layers, sandwich norms (post_attention_norm, post_ffw_norm),
**              GeGLU with tanh GELU, final logits soft-capped 30*tanh(l/30);
**     qwen3    NEOX RoPE, RMSNorm per head on q and k before RoPE (attn_q_norm/attn_k_norm);
**     granite  llama plus four multipliers: embedding_scale, residual_scale (both branches),
**              attention.scale (replaces 1/sqrt(head_dim)), logit_scale (logits divided);
**              RoPE only if rope.scaling.finetuned (default true).
** Optional biases (attn_q/k/v on every architecture; attn_output and ffn_* on llama and
** granite) are added after their product, as llama.cpp's build_qkv / build_ffn do.
*/
#ifndef PP_LLM_MODEL_H
#define PP_LLM_MODEL_H

#include <stdint.h>
#include <stddef.h>
#include "core/core.h"
#include "llm/gguf.h"

/* Limits on hyper-parameters, far above any real guard model, so every buffer size
** computed from them fits comfortably in 64 bits and sane memory. */
#define PP_LLM_MAX_EMBD 65536
#define PP_LLM_MAX_LAYER 512
#define PP_LLM_MAX_HEAD 1024
#define PP_LLM_MAX_HEAD_DIM 1024
#define PP_LLM_MAX_FF (1 << 20)
#define PP_LLM_MAX_VOCAB (1 << 22)
#define PP_LLM_MAX_CTX (1 << 20)
#define PP_LLM_MAX_SEQ 256

/* A weight matrix of ne1 rows, each ne0 elements of `type`, row r at
** data + r*row_bytes.  Borrowed from the GGUF mapping. */
typedef struct pp_llm_weight {
    const void *data;
    uint32_t type;           /* pp_ggml_type */
    int64_t ne0, ne1;        /* elements per row (input dim), rows (output dim) */
    size_t row_bytes;
    const char *name;        /* the tensor's name, for messages */
    const void *packed;      /* NULL, or the matrix packed for the kernels (weights.c) */
} pp_llm_weight;

typedef struct pp_llm_layer {
    const float *attn_norm;  /* (n_embd) */
    pp_llm_weight wq;        /* (n_head*head_dim rows, n_embd) */
    pp_llm_weight wk, wv;    /* (n_head_kv*head_dim rows, n_embd) */
    pp_llm_weight wo;        /* (n_embd rows, n_head*head_dim) */
    const float *ffn_norm;   /* (n_embd) */
    pp_llm_weight gate, up;  /* (n_ff rows, n_embd) */
    pp_llm_weight down;      /* (n_embd rows, n_ff) */
    /* per-architecture extras, NULL where absent */
    const float *q_norm, *k_norm;      /* (head_dim) qwen3 QK-norm */
    const float *post_attn_norm;       /* (n_embd) gemma2 post_attention_norm */
    const float *post_ffn_norm;        /* (n_embd) gemma2 post_ffw_norm */
    const float *bq;                   /* (n_head*head_dim) optional biases */
    const float *bk, *bv;              /* (n_head_kv*head_dim) */
    const float *bo, *b_down;          /* (n_embd) */
    const float *b_gate, *b_up;        /* (n_ff) */
    int swa;                           /* 1: this layer attends within hp.n_swa positions */
} pp_llm_layer;

/* The architectures model.c loads (general.architecture). */
typedef enum pp_llm_arch {
    PP_LLM_LLAMA = 0, PP_LLM_GEMMA2, PP_LLM_QWEN3, PP_LLM_GRANITE, PP_LLM_ARCH_COUNT
} pp_llm_arch;

/* "llama", "gemma2", "qwen3", "granite". */
const char *pp_llm_arch_name(pp_llm_arch a);

typedef struct pp_llm_hparams {
    pp_llm_arch arch;
    uint32_t n_vocab, n_embd, n_layer, n_head, n_head_kv, head_dim, n_ff;
    uint32_t n_rot;          /* rotated dims per head (rope.dimension_count), even, <= head_dim */
    uint32_t n_ctx_train;
    float rms_eps;
    float rope_base;         /* rope.freq_base */
    float rope_freq_scale;   /* 1/factor for linear scaling, else 1 */
    /* ---- per-architecture switches (docs/engine.md, "Architectures") */
    int use_rope;            /* 0: no rotation at all (granite, rope.scaling.finetuned false) */
    int rope_neox;           /* 1: pairs (x[i], x[i+n_rot/2]); 0: (x[2i], x[2i+1]) */
    int ffn_gelu;            /* 1: GeGLU, tanh GELU as ggml's f16 table; 0: SwiGLU */
    float embd_scale;        /* embeddings multiplied by this; 1: none */
    float q_scale;           /* q multiplied by this after RoPE (gemma2); 1: none */
    float kq_scale;          /* the attention's score scale (1/sqrt(head_dim) unless set) */
    float attn_softcap;      /* scores -> c*tanh(s/c) before the mask; 0: none */
    float residual_scale;    /* both branch outputs multiplied before the add; 1: none */
    float logit_scale;       /* logits multiplied by 1/logit_scale; 1: none */
    float final_softcap;     /* logits -> c*tanh(l/c) last; 0: none */
    uint32_t n_swa;          /* sliding window of the layers with swa set; 0: none.  A
                                query at p sees keys p-n_swa < k <= p */
    uint32_t swa_period;     /* layer l slides when l % period < period-1 (0: every layer) */
} pp_llm_hparams;

typedef struct pp_llm_model {
    pp_gguf *g;              /* owned: the mapping the weights point into */
    pp_llm_hparams hp;
    pp_llm_weight tok_embd;  /* (n_vocab rows, n_embd) */
    pp_llm_weight output;    /* (n_vocab rows, n_embd); a copy of tok_embd when tied */
    int tied;
    const float *output_norm;/* (n_embd) */
    const float *rope_freqs; /* (n_rot/2) or NULL */
    pp_llm_layer *layers;    /* (n_layer) */
    float *vecs;             /* owned: all 1-D vectors above, converted to f32 */
    uint64_t weight_bytes;   /* bytes of all tensors, for reports */
    void *packed_mem;        /* owned: the packed layer matrices (pp_llm_model_pack) */
    uint64_t packed_bytes;
} pp_llm_model;

/* Loads a model (llama, gemma2, qwen3 or granite architecture) from `path` (mmap).  On success *out owns the
** mapping; free with pp_llm_model_free.  Errors: _NOT_FOUND / _IO (the file),
** _FORMAT (the contents: bad shapes, missing tensors or keys, a tensor the
** architecture's graph does not use), _UNSUPPORTED (another architecture, a weight
** type or rope scaling this engine does not run), _NOMEM.
** *detail (may be NULL): message the caller frees with pp_free. */
pp_status pp_llm_model_load(const char *path, pp_llm_model **out, char **detail);

/* The same over an opened GGUF, which the model takes over: on success and on
** failure alike, g belongs to the callee afterwards (closed on failure). */
pp_status pp_llm_model_from_gguf(pp_gguf *g, pp_llm_model **out, char **detail);

void pp_llm_model_free(pp_llm_model *m);   /* NULL is fine; closes the mapping */

/* Packs every layer matrix once for the active kernel set (weights.c), using n_threads
** threads, and hands the mapped file pages of the packed matrices back to the OS;
** with_output: the LM head too (for full-vocabulary logits; its pages are kept).
** Call after loading, before any context runs (it changes the weights' `packed`
** pointers).  A second call does nothing; with the scalar kernels nothing is packed.
** Errors: _NOMEM (the model stays usable, unpacked). */
pp_status pp_llm_model_pack(pp_llm_model *m, int n_threads, int with_output);

/* Whether the forward pass can multiply weights of type t. */
int pp_llm_weight_type_ok(uint32_t t);

/* ================================================================ context ==== */

typedef struct pp_llm_ctx pp_llm_ctx;

typedef struct pp_llm_ctx_params {
    uint32_t n_ctx;          /* KV cache positions (0: min(n_ctx_train, 4096)) */
    uint32_t n_batch;        /* tokens per internal pass (0: 512); longer evals are split */
    int n_threads;           /* worker threads (0 or 1: the calling thread only) */
    int kv_f32;              /* 1: keep the KV cache in f32 (default f16, as llama.cpp) */
    int ref_matmul;          /* 1: plain f32 reference products instead of pp_gemm (tests) */
    uint32_t n_seq;          /* sequences (0: 1); see pp_llm_ctx_eval_batch */
    uint32_t n_ctx_seq;      /* own cells of each sequence >= 1 (0: min(n_ctx, 512)) */
} pp_llm_ctx_params;

/* A context over `m` (borrowed: must outlive the context).  Allocates the KV cache,
** every scratch buffer and the thread pool; nothing is allocated afterwards.
** Errors: _ARG (n_ctx out of range), _NOMEM. */
pp_status pp_llm_ctx_new(const pp_llm_model *m, const pp_llm_ctx_params *p,
                         pp_llm_ctx **out, char **detail);
void pp_llm_ctx_free(pp_llm_ctx *c);       /* NULL is fine */

/* Output wanted from pp_llm_ctx_eval. */
#define PP_LLM_OUT_LOGITS 1u   /* full-vocabulary logits of the last position */

/* Evaluates ids[0..n) at positions [pos, pos+n): first truncates the cache to pos
** (pos must be <= pp_llm_ctx_n_past), then runs the batch and appends its keys and
** values.  Afterwards the final normalized hidden state of the last position is kept
** (for pp_llm_ctx_logits_rows), and with PP_LLM_OUT_LOGITS its logits are computed.
** Errors: _ARG (pos beyond n_past, n == 0, pos+n > n_ctx, a token id outside the
** vocabulary); on error the cache keeps its first `pos` positions only. */
pp_status pp_llm_ctx_eval(pp_llm_ctx *c, const int32_t *ids, size_t n, uint32_t pos,
                          unsigned flags);

/* Drops cached positions >= pos of sequence 0 (no-op when pos >= n_past); sequences
** that shared any of them are emptied. */
void pp_llm_ctx_truncate(pp_llm_ctx *c, uint32_t pos);
uint32_t pp_llm_ctx_n_past(const pp_llm_ctx *c);   /* of sequence 0 */

/* ------------------------------------------------------------- sequences ---- */

/* A context holds n_seq sequences (pp_llm_ctx_params.n_seq).  Sequence 0 is the one
** the calls above use: positions [0, n_ctx).  A sequence s >= 1 holds at most
** n_ctx_seq positions of its own, after a prefix it may share with sequence 0:
**   pp_llm_ctx_seq_share(c, s, n)   s = sequence 0's first n positions, not copied:
**                                   s reads them from sequence 0's cache, so sequence
**                                   0 must keep them (truncating sequence 0 below n
**                                   empties s); _ARG if n > sequence 0's n_past;
**   pp_llm_ctx_seq_copy(c, d, s, n) d = the first n positions of s: what s shares
**                                   stays shared, s's own cells are copied;
**   pp_llm_ctx_seq_truncate         drops positions >= pos (never the shared ones).
** One eval runs items of several sequences in one forward pass: */
typedef struct pp_llm_item {
    uint32_t seq;            /* the sequence; at most one item per sequence per batch */
    const int32_t *ids;      /* tokens, appended at positions [pos, pos+n) */
    uint32_t n;
    uint32_t pos;            /* the sequence is truncated to pos first (pos >= shared) */
} pp_llm_item;

/* Evaluates every item; the weight products run over all their tokens at once.  Each
** sequence keeps its last position's final state for pp_llm_ctx_seq_logits_rows.  An
** item's results do not depend on the others (bit for bit).  Errors: _ARG (a bad id,
** a position or length beyond the sequence's cells, two items of one sequence, or an
** item of sequence 0 rewriting positions another item's sequence shares); nothing
** has been evaluated then. */
pp_status pp_llm_ctx_eval_batch(pp_llm_ctx *c, const pp_llm_item *items, size_t n_items);
pp_status pp_llm_ctx_seq_share(pp_llm_ctx *c, uint32_t seq, uint32_t n_shared);
pp_status pp_llm_ctx_seq_copy(pp_llm_ctx *c, uint32_t dst, uint32_t src, uint32_t n);
void pp_llm_ctx_seq_truncate(pp_llm_ctx *c, uint32_t seq, uint32_t pos);
uint32_t pp_llm_ctx_seq_n_past(const pp_llm_ctx *c, uint32_t seq);
/* Positions a sequence holds in cells of its own (n_ctx for sequence 0). */
uint32_t pp_llm_ctx_seq_cap(const pp_llm_ctx *c, uint32_t seq);
uint32_t pp_llm_ctx_n_seq(const pp_llm_ctx *c);
/* As pp_llm_ctx_logits_rows for the last evaluated position of sequence seq. */
pp_status pp_llm_ctx_seq_logits_rows(pp_llm_ctx *c, uint32_t seq, const int32_t *rows, size_t n,
                                     float *out);
uint32_t pp_llm_ctx_n_ctx(const pp_llm_ctx *c);
/* Bytes the context allocated (KV cache, scratch, logits). */
uint64_t pp_llm_ctx_bytes(const pp_llm_ctx *c);

/* The last eval's full logits (n_vocab floats), or NULL if it did not ask for them.
** Valid until the next eval. */
const float *pp_llm_ctx_logits(const pp_llm_ctx *c);

/* Logits of the last evaluated position for vocabulary rows rows[0..n) only, into
** out[0..n) (computed from just those rows of the output matrix).  _ARG if nothing
** has been evaluated yet or a row is out of range. */
pp_status pp_llm_ctx_logits_rows(pp_llm_ctx *c, const int32_t *rows, size_t n, float *out);

#endif
