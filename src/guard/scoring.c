/*
** scoring.c -- candidate tokens, outcome probabilities and the category mapping of
** the guard families (see scoring.h for what a question and an outcome are).
**
** Candidate token ids are never hard-coded: they come from the model's own
** tokenizer when the scoring definition is built (once per model and policy), by
** tokenizing "forced text + candidate" and keeping what follows the forced text's
** tokens.  Hard-coded ids would silently break on a file with another vocabulary
** (Gemma 2 and Gemma 3 number "Yes" differently, for one).  The tests pin the ids
** the real vocabularies give.
*/
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "guard/scoring.h"

/* ---------------------------------------------------------------- build ---- */

/* Tokenizes text[0..n) as plain text (no BOS, no special tokens). */
static pp_status enc(const parapet_tokenizer *tok, const char *text, size_t n,
                     int32_t **ids, size_t *n_ids) {
    return parapet_tokenizer_encode(tok, text, n, 0, ids, n_ids);
}

static pp_status set_force(const parapet_tokenizer *tok, pp_guard_question *q,
                           const char *force, char **detail) {
    q->n_force = 0;
    if (!*force) return PARAPET_OK;
    int32_t *ids;
    size_t n;
    pp_status st = enc(tok, force, strlen(force), &ids, &n);
    if (st) return st;
    if (n > PP_GUARD_FORCE_MAX) {
        parapet_free(ids);
        if (detail) *detail = pp_asprintf("forced text \"%s\" is %zu tokens", force, n);
        return PARAPET_ERR_UNSUPPORTED;
    }
    memcpy(q->force, ids, n * sizeof *ids);
    q->n_force = n;
    parapet_free(ids);
    return PARAPET_OK;
}

/* Adds the alternative spelling `cand` to outcome o of q: the tokens of
** force+cand after q's forced tokens.  With optional=1 a spelling the vocabulary
** cannot write as one token is skipped instead of added (Granite's variants). */
static pp_status add_alt(const parapet_tokenizer *tok, pp_guard_question *q,
                         pp_guard_outcome *o, const char *force, const char *cand,
                         int optional, char **detail) {
    size_t nf = strlen(force), nc = strlen(cand);
    char *text = pp_malloc(nf + nc + 1);
    if (!text) return PARAPET_ERR_NOMEM;
    memcpy(text, force, nf);
    memcpy(text + nf, cand, nc + 1);
    int32_t *ids;
    size_t n;
    pp_status st = enc(tok, text, nf + nc, &ids, &n);
    pp_free(text);
    if (st) return st;
    if (n <= q->n_force || memcmp(ids, q->force, q->n_force * sizeof *ids)) {
        parapet_free(ids);
        if (detail)
            *detail = pp_asprintf("\"%s\" changes the tokens of \"%s\" before it", cand, force);
        return PARAPET_ERR_UNSUPPORTED;
    }
    size_t k = n - q->n_force;
    if (optional && k != 1) { parapet_free(ids); return PARAPET_OK; }
    if (k > PP_GUARD_SEQ_MAX || o->n_alt >= PP_GUARD_ALT_MAX) {
        parapet_free(ids);
        if (detail) *detail = pp_asprintf("candidate \"%s\" is %zu tokens", cand, k);
        return PARAPET_ERR_UNSUPPORTED;
    }
    for (size_t a = 0; a < o->n_alt; a++) /* the same spelling twice counts once */
        if (o->alt[a].n == k && !memcmp(o->alt[a].ids, ids + q->n_force, k * sizeof *ids)) {
            parapet_free(ids);
            return PARAPET_OK;
        }
    memcpy(o->alt[o->n_alt].ids, ids + q->n_force, k * sizeof *ids);
    o->alt[o->n_alt++].n = k;
    parapet_free(ids);
    return PARAPET_OK;
}

/* Appends an outcome (label, category index) to q; NULL when out of memory. */
static pp_guard_outcome *add_outcome(pp_guard_question *q, const char *label, int cat) {
    pp_guard_outcome *o = pp_realloc(q->out, (q->n_out + 1) * sizeof *o);
    if (!o) return NULL;
    q->out = o;
    o = &q->out[q->n_out++];
    memset(o, 0, sizeof *o);
    snprintf(o->label, sizeof o->label, "%s", label);
    o->cat = cat;
    return o;
}

/* Fills q's derived fields: the alternative count and the distinct first tokens. */
static void finish(pp_guard_question *q) {
    q->n_alt_total = 0;
    q->n_cand = 0;
    for (size_t i = 0; i < q->n_out; i++)
        for (size_t a = 0; a < q->out[i].n_alt; a++) {
            q->n_alt_total++;
            int32_t t = q->out[i].alt[a].ids[0];
            size_t c = 0;
            while (c < q->n_cand && q->cand[c] != t) c++;
            if (c == q->n_cand && q->n_cand < PP_ARRAY_LEN(q->cand)) q->cand[q->n_cand++] = t;
        }
}

/* One outcome spelled exactly one way. */
static pp_status outcome1(const parapet_tokenizer *tok, pp_guard_question *q,
                          const char *force, const char *label, const char *cand, int cat,
                          char **detail) {
    pp_guard_outcome *o = add_outcome(q, label, cat);
    if (!o) return PARAPET_ERR_NOMEM;
    return add_alt(tok, q, o, force, cand, 0, detail);
}

/* Granite's answer: "Yes" plus whichever case/space variants are one token. */
static pp_status outcome_variants(const parapet_tokenizer *tok, pp_guard_question *q,
                                  const char *label, const char *const *variants,
                                  char **detail) {
    pp_guard_outcome *o = add_outcome(q, label, -1);
    if (!o) return PARAPET_ERR_NOMEM;
    pp_status st = add_alt(tok, q, o, "", variants[0], 0, detail);
    for (size_t i = 1; !st && variants[i]; i++) st = add_alt(tok, q, o, "", variants[i], 1, detail);
    return st;
}

pp_status pp_guard_scoring_build(const parapet_tokenizer *tok, pp_guard_family f,
                                 pp_guard_role role, const pp_guard_cat *cats,
                                 size_t n_cats, pp_guard_scoring **out, char **detail) {
    if (!tok || !out || (unsigned)f >= PP_GUARD_FAMILY_COUNT || !cats || n_cats == 0 ||
        n_cats > PP_GUARD_MAX_CATS)
        return PARAPET_ERR_ARG;
    pp_guard_scoring *s = pp_calloc(1, sizeof *s);
    if (!s) return PARAPET_ERR_NOMEM;
    s->family = f;
    s->role = role;
    s->n_cats = n_cats;
    s->controversial = -1;
    pp_guard_question *v = &s->verdict, *c = &s->category;
    pp_status st = PARAPET_OK;
    char num[24];
    switch (f) {
    case PP_GUARD_LLAMA_GUARD:
        st = outcome1(tok, v, "", "safe", "safe", -1, detail);
        if (!st) st = outcome1(tok, v, "", "unsafe", "unsafe", -1, detail);
        s->violation = 1;
        s->has_category = 1;
        if (!st) st = set_force(tok, c, "unsafe\nS", detail);
        for (size_t i = 0; !st && i < n_cats; i++) {
            char label[24];
            snprintf(num, sizeof num, "%zu", i + 1);
            snprintf(label, sizeof label, "S%zu", i + 1);
            st = outcome1(tok, c, "unsafe\nS", label, num, (int)i, detail);
        }
        break;
    case PP_GUARD_SHIELDGEMMA:
        st = outcome1(tok, v, "", "Yes", "Yes", -1, detail);
        if (!st) st = outcome1(tok, v, "", "No", "No", -1, detail);
        s->violation = 0;
        break;
    case PP_GUARD_QWEN3GUARD: {
        st = set_force(tok, v, "Safety:", detail);
        if (!st) st = outcome1(tok, v, "Safety:", "Safe", " Safe", -1, detail);
        if (!st) st = outcome1(tok, v, "Safety:", "Unsafe", " Unsafe", -1, detail);
        if (!st) st = outcome1(tok, v, "Safety:", "Controversial", " Controversial", -1, detail);
        s->violation = 1;
        s->controversial = 2;
        s->has_category = 1;
        const char *cf = "Safety: Unsafe\nCategories:";
        if (!st) st = set_force(tok, c, cf, detail);
        for (size_t i = 0; !st && i < n_cats; i++) {
            char *sp = pp_asprintf(" %s", cats[i].name);
            if (!sp) { st = PARAPET_ERR_NOMEM; break; }
            st = outcome1(tok, c, cf, cats[i].name, sp, (int)i, detail);
            pp_free(sp);
        }
        if (!st) st = outcome1(tok, c, cf, "None", " None", -1, detail);
        break;
    }
    default: {
        static const char *const yes[] = {"Yes", "yes", " Yes", " yes", "YES", NULL};
        static const char *const no[] = {"No", "no", " No", " no", "NO", NULL};
        st = outcome_variants(tok, v, "Yes", yes, detail);
        if (!st) st = outcome_variants(tok, v, "No", no, detail);
        s->violation = 0;
        break;
    }
    }
    if (st) {
        pp_guard_scoring_free(s);
        return st;
    }
    finish(v);
    if (s->has_category) finish(c);
    *out = s;
    return PARAPET_OK;
}

void pp_guard_scoring_free(pp_guard_scoring *s) {
    if (!s) return;
    pp_free(s->verdict.out);
    pp_free(s->category.out);
    pp_free(s);
}

/* ---------------------------------------------------------------- probs ---- */

void pp_guard_softmax(const double *x, size_t n, double *p) {
    double m = -INFINITY, z = 0;
    for (size_t i = 0; i < n; i++) if (x[i] > m) m = x[i];
    if (m == -INFINITY) { /* nothing possible: uniform rather than NaN */
        for (size_t i = 0; i < n; i++) p[i] = 1.0 / (double)n;
        return;
    }
    for (size_t i = 0; i < n; i++) z += (p[i] = exp(x[i] - m));
    for (size_t i = 0; i < n; i++) p[i] /= z;
}

void pp_guard_probs(const pp_guard_question *q, const double *alt_score, double *p) {
    /* log of each outcome's total mass, then a softmax over outcomes */
    size_t k = 0;
    for (size_t i = 0; i < q->n_out; i++) {
        double m = -INFINITY, z = 0;
        for (size_t a = 0; a < q->out[i].n_alt; a++) if (alt_score[k + a] > m) m = alt_score[k + a];
        if (m != -INFINITY)
            for (size_t a = 0; a < q->out[i].n_alt; a++) z += exp(alt_score[k + a] - m);
        p[i] = m == -INFINITY ? -INFINITY : m + log(z);
        k += q->out[i].n_alt;
    }
    pp_guard_softmax(p, q->n_out, p);
}

void pp_guard_probs_from_cand(const pp_guard_question *q, const float *cand_logit, double *p) {
    double stack[64] = {0};
    double *sc = q->n_alt_total <= 64 ? stack : pp_malloc(q->n_alt_total * sizeof *sc);
    if (!sc) { /* out of memory: no information, say so evenly */
        for (size_t i = 0; i < q->n_out; i++) p[i] = 1.0 / (double)q->n_out;
        return;
    }
    size_t k = 0;
    for (size_t i = 0; i < q->n_out; i++)
        for (size_t a = 0; a < q->out[i].n_alt; a++, k++) {
            size_t c = 0;
            while (c < q->n_cand && q->cand[c] != q->out[i].alt[a].ids[0]) c++;
            sc[k] = c < q->n_cand ? (double)cand_logit[c] : -INFINITY;
        }
    pp_guard_probs(q, sc, p);
    if (sc != stack) pp_free(sc);
}

/* -------------------------------------------------------------- mapping ---- */

/* Native category -> parapet categories, "a,b,c" (empty: no equivalent).  The
** reasoning behind each line is in docs/guard-models.md. */
static const char *const map_lg[] = {
    "violence,illicit/violent",                       /* S1 Violent Crimes */
    "illicit",                                        /* S2 Non-Violent Crimes */
    "sexual,illicit",                                 /* S3 Sex Crimes */
    "sexual/minors",                                  /* S4 Child Exploitation */
    "harassment",                                     /* S5 Defamation */
    "",                                               /* S6 Specialized Advice */
    "pii",                                            /* S7 Privacy */
    "",                                               /* S8 Intellectual Property */
    "illicit/violent",                                /* S9 Indiscriminate Weapons */
    "hate,hate/threatening",                          /* S10 Hate */
    "self-harm,self-harm/intent,self-harm/instructions", /* S11 Self-Harm */
    "sexual",                                         /* S12 Sexual Content */
    "",                                               /* S13 Elections */
    "",                                               /* S14 Code Interpreter Abuse */
};
static const char *const map_sg[] = {
    "illicit,illicit/violent,violence,self-harm,self-harm/instructions", /* Dangerous */
    "harassment,harassment/threatening",              /* Harassment */
    "hate,hate/threatening",                          /* Hate Speech */
    "sexual,sexual/minors",                           /* Sexually Explicit */
};
static const char *const map_qg[] = {
    "violence,violence/graphic,illicit/violent",      /* Violent */
    "illicit",                                        /* Non-violent Illegal Acts */
    "sexual,sexual/minors",                           /* Sexual Content or Sexual Acts */
    "pii",                                            /* PII */
    "self-harm,self-harm/intent,self-harm/instructions", /* Suicide & Self-Harm */
    "hate,harassment",                                /* Unethical Acts */
    "",                                               /* Politically Sensitive Topics */
    "",                                               /* Copyright Violation */
    "prompt_injection",                               /* Jailbreak */
};
static const char *const map_gr[] = {
    "",                                               /* harm (the umbrella risk) */
    "hate",                                           /* social_bias */
    "prompt_injection",                               /* jailbreak */
    "violence",                                       /* violence */
    "profanity",                                      /* profanity */
    "sexual",                                         /* sexual_content */
    "illicit",                                        /* unethical_behavior */
};

static const char *const *map_of(pp_guard_family f, size_t *n) {
    switch (f) {
    case PP_GUARD_LLAMA_GUARD: *n = PP_ARRAY_LEN(map_lg); return map_lg;
    case PP_GUARD_SHIELDGEMMA: *n = PP_ARRAY_LEN(map_sg); return map_sg;
    case PP_GUARD_QWEN3GUARD: *n = PP_ARRAY_LEN(map_qg); return map_qg;
    case PP_GUARD_GRANITE: *n = PP_ARRAY_LEN(map_gr); return map_gr;
    default: *n = 0; return NULL;
    }
}

/* Interned names, so callers get static strings (the list of category.h names). */
static const char *const parapet_names[] = {
    "harassment", "harassment/threatening", "hate", "hate/threatening", "illicit",
    "illicit/violent", "self-harm", "self-harm/intent", "self-harm/instructions", "sexual",
    "sexual/minors", "violence", "violence/graphic", "profanity", "pii", "secrets",
    "prompt_injection", "spam",
};

static const char *intern(const char *s, size_t n) {
    for (size_t i = 0; i < PP_ARRAY_LEN(parapet_names); i++)
        if (strlen(parapet_names[i]) == n && !memcmp(parapet_names[i], s, n))
            return parapet_names[i];
    return NULL;
}

size_t pp_guard_map_native(pp_guard_family f, size_t native, const char **names, size_t cap) {
    size_t n, k = 0;
    const char *const *m = map_of(f, &n);
    if (!m || native >= n) return 0;
    for (const char *s = m[native]; *s;) {
        size_t len = strcspn(s, ",");
        const char *name = intern(s, len);
        if (name && k < cap) names[k] = name;
        if (name) k++;
        s += len + (s[len] == ',');
    }
    return PP_MIN(k, cap);
}

size_t pp_guard_map_parapet(pp_guard_family f, const char *name, size_t *native, size_t cap) {
    size_t n, k = 0;
    const char *const *m = map_of(f, &n);
    if (!m || !name) return 0;
    for (size_t i = 0; i < n; i++) {
        const char *got[8];
        size_t ng = pp_guard_map_native(f, i, got, 8);
        for (size_t j = 0; j < ng; j++)
            if (!strcmp(got[j], name)) {
                if (k < cap) native[k++] = i;
                break;
            }
    }
    return k;
}
