/*
** test_gguf.c -- the GGUF reader and writer (src/llm/gguf.c, gguf_write.c), the
** model summary and `model synth` (model_api.c, synth.c).
**
** What is proven here: everything the writer writes reads back field by field; a
** valid file cut at every byte offset is refused cleanly (run under `make asan
** TESTS=gguf` this also proves no read goes past the cut); hand-built hostile headers
** each get PARAPET_ERR_FORMAT with a detail that names the problem; integer getters
** accept every width; synth produces llama.cpp's Q4_K_M type mix.
*/
#include "test.h"
#include <jansson.h>
#include <stdlib.h>
#include <unistd.h>
#include "core/core.h"
#include "llm/gguf.h"
#include "llm/quant.h"

/* ------------------------------------------------------------ byte builder ---- */

static void b32(pp_buf *b, uint32_t v) {
    for (int i = 0; i < 4; i++) pp_buf_putc(b, (char)(v >> (8 * i)));
}
static void b64(pp_buf *b, uint64_t v) {
    b32(b, (uint32_t)v);
    b32(b, (uint32_t)(v >> 32));
}
static void bstr(pp_buf *b, const char *s) {
    b64(b, strlen(s));
    pp_buf_put(b, s, strlen(s));
}
static void bhdr(pp_buf *b, uint32_t version, uint64_t n_t, uint64_t n_kv) {
    pp_buf_init(b);
    pp_buf_put(b, "GGUF", 4);
    b32(b, version);
    b64(b, n_t);
    b64(b, n_kv);
}
/* One tensor info: name, dims, type, offset. */
static void btensor(pp_buf *b, const char *name, uint32_t n_dims, const uint64_t *ne,
                    uint32_t type, uint64_t off) {
    bstr(b, name);
    b32(b, n_dims);
    for (uint32_t i = 0; i < n_dims; i++) b64(b, ne[i]);
    b32(b, type);
    b64(b, off);
}
/* Pads to 32 and appends n bytes of data. */
static void bdata(pp_buf *b, size_t n) {
    while (b->len % 32) pp_buf_putc(b, 0);
    for (size_t i = 0; i < n; i++) pp_buf_putc(b, (char)i);
}

/* Opens an exact-size heap copy (so ASan sees any overread). */
static pp_status open_copy(const void *p, size_t n, pp_gguf **g, char **detail) {
    void *c = malloc(n ? n : 1);
    if (n) memcpy(c, p, n);
    pp_status st = pp_gguf_open_mem(c, n, g, detail);
    if (st == PARAPET_OK) {
        /* The caller closes g; keep the copy alive by leaking it into a static slot. */
        static void *keep[64];
        static int nk;
        free(keep[nk % 64]);
        keep[nk++ % 64] = c;
    } else {
        free(c);
    }
    return st;
}

/* Expects b's bytes to be refused as FORMAT with `needle` in the detail. */
static int refused(pp_buf *b, const char *needle, const char *file, int line) {
    pp_gguf *g = NULL;
    char *detail = NULL;
    pp_status st = open_copy(b->p, b->len, &g, &detail);
    int ok = st == PARAPET_ERR_FORMAT && detail && strstr(detail, needle);
    if (!ok)
        pt_fail(file, line, "expected FORMAT with \"%s\", got status %d detail \"%s\"", needle,
                (int)st, detail ? detail : "(null)");
    if (st == PARAPET_OK) pp_gguf_close(g);
    pp_free(detail);
    pp_buf_free(b);
    return ok;
}
#define REFUSED(b, needle) do { if (!refused(&(b), needle, __FILE__, __LINE__)) return; } while (0)

/* ------------------------------------------------------- a complete sample ---- */

/* Builds a small valid file with every value type and four tensors.  Returns the
** bytes (pp_free) and, in *data_end, the end of the last tensor's data. */
static pp_status sample_file(void **mem, size_t *len) {
    pp_gguf_writer *w = pp_gguf_writer_new(32);
    if (!w) return PARAPET_ERR_NOMEM;
    uint8_t u8 = 200;
    int8_t i8 = -100;
    uint16_t u16 = 60000;
    int16_t i16 = -30000;
    int64_t i64 = -5000000000ll;
    double f64 = 3.25;
    int32_t arr_i32[3] = {7, -8, 9};
    float arr_f32[2] = {0.5f, -1.5f};
    const char *strs[3] = {"alpha", "", "g\xc3\xa9"};
    pp_status st;
    if ((st = pp_gguf_w_str(w, "general.architecture", "llama", 5)) ||
        (st = pp_gguf_w_u32(w, "general.alignment", 32)) ||
        (st = pp_gguf_w_scalar(w, "t.u8", PP_GGUF_U8, &u8)) ||
        (st = pp_gguf_w_scalar(w, "t.i8", PP_GGUF_I8, &i8)) ||
        (st = pp_gguf_w_scalar(w, "t.u16", PP_GGUF_U16, &u16)) ||
        (st = pp_gguf_w_scalar(w, "t.i16", PP_GGUF_I16, &i16)) ||
        (st = pp_gguf_w_u32(w, "t.u32", 4000000000u)) ||
        (st = pp_gguf_w_i32(w, "t.i32", -2000000000)) ||
        (st = pp_gguf_w_f32(w, "t.f32", 1.25f)) ||
        (st = pp_gguf_w_bool(w, "t.bool", 1)) ||
        (st = pp_gguf_w_u64(w, "t.u64", 1ull << 40)) ||
        (st = pp_gguf_w_scalar(w, "t.i64", PP_GGUF_I64, &i64)) ||
        (st = pp_gguf_w_scalar(w, "t.f64", PP_GGUF_F64, &f64)) ||
        (st = pp_gguf_w_arr(w, "t.arr_i32", PP_GGUF_I32, arr_i32, 3)) ||
        (st = pp_gguf_w_arr(w, "t.arr_f32", PP_GGUF_F32, arr_f32, 2)) ||
        (st = pp_gguf_w_arr_str(w, "t.arr_str", strs, NULL, 3)) ||
        (st = pp_gguf_w_tensor(w, "a.weight", PP_GGML_F32, 2, (uint64_t[]){4, 2})) ||
        (st = pp_gguf_w_tensor(w, "b", PP_GGML_F16, 1, (uint64_t[]){8})) ||
        (st = pp_gguf_w_tensor(w, "c", PP_GGML_Q8_0, 3, (uint64_t[]){32, 1, 2})) ||
        (st = pp_gguf_w_tensor(w, "d", PP_GGML_Q4_K, 1, (uint64_t[]){256})) ||
        (st = pp_gguf_w_begin(w, NULL)))
        goto out;
    for (size_t i = 0; i < 4 && !st; i++) {
        uint64_t n = pp_gguf_w_tensor_size(w, i);
        uint8_t *d = malloc(n);
        for (uint64_t j = 0; j < n; j++) d[j] = (uint8_t)(i * 31 + j);
        /* in two pieces, to exercise streaming */
        st = pp_gguf_w_data(w, d, n / 2);
        if (!st) st = pp_gguf_w_data(w, d + n / 2, n - n / 2);
        free(d);
    }
    if (!st) st = pp_gguf_w_finish(w, mem, len);
out:
    pp_gguf_writer_free(w);
    return st;
}

TEST(gguf_roundtrip_every_field) {
    void *mem;
    size_t len;
    CHECK_OK(sample_file(&mem, &len));
    pp_gguf *g;
    char *detail = NULL;
    CHECK_OK(pp_gguf_open_mem(mem, len, &g, &detail));
    CHECK_EQ(pp_gguf_version(g), 3);
    CHECK_EQ(pp_gguf_alignment(g), 32);
    CHECK_EQ(pp_gguf_kv_count(g), 16);
    CHECK_EQ(pp_gguf_file_size(g), len);
    CHECK_STR(pp_gguf_kv_key(g, 0), "general.architecture");
    const char *s;
    size_t n;
    CHECK_OK(pp_gguf_get_str(g, "general.architecture", &s, &n));
    CHECK(n == 5 && !memcmp(s, "llama", 5));
    int64_t k;
    uint64_t u;
    double f;
    int bv;
    CHECK_OK(pp_gguf_get_int(g, "t.u8", &k)); CHECK_EQ(k, 200);
    CHECK_OK(pp_gguf_get_int(g, "t.i8", &k)); CHECK_EQ(k, -100);
    CHECK_OK(pp_gguf_get_int(g, "t.u16", &k)); CHECK_EQ(k, 60000);
    CHECK_OK(pp_gguf_get_int(g, "t.i16", &k)); CHECK_EQ(k, -30000);
    CHECK_OK(pp_gguf_get_int(g, "t.u32", &k)); CHECK_EQ(k, 4000000000ll);
    CHECK_OK(pp_gguf_get_int(g, "t.i32", &k)); CHECK_EQ(k, -2000000000);
    CHECK_OK(pp_gguf_get_uint(g, "t.u64", &u)); CHECK_EQ(u, 1ll << 40);
    CHECK_OK(pp_gguf_get_int(g, "t.i64", &k)); CHECK_EQ(k, -5000000000ll);
    CHECK_OK(pp_gguf_get_float(g, "t.f32", &f)); CHECK_NEAR(f, 1.25, 0);
    CHECK_OK(pp_gguf_get_float(g, "t.f64", &f)); CHECK_NEAR(f, 3.25, 0);
    CHECK_OK(pp_gguf_get_bool(g, "t.bool", &bv)); CHECK_EQ(bv, 1);
    /* type mismatches and absent keys */
    CHECK_EQ(pp_gguf_get_int(g, "t.f32", &k), PARAPET_ERR_FORMAT);
    CHECK_EQ(pp_gguf_get_uint(g, "t.i8", &u), PARAPET_ERR_FORMAT);
    CHECK_EQ(pp_gguf_get_u32(g, "t.u64", (uint32_t *)&bv), PARAPET_ERR_FORMAT);
    CHECK_EQ(pp_gguf_get_str(g, "t.u8", &s, &n), PARAPET_ERR_FORMAT);
    CHECK_EQ(pp_gguf_get_int(g, "no.such.key", &k), PARAPET_ERR_NOT_FOUND);
    CHECK_EQ(pp_gguf_find(g, "t.arr_str"), 15);
    /* arrays */
    pp_gguf_value a;
    CHECK_OK(pp_gguf_get_arr(g, "t.arr_i32", &a));
    CHECK_EQ(a.elem_type, PP_GGUF_I32);
    CHECK_EQ(a.count, 3);
    CHECK_OK(pp_gguf_value_int(&a, 1, &k)); CHECK_EQ(k, -8);
    CHECK_EQ(pp_gguf_value_int(&a, 3, &k), PARAPET_ERR_ARG);
    CHECK_OK(pp_gguf_get_arr(g, "t.arr_f32", &a));
    CHECK_OK(pp_gguf_value_float(&a, 1, &f)); CHECK_NEAR(f, -1.5, 0);
    CHECK_OK(pp_gguf_get_arr(g, "t.arr_str", &a));
    pp_gguf_str_iter it;
    CHECK_EQ(pp_gguf_str_iter_init(&it, &a), 0);
    const char *want[3] = {"alpha", "", "g\xc3\xa9"};
    int got = 0;
    while (pp_gguf_str_iter_next(&it, &s, &n)) {
        CHECK(got < 3);
        CHECK(n == strlen(want[got]) && !memcmp(s, want[got], n));
        got++;
    }
    CHECK_EQ(got, 3);
    /* tensors: shapes, types, data, alignment */
    CHECK_EQ(pp_gguf_tensor_count(g), 4);
    const pp_gguf_tensor *t = pp_gguf_tensor_find(g, "c");
    CHECK(t != NULL);
    CHECK_EQ(t->type, PP_GGML_Q8_0);
    CHECK_EQ(t->n_dims, 3);
    CHECK(t->ne[0] == 32 && t->ne[1] == 1 && t->ne[2] == 2 && t->ne[3] == 1);
    CHECK_EQ(t->n_elements, 64);
    CHECK_EQ(t->size, 2 * 34);
    CHECK_EQ(t->offset % 32, 0);
    CHECK(t->offset >= pp_gguf_data_offset(g) && t->offset + t->size <= len);
    for (uint64_t j = 0; j < t->size; j++)
        CHECK_EQ(((const uint8_t *)t->data)[j], (uint8_t)(2 * 31 + j));
    t = pp_gguf_tensor_find(g, "d");
    CHECK(t && t->size == 144 && t->type == PP_GGML_Q4_K);
    t = pp_gguf_tensor_find(g, "a.weight");
    CHECK(t && t->size == 32 && t->ne[1] == 2);
    CHECK(pp_gguf_tensor_find(g, "zz") == NULL);
    pp_gguf_close(g);
    pp_free(mem);
}

TEST(gguf_truncated_at_every_offset) {
    void *mem;
    size_t len;
    CHECK_OK(sample_file(&mem, &len));
    pp_gguf *g;
    CHECK_OK(pp_gguf_open_mem(mem, len, &g, NULL));
    uint64_t data_end = 0;
    for (size_t i = 0; i < pp_gguf_tensor_count(g); i++) {
        const pp_gguf_tensor *t = pp_gguf_tensor_at(g, i);
        if (t->offset + t->size > data_end) data_end = t->offset + t->size;
    }
    pp_gguf_close(g);
    CHECK(data_end <= len && len < 4096);
    for (size_t cut = 0; cut < len; cut++) {
        char *detail = NULL;
        pp_status st = open_copy(mem, cut, &g, &detail);
        if (cut < data_end) {
            CHECK_MSG(st == PARAPET_ERR_FORMAT && detail, "cut at %zu: status %d", cut, (int)st);
        } else {
            CHECK_MSG(st == PARAPET_OK, "cut at %zu (in trailing padding): status %d", cut, (int)st);
            pp_gguf_close(g);
        }
        pp_free(detail);
    }
    pp_free(mem);
}

TEST(gguf_hostile_headers) {
    pp_buf b;
    bhdr(&b, 3, 0, 0);
    memcpy(b.p, "GGUX", 4);
    REFUSED(b, "bad magic");
    bhdr(&b, 1, 0, 0); REFUSED(b, "version 1");
    bhdr(&b, 0x03000000, 0, 0); REFUSED(b, "big-endian");
    bhdr(&b, 7, 0, 0); REFUSED(b, "unsupported GGUF version");
    bhdr(&b, 3, 1ull << 62, 0); REFUSED(b, "tensor count");
    bhdr(&b, 3, 0, ~0ull); REFUSED(b, "metadata count");
    pp_buf_init(&b); pp_buf_put(&b, "", 0); REFUSED(b, "empty file");
    /* key longer than the file */
    bhdr(&b, 3, 0, 1); b64(&b, 1ull << 63); pp_buf_put(&b, "abcdefgh", 8); REFUSED(b, "length");
    /* key of 65536 bytes: the file is big enough, the key is still refused */
    bhdr(&b, 3, 0, 1); b64(&b, 65536);
    for (int i = 0; i < 65536; i++) pp_buf_putc(&b, 'k');
    b32(&b, PP_GGUF_U8); pp_buf_putc(&b, 1); REFUSED(b, "limit");
    /* empty key, key with a NUL */
    bhdr(&b, 3, 0, 1); b64(&b, 0); b32(&b, PP_GGUF_U8); pp_buf_put(&b, "\1\0\0\0", 4);
    REFUSED(b, "is empty");
    bhdr(&b, 3, 0, 1); b64(&b, 3); pp_buf_put(&b, "a\0b", 3); b32(&b, PP_GGUF_U8);
    pp_buf_putc(&b, 1); REFUSED(b, "NUL");
    /* string value longer than the file */
    bhdr(&b, 3, 0, 1); bstr(&b, "k"); b32(&b, PP_GGUF_STR); b64(&b, 1000); pp_buf_put(&b, "xy", 2);
    REFUSED(b, "runs past the end");
    /* unknown value type, array of an unknown type */
    bhdr(&b, 3, 0, 1); bstr(&b, "k"); b32(&b, 13); b64(&b, 0); REFUSED(b, "unknown value type 13");
    bhdr(&b, 3, 0, 1); bstr(&b, "k"); b32(&b, PP_GGUF_ARR); b32(&b, 99); b64(&b, 1); b64(&b, 0);
    REFUSED(b, "unknown value type 99");
    /* array counts that cannot fit: n * 4 would overflow 64 bits */
    bhdr(&b, 3, 0, 1); bstr(&b, "k"); b32(&b, PP_GGUF_ARR); b32(&b, PP_GGUF_U32);
    b64(&b, 1ull << 62); b64(&b, 0); REFUSED(b, "array count");
    bhdr(&b, 3, 0, 1); bstr(&b, "k"); b32(&b, PP_GGUF_ARR); b32(&b, PP_GGUF_STR);
    b64(&b, 1000); b64(&b, 0); REFUSED(b, "array count");
    /* a string array whose second string runs off the end */
    bhdr(&b, 3, 0, 1); bstr(&b, "k"); b32(&b, PP_GGUF_ARR); b32(&b, PP_GGUF_STR);
    b64(&b, 2); bstr(&b, "ok"); b64(&b, 1ull << 40); for (int i = 0; i < 16; i++) pp_buf_putc(&b, 'z');
    REFUSED(b, "runs past the end");
    /* arrays nested too deep */
    bhdr(&b, 3, 0, 1); bstr(&b, "k"); b32(&b, PP_GGUF_ARR);
    for (int i = 0; i < 6; i++) { b32(&b, PP_GGUF_ARR); b64(&b, 1); }
    b32(&b, PP_GGUF_U8); b64(&b, 0);
    REFUSED(b, "nested");
    /* bool other than 0/1 */
    bhdr(&b, 3, 0, 1); bstr(&b, "k"); b32(&b, PP_GGUF_BOOL); pp_buf_putc(&b, 2); REFUSED(b, "bool");
    /* duplicate key */
    bhdr(&b, 3, 0, 2); bstr(&b, "k"); b32(&b, PP_GGUF_U8); pp_buf_putc(&b, 1);
    bstr(&b, "k"); b32(&b, PP_GGUF_U8); pp_buf_putc(&b, 2); REFUSED(b, "duplicate key 'k'");
    /* alignment: not a power of two; not an integer */
    bhdr(&b, 3, 0, 1); bstr(&b, "general.alignment"); b32(&b, PP_GGUF_U32); b32(&b, 24);
    REFUSED(b, "alignment");
    bhdr(&b, 3, 0, 1); bstr(&b, "general.alignment"); b32(&b, PP_GGUF_STR); bstr(&b, "32");
    REFUSED(b, "alignment");
}

TEST(gguf_hostile_tensors) {
    pp_buf b;
    uint64_t ne1[1] = {8}, ne5[5] = {1, 1, 1, 1, 1}, big[3] = {1ull << 32, 1ull << 32, 1ull << 32};
    /* n_dims 5, n_dims 0 */
    bhdr(&b, 3, 1, 0); btensor(&b, "t", 5, ne5, PP_GGML_F32, 0); bdata(&b, 64); REFUSED(b, "n_dims 5");
    bhdr(&b, 3, 1, 0); btensor(&b, "t", 0, ne1, PP_GGML_F32, 0); bdata(&b, 64); REFUSED(b, "n_dims 0");
    /* element count overflow; a zero dimension */
    bhdr(&b, 3, 1, 0); btensor(&b, "t", 3, big, PP_GGML_F32, 0); bdata(&b, 64); REFUSED(b, "overflows");
    bhdr(&b, 3, 1, 0); btensor(&b, "t", 1, (uint64_t[]){0}, PP_GGML_F32, 0); bdata(&b, 64);
    REFUSED(b, "out of range");
    /* size overflow: 2^62 elements of f32 = 2^64 bytes */
    bhdr(&b, 3, 1, 0); btensor(&b, "t", 2, (uint64_t[]){1ull << 31, 1ull << 31}, PP_GGML_F32, 0);
    bdata(&b, 64); REFUSED(b, "outside");
    /* unknown and removed ggml types */
    bhdr(&b, 3, 1, 0); btensor(&b, "t", 1, ne1, 99, 0); bdata(&b, 64); REFUSED(b, "unknown ggml type 99");
    bhdr(&b, 3, 1, 0); btensor(&b, "t", 1, ne1, 4, 0); bdata(&b, 64); REFUSED(b, "unknown ggml type 4");
    /* ne[0] not a multiple of the block */
    bhdr(&b, 3, 1, 0); btensor(&b, "t", 1, (uint64_t[]){100}, PP_GGML_Q4_K, 0); bdata(&b, 256);
    REFUSED(b, "multiple of the q4_K block");
    /* misaligned, out of range, wrapping offsets */
    bhdr(&b, 3, 1, 0); btensor(&b, "t", 1, ne1, PP_GGML_F32, 4); bdata(&b, 64);
    REFUSED(b, "not a multiple of the alignment");
    bhdr(&b, 3, 1, 0); btensor(&b, "t", 1, ne1, PP_GGML_F32, 1ull << 40); bdata(&b, 64);
    REFUSED(b, "outside");
    bhdr(&b, 3, 1, 0); btensor(&b, "t", 1, ne1, PP_GGML_F32, ~0ull - 31); bdata(&b, 64);
    REFUSED(b, "outside");
    bhdr(&b, 3, 1, 0); btensor(&b, "t", 1, ne1, PP_GGML_F32, 32); bdata(&b, 48);   /* ends 16 past */
    REFUSED(b, "outside");
    /* overlap, duplicate name */
    bhdr(&b, 3, 2, 0); btensor(&b, "t", 1, ne1, PP_GGML_F32, 0);
    btensor(&b, "u", 1, (uint64_t[]){16}, PP_GGML_F32, 0); bdata(&b, 64); REFUSED(b, "overlap");
    bhdr(&b, 3, 2, 0); btensor(&b, "t", 1, ne1, PP_GGML_F32, 0);
    btensor(&b, "t", 1, ne1, PP_GGML_F32, 32); bdata(&b, 64); REFUSED(b, "duplicate tensor name");
    /* names: empty, 65 bytes */
    bhdr(&b, 3, 1, 0); btensor(&b, "", 1, ne1, PP_GGML_F32, 0); bdata(&b, 64); REFUSED(b, "name length");
    char longname[66];
    memset(longname, 'n', 65);
    longname[65] = 0;
    bhdr(&b, 3, 1, 0); btensor(&b, longname, 1, ne1, PP_GGML_F32, 0); bdata(&b, 64);
    REFUSED(b, "name length 65");
    /* data section starting past the end */
    bhdr(&b, 3, 1, 0); btensor(&b, "t", 1, ne1, PP_GGML_F32, 0); pp_buf_putc(&b, 0);
    REFUSED(b, "truncated");
    /* and the control: the same shape, well formed, opens */
    bhdr(&b, 3, 1, 0); btensor(&b, "t", 1, ne1, PP_GGML_F32, 0); bdata(&b, 32);
    pp_gguf *g;
    CHECK_OK(open_copy(b.p, b.len, &g, NULL));
    CHECK_EQ(pp_gguf_tensor_at(g, 0)->size, 32);
    pp_gguf_close(g);
    pp_buf_free(&b);
}

TEST(gguf_int_getters_accept_every_width) {
    pp_buf b;
    bhdr(&b, 3, 0, 7);
    bstr(&b, "a"); b32(&b, PP_GGUF_U8); pp_buf_putc(&b, (char)250);
    bstr(&b, "b"); b32(&b, PP_GGUF_I8); pp_buf_putc(&b, (char)-5);
    bstr(&b, "c"); b32(&b, PP_GGUF_U16); b32(&b, 0); b.len -= 2; b.p[b.len - 2] = (char)0x34; b.p[b.len - 1] = 0x12;
    bstr(&b, "d"); b32(&b, PP_GGUF_I64); b64(&b, (uint64_t)-7);
    bstr(&b, "e"); b32(&b, PP_GGUF_U64); b64(&b, ~0ull);
    bstr(&b, "f"); b32(&b, PP_GGUF_U32); b32(&b, 2048);
    bstr(&b, "g"); b32(&b, PP_GGUF_U8); pp_buf_putc(&b, 1);
    pp_gguf *g;
    char *detail = NULL;
    CHECK_OK(open_copy(b.p, b.len, &g, &detail));
    int64_t k;
    uint64_t u;
    uint32_t u32;
    double f;
    int bv;
    CHECK_OK(pp_gguf_get_int(g, "a", &k)); CHECK_EQ(k, 250);
    CHECK_OK(pp_gguf_get_int(g, "b", &k)); CHECK_EQ(k, -5);
    CHECK_OK(pp_gguf_get_int(g, "c", &k)); CHECK_EQ(k, 0x1234);
    CHECK_OK(pp_gguf_get_int(g, "d", &k)); CHECK_EQ(k, -7);
    CHECK_EQ(pp_gguf_get_uint(g, "d", &u), PARAPET_ERR_FORMAT);     /* negative */
    CHECK_EQ(pp_gguf_get_int(g, "e", &k), PARAPET_ERR_FORMAT);      /* > INT64_MAX */
    CHECK_OK(pp_gguf_get_uint(g, "e", &u)); CHECK(u == ~0ull);
    CHECK_EQ(pp_gguf_get_u32(g, "e", &u32), PARAPET_ERR_FORMAT);
    CHECK_OK(pp_gguf_get_u32(g, "f", &u32)); CHECK_EQ(u32, 2048);
    CHECK_OK(pp_gguf_get_u32(g, "a", &u32)); CHECK_EQ(u32, 250);
    CHECK_OK(pp_gguf_get_float(g, "f", &f)); CHECK_NEAR(f, 2048, 0);
    CHECK_OK(pp_gguf_get_bool(g, "g", &bv)); CHECK_EQ(bv, 1);
    CHECK_EQ(pp_gguf_get_bool(g, "a", &bv), PARAPET_ERR_FORMAT);
    pp_gguf_close(g);
    pp_buf_free(&b);
}

TEST(gguf_writer_refuses_what_the_reader_would) {
    pp_gguf_writer *w = pp_gguf_writer_new(32);
    CHECK(w != NULL);
    CHECK_OK(pp_gguf_w_u32(w, "k", 1));
    CHECK_EQ(pp_gguf_w_u32(w, "k", 2), PARAPET_ERR_ARG);                       /* duplicate */
    CHECK_EQ(pp_gguf_w_tensor(w, "t", PP_GGML_Q4_K, 1, (uint64_t[]){100}), PARAPET_ERR_ARG);
    CHECK_EQ(pp_gguf_w_tensor(w, "t", 99, 1, (uint64_t[]){8}), PARAPET_ERR_ARG);
    CHECK_EQ(pp_gguf_w_tensor(w, "t", PP_GGML_F32, 5, (uint64_t[]){1, 1, 1, 1, 1}), PARAPET_ERR_ARG);
    CHECK_OK(pp_gguf_w_tensor(w, "t", PP_GGML_F32, 1, (uint64_t[]){8}));
    CHECK_EQ(pp_gguf_w_tensor(w, "t", PP_GGML_F32, 1, (uint64_t[]){8}), PARAPET_ERR_ARG);
    CHECK_OK(pp_gguf_w_begin(w, NULL));
    CHECK_EQ(pp_gguf_w_u32(w, "late", 1), PARAPET_ERR_ARG);
    float x[9] = {0};
    CHECK_EQ(pp_gguf_w_data(w, x, sizeof x), PARAPET_ERR_ARG);                 /* too much */
    void *mem;
    size_t len;
    CHECK_EQ(pp_gguf_w_finish(w, &mem, &len), PARAPET_ERR_ARG);                /* incomplete */
    CHECK_OK(pp_gguf_w_data(w, x, 32));
    CHECK_OK(pp_gguf_w_finish(w, &mem, &len));
    pp_gguf_writer_free(w);
    pp_gguf *g;
    CHECK_OK(pp_gguf_open_mem(mem, len, &g, NULL));
    CHECK_EQ(pp_gguf_tensor_count(g), 1);
    pp_gguf_close(g);
    pp_free(mem);
}

TEST(gguf_open_file_errors) {
    pp_gguf *g;
    char *detail = NULL;
    CHECK_EQ(pp_gguf_open_file("/nonexistent/x.gguf", &g, &detail), PARAPET_ERR_NOT_FOUND);
    CHECK(detail && strstr(detail, "/nonexistent/x.gguf"));
    pp_free(detail);
    detail = NULL;
    char path[] = "/tmp/pp_gguf_testXXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    CHECK_EQ(pp_gguf_open_file(path, &g, &detail), PARAPET_ERR_FORMAT);        /* empty */
    CHECK(detail && strstr(detail, path) && strstr(detail, "empty"));
    pp_free(detail);
    /* a valid file through the mmap path */
    void *mem;
    size_t len;
    CHECK_OK(sample_file(&mem, &len));
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(mem, 1, len, f) == len);
    fclose(f);
    pp_free(mem);
    CHECK_OK(pp_gguf_open_file(path, &g, NULL));
    CHECK_EQ(pp_gguf_tensor_count(g), 4);
    CHECK_EQ((uintptr_t)pp_gguf_tensor_find(g, "d")->data % 32, 0);   /* mmap is page aligned */
    pp_gguf_close(g);
    unlink(path);
}

TEST(gguf_open_cleans_up_when_allocation_fails) {
    void *mem;
    size_t len;
    CHECK_OK(sample_file(&mem, &len));
    int succeeded = 0;
    for (long n = 0; n < 40 && !succeeded; n++) {
        pp_gguf *g = NULL;
        char *detail = NULL;
        pp_alloc_fail_after(n);
        pp_status st = pp_gguf_open_mem(mem, len, &g, &detail);
        pp_alloc_fail_after(-1);
        CHECK_MSG(st == PARAPET_OK || st == PARAPET_ERR_NOMEM, "n=%ld: status %d", n, (int)st);
        if (st == PARAPET_OK) {
            succeeded = 1;
            CHECK_EQ(pp_gguf_tensor_count(g), 4);
        }
        pp_gguf_close(g);
        pp_free(detail);
    }
    CHECK(succeeded);   /* (leaks on the failing paths show up under make asan) */
    pp_free(mem);
}

/* ---------------------------------------------------------------- synth ---- */

/* A small byte-level BPE tokenizer.json: ids 0..299 plus two added tokens at 300 and
** 302 (301 left as a hole), merges in both the string and the pair form. */
static int write_tokenizer(const char *path) {
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fputs("{\"added_tokens\":[{\"id\":300,\"content\":\"<|begin_of_text|>\",\"special\":true},"
          "{\"id\":302,\"content\":\"<|eot_id|>\",\"special\":true}],"
          "\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"Regex\":\"\\\\p{L}+|\\\\p{N}{1,3}\"}},"
          "\"model\":{\"type\":\"BPE\",\"vocab\":{", f);
    for (int i = 0; i < 300; i++) fprintf(f, "%s\"t%d\":%d", i ? "," : "", i, i);
    fputs("},\"merges\":[\"t 1\",[\"t\",\"2\"]]}}", f);
    return fclose(f);
}

TEST(gguf_synth_tiny_q4_k_m_mix) {
    char tok[] = "/tmp/pp_tokXXXXXX", out[] = "/tmp/pp_synthXXXXXX";
    int fd = mkstemp(tok);
    CHECK(fd >= 0);
    close(fd);
    fd = mkstemp(out);
    CHECK(fd >= 0);
    close(fd);
    CHECK_EQ(write_tokenizer(tok), 0);
    char *detail = NULL;
    parapet_status st = parapet_model_synth("tiny", "q4_k_m", tok, 42, out, &detail);
    CHECK_MSG(st == PARAPET_OK, "synth: %s", detail ? detail : "?");
    pp_gguf *g;
    CHECK_OK(pp_gguf_open_file(out, &g, NULL));
    /* Tied tiny shape, 2 layers: use_more_bits(i, 2) holds for layer 1 only
    ** (i >= 7*2/8 = 1), so Q6_K = token_embd + blk.1.attn_v + blk.1.ffn_down; the
    ** other 7*2 - 2 matrices are Q4_K; 2 norms per layer + output_norm + rope_freqs F32. */
    size_t cnt[PP_GGML_TYPE_LIMIT] = {0};
    for (size_t i = 0; i < pp_gguf_tensor_count(g); i++) cnt[pp_gguf_tensor_at(g, i)->type]++;
    CHECK_EQ(cnt[PP_GGML_Q6_K], 3);
    CHECK_EQ(cnt[PP_GGML_Q4_K], 12);
    CHECK_EQ(cnt[PP_GGML_F32], 6);
    CHECK_EQ(pp_gguf_tensor_count(g), 21);
    CHECK_EQ(pp_gguf_tensor_find(g, "blk.1.attn_v.weight")->type, PP_GGML_Q6_K);
    CHECK_EQ(pp_gguf_tensor_find(g, "blk.0.attn_v.weight")->type, PP_GGML_Q4_K);
    CHECK(pp_gguf_tensor_find(g, "output.weight") == NULL);
    const pp_gguf_tensor *e = pp_gguf_tensor_find(g, "token_embd.weight");
    CHECK(e && e->ne[0] == 256 && e->ne[1] == 303);
    const pp_gguf_tensor *k = pp_gguf_tensor_find(g, "blk.0.attn_k.weight");
    CHECK(k && k->ne[0] == 256 && k->ne[1] == 2 * 32);
    /* weights dequantize to about N(0, 0.02) */
    static float row[256];
    double s2 = 0;
    for (int r = 0; r < 8; r++) {
        CHECK_OK(pp_dequantize_row(k->type, (const uint8_t *)k->data + r * 144, row, 256));
        for (int j = 0; j < 256; j++) { CHECK(isfinite(row[j])); s2 += row[j] * row[j]; }
    }
    CHECK_NEAR(sqrt(s2 / (8 * 256)), 0.02, 0.004);
    /* llama3 rope factors: first 1 (high frequency), last = factor 32 (low) */
    const pp_gguf_tensor *rf = pp_gguf_tensor_find(g, "rope_freqs.weight");
    CHECK(rf && rf->ne[0] == 16);
    CHECK_NEAR(((const float *)rf->data)[0], 1.0, 0);
    CHECK_NEAR(((const float *)rf->data)[15], 32.0, 0);
    /* tokenizer metadata */
    pp_gguf_value a;
    CHECK_OK(pp_gguf_get_arr(g, "tokenizer.ggml.tokens", &a));
    CHECK_EQ(a.count, 303);
    pp_gguf_str_iter it;
    const char *s;
    size_t n;
    pp_gguf_str_iter_init(&it, &a);
    for (int i = 0; i <= 301; i++) CHECK(pp_gguf_str_iter_next(&it, &s, &n));
    CHECK(n == 8 && !memcmp(s, "[PAD301]", 8));
    CHECK_OK(pp_gguf_get_arr(g, "tokenizer.ggml.merges", &a));
    pp_gguf_str_iter_init(&it, &a);
    CHECK(pp_gguf_str_iter_next(&it, &s, &n) && n == 3 && !memcmp(s, "t 1", 3));
    CHECK(pp_gguf_str_iter_next(&it, &s, &n) && n == 3 && !memcmp(s, "t 2", 3));
    CHECK_OK(pp_gguf_get_arr(g, "tokenizer.ggml.token_type", &a));
    int64_t tt;
    CHECK_OK(pp_gguf_value_int(&a, 300, &tt)); CHECK_EQ(tt, 3);
    CHECK_OK(pp_gguf_value_int(&a, 301, &tt)); CHECK_EQ(tt, 5);
    CHECK_OK(pp_gguf_value_int(&a, 5, &tt)); CHECK_EQ(tt, 1);
    pp_gguf_close(g);

    /* the public API's JSON summary */
    parapet_model *m;
    CHECK_OK(parapet_model_open(out, &m, NULL));
    char *js;
    size_t jl;
    CHECK_OK(parapet_model_info_json(m, &js, &jl));
    parapet_model_close(m);
    json_error_t jerr;
    json_t *root = json_loadb(js, jl, 0, &jerr);
    parapet_free(js);
    CHECK(root != NULL);
    json_t *shape = json_object_get(root, "shape"), *tk = json_object_get(root, "tokenizer");
    CHECK_STR(json_string_value(json_object_get(root, "architecture")), "llama");
    CHECK_EQ(json_integer_value(json_object_get(shape, "n_layer")), 2);
    CHECK_EQ(json_integer_value(json_object_get(shape, "n_head_kv")), 2);
    CHECK_EQ(json_integer_value(json_object_get(shape, "n_vocab")), 303);
    CHECK_STR(json_string_value(json_object_get(tk, "pre")), "llama-bpe");
    CHECK_EQ(json_integer_value(json_object_get(tk, "bos_id")), 300);
    CHECK_EQ(json_integer_value(json_object_get(tk, "eos_id")), 302);
    CHECK_STR(json_string_value(json_object_get(root, "file_type")), "Q4_K_M");
    CHECK(json_is_true(json_object_get(root, "tied_embeddings")));
    json_t *types = json_object_get(root, "types");
    CHECK_EQ(json_array_size(types), 3);
    json_decref(root);

    /* bad arguments */
    CHECK_EQ(parapet_model_synth("huge", "q4_k_m", tok, 1, out, NULL), PARAPET_ERR_ARG);
    CHECK_EQ(parapet_model_synth("tiny", "q3", tok, 1, out, NULL), PARAPET_ERR_ARG);
    CHECK_EQ(parapet_model_synth("tiny", "f16", "/nonexistent.json", 1, out, NULL),
             PARAPET_ERR_NOT_FOUND);
    unlink(tok);
    unlink(out);
}
