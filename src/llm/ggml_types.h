/*
** ggml_types.h -- the ggml tensor types that GGUF files name, and their block layouts.
**
** Part of the guard-model engine (src/llm).  A GGUF tensor-info record carries a u32
** ggml type id; this table says how many elements one block of that type holds and
** how many bytes the block takes, which is all the GGUF reader needs to check that a
** tensor's data fits in the file.  The block structs below are the on-disk layouts
** (little endian, packed as ggml packs them); quant.c and the kernels read them.
** Scale fields (`d`, `dmin`) are IEEE binary16 bit patterns held in a uint16_t, except
** in Q8_K where d is an f32.
**
** Ids and sizes follow ggml's ggml-common.h / ggml.c (see docs/gguf.md).  Types that
** ggml has removed (4, 5, 31-33, 36-38) and ids newer than MXFP4 (39) are "unknown"
** here: the reader refuses files that use them, since it cannot check their extent.
*/
#ifndef PP_GGML_TYPES_H
#define PP_GGML_TYPES_H

#include <stdint.h>
#include <stddef.h>

typedef enum pp_ggml_type {
    PP_GGML_F32 = 0, PP_GGML_F16 = 1, PP_GGML_Q4_0 = 2, PP_GGML_Q4_1 = 3,
    PP_GGML_Q5_0 = 6, PP_GGML_Q5_1 = 7, PP_GGML_Q8_0 = 8, PP_GGML_Q8_1 = 9,
    PP_GGML_Q2_K = 10, PP_GGML_Q3_K = 11, PP_GGML_Q4_K = 12, PP_GGML_Q5_K = 13,
    PP_GGML_Q6_K = 14, PP_GGML_Q8_K = 15,
    PP_GGML_IQ2_XXS = 16, PP_GGML_IQ2_XS = 17, PP_GGML_IQ3_XXS = 18, PP_GGML_IQ1_S = 19,
    PP_GGML_IQ4_NL = 20, PP_GGML_IQ3_S = 21, PP_GGML_IQ2_S = 22, PP_GGML_IQ4_XS = 23,
    PP_GGML_I8 = 24, PP_GGML_I16 = 25, PP_GGML_I32 = 26, PP_GGML_I64 = 27,
    PP_GGML_F64 = 28, PP_GGML_IQ1_M = 29, PP_GGML_BF16 = 30,
    PP_GGML_TQ1_0 = 34, PP_GGML_TQ2_0 = 35, PP_GGML_MXFP4 = 39,
    PP_GGML_TYPE_LIMIT = 40 /* ids >= this are unknown */
} pp_ggml_type;

#define PP_QK4_0 32
#define PP_QK8_0 32
#define PP_QK_K 256
#define PP_K_SCALE_SIZE 12

typedef struct pp_ggml_type_info {
    const char *name;   /* ggml's spelling: "f32", "q4_K", "bf16", ... */
    uint32_t blck;      /* elements per block (1 for plain types) */
    uint32_t size;      /* bytes per block */
} pp_ggml_type_info;

/* The entry for type id `t`, or NULL if the id is unknown.  Static storage. */
const pp_ggml_type_info *pp_ggml_type_get(uint32_t t);

/* ggml's name for `t`, or "unknown" (never NULL). */
const char *pp_ggml_type_name(uint32_t t);

/* Bytes of one row of `ne0` elements of type `t`.  Returns 0 and sets *bytes on
** success; -1 if the type is unknown or ne0 is not a multiple of the block size
** (or the product overflows). */
int pp_ggml_row_bytes(uint32_t t, uint64_t ne0, uint64_t *bytes);

/* ------------------------------------------------------------ block layouts ---- */

typedef struct { uint16_t d; uint8_t qs[PP_QK4_0 / 2]; } pp_block_q4_0;
typedef struct { uint16_t d, m; uint8_t qs[16]; } pp_block_q4_1;
typedef struct { uint16_t d; uint8_t qh[4]; uint8_t qs[16]; } pp_block_q5_0;
typedef struct { uint16_t d, m; uint8_t qh[4]; uint8_t qs[16]; } pp_block_q5_1;
typedef struct { uint16_t d; int8_t qs[PP_QK8_0]; } pp_block_q8_0;
typedef struct { uint16_t d, s; int8_t qs[32]; } pp_block_q8_1;
typedef struct { uint8_t scales[16]; uint8_t qs[64]; uint16_t d, dmin; } pp_block_q2_K;
typedef struct { uint8_t hmask[32]; uint8_t qs[64]; uint8_t scales[12]; uint16_t d; } pp_block_q3_K;
typedef struct {
    uint16_t d, dmin;                  /* super-block scale for scales / for mins */
    uint8_t scales[PP_K_SCALE_SIZE];   /* 8 x (6-bit scale, 6-bit min), packed */
    uint8_t qs[PP_QK_K / 2];           /* 4-bit quants */
} pp_block_q4_K;
typedef struct {
    uint16_t d, dmin;
    uint8_t scales[PP_K_SCALE_SIZE];
    uint8_t qh[PP_QK_K / 8];           /* fifth bits */
    uint8_t qs[PP_QK_K / 2];
} pp_block_q5_K;
typedef struct {
    uint8_t ql[PP_QK_K / 2];           /* low 4 bits */
    uint8_t qh[PP_QK_K / 4];           /* high 2 bits */
    int8_t scales[PP_QK_K / 16];       /* one per 16 values */
    uint16_t d;                        /* last, unlike the others */
} pp_block_q6_K;
typedef struct { float d; int8_t qs[PP_QK_K]; int16_t bsums[PP_QK_K / 16]; } pp_block_q8_K;

_Static_assert(sizeof(pp_block_q4_0) == 18, "q4_0 block");
_Static_assert(sizeof(pp_block_q4_1) == 20, "q4_1 block");
_Static_assert(sizeof(pp_block_q5_0) == 22, "q5_0 block");
_Static_assert(sizeof(pp_block_q5_1) == 24, "q5_1 block");
_Static_assert(sizeof(pp_block_q8_0) == 34, "q8_0 block");
_Static_assert(sizeof(pp_block_q8_1) == 36, "q8_1 block");
_Static_assert(sizeof(pp_block_q2_K) == 84, "q2_K block");
_Static_assert(sizeof(pp_block_q3_K) == 110, "q3_K block");
_Static_assert(sizeof(pp_block_q4_K) == 144, "q4_K block");
_Static_assert(sizeof(pp_block_q5_K) == 176, "q5_K block");
_Static_assert(sizeof(pp_block_q6_K) == 210, "q6_K block");
_Static_assert(sizeof(pp_block_q8_K) == 292, "q8_K block");

#endif
