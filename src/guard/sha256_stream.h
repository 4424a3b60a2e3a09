/*
** sha256_stream.h -- SHA-256 over data that arrives in pieces (a model file being
** downloaded, a multi-gigabyte GGUF read in chunks).  core's pp_sha256_hex needs the
** whole buffer in memory; this one keeps 104 bytes of state.
*/
#ifndef PP_GUARD_SHA256_STREAM_H
#define PP_GUARD_SHA256_STREAM_H

#include <stddef.h>
#include <stdint.h>

typedef struct pp_sha256 {
    uint32_t h[8];
    unsigned char buf[64];
    size_t nbuf;      /* bytes waiting in buf, < 64 */
    uint64_t total;   /* bytes hashed so far */
} pp_sha256;

void pp_sha256_init(pp_sha256 *s);
void pp_sha256_update(pp_sha256 *s, const void *data, size_t n);
/* Writes 64 lowercase hex digits and a NUL; s must be re-initialised to be reused. */
void pp_sha256_final_hex(pp_sha256 *s, char hex[65]);

#endif
