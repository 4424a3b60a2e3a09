/*
** injection.c -- the prompt-injection and jailbreak detector.
**
** What it looks for, all reported in the prompt_injection category:
**
**   override   "ignore all previous instructions" in its many paraphrases and in
**              German, French, Spanish, Portuguese, Russian, Chinese and Japanese;
**   jailbreak  the role-play genre: "you are now in developer mode", "act as an
**              unfiltered AI", "DAN", "pretend you have no restrictions", "stay in
**              character", "never refuse", "hypothetically, in a world with no rules";
**   extract    system-prompt extraction: "print your system prompt", "repeat
**              everything above", "what were you told";
**   smuggle    a run of Unicode tag characters (invisible ASCII);
**   obfuscation  weak evidence: words mixing Latin with Cyrillic/Greek letters,
**              zero-width and bidi-control characters.
**
** Encoded payloads (base64, %-escapes, \x escapes, and the text inside tag
** characters) are NOT decoded here: the pipeline (src/pipeline/engine.c) finds them
** once per window with pp_find_payloads, normalizes each and runs every detector,
** this one included, on it again, reporting those hits at the payload's span with
** PARAPET_XF_DECODED.  This detector only reads the text it is given.
**
** How.  Fixed phrase lists miss paraphrases and explode combinatorially, so the
** matcher is a tiny word-level grammar.  Every word of the text's FOLD view
** (lowercased, homoglyphs, leet and accents folded, runs of a letter collapsed) is
** hashed and looked up in a vocabulary of word classes compiled from
** data/injection/vocab.txt: V (ignore, disregard, vergiss, 忽略 ...), P (previous,
** prior, system ...), O (instructions, guidelines ...), and so on; a class entry may
** be a multi-word phrase ("pay no attention to").  A rule is a short sequence of
** elements, each "one to k words of class C, after at most g filler words of class
** F", e.g.
**
**     V  [<=3 of Q|D|Y]  P{1,3}  [<=2 of Q|D|Y|P]  O        override.ignore_previous
**
** which matches "ignore all previous instructions", "disregard any of the prior
** guidelines", "ignoriere alle vorherigen Anweisungen" and "忽略之前的所有指令" alike
** (Chinese and Japanese are split into one word per character).  A match may not
** cross a sentence end.  Rules have a name (the hit's rule string), a group
** (override / jailbreak / extract) and a weight; at each start word the heaviest
** matching rule per group wins, a match inside the previous match of its group is
** dropped, and each rule adds its weight to the score only once per text (later
** matches are recorded with weight 0), so a long template repeating "stay in
** character" is not counted ten times.  Scores combine by noisy-OR (pp_scan_add).
**
** Cost.  The detector runs on every text, and almost every text is benign, so the
** common path is a gate that proves no rule can match:
**
**   1. Tokenize.  A plain text (ASCII without capitals, as most English fold views
**      are; a long text in plain blocks of about BLOCK_MAX bytes cut at sentence
**      ends) is cut into words from bitmaps of word and break bytes built 16 bytes
**      at a time (plain_tokenize); anything else word by word (next_token).  A word
**      already in canonical form (a-z0-9 with no repeated character: nearly every
**      word of a fold view) is hashed straight from memory, eight bytes per
**      multiply; other words are folded character by character into the same hash.
**      In unspaced scripts a character that no rare word or phrase can use (two
**      code-point bitmaps say so) is skipped without a hash, and the CJK
**      punctuation between such characters is read in the same loop.
**   2. Gate, per sentence.  The word classes split into COMMON ones ("the", "your",
**      "all", "you", "never" ...; each in more than ~5% of ordinary texts) and rare
**      ones (the verbs, objects and markers that make a phrase an attack).  An 8 KiB
**      bit filter holds the rare words and the first two words of every rare
**      phrase, so only ~2% of words reach the vocabulary table; for those, the exact
**      rare classes present in the SENTENCE are collected, phrases verified (in a
**      plain block the filter runs in the tokenizer's hash loop without a branch,
**      and only the words it lists are looked at again).  A
**      match never crosses a sentence end, so a rule needs a word of each of its
**      required rare elements in one sentence; a sentence where no rule has them
**      all (nearly every sentence, also in long documents, which almost always hold
**      some rare word somewhere) is dropped.
**   3. Grammar, on the sentences that pass: their words get full class sets and
**      the surviving rules are tried only at words that can start them.
**
** Words are kept in fixed stack windows (TOK_CHUNK words; a longer sentence is
** slid forward keeping MAX_SPAN words of overlap), so nothing is allocated per scan
** except the hits.
**
** Word hashing lowercases ASCII, Latin-1, Greek and Cyrillic, strips Latin-1
** accents and combining accents and collapses runs of one character, so it agrees
** with the fold view produced by any normalizer that honours text.h even where the
** fold view is not fully canonical (digit runs, say).  Vocabulary phrases go
** through pp_fold_pattern and then the same tokenizer.
*/
#include "detector.h"
#include "payload.h"
#include "wordbits16.h"
#include <limits.h>
#include <string.h>

/* ---------------------------------------------------------------- word classes */

#define CLASS_LIST(X)                                                                   \
    X(V) X(VW) X(Q) X(D) X(ART) X(Y) X(P) X(O) X(OW) X(OWW) X(E) X(A) X(VOID) X(FNO)      \
    X(YOU) X(ACTV) X(NEW) X(MODEPRE) X(YOUNOW) X(MODEADJ) X(MODEADJW) X(MODE)  \
    X(ACTAS) X(ACTASW) X(JBADJ) X(AINOUN) X(PRETEND) X(FREEX)       \
    X(FREEH) X(LIMIT) X(WITHOUT) X(ETHIC) X(NOTBOUND) X(POLICY) X(AIORG) X(BYPASS)     \
    X(HYPO) X(NORULE) X(NEVER) X(REFUSE) X(WARN) X(ASANAI) X(JBWORD) X(NAMEJB) X(DAN)  \
    X(STAYCHAR) X(NOMATTER) X(BAD) X(EXV) X(EXQ) X(ME) X(SYSP) X(SYSQW) X(SYSO) X(TXT) \
    X(ABOVELINE) X(WRITTEN) X(TOLD) X(VERBATIM) X(NAMED) X(ANYQ) X(NOLONGER)    \
    X(REMIND)

enum {
#define X_ENUM(c) CI_##c,
    CLASS_LIST(X_ENUM)
#undef X_ENUM
    CI_COUNT
};
_Static_assert(CI_COUNT <= 64, "word classes must fit a 64-bit mask");

static const char *const class_names[CI_COUNT] = {
#define X_NAME(c) #c,
    CLASS_LIST(X_NAME)
#undef X_NAME
};

#define C(c) (1ull << CI_##c)

/* ----------------------------------------------------------------------- rules */

enum { G_OVERRIDE, G_JAILBREAK, G_EXTRACT, G_COUNT };
enum {
    F_END = 1,   /* the match must be followed by punctuation or the end of text */
    F_COLON = 2, /* ... by a colon ("new instructions:") */
    F_UPPER = 4  /* its last word must be written in capitals ("DAN", not "Dan") */
};

/* One element: between min and max consecutive items of class `cls`, preceded by
** at most `gap` filler words, each of class `gapcls` (0 = any word). */
typedef struct elem {
    uint64_t cls;
    uint8_t min, max, gap;
    uint64_t gapcls;
} elem;

#define MAX_ELEMS 5
#define MAX_REP 3

typedef struct rule {
    const char *name;
    uint8_t group;
    uint8_t flags;
    float weight;
    elem e[MAX_ELEMS];
} rule;

#define ONE(c) {(c), 1, 1, 0, 0}
#define OPT(c, hi) {(c), 0, (hi), 0, 0}
#define REP(c, lo, hi, g, gc) {(c), (lo), (hi), (g), (gc)}
#define AFTER(c, g, gc) {(c), 1, 1, (g), (gc)}
#define ANY 0

static const rule rules[] = {
    /* ---- override: drop the instructions you were given */
    {"override.ignore_previous", G_OVERRIDE, 0, 0.85f,
     {ONE(C(V)), REP(C(P), 1, 3, 3, C(Q) | C(D) | C(Y) | C(ART)),
      AFTER(C(O) | C(OW) | C(SYSP), 2, C(Q) | C(D) | C(Y) | C(P) | C(ART))}},
    {"override.ignore_previous", G_OVERRIDE, 0, 0.85f, /* object first: "ignore toutes les instructions précédentes" */
     {ONE(C(V)), AFTER(C(O) | C(OW) | C(SYSP), 3, C(Q) | C(D) | C(Y) | C(ART)),
      AFTER(C(P), 1, C(D) | C(ART) | C(Q))}},
    {"override.discard_previous", G_OVERRIDE, 0, 0.75f,
     {ONE(C(VW)), REP(C(P), 1, 3, 3, C(Q) | C(D) | C(Y) | C(ART)),
      AFTER(C(O) | C(SYSP), 2, C(Q) | C(D) | C(Y) | C(P) | C(ART))}},
    {"override.ignore_context", G_OVERRIDE, 0, 0.45f,
     {ONE(C(V)), REP(C(P), 1, 3, 3, C(Q) | C(D) | C(Y) | C(ART)),
      AFTER(C(OWW), 2, C(Q) | C(D) | C(Y) | C(P) | C(ART))}},
    {"override.ignore_all", G_OVERRIDE, 0, 0.7f,
     {ONE(C(V)), REP(C(Q), 1, 2, 0, 0), OPT(C(Y) | C(D), 2), ONE(C(O) | C(SYSP))}},
    {"override.ignore_all_rules", G_OVERRIDE, 0, 0.5f,
     {ONE(C(V)), REP(C(Q), 1, 2, 0, 0), OPT(C(Y) | C(D), 2), ONE(C(OW))}},
    {"override.ignore_yours", G_OVERRIDE, 0, 0.65f, {ONE(C(V)), ONE(C(Y)), ONE(C(O) | C(SYSP))}},
    {"override.ignore_your_rules", G_OVERRIDE, 0, 0.4f, {ONE(C(V)), ONE(C(Y)), ONE(C(OW))}},
    {"override.ignore_above", G_OVERRIDE, 0, 0.7f,
     {ONE(C(V)), AFTER(C(E), 2, C(Q) | C(D)), AFTER(C(A), 6, ANY)}},
    {"override.ignore_above", G_OVERRIDE, 0, 0.7f, /* "ignore the above text", 忽略以上所有内容 */
     {ONE(C(V)), AFTER(C(A), 2, C(Q) | C(D) | C(ART)), AFTER(C(OWW) | C(TXT), 2, C(Q) | C(D) | C(ART))}},
    {"override.ignore_above", G_OVERRIDE, F_END, 0.6f,
     {ONE(C(V)), AFTER(C(A), 3, C(Q) | C(D) | C(ART))}},
    {"override.void", G_OVERRIDE, 0, 0.6f,
     {REP(C(Y) | C(P) | C(Q), 1, 3, 0, 0), AFTER(C(O) | C(OW) | C(SYSP), 1, C(D) | C(Q) | C(Y) | C(P)),
      AFTER(C(VOID), 3, ANY)}},
    {"override.verb_final", G_OVERRIDE, 0, 0.6f, /* "die vorherigen Anweisungen ignorieren", 以前の指示を無視 */
     {ONE(C(P)), AFTER(C(O) | C(SYSP), 3, ANY), AFTER(C(V), 3, ANY)}},
    {"override.new_instructions", G_OVERRIDE, F_COLON, 0.5f,
     {ONE(C(NEW)), ONE(C(O) | C(OW) | C(OWW) | C(SYSP))}},
    {"override.new_instructions_mention", G_OVERRIDE, 0, 0.15f,
     {ONE(C(NEW)), ONE(C(O) | C(SYSP))}},

    /* ---- jailbreak: role play into an unrestricted persona */
    {"jailbreak.from_now_on", G_JAILBREAK, 0, 0.35f, {ONE(C(FNO)), AFTER(C(YOU) | C(ACTV), 1, ANY)}},
    {"jailbreak.mode", G_JAILBREAK, 0, 0.6f,
     {ONE(C(MODEPRE) | C(YOUNOW)), REP(C(MODEADJ), 1, 2, 2, C(D) | C(ART) | C(Q)), ONE(C(MODE))}},
    {"jailbreak.mode", G_JAILBREAK, 0, 0.6f, {ONE(C(YOUNOW)), AFTER(C(MODE), 3, ANY)}},
    {"jailbreak.mode_named", G_JAILBREAK, 0, 0.4f, {ONE(C(MODEADJ)), ONE(C(MODE))}},
    {"jailbreak.developer_mode", G_JAILBREAK, 0, 0.45f,
     {ONE(C(MODEADJW)), ONE(C(MODE)), ONE(C(MODEPRE))}},
    {"jailbreak.developer_mode_mention", G_JAILBREAK, 0, 0.15f, {ONE(C(MODEADJW)), ONE(C(MODE))}},
    {"jailbreak.act_as_unfiltered", G_JAILBREAK, 0, 0.6f,
     {ONE(C(ACTAS) | C(YOUNOW)), AFTER(C(JBADJ), 3, ANY)}},
    {"jailbreak.be_unfiltered", G_JAILBREAK, 0, 0.4f,
     {ONE(C(ACTASW)), AFTER(C(JBADJ), 2, C(D) | C(ART) | C(Q))}},
    {"jailbreak.unfiltered_ai", G_JAILBREAK, 0, 0.45f,
     {ONE(C(JBADJ)), AFTER(C(AINOUN), 3, C(D) | C(ART) | C(JBADJ))}},
    {"jailbreak.unfiltered_ai", G_JAILBREAK, 0, 0.45f, {ONE(C(AINOUN)), AFTER(C(JBADJ), 3, ANY)}},
    {"jailbreak.pretend_unbound", G_JAILBREAK, 0, 0.55f,
     {ONE(C(PRETEND)), AFTER(C(YOU), 1, C(D)), ONE(C(FREEX))}},
    {"jailbreak.pretend_unbound", G_JAILBREAK, 0, 0.55f,
     {ONE(C(PRETEND)), AFTER(C(YOU), 1, C(D)), ONE(C(FREEH)),
      AFTER(C(LIMIT) | C(O) | C(OW) | C(ETHIC) | C(POLICY), 2, ANY)}},
    {"jailbreak.unbound", G_JAILBREAK, 0, 0.35f, {ONE(C(YOU)), ONE(C(FREEX))}},
    {"jailbreak.unbound", G_JAILBREAK, 0, 0.4f,
     {ONE(C(YOU)), ONE(C(FREEH)), AFTER(C(LIMIT) | C(POLICY) | C(ETHIC), 2, C(Q) | C(D) | C(ART) | C(ETHIC))}},
    {"jailbreak.dan", G_JAILBREAK, 0, 0.8f, {ONE(C(DAN))}},
    {"jailbreak.dan_name", G_JAILBREAK, F_UPPER, 0.35f, {ONE(C(NAMEJB))}},
    {"jailbreak.persona_dan", G_JAILBREAK, F_UPPER, 0.5f,
     {ONE(C(ACTAS) | C(ACTASW) | C(YOUNOW)), AFTER(C(NAMEJB), 2, ANY)}},
    {"jailbreak.stay_in_character", G_JAILBREAK, 0, 0.3f, {ONE(C(STAYCHAR))}},
    {"jailbreak.no_restrictions", G_JAILBREAK, 0, 0.35f,
     {ONE(C(WITHOUT)), AFTER(C(LIMIT), 2, C(Q) | C(D) | C(ART) | C(ETHIC))}},
    {"jailbreak.no_ethics", G_JAILBREAK, 0, 0.45f,
     {ONE(C(WITHOUT)), REP(C(ETHIC), 1, 2, 1, C(Q) | C(D) | C(ART)), ONE(C(LIMIT))}},
    {"jailbreak.not_bound_policy", G_JAILBREAK, 0, 0.55f,
     {ONE(C(NOTBOUND)), AFTER(C(POLICY) | C(AIORG), 3, ANY)}},
    {"jailbreak.not_bound", G_JAILBREAK, 0, 0.4f,
     {ONE(C(NOTBOUND)), AFTER(C(O) | C(OW) | C(LIMIT) | C(ETHIC), 3, ANY)}},
    {"jailbreak.policy_bypass", G_JAILBREAK, 0, 0.5f, {ONE(C(BYPASS)), AFTER(C(POLICY), 3, ANY)}},
    {"jailbreak.policy_mention", G_JAILBREAK, 0, 0.25f,
     {ONE(C(AIORG)), AFTER(C(O) | C(OW) | C(LIMIT) | C(POLICY), 2, C(D) | C(Q) | C(ART) | C(ETHIC) | C(P))}},
    {"jailbreak.hypothetical", G_JAILBREAK, 0, 0.5f,
     {ONE(C(HYPO)), AFTER(C(WITHOUT), 12, ANY),
      AFTER(C(LIMIT) | C(ETHIC) | C(O) | C(OW), 1, C(Q) | C(D) | C(ART) | C(ETHIC))}},
    {"jailbreak.hypothetical", G_JAILBREAK, 0, 0.5f, {ONE(C(HYPO)), AFTER(C(NORULE), 12, ANY)}},
    {"jailbreak.refusal_suppression", G_JAILBREAK, 0, 0.35f, {ONE(C(NEVER)), AFTER(C(REFUSE), 1, ANY)}},
    {"jailbreak.refusal_suppression", G_JAILBREAK, 0, 0.35f, {ONE(C(NEVER)), AFTER(C(ASANAI), 6, ANY)}},
    {"jailbreak.no_warnings", G_JAILBREAK, 0, 0.2f, {ONE(C(NEVER) | C(WITHOUT)), AFTER(C(WARN), 3, ANY)}},
    {"jailbreak.keyword", G_JAILBREAK, 0, 0.35f, {ONE(C(JBWORD))}},
    {"jailbreak.named_persona", G_JAILBREAK, 0, 0.25f,
     {ONE(C(AINOUN)), AFTER(C(NAMED), 1, C(D) | C(ART))}},
    {"jailbreak.answer_anything", G_JAILBREAK, 0, 0.25f, {ONE(C(REMIND)), AFTER(C(ANYQ), 1, C(D) | C(ART))}},
    {"jailbreak.no_longer_ai", G_JAILBREAK, 0, 0.45f, {ONE(C(NOLONGER)), AFTER(C(AINOUN) | C(AIORG), 2, ANY)}},
    {"jailbreak.no_longer_ai", G_JAILBREAK, 0, 0.45f, {ONE(C(NOLONGER))}},
    {"jailbreak.deny_ai", G_JAILBREAK, 0, 0.35f,
     {ONE(C(NEVER)), AFTER(C(REMIND), 1, ANY), AFTER(C(AINOUN) | C(AIORG), 3, ANY)}},
    {"jailbreak.no_matter", G_JAILBREAK, 0, 0.35f, {ONE(C(NOMATTER)), AFTER(C(BAD), 2, ANY)}},

    /* ---- extract: make the model reveal its instructions */
    {"extract.system_prompt", G_EXTRACT, 0, 0.65f,
     {ONE(C(EXV)), AFTER(C(SYSP), 3, C(Y) | C(D) | C(ME) | C(Q) | C(ART) | C(SYSQW))}},
    {"extract.instructions", G_EXTRACT, 0, 0.5f,
     {ONE(C(EXV)), AFTER(C(Y), 2, C(ME) | C(Q) | C(D)), OPT(C(SYSQW), 2), ONE(C(SYSO))}},
    {"extract.question", G_EXTRACT, 0, 0.55f,
     {ONE(C(EXQ)), AFTER(C(Y), 1, C(Q) | C(D)), OPT(C(SYSQW), 2), ONE(C(SYSO) | C(SYSP))}},
    {"extract.question_the", G_EXTRACT, 0, 0.3f, {ONE(C(EXQ)), AFTER(C(SYSP), 1, C(D))}},
    {"extract.above", G_EXTRACT, 0, 0.6f,
     {ONE(C(EXV)), AFTER(C(E) | C(TXT), 2, C(Q) | C(D) | C(Y) | C(ART) | C(SYSQW)), AFTER(C(A), 3, ANY)}},
    {"extract.above", G_EXTRACT, 0, 0.6f, /* "repeat the above words" */
     {ONE(C(EXV)), AFTER(C(A), 2, C(Q) | C(D) | C(Y) | C(ART)), AFTER(C(TXT) | C(O) | C(SYSO), 1, C(Q) | C(D))}},
    {"extract.previous_instructions", G_EXTRACT, 0, 0.5f,
     {ONE(C(EXV)), AFTER(C(SYSQW), 3, C(Q) | C(D) | C(Y) | C(ART) | C(ME)),
      AFTER(C(O) | C(SYSO) | C(SYSP), 2, C(Q) | C(D) | C(SYSQW))}},
    {"extract.above_line", G_EXTRACT, 0, 0.6f, {ONE(C(EXV)), AFTER(C(ABOVELINE), 5, ANY)}},
    {"extract.above_line_mention", G_EXTRACT, 0, 0.25f, {ONE(C(ABOVELINE))}},
    {"extract.written_above", G_EXTRACT, 0, 0.45f,
     {ONE(C(EXQ) | C(EXV)), AFTER(C(WRITTEN), 2, ANY), AFTER(C(A), 1, ANY)}},
    {"extract.told", G_EXTRACT, 0, 0.55f, {ONE(C(TOLD))}},
    {"extract.verbatim", G_EXTRACT, 0, 0.45f, {ONE(C(EXV)), AFTER(C(VERBATIM), 6, ANY)}},
    {"extract.mention", G_EXTRACT, 0, 0.1f, {ONE(C(SYSP))}},
};
#define N_RULES PP_ARRAY_LEN(rules)
_Static_assert(PP_ARRAY_LEN(rules) <= 255, "rule indices are stored in bytes");

/* Word classes that ordinary text is full of: each appears in more than ~5% of the
** texts of the training corpora (measured on the fold view: "the" 73%, "a" 25%,
** "your" 24%, "you" 22%, "all" 16%, "never" 11% ...).  The gate ignores them and
** tracks the others (rare classes, at most ~4%); every rule must have at least one
** required element made only of rare classes, which inj_open checks. */
#define COMMON_CLASSES                                                                 \
    (C(D) | C(ART) | C(Y) | C(YOU) | C(Q) | C(MODEPRE) | C(NEVER) | C(ME) | C(WITHOUT) | \
     C(E) | C(ACTASW) | C(TXT) | C(P))
#define RARE_CLASSES (~COMMON_CLASSES)

/* Rule names of the non-grammar evidence. */
#define R_TAG "smuggle.tag_chars"
#define R_MIXED "obfuscation.mixed_script"
#define R_ZW "obfuscation.zero_width"
#define R_BIDI "obfuscation.bidi"

#define W_TAG 0.6f
#define W_MIXED 0.2f
#define W_ZW 0.1f
#define W_BIDI 0.2f
#define MAX_REPORTS 3 /* hits recorded per rule per text (only the first scores) */

/* ------------------------------------------------------------------- tokenizer */

#define MAX_PHRASE 12  /* words in one vocabulary phrase */
#define TOK_CHUNK 256  /* words in the sliding window */
#define MAX_SPAN 40    /* words one match may cover */

enum { BRK_SOFT = 1, BRK_SENT = 2 }; /* plain_tokenize relies on these values */
#define BRK_SEEN 4 /* run_grammar: some separator was seen (never stored in a tok) */

typedef struct tok {
    uint32_t a, b;  /* byte span in the scanned string */
    uint64_t h;     /* hash of the folded word; never 0 */
    uint64_t cls;   /* classes of the word alone */
    uint64_t pcls;  /* classes of phrases that start with this word */
    int32_t chain;  /* first such phrase, or -1 */
    uint8_t brk;    /* BRK_* seen between the previous word and this one */
} tok;

/* Classes of a byte for the tokenizer (table in injection.bclass, built at open). */
enum {
    BC_SEP,   /* ASCII punctuation, space, control: separates words */
    BC_WORD,  /* a-z, 0-9: word byte that is already folded */
    BC_UPPER, /* A-Z: word byte the hash must lowercase */
    BC_SENT,  /* . ! ? ; newline: ends a sentence */
    BC_SOFT,  /* , : */
    BC_HIGH   /* >= 0x80: decode to decide */
};

static void bclass_init(uint8_t bc[256]) {
    for (int c = 0; c < 256; c++) {
        uint8_t k = BC_SEP;
        if (c >= 0x80) k = BC_HIGH;
        else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) k = BC_WORD;
        else if (c >= 'A' && c <= 'Z') k = BC_UPPER;
        else if (c == '.' || c == '!' || c == '?' || c == ';' || c == '\n') k = BC_SENT;
        else if (c == ',' || c == ':') k = BC_SOFT;
        bc[c] = k;
    }
}

/* Scripts written without spaces: each character is a word.  Inline, with the CJK
** ideographs (most characters it sees) answered first. */
static inline int cp_unspaced(uint32_t c) {
    if (c - 0x4E00u <= 0x9FFFu - 0x4E00u) return 1;
    return (c >= 0x3040 && c <= 0x30FF) || (c >= 0x31F0 && c <= 0x31FF) ||
           (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x4E00 && c <= 0x9FFF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0xFF66 && c <= 0xFF9F) ||
           (c >= 0x20000 && c <= 0x2FFFF) || (c >= 0x0E00 && c <= 0x0EFF) ||
           (c >= 0x1000 && c <= 0x109F) || (c >= 0x1780 && c <= 0x17FF);
}

/* Non-ASCII punctuation, symbols, spaces, emoji and invisible characters: word
** separators. */
static int cp_separator(uint32_t c) {
    return (c >= 0x80 && c <= 0xBF) || c == 0xD7 || c == 0xF7 ||
           (c >= 0x2000 && c <= 0x206F) || (c >= 0x20A0 && c <= 0x20CF) ||
           (c >= 0x2190 && c <= 0x2BFF) || (c >= 0x3000 && c <= 0x303F) ||
           (c >= 0xFE00 && c <= 0xFE0F) || (c >= 0xFE10 && c <= 0xFE6F) || c == 0xFEFF ||
           (c >= 0xFF00 && c <= 0xFF0F) || (c >= 0xFF1A && c <= 0xFF20) ||
           (c >= 0xFF3B && c <= 0xFF40) || (c >= 0xFF5B && c <= 0xFF65) ||
           (c >= 0x1F000 && c <= 0x1FAFF) || (c >= 0xE0000 && c <= 0xE007F);
}

static uint8_t cp_break(uint32_t c) {
    if (c == 0x3002 || c == 0xFF01 || c == 0xFF1F || c == 0xFF1B || c == 0xFF0E) return BRK_SENT;
    if (c == 0xFF0C || c == 0x3001 || c == 0xFF1A) return BRK_SOFT;
    return 0;
}

/* Case and accent folding of one code point, for hashing only (see the header). */
static uint32_t cp_fold(uint32_t c) {
    /* U+00C0..U+00FF without accents; 0 = keep. */
    static const char latin1[64] = "aaaaaaaceeeeiiiidnooooo\0ouuuuyts"
                                   "aaaaaaaceeeeiiiidnooooo\0ouuuuyty";
    if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
    if (c >= 0xC0 && c <= 0xFF) return latin1[c - 0xC0] ? (uint32_t)latin1[c - 0xC0] : c;
    if (c >= 0x410 && c <= 0x42F) return c + 0x20;
    if (c >= 0x400 && c <= 0x40F) return c + 0x50;
    if (c >= 0x391 && c <= 0x3A9) return c + 0x20;
    return c;
}

/* The word hash.  A word's canonical form is the UTF-8 of its code points after
** cp_fold, without combining accents (U+0300..036F) and with runs of one code point
** collapsed.  Its hash mixes the canonical bytes eight at a time (little-endian,
** the last chunk zero-padded).  Two ways compute it: straight
** from memory when the word is already canonical (hash_bytes), and byte by byte
** while folding (hasher); they agree by construction, which the tests check. */
#define H_SEED 0x243F6A8885A308D3ull
#define H_MUL 0x9E3779B97F4A7C15ull

static uint64_t load_le64(const unsigned char *p) {
    uint64_t x;
    memcpy(&x, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    x = __builtin_bswap64(x);
#endif
    return x;
}

/* One multiply per chunk; the final step folds the high bits (well mixed by the
** multiply) down into the low ones the table indexes with.  The length needs no
** mixing of its own: canonical bytes are never 0, so zero padding already tells a
** word from its prefixes (the filter reads the top bits, the table the low ones). */
static uint64_t h_chunk(uint64_t h, uint64_t c) {
    return ((h ^ c) * H_MUL) ^ (h >> 23);
}

static uint64_t h_final(uint64_t h, size_t len) {
    (void)len;
    h ^= h >> 32;
    return h ? h : 1;
}

/* Hash of the bytes s[a,b) as they are (s holds n bytes and PP_VIEW_SLACK more that
** may be read: a view, or a folded pattern). */
static uint64_t hash_bytes(const unsigned char *s, size_t n, size_t a, size_t b) {
    (void)n;
    uint64_t h = H_SEED;
    size_t p = a;
    for (; p + 8 <= b; p += 8) h = h_chunk(h, load_le64(s + p));
    size_t r = b - p;
    if (r) h = h_chunk(h, load_le64(s + p) & ((1ull << (8 * r)) - 1));
    return h_final(h, b - a);
}

/* The same hash, fed one canonical byte at a time. */
typedef struct hasher {
    uint64_t h, acc;
    size_t len;
} hasher;

static void h_put(hasher *w, unsigned char b) {
    w->acc |= (uint64_t)b << (8 * (w->len & 7));
    if ((++w->len & 7) == 0) {
        w->h = h_chunk(w->h, w->acc);
        w->acc = 0;
    }
}

static uint64_t h_done(hasher *w) {
    if (w->len & 7) w->h = h_chunk(w->h, w->acc);
    return h_final(w->h, w->len);
}

/* pp_utf8_decode with the common cases inline: two-byte sequences and the
** three-byte ones without extra constraints on the second byte (all but E0 and
** ED leads), which cover Cyrillic, Greek, accents and the CJK ideographs. */
static inline size_t utf8_dec(const unsigned char *u, size_t n, size_t i, uint32_t *cp) {
    unsigned c = u[i];
    if (c >= 0xC2 && c <= 0xDF && i + 1 < n && (u[i + 1] & 0xC0) == 0x80) {
        *cp = (uint32_t)(c & 0x1F) << 6 | (u[i + 1] & 0x3F);
        return 2;
    }
    if (c >= 0xE1 && c <= 0xEF && c != 0xED && i + 2 < n && (u[i + 1] & 0xC0) == 0x80 &&
        (u[i + 2] & 0xC0) == 0x80) {
        *cp = (uint32_t)(c & 0x0F) << 12 | (uint32_t)(u[i + 1] & 0x3F) << 6 | (u[i + 2] & 0x3F);
        return 3;
    }
    return pp_utf8_decode((const char *)u + i, n - i, cp);
}

/* Hash of the len <= 8 bytes at u[a] as they are (no folding, no run check); u[a+8]
** is readable (PP_VIEW_SLACK). */
static inline uint64_t hash_short(const unsigned char *u, size_t n, size_t a, size_t len) {
    (void)n;
    uint64_t c = load_le64(u + a);
    if (len < 8) c &= (1ull << (8 * len)) - 1;
    return h_final(h_chunk(H_SEED, c), len);
}

/* Scans the word starting at s[i] the slow way (decoding, folding, collapsing
** runs), stores its hash in *h and returns the offset just past it. */
static size_t word_slow(const char *s, size_t n, size_t i, uint64_t *h) {
    const unsigned char *u = (const unsigned char *)s;
    hasher w = {H_SEED, 0, 0};
    uint32_t prev = 0;
    while (i < n) {
        unsigned c = u[i];
        uint32_t cp;
        size_t k = 1;
        if (c < 0x80) {
            if (!((c | 32) - 'a' < 26 || c - '0' < 10)) break;
            cp = c;
        } else {
            k = utf8_dec(u, n, i, &cp);
            if (!k || cp_unspaced(cp) || cp_separator(cp)) break;
        }
        i += k;
        if (cp >= 0x300 && cp <= 0x36F) continue; /* combining accent */
        cp = cp_fold(cp);
        if (cp == prev) continue; /* runs of one character count once */
        prev = cp;
        if (cp < 0x80) {
            h_put(&w, (unsigned char)cp);
        } else {
            char e[4];
            size_t m = pp_utf8_encode(cp, e);
            for (size_t q = 0; q < m; q++) h_put(&w, (unsigned char)e[q]);
        }
    }
    *h = h_done(&w);
    return i;
}

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* 0x80 in each byte of x that is an ASCII lower-case letter or digit, 0 elsewhere
** (exact per byte: the "hasbetween" construction, no carries between bytes). */
static uint64_t swar_word(uint64_t x) {
    uint64_t lo = x & (ONES * 127);
    uint64_t az = (ONES * (127 + 'z' + 1) - lo) & ~x & (lo + ONES * (127 - ('a' - 1)));
    uint64_t dg = (ONES * (127 + '9' + 1) - lo) & ~x & (lo + ONES * (127 - ('0' - 1)));
    return (az | dg) & HIGHS;
}

/* For a word of len bytes (index len, 0..16) in two 8-byte chunks: keep0 / keep1
** mask its bytes, out0 / out1 the bytes of the pair differences (byte j: byte j ^
** byte j+1) that are NOT a pair inside the word. */
struct word_masks {
    uint64_t keep0, keep1, out0, out1;
};
#define WM_KEEP(l) ((l) <= 0 ? 0ull : (l) >= 8 ? ~0ull : (1ull << (8 * ((l) & 7))) - 1)
#define WM(l) {WM_KEEP(l), WM_KEEP((l) - 8), ~WM_KEEP((l) - 1), ~WM_KEEP((l) - 9)}
static const struct word_masks k_word_masks[17] = {
    WM(0), WM(1), WM(2), WM(3), WM(4), WM(5), WM(6), WM(7), WM(8),
    WM(9), WM(10), WM(11), WM(12), WM(13), WM(14), WM(15), WM(16)};

/* Hash of the word s[a,b) (a-z0-9 only), or 0 when it has a run of one character
** and must be folded by word_slow.  Words of up to 16 bytes (nearly all) are read
** as one or two 8-byte chunks (s[a..a+16) is readable, PP_VIEW_SLACK), masked and
** checked for a run a chunk at a time. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline uint64_t plain_hash(const unsigned char *u, size_t n, size_t a, size_t b) {
    size_t len = b - a;
    if (len > 16) {
        for (size_t k = a + 1; k < b; k++)
            if (u[k] == u[k - 1]) return 0;
        return hash_bytes(u, n, a, b);
    }
    /* len 1..16: the masks of the word's bytes in each chunk and of the pairs of
    ** bytes in it come from a table (variable shifts cost more) */
    const struct word_masks *k = &k_word_masks[len];
    uint64_t c0 = load_le64(u + a) & k->keep0;
    if (len <= 8) { /* byte j of d: byte j ^ byte j+1 of the word; no pair: set */
        uint64_t d = (c0 ^ (c0 >> 8)) | k->out0;
        if (pp_zero_bytes(d)) return 0;
        return h_final(h_chunk(H_SEED, c0), len);
    }
    uint64_t c1 = load_le64(u + a + 8) & k->keep1;
    uint64_t d0 = c0 ^ ((c0 >> 8) | (c1 << 56)), d1 = (c1 ^ (c1 >> 8)) | k->out1;
    if (pp_zero_bytes(d0) | pp_zero_bytes(d1)) return 0;
    return h_final(h_chunk(h_chunk(H_SEED, c0), c1), len);
}

/* plain_hash for a word known to hold no run of one character. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline uint64_t plain_hash_norun(const unsigned char *u, size_t n, size_t a, size_t b) {
    size_t len = b - a;
    if (len > 16) return hash_bytes(u, n, a, b);
    const struct word_masks *k = &k_word_masks[len];
    uint64_t h = h_chunk(H_SEED, load_le64(u + a) & k->keep0);
    if (len > 8) h = h_chunk(h, load_le64(u + a + 8) & k->keep1);
    return h_final(h, len);
}

/* The hash of the word u[a,b) (a-z0-9 only, up to 16 bytes) that holds a run of one
** character (plain_hash said 0): the run collapsed into a buffer and hashed there.  Words of digits (HTML entities: "&#8220;") are the usual case. */
static uint64_t plain_hash_runs(const unsigned char *u, size_t a, size_t b) {
    unsigned char c[24] = {0};
    size_t m = 0;
    unsigned prev = 256;
    for (size_t k = a; k < b; k++) {
        c[m] = u[k];
        m += u[k] != prev;
        prev = u[k];
    }
    return plain_hash_norun(c, m, 0, m); /* c[0..16) is readable */
}

/* Tests: does plain_hash_runs agree with word_slow on w[0..n) (a-z0-9, n <= 16)? */
int pp_injection_runs_hash_agrees(const char *w, size_t n) {
    uint64_t slow;
    word_slow(w, n, 0, &slow);
    return plain_hash_runs((const unsigned char *)w, 0, n) == slow;
}

/* Reads the next word of s[*pos..n) into *t (a, b, h, brk; the class fields are
** left for the caller).  bc is the byte-class table.  Returns 0 at the end of the
** string. */
static int next_token(const uint8_t *bc, const char *s, size_t n, size_t *pos, tok *t) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = *pos;
    uint8_t brk = 0;
    for (;;) {
        if (i >= n) {
            *pos = n;
            return 0;
        }
        unsigned k = bc[u[i]];
        if (k == BC_WORD || k == BC_UPPER) break;
        if (k != BC_HIGH) {
            brk |= k == BC_SENT ? BRK_SENT : k == BC_SOFT ? BRK_SOFT : 0;
            i++;
            continue;
        }
        uint32_t cp;
        size_t l = utf8_dec(u, n, i, &cp);
        if (!l) { i++; continue; }
        if (cp_unspaced(cp)) { /* a one-character word */
            t->a = (uint32_t)i;
            t->b = (uint32_t)(i + l);
            t->h = hash_short(u, n, i, l);
            t->brk = brk;
            *pos = i + l;
            return 1;
        }
        if (!cp_separator(cp)) break; /* a word starting with a non-ASCII letter */
        brk |= cp_break(cp);
        i += l;
    }
    size_t a = i;
    /* Fast path: find the end of a run of a-z0-9 eight bytes at a time. */
    for (;;) {
        if (i + 8 > n) {
            while (i < n && bc[u[i]] == BC_WORD) i++;
            break;
        }
        uint64_t stop = ~swar_word(load_le64(u + i)) & HIGHS;
        if (stop) {
            i += (size_t)__builtin_ctzll(stop) >> 3;
            break;
        }
        i += 8;
    }
    int slow = i == a || (i < n && (bc[u[i]] == BC_UPPER || u[i] >= 0x80));
    if (!slow) {
        t->h = plain_hash(u, n, a, i);
        slow = !t->h;
    }
    if (slow) i = word_slow(s, n, a, &t->h);
    t->a = (uint32_t)a;
    t->b = (uint32_t)i;
    t->brk = brk;
    *pos = i;
    return 1;
}

/* The block tokenizer, for "plain" texts: ASCII without capitals (most fold views
** of English) save general punctuation (curly quotes, dashes: separators for both
** tokenizers), at most PLAIN_MAX bytes and TOK_CHUNK words.  next_token finds one
** word after another, and each word's end is where the search for the next one
** starts: a chain of dependent loads and branches per word.  Here bitmaps of word
** bytes, sentence ends and soft breaks are computed for the whole text first, 16
** bytes per step, and the words and their breaks are then read off the bitmaps
** independently of one another.  It produces exactly the words, breaks and hashes
** next_token would. */
#define PLAIN_MAX 4096 /* bytes */
#define BLOCK_MAX 1280 /* bytes per block of a longer text (about 220 words of English) */

/* The gate's bit filter (see injection.filter): FILTER_BITS top bits of a word's
** hash, or of the key of two consecutive words. */
#define FILTER_BITS 16 /* 8 KiB: fits L1 next to the byte-class table */
#define FILTER_AT(h) ((size_t)((h) >> (64 - FILTER_BITS)))
#define PAIR_KEY(h1, h2) (((h1) ^ ((h2) >> 7)) * 0xD1B54A32D192ED03ull)

/* A block of plain text as plain_tokenize leaves it: its m words as arrays (offsets
** in the block, hashes, breaks), and for the gate (block_gate) the few words at
** which the filter says a rare class may enter the sentence, and where sentences
** start.  hit[] holds k << 1 for word k when its own hash passes the filter,
** (k << 1) | 1 when the pair (word k - 1, word k) does (word k - 1 lies before the
** block for k = 0), in word order; sent[] the words that start a sentence.  The
** grammar wants tok records, which block_toks builds only for the sentences that
** pass the gate.  Arrays have room for the 32 words one 64-byte
** chunk may add past TOK_CHUNK before the count is checked. */
typedef struct block {
    size_t base;                    /* offset of the block in the string */
    int m;                          /* words */
    int n_hit, n_sent;
    uint16_t a[TOK_CHUNK + 32], e[TOK_CHUNK + 32]; /* span of word k, in the block */
    uint8_t brk[TOK_CHUNK + 32];    /* BRK_* before word k */
    uint64_t h[TOK_CHUNK];          /* hash of word k */
    uint16_t hit[2 * TOK_CHUNK + 1];
    uint16_t sent[TOK_CHUNK + 1];
} block;

/* Records word k's hash h in bk and runs the filter on it, alone and as the second
** word of a pair after the word of hash ph, without a branch: each test writes its
** entry at hit[nh] and keeps it (moves nh on) only when the filter lets it through.
** Returns the new nh. */
static inline int block_word(const uint64_t *filter, block *bk, int k, uint64_t h, uint64_t ph,
                             int nh) {
    size_t f1 = FILTER_AT(h), f2 = FILTER_AT(PAIR_KEY(ph, h));
    bk->h[k] = h;
    bk->hit[nh] = (uint16_t)(k << 1);
    nh += (int)((filter[f1 >> 6] >> (f1 & 63)) & 1);
    bk->hit[nh] = (uint16_t)((k << 1) | 1);
    nh += (int)((filter[f2 >> 6] >> (f2 & 63)) & 1);
    return nh;
}

/* Tokenizes all of s[0..n) (at offset base of the string) into bk when the text is
** plain; returns the number of words, or -1 (bk is then garbage) when it is not
** plain and next_token must do it.  Three bitmaps of the text are built 16 bytes
** at a time (wordbits16.h): word bytes, sentence ends and soft breaks; a word's
** breaks are then the bits of the last two between the previous word and it, and
** `carry` (the breaks seen before s) counts as a break before the first word.
**
** The words are read off the bitmaps in three short loops, each with few live
** values (one loop doing it all kept spilling registers): starts with their breaks
** (listing the sentence starts), ends, then hashes.  The last one also runs the
** gate's filter on every word, alone and as the second of a pair (prev_h: the word
** before s, if any), and lists the words it lets through, without a branch per
** word: about 95% of words pass neither test, and block_gate looks only at the
** listed ones. */
#if defined(__GNUC__)
__attribute__((noinline)) /* inlined into run_grammar, its loops spill registers */
#endif
static int plain_tokenize(const uint64_t *filter, const char *s, size_t n, size_t base,
                          uint8_t carry, uint64_t prev_h, block *bk) {
    const unsigned char *u = (const unsigned char *)s;
    if (n > PLAIN_MAX) return -1;
    uint64_t W[PLAIN_MAX / 64], SB[PLAIN_MAX / 64], SF[PLAIN_MAX / 64];
    size_t nb = (n + 63) / 64;
    size_t seen = 0; /* bytes >= 0x80 before this are checked */
    uint32_t reps = 0; /* some word holds a run of one character (rare in a fold view) */
    for (size_t b = 0; b < nb; b++) {
        uint64_t w = 0, sb = 0, sf = 0;
        for (size_t q = 0; q < 4; q++) {
            size_t p = b * 64 + q * 16;
            if (p >= n) break;
            /* s[p..p+16) is readable (PP_VIEW_SLACK): lanes past n are masked off */
            pp_wordbits16 m;
            pp_wordbits16_fill(u + p, p ? u[p - 1] : 0, &m);
            if (n - p < 16) {
                uint32_t in = (1u << (n - p)) - 1;
                m.word &= in;
                m.sent &= in;
                m.soft &= in;
                m.upper &= in;
                m.high &= in;
                m.rep &= in;
            }
            reps |= m.rep;
            if (m.upper) return -1;
            w |= (uint64_t)m.word << (q * 16);
            sb |= (uint64_t)m.sent << (q * 16);
            sf |= (uint64_t)m.soft << (q * 16);
            /* Bytes >= 0x80 must belong to separators (curly quotes, dashes, emoji,
            ** CJK punctuation ...: cp_separator), which next_token skips between
            ** words; those that end a sentence or break it softly (cp_break: 。！，)
            ** set their bit at their lead byte.  A letter is not plain. */
            for (uint32_t hi = m.high; hi; hi &= hi - 1) {
                size_t j = p + (size_t)__builtin_ctz(hi);
                if (j < seen) continue;
                uint32_t cp;
                size_t l = utf8_dec(u, n, j, &cp);
                if (!l || !cp_separator(cp)) return -1;
                uint8_t br = cp_break(cp);
                if (br) {
                    uint64_t bit = 1ull << (j - b * 64);
                    if (br & BRK_SENT) sb |= bit;
                    else sf |= bit;
                }
                seen = j + l;
            }
        }
        W[b] = w;
        SB[b] = sb;
        SF[b] = sf;
    }
    /* Starts are word bytes whose predecessor is not one, ends those whose
    ** successor is not; the k-th end closes the k-th word.  A word's breaks are the
    ** sentence-end and soft-break bits in the gap before it: adding such a bit to
    ** the complement of the starts carries it up to the next start, so one addition
    ** per 64 bytes marks every word that follows one (the carry into the first
    ** addition is `carry`). */
    int m = 0, me = 0, nsent = 0;
    uint64_t cs = (carry & BRK_SENT) ? 1 : 0, cf = carry & BRK_SOFT;
    for (size_t b = 0; b < nb; b++) {
        uint64_t prev = b ? W[b - 1] >> 63 : 0, next = b + 1 < nb ? W[b + 1] & 1 : 0;
        uint64_t st = W[b] & ~((W[b] << 1) | prev);
        uint64_t en = W[b] & ~((W[b] >> 1) | (next << 63));
        uint64_t ns = ~st, ps = ns + SB[b], pf = ns + SF[b];
        uint64_t bs = ps + cs, bf = pf + cf;
        cs = (ps < ns) | (bs < ps);
        cf = (pf < ns) | (bf < pf);
        for (; st; st &= st - 1) {
            unsigned q = (unsigned)__builtin_ctzll(st);
            uint64_t sent = (bs >> q) & 1;
            bk->a[m] = (uint16_t)(b * 64 + q);
            bk->brk[m] = (uint8_t)((sent << 1) | ((bf >> q) & 1)); /* SENT, SOFT */
            bk->sent[nsent] = (uint16_t)m;
            nsent += (int)sent;
            m++;
        }
        for (; en; en &= en - 1) bk->e[me++] = (uint16_t)(b * 64 + (size_t)__builtin_ctzll(en) + 1);
        if (m > TOK_CHUNK) return -1;
    }
    /* Hashes and the filter, on every word (block_gate drops the pairs that do not
    ** count: those at a sentence start, and one at word 0 with nothing before it). */
    int nh = 0;
    uint64_t ph = prev_h;
    if (!reps) {
        for (int k = 0; k < m; k++) {
            uint64_t h = plain_hash_norun(u, n, bk->a[k], bk->e[k]);
            nh = block_word(filter, bk, k, h, ph, nh);
            ph = h;
        }
    } else {
        for (int k = 0; k < m; k++) {
            uint64_t h = plain_hash(u, n, bk->a[k], bk->e[k]);
            if (!h) h = bk->e[k] - bk->a[k] <= 16 ? plain_hash_runs(u, bk->a[k], bk->e[k])
                                                  : (word_slow(s, n, bk->a[k], &h), h);
            nh = block_word(filter, bk, k, h, ph, nh);
            ph = h;
        }
    }
    bk->base = base;
    bk->m = m;
    bk->n_hit = nh;
    bk->n_sent = nsent;
    return m;
}

/* Words [from, to) of bk as tok records in tk (their class fields are left for
** classify). */
static void block_toks(const block *bk, tok *tk, int from, int to) {
    for (int k = from; k < to; k++) {
        tk[k].a = (uint32_t)(bk->a[k] + bk->base);
        tk[k].b = (uint32_t)(bk->e[k] + bk->base);
        tk[k].h = bk->h[k];
        tk[k].brk = bk->brk[k];
    }
}

/* ------------------------------------------------------------ the vocabulary */

typedef struct phrase { /* the fields a chain walk reads first share a cache line */
    uint64_t cls;
    int32_t next; /* next phrase with the same first word, or -1 */
    uint8_t n;    /* words, >= 2 (one-word entries live in the slot) */
    uint64_t h[MAX_PHRASE];
} phrase;

typedef struct slot {
    uint64_t key; /* word hash; 0 = empty */
    uint64_t cls, pcls;
    int32_t chain;
} slot;

#define RULE_WORDS ((int)((N_RULES + 63) / 64))

typedef struct injection {
    slot *tab;      /* (mask + 1) open-addressing slots */
    size_t mask;
    size_t used;
    phrase *ph;     /* (n_ph) */
    size_t n_ph, cap_ph;
    uint8_t bclass[256];                          /* BC_* of each byte */
    /* The gate's bit filter (top bits of the hash; the table uses the low ones):
    ** bit FILTER_AT(h) for every word h of a rare class, and FILTER_AT(PAIR_KEY(h1,
    ** h2)) for the first two words of every phrase of a rare class.  Phrases often
    ** start with a common word ("not bound by", "you are now", 不要理会), so it is
    ** the pair that must be unusual. */
    uint64_t filter[(1u << FILTER_BITS) / 64];
    /* The rules' required elements made only of rare classes (each rule has one to
    ** MAX_ELEMS; the rule can match only where a sentence has a word of each), as bit
    ** sets over the rules (see rules_for): n_rare[r] is how many rule r has;
    ** slot_rules[j][c] the rules whose j-th such element admits class c; has_slot[j]
    ** the rules that have a j-th one; all_rules every rule. */
    uint8_t n_rare[N_RULES];
    uint64_t slot_rules[MAX_ELEMS][CI_COUNT][RULE_WORDS];
    uint64_t has_slot[MAX_ELEMS][RULE_WORDS];
    uint64_t all_rules[RULE_WORDS];
    int max_rare; /* the most any rule has */
    /* Unspaced scripts (one word per character), by code point modulo 2^16:
    ** ustart has the characters that are a word of a rare class or the first word
    ** of a phrase of one, usecond those that are the second word of such a phrase.
    ** A character in neither needs no hash in the gate. */
    uint64_t ustart[1024], usecond[1024];
} injection;

static slot *slot_find(const injection *R, uint64_t key) {
    size_t i = (size_t)(key ^ (key >> 29)) & R->mask;
    while (R->tab[i].key && R->tab[i].key != key) i = (i + 1) & R->mask;
    return &R->tab[i];
}

static int tab_grow(injection *R) {
    size_t ncap = (R->mask + 1) * 2;
    slot *old = R->tab;
    size_t old_n = R->mask + 1;
    R->tab = pp_calloc(ncap, sizeof *R->tab);
    if (!R->tab) { R->tab = old; return -1; }
    R->mask = ncap - 1;
    for (size_t i = 0; i < old_n; i++)
        if (old[i].key) *slot_find(R, old[i].key) = old[i];
    pp_free(old);
    return 0;
}

/* Adds one phrase (already folded) with classes cls.  Returns 0, -1 on OOM, or 1
** if the phrase has no words or too many. */
static int vocab_add(injection *R, const char *s, size_t n, uint64_t cls) {
    uint64_t h[MAX_PHRASE];
    size_t nw = 0, pos = 0;
    tok t;
    while (next_token(R->bclass, s, n, &pos, &t)) {
        if (nw == MAX_PHRASE) return 1;
        /* The gate's code-point bitmaps (see injection.ustart). */
        uint32_t cp;
        if (nw < 2 && (cls & RARE_CLASSES) && pp_utf8_decode(s + t.a, n - t.a, &cp) == t.b - t.a &&
            cp_unspaced(cp)) {
            uint64_t *bm = nw ? R->usecond : R->ustart;
            bm[(cp & 0xFFFF) >> 6] |= 1ull << (cp & 63);
        }
        h[nw++] = t.h;
    }
    if (!nw) return 1;
    if ((R->used + 1) * 2 > R->mask + 1 && tab_grow(R)) return -1;
    slot *sl = slot_find(R, h[0]);
    if (!sl->key) {
        sl->key = h[0];
        sl->chain = -1;
        R->used++;
    }
    if (nw == 1) {
        sl->cls |= cls;
        return 0;
    }
    if (PP_GROW(R->ph, R->cap_ph, R->n_ph + 1)) return -1;
    phrase *p = &R->ph[R->n_ph];
    memset(p, 0, sizeof *p);
    p->cls = cls;
    p->n = (uint8_t)nw;
    memcpy(p->h, h, nw * sizeof h[0]);
    p->next = sl->chain;
    sl->chain = (int32_t)R->n_ph++;
    sl->pcls |= cls;
    return 0;
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

/* Parses the vocabulary text (format in data/injection/vocab.txt).  Errors carry the
** file name and line in *detail. */
static pp_status vocab_parse(injection *R, const char *name, const char *s, size_t n,
                             char **detail) {
    size_t line = 0, i = 0;
    while (i < n) {
        size_t e = i;
        while (e < n && s[e] != '\n') e++;
        line++;
        size_t a = i, b = e;
        i = e + 1;
        while (a < b && is_space(s[a])) a++;
        while (b > a && is_space(s[b - 1])) b--;
        if (a == b || s[a] == '#') continue;
        const char *colon = memchr(s + a, ':', b - a);
        if (!colon) {
            if (detail) *detail = pp_asprintf("%s:%zu: expected 'CLASS: phrase | ...'", name, line);
            return PARAPET_ERR_LEXICON;
        }
        uint64_t cls = 0;
        size_t c = a, cend = (size_t)(colon - s);
        while (c < cend) {
            size_t d = c;
            while (d < cend && s[d] != ',') d++;
            size_t x = c, y = d;
            while (x < y && is_space(s[x])) x++;
            while (y > x && is_space(s[y - 1])) y--;
            int found = -1;
            for (int k = 0; k < CI_COUNT; k++)
                if (strlen(class_names[k]) == y - x && !memcmp(class_names[k], s + x, y - x)) found = k;
            if (found < 0) {
                if (detail)
                    *detail = pp_asprintf("%s:%zu: unknown word class '%.*s'", name, line,
                                          (int)(y - x), s + x);
                return PARAPET_ERR_LEXICON;
            }
            cls |= 1ull << found;
            c = d + 1;
        }
        size_t p = cend + 1;
        while (p < b) {
            size_t q = p;
            while (q < b && s[q] != '|') q++;
            size_t x = p, y = q;
            while (x < y && is_space(s[x])) x++;
            while (y > x && is_space(s[y - 1])) y--;
            p = q + 1;
            if (x == y) continue;
            char *f = NULL;
            size_t fn = 0;
            pp_status st = pp_fold_pattern(s + x, y - x, &f, &fn, NULL);
            if (st == PARAPET_ERR_NOMEM) return st;
            if (st != PARAPET_OK) {
                if (detail) *detail = pp_asprintf("%s:%zu: invalid UTF-8 in phrase", name, line);
                return PARAPET_ERR_LEXICON;
            }
            int r = vocab_add(R, f, fn, cls);
            pp_free(f);
            if (r < 0) return PARAPET_ERR_NOMEM;
            if (r > 0) {
                if (detail)
                    *detail = pp_asprintf("%s:%zu: phrase '%.*s' has no words or more than %d",
                                          name, line, (int)(y - x), s + x, MAX_PHRASE);
                return PARAPET_ERR_LEXICON;
            }
        }
    }
    return PARAPET_OK;
}

/* ------------------------------------------------------------------ matching */

/* The string being matched and how to reach the caller's original bytes. */
typedef struct source {
    const char *s;      /* the fold view (PP_VIEW_SLACK readable past n) */
    size_t n;
    const pp_view *map; /* fold view's offset map, or NULL: s is its own original */
    const char *raw;    /* the original bytes (for F_UPPER) */
    size_t raw_n;
} source;

typedef struct mctx {
    const injection *R;
    const tok *tk;
    int lim;   /* words usable by this match */
    int start; /* first word of the match */
} mctx;

/* Number of words of the longest item of a class in cls at word p, or 0. */
static int item_len(const mctx *cx, int p, uint64_t cls) {
    if (p >= cx->lim) return 0;
    const tok *t = &cx->tk[p];
    if (p > cx->start && (t->brk & BRK_SENT)) return 0;
    int best = 0;
    if (t->pcls & cls) {
        for (int32_t k = t->chain; k >= 0; k = cx->R->ph[k].next) {
            const phrase *ph = &cx->R->ph[k];
            if (!(ph->cls & cls) || ph->n <= best || p + ph->n > cx->lim) continue;
            int ok = 1;
            for (int q = 1; q < ph->n && ok; q++)
                ok = cx->tk[p + q].h == ph->h[q] && !(cx->tk[p + q].brk & BRK_SENT);
            if (ok) best = ph->n;
        }
    }
    if (!best && (t->cls & cls)) best = 1;
    return best;
}

/* Matches elements e.. of r from word i; on success *end is the word after it.
** Recursion depth <= MAX_ELEMS; each level tries <= (gap+1) * (MAX_REP+1) ways. */
static int match_from(const mctx *cx, const rule *r, int e, int i, int *end) {
    if (e == MAX_ELEMS || !r->e[e].cls) {
        *end = i;
        return 1;
    }
    const elem *el = &r->e[e];
    int q = i; /* after g filler items */
    for (int g = 0;; g++) {
        int ends[MAX_REP + 1], cnt = 0, p = q;
        ends[0] = p;
        while (cnt < el->max) {
            int l = item_len(cx, p, el->cls);
            if (!l) break;
            p += l;
            ends[++cnt] = p;
        }
        for (int c = cnt; c >= el->min; c--)
            if (match_from(cx, r, e + 1, ends[c], end)) return 1;
        if (g == el->gap) break;
        /* One more filler item: a vocabulary phrase of the filler class ("所有",
        ** "all of") or, for "any word", a known phrase or a single word. */
        int l;
        if (el->gapcls) {
            l = item_len(cx, q, el->gapcls);
        } else {
            l = item_len(cx, q, ~0ull);
            if (!l && q < cx->lim && !(q > cx->start && (cx->tk[q].brk & BRK_SENT))) l = 1;
        }
        if (!l) break;
        q += l;
    }
    return 0;
}

/* Are the ASCII letters of original bytes [a,b) capitals (at least two, no
** lower case)? */
static int raw_upper(const char *s, size_t a, size_t b) {
    int up = 0;
    for (size_t i = a; i < b; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 'a' && c <= 'z') return 0;
        if (c >= 'A' && c <= 'Z') up++;
    }
    return up >= 2;
}

static int flags_ok(const source *S, const tok *tk, int n_tok, int done, int end, unsigned fl) {
    if ((fl & F_END) && end < n_tok && !tk[end].brk) return 0;
    if ((fl & F_END) && end >= n_tok && !done) return 0;
    if (fl & F_COLON) {
        size_t k = tk[end - 1].b;
        while (k < S->n && S->s[k] == ' ') k++;
        int colon = (k < S->n && S->s[k] == ':') ||
                    (k + 3 <= S->n && !memcmp(S->s + k, "\xEF\xBC\x9A", 3));
        if (!colon) return 0;
    }
    if (fl & F_UPPER) {
        size_t a = tk[end - 1].a, b = tk[end - 1].b;
        if (S->map) pp_view_span(S->map, a, b, &a, &b);
        if (b > S->raw_n || !raw_upper(S->raw, a, b)) return 0;
    }
    return 1;
}

/* Is bit FILTER_AT(h) set? */
static int filter_has(const injection *R, uint64_t h) {
    size_t b = FILTER_AT(h);
    return (int)((R->filter[b >> 6] >> (b & 63)) & 1);
}

/* Is bit cp (taken modulo 2^16) of the code-point bitmap bm set? */
static int cp_bit(const uint64_t *bm, uint32_t cp) {
    cp &= 0xFFFF;
    return (int)((bm[cp >> 6] >> (cp & 63)) & 1);
}

/* Fills the class fields of tk[0..n) from the vocabulary. */
static void classify(const injection *R, tok *tk, int n) {
    for (int k = 0; k < n; k++) {
        const slot *sl = slot_find(R, tk[k].h);
        tk[k].cls = sl->cls;
        tk[k].pcls = sl->pcls;
        tk[k].chain = sl->key ? sl->chain : -1;
    }
}

/* Does rule r require a class that window-level presence mask `have` lacks? */
static int rule_viable(size_t r, uint64_t have) {
    for (int e = 0; e < MAX_ELEMS && rules[r].e[e].cls; e++)
        if (rules[r].e[e].min && !(rules[r].e[e].cls & have)) return 0;
    return 1;
}

typedef void (*match_fn)(void *ud, int rule_idx, size_t a, size_t b);

/* What the grammar carries from one sentence to the next. */
typedef struct gctx {
    const injection *R;
    const source *S;
    match_fn cb;
    void *ud;
    size_t last_end[G_COUNT]; /* end of the last reported match per group */
} gctx;

/* The rules whose rare required elements all have a word (or phrase) among the rare
** classes `rare`, in rule order, into cand; returns how many.  Element by element
** with bit sets over the rules: slot_rules[j][c] has the rules whose j-th rare
** element admits class c, so a rule survives slot j when it has no such element or
** some class of `rare` satisfies it. */
static int rules_for(const injection *R, uint64_t rare, uint8_t *cand) {
    uint64_t ok[RULE_WORDS];
    for (int w = 0; w < RULE_WORDS; w++) ok[w] = R->all_rules[w];
    for (int j = 0; j < R->max_rare; j++) {
        uint64_t sat[RULE_WORDS] = {0};
        for (uint64_t c = rare; c; c &= c - 1)
            for (int w = 0; w < RULE_WORDS; w++) sat[w] |= R->slot_rules[j][__builtin_ctzll(c)][w];
        for (int w = 0; w < RULE_WORDS; w++) ok[w] &= sat[w] | ~R->has_slot[j][w];
    }
    int nc = 0;
    for (int w = 0; w < RULE_WORDS; w++)
        for (uint64_t m = ok[w]; m; m &= m - 1)
            cand[nc++] = (uint8_t)((size_t)w * 64 + (size_t)__builtin_ctzll(m));
    return nc;
}

/* Tries the candidate rules cand[0..nc) at the start words [i, limit) of tk[0..n).
** Words [i, e) are classified (e >= limit: the rest of the sentence in the
** buffer); no match reaches past a sentence end, so the class fields of later words
** are never read.  done: tk ends at the end of the sentence or text (for F_END). */
static void grammar_starts(gctx *g, const tok *tk, int n, int done, int i, int limit, int e,
                           const uint8_t *cand, int nc) {
    /* A candidate is viable here only if every element it requires has a word of
    ** its class (or the first word of a phrase of it) in these words. */
    uint64_t have = 0, first = 0;
    uint8_t viable[N_RULES];
    int nv = 0;
    for (int k = i; k < e; k++) have |= tk[k].cls | tk[k].pcls;
    for (int c = 0; c < nc; c++) {
        if (!rule_viable(cand[c], have)) continue;
        viable[nv++] = cand[c];
        first |= rules[cand[c]].e[0].cls;
    }
    for (; nv && i < limit; i++) {
        uint64_t any = tk[i].cls | tk[i].pcls;
        if (!(any & first)) continue;
        mctx cx = {g->R, tk, PP_MIN(n, i + MAX_SPAN), i};
        int best_r[G_COUNT], best_end[G_COUNT];
        for (int q = 0; q < G_COUNT; q++) best_r[q] = -1;
        for (int v = 0; v < nv; v++) {
            int r = viable[v];
            const rule *ru = &rules[r];
            if (!(any & ru->e[0].cls)) continue;
            if (best_r[ru->group] >= 0 && rules[best_r[ru->group]].weight >= ru->weight) continue;
            int end;
            if (!match_from(&cx, ru, 0, i, &end)) continue;
            if (ru->flags && !flags_ok(g->S, tk, n, done, end, ru->flags)) continue;
            best_r[ru->group] = r;
            best_end[ru->group] = end;
        }
        for (int q = 0; q < G_COUNT; q++) {
            if (best_r[q] < 0) continue;
            size_t a = tk[i].a, b = tk[best_end[q] - 1].b;
            if (b <= g->last_end[q]) continue; /* inside the previous match */
            g->last_end[q] = b;
            g->cb(g->ud, best_r[q], a, b);
        }
    }
}

/* Runs the grammar over the sentence whose first word starts at byte a of the
** string, tokenizing it again TOK_CHUNK words at a time (a sentence may be longer),
** keeping MAX_SPAN words of overlap.  The first word of the next sentence is kept
** unclassified after it, for F_END. */
static void grammar_sentence(gctx *g, size_t a, const uint8_t *cand, int nc) {
    const injection *R = g->R;
    const source *S = g->S;
    tok tk[TOK_CHUNK];
    int n = 0, done = 0, e = 0, first = 1;
    size_t pos = a;
    for (;;) {
        while (n < TOK_CHUNK && !done) {
            if (!next_token(R->bclass, S->s, S->n, &pos, &tk[n])) {
                done = 1;
                e = n;
                break;
            }
            if (!first && (tk[n].brk & BRK_SENT)) {
                done = 1; /* the next sentence's first word */
                e = n++;
                break;
            }
            classify(R, &tk[n], 1);
            n++;
            first = 0;
        }
        int limit = done ? e : n - MAX_SPAN;
        grammar_starts(g, tk, n, done, 0, limit, done ? e : n, cand, nc);
        if (done) break;
        int keep = n - limit;
        memmove(tk, tk + limit, (size_t)keep * sizeof *tk);
        n = keep;
    }
}

/* The rare classes of the phrases in chain q (a slot's) that start with the word
** at byte a and lie within its sentence, except those in `have` already; h1 is the
** hash of the word after it.  The following words are read from the block bk
** (words k + 1 ...) when bk is not NULL, else tokenized again, only as far as some
** phrase still agrees: only words that pass the pair filter get here. */
static uint64_t phrases_at(const injection *R, const source *S, size_t a, int32_t q, uint64_t have,
                           uint64_t h1, const block *bk, int k) {
    uint64_t h[MAX_PHRASE];
    int nw = 1, end = 0; /* words read (h[0] unused); end: no more in this sentence */
    size_t pos = a;
    tok t;
    uint64_t got = 0;
    if (!bk) next_token(R->bclass, S->s, S->n, &pos, &t); /* the first word itself */
    for (; q >= 0; q = R->ph[q].next) {
        const phrase *ph = &R->ph[q];
        if (ph->h[1] != h1 || !(ph->cls & RARE_CLASSES & ~(have | got))) continue;
        int z = 1;
        for (; z < ph->n; z++) {
            while (nw <= z && !end) {
                if (bk) {
                    if (k + nw >= bk->m || (bk->brk[k + nw] & BRK_SENT)) end = 1;
                    else { h[nw] = bk->h[k + nw]; nw++; }
                } else if (!next_token(R->bclass, S->s, S->n, &pos, &t) || (t.brk & BRK_SENT)) {
                    end = 1;
                } else {
                    h[nw++] = t.h;
                }
            }
            if (nw <= z || h[z] != ph->h[z]) break;
        }
        if (z == ph->n) got |= ph->cls & RARE_CLASSES;
    }
    return got;
}

/* The gate's state within one sentence. */
typedef struct gstate {
    uint64_t have;   /* rare classes of the sentence so far */
    uint64_t prev_h; /* the previous word, when a rare phrase may start there */
    size_t prev_a;
    int prev_ok;
} gstate;

/* Feeds the word with hash h at byte a, read word by word, to the gate; single: the
** word may be a word of a rare class (0 only when the code-point bitmaps prove it
** is not).  A phrase starting at the previous word is read by tokenizing again. */
static inline void gate_word(const injection *R, const source *S, gstate *G, uint64_t h, size_t a,
                             int single) {
    if (single && filter_has(R, h)) G->have |= slot_find(R, h)->cls & RARE_CLASSES;
    if (G->prev_ok && filter_has(R, PAIR_KEY(G->prev_h, h))) {
        const slot *sl = slot_find(R, G->prev_h);
        if (sl->pcls & RARE_CLASSES & ~G->have)
            G->have |= phrases_at(R, S, G->prev_a, sl->chain, G->have, h, NULL, -1);
    }
    G->prev_h = h;
    G->prev_a = a;
    G->prev_ok = 1;
}

/* A sentence whose words hold the rare classes `have` has ended: matches it if some
** rule can use them, in place (words sent_k..k-1 of the block bk, as tok records
** in tk) when sent_k >= 0, else by tokenizing it again from byte sent_a. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void sentence_end(gctx *g, uint64_t have, block *bk, tok *tk, int sent_k, int k,
                         size_t sent_a) {
    uint8_t cand[N_RULES];
    int nc = rules_for(g->R, have, cand);
    if (!nc) return;
    if (sent_k >= 0) {
        /* the grammar reads the sentence and the word after it (a sentence end) */
        block_toks(bk, tk, sent_k, PP_MIN(k + 1, bk->m));
        classify(g->R, tk + sent_k, k - sent_k);
        grammar_starts(g, tk, bk->m, 1, sent_k, k, k, cand, nc);
    } else {
        grammar_sentence(g, sent_a, cand, nc);
    }
}

/* Feeds the words of a block (bk) to the gate, ending the sentences that end in it
** (sentence_end); *sent_k is the first word of the current sentence (-1 when it
** began before the block, at byte sent_a) and is updated.  What gate_word would do
** word by word, done only at the words plain_tokenize listed (those that pass the
** filter, alone or as the second word of a pair) and at sentence starts: at every
** other word gate_word changes nothing.  A sentence's rare classes are a union, so
** the order in which its words are looked at does not matter.  A phrase starting
** in the block is read from it when it cannot run past the block's last word before
** its sentence ends: lim is m for a block that ends inside a sentence, INT_MAX for
** one that ends with its sentence (or the text); else it is tokenized again. */
static void block_gate(gctx *g, gstate *G, block *bk, tok *tk, int lim, int *sent_k_io,
                       size_t sent_a) {
    const injection *R = g->R;
    int sent_k = *sent_k_io, m = bk->m;
    uint64_t have = G->have;
    int x = 0; /* next entry of bk->hit */
    for (int si = 0;; si++) {
        int next = si < bk->n_sent ? bk->sent[si] : m; /* the next sentence start */
        for (; x < bk->n_hit && (bk->hit[x] >> 1) < next; x++) {
            int k = bk->hit[x] >> 1;
            uint64_t h = bk->h[k];
            if (!(bk->hit[x] & 1)) {
                have |= slot_find(R, h)->cls & RARE_CLASSES;
                continue;
            }
            if ((bk->brk[k] & BRK_SENT) || (!k && !G->prev_ok)) continue; /* no pair */
            /* a pair: the previous word is word k - 1, or the last word fed before
            ** the block (its phrases are then read by tokenizing again) */
            const slot *sl = slot_find(R, k ? bk->h[k - 1] : G->prev_h);
            if (sl->pcls & RARE_CLASSES & ~have)
                have |= phrases_at(R, g->S, k ? bk->a[k - 1] + bk->base : G->prev_a, sl->chain,
                                   have, h, k && k - 1 <= lim - MAX_PHRASE ? bk : NULL, k - 1);
        }
        if (si >= bk->n_sent) break;
        if (have) sentence_end(g, have, bk, tk, sent_k, next, sent_a);
        have = 0;
        sent_k = next;
    }
    G->have = have;
    if (m) {
        G->prev_h = bk->h[m - 1];
        G->prev_ok = 1;
        G->prev_a = bk->a[m - 1] + bk->base;
    }
    *sent_k_io = sent_k;
}

static int g_no_blocks; /* pp_injection_set_blocks (tests) */
void pp_injection_set_blocks(int allow) { g_no_blocks = !allow; }

/* Where a block of plain text starting at byte pos may end: the end of the text when
** it is near (PLAIN_MAX for a text tried whole), else just after a sentence-ending
** byte in the second half of the next BLOCK_MAX bytes, so that no sentence crosses
** the block's end; failing that (a stretch without sentence ends, common in chat
** text) inside a sentence, at a word that follows one space after a word, and then
** *open is set.  0 if there is neither. */
static size_t block_end(const injection *R, const source *S, size_t pos, int *open) {
    *open = 0;
    if (g_no_blocks) return 0;
    const unsigned char *u = (const unsigned char *)S->s;
    if (S->n - pos <= (pos ? BLOCK_MAX : PLAIN_MAX)) {
        /* a text that starts with a letter of another script (a Chinese one, say)
        ** is not plain: plain_tokenize would find so at its first byte */
        uint32_t cp;
        if (u[pos] >= 0x80 && !(utf8_dec(u, S->n, pos, &cp) && cp_separator(cp))) return 0;
        return S->n;
    }
    if (u[pos] >= 0x80) return 0; /* not plain: do not look */
    for (size_t j = pos + BLOCK_MAX; j > pos + BLOCK_MAX / 2; j--)
        if (R->bclass[u[j - 1]] == BC_SENT) return j;
    /* u[j] is inside the text: S->n > pos + BLOCK_MAX */
    for (size_t j = pos + BLOCK_MAX; j > pos + BLOCK_MAX / 2; j--)
        if (u[j - 1] == ' ' && R->bclass[u[j]] == BC_WORD && R->bclass[u[j - 2]] == BC_WORD) {
            *open = 1;
            return j;
        }
    return 0;
}

/* Runs the grammar over S and calls cb for each reported match, in order of start,
** with the match's byte span in S->s.  Allocates nothing.
**
** The gate is local: a match never crosses a sentence end, so the grammar looks at
** a sentence only when its words hold a word (or phrase) of every rare required
** class of some rule.  One pass collects each sentence's rare classes; at its end a
** sentence that can feed a rule is classified and matched, the others are dropped.
** In long documents, where some rare word is almost sure to occur somewhere, this
** keeps the grammar to the few sentences that can match.
**
** The pass reads plain stretches of text (a short text whole, a long one in blocks
** of about BLOCK_MAX bytes, cut at sentence ends where it can and between two words
** where it cannot) with plain_tokenize, and the rest word by word with next_token.
** A sentence that passes the gate and lies in one block is matched in place; one
** that began before its block, or outside blocks, is tokenized again
** (grammar_sentence).  After a stretch that is not plain it tries a block again at
** the first word BLOCK_MAX bytes on. */
static void run_grammar(const injection *R, const source *S, match_fn cb, void *ud) {
    tok tk[TOK_CHUNK];
    block bk;
    const unsigned char *u = (const unsigned char *)S->s;
    gctx g = {R, S, cb, ud, {0}};
    gstate G = {0};
    size_t pos = 0;      /* where the next word is looked for */
    size_t retry = 0;    /* try a block at a word from here on */
    size_t sent_a = 0;   /* start of the sentence (its first word, or before it) */
    int fresh = 1;       /* no word of the current sentence has been fed yet */
    uint8_t carry = 0;   /* breaks before the first word of the next block */
    int want = 1;        /* try a block at pos */
    for (;;) {
        if (want) {
            want = 0;
            int open;
            size_t e = block_end(R, S, pos, &open);
            int m = e ? plain_tokenize(R->filter, S->s + pos, e - pos, pos, carry, G.prev_h, &bk)
                      : -1;
            if (m >= 0) {
                /* sent_k: the first word of the current sentence, -1 while that
                ** sentence began before the block */
                int sent_k = fresh ? 0 : -1, lim = open ? m : INT_MAX;
                block_gate(&g, &G, &bk, tk, lim, &sent_k, sent_a);
                if (m) fresh = 0;
                if (!open) {
                    if (G.have) sentence_end(&g, G.have, &bk, tk, sent_k, m, sent_a);
                    G = (gstate){0};
                    fresh = 1;
                } else {
                    if (sent_k >= 0) sent_a = bk.a[sent_k] + bk.base;
                }
                carry = 0;
                pos = e;
                if (pos >= S->n) break;
                want = 1;
                continue;
            }
            retry = pos + BLOCK_MAX;
            if (fresh) sent_a = pos;
        }
        /* Unspaced scripts: a character that is no rare word, starts no rare phrase
        ** and cannot continue one from the previous word needs no hash (most Han
        ** and kana characters); the others are fed here too.  Three-byte
        ** separators between them (CJK punctuation: ，。、「」) are taken here as
        ** next_token would take them: their breaks (pend) go to the next word, and
        ** a character after them is a word found by next_token, so a sentence end
        ** before it and the retry of a block happen here as below. */
        uint8_t pend = 0;
        int reblock = 0;
        while (pos + 2 < S->n && u[pos] >= 0xE1 && u[pos] <= 0xEF && u[pos] != 0xED &&
               (u[pos + 1] & 0xC0) == 0x80 && (u[pos + 2] & 0xC0) == 0x80) {
            uint32_t cp = (uint32_t)(u[pos] & 0x0F) << 12 | (uint32_t)(u[pos + 1] & 0x3F) << 6 |
                          (u[pos + 2] & 0x3F);
            if (!cp_unspaced(cp)) {
                if (!cp_separator(cp)) break;
                pend |= cp_break(cp) | BRK_SEEN;
                pos += 3;
                continue;
            }
            if (pend) { /* the first word after separators */
                if (pend & BRK_SENT) {
                    if (G.have) sentence_end(&g, G.have, NULL, tk, -1, 0, sent_a);
                    G = (gstate){0};
                    sent_a = pos;
                    fresh = 1;
                }
                if (pos >= retry) {
                    carry = pend & (BRK_SENT | BRK_SOFT);
                    reblock = 1;
                    break;
                }
                pend = 0;
            }
            fresh = 0;
            int st = cp_bit(R->ustart, cp);
            if (st || (G.prev_ok && cp_bit(R->usecond, cp))) {
                gate_word(R, S, &G, hash_short(u, S->n, pos, 3), pos, st);
                G.prev_ok = st;
            } else {
                G.prev_ok = 0;
            }
            pos += 3;
        }
        if (reblock) {
            want = 1;
            continue;
        }
        tok t;
        int more = next_token(R->bclass, S->s, S->n, &pos, &t);
        if (more) t.brk |= pend & (BRK_SENT | BRK_SOFT);
        if (!more || (t.brk & BRK_SENT)) {
            if (G.have) sentence_end(&g, G.have, NULL, tk, -1, 0, sent_a);
            if (!more) break;
            G = (gstate){0};
            sent_a = t.a;
            fresh = 1;
        }
        if (t.a >= retry) { /* read on as a block from this word, if plain */
            pos = t.a;
            carry = t.brk;
            want = 1;
            continue;
        }
        fresh = 0;
        gate_word(R, S, &G, t.h, t.a, 1);
    }
}

/* ------------------------------------------------------------------ the scan */

typedef struct scan_state {
    pp_scan *s;
    const pp_text *t;
    uint8_t reported[N_RULES]; /* hits recorded per grammar rule */
} scan_state;

/* Records a hit; only the first per rule moves the score. */
static void report(scan_state *st, uint8_t *count, float w, size_t os, size_t oe,
                   const char *name, unsigned xf) {
    if (*count >= MAX_REPORTS) return;
    pp_scan_add(st->s, PP_CAT_PROMPT_INJECTION, *count ? 0.0f : w, os, oe, PP_DET_INJECTION,
                0, name, xf);
    (*count)++;
}

static void on_fold_match(void *ud, int r, size_t a, size_t b) {
    scan_state *st = ud;
    const pp_view *v = &st->t->fold;
    size_t os, oe;
    pp_view_span(v, a, b, &os, &oe);
    report(st, &st->reported[r], rules[r].weight, os, oe, rules[r].name, pp_view_xf(v, a, b));
}

/* Runs of tag characters in the original bytes: their presence is the evidence (a
** human reviewer cannot see them).  What they spell is the pipeline's business: it
** decodes them with pp_find_payloads and scans the result. */
static void scan_tags(scan_state *st) {
    const pp_text *t = st->t;
    char dec[64];
    size_t pos = 0, a, b, dn, fn;
    uint8_t cnt = 0;
    while (pp_payload_next_tag(t->orig, t->orig_len, &pos, &a, &b, dec, sizeof dec, &dn, &fn))
        if (fn) report(st, &cnt, W_TAG, a, b, R_TAG, PARAPET_XF_INVISIBLE | PARAPET_XF_DECODED);
}

static int latin_letter(uint32_t c) {
    return ((c | 32) >= 'a' && (c | 32) <= 'z') || (c >= 0xC0 && c <= 0x24F && c != 0xD7 && c != 0xF7) ||
           (c >= 0x1E00 && c <= 0x1EFF);
}
static int cyr_greek_letter(uint32_t c) {
    return (c >= 0x370 && c <= 0x3FF) || (c >= 0x400 && c <= 0x52F) || (c >= 0x1F00 && c <= 0x1FFF);
}

/* Words of the base view that mix Latin with Cyrillic or Greek letters ("pаypal"
** with a Cyrillic a): weak evidence of filter evasion. */
static void scan_mixed_script(scan_state *st) {
    const pp_view *v = &st->t->base;
    const unsigned char *u = (const unsigned char *)v->s;
    uint8_t cnt = 0;
    size_t i = 0, w0 = 0;
    int lat = 0, cg = 0;
    while (i <= v->n && cnt < MAX_REPORTS) { /* later words would not be recorded */
        uint32_t cp = ' ';
        size_t k = 1;
        if (i < v->n && u[i] >= 0x80) {
            k = pp_utf8_decode(v->s + i, v->n - i, &cp);
            if (!k) { k = 1; cp = ' '; }
        } else if (i < v->n) {
            cp = u[i];
        }
        int word = latin_letter(cp) || cyr_greek_letter(cp) || (cp >= '0' && cp <= '9') ||
                   (cp >= 0x80 && !cp_separator(cp) && !cp_unspaced(cp));
        if (word) {
            if (!lat && !cg) w0 = i;
            lat |= latin_letter(cp);
            cg |= cyr_greek_letter(cp);
        } else {
            if (lat && cg) {
                size_t os, oe;
                pp_view_span(v, w0, i, &os, &oe);
                report(st, &cnt, W_MIXED, os, oe, R_MIXED, PARAPET_XF_CONFUSABLE);
            }
            lat = cg = 0;
        }
        i += k;
    }
}

/* Zero-width and bidi-control characters in the original bytes.  ZWJ/ZWNJ between
** two non-ASCII characters (emoji sequences, Indic and Persian orthography) are
** legitimate and skipped. */
static void scan_invisible(scan_state *st) {
    const unsigned char *u = (const unsigned char *)st->t->orig;
    size_t n = st->t->orig_len;
    uint8_t cnt_zw = 0, cnt_bidi = 0;
    for (size_t i = 0; i + 3 <= n; i++) {
        /* Skip eight bytes at a time while none is an E2 or EF lead byte. */
        while (i + 8 <= n) {
            uint64_t x = load_le64(u + i), a = x ^ (ONES * 0xE2), b = x ^ (ONES * 0xEF);
            if (((a - ONES) & ~a & HIGHS) | ((b - ONES) & ~b & HIGHS)) break;
            i += 8;
        }
        if (i + 3 > n) break;
        if (u[i] != 0xE2 && u[i] != 0xEF) continue;
        uint32_t cp;
        if (pp_utf8_decode(st->t->orig + i, n - i, &cp) != 3) continue;
        int bidi = (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) ||
                   cp == 0x200E || cp == 0x200F;
        int zw = (cp >= 0x200B && cp <= 0x200D) || (cp >= 0x2060 && cp <= 0x2064) ||
                 (cp == 0xFEFF && i > 0);
        if ((cp == 0x200C || cp == 0x200D) && i > 0 && u[i - 1] >= 0x80 && i + 3 < n && u[i + 3] >= 0x80)
            zw = 0;
        if (bidi) report(st, &cnt_bidi, W_BIDI, i, i + 3, R_BIDI, PARAPET_XF_INVISIBLE);
        else if (zw) report(st, &cnt_zw, W_ZW, i, i + 3, R_ZW, PARAPET_XF_INVISIBLE);
        i += 2;
    }
}

static pp_status inj_scan(const void *self, pp_scan *s) {
    const injection *R = self;
    const pp_text *t = s->text;
    scan_state st;
    memset(&st, 0, sizeof st);
    st.s = s;
    st.t = t;
    if (t->fold.n) {
        source S = {t->fold.s, t->fold.n, &t->fold, t->orig, t->orig_len};
        run_grammar(R, &S, on_fold_match, &st);
    }
    /* The normalizer's signals say whether the rarer scans have anything to find. */
    if (t->orig && (t->signals & PP_SIG_TAG_CHARS)) scan_tags(&st);
    if (t->signals & PP_SIG_MIXED_SCRIPT) scan_mixed_script(&st);
    if (t->orig && (t->signals & (PP_SIG_ZERO_WIDTH | PP_SIG_BIDI | PP_SIG_INVISIBLE)))
        scan_invisible(&st);
    return s->oom ? PARAPET_ERR_NOMEM : PARAPET_OK;
}

/* --------------------------------------------------------------- open / close */

static void inj_close(void *self) {
    injection *R = self;
    if (!R) return;
    pp_free(R->tab);
    pp_free(R->ph);
    pp_free(R);
}

/* Checks the rule table (it is code: a failure is a bug, reported as INTERNAL) and
** records each rule's rare required elements for the gate. */
static pp_status rules_prepare(injection *R, char **detail) {
    for (size_t r = 0; r < N_RULES; r++) {
        const elem *e0 = &rules[r].e[0];
        if (!e0->cls || e0->min < 1 || e0->gap || rules[r].group >= G_COUNT) {
            if (detail) *detail = pp_asprintf("injection rule %s: bad first element", rules[r].name);
            return PARAPET_ERR_INTERNAL;
        }
        R->n_rare[r] = 0;
        for (int e = 0; e < MAX_ELEMS && rules[r].e[e].cls; e++) {
            const elem *el = &rules[r].e[e];
            if (el->max > MAX_REP) {
                if (detail) *detail = pp_asprintf("injection rule %s: repeat > %d", rules[r].name, MAX_REP);
                return PARAPET_ERR_INTERNAL;
            }
            if (!el->min || (el->cls & COMMON_CLASSES)) continue;
            int j = R->n_rare[r]++;
            R->has_slot[j][r / 64] |= 1ull << (r % 64);
            for (int c = 0; c < CI_COUNT; c++)
                if ((el->cls >> c) & 1) R->slot_rules[j][c][r / 64] |= 1ull << (r % 64);
        }
        R->all_rules[r / 64] |= 1ull << (r % 64);
        if (R->n_rare[r] > R->max_rare) R->max_rare = R->n_rare[r];
        if (!R->n_rare[r]) {
            if (detail)
                *detail = pp_asprintf("injection rule %s: every required element has a common "
                                      "class, so the gate could never skip it", rules[r].name);
            return PARAPET_ERR_INTERNAL;
        }
    }
    return PARAPET_OK;
}

static void filter_set(injection *R, uint64_t key) {
    size_t b = FILTER_AT(key);
    R->filter[b >> 6] |= 1ull << (b & 63);
}

/* Sets the gate's filter bits: every word of a rare class, and the first two words
** of every phrase of a rare class. */
static void filter_build(injection *R) {
    memset(R->filter, 0, sizeof R->filter);
    for (size_t i = 0; i <= R->mask; i++)
        if (R->tab[i].key && (R->tab[i].cls & RARE_CLASSES)) filter_set(R, R->tab[i].key);
    for (size_t k = 0; k < R->n_ph; k++)
        if (R->ph[k].cls & RARE_CLASSES) filter_set(R, PAIR_KEY(R->ph[k].h[0], R->ph[k].h[1]));
}

static pp_status inj_open(const pp_detector_config *cfg, void **self, char **detail) {
    static const char *const vocab = "data/injection/vocab.txt";
    *self = NULL;
    const pp_blob *blob = pp_embedded_find(vocab);
    if (!blob) {
        if (detail) *detail = pp_asprintf("%s is not embedded in the library", vocab);
        return PARAPET_ERR_NOT_FOUND;
    }
    injection *R = pp_calloc(1, sizeof *R);
    if (!R) return PARAPET_ERR_NOMEM;
    pp_status st = rules_prepare(R, detail);
    if (st != PARAPET_OK) {
        pp_free(R);
        return st;
    }
    bclass_init(R->bclass);
    R->tab = pp_calloc(1024, sizeof *R->tab);
    if (!R->tab) { pp_free(R); return PARAPET_ERR_NOMEM; }
    R->mask = 1023;
    st = vocab_parse(R, vocab, (const char *)blob->data, blob->len, detail);
    if (st != PARAPET_OK) {
        inj_close(R);
        return st;
    }
    filter_build(R);
    *self = R;
    return PARAPET_OK;
}

const pp_detector_vt pp_injection_detector = {"injection", inj_open, inj_scan, inj_close};
