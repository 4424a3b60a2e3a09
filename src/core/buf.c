/*
** buf.c -- growable byte buffers and the JSON string writer used by every
** serializer in the library (results, policy dumps, reports).
*/
#include "core.h"
#include <stdio.h>
#include <string.h>
#include <math.h>

void pp_buf_init(pp_buf *b) { memset(b, 0, sizeof *b); }

void pp_buf_free(pp_buf *b) {
    pp_free(b->p);
    memset(b, 0, sizeof *b);
}

int pp_buf_reserve(pp_buf *b, size_t extra) {
    if (b->oom) return -1;
    if (extra > SIZE_MAX - b->len - 1) { b->oom = 1; return -1; }
    size_t need = b->len + extra + 1;
    if (need <= b->cap) return 0;
    size_t nc = b->cap ? b->cap : 64;
    while (nc < need) nc = nc > SIZE_MAX / 2 ? need : nc * 2;
    char *p = pp_realloc(b->p, nc);
    if (!p) { b->oom = 1; return -1; }
    b->p = p;
    b->cap = nc;
    return 0;
}

void pp_buf_put(pp_buf *b, const void *s, size_t n) {
    if (pp_buf_reserve(b, n)) return;
    if (n) memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

void pp_buf_puts(pp_buf *b, const char *s) { pp_buf_put(b, s, strlen(s)); }

void pp_buf_putc(pp_buf *b, char c) {
    if (pp_buf_reserve(b, 1)) return;
    b->p[b->len++] = c;
    b->p[b->len] = 0;
}

void pp_buf_printf(pp_buf *b, const char *fmt, ...) {
    va_list ap;
    char tmp[256];
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof tmp) { pp_buf_put(b, tmp, (size_t)n); return; }
    if (pp_buf_reserve(b, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* Length of a valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n) {
    unsigned c = s[0];
    if (c < 0x80) return 1;
    if (c < 0xC2) return 0;
    if (c < 0xE0) return (n >= 2 && (s[1] & 0xC0) == 0x80) ? 2 : 0;
    if (c < 0xF0) {
        if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80) return 0;
        if (c == 0xE0 && s[1] < 0xA0) return 0;
        if (c == 0xED && s[1] >= 0xA0) return 0; /* surrogates */
        return 3;
    }
    if (c < 0xF5) {
        if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 ||
            (s[3] & 0xC0) != 0x80) return 0;
        if (c == 0xF0 && s[1] < 0x90) return 0;
        if (c == 0xF4 && s[1] >= 0x90) return 0;
        return 4;
    }
    return 0;
}

void pp_buf_json_str(pp_buf *b, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    if (pp_buf_reserve(b, n + 8)) return;
    while (i < n) {
        /* Copy the longest run that needs no escaping in one go. */
        size_t j = i;
        while (j < n && p[j] >= 0x20 && p[j] < 0x80 && p[j] != '"' && p[j] != '\\') j++;
        if (j > i) { pp_buf_put(b, p + i, j - i); i = j; if (i >= n) break; }
        unsigned c = p[i];
        if (c >= 0x80) {
            size_t k = utf8_seq(p + i, n - i);
            if (k) pp_buf_put(b, p + i, k), i += k;
            else pp_buf_put(b, "\xEF\xBF\xBD", 3), i++;
            continue;
        }
        switch (c) {
        case '"': pp_buf_put(b, "\\\"", 2); break;
        case '\\': pp_buf_put(b, "\\\\", 2); break;
        case '\n': pp_buf_put(b, "\\n", 2); break;
        case '\r': pp_buf_put(b, "\\r", 2); break;
        case '\t': pp_buf_put(b, "\\t", 2); break;
        default: {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            pp_buf_put(b, e, 6);
        }
        }
        i++;
    }
}

void pp_buf_json_num(pp_buf *b, double v) {
    if (!isfinite(v)) { pp_buf_puts(b, "0"); return; }
    char tmp[40];
    int n = snprintf(tmp, sizeof tmp, "%.6g", v);
    pp_buf_put(b, tmp, (size_t)n);
}

char *pp_buf_detach(pp_buf *b, size_t *len) {
    if (b->oom) { pp_buf_free(b); return NULL; }
    if (!b->p && pp_buf_reserve(b, 0)) return NULL;
    char *p = b->p;
    p[b->len] = 0;
    if (len) *len = b->len;
    memset(b, 0, sizeof *b);
    return p;
}
