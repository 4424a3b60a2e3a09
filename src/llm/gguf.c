/*
** gguf.c -- the GGUF reader: open (mmap or memory), validate everything, look up.
**
** Where it sits: the bottom of the guard-model engine.  Model loading, the
** tokenizer-from-GGUF and `parapet model info` all go through here, and nothing else
** parses GGUF bytes.
**
** How it defends itself: a cursor (struct cur) walks the header, and every read first
** asks need(), which compares against the bytes left -- never computes pos + n, which
** could wrap.  Counts read from the file are checked against what could possibly fit
** in the bytes left before anything is allocated for them, so a 40-byte file cannot
** make us allocate 2^64 entries.  Every product and sum of file-supplied numbers goes
** through __builtin_*_overflow.  Tensor extents are checked against the file size and
** against each other (no overlap).  After open, accessors return only what was
** validated; the string-array iterator re-checks bounds anyway.
**
** Policy decisions (documented in docs/gguf.md):
**   - versions 2 and 3 are accepted; v1 and big-endian files are refused by name;
**   - a tensor of a ggml type this build does not know is an error at open (its
**     extent cannot be checked, so the file cannot be validated);
**   - tensors need 1..4 dims, every ne >= 1, n_elements <= INT64_MAX, ne[0] a
**     multiple of the block size; data offsets aligned, inside the file, disjoint;
**   - duplicate keys and duplicate tensor names are errors; keys and names may not
**     contain NUL bytes or be empty;
**   - general.alignment, if present, is an integer power of two <= 2^30.
*/
#include "llm/gguf.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ value types ---- */

static const struct { const char *name; size_t size; } vtypes[PP_GGUF_VTYPE_COUNT] = {
    {"u8", 1}, {"i8", 1}, {"u16", 2}, {"i16", 2}, {"u32", 4}, {"i32", 4}, {"f32", 4},
    {"bool", 1}, {"string", 0}, {"array", 0}, {"u64", 8}, {"i64", 8}, {"f64", 8},
};

const char *pp_gguf_vtype_name(uint32_t t) {
    return t < PP_GGUF_VTYPE_COUNT ? vtypes[t].name : "?";
}

size_t pp_gguf_vtype_size(uint32_t t) {
    return t < PP_GGUF_VTYPE_COUNT ? vtypes[t].size : 0;
}

/* Little-endian loads that need no alignment. */
static uint16_t ld16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t ld32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t ld64(const uint8_t *p) { return (uint64_t)ld32(p) | (uint64_t)ld32(p + 4) << 32; }

/* ------------------------------------------------------------- the handle ---- */

typedef struct kv_rec {
    const char *key;         /* into g->names */
    pp_gguf_value v;
} kv_rec;

struct pp_gguf {
    const uint8_t *base;
    uint64_t size;
    int mapped;              /* base came from mmap */
    uint32_t version, alignment;
    uint64_t data_off;
    kv_rec *kv;
    size_t n_kv;
    pp_gguf_tensor *t;
    size_t n_t;
    char *names;             /* NUL-terminated copies of keys and tensor names */
    uint32_t *kv_index, *t_index;  /* open addressing: 0 empty, else index + 1 */
    size_t kv_cap, t_cap;    /* power of two */
};

/* ------------------------------------------------------------ the cursor ---- */

typedef struct cur {
    const uint8_t *base;
    uint64_t size, pos;
    const char *label;       /* file name for messages, may be NULL */
    char **detail;
} cur;

/* Sets *detail to "label: offset N: message" and returns PARAPET_ERR_FORMAT. */
static pp_status fail_at(cur *c, uint64_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static pp_status fail_at(cur *c, uint64_t off, const char *fmt, ...) {
    if (c->detail && !*c->detail) {
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        *c->detail = pp_asprintf("%s%sgguf: offset %llu: %s", c->label ? c->label : "",
                                 c->label ? ": " : "", (unsigned long long)off, msg);
    }
    return PARAPET_ERR_FORMAT;
}

static uint64_t left(const cur *c) { return c->size - c->pos; }

static pp_status need(cur *c, uint64_t n, const char *what) {
    if (n > left(c))
        return fail_at(c, c->pos, "truncated: %s needs %llu bytes, %llu left", what,
                       (unsigned long long)n, (unsigned long long)left(c));
    return PARAPET_OK;
}

static pp_status rd32(cur *c, uint32_t *v, const char *what) {
    pp_status st = need(c, 4, what);
    if (st) return st;
    *v = ld32(c->base + c->pos);
    c->pos += 4;
    return PARAPET_OK;
}

static pp_status rd64(cur *c, uint64_t *v, const char *what) {
    pp_status st = need(c, 8, what);
    if (st) return st;
    *v = ld64(c->base + c->pos);
    c->pos += 8;
    return PARAPET_OK;
}

/* A gguf string: u64 length then bytes.  Returns a pointer into the file. */
static pp_status rd_str(cur *c, const char *what, const uint8_t **s, uint64_t *len) {
    uint64_t at = c->pos, n;
    pp_status st = rd64(c, &n, what);
    if (st) return st;
    if (n > left(c))
        return fail_at(c, at, "%s: length %llu runs past the end of the file (%llu left)",
                       what, (unsigned long long)n, (unsigned long long)left(c));
    *s = c->base + c->pos;
    *len = n;
    c->pos += n;
    return PARAPET_OK;
}

/* Writes a printable, bounded copy of s[0..n) for error messages. */
static void printable(char *dst, size_t cap, const uint8_t *s, uint64_t n) {
    size_t j = 0;
    for (uint64_t i = 0; i < n && j + 4 < cap; i++)
        dst[j++] = (s[i] >= 0x20 && s[i] < 0x7f) ? (char)s[i] : '?';
    if (n > cap - 4 && j + 4 <= cap) { dst[j++] = '.'; dst[j++] = '.'; dst[j++] = '.'; }
    dst[j] = 0;
}

/* Skips one value of type `type` at the cursor, filling *v (may be NULL for nested
** elements).  Arrays nest at most PP_GGUF_MAX_ARRAY_DEPTH deep; every element of a
** nested array costs >= 12 bytes of file, so the walk is linear in the file size. */
static pp_status skip_value(cur *c, uint32_t type, int depth, const char *key,
                            pp_gguf_value *v) {
    uint64_t at = c->pos;
    pp_status st;
    if (type >= PP_GGUF_VTYPE_COUNT)
        return fail_at(c, at, "key '%s': unknown value type %u", key, type);
    if (v) { memset(v, 0, sizeof *v); v->type = type; }
    if (type == PP_GGUF_STR) {
        const uint8_t *s;
        uint64_t n;
        if ((st = rd_str(c, "string value", &s, &n))) return st;
        if (v) { v->data = s; v->size = n; }
        return PARAPET_OK;
    }
    if (type != PP_GGUF_ARR) {
        size_t sz = vtypes[type].size;
        if ((st = need(c, sz, "value"))) return st;
        if (type == PP_GGUF_BOOL && c->base[c->pos] > 1)
            return fail_at(c, at, "key '%s': bool value %u is not 0 or 1", key, c->base[c->pos]);
        if (v) { v->data = c->base + c->pos; v->size = sz; }
        c->pos += sz;
        return PARAPET_OK;
    }
    uint32_t et;
    uint64_t n;
    if ((st = rd32(c, &et, "array element type"))) return st;
    if ((st = rd64(c, &n, "array count"))) return st;
    if (et >= PP_GGUF_VTYPE_COUNT)
        return fail_at(c, at, "key '%s': array of unknown value type %u", key, et);
    if (et == PP_GGUF_ARR && depth + 1 >= PP_GGUF_MAX_ARRAY_DEPTH)
        return fail_at(c, at, "key '%s': arrays nested deeper than %d", key,
                       PP_GGUF_MAX_ARRAY_DEPTH);
    /* The smallest possible element: a scalar's size, 8 bytes for a string's length,
    ** 12 for a nested array's header.  A count that cannot fit is refused before any
    ** walk. */
    uint64_t min_el = et == PP_GGUF_STR ? 8 : et == PP_GGUF_ARR ? 12 : vtypes[et].size;
    if (n > left(c) / min_el)
        return fail_at(c, at, "key '%s': array count %llu of %s cannot fit in the %llu bytes left",
                       key, (unsigned long long)n, vtypes[et].name, (unsigned long long)left(c));
    uint64_t start = c->pos;
    if (et == PP_GGUF_STR || et == PP_GGUF_ARR) {
        for (uint64_t i = 0; i < n; i++)
            if ((st = skip_value(c, et, depth + 1, key, NULL))) return st;
    } else {
        c->pos += n * min_el;   /* n * min_el <= left(c), checked above */
        if (et == PP_GGUF_BOOL)
            for (uint64_t i = start; i < c->pos; i++)
                if (c->base[i] > 1)
                    return fail_at(c, i, "key '%s': bool element %u is not 0 or 1", key,
                                   c->base[i]);
    }
    if (v) { v->elem_type = et; v->count = n; v->data = c->base + start; v->size = c->pos - start; }
    return PARAPET_OK;
}

/* ------------------------------------------------------------ hash index ---- */

static size_t index_cap(size_t n) {
    size_t cap = 8;
    while (cap < 2 * n) cap *= 2;
    return cap;
}

/* Inserts name `s` with index i; returns the index of an existing equal name, or -1. */
static long index_put(uint32_t *tab, size_t cap, const char *s, uint32_t i,
                      const char *(*name_of)(const pp_gguf *, uint32_t), const pp_gguf *g) {
    size_t h = (size_t)pp_fnv1a(s, strlen(s)) & (cap - 1);
    while (tab[h]) {
        if (!strcmp(name_of(g, tab[h] - 1), s)) return (long)tab[h] - 1;
        h = (h + 1) & (cap - 1);
    }
    tab[h] = i + 1;
    return -1;
}

static long index_get(const uint32_t *tab, size_t cap, const char *s,
                      const char *(*name_of)(const pp_gguf *, uint32_t), const pp_gguf *g) {
    if (!tab) return -1;
    size_t h = (size_t)pp_fnv1a(s, strlen(s)) & (cap - 1);
    while (tab[h]) {
        if (!strcmp(name_of(g, tab[h] - 1), s)) return (long)tab[h] - 1;
        h = (h + 1) & (cap - 1);
    }
    return -1;
}

static const char *kv_name(const pp_gguf *g, uint32_t i) { return g->kv[i].key; }
static const char *t_name(const pp_gguf *g, uint32_t i) { return g->t[i].name; }

/* ----------------------------------------------------------------- parse ---- */

typedef struct span { uint64_t start, end; size_t idx; } span;

static int cmp_span(const void *a, const void *b) {
    const span *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start ? 1 : 0;
}

/* Parses and validates the whole header of g->base[0..g->size).  On error the
** caller frees g (everything allocated so far hangs off it). */
static pp_status parse(pp_gguf *g, const char *label, char **detail) {
    cur c = {g->base, g->size, 0, label, detail};
    pp_status st;
    uint32_t magic, version;
    uint64_t n_t, n_kv;

    if (g->size < 4 || memcmp(g->base, "GGUF", 4)) {
        if (g->size == 0) return fail_at(&c, 0, "empty file");
        return fail_at(&c, 0, "not a GGUF file (bad magic)");
    }
    if ((st = rd32(&c, &magic, "magic"))) return st;
    if ((st = rd32(&c, &version, "version"))) return st;
    if (version != 2 && version != 3) {
        if (version == 1) return fail_at(&c, 4, "GGUF version 1 is not supported");
        if (__builtin_bswap32(version) == 2 || __builtin_bswap32(version) == 3)
            return fail_at(&c, 4, "big-endian GGUF files are not supported");
        return fail_at(&c, 4, "unsupported GGUF version %u", version);
    }
    g->version = version;
    if ((st = rd64(&c, &n_t, "tensor count"))) return st;
    if ((st = rd64(&c, &n_kv, "metadata count"))) return st;
    /* A key/value takes >= 14 bytes (length, one key byte, type, one value byte), a
    ** tensor info >= 33.  Refuse counts the file could not hold, before allocating. */
    if (n_kv > left(&c) / 14)
        return fail_at(&c, 16, "metadata count %llu cannot fit in a %llu-byte file",
                       (unsigned long long)n_kv, (unsigned long long)g->size);
    if (n_t > left(&c) / 33)
        return fail_at(&c, 8, "tensor count %llu cannot fit in a %llu-byte file",
                       (unsigned long long)n_t, (unsigned long long)g->size);
    if (n_kv >= UINT32_MAX || n_t >= UINT32_MAX)
        return fail_at(&c, 8, "too many entries");

    g->kv = pp_calloc((size_t)n_kv ? (size_t)n_kv : 1, sizeof *g->kv);
    g->t = pp_calloc((size_t)n_t ? (size_t)n_t : 1, sizeof *g->t);
    g->kv_cap = index_cap((size_t)n_kv);
    g->t_cap = index_cap((size_t)n_t);
    g->kv_index = pp_calloc(g->kv_cap, sizeof *g->kv_index);
    g->t_index = pp_calloc(g->t_cap, sizeof *g->t_index);
    if (!g->kv || !g->t || !g->kv_index || !g->t_index) return PARAPET_ERR_NOMEM;

    /* Pass 1 over the key/values: validate and measure the name copies.  Key bytes
    ** are stored as (offset, length) in .key until the names buffer exists. */
    uint64_t names_bytes = 0;
    const uint8_t **kptr = pp_calloc((size_t)n_kv ? (size_t)n_kv : 1, sizeof *kptr);
    uint64_t *klen = pp_calloc((size_t)n_kv ? (size_t)n_kv : 1, sizeof *klen);
    const uint8_t **tptr = pp_calloc((size_t)n_t ? (size_t)n_t : 1, sizeof *tptr);
    uint64_t *tlen = pp_calloc((size_t)n_t ? (size_t)n_t : 1, sizeof *tlen);
    span *spans = pp_calloc((size_t)n_t ? (size_t)n_t : 1, sizeof *spans);
    if (!kptr || !klen || !tptr || !tlen || !spans) { st = PARAPET_ERR_NOMEM; goto out; }

    for (uint64_t i = 0; i < n_kv; i++) {
        uint64_t at = c.pos;
        uint32_t type;
        char kbuf[80];
        if ((st = rd_str(&c, "key", &kptr[i], &klen[i]))) goto out;
        printable(kbuf, sizeof kbuf, kptr[i], klen[i]);
        if (klen[i] == 0) { st = fail_at(&c, at, "key %llu is empty", (unsigned long long)i); goto out; }
        if (klen[i] > PP_GGUF_MAX_KEY) {
            st = fail_at(&c, at, "key '%s' is %llu bytes long (limit %d)", kbuf,
                         (unsigned long long)klen[i], PP_GGUF_MAX_KEY);
            goto out;
        }
        if (memchr(kptr[i], 0, (size_t)klen[i])) {
            st = fail_at(&c, at, "key '%s' contains a NUL byte", kbuf);
            goto out;
        }
        if ((st = rd32(&c, &type, "value type"))) goto out;
        if ((st = skip_value(&c, type, 0, kbuf, &g->kv[i].v))) goto out;
        names_bytes += klen[i] + 1;   /* <= file size: no overflow */
    }
    g->n_kv = (size_t)n_kv;

    /* Tensor infos. */
    for (uint64_t i = 0; i < n_t; i++) {
        uint64_t at = c.pos;
        pp_gguf_tensor *t = &g->t[i];
        char nbuf[80];
        if ((st = rd_str(&c, "tensor name", &tptr[i], &tlen[i]))) goto out;
        printable(nbuf, sizeof nbuf, tptr[i], tlen[i]);
        if (tlen[i] == 0 || tlen[i] > PP_GGUF_MAX_NAME) {
            st = fail_at(&c, at, "tensor %llu: name length %llu not in 1..%d",
                         (unsigned long long)i, (unsigned long long)tlen[i], PP_GGUF_MAX_NAME);
            goto out;
        }
        if (memchr(tptr[i], 0, (size_t)tlen[i])) {
            st = fail_at(&c, at, "tensor '%s': name contains a NUL byte", nbuf);
            goto out;
        }
        uint64_t dims_at = c.pos;
        if ((st = rd32(&c, &t->n_dims, "tensor n_dims"))) goto out;
        if (t->n_dims < 1 || t->n_dims > PP_GGUF_MAX_DIMS) {
            st = fail_at(&c, dims_at, "tensor '%s': n_dims %u not in 1..%d", nbuf, t->n_dims,
                         PP_GGUF_MAX_DIMS);
            goto out;
        }
        uint64_t nel = 1;
        for (uint32_t d = 0; d < PP_GGUF_MAX_DIMS; d++) {
            t->ne[d] = 1;
            if (d >= t->n_dims) continue;
            uint64_t ne_at = c.pos;
            if ((st = rd64(&c, &t->ne[d], "tensor shape"))) goto out;
            if (t->ne[d] == 0 || t->ne[d] > (uint64_t)INT64_MAX) {
                st = fail_at(&c, ne_at, "tensor '%s': ne[%u] = %llu out of range", nbuf, d,
                             (unsigned long long)t->ne[d]);
                goto out;
            }
            if (__builtin_mul_overflow(nel, t->ne[d], &nel) || nel > (uint64_t)INT64_MAX) {
                st = fail_at(&c, ne_at, "tensor '%s': element count overflows", nbuf);
                goto out;
            }
        }
        t->n_elements = nel;
        uint64_t type_at = c.pos;
        if ((st = rd32(&c, &t->type, "tensor type"))) goto out;
        const pp_ggml_type_info *ti = pp_ggml_type_get(t->type);
        if (!ti) {
            st = fail_at(&c, type_at, "tensor '%s': unknown ggml type %u", nbuf, t->type);
            goto out;
        }
        uint64_t row;
        if (pp_ggml_row_bytes(t->type, t->ne[0], &row)) {
            st = fail_at(&c, dims_at, "tensor '%s': ne[0] = %llu is not a multiple of the %s "
                         "block size %u", nbuf, (unsigned long long)t->ne[0], ti->name, ti->blck);
            goto out;
        }
        if (__builtin_mul_overflow(row, nel / t->ne[0], &t->size)) {
            st = fail_at(&c, dims_at, "tensor '%s': data size overflows (outside any file)", nbuf);
            goto out;
        }
        if ((st = rd64(&c, &t->offset, "tensor offset"))) goto out;
        spans[i].idx = (size_t)i;
        names_bytes += tlen[i] + 1;
    }
    g->n_t = (size_t)n_t;

    /* Alignment and the start of the data section. */
    g->alignment = PP_GGUF_DEFAULT_ALIGNMENT;
    for (size_t i = 0; i < g->n_kv; i++) {
        if (klen[i] != 17 || memcmp(kptr[i], "general.alignment", 17)) continue;
        int64_t a;
        pp_gguf_value *v = &g->kv[i].v;
        if (pp_gguf_value_int(v, 0, &a) || a < 1 || a > (1 << 30) || (a & (a - 1))) {
            st = fail_at(&c, (uint64_t)(v->data ? v->data - g->base : 0),
                         "general.alignment must be an integer power of two <= 2^30");
            goto out;
        }
        g->alignment = (uint32_t)a;
    }
    uint64_t pad = (g->alignment - c.pos % g->alignment) % g->alignment;
    if (__builtin_add_overflow(c.pos, pad, &g->data_off)) { st = fail_at(&c, c.pos, "overflow"); goto out; }
    if (g->n_t && g->data_off > g->size) {
        st = fail_at(&c, c.pos, "truncated: the tensor data section would start at %llu, past "
                     "the end of the %llu-byte file", (unsigned long long)g->data_off,
                     (unsigned long long)g->size);
        goto out;
    }
    for (size_t i = 0; i < g->n_t; i++) {
        pp_gguf_tensor *t = &g->t[i];
        char nbuf[80];
        printable(nbuf, sizeof nbuf, tptr[i], tlen[i]);
        uint64_t rel = t->offset, end;
        if (rel % g->alignment) {
            st = fail_at(&c, g->data_off, "tensor '%s': data offset %llu is not a multiple of "
                         "the alignment %u", nbuf, (unsigned long long)rel, g->alignment);
            goto out;
        }
        if (__builtin_add_overflow(g->data_off, rel, &t->offset) ||
            __builtin_add_overflow(t->offset, t->size, &end) || end > g->size) {
            st = fail_at(&c, g->data_off, "tensor '%s': data [%llu + %llu, +%llu bytes) lies "
                         "outside the %llu-byte file", nbuf, (unsigned long long)g->data_off,
                         (unsigned long long)rel, (unsigned long long)t->size,
                         (unsigned long long)g->size);
            goto out;
        }
        t->data = g->base + t->offset;
        spans[i].start = t->offset;
        spans[i].end = end;
    }
    qsort(spans, g->n_t, sizeof *spans, cmp_span);
    for (size_t i = 1; i < g->n_t; i++)
        if (spans[i].start < spans[i - 1].end) {
            char a[80], b[80];
            printable(a, sizeof a, tptr[spans[i - 1].idx], tlen[spans[i - 1].idx]);
            printable(b, sizeof b, tptr[spans[i].idx], tlen[spans[i].idx]);
            st = fail_at(&c, spans[i].start, "tensors '%s' and '%s' overlap", a, b);
            goto out;
        }

    /* Name copies and indexes (duplicates are errors). */
    g->names = pp_malloc((size_t)names_bytes + 1);
    if (!g->names) { st = PARAPET_ERR_NOMEM; goto out; }
    char *p = g->names;
    for (size_t i = 0; i < g->n_kv; i++) {
        memcpy(p, kptr[i], (size_t)klen[i]);
        p[klen[i]] = 0;
        g->kv[i].key = p;
        p += klen[i] + 1;
        long dup = index_put(g->kv_index, g->kv_cap, g->kv[i].key, (uint32_t)i, kv_name, g);
        if (dup >= 0) {
            char kbuf[80];
            printable(kbuf, sizeof kbuf, kptr[i], klen[i]);
            st = fail_at(&c, (uint64_t)(kptr[i] - g->base) - 8, "duplicate key '%s'", kbuf);
            goto out;
        }
    }
    for (size_t i = 0; i < g->n_t; i++) {
        memcpy(p, tptr[i], (size_t)tlen[i]);
        p[tlen[i]] = 0;
        g->t[i].name = p;
        p += tlen[i] + 1;
        long dup = index_put(g->t_index, g->t_cap, g->t[i].name, (uint32_t)i, t_name, g);
        if (dup >= 0) {
            char nbuf[80];
            printable(nbuf, sizeof nbuf, tptr[i], tlen[i]);
            st = fail_at(&c, (uint64_t)(tptr[i] - g->base) - 8, "duplicate tensor name '%s'", nbuf);
            goto out;
        }
    }
    st = PARAPET_OK;
out:
    pp_free(kptr);
    pp_free(klen);
    pp_free(tptr);
    pp_free(tlen);
    pp_free(spans);
    return st;
}

/* ------------------------------------------------------------ open/close ---- */

static pp_status open_common(pp_gguf *g, const char *label, pp_gguf **out, char **detail) {
    pp_status st = parse(g, label, detail);
    if (st) {
        if (st == PARAPET_ERR_NOMEM && detail && !*detail)
            *detail = pp_asprintf("%s%sout of memory reading GGUF", label ? label : "",
                                  label ? ": " : "");
        pp_gguf_close(g);
        return st;
    }
    *out = g;
    return PARAPET_OK;
}

pp_status pp_gguf_open_mem(const void *data, size_t len, pp_gguf **out, char **detail) {
    if (detail) *detail = NULL;
    if (!out || (!data && len)) return PARAPET_ERR_ARG;
    pp_gguf *g = pp_calloc(1, sizeof *g);
    if (!g) return PARAPET_ERR_NOMEM;
    static const uint8_t empty[1];
    g->base = data ? data : empty;
    g->size = len;
    return open_common(g, NULL, out, detail);
}

pp_status pp_gguf_open_file(const char *path, pp_gguf **out, char **detail) {
    if (detail) *detail = NULL;
    if (!path || !out) return PARAPET_ERR_ARG;
    const void *map;
    size_t len;
    pp_status st = pp_map_file(path, &map, &len, detail);
    if (st) return st;
    pp_gguf *g = pp_calloc(1, sizeof *g);
    if (!g) { pp_unmap_file(map, len); return PARAPET_ERR_NOMEM; }
    g->base = map;
    g->size = (uint64_t)len;
    g->mapped = len > 0;
    return open_common(g, path, out, detail);
}

void pp_gguf_close(pp_gguf *g) {
    if (!g) return;
    if (g->mapped) pp_unmap_file(g->base, (size_t)g->size);
    pp_free(g->kv);
    pp_free(g->t);
    pp_free(g->names);
    pp_free(g->kv_index);
    pp_free(g->t_index);
    pp_free(g);
}

uint32_t pp_gguf_version(const pp_gguf *g) { return g->version; }
uint64_t pp_gguf_file_size(const pp_gguf *g) { return g->size; }
uint64_t pp_gguf_data_offset(const pp_gguf *g) { return g->data_off; }
uint32_t pp_gguf_alignment(const pp_gguf *g) { return g->alignment; }
int pp_gguf_is_mapped(const pp_gguf *g) { return g && g->mapped; }
const void *pp_gguf_base(const pp_gguf *g) { return g->base; }

/* -------------------------------------------------------------- metadata ---- */

size_t pp_gguf_kv_count(const pp_gguf *g) { return g->n_kv; }

const char *pp_gguf_kv_key(const pp_gguf *g, size_t i) {
    return i < g->n_kv ? g->kv[i].key : NULL;
}

void pp_gguf_kv_value(const pp_gguf *g, size_t i, pp_gguf_value *v) {
    if (i < g->n_kv) *v = g->kv[i].v;
    else memset(v, 0, sizeof *v);
}

long pp_gguf_find(const pp_gguf *g, const char *key) {
    return key ? index_get(g->kv_index, g->kv_cap, key, kv_name, g) : -1;
}

/* Element i's type and bytes: the value itself for a scalar (i must be 0). */
static const uint8_t *element(const pp_gguf_value *v, uint64_t i, uint32_t *type) {
    if (v->type == PP_GGUF_ARR) {
        size_t sz = pp_gguf_vtype_size(v->elem_type);
        if (!sz || i >= v->count) return NULL;
        *type = v->elem_type;
        return v->data + i * sz;   /* i * sz < v->size, which fits in the file */
    }
    if (i != 0 || !pp_gguf_vtype_size(v->type)) return NULL;
    *type = v->type;
    return v->data;
}

pp_status pp_gguf_value_int(const pp_gguf_value *v, uint64_t i, int64_t *out) {
    uint32_t t;
    const uint8_t *p = element(v, i, &t);
    if (!p) return v->type == PP_GGUF_ARR && i >= v->count ? PARAPET_ERR_ARG : PARAPET_ERR_FORMAT;
    switch (t) {
    case PP_GGUF_U8: *out = p[0]; return PARAPET_OK;
    case PP_GGUF_I8: *out = (int8_t)p[0]; return PARAPET_OK;
    case PP_GGUF_U16: *out = ld16(p); return PARAPET_OK;
    case PP_GGUF_I16: *out = (int16_t)ld16(p); return PARAPET_OK;
    case PP_GGUF_U32: *out = ld32(p); return PARAPET_OK;
    case PP_GGUF_I32: *out = (int32_t)ld32(p); return PARAPET_OK;
    case PP_GGUF_I64: *out = (int64_t)ld64(p); return PARAPET_OK;
    case PP_GGUF_U64: {
        uint64_t u = ld64(p);
        if (u > (uint64_t)INT64_MAX) return PARAPET_ERR_FORMAT;
        *out = (int64_t)u;
        return PARAPET_OK;
    }
    default: return PARAPET_ERR_FORMAT;
    }
}

pp_status pp_gguf_value_float(const pp_gguf_value *v, uint64_t i, double *out) {
    uint32_t t;
    const uint8_t *p = element(v, i, &t);
    if (!p) return v->type == PP_GGUF_ARR && i >= v->count ? PARAPET_ERR_ARG : PARAPET_ERR_FORMAT;
    if (t == PP_GGUF_F32) {
        uint32_t u = ld32(p);
        float f;
        memcpy(&f, &u, 4);
        *out = f;
        return PARAPET_OK;
    }
    if (t == PP_GGUF_F64) {
        uint64_t u = ld64(p);
        memcpy(out, &u, 8);
        return PARAPET_OK;
    }
    if (t == PP_GGUF_U64) { *out = (double)ld64(p); return PARAPET_OK; }
    int64_t k;
    pp_status st = pp_gguf_value_int(v, i, &k);
    if (st) return st;
    *out = (double)k;
    return PARAPET_OK;
}

static const pp_gguf_value *lookup(const pp_gguf *g, const char *key) {
    long i = pp_gguf_find(g, key);
    return i < 0 ? NULL : &g->kv[i].v;
}

pp_status pp_gguf_get_int(const pp_gguf *g, const char *key, int64_t *out) {
    const pp_gguf_value *v = lookup(g, key);
    if (!v) return PARAPET_ERR_NOT_FOUND;
    if (v->type == PP_GGUF_ARR) return PARAPET_ERR_FORMAT;
    return pp_gguf_value_int(v, 0, out);
}

pp_status pp_gguf_get_uint(const pp_gguf *g, const char *key, uint64_t *out) {
    const pp_gguf_value *v = lookup(g, key);
    if (!v) return PARAPET_ERR_NOT_FOUND;
    if (v->type == PP_GGUF_U64) { *out = ld64(v->data); return PARAPET_OK; }
    int64_t k;
    if (v->type == PP_GGUF_ARR || pp_gguf_value_int(v, 0, &k) || k < 0) return PARAPET_ERR_FORMAT;
    *out = (uint64_t)k;
    return PARAPET_OK;
}

pp_status pp_gguf_get_u32(const pp_gguf *g, const char *key, uint32_t *out) {
    uint64_t u;
    pp_status st = pp_gguf_get_uint(g, key, &u);
    if (st) return st;
    if (u > UINT32_MAX) return PARAPET_ERR_FORMAT;
    *out = (uint32_t)u;
    return PARAPET_OK;
}

pp_status pp_gguf_get_float(const pp_gguf *g, const char *key, double *out) {
    const pp_gguf_value *v = lookup(g, key);
    if (!v) return PARAPET_ERR_NOT_FOUND;
    if (v->type == PP_GGUF_ARR) return PARAPET_ERR_FORMAT;
    return pp_gguf_value_float(v, 0, out);
}

pp_status pp_gguf_get_bool(const pp_gguf *g, const char *key, int *out) {
    const pp_gguf_value *v = lookup(g, key);
    if (!v) return PARAPET_ERR_NOT_FOUND;
    if (v->type == PP_GGUF_BOOL) { *out = v->data[0] != 0; return PARAPET_OK; }
    int64_t k;
    if (v->type == PP_GGUF_ARR || pp_gguf_value_int(v, 0, &k) || (k != 0 && k != 1))
        return PARAPET_ERR_FORMAT;
    *out = (int)k;
    return PARAPET_OK;
}

pp_status pp_gguf_get_str(const pp_gguf *g, const char *key, const char **s, size_t *len) {
    const pp_gguf_value *v = lookup(g, key);
    if (!v) return PARAPET_ERR_NOT_FOUND;
    if (v->type != PP_GGUF_STR) return PARAPET_ERR_FORMAT;
    *s = (const char *)v->data;
    *len = (size_t)v->size;
    return PARAPET_OK;
}

pp_status pp_gguf_get_arr(const pp_gguf *g, const char *key, pp_gguf_value *out) {
    const pp_gguf_value *v = lookup(g, key);
    if (!v) return PARAPET_ERR_NOT_FOUND;
    if (v->type != PP_GGUF_ARR) return PARAPET_ERR_FORMAT;
    *out = *v;
    return PARAPET_OK;
}

int pp_gguf_str_iter_init(pp_gguf_str_iter *it, const pp_gguf_value *v) {
    memset(it, 0, sizeof *it);
    if (v->type != PP_GGUF_ARR || v->elem_type != PP_GGUF_STR) return -1;
    it->p = v->data;
    it->end = v->data + v->size;
    it->left = v->count;
    return 0;
}

int pp_gguf_str_iter_next(pp_gguf_str_iter *it, const char **s, size_t *len) {
    if (!it->left || !it->p || (size_t)(it->end - it->p) < 8) return 0;
    uint64_t n = ld64(it->p);
    if (n > (uint64_t)(it->end - it->p) - 8) { it->left = 0; return 0; }
    *s = (const char *)it->p + 8;
    *len = (size_t)n;
    it->p += 8 + n;
    it->left--;
    return 1;
}

/* --------------------------------------------------------------- tensors ---- */

size_t pp_gguf_tensor_count(const pp_gguf *g) { return g->n_t; }

const pp_gguf_tensor *pp_gguf_tensor_at(const pp_gguf *g, size_t i) {
    return i < g->n_t ? &g->t[i] : NULL;
}

const pp_gguf_tensor *pp_gguf_tensor_find(const pp_gguf *g, const char *name) {
    long i = name ? index_get(g->t_index, g->t_cap, name, t_name, g) : -1;
    return i < 0 ? NULL : &g->t[i];
}
