/* byte_piece.h -- the byte-level BPE piece of a byte, for tests that write a small
** tokenizer.json: GPT-2's printable code point (pp_tok_byte_cp) as UTF-8, raw or escaped
** for a JSON string.  out needs 4 bytes. */
#ifndef PP_TEST_BYTE_PIECE_H
#define PP_TEST_BYTE_PIECE_H

#include <stdio.h>
#include "llm/tokenizer.h"

static inline void byte_piece_utf8(int b, char *out) {
    uint32_t cp = pp_tok_byte_cp(b);
    if (cp < 0x80) sprintf(out, "%c", (int)cp);
    else sprintf(out, "%c%c", (int)(0xc0 | (cp >> 6)), (int)(0x80 | (cp & 0x3f)));
}

static inline void byte_piece_json(int b, char *out) {
    uint32_t cp = pp_tok_byte_cp(b);
    if (cp == '"' || cp == '\\') sprintf(out, "\\%c", (int)cp);
    else byte_piece_utf8(b, out);
}

#endif
