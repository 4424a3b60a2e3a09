/* tests for src/detect/payload16.h: the SSE2 skips against their scalar references
** on random texts (mostly prose, with base64-looking stretches, '%' and '\' and
** non-ASCII bytes), from every start offset, at unaligned addresses. */
#include "test.h"
#include "detect/payload16.h"

static unsigned long long rng = 0xD1B54A32D192ED03ull;
static unsigned rnd(void) { return pt_xorshift(&rng); }

static unsigned char rnd_byte(void) {
    static const char pick[] = "abcXYZ019+/=-_ .,%\\:\n*";
    switch (rnd() % 8) {
    case 0: return (unsigned char)rnd();
    case 1: return (unsigned char)(0x2B + rnd() % (0x7A - 0x2B + 1)); /* in range */
    default: return (unsigned char)pick[rnd() % (sizeof pick - 1)];
    }
}

TEST(payload16_skips_equal_their_references) {
#if !defined(__SSE2__)
    SKIP("no SSE2 kernels on this architecture: only the references are built");
#else
    unsigned char buf[160];
    for (int iter = 0; iter < 20000; iter++) {
        size_t off = rnd() % 16, n = rnd() % 140;
        int dense = rnd() % 3; /* long stretches of in-range bytes, or of prose */
        for (size_t k = 0; k < n; k++)
            buf[off + k] = dense == 2 ? (unsigned char)('a' + rnd() % 26)
                         : dense ? (unsigned char)(0x2B + rnd() % 0x50) : rnd_byte();
        /* a break or two in a dense stretch: runs of every length around 16 */
        for (int b = rnd() % 3; dense && n && b > 0; b--)
            buf[off + rnd() % n] = (unsigned char)" %\xC3="[rnd() % 4];
        const unsigned char *s = buf + off;
        for (size_t k = 0; k <= n; k += 8)
            CHECK_MSG(pp_b64_block_ref(s, k, n) == pp_b64_block_sse2(s, k, n),
                      "iteration %d: block from %zu of %zu: %zu vs %zu", iter, k, n,
                      pp_b64_block_ref(s, k, n), pp_b64_block_sse2(s, k, n));
        for (size_t k = 0; k <= n; k++)
            CHECK_MSG(pp_b64_run16_ref(s, k, n) == pp_b64_run16_sse2(s, k, n),
                      "iteration %d: run from %zu of %zu: %zu vs %zu", iter, k, n,
                      pp_b64_run16_ref(s, k, n), pp_b64_run16_sse2(s, k, n));
        for (size_t i = 0; i <= n; i++)
            CHECK_MSG(pp_escape_lead_ref(s, i, n) == pp_escape_lead_sse2(s, i, n),
                      "iteration %d: lead from %zu of %zu", iter, i, n);
    }
#endif
}

TEST(payload16_references_by_hand) {
    const unsigned char *s = (const unsigned char *)"hello world, aGVsbG8gd29ybGQh and 50% off \\x41";
    size_t n = strlen((const char *)s);
    CHECK_EQ(pp_b64_block_ref(s, 0, n), 16);  /* "sbG8gd29", the first whole block of them */
    CHECK_EQ(pp_b64_block_ref(s, 24, n), n);  /* none after */
    CHECK_EQ(pp_b64_run16_ref(s, 0, n), 29);  /* "aGVsbG8gd29ybGQh": 16 digits from 13 */
    CHECK_EQ(pp_escape_lead_ref(s, 0, n), 36); /* the '%' */
    CHECK_EQ(pp_escape_lead_ref(s, 37, n), 42); /* the backslash */
    CHECK_EQ(pp_escape_lead_ref(s, 43, n), n);
    CHECK_EQ(pp_b64_run16_ref(s, 14, n), 0);  /* none after: 15 digits from 14 */
    CHECK_EQ(pp_b64_run16_ref((const unsigned char *)"abcdefghijklmnop", 0, 16), 16);
    CHECK_EQ(pp_b64_run16_ref((const unsigned char *)"abcdefghijklmno.", 0, 16), 0);
}
