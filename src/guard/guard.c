/*
** guard.c -- the guard engine (guard.h): prefix cache, candidate rows, probabilities.
**
** Sits between the prompt and scoring definitions (prompt.c, scoring.c) and the
** forward pass (parapet_llm, src/llm).  The engine keeps, per judged role, the
** categories, the scoring definition and the token ids of the prefix; the KV cache
** holds the resident role's prefix in positions [0, n_prefix) at all times between
** requests, so a request evaluates only its conversation, suffix and forced tokens.
**
** Assumptions: pp_guard_encode returns prefix tokens identical to the cached ones
** (prompt.h cuts the prompt where tokenizers always split; checked per request, and a
** mismatch re-prefills rather than scoring on a wrong cache).  Every multi-token
** alternative is scored by its first token (pp_guard_probs_from_cand): the shortcut
** scoring.h documents, exact for Llama Guard's single-token answers.
*/
#include "core/core.h"
#include "guard/guard.h"
#include "llm/gguf.h"
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

typedef struct role_state {
    int built;
    pp_guard_cat own[PP_GUARD_MAX_CATS]; /* native + custom, when combined */
    size_t n_native;            /* leading native categories */
    const pp_guard_cat *cats;   /* native (static) or g->own_cats */
    size_t n_cats;
    pp_guard_scoring *sc;
    int32_t *prefix;            /* token ids of the prefix */
    size_t n_prefix;
} role_state;

struct pp_guard {
    pthread_mutex_t mu;
    parapet_llm *llm;
    parapet_tokenizer *tok;
    pp_guard_family family;
    int native;                 /* categories: 0 custom, 1 native, 2 native + custom */
    size_t n_native_llama;      /* 13 or 14 for Llama Guard */
    pp_guard_cat own_cats[PP_GUARD_MAX_CATS];
    size_t n_own;
    role_state role[2];
    int resident;               /* role whose prefix is in the cache, -1: none */
    char *warning;
};

void pp_guard_opts_init(pp_guard_opts *o) {
    memset(o, 0, sizeof *o);
    o->family = -1;
}

/* Reads the family, the layer count and the chat template check from the file's
** metadata.  Sets g->family, g->n_native_llama, g->warning. */
static pp_status read_meta(pp_guard *g, const char *path, int family, char **detail) {
    pp_gguf *f;
    pp_status st = pp_gguf_open_file(path, &f, detail);
    if (st) return st;
    const char *s;
    size_t n;
    char arch[32] = "";
    if (!pp_gguf_get_str(f, "general.architecture", &s, &n) && n < sizeof arch) {
        memcpy(arch, s, n);
        arch[n] = 0;
    }
    if (family < 0) family = pp_guard_family_from_arch(arch);
    if (family < 0 || family >= PP_GUARD_FAMILY_COUNT) {
        if (detail) *detail = pp_asprintf("%s: architecture \"%s\" is not a guard-model family "
                                          "(llama, gemma2, qwen3, granite)", path, arch);
        pp_gguf_close(f);
        return PARAPET_ERR_UNSUPPORTED;
    }
    g->family = (pp_guard_family)family;
    char key[64];
    uint32_t layers = 0;
    snprintf(key, sizeof key, "%s.block_count", arch);
    pp_gguf_get_u32(f, key, &layers);
    g->n_native_llama = layers && layers <= 16 ? 13 : 14; /* 1B knows S1..S13 */
    if (!pp_gguf_get_str(f, "tokenizer.chat_template", &s, &n)) {
        char *tpl = pp_strndup(s, n);
        const char *missing = NULL;
        if (tpl && !pp_guard_template_check(g->family, tpl, &missing))
            g->warning = pp_asprintf("the file's chat template differs from parapet's %s template "
                                     "(missing: \"%s\"); scores may be off",
                                     pp_guard_family_name(g->family), missing ? missing : "?");
        pp_free(tpl);
    }
    pp_gguf_close(f);
    return PARAPET_OK;
}

/* Builds (once) the categories, scoring definition and prefix ids of a role. */
static pp_status build_role(pp_guard *g, pp_guard_role role, char **detail) {
    role_state *r = &g->role[role];
    if (r->built) return PARAPET_OK;
    if (g->native) {
        const pp_guard_cat *nat;
        size_t n = pp_guard_native_cats(g->family, role, &nat);
        if (g->family == PP_GUARD_LLAMA_GUARD && n > g->n_native_llama) n = g->n_native_llama;
        r->cats = nat;
        r->n_cats = n;
        if (g->native == 2) {   /* native first, then the custom ones */
            if (n + g->n_own > PP_GUARD_MAX_CATS) return PARAPET_ERR_ARG;
            memcpy(r->own, nat, n * sizeof *nat);
            memcpy(r->own + n, g->own_cats, g->n_own * sizeof *g->own_cats);
            r->cats = r->own;
            r->n_cats = n + g->n_own;
        }
        r->n_native = n;
    } else {
        r->cats = g->own_cats;
        r->n_cats = g->n_own;
    }
    pp_status st = pp_guard_scoring_build(g->tok, g->family, role, r->cats, r->n_cats, &r->sc, detail);
    if (st) return st;
    char *text = NULL;
    size_t len = 0;
    if ((st = pp_guard_render_prefix(g->family, r->cats, r->n_cats, role, &text, &len))) return st;
    st = parapet_tokenizer_encode(g->tok, text, len, PARAPET_TOK_PARSE_SPECIAL, &r->prefix, &r->n_prefix);
    pp_free(text);
    if (st) return st;
    if (!r->n_prefix) return PARAPET_ERR_FORMAT;
    r->built = 1;
    return PARAPET_OK;
}

/* Makes role's prefix the resident one: [0, n_prefix) of the cache. */
static pp_status make_resident(pp_guard *g, pp_guard_role role, char **detail) {
    pp_status st = build_role(g, role, detail);
    if (st) return st;
    role_state *r = &g->role[role];
    if (g->resident == (int)role && parapet_llm_n_past(g->llm) >= r->n_prefix) {
        parapet_llm_truncate(g->llm, (uint32_t)r->n_prefix);
        return PARAPET_OK;
    }
    g->resident = -1;
    if (r->n_prefix >= parapet_llm_n_ctx(g->llm)) return PARAPET_ERR_TOO_LARGE;
    if ((st = parapet_llm_eval(g->llm, r->prefix, r->n_prefix, 0, 0))) return st;
    g->resident = (int)role;
    return PARAPET_OK;
}

pp_status pp_guard_open(const char *path, const pp_guard_opts *opt, pp_guard **out,
                        char **detail) {
    if (!path || !out) return PARAPET_ERR_ARG;
    *out = NULL;
    pp_guard_opts defaults;
    if (!opt) { pp_guard_opts_init(&defaults); opt = &defaults; }
    if (opt->n_cats > PP_GUARD_MAX_CATS || (opt->n_cats && !opt->cats)) return PARAPET_ERR_ARG;
    pp_guard *g = pp_calloc(1, sizeof *g);
    if (!g) return PARAPET_ERR_NOMEM;
    if (pthread_mutex_init(&g->mu, NULL)) { pp_free(g); return PARAPET_ERR_NOMEM; }
    g->resident = -1;
    pp_status st = read_meta(g, path, opt->family, detail);
    if (st) goto fail;
    g->native = opt->n_cats == 0 ? 1 : opt->with_native ? 2 : 0;
    for (size_t i = 0; i < opt->n_cats; i++) {
        const pp_guard_cat *c = &opt->cats[i];
        if (!c->name || !c->name[0]) { st = PARAPET_ERR_ARG; goto fail; }
        g->own_cats[i].name = pp_strdup(c->name);
        g->own_cats[i].description = c->description && c->description[0] ? pp_strdup(c->description) : NULL;
        g->n_own = i + 1;
        if (!g->own_cats[i].name || (c->description && c->description[0] && !g->own_cats[i].description)) {
            st = PARAPET_ERR_NOMEM;
            goto fail;
        }
    }
    if ((st = parapet_tokenizer_open_gguf(path, &g->tok, detail))) goto fail;
    parapet_llm_options lo;
    parapet_llm_options_init(&lo);
    lo.n_threads = opt->n_threads > 0 ? opt->n_threads : 1;
    lo.n_ctx = opt->n_ctx ? opt->n_ctx : 4096;
    if ((st = parapet_llm_open(path, &lo, &g->llm, detail))) goto fail;
    if ((st = make_resident(g, PP_GUARD_USER, detail))) goto fail;
    *out = g;
    return PARAPET_OK;
fail:
    pp_guard_close(g);
    return st;
}

void pp_guard_close(pp_guard *g) {
    if (!g) return;
    for (int r = 0; r < 2; r++) {
        pp_guard_scoring_free(g->role[r].sc);
        pp_free(g->role[r].prefix);
    }
    for (size_t i = 0; i < g->n_own; i++) {
        pp_free((char *)g->own_cats[i].name);
        pp_free((char *)g->own_cats[i].description);
    }
    if (g->llm) parapet_llm_close(g->llm);
    if (g->tok) parapet_tokenizer_free(g->tok);
    pp_free(g->warning);
    pthread_mutex_destroy(&g->mu);
    pp_free(g);
}

/* State of the positions after the current pass's suffix end (`base`): which forced
** tokens are in the cache there.  Lets a question reuse the forced tokens of the one
** before (Qwen3Guard's "Safety:" is the start of its category question's force). */
typedef struct forced {
    uint32_t base;
    int32_t ids[PP_GUARD_FORCE_MAX];
    size_t n;
} forced;

/* Evaluates q's forced tokens after base (reusing what is cached) and reads the
** candidate rows into logit[0..q->n_cand).  last_tok is the suffix's last token, to
** re-evaluate when a question forces nothing after a question that forced something. */
static pp_status ask(pp_guard *g, const pp_guard_question *q, forced *fc, int32_t last_tok,
                     float *logit, uint32_t *n_eval) {
    size_t common = 0;
    while (common < q->n_force && common < fc->n && q->force[common] == fc->ids[common]) common++;
    pp_status st = PARAPET_OK;
    if (!(common == q->n_force && fc->n == q->n_force)) {
        if (q->n_force == 0) {
            /* back to the end of the suffix: its last position again */
            if ((st = parapet_llm_eval(g->llm, &last_tok, 1, fc->base - 1, 0))) return st;
            (*n_eval)++;
        } else {
            if (common == q->n_force) common--;   /* re-evaluate the last forced token */
            size_t k = q->n_force - common;
            if ((st = parapet_llm_eval(g->llm, q->force + common, k, fc->base + (uint32_t)common, 0)))
                return st;
            *n_eval += (uint32_t)k;
        }
        memcpy(fc->ids, q->force, q->n_force * sizeof *q->force);
        fc->n = q->n_force;
    }
    return parapet_llm_logits_rows(g->llm, q->cand, q->n_cand, logit);
}

/* Scores one pass (suffix `pass` already evaluated, ending at fc->base); adds its
** probabilities to out.  Under the mutex. */
static pp_status score_pass(pp_guard *g, const role_state *r, size_t pass, forced *fc,
                            int32_t last_tok, pp_guard_result *out) {
    const pp_guard_scoring *sc = r->sc;
    float logit[PP_GUARD_MAX_CATS * PP_GUARD_ALT_MAX];
    double p[PP_GUARD_MAX_CATS + 2];
    pp_status st = ask(g, &sc->verdict, fc, last_tok, logit, &out->n_eval);
    if (st) return st;
    pp_guard_probs_from_cand(&sc->verdict, logit, p);
    double pv = sc->violation >= 0 ? p[sc->violation] : 0;
    double pc = sc->controversial >= 0 ? p[sc->controversial] : 0;
    if (!sc->has_category) {
        /* one pass per category (ShieldGemma, Granite): P(Yes) of this principle */
        if (pass < r->n_cats) out->p_cat[pass] = pv;
        if (pv > out->p_violation) out->p_violation = pv;
        return PARAPET_OK;
    }
    out->p_violation = pv;
    out->p_controversial = pc;
    if ((st = ask(g, &sc->category, fc, last_tok, logit, &out->n_eval))) return st;
    pp_guard_probs_from_cand(&sc->category, logit, p);
    double mass = pv + pc;  /* Qwen3Guard lists categories for Controversial too */
    for (size_t o = 0; o < sc->category.n_out; o++) {
        int c = sc->category.out[o].cat;
        if (c >= 0 && (size_t)c < r->n_cats) out->p_cat[c] += mass * p[o];
    }
    return PARAPET_OK;
}

static pp_status score_locked(pp_guard *g, const pp_guard_msg *msgs, size_t n,
                              pp_guard_result *out, char **detail) {
    pp_guard_role role = msgs[n - 1].role == PP_GUARD_AGENT ? PP_GUARD_AGENT : PP_GUARD_USER;
    pp_status st = make_resident(g, role, detail);
    if (st) return st;
    role_state *r = &g->role[role];
    out->n_cats = r->n_cats;
    out->n_prefix = (uint32_t)r->n_prefix;
    pp_guard_prompt pr;
    if ((st = pp_guard_render(g->family, r->cats, r->n_cats, msgs, n, &pr, detail))) return st;
    uint32_t n_ctx = parapet_llm_n_ctx(g->llm);
    for (size_t pass = 0; pass < pr.n_suffix && !st; pass++) {
        int32_t *ids = NULL;
        size_t n_ids = 0, n_pre = 0, n_conv = 0;
        if ((st = pp_guard_encode(g->tok, &pr, pass, &ids, &n_ids, &n_pre, &n_conv))) break;
        if (n_pre != r->n_prefix || memcmp(ids, r->prefix, n_pre * sizeof *ids)) {
            /* cannot happen with prompt.c's cut points; never score on a wrong cache */
            if (detail && !*detail) *detail = pp_strdup("guard: the prompt's prefix tokens differ from the cached prefix");
            pp_free(ids);
            st = PARAPET_ERR_FORMAT;
            break;
        }
        if (n_ids + PP_GUARD_FORCE_MAX >= n_ctx || n_ids <= n_pre) {
            pp_free(ids);
            st = n_ids <= n_pre ? PARAPET_ERR_FORMAT : PARAPET_ERR_TOO_LARGE;
            break;
        }
        /* pass 0 evaluates conversation + suffix; later passes only their suffix */
        size_t from = pass == 0 ? n_pre : n_pre + n_conv;
        if (from >= n_ids) from = n_ids - 1;
        st = parapet_llm_eval(g->llm, ids + from, n_ids - from, (uint32_t)from, 0);
        if (!st) {
            out->n_eval += (uint32_t)(n_ids - from);
            forced fc = {(uint32_t)n_ids, {0}, 0};
            st = score_pass(g, r, pass, &fc, ids[n_ids - 1], out);
        }
        pp_free(ids);
    }
    pp_guard_prompt_free(&pr);
    parapet_llm_truncate(g->llm, (uint32_t)r->n_prefix); /* keep only the prefix */
    return st;
}

pp_status pp_guard_score(pp_guard *g, const pp_guard_msg *msgs, size_t n,
                         pp_guard_result *out, char **detail) {
    if (!g || !msgs || !n || !out) return PARAPET_ERR_ARG;
    uint64_t t0 = pp_now_ns();
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&g->mu);
    pp_status st = score_locked(g, msgs, n, out, detail);
    pthread_mutex_unlock(&g->mu);
    for (size_t i = 0; i < out->n_cats; i++)
        if (out->p_cat[i] > 1) out->p_cat[i] = 1;
    out->ms = (double)(pp_now_ns() - t0) / 1e6;
    return st;
}

pp_status pp_guard_score_text(pp_guard *g, const char *text, size_t len,
                              pp_guard_result *out, char **detail) {
    pp_guard_msg m = {PP_GUARD_USER, text ? text : "", text ? len : 0};
    return pp_guard_score(g, &m, 1, out, detail);
}

pp_guard_family pp_guard_family_of(const pp_guard *g) { return g->family; }
size_t pp_guard_cat_count(const pp_guard *g) { return g->role[PP_GUARD_USER].n_cats; }
const pp_guard_cat *pp_guard_cat_at(const pp_guard *g, size_t i) {
    return i < g->role[PP_GUARD_USER].n_cats ? &g->role[PP_GUARD_USER].cats[i] : NULL;
}
size_t pp_guard_native_count(const pp_guard *g) { return g->role[PP_GUARD_USER].n_native; }
size_t pp_guard_prefix_tokens(const pp_guard *g) { return g->role[PP_GUARD_USER].n_prefix; }
const char *pp_guard_warning(const pp_guard *g) { return g->warning; }
const parapet_tokenizer *pp_guard_tokenizer(const pp_guard *g) { return g->tok; }

pp_status pp_guard_file_sha256(const char *path, char hex[65]) {
    FILE *f = fopen(path, "rb");
    if (!f) return errno == ENOENT ? PARAPET_ERR_NOT_FOUND : PARAPET_ERR_IO;
    unsigned char *buf = pp_malloc(1 << 20);
    if (!buf) { fclose(f); return PARAPET_ERR_NOMEM; }
    pp_sha256 s;
    pp_sha256_init(&s);
    size_t n;
    while ((n = fread(buf, 1, 1 << 20, f)) > 0) pp_sha256_update(&s, buf, n);
    int err = ferror(f);
    fclose(f);
    pp_free(buf);
    if (err) return PARAPET_ERR_IO;
    pp_sha256_final_hex(&s, hex);
    return PARAPET_OK;
}
