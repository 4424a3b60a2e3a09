/* tests for src/text/ideo16.h: the SSE2 kernels against their scalar references on
** random blocks made mostly of ideographs, their edges (E4 B7 / E4 B8, E9 BF BF /
** EA 80 80), other 3-byte characters and stray bytes, at unaligned addresses. */
#include "test.h"
#include "text/ideo16.h"
#include <string.h>

static unsigned long long rng = 0x9E3779B97F4A7C15ull;
static unsigned rnd(void) { return pt_xorshift(&rng); }

/* Appends one random piece (mostly a whole character) at p; returns its length. */
static size_t rnd_piece(unsigned char *p) {
    static const unsigned char edges[][3] = {
        {0xE4, 0xB8, 0x80}, {0xE4, 0xB7, 0xBF}, {0xE9, 0xBF, 0xBF}, {0xEA, 0x80, 0x80},
        {0xE3, 0x80, 0x82}, {0xEF, 0xBC, 0x8C}, {0xE5, 0x80, 0x41}, {0xE6, 0x41, 0x80}};
    switch (rnd() % 6) {
    case 0: case 1: case 2: { /* an ideograph, often the same one again */
        unsigned lead = 0xE5 + rnd() % 5;
        if (rnd() % 4 == 0) { p[0] = 0xE4; p[1] = 0xB8 + rnd() % 8; }
        else { p[0] = (unsigned char)lead; p[1] = 0x80 + rnd() % 2; }
        p[2] = 0x80 + rnd() % 2;
        return 3;
    }
    case 3: memcpy(p, edges[rnd() % 8], 3); return 3;
    case 4: p[0] = (unsigned char)("a ,."[rnd() % 4]); return 1;
    default: p[0] = (unsigned char)rnd(); return 1;
    }
}

TEST(ideo16_kernels_equal_their_references) {
#if !defined(__SSE2__)
    SKIP("no SSE2 kernels on this architecture: only the references are built");
#else
    unsigned char buf[96];
    for (int iter = 0; iter < 200000; iter++) {
        size_t off = rnd() % 32, len = 0; /* unaligned on purpose */
        while (len < 20) len += rnd_piece(buf + off + len);
        unsigned sr, sv;
        unsigned r = pp_ideo16_scan_ref(buf + off, &sr), v = pp_ideo16_scan_sse2(buf + off, &sv);
        CHECK_MSG(r == v && sr == sv, "iteration %d: count %u/%u same %x/%x", iter, r, v, sr, sv);
        CHECK_EQ(pp_ideo16_count_ref(buf + off), pp_ideo16_count_sse2(buf + off));
    }
#endif
}

/* The references say what the loops rely on; pin them by hand too. */
TEST(ideo16_reference_by_hand) {
    /* 一 (E4 B8 80) 中 (E4 B8 AD) 中 then a fullwidth comma (not counted) */
    const unsigned char a[16] = {0xE4, 0xB8, 0x80, 0xE4, 0xB8, 0xAD, 0xE4, 0xB8, 0xAD,
                                 0xEF, 0xBC, 0x8C, 'x', 0, 0, 0};
    unsigned same;
    CHECK_EQ(pp_ideo16_scan_ref(a, &same), 3);
    CHECK_EQ(same, 1u << 2);
    CHECK_EQ(pp_ideo_cp(a + 3), 0x4E2D);
    /* U+4DFF (E4 B7 BF) is below the range; U+9FFF (E9 BF BF) is the last one */
    const unsigned char b[16] = {0xE9, 0xBF, 0xBF, 0xE4, 0xB7, 0xBF};
    CHECK_EQ(pp_ideo16_count_ref(b), 1);
    /* five in a row is the most a block holds */
    unsigned char c[16];
    for (int q = 0; q < 5; q++) memcpy(c + 3 * q, "\xE5\xA5\xBD", 3);
    c[15] = 0xE5;
    CHECK_EQ(pp_ideo16_scan_ref(c, &same), 5);
    CHECK_EQ(same, 0x1Eu);
}
