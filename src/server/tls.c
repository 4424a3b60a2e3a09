/*
** tls.c -- the TLS context of `parapet serve` (OpenSSL), built once at start.
**
** Optional: with `tls: {cert, key}` (or --tls-cert/--tls-key) the server speaks only
** TLS on its port; without it nothing here runs and the plain-HTTP path pays one
** NULL-pointer check per I/O call.  This file owns the SSL_CTX (certificate chain,
** private key, protocol floor, ciphers, modes); the per-connection part (the non-
** blocking handshake inside the event loop, SSL_read/SSL_write, close_notify) is in
** server.c next to the plain socket I/O it replaces.
**
** Choices: TLS 1.2 is the floor (1.0/1.1 are refused); TLS 1.3 uses OpenSSL's default
** suites; TLS 1.2 is limited to ECDHE key exchange with AEAD ciphers (AES-GCM,
** ChaCha20-Poly1305), which every client of the last decade speaks.  Renegotiation
** and compression are off.  Partial writes and moving write buffers are allowed since
** the connection's write buffer may be compacted or grown between retries.  Read and
** write buffers are released while a connection is idle, so ten thousand keep-alive
** clients do not pin 34 KiB of OpenSSL buffers each.
**
** Every failure (unreadable file, not a PEM certificate, a key that does not match the
** certificate) is reported at start with the path and OpenSSL's reason; nothing is
** asserted.
*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include "server/server.h"

#define TLS12_CIPHERS                                                       \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"            \
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"            \
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

/* "WHAT PATH: reason", malloc'd; the reason is the last OpenSSL error, else errno's. */
static char *tls_err(const char *what, const char *path, int errnum) {
    char reason[256] = "";
    unsigned long e, last = 0;
    while ((e = ERR_get_error()) != 0) last = e;
    if (last) ERR_error_string_n(last, reason, sizeof reason);
    else if (errnum) snprintf(reason, sizeof reason, "%s", strerror(errnum));
    else snprintf(reason, sizeof reason, "unknown error");
    char buf[1024];
    snprintf(buf, sizeof buf, "%s%s%s: %s", what, path ? " " : "", path ? path : "", reason);
    return strdup(buf);
}

/* The file must exist and be readable: OpenSSL's own message for a missing file is
** an opaque "system library" code, so the common mistake gets a plain strerror. */
static char *check_readable(const char *what, const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return tls_err(what, path, errno);
    fclose(f);
    return NULL;
}

void *srv_tls_ctx_new(const char *cert, const char *key, char **err) {
    *err = NULL;
    ERR_clear_error();
    if (!cert || !*cert || !key || !*key) {
        *err = strdup("TLS needs both a certificate and a private key (tls: {cert: PATH, key: PATH}, "
                      "or --tls-cert and --tls-key)");
        return NULL;
    }
    if ((*err = check_readable("cannot read TLS certificate", cert)) != NULL) return NULL;
    if ((*err = check_readable("cannot read TLS private key", key)) != NULL) return NULL;
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) { *err = tls_err("cannot create the TLS context", NULL, 0); return NULL; }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                                 SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    static const unsigned char sid[] = "parapet";
    SSL_CTX_set_session_id_context(ctx, sid, sizeof sid - 1);
    if (SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1) {
        *err = tls_err("cannot set the TLS 1.2 ciphers", NULL, 0);
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        *err = tls_err("cannot load TLS certificate (PEM chain expected)", cert, 0);
        SSL_CTX_free(ctx);
        return NULL;
    }
    /* OpenSSL compares the key with the certificate as it loads it (key values or
    ** key type mismatch); check_private_key covers what it did not. */
    int loaded = SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) == 1;
    unsigned long why = loaded ? 0 : ERR_peek_last_error();
    int mismatch = loaded ? SSL_CTX_check_private_key(ctx) != 1
                          : ERR_GET_LIB(why) == ERR_LIB_X509 &&
                                (ERR_GET_REASON(why) == X509_R_KEY_VALUES_MISMATCH ||
                                 ERR_GET_REASON(why) == X509_R_KEY_TYPE_MISMATCH);
    if (mismatch) {
        ERR_clear_error();
        char buf[1024];
        snprintf(buf, sizeof buf, "TLS private key %s does not match certificate %s", key, cert);
        *err = strdup(buf);
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (!loaded) {
        *err = tls_err("cannot load TLS private key (PEM expected)", key, 0);
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

void srv_tls_ctx_free(void *ctx) { SSL_CTX_free(ctx); }
