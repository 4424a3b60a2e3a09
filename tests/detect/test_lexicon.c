/*
** test_lexicon.c -- the lexicon detector: shipped lexicons (positives in every
** language, Scunthorpe-style negatives), the file format and its errors, flags, runs,
** allow-lists, masked variants, extra term lists and the word-list reader.
**
** Tests that need the full fold view (repeated letters, leet, homoglyphs) depend on
** src/text/normalize.c; they say so in their name ("_fold").
*/
#include "test.h"
#include "detect/lexicon.h"

/* ------------------------------------------------------------------ helpers */

typedef struct lx_fixture {
    pp_lexicon *lx;
    pp_text t;
    pp_scan s;
} lx_fixture;

/* Compiles the shipped lexicons (through the vtable) or the given source text. */
static pp_status fx_open(lx_fixture *f, const char *src_text) {
    memset(f, 0, sizeof *f);
    pp_text_init(&f->t);
    char *detail = NULL;
    pp_status st;
    if (!src_text) {
        void *self = NULL;
        st = pp_lexicon_detector.open(NULL, &self, &detail);
        f->lx = self;
    } else {
        pp_lexicon_source src = {"test.txt", src_text, strlen(src_text)};
        st = pp_lexicon_compile(&src, 1, NULL, 0, &f->lx, &detail);
    }
    if (detail) fprintf(stderr, "lexicon: %s\n", detail);
    pp_free(detail);
    return st;
}

static void fx_close(lx_fixture *f) {
    pp_scan_free(&f->s);
    pp_text_free(&f->t);
    pp_lexicon_free(f->lx);
}

/* Normalizes and scans `text`; returns 0 on success. */
static int fx_scan(lx_fixture *f, const char *text) {
    if (pp_text_normalize(&f->t, text, strlen(text), PP_NORM_REPLACE_INVALID, NULL)) return -1;
    pp_scan_free(&f->s); /* NULL-safe on the zeroed fixture */
    pp_scan_init(&f->s, &f->t);
    return pp_lexicon_scan(f->lx, &f->s) ? -1 : 0;
}

static float fx_max(const lx_fixture *f) {
    float m = 0;
    for (int c = 0; c < PP_MAX_CATS; c++) m = f->s.scores[c] > m ? f->s.scores[c] : m;
    return m;
}

static int cat(const char *name) { return pp_category_id(name); }

/* ------------------------------------------------------------ shipped lists */

TEST(lexicon_shipped_compiles) {
    lx_fixture f;
    CHECK_OK(fx_open(&f, NULL));
    CHECK(pp_lexicon_patterns(f.lx) > 2000);
    CHECK(pp_lexicon_states(f.lx) > 1000);
    /* every language file must be embedded */
    const char *langs[] = {"en", "de", "fr", "es", "pt", "it", "nl", "ru", "ar", "zh", "ja",
                           "ko", "hi", "tr", "pl"};
    for (size_t i = 0; i < PP_ARRAY_LEN(langs); i++) {
        char name[64];
        snprintf(name, sizeof name, "data/lexicon/%s.txt", langs[i]);
        CHECK_MSG(pp_embedded_find(name) != NULL, "%s not embedded", name);
    }
    fx_close(&f);
}

TEST(lexicon_english_positives) {
    lx_fixture f;
    CHECK_OK(fx_open(&f, NULL));
    CHECK_EQ(fx_scan(&f, "you are a fucking idiot"), 0);
    CHECK(f.s.scores[cat("profanity")] >= 0.5f);
    CHECK(f.s.scores[cat("harassment")] > 0.3f);

    CHECK_EQ(fx_scan(&f, "I will kill you"), 0);
    CHECK(f.s.scores[cat("harassment/threatening")] >= 0.8f);
    CHECK(f.s.scores[cat("violence")] >= 0.5f);

    CHECK_EQ(fx_scan(&f, "i know where you live, watch your back"), 0);
    CHECK(f.s.scores[cat("harassment/threatening")] >= 0.9f);

    CHECK_EQ(fx_scan(&f, "i just want to end my life"), 0);
    CHECK(f.s.scores[cat("self-harm/intent")] >= 0.8f);
    CHECK_EQ(fx_scan(&f, "how to cut myself"), 0);
    CHECK(f.s.scores[cat("self-harm/instructions")] >= 0.8f);

    CHECK_EQ(fx_scan(&f, "where to buy fentanyl"), 0);
    CHECK(f.s.scores[cat("illicit")] >= 0.7f);
    CHECK_EQ(fx_scan(&f, "how to build a pipe bomb"), 0);
    CHECK(f.s.scores[cat("illicit/violent")] >= 0.8f);

    CHECK_EQ(fx_scan(&f, "Congratulations! You have won, click here to claim"), 0);
    CHECK(f.s.scores[cat("spam")] >= 0.8f);
    fx_close(&f);
}

TEST(lexicon_slur_and_mild_calibration) {
    lx_fixture f;
    CHECK_OK(fx_open(&f, NULL));
    /* a single strong word or slur >= 0.5; mild words below */
    CHECK_EQ(fx_scan(&f, "what a faggot"), 0);
    CHECK(f.s.scores[cat("hate")] >= 0.5f);
    CHECK_EQ(fx_scan(&f, "shut up you cunt"), 0);
    CHECK(f.s.scores[cat("profanity")] >= 0.5f);
    const char *mild[] = {"damn it", "this is crap", "what the hell", "bloody rain"};
    for (size_t i = 0; i < PP_ARRAY_LEN(mild); i++) {
        CHECK_EQ(fx_scan(&f, mild[i]), 0);
        CHECK_MSG(f.s.n_hits > 0, "no hit for \"%s\"", mild[i]);
        CHECK_MSG(fx_max(&f) < 0.5f, "\"%s\" scored %g", mild[i], fx_max(&f));
    }
    fx_close(&f);
}

TEST(lexicon_scunthorpe_negatives) {
    lx_fixture f;
    CHECK_OK(fx_open(&f, NULL));
    const char *clean[] = {
        "I live in Scunthorpe", "the assassin's creed", "a cocktail party",
        "how do I kill the process", "let's shoot a photo", "breast cancer screening",
        "run kill -9 on it", "a killer app", "the drug store on main street",
        "apply for a gun licence", "shiitake mushrooms", "a classic passage",
        "my therapist helped", "statistical analysis", "grape juice and rapeseed oil",
        "magna cum laude", "homo sapiens", "shoot me an email", "suicide prevention week",
        "Moby Dick", "Al Gore spoke", "the embassy", "assess the risk", "a peacock",
        "Middlesex and Essex", "flame retardant", "a bath bomb", "the Niger river",
        "Hello there", "twitter rappers", "document analysis for class", "a cockpit", "we need to assess",
    };
    for (size_t i = 0; i < PP_ARRAY_LEN(clean); i++) {
        CHECK_EQ(fx_scan(&f, clean[i]), 0);
        CHECK_MSG(f.s.n_hits == 0, "\"%s\": %zu hits, first rule \"%s\"", clean[i],
                  f.s.n_hits, f.s.hits[0].rule);
    }
    fx_close(&f);
}

TEST(lexicon_masked_variants) {
    lx_fixture f;
    CHECK_OK(fx_open(&f, NULL));
    const char *masked[] = {"f*cking hell", "what the f**k", "sh*t happens", "you b*tch"};
    for (size_t i = 0; i < PP_ARRAY_LEN(masked); i++) {
        CHECK_EQ(fx_scan(&f, masked[i]), 0);
        CHECK_MSG(f.s.scores[cat("profanity")] >= 0.5f, "\"%s\" profanity %g", masked[i],
                  f.s.scores[cat("profanity")]);
        int has_mask = 0;
        for (size_t h = 0; h < f.s.n_hits; h++) has_mask |= !!(f.s.hits[h].transforms & PARAPET_XF_MASK);
        CHECK_MSG(has_mask, "\"%s\": no hit with XF_MASK", masked[i]);
    }
    /* an unmasked hit does not claim the mask transform */
    CHECK_EQ(fx_scan(&f, "fuck"), 0);
    CHECK_EQ(f.s.n_hits, 1);
    CHECK(!(f.s.hits[0].transforms & PARAPET_XF_MASK));
    fx_close(&f);
}

TEST(lexicon_span_and_rule) {
    lx_fixture f;
    CHECK_OK(fx_open(&f, NULL));
    const char *text = "You are a FUCKING disgrace";
    CHECK_EQ(fx_scan(&f, text), 0);
    CHECK_EQ(f.s.n_hits, 1);
    CHECK_STR(f.s.hits[0].rule, "fuck");
    CHECK_EQ(f.s.hits[0].start, 10);
    /* a prefix term's span is widened to the whole word: "FUCKING" */
    CHECK_EQ(f.s.hits[0].end, 17);
    CHECK_EQ(f.s.hits[0].detector, PP_DET_LEXICON);
    fx_close(&f);
}

TEST(lexicon_languages) {
    lx_fixture f;
    CHECK_OK(fx_open(&f, NULL));
    struct { const char *text, *cat; float min; } cases[] = {
        {"du bist ein arschloch", "profanity", 0.6f},
        {"ich bring dich um", "harassment/threatening", 0.8f},
        {"ferme ta gueule connard", "harassment", 0.6f},
        {"je veux mourir", "self-harm/intent", 0.7f},
        {"eres un pendejo", "profanity", 0.5f},
        {"te voy a matar", "harassment/threatening", 0.8f},
        {"vai se foder", "harassment", 0.6f},
        {"quero morrer", "self-harm/intent", 0.7f},
        {"vaffanculo stronzo", "profanity", 0.6f},
        {"jij klootzak", "profanity", 0.6f},
        {"ik vermoord je", "harassment/threatening", 0.8f},
        {"ты сука", "profanity", 0.6f},
        {"я тебя убью", "harassment/threatening", 0.8f},
        {"سأقتلك", "harassment/threatening", 0.8f},
        {"اريد ان اموت", "self-harm/intent", 0.7f},
        {"你他妈的是谁", "profanity", 0.5f},
        {"我想死", "self-harm/intent", 0.7f},
        {"お前を殺す", "harassment/threatening", 0.8f},
        {"もう死にたい", "self-harm/intent", 0.7f},
        {"씨발 뭐야", "profanity", 0.7f},
        {"죽고 싶다", "self-harm/intent", 0.7f},
        {"तुम चूतिया हो", "profanity", 0.7f},
        {"tu chutiya hai", "profanity", 0.7f},
        {"siktir git", "harassment", 0.6f},
        {"kurwa mać", "profanity", 0.6f},
        {"zabiję cię", "harassment/threatening", 0.8f},
    };
    for (size_t i = 0; i < PP_ARRAY_LEN(cases); i++) {
        CHECK_EQ(fx_scan(&f, cases[i].text), 0);
        float sc = f.s.scores[cat(cases[i].cat)];
        CHECK_MSG(sc >= cases[i].min, "\"%s\": %s %g < %g", cases[i].text, cases[i].cat, sc,
                  cases[i].min);
    }
    const char *clean[] = {"ich habe Schimmel im Keller", "시발점으로 돌아가자", "妈妈的书",
                           "una computadora nueva", "ein spastischer Anfall", "他在做自杀预防工作",
                           "страхуй машину", "バカンスに行く"};
    for (size_t i = 0; i < PP_ARRAY_LEN(clean); i++) {
        CHECK_EQ(fx_scan(&f, clean[i]), 0);
        CHECK_MSG(f.s.n_hits == 0, "\"%s\": %zu hits, first rule \"%s\"", clean[i],
                  f.s.n_hits, f.s.hits[0].rule);
    }
    fx_close(&f);
}

/* Needs the full normalizer: repeated letters, leet, separators, homoglyphs. */
TEST(lexicon_obfuscations_fold) {
    lx_fixture f;
    CHECK_OK(fx_open(&f, NULL));
    const char *texts[] = {"fuuuuck", "FUUUCK YOU", "sh1t", "f.u.c.k", "ѕhit"};
    for (size_t i = 0; i < PP_ARRAY_LEN(texts); i++) {
        CHECK_EQ(fx_scan(&f, texts[i]), 0);
        CHECK_MSG(f.s.scores[cat("profanity")] >= 0.5f, "\"%s\" profanity %g", texts[i],
                  f.s.scores[cat("profanity")]);
    }
    fx_close(&f);
}

/* ------------------------------------------------------------- format/flags */

TEST(lexicon_flags) {
    lx_fixture f;
    CHECK_OK(fx_open(&f, "# flags\n"
                         "fuck\tprofanity\t0.7\tp\n"
                         "head\tharassment\t0.4\ts\n"
                         "zap\tspam\t0.5\tx\n"
                         "word\thate\t0.6\tw\n"
                         "\n"
                         "bare\thate\t0.6\n"));
    struct { const char *text; int hits; } cases[] = {
        {"fucking", 1}, {"motherfucking", 0}, {"fuck", 1},
        {"dickhead", 1}, {"headache", 0}, {"head", 1},
        {"rezaping", 1}, {"rezapped", 0 /* doubled p: another spelling */}, {"zap", 1},
        {"word", 1}, {"words", 0}, {"sword", 0}, {"a word!", 1},
        {"bare", 1}, {"barely", 0},
    };
    for (size_t i = 0; i < PP_ARRAY_LEN(cases); i++) {
        CHECK_EQ(fx_scan(&f, cases[i].text), 0);
        CHECK_MSG((int)f.s.n_hits == cases[i].hits, "\"%s\": %zu hits, want %d", cases[i].text,
                  f.s.n_hits, cases[i].hits);
    }
    fx_close(&f);
}

TEST(lexicon_allow_list_spans) {
    lx_fixture f;
    CHECK_OK(fx_open(&f, "kill\tviolence\t0.3\tp\n"
                         "kill the process\tallow\n"
                         "cunt\tprofanity\t0.8\tx\n"
                         "scunthorpe\tallow\n"));
    CHECK_EQ(fx_scan(&f, "please kill the process now"), 0);
    CHECK_EQ(f.s.n_hits, 0);
    CHECK_EQ(fx_scan(&f, "kill him"), 0);
    CHECK_EQ(f.s.n_hits, 1);
    CHECK_NEAR(f.s.scores[cat("violence")], 0.3, 1e-6);
    /* the allow span only hides what lies inside it */
    CHECK_EQ(fx_scan(&f, "scunthorpe cunt"), 0);
    CHECK_EQ(f.s.n_hits, 1);
    CHECK_EQ(f.s.hits[0].start, 11);
    CHECK_EQ(fx_scan(&f, "Scunthorpe"), 0);
    CHECK_EQ(f.s.n_hits, 0);
    fx_close(&f);
}

TEST(lexicon_overlap_counts_once) {
    lx_fixture f;
    CHECK_OK(fx_open(&f, "lol\tspam\t0.5\tx\n"
                         "lol\tprofanity\t0.2\tx\n"));
    CHECK_EQ(fx_scan(&f, "xlolox"), 0); /* "lol" at 1..4 only */
    CHECK_EQ(f.s.n_hits, 2);           /* once per category */
    CHECK_EQ(fx_scan(&f, "lolol"), 0);  /* overlapping 0..3 and 2..5: once each */
    CHECK_EQ(f.s.n_hits, 2);
    CHECK_NEAR(f.s.scores[cat("spam")], 0.5, 1e-6);
    CHECK_EQ(fx_scan(&f, "lol and lol"), 0); /* not overlapping: both count */
    CHECK_NEAR(f.s.scores[cat("spam")], 0.75, 1e-6);
    /* 40 bytes: the matcher scans it as four interleaved segments (10 bytes each) and
    ** reports out of order; "lolol" straddles the cut at 10 and still counts once */
    CHECK_EQ(fx_scan(&f, "aaaaaaa lolol bbbbbbbbbbbbbbbbbbbbbbbbbb"), 0);
    CHECK_EQ(f.s.n_hits, 2);
    CHECK_NEAR(f.s.scores[cat("spam")], 0.5, 1e-6);
    fx_close(&f);
}

/* Long texts full of overlapping matches, shifted by 0..7 leading spaces: the
** matcher cuts the text into four streams at other places each time (and reports the
** raw matches in another order), but the hits -- spans, rules, scores, and which of
** two overlapping matches of one term counts -- are the same, shifted. */
TEST(lexicon_hits_do_not_depend_on_stream_cuts) {
    lx_fixture f;
    CHECK_OK(fx_open(&f, "lol\tspam\t0.5\tx\n"
                         "lolo\tprofanity\t0.3\tx\n"
                         "ol\tspam\t0.1\tx\n"
                         "lo lo\tspam\t0.2\n"
                         "ollo\tallow\n"));
    static char text[3000 + 8];
    unsigned long long r = 7;
    for (int round = 0; round < 8; round++) {
        size_t n = 200 + (size_t)(pt_xorshift(&r) % 2700);
        for (size_t i = 0; i < n; i++) text[8 + i] = "lo lo"[pt_xorshift(&r) % 5];
        pp_hit *ref = NULL;
        size_t n_ref = 0;
        for (size_t shift = 0; shift < 8; shift++) {
            char *t = text + 8 - shift;
            memset(t, ' ', shift);
            t[shift + n] = 0;
            CHECK_EQ(fx_scan(&f, t), 0);
            if (!shift) {
                CHECK(f.s.n_hits > 10);
                n_ref = f.s.n_hits;
                ref = pp_malloc(n_ref * sizeof *ref);
                CHECK(ref != NULL);
                memcpy(ref, f.s.hits, n_ref * sizeof *ref);
                continue;
            }
            CHECK_EQ(f.s.n_hits, n_ref);
            for (size_t h = 0; h < n_ref && h < f.s.n_hits; h++) {
                const pp_hit *a = &ref[h], *b = &f.s.hits[h];
                if (a->start + shift != b->start || a->end + shift != b->end || a->cat != b->cat ||
                    strcmp(a->rule, b->rule) || a->score != b->score) {
                    CHECK(!"hit differs");
                    break;
                }
            }
        }
        pp_free(ref);
    }
    fx_close(&f);
}

TEST(lexicon_multi_category_term) {
    lx_fixture f;
    CHECK_OK(fx_open(&f, "i will hurt you\tharassment/threatening\t0.8\n"
                         "i will hurt you\tviolence\t0.6\n"));
    CHECK_EQ(fx_scan(&f, "I WILL hurt you"), 0);
    CHECK_EQ(f.s.n_hits, 2);
    CHECK_NEAR(f.s.scores[cat("harassment/threatening")], 0.8, 1e-6);
    CHECK_NEAR(f.s.scores[cat("violence")], 0.6, 1e-6);
    fx_close(&f);
}

/* Runs: "ass" needs a double s in the text. */
TEST(lexicon_runs_fold) {
    lx_fixture f;
    CHECK_OK(fx_open(&f, "ass\tprofanity\t0.5\n"));
    CHECK_EQ(fx_scan(&f, "as"), 0);
    CHECK_EQ(f.s.n_hits, 0);
    CHECK_EQ(fx_scan(&f, "ass"), 0);
    CHECK_EQ(f.s.n_hits, 1);
    CHECK_EQ(fx_scan(&f, "asssss"), 0);
    CHECK_EQ(f.s.n_hits, 1);
    CHECK_EQ(f.s.hits[0].start, 0);
    CHECK_EQ(f.s.hits[0].end, 6);
    fx_close(&f);
}

static void expect_error(const char *src, const char *where) {
    pp_lexicon *lx = NULL;
    char *detail = NULL;
    pp_lexicon_source s = {"bad.txt", src, strlen(src)};
    pp_status st = pp_lexicon_compile(&s, 1, NULL, 0, &lx, &detail);
    int ok = st == PARAPET_ERR_LEXICON && lx == NULL && detail && strstr(detail, where);
    if (!ok)
        pt_fail(__FILE__, __LINE__, "source %s: status %d detail \"%s\", want \"%s\"", src,
                (int)st, detail ? detail : "(null)", where);
    pp_free(detail);
    pp_lexicon_free(lx);
}

TEST(lexicon_malformed_lines) {
    expect_error("ok\tprofanity\t0.5\nbad\tnosuchcat\t0.5\n", "bad.txt:2: unknown category");
    expect_error("a\tprofanity\t0\n", "bad.txt:1: weight");
    expect_error("a\tprofanity\t1.5\n", "bad.txt:1: weight");
    expect_error("a\tprofanity\tabc\n", "bad.txt:1: weight");
    expect_error("# c\n\na\tprofanity\n", "bad.txt:3: missing weight");
    expect_error("a\tprofanity\t0.5\tq\n", "bad.txt:1: flags");
    expect_error("a\tprofanity\t0.5\tw\textra\n", "bad.txt:1: too many fields");
    expect_error("just a term\n", "bad.txt:1: expected");
    expect_error("\tprofanity\t0.5\n", "bad.txt:1: empty term");
    expect_error("ok\tspam\t0.5\r\nb\xff\tspam\t0.5\n", "bad.txt:2: invalid UTF-8");
    CHECK(!pt_failed());
    /* CRLF, BOM, comments and allow without weight are fine */
    pp_lexicon *lx = NULL;
    const char *good = "\xEF\xBB\xBF# c\r\nfoo\tspam\t0.5\r\nfoo bar\tallow\r\n";
    pp_lexicon_source s = {"good.txt", good, strlen(good)};
    CHECK_OK(pp_lexicon_compile(&s, 1, NULL, 0, &lx, NULL));
    pp_lexicon_free(lx);
}

/* ---------------------------------------------------------------- extra terms */

TEST(lexicon_extra_terms) {
    const char *terms[] = {"frobnicate", "  zorg  ", "星球大战"};
    pp_term_list tl = {40, terms, 3, 0.9f, "policy"};
    pp_lexicon *lx = NULL;
    CHECK_OK(pp_lexicon_compile(NULL, 0, &tl, 1, &lx, NULL));
    lx_fixture f;
    memset(&f, 0, sizeof f);
    pp_text_init(&f.t);
    f.lx = lx;
    CHECK_EQ(fx_scan(&f, "do not FROBNICATE the zorg"), 0);
    CHECK_EQ(f.s.n_hits, 2);
    CHECK_NEAR(f.s.scores[40], 0.99, 1e-5);
    CHECK_STR(f.s.hits[1].rule, "zorg");
    CHECK_EQ(fx_scan(&f, "zorgs are frobnicated"), 0); /* default w */
    CHECK_EQ(f.s.n_hits, 0);
    CHECK_EQ(fx_scan(&f, "fr*bnicate"), 0); /* masked variant */
    CHECK_EQ(f.s.n_hits, 1);
    CHECK(f.s.hits[0].transforms & PARAPET_XF_MASK);
    CHECK_EQ(fx_scan(&f, "我喜欢星球大战电影"), 0); /* explicitly x-tagged by script */
    fx_close(&f);

    const char *bad[] = {"fine", ""};
    pp_term_list tb = {40, bad, 2, 0.5f, "mylist.txt"};
    char *detail = NULL;
    CHECK_EQ(pp_lexicon_compile(NULL, 0, &tb, 1, &lx, &detail), PARAPET_ERR_LEXICON);
    CHECK(detail && strstr(detail, "mylist.txt: term 2"));
    pp_free(detail);
    pp_term_list tw = {3, terms, 1, 0.0f, "w"};
    CHECK_EQ(pp_lexicon_compile(NULL, 0, &tw, 1, &lx, NULL), PARAPET_ERR_LEXICON);
    pp_term_list tc = {PP_MAX_CATS, terms, 1, 0.5f, "c"};
    CHECK_EQ(pp_lexicon_compile(NULL, 0, &tc, 1, &lx, NULL), PARAPET_ERR_LEXICON);
}

TEST(lexicon_extra_terms_via_vtable) {
    const char *terms[] = {"blorptastic"};
    pp_term_list tl = {PP_CAT_SPAM, terms, 1, 0.6f, "policy"};
    pp_detector_config cfg = {&tl, 1};
    void *self = NULL;
    CHECK_OK(pp_lexicon_detector.open(&cfg, &self, NULL));
    pp_text t;
    pp_text_init(&t);
    pp_scan s;
    CHECK_OK(pp_text_normalize(&t, "so blorptastic, you fucker", 26, 0, NULL));
    pp_scan_init(&s, &t);
    CHECK_OK(pp_lexicon_detector.scan(self, &s));
    CHECK_NEAR(s.scores[PP_CAT_SPAM], 0.6, 1e-6);
    CHECK(s.scores[PP_CAT_PROFANITY] >= 0.5f);
    pp_scan_free(&s);
    pp_text_free(&t);
    pp_lexicon_detector.close(self);
}

/* ----------------------------------------------------------------- word lists */

TEST(lexicon_wordlist_reader) {
    const char *txt = "\xEF\xBB\xBF# my list\r\n\r\n  badword  \r\nphrase with spaces\n"
                      "term\tprofanity\t0.5\n\t\n# end";
    char **terms = NULL;
    size_t n = 0;
    CHECK_OK(pp_lexicon_read_wordlist(txt, strlen(txt), "list.txt", &terms, &n, NULL));
    CHECK_EQ(n, 3);
    CHECK_STR(terms[0], "badword");
    CHECK_STR(terms[1], "phrase with spaces");
    CHECK_STR(terms[2], "term");
    pp_lexicon_free_wordlist(terms, n);

    char *detail = NULL;
    const char *bad = "ok\nfine\nbro\xc3\x28ken\n";
    CHECK_EQ(pp_lexicon_read_wordlist(bad, strlen(bad), "list.txt", &terms, &n, &detail),
             PARAPET_ERR_LEXICON);
    CHECK(terms == NULL && n == 0);
    CHECK_STR(detail, "list.txt:3: invalid UTF-8");
    pp_free(detail);
    const char nul[] = "a\nb\0c\n";
    CHECK_EQ(pp_lexicon_read_wordlist(nul, sizeof nul - 1, "z", &terms, &n, NULL),
             PARAPET_ERR_LEXICON);
    CHECK_OK(pp_lexicon_read_wordlist("", 0, "empty", &terms, &n, NULL));
    CHECK_EQ(n, 0);
    pp_lexicon_free_wordlist(terms, n);
}

TEST(lexicon_compile_oom_cleans_up) {
    const char *src = "fuck\tprofanity\t0.7\tp\nassassin\tallow\nkill you\tviolence\t0.5\n";
    pp_lexicon_source s = {"oom.txt", src, strlen(src)};
    for (long k = 0; k < 200; k++) {
        pp_alloc_fail_after(k);
        pp_lexicon *lx = NULL;
        char *detail = NULL;
        pp_status st = pp_lexicon_compile(&s, 1, NULL, 0, &lx, &detail);
        pp_alloc_fail_after(-1);
        pp_free(detail);
        if (st == PARAPET_OK) {
            pp_lexicon_free(lx);
            return;
        }
        CHECK_EQ(st, PARAPET_ERR_NOMEM);
        CHECK(lx == NULL);
    }
    CHECK_MSG(0, "compile never succeeded");
}

TEST(lexicon_long_text_many_hits) {
    /* more raw matches than the on-stack buffers: exercises the heap path */
    lx_fixture f;
    CHECK_OK(fx_open(&f, "cat\tspam\t0.01\tx\ncatnip\tallow\n"));
    char text[2001];
    for (int i = 0; i < 2000; i++) text[i] = "cat "[i % 4];
    text[2000] = 0;
    CHECK_EQ(fx_scan(&f, text), 0);
    CHECK_EQ(f.s.n_hits, 500);
    CHECK_EQ(f.s.hits[499].start, 1996);
    fx_close(&f);
}

/* ---------------------------------------------------------------- targeting */

/* Does some hit carry the rule "targeted:<term>"? */
static int has_targeted(const lx_fixture *f) {
    for (size_t h = 0; h < f->s.n_hits; h++)
        if (!strncmp(f->s.hits[h].rule, "targeted:", 9)) return 1;
    return 0;
}

/* An insult aimed at the reader is harassment (>= 0.6) in every language; the same
** word not aimed at anyone keeps its own (lower) weight and no targeted: rule. */
TEST(lexicon_targeted_insults) {
    lx_fixture f;
    CHECK_OK(fx_open(&f, NULL));
    const char *aimed[] = {
        "You are a moron", "you are an idiot", "you're such an idiot", "shut up you idiot",
        "you fucking idiot", "you are a f*cking 1d10t", "what an idiot you are",
        "u r a loser", "You are a m\xE2\x80\x8Bo\xE2\x80\x8Br\xE2\x80\x8Bo\xE2\x80\x8Bn",
        "Du bist ein verdammter Idiot.", "du Trottel", "tu es un connard", "t'es un abruti",
        "eres un idiota", "você é um otário", "sei un cretino", "jij bent een sukkel",
        "Ты тупой урод.", "ты дебил", "jesteś kretynem", "sen aptalsın", "انت غبي",
        "你是傻逼", "你这个傻逼", "お前はバカだ", "너는 병신이야", "तुम बेवकूफ हो",
    };
    for (size_t i = 0; i < PP_ARRAY_LEN(aimed); i++) {
        CHECK_EQ(fx_scan(&f, aimed[i]), 0);
        float h = f.s.scores[cat("harassment")];
        CHECK_MSG(h >= 0.6f - 1e-6f, "\"%s\": harassment %g < 0.6", aimed[i], h);
        CHECK_MSG(has_targeted(&f), "\"%s\": no targeted: rule", aimed[i]);
    }
    const char *unaimed[] = {
        "idiot!", "I felt like an idiot", "you know, the idiot box (TV)", "are you kidding",
        "the idiot you hired", "you are not an idiot", "did you see that stupid movie",
        "He is an idiot.", "Thank you! Idiot driver outside.", "ich bin so ein Trottel",
        "il est con", "мой сосед идиот", "他是傻逼", "Moby Dick", "you and your dog",
    };
    for (size_t i = 0; i < PP_ARRAY_LEN(unaimed); i++) {
        CHECK_EQ(fx_scan(&f, unaimed[i]), 0);
        float h = f.s.scores[cat("harassment")];
        CHECK_MSG(h < 0.6f, "\"%s\": harassment %g", unaimed[i], h); /* 傻逼 alone is 0.55 */
        CHECK_MSG(!has_targeted(&f), "\"%s\": targeted", unaimed[i]);
    }
    fx_close(&f);
}

/* Targeting in a text with hundreds of hits (the accepted list on the heap, searched
** by end): each insult is judged by its own words only, the profanity before an
** aimed one still raises it, and U+2019 inside an address word still reads as "'". */
TEST(lexicon_targeting_many_hits) {
    lx_fixture f;
    CHECK_OK(fx_open(&f, "idiot\tharassment\t0.4\tp\n"
                         "fuck\tprofanity\t0.7\tp\n"
                         "you're\taddress\n"
                         "you\taddress\n"
                         "are\tlink\n"));
    static char text[200 * 24 + 1];
    size_t n = 0;
    for (int i = 0; i < 200; i++) {
        const char *part = i % 4 == 0 ? "you fucking idiot. "
                         : i % 4 == 1 ? "the idiot. "
                         : i % 4 == 2 ? "you\xE2\x80\x99re idiot. " : "idiot you are! ";
        memcpy(text + n, part, strlen(part));
        n += strlen(part);
    }
    text[n] = 0;
    CHECK_EQ(fx_scan(&f, text), 0);
    size_t aimed = 0, plain = 0, prof = 0, raised = 0;
    for (size_t h = 0; h < f.s.n_hits; h++) {
        const pp_hit *x = &f.s.hits[h];
        if (!strcmp(x->rule, "targeted:idiot")) {
            aimed++;
            raised += x->score > 0.65f; /* 0.7 with "fucking" on the way, else 0.6 */
            CHECK(x->score >= 0.6f - 1e-6f);
        } else if (!strcmp(x->rule, "idiot")) {
            plain++;
            CHECK_NEAR(x->score, 0.4, 1e-6);
        } else if (!strcmp(x->rule, "fuck")) {
            prof++;
        }
    }
    CHECK_EQ(aimed, 150);
    CHECK_EQ(plain, 50);
    CHECK_EQ(raised, 50);
    CHECK_EQ(prof, 50);
    fx_close(&f);
}

/* The rule, span and weight of a targeted hit; a profanity on the way raises it. */
TEST(lexicon_targeted_hit_fields) {
    lx_fixture f;
    CHECK_OK(fx_open(&f, "idiot\tharassment\t0.4\tp\n"
                         "fuck\tprofanity\t0.7\tp\n"
                         "dick\tharassment\t0.6\tt\n"
                         "you\taddress\n"
                         "are\tlink\n"
                         "an\tlink\n"));
    CHECK_EQ(fx_scan(&f, "you are an idiot"), 0);
    CHECK_EQ(f.s.n_hits, 1);
    CHECK_STR(f.s.hits[0].rule, "targeted:idiot");
    CHECK_EQ(f.s.hits[0].start, 11); /* the insult only, not "you are an" */
    CHECK_EQ(f.s.hits[0].end, 16);
    CHECK_NEAR(f.s.scores[cat("harassment")], 0.6, 1e-6);
    CHECK_EQ(fx_scan(&f, "you fucking idiots"), 0);
    CHECK_NEAR(f.s.scores[cat("harassment")], 0.7, 1e-6);
    /* more than LX_TARGET_GAP (4) link words: not aimed */
    CHECK_EQ(fx_scan(&f, "you are an an an an idiot"), 0);
    CHECK_NEAR(f.s.scores[cat("harassment")], 0.4, 1e-6);
    /* sentence punctuation breaks the chain, a comma does not */
    CHECK_EQ(fx_scan(&f, "you. idiot"), 0);
    CHECK_NEAR(f.s.scores[cat("harassment")], 0.4, 1e-6);
    CHECK_EQ(fx_scan(&f, "you, idiot"), 0);
    CHECK_NEAR(f.s.scores[cat("harassment")], 0.6, 1e-6);
    /* 't': counts only when aimed */
    CHECK_EQ(fx_scan(&f, "dick"), 0);
    CHECK_EQ(f.s.n_hits, 0);
    CHECK_EQ(fx_scan(&f, "you dick"), 0);
    CHECK_EQ(f.s.n_hits, 1);
    CHECK_STR(f.s.hits[0].rule, "targeted:dick");
    CHECK_EQ(fx_scan(&f, "dick you are"), 0); /* address after the insult, then a link */
    CHECK_EQ(f.s.n_hits, 1);
    CHECK_EQ(fx_scan(&f, "dick you hired"), 0); /* ... then another word: a relative clause */
    CHECK_EQ(f.s.n_hits, 0);
    fx_close(&f);
}

TEST(lexicon_targeting_word_errors) {
    expect_error("you\taddress\t0.5\n", "bad.txt:1: an address or link word takes no weight");
    expect_error("a\tprofanity\t0.5\ttt\n", "bad.txt:1: flags");
    expect_error("a\tprofanity\t0.5\tpw\n", "bad.txt:1: flags");
    /* 'p' with 't' is fine */
    pp_lexicon *lx = NULL;
    const char *ok = "a\tharassment\t0.5\tpt\n";
    pp_lexicon_source s = {"ok.txt", ok, strlen(ok)};
    CHECK_OK(pp_lexicon_compile(&s, 1, NULL, 0, &lx, NULL));
    pp_lexicon_free(lx);
}

/* Regression: "f*cking" was reported as German "fick" (its masked variant "f*ck"
** coincides with English "fuck"'s, and de.txt compiled first). */
TEST(lexicon_masked_collision_prefers_english) {
    lx_fixture f;
    CHECK_OK(fx_open(&f, NULL));
    CHECK_EQ(fx_scan(&f, "you are a f*cking disgrace"), 0);
    CHECK(f.s.n_hits >= 1);
    CHECK_STR(f.s.hits[0].rule, "fuck");
    fx_close(&f);
}
