/*
** cls_bench.c -- throughput of parapet's classifier alone on one core, over a file
** with one text per line (bench/classifier.sh runs it on the short and long corpora).
**
**     cls_bench [--model FILE] CORPUS [reps]
**     cls_bench [--model FILE] --flag-rate DATA.jsonl [limit]
**
** --flag-rate: the share of texts of a (benign) JSONL set that each emitted label
** flags on its own, twice: the calibrated probability at the model's threshold, and
** the policy score the detector reports at the default policy threshold (0.5; spam
** 0.6).  That second figure is the classifier's false-positive rate in the pipeline.
**
** Each text is normalized once up front; the timed loop is the classifier's own work
** (feature extraction, weight lookups, calibration) on the fold view, as the
** classifier detector runs it.  A second figure includes normalization, through the
** public parapet_classifier_predict.  Prints one JSON object: texts/s and MB/s for
** both, median of `reps` runs.  Uses the library's internal headers (src/classify).
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include "parapet.h"
#include "../src/classify/classify.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int flag_rate(const char *model, const char *path, long limit) {
    pp_cls_model *m = NULL;
    if (model ? pp_cls_open_file(model, &m, NULL) : pp_cls_open_default(&m, NULL)) return 1;
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); return 1; }
    char *line = NULL;
    size_t cap = 0, n = 0, hit_p[PP_CLS_MAX_LABELS] = {0}, hit_s[PP_CLS_MAX_LABELS] = {0}, any = 0;
    pp_text t;
    pp_text_init(&t);
    while (getline(&line, &cap, f) > 0 && (limit <= 0 || (long)n < limit)) {
        json_t *r = json_loads(line, 0, NULL);
        const char *tx = r ? json_string_value(json_object_get(r, "text")) : NULL;
        if (tx && !pp_text_normalize(&t, tx, strlen(tx), PP_NORM_REPLACE_INVALID, NULL)) {
            float p[PP_CLS_MAX_LABELS], sc[PP_CLS_MAX_LABELS];
            pp_cls_predict(m, t.fold.s, t.fold.n, p);
            pp_cls_policy_scores(m, t.fold.s, t.fold.n, sc);
            int a = 0;
            for (unsigned l = 0; l < m->n_labels; l++) {
                if (!(m->labels[l].flags & PP_CLS_EMIT)) continue;
                hit_p[l] += p[l] >= m->labels[l].threshold;
                int h = sc[l] >= (strcmp(m->labels[l].name, "spam") ? 0.5f : 0.6f);
                hit_s[l] += h;
                a |= h;
            }
            any += a;
            n++;
        }
        json_decref(r);
    }
    fclose(f);
    free(line);
    pp_text_free(&t);
    printf("{\"texts\":%zu,\"any_policy\":%.4f", n, n ? (double)any / n : 0);
    for (unsigned l = 0; l < m->n_labels; l++)
        if (m->labels[l].flags & PP_CLS_EMIT)
            printf(",\"%s\":{\"model_thr\":%.4f,\"policy\":%.4f}", m->labels[l].name,
                   n ? (double)hit_p[l] / n : 0, n ? (double)hit_s[l] / n : 0);
    printf("}\n");
    pp_cls_close(m);
    return 0;
}

int main(int argc, char **argv) {
    const char *model = NULL;
    if (argc > 2 && !strcmp(argv[1], "--model")) { model = argv[2]; argv += 2; argc -= 2; }
    if (argc > 2 && !strcmp(argv[1], "--flag-rate")) return flag_rate(model, argv[2], argc > 3 ? atol(argv[3]) : 0);
    if (argc < 2) { fprintf(stderr, "usage: cls_bench [--model FILE] CORPUS [reps]\n"); return 2; }
    int reps = argc > 2 ? atoi(argv[2]) : 3;
    if (reps < 1 || reps > 99) reps = 3;
    FILE *f = fopen(argv[1], "rb");
    if (!f) { perror(argv[1]); return 1; }
    size_t n = 0, cap = 1024, bytes = 0;
    char **raw = malloc(cap * sizeof *raw), **fold = malloc(cap * sizeof *fold);
    size_t *rlen = malloc(cap * sizeof *rlen), *flen = malloc(cap * sizeof *flen);
    char *buf = NULL;
    size_t bcap = 0;
    ssize_t k;
    pp_text t;
    pp_text_init(&t);
    while ((k = getline(&buf, &bcap, f)) > 0) {
        if (buf[k - 1] == '\n') k--;
        if (!k) continue;
        if (n == cap) {
            cap *= 2;
            raw = realloc(raw, cap * sizeof *raw);
            fold = realloc(fold, cap * sizeof *fold);
            rlen = realloc(rlen, cap * sizeof *rlen);
            flen = realloc(flen, cap * sizeof *flen);
        }
        raw[n] = malloc((size_t)k);
        memcpy(raw[n], buf, (size_t)k);
        rlen[n] = (size_t)k;
        if (pp_text_normalize(&t, buf, (size_t)k, PP_NORM_REPLACE_INVALID, NULL)) return 1;
        fold[n] = malloc(t.fold.n + 1);
        memcpy(fold[n], t.fold.s, t.fold.n);
        flen[n] = t.fold.n;
        bytes += (size_t)k;
        n++;
    }
    fclose(f);
    free(buf);
    pp_text_free(&t);
    pp_cls_model *m = NULL;
    char *detail = NULL;
    if ((model ? pp_cls_open_file(model, &m, &detail) : pp_cls_open_default(&m, &detail))) {
        fprintf(stderr, "cls_bench: %s\n", detail ? detail : "cannot open the model");
        return 1;
    }
    parapet_classifier *pc = NULL;
    if (parapet_classifier_open(model, &pc, NULL)) return 1;
    double best[2][99];
    float p[PP_CLS_MAX_LABELS];
    double dp[PP_CLS_MAX_LABELS], sink = 0;
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        for (size_t i = 0; i < n; i++) {
            pp_cls_predict(m, fold[i], flen[i], p);
            sink += p[0];
        }
        double t1 = now();
        for (size_t i = 0; i < n; i++) {
            parapet_classifier_predict(pc, raw[i], rlen[i], dp, PP_CLS_MAX_LABELS);
            sink += dp[0];
        }
        best[0][r] = t1 - t0;
        best[1][r] = now() - t1;
    }
    qsort(best[0], (size_t)reps, sizeof(double), cmp);
    qsort(best[1], (size_t)reps, sizeof(double), cmp);
    double a = best[0][reps / 2], b = best[1][reps / 2];
    printf("{\"texts\":%zu,\"bytes\":%zu,\"model_bytes\":%zu,\"docs_per_s\":%.0f,\"MB_per_s\":%.2f,"
           "\"ns_per_byte\":%.2f,\"with_normalize_docs_per_s\":%.0f,\"with_normalize_MB_per_s\":%.2f,"
           "\"sink\":%d}\n",
           n, bytes, m->file_bytes, n / a, bytes / a / 1e6, a * 1e9 / bytes, n / b, bytes / b / 1e6,
           sink > 0);
    parapet_classifier_close(pc);
    pp_cls_close(m);
    for (size_t i = 0; i < n; i++) { free(raw[i]); free(fold[i]); }
    free(raw); free(fold); free(rlen); free(flen);
    return 0;
}
