/*
** config.c -- `parapet serve` configuration: defaults and the YAML config file.
**
**     host: 127.0.0.1            port: 8080           threads: 0   # 0 = cores
**     workers: 0                 queue_depth: 0       # 0 = 64 per worker
**     max_body_bytes: 1048576    max_header_bytes: 16384   max_connections: 10000
**     inline_max_bytes: 65536    max_inputs: 2048
**     guard_queue_depth: 64      # guard-model requests queued or running; beyond: 503
**     timeouts: {header_ms: 10000, body_ms: 30000, idle_ms: 60000, write_ms: 30000,
**                shutdown_ms: 10000}
**     api_keys: [{key: "sk-...", rate_limit: 100, burst: 200}]   # rate: requests/s
**     tls: {cert: /etc/ssl/parapet.pem, key: /etc/ssl/parapet.key}   # PEM; TLS 1.2+
**     policy: /etc/parapet/policy.yaml     model: /etc/parapet/model.ppm
**     guard: {model: /var/lib/parapet/llama-guard-3-1b.Q4_K_M.gguf, threads: 4, batch: 8}
**     access_log: {path: /var/log/parapet/access.log, text: false}   # or a path, "-"
**     utf8: strict | replace
**
** The file is untrusted in the sense that every mistake is reported with its line:
** unknown keys, wrong types and out-of-range numbers are errors, not silently ignored.
** Command-line flags are applied after the file and win.
*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>
#include "server/server.h"

void srv_config_init(srv_config *c) {
    memset(c, 0, sizeof *c);
    c->port = 8080;
    c->max_body_bytes = 1u << 20;
    c->max_header_bytes = 16384;
    c->inline_max_bytes = 65536;
    c->guard_queue_depth = 64;
    c->max_inputs = 2048;
    c->max_connections = 10000;
    c->header_timeout_ms = 10000;
    c->body_timeout_ms = 30000;
    c->idle_timeout_ms = 60000;
    c->write_timeout_ms = 30000;
    c->shutdown_timeout_ms = 10000;
}

void srv_config_clear(srv_config *c) {
    free(c->host);
    for (size_t i = 0; i < c->n_keys; i++) free(c->keys[i].key);
    free(c->keys);
    free(c->tls_cert);
    free(c->tls_key);
    free(c->policy);
    free(c->model);
    free(c->guard_model);
    free(c->access_log);
    memset(c, 0, sizeof *c);
}

static int add_key(srv_config *c, const char *key, double rate, double burst) {
    srv_key *k = realloc(c->keys, (c->n_keys + 1) * sizeof *k);
    if (!k) return -1;
    c->keys = k;
    k[c->n_keys].key = strdup(key);
    if (!k[c->n_keys].key) return -1;
    k[c->n_keys].rate_limit = rate;
    k[c->n_keys].burst = burst;
    c->n_keys++;
    return 0;
}

int srv_config_add_key(srv_config *c, const char *spec) {
    const char *colon = strrchr(spec, ':');
    double rate = 0;
    char *key;
    if (colon) {
        char *end;
        errno = 0;
        rate = strtod(colon + 1, &end);
        if (errno || *end || end == colon + 1 || rate < 0) return -1;
        key = strndup(spec, (size_t)(colon - spec));
    } else {
        key = strdup(spec);
    }
    if (!key || !*key) { free(key); return -1; }
    int rc = add_key(c, key, rate, 0);
    free(key);
    return rc;
}

/* ---------------------------------------------------------------- walking ---- */

typedef struct cfg_ctx {
    yaml_document_t *doc;
    const char *path;
    char **err;
} cfg_ctx;

static int cerr(cfg_ctx *x, yaml_node_t *n, const char *fmt, const char *a) {
    char msg[300], buf[600];
    snprintf(msg, sizeof msg, fmt, a);
    snprintf(buf, sizeof buf, "%s:%lu: %s", x->path, n ? (unsigned long)n->start_mark.line + 1 : 0ul, msg);
    *x->err = strdup(buf);
    return -1;
}

static const char *scalar(yaml_node_t *n) {
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int get_str(cfg_ctx *x, yaml_node_t *v, const char *key, char **out) {
    const char *s = scalar(v);
    if (!s) return cerr(x, v, "'%s' must be a string", key);
    free(*out);
    *out = strdup(s);
    return *out ? 0 : cerr(x, v, "out of memory reading '%s'", key);
}

static int get_num(cfg_ctx *x, yaml_node_t *v, const char *key, double lo, double hi, double *out) {
    const char *s = scalar(v);
    char *end;
    if (!s || !*s) return cerr(x, v, "'%s' must be a number", key);
    errno = 0;
    double d = strtod(s, &end);
    if (errno || *end) return cerr(x, v, "'%s' must be a number", key);
    if (d < lo || d > hi) return cerr(x, v, "'%s' is out of range", key);
    *out = d;
    return 0;
}

static int get_int(cfg_ctx *x, yaml_node_t *v, const char *key, double lo, double hi, int *out) {
    double d;
    if (get_num(x, v, key, lo, hi, &d)) return -1;
    if (d != (double)(long long)d) return cerr(x, v, "'%s' must be a whole number", key);
    *out = (int)d;
    return 0;
}

static int get_size(cfg_ctx *x, yaml_node_t *v, const char *key, double lo, double hi, size_t *out) {
    double d;
    if (get_num(x, v, key, lo, hi, &d)) return -1;
    if (d != (double)(long long)d) return cerr(x, v, "'%s' must be a whole number", key);
    *out = (size_t)d;
    return 0;
}

static int get_bool(cfg_ctx *x, yaml_node_t *v, const char *key, int *out) {
    const char *s = scalar(v);
    if (s && (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on"))) *out = 1;
    else if (s && (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off"))) *out = 0;
    else return cerr(x, v, "'%s' must be true or false", key);
    return 0;
}

#define EACH_PAIR(x, map, k, v)                                                          \
    for (yaml_node_pair_t *p_ = (map)->data.mapping.pairs.start;                         \
         p_ < (map)->data.mapping.pairs.top &&                                           \
         ((k) = yaml_document_get_node((x)->doc, p_->key),                               \
          (v) = yaml_document_get_node((x)->doc, p_->value), 1);                         \
         p_++)

static int timeouts(cfg_ctx *x, srv_config *c, yaml_node_t *m) {
    if (m->type != YAML_MAPPING_NODE) return cerr(x, m, "'%s' must be a mapping", "timeouts");
    yaml_node_t *k, *v;
    EACH_PAIR(x, m, k, v) {
        const char *key = scalar(k);
        int *dst = NULL;
        if (!key) return cerr(x, k, "%s", "keys must be strings");
        if (!strcmp(key, "header_ms")) dst = &c->header_timeout_ms;
        else if (!strcmp(key, "body_ms")) dst = &c->body_timeout_ms;
        else if (!strcmp(key, "idle_ms")) dst = &c->idle_timeout_ms;
        else if (!strcmp(key, "write_ms")) dst = &c->write_timeout_ms;
        else if (!strcmp(key, "shutdown_ms")) dst = &c->shutdown_timeout_ms;
        else return cerr(x, k, "unknown key 'timeouts.%s'", key);
        if (get_int(x, v, key, 1, 86400000, dst)) return -1;
    }
    return 0;
}

static int api_keys(cfg_ctx *x, srv_config *c, yaml_node_t *s) {
    if (s->type != YAML_SEQUENCE_NODE) return cerr(x, s, "'%s' must be a list", "api_keys");
    for (yaml_node_item_t *it = s->data.sequence.items.start; it < s->data.sequence.items.top; it++) {
        yaml_node_t *e = yaml_document_get_node(x->doc, *it), *k, *v;
        char *key = NULL;
        double rate = 0, burst = 0;
        if (scalar(e)) {
            key = strdup(scalar(e));
        } else if (e && e->type == YAML_MAPPING_NODE) {
            EACH_PAIR(x, e, k, v) {
                const char *name = scalar(k);
                int rc = 0;
                if (!name) rc = cerr(x, k, "%s", "keys must be strings");
                else if (!strcmp(name, "key")) rc = get_str(x, v, "key", &key);
                else if (!strcmp(name, "rate_limit")) rc = get_num(x, v, "rate_limit", 0, 1e9, &rate);
                else if (!strcmp(name, "burst")) rc = get_num(x, v, "burst", 0, 1e9, &burst);
                else rc = cerr(x, k, "unknown key 'api_keys[].%s'", name);
                if (rc) { free(key); return -1; }
            }
        } else {
            return cerr(x, e, "%s", "each api_keys entry must be {key, rate_limit}");
        }
        if (!key || !*key) { free(key); return cerr(x, e, "%s", "an api_keys entry has no key"); }
        int rc = add_key(c, key, rate, burst);
        free(key);
        if (rc) return cerr(x, e, "%s", "out of memory");
    }
    return 0;
}

int srv_config_load(srv_config *c, const char *path, char **err) {
    *err = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        char buf[400];
        snprintf(buf, sizeof buf, "%s: %s", path, strerror(errno));
        *err = strdup(buf);
        return -1;
    }
    yaml_parser_t parser;
    yaml_document_t doc;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_file(&parser, f);
    if (!yaml_parser_load(&parser, &doc)) {
        char buf[500];
        snprintf(buf, sizeof buf, "%s:%lu: %s", path, (unsigned long)parser.problem_mark.line + 1,
                 parser.problem ? parser.problem : "malformed YAML");
        *err = strdup(buf);
        yaml_parser_delete(&parser);
        fclose(f);
        return -1;
    }
    cfg_ctx x = {&doc, path, err};
    int rc = 0;
    yaml_node_t *root = yaml_document_get_root_node(&doc), *k, *v;
    if (!root) goto done;  /* empty file: all defaults */
    if (root->type != YAML_MAPPING_NODE) { rc = cerr(&x, root, "%s", "the config must be a mapping"); goto done; }
    EACH_PAIR(&x, root, k, v) {
        const char *key = scalar(k);
        if (!key) { rc = cerr(&x, k, "%s", "keys must be strings"); break; }
        if (!strcmp(key, "host")) rc = get_str(&x, v, key, &c->host);
        else if (!strcmp(key, "port")) rc = get_int(&x, v, key, 0, 65535, &c->port);
        else if (!strcmp(key, "threads")) rc = get_int(&x, v, key, 0, 1024, &c->threads);
        else if (!strcmp(key, "workers")) rc = get_int(&x, v, key, 0, 1024, &c->workers);
        else if (!strcmp(key, "queue_depth")) rc = get_size(&x, v, key, 0, 1e7, &c->queue_depth);
        else if (!strcmp(key, "guard_queue_depth")) rc = get_size(&x, v, key, 1, 1e7, &c->guard_queue_depth);
        else if (!strcmp(key, "max_body_bytes")) rc = get_size(&x, v, key, 1, 1 << 30, &c->max_body_bytes);
        else if (!strcmp(key, "max_header_bytes")) rc = get_size(&x, v, key, 256, 1 << 20, &c->max_header_bytes);
        else if (!strcmp(key, "inline_max_bytes")) rc = get_size(&x, v, key, 0, 1 << 30, &c->inline_max_bytes);
        else if (!strcmp(key, "max_inputs")) rc = get_size(&x, v, key, 1, 1e6, &c->max_inputs);
        else if (!strcmp(key, "max_connections")) rc = get_int(&x, v, key, 1, 1e7, &c->max_connections);
        else if (!strcmp(key, "timeouts")) rc = timeouts(&x, c, v);
        else if (!strcmp(key, "api_keys")) rc = api_keys(&x, c, v);
        else if (!strcmp(key, "policy")) rc = get_str(&x, v, key, &c->policy);
        else if (!strcmp(key, "model")) rc = get_str(&x, v, key, &c->model);
        else if (!strcmp(key, "utf8")) {
            const char *s = scalar(v);
            if (s && !strcmp(s, "strict")) c->utf8_replace = 0;
            else if (s && !strcmp(s, "replace")) c->utf8_replace = 1;
            else rc = cerr(&x, v, "%s", "'utf8' must be strict or replace");
        } else if (!strcmp(key, "access_log")) {
            if (scalar(v)) rc = get_str(&x, v, key, &c->access_log);
            else if (v->type == YAML_MAPPING_NODE) {
                yaml_node_t *k2, *v2;
                EACH_PAIR(&x, v, k2, v2) {
                    const char *n2 = scalar(k2);
                    if (n2 && !strcmp(n2, "path")) rc = get_str(&x, v2, "access_log.path", &c->access_log);
                    else if (n2 && !strcmp(n2, "text")) rc = get_bool(&x, v2, "access_log.text", &c->log_text);
                    else rc = cerr(&x, k2, "unknown key 'access_log.%s'", n2 ? n2 : "?");
                    if (rc) break;
                }
            } else rc = cerr(&x, v, "%s", "'access_log' must be a path or {path, text}");
        } else if (!strcmp(key, "guard")) {
            if (v->type != YAML_MAPPING_NODE) rc = cerr(&x, v, "%s", "'guard' must be {model, threads, batch}");
            else {
                yaml_node_t *k2, *v2;
                EACH_PAIR(&x, v, k2, v2) {
                    const char *n2 = scalar(k2);
                    if (n2 && !strcmp(n2, "model")) rc = get_str(&x, v2, "guard.model", &c->guard_model);
                    else if (n2 && !strcmp(n2, "threads")) rc = get_int(&x, v2, "guard.threads", 1, 256, &c->guard_threads);
                    else if (n2 && !strcmp(n2, "batch")) rc = get_int(&x, v2, "guard.batch", 1, 64, &c->guard_batch);
                    else rc = cerr(&x, k2, "unknown key 'guard.%s'", n2 ? n2 : "?");
                    if (rc) break;
                }
            }
        } else if (!strcmp(key, "tls")) {
            if (v->type != YAML_MAPPING_NODE) rc = cerr(&x, v, "%s", "'tls' must be {cert, key}");
            else {
                yaml_node_t *k2, *v2;
                EACH_PAIR(&x, v, k2, v2) {
                    const char *n2 = scalar(k2);
                    if (n2 && !strcmp(n2, "cert")) rc = get_str(&x, v2, "tls.cert", &c->tls_cert);
                    else if (n2 && !strcmp(n2, "key")) rc = get_str(&x, v2, "tls.key", &c->tls_key);
                    else rc = cerr(&x, k2, "unknown key 'tls.%s'", n2 ? n2 : "?");
                    if (rc) break;
                }
            }
        } else rc = cerr(&x, k, "unknown key '%s'", key);
        if (rc) break;
    }
done:
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    fclose(f);
    return rc;
}
