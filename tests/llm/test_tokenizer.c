/*
** test_tokenizer.c -- unit tests for src/llm/tokenizer.c and tok_json.c.
**
** Small hand-made tokenizer.json documents whose expected ids can be worked out on
** paper (each test says how), so these run everywhere, without node or the real
** vocabularies.  The real vocabularies are tested against transformers.js in
** tests/conformance/test_tokenizer_conformance.c.
*/
#include <pthread.h>
#include "test.h"
#include "parapet.h"
#include "core/core.h"
#include "llm/tokenizer.h"

/* ------------------------------------------------------------- fixtures ---- */

/* Byte-level BPE.  Ids: a0 b1 c2 Ġ3 ab4 bc5 abc6 Ġab7 aa8 cab9 <10 |11 x12 >13 y14
** z15, Â19 (byte C2) ħ20 (byte 85) ĠÂ21; added: <|x|>=16 (special), <y>=17 (not
** special), <z>=18 (lstrip+rstrip). */
static const char *bl_json(const char *merges, int ignore_merges) {
    static char buf[4096];
    snprintf(buf, sizeof buf,
        "{\"model\":{\"type\":\"BPE\",\"ignore_merges\":%s,\"vocab\":{\"a\":0,\"b\":1,\"c\":2,"
        "\"\\u0120\":3,\"ab\":4,\"bc\":5,\"abc\":6,\"\\u0120ab\":7,\"aa\":8,\"cab\":9,\"<\":10,"
        "\"|\":11,\"x\":12,\">\":13,\"y\":14,\"z\":15,\"\\u00c2\":19,\"\\u0127\":20,"
        "\"\\u0120\\u00c2\":21},\"merges\":%s},"
        "\"added_tokens\":[{\"id\":16,\"content\":\"<|x|>\",\"special\":true},"
        "{\"id\":17,\"content\":\"<y>\",\"special\":false},"
        "{\"id\":18,\"content\":\"<z>\",\"special\":true,\"lstrip\":true,\"rstrip\":true}],"
        "\"normalizer\":null,"
        "\"pre_tokenizer\":{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Split\",\"pattern\":"
        "{\"Regex\":\"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\\\r\\\\n\\\\p{L}\\\\p{N}]?\\\\p{L}+|\\\\p{N}{1,3}| ?[^\\\\s\\\\p{L}\\\\p{N}]+[\\\\r\\\\n]*|\\\\s*[\\\\r\\\\n]+|\\\\s+(?!\\\\S)|\\\\s+\"},"
        "\"behavior\":\"Isolated\",\"invert\":false},{\"type\":\"ByteLevel\",\"add_prefix_space\":false,"
        "\"use_regex\":false}]},"
        "\"post_processor\":{\"type\":\"ByteLevel\"},\"decoder\":{\"type\":\"ByteLevel\"}}",
        ignore_merges ? "true" : "false", merges);
    return buf;
}

static parapet_tokenizer *open_json(const char *json) {
    parapet_tokenizer *t = NULL;
    char *detail = NULL;
    parapet_status st = parapet_tokenizer_from_json(json, strlen(json), &t, &detail);
    if (st) printf("    from_json: %s: %s\n", parapet_strerror(st), detail ? detail : "");
    parapet_free(detail);
    return t;
}

/* Encodes and compares with want[0..nw); returns 1 when equal (prints both if not). */
static int enc_is(parapet_tokenizer *t, const char *text, unsigned flags, const int32_t *want,
                  size_t nw) {
    int32_t *ids = NULL;
    size_t n = 0;
    parapet_status st = parapet_tokenizer_encode(t, text, strlen(text), flags, &ids, &n);
    int ok = st == PARAPET_OK && n == nw && (nw == 0 || memcmp(ids, want, nw * sizeof *ids) == 0);
    if (!ok) {
        printf("    encode(\"%s\") status %d got [", text, st);
        for (size_t i = 0; i < n; i++) printf("%s%d", i ? "," : "", ids[i]);
        printf("] want [");
        for (size_t i = 0; i < nw; i++) printf("%s%d", i ? "," : "", want[i]);
        printf("]\n");
    }
    parapet_free(ids);
    return ok;
}
#define ENC_IS(t, text, flags, ...)                                                    \
    do { static const int32_t w_[] = {__VA_ARGS__};                                    \
         CHECK_MSG(enc_is(t, text, flags, w_, sizeof w_ / sizeof *w_), "ids of \"%s\"", text); } while (0)

/* -------------------------------------------------------- byte-level BPE ---- */

TEST(tok_bytelevel_merges_by_rank) {
    /* "abc": a b c; rank 0 "a b" -> ab c; rank 1 "ab c" -> abc.
    ** " ab" is one pre-token: Ġ a b -> Ġ ab (rank 0) -> Ġab (rank 2). */
    parapet_tokenizer *t = open_json(bl_json("[\"a b\",\"ab c\",\"\\u0120 ab\"]", 0));
    CHECK(t);
    ENC_IS(t, "abc ab", 0, 6, 7);
    ENC_IS(t, "cab", 0, 2, 4); /* no merge makes "cab": c + ab */
    parapet_tokenizer_free(t);
}

TEST(tok_bytelevel_rank_order_and_ties) {
    /* rank 0 is "b c", so "abc" becomes a bc, and "a bc" is no merge */
    parapet_tokenizer *t = open_json(bl_json("[[\"b\",\"c\"],[\"a\",\"b\"],[\"a\",\"a\"]]", 0));
    CHECK(t);
    ENC_IS(t, "abc", 0, 0, 5);
    /* "aaa": the two "a a" pairs tie; the leftmost merges first -> aa a */
    ENC_IS(t, "aaa", 0, 8, 0);
    ENC_IS(t, "aaaa", 0, 8, 8);
    parapet_tokenizer_free(t);
}

TEST(tok_bytelevel_ignore_merges) {
    /* with ignore_merges a pre-token that is itself in the vocab is emitted whole */
    parapet_tokenizer *t = open_json(bl_json("[\"a b\"]", 1));
    CHECK(t);
    ENC_IS(t, "cab", 0, 9);
    parapet_tokenizer_free(t);
    t = open_json(bl_json("[\"a b\"]", 0));
    CHECK(t);
    ENC_IS(t, "cab", 0, 2, 4);
    parapet_tokenizer_free(t);
}

TEST(tok_added_tokens_special_flag) {
    parapet_tokenizer *t = open_json(bl_json("[\"a b\"]", 0));
    CHECK(t);
    /* special <|x|> only with PARSE_SPECIAL; without, its characters are text:
    ** "<|" is one punctuation pre-token with no merge -> < | ; then "x" ; then "|>" */
    ENC_IS(t, "a<|x|>b", PARAPET_TOK_PARSE_SPECIAL, 0, 16, 1);
    ENC_IS(t, "a<|x|>b", 0, 0, 10, 11, 12, 11, 13, 1);
    /* the non-special <y> is always matched */
    ENC_IS(t, "a<y>b", 0, 0, 17, 1);
    /* longest match: "<y>" inside "<<y>>" */
    ENC_IS(t, "<<y>>", 0, 10, 17, 13);
    CHECK_EQ(parapet_tokenizer_is_special(t, 16), 1);
    CHECK_EQ(parapet_tokenizer_is_special(t, 17), 0);
    parapet_tokenizer_free(t);
}

TEST(tok_added_tokens_lstrip_rstrip) {
    /* <z> strips the whitespace on both sides: "a  <z>  b" -> a <z> b */
    parapet_tokenizer *t = open_json(bl_json("[\"a b\"]", 0));
    CHECK(t);
    ENC_IS(t, "a  <z> \t b", PARAPET_TOK_PARSE_SPECIAL, 0, 18, 1);
    parapet_tokenizer_free(t);
}

TEST(tok_bytelevel_decode_roundtrip) {
    parapet_tokenizer *t = open_json(bl_json("[\"a b\",\"ab c\",\"\\u0120 ab\"]", 0));
    CHECK(t);
    const char *text = "abc ab<|x|>cab";
    int32_t *ids = NULL;
    size_t n = 0;
    CHECK_OK(parapet_tokenizer_encode(t, text, strlen(text), PARAPET_TOK_PARSE_SPECIAL, &ids, &n));
    char *out = NULL;
    size_t len = 0;
    parapet_status st = parapet_tokenizer_decode(t, ids, n, 0, &out, &len);
    if (st) parapet_free(ids);
    CHECK_OK(st);
    int same = strcmp(out, text) == 0 && len == strlen(text);
    parapet_free(out);
    st = parapet_tokenizer_decode(t, ids, n, PARAPET_TOK_SKIP_SPECIAL, &out, &len);
    parapet_free(ids);
    CHECK_OK(st);
    CHECK_MSG(same, "decode(encode(x)) != x");
    CHECK_STR(out, "abc abcab");
    parapet_free(out);
    /* a piece in GPT-2's mapping: Ġab is " ab" */
    const char *piece;
    size_t pl;
    CHECK_OK(parapet_tokenizer_token_piece(t, 7, &piece, &pl));
    CHECK_EQ(pl, 4);
    CHECK(memcmp(piece, "\xC4\xA0" "ab", 4) == 0);
    CHECK_EQ(parapet_tokenizer_token_id(t, "\xC4\xA0" "ab", 4), 7);
    CHECK_EQ(parapet_tokenizer_token_id(t, "nope", 4), -1);
    int32_t bad = 99;
    CHECK_EQ(parapet_tokenizer_decode(t, &bad, 1, 0, &out, NULL), PARAPET_ERR_ARG);
    parapet_tokenizer_free(t);
}

TEST(tok_long_word_is_not_quadratic) {
    /* 200k "a": one pre-token; "a a" pairs merge left to right -> 100k x "aa".
    ** A quadratic merge loop would take minutes here. */
    parapet_tokenizer *t = open_json(bl_json("[\"a a\"]", 0));
    CHECK(t);
    size_t n = 200000;
    char *s = pp_malloc(n + 1);
    CHECK(s);
    memset(s, 'a', n);
    s[n] = 0;
    int32_t *ids = NULL;
    size_t k = 0;
    uint64_t t0 = pp_now_ns();
    parapet_status st = parapet_tokenizer_encode(t, s, n, 0, &ids, &k);
    double ms = (double)(pp_now_ns() - t0) / 1e6;
    pp_free(s);
    int all_aa = st == PARAPET_OK;
    for (size_t i = 0; all_aa && i < k; i++) all_aa = ids[i] == 8;
    parapet_free(ids);
    parapet_tokenizer_free(t);
    CHECK_OK(st);
    CHECK_EQ(k, n / 2);
    CHECK(all_aa);
    CHECK_MSG(ms < 500, "200k-byte word took %.0f ms", ms);
}

TEST(tok_rejects_invalid_utf8_and_bad_json) {
    parapet_tokenizer *t = open_json(bl_json("[\"a b\"]", 0));
    CHECK(t);
    int32_t *ids = NULL;
    size_t n = 0;
    CHECK_EQ(parapet_tokenizer_encode(t, "a\xC3", 2, 0, &ids, &n), PARAPET_ERR_UTF8);
    CHECK_EQ(parapet_tokenizer_encode(t, "\xED\xA0\x80", 3, 0, &ids, &n), PARAPET_ERR_UTF8); /* surrogate */
    CHECK_EQ(parapet_tokenizer_encode(t, "\xC0\xAF", 2, 0, &ids, &n), PARAPET_ERR_UTF8);     /* overlong */
    /* empty text: no ids, but a valid (freeable) array */
    CHECK_OK(parapet_tokenizer_encode(t, "", 0, PARAPET_TOK_ADD_BOS, &ids, &n));
    CHECK_EQ(n, 0);
    parapet_free(ids);
    parapet_tokenizer_free(t);

    parapet_tokenizer *u = NULL;
    char *detail = NULL;
    const char *wp = "{\"model\":{\"type\":\"WordPiece\",\"vocab\":{\"a\":0}}}";
    CHECK_EQ(parapet_tokenizer_from_json(wp, strlen(wp), &u, &detail), PARAPET_ERR_UNSUPPORTED);
    CHECK(detail && strstr(detail, "BPE"));
    parapet_free(detail);
    const char *bad = "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":-1},\"merges\":[]}}";
    CHECK_EQ(parapet_tokenizer_from_json(bad, strlen(bad), &u, NULL), PARAPET_ERR_FORMAT);
    const char *huge = "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":2000000000},\"merges\":[]}}";
    CHECK_EQ(parapet_tokenizer_from_json(huge, strlen(huge), &u, NULL), PARAPET_ERR_FORMAT);
    CHECK_EQ(parapet_tokenizer_from_json("{\"model\":", 9, &u, NULL), PARAPET_ERR_JSON);
    const char *pre = "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]},"
                      "\"pre_tokenizer\":{\"type\":\"Metaspace\"}}";
    CHECK_EQ(parapet_tokenizer_from_json(pre, strlen(pre), &u, NULL), PARAPET_ERR_UNSUPPORTED);
    const char *re = "{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]},\"pre_tokenizer\":"
                     "{\"type\":\"Split\",\"pattern\":{\"Regex\":\"(unclosed\"},\"behavior\":\"Isolated\"}}";
    CHECK_EQ(parapet_tokenizer_from_json(re, strlen(re), &u, NULL), PARAPET_ERR_FORMAT);
}

/* JavaScript's \s, not PCRE2's: U+0085 is not whitespace in JS.  "a \u0085b" splits
** as a | " \u0085" | b in JS (` ?[^\s\p{L}\p{N}]+`), so the space and byte C2 meet
** in one pre-token and merge (ĠÂ); with PCRE2's own \s it would split as
** a | " " | "\u0085b" and give Ġ Â ħ b instead. */
TEST(tok_regex_uses_javascript_whitespace) {
    parapet_tokenizer *t = open_json(bl_json("[\"\\u0120 \\u00c2\"]", 0));
    CHECK(t);
    ENC_IS(t, "a \xC2\x85" "b", 0, 0, 21, 20, 1);
    parapet_tokenizer_free(t);
}

/* ------------------------------------------------------ SentencePiece BPE ---- */

/* <unk>0 <s>1 </s>2 <0x00>..<0xFF> = 3..258, ▁259 h260 i261 ▁h262 ▁hi263 hi264 */
static char *spm_json(int prepend, int fallback) {
    pp_buf b;
    pp_buf_init(&b);
    pp_buf_puts(&b, "{\"model\":{\"type\":\"BPE\",\"unk_token\":\"<unk>\",\"fuse_unk\":true,\"byte_fallback\":");
    pp_buf_puts(&b, fallback ? "true" : "false");
    pp_buf_puts(&b, ",\"vocab\":{\"<unk>\":0,\"<s>\":1,\"</s>\":2");
    for (int i = 0; i < 256; i++) pp_buf_printf(&b, ",\"<0x%02X>\":%d", i, 3 + i);
    pp_buf_puts(&b, ",\"\\u2581\":259,\"h\":260,\"i\":261,\"\\u2581h\":262,\"\\u2581hi\":263,\"hi\":264},"
                    "\"merges\":[\"\\u2581 h\",\"\\u2581h i\",\"h i\"]},"
                    "\"added_tokens\":[{\"id\":0,\"content\":\"<unk>\",\"special\":true},"
                    "{\"id\":1,\"content\":\"<s>\",\"special\":true},{\"id\":2,\"content\":\"</s>\",\"special\":true}],"
                    "\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":[");
    if (prepend) pp_buf_puts(&b, "{\"type\":\"Prepend\",\"prepend\":\"\\u2581\"},");
    pp_buf_puts(&b, "{\"type\":\"Replace\",\"pattern\":{\"String\":\" \"},\"content\":\"\\u2581\"}]},"
                    "\"pre_tokenizer\":null,"
                    "\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":"
                    "{\"id\":\"<s>\",\"type_id\":0}},{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}],"
                    "\"special_tokens\":{\"<s>\":{\"id\":\"<s>\",\"ids\":[1],\"tokens\":[\"<s>\"]}}},"
                    "\"decoder\":{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"Replace\",\"pattern\":"
                    "{\"String\":\"\\u2581\"},\"content\":\" \"},{\"type\":\"ByteFallback\"},{\"type\":\"Fuse\"},"
                    "{\"type\":\"Strip\",\"content\":\" \",\"start\":1,\"stop\":0}]}}");
    return pp_buf_detach(&b, NULL);
}

TEST(tok_spm_merges_prepend_and_bos) {
    char *js = spm_json(1, 1);
    parapet_tokenizer *t = open_json(js);
    pp_free(js);
    CHECK(t);
    /* "hi hi" -> "▁hi▁hi": ▁ h i ▁ h i; "▁ h" twice (left first), then "▁h i" twice */
    ENC_IS(t, "hi hi", PARAPET_TOK_ADD_BOS, 1, 263, 263);
    ENC_IS(t, "hi hi", 0, 263, 263);
    CHECK_EQ(parapet_tokenizer_bos(t), 1);
    /* é is not in the vocab: its bytes C3 A9 become <0xC3> <0xA9> */
    ENC_IS(t, "hé", 0, 262, 3 + 0xC3, 3 + 0xA9);
    /* each section after an added token gets the prefix again (transformers.js) */
    ENC_IS(t, "hi</s>hi", PARAPET_TOK_PARSE_SPECIAL, 263, 2, 263);
    parapet_tokenizer_free(t);
}

TEST(tok_spm_without_prefix_and_unk_fusion) {
    char *js = spm_json(0, 0);
    parapet_tokenizer *t = open_json(js);
    pp_free(js);
    CHECK(t);
    /* no prepend: "hi" -> h i -> hi (rank 2) */
    ENC_IS(t, "hi", 0, 264);
    /* no byte fallback: unknown é and ü fuse into one <unk> */
    ENC_IS(t, "éühi", 0, 0, 264);
    parapet_tokenizer_free(t);
}

TEST(tok_spm_decode) {
    char *js = spm_json(1, 1);
    parapet_tokenizer *t = open_json(js);
    pp_free(js);
    CHECK(t);
    const char *text = "hi héhi hi";
    int32_t *ids = NULL;
    size_t n = 0;
    CHECK_OK(parapet_tokenizer_encode(t, text, strlen(text), PARAPET_TOK_ADD_BOS, &ids, &n));
    char *out = NULL;
    parapet_status st = parapet_tokenizer_decode(t, ids, n, PARAPET_TOK_SKIP_SPECIAL, &out, NULL);
    parapet_free(ids);
    CHECK_OK(st);
    CHECK_STR(out, text); /* the prefix space is stripped again */
    parapet_free(out);
    parapet_tokenizer_free(t);
}

/* ----------------------------------------------------- robustness, threads ---- */

TEST(tok_allocation_failures_are_clean) {
    char *js = spm_json(1, 1);
    CHECK(js);
    int saw_ok = 0;
    for (long k = 0; k < 400 && !saw_ok; k += 3) {
        parapet_tokenizer *t = NULL;
        pp_alloc_fail_after(k);
        parapet_status st = parapet_tokenizer_from_json(js, strlen(js), &t, NULL);
        if (st == PARAPET_OK) {
            int32_t *ids = NULL;
            size_t n = 0;
            st = parapet_tokenizer_encode(t, "hi hé hi", 9, PARAPET_TOK_ADD_BOS, &ids, &n);
            if (st == PARAPET_OK) { saw_ok = 1; parapet_free(ids); }
            parapet_tokenizer_free(t);
        }
        pp_alloc_fail_after(-1);
        if (st != PARAPET_OK && st != PARAPET_ERR_NOMEM && st != PARAPET_ERR_JSON) {
            pp_free(js);
            CHECK_MSG(0, "failing allocation %ld gave status %d", k, st);
        }
    }
    pp_free(js);
    CHECK(saw_ok);
}

typedef struct thr_arg {
    parapet_tokenizer *t;
    int ok;
} thr_arg;

static void *thr_main(void *p) {
    thr_arg *a = p;
    a->ok = 1;
    for (int i = 0; i < 300 && a->ok; i++) {
        int32_t *ids = NULL;
        size_t n = 0;
        if (parapet_tokenizer_encode(a->t, "abc ab cab aaa", 14, 0, &ids, &n)) { a->ok = 0; break; }
        /* abc | Ġab | Ġ c ab | Ġ aa a */
        static const int32_t want[] = {6, 7, 3, 2, 4, 3, 8, 0};
        a->ok = n == 8 && memcmp(ids, want, sizeof want) == 0;
        parapet_free(ids);
    }
    return NULL;
}

TEST(tok_shared_between_threads) {
    parapet_tokenizer *t = open_json(bl_json("[\"a b\",\"ab c\",\"\\u0120 ab\",\"a a\"]", 0));
    CHECK(t);
    thr_arg a[2] = {{t, 0}, {t, 0}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++) pthread_create(&th[i], NULL, thr_main, &a[i]);
    for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
    parapet_tokenizer_free(t);
    CHECK(a[0].ok && a[1].ok);
}

/* ------------------------------------------------------------------ GGUF ---- */

#include "llm/gguf.h"

/* Writes a GGUF holding only tokenizer metadata; returns its bytes (pp_free). */
static void *tiny_gguf(int spm, size_t *len) {
    pp_gguf_writer *w = pp_gguf_writer_new(32);
    if (!w) return NULL;
    if (!spm) {
        /* the byte-level fixture above: a0 b1 c2 Ġ3 ab4 bc5 abc6 Ġab7 and <|x|>8 */
        static const char *tok[] = {"a", "b", "c", "\xC4\xA0", "ab", "bc", "abc", "\xC4\xA0" "ab", "<|x|>"};
        static const int32_t ty[] = {1, 1, 1, 1, 1, 1, 1, 1, 3};
        static const char *mer[] = {"a b", "ab c", "\xC4\xA0 ab"};
        pp_gguf_w_str(w, "tokenizer.ggml.model", "gpt2", 4);
        pp_gguf_w_str(w, "tokenizer.ggml.pre", "llama-bpe", 9);
        pp_gguf_w_arr_str(w, "tokenizer.ggml.tokens", tok, NULL, 9);
        pp_gguf_w_arr(w, "tokenizer.ggml.token_type", PP_GGUF_I32, ty, 9);
        pp_gguf_w_arr_str(w, "tokenizer.ggml.merges", mer, NULL, 3);
        pp_gguf_w_u32(w, "tokenizer.ggml.bos_token_id", 8);
    } else {
        /* <unk>0 <s>1 </s>2 ▁3 h4 i5 ▁h6 ▁hi7 hi8 <0xC3>9 <0xA9>10 */
        static const char *tok[] = {"<unk>", "<s>", "</s>", "\xE2\x96\x81", "h", "i", "\xE2\x96\x81h",
                                    "\xE2\x96\x81hi", "hi", "<0xC3>", "<0xA9>"};
        static const int32_t ty[] = {2, 3, 3, 1, 1, 1, 1, 1, 1, 6, 6};
        static const float sc[] = {0, 0, 0, -10, -11, -12, -1, -2, -3, 0, 0};
        pp_gguf_w_str(w, "tokenizer.ggml.model", "llama", 5);
        pp_gguf_w_arr_str(w, "tokenizer.ggml.tokens", tok, NULL, 11);
        pp_gguf_w_arr(w, "tokenizer.ggml.token_type", PP_GGUF_I32, ty, 11);
        pp_gguf_w_arr(w, "tokenizer.ggml.scores", PP_GGUF_F32, sc, 11);
        pp_gguf_w_u32(w, "tokenizer.ggml.bos_token_id", 1);
        pp_gguf_w_u32(w, "tokenizer.ggml.eos_token_id", 2);
    }
    void *mem = NULL;
    if (pp_gguf_w_begin(w, NULL) || pp_gguf_w_finish(w, &mem, len)) mem = NULL;
    pp_gguf_writer_free(w);
    return mem;
}

static parapet_tokenizer *gguf_tok(void *mem, size_t len) {
    pp_gguf *g = NULL;
    parapet_tokenizer *t = NULL;
    char *detail = NULL;
    if (pp_gguf_open_mem(mem, len, &g, &detail) == PARAPET_OK) {
        if (pp_tok_from_gguf(g, &t, &detail)) printf("    from_gguf: %s\n", detail ? detail : "?");
    }
    pp_free(detail);
    pp_gguf_close(g);
    return t;
}

TEST(tok_gguf_byte_level) {
    size_t len = 0;
    void *mem = tiny_gguf(0, &len);
    CHECK(mem);
    parapet_tokenizer *t = gguf_tok(mem, len);
    pp_free(mem);
    CHECK(t);
    /* same merges as tok_bytelevel_merges_by_rank; llama-bpe adds the BOS */
    ENC_IS(t, "abc ab", PARAPET_TOK_ADD_BOS, 8, 6, 7);
    ENC_IS(t, "ab<|x|>", PARAPET_TOK_PARSE_SPECIAL, 4, 8);
    CHECK_STR(parapet_tokenizer_name(t), "llama-bpe (gguf)");
    parapet_tokenizer_free(t);
}

TEST(tok_gguf_sentencepiece_by_score) {
    size_t len = 0;
    void *mem = tiny_gguf(1, &len);
    CHECK(mem);
    parapet_tokenizer *t = gguf_tok(mem, len);
    pp_free(mem);
    CHECK(t);
    /* "▁hi▁hi": the highest-scoring "▁h" merges first (twice, left first), then
    ** "▁h"+"i" = "▁hi" (score -2) beats "hi" (-3) */
    ENC_IS(t, "hi hi", PARAPET_TOK_ADD_BOS, 1, 7, 7);
    /* é (C3 A9) is not a piece: byte tokens */
    ENC_IS(t, "hé", 0, 6, 9, 10);
    CHECK_EQ(parapet_tokenizer_eos(t), 2);
    int32_t ids[] = {1, 7, 6, 9, 10};
    char *out = NULL;
    CHECK_OK(parapet_tokenizer_decode(t, ids, 5, PARAPET_TOK_SKIP_SPECIAL, &out, NULL));
    CHECK_STR(out, "hi hé");
    parapet_free(out);
    parapet_tokenizer_free(t);
}

TEST(tok_gguf_missing_tokenizer_is_an_error) {
    pp_gguf_writer *w = pp_gguf_writer_new(32);
    CHECK(w);
    pp_gguf_w_str(w, "general.architecture", "llama", 5);
    void *mem = NULL;
    size_t len = 0;
    parapet_status st = pp_gguf_w_begin(w, NULL);
    if (!st) st = pp_gguf_w_finish(w, &mem, &len);
    pp_gguf_writer_free(w);
    CHECK_OK(st);
    pp_gguf *g = NULL;
    st = pp_gguf_open_mem(mem, len, &g, NULL);
    parapet_tokenizer *t = NULL;
    char *detail = NULL;
    parapet_status st2 = st ? st : pp_tok_from_gguf(g, &t, &detail);
    pp_gguf_close(g);
    pp_free(mem);
    pp_free(detail);
    CHECK_OK(st);
    CHECK_EQ(st2, PARAPET_ERR_NOT_FOUND);
}
