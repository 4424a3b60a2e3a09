/*
** engine.c -- parapet_open / parapet_check / parapet_redact: the decision pipeline.
**
**     text -> [window] -> normalize -> detectors -> (decoded payloads: again) -> hits
**          -> per-category score -> threshold + action -> result
**
** An engine holds the compiled policy and one compiled instance of every detector;
** all of it is immutable after parapet_open, so any number of threads may call
** parapet_check at once.  Each thread gets its own scratch (normalized views, hit
** buffers) through a pthread key, reused from call to call, so a warm thread
** allocates only the result it returns.
**
** Long texts are scanned in windows of WINDOW bytes that overlap by OVERLAP bytes and
** end at whitespace where possible, so memory stays bounded whatever the input size
** (the size limit itself is max_input_bytes).  Hits found twice in an overlap are
** merged.
**
** Scores.  A category's score is a noisy-OR over its evidence, where each distinct
** rule counts once with its strongest weight: "damn damn damn" is as mild as one
** "damn", while several different strong signals add up.
*/
#include "result.h"
#include "../text/text.h"
#include "../detect/lexicon.h"
#include "../detect/payload.h"
#include "../guard/guard.h"
#include <assert.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <x86intrin.h>
#define PP_HAVE_TSC 1
#endif

#define WINDOW (64u * 1024)
#define OVERLAP 1024u
#define DEFAULT_MAX_INPUT ((size_t)64 << 20)
#define SNIPPET_MAX 256
#define MAX_EVIDENCE 10000 /* evidence items kept per call; scores use every hit */

typedef struct scratch {
    pp_text text;
    pp_text sub;          /* decoded payloads */
    pp_scan scan;
    pp_scan sub_scan;
    pp_hit *hits;         /* all hits of the current call, absolute offsets */
    size_t n_hits, cap_hits;
    pp_hit *tmp;          /* (cap_tmp) merge buffer for sorting the hits */
    size_t cap_tmp;
    uint32_t *seg;        /* (n_seg) where each push_hits call's hits begin in hits */
    size_t n_seg, cap_seg;
    /* Strongest weight per (category, rule) over ALL hits of the call, evidence kept
    ** or not: scores come from here, so capping the evidence never changes a score.
    ** Open addressing; cap_rm is a power of two. */
    struct rulemax { const char *rule; uint64_t hash; float w; uint16_t cat; uint32_t gen; } *rm;
    size_t n_rm, cap_rm;
    uint32_t *live;       /* (n_rm) slots of rm live in this call, so reading the table
                          ** costs the entries used, not its capacity */
    uint32_t gen;         /* an entry is live iff its gen == this; bumped per call */
    /* The string hashes of the rules seen in this call, by address (a long document
    ** repeats a few rules thousands of times); an entry counts iff its gen == gen,
    ** since within one call an address always holds the same rule. */
    struct rulehash { const char *rule; uint64_t hash; uint32_t gen; } rh[256];
    size_t n_seen;        /* hits seen in this call, kept or not */
    int truncated;        /* MAX_EVIDENCE reached: some hits are not evidence */
} scratch;

struct parapet_engine {
    parapet_policy *policy;
    void *det[PP_DET_COUNT];
    size_t max_input;
    parapet_utf8_mode utf8;
    pthread_key_t key;
    /* user word lists, kept alive for the lexicon's rule strings */
    char ***lists;
    size_t *list_len;
    size_t n_lists;
};

static void scratch_free(void *p) {
    scratch *s = p;
    if (!s) return;
    pp_text_free(&s->text);
    pp_text_free(&s->sub);
    pp_scan_free(&s->scan);
    pp_scan_free(&s->sub_scan);
    pp_free(s->hits);
    pp_free(s->seg);
    pp_free(s->tmp);
    pp_free(s->rm);
    pp_free(s->live);
    pp_free(s);
}

static scratch *get_scratch(parapet_engine *e) {
    scratch *s = pthread_getspecific(e->key);
    if (s) return s;
    s = pp_calloc(1, sizeof *s);
    if (!s) return NULL;
    pp_text_init(&s->text);
    pp_text_init(&s->sub);
    pp_scan_init(&s->scan, NULL);
    pp_scan_init(&s->sub_scan, NULL);
    if (pthread_setspecific(e->key, s)) { scratch_free(s); return NULL; }
    return s;
}

/* ------------------------------------------------------------------ clock */

/* The cost report reads a clock at least twice per check (engine.c: run_detectors).
** clock_gettime through the vDSO costs ~25 ns on the dev machine, more than 1% of the
** check of a short text; reading the TSC costs ~10 ns.  So where the CPU says its TSC
** is invariant (the same rate in every P-, C- and T-state: CPUID 0x80000007, EDX bit
** 8), a check counts TSC ticks and converts them with a rate measured once, against
** CLOCK_MONOTONIC over CLK_CAL_NS, at the first parapet_open (the error of that rate
** is the width of its pairs of reads over the interval: 2.5e-4 at most).  Elsewhere a
** tick is a nanosecond of pp_now_ns. */
#define CLK_CAL_NS 1000000u
static double g_ns_per_tick = 1.0;
static int g_tsc;          /* ticks are TSC ticks */
static pthread_once_t g_clk_once = PTHREAD_ONCE_INIT;

static void clk_init(void) {
#ifdef PP_HAVE_TSC
    unsigned a, b, c, d;
    if (!__get_cpuid(0x80000000u, &a, &b, &c, &d) || a < 0x80000007u) return;
    __get_cpuid(0x80000007u, &a, &b, &c, &d);
    if (!(d & (1u << 8))) return;
    /* Each clock read between two TSC reads, the TSC taken at their midpoint.  A
    ** thread preempted between the reads of a pair (a loaded VM) would skew the rate
    ** by up to half the preemption: a pair wider than 1/4000 of the interval is
    ** measured again, and after a few failures the TSC is not used. */
    for (int attempt = 0; attempt < 5; attempt++) {
        uint64_t ta = __rdtsc(), n0 = pp_now_ns(), tb = __rdtsc(), n1, tc, td;
        do {
            tc = __rdtsc();
            n1 = pp_now_ns();
            td = __rdtsc();
        } while (n1 - n0 < CLK_CAL_NS);
        double ticks = ((double)tc + (double)td) / 2 - ((double)ta + (double)tb) / 2;
        if (!(ticks > 0) || (double)(tb - ta) + (double)(td - tc) > ticks / 4000) continue;
        g_ns_per_tick = (double)(n1 - n0) / ticks;
        g_tsc = 1;
        return;
    }
#endif
}

static inline uint64_t clk_ticks(void) {
#ifdef PP_HAVE_TSC
    if (g_tsc) return __rdtsc();
#endif
    return pp_now_ns();
}

void parapet_options_init(parapet_options *o) {
    memset(o, 0, sizeof *o);
    o->max_input_bytes = DEFAULT_MAX_INPUT;
    o->utf8_mode = PARAPET_UTF8_STRICT;
}

const parapet_policy *parapet_engine_policy(const parapet_engine *e) { return e ? e->policy : NULL; }
int parapet_engine_has_guard(const parapet_engine *e) { return e && e->det[PP_DET_GUARD] != NULL; }

void parapet_engine_guard_stats(const parapet_engine *e, uint64_t *batches, uint64_t *requests,
                                size_t *max_batch) {
    if (batches) *batches = 0;
    if (requests) *requests = 0;
    if (max_batch) *max_batch = 0;
    if (e && e->det[PP_DET_GUARD]) pp_guard_det_stats(e->det[PP_DET_GUARD], batches, requests, max_batch);
}

void parapet_close(parapet_engine *e) {
    if (!e) return;
    for (int d = 0; d < PP_DET_COUNT; d++)
        if (e->det[d]) pp_detectors[d]->close(e->det[d]);
    /* The calling thread's scratch; other threads' are freed at their exit. */
    scratch_free(pthread_getspecific(e->key));
    pthread_setspecific(e->key, NULL);
    pthread_key_delete(e->key);
    for (size_t i = 0; i < e->n_lists; i++) {
        for (size_t j = 0; j < e->list_len[i]; j++) pp_free(e->lists[i][j]);
        pp_free(e->lists[i]);
    }
    pp_free(e->lists);
    pp_free(e->list_len);
    parapet_policy_free(e->policy);
    pp_free(e);
}

/* Loads "category=path" word lists into e->lists and describes them in *tl. */
static parapet_status load_lists(parapet_engine *e, const parapet_options *o, pp_term_list *tl,
                                 size_t *ntl, char **detail) {
    if (!o->n_lexicon_files) return PARAPET_OK;
    e->lists = pp_calloc(o->n_lexicon_files, sizeof *e->lists);
    e->list_len = pp_calloc(o->n_lexicon_files, sizeof *e->list_len);
    if (!e->lists || !e->list_len) return PARAPET_ERR_NOMEM;
    for (size_t i = 0; i < o->n_lexicon_files; i++) {
        const char *spec = o->lexicon_files[i];
        const char *eq = spec ? strchr(spec, '=') : NULL;
        if (!eq || eq == spec || !eq[1]) {
            if (detail) *detail = pp_asprintf("word list \"%s\": expected CATEGORY=PATH", spec ? spec : "");
            return PARAPET_ERR_ARG;
        }
        char *cat = pp_strndup(spec, (size_t)(eq - spec));
        if (!cat) return PARAPET_ERR_NOMEM;
        int pi = pp_policy_find(e->policy, cat);
        int id = pi >= 0 ? e->policy->cats[pi].id : pp_category_id(cat);
        if (id < 0) {
            if (detail) *detail = pp_asprintf("word list \"%s\": unknown category \"%s\" (define it in the policy first)", spec, cat);
            pp_free(cat);
            return PARAPET_ERR_ARG;
        }
        pp_free(cat);
        char *text;
        size_t len;
        parapet_status st = pp_read_file(eq + 1, (size_t)64 << 20, &text, &len, detail);
        if (st) return st;
        st = pp_lexicon_read_wordlist(text, len, eq + 1, &e->lists[i], &e->list_len[i], detail);
        pp_free(text);
        if (st) return st;
        e->n_lists = i + 1;
        tl[*ntl] = (pp_term_list){id, (const char *const *)e->lists[i], e->list_len[i], 0.8f, eq + 1};
        (*ntl)++;
    }
    return PARAPET_OK;
}

parapet_status parapet_open(const parapet_options *opt, parapet_engine **out, char **detail) {
    if (detail) *detail = NULL;
    if (!out) return PARAPET_ERR_ARG;
    parapet_options defaults;
    if (!opt) { parapet_options_init(&defaults); opt = &defaults; }
    parapet_engine *e = pp_calloc(1, sizeof *e);
    if (!e) return PARAPET_ERR_NOMEM;
    if (pthread_key_create(&e->key, scratch_free)) { pp_free(e); return PARAPET_ERR_NOMEM; }
    pthread_once(&g_clk_once, clk_init);
    parapet_status st;
    if (opt->policy_path) st = parapet_policy_load(opt->policy_path, &e->policy, detail);
    else if (opt->policy_text) st = parapet_policy_parse(opt->policy_text, opt->policy_len, "policy", NULL, &e->policy, detail);
    else st = parapet_policy_default(&e->policy);
    if (st) goto fail;
    e->max_input = opt->max_input_bytes ? opt->max_input_bytes : DEFAULT_MAX_INPUT;
    if (e->policy->max_input_bytes && e->policy->max_input_bytes < e->max_input)
        e->max_input = e->policy->max_input_bytes;
    e->utf8 = opt->utf8_mode;

    /* Custom terms: every policy category with terms, then the user's word lists. */
    pp_term_list *tl = pp_calloc(PP_MAX_CATS + opt->n_lexicon_files + 1, sizeof *tl);
    if (!tl) { st = PARAPET_ERR_NOMEM; goto fail; }
    size_t ntl = 0;
    for (size_t i = 0; i < e->policy->n_cats; i++) {
        const pp_pcat *c = &e->policy->cats[i];
        if (c->n_terms)
            tl[ntl++] = (pp_term_list){c->id, (const char *const *)c->terms, c->n_terms, c->weight, "policy"};
    }
    st = load_lists(e, opt, tl, &ntl, detail);
    if (!st) {
        pp_detector_config dc = {tl, ntl, opt->model_path, opt->guard_path, opt->guard_threads,
                                 opt->guard_batch, e->policy};
        for (int d = 0; d < PP_DET_COUNT && !st; d++)
            if (e->policy->detector_on[d] || d == PP_DET_PII || d == PP_DET_SECRETS)
                st = pp_detectors[d]->open(&dc, &e->det[d], detail);
    }
    pp_free(tl);
    if (st) goto fail;
    *out = e;
    return PARAPET_OK;
fail:
    parapet_close(e);
    return st;
}

/* ------------------------------------------------------------------ check */

/* The weight a hit carries in its category's score: what the detector reported.
** (The classifier reports a policy score, not its raw probability: its model file
** maps each label so 0.5 is reached only at a low benign false-positive rate.) */
static double evidence_weight(const pp_hit *h) { return h->score; }

/* Records the strongest weight of (cat, rule). */
static int rulemax_put(scratch *s, const pp_hit *h) {
    if (2 * (s->n_rm + 1) > s->cap_rm) { /* grow and rehash at half load */
        size_t nc = s->cap_rm ? s->cap_rm * 2 : 256;
        struct rulemax *n = pp_calloc(nc, sizeof *n);
        uint32_t *live = pp_malloc(nc / 2 * sizeof *live);
        if (!n || !live) {
            pp_free(n);
            pp_free(live);
            return -1;
        }
        for (size_t k = 0; k < s->n_rm; k++) {
            const struct rulemax *e = &s->rm[s->live[k]];
            size_t j = e->hash & (nc - 1);
            while (n[j].gen == s->gen) j = (j + 1) & (nc - 1);
            n[j] = *e;
            live[k] = (uint32_t)j;
        }
        pp_free(s->rm);
        pp_free(s->live);
        s->rm = n;
        s->live = live;
        s->cap_rm = nc;
    }
    const char *rule = h->rule ? h->rule : "";
    struct rulehash *c = &s->rh[((uintptr_t)rule >> 3 ^ (uintptr_t)rule >> 11) & 255];
    if (c->gen != s->gen || c->rule != rule)
        *c = (struct rulehash){rule, pp_fnv1a(rule, strlen(rule)), s->gen};
    uint64_t hash = c->hash * 31 + h->cat;
    size_t j = hash & (s->cap_rm - 1);
    for (;; j = (j + 1) & (s->cap_rm - 1)) {
        struct rulemax *e = &s->rm[j];
        if (e->gen != s->gen) {
            *e = (struct rulemax){rule, hash, (float)evidence_weight(h), h->cat, s->gen};
            s->live[s->n_rm++] = (uint32_t)j;
            return 0;
        }
        if (e->hash == hash && e->cat == h->cat && (e->rule == rule || !strcmp(e->rule, rule))) {
            float w = (float)evidence_weight(h);
            if (w > e->w) e->w = w;
            return 0;
        }
    }
}

/* Adds a scan's hits to the call: every hit into the score table, the first
** MAX_EVIDENCE as evidence (so a 100 MB text full of matches stays bounded). */
static int push_hits(scratch *s, const pp_scan *sc) {
    if (!sc->n_hits) return 0;
    for (size_t i = 0; i < sc->n_hits; i++)
        if (rulemax_put(s, &sc->hits[i])) return -1;
    s->n_seen += sc->n_hits;
    size_t room = s->n_hits < MAX_EVIDENCE ? MAX_EVIDENCE - s->n_hits : 0;
    size_t take = PP_MIN(room, sc->n_hits);
    if (take < sc->n_hits) s->truncated = 1;
    if (!take) return 0;
    if (PP_GROW(s->hits, s->cap_hits, s->n_hits + take) ||
        PP_GROW(s->seg, s->cap_seg, s->n_seg + 1))
        return -1;
    s->seg[s->n_seg++] = (uint32_t)s->n_hits;
    memcpy(s->hits + s->n_hits, sc->hits, take * sizeof *sc->hits);
    s->n_hits += take;
    return 0;
}

/* Which tier a detector belongs to, for the cost report (result "tiers"). */
static int tier_of(int d) {
    return d == PP_DET_CLASSIFIER ? PP_TIER_CLASSIFIER : d == PP_DET_GUARD ? PP_TIER_GUARD : PP_TIER_RULES;
}

/* Runs the policy's detectors in registry order (cheap first, guard last: it reads
** the cheap tiers' scores for its cascade).  Returns the detectors that ran.
**
** The cost report: when clk is not NULL, the clock is read where a tier ends, and
** the time since the previous read (*clk) goes to that tier, so whatever ran in
** between (normalizing the window, the previous window's payloads) counts in the
** tier that follows it.  With open_last set the last tier that runs is left open:
** no read at its end, *open_tier names it, and the caller's final read (after the
** result is built) closes it.  A check with one tier and one window thus reads the
** clock twice in all, and the tiers' costs add up to its latency. */
static unsigned run_detectors(const parapet_engine *e, const parapet_policy *p, pp_scan *sc,
                              uint64_t *tier_ticks, uint64_t *clk, int open_last, int *open_tier) {
    unsigned ran = 0, todo = 0; /* todo: bit per detector that will run */
    for (int d = 0; d < PP_DET_COUNT; d++)
        todo |= (unsigned)(p->detector_on[d] && e->det[d]) << d;
    sc->policy = p;
    while (todo) {
        int d = __builtin_ctz(todo);
        todo &= todo - 1;
        pp_detectors[d]->scan(e->det[d], sc);
        if (!(sc->skipped & (1u << d))) ran |= 1u << d;
        if (clk) {
            if (!todo && open_last) {
                *open_tier = tier_of(d);
            } else if (!todo || tier_of(__builtin_ctz(todo)) != tier_of(d)) {
                uint64_t now = clk_ticks();
                tier_ticks[tier_of(d)] += now - *clk;
                *clk = now;
            }
        }
    }
    return ran;
}

/* Finds decoded payloads (base64, escapes, tag characters) in the window just
** scanned and runs every detector on each, reporting hits at the payload's span in
** the original with PARAPET_XF_DECODED.  Only the first level is decoded: the
** injection detector itself already looks one level into each payload. */
static parapet_status scan_payloads(const parapet_engine *e, const parapet_policy *p, scratch *s,
                                    const pp_text *t, uint32_t base) {
    if (!p->detector_on[PP_DET_INJECTION]) return PARAPET_OK;
    pp_payload *pl = NULL;
    size_t npl = 0;
    parapet_status st = pp_find_payloads(t, &pl, &npl);
    if (st) return st;
    for (size_t i = 0; i < npl && !st; i++) {
        pp_text *sub = &s->sub;
        if (pp_text_normalize(sub, pl[i].data, pl[i].len, PP_NORM_REPLACE_INVALID, NULL)) continue;
        pp_scan_reset(&s->sub_scan, sub);
        run_detectors(e, p, &s->sub_scan, NULL, NULL, 0, NULL);
        if (s->sub_scan.oom) { st = PARAPET_ERR_NOMEM; break; }
        for (size_t h = 0; h < s->sub_scan.n_hits; h++) {
            pp_hit *x = &s->sub_scan.hits[h];
            x->start = base + pl[i].start;
            x->end = base + pl[i].end;
            x->transforms |= PARAPET_XF_DECODED;
        }
        if (push_hits(s, &s->sub_scan)) st = PARAPET_ERR_NOMEM;
    }
    pp_payloads_free(pl, npl);
    return st;
}

static int hit_cmp(const void *a, const void *b) {
    const pp_hit *x = a, *y = b;
    /* document-level evidence (empty span, e.g. the classifier) after all spans */
    int dx = x->start == x->end, dy = y->start == y->end;
    if (dx != dy) return dx - dy;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    if (x->end != y->end) return x->end > y->end ? -1 : 1;
    if (x->cat != y->cat) return x->cat < y->cat ? -1 : 1;
    if (x->detector != y->detector) return x->detector < y->detector ? -1 : 1;
    return strcmp(x->rule ? x->rule : "", y->rule ? y->rule : "");
}

/* Inserts h[i] into the sorted h[a..i); returns how many places it moved. */
static inline size_t hit_insert(pp_hit *h, size_t a, size_t i) {
    pp_hit x = h[i];
    size_t j = i;
    for (; j > a && hit_cmp(&x, &h[j - 1]) < 0; j--) h[j] = h[j - 1];
    h[j] = x;
    return i - j;
}

/* Merges the sorted src[a..am) and src[am..bm) into dst[a..bm), with the comparison
** inlined (qsort would call hit_cmp through a pointer). */
static inline void merge_hits(const pp_hit *src, pp_hit *dst, size_t a, size_t am, size_t bm) {
    size_t i = a, j = am, o = a;
    while (i < am && j < bm) dst[o++] = hit_cmp(&src[j], &src[i]) < 0 ? src[j++] : src[i++];
    while (i < am) dst[o++] = src[i++];
    while (j < bm) dst[o++] = src[j++];
}

/* Sorts h[0..n) by hit_cmp: insertion sort in runs of 8, then bottom-up merges
** through tmp (room for n). */
static void msort_hits(pp_hit *h, size_t n, pp_hit *tmp) {
    enum { RUN = 8 };
    for (size_t a = 0; a < n; a += RUN) {
        size_t e = a + RUN < n ? a + RUN : n;
        for (size_t i = a + 1; i < e; i++) hit_insert(h, a, i);
    }
    pp_hit *src = h, *dst = tmp;
    for (size_t w = RUN; w < n; w *= 2) {
        for (size_t a = 0; a < n; a += 2 * w) {
            size_t am = a + w < n ? a + w : n, bm = a + 2 * w < n ? a + 2 * w : n;
            merge_hits(src, dst, a, am, bm);
        }
        pp_hit *x = src;
        src = dst;
        dst = x;
    }
    if (src != h) memcpy(h, src, n * sizeof *h);
}

static int g_no_isort; /* pp_engine_set_segment_isort (tests) */
void pp_engine_set_segment_isort(int allow) { g_no_isort = !allow; }

/* Insertion sort of h[0..n), given up (returning 0, h a permutation of itself) once
** it has moved hits more than 4n + 64 places in all. */
static int isort_hits(pp_hit *h, size_t n) {
    if (g_no_isort) return 0;
    size_t budget = 4 * n + 64;
    for (size_t i = 1; i < n; i++) {
        size_t moved = hit_insert(h, 0, i);
        if (moved > budget) return 0;
        budget -= moved;
    }
    return 1;
}

/* Sorts h[0..n) by hit_cmp through tmp (room for n); without tmp, qsort.  The hits
** arrive in segments, one per detector scan (seg[0..nseg): where each begins; seg[0]
** is 0), each nearly in order already: a detector reports by start, the lexicon by
** end, which only nested spans disorder.  So each segment is insertion-sorted
** (merge-sorted if that turns out to move hits far: a hostile text), and the sorted
** segments are merged pairwise until one is left.  Hits that compare equal are
** merged by dedupe, in any order.  seg is overwritten. */
static void sort_hits(pp_hit *h, size_t n, pp_hit *tmp, uint32_t *seg, size_t nseg) {
    if (!tmp || !nseg || seg[0]) {
        qsort(h, n, sizeof *h, hit_cmp);
        return;
    }
    for (size_t k = 0; k < nseg; k++) {
        size_t a = seg[k], e = k + 1 < nseg ? seg[k + 1] : n;
        if (!isort_hits(h + a, e - a)) msort_hits(h + a, e - a, tmp + a);
    }
    pp_hit *src = h, *dst = tmp;
    while (nseg > 1) {
        size_t w = 0;
        for (size_t k = 0; k < nseg; k += 2) {
            size_t o = seg[k], am = k + 1 < nseg ? seg[k + 1] : n;
            size_t bm = k + 2 < nseg ? seg[k + 2] : n;
            seg[w++] = (uint32_t)o;
            merge_hits(src, dst, o, am, bm);
        }
        nseg = w;
        pp_hit *x = src;
        src = dst;
        dst = x;
    }
    if (src != h) memcpy(h, src, n * sizeof *h);
}

static size_t dedupe(pp_hit *h, size_t n, pp_hit *tmp, uint32_t *seg, size_t nseg) {
    if (n < 2) return n;
    sort_hits(h, n, tmp, seg, nseg);
    size_t w = 1;
    for (size_t i = 1; i < n; i++) {
        pp_hit *a = &h[w - 1];
        if (!hit_cmp(a, &h[i])) {
            if (h[i].score > a->score) a->score = h[i].score;
            a->transforms |= h[i].transforms;
            continue;
        }
        h[w++] = h[i];
    }
    return w;
}



/* Scores of the category ids that have evidence: a noisy-OR over distinct rules,
** each rule counted once at its strongest weight (from the call's score table).
** Returns the ids set (bit per id); out[id] is written only for those, the others
** score 0.  (PP_MAX_CATS is 64: one mask holds them.) */
_Static_assert(PP_MAX_CATS <= 64, "category ids fit a 64-bit mask");
static uint64_t category_scores(const scratch *s, double out[PP_MAX_CATS]) {
    double keep[PP_MAX_CATS];
    uint64_t seen = 0;
    for (size_t k = 0; k < s->n_rm; k++) {
        const struct rulemax *e = &s->rm[s->live[k]];
        if (e->cat >= PP_MAX_CATS) continue;
        uint64_t bit = 1ull << e->cat;
        if (!(seen & bit)) keep[e->cat] = 1.0;
        seen |= bit;
        keep[e->cat] *= 1.0 - e->w;
    }
    for (uint64_t m = seen; m; m &= m - 1) {
        int c = __builtin_ctzll(m);
        out[c] = 1.0 - keep[c];
    }
    return seen;
}

static size_t window_end(const char *s, size_t len, size_t ws) {
    if (len - ws <= WINDOW) return len;
    size_t we = ws + WINDOW;
    size_t lim = we - WINDOW / 16;
    for (size_t i = we; i > lim; i--)
        if (s[i - 1] == ' ' || s[i - 1] == '\n' || s[i - 1] == '\t') return i;
    while (we > ws + 1 && ((unsigned char)s[we] & 0xC0) == 0x80) we--;
    return we;
}

static size_t next_start(const char *s, size_t we) {
    size_t ns = we - OVERLAP;
    for (size_t i = ns; i < ns + 256 && i < we; i++)
        if (s[i] == ' ' || s[i] == '\n') return i + 1;
    while (ns < we && ((unsigned char)s[ns] & 0xC0) == 0x80) ns++;
    return ns;
}

/* Builds the result in ONE allocation: the struct, then the evidence array, then
** every string it exposes (the policy's names, each hit's rule and snippet), sized
** exactly beforehand. */
static parapet_status build_result(const parapet_policy *p, scratch *s, const char *text,
                                   size_t len, int valid, uint32_t signals, unsigned ran,
                                   parapet_result **out) {
    /* code points: a fast count when the text is known to be valid UTF-8 */
    size_t (*count)(const char *, size_t) = valid ? pp_utf8_count_valid : pp_utf8_count;
    size_t need = p->names_len;
    for (size_t i = 0; i < s->n_hits; i++)
        need += strlen(s->hits[i].rule ? s->hits[i].rule : "") + 2 +
                PP_MIN((size_t)(s->hits[i].end - s->hits[i].start), (size_t)SNIPPET_MAX);
    size_t ev_bytes = s->n_hits * sizeof(pp_ev);
    size_t block;
    int reused;
    parapet_result *r = pp_result_alloc(sizeof *r + ev_bytes + need + 1, &block, &reused);
    if (!r) return PARAPET_ERR_NOMEM;
    r->block = block;
    double scores[PP_MAX_CATS];
    uint64_t scored = s->n_rm ? category_scores(s, scores) : 0;
    /* A quiet result (no evidence, nothing scored) in the block of a quiet result of
    ** the same policy (same hash, so the same names, thresholds and actions): the
    ** names, the category entries and their name offsets are in place already. */
    int quiet = !s->n_hits && !scored;
    int in_place = quiet && reused && r->quiet && r->n_cats == p->n_cats &&
                   !memcmp(r->policy_hash, p->hash, sizeof r->policy_hash);
    r->quiet = quiet;
    /* Every field before cats is set here (a memset of them costs more than the
    ** check of a short text's detectors); cats and the arrays after it are
    ** written as far as they are used. */
    r->flagged = 0;
    r->action = PARAPET_ACTION_ALLOW;
    r->latency_us = 0;
    r->n_ev = 0;
    r->n_signals = 0;
    for (int k = 0; k < PP_TIER_COUNT; k++) r->tier_us[k] = 0;
    _Static_assert(sizeof(parapet_result) % _Alignof(pp_ev) == 0, "evidence follows the struct");
    r->ev = s->n_hits ? (pp_ev *)(void *)(r + 1) : NULL;
    char *strs = (char *)(r + 1) + ev_bytes;
    size_t sl = p->names_len;
    if (!in_place) memcpy(strs, p->names, sl);
    r->strs = strs;
    r->signals = signals;
    r->detectors_run = ran;
    if (!in_place) memcpy(r->policy_hash, p->hash, sizeof r->policy_hash);
    r->policy_name_off = 1;
    r->n_cats = p->n_cats;
    r->n_hits_total = s->truncated ? s->n_seen : 0;
    if (!in_place) memcpy(r->cat_name_off, p->names_off, p->n_cats * sizeof *r->cat_name_off);
    if (!scored && !in_place) /* no evidence: every score is 0, nothing flagged (policy.h: quiet) */
        memcpy(r->cats, p->quiet, p->n_cats * sizeof *r->cats);
    for (size_t i = 0; scored && i < p->n_cats; i++) {
        const pp_pcat *c = &p->cats[i];
        parapet_category_score *cs = &r->cats[i];
        cs->score = c->id >= 0 && c->id < PP_MAX_CATS && ((scored >> c->id) & 1) ? scores[c->id] : 0;
        cs->threshold = c->threshold;
        cs->flagged = c->enabled && cs->score >= c->threshold && c->action != PARAPET_ACTION_ALLOW &&
                      cs->score > 0;
        cs->action = cs->flagged ? c->action : PARAPET_ACTION_ALLOW;
        if (cs->flagged) r->flagged = 1;
        if (cs->action > r->action) r->action = cs->action;
    }
    /* Evidence, in text order; hits for categories the policy lacks are dropped.
    ** Code-point offsets: a running count up to byte `pos`, and [from, hi) a stretch
    ** of ASCII (hi: the next byte >= 0x80 at or after from), across which a byte is a
    ** code point and nothing needs counting -- all of most English texts, whose long
    ** documents carry thousands of evidence spans. */
    size_t cp = 0, pos = 0, from = 0, hi = s->n_hits ? pp_utf8_ascii_end(text, 0, len) : 0;
    for (size_t i = 0; i < s->n_hits; i++) {
        const pp_hit *h = &s->hits[i];
        int ci = h->cat < PP_MAX_CATS ? p->cat_of_id[h->cat] : pp_policy_find_id(p, h->cat);
        if (ci < 0 || h->end > len || h->start > h->end) continue;
        pp_ev *e = &r->ev[r->n_ev++];
        e->cat_index = ci;
        e->pub.start = h->start;
        e->pub.end = h->end;
        /* hits are sorted by start (document-level ones, at 0, last): count onwards */
        if (h->start < pos) cp = 0, pos = 0;
        if (pos >= from && h->start <= hi) cp += h->start - pos;
        else cp += count(text + pos, h->start - pos);
        pos = h->start;
        if (pos < from || pos > hi) from = pos, hi = pp_utf8_ascii_end(text, pos, len);
        e->pub.cp_start = cp;
        e->pub.cp_end = cp + (h->end <= hi ? h->end - h->start : count(text + h->start, h->end - h->start));
        e->pub.detector = pp_detectors[h->detector]->name;
        e->pub.score = h->score;
        e->pub.transforms = h->transforms;
        e->kind = h->kind;
        e->det = h->detector;
        e->cat_off = r->cat_name_off[ci];
        const char *rule = h->rule ? h->rule : "";
        size_t rl = strlen(rule) + 1;
        e->rule_off = sl;
        memcpy(strs + sl, rule, rl);
        sl += rl;
        e->snip_off = sl;
        e->snip_len = PP_MIN((size_t)(h->end - h->start), (size_t)SNIPPET_MAX);
        memcpy(strs + sl, text + h->start, e->snip_len);
        sl += e->snip_len;
        strs[sl++] = 0;
    }
    assert(sl <= need);
    r->strs_len = sl;
    pp_result_finish(r, in_place);
    *out = r;
    return PARAPET_OK;
}

parapet_status parapet_check(parapet_engine *e, const char *text, size_t len,
                             const parapet_check_opts *opts, parapet_result **out) {
    uint64_t t0 = clk_ticks();
    if (!e || !out || (!text && len)) return PARAPET_ERR_ARG;
    if (!text) text = "";
    if (len > e->max_input) return PARAPET_ERR_TOO_LARGE;
    const parapet_policy *p = opts && opts->policy ? opts->policy : e->policy;
    int mode = opts && opts->utf8_mode ? opts->utf8_mode - 1 : (int)e->utf8;
    unsigned nflags = mode == PARAPET_UTF8_REPLACE ? PP_NORM_REPLACE_INVALID : 0;
    if (!nflags && pp_utf8_validate(text, len) != len) return PARAPET_ERR_UTF8;
    scratch *s = get_scratch(e);
    if (!s) return PARAPET_ERR_NOMEM;
    s->n_hits = 0;
    s->n_seg = 0;
    s->n_seen = 0;
    s->truncated = 0;
    /* a new generation empties the score table without touching it */
    if (++s->gen == 0) {
        if (s->rm) memset(s->rm, 0, s->cap_rm * sizeof *s->rm);
        memset(s->rh, 0, sizeof s->rh);
        s->gen = 1;
    }
    s->n_rm = 0;
    uint32_t signals = len ? 0 : PP_SIG_EMPTY;
    unsigned ran = 0;
    uint64_t tier_ticks[PP_TIER_COUNT] = {0}, clk = t0;
    int open_tier = -1; /* the tier the final clock read closes, if any */
    parapet_status st = PARAPET_OK;
    size_t ws = 0;
    do {
        size_t we = window_end(text, len, ws);
        st = pp_text_normalize(&s->text, text + ws, we - ws, nflags, NULL);
        if (st) return st;
        signals |= s->text.signals;
        pp_scan_reset(&s->scan, &s->text);
        s->scan.base_offset = (uint32_t)ws;
        ran |= run_detectors(e, p, &s->scan, tier_ticks, &clk, we >= len, &open_tier);
        if (s->scan.oom || push_hits(s, &s->scan)) return PARAPET_ERR_NOMEM;
        st = scan_payloads(e, p, s, &s->text, (uint32_t)ws);
        if (st) return st;
        if (we >= len) break;
        ws = next_start(text, we);
    } while (1);
    if (s->n_hits > s->cap_tmp) { /* the merge buffer; without it, qsort */
        pp_free(s->tmp);
        s->tmp = pp_malloc(s->n_hits * sizeof *s->tmp);
        s->cap_tmp = s->tmp ? s->n_hits : 0;
    }
    s->n_hits = dedupe(s->hits, s->n_hits, s->n_hits <= s->cap_tmp ? s->tmp : NULL, s->seg, s->n_seg);
    parapet_status bst = build_result(p, s, text, len, !nflags || !(signals & PP_SIG_INVALID_UTF8),
                                      signals, ran, out);
    if (!bst) {
        uint64_t t_end = clk_ticks();
        if (open_tier >= 0) tier_ticks[open_tier] += t_end - clk;
        const double us = g_ns_per_tick / 1000.0;
        (*out)->latency_us = (double)(t_end - t0) * us;
        for (int k = 0; k < PP_TIER_COUNT; k++) (*out)->tier_us[k] = (double)tier_ticks[k] * us;
    }
    return bst;
}

/* ----------------------------------------------------------------- redact */

parapet_status parapet_redact(parapet_engine *e, const char *text, size_t len,
                              const parapet_check_opts *opts, char **out, size_t *out_len,
                              size_t *n_redacted) {
    if (!out) return PARAPET_ERR_ARG;
    parapet_result *r;
    parapet_status st = parapet_check(e, text, len, opts, &r);
    if (st) return st;
    pp_buf b;
    pp_buf_init(&b);
    size_t pos = 0, count = 0;
    for (size_t i = 0; i < r->n_ev; i++) {
        const pp_ev *ev = &r->ev[i];
        const parapet_category_score *cs = &r->cats[ev->cat_index];
        int is_pattern = ev->det == PP_DET_PII || ev->det == PP_DET_SECRETS;
        int by_policy = cs->flagged && cs->action == PARAPET_ACTION_REDACT;
        if (!is_pattern && !by_policy) continue;
        if (ev->pub.end == ev->pub.start) continue; /* document-level evidence: no span */
        if (ev->pub.start < pos) continue; /* overlaps a span already redacted */
        pp_buf_put(&b, text + pos, ev->pub.start - pos);
        pp_buf_putc(&b, '[');
        if (is_pattern) {
            pp_buf_puts(&b, pp_kind_placeholder(ev->kind));
        } else {
            for (const char *c = cs->name; *c; c++)
                pp_buf_putc(&b, (*c >= 'a' && *c <= 'z') ? (char)(*c - 32) : (*c == '/' || *c == '-') ? '_' : *c);
        }
        pp_buf_putc(&b, ']');
        pos = ev->pub.end;
        count++;
    }
    pp_buf_put(&b, text + pos, len - pos);
    parapet_result_free(r);
    char *s = pp_buf_detach(&b, out_len);
    if (!s) return PARAPET_ERR_NOMEM;
    *out = s;
    if (n_redacted) *n_redacted = count;
    return PARAPET_OK;
}
