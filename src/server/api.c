/*
** api.c -- the routes of `parapet serve` and the JSON they speak.
**
**   POST /v1/moderations   OpenAI's moderation API, field for field: input as a string,
**                          an array of strings (one result each) or an array of
**                          content parts (one result for all text parts); response
**                          {id, model, results[{flagged, categories, category_scores,
**                          category_applied_input_types}]}.  parapet's own fields
**                          (action, its extra categories, latency) ride in a "parapet"
**                          object in each result, which OpenAI clients ignore.
**   POST /v1/check         the native endpoint: a text or a conversation, which message
**                          to judge, a policy overlay, and the full result (evidence
**                          spans, signals, detectors, tiers, latency).
**   GET  /healthz /readyz /metrics
**
** Handlers run on an event-loop thread (or a worker for heavy bodies) and write the
** response body into ctx->out; server.c adds the status line and headers.  With a
** guard model, on a loop thread (ctx->inline_only) they check with the engine's
** guard-off overlay (srv_engine_ref.noguard) and, when srv_guard_wanted says the guard
** must judge a text, set ctx->want_guard and stop: server.c reruns the request on a
** worker, where the handler runs the full pipeline.  The
** moderations path is the hot one (the benchmark path), so it writes its JSON by hand
** from the result accessors instead of building a jansson tree; request bodies are
** parsed with jansson, which validates UTF-8 for us.
**
** The OpenAI `flagged` is parapet's overall verdict (any category of the policy,
** including prompt_injection, pii and secrets), so a client that only reads `flagged`
** gets parapet's full protection; the 13 OpenAI categories are always all present
** (false / 0 when a policy disables one), since strict clients require every key.
*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include <pthread.h>
#include "server/server.h"

/* ---------------------------------------------------------------- buffers ---- */

void sb_reserve(srv_buf *b, size_t extra) {
    if (b->oom || b->len + extra + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->len + extra + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) { b->oom = 1; return; }
    b->p = p;
    b->cap = cap;
}

void sb_put(srv_buf *b, const void *s, size_t n) {
    sb_reserve(b, n);
    if (b->oom) return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

void sb_puts(srv_buf *b, const char *s) { sb_put(b, s, strlen(s)); }

void sb_printf(srv_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    sb_reserve(b, (size_t)n);
    if (b->oom) return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void sb_json_str(srv_buf *b, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    sb_reserve(b, n + 2);
    if (b->oom) return;
    sb_put(b, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        sb_put(b, s + run, i - run);
        run = i + 1;
        char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        if (c == '"' || c == '\\') { esc[1] = (char)c; sb_put(b, esc, 2); }
        else if (c == '\n') sb_put(b, "\\n", 2);
        else if (c == '\t') sb_put(b, "\\t", 2);
        else if (c == '\r') sb_put(b, "\\r", 2);
        else sb_put(b, esc, 6);
    }
    sb_put(b, s + run, n - run);
    sb_put(b, "\"", 1);
}

/* A score in [0,1] with at most six decimals, trailing zeros dropped ("0.785751"). */
void sb_score(srv_buf *b, double v) {
    if (!(v > 0)) { sb_put(b, "0", 1); return; }
    if (v >= 1) { sb_put(b, "1", 1); return; }
    long x = (long)(v * 1e6 + 0.5);
    if (x >= 1000000) { sb_put(b, "1", 1); return; }
    if (x == 0) { sb_put(b, "0", 1); return; }
    char d[8] = {'0', '.'};
    int n = 2;
    for (long div = 100000; div && x; div /= 10) {
        d[n++] = (char)('0' + x / div);
        x %= div;
    }
    sb_put(b, d, (size_t)n);
}

void sb_free(srv_buf *b) {
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
}

/* ----------------------------------------------------------------- errors ---- */

/* OpenAI's error object: {"error": {"message", "type", "param", "code"}}. */
void srv_error(srv_ctx *ctx, int status, const char *type, const char *param,
               const char *code, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    srv_buf *b = ctx->out;
    b->len = 0;
    sb_puts(b, "{\"error\":{\"message\":");
    sb_json_str(b, msg, strlen(msg));
    sb_puts(b, ",\"type\":");
    sb_json_str(b, type, strlen(type));
    sb_puts(b, ",\"param\":");
    if (param) sb_json_str(b, param, strlen(param)); else sb_puts(b, "null");
    sb_puts(b, ",\"code\":");
    if (code) sb_json_str(b, code, strlen(code)); else sb_puts(b, "null");
    sb_puts(b, "}}");
    ctx->status = status;
}

#define BAD(ctx, param, ...) srv_error(ctx, 400, "invalid_request_error", param, NULL, __VA_ARGS__)

/* Parses the body as a JSON object or answers 400; NULL then. */
static json_t *parse_body(srv_ctx *ctx) {
    if (!ctx->body_len) {
        BAD(ctx, NULL, "the request has no body; send a JSON object");
        return NULL;
    }
    json_error_t e;
    json_t *root = json_loadb(ctx->body, ctx->body_len, 0, &e);
    if (!root) {
        BAD(ctx, NULL, "could not parse the JSON body of the request: line %d column %d: %s",
            e.line, e.column, e.text);
        return NULL;
    }
    if (!json_is_object(root)) {
        BAD(ctx, NULL, "the request body must be a JSON object");
        json_decref(root);
        return NULL;
    }
    return root;
}

/* ---------------------------------------------------------- engine refs ---- */

static const char *const openai_cats[SRV_N_OPENAI] = {
    "harassment", "harassment/threatening", "hate", "hate/threatening", "illicit",
    "illicit/violent", "self-harm", "self-harm/intent", "self-harm/instructions",
    "sexual", "sexual/minors", "violence", "violence/graphic"};

/* The JSON key (quoted, with colon) of each OpenAI category, precomputed. */
static const char *const openai_keys[SRV_N_OPENAI] = {
    "\"harassment\":", "\"harassment/threatening\":", "\"hate\":", "\"hate/threatening\":",
    "\"illicit\":", "\"illicit/violent\":", "\"self-harm\":", "\"self-harm/intent\":",
    "\"self-harm/instructions\":", "\"sexual\":", "\"sexual/minors\":", "\"violence\":",
    "\"violence/graphic\":"};

static const char applied_text[] =
    "\"category_applied_input_types\":{\"harassment\":[\"text\"],\"harassment/threatening\":"
    "[\"text\"],\"hate\":[\"text\"],\"hate/threatening\":[\"text\"],\"illicit\":[\"text\"],"
    "\"illicit/violent\":[\"text\"],\"self-harm\":[\"text\"],\"self-harm/intent\":[\"text\"],"
    "\"self-harm/instructions\":[\"text\"],\"sexual\":[\"text\"],\"sexual/minors\":[\"text\"],"
    "\"violence\":[\"text\"],\"violence/graphic\":[\"text\"]}";

/* Thread body: sets r->classifier from a check of "" on r->eng. */
static void *probe_tiers(void *arg) {
    srv_engine_ref *r = arg;
    parapet_result *res;
    if (parapet_check(r->eng, "", 0, NULL, &res) == PARAPET_OK) {
        char *json;
        size_t n;
        if (parapet_result_json(res, PARAPET_JSON_NO_TEXT, &json, &n) == PARAPET_OK) {
            r->classifier = strstr(json, "\"classifier\"") != NULL;
            parapet_free(json);
        }
        parapet_result_free(res);
    }
    return NULL;
}

srv_engine_ref *srv_engine_ref_new(parapet_engine *eng) {
    srv_engine_ref *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    const parapet_policy *pol = parapet_engine_policy(eng);
    r->eng = eng;
    r->refs = 1;
    r->n_cats = parapet_policy_category_count(pol);
    r->is_openai = calloc(r->n_cats + 1, 1);
    r->slot = calloc(r->n_cats + 1, sizeof *r->slot);
    if (!r->is_openai || !r->slot) {
        free(r->is_openai);
        free(r->slot);
        free(r);
        return NULL;
    }
    for (int k = 0; k < SRV_N_OPENAI; k++) r->openai_idx[k] = -1;
    for (size_t i = 0; i < r->n_cats; i++) {
        parapet_category_info ci;
        r->slot[i] = -1;
        if (parapet_policy_category(pol, i, &ci) != PARAPET_OK) continue;
        r->slot[i] = srv_metrics_cat_slot(ci.name);
        for (int k = 0; k < SRV_N_OPENAI; k++)
            if (!strcmp(ci.name, openai_cats[k])) {
                r->openai_idx[k] = (int)i;
                r->is_openai[i] = 1;
            }
    }
    snprintf(r->hash, sizeof r->hash, "%s", parapet_policy_hash(pol));
    /* Which tiers run: ask the engine once, on an empty text, from a short-lived thread:
    ** the engine keeps per-thread scratch, and the caller's (the main thread's, on a
    ** reload) would outlive an engine that a loop thread closes later. */
    pthread_t th;
    if (pthread_create(&th, NULL, probe_tiers, r)) probe_tiers(r);
    else pthread_join(th, NULL);
    /* The guard tier: an overlay of the engine's policy with the guard switched off, for
    ** the inline pass (built once here, so once at startup and once per reload). */
    if (parapet_engine_has_guard(eng) &&
        parapet_policy_guard_mode(pol, &r->guard_mode, &r->guard_low, &r->guard_high) == PARAPET_OK &&
        r->guard_mode != PARAPET_GUARD_NEVER) {
        static const char off[] = "{\"detectors\": {\"guard\": false}}";
        if (parapet_policy_parse(off, sizeof off - 1, "guard-off", pol, &r->noguard, NULL) != PARAPET_OK) {
            free(r->is_openai);
            free(r->slot);
            free(r);
            return NULL;
        }
        r->guard = 1;
    }
    return r;
}

int srv_guard_wanted(const srv_engine_ref *ref, const parapet_result *r) {
    if (!ref->guard) return 0;
    if (ref->guard_mode == PARAPET_GUARD_ALWAYS) return 1;
    if (ref->guard_mode != PARAPET_GUARD_CASCADE) return 0;
    double top = 0;
    for (size_t i = 0; i < parapet_result_category_count(r); i++) {
        parapet_category_score cs;
        if (parapet_result_category(r, i, &cs) == PARAPET_OK && cs.score > top) top = cs.score;
    }
    return top >= ref->guard_low && top <= ref->guard_high;
}

void srv_engine_ref_free(srv_engine_ref *r) {
    if (!r) return;
    parapet_close(r->eng);
    parapet_policy_free(r->noguard);
    free(r->is_openai);
    free(r->slot);
    free(r);
}

/* ------------------------------------------------------------ moderations ---- */

/* One text to moderate: a span of a jansson string (or of a concatenation buffer). */
typedef struct mod_input {
    const char *text;
    size_t len;
} mod_input;

/* Writes one OpenAI result object for r, and counts its flags. */
static void write_result(srv_ctx *ctx, const parapet_result *r) {
    const srv_engine_ref *ref = ctx->ref;
    srv_buf *b = ctx->out;
    size_t n = parapet_result_category_count(r);
    parapet_category_score cs[SRV_MAX_CATS];
    if (n > SRV_MAX_CATS) n = SRV_MAX_CATS;
    for (size_t i = 0; i < n; i++)
        if (parapet_result_category(r, i, &cs[i]) != PARAPET_OK) {
            cs[i].name = "";
            cs[i].score = 0;
            cs[i].flagged = 0;
            cs[i].action = PARAPET_ACTION_ALLOW;
        }
    int same = n == ref->n_cats; /* the engine's own policy: use the cached index */
    int idx[SRV_N_OPENAI];
    for (int k = 0; k < SRV_N_OPENAI; k++) {
        idx[k] = same ? ref->openai_idx[k] : -1;
        if (!same)
            for (size_t i = 0; i < n; i++)
                if (!strcmp(cs[i].name, openai_cats[k])) idx[k] = (int)i;
    }
    int flagged = parapet_result_flagged(r);
    sb_reserve(b, 2048);
    sb_puts(b, flagged ? "{\"flagged\":true,\"categories\":{" : "{\"flagged\":false,\"categories\":{");
    for (int k = 0; k < SRV_N_OPENAI; k++) {
        if (k) sb_put(b, ",", 1);
        sb_puts(b, openai_keys[k]);
        if (idx[k] >= 0 && cs[idx[k]].flagged) sb_put(b, "true", 4);
        else sb_put(b, "false", 5);
    }
    sb_puts(b, "},\"category_scores\":{");
    for (int k = 0; k < SRV_N_OPENAI; k++) {
        if (k) sb_put(b, ",", 1);
        sb_puts(b, openai_keys[k]);
        sb_score(b, idx[k] >= 0 ? cs[idx[k]].score : 0);
    }
    sb_puts(b, "},");
    sb_put(b, applied_text, sizeof applied_text - 1);
    sb_puts(b, ",\"parapet\":{\"action\":\"");
    sb_puts(b, parapet_action_name(parapet_result_action(r)));
    sb_puts(b, "\",\"categories\":{");
    int first = 1;
    for (size_t i = 0; i < n; i++) {
        int oa = same ? ref->is_openai[i] : 0;
        if (!same)
            for (int k = 0; k < SRV_N_OPENAI; k++) if (idx[k] == (int)i) oa = 1;
        if (cs[i].flagged && same) srv_metrics_flag(ctx->m, ref->slot[i]);
        else if (cs[i].flagged) srv_metrics_flag(ctx->m, srv_metrics_cat_slot(cs[i].name));
        if (oa) continue;
        if (!first) sb_put(b, ",", 1);
        first = 0;
        sb_json_str(b, cs[i].name, strlen(cs[i].name));
        sb_puts(b, cs[i].flagged ? ":true" : ":false");
    }
    sb_puts(b, "},\"category_scores\":{");
    first = 1;
    for (size_t i = 0; i < n; i++) {
        if (same ? ref->is_openai[i] : 0) continue;
        int oa = 0;
        if (!same)
            for (int k = 0; k < SRV_N_OPENAI; k++) if (idx[k] == (int)i) oa = 1;
        if (oa) continue;
        if (!first) sb_put(b, ",", 1);
        first = 0;
        sb_json_str(b, cs[i].name, strlen(cs[i].name));
        sb_put(b, ":", 1);
        sb_score(b, cs[i].score);
    }
    sb_printf(b, "},\"latency_us\":%.1f}}", parapet_result_latency_us(r));
    if (flagged) ctx->n_flagged++;
}

/* Maps a check failure to an HTTP answer. */
static void check_failed(srv_ctx *ctx, parapet_status st, const char *param) {
    if (st == PARAPET_ERR_UTF8)
        BAD(ctx, param, "the input is not valid UTF-8");
    else if (st == PARAPET_ERR_TOO_LARGE)
        srv_error(ctx, 413, "invalid_request_error", param, "input_too_large",
                  "an input is larger than the configured limit");
    else if (st == PARAPET_ERR_NOMEM)
        srv_error(ctx, 503, "server_error", NULL, "overloaded", "out of memory; retry later");
    else
        srv_error(ctx, 500, "server_error", NULL, NULL, "moderation failed: %s",
                  parapet_strerror(st));
}

static void h_moderations(srv_ctx *ctx) {
    json_t *root = parse_body(ctx);
    if (!root) return;
    json_t *input = json_object_get(root, "input");
    json_t *model = json_object_get(root, "model");
    mod_input one, *inputs = &one;
    size_t n_inputs = 0;
    char *joined = NULL;
    if (model && !json_is_string(model)) {
        BAD(ctx, "model", "'model' must be a string");
        goto out;
    }
    if (!input) {
        BAD(ctx, "input", "missing required parameter: 'input'");
        goto out;
    }
    if (json_is_string(input)) {
        one.text = json_string_value(input);
        one.len = json_string_length(input);
        n_inputs = 1;
    } else if (json_is_array(input)) {
        size_t n = json_array_size(input);
        if (!n) { BAD(ctx, "input", "'input' must not be an empty array"); goto out; }
        if (n > ctx->cfg->max_inputs) {
            BAD(ctx, "input", "'input' has %zu items; the limit is %zu", n, ctx->cfg->max_inputs);
            goto out;
        }
        json_t *e0 = json_array_get(input, 0);
        if (json_is_string(e0)) {
            inputs = malloc(n * sizeof *inputs);
            if (!inputs) { inputs = &one; check_failed(ctx, PARAPET_ERR_NOMEM, NULL); goto out; }
            for (size_t i = 0; i < n; i++) {
                json_t *e = json_array_get(input, i);
                if (!json_is_string(e)) {
                    BAD(ctx, "input", "'input[%zu]' must be a string like the other items", i);
                    goto out;
                }
                inputs[i].text = json_string_value(e);
                inputs[i].len = json_string_length(e);
            }
            n_inputs = n;
        } else if (json_is_object(e0)) {
            /* Content parts: all text parts make one input (OpenAI's multi-modal form). */
            srv_buf j = {0};
            for (size_t i = 0; i < n; i++) {
                json_t *e = json_array_get(input, i);
                const char *type = json_string_value(json_object_get(e, "type"));
                if (!json_is_object(e) || !type) {
                    sb_free(&j);
                    BAD(ctx, "input", "'input[%zu]' must be an object with a 'type'", i);
                    goto out;
                }
                if (!strcmp(type, "text")) {
                    json_t *t = json_object_get(e, "text");
                    if (!json_is_string(t)) {
                        sb_free(&j);
                        BAD(ctx, "input", "'input[%zu].text' must be a string", i);
                        goto out;
                    }
                    if (j.len) sb_put(&j, "\n", 1);
                    sb_put(&j, json_string_value(t), json_string_length(t));
                } else if (!strcmp(type, "image_url")) {
                    sb_free(&j);
                    srv_error(ctx, 400, "invalid_request_error", "input", "unsupported_input_type",
                              "'input[%zu]': image inputs are not supported by parapet; send text parts", i);
                    goto out;
                } else {
                    sb_free(&j);
                    BAD(ctx, "input", "'input[%zu].type' must be 'text' or 'image_url'", i);
                    goto out;
                }
            }
            if (j.oom) { sb_free(&j); check_failed(ctx, PARAPET_ERR_NOMEM, NULL); goto out; }
            joined = j.p ? j.p : calloc(1, 1);
            one.text = joined ? joined : "";
            one.len = j.len;
            n_inputs = 1;
        } else {
            BAD(ctx, "input", "'input' must be a string, an array of strings or an array of content parts");
            goto out;
        }
    } else {
        BAD(ctx, "input", "'input' must be a string, an array of strings or an array of content parts");
        goto out;
    }

    srv_buf *b = ctx->out;
    sb_printf(b, "{\"id\":\"modr-%lx%06llx\",\"model\":", ctx->thread_id, (unsigned long long)ctx->seq);
    if (model) sb_json_str(b, json_string_value(model), json_string_length(model));
    else sb_puts(b, "\"parapet\"");
    sb_puts(b, ",\"results\":[");
    /* On a loop thread with a guard engine: the guard-off pass; a worker: everything. */
    int inline_guard = ctx->inline_only && ctx->ref->guard;
    parapet_check_opts co = {.policy = inline_guard ? ctx->ref->noguard : NULL};
    for (size_t i = 0; i < n_inputs; i++) {
        parapet_result *r;
        parapet_status st = parapet_check(ctx->eng, inputs[i].text, inputs[i].len, &co, &r);
        if (st != PARAPET_OK) {
            check_failed(ctx, st, "input");
            goto out;
        }
        if (inline_guard && srv_guard_wanted(ctx->ref, r)) {
            parapet_result_free(r);
            ctx->want_guard = 1;
            goto out;
        }
        srv_metrics_tier(ctx->m, ctx->ref->guard && !ctx->inline_only,
                         parapet_result_latency_us(r) / 1e6);
        if (i) sb_put(b, ",", 1);
        write_result(ctx, r);
        parapet_result_free(r);
    }
    sb_printf(b, "],\"parapet\":{\"policy\":\"%s\",\"version\":\"%s\"}}", ctx->ref->hash,
              parapet_version());
    ctx->n_inputs = (int)n_inputs;
    __atomic_store_n(&ctx->m->inputs, ctx->m->inputs + n_inputs, __ATOMIC_RELAXED);
    ctx->status = b->oom ? 503 : 200;
out:
    if (inputs != &one) free(inputs);
    free(joined);
    json_decref(root);
}

/* ------------------------------------------------------------------ check ---- */

/* The text of a message's content: a string, or the text parts of an array joined by
** newlines into *tmp.  Returns 0, or -1 with a 400 written. */
static int content_text(srv_ctx *ctx, json_t *content, const char *where, srv_buf *tmp,
                        const char **text, size_t *len) {
    if (json_is_string(content)) {
        *text = json_string_value(content);
        *len = json_string_length(content);
        return 0;
    }
    if (json_is_array(content)) {
        size_t i;
        json_t *e;
        json_array_foreach(content, i, e) {
            json_t *t = json_object_get(e, "text");
            if (!json_is_string(t)) {
                BAD(ctx, where, "'%s[%zu]' must be a text part {\"type\": \"text\", \"text\": ...}", where, i);
                return -1;
            }
            if (tmp->len) sb_put(tmp, "\n", 1);
            sb_put(tmp, json_string_value(t), json_string_length(t));
        }
        *text = tmp->p ? tmp->p : "";
        *len = tmp->len;
        return 0;
    }
    BAD(ctx, where, "'%s' must be a string or an array of text parts", where);
    return -1;
}

static void h_check(srv_ctx *ctx) {
    uint64_t t0 = 0;
    {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        t0 = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    }
    json_t *root = parse_body(ctx);
    if (!root) return;
    srv_buf tmp = {0};
    parapet_policy *overlay = NULL, *overlay_off = NULL;
    parapet_result *res = NULL;
    char *rjson = NULL;
    json_t *resobj = NULL, *out = NULL;
    const char *text = NULL, *role = NULL;
    size_t len = 0;
    long index = -1;

    json_t *msgs = json_object_get(root, "messages");
    json_t *t = json_object_get(root, "text");
    if (!t) t = json_object_get(root, "input");
    if (msgs) {
        if (!json_is_array(msgs) || !json_array_size(msgs)) {
            BAD(ctx, "messages", "'messages' must be a non-empty array of {role, content}");
            goto out;
        }
        size_t n = json_array_size(msgs);
        for (size_t i = 0; i < n; i++) {
            json_t *m = json_array_get(msgs, i);
            if (!json_is_object(m) || !json_is_string(json_object_get(m, "role")) ||
                !json_object_get(m, "content")) {
                BAD(ctx, "messages", "'messages[%zu]' must be an object with a string 'role' and a 'content'", i);
                goto out;
            }
        }
        json_t *jidx = json_object_get(root, "index");
        json_t *jrole = json_object_get(root, "role");
        if (jidx && !json_is_integer(jidx)) { BAD(ctx, "index", "'index' must be an integer"); goto out; }
        if (jrole && !json_is_string(jrole)) { BAD(ctx, "role", "'role' must be a string"); goto out; }
        if (jidx) {
            long long k = json_integer_value(jidx);
            if (k < 0) k += (long long)n;
            if (k < 0 || k >= (long long)n) {
                BAD(ctx, "index", "'index' %lld is outside the %zu messages",
                    (long long)json_integer_value(jidx), n);
                goto out;
            }
            index = (long)k;
        } else if (jrole) {
            for (size_t i = n; i-- > 0;)
                if (!strcmp(json_string_value(json_object_get(json_array_get(msgs, i), "role")),
                            json_string_value(jrole))) { index = (long)i; break; }
            if (index < 0) {
                BAD(ctx, "role", "no message has the role '%s'", json_string_value(jrole));
                goto out;
            }
        } else {
            index = (long)n - 1;
        }
        json_t *m = json_array_get(msgs, (size_t)index);
        role = json_string_value(json_object_get(m, "role"));
        if (content_text(ctx, json_object_get(m, "content"), "content", &tmp, &text, &len)) goto out;
    } else if (t) {
        if (content_text(ctx, t, "text", &tmp, &text, &len)) goto out;
    } else {
        BAD(ctx, "text", "missing required parameter: 'text' (or 'messages')");
        goto out;
    }
    if (tmp.oom) { check_failed(ctx, PARAPET_ERR_NOMEM, NULL); goto out; }

    parapet_check_opts co = {0};
    json_t *pol = json_object_get(root, "policy");
    if (pol && !json_is_null(pol)) {
        char *ptext = NULL, *detail = NULL;
        size_t plen = 0;
        if (json_is_object(pol)) {
            ptext = json_dumps(pol, JSON_COMPACT);
            plen = ptext ? strlen(ptext) : 0;
        } else if (json_is_string(pol)) {
            ptext = strdup(json_string_value(pol));
            plen = json_string_length(pol);
        } else {
            BAD(ctx, "policy", "'policy' must be an object (an overlay of the server's policy) or YAML text");
            goto out;
        }
        if (!ptext) { check_failed(ctx, PARAPET_ERR_NOMEM, NULL); goto out; }
        parapet_status st = parapet_policy_parse(ptext, plen, "policy", parapet_engine_policy(ctx->eng),
                                                 &overlay, &detail);
        free(ptext);
        if (st != PARAPET_OK) {
            BAD(ctx, "policy", "invalid policy override: %s", detail ? detail : parapet_strerror(st));
            parapet_free(detail);
            goto out;
        }
        co.policy = overlay;
    }
    /* On a loop thread with a guard engine: the guard-off pass first (on top of the
    ** request's overlay when it has one; an overlay that turns the guard off needs no
    ** second pass). */
    int inline_guard = ctx->inline_only && ctx->ref->guard;
    if (inline_guard && overlay) {
        int m = PARAPET_GUARD_NEVER;
        parapet_policy_guard_mode(overlay, &m, NULL, NULL);
        if (m == PARAPET_GUARD_NEVER) {
            inline_guard = 0;
        } else {
            static const char off[] = "{\"detectors\": {\"guard\": false}}";
            if (parapet_policy_parse(off, sizeof off - 1, "guard-off", overlay, &overlay_off, NULL)) {
                check_failed(ctx, PARAPET_ERR_NOMEM, NULL);
                goto out;
            }
            co.policy = overlay_off;
        }
    } else if (inline_guard) {
        co.policy = ctx->ref->noguard;
    }
    json_t *ev = json_object_get(root, "evidence_text");
    if (ev && !json_is_boolean(ev)) { BAD(ctx, "evidence_text", "'evidence_text' must be a boolean"); goto out; }
    unsigned jflags = ev && json_is_false(ev) ? PARAPET_JSON_NO_TEXT : 0;

    parapet_status st = parapet_check(ctx->eng, text, len, &co, &res);
    if (st != PARAPET_OK) { check_failed(ctx, st, msgs ? "messages" : "text"); goto out; }
    if (inline_guard && srv_guard_wanted(ctx->ref, res)) {
        ctx->want_guard = 1;
        goto out;
    }
    srv_metrics_tier(ctx->m, ctx->ref->guard && !ctx->inline_only,
                     parapet_result_latency_us(res) / 1e6);
    size_t rlen;
    if ((st = parapet_result_json(res, jflags, &rjson, &rlen)) != PARAPET_OK) {
        check_failed(ctx, st, NULL);
        goto out;
    }
    resobj = json_loadb(rjson, rlen, 0, NULL);
    out = json_object();
    if (!resobj || !out) { check_failed(ctx, PARAPET_ERR_NOMEM, NULL); goto out; }
    char id[48];
    snprintf(id, sizeof id, "chk-%lx%06llx", ctx->thread_id, (unsigned long long)ctx->seq);
    json_object_set_new(out, "id", json_string(id));
    json_object_set_new(out, "flagged", json_boolean(parapet_result_flagged(res)));
    json_object_set_new(out, "action", json_string(parapet_action_name(parapet_result_action(res))));
    if (msgs) {
        json_t *m = json_object();
        json_object_set_new(m, "index", json_integer(index));
        json_object_set_new(m, "role", json_string(role));
        json_object_set_new(out, "message", m);
    }
    /* Tiers: the rules detectors, then the learned classifier, then (later) guards. */
    json_t *tiers = json_array(), *dets = json_object_get(resobj, "detectors");
    int rules = 0, clf = 0, guard = 0;
    size_t i;
    json_t *d;
    json_array_foreach(dets, i, d) {
        const char *s = json_string_value(d);
        if (!s) continue;
        if (!strcmp(s, "classifier")) clf = 1;
        else if (!strncmp(s, "guard", 5)) guard = 1;
        else rules = 1;
    }
    if (rules) json_array_append_new(tiers, json_string("rules"));
    if (clf) json_array_append_new(tiers, json_string("classifier"));
    if (guard) json_array_append_new(tiers, json_string("guard"));
    json_object_set_new(out, "tiers", tiers);
    json_object_set_new(out, "policy_override", json_boolean(overlay != NULL));
    json_object_set(out, "result", resobj);
    {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        uint64_t t1 = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
        json_object_set_new(out, "latency_us", json_real((double)(t1 - t0) / 1e3));
    }
    char *s = json_dumps(out, JSON_COMPACT | JSON_REAL_PRECISION(8));
    if (!s) { check_failed(ctx, PARAPET_ERR_NOMEM, NULL); goto out; }
    sb_puts(ctx->out, s);
    free(s);
    size_t n = parapet_result_category_count(res);
    for (size_t k = 0; k < n; k++) {
        parapet_category_score cs;
        if (parapet_result_category(res, k, &cs) == PARAPET_OK && cs.flagged)
            srv_metrics_flag(ctx->m, srv_metrics_cat_slot(cs.name));
    }
    ctx->n_flagged = parapet_result_flagged(res);
    ctx->n_inputs = 1;
    __atomic_store_n(&ctx->m->inputs, ctx->m->inputs + 1, __ATOMIC_RELAXED);
    ctx->status = ctx->out->oom ? 503 : 200;
out:
    json_decref(out);
    json_decref(resobj);
    parapet_free(rjson);
    parapet_result_free(res);
    parapet_policy_free(overlay_off);
    parapet_policy_free(overlay);
    sb_free(&tmp);
    json_decref(root);
}

/* ------------------------------------------------------------- operations ---- */

static void h_healthz(srv_ctx *ctx) {
    sb_puts(ctx->out, "{\"status\":\"ok\"}");
    ctx->status = 200;
}

static void h_readyz(srv_ctx *ctx) {
    int ok = srv_ready(ctx->srv);
    sb_printf(ctx->out, "{\"status\":\"%s\",\"policy\":\"%s\"}", ok ? "ready" : "draining",
              ctx->ref->hash);
    ctx->status = ok ? 200 : 503;
}

static void h_metrics(srv_ctx *ctx) {
    srv_render_metrics(ctx->srv, ctx->out);
    ctx->content_type = "text/plain; version=0.0.4; charset=utf-8";
    ctx->status = 200;
}

/* ----------------------------------------------------------------- routes ---- */

static const srv_route routes[] = {
    {HTTP_POST, "/v1/moderations", h_moderations, SRV_ROUTE_INLINE, EP_MODERATIONS, 1},
    {HTTP_POST, "/v1/check", h_check, SRV_ROUTE_INLINE, EP_CHECK, 1},
    {HTTP_GET, "/healthz", h_healthz, SRV_ROUTE_INLINE, EP_HEALTHZ, 0},
    {HTTP_GET, "/readyz", h_readyz, SRV_ROUTE_INLINE, EP_READYZ, 0},
    {HTTP_GET, "/metrics", h_metrics, SRV_ROUTE_INLINE, EP_METRICS, 0},
    /* {HTTP_POST, "/v1/stream", h_stream, SRV_ROUTE_STREAM, EP_STREAM, 1},  (streaming issue) */
};

const srv_route *srv_route_find(int method, const char *path, size_t len, int *path_known) {
    *path_known = 0;
    for (size_t i = 0; i < sizeof routes / sizeof *routes; i++) {
        if (strlen(routes[i].path) != len || memcmp(routes[i].path, path, len)) continue;
        *path_known = 1;
        if (routes[i].method == method || (method == HTTP_HEAD && routes[i].method == HTTP_GET))
            return &routes[i];
    }
    return NULL;
}
