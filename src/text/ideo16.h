/*
** ideo16.h -- 16-byte kernel for runs of CJK ideographs (normalize.c).
**
** Chinese text is mostly CJK unified ideographs U+4E00..U+9FFF: three UTF-8 bytes
** each, a lead byte E5..E9, or E4 followed by B8..BF, then two continuation bytes.
** NFKC leaves every one of them alone, none joins the character before it, and
** folding leaves them alone too (K_IDEOGRAPH in normalize.c), so both views copy a
** run of them as it is.  The normalizer used to decode each of them on its way
** through each view; pp_ideo16_count says how many such characters lie back to
** back at the start of 16 bytes (0 to 5), so a run is taken a few characters at a
** time without decoding; pp_ideo16_scan also tells which of them repeat the one
** before them (a letter run, which the fold view collapses).  It reads exactly
** b[0..16); a character is counted only
** when all three of its bytes are in the block, so bytes past a text's end may be
** read (the caller's slack) but decide nothing unless they look like part of an
** ideograph: callers pass blocks that lie inside the text.
**
** The scalar reference (_ref) defines the kernel; the SSE2 version (_sse2; SSE2 is
** part of x86-64, so no run-time dispatch) must agree with it on every input, which
** tests/text/test_ideo16.c checks on random blocks.  Both are static inline: the
** loops call the kernel once per few characters.
*/
#ifndef PP_IDEO16_H
#define PP_IDEO16_H

#include <stdint.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Is p[0..3) one ideograph of U+4E00..U+9FFF? */
static inline int pp_ideo_at(const unsigned char *p) {
    int lead = (p[0] >= 0xE5 && p[0] <= 0xE9) || (p[0] == 0xE4 && p[1] >= 0xB8);
    return lead && (p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80;
}

/* Its code point (p[0..3) is one). */
static inline uint32_t pp_ideo_cp(const unsigned char *p) {
    return ((uint32_t)(p[0] & 0x0F) << 12) | ((uint32_t)(p[1] & 0x3F) << 6) | (p[2] & 0x3Fu);
}

static inline unsigned pp_ideo16_count_ref(const unsigned char *b) {
    unsigned c = 0;
    while (c < 5 && pp_ideo_at(b + 3 * c)) c++;
    return c;
}

/* The count, and in *same bit q (1 <= q < count) when character q is character
** q - 1 again. */
static inline unsigned pp_ideo16_scan_ref(const unsigned char *b, unsigned *same) {
    unsigned c = pp_ideo16_count_ref(b);
    *same = 0;
    for (unsigned q = 1; q < c; q++)
        if (b[3 * q] == b[3 * q - 3] && b[3 * q + 1] == b[3 * q - 2] && b[3 * q + 2] == b[3 * q - 1])
            *same |= 1u << q;
    return c;
}

#if defined(__SSE2__)

#if defined(__GNUC__)
#define PP_ID16_INLINE static inline __attribute__((always_inline))
#else
#define PP_ID16_INLINE static inline
#endif

/* 0xFF where lo <= x <= hi (unsigned bytes), via a signed compare after a shift. */
PP_ID16_INLINE __m128i pp_id16_range(__m128i x, unsigned char lo, unsigned char hi) {
    __m128i t = _mm_add_epi8(x, _mm_set1_epi8((char)(0x80 - lo)));
    return _mm_cmplt_epi8(t, _mm_set1_epi8((char)(0x80 + (hi - lo + 1))));
}

PP_ID16_INLINE unsigned pp_ideo16_count_sse2(const unsigned char *b) {
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)b);
    __m128i next = _mm_srli_si128(x, 1); /* byte k: b[k + 1] (0 in the last lane) */
    __m128i lead = _mm_or_si128(pp_id16_range(x, 0xE5, 0xE9),
                                _mm_and_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8((char)0xE4)),
                                              pp_id16_range(next, 0xB8, 0xBF)));
    __m128i cont = _mm_cmpeq_epi8(_mm_and_si128(x, _mm_set1_epi8((char)0xC0)),
                                  _mm_set1_epi8((char)0x80));
    unsigned l = (unsigned)_mm_movemask_epi8(lead), c = (unsigned)_mm_movemask_epi8(cont);
    /* bit 3j: character j (bytes 3j..3j+2) is an ideograph; bit 15 stops the count */
    unsigned miss = (~(l & (c >> 1) & (c >> 2)) & 0x1249u) | 0x8000u;
    return (unsigned)__builtin_ctz(miss) / 3;
}

PP_ID16_INLINE unsigned pp_ideo16_scan_sse2(const unsigned char *b, unsigned *same) {
    unsigned c = pp_ideo16_count_sse2(b);
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)b);
    /* byte k equal to byte k - 3: bit k; character q repeats q - 1 when its three are */
    unsigned e = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_slli_si128(x, 3)));
    unsigned rep = e & (e >> 1) & (e >> 2); /* bit 3q: bytes 3q..3q+2 */
    unsigned r = ((rep >> 3) & 1) << 1 | ((rep >> 6) & 1) << 2 | ((rep >> 9) & 1) << 3 |
                 ((rep >> 12) & 1) << 4;
    *same = r & ((1u << c) - 1);
    return c;
}

#define pp_ideo16_count pp_ideo16_count_sse2
#define pp_ideo16_scan pp_ideo16_scan_sse2
#else
#define pp_ideo16_count pp_ideo16_count_ref
#define pp_ideo16_scan pp_ideo16_scan_ref
#endif

#endif
