/*
** llm_api.c -- the public face of the forward pass: parapet_llm_* (include/parapet.h).
**
** A thin layer over model.c and forward.c: one parapet_llm = one loaded model plus one
** context.  The CLI (`parapet model logits`), the conformance program and, later, the
** guard detector use only these calls.
*/
#include "llm/model.h"

struct parapet_llm {
    pp_llm_model *model;
    pp_llm_ctx *ctx;
};

void parapet_llm_options_init(parapet_llm_options *o) {
    if (!o) return;
    o->n_ctx = 0;
    o->n_batch = 0;
    o->n_threads = 1;
    o->kv_f32 = 0;
}

parapet_status parapet_llm_open(const char *path, const parapet_llm_options *opt,
                                parapet_llm **out, char **detail) {
    if (detail) *detail = NULL;
    if (!path || !out) return PARAPET_ERR_ARG;
    parapet_llm_options o;
    parapet_llm_options_init(&o);
    if (opt) o = *opt;
    parapet_llm *l = pp_calloc(1, sizeof *l);
    if (!l) return PARAPET_ERR_NOMEM;
    pp_status st = pp_llm_model_load(path, &l->model, detail);
    if (!st) pp_llm_model_pack(l->model, o.n_threads, 1);   /* _NOMEM: runs unpacked */
    if (!st) {
        pp_llm_ctx_params p = {o.n_ctx, o.n_batch, o.n_threads, o.kv_f32};
        st = pp_llm_ctx_new(l->model, &p, &l->ctx, detail);
    }
    if (st) {
        parapet_llm_close(l);
        return st;
    }
    *out = l;
    return PARAPET_OK;
}

void parapet_llm_close(parapet_llm *l) {
    if (!l) return;
    pp_llm_ctx_free(l->ctx);
    pp_llm_model_free(l->model);
    pp_free(l);
}

parapet_status parapet_llm_eval(parapet_llm *l, const int32_t *ids, size_t n, uint32_t pos,
                                unsigned flags) {
    if (!l) return PARAPET_ERR_ARG;
    return pp_llm_ctx_eval(l->ctx, ids, n, pos, (flags & PARAPET_LLM_LOGITS) ? PP_LLM_OUT_LOGITS : 0);
}

parapet_status parapet_llm_logits(const parapet_llm *l, const float **logits, size_t *n_vocab) {
    if (!l || !logits) return PARAPET_ERR_ARG;
    const float *p = pp_llm_ctx_logits(l->ctx);
    if (!p) return PARAPET_ERR_ARG;
    *logits = p;
    if (n_vocab) *n_vocab = l->model->hp.n_vocab;
    return PARAPET_OK;
}

parapet_status parapet_llm_logits_rows(parapet_llm *l, const int32_t *rows, size_t n, float *out) {
    if (!l) return PARAPET_ERR_ARG;
    return pp_llm_ctx_logits_rows(l->ctx, rows, n, out);
}

void parapet_llm_truncate(parapet_llm *l, uint32_t pos) {
    if (l) pp_llm_ctx_truncate(l->ctx, pos);
}

uint32_t parapet_llm_n_past(const parapet_llm *l) { return l ? pp_llm_ctx_n_past(l->ctx) : 0; }
uint32_t parapet_llm_n_ctx(const parapet_llm *l) { return l ? pp_llm_ctx_n_ctx(l->ctx) : 0; }
size_t parapet_llm_n_vocab(const parapet_llm *l) { return l ? l->model->hp.n_vocab : 0; }

void parapet_llm_memory(const parapet_llm *l, uint64_t *weight_bytes, uint64_t *context_bytes) {
    if (weight_bytes) *weight_bytes = l ? l->model->weight_bytes : 0;
    if (context_bytes) *context_bytes = l ? pp_llm_ctx_bytes(l->ctx) : 0;
}
