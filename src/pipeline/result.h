/*
** result.h -- the result object (internal layout) shared by engine.c and result.c.
**
** A result owns copies of every string it exposes (category names, rules, matched
** snippets, policy name and hash) so it stays valid after the engine or the
** per-request policy is gone.  It is one allocation (see build_result in engine.c).
*/
#ifndef PP_RESULT_H
#define PP_RESULT_H

#include "policy.h"

/* Tiers of the cascade, for the cost report. */
enum { PP_TIER_RULES, PP_TIER_CLASSIFIER, PP_TIER_GUARD, PP_TIER_COUNT };

typedef struct pp_ev {
    parapet_evidence pub;   /* pointers filled in by pp_result_finish */
    size_t cat_off, rule_off, snip_off, snip_len; /* offsets into strs */
    int cat_index;          /* index into cats */
    int kind, det;          /* pp_hit.kind and .detector */
} pp_ev;

struct parapet_result {
    size_t block;               /* bytes of the allocation the result lies at the start of */
    int quiet;                  /* no evidence, every category quiet (policy.h: quiet) */
    int flagged;
    parapet_action action;
    double latency_us;
    size_t n_cats;
    pp_ev *ev;
    size_t n_ev;
    size_t n_hits_total;        /* hits found, when the evidence cap was reached; else 0 */
    uint32_t signals;           /* PP_SIG_* */
    size_t n_signals;
    unsigned detectors_run;     /* bit per PP_DET_* */
    double tier_us[PP_TIER_COUNT]; /* time spent per tier */
    char policy_hash[65];
    size_t policy_name_off;
    /* All strings, NUL-separated: the policy's names, then each evidence item's rule
    ** and snippet.  strs and ev point into the result's own allocation (one block:
    ** the struct, the evidence, the strings), so freeing the result frees them. */
    char *strs;
    size_t strs_len;
    /* Every field above is set by build_result (engine.c); these three arrays are
    ** written only as far as they are used (n_cats, n_signals). */
    parapet_category_score cats[PP_MAX_CATS];
    size_t cat_name_off[PP_MAX_CATS];
    const char *signal_names[32];
};

/* Resolves the string offsets into pointers; call once after building.  With
** names_set, the category names already point at the right strings (a quiet result
** built in place in the block of one of the same policy) and are left alone. */
void pp_result_finish(parapet_result *r, int names_set);

/* A block of at least n bytes for a result, its size in *block: this thread's spare
** block (the last result freed on it, *reused set: its fields are that result's)
** when it is large enough, else a new one (pp_malloc).  NULL when out of memory.  parapet_result_free keeps the block of the
** result it frees as the spare when the thread has none (or a smaller one), so a
** thread checking text after text allocates nothing for its results. */
parapet_result *pp_result_alloc(size_t n, size_t *block, int *reused);

/* Tests: with allow 0, parapet_check sorts its hits without the insertion sort of
** each detector's (nearly ordered) segment, by the merge sort it falls back to. */
void pp_engine_set_segment_isort(int allow);

#endif
