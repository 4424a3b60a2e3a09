/*
** registry.c -- the table of detectors, the scan accumulator, category names.
*/
#include "detector.h"
#include <string.h>

const pp_detector_vt *const pp_detectors[PP_DET_COUNT] = {
    [PP_DET_LEXICON] = &pp_lexicon_detector,
    [PP_DET_PII] = &pp_pii_detector,
    [PP_DET_SECRETS] = &pp_secrets_detector,
    [PP_DET_INJECTION] = &pp_injection_detector,
    [PP_DET_CLASSIFIER] = &pp_classifier_detector,
    [PP_DET_GUARD] = &pp_guard_detector,
};

static const char *const cat_names[PP_CAT_BUILTIN_COUNT] = {
#define PP_X_CAT(id, name) name,
    PP_CATEGORY_LIST(PP_X_CAT)
#undef PP_X_CAT
};

const char *pp_category_name(int id) {
    return id >= 0 && id < PP_CAT_BUILTIN_COUNT ? cat_names[id] : NULL;
}

int pp_category_id(const char *name) {
    for (int i = 0; i < PP_CAT_BUILTIN_COUNT; i++)
        if (!strcmp(cat_names[i], name)) return i;
    return -1;
}

const char *pp_kind_placeholder(int kind) {
    static const char *const ph[PP_KIND_COUNT] = {
#define PP_X_KIND(id, p) p,
        PP_PII_KINDS(PP_X_KIND)
#undef PP_X_KIND
    };
    return kind >= 0 && kind < PP_KIND_COUNT ? ph[kind] : "REDACTED";
}

void pp_scan_init(pp_scan *s, const pp_text *t) {
    memset(s, 0, sizeof *s);
    s->text = t;
}

void pp_scan_reset(pp_scan *s, const pp_text *t) {
    s->text = t;
    memset(s->scores, 0, sizeof s->scores);
    s->n_hits = 0;
    s->oom = 0;
    s->base_offset = 0;
    s->skipped = 0;
}

void pp_scan_free(pp_scan *s) {
    pp_free(s->hits);
    memset(s, 0, sizeof *s);
}

void pp_scan_add(pp_scan *s, int cat, float score, size_t start, size_t end,
                 int detector, int kind, const char *rule, unsigned transforms) {
    if (cat < 0 || cat >= PP_MAX_CATS) return;
    if (score < 0) score = 0;
    if (score > 1) score = 1;
    s->scores[cat] = 1.0f - (1.0f - s->scores[cat]) * (1.0f - score);
    if (PP_GROW(s->hits, s->cap_hits, s->n_hits + 1)) { s->oom = 1; return; }
    pp_hit *h = &s->hits[s->n_hits++];
    h->start = (uint32_t)start + s->base_offset;
    h->end = (uint32_t)end + s->base_offset;
    h->cat = (uint16_t)cat;
    h->detector = (uint8_t)detector;
    h->kind = (uint8_t)kind;
    h->score = score;
    h->transforms = transforms;
    h->rule = rule;
}
