/*
** test_llm_conformance.c -- parapet's forward pass against llama.cpp's log-probabilities.
**
** Reads a reference file written by tests/conformance/llm/reference.mjs (llama.cpp via
** node-llama-cpp 3.21.1; tests/conformance/llm/run.sh does everything): for each model
** and prompt, llama.cpp's top 100 next tokens and their log-probabilities.  Loads the
** same GGUF (from the reference file's folder) with parapet, evaluates the same ids,
** and requires for every prompt:
**   - the same top token: parapet's logit for llama.cpp's top token equals parapet's
**     largest logit (exactly: the synthetic files repeat weight rows, so several tokens
**     share the top logit bit for bit in both engines, and any of them is "the" top);
**   - |parapet logprob - llama.cpp logprob| <= 0.02 (f16, q8_0 files) or 0.05 (q4_k_m)
**     for each of llama.cpp's top 100 tokens.
** Prints per shape and file type (files are named SHAPE-QUANT.gguf: tiny-gemma2-q8_0,
** lg3-1b-f16, ...) the largest difference seen and the top-1 agreement, and next
** to it llama.cpp's own noise floor: the largest difference between two llama.cpp
** runs of the same prompt that differ only in batch size (512 vs 32 tokens), which the
** reference records as "self".  Pass/fail uses the fixed tolerances above only.
**
** Which reference: $PARAPET_LLM_REF, else build/llm-conformance/ci.jsonl (the CI set:
** the tiny shape of each architecture, 5 short prompts).  `make conformance-llm` sets the full one.  Skips with
** the reason when node-llama-cpp or the reference is absent.
*/
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include "test.h"
#include "parapet.h"
#include "core/core.h"

#define CI_REF "build/llm-conformance/ci.jsonl"

static int file_exists(const char *p) {
    struct stat st;
    return stat(p, &st) == 0;
}

typedef struct qstat {
    char shape[64];
    const char *name;
    double tol, max_delta, max_self;
    int prompts, top1;
    int floored, above_floor;   /* prompts where llama.cpp moved against itself; of those,
                                   where parapet moved more */
    int self_top, self_top_known;   /* llama.cpp's batch-32 run kept its top token */
} qstat;

#define MAX_GROUPS 64

TEST(llm_conformance) {
    const char *ref = getenv("PARAPET_LLM_REF");
    if (!ref || !*ref) ref = CI_REF;
    if (!file_exists("tests/conformance/llm/node_modules/node-llama-cpp"))
        SKIP("node-llama-cpp is not installed (tests/conformance/llm/node_modules): run "
             "tests/conformance/llm/run.sh (needs node/npm)");
    if (!file_exists(ref)) SKIP("llama.cpp reference absent: run tests/conformance/llm/run.sh");
    const char *threads_env = getenv("PARAPET_LLM_THREADS");
    int threads = threads_env ? atoi(threads_env) : 2;
    if (threads < 1) threads = 1;

    char *buf = NULL, *detail = NULL;
    size_t len = 0;
    CHECK_OK(pp_read_file(ref, (size_t)1 << 30, &buf, &len, &detail));
    char dir[512];
    snprintf(dir, sizeof dir, "%s", ref);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    else snprintf(dir, sizeof dir, ".");

    static const struct { const char *name; double tol; } quants[] = {
        {"f16", 0.02}, {"q8_0", 0.02}, {"q4_k_m", 0.05}};
    qstat qs[MAX_GROUPS];
    size_t n_qs = 0;
    char cur_model[256] = "";
    parapet_llm *llm = NULL;
    int failures = 0, lines = 0;
    double *lp = NULL;
    size_t lp_cap = 0;
    for (char *p = buf, *e; p < buf + len; p = e + 1) {
        e = memchr(p, '\n', (size_t)(buf + len - p));
        if (!e) e = buf + len;
        *e = 0;
        json_error_t jerr;
        json_t *o = json_loads(p, 0, &jerr);
        const char *model = json_string_value(json_object_get(o, "model"));
        json_t *ids_j = json_object_get(o, "ids"), *top_j = json_object_get(o, "top");
        if (!model || !json_is_array(ids_j) || !json_is_array(top_j)) { json_decref(o); continue; }
        /* SHAPE-QUANT.gguf: the group of (shape, quant) */
        const char *dash = strrchr(model, '-');
        size_t qi = PP_ARRAY_LEN(quants);
        for (size_t i = 0; dash && i < PP_ARRAY_LEN(quants); i++)
            if (!strncmp(dash + 1, quants[i].name, strlen(quants[i].name)) &&
                !strcmp(dash + 1 + strlen(quants[i].name), ".gguf"))
                qi = i;
        if (qi == PP_ARRAY_LEN(quants)) { json_decref(o); continue; }
        char shape[64];
        snprintf(shape, sizeof shape, "%.*s", (int)(dash - model), model);
        qstat *q = NULL;
        for (size_t i = 0; i < n_qs; i++)
            if (!strcmp(qs[i].shape, shape) && qs[i].name == quants[qi].name) q = &qs[i];
        if (!q && n_qs < MAX_GROUPS) {
            q = &qs[n_qs++];
            memset(q, 0, sizeof *q);
            snprintf(q->shape, sizeof q->shape, "%s", shape);
            q->name = quants[qi].name;
            q->tol = quants[qi].tol;
        }
        if (!q) { json_decref(o); continue; }
        if (strcmp(model, cur_model)) {
            parapet_llm_close(llm);
            llm = NULL;
            char mpath[800];
            snprintf(mpath, sizeof mpath, "%s/%s", dir, model);
            parapet_llm_options opt;
            parapet_llm_options_init(&opt);
            opt.n_ctx = 1032;
            opt.n_threads = threads;
            parapet_status st = parapet_llm_open(mpath, &opt, &llm, &detail);
            if (st) {
                pt_fail(__FILE__, __LINE__, "%s: %s", mpath, detail ? detail : parapet_strerror(st));
                parapet_free(detail);
                json_decref(o);
                break;
            }
            snprintf(cur_model, sizeof cur_model, "%s", model);
        }
        size_t n = json_array_size(ids_j);
        int32_t *ids = pp_malloc((n ? n : 1) * sizeof *ids);
        if (!ids) { json_decref(o); break; }
        for (size_t i = 0; i < n; i++) ids[i] = (int32_t)json_integer_value(json_array_get(ids_j, i));
        parapet_status st = parapet_llm_eval(llm, ids, n, 0, PARAPET_LLM_LOGITS);
        pp_free(ids);
        const float *logits;
        size_t nv;
        if (st || parapet_llm_logits(llm, &logits, &nv)) {
            pt_fail(__FILE__, __LINE__, "%s prompt %d: eval failed: %s", model, lines,
                    parapet_strerror(st));
            json_decref(o);
            break;
        }
        if (PP_GROW(lp, lp_cap, nv)) { json_decref(o); break; }
        double mx = -INFINITY, sum = 0;
        for (size_t v = 0; v < nv; v++) mx = logits[v] > mx ? logits[v] : mx;
        for (size_t v = 0; v < nv; v++) sum += exp(logits[v] - mx);
        double lse = mx + log(sum), worst = 0;
        long worst_id = -1;
        for (size_t k = 0; k < json_array_size(top_j); k++) {
            json_t *pair = json_array_get(top_j, k);
            long id = (long)json_integer_value(json_array_get(pair, 0));
            double ref_lp = json_number_value(json_array_get(pair, 1));
            if (id < 0 || (size_t)id >= nv) { worst = INFINITY; worst_id = id; break; }
            double d = fabs(logits[id] - lse - ref_lp);
            if (d > worst) { worst = d; worst_id = id; }
        }
        long ref_top = (long)json_integer_value(json_array_get(json_array_get(top_j, 0), 0));
        int same_top = ref_top >= 0 && (size_t)ref_top < nv && logits[ref_top] == (float)mx;
        q->prompts++;
        q->top1 += same_top;
        if (worst > q->max_delta) q->max_delta = worst;
        double self = json_number_value(json_object_get(o, "self"));
        if (self > q->max_self) q->max_self = self;
        if (self > 0) {
            q->floored++;
            q->above_floor += worst > self;
        }
        json_t *st_j = json_object_get(o, "self_top");
        if (json_is_boolean(st_j)) {
            q->self_top_known++;
            q->self_top += json_is_true(st_j);
        }
        if (worst > q->tol || !same_top) {
            failures++;
            printf("    %s prompt %lld (%zu tokens): max |delta logprob| %.4f (token %ld), "
                   "top token %s; llama.cpp vs itself %.4f\n", model,
                   (long long)json_integer_value(json_object_get(o, "prompt")), n, worst, worst_id,
                   same_top ? "same" : "DIFFERENT", self);
        }
        lines++;
        json_decref(o);
    }
    parapet_llm_close(llm);
    pp_free(lp);
    pp_free(buf);
    if (n_qs)
        printf("    %-20s %-7s %7s  %-22s %9s  %-19s %-15s %s\n", "shape", "quant", "prompts",
               "max |delta logprob|", "same top", "llama.cpp vs itself", "parapet further",
               "its own same top");
    for (size_t i = 0; i < n_qs; i++) {
        char own[32] = "-", further[32];
        if (qs[i].self_top_known) snprintf(own, sizeof own, "%d/%d", qs[i].self_top, qs[i].self_top_known);
        snprintf(further, sizeof further, "%d/%d", qs[i].above_floor, qs[i].floored);
        printf("    %-20s %-7s %7d  %.4f (tolerance %.2f) %5d/%-3d  %-19.4f %-15s %s\n", qs[i].shape,
               qs[i].name, qs[i].prompts, qs[i].max_delta, qs[i].tol, qs[i].top1, qs[i].prompts,
               qs[i].max_self, further, own);
    }
    if (n_qs)
        printf("    (max |delta logprob| over llama.cpp's top 100; \"itself\": llama.cpp with batch "
               "32 vs 512; \"parapet further\": of the prompts where llama.cpp moved against "
               "itself, those where parapet's difference is the larger; \"its own same top\": "
               "prompts where llama.cpp's batch-32 run kept its top token)\n");
    CHECK_MSG(lines > 0, "%s: no usable reference lines", ref);
    CHECK_MSG(failures == 0, "%d prompt(s) outside tolerance or with a different top token", failures);
}
