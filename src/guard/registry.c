/*
** registry.c -- the guard models parapet knows by name, for `parapet model pull`.
**
** Honesty rule: a field is filled in only when its value is known for certain.  The
** upstream repositories are the publishers' own (Meta's and Google's are gated: the
** licence must be accepted on the hub before downloading).  No GGUF URL, size or
** SHA-256 is listed yet: GGUF conversions are published by third parties under
** changing names, and none could be checked from these machines (no internet).
** Until a line here is filled from a verified download, `pull` takes the URL and
** checksum from the user (--url, --sha256) or from a mirror ($PARAPET_MODEL_MIRROR),
** and refuses to keep an unverified file unless told --no-verify.  How to produce a
** GGUF from the upstream weights is in docs/guard-models.md.
*/
#include <string.h>
#include "core/core.h"

static const parapet_guard_model models[] = {
    {"llama-guard-3-1b", "llama-guard-3", "https://huggingface.co/meta-llama/Llama-Guard-3-1B",
     NULL, "llama-guard-3-1b.Q8_0.gguf", 0, NULL,
     "S1-S13; Llama 3.2 1B shape; gated (Llama 3.2 Community License)"},
    {"llama-guard-3-8b", "llama-guard-3", "https://huggingface.co/meta-llama/Llama-Guard-3-8B",
     NULL, "llama-guard-3-8b.Q4_K_M.gguf", 0, NULL,
     "S1-S14; Llama 3.1 8B shape; gated (Llama 3.1 Community License)"},
    {"shieldgemma-2b", "shieldgemma", "https://huggingface.co/google/shieldgemma-2b",
     NULL, "shieldgemma-2b.Q8_0.gguf", 0, NULL,
     "four principles, one pass each; Gemma 2 2B shape; gated (Gemma Terms of Use)"},
    {"shieldgemma-9b", "shieldgemma", "https://huggingface.co/google/shieldgemma-9b",
     NULL, "shieldgemma-9b.Q4_K_M.gguf", 0, NULL,
     "Gemma 2 9B shape; gated (Gemma Terms of Use)"},
    {"qwen3guard-gen-0.6b", "qwen3guard", "https://huggingface.co/Qwen/Qwen3Guard-Gen-0.6B",
     NULL, "qwen3guard-gen-0.6b.Q8_0.gguf", 0, NULL,
     "Safe/Unsafe/Controversial + 9 categories; Qwen3 0.6B shape; Apache-2.0"},
    {"qwen3guard-gen-4b", "qwen3guard", "https://huggingface.co/Qwen/Qwen3Guard-Gen-4B",
     NULL, "qwen3guard-gen-4b.Q4_K_M.gguf", 0, NULL, "Qwen3 4B shape; Apache-2.0"},
    {"granite-guardian-3.1-2b", "granite-guardian",
     "https://huggingface.co/ibm-granite/granite-guardian-3.1-2b", NULL,
     "granite-guardian-3.1-2b.Q8_0.gguf", 0, NULL,
     "Yes/No per risk (harm, social_bias, jailbreak, ...); Apache-2.0"},
    {"granite-guardian-3.1-8b", "granite-guardian",
     "https://huggingface.co/ibm-granite/granite-guardian-3.1-8b", NULL,
     "granite-guardian-3.1-8b.Q4_K_M.gguf", 0, NULL, "Apache-2.0"},
};

const parapet_guard_model *parapet_guard_models(size_t *n) {
    if (n) *n = PP_ARRAY_LEN(models);
    return models;
}

const parapet_guard_model *parapet_guard_model_find(const char *name) {
    for (size_t i = 0; name && i < PP_ARRAY_LEN(models); i++)
        if (!strcmp(models[i].name, name)) return &models[i];
    return NULL;
}
