/*
** core.h -- the bottom layer: allocation hook, growable buffers, small helpers.
**
** Everything in libparapet allocates through pp_malloc / pp_realloc / pp_free so that
** (1) an embedding application can install its own allocator with
** parapet_set_allocator, and (2) tests can make the N-th allocation fail
** (pp_alloc_fail_after) and check that every error path cleans up.  Nothing here
** depends on any other layer.
*/
#ifndef PP_CORE_H
#define PP_CORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>
#include "parapet.h"

typedef parapet_status pp_status;

/* ---------------------------------------------------------------- allocation */

void *pp_malloc(size_t n);           /* NULL on failure (or injected failure) */
void *pp_calloc(size_t n, size_t sz);/* zeroed; checks n*sz for overflow */
void *pp_realloc(void *p, size_t n); /* like realloc; on failure p is untouched */
void pp_free(void *p);               /* NULL is fine */
char *pp_strdup(const char *s);
char *pp_strndup(const char *s, size_t n);
/* Formats into a fresh buffer (caller pp_free), NULL on failure. */
char *pp_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Test hook: after `n` more successful allocations, every allocation fails until
** reset with n = -1.  Returns the number of allocations made since the last call. */
long pp_alloc_fail_after(long n);

/* ----------------------------------------------------------- growable buffer */

/* A byte buffer that grows by doubling; always NUL-terminated when len > 0 or after
** pp_buf_cstr.  The struct may live on the stack; pp_buf_free releases the heap
** part.  Once a growth fails the buffer is marked failed (oom=1), further appends
** are ignored, and the caller checks oom once at the end. */
typedef struct pp_buf {
    char *p;
    size_t len, cap;
    int oom;
} pp_buf;

void pp_buf_init(pp_buf *b);
void pp_buf_free(pp_buf *b);
int pp_buf_reserve(pp_buf *b, size_t extra); /* 0 on success */
void pp_buf_put(pp_buf *b, const void *s, size_t n);
void pp_buf_puts(pp_buf *b, const char *s);
void pp_buf_putc(pp_buf *b, char c);
void pp_buf_printf(pp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s[0..n) as the body of a JSON string (no quotes), escaping as needed.
** Invalid UTF-8 is written as U+FFFD so the output is always valid JSON. */
void pp_buf_json_str(pp_buf *b, const char *s, size_t n);
/* Appends a JSON number for a double in [0,1]-ish ranges, compactly ("0.0123"). */
void pp_buf_json_num(pp_buf *b, double v);
/* Hands the heap buffer to the caller (NUL-terminated; never NULL unless oom) and
** resets b.  Returns NULL if the buffer had failed. */
char *pp_buf_detach(pp_buf *b, size_t *len);

/* ------------------------------------------------------------------- arrays */

/* Grows an array of elements of size `elsz` so it holds at least `need`; returns 0 on
** success.  *cap is in elements. */
int pp_grow(void **arr, size_t *cap, size_t need, size_t elsz);
#define PP_GROW(arr, cap, need) pp_grow((void **)&(arr), &(cap), (need), sizeof(*(arr)))

/* ------------------------------------------------------------------- hashing */

/* SHA-256 of data, written as 64 lowercase hex chars plus NUL into hex[65]. */
void pp_sha256_hex(const void *data, size_t n, char hex[65]);
/* Streaming SHA-256 for data that arrives in pieces (a model file, a download). */
typedef struct pp_sha256 {
    uint32_t h[8];
    unsigned char buf[64];
    size_t nbuf;      /* bytes waiting in buf, < 64 */
    uint64_t total;   /* bytes hashed so far */
} pp_sha256;
void pp_sha256_init(pp_sha256 *s);
void pp_sha256_update(pp_sha256 *s, const void *data, size_t n);
/* Writes 64 lowercase hex digits and a NUL; re-initialise s to reuse it. */
void pp_sha256_final_hex(pp_sha256 *s, char hex[65]);
/* 64-bit FNV-1a-style hash for hash tables (not for security).  The offset basis is
** one digit short of the standard one; it stays, because the classifier's
** train/dev split (src/classify/data.c) is keyed on it and `make model` must keep
** reproducing the shipped model bit for bit. */
static inline uint64_t pp_fnv1a(const void *data, size_t n) {
    const unsigned char *p = (const unsigned char *)data;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) { h ^= p[i]; h *= 1099511628211ull; }
    return h;
}

/* 0x80 in each zero byte of x, 0 elsewhere -- exactly: no borrow reaches a byte that
** is not zero (the scanners' eight-bytes-at-a-time tests). */
static inline uint64_t pp_zero_bytes(uint64_t x) {
    const uint64_t low7 = 0x7F7F7F7F7F7F7F7Full;
    return ~(((x & low7) + low7) | x) & 0x8080808080808080ull;
}

/* ---------------------------------------------------------------- files/time */

/* Reads a whole file into a NUL-terminated heap buffer.  Refuses files larger than
** max_bytes (PARAPET_ERR_TOO_LARGE).  errno-style detail in *detail on failure. */
pp_status pp_read_file(const char *path, size_t max_bytes, char **out, size_t *len,
                       char **detail);
/* Maps a regular file read-only (model files: zero-copy, validated by the caller).
** On success *data and *len describe the mapping; an empty file gives len 0 and a
** non-NULL pointer to nothing.  Errors name the path in *detail (caller frees). */
pp_status pp_map_file(const char *path, const void **data, size_t *len, char **detail);
/* Releases a mapping from pp_map_file (len 0: nothing to release). */
void pp_unmap_file(const void *data, size_t len);

/* Monotonic clock in nanoseconds. */
uint64_t pp_now_ns(void);

/* -------------------------------------------------------------- embedded data */

/* Files compiled into the library (lexicons, default policy), by path relative to the
** repository root, e.g. "policies/default.yaml".  NULL if absent. */
typedef struct pp_blob {
    const char *name;
    const unsigned char *data;
    size_t len;
} pp_blob;
const pp_blob *pp_embedded_find(const char *name);
/* All embedded blobs; terminated by an entry with name == NULL. */
const pp_blob *pp_embedded_all(void);

#define PP_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define PP_MIN(a, b) ((a) < (b) ? (a) : (b))
#define PP_MAX(a, b) ((a) > (b) ? (a) : (b))

#endif
