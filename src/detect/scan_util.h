/*
** scan_util.h -- small helpers shared by the pattern detectors (pii.c, secrets.c).
**
** Both detectors scan the BASE view of a pp_text (NFKC, invisibles removed, case
** kept) with hand-written, trigger-based scanners and report spans mapped back to
** the caller's original text.  What they share is here: ASCII character classes
** (locale-independent, so a byte >= 0x80 is never a digit or a letter), a bounded
** look-behind for context words ("phone", "ssn", "aws"), and the one call that maps
** a view span to the original and records it.  Everything is static inline; the
** header owns no state.
*/
#ifndef PP_SCAN_UTIL_H
#define PP_SCAN_UTIL_H

#include "detector.h"
#include <string.h>

static inline int pp_su_digit(unsigned char c) { return (unsigned)(c - '0') < 10u; }
static inline int pp_su_upper(unsigned char c) { return (unsigned)(c - 'A') < 26u; }
static inline int pp_su_lower(unsigned char c) { return (unsigned)(c - 'a') < 26u; }
static inline int pp_su_alpha(unsigned char c) { return (unsigned char)((c | 0x20) - 'a') < 26u; }
static inline int pp_su_alnum(unsigned char c) { return pp_su_digit(c) || pp_su_alpha(c); }
/* A "word" byte for boundary tests: ASCII letter, digit or '_'. */
static inline int pp_su_word(unsigned char c) { return pp_su_alnum(c) || c == '_'; }
static inline int pp_su_hex(unsigned char c) {
    return pp_su_digit(c) || (unsigned char)((c | 0x20) - 'a') < 6u;
}
static inline unsigned char pp_su_lc(unsigned char c) { return pp_su_upper(c) ? c | 0x20 : c; }

/* Does any of `words` (lowercase ASCII, NULL-terminated list) occur, ASCII
** case-insensitively, in s[pos-back .. pos)?  `back` is capped at 63 bytes; the
** window is copied to the stack, so this costs one short copy and a few strstr. */
static inline int pp_su_context_before(const char *s, size_t pos, size_t back,
                                       const char *const *words) {
    char w[64];
    if (back > sizeof w - 1) back = sizeof w - 1;
    size_t a = pos > back ? pos - back : 0, k = 0;
    for (size_t i = a; i < pos; i++) w[k++] = (char)pp_su_lc((unsigned char)s[i]);
    w[k] = 0;
    for (; *words; words++)
        if (strstr(w, *words)) return 1;
    return 0;
}

/* Case-insensitive ASCII prefix test: does s[0..n) start with lowercase `lit`? */
static inline int pp_su_iprefix(const char *s, size_t n, const char *lit) {
    size_t k = strlen(lit);
    if (k > n) return 0;
    for (size_t i = 0; i < k; i++)
        if (pp_su_lc((unsigned char)s[i]) != (unsigned char)lit[i]) return 0;
    return 1;
}

/* Maps base-view span [a,b) (a < b) to the original text and records it. */
static inline void pp_su_report(pp_scan *s, int cat, float w, size_t a, size_t b,
                                int det, int kind, const char *rule) {
    const pp_view *v = &s->text->base;
    size_t os, oe;
    pp_view_span(v, a, b, &os, &oe);
    pp_scan_add(s, cat, w, os, oe, det, kind, rule, pp_view_xf(v, a, b));
}

#endif
