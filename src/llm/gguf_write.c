/*
** gguf_write.c -- the GGUF writer, for `parapet model synth` and test fixtures.
**
** The header (key/values, then tensor infos) is built in memory: it is small even for
** an 8B model (the vocabulary is the bulk, a few MB).  Tensor data is then streamed
** in declaration order, in as many pieces as the caller likes, to a FILE* or to a
** memory buffer, so multi-GB files never need to be held in memory.  The writer
** refuses anything the reader would refuse (duplicate keys or names, bad shapes,
** unknown types), so what it writes always reads back.
**
** Layout written: GGUF v3, little endian; general.alignment only if the caller adds
** it (the alignment passed to pp_gguf_writer_new is used either way and must then
** agree with it); each tensor's data padded with zeros to the alignment, the last
** one included, as ggml's writer does.
*/
#include "llm/gguf.h"
#include <string.h>

typedef struct w_tensor {
    char *name;
    uint64_t size, offset;   /* offset relative to the data section */
} w_tensor;

struct pp_gguf_writer {
    uint32_t alignment;
    pp_buf kvs, infos;       /* serialized key/values and tensor infos */
    uint64_t n_kv;
    char **keys;
    size_t keys_cap;
    w_tensor *t;
    size_t n_t, t_cap;
    uint64_t data_size;      /* bytes of data so far, padded */
    /* streaming state */
    int begun;
    FILE *f;
    pp_buf mem;
    size_t cur;              /* tensor receiving data */
    uint64_t cur_done;       /* bytes of it received */
    pp_status err;           /* sticky write error */
};

pp_gguf_writer *pp_gguf_writer_new(uint32_t alignment) {
    if (!alignment || (alignment & (alignment - 1))) return NULL;
    pp_gguf_writer *w = pp_calloc(1, sizeof *w);
    if (!w) return NULL;
    w->alignment = alignment;
    pp_buf_init(&w->kvs);
    pp_buf_init(&w->infos);
    pp_buf_init(&w->mem);
    return w;
}

void pp_gguf_writer_free(pp_gguf_writer *w) {
    if (!w) return;
    pp_buf_free(&w->kvs);
    pp_buf_free(&w->infos);
    pp_buf_free(&w->mem);
    for (uint64_t i = 0; i < w->n_kv; i++) pp_free(w->keys[i]);
    pp_free(w->keys);
    for (size_t i = 0; i < w->n_t; i++) pp_free(w->t[i].name);
    pp_free(w->t);
    pp_free(w);
}

/* ----------------------------------------------------------- serializing ---- */

static void put32(pp_buf *b, uint32_t v) {
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    pp_buf_put(b, x, 4);
}
static void put64(pp_buf *b, uint64_t v) {
    put32(b, (uint32_t)v);
    put32(b, (uint32_t)(v >> 32));
}
static void put_str(pp_buf *b, const char *s, size_t n) {
    put64(b, n);
    pp_buf_put(b, s, n);
}

/* Scalar of type t from host memory at v into b, little endian. */
static void put_scalar(pp_buf *b, uint32_t t, const void *v) {
    size_t n = pp_gguf_vtype_size(t);
    uint8_t tmp[8];
    memcpy(tmp, v, n);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    for (size_t i = 0; i < n / 2; i++) { uint8_t c = tmp[i]; tmp[i] = tmp[n - 1 - i]; tmp[n - 1 - i] = c; }
#endif
    pp_buf_put(b, tmp, n);
}

/* Registers a new key (refusing duplicates and writing after begin) and writes its
** name and type. */
static pp_status add_key(pp_gguf_writer *w, const char *key, uint32_t type) {
    if (!w || !key || !*key || w->begun || strlen(key) > PP_GGUF_MAX_KEY) return PARAPET_ERR_ARG;
    for (uint64_t i = 0; i < w->n_kv; i++)
        if (!strcmp(w->keys[i], key)) return PARAPET_ERR_ARG;
    if (PP_GROW(w->keys, w->keys_cap, w->n_kv + 1)) return PARAPET_ERR_NOMEM;
    if (!(w->keys[w->n_kv] = pp_strdup(key))) return PARAPET_ERR_NOMEM;
    w->n_kv++;
    put_str(&w->kvs, key, strlen(key));
    put32(&w->kvs, type);
    return PARAPET_OK;
}

static pp_status done(pp_gguf_writer *w) {
    return w->kvs.oom || w->infos.oom ? PARAPET_ERR_NOMEM : PARAPET_OK;
}

pp_status pp_gguf_w_scalar(pp_gguf_writer *w, const char *key, uint32_t type, const void *v) {
    if (!pp_gguf_vtype_size(type) || !v) return PARAPET_ERR_ARG;
    if (type == PP_GGUF_BOOL && *(const uint8_t *)v > 1) return PARAPET_ERR_ARG;
    pp_status st = add_key(w, key, type);
    if (st) return st;
    put_scalar(&w->kvs, type, v);
    return done(w);
}

pp_status pp_gguf_w_u32(pp_gguf_writer *w, const char *key, uint32_t v) {
    return pp_gguf_w_scalar(w, key, PP_GGUF_U32, &v);
}
pp_status pp_gguf_w_i32(pp_gguf_writer *w, const char *key, int32_t v) {
    return pp_gguf_w_scalar(w, key, PP_GGUF_I32, &v);
}
pp_status pp_gguf_w_u64(pp_gguf_writer *w, const char *key, uint64_t v) {
    return pp_gguf_w_scalar(w, key, PP_GGUF_U64, &v);
}
pp_status pp_gguf_w_f32(pp_gguf_writer *w, const char *key, float v) {
    return pp_gguf_w_scalar(w, key, PP_GGUF_F32, &v);
}
pp_status pp_gguf_w_bool(pp_gguf_writer *w, const char *key, int v) {
    uint8_t b = v ? 1 : 0;
    return pp_gguf_w_scalar(w, key, PP_GGUF_BOOL, &b);
}

pp_status pp_gguf_w_str(pp_gguf_writer *w, const char *key, const char *s, size_t len) {
    if (!s && len) return PARAPET_ERR_ARG;
    pp_status st = add_key(w, key, PP_GGUF_STR);
    if (st) return st;
    put_str(&w->kvs, s ? s : "", len);
    return done(w);
}

pp_status pp_gguf_w_arr(pp_gguf_writer *w, const char *key, uint32_t elem_type,
                        const void *data, uint64_t n) {
    size_t sz = pp_gguf_vtype_size(elem_type);
    if (!sz || (!data && n)) return PARAPET_ERR_ARG;
    pp_status st = add_key(w, key, PP_GGUF_ARR);
    if (st) return st;
    put32(&w->kvs, elem_type);
    put64(&w->kvs, n);
    const uint8_t *p = data;
    for (uint64_t i = 0; i < n; i++) put_scalar(&w->kvs, elem_type, p + i * sz);
    return done(w);
}

pp_status pp_gguf_w_arr_str(pp_gguf_writer *w, const char *key, const char *const *s,
                            const size_t *lens, uint64_t n) {
    if (!s && n) return PARAPET_ERR_ARG;
    for (uint64_t i = 0; i < n; i++)
        if (!s[i]) return PARAPET_ERR_ARG;
    pp_status st = add_key(w, key, PP_GGUF_ARR);
    if (st) return st;
    put32(&w->kvs, PP_GGUF_STR);
    put64(&w->kvs, n);
    for (uint64_t i = 0; i < n; i++) put_str(&w->kvs, s[i], lens ? lens[i] : strlen(s[i]));
    return done(w);
}

/* ---------------------------------------------------------------- tensors ---- */

pp_status pp_gguf_w_tensor(pp_gguf_writer *w, const char *name, uint32_t type,
                           uint32_t n_dims, const uint64_t *ne) {
    if (!w || !name || w->begun || !ne) return PARAPET_ERR_ARG;
    size_t nl = strlen(name);
    if (nl == 0 || nl > PP_GGUF_MAX_NAME || n_dims < 1 || n_dims > PP_GGUF_MAX_DIMS)
        return PARAPET_ERR_ARG;
    for (size_t i = 0; i < w->n_t; i++)
        if (!strcmp(w->t[i].name, name)) return PARAPET_ERR_ARG;
    uint64_t nel = 1, row, size;
    for (uint32_t d = 0; d < n_dims; d++)
        if (!ne[d] || ne[d] > (uint64_t)INT64_MAX || __builtin_mul_overflow(nel, ne[d], &nel) ||
            nel > (uint64_t)INT64_MAX)
            return PARAPET_ERR_ARG;
    if (pp_ggml_row_bytes(type, ne[0], &row) || __builtin_mul_overflow(row, nel / ne[0], &size))
        return PARAPET_ERR_ARG;
    if (PP_GROW(w->t, w->t_cap, w->n_t + 1)) return PARAPET_ERR_NOMEM;
    w_tensor *t = &w->t[w->n_t];
    if (!(t->name = pp_strdup(name))) return PARAPET_ERR_NOMEM;
    t->size = size;
    t->offset = w->data_size;
    uint64_t pad = (w->alignment - size % w->alignment) % w->alignment;
    w->data_size += size + pad;
    w->n_t++;
    put_str(&w->infos, name, nl);
    put32(&w->infos, n_dims);
    for (uint32_t d = 0; d < n_dims; d++) put64(&w->infos, ne[d]);
    put32(&w->infos, type);
    put64(&w->infos, t->offset);
    return done(w);
}

uint64_t pp_gguf_w_tensor_size(const pp_gguf_writer *w, size_t i) {
    return w && i < w->n_t ? w->t[i].size : 0;
}

/* -------------------------------------------------------------- streaming ---- */

static void emit(pp_gguf_writer *w, const void *p, size_t n) {
    if (w->err || !n) return;
    if (w->f) {
        if (fwrite(p, 1, n, w->f) != n) w->err = PARAPET_ERR_IO;
    } else {
        pp_buf_put(&w->mem, p, n);
        if (w->mem.oom) w->err = PARAPET_ERR_NOMEM;
    }
}

static void emit_zeros(pp_gguf_writer *w, uint64_t n) {
    static const uint8_t zeros[256];
    while (n) {
        size_t k = n < sizeof zeros ? (size_t)n : sizeof zeros;
        emit(w, zeros, k);
        n -= k;
    }
}

/* Pads the tensors that are complete (zero-sized tensors cannot exist) and moves
** `cur` past them. */
static void advance(pp_gguf_writer *w) {
    while (w->cur < w->n_t && w->cur_done == w->t[w->cur].size) {
        uint64_t sz = w->t[w->cur].size;
        emit_zeros(w, (w->alignment - sz % w->alignment) % w->alignment);
        w->cur++;
        w->cur_done = 0;
    }
}

pp_status pp_gguf_w_begin(pp_gguf_writer *w, FILE *f) {
    if (!w || w->begun) return PARAPET_ERR_ARG;
    if (w->kvs.oom || w->infos.oom) return PARAPET_ERR_NOMEM;
    w->begun = 1;
    w->f = f;
    pp_buf h;
    pp_buf_init(&h);
    pp_buf_put(&h, "GGUF", 4);
    put32(&h, 3);
    put64(&h, w->n_t);
    put64(&h, w->n_kv);
    if (h.oom) { pp_buf_free(&h); return PARAPET_ERR_NOMEM; }
    emit(w, h.p, h.len);
    uint64_t total = h.len + w->kvs.len + w->infos.len;
    pp_buf_free(&h);
    emit(w, w->kvs.p, w->kvs.len);
    emit(w, w->infos.p, w->infos.len);
    emit_zeros(w, (w->alignment - total % w->alignment) % w->alignment);
    advance(w);
    return w->err;
}

pp_status pp_gguf_w_data(pp_gguf_writer *w, const void *p, size_t n) {
    if (!w || !w->begun || (!p && n)) return PARAPET_ERR_ARG;
    if (w->err) return w->err;
    if (w->cur >= w->n_t || n > w->t[w->cur].size - w->cur_done) return PARAPET_ERR_ARG;
    emit(w, p, n);
    w->cur_done += n;
    advance(w);
    return w->err;
}

pp_status pp_gguf_w_finish(pp_gguf_writer *w, void **mem, size_t *len) {
    if (!w || !w->begun) return PARAPET_ERR_ARG;
    if (w->err) return w->err;
    if (w->cur < w->n_t) return PARAPET_ERR_ARG;   /* some tensor lacks data */
    if (w->f) {
        if (fflush(w->f)) return PARAPET_ERR_IO;
        return PARAPET_OK;
    }
    if (!mem || !len) return PARAPET_ERR_ARG;
    size_t n = w->mem.len;
    char *p = pp_buf_detach(&w->mem, &n);
    if (!p) {
        /* An empty buffer detaches as NULL only on OOM; a GGUF is never empty. */
        return PARAPET_ERR_NOMEM;
    }
    *mem = p;
    *len = n;
    return PARAPET_OK;
}
