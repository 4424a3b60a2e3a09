/*
** cpu.h -- what the CPU and the operating system let the kernels use.
**
** A feature counts only if the CPU reports it (cpuid) AND the OS saves its register
** state on context switches (xgetbv: XCR0), which is how a VM or a kernel built
** without AVX-512 support hides it.  AMX additionally needs the process to ask Linux
** for the tile state (arch_prctl ARCH_REQ_XCOMP_PERM); pp_cpu_amx_enable does that.
** On non-x86 builds every flag is 0.  Detected once; thread-safe after that.
*/
#ifndef PP_CPU_H
#define PP_CPU_H

typedef struct pp_cpu_features {
    int avx2, fma, f16c;                 /* AVX2 kernel set needs all three */
    int avx512f, avx512bw, avx512vl, avx512dq;
    int avx512vnni, avx512bf16;          /* AVX-512 kernel set needs F/BW/VL/VNNI */
    int avxvnni;                         /* VEX-encoded VNNI (Alder Lake and later) */
    int amx_tile, amx_int8, amx_bf16;    /* CPU has AMX and the OS enables its state */
} pp_cpu_features;

/* The features of this machine (static storage, detected on first call). */
const pp_cpu_features *pp_cpu(void);

/* Requests AMX tile state from Linux; 1 if AMX may now be used by this process. */
int pp_cpu_amx_enable(void);

/* "avx2 fma f16c avx512f ..." for logs and `parapet model info` (static storage). */
const char *pp_cpu_describe(void);

#endif
