/*
** scoring.h -- what a guard model's answer means: candidate tokens and probabilities.
**
** parapet runs guard models as classifiers.  After the prompt (prompt.h) the engine
** does not generate text: it reads the model's next-token distribution at a few
** positions and only over a few candidate tokens.  This module says which positions
** and which tokens, per family, as data, and turns the candidates' logits into
** probabilities.
**
** The unit is a *question*: "teacher-force these tokens after the prompt, then read
** the distribution over these outcomes".  An outcome is one answer (safe, unsafe, S3,
** Yes, Controversial, ...) spelled by one or more alternative token sequences (Granite
** Guardian's "Yes" may come as "Yes", "yes", " Yes"; Qwen3Guard's " Controversial" is
** three tokens).  The probability of an outcome is the sum over its alternatives of
** the sequence probability, normalised over all outcomes of the question: this is
** the token-level marginalisation of ../shared/seeds ("Token-Level Marginalization
** for Multi-Label LLM Classifiers").
**
**   Llama Guard 3   q0 verdict: force nothing; outcomes safe / unsafe
**                   q1 category: force "unsafe\nS"; outcomes S1..Sn by their number
**                   token ("1".."14" are single tokens in Llama 3's vocabulary, since
**                   its pre-tokenizer keeps up to three digits together; the builder
**                   checks this with the file's tokenizer rather than assuming it).
**                   P(category k) = P(unsafe) * P(k | "unsafe\nS"): the probability
**                   that k is the first category the model would list.
**   ShieldGemma     q0: outcomes Yes / No (vocab pieces without "▁"), once per
**                   principle (one prompt pass per principle, see prompt.h).
**   Qwen3Guard      q0 verdict: force "Safety:"; outcomes Safe / Unsafe /
**                   Controversial (" Cont" "rovers" "ial");
**                   q1 category: force "Safety: Unsafe\nCategories:"; outcomes the
**                   category names (multi-token) and None.
**   Granite         q0: outcomes Yes / No, each with its case and space variants
**                   (IBM's reference score sums every token whose stripped,
**                   lower-cased text is "yes" or "no").
**
** Scores the engine passes in: for a single-token alternative, its logit at the read
** position; for a multi-token one, the logit of its first token plus the full-vocabulary
** log-softmax of each further token at its own position (teacher-forced).  Logits of
** the first position need no normalisation, since every outcome shares the same
** constant.  An engine that computes only candidate rows everywhere may pass 0 for the
** further tokens; that treats " Cont" as committing to " Controversial" (the shortcut
** ../shared/docs C.3 calls unambiguous enough in practice).
*/
#ifndef PP_GUARD_SCORING_H
#define PP_GUARD_SCORING_H

#include "guard/prompt.h"

#define PP_GUARD_SEQ_MAX 12   /* tokens in one alternative */
#define PP_GUARD_ALT_MAX 6    /* alternatives per outcome */
#define PP_GUARD_FORCE_MAX 24 /* teacher-forced tokens before a question */

typedef struct pp_guard_alt {
    int32_t ids[PP_GUARD_SEQ_MAX];
    size_t n;
} pp_guard_alt;

typedef struct pp_guard_outcome {
    char label[48];      /* "safe", "unsafe", "S3", "Yes", "Controversial", "Violent" */
    int cat;             /* index into the policy's categories, or -1 for a verdict */
    pp_guard_alt alt[PP_GUARD_ALT_MAX];
    size_t n_alt;
} pp_guard_outcome;

typedef struct pp_guard_question {
    int32_t force[PP_GUARD_FORCE_MAX]; /* teacher-forced after the prompt's suffix */
    size_t n_force;
    pp_guard_outcome *out;             /* n_out outcomes */
    size_t n_out;
    size_t n_alt_total;                /* sum of out[i].n_alt: length of a score array */
    int32_t cand[PP_GUARD_MAX_CATS * PP_GUARD_ALT_MAX]; /* distinct first tokens, in order */
    size_t n_cand;
} pp_guard_question;

typedef struct pp_guard_scoring {
    pp_guard_family family;
    pp_guard_role role;
    pp_guard_question verdict;  /* always present */
    int has_category;           /* Llama Guard and Qwen3Guard */
    pp_guard_question category;
    int violation;              /* verdict outcome meaning "violates": unsafe / Yes */
    int controversial;          /* Qwen3Guard's Controversial outcome, else -1 */
    size_t n_cats;              /* policy categories */
} pp_guard_scoring;

/* Builds the scoring definition of family f for the policy's categories (the same
** cats given to pp_guard_render) with the model's tokenizer: every candidate string
** is tokenized in the context of its forced text, and the builder checks that the
** forced text tokenizes the same with and without the candidate after it.
** Errors: PARAPET_ERR_ARG, PARAPET_ERR_UNSUPPORTED (the vocabulary cannot spell a
** candidate within the limits above; the detail names it), tokenizer errors,
** PARAPET_ERR_NOMEM.  Free with pp_guard_scoring_free. */
pp_status pp_guard_scoring_build(const parapet_tokenizer *tok, pp_guard_family f,
                                 pp_guard_role role, const pp_guard_cat *cats,
                                 size_t n_cats, pp_guard_scoring **out, char **detail);
void pp_guard_scoring_free(pp_guard_scoring *s);

/* Probabilities of q's outcomes from alt_score[0..q->n_alt_total) (outcome-major,
** alternative-minor; see the top of this file for what a score is).  p[0..q->n_out)
** sums to 1.  Numerically stable (log-sum-exp); -INFINITY scores are allowed. */
void pp_guard_probs(const pp_guard_question *q, const double *alt_score, double *p);
/* The common case: every alternative's first token logit is in cand_logit[i] for
** q->cand[i], and further tokens count as certain.  p as above. */
void pp_guard_probs_from_cand(const pp_guard_question *q, const float *cand_logit,
                              double *p);
/* Softmax of x[0..n) into p (p may alias nothing); for the restricted softmax over
** candidate logits. */
void pp_guard_softmax(const double *x, size_t n, double *p);

/* --------------------------------------------------------------- mapping ---- */

/* The published mapping between a family's native categories (index into
** pp_guard_native_cats for the USER role; Qwen3Guard and Granite share indices
** between roles) and parapet's built-in categories (category.h names).
** Writes up to cap names into names and returns how many the native category maps
** to (0: no parapet equivalent; the guard's score is reported under the guard's own
** name).  Static strings. */
size_t pp_guard_map_native(pp_guard_family f, size_t native, const char **names, size_t cap);
/* The reverse: the native categories whose probability counts for parapet category
** `name` (the result takes the largest of them).  Writes native indices, returns the
** count. */
size_t pp_guard_map_parapet(pp_guard_family f, const char *name, size_t *native, size_t cap);

#endif
