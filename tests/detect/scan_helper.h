/*
** scan_helper.h -- shared by the detector tests: normalize a text, run one detector on
** it, copy its hits out.  Header-only (static functions) so each test file keeps its
** own copy of the results.  Include after test.h.
*/
#ifndef PP_TEST_SCAN_HELPER_H
#define PP_TEST_SCAN_HELPER_H

#include "test.h"
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

/* A detector's fast skips against the byte loop they stand for (set_skips(0) turns them
** off): 3,000 texts glued from `piece` with a seeded generator, of every length up to
** 300 bytes (so every tail length after the last full block) and 100 long ones; both
** scans must report the same hits.  Fails the calling test through CHECK. */
static inline void pt_skips_match(const pp_detector_vt *vt, void (*set_skips)(int),
                                  const char *const *piece, size_t n_piece, uint32_t seed) {
    void *self = NULL;
    char *detail = NULL;
    CHECK_OK(vt->open(NULL, &self, &detail));
    pp_text t;
    pp_text_init(&t);
    pp_scan a, b;
    pp_scan_init(&a, NULL);
    pp_scan_init(&b, NULL);
    static char buf[8192];
    uint32_t rng = seed;
    for (int it = 0; it < 3000; it++) {
        size_t want = it < 2900 ? (size_t)(it % 300) : 4000 + (size_t)it, n = 0;
        while (n < want) {
            rng = rng * 1103515245u + 12345u;
            const char *p = piece[(rng >> 16) % n_piece];
            size_t k = strlen(p);
            if (n + k > want) k = want - n;
            memcpy(buf + n, p, k);
            n += k;
        }
        CHECK_OK(pp_text_normalize(&t, buf, n, PP_NORM_REPLACE_INVALID, NULL));
        pp_scan_reset(&a, &t);
        pp_scan_reset(&b, &t);
        CHECK_OK(vt->scan(self, &a));
        set_skips(0);
        pp_status st = vt->scan(self, &b);
        set_skips(1);
        CHECK_OK(st);
        CHECK_MSG(a.n_hits == b.n_hits, "text %d (%zu bytes): %zu hits with skips, %zu without",
                  it, n, a.n_hits, b.n_hits);
        for (size_t h = 0; h < a.n_hits && h < b.n_hits; h++) {
            CHECK_MSG(a.hits[h].start == b.hits[h].start && a.hits[h].end == b.hits[h].end &&
                      a.hits[h].kind == b.hits[h].kind && a.hits[h].rule == b.hits[h].rule &&
                      a.hits[h].score == b.hits[h].score,
                      "text %d hit %zu: [%u,%u) %s vs [%u,%u) %s", it, h, a.hits[h].start,
                      a.hits[h].end, a.hits[h].rule, b.hits[h].start, b.hits[h].end, b.hits[h].rule);
        }
    }
    pp_scan_free(&a);
    pp_scan_free(&b);
    pp_text_free(&t);
    vt->close(self);
}

#endif
