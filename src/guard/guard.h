/*
** guard.h -- the guard engine: a guard model run as a classifier, with a cached prefix.
**
** A pp_guard owns one GGUF guard model (parapet_llm: weights, one KV cache, threads)
** and the model's tokenizer.  At open it detects the family from
** general.architecture, picks the policy's categories (the family's own taxonomy,
** or custom {name, description} categories that become the model's policy text),
** renders the constant prompt prefix for the judged role, tokenizes it (special
** tokens parsed, no BOS added: the prefix carries it) and prefills it ONCE.
**
** Per request (pp_guard_score):
**     truncate the cache to n_prefix (the prefix KV is reused, never recomputed);
**     prefill the conversation and the first pass's suffix;
**     for each question of the family's scoring definition (scoring.h): teacher-force
**         its tokens, compute logits for the candidate rows ONLY (the output matrix is
**         touched for a handful of rows, not the 128k vocabulary), probabilities by
**         the restricted softmax (pp_guard_probs_from_cand);
**     families with one pass per category (ShieldGemma, Granite) truncate back to
**         n_prefix + n_conv between passes: prefix and conversation KV are shared.
** Llama Guard: P(unsafe) from the first answer token, then "unsafe\nS" is forced
** and the distribution over the category numbers gives every category at once:
** P(S_k) = P(unsafe) * P(k | "unsafe\nS").
**
** Results are deterministic: the same model, policy and conversation give the same
** bits whatever came before (the forward pass is deterministic for a thread count,
** and the cached prefix is bit-identical to a fresh prefill of it).
**
** Thread-safety and batching: pp_guard_score may be called from any number of threads.
** Requests queue; one caller at a time runs the model, taking every queued request of
** the oldest one's judged role (up to max_batch) and scoring them TOGETHER: each gets a
** KV sequence that shares the cached prefix, and each round of the scoring evaluates
** one item per request in a single forward pass (pp_llm_ctx_eval_batch), so the
** weight matrices are streamed once for all of them.  The others wait; whoever finds
** the model free next runs the next batch.  A request's scores do not depend on what
** it was batched with, bit for bit.  The prefix of one judged role is resident at a
** time; a batch for the other role re-prefills that role's prefix (both roles' token
** ids are kept).
*/
#ifndef PP_GUARD_GUARD_H
#define PP_GUARD_GUARD_H

#include "guard/prompt.h"
#include "guard/scoring.h"

typedef struct pp_guard pp_guard;

typedef struct pp_guard_opts {
    int n_threads;              /* 0: 1 */
    uint32_t n_ctx;             /* 0: 4096 */
    /* Custom policy categories (borrowed during open only: copied).  NULL: the
    ** family's native taxonomy (Llama Guard 3 1B: S1..S13, 8B: S1..S14). */
    const pp_guard_cat *cats;
    size_t n_cats;
    int family;                 /* -1: from general.architecture */
    /* With cats: 1 puts the family's native taxonomy first and cats after it (the
    ** guard detector's policy: built-in categories as the model knows them, custom
    ** ones as extra policy text); 0 uses cats alone. */
    int with_native;
    /* Requests scored together in one forward pass at most (0: 8; at most
    ** PP_GUARD_MAX_BATCH).  Each takes a sequence of min(n_ctx, 1024) KV positions. */
    size_t max_batch;
} pp_guard_opts;

#define PP_GUARD_MAX_BATCH 64

void pp_guard_opts_init(pp_guard_opts *o);

/* One request's scores. */
typedef struct pp_guard_result {
    double p_violation;         /* P(unsafe) (Llama Guard), max P(Yes) over passes
                                   (ShieldGemma, Granite), P(Unsafe) (Qwen3Guard) */
    double p_controversial;     /* Qwen3Guard's Controversial, else 0 */
    size_t n_cats;
    double p_cat[PP_GUARD_MAX_CATS]; /* per guard category, in pp_guard_cat_name order */
    uint32_t n_prefix;          /* cached tokens reused */
    uint32_t n_eval;            /* tokens evaluated for this request */
    double ms;                  /* wall time of the request */
} pp_guard_result;

/* Opens the guard model at path.  Errors: those of parapet_llm_open and
** parapet_tokenizer_open_gguf, PARAPET_ERR_UNSUPPORTED (an architecture that is no
** guard family, or a vocabulary that cannot spell the answers: detail says which),
** PARAPET_ERR_ARG (too many categories, a category without a name), _NOMEM.
** The prefix of the USER role is prefilled before returning.  Close with
** pp_guard_close. */
pp_status pp_guard_open(const char *path, const pp_guard_opts *opt, pp_guard **out,
                        char **detail);
void pp_guard_close(pp_guard *g);   /* NULL is fine */

/* Scores the last message of msgs[0..n) (its role is the judged role).  Thread-safe;
** concurrent calls are batched (above).  Errors: PARAPET_ERR_ARG (no messages), _UTF8 (a message), _TOO_LARGE
** (the prompt exceeds the context), _NOMEM. */
pp_status pp_guard_score(pp_guard *g, const pp_guard_msg *msgs, size_t n,
                         pp_guard_result *out, char **detail);
/* Several requests at once: scored together (in batches of up to max_batch) when
** the model is free.  reqs[i].st receives each request's status; the return value is
** the first error, or PARAPET_ERR_ARG (a request without messages or output). */
typedef struct pp_guard_req {
    const pp_guard_msg *msgs;
    size_t n_msgs;
    pp_guard_result *out;
    char **detail;              /* may be NULL */
    pp_status st;               /* out */
} pp_guard_req;
pp_status pp_guard_score_many(pp_guard *g, pp_guard_req *reqs, size_t n);

/* Batches run so far, the requests they held, and the largest one. */
void pp_guard_stats(pp_guard *g, uint64_t *batches, uint64_t *requests, size_t *max_batch);
/* The same for the guard detector's instance (detector.c), for parapet_engine_guard_stats. */
void pp_guard_det_stats(const void *det, uint64_t *batches, uint64_t *requests, size_t *max_batch);

/* One user message. */
pp_status pp_guard_score_text(pp_guard *g, const char *text, size_t len,
                              pp_guard_result *out, char **detail);

pp_guard_family pp_guard_family_of(const pp_guard *g);
size_t pp_guard_cat_count(const pp_guard *g);
/* The policy category i as the model reads it (static or owned by g). */
const pp_guard_cat *pp_guard_cat_at(const pp_guard *g, size_t i);
/* How many of the categories, from the first, are the family's own (map them with
** pp_guard_map_native); the rest are custom. */
size_t pp_guard_native_count(const pp_guard *g);
/* Tokens of the cached prefix for the user role. */
size_t pp_guard_prefix_tokens(const pp_guard *g);
/* NULL, or a warning that the file's chat template differs from the built-in one. */
const char *pp_guard_warning(const pp_guard *g);
/* The tokenizer (borrowed; for tests and tools). */
const parapet_tokenizer *pp_guard_tokenizer(const pp_guard *g);

/* SHA-256 of a file, streamed (64 hex digits + NUL).  Errors: _NOT_FOUND, _IO. */
pp_status pp_guard_file_sha256(const char *path, char hex[65]);

#endif
