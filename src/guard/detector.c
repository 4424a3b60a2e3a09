/*
** detector.c -- the `guard` detector: a guard model (guard.h) behind the shared
** detector interface, run last, as the expensive tier of a cascade.
**
** open() does nothing unless pp_detector_config.guard_path names a GGUF guard model
** (self = NULL: the engine skips the detector).  With one, it opens the guard engine
** (prefix prefilled once), hashes the file (SHA-256, once) and reads the policy's
** guard section (mode, band).  The guard's categories: the family's own taxonomy,
** plus the policy's custom categories appended as policy text (name and
** description) so they reach the model.
**
** scan() decides whether the guard runs.  The pipeline runs detectors in enum order
** and PP_DET_GUARD is last, so s->scores already holds the cheap tiers' noisy-OR
** scores of this window:
**     always    run on every text;
**     never     do not run;
**     cascade   run only when the largest cheap score lies in [low, high] (default
**               [0.15, 0.85]): confident texts, either way, skip the model.
** When it runs it reports, per parapet category, the largest probability among the
** guard categories that map to it (docs/guard-models.md, "Category mapping") as
** document-level evidence: a zero-length span at 0.  The rule string names the family,
** the guard category and the model file's hash, e.g.
**     "llama-guard-3:S1 sha256:3f9a...c1" (the full 64-digit digest).
** Probabilities below 0.01 are not reported (as the classifier does).
**
** Assumptions: the guard judges the text as one user message.  Texts longer than
** GUARD_MAX_BYTES (per window: the pipeline scans long texts in 64 KiB windows) are
** cut to their first GUARD_MAX_BYTES at a character boundary, to fit the context.
** A guard error (a prompt that does not fit) reports nothing rather than failing the
** whole check: the cheap tiers' verdict stands.  The policy's guard section is read
** from the check's policy (the call's overlay, or the engine's), and so is its
** calibration: guard.calibration maps a category's probability p to
** sigmoid(a * logit(p) + b), fitted by `parapet eval --calibrate-guard`.
*/
#include "guard/guard.h"
#include "detect/detector.h"
#include "pipeline/policy.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

#define GUARD_MAX_BYTES 8192

typedef struct guard_det {
    pp_guard *g;
    int mode;
    float low, high;
    size_t n_native;                 /* guard categories 0..n_native-1 are native */
    int custom_id[PP_GUARD_MAX_CATS];/* detector category id of appended custom cats */
    char sha256[65];
    char *rule[PP_GUARD_MAX_CATS];   /* "family:label sha256:<hex>" per guard category */
} guard_det;

static void gd_close(void *self) {
    guard_det *d = self;
    if (!d) return;
    pp_guard_close(d->g);
    for (size_t i = 0; i < PP_GUARD_MAX_CATS; i++) pp_free(d->rule[i]);
    pp_free(d);
}

/* The policy's custom (non-built-in, enabled) categories, for the guard's policy text
** after the family's own taxonomy.  Returns the count. */
static size_t custom_cats(const pp_detector_config *cfg, guard_det *d, pp_guard_cat *cats) {
    const parapet_policy *p = cfg->policy;
    size_t n = 0;
    for (size_t i = 0; p && i < p->n_cats && n < PP_GUARD_MAX_CATS - 14; i++) {
        if (p->cats[i].id < PP_CAT_BUILTIN_COUNT || !p->cats[i].enabled) continue;
        cats[n].name = p->cats[i].name;
        cats[n].description = p->cats[i].description;
        d->custom_id[n++] = p->cats[i].id;
    }
    return n;
}

static pp_status gd_open(const pp_detector_config *cfg, void **self, char **detail) {
    *self = NULL;
    if (!cfg || !cfg->guard_path) return PARAPET_OK;
    guard_det *d = pp_calloc(1, sizeof *d);
    if (!d) return PARAPET_ERR_NOMEM;
    d->mode = cfg->policy ? cfg->policy->guard_mode : PP_GUARD_RUN_CASCADE;
    d->low = cfg->policy ? (float)cfg->policy->guard_low : (float)PP_GUARD_DEFAULT_LOW;
    d->high = cfg->policy ? (float)cfg->policy->guard_high : (float)PP_GUARD_DEFAULT_HIGH;
    pp_guard_opts o;
    pp_guard_opts_init(&o);
    o.n_threads = cfg->guard_threads;
    o.max_batch = cfg->guard_batch > 0 ? (size_t)cfg->guard_batch : 0;
    pp_guard_cat cats[PP_GUARD_MAX_CATS];
    o.cats = cats;
    o.n_cats = custom_cats(cfg, d, cats);
    o.with_native = 1;
    pp_status st = pp_guard_open(cfg->guard_path, &o, &d->g, detail);
    if (st) goto fail;
    /* custom_id was filled from 0; shift it behind the native categories */
    d->n_native = pp_guard_native_count(d->g);
    for (size_t i = o.n_cats; i-- > 0;) d->custom_id[d->n_native + i] = d->custom_id[i];
    if ((st = pp_guard_file_sha256(cfg->guard_path, d->sha256))) goto fail;
    const char *fam = pp_guard_family_name(pp_guard_family_of(d->g));
    int lg = pp_guard_family_of(d->g) == PP_GUARD_LLAMA_GUARD;
    for (size_t i = 0; i < pp_guard_cat_count(d->g); i++) {
        char label[24];
        snprintf(label, sizeof label, "S%zu", i + 1);
        d->rule[i] = pp_asprintf("%s:%s sha256:%s", fam, lg ? label : pp_guard_cat_at(d->g, i)->name,
                                 d->sha256);
        if (!d->rule[i]) { st = PARAPET_ERR_NOMEM; goto fail; }
    }
    *self = d;
    return PARAPET_OK;
fail:
    gd_close(d);
    return st;
}

/* Should the guard run on this scan, given the cheap tiers' scores?  The check's
** policy (an overlay may change the mode or the band) decides; without one, the
** engine's policy read at open. */
static int should_run(const guard_det *d, const pp_scan *s) {
    const parapet_policy *p = s->policy;
    int mode = p ? p->guard_mode : d->mode;
    float low = p ? (float)p->guard_low : d->low, high = p ? (float)p->guard_high : d->high;
    if (mode == PP_GUARD_RUN_ALWAYS) return 1;
    if (mode == PP_GUARD_RUN_NEVER) return 0;
    float mx = 0;
    for (int c = 0; c < PP_MAX_CATS; c++) if (s->scores[c] > mx) mx = s->scores[c];
    return mx >= low && mx <= high;
}

/* The policy's calibration of category id's probability, if it has one. */
static float calibrate(const pp_scan *s, int id, float p) {
    const parapet_policy *pol = s->policy;
    if (!pol || !pol->guard_cal_on[id]) return p;
    double q = p < 1e-6f ? 1e-6 : p > 1 - 1e-6f ? 1 - 1e-6 : p;
    double z = pol->guard_cal_a[id] * log(q / (1 - q)) + pol->guard_cal_b[id];
    return (float)(1 / (1 + exp(-z)));
}

static pp_status gd_scan(const void *self, pp_scan *s) {
    const guard_det *d = self;
    if (!d) return PARAPET_OK;
    if (!should_run(d, s)) {
        s->skipped |= 1u << PP_DET_GUARD;
        return PARAPET_OK;
    }
    const pp_view *v = &s->text->base;
    const char *text = v->s ? v->s : "";
    size_t len = v->n;
    if (len > GUARD_MAX_BYTES) {
        len = GUARD_MAX_BYTES;
        while (len && ((unsigned char)text[len] & 0xc0) == 0x80) len--;
    }
    pp_guard_result r;
    pp_status st = pp_guard_score_text(d->g, text, len, &r, NULL);
    if (st == PARAPET_ERR_NOMEM) return st;
    if (st) return PARAPET_OK;   /* the cheap tiers' verdict stands */
    /* per parapet category: the largest of the guard categories mapping to it */
    float best[PP_MAX_CATS] = {0};
    int src[PP_MAX_CATS];
    pp_guard_family f = pp_guard_family_of(d->g);
    for (size_t i = 0; i < r.n_cats; i++) {
        int ids[8];
        size_t n_ids = 0;
        if (i < d->n_native) {
            const char *names[8];
            size_t k = pp_guard_map_native(f, i, names, 8);
            for (size_t j = 0; j < k; j++) {
                int id = pp_category_id(names[j]);
                if (id >= 0) ids[n_ids++] = id;
            }
        } else {
            ids[n_ids++] = d->custom_id[i];
        }
        for (size_t j = 0; j < n_ids; j++)
            if ((float)r.p_cat[i] > best[ids[j]]) { best[ids[j]] = (float)r.p_cat[i]; src[ids[j]] = (int)i; }
    }
    for (int c = 0; c < PP_MAX_CATS; c++) {
        if (best[c] <= 0) continue;
        float p = calibrate(s, c, best[c]);
        if (p >= 0.01f) pp_scan_add(s, c, p, 0, 0, PP_DET_GUARD, 0, d->rule[src[c]], 0);
    }
    return s->oom ? PARAPET_ERR_NOMEM : PARAPET_OK;
}

const pp_detector_vt pp_guard_detector = {"guard", gd_open, gd_scan, gd_close};

void pp_guard_det_stats(const void *self, uint64_t *batches, uint64_t *requests, size_t *max_batch) {
    const guard_det *d = self;
    if (d && d->g) pp_guard_stats(d->g, batches, requests, max_batch);
}
