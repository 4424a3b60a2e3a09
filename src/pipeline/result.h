/*
** result.h -- the result object (internal layout) shared by engine.c and result.c.
**
** A result owns copies of every string it exposes (category names, rules, matched
** snippets, policy name and hash) so it stays valid after the engine or the
** per-request policy is gone.
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
    int flagged;
    parapet_action action;
    double latency_us;
    size_t n_cats;
    pp_ev *ev;
    size_t n_ev;
    size_t n_hits_total;        /* hits found, when the evidence cap was reached; else 0 */
    uint32_t signals;           /* PP_SIG_* */
    const char *signal_names[32];
    size_t n_signals;
    unsigned detectors_run;     /* bit per PP_DET_* */
    double tier_us[PP_TIER_COUNT]; /* time spent per tier */
    char policy_hash[65];
    size_t policy_name_off;
    pp_buf strs;                /* all strings, NUL-separated */
    /* last, so a new result need only clear the fields above (offsetof cats) */
    parapet_category_score cats[PP_MAX_CATS];
    size_t cat_name_off[PP_MAX_CATS];
};

/* Resolves the string offsets into pointers; call once after building. */
void pp_result_finish(parapet_result *r);

#endif
