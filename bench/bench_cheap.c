/*
** bench_cheap.c -- throughput of parapet's cheap tier (normalize + every detector,
** the embedded default policy) on one core, over a file with one text per line.
** Prints the median of `reps` runs as JSON with the same fields as the obscenity
** peer (bench/obscenity_run.mjs), so bench/run.sh can print both and the ratio.
**
**     bench_cheap [--full] FILE [reps] throughput of the cheap tier (normalize + the four
**                                      rule detectors); --full: the whole default
**                                      pipeline, classifier included
**     bench_cheap --recall FILE        fraction of lines flagged for profanity,
**                                      harassment, hate or sexual (obfuscation set)
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "parapet.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    int full = argc > 1 && !strcmp(argv[1], "--full");
    if (full) { argv++; argc--; }
    int recall = argc > 1 && !strcmp(argv[1], "--recall");
    if (argc < 2 + recall) { fprintf(stderr, "usage: bench_cheap [--recall] FILE [reps]\n"); return 2; }
    const char *path = argv[1 + recall];
    int reps = argc > 2 + recall ? atoi(argv[2 + recall]) : 3;
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); return 1; }
    size_t n = 0, cap = 1024, bytes = 0;
    char **lines = malloc(cap * sizeof *lines);
    size_t *lens = malloc(cap * sizeof *lens);
    char *buf = NULL;
    size_t bcap = 0;
    ssize_t k;
    while ((k = getline(&buf, &bcap, f)) > 0) {
        if (buf[k - 1] == '\n') k--;
        if (!k) continue;
        if (n == cap) { cap *= 2; lines = realloc(lines, cap * sizeof *lines); lens = realloc(lens, cap * sizeof *lens); }
        lines[n] = malloc((size_t)k);
        memcpy(lines[n], buf, (size_t)k);
        lens[n++] = (size_t)k;
        bytes += (size_t)k;
    }
    fclose(f);
    free(buf);
    parapet_options o;
    parapet_options_init(&o);
    o.utf8_mode = PARAPET_UTF8_REPLACE;
    static const char cheap[] = "extends: default\ndetectors: {classifier: false}\n";
    if (!full) { o.policy_text = cheap; o.policy_len = sizeof cheap - 1; }
    parapet_engine *e;
    char *d = NULL;
    if (parapet_open(&o, &e, &d)) { fprintf(stderr, "open: %s\n", d); return 1; }
    if (recall) {
        static const char *cats[] = {"profanity", "harassment", "hate", "sexual"};
        size_t hit = 0;
        for (size_t i = 0; i < n; i++) {
            parapet_result *r;
            if (parapet_check(e, lines[i], lens[i], NULL, &r)) continue;
            int h = 0;
            for (size_t c = 0; c < parapet_result_category_count(r); c++) {
                parapet_category_score cs;
                parapet_result_category(r, c, &cs);
                for (size_t j = 0; j < 4; j++) if (cs.flagged && !strcmp(cs.name, cats[j])) h = 1;
            }
            hit += h;
            if (!h && getenv("SHOW_MISSES")) fprintf(stderr, "miss: %.*s\n", (int)lens[i], lines[i]);
            parapet_result_free(r);
        }
        printf("{\"docs\":%zu,\"flagged\":%zu,\"recall\":%.4f}\n", n, hit, n ? (double)hit / n : 0);
        parapet_close(e);
        return 0;
    }
    for (size_t i = 0; i < n && i < 2000; i++) {
        parapet_result *r;
        if (!parapet_check(e, lines[i], lens[i], NULL, &r)) parapet_result_free(r);
    }
    double *t = malloc(sizeof(double) * (size_t)reps);
    size_t flagged = 0;
    for (int rep = 0; rep < reps; rep++) {
        flagged = 0;
        double t0 = now();
        for (size_t i = 0; i < n; i++) {
            parapet_result *r;
            if (parapet_check(e, lines[i], lens[i], NULL, &r)) continue;
            flagged += parapet_result_flagged(r);
            parapet_result_free(r);
        }
        t[rep] = now() - t0;
    }
    qsort(t, (size_t)reps, sizeof *t, cmp);
    double dt = t[reps / 2];
    printf("{\"docs\":%zu,\"MB\":%.2f,\"sec\":%.3f,\"docs_per_s\":%.0f,\"MB_per_s\":%.2f,\"flagged\":%zu}\n",
           n, bytes / 1e6, dt, n / dt, bytes / 1e6 / dt, flagged);
    parapet_close(e);
    return 0;
}
