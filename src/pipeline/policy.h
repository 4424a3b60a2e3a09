/*
** policy.h -- the compiled form of a policy (internal).
**
** A policy is a list of categories in a fixed order (built-ins first, in the order
** the document names them, then custom ones), each with a threshold, an action and
** whether it is enabled, plus which detectors run.  Category i of the policy maps to
** a detector-level category id (pcat.id): a built-in id from category.h, or a custom
** id >= PP_CAT_BUILTIN_COUNT assigned in order of appearance.
*/
#ifndef PP_POLICY_H
#define PP_POLICY_H

#include "../core/core.h"
#include "../detect/detector.h"

typedef struct pp_pcat {
    char *name;
    char *description;
    double threshold;
    parapet_action action;
    int enabled;
    int id;            /* detector category id */
    char **terms;      /* custom terms (NULL-free array of n_terms strings) */
    size_t n_terms;
    float weight;      /* weight of each custom term */
} pp_pcat;

struct parapet_policy {
    char *name;
    char *description;
    char hash[65];
    pp_pcat cats[PP_MAX_CATS];
    size_t n_cats;
    int detector_on[PP_DET_COUNT];
    size_t max_input_bytes; /* 0: engine default */
    /* "\0" policy name "\0" category names "\0"..., built once so a result copies
    ** all its fixed strings with one memcpy; names_off[i] locates category i,
    ** offset 1 is the policy name. */
    char *names;
    size_t names_len;
    size_t names_off[PP_MAX_CATS];
    /* Each category's entry in a result without evidence: score 0, its threshold,
    ** not flagged, allowed; name NULL (the result points it at its own copy).  Built
    ** with the names, so a quiet text's result copies them in one go. */
    parapet_category_score quiet[PP_MAX_CATS];
    /* cat_of_id[id]: pp_policy_find_id(p, id) for every detector category id, built
    ** with the names (results look one up per piece of evidence). */
    int8_t cat_of_id[PP_MAX_CATS];
    /* When the guard detector runs (section "guard"): PP_GUARD_RUN_CASCADE runs it
    ** only when the largest cheap-tier score lies in [guard_low, guard_high]. */
    int guard_mode;
    double guard_low, guard_high;
    /* Calibration of the guard's probability per category id (guard.calibration):
    ** p' = sigmoid(a * logit(p) + b) where guard_cal_on[id] (Platt scaling, fitted by
    ** `parapet eval --calibrate-guard`). */
    float guard_cal_a[PP_MAX_CATS], guard_cal_b[PP_MAX_CATS];
    unsigned char guard_cal_on[PP_MAX_CATS];
};

enum { PP_GUARD_RUN_CASCADE = 0, PP_GUARD_RUN_ALWAYS = 1, PP_GUARD_RUN_NEVER = 2 };
#define PP_GUARD_DEFAULT_LOW 0.15
#define PP_GUARD_DEFAULT_HIGH 0.85

/* Index of the policy category with detector id `id`, or -1. */
int pp_policy_find_id(const parapet_policy *p, int id);
/* Index of the policy category named `name`, or -1. */
int pp_policy_find(const parapet_policy *p, const char *name);

#endif
