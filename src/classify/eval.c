/*
** eval.c -- parapet_eval: score labeled JSONL with the classifier alone or with the
** whole pipeline (or a chosen set of detectors), and report per label and language:
** precision / recall / F1 and confusion counts at the threshold, ROC-AUC, AUPRC,
** expected calibration error, latency percentiles.  Optionally chooses per-category
** thresholds at a target false-positive rate and writes them as a policy overlay,
** and writes a human report (report.md with SVG PR curves and reliability diagrams)
** next to report.json.
**
** Unknown labels (absent keys) are skipped per label: a record counts only for the
** labels its source judged.  In pipeline mode each data label is read from its
** policy category's score ("jailbreak" from prompt_injection) and "unsafe" from the
** highest score over the harm categories (everything but pii, secrets and spam).
*/
#include "classify.h"
#include "data.h"
#include "pipeline/policy.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void parapet_eval_opts_init(parapet_eval_opts *o) {
    memset(o, 0, sizeof *o);
    o->dev_frac = 0.1;
    o->calib_frac = 0.1;
}

/* The guard's calibration for one category: Platt scaling (pp_platt_fit) on the
** logits of the raw probabilities.  Returns 0, or -1 when the fit is not usable (a <= 0:
** the scores do not rank the labels); a and b are kept within the policy's bounds. */
static int guard_fit(const float *score, const uint8_t *y, size_t n, double *a_out, double *b_out) {
    float *z = pp_malloc((n ? n : 1) * sizeof *z), a, b;
    if (!z) return -1;
    for (size_t i = 0; i < n; i++) {
        double q = score[i] < 1e-6f ? 1e-6 : score[i] > 1 - 1e-6f ? 1 - 1e-6 : score[i];
        z[i] = (float)log(q / (1 - q));
    }
    pp_platt_fit(z, y, n, &a, &b);
    pp_free(z);
    if (!(a > 0) || !isfinite(b)) return -1;
    /* perfectly separated labels drive the slope up: keep it within the policy's bounds */
    *a_out = a > 100 ? 100 : a;
    *b_out = b < -100 ? -100 : b > 100 ? 100 : b;
    return 0;
}

typedef struct ev_label {
    char name[PP_CLS_NAME_MAX];
    char category[PP_CLS_NAME_MAX];
    int data_id;           /* index into pp_rec.y */
    double threshold;
    float *score;          /* (n records) */
    pp_bin_metrics all;
    double chosen;         /* threshold at target FPR, or -1 */
    int cal_ok;            /* calibrate_guard: a, b fitted */
    double cal_a, cal_b, cal_ece;
} ev_label;

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void put_num(pp_buf *b, const char *k, double v, int first) {
    if (isnan(v)) pp_buf_printf(b, "%s\"%s\":null", first ? "" : ",", k);
    else pp_buf_printf(b, "%s\"%s\":%.4f", first ? "" : ",", k, v);
}

static void put_metrics(pp_buf *b, const pp_bin_metrics *m) {
    pp_buf_printf(b, "{\"n\":%zu,\"pos\":%zu,\"tp\":%zu,\"fp\":%zu,\"tn\":%zu,\"fn\":%zu", m->n,
                  m->n_pos, m->tp, m->fp, m->tn, m->fn);
    put_num(b, "threshold", m->threshold, 0);
    put_num(b, "precision", m->precision, 0);
    put_num(b, "recall", m->recall, 0);
    put_num(b, "f1", m->f1, 0);
    put_num(b, "roc_auc", m->roc_auc, 0);
    put_num(b, "auprc", m->auprc, 0);
    put_num(b, "ece", m->ece, 0);
    pp_buf_putc(b, '}');
}

static const char *fmt(char *buf, double v) {
    if (isnan(v)) return "-";
    snprintf(buf, 16, "%.3f", v);
    return buf;
}

/* ------------------------------------------------------------------- SVG */

static void safe_name(char *out, size_t n, const char *s) {
    size_t i = 0;
    for (; s[i] && i + 1 < n; i++) out[i] = (s[i] == '/' || s[i] == ' ') ? '_' : s[i];
    out[i] = 0;
}

static int write_text(const char *path, const char *s, size_t len) {
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    int bad = fwrite(s, 1, len, f) != len;
    return fclose(f) || bad ? -1 : 0;
}

/* A 360x300 plot frame with axes 0..1; content in plot coordinates via X()/Y(). */
#define PX(x) (50 + (x) * 290)
#define PY(y) (260 - (y) * 230)
static void svg_frame(pp_buf *b, const char *title, const char *xl, const char *yl) {
    pp_buf_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"360\" height=\"300\" "
                     "font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"360\" height=\"300\" fill=\"white\"/>\n"
                     "<text x=\"180\" y=\"16\" text-anchor=\"middle\" font-size=\"13\">");
    pp_buf_json_str(b, title, strlen(title)); /* JSON escaping is safe in SVG text */
    pp_buf_printf(b, "</text>\n<rect x=\"50\" y=\"30\" width=\"290\" height=\"230\" fill=\"none\" stroke=\"#444\"/>\n");
    for (int i = 0; i <= 4; i++) {
        double v = i / 4.0;
        pp_buf_printf(b, "<text x=\"%.1f\" y=\"275\" text-anchor=\"middle\">%.2f</text>"
                         "<text x=\"45\" y=\"%.1f\" text-anchor=\"end\">%.2f</text>\n",
                      PX(v), v, PY(v) + 4, v);
    }
    pp_buf_printf(b, "<text x=\"195\" y=\"292\" text-anchor=\"middle\">%s</text>"
                     "<text x=\"12\" y=\"145\" transform=\"rotate(-90 12 145)\" text-anchor=\"middle\">%s</text>\n",
                  xl, yl);
}

static int write_svgs(const char *dir, const ev_label *L, const float *score, const uint8_t *y,
                      size_t k) {
    char nm[64], *path;
    safe_name(nm, sizeof nm, L->name);
    pp_buf b;
    pp_buf_init(&b);
    double *pts = NULL;
    size_t np = 0;
    if (pp_metrics_pr_curve(score, y, k, &pts, &np)) return -1;
    char title[200];
    snprintf(title, sizeof title, "%.31s: precision-recall (AUPRC %.3f)", L->name, L->all.auprc);
    svg_frame(&b, title, "recall", "precision");
    pp_buf_puts(&b, "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\" points=\"");
    double pr = 0;
    for (size_t i = 0; i < np; i++) {
        /* step curve: move right at the previous precision, then to the new one */
        pp_buf_printf(&b, "%.1f,%.1f %.1f,%.1f ", PX(pts[2 * i]), PY(i ? pr : pts[2 * i + 1]),
                      PX(pts[2 * i]), PY(pts[2 * i + 1]));
        pr = pts[2 * i + 1];
    }
    pp_buf_puts(&b, "\"/>\n</svg>\n");
    pp_free(pts);
    int rc = 0;
    path = pp_asprintf("%s/pr_%s.svg", dir, nm);
    if (!path || b.oom || write_text(path, b.p, b.len)) rc = -1;
    pp_free(path);
    pp_buf_free(&b);
    /* reliability */
    double ms[10], rate[10];
    size_t ct[10];
    pp_metrics_reliability(score, y, k, 10, ms, rate, ct);
    pp_buf_init(&b);
    snprintf(title, sizeof title, "%.31s: reliability (ECE %.3f)", L->name, L->all.ece);
    svg_frame(&b, title, "mean predicted probability", "observed positive rate");
    pp_buf_printf(&b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#aaa\" stroke-dasharray=\"4\"/>\n",
                  PX(0.0), PY(0.0), PX(1.0), PY(1.0));
    for (int i = 0; i < 10; i++) {
        if (!ct[i]) continue;
        double r = 3 + 6 * log10(1 + (double)ct[i]) / log10(1 + (double)k);
        pp_buf_printf(&b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"#d62728\" fill-opacity=\"0.7\">"
                          "<title>%zu texts</title></circle>\n", PX(ms[i]), PY(rate[i]), r, ct[i]);
    }
    pp_buf_puts(&b, "</svg>\n");
    path = pp_asprintf("%s/reliability_%s.svg", dir, nm);
    if (!path || b.oom || write_text(path, b.p, b.len)) rc = -1;
    pp_free(path);
    pp_buf_free(&b);
    return rc;
}

/* ------------------------------------------------------------------ driver */

static void warn_tramp(void *ud, const char *msg) {
    const parapet_eval_opts *o = ud;
    if (o->warn) o->warn(o->ud, msg);
}

static int is_harm_category(const char *c) {
    return strcmp(c, "pii") && strcmp(c, "secrets") && strcmp(c, "spam");
}

parapet_status parapet_eval(const parapet_eval_opts *o, char **report_json, char **detail) {
    if (detail) *detail = NULL;
    if (report_json) *report_json = NULL;
    if (!o || !o->data || !o->n_data) return PARAPET_ERR_ARG;
    int dev_only = o->split && !strcmp(o->split, "dev");
    if (o->split && !dev_only && strcmp(o->split, "all")) {
        if (detail) *detail = pp_asprintf("split must be \"all\" or \"dev\"");
        return PARAPET_ERR_ARG;
    }
    pp_dataset ds;
    pp_status st = pp_data_load(o->data, o->n_data, o->strict, warn_tramp, (void *)o, &ds, detail);
    if (st) return st;
    parapet_classifier *cls = NULL;
    parapet_engine *eng = NULL;
    parapet_policy *overlay = NULL;
    ev_label L[PP_CLS_MAX_LABELS];
    int nl = 0;
    size_t n = 0, *idx = pp_malloc(ds.n * sizeof *idx);
    uint64_t *lat = pp_malloc(ds.n * sizeof *lat);
    float *sc = NULL;
    uint8_t *yy = NULL;
    pp_buf b, md;
    pp_buf_init(&b);
    pp_buf_init(&md);
    memset(L, 0, sizeof L);
    if (!idx || !lat) { st = PARAPET_ERR_NOMEM; goto out; }
    for (size_t i = 0; i < ds.n; i++)
        if (!dev_only || pp_data_split(ds.r[i].id_hash, o->dev_frac, o->calib_frac) == 2) idx[n++] = i;

    /* What is scored, and the labels it is scored on. */
    if (o->classifier_only) {
        if ((st = parapet_classifier_open(o->model_path, &cls, detail))) goto out;
        size_t cl = parapet_classifier_label_count(cls);
        for (size_t l = 0; l < cl && nl < PP_CLS_MAX_LABELS; l++) {
            parapet_label_info li;
            parapet_classifier_label(cls, l, &li);
            int id = pp_data_label_id(li.name);
            if (id < 0) continue;
            snprintf(L[nl].name, PP_CLS_NAME_MAX, "%s", li.name);
            snprintf(L[nl].category, PP_CLS_NAME_MAX, "%s", li.category);
            L[nl].data_id = id;
            L[nl].threshold = li.threshold;
            nl++;
        }
    } else {
        parapet_options opt;
        if (o->engine) opt = *o->engine;
        else parapet_options_init(&opt);
        if (o->model_path) opt.model_path = o->model_path;
        if ((st = parapet_open(&opt, &eng, detail))) goto out;
        const parapet_policy *pol = parapet_engine_policy(eng);
        if (o->calibrate_guard && !parapet_engine_has_guard(eng)) {
            if (detail) *detail = pp_strdup("calibrating the guard needs a guard model (--guard FILE)");
            st = PARAPET_ERR_ARG;
            goto out;
        }
        if (o->detectors || o->calibrate_guard) {
            /* An overlay that switches every detector off except the listed ones (the
            ** guard alone, always, when calibrating it). */
            static const char *const dets[] = {"lexicon", "pii", "secrets", "injection", "classifier", "guard"};
            const char *list = o->calibrate_guard ? "guard" : o->detectors;
            pp_buf y;
            pp_buf_init(&y);
            pp_buf_puts(&y, "detectors:\n");
            for (size_t d = 0; d < PP_ARRAY_LEN(dets); d++) {
                const char *p = strstr(list, dets[d]);
                size_t dl = strlen(dets[d]);
                int on = p && (p == list || p[-1] == ',') && (p[dl] == 0 || p[dl] == ',');
                pp_buf_printf(&y, "  %s: %s\n", dets[d], on ? "true" : "false");
            }
            if (o->calibrate_guard) pp_buf_puts(&y, "guard: {mode: always}\n");
            st = y.oom ? PARAPET_ERR_NOMEM : parapet_policy_parse(y.p, y.len, "--detectors", pol, &overlay, detail);
            pp_buf_free(&y);
            if (st) goto out;
            if (o->calibrate_guard)   /* fit on the raw probabilities */
                memset(overlay->guard_cal_on, 0, sizeof overlay->guard_cal_on);
        }
        for (int l = 0; l < PP_DATA_NLABELS; l++) {
            snprintf(L[nl].name, PP_CLS_NAME_MAX, "%s", pp_data_label_name[l]);
            snprintf(L[nl].category, PP_CLS_NAME_MAX, "%s", pp_data_label_cat[l]);
            L[nl].data_id = l;
            L[nl].threshold = 0.5;
            size_t nc = parapet_policy_category_count(overlay ? overlay : pol);
            for (size_t c = 0; c < nc; c++) {
                parapet_category_info ci;
                if (!parapet_policy_category(overlay ? overlay : pol, c, &ci) && !strcmp(ci.name, L[nl].category))
                    L[nl].threshold = ci.threshold;
            }
            nl++;
        }
    }
    for (int l = 0; l < nl; l++)
        if (!(L[l].score = pp_malloc((n ? n : 1) * sizeof(float)))) { st = PARAPET_ERR_NOMEM; goto out; }

    /* Score. */
    uint64_t t0 = pp_now_ns();
    for (size_t k = 0; k < n; k++) {
        const pp_rec *r = &ds.r[idx[k]];
        uint64_t a = pp_now_ns();
        if (cls) {
            double p[PP_CLS_MAX_LABELS];
            if ((st = parapet_classifier_predict(cls, r->text, r->len, p, PP_CLS_MAX_LABELS))) goto out;
            lat[k] = pp_now_ns() - a;
            size_t cl = parapet_classifier_label_count(cls);
            for (int l = 0, j = 0; (size_t)j < cl && l < nl; j++) {
                parapet_label_info li;
                parapet_classifier_label(cls, (size_t)j, &li);
                if (!strcmp(li.name, L[l].name)) L[l++].score[k] = (float)p[j];
            }
        } else {
            parapet_check_opts co = {overlay, 2};
            parapet_result *res;
            if ((st = parapet_check(eng, r->text, r->len, &co, &res))) goto out;
            lat[k] = pp_now_ns() - a;
            for (int l = 0; l < nl; l++) L[l].score[k] = 0;
            size_t nc = parapet_result_category_count(res);
            for (size_t c = 0; c < nc; c++) {
                parapet_category_score cs;
                if (parapet_result_category(res, c, &cs)) continue;
                for (int l = 0; l < nl; l++) {
                    if (L[l].category[0] ? !strcmp(cs.name, L[l].category)
                                         : is_harm_category(cs.name))
                        if ((float)cs.score > L[l].score[k]) L[l].score[k] = (float)cs.score;
                }
            }
            parapet_result_free(res);
        }
        if (o->progress && (k % 2048 == 0 || k + 1 == n)) o->progress(o->ud, "eval", (double)k + 1, (double)n);
    }
    double wall = (double)(pp_now_ns() - t0) / 1e9;

    /* Metrics. */
    sc = pp_malloc((n ? n : 1) * sizeof *sc);
    yy = pp_malloc(n ? n : 1);
    if (!sc || !yy) { st = PARAPET_ERR_NOMEM; goto out; }
    char langs[32][8];
    int nlang = 0;
    for (size_t k = 0; k < n; k++) {
        int f = 0;
        for (int j = 0; j < nlang; j++) if (!strcmp(langs[j], ds.r[idx[k]].lang)) f = 1;
        if (!f && nlang < 32) memcpy(langs[nlang++], ds.r[idx[k]].lang, 8);
    }
    qsort(lat, n, sizeof *lat, cmp_u64);
    double pct[4] = {50, 90, 99, 100}, lv[4] = {0};
    for (int i = 0; i < 4 && n; i++) {
        size_t j = (size_t)ceil(pct[i] / 100.0 * (double)n);
        lv[i] = (double)lat[j ? j - 1 : 0] / 1000.0;
    }
    int has_dir = 0;
    if (o->report_dir) {
        if (mkdir(o->report_dir, 0777) && errno != EEXIST) {
            if (detail) *detail = pp_asprintf("%s: %s", o->report_dir, strerror(errno));
            st = PARAPET_ERR_IO;
            goto out;
        }
        has_dir = 1;
    }
    pp_buf_printf(&b, "{\"mode\":\"%s\",\"records\":%zu,\"malformed\":%zu,\"split\":\"%s\","
                      "\"seconds\":%.3f,\"texts_per_second\":%.1f,\"latency_us\":{\"p50\":%.1f,"
                      "\"p90\":%.1f,\"p99\":%.1f,\"max\":%.1f}",
                  cls ? "classifier" : "pipeline", n, ds.n_bad, dev_only ? "dev" : "all", wall,
                  wall > 0 ? (double)n / wall : 0, lv[0], lv[1], lv[2], lv[3]);
    if (cls) pp_buf_printf(&b, ",\"model_sha256\":\"%s\"", parapet_classifier_hash(cls));
    if (o->detectors) {
        pp_buf_puts(&b, ",\"detectors\":\"");
        pp_buf_json_str(&b, o->detectors, strlen(o->detectors));
        pp_buf_putc(&b, '"');
    }
    pp_buf_puts(&b, ",\"labels\":{");
    pp_buf_printf(&md, "# parapet evaluation\n\n- mode: %s%s%s\n- records: %zu (%zu malformed lines skipped), split: %s\n"
                       "- latency per text (us): p50 %.1f, p90 %.1f, p99 %.1f, max %.1f; %.0f texts/s on one thread\n\n"
                       "Unknown labels are skipped, not counted as negatives.  Thresholds: %s.\n\n"
                       "| label | n | pos | threshold | precision | recall | F1 | ROC-AUC | AUPRC | ECE | TP | FP | TN | FN |\n"
                       "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
                  cls ? "classifier only" : "pipeline", o->detectors ? ", detectors " : "",
                  o->detectors ? o->detectors : "", n, ds.n_bad, dev_only ? "dev" : "all", lv[0], lv[1],
                  lv[2], lv[3], wall > 0 ? (double)n / wall : 0,
                  cls ? "the model's (best F1 on its calibration split)" : "the policy's");
    pp_buf lang_md;
    pp_buf_init(&lang_md);
    pp_buf_puts(&lang_md, "\n## Per language\n\n| label | lang | n | pos | precision | recall | F1 | AUPRC |\n|---|---|---|---|---|---|---|---|\n");
    int first = 1;
    for (int l = 0; l < nl; l++) {
        L[l].chosen = -1;
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            int8_t y = ds.r[idx[i]].y[L[l].data_id];
            if (y < 0) continue;
            sc[k] = L[l].score[i];
            yy[k++] = (uint8_t)y;
        }
        if (!k) continue;
        if ((st = pp_metrics_binary(sc, yy, k, L[l].threshold, 10, &L[l].all))) goto out;
        if (o->target_fpr > 0) L[l].chosen = pp_fpr_threshold(sc, yy, k, o->target_fpr);
        if (o->calibrate_guard && L[l].category[0] && L[l].all.n_pos >= 5 &&
            L[l].all.n - L[l].all.n_pos >= 5 &&
            !guard_fit(sc, yy, k, &L[l].cal_a, &L[l].cal_b)) {
            /* the fitted map's expected calibration error, on the same records */
            float *cs = pp_malloc(k * sizeof *cs);
            if (!cs) { st = PARAPET_ERR_NOMEM; goto out; }
            for (size_t i = 0; i < k; i++) {
                double q = sc[i] < 1e-6f ? 1e-6 : sc[i] > 1 - 1e-6f ? 1 - 1e-6 : sc[i];
                cs[i] = (float)(1 / (1 + exp(-(L[l].cal_a * log(q / (1 - q)) + L[l].cal_b))));
            }
            pp_bin_metrics cm;
            st = pp_metrics_binary(cs, yy, k, L[l].threshold, 10, &cm);
            pp_free(cs);
            if (st) goto out;
            L[l].cal_ok = 1;
            L[l].cal_ece = cm.ece;
        }
        pp_buf_printf(&b, "%s\"%s\":{\"category\":\"%s\",\"all\":", first ? "" : ",", L[l].name, L[l].category);
        first = 0;
        put_metrics(&b, &L[l].all);
        if (L[l].chosen >= 0) pp_buf_printf(&b, ",\"threshold_at_target_fpr\":%.4f", L[l].chosen);
        if (L[l].cal_ok) {
            pp_buf_printf(&b, ",\"guard_calibration\":{\"a\":%.6g,\"b\":%.6g", L[l].cal_a, L[l].cal_b);
            put_num(&b, "ece_after", L[l].cal_ece, 0);
            pp_buf_putc(&b, '}');
        }
        char f1[7][16];
        const pp_bin_metrics *m = &L[l].all;
        pp_buf_printf(&md, "| %s | %zu | %zu | %.3f | %s | %s | %s | %s | %s | %s | %zu | %zu | %zu | %zu |\n",
                      L[l].name, m->n, m->n_pos, m->threshold, fmt(f1[0], m->precision), fmt(f1[1], m->recall),
                      fmt(f1[2], m->f1), fmt(f1[3], m->roc_auc), fmt(f1[4], m->auprc), fmt(f1[5], m->ece),
                      m->tp, m->fp, m->tn, m->fn);
        if (has_dir && m->n_pos && write_svgs(o->report_dir, &L[l], sc, yy, k)) {
            if (detail) *detail = pp_asprintf("%s: cannot write the plots", o->report_dir);
            st = PARAPET_ERR_IO;
            goto out;
        }
        pp_buf_puts(&b, ",\"by_lang\":{");
        int lf = 1;
        for (int g = 0; g < nlang; g++) {
            size_t kk = 0;
            for (size_t i = 0; i < n; i++) {
                int8_t y = ds.r[idx[i]].y[L[l].data_id];
                if (y < 0 || strcmp(ds.r[idx[i]].lang, langs[g])) continue;
                sc[kk] = L[l].score[i];
                yy[kk++] = (uint8_t)y;
            }
            if (!kk) continue;
            pp_bin_metrics lm;
            if ((st = pp_metrics_binary(sc, yy, kk, L[l].threshold, 10, &lm))) goto out;
            pp_buf_printf(&b, "%s\"%s\":", lf ? "" : ",", langs[g]);
            lf = 0;
            put_metrics(&b, &lm);
            pp_buf_printf(&lang_md, "| %s | %s | %zu | %zu | %s | %s | %s | %s |\n", L[l].name, langs[g], lm.n,
                          lm.n_pos, fmt(f1[0], lm.precision), fmt(f1[1], lm.recall), fmt(f1[2], lm.f1),
                          fmt(f1[4], lm.auprc));
        }
        pp_buf_puts(&b, "}}");
    }
    pp_buf_puts(&b, "}}\n");
    pp_buf_put(&md, lang_md.p, lang_md.len);
    pp_buf_free(&lang_md);
    if (has_dir) {
        pp_buf_puts(&md, "\n## Plots\n\n");
        for (int l = 0; l < nl; l++) {
            if (!L[l].all.n_pos) continue;
            char nm[64];
            safe_name(nm, sizeof nm, L[l].name);
            pp_buf_printf(&md, "### %s\n\n![PR curve](pr_%s.svg) ![reliability](reliability_%s.svg)\n\n", L[l].name, nm, nm);
        }
    }
    if ((o->target_fpr > 0 || o->calibrate_guard) && o->write_policy) {
        pp_buf pol;
        pp_buf_init(&pol);
        if (o->calibrate_guard) {
            int any = 0;
            for (int l = 0; l < nl; l++) any |= L[l].cal_ok;
            pp_buf_printf(&pol, "# The guard model's calibration fitted by parapet eval (Platt scaling)\n"
                                "# on %zu labeled records%s.\nextends: default\nguard:\n  calibration:%s\n",
                          n, any ? "" : " (no category had 5 positives, 5 negatives and a usable fit)",
                          any ? "" : " {}");
            for (int l = 0; l < nl; l++)
                if (L[l].cal_ok)
                    pp_buf_printf(&pol, "    %s: {a: %.6g, b: %.6g}\n", L[l].category, L[l].cal_a, L[l].cal_b);
        }
        if (o->target_fpr > 0) {
            pp_buf_printf(&pol, "# Thresholds chosen by parapet eval for a false-positive rate of %g\n"
                                "# on %zu labeled records (%s).\n%scategories:\n",
                          o->target_fpr, n, cls ? "classifier scores" : "pipeline scores",
                          o->calibrate_guard ? "" : "extends: default\n");
            for (int l = 0; l < nl; l++)
                if (L[l].chosen >= 0 && L[l].category[0] && L[l].all.n_pos && L[l].all.n > L[l].all.n_pos)
                    pp_buf_printf(&pol, "  %s:\n    threshold: %.4f\n", L[l].category, L[l].chosen > 1 ? 1.0 : L[l].chosen);
        }
        int bad = pol.oom || write_text(o->write_policy, pol.p, pol.len);
        pp_buf_free(&pol);
        if (bad) {
            if (detail) *detail = pp_asprintf("%s: cannot write", o->write_policy);
            st = PARAPET_ERR_IO;
            goto out;
        }
    }
    if (b.oom || md.oom) { st = PARAPET_ERR_NOMEM; goto out; }
    if (has_dir) {
        char *pj = pp_asprintf("%s/report.json", o->report_dir), *pm = pp_asprintf("%s/report.md", o->report_dir);
        int bad = !pj || !pm || write_text(pj, b.p, b.len) || write_text(pm, md.p, md.len);
        pp_free(pj);
        pp_free(pm);
        if (bad) { st = PARAPET_ERR_IO; goto out; }
    }
    if (report_json) *report_json = pp_buf_detach(&b, NULL);
out:
    for (int l = 0; l < nl; l++) pp_free(L[l].score);
    pp_free(sc);
    pp_free(yy);
    pp_free(idx);
    pp_free(lat);
    pp_buf_free(&b);
    pp_buf_free(&md);
    parapet_policy_free(overlay);
    parapet_close(eng);
    parapet_classifier_close(cls);
    pp_data_free(&ds);
    return st;
}
