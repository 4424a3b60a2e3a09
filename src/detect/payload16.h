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
**                  control byte or a non-ASCII byte fails the test, so prose almost
**                  never passes);
**   pp_escape_lead the next '%' or '\', where an escape may start.
**
** Each returns an offset in [k, n] (n: none).  The scalar references (_ref) define
** them, eight bytes at a time as the finder did before; the SSE2 versions (_sse2;
** SSE2 is part of x86-64, so no run-time dispatch) take 16 and must agree with them on
** every input, which tests/detect/test_payload16.c checks on random texts.  Neither
** reads past s[n).
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
#define pp_escape_lead pp_escape_lead_sse2
#else
#define pp_b64_block pp_b64_block_ref
#define pp_escape_lead pp_escape_lead_ref
#endif

#endif
