/*
** fuzz_normalize.c -- libFuzzer target for the normalizer (src/text/normalize.c).
**
** Feeds arbitrary bytes to pp_text_normalize in replace mode (invalid UTF-8 becomes
** U+FFFD, so every input must succeed) and checks the contract of text.h on both
** views: valid UTF-8, NUL-terminated, every byte's source span non-empty and inside
** the input, maps non-decreasing, run lengths >= 1.  It also checks that the fast
** paths (non-ASCII characters copied or folded from tables, ASCII tokens folded
** inline) agree with the general path (utf8proc per cluster, the unit pipeline) byte
** for byte in both views, maps and tag payload included, that strict mode fails
** exactly where pp_utf8_validate says, and that pattern folding matches the text fold.
** Any violation aborts.  Build and run with `make fuzz`.
*/
#include "text/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fail(const char *what, size_t at) {
    fprintf(stderr, "fuzz_normalize: %s (at %zu)\n", what, at);
    abort();
}

static void check_view(const pp_view *v, size_t n, int fold) {
    if (v->s[v->n] != 0) fail("view not NUL-terminated", v->n);
    size_t bad = pp_utf8_validate(v->s, v->n);
    if (bad != v->n) fail("view is not valid UTF-8", bad);
    for (size_t i = 0; i < v->n; i++) {
        if (v->src_start[i] >= v->src_end[i]) fail("empty source span", i);
        if (v->src_end[i] > n) fail("span past the input", i);
        if (i && v->src_start[i] < v->src_start[i - 1]) fail("src_start decreases", i);
        if (i && v->src_end[i] < v->src_end[i - 1]) fail("src_end decreases", i);
        if (fold && v->run[i] == 0) fail("run of 0", i);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static pp_text t, slow; /* reused across inputs, as a real caller would */
    const char *s = (const char *)data;
    if (pp_text_normalize(&t, s, size, PP_NORM_REPLACE_INVALID, NULL) != PARAPET_OK)
        fail("replace mode failed", 0);
    check_view(&t.base, size, 0);
    check_view(&t.fold, size, 1);
    for (size_t i = 0; i < t.tag_len; i++)
        if (t.tag_src[i] >= size) fail("tag source out of range", i);

    if (pp_text_normalize(&slow, s, size, PP_NORM_REPLACE_INVALID | PP_NORM_SLOW_FOLD_,
                          NULL) != PARAPET_OK)
        fail("slow fold failed", 0);
    if (slow.fold.n != t.fold.n || memcmp(slow.fold.s, t.fold.s, t.fold.n) ||
        slow.signals != t.signals)
        fail("fast and slow fold differ", 0);
    for (size_t i = 0; i < t.fold.n; i++)
        if (slow.fold.src_start[i] != t.fold.src_start[i] ||
            slow.fold.src_end[i] != t.fold.src_end[i] || slow.fold.xf[i] != t.fold.xf[i] ||
            slow.fold.run[i] != t.fold.run[i])
            fail("fast and slow fold maps differ", i);
    if (slow.base.n != t.base.n || memcmp(slow.base.s, t.base.s, t.base.n))
        fail("fast and slow base differ", 0);
    for (size_t i = 0; i < t.base.n; i++)
        if (slow.base.src_start[i] != t.base.src_start[i] ||
            slow.base.src_end[i] != t.base.src_end[i] || slow.base.xf[i] != t.base.xf[i])
            fail("fast and slow base maps differ", i);
    if (slow.tag_len != t.tag_len ||
        (t.tag_len && memcmp(slow.tag_payload, t.tag_payload, t.tag_len)))
        fail("fast and slow tag payloads differ", 0);

    size_t bad = 0, v = pp_utf8_validate(s, size);
    pp_status st = pp_text_normalize(&slow, s, size, 0, &bad);
    if (v == size ? st != PARAPET_OK : (st != PARAPET_ERR_UTF8 || bad != v))
        fail("strict mode disagrees with the validator", v);

    if (v == size && size < 256) {
        char *out;
        size_t n;
        uint8_t *runs;
        if (pp_fold_pattern(s, size, &out, &n, &runs) != PARAPET_OK) fail("pattern", 0);
        if (n != t.fold.n || memcmp(out, t.fold.s, n) || memcmp(runs, t.fold.run, n))
            fail("pattern fold differs from text fold", 0);
        pp_free(out);
        pp_free(runs);
    }
    return 0;
}
