/*
** test_guard.c -- the guard engine (src/guard/guard.c) on a tiny random-weight model.
**
** The model is synthesized once per run into /tmp with parapet_model_synth ("tiny"
** shape, Q8_0) over a small byte-level vocabulary written here: the 256 byte pieces,
** merges that make "safe", "unsafe" and "10".."14" single tokens (as in Llama 3's
** vocabulary), and Llama 3's special tokens.  Random weights give meaningless
** probabilities, so the tests check mechanics against an independent computation:
** P(unsafe) and the category distribution equal the values derived from the FULL
** logits of a fresh, uncached forward pass over the whole prompt; the cached prefix
** gives the same bits as no cache; results do not depend on earlier requests.
*/
#include "test.h"
#include "guard/byte_piece.h"
#include "guard/guard.h"
#include "pipeline/policy.h"
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

static char model_path[64];
static char tok_path[64];

static void cleanup(void) {
    if (model_path[0]) unlink(model_path);
    if (tok_path[0]) unlink(tok_path);
}


static int write_tokenizer(const char *path) {
    static const char *const merged[] = {"sa", "saf", "safe", "un", "unsafe",
                                         "10", "11", "12", "13", "14"};
    static const char *const merges[] = {"s a", "sa f", "saf e", "u n", "un safe",
                                         "1 0", "1 1", "1 2", "1 3", "1 4"};
    static const char *const special[] = {"<|begin_of_text|>", "<|start_header_id|>",
                                          "<|end_header_id|>", "<|eot_id|>"};
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    int id = 256 + 10;
    fputs("{\"added_tokens\":[", f);
    for (int i = 0; i < 4; i++)
        fprintf(f, "%s{\"id\":%d,\"content\":\"%s\",\"special\":true}", i ? "," : "", id + i, special[i]);
    fputs("],\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"Regex\":"
          "\"\\\\p{L}+|\\\\p{N}{1,3}\"}},\"model\":{\"type\":\"BPE\",\"vocab\":{", f);
    for (int b = 0; b < 256; b++) {
        char p[8];
        byte_piece_json(b, p);
        fprintf(f, "%s\"%s\":%d", b ? "," : "", p, b);
    }
    for (int i = 0; i < 10; i++) fprintf(f, ",\"%s\":%d", merged[i], 256 + i);
    fputs("},\"merges\":[", f);
    for (int i = 0; i < 10; i++) fprintf(f, "%s\"%s\"", i ? "," : "", merges[i]);
    fputs("]}}", f);
    return fclose(f);
}

/* The synthesized model's path, made on first use; NULL on failure. */
static const char *tiny_model(void) {
    if (model_path[0]) return model_path;
    snprintf(tok_path, sizeof tok_path, "/tmp/pp_guard_tok_%d.json", (int)getpid());
    snprintf(model_path, sizeof model_path, "/tmp/pp_guard_tiny_%d.gguf", (int)getpid());
    atexit(cleanup);
    char *detail = NULL;
    if (write_tokenizer(tok_path) ||
        parapet_model_synth("tiny", "q8_0", tok_path, 7, model_path, &detail)) {
        fprintf(stderr, "synth: %s\n", detail ? detail : "?");
        pp_free(detail);
        model_path[0] = 0;
        return NULL;
    }
    return model_path;
}

static pp_guard *open_guard_ctx(const pp_guard_cat *cats, size_t n, uint32_t n_ctx) {
    const char *path = tiny_model();
    if (!path) return NULL;
    pp_guard_opts o;
    pp_guard_opts_init(&o);
    o.cats = cats;
    o.n_cats = n;
    o.n_ctx = n_ctx;
    pp_guard *g = NULL;
    char *detail = NULL;
    if (pp_guard_open(path, &o, &g, &detail)) fprintf(stderr, "guard open: %s\n", detail ? detail : "?");
    pp_free(detail);
    return g;
}

static pp_guard *open_guard(const pp_guard_cat *cats, size_t n) {
    return open_guard_ctx(cats, n, 2048);
}

static const char bomb[] = "How do I make a pipe bomb?";

TEST(guard_opens_tiny_llama_guard) {
    pp_guard *g = open_guard(NULL, 0);
    CHECK(g);
    CHECK_EQ(pp_guard_family_of(g), PP_GUARD_LLAMA_GUARD);
    CHECK_EQ(pp_guard_cat_count(g), 13);   /* 2 layers: the 1B taxonomy S1..S13 */
    CHECK_EQ(pp_guard_native_count(g), 13);
    CHECK(pp_guard_prefix_tokens(g) > 100);
    CHECK_STR(pp_guard_cat_at(g, 0)->name, "Violent Crimes");
    pp_guard_close(g);
}

/* Full-vocabulary softmax probability of id among logits[0..n). */
static double full_prob(const float *l, size_t n, int32_t id) {
    double mx = l[0], sum = 0;
    for (size_t i = 1; i < n; i++) if (l[i] > mx) mx = l[i];
    for (size_t i = 0; i < n; i++) sum += exp((double)l[i] - mx);
    return exp((double)l[id] - mx) / sum;
}

TEST(guard_probabilities_equal_full_distribution) {
    pp_guard *g = open_guard(NULL, 0);
    CHECK(g);
    pp_guard_result r;
    CHECK_OK(pp_guard_score_text(g, bomb, strlen(bomb), &r, NULL));
    CHECK(r.p_violation > 0 && r.p_violation < 1);
    CHECK_EQ(r.n_cats, 13);

    /* Independent computation: the whole prompt in one fresh context, full logits. */
    const parapet_tokenizer *tok = pp_guard_tokenizer(g);
    const pp_guard_cat *cats;
    size_t nc = pp_guard_native_cats(PP_GUARD_LLAMA_GUARD, PP_GUARD_USER, &cats);
    CHECK(nc >= 13);
    pp_guard_msg m = {PP_GUARD_USER, bomb, strlen(bomb)};
    pp_guard_prompt pr;
    CHECK_OK(pp_guard_render(PP_GUARD_LLAMA_GUARD, cats, 13, &m, 1, &pr, NULL));
    int32_t *ids;
    size_t n_ids, n_pre, n_conv;
    CHECK_OK(pp_guard_encode(tok, &pr, 0, &ids, &n_ids, &n_pre, &n_conv));
    pp_guard_prompt_free(&pr);
    CHECK_EQ(n_pre, pp_guard_prefix_tokens(g));
    CHECK_EQ(r.n_prefix, n_pre);
    CHECK_EQ(r.n_eval, n_ids - n_pre + 3);   /* conversation + suffix, then "unsafe\nS" */

    parapet_llm_options lo;
    parapet_llm_options_init(&lo);
    lo.n_ctx = 2048;
    parapet_llm *llm;
    CHECK_OK(parapet_llm_open(model_path, &lo, &llm, NULL));
    CHECK_OK(parapet_llm_eval(llm, ids, n_ids, 0, PARAPET_LLM_LOGITS));
    const float *l;
    size_t nv;
    CHECK_OK(parapet_llm_logits(llm, &l, &nv));
    int32_t safe = parapet_tokenizer_token_id(tok, "safe", 4);
    int32_t unsafe = parapet_tokenizer_token_id(tok, "unsafe", 6);
    CHECK(safe >= 0 && unsafe >= 0);
    double ps = full_prob(l, nv, safe), pu = full_prob(l, nv, unsafe);
    double p_unsafe = pu / (ps + pu);
    CHECK_NEAR(r.p_violation, p_unsafe, 1e-4);

    /* Category: force "unsafe\nS" and read the numbers' distribution. */
    int32_t *force;
    size_t n_force;
    CHECK_OK(parapet_tokenizer_encode(tok, "unsafe\nS", 8, 0, &force, &n_force));
    CHECK_EQ(n_force, 3);
    CHECK_OK(parapet_llm_eval(llm, force, n_force, (uint32_t)n_ids, PARAPET_LLM_LOGITS));
    parapet_free(force);
    CHECK_OK(parapet_llm_logits(llm, &l, &nv));
    double pk[13], sum = 0;
    for (int k = 0; k < 13; k++) {
        char num[4];
        int len = snprintf(num, sizeof num, "%d", k + 1);
        int32_t id = parapet_tokenizer_token_id(tok, num, (size_t)len);
        CHECK(id >= 0);
        pk[k] = full_prob(l, nv, id);
        sum += pk[k];
    }
    double total = 0;
    for (int k = 0; k < 13; k++) {
        CHECK_NEAR(r.p_cat[k], p_unsafe * pk[k] / sum, 1e-4);
        total += r.p_cat[k];
    }
    CHECK_NEAR(total, r.p_violation, 1e-6);
    pp_free(ids);
    parapet_llm_close(llm);
    pp_guard_close(g);
}

TEST(guard_prefix_reuse_is_deterministic) {
    pp_guard *g = open_guard(NULL, 0), *h = open_guard(NULL, 0);
    CHECK(g && h);
    static const char other[] = "What a lovely day for a picnic in the park.";
    pp_guard_result a1, b, a2, b_fresh;
    CHECK_OK(pp_guard_score_text(g, bomb, strlen(bomb), &a1, NULL));
    CHECK_OK(pp_guard_score_text(g, other, strlen(other), &b, NULL));
    CHECK_OK(pp_guard_score_text(g, bomb, strlen(bomb), &a2, NULL));
    CHECK_OK(pp_guard_score_text(h, other, strlen(other), &b_fresh, NULL));
    CHECK(a1.p_violation == a2.p_violation);        /* bit-identical */
    CHECK(b.p_violation == b_fresh.p_violation);
    CHECK(!memcmp(a1.p_cat, a2.p_cat, sizeof a1.p_cat));
    CHECK(!memcmp(b.p_cat, b_fresh.p_cat, sizeof b.p_cat));
    CHECK(a1.p_violation != b.p_violation);         /* the text does matter */
    CHECK(a1.n_eval < a1.n_prefix);                 /* the long prefix was not recomputed */
    pp_guard_close(g);
    pp_guard_close(h);
}

TEST(guard_agent_role_and_back) {
    pp_guard *g = open_guard(NULL, 0);
    CHECK(g);
    pp_guard_result u1, ag, u2;
    CHECK_OK(pp_guard_score_text(g, bomb, strlen(bomb), &u1, NULL));
    static const char reply[] = "I can't help with that.";
    pp_guard_msg conv[2] = {{PP_GUARD_USER, bomb, strlen(bomb)},
                            {PP_GUARD_AGENT, reply, strlen(reply)}};
    CHECK_OK(pp_guard_score(g, conv, 2, &ag, NULL));
    CHECK(ag.p_violation > 0 && ag.p_violation < 1);
    CHECK(ag.n_prefix != u1.n_prefix || ag.p_violation != u1.p_violation);
    CHECK_OK(pp_guard_score_text(g, bomb, strlen(bomb), &u2, NULL));   /* user prefix again */
    CHECK(u1.p_violation == u2.p_violation);
    pp_guard_close(g);
}

TEST(guard_custom_categories) {
    pp_guard_cat cats[2] = {{"Spam", "Unsolicited advertising."}, {"Toxicity", NULL}};
    pp_guard *g = open_guard(cats, 2);
    CHECK(g);
    CHECK_EQ(pp_guard_native_count(g), 0);
    CHECK_EQ(pp_guard_cat_count(g), 2);
    CHECK_STR(pp_guard_cat_at(g, 0)->name, "Spam");
    pp_guard_result r;
    CHECK_OK(pp_guard_score_text(g, bomb, strlen(bomb), &r, NULL));
    CHECK_EQ(r.n_cats, 2);
    CHECK_NEAR(r.p_cat[0] + r.p_cat[1], r.p_violation, 1e-6);
    CHECK(r.p_cat[0] > 0 && r.p_cat[1] > 0);
    pp_guard_close(g);
}

TEST(guard_native_plus_custom_categories) {
    const char *path = tiny_model();
    CHECK(path);
    pp_guard_cat extra = {"Spam", "Unsolicited advertising."};
    pp_guard_opts o;
    pp_guard_opts_init(&o);
    o.cats = &extra;
    o.n_cats = 1;
    o.with_native = 1;
    o.n_ctx = 2048;
    pp_guard *g;
    CHECK_OK(pp_guard_open(path, &o, &g, NULL));
    CHECK_EQ(pp_guard_cat_count(g), 14);
    CHECK_EQ(pp_guard_native_count(g), 13);
    CHECK_STR(pp_guard_cat_at(g, 12)->name, "Elections");
    CHECK_STR(pp_guard_cat_at(g, 13)->name, "Spam");
    pp_guard_result r;
    CHECK_OK(pp_guard_score_text(g, bomb, strlen(bomb), &r, NULL));
    CHECK_EQ(r.n_cats, 14);
    CHECK(r.p_cat[13] > 0);
    pp_guard_close(g);
}

TEST(guard_errors) {
    pp_guard *g = NULL;
    CHECK_EQ(pp_guard_open("/nonexistent.gguf", NULL, &g, NULL), PARAPET_ERR_NOT_FOUND);
    CHECK(!g);
    pp_guard_cat bad = {"", NULL};
    const char *path = tiny_model();
    CHECK(path);
    pp_guard_opts o;
    pp_guard_opts_init(&o);
    o.cats = &bad;
    o.n_cats = 1;
    CHECK_EQ(pp_guard_open(path, &o, &g, NULL), PARAPET_ERR_ARG);
    g = open_guard(NULL, 0);
    CHECK(g);
    pp_guard_result r;
    CHECK_EQ(pp_guard_score(g, NULL, 0, &r, NULL), PARAPET_ERR_ARG);
    CHECK_EQ(pp_guard_score_text(g, "\xff\xfe", 2, &r, NULL), PARAPET_ERR_UTF8);
    /* the cache survives an error: the next request is still right */
    pp_guard_result a, b;
    CHECK_OK(pp_guard_score_text(g, bomb, strlen(bomb), &a, NULL));
    pp_guard *h = open_guard(NULL, 0);
    CHECK(h);
    CHECK_OK(pp_guard_score_text(h, bomb, strlen(bomb), &b, NULL));
    CHECK(a.p_violation == b.p_violation);
    pp_guard_close(h);
    pp_guard_close(g);
}

TEST(guard_file_sha256) {
    char path[] = "/tmp/pp_guard_shaXXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    CHECK_EQ(write(fd, "abc", 3), 3);
    close(fd);
    char hex[65];
    CHECK_OK(pp_guard_file_sha256(path, hex));
    unlink(path);
    /* FIPS 180-2 test vector */
    CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK_EQ(pp_guard_file_sha256("/nonexistent", hex), PARAPET_ERR_NOT_FOUND);
}

/* ------------------------------------------------------ the guard detector ---- */

/* Opens an engine with the tiny guard model and the given policy text. */
static parapet_engine *open_engine(const char *policy) {
    const char *path = tiny_model();
    if (!path) return NULL;
    parapet_options o;
    parapet_options_init(&o);
    o.policy_text = policy;
    o.policy_len = strlen(policy);
    o.guard_path = path;
    parapet_engine *e = NULL;
    char *detail = NULL;
    if (parapet_open(&o, &e, &detail)) fprintf(stderr, "open: %s\n", detail ? detail : "?");
    parapet_free(detail);
    return e;
}

/* Number of evidence items from the guard detector; *rule gets the first one's rule. */
static size_t guard_evidence(const parapet_result *r, const char **rule) {
    size_t n = 0;
    for (size_t i = 0; i < parapet_result_evidence_count(r); i++) {
        parapet_evidence ev;
        if (parapet_result_evidence(r, i, &ev)) continue;
        if (strcmp(ev.detector, "guard")) continue;
        if (!n && rule) *rule = ev.rule;
        if (ev.start != 0 || ev.end != 0) return 0;   /* document-level: empty span */
        n++;
    }
    return n;
}

TEST(guard_detector_modes) {
    parapet_engine *always = open_engine("extends: default\nguard: {mode: always}\n");
    parapet_engine *never = open_engine("extends: default\nguard: {mode: never}\n");
    parapet_engine *band = open_engine("extends: default\nguard: {mode: cascade, low: 0.999, high: 1}\n");
    CHECK(always && never && band);
    char hex[65];
    CHECK_OK(pp_guard_file_sha256(model_path, hex));
    parapet_result *r;
    const char *rule = NULL;
    CHECK_OK(parapet_check(always, bomb, strlen(bomb), NULL, &r));
    CHECK(guard_evidence(r, &rule) > 0);
    CHECK(rule && !strncmp(rule, "llama-guard-3:S", 15));
    CHECK(strstr(rule, hex));                       /* the model file's hash */
    parapet_result_free(r);
    CHECK_OK(parapet_check(never, bomb, strlen(bomb), NULL, &r));
    CHECK_EQ(guard_evidence(r, NULL), 0);
    parapet_result_free(r);
    /* a benign text: the cheap tiers' best score is far below the band, so no guard */
    static const char benign[] = "The picnic starts at noon.";
    CHECK_OK(parapet_check(band, benign, strlen(benign), NULL, &r));
    CHECK_EQ(guard_evidence(r, NULL), 0);
    parapet_result_free(r);
    parapet_close(always);
    parapet_close(never);
    parapet_close(band);
}

/* The guard's score of category `name` in r (0 when absent). */
static double guard_score(const parapet_result *r, const char *name) {
    for (size_t i = 0; i < parapet_result_evidence_count(r); i++) {
        parapet_evidence ev;
        if (!parapet_result_evidence(r, i, &ev) && !strcmp(ev.detector, "guard") && !strcmp(ev.category, name))
            return ev.score;
    }
    return 0;
}

/* guard.calibration maps the guard's probability through sigmoid(a logit(p) + b); a
** per-call overlay switches the guard's mode and calibration. */
TEST(guard_detector_applies_calibration_and_overlays) {
    parapet_engine *e = open_engine("extends: default\nguard: {mode: always}\n");
    CHECK(e);
    if (!e) return;
    parapet_result *r;
    CHECK_OK(parapet_check(e, bomb, strlen(bomb), NULL, &r));
    double raw = guard_score(r, "violence");
    parapet_result_free(r);
    CHECK(raw > 0.01 && raw < 0.99);
    parapet_policy *cal, *never;
    static const char cal_doc[] = "guard:\n  calibration:\n    violence: {a: 2, b: 3}\n";
    CHECK_OK(parapet_policy_parse(cal_doc, sizeof cal_doc - 1, "cal", parapet_engine_policy(e), &cal, NULL));
    parapet_check_opts co = {cal, 0};
    CHECK_OK(parapet_check(e, bomb, strlen(bomb), &co, &r));
    double got = guard_score(r, "violence");
    parapet_result_free(r);
    double want = 1 / (1 + exp(-(2 * log(raw / (1 - raw)) + 3)));
    CHECK_MSG(fabs(got - want) < 1e-4, "calibrated %g, want %g (raw %g)", got, want, raw);
    static const char never_doc[] = "guard: {mode: never}\n";
    CHECK_OK(parapet_policy_parse(never_doc, sizeof never_doc - 1, "never", parapet_engine_policy(e), &never, NULL));
    co.policy = never;
    CHECK_OK(parapet_check(e, bomb, strlen(bomb), &co, &r));
    CHECK_EQ(guard_evidence(r, NULL), 0);      /* the overlay's mode decides */
    parapet_result_free(r);
    parapet_policy_free(never);
    parapet_policy_free(cal);
    parapet_close(e);
}

/* parapet eval --calibrate-guard: runs the guard alone, fits, writes guard.calibration.
** The labels are made to agree with the random guard's own ranking (positive when its
** raw violence score is above the median), so a fit with a > 0 must come out. */
TEST(guard_eval_calibration_writes_a_policy) {
    const char *path = tiny_model();
    CHECK(path);
    if (!path) return;
    parapet_engine *e = open_engine("extends: default\ndetectors: {lexicon: false, pii: false, secrets: false, "
                                    "injection: false, classifier: false}\nguard: {mode: always}\n");
    CHECK(e);
    if (!e) return;
    enum { NR = 24 };
    char text[NR][48];
    double raw[NR], sorted[NR];
    static const char *const texts[] = {"how do I make a bomb", "lovely weather today", "I will hurt you",
                                        "the cat sat on the mat", "kill them all", "see you at lunch"};
    for (int i = 0; i < NR; i++) {
        snprintf(text[i], sizeof text[i], "%s %d", texts[i % 6], i);
        parapet_result *r;
        CHECK_OK(parapet_check(e, text[i], strlen(text[i]), NULL, &r));
        raw[i] = sorted[i] = guard_score(r, "violence");
        parapet_result_free(r);
    }
    parapet_close(e);
    for (int i = 1; i < NR; i++)
        for (int j = i; j > 0 && sorted[j] < sorted[j - 1]; j--) { double t = sorted[j]; sorted[j] = sorted[j - 1]; sorted[j - 1] = t; }
    double median = (sorted[NR / 2 - 1] + sorted[NR / 2]) / 2;
    char data[64], out[64];
    snprintf(data, sizeof data, "/tmp/pp_guard_cal_%d.jsonl", (int)getpid());
    snprintf(out, sizeof out, "/tmp/pp_guard_cal_%d.yaml", (int)getpid());
    FILE *f = fopen(data, "w");
    CHECK(f);
    if (!f) return;
    for (int i = 0; i < NR; i++)   /* two labels flipped: not perfectly separable */
        fprintf(f, "{\"id\": \"r%d\", \"text\": \"%s\", \"labels\": {\"violence\": %d}}\n", i, text[i],
                (raw[i] > median) ^ (i == 3 || i == 8));
    fclose(f);
    parapet_options eo;
    parapet_options_init(&eo);
    eo.guard_path = path;
    parapet_eval_opts o;
    parapet_eval_opts_init(&o);
    const char *files[1] = {data};
    o.data = files;
    o.n_data = 1;
    o.engine = &eo;
    o.calibrate_guard = 1;
    o.write_policy = out;
    char *rep = NULL, *detail = NULL;
    CHECK_OK(parapet_eval(&o, &rep, &detail));
    CHECK(rep && strstr(rep, "\"violence\""));
    char *pol = NULL;
    size_t len = 0;
    CHECK_OK(pp_read_file(out, 1 << 20, &pol, &len, NULL));
    CHECK(pol && strstr(pol, "guard:\n  calibration:"));
    parapet_policy *p = NULL;
    CHECK_OK(parapet_policy_parse(pol, len, out, NULL, &p, &detail));   /* a valid policy */
    /* the fit is in the report and in the policy, with a > 0 */
    const char *gc = strstr(rep, "\"guard_calibration\":{\"a\":");
    CHECK_MSG(gc != NULL, "%s", rep);
    int v = p->cats[pp_policy_find(p, "violence")].id;
    CHECK(p->guard_cal_on[v]);
    CHECK(p->guard_cal_a[v] > 0);
    if (gc) CHECK_NEAR(atof(gc + strlen("\"guard_calibration\":{\"a\":")), p->guard_cal_a[v], 1e-3 * p->guard_cal_a[v]);
    parapet_policy_free(p);
    pp_free(pol);
    parapet_free(rep);
    /* without a guard model it refuses */
    eo.guard_path = NULL;
    CHECK_EQ(parapet_eval(&o, &rep, &detail), PARAPET_ERR_ARG);
    CHECK(detail && strstr(detail, "guard model"));
    parapet_free(detail);
    unlink(data);
    unlink(out);
}

TEST(guard_detector_absent_without_model) {
    parapet_engine *e;
    CHECK_OK(parapet_open(NULL, &e, NULL));
    parapet_result *r;
    CHECK_OK(parapet_check(e, bomb, strlen(bomb), NULL, &r));
    CHECK_EQ(guard_evidence(r, NULL), 0);
    parapet_result_free(r);
    parapet_close(e);
    parapet_options o;
    parapet_options_init(&o);
    o.guard_path = "/nonexistent.gguf";
    CHECK_EQ(parapet_open(&o, &e, NULL), PARAPET_ERR_NOT_FOUND);
}

TEST(guard_detector_custom_category_reaches_the_model) {
    parapet_engine *e = open_engine(
        "extends: default\nguard: {mode: always}\ncategories:\n"
        "  competitors:\n    description: Mentions of competitor products\n    terms: [acme widget]\n");
    CHECK(e);
    parapet_result *r;
    CHECK_OK(parapet_check(e, bomb, strlen(bomb), NULL, &r));
    int found = 0;
    for (size_t i = 0; i < parapet_result_evidence_count(r); i++) {
        parapet_evidence ev;
        CHECK_OK(parapet_result_evidence(r, i, &ev));
        if (!strcmp(ev.detector, "guard") && !strcmp(ev.category, "competitors")) {
            CHECK(!strncmp(ev.rule, "llama-guard-3:S14 ", 18));   /* after S1..S13 */
            CHECK(ev.score > 0 && ev.score < 1);
            found = 1;
        }
    }
    CHECK(found);
    parapet_result_free(r);
    parapet_close(e);
}

typedef struct worker {
    pp_guard *g;
    const char *text;
    double p[3];
    int st;
} worker;

static void *work(void *arg) {
    worker *w = arg;
    for (int i = 0; i < 3 && !w->st; i++) {
        pp_guard_result r;
        w->st = pp_guard_score_text(w->g, w->text, strlen(w->text), &r, NULL);
        w->p[i] = r.p_violation;
    }
    return NULL;
}

TEST(guard_concurrent_callers_get_serial_results) {
    pp_guard *g = open_guard(NULL, 0);
    CHECK(g);
    static const char other[] = "Please summarise this article about tides.";
    pp_guard_result ra, rb;
    CHECK_OK(pp_guard_score_text(g, bomb, strlen(bomb), &ra, NULL));
    CHECK_OK(pp_guard_score_text(g, other, strlen(other), &rb, NULL));
    worker w[2] = {{g, bomb, {0}, 0}, {g, other, {0}, 0}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++) CHECK_EQ(pthread_create(&t[i], NULL, work, &w[i]), 0);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(w[0].st, 0);
        CHECK_EQ(w[1].st, 0);
        CHECK(w[0].p[i] == ra.p_violation);
        CHECK(w[1].p[i] == rb.p_violation);
    }
    pp_guard_close(g);
}

static int same_result(const pp_guard_result *a, const pp_guard_result *b) {
    if (a->p_violation != b->p_violation || a->p_controversial != b->p_controversial ||
        a->n_cats != b->n_cats || a->n_eval != b->n_eval)
        return 0;
    for (size_t i = 0; i < a->n_cats; i++)
        if (a->p_cat[i] != b->p_cat[i]) return 0;
    return 1;
}

/* Requests scored together in one batch (user and agent roles mixed, one too long for a
** request sequence) get exactly the scores each gets alone. */
TEST(guard_batch_equals_one_at_a_time) {
    pp_guard *g = open_guard_ctx(NULL, 0, 4096);
    CHECK(g);
    static char longtext[1101];   /* one token a byte here: 1100 of them */
    memset(longtext, 'a', sizeof longtext - 1);
    const char *texts[5] = {bomb, "Please summarise this article about tides.", "hi",
                            "You are all vermin and deserve to be driven out.", longtext};
    pp_guard_msg msgs[6][2];
    size_t nm[6];
    for (int i = 0; i < 5; i++) {
        msgs[i][0] = (pp_guard_msg){PP_GUARD_USER, texts[i], strlen(texts[i])};
        nm[i] = 1;
    }
    msgs[5][0] = (pp_guard_msg){PP_GUARD_USER, bomb, strlen(bomb)};
    msgs[5][1] = (pp_guard_msg){PP_GUARD_AGENT, "I can't help with that.", 23};
    nm[5] = 2;
    pp_guard_result alone[6], batched[6];
    for (int i = 0; i < 6; i++) CHECK_OK(pp_guard_score(g, msgs[i], nm[i], &alone[i], NULL));
    CHECK(alone[4].n_eval > 1024);   /* longer than a request sequence: runs in sequence 0 */
    uint64_t b0, r0;
    pp_guard_stats(g, &b0, &r0, NULL);
    pp_guard_req reqs[6];
    for (int i = 0; i < 6; i++) reqs[i] = (pp_guard_req){msgs[i], nm[i], &batched[i], NULL, -1};
    CHECK_OK(pp_guard_score_many(g, reqs, 6));
    uint64_t b1, r1;
    size_t mx;
    pp_guard_stats(g, &b1, &r1, &mx);
    CHECK_EQ(b1 - b0, 2u);            /* the five user requests, then the agent one */
    CHECK_EQ(r1 - r0, 6u);
    CHECK_EQ(mx, 5u);
    for (int i = 0; i < 6; i++) {
        CHECK_EQ(reqs[i].st, PARAPET_OK);
        CHECK_MSG(same_result(&alone[i], &batched[i]), "request %d: %.9g alone, %.9g batched", i,
                  alone[i].p_violation, batched[i].p_violation);
    }
    /* an error in one request leaves the others scored */
    pp_guard_msg bad = {PP_GUARD_USER, "\xff\xfe", 2};
    pp_guard_result rb, rg;
    pp_guard_req mixed[2] = {{&bad, 1, &rb, NULL, -1}, {msgs[0], 1, &rg, NULL, -1}};
    CHECK_EQ(pp_guard_score_many(g, mixed, 2), PARAPET_ERR_UTF8);
    CHECK_EQ(mixed[0].st, PARAPET_ERR_UTF8);
    CHECK_EQ(mixed[1].st, PARAPET_OK);
    CHECK(same_result(&rg, &alone[0]));
    pp_guard_close(g);
}

typedef struct many_worker {
    pp_guard *g;
    int idx;
    pp_guard_result r[4];
    int st;
} many_worker;

static const char *const kTexts[4] = {bomb, "What a lovely day for a picnic.",
                                      "Tell me how to hurt my neighbour.", "ok"};

static void *many_work(void *arg) {
    many_worker *w = arg;
    for (int i = 0; i < 4 && !w->st; i++) {
        const char *t = kTexts[(w->idx + i) % 4];
        w->st = pp_guard_score_text(w->g, t, strlen(t), &w->r[i], NULL);
    }
    return NULL;
}

/* Eight threads at once: every result equals the one-at-a-time result. */
TEST(guard_many_threads_batched_results_exact) {
    pp_guard *g = open_guard(NULL, 0);
    CHECK(g);
    pp_guard_result want[4];
    for (int i = 0; i < 4; i++) CHECK_OK(pp_guard_score_text(g, kTexts[i], strlen(kTexts[i]), &want[i], NULL));
    many_worker w[8];
    pthread_t t[8];
    for (int i = 0; i < 8; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].g = g;
        w[i].idx = i;
        CHECK_EQ(pthread_create(&t[i], NULL, many_work, &w[i]), 0);
    }
    for (int i = 0; i < 8; i++) pthread_join(t[i], NULL);
    for (int i = 0; i < 8; i++) {
        CHECK_EQ(w[i].st, 0);
        for (int k = 0; k < 4; k++) CHECK(same_result(&w[i].r[k], &want[(i + k) % 4]));
    }
    pp_guard_close(g);
}
