/*
** api.c -- the public face of the classifier (parapet_classifier_*): open a model
** file or the embedded default, list its labels, predict calibrated probabilities.
** A thin layer over model.c; normalization is the same as the pipeline's, so a
** probability here equals what the classifier detector reports for the same text
** (when the text fits in one pipeline window).
*/
#include "classify.h"
#include <string.h>

struct parapet_classifier {
    pp_cls_model *m;
};

parapet_status parapet_classifier_open(const char *path, parapet_classifier **out,
                                       char **detail) {
    if (detail) *detail = NULL;
    if (!out) return PARAPET_ERR_ARG;
    parapet_classifier *c = pp_calloc(1, sizeof *c);
    if (!c) return PARAPET_ERR_NOMEM;
    pp_status st = path ? pp_cls_open_file(path, &c->m, detail) : pp_cls_open_default(&c->m, detail);
    if (st) {
        if (st == PARAPET_ERR_NOT_FOUND && !path && detail && !*detail)
            *detail = pp_asprintf("this build has no embedded classifier model (models/default.ppm)");
        pp_free(c);
        return st;
    }
    *out = c;
    return PARAPET_OK;
}

void parapet_classifier_close(parapet_classifier *c) {
    if (!c) return;
    pp_cls_close(c->m);
    pp_free(c);
}

size_t parapet_classifier_label_count(const parapet_classifier *c) {
    return c ? c->m->n_labels : 0;
}

parapet_status parapet_classifier_label(const parapet_classifier *c, size_t i,
                                        parapet_label_info *out) {
    if (!c || !out || i >= c->m->n_labels) return PARAPET_ERR_ARG;
    const pp_cls_label *L = &c->m->labels[i];
    out->name = L->name;
    out->category = L->category;
    out->threshold = L->threshold;
    out->emitted = (L->flags & PP_CLS_EMIT) != 0;
    out->n_pos = L->n_pos;
    out->n_neg = L->n_neg;
    return PARAPET_OK;
}

const char *parapet_classifier_hash(const parapet_classifier *c) {
    return c ? c->m->sha256 : "";
}

parapet_status parapet_classifier_predict(const parapet_classifier *c, const char *text,
                                          size_t len, double *probs, size_t n) {
    if (!c || !probs || n < c->m->n_labels || (!text && len)) return PARAPET_ERR_ARG;
    pp_text t;
    pp_text_init(&t);
    pp_status st = pp_text_normalize(&t, text ? text : "", len, PP_NORM_REPLACE_INVALID, NULL);
    if (!st) {
        float p[PP_CLS_MAX_LABELS];
        pp_cls_predict(c->m, t.fold.s, t.fold.n, p);
        for (unsigned l = 0; l < c->m->n_labels; l++) probs[l] = p[l];
    }
    pp_text_free(&t);
    return st;
}
