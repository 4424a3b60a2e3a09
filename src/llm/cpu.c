/*
** cpu.c -- cpuid + xgetbv feature detection and the AMX permission request (cpu.h).
**
** XCR0 bits: 1 SSE, 2 AVX (ymm upper halves), 5-7 AVX-512 (opmask, zmm upper halves,
** zmm16-31), 17-18 AMX (tile config, tile data).  The AMX bits may be set in XCR0
** while Linux still refuses tile use until the process asks (kernel >= 5.16).
*/
#include "llm/cpu.h"

#include <pthread.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#define PP_X86 1
#endif

static pp_cpu_features g_feat;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static char g_desc[256];

#ifdef PP_X86
static unsigned long long xgetbv0(void) {
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}
#endif

static void detect(void) {
    pp_cpu_features f;
    memset(&f, 0, sizeof f);
#ifdef PP_X86
    unsigned a, b, c, d;
    if (__get_cpuid(1, &a, &b, &c, &d)) {
        int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
        unsigned long long xcr0 = osxsave ? xgetbv0() : 0;
        int os_avx = osxsave && avx && (xcr0 & 0x6) == 0x6;
        int os_avx512 = os_avx && (xcr0 & 0xe0) == 0xe0;
        int os_amx = os_avx && (xcr0 & 0x60000) == 0x60000;
        if (os_avx) {
            f.fma = (c >> 12) & 1;
            f.f16c = (c >> 29) & 1;
        }
        if (__get_cpuid_max(0, NULL) >= 7) {
            unsigned a7, b7, c7, d7;
            __cpuid_count(7, 0, a7, b7, c7, d7);
            if (os_avx) f.avx2 = (b7 >> 5) & 1;
            if (os_avx512) {
                f.avx512f = (b7 >> 16) & 1;
                f.avx512dq = (b7 >> 17) & 1;
                f.avx512bw = (b7 >> 30) & 1;
                f.avx512vl = (b7 >> 31) & 1;
                f.avx512vnni = (c7 >> 11) & 1;
            }
            if (os_amx) {
                f.amx_bf16 = (d7 >> 22) & 1;
                f.amx_tile = (d7 >> 24) & 1;
                f.amx_int8 = (d7 >> 25) & 1;
            }
            if (a7 >= 1) {
                unsigned a71, b71, c71, d71;
                __cpuid_count(7, 1, a71, b71, c71, d71);
                if (os_avx) f.avxvnni = (a71 >> 4) & 1;
                if (os_avx512) f.avx512bf16 = (a71 >> 5) & 1;
            }
        }
    }
#endif
    g_feat = f;
    const struct { const char *name; int on; } names[] = {
        {"avx2", f.avx2}, {"fma", f.fma}, {"f16c", f.f16c}, {"avx512f", f.avx512f},
        {"avx512bw", f.avx512bw}, {"avx512vl", f.avx512vl}, {"avx512dq", f.avx512dq},
        {"avx512vnni", f.avx512vnni}, {"avx512bf16", f.avx512bf16}, {"avxvnni", f.avxvnni},
        {"amx-tile", f.amx_tile}, {"amx-int8", f.amx_int8}, {"amx-bf16", f.amx_bf16},
    };
    size_t len = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!names[i].on) continue;
        size_t l = strlen(names[i].name);
        if (len + l + 2 >= sizeof g_desc) break;
        if (len) g_desc[len++] = ' ';
        memcpy(g_desc + len, names[i].name, l);
        len += l;
    }
    g_desc[len] = 0;
}

const pp_cpu_features *pp_cpu(void) {
    pthread_once(&g_once, detect);
    return &g_feat;
}

const char *pp_cpu_describe(void) {
    pp_cpu();
    return g_desc;
}

int pp_cpu_amx_enable(void) {
    const pp_cpu_features *f = pp_cpu();
    if (!f->amx_tile || !f->amx_int8) return 0;
#if defined(PP_X86) && defined(__linux__) && defined(SYS_arch_prctl)
    /* ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18 (asm/prctl.h). */
    return syscall(SYS_arch_prctl, 0x1023, 18) == 0;
#else
    return 0;
#endif
}
