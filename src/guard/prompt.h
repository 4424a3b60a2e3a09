/*
** prompt.h -- the prompts of the guard-model families, rendered byte for byte.
**
** A guard model (Llama Guard 3, ShieldGemma, Qwen3Guard, Granite Guardian) is a
** classifier whose input is one long prompt: an instruction, the policy, the
** conversation, a closing instruction, and the position where the model's answer
** begins.  This module writes that prompt for a family, a policy (a list of
** categories) and a conversation, and cuts it into the three pieces the engine
** computes separately:
**
**     prefix      everything before the conversation.  It depends only on the family,
**                 the policy and the role being judged, so the engine computes its KV
**                 cache once per (model, policy, role) and shares it between requests;
**     conv        the conversation (user text), in one to three segments;
**     suffix[i]   everything after the conversation up to the answer position.  Llama
**                 Guard and Qwen3Guard have one suffix; ShieldGemma and Granite
**                 Guardian judge one principle / risk per pass, and their principle
**                 comes after the conversation, so they have one suffix per policy
**                 category: the engine forks the cache after conv and runs each.
**
** Tokenization (pp_guard_encode does it): the prefix and suffixes are encoded with
** special-token parsing (they contain "<|eot_id|>", "<start_of_turn>", ...); the
** segments of conv that hold user text are encoded WITHOUT it, so a message that
** contains "<|eot_id|>" cannot close the turn.  BOS is never added by the tokenizer:
** the prefix already starts with the BOS text where the family has one.  The cut
** points sit where every tokenizer of the family starts a new token (right after a
** special token, or after a line break that the pre-tokenizer splits on), so the
** concatenated pieces tokenize exactly as the whole text would; tests pin this with
** the real vocabularies.
**
** Where the templates come from: the built-in templates below follow
** ../shared/docs/guard-models-and-gguf.md section C and the families' model cards (see
** docs/guard-models.md for each one's provenance and certainty).  A GGUF file may carry
** its own Jinja chat template (tokenizer.chat_template); parapet does not run Jinja.
** pp_guard_template_check tells whether a file's template contains the built-in
** template's fixed sentences, so the engine can warn when a file was tuned with a
** different wording.
*/
#ifndef PP_GUARD_PROMPT_H
#define PP_GUARD_PROMPT_H

#include "../core/core.h"

typedef enum pp_guard_family {
    PP_GUARD_LLAMA_GUARD = 0, /* Llama Guard 3 1B / 8B (arch llama) */
    PP_GUARD_SHIELDGEMMA,     /* ShieldGemma 2B / 9B (arch gemma2) */
    PP_GUARD_QWEN3GUARD,      /* Qwen3Guard-Gen 0.6B / 4B / 8B (arch qwen3) */
    PP_GUARD_GRANITE,         /* Granite Guardian 3.1 / 3.2 (arch granite) */
    PP_GUARD_FAMILY_COUNT
} pp_guard_family;

/* Whose message is judged: the last user message (prompt classification) or the last
** agent / assistant / chatbot message (response classification). */
typedef enum pp_guard_role { PP_GUARD_USER = 0, PP_GUARD_AGENT = 1 } pp_guard_role;

/* One turn of a conversation.  text need not be NUL-terminated. */
typedef struct pp_guard_msg {
    pp_guard_role role;
    const char *text;
    size_t len;
} pp_guard_msg;

/* One policy category as the model reads it.
**   Llama Guard:  "S<n>: <name>." then, if description is set, the description on
**                 the next line(s) (the Llama Guard 1/2 layout for custom categories);
**   ShieldGemma:  the principle line  * "<name>": <description>;
**   Qwen3Guard:   "<name>." (the model is trained on its nine names only);
**   Granite:      the risk definition line  * <description>  (name is the risk name,
**                 e.g. "harm"; without a description: "The last 'User' message
**                 contains <name>.").
** Strings are borrowed; they must outlive the call that uses them. */
typedef struct pp_guard_cat {
    const char *name;
    const char *description; /* NULL or "" for none */
} pp_guard_cat;

/* The most categories one guard policy may have (the same bound as a parapet policy's
** PP_MAX_CATS). */
#define PP_GUARD_MAX_CATS 64

/* A rendered prompt.  All buffers are owned by the struct (pp_guard_prompt_free). */
#define PP_GUARD_MAX_SEG 4
typedef struct pp_guard_prompt {
    pp_guard_family family;
    pp_guard_role role;            /* role of the judged message */
    char *prefix;                  /* NUL-terminated; prefix_len bytes */
    size_t prefix_len;
    char *conv;                    /* NUL-terminated; conv_len bytes */
    size_t conv_len;
    size_t n_seg;                  /* conv = segments [seg_off[i], seg_off[i]+seg_len[i]) */
    size_t seg_off[PP_GUARD_MAX_SEG], seg_len[PP_GUARD_MAX_SEG];
    unsigned char seg_special[PP_GUARD_MAX_SEG]; /* 1: template text with special
                                                    tokens; 0: holds user text */
    size_t n_suffix;               /* 1, or one per category (ShieldGemma, Granite) */
    char **suffix;                 /* suffix[i], NUL-terminated, suffix_len[i] bytes */
    size_t *suffix_len;
} pp_guard_prompt;

/* Family names as used in the registry and on the command line: "llama-guard-3",
** "shieldgemma", "qwen3guard", "granite-guardian".  NULL / -1 when unknown. */
const char *pp_guard_family_name(pp_guard_family f);
int pp_guard_family_from_name(const char *name);
/* The family a GGUF general.architecture implies (llama, gemma2, qwen3, granite), or
** -1.  Plain "llama" is taken to be Llama Guard: the caller decides whether a llama
** file is a guard model at all. */
int pp_guard_family_from_arch(const char *arch);

/* The categories a family was trained on, for the judged role: Llama Guard 3 S1..S14
** (pass the first 13 for the 1B model, which knows S1..S13), ShieldGemma's four
** principles (worded for prompts or for responses), Qwen3Guard's nine (eight in
** response mode: no Jailbreak), Granite Guardian's risks (harm first).  Static
** storage; returns the count. */
size_t pp_guard_native_cats(pp_guard_family f, pp_guard_role role, const pp_guard_cat **cats);

/* Renders the prompt that judges the last message of msgs[0..n_msgs) under the
** categories cats[0..n_cats).  The judged role is the last message's role.  Earlier
** turns: Llama Guard and Qwen3Guard render all of them; ShieldGemma and Granite
** Guardian are single-exchange templates and render the last user message (and, in
** agent mode, the last agent message), which is what their templates do.  Llama
** Guard strips whitespace around each message, as its template does.
** Errors: PARAPET_ERR_ARG (no messages, no categories, unknown family, a category
** without a name), PARAPET_ERR_NOMEM.  On success *out is filled and owned by the
** caller (pp_guard_prompt_free); on failure *out is left empty. */
pp_status pp_guard_render(pp_guard_family f, const pp_guard_cat *cats, size_t n_cats,
                          const pp_guard_msg *msgs, size_t n_msgs, pp_guard_prompt *out,
                          char **detail);
/* Only the prefix, for filling the prefix cache at load time; identical to the prefix
** pp_guard_render writes for the same family, categories and judged role.  *prefix
** is a new NUL-terminated string (pp_free). */
pp_status pp_guard_render_prefix(pp_guard_family f, const pp_guard_cat *cats,
                                 size_t n_cats, pp_guard_role role, char **prefix,
                                 size_t *len);
void pp_guard_prompt_free(pp_guard_prompt *p);

/* Tokenizes pass `pass` (0 .. n_suffix-1) of a rendered prompt with tok, following
** the rules at the top of this file.  On success *ids (pp_free) holds prefix, conv and
** suffix tokens in order; *n_prefix and *n_conv tell where the pieces start (the
** suffix is the rest).  Errors: PARAPET_ERR_ARG (pass out of range), the tokenizer's
** (PARAPET_ERR_UTF8 for invalid UTF-8 in a message), PARAPET_ERR_NOMEM. */
pp_status pp_guard_encode(const parapet_tokenizer *tok, const pp_guard_prompt *p,
                          size_t pass, int32_t **ids, size_t *n_ids, size_t *n_prefix,
                          size_t *n_conv);

/* Does a GGUF chat template (Jinja source from tokenizer.chat_template) contain the
** fixed sentences of the built-in template of family f?  Returns 1 if all are
** found, 0 otherwise; *missing (may be NULL) then points at the first sentence not
** found (static storage).  Jinja writes line breaks either literally or as "\n"
** escapes inside string literals; both spellings are accepted. */
int pp_guard_template_check(pp_guard_family f, const char *chat_template,
                            const char **missing);

#endif
