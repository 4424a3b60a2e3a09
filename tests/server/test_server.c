/* test_server.c -- tests of `parapet serve` (src/server): the HTTP parser on its own,
** then a server started in-process on an ephemeral 127.0.0.1 port with short timeouts,
** spoken to over raw sockets: the OpenAI and native APIs, every error status, hostile
** clients (slowloris, abrupt resets, idle floods, pipelining), the connection cap,
** API keys and rate limits, overload shedding, policy swap and graceful stop; and the
** built binary for SIGHUP / SIGTERM and the official OpenAI client (skipped without
** node_modules). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "test.h"
#include "parapet.h"
#include "server/server.h"

/* ------------------------------------------------------------ the parser ---- */

static int parse_all(const char *s, http_req *r, size_t max_body) {
    static char buf[65536];
    size_t n = strlen(s);
    memcpy(buf, s, n);
    http_limits lim;
    http_limits_default(&lim);
    if (max_body) lim.max_body = max_body;
    http_req_init(r);
    return http_parse(r, buf, n, &lim);
}

TEST(http_parses_request_and_pipelined_next) {
    const char *s = "POST /v1/moderations?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
                    "Authorization: Bearer k\r\n\r\nhelloGET / HTTP/1.1\r\n\r\n";
    http_req r;
    CHECK_EQ(parse_all(s, &r, 0), HTTP_DONE);
    CHECK_EQ(r.method, HTTP_POST);
    CHECK_EQ(r.path_len, strlen("/v1/moderations"));
    CHECK_EQ(r.query_len, 3);
    CHECK_EQ(r.body_len, 5);
    CHECK(!memcmp(s + r.body_off, "hello", 5));
    CHECK(!memcmp(s + r.auth_off, "Bearer k", 8));
    CHECK_EQ(r.keep_alive, 1);
    CHECK_EQ(r.consumed, strlen(s) - strlen("GET / HTTP/1.1\r\n\r\n"));
}

TEST(http_chunked_byte_by_byte_equals_whole) {
    const char *s = "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "3;ext=1\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nX-T: 1\r\n\r\n";
    char buf[256];
    size_t n = strlen(s);
    http_limits lim;
    http_limits_default(&lim);
    http_req r;
    http_req_init(&r);
    int rc = HTTP_AGAIN;
    size_t len = 0;
    for (size_t i = 0; i < n && rc == HTTP_AGAIN; i++) {
        buf[len++] = s[i];
        rc = http_parse(&r, buf, len, &lim);
        if (rc == HTTP_AGAIN) http_compact(&r, buf, &len);
    }
    CHECK_EQ(rc, HTTP_DONE);
    CHECK_EQ(r.body_len, 19);
    CHECK(!memcmp(buf + r.body_off, "abc0123456789abcdef", 19));
    /* compaction kept the buffer at headers + decoded body + at most a line */
    CHECK_MSG(len <= r.body_off + 19 + 16, "buffer held %zu bytes", len);
}

TEST(http_rejects_malformed_with_the_right_status) {
    static const struct { const char *req; int status; } cases[] = {
        {"GET / HTTP/1.1\nHost: a\r\n\r\n", 400},                              /* bare LF */
        {"GET / HTTP/2.0\r\n\r\n", 505},
        {"GET / FOO/1.1\r\n\r\n", 400},
        {"GET noslash HTTP/1.1\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nContent-Length: 3x\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
        {"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nBad Name: a\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nX: a\001b\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n", 413},              /* limit 10 */
        {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n20\r\n", 413},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        http_req r;
        int rc = parse_all(cases[i].req, &r, 10);
        CHECK_MSG(rc == HTTP_ERROR && r.status == cases[i].status,
                  "case %zu: rc %d status %d, want %d (%s)", i, rc, r.status, cases[i].status,
                  r.error ? r.error : "");
        CHECK(r.error && *r.error);
    }
}

TEST(http_limits_header_bytes_and_count) {
    static char big[40000];
    strcpy(big, "GET / HTTP/1.1\r\nX: ");
    memset(big + strlen(big), 'a', 20000);
    http_req r;
    CHECK_EQ(parse_all(big, &r, 0), HTTP_ERROR);       /* incomplete but already too big */
    CHECK_EQ(r.status, 431);
    char many[8192] = "GET / HTTP/1.1\r\n";
    for (int i = 0; i < 100; i++) strcat(many, "A: b\r\n");
    strcat(many, "\r\n");
    CHECK_EQ(parse_all(many, &r, 0), HTTP_ERROR);
    CHECK_EQ(r.status, 431);
}

/* --------------------------------------------------------- server helpers ---- */

static srv_server *g_srv;
static int g_port;

static parapet_engine *open_engine(const char *policy) {
    parapet_options o;
    parapet_options_init(&o);
    if (policy) { o.policy_text = policy; o.policy_len = strlen(policy); }
    parapet_engine *e = NULL;
    if (parapet_open(&o, &e, NULL) != PARAPET_OK) return NULL;
    return e;
}

static void test_config(srv_config *c) {
    srv_config_init(c);
    c->port = 0;
    c->threads = 2;
    c->workers = 1;
    c->max_body_bytes = 256 * 1024;
    c->inline_max_bytes = 32 * 1024;
    c->header_timeout_ms = 300;
    c->body_timeout_ms = 300;
    c->idle_timeout_ms = 3000;
    c->write_timeout_ms = 1000;
    c->shutdown_timeout_ms = 2000;
}

/* The shared server of most tests (started once, never stopped). */
static int server(void) {
    if (g_srv) return g_port;
    srv_config c;
    test_config(&c);
    char *err = NULL;
    g_srv = srv_create(&c, open_engine(NULL), &err);
    srv_config_clear(&c);
    if (!g_srv) { fprintf(stderr, "srv_create: %s\n", err); free(err); return 0; }
    srv_start(g_srv);
    g_port = srv_port(g_srv);
    return g_port;
}

static int dial(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(0x7f000001)};
    struct timeval tv = {3, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a)) { close(fd); return -1; }
    return fd;
}

static void send_all(int fd, const char *s, size_t n) {
    while (n) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w <= 0) return;
        s += w;
        n -= (size_t)w;
    }
}

typedef struct resp {
    int status;
    char head[2048];
    char *body;
    size_t body_len;
    int closed;   /* the connection was closed with no response */
} resp;

/* Reads one response (status line, headers, Content-Length body).  The bytes after it
** stay in a small per-fd carry buffer so pipelined responses can be read in turn. */
static char carry[8][65536];
static size_t carry_len[8];
static int carry_fd[8] = {-1, -1, -1, -1, -1, -1, -1, -1};

static int read_resp(int fd, resp *r) {
    int slot = -1;
    for (int i = 0; i < 8; i++) if (carry_fd[i] == fd) slot = i;
    if (slot < 0) for (int i = 0; i < 8; i++) if (carry_fd[i] < 0 || !carry_len[i]) { slot = i; break; }
    if (slot < 0) slot = 0;
    if (carry_fd[slot] != fd) { carry_fd[slot] = fd; carry_len[slot] = 0; }
    char *b = carry[slot];
    size_t *n = &carry_len[slot];
    memset(r, 0, sizeof *r);
    for (;;) {
        char *e = memmem(b, *n, "\r\n\r\n", 4);
        if (e) {
            size_t hl = (size_t)(e - b) + 4;
            snprintf(r->head, sizeof r->head, "%.*s", (int)hl, b);
            r->status = atoi(b + 9);
            char *cl = strcasestr(r->head, "content-length:");
            size_t bl = cl ? strtoul(cl + 15, NULL, 10) : 0;
            if (r->status == 100) {           /* interim: drop it */
                memmove(b, b + hl, *n - hl);
                *n -= hl;
                continue;
            }
            while (*n < hl + bl) {
                ssize_t k = recv(fd, b + *n, sizeof carry[0] - *n, 0);
                if (k <= 0) return -1;
                *n += (size_t)k;
            }
            r->body = malloc(bl + 1);
            memcpy(r->body, b + hl, bl);
            r->body[bl] = 0;
            r->body_len = bl;
            memmove(b, b + hl + bl, *n - hl - bl);
            *n -= hl + bl;
            return 0;
        }
        ssize_t k = recv(fd, b + *n, sizeof carry[0] - *n, 0);
        if (k <= 0) { r->closed = 1; return -1; }
        *n += (size_t)k;
    }
}

static void resp_free(resp *r) { free(r->body); r->body = NULL; }

/* One request on a fresh connection. */
static int roundtrip(int port, const char *raw, resp *r) {
    int fd = dial(port);
    if (fd < 0) return -1;
    send_all(fd, raw, strlen(raw));
    int rc = read_resp(fd, r);
    close(fd);
    return rc;
}

static char *post(const char *path, const char *body, const char *extra) {
    static char req[200000];
    snprintf(req, sizeof req, "POST %s HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
             "%sContent-Length: %zu\r\n\r\n%s", path, extra ? extra : "", strlen(body), body);
    return req;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------------ API ---- */

TEST(server_moderations_string_matches_openai_shape) {
    int port = server();
    CHECK(port > 0);
    resp r;
    CHECK_OK(roundtrip(port, post("/v1/moderations",
        "{\"input\": \"I will find where you live and hurt you, you worthless idiot\", \"model\": \"omni-moderation-latest\"}", NULL), &r));
    CHECK_EQ(r.status, 200);
    CHECK(strstr(r.head, "application/json"));
    json_error_t e;
    json_t *j = json_loads(r.body, 0, &e);
    CHECK_MSG(j, "bad JSON: %s", r.body);
    CHECK(!strncmp(json_string_value(json_object_get(j, "id")), "modr-", 5));
    CHECK_STR(json_string_value(json_object_get(j, "model")), "omni-moderation-latest");
    json_t *res = json_object_get(j, "results");
    CHECK_EQ(json_array_size(res), 1);
    json_t *r0 = json_array_get(res, 0);
    CHECK(json_is_true(json_object_get(r0, "flagged")));
    json_t *cats = json_object_get(r0, "categories"), *scores = json_object_get(r0, "category_scores"),
           *types = json_object_get(r0, "category_applied_input_types");
    CHECK_EQ(json_object_size(cats), 13);    /* exactly OpenAI's 13 */
    CHECK_EQ(json_object_size(scores), 13);
    CHECK_EQ(json_object_size(types), 13);
    CHECK(json_is_true(json_object_get(cats, "harassment/threatening")));
    CHECK(json_is_false(json_object_get(cats, "sexual/minors")));
    CHECK(json_number_value(json_object_get(scores, "harassment/threatening")) >= 0.5);
    CHECK_STR(json_string_value(json_array_get(json_object_get(types, "violence"), 0)), "text");
    json_t *ext = json_object_get(r0, "parapet");
    CHECK_STR(json_string_value(json_object_get(ext, "action")), "block");
    CHECK(json_object_get(json_object_get(ext, "categories"), "prompt_injection"));
    json_decref(j);
    resp_free(&r);
}

TEST(server_moderations_array_and_parts) {
    int port = server();
    resp r;
    CHECK_OK(roundtrip(port, post("/v1/moderations", "{\"input\": [\"hello\", \"you worthless idiot\", \"thanks\"]}", NULL), &r));
    CHECK_EQ(r.status, 200);
    json_t *j = json_loads(r.body, 0, NULL);
    CHECK(j);
    json_t *res = json_object_get(j, "results");
    CHECK_EQ(json_array_size(res), 3);
    CHECK(json_is_false(json_object_get(json_array_get(res, 0), "flagged")));
    CHECK(json_is_true(json_object_get(json_array_get(res, 1), "flagged")));
    CHECK_STR(json_string_value(json_object_get(j, "model")), "parapet");
    json_decref(j);
    resp_free(&r);
    /* content parts: one result for the text of all parts */
    CHECK_OK(roundtrip(port, post("/v1/moderations",
        "{\"input\": [{\"type\": \"text\", \"text\": \"hello\"}, {\"type\": \"text\", \"text\": \"you worthless idiot\"}]}", NULL), &r));
    CHECK_EQ(r.status, 200);
    j = json_loads(r.body, 0, NULL);
    CHECK_EQ(json_array_size(json_object_get(j, "results")), 1);
    CHECK(json_is_true(json_object_get(json_array_get(json_object_get(j, "results"), 0), "flagged")));
    json_decref(j);
    resp_free(&r);
}

TEST(server_bad_requests_get_400_with_openai_error) {
    int port = server();
    static const struct { const char *body; const char *param; const char *words; } cases[] = {
        {"{\"input\": ", NULL, "parse"},
        {"[1,2]", NULL, "object"},
        {"{}", "input", "missing"},
        {"{\"input\": 5}", "input", "string"},
        {"{\"input\": []}", "input", "empty"},
        {"{\"input\": [\"a\", 3]}", "input", "input[1]"},
        {"{\"input\": \"a\", \"model\": 7}", "model", "model"},
        {"{\"input\": [{\"type\": \"image_url\", \"image_url\": {\"url\": \"x\"}}]}", "input", "image"},
        {"{\"input\": \"\\ud800\"}", NULL, "parse"},            /* lone surrogate */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        resp r;
        CHECK_OK(roundtrip(port, post("/v1/moderations", cases[i].body, NULL), &r));
        CHECK_MSG(r.status == 400, "case %zu: status %d body %s", i, r.status, r.body);
        json_t *j = json_loads(r.body, 0, NULL);
        json_t *err = json_object_get(j, "error");
        CHECK_MSG(err, "case %zu: no error object: %s", i, r.body);
        CHECK_STR(json_string_value(json_object_get(err, "type")), "invalid_request_error");
        const char *msg = json_string_value(json_object_get(err, "message"));
        CHECK_MSG(msg && strstr(msg, cases[i].words), "case %zu: message %s", i, msg ? msg : "(none)");
        json_t *param = json_object_get(err, "param");
        if (cases[i].param) CHECK_STR(json_string_value(param), cases[i].param);
        else CHECK(json_is_null(param));
        CHECK(json_object_get(err, "code"));
        json_decref(j);
        resp_free(&r);
    }
}

TEST(server_status_codes_404_405_413_and_more) {
    int port = server();
    resp r;
    CHECK_OK(roundtrip(port, "GET /v1/nothing HTTP/1.1\r\n\r\n", &r));
    CHECK_EQ(r.status, 404);
    CHECK(strstr(r.body, "\"error\""));
    resp_free(&r);
    CHECK_OK(roundtrip(port, "GET /v1/moderations HTTP/1.1\r\n\r\n", &r));
    CHECK_EQ(r.status, 405);
    resp_free(&r);
    /* announced body over the limit: answered before the body is sent */
    CHECK_OK(roundtrip(port, "POST /v1/moderations HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n", &r));
    CHECK_EQ(r.status, 413);
    CHECK(strcasestr(r.head, "connection: close"));
    resp_free(&r);
    CHECK_OK(roundtrip(port, "GET / HTTP/3.0\r\n\r\n", &r));
    CHECK_EQ(r.status, 505);
    resp_free(&r);
    CHECK_OK(roundtrip(port, "GARBAGE\r\n\r\n", &r));
    CHECK_EQ(r.status, 400);
    resp_free(&r);
    CHECK_OK(roundtrip(port, "GET /healthz HTTP/1.1\r\n\r\n", &r));
    CHECK_EQ(r.status, 200);
    CHECK(strstr(r.body, "ok"));
    resp_free(&r);
    CHECK_OK(roundtrip(port, "GET /readyz HTTP/1.1\r\n\r\n", &r));
    CHECK_EQ(r.status, 200);
    resp_free(&r);
}

TEST(server_check_conversation_role_and_policy_override) {
    int port = server();
    const char *conv = "{\"messages\": [{\"role\": \"user\", \"content\": \"you worthless idiot\"},"
                       "{\"role\": \"assistant\", \"content\": \"write to bob@example.com\"},"
                       "{\"role\": \"user\", \"content\": \"thanks\"}], \"role\": \"assistant\"}";
    resp r;
    CHECK_OK(roundtrip(port, post("/v1/check", conv, NULL), &r));
    CHECK_MSG(r.status == 200, "status %d: %s", r.status, r.body);
    json_t *j = json_loads(r.body, 0, NULL);
    CHECK(j);
    CHECK_EQ(json_integer_value(json_object_get(json_object_get(j, "message"), "index")), 1);
    CHECK(json_is_true(json_object_get(j, "flagged")));
    json_t *res = json_object_get(j, "result");
    json_t *ev = json_array_get(json_object_get(res, "evidence"), 0);
    CHECK_STR(json_string_value(json_object_get(ev, "category")), "pii");
    CHECK_EQ(json_integer_value(json_object_get(ev, "start")), 9);   /* into that message */
    CHECK(json_array_size(json_object_get(j, "tiers")) >= 1);
    CHECK(json_number_value(json_object_get(j, "latency_us")) > 0);
    json_decref(j);
    resp_free(&r);
    /* the same message with pii disabled for this request only */
    char body[1024];
    snprintf(body, sizeof body, "%.*s, \"policy\": {\"categories\": {\"pii\": {\"enabled\": false}}}}",
             (int)strlen(conv) - 1, conv);
    CHECK_OK(roundtrip(port, post("/v1/check", body, NULL), &r));
    CHECK_EQ(r.status, 200);
    j = json_loads(r.body, 0, NULL);
    CHECK(json_is_false(json_object_get(j, "flagged")));
    CHECK(json_is_true(json_object_get(j, "policy_override")));
    json_decref(j);
    resp_free(&r);
    /* an invalid overlay is a 400 naming the policy */
    CHECK_OK(roundtrip(port, post("/v1/check", "{\"text\": \"a\", \"policy\": {\"categories\": {\"pii\": {\"threshold\": 7}}}}", NULL), &r));
    CHECK_EQ(r.status, 400);
    CHECK(strstr(r.body, "\"param\":\"policy\""));
    resp_free(&r);
    CHECK_OK(roundtrip(port, post("/v1/check", "{\"messages\": [{\"role\": \"user\"}]}", NULL), &r));
    CHECK_EQ(r.status, 400);
    resp_free(&r);
    CHECK_OK(roundtrip(port, post("/v1/check", "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"role\": \"tool\"}", NULL), &r));
    CHECK_EQ(r.status, 400);
    resp_free(&r);
}

/* ------------------------------------------------------- HTTP behaviour ---- */

TEST(server_pipelined_requests_answer_in_order) {
    int port = server();
    int fd = dial(port);
    CHECK(fd >= 0);
    char all[4096] = "GET /healthz HTTP/1.1\r\n\r\n";
    strcat(all, post("/v1/moderations", "{\"input\": \"you worthless idiot\"}", NULL));
    strcat(all, "GET /nope HTTP/1.1\r\n\r\n");
    strcat(all, "GET /readyz HTTP/1.1\r\n\r\n");
    send_all(fd, all, strlen(all));
    static const int want[] = {200, 200, 404, 200};
    for (int i = 0; i < 4; i++) {
        resp r;
        CHECK_OK(read_resp(fd, &r));
        CHECK_MSG(r.status == want[i], "response %d: %d", i, r.status);
        if (i == 1) CHECK(strstr(r.body, "modr-"));
        if (i == 3) CHECK(strstr(r.body, "ready"));
        resp_free(&r);
    }
    close(fd);
}

TEST(server_chunked_body_with_100_continue) {
    int port = server();
    int fd = dial(port);
    const char *h = "POST /v1/moderations HTTP/1.1\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n";
    send_all(fd, h, strlen(h));
    char buf[64] = {0};
    ssize_t k = recv(fd, buf, sizeof buf - 1, 0);
    CHECK(k > 0);
    CHECK(!strncmp(buf, "HTTP/1.1 100 Continue\r\n\r\n", 25));
    const char *chunks = "a\r\n{\"input\": \r\n8\r\n\"a b c\"}\r\n0\r\n\r\n";
    for (const char *p = chunks; *p; p++) send_all(fd, p, 1);   /* byte by byte */
    resp r;
    CHECK_OK(read_resp(fd, &r));
    CHECK_EQ(r.status, 200);
    CHECK(strstr(r.body, "\"results\""));
    resp_free(&r);
    close(fd);
}

TEST(server_slowloris_headers_time_out) {
    int port = server();
    int fd = dial(port);
    double t0 = now_s();
    send_all(fd, "POST /v1/moderations HTTP/1.1\r\nX-Slow: ", 38);
    /* one byte every 50 ms: progress, but the header deadline (300 ms) still holds */
    resp r;
    int got = 0;
    for (int i = 0; i < 40 && !got; i++) {
        send_all(fd, "a", 1);
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 50) > 0) got = 1;
    }
    CHECK(got);
    double dt = now_s() - t0;
    int rc = read_resp(fd, &r);
    if (rc == 0) { CHECK_EQ(r.status, 408); resp_free(&r); }
    CHECK_MSG(dt < 1.5, "closed after %.2fs", dt);
    close(fd);
    /* a slow body: headers complete, body never finishes */
    fd = dial(port);
    send_all(fd, "POST /v1/moderations HTTP/1.1\r\nContent-Length: 100\r\n\r\n{", 56);
    t0 = now_s();
    rc = read_resp(fd, &r);
    dt = now_s() - t0;
    if (rc == 0) { CHECK_EQ(r.status, 408); resp_free(&r); }
    CHECK_MSG(dt < 1.5, "slow body closed after %.2fs", dt);
    close(fd);
}

TEST(server_hundreds_of_idle_connections_and_abrupt_disconnects) {
    int port = server();
    enum { N = 300 };
    static int fds[N];
    int open_n = 0;
    for (int i = 0; i < N; i++) {
        fds[i] = dial(port);
        if (fds[i] >= 0) open_n++;
    }
    CHECK_EQ(open_n, N);
    /* abrupt: half a request then a reset; a full request then a reset */
    for (int i = 0; i < 50; i++) {
        int fd = dial(port);
        struct linger lg = {1, 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        if (i % 2) send_all(fd, "POST /v1/moderations HTTP/1.1\r\nContent-Len", 42);
        else send_all(fd, post("/v1/moderations", "{\"input\": \"hello\"}", NULL),
                      strlen(post("/v1/moderations", "{\"input\": \"hello\"}", NULL)));
        close(fd);
    }
    double t0 = now_s();
    resp r;
    CHECK_OK(roundtrip(port, post("/v1/moderations", "{\"input\": \"still here\"}", NULL), &r));
    CHECK_EQ(r.status, 200);
    CHECK_MSG(now_s() - t0 < 0.5, "took %.3fs", now_s() - t0);
    resp_free(&r);
    CHECK_OK(roundtrip(port, "GET /metrics HTTP/1.1\r\n\r\n", &r));
    CHECK_EQ(r.status, 200);
    char *m = strstr(r.body, "\nparapet_connections ");
    CHECK(m);
    CHECK_MSG(atol(m + 21) >= N, "connections gauge %ld", atol(m + 21));
    CHECK(strstr(r.body, "parapet_http_request_duration_seconds_bucket{endpoint=\"moderations\""));
    CHECK(strstr(r.body, "parapet_flags_total{category="));
    CHECK(strstr(r.body, "parapet_queue_depth "));
    CHECK(strstr(r.body, "parapet_model_loaded{tier=\"classifier\"}"));
    resp_free(&r);
    /* the idle connections are still usable */
    send_all(fds[7], "GET /healthz HTTP/1.1\r\n\r\n", 25);
    CHECK_OK(read_resp(fds[7], &r));
    CHECK_EQ(r.status, 200);
    resp_free(&r);
    for (int i = 0; i < N; i++) close(fds[i]);
}

/* -------------------------------------------------- limits and overload ---- */

static srv_server *start_custom(srv_config *c, int *port) {
    char *err = NULL;
    srv_server *s = srv_create(c, open_engine(NULL), &err);
    if (!s) { fprintf(stderr, "srv_create: %s\n", err); free(err); return NULL; }
    srv_start(s);
    *port = srv_port(s);
    return s;
}

TEST(server_connection_cap_evicts_idle) {
    srv_config c;
    test_config(&c);
    c.threads = 1;
    c.max_connections = 4;
    int port;
    srv_server *s = start_custom(&c, &port);
    srv_config_clear(&c);
    CHECK(s);
    int fds[4];
    for (int i = 0; i < 4; i++) fds[i] = dial(port);
    usleep(50000);
    resp r;
    CHECK_OK(roundtrip(port, "GET /healthz HTTP/1.1\r\n\r\n", &r));   /* 5th connection */
    CHECK_EQ(r.status, 200);
    resp_free(&r);
    /* the oldest idle connection was the one evicted */
    char b;
    struct pollfd p = {fds[0], POLLIN, 0};
    CHECK(poll(&p, 1, 500) == 1 && recv(fds[0], &b, 1, 0) == 0);
    for (int i = 0; i < 4; i++) close(fds[i]);
    srv_destroy(s);
}

TEST(server_api_keys_and_rate_limit) {
    srv_config c;
    test_config(&c);
    CHECK_OK(srv_config_add_key(&c, "sk-test:0.001"));  /* burst 1, then ~nothing */
    CHECK_OK(srv_config_add_key(&c, "sk-free"));
    int port;
    srv_server *s = start_custom(&c, &port);
    srv_config_clear(&c);
    CHECK(s);
    const char *body = "{\"input\": \"hi\"}";
    resp r;
    CHECK_OK(roundtrip(port, post("/v1/moderations", body, NULL), &r));
    CHECK_EQ(r.status, 401);
    CHECK(strstr(r.body, "invalid_api_key"));
    resp_free(&r);
    CHECK_OK(roundtrip(port, post("/v1/moderations", body, "Authorization: Bearer sk-wrong\r\n"), &r));
    CHECK_EQ(r.status, 401);
    resp_free(&r);
    CHECK_OK(roundtrip(port, post("/v1/moderations", body, "Authorization: Bearer sk-test\r\n"), &r));
    CHECK_EQ(r.status, 200);
    resp_free(&r);
    CHECK_OK(roundtrip(port, post("/v1/moderations", body, "Authorization: Bearer sk-test\r\n"), &r));
    CHECK_EQ(r.status, 429);
    CHECK(strcasestr(r.head, "retry-after"));
    CHECK(strstr(r.body, "rate_limit_exceeded"));
    resp_free(&r);
    for (int i = 0; i < 3; i++) {
        CHECK_OK(roundtrip(port, post("/v1/moderations", body, "Authorization: bearer sk-free\r\n"), &r));
        CHECK_EQ(r.status, 200);
        resp_free(&r);
    }
    CHECK_OK(roundtrip(port, "GET /healthz HTTP/1.1\r\n\r\n", &r));   /* no key needed */
    CHECK_EQ(r.status, 200);
    resp_free(&r);
    srv_destroy(s);
}

/* A body big enough to go to the worker pool and take a while. */
static char *heavy_request(void) {
    size_t n = 200 * 1024;
    char *text = malloc(n + 1);
    for (size_t i = 0; i < n; i++) text[i] = "the quick brown fox jumps over a lazy dog "[i % 42];
    text[n] = 0;
    char *body = malloc(n + 64);
    snprintf(body, n + 64, "{\"input\": \"%s\"}", text);
    free(text);
    char *req = malloc(n + 256);
    snprintf(req, n + 256, "POST /v1/moderations HTTP/1.1\r\nContent-Length: %zu\r\n\r\n%s", strlen(body), body);
    free(body);
    return req;
}

TEST(server_heavy_requests_do_not_block_cheap_and_overload_sheds) {
    srv_config c;
    test_config(&c);
    c.threads = 1;
    c.workers = 1;
    c.queue_depth = 1;
    c.inline_max_bytes = 1024;
    int port;
    srv_server *s = start_custom(&c, &port);
    srv_config_clear(&c);
    CHECK(s);
    char *heavy = heavy_request();
    enum { H = 4 };
    int fds[H];
    for (int i = 0; i < H; i++) {
        fds[i] = dial(port);
        send_all(fds[i], heavy, strlen(heavy));
    }
    /* while they run: a cheap request on the same single loop thread is answered */
    resp r;
    double t0 = now_s();
    CHECK_OK(roundtrip(port, post("/v1/moderations", "{\"input\": \"quick\"}", NULL), &r));
    double cheap = now_s() - t0;
    CHECK_EQ(r.status, 200);
    resp_free(&r);
    int ok = 0, shed = 0;
    for (int i = 0; i < H; i++) {
        CHECK_OK(read_resp(fds[i], &r));
        if (r.status == 200) ok++;
        if (r.status == 503) { shed++; CHECK(strstr(r.body, "overloaded")); }
        resp_free(&r);
        close(fds[i]);
    }
    double all = now_s() - t0;
    CHECK_MSG(ok >= 1 && shed >= 1 && ok + shed == H, "ok %d shed %d", ok, shed);
    CHECK_MSG(cheap < all, "cheap %.3fs vs heavy %.3fs", cheap, all);
    free(heavy);
    srv_destroy(s);
}

/* ---------------------------------------------- reload and shutdown ---- */

TEST(server_engine_swap_keeps_connections) {
    srv_config c;
    test_config(&c);
    int port;
    srv_server *s = start_custom(&c, &port);
    srv_config_clear(&c);
    CHECK(s);
    int fd = dial(port);
    const char *req = post("/v1/moderations", "{\"input\": \"you worthless idiot\"}", NULL);
    char copy[512];
    size_t rl = strlen(req) < sizeof copy - 1 ? strlen(req) : sizeof copy - 1;
    memcpy(copy, req, rl);
    copy[rl] = 0;
    resp r;
    send_all(fd, copy, strlen(copy));
    CHECK_OK(read_resp(fd, &r));
    CHECK(strstr(r.body, "\"flagged\":true"));
    resp_free(&r);
    parapet_engine *lenient = open_engine("version: 1\nname: lenient\ncategories:\n  harassment:\n    threshold: 1\n    action: flag\n");
    CHECK(lenient);
    srv_swap_engine(s, lenient);
    send_all(fd, copy, strlen(copy));             /* same connection */
    CHECK_OK(read_resp(fd, &r));
    CHECK_MSG(strstr(r.body, "\"flagged\":false"), "%s", r.body);
    resp_free(&r);
    close(fd);
    srv_destroy(s);
}

typedef struct { int fd; resp r; int rc; } reader_arg;
static void *reader(void *p) {
    reader_arg *a = p;
    a->rc = read_resp(a->fd, &a->r);
    return NULL;
}

TEST(server_graceful_stop_finishes_in_flight) {
    srv_config c;
    test_config(&c);
    c.threads = 1;
    c.inline_max_bytes = 1024;
    int port;
    srv_server *s = start_custom(&c, &port);
    srv_config_clear(&c);
    CHECK(s);
    char *heavy = heavy_request();
    reader_arg a = {.fd = dial(port)};
    send_all(a.fd, heavy, strlen(heavy));
    free(heavy);
    int idle = dial(port);
    usleep(20000);
    pthread_t th;
    pthread_create(&th, NULL, reader, &a);
    srv_stop(s);                                  /* while the heavy one runs */
    pthread_join(th, NULL);
    CHECK_OK(a.rc);
    CHECK_EQ(a.r.status, 200);
    resp_free(&a.r);
    char b0;
    CHECK(recv(a.fd, &b0, 1, 0) == 0);           /* then closed, not left open */
    char b;
    CHECK(recv(idle, &b, 1, 0) == 0);             /* idle connection closed */
    close(idle);
    close(a.fd);
    CHECK(dial(port) < 0);                        /* no longer listening */
    srv_destroy(s);
}

/* --------------------------------------------------------------- config ---- */

TEST(server_config_file_and_errors_with_line) {
    char path[] = "/tmp/pp_srv_cfg_XXXXXX";
    int fd = mkstemp(path);
    const char *y = "port: 9999\nthreads: 3\nmax_body_bytes: 5000\ntimeouts:\n  header_ms: 1234\n"
                    "api_keys:\n  - key: sk-a\n    rate_limit: 5\n  - sk-b\naccess_log:\n  path: /tmp/x.log\n  text: true\n";
    CHECK(write(fd, y, strlen(y)) == (ssize_t)strlen(y));
    close(fd);
    srv_config c;
    srv_config_init(&c);
    char *err = NULL;
    CHECK_MSG(srv_config_load(&c, path, &err) == 0, "%s", err ? err : "");
    CHECK_EQ(c.port, 9999);
    CHECK_EQ(c.threads, 3);
    CHECK_EQ(c.max_body_bytes, 5000);
    CHECK_EQ(c.header_timeout_ms, 1234);
    CHECK_EQ(c.n_keys, 2);
    CHECK_STR(c.keys[0].key, "sk-a");
    CHECK_NEAR(c.keys[0].rate_limit, 5, 1e-9);
    CHECK_STR(c.keys[1].key, "sk-b");
    CHECK_STR(c.access_log, "/tmp/x.log");
    CHECK_EQ(c.log_text, 1);
    srv_config_clear(&c);
    fd = open(path, O_WRONLY | O_TRUNC);
    const char *bad = "port: 80\nthreads: 2\nportt: 5\n";
    CHECK(write(fd, bad, strlen(bad)) == (ssize_t)strlen(bad));
    close(fd);
    srv_config_init(&c);
    CHECK(srv_config_load(&c, path, &err) == -1);
    CHECK_MSG(err && strstr(err, ":3:") && strstr(err, "portt"), "%s", err ? err : "");
    free(err);
    srv_config_clear(&c);
    unlink(path);
}

/* ------------------------------------------------------- the binary ---- */

/* Spawns PARAPET_BIN serve with args; returns pid, *port from its first stderr line. */
static pid_t spawn_server(char *const args[], int *port, int *errfd) {
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
    char line[512];
    size_t n = 0;
    *port = 0;
    struct pollfd pf = {p[0], POLLIN, 0};
    while (n < sizeof line - 1 && poll(&pf, 1, 5000) > 0) {
        if (read(p[0], line + n, 1) != 1) break;
        if (line[n++] == '\n') break;
    }
    line[n] = 0;
    char *c = strstr(line, "127.0.0.1:");
    if (c) *port = atoi(c + 10);
    *errfd = p[0];
    return pid;
}

TEST(server_binary_sighup_reload_and_sigterm) {
    const char *bin = getenv("PARAPET_BIN");
    struct stat st;
    if (!bin || stat(bin, &st)) SKIP("PARAPET_BIN not set (run through make test)");
    char pol[] = "/tmp/pp_srv_pol_XXXXXX";
    int fd = mkstemp(pol);
    const char *strict = "version: 1\nname: strict\ncategories:\n  harassment:\n    threshold: 0.2\n    action: block\n";
    CHECK(write(fd, strict, strlen(strict)) > 0);
    close(fd);
    char *args[] = {(char *)bin, "serve", "--port", "0", "--threads", "1", "--policy", pol, NULL};
    int port = 0, errfd = -1;
    pid_t pid = spawn_server(args, &port, &errfd);
    CHECK_MSG(port > 0, "no port from the server");
    int c = dial(port);
    char req[512];
    const char *pr = post("/v1/moderations", "{\"input\": \"you worthless idiot\"}", NULL);
    size_t rl = strlen(pr) < sizeof req - 1 ? strlen(pr) : sizeof req - 1;
    memcpy(req, pr, rl);
    req[rl] = 0;
    resp r;
    send_all(c, req, strlen(req));
    CHECK_OK(read_resp(c, &r));
    CHECK(strstr(r.body, "\"flagged\":true"));
    resp_free(&r);
    fd = open(pol, O_WRONLY | O_TRUNC);
    const char *lenient = "version: 1\nname: lenient\ncategories:\n  harassment:\n    threshold: 1\n    action: flag\n";
    CHECK(write(fd, lenient, strlen(lenient)) > 0);
    close(fd);
    kill(pid, SIGHUP);
    char line[512] = {0};
    size_t n = 0;
    struct pollfd pf = {errfd, POLLIN, 0};
    while (n < sizeof line - 1 && poll(&pf, 1, 5000) > 0 && read(errfd, line + n, 1) == 1)
        if (line[n++] == '\n') break;
    CHECK_MSG(strstr(line, "reloaded"), "stderr: %s", line);
    send_all(c, req, strlen(req));               /* same connection, new policy */
    CHECK_OK(read_resp(c, &r));
    CHECK_MSG(strstr(r.body, "\"flagged\":false"), "%s", r.body);
    resp_free(&r);
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(c);
    close(errfd);
    unlink(pol);
}

TEST(server_openai_npm_client) {
    const char *bin = getenv("PARAPET_BIN");
    struct stat st;
    if (!bin || stat(bin, &st)) SKIP("PARAPET_BIN not set (run through make test)");
    if (stat("tests/server/node_modules/openai", &st))
        SKIP("tests/server/node_modules missing: run `npm ci --prefix tests/server`");
    char cmd[512];
    snprintf(cmd, sizeof cmd, "PARAPET_BIN=%s node tests/server/openai_client.mjs > /tmp/pp_openai_client.log 2>&1", bin);
    int rc = system(cmd);
    if (rc) {
        char log[4096] = {0};
        FILE *f = fopen("/tmp/pp_openai_client.log", "r");
        if (f) { size_t k = fread(log, 1, sizeof log - 1, f); log[k] = 0; fclose(f); }
        CHECK_MSG(0, "openai_client.mjs failed (%d): %s", rc, log);
    }
}

TEST(server_access_log_has_no_user_text_by_default) {
    char path[] = "/tmp/pp_srv_log_XXXXXX";
    int lfd = mkstemp(path);
    close(lfd);
    for (int with_text = 0; with_text < 2; with_text++) {
        srv_config c;
        test_config(&c);
        c.access_log = strdup(path);
        c.log_text = with_text;
        int port;
        srv_server *s = start_custom(&c, &port);
        srv_config_clear(&c);
        CHECK(s);
        resp r;
        CHECK_OK(roundtrip(port, post("/v1/moderations", "{\"input\": \"secret-user-words\"}", NULL), &r));
        CHECK_EQ(r.status, 200);
        resp_free(&r);
        srv_destroy(s);
        char log[4096] = {0};
        FILE *f = fopen(path, "r");
        CHECK(f);
        size_t k = fread(log, 1, sizeof log - 1, f);
        fclose(f);
        log[k] = 0;
        char *last = log, *nl;
        while ((nl = strchr(last, '\n')) && nl[1]) last = nl + 1;   /* the last line */
        json_t *j = json_loads(last, JSON_DISABLE_EOF_CHECK, NULL);
        CHECK_MSG(j, "log line is not JSON: %s", last);
        CHECK_EQ(json_integer_value(json_object_get(j, "status")), 200);
        CHECK_STR(json_string_value(json_object_get(j, "path")), "/v1/moderations");
        CHECK_EQ(json_integer_value(json_object_get(j, "inputs")), 1);
        CHECK_EQ(strstr(last, "secret-user-words") != NULL, with_text);
        json_decref(j);
    }
    unlink(path);
}
