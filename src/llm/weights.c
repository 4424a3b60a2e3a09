/*
** weights.c -- packing a model's layer matrices once, for the matmul kernels.
**
** pp_gemm repacks every 16 weight rows into a panel (kernels/internal.h) before it
** multiplies them, and throws the panel away afterwards.  For a prefill of a few dozen
** tokens that repacking costs as much as the arithmetic (41% of a 64-token Llama Guard
** 3 1B prefill), and a guard model multiplies the same matrices on every request.  So
** the layer matrices are packed once, after the model is loaded, into one owned block,
** and the forward pass reads the panels from there (pp_gemm_packed).
**
** Memory: a packed Q4_K matrix takes 0.72 bytes per weight (the file: 0.5625), Q8_0
** 1.125 (1.0625), Q6_K 1.39 (0.82), F16 2 (2).  The mapped file pages of a packed
** matrix are handed back to the kernel (madvise MADV_DONTNEED on a private read-only
** file mapping: they are re-read from the file if anything touches them again), so
** resident memory is the packed block plus the embedding and output matrices, which
** stay in the mapping (a row gather, and the LM head's few rows).
**
** The LM head is packed too when the caller wants full-vocabulary logits (parapet_llm,
** `parapet model logits`): that product runs once per eval for one token, and packing
** its 128k rows at every call cost more than the product.  A scorer that reads a few
** candidate rows (the guard engine) leaves it in the file's layout.
**
** With the scalar kernel set nothing is packed: the reference reads the file's rows.
*/
#include "llm/model.h"
#include "llm/kernels/kernels.h"
#include "llm/pool.h"
#include <sys/mman.h>
#include <unistd.h>

/* The matrices of layer l, in a fixed order. */
static size_t layer_matrices(pp_llm_layer *ly, pp_llm_weight *out[8]) {
    size_t n = 0;
    pp_llm_weight *all[] = {&ly->wq, &ly->wk, &ly->wv, &ly->wo, &ly->gate, &ly->up, &ly->down};
    for (size_t i = 0; i < PP_ARRAY_LEN(all); i++)
        if (all[i]->data) out[n++] = all[i];
    return n;
}

static uint64_t round64(uint64_t x) { return (x + 63) & ~(uint64_t)63; }

/* Drops the whole pages of [p, p+len) from this process's mapping of the file. */
static void release_pages(const void *p, size_t len) {
    long pg = sysconf(_SC_PAGESIZE);
    if (pg <= 0) return;
    uintptr_t a = ((uintptr_t)p + (uintptr_t)pg - 1) & ~((uintptr_t)pg - 1);
    uintptr_t b = ((uintptr_t)p + len) & ~((uintptr_t)pg - 1);
    if (b > a) madvise((void *)a, b - a, MADV_DONTNEED);
}

/* Every matrix to pack: the layers', then the LM head's when asked. */
static size_t all_matrices(pp_llm_model *m, int with_output, pp_llm_weight ***out) {
    size_t n = 0;
    pp_llm_weight **w = pp_malloc(((size_t)m->hp.n_layer * 8 + 1) * sizeof *w);
    if (!w) return 0;
    for (uint32_t l = 0; l < m->hp.n_layer; l++) n += layer_matrices(&m->layers[l], w + n);
    if (with_output) w[n++] = &m->output;
    *out = w;
    return n;
}

pp_status pp_llm_model_pack(pp_llm_model *m, int n_threads, int with_output) {
    if (!m) return PARAPET_ERR_ARG;
    if (m->packed_mem) return PARAPET_OK;
    pp_llm_weight **w = NULL;
    size_t n = all_matrices(m, with_output, &w);
    if (!w) return PARAPET_ERR_NOMEM;
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += round64(pp_packed_bytes((int)w[i]->type, (size_t)w[i]->ne1, (size_t)w[i]->ne0));
    uint8_t *mem = NULL;
    if (total > 0 && total <= SIZE_MAX - 64) mem = pp_malloc((size_t)total + 64);
    if (!mem) {
        pp_free(w);
        /* no packing (the reference kernels), or no memory for it */
        return total == 0 ? PARAPET_OK : PARAPET_ERR_NOMEM;
    }
    pp_pool *pool = NULL;
    if (n_threads > 1 && pp_pool_create(n_threads, &pool)) pool = NULL;   /* one thread then */
    uint8_t *dst = (uint8_t *)(((uintptr_t)mem + 63) & ~(uintptr_t)63);
    const int mapped = pp_gguf_is_mapped(m->g);
    for (size_t i = 0; i < n; i++) {
        size_t b = pp_packed_bytes((int)w[i]->type, (size_t)w[i]->ne1, (size_t)w[i]->ne0);
        if (!b) continue;
        pp_pack_matrix((int)w[i]->type, w[i]->data, w[i]->row_bytes, (size_t)w[i]->ne1,
                       (size_t)w[i]->ne0, dst, pool);
        w[i]->packed = dst;
        /* the LM head's rows stay in use (candidate rows read the file's layout; a tied
        ** head is the embedding table) */
        if (mapped && w[i] != &m->output)
            release_pages(w[i]->data, w[i]->row_bytes * (size_t)w[i]->ne1);
        dst += round64(b);
    }
    pp_free(w);
    pp_pool_destroy(pool);
    m->packed_mem = mem;
    m->packed_bytes = total;
    return PARAPET_OK;
}
