/*
** payload16.h -- the skips that keep pp_find_payloads (payload.c) cheap on text
** without payloads, 16 bytes at a time.
**
** Ordinary text has no base64 and no escapes, and the finder proves it in two
** passes over the base view:
**
**   pp_b64_block   the next aligned 8-byte block (offset a multiple of 8) whose bytes
**                  all lie in '+'..'z' (0x2B..0x7A), where a run of base64 digits may
**                  be (every run of >= 16 digits holds such a block; a space, a
**                  control byte or a non-ASCII byte fails the test, so prose seldom
**                  passes: a word of eight letters or more, at the right place);
**   pp_b64_run16   the end of the first 16 bytes in a row that are all base64 digits
**                  (A-Z a-z 0-9 + / - _), asked around such a block: a payload is a
**                  run of at least 16, and prose almost never has one;
**   pp_escape_lead the next '%' or '\', where an escape may start.
**
** pp_b64_block and pp_escape_lead return an offset in [k, n] (n: none), pp_b64_run16
** one in [k + 16, n] (0: none).  The scalar references (_ref) define them; the SSE2
** versions (_sse2; SSE2 is part of x86-64, so no run-time dispatch) take 16 bytes at a
** time and must agree with them on every input, which tests/detect/test_payload16.c
** checks on random texts.  None reads past s[n).
*/
#ifndef PP_PAYLOAD16_H
#define PP_PAYLOAD16_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define PP_P16_ONES 0x0101010101010101ull
#define PP_P16_HIGHS 0x8080808080808080ull

/* Do all 8 bytes of x lie in 0x2B..0x7A? */
static inline int pp_b64_maybe8(uint64_t x) {
    uint64_t below = (x - PP_P16_ONES * 0x2B) & ~x & PP_P16_HIGHS;            /* a byte < 0x2B */
    uint64_t above = ((x + PP_P16_ONES * (127 - 0x7A)) | x) & PP_P16_HIGHS;   /* a byte > 0x7A */
    return !(below | above);
}

/* The first block at an offset k' >= k, k' a multiple of 8 (k is one), with
** k' + 8 <= n and all its bytes in 0x2B..0x7A; n if there is none. */
static inline size_t pp_b64_block_ref(const unsigned char *s, size_t k, size_t n) {
    for (; k + 8 <= n; k += 8) {
        uint64_t x;
        memcpy(&x, s + k, 8); /* byte order does not matter: the test is per byte */
        if (pp_b64_maybe8(x)) return k;
    }
    return n;
}

/* Is c a base64 digit of either alphabet (A-Z a-z 0-9 + / - _)? */
static inline int pp_b64_digit(unsigned c) {
    return (c | 0x20) - 'a' < 26u || c - '0' < 10u || c == '+' || c == '/' || c == '-' || c == '_';
}

/* The smallest e with k + 16 <= e <= n and s[e-16..e) all base64 digits, or 0. */
static inline size_t pp_b64_run16_ref(const unsigned char *s, size_t k, size_t n) {
    for (size_t run = 0; k < n; k++) {
        run = pp_b64_digit(s[k]) ? run + 1 : 0;
        if (run == 16) return k + 1;
    }
    return 0;
}

/* The first i' >= i with s[i'] '%' or '\\', or n. */
static inline size_t pp_escape_lead_ref(const unsigned char *s, size_t i, size_t n) {
    for (; i + 8 <= n; i += 8) {
        uint64_t x, p, q;
        memcpy(&x, s + i, 8);
        p = x ^ (PP_P16_ONES * '%');
        q = x ^ (PP_P16_ONES * '\\');
        if (((p - PP_P16_ONES) & ~p & PP_P16_HIGHS) | ((q - PP_P16_ONES) & ~q & PP_P16_HIGHS))
            break;
    }
    while (i < n && s[i] != '%' && s[i] != '\\') i++;
    return i;
}

#if defined(__SSE2__)

static inline size_t pp_b64_block_sse2(const unsigned char *s, size_t k, size_t n) {
    const __m128i shift = _mm_set1_epi8((char)(0x80 - 0x2B)),
                  lim = _mm_set1_epi8((char)(0x80 + (0x7A - 0x2B + 1)));
    for (; k + 16 <= n; k += 16) {
        __m128i x = _mm_add_epi8(_mm_loadu_si128((const __m128i *)(const void *)(s + k)), shift);
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmplt_epi8(x, lim)); /* bit: in range */
        if ((m & 0xFF) == 0xFF) return k;
        if ((m >> 8) == 0xFF) return k + 8;
    }
    return pp_b64_block_ref(s, k, n);
}

/* The 16-bit mask of the base64 digits among the 16 bytes at s. */
static inline unsigned pp_b64_mask16(const unsigned char *s) {
    const __m128i x = _mm_loadu_si128((const __m128i *)(const void *)s);
    const __m128i lo = _mm_or_si128(x, _mm_set1_epi8(0x20)); /* A-Z to a-z */
    __m128i t = _mm_add_epi8(lo, _mm_set1_epi8((char)(0x80 - 'a')));
    __m128i d = _mm_cmplt_epi8(t, _mm_set1_epi8((char)(0x80 + 26)));         /* letters */
    t = _mm_add_epi8(x, _mm_set1_epi8((char)(0x80 - '0')));
    d = _mm_or_si128(d, _mm_cmplt_epi8(t, _mm_set1_epi8((char)(0x80 + 10)))); /* digits */
    d = _mm_or_si128(d, _mm_cmpeq_epi8(x, _mm_set1_epi8('+')));
    d = _mm_or_si128(d, _mm_cmpeq_epi8(x, _mm_set1_epi8('/')));
    d = _mm_or_si128(d, _mm_cmpeq_epi8(x, _mm_set1_epi8('-')));
    d = _mm_or_si128(d, _mm_cmpeq_epi8(x, _mm_set1_epi8('_')));
    return (unsigned)_mm_movemask_epi8(d);
}

/* The 16-bit mask of the bytes in '+'..'z' (a superset of the digits: two
** instructions where the digits take a dozen). */
static inline unsigned pp_b64_range16(const unsigned char *s) {
    __m128i x = _mm_add_epi8(_mm_loadu_si128((const __m128i *)(const void *)s),
                             _mm_set1_epi8((char)(0x80 - '+')));
    __m128i in = _mm_cmplt_epi8(x, _mm_set1_epi8((char)(0x80 + 'z' - '+' + 1)));
    return (unsigned)_mm_movemask_epi8(in);
}

/* Bit i of the result: bits i..i+15 of m are all set. */
static inline uint32_t pp_b64_ones16(uint32_t m) {
    uint32_t r = m & (m >> 1);
    r &= r >> 2;
    r &= r >> 4;
    return r & (r >> 8);
}

/* 16 bytes at a time: with the previous block's mask below the current one's, bit i
** of pp_b64_ones16 says the 16 bytes from bit i on are all digits; those ending in
** the current block are bits 1..16 (bit 0 ended in the previous one).  The cheap
** range masks are tried first; only 16 bytes in a row in range take the digit masks. */
static inline size_t pp_b64_run16_sse2(const unsigned char *s, size_t k, size_t n) {
    uint32_t prev_range = 0; /* the previous block's range mask (0 before k) */
    size_t i = k;
    for (; i + 16 <= n; i += 16) {
        uint32_t range = pp_b64_range16(s + i);
        if (pp_b64_ones16(prev_range | range << 16) & 0x1FFFEu) {
            uint32_t m = (i > k ? pp_b64_mask16(s + i - 16) : 0) | pp_b64_mask16(s + i) << 16;
            uint32_t r = pp_b64_ones16(m) & 0x1FFFEu;
            if (r) return i + (size_t)__builtin_ctz(r);
        }
        prev_range = range;
    }
    /* the rest byte by byte, from the digits in a row at the end of the last block */
    size_t run = i > k ? (size_t)__builtin_clz(~(pp_b64_mask16(s + i - 16) << 16)) : 0;
    if (run + (n - i) < 16) return 0; /* too few bytes left (a short text's tail) */
    for (; i < n; i++) {
        run = pp_b64_digit(s[i]) ? run + 1 : 0;
        if (run >= 16) return i + 1;
    }
    return 0;
}

static inline size_t pp_escape_lead_sse2(const unsigned char *s, size_t i, size_t n) {
    const __m128i pct = _mm_set1_epi8('%'), bsl = _mm_set1_epi8('\\');
    for (; i + 16 <= n; i += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        unsigned m = (unsigned)_mm_movemask_epi8(
            _mm_or_si128(_mm_cmpeq_epi8(x, pct), _mm_cmpeq_epi8(x, bsl)));
        if (m) return i + (size_t)__builtin_ctz(m);
    }
    return pp_escape_lead_ref(s, i, n);
}

#define pp_b64_block pp_b64_block_sse2
#define pp_b64_run16 pp_b64_run16_sse2
#define pp_escape_lead pp_escape_lead_sse2
#else
#define pp_b64_block pp_b64_block_ref
#define pp_b64_run16 pp_b64_run16_ref
#define pp_escape_lead pp_escape_lead_ref
#endif

#endif
