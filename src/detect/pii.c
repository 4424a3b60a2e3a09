/*
** pii.c -- the personal-data detector: e-mail addresses, phone numbers, payment
** cards, IBANs, US social security numbers, IPv4 and IPv6 addresses.
**
** Where it sits.  One of the cheap detectors run on every text (DESIGN.md, step 2).
** It scans the BASE view of the pp_text: NFKC has already turned fullwidth digits
** into ASCII and U+00A0 into a space, and zero-width characters smuggled into a
** number are gone, so "４１１１\u200B1111..." reads as an ordinary card number here.
** Every span is mapped back to the caller's original bytes with pp_view_span, and
** the hit's kind (PP_KIND_EMAIL, PP_KIND_CARD, ...) selects the redaction placeholder.
**
** How it scans.  No regex engine: one left-to-right pass that skips every byte that
** cannot start anything (a 256-entry table; ordinary prose is almost all skipped) and
** stops only at three triggers (with SSE2 the skipping goes 16 bytes at a time,
** skip_to_trigger):
**
**   '@'    e-mail: walk back over the local part, forward over the domain;
**   ':'    IPv6: only when a hex digit or another ':' sits next to it;
**   digit  IBAN (when two letters precede it), otherwise a "number candidate": the
**          run of digit groups joined by short separators (" ", "-", ".", "/", "(",
**          ")") that starts at a word boundary.  The candidate is classified as a
**          whole and, failing that, in windows cut only where a separator contains a
**          space, so "card 4111 1111 1111 1111 exp 12" and "call 415-555-2671 now"
**          both find their number, while "1.2.3.4.5" can never be read as "1.2.3.4".
**
** Each number format must validate: cards by Luhn plus a known IIN range and a
** plausible grouping; IBANs by country length and mod-97; SSNs by the SSA's
** never-issued ranges; IPv4 by octet range.  Phones, which have no checksum, need a
** recognisable national layout, a leading '+', or a phone word just before them,
** and get lower weights.  Dates, prices, versions and card numbers are not phones:
** each phone layout names the exact group lengths it accepts.
**
** Assumptions: the view is NUL-terminated (s[n] == 0, so one byte of look-ahead is
** always safe), and the detector has no state, so open returns a dummy handle.
*/
#include "scan_util.h"
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Weights: structural checks that random text almost never passes (Luhn + IIN,
** mod-97, the e-mail grammar) give strong evidence; phone layouts give weaker. */
#define W_EMAIL 0.92f
#define W_CARD 0.95f
#define W_IBAN 0.95f
#define W_SSN 0.90f
#define W_SSN_CTX 0.80f
#define W_IP 0.60f
#define W_PHONE_E164 0.80f
#define W_PHONE_NANP 0.75f
#define W_PHONE_NANP_SPACED 0.65f
#define W_PHONE_NATIONAL 0.70f
#define W_PHONE_CTX 0.60f

/* --------------------------------------------------------------- e-mail ---- */

static int email_local_ch(unsigned char c) {
    return pp_su_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

/* E-mail around the '@' at s[at].  On success returns 1 and the view span in
** [*a,*e): a local part of 1..64 chars without leading, trailing or doubled dots,
** and a domain of 2+ labels (alnum and inner '-', 1..63 chars each) whose last label,
** the TLD, is 2+ letters.  A sentence's final '.' is not part of the domain. */
static int email_at(const char *s, size_t n, size_t at, size_t *a_out, size_t *e_out) {
    size_t a = at;
    while (a > 0 && email_local_ch((unsigned char)s[a - 1]) && at - a < 64) a--;
    if (a > 0 && email_local_ch((unsigned char)s[a - 1])) return 0; /* local part > 64 */
    while (a < at && (s[a] == '.' || s[a] == '-' || s[a] == '+')) a++;
    if (a == at || s[at - 1] == '.') return 0;
    for (size_t i = a; i + 1 < at; i++)
        if (s[i] == '.' && s[i + 1] == '.') return 0;

    size_t j = at + 1, labels = 0, last = j;
    for (;;) {
        size_t l = j;
        while (j < n && (pp_su_alnum((unsigned char)s[j]) || s[j] == '-') && j - l < 64) j++;
        if (j == l || j - l > 63 || s[l] == '-' || s[j - 1] == '-') return 0;
        labels++;
        last = l;
        if (j + 1 < n && s[j] == '.' && pp_su_alnum((unsigned char)s[j + 1])) { j++; continue; }
        break;
    }
    if (labels < 2 || j - (at + 1) > 253 || j - last < 2) return 0;
    for (size_t i = last; i < j; i++)
        if (!pp_su_alpha((unsigned char)s[i])) return 0;
    if (j < n && (s[j] == '@' || s[j] == '_')) return 0;
    *a_out = a;
    *e_out = j;
    return 1;
}

/* ----------------------------------------------------------------- IPv6 ---- */

/* Dotted quad in p[0..L) exactly: 4 octets 0..255, no leading zeros. */
static int ipv4_valid(const char *p, size_t L) {
    int parts = 0;
    size_t i = 0;
    while (i <= L) {
        size_t j = i;
        unsigned v = 0;
        while (j < L && pp_su_digit((unsigned char)p[j]) && j - i < 4) v = v * 10 + (unsigned)(p[j++] - '0');
        if (j == i || j - i > 3 || v > 255 || (j - i > 1 && p[i] == '0')) return 0;
        parts++;
        if (j == L) break;
        if (p[j] != '.' || parts == 4) return 0;
        i = j + 1;
    }
    return parts == 4;
}

/* Full or compressed IPv6 text form in p[0..L), with an optional IPv4 tail
** ("::ffff:192.0.2.128").  "::" alone (the unspecified address) is rejected: it is
** far more often punctuation than an address. */
static int ipv6_valid(const char *p, size_t L) {
    int groups = 0, dbl = 0;
    size_t i = 0;
    if (L < 3) return 0;
    if (p[0] == ':') {
        if (p[1] != ':') return 0;
        dbl = 1;
        i = 2;
    }
    while (i < L) {
        size_t j = i;
        while (j < L && pp_su_hex((unsigned char)p[j]) && j - i < 5) j++;
        if (j < L && p[j] == '.') {             /* IPv4 tail, counts two groups */
            if (!ipv4_valid(p + i, L - i)) return 0;
            groups += 2;
            break;
        }
        if (j == i || j - i > 4) return 0;
        groups++;
        if (j == L) break;
        if (p[j] != ':') return 0;
        if (j + 1 < L && p[j + 1] == ':') {
            if (dbl) return 0;
            dbl = 1;
            i = j + 2;
            continue;
        }
        if (j + 1 == L) return 0;                /* trailing single ':' */
        i = j + 1;
    }
    if (groups == 0) return 0;
    return dbl ? groups <= 7 : groups == 8;
}

static int v6_ch(unsigned char c) { return pp_su_hex(c) || c == ':' || c == '.'; }

/* IPv6 around the ':' at s[i].  Returns the view offset to resume scanning from
** (past the whole hex/colon token, whether or not it was an address). */
static size_t ipv6_at(pp_scan *sc, const char *s, size_t n, size_t i) {
    int left = i > 0 && (pp_su_hex((unsigned char)s[i - 1]) || s[i - 1] == ':');
    int right = i + 1 < n && (pp_su_hex((unsigned char)s[i + 1]) || s[i + 1] == ':');
    if (!right || (!left && s[i + 1] != ':')) return i + 1;
    size_t a = i, e = i;
    while (a > 0 && v6_ch((unsigned char)s[a - 1]) && i - a < 45) a--;
    while (e < n && v6_ch((unsigned char)s[e]) && e - a < 64) e++;
    size_t resume = e;
    while (e > a && s[e - 1] == '.') e--;
    if (e - a >= 2 && s[e - 1] == ':' && s[e - 2] != ':') e--;
    if ((a > 0 && (pp_su_word((unsigned char)s[a - 1]) || s[a - 1] == '.')) ||
        (e < n && pp_su_word((unsigned char)s[e])))
        return resume;
    if (ipv6_valid(s + a, e - a))
        pp_su_report(sc, PP_CAT_PII, W_IP, a, e, PP_DET_PII, PP_KIND_IPV6, "ipv6");
    return resume;
}

/* ----------------------------------------------------------------- IBAN ---- */

/* Total IBAN length per country (ISO 13616 registry), for the countries people
** are likely to paste.  Unknown countries are not reported: the length check is
** half of what keeps random "AB12..." strings out. */
static const struct { char cc[3]; unsigned char len; } iban_lengths[] = {
    {"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20}, {"BE", 16},
    {"BG", 22}, {"BH", 22}, {"BR", 29}, {"CH", 21}, {"CR", 22}, {"CY", 28}, {"CZ", 24},
    {"DE", 22}, {"DK", 18}, {"DO", 28}, {"EE", 20}, {"EG", 29}, {"ES", 24}, {"FI", 18},
    {"FO", 18}, {"FR", 27}, {"GB", 22}, {"GE", 22}, {"GI", 23}, {"GL", 18}, {"GR", 27},
    {"GT", 28}, {"HR", 21}, {"HU", 28}, {"IE", 22}, {"IL", 23}, {"IS", 26}, {"IT", 27},
    {"JO", 30}, {"KW", 30}, {"KZ", 20}, {"LB", 28}, {"LI", 21}, {"LT", 20}, {"LU", 20},
    {"LV", 21}, {"MC", 27}, {"MD", 24}, {"ME", 22}, {"MK", 19}, {"MR", 27}, {"MT", 31},
    {"MU", 30}, {"NL", 18}, {"NO", 15}, {"PK", 24}, {"PL", 28}, {"PS", 29}, {"PT", 25},
    {"QA", 29}, {"RO", 24}, {"RS", 22}, {"SA", 24}, {"SE", 24}, {"SI", 19}, {"SK", 24},
    {"SM", 27}, {"TN", 24}, {"TR", 26}, {"UA", 29}, {"VG", 24}, {"XK", 20},
};

static int iban_country_len(char c0, char c1) {
    for (size_t k = 0; k < PP_ARRAY_LEN(iban_lengths); k++)
        if (iban_lengths[k].cc[0] == c0 && iban_lengths[k].cc[1] == c1) return iban_lengths[k].len;
    return 0;
}

/* IBAN starting at s[a] (two letters, two digits already checked by the caller),
** written solid or in space-separated groups of four.  Returns the view end, or 0. */
static size_t iban_at(const char *s, size_t n, size_t a) {
    char buf[34];
    char c0 = (char)(s[a] & ~0x20), c1 = (char)(s[a + 1] & ~0x20);
    int L = iban_country_len(c0, c1), k = 0;
    if (!L) return 0;
    size_t j = a;
    while (k < L) {
        unsigned char c = (unsigned char)s[j];
        if (j < n && pp_su_alnum(c)) {
            buf[k++] = (char)(pp_su_lower(c) ? c & ~0x20 : c);
            j++;
        } else if (j + 1 < n && c == ' ' && k % 4 == 0 && pp_su_alnum((unsigned char)s[j + 1])) {
            j++;
        } else {
            break;
        }
    }
    if (k != L || (j < n && pp_su_word((unsigned char)s[j]))) return 0;
    /* mod-97 of BBAN + country + check digits, letters as 10..35 */
    unsigned r = 0;
    for (int m = 0; m < L; m++) {
        unsigned char c = (unsigned char)buf[(m + 4) % L];
        r = pp_su_digit(c) ? (r * 10 + (c - '0')) % 97 : (r * 100 + (c - 'A' + 10)) % 97;
    }
    return r == 1 ? j : 0;
}

/* -------------------------------------------------------------- numbers ---- */

#define MAX_GROUPS 8
#define MAX_DIGITS 24

/* A run of digit groups joined by short separators, all as view offsets. */
typedef struct num_cand {
    size_t gs[MAX_GROUPS], ge[MAX_GROUPS]; /* group g is [gs,ge) */
    size_t ss[MAX_GROUPS], se[MAX_GROUPS]; /* separator after group g is [ss,se) */
    int ng;
    size_t begin;   /* view start incl. a leading '+' or '(' */
    int plus;       /* '+' before group 0 */
    int paren0;     /* '(' before group 0 */
    int tail_ok;    /* the last group is not glued to a word, '@' or ",ddd" */
} num_cand;

typedef struct num_match {
    int kind;
    const char *rule;
    float w;
} num_match;

static int sep_ch(unsigned char c) {
    return c == ' ' || c == '-' || c == '.' || c == '/' || c == '(' || c == ')';
}

/* A separator of 1..3 bytes: at most one space, one of "-./", one '(' , one ')'. */
static int sep_ok(const char *p, size_t L) {
    int sp = 0, mark = 0, op = 0, cl = 0;
    for (size_t i = 0; i < L; i++) {
        char c = p[i];
        if (c == ' ') sp++;
        else if (c == '(') op++;
        else if (c == ')') cl++;
        else mark++;
    }
    return L >= 1 && L <= 3 && sp <= 1 && mark <= 1 && op <= 1 && cl <= 1;
}

static int has_space(const char *s, size_t a, size_t b) {
    for (size_t i = a; i < b; i++)
        if (s[i] == ' ') return 1;
    return 0;
}

/* Can a number start at digit s[i]?  Not inside a word ("A380", "x86"), not after
** "1." or "1," (the tail of a decimal or a version), not after '$' (a price). */
static int num_boundary(const char *s, size_t i) {
    if (i == 0) return 1;
    unsigned char p = (unsigned char)s[i - 1];
    if (pp_su_word(p) || p == '$') return 0;
    if ((p == '.' || p == ',' || p == '-' || p == '/') && i >= 2 &&
        pp_su_alnum((unsigned char)s[i - 2]))
        return 0;
    return 1;
}

static void gather(const char *s, size_t n, size_t i, num_cand *c) {
    c->ng = 0;
    c->begin = i;
    c->plus = c->paren0 = 0;
    if (i > 0 && s[i - 1] == '+' && (i == 1 || !pp_su_word((unsigned char)s[i - 2]))) {
        c->plus = 1;
        c->begin = i - 1;
    } else if (i > 0 && s[i - 1] == '(') {
        c->paren0 = 1;
        c->begin = i - 1;
    }
    size_t p = i;
    for (;;) {
        size_t q = p;
        while (q < n && pp_su_digit((unsigned char)s[q])) q++;
        int g = c->ng++;
        c->gs[g] = p;
        c->ge[g] = q;
        c->ss[g] = c->se[g] = q;
        if (c->ng == MAX_GROUPS) break;
        size_t j = q;
        while (j < n && j - q < 3 && sep_ch((unsigned char)s[j])) j++;
        if (j == q || j >= n || !pp_su_digit((unsigned char)s[j]) || !sep_ok(s + q, j - q)) break;
        c->se[g] = j;
        p = j;
    }
    size_t q = c->ge[c->ng - 1];
    unsigned char t = (unsigned char)s[q];   /* s[n] == 0 */
    c->tail_ok = !(pp_su_word(t) || t == '@' ||
                   ((t == ',' || t == '.') && pp_su_digit((unsigned char)s[q + 1])));
}

static int luhn_ok(const char *d, int nd) {
    int sum = 0;
    for (int i = nd - 1, k = 0; i >= 0; i--, k++) {
        int v = d[i] - '0';
        if (k & 1) { v *= 2; if (v > 9) v -= 9; }
        sum += v;
    }
    return sum % 10 == 0;
}

static int prefix_num(const char *d, int k) {
    int v = 0;
    for (int i = 0; i < k; i++) v = v * 10 + (d[i] - '0');
    return v;
}

/* Card network by IIN and length, or NULL. */
static const char *card_network(const char *d, int nd) {
    int p1 = d[0] - '0', p2 = prefix_num(d, 2), p3 = prefix_num(d, 3), p4 = prefix_num(d, 4);
    if ((p2 == 34 || p2 == 37) && nd == 15) return "card.amex";
    if (p1 == 4 && (nd == 13 || nd == 16 || nd == 19)) return "card.visa";
    if (((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) && nd == 16) return "card.mastercard";
    if ((p4 == 6011 || p2 == 65 || (p3 >= 644 && p3 <= 649)) && nd >= 16) return "card.discover";
    if (p4 >= 3528 && p4 <= 3589 && nd >= 16) return "card.jcb";
    if ((p2 == 36 || p2 == 38 || p2 == 39 || (p3 >= 300 && p3 <= 305) || p4 == 3095) && nd >= 14)
        return "card.diners";
    if (p2 == 62 && nd >= 16) return "card.unionpay";
    return NULL;
}

static int ssn_valid(const char *d) {
    int area = prefix_num(d, 3), group = prefix_num(d + 3, 2), serial = prefix_num(d + 5, 4);
    return area != 0 && area != 666 && area < 900 && group != 0 && serial != 0;
}

static const char *const phone_words[] = {
    "phone", "tel", "call", "mobile", "cell", "whatsapp", "fax", "sms", "text me",
    "reach me", "dial", "contact", "telefon", "handy", "portable", "numero", "número", NULL};
static const char *const ssn_words[] = {"ssn", "social security", "ss#", "soc sec", NULL};
static const char *const version_words[] = {"version", "ver.", "release", "build", NULL};

/* Classifies groups [a..b] of candidate c.  Returns 1 and fills *m on a match. */
static int classify(const char *s, const num_cand *c, int a, int b, size_t start,
                    num_match *m) {
    char d[MAX_DIGITS + 1];
    int len[MAX_GROUPS], nw = b - a + 1, nd = 0;
    for (int g = a; g <= b; g++) {
        int L = (int)(c->ge[g] - c->gs[g]);
        if (nd + L > MAX_DIGITS) return 0;
        memcpy(d + nd, s + c->gs[g], (size_t)L);
        len[g - a] = L;
        nd += L;
    }
    d[nd] = 0;
    int plus = a == 0 && c->plus;
    int paren = (a == 0 && c->paren0) || (a > 0 && s[c->gs[a] - 1] == '(');

    /* Separators inside the window, as short strings. */
    char sep[MAX_GROUPS][4];
    int uniform = 1, any_dot = 0, all_dot = nw > 1;
    for (int g = a; g < b; g++) {
        size_t L = c->se[g] - c->ss[g];
        memcpy(sep[g - a], s + c->ss[g], L);
        sep[g - a][L] = 0;
        if (g > a && strcmp(sep[g - a], sep[0])) uniform = 0;
        if (strchr(sep[g - a], '.')) any_dot = 1;
        if (strcmp(sep[g - a], ".")) all_dot = 0;
    }
    const char *u = nw > 1 && uniform ? sep[0] : NULL; /* the one separator, if uniform */

    /* IPv4: exactly four dotted octets (a fifth would have joined the candidate). */
    if (all_dot && nw == 4) {
        if (plus || paren) return 0;
        if (!ipv4_valid(s + c->gs[a], c->ge[b] - c->gs[a])) return 0;
        if (pp_su_context_before(s, start, 12, version_words)) return 0;
        *m = (num_match){PP_KIND_IPV4, "ipv4", W_IP};
        return 1;
    }
    if (any_dot && !all_dot) return 0;

    /* US SSN: 3-2-4 with dashes, or with spaces / bare nine digits near "SSN". */
    if (nd == 9 && !plus && !paren) {
        int shape = nw == 3 && len[0] == 3 && len[1] == 2 && len[2] == 4;
        if (shape && u && !strcmp(u, "-") && ssn_valid(d)) {
            *m = (num_match){PP_KIND_SSN, "ssn", W_SSN};
            return 1;
        }
        if (((shape && u && !strcmp(u, " ")) || nw == 1) && ssn_valid(d) &&
            pp_su_context_before(s, start, 40, ssn_words)) {
            *m = (num_match){PP_KIND_SSN, "ssn.context", W_SSN_CTX};
            return 1;
        }
    }

    /* Payment card: 13..19 digits, solid or in groups of four (Amex 4-6-5, Diners
    ** 4-6-4), Luhn-valid, in a known IIN range. */
    if (nd >= 13 && nd <= 19 && !plus && !paren && (nw == 1 || (u && (!strcmp(u, " ") || !strcmp(u, "-"))))) {
        int shape = nw == 1 || (nw == 3 && len[0] == 4 && len[1] == 6 && (len[2] == 5 || len[2] == 4));
        if (!shape && nw > 1) {
            shape = len[nw - 1] >= 1 && len[nw - 1] <= 4;
            for (int g = 0; g < nw - 1; g++)
                if (len[g] != 4) shape = 0;
        }
        const char *net = shape && luhn_ok(d, nd) ? card_network(d, nd) : NULL;
        if (net) {
            *m = (num_match){PP_KIND_CARD, net, W_CARD};
            return 1;
        }
        if (shape && nw > 1) return 0; /* card-shaped but invalid: not a phone either */
    }

    /* Phones.  International: '+', country code, 8..15 digits in all. */
    if (plus) {
        if (nd >= 8 && nd <= 15 && d[0] != '0' && len[0] <= (nw == 1 ? 15 : 4)) {
            *m = (num_match){PP_KIND_PHONE, "phone.e164", W_PHONE_E164};
            return 1;
        }
        return 0;
    }
    /* North American: [1] (415) 555-2671, 415-555-2671, 415.555.2671, 415 555 2671. */
    {
        int o = nw == 4 && len[0] == 1 && d[0] == '1' ? 1 : 0;
        if (nw - o == 3 && len[o] == 3 && len[o + 1] == 3 && len[o + 2] == 4) {
            const char *ar = d + o, *ex = d + o + 3;
            int digits_ok = ar[0] >= '2' && ex[0] >= '2';
            const char *s1 = sep[o], *s2 = sep[o + 1];
            int par = (o == 0 ? paren : !strcmp(sep[0], " (") || !strcmp(sep[0], "(")) &&
                      (!strcmp(s1, ")") || !strcmp(s1, ") ")) &&
                      (!strcmp(s2, "-") || !strcmp(s2, " ") || !strcmp(s2, "."));
            int same = !paren && !strcmp(s1, s2) &&
                       (!strcmp(s1, "-") || !strcmp(s1, ".") || !strcmp(s1, " ")) &&
                       (o == 0 || !strcmp(sep[0], s1) || !strcmp(sep[0], " "));
            if (digits_ok && (par || same)) {
                float w = (par || strcmp(s1, " ")) ? W_PHONE_NANP : W_PHONE_NANP_SPACED;
                *m = (num_match){PP_KIND_PHONE, "phone.nanp", w};
                return 1;
            }
        }
    }
    /* National with trunk prefix 0 (UK 020 7946 0958, 07700 900123; DE 030 12345678;
    ** FR 06 12 34 56 78): 10..12 digits in 2..5 groups of 2+ under one separator. */
    if (d[0] == '0' && d[1] != '0' && nd >= 10 && nd <= 12 && nw >= 2 && nw <= 5) {
        int ok = 1;
        for (int g = 0; g < nw; g++)
            if (len[g] < 2) ok = 0;
        const char *s0 = nw > 1 ? sep[0] : "";
        if (paren) {   /* (030) 12345678 */
            ok = ok && (!strcmp(s0, ")") || !strcmp(s0, ") "));
            for (int g = 1; g < nw - 1; g++)
                if (strcmp(sep[g], " ") && strcmp(sep[g], "-")) ok = 0;
        } else if (!u) {
            ok = 0;
        } else if (!strcmp(u, ".")) {
            for (int g = 0; g < nw; g++)
                if (len[g] != 2) ok = 0;   /* only the French 06.12.34.56.78 */
        } else if (!strcmp(u, "/")) {
            ok = ok && nw == 2;          /* German 030/12345678 */
        } else if (strcmp(u, " ") && strcmp(u, "-")) {
            ok = 0;
        }
        if (ok) {
            *m = (num_match){PP_KIND_PHONE, "phone.national", W_PHONE_NATIONAL};
            return 1;
        }
    }
    /* India 98765 43210; China mobile 138 0013 8000. */
    if (nw == 2 && len[0] == 5 && len[1] == 5 && d[0] >= '6' && u && (!strcmp(u, " ") || !strcmp(u, "-"))) {
        *m = (num_match){PP_KIND_PHONE, "phone.in", W_PHONE_NATIONAL};
        return 1;
    }
    if (nw == 3 && len[0] == 3 && len[1] == 4 && len[2] == 4 && d[0] == '1' && d[1] >= '3' &&
        u && (!strcmp(u, " ") || !strcmp(u, "-"))) {
        *m = (num_match){PP_KIND_PHONE, "phone.cn", W_PHONE_NATIONAL};
        return 1;
    }
    /* Anything else phone-sized right after a phone word ("call 4155552671"), unless
    ** it is shaped like a date (2024-01-15, 15/01/2024) or a dotted number. */
    if (nd >= 7 && nd <= 15 && !any_dot) {
        int date = nw == 3 && u && (!strcmp(u, "-") || !strcmp(u, "/")) &&
                   ((len[0] == 4 && len[1] <= 2 && len[2] <= 2) ||
                    (len[0] <= 2 && len[1] <= 2 && (len[2] == 4 || len[2] == 2)));
        if (!date && pp_su_context_before(s, start, 40, phone_words)) {
            *m = (num_match){PP_KIND_PHONE, "phone.context", W_PHONE_CTX};
            return 1;
        }
    }
    return 0;
}

/* Scans the number candidate at digit s[i] and reports what it holds.  Tries the
** whole candidate first, then shorter windows, cutting only at separators that
** contain a space.  Returns the view offset to resume from (past the candidate). */
static size_t numbers_at(pp_scan *sc, const char *s, size_t n, size_t i) {
    num_cand c;
    gather(s, n, i, &c);
    /* fast exit for the short numbers of prose ("in 2019", "10:30"): every rule needs
    ** 7+ digits except IPv4, which needs four groups */
    if (c.ng < 4 && c.ge[c.ng - 1] - c.gs[0] < 7) return c.ge[c.ng - 1];
    for (int a = 0; a < c.ng;) {
        int found = -1;
        if (a == 0 || has_space(s, c.ss[a - 1], c.se[a - 1])) {
            size_t start = a == 0 ? c.begin : (s[c.gs[a] - 1] == '(' ? c.gs[a] - 1 : c.gs[a]);
            for (int b = c.ng - 1; b >= a && found < 0; b--) {
                if (b == c.ng - 1 ? !c.tail_ok : !has_space(s, c.ss[b], c.se[b])) continue;
                num_match m;
                if (classify(s, &c, a, b, start, &m)) {
                    pp_su_report(sc, PP_CAT_PII, m.w, start, c.ge[b], PP_DET_PII, m.kind, m.rule);
                    found = b;
                }
            }
        }
        a = found >= 0 ? found + 1 : a + 1;
    }
    return c.ge[c.ng - 1];
}

/* ----------------------------------------------------------------- scan ---- */

/* Bytes that can start a match: digits, '@', ':'.  Everything else is skipped. */
static const unsigned char pii_trigger[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1,
    ['7'] = 1, ['8'] = 1, ['9'] = 1, ['@'] = 1, [':'] = 1,
};

static int g_no_skips; /* pp_pii_set_skips (tests) */
void pp_pii_set_skips(int allow) { g_no_skips = !allow; }

/* The offset of the first byte at or after i that may be a trigger, 16 bytes at a
** time (without SSE2: i, and the byte loop does it all).  The last block is read
** past n (the view has PP_VIEW_SLACK readable bytes after it: a NUL, then bytes of
** no meaning), so a short text's tail needs no byte loop: a first trigger found at or
** beyond n means none before it, and the result is then n or more. */
static size_t skip_to_trigger(const char *s, size_t n, size_t i) {
#if defined(__SSE2__)
    _Static_assert(PP_VIEW_SLACK >= 16, "16 bytes are read from any i < n");
    const size_t end = g_no_skips ? 0 : n;
    for (;;) {
        if (i >= end) return i;
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        __m128i d = _mm_sub_epi8(x, _mm_set1_epi8('0'));      /* '0'..'9' and ':' */
        __m128i t = _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(10)), d);
        t = _mm_or_si128(t, _mm_cmpeq_epi8(x, _mm_set1_epi8('@')));
        unsigned m = (unsigned)_mm_movemask_epi8(t);
        if (m) {
            size_t k = i + (size_t)__builtin_ctz(m);
            return k < n ? k : n;
        }
        i += 16;
    }
#else
    (void)s;
    (void)n;
#endif
    return i;
}

static pp_status pii_scan(const void *self, pp_scan *sc) {
    (void)self;
    const pp_view *v = &sc->text->base;
    const char *s = v->s;
    size_t n = v->n, i = 0;
    while (i < n) {
        i = skip_to_trigger(s, n, i);
        while (i < n && !pii_trigger[(unsigned char)s[i]]) i++;
        if (i >= n) break;
        unsigned char c = (unsigned char)s[i];
        if (c == '@') {
            size_t a, e;
            if (email_at(s, n, i, &a, &e)) {
                pp_su_report(sc, PP_CAT_PII, W_EMAIL, a, e, PP_DET_PII, PP_KIND_EMAIL, "email");
                i = e;
            } else {
                i++;
            }
            continue;
        }
        if (c == ':') {
            i = ipv6_at(sc, s, n, i);
            continue;
        }
        /* a digit */
        if (i >= 2 && pp_su_alpha((unsigned char)s[i - 2]) && pp_su_alpha((unsigned char)s[i - 1]) &&
            (i == 2 || !pp_su_word((unsigned char)s[i - 3])) && pp_su_digit((unsigned char)s[i + 1])) {
            size_t e = iban_at(s, n, i - 2);
            if (e) {
                pp_su_report(sc, PP_CAT_PII, W_IBAN, i - 2, e, PP_DET_PII, PP_KIND_IBAN, "iban");
                i = e;
                continue;
            }
        }
        if (!num_boundary(s, i)) {
            while (i < n && pp_su_digit((unsigned char)s[i])) i++;
            continue;
        }
        i = numbers_at(sc, s, n, i);
    }
    return sc->oom ? PARAPET_ERR_NOMEM : PARAPET_OK;
}

/* The detector has no compiled state; a non-NULL dummy marks it open. */
static pp_status pii_open(const pp_detector_config *cfg, void **self, char **detail) {
    (void)cfg;
    (void)detail;
    static const char dummy = 0;
    *self = (void *)&dummy;
    return PARAPET_OK;
}

static void pii_close(void *self) { (void)self; }

const pp_detector_vt pp_pii_detector = {"pii", pii_open, pii_scan, pii_close};
