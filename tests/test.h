/*
** test.h -- parapet's tiny test framework.
**
** A test is a function declared with TEST(name); it registers itself at start-up.
** Assertions record a failure (printing both values) and return from the test.
** SKIP("why") marks a test skipped (e.g. ../shared is absent) with its reason.
** The runner (tests/main.c) runs every test, or those whose name or file contains
** an argument, and ends with the line "N passed, N failed, N skipped".
*/
#ifndef PP_TEST_H
#define PP_TEST_H

#include <stdio.h>
#include <string.h>
#include <math.h>

typedef void (*pt_fn)(void);
void pt_register(const char *name, const char *file, pt_fn fn);
void pt_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void pt_skip(const char *why);
int pt_failed(void);
/* Path of ../shared relative to the repository root, or NULL if absent. */
const char *pt_shared_dir(void);

/* A xorshift64 step on *state (non-zero), returning 32 of its bits: the random
** inputs of kernel-against-reference tests, reproducible from the seed. */
static inline unsigned pt_xorshift(unsigned long long *state) {
    unsigned long long x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    return (unsigned)(x >> 20);
}

#define TEST(name)                                                              \
    static void name(void);                                                     \
    __attribute__((constructor)) static void pt_reg_##name(void) {              \
        pt_register(#name, __FILE__, name);                                     \
    }                                                                           \
    static void name(void)

#define CHECK(cond)                                                             \
    do { if (!(cond)) { pt_fail(__FILE__, __LINE__, "CHECK(%s)", #cond); return; } } while (0)
#define CHECK_MSG(cond, ...)                                                    \
    do { if (!(cond)) { pt_fail(__FILE__, __LINE__, __VA_ARGS__); return; } } while (0)
#define CHECK_EQ(a, b)                                                          \
    do { long long pt_a = (long long)(a), pt_b = (long long)(b);                \
         if (pt_a != pt_b) { pt_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", \
                                     #a, #b, pt_a, pt_b); return; } } while (0)
#define CHECK_STR(a, b)                                                         \
    do { const char *pt_a = (a), *pt_b = (b);                                   \
         if (!pt_a || !pt_b || strcmp(pt_a, pt_b)) {                            \
             pt_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a, #b,  \
                     pt_a ? pt_a : "(null)", pt_b ? pt_b : "(null)"); return; } } while (0)
#define CHECK_NEAR(a, b, eps)                                                   \
    do { double pt_a = (a), pt_b = (b);                                         \
         if (!(fabs(pt_a - pt_b) <= (eps))) {                                   \
             pt_fail(__FILE__, __LINE__, "%s ~= %s: %g != %g (eps %g)", #a, #b, \
                     pt_a, pt_b, (double)(eps)); return; } } while (0)
#define CHECK_OK(st)                                                            \
    do { int pt_s = (int)(st);                                                  \
         if (pt_s != 0) { pt_fail(__FILE__, __LINE__, "%s: status %d (%s)", #st, \
                                  pt_s, parapet_strerror((parapet_status)pt_s)); return; } } while (0)
#define SKIP(why) do { pt_skip(why); return; } while (0)

#endif
