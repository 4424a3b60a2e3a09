/*
** model.c -- loading a llama-architecture decoder from a GGUF file.
**
** Part of the guard-model engine (src/llm); the forward pass is forward.c.  The GGUF
** reader has already proven that every tensor's bytes lie inside the file; this file
** proves that the tensors fit the model: the hyper-parameters are read as llama.cpp
** reads them (same keys, same defaults: head_count_kv = head_count, head dim =
** n_embd/n_head, rope dims = head dim, rope base 10000), bounded, and checked for
** consistency; then each tensor llama.cpp's llama graph uses is looked up by name and
** its type and exact shape compared with what the hyper-parameters imply.  Anything
** off is PARAPET_ERR_FORMAT with a detail naming the key or tensor.
**
** Weight matrices are used in place from the mapping.  The 1-D vectors (norm weights,
** rope factors) are converted to f32 into one owned array: they are tiny, and this
** way the forward pass reads aligned floats whatever type and alignment the file used.
*/
#include "llm/model.h"
#include "llm/quant.h"
#include <math.h>
#include <string.h>

int pp_llm_weight_type_ok(uint32_t t) {
    switch (t) {
    case PP_GGML_F32: case PP_GGML_F16: case PP_GGML_BF16: case PP_GGML_Q8_0:
    case PP_GGML_Q4_0: case PP_GGML_Q4_K: case PP_GGML_Q5_K: case PP_GGML_Q6_K:
        return 1;
    default:
        return 0;
    }
}

/* ---------------------------------------------------------- hyper-parameters ---- */

/* Reads {arch}.key as a u32 into *out.  Absent: *out = def, or an error if def < 0. */
static pp_status hp_u32(const pp_gguf *g, const char *key, int64_t def, uint32_t lo,
                        uint32_t hi, uint32_t *out, char **detail) {
    uint32_t v;
    pp_status st = pp_gguf_get_u32(g, key, &v);
    if (st == PARAPET_ERR_NOT_FOUND) {
        if (def < 0) {
            if (detail) *detail = pp_asprintf("model: required key %s is missing", key);
            return PARAPET_ERR_FORMAT;
        }
        *out = (uint32_t)def;
        return PARAPET_OK;
    }
    if (st) {
        if (detail) *detail = pp_asprintf("model: key %s is not a non-negative 32-bit integer "
                                          "(per-layer arrays are not supported)", key);
        return PARAPET_ERR_FORMAT;
    }
    if (v < lo || v > hi) {
        if (detail) *detail = pp_asprintf("model: %s = %u is outside [%u, %u]", key, v, lo, hi);
        return PARAPET_ERR_FORMAT;
    }
    *out = v;
    return PARAPET_OK;
}

static pp_status hp_float(const pp_gguf *g, const char *key, double def, double lo, double hi,
                          float *out, char **detail) {
    double v;
    pp_status st = pp_gguf_get_float(g, key, &v);
    if (st == PARAPET_ERR_NOT_FOUND) {
        if (isnan(def)) {
            if (detail) *detail = pp_asprintf("model: required key %s is missing", key);
            return PARAPET_ERR_FORMAT;
        }
        v = def;
    } else if (st) {
        if (detail) *detail = pp_asprintf("model: key %s is not a number", key);
        return PARAPET_ERR_FORMAT;
    }
    if (!(v >= lo && v <= hi)) {   /* also rejects NaN */
        if (detail) *detail = pp_asprintf("model: %s = %g is outside [%g, %g]", key, v, lo, hi);
        return PARAPET_ERR_FORMAT;
    }
    *out = (float)v;
    return PARAPET_OK;
}

static pp_status read_hparams(const pp_gguf *g, pp_llm_hparams *hp, char **detail) {
    const char *arch;
    size_t alen;
    if (pp_gguf_get_str(g, "general.architecture", &arch, &alen)) {
        if (detail) *detail = pp_strdup("model: general.architecture is missing or not a string");
        return PARAPET_ERR_FORMAT;
    }
    if (alen != 5 || memcmp(arch, "llama", 5)) {
        if (detail) {
            char a[33];
            size_t n = alen < 32 ? alen : 32;
            for (size_t i = 0; i < n; i++) a[i] = (arch[i] >= 0x20 && arch[i] < 0x7f) ? arch[i] : '?';
            a[n] = 0;
            *detail = pp_asprintf("model: architecture '%s' is not supported (llama only)", a);
        }
        return PARAPET_ERR_UNSUPPORTED;
    }
    pp_status st;
    memset(hp, 0, sizeof *hp);
    if ((st = hp_u32(g, "llama.embedding_length", -1, 1, PP_LLM_MAX_EMBD, &hp->n_embd, detail)) ||
        (st = hp_u32(g, "llama.block_count", -1, 1, PP_LLM_MAX_LAYER, &hp->n_layer, detail)) ||
        (st = hp_u32(g, "llama.feed_forward_length", -1, 1, PP_LLM_MAX_FF, &hp->n_ff, detail)) ||
        (st = hp_u32(g, "llama.attention.head_count", -1, 1, PP_LLM_MAX_HEAD, &hp->n_head, detail)) ||
        (st = hp_u32(g, "llama.attention.head_count_kv", hp->n_head, 1, PP_LLM_MAX_HEAD,
                     &hp->n_head_kv, detail)) ||
        (st = hp_u32(g, "llama.context_length", 4096, 1, UINT32_MAX, &hp->n_ctx_train, detail)))
        return st;
    if (hp->n_head % hp->n_head_kv) {
        if (detail) *detail = pp_asprintf("model: head_count %u is not a multiple of head_count_kv %u",
                                          hp->n_head, hp->n_head_kv);
        return PARAPET_ERR_FORMAT;
    }
    uint32_t def_hd = hp->n_embd % hp->n_head == 0 ? hp->n_embd / hp->n_head : 0;
    uint32_t vd;
    if ((st = hp_u32(g, "llama.attention.key_length", def_hd ? (int64_t)def_hd : -1, 2, PP_LLM_MAX_HEAD_DIM,
                     &hp->head_dim, detail)) ||
        (st = hp_u32(g, "llama.attention.value_length", hp->head_dim, 2, PP_LLM_MAX_HEAD_DIM,
                     &vd, detail)))
        return st;
    if (vd != hp->head_dim || hp->head_dim % 2) {
        if (detail) *detail = pp_asprintf("model: key_length %u / value_length %u: both must be "
                                          "equal and even", hp->head_dim, vd);
        return PARAPET_ERR_FORMAT;
    }
    if ((st = hp_u32(g, "llama.rope.dimension_count", hp->head_dim, 2, hp->head_dim, &hp->n_rot,
                     detail)))
        return st;
    if (hp->n_rot % 2) {
        if (detail) *detail = pp_asprintf("model: rope.dimension_count %u is odd", hp->n_rot);
        return PARAPET_ERR_FORMAT;
    }
    if ((st = hp_float(g, "llama.attention.layer_norm_rms_epsilon", 1e-5, 0.0, 1.0, &hp->rms_eps,
                       detail)) ||
        (st = hp_float(g, "llama.rope.freq_base", 10000.0, 1.0, 1e12, &hp->rope_base, detail)))
        return st;
    hp->rope_freq_scale = 1.0f;
    const char *stype;
    size_t slen;
    if (!pp_gguf_get_str(g, "llama.rope.scaling.type", &stype, &slen) &&
        !(slen == 4 && !memcmp(stype, "none", 4))) {
        if (!(slen == 6 && !memcmp(stype, "linear", 6))) {
            if (detail) *detail = pp_strdup("model: llama.rope.scaling.type other than none or "
                                            "linear is not supported");
            return PARAPET_ERR_UNSUPPORTED;
        }
        float factor;
        if ((st = hp_float(g, "llama.rope.scaling.factor", 1.0, 1e-3, 1e6, &factor, detail)))
            return st;
        hp->rope_freq_scale = 1.0f / factor;
    }
    /* The vocabulary size is token_embd's row count; llama.vocab_size, when present,
    ** must agree (checked by the caller once the tensor is known). */
    return PARAPET_OK;
}

/* ----------------------------------------------------------------- tensors ---- */

/* Finds a 2-D weight `name` of shape (ne0, ne1) with a type the kernels multiply.
** optional: absent is fine (w->data stays NULL). */
static pp_status get_weight(const pp_gguf *g, const char *name, int64_t ne0, int64_t ne1,
                            int optional, pp_llm_weight *w, char **detail) {
    const pp_gguf_tensor *t = pp_gguf_tensor_find(g, name);
    memset(w, 0, sizeof *w);
    if (!t) {
        if (optional) return PARAPET_OK;
        if (detail) *detail = pp_asprintf("model: tensor %s is missing", name);
        return PARAPET_ERR_FORMAT;
    }
    if (t->n_dims != 2 || (int64_t)t->ne[0] != ne0 || (ne1 >= 0 && (int64_t)t->ne[1] != ne1)) {
        if (detail)
            *detail = pp_asprintf("model: tensor %s has shape [%llu, %llu] (%u dims), expected "
                                  "[%lld, %lld]", name, (unsigned long long)t->ne[0],
                                  (unsigned long long)t->ne[1], t->n_dims, (long long)ne0,
                                  (long long)ne1);
        return PARAPET_ERR_FORMAT;
    }
    if (!pp_llm_weight_type_ok(t->type)) {
        if (detail) *detail = pp_asprintf("model: tensor %s has type %s, which the engine does "
                                          "not multiply (f32 f16 bf16 q8_0 q4_0 q4_K q5_K q6_K)",
                                          name, pp_ggml_type_name(t->type));
        return PARAPET_ERR_UNSUPPORTED;
    }
    uint64_t rb;
    if (pp_ggml_row_bytes(t->type, t->ne[0], &rb) || rb * t->ne[1] > t->size) {
        if (detail) *detail = pp_asprintf("model: tensor %s: rows do not fit its data", name);
        return PARAPET_ERR_FORMAT;
    }
    w->data = t->data;
    w->type = t->type;
    w->ne0 = (int64_t)t->ne[0];
    w->ne1 = (int64_t)t->ne[1];
    w->row_bytes = (size_t)rb;
    w->name = t->name;
    return PARAPET_OK;
}

/* Copies the 1-D tensor `name` of n elements (f32, f16 or bf16) into dst as f32.
** optional: returns _NOT_FOUND quietly when absent. */
static pp_status get_vec(const pp_gguf *g, const char *name, uint64_t n, int optional,
                         float *dst, char **detail) {
    const pp_gguf_tensor *t = pp_gguf_tensor_find(g, name);
    if (!t) {
        if (optional) return PARAPET_ERR_NOT_FOUND;
        if (detail) *detail = pp_asprintf("model: tensor %s is missing", name);
        return PARAPET_ERR_FORMAT;
    }
    if (t->n_elements != n || t->ne[0] != n) {
        if (detail) *detail = pp_asprintf("model: tensor %s has %llu elements (first dim %llu), "
                                          "expected a vector of %llu", name,
                                          (unsigned long long)t->n_elements,
                                          (unsigned long long)t->ne[0], (unsigned long long)n);
        return PARAPET_ERR_FORMAT;
    }
    if (t->type != PP_GGML_F32 && t->type != PP_GGML_F16 && t->type != PP_GGML_BF16) {
        if (detail) *detail = pp_asprintf("model: vector %s has type %s (f32, f16 or bf16 expected)",
                                          name, pp_ggml_type_name(t->type));
        return PARAPET_ERR_FORMAT;
    }
    if (pp_dequantize_row(t->type, t->data, dst, (int64_t)n)) {
        if (detail) *detail = pp_asprintf("model: tensor %s could not be read", name);
        return PARAPET_ERR_FORMAT;
    }
    for (uint64_t i = 0; i < n; i++)
        if (!isfinite(dst[i])) {
            if (detail) *detail = pp_asprintf("model: tensor %s holds a non-finite value at %llu",
                                              name, (unsigned long long)i);
            return PARAPET_ERR_FORMAT;
        }
    return PARAPET_OK;
}

/* ------------------------------------------------------------------- load ---- */

pp_status pp_llm_model_from_gguf(pp_gguf *g, pp_llm_model **out, char **detail) {
    if (detail) *detail = NULL;
    if (!g || !out) {
        pp_gguf_close(g);
        return PARAPET_ERR_ARG;
    }
    pp_llm_model *m = pp_calloc(1, sizeof *m);
    if (!m) {
        pp_gguf_close(g);
        return PARAPET_ERR_NOMEM;
    }
    m->g = g;
    pp_status st = read_hparams(g, &m->hp, detail);
    if (st) goto fail;
    pp_llm_hparams *hp = &m->hp;
    const int64_t E = hp->n_embd, q_dim = (int64_t)hp->n_head * hp->head_dim,
                  kv_dim = (int64_t)hp->n_head_kv * hp->head_dim, FF = hp->n_ff;

    /* token_embd fixes the vocabulary size */
    if ((st = get_weight(g, "token_embd.weight", E, -1, 0, &m->tok_embd, detail))) goto fail;
    if (m->tok_embd.ne1 < 1 || m->tok_embd.ne1 > PP_LLM_MAX_VOCAB) {
        if (detail) *detail = pp_asprintf("model: vocabulary of %lld tokens is out of range",
                                          (long long)m->tok_embd.ne1);
        st = PARAPET_ERR_FORMAT;
        goto fail;
    }
    hp->n_vocab = (uint32_t)m->tok_embd.ne1;
    uint32_t vs;
    if ((st = hp_u32(g, "llama.vocab_size", hp->n_vocab, 1, PP_LLM_MAX_VOCAB, &vs, detail)))
        goto fail;
    if (vs != hp->n_vocab) {
        if (detail) *detail = pp_asprintf("model: llama.vocab_size %u but token_embd.weight has "
                                          "%u rows", vs, hp->n_vocab);
        st = PARAPET_ERR_FORMAT;
        goto fail;
    }
    if ((st = get_weight(g, "output.weight", E, hp->n_vocab, 1, &m->output, detail))) goto fail;
    if (!m->output.data) {
        m->output = m->tok_embd;
        m->tied = 1;
    }

    /* 1-D vectors: 2 norms per layer + output_norm + rope_freqs */
    size_t n_vec = ((size_t)2 * hp->n_layer + 1) * (size_t)E + hp->n_rot / 2;
    st = PARAPET_ERR_NOMEM;
    if (!(m->vecs = pp_malloc(n_vec * sizeof *m->vecs))) goto fail;
    if (!(m->layers = pp_calloc(hp->n_layer, sizeof *m->layers))) goto fail;
    float *vp = m->vecs;
    if ((st = get_vec(g, "output_norm.weight", (uint64_t)E, 0, vp, detail))) goto fail;
    m->output_norm = vp;
    vp += E;
    st = get_vec(g, "rope_freqs.weight", hp->n_rot / 2, 1, vp, detail);
    if (st == PARAPET_OK) {
        for (uint32_t i = 0; i < hp->n_rot / 2; i++)
            if (!(vp[i] > 0)) {
                if (detail) *detail = pp_asprintf("model: rope_freqs.weight[%u] = %g is not "
                                                  "positive", i, vp[i]);
                st = PARAPET_ERR_FORMAT;
                goto fail;
            }
        m->rope_freqs = vp;
    } else if (st != PARAPET_ERR_NOT_FOUND) {
        goto fail;
    }
    vp += hp->n_rot / 2;

    char name[PP_GGUF_MAX_NAME + 16];
#define LNAME(s) (snprintf(name, sizeof name, "blk.%u.%s", l, (s)), name)
    for (uint32_t l = 0; l < hp->n_layer; l++) {
        pp_llm_layer *ly = &m->layers[l];
        if ((st = get_vec(g, LNAME("attn_norm.weight"), (uint64_t)E, 0, vp, detail))) goto fail;
        ly->attn_norm = vp;
        vp += E;
        if ((st = get_vec(g, LNAME("ffn_norm.weight"), (uint64_t)E, 0, vp, detail))) goto fail;
        ly->ffn_norm = vp;
        vp += E;
        if ((st = get_weight(g, LNAME("attn_q.weight"), E, q_dim, 0, &ly->wq, detail)) ||
            (st = get_weight(g, LNAME("attn_k.weight"), E, kv_dim, 0, &ly->wk, detail)) ||
            (st = get_weight(g, LNAME("attn_v.weight"), E, kv_dim, 0, &ly->wv, detail)) ||
            (st = get_weight(g, LNAME("attn_output.weight"), q_dim, E, 0, &ly->wo, detail)) ||
            (st = get_weight(g, LNAME("ffn_gate.weight"), E, FF, 0, &ly->gate, detail)) ||
            (st = get_weight(g, LNAME("ffn_up.weight"), E, FF, 0, &ly->up, detail)) ||
            (st = get_weight(g, LNAME("ffn_down.weight"), FF, E, 0, &ly->down, detail)))
            goto fail;
        /* Biases (some llama-architecture fine-tunes carry them) would be silently
        ** ignored: refuse instead of computing something else. */
        static const char *const biases[] = {"attn_q.bias", "attn_k.bias", "attn_v.bias",
                                             "attn_output.bias", "ffn_up.bias", "ffn_down.bias",
                                             "ffn_gate.bias"};
        for (size_t b = 0; b < PP_ARRAY_LEN(biases); b++)
            if (pp_gguf_tensor_find(g, LNAME(biases[b]))) {
                if (detail) *detail = pp_asprintf("model: tensor %s: biases are not supported", name);
                st = PARAPET_ERR_UNSUPPORTED;
                goto fail;
            }
    }
#undef LNAME
    for (size_t i = 0; i < pp_gguf_tensor_count(g); i++)
        m->weight_bytes += pp_gguf_tensor_at(g, i)->size;
    *out = m;
    return PARAPET_OK;
fail:
    if (st == PARAPET_ERR_NOMEM && detail && !*detail) *detail = pp_strdup("out of memory");
    pp_llm_model_free(m);
    return st;
}

pp_status pp_llm_model_load(const char *path, pp_llm_model **out, char **detail) {
    if (detail) *detail = NULL;
    if (!path || !out) return PARAPET_ERR_ARG;
    pp_gguf *g;
    pp_status st = pp_gguf_open_file(path, &g, detail);
    if (st) return st;
    return pp_llm_model_from_gguf(g, out, detail);
}

void pp_llm_model_free(pp_llm_model *m) {
    if (!m) return;
    pp_gguf_close(m->g);
    pp_free(m->layers);
    pp_free(m->vecs);
    pp_free(m->packed_mem);
    pp_free(m);
}
