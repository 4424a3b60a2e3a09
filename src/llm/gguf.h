/*
** gguf.h -- reading and writing GGUF model files.
**
** Part of the guard-model engine (src/llm): the first thing that touches a model file,
** and the only code that parses its bytes.  A model file is untrusted input (it is
** downloaded, and a server may be pointed at any path), so the reader validates the
** whole header at open -- every count, length, offset, type and shape, with
** overflow-checked arithmetic, against the size of the file -- and afterwards hands
** out only pointers it has already proven to lie inside the mapping.  A truncated,
** oversized or hostile file gives PARAPET_ERR_FORMAT with a detail naming what is
** wrong and at which byte offset; never a crash or an out-of-bounds read.
**
** Zero copy: the file is mmap'ed read-only and tensor data, string values and arrays
** are returned as pointers into it.  The only copies are the key and tensor-name
** strings (NUL-terminated, for convenient lookups) and two hash indexes.
** The one thing the reader cannot guard against is another process truncating the
** file while it is mapped (the kernel then raises SIGBUS); model files are treated
** as immutable while open.
**
** Format summary and the exact rules enforced: docs/gguf.md.
*/
#ifndef PP_GGUF_H
#define PP_GGUF_H

#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include "core/core.h"
#include "llm/ggml_types.h"

/* GGUF metadata value types (u32 in the file). */
typedef enum pp_gguf_vtype {
    PP_GGUF_U8 = 0, PP_GGUF_I8 = 1, PP_GGUF_U16 = 2, PP_GGUF_I16 = 3,
    PP_GGUF_U32 = 4, PP_GGUF_I32 = 5, PP_GGUF_F32 = 6, PP_GGUF_BOOL = 7,
    PP_GGUF_STR = 8, PP_GGUF_ARR = 9, PP_GGUF_U64 = 10, PP_GGUF_I64 = 11,
    PP_GGUF_F64 = 12,
    PP_GGUF_VTYPE_COUNT = 13
} pp_gguf_vtype;

/* Name of a value type ("u32", "string", "array", ...; "?" if unknown). */
const char *pp_gguf_vtype_name(uint32_t t);
/* Bytes of one scalar of type t (0 for string, array and unknown types). */
size_t pp_gguf_vtype_size(uint32_t t);

#define PP_GGUF_DEFAULT_ALIGNMENT 32
#define PP_GGUF_MAX_DIMS 4
#define PP_GGUF_MAX_NAME 64          /* bytes in a tensor name */
#define PP_GGUF_MAX_KEY 65535        /* bytes in a key */
#define PP_GGUF_MAX_ARRAY_DEPTH 4    /* arrays of arrays, at most this deep */

/* ================================================================= reader ==== */

typedef struct pp_gguf pp_gguf;

/* One tensor, as validated at open.  All pointers live as long as the pp_gguf. */
typedef struct pp_gguf_tensor {
    const char *name;                 /* NUL-terminated copy, <= 64 bytes */
    uint32_t type;                    /* pp_ggml_type, known to ggml_types.c */
    uint32_t n_dims;                  /* 1..4 */
    uint64_t ne[PP_GGUF_MAX_DIMS];    /* elements per dim, ne[0] contiguous; 1 past n_dims */
    uint64_t n_elements;
    uint64_t offset;                  /* byte offset of the data from the start of the file */
    uint64_t size;                    /* bytes of data */
    const void *data;                 /* into the mapping: [data, data+size) is in the file */
} pp_gguf_tensor;

/* Opens and validates a GGUF file: mmap'ed read-only.  On success *out owns the
** mapping; close with pp_gguf_close.  Errors: PARAPET_ERR_NOT_FOUND / _IO (the file),
** PARAPET_ERR_FORMAT (its contents), PARAPET_ERR_NOMEM.  *detail (may be NULL) gets a
** message the caller frees with pp_free. */
pp_status pp_gguf_open_file(const char *path, pp_gguf **out, char **detail);

/* The same over bytes in memory (for the fuzzer and tests).  The buffer is borrowed:
** it must stay unchanged and alive until pp_gguf_close.  It need not be aligned; then
** tensor data is not aligned either (the file's alignment is relative to its start). */
pp_status pp_gguf_open_mem(const void *data, size_t len, pp_gguf **out, char **detail);

void pp_gguf_close(pp_gguf *g);  /* NULL is fine */

uint32_t pp_gguf_version(const pp_gguf *g);
uint64_t pp_gguf_file_size(const pp_gguf *g);
uint64_t pp_gguf_data_offset(const pp_gguf *g);   /* start of the tensor data section */
uint32_t pp_gguf_alignment(const pp_gguf *g);
const void *pp_gguf_base(const pp_gguf *g);       /* the mapping / buffer */
int pp_gguf_is_mapped(const pp_gguf *g);          /* 1: a read-only file mapping */

/* ------------------------------------------------------------- metadata ---- */

/* A value as found in the file.  For arrays, `type` is PP_GGUF_ARR and elem_type/count
** describe the elements; `data` points at the first element.  For strings, `data`
** points at the bytes (not NUL-terminated) and `size` is their length.  For scalars,
** `data` points at the little-endian value.  `size` is always the exact byte extent
** of the value (or of the array's elements), all inside the file. */
typedef struct pp_gguf_value {
    uint32_t type;
    uint32_t elem_type;     /* arrays only */
    uint64_t count;         /* arrays only */
    const uint8_t *data;
    uint64_t size;
} pp_gguf_value;

size_t pp_gguf_kv_count(const pp_gguf *g);
/* The i-th key (NUL-terminated copy) and its value, in file order. */
const char *pp_gguf_kv_key(const pp_gguf *g, size_t i);
void pp_gguf_kv_value(const pp_gguf *g, size_t i, pp_gguf_value *v);
/* Index of `key`, or -1. */
long pp_gguf_find(const pp_gguf *g, const char *key);

/* Typed getters by key.  They return PARAPET_OK, PARAPET_ERR_NOT_FOUND when the key
** is absent, or PARAPET_ERR_FORMAT when its type does not fit (out is then untouched).
**   get_int: any integer type u8..i64 (u64 above INT64_MAX does not fit);
**   get_uint: any integer type whose value is >= 0; get_u32: same, <= UINT32_MAX;
**   get_float: f32, f64, or any integer; get_bool: bool, or an integer 0/1;
**   get_str: a string, returned as pointer + length into the file (not NUL-terminated);
**   get_arr: an array (elem_type may be anything, PP_GGUF_ARR included). */
pp_status pp_gguf_get_int(const pp_gguf *g, const char *key, int64_t *out);
pp_status pp_gguf_get_uint(const pp_gguf *g, const char *key, uint64_t *out);
pp_status pp_gguf_get_u32(const pp_gguf *g, const char *key, uint32_t *out);
pp_status pp_gguf_get_float(const pp_gguf *g, const char *key, double *out);
pp_status pp_gguf_get_bool(const pp_gguf *g, const char *key, int *out);
pp_status pp_gguf_get_str(const pp_gguf *g, const char *key, const char **s, size_t *len);
pp_status pp_gguf_get_arr(const pp_gguf *g, const char *key, pp_gguf_value *out);

/* Element i of a numeric array (or a scalar value when i == 0), converted as the
** getters above convert.  PARAPET_ERR_ARG if i >= count, PARAPET_ERR_FORMAT if the
** element type does not fit. */
pp_status pp_gguf_value_int(const pp_gguf_value *v, uint64_t i, int64_t *out);
pp_status pp_gguf_value_float(const pp_gguf_value *v, uint64_t i, double *out);

/* Iterates the strings of a string array without copying: each call yields the next
** one as pointer + length into the file.  Bounds are checked on every step (they
** were already proven at open, this is belt and braces).
**     pp_gguf_str_iter it;  const char *s;  size_t n;
**     pp_gguf_str_iter_init(&it, &arr);
**     while (pp_gguf_str_iter_next(&it, &s, &n)) ...                              */
typedef struct pp_gguf_str_iter {
    const uint8_t *p, *end;
    uint64_t left;
} pp_gguf_str_iter;
/* Returns 0, or -1 if v is not an array of strings (the iterator then yields nothing). */
int pp_gguf_str_iter_init(pp_gguf_str_iter *it, const pp_gguf_value *v);
int pp_gguf_str_iter_next(pp_gguf_str_iter *it, const char **s, size_t *len);

/* -------------------------------------------------------------- tensors ---- */

size_t pp_gguf_tensor_count(const pp_gguf *g);
const pp_gguf_tensor *pp_gguf_tensor_at(const pp_gguf *g, size_t i);  /* file order */
const pp_gguf_tensor *pp_gguf_tensor_find(const pp_gguf *g, const char *name); /* or NULL */

/* ================================================================= writer ==== */

/* Builds a GGUF v3 file: first all key/values and tensor declarations, then the
** tensor data in declaration order (possibly in pieces, so multi-GB files stream
** to disk).  The sink is a FILE* or an in-memory buffer.
**
**     pp_gguf_writer *w = pp_gguf_writer_new(32);
**     pp_gguf_w_str(w, "general.architecture", "llama", 5);
**     pp_gguf_w_tensor(w, "x.weight", PP_GGML_F32, 2, (uint64_t[]){4, 2});
**     pp_gguf_w_begin(w, NULL);                 // to memory
**     pp_gguf_w_data(w, floats, 32);
**     pp_gguf_w_finish(w, &bytes, &len);        // caller pp_free's bytes
**     pp_gguf_writer_free(w);
**
** Each call returns PARAPET_OK or an error (PARAPET_ERR_ARG for misuse: duplicate
** keys/names, a shape the reader would refuse, data beyond a tensor; _NOMEM; _IO). */
typedef struct pp_gguf_writer pp_gguf_writer;

pp_gguf_writer *pp_gguf_writer_new(uint32_t alignment); /* power of two; NULL on OOM */
void pp_gguf_writer_free(pp_gguf_writer *w);

pp_status pp_gguf_w_u32(pp_gguf_writer *w, const char *key, uint32_t v);
pp_status pp_gguf_w_i32(pp_gguf_writer *w, const char *key, int32_t v);
pp_status pp_gguf_w_u64(pp_gguf_writer *w, const char *key, uint64_t v);
pp_status pp_gguf_w_f32(pp_gguf_writer *w, const char *key, float v);
pp_status pp_gguf_w_bool(pp_gguf_writer *w, const char *key, int v);
pp_status pp_gguf_w_str(pp_gguf_writer *w, const char *key, const char *s, size_t len);
/* Any scalar type (not string/array): `v` points at the value in host order. */
pp_status pp_gguf_w_scalar(pp_gguf_writer *w, const char *key, uint32_t type, const void *v);
/* An array of n scalars of type elem_type, `data` packed little endian. */
pp_status pp_gguf_w_arr(pp_gguf_writer *w, const char *key, uint32_t elem_type,
                        const void *data, uint64_t n);
/* An array of n strings; lens may be NULL (then strlen). */
pp_status pp_gguf_w_arr_str(pp_gguf_writer *w, const char *key, const char *const *s,
                            const size_t *lens, uint64_t n);

/* Declares a tensor; its data offset follows the previous one, aligned. */
pp_status pp_gguf_w_tensor(pp_gguf_writer *w, const char *name, uint32_t type,
                           uint32_t n_dims, const uint64_t *ne);
/* Bytes of the data of declared tensor i (0 if out of range). */
uint64_t pp_gguf_w_tensor_size(const pp_gguf_writer *w, size_t i);

/* Writes the header to `f` (NULL: to memory).  No more keys or tensors after this. */
pp_status pp_gguf_w_begin(pp_gguf_writer *w, FILE *f);
/* Appends data to the current tensor; a tensor is complete (and padded) when all its
** bytes have come; then the next one starts.  Never crosses a tensor boundary. */
pp_status pp_gguf_w_data(pp_gguf_writer *w, const void *p, size_t n);
/* Checks that every tensor got all its data.  For a memory sink, hands the bytes to
** the caller (*mem, *len; caller frees with pp_free); for a file sink mem/len may be
** NULL and the caller closes the FILE. */
pp_status pp_gguf_w_finish(pp_gguf_writer *w, void **mem, size_t *len);

/* ======================================================== summaries ==== */

/* (model_api.c) A summary of a GGUF model: architecture, shapes, types, tokenizer,
** chat template.  json != 0 gives one JSON object, else readable text.  `label`
** names the file in the output (may be NULL).  *out is NUL-terminated; caller frees
** with pp_free. */
pp_status pp_gguf_summary(const pp_gguf *g, const char *label, int json, char **out,
                          size_t *len);

#endif
