/*
** detector.h -- the one interface every detector implements.
**
** A detector is compiled once (at engine open) into an immutable object and then
** scans normalized texts from any number of threads.  A scan reads a pp_text (both
** views and their offset maps) and reports evidence through pp_scan_add, which
** records a hit (a span in the ORIGINAL text, a category, a weight, the rule that
** fired, and the transforms that had to fire) and folds the weight into the
** category's score with a noisy-OR: score = 1 - prod(1 - w_i).
**
** Adding a detector touches its own file plus one line in the table of
** src/detect/registry.c.
*/
#ifndef PP_DETECTOR_H
#define PP_DETECTOR_H

#include "../core/core.h"
#include "../text/text.h"
#include "category.h"

/* Detector ids (index into the registry table; also stored in hits). */
enum { PP_DET_LEXICON, PP_DET_PII, PP_DET_SECRETS, PP_DET_INJECTION, PP_DET_CLASSIFIER,
       PP_DET_GUARD, PP_DET_COUNT };

typedef struct pp_hit {
    uint32_t start, end;  /* byte span in the original text, end exclusive */
    uint16_t cat;         /* category id */
    uint8_t detector;     /* PP_DET_* */
    uint8_t kind;         /* detector-specific sub-kind (e.g. PII type for redaction) */
    float score;          /* weight of this evidence in [0,1] */
    uint32_t transforms;  /* PARAPET_XF_* */
    const char *rule;     /* term or rule name; must outlive the engine (static or
                             owned by the compiled detector) */
} pp_hit;

typedef struct pp_scan {
    const pp_text *text;
    float scores[PP_MAX_CATS]; /* accumulated with noisy-OR; start at 0 */
    pp_hit *hits;
    size_t n_hits, cap_hits;
    int oom;                   /* set when a hit could not be recorded */
    /* Added to every reported offset (the pipeline scans long texts in windows). */
    uint32_t base_offset;
    /* Bit per PP_DET_*: set by a detector that chose not to run on this text (the
    ** guard's cascade), so the result does not claim it ran. */
    unsigned skipped;
    /* The policy this check runs under (the call's overlay or the engine's); NULL
    ** outside the pipeline.  The guard reads its mode, band and calibration here. */
    const struct parapet_policy *policy;
} pp_scan;

/* Records one piece of evidence.  Spans are in the ORIGINAL text (map view spans back
** with pp_view_span first).  Safe to call with score 0 (recorded, no score change). */
void pp_scan_add(pp_scan *s, int cat, float score, size_t start, size_t end,
                 int detector, int kind, const char *rule, unsigned transforms);

void pp_scan_init(pp_scan *s, const pp_text *t);
void pp_scan_reset(pp_scan *s, const pp_text *t); /* keeps the hits buffer */
void pp_scan_free(pp_scan *s);

/* Extra terms handed to the lexicon detector at compile time: a custom category
** from the policy, or a user's word list. */
typedef struct pp_term_list {
    int cat;                 /* category id */
    const char *const *terms;
    size_t n_terms;
    float weight;            /* weight of each term, (0,1] */
    const char *source;      /* for error messages: a file name or "policy" */
} pp_term_list;

/* What a detector gets when compiled. */
typedef struct pp_detector_config {
    const pp_term_list *extra_terms;
    size_t n_extra_terms;
    /* Classifier model file; NULL: the embedded models/default.ppm (if any). */
    const char *model_path;
    /* Guard model file (GGUF); NULL: the guard detector is absent.  Threads for its
    ** forward pass (0: 1). */
    const char *guard_path;
    int guard_threads;
    int guard_batch;         /* requests scored together at most (0: the guard's default) */
    /* The engine's policy (read at open by the guard detector for its cascade
    ** settings); may be NULL. */
    const parapet_policy *policy;
} pp_detector_config;

typedef struct pp_detector_vt {
    const char *name;        /* "lexicon", "pii", ... */
    /* Compiles the detector; on failure returns non-OK and may set *detail. */
    pp_status (*open)(const pp_detector_config *cfg, void **self, char **detail);
    /* Scans s->text and reports hits.  Must not modify self.  Returns OK or NOMEM. */
    pp_status (*scan)(const void *self, pp_scan *s);
    void (*close)(void *self);
} pp_detector_vt;

/* The registry (src/detect/registry.c): vtables indexed by PP_DET_*. */
extern const pp_detector_vt *const pp_detectors[PP_DET_COUNT];

/* Each detector's vtable, defined in its own file. */
extern const pp_detector_vt pp_lexicon_detector;
extern const pp_detector_vt pp_pii_detector;
extern const pp_detector_vt pp_secrets_detector;
extern const pp_detector_vt pp_injection_detector;
/* Test hook: with allow = 0 the injection detector reads every text word by word
** (no block tokenizer), so tests can compare the two.  Not thread-safe; tests only. */
void pp_injection_set_blocks(int allow);
/* Tests: does the block tokenizer's hash of a word with runs (a-z0-9, n <= 16) agree
** with the folding hash? */
int pp_injection_runs_hash_agrees(const char *w, size_t n);
/* Test hook: with allow = 0 the secrets detector reads every text byte by byte (no
** 64- and 16-byte skips), so tests can compare the two. */
void pp_secrets_set_skips(int allow);
/* Test hook: the same for the pii detector's 16-byte skip to its triggers. */
void pp_pii_set_skips(int allow);
extern const pp_detector_vt pp_classifier_detector; /* src/classify/detector.c */
extern const pp_detector_vt pp_guard_detector;      /* src/guard/detector.c */

/* PII / secret kinds (pp_hit.kind for PP_DET_PII and PP_DET_SECRETS) and the
** placeholder each is redacted to. */
#define PP_PII_KINDS(X)                     \
    X(EMAIL, "EMAIL")                       \
    X(PHONE, "PHONE")                       \
    X(CARD, "CARD")                         \
    X(IBAN, "IBAN")                         \
    X(SSN, "SSN")                           \
    X(IPV4, "IP_ADDRESS")                   \
    X(IPV6, "IP_ADDRESS")                   \
    X(AWS_KEY, "AWS_KEY")                   \
    X(AWS_SECRET, "AWS_SECRET")             \
    X(GCP_KEY, "GCP_KEY")                   \
    X(GCP_SERVICE_ACCOUNT, "GCP_SERVICE_ACCOUNT") \
    X(GITHUB_TOKEN, "GITHUB_TOKEN")         \
    X(SLACK_TOKEN, "SLACK_TOKEN")           \
    X(SLACK_WEBHOOK, "SLACK_WEBHOOK")       \
    X(STRIPE_KEY, "STRIPE_KEY")             \
    X(OPENAI_KEY, "OPENAI_KEY")             \
    X(ANTHROPIC_KEY, "ANTHROPIC_KEY")       \
    X(PRIVATE_KEY, "PRIVATE_KEY")           \
    X(JWT, "JWT")                           \
    X(GENERIC_SECRET, "SECRET")             \
    X(HIGH_ENTROPY, "SECRET")
enum {
#define PP_X_KIND(id, ph) PP_KIND_##id,
    PP_PII_KINDS(PP_X_KIND)
#undef PP_X_KIND
    PP_KIND_COUNT
};
/* "EMAIL", "CARD", ...  for a kind; "REDACTED" for anything else. */
const char *pp_kind_placeholder(int kind);

#endif
