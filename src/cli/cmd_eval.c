/*
** cmd_eval.c -- `parapet eval`: evaluates the pipeline, a set of detectors or a
** classifier model on labeled JSONL (parapet_eval) and prints a summary table;
** --report DIR writes report.md, report.json and SVG plots.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "parapet.h"
#include "cli.h"
#include "common.h"

static const char *const eval_help =
    "usage: parapet eval --data FILE.jsonl... [options]\n\n"
    "Scores labeled JSONL (the ../shared/data record format: text, labels, lang, id)\n"
    "and reports per label: precision, recall, F1 and confusion counts at the\n"
    "threshold, ROC-AUC, AUPRC, expected calibration error; per language; latency\n"
    "percentiles.  Absent labels are unknown and skipped, never counted as negatives.\n\n"
    "  --data PATH          a .jsonl file or a directory of them (repeatable)\n"
    "  --model FILE         evaluate this classifier model alone (its own thresholds)\n"
    "  --classifier         evaluate the embedded classifier alone\n"
    "  --detectors LIST     pipeline with only these detectors (comma list of lexicon,\n"
    "                       pii, secrets, injection, classifier, guard); default: the policy's\n"
    "  --calibrate-guard    with --guard FILE: run the guard alone on every record, fit its\n"
    "                       per-category calibration (Platt scaling) and write it as a\n"
    "                       policy overlay (guard.calibration) to --write-policy\n"
    "                       (default: guard-calibration.yaml)\n"
    "  --split all|dev      dev: only records whose id hashes into the training dev split\n"
    "  --report DIR         write report.md, report.json, pr_*.svg, reliability_*.svg\n"
    "  --choose-thresholds  pick per-category thresholds at --target-fpr (default 0.01)\n"
    "  --target-fpr F       false-positive rate for --choose-thresholds\n"
    "  --write-policy FILE  where --choose-thresholds writes its policy overlay\n"
    "                       (default: thresholds.yaml, or DIR/thresholds.yaml with --report)\n"
    "  --on-error skip|fatal  malformed JSONL lines: report and skip (default) or stop\n"
    "  --json               print report.json to stdout instead of the table\n"
    ENGINE_OPTIONS_HELP;

static void on_warn(void *ud, const char *msg) {
    (void)ud;
    fprintf(stderr, "parapet: warning: %s\n", msg);
}

static void print_table(const char *json) {
    json_error_t err;
    json_t *r = json_loads(json, 0, &err);
    if (!r) { fputs(json, stdout); return; }
    json_t *lat = json_object_get(r, "latency_us");
    printf("%s on %lld records: p50 %.1f us, p99 %.1f us per text, %.0f texts/s\n",
           json_string_value(json_object_get(r, "mode")),
           (long long)json_integer_value(json_object_get(r, "records")),
           json_number_value(json_object_get(lat, "p50")), json_number_value(json_object_get(lat, "p99")),
           json_number_value(json_object_get(r, "texts_per_second")));
    printf("%-14s %7s %6s %6s %6s %6s %6s %7s %6s %6s\n", "label", "n", "pos", "thr", "prec", "recall",
           "F1", "ROC-AUC", "AUPRC", "ECE");
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(r, "labels"), k, v) {
        json_t *a = json_object_get(v, "all");
        printf("%-14s %7lld %6lld", k, (long long)json_integer_value(json_object_get(a, "n")),
               (long long)json_integer_value(json_object_get(a, "pos")));
        const char *f[] = {"threshold", "precision", "recall", "f1", "roc_auc", "auprc", "ece"};
        for (int i = 0; i < 7; i++) {
            json_t *x = json_object_get(a, f[i]);
            if (json_is_number(x)) printf(i == 4 ? " %7.3f" : " %6.3f", json_number_value(x));
            else printf(i == 4 ? " %7s" : " %6s", "-");
        }
        printf("\n");
    }
    json_decref(r);
}

int cmd_eval(int argc, char **argv) {
    parapet_eval_opts o;
    parapet_eval_opts_init(&o);
    engine_args ea;
    engine_args_init(&ea);
    const char **data = calloc((size_t)argc + 1, sizeof *data);
    size_t nd = 0;
    int as_json = 0, choose = 0, rc = CLI_USAGE;
    char *policy_path = NULL;
    if (!data) { cli_error("out of memory"); return CLI_ERROR; }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int t = engine_arg(&ea, argc, argv, &i);
        if (t < 0) goto out;
        if (t > 0) continue;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { fputs(eval_help, stdout); rc = CLI_OK; goto out; }
        if (!strcmp(a, "--json")) { as_json = 1; continue; }
        if (!strcmp(a, "--classifier")) { o.classifier_only = 1; continue; }
        if (!strcmp(a, "--choose-thresholds")) { choose = 1; continue; }
        if (!strcmp(a, "--calibrate-guard")) { o.calibrate_guard = 1; continue; }
        if (i + 1 >= argc) { cli_error("%s needs a value (parapet eval --help)", a); goto out; }
        if (!strcmp(a, "--data")) {
            data[nd++] = argv[++i];
            while (i + 1 < argc && argv[i + 1][0] != '-') data[nd++] = argv[++i];
        } else if (!strcmp(a, "--model")) { o.model_path = argv[++i]; o.classifier_only = 1; }
        else if (!strcmp(a, "--detectors")) o.detectors = argv[++i];
        else if (!strcmp(a, "--split")) o.split = argv[++i];
        else if (!strcmp(a, "--report")) o.report_dir = argv[++i];
        else if (!strcmp(a, "--target-fpr")) o.target_fpr = atof(argv[++i]);
        else if (!strcmp(a, "--write-policy")) o.write_policy = argv[++i];
        else if (!strcmp(a, "--on-error")) {
            const char *v = argv[++i];
            if (!strcmp(v, "fatal")) o.strict = 1;
            else if (strcmp(v, "skip")) { cli_error("--on-error takes skip or fatal"); goto out; }
        } else { cli_error("unknown option %s (parapet eval --help)", a); goto out; }
    }
    if (!nd) { cli_error("eval needs --data (parapet eval --help)"); goto out; }
    if (o.detectors && o.classifier_only) { cli_error("--detectors applies to the pipeline, not to --model"); goto out; }
    if (choose || o.target_fpr > 0) {
        if (o.target_fpr <= 0) o.target_fpr = 0.01;
        if (!o.write_policy) {
            policy_path = o.report_dir ? malloc(strlen(o.report_dir) + 20) : NULL;
            if (policy_path) sprintf(policy_path, "%s/thresholds.yaml", o.report_dir);
            o.write_policy = policy_path ? policy_path : "thresholds.yaml";
        }
    }
    if (o.calibrate_guard && o.classifier_only) { cli_error("--calibrate-guard evaluates the guard, not a classifier model"); goto out; }
    if (o.calibrate_guard && !o.write_policy) o.write_policy = "guard-calibration.yaml";
    o.data = data;
    o.n_data = nd;
    ea.opt.lexicon_files = ea.lex;
    ea.opt.n_lexicon_files = ea.n_lex;
    o.engine = &ea.opt;
    o.warn = on_warn;
    char *rep = NULL, *detail = NULL;
    parapet_status st = parapet_eval(&o, &rep, &detail);
    if (st) {
        cli_error("eval: %s", detail ? detail : parapet_strerror(st));
        parapet_free(detail);
        rc = st == PARAPET_ERR_NOMEM || st == PARAPET_ERR_INTERNAL ? CLI_ERROR : CLI_USAGE;
        goto out;
    }
    if (as_json) fputs(rep, stdout);
    else print_table(rep);
    if (o.report_dir) fprintf(stderr, "report written to %s/report.md\n", o.report_dir);
    if (o.write_policy && o.target_fpr > 0) fprintf(stderr, "thresholds at FPR %g written to %s\n", o.target_fpr, o.write_policy);
    if (o.write_policy && o.calibrate_guard) fprintf(stderr, "guard calibration written to %s\n", o.write_policy);
    parapet_free(rep);
    rc = CLI_OK;
out:
    free(policy_path);
    free(data);
    return rc;
}
