/*
** test_download.c -- tests for src/guard/download.c, registry.c and sha256_stream.c.
**
** A minimal HTTP/1.1 server runs in a thread on 127.0.0.1 (an ephemeral port) and
** serves one synthetic 300 KB file.  It honours "Range: bytes=N-" (206 with
** Content-Range) unless told to ignore it, answers 404 for other paths, and can cut
** the connection after a given number of body bytes, so an interrupted download and
** its resumption can be tested without the internet.
*/
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "test.h"
#include "parapet.h"
#include "core/core.h"

/* ------------------------------------------------------------ the server ---- */

#define BODY_LEN (300 * 1024)
static unsigned char body[BODY_LEN];

typedef struct srv {
    int fd, port;
    int n_requests;          /* serve this many connections, then exit */
    long drop_after;         /* first request: close after this many body bytes (-1: never) */
    int ignore_range;
    long range_seen[8];      /* the Range start of each request, -1 without one */
    int served;
    pthread_t th;
} srv;

static void write_all(int fd, const void *p, size_t n) {
    const char *c = p;
    while (n > 0) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w <= 0) return;
        c += w;
        n -= (size_t)w;
    }
}

static void *serve(void *arg) {
    srv *s = arg;
    for (s->served = 0; s->served < s->n_requests; s->served++) {
        int c = accept(s->fd, NULL, NULL);
        if (c < 0) break;
        char req[4096];
        size_t n = 0;
        while (n < sizeof req - 1) { /* read the header block */
            ssize_t r = recv(c, req + n, sizeof req - 1 - n, 0);
            if (r <= 0) break;
            n += (size_t)r;
            req[n] = 0;
            if (strstr(req, "\r\n\r\n")) break;
        }
        req[n] = 0;
        long from = -1;
        const char *rg = strcasestr(req, "\r\nRange: bytes=");
        if (rg) from = atol(rg + 15);
        if (s->served < 8) s->range_seen[s->served] = from;
        char hdr[512];
        if (strncmp(req, "GET /model.gguf ", 16)) {
            snprintf(hdr, sizeof hdr, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            write_all(c, hdr, strlen(hdr));
            close(c);
            continue;
        }
        long start = (from >= 0 && !s->ignore_range) ? from : 0;
        if (start >= BODY_LEN) {
            snprintf(hdr, sizeof hdr, "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */%d\r\n"
                     "Content-Length: 0\r\nConnection: close\r\n\r\n", BODY_LEN);
            write_all(c, hdr, strlen(hdr));
            close(c);
            continue;
        }
        if (start > 0)
            snprintf(hdr, sizeof hdr, "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes %ld-%d/%d\r\n"
                     "Content-Length: %ld\r\nConnection: close\r\n\r\n", start, BODY_LEN - 1, BODY_LEN,
                     BODY_LEN - start);
        else
            snprintf(hdr, sizeof hdr, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
                     BODY_LEN);
        write_all(c, hdr, strlen(hdr));
        long len = BODY_LEN - start;
        if (s->served == 0 && s->drop_after >= 0 && s->drop_after < len) len = s->drop_after;
        write_all(c, body + start, (size_t)len);
        close(c);
    }
    return NULL;
}

/* Starts a server for n requests; returns 0 on success. */
static int srv_start(srv *s, int n, long drop_after, int ignore_range) {
    memset(s, 0, sizeof *s);
    for (int i = 0; i < BODY_LEN; i++) body[i] = (unsigned char)((i * 2654435761u) >> 13);
    s->n_requests = n;
    s->drop_after = drop_after;
    s->ignore_range = ignore_range;
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (s->fd < 0) return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    if (bind(s->fd, (struct sockaddr *)&a, sizeof a) || listen(s->fd, 4) ||
        getsockname(s->fd, (struct sockaddr *)&a, &al)) {
        close(s->fd);
        return -1;
    }
    s->port = ntohs(a.sin_port);
    return pthread_create(&s->th, NULL, serve, s);
}

static void srv_stop(srv *s) {
    shutdown(s->fd, SHUT_RDWR); /* wakes accept if requests were left over */
    pthread_join(s->th, NULL);
    close(s->fd);
}

static char tmpdir[64];
/* A path in the test's temporary folder (four rotating buffers: a result stays valid
** for the next three calls). */
static const char *tmp_path(const char *name) {
    static char ring[4][128];
    static int k;
    char *p = ring[k++ & 3];
    if (!tmpdir[0]) {
        strcpy(tmpdir, "/tmp/pp_dl_XXXXXX");
        if (!mkdtemp(tmpdir)) return NULL;
    }
    snprintf(p, sizeof ring[0], "%s/%s", tmpdir, name);
    return p;
}

static long file_size(const char *p) {
    struct stat sb;
    return stat(p, &sb) ? -1 : (long)sb.st_size;
}

static int file_is_body(const char *p) {
    FILE *f = fopen(p, "rb");
    if (!f) return 0;
    static unsigned char got[BODY_LEN + 1];
    size_t n = fread(got, 1, sizeof got, f);
    fclose(f);
    return n == BODY_LEN && !memcmp(got, body, BODY_LEN);
}

/* --------------------------------------------------------------- tests ---- */

TEST(guard_sha256_stream_matches_core) {
    static unsigned char data[1000];
    for (int i = 0; i < 1000; i++) data[i] = (unsigned char)(i * 7 + 3);
    /* the FIPS 180-2 "abc" vector */
    pp_sha256 s;
    char hex[65], want[65];
    pp_sha256_init(&s);
    pp_sha256_update(&s, "abc", 3);
    pp_sha256_final_hex(&s, hex);
    CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    /* every length around the block and padding edges, fed in uneven pieces */
    static const size_t lens[] = {0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000};
    for (size_t k = 0; k < PP_ARRAY_LEN(lens); k++) {
        pp_sha256_init(&s);
        for (size_t off = 0, step = 1; off < lens[k]; off += step, step = step * 3 % 17 + 1)
            pp_sha256_update(&s, data + off, PP_MIN(step, lens[k] - off));
        pp_sha256_final_hex(&s, hex);
        pp_sha256_hex(data, lens[k], want);
        CHECK_MSG(!strcmp(hex, want), "length %zu: %s != %s", lens[k], hex, want);
    }
}

TEST(guard_download_whole_file_verified) {
    srv s;
    CHECK(srv_start(&s, 1, -1, 0) == 0);
    char url[96], want[65], got[65];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/model.gguf", s.port);
    pp_sha256_hex(body, BODY_LEN, want);
    const char *out = tmp_path("a.gguf");
    char *d = NULL;
    pp_status st = parapet_download(url, out, want, BODY_LEN, NULL, NULL, got, &d);
    srv_stop(&s);
    CHECK_MSG(st == PARAPET_OK, "%s", d ? d : "?");
    CHECK_STR(got, want);
    CHECK(file_is_body(out));
    CHECK_EQ(file_size(tmp_path("a.gguf.part")), -1);
    CHECK_EQ(s.range_seen[0], -1);
    unlink(tmp_path("a.gguf"));
}

TEST(guard_download_resumes_after_a_dropped_connection) {
    srv s;
    CHECK(srv_start(&s, 2, 100000, 0) == 0);
    char url[96], want[65];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/model.gguf", s.port);
    pp_sha256_hex(body, BODY_LEN, want);
    const char *out = tmp_path("b.gguf");
    char *d = NULL;
    /* first attempt: the server hangs up after 100000 bytes */
    pp_status st = parapet_download(url, out, want, BODY_LEN, NULL, NULL, NULL, &d);
    CHECK_EQ(st, PARAPET_ERR_IO);
    CHECK(d && strstr(d, "resume"));
    pp_free(d);
    d = NULL;
    CHECK_EQ(file_size(out), -1);                 /* nothing half-done at the final path */
    CHECK_EQ(file_size(tmp_path("b.gguf.part")), 100000);
    /* second attempt resumes with a Range request and verifies the whole file */
    st = parapet_download(url, out, want, BODY_LEN, NULL, NULL, NULL, &d);
    srv_stop(&s);
    CHECK_MSG(st == PARAPET_OK, "%s", d ? d : "?");
    CHECK_EQ(s.range_seen[1], 100000);
    CHECK(file_is_body(out));
    unlink(out);
}

TEST(guard_download_server_ignoring_range_restarts) {
    srv s;
    CHECK(srv_start(&s, 3, 5000, 1) == 0);
    char url[96], want[65];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/model.gguf", s.port);
    pp_sha256_hex(body, BODY_LEN, want);
    const char *out = tmp_path("c.gguf");
    CHECK_EQ(parapet_download(url, out, want, 0, NULL, NULL, NULL, NULL), PARAPET_ERR_IO);
    pp_status st = parapet_download(url, out, want, 0, NULL, NULL, NULL, NULL);
    srv_stop(&s);
    CHECK_OK(st);
    CHECK_EQ(s.range_seen[1], 5000); /* asked to resume, got the whole file instead, */
    CHECK_EQ(s.range_seen[2], -1);   /* so fetched it again from the start */
    CHECK(file_is_body(out));
    unlink(out);
}

TEST(guard_download_complete_part_and_416) {
    /* a part that already holds the whole file: the server answers 416, the part is
    ** verified and renamed without a byte transferred */
    const char *part = tmp_path("e.gguf.part");
    FILE *f = fopen(part, "wb");
    CHECK(f != NULL);
    srv s;
    CHECK(srv_start(&s, 1, -1, 0) == 0);
    fwrite(body, 1, BODY_LEN, f);
    fclose(f);
    char url[96], want[65];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/model.gguf", s.port);
    pp_sha256_hex(body, BODY_LEN, want);
    pp_status st = parapet_download(url, tmp_path("e.gguf"), want, 0, NULL, NULL, NULL, NULL);
    srv_stop(&s);
    CHECK_OK(st);
    CHECK_EQ(s.range_seen[0], BODY_LEN);
    CHECK(file_is_body(tmp_path("e.gguf")));
    unlink(tmp_path("e.gguf"));
}

TEST(guard_download_checksum_mismatch_discards) {
    srv s;
    CHECK(srv_start(&s, 2, -1, 0) == 0);
    char url[96];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/model.gguf", s.port);
    const char *bad = "0000000000000000000000000000000000000000000000000000000000000000";
    const char *out = tmp_path("d.gguf");
    char *d = NULL;
    pp_status st = parapet_download(url, out, bad, 0, NULL, NULL, NULL, &d);
    CHECK_EQ(st, PARAPET_ERR_FORMAT);
    CHECK(d && strstr(d, "sha256"));
    pp_free(d);
    CHECK_EQ(file_size(out), -1);
    CHECK_EQ(file_size(tmp_path("d.gguf.part")), -1);
    /* a missing file is NOT_FOUND */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/nope.gguf", s.port);
    st = parapet_download(url, out, NULL, 0, NULL, NULL, NULL, NULL);
    srv_stop(&s);
    CHECK_EQ(st, PARAPET_ERR_NOT_FOUND);
    unlink(tmp_path("d.gguf.part"));
    /* bad arguments */
    CHECK_EQ(parapet_download("ftp://x/y", out, NULL, 0, NULL, NULL, NULL, NULL), PARAPET_ERR_ARG);
    CHECK_EQ(parapet_download("http://x/y", out, "abc", 0, NULL, NULL, NULL, NULL), PARAPET_ERR_ARG);
}

TEST(guard_registry_is_honest) {
    size_t n;
    const parapet_guard_model *m = parapet_guard_models(&n);
    CHECK(n >= 4);
    for (size_t i = 0; i < n; i++) {
        CHECK(m[i].name && m[i].family && m[i].file && m[i].upstream);
        CHECK(!strncmp(m[i].upstream, "https://huggingface.co/", 23));
        /* a checksum, when given, is 64 lowercase hex digits */
        if (m[i].sha256) {
            CHECK_EQ(strlen(m[i].sha256), 64);
            CHECK(strspn(m[i].sha256, "0123456789abcdef") == 64);
        }
    }
    CHECK(parapet_guard_model_find("llama-guard-3-1b") != NULL);
    CHECK(parapet_guard_model_find("llama-guard-9") == NULL);
}
