/*
** test_quant.c -- fp16/bf16 conversion and the reference (de)quantizers (src/llm/quant.c).
**
** Two kinds of evidence: (1) hand-built blocks whose values are computed here
** independently, from the layout as documented (docs/guard-models-and-gguf.md B), not
** from quant.c's code -- the element-index formulas below are written the other way
** round (element -> byte and bit) from quant.c's loops (byte -> elements); (2) round
** trips of random data with error bounds derived from each format's step size.
*/
#include "test.h"
#include <stdlib.h>
#include "core/core.h"
#include "llm/quant.h"

static uint64_t rs = 0x1234567;
static float frand(void) {  /* uniform in [-1, 1) */
    rs = rs * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((rs >> 40) * 0x1p-24) * 2 - 1;
}
static float gauss(void) {  /* Irwin-Hall approximation, plenty here */
    float s = 0;
    for (int i = 0; i < 12; i++) s += (frand() + 1) / 2;
    return s - 6;
}

TEST(quant_fp16_known_values) {
    CHECK_EQ(pp_f32_to_fp16(1.0f), 0x3c00);
    CHECK_EQ(pp_f32_to_fp16(-2.0f), 0xc000);
    CHECK_EQ(pp_f32_to_fp16(65504.0f), 0x7bff);
    CHECK_EQ(pp_f32_to_fp16(65520.0f), 0x7c00);               /* rounds to inf */
    CHECK_EQ(pp_f32_to_fp16(0x1p-24f), 0x0001);               /* smallest subnormal */
    CHECK_EQ(pp_f32_to_fp16(0x1p-25f), 0x0000);               /* tie -> even (0) */
    CHECK_EQ(pp_f32_to_fp16(0x1.8p-24f), 0x0002);             /* tie -> even (2) */
    CHECK_EQ(pp_f32_to_fp16(1.0f + 0x1p-11f), 0x3c00);        /* tie -> even */
    CHECK_EQ(pp_f32_to_fp16(1.0f + 3 * 0x1p-11f), 0x3c02);    /* tie -> even, up */
    CHECK_EQ(pp_f32_to_fp16(INFINITY), 0x7c00);
    CHECK((pp_f32_to_fp16(NAN) & 0x7c00) == 0x7c00 && (pp_f32_to_fp16(NAN) & 0x3ff));
    CHECK_NEAR(pp_fp16_to_f32(0x3555), 0.333251953125, 0);
    CHECK_NEAR(pp_fp16_to_f32(0x0001), 0x1p-24, 0);
    CHECK_NEAR(pp_fp16_to_f32(0xfbff), -65504, 0);
    CHECK(isinf(pp_fp16_to_f32(0x7c00)) && isnan(pp_fp16_to_f32(0x7e00)));
    /* every finite half survives the round trip */
    for (uint32_t h = 0; h < 0x10000; h++) {
        if ((h & 0x7c00) == 0x7c00) continue;
        CHECK_EQ(pp_f32_to_fp16(pp_fp16_to_f32((uint16_t)h)), h);
    }
    CHECK_EQ(pp_f32_to_bf16(1.0f), 0x3f80);
    CHECK_EQ(pp_f32_to_bf16(1.0f + 0x1p-8f), 0x3f80);          /* tie -> even */
    CHECK_EQ(pp_f32_to_bf16(1.0f + 3 * 0x1p-8f), 0x3f82);
    CHECK_NEAR(pp_bf16_to_f32(0xc040), -3.0, 0);
}

TEST(quant_q8_0_and_q4_0_hand_blocks) {
    /* Q8_0: d = 0.5 (0x3800), qs = -16..15 -> x = 0.5*q */
    uint8_t b8[34];
    b8[0] = 0x00; b8[1] = 0x38;
    for (int j = 0; j < 32; j++) b8[2 + j] = (uint8_t)(int8_t)(j - 16);
    float y[256];
    CHECK_OK(pp_dequantize_row(PP_GGML_Q8_0, b8, y, 32));
    for (int j = 0; j < 32; j++) CHECK_NEAR(y[j], 0.5 * (j - 16), 0);
    /* Q4_0: d = 2 (0x4000); byte j holds element j (low) and j+16 (high) */
    uint8_t b4[18];
    b4[0] = 0x00; b4[1] = 0x40;
    for (int j = 0; j < 16; j++) b4[2 + j] = (uint8_t)(j | (15 - j) << 4);
    CHECK_OK(pp_dequantize_row(PP_GGML_Q4_0, b4, y, 32));
    for (int e = 0; e < 32; e++) {
        int q = e < 16 ? e : 15 - (e - 16);
        CHECK_NEAR(y[e], 2.0 * (q - 8), 0);
    }
    CHECK_EQ(pp_dequantize_row(PP_GGML_Q8_0, b8, y, 31), PARAPET_ERR_ARG);
    CHECK_EQ(pp_dequantize_row(PP_GGML_Q2_K, b8, y, 256), PARAPET_ERR_UNSUPPORTED);
}

/* Q4_K with chosen 6-bit scales/mins (values > 15 exercise the high bits). */
TEST(quant_q4_K_hand_block) {
    const int sc[8] = {1, 2, 3, 4, 17, 33, 49, 63}, mn[8] = {0, 5, 10, 63, 20, 40, 60, 7};
    uint8_t blk[144] = {0};
    blk[0] = 0x00; blk[1] = 0x3c;     /* d = 1 */
    blk[2] = 0x00; blk[3] = 0x38;     /* dmin = 0.5 */
    uint8_t *q = blk + 4;
    /* the documented packing: bytes 0-3 sc0..3 + top bits of sc4..7, 4-7 the mins
    ** likewise, 8-11 low nibbles of sc4..7 | m4..7 << 4 */
    for (int j = 0; j < 4; j++) {
        q[j] = (uint8_t)(sc[j] | (sc[j + 4] >> 4) << 6);
        q[j + 4] = (uint8_t)(mn[j] | (mn[j + 4] >> 4) << 6);
        q[j + 8] = (uint8_t)((sc[j + 4] & 15) | (mn[j + 4] & 15) << 4);
    }
    uint8_t *qs = blk + 16;
    for (int i = 0; i < 128; i++) qs[i] = (uint8_t)((i * 7) & 0xff);
    float y[256];
    CHECK_OK(pp_dequantize_row(PP_GGML_Q4_K, blk, y, 256));
    for (int e = 0; e < 256; e++) {
        int g = e / 64, r = e % 64, sub = e / 32;   /* sub-block = 2g (low) or 2g+1 (high) */
        uint8_t byte = qs[32 * g + r % 32];
        int v = r < 32 ? (byte & 15) : (byte >> 4);
        double want = 1.0 * sc[sub] * v - 0.5 * mn[sub];
        CHECK_MSG(y[e] == (float)want, "element %d: %g != %g", e, y[e], want);
    }
    /* and the unpacking helper agrees with the table */
    for (int j = 0; j < 8; j++) {
        uint8_t s, m;
        pp_get_scale_min_k4(j, q, &s, &m);
        CHECK_EQ(s, sc[j]);
        CHECK_EQ(m, mn[j]);
    }
}

TEST(quant_q6_K_hand_block) {
    uint8_t blk[210];
    for (int i = 0; i < 128; i++) blk[i] = (uint8_t)(i * 37 + 11);           /* ql */
    for (int i = 0; i < 64; i++) blk[128 + i] = (uint8_t)(i * 91 + 5);       /* qh */
    for (int i = 0; i < 16; i++) blk[192 + i] = (uint8_t)(int8_t)(i * 9 - 70); /* scales */
    blk[208] = 0x00; blk[209] = 0x34;                                        /* d = 0.25 */
    float y[256];
    CHECK_OK(pp_dequantize_row(PP_GGML_Q6_K, blk, y, 256));
    for (int e = 0; e < 256; e++) {
        /* element -> (half, quarter k, lane l): low nibbles of ql[l] / ql[l+32] are
        ** quarters 0 / 1, high nibbles quarters 2 / 3; qh[l] holds 2 bits per quarter */
        int h = e / 128, r = e % 128, k = r / 32, l = r % 32;
        uint8_t lo = blk[64 * h + l + (k & 1) * 32];
        int low4 = k >= 2 ? lo >> 4 : lo & 15;
        int high2 = (blk[128 + 32 * h + l] >> (2 * k)) & 3;
        int qv = (low4 | high2 << 4) - 32;
        int scale = (int8_t)blk[192 + e / 16];   /* one scale per 16 consecutive values */
        double want = 0.25 * scale * qv;
        CHECK_MSG(y[e] == (float)want, "element %d: %g != %g", e, y[e], want);
    }
}

TEST(quant_q5_K_hand_block) {
    uint8_t blk[176] = {0};
    blk[0] = 0x00; blk[1] = 0x3c;   /* d = 1 */
    blk[2] = 0x00; blk[3] = 0x3c;   /* dmin = 1 */
    for (int j = 0; j < 4; j++) { blk[4 + j] = (uint8_t)(j + 1); blk[8 + j] = (uint8_t)j; }
    for (int j = 0; j < 4; j++) blk[12 + j] = (uint8_t)((j + 5) | (j + 4) << 4); /* sc4..7, m4..7 */
    for (int i = 0; i < 32; i++) blk[16 + i] = (uint8_t)(i * 29 + 3);            /* qh */
    for (int i = 0; i < 128; i++) blk[48 + i] = (uint8_t)(i * 13 + 1);           /* qs */
    const int sc[8] = {1, 2, 3, 4, 5, 6, 7, 8}, mn[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    float y[256];
    CHECK_OK(pp_dequantize_row(PP_GGML_Q5_K, blk, y, 256));
    for (int e = 0; e < 256; e++) {
        int sub = e / 32, g = e / 64, l = e % 32;
        uint8_t byte = blk[48 + 32 * g + l];
        int v = (sub & 1) ? byte >> 4 : byte & 15;
        v |= ((blk[16 + l] >> sub) & 1) << 4;      /* fifth bit: bit `sub` of qh[l] */
        double want = 1.0 * sc[sub] * v - 1.0 * mn[sub];
        CHECK_MSG(y[e] == (float)want, "element %d: %g != %g", e, y[e], want);
    }
}

/* Round trips: RMS error relative to the data's RMS, against a bound from the step
** size.  For N(0,1) blocks the range is about 4-5 sigma: Q8_0 step ~ amax/127 gives
** rms ~0.006, Q4_0 amax/8 ~0.09, Q4_K (32-value affine, 15 steps) ~0.08, Q5_K ~0.04,
** Q6_K (16-value, +-32 steps) ~0.02. */
TEST(quant_round_trip_error_bounds) {
    enum { N = 4096 };
    static float x[N], y[N];
    static uint8_t q[N * 2];
    const struct { uint32_t t; double bound; } cases[] = {
        {PP_GGML_F16, 0.001}, {PP_GGML_BF16, 0.005}, {PP_GGML_Q8_0, 0.01},
        {PP_GGML_Q4_0, 0.13}, {PP_GGML_Q4_K, 0.12}, {PP_GGML_Q5_K, 0.06},
        {PP_GGML_Q6_K, 0.035},
    };
    for (int i = 0; i < N; i++) x[i] = gauss() * (i < N / 2 ? 1.0f : 0.01f) + (i % 512 < 32 ? 0.5f : 0);
    for (size_t c = 0; c < PP_ARRAY_LEN(cases); c++) {
        CHECK_OK(pp_quantize_row(cases[c].t, x, q, N));
        CHECK_OK(pp_dequantize_row(cases[c].t, q, y, N));
        /* per half (two different magnitudes): relative RMS error */
        for (int half = 0; half < 2; half++) {
            double e2 = 0, s2 = 0;
            for (int i = half * N / 2; i < (half + 1) * N / 2; i++) {
                CHECK(isfinite(y[i]));
                e2 += (double)(x[i] - y[i]) * (x[i] - y[i]);
                s2 += (double)x[i] * x[i];
            }
            double rel = sqrt(e2 / s2);
            CHECK_MSG(rel < cases[c].bound, "%s half %d: relative rms error %g >= %g",
                      pp_ggml_type_name(cases[c].t), half, rel, cases[c].bound);
        }
    }
    /* all zeros stay zeros */
    memset(x, 0, sizeof x);
    for (size_t c = 0; c < PP_ARRAY_LEN(cases); c++) {
        CHECK_OK(pp_quantize_row(cases[c].t, x, q, 256));
        CHECK_OK(pp_dequantize_row(cases[c].t, q, y, 256));
        for (int i = 0; i < 256; i++) CHECK_NEAR(y[i], 0, 0);
    }
}

/* Q8_0 is ggml's formula exactly: every element within half a step of the input. */
TEST(quant_q8_0_error_within_half_step) {
    float x[64], y[64];
    uint8_t q[68];
    for (int i = 0; i < 64; i++) x[i] = frand() * 3;
    CHECK_OK(pp_quantize_row(PP_GGML_Q8_0, x, q, 64));
    CHECK_OK(pp_dequantize_row(PP_GGML_Q8_0, q, y, 64));
    for (int b = 0; b < 2; b++) {
        float d = pp_fp16_to_f32((uint16_t)(q[34 * b] | q[34 * b + 1] << 8));
        for (int j = 0; j < 32; j++) {
            float e = fabsf(x[32 * b + j] - y[32 * b + j]);
            /* half a step, plus the fp16 rounding of d times |q| <= 127 */
            CHECK_MSG(e <= 0.5f * d + 127 * d * 0x1p-11f + 1e-6f, "elem %d: err %g, d %g", j, e, d);
        }
    }
}
