/*
** data.h -- labeled JSONL records (the ../shared/data record format) for training and
** evaluation: loading, the fixed label set, the deterministic split.
**
** A record: {"text": "...", "labels": {"hate": 1, ...}, "lang": "en", "id": "...",
** "source": "..."}.  A label key that is absent is UNKNOWN (-1 here), never a
** negative.  Malformed lines are reported with file and line number and either
** skipped or fatal.
*/
#ifndef PP_CLS_DATA_H
#define PP_CLS_DATA_H

#include "classify.h"

/* The data's label set, in model order, and the policy category each feeds ("" for
** none: "unsafe" is the overall label, kept for evaluation). */
#define PP_DATA_LABELS(X)                \
    X("harassment", "harassment")        \
    X("hate", "hate")                    \
    X("sexual", "sexual")                \
    X("sexual/minors", "sexual/minors")  \
    X("violence", "violence")            \
    X("self-harm", "self-harm")          \
    X("illicit", "illicit")              \
    X("profanity", "profanity")          \
    X("spam", "spam")                    \
    X("jailbreak", "prompt_injection")   \
    X("unsafe", "")
enum { PP_DATA_NLABELS = 11, PP_DATA_UNSAFE = 10, PP_DATA_SPAM = 8, PP_DATA_JAILBREAK = 9 };
extern const char *const pp_data_label_name[PP_DATA_NLABELS];
extern const char *const pp_data_label_cat[PP_DATA_NLABELS];
int pp_data_label_id(const char *name); /* -1 if not in the set */

typedef struct pp_rec {
    char *text;              /* NUL-terminated (pp_malloc'd) */
    size_t len;
    int8_t y[PP_DATA_NLABELS];  /* -1 unknown, 0, 1 */
    char lang[8];            /* "en", "zh", ... ("?" when absent) */
    uint16_t source;         /* index into pp_dataset.sources */
    uint64_t id_hash;        /* FNV-1a of the id (or of the text when no id) */
} pp_rec;

typedef struct pp_dataset {
    pp_rec *r;
    size_t n, cap;
    char **sources;          /* distinct "source" strings */
    size_t n_sources;
    size_t n_bad;            /* malformed lines skipped */
} pp_dataset;

typedef void (*pp_warn_fn)(void *ud, const char *msg);

/* Loads every path: a .jsonl file, or a directory whose *.jsonl files are read in
** name order.  strict: the first malformed line is fatal (PARAPET_ERR_JSON, *detail
** "FILE:LINE: why"); otherwise it is reported through warn (may be NULL) and
** skipped.  Errors: _NOT_FOUND, _IO, _JSON, _NOMEM, _EMPTY (no records at all). */
pp_status pp_data_load(const char *const *paths, size_t n_paths, int strict, pp_warn_fn warn,
                       void *warn_ud, pp_dataset *out, char **detail);
void pp_data_free(pp_dataset *d);

/* Which split a record falls into, from its id hash alone (independent of seed and
** file order): 0 train, 1 calibration, 2 dev. */
int pp_data_split(uint64_t id_hash, double dev_frac, double calib_frac);

#endif
