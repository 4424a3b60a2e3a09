/*
** secrets.c -- the credentials detector: cloud and API keys, private keys, JWTs,
** password assignments and high-entropy tokens.
**
** Where it sits.  One of the cheap detectors run on every text (DESIGN.md, step 2),
** next to pii.c.  It scans the BASE view of the pp_text (NFKC, invisibles removed,
** case kept: key formats are case-sensitive), and maps every span back to the
** caller's original bytes; the hit's kind picks the redaction placeholder.
**
** How it scans.  No regex engine: one left-to-right pass that splits the text into
** "tokens", maximal runs of the bytes keys are made of ([A-Za-z0-9_+/.-]).  Prose
** is a stream of short tokens: with SSE2 it is passed over 16 bytes at a time
** (skip16), elsewhere at a table lookup per byte.  Each token is
** examined in three steps, cheapest and most specific first:
**
**   1. its first bytes select at most one prefix rule ("AKIA", "AIza", "ghp_",
**      "xoxb-", "sk_live_", "sk-", "-----BEGIN", "eyJ", ...).  Each rule then checks
**      the exact length and alphabet of its format and that the key ends at a word
**      boundary, so "sk-8 ski" or "AKIA" in a sentence never fire;
**   2. a token that names a secret ("password", "DB_PASSWORD", "apiKey",
**      "x-api-key", ...) followed by '=' or ':' reports the VALUE after it, quoted or
**      bare, unless the value is a placeholder ("<your-key>", "${TOKEN}", "****");
**   3. a token of 20+ bytes that no rule claimed is tested for randomness:
**      upper, lower and digits all present, few English-like lowercase runs, not
**      base64 of readable text, and a Shannon entropy close to that of a random
**      string of its length (see entropy_threshold).
**
** A PEM block or a service-account JSON spans several tokens; their rules report
** the whole block and the scan resumes after it.
**
** Assumptions: the view is NUL-terminated (s[n] == 0), so one byte of look-ahead
** past a token is always safe.  The compiled object is a byte-class table, shared
** read-only by all threads.
*/
#include "scan_util.h"
#include <math.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define W_KEY 0.95f        /* a provider key with a checked format */
#define W_KEY_PUBLIC 0.60f /* publishable keys: identify an account, grant little */
#define W_PEM 0.99f
#define W_JWT 0.90f
#define W_AWS_SECRET 0.90f
#define W_ASSIGN_QUOTED 0.75f
#define W_ASSIGN_BARE 0.65f
#define W_ENTROPY 0.50f
#define W_ENTROPY_CTX 0.70f

enum { C_TOK = 1, C_B64URL = 2, C_B64 = 4, C_ASSIGN = 8 };

typedef struct secrets_det {
    unsigned char cls[256]; /* C_* bits per byte */
} secrets_det;

typedef struct match {
    size_t start, end; /* view span */
    int kind;
    const char *rule;
    float w;
} match;

/* Length of the run of bytes in class `bit` at s[i], at most `max`. */
static size_t run_len(const secrets_det *d, const char *s, size_t n, size_t i, int bit, size_t max) {
    size_t j = i;
    while (j < n && (d->cls[(unsigned char)s[j]] & bit) && j - i < max) j++;
    return j - i;
}

static int starts(const char *s, size_t n, size_t i, const char *lit) {
    size_t k = strlen(lit);
    return i + k <= n && !memcmp(s + i, lit, k);
}

static void classes_of(const char *s, size_t a, size_t b, int *up, int *lo, int *dg) {
    *up = *lo = *dg = 0;
    for (size_t i = a; i < b; i++) {
        unsigned char c = (unsigned char)s[i];
        *up |= pp_su_upper(c);
        *lo |= pp_su_lower(c);
        *dg |= pp_su_digit(c);
    }
}

/* -------------------------------------------------------- prefix rules ---- */

/* AWS access key id: a 4-letter type prefix and 16 base32 characters. */
static int aws_key_id(const char *s, size_t n, size_t a, match *m) {
    static const char *const pfx[] = {"AKIA", "ASIA", "AGPA", "AIDA", "AROA", "AIPA",
                                      "ANPA", "ANVA", "ABIA", "ACCA", NULL};
    int ok = 0;
    for (int k = 0; pfx[k]; k++)
        if (starts(s, n, a, pfx[k])) ok = 1;
    if (!ok || a + 20 > n) return 0;
    for (size_t i = a + 4; i < a + 20; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!(pp_su_upper(c) || (c >= '2' && c <= '7'))) return 0;
    }
    if (pp_su_word((unsigned char)s[a + 20])) return 0;
    *m = (match){a, a + 20, PP_KIND_AWS_KEY, "aws.access_key", W_KEY};
    return 1;
}

/* Google API key: "AIza" and 35 base64url characters. */
static int gcp_key(const secrets_det *d, const char *s, size_t n, size_t a, match *m) {
    if (!starts(s, n, a, "AIza") || run_len(d, s, n, a + 4, C_B64URL, 36) != 35) return 0;
    *m = (match){a, a + 39, PP_KIND_GCP_KEY, "gcp.api_key", W_KEY};
    return 1;
}

static int alnum_run(const char *s, size_t n, size_t i, size_t max) {
    size_t j = i;
    while (j < n && pp_su_alnum((unsigned char)s[j]) && j - i < max) j++;
    return (int)(j - i);
}

/* GitHub tokens: gh[pousr]_ + 36 alnum (more allowed), github_pat_ + 82 [A-Za-z0-9_]. */
static int github(const char *s, size_t n, size_t a, match *m) {
    if (starts(s, n, a, "github_pat_")) {
        size_t j = a + 11;
        while (j < n && pp_su_word((unsigned char)s[j]) && j - a < 300) j++;
        if (j - (a + 11) < 82 || pp_su_word((unsigned char)s[j])) return 0;
        *m = (match){a, j, PP_KIND_GITHUB_TOKEN, "github.pat", W_KEY};
        return 1;
    }
    if (a + 4 > n || s[a + 1] != 'h' || s[a + 3] != '_' || !strchr("pousr", s[a + 2])) return 0;
    int k = alnum_run(s, n, a + 4, 256);
    if (k < 36 || pp_su_word((unsigned char)s[a + 4 + k])) return 0;
    *m = (match){a, a + 4 + (size_t)k, PP_KIND_GITHUB_TOKEN, "github.token", W_KEY};
    return 1;
}

/* Slack tokens: xox[bpasre]- or xapp-, then dash-separated groups, the first all
** digits ("xoxb-123456789012-1234567890123-AbCd..."), 20+ characters in all. */
static int slack_token(const char *s, size_t n, size_t a, match *m) {
    size_t b;
    if (starts(s, n, a, "xapp-")) b = a + 5;
    else if (starts(s, n, a, "xox") && a + 4 < n && strchr("bpasre", s[a + 3]) && s[a + 3] && s[a + 4] == '-')
        b = a + 5;
    else return 0;
    size_t j = b, dashes = 0;
    while (j < n && (pp_su_alnum((unsigned char)s[j]) || s[j] == '-') && j - b < 256) dashes += s[j++] == '-';
    while (j > b && s[j - 1] == '-') j--, dashes--;
    if (j - b < 20 || dashes < 2 || !pp_su_digit((unsigned char)s[b]) || pp_su_word((unsigned char)s[j])) return 0;
    for (size_t i = b; s[i] != '-'; i++)
        if (!pp_su_digit((unsigned char)s[i])) return 0;
    *m = (match){a, j, PP_KIND_SLACK_TOKEN, "slack.token", W_KEY};
    return 1;
}

/* Slack incoming webhook: [https:]//hooks.slack.com/services/T.../B.../secret. */
static int slack_webhook(const char *s, size_t n, size_t a, match *m) {
    size_t j;
    if (starts(s, n, a, "//hooks.slack.com/services/")) j = a + 27;
    else if (starts(s, n, a, "hooks.slack.com/services/")) j = a + 25;
    else return 0;
    for (int part = 0; part < 3; part++) {
        size_t p = j;
        if (part < 2 && s[j] != (part ? 'B' : 'T')) return 0;
        while (j < n && (part == 2 ? pp_su_alnum((unsigned char)s[j])
                                   : (pp_su_upper((unsigned char)s[j]) || pp_su_digit((unsigned char)s[j]))))
            j++;
        if (j - p < (part == 2 ? 16u : 9u)) return 0;
        if (part < 2 && s[j++] != '/') return 0;
    }
    size_t st = a;
    if (s[a] == '/' && a >= 6 && !memcmp(s + a - 6, "https:", 6)) st = a - 6;
    else if (s[a] == '/' && a >= 5 && !memcmp(s + a - 5, "http:", 5)) st = a - 5;
    *m = (match){st, j, PP_KIND_SLACK_WEBHOOK, "slack.webhook", W_KEY};
    return 1;
}

/* Stripe: sk_live_ / rk_live_ / sk_test_ / rk_test_ / pk_live_ + 24+ alnum. */
static int stripe(const char *s, size_t n, size_t a, match *m) {
    if (a + 8 > n || s[a + 1] != 'k' || s[a + 2] != '_') return 0;
    int live = !memcmp(s + a + 3, "live_", 5), test = !memcmp(s + a + 3, "test_", 5);
    if (!(live || (test && s[a] != 'p'))) return 0;
    int k = alnum_run(s, n, a + 8, 256);
    if (k < 24 || pp_su_word((unsigned char)s[a + 8 + k])) return 0;
    const char *rule = s[a] == 'p' ? "stripe.publishable" : s[a] == 'r' ? "stripe.restricted"
                     : live ? "stripe.secret" : "stripe.test";
    *m = (match){a, a + 8 + (size_t)k, PP_KIND_STRIPE_KEY, rule, s[a] == 'p' ? W_KEY_PUBLIC : W_KEY};
    return 1;
}

/* OpenAI-style "sk-" (incl. sk-proj-, sk-svcacct-) and Anthropic "sk-ant-": 32+
** base64url characters after the prefix, with upper, lower and digits all present
** (a random key of that length has all three; prose and identifiers do not). */
static int sk_dash(const secrets_det *d, const char *s, size_t n, size_t a, match *m) {
    if (!starts(s, n, a, "sk-")) return 0;
    int ant = starts(s, n, a, "sk-ant-");
    size_t b = a + (ant ? 7 : 3);
    size_t k = run_len(d, s, n, b, C_B64URL, 512);
    if (k < 32 || pp_su_word((unsigned char)s[b + k])) return 0;
    int up, lo, dg;
    classes_of(s, b, b + k, &up, &lo, &dg);
    if (!(up && lo && dg)) return 0;
    if (ant) *m = (match){a, b + k, PP_KIND_ANTHROPIC_KEY, "anthropic.key", W_KEY};
    else *m = (match){a, b + k, PP_KIND_OPENAI_KEY, "openai.key", W_KEY};
    return 1;
}

/* PEM private key: "-----BEGIN [RSA |EC |DSA |OPENSSH |ENCRYPTED ]PRIVATE KEY-----"
** (or a PGP private key block) through the matching END line.  A block with no END
** (truncated paste) spans the header and the base64 lines after it. */
static int pem(const char *s, size_t n, size_t a, match *m) {
    static const char *const types[] = {"RSA ", "EC ", "DSA ", "OPENSSH ", "ENCRYPTED ", "PGP ", ""};
    if (!starts(s, n, a, "-----BEGIN ")) return 0;
    size_t j = a + 11, lab = j;
    for (int k = 0; k < 7; k++)
        if (starts(s, n, j, types[k])) { j += strlen(types[k]); break; }
    if (!starts(s, n, j, "PRIVATE KEY")) {
        /* public material (certificates, public keys) is not secret, but its base64
        ** body would look random to the entropy rule: claim the block, report nothing */
        const char *end = memmem(s + a, n - a < 65536 ? n - a : 65536, "-----END ", 9);
        const char *nl = end ? memchr(end, '\n', (size_t)(s + n - end)) : NULL;
        *m = (match){a, end ? (nl ? (size_t)(nl - s) : n) : a + 11, -1, NULL, 0};
        return 1;
    }
    j += 11;
    if (starts(s, n, j, " BLOCK")) j += 6;
    if (!starts(s, n, j, "-----")) return 0;
    size_t lab_len = j - lab;
    j += 5;
    size_t limit = n - j < 65536 ? n - j : 65536, e = 0;
    for (const char *p = s + j; (p = memmem(p, limit - (size_t)(p - (s + j)), "-----END ", 9)) != NULL; p++) {
        size_t at = (size_t)(p - s) + 9;
        if (at + lab_len + 5 <= n && !memcmp(s + at, s + lab, lab_len) && starts(s, n, at + lab_len, "-----")) {
            e = at + lab_len + 5;
            break;
        }
    }
    if (!e) {   /* truncated: the header and the base64 lines right after it */
        e = j;
        for (size_t k = j;;) {
            if (s[k] == '\r') k++;
            if (s[k] == '\n') k++;
            else if (s[k] == '\\' && s[k + 1] == 'n') k += 2;   /* JSON-escaped */
            else break;
            size_t r = k;
            while (r < n && (pp_su_alnum((unsigned char)s[r]) || s[r] == '+' || s[r] == '/' || s[r] == '=')) r++;
            if (r == k || (s[r] != '\n' && s[r] != '\r' && s[r] != '\\' && r < n)) break;
            e = k = r;
        }
    }
    *m = (match){a, e, PP_KIND_PRIVATE_KEY, "pem.private_key", W_PEM};
    return 1;
}

/* Decodes base64url (or standard base64) s[a..b) far enough to know its first and
** last byte; returns 0 if the length is impossible (len % 4 == 1) or nothing
** decodes.  *first and *last are set in every case (-1 when there is no byte). */
static int b64_ends(const char *s, size_t a, size_t b, int *first, int *last) {
    unsigned acc = 0;
    int bits = 0, got = 0;
    *first = *last = -1;
    if ((b - a) % 4 == 1) return 0;
    for (size_t i = a; i < b; i++) {
        unsigned char c = (unsigned char)s[i];
        unsigned v = pp_su_upper(c) ? c - 'A' : pp_su_lower(c) ? c - 'a' + 26
                   : pp_su_digit(c) ? c - '0' + 52 : (c == '-' || c == '+') ? 62 : 63;
        acc = (acc << 6) | v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            int byte = (int)((acc >> bits) & 0xFF);
            if (!got++) *first = byte;
            *last = byte;
        }
    }
    return got > 0;
}

/* JWT: three base64url segments; header and payload decode to JSON objects. */
static int jwt(const secrets_det *d, const char *s, size_t n, size_t a, match *m) {
    if (!starts(s, n, a, "eyJ")) return 0;
    size_t h = run_len(d, s, n, a, C_B64URL, 4096);
    if (h < 10 || s[a + h] != '.') return 0;
    size_t p0 = a + h + 1, p = run_len(d, s, n, p0, C_B64URL, 65536);
    if (p < 10 || s[p0 + p] != '.') return 0;
    size_t g0 = p0 + p + 1, g = run_len(d, s, n, g0, C_B64URL, 4096);
    if (pp_su_word((unsigned char)s[g0 + g])) return 0;
    int f, l;
    if (!b64_ends(s, a, a + h, &f, &l) || f != '{' || l != '}') return 0;
    if (!b64_ends(s, p0, p0 + p, &f, &l) || f != '{' || l != '}') return 0;
    *m = (match){a, g0 + g, PP_KIND_JWT, "jwt", W_JWT};
    return 1;
}

/* Finds the '}' closing the object that opens at s[o] ('{'), skipping strings;
** returns its offset + 1, or 0 if not found within `max` bytes. */
static size_t json_object_end(const char *s, size_t n, size_t o, size_t max) {
    int depth = 0, str = 0;
    for (size_t i = o; i < n && i - o < max; i++) {
        char c = s[i];
        if (str) {
            if (c == '\\') i++;
            else if (c == '"') str = 0;
        } else if (c == '"') str = 1;
        else if (c == '{') depth++;
        else if (c == '}' && --depth == 0) return i + 1;
    }
    return 0;
}

/* GCP service-account credentials: "type": "service_account" in an object that
** also has "private_key".  The whole object is the span when its braces are found. */
static int gcp_service_account(const char *s, size_t n, size_t a, match *m) {
    if (!starts(s, n, a, "service_account") || a < 8) return 0;
    size_t lb = a > 24 ? a - 24 : 0;
    const char *t = memmem(s + lb, a - lb, "\"type\"", 6);
    if (!t) return 0;
    size_t ws = a > 8192 ? a - 8192 : 0, we = n - a > 16384 ? a + 16384 : n;
    if (!memmem(s + ws, we - ws, "\"private_key\"", 13)) return 0;
    size_t st = (size_t)(t - s), en = a + 15 + (s[a + 15] == '"');
    for (size_t o = st; o > 0 && st - o < 4096; o--) {
        if (s[o - 1] == '{') {
            size_t e = json_object_end(s, n, o - 1, 65536);
            if (e > a) { st = o - 1; en = e; }
            break;
        }
    }
    *m = (match){st, en, PP_KIND_GCP_SERVICE_ACCOUNT, "gcp.service_account", W_KEY};
    return 1;
}

/* The one prefix rule the token at s[a] can start, if any. */
static int prefix_rule(const secrets_det *d, const char *s, size_t n, size_t a, match *m) {
    switch (s[a]) {
    case 'A': return aws_key_id(s, n, a, m) || gcp_key(d, s, n, a, m);
    case 'g': return github(s, n, a, m);
    case 'x': return slack_token(s, n, a, m);
    case 'h': case '/': return slack_webhook(s, n, a, m);
    case 's': return stripe(s, n, a, m) || sk_dash(d, s, n, a, m) || gcp_service_account(s, n, a, m);
    case 'r': case 'p': return stripe(s, n, a, m);
    case '-': return pem(s, n, a, m);
    case 'e': return jwt(d, s, n, a, m);
    default: return 0;
    }
}

/* ------------------------------------------------------- assignments ---- */

/* Names of secrets, lowercase; matched as a suffix of the key token at a segment
** boundary ("DB_PASSWORD", "x-api-key", "clientSecret"), not inside a word. */
#define SN(kw, rule) {kw, sizeof kw - 1, rule}
static const struct { const char *kw; size_t len; const char *rule; } secret_names[] = {
    SN("password", "assign.password"),   SN("passwd", "assign.password"),
    SN("pwd", "assign.password"),        SN("passphrase", "assign.password"),
    SN("secret", "assign.secret"),       SN("secret_key", "assign.secret"),
    SN("api_key", "assign.api_key"),     SN("apikey", "assign.api_key"),
    SN("api-key", "assign.api_key"),     SN("access_key", "assign.api_key"),
    SN("private_key", "assign.secret"),  SN("token", "assign.token"),
    SN("auth", "assign.token"),          SN("authorization", "assign.token"),
    SN("credentials", "assign.secret"),
};
#undef SN

static const char *secret_name(const char *s, size_t a, size_t b) {
    size_t L = b - a;
    /* every name ends in one of these letters: most keys ("RT @user:") end otherwise */
    unsigned char last = (unsigned char)(L ? s[b - 1] | 0x20 : 0);
    if (!L || !memchr("dethnys", last, 7)) return NULL;
    for (size_t k = 0; k < PP_ARRAY_LEN(secret_names); k++) {
        size_t kl = secret_names[k].len;
        if (kl > L || !pp_su_iprefix(s + b - kl, kl, secret_names[k].kw)) continue;
        if (kl == L) return secret_names[k].rule;
        unsigned char before = (unsigned char)s[b - kl - 1], first = (unsigned char)s[b - kl];
        if (before == '_' || before == '-' || before == '.' || (pp_su_lower(before) && pp_su_upper(first)))
            return secret_names[k].rule;
    }
    return NULL;
}

/* Is value s[a..b) a placeholder rather than a secret? */
static int placeholder(const char *s, size_t a, size_t b, int quoted) {
    static const char *const ph[] = {"***", "xxxx", "...", "your", "example", "redacted",
                                     "placeholder", "changeme", "<", NULL};
    unsigned char c0 = (unsigned char)s[a];
    if (strchr("<$%{[(*", c0)) return 1;
    int same = 1, up, lo, dg;
    char low[64];
    size_t k = 0;
    for (size_t i = a; i < b; i++) {
        if (s[i] != s[a]) same = 0;
        if (k < sizeof low - 1) low[k++] = (char)pp_su_lc((unsigned char)s[i]);
    }
    low[k] = 0;
    if (same) return 1;
    for (int i = 0; ph[i]; i++)
        if (strstr(low, ph[i])) return 1;
    classes_of(s, a, b, &up, &lo, &dg);
    /* bare lowercase words are prose ("token: something"), not secrets */
    /* bare words and code are not secrets ("token: something", "= os.environ.get(") */
    if (!quoted && !up && !dg) return 1;
    if (!strcmp(low, "password") || !strcmp(low, "true") || !strcmp(low, "false") ||
        !strcmp(low, "null") || !strcmp(low, "undefined") || !strcmp(low, "required"))
        return 1;
    return 0;
}

static int bare_value_ch(unsigned char c) {
    return c > ' ' && !strchr(",;(){}[]\"'`<>", c);
}

/* The token s[a..b) followed by '=' or ':' (after an optional closing quote and
** spaces).  If the token names a secret and a real-looking value of 8..256 bytes
** follows, reports the value (not the name) and returns the offset to resume at;
** returns 0 otherwise. */
static size_t assignment(const secrets_det *d, pp_scan *sc, const char *s, size_t n,
                         size_t a, size_t b) {
    size_t j = b;
    if (s[j] == '"' || s[j] == '\'') j++;
    while (j < n && s[j] == ' ' && j - b < 4) j++;
    if (s[j] != '=' && s[j] != ':') return 0;
    if (s[j] == '=' && s[j + 1] == '=') return 0;                 /* comparison */
    const char *rule = secret_name(s, a, b);
    if (!rule) return 0;
    j++;
    if (s[j] == '=' || s[j] == '>') j++;                          /* := => */
    while (j < n && (s[j] == ' ' || s[j] == '\t') && j - b < 12) j++;
    char q = 0;
    if (s[j] == '"' || s[j] == '\'' || s[j] == '`') q = s[j++];
    size_t va = j;
    if (q) {
        while (j < n && s[j] != q && s[j] != '\n' && j - va <= 256) j++;
        if (s[j] != q) return 0;
    } else {
        while (j < n && bare_value_ch((unsigned char)s[j]) && j - va <= 256) j++;
        /* "Authorization: Bearer <token>": the credential is the next word */
        if ((j - va == 6 && pp_su_iprefix(s + va, 6, "bearer")) ||
            (j - va == 5 && pp_su_iprefix(s + va, 5, "basic"))) {
            if (s[j] != ' ') return 0;
            va = ++j;
            while (j < n && bare_value_ch((unsigned char)s[j]) && j - va <= 256) j++;
        }
    }
    size_t vb = j, L = vb - va;
    if (L < 8 || L > 256) return 0;
    match m;
    if (prefix_rule(d, s, n, va, &m)) return 0;   /* the prefix rule reports it */
    int aws = pp_su_context_before(s, b, b - a < 63 ? b - a : 63, (const char *const[]){"aws", "secret_access", NULL});
    if (L == 40 && aws) {
        int ok = 1;
        for (size_t i = va; i < vb; i++)
            if (!(d->cls[(unsigned char)s[i]] & C_B64) || s[i] == '-' || s[i] == '_') ok = 0;
        if (ok) {
            pp_su_report(sc, PP_CAT_SECRETS, W_AWS_SECRET, va, vb, PP_DET_SECRETS, PP_KIND_AWS_SECRET, "aws.secret_key");
            return vb;
        }
    }
    if (placeholder(s, va, vb, q != 0)) return 0;
    pp_su_report(sc, PP_CAT_SECRETS, q ? W_ASSIGN_QUOTED : W_ASSIGN_BARE, va, vb, PP_DET_SECRETS,
                 PP_KIND_GENERIC_SECRET, rule);
    return vb;
}

/* ------------------------------------------------------ high entropy ---- */

/* The 1st percentile of the empirical Shannon entropy (bits per char) of random
** strings over [A-Za-z0-9] of length L, from a simulation of 20000 strings per
** length: a token below it is unlikely to be random.  L=20: 3.65, 24: 3.86,
** 32: 4.20, 40: 4.46, 64: 4.90.  Interpolated linearly, a little below each point. */
static double entropy_threshold(size_t L) {
    static const double pts[][2] = {{20, 3.60}, {24, 3.80}, {32, 4.15}, {40, 4.40}, {64, 4.85}};
    if (L <= 20) return pts[0][1];
    for (size_t k = 1; k < PP_ARRAY_LEN(pts); k++)
        if (L <= pts[k][0])
            return pts[k - 1][1] + (pts[k][1] - pts[k - 1][1]) * ((double)L - pts[k - 1][0]) /
                                       (pts[k][0] - pts[k - 1][0]);
    return pts[PP_ARRAY_LEN(pts) - 1][1];
}

static double shannon(const char *s, size_t a, size_t b) {
    unsigned cnt[128] = {0};
    for (size_t i = a; i < b; i++) cnt[(unsigned char)s[i] & 127]++;
    double L = (double)(b - a), h = log2(L) * L;
    for (int c = 0; c < 128; c++)
        if (cnt[c]) h -= cnt[c] * log2((double)cnt[c]);
    return h / L;
}

/* Is s[a..b) standard base64 of readable text?  (Encoded prose is not a secret; the
** injection detector looks at what it says.) */
static int b64_of_text(const char *s, size_t a, size_t b) {
    unsigned acc = 0;
    int bits = 0, total = 0, printable = 0;
    for (size_t i = a; i < b && total < 192; i++) {
        unsigned char c = (unsigned char)s[i];
        unsigned v = pp_su_upper(c) ? c - 'A' : pp_su_lower(c) ? c - 'a' + 26
                   : pp_su_digit(c) ? c - '0' + 52 : c == '+' ? 62 : c == '/' ? 63 : 64;
        if (v == 64) return 0;
        acc = (acc << 6) | v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            unsigned char byte = (unsigned char)(acc >> bits);
            total++;
            printable += (byte >= 0x20 && byte < 0x7f) || byte == '\n' || byte == '\t';
        }
    }
    return total >= 8 && printable * 10 >= total * 9;
}

static const char *const key_words[] = {"key", "token", "secret", "passw", "bearer", "auth",
                                        "credential", NULL};

/* Reports s[a..b) if it looks like a random credential.  Returns 1 if reported. */
static int high_entropy(pp_scan *sc, const char *s, size_t a, size_t b) {
    size_t L = b - a, cover = 0;
    if (L < 20) return 0;
    if (L > 1024) b = a + 1024, L = 1024;
    if (s[a] == '/' || memmem(s + a, L, "//", 2)) return 0;          /* paths, URLs */
    int up, lo, dg;
    classes_of(s, a, b, &up, &lo, &dg);
    if (!(up && lo && dg)) return 0;
    /* Word-like runs, [A-Z]?[a-z]{3,}, [A-Z]{4,} and [0-9]{4,}: identifiers
    ** ("getUserName2", "CPT_PRINT_v2") and glued-together text ("TsCs08714740")
    ** are mostly made of them; in random base62 strings they cover over half the
    ** token 4-8% of the time (simulated, lengths 20..40), the price of not
    ** flagging every long identifier. */
    for (size_t i = a; i < b;) {
        size_t j = i;
        while (j < b && pp_su_upper((unsigned char)s[j])) j++;
        size_t k = j;
        while (k < b && pp_su_lower((unsigned char)s[k])) k++;
        size_t up = j - i, low = k - j;
        if (low >= 3) cover += low + (up > 0) + (up - (up > 0) >= 4 ? up - 1 : 0);
        else if (up >= 4) cover += up;
        if (k == i) {                       /* digits: long runs are numbers, not noise */
            while (k < b && pp_su_digit((unsigned char)s[k])) k++;
            if (k - i >= 4) cover += k - i;
        }
        i = k > i ? k : i + 1;
    }
    if (cover * 2 > L) return 0;
    if (shannon(s, a, b) < entropy_threshold(L)) return 0;
    for (size_t off = 0; off < 4; off++)    /* base64 may start mid-token */
        if (b64_of_text(s, a + off, b)) return 0;
    int ctx = pp_su_context_before(s, a, 32, key_words);
    pp_su_report(sc, PP_CAT_SECRETS, ctx ? W_ENTROPY_CTX : W_ENTROPY, a, b, PP_DET_SECRETS,
                 PP_KIND_HIGH_ENTROPY, ctx ? "entropy.context" : "entropy");
    return 1;
}

/* An AWS secret access key: 40 base64 characters with "aws" or "secret" just before. */
static int aws_secret_ctx(pp_scan *sc, const secrets_det *d, const char *s, size_t a, size_t b) {
    if (b - a != 40) return 0;
    for (size_t i = a; i < b; i++)
        if (!(d->cls[(unsigned char)s[i]] & C_B64) || s[i] == '-' || s[i] == '_') return 0;
    int up, lo, dg;
    classes_of(s, a, b, &up, &lo, &dg);
    if (!(up && lo && dg)) return 0;
    if (!pp_su_context_before(s, a, 63, (const char *const[]){"aws", "secret", NULL})) return 0;
    pp_su_report(sc, PP_CAT_SECRETS, W_AWS_SECRET, a, b, PP_DET_SECRETS, PP_KIND_AWS_SECRET, "aws.secret_key");
    return 1;
}

/* ----------------------------------------------------------------- scan ---- */

/* Examines the token s[a..b) (10+ bytes, or any length for a caller that knows
** better) with the prefix rules, the AWS-secret context rule and the entropy rule.
** Returns the offset to resume scanning at (>= b). */
static size_t long_token(const secrets_det *d, pp_scan *sc, const char *s, size_t n,
                         size_t a, size_t b) {
    match m;
    if ((b - a >= 15 || s[a] == '-') && prefix_rule(d, s, n, a, &m)) {
        if (m.kind >= 0)
            pp_su_report(sc, PP_CAT_SECRETS, m.w, m.start, m.end, PP_DET_SECRETS, m.kind, m.rule);
        return m.end > b ? m.end : b;
    }
    size_t e = b;
    while (e > a && s[e - 1] == '.') e--;
    if (e - a < 20 || aws_secret_ctx(sc, d, s, a, e)) return b;
    /* dotted tokens and paths (hosts, file names, URLs, failed JWTs): test each part */
    for (size_t p = a; p < e;) {
        size_t q = p;
        while (q < e && s[q] != '.' && s[q] != '/') q++;
        high_entropy(sc, s, p, q);
        p = q + 1;
    }
    return b;
}

/* At an '=' or ':' at s[i]: the key token before it (past spaces and a closing
** quote) and, if it names a secret, the value after it.  Returns the offset to
** resume at, or 0 if nothing was reported. */
static size_t assignment_at(const secrets_det *d, pp_scan *sc, const char *s, size_t n, size_t i) {
    size_t k = i;
    while (k > 0 && s[k - 1] == ' ' && i - k < 4) k--;
    if (k > 0 && (s[k - 1] == '"' || s[k - 1] == '\'')) k--;
    size_t b = k, a = k;
    while (a > 0 && (d->cls[(unsigned char)s[a - 1]] & C_TOK) && b - a < 64) a--;
    return a < b ? assignment(d, sc, s, n, a, b) : 0;
}

/* The fast path of the scan loop, 16 bytes at a time.  *run is the length (< 10) of
** the token that ends just before p.  Returns how many of p[0..16) the byte loop
** would pass over without leaving its fast path -- the offset of the first '=' or
** ':', or of the byte where a token reaches 10 bytes, else 16 -- and sets *run to
** the token length after those bytes.  Token bytes are C_TOK's: [A-Za-z0-9_+/.-]. */
#if defined(__SSE2__)
static size_t skip16(const char *p, size_t *run) {
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i lc = _mm_sub_epi8(_mm_or_si128(x, _mm_set1_epi8(0x20)), _mm_set1_epi8('a'));
    __m128i al = _mm_cmpeq_epi8(_mm_min_epu8(lc, _mm_set1_epi8(25)), lc);
    __m128i pd = _mm_sub_epi8(x, _mm_set1_epi8('+'));   /* + , - . / 0-9 */
    __m128i pu = _mm_cmpeq_epi8(_mm_min_epu8(pd, _mm_set1_epi8('9' - '+')), pd);
    pu = _mm_andnot_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8(',')), pu);
    __m128i tok = _mm_or_si128(_mm_or_si128(al, pu), _mm_cmpeq_epi8(x, _mm_set1_epi8('_')));
    __m128i as = _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('=')), _mm_cmpeq_epi8(x, _mm_set1_epi8(':')));
    unsigned t = (unsigned)_mm_movemask_epi8(tok);
    unsigned ev = (unsigned)_mm_movemask_epi8(as);
    unsigned m2 = t & (t >> 1), m4 = m2 & (m2 >> 2), m8 = m4 & (m4 >> 4);
    ev |= (m8 & (m2 >> 8)) << 9;                      /* a run of 10 inside: its 10th byte */
    if (*run + (size_t)__builtin_ctz(~t) >= 10) ev |= 1u << (9 - *run);  /* leading run */
    ev &= 0xFFFFu;
    size_t e = ev ? (size_t)__builtin_ctz(ev) : 16;
    unsigned zeros = ~t & ((1u << e) - 1);            /* non-token bytes before e */
    if (zeros) *run = e - 1 - (size_t)(31 - __builtin_clz(zeros));
    else *run += e;
    return e;
}

/* skip16 over 64 bytes at once (four blocks classified, one pass over 64-bit masks):
** what four calls of skip16 in a row would give while each passes all 16 bytes. */
static size_t skip64(const char *p, size_t *run) {
    uint64_t t = 0, ev = 0;
    for (int q = 0; q < 4; q++) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * q));
        __m128i lc = _mm_sub_epi8(_mm_or_si128(x, _mm_set1_epi8(0x20)), _mm_set1_epi8('a'));
        __m128i al = _mm_cmpeq_epi8(_mm_min_epu8(lc, _mm_set1_epi8(25)), lc);
        __m128i pd = _mm_sub_epi8(x, _mm_set1_epi8('+'));
        __m128i pu = _mm_cmpeq_epi8(_mm_min_epu8(pd, _mm_set1_epi8('9' - '+')), pd);
        pu = _mm_andnot_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8(',')), pu);
        __m128i tok = _mm_or_si128(_mm_or_si128(al, pu), _mm_cmpeq_epi8(x, _mm_set1_epi8('_')));
        __m128i as = _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('=')), _mm_cmpeq_epi8(x, _mm_set1_epi8(':')));
        t |= (uint64_t)(unsigned)_mm_movemask_epi8(tok) << (16 * q);
        ev |= (uint64_t)(unsigned)_mm_movemask_epi8(as) << (16 * q);
    }
    uint64_t m2 = t & (t >> 1), m4 = m2 & (m2 >> 2), m8 = m4 & (m4 >> 4);
    ev |= (m8 & (m2 >> 8)) << 9;                        /* a run of 10 inside: its 10th byte */
    size_t lead = ~t ? (size_t)__builtin_ctzll(~t) : 64; /* token bytes at the start */
    if (*run + lead >= 10) ev |= 1ull << (9 - *run);   /* leading run */
    size_t e = ev ? (size_t)__builtin_ctzll(ev) : 64;
    uint64_t zeros = ~t & (e == 64 ? ~0ull : (1ull << e) - 1); /* non-token bytes before e */
    if (zeros) *run = e - 1 - (size_t)(63 - __builtin_clzll(zeros));
    else *run += e;
    return e;
}
#else
static size_t skip16(const char *p, size_t *run) {
    (void)p;
    (void)run;
    return 0;
}
static size_t skip64(const char *p, size_t *run) {
    (void)p;
    (void)run;
    return 0;
}
#endif

static int g_no_skips; /* pp_secrets_set_skips (tests) */
void pp_secrets_set_skips(int allow) { g_no_skips = !allow; }

/* The scan loop.  Prose is short words, and branching on every word boundary
** costs a misprediction each; so the loop keeps a branch-free count of the
** current token's length and leaves the fast path only when a token reaches 10
** bytes (every key format is at least that long; "-----BEGIN" is exactly 10) or at
** an '=' / ':' (assignments).  skip64 and skip16 do the same for 64 and 16 bytes
** at once and hand the byte loop the exact state it would have reached, so which
** bytes take the slow path -- and so the hits -- do not depend on them.  The last
** block of a text is read past its end too (the view has PP_VIEW_SLACK readable
** bytes after n, a NUL first): what skip16 finds there lies at or beyond n, where
** the scan ends anyway, and bytes before n never depend on bytes after them, so a
** short text's tail needs no byte loop. */
static pp_status secrets_scan(const void *self, pp_scan *sc) {
    const secrets_det *d = self;
    const pp_view *v = &sc->text->base;
    const char *s = v->s;
    size_t n = v->n, i = 0, run = 0;
    const size_t end = g_no_skips ? 0 : n; /* where the skips stop */
    _Static_assert(PP_VIEW_SLACK >= 16, "skip16 reads 16 bytes from any i < n");
    while (i < n) {
        if (i + 64 <= end) {
            size_t e = skip64(s + i, &run);
            i += e;
            if (e == 64) continue;
        } else if (i < end) {
            size_t e = skip16(s + i, &run);
            i += e;
            if (e == 16) continue;
            if (i >= n) break;
        }
        unsigned f = d->cls[(unsigned char)s[i]];
        run = (run + 1) & (size_t)-(size_t)(f & C_TOK);
        if (run < 10 && !(f & C_ASSIGN)) { i++; continue; }
        if (f & C_ASSIGN) {
            size_t r = assignment_at(d, sc, s, n, i);
            i = r > i ? r : i + 1;
            run = 0;
            continue;
        }
        size_t a = i + 1 - run, b = i + 1;
        while (b < n && (d->cls[(unsigned char)s[b]] & C_TOK)) b++;
        i = long_token(d, sc, s, n, a, b);
        run = 0;
    }
    return sc->oom ? PARAPET_ERR_NOMEM : PARAPET_OK;
}

/* Builds the byte-class table.  The caller owns *self (secrets_close). */
static pp_status secrets_open(const pp_detector_config *cfg, void **self, char **detail) {
    (void)cfg;
    (void)detail;
    secrets_det *d = pp_calloc(1, sizeof *d);
    if (!d) return PARAPET_ERR_NOMEM;
    for (int c = 0; c < 256; c++) {
        int an = pp_su_alnum((unsigned char)c);
        if (an || c == '_' || c == '+' || c == '/' || c == '.' || c == '-') d->cls[c] |= C_TOK;
        if (an || c == '_' || c == '-') d->cls[c] |= C_B64URL;
        if (an || c == '+' || c == '/') d->cls[c] |= C_B64;
        if (c == '=' || c == ':') d->cls[c] |= C_ASSIGN;
    }
    *self = d;
    return PARAPET_OK;
}

static void secrets_close(void *self) { pp_free(self); }

const pp_detector_vt pp_secrets_detector = {"secrets", secrets_open, secrets_scan, secrets_close};
