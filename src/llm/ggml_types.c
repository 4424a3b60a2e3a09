/*
** ggml_types.c -- the table of ggml tensor types: name, elements per block, bytes per
** block.  See ggml_types.h.  The sizes of the block structs that parapet itself reads
** are tied to this table by a check at the end of the file.
*/
#include "llm/ggml_types.h"

static const pp_ggml_type_info types[PP_GGML_TYPE_LIMIT] = {
    [PP_GGML_F32] = {"f32", 1, 4},
    [PP_GGML_F16] = {"f16", 1, 2},
    [PP_GGML_Q4_0] = {"q4_0", 32, 18},
    [PP_GGML_Q4_1] = {"q4_1", 32, 20},
    [PP_GGML_Q5_0] = {"q5_0", 32, 22},
    [PP_GGML_Q5_1] = {"q5_1", 32, 24},
    [PP_GGML_Q8_0] = {"q8_0", 32, 34},
    [PP_GGML_Q8_1] = {"q8_1", 32, 36},
    [PP_GGML_Q2_K] = {"q2_K", 256, 84},
    [PP_GGML_Q3_K] = {"q3_K", 256, 110},
    [PP_GGML_Q4_K] = {"q4_K", 256, 144},
    [PP_GGML_Q5_K] = {"q5_K", 256, 176},
    [PP_GGML_Q6_K] = {"q6_K", 256, 210},
    [PP_GGML_Q8_K] = {"q8_K", 256, 292},
    [PP_GGML_IQ2_XXS] = {"iq2_xxs", 256, 66},
    [PP_GGML_IQ2_XS] = {"iq2_xs", 256, 74},
    [PP_GGML_IQ3_XXS] = {"iq3_xxs", 256, 98},
    [PP_GGML_IQ1_S] = {"iq1_s", 256, 50},
    [PP_GGML_IQ4_NL] = {"iq4_nl", 32, 18},
    [PP_GGML_IQ3_S] = {"iq3_s", 256, 110},
    [PP_GGML_IQ2_S] = {"iq2_s", 256, 82},
    [PP_GGML_IQ4_XS] = {"iq4_xs", 256, 136},
    [PP_GGML_I8] = {"i8", 1, 1},
    [PP_GGML_I16] = {"i16", 1, 2},
    [PP_GGML_I32] = {"i32", 1, 4},
    [PP_GGML_I64] = {"i64", 1, 8},
    [PP_GGML_F64] = {"f64", 1, 8},
    [PP_GGML_IQ1_M] = {"iq1_m", 256, 56},
    [PP_GGML_BF16] = {"bf16", 1, 2},
    [PP_GGML_TQ1_0] = {"tq1_0", 256, 54},
    [PP_GGML_TQ2_0] = {"tq2_0", 256, 66},
    [PP_GGML_MXFP4] = {"mxfp4", 32, 17},
};

const pp_ggml_type_info *pp_ggml_type_get(uint32_t t) {
    if (t >= PP_GGML_TYPE_LIMIT || !types[t].name) return NULL;
    return &types[t];
}

const char *pp_ggml_type_name(uint32_t t) {
    const pp_ggml_type_info *ti = pp_ggml_type_get(t);
    return ti ? ti->name : "unknown";
}

int pp_ggml_row_bytes(uint32_t t, uint64_t ne0, uint64_t *bytes) {
    const pp_ggml_type_info *ti = pp_ggml_type_get(t);
    if (!ti || ne0 % ti->blck) return -1;
    uint64_t r;
    if (__builtin_mul_overflow(ne0 / ti->blck, (uint64_t)ti->size, &r)) return -1;
    *bytes = r;
    return 0;
}

_Static_assert(sizeof(pp_block_q4_K) == 144 && sizeof(pp_block_q6_K) == 210 &&
               sizeof(pp_block_q5_K) == 176 && sizeof(pp_block_q8_0) == 34 &&
               sizeof(pp_block_q4_0) == 18, "block structs agree with the table");
