/*
** data.c -- loading labeled JSONL for training and evaluation (see data.h).
**
** Lines are parsed with jansson.  Only "text", "labels", "lang", "id" and "source"
** are read; other fields are ignored.  Label values must be 0 or 1 (a number or a
** boolean); anything else makes the line malformed.  Label keys outside the set are
** ignored (the data may carry labels this model does not learn).
*/
#include "data.h"
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *const pp_data_label_name[PP_DATA_NLABELS] = {
#define X(n, c) n,
    PP_DATA_LABELS(X)
#undef X
};
const char *const pp_data_label_cat[PP_DATA_NLABELS] = {
#define X(n, c) c,
    PP_DATA_LABELS(X)
#undef X
};

int pp_data_label_id(const char *name) {
    for (int i = 0; i < PP_DATA_NLABELS; i++)
        if (!strcmp(pp_data_label_name[i], name)) return i;
    return -1;
}

int pp_data_split(uint64_t h, double dev_frac, double calib_frac) {
    /* Re-mix so that ids differing only at the end spread evenly. */
    h ^= h >> 31;
    h *= 0x7fb5d329728ea185ull;
    h ^= h >> 27;
    double u = (double)(h % 1000003ull) / 1000003.0;
    if (u < dev_frac) return 2;
    if (u < dev_frac + calib_frac) return 1;
    return 0;
}

void pp_data_free(pp_dataset *d) {
    if (!d) return;
    for (size_t i = 0; i < d->n; i++) pp_free(d->r[i].text);
    pp_free(d->r);
    for (size_t i = 0; i < d->n_sources; i++) pp_free(d->sources[i]);
    pp_free(d->sources);
    memset(d, 0, sizeof *d);
}

static int source_id(pp_dataset *d, const char *s) {
    for (size_t i = 0; i < d->n_sources; i++)
        if (!strcmp(d->sources[i], s)) return (int)i;
    if (d->n_sources >= 65535) return 0;
    char **ns = pp_realloc(d->sources, (d->n_sources + 1) * sizeof *ns);
    if (!ns) return -1;
    d->sources = ns;
    if (!(ns[d->n_sources] = pp_strdup(s))) return -1;
    return (int)d->n_sources++;
}

/* Parses one line into rec; returns 0, or -1 with *why set (static), or -2 on OOM. */
static int parse_line(pp_dataset *d, const char *line, size_t len, pp_rec *rec, char *why,
                      size_t why_n) {
    json_error_t err;
    json_t *root = json_loadb(line, len, JSON_ALLOW_NUL, &err);
    if (!root) { snprintf(why, why_n, "column %d: %s", err.column, err.text); return -1; }
    int rc = -1;
    memset(rec, 0, sizeof *rec);
    memset(rec->y, -1, sizeof rec->y);
    json_t *t = json_object_get(root, "text"), *labels = json_object_get(root, "labels");
    if (!json_is_object(root) || !json_is_string(t)) { snprintf(why, why_n, "no string \"text\""); goto out; }
    if (labels && !json_is_object(labels)) { snprintf(why, why_n, "\"labels\" is not an object"); goto out; }
    const char *key;
    json_t *v;
    json_object_foreach(labels, key, v) {
        int id = pp_data_label_id(key);
        if (id < 0) continue;
        int val;
        if (json_is_integer(v) && (json_integer_value(v) == 0 || json_integer_value(v) == 1))
            val = (int)json_integer_value(v);
        else if (json_is_real(v) && (json_real_value(v) == 0.0 || json_real_value(v) == 1.0))
            val = (int)json_real_value(v);
        else if (json_is_boolean(v))
            val = json_is_true(v);
        else { snprintf(why, why_n, "label \"%s\" is not 0 or 1", key); goto out; }
        rec->y[id] = (int8_t)val;
    }
    json_t *lang = json_object_get(root, "lang"), *id = json_object_get(root, "id"),
           *src = json_object_get(root, "source");
    snprintf(rec->lang, sizeof rec->lang, "%s", json_is_string(lang) ? json_string_value(lang) : "?");
    int si = source_id(d, json_is_string(src) ? json_string_value(src) : "?");
    if (si < 0) { rc = -2; goto out; }
    rec->source = (uint16_t)si;
    if (json_is_string(id))
        rec->id_hash = pp_fnv1a(json_string_value(id), json_string_length(id));
    else if (json_is_integer(id)) {
        long long x = json_integer_value(id);
        rec->id_hash = pp_fnv1a(&x, sizeof x);
    } else
        rec->id_hash = pp_fnv1a(json_string_value(t), json_string_length(t));
    rec->len = json_string_length(t);
    if (!(rec->text = pp_malloc(rec->len + 1))) { rc = -2; goto out; }
    memcpy(rec->text, json_string_value(t), rec->len);
    rec->text[rec->len] = 0;
    rc = 0;
out:
    json_decref(root);
    return rc;
}

static pp_status load_file(pp_dataset *d, const char *path, int strict, pp_warn_fn warn,
                           void *ud, char **detail) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        if (detail) *detail = pp_asprintf("%s: %s", path, strerror(e));
        return e == ENOENT ? PARAPET_ERR_NOT_FOUND : PARAPET_ERR_IO;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    size_t lineno = 0;
    pp_status st = PARAPET_OK;
    while ((got = getline(&line, &cap, f)) >= 0) {
        lineno++;
        size_t len = (size_t)got;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) len--;
        size_t k = 0;
        while (k < len && (line[k] == ' ' || line[k] == '\t')) k++;
        if (k == len) continue; /* blank lines are not records */
        if (PP_GROW(d->r, d->cap, d->n + 1)) { st = PARAPET_ERR_NOMEM; break; }
        char why[200];
        int rc = parse_line(d, line, len, &d->r[d->n], why, sizeof why);
        if (rc == -2) { st = PARAPET_ERR_NOMEM; break; }
        if (rc < 0) {
            if (strict) {
                if (detail) *detail = pp_asprintf("%s:%zu: %s", path, lineno, why);
                st = PARAPET_ERR_JSON;
                break;
            }
            d->n_bad++;
            if (warn) {
                char *m = pp_asprintf("%s:%zu: %s (line skipped)", path, lineno, why);
                if (m) warn(ud, m);
                pp_free(m);
            }
            continue;
        }
        d->n++;
    }
    if (!st && ferror(f)) {
        if (detail) *detail = pp_asprintf("%s: read error", path);
        st = PARAPET_ERR_IO;
    }
    free(line);
    fclose(f);
    return st;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

pp_status pp_data_load(const char *const *paths, size_t n_paths, int strict, pp_warn_fn warn,
                       void *ud, pp_dataset *d, char **detail) {
    memset(d, 0, sizeof *d);
    pp_status st = PARAPET_OK;
    for (size_t p = 0; p < n_paths && !st; p++) {
        struct stat sb;
        if (stat(paths[p], &sb)) {
            if (detail) *detail = pp_asprintf("%s: %s", paths[p], strerror(errno));
            st = PARAPET_ERR_NOT_FOUND;
            break;
        }
        if (!S_ISDIR(sb.st_mode)) { st = load_file(d, paths[p], strict, warn, ud, detail); continue; }
        DIR *dir = opendir(paths[p]);
        if (!dir) { st = PARAPET_ERR_IO; break; }
        char **names = NULL;
        size_t nn = 0, cn = 0;
        struct dirent *e;
        while ((e = readdir(dir))) {
            size_t l = strlen(e->d_name);
            if (l < 7 || strcmp(e->d_name + l - 6, ".jsonl")) continue;
            if (PP_GROW(names, cn, nn + 1) ||
                !(names[nn] = pp_asprintf("%s/%s", paths[p], e->d_name))) { st = PARAPET_ERR_NOMEM; break; }
            nn++;
        }
        closedir(dir);
        if (nn) qsort(names, nn, sizeof *names, cmp_str);
        for (size_t i = 0; i < nn && !st; i++) st = load_file(d, names[i], strict, warn, ud, detail);
        for (size_t i = 0; i < nn; i++) pp_free(names[i]);
        pp_free(names);
    }
    if (!st && !d->n) {
        if (detail && !*detail) *detail = pp_asprintf("no records in the given data");
        st = PARAPET_ERR_EMPTY;
    }
    if (st) pp_data_free(d);
    return st;
}
