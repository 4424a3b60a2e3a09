/*
** synth.c -- `parapet model synth`: a GGUF with random weights and a real shape.
**
** Why: the guard engine is timed and tested against llama.cpp on identical files, and
** the real guard models are large downloads behind licences.  A synthetic file with
** Llama Guard 3's exact shapes, tensor names, type mix and real vocabulary exercises
** every code path (loading, tokenizing, every matmul shape) and times the same;
** only the outputs are meaningless.
**
** What it writes (llama architecture, the layout llama.cpp's converter produces):
**   metadata: general.*, llama.* hyper-parameters, tokenizer.ggml.{model=gpt2, pre,
**   tokens, token_type, merges, bos/eos ids} from a Hugging Face tokenizer.json
**   (byte-level BPE only);
**   tensors: token_embd, per layer attn_norm/q/k/v/output + ffn_norm/gate/up/down,
**   output_norm, output (untied shapes), rope_freqs (the real llama3 factors).
** Quant mixes: f16 and q8_0 put every 2-D weight in that type; q4_k_m follows
** llama-quantize's Q4_K_M rules (docs/guard-models-and-gguf.md B.3).  1-D tensors
** stay f32.
**
** Weights: N(0, 0.02) values quantized with quant.c into a ~1M-element pool per type;
** each tensor is a run of that pool starting at a seeded random block, so a multi-GB
** file is written at disk speed.  Norm weights are 1 + N(0, 0.05), fresh per tensor.
** The file is written to OUT.tmp and renamed, so a failed run leaves no half file.
*/
#include "llm/gguf.h"
#include "llm/quant.h"
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------ shapes ---- */

typedef struct synth_shape {
    const char *name;
    uint32_t n_embd, n_layer, n_head, n_head_kv, n_ff;
    int tied;
    float rope_factor;       /* llama3 rope scaling factor */
} synth_shape;

static const synth_shape shapes[] = {
    {"tiny", 256, 2, 8, 2, 512, 1, 32.0f},
    {"1b", 2048, 16, 32, 8, 8192, 1, 32.0f},       /* Llama 3.2 1B */
    {"lg3-1b", 2048, 16, 32, 8, 8192, 0, 32.0f},   /* Llama Guard 3 1B */
    {"8b", 4096, 32, 32, 8, 14336, 0, 8.0f},       /* Llama 3.1 8B = Llama Guard 3 8B */
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

/* -------------------------------------------------------------- tokenizer ---- */

typedef struct vocab {
    uint32_t n;
    const char **tok;        /* borrowed from the JSON, or from pads */
    size_t *len;
    int32_t *type;           /* 1 normal, 3 control, 4 user-defined, 5 unused */
    char **pads;             /* owned names for ids the tokenizer leaves unused */
    uint32_t n_pads;
    const char **merges;
    size_t *merge_len;
    char **merge_own;        /* "a b" strings built from array-form merges */
    uint64_t n_merges;
    const char *pre;
    int64_t bos, eos, eot;
} vocab;

static void vocab_free(vocab *v) {
    for (uint32_t i = 0; i < v->n_pads; i++) pp_free(v->pads[i]);
    if (v->merge_own)
        for (uint64_t i = 0; i < v->n_merges; i++) pp_free(v->merge_own[i]);
    pp_free(v->pads);
    pp_free(v->tok);
    pp_free(v->len);
    pp_free(v->type);
    pp_free(v->merges);
    pp_free(v->merge_len);
    pp_free(v->merge_own);
}

#define MAX_VOCAB (1u << 21)

static int64_t find_added(json_t *added, const char *const *names) {
    for (; *names; names++) {
        size_t i;
        json_t *t;
        json_array_foreach(added, i, t) {
            const char *c = json_string_value(json_object_get(t, "content"));
            json_t *id = json_object_get(t, "id");
            if (c && json_is_integer(id) && !strcmp(c, *names)) return json_integer_value(id);
        }
    }
    return -1;
}

/* Builds the GGUF vocabulary from a parsed tokenizer.json.  Strings are borrowed
** from `root`, which must outlive v. */
static pp_status vocab_build(json_t *root, vocab *v, char **detail) {
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
    v->n = (uint32_t)max_id + 1;
    v->tok = pp_calloc(v->n, sizeof *v->tok);
    v->len = pp_calloc(v->n, sizeof *v->len);
    v->type = pp_calloc(v->n, sizeof *v->type);
    if (!v->tok || !v->len || !v->type) return PARAPET_ERR_NOMEM;
    json_object_foreach(vmap, k, val) {
        uint32_t id = (uint32_t)json_integer_value(val);
        v->tok[id] = k;
        v->len[id] = strlen(k);   /* jansson keys are NUL-terminated, without NULs */
        v->type[id] = 1;
    }
    if (added) json_array_foreach(added, i, t) {
        uint32_t id = (uint32_t)json_integer_value(json_object_get(t, "id"));
        json_t *c = json_object_get(t, "content");
        v->tok[id] = json_string_value(c);
        v->len[id] = json_string_length(c);
        v->type[id] = json_is_true(json_object_get(t, "special")) ? 3 : 4;
    }
    uint32_t holes = 0;
    for (uint32_t id = 0; id < v->n; id++) holes += !v->tok[id];
    if (holes) {
        v->pads = pp_calloc(holes, sizeof *v->pads);
        if (!v->pads) return PARAPET_ERR_NOMEM;
        for (uint32_t id = 0; id < v->n; id++) {
            if (v->tok[id]) continue;
            char *p = pp_asprintf("[PAD%u]", id);
            if (!p) return PARAPET_ERR_NOMEM;
            v->pads[v->n_pads++] = p;
            v->tok[id] = p;
            v->len[id] = strlen(p);
            v->type[id] = 5;
        }
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
    /* Pre-tokenizer: recognise the Llama 3 and Qwen 2 split regexes. */
    char *pre_json = json_dumps(json_object_get(root, "pre_tokenizer"), JSON_COMPACT);
    v->pre = "default";
    if (pre_json) {
        if (strstr(pre_json, "\\\\p{N}{1,3}")) v->pre = "llama-bpe";
        else if (strstr(pre_json, "\\\\p{N}|")) v->pre = "qwen2";
        free(pre_json);   /* jansson allocated it with its own allocator */
    }
    static const char *const bos[] = {"<|begin_of_text|>", "<s>", "<bos>", NULL};
    static const char *const eos[] = {"<|eot_id|>", "<|im_end|>", "<|end_of_text|>",
                                      "<|endoftext|>", "</s>", "<eos>", NULL};
    static const char *const eot[] = {"<|eot_id|>", "<|im_end|>", NULL};
    v->bos = added ? find_added(added, bos) : -1;
    v->eos = added ? find_added(added, eos) : -1;
    v->eot = added ? find_added(added, eot) : -1;
    return PARAPET_OK;
bad_id:
    if (detail) *detail = pp_strdup("tokenizer.json: a token id is not an integer in [0, 2^21)");
    return PARAPET_ERR_JSON;
}

/* ---------------------------------------------------------------- tensors ---- */

typedef struct tdecl {
    char name[64];
    uint32_t type, n_dims;
    uint64_t ne[2];
    int kind;                /* 0 matrix (pool), 1 norm, 2 rope_freqs */
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

/* --------------------------------------------------------------- the pools ---- */

#define POOL_ELEMS (1u << 20)   /* floats behind each pool: a multiple of 256 */

typedef struct pool {
    uint8_t *data;
    uint64_t bytes, block;      /* block: bytes of one block of the type */
} pool;

static pp_status pool_make(pool *p, uint32_t type, rng *r, const float *src) {
    const pp_ggml_type_info *ti = pp_ggml_type_get(type);
    p->block = ti->size;
    p->bytes = (uint64_t)POOL_ELEMS / ti->blck * ti->size;
    p->data = pp_malloc((size_t)p->bytes);
    if (!p->data) return PARAPET_ERR_NOMEM;
    (void)r;
    return pp_quantize_row(type, src, p->data, POOL_ELEMS);
}

/* ------------------------------------------------------------------ synth ---- */

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
            *detail = pp_strdup(!sh ? "unknown shape (tiny, 1b, lg3-1b, 8b)"
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
    float *buf = NULL;
    pool pools[PP_GGML_TYPE_LIMIT];
    memset(pools, 0, sizeof pools);
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
    if ((st = vocab_build(root, &v, detail))) goto out;

    /* ---- metadata */
    const uint32_t E = sh->n_embd, L = sh->n_layer, H = sh->n_head, HKV = sh->n_head_kv,
                   FF = sh->n_ff, hd = E / H;
    st = PARAPET_ERR_NOMEM;
    if (!(w = pp_gguf_writer_new(32))) goto out;
    char name[128];
    snprintf(name, sizeof name, "synthetic-llama-%s-%s", sh->name, quant_name);
    static const uint32_t file_types[] = {[Q_F16] = 1, [Q_Q8_0] = 7, [Q_Q4_K_M] = 15};
        if ((st = pp_gguf_w_str(w, "general.architecture", "llama", 5)) ||
        (st = pp_gguf_w_str(w, "general.name", name, strlen(name))) ||
        (st = pp_gguf_w_u32(w, "general.alignment", 32)) ||
        (st = pp_gguf_w_u32(w, "general.file_type", file_types[quant])) ||
        (quant != Q_F16 && (st = pp_gguf_w_u32(w, "general.quantization_version", 2))) ||
        (st = pp_gguf_w_u32(w, "llama.context_length", 131072)) ||
        (st = pp_gguf_w_u32(w, "llama.embedding_length", E)) ||
        (st = pp_gguf_w_u32(w, "llama.block_count", L)) ||
        (st = pp_gguf_w_u32(w, "llama.feed_forward_length", FF)) ||
        (st = pp_gguf_w_u32(w, "llama.rope.dimension_count", hd)) ||
        (st = pp_gguf_w_u32(w, "llama.attention.head_count", H)) ||
        (st = pp_gguf_w_u32(w, "llama.attention.head_count_kv", HKV)) ||
        (st = pp_gguf_w_f32(w, "llama.attention.layer_norm_rms_epsilon", 1e-5f)) ||
        (st = pp_gguf_w_f32(w, "llama.rope.freq_base", 500000.0f)) ||
        (st = pp_gguf_w_u32(w, "llama.vocab_size", v.n)) ||
        (st = pp_gguf_w_str(w, "tokenizer.ggml.model", "gpt2", 4)) ||
        (st = pp_gguf_w_str(w, "tokenizer.ggml.pre", v.pre, strlen(v.pre))) ||
        (st = pp_gguf_w_arr_str(w, "tokenizer.ggml.tokens", v.tok, v.len, v.n)) ||
        (st = pp_gguf_w_arr(w, "tokenizer.ggml.token_type", PP_GGUF_I32, v.type, v.n)) ||
        (v.n_merges && (st = pp_gguf_w_arr_str(w, "tokenizer.ggml.merges", v.merges,
                                                v.merge_len, v.n_merges))) ||
        (v.bos >= 0 && (st = pp_gguf_w_u32(w, "tokenizer.ggml.bos_token_id", (uint32_t)v.bos))) ||
        (v.eos >= 0 && (st = pp_gguf_w_u32(w, "tokenizer.ggml.eos_token_id", (uint32_t)v.eos))) ||
        (v.eot >= 0 && (st = pp_gguf_w_u32(w, "tokenizer.ggml.eot_token_id", (uint32_t)v.eot))))
        goto out;

    /* ---- tensor list, in llama.cpp converter order */
    size_t n_t = 0, cap = 4 + 9 * (size_t)L;
    st = PARAPET_ERR_NOMEM;
    if (!(td = pp_calloc(cap, sizeof *td))) goto out;
    add_t(td, &n_t, "token_embd.weight", weight_type(quant, "token_embd.weight", -1, L, sh->tied),
          E, v.n, 0);
    for (uint32_t l = 0; l < L; l++) {
        static const struct { const char *role; int in_ff, out_kind; } mats[] = {
            {"attn_norm.weight", 0, 1}, {"attn_q.weight", 0, 0}, {"attn_k.weight", 0, 2},
            {"attn_v.weight", 0, 2}, {"attn_output.weight", 0, 0}, {"ffn_norm.weight", 0, 1},
            {"ffn_gate.weight", 0, 3}, {"ffn_up.weight", 0, 3}, {"ffn_down.weight", 1, 0},
        };
        for (size_t m = 0; m < PP_ARRAY_LEN(mats); m++) {
            char tn[64];
            snprintf(tn, sizeof tn, "blk.%u.%s", l, mats[m].role);
            if (mats[m].out_kind == 1) { add_t(td, &n_t, tn, PP_GGML_F32, E, 0, 1); continue; }
            uint64_t in = mats[m].in_ff ? FF : E;
            uint64_t outd = mats[m].out_kind == 0 ? E                 /* q, output, down */
                          : mats[m].out_kind == 2 ? (uint64_t)HKV * hd  /* k, v */
                                                  : FF;                 /* gate, up */
            add_t(td, &n_t, tn, weight_type(quant, mats[m].role, l, L, sh->tied), in, outd, 0);
        }
    }
    add_t(td, &n_t, "output_norm.weight", PP_GGML_F32, E, 0, 1);
    if (!sh->tied)
        add_t(td, &n_t, "output.weight", weight_type(quant, "output.weight", -1, L, 0), E, v.n, 0);
    add_t(td, &n_t, "rope_freqs.weight", PP_GGML_F32, hd / 2, 0, 2);
    for (size_t i = 0; i < n_t; i++)
        if ((st = pp_gguf_w_tensor(w, td[i].name, td[i].type, td[i].n_dims, td[i].ne))) {
            if (detail && st == PARAPET_ERR_ARG)
                *detail = pp_asprintf("tensor %s: shape not representable in %s", td[i].name,
                                      pp_ggml_type_name(td[i].type));
            goto out;
        }

    /* ---- pools of random blocks, one per 2-D type in use */
    st = PARAPET_ERR_NOMEM;
    if (!(buf = pp_malloc((size_t)POOL_ELEMS * sizeof *buf))) goto out;
    for (size_t i = 0; i < n_t; i++) {
        uint32_t t = td[i].type;
        if (td[i].kind != 0 || pools[t].data) continue;
        for (uint32_t j = 0; j < POOL_ELEMS; j++) buf[j] = 0.02f * rng_gauss(&r);
        if ((st = pool_make(&pools[t], t, &r, buf))) goto out;
    }

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
                    const double base = 500000.0, lo = 1.0, hi = 4.0, orig = 8192.0;
                    double freq = pow(base, -2.0 * j / hd), wavelen = 2 * M_PI / freq;
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
        pool *p = &pools[d->type];
        uint64_t left = pp_gguf_w_tensor_size(w, i);
        uint64_t nblk = p->bytes / p->block;
        uint64_t at = (rng_next(&r) % nblk) * p->block;
        while (left) {
            uint64_t k = p->bytes - at < left ? p->bytes - at : left;
            if ((st = pp_gguf_w_data(w, p->data + at, (size_t)k))) goto io_err;
            left -= k;
            at = 0;
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
    for (size_t t = 0; t < PP_GGML_TYPE_LIMIT; t++) pp_free(pools[t].data);
    pp_free(buf);
    pp_free(td);
    pp_gguf_writer_free(w);
    vocab_free(&v);
    if (root) json_decref(root);
    pp_free(text);
    pp_free(tmp_path);
    if (st == PARAPET_ERR_NOMEM && detail && !*detail) *detail = pp_strdup("out of memory");
    return st;
}
