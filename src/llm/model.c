/*
** model.c -- loading a decoder (llama, gemma2, qwen3, granite) from a GGUF file.
**
** Part of the guard-model engine (src/llm); the forward pass is forward.c.  The GGUF
** reader has already proven that every tensor's bytes lie inside the file; this file
** proves that the tensors fit the model: the hyper-parameters are read as llama.cpp
** reads them (same {arch}.* keys, same defaults: head_count_kv = head_count, head dim
** = n_embd/n_head, rope dims = head dim, rope base 10000, and each architecture's own
** keys and defaults in read_arch_hparams), bounded, and checked for consistency; then
** each tensor llama.cpp's graph of that architecture uses is looked up by name and its
** type and exact shape compared with what the hyper-parameters imply, and a tensor the
** graph would not use is refused (llama.cpp refuses it too).  Anything off is
** PARAPET_ERR_FORMAT (or _UNSUPPORTED) with a detail naming the key or tensor.
**
** Weight matrices are used in place from the mapping.  The 1-D vectors (norm weights,
** biases, rope factors) are converted to f32 into one owned array: they are tiny, and
** this way the forward pass reads aligned floats whatever type and alignment the file
** used.
*/
#include "llm/model.h"
#include "llm/quant.h"
#include <math.h>
#include <stdio.h>
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

static const char *const arch_names[PP_LLM_ARCH_COUNT] = {"llama", "gemma2", "qwen3", "granite"};

const char *pp_llm_arch_name(pp_llm_arch a) {
    return (unsigned)a < PP_LLM_ARCH_COUNT ? arch_names[a] : "?";
}

/* "{arch}.suffix" into buf (keys are short; the buffer always fits). */
#define AKEY(suffix) (snprintf(key, sizeof key, "%s.%s", an, (suffix)), key)

/* The architecture switches of pp_llm_hparams, with llama.cpp's keys and defaults
** (src/models/{llama,gemma2,qwen3,granite}.cpp of the llama.cpp that node-llama-cpp
** 3.21.1 bundles).  Called after the common keys are read. */
static pp_status read_arch_hparams(const pp_gguf *g, pp_llm_hparams *hp, char **detail) {
    const char *an = arch_names[hp->arch];
    char key[96];
    pp_status st;
    hp->use_rope = 1;
    hp->embd_scale = 1.0f;
    hp->q_scale = 1.0f;
    hp->kq_scale = 1.0f / sqrtf((float)hp->head_dim);
    hp->residual_scale = 1.0f;
    hp->logit_scale = 1.0f;
    switch (hp->arch) {
    case PP_LLM_LLAMA:
        return PARAPET_OK;
    case PP_LLM_GEMMA2: {
        /* llm_build_gemma2_iswa: embeddings * sqrt(n_embd); q * f_attention_scale after
        ** RoPE and attention scale 1 (the 27B shape, 46 layers, scales by
        ** 1/sqrt(n_embd/n_head) as gemma_pytorch); soft-caps; sliding window on the
        ** layers il % period < period - 1 (period 2: the even ones). */
        uint32_t period;
        hp->rope_neox = 1;
        hp->ffn_gelu = 1;
        hp->embd_scale = sqrtf((float)hp->n_embd);
        hp->q_scale = hp->n_layer == 46 ? 1.0f / sqrtf((float)(hp->n_embd / hp->n_head))
                                        : 1.0f / sqrtf((float)hp->head_dim);
        hp->kq_scale = 1.0f;
        if ((st = hp_float(g, AKEY("attn_logit_softcapping"), 50.0, 1e-3, 1e6, &hp->attn_softcap,
                           detail)) ||
            (st = hp_float(g, AKEY("final_logit_softcapping"), 30.0, 1e-3, 1e6, &hp->final_softcap,
                           detail)) ||
            (st = hp_u32(g, AKEY("attention.sliding_window"), 4096, 1, UINT32_MAX, &hp->n_swa,
                         detail)) ||
            (st = hp_u32(g, AKEY("attention.sliding_window_pattern"), 2, 0, PP_LLM_MAX_LAYER,
                         &period, detail)))
            return st;
        hp->swa_period = period;
        /* a separate RoPE base or head size for the sliding layers (gemma3 style) is not
        ** run: refuse rather than compute those layers with the global values */
        float base_swa;
        uint32_t u;
        if ((st = hp_float(g, AKEY("rope.freq_base_swa"), hp->rope_base, 1.0, 1e12, &base_swa,
                           detail)))
            return st;
        if (base_swa != hp->rope_base ||
            (!pp_gguf_get_u32(g, AKEY("attention.key_length_swa"), &u) && u != hp->head_dim) ||
            (!pp_gguf_get_u32(g, AKEY("attention.value_length_swa"), &u) && u != hp->head_dim) ||
            (!pp_gguf_get_u32(g, AKEY("rope.dimension_count_swa"), &u) && u != hp->n_rot)) {
            if (detail) *detail = pp_strdup("model: gemma2 sliding-window layers with their own "
                                            "RoPE base or head size are not supported");
            return PARAPET_ERR_UNSUPPORTED;
        }
        return PARAPET_OK;
    }
    case PP_LLM_QWEN3:
        /* llm_build_qwen3: QK-norm before NEOX RoPE; the graph asserts n_rot == head dim */
        hp->rope_neox = 1;
        if (hp->n_rot != hp->head_dim) {
            if (detail) *detail = pp_asprintf("model: qwen3.rope.dimension_count %u differs from "
                                              "the head dim %u", hp->n_rot, hp->head_dim);
            return PARAPET_ERR_FORMAT;
        }
        return PARAPET_OK;
    case PP_LLM_GRANITE: {
        /* llm_build_granite: logit_scale is required; the other three multipliers are
        ** off when absent or 0 (llama.cpp's "if (f_residual_scale)" etc.) */
        float es, rs, as;
        int finetuned = 1;
        if ((st = hp_float(g, AKEY("logit_scale"), NAN, 1e-6, 1e6, &hp->logit_scale, detail)) ||
            (st = hp_float(g, AKEY("embedding_scale"), 0.0, 0.0, 1e6, &es, detail)) ||
            (st = hp_float(g, AKEY("residual_scale"), 0.0, 0.0, 1e6, &rs, detail)) ||
            (st = hp_float(g, AKEY("attention.scale"), 0.0, 0.0, 1e6, &as, detail)))
            return st;
        if (es != 0.0f) hp->embd_scale = es;
        if (rs != 0.0f) hp->residual_scale = rs;
        if (as != 0.0f) hp->kq_scale = as;
        if (pp_gguf_find(g, AKEY("rope.scaling.finetuned")) >= 0 &&
            pp_gguf_get_bool(g, key, &finetuned)) {
            if (detail) *detail = pp_asprintf("model: %s is not a boolean", key);
            return PARAPET_ERR_FORMAT;
        }
        hp->use_rope = finetuned != 0;
        if (hp->n_rot != hp->head_dim) {
            if (detail) *detail = pp_asprintf("model: granite.rope.dimension_count %u differs from "
                                              "the head dim %u", hp->n_rot, hp->head_dim);
            return PARAPET_ERR_FORMAT;
        }
        return PARAPET_OK;
    }
    default:
        return PARAPET_ERR_UNSUPPORTED;
    }
}

static pp_status read_hparams(const pp_gguf *g, pp_llm_hparams *hp, char **detail) {
    const char *arch;
    size_t alen;
    if (pp_gguf_get_str(g, "general.architecture", &arch, &alen)) {
        if (detail) *detail = pp_strdup("model: general.architecture is missing or not a string");
        return PARAPET_ERR_FORMAT;
    }
    memset(hp, 0, sizeof *hp);
    int a = -1;
    for (int i = 0; i < PP_LLM_ARCH_COUNT; i++)
        if (alen == strlen(arch_names[i]) && !memcmp(arch, arch_names[i], alen)) a = i;
    if (a < 0) {
        if (detail) {
            char s[33];
            size_t n = alen < 32 ? alen : 32;
            for (size_t i = 0; i < n; i++) s[i] = (arch[i] >= 0x20 && arch[i] < 0x7f) ? arch[i] : '?';
            s[n] = 0;
            *detail = pp_asprintf("model: architecture '%s' is not supported (llama, gemma2, "
                                  "qwen3, granite)", s);
        }
        return PARAPET_ERR_UNSUPPORTED;
    }
    hp->arch = (pp_llm_arch)a;
    const char *an = arch_names[a];
    char key[96];
    pp_status st;
    if ((st = hp_u32(g, AKEY("embedding_length"), -1, 1, PP_LLM_MAX_EMBD, &hp->n_embd, detail)) ||
        (st = hp_u32(g, AKEY("block_count"), -1, 1, PP_LLM_MAX_LAYER, &hp->n_layer, detail)) ||
        (st = hp_u32(g, AKEY("feed_forward_length"), -1, 1, PP_LLM_MAX_FF, &hp->n_ff, detail)) ||
        (st = hp_u32(g, AKEY("attention.head_count"), -1, 1, PP_LLM_MAX_HEAD, &hp->n_head, detail)) ||
        (st = hp_u32(g, AKEY("attention.head_count_kv"), hp->n_head, 1, PP_LLM_MAX_HEAD,
                     &hp->n_head_kv, detail)) ||
        (st = hp_u32(g, AKEY("context_length"), 4096, 1, UINT32_MAX, &hp->n_ctx_train, detail)))
        return st;
    if (hp->n_head % hp->n_head_kv) {
        if (detail) *detail = pp_asprintf("model: head_count %u is not a multiple of head_count_kv %u",
                                          hp->n_head, hp->n_head_kv);
        return PARAPET_ERR_FORMAT;
    }
    uint32_t def_hd = hp->n_embd % hp->n_head == 0 ? hp->n_embd / hp->n_head : 0;
    uint32_t vd;
    if ((st = hp_u32(g, AKEY("attention.key_length"), def_hd ? (int64_t)def_hd : -1, 2,
                     PP_LLM_MAX_HEAD_DIM, &hp->head_dim, detail)) ||
        (st = hp_u32(g, AKEY("attention.value_length"), hp->head_dim, 2, PP_LLM_MAX_HEAD_DIM,
                     &vd, detail)))
        return st;
    if (vd != hp->head_dim || hp->head_dim % 2) {
        if (detail) *detail = pp_asprintf("model: key_length %u / value_length %u: both must be "
                                          "equal and even", hp->head_dim, vd);
        return PARAPET_ERR_FORMAT;
    }
    if ((st = hp_u32(g, AKEY("rope.dimension_count"), hp->head_dim, 2, hp->head_dim, &hp->n_rot,
                     detail)))
        return st;
    if (hp->n_rot % 2) {
        if (detail) *detail = pp_asprintf("model: rope.dimension_count %u is odd", hp->n_rot);
        return PARAPET_ERR_FORMAT;
    }
    /* llama.cpp requires the epsilon for gemma2, qwen3 and granite; llama keeps the
    ** 1e-5 default this loader always had */
    if ((st = hp_float(g, AKEY("attention.layer_norm_rms_epsilon"),
                       hp->arch == PP_LLM_LLAMA ? 1e-5 : NAN, 0.0, 1.0, &hp->rms_eps, detail)) ||
        (st = hp_float(g, AKEY("rope.freq_base"), 10000.0, 1.0, 1e12, &hp->rope_base, detail)))
        return st;
    hp->rope_freq_scale = 1.0f;
    const char *stype;
    size_t slen;
    if (!pp_gguf_get_str(g, AKEY("rope.scaling.type"), &stype, &slen) &&
        !(slen == 4 && !memcmp(stype, "none", 4))) {
        if (!(slen == 6 && !memcmp(stype, "linear", 6))) {
            if (detail) *detail = pp_asprintf("model: %s other than none or linear is not "
                                              "supported", key);
            return PARAPET_ERR_UNSUPPORTED;
        }
        float factor;
        if ((st = hp_float(g, AKEY("rope.scaling.factor"), 1.0, 1e-3, 1e6, &factor, detail)))
            return st;
        hp->rope_freq_scale = 1.0f / factor;
    }
    /* The vocabulary size is token_embd's row count; {arch}.vocab_size, when present,
    ** must agree (checked by the caller once the tensor is known). */
    return read_arch_hparams(g, hp, detail);
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

/* Whether the loaded model m uses the file's tensor `name` (for the message when a
** file holds more tensors than the graph uses). */
static int tensor_used(const pp_llm_model *m, const char *name) {
    if (!strcmp(name, "token_embd.weight") || !strcmp(name, "output_norm.weight"))
        return 1;
    if (!strcmp(name, "output.weight")) return !m->tied;
    if (!strcmp(name, "rope_freqs.weight")) return m->rope_freqs != NULL;
    unsigned l;
    int off = 0;
    if (sscanf(name, "blk.%u.%n", &l, &off) != 1 || off == 0 || l >= m->hp.n_layer) return 0;
    const pp_llm_layer *ly = &m->layers[l];
    const char *sfx = name + off;
    static const char *const always[] = {"attn_norm.weight", "ffn_norm.weight", "attn_q.weight",
                                         "attn_k.weight", "attn_v.weight", "attn_output.weight",
                                         "ffn_gate.weight", "ffn_up.weight", "ffn_down.weight"};
    for (size_t i = 0; i < PP_ARRAY_LEN(always); i++)
        if (!strcmp(sfx, always[i])) return 1;
    const struct { const char *s; const void *p; } opt[] = {
        {"attn_q.bias", ly->bq}, {"attn_k.bias", ly->bk}, {"attn_v.bias", ly->bv},
        {"attn_output.bias", ly->bo}, {"ffn_gate.bias", ly->b_gate}, {"ffn_up.bias", ly->b_up},
        {"ffn_down.bias", ly->b_down}, {"attn_q_norm.weight", ly->q_norm},
        {"attn_k_norm.weight", ly->k_norm}, {"post_attention_norm.weight", ly->post_attn_norm},
        {"post_ffw_norm.weight", ly->post_ffn_norm}};
    for (size_t i = 0; i < PP_ARRAY_LEN(opt); i++)
        if (!strcmp(sfx, opt[i].s)) return opt[i].p != NULL;
    return 0;
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
    char vkey[64];
    snprintf(vkey, sizeof vkey, "%s.vocab_size", arch_names[hp->arch]);
    if ((st = hp_u32(g, vkey, hp->n_vocab, 1, PP_LLM_MAX_VOCAB, &vs, detail)))
        goto fail;
    if (vs != hp->n_vocab) {
        if (detail) *detail = pp_asprintf("model: %s %u but token_embd.weight has %u rows", vkey,
                                          vs, hp->n_vocab);
        st = PARAPET_ERR_FORMAT;
        goto fail;
    }
    /* gemma2 is always tied: llama.cpp does not look for output.weight there */
    if (hp->arch != PP_LLM_GEMMA2 &&
        (st = get_weight(g, "output.weight", E, hp->n_vocab, 1, &m->output, detail)))
        goto fail;
    if (!m->output.data) {
        m->output = m->tok_embd;
        m->tied = 1;
    }

    /* 1-D vectors, all converted into m->vecs: per layer 2 norms of n_embd (4 for
    ** gemma2), 2 QK-norms of head_dim (qwen3) and the biases the file has; then
    ** output_norm and rope_freqs.  Sized from what is present, so that a file cannot
    ** make the loader reserve room for biases it does not hold. */
    const int64_t HD = hp->head_dim;
    char name[PP_GGUF_MAX_NAME + 16];
#define LNAME(s) (snprintf(name, sizeof name, "blk.%u.%s", l, (s)), name)
    const struct { const char *name; int64_t len; } bias_len[] = {
        {"attn_q.bias", q_dim}, {"attn_k.bias", kv_dim}, {"attn_v.bias", kv_dim},
        {"attn_output.bias", E}, {"ffn_gate.bias", FF}, {"ffn_up.bias", FF},
        {"ffn_down.bias", E}};
    size_t n_vec = (size_t)E + hp->n_rot / 2;
    for (uint32_t l = 0; l < hp->n_layer; l++) {
        n_vec += (size_t)(hp->arch == PP_LLM_GEMMA2 ? 4 : 2) * (size_t)E;
        if (hp->arch == PP_LLM_QWEN3) n_vec += 2 * (size_t)HD;
        for (size_t b = 0; b < PP_ARRAY_LEN(bias_len); b++)
            if (pp_gguf_tensor_find(g, LNAME(bias_len[b].name))) n_vec += (size_t)bias_len[b].len;
    }
    st = PARAPET_ERR_NOMEM;
    if (!(m->vecs = pp_malloc(n_vec * sizeof *m->vecs))) goto fail;
    if (!(m->layers = pp_calloc(hp->n_layer, sizeof *m->layers))) goto fail;
    float *vp = m->vecs;
    size_t used = 1 + !m->tied;   /* tensors the graph uses: token_embd, output */
    if ((st = get_vec(g, "output_norm.weight", (uint64_t)E, 0, vp, detail))) goto fail;
    m->output_norm = vp;
    vp += E;
    used++;
    /* llama3 rope factors: llama and granite load them (llama.cpp's get_rope_factors) */
    const int arch_rope_freqs = hp->arch == PP_LLM_LLAMA || hp->arch == PP_LLM_GRANITE;
    st = arch_rope_freqs ? get_vec(g, "rope_freqs.weight", hp->n_rot / 2, 1, vp, detail)
                         : PARAPET_ERR_NOT_FOUND;
    if (st == PARAPET_OK) {
        for (uint32_t i = 0; i < hp->n_rot / 2; i++)
            if (!(vp[i] > 0)) {
                if (detail) *detail = pp_asprintf("model: rope_freqs.weight[%u] = %g is not "
                                                  "positive", i, vp[i]);
                st = PARAPET_ERR_FORMAT;
                goto fail;
            }
        m->rope_freqs = vp;
        used++;
    } else if (st != PARAPET_ERR_NOT_FOUND) {
        goto fail;
    }
    vp += hp->n_rot / 2;

    /* Optional vector: *dst = its f32 copy, or NULL when the file has none. */
#define OPT_VEC(nm, len, dst) do {                                                   \
        st = get_vec(g, LNAME(nm), (uint64_t)(len), 1, vp, detail);                   \
        if (st == PARAPET_OK) { (dst) = vp; vp += (len); used++; }                    \
        else if (st != PARAPET_ERR_NOT_FOUND) goto fail;                              \
    } while (0)
#define REQ_VEC(nm, len, dst) do {                                                   \
        if ((st = get_vec(g, LNAME(nm), (uint64_t)(len), 0, vp, detail))) goto fail;  \
        (dst) = vp; vp += (len); used++;                                              \
    } while (0)
    /* which optional biases llama.cpp's loader of this architecture creates */
    const int out_ffn_bias = hp->arch == PP_LLM_LLAMA || hp->arch == PP_LLM_GRANITE;
    for (uint32_t l = 0; l < hp->n_layer; l++) {
        pp_llm_layer *ly = &m->layers[l];
        REQ_VEC("attn_norm.weight", E, ly->attn_norm);
        REQ_VEC("ffn_norm.weight", E, ly->ffn_norm);
        if ((st = get_weight(g, LNAME("attn_q.weight"), E, q_dim, 0, &ly->wq, detail)) ||
            (st = get_weight(g, LNAME("attn_k.weight"), E, kv_dim, 0, &ly->wk, detail)) ||
            (st = get_weight(g, LNAME("attn_v.weight"), E, kv_dim, 0, &ly->wv, detail)) ||
            (st = get_weight(g, LNAME("attn_output.weight"), q_dim, E, 0, &ly->wo, detail)) ||
            (st = get_weight(g, LNAME("ffn_gate.weight"), E, FF, 0, &ly->gate, detail)) ||
            (st = get_weight(g, LNAME("ffn_up.weight"), E, FF, 0, &ly->up, detail)) ||
            (st = get_weight(g, LNAME("ffn_down.weight"), FF, E, 0, &ly->down, detail)))
            goto fail;
        used += 7;
        OPT_VEC("attn_q.bias", q_dim, ly->bq);
        OPT_VEC("attn_k.bias", kv_dim, ly->bk);
        OPT_VEC("attn_v.bias", kv_dim, ly->bv);
        if (out_ffn_bias) {
            OPT_VEC("attn_output.bias", E, ly->bo);
            OPT_VEC("ffn_gate.bias", FF, ly->b_gate);
            OPT_VEC("ffn_up.bias", FF, ly->b_up);
            OPT_VEC("ffn_down.bias", E, ly->b_down);
        }
        if (hp->arch == PP_LLM_QWEN3) {
            REQ_VEC("attn_q_norm.weight", HD, ly->q_norm);
            REQ_VEC("attn_k_norm.weight", HD, ly->k_norm);
        }
        if (hp->arch == PP_LLM_GEMMA2) {
            REQ_VEC("post_attention_norm.weight", E, ly->post_attn_norm);
            REQ_VEC("post_ffw_norm.weight", E, ly->post_ffn_norm);
        }
        ly->swa = hp->n_swa && (hp->swa_period == 0 || l % hp->swa_period < hp->swa_period - 1);
    }
#undef LNAME
#undef OPT_VEC
#undef REQ_VEC
    /* Every tensor of the file must be one the graph uses, as llama.cpp requires (it
    ** refuses a file whose tensor count differs from what it created): a bias of an
    ** architecture that has none, a fused attn_qkv or an output.weight in a gemma2
    ** file would otherwise be silently ignored and something else computed. */
    if (used != pp_gguf_tensor_count(g)) {
        for (size_t i = 0; i < pp_gguf_tensor_count(g); i++) {
            const char *tn = pp_gguf_tensor_at(g, i)->name;
            if (!tensor_used(m, tn)) {
                if (detail) *detail = pp_asprintf("model: tensor %s is not part of the %s graph",
                                                  tn, arch_names[hp->arch]);
                break;
            }
        }
        st = PARAPET_ERR_UNSUPPORTED;
        goto fail;
    }
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
