/*
** text.h -- normalization, shared by every detector.
**
** The caller's text is normalized once into two views, each a UTF-8 string with an
** offset map back into the original bytes:
**
**   base  NFKC, invisible / zero-width / bidi-control / tag characters removed,
**         invalid UTF-8 replaced by U+FFFD (when allowed).  Case is KEPT: the PII
**         and secrets detectors need it ("AKIA...", base64).
**   fold  base, then case-folded, homoglyphs folded to ASCII (Unicode TS #39
**         confusables), diacritics stripped from Latin letters, leet-speak folded
**         inside words that contain letters ("1d10t" -> "idiot", but "2024" stays),
**         separators inside spelled-out words joined ("f.u.c.k", "f u c k" -> "fuck"),
**         and every run of the same letter collapsed to one ("fuuuck" -> "fuck",
**         "ass" -> "as" with run[] recording 2 so matchers can require it).  A '*'
**         between letters is kept as '*' (a masked letter, "f*ck").  Used by the
**         lexicon and the injection phrase matcher; patterns compiled for it must go
**         through pp_fold_pattern so both sides agree.
**
** Offset maps.  For each byte i of a view, src_start[i] is the byte offset in the
** original of the first byte of the source character(s) that produced it and
** src_end[i] the offset just past them.  The original span of a view span [a,b) is
** [src_start[a], src_end[b-1]); it always lies inside the original and covers every
** source character that contributed.  Maps are non-decreasing.
**
** A pp_text is a reusable scratch object: pp_text_normalize keeps its buffers for the
** next call, so a thread that checks many texts allocates only when a text is longer
** than any before.  Not shared between threads.
*/
#ifndef PP_TEXT_H
#define PP_TEXT_H

#include "../core/core.h"

/* Signals about the text (bits of pp_text.signals). */
enum {
    PP_SIG_INVALID_UTF8 = 1u << 0, /* invalid bytes replaced by U+FFFD */
    PP_SIG_NUL = 1u << 1,          /* NUL bytes present (removed from views) */
    PP_SIG_ZERO_WIDTH = 1u << 2,   /* ZWSP, ZWJ, ZWNJ, word joiner, BOM mid-text ... */
    PP_SIG_BIDI = 1u << 3,         /* bidi controls (LRE, RLO, LRI, ...) */
    PP_SIG_TAG_CHARS = 1u << 4,    /* Unicode tag characters U+E0000..E007F */
    PP_SIG_INVISIBLE = 1u << 5,    /* other default-ignorables / format chars, variation selectors */
    PP_SIG_CONFUSABLE = 1u << 6,   /* a homoglyph was folded */
    PP_SIG_LEET = 1u << 7,         /* leet-speak folded */
    PP_SIG_SEPARATOR = 1u << 8,    /* spelled-out word joined */
    PP_SIG_REPEAT = 1u << 9,       /* a run of 3 or more of one letter */
    PP_SIG_MIXED_SCRIPT = 1u << 10,/* a word mixes Latin with Cyrillic or Greek letters */
    PP_SIG_COMPAT = 1u << 11,      /* NFKC changed something (fullwidth, math letters...) */
    PP_SIG_EMPTY = 1u << 12,       /* no text at all */
    PP_SIG_COUNT_ = 13
};
/* "invalid_utf8", "nul", "zero_width", ...; static storage. */
const char *pp_signal_name(unsigned bit_index);

/* Flags for pp_text_normalize. */
enum {
    PP_NORM_REPLACE_INVALID = 1u << 0, /* else invalid UTF-8 -> PARAPET_ERR_UTF8 */
    PP_NORM_NO_FOLD = 1u << 1,         /* build only the base view (fold left empty) */
    PP_NORM_SLOW_FOLD_ = 1u << 15      /* tests only: no fast paths (beyond copying ASCII
                                        ** runs into the base view) */
};

/* Bytes that may be read past the end of a view's string (its NUL included), and of
** a pp_fold_pattern result: scanners load 8 or 16 bytes at a time near the end of a
** text without a bounds check, masking off what lies past n.  Their values are
** unspecified. */
#define PP_VIEW_SLACK 16

typedef struct pp_view {
    char *s;             /* NUL-terminated, n bytes, PP_VIEW_SLACK readable past n */
    size_t n;
    uint32_t *src_start; /* (n) byte offset in the original */
    uint32_t *src_end;   /* (n) */
    uint16_t *xf;        /* (n) PARAPET_XF_* bits that fired to produce this byte */
    uint8_t *run;        /* (n) fold view only: run length of this letter (1..255) */
    size_t cap;          /* allocated bytes per array */
} pp_view;

typedef struct pp_text {
    const char *orig;    /* borrowed: the caller's text */
    size_t orig_len;
    pp_view base, fold;
    uint32_t signals;    /* PP_SIG_* */
    /* ASCII decoded from Unicode tag characters (U+E0020..E007E), a common way to
    ** smuggle instructions past a human reader; tag_src[i] is the original offset of
    ** the tag character that produced tag_payload[i]. */
    char *tag_payload;
    size_t tag_len;
    uint32_t *tag_src;
    size_t tag_cap;
    /* Private to normalize.c: the fold pass's working array, kept between calls. */
    void *scratch;
    size_t scratch_cap;
} pp_text;

void pp_text_init(pp_text *t);
void pp_text_free(pp_text *t);

/* Normalizes s[0..n) (n < 4 GiB) into t's views.  s must stay valid while t's views
** are used (t->orig borrows it).  Errors: PARAPET_ERR_UTF8 (strict mode, *bad_offset
** set to the first invalid byte if bad_offset is non-NULL), PARAPET_ERR_NOMEM,
** PARAPET_ERR_TOO_LARGE (n >= 4 GiB). */
pp_status pp_text_normalize(pp_text *t, const char *s, size_t n, unsigned flags,
                            size_t *bad_offset);

/* Original byte span of view span [a,b) (a < b <= v->n). */
static inline void pp_view_span(const pp_view *v, size_t a, size_t b, size_t *os,
                                size_t *oe) {
    *os = v->src_start[a];
    *oe = v->src_end[b - 1];
}

/* OR of xf bits over view span [a,b). */
unsigned pp_view_xf(const pp_view *v, size_t a, size_t b);

/* Folds a pattern (a lexicon term or phrase) exactly as the fold view folds text,
** except that no leet folding is applied to digits that the pattern writer meant
** literally.  Writes the folded UTF-8 to *out (pp_free) and, in *runs (pp_free,
** may be NULL), the run length of each output byte, so a matcher can require
** "ass" (run 2 on 's') to match only runs of 2 or more.  *out has PP_VIEW_SLACK
** readable (zero) bytes past its NUL.  Returns PARAPET_OK or PARAPET_ERR_UTF8 /
** PARAPET_ERR_NOMEM. */
pp_status pp_fold_pattern(const char *s, size_t n, char **out, size_t *out_n,
                          uint8_t **runs);

/* Is the fold-view byte at s[i] inside a word?  Word bytes are ASCII letters and
** digits, '*', and every byte of a non-ASCII letter.  Helpers for word-boundary
** rules; `s` is a fold view string of length n. */
int pp_fold_is_word_byte(const char *s, size_t n, size_t i);

/* The ASCII letter or digit that code point cp is confusable with (TS #39 skeleton
** of one ASCII character, as ICU computes it), or 0 when there is none.  ASCII
** itself returns 0. */
char pp_confusable_ascii(uint32_t cp);

/* ------------------------------------------------------------- UTF-8 helpers */

/* Decodes one code point at s[0..n); returns its length (1..4), or 0 if the bytes
** are not valid UTF-8 (overlongs, surrogates and > U+10FFFF are invalid). */
size_t pp_utf8_decode(const char *s, size_t n, uint32_t *cp);
/* Encodes cp into out[4]; returns the length. */
size_t pp_utf8_encode(uint32_t cp, char out[4]);
/* Offset of the first invalid byte, or n if s is valid UTF-8. */
size_t pp_utf8_validate(const char *s, size_t n);
/* Number of code points in s[0..n) (invalid bytes count one each). */
size_t pp_utf8_count(const char *s, size_t n);
/* The same for text known to be valid UTF-8 (faster). */
size_t pp_utf8_count_valid(const char *s, size_t n);
/* The index of the first byte >= 0x80 in s[from..n), or n. */
size_t pp_utf8_ascii_end(const char *s, size_t from, size_t n);

/* Script of a code point, coarse: enough for mixed-script detection and for deciding
** whether words are space-delimited. */
typedef enum pp_script {
    PP_SCRIPT_OTHER = 0, PP_SCRIPT_LATIN, PP_SCRIPT_CYRILLIC, PP_SCRIPT_GREEK,
    PP_SCRIPT_ARABIC, PP_SCRIPT_HEBREW, PP_SCRIPT_DEVANAGARI, PP_SCRIPT_HAN,
    PP_SCRIPT_HIRAGANA, PP_SCRIPT_KATAKANA, PP_SCRIPT_HANGUL, PP_SCRIPT_THAI,
    PP_SCRIPT_COMMON /* digits, punctuation, symbols */
} pp_script;
pp_script pp_script_of(uint32_t cp);
/* True for scripts written without spaces between words (Han, kana, Thai): terms in
** them match as substrings. */
int pp_script_unspaced(pp_script s);

#endif
