/*
** lexicon.c -- the lexicon detector: weighted terms and phrases per category, in many
** languages, with word-boundary rules and allow-lists, compiled once into one
** Aho-Corasick automaton over the fold view.
**
** Where it sits.  The normalizer has already produced the fold view of the text
** (case, homoglyphs, accents, leet, separators and repeated letters folded; runs of
** one letter collapsed, with run[] remembering the length).  Every term is folded by
** pp_fold_pattern the same way, so one byte-level match on the fold view finds
** "FUCK", "fuuuck", "f.u.c.k" and "ƒuck" alike.  Each raw automaton match is then
** filtered, in this order:
**   1. word boundaries, by the term's flag: w (both sides), p (starts a word, may
**      continue: "fuck" in "fucking"), s (ends a word), x (anywhere);
**   2. runs: a term letter written twice ("ass") needs a run of at least two in the
**      text, so "as" is not "ass" but "asssss" is; a single term letter does not
**      match a doubled one ("rape" is not in "rappers") but does match an elongated
**      one (3 or more: "fuuuck");
**   3. allow-list: an ordinary match whose span lies inside an allow-list match is
**      dropped ("ass" in "assassin", "kill" in "kill the process");
**   4. overlapping matches of the same term and category count once;
**   5. targeting: a one-word harassment term (or a 't' term) aimed at the reader
**      through a short chain of link words from an address word ("you are an
**      idiot", "ты тупой урод") is raised to >= 0.6 and reported as
**      "targeted:<term>"; a 't' term that is not aimed is dropped.
** Survivors go to pp_scan_add with the original-text span (for p and s terms widened
** to the whole word, so evidence and redaction cover "fucking", not "fuck") and the transforms that had
** to fire (plus PARAPET_XF_MASK for the compiled "f*ck" variants).
**
** Sources.  The lexicons shipped in data/lexicon/ (one .txt per language) (embedded into the library at
** build time, so nothing is read at run time), plus the extra term lists of the
** detector config (custom policy categories, users' word lists).  Format: see
** docs/lexicon.md.  Anything malformed is an error naming file:line.
**
** Lifetime.  The compiled pp_lexicon is immutable after pp_lexicon_compile returns and
** owns every string a hit points to (the rule is the term as written in its source).
** Scans allocate nothing unless a text has more raw matches than the on-stack buffers
** hold (long texts), and then only scratch freed before returning.
*/
#include "lexicon.h"
#include "ahocorasick.h"
#include <stdlib.h>
#include <string.h>

/* Boundary flags of an entry. */
enum { LX_LEFT = 1, LX_RIGHT = 2 };
#define LX_ALLOW 0xFFFFu /* cat of an allow-list entry */
#define LX_MAX_TERM 1024 /* bytes; longer terms are surely a mistake */

typedef struct lx_entry {
    const char *rule;      /* term as written in its source (arena) */
    const unsigned char *bytes; /* (len) folded pattern (arena) */
    const uint8_t *runs;   /* (len) required run per byte, NULL when all are 1 (arena) */
    uint32_t len;
    float weight;          /* (0,1]; unused for allow entries */
    uint16_t cat;          /* category id, or LX_ALLOW */
    uint8_t bounds;        /* LX_LEFT | LX_RIGHT */
    uint8_t masked;        /* a compiled "f*ck" variant */
    uint8_t extend;        /* LX_LEFT / LX_RIGHT: report the span out to the word's
                              start / end (s and p terms: "fucking", not "fuck") */
    uint8_t target;        /* LX_TGT_*: how aiming the term at the reader counts */
    const char *trule;     /* "targeted:<rule>" (arena) when target != 0 */
} lx_entry;

/* Targeting (see the targeting section below). */
enum {
    LX_TGT_NONE = 0,
    LX_TGT_BOOST = 1, /* a one-word harassment term: raised when aimed at the reader */
    LX_TGT_ONLY = 2   /* flag 't': counts only when aimed at the reader ("you dick") */
};
#define LX_TARGET_WEIGHT 0.6f      /* floor for an insult aimed at the reader */
#define LX_TARGET_WEIGHT_PROF 0.7f /* ... with a profanity on the way ("you fucking idiot") */
#define LX_TARGET_GAP 4            /* words allowed between the address and the insult */
#define LX_WORD_MAX 48             /* bytes of an address / link word */
_Static_assert(LX_WORD_MAX <= 64, "pp_lexicon.wlen keeps one bit per word length");
enum { LX_W_ADDRESS = 1, LX_W_LINK = 2 }; /* kinds of a targeting word (bits) */

typedef struct lx_chunk {
    struct lx_chunk *next;
    size_t used, cap;
    _Alignas(8) unsigned char data[];
} lx_chunk;

/* What the automaton callback reads of an entry, packed apart from lx_entry so the
** raw-match filter touches 8 bytes per pattern id instead of a 64-byte entry (fewer
** cache misses on hit-heavy texts).  Built from e[] once compiling is done. */
typedef struct lx_hot {
    uint32_t len;          /* = e->len */
    uint16_t cat;          /* = e->cat */
    uint8_t bounds;        /* = e->bounds */
    uint8_t runs;          /* e->runs != NULL */
} lx_hot;

struct pp_lexicon {
    lx_entry *e;           /* (n) pattern id = index */
    lx_hot *hot;           /* (n) the callback's copy of e[i]'s filter fields */
    size_t n, cap;
    pp_ac *ac;
    uint32_t max_allow;    /* longest allow-list pattern, bytes */
    /* Targeting words ("you", "du", "你" / "are", "a", "such"): an open-addressing
    ** set of folded words, looked up only around candidate insults. */
    struct lx_word { const char *w; uint8_t len, kind; } *words; /* (words_cap) */
    size_t n_words, words_cap;
    /* wlen[b] / wend[b] bit k-1: some targeting word of k bytes starts / ends with
    ** byte b.  Most words around an insult are none, and these answer them without
    ** hashing. */
    uint64_t wlen[256], wend[256];
    int cat_harass, cat_prof; /* category ids of harassment and profanity */
    lx_chunk *arena;       /* strings, patterns, runs */
    /* build only: de-duplication table of entry index + 1 (0 = empty) */
    uint32_t *tab;
    size_t tab_cap;
};

/* ------------------------------------------------------------------- arena */

static void *arena_alloc(pp_lexicon *lx, size_t n) {
    n = (n + 7) & ~(size_t)7;
    lx_chunk *c = lx->arena;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > 60000 ? n : 60000;
        c = pp_malloc(sizeof *c + cap);
        if (!c) return NULL;
        c->next = lx->arena;
        c->used = 0;
        c->cap = cap;
        lx->arena = c;
    }
    void *p = c->data + c->used;
    c->used += n;
    return p;
}

static const char *arena_str(pp_lexicon *lx, const char *s, size_t n) {
    char *p = arena_alloc(lx, n + 1);
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

void pp_lexicon_free(pp_lexicon *lx) {
    if (!lx) return;
    pp_ac_free(lx->ac);
    pp_free(lx->e);
    pp_free(lx->hot);
    pp_free(lx->words);
    pp_free(lx->tab);
    for (lx_chunk *c = lx->arena, *nx; c; c = nx) {
        nx = c->next;
        pp_free(c);
    }
    pp_free(lx);
}

/* ------------------------------------------------------------ adding terms */

static uint64_t entry_hash(const unsigned char *b, size_t n, const uint8_t *runs,
                           unsigned cat, unsigned bounds) {
    uint64_t h = pp_fnv1a(b, n);
    if (runs) h ^= pp_fnv1a(runs, n) * 31;
    h ^= ((uint64_t)cat << 8 | bounds) * 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 29);
}

static int entry_same(const lx_entry *e, const unsigned char *b, size_t n,
                      const uint8_t *runs, unsigned cat, unsigned bounds) {
    if (e->len != n || e->cat != cat || e->bounds != bounds || memcmp(e->bytes, b, n))
        return 0;
    if (!e->runs != !runs) return 0;
    return !runs || !memcmp(e->runs, runs, n);
}

static int tab_grow(pp_lexicon *lx) {
    size_t cap = lx->tab_cap ? lx->tab_cap * 2 : 1024;
    uint32_t *t = pp_calloc(cap, sizeof *t);
    if (!t) return -1;
    for (size_t i = 0; i < lx->tab_cap; i++) {
        uint32_t v = lx->tab[i];
        if (!v) continue;
        const lx_entry *e = &lx->e[v - 1];
        size_t h = (size_t)entry_hash(e->bytes, e->len, e->runs, e->cat, e->bounds) & (cap - 1);
        while (t[h]) h = (h + 1) & (cap - 1);
        t[h] = v;
    }
    pp_free(lx->tab);
    lx->tab = t;
    lx->tab_cap = cap;
    return 0;
}

static int is_unspaced_term(const char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t k = pp_utf8_decode(s + i, n - i, &cp);
        if (!k) return 0;
        if (pp_script_unspaced(pp_script_of(cp))) return 1;
        i += k;
    }
    return 0;
}

/* Folds `term` (already validated UTF-8) and adds it as an entry, merging with an
** identical (pattern, runs, category, bounds) entry by keeping the larger weight.
** flag is one of 'w','p','s','x' or 0 for the default.  Returns OK, NOMEM, or
** LEXICON (the term folds to nothing; *why set to a static message). */
static pp_status add_one(pp_lexicon *lx, const char *rule, const char *trule,
                         const char *term, size_t n, unsigned cat, float weight, int flag,
                         int tflag, int masked, const char **why) {
    char *f = NULL;
    size_t fn = 0;
    uint8_t *runs = NULL;
    pp_status st = pp_fold_pattern(term, n, &f, &fn, &runs);
    if (st != PARAPET_OK) {
        *why = "cannot fold term";
        return st == PARAPET_ERR_NOMEM ? st : PARAPET_ERR_LEXICON;
    }
    if (fn == 0 || fn > LX_MAX_TERM) {
        pp_free(f);
        pp_free(runs);
        *why = fn ? "term too long" : "term is empty after folding";
        return PARAPET_ERR_LEXICON;
    }
    int any_run = 0;
    for (size_t i = 0; runs && i < fn; i++) any_run |= runs[i] > 1;
    if (!any_run) {
        pp_free(runs);
        runs = NULL;
    }
    if (!flag) flag = cat == LX_ALLOW ? 'x' : is_unspaced_term(term, n) ? 'x' : 'w';
    unsigned bounds = flag == 'w' ? LX_LEFT | LX_RIGHT : flag == 'p' ? LX_LEFT
                    : flag == 's' ? LX_RIGHT : 0;
    /* a boundary next to a non-word byte of the term itself means nothing */
    if (!pp_fold_is_word_byte(f, fn, 0)) bounds &= ~(unsigned)LX_LEFT;
    if (!pp_fold_is_word_byte(f, fn, fn - 1)) bounds &= ~(unsigned)LX_RIGHT;

    /* a one-word harassment term is an insult that aiming at the reader raises */
    unsigned target = tflag ? LX_TGT_ONLY
                    : ((int)cat == lx->cat_harass && !memchr(f, ' ', fn)) ? LX_TGT_BOOST
                    : LX_TGT_NONE;

    st = PARAPET_ERR_NOMEM;
    if ((lx->n + 1) * 2 > lx->tab_cap && tab_grow(lx)) goto out;
    size_t h = (size_t)entry_hash((unsigned char *)f, fn, runs, cat, bounds) & (lx->tab_cap - 1);
    for (; lx->tab[h]; h = (h + 1) & (lx->tab_cap - 1)) {
        lx_entry *e = &lx->e[lx->tab[h] - 1];
        if (entry_same(e, (unsigned char *)f, fn, runs, cat, bounds)) {
            if (weight > e->weight) e->weight = weight;
            e->masked &= (uint8_t)masked;
            /* the same pattern both plain and target-only: plain wins */
            if (e->target != target && (e->target == LX_TGT_ONLY || target == LX_TGT_ONLY)) {
                e->target = LX_TGT_BOOST;
                if (!e->trule) e->trule = trule;
            }
            st = PARAPET_OK;
            goto out;
        }
    }
    if (PP_GROW(lx->e, lx->cap, lx->n + 1)) goto out;
    lx_entry *e = &lx->e[lx->n];
    memset(e, 0, sizeof *e);
    e->rule = rule;
    e->bytes = arena_alloc(lx, fn);
    if (!e->bytes) goto out;
    memcpy((void *)e->bytes, f, fn);
    if (runs) {
        e->runs = arena_alloc(lx, fn);
        if (!e->runs) goto out;
        memcpy((void *)e->runs, runs, fn);
    }
    e->len = (uint32_t)fn;
    e->weight = weight;
    e->cat = (uint16_t)cat;
    e->bounds = (uint8_t)bounds;
    e->masked = (uint8_t)masked;
    e->extend = flag == 'p' ? LX_RIGHT : flag == 's' ? LX_LEFT : 0;
    e->target = (uint8_t)target;
    e->trule = target ? trule : NULL;
    if (cat == LX_ALLOW && fn > lx->max_allow) lx->max_allow = (uint32_t)fn;
    lx->tab[h] = (uint32_t)++lx->n;
    st = PARAPET_OK;
out:
    pp_free(f);
    pp_free(runs);
    return st;
}

static int is_ascii_letter(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Adds a term, and for an ordinary single-word ASCII term of 4+ letters its masked
** variants: one interior letter, or two adjacent interior letters, replaced by '*'. */
static pp_status add_term(pp_lexicon *lx, const char *term, size_t n, unsigned cat,
                          float weight, int flag, int tflag, const char **why) {
    const char *rule = arena_str(lx, term, n);
    if (!rule) return PARAPET_ERR_NOMEM;
    const char *trule = NULL;
    if ((int)cat == lx->cat_harass || tflag) {
        char *t = arena_alloc(lx, n + 10);
        if (!t) return PARAPET_ERR_NOMEM;
        memcpy(t, "targeted:", 9);
        memcpy(t + 9, term, n);
        t[n + 9] = 0;
        trule = t;
    }
    pp_status st = add_one(lx, rule, trule, term, n, cat, weight, flag, tflag, 0, why);
    if (st != PARAPET_OK || cat == LX_ALLOW || n < 4 || n > 32) return st;
    for (size_t i = 0; i < n; i++)
        if (!is_ascii_letter((unsigned char)term[i])) return PARAPET_OK;
    char v[33];
    for (size_t k = 1; k <= 2; k++)
        for (size_t i = 1; i + k < n; i++) {
            memcpy(v, term, n);
            memset(v + i, '*', k);
            st = add_one(lx, rule, trule, v, n, cat, weight, flag, tflag, 1, why);
            if (st != PARAPET_OK) return st;
        }
    return PARAPET_OK;
}

/* Adds an address ("you") or link ("are") word for targeting, folded like the text.
** Returns OK, NOMEM, or LEXICON with *why set. */
static pp_status add_word(pp_lexicon *lx, const char *term, size_t n, unsigned kind,
                          const char **why) {
    char *f = NULL;
    size_t fn = 0;
    if (pp_fold_pattern(term, n, &f, &fn, NULL) != PARAPET_OK) {
        *why = "cannot fold term";
        return PARAPET_ERR_LEXICON;
    }
    pp_status st = PARAPET_ERR_LEXICON;
    if (!fn || fn > LX_WORD_MAX) {
        *why = fn ? "targeting word too long" : "term is empty after folding";
        goto out;
    }
    st = PARAPET_ERR_NOMEM;
    if ((lx->n_words + 1) * 2 > lx->words_cap) {
        size_t cap = lx->words_cap ? lx->words_cap * 2 : 256;
        struct lx_word *t = pp_calloc(cap, sizeof *t);
        if (!t) goto out;
        for (size_t i = 0; i < lx->words_cap; i++) {
            if (!lx->words[i].w) continue;
            size_t h = (size_t)pp_fnv1a(lx->words[i].w, lx->words[i].len) & (cap - 1);
            while (t[h].w) h = (h + 1) & (cap - 1);
            t[h] = lx->words[i];
        }
        pp_free(lx->words);
        lx->words = t;
        lx->words_cap = cap;
    }
    size_t h = (size_t)pp_fnv1a(f, fn) & (lx->words_cap - 1);
    for (; lx->words[h].w; h = (h + 1) & (lx->words_cap - 1))
        if (lx->words[h].len == fn && !memcmp(lx->words[h].w, f, fn)) {
            lx->words[h].kind |= (uint8_t)kind;
            st = PARAPET_OK;
            goto out;
        }
    const char *w = arena_str(lx, f, fn);
    if (!w) goto out;
    lx->words[h].w = w;
    lx->words[h].len = (uint8_t)fn;
    lx->words[h].kind = (uint8_t)kind;
    lx->wlen[(unsigned char)f[0]] |= 1ull << (fn - 1);
    lx->wend[(unsigned char)f[fn - 1]] |= 1ull << (fn - 1);
    lx->n_words++;
    st = PARAPET_OK;
out:
    pp_free(f);
    return st;
}

/* LX_W_* kind of the fold-view word w[0..n), 0 when it is no targeting word. */
static unsigned word_kind(const pp_lexicon *lx, const char *w, size_t n) {
    if (!lx->words_cap || !n || n > LX_WORD_MAX) return 0;
    if (!((lx->wlen[(unsigned char)w[0]] & lx->wend[(unsigned char)w[n - 1]]) >> (n - 1) & 1))
        return 0;
    size_t h = (size_t)pp_fnv1a(w, n) & (lx->words_cap - 1);
    for (; lx->words[h].w; h = (h + 1) & (lx->words_cap - 1))
        if (lx->words[h].len == n && !memcmp(lx->words[h].w, w, n)) return lx->words[h].kind;
    return 0;
}

/* ------------------------------------------------------------------ parsing */

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

static void trim(const char **s, size_t *n) {
    while (*n && is_space(**s)) (*s)++, (*n)--;
    while (*n && is_space((*s)[*n - 1])) (*n)--;
}

static pp_status line_error(char **detail, const char *src, size_t line, const char *why,
                            const char *what, size_t what_n) {
    if (detail) {
        if (what)
            *detail = pp_asprintf("%s:%zu: %s '%.*s'", src, line, why,
                                  (int)PP_MIN(what_n, 80), what);
        else
            *detail = pp_asprintf("%s:%zu: %s", src, line, why);
    }
    return PARAPET_ERR_LEXICON;
}

/* Parses one lexicon file into lx. */
static pp_status parse_source(pp_lexicon *lx, const pp_lexicon_source *src, char **detail) {
    const char *p = src->text, *end = src->text + src->len;
    size_t line = 0;
    if (end - p >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3)) p += 3;
    while (p < end) {
        line++;
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *s = p;
        size_t n = (size_t)(le - p);
        p = nl ? nl + 1 : end;
        if (n && s[n - 1] == '\r') n--;
        if (memchr(s, 0, n) || pp_utf8_validate(s, n) != n)
            return line_error(detail, src->name, line, "invalid UTF-8", NULL, 0);
        const char *t = s;
        size_t tn = n;
        trim(&t, &tn);
        if (!tn || t[0] == '#') continue;
        /* split on TAB into at most 4 fields */
        const char *fld[5];
        size_t fl[5];
        int nf = 0;
        const char *q = s, *qe = s + n;
        while (nf < 5) {
            const char *tab = memchr(q, '\t', (size_t)(qe - q));
            fld[nf] = q;
            fl[nf] = (size_t)((tab ? tab : qe) - q);
            trim(&fld[nf], &fl[nf]);
            nf++;
            if (!tab) break;
            q = tab + 1;
        }
        if (nf > 4) return line_error(detail, src->name, line, "too many fields", NULL, 0);
        if (nf < 2)
            return line_error(detail, src->name, line,
                              "expected term<TAB>category<TAB>weight[<TAB>flags]", NULL, 0);
        if (!fl[0]) return line_error(detail, src->name, line, "empty term", NULL, 0);
        if (fl[0] > LX_MAX_TERM) return line_error(detail, src->name, line, "term too long", NULL, 0);
        char name[64];
        if (fl[1] >= sizeof name)
            return line_error(detail, src->name, line, "unknown category", fld[1], fl[1]);
        memcpy(name, fld[1], fl[1]);
        name[fl[1]] = 0;
        unsigned cat, wkind = 0;
        if (!strcmp(name, "allow")) {
            cat = LX_ALLOW;
        } else if (!strcmp(name, "address") || !strcmp(name, "link")) {
            wkind = name[0] == 'a' ? LX_W_ADDRESS : LX_W_LINK;
            cat = LX_ALLOW;
            if (nf > 2)
                return line_error(detail, src->name, line,
                                  "an address or link word takes no weight or flags", NULL, 0);
            const char *why = NULL;
            pp_status st = add_word(lx, fld[0], fl[0], wkind, &why);
            if (st == PARAPET_ERR_NOMEM) return st;
            if (st != PARAPET_OK) return line_error(detail, src->name, line, why, fld[0], fl[0]);
            continue;
        } else {
            int id = pp_category_id(name);
            if (id < 0)
                return line_error(detail, src->name, line, "unknown category", fld[1], fl[1]);
            cat = (unsigned)id;
        }
        float w = 1.0f;
        if (nf >= 3 && fl[2]) {
            char num[32], *ep;
            if (fl[2] >= sizeof num)
                return line_error(detail, src->name, line, "bad weight", fld[2], fl[2]);
            memcpy(num, fld[2], fl[2]);
            num[fl[2]] = 0;
            double d = strtod(num, &ep);
            if (*ep || !(d > 0 && d <= 1))
                return line_error(detail, src->name, line, "weight must be in (0,1]", fld[2], fl[2]);
            w = (float)d;
        } else if (cat != LX_ALLOW) {
            return line_error(detail, src->name, line, "missing weight", NULL, 0);
        }
        int flag = 0, tflag = 0;
        for (size_t k = 0; nf == 4 && k < fl[3]; k++) {
            char ch = fld[3][k];
            if (ch == 't' && !tflag && cat != LX_ALLOW) tflag = 1;
            else if (ch && strchr("wpsx", ch) && !flag) flag = ch;
            else
                return line_error(detail, src->name, line,
                                  "flags must be one of w p s x, optionally with t", fld[3], fl[3]);
        }
        const char *why = NULL;
        pp_status st = add_term(lx, fld[0], fl[0], cat, w, flag, tflag, &why);
        if (st == PARAPET_ERR_NOMEM) return st;
        if (st != PARAPET_OK) return line_error(detail, src->name, line, why, fld[0], fl[0]);
    }
    return PARAPET_OK;
}

static pp_status add_extra(pp_lexicon *lx, const pp_term_list *L, char **detail) {
    const char *src = L->source ? L->source : "extra terms";
    if (L->cat < 0 || L->cat >= PP_MAX_CATS) {
        if (detail) *detail = pp_asprintf("%s: category id %d out of range", src, L->cat);
        return PARAPET_ERR_LEXICON;
    }
    if (!(L->weight > 0 && L->weight <= 1)) {
        if (detail) *detail = pp_asprintf("%s: weight must be in (0,1]", src);
        return PARAPET_ERR_LEXICON;
    }
    for (size_t i = 0; i < L->n_terms; i++) {
        const char *t = L->terms[i];
        size_t n = t ? strlen(t) : 0;
        if (t) trim(&t, &n);
        const char *why = NULL;
        if (!n) why = "empty term";
        else if (n > LX_MAX_TERM) why = "term too long";
        else if (pp_utf8_validate(t, n) != n) why = "invalid UTF-8";
        pp_status st = PARAPET_ERR_LEXICON;
        if (!why) st = add_term(lx, t, n, (unsigned)L->cat, L->weight, 0, 0, &why);
        if (st == PARAPET_ERR_NOMEM) return st;
        if (st != PARAPET_OK) {
            if (detail) *detail = pp_asprintf("%s: term %zu: %s", src, i + 1, why);
            return PARAPET_ERR_LEXICON;
        }
    }
    return PARAPET_OK;
}

pp_status pp_lexicon_compile(const pp_lexicon_source *src, size_t n_src,
                             const pp_term_list *extra, size_t n_extra,
                             pp_lexicon **out, char **detail) {
    *out = NULL;
    if (detail) *detail = NULL;
    pp_lexicon *lx = pp_calloc(1, sizeof *lx);
    if (!lx) return PARAPET_ERR_NOMEM;
    lx->cat_harass = pp_category_id("harassment");
    lx->cat_prof = pp_category_id("profanity");
    pp_status st = PARAPET_OK;
    for (size_t i = 0; i < n_src && st == PARAPET_OK; i++) st = parse_source(lx, &src[i], detail);
    for (size_t i = 0; i < n_extra && st == PARAPET_OK; i++) st = add_extra(lx, &extra[i], detail);
    pp_ac_pattern *pats = NULL;
    if (st == PARAPET_OK) {
        pats = pp_malloc((lx->n ? lx->n : 1) * sizeof *pats);
        if (!pats) st = PARAPET_ERR_NOMEM;
    }
    if (st == PARAPET_OK) {
        for (size_t i = 0; i < lx->n; i++) {
            pats[i].bytes = lx->e[i].bytes;
            pats[i].len = lx->e[i].len;
            pats[i].id = (uint32_t)i;
        }
        st = pp_ac_build(pats, lx->n, &lx->ac);
        if (st == PARAPET_ERR_ARG) {
            st = PARAPET_ERR_LEXICON;
            if (detail) *detail = pp_asprintf("lexicon too large for the matcher");
        }
    }
    pp_free(pats);
    if (st == PARAPET_OK) {
        lx->hot = pp_malloc((lx->n ? lx->n : 1) * sizeof *lx->hot);
        if (!lx->hot) st = PARAPET_ERR_NOMEM;
        for (size_t i = 0; lx->hot && i < lx->n; i++) {
            lx->hot[i].len = lx->e[i].len;
            lx->hot[i].cat = lx->e[i].cat;
            lx->hot[i].bounds = lx->e[i].bounds;
            lx->hot[i].runs = lx->e[i].runs != NULL;
        }
    }
    pp_free(lx->tab);
    lx->tab = NULL;
    lx->tab_cap = 0;
    if (st != PARAPET_OK) {
        pp_lexicon_free(lx);
        return st;
    }
    *out = lx;
    return PARAPET_OK;
}

size_t pp_lexicon_patterns(const pp_lexicon *lx) { return lx->n; }
size_t pp_lexicon_states(const pp_lexicon *lx) { return pp_ac_states(lx->ac); }

/* -------------------------------------------------------------------- scan */

/* ASCII word bytes of the fold view (letters, digits, '*'), as pp_fold_is_word_byte. */
#define LX_W8(c) (((unsigned)(((c) | 0x20) - 'a') < 26u || (unsigned)((c) - '0') < 10u || (c) == '*'))
#define LX_W8x8(c) LX_W8(c), LX_W8(c + 1), LX_W8(c + 2), LX_W8(c + 3), LX_W8(c + 4), \
                   LX_W8(c + 5), LX_W8(c + 6), LX_W8(c + 7)
static const uint8_t lx_ascii_word[128] = {
    LX_W8x8(0),  LX_W8x8(8),  LX_W8x8(16), LX_W8x8(24), LX_W8x8(32),  LX_W8x8(40),
    LX_W8x8(48), LX_W8x8(56), LX_W8x8(64), LX_W8x8(72), LX_W8x8(80),  LX_W8x8(88),
    LX_W8x8(96), LX_W8x8(104), LX_W8x8(112), LX_W8x8(120),
};

/* Is fold-view byte i inside a word?  pp_fold_is_word_byte with the ASCII case inline. */
static inline int view_word(const pp_view *v, size_t i) {
    unsigned char c = (unsigned char)v->s[i];
    if (c < 0x80) return lx_ascii_word[c];
    return pp_fold_is_word_byte(v->s, v->n, i);
}

typedef struct lx_span {
    uint32_t start, end, id;
} lx_span;

/* A growable list that starts in caller-provided storage. */
typedef struct lx_list {
    lx_span *p;
    size_t n, cap;
    int heap;
} lx_list;

/* Doubles l's storage (moving it to the heap the first time).  -1 on NOMEM, l intact. */
static int list_grow(lx_list *l) {
    size_t cap = l->cap * 2;
    lx_span *q;
    if (l->heap) {
        q = pp_realloc(l->p, cap * sizeof *q);
    } else {
        q = pp_malloc(cap * sizeof *q);
        if (q) memcpy(q, l->p, l->n * sizeof *q);
    }
    if (!q) return -1;
    l->p = q;
    l->cap = cap;
    l->heap = 1;
    return 0;
}

static inline int list_push(lx_list *l, uint32_t start, uint32_t end, uint32_t id) {
    if (l->n == l->cap && list_grow(l)) return -1;
    l->p[l->n].start = start;
    l->p[l->n].end = end;
    l->p[l->n].id = id;
    l->n++;
    return 0;
}

typedef struct lx_ctx {
    const pp_lexicon *lx;
    const pp_view *v;
    lx_list cand, allow;
} lx_ctx;

#define LX_ONES 0x0101010101010101ull

/* The mask of the first k (< 8) bytes of a word loaded from memory with memcpy. */
static inline uint64_t lx_first_bytes(unsigned k) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return k ? ~0ull << (64 - 8 * k) : 0;
#else
    return (1ull << (8 * k)) - 1;
#endif
}

/* The transforms of the fold bytes [a, b) (pp_view_xf), four entries at a time: the
** view has PP_VIEW_SLACK entries past its end, and those past b are masked off. */
static inline unsigned lx_view_xf(const pp_view *v, size_t a, size_t b) {
    uint64_t acc = 0;
    for (; a < b; a += 4) {
        uint64_t x;
        memcpy(&x, v->xf + a, 8);
        if (b - a < 4) x &= lx_first_bytes(2 * (unsigned)(b - a));
        acc |= x;
    }
    acc |= acc >> 32;
    return (unsigned)((acc | (acc >> 16)) & 0xFFFF);
}

/* Automaton callback: boundary and run checks, then sort into allow / candidates. */
static int on_match(void *ctx_, uint32_t start, uint32_t end, uint32_t id) {
    lx_ctx *c = ctx_;
    const lx_hot *e = &c->lx->hot[id];
    const pp_view *v = c->v;
    if ((e->bounds & LX_LEFT) && start > 0 && view_word(v, start - 1)) return 0;
    if ((e->bounds & LX_RIGHT) && end < v->n && view_word(v, end)) return 0;
    if (v->run) {
        /* Runs: the text's run must equal the term's, or be an elongation (3+) at
        ** least as long.  text.h's rule is "text run >= term run"; we also refuse a
        ** doubled letter where the term has a single one, because in the languages
        ** we cover a double letter is a different spelling, not an obfuscation:
        ** "rappers" is not "rape"+rs, "cocked" ... while "fuuuck" still matches. */
        const uint8_t *tr = v->run + start;
        if (!e->runs && e->len <= 8) {
            /* want 1: 1 or 3+, so no byte 0 or 2; eight at a time (the view has
            ** PP_VIEW_SLACK entries past its end), bytes past the term set to 1 */
            uint64_t x;
            memcpy(&x, tr, 8);
            uint64_t keep = e->len == 8 ? ~0ull : lx_first_bytes(e->len);
            x = (x & keep) | (LX_ONES & ~keep);
            if (pp_zero_bytes(x) | pp_zero_bytes(x ^ (LX_ONES * 2))) return 0;
        } else if (!e->runs) {
            for (uint32_t i = 0; i < e->len; i++)
                if (tr[i] != 1 && tr[i] < 3) return 0; /* want 1: 1 or 3+ */
        } else {
            const uint8_t *er = c->lx->e[id].runs;
            for (uint32_t i = 0; i < e->len; i++) {
                unsigned want = er[i], have = tr[i];
                if (have != want && (have < want || have < 3)) return 0;
            }
        }
    }
    lx_list *l = e->cat == LX_ALLOW ? &c->allow : &c->cand;
    return list_push(l, start, end, id) ? 1 : 0;
}

/* Raw matches are sorted by end, longer first at one end, then by descending id (the
** order a single automaton pass would give).  The matcher reports them in another
** order (four interleaved streams: see list_sort). */
static int span_before(const lx_span *a, const lx_span *b) {
    if (a->end != b->end) return a->end < b->end;
    if (a->start != b->start) return a->start < b->start;
    return a->id > b->id;
}

static int span_cmp(const void *a, const void *b) {
    return span_before(a, b) ? -1 : span_before(b, a) ? 1 : 0;
}

/* Insertion sort of p[a..e). */
static void span_isort(lx_span *p, size_t a, size_t e) {
    for (size_t i = a + 1; i < e; i++) {
        lx_span x = p[i];
        size_t j = i;
        while (j > a && span_before(&x, &p[j - 1])) {
            p[j] = p[j - 1];
            j--;
        }
        p[j] = x;
    }
}

/* The end of the run of p[a..n) in order (span_before never says a later one goes
** first). */
static size_t run_end(const lx_span *p, size_t a, size_t n) {
    size_t k = a + 1;
    while (k < n && !span_before(&p[k], &p[k - 1])) k++;
    return k;
}

/* Sorts l (matches of a text of text_n bytes).  The automaton's four streams
** (ahocorasick.c) each report the matches of their quarter of the text in order of
** end, round-robin with the others, and after them the few that cross into the next
** quarter.  So a stable partition by the quarter of the end leaves a few long runs
** in order in each quarter, which a natural merge sort (merging the runs it finds,
** pairwise, until one is left) puts in order in a few linear passes; the same sort
** is correct, only slower, on any other order. */
static void list_sort(lx_list *l, size_t text_n) {
    size_t n = l->n;
    size_t k = run_end(l->p, 0, n);
    if (k >= n) return; /* already in order (one stream, or matches far apart) */
    if (n <= 32) {
        span_isort(l->p, 0, n);
        return;
    }
    lx_span *tmp = pp_malloc(n * sizeof *tmp);
    if (!tmp) {
        qsort(l->p, n, sizeof *l->p, span_cmp);
        return;
    }
    lx_span *src = l->p, *dst = tmp;
    const size_t q = text_n / 4;
    if (q) { /* the partition, into dst */
        size_t at[5] = {0};
        for (size_t i = 0; i < n; i++) {
            size_t b = src[i].end ? (src[i].end - 1) / q : 0;
            at[(b < 3 ? b : 3) + 1]++;
        }
        for (int b = 1; b < 5; b++) at[b] += at[b - 1];
        for (size_t i = 0; i < n; i++) {
            size_t b = src[i].end ? (src[i].end - 1) / q : 0;
            dst[at[b < 3 ? b : 3]++] = src[i];
        }
        src = tmp;
        dst = l->p;
    }
    while (run_end(src, 0, n) < n) { /* merge each two runs in a row into one */
        size_t o = 0;
        while (o < n) {
            size_t am = run_end(src, o, n), bm = am < n ? run_end(src, am, n) : n;
            size_t i = o, j = am;
            while (i < am && j < bm) dst[o++] = span_before(&src[j], &src[i]) ? src[j++] : src[i++];
            while (i < am) dst[o++] = src[i++];
            while (j < bm) dst[o++] = src[j++];
        }
        lx_span *x = src;
        src = dst;
        dst = x;
    }
    if (src != l->p) memcpy(l->p, src, n * sizeof *src);
    pp_free(tmp);
}

/* Is [s,e) inside an allow-list match?  allow is ordered by end. */
static int allowed(const lx_ctx *c, uint32_t s, uint32_t e) {
    const lx_list *a = &c->allow;
    /* first allow span with end >= e */
    size_t lo = 0, hi = a->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (a->p[mid].end < e) lo = mid + 1;
        else hi = mid;
    }
    for (size_t i = lo; i < a->n; i++) {
        if (a->p[i].end > (uint64_t)e + c->lx->max_allow) break;
        if (a->p[i].start <= s) return 1;
    }
    return 0;
}

/* --------------------------------------------------------------- targeting */

/* An insult aimed at the reader ("you are an idiot", "du Idiot", "ты тупой урод",
** "你这个傻逼") is harassment even when the word alone ("idiot!", "I felt like an
** idiot") is not.  Around each targetable hit we walk the fold view word by word:
** backwards over at most LX_TARGET_GAP "link" words (copulas, articles, intensifiers:
** "are", "a", "such", "bist", "ein") or other lexicon hits ("fucking", "тупой") to
** an "address" word ("you", "du", "ты"); or forwards from the insult straight to an
** address word that ends the clause or is followed by a link ("what an idiot you
** are", "Idiot du!", but not "the idiot you hired").  Any other word, or sentence
** punctuation, breaks the chain: "you know, the idiot box" and "are you kidding"
** stay unaimed.  Words are compared as whole fold-view words (apostrophes inside
** them kept: "you're", "t'es"); in scripts written without spaces (Han, kana) a
** run is split by trying the listed words, up to four characters, at its end.
** This only runs for candidate insults, which are rare, so it may be simple. */


/* Length of an apostrophe ("'" or U+2019) ending at v->s[pos-1], else 0. */
static size_t apos_before(const pp_view *v, size_t pos) {
    if (pos >= 1 && v->s[pos - 1] == '\'') return 1;
    if (pos >= 3 && !memcmp(v->s + pos - 3, "\xE2\x80\x99", 3)) return 3;
    return 0;
}

/* Sentence punctuation ending at pos (exclusive) breaks a targeting chain. */
static int stop_before(const pp_view *v, size_t pos) {
    unsigned char c = (unsigned char)v->s[pos - 1];
    if (c < 0x80) return strchr(".!?;:\n\r()[]\"", c) != NULL && c;
    return pos >= 3 && (!memcmp(v->s + pos - 3, "\xE3\x80\x82", 3) ||  /* 。 */
                        !memcmp(v->s + pos - 3, "\xEF\xBC\x81", 3) ||  /* ！ */
                        !memcmp(v->s + pos - 3, "\xEF\xBC\x9F", 3));   /* ？ */
}

/* Start of the word that ends at pos (pos > 0, v->s[pos-1] a word byte), keeping
** apostrophes between word bytes. */
static size_t word_start(const pp_view *v, size_t pos) {
    for (;;) {
        while (pos > 0 && view_word(v, pos - 1)) pos--;
        size_t a = apos_before(v, pos);
        if (!a || pos < a + 1 || !view_word(v, pos - a - 1)) return pos;
        pos -= a;
    }
}

/* Kind of the fold-view word [a,b), with U+2019 read as an apostrophe. */
static unsigned token_kind(const pp_lexicon *lx, const pp_view *v, size_t a, size_t b) {
    if (a >= b) return 0;
    /* Most words here are no targeting word: answer those from the first byte and the
    ** possible lengths (b-a bytes, or down to a third when every character is a
    ** 3-byte U+2019) before copying anything.  Without a U+2019 the word is looked up
    ** in place. */
    const char *p = v->s + a;
    size_t span = b - a;
    int curly = 0;
    for (size_t i = 0; i < span; i++) curly |= p[i] == '\xE2';
    unsigned char f = (unsigned char)p[0], l = (unsigned char)p[span - 1];
    if (curly && span >= 3 && !memcmp(p, "\xE2\x80\x99", 3)) f = '\'';
    if (curly && span >= 3 && !memcmp(p + span - 3, "\xE2\x80\x99", 3)) l = '\'';
    size_t lo = curly ? (span + 2) / 3 : span, hi = span < LX_WORD_MAX ? span : LX_WORD_MAX;
    if (lo > hi) return 0;
    uint64_t lens = (lx->wlen[f] & lx->wend[l]) >> (lo - 1);
    if (hi - lo + 1 < 64) lens &= (1ull << (hi - lo + 1)) - 1;
    if (!lens) return 0;
    if (!curly) return word_kind(lx, p, span);
    char buf[LX_WORD_MAX];
    size_t n = 0;
    for (size_t i = a; i < b; i++) {
        if (n == sizeof buf) return 0;
        if (i + 3 <= b && !memcmp(v->s + i, "\xE2\x80\x99", 3)) {
            buf[n++] = '\'';
            i += 2;
        } else {
            buf[n++] = v->s[i];
        }
    }
    return word_kind(lx, buf, n);
}

/* Is the character that ends (or, with fwd, starts) at pos in an unspaced script?
** *cstart / *cend get its bounds. */
static int unspaced_at(const pp_view *v, size_t pos, int fwd, size_t *cb) {
    size_t j = pos;
    if (fwd) {
        if (j >= v->n) return 0;
    } else {
        if (!j) return 0;
        j--;
        while (j > 0 && pos - j < 4 && ((unsigned char)v->s[j] & 0xC0) == 0x80) j--;
    }
    uint32_t cp;
    size_t k = pp_utf8_decode(v->s + j, v->n - j, &cp);
    if (!k) return 0;
    *cb = fwd ? j + k : j;
    return pp_script_unspaced(pp_script_of(cp));
}

/* In an unspaced run, the longest listed word of up to four characters that ends
** (fwd: starts) at pos and stays inside [lo,hi); returns its kind and sets *other to
** its other end. */
static unsigned unspaced_word(const pp_lexicon *lx, const pp_view *v, size_t pos, int fwd,
                              size_t lo, size_t hi, size_t *other) {
    unsigned best = 0;
    size_t q = pos;
    for (int k = 0; k < 4; k++) {
        size_t nq;
        if (!unspaced_at(v, q, fwd, &nq) || (fwd ? nq > hi : nq < lo)) break;
        q = nq;
        unsigned kind = fwd ? token_kind(lx, v, pos, q) : token_kind(lx, v, q, pos);
        if (kind) {
            best = kind;
            *other = q;
        }
    }
    return best;
}

/* The accepted hit lying inside [a,b) that ends last (the first such in acc's order
** when several end there), or NULL.  acc is ordered by end and every span is
** non-empty, so a binary search finds the last span ending by b and a walk back stops
** at the first span ending by a: O(log n + spans in the word), which keeps long texts
** with many insults linear. */
static const lx_span *hit_inside(const lx_list *acc, size_t a, size_t b) {
    size_t lo = 0, hi = acc->n;
    while (lo < hi) { /* first span with end > b */
        size_t mid = (lo + hi) / 2;
        if (acc->p[mid].end <= b) lo = mid + 1;
        else hi = mid;
    }
    const lx_span *best = NULL;
    for (size_t i = lo; i-- > 0;) {
        const lx_span *h = &acc->p[i];
        if (h->end <= a || (best && h->end != best->end)) break;
        if (h->start >= a) best = h;
    }
    return best;
}

/* Walks back from pos (the insult's start) towards an address word.  Returns 0 when
** the insult is not aimed at the reader, 1 when it is, 2 when it is and a profanity
** lies on the way ("you fucking idiot"). */
static int target_back(const pp_lexicon *lx, const pp_view *v, const lx_list *acc,
                       size_t pos) {
    int prof = 0;
    for (int tok = 0; tok <= LX_TARGET_GAP; tok++) {
        while (pos > 0 && !view_word(v, pos - 1)) {
            if (stop_before(v, pos)) return 0;
            pos--;
        }
        if (!pos) return 0;
        size_t ws = word_start(v, pos), cb = 0;
        unsigned k = token_kind(lx, v, ws, pos);
        if (k & LX_W_ADDRESS) return 1 + prof;
        if (k & LX_W_LINK) {
            pos = ws;
            continue;
        }
        int unspaced = unspaced_at(v, pos, 0, &cb);
        const lx_span *h = hit_inside(acc, ws, pos);
        if (h && (!unspaced || h->end == pos)) {
            prof |= lx->e[h->id].cat == lx->cat_prof;
            pos = unspaced ? h->start : ws;
            continue;
        }
        if (unspaced && (k = unspaced_word(lx, v, pos, 0, ws, pos, &cb))) {
            if (k & LX_W_ADDRESS) return 1 + prof;
            pos = cb;
            continue;
        }
        return 0;
    }
    return 0;
}

/* From the insult's end: an address word right after it ("Idiot du!", "what an idiot
** you are", "傻逼你") that ends the clause or is followed by a link word. */
static int target_fwd(const pp_lexicon *lx, const pp_view *v, size_t pos) {
    size_t cb = 0, after = 0;
    if (unspaced_at(v, pos, 1, &cb)) {
        if (!(unspaced_word(lx, v, pos, 1, pos, v->n, &after) & LX_W_ADDRESS)) return 0;
    } else {
        while (pos < v->n && view_word(v, pos)) pos++;
        size_t g = pos;
        while (pos < v->n && v->s[pos] == ' ') pos++;
        if (pos == g || pos >= v->n || !view_word(v, pos)) return 0;
        size_t we = pos;
        while (we < v->n && (view_word(v, we) || (v->s[we] == '\'' && we + 1 < v->n &&
                                                   view_word(v, we + 1))))
            we++;
        if (!(token_kind(lx, v, pos, we) & LX_W_ADDRESS)) return 0;
        after = we;
    }
    while (after < v->n && v->s[after] == ' ') after++;
    if (after >= v->n || v->s[after] == ',' || stop_before(v, after + 1)) return 1;
    if (unspaced_at(v, after, 1, &cb)) {
        size_t o;
        return (unspaced_word(lx, v, after, 1, after, v->n, &o) & LX_W_LINK) ? 1 : 0;
    }
    size_t we = after;
    while (we < v->n && view_word(v, we)) we++;
    return we > after && (token_kind(lx, v, after, we) & LX_W_LINK) ? 1 : 0;
}

pp_status pp_lexicon_scan(const pp_lexicon *lx, pp_scan *s) {
    const pp_view *v = &s->text->fold;
    if (!v->n || !v->s) return PARAPET_OK;
    lx_span cand_buf[64], allow_buf[32], acc_buf[64];
    lx_ctx c = {lx, v, {cand_buf, 0, 64, 0}, {allow_buf, 0, 32, 0}};
    lx_list acc = {acc_buf, 0, 64, 0};
    pp_status st = PARAPET_OK;
    if (pp_ac_scan(lx->ac, v->s, v->n, on_match, &c)) {
        st = PARAPET_ERR_NOMEM;
        goto out;
    }
    if (c.cand.n > 1) list_sort(&c.cand, v->n); /* most texts have none: no call */
    if (c.allow.n > 1) list_sort(&c.allow, v->n);
    for (size_t i = 0; i < c.cand.n; i++) {
        const lx_span *m = &c.cand.p[i];
        const lx_entry *e = &lx->e[m->id];
        if (c.allow.n && allowed(&c, m->start, m->end)) continue;
        /* overlapping match of the same term and category already counted? */
        int dup = 0;
        for (size_t j = acc.n; j-- > 0;) {
            const lx_span *a = &acc.p[j];
            if (a->end <= m->start) break;
            const lx_entry *ae = &lx->e[a->id];
            if (ae->rule == e->rule && ae->cat == e->cat) { dup = 1; break; }
        }
        if (dup) continue;
        if (list_push(&acc, m->start, m->end, m->id)) {
            st = PARAPET_ERR_NOMEM;
            goto out;
        }
    }
    for (size_t i = 0; i < acc.n; i++) {
        const lx_span *m = &acc.p[i];
        const lx_entry *e = &lx->e[m->id];
        float w = e->weight;
        const char *rule = e->rule;
        if (e->target) {
            int t = target_back(lx, v, &acc, m->start);
            if (!t) t = target_fwd(lx, v, m->end);
            if (t) {
                float tw = t == 2 ? LX_TARGET_WEIGHT_PROF : LX_TARGET_WEIGHT;
                if (w < tw) w = tw;
                rule = e->trule;
            } else if (e->target == LX_TGT_ONLY) {
                continue;
            }
        }
        size_t a = m->start, b = m->end, os, oe;
        if (e->extend & LX_RIGHT)
            while (b < v->n && view_word(v, b)) b++;
        if (e->extend & LX_LEFT)
            while (a > 0 && view_word(v, a - 1)) a--;
        pp_view_span(v, a, b, &os, &oe);
        unsigned xf = e->masked ? PARAPET_XF_MASK : 0;
        xf |= lx_view_xf(v, a, b);
        pp_scan_add(s, e->cat, w, os, oe, PP_DET_LEXICON, 0, rule, xf);
    }
    if (s->oom) st = PARAPET_ERR_NOMEM;
out:
    if (c.cand.heap) pp_free(c.cand.p);
    if (c.allow.heap) pp_free(c.allow.p);
    if (acc.heap) pp_free(acc.p);
    return st;
}

/* ------------------------------------------------------------- word lists */

void pp_lexicon_free_wordlist(char **terms, size_t n) {
    if (!terms) return;
    for (size_t i = 0; i < n; i++) pp_free(terms[i]);
    pp_free(terms);
}

pp_status pp_lexicon_read_wordlist(const char *text, size_t len, const char *source,
                                   char ***terms, size_t *n, char **detail) {
    *terms = NULL;
    *n = 0;
    if (detail) *detail = NULL;
    if (!source) source = "word list";
    char **out = NULL;
    size_t cnt = 0, cap = 0, line = 0;
    const char *p = text, *end = text + len;
    if (len >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3)) p += 3;
    while (p < end) {
        line++;
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *s = p;
        size_t k = (size_t)((nl ? nl : end) - p);
        p = nl ? nl + 1 : end;
        if (memchr(s, 0, k) || pp_utf8_validate(s, k) != k) {
            pp_lexicon_free_wordlist(out, cnt);
            if (detail) *detail = pp_asprintf("%s:%zu: invalid UTF-8", source, line);
            return PARAPET_ERR_LEXICON;
        }
        const char *tab = memchr(s, '\t', k);
        if (tab) k = (size_t)(tab - s);
        trim(&s, &k);
        if (!k || s[0] == '#') continue;
        char *t = NULL;
        if (PP_GROW(out, cap, cnt + 1) || !(t = pp_strndup(s, k))) {
            pp_lexicon_free_wordlist(out, cnt);
            return PARAPET_ERR_NOMEM;
        }
        out[cnt++] = t;
    }
    *terms = out;
    *n = cnt;
    return PARAPET_OK;
}

/* ------------------------------------------------------------------ vtable */

#define LX_DIR "data/lexicon/"

static pp_status lexicon_open(const pp_detector_config *cfg, void **self, char **detail) {
    *self = NULL;
    size_t n = 0;
    const pp_blob *all = pp_embedded_all();
    for (const pp_blob *b = all; b && b->name; b++) n++;
    pp_lexicon_source *src = pp_malloc((n ? n : 1) * sizeof *src);
    if (!src) return PARAPET_ERR_NOMEM;
    size_t k = 0, dl = strlen(LX_DIR);
    for (const pp_blob *b = all; b && b->name; b++) {
        size_t nl = strlen(b->name);
        if (nl > dl + 4 && !strncmp(b->name, LX_DIR, dl) && !strcmp(b->name + nl - 4, ".txt")) {
            src[k].name = b->name;
            src[k].text = (const char *)b->data;
            src[k].len = b->len;
            /* English first: when masked variants of two languages' terms coincide
            ** ("f*ck" from "fuck" and German "fick"), the first term names the rule */
            if (!strcmp(b->name + dl, "en.txt") && k) {
                pp_lexicon_source t = src[0];
                src[0] = src[k];
                src[k] = t;
            }
            k++;
        }
    }
    pp_lexicon *lx = NULL;
    pp_status st = pp_lexicon_compile(src, k, cfg ? cfg->extra_terms : NULL,
                                      cfg ? cfg->n_extra_terms : 0, &lx, detail);
    pp_free(src);
    if (st == PARAPET_OK) *self = lx;
    return st;
}

static pp_status lexicon_scan(const void *self, pp_scan *s) {
    return pp_lexicon_scan(self, s);
}

static void lexicon_close(void *self) { pp_lexicon_free(self); }

const pp_detector_vt pp_lexicon_detector = {"lexicon", lexicon_open, lexicon_scan, lexicon_close};
