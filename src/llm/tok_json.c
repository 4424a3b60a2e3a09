/*
** tok_json.c -- a tokenizer from a Hugging Face tokenizer.json document.
**
** Reads the parts of the `tokenizers` serialization that the guard models use and
** fills a pp_tok_builder (tokenizer.h) with them:
**
**   model          BPE: vocab (object piece -> id), merges ("a b" strings or
**                  [a, b] pairs; rank = index), unk_token, byte_fallback,
**                  ignore_merges, fuse_unk;
**   added_tokens   id, content, special, lstrip, rstrip;
**   normalizer     null, NFC, Replace (string pattern), Prepend, Sequence;
**   pre_tokenizer  null, Split (regex or string), ByteLevel, Sequence;
**   post_processor TemplateProcessing (a leading special token is the BOS),
**                  ByteLevel (no effect on ids), Sequence;
**   decoder        ByteLevel, or Replace/ByteFallback/Fuse/Strip (SentencePiece).
**
** Anything else is answered with PARAPET_ERR_UNSUPPORTED naming the component, so a
** tokenizer we would get wrong is refused rather than silently approximated.  The
** document is untrusted: every field is type-checked; ids are range-checked by
** pp_tok_build.  tokenizer_config.json is not read: for the supported vocabularies
** everything that changes ids is in tokenizer.json (transformers.js's LlamaTokenizer
** `legacy = false` mode is the exception, and Llama 2 ships legacy = true).
*/
#include <jansson.h>
#include <string.h>
#include "llm/tokenizer.h"

typedef struct jctx {
    pp_tok_builder *b;
    char **detail;
    int bytelevel;
} jctx;

static pp_status jfail(jctx *c, pp_status st, const char *what) {
    if (c->detail && !*c->detail) *c->detail = pp_asprintf("tokenizer.json: %s", what);
    return st;
}

static const char *jstr(json_t *o, const char *key, size_t *len) {
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v)) return NULL;
    if (len) *len = json_string_length(v);
    return json_string_value(v);
}

static int jbool(json_t *o, const char *key) { return json_is_true(json_object_get(o, key)); }

/* ------------------------------------------------------------- normalizer ---- */

static pp_status add_norm(jctx *c, json_t *n) {
    if (json_is_null(n) || !n) return PARAPET_OK;
    const char *type = jstr(n, "type", NULL);
    if (!type) return jfail(c, PARAPET_ERR_FORMAT, "normalizer without a type");
    if (!strcmp(type, "Sequence")) {
        json_t *arr = json_object_get(n, "normalizers"), *x;
        size_t i;
        if (!json_is_array(arr)) return jfail(c, PARAPET_ERR_FORMAT, "normalizer Sequence without a list");
        json_array_foreach(arr, i, x) {
            pp_status st = add_norm(c, x);
            if (st) return st;
        }
        return PARAPET_OK;
    }
    if (c->b->n_norm == PP_TOK_MAX_STEPS) return jfail(c, PARAPET_ERR_UNSUPPORTED, "too many normalizers");
    pp_tok_norm_step *s = &c->b->norm[c->b->n_norm];
    memset(s, 0, sizeof *s);
    if (!strcmp(type, "NFC")) {
        s->kind = PP_NORM_NFC;
    } else if (!strcmp(type, "Replace")) {
        size_t al = 0, bl = 0;
        const char *a = jstr(json_object_get(n, "pattern"), "String", &al);
        const char *b = jstr(n, "content", &bl);
        if (!a || !b) return jfail(c, PARAPET_ERR_UNSUPPORTED, "Replace normalizer needs a String pattern");
        s->kind = PP_NORM_REPLACE;
        s->a = pp_strndup(a, al);
        s->b = pp_strndup(b, bl);
        s->alen = al;
        s->blen = bl;
        if (!s->a || !s->b) { pp_free(s->a); pp_free(s->b); return PARAPET_ERR_NOMEM; }
    } else if (!strcmp(type, "Prepend")) {
        size_t al = 0;
        const char *a = jstr(n, "prepend", &al);
        if (!a) return jfail(c, PARAPET_ERR_FORMAT, "Prepend normalizer without a string");
        s->kind = PP_NORM_PREPEND;
        if (!(s->a = pp_strndup(a, al))) return PARAPET_ERR_NOMEM;
        s->alen = al;
    } else {
        if (c->detail && !*c->detail) *c->detail = pp_asprintf("tokenizer.json: normalizer %s is not supported", type);
        return PARAPET_ERR_UNSUPPORTED;
    }
    c->b->n_norm++;
    return PARAPET_OK;
}

/* ---------------------------------------------------------- pre-tokenizer ---- */

static pp_status add_pre(jctx *c, json_t *n) {
    if (json_is_null(n) || !n) return PARAPET_OK;
    const char *type = jstr(n, "type", NULL);
    if (!type) return jfail(c, PARAPET_ERR_FORMAT, "pre_tokenizer without a type");
    if (!strcmp(type, "Sequence")) {
        json_t *arr = json_object_get(n, "pretokenizers"), *x;
        size_t i;
        if (!json_is_array(arr)) return jfail(c, PARAPET_ERR_FORMAT, "pre_tokenizer Sequence without a list");
        json_array_foreach(arr, i, x) {
            pp_status st = add_pre(c, x);
            if (st) return st;
        }
        return PARAPET_OK;
    }
    if (c->b->n_pre == PP_TOK_MAX_STEPS) return jfail(c, PARAPET_ERR_UNSUPPORTED, "too many pre-tokenizers");
    pp_tok_pre_step *s = &c->b->pre[c->b->n_pre];
    memset(s, 0, sizeof *s);
    if (!strcmp(type, "Split")) {
        json_t *pat = json_object_get(n, "pattern");
        size_t pl = 0;
        const char *p = jstr(pat, "Regex", &pl);
        s->literal = 0;
        if (!p) { p = jstr(pat, "String", &pl); s->literal = 1; }
        if (!p || memchr(p, 0, pl)) return jfail(c, PARAPET_ERR_FORMAT, "Split without a usable pattern");
        if (!(s->pattern = pp_strndup(p, pl))) return PARAPET_ERR_NOMEM;
        s->kind = PP_PRE_SPLIT_REGEX;
        const char *beh = jstr(n, "behavior", NULL);
        /* transformers.js: invert -> keep the matches only; "Removed" -> drop them;
        ** every other behaviour isolates the matches. */
        s->behavior = jbool(n, "invert") ? PP_SPLIT_INVERT
                    : (beh && !strcmp(beh, "Removed")) ? PP_SPLIT_REMOVED : PP_SPLIT_ISOLATED;
    } else if (!strcmp(type, "ByteLevel")) {
        s->kind = PP_PRE_BYTELEVEL;
        s->add_prefix_space = jbool(n, "add_prefix_space");
        json_t *ur = json_object_get(n, "use_regex");
        s->use_regex = ur ? json_is_true(ur) : 1;
        c->bytelevel = 1;
    } else {
        if (c->detail && !*c->detail) *c->detail = pp_asprintf("tokenizer.json: pre_tokenizer %s is not supported", type);
        return PARAPET_ERR_UNSUPPORTED;
    }
    c->b->n_pre++;
    return PARAPET_OK;
}

/* ------------------------------------------------------ post / decoder ---- */

static pp_status read_post(jctx *c, json_t *n) {
    if (json_is_null(n) || !n) return PARAPET_OK;
    const char *type = jstr(n, "type", NULL);
    if (!type) return jfail(c, PARAPET_ERR_FORMAT, "post_processor without a type");
    if (!strcmp(type, "Sequence")) {
        json_t *arr = json_object_get(n, "processors"), *x;
        size_t i;
        json_array_foreach(arr, i, x) {
            pp_status st = read_post(c, x);
            if (st) return st;
        }
        return PARAPET_OK;
    }
    if (!strcmp(type, "ByteLevel")) return PARAPET_OK;
    if (!strcmp(type, "TemplateProcessing")) {
        json_t *single = json_object_get(n, "single");
        if (!json_is_array(single)) return jfail(c, PARAPET_ERR_FORMAT, "TemplateProcessing without `single`");
        size_t i;
        json_t *x;
        int seen_seq = 0;
        json_array_foreach(single, i, x) {
            json_t *sp = json_object_get(x, "SpecialToken");
            if (!sp) { seen_seq = 1; continue; }
            if (seen_seq || i > 0)
                return jfail(c, PARAPET_ERR_UNSUPPORTED, "TemplateProcessing with tokens other than one leading BOS");
            const char *name = jstr(sp, "id", NULL);
            json_t *st = json_object_get(json_object_get(n, "special_tokens"), name ? name : "");
            json_t *ids = json_object_get(st, "ids");
            if (!json_is_array(ids) || json_array_size(ids) != 1 || !json_is_integer(json_array_get(ids, 0)))
                return jfail(c, PARAPET_ERR_UNSUPPORTED, "TemplateProcessing special token with other than one id");
            json_int_t id = json_integer_value(json_array_get(ids, 0));
            if (id < 0 || id > 0x7FFFFFF0) return jfail(c, PARAPET_ERR_FORMAT, "bad BOS id");
            c->b->bos_id = (int32_t)id;
            c->b->add_bos = 1;
        }
        return PARAPET_OK;
    }
    if (c->detail && !*c->detail) *c->detail = pp_asprintf("tokenizer.json: post_processor %s is not supported", type);
    return PARAPET_ERR_UNSUPPORTED;
}

static pp_status read_decoder(jctx *c, json_t *n) {
    if (json_is_null(n) || !n) return PARAPET_OK;
    const char *type = jstr(n, "type", NULL);
    if (!type) return jfail(c, PARAPET_ERR_FORMAT, "decoder without a type");
    if (!strcmp(type, "Sequence")) {
        json_t *arr = json_object_get(n, "decoders"), *x;
        size_t i;
        json_array_foreach(arr, i, x) {
            pp_status st = read_decoder(c, x);
            if (st) return st;
        }
        return PARAPET_OK;
    }
    if (!strcmp(type, "ByteLevel") || !strcmp(type, "ByteFallback") || !strcmp(type, "Fuse"))
        return PARAPET_OK;
    if (!strcmp(type, "Replace")) {
        const char *a = jstr(json_object_get(n, "pattern"), "String", NULL);
        const char *b = jstr(n, "content", NULL);
        if (a && b && !strcmp(a, "\xE2\x96\x81") && !strcmp(b, " ")) { c->b->dec_spm = 1; return PARAPET_OK; }
        return jfail(c, PARAPET_ERR_UNSUPPORTED, "decoder Replace other than U+2581 -> space");
    }
    if (!strcmp(type, "Strip")) {
        json_t *st = json_object_get(n, "start");
        const char *content = jstr(n, "content", NULL);
        if (content && strcmp(content, " ")) return jfail(c, PARAPET_ERR_UNSUPPORTED, "decoder Strip of other than spaces");
        if (json_is_integer(st) && json_integer_value(st) > 0 && json_integer_value(st) < 16)
            c->b->dec_strip_start = (int)json_integer_value(st);
        return PARAPET_OK;
    }
    if (c->detail && !*c->detail) *c->detail = pp_asprintf("tokenizer.json: decoder %s is not supported", type);
    return PARAPET_ERR_UNSUPPORTED;
}

/* ------------------------------------------------------------------ model ---- */

pp_status pp_tok_from_json(const char *json, size_t len, pp_tokenizer **out, char **detail) {
    json_error_t jerr;
    json_t *root = json_loadb(json, len, JSON_ALLOW_NUL, &jerr);
    if (!root) {
        if (detail) *detail = pp_asprintf("tokenizer.json:%d:%d: %s", jerr.line, jerr.column, jerr.text);
        return PARAPET_ERR_JSON;
    }
    pp_tok_builder b;
    pp_tok_builder_init(&b);
    jctx c = {.b = &b, .detail = detail};
    pp_status st = PARAPET_OK;
    const char **pieces = NULL, **ml = NULL, **mr = NULL;
    size_t *plen = NULL, *mll = NULL, *mrl = NULL;
    pp_tok_added *added = NULL;

    json_t *model = json_object_get(root, "model");
    const char *mtype = jstr(model, "type", NULL);
    if (!json_is_object(model) || !mtype || strcmp(mtype, "BPE")) {
        st = jfail(&c, PARAPET_ERR_UNSUPPORTED, "only BPE models are supported");
        goto done;
    }
    const char *sfx = jstr(model, "end_of_word_suffix", NULL);
    const char *pfx = jstr(model, "continuing_subword_prefix", NULL);
    if ((sfx && *sfx) || (pfx && *pfx)) {
        st = jfail(&c, PARAPET_ERR_UNSUPPORTED, "BPE subword prefixes/suffixes are not supported");
        goto done;
    }
    json_t *vocab = json_object_get(model, "vocab");
    if (!json_is_object(vocab) || json_object_size(vocab) == 0) {
        st = jfail(&c, PARAPET_ERR_FORMAT, "model.vocab missing or empty");
        goto done;
    }
    /* id space: max id + 1, checked against the number of entries so a huge id
    ** cannot make us allocate gigabytes */
    size_t n_vocab = 0, n_entries = json_object_size(vocab);
    {
        const char *key;
        json_t *v;
        json_object_foreach(vocab, key, v) {
            if (!json_is_integer(v) || json_integer_value(v) < 0 ||
                (size_t)json_integer_value(v) >= 2 * n_entries + 1024) {
                st = jfail(&c, PARAPET_ERR_FORMAT, "model.vocab has a bad id");
                goto done;
            }
            if ((size_t)json_integer_value(v) + 1 > n_vocab) n_vocab = (size_t)json_integer_value(v) + 1;
        }
    }
    pieces = pp_calloc(n_vocab, sizeof *pieces);
    plen = pp_calloc(n_vocab, sizeof *plen);
    if (!pieces || !plen) { st = PARAPET_ERR_NOMEM; goto done; }
    for (void *it = json_object_iter(vocab); it; it = json_object_iter_next(vocab, it)) {
        size_t id = (size_t)json_integer_value(json_object_iter_value(it));
        pieces[id] = json_object_iter_key(it);
        plen[id] = json_object_iter_key_len(it);
    }
    b.n_vocab = n_vocab;
    b.pieces = pieces;
    b.piece_lens = plen;

    json_t *merges = json_object_get(model, "merges");
    if (merges && !json_is_array(merges)) { st = jfail(&c, PARAPET_ERR_FORMAT, "model.merges is not a list"); goto done; }
    size_t nm = merges ? json_array_size(merges) : 0;
    if (nm) {
        ml = pp_calloc(nm, sizeof *ml);
        mr = pp_calloc(nm, sizeof *mr);
        mll = pp_calloc(nm, sizeof *mll);
        mrl = pp_calloc(nm, sizeof *mrl);
        if (!ml || !mr || !mll || !mrl) { st = PARAPET_ERR_NOMEM; goto done; }
        for (size_t i = 0; i < nm; i++) {
            json_t *m = json_array_get(merges, i);
            if (json_is_string(m)) {
                /* "a b": split at the first space; like transformers.js
                ** (split(" ", 2)) the right part ends at the next space */
                const char *s = json_string_value(m);
                size_t n = json_string_length(m);
                const char *sp = memchr(s, ' ', n);
                if (!sp) { st = jfail(&c, PARAPET_ERR_FORMAT, "a merge without a space"); goto done; }
                const char *r = sp + 1;
                const char *sp2 = memchr(r, ' ', (size_t)(s + n - r));
                ml[i] = s;
                mll[i] = (size_t)(sp - s);
                mr[i] = r;
                mrl[i] = (size_t)((sp2 ? sp2 : s + n) - r);
            } else if (json_is_array(m) && json_array_size(m) == 2 &&
                       json_is_string(json_array_get(m, 0)) && json_is_string(json_array_get(m, 1))) {
                ml[i] = json_string_value(json_array_get(m, 0));
                mll[i] = json_string_length(json_array_get(m, 0));
                mr[i] = json_string_value(json_array_get(m, 1));
                mrl[i] = json_string_length(json_array_get(m, 1));
            } else {
                st = jfail(&c, PARAPET_ERR_FORMAT, "a merge is neither \"a b\" nor [a, b]");
                goto done;
            }
        }
    }
    b.n_merges = nm;
    b.merge_l = ml;
    b.merge_r = mr;
    b.merge_llen = mll;
    b.merge_rlen = mrl;
    b.ignore_merges = jbool(model, "ignore_merges");
    b.byte_fallback = jbool(model, "byte_fallback");
    b.fuse_unk = jbool(model, "fuse_unk");

    json_t *at = json_object_get(root, "added_tokens");
    size_t na = json_is_array(at) ? json_array_size(at) : 0;
    if (na) {
        added = pp_calloc(na, sizeof *added);
        if (!added) { st = PARAPET_ERR_NOMEM; goto done; }
        for (size_t i = 0; i < na; i++) {
            json_t *a = json_array_get(at, i);
            json_t *id = json_object_get(a, "id");
            size_t cl = 0;
            const char *content = jstr(a, "content", &cl);
            if (!json_is_integer(id) || !content || json_integer_value(id) < 0 ||
                (size_t)json_integer_value(id) >= n_vocab + 2 * na + 1024) {
                st = jfail(&c, PARAPET_ERR_FORMAT, "an added token without a usable id or content");
                goto done;
            }
            added[i] = (pp_tok_added){.content = content, .len = cl,
                                      .id = (int32_t)json_integer_value(id),
                                      .special = jbool(a, "special"), .lstrip = jbool(a, "lstrip"),
                                      .rstrip = jbool(a, "rstrip")};
        }
    }
    b.added = added;
    b.n_added = na;

    if ((st = add_norm(&c, json_object_get(root, "normalizer")))) goto done;
    if ((st = add_pre(&c, json_object_get(root, "pre_tokenizer")))) goto done;
    if ((st = read_post(&c, json_object_get(root, "post_processor")))) goto done;
    if ((st = read_decoder(&c, json_object_get(root, "decoder")))) goto done;
    json_t *dec = json_object_get(root, "decoder");
    const char *dtype = jstr(dec, "type", NULL);
    if (dtype && !strcmp(dtype, "ByteLevel")) c.bytelevel = 1;
    b.kind = c.bytelevel ? PP_TOK_BYTE_BPE : PP_TOK_SPM_BPE;

    size_t ul = 0;
    const char *unk = jstr(model, "unk_token", &ul);
    if (unk) {
        for (size_t i = 0; i < na; i++)
            if (added[i].len == ul && !memcmp(added[i].content, unk, ul)) b.unk_id = added[i].id;
        if (b.unk_id < 0) {
            json_t *u = json_object_get(vocab, unk);
            if (json_is_integer(u)) b.unk_id = (int32_t)json_integer_value(u);
        }
    }
    /* a name for messages: which pre-tokenizer regex this is */
    const char *pname = "bpe";
    for (size_t i = 0; i < b.n_pre; i++) {
        const char *p = b.pre[i].pattern;
        if (!p) continue;
        if (strstr(p, "\\p{N}{1,3}")) pname = "llama-bpe";
        else if (strstr(p, "[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}|")) pname = "qwen2";
    }
    if (b.kind == PP_TOK_SPM_BPE) pname = "spm-bpe";
    snprintf(b.name, sizeof b.name, "%s (tokenizer.json)", pname);

    st = pp_tok_build(&b, out, detail);
done:
    pp_tok_builder_clear(&b);
    pp_free(pieces); pp_free(plen);
    pp_free(ml); pp_free(mr); pp_free(mll); pp_free(mrl);
    pp_free(added);
    json_decref(root);
    return st;
}
