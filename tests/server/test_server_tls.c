/* test_server_tls.c -- tests of `parapet serve` with TLS (src/server/tls.c and the TLS
** paths of server.c).  Each test makes a fresh self-signed P-256 certificate and key
** with the OpenSSL library (no openssl CLI needed) under /tmp, starts a server in-
** process on an ephemeral 127.0.0.1 port with a short header (= handshake) deadline,
** and speaks to it with an OpenSSL client that verifies the server against that
** certificate: requests on a kept-alive TLS connection, a body big enough to span
** several TLS records and go to the worker pool, pipelining, close_notify, plain HTTP
** sent to the TLS port, stalled handshakes, an old-protocol client, the start-up
** errors (missing files, a key that does not match, garbage PEM), and the built
** binary's --tls-cert / --tls-key. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "test.h"
#include "parapet.h"
#include "server/server.h"

/* ------------------------------------------------------------ certificates ---- */

typedef struct certs {
    char cert[64], key[64], other_key[64];   /* other_key: a key of another pair */
} certs;

static int write_key(const char *path, EVP_PKEY *pk) {
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    int ok = PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL);
    fclose(f);
    return ok == 1 ? 0 : -1;
}

/* A self-signed certificate for CN=localhost, valid for a day, its key, and an
** unrelated key, written to /tmp.  0 on success. */
static int make_certs(certs *c, const char *tag) {
    snprintf(c->cert, sizeof c->cert, "/tmp/pp_tls_%d_%s_cert.pem", (int)getpid(), tag);
    snprintf(c->key, sizeof c->key, "/tmp/pp_tls_%d_%s_key.pem", (int)getpid(), tag);
    snprintf(c->other_key, sizeof c->other_key, "/tmp/pp_tls_%d_%s_other.pem", (int)getpid(), tag);
    EVP_PKEY *pk = EVP_EC_gen("P-256"), *other = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    int rc = -1;
    if (!pk || !other || !x) goto out;
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, pk);
    X509_NAME *nm = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1, -1, 0);
    X509_set_issuer_name(x, nm);
    if (!X509_sign(x, pk, EVP_sha256())) goto out;
    FILE *f = fopen(c->cert, "w");
    if (!f) goto out;
    int ok = PEM_write_X509(f, x);
    fclose(f);
    if (ok != 1 || write_key(c->key, pk) || write_key(c->other_key, other)) goto out;
    rc = 0;
out:
    X509_free(x);
    EVP_PKEY_free(pk);
    EVP_PKEY_free(other);
    return rc;
}

static void remove_certs(const certs *c) {
    unlink(c->cert);
    unlink(c->key);
    unlink(c->other_key);
}

/* ------------------------------------------------------------------ server ---- */

static parapet_engine *open_engine(void) {
    parapet_options o;
    parapet_options_init(&o);
    parapet_engine *e = NULL;
    if (parapet_open(&o, &e, NULL) != PARAPET_OK) return NULL;
    return e;
}

static void tls_config(srv_config *c, const certs *k) {
    srv_config_init(c);
    c->port = 0;
    c->threads = 1;
    c->workers = 1;
    c->max_body_bytes = 256 * 1024;
    c->inline_max_bytes = 32 * 1024;
    c->header_timeout_ms = 300;     /* also the handshake deadline */
    c->body_timeout_ms = 300;
    c->idle_timeout_ms = 3000;
    c->write_timeout_ms = 1000;
    c->shutdown_timeout_ms = 2000;
    c->tls_cert = strdup(k->cert);
    c->tls_key = strdup(k->key);
}

/* Creates and starts a server; NULL (and the reason on stderr) on failure. */
static srv_server *start(const srv_config *c, int *port) {
    char *err = NULL;
    srv_server *s = srv_create(c, open_engine(), &err);
    if (!s) { fprintf(stderr, "srv_create: %s\n", err); free(err); return NULL; }
    if (srv_start(s)) { srv_destroy(s); return NULL; }
    *port = srv_port(s);
    return s;
}

/* ------------------------------------------------------------------ client ---- */

static int dial(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(0x7f000001)};
    struct timeval tv = {3, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a)) { close(fd); return -1; }
    return fd;
}

/* A client context that trusts exactly the test certificate. */
static SSL_CTX *client_ctx(const certs *k) {
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) return NULL;
    if (SSL_CTX_load_verify_locations(ctx, k->cert, NULL) != 1) { SSL_CTX_free(ctx); return NULL; }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    return ctx;
}

typedef struct tconn {
    int fd;
    SSL *ssl;
    char buf[1 << 17];   /* received, not yet consumed */
    size_t len;
} tconn;

/* Connects and completes the handshake; 0 on success. */
static int tls_dial(tconn *t, SSL_CTX *ctx, int port) {
    t->len = 0;
    t->ssl = NULL;
    t->fd = dial(port);
    if (t->fd < 0) return -1;
    t->ssl = SSL_new(ctx);
    SSL_set_fd(t->ssl, t->fd);
    SSL_set_tlsext_host_name(t->ssl, "localhost");
    if (SSL_connect(t->ssl) != 1) { ERR_clear_error(); return -1; }
    return 0;
}

static void tls_hangup(tconn *t) {
    if (t->ssl) { SSL_shutdown(t->ssl); SSL_free(t->ssl); t->ssl = NULL; }
    if (t->fd >= 0) close(t->fd);
    t->fd = -1;
    ERR_clear_error();
}

static int tls_send_all(tconn *t, const char *s, size_t n) {
    while (n) {
        int w = SSL_write(t->ssl, s, (int)n);
        if (w <= 0) return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

typedef struct resp {
    int status;
    char body[1 << 16];
    size_t body_len;
} resp;

/* Reads one response (Content-Length framed) from t; 0 on success. */
static int tls_read_resp(tconn *t, resp *r) {
    for (;;) {
        t->buf[t->len] = 0;
        char *end = strstr(t->buf, "\r\n\r\n");
        if (end) {
            size_t head = (size_t)(end + 4 - t->buf);
            char *cl = strcasestr(t->buf, "\r\nContent-Length:");
            size_t blen = cl && cl < end ? (size_t)strtoul(cl + 17, NULL, 10) : 0;
            if (t->len >= head + blen) {
                if (blen >= sizeof r->body || sscanf(t->buf, "HTTP/1.1 %d", &r->status) != 1) return -1;
                memcpy(r->body, t->buf + head, blen);
                r->body[blen] = 0;
                r->body_len = blen;
                memmove(t->buf, t->buf + head + blen, t->len - head - blen);
                t->len -= head + blen;
                return 0;
            }
        }
        if (t->len + 1 >= sizeof t->buf) return -1;
        int n = SSL_read(t->ssl, t->buf + t->len, (int)(sizeof t->buf - 1 - t->len));
        if (n <= 0) { ERR_clear_error(); return -1; }
        t->len += (size_t)n;
    }
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Waits for the server to close fd: 1 when it did (EOF or reset), 0 on timeout.
** Bytes received meanwhile are discarded. */
static int closed_by_peer(int fd) {
    char junk[512];
    for (;;) {
        ssize_t n = recv(fd, junk, sizeof junk, 0);
        if (n == 0) return 1;
        if (n < 0) return errno == ECONNRESET;
    }
}

static const char healthz[] = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n";

static char *moderation_request(const char *text, const char *extra_headers) {
    static char buf[512];
    char body[256];
    snprintf(body, sizeof body, "{\"input\": \"%s\"}", text);
    snprintf(buf, sizeof buf, "POST /v1/moderations HTTP/1.1\r\nHost: localhost\r\n"
             "Content-Type: application/json\r\n%sContent-Length: %zu\r\n\r\n%s",
             extra_headers, strlen(body), body);
    return buf;
}

/* ------------------------------------------------------------------- tests ---- */

TEST(server_tls_healthz_and_moderations_on_one_verified_connection) {
    certs k;
    CHECK(make_certs(&k, "a") == 0);
    srv_config c;
    tls_config(&c, &k);
    int port;
    srv_server *s = start(&c, &port);
    srv_config_clear(&c);
    SSL_CTX *ctx = client_ctx(&k);
    remove_certs(&k);
    CHECK(s && ctx);
    static tconn t;
    CHECK_MSG(tls_dial(&t, ctx, port) == 0, "TLS handshake failed");
    CHECK_EQ(SSL_get_verify_result(t.ssl), X509_V_OK);
    CHECK(SSL_version(t.ssl) >= TLS1_2_VERSION);
    static resp r;
    CHECK(tls_send_all(&t, healthz, strlen(healthz)) == 0);
    CHECK(tls_read_resp(&t, &r) == 0);
    CHECK_EQ(r.status, 200);
    CHECK_MSG(strstr(r.body, "\"status\"") && strstr(r.body, "\"ok\""), "%s", r.body);
    /* the same connection, kept alive: a moderation that must flag */
    const char *req = moderation_request("I will kill you, you worthless idiot", "");
    CHECK(tls_send_all(&t, req, strlen(req)) == 0);
    CHECK(tls_read_resp(&t, &r) == 0);
    CHECK_EQ(r.status, 200);
    CHECK_MSG(strstr(r.body, "\"id\":\"modr-") || strstr(r.body, "\"id\": \"modr-"), "%s", r.body);
    CHECK_MSG(strstr(r.body, "\"flagged\":true") || strstr(r.body, "\"flagged\": true"), "%s", r.body);
    /* and a benign one is not flagged */
    req = moderation_request("the weather is lovely today", "");
    CHECK(tls_send_all(&t, req, strlen(req)) == 0);
    CHECK(tls_read_resp(&t, &r) == 0);
    CHECK_EQ(r.status, 200);
    CHECK_MSG(strstr(r.body, "\"flagged\":false") || strstr(r.body, "\"flagged\": false"), "%s", r.body);
    tls_hangup(&t);
    SSL_CTX_free(ctx);
    srv_destroy(s);
}

TEST(server_tls_large_body_pipelining_and_close_notify) {
    certs k;
    CHECK(make_certs(&k, "b") == 0);
    srv_config c;
    tls_config(&c, &k);
    int port;
    srv_server *s = start(&c, &port);
    srv_config_clear(&c);
    SSL_CTX *ctx = client_ctx(&k);
    remove_certs(&k);
    CHECK(s && ctx);
    static tconn t;
    CHECK(tls_dial(&t, ctx, port) == 0);
    /* 100 KB of text: several TLS records, above inline_max_bytes (worker pool) */
    size_t n = 100 * 1024;
    char *big = malloc(n + 512);
    CHECK(big);
    int h = snprintf(big, 512, "POST /v1/moderations HTTP/1.1\r\nHost: localhost\r\n"
                     "Content-Length: %zu\r\n\r\n{\"input\": \"", n + 13);
    for (size_t i = 0; i < n; i++) big[h + (int)i] = "calm words "[i % 11];
    memcpy(big + h + n, "\"}", 2);
    size_t total = (size_t)h + n + 2;   /* body: 11 bytes of prefix + n + 2 = n + 13 */
    int sent = tls_send_all(&t, big, total);
    free(big);
    CHECK(sent == 0);
    static resp r;
    CHECK(tls_read_resp(&t, &r) == 0);
    CHECK_MSG(r.status == 200, "status %d: %s", r.status, r.body);
    CHECK_MSG(strstr(r.body, "\"results\""), "%s", r.body);
    /* two requests in one write: two answers, in order; the second closes */
    char two[1024];
    snprintf(two, sizeof two, "%s%s", healthz,
             moderation_request("you idiot", "Connection: close\r\n"));
    CHECK(tls_send_all(&t, two, strlen(two)) == 0);
    CHECK(tls_read_resp(&t, &r) == 0);
    CHECK_EQ(r.status, 200);
    CHECK(strstr(r.body, "\"ok\"") != NULL);
    CHECK(tls_read_resp(&t, &r) == 0);
    CHECK_EQ(r.status, 200);
    CHECK(strstr(r.body, "\"results\"") != NULL);
    /* then the server ends the session with close_notify, not a bare FIN */
    char x;
    int rn = SSL_read(t.ssl, &x, 1);
    CHECK_EQ(rn, 0);
    CHECK_EQ(SSL_get_error(t.ssl, rn), SSL_ERROR_ZERO_RETURN);
    tls_hangup(&t);
    SSL_CTX_free(ctx);
    srv_destroy(s);
}

TEST(server_tls_plain_http_to_tls_port_gets_400_and_close) {
    certs k;
    CHECK(make_certs(&k, "c") == 0);
    srv_config c;
    tls_config(&c, &k);
    int port;
    srv_server *s = start(&c, &port);
    srv_config_clear(&c);
    remove_certs(&k);
    CHECK(s);
    int fd = dial(port);
    CHECK(fd >= 0);
    CHECK(send(fd, healthz, strlen(healthz), MSG_NOSIGNAL) == (ssize_t)strlen(healthz));
    char buf[1024];
    size_t len = 0;
    double t0 = now_s();
    for (;;) {
        ssize_t n = recv(fd, buf + len, sizeof buf - 1 - len, 0);
        if (n <= 0) break;
        len += (size_t)n;
        if (len == sizeof buf - 1) break;
    }
    buf[len] = 0;
    close(fd);
    CHECK_MSG(now_s() - t0 < 2.0, "the server kept the connection %.2f s", now_s() - t0);
    CHECK_MSG(!strncmp(buf, "HTTP/1.1 400 ", 13), "got: %s", buf);
    CHECK_MSG(strstr(buf, "https://") != NULL, "got: %s", buf);
    /* the server is unharmed */
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    static tconn t;
    CHECK(tls_dial(&t, ctx, port) == 0);
    tls_hangup(&t);
    SSL_CTX_free(ctx);
    srv_destroy(s);
}

TEST(server_tls_stalled_handshakes_close_at_the_header_deadline) {
    certs k;
    CHECK(make_certs(&k, "d") == 0);
    srv_config c;
    tls_config(&c, &k);   /* header (= handshake) deadline 300 ms */
    int port;
    srv_server *s = start(&c, &port);
    srv_config_clear(&c);
    SSL_CTX *ctx = client_ctx(&k);
    remove_certs(&k);
    CHECK(s && ctx);
    double t0 = now_s();
    int silent = dial(port);                       /* TCP only, never a byte */
    int partial = dial(port);                      /* the first bytes of a ClientHello */
    CHECK(silent >= 0 && partial >= 0);
    CHECK(send(partial, "\x16\x03\x01\x02\x00\x01", 6, MSG_NOSIGNAL) == 6);
    /* a real client meanwhile is served at once on the same (single) loop */
    static tconn t;
    CHECK(tls_dial(&t, ctx, port) == 0);
    static resp r;
    CHECK(tls_send_all(&t, healthz, strlen(healthz)) == 0);
    CHECK(tls_read_resp(&t, &r) == 0);
    CHECK_EQ(r.status, 200);
    CHECK_MSG(now_s() - t0 < 0.25, "healthy client waited %.3f s", now_s() - t0);
    CHECK(closed_by_peer(silent));
    double t1 = now_s() - t0;
    CHECK(closed_by_peer(partial));
    double t2 = now_s() - t0;
    CHECK_MSG(t1 >= 0.28 && t1 < 1.5, "silent client closed after %.3f s", t1);
    CHECK_MSG(t2 >= 0.28 && t2 < 1.5, "partial client closed after %.3f s", t2);
    close(silent);
    close(partial);
    tls_hangup(&t);
    SSL_CTX_free(ctx);
    srv_destroy(s);
}

TEST(server_tls_refuses_tls_1_1_clients) {
    certs k;
    CHECK(make_certs(&k, "e") == 0);
    srv_config c;
    tls_config(&c, &k);
    int port;
    srv_server *s = start(&c, &port);
    srv_config_clear(&c);
    remove_certs(&k);
    CHECK(s);
    SSL_CTX *old = SSL_CTX_new(TLS_client_method());
    CHECK(old);
    SSL_CTX_set_security_level(old, 0);            /* let the client offer TLS 1.0/1.1 */
    CHECK(SSL_CTX_set_min_proto_version(old, TLS1_VERSION) == 1);
    CHECK(SSL_CTX_set_max_proto_version(old, TLS1_1_VERSION) == 1);
    CHECK(SSL_CTX_set_cipher_list(old, "ALL:@SECLEVEL=0") == 1);
    static tconn t;
    CHECK(tls_dial(&t, old, port) != 0);
    tls_hangup(&t);
    /* while a modern client on the same server succeeds */
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    CHECK(tls_dial(&t, ctx, port) == 0);
    tls_hangup(&t);
    SSL_CTX_free(old);
    SSL_CTX_free(ctx);
    srv_destroy(s);
}

/* srv_create's error for cert/key; NULL when the server started (then destroyed). */
static char *start_error(const char *cert, const char *key) {
    srv_config c;
    srv_config_init(&c);
    c.port = 0;
    c.threads = 1;
    c.workers = 1;
    c.tls_cert = cert ? strdup(cert) : NULL;
    c.tls_key = key ? strdup(key) : NULL;
    char *err = NULL;
    srv_server *s = srv_create(&c, open_engine(), &err);
    srv_config_clear(&c);
    srv_destroy(s);
    return err;
}

TEST(server_tls_refuses_bad_files_at_start_with_a_clear_message) {
    certs k;
    CHECK(make_certs(&k, "f") == 0);
    char *e = start_error(k.cert, "/nonexistent/parapet.key");
    CHECK_MSG(e && strstr(e, "/nonexistent/parapet.key") && strstr(e, "No such file"), "%s", e ? e : "(none)");
    free(e);
    e = start_error("/nonexistent/parapet.pem", k.key);
    CHECK_MSG(e && strstr(e, "certificate") && strstr(e, "/nonexistent/parapet.pem"), "%s", e ? e : "(none)");
    free(e);
    e = start_error(k.cert, k.other_key);
    CHECK_MSG(e && strstr(e, "does not match"), "%s", e ? e : "(none)");
    free(e);
    e = start_error(k.cert, NULL);
    CHECK_MSG(e && strstr(e, "both"), "%s", e ? e : "(none)");
    free(e);
    e = start_error(k.key, k.key);   /* a key where the certificate belongs */
    CHECK_MSG(e && strstr(e, "cannot load TLS certificate"), "%s", e ? e : "(none)");
    free(e);
    e = start_error(k.cert, k.key);  /* and the good pair starts */
    CHECK_MSG(e == NULL, "%s", e);
    remove_certs(&k);
}

TEST(server_tls_config_section_is_read) {
    char path[] = "/tmp/pp_tls_cfg_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    const char *y = "port: 8443\ntls:\n  cert: /etc/ssl/p.pem\n  key: /etc/ssl/p.key\n";
    CHECK(write(fd, y, strlen(y)) == (ssize_t)strlen(y));
    close(fd);
    srv_config c;
    srv_config_init(&c);
    char *err = NULL;
    int rc = srv_config_load(&c, path, &err);
    unlink(path);
    CHECK_MSG(rc == 0, "%s", err ? err : "");
    CHECK_STR(c.tls_cert, "/etc/ssl/p.pem");
    CHECK_STR(c.tls_key, "/etc/ssl/p.key");
    srv_config_clear(&c);
}

/* Runs PARAPET_BIN serve with args; returns the pid, *line = its first stderr line. */
static pid_t spawn(char *const args[], char *line, size_t cap, int *errfd) {
    int p[2];
    if (pipe(p)) return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], 2);
        close(p[0]);
        execv(args[0], args);
        _exit(127);
    }
    close(p[1]);
    size_t n = 0;
    struct pollfd pf = {p[0], POLLIN, 0};
    while (n < cap - 1 && poll(&pf, 1, 5000) > 0) {
        if (read(p[0], line + n, 1) != 1) break;
        if (line[n++] == '\n') break;
    }
    line[n] = 0;
    *errfd = p[0];
    return pid;
}

TEST(server_tls_binary_flags_serve_https_and_refuse_a_bad_key) {
    const char *bin = getenv("PARAPET_BIN");
    if (!bin || access(bin, X_OK)) SKIP("PARAPET_BIN not set");
    certs k;
    CHECK(make_certs(&k, "g") == 0);
    char line[512];
    int errfd, st = 0;
    char *bad[] = {(char *)bin, "serve", "--port", "0", "--threads", "1", "--tls-cert", k.cert,
                   "--tls-key", "/nonexistent/k.pem", NULL};
    pid_t pid = spawn(bad, line, sizeof line, &errfd);
    CHECK(pid > 0);
    waitpid(pid, &st, 0);
    close(errfd);
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) != 0, "status %d", st);
    CHECK_MSG(strstr(line, "/nonexistent/k.pem") && strstr(line, "No such file"), "%s", line);

    char *good[] = {(char *)bin, "serve", "--port", "0", "--threads", "1", "--tls-cert", k.cert,
                    "--tls-key", k.key, NULL};
    pid = spawn(good, line, sizeof line, &errfd);
    CHECK(pid > 0);
    char *at = strstr(line, "https://127.0.0.1:");
    int port = at ? atoi(at + 18) : 0;
    SSL_CTX *ctx = client_ctx(&k);
    remove_certs(&k);
    static tconn t;
    int ok = port > 0 && ctx && tls_dial(&t, ctx, port) == 0;
    static resp r;
    const char *req = moderation_request("hello there", "");
    ok = ok && tls_send_all(&t, req, strlen(req)) == 0 && tls_read_resp(&t, &r) == 0;
    tls_hangup(&t);
    SSL_CTX_free(ctx);
    kill(pid, SIGTERM);
    waitpid(pid, &st, 0);
    close(errfd);
    CHECK_MSG(port > 0, "no https port in: %s", line);
    CHECK(ok);
    CHECK_EQ(r.status, 200);
    CHECK(strstr(r.body, "\"results\"") != NULL);
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
}
