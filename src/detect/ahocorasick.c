/*
** ahocorasick.c -- the multi-pattern matcher behind the lexicon (see ahocorasick.h
** for the design and the workload it is shaped for).
**
** Build, in four passes over the patterns:
**   1. byte classes: every byte used by some pattern gets its own class, the rest
**      share class 0 (which, from any state, can only lead back to the root);
**   2. a trie with sibling lists (the root's children in a direct array, since it has
**      the most), outputs attached to the node where each pattern ends;
**   3. breadth-first numbering, failure links and output links.  BFS order puts every
**      state after its failure state (which is strictly shallower), so tables can be
**      filled in one forward sweep;
**   4. the final tables: dense rows (class-indexed, failure already resolved) for the
**      first `n_dense` states in BFS order, sorted child lists for the rest.
**
** State ids in transition tables carry OUT_BIT when the state, or any state on its
** output-link chain, ends a pattern; the scan tests that bit and does nothing else
** for the usual byte.
**
** Transition targets are stored as "codes", not ids: a dense state d is coded as
** d * stride, the offset of its row, so the per-byte step is one add and one load
** (no multiply on the critical path: the scan is bound by the latency of that
** dependent load chain); a sparse state q >= n_dense is coded as
** dense_lim + (q - n_dense), where dense_lim = n_dense * stride.  code_id() maps a
** code back to the id, which only the output path and the sparse path need.
**
** Narrow tables: when the automaton has at most 32,768 states and 128 classes (the
** shipped lexicons), a second set of tables gives EVERY state a row of 128 16-bit
** entries (target id | OUT16); the scan then uses only those (scan16), and the wide
** dense rows are freed.
**
** Scan: one chain of dependent loads per byte is the bound, so texts of 16+ bytes are
** cut into four segments scanned side by side in one loop (four independent chains),
** with short tails that carry each stream past its segment's end (see pp_ac_scan).
** Matches therefore come out of order; the lexicon sorts its (short) lists.
*/
#include "ahocorasick.h"
#include <string.h>

#define OUT_BIT 0x80000000u
#define ID_MASK 0x7FFFFFFFu
#define OUT16 0x8000u
#define ID16_MASK 0x7FFFu
#define SHIFT16 7 /* a narrow row is 1 << SHIFT16 entries */
#define ROW16 (SHIFT16 + 1) /* ... of 1 << ROW16 bytes */
#define NONE 0xFFFFFFFFu
#define DEFAULT_DENSE_BUDGET (1u << 19) /* entries: 2 MiB of uint32 */

static size_t g_dense_budget;
static int g_no_narrow;

void pp_ac_set_dense_budget(size_t max_entries) { g_dense_budget = max_entries; }
void pp_ac_set_narrow(int allow) { g_no_narrow = !allow; }

typedef struct ac_out {
    uint32_t id;
    uint32_t len;
} ac_out;

struct pp_ac {
    uint16_t cls[256];    /* byte -> class */
    uint32_t n_cls;       /* classes, class 0 included */
    uint32_t stride;      /* entries per dense row: n_cls rounded up to a multiple of 16 */
    uint32_t n_states;
    uint32_t n_dense;     /* states [0, n_dense) have dense rows */
    uint32_t dense_lim;   /* n_dense * stride: codes below it are dense row offsets */
    uint32_t cls_shift, cls_inv; /* stride = 2^cls_shift * odd, cls_inv = odd^-1 mod 2^32 */
    uint32_t *dense;      /* (n_dense, stride) tagged target code; 64-byte aligned */
    void *dense_mem;      /* the allocation dense lies in */
    /* Narrow tables, built when every state id fits 15 bits and the classes fit 128
    ** (the shipped lexicons: ~18,000 states, ~120 classes): a row for EVERY state,
    ** of 128 16-bit entries (a target id tagged with OUT16), id << 8 bytes into the
    ** table, and the classes of lowercase prose (the first 32 entries) fill one cache
    ** line of the row.  at16[b] is the address of byte b's class entry in row 0, so
    ** a step is one shift and one load on the chain from state to state
    ** (at16[byte] + (id << 8)), with the class lookup off it and no test for sparse
    ** states.  The scan uses them whenever they exist; the wide tables above (whose
    ** dense rows are then freed) remain for larger automata. */
    uint16_t *dense16;    /* (n_states, 128) tagged target id; 64-byte aligned */
    void *dense16_mem;
    const unsigned char *at16[256]; /* byte -> (char *)(dense16 + its class) */
    uint32_t *depth_id;   /* (max_depth + 2) [d]: the lowest id of a state of depth >= d
                             (narrow tables only) */
    uint32_t *fail;       /* (n_states) untagged failure code */
    uint32_t *child_off;  /* (n_states + 1) into labels/targets; only used for sparse states */
    uint16_t *labels;     /* (n_children) class, sorted within a state */
    uint32_t *targets;    /* (n_children) tagged target code */
    /* (n_states + 1) per state: .off into outs (the patterns ending at this state run
    ** to the next state's .off) and .olink, the nearest proper suffix state with
    ** outputs (0 = none); side by side so a match costs one miss for both. */
    struct ac_ost { uint32_t off, olink; } *ost;
    ac_out *outs;         /* (n_patterns) */
    uint32_t *depth_code; /* (max_depth + 2) [d]: the lowest code of a state of depth >= d
                             (codes grow with depth: states are in BFS order) */
    uint32_t max_depth;   /* longest pattern */
    size_t bytes;         /* memory held */
};

/* ------------------------------------------------------------------- build */

typedef struct trie {
    uint32_t *first, *next; /* (cap) first child, next sibling; NONE terminates */
    uint16_t *label;        /* (cap) class of the edge into this node */
    uint32_t *out_head;     /* (cap) first pattern index ending here, NONE if none */
    uint32_t root_child[257];
    size_t n, cap;
} trie;

static void trie_free(trie *t) {
    pp_free(t->first); pp_free(t->next); pp_free(t->label); pp_free(t->out_head);
}

static int trie_grow(trie *t) {
    if (t->n < t->cap) return 0;
    size_t cap = t->cap ? t->cap * 2 : 1024;
    uint32_t *a = pp_realloc(t->first, cap * 4);
    if (!a) return -1;
    t->first = a;
    a = pp_realloc(t->next, cap * 4);
    if (!a) return -1;
    t->next = a;
    uint16_t *l = pp_realloc(t->label, cap * 2);
    if (!l) return -1;
    t->label = l;
    a = pp_realloc(t->out_head, cap * 4);
    if (!a) return -1;
    t->out_head = a;
    t->cap = cap;
    return 0;
}

static uint32_t trie_child(const trie *t, uint32_t node, unsigned c) {
    if (node == 0) return t->root_child[c];
    for (uint32_t k = t->first[node]; k != NONE; k = t->next[k])
        if (t->label[k] == c) return k;
    return NONE;
}

/* Adds a child of `node` on class c (which must not exist); returns it or NONE. */
static uint32_t trie_add(trie *t, uint32_t node, unsigned c) {
    if (t->n >= ID_MASK || trie_grow(t)) return NONE;
    uint32_t k = (uint32_t)t->n++;
    t->first[k] = NONE;
    t->label[k] = (uint16_t)c;
    t->out_head[k] = NONE;
    if (node == 0) {
        t->root_child[c] = k;
        t->next[k] = NONE;
    } else {
        t->next[k] = t->first[node];
        t->first[node] = k;
    }
    return k;
}

/* Id of the state with code x (untagged). */
static inline uint32_t code_id(const pp_ac *ac, uint32_t x) {
    return x < ac->dense_lim ? (x >> ac->cls_shift) * ac->cls_inv
                             : x - ac->dense_lim + ac->n_dense;
}

pp_status pp_ac_build(const pp_ac_pattern *pats, size_t n, pp_ac **out) {
    *out = NULL;
    if (n >= ID_MASK) return PARAPET_ERR_ARG;
    for (size_t i = 0; i < n; i++)
        if (!pats[i].len || !pats[i].bytes || pats[i].len >= ID_MASK)
            return PARAPET_ERR_ARG;

    pp_ac *ac = pp_calloc(1, sizeof *ac);
    if (!ac) return PARAPET_ERR_NOMEM;
    pp_status st = PARAPET_ERR_NOMEM;
    trie t;
    memset(&t, 0, sizeof t);
    uint32_t *pat_next = NULL, *order = NULL, *newid = NULL, *ofail = NULL, *oolink = NULL;
    uint32_t *odepth = NULL;

    /* 1. byte classes */
    unsigned char used[256] = {0};
    for (size_t i = 0; i < n; i++) {
        const unsigned char *p = pats[i].bytes;
        for (size_t j = 0; j < pats[i].len; j++) used[p[j]] = 1;
    }
    /* Numbered so the classes of ordinary lowercase prose come first, after class 0:
    ** space, the letters by frequency, then common punctuation and digits, then the
    ** other bytes in order.  With rows aligned to 64 bytes, a scan of such text reads
    ** the first two cache lines of each row it visits. */
    static const char k_first[] = " etaoinshrdlcumwfgypbvkjxqz'-.,*0123456789";
    ac->n_cls = 1;
    memset(ac->cls, 0, sizeof ac->cls);
    for (const char *f = k_first; *f; f++)
        if (used[(unsigned char)*f]) {
            ac->cls[(unsigned char)*f] = (uint16_t)ac->n_cls++;
            used[(unsigned char)*f] = 0;
        }
    for (int b = 0; b < 256; b++)
        if (used[b]) ac->cls[b] = (uint16_t)ac->n_cls++;
    ac->stride = (ac->n_cls + 15) & ~15u;

    /* 2. trie */
    for (unsigned c = 0; c < 257; c++) t.root_child[c] = NONE;
    if (trie_grow(&t)) goto done;
    t.n = 1;
    t.first[0] = t.next[0] = NONE;
    t.label[0] = 0;
    t.out_head[0] = NONE;
    pat_next = pp_malloc((n ? n : 1) * 4);
    if (!pat_next) goto done;
    for (size_t i = 0; i < n; i++) {
        const unsigned char *p = pats[i].bytes;
        uint32_t node = 0;
        for (size_t j = 0; j < pats[i].len; j++) {
            unsigned c = ac->cls[p[j]];
            uint32_t k = trie_child(&t, node, c);
            if (k == NONE) k = trie_add(&t, node, c);
            if (k == NONE) {
                st = t.n >= ID_MASK ? PARAPET_ERR_ARG : PARAPET_ERR_NOMEM;
                goto done;
            }
            node = k;
        }
        pat_next[i] = t.out_head[node];
        t.out_head[node] = (uint32_t)i;
    }

    /* 3. BFS order, failure and output links (in old ids) */
    size_t ns = t.n;
    order = pp_malloc(ns * 4);
    newid = pp_malloc(ns * 4);
    ofail = pp_malloc(ns * 4);
    oolink = pp_malloc(ns * 4);
    odepth = pp_malloc(ns * 4);
    if (!order || !newid || !ofail || !oolink || !odepth) goto done;
    size_t head = 0, tail = 0;
    order[tail++] = 0;
    ofail[0] = 0;
    oolink[0] = 0;
    odepth[0] = 0;
    while (head < tail) {
        uint32_t u = order[head++];
        /* children of u: root's from its array (in class order), others from the list */
        uint32_t k = NONE;
        unsigned rc = 0;
        for (;;) {
            if (u == 0) {
                while (rc < ac->n_cls && t.root_child[rc] == NONE) rc++;
                if (rc >= ac->n_cls) break;
                k = t.root_child[rc++];
            } else {
                k = (k == NONE) ? t.first[u] : t.next[k];
                if (k == NONE) break;
            }
            unsigned c = t.label[k];
            uint32_t f = 0;
            if (u != 0) {
                uint32_t g = ofail[u];
                for (;;) {
                    uint32_t x = trie_child(&t, g, c);
                    if (x != NONE) { f = x; break; }
                    if (g == 0) break;
                    g = ofail[g];
                }
            }
            ofail[k] = f;
            oolink[k] = t.out_head[f] != NONE ? f : oolink[f];
            odepth[k] = odepth[u] + 1;
            order[tail++] = k;
        }
    }
    for (size_t i = 0; i < ns; i++) newid[order[i]] = (uint32_t)i;

    /* 4. final tables (new ids) */
    ac->n_states = (uint32_t)ns;
    size_t budget = g_dense_budget ? g_dense_budget : DEFAULT_DENSE_BUDGET;
    size_t nd = budget / ac->stride;
    if (nd < 1) nd = 1;
    if (nd > ns) nd = ns;
    /* codes must stay below OUT_BIT */
    while (nd > 1 && nd * ac->stride + (ns - nd) >= OUT_BIT) nd /= 2;
    if (nd * ac->stride + (ns - nd) >= OUT_BIT) {
        st = PARAPET_ERR_ARG;
        goto done;
    }
    ac->n_dense = (uint32_t)nd;
    /* exact division of a dense code by stride: shift out the power of two, multiply by
    ** the inverse of the odd part modulo 2^32 (Newton's iteration doubles the correct
    ** low bits each step: 3, 6, 12, 24, 48) */
    {
        uint32_t d = ac->stride, k = 0;
        while (!(d & 1)) d >>= 1, k++;
        uint32_t inv = d;
        for (int it = 0; it < 4; it++) inv *= 2 - d * inv;
        ac->cls_shift = k;
        ac->cls_inv = inv;
    }
    ac->dense_lim = (uint32_t)(nd * ac->stride);
    size_t n_children = ns - 1;
    ac->dense_mem = pp_malloc(nd * ac->stride * 4 + 64);
    ac->dense = ac->dense_mem ? (uint32_t *)(((uintptr_t)ac->dense_mem + 63) & ~(uintptr_t)63) : NULL;
    ac->fail = pp_malloc(ns * 4);
    ac->child_off = pp_malloc((ns + 1) * 4);
    ac->labels = pp_malloc((n_children ? n_children : 1) * 2);
    ac->targets = pp_malloc((n_children ? n_children : 1) * 4);
    ac->ost = pp_malloc((ns + 1) * sizeof *ac->ost);
    ac->outs = pp_malloc((n ? n : 1) * sizeof(ac_out));
    uint32_t maxd = 0;
    for (size_t s = 0; s < ns; s++) maxd = odepth[s] > maxd ? odepth[s] : maxd;
    ac->max_depth = maxd;
    ac->depth_code = pp_malloc(((size_t)maxd + 2) * 4);
    if (!ac->dense || !ac->fail || !ac->child_off || !ac->labels || !ac->targets ||
        !ac->ost || !ac->outs || !ac->depth_code)
        goto done;
    ac->bytes = sizeof *ac + nd * ac->stride * 4 + 64 + ns * 4 * 4 + 12 + n_children * 6 +
                ((size_t)maxd + 2) * 4 +
                n * sizeof(ac_out);

    uint32_t n_out = 0, n_ch = 0;
    for (size_t s = 0; s < ns; s++) {
        uint32_t o = order[s];
        ac->fail[s] = newid[ofail[o]];
        ac->ost[s].olink = newid[oolink[o]];
        ac->ost[s].off = n_out;
        for (uint32_t p = t.out_head[o]; p != NONE; p = pat_next[p]) {
            ac->outs[n_out].id = pats[p].id;
            ac->outs[n_out].len = (uint32_t)pats[p].len;
            n_out++;
        }
    }
    ac->ost[ns].off = n_out;
    ac->ost[ns].olink = 0;
#define CODE(s) ((uint32_t)((s) < nd ? (s) * ac->stride : ac->dense_lim + ((s) - nd)))
#define TAG(s) (CODE(s) | ((ac->ost[(s) + 1].off > ac->ost[s].off || ac->ost[s].olink) ? OUT_BIT : 0))
    for (size_t s = 0; s < ns; s++) {
        uint32_t o = order[s];
        ac->child_off[s] = n_ch;
        /* children sorted by class: collect from the list, insertion-sort in place */
        uint32_t first = n_ch;
        if (o == 0) {
            for (unsigned c = 0; c < ac->n_cls; c++)
                if (t.root_child[c] != NONE) {
                    ac->labels[n_ch] = (uint16_t)c;
                    ac->targets[n_ch++] = TAG(newid[t.root_child[c]]);
                }
        } else {
            for (uint32_t k = t.first[o]; k != NONE; k = t.next[k]) {
                uint32_t j = n_ch++;
                while (j > first && ac->labels[j - 1] > t.label[k]) {
                    ac->labels[j] = ac->labels[j - 1];
                    ac->targets[j] = ac->targets[j - 1];
                    j--;
                }
                ac->labels[j] = t.label[k];
                ac->targets[j] = TAG(newid[k]);
            }
        }
        if (s < nd) {
            uint32_t *row = ac->dense + s * ac->stride;
            if (s == 0) {
                for (unsigned c = 0; c < ac->stride; c++) row[c] = 0; /* root has no outputs */
            } else {
                /* fail[] still holds ids here; codes are written after this loop */
                const uint32_t *frow = ac->dense + (size_t)ac->fail[s] * ac->stride;
                memcpy(row, frow, ac->stride * 4);
            }
            for (uint32_t j = first; j < n_ch; j++) row[ac->labels[j]] = ac->targets[j];
        }
    }
    ac->child_off[ns] = n_ch;
    for (uint32_t d = 0, q = 0; d <= maxd + 1; d++) { /* q: first state of depth >= d */
        while (q < ns && odepth[order[q]] < d) q++;
        ac->depth_code[d] = CODE(q);
    }
    /* The narrow tables, from the ids (fail[] still holds ids here) and the tagged
    ** codes just built: in BFS order a state's row is its failure state's row with
    ** its own children written over it. */
    if (ns <= ID16_MASK + 1 && ac->n_cls <= (1u << SHIFT16) && !g_no_narrow) {
        ac->dense16_mem = pp_malloc((ns << SHIFT16) * 2 + 64);
        ac->depth_id = pp_malloc(((size_t)maxd + 2) * 4);
        if (!ac->dense16_mem || !ac->depth_id) {
            st = PARAPET_ERR_NOMEM;
            goto done;
        }
        ac->dense16 = (uint16_t *)(((uintptr_t)ac->dense16_mem + 63) & ~(uintptr_t)63);
        for (int b = 0; b < 256; b++)
            ac->at16[b] = (const unsigned char *)(ac->dense16 + ac->cls[b]);
#define NARROW(t) ((uint16_t)(code_id(ac, (t) & ID_MASK) | ((t) & OUT_BIT ? OUT16 : 0)))
        for (size_t q = 0; q < ns; q++) {
            uint16_t *row = ac->dense16 + (q << SHIFT16);
            if (q == 0)
                memset(row, 0, (1u << SHIFT16) * 2);
            else
                memcpy(row, ac->dense16 + ((size_t)ac->fail[q] << SHIFT16), (1u << SHIFT16) * 2);
            for (uint32_t k = ac->child_off[q]; k < ac->child_off[q + 1]; k++)
                row[ac->labels[k]] = NARROW(ac->targets[k]);
        }
#undef NARROW
        for (uint32_t d = 0, q = 0; d <= maxd + 1; d++) {
            while (q < ns && odepth[order[q]] < d) q++;
            ac->depth_id[d] = q;
        }
        /* the wide dense rows are no longer read */
        pp_free(ac->dense_mem);
        ac->dense_mem = NULL;
        ac->dense = NULL;
        ac->bytes += (ns << SHIFT16) * 2 + 64 + ((size_t)maxd + 2) * 4 - (nd * ac->stride * 4 + 64);
    }
    for (size_t s = 0; s < ns; s++) ac->fail[s] = CODE(ac->fail[s]);
#undef TAG
#undef CODE
    st = PARAPET_OK;

done:
    trie_free(&t);
    pp_free(pat_next); pp_free(order); pp_free(newid); pp_free(ofail); pp_free(oolink);
    pp_free(odepth);
    if (st != PARAPET_OK) {
        pp_ac_free(ac);
        return st;
    }
    *out = ac;
    return PARAPET_OK;
}

void pp_ac_free(pp_ac *ac) {
    if (!ac) return;
    pp_free(ac->dense16_mem);
    pp_free(ac->depth_id);
    pp_free(ac->dense_mem); pp_free(ac->fail); pp_free(ac->child_off); pp_free(ac->labels);
    pp_free(ac->targets); pp_free(ac->ost); pp_free(ac->outs);
    pp_free(ac->depth_code);
    pp_free(ac);
}

/* -------------------------------------------------------------------- scan */

/* The transition from sparse state code s (>= dense_lim) on class c: its child list,
** else along failure codes to a dense row.  Out of line: rare, and it would crowd the
** registers of the scan loop. */
static uint32_t __attribute__((noinline)) step_sparse(const pp_ac *ac, uint32_t s, unsigned c) {
    const uint32_t sparse_base = ac->dense_lim - ac->n_dense;
    for (uint32_t q = s;;) {
        if (q < ac->dense_lim) return ac->dense[q + c];
        uint32_t id = q - sparse_base;
        uint32_t k = ac->child_off[id], e = ac->child_off[id + 1];
        while (k < e && ac->labels[k] < c) k++;
        if (k < e && ac->labels[k] == c) return ac->targets[k];
        q = ac->fail[id];
    }
}

/* Reports the patterns ending at `end` in state code s (and along its output links)
** whose start is below lim.  Returns cb's first non-zero answer, else 0. */
static int __attribute__((noinline)) emit_id(const pp_ac *ac, uint32_t id, uint32_t end,
                                             size_t lim, pp_ac_cb cb, void *ctx) {
    for (uint32_t q = id; q; q = ac->ost[q].olink)
        for (uint32_t k = ac->ost[q].off, ke = ac->ost[q + 1].off; k < ke; k++) {
            uint32_t start = end - ac->outs[k].len;
            if (start >= lim) continue;
            int r = cb(ctx, start, end, ac->outs[k].id);
            if (r) return r;
        }
    return 0;
}

static int emit(const pp_ac *ac, uint32_t s, uint32_t end, size_t lim, pp_ac_cb cb, void *ctx) {
    return emit_id(ac, code_id(ac, s), end, lim, cb, ctx);
}

/* One stream: from state code *sp at `from`, steps through text[from..to) reporting
** the matches that start below lim, and leaves the state in *sp; with tail set, stops
** early (before `to`) as soon as the state's string starts at or after lim, since no
** match it could still report would start below lim (depth(s) <= i - lim, checked
** as a comparison of codes, off the chain of table loads).  Returns cb's first
** non-zero answer, else 0. */
static int run(const pp_ac *ac, const unsigned char *p, size_t from, size_t to,
               uint32_t *sp, size_t lim, int tail, pp_ac_cb cb, void *ctx) {
    uint32_t s = *sp;
    const uint16_t *cls = ac->cls;
    const uint32_t *dense = ac->dense;
    const uint32_t dense_lim = ac->dense_lim;
    for (size_t i = from; i < to; i++) {
        if (tail && (i - lim >= ac->max_depth || s < ac->depth_code[i - lim + 1])) break;
        unsigned c = cls[p[i]];
        uint32_t t = s < dense_lim ? dense[s + c] : step_sparse(ac, s, c);
        s = t & ID_MASK;
        int r;
        if ((t & OUT_BIT) && (r = emit(ac, s, (uint32_t)(i + 1), (uint32_t)lim, cb, ctx)))
            return r;
    }
    *sp = s;
    return 0;
}

/* Texts shorter than this are scanned as one stream. */
#define AC_SPLIT_MIN 16
#define AC_STREAMS 4

/* The scan is bound by the latency of one dependent table load per byte.  To overlap
** several such chains, the text is cut into AC_STREAMS segments of m bytes (the last
** takes the rest) scanned side by side in one loop; stream k starts from the root at
** k*m, so it reports exactly the matches that start at or after k*m.  After the loop
** each stream but the last goes on alone into the next segment only while its state's
** string still starts before that segment (depth > i - end), reporting just the
** matches that start before it.  Every match is thus reported exactly once, but not
** in order of end. */
/* ---------------------------------------------------- scan, narrow tables */

/* The same steps over the narrow tables: states are ids, every state has a row at
** id << SHIFT16, so a step has no branch at all but the output test. */
static inline __attribute__((always_inline)) int run16(const pp_ac *ac, const unsigned char *p,
                                                      size_t from, size_t to, uint32_t *sp,
                                                      size_t lim, int tail, pp_ac_cb cb,
                                                      void *ctx) {
    uint32_t s = *sp;
    const unsigned char *const *at = ac->at16;
    for (size_t i = from; i < to; i++) {
        if (tail && (i - lim >= ac->max_depth || s < ac->depth_id[i - lim + 1])) break;
        uint32_t t = *(const uint16_t *)(const void *)(at[p[i]] + ((size_t)s << ROW16));
        s = t & ID16_MASK;
        int r;
        if ((t & OUT16) && (r = emit_id(ac, s, (uint32_t)(i + 1), (uint32_t)lim, cb, ctx)))
            return r;
    }
    *sp = s;
    return 0;
}

/* The four streams' loop over bytes [i, m) of their segments (stream k at p + k*m),
** from and into st[] (ids).  Returns at the first step where some stream reaches a
** state with outputs, with that step's targets (OUT16 tags kept) in st[] and the
** index after it; or at m, with plain ids in st[].  Kept apart from the callback and
** the tails so that the states, the pointers and the segment length all stay in
** registers (in one loop with them, GCC kept two states on the stack: a store and a
** reload on their chains), and since a step that finds no output has no tag to
** mask, the chain from one state to the next is a shift and a load. */
static size_t __attribute__((noinline)) steps16(const unsigned char *const *at,
                                                const unsigned char *p, size_t m, size_t i,
                                                uint32_t st[AC_STREAMS]) {
    const unsigned char *p1 = p + m, *p2 = p1 + m, *p3 = p2 + m;
    /* size_t: no zero-extension of each offset on the way to its load */
    size_t s0 = st[0], s1 = st[1], s2 = st[2], s3 = st[3];
#define STEP16(q, s) (*(const uint16_t *)(const void *)(at[q[i]] + ((s) << ROW16)))
    while (i < m) {
        size_t t0 = STEP16(p, s0);
        size_t t1 = STEP16(p1, s1);
        size_t t2 = STEP16(p2, s2);
        size_t t3 = STEP16(p3, s3);
        i++;
        if ((t0 | t1 | t2 | t3) & OUT16) {
            st[0] = (uint32_t)t0, st[1] = (uint32_t)t1, st[2] = (uint32_t)t2, st[3] = (uint32_t)t3;
            return i;
        }
        s0 = t0, s1 = t1, s2 = t2, s3 = t3;
    }
#undef STEP16
    st[0] = (uint32_t)s0, st[1] = (uint32_t)s1, st[2] = (uint32_t)s2, st[3] = (uint32_t)s3;
    return i;
}

static int scan16(const pp_ac *ac, const unsigned char *p, size_t n, pp_ac_cb cb, void *ctx) {
    uint32_t st[AC_STREAMS] = {0}; /* ids of the streams' states */
    if (n < AC_SPLIT_MIN) return run16(ac, p, 0, n, &st[0], SIZE_MAX, 0, cb, ctx);
    const size_t m = n / AC_STREAMS;
    int r;
    for (size_t i = 0; i < m;) {
        i = steps16(ac->at16, p, m, i, st);
        for (size_t k = 0; k < AC_STREAMS; k++) {
            uint32_t t = st[k];
            st[k] = t & ID16_MASK;
            if ((t & OUT16) &&
                (r = emit_id(ac, st[k], (uint32_t)(k * m + i), UINT32_MAX, cb, ctx)))
                return r;
        }
    }
    /* the last stream's remainder, then the others' tails into the next segment */
    if ((r = run16(ac, p, AC_STREAMS * m, n, &st[AC_STREAMS - 1], SIZE_MAX, 0, cb, ctx))) return r;
    for (size_t k = 0; k + 1 < AC_STREAMS; k++)
        if ((r = run16(ac, p, (k + 1) * m, n, &st[k], (k + 1) * m, 1, cb, ctx))) return r;
    return 0;
}

int pp_ac_scan(const pp_ac *ac, const void *text, size_t n, pp_ac_cb cb, void *ctx) {
    const unsigned char *p = text;
    if (ac->dense16) return scan16(ac, p, n, cb, ctx);
    uint32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0; /* codes of the streams' states */
    if (n < AC_SPLIT_MIN) return run(ac, p, 0, n, &s0, SIZE_MAX, 0, cb, ctx);
    const uint16_t *cls = ac->cls;
    const uint32_t *dense = ac->dense;
    const uint32_t dense_lim = ac->dense_lim;
    const size_t m = n / AC_STREAMS;
    const size_t b1 = m, b2 = 2 * m, b3 = 3 * m;
    const unsigned char *p1 = p + b1, *p2 = p + b2, *p3 = p + b3;
    int r;
    for (size_t i = 0; i < m; i++) {
        unsigned c0 = cls[p[i]], c1 = cls[p1[i]], c2 = cls[p2[i]], c3 = cls[p3[i]];
        uint32_t t0 = s0 < dense_lim ? dense[s0 + c0] : step_sparse(ac, s0, c0);
        uint32_t t1 = s1 < dense_lim ? dense[s1 + c1] : step_sparse(ac, s1, c1);
        uint32_t t2 = s2 < dense_lim ? dense[s2 + c2] : step_sparse(ac, s2, c2);
        uint32_t t3 = s3 < dense_lim ? dense[s3 + c3] : step_sparse(ac, s3, c3);
        s0 = t0 & ID_MASK;
        s1 = t1 & ID_MASK;
        s2 = t2 & ID_MASK;
        s3 = t3 & ID_MASK;
        if ((t0 | t1 | t2 | t3) & OUT_BIT) {
            uint32_t e = (uint32_t)(i + 1);
            if ((t0 & OUT_BIT) && (r = emit(ac, s0, e, UINT32_MAX, cb, ctx))) return r;
            if ((t1 & OUT_BIT) && (r = emit(ac, s1, e + b1, UINT32_MAX, cb, ctx))) return r;
            if ((t2 & OUT_BIT) && (r = emit(ac, s2, e + b2, UINT32_MAX, cb, ctx))) return r;
            if ((t3 & OUT_BIT) && (r = emit(ac, s3, e + b3, UINT32_MAX, cb, ctx))) return r;
        }
    }
    /* the last stream's remainder, then the others' tails into the next segment */
    if ((r = run(ac, p, 4 * m, n, &s3, SIZE_MAX, 0, cb, ctx))) return r;
    if ((r = run(ac, p, b1, n, &s0, b1, 1, cb, ctx))) return r;
    if ((r = run(ac, p, b2, n, &s1, b2, 1, cb, ctx))) return r;
    return run(ac, p, b3, n, &s2, b3, 1, cb, ctx);
}

typedef struct collect {
    pp_ac_match *out;
    size_t cap, n;
} collect;

static int collect_cb(void *ctx, uint32_t start, uint32_t end, uint32_t id) {
    collect *c = ctx;
    if (c->n < c->cap) {
        c->out[c->n].start = start;
        c->out[c->n].end = end;
        c->out[c->n].id = id;
    }
    c->n++;
    return 0;
}

size_t pp_ac_scan_all(const pp_ac *ac, const void *text, size_t n, pp_ac_match *out,
                      size_t cap) {
    collect c = {out, cap, 0};
    pp_ac_scan(ac, text, n, collect_cb, &c);
    return c.n;
}

size_t pp_ac_states(const pp_ac *ac) { return ac->n_states; }
size_t pp_ac_dense_states(const pp_ac *ac) { return ac->dense16 ? ac->n_states : ac->n_dense; }
size_t pp_ac_classes(const pp_ac *ac) { return ac->n_cls; }
int pp_ac_narrow(const pp_ac *ac) { return ac->dense16 != NULL; }
size_t pp_ac_memory(const pp_ac *ac) { return ac->bytes; }
