/*
** quant.h -- scalar reference quantization and dequantization of ggml weight formats.
**
** Part of the guard-model engine (src/llm).  Dequantization here is the definition
** the SIMD kernels are tested against, so it follows ggml's bit layouts exactly
** (docs/guard-models-and-gguf.md section B; block structs in ggml_types.h).  It reads
** blocks byte by byte, so source pointers need no alignment.
**
** Quantization is used by `parapet model synth` and by tests: it produces valid
** blocks of good quality but is NOT bit-identical to llama-quantize for the K-quants
** (ggml searches scales iteratively; this does one least-squares-free pass).  Q8_0
** and Q4_0 follow ggml's reference formulas.
**
** Rows: `n` is the number of elements and must be a multiple of the type's block
** size; these functions check that and return PARAPET_ERR_ARG otherwise.
*/
#ifndef PP_QUANT_H
#define PP_QUANT_H

#include <stdint.h>
#include <stddef.h>
#include "core/core.h"
#include "llm/ggml_types.h"

/* IEEE binary16 <-> f32, round to nearest even; NaN stays NaN, overflow gives inf. */
float pp_fp16_to_f32(uint16_t h);
uint16_t pp_f32_to_fp16(float f);
/* bfloat16 <-> f32 (bf16 = high half of an f32), round to nearest even. */
float pp_bf16_to_f32(uint16_t h);
uint16_t pp_f32_to_bf16(float f);

/* Whether this file can dequantize / quantize type t. */
int pp_can_dequantize(uint32_t t);  /* F32 F16 BF16 Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q4_K Q5_K Q6_K */
int pp_can_quantize(uint32_t t);    /* F32 F16 BF16 Q4_0 Q8_0 Q4_K Q5_K Q6_K */

/* Converts n values of type t at src (blocks, as in a GGUF) to floats at dst.
** PARAPET_ERR_UNSUPPORTED for other types, PARAPET_ERR_ARG for a bad n. */
pp_status pp_dequantize_row(uint32_t t, const void *src, float *dst, int64_t n);

/* Quantizes n floats into blocks of type t at dst (pp_ggml_row_bytes(t, n) bytes). */
pp_status pp_quantize_row(uint32_t t, const float *src, void *dst, int64_t n);

/* Per-type entry points (n a multiple of the block size; no checks). */
void pp_dequantize_row_q8_0(const void *src, float *dst, int64_t n);
void pp_dequantize_row_q4_0(const void *src, float *dst, int64_t n);
void pp_dequantize_row_q4_K(const void *src, float *dst, int64_t n);
void pp_dequantize_row_q5_K(const void *src, float *dst, int64_t n);
void pp_dequantize_row_q6_K(const void *src, float *dst, int64_t n);
void pp_quantize_row_q8_0(const float *src, void *dst, int64_t n);
void pp_quantize_row_q4_0(const float *src, void *dst, int64_t n);
void pp_quantize_row_q4_K(const float *src, void *dst, int64_t n);
void pp_quantize_row_q5_K(const float *src, void *dst, int64_t n);
void pp_quantize_row_q6_K(const float *src, void *dst, int64_t n);

/* The 6-bit scale and min of sub-block j (0..7) from a Q4_K/Q5_K scales[12]. */
void pp_get_scale_min_k4(int j, const uint8_t *q, uint8_t *sc, uint8_t *m);

#endif
