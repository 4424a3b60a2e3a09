/*
** detector.c -- the classifier behind the shared detector interface.
**
** open() loads the model named by pp_detector_config.model_path (mmap'd, validated)
** or, when that is NULL, the embedded models/default.ppm; a build without an
** embedded model gets a detector that is simply absent (self = NULL, which the
** engine skips).  scan() computes the POLICY SCORE of every label the model marks
** as emitted (classify.h: the logit mapped so that 0.5 is reached only where the
** label is precise on mostly benign traffic, not the raw calibrated probability)
** and reports it against that label's policy category as document-level evidence:
** a zero-length span at 0, rule "classifier".  The pipeline can take it at face
** value in its noisy-OR; no further damping is needed.  Labels without a category
** ("unsafe") or with too little training data are not emitted.
**
** Scores below 0.01 are not reported: they would change no score (the
** noisy-OR of 0.01 is noise) and would only lengthen every result's evidence list.
*/
#include "classify.h"
#include "../detect/detector.h"

typedef struct cls_det {
    pp_cls_model *m;
    int cat[PP_CLS_MAX_LABELS]; /* category id per label, -1 when not emitted */
} cls_det;

static pp_status cls_open(const pp_detector_config *cfg, void **self, char **detail) {
    *self = NULL;
    pp_cls_model *m = NULL;
    const char *path = cfg ? cfg->model_path : NULL;
    pp_status st = path ? pp_cls_open_file(path, &m, detail) : pp_cls_open_default(&m, detail);
    if (st == PARAPET_ERR_NOT_FOUND && !path) return PARAPET_OK; /* no model built in */
    if (st) return st;
    cls_det *d = pp_calloc(1, sizeof *d);
    if (!d) { pp_cls_close(m); return PARAPET_ERR_NOMEM; }
    d->m = m;
    for (unsigned l = 0; l < m->n_labels; l++) {
        d->cat[l] = -1;
        if ((m->labels[l].flags & PP_CLS_EMIT) && m->labels[l].category[0])
            d->cat[l] = pp_category_id(m->labels[l].category);
    }
    *self = d;
    return PARAPET_OK;
}

static pp_status cls_scan(const void *self, pp_scan *s) {
    const cls_det *d = self;
    if (!d) return PARAPET_OK;
    const pp_view *v = &s->text->fold;
    float p[PP_CLS_MAX_LABELS];
    pp_cls_policy_scores(d->m, v->s ? v->s : "", v->n, p);
    for (unsigned l = 0; l < d->m->n_labels; l++)
        if (d->cat[l] >= 0 && p[l] >= 0.01f)
            pp_scan_add(s, d->cat[l], p[l], 0, 0, PP_DET_CLASSIFIER, 0, "classifier", 0);
    return s->oom ? PARAPET_ERR_NOMEM : PARAPET_OK;
}

static void cls_close(void *self) {
    cls_det *d = self;
    if (!d) return;
    pp_cls_close(d->m);
    pp_free(d);
}

const pp_detector_vt pp_classifier_detector = {"classifier", cls_open, cls_scan, cls_close};
