/* tests for src/text/utf8.c: the fast code-point count against the decoding one. */
#include "test.h"
#include "text/text.h"
#include <stdlib.h>

TEST(utf8_count_valid_matches_decoding_count) {
    static const char *pieces[] = {"a", "z ", "\xc3\xa9", "\xe4\xbd\xa0", "\xf0\x9f\x98\x80", "\n", "\xd0\xb6"};
    char buf[512];
    srand(7);
    for (int round = 0; round < 2000; round++) {
        size_t n = 0;
        while (n < 400) {
            const char *p = pieces[rand() % 7];
            size_t k = strlen(p);
            memcpy(buf + n, p, k);
            n += k;
            if (rand() % 17 == 0) break;
        }
        size_t off = (size_t)(rand() % 5);
        if (off > n) off = n;
        while (off < n && ((unsigned char)buf[off] & 0xC0) == 0x80) off++;
        CHECK_EQ(pp_utf8_count_valid(buf + off, n - off), pp_utf8_count(buf + off, n - off));
    }
    CHECK_EQ(pp_utf8_count_valid("", 0), 0);
    CHECK_EQ(pp_utf8_count_valid("h\xc3\xa9llo w\xc3\xb6rld \xf0\x9f\x98\x80", 17), 13);
    /* long texts: the SIMD count sums its byte counters every 255 blocks of 16 */
    static char big[20000];
    for (int round = 0; round < 20; round++) {
        size_t n = 0;
        while (n + 4 <= sizeof big) {
            const char *p = pieces[rand() % 7];
            memcpy(big + n, p, strlen(p));
            n += strlen(p);
        }
        size_t len = (size_t)rand() % (n + 1);
        while (len < n && ((unsigned char)big[len] & 0xC0) == 0x80) len++;
        CHECK_EQ(pp_utf8_count_valid(big, len), pp_utf8_count(big, len));
    }
    memset(big, 0xE4, sizeof big); /* all lead bytes, then all continuation bytes */
    CHECK_EQ(pp_utf8_count_valid(big, sizeof big), sizeof big);
    memset(big, 0x80, sizeof big);
    CHECK_EQ(pp_utf8_count_valid(big, sizeof big), 0);
}
