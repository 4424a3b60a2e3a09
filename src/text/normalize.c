/*
** normalize.c -- turns a caller's text into the two views every detector reads.
**
** This is the first step of the pipeline (DESIGN.md, "Normalize"): it runs once per
** text, before any detector, so it is written for throughput on short, mostly-ASCII
** texts.  Two passes:
**
**   base   The original is walked once.  Runs of plain ASCII are copied byte by byte
**          with no table lookups beyond a range check.  Anything else is cut into
**          clusters (a code point plus the combining marks after it, at most
**          CLUSTER_MAX code points so "Zalgo" text cannot blow a buffer) and each
**          cluster is NFKC-normalized by utf8proc on its own; every output byte of a
**          cluster maps back to the whole cluster, so offsets stay exact at cluster
**          granularity.  Invisible characters (zero-width, bidi controls, tag
**          characters, other default-ignorables) and NULs are dropped and reported
**          as signals; tag characters are also decoded into t->tag_payload.
**
**   fold   Plain ASCII tokens (letters or digits between spaces and ordinary
**          punctuation, which no word rule can touch) are folded inline: lowercase,
**          letter runs collapsed, whitespace squeezed; so are words of other scripts
**          that folding leaves alone (fold_letter_word) and ASCII words whose leet
**          and mask rules need no look beyond them (fold_ascii_word).  Everything
**          else is cut into short segments, at points no word, spelled-out word or
**          letter run can cross, and each segment is exploded into an array of
**          "units" (one folded code point each, with the base-view bytes it came
**          from), because the word-level rules need to see a whole word before
**          rewriting any of it: separator joining ("f.u.c.k"), per-word confusable /
**          leet / mask folding, then emission.  Both routes give identical output
**          (PP_NORM_SLOW_FOLD_ turns the first off; the tests and fuzz_normalize
**          compare them).  A fold byte maps to the original through the base map, so
**          fold spans are as exact as base spans.
**
** Fast paths (docs/normalization.md, "Speed"): besides ASCII, characters whose
** treatment is the same wherever they stand (an ideograph, a Hangul syllable, kana,
** an accented Latin letter, CJK punctuation, an emoji) are copied or folded from
** per-code-point tables that init_tables derives from utf8proc once per process, by
** putting each character through the same calls the general path makes.
** PP_NORM_SLOW_FOLD_ turns every fast path off so tests and fuzz_normalize can compare.
**
** Nothing is allocated per character: the views, the unit array (t->scratch) and the
** tag payload grow by doubling and are kept across calls.  utf8proc is called only
** for non-ASCII code points the tables do not cover.  The library never links ICU;
** the confusable table is generated offline by tools/gen_confusables.c.
*/
#include "text.h"
#include "ascii16.h"
#include "ideo16.h"
#include "confusables_table.h"

#include <assert.h>
#include <pthread.h>
#include <string.h>
#include <utf8proc.h>

#define FOLD_SLACK PP_VIEW_SLACK /* spare entries past the end of both views; see build_fold */
#define BASE_SLACK 64 /* readable bytes past the base view's end (fold_ascii_stretch) */
#define CLUSTER_MAX 32 /* code points per NFKC cluster; more marks start a new one */
#define NFKC_MAX 1024  /* CLUSTER_MAX * 18 (the longest NFKC expansion) fits */
#define FOLD_MAX 32    /* code points from case-folding + decomposing one char */

/* Per-code-point facts for the BMP (k_bmp) and the emoji blocks (k_smp), derived from
** utf8proc once per process (init_tables, below, about 10 ms) and read by the
** non-ASCII fast paths.  Bit 0: BK_SAFE, the base view copies the character
** unchanged and it never joins the cluster before it.  Bits 1-3: its FK_* kind in
** the fold view.  Bit 4: BK_STARTER, it never joins the cluster before it (so that
** cluster ends there).  k_latin_fold / k_latin_xf: for FK_LATIN characters (all below
** U+0800), the one or two ASCII letters they fold to and the xf bits that folding
** sets. */
enum { BK_SAFE = 1, BK_STARTER = 1 << 4 /* never joins the cluster before it */ };
enum {
    FK_SLOW = 0, /* only the unit pipeline knows */
    FK_LETTER,   /* a letter of a script other than Latin that folding leaves alone
                 ** and that has no ASCII look-alike (Han, kana, Hangul, Arabic,
                 ** lower-case Cyrillic...) */
    FK_CONF,     /* the same, but with an ASCII look-alike */
    FK_PUNCT,    /* not a letter, digit, mark, space or separator; folds to itself */
    FK_LATIN     /* a Latin letter that folds to one or two ASCII letters */
};
static uint8_t k_bmp[0x10000];
#define SMP_LO 0x1F000 /* emoji and other pictographs: the same facts, U+1F000..1FAFF */
#define SMP_HI 0x1FB00
static uint8_t k_smp[SMP_HI - SMP_LO];
static char k_latin_fold[0x800][2];
static uint16_t k_latin_xf[0x800];
static pthread_once_t k_tables_once = PTHREAD_ONCE_INIT;

/* The bits of every CJK ideograph of U+4E00..9FFF (safe, a starter, a letter with no
** ASCII look-alike), answered without the table, whose 40 KiB of ideographs would
** otherwise compete for the cache on Chinese text.  init_tables checks it. */
#define K_IDEOGRAPH (BK_SAFE | BK_STARTER | (FK_LETTER << 1))

/* The k_bmp / k_smp bits of cp (0 outside both: nothing is known). */
static inline unsigned kbits(uint32_t cp) {
    if (cp - 0x4E00u < 0x5200u) return K_IDEOGRAPH;
    if (cp < 0x10000) return k_bmp[cp];
    return cp - SMP_LO < SMP_HI - SMP_LO ? k_smp[cp - SMP_LO] : 0;
}
static inline int fold_kind(uint32_t cp) { return (kbits(cp) >> 1) & 7; }

/* Decodes a valid 2-, 3- or 4-byte sequence at s[0..n) into *cp and returns its
** length; 0 for ASCII and invalid bytes. */
static inline size_t dec_mb(const unsigned char *s, size_t n, uint32_t *cp) {
    unsigned c = s[0];
    if (c - 0xE0u < 0x10u) { /* 3 bytes first: CJK text decodes each character often */
        if (n < 3 || ((s[1] ^ 0x80u) | (s[2] ^ 0x80u)) & 0xC0u) return 0;
        uint32_t v = ((c & 0x0Fu) << 12) | ((s[1] & 0x3Fu) << 6) | (s[2] & 0x3Fu);
        if (v < 0x800 || v - 0xD800u < 0x800u) return 0;
        *cp = v;
        return 3;
    }
    if (c - 0xC2u < 0x1Eu) {
        if (n < 2 || (s[1] & 0xC0) != 0x80) return 0;
        *cp = ((c & 0x1Fu) << 6) | (s[1] & 0x3Fu);
        return 2;
    }
    if (c >= 0xF0 && c < 0xF5) {
        if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 ||
            (s[3] & 0xC0) != 0x80)
            return 0;
        uint32_t v = ((c & 0x07u) << 18) | ((s[1] & 0x3Fu) << 12) | ((s[2] & 0x3Fu) << 6) |
                     (s[3] & 0x3Fu);
        if (v < 0x10000 || v > 0x10FFFF) return 0;
        *cp = v;
        return 4;
    }
    return 0;
}

/* dec_mb for the base view, which is valid UTF-8 by construction (build_base copies
** only what it decoded and validated, and encodes everything else itself), so the
** fold pass, which decodes some characters more than once, skips the checks:
** the same length and code point as dec_mb on every valid sequence, 0 for ASCII. */
static inline size_t dec_valid(const unsigned char *s, uint32_t *cp) {
    unsigned c = s[0];
    if (c - 0xE0u < 0x10u) {
        *cp = ((c & 0x0Fu) << 12) | ((s[1] & 0x3Fu) << 6) | (s[2] & 0x3Fu);
        return 3;
    }
    if (c - 0xC2u < 0x1Eu) {
        *cp = ((c & 0x1Fu) << 6) | (s[1] & 0x3Fu);
        return 2;
    }
    if (c - 0xF0u < 5u) {
        *cp = ((c & 0x07u) << 18) | ((s[1] & 0x3Fu) << 12) | ((s[2] & 0x3Fu) << 6) | (s[3] & 0x3Fu);
        return 4;
    }
    return 0;
}

/* Does the character at s[0..n) leave the cluster before it complete: end of text,
** ASCII, or a BK_STARTER? */
static inline int base_next_ok(const unsigned char *s, size_t n) {
    uint32_t cp;
    if (!n || s[0] < 0x80) return 1;
    return dec_mb(s, n, &cp) && (kbits(cp) & BK_STARTER);
}

/* ------------------------------------------------------------------- signals */

const char *pp_signal_name(unsigned i) {
    static const char *const names[PP_SIG_COUNT_] = {
        "invalid_utf8", "nul",    "zero_width", "bidi_control", "tag_chars",
        "invisible",    "confusable", "leet",   "separator",    "repeat",
        "mixed_script", "compat", "empty"};
    return i < PP_SIG_COUNT_ ? names[i] : "unknown";
}

/* ------------------------------------------------------------------- buffers */

static void view_free(pp_view *v) {
    pp_free(v->s);
    pp_free(v->src_start);
    pp_free(v->src_end);
    pp_free(v->xf);
    pp_free(v->run);
    memset(v, 0, sizeof *v);
}

void pp_text_init(pp_text *t) { memset(t, 0, sizeof *t); }

void pp_text_free(pp_text *t) {
    if (!t) return;
    view_free(&t->base);
    view_free(&t->fold);
    pp_free(t->tag_payload);
    pp_free(t->tag_src);
    pp_free(t->scratch);
    memset(t, 0, sizeof *t);
}

/* Makes every array of v hold at least need+1 elements (the +1 for the NUL; need >=
** v->cap: view_reserve checks first).  Returns 0 on success.  On failure the arrays
** that did grow are kept and v->cap is left at the old value, so v stays consistent
** and pp_text_free releases everything. */
static int view_grow(pp_view *v, size_t need) {
    size_t c = v->cap ? v->cap : 64;
    while (c <= need) c *= 2;
    char *s = pp_realloc(v->s, c);
    if (s) v->s = s;
    uint32_t *a = pp_realloc(v->src_start, c * sizeof *a);
    if (a) v->src_start = a;
    uint32_t *b = pp_realloc(v->src_end, c * sizeof *b);
    if (b) v->src_end = b;
    uint16_t *x = pp_realloc(v->xf, c * sizeof *x);
    if (x) v->xf = x;
    uint8_t *r = pp_realloc(v->run, c);
    if (r) v->run = r;
    if (!s || !a || !b || !x || !r) return -1;
    v->cap = c;
    return 0;
}

/* The check inline (every text reserves three times; growing is rare). */
static inline int view_reserve(pp_view *v, size_t need) {
    return need < v->cap ? 0 : view_grow(v, need);
}

/* Leaves v as a valid empty string if it has storage (after an error). */
static void view_clear(pp_view *v) {
    v->n = 0;
    if (v->cap) v->s[0] = 0;
}

static int tag_push(pp_text *t, char c, uint32_t src) {
    if (t->tag_len + 1 >= t->tag_cap) {
        size_t cap = t->tag_cap ? t->tag_cap * 2 : 32;
        char *p = pp_realloc(t->tag_payload, cap);
        if (p) t->tag_payload = p;
        uint32_t *q = pp_realloc(t->tag_src, cap * sizeof *q);
        if (q) t->tag_src = q;
        if (!p || !q) return -1;
        t->tag_cap = cap;
    }
    t->tag_payload[t->tag_len] = c;
    t->tag_src[t->tag_len] = src;
    t->tag_len++;
    t->tag_payload[t->tag_len] = 0;
    return 0;
}

/* ---------------------------------------------------------------- invisibles */

enum { INV_NONE, INV_ZW, INV_BIDI, INV_TAG, INV_OTHER };

/* Which kind of invisible cp is (INV_NONE for visible ones).  The union of the kinds
** is exactly Default_Ignorable_Code_Point (Unicode 15) plus nothing else. */
static int invisible_kind(uint32_t cp) {
    if (cp < 0xAD) return INV_NONE;
    if (cp == 0xAD || cp == 0x34F) return INV_OTHER;
    if (cp == 0x61C) return INV_BIDI;
    if (cp < 0x115F) return INV_NONE;
    if (cp <= 0x1160) return INV_OTHER; /* Hangul choseong / jungseong fillers */
    if (cp < 0x17B4) return INV_NONE;
    if (cp <= 0x17B5) return INV_OTHER;
    if (cp >= 0x180B && cp <= 0x180F) return cp == 0x180E ? INV_ZW : INV_OTHER;
    if (cp < 0x200B) return INV_NONE;
    if (cp <= 0x200D) return INV_ZW;
    if (cp <= 0x200F) return INV_BIDI;
    if (cp >= 0x202A && cp <= 0x202E) return INV_BIDI;
    if (cp == 0x2060) return INV_ZW;
    if (cp >= 0x2066 && cp <= 0x2069) return INV_BIDI;
    if (cp >= 0x2061 && cp <= 0x206F) return INV_OTHER;
    if (cp < 0x3164) return INV_NONE;
    if (cp == 0x3164) return INV_OTHER; /* Hangul filler */
    if (cp >= 0xFE00 && cp <= 0xFE0F) return INV_OTHER; /* variation selectors */
    if (cp == 0xFEFF) return INV_ZW;
    if (cp == 0xFFA0) return INV_OTHER; /* halfwidth Hangul filler */
    if (cp >= 0xFFF0 && cp <= 0xFFF8) return INV_OTHER;
    if (cp >= 0x1BCA0 && cp <= 0x1BCA3) return INV_OTHER;
    if (cp >= 0x1D173 && cp <= 0x1D17A) return INV_OTHER;
    if (cp >= 0xE0000 && cp <= 0xE007F) return INV_TAG;
    if (cp >= 0xE0080 && cp <= 0xE0FFF) return INV_OTHER;
    return INV_NONE;
}

/* Emoji presentation selectors after a pictograph or keycap base are ordinary
** (the heart in "I love you ❤️"); removing them is right but reporting them would
** flag half of all social-media text.  Only the first selector after such a base is
** quiet: a run of selectors is the "emoji smuggling" trick and is reported. */
static int vs_is_ordinary(uint32_t prev) {
    return prev >= 0x2190 || prev == 0xA9 || prev == 0xAE || (prev >= '0' && prev <= '9') ||
           prev == '#' || prev == '*';
}

/* ZWJ / ZWNJ between two characters of scripts that use them (Persian, Indic scripts,
** emoji sequences) are ordinary; between Latin, Greek or Cyrillic letters (or ASCII)
** they are an evasion and are reported. */
static int joiner_context_ok(uint32_t cp) {
    if (cp < 0x80) return 0;
    pp_script s = pp_script_of(cp);
    return s != PP_SCRIPT_LATIN && s != PP_SCRIPT_GREEK && s != PP_SCRIPT_CYRILLIC;
}

static int is_mark_category(int cat) {
    return cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_MC ||
           cat == UTF8PROC_CATEGORY_ME;
}

/* CJK ideographs and precomposed Hangul syllables: letters with no decomposition,
** no case, combining class 0.  Most of a Chinese or Korean text, so they skip the
** property lookups. */
static inline int plain_wide(uint32_t cp) {
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
           (cp >= 0xAC00 && cp <= 0xD7A3);
}

/* Fullwidth / halfwidth punctuation and the ideographic space: NFKC maps them to
** ASCII, which is ordinary in CJK text, so that change is not reported as `compat`. */
static inline int width_punct_cp(uint32_t cp) {
    return cp == 0x3000 || (cp >= 0xFF01 && cp <= 0xFF0F) || (cp >= 0xFF1A && cp <= 0xFF20) ||
           (cp >= 0xFF3B && cp <= 0xFF40) || (cp >= 0xFF5B && cp <= 0xFF65);
}

/* The same for a cluster s[0..n): it must be that one character. */
static int width_punct(const unsigned char *s, size_t n) {
    uint32_t cp;
    if (pp_utf8_decode((const char *)s, n, &cp) != n) return 0;
    return width_punct_cp(cp);
}

/* Does cp (non-ASCII, visible) attach to the cluster before it? */
static int continues_cluster(uint32_t cp) {
    if (plain_wide(cp)) return 0;
    if (cp >= 0x1161 && cp <= 0x11FF) return 1; /* Hangul medial vowels, final jamo */
    if (invisible_kind(cp)) return 0;           /* variation selectors are Mn */
    const utf8proc_property_t *p = utf8proc_get_property((utf8proc_int32_t)cp);
    return p->combining_class != 0 || is_mark_category(p->category);
}

/* ----------------------------------------------------------------- base view */

/* Marks the character before a removed one as adjacent to it; the caller arms
** `pending` so the character after it is marked too. */
static void mark_before_removal(pp_view *v, size_t o, size_t last) {
    if (last == SIZE_MAX) return;
    for (size_t b = last; b < o; b++) v->xf[b] |= PARAPET_XF_INVISIBLE;
}

/* Length of the run of bytes in 1..0x7F at the start of s[0..n), 16 or 8 bytes at a
** time. */
static size_t ascii_run(const unsigned char *s, size_t n) {
    size_t i = 0;
#if defined(__SSE2__)
    /* sixteen at a time first (SSE2 is part of x86-64) */
    while (i + 16 <= n) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        unsigned m = (unsigned)_mm_movemask_epi8(
            _mm_or_si128(x, _mm_cmpeq_epi8(x, _mm_setzero_si128())));
        if (m) return i + (size_t)__builtin_ctz(m);
        i += 16;
    }
#endif
    while (i + 8 <= n) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        uint64_t high = w & 0x8080808080808080ull;
        uint64_t zero = (w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull;
        if (high | zero) break;
        i += 8;
    }
    while (i < n && s[i] - 1u < 0x7Fu) i++;
    return i;
}

/* memcpy(d, s, r) for the short runs of build_base, inline: libc's memcpy costs a call
** and a size dispatch per run, as much as copying a run of a few bytes (texts that
** mix ASCII with other characters have many).  Overlapping loads and stores, as
** memcpy does, never outside s[0..r) and d[0..r). */
static inline void copy_run(char *restrict d, const unsigned char *restrict s, size_t r) {
    if (r >= 16) {
        for (size_t q = 0; q + 16 <= r; q += 16) memcpy(d + q, s + q, 16);
        memcpy(d + r - 16, s + r - 16, 16);
    } else if (r >= 8) {
        uint64_t a, b;
        memcpy(&a, s, 8);
        memcpy(&b, s + r - 8, 8);
        memcpy(d, &a, 8);
        memcpy(d + r - 8, &b, 8);
    } else if (r >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + r - 4, 4);
        memcpy(d, &a, 4);
        memcpy(d + r - 4, &b, 4);
    } else {
        for (size_t q = 0; q < r; q++) d[q] = (char)s[q];
    }
}

/* Fills the maps of r bytes copied unchanged from source offset `base`: byte q maps to
** [base + q, base + q + 1) with no xf bits, in blocks of 8 entries: up to 7 entries
** past r are written too (build_base keeps FOLD_SLACK spare entries; a later write
** overwrites them).  The arrays are the caller's and do not overlap.  SSE2 stores
** (part of x86-64). */
static inline void fill_identity(uint32_t *restrict ss, uint32_t *restrict se,
                                 uint16_t *restrict xf, uint32_t base, size_t r) {
#if defined(__SSE2__)
    __m128i a = _mm_add_epi32(_mm_set1_epi32((int)base), _mm_setr_epi32(0, 1, 2, 3));
    const __m128i four = _mm_set1_epi32(4), one = _mm_set1_epi32(1), zero = _mm_setzero_si128();
    for (size_t q = 0; q < r; q += 8) {
        __m128i b = _mm_add_epi32(a, four);
        _mm_storeu_si128((__m128i *)(void *)(ss + q), a);
        _mm_storeu_si128((__m128i *)(void *)(ss + q + 4), b);
        _mm_storeu_si128((__m128i *)(void *)(se + q), _mm_add_epi32(a, one));
        _mm_storeu_si128((__m128i *)(void *)(se + q + 4), _mm_add_epi32(b, one));
        _mm_storeu_si128((__m128i *)(void *)(xf + q), zero);
        a = _mm_add_epi32(b, four);
    }
#else
    for (size_t q = 0; q < r; q++) {
        ss[q] = base + (uint32_t)q;
        se[q] = base + (uint32_t)q + 1;
        xf[q] = 0;
    }
#endif
}

/* Writes v to p[0..4). */
static inline void put4_u32(uint32_t *p, uint32_t v) {
    uint32_t w[4] = {v, v, v, v};
    memcpy(p, w, sizeof w);
}
static inline void put4_u16(uint16_t *p, uint16_t v) {
    uint16_t w[4] = {v, v, v, v};
    memcpy(p, w, sizeof w);
}

/* Copies the 16 bytes at b (a window of five ideographs, or fewer and then other
** bytes) to vs and writes the map entries of five ideographs from source offset
** `base`: [base + 3q, base + 3q + 3) for each of their bytes, no xf bits; 16 entries
** of each map whatever the caller keeps (the rest is written again later: the caller
** has room for them). */
static inline void copy_ideograph_window(char *restrict vs, uint32_t *restrict ss,
                                         uint32_t *restrict se, uint16_t *restrict xf,
                                         const unsigned char *b, uint32_t base) {
    memcpy(vs, b, 16);
#if defined(__SSE2__)
    /* four vectors of four entries per map (GCC leaves the loop below as 32 scalar
    ** stores) */
    __m128i a = _mm_set1_epi32((int)base), three = _mm_set1_epi32(3);
    __m128i a0 = _mm_add_epi32(a, _mm_setr_epi32(0, 0, 0, 3));
    __m128i a1 = _mm_add_epi32(a, _mm_setr_epi32(3, 3, 6, 6));
    __m128i a2 = _mm_add_epi32(a, _mm_setr_epi32(6, 9, 9, 9));
    __m128i a3 = _mm_add_epi32(a, _mm_setr_epi32(12, 12, 12, 15));
    _mm_storeu_si128((__m128i *)(void *)ss, a0);
    _mm_storeu_si128((__m128i *)(void *)(ss + 4), a1);
    _mm_storeu_si128((__m128i *)(void *)(ss + 8), a2);
    _mm_storeu_si128((__m128i *)(void *)(ss + 12), a3);
    _mm_storeu_si128((__m128i *)(void *)se, _mm_add_epi32(a0, three));
    _mm_storeu_si128((__m128i *)(void *)(se + 4), _mm_add_epi32(a1, three));
    _mm_storeu_si128((__m128i *)(void *)(se + 8), _mm_add_epi32(a2, three));
    _mm_storeu_si128((__m128i *)(void *)(se + 12), _mm_add_epi32(a3, three));
    _mm_storeu_si128((__m128i *)(void *)xf, _mm_setzero_si128());
    _mm_storeu_si128((__m128i *)(void *)(xf + 8), _mm_setzero_si128());
#else
    for (int q = 0; q < 16; q++) {
        ss[q] = base + 3 * (uint32_t)(q / 3);
        se[q] = ss[q] + 3;
        xf[q] = 0;
    }
#endif
}

/* Builds t->base from s[0..n).  Invariant of the loop: base capacity >= bytes written
** + input bytes left + 1, since an ASCII byte never grows; only clusters and
** replacement characters, which can grow, reserve more. */
#if defined(__GNUC__) && !defined(__clang__)
/* GCC would turn fill_identity's stores of zero xf bits into a call to memset for
** each ASCII run (a call costs more than the run on short texts). */
__attribute__((optimize("no-tree-loop-distribute-patterns")))
#endif
static pp_status build_base(pp_text *t, const unsigned char *s, size_t n, unsigned flags,
                            size_t *bad_offset) {
    pp_view *v = &t->base;
    const int slow = (flags & PP_NORM_SLOW_FOLD_) != 0;
    if (view_reserve(v, n + BASE_SLACK)) return PARAPET_ERR_NOMEM;
    size_t i = 0, o = 0;
    size_t last = SIZE_MAX; /* base offset of the last emitted character */
    int pending = 0;        /* the next emitted character follows a removal */
    uint32_t prev_cp = 0;   /* last code point emitted; 0 right after a removal */
    int flag_tags = 0;      /* 1 + tags seen in a subdivision flag's tag sequence */
    while (i < n) {
        unsigned c = s[i];
        /* Fast path: a run of ASCII (not NUL), less its last byte when a possible
        ** combining mark follows it. */
        size_t run = c - 1u < 0x7Fu ? ascii_run(s + i, n - i) : 0;
        if (run && i + run < n && s[i + run] >= 0x80 &&
            (slow || !base_next_ok(s + i + run, n - i - run)))
            run--;
        if (run) {
            size_t r = run;
            copy_run(v->s + o, s + i, r);
            fill_identity(v->src_start + o, v->src_end + o, v->xf + o, (uint32_t)i, r);
            if (pending) {
                v->xf[o] |= PARAPET_XF_INVISIBLE;
                pending = 0;
            }
            o += r;
            i += r;
            prev_cp = s[i - 1];
            flag_tags = 0;
            last = o - 1;
            continue;
        }
        if (c == 0) {
            flag_tags = 0;
            t->signals |= PP_SIG_NUL;
            mark_before_removal(v, o, last);
            pending = 1;
            prev_cp = 0;
            i++;
            continue;
        }
        uint32_t cp;
        size_t k;
        /* Fast path: a 2- or 3-byte character that NFKC leaves alone (an ideograph,
        ** a Hangul syllable, kana, an accented Latin letter, CJK punctuation...)
        ** followed by one that cannot join its cluster.  The general path below
        ** would copy it unchanged too; the tests compare the two. */
        k = slow ? 0 : dec_mb(s + i, n - i, &cp);
        if (k && (kbits(cp) & BK_SAFE)) {
            /* a run of them, each decoded once */
            uint16_t xf = pending ? PARAPET_XF_INVISIBLE : 0;
            int done = 0;
            char *restrict vs = v->s;
            uint32_t *restrict ss = v->src_start, *restrict se = v->src_end;
            uint16_t *restrict vx = v->xf;
            int ended = 0; /* the current character ends a run of ideographs */
            for (;;) {
                if (k == 3 && !xf && !ended && n - i >= 16) {
                    /* A run of CJK ideographs, counted without decoding, five at a
                    ** time while the 16-byte windows are full of them: each of the
                    ** first t - 1 is followed by an ideograph (a starter), so each is
                    ** copied as below, a window at a time; the last stays the
                    ** current one (copied too, and again below). */
                    unsigned c = pp_ideo16_count(s + i);
                    if (c >= 2) {
                        size_t t_ = 0;
                        for (;;) {
                            copy_ideograph_window(vs + o + 3 * t_, ss + o + 3 * t_,
                                                  se + o + 3 * t_, vx + o + 3 * t_,
                                                  s + i + 3 * t_, (uint32_t)(i + 3 * t_));
                            t_ += c;
                            if (c < 5 || n - (i + 3 * t_) < 16) break;
                            c = pp_ideo16_count(s + i + 3 * t_);
                            if (!c) break;
                        }
                        size_t g = t_ - 1;
                        o += 3 * g;
                        i += 3 * g;
                        pending = 0;
                        flag_tags = 0;
                        last = o - 3;
                        prev_cp = pp_ideo_cp(s + i - 3);
                        cp = pp_ideo_cp(s + i);
                        ended = c < 5; /* (else the windows ran out: count again) */
                        continue;
                    }
                }
                ended = 0;
                size_t j = i + k, k2 = 0;
                uint32_t cp2 = 0;
                if (j < n && s[j] >= 0x80 &&
                    !((k2 = dec_mb(s + j, n - j, &cp2)) && (kbits(cp2) & BK_STARTER)))
                    break; /* the general path takes cp: what follows may join it */
                pending = 0;
                flag_tags = 0;
                last = o;
                if (k >= 3 || j < n) {
                    /* the maps four entries at a time: with a 3- or 4-byte character,
                    ** or input left after it, the invariant leaves room for a fourth */
                    put4_u32(ss + o, (uint32_t)i);
                    put4_u32(se + o, (uint32_t)j);
                    put4_u16(vx + o, xf);
                    vs[o] = (char)s[i];
                    vs[o + 1] = (char)s[i + 1];
                    if (k > 2) vs[o + 2] = (char)s[i + 2];
                    if (k > 3) vs[o + 3] = (char)s[i + 3];
                } else {
                    for (size_t b = 0; b < k; b++) {
                        vs[o + b] = (char)s[i + b];
                        ss[o + b] = (uint32_t)i;
                        se[o + b] = (uint32_t)j;
                        vx[o + b] = xf;
                    }
                }
                o += k;
                prev_cp = cp;
                xf = 0;
                i = j;
                if (!k2) {
                    done = 1;
                    break;
                }
                if (cp2 == 0x3000 || cp2 - 0xFF01u <= 0x5Du) {
                    /* A fullwidth form between ideographs ("，"): the fast path
                    ** below, taken here so that the run goes on after it. */
                    size_t j3 = i + k2, k3 = 0;
                    uint32_t cp3 = 0;
                    if (j3 < n && s[j3] >= 0x80 &&
                        !((k3 = dec_mb(s + j3, n - j3, &cp3)) && (kbits(cp3) & BK_STARTER))) {
                        cp = cp2; /* what follows may join it: the general path */
                        k = k2;
                        break;
                    }
                    char a = cp2 == 0x3000 ? ' ' : (char)(cp2 - 0xFEE0);
                    vs[o] = a;
                    ss[o] = (uint32_t)i;
                    se[o] = (uint32_t)j3;
                    vx[o] = PARAPET_XF_CASE;
                    if (!width_punct_cp(cp2)) t->signals |= PP_SIG_COMPAT;
                    last = o;
                    o++;
                    prev_cp = (unsigned char)a;
                    i = j3;
                    if (!k3) {
                        done = 1;
                        break;
                    }
                    cp2 = cp3;
                    k2 = k3;
                }
                if (!(kbits(cp2) & BK_SAFE)) {
                    cp = cp2; /* a starter, but not one to copy: decoded already */
                    k = k2;
                    break;
                }
                cp = cp2;
                k = k2;
            }
            if (done) continue;
        }
        if (k && (cp == 0x3000 || cp - 0xFF01u <= 0x5Du) &&
            base_next_ok(s + i + k, n - i - k)) {
            /* Fast path: a fullwidth form of an ASCII character, or the ideographic
            ** space; NFKC makes it the ASCII character (common in CJK text). */
            char a = cp == 0x3000 ? ' ' : (char)(cp - 0xFEE0);
            v->s[o] = a;
            v->src_start[o] = (uint32_t)i;
            v->src_end[o] = (uint32_t)(i + k);
            v->xf[o] = (uint16_t)(PARAPET_XF_CASE | (pending ? PARAPET_XF_INVISIBLE : 0));
            if (!width_punct_cp(cp)) t->signals |= PP_SIG_COMPAT; /* (cp is s[i..i+k)) */
            pending = 0;
            flag_tags = 0;
            last = o;
            o++;
            prev_cp = (unsigned char)a;
            i += k;
            continue;
        }
        if (!k) k = pp_utf8_decode((const char *)s + i, n - i, &cp);
        if (!k) {
            if (!(flags & PP_NORM_REPLACE_INVALID)) {
                if (bad_offset) *bad_offset = i;
                return PARAPET_ERR_UTF8;
            }
            t->signals |= PP_SIG_INVALID_UTF8;
            flag_tags = 0;
            if (view_reserve(v, o + 3 + (n - i - 1) + FOLD_SLACK)) return PARAPET_ERR_NOMEM;
            for (int b = 0; b < 3; b++) {
                v->s[o + b] = "\xEF\xBF\xBD"[b];
                v->src_start[o + b] = (uint32_t)i;
                v->src_end[o + b] = (uint32_t)i + 1;
                v->xf[o + b] = pending ? PARAPET_XF_INVISIBLE : 0;
            }
            pending = 0;
            last = o;
            o += 3;
            prev_cp = 0xFFFD;
            i++;
            continue;
        }
        int inv = invisible_kind(cp);
        if (inv) {
            uint32_t next = 0;
            if (i + k < n && !pp_utf8_decode((const char *)s + i + k, n - i - k, &next))
                next = 0;
            int quiet = 0;
            if (cp == 0xFEFF && i == 0)
                quiet = 1; /* byte-order mark at the start */
            else if ((cp == 0xFE0E || cp == 0xFE0F) && vs_is_ordinary(prev_cp))
                quiet = 1;
            else if ((cp == 0x200C || cp == 0x200D) && joiner_context_ok(prev_cp) &&
                     joiner_context_ok(next))
                quiet = 1;
            if (inv != INV_TAG) flag_tags = 0;
            if (inv == INV_TAG) {
                /* Flags of England, Scotland, Wales are U+1F3F4, tag letters ("gbeng")
                ** and CANCEL TAG: ordinary, so neither reported nor decoded.
                ** Subdivision codes are at most 6 tags long; a longer run is a payload. */
                if (prev_cp == 0x1F3F4 && cp >= 0xE0061 && cp <= 0xE007A) flag_tags = 1;
                if (flag_tags && flag_tags <= 7) {
                    quiet = 1;
                    flag_tags++;
                    if (cp == 0xE007F || cp < 0xE0030 || cp > 0xE007A) flag_tags = 0;
                } else {
                    flag_tags = 0;
                    t->signals |= PP_SIG_TAG_CHARS;
                    if (cp >= 0xE0020 && cp <= 0xE007E &&
                        tag_push(t, (char)(cp - 0xE0000), (uint32_t)i))
                        return PARAPET_ERR_NOMEM;
                }
            } else if (!quiet) {
                t->signals |= inv == INV_ZW     ? PP_SIG_ZERO_WIDTH
                              : inv == INV_BIDI ? PP_SIG_BIDI
                                                : PP_SIG_INVISIBLE;
            }
            if (!quiet) {
                mark_before_removal(v, o, last);
                pending = 1;
            }
            prev_cp = 0;
            i += k;
            continue;
        }
        flag_tags = 0;
        /* A cluster: cp and the combining marks after it. */
        size_t e = i + k;
        int ncp = 1;
        while (e < n && ncp < CLUSTER_MAX && s[e] >= 0x80) {
            uint32_t c2;
            size_t k2 = pp_utf8_decode((const char *)s + e, n - e, &c2);
            if (!k2 || !continues_cluster(c2)) break;
            e += k2;
            ncp++;
        }
        uint16_t xf = pending ? PARAPET_XF_INVISIBLE : 0;
        pending = 0;
        utf8proc_int32_t buf[NFKC_MAX];
        utf8proc_ssize_t r = 0;
        if (ncp > 1 || (cp >= 0x80 && !plain_wide(cp) &&
                        utf8proc_get_property((utf8proc_int32_t)cp)->decomp_seqindex !=
                            UINT16_MAX)) {
            const utf8proc_option_t opt = (utf8proc_option_t)(
                UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE);
            r = utf8proc_decompose(s + i, (utf8proc_ssize_t)(e - i), buf, NFKC_MAX, opt);
            if (r > 0 && r <= NFKC_MAX) r = utf8proc_normalize_utf32(buf, r, opt);
            if (r > NFKC_MAX) r = 0; /* cannot happen with the bounds above */
        }
        last = o;
        if (r <= 0) { /* NFKC leaves it alone: copy the source bytes */
            for (size_t b = i; b < e; b++, o++) {
                v->s[o] = (char)s[b];
                v->src_start[o] = (uint32_t)i;
                v->src_end[o] = (uint32_t)e;
                v->xf[o] = xf;
            }
            prev_cp = cp;
        } else {
            char enc[NFKC_MAX * 4];
            size_t len = 0;
            for (utf8proc_ssize_t q = 0; q < r; q++)
                len += pp_utf8_encode((uint32_t)buf[q], enc + len);
            if (len != e - i || memcmp(enc, s + i, len)) {
                xf |= PARAPET_XF_CASE;
                if (!width_punct(s + i, e - i)) t->signals |= PP_SIG_COMPAT;
            }
            if (view_reserve(v, o + len + (n - e) + FOLD_SLACK)) return PARAPET_ERR_NOMEM;
            for (size_t b = 0; b < len; b++, o++) {
                v->s[o] = enc[b];
                v->src_start[o] = (uint32_t)i;
                v->src_end[o] = (uint32_t)e;
                v->xf[o] = xf;
            }
            prev_cp = (uint32_t)buf[r - 1];
        }
        i = e;
    }
    /* BASE_SLACK (>= FOLD_SLACK) bytes past the end stay readable for build_fold's
    ** stretch and word paths */
    if (view_reserve(v, o + BASE_SLACK)) return PARAPET_ERR_NOMEM;
    v->s[o] = 0;
    v->n = o;
    return PARAPET_OK; /* run[] is the fold view's alone (text.h): left unwritten here */
}

/* ----------------------------------------------------------- fold: units */

/* One folded code point on its way to the fold view. */
typedef struct fold_unit {
    uint32_t cp;     /* folded code point */
    uint32_t b0, b1; /* base-view bytes [b0,b1) it came from */
    uint16_t xf;     /* PARAPET_XF_* so far (base bits included) */
    uint8_t cls : 4; /* FC_* */
    uint8_t del : 1; /* dropped by separator joining */
    uint8_t word : 1;/* can be part of a word: letter, digit, mark, leet or mask char */
    uint8_t sep : 1; /* may separate the letters of a spelled-out word */
} fold_unit;

enum { FC_OTHER, FC_SPACE, FC_LETTER, FC_DIGIT, FC_MARK, FC_MASK };

/* ASCII unit properties, packed: class (low 4 bits), word (bit 4), sep (bit 5). */
#define UA_CLS(c)                                                                  \
    ((((c) | 0x20) >= 'a' && ((c) | 0x20) <= 'z') ? FC_LETTER                      \
     : ((c) >= '0' && (c) <= '9')                 ? FC_DIGIT                       \
     : ((c) == ' ' || ((c) >= 9 && (c) <= 13))    ? FC_SPACE                       \
                                                  : FC_OTHER)
#define UA_WORD(c)                                                                 \
    (UA_CLS(c) == FC_LETTER || UA_CLS(c) == FC_DIGIT || (c) == '@' || (c) == '$' ||  \
     (c) == '!' || (c) == '|' || (c) == '*' || (c) == '#')
#define UA_SEP(c)                                                                  \
    ((c) == ' ' || (c) == '\t' || (c) == '.' || (c) == '-' || (c) == '_' ||        \
     (c) == ',' || (c) == '/' || (c) == '|' || (c) == '~' || (c) == '+')
#define UA_OF(c) (UA_CLS(c) | (UA_WORD(c) << 4) | (UA_SEP(c) << 5))
#define UA_4(c) UA_OF(c), UA_OF((c) + 1), UA_OF((c) + 2), UA_OF((c) + 3)
#define UA_16(c) UA_4(c), UA_4((c) + 4), UA_4((c) + 8), UA_4((c) + 12)
#define UA_64(c) UA_16(c), UA_16((c) + 16), UA_16((c) + 32), UA_16((c) + 48)
static const uint8_t k_unit_ascii[128] = {UA_64(0), UA_64(64)};

/* Fills x's class and flags for code point cp of class cls (non-ASCII) or from the
** ASCII table. */
static inline void unit_set_class(fold_unit *x, uint32_t cp, uint8_t cls) {
    if (cp < 0x80) {
        uint8_t a = k_unit_ascii[cp];
        x->cls = a & 15;
        x->word = (a >> 4) & 1;
        x->sep = (a >> 5) & 1;
    } else {
        x->cls = cls;
        x->word = cls == FC_LETTER || cls == FC_DIGIT || cls == FC_MARK;
        x->sep = cp == 0xB7 || cp == 0x2022;
    }
    x->del = 0;
}

static uint8_t category_class(int cat, uint32_t cp) {
    switch (cat) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
        return FC_LETTER;
    case UTF8PROC_CATEGORY_ND:
        return FC_DIGIT;
    case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
        return FC_MARK;
    case UTF8PROC_CATEGORY_ZS: case UTF8PROC_CATEGORY_ZL: case UTF8PROC_CATEGORY_ZP:
        return FC_SPACE;
    default:
        return cp == 0x85 ? FC_SPACE : FC_OTHER;
    }
}

/* Scripts whose diacritics are dropped in the fold view.  Not Devanagari, Thai,
** Hangul...: there the marks are vowels, and stripping them would change the word. */
static int strips_marks(pp_script s) {
    return s == PP_SCRIPT_LATIN || s == PP_SCRIPT_GREEK || s == PP_SCRIPT_CYRILLIC ||
           s == PP_SCRIPT_ARABIC || s == PP_SCRIPT_HEBREW;
}

/* Grows t->scratch to hold `need` units. */
static int units_reserve(pp_text *t, size_t need) {
    if (need <= t->scratch_cap) return 0;
    size_t c = t->scratch_cap ? t->scratch_cap : 256;
    while (c < need) c *= 2;
    fold_unit *u = pp_realloc(t->scratch, c * sizeof *u);
    if (!u) return -1;
    t->scratch = u;
    t->scratch_cap = c;
    return 0;
}

/* Explodes base-view bytes [from, n) into t->scratch: case-folded, tatweel dropped,
** marks stripped after Latin/Greek/Cyrillic/Arabic/Hebrew.  `from` must start a
** character that follows a non-letter (or the start).  Invariant: capacity >= units
** + base bytes left + FOLD_MAX (an ASCII byte makes exactly one unit). */
static pp_status make_units(pp_text *t, size_t from, size_t n, size_t *m_out) {
    const pp_view *b = &t->base;
    const unsigned char *s = (const unsigned char *)b->s;
    size_t i = from, m = 0;
    if (units_reserve(t, n - from + FOLD_MAX)) return PARAPET_ERR_NOMEM;
    fold_unit *u = t->scratch;
    pp_script prev_script = PP_SCRIPT_COMMON;
    while (i < n) {
        unsigned c = s[i];
        if (c < 0x80) {
            fold_unit *x = &u[m++];
            x->b0 = (uint32_t)i;
            x->b1 = (uint32_t)i + 1;
            x->xf = b->xf[i];
            unit_set_class(x, c, 0);
            if (c - 'A' < 26u) {
                c += 32;
                x->xf |= PARAPET_XF_CASE;
            }
            x->cp = c;
            prev_script = x->cls == FC_LETTER ? PP_SCRIPT_LATIN : PP_SCRIPT_COMMON;
            i++;
            continue;
        }
        uint32_t cp;
        size_t k = pp_utf8_decode((const char *)s + i, n - i, &cp);
        if (!k) { /* the base view is valid UTF-8; be defensive anyway */
            k = 1;
            cp = 0xFFFD;
        }
        uint16_t xf = 0;
        for (size_t j = i; j < i + k; j++) xf |= b->xf[j];
        if (cp == 0x0640) { /* Arabic tatweel: a stretch, not a letter */
            i += k;
            continue;
        }
        if (plain_wide(cp)) {
            if (units_reserve(t, m + 1 + (n - i - k) + FOLD_MAX)) return PARAPET_ERR_NOMEM;
            u = t->scratch;
            fold_unit *x = &u[m++];
            x->cp = cp;
            x->b0 = (uint32_t)i;
            x->b1 = (uint32_t)(i + k);
            x->xf = xf;
            unit_set_class(x, cp, FC_LETTER);
            prev_script = PP_SCRIPT_HAN; /* (or Hangul: neither strips marks) */
            i += k;
            continue;
        }
        const utf8proc_property_t *p = utf8proc_get_property((utf8proc_int32_t)cp);
        if (is_mark_category(p->category) && strips_marks(prev_script)) {
            if (m && u[m - 1].b1 == i) { /* the stripped mark joins its letter's span */
                u[m - 1].b1 = (uint32_t)(i + k);
                u[m - 1].xf |= (uint16_t)(xf | PARAPET_XF_ACCENT);
            }
            i += k;
            continue;
        }
        pp_script sc = pp_script_of(cp);
        int strip = strips_marks(sc);
        utf8proc_int32_t buf[FOLD_MAX];
        utf8proc_option_t opt = strip ? (utf8proc_option_t)(UTF8PROC_CASEFOLD | UTF8PROC_DECOMPOSE)
                                      : UTF8PROC_CASEFOLD;
        utf8proc_ssize_t r = utf8proc_decompose_char((utf8proc_int32_t)cp, buf, FOLD_MAX, opt, NULL);
        if (r < 1 || r > FOLD_MAX) {
            buf[0] = (utf8proc_int32_t)cp;
            r = 1;
        }
        if (p->casefold_seqindex != UINT16_MAX) xf |= PARAPET_XF_CASE;
        if (units_reserve(t, m + (size_t)r + (n - i - k) + FOLD_MAX)) return PARAPET_ERR_NOMEM;
        u = t->scratch;
        size_t first = m;
        int stripped = 0;
        for (utf8proc_ssize_t q = 0; q < r; q++) {
            uint32_t d = (uint32_t)buf[q];
            uint8_t cls = d < 0x80 ? (uint8_t)(k_unit_ascii[d] & 15)
                                   : category_class(utf8proc_category((utf8proc_int32_t)d), d);
            if (cls == FC_MARK && strip) {
                stripped = 1;
                continue;
            }
            fold_unit *x = &u[m++];
            x->cp = d;
            x->b0 = (uint32_t)i;
            x->b1 = (uint32_t)(i + k);
            x->xf = xf;
            unit_set_class(x, d, cls);
        }
        if (stripped)
            for (size_t q = first; q < m; q++) u[q].xf |= PARAPET_XF_ACCENT;
        prev_script = (m > first && u[first].cls == FC_LETTER) ? sc : PP_SCRIPT_COMMON;
        i += k;
    }
    *m_out = m;
    return PARAPET_OK;
}

/* ------------------------------------------------------- fold: word rules */

/* Leet stand-ins; '!' and '|' only count when a letter follows inside the word. */
static const char k_leet[128] = {
    ['0'] = 'o', ['1'] = 'i', ['3'] = 'e', ['4'] = 'a', ['5'] = 's', ['7'] = 't',
    ['8'] = 'b', ['9'] = 'g', ['@'] = 'a', ['$'] = 's', ['!'] = 'i', ['|'] = 'l'};

static inline int wordish(const fold_unit *x) { return x->word; }

/* Characters that may separate the letters of a spelled-out word. */
static inline int separator_cp(uint32_t cp) {
    switch (cp) {
    case ' ': case '\t': case '.': case '-': case '_': case ',': case '/': case '|':
    case '~': case '+': case 0xB7: case 0x2022:
        return 1;
    default:
        return 0;
    }
}

/* Does u[k] glue onto a neighbouring one-character token?  Word characters do,
** except '|' (a separator here) and a '!' that no letter follows ("k!"). */
static int glues(const fold_unit *u, size_t m, size_t k) {
    if (!wordish(&u[k]) || u[k].cp == '|') return 0;
    if (u[k].cp == '!') return k + 1 < m && u[k + 1].cls == FC_LETTER;
    return 1;
}

/* Is u[k] a one-character token: a letter or a leet stand-in with nothing that
** glues on either side? */
static int singleton(const fold_unit *u, size_t m, size_t k) {
    const fold_unit *x = &u[k];
    int ok = x->cls == FC_LETTER ||
             (x->cp < 0x80 && k_leet[x->cp] && x->cp != '!' && x->cp != '|');
    if (!ok) return 0;
    if (k > 0 && glues(u, m, k - 1)) return 0;
    if (k + 1 < m && glues(u, m, k + 1)) return 0;
    return 1;
}

/* Joins 3 or more one-character tokens separated by 1-3 separator characters each,
** the same separator string every time ("f.u.c.k", "f - u - c - k"): the separators
** are dropped (del) and the letters marked XF_SEPARATOR.  At least two of the tokens
** must be letters, so "1 2 3" stays a list of numbers; requiring one separator string
** keeps "such a f-u-c-k" from swallowing the article ("a" + " " + "f" + "-"...). */
static void join_separated(pp_text *t, fold_unit *u, size_t m) {
    size_t k = 0;
    while (k < m) {
        if (u[k].cls == FC_SPACE || (k + 1 < m && u[k + 1].cls == FC_LETTER) ||
            !singleton(u, m, k)) {
            k++;
            continue;
        }
        size_t last = k, j = k + 1, gap0 = 0, gap0_at = 0;
        int count = 1, letters = u[k].cls == FC_LETTER;
        for (;;) {
            size_t gap = 0, at = j;
            while (j < m && gap < 4 && u[j].sep) {
                j++;
                gap++;
            }
            if (gap < 1 || gap > 3 || j >= m || !singleton(u, m, j)) break;
            if (count == 1) {
                gap0 = gap;
                gap0_at = at;
            } else {
                int same = gap == gap0;
                for (size_t g = 0; same && g < gap; g++) same = u[at + g].cp == u[gap0_at + g].cp;
                if (!same) break;
            }
            count++;
            letters += u[j].cls == FC_LETTER;
            last = j;
            j++;
        }
        if (count >= 3 && letters >= 2) {
            for (size_t x = k; x <= last; x++) {
                if (u[x].sep)
                    u[x].del = 1;
                else
                    u[x].xf |= PARAPET_XF_SEPARATOR;
            }
            t->signals |= PP_SIG_SEPARATOR;
            k = last + 1;
        } else {
            k++; /* a chain may still start at the next token */
        }
    }
}

/* The ASCII letter a non-ASCII letter folds to, or 0.  Letters whose skeleton is a
** digit (Cyrillic be -> '6') are not folded: a letter should stay a letter. */
static char confusable_letter(uint32_t cp) {
    /* Greek lowercase letters that read as Latin ones in running text but whose TS #39
    ** skeleton is not ASCII (kappa's is U+0138 kra, upsilon's is itself...). */
    switch (cp) {
    case 0x3BA: return 'k'; /* κ */
    case 0x3C5: return 'u'; /* υ */
    case 0x3BD: return 'v'; /* ν */
    case 0x3C4: return 't'; /* τ */
    case 0x3C9: return 'w'; /* ω */
    case 0x3C7: return 'x'; /* χ */
    case 0x3B7: return 'n'; /* η */
    case 0x3B9: return 'i'; /* ι */
    case 0x3B5: return 'e'; /* ε */
    case 0x3B1: return 'a'; /* α */
    case 0x3B2: return 'b'; /* β */
    case 0x3BF: return 'o'; /* ο */
    case 0x3C1: return 'p'; /* ρ */
    case 0x43A: return 'k'; /* Cyrillic к */
    }
    char a = pp_confusable_ascii(cp);
    if (a >= 'A' && a <= 'Z') return (char)(a + 32);
    return (a >= 'a' && a <= 'z') ? a : 0;
}

/* confusable_letter for the letters of fold_word, which asks it of every non-Latin
** letter: an FK_LETTER character has no look-alike by construction (fold_kind_of),
** so most of them (Han, kana, Hangul, Arabic...) skip the switch and the search. */
static inline char word_confusable(uint32_t cp) {
    return fold_kind(cp) == FK_LETTER ? 0 : confusable_letter(cp);
}

/* Applies the word-level rules to the word u[ws..we) (deleted units skipped):
** mixed-script signal, confusables, leet, masks. */
static void fold_word(pp_text *t, fold_unit *u, size_t ws, size_t we) {
    int has_letter = 0, has_latin = 0, has_cg = 0, all_conf = 1, has_nonletter = 0;
    int nonascii = 0;
    for (size_t x = ws; x < we; x++) {
        if (u[x].del) continue;
        if (u[x].cls != FC_LETTER) {
            has_nonletter |= u[x].cls != FC_MARK;
            continue;
        }
        has_letter = 1;
        uint32_t cp = u[x].cp;
        if (cp < 0x80) {
            has_latin = 1;
            continue;
        }
        nonascii = 1;
        pp_script sc = pp_script_of(cp);
        if (sc == PP_SCRIPT_LATIN)
            has_latin = 1;
        else if (sc == PP_SCRIPT_CYRILLIC || sc == PP_SCRIPT_GREEK)
            has_cg = 1;
        if (all_conf && sc != PP_SCRIPT_LATIN && !word_confusable(cp)) all_conf = 0;
    }
    if (!has_letter) return; /* "2024", "$100", "#": left alone */
    if (has_latin && has_cg) t->signals |= PP_SIG_MIXED_SCRIPT;
    if (nonascii && (has_latin || all_conf)) {
        for (size_t x = ws; x < we; x++) {
            if (u[x].del || u[x].cls != FC_LETTER || u[x].cp < 0x80) continue;
            char a = word_confusable(u[x].cp);
            if (!a) continue;
            u[x].cp = (unsigned char)a;
            u[x].xf |= PARAPET_XF_CONFUSABLE;
            t->signals |= PP_SIG_CONFUSABLE;
        }
    }
    if (!has_nonletter) return; /* only letters (and marks): nothing left to do */
    /* Leet imitates Latin letters, so it is read only in words of the alphabets it is
    ** written in (Latin, Greek, Cyrillic): in "了48次" or "عام2020" a digit is a
    ** digit. */
    for (size_t x = ws; (has_latin || has_cg) && x < we; x++) {
        uint32_t cp = u[x].cp;
        if (u[x].del || cp >= 0x80 || !k_leet[cp] || u[x].cls == FC_LETTER) continue;
        if (cp == '!' || cp == '|') {
            size_t y = x + 1;
            while (y < we && u[y].del) y++;
            if (y >= we || u[y].cls != FC_LETTER) continue;
        }
        u[x].cp = (unsigned char)k_leet[cp];
        u[x].cls = FC_LETTER;
        u[x].xf |= PARAPET_XF_LEET;
        t->signals |= PP_SIG_LEET;
    }
    /* '*' and '#' runs between letters are masked letters. */
    int prev_letter = 0;
    for (size_t x = ws; x < we; x++) {
        if (u[x].del) continue;
        if (u[x].cp != '*' && u[x].cp != '#') {
            prev_letter = u[x].cls == FC_LETTER;
            continue;
        }
        size_t y = x;
        while (y < we && (u[y].del || u[y].cp == '*' || u[y].cp == '#')) y++;
        if (prev_letter && y < we && u[y].cls == FC_LETTER) {
            for (size_t z = x; z < y; z++) {
                if (u[z].del) continue;
                u[z].cp = '*';
                u[z].cls = FC_MASK;
                u[z].xf |= PARAPET_XF_MASK;
            }
        }
        prev_letter = 0;
        x = y - 1;
    }
}

static void fold_words(pp_text *t, fold_unit *u, size_t m) {
    size_t i = 0;
    while (i < m) {
        if (u[i].del || !wordish(&u[i])) {
            i++;
            continue;
        }
        size_t we = i + 1;
        while (we < m && (u[we].del || wordish(&u[we]))) we++;
        fold_word(t, u, i, we);
        i = we;
    }
}

/* ---------------------------------------------------------- fold: emission */

/* Appends the units to t->fold at *o_io: runs of one letter (or mask) collapse to
** one copy with run[] = the run length, whitespace runs become one ' '. */
static pp_status emit_fold(pp_text *t, const fold_unit *u, size_t m, size_t *o_io) {
    pp_view *f = &t->fold;
    const pp_view *b = &t->base;
    size_t o = *o_io;
    if (view_reserve(f, o + m + 4)) return PARAPET_ERR_NOMEM;
    size_t i = 0;
    while (i < m) {
        if (u[i].del) {
            i++;
            continue;
        }
        const fold_unit *x = &u[i];
        size_t j = i + 1, last = i;
        unsigned count = 1;
        uint16_t xf = x->xf;
        uint32_t cp = x->cp;
        if (x->cls == FC_SPACE) {
            cp = ' ';
            for (; j < m && (u[j].del || u[j].cls == FC_SPACE); j++) {
                if (u[j].del) continue;
                last = j;
                xf |= u[j].xf;
            }
        } else if (x->cls == FC_LETTER || x->cls == FC_MASK) {
            for (; j < m && (u[j].del || (u[j].cp == cp && u[j].cls == x->cls)); j++) {
                if (u[j].del) continue;
                last = j;
                count++;
                xf |= u[j].xf;
            }
            if (count >= 3) {
                xf |= PARAPET_XF_REPEAT;
                t->signals |= PP_SIG_REPEAT;
            }
        }
        if (cp == ' ' && x->cls == FC_SPACE && o && f->s[o - 1] == ' ') {
            /* Whitespace on both sides of characters that folded away at the start
            ** of a segment: one space, as when the whole text goes through here. */
            f->src_end[o - 1] = b->src_end[u[last].b1 - 1];
            f->xf[o - 1] |= xf;
            i = j;
            continue;
        }
        char enc[4];
        size_t k;
        if (cp < 0x80) {
            enc[0] = (char)cp;
            k = 1;
        } else {
            k = pp_utf8_encode(cp, enc);
        }
        if (o + k >= f->cap && view_reserve(f, PP_MAX(o + k, f->cap * 2)))
            return PARAPET_ERR_NOMEM;
        uint32_t s0 = b->src_start[x->b0], s1 = b->src_end[u[last].b1 - 1];
        uint8_t run = (uint8_t)(count > 255 ? 255 : count);
        for (size_t q = 0; q < k; q++, o++) {
            f->s[o] = enc[q];
            f->src_start[o] = s0;
            f->src_end[o] = s1;
            f->xf[o] = xf;
            f->run[o] = run;
        }
        i = j;
    }
    *o_io = o;
    return PARAPET_OK;
}

/* ---------------------------------------------------------- fast-path tables */

/* Does NFKC leave cp, alone in its cluster, unchanged? */
static int nfkc_stable(uint32_t cp) {
    char enc[4];
    size_t k = pp_utf8_encode(cp, enc);
    utf8proc_int32_t buf[NFKC_MAX];
    const utf8proc_option_t opt =
        (utf8proc_option_t)(UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE);
    utf8proc_ssize_t r = utf8proc_decompose((const utf8proc_uint8_t *)enc,
                                            (utf8proc_ssize_t)k, buf, NFKC_MAX, opt);
    if (r > 0 && r <= NFKC_MAX) r = utf8proc_normalize_utf32(buf, r, opt);
    return r == 1 && (uint32_t)buf[0] == cp;
}

/* The FK_* kind of cp (U+0080..U+FFFF), worked out exactly as make_units and
** fold_word would treat it; for FK_LATIN also fills k_latin_fold / k_latin_xf. */
static int fold_kind_of(uint32_t cp) {
    if (cp == 0x0640) return FK_SLOW; /* tatweel is dropped */
    const utf8proc_property_t *p = utf8proc_get_property((utf8proc_int32_t)cp);
    if (is_mark_category(p->category)) return FK_SLOW;
    uint8_t cls = plain_wide(cp) ? FC_LETTER : category_class(p->category, cp);
    pp_script sc = pp_script_of(cp);
    int strip = strips_marks(sc);
    utf8proc_int32_t buf[FOLD_MAX];
    utf8proc_ssize_t r = 1;
    buf[0] = (utf8proc_int32_t)cp;
    int casefolds = 0;
    if (!plain_wide(cp)) {
        utf8proc_option_t opt = strip ? (utf8proc_option_t)(UTF8PROC_CASEFOLD | UTF8PROC_DECOMPOSE)
                                      : UTF8PROC_CASEFOLD;
        r = utf8proc_decompose_char((utf8proc_int32_t)cp, buf, FOLD_MAX, opt, NULL);
        if (r < 1 || r > FOLD_MAX) {
            buf[0] = (utf8proc_int32_t)cp;
            r = 1;
        }
        casefolds = p->casefold_seqindex != UINT16_MAX;
    }
    int same = r == 1 && (uint32_t)buf[0] == cp && !casefolds;
    if (same && cls == FC_LETTER && sc != PP_SCRIPT_LATIN)
        return confusable_letter(cp) ? FK_CONF : FK_LETTER;
    if (same && cls == FC_OTHER && cp != 0xB7 && cp != 0x2022) return FK_PUNCT;
    if (cp >= 0x800 || sc != PP_SCRIPT_LATIN || cls != FC_LETTER) return FK_SLOW;
    char out[2];
    int m = 0, stripped = 0;
    for (utf8proc_ssize_t q = 0; q < r; q++) {
        uint32_t d = (uint32_t)buf[q];
        if (d >= 0x80 && is_mark_category(utf8proc_category((utf8proc_int32_t)d)) && strip) {
            stripped = 1;
            continue;
        }
        if (d - 'a' >= 26u || m == 2) return FK_SLOW;
        out[m++] = (char)d;
    }
    if (!m) return FK_SLOW;
    k_latin_fold[cp][0] = out[0];
    k_latin_fold[cp][1] = m == 2 ? out[1] : 0;
    k_latin_xf[cp] = (uint16_t)((casefolds ? PARAPET_XF_CASE : 0) |
                                (stripped ? PARAPET_XF_ACCENT : 0));
    return FK_LATIN;
}

static uint8_t bits_of(uint32_t cp) {
    uint8_t f = (uint8_t)(fold_kind_of(cp) << 1);
    if (!continues_cluster(cp)) f |= BK_STARTER;
    if (!invisible_kind(cp) && !continues_cluster(cp) && nfkc_stable(cp)) f |= BK_SAFE;
    return f;
}

static void init_tables(void) {
    for (uint32_t cp = 0x80; cp < 0x10000; cp++)
        if (cp < 0xD800 || cp > 0xDFFF) k_bmp[cp] = bits_of(cp);
    for (uint32_t cp = SMP_LO; cp < SMP_HI; cp++) k_smp[cp - SMP_LO] = bits_of(cp);
    for (uint32_t cp = 0x4E00; cp <= 0x9FFF; cp++) assert(k_bmp[cp] == K_IDEOGRAPH);
}

/* ------------------------------------------------------------ fold: driver */

/* Classes of ASCII bytes for the fold fast path.  FF_SLOW: non-ASCII, or a leet or
** mask character ('!' is handled apart). */
enum { FF_SLOW = 0, FF_SPACE, FF_LETTER, FF_DIGIT, FF_PLAIN };

#define FF_OF(c)                                                                   \
    ((c) >= 0x80                                         ? FF_SLOW                 \
     : (((c) | 0x20) >= 'a' && ((c) | 0x20) <= 'z')      ? FF_LETTER               \
     : ((c) >= '0' && (c) <= '9')                        ? FF_DIGIT                \
     : ((c) == ' ' || ((c) >= 9 && (c) <= 13))           ? FF_SPACE                \
     : ((c) == '@' || (c) == '$' || (c) == '!' || (c) == '|' || (c) == '*' ||      \
        (c) == '#')                                      ? FF_SLOW                 \
                                                         : FF_PLAIN)
#define FF_4(c) FF_OF(c), FF_OF((c) + 1), FF_OF((c) + 2), FF_OF((c) + 3)
#define FF_16(c) FF_4(c), FF_4((c) + 4), FF_4((c) + 8), FF_4((c) + 12)
#define FF_64(c) FF_16(c), FF_16((c) + 16), FF_16((c) + 32), FF_16((c) + 48)
static const uint8_t k_fast_class[256] = {FF_64(0), FF_64(64), FF_64(128), FF_64(192)};

static inline int fast_class(unsigned char c) { return k_fast_class[c]; }

/* Eight bytes at a time (w holds s[i..i+8), little-endian or not, read with memcpy).
** letter_end: the number of ASCII letters w starts with, or 0 when all eight are
** letters.  letter_pair: do two of the first len bytes (all letters) in a row spell
** the same letter, case aside ("ll", "oO")? */
#define SWAR_H 0x8080808080808080ull
#define SWAR_1 0x0101010101010101ull
static inline size_t letter_end(uint64_t w) {
    uint64_t x = (w | 0x20 * SWAR_1) & 0x7F * SWAR_1; /* lowercase, high bit off */
    uint64_t ge = x + (0x80 - 'a') * SWAR_1;           /* high bit: x >= 'a' */
    uint64_t gt = x + (0x7F - 'z') * SWAR_1;           /* high bit: x > 'z' */
    uint64_t other = ~(ge & ~gt & ~w) & SWAR_H;        /* high bit: not a letter */
    if (!other) return 0;
    unsigned b = 0; /* index of the first non-letter byte in memory order */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    b = (unsigned)__builtin_clzll(other) >> 3;
#else
    b = (unsigned)__builtin_ctzll(other) >> 3;
#endif
    return b;
}
static inline int letter_pair(uint64_t w, size_t len) {
    if (len < 2) return 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    uint64_t x = w | 0x20 * SWAR_1;
    uint64_t z = x ^ (x >> 8); /* byte k: s[k] ^ s[k+1] */
    uint64_t nonzero = (((z & 0x7F * SWAR_1) + 0x7F * SWAR_1) | z) & SWAR_H;
    uint64_t first = (1ull << (8 * (len - 1))) - 1; /* bytes 0 .. len-2 */
    return (~nonzero & SWAR_H & first) != 0;
}

/* dst[q] = src[q] | XF_CASE where byte q of w (8 bytes read from memory with memcpy,
** letters where it matters) has bit 5 clear, a capital; q < 8.  No overlap. */
static inline void xf_case_8(uint16_t *restrict dst, const uint16_t *restrict src,
                             uint64_t w) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && PARAPET_XF_CASE == 1
    /* the bits spread from bytes to 16-bit lanes four at a time */
    uint64_t up = (~w >> 5) & SWAR_1;
    for (int h = 0; h < 2; h++) {
        uint64_t l = (up >> (32 * h)) & 0xFFFFFFFFull, b4;
        l = (l | (l << 16)) & 0x0000FFFF0000FFFFull;
        l = (l | (l << 8)) & 0x00FF00FF00FF00FFull;
        memcpy(&b4, src + 4 * h, 8);
        b4 |= l;
        memcpy(dst + 4 * h, &b4, 8);
    }
#else
    unsigned char b[8];
    memcpy(b, &w, 8);
    for (size_t q = 0; q < 8; q++)
        dst[q] = (uint16_t)(src[q] | ((~(unsigned)b[q] >> 5) & 1) * PARAPET_XF_CASE);
#endif
}

/* FK_* kind of the character at s[j] (FK_SLOW for ASCII and 4-byte characters), its
** code point in *cp and its length in *k. */
static inline int fkind_at(const unsigned char *s, size_t n, size_t j, uint32_t *cp,
                           size_t *k) {
    (void)n;
    *k = dec_valid(s + j, cp);
    return *k ? fold_kind(*cp) : FK_SLOW;
}

/* Can a fast token end before s[j]: the end, a space, plain punctuation, or an
** FK_PUNCT character?  None of them is part of a word. */
static inline int boundary_at(const unsigned char *s, size_t n, size_t j) {
    if (j >= n) return 1;
    int c = fast_class(s[j]);
    if (c == FF_SPACE || c == FF_PLAIN) return 1;
    uint32_t cp;
    size_t k;
    return s[j] >= 0x80 && fkind_at(s, n, j, &cp, &k) == FK_PUNCT;
}

/* Is the character just before s[p] (p > 0) a space, plain punctuation or FK_PUNCT? */
static int boundary_before(const unsigned char *s, size_t n, size_t p) {
    size_t q = p - 1;
    while (q > 0 && p - q < 4 && (s[q] & 0xC0) == 0x80) q--;
    return boundary_at(s, n, q) && (s[q] < 0x80 || q + 1 < p);
}

/* Could the one-character token ending just before s[j] start a separator chain?
** Conservative: says yes whenever it cannot rule a chain out cheaply. */
static int may_chain(const unsigned char *s, size_t n, size_t j) {
    size_t gap = 0;
    while (j < n && gap < 4 && (s[j] >= 0x80 || separator_cp(s[j]))) {
        if (s[j] >= 0x80) {
            uint32_t cp;
            size_t k;
            int f = fkind_at(s, n, j, &cp, &k);
            if (f == FK_PUNCT) return 0; /* neither a separator nor a token */
            if (f != FK_LETTER && f != FK_CONF && f != FK_LATIN) return 1; /* '·', '•'... */
            break; /* a letter: looked at below */
        }
        j++;
        gap++;
    }
    if (gap == 0 || gap > 3 || j >= n) return 0;
    unsigned c = s[j];
    if (c >= 0x80) {
        /* a letter with a letter or digit right after it is no one-character token */
        uint32_t cp;
        size_t k;
        int f = fkind_at(s, n, j, &cp, &k);
        if (f != FK_LETTER && f != FK_CONF && f != FK_LATIN) return f != FK_PUNCT;
        if (j + k >= n) return 1;
        if (s[j + k] < 0x80) {
            int c2 = fast_class(s[j + k]);
            return !(c2 == FF_LETTER || c2 == FF_DIGIT);
        }
        int f2 = fkind_at(s, n, j + k, &cp, &k);
        return !(f2 == FK_LETTER || f2 == FK_CONF || f2 == FK_LATIN);
    }
    if (!(fast_class((unsigned char)c) == FF_LETTER || k_leet[c])) return 0;
    /* a longer word there is not a one-character token */
    return !(j + 1 < n && s[j + 1] < 0x80 && fast_class(s[j + 1]) >= FF_LETTER &&
             fast_class(s[j + 1]) <= FF_DIGIT);
}

/* If a token that no word rule can touch starts at s[i] (which follows a space,
** plain punctuation or the start), returns its end, else 0.  Such tokens: a run of
** ASCII letters, or of digits, or nothing, then a run of '!', ending at a space, plain
** punctuation or the end; a one-character one must not be able to start a separator
** chain.  Letters then digits ("th3") or a '!' before a letter fail the end test. */
static size_t fast_token_end(const unsigned char *s, size_t n, size_t i, size_t *len) {
    int cls = fast_class(s[i]);
    size_t j = i;
    if (cls == FF_LETTER || cls == FF_DIGIT)
        while (j < n && fast_class(s[j]) == cls) j++;
    else if (s[i] != '!')
        return 0;
    size_t k = j;
    while (k < n && s[k] == '!') k++;
    if (!boundary_at(s, n, k)) return 0;
    if (j - i == 1 && k == j && may_chain(s, n, j)) return 0;
    *len = j - i;
    return k;
}

/* End of the segment that must go through the unit pipeline when the fast path
** stops at s[i]: just before the next fast token of 2 or more letters or digits that
** follows a space or plain punctuation.  No word, separator chain or letter run
** crosses such a point, so folding the segment alone gives exactly what folding the
** whole text would (the property test checks this against the slow path). */
static size_t slow_segment_end(const unsigned char *s, size_t n, size_t i) {
    for (size_t p = i + 1; p < n; p++) {
        if (s[p] >= 0x80) {
            /* Two non-ASCII letters of one kind (Latin, or the FK_LETTER family)
            ** after a boundary start a word of 2 or more letters. */
            uint32_t cp, cp2;
            size_t k, k2;
            int f = fkind_at(s, n, p, &cp, &k);
            if (f != FK_LETTER && f != FK_CONF && f != FK_LATIN) continue;
            if (p + k >= n) continue;
            int f2 = fkind_at(s, n, p + k, &cp2, &k2);
            int same = f == FK_LATIN ? f2 == FK_LATIN || fast_class(s[p + k]) == FF_LETTER
                                     : f2 == FK_LETTER || f2 == FK_CONF;
            if (same && boundary_before(s, n, p)) return p;
            p += k - 1;
            continue;
        }
        int c = fast_class(s[p]);
        if ((s[p] == '@' || s[p] == '#' || s[p] == '$') && p + 1 < n &&
            (fast_class(s[p + 1]) == FF_LETTER || fast_class(s[p + 1]) == FF_DIGIT) &&
            boundary_before(s, n, p))
            return p; /* "@user", "#tag", "$5": the word starts here and is no singleton */
        if (c != FF_LETTER && c != FF_DIGIT) continue;
        if (!boundary_before(s, n, p)) continue;
        size_t len;
        if (fast_token_end(s, n, p, &len) && len >= 2) return p;
    }
    return n;
}

/* ------------------------------------------------------ fold: ASCII stretches */

/* Plain ASCII prose is folded a block of sixteen bytes at a time.  A stretch is a run
** of base bytes in which every word is letters only or digits only and no rule but
** lowercasing, letter-run collapsing and whitespace squeezing applies: the kernels of
** ascii16.h find where that stops (a non-ASCII byte, a leet or mask character, a
** word mixing letters and digits, a '!' before a letter, a one-character token that
** may start a spelled-out word) and the stretch ends before the word holding it, at
** a byte that follows whitespace or plain punctuation and is not whitespace.  No
** word, letter run, space run or separator chain crosses such a point, so the
** stretch folds exactly as the unit pipeline would fold it (the property tests
** compare the two). */

#define STRETCH_GROUPS 16 /* groups of 64 bytes in one stretch at most */

/* Can a stretch end just before s[p] (i < p < n)? */
static inline int stretch_cut(const unsigned char *s, size_t p) {
    int before = fast_class(s[p - 1]);
    return (before == FF_SPACE || before == FF_PLAIN) && fast_class(s[p]) != FF_SPACE;
}

/* Writes the fold entries of the sixteen base bytes at s[a..a+16) as they are kept
** (lowercased, whitespace made ' ', maps and xf copied, XF_CASE on capitals, run 1)
** to index o of the fold arrays. */
static inline void fold_put16(char *fs, uint32_t *fss, uint32_t *fse, uint16_t *fxf,
                              uint8_t *frun, size_t o, const unsigned char *s,
                              const uint32_t *bss, const uint32_t *bse, const uint16_t *bxf,
                              size_t a) {
    pp_ascii16_fold(fs + o, s + a);
    memcpy(fss + o, bss + a, 16 * sizeof *fss);
    memcpy(fse + o, bse + a, 16 * sizeof *fse);
    pp_ascii16_xf(fxf + o, bxf + a, s + a);
    memset(frun + o, 1, 16);
}

/* Folds the ASCII stretch that starts at s[i] (a point where the fold loop may start
** a token) into the fold arrays from index *o_io on, and returns its end: i when
** there is none, and then nothing is written.  The stretch is classified 64 bytes at
** a time (pp_ascii64_masks; the base view keeps BASE_SLACK readable bytes past its
** end for the last group, whose lanes past the end are masked off).  Each byte either
** starts a fold byte or joins the one before (the drop mask): kept bytes are written
** in pieces of sixteen entries (the arrays have FOLD_SLACK spare entries, and a later
** piece overwrites the excess), and a dropped byte widens the fold byte before it.
** Groups are folded as they are classified; when the stretch turns out to end inside
** an earlier group (a long word with a digit at its end), the output is cut back to
** where that group's fold bytes began, plus those of its bytes before the end, which
** is why each group's output index and drop mask are kept. */
static size_t fold_ascii_stretch(const unsigned char *s, size_t n, const uint32_t *bss,
                                 const uint32_t *bse, const uint16_t *bxf, char *fs,
                                 uint32_t *fss, uint32_t *fse, uint16_t *fxf, uint8_t *frun,
                                 size_t i, size_t *o_io, uint32_t *sigs) {
    size_t o = *o_io, o_grp[STRETCH_GROUPS];
    uint64_t drop_grp[STRETCH_GROUPS];
    size_t rep_at = SIZE_MAX; /* first byte that made a letter run 3 long */
    size_t lim = n - i > 64 * STRETCH_GROUPS ? i + 64 * STRETCH_GROUPS : n, p = lim;
    size_t q = i;
    unsigned prev = q ? s[q - 1] : ' ';
    for (int g = 0; q < lim; q += 64, g++) {
        /* s[q..q+64] is readable (BASE_SLACK) and s[n] is NUL: lanes past n are
        ** masked off, and the last real byte sees a NUL after it */
        pp_ascii64 m;
        size_t len = lim - q < 64 ? lim - q : 64; /* (less only at the end: s[lim] is NUL) */
        pp_ascii64_masks(s + q, len, prev, s[q + 64], &m);
        prev = s[q + 63];
        uint64_t valid = len < 64 ? (1ull << len) - 1 : ~0ull;
        uint64_t bad = m.bad & valid;
        uint64_t before = bad ? (bad & (0 - bad)) - 1 : valid; /* lanes before the first bad */
        for (uint64_t one = m.single & before; one; one &= one - 1) {
            unsigned k = (unsigned)__builtin_ctzll(one);
            /* the usual case, answered here: whitespace, then a word of two letters or
            ** digits or more ("a word"), which may_chain says can start no chain (s[n]
            ** is NUL, so t[1] and t[2] lie in the text when they pass) */
            const unsigned char *t = s + q + k + 1;
            if (k_fast_class[t[0]] == FF_SPACE &&
                (unsigned)(k_fast_class[t[1]] - FF_LETTER) <= FF_DIGIT - FF_LETTER &&
                (unsigned)(k_fast_class[t[2]] - FF_LETTER) <= FF_DIGIT - FF_LETTER)
                continue;
            if (may_chain(s, n, q + k + 1)) {
                bad = 1ull << k;
                break;
            }
        }
        if (bad) len = (size_t)__builtin_ctzll(bad);
        uint64_t drop = m.drop & (len < 64 ? (1ull << len) - 1 : ~0ull);
        if (q == i) drop &= ~1ull; /* the stretch starts a token: nothing to join */
        o_grp[g] = o;
        drop_grp[g] = drop;
        size_t k = 0;
        while (k < len) {
            uint64_t rest = drop >> k;
            size_t keep = rest ? (size_t)__builtin_ctzll(rest) : len - k;
            if (keep) {
                for (size_t w = 0; w < keep; w += 16)
                    fold_put16(fs, fss, fse, fxf, frun, o + w, s, bss, bse, bxf, q + k + w);
                o += keep;
                k += keep;
                if (k >= len) break;
            }
            /* s[q+k] joins fold byte o-1: a letter run goes on, or whitespace */
            size_t d = q + k;
            unsigned c = s[d];
            uint16_t xf = (uint16_t)(bxf[d] | ((unsigned)(c - 'A') < 26u ? PARAPET_XF_CASE : 0));
            fse[o - 1] = bse[d];
            if (pp_a16_letter(c)) {
                unsigned r = frun[o - 1] + 1u;
                frun[o - 1] = (uint8_t)(r > 255 ? 255 : r);
                if (r >= 3) {
                    xf |= PARAPET_XF_REPEAT;
                    if (rep_at == SIZE_MAX) rep_at = d;
                }
            }
            fxf[o - 1] |= xf;
            k++;
        }
        if (bad) {
            p = q + len; /* the first byte that ends the stretch */
            break;
        }
    }
    /* The end: the start of the word holding the byte that stopped the stretch, or
    ** (stopped by the length limit) the last point before it where one may end.
    ** s[i..done) has been written. */
    size_t done = p;
    if (p < n)
        while (p > i && !stretch_cut(s, p)) p--;
    if (p == i) return i;
    if (p < done) {
        /* cut the output back to the fold bytes of s[i..p) */
        size_t g = (p - i) / 64, r = (p - i) % 64;
        unsigned kept = (unsigned)r;
        uint64_t d = drop_grp[g] & ((1ull << r) - 1);
        while (d) { kept--; d &= d - 1; }
        o = o_grp[g] + kept;
    }
    if (rep_at < p) *sigs |= PP_SIG_REPEAT;
    *o_io = o;
    return p;
}

/* Writes one fold-view entry: byte c at o, from the original span [ss, se), with
** transforms xf and a run of 1. */
static inline void put_entry(char *fs, uint32_t *fss, uint32_t *fse, uint16_t *fxf,
                             uint8_t *frun, size_t o, char c, uint32_t ss, uint32_t se,
                             uint16_t xf) {
    fs[o] = c;
    fss[o] = ss;
    fse[o] = se;
    fxf[o] = xf;
    frun[o] = 1;
}

/* Copies len base entries (bytes, maps, xf) to the fold arrays with run 1, sixteen at
** a time: the excess (up to 15 entries) lands in the fold's FOLD_SLACK spare entries
** and is read from the base's, so no call to memcpy with a variable length. */
static inline void copy_entries(char *fs, uint32_t *fss, uint32_t *fse, uint16_t *fxf,
                                uint8_t *frun, const unsigned char *s, const uint32_t *bss,
                                const uint32_t *bse, const uint16_t *bxf, size_t len) {
    for (size_t q = 0; q < len; q += 16) {
        memcpy(fs + q, s + q, 16);
        memcpy(fss + q, bss + q, 16 * sizeof *fss);
        memcpy(fse + q, bse + q, 16 * sizeof *fse);
        memcpy(fxf + q, bxf + q, 16 * sizeof *fxf);
        memset(frun + q, 1, 16);
    }
}

/* Folds the word at s[i] (which follows a space, plain punctuation or the start) when
** it is made of letters that folding leaves alone (FK_LETTER: Han, kana, Hangul,
** Arabic...; FK_CONF: the same with an ASCII look-alike), at least one of them
** FK_LETTER, and possibly ASCII letters and digits ("做ai", "了48次", "MX4很"), '!'s
** before a letter or digit ("了!怎") and a leading '@', '$' or '#' ("@北雒"), then
** '!'s and a boundary, and when no word rule but case folding and letter runs applies
** to it: leet folds digits, '!', '@' and '$' only in words with a Latin, Greek or
** Cyrillic letter, a '#' is a mask only between letters, and confusables fold only in
** words with a Latin letter (or whose letters all have a look-alike, which the
** FK_LETTER rules out), so the word may not have both an ASCII letter and a digit, a
** '!' inside, a prefix, a look-alike or a Greek or Cyrillic letter, nor one of the
** first three and a Greek or Cyrillic letter.  Such a word folds to itself, ASCII
** letters lowercased, letter runs collapsed (run[] = their length), as the unit
** pipeline folds it (the property tests compare them).  Writes its entries at *o_io
** and returns its end, or returns 0 (nothing kept) when the word is not one of those. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline size_t fold_letter_word(const unsigned char *s, size_t n, size_t i,
                                      const uint32_t *bss, const uint32_t *bse,
                                      const uint16_t *bxf, char *fs, uint32_t *fss,
                                      uint32_t *fse, uint16_t *fxf, uint8_t *frun,
                                      size_t *o_io, uint32_t *sigs) {
    size_t o = *o_io, nch = 0, j = i;
    /* what the word holds (LW_*), in one word of bits for the test at its end */
    enum { LW_PLAIN = 1, LW_LATIN = 2, LW_DIGIT = 4, LW_CONF = 8, LW_CG = 16, LW_OTHER = 32 };
    unsigned has = 0;
    uint32_t prev = 0, token_sigs = 0;
    unsigned count = 0;
    /* Usually no letter repeats and no ASCII letter is a capital: then the word is the
    ** base bytes and maps as they are (all bytes of a base character share their map
    ** and xf). */
    int again = 0;
    if (s[j] == '@' || s[j] == '$' || s[j] == '#') { /* "@北雒": '@' is leet only with Latin */
        has |= LW_OTHER;
        j++;
        nch++;
    }
    while (j < n) {
        /* CJK ideographs (FK_LETTER) a few at a time, without decoding (s[j..j+16)
        ** is readable and s[n] is NUL, which no ideograph holds, so none is counted
        ** past the end) */
        if (s[j] - 0xE4u < 6u) {
            unsigned same, c = pp_ideo16_scan(s + j, &same);
            if (c) {
                again |= same != 0 || pp_ideo_cp(s + j) == prev;
                has |= LW_PLAIN;
                prev = pp_ideo_cp(s + j + 3 * (c - 1));
                j += 3 * c;
                nch += c;
                continue;
            }
        }
        if (s[j] < 0x80) {
            unsigned a = s[j], fc = k_fast_class[a];
            if (fc == FF_LETTER) {
                has |= LW_LATIN;
                again |= (a | 0x20) == prev || !(a & 0x20);
                prev = a | 0x20;
            } else if (fc == FF_DIGIT) {
                has |= LW_DIGIT;
                prev = 0; /* digits never collapse, and they part letter runs */
            } else if (a == '!') {
                /* inside the word when a letter or digit follows the '!'s ("了!怎"):
                ** leet for a Latin word; else the word ends, and '!'s after it are
                ** taken below */
                size_t y = j + 1;
                while (y < n && s[y] == '!') y++;
                if (y >= n || (s[y] < 0x80 && (unsigned)(k_fast_class[s[y]] - FF_LETTER) >
                                                  FF_DIGIT - FF_LETTER))
                    break;
                has |= LW_OTHER;
                prev = 0;
                nch += y - j;
                j = y;
                continue;
            } else {
                break;
            }
            j++;
            nch++;
            continue;
        }
        uint32_t c2;
        size_t k2;
        int f2 = fkind_at(s, n, j, &c2, &k2);
        if (f2 != FK_LETTER && f2 != FK_CONF) break;
        has |= f2 == FK_LETTER ? LW_PLAIN : LW_CONF;
        if (c2 - 0x370u < 0x1C0u || c2 - 0x1C80u < 0x10u || c2 >= 0x1D00) {
            /* (the blocks that hold Greek or Cyrillic letters, or may) */
            pp_script sc = pp_script_of(c2);
            if (sc == PP_SCRIPT_GREEK || sc == PP_SCRIPT_CYRILLIC) has |= LW_CG;
        }
        again |= c2 == prev;
        prev = c2;
        j += k2;
        nch++;
    }
    size_t jw = j;
    if (!(has & LW_PLAIN) ||
        ((has & LW_LATIN) && (has & (LW_DIGIT | LW_CONF | LW_CG | LW_OTHER))) ||
        ((has & LW_CG) && (has & (LW_DIGIT | LW_OTHER))))
        return 0;
    if (!again) {
        copy_entries(fs + o, fss + o, fse + o, fxf + o, frun + o, s + i, bss + i, bse + i,
                     bxf + i, j - i);
        o += j - i;
    } else {
        nch = 0;
        prev = 0;
        for (j = i; j < jw;) { /* jw: the end found above */
            if (s[j] < 0x80) {
                unsigned a = s[j], fc = k_fast_class[a];
                if (fc != FF_LETTER && fc != FF_DIGIT) { /* a prefix or '!' (see above) */
                    prev = 0;
                    put_entry(fs, fss, fse, fxf, frun, o++, (char)a, bss[j], bse[j], bxf[j]);
                    j++;
                    nch++;
                    continue;
                }
                unsigned lower = fc == FF_LETTER ? a | 0x20 : a;
                uint16_t xf = (uint16_t)(bxf[j] | (fc == FF_LETTER && !(a & 0x20) ? PARAPET_XF_CASE : 0));
                if (fc == FF_LETTER && lower == prev) {
                    count++;
                    if (count == 3) token_sigs |= PP_SIG_REPEAT;
                    fse[o - 1] = bse[j];
                    fxf[o - 1] |= (uint16_t)(xf | (count >= 3 ? PARAPET_XF_REPEAT : 0));
                    frun[o - 1] = (uint8_t)(count > 255 ? 255 : count);
                } else {
                    prev = fc == FF_LETTER ? lower : 0;
                    count = 1;
                    put_entry(fs, fss, fse, fxf, frun, o++, (char)lower, bss[j], bse[j], xf);
                }
                j++;
                nch++;
                continue;
            }
            uint32_t c2 = 0;
            size_t k2 = dec_valid(s + j, &c2); /* a letter, as found above */
            uint16_t xf = bxf[j];
            for (size_t q = 1; q < k2; q++) xf |= bxf[j + q];
            uint32_t se = bse[j + k2 - 1];
            if (c2 == prev) {
                count++;
                uint16_t rep = count >= 3 ? PARAPET_XF_REPEAT : 0;
                if (count == 3) token_sigs |= PP_SIG_REPEAT;
                for (size_t q = o - k2; q < o; q++) {
                    fse[q] = se;
                    fxf[q] |= (uint16_t)(xf | rep);
                    frun[q] = (uint8_t)(count > 255 ? 255 : count);
                }
            } else {
                prev = c2;
                count = 1;
                for (size_t q = 0; q < k2; q++, o++) {
                    put_entry(fs, fss, fse, fxf, frun, o, (char)s[j + q], bss[j], se, xf);
                }
            }
            j += k2;
            nch++;
        }
    }
    for (; j < n && s[j] == '!'; j++, o++) {
        put_entry(fs, fss, fse, fxf, frun, o, '!', bss[j], bse[j], bxf[j]);
    }
    if (!boundary_at(s, n, j) || (nch == 1 && j == jw && may_chain(s, n, j))) return 0;
    *sigs |= token_sigs;
    *o_io = o;
    return j;
}

/* The class a unit of the ASCII word s[i..e) has after the leet rule (has_letter: the
** word has a letter, so leet applies): letters, and leet characters that are folded
** ('!' only before a letter), are FC_LETTER. */
static inline int ascii_word_letter(const unsigned char *s, size_t e, size_t x, int has_letter) {
    unsigned c = s[x];
    if (pp_a16_letter(c)) return 1;
    if (!has_letter || !k_leet[c]) return 0;
    return c != '!' || (x + 1 < e && pp_a16_letter(s[x + 1]));
}

/* Folds the ASCII word at s[i] (which follows a space, plain punctuation or the start)
** when its rules need no look beyond it: ASCII letters, digits and @ $ ! * # (not '|',
** a separator), at least two letters or digits, a '!' inside only before a letter, then
** a boundary.  So every letter or leet character in it has a neighbour that glues to
** it, none is a one-character token, and no spelled-out word can take it in (tokens
** before it that could have started one went to the unit pipeline: may_chain).  The
** word is folded as fold_word and emit_fold would: with a letter in it, the leet
** characters (digits 0 1 3 4 5 7 8 9, '@', '$', '!' before a letter) become letters
** (XF_LEET, the `leet` signal), then runs of '*' and '#' between letters become '*'
** (XF_MASK), then runs of one letter or of masks collapse (run[], XF_REPEAT from 3).
** Writes its entries at *o_io and returns its end, or returns 0 (nothing written). */
static size_t fold_ascii_word(const unsigned char *s, size_t n, size_t i, const uint32_t *bss,
                              const uint32_t *bse, const uint16_t *bxf, char *fs, uint32_t *fss,
                              uint32_t *fse, uint16_t *fxf, uint8_t *frun, size_t *o_io,
                              uint32_t *sigs) {
    size_t e = i, alnum = 0;
    int has_letter = 0;
    for (; e < n; e++) {
        unsigned c = s[e];
        if (c >= 0x80) return 0;
        int fc = k_fast_class[c];
        if (fc == FF_LETTER || fc == FF_DIGIT) {
            alnum++;
            has_letter |= fc == FF_LETTER;
        } else if (c != '@' && c != '$' && c != '!' && c != '*' && c != '#') {
            break;
        }
    }
    if (alnum < 2 || !boundary_at(s, n, e)) return 0;
    /* a '!' inside must come before a letter (else it parts two tokens, one of which
    ** may be one character long); '!'s at the end are kept as they are */
    for (size_t x = i; x < e; x++) {
        if (s[x] != '!' || pp_a16_letter(s[x + 1])) continue;
        size_t y = x;
        while (y < e && s[y] == '!') y++;
        if (y < e) return 0;
        break;
    }
    size_t o = *o_io;
    uint32_t sig = 0;
    unsigned key = 0, count = 0; /* what the fold byte before is (a letter, a mask) */
    int prev_letter = 0;         /* the unit before is a letter (after leet) */
    for (size_t x = i; x < e; x++) {
        unsigned c = s[x], f = c, k;
        uint16_t xf = (uint16_t)(bxf[x] | ((unsigned)(c - 'A') < 26u ? PARAPET_XF_CASE : 0));
        int letter = ascii_word_letter(s, e, x, has_letter);
        size_t y = x;
        if (!letter && (c == '*' || c == '#') && prev_letter)
            while (y < e && (s[y] == '*' || s[y] == '#')) y++;
        if (y > x && y < e && ascii_word_letter(s, e, y, has_letter)) {
            /* s[x..y) between letters: masked letters, one fold byte for the run */
            uint16_t mx = PARAPET_XF_MASK;
            for (size_t z = x; z < y; z++) mx |= bxf[z];
            unsigned r = (unsigned)(y - x);
            fs[o] = '*';
            fss[o] = bss[x];
            fse[o] = bse[y - 1];
            fxf[o] = (uint16_t)(mx | (r >= 3 ? PARAPET_XF_REPEAT : 0));
            frun[o] = (uint8_t)(r > 255 ? 255 : r);
            if (r >= 3) sig |= PP_SIG_REPEAT;
            o++;
            key = 0;
            prev_letter = 0;
            x = y - 1;
            continue;
        }
        if (letter) {
            f = pp_a16_letter(c) ? (c | 0x20) : (unsigned char)k_leet[c];
            if (!pp_a16_letter(c)) {
                xf |= PARAPET_XF_LEET;
                sig |= PP_SIG_LEET;
            }
            k = f; /* letters of one kind collapse */
        } else {
            k = 0; /* nothing else does */
        }
        if (k && k == key) {
            count++;
            fse[o - 1] = bse[x];
            fxf[o - 1] |= xf;
            frun[o - 1] = (uint8_t)(count > 255 ? 255 : count);
            if (count >= 3) {
                fxf[o - 1] |= PARAPET_XF_REPEAT;
                sig |= PP_SIG_REPEAT;
            }
        } else {
            put_entry(fs, fss, fse, fxf, frun, o++, (char)f, bss[x], bse[x], xf);
            key = k;
            count = 1;
        }
        prev_letter = letter;
    }
    *sigs |= sig;
    *o_io = o;
    return e;
}

/* fold_letter_word, not inlined: for the words that start with ASCII (a word of
** another script's letters is inlined where build_fold meets it, the common case). */
static size_t fold_letter_word_at(const unsigned char *s, size_t n, size_t i,
                                  const uint32_t *bss, const uint32_t *bse, const uint16_t *bxf,
                                  char *fs, uint32_t *fss, uint32_t *fse, uint16_t *fxf,
                                  uint8_t *frun, size_t *o_io, uint32_t *sigs) {
    return fold_letter_word(s, n, i, bss, bse, bxf, fs, fss, fse, fxf, frun, o_io, sigs);
}

/* Builds t->fold from t->base.  Plain ASCII (whitespace, plain punctuation, tokens
** that no word rule touches) is folded inline; everything else is cut into segments
** for the unit pipeline.  `slow` sends the whole text through the pipeline (tests
** compare the two).  Invariant: capacity >= bytes written + base bytes left +
** FOLD_SLACK + 1 on the fast path (the word path writes up to 16 entries at once);
** segments reserve for themselves. */
static pp_status build_fold(pp_text *t, int slow) {
    const pp_view *b = &t->base;
    pp_view *f = &t->fold;
    const unsigned char *s = (const unsigned char *)b->s;
    size_t n = b->n, i = 0, o = 0;
    if (view_reserve(f, n + FOLD_SLACK)) return PARAPET_ERR_NOMEM;
    const uint32_t *restrict bss = b->src_start, *restrict bse = b->src_end;
    const uint16_t *restrict bxf = b->xf;
    char *restrict fs = f->s;
    uint32_t *restrict fss = f->src_start, *restrict fse = f->src_end;
    uint16_t *restrict fxf = f->xf;
    uint8_t *restrict frun = f->run;
    uint32_t sigs = 0; /* signals found on the fast path */
    int stretch = !slow; /* try an ASCII stretch here (not right after one) */
    while (i < n) {
        if (stretch && (unsigned)(k_fast_class[s[i]] - FF_SPACE) <= FF_DIGIT - FF_SPACE) {
            /* a space, a letter or a digit: plain prose may start here */
            size_t p = fold_ascii_stretch(s, n, bss, bse, bxf, fs, fss, fse, fxf, frun, i, &o,
                                          &sigs);
            if (p > i) {
                i = p;
                stretch = 0; /* s[p] starts a word it cannot take */
                continue;
            }
        }
        stretch = !slow;
        int cls = slow ? FF_SLOW : fast_class(s[i]);
        size_t j, len;
        (void)len;
        if (cls == FF_SPACE) {
            uint16_t xf = bxf[i];
            for (j = i + 1; j < n && fast_class(s[j]) == FF_SPACE; j++) xf |= bxf[j];
            put_entry(fs, fss, fse, fxf, frun, o++, ' ', bss[i], bse[j - 1], xf);
            i = j;
            continue;
        }
        if (cls == FF_PLAIN) {
            put_entry(fs, fss, fse, fxf, frun, o++, (char)s[i], bss[i], bse[i], bxf[i]);
            i++;
            continue;
        }
        if (!slow && s[i] >= 0x80) {
            uint32_t cp;
            size_t k;
            int fk = fkind_at(s, n, i, &cp, &k);
            if (fk == FK_PUNCT) { /* no rule touches it: one unit of its own */
                uint16_t xf = bxf[i];
                for (size_t q = 1; q < k; q++) xf |= bxf[i + q];
                for (size_t q = 0; q < k; q++, o++) {
                    put_entry(fs, fss, fse, fxf, frun, o, (char)s[i + q], bss[i],
                              bse[i + k - 1], xf);
                }
                i += k;
                continue;
            }
            if (fk == FK_LATIN) cls = FF_LETTER;
            if (fk == FK_LETTER || fk == FK_CONF) {
                size_t j = fold_letter_word(s, n, i, bss, bse, bxf, fs, fss, fse, fxf, frun,
                                            &o, &sigs);
                if (j) {
                    i = j;
                    continue;
                }
            }
        }
        if (!slow && (s[i] == '@' || s[i] == '$' || s[i] == '#') && i + 1 < n &&
            s[i + 1] >= 0x80 && s[i + 1] != 0xE2 && s[i + 1] < 0xF0) {
            /* "@北雒", "#话题": the word of fold_letter_word, if it is one */
            size_t j = fold_letter_word_at(s, n, i, bss, bse, bxf, fs, fss, fse, fxf, frun, &o,
                                           &sigs);
            if (j) {
                i = j;
                continue;
            }
        }
        /* A prefix '@', '$' or '#' before letters or digits ("@user", "#tag", "$5"):
        ** the unit pipeline would fold '@' / '$' to a letter before letters (leet)
        ** and leave it alone before digits; '#' is a mask only between letters. */
        unsigned prefix = 0;
        if (!slow && (s[i] == '@' || s[i] == '$' || s[i] == '#') && i + 1 < n &&
            (k_fast_class[s[i + 1]] == FF_LETTER || k_fast_class[s[i + 1]] == FF_DIGIT)) {
            prefix = s[i];
            cls = k_fast_class[s[i + 1]];
        }
        /* After a prefix, the word below too ("@user", "#tag", "$5"), but for a leet
        ** letter the first letter would join ("@alex", "$sam": the loop below). */
        size_t ip = i;
        if (!slow && prefix &&
            !(cls == FF_LETTER && prefix != '#' && (s[i + 1] | 0x20u) == (unsigned char)k_leet[prefix]))
            i++;
        if (!slow && (!prefix || i > ip) && (cls == FF_LETTER || cls == FF_DIGIT)) {
            /* The common word: ASCII letters (no two alike in a row) or digits, then
            ** a boundary.  Its bytes map one to one, so the maps are copied. */
            size_t e = i + 1;
            int twice = 0, eight = 0;
            uint64_t w = 0, w2 = 0;
            /* s[i..i+16) is readable (FOLD_SLACK) and s[n] is NUL, not a letter, so a
            ** word found 8 bytes at a time ends by n. */
            if (cls == FF_LETTER && (memcpy(&w, s + i, 8), letter_end(w))) {
                e = i + letter_end(w);
                twice = letter_pair(w, e - i);
                eight = 1;
            } else if (cls == FF_LETTER && s[i] < 0x80 &&
                       (memcpy(&w2, s + i + 8, 8), letter_end(w2))) {
                /* letter_end(w) is 0 and s[i] a letter: 8 to 15 letters (an accented
                ** letter at s[i] takes the loops below) */
                size_t e2 = letter_end(w2);
                e = i + 8 + e2;
                twice = letter_pair(w, 8) || ((s[i + 7] ^ s[i + 8]) | 0x20) == 0x20 ||
                        letter_pair(w2, e2);
                eight = 2;
            } else if (cls == FF_LETTER) {
                for (; e < n && k_fast_class[s[e]] == FF_LETTER; e++)
                    twice |= ((s[e] ^ s[e - 1]) | 0x20) == 0x20;
            } else {
                while (e < n && k_fast_class[s[e]] == FF_DIGIT) e++;
            }
            if (e < n && s[e] == '!') twice = 2; /* rare: the loop below */
            if ((!twice || (twice == 1 && eight)) && boundary_at(s, n, e) &&
                !(!prefix && e == i + 1 && may_chain(s, n, e))) {
                if (prefix) { /* as the loop below writes it */
                    int leet = cls == FF_LETTER && prefix != '#';
                    put_entry(fs, fss, fse, fxf, frun, o++, leet ? k_leet[prefix] : (char)prefix,
                              bss[ip], bse[ip], (uint16_t)(bxf[ip] | (leet ? PARAPET_XF_LEET : 0)));
                    if (leet) sigs |= PP_SIG_LEET;
                }
                size_t len_ = e - i;
                char *restrict d = fs + o;
                uint32_t *restrict a = fss + o, *restrict z = fse + o;
                uint16_t *restrict x = fxf + o;
                if (twice) {
                    /* Up to 15 letters with a letter pair ("all", "good"): runs collapse
                    ** to one byte that maps to the whole run, as the loop below does. */
                    unsigned prev = 256, count = 0;
                    size_t m = 0;
                    for (size_t q = i; q < e; q++) {
                        unsigned c = s[q], lower = c | 0x20;
                        uint16_t xf = (uint16_t)(bxf[q] | (c & 0x20 ? 0 : PARAPET_XF_CASE));
                        if (lower == prev) {
                            count++;
                            z[m - 1] = bse[q];
                            x[m - 1] |= xf;
                            frun[o + m - 1] = (uint8_t)(count > 255 ? 255 : count);
                            if (count == 3) {
                                x[m - 1] |= PARAPET_XF_REPEAT;
                                sigs |= PP_SIG_REPEAT;
                            }
                            continue;
                        }
                        prev = lower;
                        count = 1;
                        d[m] = (char)lower;
                        a[m] = bss[q];
                        z[m] = bse[q];
                        x[m] = xf;
                        frun[o + m] = 1;
                        m++;
                    }
                    len_ = m;
                } else if (eight) {
                    /* Fewer than 8 (or 16) letters: write 8 (or 16) entries, no loop to
                    ** mispredict.  Room: the fold has room for n - i + FOLD_SLACK more,
                    ** the base maps are readable as far (build_base). */
                    uint64_t lw = w | 0x20 * SWAR_1;
                    memcpy(d, &lw, 8);
                    memcpy(a, bss + i, 8 * sizeof *a);
                    memcpy(z, bse + i, 8 * sizeof *z);
                    xf_case_8(x, bxf + i, w);
                    memset(frun + o, 1, 8);
                    if (eight == 2) {
                        lw = w2 | 0x20 * SWAR_1;
                        memcpy(d + 8, &lw, 8);
                        memcpy(a + 8, bss + i + 8, 8 * sizeof *a);
                        memcpy(z + 8, bse + i + 8, 8 * sizeof *z);
                        xf_case_8(x + 8, bxf + i + 8, w2);
                        memset(frun + o + 8, 1, 8);
                    }
                } else {
                    for (size_t q = 0; q < len_; q++) {
                        unsigned c = s[i + q];
                        d[q] = (char)(c | 0x20);
                        a[q] = bss[i + q];
                        z[q] = bse[i + q];
                        x[q] = (uint16_t)(bxf[i + q] | (c & 0x20 ? 0 : PARAPET_XF_CASE));
                    }
                    memset(frun + o, 1, len_);
                }
                o += len_;
                i = e;
                if (i < n && fast_class(s[i]) == FF_PLAIN) { /* as the FF_PLAIN case */
                    put_entry(fs, fss, fse, fxf, frun, o++, (char)s[i], bss[i], bse[i], bxf[i]);
                    i++;
                }
                if (i + 1 < n && s[i] == ' ' && fast_class(s[i + 1]) != FF_SPACE) {
                    fs[o] = ' '; /* the one space after it, as the FF_SPACE case does */
                    fss[o] = bss[i];
                    fse[o] = bse[i];
                    fxf[o] = bxf[i];
                    frun[o] = 1;
                    o++;
                    i++;
                }
                continue;
            }
        }
        i = ip;
        if (!slow && !prefix && s[i] < 0x80 && (cls == FF_LETTER || cls == FF_DIGIT)) {
            /* ASCII letters or digits glued to letters of another script ("ai就得",
            ** "2024年", "MX4很"): the word of fold_letter_word, if it is one */
            size_t e = i + 1;
            while (e < n && (unsigned)(k_fast_class[s[e]] - FF_LETTER) <= FF_DIGIT - FF_LETTER) e++;
            /* (not before U+2000..2FFF, punctuation and symbols, nor 4-byte characters:
            ** emoji; words that go on with letters from there take the slow path) */
            int other = e < n && s[e] >= 0x80 && s[e] != 0xE2 && s[e] < 0xF0;
            size_t j = other ? fold_letter_word_at(s, n, i, bss, bse, bxf, fs, fss, fse, fxf,
                                                   frun, &o, &sigs)
                             : 0;
            if (j) {
                i = j;
                continue;
            }
        }
        if (!slow && (cls == FF_LETTER || cls == FF_DIGIT || s[i] == '!')) {
            /* Fold the token optimistically while scanning it; if its end shows a
            ** word rule could apply, forget the output and take the slow path. */
            size_t o0 = o, i0 = i;
            unsigned prev = 256, count = 0;
            uint32_t token_sigs = 0;
            if (prefix) {
                unsigned c = prefix;
                uint16_t xf = bxf[i];
                if (cls == FF_LETTER && prefix != '#') {
                    c = (unsigned char)k_leet[prefix];
                    xf |= PARAPET_XF_LEET;
                    token_sigs |= PP_SIG_LEET;
                    prev = c; /* "@alex": the 'a' from '@' runs into the letter 'a' */
                    count = 1;
                }
                put_entry(fs, fss, fse, fxf, frun, o++, (char)c, bss[i], bse[i], xf);
                i++;
            }
            size_t nch = 0;
            for (j = i; cls != FF_SLOW && j < n; nch++) {
                unsigned c = s[j];
                if (k_fast_class[c] == cls) {
                    unsigned lower = c | 0x20;
                    uint16_t xf = (uint16_t)(bxf[j] | (c & 0x20 ? 0 : PARAPET_XF_CASE));
                    if (lower == prev) { /* a letter run goes on: widen the byte written */
                        count++;
                        fse[o - 1] = bse[j];
                        fxf[o - 1] |= xf;
                        frun[o - 1] = (uint8_t)(count > 255 ? 255 : count);
                        if (count == 3) {
                            fxf[o - 1] |= PARAPET_XF_REPEAT;
                            token_sigs |= PP_SIG_REPEAT;
                        }
                    } else {
                        prev = cls == FF_LETTER ? lower : 256; /* digits never collapse */
                        count = 1;
                        put_entry(fs, fss, fse, fxf, frun, o++, (char)lower, bss[j], bse[j], xf);
                    }
                    j++;
                    continue;
                }
                /* An accented Latin letter: one or two ASCII letters, as above. */
                if (cls != FF_LETTER || c < 0xC2 || c >= 0xE0 || j + 1 >= n ||
                    (s[j + 1] & 0xC0) != 0x80)
                    break;
                uint32_t cp = ((c & 0x1Fu) << 6) | (s[j + 1] & 0x3Fu);
                if (fold_kind(cp) != FK_LATIN) break;
                uint16_t xf = (uint16_t)(bxf[j] | bxf[j + 1] | k_latin_xf[cp]);
                uint32_t s1 = bse[j + 1];
                for (int q = 0; q < 2 && k_latin_fold[cp][q]; q++) {
                    unsigned lower = (unsigned char)k_latin_fold[cp][q];
                    if (lower == prev) {
                        count++;
                        fse[o - 1] = s1;
                        fxf[o - 1] |= xf;
                        frun[o - 1] = (uint8_t)(count > 255 ? 255 : count);
                        if (count == 3) {
                            fxf[o - 1] |= PARAPET_XF_REPEAT;
                            token_sigs |= PP_SIG_REPEAT;
                        }
                        continue;
                    }
                    prev = lower;
                    count = 1;
                    put_entry(fs, fss, fse, fxf, frun, o++, (char)lower, bss[j], s1, xf);
                }
                j += 2;
            }
            len = nch;
            size_t jw = j;
            for (; j < n && s[j] == '!'; j++, o++) {
                put_entry(fs, fss, fse, fxf, frun, o, '!', bss[j], bse[j], bxf[j]);
            }
            if (boundary_at(s, n, j) &&
                !(!prefix && len == 1 && j == jw && may_chain(s, n, j))) {
                sigs |= token_sigs;
                i = j;
                continue;
            }
            o = o0;
            i = i0;
        }
        if (!slow && s[i] < 0x80 && s[i] != '!') {
            /* "@user12", "1st", "sh!t", "f*ck": an ASCII word the rules do touch */
            size_t j = fold_ascii_word(s, n, i, bss, bse, bxf, fs, fss, fse, fxf, frun, &o, &sigs);
            if (j) {
                i = j;
                continue;
            }
        }
        size_t e = slow ? n : slow_segment_end(s, n, i), m;
        pp_status st = make_units(t, i, e, &m);
        if (st) return st;
        fold_unit *u = t->scratch;
        join_separated(t, u, m);
        fold_words(t, u, m);
        st = emit_fold(t, u, m, &o);
        if (st) return st;
        if (view_reserve(f, o + (n - e) + FOLD_SLACK)) return PARAPET_ERR_NOMEM;
        fs = f->s; /* the arrays may have moved */
        fss = f->src_start;
        fse = f->src_end;
        fxf = f->xf;
        frun = f->run;
        i = e;
    }
    t->signals |= sigs;
    fs[o] = 0;
    f->n = o;
    return PARAPET_OK;
}

/* ------------------------------------------------------------------ the API */

pp_status pp_text_normalize(pp_text *t, const char *s, size_t n, unsigned flags,
                            size_t *bad_offset) {
    if (!t || (!s && n)) return PARAPET_ERR_ARG;
    if ((uint64_t)n > 0xFFFFFFFFull) return PARAPET_ERR_TOO_LARGE;
    pthread_once(&k_tables_once, init_tables);
    t->orig = s ? s : "";
    t->orig_len = n;
    t->signals = 0;
    t->tag_len = 0;
    if (t->tag_cap) t->tag_payload[0] = 0;
    view_clear(&t->base);
    view_clear(&t->fold);
    pp_status st = build_base(t, (const unsigned char *)t->orig, n, flags, bad_offset);
    if (st) goto fail;
    if (t->base.n == 0) t->signals |= PP_SIG_EMPTY;
    if (flags & PP_NORM_NO_FOLD) {
        if (view_reserve(&t->fold, 0)) {
            st = PARAPET_ERR_NOMEM;
            goto fail;
        }
        view_clear(&t->fold);
        return PARAPET_OK;
    }
    st = build_fold(t, (flags & PP_NORM_SLOW_FOLD_) != 0);
    if (st) goto fail;
    return PARAPET_OK;
fail:
    view_clear(&t->base);
    view_clear(&t->fold);
    return st;
}

unsigned pp_view_xf(const pp_view *v, size_t a, size_t b) {
    unsigned x = 0;
    for (size_t i = a; i < b && i < v->n; i++) x |= v->xf[i];
    return x;
}

pp_status pp_fold_pattern(const char *s, size_t n, char **out, size_t *out_n,
                          uint8_t **runs) {
    pp_text t;
    pp_text_init(&t);
    pp_status st = pp_text_normalize(&t, s, n, 0, NULL);
    if (st) {
        pp_text_free(&t);
        return st;
    }
    char *o = pp_malloc(t.fold.n + PP_VIEW_SLACK);
    uint8_t *r = runs ? pp_malloc(t.fold.n + 1) : NULL;
    if (!o || (runs && !r)) {
        pp_free(o);
        pp_free(r);
        pp_text_free(&t);
        return PARAPET_ERR_NOMEM;
    }
    memcpy(o, t.fold.s, t.fold.n);
    memset(o + t.fold.n, 0, PP_VIEW_SLACK);
    if (r) {
        memcpy(r, t.fold.run, t.fold.n);
        r[t.fold.n] = 0;
        *runs = r;
    }
    *out = o;
    *out_n = t.fold.n;
    pp_text_free(&t);
    return PARAPET_OK;
}

int pp_fold_is_word_byte(const char *s, size_t n, size_t i) {
    if (i >= n) return 0;
    unsigned char c = (unsigned char)s[i];
    if (c < 0x80)
        return (unsigned)((c | 0x20) - 'a') < 26u || (unsigned)(c - '0') < 10u || c == '*';
    size_t j = i;
    while (j > 0 && i - j < 3 && ((unsigned char)s[j] & 0xC0) == 0x80) j--;
    uint32_t cp;
    size_t k = pp_utf8_decode(s + j, n - j, &cp);
    if (!k || j + k <= i) return 0;
    uint8_t cls = category_class(utf8proc_category((utf8proc_int32_t)cp), cp);
    return cls == FC_LETTER || cls == FC_MARK || cls == FC_DIGIT;
}

char pp_confusable_ascii(uint32_t cp) {
    /* A binary search whose steps select with a conditional move rather than a
    ** branch: the folding of Cyrillic and Greek words looks up every letter, and
    ** the branches of an ordinary search mispredict about half the time. */
    size_t base = 0, len = PP_ARRAY_LEN(pp_confusables);
    while (len > 1) {
        size_t half = len / 2;
        base = pp_confusables[base + half].cp <= cp ? base + half : base;
        len -= half;
    }
    return pp_confusables[base].cp == cp ? pp_confusables[base].ascii : 0;
}
