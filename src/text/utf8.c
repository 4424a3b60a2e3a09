/*
** utf8.c -- UTF-8 decoding helpers and a coarse script classifier for src/text.
**
** These sit under the normalizer (normalize.c) and are also used by detectors that
** walk a view themselves.  The decoder is strict (RFC 3629): overlong forms,
** surrogates and code points above U+10FFFF are invalid, so a view produced by the
** normalizer always decodes cleanly.  The script classifier works on code point
** ranges only; it is meant for "does this word mix Latin with Cyrillic?" and "is this
** script written without spaces?", not for full Unicode Script property accuracy.
*/
#include "text.h"
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <string.h>
#include <utf8proc.h>

/* ------------------------------------------------------------------ decoding */

size_t pp_utf8_decode(const char *s, size_t n, uint32_t *cp) {
    const unsigned char *p = (const unsigned char *)s;
    if (!n) return 0;
    unsigned c = p[0];
    if (c < 0x80) { *cp = c; return 1; }
    if (c < 0xC2) return 0; /* continuation byte or overlong 2-byte lead */
    if (c < 0xE0) {
        if (n < 2 || (p[1] & 0xC0) != 0x80) return 0;
        *cp = ((c & 0x1Fu) << 6) | (p[1] & 0x3Fu);
        return 2;
    }
    if (c < 0xF0) {
        if (n < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) return 0;
        if (c == 0xE0 && p[1] < 0xA0) return 0;  /* overlong */
        if (c == 0xED && p[1] >= 0xA0) return 0; /* surrogate */
        *cp = ((c & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu);
        return 3;
    }
    if (c < 0xF5) {
        if (n < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 ||
            (p[3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && p[1] < 0x90) return 0;  /* overlong */
        if (c == 0xF4 && p[1] >= 0x90) return 0; /* > U+10FFFF */
        *cp = ((c & 0x07u) << 18) | ((p[1] & 0x3Fu) << 12) | ((p[2] & 0x3Fu) << 6) |
              (p[3] & 0x3Fu);
        return 4;
    }
    return 0;
}

size_t pp_utf8_encode(uint32_t cp, char o[4]) {
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

size_t pp_utf8_validate(const char *s, size_t n) {
    size_t i = 0;
    uint32_t cp;
    while (i < n) {
        if ((unsigned char)s[i] < 0x80) {
            i++;
            /* ASCII eight bytes at a time */
            uint64_t w;
            while (i + 8 <= n && (memcpy(&w, s + i, 8), !(w & 0x8080808080808080ull))) i += 8;
            continue;
        }
        size_t k = pp_utf8_decode(s + i, n - i, &cp);
        if (!k) return i;
        i += k;
    }
    return n;
}

size_t pp_utf8_ascii_end(const char *s, size_t i, size_t n) {
#if defined(__SSE2__)
    for (; i + 16 <= n; i += 16) {
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_loadu_si128((const __m128i *)(const void *)(s + i)));
        if (m) return i + (size_t)__builtin_ctz(m);
    }
#endif
    while (i < n && (unsigned char)s[i] < 0x80) i++;
    return i;
}

/* Code points of valid UTF-8: the bytes that are not continuation bytes.  With SSE2
** (part of x86-64) sixteen at a time: the continuation bytes of a block are counted
** into byte lanes (a compare gives -1 per byte, subtracted), summed every 255 blocks
** before a lane could overflow; else eight at a time in a 64-bit word. */
size_t pp_utf8_count_valid(const char *s, size_t n) {
    size_t i = 0, c = 0;
#if defined(__SSE2__)
    size_t cont = 0;
    while (n - i >= 16) {
        size_t blocks = (n - i) / 16;
        if (blocks > 255) blocks = 255;
        __m128i acc = _mm_setzero_si128();
        for (size_t b = 0; b < blocks; b++, i += 16) {
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
            __m128i top = _mm_and_si128(x, _mm_set1_epi8((char)0xC0));
            acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(top, _mm_set1_epi8((char)0x80)));
        }
        __m128i sum = _mm_sad_epu8(acc, _mm_setzero_si128());
        cont += (size_t)_mm_cvtsi128_si32(sum) + (size_t)_mm_cvtsi128_si32(_mm_srli_si128(sum, 8));
        c += blocks * 16;
    }
    c -= cont;
#endif
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        /* a byte is a continuation byte iff its top bits are 10 */
        uint64_t cont = (w & ~(w << 1)) & 0x8080808080808080ull;
        /* one bit per byte: their sum lands in the top byte (no popcnt instruction
        ** on baseline x86-64, and the library call is slower than this) */
        c += 8 - (size_t)(((cont >> 7) * 0x0101010101010101ull) >> 56);
    }
    for (; i < n; i++) c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

size_t pp_utf8_count(const char *s, size_t n) {
    size_t i = 0, c = 0;
    uint32_t cp;
    while (i < n) {
        size_t k = pp_utf8_decode(s + i, n - i, &cp);
        i += k ? k : 1;
        c++;
    }
    return c;
}

/* ------------------------------------------------------------------- scripts */

typedef struct script_range {
    uint32_t lo, hi;
    uint8_t script;
} script_range;

/* Sorted, non-overlapping.  Punctuation and digits inside a script block (Arabic
** comma, Devanagari danda, ...) are listed as COMMON before the block is claimed. */
static const script_range k_scripts[] = {
    {0x00AA, 0x00AA, PP_SCRIPT_LATIN},      {0x00BA, 0x00BA, PP_SCRIPT_LATIN},
    {0x00C0, 0x00D6, PP_SCRIPT_LATIN},      {0x00D8, 0x00F6, PP_SCRIPT_LATIN},
    {0x00F8, 0x02AF, PP_SCRIPT_LATIN},      {0x0370, 0x0373, PP_SCRIPT_GREEK},
    {0x0375, 0x037D, PP_SCRIPT_GREEK},      {0x037F, 0x0386, PP_SCRIPT_GREEK},
    {0x0388, 0x03FF, PP_SCRIPT_GREEK},      {0x0400, 0x052F, PP_SCRIPT_CYRILLIC},
    {0x0590, 0x05FF, PP_SCRIPT_HEBREW},     {0x0600, 0x060B, PP_SCRIPT_ARABIC},
    {0x060D, 0x061A, PP_SCRIPT_ARABIC},     {0x061C, 0x061E, PP_SCRIPT_ARABIC},
    {0x0620, 0x063F, PP_SCRIPT_ARABIC},     {0x0641, 0x06FF, PP_SCRIPT_ARABIC},
    {0x0750, 0x077F, PP_SCRIPT_ARABIC},     {0x0870, 0x08FF, PP_SCRIPT_ARABIC},
    {0x0900, 0x0963, PP_SCRIPT_DEVANAGARI}, {0x0966, 0x097F, PP_SCRIPT_DEVANAGARI},
    {0x0E01, 0x0E3E, PP_SCRIPT_THAI},       {0x0E40, 0x0E5B, PP_SCRIPT_THAI},
    {0x1100, 0x11FF, PP_SCRIPT_HANGUL},     {0x1C80, 0x1C8F, PP_SCRIPT_CYRILLIC},
    {0x1D00, 0x1D25, PP_SCRIPT_LATIN},      {0x1D26, 0x1D2A, PP_SCRIPT_GREEK},
    {0x1D2B, 0x1D2B, PP_SCRIPT_CYRILLIC},   {0x1D2C, 0x1D7F, PP_SCRIPT_LATIN},
    {0x1E00, 0x1EFF, PP_SCRIPT_LATIN},      {0x1F00, 0x1FFF, PP_SCRIPT_GREEK},
    {0x2C60, 0x2C7F, PP_SCRIPT_LATIN},      {0x2DE0, 0x2DFF, PP_SCRIPT_CYRILLIC},
    {0x2E80, 0x2FDF, PP_SCRIPT_HAN},        {0x3005, 0x3005, PP_SCRIPT_HAN},
    {0x3007, 0x3007, PP_SCRIPT_HAN},        {0x3021, 0x3029, PP_SCRIPT_HAN},
    {0x3038, 0x303B, PP_SCRIPT_HAN},        {0x3041, 0x3096, PP_SCRIPT_HIRAGANA},
    {0x309D, 0x309F, PP_SCRIPT_HIRAGANA},   {0x30A1, 0x30FA, PP_SCRIPT_KATAKANA},
    {0x30FD, 0x30FF, PP_SCRIPT_KATAKANA},   {0x3131, 0x318E, PP_SCRIPT_HANGUL},
    {0x31F0, 0x31FF, PP_SCRIPT_KATAKANA},   {0x3400, 0x4DBF, PP_SCRIPT_HAN},
    {0x4E00, 0x9FFF, PP_SCRIPT_HAN},        {0xA640, 0xA69F, PP_SCRIPT_CYRILLIC},
    {0xA720, 0xA7FF, PP_SCRIPT_LATIN},      {0xA8E0, 0xA8FF, PP_SCRIPT_DEVANAGARI},
    {0xA960, 0xA97F, PP_SCRIPT_HANGUL},     {0xAB30, 0xAB6F, PP_SCRIPT_LATIN},
    {0xAC00, 0xD7FF, PP_SCRIPT_HANGUL},     {0xF900, 0xFAFF, PP_SCRIPT_HAN},
    {0xFB00, 0xFB06, PP_SCRIPT_LATIN},      {0xFB1D, 0xFB4F, PP_SCRIPT_HEBREW},
    {0xFB50, 0xFDFF, PP_SCRIPT_ARABIC},     {0xFE70, 0xFEFE, PP_SCRIPT_ARABIC},
    {0xFF21, 0xFF3A, PP_SCRIPT_LATIN},      {0xFF41, 0xFF5A, PP_SCRIPT_LATIN},
    {0xFF66, 0xFF6F, PP_SCRIPT_KATAKANA},   {0xFF71, 0xFF9D, PP_SCRIPT_KATAKANA},
    {0xFFA0, 0xFFDC, PP_SCRIPT_HANGUL},     {0x1B000, 0x1B0FF, PP_SCRIPT_HIRAGANA},
    {0x20000, 0x2FA1F, PP_SCRIPT_HAN},      {0x30000, 0x323AF, PP_SCRIPT_HAN},
};

pp_script pp_script_of(uint32_t cp) {
    if (cp < 0x80) {
        uint32_t l = cp | 0x20;
        return (l >= 'a' && l <= 'z') ? PP_SCRIPT_LATIN : PP_SCRIPT_COMMON;
    }
    /* The blocks most text is written in, before the search (same answers). */
    if (cp >= 0xC0 && cp <= 0x2AF) /* the multiplication and division signs aside */
        return cp == 0xD7 || cp == 0xF7 ? PP_SCRIPT_COMMON : PP_SCRIPT_LATIN;
    if (cp >= 0x4E00 && cp <= 0x9FFF) return PP_SCRIPT_HAN;
    if (cp >= 0xAC00 && cp <= 0xD7FF) return PP_SCRIPT_HANGUL;
    if (cp >= 0x0400 && cp <= 0x052F) return PP_SCRIPT_CYRILLIC;
    size_t lo = 0, hi = PP_ARRAY_LEN(k_scripts);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < k_scripts[mid].lo)
            hi = mid;
        else if (cp > k_scripts[mid].hi)
            lo = mid + 1;
        else
            return (pp_script)k_scripts[mid].script;
    }
    if (cp > 0x10FFFF) return PP_SCRIPT_OTHER;
    /* Outside the listed blocks: letters and marks belong to scripts we do not
    ** name; everything else (digits, punctuation, symbols, emoji) is COMMON. */
    switch (utf8proc_category((utf8proc_int32_t)cp)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME: case UTF8PROC_CATEGORY_CN:
        return PP_SCRIPT_OTHER;
    default:
        return PP_SCRIPT_COMMON;
    }
}

int pp_script_unspaced(pp_script s) {
    return s == PP_SCRIPT_HAN || s == PP_SCRIPT_HIRAGANA || s == PP_SCRIPT_KATAKANA ||
           s == PP_SCRIPT_THAI;
}
