/*
** model_api.c -- the public face of GGUF model files: parapet_model_open/close and
** the `model info` summary (text and JSON).
**
** Where it sits: between the public header and the GGUF reader.  The CLI
** (src/cli/cmd_model.c) uses only what is declared in parapet.h; the forward pass,
** when it arrives, will hang its state off parapet_model.  The summary reads only
** metadata and tensor infos, never tensor data, so it is cheap on a 5 GB file.
**
** Everything printed comes from an untrusted file: JSON strings go through
** pp_buf_json_str (invalid UTF-8 becomes U+FFFD) and text output replaces control
** characters, so a hostile model name cannot inject terminal escapes.
*/
#include "llm/gguf.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct parapet_model {
    pp_gguf *g;
    char *path;
};

parapet_status parapet_model_open(const char *path, parapet_model **out, char **detail) {
    if (detail) *detail = NULL;
    if (!path || !out) return PARAPET_ERR_ARG;
    parapet_model *m = pp_calloc(1, sizeof *m);
    if (!m || !(m->path = pp_strdup(path))) {
        pp_free(m);
        return PARAPET_ERR_NOMEM;
    }
    pp_status st = pp_gguf_open_file(path, &m->g, detail);
    if (st) {
        pp_free(m->path);
        pp_free(m);
        return st;
    }
    *out = m;
    return PARAPET_OK;
}

void parapet_model_close(parapet_model *m) {
    if (!m) return;
    pp_gguf_close(m->g);
    pp_free(m->path);
    pp_free(m);
}

parapet_status parapet_model_info_json(const parapet_model *m, char **out, size_t *len) {
    if (!m || !out) return PARAPET_ERR_ARG;
    return pp_gguf_summary(m->g, m->path, 1, out, len);
}

parapet_status parapet_model_info_text(const parapet_model *m, char **out, size_t *len) {
    if (!m || !out) return PARAPET_ERR_ARG;
    return pp_gguf_summary(m->g, m->path, 0, out, len);
}

/* ---------------------------------------------------------------- summary ---- */

static const char *file_type_name(int64_t ft) {
    switch (ft) {
    case 0: return "F32";
    case 1: return "F16";
    case 2: return "Q4_0";
    case 3: return "Q4_1";
    case 7: return "Q8_0";
    case 8: return "Q5_0";
    case 9: return "Q5_1";
    case 10: return "Q2_K";
    case 11: return "Q3_K_S";
    case 12: return "Q3_K_M";
    case 13: return "Q3_K_L";
    case 14: return "Q4_K_S";
    case 15: return "Q4_K_M";
    case 16: return "Q5_K_S";
    case 17: return "Q5_K_M";
    case 18: return "Q6_K";
    case 32: return "BF16";
    default: return NULL;
    }
}

/* A string value from the file, or NULL/0. */
typedef struct fstr { const char *p; size_t n; } fstr;

static fstr get_s(const pp_gguf *g, const char *key) {
    fstr s = {NULL, 0};
    if (pp_gguf_get_str(g, key, &s.p, &s.n)) s.p = NULL, s.n = 0;
    return s;
}

/* Appends s with control characters replaced, at most `max` bytes. */
static void put_clean(pp_buf *b, const char *s, size_t n, size_t max) {
    for (size_t i = 0; i < n && i < max; i++) {
        unsigned char c = (unsigned char)s[i];
        pp_buf_putc(b, (c < 0x20 || c == 0x7f) ? '?' : (char)c);
    }
    if (n > max) pp_buf_puts(b, "...");
}

/* Appends the shortest %g form of f that reads back to the same value -- at float
** precision when f is exactly a float (most GGUF floats are f32), so 1e-5f prints as
** 1e-05 and not 9.99999975e-06. */
static void put_float(pp_buf *b, double f) {
    char tmp[40];
    int is_float = (double)(float)f == f;
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, f);
        double back = strtod(tmp, NULL);
        if (is_float ? (float)back == (float)f : back == f) break;
    }
    pp_buf_puts(b, tmp);
}

typedef struct field {
    const char *name;     /* JSON name */
    const char *suffix;   /* key after "{arch}." */
    int is_float;
} field;

static const field shape_fields[] = {
    {"n_embd", "embedding_length", 0},
    {"n_layer", "block_count", 0},
    {"n_head", "attention.head_count", 0},
    {"n_head_kv", "attention.head_count_kv", 0},
    {"n_ff", "feed_forward_length", 0},
    {"n_ctx", "context_length", 0},
    {"head_dim", "attention.key_length", 0},
    {"n_rot", "rope.dimension_count", 0},
    {"rope_freq_base", "rope.freq_base", 1},
    {"rms_eps", "attention.layer_norm_rms_epsilon", 1},
};

static const struct { const char *name, *key; } special_ids[] = {
    {"bos_id", "tokenizer.ggml.bos_token_id"},
    {"eos_id", "tokenizer.ggml.eos_token_id"},
    {"eot_id", "tokenizer.ggml.eot_token_id"},
    {"unk_id", "tokenizer.ggml.unknown_token_id"},
    {"pad_id", "tokenizer.ggml.padding_token_id"},
};

pp_status pp_gguf_summary(const pp_gguf *g, const char *label, int json, char **out,
                          size_t *len) {
    pp_buf b;
    pp_buf_init(&b);
    fstr arch = get_s(g, "general.architecture"), name = get_s(g, "general.name");
    char archz[64] = "";
    if (arch.p && arch.n < sizeof archz && !memchr(arch.p, 0, arch.n)) memcpy(archz, arch.p, arch.n);

    /* Tensor statistics. */
    uint64_t cnt[PP_GGML_TYPE_LIMIT] = {0}, bytes[PP_GGML_TYPE_LIMIT] = {0}, params = 0;
    for (size_t i = 0; i < pp_gguf_tensor_count(g); i++) {
        const pp_gguf_tensor *t = pp_gguf_tensor_at(g, i);
        cnt[t->type]++;
        bytes[t->type] += t->size;   /* sums of in-file extents: <= file size */
        params += t->n_elements;     /* each <= 2^63; a sum of many may wrap: cosmetic */
    }
    const pp_gguf_tensor *embd = pp_gguf_tensor_find(g, "token_embd.weight");
    int tied = embd && !pp_gguf_tensor_find(g, "output.weight");

    /* Vocabulary size: the arch key, else the token list, else the embedding. */
    int64_t n_vocab = -1;
    pp_gguf_value toks, merges;
    int have_toks = !pp_gguf_get_arr(g, "tokenizer.ggml.tokens", &toks);
    int have_merges = !pp_gguf_get_arr(g, "tokenizer.ggml.merges", &merges);
    char key[128];
    snprintf(key, sizeof key, "%s.vocab_size", archz);
    if (!*archz || pp_gguf_get_int(g, key, &n_vocab)) {
        if (have_toks) n_vocab = (int64_t)toks.count;
        else if (embd && embd->n_dims >= 2) n_vocab = (int64_t)embd->ne[1];
        else n_vocab = -1;
    }
    fstr tmodel = get_s(g, "tokenizer.ggml.model"), tpre = get_s(g, "tokenizer.ggml.pre");
    fstr tmpl = get_s(g, "tokenizer.chat_template");
    size_t first_line = 0;
    if (tmpl.p) {
        const char *nl = memchr(tmpl.p, '\n', tmpl.n);
        first_line = nl ? (size_t)(nl - tmpl.p) : tmpl.n;
    }
    int64_t ftype = -1;
    (void)pp_gguf_get_int(g, "general.file_type", &ftype);

    if (json) {
        pp_buf_puts(&b, "{\"file\":\"");
        if (label) pp_buf_json_str(&b, label, strlen(label));
        pp_buf_printf(&b, "\",\"file_size\":%llu,\"gguf_version\":%u,\"alignment\":%u,"
                      "\"kv_count\":%zu,\"tensor_count\":%zu,\"architecture\":",
                      (unsigned long long)pp_gguf_file_size(g), pp_gguf_version(g),
                      pp_gguf_alignment(g), pp_gguf_kv_count(g), pp_gguf_tensor_count(g));
        if (arch.p) { pp_buf_putc(&b, '"'); pp_buf_json_str(&b, arch.p, arch.n); pp_buf_putc(&b, '"'); }
        else pp_buf_puts(&b, "null");
        pp_buf_puts(&b, ",\"name\":");
        if (name.p) { pp_buf_putc(&b, '"'); pp_buf_json_str(&b, name.p, name.n); pp_buf_putc(&b, '"'); }
        else pp_buf_puts(&b, "null");
        pp_buf_puts(&b, ",\"shape\":{");
        for (size_t i = 0; i < PP_ARRAY_LEN(shape_fields); i++) {
            snprintf(key, sizeof key, "%s.%s", archz, shape_fields[i].suffix);
            pp_buf_printf(&b, "%s\"%s\":", i ? "," : "", shape_fields[i].name);
            double f;
            int64_t k;
            if (shape_fields[i].is_float && *archz && !pp_gguf_get_float(g, key, &f) &&
                isfinite(f))
                put_float(&b, f);
            else if (!shape_fields[i].is_float && *archz && !pp_gguf_get_int(g, key, &k))
                pp_buf_printf(&b, "%lld", (long long)k);
            else pp_buf_puts(&b, "null");
        }
        if (n_vocab >= 0) pp_buf_printf(&b, ",\"n_vocab\":%lld}", (long long)n_vocab);
        else pp_buf_puts(&b, ",\"n_vocab\":null}");
        pp_buf_printf(&b, ",\"params\":%llu,\"tied_embeddings\":%s,\"file_type\":",
                      (unsigned long long)params, tied ? "true" : "false");
        const char *ftn = file_type_name(ftype);
        if (ftn) pp_buf_printf(&b, "\"%s\"", ftn);
        else if (ftype >= 0) pp_buf_printf(&b, "%lld", (long long)ftype);
        else pp_buf_puts(&b, "null");
        pp_buf_puts(&b, ",\"types\":[");
        int first = 1;
        for (uint32_t t = 0; t < PP_GGML_TYPE_LIMIT; t++) {
            if (!cnt[t]) continue;
            pp_buf_printf(&b, "%s{\"type\":\"%s\",\"tensors\":%llu,\"bytes\":%llu}",
                          first ? "" : ",", pp_ggml_type_name(t), (unsigned long long)cnt[t],
                          (unsigned long long)bytes[t]);
            first = 0;
        }
        pp_buf_puts(&b, "],\"tokenizer\":{\"model\":");
        if (tmodel.p) { pp_buf_putc(&b, '"'); pp_buf_json_str(&b, tmodel.p, tmodel.n); pp_buf_putc(&b, '"'); }
        else pp_buf_puts(&b, "null");
        pp_buf_puts(&b, ",\"pre\":");
        if (tpre.p) { pp_buf_putc(&b, '"'); pp_buf_json_str(&b, tpre.p, tpre.n); pp_buf_putc(&b, '"'); }
        else pp_buf_puts(&b, "null");
        if (have_toks) pp_buf_printf(&b, ",\"tokens\":%llu", (unsigned long long)toks.count);
        else pp_buf_puts(&b, ",\"tokens\":null");
        if (have_merges) pp_buf_printf(&b, ",\"merges\":%llu", (unsigned long long)merges.count);
        else pp_buf_puts(&b, ",\"merges\":null");
        for (size_t i = 0; i < PP_ARRAY_LEN(special_ids); i++) {
            int64_t id;
            if (!pp_gguf_get_int(g, special_ids[i].key, &id))
                pp_buf_printf(&b, ",\"%s\":%lld", special_ids[i].name, (long long)id);
            else pp_buf_printf(&b, ",\"%s\":null", special_ids[i].name);
        }
        pp_buf_puts(&b, "},\"chat_template\":{");
        if (tmpl.p) {
            pp_buf_printf(&b, "\"present\":true,\"bytes\":%zu,\"first_line\":\"", tmpl.n);
            pp_buf_json_str(&b, tmpl.p, first_line < 200 ? first_line : 200);
            pp_buf_puts(&b, "\"}");
        } else {
            pp_buf_puts(&b, "\"present\":false}");
        }
        pp_buf_puts(&b, "}");
    } else {
        pp_buf_puts(&b, "file          ");
        if (label) put_clean(&b, label, strlen(label), 4096);
        pp_buf_printf(&b, "\nfile size     %llu bytes (%.1f MiB), GGUF v%u, alignment %u\n",
                      (unsigned long long)pp_gguf_file_size(g),
                      (double)pp_gguf_file_size(g) / (1024.0 * 1024.0), pp_gguf_version(g),
                      pp_gguf_alignment(g));
        pp_buf_puts(&b, "architecture  ");
        if (arch.p) put_clean(&b, arch.p, arch.n, 64); else pp_buf_puts(&b, "(none)");
        if (name.p) { pp_buf_puts(&b, "  ("); put_clean(&b, name.p, name.n, 120); pp_buf_puts(&b, ")"); }
        pp_buf_puts(&b, "\nshape        ");
        for (size_t i = 0; i < PP_ARRAY_LEN(shape_fields); i++) {
            snprintf(key, sizeof key, "%s.%s", archz, shape_fields[i].suffix);
            double f;
            int64_t k;
            if (shape_fields[i].is_float && *archz && !pp_gguf_get_float(g, key, &f)) {
                pp_buf_printf(&b, " %s=", shape_fields[i].name);
                put_float(&b, f);
            }
            else if (!shape_fields[i].is_float && *archz && !pp_gguf_get_int(g, key, &k))
                pp_buf_printf(&b, " %s=%lld", shape_fields[i].name, (long long)k);
        }
        if (n_vocab >= 0) pp_buf_printf(&b, " n_vocab=%lld", (long long)n_vocab);
        pp_buf_printf(&b, "\nparameters    %llu (%.3f B)%s\n", (unsigned long long)params,
                      (double)params / 1e9, tied ? ", tied embeddings" : "");
        const char *ftn = file_type_name(ftype);
        pp_buf_printf(&b, "tensors       %zu", pp_gguf_tensor_count(g));
        if (ftn) pp_buf_printf(&b, ", file type %s", ftn);
        pp_buf_putc(&b, '\n');
        for (uint32_t t = 0; t < PP_GGML_TYPE_LIMIT; t++)
            if (cnt[t])
                pp_buf_printf(&b, "  %-8s %5llu tensors %14llu bytes (%.1f MiB)\n",
                              pp_ggml_type_name(t), (unsigned long long)cnt[t],
                              (unsigned long long)bytes[t], (double)bytes[t] / (1024.0 * 1024.0));
        pp_buf_puts(&b, "tokenizer     ");
        if (tmodel.p) put_clean(&b, tmodel.p, tmodel.n, 64); else pp_buf_puts(&b, "(none)");
        if (tpre.p) { pp_buf_puts(&b, ", pre "); put_clean(&b, tpre.p, tpre.n, 64); }
        if (have_toks) pp_buf_printf(&b, ", %llu tokens", (unsigned long long)toks.count);
        if (have_merges) pp_buf_printf(&b, ", %llu merges", (unsigned long long)merges.count);
        for (size_t i = 0; i < PP_ARRAY_LEN(special_ids); i++) {
            int64_t id;
            if (!pp_gguf_get_int(g, special_ids[i].key, &id))
                pp_buf_printf(&b, ", %.3s %lld", special_ids[i].name, (long long)id);
        }
        pp_buf_puts(&b, "\nchat template ");
        if (tmpl.p) {
            pp_buf_printf(&b, "%zu bytes: ", tmpl.n);
            put_clean(&b, tmpl.p, first_line, 100);
        } else {
            pp_buf_puts(&b, "(none)");
        }
        pp_buf_putc(&b, '\n');
    }
    if (b.oom) { pp_buf_free(&b); return PARAPET_ERR_NOMEM; }
    char *p = pp_buf_detach(&b, len);
    if (!p) return PARAPET_ERR_NOMEM;
    *out = p;
    return PARAPET_OK;
}
