/* tests for src/core: buffers, JSON escaping, sha256, allocation hook. */
#include "test.h"
#include "core/core.h"

TEST(sha256_known_vectors) {
    char h[65];
    pp_sha256_hex("", 0, h);
    CHECK_STR(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    pp_sha256_hex("abc", 3, h);
    CHECK_STR(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    pp_sha256_hex(m, strlen(m), h);
    CHECK_STR(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(buf_json_escapes_control_quotes_and_invalid_utf8) {
    pp_buf b;
    pp_buf_init(&b);
    pp_buf_json_str(&b, "a\"b\\c\n\x01\xff\xc3\xa9", 10);
    CHECK_STR(b.p, "a\\\"b\\\\c\\n\\u0001\xEF\xBF\xBD\xc3\xa9");
    pp_buf_free(&b);
}

TEST(buf_reports_oom_once_and_detach_fails) {
    pp_buf b;
    pp_buf_init(&b);
    pp_alloc_fail_after(0);
    pp_buf_puts(&b, "hello");
    pp_alloc_fail_after(-1);
    CHECK(b.oom);
    pp_buf_puts(&b, "more");
    CHECK(b.oom);
    size_t n;
    CHECK(pp_buf_detach(&b, &n) == NULL);
}

TEST(status_messages_cover_every_code) {
    CHECK_STR(parapet_strerror(PARAPET_OK), "ok");
    CHECK_STR(parapet_strerror(PARAPET_ERR_UTF8), "invalid UTF-8 in input");
    CHECK_STR(parapet_strerror((parapet_status)9999), "unknown status");
    CHECK_STR(parapet_version(), PARAPET_VERSION_STRING);
    CHECK_EQ(parapet_version_num(), PARAPET_VERSION_NUM);
}

TEST(embedded_default_policy_present) {
    const pp_blob *b = pp_embedded_find("policies/default.yaml");
    CHECK(b != NULL);
    CHECK(b->len > 0);
    CHECK(pp_embedded_find("no/such/file") == NULL);
}
