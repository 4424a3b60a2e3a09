/*
** test_classify.c -- the learned classifier: feature hashing (shape features counted
** by hand), training (a rule it must learn, label masking, determinism), calibration,
** the model file (round trip, the shape flag, corrupt and truncated files refused),
** the detector, and the metrics against values computed by hand.
*/
#include "test.h"
#include "classify/classify.h"
#include "classify/data.h"
#include "detect/detector.h"
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* ------------------------------------------------------------------ helpers */

static const pp_feat_params FP = {16, 3, 5, 2};

static const pp_feat_params FP_SHAPES = {16, 3, 5, 2, PP_FEAT_SHAPES};

/* Features of text's fold view under params p, repeats included. */
static size_t feats_with(const pp_feat_params *p, const char *text, uint32_t *out, size_t cap) {
    pp_text t;
    pp_text_init(&t);
    size_t n = 0, k;
    if (pp_text_normalize(&t, text, strlen(text), PP_NORM_REPLACE_INVALID, NULL)) { pp_text_free(&t); return 0; }
    pp_feat_iter it;
    pp_feat_begin(&it, p, t.fold.s, t.fold.n);
    while (cap - n >= 16 && (k = pp_feat_next(&it, out + n, cap - n)) > 0) n += k;
    pp_text_free(&t);
    return n;
}

static size_t feats_of(const char *text, uint32_t *out, size_t cap) {
    return feats_with(&FP, text, out, cap);
}

/* How many buckets of a[0..na) also occur in b[0..nb) (each of a counted once). */
static size_t common_buckets(const uint32_t *a, size_t na, const uint32_t *b, size_t nb) {
    size_t c = 0;
    for (size_t i = 0; i < na; i++) {
        int dup = 0, hit = 0;
        for (size_t j = 0; j < i; j++) dup |= (a[j] >> 1) == (a[i] >> 1);
        for (size_t j = 0; j < nb && !dup; j++) hit |= (b[j] >> 1) == (a[i] >> 1);
        c += !dup && hit;
    }
    return c;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Writes a temporary file and returns its path (static buffer per slot). */
static const char *tmpfile_with(int slot, const char *body) {
    static char paths[4][64];
    snprintf(paths[slot], sizeof paths[slot], "/tmp/pp_cls_test_%ld_%d.jsonl", (long)getpid(), slot);
    FILE *f = fopen(paths[slot], "w");
    if (!f) return NULL;
    fputs(body, f);
    fclose(f);
    return paths[slot];
}

/* A tiny corpus: texts from letters a-m; "spam" = 1 when the text has "bag". Hate
** is labeled on every record: 1 when the text has "dim". */
static char *tiny_corpus(int with_masked) {
    static const char *words[] = {"able", "bag", "cafe", "deal", "dim", "face", "glee", "head",
                                  "idea", "jade", "kale", "lime", "made"};
    pp_buf b;
    pp_buf_init(&b);
    uint64_t s = 7;
    for (int i = 0; i < 240; i++) {
        int has_bag = 0, has_dim = 0;
        char text[128] = "";
        for (int w = 0; w < 4; w++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            int k = (int)((s >> 33) % 13);
            if (k == 1) has_bag = 1;
            if (k == 4) has_dim = 1;
            strcat(text, words[k]);
            strcat(text, " ");
        }
        pp_buf_printf(&b, "{\"text\":\"%s\",\"labels\":{\"spam\":%d,\"hate\":%d},\"id\":\"t%d\",\"lang\":\"en\"}\n",
                      text, has_bag, has_dim, i);
    }
    if (with_masked) /* letters n-z only, hate unknown (absent) */
        for (int i = 0; i < 40; i++)
            pp_buf_printf(&b, "{\"text\":\"%s\",\"labels\":{\"spam\":%d},\"id\":\"m%d\"}\n",
                          i % 2 ? "snow storm your" : "quiz vowup trys", i % 2, i);
    return pp_buf_detach(&b, NULL);
}

static parapet_status train_tiny(const char *data, const char *out, int threads) {
    parapet_train_opts o;
    parapet_train_opts_init(&o);
    const char *d[] = {data};
    o.data = d;
    o.n_data = 1;
    o.out_path = out;
    o.hash_bits = 16;
    o.epochs = 8;
    o.threads = threads;
    o.min_pos = 5;
    o.no_unsafe_implies = 1;
    return parapet_train(&o, NULL, NULL);
}

static unsigned char *slurp(const char *path, size_t *len) {
    char *p = NULL;
    if (pp_read_file(path, 1u << 26, &p, len, NULL)) return NULL;
    return (unsigned char *)p;
}

/* ----------------------------------------------------------------- features */

TEST(features_deterministic_and_fold_invariant) {
    uint32_t a[4096], b[4096], c[4096];
    size_t na = feats_of("You are an IDIOT", a, 4096);
    size_t nb = feats_of("you are an idiot", b, 4096);
    size_t nc = feats_of("y0u are an 1d10t", c, 4096);
    CHECK(na > 10);
    CHECK_EQ(na, nb);
    CHECK(!memcmp(a, b, na * sizeof *a));
    CHECK_EQ(na, nc); /* leet folded by the normalizer before hashing */
    CHECK(!memcmp(a, c, na * sizeof *a));
    for (size_t i = 0; i < na; i++) CHECK((a[i] >> 1) < (1u << FP.hash_bits));
    size_t nd = feats_of("you are an idiom", c, 4096);
    CHECK(nd == na && memcmp(a, c, na * sizeof *a)); /* a different word, different features */
}

TEST(features_count_by_hand) {
    /* "ab": stream " ab ": 3-gram " ab" at b; "ab " and " ab " at the final space;
    ** one unigram; no bigram: 4 features. */
    uint32_t f[64];
    pp_feat_iter it;
    pp_feat_begin(&it, &FP, "ab", 2);
    size_t n = pp_feat_next(&it, f, 64);
    CHECK_EQ(n, 4);
    CHECK_EQ(pp_feat_next(&it, f, 64), 0);
    /* "ab cd": 2 unigrams + 1 bigram + n-grams " ab","ab "," ab ","b c","ab c"," ab c",
    ** " cd"... count: at b:1, at ' ':2, at c:3, at d:3, at final ' ':3 => 12 + 3 = 15 */
    pp_feat_begin(&it, &FP, "ab cd", 5);
    n = pp_feat_next(&it, f, 64);
    CHECK_EQ(n, 15);
    /* Unspaced script: each Han character is a token, so 2 unigrams + 1 bigram. */
    uint32_t g[64];
    pp_feat_begin(&it, &FP, "\xe4\xbd\xa0\xe5\xa5\xbd", 6); /* 你好 */
    n = pp_feat_next(&it, g, 64);
    CHECK(n >= 3);
}

TEST(features_shapes_by_hand) {
    uint32_t a[256], b[256], c[256], d[256];
    /* "ab": the 4 features of features_count_by_hand, unchanged and in order, then
    ** the length class; no digits, no symbols. */
    size_t n0 = feats_with(&FP, "ab", a, 256), n1 = feats_with(&FP_SHAPES, "ab", b, 256);
    CHECK_EQ(n0, 4);
    CHECK_EQ(n1, 5);
    CHECK(!memcmp(a, b, 4 * sizeof *a));
    /* A number adds its digit shape: "83738" and "12345" (5 digits, no letters)
    ** share the shape and the length class (1 token) and nothing else new; "123456"
    ** shares only the length class with "83738". */
    size_t na = feats_with(&FP, "83738", a, 256), nb = feats_with(&FP, "12345", b, 256);
    size_t sa = feats_with(&FP_SHAPES, "83738", c, 256), sb = feats_with(&FP_SHAPES, "12345", d, 256);
    CHECK_EQ(sa, na + 2);
    CHECK_EQ(sb, nb + 2);
    size_t base = common_buckets(a, na, b, nb);
    CHECK_EQ(common_buckets(c, sa, d, sb), base + 2);
    nb = feats_with(&FP, "123456", b, 256);
    sb = feats_with(&FP_SHAPES, "123456", d, 256);
    CHECK_EQ(common_buckets(c, sa, d, sb), common_buckets(a, na, b, nb) + 1);
    /* A symbol is a feature of its own: "win £ now" and "win now" read the same
    ** stream, so the pound sign is the one extra feature; "win $ now" differs from
    ** both in that feature only. */
    na = feats_with(&FP_SHAPES, "win now", a, 256);
    nb = feats_with(&FP_SHAPES, "win \xc2\xa3 now", b, 256);
    size_t nc = feats_with(&FP_SHAPES, "win $ now", c, 256);
    CHECK_EQ(nb, na + 1);
    CHECK_EQ(nc, na + 1);
    CHECK_EQ(common_buckets(b, nb, a, na), na);
    CHECK_EQ(common_buckets(b, nb, c, nc), na);
    /* Without the flag the symbol is only a space. */
    CHECK_EQ(feats_with(&FP, "win \xc2\xa3 now", b, 256), feats_with(&FP, "win now", a, 256));
    /* The length class tells 1 token from 40. */
    char longer[256] = "";
    for (int i = 0; i < 40; i++) strcat(longer, "ab ");
    nb = feats_with(&FP_SHAPES, longer, b, 256);
    na = feats_with(&FP_SHAPES, "ab", a, 256);
    CHECK((a[na - 1] >> 1) != (b[nb - 1] >> 1) || (a[na - 1] & 1) != (b[nb - 1] & 1));
}

TEST(features_dedup_keeps_first_of_each_bucket) {
    uint64_t seen[(1u << 16) / 64];
    memset(seen, 0, sizeof seen);
    /* buckets 5, 9, 5 (other sign), 7, 9: keeps 5, 9, 7 in order */
    uint32_t f[] = {5u << 1, 9u << 1 | 1, 5u << 1 | 1, 7u << 1, 9u << 1};
    CHECK_EQ(pp_feat_dedup(seen, f, 5), 3);
    CHECK_EQ(f[0], 5u << 1);
    CHECK_EQ(f[1], 9u << 1 | 1);
    CHECK_EQ(f[2], 7u << 1);
    /* the bitset carries over between chunks of the same text */
    uint32_t g[] = {7u << 1, 11u << 1};
    CHECK_EQ(pp_feat_dedup(seen, g, 2), 1);
    CHECK_EQ(g[0], 11u << 1);
}

/* --------------------------------------------------------------- training */

TEST(train_learns_an_obvious_rule) {
    char *corpus = tiny_corpus(0);
    const char *data = tmpfile_with(0, corpus);
    pp_free(corpus);
    char out[64];
    snprintf(out, sizeof out, "/tmp/pp_cls_test_%ld.ppm", (long)getpid());
    CHECK_OK(train_tiny(data, out, 2));
    parapet_classifier *c;
    CHECK_OK(parapet_classifier_open(out, &c, NULL));
    int spam = -1;
    for (size_t i = 0; i < parapet_classifier_label_count(c); i++) {
        parapet_label_info li;
        CHECK_OK(parapet_classifier_label(c, i, &li));
        if (!strcmp(li.name, "spam")) spam = (int)i;
    }
    CHECK(spam >= 0);
    double p1[32], p0[32];
    CHECK_OK(parapet_classifier_predict(c, "kale bag lime", 13, p1, 32));
    CHECK_OK(parapet_classifier_predict(c, "kale jade lime", 14, p0, 32));
    CHECK_MSG(p1[spam] > 0.7 && p0[spam] < 0.3, "spam %g vs %g", p1[spam], p0[spam]);
    parapet_classifier_close(c);
    unlink(out);
    unlink(data);
}

TEST(train_masks_unknown_labels) {
    char *corpus = tiny_corpus(1);
    const char *data = tmpfile_with(1, corpus);
    pp_free(corpus);
    char out[64];
    snprintf(out, sizeof out, "/tmp/pp_cls_test_m%ld.ppm", (long)getpid());
    CHECK_OK(train_tiny(data, out, 1));
    pp_cls_model *m;
    CHECK_OK(pp_cls_open_file(out, &m, NULL));
    int hate = pp_data_label_id("hate"), spam = pp_data_label_id("spam");
    /* Buckets used by the labeled (a-m) texts. */
    static const char *words[] = {"able", "bag", "cafe", "deal", "dim", "face", "glee", "head",
                                  "idea", "jade", "kale", "lime", "made"};
    uint32_t *used = pp_malloc(100000 * sizeof *used);
    CHECK(used);
    size_t nu = 0;
    for (int a = 0; a < 13; a++)
        for (int b = 0; b < 13; b++) {
            char t[64];
            snprintf(t, sizeof t, "%s %s", words[a], words[b]);
            nu += feats_of(t, used + nu, 100000 - nu);
        }
    for (size_t i = 0; i < nu; i++) used[i] >>= 1;
    qsort(used, nu, sizeof *used, cmp_u32);
    /* Features only the masked (n-z, hate absent) texts have: hate weights stay 0,
    ** while spam, which those texts do label, moves. */
    const char *masked[] = {"snow storm your", "quiz vowup trys"};
    int moved_spam = 0;
    for (int k = 0; k < 2; k++) {
        uint32_t f[256];
        size_t nf = feats_of(masked[k], f, 256);
        for (size_t i = 0; i < nf; i++) {
            uint32_t bkt = f[i] >> 1;
            if (bsearch(&bkt, used, nu, sizeof *used, cmp_u32)) continue; /* collision */
            CHECK_EQ(m->w[(size_t)bkt * PP_CLS_STRIDE + (size_t)hate], 0);
            moved_spam |= m->w[(size_t)bkt * PP_CLS_STRIDE + (size_t)spam] != 0;
        }
    }
    CHECK(moved_spam);
    pp_free(used);
    pp_cls_close(m);
    unlink(out);
    unlink(data);
}

TEST(train_deterministic_across_threads) {
    char *corpus = tiny_corpus(1);
    const char *data = tmpfile_with(2, corpus);
    pp_free(corpus);
    char o1[64], o2[64];
    snprintf(o1, sizeof o1, "/tmp/pp_cls_test_d1_%ld.ppm", (long)getpid());
    snprintf(o2, sizeof o2, "/tmp/pp_cls_test_d2_%ld.ppm", (long)getpid());
    CHECK_OK(train_tiny(data, o1, 1));
    CHECK_OK(train_tiny(data, o2, 3));
    size_t l1, l2;
    unsigned char *a = slurp(o1, &l1), *b = slurp(o2, &l2);
    CHECK(a && b);
    CHECK_EQ(l1, l2);
    CHECK(!memcmp(a, b, l1));
    pp_free(a);
    pp_free(b);
    unlink(o1);
    unlink(o2);
    unlink(data);
}

TEST(train_reports_malformed_lines) {
    const char *data = tmpfile_with(3, "{\"text\":\"ok\",\"labels\":{\"spam\":1},\"id\":\"a\"}\n"
                                       "{not json\n"
                                       "{\"text\":\"x\",\"labels\":{\"spam\":7}}\n");
    pp_dataset d;
    char *detail = NULL;
    const char *paths[] = {data};
    CHECK_EQ(pp_data_load(paths, 1, 1, NULL, NULL, &d, &detail), PARAPET_ERR_JSON);
    CHECK(detail && strstr(detail, ":2:"));
    pp_free(detail);
    CHECK_OK(pp_data_load(paths, 1, 0, NULL, NULL, &d, NULL));
    CHECK_EQ(d.n, 1);
    CHECK_EQ(d.n_bad, 2);
    CHECK_EQ(d.r[0].y[PP_DATA_SPAM], 1);
    CHECK_EQ(d.r[0].y[pp_data_label_id("hate")], -1); /* absent = unknown */
    pp_data_free(&d);
    unlink(data);
}

/* ------------------------------------------------------------- calibration */

TEST(platt_monotonic_and_calibrating) {
    /* Scores whose true positive rate is sigmoid(2z - 1): Platt should find a ~ 2, b ~ -1. */
    enum { N = 4000 };
    static float z[N];
    static uint8_t y[N];
    uint64_t s = 99;
    for (int i = 0; i < N; i++) {
        z[i] = -3.0f + 6.0f * (float)i / N;
        s = s * 6364136223846793005ull + 1;
        double u = (double)(s >> 11) / 9007199254740992.0;
        y[i] = u < 1.0 / (1.0 + exp(-(2.0 * z[i] - 1.0)));
    }
    float a, b;
    pp_platt_fit(z, y, N, &a, &b);
    CHECK_NEAR(a, 2.0, 0.3);
    CHECK_NEAR(b, -1.0, 0.3);
    float prev = -1;
    for (int i = 0; i < 100; i++) {
        float p = pp_sigmoidf(a * (-5.0f + 0.1f * i) + b);
        CHECK(p >= prev);
        prev = p;
    }
}

/* ------------------------------------------------------------- model file */

static unsigned char *small_image(size_t *len, int8_t **wout) {
    pp_cls_model m;
    memset(&m, 0, sizeof m);
    m.fp = (pp_feat_params){10, 3, 5, 2};
    m.n_labels = 2;
    m.seed = 42;
    snprintf(m.labels[0].name, 32, "hate");
    snprintf(m.labels[0].category, 32, "hate");
    snprintf(m.labels[1].name, 32, "unsafe");
    for (int l = 0; l < 2; l++) {
        m.labels[l].scale = 0.01f * (l + 1);
        m.labels[l].bias = -1.5f;
        m.labels[l].platt_a = 1.1f;
        m.labels[l].platt_b = 0.2f;
        m.labels[l].threshold = 0.4f;
        m.labels[l].n_pos = 10;
        m.labels[l].n_neg = 20;
        m.labels[l].policy_a = 1.1f;
        m.labels[l].policy_b = -2.0f;
    }
    m.labels[0].flags = PP_CLS_EMIT;
    /* 1024 rows of 16 lanes; only the 2 label lanes are nonzero. */
    int8_t *w = pp_calloc(1024, PP_CLS_STRIDE);
    for (int i = 0; i < 1024 * PP_CLS_STRIDE; i++)
        if (i % PP_CLS_STRIDE < 2) w[i] = (int8_t)((i * 37) % 255 - 127);
    unsigned char *img = NULL;
    if (pp_cls_serialize(&m, w, &img, len)) img = NULL;
    *wout = w;
    return img;
}

TEST(model_round_trip) {
    size_t len;
    int8_t *w;
    unsigned char *img = small_image(&len, &w);
    CHECK(img);
    CHECK_EQ(len, PP_CLS_PREAMBLE + PP_CLS_HEADER_FIXED + 2 * PP_CLS_LABEL_REC + 1024 * PP_CLS_STRIDE);
    pp_cls_model *m;
    CHECK_OK(pp_cls_from_memory(img, len, 0, &m, NULL));
    CHECK_EQ(m->n_labels, 2);
    CHECK_EQ(m->fp.hash_bits, 10);
    CHECK_EQ(m->seed, 42);
    CHECK_STR(m->labels[1].name, "unsafe");
    CHECK_STR(m->labels[0].category, "hate");
    CHECK_EQ(m->labels[0].flags, PP_CLS_EMIT);
    CHECK_NEAR(m->labels[1].scale, 0.02, 1e-7);
    CHECK(!memcmp(m->w, w, 1024 * PP_CLS_STRIDE));
    CHECK_NEAR(m->labels[0].policy_b, -2.0, 1e-7);
    /* Empty text: no features, so the logit is the bias. */
    float z[2], pol[2];
    pp_cls_logits(m, "", 0, z);
    CHECK_NEAR(z[0], -1.5, 1e-6);
    /* A text with repeats: the hot path (SIMD, dedup) equals a plain sum over the
    ** distinct buckets, each row read by hand. */
    static const char txt[] = "kill kill kill the process now now";
    pp_cls_logits(m, txt, sizeof txt - 1, z);
    uint32_t f[512];
    size_t nf = 0, k;
    pp_feat_iter it;
    pp_feat_begin(&it, &m->fp, txt, sizeof txt - 1);
    while ((k = pp_feat_next(&it, f + nf, 512 - nf)) > 0) nf += k;
    size_t nd = 0;
    for (size_t i = 0; i < nf; i++) {
        int dup = 0;
        for (size_t j = 0; j < nd; j++) dup |= (f[j] >> 1) == (f[i] >> 1);
        if (!dup) f[nd++] = f[i];
    }
    CHECK(nd < nf); /* the repeats were there to drop */
    for (int l = 0; l < 2; l++) {
        double acc = 0;
        for (size_t i = 0; i < nd; i++) {
            int q = w[(f[i] >> 1) * PP_CLS_STRIDE + (unsigned)l];
            acc += (f[i] & 1) ? -q : q;
        }
        CHECK_NEAR(z[l], -1.5 + 0.01 * (l + 1) / sqrt((double)nd) * acc, 1e-4);
    }
    /* Policy scores are the policy transform of the same logits. */
    pp_cls_policy_scores(m, txt, sizeof txt - 1, pol);
    CHECK_NEAR(pol[0], 1.0 / (1.0 + exp(-(1.1 * z[0] - 2.0))), 1e-5);
    pp_cls_close(m);
    pp_free(img);
    pp_free(w);
}

TEST(model_corrupt_or_truncated_refused) {
    size_t len;
    int8_t *w;
    unsigned char *img = small_image(&len, &w);
    CHECK(img);
    pp_cls_model *m;
    char *detail = NULL;
    /* one flipped weight bit: checksum */
    img[len - 5] ^= 1;
    CHECK_EQ(pp_cls_from_memory(img, len, 0, &m, &detail), PARAPET_ERR_FORMAT);
    CHECK(detail && strstr(detail, "checksum"));
    pp_free(detail), detail = NULL;
    img[len - 5] ^= 1;
    /* truncated by one byte, and cut inside the preamble */
    CHECK_EQ(pp_cls_from_memory(img, len - 1, 0, &m, &detail), PARAPET_ERR_FORMAT);
    CHECK(detail && strstr(detail, "size"));
    pp_free(detail), detail = NULL;
    CHECK_EQ(pp_cls_from_memory(img, 50, 0, &m, NULL), PARAPET_ERR_FORMAT);
    /* wrong magic, future version */
    img[0] = 'X';
    CHECK_EQ(pp_cls_from_memory(img, len, 0, &m, NULL), PARAPET_ERR_FORMAT);
    img[0] = 'P';
    img[8] = 9;
    CHECK_EQ(pp_cls_from_memory(img, len, 0, &m, &detail), PARAPET_ERR_FORMAT);
    CHECK(detail && strstr(detail, "version"));
    pp_free(detail), detail = NULL;
    img[8] = PP_CLS_VERSION;
    CHECK_OK(pp_cls_from_memory(img, len, 0, &m, NULL)); /* restored: valid again */
    pp_cls_close(m);
    /* a nonzero padding lane (checksum made consistent) is refused */
    img[len - 1] = 1;
    char hex[65];
    pp_sha256_hex(img + PP_CLS_PREAMBLE, len - PP_CLS_PREAMBLE, hex);
    memcpy(img + 24, hex, 64);
    CHECK_EQ(pp_cls_from_memory(img, len, 0, &m, &detail), PARAPET_ERR_FORMAT);
    CHECK(detail && strstr(detail, "padding"));
    pp_free(detail), detail = NULL;
    img[len - 1] = 0;
    pp_sha256_hex(img + PP_CLS_PREAMBLE, len - PP_CLS_PREAMBLE, hex);
    memcpy(img + 24, hex, 64);
    CHECK_OK(pp_cls_from_memory(img, len, 0, &m, NULL));
    pp_cls_close(m);
    /* through the public API, from a file */
    char path[64];
    snprintf(path, sizeof path, "/tmp/pp_cls_bad_%ld.ppm", (long)getpid());
    FILE *f = fopen(path, "wb");
    CHECK(f);
    fwrite(img, 1, len / 2, f);
    fclose(f);
    parapet_classifier *c;
    CHECK_EQ(parapet_classifier_open(path, &c, &detail), PARAPET_ERR_FORMAT);
    CHECK(detail && strstr(detail, path));
    parapet_free(detail);
    CHECK_EQ(parapet_classifier_open("/nonexistent/x.ppm", &c, NULL), PARAPET_ERR_NOT_FOUND);
    unlink(path);
    pp_free(img);
    pp_free(w);
}

TEST(model_shape_flag_round_trip_and_unknown_flags_refused) {
    /* A trained model carries the shape flag, and scoring uses it. */
    char *corpus = tiny_corpus(0);
    const char *data = tmpfile_with(0, corpus);
    char out[64];
    snprintf(out, sizeof out, "/tmp/pp_cls_flags_%ld.ppm", (long)getpid());
    CHECK_OK(train_tiny(data, out, 1));
    pp_cls_model *m;
    CHECK_OK(pp_cls_open_file(out, &m, NULL));
    CHECK_EQ(m->fp.flags, PP_FEAT_SHAPES);
    pp_cls_close(m);
    unlink(out);
    unlink(data);
    free(corpus);
    /* Written and read back: the flags word at header offset 20. */
    size_t len;
    int8_t *w;
    unsigned char *img = small_image(&len, &w);
    CHECK(img);
    CHECK_OK(pp_cls_from_memory(img, len, 0, &m, NULL));
    CHECK_EQ(m->fp.flags, 0); /* an older model: no shape features */
    pp_cls_close(m);
    char hex[65];
    img[PP_CLS_PREAMBLE + 20] = PP_FEAT_SHAPES;
    pp_sha256_hex(img + PP_CLS_PREAMBLE, len - PP_CLS_PREAMBLE, hex);
    memcpy(img + 24, hex, 64);
    CHECK_OK(pp_cls_from_memory(img, len, 0, &m, NULL));
    CHECK_EQ(m->fp.flags, PP_FEAT_SHAPES);
    pp_cls_close(m);
    /* An unknown flag bit (checksum consistent) is refused. */
    img[PP_CLS_PREAMBLE + 20] = 2;
    pp_sha256_hex(img + PP_CLS_PREAMBLE, len - PP_CLS_PREAMBLE, hex);
    memcpy(img + 24, hex, 64);
    char *detail = NULL;
    CHECK_EQ(pp_cls_from_memory(img, len, 0, &m, &detail), PARAPET_ERR_FORMAT);
    CHECK(detail && strstr(detail, "flags"));
    pp_free(detail);
    pp_free(img);
    pp_free(w);
}

TEST(detector_reports_document_level_probabilities) {
    size_t len;
    int8_t *w;
    unsigned char *img = small_image(&len, &w);
    CHECK(img);
    char path[64];
    snprintf(path, sizeof path, "/tmp/pp_cls_det_%ld.ppm", (long)getpid());
    FILE *f = fopen(path, "wb");
    CHECK(f);
    fwrite(img, 1, len, f);
    fclose(f);
    pp_detector_config cfg = {0};
    cfg.model_path = path;
    void *self = NULL;
    CHECK_OK(pp_classifier_detector.open(&cfg, &self, NULL));
    CHECK(self);
    pp_text t;
    pp_text_init(&t);
    CHECK_OK(pp_text_normalize(&t, "some words here", 15, 0, NULL));
    pp_scan s;
    pp_scan_init(&s, &t);
    CHECK_OK(pp_classifier_detector.scan(self, &s));
    CHECK_EQ(s.n_hits, 1); /* hate is emitted; unsafe has no category */
    CHECK_EQ(s.hits[0].cat, PP_CAT_HATE);
    CHECK_EQ(s.hits[0].start, 0);
    CHECK_EQ(s.hits[0].end, 0);
    CHECK_EQ(s.hits[0].detector, PP_DET_CLASSIFIER);
    CHECK(s.hits[0].score > 0 && s.hits[0].score < 1);
    pp_scan_free(&s);
    pp_text_free(&t);
    pp_classifier_detector.close(self);
    unlink(path);
    pp_free(img);
    pp_free(w);
}

/* ---------------------------------------------------------------- metrics */

TEST(metrics_by_hand) {
    /* Exact binary fractions, one per reliability bin. */
    const float s[] = {0.9375f, 0.8125f, 0.6875f, 0.5625f, 0.4375f, 0.3125f};
    const uint8_t y[] = {1, 0, 1, 1, 0, 0};
    pp_bin_metrics m;
    CHECK_OK(pp_metrics_binary(s, y, 6, 0.65, 10, &m));
    /* AP = 1/3*1 + 1/3*2/3 + 1/3*3/4 */
    CHECK_NEAR(m.auprc, 1.0 / 3 + 2.0 / 9 + 0.25, 1e-9);
    /* 7 of 9 positive-negative pairs ordered correctly */
    CHECK_NEAR(m.roc_auc, 7.0 / 9, 1e-9);
    /* ECE = (0.0625 + 0.8125 + 0.3125 + 0.4375 + 0.4375 + 0.3125) / 6 */
    CHECK_NEAR(m.ece, 2.375 / 6, 1e-9);
    CHECK_EQ(m.tp, 2);
    CHECK_EQ(m.fp, 1);
    CHECK_EQ(m.fn, 1);
    CHECK_EQ(m.tn, 2);
    CHECK_NEAR(m.precision, 2.0 / 3, 1e-9);
    CHECK_NEAR(m.f1, 2.0 / 3, 1e-9);
    /* Ties are one group: a tied pair counts one half; AP sees one step. */
    const float t[] = {0.5f, 0.5f};
    const uint8_t ty[] = {1, 0};
    CHECK_OK(pp_metrics_binary(t, ty, 2, 0.5, 10, &m));
    CHECK_NEAR(m.roc_auc, 0.5, 1e-9);
    CHECK_NEAR(m.auprc, 0.5, 1e-9);
    /* No positives: AUPRC and ROC-AUC undefined, not 0. */
    const uint8_t none[] = {0, 0};
    CHECK_OK(pp_metrics_binary(t, none, 2, 0.5, 10, &m));
    CHECK(isnan(m.auprc) && isnan(m.roc_auc));
    /* Threshold choice: FPR 0 allows only scores above every negative. */
    CHECK_NEAR(pp_fpr_threshold(s, y, 6, 0.0), 0.9375, 1e-9);
    CHECK_NEAR(pp_fpr_threshold(s, y, 6, 0.34), 0.5625, 1e-9);
    CHECK_NEAR(pp_best_f1_threshold(s, y, 6), 0.5625, 1e-9);
}
