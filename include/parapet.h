/*
** parapet.h -- the one public header of libparapet, a content-moderation engine.
**
** A short tour.  Open an engine once (it compiles the policy, the lexicons and the
** pattern detectors), then check texts with it from any number of threads:
**
**     parapet_options opt;
**     parapet_options_init(&opt);               // embedded default policy
**     parapet_engine *eng;
**     char *detail = NULL;
**     if (parapet_open(&opt, &eng, &detail) != PARAPET_OK) {
**         fprintf(stderr, "%s\n", detail);  parapet_free(detail);  return 1;
**     }
**     parapet_result *r;
**     if (parapet_check(eng, text, len, NULL, &r) == PARAPET_OK) {
**         if (parapet_result_flagged(r)) ...;
**         char *json; size_t n;
**         parapet_result_json(r, 0, &json, &n);  puts(json);  parapet_free(json);
**         parapet_result_free(r);
**     }
**     parapet_close(eng);
**
** Conventions, which hold for every declaration below:
**   - Every function that can fail returns a parapet_status.  Results come back through
**     out-parameters, which are written only when the call returns PARAPET_OK.
**   - Where a call takes `char **detail`, it may be NULL; otherwise on failure *detail is
**     set to a human-readable message (e.g. "policy.yaml:12:5: threshold must be in
**     [0,1]") that the caller frees with parapet_free(), or NULL if there is none.
**   - Text is UTF-8 with an explicit byte length; it need not be NUL-terminated and
**     may contain NUL bytes.  All offsets reported back are into the caller's original
**     bytes (and, separately, in code points).
**   - Every *_free / *_close accepts NULL.
**   - An engine is immutable after parapet_open and safe to share between threads.
**     Results and policies are owned by whoever received them.
*/
#ifndef PARAPET_H
#define PARAPET_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && !defined(PARAPET_STATIC_BUILD)
#define PARAPET_API __attribute__((visibility("default")))
#else
#define PARAPET_API
#endif

/* ---------------------------------------------------------------- version ---- */

#define PARAPET_VERSION_MAJOR 0
#define PARAPET_VERSION_MINOR 1
#define PARAPET_VERSION_PATCH 0
#define PARAPET_VERSION_STRING "0.1.0"
/* A single comparable number: 0xMMmmpp. */
#define PARAPET_VERSION_NUM \
    ((PARAPET_VERSION_MAJOR << 16) | (PARAPET_VERSION_MINOR << 8) | PARAPET_VERSION_PATCH)

/* The version of the library actually linked, e.g. "0.1.0".  Static storage. */
PARAPET_API const char *parapet_version(void);
/* Same as PARAPET_VERSION_NUM of the linked library. */
PARAPET_API unsigned parapet_version_num(void);

/* ----------------------------------------------------------------- status ---- */

/* One table, append-only: codes are never renumbered.  X(name, value, message). */
#define PARAPET_STATUS_LIST(X)                                                     \
    X(PARAPET_OK, 0, "ok")                                                         \
    X(PARAPET_ERR_NOMEM, 1, "out of memory")                                       \
    X(PARAPET_ERR_ARG, 2, "invalid argument")                                      \
    X(PARAPET_ERR_UTF8, 3, "invalid UTF-8 in input")                               \
    X(PARAPET_ERR_TOO_LARGE, 4, "input larger than the configured limit")          \
    X(PARAPET_ERR_POLICY, 5, "invalid policy")                                     \
    X(PARAPET_ERR_JSON, 6, "malformed JSON")                                       \
    X(PARAPET_ERR_IO, 7, "I/O error")                                              \
    X(PARAPET_ERR_FORMAT, 8, "corrupt or unsupported file format")                 \
    X(PARAPET_ERR_NOT_FOUND, 9, "not found")                                       \
    X(PARAPET_ERR_UNSUPPORTED, 10, "not supported")                                \
    X(PARAPET_ERR_INTERNAL, 11, "internal error")                                  \
    X(PARAPET_ERR_EMPTY, 12, "empty input")                                        \
    X(PARAPET_ERR_LEXICON, 13, "invalid lexicon")

typedef enum parapet_status {
#define PARAPET_X_ENUM_(name, value, msg) name = value,
    PARAPET_STATUS_LIST(PARAPET_X_ENUM_)
#undef PARAPET_X_ENUM_
} parapet_status;

/* A static, never-NULL message for any status value (unknown ones included). */
PARAPET_API const char *parapet_strerror(parapet_status st);

/* Frees any buffer the library handed to the caller (JSON, redacted text, details). */
PARAPET_API void parapet_free(void *p);

/* ------------------------------------------------------------- allocation ---- */

/* Route every allocation the library makes through these hooks.  Call before any
** other parapet function; passing NULLs restores malloc/realloc/free.  realloc_fn must
** behave like realloc (NULL pointer allowed).  Not thread-safe with respect to
** concurrent library use. */
typedef void *(*parapet_realloc_fn)(void *ud, void *ptr, size_t size);
typedef void (*parapet_free_fn)(void *ud, void *ptr);
PARAPET_API void parapet_set_allocator(parapet_realloc_fn realloc_fn,
                                       parapet_free_fn free_fn, void *ud);

/* ---------------------------------------------------------------- actions ---- */

/* What the policy says to do; ordered by strength, the strongest in a result wins. */
typedef enum parapet_action {
    PARAPET_ACTION_ALLOW = 0,
    PARAPET_ACTION_FLAG = 1,
    PARAPET_ACTION_REDACT = 2,
    PARAPET_ACTION_REVIEW = 3,
    PARAPET_ACTION_BLOCK = 4
} parapet_action;

/* "allow", "flag", "redact", "review", "block"; static storage. */
PARAPET_API const char *parapet_action_name(parapet_action a);

/* ----------------------------------------------------------------- policy ---- */

/* A compiled policy: categories with description, threshold and action, custom
** categories with their terms, and which detectors run.  Immutable, shareable
** between threads, owned by whoever opened it. */
typedef struct parapet_policy parapet_policy;

/* Parses a policy document (YAML; JSON is accepted as YAML).  `name` labels error
** messages (a file name, say) and may be NULL.  With `base` non-NULL the document is
** an overlay: it may change only some fields of some categories and inherits the
** rest from `base` (this is how per-request overrides work); `base` is not modified
** and need not outlive the result.  Errors: PARAPET_ERR_POLICY with a detail that
** names the line and column. */
PARAPET_API parapet_status parapet_policy_parse(const char *text, size_t len,
                                                const char *name,
                                                const parapet_policy *base,
                                                parapet_policy **out, char **detail);

/* Reads and parses a policy file (as parapet_policy_parse with base = NULL). */
PARAPET_API parapet_status parapet_policy_load(const char *path,
                                               parapet_policy **out, char **detail);

/* The embedded default policy (OpenAI's moderation categories plus profanity, pii,
** secrets, prompt_injection and spam).  Caller frees. */
PARAPET_API parapet_status parapet_policy_default(parapet_policy **out);

PARAPET_API void parapet_policy_free(parapet_policy *p);

/* Introspection.  Returned strings live as long as the policy. */
PARAPET_API const char *parapet_policy_name(const parapet_policy *p);
/* Hex SHA-256 of the canonical form of the policy (stable across formatting). */
PARAPET_API const char *parapet_policy_hash(const parapet_policy *p);
PARAPET_API size_t parapet_policy_category_count(const parapet_policy *p);
typedef struct parapet_category_info {
    const char *name;
    const char *description; /* "" when none */
    double threshold;        /* in [0,1] */
    parapet_action action;
    int enabled;
    int custom;              /* 1 if not one of parapet's built-in categories */
    size_t n_terms;          /* custom terms the policy defines for it */
} parapet_category_info;
PARAPET_API parapet_status parapet_policy_category(const parapet_policy *p, size_t i,
                                                   parapet_category_info *out);

/* When the policy runs the guard detector (its `guard` section): *mode is
** PARAPET_GUARD_CASCADE (only when the largest cheap-tier score lies in [*low, *high]),
** PARAPET_GUARD_ALWAYS or PARAPET_GUARD_NEVER; NEVER also when the policy switches the
** guard detector off.  Any out pointer may be NULL.  Errors: PARAPET_ERR_ARG (p NULL). */
#define PARAPET_GUARD_CASCADE 0
#define PARAPET_GUARD_ALWAYS 1
#define PARAPET_GUARD_NEVER 2
PARAPET_API parapet_status parapet_policy_guard_mode(const parapet_policy *p, int *mode,
                                                     double *low, double *high);

/* The canonical policy as YAML (caller frees with parapet_free). */
PARAPET_API parapet_status parapet_policy_dump(const parapet_policy *p, char **out,
                                               size_t *out_len);

/* ----------------------------------------------------------------- engine ---- */

typedef enum parapet_utf8_mode {
    PARAPET_UTF8_STRICT = 0,  /* invalid UTF-8 is an error (PARAPET_ERR_UTF8) */
    PARAPET_UTF8_REPLACE = 1  /* replaced by U+FFFD and reported as a signal */
} parapet_utf8_mode;

typedef struct parapet_options {
    const char *policy_path;      /* NULL: policy_text, else the embedded default */
    const char *policy_text;      /* used when policy_path is NULL and this is not */
    size_t policy_len;
    /* Extra word lists in the common one-term-per-line format, each "category=path"
    ** (e.g. "profanity=/etc/badwords.txt").  '#' starts a comment line. */
    const char *const *lexicon_files;
    size_t n_lexicon_files;
    size_t max_input_bytes;       /* 0: the default, 64 MiB */
    parapet_utf8_mode utf8_mode;
    /* A classifier model file (.ppm, see parapet_classifier_open) to use instead of
    ** the embedded default; NULL: the embedded one, if the build has one. */
    const char *model_path;
    /* A guard model (GGUF: Llama Guard 3, ...) for the `guard` detector; NULL: none.
    ** The policy's guard section decides when it runs (docs/guard-models.md). */
    const char *guard_path;
    int guard_threads;            /* threads of the guard's forward pass; 0: 1 */
    /* Guard requests scored together in one forward pass when several threads call
    ** parapet_check at once (each waits for the batch it joins); 0: 8. */
    int guard_batch;
} parapet_options;

/* Fills the defaults: embedded policy, 64 MiB limit, strict UTF-8. */
PARAPET_API void parapet_options_init(parapet_options *opt);

typedef struct parapet_engine parapet_engine;

/* Compiles everything the options name.  `opt` may be NULL for all defaults.  The
** engine keeps no pointer into `opt`.  Close with parapet_close. */
PARAPET_API parapet_status parapet_open(const parapet_options *opt,
                                        parapet_engine **out, char **detail);
PARAPET_API void parapet_close(parapet_engine *eng);

/* The engine's policy, borrowed: valid until parapet_close. */
PARAPET_API const parapet_policy *parapet_engine_policy(const parapet_engine *eng);
/* 1 when the engine has a guard model open (parapet_options.guard_path given and the
** policy enables the guard detector), else 0.  For front ends that keep the slow
** guard tier off their latency-critical threads (`parapet serve`). */
PARAPET_API int parapet_engine_has_guard(const parapet_engine *eng);

/* The guard engine's batching so far: forward-pass batches run, the requests they
** held, the largest batch (all 0 without a guard model).  Out pointers may be NULL. */
PARAPET_API void parapet_engine_guard_stats(const parapet_engine *eng, uint64_t *batches,
                                            uint64_t *requests, size_t *max_batch);

/* ------------------------------------------------------------------ check ---- */

typedef struct parapet_check_opts {
    /* A policy to use instead of the engine's for this call, typically an overlay
    ** made with parapet_policy_parse(..., base = parapet_engine_policy(eng), ...).
    ** Its custom terms are ignored unless the engine's policy has them too (terms are
    ** compiled once, at open).  NULL: the engine's policy. */
    const parapet_policy *policy;
    /* Overrides the engine's parapet_options.utf8_mode when nonzero:
    ** 1 = strict, 2 = replace. */
    int utf8_mode;
} parapet_check_opts;

typedef struct parapet_result parapet_result;

/* Checks one text.  `opts` may be NULL.  Errors: PARAPET_ERR_UTF8 (strict mode),
** PARAPET_ERR_TOO_LARGE, PARAPET_ERR_NOMEM.  Empty text is allowed (and reported as
** the signal "empty").  Thread-safe. */
PARAPET_API parapet_status parapet_check(parapet_engine *eng, const char *text,
                                         size_t len, const parapet_check_opts *opts,
                                         parapet_result **out);

PARAPET_API void parapet_result_free(parapet_result *r);

PARAPET_API int parapet_result_flagged(const parapet_result *r);
PARAPET_API parapet_action parapet_result_action(const parapet_result *r);
PARAPET_API double parapet_result_latency_us(const parapet_result *r);

/* Per category of the policy in effect, in policy order. */
PARAPET_API size_t parapet_result_category_count(const parapet_result *r);
typedef struct parapet_category_score {
    const char *name;      /* lives as long as the result */
    double score;          /* in [0,1] */
    double threshold;
    int flagged;           /* score >= threshold and the category is enabled */
    parapet_action action; /* the category's action if flagged, else allow */
} parapet_category_score;
PARAPET_API parapet_status parapet_result_category(const parapet_result *r, size_t i,
                                                   parapet_category_score *out);

/* Bits of parapet_evidence.transforms: which normalizations had to fire for the
** evidence to match. */
#define PARAPET_XF_CASE        (1u << 0)  /* case folding / NFKC */
#define PARAPET_XF_CONFUSABLE  (1u << 1)  /* homoglyph folded */
#define PARAPET_XF_LEET        (1u << 2)  /* leet-speak folded */
#define PARAPET_XF_SEPARATOR   (1u << 3)  /* "f.u.c.k" joined */
#define PARAPET_XF_REPEAT      (1u << 4)  /* "fuuuck" collapsed */
#define PARAPET_XF_INVISIBLE   (1u << 5)  /* zero-width / invisible chars removed */
#define PARAPET_XF_ACCENT      (1u << 6)  /* diacritics stripped */
#define PARAPET_XF_MASK        (1u << 7)  /* "f*ck": masked letters */
#define PARAPET_XF_DECODED     (1u << 8)  /* found inside decoded base64 / tag chars */
#define PARAPET_XF_COUNT 9
/* Name of transform bit i ("case", "confusable", ...); static storage. */
PARAPET_API const char *parapet_transform_name(unsigned bit_index);

typedef struct parapet_evidence {
    size_t start, end;       /* byte span in the original text, end exclusive */
    size_t cp_start, cp_end; /* the same span in code points */
    const char *category;    /* lives as long as the result */
    const char *detector;    /* "lexicon", "pii", "secrets", "injection", ... */
    const char *rule;        /* the term, pattern or rule that fired */
    double score;            /* this piece of evidence's weight in [0,1] */
    unsigned transforms;     /* PARAPET_XF_* bits */
} parapet_evidence;
PARAPET_API size_t parapet_result_evidence_count(const parapet_result *r);
PARAPET_API parapet_status parapet_result_evidence(const parapet_result *r, size_t i,
                                                   parapet_evidence *out);

/* Signals about the text itself, e.g. "zero_width", "bidi_control", "tag_chars",
** "invalid_utf8", "mixed_script", "confusable", "leet", "empty".  Strings are
** static. */
PARAPET_API size_t parapet_result_signal_count(const parapet_result *r);
PARAPET_API const char *parapet_result_signal(const parapet_result *r, size_t i);

/* Flags for parapet_result_json. */
#define PARAPET_JSON_PRETTY    (1u << 0)
#define PARAPET_JSON_NO_TEXT   (1u << 1) /* omit the matched text from evidence */

/* The result as one JSON object: a superset of an OpenAI moderation result
** (flagged, categories, category_scores) plus action, evidence, signals,
** detectors, latency_us and policy.  Caller frees *json with parapet_free. */
PARAPET_API parapet_status parapet_result_json(const parapet_result *r,
                                               unsigned flags, char **json,
                                               size_t *len);

/* ----------------------------------------------------------------- redact ---- */

/* Replaces every PII and secret span (and the spans of any category whose action is
** "redact") by a typed placeholder such as "[EMAIL]", "[CARD]", "[AWS_KEY]".
** *out is NUL-terminated, caller frees with parapet_free.  `n_redacted` may be
** NULL.  Same errors as parapet_check. */
PARAPET_API parapet_status parapet_redact(parapet_engine *eng, const char *text,
                                          size_t len, const parapet_check_opts *opts,
                                          char **out, size_t *out_len,
                                          size_t *n_redacted);

/* ---------------------------------------------------------------- records ---- */

/* One input record of a JSONL stream (`parapet check --jsonl`, batch jobs):
**     {"text": "...", "id": <any JSON value>, "policy": {<overlay>}}
** "input" is accepted as a synonym of "text".  Unknown fields are ignored. */
typedef struct parapet_record {
    char *text;         /* NUL-terminated copy of the text (may contain NULs) */
    size_t text_len;
    char *id_json;      /* the "id" value re-serialized as JSON, or NULL */
    char *policy_json;  /* the "policy" object re-serialized as JSON, or NULL */
} parapet_record;

/* Parses one JSONL line.  Errors: PARAPET_ERR_JSON with a detail naming the column
** ("column 17: unexpected token"), PARAPET_ERR_ARG when the object has no string
** "text".  On success the caller releases the record with parapet_record_clear. */
PARAPET_API parapet_status parapet_record_parse(const char *line, size_t len,
                                                parapet_record *out, char **detail);
PARAPET_API void parapet_record_clear(parapet_record *r);

/* ---------------------------------- classifier / training / evaluation ---- */

/* parapet's learned tier: a multi-label linear model over hashed word and character
** n-grams of the normalized text, one calibrated probability per label.  The default
** model is compiled into the library (models/default.ppm, see models/MODEL_CARD.md);
** others are trained with parapet_train.  A model file is validated on load (magic,
** version, sizes, every field, SHA-256); a corrupt one is PARAPET_ERR_FORMAT.
** Immutable after open and safe to share between threads. */
typedef struct parapet_classifier parapet_classifier;

/* Opens a model file (mmap'd), or the embedded default when path is NULL
** (PARAPET_ERR_NOT_FOUND if the build has none).  Close with
** parapet_classifier_close. */
PARAPET_API parapet_status parapet_classifier_open(const char *path, parapet_classifier **out,
                                                   char **detail);
PARAPET_API void parapet_classifier_close(parapet_classifier *c);

typedef struct parapet_label_info {
    const char *name;      /* the data's label ("hate", "jailbreak", "unsafe") */
    const char *category;  /* the policy category it feeds, "" for none */
    double threshold;      /* default threshold chosen at training (best F1, held out) */
    int emitted;           /* 1 if the detector reports it as its category */
    unsigned n_pos, n_neg; /* training examples */
} parapet_label_info;
PARAPET_API size_t parapet_classifier_label_count(const parapet_classifier *c);
/* Strings live as long as the classifier. */
PARAPET_API parapet_status parapet_classifier_label(const parapet_classifier *c, size_t i,
                                                    parapet_label_info *out);
/* Normalizes text (invalid UTF-8 replaced) and writes one calibrated probability per
** label into probs[0..n) (n >= label count).  Thread-safe. */
PARAPET_API parapet_status parapet_classifier_predict(const parapet_classifier *c,
                                                      const char *text, size_t len,
                                                      double *probs, size_t n);
/* Hex SHA-256 of the model's contents; lives as long as c. */
PARAPET_API const char *parapet_classifier_hash(const parapet_classifier *c);

/* Progress of a long job: `done` of `total` units in `phase` ("load", "features",
** "train", "calibrate", "eval").  Called from the calling thread. */
typedef void (*parapet_progress_fn)(void *ud, const char *phase, double done, double total);
/* A malformed input line ("FILE:LINE: why (line skipped)"). */
typedef void (*parapet_warn_fn)(void *ud, const char *msg);

typedef struct parapet_train_opts {
    const char *const *data;   /* .jsonl files or directories of them */
    size_t n_data;
    const char *out_path;      /* the model file to write */
    uint64_t seed;             /* default 1; same seed + data = same file, bit for bit */
    int epochs;                /* default 6 */
    int threads;               /* default 2; results do not depend on it */
    double dev_frac;           /* default 0.1: held out for the report */
    double calib_frac;         /* default 0.1: held out for Platt scaling, thresholds */
    int hash_bits;             /* default 15 (2^15 buckets), at most 16 */
    int char_min, char_max;    /* code-point n-gram lengths; 0: defaults */
    int min_pos;               /* a label is emitted as a category only with at least
                                  this many training positives; default 150 */
    /* "SOURCE:LABEL=0": records of SOURCE that lack LABEL are taken as negatives for
    ** it (e.g. "advbench:jailbreak=0": harmful questions that are not jailbreaks). */
    const char *const *assume;
    size_t n_assume;
    const char *const *no_emit; /* labels kept in the model (for eval) but not
                                   reported as categories */
    size_t n_no_emit;
    double policy_fpr;         /* default 0.005: the policy score reaches 0.5 no lower
                                  than where this share of held-out negatives would be
                                  flagged (see models/MODEL_CARD.md) */
    int no_unsafe_implies;     /* default 0: a record with unsafe=0 is taken as 0 for
                                  every harm label it lacks (not spam) */
    int strict;                /* malformed lines are fatal instead of skipped */
    parapet_progress_fn progress;
    parapet_warn_fn warn;
    void *ud;
} parapet_train_opts;
PARAPET_API void parapet_train_opts_init(parapet_train_opts *o);
/* Trains, calibrates and writes a model.  *report_json (may be NULL; caller frees)
** gets counts, timings and dev-split metrics per label and language. */
PARAPET_API parapet_status parapet_train(const parapet_train_opts *o, char **report_json,
                                         char **detail);

typedef struct parapet_eval_opts {
    const char *const *data;   /* .jsonl files or directories */
    size_t n_data;
    /* What to evaluate.  classifier_only: the classifier's probabilities alone (from
    ** model_path, or the embedded model), every label it has.  Otherwise the whole
    ** pipeline opened with `engine` (NULL: defaults; its model_path is replaced by
    ** model_path when that is set), each data label scored by its category ("unsafe"
    ** by the highest harm-category score), restricted to `detectors` when non-NULL
    ** (comma list of detector names). */
    int classifier_only;
    const char *model_path;
    const parapet_options *engine;
    const char *detectors;
    const char *split;         /* NULL/"all", or "dev": only records whose id hashes
                                  into the training dev split (dev_frac) */
    double dev_frac, calib_frac;
    const char *report_dir;    /* writes report.md, report.json and SVG plots there */
    double target_fpr;         /* > 0: choose per-category thresholds at this FPR */
    const char *write_policy;  /* with target_fpr or calibrate_guard: writes a policy
                                  overlay there */
    /* Fits the guard model's calibration: runs the guard alone on every record (the
    ** engine must have a guard model; other detectors off, mode always, calibration of
    ** the engine's policy ignored), fits per category sigmoid(a * logit(p) + b) to the
    ** labels (Platt scaling; categories with at least 5 positives and 5 negatives) and
    ** writes it as guard.calibration into write_policy. */
    int calibrate_guard;
    int strict;
    parapet_progress_fn progress;
    parapet_warn_fn warn;
    void *ud;
} parapet_eval_opts;
PARAPET_API void parapet_eval_opts_init(parapet_eval_opts *o);
/* Scores every record and computes per label: precision, recall, F1 and confusion
** counts at the threshold (the model's or the policy's), ROC-AUC, AUPRC, expected
** calibration error; per language; latency percentiles.  Unknown labels are
** skipped, never counted as negatives.  *report_json: caller frees. */
PARAPET_API parapet_status parapet_eval(const parapet_eval_opts *o, char **report_json,
                                        char **detail);

/* ----------------------------------------------------------- guard models ---- */
/* (GGUF model files: inspection, synthesis.  Declarations added below this line.) */
/* @@MODEL-SECTION@@ */

/* A GGUF model file, opened read-only (mmap) and validated: every count, length,
** offset, type and shape in it is checked against the file before use, so a
** truncated or hostile file gives PARAPET_ERR_FORMAT with a detail naming the problem
** and its byte offset.  Immutable after open; shareable between threads. */
typedef struct parapet_model parapet_model;

/* Opens and validates `path`.  Errors: PARAPET_ERR_NOT_FOUND, _IO, _FORMAT, _NOMEM.
** Close with parapet_model_close. */
PARAPET_API parapet_status parapet_model_open(const char *path, parapet_model **out,
                                              char **detail);
PARAPET_API void parapet_model_close(parapet_model *m);

/* A summary of the model: architecture, shapes (n_embd, n_layer, n_head, n_head_kv,
** n_ff, vocab, context), tensor types (count and bytes per type), tokenizer (model,
** pre, vocab size, special ids), chat template (presence, first line), file size.
** _json gives one JSON object (schema in docs/gguf.md), _text a readable report.
** *out is NUL-terminated; caller frees with parapet_free.  `len` may be NULL. */
PARAPET_API parapet_status parapet_model_info_json(const parapet_model *m, char **out,
                                                   size_t *len);
PARAPET_API parapet_status parapet_model_info_text(const parapet_model *m, char **out,
                                                   size_t *len);

/* Writes a GGUF with random weights and a real model's exact shape, for benchmarks
** and engine tests.  shape (architecture): "tiny" (llama, 256-wide, 2 layers), "1b"
** (Llama 3.2 1B, tied), "lg3-1b" (Llama Guard 3 1B: the 1B shape with its own output
** matrix), "8b" (Llama 3.1 8B = Llama Guard 3 8B); "shieldgemma-2b" and "tiny-gemma2"
** (gemma2), "qwen3guard-0.6b" and "tiny-qwen3" (qwen3), "granite-guardian-2b" and
** "tiny-granite" (granite): each tiny shape has its architecture's quirks
** (docs/gguf.md).  quant: "f16", "q8_0" or "q4_k_m" (llama.cpp's Q4_K_M type mix).
** The vocabulary comes from a Hugging Face tokenizer.json (BPE): byte-level ones are
** written as tokenizer.ggml.model "gpt2" with merges, byte-fallback ones (Gemma,
** Llama 2) as a SentencePiece vocabulary ("llama": tokens, scores, token types);
** padded or cut to the shape's vocabulary size where the shape has one.  The same
** seed gives the same file.  Errors: PARAPET_ERR_ARG (unknown shape or quant),
** _NOT_FOUND / _IO / _JSON / _UNSUPPORTED (the tokenizer), _IO (writing). */
PARAPET_API parapet_status parapet_model_synth(const char *shape, const char *quant,
                                               const char *tokenizer_json_path,
                                               uint64_t seed, const char *out_path,
                                               char **detail);

/* ------------------------------------------------------------- llm engine ---- */
/* parapet's own forward pass for guard models of the llama, gemma2, qwen3 and granite
** architectures (Llama Guard 3, ShieldGemma, Qwen3Guard, Granite Guardian), from a
** GGUF file: weights F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K, Q6_K (mixed, as in
** Q4_K_M files), a KV cache, batched prefill, and logits for the last position --
** over the whole vocabulary or for chosen tokens only (scoring mode).
**
**     parapet_llm *llm;
**     parapet_llm_open("lg3-1b.gguf", NULL, &llm, &detail);     // defaults
**     parapet_llm_eval(llm, ids, n, 0, PARAPET_LLM_LOGITS);     // prefill [0, n)
**     const float *logits; size_t n_vocab;
**     parapet_llm_logits(llm, &logits, &n_vocab);
**     int32_t rows[2] = {19193, 39257};  float two[2];          // "safe", "unsafe"
**     parapet_llm_logits_rows(llm, rows, 2, two);
**     parapet_llm_eval(llm, more, k, n, 0);                     // append at position n
**     parapet_llm_eval(llm, other, j, p, 0);                    // reuse the first p
**     parapet_llm_close(llm);
**
** A parapet_llm is one model plus one context (KV cache, buffers, threads), all
** allocated at open: evaluation allocates nothing.  It is NOT thread-safe: one caller
** at a time.  Token ids come from the model's tokenizer (parapet_tokenizer_open_gguf
** on the same file). */
typedef struct parapet_llm parapet_llm;

typedef struct parapet_llm_options {
    uint32_t n_ctx;     /* KV cache positions; 0: min(training context, 4096) */
    uint32_t n_batch;   /* tokens per internal pass; 0: 512 */
    int n_threads;      /* worker threads including the caller; 0: 1 */
    int kv_f32;         /* 1: f32 KV cache (default f16, as llama.cpp) */
} parapet_llm_options;
PARAPET_API void parapet_llm_options_init(parapet_llm_options *o);

/* Loads the model at `path` (mmap, zero copy; a model file is untrusted input and
** every shape is checked) and creates its context.  opt may be NULL (defaults).
** Errors: _NOT_FOUND, _IO, _FORMAT (the file: detail names the key or tensor),
** _UNSUPPORTED (another architecture or weight type), _ARG, _NOMEM. */
PARAPET_API parapet_status parapet_llm_open(const char *path, const parapet_llm_options *opt,
                                            parapet_llm **out, char **detail);
PARAPET_API void parapet_llm_close(parapet_llm *llm);

#define PARAPET_LLM_LOGITS 1u   /* eval: compute the last position's full logits */

/* Evaluates ids[0..n) at positions [pos, pos+n).  Cached positions >= pos are dropped
** first, so pos = parapet_llm_n_past() appends and a smaller pos reuses a prefix.
** Errors: _ARG (pos > n_past, n == 0, pos + n > n_ctx, an id outside the vocabulary);
** after an error the cache keeps at most its first pos positions. */
PARAPET_API parapet_status parapet_llm_eval(parapet_llm *llm, const int32_t *ids, size_t n,
                                            uint32_t pos, unsigned flags);
/* The full logits of the last evaluated position (requires PARAPET_LLM_LOGITS on that
** eval; _ARG otherwise).  The array lives until the next eval/truncate/close. */
PARAPET_API parapet_status parapet_llm_logits(const parapet_llm *llm, const float **logits,
                                              size_t *n_vocab);
/* Logits of the last evaluated position for tokens rows[0..n) only, into out[0..n);
** costs n rows of the output matrix instead of the whole vocabulary. */
PARAPET_API parapet_status parapet_llm_logits_rows(parapet_llm *llm, const int32_t *rows,
                                                   size_t n, float *out);
/* Drops cached positions >= pos. */
PARAPET_API void parapet_llm_truncate(parapet_llm *llm, uint32_t pos);
PARAPET_API uint32_t parapet_llm_n_past(const parapet_llm *llm);
PARAPET_API uint32_t parapet_llm_n_ctx(const parapet_llm *llm);
PARAPET_API size_t parapet_llm_n_vocab(const parapet_llm *llm);
/* Bytes of model weights (mapped) and of the context's own buffers (KV cache and
** scratch), for reports. */
PARAPET_API void parapet_llm_memory(const parapet_llm *llm, uint64_t *weight_bytes,
                                    uint64_t *context_bytes);

/* -------------------------------------------------------------- tokenizers ---- */
/* (Tokenizers from GGUF metadata or tokenizer.json.  Declarations below this line.) */
/* @@TOKENIZER-SECTION@@ */

/* A guard model's tokenizer: byte-level BPE (Llama 3, Qwen2/3) or SentencePiece-style
** BPE with byte fallback (Llama 2, Gemma), built from a Hugging Face tokenizer.json or
** from a GGUF file's tokenizer.ggml.* metadata.  Token ids are identical to the
** transformers.js tokenizers (see docs/tokenizers.md for the conformance corpus).
** Immutable after open and safe to share between threads.
**
**     parapet_tokenizer *tok;
**     parapet_tokenizer_open_json("tokenizer.json", &tok, NULL);
**     int32_t *ids; size_t n;
**     parapet_tokenizer_encode(tok, text, len,
**                              PARAPET_TOK_ADD_BOS | PARAPET_TOK_PARSE_SPECIAL, &ids, &n);
**     ...  parapet_free(ids);  parapet_tokenizer_free(tok);                          */
typedef struct parapet_tokenizer parapet_tokenizer;

/* Flags for encode and decode. */
#define PARAPET_TOK_ADD_BOS       (1u << 0) /* encode: prepend BOS if the tokenizer's
                                               configuration adds one (Llama 3
                                               <|begin_of_text|>, Llama 2 <s>, Gemma
                                               <bos>; Qwen adds none) */
#define PARAPET_TOK_PARSE_SPECIAL (1u << 1) /* encode: special tokens written in the
                                               text ("<|eot_id|>") become their ids;
                                               without it they are tokenized as plain
                                               text.  Non-special added tokens are
                                               always matched. */
#define PARAPET_TOK_SKIP_SPECIAL  (1u << 2) /* decode: leave special tokens out */

/* Reads a tokenizer.json (or parses one from memory).  Errors: PARAPET_ERR_IO /
** _NOT_FOUND (the file), PARAPET_ERR_JSON, PARAPET_ERR_FORMAT (inconsistent
** contents), PARAPET_ERR_UNSUPPORTED (a normalizer, pre-tokenizer or model that is
** not implemented; the detail names it).  Free with parapet_tokenizer_free. */
PARAPET_API parapet_status parapet_tokenizer_open_json(const char *path,
                                                       parapet_tokenizer **out,
                                                       char **detail);
PARAPET_API parapet_status parapet_tokenizer_from_json(const char *json, size_t len,
                                                       parapet_tokenizer **out,
                                                       char **detail);
/* Builds the tokenizer of a GGUF model file from its tokenizer.ggml.* keys
** (tokenizer.ggml.model "gpt2" with pre "llama-bpe", "qwen2", ..., or "llama").
** The file is closed again before returning. */
PARAPET_API parapet_status parapet_tokenizer_open_gguf(const char *path,
                                                       parapet_tokenizer **out,
                                                       char **detail);
PARAPET_API void parapet_tokenizer_free(parapet_tokenizer *tok);

/* Tokenizes text[0..len), which must be valid UTF-8 (else PARAPET_ERR_UTF8).  On
** success *ids is a new array of *n_ids ids (caller frees with parapet_free; it is
** non-NULL even when *n_ids is 0).  Thread-safe. */
PARAPET_API parapet_status parapet_tokenizer_encode(const parapet_tokenizer *tok,
                                                    const char *text, size_t len,
                                                    unsigned flags, int32_t **ids,
                                                    size_t *n_ids);
/* The text of ids[0..n): the exact bytes the ids stand for (byte-level pieces
** mapped back to bytes, U+2581 to spaces, <0xNN> to bytes, Llama 2's leading space
** stripped).  A prefix of a token sequence may end inside a UTF-8 character, so the
** result is not always valid UTF-8.  *text is NUL-terminated, caller frees with
** parapet_free; len may be NULL.  PARAPET_ERR_ARG for an id outside the vocabulary. */
PARAPET_API parapet_status parapet_tokenizer_decode(const parapet_tokenizer *tok,
                                                    const int32_t *ids, size_t n,
                                                    unsigned flags, char **text,
                                                    size_t *len);

/* Size of the id space (ids are 0 .. size-1; a few may be unused). */
PARAPET_API size_t parapet_tokenizer_vocab_size(const parapet_tokenizer *tok);
/* The piece of `id` as stored in the vocabulary (byte-level vocabularies store bytes
** in GPT-2's printable mapping: "Ġhello" for " hello").  *piece is not
** NUL-terminated and lives as long as the tokenizer.  PARAPET_ERR_NOT_FOUND for an
** unused or out-of-range id. */
PARAPET_API parapet_status parapet_tokenizer_token_piece(const parapet_tokenizer *tok,
                                                         int32_t id,
                                                         const char **piece,
                                                         size_t *len);
/* The id of a piece spelled as stored (e.g. "unsafe", "<|eot_id|>"), or -1. */
PARAPET_API int32_t parapet_tokenizer_token_id(const parapet_tokenizer *tok,
                                               const char *piece, size_t len);
/* BOS / EOS ids, -1 when the tokenizer defines none (tokenizer.json carries no EOS). */
PARAPET_API int32_t parapet_tokenizer_bos(const parapet_tokenizer *tok);
PARAPET_API int32_t parapet_tokenizer_eos(const parapet_tokenizer *tok);
/* 1 if id is a special (control) token. */
PARAPET_API int parapet_tokenizer_is_special(const parapet_tokenizer *tok, int32_t id);
/* A short description, e.g. "llama-bpe (tokenizer.json)"; lives as long as tok. */
PARAPET_API const char *parapet_tokenizer_name(const parapet_tokenizer *tok);

/* --------------------------------------------------- guard model registry ---- */
/* Known guard models and their download (src/guard/registry.c, docs/guard-models.md).
** Fields that are not known for certain are NULL / 0: parapet does not invent
** checksums.  An entry without a sha256 is downloaded only when the caller asks for
** no verification. */
typedef struct parapet_guard_model {
    const char *name;     /* "llama-guard-3-1b" */
    const char *family;   /* "llama-guard-3", "shieldgemma", "qwen3guard", "granite-guardian" */
    const char *upstream; /* the model's official repository (safetensors), for reference */
    const char *url;      /* a GGUF download URL, NULL when none is known */
    const char *file;     /* file name to save as */
    uint64_t size;        /* bytes, 0 if unknown */
    const char *sha256;   /* 64 lowercase hex digits, NULL if unknown */
    const char *note;     /* one line for the user */
} parapet_guard_model;

/* The registry (static storage, *n entries). */
PARAPET_API const parapet_guard_model *parapet_guard_models(size_t *n);
/* The entry named `name`, NULL if none. */
PARAPET_API const parapet_guard_model *parapet_guard_model_find(const char *name);

/* Progress callback: bytes done and total (0 if unknown), counting a resumed part.
** Return nonzero to abort the download (the partial file is kept). */
typedef int (*parapet_download_progress_fn)(void *user, uint64_t done, uint64_t total);

/* Downloads url (http or https, redirects followed) to `path`.  Bytes go to
** "<path>.part" first; when that file exists the download resumes from its end with
** an HTTP Range request (a server that ignores Range sends everything and the part is
** rewritten).  At the end the size is checked (when size > 0) and the SHA-256 (when
** sha256 is non-NULL, 64 hex digits); only then is the part renamed to path, so path
** never holds a partial or unverified file.  sha256_out (may be NULL) receives the
** digest of what was downloaded.  Errors: PARAPET_ERR_ARG, PARAPET_ERR_NOT_FOUND
** (HTTP 404), PARAPET_ERR_IO (network or file error; an interrupted download keeps
** its part, so calling again resumes), PARAPET_ERR_FORMAT (size or checksum
** mismatch; the part is deleted), PARAPET_ERR_UNSUPPORTED (built without libcurl). */
PARAPET_API parapet_status parapet_download(const char *url, const char *path,
                                            const char *sha256, uint64_t size,
                                            parapet_download_progress_fn progress, void *user,
                                            char sha256_out[65], char **detail);

#ifdef __cplusplus
}
#endif
#endif /* PARAPET_H */
