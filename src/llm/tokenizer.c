/*
** tokenizer.c -- BPE tokenizers with token ids identical to transformers.js.
**
** Where it sits: the loaders (tok_json.c for a Hugging Face tokenizer.json,
** tok_gguf.c for GGUF metadata) describe a tokenizer in a pp_tok_builder; this file
** turns that into an immutable, thread-shareable pp_tokenizer and runs it.  The
** guard-model engine encodes every prompt with it, so it is written to be fast:
** open-addressing hash tables for the vocabulary and for the merge ranks, a heap
** driven merge loop (O(n log n) in the word length, so a 100 kB run without spaces
** is no problem), and per-call scratch buffers that grow once and are reused for
** every word of the call.
**
** The pipeline of one encode call, mirroring transformers.js step by step:
**
**   1. cut added tokens out of the text (a byte trie, longest match; special
**      tokens only with PARAPET_TOK_PARSE_SPECIAL) and apply their lstrip/rstrip;
**   2. for every other section: the normalizer steps (NFC, Replace, Prepend);
**   3. the pre-tokenizer steps (regex Split, ByteLevel), each splitting every piece
**      of the previous step; regexes are written for JavaScript and are rewritten
**      so that PCRE2 gives the same matches (JS's \s set, ASCII \d \w, JS's `.`,
**      and the case-insensitive contraction group spelled out as JS does);
**   4. BPE on every pre-token: lowest merge rank first, ties to the left (or highest
**      piece score first for GGUF SentencePiece vocabularies); symbols missing
**      from the vocabulary fall back to <0xNN> byte tokens or to <unk>;
**   5. the post-processor's BOS with PARAPET_TOK_ADD_BOS.
**
** Input must be valid UTF-8 (PARAPET_ERR_UTF8 otherwise): the regexes and the
** code-point symbols of SentencePiece are defined on characters, and the
** references (JavaScript strings) cannot even represent invalid input.
*/
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <utf8proc.h>
#include <string.h>
#include <stdio.h>
#include "llm/tokenizer.h"

/* ===================================================================== types ==== */

enum { ATTR_PRESENT = 1, ATTR_ADDED = 2, ATTR_SPECIAL = 4, ATTR_BYTE = 8 };

typedef struct merge_slot {
    uint64_t key;     /* left id << 32 | right id; UINT64_MAX = empty */
    uint32_t rank;
    int32_t res;      /* id of the merged piece */
} merge_slot;

typedef struct trie_node {
    int32_t child, sibling; /* node indexes, -1 none */
    int32_t added;          /* index into t->added_*, -1 if no token ends here */
    uint8_t byte;
} trie_node;

typedef struct pre_step {
    int kind, behavior, add_prefix_space;
    pcre2_code *re; /* NULL: no regex split (ByteLevel without use_regex) */
} pre_step;

struct parapet_tokenizer {
    int kind;
    char name[64];
    /* vocabulary: ids 0..n_vocab-1; holes have attr 0 */
    size_t n_vocab;
    char *pool;           /* all pieces, back to back */
    uint32_t *off, *len;  /* piece of id i: pool[off[i] .. off[i]+len[i]) */
    uint8_t *attr;
    int32_t *vtab;        /* piece -> id, open addressing, -1 empty */
    size_t vmask;
    /* merges */
    merge_slot *mtab;
    size_t mmask, n_merges;
    float *scores;        /* score-ordered SentencePiece (GGUF); NULL: by rank */
    /* initial symbols */
    int32_t byte_sym[256]; /* BYTE_BPE: id of the mapped character of each byte */
    int32_t byte_tok[256]; /* SPM: id of <0xNN>, -1 if absent */
    int32_t *cp_id;        /* SPM: id of each BMP code point as a piece, -1 */
    /* added tokens */
    trie_node *trie;
    size_t n_trie;
    uint8_t trie_first[32]; /* bitmap of first bytes */
    int32_t *added_id;
    uint8_t *added_flags;   /* 1 special, 2 lstrip, 4 rstrip */
    size_t n_added;
    /* pipeline */
    pp_tok_norm_step norm[PP_TOK_MAX_STEPS];
    size_t n_norm;
    pre_step pre[PP_TOK_MAX_STEPS];
    size_t n_pre;
    int ignore_merges, byte_fallback, fuse_unk, add_bos;
    int32_t unk_id, bos_id, eos_id;
    int dec_spm, dec_strip_start;
};

/* ============================================================ small helpers ==== */

/* A fast 64-bit hash over bytes (8 at a time); not for security. */
static uint64_t hash_bytes(const char *s, size_t n) {
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xff51afd7ed558ccdull);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
        h ^= h >> 31;
        s += 8;
        n -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, s, n);
    h = (h ^ w) * 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 29;
    return h;
}

static uint64_t hash_u64(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

static size_t pow2_at_least(size_t n) {
    size_t c = 16;
    while (c < n) c <<= 1;
    return c;
}

/* Length of the UTF-8 sequence that starts with lead byte c (1 for stray bytes;
** input has been validated before this is used). */
static inline size_t u8len(unsigned char c) {
    return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

static inline uint32_t u8dec(const unsigned char *p, size_t n) {
    switch (n) {
    case 1: return p[0];
    case 2: return ((uint32_t)(p[0] & 0x1F) << 6) | (p[1] & 0x3F);
    case 3: return ((uint32_t)(p[0] & 0x0F) << 12) | ((uint32_t)(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
    default:
        return ((uint32_t)(p[0] & 0x07) << 18) | ((uint32_t)(p[1] & 0x3F) << 12) |
               ((uint32_t)(p[2] & 0x3F) << 6) | (p[3] & 0x3F);
    }
}

static size_t u8enc(uint32_t cp, char *o) {
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) { o[0] = (char)(0xC0 | (cp >> 6)); o[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12)); o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F)); return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18)); o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Strict UTF-8 validation (no overlongs, no surrogates, <= U+10FFFF). */
static int utf8_valid(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c < 0x80) { i++; continue; }
        size_t k;
        uint32_t min;
        if (c >= 0xC2 && c <= 0xDF) { k = 2; min = 0x80; }
        else if (c >= 0xE0 && c <= 0xEF) { k = 3; min = 0x800; }
        else if (c >= 0xF0 && c <= 0xF4) { k = 4; min = 0x10000; }
        else return 0;
        if (n - i < k) return 0;
        for (size_t j = 1; j < k; j++)
            if ((s[i + j] & 0xC0) != 0x80) return 0;
        uint32_t cp = u8dec(s + i, k);
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
        i += k;
    }
    return 1;
}

/* JavaScript's whitespace (the set of \s and of String.prototype.trim). */
static int js_space(uint32_t c) {
    return (c >= 9 && c <= 13) || c == 0x20 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
           c == 0x205F || c == 0x3000 || c == 0xFEFF;
}

/* GPT-2's byte <-> printable code point table (bytes_to_unicode). */
uint32_t pp_tok_byte_cp(int b) {
    if ((b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF))
        return (uint32_t)b;
    int n = 0;
    for (int x = 0; x < b; x++)
        if (!((x >= 0x21 && x <= 0x7E) || (x >= 0xA1 && x <= 0xAC) || (x >= 0xAE && x <= 0xFF)))
            n++;
    return 256u + (uint32_t)n;
}
/* Inverse: code point (< 0x144) to byte, -1 if not in the table. */
static int cp_to_byte(uint32_t cp) {
    if (cp < 256 && pp_tok_byte_cp((int)cp) == cp) return (int)cp;
    if (cp >= 256 && cp < 256 + 68) {
        int n = (int)(cp - 256);
        for (int x = 0; x < 256; x++)
            if (!((x >= 0x21 && x <= 0x7E) || (x >= 0xA1 && x <= 0xAC) || (x >= 0xAE && x <= 0xFF)))
                if (n-- == 0) return x;
    }
    return -1;
}
static int16_t g_cp2byte[324];
static uint8_t g_map[256][2]; /* UTF-8 of the mapped char of each byte (2 bytes max) */
static uint8_t g_maplen[256];

static void init_byte_tables(void) {
    /* Idempotent and identical on every call, so racing initialisations agree. */
    for (int b = 0; b < 256; b++) {
        char o[4];
        size_t k = u8enc(pp_tok_byte_cp(b), o);
        g_maplen[b] = (uint8_t)k;
        memcpy(g_map[b], o, k);
    }
    for (uint32_t c = 0; c < 324; c++) g_cp2byte[c] = (int16_t)cp_to_byte(c);
}

/* ========================================================= vocabulary table ==== */

static int32_t vt_find(const pp_tokenizer *t, const char *s, size_t n) {
    size_t i = (size_t)hash_bytes(s, n) & t->vmask;
    for (;;) {
        int32_t id = t->vtab[i];
        if (id < 0) return -1;
        if (t->len[id] == n && memcmp(t->pool + t->off[id], s, n) == 0) return id;
        i = (i + 1) & t->vmask;
    }
}

/* Inserts id under its piece; a later id with the same piece replaces the earlier
** one (transformers.js puts added tokens into the same Map after the vocab). */
static void vt_insert(pp_tokenizer *t, int32_t id) {
    const char *s = t->pool + t->off[id];
    size_t n = t->len[id];
    size_t i = (size_t)hash_bytes(s, n) & t->vmask;
    for (;;) {
        int32_t cur = t->vtab[i];
        if (cur < 0) { t->vtab[i] = id; return; }
        if (t->len[cur] == n && memcmp(t->pool + t->off[cur], s, n) == 0) {
            t->vtab[i] = id;
            return;
        }
        i = (i + 1) & t->vmask;
    }
}

static inline int merge_find(const pp_tokenizer *t, int32_t a, int32_t b, uint32_t *rank,
                             int32_t *res) {
    if (!t->mtab || a < 0 || b < 0) return 0;
    uint64_t key = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
    size_t i = (size_t)hash_u64(key) & t->mmask;
    for (;;) {
        const merge_slot *m = &t->mtab[i];
        if (m->key == UINT64_MAX) return 0;
        if (m->key == key) { *rank = m->rank; *res = m->res; return 1; }
        i = (i + 1) & t->mmask;
    }
}

/* ======================================================= regex translation ==== */

#define JS_WS "\\t\\n\\x0B\\f\\r \\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}\\x{FEFF}"

/* Rewrites a regex written for JavaScript's `u` mode into PCRE2 syntax with the same
** meaning: \s \S (JS's whitespace set), \d \D \w \W (ASCII in JS), `.` (JS excludes
** four line terminators), the `(?i:...)` contraction group that transformers.js
** replaces before compiling (PCRE2's caseless matching would also fold U+017F and
** U+212A), and the escapes \# \& \~ that transformers.js strips.  Returns a pp_malloc'ed
** string or NULL (out of memory). */
static char *js_to_pcre(const char *src, size_t n) {
    static const char contr[] = "(?i:'s|'t|'re|'ve|'m|'ll|'d)";
    static const char contr_js[] = "(?:'([sS]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD]))";
    pp_buf b;
    pp_buf_init(&b);
    int in_class = 0;
    size_t i = 0;
    while (i < n) {
        if (!in_class && n - i >= sizeof contr - 1 && memcmp(src + i, contr, sizeof contr - 1) == 0) {
            pp_buf_puts(&b, contr_js);
            i += sizeof contr - 1;
            continue;
        }
        char c = src[i];
        if (c == '\\' && i + 1 < n) {
            char e = src[i + 1];
            const char *rep = NULL;
            switch (e) {
            case 's': rep = in_class ? JS_WS : "[" JS_WS "]"; break;
            case 'S': rep = in_class ? NULL : "[^" JS_WS "]"; break;
            case 'd': rep = in_class ? "0-9" : "[0-9]"; break;
            case 'D': rep = in_class ? NULL : "[^0-9]"; break;
            case 'w': rep = in_class ? "A-Za-z0-9_" : "[A-Za-z0-9_]"; break;
            case 'W': rep = in_class ? NULL : "[^A-Za-z0-9_]"; break;
            case '#': case '&': case '~': rep = (e == '#') ? "\\#" : (e == '&') ? "&" : "~"; break;
            default: break;
            }
            if (rep) pp_buf_puts(&b, rep);
            else pp_buf_put(&b, src + i, 2);
            i += 2;
            continue;
        }
        if (in_class) {
            if (c == ']') in_class = 0;
            pp_buf_putc(&b, c);
            i++;
            continue;
        }
        if (c == '[') {
            in_class = 1;
            pp_buf_putc(&b, c);
            i++;
            /* a leading ^ or ] belongs to the class syntax */
            if (i < n && src[i] == '^') { pp_buf_putc(&b, '^'); i++; }
            continue;
        }
        if (c == '.') { pp_buf_puts(&b, "[^\\n\\r\\x{2028}\\x{2029}]"); i++; continue; }
        pp_buf_putc(&b, c);
        i++;
    }
    return pp_buf_detach(&b, NULL);
}

static pp_status compile_regex(const char *pat, size_t n, int literal, pcre2_code **out,
                               char **detail) {
    char *p = literal ? pp_strndup(pat, n) : js_to_pcre(pat, n);
    if (!p) return PARAPET_ERR_NOMEM;
    int err = 0;
    PCRE2_SIZE eoff = 0;
    uint32_t opts = PCRE2_UTF | (literal ? PCRE2_LITERAL : PCRE2_UCP);
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)p, strlen(p), opts, &err, &eoff, NULL);
    if (!re) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(err, msg, sizeof msg);
        if (detail) *detail = pp_asprintf("tokenizer regex rejected at %zu: %s", (size_t)eoff, (char *)msg);
        pp_free(p);
        return PARAPET_ERR_FORMAT;
    }
    pp_free(p);
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* best effort: falls back to the interpreter */
    *out = re;
    return PARAPET_OK;
}

/* ================================================================== build ==== */

void pp_tok_builder_init(pp_tok_builder *b) {
    memset(b, 0, sizeof *b);
    b->unk_id = b->bos_id = b->eos_id = -1;
}

void pp_tok_builder_clear(pp_tok_builder *b) {
    if (!b) return;
    for (size_t i = 0; i < b->n_norm; i++) { pp_free(b->norm[i].a); pp_free(b->norm[i].b); }
    for (size_t i = 0; i < b->n_pre; i++) pp_free(b->pre[i].pattern);
    b->n_norm = b->n_pre = 0;
}

void pp_tok_free(pp_tokenizer *t) {
    if (!t) return;
    pp_free(t->pool); pp_free(t->off); pp_free(t->len); pp_free(t->attr);
    pp_free(t->vtab); pp_free(t->mtab); pp_free(t->scores); pp_free(t->cp_id);
    pp_free(t->trie); pp_free(t->added_id); pp_free(t->added_flags);
    for (size_t i = 0; i < t->n_norm; i++) { pp_free(t->norm[i].a); pp_free(t->norm[i].b); }
    for (size_t i = 0; i < t->n_pre; i++) pcre2_code_free(t->pre[i].re);
    pp_free(t);
}

static int is_byte_piece(const char *s, size_t n, int *val) {
    static const char hx[] = "0123456789ABCDEFabcdef";
    if (n != 6 || memcmp(s, "<0x", 3) != 0 || s[5] != '>') return 0;
    if (!memchr(hx, s[3], 22) || !memchr(hx, s[4], 22) || !s[3] || !s[4]) return 0;
    char tmp[3] = {s[3], s[4], 0};
    *val = (int)strtol(tmp, NULL, 16);
    return 1;
}

/* Adds a trie path for added token k; returns -1 on OOM. */
static int trie_add(pp_tokenizer *t, size_t *cap, const char *s, size_t n, int32_t k) {
    int32_t node = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)s[i];
        int32_t ch = t->trie[node].child;
        while (ch >= 0 && t->trie[ch].byte != c) ch = t->trie[ch].sibling;
        if (ch < 0) {
            if (PP_GROW(t->trie, *cap, t->n_trie + 1)) return -1;
            ch = (int32_t)t->n_trie++;
            t->trie[ch] = (trie_node){.child = -1, .sibling = t->trie[node].child, .added = -1, .byte = c};
            t->trie[node].child = ch;
        }
        node = ch;
    }
    t->trie[node].added = k;
    return 0;
}

pp_status pp_tok_build(const pp_tok_builder *b, pp_tokenizer **out, char **detail) {
    init_byte_tables();
    if (b->kind != PP_TOK_BYTE_BPE && b->kind != PP_TOK_SPM_BPE) return PARAPET_ERR_ARG;
    if (b->n_vocab == 0 || b->n_vocab > 0x7FFFFFF0) {
        if (detail) *detail = pp_strdup("tokenizer: empty or oversized vocabulary");
        return PARAPET_ERR_FORMAT;
    }
    pp_tokenizer *t = pp_calloc(1, sizeof *t);
    if (!t) return PARAPET_ERR_NOMEM;
    pp_status st = PARAPET_ERR_NOMEM;
    t->kind = b->kind;
    snprintf(t->name, sizeof t->name, "%s", b->name[0] ? b->name : "bpe");

    /* the id space: vocab ids plus added ids (which may lie beyond the vocab) */
    size_t n_ids = b->n_vocab;
    for (size_t i = 0; i < b->n_added; i++) {
        if (b->added[i].id < 0 || b->added[i].id > 0x7FFFFFF0 || b->added[i].len == 0 ||
            b->added[i].len > 4096) {
            if (detail) *detail = pp_asprintf("tokenizer: added token %zu has a bad id or length", i);
            st = PARAPET_ERR_FORMAT;
            goto fail;
        }
        if ((size_t)b->added[i].id + 1 > n_ids) n_ids = (size_t)b->added[i].id + 1;
    }
    t->n_vocab = n_ids;
    size_t pool = 0;
    for (size_t i = 0; i < b->n_vocab; i++) {
        if (b->piece_lens[i] > 65536) {
            if (detail) *detail = pp_asprintf("tokenizer: piece %zu is too long", i);
            st = PARAPET_ERR_FORMAT;
            goto fail;
        }
        pool += b->piece_lens[i];
    }
    for (size_t i = 0; i < b->n_added; i++) pool += b->added[i].len;
    if (pool > UINT32_MAX - 1) { st = PARAPET_ERR_TOO_LARGE; goto fail; }
    t->pool = pp_malloc(pool + 1);
    t->off = pp_calloc(n_ids, sizeof *t->off);
    t->len = pp_calloc(n_ids, sizeof *t->len);
    t->attr = pp_calloc(n_ids, 1);
    t->vmask = pow2_at_least(2 * (n_ids + 1)) - 1;
    t->vtab = pp_malloc((t->vmask + 1) * sizeof *t->vtab);
    if (!t->pool || !t->off || !t->len || !t->attr || !t->vtab) goto fail;
    memset(t->vtab, 0xFF, (t->vmask + 1) * sizeof *t->vtab);
    size_t pos = 0;
    for (size_t i = 0; i < b->n_vocab; i++) {
        if (!b->pieces[i]) continue; /* a hole in the id space */
        memcpy(t->pool + pos, b->pieces[i], b->piece_lens[i]);
        t->off[i] = (uint32_t)pos;
        t->len[i] = (uint32_t)b->piece_lens[i];
        pos += b->piece_lens[i];
        t->attr[i] = ATTR_PRESENT;
        vt_insert(t, (int32_t)i);
    }
    t->added_id = pp_calloc(b->n_added + 1, sizeof *t->added_id);
    t->added_flags = pp_calloc(b->n_added + 1, 1);
    size_t trie_cap = 64;
    t->trie = pp_malloc(trie_cap * sizeof *t->trie);
    if (!t->added_id || !t->added_flags || !t->trie) goto fail;
    t->trie[0] = (trie_node){.child = -1, .sibling = -1, .added = -1};
    t->n_trie = 1;
    for (size_t i = 0; i < b->n_added; i++) {
        const pp_tok_added *a = &b->added[i];
        int32_t id = a->id;
        memcpy(t->pool + pos, a->content, a->len);
        t->off[id] = (uint32_t)pos;
        t->len[id] = (uint32_t)a->len;
        pos += a->len;
        t->attr[id] = ATTR_PRESENT | ATTR_ADDED | (a->special ? ATTR_SPECIAL : 0);
        vt_insert(t, id);
        t->added_id[i] = id;
        t->added_flags[i] = (uint8_t)((a->special ? 1 : 0) | (a->lstrip ? 2 : 0) | (a->rstrip ? 4 : 0));
        if (trie_add(t, &trie_cap, a->content, a->len, (int32_t)i)) goto fail;
        t->trie_first[(uint8_t)a->content[0] >> 3] |= (uint8_t)(1u << ((uint8_t)a->content[0] & 7));
    }
    t->n_added = b->n_added;

    /* initial symbols */
    for (int c = 0; c < 256; c++) { t->byte_sym[c] = -1; t->byte_tok[c] = -1; }
    if (t->kind == PP_TOK_BYTE_BPE) {
        for (int c = 0; c < 256; c++) t->byte_sym[c] = vt_find(t, (const char *)g_map[c], g_maplen[c]);
    } else {
        t->cp_id = pp_malloc(0x10000 * sizeof *t->cp_id);
        if (!t->cp_id) goto fail;
        memset(t->cp_id, 0xFF, 0x10000 * sizeof *t->cp_id);
        for (size_t i = 0; i < n_ids; i++) {
            if (!(t->attr[i] & ATTR_PRESENT)) continue;
            const char *s = t->pool + t->off[i];
            size_t n = t->len[i];
            int v;
            if (is_byte_piece(s, n, &v)) {
                t->attr[i] |= ATTR_BYTE;
                if (t->byte_tok[v] < 0 || !(t->attr[i] & ATTR_ADDED)) t->byte_tok[v] = (int32_t)i;
            }
        }
        for (uint32_t cp = 0; cp < 0x10000; cp++) {
            if (cp >= 0xD800 && cp <= 0xDFFF) continue;
            char o[4];
            size_t k = u8enc(cp, o);
            t->cp_id[cp] = vt_find(t, o, k);
        }
        if (b->is_byte)
            for (size_t i = 0; i < b->n_vocab; i++)
                if (b->is_byte[i]) t->attr[i] |= ATTR_BYTE;
    }

    /* merges by rank: (left id, right id) -> rank, merged id.  Merges naming
    ** pieces absent from the vocabulary can never fire on vocabulary symbols
    ** and are skipped. */
    if (b->n_merges) {
        t->mmask = pow2_at_least(2 * b->n_merges) - 1;
        t->mtab = pp_malloc((t->mmask + 1) * sizeof *t->mtab);
        if (!t->mtab) goto fail;
        for (size_t i = 0; i <= t->mmask; i++) t->mtab[i].key = UINT64_MAX;
        char *cat = NULL;
        size_t catcap = 0;
        for (size_t r = 0; r < b->n_merges; r++) {
            int32_t l = vt_find(t, b->merge_l[r], b->merge_llen[r]);
            int32_t rr = vt_find(t, b->merge_r[r], b->merge_rlen[r]);
            size_t cn = b->merge_llen[r] + b->merge_rlen[r];
            if (PP_GROW(cat, catcap, cn + 1)) { pp_free(cat); goto fail; }
            memcpy(cat, b->merge_l[r], b->merge_llen[r]);
            memcpy(cat + b->merge_llen[r], b->merge_r[r], b->merge_rlen[r]);
            int32_t res = vt_find(t, cat, cn);
            if (l < 0 || rr < 0 || res < 0) continue;
            uint64_t key = ((uint64_t)(uint32_t)l << 32) | (uint32_t)rr;
            size_t i = (size_t)hash_u64(key) & t->mmask;
            while (t->mtab[i].key != UINT64_MAX && t->mtab[i].key != key) i = (i + 1) & t->mmask;
            /* a repeated pair keeps its last rank, as transformers.js's Map does */
            t->mtab[i] = (merge_slot){.key = key, .rank = (uint32_t)r, .res = res};
            t->n_merges++;
        }
        pp_free(cat);
    }
    if (b->scores) {
        t->scores = pp_malloc(n_ids * sizeof *t->scores);
        if (!t->scores) goto fail;
        for (size_t i = 0; i < n_ids; i++) t->scores[i] = i < b->n_vocab ? b->scores[i] : 0.0f;
    }

    /* pipeline */
    for (size_t i = 0; i < b->n_norm; i++) {
        t->norm[i].kind = b->norm[i].kind;
        t->norm[i].alen = b->norm[i].alen;
        t->norm[i].blen = b->norm[i].blen;
        t->n_norm = i + 1; /* counted before the copies, so a failure frees them */
        if (b->norm[i].a && !(t->norm[i].a = pp_strndup(b->norm[i].a, b->norm[i].alen))) goto fail;
        if (b->norm[i].b && !(t->norm[i].b = pp_strndup(b->norm[i].b, b->norm[i].blen))) goto fail;
    }
    for (size_t i = 0; i < b->n_pre; i++) {
        const pp_tok_pre_step *ps = &b->pre[i];
        pre_step *q = &t->pre[i];
        q->kind = ps->kind;
        q->behavior = ps->behavior;
        q->add_prefix_space = ps->add_prefix_space;
        t->n_pre = i + 1;
        if (ps->kind == PP_PRE_SPLIT_REGEX) {
            if (!ps->pattern) { st = PARAPET_ERR_FORMAT; goto fail; }
            st = compile_regex(ps->pattern, strlen(ps->pattern), ps->literal, &q->re, detail);
            if (st) goto fail;
        } else if (ps->use_regex) {
            static const char gpt2[] =
                "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
            st = compile_regex(gpt2, sizeof gpt2 - 1, 0, &q->re, detail);
            if (st) goto fail;
        }
    }
    t->ignore_merges = b->ignore_merges;
    t->byte_fallback = b->byte_fallback;
    t->fuse_unk = b->fuse_unk;
    t->unk_id = b->unk_id;
    t->bos_id = b->bos_id;
    t->eos_id = b->eos_id;
    t->add_bos = b->add_bos && b->bos_id >= 0;
    t->dec_spm = b->dec_spm;
    t->dec_strip_start = b->dec_strip_start;
    if (t->unk_id >= (int32_t)n_ids || t->bos_id >= (int32_t)n_ids || t->eos_id >= (int32_t)n_ids) {
        if (detail) *detail = pp_strdup("tokenizer: special token id out of range");
        st = PARAPET_ERR_FORMAT;
        goto fail;
    }
    *out = t;
    return PARAPET_OK;
fail:
    pp_tok_free(t);
    return st;
}

/* ================================================================= encoding ==== */

typedef struct sym {
    int32_t id;          /* -1: not in the vocabulary */
    uint32_t start, len; /* byte span in the word; len 0 = merged away */
    int32_t prev, next;
} sym;

typedef struct cand {
    uint64_t prio;       /* lower first */
    uint32_t left, right, size;
    int32_t res;
} cand;

typedef struct section {
    size_t start, end;
    int32_t added;       /* index of the added token, -1 for text */
} section;

typedef struct scratch {
    const pp_tokenizer *t;
    unsigned flags;
    int32_t **ids;
    size_t *n, *cap;
    sym *sym;
    size_t sym_cap;
    cand *heap;
    size_t heap_cap, heap_n;
    section *sec;
    size_t sec_cap;
    pp_buf nbuf[2];             /* normalizer ping-pong */
    pp_buf pbuf[PP_TOK_MAX_STEPS]; /* per pre-tokenizer step (prefix space) */
    pp_buf mapped;              /* byte-level mapped form of a word */
    int32_t *u32;               /* NFC work buffer */
    size_t u32_cap;
    pcre2_match_data *md;
    pp_status st;
} scratch;

static inline void emit(scratch *s, int32_t id) {
    if (s->st) return;
    if (*s->n == *s->cap && PP_GROW(*s->ids, *s->cap, *s->n + 1)) { s->st = PARAPET_ERR_NOMEM; return; }
    (*s->ids)[(*s->n)++] = id;
}

static inline int cand_less(const cand *a, const cand *b) {
    return a->prio < b->prio || (a->prio == b->prio && a->left < b->left);
}

static void heap_push(scratch *s, cand c) {
    /* capacity is reserved up front (3 * symbols), see bpe_word */
    size_t i = s->heap_n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!cand_less(&c, &s->heap[p])) break;
        s->heap[i] = s->heap[p];
        i = p;
    }
    s->heap[i] = c;
}

static cand heap_pop(scratch *s) {
    cand top = s->heap[0];
    cand last = s->heap[--s->heap_n];
    size_t i = 0, n = s->heap_n;
    for (;;) {
        size_t l = 2 * i + 1;
        if (l >= n) break;
        size_t m = (l + 1 < n && cand_less(&s->heap[l + 1], &s->heap[l])) ? l + 1 : l;
        if (!cand_less(&s->heap[m], &last)) break;
        s->heap[i] = s->heap[m];
        i = m;
    }
    if (n) s->heap[i] = last;
    return top;
}

/* Orders floats so that a higher score gives a lower priority value. */
static uint64_t score_prio(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    u = (u & 0x80000000u) ? ~u : (u | 0x80000000u); /* ascending order as unsigned */
    return (uint64_t)(0xFFFFFFFFu - u);
}

/* Queues the pair (a, b) of adjacent live symbols if it can merge. */
static void try_pair(scratch *s, const char *w, int32_t a, int32_t b) {
    if (a < 0 || b < 0) return;
    const pp_tokenizer *t = s->t;
    sym *x = &s->sym[a], *y = &s->sym[b];
    cand c = {.left = (uint32_t)a, .right = (uint32_t)b, .size = x->len + y->len};
    if (t->scores) {
        int32_t id = vt_find(t, w + x->start, x->len + y->len);
        if (id < 0) return;
        c.prio = score_prio(t->scores[id]);
        c.res = id;
    } else {
        uint32_t rank;
        if (!merge_find(t, x->id, y->id, &rank, &c.res)) return;
        c.prio = rank;
    }
    heap_push(s, c);
}

/* Emits the ids of one symbol that is not in the vocabulary: its bytes as <0xNN>
** tokens when the model has byte fallback and all of them exist, else <unk>. */
static void emit_unknown(scratch *s, const char *p, size_t n) {
    const pp_tokenizer *t = s->t;
    if (t->byte_fallback) {
        size_t k = 0;
        while (k < n && t->byte_tok[(uint8_t)p[k]] >= 0) k++;
        if (k == n) {
            for (k = 0; k < n; k++) emit(s, t->byte_tok[(uint8_t)p[k]]);
            return;
        }
    }
    if (t->unk_id >= 0) emit(s, t->unk_id);
}

/* BPE over one pre-token w[0..n): the model step. */
static void bpe_word(scratch *s, const char *w, size_t n) {
    const pp_tokenizer *t = s->t;
    if (n == 0 || s->st) return;
    if (t->kind == PP_TOK_BYTE_BPE) {
        if (n == 1) {
            int32_t id = t->byte_sym[(uint8_t)w[0]];
            if (id >= 0) emit(s, id); else emit_unknown(s, w, 1);
            return;
        }
        if (t->ignore_merges) {
            s->mapped.len = 0;
            if (pp_buf_reserve(&s->mapped, 2 * n)) { s->st = PARAPET_ERR_NOMEM; return; }
            char *o = s->mapped.p;
            for (size_t i = 0; i < n; i++) {
                uint8_t c = (uint8_t)w[i];
                o[0] = (char)g_map[c][0];
                if (g_maplen[c] == 2) o[1] = (char)g_map[c][1];
                o += g_maplen[c];
            }
            int32_t id = vt_find(t, s->mapped.p, (size_t)(o - s->mapped.p));
            if (id >= 0) { emit(s, id); return; }
        }
    }
    /* initial symbols */
    size_t ns = 0;
    if (PP_GROW(s->sym, s->sym_cap, n + 1) || PP_GROW(s->heap, s->heap_cap, 3 * n + 3)) {
        s->st = PARAPET_ERR_NOMEM;
        return;
    }
    for (size_t i = 0; i < n;) {
        size_t k;
        int32_t id;
        if (t->kind == PP_TOK_BYTE_BPE) {
            k = 1;
            id = t->byte_sym[(uint8_t)w[i]];
        } else {
            k = u8len((uint8_t)w[i]);
            if (k > n - i) k = n - i;
            uint32_t cp = u8dec((const unsigned char *)w + i, k);
            id = cp < 0x10000 ? t->cp_id[cp] : vt_find(t, w + i, k);
        }
        s->sym[ns] = (sym){.id = id, .start = (uint32_t)i, .len = (uint32_t)k,
                           .prev = (int32_t)ns - 1, .next = (int32_t)ns + 1};
        ns++;
        i += k;
    }
    s->sym[ns - 1].next = -1;
    s->heap_n = 0;
    for (size_t i = 0; i + 1 < ns; i++) try_pair(s, w, (int32_t)i, (int32_t)i + 1);
    while (s->heap_n) {
        cand c = heap_pop(s);
        sym *x = &s->sym[c.left], *y = &s->sym[c.right];
        if (x->len == 0 || y->len == 0 || x->next != (int32_t)c.right || x->len + y->len != c.size)
            continue; /* stale: one side has merged since */
        x->len += y->len;
        x->id = c.res;
        x->next = y->next;
        if (y->next >= 0) s->sym[y->next].prev = (int32_t)c.left;
        y->len = 0;
        try_pair(s, w, x->prev, (int32_t)c.left);
        try_pair(s, w, (int32_t)c.left, x->next);
    }
    for (int32_t i = 0; i >= 0; i = s->sym[i].next) {
        const sym *x = &s->sym[i];
        if (x->id >= 0) emit(s, x->id);
        else emit_unknown(s, w + x->start, x->len);
    }
}

/* Pre-tokenizer step `k` over piece p[0..n); the last step feeds the model. */
static void pre_split(scratch *s, size_t k, const char *p, size_t n) {
    const pp_tokenizer *t = s->t;
    if (s->st) return;
    if (k == t->n_pre) { bpe_word(s, p, n); return; }
    const pre_step *ps = &t->pre[k];
    if (ps->kind == PP_PRE_BYTELEVEL && ps->add_prefix_space && (n == 0 || p[0] != ' ')) {
        pp_buf *b = &s->pbuf[k];
        b->len = 0;
        pp_buf_putc(b, ' ');
        pp_buf_put(b, p, n);
        if (b->oom) { s->st = PARAPET_ERR_NOMEM; return; }
        p = b->p;
        n = b->len;
    }
    if (!ps->re) { pre_split(s, k + 1, p, n); return; }
    size_t prev = 0, at = 0;
    while (at <= n) {
        int rc = pcre2_match(ps->re, (PCRE2_SPTR)p, n, at, PCRE2_NO_UTF_CHECK, s->md, NULL);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0) { s->st = PARAPET_ERR_INTERNAL; return; }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->md);
        size_t ms = ov[0], me = ov[1];
        if (ps->behavior == PP_SPLIT_INVERT) {
            if (me > ms) pre_split(s, k + 1, p + ms, me - ms);
        } else {
            if (ms > prev) pre_split(s, k + 1, p + prev, ms - prev);
            if (me > ms && ps->behavior != PP_SPLIT_REMOVED) pre_split(s, k + 1, p + ms, me - ms);
            prev = me;
        }
        if (me > ms) at = me;
        else {
            if (ms >= n) break;
            at = ms + u8len((uint8_t)p[ms]); /* empty match: step one character */
        }
    }
    if (ps->behavior != PP_SPLIT_INVERT && prev < n) pre_split(s, k + 1, p + prev, n - prev);
}

/* NFC of p[0..n) into dst. */
static int nfc(scratch *s, const char *p, size_t n, pp_buf *dst) {
    dst->len = 0;
    int quick = 1; /* nothing at or above U+0300: already NFC */
    for (size_t i = 0; i < n; i++)
        if ((uint8_t)p[i] >= 0xCC) { quick = 0; break; }
    if (quick) { pp_buf_put(dst, p, n); return dst->oom ? -1 : 0; }
    utf8proc_option_t opt = UTF8PROC_STABLE | UTF8PROC_COMPOSE;
    for (;;) {
        utf8proc_ssize_t r = utf8proc_decompose((const utf8proc_uint8_t *)p, (utf8proc_ssize_t)n,
                                                s->u32, (utf8proc_ssize_t)s->u32_cap, opt);
        if (r < 0) return -1;
        /* one spare element: utf8proc_reencode writes a NUL after the UTF-8 */
        if ((size_t)r < s->u32_cap) {
            r = utf8proc_reencode(s->u32, r, opt);
            if (r < 0) return -1;
            pp_buf_put(dst, (const char *)s->u32, (size_t)r);
            return dst->oom ? -1 : 0;
        }
        if (PP_GROW(s->u32, s->u32_cap, (size_t)r + 1)) return -1;
    }
}

/* Replaces every a by b in p[0..n) into dst. */
static void replace_all(const char *p, size_t n, const char *a, size_t an, const char *b,
                        size_t bn, pp_buf *dst) {
    dst->len = 0;
    pp_buf_reserve(dst, n);
    size_t i = 0;
    while (i < n) {
        const char *hit = an ? memmem(p + i, n - i, a, an) : NULL;
        if (!hit) { pp_buf_put(dst, p + i, n - i); break; }
        pp_buf_put(dst, p + i, (size_t)(hit - (p + i)));
        pp_buf_put(dst, b, bn);
        i = (size_t)(hit - p) + an;
    }
    if (!dst->p) pp_buf_put(dst, "", 0);
}

/* One text section (no added tokens in it): normalize, pre-tokenize, model. */
static void encode_section(scratch *s, const char *p, size_t n) {
    const pp_tokenizer *t = s->t;
    int cur = -1;
    for (size_t i = 0; i < t->n_norm && !s->st; i++) {
        const pp_tok_norm_step *ns = &t->norm[i];
        pp_buf *dst = &s->nbuf[cur == 0 ? 1 : 0];
        if (ns->kind == PP_NORM_NFC) {
            if (nfc(s, p, n, dst)) { s->st = PARAPET_ERR_NOMEM; return; }
        } else if (ns->kind == PP_NORM_REPLACE) {
            replace_all(p, n, ns->a, ns->alen, ns->b, ns->blen, dst);
        } else { /* PREPEND */
            dst->len = 0;
            pp_buf_put(dst, ns->a, ns->alen);
            pp_buf_put(dst, p, n);
        }
        if (dst->oom) { s->st = PARAPET_ERR_NOMEM; return; }
        cur = cur == 0 ? 1 : 0;
        p = dst->p;
        n = dst->len;
    }
    if (n == 0) return;
    size_t first = *s->n;
    pre_split(s, 0, p, n);
    if (t->fuse_unk && t->unk_id >= 0 && !s->st) {
        int32_t *ids = *s->ids;
        size_t o = first;
        for (size_t i = first; i < *s->n; i++)
            if (!(ids[i] == t->unk_id && o > first && ids[o - 1] == t->unk_id)) ids[o++] = ids[i];
        *s->n = o;
    }
}

/* Longest allowed added token starting at text[i], or -1; *mlen its length. */
static int32_t match_added(const pp_tokenizer *t, const char *text, size_t len, size_t i,
                           unsigned flags, size_t *mlen) {
    int32_t best = -1;
    int32_t node = 0;
    for (size_t j = i; j < len; j++) {
        uint8_t c = (uint8_t)text[j];
        int32_t ch = t->trie[node].child;
        while (ch >= 0 && t->trie[ch].byte != c) ch = t->trie[ch].sibling;
        if (ch < 0) break;
        node = ch;
        int32_t a = t->trie[node].added;
        if (a >= 0 && (!(t->added_flags[a] & 1) || (flags & PARAPET_TOK_PARSE_SPECIAL))) {
            best = a;
            *mlen = j + 1 - i;
        }
    }
    return best;
}

static size_t trim_end(const char *p, size_t start, size_t end) {
    while (end > start) {
        size_t k = 1;
        while (k < end - start && k < 4 && ((uint8_t)p[end - k] & 0xC0) == 0x80) k++;
        if (!js_space(u8dec((const unsigned char *)p + end - k, k))) break;
        end -= k;
    }
    return end;
}

static size_t trim_start(const char *p, size_t start, size_t end) {
    while (start < end) {
        size_t k = u8len((uint8_t)p[start]);
        if (!js_space(u8dec((const unsigned char *)p + start, k))) break;
        start += k;
    }
    return start;
}

pp_status pp_tok_encode(const pp_tokenizer *t, const char *text, size_t len, unsigned flags,
                        int32_t **ids, size_t *n, size_t *cap) {
    if (!t || (!text && len) || !ids || !n || !cap) return PARAPET_ERR_ARG;
    if (len && !utf8_valid((const unsigned char *)text, len)) return PARAPET_ERR_UTF8;
    scratch s;
    memset(&s, 0, sizeof s);
    s.t = t;
    s.flags = flags;
    s.ids = ids;
    s.n = n;
    s.cap = cap;
    if (t->add_bos && (flags & PARAPET_TOK_ADD_BOS)) emit(&s, t->bos_id);

    /* 1. sections between added tokens */
    size_t nsec = 0, start = 0;
    for (size_t i = 0; i < len && !s.st;) {
        uint8_t c = (uint8_t)text[i];
        size_t ml = 0;
        int32_t a = -1;
        if (t->trie_first[c >> 3] & (1u << (c & 7))) a = match_added(t, text, len, i, flags, &ml);
        if (a < 0) { i++; continue; }
        if (PP_GROW(s.sec, s.sec_cap, nsec + 2)) { s.st = PARAPET_ERR_NOMEM; break; }
        if (i > start) s.sec[nsec++] = (section){start, i, -1};
        s.sec[nsec++] = (section){i, i + ml, a};
        i += ml;
        start = i;
    }
    if (!s.st && start < len) {
        if (PP_GROW(s.sec, s.sec_cap, nsec + 1)) s.st = PARAPET_ERR_NOMEM;
        else s.sec[nsec++] = (section){start, len, -1};
    }
    /* lstrip / rstrip trim the neighbouring sections (JS trimEnd / trimStart) */
    for (size_t i = 0; i < nsec && !s.st; i++) {
        if (s.sec[i].added < 0) continue;
        uint8_t f = t->added_flags[s.sec[i].added];
        if ((f & 2) && i > 0 && s.sec[i - 1].added < 0)
            s.sec[i - 1].end = trim_end(text, s.sec[i - 1].start, s.sec[i - 1].end);
        if ((f & 4) && i + 1 < nsec && s.sec[i + 1].added < 0)
            s.sec[i + 1].start = trim_start(text, s.sec[i + 1].start, s.sec[i + 1].end);
    }
    int need_md = 0;
    for (size_t k = 0; k < t->n_pre; k++) need_md |= t->pre[k].re != NULL;
    if (need_md && !s.st) {
        s.md = pcre2_match_data_create(4, NULL);
        if (!s.md) s.st = PARAPET_ERR_NOMEM;
    }
    for (size_t i = 0; i < nsec && !s.st; i++) {
        if (s.sec[i].added >= 0) emit(&s, t->added_id[s.sec[i].added]);
        else if (s.sec[i].end > s.sec[i].start)
            encode_section(&s, text + s.sec[i].start, s.sec[i].end - s.sec[i].start);
    }
    pcre2_match_data_free(s.md);
    pp_free(s.sym);
    pp_free(s.heap);
    pp_free(s.sec);
    pp_free(s.u32);
    pp_buf_free(&s.nbuf[0]);
    pp_buf_free(&s.nbuf[1]);
    for (size_t k = 0; k < PP_TOK_MAX_STEPS; k++) pp_buf_free(&s.pbuf[k]);
    pp_buf_free(&s.mapped);
    return s.st;
}

/* ================================================================= decoding ==== */

pp_status pp_tok_decode(const pp_tokenizer *t, const int32_t *ids, size_t n, unsigned flags,
                        pp_buf *out) {
    if (!t || (!ids && n) || !out) return PARAPET_ERR_ARG;
    init_byte_tables();
    size_t base = out->len;
    for (size_t i = 0; i < n; i++) {
        int32_t id = ids[i];
        if (id < 0 || (size_t)id >= t->n_vocab || !(t->attr[id] & ATTR_PRESENT)) return PARAPET_ERR_ARG;
        uint8_t a = t->attr[id];
        const char *p = t->pool + t->off[id];
        size_t len = t->len[id];
        if ((a & ATTR_SPECIAL) && (flags & PARAPET_TOK_SKIP_SPECIAL)) continue;
        if (t->dec_spm) {
            int v;
            if ((a & ATTR_BYTE) && is_byte_piece(p, len, &v)) { pp_buf_putc(out, (char)v); continue; }
            for (size_t j = 0; j < len;) {
                if (len - j >= 3 && memcmp(p + j, "\xE2\x96\x81", 3) == 0) { pp_buf_putc(out, ' '); j += 3; }
                else { pp_buf_putc(out, p[j]); j++; }
            }
        } else if (a & ATTR_ADDED) {
            pp_buf_put(out, p, len);
        } else {
            for (size_t j = 0; j < len;) {
                size_t k = u8len((uint8_t)p[j]);
                if (k > len - j) k = len - j;
                uint32_t cp = u8dec((const unsigned char *)p + j, k);
                int b = cp < 324 ? g_cp2byte[cp] : -1;
                if (b >= 0) pp_buf_putc(out, (char)b);
                else pp_buf_put(out, p + j, k);
                j += k;
            }
        }
    }
    if (out->oom) return PARAPET_ERR_NOMEM;
    for (int k = 0; k < t->dec_strip_start && out->len > base && out->p[base] == ' '; k++) {
        memmove(out->p + base, out->p + base + 1, out->len - base - 1);
        out->len--;
        out->p[out->len] = 0;
    }
    return PARAPET_OK;
}

/* ============================================================= introspection ==== */

size_t pp_tok_n_vocab(const pp_tokenizer *t) { return t ? t->n_vocab : 0; }

const char *pp_tok_piece(const pp_tokenizer *t, int32_t id, size_t *len) {
    if (!t || id < 0 || (size_t)id >= t->n_vocab || !(t->attr[id] & ATTR_PRESENT)) return NULL;
    if (len) *len = t->len[id];
    return t->pool + t->off[id];
}

int32_t pp_tok_lookup(const pp_tokenizer *t, const char *s, size_t len) {
    if (!t || (!s && len)) return -1;
    return vt_find(t, s ? s : "", len);
}

/* ================================================================ public API ==== */

PARAPET_API parapet_status parapet_tokenizer_from_json(const char *json, size_t len,
                                                       parapet_tokenizer **out, char **detail) {
    if (detail) *detail = NULL;
    if (!json || !out) return PARAPET_ERR_ARG;
    return pp_tok_from_json(json, len, out, detail);
}

PARAPET_API parapet_status parapet_tokenizer_open_json(const char *path, parapet_tokenizer **out,
                                                       char **detail) {
    if (detail) *detail = NULL;
    if (!path || !out) return PARAPET_ERR_ARG;
    char *buf = NULL;
    size_t n = 0;
    pp_status st = pp_read_file(path, (size_t)1 << 30, &buf, &n, detail);
    if (st) return st;
    st = pp_tok_from_json(buf, n, out, detail);
    pp_free(buf);
    return st;
}

PARAPET_API void parapet_tokenizer_free(parapet_tokenizer *tok) { pp_tok_free(tok); }

PARAPET_API parapet_status parapet_tokenizer_encode(const parapet_tokenizer *tok, const char *text,
                                                    size_t len, unsigned flags, int32_t **ids,
                                                    size_t *n_ids) {
    if (!tok || !ids || !n_ids || (!text && len)) return PARAPET_ERR_ARG;
    int32_t *v = NULL;
    size_t n = 0, cap = 0;
    /* a first guess that avoids most regrowth: ~1 token per 3 bytes */
    if (PP_GROW(v, cap, len / 3 + 8)) return PARAPET_ERR_NOMEM;
    pp_status st = pp_tok_encode(tok, text, len, flags, &v, &n, &cap);
    if (st) { pp_free(v); return st; }
    *ids = v;
    *n_ids = n;
    return PARAPET_OK;
}

PARAPET_API parapet_status parapet_tokenizer_decode(const parapet_tokenizer *tok,
                                                    const int32_t *ids, size_t n, unsigned flags,
                                                    char **text, size_t *len) {
    if (!tok || !text || (!ids && n)) return PARAPET_ERR_ARG;
    pp_buf b;
    pp_buf_init(&b);
    pp_buf_put(&b, "", 0);
    pp_status st = pp_tok_decode(tok, ids, n, flags, &b);
    if (st) { pp_buf_free(&b); return st; }
    size_t l = 0;
    char *p = pp_buf_detach(&b, &l);
    if (!p) return PARAPET_ERR_NOMEM;
    *text = p;
    if (len) *len = l;
    return PARAPET_OK;
}

PARAPET_API size_t parapet_tokenizer_vocab_size(const parapet_tokenizer *tok) {
    return pp_tok_n_vocab(tok);
}

PARAPET_API parapet_status parapet_tokenizer_token_piece(const parapet_tokenizer *tok, int32_t id,
                                                         const char **piece, size_t *len) {
    if (!piece) return PARAPET_ERR_ARG;
    const char *p = pp_tok_piece(tok, id, len);
    if (!p) return PARAPET_ERR_NOT_FOUND;
    *piece = p;
    return PARAPET_OK;
}

PARAPET_API int32_t parapet_tokenizer_token_id(const parapet_tokenizer *tok, const char *piece,
                                               size_t len) {
    return pp_tok_lookup(tok, piece, len);
}

PARAPET_API int32_t parapet_tokenizer_bos(const parapet_tokenizer *tok) {
    return tok ? tok->bos_id : -1;
}

PARAPET_API int32_t parapet_tokenizer_eos(const parapet_tokenizer *tok) {
    return tok ? tok->eos_id : -1;
}

PARAPET_API int parapet_tokenizer_is_special(const parapet_tokenizer *tok, int32_t id) {
    if (!tok || id < 0 || (size_t)id >= tok->n_vocab) return 0;
    return (tok->attr[id] & ATTR_SPECIAL) != 0;
}

PARAPET_API const char *parapet_tokenizer_name(const parapet_tokenizer *tok) {
    return tok ? tok->name : "";
}
