/* tests for src/text/normalize.c: the base and fold views, their offset maps and
** signals, pattern folding, and a randomized property test of the map invariants. */
#include "test.h"
#include "text/text.h"
#include "text/confusables_table.h"

#include <stdlib.h>

/* Normalizes a NUL-terminated literal in replace mode into t. */
static pp_status norm(pp_text *t, const char *s) {
    return pp_text_normalize(t, s, strlen(s), PP_NORM_REPLACE_INVALID, NULL);
}

/* Finds `needle` in view v; returns its offset or -1. */
static long find(const pp_view *v, const char *needle) {
    const char *p = strstr(v->s, needle);
    return p ? (long)(p - v->s) : -1;
}

/* Original text covered by view span [a, a+len) as a fresh string in out[cap]. */
static const char *orig_of(const pp_text *t, const pp_view *v, size_t a, size_t len,
                           char *out, size_t cap) {
    size_t os, oe;
    pp_view_span(v, a, a + len, &os, &oe);
    size_t k = oe - os < cap - 1 ? oe - os : cap - 1;
    memcpy(out, t->orig + os, k);
    out[k] = 0;
    return out;
}

/* The map invariants from text.h; returns a description of the first violation or
** NULL.  Written only to be checked. */
static const char *view_violation(const pp_view *v, size_t orig_len, int is_fold) {
    if (v->s[v->n] != 0) return "not NUL-terminated";
    if (pp_utf8_validate(v->s, v->n) != v->n) return "view is not valid UTF-8";
    for (size_t i = 0; i < v->n; i++) {
        if (v->src_start[i] >= v->src_end[i]) return "empty source span";
        if (v->src_end[i] > orig_len) return "span past the original";
        if (i && v->src_start[i] < v->src_start[i - 1]) return "src_start decreases";
        if (i && v->src_end[i] < v->src_end[i - 1]) return "src_end decreases";
        if (is_fold && v->run[i] == 0) return "run of 0";
    }
    return NULL;
}

/* ---------------------------------------------------------------- base view */

TEST(base_keeps_ascii_and_case_with_identity_map) {
    pp_text t;
    pp_text_init(&t);
    CHECK_OK(norm(&t, "AKIA Hello, World!"));
    CHECK_STR(t.base.s, "AKIA Hello, World!");
    for (size_t i = 0; i < t.base.n; i++) {
        CHECK_EQ(t.base.src_start[i], i);
        CHECK_EQ(t.base.src_end[i], i + 1);
        CHECK_EQ(t.base.xf[i], 0);
    }
    CHECK_EQ(t.signals, 0);
    pp_text_free(&t);
}

TEST(base_nfkc_fullwidth_and_math_letters_map_to_their_cluster) {
    pp_text t;
    pp_text_init(&t);
    /* fullwidth "ｆｕｃｋ" (3 bytes each) and mathematical bold "𝐟" (4 bytes) */
    CHECK_OK(norm(&t, "\xEF\xBD\x86\xEF\xBD\x95\xEF\xBD\x83\xEF\xBD\x8B \xF0\x9D\x90\x9F"));
    CHECK_STR(t.base.s, "fuck f");
    CHECK(t.signals & PP_SIG_COMPAT);
    CHECK_EQ(t.base.src_start[1], 3);
    CHECK_EQ(t.base.src_end[1], 6);
    CHECK_EQ(t.base.src_start[5], 13);
    CHECK_EQ(t.base.src_end[5], 17);
    CHECK(t.base.xf[0] & PARAPET_XF_CASE);
    /* a ligature expands to two bytes, both mapping to the one source char */
    CHECK_OK(norm(&t, "\xEF\xAC\x81ne")); /* "ﬁne" */
    CHECK_STR(t.base.s, "fine");
    CHECK_EQ(t.base.src_start[1], 0);
    CHECK_EQ(t.base.src_end[1], 3);
    pp_text_free(&t);
}

TEST(base_cjk_text_and_width_punctuation) {
    pp_text t;
    pp_text_init(&t);
    /* "中文，한국어。" : fullwidth comma becomes ',', not reported as compat */
    CHECK_OK(norm(&t, "\xE4\xB8\xAD\xE6\x96\x87\xEF\xBC\x8C\xED\x95\x9C\xEA\xB5\xAD"));
    CHECK_STR(t.base.s, "\xE4\xB8\xAD\xE6\x96\x87,\xED\x95\x9C\xEA\xB5\xAD");
    CHECK_EQ(t.signals, 0);
    CHECK_STR(t.fold.s, t.base.s);
    CHECK_EQ(t.base.src_start[6], 6);
    CHECK_EQ(t.base.src_end[6], 9);
    /* a Hangul syllable followed by a final jamo composes */
    CHECK_OK(norm(&t, "\xEA\xB0\x80\xE1\x86\xA8")); /* 가 + ᆨ = 각 */
    CHECK_STR(t.base.s, "\xEA\xB0\x81");
    pp_text_free(&t);
}

TEST(base_composes_a_letter_with_its_combining_mark) {
    pp_text t;
    pp_text_init(&t);
    CHECK_OK(norm(&t, "cafe\xCC\x81!")); /* e + U+0301 */
    CHECK_STR(t.base.s, "caf\xC3\xA9!");
    CHECK_EQ(t.base.src_start[3], 3); /* é covers "e" and the mark */
    CHECK_EQ(t.base.src_end[4], 6);
    CHECK_EQ(t.base.src_start[5], 6);
    CHECK(t.signals & PP_SIG_COMPAT);
    /* already-composed text is not reported as changed */
    CHECK_OK(norm(&t, "caf\xC3\xA9"));
    CHECK(!(t.signals & PP_SIG_COMPAT));
    pp_text_free(&t);
}

TEST(zero_width_inside_word_removed_with_signal_and_span_covers_it) {
    pp_text t;
    pp_text_init(&t);
    const char *s = "you f\xE2\x80\x8Bu\xE2\x80\x8C" "ck"; /* ZWSP, ZWNJ */
    CHECK_OK(norm(&t, s));
    CHECK_STR(t.base.s, "you fuck");
    CHECK(t.signals & PP_SIG_ZERO_WIDTH);
    CHECK(t.base.xf[4] & PARAPET_XF_INVISIBLE); /* 'f' before the ZWSP */
    CHECK(t.base.xf[5] & PARAPET_XF_INVISIBLE); /* 'u' after it */
    CHECK(!(t.base.xf[0] & PARAPET_XF_INVISIBLE));
    long a = find(&t.fold, "fuck");
    CHECK(a >= 0);
    char buf[64];
    CHECK_STR(orig_of(&t, &t.fold, (size_t)a, 4, buf, sizeof buf), s + 4);
    CHECK(pp_view_xf(&t.fold, (size_t)a, (size_t)a + 4) & PARAPET_XF_INVISIBLE);
    pp_text_free(&t);
}

TEST(bidi_and_other_invisibles_have_their_own_signals) {
    pp_text t;
    pp_text_init(&t);
    CHECK_OK(norm(&t, "\xE2\x80\xAE" "evil\xE2\x80\xAC")); /* RLO ... PDF */
    CHECK_STR(t.base.s, "evil");
    CHECK_EQ(t.signals, PP_SIG_BIDI);
    CHECK_OK(norm(&t, "kill\xC2\xAD" "er")); /* soft hyphen */
    CHECK_STR(t.base.s, "killer");
    CHECK_EQ(t.signals, PP_SIG_INVISIBLE);
    CHECK_OK(norm(&t, "a\xE3\x85\xA4" "b")); /* Hangul filler U+3164 */
    CHECK_STR(t.base.s, "ab");
    CHECK(t.signals & PP_SIG_INVISIBLE);
    CHECK_OK(norm(&t, "\xEF\xBB\xBFhi")); /* leading BOM: removed, not reported */
    CHECK_STR(t.base.s, "hi");
    CHECK_EQ(t.signals, 0);
    CHECK_OK(norm(&t, "h\xEF\xBB\xBFi")); /* BOM mid-text is */
    CHECK_EQ(t.signals, PP_SIG_ZERO_WIDTH);
    pp_text_free(&t);
}

TEST(emoji_selector_is_quiet_but_a_run_of_selectors_is_not) {
    pp_text t;
    pp_text_init(&t);
    CHECK_OK(norm(&t, "I \xE2\x9D\xA4\xEF\xB8\x8F you")); /* ❤️ */
    CHECK_STR(t.base.s, "I \xE2\x9D\xA4 you");
    CHECK_EQ(t.signals, 0);
    CHECK_OK(norm(&t, "\xE2\x9D\xA4\xEF\xB8\x8F\xEF\xB8\x80\xEF\xB8\x81")); /* smuggling */
    CHECK(t.signals & PP_SIG_INVISIBLE);
    /* a ZWJ emoji sequence is ordinary, a ZWJ between Latin letters is not */
    CHECK_OK(norm(&t, "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9"));
    CHECK_EQ(t.signals, 0);
    CHECK_OK(norm(&t, "a\xE2\x80\x8D" "b"));
    CHECK_EQ(t.signals, PP_SIG_ZERO_WIDTH);
    pp_text_free(&t);
}

TEST(tag_characters_are_removed_and_decoded) {
    pp_text t;
    pp_text_init(&t);
    /* "ok" then tag chars spelling "hi!" then "." */
    const char *s = "ok\xF3\xA0\x81\xA8\xF3\xA0\x81\xA9\xF3\xA0\x80\xA1.";
    CHECK_OK(norm(&t, s));
    CHECK_STR(t.base.s, "ok.");
    CHECK(t.signals & PP_SIG_TAG_CHARS);
    CHECK_EQ(t.tag_len, 3);
    CHECK_STR(t.tag_payload, "hi!");
    CHECK_EQ(t.tag_src[0], 2);
    CHECK_EQ(t.tag_src[1], 6);
    CHECK_EQ(t.tag_src[2], 10);
    CHECK_OK(norm(&t, "plain")); /* payload reset on reuse */
    CHECK_EQ(t.tag_len, 0);
    pp_text_free(&t);
}

TEST(flag_emoji_tag_sequence_is_not_a_payload) {
    pp_text t;
    pp_text_init(&t);
    /* 🏴 + tags "gbeng" + CANCEL TAG: the flag of England */
    const char *flag = "\xF0\x9F\x8F\xB4\xF3\xA0\x81\xA7\xF3\xA0\x81\xA2\xF3\xA0\x81\xA5"
                       "\xF3\xA0\x81\xAE\xF3\xA0\x81\xA7\xF3\xA0\x81\xBF";
    CHECK_OK(norm(&t, flag));
    CHECK_STR(t.base.s, "\xF0\x9F\x8F\xB4");
    CHECK_EQ(t.signals, 0);
    CHECK_EQ(t.tag_len, 0);
    /* tags that follow the cancel tag are a payload again */
    char buf[128];
    snprintf(buf, sizeof buf, "%s\xF3\xA0\x81\xA8\xF3\xA0\x81\xA9", flag);
    CHECK_OK(norm(&t, buf));
    CHECK(t.signals & PP_SIG_TAG_CHARS);
    CHECK_STR(t.tag_payload, "hi");
    /* a long run of tag letters after the flag is not a subdivision code */
    size_t n = (size_t)snprintf(buf, sizeof buf, "\xF0\x9F\x8F\xB4");
    for (int k = 0; k < 12; k++) n += (size_t)snprintf(buf + n, sizeof buf - n, "\xF3\xA0\x81\xA1");
    CHECK_OK(norm(&t, buf));
    CHECK(t.signals & PP_SIG_TAG_CHARS);
    CHECK(t.tag_len >= 5);
    pp_text_free(&t);
}

TEST(nul_bytes_removed_with_signal) {
    pp_text t;
    pp_text_init(&t);
    CHECK_OK(pp_text_normalize(&t, "ab\0cd", 5, 0, NULL));
    CHECK_STR(t.base.s, "abcd");
    CHECK_EQ(t.base.n, 4);
    CHECK_EQ(t.signals, PP_SIG_NUL);
    CHECK_EQ(t.base.src_start[2], 3);
    CHECK(t.base.xf[1] & PARAPET_XF_INVISIBLE);
    pp_text_free(&t);
}

TEST(empty_input_and_all_invisible_input_are_empty) {
    pp_text t;
    pp_text_init(&t);
    CHECK_OK(pp_text_normalize(&t, "", 0, 0, NULL));
    CHECK_EQ(t.base.n, 0);
    CHECK_EQ(t.fold.n, 0);
    CHECK_STR(t.base.s, "");
    CHECK_STR(t.fold.s, "");
    CHECK_EQ(t.signals, PP_SIG_EMPTY);
    CHECK_OK(pp_text_normalize(&t, NULL, 0, 0, NULL));
    CHECK(t.signals & PP_SIG_EMPTY);
    CHECK_OK(norm(&t, "\xE2\x80\x8B"));
    CHECK_EQ(t.signals, PP_SIG_EMPTY | PP_SIG_ZERO_WIDTH);
    CHECK_EQ(pp_text_normalize(&t, NULL, 3, 0, NULL), PARAPET_ERR_ARG);
    pp_text_free(&t);
}

TEST(invalid_utf8_strict_reports_first_bad_offset) {
    pp_text t;
    pp_text_init(&t);
    size_t bad = 999;
    CHECK_EQ(pp_text_normalize(&t, "ok \xC3\xA9 \xC0\xAF", 8, 0, &bad), PARAPET_ERR_UTF8);
    CHECK_EQ(bad, 6);
    CHECK_EQ(pp_text_normalize(&t, "\xED\xA0\x80", 3, 0, &bad), PARAPET_ERR_UTF8);
    CHECK_EQ(bad, 0); /* a surrogate */
    CHECK_EQ(pp_text_normalize(&t, "ab\xE2\x82", 4, 0, &bad), PARAPET_ERR_UTF8);
    CHECK_EQ(bad, 2); /* truncated at the end */
    CHECK_EQ(t.base.n, 0);
    pp_text_free(&t);
}

TEST(invalid_utf8_replace_mode_makes_one_fffd_per_byte) {
    pp_text t;
    pp_text_init(&t);
    CHECK_OK(pp_text_normalize(&t, "a\xFF\xFE" "b", 4, PP_NORM_REPLACE_INVALID, NULL));
    CHECK_STR(t.base.s, "a\xEF\xBF\xBD\xEF\xBF\xBD" "b");
    CHECK_EQ(t.signals, PP_SIG_INVALID_UTF8);
    CHECK_EQ(t.base.src_start[1], 1);
    CHECK_EQ(t.base.src_end[3], 2);
    CHECK_EQ(t.base.src_start[4], 2);
    CHECK_EQ(t.base.src_end[7], 4);
    pp_text_free(&t);
}

TEST(too_large_input_is_refused) {
    if (sizeof(size_t) <= 4) SKIP("32-bit size_t");
    pp_text t;
    pp_text_init(&t);
    CHECK_EQ(pp_text_normalize(&t, "x", (size_t)1 << 32, 0, NULL), PARAPET_ERR_TOO_LARGE);
    pp_text_free(&t);
}

/* ---------------------------------------------------------------- fold view */

TEST(fold_case_accents_and_tatweel) {
    pp_text t;
    pp_text_init(&t);
    CHECK_OK(norm(&t, "Caf\xC3\xA9 NA\xC3\x8FVE \xC4\xB0stanbul"));
    CHECK_STR(t.fold.s, "cafe naive istanbul");
    CHECK(t.fold.xf[0] & PARAPET_XF_CASE);
    CHECK(t.fold.xf[3] & PARAPET_XF_ACCENT);
    CHECK(!(t.fold.xf[1] & PARAPET_XF_CASE));
    CHECK_STR(t.base.s, "Caf\xC3\xA9 NA\xC3\x8FVE \xC4\xB0stanbul"); /* base keeps all */
    /* Arabic: tatweel gone, harakat stripped (kasra U+0650) */
    CHECK_OK(norm(&t, "\xD9\x83\xD9\x80\xD9\x80\xD8\xAA\xD9\x90\xD8\xA8"));
    CHECK_STR(t.fold.s, "\xD9\x83\xD8\xAA\xD8\xA8");
    /* Devanagari vowel signs are not stripped: "नमस्ते" stays */
    const char *hi = "\xE0\xA4\xA8\xE0\xA4\xAE\xE0\xA4\xB8\xE0\xA5\x8D\xE0\xA4\xA4\xE0\xA5\x87";
    CHECK_OK(norm(&t, hi));
    CHECK_STR(t.fold.s, hi);
    /* ß folds to ss, then the run collapses */
    CHECK_OK(norm(&t, "Stra\xC3\x9F" "e"));
    CHECK_STR(t.fold.s, "strase");
    CHECK_EQ(t.fold.run[4], 2);
    pp_text_free(&t);
}

TEST(fold_homoglyph_paypal_becomes_ascii) {
    pp_text t;
    pp_text_init(&t);
    /* р а у р а (Cyrillic) + Latin l */
    CHECK_OK(norm(&t, "\xD1\x80\xD0\xB0\xD1\x83\xD1\x80\xD0\xB0l login"));
    CHECK_STR(t.fold.s, "paypal login");
    CHECK(t.signals & PP_SIG_CONFUSABLE);
    CHECK(t.signals & PP_SIG_MIXED_SCRIPT);
    CHECK(t.fold.xf[0] & PARAPET_XF_CONFUSABLE);
    CHECK(!(t.fold.xf[5] & PARAPET_XF_CONFUSABLE)); /* the real 'l' */
    CHECK_EQ(t.fold.src_start[1], 2);
    CHECK_EQ(t.fold.src_end[1], 4);
    /* all-Cyrillic but every letter a homoglyph: folded, not mixed */
    CHECK_OK(norm(&t, "\xD1\x80\xD0\xB0\xD1\x83\xD1\x80\xD0\xB0"));
    CHECK_STR(t.fold.s, "paypa");
    CHECK(!(t.signals & PP_SIG_MIXED_SCRIPT));
    pp_text_free(&t);
}

TEST(fold_russian_word_stays_cyrillic) {
    pp_text t;
    pp_text_init(&t);
    CHECK_OK(norm(&t, "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82 \xD0\xBC\xD0\xB8\xD1\x80"));
    CHECK_STR(t.fold.s, "\xD0\xBF\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82 \xD0\xBC\xD0\xB8\xD1\x80");
    CHECK(!(t.signals & (PP_SIG_CONFUSABLE | PP_SIG_MIXED_SCRIPT)));
    CHECK(t.fold.xf[0] & PARAPET_XF_CASE); /* П -> п */
    pp_text_free(&t);
}

TEST(fold_leet_only_in_words_with_letters) {
    pp_text t;
    pp_text_init(&t);
    CHECK_OK(norm(&t, "1d10t"));
    CHECK_STR(t.fold.s, "idiot");
    CHECK(t.signals & PP_SIG_LEET);
    CHECK(t.fold.xf[0] & PARAPET_XF_LEET);
    CHECK(!(t.fold.xf[1] & PARAPET_XF_LEET));
    CHECK_OK(norm(&t, "2024 card 4111 $100"));
    CHECK_STR(t.fold.s, "2024 card 4111 $100");
    CHECK(!(t.signals & PP_SIG_LEET));
    CHECK_OK(norm(&t, "p@$$w0rd sh!t"));
    CHECK_STR(t.fold.s, "pasword shit");
    CHECK_EQ(t.fold.run[2], 2);
    pp_text_free(&t);
}

TEST(regression_digits_inside_cjk_words_are_not_leet) {
    pp_text t;
    pp_text_init(&t);
    /* "了48次" (48 times) once folded to "了ab次" */
    CHECK_OK(norm(&t, "\xE4\xBA\x86" "48" "\xE6\xAC\xA1"));
    CHECK_STR(t.fold.s, "\xE4\xBA\x86" "48" "\xE6\xAC\xA1");
    CHECK(!(t.signals & PP_SIG_LEET));
    /* nor in Arabic, Korean or Japanese words, nor '!' / '@' beside such letters */
    CHECK_OK(norm(&t, "\xD8\xB9\xD8\xA7\xD9\x85" "2020 \xEC\x97\x86" "3 @\xE3\x81\x82!\xE3\x81\x84"));
    CHECK_STR(t.fold.s, "\xD8\xB9\xD8\xA7\xD9\x85" "2020 \xEC\x97\x86" "3 @\xE3\x81\x82!\xE3\x81\x84");
    CHECK(!(t.signals & PP_SIG_LEET));
    /* Latin, Greek and Cyrillic words still fold it, also beside CJK text */
    CHECK_OK(norm(&t, "\xE4\xBD\xA0 1d10t \xD0\xBF" "0" "\xD1\x80\xD0\xBD"));
    CHECK_STR(t.fold.s, "\xE4\xBD\xA0 idiot \xD0\xBFo\xD1\x80\xD0\xBD");
    CHECK(t.signals & PP_SIG_LEET);
    pp_text_free(&t);
}

TEST(fold_bang_and_bar_are_letters_only_before_a_letter) {
    pp_text t;
    pp_text_init(&t);
    CHECK_OK(norm(&t, "idiot! b!tch yes!! |ame"));
    CHECK_STR(t.fold.s, "idiot! bitch yes!! lame");
    CHECK_EQ(t.fold.run[16], 1); /* '!' is punctuation: no run collapse */
    pp_text_free(&t);
}

TEST(fold_masks_between_letters) {
    pp_text t;
    pp_text_init(&t);
    CHECK_OK(norm(&t, "f*ck sh#t f**k *bold* #tag"));
    CHECK_STR(t.fold.s, "f*ck sh*t f*k *bold* #tag");
    CHECK(t.fold.xf[1] & PARAPET_XF_MASK);
    CHECK(t.fold.xf[7] & PARAPET_XF_MASK);
    CHECK_EQ(t.fold.run[11], 2);
    CHECK(!(t.fold.xf[14] & PARAPET_XF_MASK));
    CHECK(pp_fold_is_word_byte(t.fold.s, t.fold.n, 1));
    pp_text_free(&t);
}

TEST(fold_separator_joining_span_maps_to_spelled_out_word) {
    pp_text t;
    pp_text_init(&t);
    const char *s = "I said f.u.c.k!";
    CHECK_OK(norm(&t, s));
    CHECK_STR(t.fold.s, "i said fuck!");
    CHECK(t.signals & PP_SIG_SEPARATOR);
    long a = find(&t.fold, "fuck");
    CHECK(a >= 0);
    char buf[64];
    CHECK_STR(orig_of(&t, &t.fold, (size_t)a, 4, buf, sizeof buf), "f.u.c.k");
    CHECK(pp_view_xf(&t.fold, (size_t)a, (size_t)a + 4) & PARAPET_XF_SEPARATOR);
    CHECK_OK(norm(&t, "f u c k you; f-u-c-k; f | u | c | k; s_h_1_t"));
    CHECK_STR(t.fold.s, "fuck you; fuck; fuck; shit");
    CHECK_OK(norm(&t, "f.u.c.k, y o u")); /* one separator string per chain */
    CHECK_STR(t.fold.s, "fuck, you");
    /* regression: the article before a spelled-out word is not swallowed */
    CHECK_OK(norm(&t, "such a b-a-s-t-a-r-d"));
    CHECK_STR(t.fold.s, "such a bastard");
    CHECK_OK(norm(&t, "omg fuc\xce\xba"));  /* Greek kappa reads as k */
    CHECK_STR(t.fold.s, "omg fuck");
    CHECK_OK(norm(&t, "1 2 3 go; a b; x    y    z")); /* numbers; two; gaps too wide */
    CHECK_STR(t.fold.s, "1 2 3 go; a b; x y z");
    CHECK(!(t.signals & PP_SIG_SEPARATOR));
    CHECK_OK(norm(&t, "f\nu\nc\nk")); /* not on one line */
    CHECK_STR(t.fold.s, "f u c k");
    pp_text_free(&t);
}

TEST(fold_collapses_letter_runs_and_records_their_length) {
    pp_text t;
    pp_text_init(&t);
    CHECK_OK(norm(&t, "fuuuuuck ass 2000"));
    CHECK_STR(t.fold.s, "fuck as 2000");
    CHECK_EQ(t.fold.run[1], 5);
    CHECK(t.fold.xf[1] & PARAPET_XF_REPEAT);
    CHECK_EQ(t.fold.run[6], 2);
    CHECK(!(t.fold.xf[6] & PARAPET_XF_REPEAT));
    CHECK(t.signals & PP_SIG_REPEAT);
    char buf[64];
    CHECK_STR(orig_of(&t, &t.fold, 1, 1, buf, sizeof buf), "uuuuu");
    /* any script: Cyrillic "ааа" (not all confusable context: with д) */
    CHECK_OK(norm(&t, "\xD0\xB4\xD0\xB0\xD0\xB0\xD0\xB0"));
    CHECK_STR(t.fold.s, "\xD0\xB4\xD0\xB0");
    CHECK_EQ(t.fold.run[2], 3);
    CHECK_EQ(t.fold.run[3], 3);
    /* saturates at 255 */
    char many[300];
    memset(many, 'a', sizeof many);
    CHECK_OK(pp_text_normalize(&t, many, sizeof many, 0, NULL));
    CHECK_EQ(t.fold.n, 1);
    CHECK_EQ(t.fold.run[0], 255);
    pp_text_free(&t);
}

TEST(fold_squeezes_whitespace_and_keeps_punctuation) {
    pp_text t;
    pp_text_init(&t);
    CHECK_OK(norm(&t, "Hi,\t\n  there...\xC2\xA0you?"));
    CHECK_STR(t.fold.s, "hi, there... you?");
    char buf[64];
    CHECK_STR(orig_of(&t, &t.fold, 3, 1, buf, sizeof buf), "\t\n  ");
    pp_text_free(&t);
}

/* Found by fuzz_normalize: Arabic marks that fold away between two spaces left two
** spaces on the fast path but one on the slow path. */
TEST(regression_marks_folding_away_between_spaces_leave_one_space) {
    pp_text t;
    pp_text_init(&t);
    CHECK_OK(norm(&t, "283 \xD9\x90\xD9\x8B 8"));
    CHECK_STR(t.fold.s, "283 8");
    CHECK_EQ(t.fold.src_start[3], 3);
    CHECK_EQ(t.fold.src_end[3], 9);
    pp_text_free(&t);
}

TEST(no_fold_flag_builds_only_base) {
    pp_text t;
    pp_text_init(&t);
    CHECK_OK(pp_text_normalize(&t, "ABC", 3, PP_NORM_NO_FOLD, NULL));
    CHECK_STR(t.base.s, "ABC");
    CHECK_EQ(t.fold.n, 0);
    CHECK_STR(t.fold.s, "");
    pp_text_free(&t);
}

TEST(reuse_keeps_buffers_and_resets_state) {
    pp_text t;
    pp_text_init(&t);
    CHECK_OK(norm(&t, "a much longer text than the next one, f.u.c.k \xE2\x80\x8B"));
    char *base = t.base.s, *fold = t.fold.s;
    CHECK_OK(norm(&t, "Short"));
    CHECK(t.base.s == base);
    CHECK(t.fold.s == fold);
    CHECK_STR(t.fold.s, "short");
    CHECK_EQ(t.signals, 0);
    pp_text_free(&t);
    pp_text_free(NULL);
}

/* ---------------------------------------------------------------- patterns */

TEST(fold_pattern_matches_the_text_fold) {
    char *out;
    size_t n;
    uint8_t *runs;
    CHECK_OK(pp_fold_pattern("Ass", 3, &out, &n, &runs));
    CHECK_STR(out, "as");
    CHECK_EQ(n, 2);
    CHECK_EQ(runs[0], 1);
    CHECK_EQ(runs[1], 2);
    pp_free(out);
    pp_free(runs);
    /* a Russian term folds exactly as Russian text does */
    const char *ru = "\xD0\xA1\xD1\x83\xD0\xBA\xD0\xB0"; /* "Сука" */
    CHECK_OK(pp_fold_pattern(ru, strlen(ru), &out, &n, NULL));
    pp_text t;
    pp_text_init(&t);
    CHECK_OK(norm(&t, ru));
    CHECK_STR(out, t.fold.s);
    pp_free(out);
    pp_text_free(&t);
    CHECK_EQ(pp_fold_pattern("\xFF", 1, &out, &n, NULL), PARAPET_ERR_UTF8);
}

/* ------------------------------------------------------------------ helpers */

TEST(word_bytes_and_scripts) {
    const char *s = "a*\xD0\xB4-1 \xE2\x82\xAC";
    size_t n = strlen(s);
    CHECK(pp_fold_is_word_byte(s, n, 0));
    CHECK(pp_fold_is_word_byte(s, n, 1));
    CHECK(pp_fold_is_word_byte(s, n, 2));
    CHECK(pp_fold_is_word_byte(s, n, 3));
    CHECK(!pp_fold_is_word_byte(s, n, 4));
    CHECK(pp_fold_is_word_byte(s, n, 5));
    CHECK(!pp_fold_is_word_byte(s, n, 7)); /* euro sign */
    CHECK(!pp_fold_is_word_byte(s, n, 8));
    CHECK_EQ(pp_script_of('a'), PP_SCRIPT_LATIN);
    CHECK_EQ(pp_script_of('7'), PP_SCRIPT_COMMON);
    CHECK_EQ(pp_script_of(0xE9), PP_SCRIPT_LATIN);
    CHECK_EQ(pp_script_of(0x0434), PP_SCRIPT_CYRILLIC);
    CHECK_EQ(pp_script_of(0x03B1), PP_SCRIPT_GREEK);
    CHECK_EQ(pp_script_of(0x0628), PP_SCRIPT_ARABIC);
    CHECK_EQ(pp_script_of(0x05D0), PP_SCRIPT_HEBREW);
    CHECK_EQ(pp_script_of(0x0915), PP_SCRIPT_DEVANAGARI);
    CHECK_EQ(pp_script_of(0x4E2D), PP_SCRIPT_HAN);
    CHECK_EQ(pp_script_of(0x3400), PP_SCRIPT_HAN);
    CHECK_EQ(pp_script_of(0xF900), PP_SCRIPT_HAN);
    CHECK_EQ(pp_script_of(0x3042), PP_SCRIPT_HIRAGANA);
    CHECK_EQ(pp_script_of(0x30AB), PP_SCRIPT_KATAKANA);
    CHECK_EQ(pp_script_of(0xAC00), PP_SCRIPT_HANGUL);
    CHECK_EQ(pp_script_of(0x1100), PP_SCRIPT_HANGUL);
    CHECK_EQ(pp_script_of(0x0E01), PP_SCRIPT_THAI);
    CHECK_EQ(pp_script_of(0x2014), PP_SCRIPT_COMMON);
    CHECK_EQ(pp_script_of(0x1F600), PP_SCRIPT_COMMON);
    CHECK(pp_script_unspaced(PP_SCRIPT_HAN));
    CHECK(!pp_script_unspaced(PP_SCRIPT_LATIN));
    CHECK_EQ(pp_confusable_ascii(0x0430), 'a');
    CHECK_EQ(pp_confusable_ascii('a'), 0);
    CHECK_EQ(pp_confusable_ascii(0x0434), 0); /* д looks like nothing ASCII */
}

TEST(script_of_common_blocks_and_their_edges) {
    CHECK_EQ(pp_script_of(0xBF), PP_SCRIPT_COMMON);   /* inverted question mark */
    CHECK_EQ(pp_script_of(0xC0), PP_SCRIPT_LATIN);
    CHECK_EQ(pp_script_of(0xD7), PP_SCRIPT_COMMON);   /* multiplication sign */
    CHECK_EQ(pp_script_of(0xF7), PP_SCRIPT_COMMON);   /* division sign */
    CHECK_EQ(pp_script_of(0x2AF), PP_SCRIPT_LATIN);
    CHECK_EQ(pp_script_of(0x2B0), PP_SCRIPT_OTHER);   /* modifier letter small h */
    CHECK_EQ(pp_script_of(0x3FF), PP_SCRIPT_GREEK);
    CHECK_EQ(pp_script_of(0x400), PP_SCRIPT_CYRILLIC);
    CHECK_EQ(pp_script_of(0x52F), PP_SCRIPT_CYRILLIC);
    CHECK_EQ(pp_script_of(0x4DFF), PP_SCRIPT_COMMON); /* a hexagram symbol */
    CHECK_EQ(pp_script_of(0x4E00), PP_SCRIPT_HAN);
    CHECK_EQ(pp_script_of(0x9FFF), PP_SCRIPT_HAN);
    CHECK_EQ(pp_script_of(0xAC00), PP_SCRIPT_HANGUL);
    CHECK_EQ(pp_script_of(0xD7A3), PP_SCRIPT_HANGUL);
    CHECK_EQ(pp_script_of(0x3042), PP_SCRIPT_HIRAGANA);
    CHECK_EQ(pp_script_of(0x30AB), PP_SCRIPT_KATAKANA);
}

TEST(utf8_helpers_reject_overlongs_surrogates_and_out_of_range) {
    uint32_t cp;
    CHECK_EQ(pp_utf8_decode("\xC3\xA9", 2, &cp), 2);
    CHECK_EQ(cp, 0xE9);
    CHECK_EQ(pp_utf8_decode("\xF0\x9F\x98\x80", 4, &cp), 4);
    CHECK_EQ(cp, 0x1F600);
    CHECK_EQ(pp_utf8_decode("\xC0\x80", 2, &cp), 0);
    CHECK_EQ(pp_utf8_decode("\xE0\x80\x80", 3, &cp), 0);
    CHECK_EQ(pp_utf8_decode("\xED\xB0\x80", 3, &cp), 0);
    CHECK_EQ(pp_utf8_decode("\xF4\x90\x80\x80", 4, &cp), 0);
    CHECK_EQ(pp_utf8_decode("\xC3", 1, &cp), 0);
    char o[4];
    CHECK_EQ(pp_utf8_encode(0x10FFFF, o), 4);
    CHECK_EQ(pp_utf8_decode(o, 4, &cp), 4);
    CHECK_EQ(cp, 0x10FFFF);
    CHECK_EQ(pp_utf8_validate("ab\xC3\xA9\xFF", 5), 4);
    CHECK_EQ(pp_utf8_count("ab\xC3\xA9\xFF", 5), 4);
}

/* ---------------------------------------------------------------- property */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

/* Pieces the random texts are made of: the characters every rule cares about. */
static const char *const k_pieces[] = {
    "a", "F", "u", "c", "k", " ", "  ", ".", "-", "|", "!", "*", "#", "@", "$", "0",
    "1", "3", "4", "\t", "\n", "\xC3\xA9", "\xD0\xB0", "\xD1\x80", "\xD0\x94", "\xCE\xB1",
    "\xC3\x9F", "\xEF\xBD\x86", "\xEF\xAC\x81", "\xCC\x81", "\xCC\x88", "\xF0\x9F\x91\x8D",
    "\xEF\xB8\x8F", "\xE2\x80\x8B", "\xE2\x80\x8D", "\xE2\x80\xAE", "\xF3\xA0\x81\xA8",
    "\xFF", "\xC3", "\xE2\x82", "", "\xD9\x80", "\xD9\x8E", "\xC4\xB0", "\xCE\x90",
    "\xEF\xB7\xBA", "\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8", "\xEA\xB0\x80",
    "\xE0\xA4\x95\xE0\xA5\x8D", "\xC2\xB7", "\xE2\x80\xA2", "\xC2\xAD", "\xF0\x9D\x90\x9F",
};

TEST(property_maps_in_range_monotone_and_views_valid) {
    pp_text t;
    pp_text_init(&t);
    char s[512];
    for (int iter = 0; iter < 4000; iter++) {
        size_t n = 0;
        int parts = (int)(rnd() % 40);
        for (int p = 0; p < parts; p++) {
            const char *piece = k_pieces[rnd() % PP_ARRAY_LEN(k_pieces)];
            size_t k = piece[0] ? strlen(piece) : 1; /* "" stands for a NUL byte */
            if (n + k > sizeof s) break;
            memcpy(s + n, piece, k);
            n += k;
        }
        if (iter % 3 == 0) /* mutate a few bytes */
            for (int f = 0; f < 3 && n; f++) s[rnd() % n] = (char)rnd();
        CHECK_OK(pp_text_normalize(&t, s, n, PP_NORM_REPLACE_INVALID, NULL));
        const char *why = view_violation(&t.base, n, 0);
        CHECK_MSG(!why, "base, iteration %d: %s", iter, why);
        why = view_violation(&t.fold, n, 1);
        CHECK_MSG(!why, "fold, iteration %d: %s", iter, why);
        for (size_t i = 0; i < t.tag_len; i++) CHECK(t.tag_src[i] < n);
        /* strict mode agrees with the validator */
        size_t bad = 0;
        pp_status st = pp_text_normalize(&t, s, n, 0, &bad);
        size_t v = pp_utf8_validate(s, n);
        if (v == n) {
            CHECK_OK(st);
        } else {
            CHECK_EQ(st, PARAPET_ERR_UTF8);
            CHECK_EQ(bad, v);
        }
    }
    pp_text_free(&t);
}

/* Pieces for the fast-path comparison: ASCII tokens that sit at the edge of the fast
** path's rules (one-letter tokens, chains, digits, '!', masks, leet). */
static const char *const k_ascii_pieces[] = {
    "a", "b", "I", "xy", "Hello", "wORLD", "2024", "7", "1d10t", "!", "!!", "idiot!",
    "b!tch", "sh*t", "#tag", "@user", "$5", " ", "  ", "\t", "\n", ".", ",", "-", "_",
    "/", "|", "~", "+", ";", ":", "?", "'", "\"", "(", ")", "aa", "ooo", "ss", "e",
    "3.14", "x.y", "\xC2\xB7", "\xD0\xB0", "\xC3\xA9",
    "&#8220;", "&#128553;", "&#12;", "&#1;", "&#", "&", "#", "&#123456789;", ";",
};

/* Random texts of the given pieces, folded by the fast path and by the unit
** pipeline (PP_NORM_SLOW_FOLD_): the fold views must be identical, maps, xf and runs
** included. */
static void fast_matches_slow(const char *const *pieces, size_t n_pieces, int iters) {
    pp_text fast, slow;
    pp_text_init(&fast);
    pp_text_init(&slow);
    char s[256];
    for (int iter = 0; iter < iters; iter++) {
        size_t n = 0;
        int parts = (int)(rnd() % 24);
        for (int p = 0; p < parts; p++) {
            const char *piece = pieces[rnd() % n_pieces];
            size_t k = strlen(piece);
            if (n + k > sizeof s - 1) break;
            memcpy(s + n, piece, k);
            n += k;
        }
        s[n] = 0;
        CHECK_OK(pp_text_normalize(&fast, s, n, 0, NULL));
        CHECK_OK(pp_text_normalize(&slow, s, n, PP_NORM_SLOW_FOLD_, NULL));
        CHECK_MSG(!strcmp(fast.fold.s, slow.fold.s), "\"%s\": fast \"%s\" slow \"%s\"", s,
                  fast.fold.s, slow.fold.s);
        CHECK_MSG(fast.signals == slow.signals, "\"%s\": signals %x vs %x", s,
                  fast.signals, slow.signals);
        for (size_t i = 0; i < fast.fold.n; i++) {
            CHECK_MSG(fast.fold.src_start[i] == slow.fold.src_start[i] &&
                          fast.fold.src_end[i] == slow.fold.src_end[i] &&
                          fast.fold.xf[i] == slow.fold.xf[i] &&
                          fast.fold.run[i] == slow.fold.run[i],
                      "\"%s\": byte %zu differs", s, i);
        }
    }
    pp_text_free(&fast);
    pp_text_free(&slow);
}

TEST(property_fast_path_folds_exactly_like_the_unit_pipeline) {
    fast_matches_slow(k_ascii_pieces, PP_ARRAY_LEN(k_ascii_pieces), 5000);
    /* HTML entities (tweets are full of them) among what could make their '#' a mask,
    ** a leet prefix or the start of a chain */
    static const char *const entity[] = {"&", "#", "&#", "1", "12", "&#8220;", "&#7;", ";",
                                         ".", " ", "a", "ab", "@", "!", "x.", "&#12", "0"};
    fast_matches_slow(entity, PP_ARRAY_LEN(entity), 5000);
}

/* First difference between the views of two normalizations of one text (strings,
** maps, xf, runs, signals), or NULL when they are identical. */
static const char *views_differ(const pp_text *a, const pp_text *b, size_t *at) {
    const pp_view *va[2] = {&a->base, &a->fold}, *vb[2] = {&b->base, &b->fold};
    *at = 0;
    if (a->signals != b->signals) return "signals";
    for (int w = 0; w < 2; w++) {
        const pp_view *x = va[w], *y = vb[w];
        if (x->n != y->n || memcmp(x->s, y->s, x->n)) return w ? "fold text" : "base text";
        for (size_t i = 0; i < x->n; i++) {
            *at = i;
            if (x->src_start[i] != y->src_start[i] || x->src_end[i] != y->src_end[i])
                return w ? "fold map" : "base map";
            if (x->xf[i] != y->xf[i]) return w ? "fold xf" : "base xf";
            if (w && x->run[i] != y->run[i]) return "fold run";
        }
    }
    if (a->tag_len != b->tag_len ||
        (a->tag_len && memcmp(a->tag_payload, b->tag_payload, a->tag_len)))
        return "tag payload";
    return NULL;
}

/* Normalizes s[0..n) with and without the fast paths and compares everything. */
static const char *fast_vs_slow(pp_text *fast, pp_text *slow, const char *s, size_t n,
                                size_t *at) {
    *at = 0;
    pp_status a = pp_text_normalize(fast, s, n, PP_NORM_REPLACE_INVALID, NULL);
    pp_status b =
        pp_text_normalize(slow, s, n, PP_NORM_REPLACE_INVALID | PP_NORM_SLOW_FOLD_, NULL);
    if (a != PARAPET_OK || b != PARAPET_OK) return "status";
    return views_differ(fast, slow, at);
}

/* ASCII words of every length from 1 to 20 letters (the word path reads 8 and 16 bytes
** at a time, past the end of the text too), in random case, with or without a letter
** pair, alone, at the end or the start of a text, and before each kind of boundary,
** fold exactly as through the unit pipeline. */
TEST(property_words_of_every_length_fast_path_equals_general_path) {
    pp_text fast, slow;
    pp_text_init(&fast);
    pp_text_init(&slow);
    static const char *const after[] = {"", " ", "  ", "\t", ".", "!", "!x", "1", "#a",
                                        " b c", " \xC3\xA9", "\xC3\xA9", " xy", "@"};
    static const char *const before[] = {"", " ", "(", "ab ", "\xC3\xA9"};
    char s[96];
    for (int iter = 0; iter < 3000; iter++) {
        size_t len = 1 + (size_t)(iter % 20), n = 0;
        const char *pre = before[rnd() % PP_ARRAY_LEN(before)];
        memcpy(s, pre, strlen(pre));
        n = strlen(pre);
        for (size_t q = 0; q < len; q++) {
            char c = (char)('a' + rnd() % 26);
            if (q && rnd() % 4 == 0) c = s[n - 1] | 0x20; /* a pair, "ll" */
            if (rnd() % 3 == 0) c = (char)(c & ~0x20);    /* a capital */
            s[n++] = c;
        }
        const char *post = after[rnd() % PP_ARRAY_LEN(after)];
        memcpy(s + n, post, strlen(post));
        n += strlen(post);
        size_t at;
        const char *why = fast_vs_slow(&fast, &slow, s, n, &at);
        CHECK_MSG(!why, "\"%.*s\": %s differs at %zu", (int)n, s, why, at);
        /* and the same text at the start of a longer one */
        memcpy(s + n, " then more words", 16);
        why = fast_vs_slow(&fast, &slow, s, n + 16, &at);
        CHECK_MSG(!why, "\"%.*s\": %s differs at %zu", (int)(n + 16), s, why, at);
    }
    /* a case that could not fail would prove nothing: check one fold by hand */
    CHECK_OK(pp_text_normalize(&fast, "Internationally ABCDEFGHIJKLM", 29, 0, NULL));
    CHECK_STR(fast.fold.s, "internationaly abcdefghijklm");
    CHECK_EQ(fast.fold.src_start[14], 15u); /* the ' ' after the collapsed "ll" */
    CHECK_EQ(fast.fold.xf[15] & PARAPET_XF_CASE, PARAPET_XF_CASE);
    pp_text_free(&fast);
    pp_text_free(&slow);
}

/* Every BMP character and every emoji-block character (U+1F000..1FAFF), in a few
** contexts (alone, doubled, between ASCII letters,
** before '!', after a space...), goes through the non-ASCII fast paths (base copy,
** CJK / non-Latin words, accented Latin letters, punctuation) exactly as through the
** general path. */
TEST(property_every_bmp_character_fast_path_equals_general_path) {
    pp_text fast, slow;
    pp_text_init(&fast);
    pp_text_init(&slow);
    static const char *const ctx[] = {"%s", "a%s%sb c", " %s%s%s.", "x%s y", "%s%s!! z",
                                      "Ab%s c%s", "%s \xE4\xBD\xA0%s", "-%s-%s-"};
    int failures = 0;
    for (uint32_t cp = 0x80; cp < 0x1FB00 && failures < 5; cp++) {
        if (cp >= 0xD800 && cp <= 0xDFFF) continue;
        if (cp == 0x10000) cp = 0x1F000;
        char c[5] = {0}, s[64];
        c[pp_utf8_encode(cp, c)] = 0;
        int n = snprintf(s, sizeof s, ctx[cp % PP_ARRAY_LEN(ctx)], c, c, c);
        size_t at;
        const char *why = fast_vs_slow(&fast, &slow, s, (size_t)n, &at);
        if (why) failures++;
        CHECK_MSG(!why, "U+%04X in \"%s\": %s differs at %zu", (unsigned)cp, s, why, at);
    }
    pp_text_free(&fast);
    pp_text_free(&slow);
}

/* Pieces for the non-ASCII fast paths: ideographs, kana, Hangul, CJK punctuation,
** accented Latin letters (1 and 2 fold letters), Arabic, with what breaks them:
** marks, jamo, invisibles, fullwidth forms, separators, leet, invalid bytes. */
static const char *const k_wide_pieces[] = {
    "\xE4\xBD\xA0", "\xE5\xA5\xBD", "\xE5\x93\x88", "\xE5\x93\x88\xE5\x93\x88\xE5\x93\x88",
    "\xE3\x80\x82", "\xE3\x80\x81", "\xE3\x80\x8C", "\xE2\x80\x9C", "\xE2\x80\xA6",
    "\xE3\x81\x8B", "\xE3\x82\xAB", "\xE3\x83\xBC", "\xE3\x82\x99", "\xEA\xB0\x80",
    "\xE1\x86\xA8", "\xE1\x84\x80", "\xE1\x85\xA1", "\xEF\xBC\x8C", "\xEF\xBC\x81",
    "\xEF\xBD\x86", "\xE3\x80\x80", "\xC3\xA9", "\xC3\x89", "\xC3\x9F", "\xC3\xBC",
    "\xC3\xA0", "\xC3\xB8", "\xC2\xAB", "\xC2\xBB", "\xC2\xB7", "\xE2\x80\xA2",
    "\xD9\x85", "\xD9\x87", "\xD9\x80", "\xD9\x8E", "\xD0\xB0", "\xD0\x94", "\xCC\x81",
    "\xE2\x80\x8B", "\xE2\x80\x8D", "\xEF\xB8\x8F", "\xF0\x9F\x98\x82", "\xF3\xA0\x81\xA8",
    "\xF0\x9F\x91\x8D", "\xF0\x9F\x8F\xBD", "\xE2\x9D\xA4", "\xF0\x9F\x8F\xB4", "\xF0\x9D\x90\x9F",
    "\xEF\xBC\xA1", "\xEF\xBC\x91", "\xC3\xA9\xCC\x81", "\xE4\xBD\xA0\xCC\x81",
    "\xD0\xBF", "\xD0\xB6", "\xD1\x80", "\xCE\xBB", "\xCE\xBF", "\xD7\x90", "\xD9\x8B",
    "\xFF", "\xE4\xBD", "\xC3", "", "a", "B", "ss", "1", "3", "!", "@", "*", "#", "$",
    " ", "  ", ".", "-", "|", ",", "\n", "word", "Th3", "f", "u",
};

TEST(property_wide_and_latin_fast_paths_equal_general_path) {
    pp_text fast, slow;
    pp_text_init(&fast);
    pp_text_init(&slow);
    char s[256];
    for (int iter = 0; iter < 6000; iter++) {
        size_t n = 0;
        int parts = (int)(rnd() % 20);
        for (int p = 0; p < parts; p++) {
            const char *piece = k_wide_pieces[rnd() % PP_ARRAY_LEN(k_wide_pieces)];
            size_t k = piece[0] ? strlen(piece) : 1; /* "" stands for a NUL byte */
            if (n + k > sizeof s) break;
            memcpy(s + n, piece, k);
            n += k;
        }
        if (iter % 5 == 0)
            for (int f = 0; f < 2 && n; f++) s[rnd() % n] = (char)rnd();
        size_t at;
        const char *why = fast_vs_slow(&fast, &slow, s, n, &at);
        CHECK_MSG(!why, "iteration %d (%zu bytes): %s differs at %zu", iter, n, why, at);
        if (why) break;
    }
    pp_text_free(&fast);
    pp_text_free(&slow);
}

/* Long ASCII texts: prose made of words of 1 to 40 letters or digits, with the things
** that stop an ASCII stretch sprinkled in (a digit after a long word, a mask, a
** spelled-out word, an accented letter, whitespace runs), up to several KiB so
** stretches hit their length limit and cut their output back, fold exactly as
** through the unit pipeline. */
TEST(property_long_ascii_stretches_equal_general_path) {
    pp_text fast, slow;
    pp_text_init(&fast);
    pp_text_init(&slow);
    static const char *const odd[] = {"1", "f.u.c.k", "sh*t", "\xC3\xA9", "  ", "\t\n", "a b c",
                                      "@user", "wow!!", "!x", "3.14", "x1", "\xE4\xBD\xA0", "I a",
                                      /* runs across the 64-byte groups of the stretch */
                                      "Aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                                      "                                                                     "};
    static char s[6000];
    for (int iter = 0; iter < 400; iter++) {
        size_t n = 0, target = 200 + rnd() % 5000;
        while (n + 64 < sizeof s && n < target) {
            size_t len = 1 + (rnd() % 8 == 0 ? rnd() % 40 : rnd() % 9);
            int digits = rnd() % 10 == 0;
            for (size_t q = 0; q < len; q++) {
                char c = digits ? (char)('0' + rnd() % 10) : (char)('a' + rnd() % 26);
                if (!digits && q && rnd() % 5 == 0) c = s[n - 1]; /* a letter pair */
                if (!digits && rnd() % 7 == 0) c = (char)(c & ~0x20);
                s[n++] = c;
            }
            if (rnd() % 12 == 0) {
                const char *o = odd[rnd() % PP_ARRAY_LEN(odd)];
                memcpy(s + n, o, strlen(o));
                n += strlen(o);
            }
            s[n++] = " .,; "[rnd() % 5];
        }
        size_t at;
        const char *why = fast_vs_slow(&fast, &slow, s, n, &at);
        CHECK_MSG(!why, "iteration %d (%zu bytes): %s differs at %zu", iter, n, why, at);
    }
    pp_text_free(&fast);
    pp_text_free(&slow);
}

/* Long runs of CJK ideographs (the base and fold loops take them several at a time,
** from 16-byte blocks): runs of 1 to 40, with repeated characters ("哈哈"), the edges
** of the range (U+4E00, U+9FFF, and U+4DFF, U+A000 just outside), and any wide piece
** between runs (marks that join the last ideograph, invisibles, fullwidth forms,
** invalid bytes), at the start and the end of texts, fold exactly as through the
** unit pipeline. */
TEST(property_long_ideograph_runs_equal_general_path) {
    pp_text fast, slow;
    pp_text_init(&fast);
    pp_text_init(&slow);
    static const char *const ideo[] = {"\xE4\xBD\xA0", "\xE5\xA5\xBD", "\xE5\x93\x88",
                                       "\xE4\xB8\x80", "\xE9\xBF\xBF", "\xE6\x88\x91",
                                       "\xE7\x9A\x84", "\xE8\xAF\xB4"};
    static const char *const edge[] = {"\xE4\xB7\xBF", "\xEA\x80\x80"};
    static char s[2048];
    for (int iter = 0; iter < 3000; iter++) {
        size_t n = 0;
        int runs = 1 + (int)(rnd() % 8);
        for (int r = 0; r < runs && n + 200 < sizeof s; r++) {
            size_t len = 1 + rnd() % 40;
            for (size_t q = 0; q < len; q++) {
                const char *c = rnd() % 6 == 0 && n >= 3 ? s + n - 3 : ideo[rnd() % PP_ARRAY_LEN(ideo)];
                if (rnd() % 50 == 0) c = edge[rnd() % 2];
                memmove(s + n, c, 3);
                n += 3;
            }
            if (r + 1 < runs || rnd() % 2) {
                const char *piece = k_wide_pieces[rnd() % PP_ARRAY_LEN(k_wide_pieces)];
                size_t k = piece[0] ? strlen(piece) : 1;
                memcpy(s + n, piece, k);
                n += k;
            }
        }
        size_t at;
        const char *why = fast_vs_slow(&fast, &slow, s, n, &at);
        CHECK_MSG(!why, "iteration %d (%zu bytes): %s differs at %zu", iter, n, why, at);
        if (why) break;
    }
    pp_text_free(&fast);
    pp_text_free(&slow);
}

/* Words that mix letters folding leaves alone (ideographs, kana, Hangul, Arabic, and
** Greek and Cyrillic ones with and without an ASCII look-alike) with ASCII letters of
** either case and digits ("做ai就得", "了48次", "MX4很", "ж5", "раураl"), letter runs in
** them, '!' after or inside them, '@', '$' or '#' before them, one-character words:
** the fast word path must fold them exactly as the unit pipeline does, or leave them
** to it. */
TEST(property_mixed_letter_words_equal_general_path) {
    pp_text fast, slow;
    pp_text_init(&fast);
    pp_text_init(&slow);
    static const char *const piece[] = {
        "\xE4\xBD\xA0", "\xE5\xA5\xBD", "\xE5\x93\x88", "\xE5\x93\x88", /* 你 好 哈 哈 */
        "\xE3\x81\x8B", "\xE3\x82\xAB", "\xEA\xB0\x80", "\xD8\xB9",     /* か カ 가 ع */
        "\xD0\xB6", "\xD0\xB0", "\xD1\x80", "\xCE\xBB", "\xCE\xBF",     /* ж а р λ ο */
        "\xC3\xA9", "\xE3\x80\x85",                                     /* é 々 */
        "a", "a", "i", "l", "A", "M", "X", "Q", "0", "1", "4", "8", "2", "6", "9"};
    static const char *const gap[] = {" ", ", ", ".", "!", "! ", "!!", "-", "\xEF\xBC\x8C",
                                      "\xE3\x80\x82", " @", " #", " $", "#", "'", "\t",
                                      "!\xF0\x9F\x98\x80", " \xE2\x80\x99"};
    static char s[1024];
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = 0;
        int words = 1 + (int)(rnd() % 6);
        for (int w = 0; w < words && n + 100 < sizeof s; w++) {
            size_t len = 1 + (rnd() % 4 ? rnd() % 6 : rnd() % 20);
            for (size_t q = 0; q < len; q++) {
                const char *c = piece[rnd() % PP_ARRAY_LEN(piece)];
                size_t k = strlen(c);
                if (rnd() % 5 == 0 && n >= k && q) c = s + n - k; /* a run */
                memmove(s + n, c, k);
                n += k;
            }
            const char *g = gap[rnd() % PP_ARRAY_LEN(gap)];
            memcpy(s + n, g, strlen(g));
            n += strlen(g);
        }
        if (rnd() % 3 == 0) n--; /* the text ends inside the last gap or word */
        size_t at;
        const char *why = fast_vs_slow(&fast, &slow, s, n, &at);
        CHECK_MSG(!why, "iteration %d (%zu bytes, \"%.*s\"): %s differs at %zu", iter, n, (int)n,
                  s, why, at);
        if (why) break;
    }
    pp_text_free(&fast);
    pp_text_free(&slow);
}

/* ASCII words that the word rules touch: letters of either case with digits, leet
** and mask characters anywhere in them ("@user12", "1st", "sh!t", "f*ck", "a**b",
** "$$a", "x!!y", "ab!!"), letter and mask runs, one- and two-character words next to
** separators (spelled-out words), '|': the ASCII word path must fold them exactly as
** the unit pipeline does, or leave them to it. */
TEST(property_ascii_rule_words_equal_general_path) {
    pp_text fast, slow;
    pp_text_init(&fast);
    pp_text_init(&slow);
    static const char alpha[] = "aAbBsSoOtT0123456789@$!*#|ii**##";
    static const char *const gap[] = {" ", "  ", ".", ". ", ",", "-", "_", "!", "! ", "|",
                                      "'", ":", "\n", "?", " - "};
    static char s[1024];
    for (int iter = 0; iter < 40000; iter++) {
        size_t n = 0;
        int words = 1 + (int)(rnd() % 8);
        for (int w = 0; w < words && n + 64 < sizeof s; w++) {
            size_t len = 1 + (rnd() % 3 ? rnd() % 4 : rnd() % 12);
            for (size_t q = 0; q < len; q++) {
                char c = alpha[rnd() % (sizeof alpha - 1)];
                if (q && rnd() % 4 == 0) c = s[n - 1]; /* a run */
                s[n++] = c;
            }
            const char *g = gap[rnd() % PP_ARRAY_LEN(gap)];
            memcpy(s + n, g, strlen(g));
            n += strlen(g);
        }
        if (rnd() % 3 == 0) n--;
        size_t at;
        const char *why = fast_vs_slow(&fast, &slow, s, n, &at);
        CHECK_MSG(!why, "iteration %d (%zu bytes, \"%.*s\"): %s differs at %zu", iter, n, (int)n,
                  s, why, at);
        if (why) break;
    }
    pp_text_free(&fast);
    pp_text_free(&slow);
}

/* Long ASCII texts with NUL bytes and a non-ASCII letter here and there (the base
** view finds its ASCII runs 16 and 8 bytes at a time): every byte but the NULs is kept,
** mapped to itself, and a NUL only marks its neighbours; checked against the text
** itself at every length and offset of the odd byte up to 80. */
TEST(property_base_ascii_runs_keep_every_byte) {
    pp_text t;
    pp_text_init(&t);
    char s[96];
    for (size_t n = 1; n <= 80; n++)
        for (size_t at = 0; at <= n; at++)
            for (int kind = 0; kind < 2; kind++) {
                for (size_t q = 0; q < n; q++) s[q] = (char)('a' + (q * 7 + n) % 26);
                size_t len = n;
                if (at < n && kind == 0) s[at] = 0; /* a NUL */
                if (at + 2 <= n && kind == 1) memcpy(s + at, "\xC3\xA9", 2); /* é */
                CHECK_EQ(pp_text_normalize(&t, s, len, 0, NULL), PARAPET_OK);
                size_t o = 0;
                for (size_t q = 0; q < len; q++) {
                    if (s[q] == 0) continue;
                    if ((unsigned char)s[q] >= 0x80) { /* é: its two bytes, one cluster */
                        CHECK_MSG(t.base.src_start[o] == q && t.base.src_end[o] == q + 2,
                                  "n %zu at %zu: é maps to [%u,%u)", n, at,
                                  t.base.src_start[o], t.base.src_end[o]);
                        o += 2;
                        q++;
                        continue;
                    }
                    CHECK_MSG(o < t.base.n && t.base.s[o] == s[q] && t.base.src_start[o] == q &&
                                  t.base.src_end[o] == q + 1,
                              "n %zu at %zu kind %d: byte %zu", n, at, kind, q);
                    o++;
                }
                CHECK_MSG(o == t.base.n, "n %zu at %zu kind %d: %zu bytes, want %zu", n, at,
                          kind, t.base.n, o);
            }
    pp_text_free(&t);
}

TEST(cjk_and_latin_fast_paths_give_the_documented_fold) {
    pp_text t;
    pp_text_init(&t);
    /* "哈哈哈，好！" : the run collapses (run 3, repeat), fullwidth punctuation is ASCII */
    CHECK_OK(norm(&t, "\xE5\x93\x88\xE5\x93\x88\xE5\x93\x88\xEF\xBC\x8C\xE5\xA5\xBD\xEF\xBC\x81"));
    CHECK_STR(t.base.s, "\xE5\x93\x88\xE5\x93\x88\xE5\x93\x88,\xE5\xA5\xBD!");
    CHECK_STR(t.fold.s, "\xE5\x93\x88,\xE5\xA5\xBD!");
    CHECK_EQ(t.fold.run[0], 3);
    CHECK(t.fold.xf[0] & PARAPET_XF_REPEAT);
    CHECK(t.signals & PP_SIG_REPEAT);
    CHECK(!(t.signals & PP_SIG_COMPAT));
    CHECK_EQ(t.fold.src_start[0], 0);
    CHECK_EQ(t.fold.src_end[2], 9);
    /* "Straße Über" : ß folds to a run of two s, Ü to u with case and accent bits */
    CHECK_OK(norm(&t, "Stra\xC3\x9F" "e \xC3\x9C" "ber"));
    CHECK_STR(t.fold.s, "strase uber");
    CHECK_EQ(t.fold.run[4], 2);
    CHECK_EQ(t.fold.src_start[4], 4);
    CHECK_EQ(t.fold.src_end[4], 6);
    CHECK(t.fold.xf[7] & PARAPET_XF_CASE);
    CHECK(t.fold.xf[7] & PARAPET_XF_ACCENT);
    CHECK_EQ(t.fold.src_start[7], 8);
    CHECK_EQ(t.fold.src_end[7], 10);
    pp_text_free(&t);
}

/* The branch-free search of pp_confusable_ascii finds exactly what a plain scan of
** the table finds, for every code point up to U+2FFFF. */
TEST(confusable_lookup_equals_a_linear_scan) {
    static char want[0x30000];
    memset(want, 0, sizeof want);
    for (size_t i = 0; i < PP_ARRAY_LEN(pp_confusables); i++) {
        CHECK(pp_confusables[i].cp < 0x30000);
        if (pp_confusables[i].cp < 0x30000) want[pp_confusables[i].cp] = pp_confusables[i].ascii;
    }
    for (uint32_t cp = 0; cp < 0x30000; cp++) {
        char got = pp_confusable_ascii(cp);
        CHECK_MSG(got == want[cp], "U+%04X: %d, want %d", (unsigned)cp, got, want[cp]);
        if (got != want[cp]) break;
    }
}

TEST(property_checker_catches_a_broken_map) {
    pp_text t;
    pp_text_init(&t);
    CHECK_OK(norm(&t, "abc"));
    CHECK(view_violation(&t.fold, 3, 1) == NULL);
    t.fold.src_start[2] = 0; /* break monotonicity on purpose */
    CHECK(view_violation(&t.fold, 3, 1) != NULL);
    pp_text_free(&t);
}

TEST(allocation_failures_are_reported_and_leave_t_freeable) {
    const char *s = "Some t\xC3\xA9xt with \xF3\xA0\x81\xA8tags, f.u.c.k and \xD1\x80\xD0\xB0y";
    int failures = 0;
    for (long k = 0; k < 40; k++) {
        pp_text t;
        pp_text_init(&t);
        pp_alloc_fail_after(k);
        pp_status st = norm(&t, s);
        pp_alloc_fail_after(-1);
        if (st == PARAPET_OK) {
            CHECK(view_violation(&t.fold, strlen(s), 1) == NULL);
        } else {
            CHECK_EQ(st, PARAPET_ERR_NOMEM);
            failures++;
        }
        pp_text_free(&t);
        char *out = NULL;
        size_t n;
        uint8_t *runs = NULL;
        pp_alloc_fail_after(k);
        st = pp_fold_pattern("Ass", 3, &out, &n, &runs);
        pp_alloc_fail_after(-1);
        if (st == PARAPET_OK) {
            CHECK_STR(out, "as");
        } else {
            CHECK_EQ(st, PARAPET_ERR_NOMEM);
        }
        pp_free(out);
        pp_free(runs);
    }
    CHECK(failures > 0);
}
