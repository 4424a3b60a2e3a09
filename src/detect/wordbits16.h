/*
** wordbits16.h -- 16-byte kernel for the injection detector's block tokenizer
** (plain_tokenize in injection.c).
**
** The tokenizer reads a stretch of fold-view text as bitmaps, one bit per byte:
** word bytes (a-z, 0-9), sentence ends (. ! ? ; newline), soft breaks (, :), plus
** two "not plain" tests, capitals and bytes >= 0x80 (the caller looks at those one by
** one), and word bytes equal to the byte before them (a run of one character, which
** the word hash must collapse; `prev` is the byte before the block).
** pp_wordbits16_fill fills the six 16-bit masks for the 16 bytes at b; bit k is byte
** k.
**
** The scalar reference (_ref) defines the kernel; the SSE2 version (_sse2; SSE2 is
** part of x86-64, so no run-time dispatch) must agree with it on every input, which
** tests/detect/test_wordbits16.c checks on random blocks.  Both are static inline:
** the tokenizer calls the kernel once per 16 bytes.
*/
#ifndef PP_WORDBITS16_H
#define PP_WORDBITS16_H

#include <stdint.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

typedef struct pp_wordbits16 {
    uint32_t word, sent, soft, upper, high, rep;
} pp_wordbits16;

static inline void pp_wordbits16_ref(const unsigned char *b, unsigned prev, pp_wordbits16 *m) {
    m->word = m->sent = m->soft = m->upper = m->high = m->rep = 0;
    for (unsigned k = 0; k < 16; k++) {
        unsigned c = b[k], p = k ? b[k - 1] : prev;
        int word = (unsigned)(c - 'a') < 26u || (unsigned)(c - '0') < 10u;
        m->word |= (uint32_t)word << k;
        m->rep |= (uint32_t)(word && c == p) << k;
        m->sent |= (uint32_t)(c == '.' || c == '!' || c == '?' || c == ';' || c == '\n') << k;
        m->soft |= (uint32_t)(c == ',' || c == ':') << k;
        m->upper |= (uint32_t)((unsigned)(c - 'A') < 26u) << k;
        m->high |= (uint32_t)(c >= 0x80) << k;
    }
}

#if defined(__SSE2__)

#if defined(__GNUC__)
#define PP_WB16_INLINE static inline __attribute__((always_inline))
#else
#define PP_WB16_INLINE static inline
#endif

/* 0xFF where lo <= x <= hi (unsigned bytes). */
PP_WB16_INLINE __m128i pp_wb16_range(__m128i x, unsigned char lo, unsigned char hi) {
    __m128i t = _mm_add_epi8(x, _mm_set1_epi8((char)(0x80 - lo)));
    return _mm_cmplt_epi8(t, _mm_set1_epi8((char)(0x80 + (hi - lo + 1))));
}

PP_WB16_INLINE __m128i pp_wb16_eq(__m128i x, char c) {
    return _mm_cmpeq_epi8(x, _mm_set1_epi8(c));
}

PP_WB16_INLINE void pp_wordbits16_sse2(const unsigned char *b, unsigned prev, pp_wordbits16 *m) {
    __m128i x = _mm_loadu_si128((const __m128i *)b);
    __m128i word = _mm_or_si128(pp_wb16_range(x, 'a', 'z'), pp_wb16_range(x, '0', '9'));
    __m128i p = _mm_or_si128(_mm_slli_si128(x, 1), _mm_cvtsi32_si128((int)(prev & 0xFF)));
    m->rep = (uint32_t)_mm_movemask_epi8(_mm_and_si128(word, _mm_cmpeq_epi8(x, p)));
    __m128i sent = _mm_or_si128(_mm_or_si128(pp_wb16_eq(x, '.'), pp_wb16_eq(x, '!')),
                                _mm_or_si128(pp_wb16_eq(x, '?'), pp_wb16_eq(x, ';')));
    sent = _mm_or_si128(sent, pp_wb16_eq(x, '\n'));
    __m128i soft = _mm_or_si128(pp_wb16_eq(x, ','), pp_wb16_eq(x, ':'));
    m->word = (uint32_t)_mm_movemask_epi8(word);
    m->sent = (uint32_t)_mm_movemask_epi8(sent);
    m->soft = (uint32_t)_mm_movemask_epi8(soft);
    m->upper = (uint32_t)_mm_movemask_epi8(pp_wb16_range(x, 'A', 'Z'));
    m->high = (uint32_t)_mm_movemask_epi8(x);
}

#define pp_wordbits16_fill pp_wordbits16_sse2
#else
#define pp_wordbits16_fill pp_wordbits16_ref
#endif

#endif
