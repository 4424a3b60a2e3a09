/*
** tokenizer.h -- the guard-model tokenizers (internal interface).
**
** Part of the guard-model engine (src/llm): turns the text a guard model is asked
** about into the token ids the model was trained on, and ids back into text.  The
** ids must be *identical* to the reference tokenizers (transformers.js, which follows
** Hugging Face `tokenizers`), or the model sees a different prompt than the one its
** scores were calibrated on.  Two families are implemented:
**
**   - byte-level BPE (GPT-2 lineage: Llama 3, Qwen2/3): the text is cut into
**     pre-tokens by a regex (run by PCRE2, rewritten to JavaScript's \s/\d/\w/.
**     semantics), each pre-token's UTF-8 bytes are the initial symbols, and the
**     merges are applied lowest rank first;
**   - SentencePiece-style BPE (Llama 2, Gemma): spaces become U+2581, the initial
**     symbols are code points, merges apply by rank (tokenizer.json) or by piece
**     score (GGUF `tokenizer.ggml.model = llama`), and symbols missing from the
**     vocabulary fall back to <0xNN> byte tokens.
**
** Added tokens (special or not) are cut out of the text before anything else,
** longest match first, exactly like transformers.js; special ones only when the
** caller asks (PARAPET_TOK_PARSE_SPECIAL), non-special ones always.
**
** A pp_tokenizer is immutable after construction and may be shared between threads:
** every encode call uses its own scratch memory.  The public type parapet_tokenizer
** (include/parapet.h) is this struct.
*/
#ifndef PP_TOKENIZER_H
#define PP_TOKENIZER_H

#include <stdint.h>
#include <stddef.h>
#include "core/core.h"

typedef struct parapet_tokenizer pp_tokenizer;

/* Which merge algorithm the model uses. */
enum {
    PP_TOK_BYTE_BPE = 1, /* byte-level BPE over mapped bytes, merges by rank */
    PP_TOK_SPM_BPE = 2   /* code-point BPE with byte fallback (rank or score) */
};

/* ------------------------------------------------------------ construction ---- */
/* The loaders (tok_json.c, tok_gguf.c) fill a pp_tok_builder and call
** pp_tok_build; all validation of the vocabulary happens there. */

typedef struct pp_tok_added {
    const char *content; /* borrowed during the build */
    size_t len;
    int32_t id;
    int special, lstrip, rstrip;
} pp_tok_added;

/* Normalizer steps, applied in order to each text section. */
enum { PP_NORM_NFC = 1, PP_NORM_REPLACE = 2, PP_NORM_PREPEND = 3 };
/* Pre-tokenizer steps: each splits every piece produced by the previous step. */
enum { PP_PRE_SPLIT_REGEX = 1, PP_PRE_BYTELEVEL = 2 };
enum { PP_SPLIT_ISOLATED = 0, PP_SPLIT_REMOVED = 1, PP_SPLIT_INVERT = 2 };

#define PP_TOK_MAX_STEPS 8

typedef struct pp_tok_norm_step {
    int kind;
    char *a, *b; /* REPLACE: a -> b; PREPEND: a.  Owned by the builder/tokenizer. */
    size_t alen, blen;
} pp_tok_norm_step;

typedef struct pp_tok_pre_step {
    int kind;
    char *pattern;        /* SPLIT_REGEX: the regex in JavaScript syntax (owned) */
    int literal;          /* pattern is a plain string, not a regex */
    int behavior;         /* PP_SPLIT_* */
    int add_prefix_space; /* BYTELEVEL */
    int use_regex;        /* BYTELEVEL: also split with the GPT-2 regex */
} pp_tok_pre_step;

typedef struct pp_tok_builder {
    int kind;               /* PP_TOK_BYTE_BPE or PP_TOK_SPM_BPE */
    /* vocabulary: n_vocab pieces, ids 0..n_vocab-1, piece i in pieces[i] (borrowed) */
    size_t n_vocab;
    const char **pieces;
    size_t *piece_lens;
    const float *scores;    /* SPM by score (GGUF); NULL: merges by rank */
    const uint8_t *is_byte; /* optional: piece i is a <0xNN> byte token */
    /* merges by rank: left/right piece strings (borrowed); rank = index */
    size_t n_merges;
    const char **merge_l, **merge_r;
    size_t *merge_llen, *merge_rlen;
    pp_tok_added *added;
    size_t n_added;
    pp_tok_norm_step norm[PP_TOK_MAX_STEPS];
    size_t n_norm;
    pp_tok_pre_step pre[PP_TOK_MAX_STEPS];
    size_t n_pre;
    int ignore_merges, byte_fallback, fuse_unk;
    int32_t unk_id, bos_id, eos_id; /* -1 if none */
    int add_bos;                    /* the post-processor puts bos_id first */
    int32_t suffix_id;              /* -1, or a token the post-processor appends */
    /* decoder */
    int dec_spm;                    /* replace U+2581 by ' ', <0xNN> to bytes */
    int dec_strip_start;            /* leading spaces to strip (Llama 2: 1) */
    char name[64];                  /* short description, e.g. "llama-bpe" */
} pp_tok_builder;

void pp_tok_builder_init(pp_tok_builder *b);
/* Frees what the builder owns (the strings in norm/pre steps), not borrowed data. */
void pp_tok_builder_clear(pp_tok_builder *b);

/* Builds an immutable tokenizer from b (which it copies what it needs from; b can be
** cleared afterwards).  Errors: PARAPET_ERR_FORMAT (with *detail) for inconsistent
** vocabularies or regexes PCRE2 refuses, PARAPET_ERR_NOMEM. */
pp_status pp_tok_build(const pp_tok_builder *b, pp_tokenizer **out, char **detail);

/* Loaders.  tok_json.c: a Hugging Face tokenizer.json document.  tok_gguf.c: the
** tokenizer.ggml.* metadata of an open GGUF file (the tokenizer copies everything
** it needs, the pp_gguf may be closed afterwards). */
pp_status pp_tok_from_json(const char *json, size_t len, pp_tokenizer **out,
                           char **detail);
struct pp_gguf;
pp_status pp_tok_from_gguf(const struct pp_gguf *g, pp_tokenizer **out, char **detail);

void pp_tok_free(pp_tokenizer *t);

/* ------------------------------------------------------------------- use ---- */

/* Flags: the same bits as PARAPET_TOK_* in parapet.h. */

/* Tokenizes text[0..len) (valid UTF-8, else PARAPET_ERR_UTF8) and appends the ids
** to *ids (a pp_malloc'ed array of capacity *cap that may be grown; *n is the count
** so far).  On error *ids stays valid (it may have grown) and *n may have grown. */
pp_status pp_tok_encode(const pp_tokenizer *t, const char *text, size_t len,
                        unsigned flags, int32_t **ids, size_t *n, size_t *cap);

/* Appends the text of ids[0..n) to out.  PARAPET_ERR_ARG for an id out of range. */
pp_status pp_tok_decode(const pp_tokenizer *t, const int32_t *ids, size_t n,
                        unsigned flags, pp_buf *out);

size_t pp_tok_n_vocab(const pp_tokenizer *t);
/* GPT-2's bytes_to_unicode: the printable code point byte b (0..255) is stored as in a
** byte-level BPE vocabulary. */
uint32_t pp_tok_byte_cp(int b);

/* The stored piece of id (byte-level pieces in their mapped form), or NULL. */
const char *pp_tok_piece(const pp_tokenizer *t, int32_t id, size_t *len);
/* Id of a piece as stored, or -1. */
int32_t pp_tok_lookup(const pp_tokenizer *t, const char *s, size_t len);

#endif
