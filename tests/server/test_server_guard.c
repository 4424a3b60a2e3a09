/* test_server_guard.c -- `parapet serve` with a guard model (src/server, issue 6): the
** guard tier runs on the worker pool, never on a loop thread, so a slow guard call does
** not hold up the cheap requests of other connections on the same loop; guard work is
** bounded by guard_queue_depth (503 + Retry-After beyond it); the metrics report it.
**
** The guard model is a tiny random-weight llama synthesized once per run into /tmp
** with parapet_model_synth, over a small byte-level BPE vocabulary written here (256
** byte pieces, the Llama 3 chat specials, and the pieces the guard's scoring reads:
** "safe", "unsafe", the category numbers).  Its verdicts are noise, which is fine: these
** tests are about where and when it runs, not what it says.  To make a guard call slow
** on demand the server's test-only srv_config.test_guard_delay_ms adds a sleep in the
** worker before each guard-tier request. */
#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "test.h"
#include "guard/byte_piece.h"
#include "parapet.h"
#include "server/server.h"

/* ---------------------------------------------------------- the guard model ---- */

static char g_model[64], g_tok[64];

static void remove_files(void) {
    if (g_model[0]) unlink(g_model);
    if (g_tok[0]) unlink(g_tok);
}

static int write_vocab(const char *path) {
    static const char *const pieces[] = {"sa", "saf", "safe", "un", "unsafe", "10", "11", "12", "13", "14"};
    static const char *const rules[] = {"s a", "sa f", "saf e", "u n", "un safe", "1 0", "1 1", "1 2", "1 3", "1 4"};
    static const char *const specials[] = {"<|begin_of_text|>", "<|start_header_id|>",
                                           "<|end_header_id|>", "<|eot_id|>"};
    enum { NP = sizeof pieces / sizeof *pieces };
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fputs("{\"added_tokens\":[", f);
    for (int i = 0; i < 4; i++)
        fprintf(f, "%s{\"id\":%d,\"content\":\"%s\",\"special\":true}", i ? "," : "", 256 + NP + i,
                specials[i]);
    fputs("],\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"Regex\":"
          "\"\\\\p{L}+|\\\\p{N}{1,3}\"}},\"model\":{\"type\":\"BPE\",\"vocab\":{", f);
    for (int b = 0; b < 256; b++) {
        char sym[8];
        byte_piece_json(b, sym);
        fprintf(f, "%s\"%s\":%d", b ? "," : "", sym, b);
    }
    for (int i = 0; i < NP; i++) fprintf(f, ",\"%s\":%d", pieces[i], 256 + i);
    fputs("},\"merges\":[", f);
    for (int i = 0; i < NP; i++) fprintf(f, "%s\"%s\"", i ? "," : "", rules[i]);
    fputs("]}}", f);
    return fclose(f);
}

/* The synthesized guard model's path (made on first use), or NULL. */
static const char *guard_model(void) {
    if (g_model[0]) return g_model;
    snprintf(g_tok, sizeof g_tok, "/tmp/pp_srvguard_tok_%d.json", (int)getpid());
    snprintf(g_model, sizeof g_model, "/tmp/pp_srvguard_%d.gguf", (int)getpid());
    atexit(remove_files);
    char *detail = NULL;
    if (write_vocab(g_tok) || parapet_model_synth("tiny", "q8_0", g_tok, 11, g_model, &detail)) {
        fprintf(stderr, "synth: %s\n", detail ? detail : "?");
        parapet_free(detail);
        g_model[0] = 0;
        return NULL;
    }
    return g_model;
}

/* An engine over `policy` with the tiny guard model (guard = 0: without it). */
static parapet_engine *open_engine(const char *policy, int guard) {
    parapet_options o;
    parapet_options_init(&o);
    o.policy_text = policy;
    o.policy_len = strlen(policy);
    if (guard && !(o.guard_path = guard_model())) return NULL;
    parapet_engine *e = NULL;
    char *detail = NULL;
    if (parapet_open(&o, &e, &detail)) fprintf(stderr, "open: %s\n", detail ? detail : "?");
    parapet_free(detail);
    return e;
}

/* Cheap texts score ~0 and the toxic one >= 0.5 on the default policy, so this band
** sends only the toxic one to the guard. */
static const char cascade_policy[] = "extends: default\nguard: {mode: cascade, low: 0.5, high: 1}\n";
static const char toxic[] = "I will find where you live and hurt you, you worthless idiot";

/* ------------------------------------------------------------------ client ---- */

static srv_server *start(int guard_depth, int delay_ms, const char *policy, int *port) {
    srv_config c;
    srv_config_init(&c);
    c.port = 0;
    c.threads = 1;                /* one loop: every connection shares it */
    c.workers = 1;
    c.guard_queue_depth = (size_t)guard_depth;
    c.test_guard_delay_ms = delay_ms;
    c.shutdown_timeout_ms = 3000;
    parapet_engine *e = open_engine(policy, 1);
    if (!e) { srv_config_clear(&c); return NULL; }
    char *err = NULL;
    srv_server *s = srv_create(&c, e, &err);
    srv_config_clear(&c);
    if (!s) { fprintf(stderr, "srv_create: %s\n", err); free(err); return NULL; }
    if (srv_start(s)) { srv_destroy(s); return NULL; }
    *port = srv_port(s);
    return s;
}

static int dial(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(0x7f000001)};
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a)) { close(fd); return -1; }
    return fd;
}

/* Sends a POST of body to path on fd. */
static void send_post(int fd, const char *path, const char *body) {
    char req[4096];
    int n = snprintf(req, sizeof req, "POST %s HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n%s", path, strlen(body), body);
    for (int off = 0; off < n;) {
        ssize_t w = send(fd, req + off, (size_t)(n - off), MSG_NOSIGNAL);
        if (w <= 0) return;
        off += (int)w;
    }
}

typedef struct resp {
    int status;
    char head[1024];
    char body[65536];
} resp;

/* Reads one Content-Length response (no pipelining here).  0 on success. */
static int read_resp(int fd, resp *r) {
    static char buf[80000];
    size_t n = 0;
    memset(r, 0, sizeof *r);
    for (;;) {
        char *e = memmem(buf, n, "\r\n\r\n", 4);
        if (e) {
            size_t hl = (size_t)(e - buf) + 4;
            char *cl = strcasestr(buf, "content-length:");
            size_t bl = cl && cl < e ? strtoul(cl + 15, NULL, 10) : 0;
            if (hl >= sizeof r->head || bl >= sizeof r->body) return -1;
            while (n < hl + bl) {
                ssize_t k = recv(fd, buf + n, sizeof buf - n, 0);
                if (k <= 0) return -1;
                n += (size_t)k;
            }
            memcpy(r->head, buf, hl);
            memcpy(r->body, buf + hl, bl);
            r->status = atoi(buf + 9);
            return 0;
        }
        if (n == sizeof buf) return -1;
        ssize_t k = recv(fd, buf + n, sizeof buf - n, 0);
        if (k <= 0) return -1;
        n += (size_t)k;
    }
}

static int roundtrip(int port, const char *path, const char *body, resp *r) {
    int fd = dial(port);
    if (fd < 0) return -1;
    send_post(fd, path, body);
    int rc = read_resp(fd, r);
    close(fd);
    return rc;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Whether the /v1/check response body lists "guard" among the tiers that ran. */
static int guard_ran(const char *body) {
    json_t *j = json_loads(body, 0, NULL);
    int ran = 0;
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(j, "tiers"), i, t)
        if (json_is_string(t) && !strcmp(json_string_value(t), "guard")) ran = 1;
    json_decref(j);
    return ran;
}

/* ------------------------------------------------------------------- tests ---- */

TEST(server_guard_slow_request_does_not_block_cheap_ones) {
    int port;
    srv_server *s = start(8, 800, cascade_policy, &port);
    CHECK(s);
    if (!s) return;
    char body[256];
    snprintf(body, sizeof body, "{\"text\": \"%s\"}", toxic);
    double t0 = now_s();
    int slow = dial(port);
    CHECK(slow >= 0);
    send_post(slow, "/v1/check", body);
    /* meanwhile, on the same (only) loop thread: cheap requests come back at once */
    double worst = 0;
    for (int i = 0; i < 5; i++) {
        resp r;
        double t = now_s();
        CHECK_OK(roundtrip(port, "/v1/check", "{\"text\": \"have a nice day\"}", &r));
        double dt = now_s() - t;
        if (dt > worst) worst = dt;
        CHECK_EQ(r.status, 200);
        CHECK_MSG(!guard_ran(r.body), "cheap text went to the guard: %s", r.body);
    }
    double cheap_done = now_s() - t0;
    resp r;
    CHECK_OK(read_resp(slow, &r));
    double slow_done = now_s() - t0;
    close(slow);
    CHECK_EQ(r.status, 200);
    CHECK_MSG(guard_ran(r.body), "the toxic text skipped the guard: %s", r.body);
    CHECK(strstr(r.body, "\"flagged\":true"));      /* the cheap tiers' verdict stands */
    CHECK_MSG(slow_done >= 0.8, "guard answered in %.3fs, before its 0.8 s delay", slow_done);
    CHECK_MSG(cheap_done < 0.6, "cheap requests took %.3fs while the guard ran", cheap_done);
    CHECK_MSG(worst < 0.3, "a cheap request took %.3fs", worst);
    srv_destroy(s);
}

TEST(server_guard_moderations_always_mode_answers_from_worker) {
    int port;
    srv_server *s = start(8, 0, "extends: default\nguard: {mode: always}\n", &port);
    CHECK(s);
    if (!s) return;
    resp r;
    CHECK_OK(roundtrip(port, "/v1/moderations", "{\"input\": [\"hello there\", \"you worthless idiot\"]}", &r));
    CHECK_EQ(r.status, 200);
    json_t *j = json_loads(r.body, 0, NULL);
    CHECK_MSG(j, "bad JSON: %s", r.body);
    json_t *res = json_object_get(j, "results");
    CHECK_EQ(json_array_size(res), 2);
    /* (the random guard may flag anything, so only the cheap tiers' flag is certain) */
    CHECK(json_is_true(json_object_get(json_array_get(res, 1), "flagged")));
    json_decref(j);
    /* /v1/check with an overlay that turns the guard off stays inline */
    CHECK_OK(roundtrip(port, "/v1/check",
                       "{\"text\": \"hello\", \"policy\": {\"detectors\": {\"guard\": false}}}", &r));
    CHECK_EQ(r.status, 200);
    CHECK(!guard_ran(r.body));
    CHECK_OK(roundtrip(port, "/v1/check", "{\"text\": \"hello\"}", &r));
    CHECK_EQ(r.status, 200);
    CHECK(guard_ran(r.body));
    /* metrics: two guard requests, the guard model is loaded, guard latencies recorded */
    int fd = dial(port);
    const char get[] = "GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n";
    CHECK(send(fd, get, sizeof get - 1, MSG_NOSIGNAL) == (ssize_t)(sizeof get - 1));
    CHECK_OK(read_resp(fd, &r));
    close(fd);
    CHECK(strstr(r.body, "parapet_model_loaded{tier=\"guard\"} 1"));
    CHECK_MSG(strstr(r.body, "parapet_guard_requests_total 2\n"), "%s", r.body);
    CHECK(strstr(r.body, "parapet_guard_queue_depth 0\n"));
    CHECK(strstr(r.body, "parapet_guard_queue_capacity 8\n"));
    const char *gc = strstr(r.body, "parapet_tier_duration_seconds_count{tier=\"guard\"} ");
    CHECK(gc && atoi(gc + strlen("parapet_tier_duration_seconds_count{tier=\"guard\"} ")) == 3);
    srv_destroy(s);
}

/* Guard requests from many connections at once are scored in shared forward passes:
** the guard engine batches what its waiters hand it (metrics: batches, requests, the
** largest batch), and every request is answered. */
TEST(server_guard_requests_from_many_connections_are_batched) {
    int port;
    srv_server *s = start(64, 0, "extends: default\nguard: {mode: always}\n", &port);
    CHECK(s);
    if (!s) return;
    enum { N = 12 };
    int fds[N];
    for (int i = 0; i < N; i++) fds[i] = dial(port);
    for (int i = 0; i < N; i++) send_post(fds[i], "/v1/moderations", "{\"input\": \"some text to judge\"}");
    int ok = 0;
    for (int i = 0; i < N; i++) {
        resp r;
        if (!read_resp(fds[i], &r) && r.status == 200) ok++;
        close(fds[i]);
    }
    CHECK_EQ(ok, N);
    resp r;
    int fd = dial(port);
    const char get[] = "GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n";
    CHECK(send(fd, get, sizeof get - 1, MSG_NOSIGNAL) == (ssize_t)(sizeof get - 1));
    CHECK_OK(read_resp(fd, &r));
    close(fd);
    const char *b = strstr(r.body, "\nparapet_guard_batched_requests_total ");
    const char *nb = strstr(r.body, "\nparapet_guard_batches_total ");
    const char *mx = strstr(r.body, "\nparapet_guard_batch_max ");
    CHECK(b && nb && mx);
    if (b && nb && mx) {
        long req = atol(b + strlen("\nparapet_guard_batched_requests_total "));
        long bat = atol(nb + strlen("\nparapet_guard_batches_total "));
        long max = atol(mx + strlen("\nparapet_guard_batch_max "));
        CHECK_MSG(req >= N, "batched requests %ld", req);   /* + the server's start-up probe */
        CHECK_MSG(max >= 2 && max <= 8 && bat < N, "batches %ld, largest %ld", bat, max);
    }
    srv_destroy(s);
}

TEST(server_guard_queue_full_answers_503) {
    int port;
    srv_server *s = start(1, 600, "extends: default\nguard: {mode: always}\n", &port);
    CHECK(s);
    if (!s) return;
    enum { N = 3 };
    int fds[N];
    for (int i = 0; i < N; i++) {
        fds[i] = dial(port);
        send_post(fds[i], "/v1/moderations", "{\"input\": \"hello\"}");
    }
    int ok = 0, shed = 0;
    for (int i = 0; i < N; i++) {
        resp r;
        CHECK_OK(read_resp(fds[i], &r));
        close(fds[i]);
        if (r.status == 200) ok++;
        if (r.status == 503) {
            shed++;
            CHECK(strstr(r.head, "Retry-After: 1"));
            json_t *j = json_loads(r.body, 0, NULL);
            json_t *e = json_object_get(j, "error");
            CHECK_MSG(e && json_is_string(json_object_get(e, "message")), "%s", r.body);
            CHECK_STR(json_string_value(json_object_get(e, "type")), "server_error");
            CHECK_STR(json_string_value(json_object_get(e, "code")), "overloaded");
            CHECK(strstr(json_string_value(json_object_get(e, "message")), "guard"));
            json_decref(j);
        }
    }
    CHECK_MSG(ok == 1 && shed == N - 1, "ok %d shed %d", ok, shed);
    /* the slot is free again once the guard request is done */
    resp r;
    CHECK_OK(roundtrip(port, "/v1/moderations", "{\"input\": \"hello\"}", &r));
    CHECK_EQ(r.status, 200);
    srv_destroy(s);
}

TEST(server_guard_reload_keeps_guard_tier_off_loop) {
    int port;
    srv_server *s = start(8, 300, cascade_policy, &port);
    CHECK(s);
    if (!s) return;
    /* the reload switches to mode never: nothing goes to the guard any more */
    parapet_engine *e = open_engine("extends: default\nguard: {mode: never}\n", 1);
    CHECK(e);
    if (e) srv_swap_engine(s, e);
    char body[256];
    snprintf(body, sizeof body, "{\"text\": \"%s\"}", toxic);
    resp r;
    double t = now_s();
    CHECK_OK(roundtrip(port, "/v1/check", body, &r));
    CHECK_EQ(r.status, 200);
    CHECK(!guard_ran(r.body));
    CHECK_MSG(now_s() - t < 0.25, "took %.3fs: went through the delayed guard path", now_s() - t);
    /* and back to always: every request goes through the guard worker */
    e = open_engine("extends: default\nguard: {mode: always}\n", 1);
    CHECK(e);
    if (e) srv_swap_engine(s, e);
    t = now_s();
    CHECK_OK(roundtrip(port, "/v1/check", "{\"text\": \"hello\"}", &r));
    CHECK_EQ(r.status, 200);
    CHECK(guard_ran(r.body));
    CHECK(now_s() - t >= 0.3);
    srv_destroy(s);
}

TEST(server_without_guard_reports_no_guard_model) {
    srv_config c;
    srv_config_init(&c);
    c.port = 0;
    c.threads = 1;
    c.workers = 1;
    CHECK_EQ(c.guard_queue_depth, 64);           /* the default */
    parapet_engine *e = open_engine("extends: default\n", 0);
    CHECK(e);
    CHECK(!parapet_engine_has_guard(e));
    char *err = NULL;
    srv_server *s = e ? srv_create(&c, e, &err) : NULL;
    srv_config_clear(&c);
    CHECK(s);
    if (!s) { free(err); return; }
    srv_start(s);
    int port = srv_port(s);
    resp r;
    int fd = dial(port);
    const char get[] = "GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n";
    send(fd, get, sizeof get - 1, MSG_NOSIGNAL);
    CHECK_OK(read_resp(fd, &r));
    close(fd);
    CHECK(strstr(r.body, "parapet_model_loaded{tier=\"guard\"} 0"));
    srv_destroy(s);
}

TEST(policy_guard_mode_accessor) {
    parapet_policy *p = NULL, *o = NULL;
    const char *doc = "extends: default\nguard: {mode: cascade, low: 0.2, high: 0.7}\n";
    CHECK_OK(parapet_policy_parse(doc, strlen(doc), "t", NULL, &p, NULL));
    int mode = -1;
    double lo = -1, hi = -1;
    CHECK_OK(parapet_policy_guard_mode(p, &mode, &lo, &hi));
    CHECK_EQ(mode, PARAPET_GUARD_CASCADE);
    CHECK_NEAR(lo, 0.2, 1e-9);
    CHECK_NEAR(hi, 0.7, 1e-9);
    const char *off = "{\"detectors\": {\"guard\": false}}";
    CHECK_OK(parapet_policy_parse(off, strlen(off), "t", p, &o, NULL));
    CHECK_OK(parapet_policy_guard_mode(o, &mode, NULL, NULL));
    CHECK_EQ(mode, PARAPET_GUARD_NEVER);
    CHECK_EQ(parapet_policy_guard_mode(NULL, &mode, NULL, NULL), PARAPET_ERR_ARG);
    parapet_policy_free(o);
    parapet_policy_free(p);
}
