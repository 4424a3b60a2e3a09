/*
** ascii16.h -- 16-byte kernels for the fold view's ASCII stretches (normalize.c).
**
** Most of what parapet reads is plain ASCII prose: words of letters, numbers, spaces
** and punctuation, where the fold view is the base view lowercased, with runs of one
** letter collapsed (run[] keeps their length) and whitespace runs squeezed to one
** space.  normalize.c folds such stretches sixteen bytes at a time (see
** fold_ascii_stretch there); these kernels answer, for one block of sixteen bytes,
** the questions that needs:
**
**   bad     bytes after which the plain rule may be wrong: a non-ASCII byte, one of
**           @ $ | * # (leet and mask characters), a '!' before a letter, digit or
**           one of those (a leet 'i'), a letter after a digit or a digit after a
**           letter (a word where leet may apply: "th3", "1d10t");
**   single  letters and digits standing alone between non-alphanumeric bytes: a
**           one-character token, which may start a spelled-out word ("f.u.c.k"),
**           so the caller looks further with may_chain;
**   drop    bytes that join the byte before them in the fold view: a letter equal
**           (case aside) to the letter before it, whitespace after whitespace;
**   upper   capitals (their fold byte gets PARAPET_XF_CASE).
**
** Bit k of each mask is byte k of the block.  The fold loop asks these questions of
** 64 bytes at a time (pp_ascii64_masks: four blocks, whose byte classes become 64-bit
** masks that are shifted by one bit to see each byte's neighbours, so the classes
** are computed once per byte rather than once per byte and per neighbour, and the
** loop's bookkeeping runs once per 64 bytes); the 16-byte masks define them.  A kernel reads exactly the 16 bytes at
** `b`; the bytes just before and after the block come in as `prev` and `next` (pass
** ' ' for "none", e.g. before the start of the text).
**
** Every kernel has a portable scalar reference (*_ref) that defines it and a SSE2
** version (*_sse2; SSE2 is part of x86-64, so no run-time dispatch is needed) that
** must agree with it on every input; tests/text/test_ascii16.c checks them on random
** blocks.  Both live in this header, static inline, because the fold loop calls them
** once per block and a call would cost as much as the kernel.  pp_ascii16_masks,
** pp_ascii64_masks, pp_ascii16_fold and pp_ascii16_xf name the version in use.
*/
#ifndef PP_ASCII16_H
#define PP_ASCII16_H

#include "../core/core.h"
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

typedef struct pp_ascii16 {
    uint32_t bad, single, drop, upper; /* bit k: byte k of the block (see above) */
} pp_ascii16;

typedef struct pp_ascii64 {
    uint64_t bad, single, drop, upper; /* bit k: byte k of the 64 bytes */
} pp_ascii64;

/* ------------------------------------------------------- scalar reference */

static inline int pp_a16_letter(unsigned c) { return (unsigned)((c | 0x20) - 'a') < 26u; }
static inline int pp_a16_digit(unsigned c) { return (unsigned)(c - '0') < 10u; }
static inline int pp_a16_space(unsigned c) { return c == ' ' || (unsigned)(c - 9) < 5u; }
static inline int pp_a16_special(unsigned c) {
    return c == '@' || c == '$' || c == '|' || c == '*' || c == '#';
}

/* The masks of the 16 bytes at b, between bytes prev and next. */
static inline void pp_ascii16_masks_ref(const unsigned char *b, unsigned prev, unsigned next,
                                        pp_ascii16 *m) {
    m->bad = m->single = m->drop = m->upper = 0;
    for (unsigned k = 0; k < 16; k++) {
        unsigned c = b[k], p = k ? b[k - 1] : prev, x = k < 15 ? b[k + 1] : next;
        int an = pp_a16_letter(c) || pp_a16_digit(c);
        int an_p = pp_a16_letter(p) || pp_a16_digit(p);
        int an_x = pp_a16_letter(x) || pp_a16_digit(x);
        int bad = c >= 0x80 || pp_a16_special(c) ||
                  (c == '!' && (an_x || x >= 0x80 || pp_a16_special(x))) ||
                  (pp_a16_letter(c) && pp_a16_digit(p)) || (pp_a16_digit(c) && pp_a16_letter(p));
        int drop = (pp_a16_letter(c) && pp_a16_letter(p) && (c | 0x20) == (p | 0x20)) ||
                   (pp_a16_space(c) && pp_a16_space(p));
        m->bad |= (uint32_t)bad << k;
        m->single |= (uint32_t)(an && !an_p && !an_x) << k;
        m->drop |= (uint32_t)drop << k;
        m->upper |= (uint32_t)((unsigned)(c - 'A') < 26u) << k;
    }
}

/* Classes of single bytes, for the neighbours of a 64-byte span: bit 0 a letter, bit 1
** a digit, bit 2 whitespace, bit 3 a letter, digit, non-ASCII byte or @ $ | * #. */
#define PP_A16_CLS(c)                                                                     \
    ((((((c) | 0x20) - 'a') & 0xFF) < 26u ? 1 : 0) | ((((c) - '0') & 0xFF) < 10u ? 2 : 0) |  \
     ((c) == ' ' || ((c) >= 9 && (c) <= 13) ? 4 : 0) |                                     \
     (((((c) | 0x20) - 'a') & 0xFF) < 26u || (((c) - '0') & 0xFF) < 10u || (c) >= 0x80 ||    \
              (c) == '@' || (c) == '$' || (c) == '|' || (c) == '*' || (c) == '#'           \
          ? 8                                                                               \
          : 0))
#define PP_A16_CLS4(c) PP_A16_CLS(c), PP_A16_CLS((c) + 1), PP_A16_CLS((c) + 2), PP_A16_CLS((c) + 3)
#define PP_A16_CLS16(c) PP_A16_CLS4(c), PP_A16_CLS4((c) + 4), PP_A16_CLS4((c) + 8), PP_A16_CLS4((c) + 12)
#define PP_A16_CLS64(c) PP_A16_CLS16(c), PP_A16_CLS16((c) + 16), PP_A16_CLS16((c) + 32), PP_A16_CLS16((c) + 48)
static const uint8_t pp_a16_cls[256] = {PP_A16_CLS64(0), PP_A16_CLS64(64), PP_A16_CLS64(128),
                                        PP_A16_CLS64(192)};

/* The masks of the 64 bytes at b, between bytes prev and next (= b[64]): those of its
** four blocks, each between its neighbours.  Only the first len bytes (1..64) are the
** caller's, b[len] is NUL when len < 64, and the caller reads the masks only below
** the first bad byte of those: the SSE2 version stops after the block that reaches
** len or holds a non-ASCII, leet or mask byte (a bad byte), so past that block its
** masks may differ from these. */
static inline void pp_ascii64_masks_ref(const unsigned char *b, size_t len, unsigned prev,
                                        unsigned next, pp_ascii64 *m) {
    (void)len;
    m->bad = m->single = m->drop = m->upper = 0;
    for (unsigned j = 0; j < 4; j++) {
        pp_ascii16 q;
        pp_ascii16_masks_ref(b + 16 * j, j ? b[16 * j - 1] : prev, j < 3 ? b[16 * j + 16] : next,
                             &q);
        m->bad |= (uint64_t)q.bad << (16 * j);
        m->single |= (uint64_t)q.single << (16 * j);
        m->drop |= (uint64_t)q.drop << (16 * j);
        m->upper |= (uint64_t)q.upper << (16 * j);
    }
}

/* dst[0..16) = the fold bytes of b[0..16) taken one by one: letters lowercased,
** whitespace made ' ', anything else as it is. */
static inline void pp_ascii16_fold_ref(char *dst, const unsigned char *b) {
    for (int k = 0; k < 16; k++) {
        unsigned c = b[k];
        dst[k] = (char)(pp_a16_letter(c) ? c | 0x20 : pp_a16_space(c) ? ' ' : c);
    }
}

/* dst[0..16) = src[0..16) | PARAPET_XF_CASE where b[k] is a capital. */
static inline void pp_ascii16_xf_ref(uint16_t *dst, const uint16_t *src, const unsigned char *b) {
    for (int k = 0; k < 16; k++)
        dst[k] = (uint16_t)(src[k] | ((unsigned)(b[k] - 'A') < 26u ? PARAPET_XF_CASE : 0));
}

/* ------------------------------------------------------------------- SSE2 */

#if defined(__SSE2__)

#if defined(__GNUC__)
#define PP_A16_INLINE static inline __attribute__((always_inline))
#else
#define PP_A16_INLINE static inline
#endif

/* 0xFF where lo <= x <= hi (unsigned bytes), via a signed compare after a shift. */
static inline __m128i pp_a16_range(__m128i x, unsigned char lo, unsigned char hi) {
    __m128i t = _mm_add_epi8(x, _mm_set1_epi8((char)(0x80 - lo)));
    return _mm_cmplt_epi8(t, _mm_set1_epi8((char)(0x80 + (hi - lo + 1))));
}

static inline __m128i pp_a16_letters(__m128i x) {
    return pp_a16_range(_mm_or_si128(x, _mm_set1_epi8(0x20)), 'a', 'z');
}

static inline __m128i pp_a16_spaces(__m128i x) {
    return _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8(' ')), pp_a16_range(x, 9, 13));
}

static inline __m128i pp_a16_specials(__m128i x) {
    __m128i r = _mm_cmpeq_epi8(x, _mm_set1_epi8('@'));
    r = _mm_or_si128(r, _mm_cmpeq_epi8(x, _mm_set1_epi8('$')));
    r = _mm_or_si128(r, _mm_cmpeq_epi8(x, _mm_set1_epi8('|')));
    r = _mm_or_si128(r, _mm_cmpeq_epi8(x, _mm_set1_epi8('*')));
    return _mm_or_si128(r, _mm_cmpeq_epi8(x, _mm_set1_epi8('#')));
}

PP_A16_INLINE void pp_ascii16_masks_sse2(const unsigned char *b, unsigned prev, unsigned next,
                                         pp_ascii16 *m) {
    __m128i c = _mm_loadu_si128((const __m128i *)b);
    /* the block shifted by one byte each way, with prev / next filling the gap */
    __m128i p = _mm_or_si128(_mm_slli_si128(c, 1), _mm_cvtsi32_si128((int)(prev & 0xFF)));
    __m128i x = _mm_or_si128(_mm_srli_si128(c, 1),
                             _mm_slli_si128(_mm_cvtsi32_si128((int)(next & 0xFF)), 15));
    __m128i let = pp_a16_letters(c), let_p = pp_a16_letters(p);
    __m128i dig = pp_a16_range(c, '0', '9'), dig_p = pp_a16_range(p, '0', '9');
    __m128i an = _mm_or_si128(let, dig), an_p = _mm_or_si128(let_p, dig_p);
    __m128i an_x = _mm_or_si128(pp_a16_letters(x), pp_a16_range(x, '0', '9'));
    __m128i zero = _mm_setzero_si128();
    __m128i hi = _mm_cmplt_epi8(c, zero), hi_x = _mm_cmplt_epi8(x, zero);
    __m128i bang = _mm_cmpeq_epi8(c, _mm_set1_epi8('!'));
    __m128i wordy_x = _mm_or_si128(_mm_or_si128(an_x, hi_x), pp_a16_specials(x));
    __m128i bad = _mm_or_si128(hi, pp_a16_specials(c));
    bad = _mm_or_si128(bad, _mm_and_si128(bang, wordy_x));
    bad = _mm_or_si128(bad, _mm_and_si128(let, dig_p));
    bad = _mm_or_si128(bad, _mm_and_si128(dig, let_p));
    __m128i single = _mm_andnot_si128(_mm_or_si128(an_p, an_x), an);
    __m128i l20 = _mm_set1_epi8(0x20);
    __m128i same = _mm_cmpeq_epi8(_mm_or_si128(c, l20), _mm_or_si128(p, l20));
    __m128i drop = _mm_and_si128(_mm_and_si128(let, let_p), same);
    drop = _mm_or_si128(drop, _mm_and_si128(pp_a16_spaces(c), pp_a16_spaces(p)));
    m->bad = (uint32_t)_mm_movemask_epi8(bad);
    m->single = (uint32_t)_mm_movemask_epi8(single);
    m->drop = (uint32_t)_mm_movemask_epi8(drop);
    m->upper = (uint32_t)_mm_movemask_epi8(pp_a16_range(c, 'A', 'Z'));
}

/* The byte classes of the four blocks go to 64-bit masks (one movemask per class
** and block), and the rules are applied to the masks: a byte's left neighbour is
** the mask shifted up by one bit, with prev's class in bit 0, its right neighbour
** the mask shifted down, with next's class in bit 63.  Only the case-blind equality
** with the byte before needs the bytes themselves shifted. */
PP_A16_INLINE void pp_ascii64_masks_sse2(const unsigned char *b, size_t len, unsigned prev,
                                         unsigned next, pp_ascii64 *m) {
    uint64_t let = 0, dig = 0, spc = 0, wild = 0, bang = 0, up = 0, same = 0;
    const __m128i l20 = _mm_set1_epi8(0x20);
    __m128i last = _mm_slli_si128(_mm_cvtsi32_si128((int)(prev & 0xFF)), 15);
    unsigned j = 0;
    for (; j < 4; j++) {
        __m128i c = _mm_loadu_si128((const __m128i *)(const void *)(b + 16 * j));
        __m128i p = _mm_or_si128(_mm_slli_si128(c, 1), _mm_srli_si128(last, 15));
        last = c;
        __m128i lc = _mm_or_si128(c, l20);
        unsigned sh = 16 * j;
        let |= (uint64_t)(unsigned)_mm_movemask_epi8(pp_a16_range(lc, 'a', 'z')) << sh;
        dig |= (uint64_t)(unsigned)_mm_movemask_epi8(pp_a16_range(c, '0', '9')) << sh;
        spc |= (uint64_t)(unsigned)_mm_movemask_epi8(pp_a16_spaces(c)) << sh;
        /* non-ASCII (the sign bit of c itself) or a leet / mask character */
        unsigned w = (unsigned)_mm_movemask_epi8(_mm_or_si128(c, pp_a16_specials(c)));
        wild |= (uint64_t)w << sh;
        bang |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(c, _mm_set1_epi8('!'))) << sh;
        up |= (uint64_t)(unsigned)_mm_movemask_epi8(pp_a16_range(c, 'A', 'Z')) << sh;
        same |= (uint64_t)(unsigned)_mm_movemask_epi8(
                    _mm_cmpeq_epi8(lc, _mm_or_si128(p, l20))) << sh;
        /* nothing past a bad byte or past len is read: the rest stays zero, as if NUL
        ** followed this block (which it does when len ends it) */
        if (w || 16 * j + 16 >= len) break;
    }
    if (j < 3) next = 0;
    unsigned pc = pp_a16_cls[prev & 0xFF], xc = pp_a16_cls[next & 0xFF];
    uint64_t pl = pc & 1, pd = (pc >> 1) & 1, ps = (pc >> 2) & 1;
    uint64_t xan = (xc & 3) != 0, xwordy = (xc >> 3) & 1;
    uint64_t an = let | dig;
    uint64_t let_p = let << 1 | pl, dig_p = dig << 1 | pd, an_p = let_p | dig_p;
    uint64_t an_x = an >> 1 | xan << 63, wordy_x = (an | wild) >> 1 | xwordy << 63;
    m->bad = wild | (bang & wordy_x) | (let & dig_p) | (dig & let_p);
    m->single = an & ~an_p & ~an_x;
    m->drop = (let & let_p & same) | (spc & (spc << 1 | ps));
    m->upper = up;
}

PP_A16_INLINE void pp_ascii16_fold_sse2(char *dst, const unsigned char *b) {
    __m128i c = _mm_loadu_si128((const __m128i *)b);
    __m128i up = pp_a16_range(c, 'A', 'Z');
    __m128i ws = pp_a16_range(c, 9, 13);
    c = _mm_or_si128(c, _mm_and_si128(up, _mm_set1_epi8(0x20)));
    c = _mm_or_si128(_mm_andnot_si128(ws, c), _mm_and_si128(ws, _mm_set1_epi8(' ')));
    _mm_storeu_si128((__m128i *)dst, c);
}

PP_A16_INLINE void pp_ascii16_xf_sse2(uint16_t *dst, const uint16_t *src,
                                      const unsigned char *b) {
    __m128i up = pp_a16_range(_mm_loadu_si128((const __m128i *)b), 'A', 'Z');
    __m128i bit = _mm_set1_epi16(PARAPET_XF_CASE);
    __m128i lo = _mm_and_si128(_mm_unpacklo_epi8(up, up), bit);
    __m128i hi = _mm_and_si128(_mm_unpackhi_epi8(up, up), bit);
    _mm_storeu_si128((__m128i *)dst,
                     _mm_or_si128(_mm_loadu_si128((const __m128i *)src), lo));
    _mm_storeu_si128((__m128i *)(dst + 8),
                     _mm_or_si128(_mm_loadu_si128((const __m128i *)(src + 8)), hi));
}

#define pp_ascii16_masks pp_ascii16_masks_sse2
#define pp_ascii64_masks pp_ascii64_masks_sse2
#define pp_ascii16_fold pp_ascii16_fold_sse2
#define pp_ascii16_xf pp_ascii16_xf_sse2
#else
#define pp_ascii16_masks pp_ascii16_masks_ref
#define pp_ascii64_masks pp_ascii64_masks_ref
#define pp_ascii16_fold pp_ascii16_fold_ref
#define pp_ascii16_xf pp_ascii16_xf_ref
#endif

#endif
