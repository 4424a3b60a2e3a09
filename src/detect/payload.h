/*
** payload.h -- finding text hidden inside a text: Unicode tag characters, base64,
** percent-encoding and backslash escapes.
**
** Smuggling is a standard way to get instructions past a filter: the attacker
** encodes "ignore all previous instructions" in base64 and asks the model to decode
** it, or writes it in invisible Unicode tag characters (U+E0020..E007E, one per ASCII
** byte) that the model reads and a human reviewer does not see.  This module finds
** such runs and decodes them; the pipeline then normalizes each decoded payload and
** runs every detector on it again, mapping the hits back to the payload's span in
** the original text with PARAPET_XF_DECODED.
**
** Two layers:
**   - iterators (pp_payload_next_*) that find the next candidate run and decode it
**     into a caller-supplied buffer; they allocate nothing, so a detector can use
**     them inside its scan with a stack buffer;
**   - pp_find_payloads, which collects every payload of a text into a heap array
**     (for the pipeline).
**
** What counts as a payload:
**   tag       a run of tag characters U+E0020..E007E in the original text (U+E0001
**             LANGUAGE TAG and U+E007F CANCEL TAG may bracket it); decoded to ASCII.
**             pp_find_payloads looks for them only when the normalizer signalled
**             PP_SIG_TAG_CHARS, so emoji flag sequences (which it leaves quiet) are
**             not payloads.
**   base64    a run of >= 16 characters of the standard or URL-safe alphabet (with
**             optional '=' padding) whose decoding is >= 8 bytes of valid UTF-8 of
**             which >= 85% of code points are printable (letters, digits,
**             punctuation, space, tab, newline).  Random identifiers, hex digests and
**             long words decode to binary and are rejected.
**   percent   a run containing >= 4 %XX escapes (URL encoding) decoding to >= 8
**             printable bytes, e.g. "%69%67%6E%6F%72%65...".
**   escape    a run containing >= 4 \xXX or \uXXXX escapes, same test.
**
** Spans: tag runs are found in the original bytes (t->orig) directly, so their span
** is exact even if a normalizer dropped them; the others are found in the base view
** (case matters for base64) and mapped back through its offset map.
*/
#ifndef PP_PAYLOAD_H
#define PP_PAYLOAD_H

#include "../core/core.h"
#include "../text/text.h"

typedef enum pp_payload_kind {
    PP_PAYLOAD_TAG,
    PP_PAYLOAD_BASE64,
    PP_PAYLOAD_PERCENT,
    PP_PAYLOAD_ESCAPE,
    PP_PAYLOAD_KIND_COUNT
} pp_payload_kind;

/* "tag_chars", "base64", "percent", "escape"; static storage. */
const char *pp_payload_kind_name(int kind);

typedef struct pp_payload {
    pp_payload_kind kind;
    char *data;          /* decoded bytes, NUL-terminated; owned by the array */
    size_t len;          /* bytes in data, not counting the NUL */
    uint32_t start, end; /* byte span in the ORIGINAL text, end exclusive */
} pp_payload;

/* Finds every payload in t (normalized; the base view must exist).  Runs on every
** window of every text, so a text without payloads costs one cheap pass (see
** payload.c: base64 work starts only at 8 aligned bytes that could all be digits,
** escape work only from the first '%' or '\\').  On success
** *out is a heap array of *n payloads (NULL and 0 if none) in order of start
** offset, to be released with pp_payloads_free.  On failure (PARAPET_ERR_NOMEM)
** *out is NULL and *n is 0. */
pp_status pp_find_payloads(const pp_text *t, pp_payload **out, size_t *n);

/* Frees an array from pp_find_payloads (each payload's data, then the array).
** NULL is fine. */
void pp_payloads_free(pp_payload *p, size_t n);

/* ---------------------------------------------------------------- iterators */

/* Each iterator scans s[*pos .. n) for the next candidate run, decodes up to `cap`
** bytes of it into dec (not NUL-terminated) and returns 1, with the run's span in s
** as [*a, *b), the number of decoded bytes kept in *dec_n and the full decoded
** length in *full_n (> *dec_n when the buffer was too small; the printable test
** is then made on the prefix that fit).  *pos is advanced past the run.  Returns 0
** when there are no more runs.  They never allocate.  cap must be >= 64. */

/* Tag-character runs in the ORIGINAL bytes s (UTF-8, possibly invalid). */
int pp_payload_next_tag(const char *s, size_t n, size_t *pos, size_t *a, size_t *b,
                        char *dec, size_t cap, size_t *dec_n, size_t *full_n);
/* Base64 / base64url runs in s (a base view or any text). */
int pp_payload_next_base64(const char *s, size_t n, size_t *pos, size_t *a, size_t *b,
                           char *dec, size_t cap, size_t *dec_n, size_t *full_n);
/* %XX runs and \xXX / \uXXXX runs; *kind receives PP_PAYLOAD_PERCENT or
** PP_PAYLOAD_ESCAPE. */
int pp_payload_next_escaped(const char *s, size_t n, size_t *pos, size_t *a, size_t *b,
                            char *dec, size_t cap, size_t *dec_n, size_t *full_n,
                            int *kind);

/* Is dec[0..n) text: >= 8 bytes, valid UTF-8, >= 85% printable code points?
** A truncated UTF-8 sequence at the very end (a prefix cut by a buffer) is allowed
** when `truncated` is set. */
int pp_payload_is_text(const char *dec, size_t n, int truncated);

#endif
