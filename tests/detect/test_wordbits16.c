/* tests for src/detect/wordbits16.h: the SSE2 kernel against its scalar reference on
** random blocks at unaligned addresses, and the reference by hand. */
#include "test.h"
#include "detect/wordbits16.h"

static unsigned long long rng = 0x9E3779B97F4A7C15ull;
static unsigned rnd(void) { return pt_xorshift(&rng); }

TEST(wordbits16_kernel_equals_reference) {
#if !defined(__SSE2__)
    SKIP("no SSE2 kernel on this architecture: only the reference is built");
#else
    static const char pick[] = "aazAZ0099 .!?;\n,:'`@[{~\x7f\x01/-";
    unsigned char buf[48];
    for (int iter = 0; iter < 200000; iter++) {
        size_t off = rnd() % 32;
        for (size_t k = 0; k < 16; k++)
            buf[off + k] = rnd() % 3 ? (unsigned char)pick[rnd() % (sizeof pick - 1)]
                                     : (unsigned char)rnd();
        unsigned prev = rnd() % 2 ? (unsigned char)pick[rnd() % (sizeof pick - 1)] : (unsigned)(rnd() & 0xFF);
        pp_wordbits16 r, v;
        pp_wordbits16_ref(buf + off, prev, &r);
        pp_wordbits16_sse2(buf + off, prev, &v);
        CHECK_MSG(r.word == v.word && r.sent == v.sent && r.soft == v.soft &&
                      r.upper == v.upper && r.high == v.high && r.rep == v.rep,
                  "iteration %d: word %x/%x sent %x/%x soft %x/%x upper %x/%x high %x/%x rep %x/%x",
                  iter, r.word, v.word, r.sent, v.sent, r.soft, v.soft, r.upper, v.upper,
                  r.high, v.high, r.rep, v.rep);
    }
#endif
}

TEST(wordbits16_reference_by_hand) {
    pp_wordbits16 m;
    /*                                          0123456789abcde */
    pp_wordbits16_ref((const unsigned char *)"ab, C9.\n\xE2:x?;!Z", ' ', &m);
    CHECK_EQ(m.word, 0x0423);    /* a b 9 x */
    CHECK_EQ(m.sent, 0x38C0);    /* . \n ? ; ! */
    CHECK_EQ(m.soft, 0x0204);    /* , : */
    CHECK_EQ(m.upper, 0x4010);   /* C Z */
    CHECK_EQ(m.high, 0x0100);    /* \xE2 */
    CHECK_EQ(m.rep, 0);
    pp_wordbits16_ref((const unsigned char *)"all 2000 ..xx  b", 'a', &m);
    CHECK_EQ(m.rep, 0x10C5);     /* a (after the a before), l, 0, 0, x; not the dot or the space */
}
