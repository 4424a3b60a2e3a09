/*
** record.c -- one JSONL input record: {"text": ..., "id": ..., "policy": {...}}.
**
** JSON parsing is jansson's (strict RFC 8259, rejects invalid UTF-8 and duplicate
** keys are last-wins); this file only extracts and copies the fields parapet uses,
** so front ends (CLI, batch, server) share one definition of a record.
*/
#include "../core/core.h"
#include <jansson.h>
#include <string.h>

void parapet_record_clear(parapet_record *r) {
    if (!r) return;
    pp_free(r->text);
    pp_free(r->id_json);
    pp_free(r->policy_json);
    memset(r, 0, sizeof *r);
}

static char *dump(const json_t *v) {
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!s) return NULL;
    char *d = pp_strdup(s);
    free(s);
    return d;
}

parapet_status parapet_record_parse(const char *line, size_t len, parapet_record *out,
                                    char **detail) {
    if (detail) *detail = NULL;
    if (!out || (!line && len)) return PARAPET_ERR_ARG;
    memset(out, 0, sizeof *out);
    json_error_t err;
    json_t *root = json_loadb(line ? line : "", len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
    if (!root) {
        if (detail) *detail = pp_asprintf("column %d: %s", err.column, err.text);
        return PARAPET_ERR_JSON;
    }
    parapet_status st = PARAPET_OK;
    if (!json_is_object(root)) {
        if (detail) *detail = pp_strdup("expected a JSON object with a \"text\" field");
        st = PARAPET_ERR_ARG;
        goto done;
    }
    json_t *t = json_object_get(root, "text");
    if (!t) t = json_object_get(root, "input");
    if (!t || !json_is_string(t)) {
        if (detail) *detail = pp_strdup(t ? "\"text\" must be a string" : "missing \"text\" field");
        st = PARAPET_ERR_ARG;
        goto done;
    }
    out->text_len = json_string_length(t);
    out->text = pp_malloc(out->text_len + 1);
    if (!out->text) { st = PARAPET_ERR_NOMEM; goto done; }
    memcpy(out->text, json_string_value(t), out->text_len);
    out->text[out->text_len] = 0;
    json_t *id = json_object_get(root, "id");
    if (id && !(out->id_json = dump(id))) { st = PARAPET_ERR_NOMEM; goto done; }
    json_t *pol = json_object_get(root, "policy");
    if (pol) {
        if (!json_is_object(pol)) {
            if (detail) *detail = pp_strdup("\"policy\" must be an object");
            st = PARAPET_ERR_ARG;
            goto done;
        }
        if (!(out->policy_json = dump(pol))) { st = PARAPET_ERR_NOMEM; goto done; }
    }
done:
    json_decref(root);
    if (st) parapet_record_clear(out);
    return st;
}
