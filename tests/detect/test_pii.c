/* tests for src/detect/pii.c: every PII type with positives and negatives, spans in
** the original text, and the normalizer-dependent cases (fullwidth digits,
** zero-width characters inside a number). */
#include "test.h"
#include "detect/detector.h"
#include "scan_helper.h"

/* Hits of the last scan, copied out, and the text they point into. */
static pp_hit hits[64];
static int n_hits;
static const char *last_text;
static float pii_score;

/* Normalizes and scans `txt` with the PII detector; returns the number of hits or
** -1 on an error. */
static int scan(const char *txt) {
    last_text = txt;
    n_hits = pt_detector_scan(&pp_pii_detector, txt, hits, 64, PP_CAT_PII, &pii_score);
    if (n_hits < 0) {
        int e = n_hits;
        n_hits = 0;
        return e;
    }
    return n_hits;
}

/* The original text of hit h (static buffer). */
static const char *hit_text(int h) {
    static char buf[256];
    size_t L = hits[h].end - hits[h].start;
    if (L >= sizeof buf) L = sizeof buf - 1;
    memcpy(buf, last_text + hits[h].start, L);
    buf[L] = 0;
    return buf;
}

/* Index of the first hit of `kind`, or -1. */
static int find(int kind) {
    for (int i = 0; i < n_hits; i++)
        if (hits[i].kind == kind) return i;
    return -1;
}

/* Scans txt and expects exactly one hit of `kind` covering `want`. */
#define EXPECT_ONE(txt, kind_, want, rule_)                                      \
    do {                                                                         \
        CHECK_EQ(scan(txt), 1);                                                  \
        CHECK_EQ(hits[0].kind, kind_);                                           \
        CHECK_STR(hit_text(0), want);                                            \
        if (rule_) CHECK_STR(hits[0].rule, (const char *)rule_);                 \
        CHECK_EQ(hits[0].detector, PP_DET_PII);                                  \
        CHECK_EQ(hits[0].cat, PP_CAT_PII);                                       \
    } while (0)
#define EXPECT_NONE(txt)                                                         \
    do {                                                                         \
        int pt_n = scan(txt);                                                    \
        CHECK_MSG(pt_n == 0, "expected no PII in \"%s\", got %d (first: %s \"%s\")", \
                  txt, pt_n, pt_n > 0 ? hits[0].rule : "-", pt_n > 0 ? hit_text(0) : ""); \
    } while (0)

/* ------------------------------------------------------------------ email */

TEST(pii_email_found_without_trailing_dot) {
    EXPECT_ONE("write to john.doe+tag@example.co.uk.", PP_KIND_EMAIL, "john.doe+tag@example.co.uk", "email");
    CHECK(hits[0].score >= 0.9f);
    CHECK(pii_score >= 0.9f);
    EXPECT_ONE("<a_b-c@mail-server.example.org>", PP_KIND_EMAIL, "a_b-c@mail-server.example.org", "email");
}

TEST(pii_email_negatives) {
    EXPECT_NONE("RT @mayasolovely: as a woman");
    EXPECT_NONE("a@b and john@localhost");
    EXPECT_NONE("x@example.c");
    EXPECT_NONE("foo@bar..com");
    EXPECT_NONE("user.@example.com");
    EXPECT_NONE("meet me @ 5 at the bar");
    EXPECT_NONE("foo@-bar.com");
    EXPECT_NONE("foo@bar.c0m");
}

/* ------------------------------------------------------------------ cards */

TEST(pii_card_test_numbers_by_network) {
    EXPECT_ONE("card 4111 1111 1111 1111 exp 12/29", PP_KIND_CARD, "4111 1111 1111 1111", "card.visa");
    CHECK(hits[0].score >= 0.9f);
    EXPECT_ONE("mc: 5555-5555-5555-4444.", PP_KIND_CARD, "5555-5555-5555-4444", "card.mastercard");
    EXPECT_ONE("amex 378282246310005", PP_KIND_CARD, "378282246310005", "card.amex");
    EXPECT_ONE("amex 3782 822463 10005 ok", PP_KIND_CARD, "3782 822463 10005", "card.amex");
    EXPECT_ONE("4111111111111111", PP_KIND_CARD, "4111111111111111", "card.visa");
    EXPECT_ONE("disc 6011111111111117", PP_KIND_CARD, "6011111111111117", "card.discover");
    EXPECT_ONE("jcb 3530111333300000", PP_KIND_CARD, "3530111333300000", "card.jcb");
    EXPECT_ONE("diners 30569309025904", PP_KIND_CARD, "30569309025904", "card.diners");
    EXPECT_ONE("mc2 2221000000000009", PP_KIND_CARD, "2221000000000009", "card.mastercard");
}

TEST(pii_card_negatives_luhn_iin_shape) {
    EXPECT_NONE("4111 1111 1111 1112");          /* Luhn-invalid */
    EXPECT_NONE("4111111111111112");
    EXPECT_NONE("1234 5678 9012 3452");           /* Luhn-valid, no IIN range */
    EXPECT_NONE("ISBN 9780306406157");            /* Luhn/ISBN-13, prefix 9 */
    EXPECT_NONE("ISBN 978-3-16-148410-0");
    EXPECT_NONE("ref 41111111111111111111111");   /* too long */
    EXPECT_NONE("x4111111111111111");             /* glued to a word */
    EXPECT_NONE("411 11111 1111 1111");           /* not a card grouping */
}

/* ------------------------------------------------------------------- IBAN */

TEST(pii_iban_spaced_and_solid) {
    EXPECT_ONE("pay GB82 WEST 1234 5698 7654 32 today", PP_KIND_IBAN, "GB82 WEST 1234 5698 7654 32", "iban");
    CHECK(hits[0].score >= 0.9f);
    EXPECT_ONE("IBAN: DE89 3704 0044 0532 0130 00.", PP_KIND_IBAN, "DE89 3704 0044 0532 0130 00", "iban");
    EXPECT_ONE("(DE89370400440532013000)", PP_KIND_IBAN, "DE89370400440532013000", "iban");
}

TEST(pii_iban_negatives) {
    EXPECT_NONE("GB82 WEST 1234 5698 7654 33");   /* mod-97 fails */
    EXPECT_NONE("GB83WEST12345698765432");
    EXPECT_NONE("ZZ82 WEST 1234 5698 7654 32");   /* unknown country */
    EXPECT_NONE("GB82 WEST 1234");                /* too short */
    EXPECT_NONE("DE89370400440532013000123");     /* too long */
    EXPECT_NONE("flight LH12 and AB12 34");
}

/* -------------------------------------------------------------------- SSN */

TEST(pii_ssn_dashed_and_context) {
    EXPECT_ONE("my ssn is 123-45-6789", PP_KIND_SSN, "123-45-6789", "ssn");
    EXPECT_ONE("id 078-05-1120.", PP_KIND_SSN, "078-05-1120", "ssn");
    EXPECT_ONE("Social Security number: 123456789", PP_KIND_SSN, "123456789", "ssn.context");
    EXPECT_ONE("SSN 123 45 6789", PP_KIND_SSN, "123 45 6789", "ssn.context");
}

TEST(pii_ssn_never_issued_ranges_and_bare_numbers) {
    EXPECT_NONE("000-12-3456");
    EXPECT_NONE("666-12-3456");
    EXPECT_NONE("912-34-5678");
    EXPECT_NONE("123-00-4567");
    EXPECT_NONE("123-45-0000");
    EXPECT_NONE("order 123456789 shipped");       /* bare 9 digits, no context */
    EXPECT_NONE("ssn 000000000");
}

/* ------------------------------------------------------------------- IPv4 */

TEST(pii_ipv4) {
    EXPECT_ONE("server at 192.168.1.20.", PP_KIND_IPV4, "192.168.1.20", "ipv4");
    EXPECT_ONE("ssh 10.0.0.1:22", PP_KIND_IPV4, "10.0.0.1", "ipv4");
    CHECK(hits[0].score >= 0.5f && hits[0].score <= 0.8f);
}

TEST(pii_ipv4_negatives) {
    EXPECT_NONE("version 1.2.3.4.5");
    EXPECT_NONE("256.1.1.1");
    EXPECT_NONE("1.2.3 and 01.2.3.4");
    EXPECT_NONE("v1.2.3.4");
    EXPECT_NONE("version 1.2.3.4");
}

/* ------------------------------------------------------------------- IPv6 */

TEST(pii_ipv6_full_compressed_mapped) {
    EXPECT_ONE("host 2001:0db8:85a3:0000:0000:8a2e:0370:7334 up", PP_KIND_IPV6,
               "2001:0db8:85a3:0000:0000:8a2e:0370:7334", "ipv6");
    EXPECT_ONE("ping 2001:db8::1.", PP_KIND_IPV6, "2001:db8::1", "ipv6");
    EXPECT_ONE("listen on ::1", PP_KIND_IPV6, "::1", "ipv6");
    EXPECT_ONE("fe80::1ff:fe23:4567:890a", PP_KIND_IPV6, "fe80::1ff:fe23:4567:890a", "ipv6");
    EXPECT_ONE("mapped ::ffff:192.0.2.128 here", PP_KIND_IPV6, "::ffff:192.0.2.128", "ipv6");
}

TEST(pii_ipv6_negatives) {
    EXPECT_NONE("at 12:30:45 today");
    EXPECT_NONE("std::vector<int> and Foo::bar");
    EXPECT_NONE("1:2:3:4:5:6:7");
    EXPECT_NONE("mac 00:1A:2B:3C:4D:5E");
    EXPECT_NONE("x :: Int");
    EXPECT_NONE("1::2::3");
    EXPECT_NONE("John 3:16");
}

/* ----------------------------------------------------------------- phones */

TEST(pii_phone_international_and_national_formats) {
    struct { const char *txt, *want, *rule; } c[] = {
        {"call +1 (415) 555-2671 now", "+1 (415) 555-2671", "phone.e164"},
        {"+44 20 7946 0958", "+44 20 7946 0958", "phone.e164"},
        {"tel. +91 98765 43210", "+91 98765 43210", "phone.e164"},
        {"+4930123456789", "+4930123456789", "phone.e164"},
        {"office (415) 555-2671", "(415) 555-2671", "phone.nanp"},
        {"office 415-555-2671.", "415-555-2671", "phone.nanp"},
        {"office 415.555.2671", "415.555.2671", "phone.nanp"},
        {"1-800-555-0199", "1-800-555-0199", "phone.nanp"},
        {"London 020 7946 0958", "020 7946 0958", "phone.national"},
        {"mobile 07700 900123", "07700 900123", "phone.national"},
        {"Berlin 030 12345678", "030 12345678", "phone.national"},
        {"Paris 06 12 34 56 78", "06 12 34 56 78", "phone.national"},
        {"India 98765 43210", "98765 43210", "phone.in"},
        {"Beijing 138 0013 8000", "138 0013 8000", "phone.cn"},
        {"phone: 4155552671", "4155552671", "phone.context"},
    };
    for (size_t i = 0; i < PP_ARRAY_LEN(c); i++) {
        int n = scan(c[i].txt);
        CHECK_MSG(n == 1, "\"%s\": %d hits", c[i].txt, n);
        CHECK_EQ(hits[0].kind, PP_KIND_PHONE);
        CHECK_STR(hit_text(0), c[i].want);
        CHECK_STR(hits[0].rule, c[i].rule);
        CHECK_MSG(hits[0].score >= 0.6f && hits[0].score <= 0.8f, "\"%s\": weight %g",
                  c[i].txt, hits[0].score);
    }
}

TEST(pii_phone_negatives_dates_prices_versions) {
    EXPECT_NONE("call me at 5pm");
    EXPECT_NONE("it costs $1,299.99 or 1,299,000 EUR");
    EXPECT_NONE("due 2024-01-15 and 15/01/2024");
    EXPECT_NONE("call me on 2024-01-15");
    EXPECT_NONE("version 1.2.3.4.5");
    EXPECT_NONE("order number 123456789012");
    EXPECT_NONE("population 12345678 in 2020");
    EXPECT_NONE("score 3-2, 10 - 4, 1/2 cup");
    EXPECT_NONE("between 1990 and 2024 there were 1200 cases");
    EXPECT_NONE("415-555-26712");                 /* no layout fits */
}

/* Several numbers in one text, each found with its own span. */
TEST(pii_mixed_text_reports_each_item) {
    const char *t = "Mail a@example.com, card 4111-1111-1111-1111, call (415) 555-2671, ip 8.8.8.8";
    CHECK_EQ(scan(t), 4);
    CHECK_STR(hit_text(find(PP_KIND_EMAIL)), "a@example.com");
    CHECK_STR(hit_text(find(PP_KIND_CARD)), "4111-1111-1111-1111");
    CHECK_STR(hit_text(find(PP_KIND_PHONE)), "(415) 555-2671");
    CHECK_STR(hit_text(find(PP_KIND_IPV4)), "8.8.8.8");
    CHECK_STR(pp_kind_placeholder(PP_KIND_CARD), "CARD");
    CHECK_STR(pp_kind_placeholder(PP_KIND_IPV6), "IP_ADDRESS");
}

/* ------------------------------------------- normalizer-dependent offsets */

/* A card in fullwidth digits: NFKC makes it ASCII in the base view; the span must
** cover exactly the original fullwidth bytes.  Needs the full normalizer. */
TEST(pii_card_in_fullwidth_digits_maps_to_original_bytes) {
    const char *t = "pay \xEF\xBC\x94\xEF\xBC\x91\xEF\xBC\x91\xEF\xBC\x91 "      /* ４１１１ */
                    "\xEF\xBC\x91\xEF\xBC\x91\xEF\xBC\x91\xEF\xBC\x91 "
                    "\xEF\xBC\x91\xEF\xBC\x91\xEF\xBC\x91\xEF\xBC\x91 "
                    "\xEF\xBC\x91\xEF\xBC\x91\xEF\xBC\x91\xEF\xBC\x91 now";
    CHECK_EQ(scan(t), 1);
    CHECK_EQ(hits[0].kind, PP_KIND_CARD);
    CHECK_EQ(hits[0].start, 4);
    CHECK_EQ(hits[0].end, strlen(t) - 4);
}

/* A zero-width space smuggled into a card number is removed by the normalizer; the
** span covers the original bytes including it.  Needs the full normalizer. */
TEST(pii_card_with_zero_width_space_inside) {
    const char *t = "no 4111\xE2\x80\x8B" "111111111111 ok";
    CHECK_EQ(scan(t), 1);
    CHECK_EQ(hits[0].kind, PP_KIND_CARD);
    CHECK_STR(hit_text(0), "4111\xE2\x80\x8B" "111111111111");
    CHECK(hits[0].transforms & PARAPET_XF_INVISIBLE);
}

TEST(pii_empty_and_trigger_only_texts) {
    CHECK_EQ(scan(""), 0);
    CHECK_EQ(scan("@"), 0);
    CHECK_EQ(scan(":"), 0);
    CHECK_EQ(scan("::"), 0);
    CHECK_EQ(scan("9"), 0);
    CHECK_EQ(scan("+"), 0);
    CHECK_EQ(scan("GB8"), 0);
    CHECK_EQ(scan("a@b."), 0);
}

/* The scan skips 16 bytes at a time to the next digit, '@' or ':': each trigger must
** be found whatever its offset within a 16-byte block. */
TEST(pii_found_at_every_block_offset) {
    static const char pad[] = "a b cc dd eee ff gg hhh iii jj k l mm nn ooo pp";
    char buf[256];
    for (int k = 0; k < 34; k++) {
        snprintf(buf, sizeof buf, "%.*s jane.doe@example.com end", k, pad);
        EXPECT_ONE(buf, PP_KIND_EMAIL, "jane.doe@example.com", "email");
        snprintf(buf, sizeof buf, "%.*s card 4111 1111 1111 1111 end", k, pad);
        EXPECT_ONE(buf, PP_KIND_CARD, "4111 1111 1111 1111", "card.visa");
        snprintf(buf, sizeof buf, "%.*s at 2001:db8::8a2e:370:7334 end", k, pad);
        EXPECT_ONE(buf, PP_KIND_IPV6, "2001:db8::8a2e:370:7334", "ipv6");
        snprintf(buf, sizeof buf, "%.*s nothing to see here at all, really nothing", k, pad);
        EXPECT_NONE(buf);
    }
}

/* The 16-byte skip to the triggers (the last block read past the text's end, masked)
** against the byte loop alone (pp_pii_set_skips(0)): texts built from prose, numbers,
** e-mails, IPs and stray digits, ':' and '@', of every length up to a few hundred
** bytes and a few long ones; both must report the same hits. */
TEST(pii_skips_match_the_byte_loop) {
    static const char *const piece[] = {
        "a", "the ", "cat ", "sat on ", "understanding ", "jane@example.com ", "@", ":",
        "card 4111 1111 1111 1111 ", "call +1 415 555 2671 ", "10.0.0.1 ", "fe80::1 ",
        "DE89370400440532013000 ", "123-45-6789 ", "7", "42 ", "2024-01-02 ", "a:b ",
        "\xC3\xA9t\xC3\xA9 ", "\n", "x", "Z9", "(415) 555-2671 ",
    };
    pt_skips_match(&pp_pii_detector, pp_pii_set_skips, piece, sizeof piece / sizeof *piece, 777);
}
