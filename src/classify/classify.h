/*
** classify.h -- parapet's learned tier: hashed n-gram features, a multi-label linear
** model with calibrated outputs, its file format, training and evaluation.
**
** Where it sits.  The classifier detector (src/classify/detector.c) runs after the
** normalizer, on the FOLD view of a pp_text (lowercased, homoglyph / leet / accent
** folded, repeated letters collapsed), so "1d10t", "ＩＤＩＯＴ" and "idiooot" all
** give the same features.  It reports one calibrated probability per category as
** document-level evidence; the pipeline and the policy thresholds decide.
**
** Features (features.c).  The fold view is read as a stream of code points; every
** run of non-word bytes becomes one space.  Tokens are runs of word characters,
** except that each character of an unspaced script (Han, kana, Thai) is a token of
** its own.  Emitted per text: every token (word unigram), every pair of adjacent
** tokens (word bigram) and every code-point n-gram of length char_min..char_max of
** the space-separated stream (so " kill" and "ill " carry word edges); with the
** shape flag (header flags bit 0, PP_FEAT_SHAPES; models since the flag write it),
** also each token's digit shape, each distinct symbol character and the text's
** length class (see features.c).  Each
** feature is a 64-bit hash mapped to one of 2^hash_bits buckets with a sign bit
** (signed hashing halves the damage of collisions).  Features are binary: a bucket
** counts once per text (or per pipeline window) however often it occurs, and the
** vector is scaled by 1/sqrt(n_distinct), so long texts do not saturate and the hot
** path skips repeats with an 8 KB bitset instead of fetching their weights again.
** Extraction allocates nothing: it is resumable and fills a caller buffer.
**
** Model (model.c).  For each label l: z_l = bias_l + scale_l / sqrt(n) *
** sum_f sign_f * q[bucket_f][l], with q int8.  Two calibrations of z per label:
**   p_l      = sigmoid(platt_a * z + platt_b)    probability at the training mix's
**              base rate (Platt scaling fitted on a held-out split); what
**              parapet_classifier_predict and `parapet eval --model` report;
**   policy_l = sigmoid(policy_a * z + policy_b)  the POLICY SCORE the classifier
**              detector reports to the pipeline: the same ranking, re-mapped so that
**              crossing the policy threshold (0.5) happens only where the label is
**              precise on realistic, mostly benign traffic (fitted at training, see
**              train.c step 7).
** Weights are stored bucket-major in rows of 16 int8 (one per label, zero-padded),
** so one feature costs one 16-byte load and two SIMD adds, and 2^16 buckets are a
** 1 MB table (the shipped 2^15 one, 512 KB, stays in L2).
**
** File format (.ppm), all integers little-endian:
**
**     0   8  magic "PPCLASS\0"
**     8   4  format version (2)
**     12  4  header bytes H (after the 96-byte preamble)
**     16  8  payload bytes P (the weight matrix)
**     24  64 SHA-256, lowercase hex, of the H + P bytes that follow
**     88  8  reserved, zero
**     96  H  header: u32 n_labels, u32 hash_bits, u32 char_min, u32 char_max,
**              u32 word_ngrams, u32 flags (bit 0: shape features, others 0),
**              u64 train seed, u32 n_train,
**              u32 reserved, then per label a 104-byte record:
**              name[32] (NUL-padded), category[32] (NUL-padded, "" = none),
**              f32 scale, f32 bias, f32 platt_a, f32 platt_b, f32 threshold,
**              u32 flags (bit 0: emitted as a category), u32 n_pos, u32 n_neg,
**              f32 policy_a, f32 policy_b
**     96+H P  int8 weights (2^hash_bits rows of 16), row-major; padding lanes zero
**
** Every field is validated on load (model from a file or a user is outside input):
** sizes against the file, counts against limits, names NUL-terminated and printable,
** floats finite, padding lanes zero, and the checksum.  Any failure is
** PARAPET_ERR_FORMAT with a detail.
*/
#ifndef PP_CLASSIFY_H
#define PP_CLASSIFY_H

#include "../core/core.h"
#include "../text/text.h"

#define PP_CLS_MAX_LABELS 16
#define PP_CLS_STRIDE 16 /* bytes per weight row (labels padded) */
#define PP_CLS_NAME_MAX 32
#define PP_CLS_MAGIC "PPCLASS"
#define PP_CLS_VERSION 2u
#define PP_CLS_PREAMBLE 96u
#define PP_CLS_LABEL_REC 104u
#define PP_CLS_HEADER_FIXED 40u
#define PP_CLS_MAX_BITS 16 /* the dedup bitset is 2^16 bits = 8 KB on the stack */

/* ---------------------------------------------------------------- features */

typedef struct pp_feat_params {
    unsigned hash_bits;   /* buckets = 2^hash_bits, 10..PP_CLS_MAX_BITS */
    unsigned char_min;    /* code-point n-gram lengths, 1..char_max */
    unsigned char_max;    /* <= 6 */
    unsigned word_ngrams; /* 1 = unigrams, 2 = unigrams and bigrams */
    unsigned flags;       /* PP_FEAT_* (the header's flags word) */
} pp_feat_params;

/* Shape features (header flag bit 0): a token's digit count, each distinct symbol
** character (what the space-separated stream drops: "£", "@", "[", "{"...), and the
** text's length class.  Models without the bit are read and scored as before. */
#define PP_FEAT_SHAPES 1u

/* Resumable extraction state over one fold-view string.  Plain data; lives on the
** caller's stack. */
typedef struct pp_feat_iter {
    const char *s;
    size_t n, pos;
    uint32_t ring[8];   /* last code points of the space-separated stream */
    unsigned nring;     /* how many are valid (<= 8) */
    uint64_t tok;       /* hash of the token being read */
    uint64_t prev_tok;  /* hash of the previous token, 0 if none */
    unsigned tok_digits, tok_letters; /* code points of the token being read */
    size_t n_tok;       /* tokens ended so far (for the length class) */
    int in_tok;
    int done;
    pp_feat_params p;
} pp_feat_iter;

/* Starts extraction over s[0..n) (a fold view; any bytes are tolerated). */
void pp_feat_begin(pp_feat_iter *it, const pp_feat_params *p, const char *s, size_t n);
/* Writes up to cap (>= 16) features into out, each (bucket << 1) | sign_bit, and
** returns how many; 0 means the text is exhausted. */
size_t pp_feat_next(pp_feat_iter *it, uint32_t *out, size_t cap);
/* Drops from f[0..k) every feature whose bucket is already set in `seen` (a bitset
** of 2^hash_bits bits, caller-zeroed per text) and sets the rest; keeps order.
** Returns the new count.  Training and prediction both apply it, so features are
** binary (one count per distinct bucket). */
size_t pp_feat_dedup(uint64_t *seen, uint32_t *f, size_t k);

/* ------------------------------------------------------------------- model */

typedef struct pp_cls_label {
    char name[PP_CLS_NAME_MAX];     /* data label, e.g. "hate", "jailbreak", "unsafe" */
    char category[PP_CLS_NAME_MAX]; /* policy category, "" when none */
    float scale, bias, platt_a, platt_b, threshold;
    uint32_t flags;                 /* PP_CLS_EMIT */
    uint32_t n_pos, n_neg;          /* training examples (for the model card) */
    float policy_a, policy_b;       /* policy-score calibration of the logit */
} pp_cls_label;
#define PP_CLS_EMIT 1u

/* A loaded model: immutable, shareable between threads.  The weights point into the
** file's bytes (an mmap, an embedded blob, or a heap copy), owned by the model. */
typedef struct pp_cls_model {
    pp_feat_params fp;
    unsigned n_labels;
    uint64_t seed;
    uint32_t n_train;
    pp_cls_label labels[PP_CLS_MAX_LABELS];
    const int8_t *w;         /* (2^hash_bits, PP_CLS_STRIDE) */
    char sha256[65];         /* checksum of header + payload, hex */
    size_t file_bytes;
    /* ownership of the bytes */
    void *map;               /* munmap(map, map_len) when non-NULL */
    size_t map_len;
    void *heap;              /* pp_free when non-NULL */
} pp_cls_model;

/* Validates a model image and builds a model that points into it (zero-copy).
** The bytes must outlive the model; they are not freed by pp_cls_close unless
** `take_heap` is set (then data must come from pp_malloc and is freed on close or
** on failure).  Errors: PARAPET_ERR_FORMAT with *detail, PARAPET_ERR_NOMEM. */
pp_status pp_cls_from_memory(const void *data, size_t len, int take_heap,
                             pp_cls_model **out, char **detail);
/* mmaps and validates a model file.  Errors: _NOT_FOUND, _IO, _FORMAT, _NOMEM. */
pp_status pp_cls_open_file(const char *path, pp_cls_model **out, char **detail);
/* The model compiled into the library (models/default.ppm), validated once per
** process.  PARAPET_ERR_NOT_FOUND when the build embedded none. */
pp_status pp_cls_open_default(pp_cls_model **out, char **detail);
void pp_cls_close(pp_cls_model *m);

/* Raw logits (before Platt) of the text whose fold view is s[0..n), for every label
** into logit[n_labels].  No allocation. */
void pp_cls_logits(const pp_cls_model *m, const char *s, size_t n, float *logit);
/* Calibrated probabilities for every label into prob[n_labels]. */
void pp_cls_predict(const pp_cls_model *m, const char *s, size_t n, float *prob);
/* Policy scores (policy_a/policy_b) for every label into score[n_labels]: what the
** classifier detector reports to the pipeline. */
void pp_cls_policy_scores(const pp_cls_model *m, const char *s, size_t n, float *score);

static inline float pp_sigmoidf(float x) {
    if (x > 30) x = 30;
    if (x < -30) x = -30;
    return 1.0f / (1.0f + __builtin_expf(-x));
}

/* Serializes a model image: header from `m` (labels, params), weights from w
** ((2^hash_bits, PP_CLS_STRIDE), padding lanes zero).
** *out from pp_malloc.  Used by training and by tests. */
pp_status pp_cls_serialize(const pp_cls_model *m, const int8_t *w, unsigned char **out,
                           size_t *len);

/* ----------------------------------------------------------------- metrics */

/* Metrics of one binary label over scored examples (metrics.c).  Arrays are the
** caller's; score in [0,1], y in {0,1}. */
typedef struct pp_bin_metrics {
    size_t n, n_pos;
    double threshold;
    size_t tp, fp, tn, fn;
    double precision, recall, f1, fpr;
    double roc_auc, auprc, ece;  /* NAN when undefined (no positives or negatives) */
} pp_bin_metrics;

/* Computes all of the above; sorts a private copy (pp_malloc).  Returns NOMEM or OK. */
pp_status pp_metrics_binary(const float *score, const uint8_t *y, size_t n,
                            double threshold, int ece_bins, pp_bin_metrics *out);
/* Points of the PR curve: for each distinct score (descending), recall and
** precision.  *pts is pp_malloc'd pairs (recall, precision); *npts pairs. */
pp_status pp_metrics_pr_curve(const float *score, const uint8_t *y, size_t n,
                              double **pts, size_t *npts);
/* Reliability: per equal-width bin, mean score, positive rate and count. */
void pp_metrics_reliability(const float *score, const uint8_t *y, size_t n, int bins,
                            double *mean_score, double *pos_rate, size_t *count);
/* Platt scaling: fits a, b so that sigmoid(a*z + b) matches y (with Platt's smoothed
** targets), by Newton's method.  Deterministic. */
void pp_platt_fit(const float *z, const uint8_t *y, size_t n, float *a, float *b);
/* The threshold (a score value) that maximizes F1; 0.5 when undefined. */
double pp_best_f1_threshold(const float *score, const uint8_t *y, size_t n);
/* The lowest threshold whose false-positive rate is <= target_fpr. */
double pp_fpr_threshold(const float *score, const uint8_t *y, size_t n, double target_fpr);

#endif
