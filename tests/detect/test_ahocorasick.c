/*
** test_ahocorasick.c -- the matcher against a naive search.
**
** Random patterns and texts over a small alphabet (so matches overlap, nest and share
** suffixes a lot), plus a few high bytes, checked against a brute-force search; run
** with the default dense table, with only a few dense states, and with only the root
** dense, so both the dense and the sparse/failure-link paths are covered; and with
** patterns longer than the segments a text is cut into for the interleaved streams
** (texts of 16+ bytes), so streams' tails that run across whole segments are covered.
** The matcher reports in no particular order, so results are sorted before comparing.
** One case breaks the model on purpose and checks that the comparison notices.
*/
#include "test.h"
#include "detect/ahocorasick.h"
#include <stdlib.h>

static uint64_t rng_state;
static uint32_t rnd(void) {
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng_state >> 33);
}

static const unsigned char alpha[] = {'a', 'b', 'c', 'a', 'b', 0xE2, 0x80, ' '};

static void rand_bytes(unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++) p[i] = alpha[rnd() % sizeof alpha];
}

static int cmp_match(const void *a, const void *b) {
    const pp_ac_match *x = a, *y = b;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Every (start,end,id) occurrence, by brute force; `broken` skips matches that end at
** the last byte, the kind of off-by-one the comparison must catch. */
static size_t naive(const pp_ac_pattern *pats, size_t np, const unsigned char *t, size_t n,
                    pp_ac_match *out, size_t cap, int broken) {
    size_t k = 0;
    for (size_t e = 1; e <= n; e++) {
        if (broken && e == n) continue;
        for (size_t p = 0; p < np; p++) {
            size_t L = pats[p].len;
            if (L <= e && !memcmp(t + e - L, pats[p].bytes, L) && k < cap) {
                out[k].start = (uint32_t)(e - L);
                out[k].end = (uint32_t)e;
                out[k].id = pats[p].id;
                k++;
            }
        }
    }
    return k;
}

/* Builds a random automaton and compares `rounds` random texts; returns the number of
** texts whose match sets differ (0 when correct). */
static int compare_random_l(uint64_t seed, size_t dense_budget, int broken, int rounds,
                            size_t maxl) {
    enum { NP = 60, MAXL = 48, TL = 200, CAP = 4096 };
    rng_state = seed;
    unsigned char store[NP][MAXL];
    pp_ac_pattern pats[NP];
    if (maxl > MAXL) maxl = MAXL;
    for (size_t i = 0; i < NP; i++) {
        size_t L = 1 + rnd() % maxl;
        rand_bytes(store[i], L);
        pats[i].bytes = store[i];
        pats[i].len = L;
        pats[i].id = (uint32_t)(i * 7 + 3);
    }
    /* duplicates must be reported once per id */
    pats[NP - 1].bytes = store[0];
    pats[NP - 1].len = pats[0].len;
    pp_ac_set_dense_budget(dense_budget);
    pp_ac *ac = NULL;
    pp_status st = pp_ac_build(pats, NP, &ac);
    pp_ac_set_dense_budget(0);
    if (st != PARAPET_OK) return 1000;
    static pp_ac_match a[CAP], b[CAP];
    int bad = 0;
    for (int r = 0; r < rounds; r++) {
        unsigned char text[TL];
        size_t n = rnd() % TL;
        rand_bytes(text, n);
        size_t na = pp_ac_scan_all(ac, text, n, a, CAP);
        size_t nb = naive(pats, NP, text, n, b, CAP, broken);
        if (na > CAP || nb > CAP) { bad++; continue; }
        qsort(a, na, sizeof a[0], cmp_match);
        qsort(b, nb, sizeof b[0], cmp_match);
        if (na != nb || memcmp(a, b, na * sizeof a[0])) bad++;
    }
    pp_ac_free(ac);
    return bad;
}

static int compare_random(uint64_t seed, size_t dense_budget, int broken, int rounds) {
    return compare_random_l(seed, dense_budget, broken, rounds, 6);
}

TEST(ac_matches_naive_dense) {
    for (uint64_t seed = 1; seed <= 6; seed++) CHECK_EQ(compare_random(seed, 0, 0, 40), 0);
}

TEST(ac_matches_naive_sparse) {
    /* only the root dense, then a handful of dense states */
    for (uint64_t seed = 11; seed <= 16; seed++) CHECK_EQ(compare_random(seed, 1, 0, 40), 0);
    for (uint64_t seed = 21; seed <= 26; seed++) CHECK_EQ(compare_random(seed, 40, 0, 40), 0);
}

TEST(ac_matches_naive_long_patterns) {
    /* patterns up to 40 bytes: a stream's tail crosses one or more later segments */
    for (uint64_t seed = 31; seed <= 36; seed++) CHECK_EQ(compare_random_l(seed, 0, 0, 40, 40), 0);
    for (uint64_t seed = 41; seed <= 43; seed++) CHECK_EQ(compare_random_l(seed, 40, 0, 40, 24), 0);
}

TEST(ac_matches_naive_wide_tables) {
    /* the same comparisons with the 16-bit tables turned off: the 32-bit scan that
    ** automata of more than 32,768 states use */
    pp_ac_set_narrow(0);
    int bad = 0;
    for (uint64_t seed = 51; seed <= 54; seed++) bad += compare_random(seed, 0, 0, 40);
    for (uint64_t seed = 61; seed <= 63; seed++) bad += compare_random(seed, 1, 0, 40);
    for (uint64_t seed = 71; seed <= 73; seed++) bad += compare_random(seed, 40, 0, 40);
    for (uint64_t seed = 81; seed <= 83; seed++) bad += compare_random_l(seed, 0, 0, 40, 40);
    pp_ac_set_narrow(1);
    CHECK_EQ(bad, 0);
}

TEST(ac_narrow_tables_by_size) {
    pp_ac_pattern p[] = {{"ab", 2, 1}, {"b", 1, 2}};
    pp_ac *ac = NULL;
    CHECK_OK(pp_ac_build(p, 2, &ac));
    CHECK(pp_ac_narrow(ac));
    pp_ac_free(ac);
    pp_ac_set_narrow(0);
    pp_status st = pp_ac_build(p, 2, &ac);
    pp_ac_set_narrow(1);
    CHECK_OK(st);
    CHECK(!pp_ac_narrow(ac));
    CHECK_EQ(pp_ac_scan_all(ac, "xab", 3, NULL, 0), 2);
    pp_ac_free(ac);
    /* more than 32,768 states: the 32-bit tables */
    enum { NP = 4000, L = 12 };
    static unsigned char store[NP][L];
    static pp_ac_pattern big[NP];
    for (size_t i = 0; i < NP; i++) {
        for (size_t j = 0; j < L; j++) store[i][j] = (unsigned char)('a' + (i * 7919 + j * 104729) % 26);
        store[i][0] = (unsigned char)('a' + i % 26);
        store[i][1] = (unsigned char)('a' + (i / 26) % 26);
        store[i][2] = (unsigned char)('a' + (i / 676) % 26);
        big[i].bytes = store[i];
        big[i].len = L;
        big[i].id = (uint32_t)i;
    }
    CHECK_OK(pp_ac_build(big, NP, &ac));
    CHECK(pp_ac_states(ac) > 32768);
    CHECK(!pp_ac_narrow(ac));
    CHECK_EQ(pp_ac_scan_all(ac, store[1234], L, NULL, 0), 1);
    pp_ac_free(ac);
}

TEST(ac_streams_each_match_once) {
    /* one pattern per segment boundary region and one spanning all four segments of a
    ** 40-byte text (segments of 10 bytes): each reported exactly once, at its place */
    const char *text = "aaaaaaaaabbbbbbbbbbccccccccccdddddddddd";
    pp_ac_pattern p[] = {{"ab", 2, 1}, {"bc", 2, 2}, {"cd", 2, 3},
                         {"aabbbbbbbbbbccccccccccdd", 24, 4}, {"a", 1, 5}, {"d", 1, 6}};
    pp_ac *ac = NULL;
    CHECK_OK(pp_ac_build(p, 6, &ac));
    pp_ac_match m[64];
    size_t n = pp_ac_scan_all(ac, text, strlen(text), m, 64);
    CHECK_EQ(n, 3 + 1 + 9 + 10);
    qsort(m, n < 64 ? n : 64, sizeof m[0], cmp_match);
    int seen[7] = {0};
    for (size_t i = 0; i < n && i < 64; i++) {
        seen[m[i].id]++;
        CHECK_EQ(memcmp(text + m[i].start, p[m[i].id - 1].bytes, m[i].end - m[i].start), 0);
        CHECK_EQ(m[i].end - m[i].start, p[m[i].id - 1].len);
    }
    CHECK_EQ(seen[1], 1); CHECK_EQ(seen[2], 1); CHECK_EQ(seen[3], 1); CHECK_EQ(seen[4], 1);
    CHECK_EQ(seen[5], 9); CHECK_EQ(seen[6], 10);
    pp_ac_free(ac);
}

TEST(ac_checker_can_fail) {
    /* a model that drops matches at the very end must be caught */
    CHECK(compare_random(3, 0, 1, 40) > 0);
}

TEST(ac_basic_and_order) {
    pp_ac_pattern p[] = {{"he", 2, 1}, {"she", 3, 2}, {"his", 3, 3}, {"hers", 4, 4}};
    pp_ac *ac = NULL;
    CHECK_OK(pp_ac_build(p, 4, &ac));
    pp_ac_match m[8];
    size_t n = pp_ac_scan_all(ac, "ushers", 6, m, 8);
    CHECK_EQ(n, 3);
    /* sorted by end, then start: she(1..4), he(2..4), hers(2..6) */
    qsort(m, 3, sizeof m[0], cmp_match);
    CHECK_EQ(m[0].id, 2); CHECK_EQ(m[0].start, 1); CHECK_EQ(m[0].end, 4);
    CHECK_EQ(m[1].id, 1); CHECK_EQ(m[1].start, 2);
    CHECK_EQ(m[2].id, 4); CHECK_EQ(m[2].end, 6);
    CHECK_EQ(pp_ac_scan_all(ac, "", 0, m, 8), 0);
    CHECK_EQ(pp_ac_scan_all(ac, "xyz", 3, m, 8), 0);
    /* cap: counts all, stores cap */
    CHECK_EQ(pp_ac_scan_all(ac, "ushers", 6, m, 1), 3);
    CHECK(pp_ac_states(ac) == 10);  /* root + h,he,her,hers,hi,his,s,sh,she */
    CHECK(pp_ac_classes(ac) == 6); /* class 0 + e,h,i,r,s */
    CHECK(pp_ac_memory(ac) > 0);
    pp_ac_free(ac);
}

TEST(ac_rejects_empty_pattern) {
    pp_ac_pattern p[] = {{"a", 1, 1}, {"", 0, 2}};
    pp_ac *ac = (pp_ac *)1;
    CHECK_EQ(pp_ac_build(p, 2, &ac), PARAPET_ERR_ARG);
    CHECK(ac == NULL);
    pp_ac_free(NULL);
}

TEST(ac_no_patterns) {
    pp_ac *ac = NULL;
    CHECK_OK(pp_ac_build(NULL, 0, &ac));
    pp_ac_match m[1];
    CHECK_EQ(pp_ac_scan_all(ac, "abc", 3, m, 1), 0);
    pp_ac_free(ac);
}

static int stop_cb(void *ctx, uint32_t s, uint32_t e, uint32_t id) {
    (*(int *)ctx)++;
    return 7;
}

TEST(ac_callback_stops) {
    pp_ac_pattern p[] = {{"a", 1, 1}};
    pp_ac *ac = NULL;
    CHECK_OK(pp_ac_build(p, 1, &ac));
    int calls = 0;
    CHECK_EQ(pp_ac_scan(ac, "aaaa", 4, stop_cb, &calls), 7);
    CHECK_EQ(calls, 1);
    calls = 0; /* a text long enough to be scanned as interleaved streams */
    CHECK_EQ(pp_ac_scan(ac, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 40, stop_cb, &calls), 7);
    CHECK_EQ(calls, 1);
    pp_ac_free(ac);
}

TEST(ac_build_oom_cleans_up) {
    pp_ac_pattern p[] = {{"abc", 3, 1}, {"bcd", 3, 2}, {"x", 1, 3}};
    for (long k = 0; k < 40; k++) {
        pp_alloc_fail_after(k);
        pp_ac *ac = NULL;
        pp_status st = pp_ac_build(p, 3, &ac);
        pp_alloc_fail_after(-1);
        if (st == PARAPET_OK) {
            pp_ac_match m[4];
            CHECK_EQ(pp_ac_scan_all(ac, "abcd", 4, m, 4), 2);
            pp_ac_free(ac);
            return;
        }
        CHECK_EQ(st, PARAPET_ERR_NOMEM);
        CHECK(ac == NULL);
    }
    CHECK_MSG(0, "build never succeeded");
}
