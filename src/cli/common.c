/*
** common.c -- option handling shared by the subcommands that open an engine
** (--policy, --lexicon, --replace-invalid, --max-bytes) and input reading.
*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "parapet.h"
#include "cli.h"
#include "common.h"

void engine_args_init(engine_args *a) {
    memset(a, 0, sizeof *a);
    parapet_options_init(&a->opt);
}

int engine_arg(engine_args *a, int argc, char **argv, int *i) {
    const char *o = argv[*i];
    if (!strcmp(o, "--policy") || !strcmp(o, "--lexicon") || !strcmp(o, "--max-bytes")) {
        if (*i + 1 >= argc) { cli_error("%s needs a value", o); return -1; }
        const char *v = argv[++*i];
        if (!strcmp(o, "--policy")) a->opt.policy_path = v;
        else if (!strcmp(o, "--lexicon")) {
            if (a->n_lex >= MAX_LEXICONS) { cli_error("too many --lexicon options"); return -1; }
            a->lex[a->n_lex++] = v;
        } else {
            char *end;
            errno = 0;
            unsigned long long n = strtoull(v, &end, 10);
            if (*end || errno || n == 0) { cli_error("--max-bytes: expected a positive number, got \"%s\"", v); return -1; }
            a->opt.max_input_bytes = (size_t)n;
        }
        return 1;
    }
    if (!strcmp(o, "--replace-invalid")) { a->opt.utf8_mode = PARAPET_UTF8_REPLACE; return 1; }
    if (!strcmp(o, "--model")) {
        if (*i + 1 >= argc) { cli_error("%s needs a value", o); return -1; }
        a->opt.model_path = argv[++*i];
        return 1;
    }
    if (!strcmp(o, "--guard") || !strcmp(o, "--guard-threads") || !strcmp(o, "--guard-batch")) {
        if (*i + 1 >= argc) { cli_error("%s needs a value", o); return -1; }
        const char *v = argv[++*i];
        if (!strcmp(o, "--guard")) { a->opt.guard_path = v; return 1; }
        char *end;
        long n = strtol(v, &end, 10);
        long hi = !strcmp(o, "--guard-batch") ? 64 : 256;
        if (*end || n < 1 || n > hi) { cli_error("%s: expected a number from 1 to %ld, got \"%s\"", o, hi, v); return -1; }
        if (!strcmp(o, "--guard-batch")) a->opt.guard_batch = (int)n;
        else a->opt.guard_threads = (int)n;
        return 1;
    }
    return 0;
}

parapet_engine *engine_open(engine_args *a) {
    a->opt.lexicon_files = a->lex;
    a->opt.n_lexicon_files = a->n_lex;
    parapet_engine *e;
    char *detail = NULL;
    parapet_status st = parapet_open(&a->opt, &e, &detail);
    if (st) {
        cli_error("%s", detail ? detail : parapet_strerror(st));
        parapet_free(detail);
        return NULL;
    }
    return e;
}

int read_all(FILE *f, size_t max, char **out, size_t *len) {
    size_t cap = 65536, n = 0;
    char *b = malloc(cap);
    if (!b) return -1;
    size_t k;
    while ((k = fread(b + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n > max) { free(b); errno = EFBIG; return -1; }
        if (n == cap) {
            char *nb = realloc(b, cap * 2);
            if (!nb) { free(b); return -1; }
            b = nb;
            cap *= 2;
        }
    }
    if (ferror(f)) { free(b); return -1; }
    *out = b;
    *len = n;
    return 0;
}
