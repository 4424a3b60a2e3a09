/*
** normalize.c -- TEMPORARY minimal normalizer (identity base view, ASCII-lowercase
** fold view).  Being replaced by the full implementation described in text.h.
*/
#include "text.h"
#include <string.h>
#include <ctype.h>

const char *pp_signal_name(unsigned i) {
    static const char *n[PP_SIG_COUNT_] = {"invalid_utf8", "nul", "zero_width", "bidi_control",
        "tag_chars", "invisible", "confusable", "leet", "separator", "repeat",
        "mixed_script", "compat", "empty"};
    return i < PP_SIG_COUNT_ ? n[i] : "unknown";
}

void pp_text_init(pp_text *t) { memset(t, 0, sizeof *t); }

static void view_free(pp_view *v) {
    pp_free(v->s); pp_free(v->src_start); pp_free(v->src_end); pp_free(v->xf); pp_free(v->run);
    memset(v, 0, sizeof *v);
}

void pp_text_free(pp_text *t) {
    if (!t) return;
    view_free(&t->base); view_free(&t->fold);
    pp_free(t->tag_payload); pp_free(t->tag_src);
    memset(t, 0, sizeof *t);
}

static int view_reserve(pp_view *v, size_t n) {
    if (n + 1 <= v->cap) return 0;
    size_t c = n + 1;
    char *s = pp_realloc(v->s, c);
    if (s) v->s = s;
    uint32_t *a = pp_realloc(v->src_start, c * 4);
    if (a) v->src_start = a;
    uint32_t *b = pp_realloc(v->src_end, c * 4);
    if (b) v->src_end = b;
    uint16_t *x = pp_realloc(v->xf, c * 2);
    if (x) v->xf = x;
    uint8_t *r = pp_realloc(v->run, c);
    if (r) v->run = r;
    if (!s || !a || !b || !x || !r) return -1;
    v->cap = c;
    return 0;
}

pp_status pp_text_normalize(pp_text *t, const char *s, size_t n, unsigned flags,
                            size_t *bad_offset) {
    if (n >= 0xFFFFFFFFu) return PARAPET_ERR_TOO_LARGE;
    size_t bad = pp_utf8_validate(s, n);
    if (bad < n && !(flags & PP_NORM_REPLACE_INVALID)) {
        if (bad_offset) *bad_offset = bad;
        return PARAPET_ERR_UTF8;
    }
    t->orig = s; t->orig_len = n; t->signals = n ? 0 : PP_SIG_EMPTY; t->tag_len = 0;
    if (view_reserve(&t->base, n) || view_reserve(&t->fold, n)) return PARAPET_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        t->base.s[i] = s[i];
        t->fold.s[i] = (char)tolower((unsigned char)s[i]);
        t->base.src_start[i] = t->fold.src_start[i] = (uint32_t)i;
        t->base.src_end[i] = t->fold.src_end[i] = (uint32_t)i + 1;
        t->base.xf[i] = t->fold.xf[i] = 0;
        t->base.run[i] = t->fold.run[i] = 1;
    }
    t->base.s[n] = t->fold.s[n] = 0;
    t->base.n = t->fold.n = n;
    return PARAPET_OK;
}

unsigned pp_view_xf(const pp_view *v, size_t a, size_t b) {
    unsigned x = 0;
    for (size_t i = a; i < b && i < v->n; i++) x |= v->xf[i];
    return x;
}

pp_status pp_fold_pattern(const char *s, size_t n, char **out, size_t *out_n, uint8_t **runs) {
    char *o = pp_malloc(n + 1);
    uint8_t *r = runs ? pp_malloc(n + 1) : NULL;
    if (!o || (runs && !r)) { pp_free(o); pp_free(r); return PARAPET_ERR_NOMEM; }
    for (size_t i = 0; i < n; i++) { o[i] = (char)tolower((unsigned char)s[i]); if (r) r[i] = 1; }
    o[n] = 0;
    *out = o; *out_n = n;
    if (runs) *runs = r;
    return PARAPET_OK;
}

int pp_fold_is_word_byte(const char *s, size_t n, size_t i) {
    unsigned char c = (unsigned char)s[i];
    return isalnum(c) || c == '*' || c >= 0x80;
}

size_t pp_utf8_decode(const char *s, size_t n, uint32_t *cp) {
    const unsigned char *p = (const unsigned char *)s;
    if (!n) return 0;
    unsigned c = p[0];
    if (c < 0x80) { *cp = c; return 1; }
    if (c < 0xC2) return 0;
    if (c < 0xE0) {
        if (n < 2 || (p[1] & 0xC0) != 0x80) return 0;
        *cp = ((c & 0x1F) << 6) | (p[1] & 0x3F); return 2;
    }
    if (c < 0xF0) {
        if (n < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) return 0;
        if (c == 0xE0 && p[1] < 0xA0) return 0;
        if (c == 0xED && p[1] >= 0xA0) return 0;
        *cp = ((c & 0x0F) << 12) | ((p[1] & 0x3F) << 6) | (p[2] & 0x3F); return 3;
    }
    if (c < 0xF5) {
        if (n < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80) return 0;
        if (c == 0xF0 && p[1] < 0x90) return 0;
        if (c == 0xF4 && p[1] >= 0x90) return 0;
        *cp = ((c & 0x07) << 18) | ((p[1] & 0x3F) << 12) | ((p[2] & 0x3F) << 6) | (p[3] & 0x3F);
        return 4;
    }
    return 0;
}

size_t pp_utf8_encode(uint32_t cp, char o[4]) {
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) { o[0] = (char)(0xC0 | (cp >> 6)); o[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) { o[0] = (char)(0xE0 | (cp >> 12)); o[1] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[2] = (char)(0x80 | (cp & 0x3F)); return 3; }
    o[0] = (char)(0xF0 | (cp >> 18)); o[1] = (char)(0x80 | ((cp >> 12) & 0x3F)); o[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (char)(0x80 | (cp & 0x3F)); return 4;
}

size_t pp_utf8_validate(const char *s, size_t n) {
    size_t i = 0; uint32_t cp;
    while (i < n) {
        if ((unsigned char)s[i] < 0x80) { i++; continue; }
        size_t k = pp_utf8_decode(s + i, n - i, &cp);
        if (!k) return i;
        i += k;
    }
    return n;
}

size_t pp_utf8_count(const char *s, size_t n) {
    size_t i = 0, c = 0; uint32_t cp;
    while (i < n) { size_t k = pp_utf8_decode(s + i, n - i, &cp); i += k ? k : 1; c++; }
    return c;
}

pp_script pp_script_of(uint32_t cp) { (void)cp; return cp < 0x80 ? PP_SCRIPT_LATIN : PP_SCRIPT_OTHER; }
int pp_script_unspaced(pp_script s) { return s == PP_SCRIPT_HAN || s == PP_SCRIPT_HIRAGANA || s == PP_SCRIPT_KATAKANA || s == PP_SCRIPT_THAI; }
