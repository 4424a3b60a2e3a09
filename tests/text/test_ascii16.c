/* tests for src/text/ascii16.h: every 16-byte kernel against its scalar reference on
** random blocks (biased towards the bytes the masks care about), with random
** neighbours and at unaligned addresses. */
#include "test.h"
#include "text/ascii16.h"

static unsigned long long rng = 0x2545F4914F6CDD1Dull;
static unsigned rnd(void) { return pt_xorshift(&rng); }

/* A byte drawn mostly from the classes the kernels tell apart. */
static unsigned char rnd_byte(void) {
    static const char pick[] = "aAbBzZ09 \t\n\r\v\f!@$|*#.,-_'`[{~\x7f\x01";
    switch (rnd() % 4) {
    case 0: return (unsigned char)rnd();
    case 1: return (unsigned char)('a' + rnd() % 3); /* runs of one letter */
    default: return (unsigned char)pick[rnd() % (sizeof pick - 1)];
    }
}

TEST(ascii16_kernels_equal_their_references) {
#if !defined(__SSE2__)
    SKIP("no SSE2 kernels on this architecture: only the references are built");
#else
    unsigned char buf[64];
    for (int iter = 0; iter < 200000; iter++) {
        size_t off = rnd() % 32; /* unaligned on purpose */
        for (size_t k = 0; k < 16; k++) buf[off + k] = rnd_byte();
        unsigned prev = rnd_byte(), next = rnd_byte();
        pp_ascii16 r, v;
        pp_ascii16_masks_ref(buf + off, prev, next, &r);
        pp_ascii16_masks_sse2(buf + off, prev, next, &v);
        CHECK_MSG(r.bad == v.bad && r.single == v.single && r.drop == v.drop &&
                      r.upper == v.upper,
                  "iteration %d: bad %x/%x single %x/%x drop %x/%x upper %x/%x", iter, r.bad,
                  v.bad, r.single, v.single, r.drop, v.drop, r.upper, v.upper);
        char fr[16], fv[16];
        pp_ascii16_fold_ref(fr, buf + off);
        pp_ascii16_fold_sse2(fv, buf + off);
        CHECK_MSG(!memcmp(fr, fv, 16), "iteration %d: fold differs", iter);
        uint16_t src[16], xr[16], xv[16];
        for (int k = 0; k < 16; k++) src[k] = (uint16_t)(rnd() & 0x1FF);
        pp_ascii16_xf_ref(xr, src, buf + off);
        pp_ascii16_xf_sse2(xv, src, buf + off);
        CHECK_MSG(!memcmp(xr, xv, sizeof xr), "iteration %d: xf differs", iter);
    }
#endif
}

/* The 64-byte masks against their reference (which is made of the 16-byte one), on
** random 64-byte spans at unaligned addresses, with runs of one class long enough
** to cross the blocks' edges, which the 64-bit shifts must carry. */
TEST(ascii64_masks_equal_their_reference) {
#if !defined(__SSE2__)
    SKIP("no SSE2 kernels on this architecture: only the references are built");
#else
    unsigned char buf[128];
    for (int iter = 0; iter < 200000; iter++) {
        size_t off = rnd() % 48;
        /* mostly prose bytes (rare non-ASCII and leet bytes, which end what the
        ** caller reads), so the blocks after the first matter */
        for (size_t k = 0; k < 64;) {
            static const char prose[] = "aAbBzZ09  \t\n.,-_'!";
            unsigned char c = rnd() % 24 ? (unsigned char)prose[rnd() % (sizeof prose - 1)]
                                         : rnd_byte();
            size_t run = rnd() % 4 ? 1 : 1 + rnd() % 20;
            for (; run && k < 64; run--, k++) buf[off + k] = c;
        }
        size_t len = rnd() % 3 ? 64 : 1 + rnd() % 64;
        if (len < 64) buf[off + len] = 0; /* the caller's text ends there */
        unsigned prev = rnd_byte(), next = len < 64 ? buf[off + 64] : rnd_byte();
        buf[off + 64] = (unsigned char)next;
        pp_ascii64 r, v;
        pp_ascii64_masks_ref(buf + off, len, prev, next, &r);
        pp_ascii64_masks_sse2(buf + off, len, prev, next, &v);
        /* what the caller reads: the first bad byte below len, the masks before it */
        uint64_t valid = len < 64 ? (1ull << len) - 1 : ~0ull;
        uint64_t bad = r.bad & valid, use = bad ? (bad & (0 - bad)) - 1 : valid;
        CHECK_MSG((r.bad & (use | (bad & (0 - bad)))) == (v.bad & (use | (bad & (0 - bad)))) &&
                      (r.single & use) == (v.single & use) && (r.drop & use) == (v.drop & use) &&
                      (r.upper & use) == (v.upper & use),
                  "iteration %d: bad %llx/%llx single %llx/%llx drop %llx/%llx upper %llx/%llx",
                  iter, (unsigned long long)r.bad, (unsigned long long)v.bad,
                  (unsigned long long)r.single, (unsigned long long)v.single,
                  (unsigned long long)r.drop, (unsigned long long)v.drop,
                  (unsigned long long)r.upper, (unsigned long long)v.upper);
    }
#endif
}

/* The byte-class table the 64-byte kernel reads its neighbours' classes from, against
** the scalar predicates, for every byte. */
TEST(ascii64_neighbour_classes_equal_the_predicates) {
    for (unsigned c = 0; c < 256; c++) {
        unsigned want = (unsigned)pp_a16_letter(c) | (unsigned)pp_a16_digit(c) << 1 |
                        (unsigned)pp_a16_space(c) << 2 |
                        (unsigned)(pp_a16_letter(c) || pp_a16_digit(c) || c >= 0x80 ||
                                   pp_a16_special(c))
                            << 3;
        CHECK_MSG(pp_a16_cls[c] == want, "byte %02x: %x, want %x", c, pp_a16_cls[c], want);
    }
}

/* The references say what the fold loop relies on; pin a few cases by hand so a
** reference that drifted would be caught too. */
TEST(ascii16_reference_masks_by_hand) {
    pp_ascii16 m;
    /*                        0123456789abcdef */
    pp_ascii16_masks_ref((const unsigned char *)"Hello  a b2 !x@.", ' ', ' ', &m);
    CHECK_EQ(m.upper, 0x0001);                     /* H */
    CHECK_EQ(m.drop, (1u << 3) | (1u << 6));       /* the second l, the second space */
    CHECK_EQ(m.single, (1u << 7) | (1u << 13));    /* a, x ("b2" is one token) */
    CHECK_EQ(m.bad, (1u << 10) | (1u << 12) | (1u << 14)); /* 2 after b, ! before x, @ */
    char f[17] = {0};
    pp_ascii16_fold_ref(f, (const unsigned char *)"AbC\tz\n!#09 xYZ.,");
    CHECK_STR(f, "abc z !#09 xyz.,");
}
