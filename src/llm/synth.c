/*
** synth.c -- `parapet model synth`: a GGUF with random weights and a real shape.
**
** Why: the guard engine is timed and tested against llama.cpp on identical files, and
** the real guard models are large downloads behind licences.  A synthetic file with a
** guard model's exact architecture, shapes, tensor names, type mix and a real
** vocabulary exercises every code path (loading, tokenizing, every matmul shape, each
** architecture's quirks) and times the same; only the outputs are meaningless.
**
** Shapes (the table below; docs/gguf.md lists them): Llama Guard 3 (llama), ShieldGemma
** 2B (gemma2), Qwen3Guard 0.6B (qwen3), Granite Guardian 3.1 2B (granite), and a tiny
** shape per architecture with the same quirks (head dim unlike n_embd/n_head, tied
** output, soft-caps, a sliding window short enough for test prompts to reach it,
** QK-norm, the four granite multipliers).
**
** What it writes, in the layout llama.cpp's converter produces:
**   metadata: general.*, the {arch}.* hyper-parameters llama.cpp reads, and the
**   vocabulary of a Hugging Face tokenizer.json as tokenizer.ggml.*:
**     byte-level BPE (byte_fallback off: Llama 3, Qwen)  model = gpt2, pre (llama-bpe
**         or qwen2 recognised from the split regex, else default), tokens, token_type,
**         merges;
**     SentencePiece-style BPE (byte_fallback on: Gemma, Llama 2)  model = llama, tokens,
**         scores, token_type (byte tokens <0xNN> are type 6), add_space_prefix (true
**         only when the normalizer prepends "▁").  SentencePiece merges by the score of
**         the merged piece, so a piece's score is minus the rank of the first merge
**         that makes it: score order then replays the merge order.  Pieces no merge
**         makes get -1e9 (merged last, if ever);
**   the vocabulary is padded with [PADn] (type 5, as the converter does) or cut to the
**   shape's vocabulary size when the shape names one (only added tokens may be cut);
**   tensors: each architecture's list (tensor_list), names as llama.cpp's.
** Quant mixes: f16 and q8_0 put every 2-D weight in that type; q4_k_m follows
** llama-quantize's Q4_K_M rules (docs/guard-models-and-gguf.md B.3).  1-D tensors
** stay f32.
**
** Weights: every tensor has its own generator, seeded from (seed, tensor index), and
** draws fresh N(0, 0.02) values -- no tiling, so no two vocabulary rows are equal --
** through a 65,536-entry inverse-CDF table (one 16-bit draw per value, fast enough to
** write a multi-GB file in seconds), quantized row by row with quant.c.  Norm weights
** are 1 + N(0, 0.05) (gemma2's too: its converter stores 1 + w, so this is the stored
** value); rope_freqs holds the real llama3 factors.  The file is written to OUT.tmp
** and renamed, so a failed run leaves no half file.
*/
#include "llm/gguf.h"
#include "llm/quant.h"
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------ shapes ---- */

enum { A_LLAMA, A_GEMMA2, A_QWEN3, A_GRANITE };
static const char *const arch_name[] = {"llama", "gemma2", "qwen3", "granite"};

typedef struct synth_shape {
    const char *name;
    int arch;
    uint32_t n_embd, n_layer, n_head, n_head_kv, head_dim, n_ff;
    uint32_t n_vocab;        /* 0: the tokenizer's; else padded or cut to this */
    int tied;
    float rope_factor;       /* llama3 rope scaling factor (rope_freqs); 0: none */
    float rope_base, rms_eps;
    uint32_t n_ctx;
    uint32_t swa;            /* gemma2 attention.sliding_window */
    float embd_scale, residual_scale, attn_scale, logit_scale;  /* granite */
} synth_shape;

static const synth_shape shapes[] = {
    /* llama: Llama 3.x shapes, Llama Guard 3 */
    {"tiny", A_LLAMA, 256, 2, 8, 2, 32, 512, 0, 1, 32.0f, 500000.0f, 1e-5f, 131072, 0, 0, 0, 0, 0},
    {"1b", A_LLAMA, 2048, 16, 32, 8, 64, 8192, 0, 1, 32.0f, 500000.0f, 1e-5f, 131072, 0, 0, 0, 0, 0},
    {"lg3-1b", A_LLAMA, 2048, 16, 32, 8, 64, 8192, 0, 0, 32.0f, 500000.0f, 1e-5f, 131072, 0, 0, 0, 0, 0},
    {"8b", A_LLAMA, 4096, 32, 32, 8, 128, 14336, 0, 0, 8.0f, 500000.0f, 1e-5f, 131072, 0, 0, 0, 0, 0},
    /* gemma2: ShieldGemma 2B (Gemma 2 2B); tiny: q width 512 != n_embd 256, window 64 */
    {"shieldgemma-2b", A_GEMMA2, 2304, 26, 8, 4, 256, 9216, 256000, 1, 0, 10000.0f, 1e-6f, 8192, 4096, 0, 0, 0, 0},
    {"tiny-gemma2", A_GEMMA2, 256, 2, 4, 2, 128, 512, 0, 1, 0, 10000.0f, 1e-6f, 8192, 64, 0, 0, 0, 0},
    /* qwen3: Qwen3Guard-Gen 0.6B (Qwen3 0.6B); tiny: q width 512 != n_embd 256 */
    {"qwen3guard-0.6b", A_QWEN3, 1024, 28, 16, 8, 128, 3072, 151936, 1, 0, 1000000.0f, 1e-6f, 40960, 0, 0, 0, 0, 0},
    {"tiny-qwen3", A_QWEN3, 256, 2, 4, 2, 128, 512, 0, 1, 0, 1000000.0f, 1e-6f, 40960, 0, 0, 0, 0, 0},
    /* granite: Granite Guardian 3.1 2B (granite 3.1 2B), multipliers 12 / 0.22 / 1/64 / 8 */
    {"granite-guardian-2b", A_GRANITE, 2048, 40, 32, 8, 64, 8192, 0, 1, 0, 5000000.0f, 1e-5f, 131072, 0,
     12.0f, 0.22f, 0.015625f, 8.0f},
    {"tiny-granite", A_GRANITE, 256, 2, 4, 2, 64, 512, 0, 1, 0, 5000000.0f, 1e-5f, 131072, 0,
     12.0f, 0.22f, 0.015625f, 8.0f},
};

enum { Q_F16, Q_Q8_0, Q_Q4_K_M };

/* ------------------------------------------------------------------- random ---- */

typedef struct rng { uint64_t s[4]; } rng;

static uint64_t splitmix(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void rng_seed(rng *r, uint64_t seed) {
    for (int i = 0; i < 4; i++) r->s[i] = splitmix(&seed);
}

static uint64_t rng_next(rng *r) {  /* xoshiro256** */
    uint64_t *s = r->s, x = s[1] * 5, res = ((x << 7) | (x >> 57)) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return res;
}

static double rng_unit(rng *r) { return ((rng_next(r) >> 11) + 0.5) * 0x1p-53; } /* (0,1) */

static float rng_gauss(rng *r) {
    return (float)(sqrt(-2.0 * log(rng_unit(r))) * cos(6.283185307179586 * rng_unit(r)));
}

/* The standard normal quantile (Acklam's rational approximation, relative error below
** 1.2e-9), p in (0, 1). */
static double normal_quantile(double p) {
    static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                               1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                               6.680131188771972e+01, -1.328068155288572e+01};
    static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                               -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00};
    static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                               3.754408661907416e+00};
    if (p < 0.02425) {
        double q = sqrt(-2 * log(p));
        return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
               ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    }
    if (p > 1 - 0.02425) return -normal_quantile(1 - p);
    double q = p - 0.5, r = q * q;
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
           (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/* 65,536 equally likely N(0, sd) values: table[k] = sd * quantile((k + 0.5) / 65536). */
static void gauss_table(float *t, float sd) {
    for (uint32_t k = 0; k < 65536; k++) t[k] = sd * (float)normal_quantile((k + 0.5) / 65536.0);
}

/* n values drawn from the table, four per generator step. */
static void fill_gauss(rng *r, const float *t, float *x, size_t n) {
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        uint64_t u = rng_next(r);
        x[i] = t[u & 0xffff];
        x[i + 1] = t[(u >> 16) & 0xffff];
        x[i + 2] = t[(u >> 32) & 0xffff];
        x[i + 3] = t[u >> 48];
    }
    if (i < n) {
        uint64_t u = rng_next(r);
        for (; i < n; i++, u >>= 16) x[i] = t[u & 0xffff];
    }
}

/* -------------------------------------------------------------- tokenizer ---- */

typedef struct vocab {
    uint32_t n;
    int spm;                 /* 1: SentencePiece-style (model = llama, scores) */
    const char **tok;        /* borrowed from the JSON, or from own */
    size_t *len;
    int32_t *type;           /* 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte */
    float *scores;           /* spm only */
    char **own;              /* owned strings ([PADn] names, renamed tokens) */
    uint32_t n_own;
    const char **merges;
    size_t *merge_len;
    char **merge_own;        /* "a b" strings built from array-form merges */
    uint64_t n_merges;
    const char *pre;
    int add_space_prefix;
    int add_bos;             /* -1: leave the key out */
    int64_t bos, eos, eot, unk, pad;
} vocab;

static void vocab_free(vocab *v) {
    for (uint32_t i = 0; i < v->n_own; i++) pp_free(v->own[i]);
    if (v->merge_own)
        for (uint64_t i = 0; i < v->n_merges; i++) pp_free(v->merge_own[i]);
    pp_free(v->own);
    pp_free(v->tok);
    pp_free(v->len);
    pp_free(v->type);
    pp_free(v->scores);
    pp_free(v->merges);
    pp_free(v->merge_len);
    pp_free(v->merge_own);
}

#define MAX_VOCAB (1u << 21)

/* Keeps s as token id's text (v owns it). */
static pp_status vocab_own(vocab *v, uint32_t id, char *s) {
    if (!s) return PARAPET_ERR_NOMEM;
    v->own[v->n_own++] = s;
    v->tok[id] = s;
    v->len[id] = strlen(s);
    return PARAPET_OK;
}

static int64_t find_tok(const vocab *v, const char *const *names) {
    for (; *names; names++)
        for (uint32_t id = 0; id < v->n; id++)
            if (v->tok[id] && (v->type[id] == 3 || v->type[id] == 2) &&
                v->len[id] == strlen(*names) && !memcmp(v->tok[id], *names, v->len[id]))
                return id;
    return -1;
}

/* Whether the tokenizer.json's normalizer prepends "▁" (Llama 2) -- add_space_prefix. */
static int prepends_space(json_t *norm) {
    if (!json_is_object(norm)) return 0;
    const char *t = json_string_value(json_object_get(norm, "type"));
    if (t && !strcmp(t, "Prepend")) return 1;
    json_t *list = json_object_get(norm, "normalizers"), *n;
    size_t i;
    if (json_is_array(list)) json_array_foreach(list, i, n) if (prepends_space(n)) return 1;
    return 0;
}

/* Builds the GGUF vocabulary of n_vocab ids (0: the tokenizer's own size) from a
** parsed tokenizer.json.  Strings are borrowed from `root`, which must outlive v. */
static pp_status vocab_build(json_t *root, uint32_t n_vocab, vocab *v, char **detail) {
    json_t *model = json_object_get(root, "model");
    json_t *vmap = json_object_get(model, "vocab");
    json_t *added = json_object_get(root, "added_tokens");
    json_t *merges = json_object_get(model, "merges");
    const char *type = json_string_value(json_object_get(model, "type"));
    if (!type || strcmp(type, "BPE") || !json_is_object(vmap)) {
        if (detail) *detail = pp_strdup("tokenizer.json: only BPE models (model.type \"BPE\" "
                                        "with a vocab object) are supported");
        return PARAPET_ERR_UNSUPPORTED;
    }
    v->spm = json_is_true(json_object_get(model, "byte_fallback"));
    if (!json_is_array(added)) added = NULL;
    /* n = max id + 1 */
    int64_t max_id = -1;
    const char *k;
    json_t *val;
    json_object_foreach(vmap, k, val) {
        if (!json_is_integer(val) || json_integer_value(val) < 0 ||
            json_integer_value(val) >= MAX_VOCAB) goto bad_id;
        if (json_integer_value(val) > max_id) max_id = json_integer_value(val);
    }
    size_t i;
    json_t *t;
    if (added) json_array_foreach(added, i, t) {
        json_t *id = json_object_get(t, "id");
        if (!json_is_integer(id) || json_integer_value(id) < 0 ||
            json_integer_value(id) >= MAX_VOCAB || !json_is_string(json_object_get(t, "content")))
            goto bad_id;
        if (json_integer_value(id) > max_id) max_id = json_integer_value(id);
    }
    if (max_id < 0) {
        if (detail) *detail = pp_strdup("tokenizer.json: empty vocabulary");
        return PARAPET_ERR_JSON;
    }
    const uint32_t n_json = (uint32_t)max_id + 1;
    v->n = n_vocab ? n_vocab : n_json;
    const uint32_t n_all = PP_MAX(v->n, n_json);   /* slots while building */
    v->tok = pp_calloc(n_all, sizeof *v->tok);
    v->len = pp_calloc(n_all, sizeof *v->len);
    v->type = pp_calloc(n_all, sizeof *v->type);
    v->own = pp_calloc(n_all + 8, sizeof *v->own);
    if (!v->tok || !v->len || !v->type || !v->own) return PARAPET_ERR_NOMEM;
    const char *unk = json_string_value(json_object_get(model, "unk_token"));
    json_object_foreach(vmap, k, val) {
        uint32_t id = (uint32_t)json_integer_value(val);
        v->tok[id] = k;
        v->len[id] = strlen(k);   /* jansson keys are NUL-terminated, without NULs */
        v->type[id] = 1;
        if (v->spm && v->len[id] == 6 && !memcmp(k, "<0x", 3) && k[5] == '>') v->type[id] = 6;
    }
    if (added) json_array_foreach(added, i, t) {
        uint32_t id = (uint32_t)json_integer_value(json_object_get(t, "id"));
        json_t *c = json_object_get(t, "content");
        v->tok[id] = json_string_value(c);
        v->len[id] = json_string_length(c);
        v->type[id] = json_is_true(json_object_get(t, "special")) ? 3 : 4;
        if (unk && !strcmp(v->tok[id], unk)) v->type[id] = 2;
    }
    /* cut to the shape's size: only added tokens (and holes) may go */
    for (uint32_t id = v->n; id < n_json; id++)
        if (v->tok[id] && v->type[id] != 3 && v->type[id] != 4 && v->type[id] != 2) {
            if (detail) *detail = pp_asprintf("tokenizer.json: token %u is a vocabulary entry "
                                              "beyond the shape's %u tokens", id, v->n);
            return PARAPET_ERR_UNSUPPORTED;
        }
    for (uint32_t id = 0; id < v->n; id++) {
        if (v->tok[id]) continue;
        pp_status st = vocab_own(v, id, pp_asprintf("[PAD%u]", id));
        if (st) return st;
        v->type[id] = 5;
    }
    /* Merges: "a b" strings, or [a, b] pairs (newer tokenizers). */
    if (json_is_array(merges) && json_array_size(merges)) {
        v->n_merges = json_array_size(merges);
        v->merges = pp_calloc((size_t)v->n_merges, sizeof *v->merges);
        v->merge_len = pp_calloc((size_t)v->n_merges, sizeof *v->merge_len);
        v->merge_own = pp_calloc((size_t)v->n_merges, sizeof *v->merge_own);
        if (!v->merges || !v->merge_len || !v->merge_own) return PARAPET_ERR_NOMEM;
        json_array_foreach(merges, i, t) {
            if (json_is_string(t)) {
                v->merges[i] = json_string_value(t);
                v->merge_len[i] = json_string_length(t);
            } else if (json_is_array(t) && json_array_size(t) == 2 &&
                       json_is_string(json_array_get(t, 0)) && json_is_string(json_array_get(t, 1))) {
                json_t *a = json_array_get(t, 0), *b = json_array_get(t, 1);
                size_t la = json_string_length(a), lb = json_string_length(b);
                char *m = pp_malloc(la + lb + 2);
                if (!m) return PARAPET_ERR_NOMEM;
                memcpy(m, json_string_value(a), la);
                m[la] = ' ';
                memcpy(m + la + 1, json_string_value(b), lb);
                m[la + lb + 1] = 0;
                v->merge_own[i] = m;
                v->merges[i] = m;
                v->merge_len[i] = la + lb + 1;
            } else {
                if (detail) *detail = pp_asprintf("tokenizer.json: merge %zu is malformed", i);
                return PARAPET_ERR_JSON;
            }
        }
    }
    if (v->spm) {
        /* scores: minus the rank of the first merge that makes the piece */
        v->scores = pp_malloc((size_t)v->n * sizeof *v->scores);
        if (!v->scores) return PARAPET_ERR_NOMEM;
        for (uint32_t id = 0; id < v->n; id++) v->scores[id] = v->type[id] == 1 ? -1e9f : 0.0f;
        char *buf = NULL;
        size_t cap = 0;
        for (uint64_t r = 0; r < v->n_merges; r++) {
            /* the merged piece is the merge string without its separating space; a
            ** piece may itself contain spaces only as "▁", so the first space splits */
            const char *m = v->merges[r];
            const char *sp = memchr(m, ' ', v->merge_len[r]);
            if (!sp) continue;
            size_t la = (size_t)(sp - m), lb = v->merge_len[r] - la - 1;
            if (PP_GROW(buf, cap, la + lb + 1)) return PARAPET_ERR_NOMEM;
            memcpy(buf, m, la);
            memcpy(buf + la, sp + 1, lb);
            buf[la + lb] = 0;
            json_t *id = json_object_get(vmap, buf);
            if (json_is_integer(id) && (uint64_t)json_integer_value(id) < v->n) {
                uint32_t x = (uint32_t)json_integer_value(id);
                if (v->type[x] == 1 && v->scores[x] == -1e9f) v->scores[x] = -(float)r;
            }
        }
        pp_free(buf);
        v->add_space_prefix = prepends_space(json_object_get(root, "normalizer"));
        v->add_bos = 1;
    } else {
        /* Pre-tokenizer: recognise the Llama 3 and Qwen 2 split regexes. */
        char *pre_json = json_dumps(json_object_get(root, "pre_tokenizer"), JSON_COMPACT);
        v->pre = "default";
        if (pre_json) {
            if (strstr(pre_json, "\\\\p{N}{1,3}")) v->pre = "llama-bpe";
            else if (strstr(pre_json, "\\\\p{N}|")) v->pre = "qwen2";
            free(pre_json);   /* jansson allocated it with its own allocator */
        }
        /* Qwen adds no BOS (its converter writes add_bos_token false) */
        v->add_bos = !strcmp(v->pre, "qwen2") ? 0 : -1;
    }
    static const char *const bos[] = {"<|begin_of_text|>", "<s>", "<bos>", NULL};
    static const char *const bos_qwen[] = {"<|endoftext|>", NULL};
    static const char *const eos[] = {"<|eot_id|>", "<|im_end|>", "<|end_of_text|>",
                                      "<|endoftext|>", "</s>", "<eos>", NULL};
    static const char *const eot[] = {"<|eot_id|>", "<|im_end|>", "<end_of_turn>", NULL};
    static const char *const pad[] = {"<pad>", NULL};
    v->bos = find_tok(v, bos);
    if (v->bos < 0 && v->add_bos == 0) v->bos = find_tok(v, bos_qwen);
    v->eos = find_tok(v, eos);
    v->eot = find_tok(v, eot);
    v->pad = find_tok(v, pad);
    v->unk = -1;
    for (uint32_t id = 0; id < v->n && v->unk < 0; id++)
        if (v->type[id] == 2) v->unk = id;
    return PARAPET_OK;
bad_id:
    if (detail) *detail = pp_strdup("tokenizer.json: a token id is not an integer in [0, 2^21)");
    return PARAPET_ERR_JSON;
}

/* Granite's chat markup in a stand-in vocabulary.  No npm package ships Granite's
** tokenizer, so the granite shapes take another byte-level BPE vocabulary; when it
** is Llama 3's, its first reserved special tokens become Granite's role markers (and
** <|end_of_text|>, which Llama 3 has, its end of turn), so a guard prompt splits
** at the same special tokens as with the real vocabulary. */
static pp_status granite_markup(vocab *v) {
    static const char *const names[] = {"<|start_of_role|>", "<|end_of_role|>", "<|tool_call|>"};
    for (size_t i = 0; i < PP_ARRAY_LEN(names); i++) {
        char want[48];
        snprintf(want, sizeof want, "<|reserved_special_token_%zu|>", i);
        for (uint32_t id = 0; id < v->n; id++)
            if (v->type[id] == 3 && v->len[id] == strlen(want) && !memcmp(v->tok[id], want, v->len[id])) {
                pp_status st = vocab_own(v, id, pp_strdup(names[i]));
                if (st) return st;
                break;
            }
    }
    static const char *const eot[] = {"<|end_of_text|>", NULL};
    int64_t e = find_tok(v, eot);
    if (e >= 0) v->eos = v->eot = e;
    return PARAPET_OK;
}

/* ---------------------------------------------------------------- tensors ---- */

typedef struct tdecl {
    char name[64];
    uint32_t type, n_dims;
    uint64_t ne[2];
    int kind;                /* 0 matrix (random), 1 norm, 2 rope_freqs */
} tdecl;

/* llama-quantize's use_more_bits(): which layers get Q6_K for attn_v / ffn_down. */
static int more_bits(uint32_t i, uint32_t n) {
    return i < n / 8 || i >= 7 * n / 8 || (i >= n / 8 && (i - n / 8) % 3 == 2);
}

/* The 2-D weight type for a tensor under the requested mix.  `role` is the name's
** suffix; layer is -1 for global tensors. */
static uint32_t weight_type(int quant, const char *role, long layer, uint32_t n_layer, int tied) {
    if (quant == Q_F16) return PP_GGML_F16;
    if (quant == Q_Q8_0) return PP_GGML_Q8_0;
    if (!strcmp(role, "output.weight")) return PP_GGML_Q6_K;
    if (!strcmp(role, "token_embd.weight")) return tied ? PP_GGML_Q6_K : PP_GGML_Q4_K;
    if ((!strcmp(role, "attn_v.weight") || !strcmp(role, "ffn_down.weight")) &&
        more_bits((uint32_t)layer, n_layer))
        return PP_GGML_Q6_K;
    return PP_GGML_Q4_K;
}

static void add_t(tdecl *t, size_t *n, const char *name, uint32_t type, uint64_t ne0,
                  uint64_t ne1, int kind) {
    tdecl *d = &t[(*n)++];
    snprintf(d->name, sizeof d->name, "%s", name);
    d->type = type;
    d->n_dims = ne1 ? 2 : 1;
    d->ne[0] = ne0;
    d->ne[1] = ne1 ? ne1 : 1;
    d->kind = kind;
}

/* The tensors of shape sh in converter order; td has room for 4 + 13 per layer. */
static size_t tensor_list(const synth_shape *sh, int quant, uint32_t n_vocab, tdecl *td) {
    const uint32_t E = sh->n_embd, L = sh->n_layer, FF = sh->n_ff;
    const uint64_t q_dim = (uint64_t)sh->n_head * sh->head_dim,
                   kv_dim = (uint64_t)sh->n_head_kv * sh->head_dim;
    size_t n = 0;
    add_t(td, &n, "token_embd.weight", weight_type(quant, "token_embd.weight", -1, L, sh->tied),
          E, n_vocab, 0);
    for (uint32_t l = 0; l < L; l++) {
        /* role, rows (0: a vector of width cols), cols */
        const struct { const char *role; uint64_t rows, cols; int arch; } mats[] = {
            {"attn_norm.weight", 0, E, -1},
            {"attn_q.weight", q_dim, E, -1},
            {"attn_k.weight", kv_dim, E, -1},
            {"attn_v.weight", kv_dim, E, -1},
            {"attn_q_norm.weight", 0, sh->head_dim, A_QWEN3},
            {"attn_k_norm.weight", 0, sh->head_dim, A_QWEN3},
            {"attn_output.weight", E, q_dim, -1},
            {"post_attention_norm.weight", 0, E, A_GEMMA2},
            {"ffn_norm.weight", 0, E, -1},
            {"ffn_gate.weight", FF, E, -1},
            {"ffn_up.weight", FF, E, -1},
            {"ffn_down.weight", E, FF, -1},
            {"post_ffw_norm.weight", 0, E, A_GEMMA2},
        };
        for (size_t m = 0; m < PP_ARRAY_LEN(mats); m++) {
            if (mats[m].arch >= 0 && mats[m].arch != sh->arch) continue;
            char tn[64];
            snprintf(tn, sizeof tn, "blk.%u.%s", l, mats[m].role);
            if (!mats[m].rows) add_t(td, &n, tn, PP_GGML_F32, mats[m].cols, 0, 1);
            else add_t(td, &n, tn, weight_type(quant, mats[m].role, l, L, sh->tied), mats[m].cols,
                       mats[m].rows, 0);
        }
    }
    add_t(td, &n, "output_norm.weight", PP_GGML_F32, E, 0, 1);
    if (!sh->tied)
        add_t(td, &n, "output.weight", weight_type(quant, "output.weight", -1, L, 0), E, n_vocab, 0);
    if (sh->rope_factor > 0) add_t(td, &n, "rope_freqs.weight", PP_GGML_F32, sh->head_dim / 2, 0, 2);
    return n;
}

/* ---------------------------------------------------------------- metadata ---- */

static pp_status write_meta(pp_gguf_writer *w, const synth_shape *sh, int quant,
                            const char *quant_name, const vocab *v) {
    static const uint32_t file_types[] = {[Q_F16] = 1, [Q_Q8_0] = 7, [Q_Q4_K_M] = 15};
    const char *an = arch_name[sh->arch];
    char name[128], key[96];
    snprintf(name, sizeof name, "synthetic-%s-%s-%s", an, sh->name, quant_name);
#define K(s) (snprintf(key, sizeof key, "%s.%s", an, (s)), key)
    pp_status st;
    if ((st = pp_gguf_w_str(w, "general.architecture", an, strlen(an))) ||
        (st = pp_gguf_w_str(w, "general.name", name, strlen(name))) ||
        (st = pp_gguf_w_u32(w, "general.alignment", 32)) ||
        (st = pp_gguf_w_u32(w, "general.file_type", file_types[quant])) ||
        (quant != Q_F16 && (st = pp_gguf_w_u32(w, "general.quantization_version", 2))) ||
        (st = pp_gguf_w_u32(w, K("context_length"), sh->n_ctx)) ||
        (st = pp_gguf_w_u32(w, K("embedding_length"), sh->n_embd)) ||
        (st = pp_gguf_w_u32(w, K("block_count"), sh->n_layer)) ||
        (st = pp_gguf_w_u32(w, K("feed_forward_length"), sh->n_ff)) ||
        (st = pp_gguf_w_u32(w, K("attention.head_count"), sh->n_head)) ||
        (st = pp_gguf_w_u32(w, K("attention.head_count_kv"), sh->n_head_kv)) ||
        (st = pp_gguf_w_f32(w, K("attention.layer_norm_rms_epsilon"), sh->rms_eps)) ||
        (st = pp_gguf_w_f32(w, K("rope.freq_base"), sh->rope_base)) ||
        (st = pp_gguf_w_u32(w, K("vocab_size"), v->n)))
        return st;
    if (sh->arch == A_LLAMA || sh->arch == A_GRANITE) {
        if ((st = pp_gguf_w_u32(w, K("rope.dimension_count"), sh->head_dim))) return st;
    }
    if (sh->arch != A_LLAMA) {
        if ((st = pp_gguf_w_u32(w, K("attention.key_length"), sh->head_dim)) ||
            (st = pp_gguf_w_u32(w, K("attention.value_length"), sh->head_dim)))
            return st;
    }
    if (sh->arch == A_GEMMA2) {
        if ((st = pp_gguf_w_f32(w, K("attn_logit_softcapping"), 50.0f)) ||
            (st = pp_gguf_w_f32(w, K("final_logit_softcapping"), 30.0f)) ||
            (st = pp_gguf_w_u32(w, K("attention.sliding_window"), sh->swa)))
            return st;
    }
    if (sh->arch == A_GRANITE) {
        if ((st = pp_gguf_w_f32(w, K("embedding_scale"), sh->embd_scale)) ||
            (st = pp_gguf_w_f32(w, K("residual_scale"), sh->residual_scale)) ||
            (st = pp_gguf_w_f32(w, K("attention.scale"), sh->attn_scale)) ||
            (st = pp_gguf_w_f32(w, K("logit_scale"), sh->logit_scale)))
            return st;
    }
#undef K
    if (v->spm) {
        if ((st = pp_gguf_w_str(w, "tokenizer.ggml.model", "llama", 5)) ||
            (st = pp_gguf_w_arr_str(w, "tokenizer.ggml.tokens", v->tok, v->len, v->n)) ||
            (st = pp_gguf_w_arr(w, "tokenizer.ggml.scores", PP_GGUF_F32, v->scores, v->n)) ||
            (st = pp_gguf_w_arr(w, "tokenizer.ggml.token_type", PP_GGUF_I32, v->type, v->n)) ||
            (st = pp_gguf_w_bool(w, "tokenizer.ggml.add_space_prefix", v->add_space_prefix)))
            return st;
    } else {
        if ((st = pp_gguf_w_str(w, "tokenizer.ggml.model", "gpt2", 4)) ||
            (st = pp_gguf_w_str(w, "tokenizer.ggml.pre", v->pre, strlen(v->pre))) ||
            (st = pp_gguf_w_arr_str(w, "tokenizer.ggml.tokens", v->tok, v->len, v->n)) ||
            (st = pp_gguf_w_arr(w, "tokenizer.ggml.token_type", PP_GGUF_I32, v->type, v->n)) ||
            (v->n_merges && (st = pp_gguf_w_arr_str(w, "tokenizer.ggml.merges", v->merges,
                                                    v->merge_len, v->n_merges))))
            return st;
    }
    if ((v->bos >= 0 && (st = pp_gguf_w_u32(w, "tokenizer.ggml.bos_token_id", (uint32_t)v->bos))) ||
        (v->eos >= 0 && (st = pp_gguf_w_u32(w, "tokenizer.ggml.eos_token_id", (uint32_t)v->eos))) ||
        (v->eot >= 0 && (st = pp_gguf_w_u32(w, "tokenizer.ggml.eot_token_id", (uint32_t)v->eot))) ||
        (v->unk >= 0 && (st = pp_gguf_w_u32(w, "tokenizer.ggml.unknown_token_id", (uint32_t)v->unk))) ||
        (v->pad >= 0 && (st = pp_gguf_w_u32(w, "tokenizer.ggml.padding_token_id", (uint32_t)v->pad))) ||
        (v->add_bos >= 0 && (st = pp_gguf_w_bool(w, "tokenizer.ggml.add_bos_token", v->add_bos))))
        return st;
    return PARAPET_OK;
}

/* ------------------------------------------------------------------ synth ---- */

#define CHUNK_ELEMS (1u << 20)  /* values generated and quantized per write */

parapet_status parapet_model_synth(const char *shape_name, const char *quant_name,
                                   const char *tokenizer_json_path, uint64_t seed,
                                   const char *out_path, char **detail) {
    if (detail) *detail = NULL;
    const synth_shape *sh = NULL;
    for (size_t i = 0; shape_name && i < PP_ARRAY_LEN(shapes); i++)
        if (!strcmp(shapes[i].name, shape_name)) sh = &shapes[i];
    int quant = -1;
    if (quant_name && !strcmp(quant_name, "f16")) quant = Q_F16;
    else if (quant_name && !strcmp(quant_name, "q8_0")) quant = Q_Q8_0;
    else if (quant_name && !strcmp(quant_name, "q4_k_m")) quant = Q_Q4_K_M;
    if (!sh || quant < 0 || !tokenizer_json_path || !out_path) {
        if (detail)
            *detail = pp_strdup(!sh ? "unknown shape (tiny, 1b, lg3-1b, 8b, tiny-gemma2, "
                                      "shieldgemma-2b, tiny-qwen3, qwen3guard-0.6b, tiny-granite, "
                                      "granite-guardian-2b)"
                                : quant < 0 ? "unknown quant (f16, q8_0, q4_k_m)"
                                            : "missing tokenizer or output path");
        return PARAPET_ERR_ARG;
    }

    pp_status st;
    char *text = NULL, *tmp_path = NULL;
    size_t text_len = 0;
    json_t *root = NULL;
    vocab v;
    memset(&v, 0, sizeof v);
    tdecl *td = NULL;
    pp_gguf_writer *w = NULL;
    FILE *f = NULL;
    float *buf = NULL, *table = NULL;
    uint8_t *qbuf = NULL;
    rng r;
    rng_seed(&r, seed);

    if ((st = pp_read_file(tokenizer_json_path, (size_t)256 << 20, &text, &text_len, detail)))
        goto out;
    json_error_t jerr;
    root = json_loadb(text, text_len, 0, &jerr);
    if (!root) {
        if (detail) *detail = pp_asprintf("%s:%d:%d: %s", tokenizer_json_path, jerr.line,
                                          jerr.column, jerr.text);
        st = PARAPET_ERR_JSON;
        goto out;
    }
    if ((st = vocab_build(root, sh->n_vocab, &v, detail))) goto out;
    if (sh->arch == A_GRANITE && !v.spm && (st = granite_markup(&v))) goto out;

    st = PARAPET_ERR_NOMEM;
    if (!(w = pp_gguf_writer_new(32))) goto out;
    if ((st = write_meta(w, sh, quant, quant_name, &v))) goto out;

    /* ---- tensor list, in llama.cpp converter order */
    st = PARAPET_ERR_NOMEM;
    if (!(td = pp_calloc(4 + 13 * (size_t)sh->n_layer, sizeof *td))) goto out;
    size_t n_t = tensor_list(sh, quant, v.n, td);
    for (size_t i = 0; i < n_t; i++)
        if ((st = pp_gguf_w_tensor(w, td[i].name, td[i].type, td[i].n_dims, td[i].ne))) {
            if (detail && st == PARAPET_ERR_ARG)
                *detail = pp_asprintf("tensor %s: shape not representable in %s", td[i].name,
                                      pp_ggml_type_name(td[i].type));
            goto out;
        }

    /* ---- buffers: one chunk of values and its quantized bytes */
    st = PARAPET_ERR_NOMEM;
    uint64_t max_row = 0;
    for (size_t i = 0; i < n_t; i++) max_row = PP_MAX(max_row, td[i].ne[0]);
    const size_t chunk = PP_MAX((size_t)CHUNK_ELEMS, (size_t)max_row);
    if (!(buf = pp_malloc(chunk * sizeof *buf)) || !(qbuf = pp_malloc(chunk * sizeof(float))) ||
        !(table = pp_malloc(65536 * sizeof *table)))
        goto out;
    gauss_table(table, 0.02f);

    /* ---- write */
    if (!(tmp_path = pp_asprintf("%s.tmp", out_path))) { st = PARAPET_ERR_NOMEM; goto out; }
    if (!(f = fopen(tmp_path, "wb"))) {
        if (detail) *detail = pp_asprintf("%s: %s", tmp_path, strerror(errno));
        st = PARAPET_ERR_IO;
        goto out;
    }
    setvbuf(f, NULL, _IOFBF, 1 << 20);
    if ((st = pp_gguf_w_begin(w, f))) goto io_err;
    for (size_t i = 0; i < n_t; i++) {
        tdecl *d = &td[i];
        if (d->kind == 1 || d->kind == 2) {
            uint32_t n = (uint32_t)d->ne[0];
            for (uint32_t j = 0; j < n; j++) {
                if (d->kind == 1) {
                    buf[j] = 1.0f + 0.05f * rng_gauss(&r);
                } else {
                    /* llama3 rope factors: low 1, high 4, original context 8192 */
                    const double base = sh->rope_base, lo = 1.0, hi = 4.0, orig = 8192.0;
                    double freq = pow(base, -2.0 * j / sh->head_dim), wavelen = 2 * M_PI / freq;
                    double fac = sh->rope_factor;
                    if (wavelen < orig / hi) buf[j] = 1.0f;
                    else if (wavelen > orig / lo) buf[j] = (float)fac;
                    else {
                        double smooth = (orig / wavelen - lo) / (hi - lo);
                        buf[j] = (float)(1.0 / ((1 - smooth) / fac + smooth));
                    }
                }
            }
            if ((st = pp_gguf_w_data(w, buf, (size_t)n * 4))) goto io_err;
            continue;
        }
        /* a matrix: its own generator, rows in chunks of whole rows */
        rng tr;
        rng_seed(&tr, seed * 0x9e3779b97f4a7c15ull + i + 1);
        uint64_t rb;
        pp_ggml_row_bytes(d->type, d->ne[0], &rb);
        const uint64_t rows_per = PP_MAX((uint64_t)1, chunk / d->ne[0]);
        for (uint64_t row = 0; row < d->ne[1]; row += rows_per) {
            uint64_t k = PP_MIN(rows_per, d->ne[1] - row);
            fill_gauss(&tr, table, buf, (size_t)(k * d->ne[0]));
            if ((st = pp_quantize_row(d->type, buf, qbuf, (int64_t)(k * d->ne[0]))) ||
                (st = pp_gguf_w_data(w, qbuf, (size_t)(k * rb))))
                goto io_err;
        }
    }
    if ((st = pp_gguf_w_finish(w, NULL, NULL))) goto io_err;
    if (fclose(f)) { f = NULL; st = PARAPET_ERR_IO; goto io_err; }
    f = NULL;
    if (rename(tmp_path, out_path)) {
        if (detail) *detail = pp_asprintf("%s: %s", out_path, strerror(errno));
        st = PARAPET_ERR_IO;
        remove(tmp_path);
        goto out;
    }
    st = PARAPET_OK;
    goto out;
io_err:
    if (detail && !*detail) *detail = pp_asprintf("%s: write failed: %s", tmp_path, strerror(errno));
    if (f) fclose(f);
    f = NULL;
    remove(tmp_path);
out:
    if (f) fclose(f);
    pp_free(buf);
    pp_free(qbuf);
    pp_free(table);
    pp_free(td);
    pp_gguf_writer_free(w);
    vocab_free(&v);
    if (root) json_decref(root);
    pp_free(text);
    pp_free(tmp_path);
    if (st == PARAPET_ERR_NOMEM && detail && !*detail) *detail = pp_strdup("out of memory");
    return st;
}
