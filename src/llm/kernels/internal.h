/*
** internal.h -- what the kernel files share: activation layouts, the packed weight
** panel, and the per-ISA function table.  Not for use outside src/llm/kernels and
** its tests.
**
** Activations.  pp_gemm quantizes each activation row once into the work buffer:
**   Q8_0 rows: k/32 pp_act_q8_0 blocks  (d, sum of the 32 q, q)
**   Q8_K rows: k/256 pp_act_q8_K blocks (d, sums of each 16 and each 32 q, q)
**   BF16 rows: k uint16 bf16 values, padded with a zero to an even count
**   F32/F16 weights use X as it is.
** The sums let the kernels correct for the unsigned offsets below without touching
** the activations again (llama.cpp's bsums, B.4).
**
** Panels.  The SIMD kernels want one vector to hold the same 4 k-positions of 16
** different weight rows, so one vpdpbusd with a broadcast activation dword advances
** 16 dot products; GGUF stores rows one after another.  So before the token loop each
** thread repacks 16 rows at a time into a panel in its slice of the work buffer (a
** few dword shuffles per block, paid once per 16 rows and shared by all n tokens):
**
**   integer types, per weight block b:
**     u8  q[QB/4][16][4]   unsigned quants, one per byte: Q8_0 q+128, Q5_K 0..31,
**                          Q6_K 0..63 (QB = block size)
**     u8  q[QB/8][16][4]   Q4_0 and Q4_K: the file's nibble pairs as they are (dword i
**                          of a row; the kernels split low and high nibbles: Q4_0
**                          dword i = elements 4i.. low, 16+4i.. high; Q4_K dword 8g+i =
**                          64g+4i.. low, 64g+32+4i.. high), half the bytes
**     i32 sc[NS][16]       K types: sub-block scales (NS = 8 for Q4/5_K, 16 for Q6_K)
**     i16 mn[NS/2][16][2]  K types: min terms, pairs of sub-blocks (Q4/5_K: m_j,
**                          Q6_K: 32*sc_j, the -32 offset), for vpdpwssd with sums
**     f32 d[16], dmin[16]  scales (dmin only for Q4/5_K; Q8_0/Q4_0 only d)
**   float types: f32 w[k][16] (F32), f16 w[k][16] (F16), or bf16 pairs
**   u16 w[k/2][16][2] (BF16).
** Rows past the end of the matrix are packed as zeros.
**
** A panel depends on the weights only, so a matrix can be packed once (pp_pack_matrix,
** at model load) and multiplied many times (pp_gemm_packed); the per-call path packs
** each panel into scratch just before using it.  The layout is the same for every
** SIMD set, so a packed matrix serves whichever one is active.
*/
#ifndef PP_KERNELS_INTERNAL_H
#define PP_KERNELS_INTERNAL_H

#include "llm/kernels/kernels.h"

#define PP_PANEL 16   /* weight rows per panel */
#define PP_PANEL_Q4K_QS 2048   /* quant bytes of a Q4_K panel block (16 rows x 128) */

typedef struct pp_act_q8_0 {
    float d;          /* fp16-rounded scale, as llama.cpp's block_q8_0 */
    int32_t sum;      /* sum of qs */
    int8_t qs[32];
} pp_act_q8_0;

typedef struct pp_act_q8_K {
    float d;
    int16_t bsum16[16];   /* sum of each 16 qs */
    int16_t bsum32[8];    /* sum of each 32 qs */
    int8_t qs[256];
} pp_act_q8_K;

_Static_assert(sizeof(pp_act_q8_0) == 40, "act q8_0");
_Static_assert(sizeof(pp_act_q8_K) == 308, "act q8_K");

/* Activation rows: quantize k floats (k a multiple of the block) into dst. */
void pp_quantize_act_q8_0(const float *x, size_t k, pp_act_q8_0 *dst);
void pp_quantize_act_q8_K(const float *x, size_t k, pp_act_q8_K *dst);
void pp_quantize_act_bf16(const float *x, size_t k, uint16_t *dst);

/* What the activations of weight type t become, and bytes per activation row
** (0 for F32/F16, which read X directly). */
int pp_act_type(int wtype);   /* PP_GGML_Q8_0, PP_GGML_Q8_K, PP_GGML_BF16, PP_GGML_F32 */
size_t pp_act_row_bytes(int wtype, size_t k);

/* Reference dot products of one weight row with one quantized activation row, with
** the exact accumulation order every ISA reproduces (see kernels.h). */
float pp_ref_dot(int wtype, const void *wrow, const void *arow, size_t k);

/* Geometry of a packed panel for (wtype, k): bytes per weight block and total. */
size_t pp_panel_bytes(int wtype, size_t k);
size_t pp_panel_block_bytes(int wtype);
/* Packs PP_PANEL rows (rows[r] == NULL: a zero row) of k values into panel. */
void pp_pack_panel(int wtype, const void *const rows[PP_PANEL], size_t k, void *panel);

/* A panel kernel: Y[t][r] for t < n, r < nr (<= PP_PANEL) from a packed panel and n
** quantized activation rows (act, act_stride bytes apart; for F32/F16 the X rows,
** act_stride = ldx*4).  Y row t at Y + t*ldy. */
typedef void (*pp_panel_fn)(const void *panel, size_t k, const void *act,
                            size_t act_stride, size_t n, float *Y, size_t ldy, int nr);

/* Per ISA: the panel kernel of each weight type (NULL: use the reference path). */
typedef struct pp_kernel_set {
    pp_panel_fn panel[PP_GGML_TYPE_LIMIT];
    /* activation quantizers (NULL: the scalar ones) */
    void (*quant_q8_0)(const float *x, size_t k, pp_act_q8_0 *dst);
    void (*quant_q8_K)(const float *x, size_t k, pp_act_q8_K *dst);
    /* element-wise (NULL: ops.c's scalar references) */
    void (*silu_mul)(float *g, const float *u, size_t n);
    void (*softmax)(float *x, size_t n);
    /* pp_gelu_mul through its f16 table (tab: pp_gelu_f16_table()) */
    void (*gelu_mul)(float *g, const float *u, const float *tab, size_t n);
    /* pp_fa_query for hd a multiple of 16 (the dispatcher checks) */
    void (*fa_query)(const float *q, const float *kf, const float *vf, uint32_t hd, uint32_t first,
                     uint32_t n_valid, float scale, float softcap, float *out);
    void (*f16_to_f32)(float *dst, const uint16_t *src, size_t n);
} pp_kernel_set;

void pp_kernels_avx2_init(pp_kernel_set *ks);     /* avx2.c */
void pp_kernels_avx512_init(pp_kernel_set *ks);   /* avx512.c */

/* The active set (dispatch.c). */
const pp_kernel_set *pp_kernels_active(void);

#endif
