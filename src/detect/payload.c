/*
** payload.c -- finds and decodes text smuggled inside a text (see payload.h).
**
** Everything here is a linear scan with no backtracking: each iterator walks the
** input once, finds a maximal run of its alphabet, decodes it into the caller's
** buffer and checks that the result reads as text.  Inputs are untrusted, so every
** decode is bounded by the caller's capacity and invalid sequences simply end a run.
**
** Layout: small character-class helpers; the "is this text?" test; one iterator per
** encoding; pp_find_payloads, the allocating collector used by the pipeline, with
** its fast rejection of texts that hold no payload (nearly all of them).
*/
#include "payload.h"
#include "payload16.h"
#include <stdlib.h>
#include <string.h>

const char *pp_payload_kind_name(int kind) {
    static const char *const names[PP_PAYLOAD_KIND_COUNT] = {"tag_chars", "base64",
                                                             "percent", "escape"};
    return kind >= 0 && kind < PP_PAYLOAD_KIND_COUNT ? names[kind] : "unknown";
}

/* ------------------------------------------------------------------ helpers */

/* Value of each byte as a base64 digit (either alphabet), or -1.  A table, since
** every byte of every text passes through it. */
static const signed char b64_tab[256] = {
#define B64_ROW_NONE -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1
    B64_ROW_NONE, B64_ROW_NONE,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, 62, -1, 63,         /* + - / */
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1,        /* 0-9 */
    -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,                   /* A-O */
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, 63,        /* P-Z _ */
    -1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,        /* a-o */
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,        /* p-z */
    B64_ROW_NONE, B64_ROW_NONE, B64_ROW_NONE, B64_ROW_NONE,
    B64_ROW_NONE, B64_ROW_NONE, B64_ROW_NONE, B64_ROW_NONE,
#undef B64_ROW_NONE
};
#define b64_val(c) b64_tab[(unsigned char)(c)]

static int hex_val(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Writes byte c at position *k of dec if it fits; always counts it. */
static void put_byte(char *dec, size_t cap, size_t *k, unsigned char c) {
    if (*k < cap) dec[*k] = (char)c;
    (*k)++;
}

int pp_payload_is_text(const char *dec, size_t n, int truncated) {
    if (n < 8) return 0;
    size_t i = 0, total = 0, printable = 0;
    while (i < n) {
        unsigned char c = (unsigned char)dec[i];
        if (c < 0x80) {
            total++;
            if ((c >= 0x20 && c < 0x7F) || c == '\t' || c == '\n' || c == '\r') printable++;
            i++;
            continue;
        }
        uint32_t cp;
        size_t k = pp_utf8_decode(dec + i, n - i, &cp);
        if (!k) {
            /* A sequence cut by the end of a truncated buffer is not evidence of
            ** binary data; anything else is. */
            if (truncated && n - i < 4) break;
            return 0;
        }
        total++;
        if (cp >= 0xA0 && cp != 0xFFFD && !(cp >= 0xE000 && cp <= 0xF8FF)) printable++;
        i += k;
    }
    return total > 0 && printable * 100 >= total * 85;
}

/* ------------------------------------------------------------- tag characters */

/* Tag characters are U+E0000..U+E007F, UTF-8 F3 A0 80 80 .. F3 A0 81 BF.  Returns
** the code point's low 7 bits (0..127) if s[i..] starts with one, else -1. */
static int tag_at(const unsigned char *s, size_t n, size_t i) {
    if (i + 4 > n || s[i] != 0xF3 || s[i + 1] != 0xA0) return -1;
    if ((s[i + 2] != 0x80 && s[i + 2] != 0x81) || (s[i + 3] & 0xC0) != 0x80) return -1;
    return ((s[i + 2] & 0x01) << 6) | (s[i + 3] & 0x3F);
}

int pp_payload_next_tag(const char *s, size_t n, size_t *pos, size_t *a, size_t *b,
                        char *dec, size_t cap, size_t *dec_n, size_t *full_n) {
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = *pos; i + 4 <= n; i++) {
        if (u[i] != 0xF3 || tag_at(u, n, i) < 0) continue;
        size_t j = i, k = 0;
        int v;
        while ((v = tag_at(u, n, j)) >= 0) {
            if (v >= 0x20 && v <= 0x7E) put_byte(dec, cap, &k, (unsigned char)v);
            j += 4;
        }
        *a = i;
        *b = j;
        *pos = j;
        *dec_n = PP_MIN(k, cap);
        *full_n = k;
        return 1;
    }
    *pos = n;
    return 0;
}

/* -------------------------------------------------------------------- base64 */

/* Decodes the maximal run of alphabet characters that starts at u[i] (u[i] is in
** the alphabet and u[i-1], if any, is not).  Returns 1 if it is a payload, with its
** span (padding included) in [*a, *b); always sets *next to the first byte after
** the run and its padding. */
static int b64_run(const unsigned char *u, size_t n, size_t i, size_t *a, size_t *b,
                   size_t *next, char *dec, size_t cap, size_t *dec_n, size_t *full_n) {
    size_t j = i;
    while (j < n && b64_val(u[j]) >= 0) j++;
    size_t digits = j - i;
    size_t end = j;
    while (end < n && end - j < 2 && u[end] == '=') end++;
    *next = end;
    /* A run glued to other word characters (e.g. inside a non-ASCII word) is not a
    ** standalone encoding. */
    int glued = (i > 0 && u[i - 1] >= 0x80) || (end < n && u[end] >= 0x80);
    if (digits < 16 || glued) return 0;
    size_t use = digits - (digits % 4 == 1); /* a lone trailing digit is noise */
    size_t k = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t p = i; p < i + use; p++) {
        acc = (acc << 6) | (uint32_t)b64_val(u[p]);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            put_byte(dec, cap, &k, (unsigned char)(acc >> bits));
            acc &= (1u << bits) - 1;
        }
    }
    size_t kept = PP_MIN(k, cap);
    if (!pp_payload_is_text(dec, kept, k > cap)) return 0;
    *a = i;
    *b = end;
    *dec_n = kept;
    *full_n = k;
    return 1;
}

int pp_payload_next_base64(const char *s, size_t n, size_t *pos, size_t *a, size_t *b,
                           char *dec, size_t cap, size_t *dec_n, size_t *full_n) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = *pos;
    while (i < n) {
        if (b64_val(u[i]) < 0) { i++; continue; }
        size_t next;
        int ok = b64_run(u, n, i, a, b, &next, dec, cap, dec_n, full_n);
        i = next;
        if (ok) {
            *pos = i;
            return 1;
        }
    }
    *pos = n;
    return 0;
}

/* ------------------------------------------------------ percent and \ escapes */

/* Length of the escape at s[i] (3 for %XX, 4 for \xXX, 6 for \uXXXX) with its
** decoded code point in *cp and its kind in *kind, or 0 if there is none. */
static size_t escape_at(const unsigned char *s, size_t n, size_t i, uint32_t *cp, int *kind) {
    if (s[i] == '%' && i + 3 <= n && hex_val(s[i + 1]) >= 0 && hex_val(s[i + 2]) >= 0) {
        *cp = (uint32_t)(hex_val(s[i + 1]) << 4 | hex_val(s[i + 2]));
        *kind = PP_PAYLOAD_PERCENT;
        return 3;
    }
    if (s[i] != '\\' || i + 2 > n) return 0;
    if ((s[i + 1] == 'x' || s[i + 1] == 'X') && i + 4 <= n && hex_val(s[i + 2]) >= 0 &&
        hex_val(s[i + 3]) >= 0) {
        *cp = (uint32_t)(hex_val(s[i + 2]) << 4 | hex_val(s[i + 3]));
        *kind = PP_PAYLOAD_ESCAPE;
        return 4;
    }
    if (s[i + 1] == 'u' && i + 6 <= n) {
        uint32_t v = 0;
        for (int k = 2; k < 6; k++) {
            int h = hex_val(s[i + k]);
            if (h < 0) return 0;
            v = v << 4 | (uint32_t)h;
        }
        *cp = v;
        *kind = PP_PAYLOAD_ESCAPE;
        return 6;
    }
    return 0;
}

/* Offset of the first '%' or '\\' in s[i..n), or n: every escape starts with one, and
** prose has few, so the search goes 16 bytes at a time (payload16.h). */
static size_t next_escape_lead(const unsigned char *s, size_t i, size_t n) {
    return pp_escape_lead(s, i, n);
}

int pp_payload_next_escaped(const char *s, size_t n, size_t *pos, size_t *a, size_t *b,
                            char *dec, size_t cap, size_t *dec_n, size_t *full_n,
                            int *kind) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = *pos;
    while (i < n) {
        uint32_t cp;
        int k0;
        size_t len = escape_at(u, n, i, &cp, &k0);
        if (!len) {
            i = next_escape_lead(u, i + 1, n);
            continue;
        }
        /* The run: escapes of the first one's kind and literal printable non-space
        ** ASCII between them; it ends at whitespace, control bytes or non-ASCII. */
        size_t j = i, k = 0, n_esc = 0, last_end = i;
        while (j < n) {
            int kk;
            size_t l = escape_at(u, n, j, &cp, &kk);
            if (l && kk == k0) {
                if (cp < 0x80) {
                    put_byte(dec, cap, &k, (unsigned char)cp);
                } else { /* \uXXXX (or a %XX byte of a UTF-8 sequence: kept raw) */
                    if (k0 == PP_PAYLOAD_PERCENT) {
                        put_byte(dec, cap, &k, (unsigned char)cp);
                    } else {
                        char e[4];
                        size_t m = pp_utf8_encode(cp, e);
                        for (size_t q = 0; q < m; q++) put_byte(dec, cap, &k, (unsigned char)e[q]);
                    }
                }
                n_esc++;
                j += l;
                last_end = j;
            } else if (u[j] > 0x20 && u[j] < 0x7F) {
                put_byte(dec, cap, &k, u[j]);
                j++;
            } else {
                break;
            }
        }
        if (n_esc >= 4) {
            /* Literal characters after the last escape belong to the run too, but a
            ** trailing quote or bracket is the delimiter around it, not content. */
            size_t end = j;
            while (end > last_end && strchr("\"'`)]}>,;", u[end - 1])) end--;
            size_t trim = j - end;
            size_t full = k - trim;
            size_t kept = PP_MIN(full, cap);
            if (pp_payload_is_text(dec, kept, full > cap)) {
                *a = i;
                *b = end;
                *pos = j;
                *dec_n = kept;
                *full_n = full;
                *kind = k0;
                return 1;
            }
        }
        i = j > i ? j : i + 1;
    }
    *pos = n;
    return 0;
}

/* ----------------------------------------------------------- the collector */

typedef struct collector {
    pp_payload *p;
    size_t n, cap;
} collector;

/* Appends a payload whose decoded bytes are produced by `redo` into a heap buffer of
** exactly full_n bytes.  The iterators are deterministic, so re-running one from
** the run's start with a buffer large enough gives the whole decoding. */
static int collect(collector *c, pp_payload_kind kind, const char *s, size_t n, size_t a,
                   size_t full_n, uint32_t os, uint32_t oe) {
    if (PP_GROW(c->p, c->cap, c->n + 1)) return -1;
    size_t cap = PP_MAX(full_n, (size_t)64);
    char *buf = pp_malloc(cap + 1);
    if (!buf) return -1;
    size_t pos = a, ra, rb, dn = 0, fn = 0;
    int kk = 0, ok = 0;
    switch (kind) {
    case PP_PAYLOAD_TAG: ok = pp_payload_next_tag(s, n, &pos, &ra, &rb, buf, cap, &dn, &fn); break;
    case PP_PAYLOAD_BASE64: {
        size_t next;
        ok = b64_run((const unsigned char *)s, n, a, &ra, &rb, &next, buf, cap, &dn, &fn);
        break;
    }
    default: ok = pp_payload_next_escaped(s, n, &pos, &ra, &rb, buf, cap, &dn, &fn, &kk); break;
    }
    if (!ok || ra != a) { /* cannot happen: the same scan found it a moment ago */
        pp_free(buf);
        return 0;
    }
    if (kind == PP_PAYLOAD_BASE64 && !pp_payload_is_text(buf, dn, 0)) { /* prefix looked like text, whole did not */
        pp_free(buf);
        return 0;
    }
    buf[dn] = 0;
    pp_payload *p = &c->p[c->n++];
    p->kind = kind;
    p->data = buf;
    p->len = dn;
    p->start = os;
    p->end = oe;
    return 0;
}

static int by_start(const void *x, const void *y) {
    const pp_payload *a = x, *b = y;
    return a->start < b->start ? -1 : a->start > b->start;
}

void pp_payloads_free(pp_payload *p, size_t n) {
    if (!p) return;
    for (size_t i = 0; i < n; i++) pp_free(p[i].data);
    pp_free(p);
}

/* A payload is a run of >= 16 base64 digits, and every such run holds a whole
** aligned block of 8 bytes in '+'..'z'.  So only at such blocks (pp_b64_block,
** payload16.h) is it asked whether 16 digits in a row overlap the block
** (pp_b64_run16 on the 38 bytes around it: 15 before, 15 after), and only then is
** the run around them found and decoded.  A long word of prose passes the first
** test and fails the second. */
static int find_base64(collector *c, const pp_view *v, char *tmp, size_t tmp_cap) {
    const unsigned char *u = (const unsigned char *)v->s;
    size_t nv = v->n;
    for (size_t k = pp_b64_block(u, 0, nv); k + 8 <= nv; k = pp_b64_block(u, k + 8, nv)) {
        size_t e = pp_b64_run16(u, k >= 15 ? k - 15 : 0, PP_MIN(nv, k + 23));
        if (!e) continue;
        size_t i = e - 16;
        while (i > 0 && b64_val(u[i - 1]) >= 0) i--;
        size_t a, b, next, dn, fn;
        if (b64_run(u, nv, i, &a, &b, &next, tmp, tmp_cap, &dn, &fn)) {
            size_t os, oe;
            pp_view_span(v, a, b, &os, &oe);
            if (collect(c, PP_PAYLOAD_BASE64, v->s, nv, a, fn, (uint32_t)os, (uint32_t)oe))
                return -1;
        }
        /* Go on after the run: the block holding `next` is not all digits. */
        if (next > k) k = next / 8 * 8;
    }
    return 0;
}

pp_status pp_find_payloads(const pp_text *t, pp_payload **out, size_t *n) {
    *out = NULL;
    *n = 0;
    collector c = {0};
    char tmp[256];
    size_t pos, a, b, dn, fn;
    int kind;

    /* Tag characters: in the original bytes, which keep them.  The normalizer has
    ** said whether there are any. */
    pos = 0;
    while (t->orig && (t->signals & PP_SIG_TAG_CHARS) &&
           pp_payload_next_tag(t->orig, t->orig_len, &pos, &a, &b, tmp, sizeof tmp, &dn, &fn)) {
        if (fn == 0) continue;
        if (collect(&c, PP_PAYLOAD_TAG, t->orig, t->orig_len, a, fn, (uint32_t)a,
                    (uint32_t)b)) goto nomem;
    }

    /* Encodings spelled in visible characters: in the base view. */
    const pp_view *v = &t->base;
    if (v->n && find_base64(&c, v, tmp, sizeof tmp)) goto nomem;

    /* Escapes need a '%' or a '\\'; the scan starts at the first one. */
    pos = v->n ? next_escape_lead((const unsigned char *)v->s, 0, v->n) : 0;
    while (pos < v->n && pp_payload_next_escaped(v->s, v->n, &pos, &a, &b, tmp, sizeof tmp, &dn,
                                                 &fn, &kind)) {
        size_t os, oe;
        pp_view_span(v, a, b, &os, &oe);
        if (collect(&c, (pp_payload_kind)kind, v->s, v->n, a, fn, (uint32_t)os, (uint32_t)oe))
            goto nomem;
    }

    if (c.n > 1) qsort(c.p, c.n, sizeof *c.p, by_start);
    *out = c.p;
    *n = c.n;
    return PARAPET_OK;
nomem:
    pp_payloads_free(c.p, c.n);
    return PARAPET_ERR_NOMEM;
}
