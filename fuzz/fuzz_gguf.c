/*
** fuzz_gguf.c -- libFuzzer target for the GGUF reader (src/llm/gguf.c).
**
** Opens the input from memory and, if it validates, walks everything a consumer
** could touch: every key with every typed getter, every array element (numeric
** arrays by index, string arrays through the iterator), every tensor's first and
** last data byte, a dequantized first row where the type allows, and the model
** summary in both formats; then loads it as a model (src/llm/model.c: any of the
** four architectures) and, if that succeeds, evaluates two tokens and a chosen row.
** Must never crash, leak or read out of bounds; the input is copied to an exact-size
** heap buffer so ASan sees any overread.
** Build and run: make fuzz (seeds in fuzz/seeds/fuzz_gguf/).
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "core/core.h"
#include "llm/gguf.h"
#include "llm/model.h"
#include "llm/quant.h"

static volatile uint64_t sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    if (size) memcpy(copy, data, size);
    pp_gguf *g = NULL;
    char *detail = NULL;
    if (pp_gguf_open_mem(copy, size, &g, &detail) != PARAPET_OK) {
        pp_free(detail);
        free(copy);
        return 0;
    }
    for (size_t i = 0; i < pp_gguf_kv_count(g); i++) {
        const char *key = pp_gguf_kv_key(g, i);
        pp_gguf_value v;
        pp_gguf_kv_value(g, i, &v);
        int64_t k;
        uint64_t u;
        uint32_t u32;
        double f;
        int b;
        const char *s;
        size_t n;
        sink += (uint64_t)pp_gguf_find(g, key);
        if (!pp_gguf_get_int(g, key, &k)) sink += (uint64_t)k;
        if (!pp_gguf_get_uint(g, key, &u)) sink += u;
        if (!pp_gguf_get_u32(g, key, &u32)) sink += u32;
        if (!pp_gguf_get_float(g, key, &f)) sink += (uint64_t)(f == f);
        if (!pp_gguf_get_bool(g, key, &b)) sink += (uint64_t)b;
        if (!pp_gguf_get_str(g, key, &s, &n) && n) sink += (uint8_t)s[0] + (uint8_t)s[n - 1];
        pp_gguf_value a;
        if (!pp_gguf_get_arr(g, key, &a)) {
            pp_gguf_str_iter it;
            if (!pp_gguf_str_iter_init(&it, &a)) {
                while (pp_gguf_str_iter_next(&it, &s, &n))
                    if (n) sink += (uint8_t)s[0] + (uint8_t)s[n - 1];
            } else {
                for (uint64_t j = 0; j < a.count && j < 4096; j++) {
                    if (!pp_gguf_value_int(&a, j, &k)) sink += (uint64_t)k;
                    if (!pp_gguf_value_float(&a, j, &f)) sink += (uint64_t)(f == f);
                }
                if (a.count && !pp_gguf_value_int(&a, a.count - 1, &k)) sink += (uint64_t)k;
            }
        }
    }
    static float row[4096];
    for (size_t i = 0; i < pp_gguf_tensor_count(g); i++) {
        const pp_gguf_tensor *t = pp_gguf_tensor_at(g, i);
        const uint8_t *p = t->data;
        sink += p[0] + p[t->size - 1];
        sink += (uint64_t)(pp_gguf_tensor_find(g, t->name) == t);
        if (t->ne[0] <= 4096 && pp_can_dequantize(t->type))
            (void)pp_dequantize_row(t->type, p, row, (int64_t)t->ne[0]);
    }
    char *out;
    size_t len;
    for (int json = 0; json < 2; json++)
        if (!pp_gguf_summary(g, "fuzz", json, &out, &len)) {
            sink += len;
            pp_free(out);
        }
    pp_gguf_close(g);
    /* the same bytes as a model: the loader takes the mapping over, on failure too */
    pp_llm_model *m = NULL;
    if (!pp_gguf_open_mem(copy, size, &g, NULL) && !pp_llm_model_from_gguf(g, &m, &detail)) {
        pp_llm_ctx_params p = {8, 4, 1, 0, 0};
        pp_llm_ctx *c = NULL;
        if (!pp_llm_ctx_new(m, &p, &c, NULL)) {
            const int32_t ids[2] = {0, (int32_t)(m->hp.n_vocab - 1)};
            float l;
            if (!pp_llm_ctx_eval(c, ids, 2, 0, PP_LLM_OUT_LOGITS) &&
                !pp_llm_ctx_logits_rows(c, ids + 1, 1, &l))
                sink += (uint64_t)(l == l);
            pp_llm_ctx_free(c);
        }
        pp_llm_model_free(m);
    }
    pp_free(detail);
    free(copy);
    return 0;
}
