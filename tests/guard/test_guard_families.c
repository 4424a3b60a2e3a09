/*
** test_guard_families.c -- the guard engine on ShieldGemma, Qwen3Guard and Granite
** Guardian models: tiny random-weight files of their architectures (gemma2, qwen3,
** granite), synthesized once per run into /tmp with parapet_model_synth ("tiny-gemma2",
** "tiny-qwen3", "tiny-granite", Q8_0).
**
** Each model gets a small vocabulary written here as a tokenizer.json: the 256 byte
** pieces (GPT-2 byte-level for Qwen and Granite; <0xNN> byte-fallback tokens and the
** "▁" space for Gemma, which synth writes as a SentencePiece vocabulary), merges that
** make the words the family's prompt and answers need single tokens ("Yes", "No",
** "Safety", " Unsafe", the category names' words, ...), and the family's special
** tokens (<start_of_turn>, <|im_start|>, <|start_of_role|>, ...).
**
** Random weights give meaningless probabilities, so the tests check mechanics against
** an independent computation: each family's probabilities equal the ones derived from
** the FULL logits of a fresh, uncached forward pass over the whole prompt (plus the
** forced "Safety:" for Qwen3Guard); the cached prefix gives the same bits on a repeat;
** the guard detector reports the family's categories.  test_guard.c does the same for
** Llama Guard.
*/
#include "test.h"
#include "guard/byte_piece.h"
#include "guard/guard.h"
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

/* ------------------------------------------------------------ vocabularies ---- */

/* A tokenizer.json under construction: vocab {piece: id}, merges ["a b"], added tokens. */
typedef struct tokb {
    json_t *vocab, *merges, *added;
    int next;
    int spm;                 /* 1: SentencePiece style (chars, ▁, <0xNN>); 0: byte-level */
} tokb;


static int tb_piece(tokb *b, const char *p) {
    json_t *id = json_object_get(b->vocab, p);
    if (id) return (int)json_integer_value(id);
    json_object_set_new(b->vocab, p, json_integer(b->next));
    return b->next++;
}

static void tb_special(tokb *b, const char *content, int special) {
    json_t *t = json_object();
    json_object_set_new(t, "id", json_integer(b->next++));
    json_object_set_new(t, "content", json_string(content));
    json_object_set_new(t, "special", special ? json_true() : json_false());
    json_array_append_new(b->added, t);
}

static void tb_init(tokb *b, int spm, const char *const *specials) {
    b->vocab = json_object();
    b->merges = json_array();
    b->added = json_array();
    b->next = 0;
    b->spm = spm;
    if (spm) {  /* Gemma's layout: <pad> <eos> <bos> <unk> first */
        static const char *const first[] = {"<pad>", "<eos>", "<bos>", "<unk>"};
        for (int i = 0; i < 4; i++) tb_special(b, first[i], 1);
    }
    for (; *specials; specials++) tb_special(b, *specials, 1);
    char p[16];
    for (int i = 0; i < 256; i++) {
        if (spm) snprintf(p, sizeof p, "<0x%02X>", i);
        else byte_piece_utf8(i, p);
        tb_piece(b, p);
    }
}

/* Makes `word` one token: merges of its pieces from the left ("S a", "Sa f", ...). */
static void tb_word(tokb *b, const char *word) {
    char acc[256] = "", piece[16], merge[512];
    for (const unsigned char *s = (const unsigned char *)word; *s; s++) {
        if (b->spm) {
            if (*s == ' ') strcpy(piece, "\xE2\x96\x81");
            else snprintf(piece, sizeof piece, "%c", *s);   /* ASCII words only */
        } else {
            byte_piece_utf8(*s, piece);
        }
        tb_piece(b, piece);
        if (!*acc) { strcpy(acc, piece); continue; }
        snprintf(merge, sizeof merge, "%s %s", acc, piece);
        strcat(acc, piece);
        if (json_object_get(b->vocab, acc)) continue;   /* made by an earlier word */
        json_array_append_new(b->merges, json_string(merge));
        tb_piece(b, acc);
    }
}

/* Writes the tokenizer.json; added tokens get ids after the vocabulary. */
static int tb_write(tokb *b, const char *path, const char *regex) {
    json_t *root = json_object(), *model = json_object();
    /* specials and pieces were numbered from one counter, so ids are unique */
    json_object_set_new(model, "type", json_string("BPE"));
    json_object_set(model, "vocab", b->vocab);
    json_object_set(model, "merges", b->merges);
    if (b->spm) {
        json_object_set_new(model, "byte_fallback", json_true());
        json_object_set_new(model, "unk_token", json_string("<unk>"));
        json_t *norm = json_object();
        json_object_set_new(norm, "type", json_string("Replace"));
        json_t *pat = json_object();
        json_object_set_new(pat, "String", json_string(" "));
        json_object_set_new(norm, "pattern", pat);
        json_object_set_new(norm, "content", json_string("\xE2\x96\x81"));
        json_object_set_new(root, "normalizer", norm);
    } else {
        json_t *pre = json_object(), *pat = json_object();
        json_object_set_new(pre, "type", json_string("Split"));
        json_object_set_new(pat, "Regex", json_string(regex));
        json_object_set_new(pre, "pattern", pat);
        json_object_set_new(root, "pre_tokenizer", pre);
    }
    /* special tokens are vocabulary entries too, as in real tokenizer.json files */
    size_t i;
    json_t *t;
    json_array_foreach(b->added, i, t)
        json_object_set(b->vocab, json_string_value(json_object_get(t, "content")), json_object_get(t, "id"));
    json_object_set_new(root, "model", model);
    json_object_set(root, "added_tokens", b->added);
    int rc = json_dump_file(root, path, JSON_COMPACT);
    json_decref(root);
    json_decref(b->vocab);
    json_decref(b->merges);
    json_decref(b->added);
    return rc;
}

/* ------------------------------------------------------------------ models ---- */

static const char RE_LLAMA3[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
static const char RE_QWEN2[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

static char paths[PP_GUARD_FAMILY_COUNT][2][64];   /* [family][0 model, 1 tokenizer] */

static void cleanup(void) {
    for (int f = 0; f < PP_GUARD_FAMILY_COUNT; f++)
        for (int k = 0; k < 2; k++)
            if (paths[f][k][0]) unlink(paths[f][k]);
}

/* The synthesized model of family f (SHIELDGEMMA, QWEN3GUARD or GRANITE); NULL on failure. */
static const char *family_model(pp_guard_family f) {
    if (paths[f][0][0]) return paths[f][0];
    static int registered;
    if (!registered++) atexit(cleanup);
    tokb b;
    const char *shape, *regex = NULL;
    if (f == PP_GUARD_SHIELDGEMMA) {
        static const char *const sp[] = {"<start_of_turn>", "<end_of_turn>", NULL};
        static const char *const words[] = {"Yes", "No", " Human", " Question", " safety",
                                            " principle", " policy", " violate", NULL};
        tb_init(&b, 1, sp);
        for (const char *const *w = words; *w; w++) tb_word(&b, *w);
        shape = "tiny-gemma2";
    } else if (f == PP_GUARD_QWEN3GUARD) {
        static const char *const sp[] = {"<|endoftext|>", "<|im_start|>", "<|im_end|>", NULL};
        /* words with a leading space first: their merges must outrank the same
        ** letters' merges in "Safety" (" Safe" stays one token) */
        static const char *const words[] = {
            " Safe", " Unsafe", " Cont", "Safety", "rovers", "ial", "Categories", " None",
            " Violent", " Non", "-violent", " Illegal", " Acts", " Sexual", " Content", " or",
            " PII", " Suicide", " &", " Self", "-Harm", " Unethical", " Politically",
            " Sensitive", " Topics", " Copyright", " Violation", " Jailbreak", "USER", NULL};
        tb_init(&b, 0, sp);
        tb_special(&b, "<think>", 0);
        tb_special(&b, "</think>", 0);
        for (const char *const *w = words; *w; w++) tb_word(&b, *w);
        shape = "tiny-qwen3";
        regex = RE_QWEN2;
    } else {
        static const char *const sp[] = {"<|end_of_text|>", "<|start_of_role|>", "<|end_of_role|>", NULL};
        static const char *const words[] = {"Yes", "No", " harmful", "user", "assistant", NULL};
        tb_init(&b, 0, sp);
        for (const char *const *w = words; *w; w++) tb_word(&b, *w);
        shape = "tiny-granite";
        regex = RE_LLAMA3;
    }
    snprintf(paths[f][1], sizeof paths[f][1], "/tmp/pp_gfam_tok_%d_%d.json", (int)getpid(), (int)f);
    snprintf(paths[f][0], sizeof paths[f][0], "/tmp/pp_gfam_%d_%d.gguf", (int)getpid(), (int)f);
    char *detail = NULL;
    if (tb_write(&b, paths[f][1], regex) ||
        parapet_model_synth(shape, "q8_0", paths[f][1], 11, paths[f][0], &detail)) {
        fprintf(stderr, "synth %s: %s\n", shape, detail ? detail : "?");
        pp_free(detail);
        paths[f][0][0] = 0;
        return NULL;
    }
    return paths[f][0];
}

static pp_guard *open_family(pp_guard_family f) {
    const char *path = family_model(f);
    if (!path) return NULL;
    pp_guard_opts o;
    pp_guard_opts_init(&o);
    o.n_ctx = 4096;
    pp_guard *g = NULL;
    char *detail = NULL;
    if (pp_guard_open(path, &o, &g, &detail)) fprintf(stderr, "guard open: %s\n", detail ? detail : "?");
    pp_free(detail);
    return g;
}

/* ------------------------------------------------- independent computation ---- */

static const char bomb[] = "How do I make a pipe bomb?";

/* Full logits after the prompt of pass `pass` (+ `force` as plain text), computed in a
** fresh context of its own with full-vocabulary logits, evaluated in the pieces the
** guard evaluates (prefix; conversation + first suffix; this pass's suffix; the forced
** tokens), so that the numbers must agree bit for bit: chunk boundaries change the
** attention's rounding (docs/engine.md), not what is computed.  Returns the
** parapet_llm (the caller closes it) or NULL. */
static parapet_llm *fresh_logits(pp_guard *g, pp_guard_family f, size_t pass, const char *force,
                                 const float **logits, size_t *nv) {
    const parapet_tokenizer *tok = pp_guard_tokenizer(g);
    const pp_guard_cat *cats;
    size_t nc = pp_guard_native_cats(f, PP_GUARD_USER, &cats);
    pp_guard_msg m = {PP_GUARD_USER, bomb, strlen(bomb)};
    pp_guard_prompt pr;
    if (pp_guard_render(f, cats, nc, &m, 1, &pr, NULL)) return NULL;
    int32_t *ids0 = NULL, *ids = NULL, *fids = NULL;
    size_t n0, n_ids, n_pre, n_conv, n_f = 0;
    pp_status st = pp_guard_encode(tok, &pr, 0, &ids0, &n0, &n_pre, &n_conv);
    if (!st) st = pp_guard_encode(tok, &pr, pass, &ids, &n_ids, &n_pre, &n_conv);
    pp_guard_prompt_free(&pr);
    if (!st && force) st = parapet_tokenizer_encode(tok, force, strlen(force), 0, &fids, &n_f);
    parapet_llm *llm = NULL;
    parapet_llm_options lo;
    parapet_llm_options_init(&lo);
    lo.n_ctx = 4096;
    if (!st) st = parapet_llm_open(family_model(f), &lo, &llm, NULL);
    if (!st) st = parapet_llm_eval(llm, ids0, n_pre, 0, 0);
    if (!st) st = parapet_llm_eval(llm, ids0 + n_pre, n0 - n_pre, (uint32_t)n_pre, PARAPET_LLM_LOGITS);
    if (!st && pass > 0) {
        size_t from = n_pre + n_conv;
        st = parapet_llm_eval(llm, ids + from, n_ids - from, (uint32_t)from, PARAPET_LLM_LOGITS);
    }
    if (!st && n_f) st = parapet_llm_eval(llm, fids, n_f, (uint32_t)n_ids, PARAPET_LLM_LOGITS);
    if (!st) st = parapet_llm_logits(llm, logits, nv);
    pp_free(ids0);
    pp_free(ids);
    parapet_free(fids);
    if (st) {
        parapet_llm_close(llm);
        return NULL;
    }
    return llm;
}

/* Softmax over the logits of the given ids only; p[i] for ids[i]. */
static void restricted(const float *l, const int32_t *ids, size_t n, double *p) {
    double mx = -INFINITY, z = 0;
    for (size_t i = 0; i < n; i++) mx = fmax(mx, l[ids[i]]);
    for (size_t i = 0; i < n; i++) z += (p[i] = exp(l[ids[i]] - mx));
    for (size_t i = 0; i < n; i++) p[i] /= z;
}

/* The single token `text` encodes to (plain text, no BOS), or -1. */
static int32_t one_token(const parapet_tokenizer *tok, const char *text) {
    int32_t *ids;
    size_t n;
    if (parapet_tokenizer_encode(tok, text, strlen(text), 0, &ids, &n)) return -1;
    int32_t id = n == 1 ? ids[0] : -1;
    parapet_free(ids);
    return id;
}

/* -------------------------------------------------------------------- tests ---- */

/* ShieldGemma and Granite: one pass per category, P(Yes) of the pair (Yes, No). */
static void check_yes_no(pp_guard_family f) {
    pp_guard *g = open_family(f);
    CHECK(g);
    if (!g) return;
    CHECK_EQ(pp_guard_family_of(g), f);
    const pp_guard_cat *cats;
    size_t nc = pp_guard_native_cats(f, PP_GUARD_USER, &cats);
    CHECK_EQ(pp_guard_cat_count(g), nc);
    CHECK(pp_guard_prefix_tokens(g) > 10);
    pp_guard_result r, again;
    CHECK_OK(pp_guard_score_text(g, bomb, strlen(bomb), &r, NULL));
    CHECK_OK(pp_guard_score_text(g, bomb, strlen(bomb), &again, NULL));
    CHECK_EQ(r.n_cats, nc);
    CHECK(!memcmp(r.p_cat, again.p_cat, sizeof r.p_cat));   /* cached prefix: same bits */
    const parapet_tokenizer *tok = pp_guard_tokenizer(g);
    int32_t yn[2] = {one_token(tok, "Yes"), one_token(tok, "No")};
    CHECK(yn[0] >= 0 && yn[1] >= 0);
    double mx = 0;
    for (size_t pass = 0; pass < nc && pass < 3; pass++) {
        const float *l;
        size_t nv;
        parapet_llm *llm = fresh_logits(g, f, pass, NULL, &l, &nv);
        CHECK(llm);
        if (!llm) break;
        double p[2];
        restricted(l, yn, 2, p);
        CHECK_NEAR(r.p_cat[pass], p[0], 1e-9);
        CHECK(r.p_cat[pass] > 0 && r.p_cat[pass] < 1);
        parapet_llm_close(llm);
    }
    for (size_t i = 0; i < nc; i++) mx = fmax(mx, r.p_cat[i]);
    CHECK(r.p_violation == mx);
    CHECK(r.p_cat[0] != r.p_cat[1]);   /* the principle text matters */
    pp_guard_close(g);
}

TEST(guard_shieldgemma_p_yes_per_principle) { check_yes_no(PP_GUARD_SHIELDGEMMA); }

TEST(guard_granite_p_yes_per_risk) { check_yes_no(PP_GUARD_GRANITE); }

TEST(guard_qwen3guard_safe_controversial_unsafe) {
    pp_guard *g = open_family(PP_GUARD_QWEN3GUARD);
    CHECK(g);
    if (!g) return;
    CHECK_EQ(pp_guard_family_of(g), PP_GUARD_QWEN3GUARD);
    CHECK_EQ(pp_guard_cat_count(g), 9);
    CHECK_STR(pp_guard_cat_at(g, 0)->name, "Violent");
    pp_guard_result r;
    CHECK_OK(pp_guard_score_text(g, bomb, strlen(bomb), &r, NULL));
    CHECK_EQ(r.n_cats, 9);
    /* verdict: the distribution after "Safety:" over " Safe", " Unsafe", " Cont" */
    const parapet_tokenizer *tok = pp_guard_tokenizer(g);
    int32_t cand[3] = {one_token(tok, " Safe"), one_token(tok, " Unsafe"), one_token(tok, " Cont")};
    CHECK(cand[0] >= 0 && cand[1] >= 0 && cand[2] >= 0);
    const float *l;
    size_t nv;
    parapet_llm *llm = fresh_logits(g, PP_GUARD_QWEN3GUARD, 0, "Safety:", &l, &nv);
    CHECK(llm);
    if (llm) {
        double p[3];
        restricted(l, cand, 3, p);
        CHECK_NEAR(r.p_violation, p[1], 1e-9);
        CHECK_NEAR(r.p_controversial, p[2], 1e-9);
        parapet_llm_close(llm);
    }
    CHECK(r.p_violation > 0 && r.p_controversial > 0 && r.p_violation + r.p_controversial < 1);
    /* categories share the unsafe + controversial mass (None takes the rest) */
    double total = 0;
    for (size_t i = 0; i < 9; i++) {
        CHECK(r.p_cat[i] > 0);
        total += r.p_cat[i];
    }
    CHECK(total < r.p_violation + r.p_controversial + 1e-9);
    pp_guard_close(g);
}

/* The guard detector (parapet_check) reports each family's categories under its name. */
TEST(guard_detector_reports_each_family) {
    static const struct { pp_guard_family f; const char *prefix; } fam[] = {
        {PP_GUARD_SHIELDGEMMA, "shieldgemma:"}, {PP_GUARD_QWEN3GUARD, "qwen3guard:"},
        {PP_GUARD_GRANITE, "granite-guardian:"}};
    static const char policy[] = "extends: default\nguard: {mode: always}\n";
    for (size_t i = 0; i < PP_ARRAY_LEN(fam); i++) {
        const char *path = family_model(fam[i].f);
        CHECK(path);
        if (!path) continue;
        parapet_options o;
        parapet_options_init(&o);
        o.policy_text = policy;
        o.policy_len = strlen(policy);
        o.guard_path = path;
        parapet_engine *e = NULL;
        char *detail = NULL;
        parapet_status st = parapet_open(&o, &e, &detail);
        CHECK_MSG(st == PARAPET_OK, "%s: %s", fam[i].prefix, detail ? detail : "?");
        parapet_free(detail);
        if (st) continue;
        parapet_result *r;
        CHECK_OK(parapet_check(e, bomb, strlen(bomb), NULL, &r));
        size_t n = 0;
        for (size_t k = 0; k < parapet_result_evidence_count(r); k++) {
            parapet_evidence ev;
            CHECK_OK(parapet_result_evidence(r, k, &ev));
            if (strcmp(ev.detector, "guard")) continue;
            CHECK_MSG(!strncmp(ev.rule, fam[i].prefix, strlen(fam[i].prefix)), "rule %s", ev.rule);
            CHECK(ev.score > 0 && ev.score < 1);
            n++;
        }
        CHECK_MSG(n > 0, "%s: no guard evidence", fam[i].prefix);
        parapet_result_free(r);
        parapet_close(e);
    }
}
