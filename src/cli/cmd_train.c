/*
** cmd_train.c -- `parapet train`: trains, calibrates and writes a classifier model
** (parapet_train), with a progress bar and ETA on stderr.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "parapet.h"
#include "cli.h"

static const char *const train_help =
    "usage: parapet train --data DIR_OR_FILE... --out FILE [options]\n\n"
    "Trains parapet's classifier (hashed word and character n-grams, one calibrated\n"
    "logistic regression per label) on labeled JSONL in the ../shared/data format.\n"
    "A missing label key is unknown and masked out of the loss, never a negative.\n\n"
    "  --data PATH        a .jsonl file or a directory of them (repeatable, or several\n"
    "                     paths after one --data)\n"
    "  --out FILE         the model file to write (.ppm)\n"
    "  --seed N           seed of the example order (default 1); same seed and data\n"
    "                     give the same file, bit for bit, whatever --threads\n"
    "  --epochs N         passes over the data (default 6)\n"
    "  --threads N        worker threads (default 2)\n"
    "  --dev-frac F       share held out as the dev split, by id hash (default 0.1)\n"
    "  --calib-frac F     share held out for Platt scaling and thresholds (default 0.1)\n"
    "  --hash-bits N      2^N feature buckets, 10..16 (default 15)\n"
    "  --char-ngrams A-B  code-point n-gram lengths (default 3-5)\n"
    "  --policy-fpr F     the policy score reaches 0.5 no lower than where F of the\n"
    "                     held-out negatives are flagged (default 0.005)\n"
    "  --min-pos N        emit a label as a category only with N positives (default 150)\n"
    "  --assume S:L=0     records of source S without label L are negatives for L\n"
    "  --no-emit LABEL    keep LABEL in the model but do not report it as a category\n"
    "  --no-unsafe-implies  do not take unsafe=0 records as negatives for harm labels\n"
    "  --on-error skip|fatal  malformed JSONL lines: report and skip (default) or stop\n"
    "  --report FILE      write the training report (JSON, dev metrics) there\n"
    "  --quiet            no progress bar\n";

typedef struct bar {
    int quiet, tty;
    struct timespec start;
    char phase[32];
    struct timespec phase_start;
    double last_print;
} bar;

static double secs_since(const struct timespec *a) {
    struct timespec b;
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (double)(b.tv_sec - a->tv_sec) + (double)(b.tv_nsec - a->tv_nsec) / 1e9;
}

static void on_progress(void *ud, const char *phase, double done, double total) {
    bar *b = ud;
    if (b->quiet) return;
    if (strcmp(b->phase, phase)) {
        if (b->phase[0]) fputc('\n', stderr);
        snprintf(b->phase, sizeof b->phase, "%s", phase);
        clock_gettime(CLOCK_MONOTONIC, &b->phase_start);
        b->last_print = -1;
    }
    double el = secs_since(&b->phase_start);
    if (!b->tty && el - b->last_print < 5 && done < total) return;
    b->last_print = el;
    double f = total > 0 ? done / total : 0;
    if (f > 1) f = 1;
    int w = 30, k = (int)(f * w);
    char line[64];
    for (int i = 0; i < w; i++) line[i] = i < k ? '#' : '.';
    line[w] = 0;
    double eta = f > 0.01 ? el * (1 - f) / f : 0;
    fprintf(stderr, "%s%-10s [%s] %5.1f%%  %6.1fs elapsed  ETA %5.1fs%s", b->tty ? "\r" : "",
            phase, line, f * 100, el, eta, b->tty ? "" : "\n");
    fflush(stderr);
}

static void on_warn(void *ud, const char *msg) {
    (void)ud;
    fprintf(stderr, "\nparapet: warning: %s\n", msg);
}

int cmd_train(int argc, char **argv) {
    parapet_train_opts o;
    parapet_train_opts_init(&o);
    const char **data = calloc((size_t)argc + 1, sizeof *data);
    const char **assume = calloc((size_t)argc + 1, sizeof *assume);
    const char **noemit = calloc((size_t)argc + 1, sizeof *noemit);
    size_t nd = 0, na = 0, ne = 0;
    const char *report = NULL;
    bar b = {0};
    int rc = CLI_USAGE;
    if (!data || !assume || !noemit) { cli_error("out of memory"); rc = CLI_ERROR; goto out; }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { fputs(train_help, stdout); rc = CLI_OK; goto out; }
        if (!strcmp(a, "--quiet")) { b.quiet = 1; continue; }
        if (!strcmp(a, "--no-unsafe-implies")) { o.no_unsafe_implies = 1; continue; }
        if (!v) { cli_error("%s needs a value (parapet train --help)", a); goto out; }
        if (!strcmp(a, "--data")) {
            data[nd++] = argv[++i];
            while (i + 1 < argc && argv[i + 1][0] != '-') data[nd++] = argv[++i];
        } else if (!strcmp(a, "--out")) o.out_path = argv[++i];
        else if (!strcmp(a, "--seed")) o.seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(a, "--epochs")) o.epochs = atoi(argv[++i]);
        else if (!strcmp(a, "--threads")) o.threads = atoi(argv[++i]);
        else if (!strcmp(a, "--dev-frac")) o.dev_frac = atof(argv[++i]);
        else if (!strcmp(a, "--calib-frac")) o.calib_frac = atof(argv[++i]);
        else if (!strcmp(a, "--hash-bits")) o.hash_bits = atoi(argv[++i]);
        else if (!strcmp(a, "--char-ngrams")) {
            v = argv[++i];
            if (sscanf(v, "%d-%d", &o.char_min, &o.char_max) != 2 || o.char_min < 1 ||
                o.char_max > 6 || o.char_min > o.char_max) {
                cli_error("--char-ngrams takes A-B with 1 <= A <= B <= 6");
                goto out;
            }
        }
        else if (!strcmp(a, "--min-pos")) o.min_pos = atoi(argv[++i]);
        else if (!strcmp(a, "--policy-fpr")) o.policy_fpr = atof(argv[++i]);
        else if (!strcmp(a, "--assume")) assume[na++] = argv[++i];
        else if (!strcmp(a, "--no-emit")) noemit[ne++] = argv[++i];
        else if (!strcmp(a, "--report")) report = argv[++i];
        else if (!strcmp(a, "--on-error")) {
            v = argv[++i];
            if (!strcmp(v, "fatal")) o.strict = 1;
            else if (strcmp(v, "skip")) { cli_error("--on-error takes skip or fatal"); goto out; }
        } else { cli_error("unknown option %s (parapet train --help)", a); goto out; }
    }
    if (!nd || !o.out_path) { cli_error("train needs --data and --out (parapet train --help)"); goto out; }
    o.data = data;
    o.n_data = nd;
    o.assume = assume;
    o.n_assume = na;
    o.no_emit = noemit;
    o.n_no_emit = ne;
    b.tty = isatty(2);
    clock_gettime(CLOCK_MONOTONIC, &b.start);
    o.progress = on_progress;
    o.warn = on_warn;
    o.ud = &b;
    char *rep = NULL, *detail = NULL;
    parapet_status st = parapet_train(&o, &rep, &detail);
    if (!b.quiet && b.phase[0]) fputc('\n', stderr);
    if (st) {
        cli_error("train: %s", detail ? detail : parapet_strerror(st));
        parapet_free(detail);
        rc = st == PARAPET_ERR_ARG || st == PARAPET_ERR_JSON || st == PARAPET_ERR_NOT_FOUND ||
                     st == PARAPET_ERR_EMPTY
                 ? CLI_USAGE
                 : CLI_ERROR;
        goto out;
    }
    if (report) {
        FILE *f = fopen(report, "w");
        if (!f || fputs(rep, f) < 0 || fclose(f)) cli_error("cannot write %s", report);
    }
    if (!b.quiet) fprintf(stderr, "wrote %s in %.1fs\n", o.out_path, secs_since(&b.start));
    parapet_free(rep);
    rc = CLI_OK;
out:
    free(data);
    free(assume);
    free(noemit);
    return rc;
}
