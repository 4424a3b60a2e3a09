/*
** tokenizer_bench.c -- parapet's tokenizer throughput on the conformance corpus.
**
** Usage: tokenizer_bench REFERENCE.jsonl NAME [SECONDS]
** Reads the corpus texts and the path of vocabulary NAME's tokenizer.json from the
** reference file written by tests/conformance/reference.mjs, then encodes every text
** (PARAPET_TOK_ADD_BOS | PARAPET_TOK_PARSE_SPECIAL, one thread) in passes until
** SECONDS (default 2) have elapsed.  Prints one JSON object:
**   {"name":..,"texts":..,"bytes":..,"ids":..,"passes":..,"ids_per_s":..,"MB_per_s":..}
** bench/tokenizer.sh runs it next to bench/tokenizer.mjs (transformers.js).
*/
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "parapet.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: %s REFERENCE.jsonl NAME [SECONDS]\n", argv[0]); return 2; }
    double secs = argc > 3 ? atof(argv[3]) : 2.0;
    FILE *f = fopen(argv[1], "rb");
    if (!f) { perror(argv[1]); return 1; }
    size_t cap = 0, n = 0, tcap = 0;
    char **texts = NULL;
    size_t *lens = NULL;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t got;
    char *path = NULL;
    while ((got = getline(&line, &lcap, f)) > 0) {
        json_error_t e;
        json_t *j = json_loadb(line, (size_t)got, JSON_ALLOW_NUL, &e);
        if (!j) continue;
        json_t *v = json_object_get(json_object_get(j, "vocabs"), argv[2]);
        if (json_is_string(v)) path = strdup(json_string_value(v));
        json_t *t = json_object_get(j, "text");
        if (json_is_string(t)) {
            if (n == tcap) {
                tcap = tcap ? 2 * tcap : 1024;
                texts = realloc(texts, tcap * sizeof *texts);
                lens = realloc(lens, tcap * sizeof *lens);
                if (!texts || !lens) return 1;
            }
            lens[n] = json_string_length(t);
            texts[n] = malloc(lens[n] + 1);
            if (!texts[n]) return 1;
            memcpy(texts[n], json_string_value(t), lens[n] + 1);
            n++;
        }
        json_decref(j);
    }
    fclose(f);
    free(line);
    (void)cap;
    if (!path) { fprintf(stderr, "no vocabulary %s in %s\n", argv[2], argv[1]); return 1; }
    parapet_tokenizer *tok;
    char *detail = NULL;
    if (parapet_tokenizer_open_json(path, &tok, &detail)) { fprintf(stderr, "%s\n", detail ? detail : "open failed"); return 1; }
    size_t bytes = 0, ids_total = 0;
    for (size_t i = 0; i < n; i++) bytes += lens[i];
    int passes = 0;
    double t0 = now_s(), el;
    do {
        for (size_t i = 0; i < n; i++) {
            int32_t *ids;
            size_t k;
            if (parapet_tokenizer_encode(tok, texts[i], lens[i], PARAPET_TOK_ADD_BOS | PARAPET_TOK_PARSE_SPECIAL, &ids, &k)) return 1;
            ids_total += k;
            parapet_free(ids);
        }
        passes++;
        el = now_s() - t0;
    } while (el < secs);
    printf("{\"name\":\"%s\",\"texts\":%zu,\"bytes\":%zu,\"ids\":%zu,\"passes\":%d,\"ids_per_s\":%.0f,\"MB_per_s\":%.2f}\n",
           argv[2], n, bytes, ids_total / (size_t)passes, passes, (double)ids_total / el,
           (double)bytes * passes / el / 1e6);
    parapet_tokenizer_free(tok);
    for (size_t i = 0; i < n; i++) free(texts[i]);
    free(texts);
    free(lens);
    free(path);
    return 0;
}
