/*
** result.c -- result accessors and the JSON form of a result.
**
** The JSON object is a superset of one entry of OpenAI's moderation "results" array:
** flagged, categories (name -> bool) and category_scores (name -> number) come first
** and mean the same thing; parapet adds action, category_actions, evidence, signals,
** detectors, latency_us and policy.
*/
#include "result.h"
#include "../text/text.h"
#include <pthread.h>
#include <string.h>

void pp_result_finish(parapet_result *r, int names_set) {
    const char *base = r->strs ? r->strs : "";
    for (size_t i = 0; !names_set && i < r->n_cats; i++) r->cats[i].name = base + r->cat_name_off[i];
    for (size_t i = 0; i < r->n_ev; i++) {
        pp_ev *e = &r->ev[i];
        e->pub.category = base + e->cat_off;
        e->pub.rule = base + e->rule_off;
    }
    r->n_signals = 0;
    for (uint32_t b = r->signals & ((1u << PP_SIG_COUNT_) - 1); b; b &= b - 1)
        r->signal_names[r->n_signals++] = pp_signal_name((unsigned)__builtin_ctz(b));
}

/* ------------------------------------------------------- the spare block */

/* Each thread keeps the block of the last result freed on it (one; up to SPARE_MAX
** bytes) for the next result it builds: a result is a few KiB, above what malloc
** keeps per thread for quick reuse, and allocating and freeing it cost as much as
** the rest of a check of a short text.  Thread-specific data, so a thread's spare is
** freed when it exits. */
#define SPARE_MAX ((size_t)64 << 10)
static pthread_key_t g_spare;
static pthread_once_t g_spare_once = PTHREAD_ONCE_INIT;
static int g_spare_ok;

static void spare_destroy(void *p) { pp_free(p); }
static void spare_init(void) { g_spare_ok = pthread_key_create(&g_spare, spare_destroy) == 0; }

parapet_result *pp_result_alloc(size_t n, size_t *block, int *reused) {
    pthread_once(&g_spare_once, spare_init);
    parapet_result *r = g_spare_ok ? pthread_getspecific(g_spare) : NULL;
    if (r && r->block >= n) {
        pthread_setspecific(g_spare, NULL);
        *block = r->block;
        *reused = 1;
        return r;
    }
    *block = n;
    *reused = 0;
    return pp_malloc(n);
}

void parapet_result_free(parapet_result *r) {
    if (!r) return;
    /* evidence and strings live in the same block */
    pthread_once(&g_spare_once, spare_init);
    if (g_spare_ok && r->block <= SPARE_MAX) {
        parapet_result *old = pthread_getspecific(g_spare);
        if ((!old || old->block < r->block) && !pthread_setspecific(g_spare, r)) {
            pp_free(old);
            return;
        }
    }
    pp_free(r);
}

int parapet_result_flagged(const parapet_result *r) { return r ? r->flagged : 0; }
parapet_action parapet_result_action(const parapet_result *r) { return r ? r->action : PARAPET_ACTION_ALLOW; }
double parapet_result_latency_us(const parapet_result *r) { return r ? r->latency_us : 0; }
size_t parapet_result_category_count(const parapet_result *r) { return r ? r->n_cats : 0; }

parapet_status parapet_result_category(const parapet_result *r, size_t i, parapet_category_score *out) {
    if (!r || !out || i >= r->n_cats) return PARAPET_ERR_ARG;
    *out = r->cats[i];
    return PARAPET_OK;
}

size_t parapet_result_evidence_count(const parapet_result *r) { return r ? r->n_ev : 0; }

parapet_status parapet_result_evidence(const parapet_result *r, size_t i, parapet_evidence *out) {
    if (!r || !out || i >= r->n_ev) return PARAPET_ERR_ARG;
    *out = r->ev[i].pub;
    return PARAPET_OK;
}

size_t parapet_result_signal_count(const parapet_result *r) { return r ? r->n_signals : 0; }
const char *parapet_result_signal(const parapet_result *r, size_t i) {
    return r && i < r->n_signals ? r->signal_names[i] : NULL;
}

static void nl(pp_buf *b, int pretty, int depth) {
    if (!pretty) return;
    pp_buf_putc(b, '\n');
    for (int i = 0; i < depth; i++) pp_buf_puts(b, "  ");
}

static void key(pp_buf *b, int pretty, int depth, int first, const char *k) {
    if (!first) pp_buf_putc(b, ',');
    nl(b, pretty, depth);
    pp_buf_putc(b, '"');
    pp_buf_json_str(b, k, strlen(k));
    pp_buf_puts(b, pretty ? "\": " : "\":");
}

parapet_status parapet_result_json(const parapet_result *r, unsigned flags, char **json, size_t *len) {
    if (!r || !json) return PARAPET_ERR_ARG;
    int pr = (flags & PARAPET_JSON_PRETTY) != 0;
    pp_buf b;
    pp_buf_init(&b);
    pp_buf_putc(&b, '{');
    key(&b, pr, 1, 1, "flagged");
    pp_buf_puts(&b, r->flagged ? "true" : "false");
    key(&b, pr, 1, 0, "categories");
    pp_buf_putc(&b, '{');
    for (size_t i = 0; i < r->n_cats; i++) {
        key(&b, pr, 2, i == 0, r->cats[i].name);
        pp_buf_puts(&b, r->cats[i].flagged ? "true" : "false");
    }
    nl(&b, pr, 1);
    pp_buf_putc(&b, '}');
    key(&b, pr, 1, 0, "category_scores");
    pp_buf_putc(&b, '{');
    for (size_t i = 0; i < r->n_cats; i++) {
        key(&b, pr, 2, i == 0, r->cats[i].name);
        pp_buf_json_num(&b, r->cats[i].score);
    }
    nl(&b, pr, 1);
    pp_buf_putc(&b, '}');
    key(&b, pr, 1, 0, "action");
    pp_buf_printf(&b, "\"%s\"", parapet_action_name(r->action));
    key(&b, pr, 1, 0, "category_actions");
    pp_buf_putc(&b, '{');
    int first = 1;
    for (size_t i = 0; i < r->n_cats; i++) {
        if (!r->cats[i].flagged) continue;
        key(&b, pr, 2, first, r->cats[i].name);
        pp_buf_printf(&b, "\"%s\"", parapet_action_name(r->cats[i].action));
        first = 0;
    }
    if (!first) nl(&b, pr, 1);
    pp_buf_putc(&b, '}');
    key(&b, pr, 1, 0, "evidence");
    pp_buf_putc(&b, '[');
    for (size_t i = 0; i < r->n_ev; i++) {
        const parapet_evidence *e = &r->ev[i].pub;
        if (i) pp_buf_putc(&b, ',');
        nl(&b, pr, 2);
        pp_buf_printf(&b, "{\"start\":%zu,\"end\":%zu,\"cp_start\":%zu,\"cp_end\":%zu,",
                      e->start, e->end, e->cp_start, e->cp_end);
        if (!(flags & PARAPET_JSON_NO_TEXT)) {
            pp_buf_puts(&b, "\"text\":\"");
            pp_buf_json_str(&b, r->strs + r->ev[i].snip_off, r->ev[i].snip_len);
            pp_buf_puts(&b, "\",");
        }
        pp_buf_puts(&b, "\"category\":\"");
        pp_buf_json_str(&b, e->category, strlen(e->category));
        pp_buf_printf(&b, "\",\"detector\":\"%s\",\"rule\":\"", e->detector);
        pp_buf_json_str(&b, e->rule, strlen(e->rule));
        pp_buf_puts(&b, "\",\"score\":");
        pp_buf_json_num(&b, e->score);
        pp_buf_puts(&b, ",\"transforms\":[");
        int f = 1;
        for (unsigned t = 0; t < PARAPET_XF_COUNT; t++)
            if (e->transforms & (1u << t)) {
                pp_buf_printf(&b, "%s\"%s\"", f ? "" : ",", parapet_transform_name(t));
                f = 0;
            }
        pp_buf_puts(&b, "]}");
    }
    if (r->n_ev) nl(&b, pr, 1);
    pp_buf_putc(&b, ']');
    if (r->n_hits_total) { /* the evidence cap was reached */
        key(&b, pr, 1, 0, "evidence_truncated");
        pp_buf_printf(&b, "{\"shown\":%zu,\"found\":%zu}", r->n_ev, r->n_hits_total);
    }
    key(&b, pr, 1, 0, "signals");
    pp_buf_putc(&b, '[');
    for (size_t i = 0; i < r->n_signals; i++)
        pp_buf_printf(&b, "%s\"%s\"", i ? "," : "", r->signal_names[i]);
    pp_buf_putc(&b, ']');
    key(&b, pr, 1, 0, "detectors");
    pp_buf_putc(&b, '[');
    first = 1;
    for (int d = 0; d < PP_DET_COUNT; d++)
        if (r->detectors_run & (1u << d)) {
            pp_buf_printf(&b, "%s\"%s\"", first ? "" : ",", pp_detectors[d]->name);
            first = 0;
        }
    pp_buf_putc(&b, ']');
    key(&b, pr, 1, 0, "tiers");
    pp_buf_putc(&b, '{');
    static const char *const tier_names[PP_TIER_COUNT] = {"rules", "classifier", "guard"};
    static const unsigned tier_dets[PP_TIER_COUNT] = {
        (1u << PP_DET_LEXICON) | (1u << PP_DET_PII) | (1u << PP_DET_SECRETS) | (1u << PP_DET_INJECTION),
        1u << PP_DET_CLASSIFIER, 1u << PP_DET_GUARD};
    for (int k = 0; k < PP_TIER_COUNT; k++)
        pp_buf_printf(&b, "%s\"%s\":{\"ran\":%s,\"us\":%.1f}", k ? "," : "", tier_names[k],
                      (r->detectors_run & tier_dets[k]) ? "true" : "false", r->tier_us[k]);
    pp_buf_putc(&b, '}');
    key(&b, pr, 1, 0, "latency_us");
    pp_buf_printf(&b, "%.1f", r->latency_us);
    key(&b, pr, 1, 0, "policy");
    pp_buf_puts(&b, "{\"name\":\"");
    const char *pn = r->strs ? r->strs + r->policy_name_off : "";
    pp_buf_json_str(&b, pn, strlen(pn));
    pp_buf_printf(&b, "\",\"hash\":\"%s\"}", r->policy_hash);
    nl(&b, pr, 0);
    pp_buf_putc(&b, '}');
    char *s = pp_buf_detach(&b, len);
    if (!s) return PARAPET_ERR_NOMEM;
    *json = s;
    return PARAPET_OK;
}
