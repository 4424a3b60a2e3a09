/*
** model.c -- the classifier's model file: validation on load, zero-copy access,
** serialization, and the prediction hot path.
**
** A model file is outside input (a user may hand parapet any path), so loading
** checks everything before a single weight is read: the magic, the version, that
** the header and payload sizes add up to the file, each count against its limit,
** every name NUL-terminated and printable, every float finite, and the SHA-256 of
** header plus payload.  The embedded default model is checked the same way, once
** per process.
**
** Prediction: features are pulled from the extractor 256 at a time into a stack
** buffer, repeats dropped against an 8 KB bitset (features are binary), and each
** remaining one adds its 16-byte int8 row, sign applied, into int16 lanes (SSE2 where
** the compiler targets it, a plain loop otherwise; both give identical sums).  256
** rows of |q| <= 127 cannot overflow int16 (256 * 127 < 32768); the lanes are
** folded into floats after each chunk, so arbitrarily long texts are safe.  Nothing
** is allocated; the row fetches are the cost, so the table is kept small enough for
** L2 and the next rows are prefetched while the current ones are added.
*/
#include "classify.h"
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* ------------------------------------------------------------ little endian */

static uint32_t rd32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const unsigned char *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static float rdf(const unsigned char *p) {
    uint32_t u = rd32(p);
    float f;
    memcpy(&f, &u, 4);
    return f;
}
static void wr32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16); p[3] = (unsigned char)(v >> 24);
}
static void wr64(unsigned char *p, uint64_t v) { wr32(p, (uint32_t)v); wr32(p + 4, (uint32_t)(v >> 32)); }
static void wrf(unsigned char *p, float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    wr32(p, u);
}

/* ---------------------------------------------------------------- validate */

static pp_status bad(char **detail, const char *what) {
    if (detail && !*detail) *detail = pp_asprintf("classifier model: %s", what);
    return PARAPET_ERR_FORMAT;
}

/* A fixed-size name field: NUL-terminated inside the field, printable ASCII. */
static int name_ok(const unsigned char *f, int allow_empty) {
    size_t i = 0;
    while (i < PP_CLS_NAME_MAX && f[i]) {
        if (f[i] < 0x21 || f[i] > 0x7e) return 0;
        i++;
    }
    if (i == PP_CLS_NAME_MAX) return 0;
    for (size_t j = i; j < PP_CLS_NAME_MAX; j++)
        if (f[j]) return 0;
    return allow_empty || i > 0;
}

/* Parses and checks the image; on success fills m (weights point into data). */
static pp_status parse(const unsigned char *d, size_t len, pp_cls_model *m, int verify_sum,
                       char **detail) {
    if (len < PP_CLS_PREAMBLE) return bad(detail, "file truncated (shorter than its preamble)");
    if (memcmp(d, PP_CLS_MAGIC, 8)) return bad(detail, "not a parapet classifier model (bad magic)");
    uint32_t ver = rd32(d + 8);
    if (ver != PP_CLS_VERSION) {
        if (detail && !*detail)
            *detail = pp_asprintf("classifier model: format version %u, this build reads %u", ver,
                                  PP_CLS_VERSION);
        return PARAPET_ERR_FORMAT;
    }
    uint64_t hlen = rd32(d + 12), plen = rd64(d + 16);
    if (hlen < PP_CLS_HEADER_FIXED || hlen > PP_CLS_HEADER_FIXED + PP_CLS_MAX_LABELS * PP_CLS_LABEL_REC)
        return bad(detail, "header size out of range");
    if (plen > (uint64_t)len || PP_CLS_PREAMBLE + hlen + plen != (uint64_t)len)
        return bad(detail, "file size does not match its header (truncated or padded)");
    for (int i = 88; i < 96; i++)
        if (d[i]) return bad(detail, "reserved preamble bytes are not zero");
    const unsigned char *h = d + PP_CLS_PREAMBLE;
    uint32_t nl = rd32(h), bits = rd32(h + 4), cmin = rd32(h + 8), cmax = rd32(h + 12);
    uint32_t wng = rd32(h + 16), flags = rd32(h + 20);
    if (nl == 0 || nl > PP_CLS_MAX_LABELS) return bad(detail, "label count out of range");
    if (bits < 10 || bits > PP_CLS_MAX_BITS) return bad(detail, "hash bits out of range (10..16)");
    if (cmax > 6 || cmin < 1 || cmin > cmax) return bad(detail, "character n-gram range invalid");
    if (wng < 1 || wng > 2) return bad(detail, "word n-gram order invalid");
    if (flags & ~PP_FEAT_SHAPES) return bad(detail, "unknown header flags");
    if (hlen != PP_CLS_HEADER_FIXED + (uint64_t)nl * PP_CLS_LABEL_REC)
        return bad(detail, "header size does not match the label count");
    if (plen != ((uint64_t)1 << bits) * PP_CLS_STRIDE) return bad(detail, "weight block size does not match the header");
    if (verify_sum) {
        char hex[65];
        pp_sha256_hex(h, (size_t)(hlen + plen), hex);
        if (memcmp(hex, d + 24, 64)) return bad(detail, "checksum mismatch (file corrupt)");
    }
    memset(m, 0, sizeof *m);
    m->fp = (pp_feat_params){bits, cmin, cmax, wng, flags};
    m->n_labels = nl;
    m->seed = rd64(h + 24);
    m->n_train = rd32(h + 32);
    for (uint32_t l = 0; l < nl; l++) {
        const unsigned char *r = h + PP_CLS_HEADER_FIXED + l * PP_CLS_LABEL_REC;
        if (!name_ok(r, 0)) return bad(detail, "label name not a printable NUL-terminated string");
        if (!name_ok(r + 32, 1)) return bad(detail, "category name not a printable NUL-terminated string");
        pp_cls_label *L = &m->labels[l];
        memcpy(L->name, r, 32);
        memcpy(L->category, r + 32, 32);
        L->scale = rdf(r + 64);
        L->bias = rdf(r + 68);
        L->platt_a = rdf(r + 72);
        L->platt_b = rdf(r + 76);
        L->threshold = rdf(r + 80);
        L->flags = rd32(r + 84);
        L->n_pos = rd32(r + 88);
        L->n_neg = rd32(r + 92);
        L->policy_a = rdf(r + 96);
        L->policy_b = rdf(r + 100);
        if (!isfinite(L->scale) || !isfinite(L->bias) || !isfinite(L->platt_a) ||
            !isfinite(L->platt_b) || !isfinite(L->threshold) || L->scale < 0 ||
            !isfinite(L->policy_a) || !isfinite(L->policy_b) || fabsf(L->policy_a) > 1e4f ||
            fabsf(L->policy_b) > 1e4f ||
            fabsf(L->bias) > 1e4f || fabsf(L->platt_a) > 1e4f || fabsf(L->platt_b) > 1e4f)
            return bad(detail, "a label's parameters are not finite or out of range");
        if (!(L->threshold >= 0 && L->threshold <= 1)) return bad(detail, "a threshold is outside [0,1]");
        if (L->flags & ~PP_CLS_EMIT) return bad(detail, "unknown label flags");
        for (uint32_t k = 0; k < l; k++)
            if (!strcmp(m->labels[k].name, L->name)) return bad(detail, "duplicate label name");
    }
    m->w = (const int8_t *)(h + hlen);
    /* Padding lanes must be zero: the hot path adds all 16 lanes. */
    if (nl < PP_CLS_STRIDE)
        for (uint64_t j = 0; j < plen; j += PP_CLS_STRIDE)
            for (uint32_t l = nl; l < PP_CLS_STRIDE; l++)
                if (m->w[j + l]) return bad(detail, "nonzero padding in the weight rows");
    memcpy(m->sha256, d + 24, 64);
    m->sha256[64] = 0;
    m->file_bytes = len;
    return PARAPET_OK;
}

pp_status pp_cls_from_memory(const void *data, size_t len, int take_heap, pp_cls_model **out,
                             char **detail) {
    pp_cls_model *m = pp_calloc(1, sizeof *m);
    if (!m) {
        if (take_heap) pp_free((void *)data);
        return PARAPET_ERR_NOMEM;
    }
    pp_status st = parse(data, len, m, 1, detail);
    if (st) {
        pp_free(m);
        if (take_heap) pp_free((void *)data);
        return st;
    }
    if (take_heap) m->heap = (void *)data;
    *out = m;
    return PARAPET_OK;
}

pp_status pp_cls_open_file(const char *path, pp_cls_model **out, char **detail) {
    const void *cmap;
    size_t len;
    pp_status mst = pp_map_file(path, &cmap, &len, detail);
    if (mst) return mst;
    void *map = (void *)cmap;
    if (len < PP_CLS_PREAMBLE) {
        pp_unmap_file(map, len);
        if (detail) *detail = pp_asprintf("%s: classifier model: file truncated (%zu bytes)", path, len);
        return PARAPET_ERR_FORMAT;
    }
    pp_cls_model *m = pp_calloc(1, sizeof *m);
    if (!m) { pp_unmap_file(map, len); return PARAPET_ERR_NOMEM; }
    char *d2 = NULL;
    pp_status st = parse(map, len, m, 1, &d2);
    if (st) {
        if (detail) *detail = pp_asprintf("%s: %s", path, d2 ? d2 : parapet_strerror(st));
        pp_free(d2);
        pp_unmap_file(map, len);
        pp_free(m);
        return st;
    }
    m->map = map;
    m->map_len = len;
    *out = m;
    return PARAPET_OK;
}

/* The embedded model is checksummed once per process; later opens trust it. */
static pthread_once_t emb_once = PTHREAD_ONCE_INIT;
static int emb_state; /* 0 absent, 1 valid, -1 corrupt */
static void emb_check(void) {
    const pp_blob *b = pp_embedded_find("models/default.ppm");
    if (!b) { emb_state = 0; return; }
    pp_cls_model tmp;
    emb_state = parse(b->data, b->len, &tmp, 1, NULL) ? -1 : 1;
}

pp_status pp_cls_open_default(pp_cls_model **out, char **detail) {
    pthread_once(&emb_once, emb_check);
    if (emb_state == 0) return PARAPET_ERR_NOT_FOUND;
    if (emb_state < 0) return bad(detail, "the embedded models/default.ppm is corrupt");
    const pp_blob *b = pp_embedded_find("models/default.ppm");
    pp_cls_model *m = pp_calloc(1, sizeof *m);
    if (!m) return PARAPET_ERR_NOMEM;
    pp_status st = parse(b->data, b->len, m, 0, detail);
    if (st) { pp_free(m); return st; }
    *out = m;
    return PARAPET_OK;
}

void pp_cls_close(pp_cls_model *m) {
    if (!m) return;
    if (m->map) pp_unmap_file(m->map, m->map_len);
    pp_free(m->heap);
    pp_free(m);
}

/* -------------------------------------------------------------- serialize */

pp_status pp_cls_serialize(const pp_cls_model *m, const int8_t *w, unsigned char **out,
                           size_t *len) {
    if (!m->n_labels || m->n_labels > PP_CLS_MAX_LABELS) return PARAPET_ERR_ARG;
    size_t hlen = PP_CLS_HEADER_FIXED + (size_t)m->n_labels * PP_CLS_LABEL_REC;
    if (m->fp.hash_bits < 10 || m->fp.hash_bits > PP_CLS_MAX_BITS) return PARAPET_ERR_ARG;
    size_t plen = ((size_t)1 << m->fp.hash_bits) * PP_CLS_STRIDE;
    size_t total = PP_CLS_PREAMBLE + hlen + plen;
    unsigned char *d = pp_calloc(1, total);
    if (!d) return PARAPET_ERR_NOMEM;
    memcpy(d, PP_CLS_MAGIC, 8);
    wr32(d + 8, PP_CLS_VERSION);
    wr32(d + 12, (uint32_t)hlen);
    wr64(d + 16, plen);
    unsigned char *h = d + PP_CLS_PREAMBLE;
    wr32(h, m->n_labels);
    wr32(h + 4, m->fp.hash_bits);
    wr32(h + 8, m->fp.char_min);
    wr32(h + 12, m->fp.char_max);
    wr32(h + 16, m->fp.word_ngrams);
    wr32(h + 20, m->fp.flags);
    wr64(h + 24, m->seed);
    wr32(h + 32, m->n_train);
    for (unsigned l = 0; l < m->n_labels; l++) {
        unsigned char *r = h + PP_CLS_HEADER_FIXED + l * PP_CLS_LABEL_REC;
        const pp_cls_label *L = &m->labels[l];
        strncpy((char *)r, L->name, PP_CLS_NAME_MAX - 1);
        strncpy((char *)r + 32, L->category, PP_CLS_NAME_MAX - 1);
        wrf(r + 64, L->scale);
        wrf(r + 68, L->bias);
        wrf(r + 72, L->platt_a);
        wrf(r + 76, L->platt_b);
        wrf(r + 80, L->threshold);
        wr32(r + 84, L->flags);
        wr32(r + 88, L->n_pos);
        wr32(r + 92, L->n_neg);
        wrf(r + 96, L->policy_a);
        wrf(r + 100, L->policy_b);
    }
    memcpy(h + hlen, w, plen);
    char hex[65];
    pp_sha256_hex(h, hlen + plen, hex);
    memcpy(d + 24, hex, 64);
    *out = d;
    *len = total;
    return PARAPET_OK;
}

/* ---------------------------------------------------------------- predict */

/* Adds the signed rows of features f[0..k) (k <= 256) into tot[16]. */
static void add_rows(const int8_t *w, const uint32_t *f, size_t k, float *tot) {
#if defined(__SSE2__)
    __m128i lo = _mm_setzero_si128(), hi = _mm_setzero_si128(), z = _mm_setzero_si128();
    for (size_t i = 0; i < k; i++) {
        if (i + 8 < k) __builtin_prefetch(w + (size_t)(f[i + 8] >> 1) * PP_CLS_STRIDE);
        __m128i r = _mm_loadu_si128((const __m128i *)(const void *)(w + (size_t)(f[i] >> 1) * PP_CLS_STRIDE));
        __m128i sg = _mm_set1_epi8((char)-(int)(f[i] & 1)); /* 0 or -1 */
        r = _mm_sub_epi8(_mm_xor_si128(r, sg), sg);          /* negate when the sign bit is set */
        __m128i ext = _mm_cmpgt_epi8(z, r);
        lo = _mm_add_epi16(lo, _mm_unpacklo_epi8(r, ext));
        hi = _mm_add_epi16(hi, _mm_unpackhi_epi8(r, ext));
    }
    int16_t a[16];
    _mm_storeu_si128((__m128i *)(void *)a, lo);
    _mm_storeu_si128((__m128i *)(void *)(a + 8), hi);
    for (int l = 0; l < 16; l++) tot[l] += (float)a[l];
#else
    int32_t acc[PP_CLS_STRIDE] = {0};
    for (size_t i = 0; i < k; i++) {
        const int8_t *row = w + (size_t)(f[i] >> 1) * PP_CLS_STRIDE;
        int32_t sg = -(int32_t)(f[i] & 1) | 1; /* +1 or -1 */
        for (int l = 0; l < PP_CLS_STRIDE; l++) acc[l] += sg * row[l];
    }
    for (int l = 0; l < PP_CLS_STRIDE; l++) tot[l] += (float)acc[l];
#endif
}

void pp_cls_logits(const pp_cls_model *m, const char *s, size_t n, float *logit) {
    float tot[PP_CLS_STRIDE] = {0};
    uint64_t seen[((size_t)1 << PP_CLS_MAX_BITS) / 64];
    const size_t nwords = ((size_t)1 << m->fp.hash_bits) / 64;
    memset(seen, 0, nwords * sizeof *seen);
    uint32_t buf[256];
    size_t nf = 0, k;
    pp_feat_iter it;
    pp_feat_begin(&it, &m->fp, s, n);
    while ((k = pp_feat_next(&it, buf, PP_ARRAY_LEN(buf))) > 0) {
        k = pp_feat_dedup(seen, buf, k);
        nf += k;
        add_rows(m->w, buf, k, tot);
    }
    float inv = nf ? 1.0f / sqrtf((float)nf) : 0.0f;
    for (unsigned l = 0; l < m->n_labels; l++)
        logit[l] = m->labels[l].bias + m->labels[l].scale * inv * tot[l];
}

void pp_cls_predict(const pp_cls_model *m, const char *s, size_t n, float *prob) {
    float z[PP_CLS_MAX_LABELS];
    pp_cls_logits(m, s, n, z);
    for (unsigned l = 0; l < m->n_labels; l++)
        prob[l] = pp_sigmoidf(m->labels[l].platt_a * z[l] + m->labels[l].platt_b);
}

void pp_cls_policy_scores(const pp_cls_model *m, const char *s, size_t n, float *score) {
    float z[PP_CLS_MAX_LABELS];
    pp_cls_logits(m, s, n, z);
    for (unsigned l = 0; l < m->n_labels; l++)
        score[l] = pp_sigmoidf(m->labels[l].policy_a * z[l] + m->labels[l].policy_b);
}
