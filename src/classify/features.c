/*
** features.c -- hashed word and character n-grams of a fold view, for the learned
** classifier (see classify.h for the feature definition).
**
** The extractor is a small resumable state machine over code points: it keeps the
** last few code points of the "space-separated stream" (word characters as they are,
** every run of anything else as one space) in a ring, and the hash of the token being
** read plus the previous one.  Each code point pushed to the stream emits its
** n-grams ending there; each token end emits the unigram and the bigram.  Nothing is
** allocated, so the same code serves training (features stored) and the hot path
** (features summed straight into the model's accumulators).
**
** Hashing: a multiply-xor mix per code point and a one-multiply finalizer (fold the
** high half down, multiply by an odd constant, take the top bits).  The hash is part
** of the model file's contract: change it and every model must be retrained, so the
** file version must change with it (version 2 introduced this one).
**
** Shape features (PP_FEAT_SHAPES, a header flag so that older models score exactly
** as before): at each token end with digits, the digit count and whether letters
** were mixed in; each symbol code point the stream turns into a space ("£", "@",
** "[", "{", emoji); at the end, floor(log2(token count)).  They carry what the
** n-grams of the folded stream lose: phone numbers and short codes in spam,
** template punctuation and length in prompt-injection text.
**
** Dedup (pp_feat_dedup): features are binary, one count per distinct bucket, checked
** against a bitset the caller zeroes per text.  This is what keeps long documents
** cheap: natural text repeats most of its n-grams within a 64 KB window, and a repeat
** costs one L1 bit test instead of a weight-row fetch.
*/
#include "classify.h"

#define MIX_P 0x9E3779B97F4A7C15ull
#define TAG_UNI 0x5151515151515151ull
#define TAG_BI 0xB1B1B1B1B1B1B1B1ull
#define TAG_CHAR 0xC4C4C4C4C4C4C4C4ull
#define TAG_DIGITS 0xD1D1D1D1D1D1D1D1ull
#define TAG_SYM 0x5E5E5E5E5E5E5E5Eull
#define TAG_LEN 0x1E1E1E1E1E1E1E1Eull

static inline uint32_t bucket_of(uint64_t h, unsigned bits) {
    h = (h ^ (h >> 31)) * 0xD6E8FEB86659FD93ull;
    /* Top bits choose the bucket, the next bit the sign. */
    return (uint32_t)((h >> (64 - bits)) << 1) | (uint32_t)((h >> (63 - bits)) & 1);
}

size_t pp_feat_dedup(uint64_t *seen, uint32_t *f, size_t k) {
    /* Branch-free: whether a bucket repeats is unpredictable, so write every feature
    ** and advance the output only for new ones. */
    size_t m = 0;
    for (size_t i = 0; i < k; i++) {
        uint32_t v = f[i], b = v >> 1;
        uint64_t w = seen[b >> 6], bit = 1ull << (b & 63);
        seen[b >> 6] = w | bit;
        f[m] = v;
        m += (w & bit) == 0;
    }
    return m;
}

void pp_feat_begin(pp_feat_iter *it, const pp_feat_params *p, const char *s, size_t n) {
    *it = (pp_feat_iter){0};
    it->s = s;
    it->n = n;
    it->p = *p;
    /* The stream starts with a space so that the first word's n-grams see its edge. */
    it->ring[0] = ' ';
    it->nring = 1;
}

/* Appends cp to the stream and writes its n-grams into out; returns how many.
** Hot: runs once per code point.  The ring shift and the hash chain are unrolled to
** the fixed maximum (6) and the outputs written unconditionally, the count advanced
** only for the lengths wanted, so there is no data-dependent branch. */
static size_t push_cp(pp_feat_iter *it, uint32_t cp, uint32_t *out) {
    uint32_t *r = it->ring;
    r[7] = r[6]; r[6] = r[5]; r[5] = r[4]; r[4] = r[3]; r[3] = r[2]; r[2] = r[1]; r[1] = r[0];
    r[0] = cp;
    it->nring += it->nring < 8;
    const unsigned lo = it->p.char_min, hi = PP_MIN(it->p.char_max, it->nring), bits = it->p.hash_bits;
    size_t m = 0;
    uint64_t h = TAG_CHAR;
    /* ring[0] is the newest; the n-gram of length len is ring[len-1..0]. Hash from
    ** the newest backwards so every length reuses the shorter one's prefix. */
    for (unsigned len = 1; len <= 6; len++) {
        h = (h ^ r[len - 1]) * MIX_P;
        out[m] = bucket_of(h ^ len, bits);
        m += (len >= lo) & (len <= hi);
    }
    return m;
}

/* Ends the current token (if any) and writes its unigram and bigram, and with shape
** features, for a token with digits, its shape: the digit count (capped at 12) and
** whether letters were mixed in ("83738" and "07008009200" are short codes and phone
** numbers whatever their digits; "2nite" and "150p" are texting style). */
static size_t end_token(pp_feat_iter *it, uint32_t *out) {
    if (!it->in_tok) return 0;
    size_t m = 0;
    out[m++] = bucket_of(it->tok ^ TAG_UNI, it->p.hash_bits);
    if (it->p.word_ngrams >= 2 && it->prev_tok)
        out[m++] = bucket_of((it->prev_tok * MIX_P) ^ it->tok ^ TAG_BI, it->p.hash_bits);
    if ((it->p.flags & PP_FEAT_SHAPES) && it->tok_digits) {
        uint64_t shape = PP_MIN(it->tok_digits, 12u) * 2u + (it->tok_letters > 0);
        out[m++] = bucket_of((shape * MIX_P) ^ TAG_DIGITS, it->p.hash_bits);
    }
    it->prev_tok = it->tok;
    it->in_tok = 0;
    it->tok = 0;
    it->tok_digits = it->tok_letters = 0;
    it->n_tok++;
    return m;
}

/* Shape features: a symbol code point (not a word character, not white space or a
** control character) is a feature of its own, since the stream keeps it only as a
** space: currency signs and "@" in spam, brackets and braces in prompt templates. */
static size_t symbol(const pp_feat_iter *it, uint32_t cp, uint32_t *out) {
    if (!(it->p.flags & PP_FEAT_SHAPES) || cp <= 0x20 || cp == 0x7F || cp == 0x85 || cp == 0xA0 ||
        (cp >= 0x80 && cp < 0xA0) || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x3000)
        return 0;
    out[0] = bucket_of(((uint64_t)cp * MIX_P) ^ TAG_SYM, it->p.hash_bits);
    return 1;
}

/* Shape features: the text's length class, floor(log2(tokens)) capped at 12, once at
** the end (prompt-template jailbreaks run to hundreds of words). */
static size_t length_class(const pp_feat_iter *it, uint32_t *out) {
    if (!(it->p.flags & PP_FEAT_SHAPES)) return 0;
    unsigned c = 0;
    for (size_t n = it->n_tok; n > 1 && c < 12; n >>= 1) c++;
    out[0] = bucket_of(((uint64_t)(c + 1) * MIX_P) ^ TAG_LEN, it->p.hash_bits);
    return 1;
}

size_t pp_feat_next(pp_feat_iter *it, uint32_t *out, size_t cap) {
    size_t m = 0;
    /* Each step writes at most char_max (<= 6) n-grams + 3 token features (unigram,
    ** bigram, digit shape), and a space pushed after a token another 6, plus one
    ** symbol or length-class feature: 16 is always enough room. */
    while (!it->done && cap - m >= 16) {
        if (it->pos >= it->n) {
            m += end_token(it, out + m);
            if (it->nring && it->ring[0] != ' ') m += push_cp(it, ' ', out + m);
            m += length_class(it, out + m);
            it->done = 1;
            break;
        }
        unsigned char c = (unsigned char)it->s[it->pos];
        uint32_t cp;
        size_t k;
        int word, unspaced = 0;
        if (c < 0x80) {
            cp = c;
            k = 1;
            word = (unsigned)((c | 0x20) - 'a') < 26u || (unsigned)(c - '0') < 10u || c == '*';
        } else {
            k = pp_utf8_decode(it->s + it->pos, it->n - it->pos, &cp);
            if (!k) { cp = 0xFFFD; k = 1; word = 0; }
            else {
                word = pp_fold_is_word_byte(it->s, it->n, it->pos);
                if (word) unspaced = pp_script_unspaced(pp_script_of(cp));
            }
        }
        it->pos += k;
        if (!word) {
            m += end_token(it, out + m);
            if (it->ring[0] != ' ') m += push_cp(it, ' ', out + m);
            m += symbol(it, cp, out + m);
            continue;
        }
        if (unspaced) m += end_token(it, out + m); /* each such character is a token */
        it->tok = (it->tok ^ cp) * MIX_P + 1;
        it->in_tok = 1;
        if ((unsigned)(cp - '0') < 10u) it->tok_digits++;
        else it->tok_letters++;
        m += push_cp(it, cp, out + m);
        if (unspaced) m += end_token(it, out + m);
    }
    return m;
}
