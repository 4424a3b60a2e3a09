/*
** scan_helper.h -- shared by the detector tests: normalize a text, run one detector on
** it, copy its hits out.  Header-only (static functions) so each test file keeps its
** own copy of the results.
*/
#ifndef PP_TEST_SCAN_HELPER_H
#define PP_TEST_SCAN_HELPER_H

#include "detect/detector.h"
#include <string.h>

/* Normalizes txt and scans it with detector vt; copies at most max hits into hits and,
** when score_cat >= 0, that category's accumulated score into *score.  Returns the
** number of hits copied, or -1 on an error. */
static int pt_detector_scan(const pp_detector_vt *vt, const char *txt, pp_hit *hits, int max,
                            int score_cat, float *score) {
    pp_text t;
    pp_scan s;
    void *self = NULL;
    char *detail = NULL;
    int n = -1;
    pp_text_init(&t);
    if (pp_text_normalize(&t, txt, strlen(txt), PP_NORM_REPLACE_INVALID, NULL) != PARAPET_OK) goto out;
    if (vt->open(NULL, &self, &detail) != PARAPET_OK) goto out;
    pp_scan_init(&s, &t);
    if (vt->scan(self, &s) == PARAPET_OK) {
        n = 0;
        for (size_t i = 0; i < s.n_hits && n < max; i++) hits[n++] = s.hits[i];
        if (score_cat >= 0 && score) *score = s.scores[score_cat];
    }
    pp_scan_free(&s);
    vt->close(self);
out:
    pp_text_free(&t);
    return n;
}

#endif
