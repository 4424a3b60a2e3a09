/*
** metrics.c -- binary classification metrics for evaluation and calibration:
** precision / recall / F1 at a threshold, ROC-AUC, AUPRC, expected calibration
** error, PR and reliability curves, Platt scaling and threshold choice.
**
** Conventions.  A prediction is positive when score >= threshold.  Tied scores are
** treated as one group everywhere (a curve never splits a tie, ROC-AUC counts a
** tied positive/negative pair as one half), so results do not depend on input
** order.  AUPRC is average precision: sum over distinct thresholds of
** (recall_k - recall_{k-1}) * precision_k, the step-wise area scikit-learn reports.
** ECE uses equal-width bins over [0,1], weighted by bin size.
*/
#include "classify.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct sy { float s; uint8_t y; } sy;

static int by_score_desc(const void *a, const void *b) {
    float x = ((const sy *)a)->s, z = ((const sy *)b)->s;
    return x < z ? 1 : x > z ? -1 : 0;
}

static sy *sorted_copy(const float *score, const uint8_t *y, size_t n) {
    sy *v = pp_malloc((n ? n : 1) * sizeof *v);
    if (!v) return NULL;
    for (size_t i = 0; i < n; i++) v[i] = (sy){score[i], (uint8_t)(y[i] != 0)};
    qsort(v, n, sizeof *v, by_score_desc);
    return v;
}

void pp_metrics_reliability(const float *score, const uint8_t *y, size_t n, int bins,
                            double *mean_score, double *pos_rate, size_t *count) {
    for (int b = 0; b < bins; b++) { mean_score[b] = 0; pos_rate[b] = 0; count[b] = 0; }
    for (size_t i = 0; i < n; i++) {
        int b = (int)(score[i] * bins);
        if (b < 0) b = 0;
        if (b >= bins) b = bins - 1;
        mean_score[b] += score[i];
        pos_rate[b] += y[i] != 0;
        count[b]++;
    }
    for (int b = 0; b < bins; b++)
        if (count[b]) { mean_score[b] /= (double)count[b]; pos_rate[b] /= (double)count[b]; }
}

pp_status pp_metrics_binary(const float *score, const uint8_t *y, size_t n, double threshold,
                            int ece_bins, pp_bin_metrics *o) {
    memset(o, 0, sizeof *o);
    o->n = n;
    o->threshold = threshold;
    for (size_t i = 0; i < n; i++) {
        int p = score[i] >= threshold, t = y[i] != 0;
        o->n_pos += t;
        if (p && t) o->tp++;
        else if (p) o->fp++;
        else if (t) o->fn++;
        else o->tn++;
    }
    o->precision = o->tp + o->fp ? (double)o->tp / (double)(o->tp + o->fp) : NAN;
    o->recall = o->n_pos ? (double)o->tp / (double)o->n_pos : NAN;
    o->f1 = o->tp ? 2.0 * o->tp / (double)(2 * o->tp + o->fp + o->fn) : (o->n_pos ? 0.0 : NAN);
    o->fpr = o->fp + o->tn ? (double)o->fp / (double)(o->fp + o->tn) : NAN;
    o->roc_auc = o->auprc = o->ece = NAN;
    if (!n) return PARAPET_OK;
    if (ece_bins > 0 && ece_bins <= 1000) {
        double ms[1000], pr[1000];
        size_t ct[1000];
        pp_metrics_reliability(score, y, n, ece_bins, ms, pr, ct);
        double e = 0;
        for (int b = 0; b < ece_bins; b++) e += (double)ct[b] / (double)n * fabs(ms[b] - pr[b]);
        o->ece = e;
    }
    size_t n_neg = n - o->n_pos;
    if (!o->n_pos) return PARAPET_OK;
    sy *v = sorted_copy(score, y, n);
    if (!v) return PARAPET_ERR_NOMEM;
    /* One pass over tie groups, highest score first. */
    double ap = 0, prev_r = 0, auc = 0;
    size_t tp = 0, fp = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i, gp = 0, gn = 0;
        while (j < n && v[j].s == v[i].s) { gp += v[j].y; gn += !v[j].y; j++; }
        /* Negatives in this group rank below the positives seen before it and tie
        ** with the positives inside it. */
        auc += (double)gn * ((double)tp + 0.5 * (double)gp);
        tp += gp;
        fp += gn;
        double r = (double)tp / (double)o->n_pos, p = (double)tp / (double)(tp + fp);
        ap += (r - prev_r) * p;
        prev_r = r;
        i = j;
    }
    o->auprc = ap;
    if (n_neg) o->roc_auc = auc / ((double)o->n_pos * (double)n_neg);
    pp_free(v);
    return PARAPET_OK;
}

pp_status pp_metrics_pr_curve(const float *score, const uint8_t *y, size_t n, double **pts,
                              size_t *npts) {
    *pts = NULL;
    *npts = 0;
    size_t n_pos = 0;
    for (size_t i = 0; i < n; i++) n_pos += y[i] != 0;
    sy *v = sorted_copy(score, y, n);
    if (!v) return PARAPET_ERR_NOMEM;
    double *o = pp_malloc((2 * n + 2) * sizeof *o);
    if (!o) { pp_free(v); return PARAPET_ERR_NOMEM; }
    size_t m = 0, tp = 0, fp = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && v[j].s == v[i].s) { tp += v[j].y; fp += !v[j].y; j++; }
        o[2 * m] = n_pos ? (double)tp / (double)n_pos : 0;
        o[2 * m + 1] = (double)tp / (double)(tp + fp);
        m++;
        i = j;
    }
    pp_free(v);
    *pts = o;
    *npts = m;
    return PARAPET_OK;
}

double pp_best_f1_threshold(const float *score, const uint8_t *y, size_t n) {
    size_t n_pos = 0;
    for (size_t i = 0; i < n; i++) n_pos += y[i] != 0;
    if (!n_pos) return 0.5;
    sy *v = sorted_copy(score, y, n);
    if (!v) return 0.5;
    double best = -1, thr = 0.5;
    size_t tp = 0, fp = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && v[j].s == v[i].s) { tp += v[j].y; fp += !v[j].y; j++; }
        double f1 = 2.0 * tp / (double)(tp + fp + n_pos);
        if (f1 > best) { best = f1; thr = v[i].s; }
        i = j;
    }
    pp_free(v);
    return thr;
}

double pp_fpr_threshold(const float *score, const uint8_t *y, size_t n, double target_fpr) {
    size_t n_neg = 0;
    for (size_t i = 0; i < n; i++) n_neg += y[i] == 0;
    sy *v = sorted_copy(score, y, n);
    if (!v) return 1.0;
    double thr = 1.0;
    size_t fp = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && v[j].s == v[i].s) { fp += !v[j].y; j++; }
        if (n_neg && (double)fp / (double)n_neg > target_fpr) break;
        thr = v[i].s;
        i = j;
    }
    pp_free(v);
    return thr;
}

/* Cross-entropy of target t against sigmoid(f), computed without overflow:
** softplus(f) - t*f. */
static double xent(double t, double f) { return (f > 0 ? f : 0) + log1p(exp(-fabs(f))) - t * f; }

static double platt_loss(const float *z, const uint8_t *y, size_t n, double hi, double lo,
                         double A, double B) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += xent(y[i] ? hi : lo, A * z[i] + B);
    return s;
}

/* Platt (1999): minimize the cross-entropy of sigmoid(a*z + b) against the smoothed
** targets (N+ + 1)/(N+ + 2) and 1/(N- + 2), by Newton's method with a backtracking
** line search (as Lin, Lin and Weng 2007 recommend).  Starts at the identity map,
** since z is already a logit. */
void pp_platt_fit(const float *z, const uint8_t *y, size_t n, float *a_out, float *b_out) {
    double np = 0, nn = 0;
    for (size_t i = 0; i < n; i++) { if (y[i]) np++; else nn++; }
    if (!np || !nn) { *a_out = 1; *b_out = 0; return; }
    double hi = (np + 1) / (np + 2), lo = 1 / (nn + 2);
    double A = 1, B = 0, fval = platt_loss(z, y, n, hi, lo, A, B);
    for (int it = 0; it < 100; it++) {
        double h11 = 1e-12, h22 = 1e-12, h21 = 0, g1 = 0, g2 = 0;
        for (size_t i = 0; i < n; i++) {
            double t = y[i] ? hi : lo, f = A * z[i] + B;
            double q = f >= 0 ? 1 / (1 + exp(-f)) : exp(f) / (1 + exp(f)); /* sigmoid(f) */
            double d2 = q * (1 - q), d1 = q - t;
            h11 += (double)z[i] * z[i] * d2;
            h22 += d2;
            h21 += z[i] * d2;
            g1 += z[i] * d1;
            g2 += d1;
        }
        if (fabs(g1) < 1e-7 * n && fabs(g2) < 1e-7 * n) break;
        double det = h11 * h22 - h21 * h21;
        if (!(det > 0)) break;
        double dA = -(h22 * g1 - h21 * g2) / det, dB = -(h11 * g2 - h21 * g1) / det;
        double gd = g1 * dA + g2 * dB, step = 1;
        int moved = 0;
        while (step >= 1e-10) {
            double nA = A + step * dA, nB = B + step * dB;
            double nf = platt_loss(z, y, n, hi, lo, nA, nB);
            if (nf <= fval + 1e-4 * step * gd) { A = nA; B = nB; fval = nf; moved = 1; break; }
            step /= 2;
        }
        if (!moved) break;
    }
    *a_out = (float)A;
    *b_out = (float)B;
}
