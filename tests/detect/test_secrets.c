/* tests for src/detect/secrets.c: each key format with a well-formed fake value and
** near-miss negatives, PEM blocks, JWTs built here, assignments, the entropy rule,
** and spans in the original text. */
#include "test.h"
#include "detect/detector.h"
#include "scan_helper.h"

static pp_hit hits[64];
static int n_hits;
static const char *last_text;

/* Normalizes and scans `txt` with the secrets detector; returns the number of hits
** or -1 on an error. */
static int scan(const char *txt) {
    last_text = txt;
    n_hits = pt_detector_scan(&pp_secrets_detector, txt, hits, 64, -1, NULL);
    if (n_hits < 0) {
        int e = n_hits;
        n_hits = 0;
        return e;
    }
    return n_hits;
}

static const char *hit_text(int h) {
    static char buf[1024];
    size_t L = hits[h].end - hits[h].start;
    if (L >= sizeof buf) L = sizeof buf - 1;
    memcpy(buf, last_text + hits[h].start, L);
    buf[L] = 0;
    return buf;
}

#define EXPECT_ONE(txt, kind_, want, rule_)                                      \
    do {                                                                         \
        int pt_n = scan(txt);                                                    \
        CHECK_MSG(pt_n == 1, "\"%s\": %d hits (first: %s)", txt, pt_n,           \
                  pt_n > 0 ? hits[0].rule : "-");                                \
        CHECK_EQ(hits[0].kind, kind_);                                           \
        CHECK_STR(hit_text(0), want);                                            \
        CHECK_STR(hits[0].rule, rule_);                                          \
        CHECK_EQ(hits[0].detector, PP_DET_SECRETS);                              \
        CHECK_EQ(hits[0].cat, PP_CAT_SECRETS);                                   \
    } while (0)
#define EXPECT_NONE(txt)                                                         \
    do {                                                                         \
        int pt_n = scan(txt);                                                    \
        CHECK_MSG(pt_n == 0, "expected no secret in \"%s\", got %d (first: %s \"%s\")", \
                  txt, pt_n, pt_n > 0 ? hits[0].rule : "-", pt_n > 0 ? hit_text(0) : ""); \
    } while (0)

/* For near misses that are still random-looking (and may well be reported by the
** entropy rule): no hit of the specific kind. */
#define EXPECT_NOT_KIND(txt, kind_)                                              \
    do {                                                                         \
        int pt_n = scan(txt);                                                    \
        CHECK(pt_n >= 0);                                                        \
        for (int pt_i = 0; pt_i < pt_n; pt_i++)                                  \
            CHECK_MSG(hits[pt_i].kind != (kind_), "\"%s\": unexpected %s", txt, hits[pt_i].rule); \
    } while (0)

/* "pre" + value + "post" in a static buffer. */
static const char *cat3(const char *pre, const char *val, const char *post) {
    static char buf[2048];
    snprintf(buf, sizeof buf, "%s%s%s", pre, val, post);
    return buf;
}

/* --------------------------------------------------------------------- AWS */

TEST(secrets_aws_access_key_id) {
    EXPECT_ONE("key AKIAIOSFODNN7EXAMPLE here", PP_KIND_AWS_KEY, "AKIAIOSFODNN7EXAMPLE", "aws.access_key");
    CHECK(hits[0].score >= 0.9f);
    EXPECT_ONE("\"ASIAIOSFODNN7EXAMPLE\",", PP_KIND_AWS_KEY, "ASIAIOSFODNN7EXAMPLE", "aws.access_key");
    CHECK_STR(pp_kind_placeholder(PP_KIND_AWS_KEY), "AWS_KEY");
}

TEST(secrets_aws_access_key_negatives) {
    EXPECT_NOT_KIND("AKIAIOSFODNN7EXAMPLEX", PP_KIND_AWS_KEY);         /* 21 characters */
    EXPECT_NONE("AKIA is the prefix of a key id");
    EXPECT_NONE("AKIAiosfodnn7example");           /* lowercase */
    EXPECT_NOT_KIND("AKIAIOSFODNN1EXAMPLE", PP_KIND_AWS_KEY);           /* '1' is not base32 */
    EXPECT_NOT_KIND("xAKIAIOSFODNN7EXAMPLE", PP_KIND_AWS_KEY);
}

TEST(secrets_aws_secret_key_needs_context) {
    EXPECT_ONE("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
               PP_KIND_AWS_SECRET, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws.secret_key");
    EXPECT_ONE("my AWS secret is wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY ok",
               PP_KIND_AWS_SECRET, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws.secret_key");
    /* without context it is at most a generic high-entropy token */
    int n = scan("blob wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY end");
    for (int i = 0; i < n; i++) CHECK(hits[i].kind != PP_KIND_AWS_SECRET);
}

/* --------------------------------------------------------------------- GCP */

TEST(secrets_gcp_api_key) {
    const char *k = "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q";
    CHECK_EQ(strlen(k), 39);
    EXPECT_ONE(cat3("maps key=", k, "&x=1"), PP_KIND_GCP_KEY, k, "gcp.api_key");
    EXPECT_NOT_KIND("AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6", PP_KIND_GCP_KEY);   /* 38 chars */
    EXPECT_NOT_KIND("AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Qr", PP_KIND_GCP_KEY); /* 40 chars */
}

TEST(secrets_gcp_service_account_json) {
    const char *j =
        "creds: {\n  \"type\": \"service_account\",\n  \"project_id\": \"demo\",\n"
        "  \"private_key_id\": \"abc\",\n"
        "  \"private_key\": \"-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBg\\n-----END PRIVATE KEY-----\\n\",\n"
        "  \"client_email\": \"x@demo.iam.gserviceaccount.com\"\n} done";
    CHECK(scan(j) >= 1);
    CHECK_EQ(hits[0].kind, PP_KIND_GCP_SERVICE_ACCOUNT);
    CHECK_EQ(hits[0].start, strchr(j, '{') - j);
    CHECK_EQ(hits[0].end, strrchr(j, '}') - j + 1);
    /* the words alone, with no private key, are not credentials */
    EXPECT_NONE("set \"type\": \"service_account\" in the config");
}

/* ------------------------------------------------------------------ GitHub */

TEST(secrets_github_tokens) {
    const char *classic = "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8";
    CHECK_EQ(strlen(classic), 40);
    EXPECT_ONE(cat3("token ", classic, "."), PP_KIND_GITHUB_TOKEN, classic, "github.token");
    const char *oauth = "gho_16C7e42F292c6912E7710c838347Ae178B4a";
    EXPECT_ONE(cat3("(", oauth, ")"), PP_KIND_GITHUB_TOKEN, oauth, "github.token");
    char pat[128] = "github_pat_11ABCDEFG0";
    while (strlen(pat) < 11 + 82) strcat(pat, "aB3_");
    pat[11 + 82] = 0;
    EXPECT_ONE(cat3("GH=", pat, ""), PP_KIND_GITHUB_TOKEN, pat, "github.pat");
}

TEST(secrets_github_negatives) {
    EXPECT_NONE("ghp_short123");
    EXPECT_NOT_KIND("ghx_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8", PP_KIND_GITHUB_TOKEN);
    EXPECT_NONE("github_pat_tooShort_123");
}

/* ------------------------------------------------------------------- Slack */

TEST(secrets_slack_tokens_and_webhooks) {
    EXPECT_ONE("SLACK xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx ok",
               PP_KIND_SLACK_TOKEN, "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "slack.token");
    EXPECT_ONE("xapp-1-A0123456789-1234567890123-abcdef0123456789", PP_KIND_SLACK_TOKEN,
               "xapp-1-A0123456789-1234567890123-abcdef0123456789", "slack.token");
    const char *hook = "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX";
    EXPECT_ONE(cat3("post to ", hook, " now"), PP_KIND_SLACK_WEBHOOK, hook, "slack.webhook");
}

TEST(secrets_slack_negatives) {
    EXPECT_NONE("xoxb-token-here");
    EXPECT_NONE("xoxo-123456789012-1234567890123-abc");   /* no such type */
    EXPECT_NONE("xoxb-abcdefghijkl-1234567890123-abc");   /* first group not digits */
    EXPECT_NONE("https://hooks.slack.com/services/");
}

/* ------------------------------------------------------------------ Stripe */

TEST(secrets_stripe_keys) {
    EXPECT_ONE("sk_live_4eC39HqLyjWDarjtT1zdp7dc", PP_KIND_STRIPE_KEY, "sk_live_4eC39HqLyjWDarjtT1zdp7dc", "stripe.secret");
    CHECK(hits[0].score >= 0.9f);
    EXPECT_ONE("rk_live_4eC39HqLyjWDarjtT1zdp7dc", PP_KIND_STRIPE_KEY, "rk_live_4eC39HqLyjWDarjtT1zdp7dc", "stripe.restricted");
    EXPECT_ONE("sk_test_4eC39HqLyjWDarjtT1zdp7dc", PP_KIND_STRIPE_KEY, "sk_test_4eC39HqLyjWDarjtT1zdp7dc", "stripe.test");
    EXPECT_ONE("pk_live_4eC39HqLyjWDarjtT1zdp7dc", PP_KIND_STRIPE_KEY, "pk_live_4eC39HqLyjWDarjtT1zdp7dc", "stripe.publishable");
    CHECK(hits[0].score < 0.9f);
    EXPECT_NONE("sk_live_short");
    EXPECT_NOT_KIND("pk_test_4eC39HqLyjWDarjtT1zdp7dc", PP_KIND_STRIPE_KEY);   /* publishable test key */
}

/* ---------------------------------------------------------- OpenAI, Anthropic */

TEST(secrets_openai_and_anthropic_keys) {
    const char *k1 = "sk-A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0U1v2W3x4";
    EXPECT_ONE(cat3("OPENAI_API_KEY ", k1, ""), PP_KIND_OPENAI_KEY, k1, "openai.key");
    const char *k2 = "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z_-Zz9Yy8Xx7";
    EXPECT_ONE(cat3("key: '", k2, "'"), PP_KIND_OPENAI_KEY, k2, "openai.key");
    const char *k3 = "sk-ant-api03-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb3dEf6hIj9k-AA";
    EXPECT_ONE(cat3("", k3, " "), PP_KIND_ANTHROPIC_KEY, k3, "anthropic.key");
    CHECK_STR(pp_kind_placeholder(PP_KIND_ANTHROPIC_KEY), "ANTHROPIC_KEY");
}

TEST(secrets_sk_dash_in_prose_does_not_fire) {
    EXPECT_NONE("the sk-8 ski is nice");
    EXPECT_NONE("use sk-learn for that");
    EXPECT_NONE("sk-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");   /* one class only */
    EXPECT_NOT_KIND("task-A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0", PP_KIND_OPENAI_KEY);  /* not at a word start */
}

/* --------------------------------------------------------------------- PEM */

TEST(secrets_pem_private_key_whole_block) {
    const char *blk = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7\n"
                      "Zm9vYmFyYmF6cXV4\n-----END RSA PRIVATE KEY-----";
    EXPECT_ONE(cat3("here:\n", blk, "\nthanks"), PP_KIND_PRIVATE_KEY, blk, "pem.private_key");
    CHECK(hits[0].score >= 0.95f);
    const char *o = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----";
    EXPECT_ONE(o, PP_KIND_PRIVATE_KEY, o, "pem.private_key");
    const char *p = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----";
    EXPECT_ONE(p, PP_KIND_PRIVATE_KEY, p, "pem.private_key");
    /* truncated paste: the header and the body lines */
    EXPECT_ONE("-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg4LVWM9nuwNSk\n\nbye?",
               PP_KIND_PRIVATE_KEY, "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg4LVWM9nuwNSk", "pem.private_key");
}

TEST(secrets_pem_public_material_is_not_secret) {
    EXPECT_NONE("-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcD\n-----END PUBLIC KEY-----");
    EXPECT_NONE("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----");
    EXPECT_NONE("-----BEGIN PRIVATE KEYS are great");
}

/* --------------------------------------------------------------------- JWT */

/* base64url without padding of s, into out. */
static void b64url(const char *s, char *out) {
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t n = strlen(s), o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned char)s[i] << 16;
        if (i + 1 < n) v |= (unsigned char)s[i + 1] << 8;
        if (i + 2 < n) v |= (unsigned char)s[i + 2];
        out[o++] = al[(v >> 18) & 63];
        out[o++] = al[(v >> 12) & 63];
        if (i + 1 < n) out[o++] = al[(v >> 6) & 63];
        if (i + 2 < n) out[o++] = al[v & 63];
    }
    out[o] = 0;
}

TEST(secrets_jwt_built_here) {
    char h[128], p[256], tok[512];
    b64url("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", h);
    CHECK_STR(h, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9");   /* RFC 7515-style known value */
    b64url("{\"sub\":\"1234567890\",\"name\":\"Test User\",\"iat\":1516239022}", p);
    snprintf(tok, sizeof tok, "%s.%s.%s", h, p, "dGhpcy1pcy1ub3QtYS1yZWFsLXNpZ25hdHVyZQ");
    EXPECT_ONE(cat3("Authorization: Bearer ", tok, ""), PP_KIND_JWT, tok, "jwt");
    /* payload "{ ... }" with a space after the brace still decodes to an object */
    b64url("{ \"sub\": \"42\" }", p);
    snprintf(tok, sizeof tok, "%s.%s.%s", h, p, "c2ln");
    EXPECT_ONE(cat3("jwt=", tok, ";"), PP_KIND_JWT, tok, "jwt");
}

TEST(secrets_jwt_negatives) {
    char h[128], p[128], tok[512];
    b64url("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", h);
    b64url("hello world, not json", p);
    snprintf(tok, sizeof tok, "%s.%s.c2lnbmF0dXJl", h, p);
    EXPECT_NONE(tok);
    EXPECT_NONE("eyJ is how base64 JSON starts");
    EXPECT_NONE("eyJhbGciOiJIUzI1NiJ9");                    /* header only */
}

/* ------------------------------------------------------------- assignments */

TEST(secrets_assignments_report_the_value) {
    EXPECT_ONE("password = \"hunter2hunter2\"", PP_KIND_GENERIC_SECRET, "hunter2hunter2", "assign.password");
    EXPECT_ONE("DB_PASSWORD=s3cr3tP4ss!", PP_KIND_GENERIC_SECRET, "s3cr3tP4ss!", "assign.password");
    EXPECT_ONE("{\"apiKey\": \"abcd1234efgh\"}", PP_KIND_GENERIC_SECRET, "abcd1234efgh", "assign.api_key");
    EXPECT_ONE("x-api-key: Zm9vYmFyMTIz", PP_KIND_GENERIC_SECRET, "Zm9vYmFyMTIz", "assign.api_key");
    EXPECT_ONE("Authorization: Bearer abc123def456ghi", PP_KIND_GENERIC_SECRET, "abc123def456ghi", "assign.token");
    EXPECT_ONE("access_token := 'tok_9f8e7d6c5b'", PP_KIND_GENERIC_SECRET, "tok_9f8e7d6c5b", "assign.token");
    EXPECT_ONE("client_secret: 5f4dcc3b5aa765d61d8327deb882cf99", PP_KIND_GENERIC_SECRET,
               "5f4dcc3b5aa765d61d8327deb882cf99", "assign.secret");
    CHECK_STR(pp_kind_placeholder(PP_KIND_GENERIC_SECRET), "SECRET");
}

TEST(secrets_assignment_with_known_prefix_uses_the_specific_rule) {
    EXPECT_ONE("token = ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8", PP_KIND_GITHUB_TOKEN,
               "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8", "github.token");
}

TEST(secrets_assignment_negatives) {
    EXPECT_NONE("password: required");
    EXPECT_NONE("password = \"<your-password>\"");
    EXPECT_NONE("token = ${GITHUB_TOKEN}");
    EXPECT_NONE("password: ********");
    EXPECT_NONE("the password is secret, the token is lost");
    EXPECT_NONE("notoken=abcdefgh123");
    EXPECT_NONE("password: short");
    EXPECT_NONE("if (password == \"abc12345678\")");
    EXPECT_NONE("Token: something");
}

/* ------------------------------------------------------------ high entropy */

TEST(secrets_high_entropy_token) {
    const char *r = "q8ZtR3xLp0WvN7yKc2MbH5sJ";   /* 24 distinct chars: 4.58 bits/char */
    EXPECT_ONE(cat3("value ", r, " end"), PP_KIND_HIGH_ENTROPY, r, "entropy");
    CHECK(hits[0].score <= 0.6f);
    EXPECT_ONE(cat3("the key is ", r, ""), PP_KIND_HIGH_ENTROPY, r, "entropy.context");
    CHECK(hits[0].score > 0.6f);
}

TEST(secrets_high_entropy_negatives) {
    EXPECT_NONE("ThisIsAVeryLongIdentifierName1");
    EXPECT_NONE("supercalifragilisticexpialidocious");
    EXPECT_NONE("commit 0123456789abcdef0123456789abcdef01234567");   /* hex sha */
    EXPECT_NONE("id 123e4567-e89b-12d3-a456-426614174000");           /* UUID */
    EXPECT_NONE("SGVsbG8gd29ybGQgdGhpcyBpcyBhIHRlc3Q=");              /* base64 of text */
    EXPECT_NONE("see https://example.com/a/very/long/Path2Resource/x9");
    EXPECT_NONE("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1A");
    EXPECT_NONE("x86_64-linux-gnu-gcc-12 and libstdc++6-12-dev");
}

/* ------------------------------------------------------- original offsets */

/* A zero-width space inside an AWS key: the normalizer removes it, the span covers
** the original bytes including it.  Needs the full normalizer. */
TEST(secrets_key_with_zero_width_space_maps_to_original) {
    const char *t = "k AKIAIOSFODNN\xE2\x80\x8B" "7EXAMPLE z";
    CHECK_EQ(scan(t), 1);
    CHECK_EQ(hits[0].kind, PP_KIND_AWS_KEY);
    CHECK_STR(hit_text(0), "AKIAIOSFODNN\xE2\x80\x8B" "7EXAMPLE");
}

TEST(secrets_prose_has_no_secrets) {
    EXPECT_NONE("As a woman you shouldn't complain about cleaning up your house. "
                "The secret to success is hard work; ask Skip. Password managers help.");
    CHECK_EQ(scan(""), 0);
    CHECK_EQ(scan("-----"), 0);
    CHECK_EQ(scan("eyJ"), 0);
    CHECK_EQ(scan("password="), 0);
}

/* The scan skips 64 and 16 bytes at a time over prose: a key, an assignment or a
** 10-byte token must be found whatever its offset within a block, including when it
** straddles two blocks, and prose with long words around it must stay silent. */
TEST(secrets_found_at_every_block_offset) {
    static const char pad[] = "a b cc dd eee ff gg hhh iii jj k l mm nn ooo pp q rr ss tt "
                              "uuu vv ww xx yyy zz a bb ccc d ee fff gg h ii jjj kk ll mm n";
    char pre[160];
    for (int k = 0; k < (int)sizeof pad - 1; k++) {
        memcpy(pre, pad, (size_t)k);
        pre[k] = 0;
        EXPECT_ONE(cat3(pre, " AKIAIOSFODNN7EXAMPLE", " done"), PP_KIND_AWS_KEY,
                   "AKIAIOSFODNN7EXAMPLE", "aws.access_key");
        CHECK_EQ(hits[0].start, (uint32_t)k + 1);
        EXPECT_ONE(cat3(pre, " password: \"Tr0ub4dor&3x\"", " done"), PP_KIND_GENERIC_SECRET,
                   "Tr0ub4dor&3x", "assign.password");
        EXPECT_NONE(cat3(pre, " considerable extraordinarily", " understanding ok"));
        EXPECT_NONE(cat3(pre, " see: the ratio a=b", " holds"));
    }
}

/* The skips against the byte loop they stand for (pp_secrets_set_skips(0)): texts
** built from prose, long words, keys, assignments and stray '=' / ':' pieces, of
** every length up to a few hundred bytes (so every tail length after the last full
** block) and a few long ones; both must report the same hits. */
TEST(secrets_skips_match_the_byte_loop) {
    static const char *const piece[] = {
        "a", "the ", "cat ", "sat on ", "understanding ", "extraordinarily ", "x=1 ",
        "a:b ", " = ", ": ", "AKIAIOSFODNN7EXAMPLE ", "password: \"Tr0ub4dor&3x\" ",
        "api_key=zX9qL2mN8vB4cR7tY1wE5uI3oP6aS0dF ", "ghp_0123456789abcdefghijABCDEFGHIJ012345 ",
        "https://example.com/a/b.c?d=e ", "-----BEGIN ", "sk-", "eyJhbGciOi ", "1234567890 ",
        "snake_case_identifier_x ", "\xC3\xA9t\xC3\xA9 ", "\n", "\t", "....", "x", "Z9",
    };
    pt_skips_match(&pp_secrets_detector, pp_secrets_set_skips, piece, sizeof piece / sizeof *piece, 12345);
}
