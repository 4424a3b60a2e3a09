/*
** policy.c -- policy documents: parse (YAML, of which JSON is a subset), validate
** with line-numbered errors, overlay, canonical dump and hash.
**
** A policy document looks like this (docs/policy.md has the full reference):
**
**     version: 1
**     name: community
**     extends: default            # optional: start from the embedded default
**     defaults: {threshold: 0.5, action: flag}
**     detectors: {lexicon: true, pii: true, secrets: true, injection: true}
**     guard: {mode: cascade, low: 0.15, high: 0.85}   # when the guard model runs
**     categories:
**       harassment: {threshold: 0.4, action: block}
**       competitors:              # a custom category with its own terms
**         description: Mentions of competitor products
**         terms: [acme widget, globex]
**         weight: 0.9
**         action: review
**
** Parsing is two steps: libyaml's event stream is turned into a small tree that
** remembers the line and column of every node (anchors and aliases are refused, so
** no "billion laughs"; depth and node counts are capped), then the tree is validated
** against the schema and compiled into a parapet_policy.  Every error names the
** document, line and column.  The same code applies overlays (per-request
** overrides): the base policy is copied and the document's fields are applied on top.
*/
#include "policy.h"
#include <yaml.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_POLICY_BYTES (4u << 20)
#define MAX_DEPTH 32
#define MAX_NODES 200000
#define MAX_TERMS 100000
#define MAX_TERM_BYTES 512

/* ------------------------------------------------------------ the YAML tree */

enum { N_SCALAR, N_MAP, N_SEQ };

typedef struct ynode {
    int kind;
    int line, col;            /* 1-based */
    char *val;                /* scalar text (NUL-terminated) */
    int quoted;               /* scalar was quoted: never a bool/number */
    struct ynode **kids;      /* map: key, value, key, value...; seq: items */
    size_t n, cap;
} ynode;

typedef struct yctx {
    const char *name;
    char *err;                /* first error, formatted */
    size_t n_nodes;
} yctx;

static void ynode_free(ynode *n) {
    if (!n) return;
    for (size_t i = 0; i < n->n; i++) ynode_free(n->kids[i]);
    pp_free(n->kids);
    pp_free(n->val);
    pp_free(n);
}

static void set_err(yctx *c, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void set_err(yctx *c, int line, int col, const char *fmt, ...) {
    if (c->err) return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->err = pp_asprintf("%s:%d:%d: %s", c->name, line, col, msg);
    if (!c->err) c->err = pp_strdup("out of memory");
}

static ynode *ynode_new(yctx *c, int kind, const yaml_mark_t *m) {
    if (++c->n_nodes > MAX_NODES) {
        set_err(c, (int)m->line + 1, (int)m->column + 1, "document has too many nodes");
        return NULL;
    }
    ynode *n = pp_calloc(1, sizeof *n);
    if (!n) { set_err(c, 0, 0, "out of memory"); return NULL; }
    n->kind = kind;
    n->line = (int)m->line + 1;
    n->col = (int)m->column + 1;
    return n;
}

static int ynode_add(yctx *c, ynode *p, ynode *k) {
    if (PP_GROW(p->kids, p->cap, p->n + 1)) { set_err(c, 0, 0, "out of memory"); return -1; }
    p->kids[p->n++] = k;
    return 0;
}

/* Builds the node that starts with event `ev` (already taken); consumes through its
** end event.  Returns NULL on error (c->err set). */
static ynode *build(yctx *c, yaml_parser_t *yp, yaml_event_t *ev, int depth) {
    if (depth > MAX_DEPTH) {
        set_err(c, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
                "nesting deeper than %d levels", MAX_DEPTH);
        return NULL;
    }
    switch (ev->type) {
    case YAML_SCALAR_EVENT: {
        ynode *n = ynode_new(c, N_SCALAR, &ev->start_mark);
        if (!n) return NULL;
        n->val = pp_strndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
        if (!n->val) { ynode_free(n); set_err(c, 0, 0, "out of memory"); return NULL; }
        if (strlen(n->val) != ev->data.scalar.length) {
            set_err(c, n->line, n->col, "NUL byte inside a string");
            ynode_free(n);
            return NULL;
        }
        n->quoted = ev->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                    ev->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
        return n;
    }
    case YAML_ALIAS_EVENT:
        set_err(c, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
                "anchors and aliases are not supported in policies");
        return NULL;
    case YAML_MAPPING_START_EVENT:
    case YAML_SEQUENCE_START_EVENT: {
        int is_map = ev->type == YAML_MAPPING_START_EVENT;
        if ((is_map && ev->data.mapping_start.anchor) ||
            (!is_map && ev->data.sequence_start.anchor)) {
            set_err(c, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
                    "anchors and aliases are not supported in policies");
            return NULL;
        }
        ynode *n = ynode_new(c, is_map ? N_MAP : N_SEQ, &ev->start_mark);
        if (!n) return NULL;
        for (;;) {
            yaml_event_t e;
            if (!yaml_parser_parse(yp, &e)) {
                set_err(c, (int)yp->problem_mark.line + 1, (int)yp->problem_mark.column + 1,
                        "%s", yp->problem ? yp->problem : "syntax error");
                ynode_free(n);
                return NULL;
            }
            if (e.type == YAML_MAPPING_END_EVENT || e.type == YAML_SEQUENCE_END_EVENT) {
                yaml_event_delete(&e);
                break;
            }
            ynode *k = build(c, yp, &e, depth + 1);
            yaml_event_delete(&e);
            if (!k || ynode_add(c, n, k)) { ynode_free(k); ynode_free(n); return NULL; }
        }
        return n;
    }
    default:
        set_err(c, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
                "unexpected YAML event");
        return NULL;
    }
}

/* Parses text into a tree; NULL root (without error) for an empty document. */
static int parse_tree(yctx *c, const char *text, size_t len, ynode **root) {
    *root = NULL;
    yaml_parser_t yp;
    if (!yaml_parser_initialize(&yp)) { set_err(c, 0, 0, "out of memory"); return -1; }
    yaml_parser_set_input_string(&yp, (const unsigned char *)text, len);
    yaml_parser_set_encoding(&yp, YAML_UTF8_ENCODING);
    int rc = 0, docs = 0;
    for (;;) {
        yaml_event_t e;
        if (!yaml_parser_parse(&yp, &e)) {
            set_err(c, (int)yp.problem_mark.line + 1, (int)yp.problem_mark.column + 1, "%s",
                    yp.problem ? yp.problem : "syntax error");
            rc = -1;
            break;
        }
        yaml_event_type_t t = e.type;
        if (t == YAML_STREAM_END_EVENT) { yaml_event_delete(&e); break; }
        if (t == YAML_DOCUMENT_START_EVENT && ++docs > 1) {
            set_err(c, (int)e.start_mark.line + 1, (int)e.start_mark.column + 1,
                    "only one document per policy file");
            yaml_event_delete(&e);
            rc = -1;
            break;
        }
        if (t == YAML_SCALAR_EVENT || t == YAML_MAPPING_START_EVENT ||
            t == YAML_SEQUENCE_START_EVENT || t == YAML_ALIAS_EVENT) {
            ynode *n = build(c, &yp, &e, 0);
            yaml_event_delete(&e);
            if (!n) { rc = -1; break; }
            ynode_free(*root);
            *root = n;
            continue;
        }
        yaml_event_delete(&e);
    }
    yaml_parser_delete(&yp);
    if (rc) { ynode_free(*root); *root = NULL; }
    return rc;
}

/* ---------------------------------------------------------- scalar helpers */

static int scalar_bool(const ynode *n, int *out) {
    if (n->kind != N_SCALAR || n->quoted) return -1;
    static const char *t[] = {"true", "yes", "on", "True", "TRUE", "Yes", "On"};
    static const char *f[] = {"false", "no", "off", "False", "FALSE", "No", "Off"};
    for (size_t i = 0; i < PP_ARRAY_LEN(t); i++) if (!strcmp(n->val, t[i])) { *out = 1; return 0; }
    for (size_t i = 0; i < PP_ARRAY_LEN(f); i++) if (!strcmp(n->val, f[i])) { *out = 0; return 0; }
    return -1;
}

static int scalar_num(const ynode *n, double *out) {
    if (n->kind != N_SCALAR || n->quoted || !n->val[0]) return -1;
    char *end;
    errno = 0;
    double v = strtod(n->val, &end);
    if (*end || errno || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

static int parse_action(const char *s, parapet_action *a) {
    for (int i = 0; i <= PARAPET_ACTION_BLOCK; i++)
        if (!strcmp(s, parapet_action_name((parapet_action)i))) { *a = (parapet_action)i; return 0; }
    return -1;
}

static int valid_cat_name(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > 64) return 0;
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9'))) return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' ||
              ch == '-' || ch == '/' || ch == '.'))
            return 0;
    }
    return 1;
}

static int valid_utf8(const char *s, size_t n) {
    /* Minimal local check to keep this layer independent of src/text. */
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned c = p[i];
        size_t k = c < 0x80 ? 1 : c < 0xC2 ? 0 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : c < 0xF5 ? 4 : 0;
        if (!k || i + k > n) return 0;
        for (size_t j = 1; j < k; j++) if ((p[i + j] & 0xC0) != 0x80) return 0;
        if (k == 3 && ((c == 0xE0 && p[i + 1] < 0xA0) || (c == 0xED && p[i + 1] >= 0xA0))) return 0;
        if (k == 4 && ((c == 0xF0 && p[i + 1] < 0x90) || (c == 0xF4 && p[i + 1] >= 0x90))) return 0;
        i += k;
    }
    return 1;
}

/* ------------------------------------------------------------ policy object */

static void pcat_clear(pp_pcat *c) {
    pp_free(c->name);
    pp_free(c->description);
    for (size_t i = 0; i < c->n_terms; i++) pp_free(c->terms[i]);
    pp_free(c->terms);
    memset(c, 0, sizeof *c);
}

void parapet_policy_free(parapet_policy *p) {
    if (!p) return;
    for (size_t i = 0; i < p->n_cats; i++) pcat_clear(&p->cats[i]);
    pp_free(p->name);
    pp_free(p->description);
    pp_free(p->names);
    pp_free(p);
}

static parapet_policy *policy_new(void) {
    parapet_policy *p = pp_calloc(1, sizeof *p);
    if (!p) return NULL;
    for (int i = 0; i < PP_DET_COUNT; i++) p->detector_on[i] = 1;
    p->guard_mode = PP_GUARD_RUN_CASCADE;
    p->guard_low = PP_GUARD_DEFAULT_LOW;
    p->guard_high = PP_GUARD_DEFAULT_HIGH;
    return p;
}

static parapet_policy *policy_copy(const parapet_policy *b) {
    parapet_policy *p = policy_new();
    if (!p) return NULL;
    memcpy(p->detector_on, b->detector_on, sizeof p->detector_on);
    p->max_input_bytes = b->max_input_bytes;
    p->guard_mode = b->guard_mode;
    p->guard_low = b->guard_low;
    p->guard_high = b->guard_high;
    memcpy(p->guard_cal_a, b->guard_cal_a, sizeof p->guard_cal_a);
    memcpy(p->guard_cal_b, b->guard_cal_b, sizeof p->guard_cal_b);
    memcpy(p->guard_cal_on, b->guard_cal_on, sizeof p->guard_cal_on);
    p->name = pp_strdup(b->name ? b->name : "");
    p->description = pp_strdup(b->description ? b->description : "");
    if (!p->name || !p->description) goto oom;
    for (size_t i = 0; i < b->n_cats; i++) {
        const pp_pcat *s = &b->cats[i];
        pp_pcat *d = &p->cats[i];
        *d = *s;
        d->name = d->description = NULL;
        d->terms = NULL;
        d->n_terms = 0;
        p->n_cats = i + 1;
        d->name = pp_strdup(s->name);
        d->description = pp_strdup(s->description);
        if (!d->name || !d->description) goto oom;
        if (s->n_terms) {
            d->terms = pp_calloc(s->n_terms, sizeof *d->terms);
            if (!d->terms) goto oom;
            for (size_t j = 0; j < s->n_terms; j++) {
                d->terms[j] = pp_strdup(s->terms[j]);
                if (!d->terms[j]) goto oom;
                d->n_terms = j + 1;
            }
        }
    }
    return p;
oom:
    parapet_policy_free(p);
    return NULL;
}

int pp_policy_find(const parapet_policy *p, const char *name) {
    for (size_t i = 0; i < p->n_cats; i++)
        if (!strcmp(p->cats[i].name, name)) return (int)i;
    return -1;
}

int pp_policy_find_id(const parapet_policy *p, int id) {
    for (size_t i = 0; i < p->n_cats; i++)
        if (p->cats[i].id == id) return (int)i;
    return -1;
}

static int next_custom_id(const parapet_policy *p) {
    int id = PP_CAT_BUILTIN_COUNT;
    for (size_t i = 0; i < p->n_cats; i++)
        if (p->cats[i].id >= id) id = p->cats[i].id + 1;
    return id;
}

/* ------------------------------------------------------------- validation */

static const ynode *map_get(const ynode *m, const char *key) {
    for (size_t i = 0; i + 1 < m->n; i += 2)
        if (m->kids[i]->kind == N_SCALAR && !strcmp(m->kids[i]->val, key)) return m->kids[i + 1];
    return NULL;
}

/* Checks that every key of map m is a scalar in `allowed` and none repeats. */
static int check_keys(yctx *c, const ynode *m, const char *what, const char *const *allowed) {
    for (size_t i = 0; i + 1 < m->n; i += 2) {
        const ynode *k = m->kids[i];
        if (k->kind != N_SCALAR) { set_err(c, k->line, k->col, "%s: keys must be strings", what); return -1; }
        int ok = 0;
        for (size_t a = 0; allowed[a]; a++) if (!strcmp(k->val, allowed[a])) ok = 1;
        if (!ok) {
            pp_buf b;
            pp_buf_init(&b);
            for (size_t a = 0; allowed[a]; a++) pp_buf_printf(&b, "%s%s", a ? ", " : "", allowed[a]);
            set_err(c, k->line, k->col, "%s: unknown key \"%s\" (expected one of: %s)", what,
                    k->val, b.p ? b.p : "");
            pp_buf_free(&b);
            return -1;
        }
        for (size_t j = 0; j < i; j += 2)
            if (!strcmp(m->kids[j]->val, k->val)) {
                set_err(c, k->line, k->col, "%s: duplicate key \"%s\"", what, k->val);
                return -1;
            }
    }
    return 0;
}

static int get_threshold(yctx *c, const ynode *v, double *out) {
    double d;
    if (scalar_num(v, &d) || d < 0 || d > 1) {
        set_err(c, v->line, v->col, "threshold must be a number in [0,1]");
        return -1;
    }
    *out = d;
    return 0;
}

static int get_action(yctx *c, const ynode *v, parapet_action *out) {
    if (v->kind != N_SCALAR || parse_action(v->val, out)) {
        set_err(c, v->line, v->col,
                "action must be one of allow, flag, redact, review, block");
        return -1;
    }
    return 0;
}

static int get_string(yctx *c, const ynode *v, const char *what, char **out) {
    if (v->kind != N_SCALAR) { set_err(c, v->line, v->col, "%s must be a string", what); return -1; }
    if (!valid_utf8(v->val, strlen(v->val))) { set_err(c, v->line, v->col, "%s is not valid UTF-8", what); return -1; }
    char *s = pp_strdup(v->val);
    if (!s) { set_err(c, 0, 0, "out of memory"); return -1; }
    pp_free(*out);
    *out = s;
    return 0;
}

static int apply_category(yctx *c, parapet_policy *p, const ynode *k, const ynode *v,
                          double def_thr, parapet_action def_act, int overlay) {
    static const char *const keys[] = {"description", "threshold", "action", "enabled",
                                       "terms", "weight", NULL};
    if (!valid_cat_name(k->val)) {
        set_err(c, k->line, k->col,
                "invalid category name \"%s\" (lowercase letters, digits, _ - / . ; at most 64)",
                k->val);
        return -1;
    }
    if (v->kind == N_SCALAR && !v->val[0]) v = NULL; /* "name:" with nothing: defaults */
    if (v && v->kind != N_MAP) {
        set_err(c, v->line, v->col, "category \"%s\" must be a mapping", k->val);
        return -1;
    }
    if (v && check_keys(c, v, k->val, keys)) return -1;
    int idx = pp_policy_find(p, k->val);
    pp_pcat *cat;
    if (idx < 0) {
        if (p->n_cats >= PP_MAX_CATS) {
            set_err(c, k->line, k->col, "too many categories (at most %d)", PP_MAX_CATS);
            return -1;
        }
        int builtin = pp_category_id(k->val);
        int id = builtin >= 0 ? builtin : next_custom_id(p);
        if (id >= PP_MAX_CATS) {
            set_err(c, k->line, k->col, "too many custom categories");
            return -1;
        }
        cat = &p->cats[p->n_cats];
        memset(cat, 0, sizeof *cat);
        cat->name = pp_strdup(k->val);
        cat->description = pp_strdup("");
        if (!cat->name || !cat->description) {
            pcat_clear(cat);
            set_err(c, 0, 0, "out of memory");
            return -1;
        }
        p->n_cats++;
        cat->id = id;
        cat->threshold = def_thr;
        cat->action = def_act;
        cat->enabled = 1;
        cat->weight = 0.9f;
    } else {
        cat = &p->cats[idx];
    }
    (void)overlay;
    if (!v) return 0;
    const ynode *x;
    if ((x = map_get(v, "description")) && get_string(c, x, "description", &cat->description)) return -1;
    if ((x = map_get(v, "threshold")) && get_threshold(c, x, &cat->threshold)) return -1;
    if ((x = map_get(v, "action")) && get_action(c, x, &cat->action)) return -1;
    if ((x = map_get(v, "enabled")) && scalar_bool(x, &cat->enabled)) {
        set_err(c, x->line, x->col, "enabled must be true or false");
        return -1;
    }
    if ((x = map_get(v, "weight"))) {
        double w;
        if (scalar_num(x, &w) || w <= 0 || w > 1) {
            set_err(c, x->line, x->col, "weight must be a number in (0,1]");
            return -1;
        }
        cat->weight = (float)w;
    }
    if ((x = map_get(v, "terms"))) {
        if (x->kind != N_SEQ) { set_err(c, x->line, x->col, "terms must be a list of strings"); return -1; }
        if (x->n > MAX_TERMS) { set_err(c, x->line, x->col, "too many terms (at most %d)", MAX_TERMS); return -1; }
        char **terms = pp_calloc(x->n ? x->n : 1, sizeof *terms);
        if (!terms) { set_err(c, 0, 0, "out of memory"); return -1; }
        size_t nt = 0;
        for (size_t i = 0; i < x->n; i++) {
            const ynode *t = x->kids[i];
            size_t tl = t->kind == N_SCALAR ? strlen(t->val) : 0;
            const char *why = t->kind != N_SCALAR ? "must be a string"
                              : tl == 0 ? "must not be empty"
                              : tl > MAX_TERM_BYTES ? "is too long"
                              : !valid_utf8(t->val, tl) ? "is not valid UTF-8" : NULL;
            if (why) {
                set_err(c, t->line, t->col, "term %zu %s", i + 1, why);
                for (size_t j = 0; j < nt; j++) pp_free(terms[j]);
                pp_free(terms);
                return -1;
            }
            if (!(terms[nt++] = pp_strdup(t->val))) {
                for (size_t j = 0; j < nt; j++) pp_free(terms[j]);
                pp_free(terms);
                set_err(c, 0, 0, "out of memory");
                return -1;
            }
        }
        for (size_t j = 0; j < cat->n_terms; j++) pp_free(cat->terms[j]);
        pp_free(cat->terms);
        cat->terms = terms;
        cat->n_terms = nt;
    }
    return 0;
}

/* The guard section: {mode: always|never|cascade, low: 0.15, high: 0.85,
** calibration: {...}}.  Keys not given keep the base policy's values; low <= high is
** checked on the result.  calibration is read by apply_guard_calibration, after the
** categories (it names them). */
static int apply_guard(yctx *c, parapet_policy *p, const ynode *x) {
    static const char *const gk[] = {"mode", "low", "high", "calibration", NULL};
    static const char *const modes[] = {"cascade", "always", "never"};
    if (x->kind != N_MAP) { set_err(c, x->line, x->col, "guard must be a mapping"); return -1; }
    if (check_keys(c, x, "guard", gk)) return -1;
    const ynode *y;
    if ((y = map_get(x, "mode"))) {
        int m = -1;
        for (int i = 0; i < 3 && y->kind == N_SCALAR; i++) if (!strcmp(y->val, modes[i])) m = i;
        if (m < 0) { set_err(c, y->line, y->col, "guard mode must be always, never or cascade"); return -1; }
        p->guard_mode = m;
    }
    if ((y = map_get(x, "low")) && get_threshold(c, y, &p->guard_low)) return -1;
    if ((y = map_get(x, "high")) && get_threshold(c, y, &p->guard_high)) return -1;
    if (p->guard_low > p->guard_high) {
        set_err(c, x->line, x->col, "guard low must not exceed guard high");
        return -1;
    }
    return 0;
}

/* guard.calibration: {category: {a: A, b: B}, ...}: the guard's probability p for that
** category becomes sigmoid(A * logit(p) + B).  Each category must exist; A in
** (0, 100], B in [-100, 100]. */
static int apply_guard_calibration(yctx *c, parapet_policy *p, const ynode *g) {
    const ynode *x = map_get(g, "calibration");
    if (!x || (x->kind == N_SCALAR && !x->val[0])) return 0;   /* absent or empty */
    if (x->kind != N_MAP) {
        set_err(c, x->line, x->col, "guard calibration must be a mapping of category: {a, b}");
        return -1;
    }
    static const char *const ck[] = {"a", "b", NULL};
    for (size_t i = 0; i + 1 < x->n; i += 2) {
        const ynode *k = x->kids[i], *v = x->kids[i + 1];
        int ci = k->kind == N_SCALAR ? pp_policy_find(p, k->val) : -1;
        if (ci < 0) {
            set_err(c, k->line, k->col, "guard calibration: unknown category \"%s\"",
                    k->kind == N_SCALAR ? k->val : "?");
            return -1;
        }
        if (v->kind != N_MAP) { set_err(c, v->line, v->col, "guard calibration: expected {a, b}"); return -1; }
        if (check_keys(c, v, "guard calibration", ck)) return -1;
        const ynode *ya = map_get(v, "a"), *yb = map_get(v, "b");
        double a, b;
        if (!ya || scalar_num(ya, &a) || !(a > 0 && a <= 100)) {
            set_err(c, ya ? ya->line : v->line, ya ? ya->col : v->col,
                    "guard calibration: a must be a number in (0, 100]");
            return -1;
        }
        if (!yb || scalar_num(yb, &b) || !(b >= -100 && b <= 100)) {
            set_err(c, yb ? yb->line : v->line, yb ? yb->col : v->col,
                    "guard calibration: b must be a number in [-100, 100]");
            return -1;
        }
        int id = p->cats[ci].id;
        p->guard_cal_a[id] = (float)a;
        p->guard_cal_b[id] = (float)b;
        p->guard_cal_on[id] = 1;
    }
    return 0;
}

static int apply_doc(yctx *c, parapet_policy *p, const ynode *root, int overlay) {
    static const char *const keys[] = {"version", "name", "description", "extends",
                                       "defaults", "detectors", "categories", "limits",
                                       "guard", NULL};
    if (root->kind != N_MAP) {
        set_err(c, root->line, root->col, "a policy must be a mapping (key: value lines)");
        return -1;
    }
    if (check_keys(c, root, "policy", keys)) return -1;
    const ynode *x;
    if ((x = map_get(root, "version"))) {
        double v;
        if (scalar_num(x, &v) || v != 1) {
            set_err(c, x->line, x->col, "unsupported policy version (this parapet reads version 1)");
            return -1;
        }
    }
    if ((x = map_get(root, "name")) && get_string(c, x, "name", &p->name)) return -1;
    if ((x = map_get(root, "description")) && get_string(c, x, "description", &p->description)) return -1;
    double def_thr = 0.5;
    parapet_action def_act = PARAPET_ACTION_FLAG;
    if ((x = map_get(root, "defaults"))) {
        static const char *const dk[] = {"threshold", "action", NULL};
        if (x->kind != N_MAP) { set_err(c, x->line, x->col, "defaults must be a mapping"); return -1; }
        if (check_keys(c, x, "defaults", dk)) return -1;
        const ynode *y;
        if ((y = map_get(x, "threshold")) && get_threshold(c, y, &def_thr)) return -1;
        if ((y = map_get(x, "action")) && get_action(c, y, &def_act)) return -1;
    }
    if ((x = map_get(root, "detectors"))) {
        if (x->kind != N_MAP) { set_err(c, x->line, x->col, "detectors must be a mapping"); return -1; }
        const char *names[PP_DET_COUNT + 1];
        for (int i = 0; i < PP_DET_COUNT; i++) names[i] = pp_detectors[i]->name;
        names[PP_DET_COUNT] = NULL;
        if (check_keys(c, x, "detectors", names)) return -1;
        for (size_t i = 0; i + 1 < x->n; i += 2)
            for (int d = 0; d < PP_DET_COUNT; d++)
                if (!strcmp(x->kids[i]->val, names[d]) && scalar_bool(x->kids[i + 1], &p->detector_on[d])) {
                    set_err(c, x->kids[i + 1]->line, x->kids[i + 1]->col,
                            "detector switch must be true or false");
                    return -1;
                }
    }
    if ((x = map_get(root, "guard")) && apply_guard(c, p, x)) return -1;
    if ((x = map_get(root, "limits"))) {
        static const char *const lk[] = {"max_input_bytes", NULL};
        if (x->kind != N_MAP) { set_err(c, x->line, x->col, "limits must be a mapping"); return -1; }
        if (check_keys(c, x, "limits", lk)) return -1;
        const ynode *y = map_get(x, "max_input_bytes");
        double v;
        if (y && (scalar_num(y, &v) || v < 1 || v > 4294967295.0 || v != floor(v))) {
            set_err(c, y->line, y->col, "max_input_bytes must be a whole number from 1 to 4294967295");
            return -1;
        }
        if (y) p->max_input_bytes = (size_t)v;
    }
    if ((x = map_get(root, "categories"))) {
        if (x->kind == N_SCALAR && !x->val[0]) return 0;
        if (x->kind != N_MAP) { set_err(c, x->line, x->col, "categories must be a mapping of name: settings"); return -1; }
        for (size_t i = 0; i + 1 < x->n; i += 2) {
            const ynode *k = x->kids[i];
            if (k->kind != N_SCALAR) { set_err(c, k->line, k->col, "category names must be strings"); return -1; }
            for (size_t j = 0; j < i; j += 2)
                if (!strcmp(x->kids[j]->val, k->val)) {
                    set_err(c, k->line, k->col, "duplicate category \"%s\"", k->val);
                    return -1;
                }
            if (apply_category(c, p, k, x->kids[i + 1], def_thr, def_act, overlay)) return -1;
        }
    }
    if ((x = map_get(root, "guard")) && apply_guard_calibration(c, p, x)) return -1;
    return 0;
}

/* ------------------------------------------------------------- dump + hash */

static void dump_str(pp_buf *b, const char *s) {
    pp_buf_putc(b, '"');
    pp_buf_json_str(b, s, strlen(s));
    pp_buf_putc(b, '"');
}

parapet_status parapet_policy_dump(const parapet_policy *p, char **out, size_t *out_len) {
    if (!p || !out) return PARAPET_ERR_ARG;
    pp_buf b;
    pp_buf_init(&b);
    pp_buf_puts(&b, "version: 1\nname: ");
    dump_str(&b, p->name ? p->name : "");
    pp_buf_puts(&b, "\ndescription: ");
    dump_str(&b, p->description ? p->description : "");
    pp_buf_puts(&b, "\ndetectors:\n");
    for (int d = 0; d < PP_DET_COUNT; d++)
        pp_buf_printf(&b, "  %s: %s\n", pp_detectors[d]->name, p->detector_on[d] ? "true" : "false");
    if (p->max_input_bytes) pp_buf_printf(&b, "limits:\n  max_input_bytes: %zu\n", p->max_input_bytes);
    int any_cal = 0;
    for (int i = 0; i < PP_MAX_CATS; i++) any_cal |= p->guard_cal_on[i];
    if (p->guard_mode != PP_GUARD_RUN_CASCADE || p->guard_low != PP_GUARD_DEFAULT_LOW ||
        p->guard_high != PP_GUARD_DEFAULT_HIGH || any_cal) {
        static const char *const modes[] = {"cascade", "always", "never"};
        pp_buf_printf(&b, "guard:\n  mode: %s\n  low: %.17g\n  high: %.17g\n",
                      modes[p->guard_mode], p->guard_low, p->guard_high);
        if (any_cal) {
            pp_buf_puts(&b, "  calibration:\n");
            for (size_t i = 0; i < p->n_cats; i++) {
                int id = p->cats[i].id;
                if (!p->guard_cal_on[id]) continue;
                pp_buf_puts(&b, "    ");
                dump_str(&b, p->cats[i].name);
                pp_buf_printf(&b, ": {a: %.9g, b: %.9g}\n", (double)p->guard_cal_a[id],
                              (double)p->guard_cal_b[id]);
            }
        }
    }
    pp_buf_puts(&b, "categories:\n");
    for (size_t i = 0; i < p->n_cats; i++) {
        const pp_pcat *c = &p->cats[i];
        pp_buf_puts(&b, "  ");
        dump_str(&b, c->name);
        pp_buf_puts(&b, ":\n    description: ");
        dump_str(&b, c->description);
        pp_buf_printf(&b, "\n    threshold: %.17g\n    action: %s\n    enabled: %s\n",
                      c->threshold, parapet_action_name(c->action), c->enabled ? "true" : "false");
        if (c->n_terms) {
            pp_buf_printf(&b, "    weight: %.9g\n    terms: [", (double)c->weight);
            for (size_t j = 0; j < c->n_terms; j++) {
                if (j) pp_buf_puts(&b, ", ");
                dump_str(&b, c->terms[j]);
            }
            pp_buf_puts(&b, "]\n");
        }
    }
    char *s = pp_buf_detach(&b, out_len);
    if (!s) return PARAPET_ERR_NOMEM;
    *out = s;
    return PARAPET_OK;
}

/* Computes the hash and the names block; called once when a policy is final. */
static parapet_status rehash(parapet_policy *p) {
    char *s;
    size_t n;
    parapet_status st = parapet_policy_dump(p, &s, &n);
    if (st) return st;
    pp_sha256_hex(s, n, p->hash);
    pp_free(s);
    pp_buf b;
    pp_buf_init(&b);
    pp_buf_putc(&b, 0);
    pp_buf_put(&b, p->name ? p->name : "", strlen(p->name ? p->name : "") + 1);
    for (int id = 0; id < PP_MAX_CATS; id++) p->cat_of_id[id] = (int8_t)pp_policy_find_id(p, id);
    for (size_t i = 0; i < p->n_cats; i++) {
        p->names_off[i] = b.len;
        pp_buf_put(&b, p->cats[i].name, strlen(p->cats[i].name) + 1);
        p->quiet[i] = (parapet_category_score){NULL, 0, p->cats[i].threshold, 0,
                                               PARAPET_ACTION_ALLOW};
    }
    pp_free(p->names);
    p->names = pp_buf_detach(&b, &p->names_len);
    return p->names ? PARAPET_OK : PARAPET_ERR_NOMEM;
}

/* ------------------------------------------------------------ public entry */

parapet_status parapet_policy_parse(const char *text, size_t len, const char *name,
                                    const parapet_policy *base, parapet_policy **out,
                                    char **detail) {
    if (detail) *detail = NULL;
    if (!out || (!text && len)) return PARAPET_ERR_ARG;
    yctx c = {name ? name : "policy", NULL, 0};
    if (len > MAX_POLICY_BYTES) {
        if (detail) *detail = pp_asprintf("%s: policy larger than %u bytes", c.name, MAX_POLICY_BYTES);
        return PARAPET_ERR_POLICY;
    }
    if (!valid_utf8(text, len) || memchr(text, 0, len)) {
        if (detail) *detail = pp_asprintf("%s: policy is not valid UTF-8 text", c.name);
        return PARAPET_ERR_POLICY;
    }
    ynode *root = NULL;
    parapet_policy *p = NULL;
    parapet_policy *def = NULL;
    parapet_status st = PARAPET_ERR_POLICY;
    if (parse_tree(&c, text, len, &root)) goto fail;
    if (!root) {
        if (!base) { set_err(&c, 1, 1, "empty policy"); goto fail; }
        p = policy_copy(base);
    } else {
        const ynode *ext = root->kind == N_MAP ? map_get(root, "extends") : NULL;
        if (ext) {
            if (ext->kind != N_SCALAR || strcmp(ext->val, "default")) {
                set_err(&c, ext->line, ext->col, "extends: only \"default\" is supported");
                goto fail;
            }
            if (!base) {
                st = parapet_policy_default(&def);
                if (st) goto fail;
                st = PARAPET_ERR_POLICY; /* what a failure from here on means */
                base = def;
            }
        }
        p = base ? policy_copy(base) : policy_new();
    }
    if (!p) { st = PARAPET_ERR_NOMEM; goto fail; }
    if (!base) {
        p->name = pp_strdup(name ? name : "policy");
        p->description = pp_strdup("");
        if (!p->name || !p->description) { st = PARAPET_ERR_NOMEM; goto fail; }
    }
    if (root && apply_doc(&c, p, root, base != NULL)) goto fail;
    if (p->n_cats == 0) { set_err(&c, 1, 1, "policy defines no categories"); goto fail; }
    if ((st = rehash(p))) goto fail;
    ynode_free(root);
    parapet_policy_free(def);
    *out = p;
    return PARAPET_OK;
fail:
    if (st == PARAPET_ERR_POLICY && !c.err) c.err = pp_asprintf("%s: invalid policy", c.name);
    if (detail) *detail = c.err; else pp_free(c.err);
    ynode_free(root);
    parapet_policy_free(p);
    parapet_policy_free(def);
    return st;
}

parapet_status parapet_policy_load(const char *path, parapet_policy **out, char **detail) {
    if (detail) *detail = NULL;
    if (!path || !out) return PARAPET_ERR_ARG;
    char *text;
    size_t len;
    parapet_status st = pp_read_file(path, MAX_POLICY_BYTES, &text, &len, detail);
    if (st) return st == PARAPET_ERR_TOO_LARGE ? PARAPET_ERR_POLICY : st;
    st = parapet_policy_parse(text, len, path, NULL, out, detail);
    pp_free(text);
    return st;
}

parapet_status parapet_policy_default(parapet_policy **out) {
    const pp_blob *b = pp_embedded_find("policies/default.yaml");
    if (!b) return PARAPET_ERR_INTERNAL;
    char *detail = NULL;
    parapet_status st = parapet_policy_parse((const char *)b->data, b->len, "default", NULL, out, &detail);
    pp_free(detail);
    return st;
}

const char *parapet_policy_name(const parapet_policy *p) { return p && p->name ? p->name : ""; }
const char *parapet_policy_hash(const parapet_policy *p) { return p ? p->hash : ""; }
size_t parapet_policy_category_count(const parapet_policy *p) { return p ? p->n_cats : 0; }

parapet_status parapet_policy_category(const parapet_policy *p, size_t i, parapet_category_info *o) {
    if (!p || !o || i >= p->n_cats) return PARAPET_ERR_ARG;
    const pp_pcat *c = &p->cats[i];
    o->name = c->name;
    o->description = c->description ? c->description : "";
    o->threshold = c->threshold;
    o->action = c->action;
    o->enabled = c->enabled;
    o->custom = c->id >= PP_CAT_BUILTIN_COUNT;
    o->n_terms = c->n_terms;
    return PARAPET_OK;
}
