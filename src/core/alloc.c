/*
** alloc.c -- the one allocation hook every part of libparapet goes through.
**
** The hook is a pair of function pointers set by parapet_set_allocator (default:
** the C library).  A fail-after counter lets tests make allocation N fail; it is an
** atomic so the hook stays correct when several threads allocate.
*/
#include "core.h"
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *default_realloc(void *ud, void *p, size_t n) { (void)ud; return realloc(p, n); }
static void default_free(void *ud, void *p) { (void)ud; free(p); }

static parapet_realloc_fn g_realloc = default_realloc;
static parapet_free_fn g_free = default_free;
static void *g_ud;

static _Atomic long g_fail_after = -1; /* -1: never fail */
static _Atomic long g_count;

void parapet_set_allocator(parapet_realloc_fn r, parapet_free_fn f, void *ud) {
    if (r && f) { g_realloc = r; g_free = f; g_ud = ud; }
    else { g_realloc = default_realloc; g_free = default_free; g_ud = NULL; }
}

long pp_alloc_fail_after(long n) {
    long c = atomic_exchange(&g_count, 0);
    atomic_store(&g_fail_after, n);
    return c;
}

static int injected_failure(void) {
    atomic_fetch_add(&g_count, 1);
    long f = atomic_load(&g_fail_after);
    if (f < 0) return 0;
    if (f == 0) return 1;
    /* Decrement; if another thread raced us to zero we fail too, which is fine. */
    return atomic_fetch_sub(&g_fail_after, 1) <= 0;
}

void *pp_malloc(size_t n) {
    if (injected_failure()) return NULL;
    return g_realloc(g_ud, NULL, n ? n : 1);
}

void *pp_calloc(size_t n, size_t sz) {
    if (sz && n > SIZE_MAX / sz) return NULL;
    void *p = pp_malloc(n * sz);
    size_t total = n * sz;
    if (p) memset(p, 0, total ? total : 1);
    return p;
}

void *pp_realloc(void *p, size_t n) {
    if (injected_failure()) return NULL;
    return g_realloc(g_ud, p, n ? n : 1);
}

void pp_free(void *p) {
    if (p) g_free(g_ud, p);
}

void parapet_free(void *p) { pp_free(p); }

char *pp_strndup(const char *s, size_t n) {
    char *d = pp_malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

char *pp_strdup(const char *s) { return s ? pp_strndup(s, strlen(s)) : NULL; }

char *pp_asprintf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return NULL;
    char *d = pp_malloc((size_t)n + 1);
    if (!d) return NULL;
    va_start(ap, fmt);
    vsnprintf(d, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return d;
}

int pp_grow(void **arr, size_t *cap, size_t need, size_t elsz) {
    if (need <= *cap) return 0;
    size_t nc = *cap ? *cap : 8;
    while (nc < need) {
        if (nc > SIZE_MAX / 2 / elsz) return -1;
        nc *= 2;
    }
    void *p = pp_realloc(*arr, nc * elsz);
    if (!p) return -1;
    *arr = p;
    *cap = nc;
    return 0;
}
