/*
** train.c -- training the classifier: load, split, extract features, fit one
** logistic regression per label with AdaGrad, quantize, calibrate, write.
**
** The recipe, in order:
**   1. Load the JSONL records (data.c).  Absent labels are unknown.  Two documented
**      label implications fill negatives the sources left implicit: a record the
**      source judged benign overall (unsafe = 0) is a negative for every harm label
**      it lacks (not spam, which is not harm); and "SOURCE:LABEL=0" rules from the
**      options (e.g. advbench's harmful questions are not jailbreaks).
**   2. Split by a hash of the record id: dev (reported, never trained on),
**      calibration (Platt scaling and thresholds), train.  The split does not depend
**      on the seed or on file order.
**   3. Normalize each text (the fold view, as the detector sees it) and store its
**      hashed features (with the shape features, always on for new models).  Threads split the records; each record's features depend
**      only on its text, so the result does not depend on the thread count.
**   4. Fit: labels are independent logistic regressions over the shared features,
**      so threads split the LABELS and every label sees the same seeded example order
**      each epoch.  This is what makes training multi-threaded and still bit-for-bit
**      deterministic (no shared weights, no reduction order to depend on).  A record
**      whose label is unknown is skipped for that label (masked), so its weights do
**      not move.  Class imbalance: the rarer class of each label is weighted by
**      sqrt(majority / minority), capped at 10.
**   5. Quantize each label's weights to int8 with a per-label scale (max |w| / 127).
**   6. Calibrate on the calibration split with the QUANTIZED model (what ships):
**      Platt scaling per label, then the threshold that maximizes F1.
**   7. Policy mapping: the score the detector reports to the pipeline is the same
**      logistic of the logit shifted so that it reaches 0.5 (the policy threshold)
**      at the stricter of the best-F1 threshold and the threshold at which only
**      policy_fpr (default 0.5%) of the calibration split's negatives are flagged
**      (its negatives for the label, plus its records with no positive label at
**      all where the label is unknown, such as ham SMS for violence).
**      The calibrated probability answers "how likely at the training mix's base
**      rate"; the policy score answers "flag only when precise", which on real
**      traffic, mostly benign and of styles the data lacks, is what a policy
**      threshold needs.  Measured on benign sets the model never saw, see the card.
**   8. Report dev metrics per label and language; write the file (temp + rename).
**
** Memory: the texts, their features (4 bytes per feature, capped per record), and
** per training thread 8 bytes per bucket (weights + AdaGrad state) for one label at
** a time.  With the defaults and the ../shared/data training set this is a few
** hundred MB at most.
*/
#include "classify.h"
#include "data.h"
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_FEATS_PER_REC 16384u

void parapet_train_opts_init(parapet_train_opts *o) {
    memset(o, 0, sizeof *o);
    o->seed = 1;
    o->epochs = 6;
    o->threads = 2;
    o->dev_frac = 0.1;
    o->calib_frac = 0.1;
    o->hash_bits = 15;
    o->min_pos = 150;
    o->policy_fpr = 0.005;
}

/* ---------------------------------------------------------------- shared state */

typedef struct trainer {
    const parapet_train_opts *o;
    pp_dataset ds;
    pp_feat_params fp;
    uint8_t *split;        /* (n) 0 train, 1 calib, 2 dev */
    size_t *foff;          /* (n + 1) offsets into feats */
    uint32_t *feats;       /* all features, record after record */
    uint32_t *order;       /* (n_train) train record indices */
    size_t n_train;
    float *w;              /* (n_labels, buckets) float weights, label-major */
    float bias[PP_DATA_NLABELS];
    size_t n_pos[PP_DATA_NLABELS], n_neg[PP_DATA_NLABELS];
    volatile size_t progress;  /* work units done, read by the main thread */
    pthread_mutex_t mu;
    int next_label;
    int n_done;            /* workers finished (atomic) */
} trainer;

static void prog(const trainer *t, const char *phase, double done, double total) {
    if (t->o->progress) t->o->progress(t->o->ud, phase, done, total);
}

/* ------------------------------------------------------------- implications */

static pp_status apply_assumptions(trainer *t, char **detail) {
    const parapet_train_opts *o = t->o;
    for (size_t a = 0; a < o->n_assume; a++) {
        const char *r = o->assume[a], *colon = strchr(r, ':'), *eq = strrchr(r, '=');
        if (!colon || !eq || eq < colon || strcmp(eq, "=0")) {
            if (detail) *detail = pp_asprintf("assumption \"%s\": expected SOURCE:LABEL=0", r);
            return PARAPET_ERR_ARG;
        }
        char label[64];
        size_t ll = (size_t)(eq - colon - 1);
        if (ll >= sizeof label) return PARAPET_ERR_ARG;
        memcpy(label, colon + 1, ll);
        label[ll] = 0;
        int li = pp_data_label_id(label);
        if (li < 0) {
            if (detail) *detail = pp_asprintf("assumption \"%s\": unknown label \"%s\"", r, label);
            return PARAPET_ERR_ARG;
        }
        size_t sl = (size_t)(colon - r);
        for (size_t s = 0; s < t->ds.n_sources; s++) {
            if (strlen(t->ds.sources[s]) != sl || memcmp(t->ds.sources[s], r, sl)) continue;
            for (size_t i = 0; i < t->ds.n; i++)
                if (t->ds.r[i].source == s && t->ds.r[i].y[li] < 0) t->ds.r[i].y[li] = 0;
        }
    }
    if (!o->no_unsafe_implies)
        for (size_t i = 0; i < t->ds.n; i++) {
            pp_rec *r = &t->ds.r[i];
            if (r->y[PP_DATA_UNSAFE] != 0) continue;
            for (int l = 0; l < PP_DATA_NLABELS; l++)
                if (l != PP_DATA_SPAM && r->y[l] < 0) r->y[l] = 0;
        }
    return PARAPET_OK;
}

/* ----------------------------------------------------------------- features */

typedef struct fx_job {
    trainer *t;
    int tid, nthreads;
    uint32_t *buf;       /* this thread's features, in its records' order */
    size_t len, cap;
    size_t *count;       /* (n) features per record (written for its records) */
    pp_status st;
    uint64_t seen[((size_t)1 << PP_CLS_MAX_BITS) / 64]; /* per-record dedup bitset */
} fx_job;

static void *fx_run(void *arg) {
    fx_job *j = arg;
    trainer *t = j->t;
    pp_text tx;
    pp_text_init(&tx);
    for (size_t i = (size_t)j->tid; i < t->ds.n; i += (size_t)j->nthreads) {
        const pp_rec *r = &t->ds.r[i];
        pp_status st = pp_text_normalize(&tx, r->text, r->len, PP_NORM_REPLACE_INVALID, NULL);
        size_t got = 0;
        if (!st) {
            pp_feat_iter it;
            pp_feat_begin(&it, &t->fp, tx.fold.s, tx.fold.n);
            memset(j->seen, 0, sizeof j->seen);
            for (;;) {
                if (PP_GROW(j->buf, j->cap, j->len + got + 256)) { j->st = PARAPET_ERR_NOMEM; goto out; }
                size_t k = pp_feat_next(&it, j->buf + j->len + got, 256);
                if (!k) break;
                /* Binary features, exactly as pp_cls_logits dedups them. */
                k = pp_feat_dedup(j->seen, j->buf + j->len + got, k);
                got += k;
                if (got >= MAX_FEATS_PER_REC) { got = MAX_FEATS_PER_REC; break; }
            }
        } else if (st == PARAPET_ERR_NOMEM) { j->st = st; goto out; }
        j->count[i] = got;
        j->len += got;
        if (j->tid == 0) t->progress = i;
    }
out:
    pp_text_free(&tx);
    return NULL;
}

static pp_status extract_all(trainer *t, int nthreads) {
    size_t n = t->ds.n;
    size_t *count = pp_calloc(n ? n : 1, sizeof *count);
    fx_job *jobs = pp_calloc((size_t)nthreads, sizeof *jobs);
    pthread_t *th = pp_calloc((size_t)nthreads, sizeof *th);
    pp_status st = PARAPET_OK;
    if (!count || !jobs || !th) { st = PARAPET_ERR_NOMEM; goto out; }
    t->progress = 0;
    int started = 0;
    for (int k = 0; k < nthreads; k++) {
        jobs[k].t = t;
        jobs[k].tid = k;
        jobs[k].nthreads = nthreads;
        jobs[k].count = count;
        if (k > 0 && pthread_create(&th[k], NULL, fx_run, &jobs[k])) { jobs[k].st = PARAPET_ERR_INTERNAL; continue; }
        started |= 1 << k;
    }
    fx_run(&jobs[0]);
    for (int k = 1; k < nthreads; k++)
        if (started & (1 << k)) pthread_join(th[k], NULL);
    for (int k = 0; k < nthreads; k++)
        if (jobs[k].st) st = jobs[k].st;
    if (st) goto out;
    /* Gather: record i's features sit in thread i % nthreads's buffer, in order. */
    size_t total = 0;
    for (int k = 0; k < nthreads; k++) total += jobs[k].len;
    t->foff = pp_malloc((n + 1) * sizeof *t->foff);
    t->feats = pp_malloc((total ? total : 1) * sizeof *t->feats);
    if (!t->foff || !t->feats) { st = PARAPET_ERR_NOMEM; goto out; }
    size_t pos = 0, at[64] = {0};
    for (size_t i = 0; i < n; i++) {
        int k = (int)(i % (size_t)nthreads);
        t->foff[i] = pos;
        memcpy(t->feats + pos, jobs[k].buf + at[k], count[i] * sizeof *t->feats);
        at[k] += count[i];
        pos += count[i];
    }
    t->foff[n] = pos;
out:
    if (jobs)
        for (int k = 0; k < nthreads; k++) pp_free(jobs[k].buf);
    pp_free(jobs);
    pp_free(th);
    pp_free(count);
    return st;
}

/* -------------------------------------------------------------------- fit */

/* xorshift64*: the example order's generator (seeded, platform-independent). */
static uint64_t rng_next(uint64_t *s) {
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

#define LR 0.2f
#define ADA_EPS 1e-6f

/* Fits label l.  w (buckets) and g2 (buckets) are this thread's, zeroed on entry. */
static void fit_label(trainer *t, int l, float *w, float *g2, uint32_t *order) {
    const int epochs = t->o->epochs;
    const size_t nb = (size_t)1 << t->fp.hash_bits;
    double np = (double)t->n_pos[l], nn = (double)t->n_neg[l];
    float wpos = 1, wneg = 1;
    if (np > 0 && nn > 0) {
        if (nn > np) wpos = (float)PP_MIN(10.0, sqrt(nn / np));
        else wneg = (float)PP_MIN(10.0, sqrt(np / nn));
    }
    float b = 0, gb2 = 0;
    memset(w, 0, nb * sizeof *w);
    memset(g2, 0, nb * sizeof *g2);
    uint64_t rng = t->o->seed * 0x9E3779B97F4A7C15ull + 0x1234567ull;
    if (!rng) rng = 1;
    for (int e = 0; e < epochs; e++) {
        /* The same permutation for every label: the rng stream depends only on seed. */
        memcpy(order, t->order, t->n_train * sizeof *order);
        for (size_t i = t->n_train; i > 1; i--) {
            size_t j = (size_t)(rng_next(&rng) % i);
            uint32_t tmp = order[i - 1];
            order[i - 1] = order[j];
            order[j] = tmp;
        }
        for (size_t k = 0; k < t->n_train; k++) {
            const pp_rec *r = &t->ds.r[order[k]];
            if (r->y[l] < 0) continue; /* unknown: masked out of the loss */
            const uint32_t *f = t->feats + t->foff[order[k]];
            size_t nf = t->foff[order[k] + 1] - t->foff[order[k]];
            if (!nf) continue;
            float v = 1.0f / sqrtf((float)nf), z = 0;
            for (size_t i = 0; i < nf; i++) {
                float x = w[f[i] >> 1];
                z += (f[i] & 1) ? -x : x;
            }
            z = b + v * z;
            float y = (float)r->y[l], g = (pp_sigmoidf(z) - y) * (y > 0 ? wpos : wneg);
            gb2 += g * g;
            b -= LR * g / sqrtf(gb2 + ADA_EPS);
            float gv = g * v;
            for (size_t i = 0; i < nf; i++) {
                uint32_t j = f[i] >> 1;
                float gi = (f[i] & 1) ? -gv : gv;
                g2[j] += gi * gi;
                w[j] -= LR * gi / sqrtf(g2[j] + ADA_EPS);
            }
        }
        __atomic_add_fetch(&t->progress, 1, __ATOMIC_RELAXED);
    }
    t->bias[l] = b;
}

typedef struct fit_job { trainer *t; pp_status st; } fit_job;

static void *fit_run(void *arg) {
    fit_job *j = arg;
    trainer *t = j->t;
    size_t nb = (size_t)1 << t->fp.hash_bits;
    float *g2 = pp_malloc(nb * sizeof *g2);
    uint32_t *order = pp_malloc((t->n_train ? t->n_train : 1) * sizeof *order);
    if (!g2 || !order) { j->st = PARAPET_ERR_NOMEM; goto out; }
    for (;;) {
        pthread_mutex_lock(&t->mu);
        int l = t->next_label++;
        pthread_mutex_unlock(&t->mu);
        if (l >= PP_DATA_NLABELS) break;
        /* Which thread fits which label varies; each label's result does not. */
        fit_label(t, l, t->w + (size_t)l * nb, g2, order);
    }
out:
    pp_free(g2);
    pp_free(order);
    __atomic_add_fetch(&t->n_done, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* --------------------------------------------------------- quantized scoring */

/* Raw logit of record i for label l under the quantized model (as the detector
** computes it, from the same features). */
static float qlogit(const trainer *t, const pp_cls_model *m, size_t i, int l) {
    const uint32_t *f = t->feats + t->foff[i];
    size_t nf = t->foff[i + 1] - t->foff[i];
    if (!nf) return m->labels[l].bias;
    int64_t acc = 0;
    for (size_t k = 0; k < nf; k++) {
        int8_t q = m->w[(size_t)(f[k] >> 1) * PP_CLS_STRIDE + (size_t)l];
        acc += (f[k] & 1) ? -q : q;
    }
    return m->labels[l].bias + m->labels[l].scale / sqrtf((float)nf) * (float)acc;
}

/* ---------------------------------------------------------------- report */

static void json_metrics(pp_buf *b, const pp_bin_metrics *mt) {
    pp_buf_printf(b, "{\"n\":%zu,\"pos\":%zu,\"threshold\":%.4f,\"tp\":%zu,\"fp\":%zu,\"tn\":%zu,"
                     "\"fn\":%zu", mt->n, mt->n_pos, mt->threshold, mt->tp, mt->fp, mt->tn, mt->fn);
    const char *k[] = {"precision", "recall", "f1", "roc_auc", "auprc", "ece"};
    double v[] = {mt->precision, mt->recall, mt->f1, mt->roc_auc, mt->auprc, mt->ece};
    for (int i = 0; i < 6; i++) {
        if (isnan(v[i])) pp_buf_printf(b, ",\"%s\":null", k[i]);
        else pp_buf_printf(b, ",\"%s\":%.4f", k[i], v[i]);
    }
    pp_buf_putc(b, '}');
}

/* Dev metrics: per label overall and per language. */
static pp_status dev_report(trainer *t, const pp_cls_model *m, pp_buf *b) {
    size_t n = t->ds.n;
    float *sc = pp_malloc((n ? n : 1) * sizeof *sc);
    uint8_t *y = pp_malloc(n ? n : 1);
    if (!sc || !y) { pp_free(sc); pp_free(y); return PARAPET_ERR_NOMEM; }
    /* languages present in dev */
    char langs[32][8];
    int nl = 0;
    for (size_t i = 0; i < n; i++) {
        if (t->split[i] != 2) continue;
        int f = 0;
        for (int k = 0; k < nl; k++) if (!strcmp(langs[k], t->ds.r[i].lang)) f = 1;
        if (!f && nl < 32) memcpy(langs[nl++], t->ds.r[i].lang, 8);
    }
    pp_buf_puts(b, "\"dev_metrics\":{");
    for (unsigned l = 0; l < m->n_labels; l++) {
        const pp_cls_label *L = &m->labels[l];
        pp_buf_printf(b, "%s\"%s\":{\"all\":", l ? "," : "", L->name);
        for (int pass = -1; pass < nl; pass++) {
            size_t k = 0;
            for (size_t i = 0; i < n; i++) {
                if (t->split[i] != 2 || t->ds.r[i].y[l] < 0) continue;
                if (pass >= 0 && strcmp(t->ds.r[i].lang, langs[pass])) continue;
                sc[k] = pp_sigmoidf(L->platt_a * qlogit(t, m, i, (int)l) + L->platt_b);
                y[k++] = (uint8_t)t->ds.r[i].y[l];
            }
            if (pass >= 0) {
                if (!k) continue;
                pp_buf_printf(b, ",\"%s\":", langs[pass]);
            }
            pp_bin_metrics mt;
            if (pp_metrics_binary(sc, y, k, L->threshold, 10, &mt)) { pp_free(sc); pp_free(y); return PARAPET_ERR_NOMEM; }
            json_metrics(b, &mt);
        }
        pp_buf_putc(b, '}');
    }
    pp_buf_putc(b, '}');
    pp_free(sc);
    pp_free(y);
    return PARAPET_OK;
}

/* ---------------------------------------------------------------- driver */

static pp_status write_file(const char *path, const unsigned char *d, size_t len, char **detail) {
    char *tmp = pp_asprintf("%s.tmp%ld", path, (long)getpid());
    if (!tmp) return PARAPET_ERR_NOMEM;
    FILE *f = fopen(tmp, "wb");
    pp_status st = PARAPET_OK;
    if (!f || fwrite(d, 1, len, f) != len || fclose(f)) {
        if (f) fclose(f);
        if (detail) *detail = pp_asprintf("%s: cannot write", tmp);
        st = PARAPET_ERR_IO;
    } else if (rename(tmp, path)) {
        if (detail) *detail = pp_asprintf("%s: cannot rename into place", path);
        st = PARAPET_ERR_IO;
    }
    if (st) remove(tmp);
    pp_free(tmp);
    return st;
}

static void warn_tramp(void *ud, const char *msg) {
    const parapet_train_opts *o = ud;
    if (o->warn) o->warn(o->ud, msg);
}

parapet_status parapet_train(const parapet_train_opts *o, char **report_json, char **detail) {
    if (detail) *detail = NULL;
    if (report_json) *report_json = NULL;
    if (!o || !o->n_data || !o->data || !o->out_path || o->epochs < 1 || o->epochs > 1000 ||
        o->hash_bits < 10 || o->hash_bits > PP_CLS_MAX_BITS || o->char_min < 0 ||
        o->char_max > 6 || (o->char_min && o->char_max && o->char_min > o->char_max) || o->dev_frac < 0 || o->calib_frac <= 0 ||
        o->dev_frac + o->calib_frac >= 0.9 || !(o->policy_fpr > 0 && o->policy_fpr < 0.5)) {
        if (detail) *detail = pp_asprintf("train: invalid options (need data, an output path, "
                                          "1..1000 epochs, hash bits 10..16, character n-grams within 1..6, "
                                          "held-out fractions < 0.9, policy FPR in (0, 0.5))");
        return PARAPET_ERR_ARG;
    }
    int nthreads = o->threads < 1 ? 1 : o->threads > 64 ? 64 : o->threads;
    trainer T;
    memset(&T, 0, sizeof T);
    trainer *t = &T;
    t->o = o;
    t->fp = (pp_feat_params){(unsigned)o->hash_bits, o->char_min ? (unsigned)o->char_min : 3,
                             o->char_max ? (unsigned)o->char_max : 5, 2,
                             PP_FEAT_SHAPES};
    if (t->fp.char_min > t->fp.char_max) t->fp.char_min = t->fp.char_max;
    pthread_mutex_init(&t->mu, NULL);
    uint64_t t0 = pp_now_ns();
    pp_status st;
    pp_cls_model *m = NULL;
    int8_t *q = NULL;
    unsigned char *img = NULL;
    pp_buf rep;
    pp_buf_init(&rep);

    prog(t, "load", 0, 1);
    st = pp_data_load(o->data, o->n_data, o->strict, warn_tramp, (void *)o, &t->ds, detail);
    if (st) goto out;
    if ((st = apply_assumptions(t, detail))) goto out;
    size_t n = t->ds.n;
    t->split = pp_malloc(n);
    t->order = pp_malloc(n * sizeof *t->order);
    if (!t->split || !t->order) { st = PARAPET_ERR_NOMEM; goto out; }
    size_t n_split[3] = {0};
    for (size_t i = 0; i < n; i++) {
        t->split[i] = (uint8_t)pp_data_split(t->ds.r[i].id_hash, o->dev_frac, o->calib_frac);
        n_split[t->split[i]]++;
        if (t->split[i] == 0) {
            t->order[t->n_train++] = (uint32_t)i;
            for (int l = 0; l < PP_DATA_NLABELS; l++) {
                if (t->ds.r[i].y[l] == 1) t->n_pos[l]++;
                else if (t->ds.r[i].y[l] == 0) t->n_neg[l]++;
            }
        }
    }
    uint64_t t_load = pp_now_ns();

    /* Features, with the main thread reporting progress while workers run. */
    prog(t, "features", 0, (double)n);
    st = extract_all(t, nthreads);
    if (st) goto out;
    prog(t, "features", (double)n, (double)n);
    uint64_t t_feat = pp_now_ns();

    size_t nb = (size_t)1 << t->fp.hash_bits;
    t->w = pp_calloc((size_t)PP_DATA_NLABELS * nb, sizeof *t->w);
    if (!t->w) { st = PARAPET_ERR_NOMEM; goto out; }
    {
        /* nthreads workers fit labels; the calling thread only reports progress, so
        ** the progress callback always runs on the caller's thread. */
        fit_job jobs[64];
        pthread_t th[64];
        int started[64] = {0}, n_started = 0;
        t->progress = 0;
        t->next_label = 0;
        t->n_done = 0;
        for (int k = 0; k < nthreads; k++) {
            jobs[k] = (fit_job){t, PARAPET_OK};
            started[k] = !pthread_create(&th[k], NULL, fit_run, &jobs[k]);
            n_started += started[k];
        }
        double total = (double)PP_DATA_NLABELS * o->epochs;
        if (!n_started) fit_run(&jobs[0]);
        while (n_started && __atomic_load_n(&t->n_done, __ATOMIC_ACQUIRE) < n_started) {
            prog(t, "train", (double)__atomic_load_n(&t->progress, __ATOMIC_RELAXED), total);
            struct timespec ts = {0, 100000000};
            nanosleep(&ts, NULL);
        }
        for (int k = 0; k < nthreads; k++)
            if (started[k]) pthread_join(th[k], NULL);
        for (int k = 0; k < nthreads; k++)
            if (jobs[k].st) st = jobs[k].st;
        if (st) goto out;
        prog(t, "train", total, total);
    }
    uint64_t t_fit = pp_now_ns();

    /* Quantize into the shipped layout (bucket-major int8). */
    m = pp_calloc(1, sizeof *m);
    q = pp_calloc(nb, PP_CLS_STRIDE);
    if (!m || !q) { st = PARAPET_ERR_NOMEM; goto out; }
    m->fp = t->fp;
    m->n_labels = PP_DATA_NLABELS;
    m->seed = o->seed;
    m->n_train = (uint32_t)t->n_train;
    for (int l = 0; l < PP_DATA_NLABELS; l++) {
        const float *w = t->w + (size_t)l * nb;
        float mx = 0;
        for (size_t j = 0; j < nb; j++) mx = PP_MAX(mx, fabsf(w[j]));
        float scale = mx > 0 ? mx / 127.0f : 1.0f;
        for (size_t j = 0; j < nb; j++) {
            long v = lrintf(w[j] / scale);
            q[j * PP_CLS_STRIDE + (size_t)l] = (int8_t)(v > 127 ? 127 : v < -127 ? -127 : v);
        }
        pp_cls_label *L = &m->labels[l];
        snprintf(L->name, sizeof L->name, "%s", pp_data_label_name[l]);
        snprintf(L->category, sizeof L->category, "%s", pp_data_label_cat[l]);
        L->scale = scale;
        L->bias = t->bias[l];
        L->n_pos = (uint32_t)t->n_pos[l];
        L->n_neg = (uint32_t)t->n_neg[l];
        L->flags = (L->category[0] && t->n_pos[l] >= (size_t)PP_MAX(o->min_pos, 1)) ? PP_CLS_EMIT : 0;
        for (size_t k = 0; k < o->n_no_emit; k++)
            if (!strcmp(o->no_emit[k], L->name)) L->flags &= ~PP_CLS_EMIT;
    }
    m->w = q;

    /* Calibrate on the held-out calibration split. */
    prog(t, "calibrate", 0, PP_DATA_NLABELS);
    {
        float *z = pp_malloc(n * sizeof *z), *p = pp_malloc(n * sizeof *p);
        uint8_t *y = pp_malloc(n);
        if (!z || !p || !y) { pp_free(z); pp_free(p); pp_free(y); st = PARAPET_ERR_NOMEM; goto out; }
        for (int l = 0; l < PP_DATA_NLABELS; l++) {
            size_t k = 0;
            for (size_t i = 0; i < n; i++) {
                if (t->split[i] != 1 || t->ds.r[i].y[l] < 0) continue;
                z[k] = qlogit(t, m, i, l);
                y[k++] = (uint8_t)t->ds.r[i].y[l];
            }
            pp_cls_label *L = &m->labels[l];
            pp_platt_fit(z, y, k, &L->platt_a, &L->platt_b);
            for (size_t i = 0; i < k; i++) p[i] = pp_sigmoidf(L->platt_a * z[i] + L->platt_b);
            L->threshold = (float)pp_best_f1_threshold(p, y, k);
            /* The policy mapping (step 7): the policy score crosses 0.5 at p_star, the
            ** stricter of the best-F1 threshold and the threshold at which at most
            ** policy_fpr of this split's negatives are flagged. */
            /* The negatives here are a realistic, mostly benign mix: the split's
            ** negatives for this label plus every record with no positive label at
            ** all whose label is unknown (e.g. ham SMS for violence). */
            size_t k2 = k;
            for (size_t i = 0; i < n; i++) {
                const pp_rec *r = &t->ds.r[i];
                if (t->split[i] != 1 || r->y[l] >= 0) continue;
                int anypos = 0;
                for (int j = 0; j < PP_DATA_NLABELS; j++) anypos |= r->y[j] == 1;
                if (anypos) continue;
                p[k2] = pp_sigmoidf(L->platt_a * qlogit(t, m, i, l) + L->platt_b);
                y[k2++] = 0;
            }
            double p_star = PP_MAX(L->threshold, pp_fpr_threshold(p, y, k2, t->o->policy_fpr));
            p_star = PP_MIN(PP_MAX(p_star, 1e-4), 1 - 1e-6);
            L->policy_a = L->platt_a;
            L->policy_b = (float)(L->platt_b - log(p_star / (1 - p_star)));
            prog(t, "calibrate", l + 1, PP_DATA_NLABELS);
        }
        pp_free(z);
        pp_free(p);
        pp_free(y);
    }
    uint64_t t_cal = pp_now_ns();

    size_t img_len;
    if ((st = pp_cls_serialize(m, q, &img, &img_len))) goto out;
    if ((st = write_file(o->out_path, img, img_len, detail))) goto out;

    if (report_json) {
        char hex[65];
        pp_sha256_hex(img + PP_CLS_PREAMBLE, img_len - PP_CLS_PREAMBLE, hex);
        pp_buf_printf(&rep, "{\"model\":\"");
        pp_buf_json_str(&rep, o->out_path, strlen(o->out_path));
        pp_buf_printf(&rep, "\",\"bytes\":%zu,\"sha256\":\"%s\",\"records\":%zu,\"malformed\":%zu,"
                            "\"train\":%zu,\"calib\":%zu,\"dev\":%zu,\"features\":%zu,\"hash_bits\":%u,"
                            "\"epochs\":%d,\"seed\":%llu,\"seconds\":{\"load\":%.2f,\"features\":%.2f,"
                            "\"fit\":%.2f,\"calibrate\":%.2f},\"labels\":[",
                      img_len, hex, n, t->ds.n_bad, n_split[0], n_split[1], n_split[2], t->foff[n],
                      t->fp.hash_bits, o->epochs, (unsigned long long)o->seed, (t_load - t0) / 1e9,
                      (t_feat - t_load) / 1e9, (t_fit - t_feat) / 1e9, (t_cal - t_fit) / 1e9);
        for (int l = 0; l < PP_DATA_NLABELS; l++) {
            const pp_cls_label *L = &m->labels[l];
            pp_buf_printf(&rep, "%s{\"name\":\"%s\",\"category\":\"%s\",\"emitted\":%s,\"pos\":%u,"
                                "\"neg\":%u,\"threshold\":%.4f,\"platt\":[%.4f,%.4f],\"policy\":[%.4f,%.4f]}",
                          l ? "," : "", L->name, L->category, (L->flags & PP_CLS_EMIT) ? "true" : "false",
                          L->n_pos, L->n_neg, L->threshold, L->platt_a, L->platt_b, L->policy_a,
                          L->policy_b);
        }
        pp_buf_puts(&rep, "],");
        if ((st = dev_report(t, m, &rep))) goto out;
        pp_buf_puts(&rep, "}\n");
        if (rep.oom) { st = PARAPET_ERR_NOMEM; goto out; }
        *report_json = pp_buf_detach(&rep, NULL);
    }
out:
    pp_buf_free(&rep);
    pp_free(img);
    pp_free(q);
    pp_free(m);
    pp_free(t->w);
    pp_free(t->feats);
    pp_free(t->foff);
    pp_free(t->split);
    pp_free(t->order);
    pp_data_free(&t->ds);
    pthread_mutex_destroy(&t->mu);
    return st;
}
