/*
** tok_gguf.c -- a tokenizer from a GGUF file's tokenizer.ggml.* metadata.
**
** The GGUF reader (gguf.h) has already validated every string and array against the
** file; this file maps llama.cpp's description of a vocabulary onto a pp_tok_builder
** so that the result tokenizes like the Hugging Face tokenizer the model came from:
**
**   tokenizer.ggml.model = "gpt2"   byte-level BPE; merges "a b" by rank; the
**                                   pre-tokenizer from tokenizer.ggml.pre:
**                                   llama-bpe (Llama 3 regex, ignore_merges, BOS),
**                                   qwen2 (Qwen regex, NFC as HF does, no BOS),
**                                   refact/starcoder (digits, then GPT-2), else GPT-2;
**   tokenizer.ggml.model = "llama"  SentencePiece BPE: merges by piece score, byte
**                                   fallback, U+2581 for spaces, the ▁ prefix when
**                                   add_space_prefix (default true), BOS by default.
**
** Token types: 2 unknown and 3 control (special added tokens), 4 user-defined (added
** token matched in any text), 6 byte.  tokenizer.ggml.add_bos_token overrides the
** BOS default.  The SentencePiece path follows llama.cpp's score order; with the
** vocabularies `parapet model synth` writes from Gemma 3's and Llama 2's tokenizer.json
** it gives transformers.js's ids on the whole conformance corpus
** (tests/conformance, tokenizer_conformance_gguf; docs/tokenizers.md).
*/
#include <string.h>
#include "llm/tokenizer.h"
#include "llm/gguf.h"

static const char RE_LLAMA3[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
static const char RE_QWEN2[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

static pp_status add_regex(pp_tok_builder *b, const char *re) {
    pp_tok_pre_step *s = &b->pre[b->n_pre];
    memset(s, 0, sizeof *s);
    s->kind = PP_PRE_SPLIT_REGEX;
    s->behavior = PP_SPLIT_ISOLATED;
    if (!(s->pattern = pp_strdup(re))) return PARAPET_ERR_NOMEM;
    b->n_pre++;
    return PARAPET_OK;
}

static pp_status add_norm(pp_tok_builder *b, int kind, const char *a, const char *c) {
    pp_tok_norm_step *s = &b->norm[b->n_norm];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    if (a) { if (!(s->a = pp_strdup(a))) return PARAPET_ERR_NOMEM; s->alen = strlen(a); }
    if (c) { if (!(s->b = pp_strdup(c))) return PARAPET_ERR_NOMEM; s->blen = strlen(c); }
    b->n_norm++;
    return PARAPET_OK;
}

static pp_status fail(char **detail, pp_status st, const char *msg) {
    if (detail && !*detail) *detail = pp_asprintf("gguf tokenizer: %s", msg);
    return st;
}

pp_status pp_tok_from_gguf(const pp_gguf *g, pp_tokenizer **out, char **detail) {
    const char *model = NULL, *pre = NULL;
    size_t mlen = 0, plen = 0;
    if (pp_gguf_get_str(g, "tokenizer.ggml.model", &model, &mlen))
        return fail(detail, PARAPET_ERR_NOT_FOUND, "no tokenizer.ggml.model");
    int spm;
    if (mlen == 4 && !memcmp(model, "gpt2", 4)) spm = 0;
    else if (mlen == 5 && !memcmp(model, "llama", 5)) spm = 1;
    else return fail(detail, PARAPET_ERR_UNSUPPORTED, "tokenizer.ggml.model is neither gpt2 nor llama");
    if (pp_gguf_get_str(g, "tokenizer.ggml.pre", &pre, &plen)) { pre = "default"; plen = 7; }

    pp_gguf_value toks, types, scores, merges;
    if (pp_gguf_get_arr(g, "tokenizer.ggml.tokens", &toks) || toks.elem_type != PP_GGUF_STR ||
        toks.count == 0 || toks.count > 0x7FFFFFF0)
        return fail(detail, PARAPET_ERR_FORMAT, "tokenizer.ggml.tokens missing or not strings");
    int have_types = pp_gguf_get_arr(g, "tokenizer.ggml.token_type", &types) == PARAPET_OK &&
                     types.count == toks.count;
    int have_scores = pp_gguf_get_arr(g, "tokenizer.ggml.scores", &scores) == PARAPET_OK &&
                      scores.count == toks.count;
    int have_merges = pp_gguf_get_arr(g, "tokenizer.ggml.merges", &merges) == PARAPET_OK &&
                      merges.elem_type == PP_GGUF_STR;
    if (spm && !have_scores) return fail(detail, PARAPET_ERR_FORMAT, "a llama vocabulary needs scores");
    if (!spm && !have_merges) return fail(detail, PARAPET_ERR_FORMAT, "a gpt2 vocabulary needs merges");

    size_t n = (size_t)toks.count, nm = have_merges ? (size_t)merges.count : 0;
    pp_tok_builder b;
    pp_tok_builder_init(&b);
    pp_status st = PARAPET_ERR_NOMEM;
    const char **pieces = pp_calloc(n, sizeof *pieces);
    size_t *lens = pp_calloc(n, sizeof *lens);
    float *sc = spm ? pp_calloc(n, sizeof *sc) : NULL;
    uint8_t *isb = pp_calloc(n, 1);
    pp_tok_added *added = pp_calloc(n, sizeof *added);
    const char **ml = nm ? pp_calloc(nm, sizeof *ml) : NULL, **mr = nm ? pp_calloc(nm, sizeof *mr) : NULL;
    size_t *mll = nm ? pp_calloc(nm, sizeof *mll) : NULL, *mrl = nm ? pp_calloc(nm, sizeof *mrl) : NULL;
    if (!pieces || !lens || (spm && !sc) || !isb || !added || (nm && (!ml || !mr || !mll || !mrl))) goto done;

    pp_gguf_str_iter it;
    pp_gguf_str_iter_init(&it, &toks);
    for (size_t i = 0; i < n; i++) {
        if (!pp_gguf_str_iter_next(&it, &pieces[i], &lens[i])) { st = fail(detail, PARAPET_ERR_FORMAT, "short token list"); goto done; }
    }
    size_t na = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t ty = 1;
        if (have_types && pp_gguf_value_int(&types, i, &ty)) { st = fail(detail, PARAPET_ERR_FORMAT, "bad token_type"); goto done; }
        if (spm) {
            double d = 0;
            if (pp_gguf_value_float(&scores, i, &d)) { st = fail(detail, PARAPET_ERR_FORMAT, "bad score"); goto done; }
            sc[i] = (float)d;
        }
        if (ty == 2 && b.unk_id < 0) b.unk_id = (int32_t)i;
        if (ty == 6) isb[i] = 1;
        /* control and unknown tokens are special (llama.cpp's cache_special_tokens
        ** holds both: "<unk>" in a text is the unknown token when specials are parsed) */
        if ((ty == 2 || ty == 3 || ty == 4) && lens[i] > 0 && lens[i] <= 4096) {
            added[na++] = (pp_tok_added){.content = pieces[i], .len = lens[i], .id = (int32_t)i,
                                         .special = ty != 4};
        }
    }
    if (nm) {
        pp_gguf_str_iter_init(&it, &merges);
        for (size_t i = 0; i < nm; i++) {
            const char *s;
            size_t l;
            if (!pp_gguf_str_iter_next(&it, &s, &l)) { st = fail(detail, PARAPET_ERR_FORMAT, "short merge list"); goto done; }
            const char *sp = memchr(s, ' ', l);
            if (!sp) { st = fail(detail, PARAPET_ERR_FORMAT, "a merge without a space"); goto done; }
            ml[i] = s;
            mll[i] = (size_t)(sp - s);
            mr[i] = sp + 1;
            mrl[i] = l - mll[i] - 1;
        }
    }
    b.kind = spm ? PP_TOK_SPM_BPE : PP_TOK_BYTE_BPE;
    b.n_vocab = n;
    b.pieces = pieces;
    b.piece_lens = lens;
    b.is_byte = isb;
    b.added = added;
    b.n_added = na;
    int add_bos;
    uint64_t u;
    if (pp_gguf_get_uint(g, "tokenizer.ggml.bos_token_id", &u) == PARAPET_OK && u < n) b.bos_id = (int32_t)u;
    if (pp_gguf_get_uint(g, "tokenizer.ggml.eos_token_id", &u) == PARAPET_OK && u < n) b.eos_id = (int32_t)u;
    if (spm) {
        b.scores = sc;
        b.byte_fallback = 1;
        b.fuse_unk = 1;
        int prefix = 1;
        pp_gguf_get_bool(g, "tokenizer.ggml.add_space_prefix", &prefix);
        if (prefix && (st = add_norm(&b, PP_NORM_PREPEND, "\xE2\x96\x81", NULL))) goto done;
        if ((st = add_norm(&b, PP_NORM_REPLACE, " ", "\xE2\x96\x81"))) goto done;
        b.dec_spm = 1;
        b.dec_strip_start = prefix ? 1 : 0;
        add_bos = 1;
        snprintf(b.name, sizeof b.name, "spm-bpe (gguf)");
    } else {
        b.n_merges = nm;
        b.merge_l = ml;
        b.merge_r = mr;
        b.merge_llen = mll;
        b.merge_rlen = mrl;
        add_bos = 0;
        if ((plen == 9 && !memcmp(pre, "llama-bpe", 9)) || (plen == 6 && !memcmp(pre, "llama3", 6))) {
            if ((st = add_regex(&b, RE_LLAMA3))) goto done;
            b.ignore_merges = 1;
            add_bos = 1;
        } else if (plen == 5 && !memcmp(pre, "qwen2", 5)) {
            if ((st = add_norm(&b, PP_NORM_NFC, NULL, NULL))) goto done;
            if ((st = add_regex(&b, RE_QWEN2))) goto done;
        } else if ((plen == 6 && !memcmp(pre, "refact", 6)) || (plen == 9 && !memcmp(pre, "starcoder", 9))) {
            if ((st = add_regex(&b, "\\p{N}"))) goto done;
        }
        pp_tok_pre_step *s = &b.pre[b.n_pre++];
        memset(s, 0, sizeof *s);
        s->kind = PP_PRE_BYTELEVEL;
        /* GPT-2's own regex unless one of the pre-tokenizers above split already */
        s->use_regex = b.n_pre == 1 || (plen == 6 && !memcmp(pre, "refact", 6)) ||
                       (plen == 9 && !memcmp(pre, "starcoder", 9));
        snprintf(b.name, sizeof b.name, "%.*s (gguf)", (int)(plen < 40 ? plen : 40), pre);
    }
    if (pp_gguf_get_bool(g, "tokenizer.ggml.add_bos_token", &add_bos) != PARAPET_OK) { /* keep default */ }
    b.add_bos = add_bos && b.bos_id >= 0;
    st = pp_tok_build(&b, out, detail);
done:
    pp_tok_builder_clear(&b);
    pp_free(pieces); pp_free(lens); pp_free(sc); pp_free(isb); pp_free(added);
    pp_free(ml); pp_free(mr); pp_free(mll); pp_free(mrl);
    return st;
}

PARAPET_API parapet_status parapet_tokenizer_open_gguf(const char *path, parapet_tokenizer **out,
                                                       char **detail) {
    if (detail) *detail = NULL;
    if (!path || !out) return PARAPET_ERR_ARG;
    pp_gguf *g = NULL;
    pp_status st = pp_gguf_open_file(path, &g, detail);
    if (st) return st;
    st = pp_tok_from_gguf(g, out, detail);
    pp_gguf_close(g);
    return st;
}
