/*
** server.c -- the event loops, connections and worker pool of `parapet serve`.
**
** Workload it was designed for: many keep-alive clients sending small JSON bodies whose
** moderation costs a few microseconds, so the server's own overhead is the budget.
** Each loop thread owns an epoll set and the connections it accepted; a request is
** parsed, moderated and answered on that thread with no hand-off, and the response of
** every pipelined request that arrived in one read goes out in one write.  Nothing is
** allocated per request on that path except what jansson and the engine allocate.
**
** Hostile clients.  Every byte a connection can make us hold is bounded: the read
** buffer grows only to header limit + body limit, a chunked body is compacted as it is
** decoded, the write buffer stops the connection's reads when a client does not read
** its responses.  A periodic sweep enforces deadlines that run from the first byte of
** a request (so a slowloris that sends one byte a second still meets the header
** deadline), a body deadline, an idle keep-alive deadline and a write-progress
** deadline.  At the connection cap the least recently active idle connection is
** evicted; if none is idle the newcomer gets a 503 and is closed.  Errors that lose
** the framing (400, 413, ...) answer with "Connection: close" and then linger, reading
** and discarding for a moment, so the client sees the answer instead of a reset.
**
** Heavy requests go to the worker pool through a bounded queue (503 when full).  A
** connection with a job out is "busy": it is neither read nor freed until the job
** comes back through the loop's completion list and eventfd; if the client vanished in
** the meantime the connection is only marked dead and freed then.
** With a guard model the handler runs inline with the guard off (ctx.inline_only) and
** may ask for the guard tier (ctx.want_guard); the request then becomes a guard job,
** bounded separately by guard_queue_depth (glen counts guard jobs queued or running),
** and the worker runs the whole pipeline.  A loop thread never calls the guard.
**
** TLS (optional; see tls.c for the context).  A TLS connection carries an SSL object;
** every I/O site tests that one pointer and otherwise takes the plain path untouched.
** The handshake runs inside the loop: SSL_do_handshake's WANT_READ / WANT_WRITE become
** the connection's epoll interest, and a client that does not finish it within the
** header deadline is closed by the sweep (counted as a timeout).  Then SSL_read and
** SSL_write replace recv and send; as OpenSSL may hold decrypted bytes the kernel no
** longer reports, a read continues while SSL_has_pending().  Closing sends close_notify
** (SSL_shutdown, once, non-blocking) unless the session failed.  A client that speaks
** plain HTTP to the TLS port gets a plain-text 400 and the lingering close.  SIGPIPE is
** blocked in loop threads, since OpenSSL writes with write(), not send(MSG_NOSIGNAL).
**
** Shutdown: srv_stop raises `stopping`; loops drop the listener, close idle
** connections, answer what is in progress with "Connection: close", and exit when
** nothing is left or the shutdown deadline passes.  Workers drain the queue, then exit.
*/
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include "server/server.h"

#define WBUF_HIGH (256u * 1024)   /* stop reading a connection with this much unsent */
#define LINGER_NS 1000000000ull   /* read-and-discard after an error response */
#define TAG_LISTEN ((void *)1)
#define PP_MIN(a, b) ((a) < (b) ? (a) : (b))
#define TAG_EVENT ((void *)2)

typedef struct loop loop;
typedef struct conn conn;
typedef struct job job;

struct conn {
    int fd;
    loop *L;
    conn *prev, *next;            /* the loop's list, least recently active first */
    conn *gnext;                  /* the loop's graveyard (closed, freed after the batch) */
    char *rbuf;                   /* rbuf[rstart..rlen): unparsed / current request */
    size_t rstart, rlen, rcap;
    http_req req;
    char *wbuf;                   /* wbuf[woff..wlen): unsent response bytes */
    size_t woff, wlen, wcap;
    uint64_t last_ns, req_ns, write_ns, linger_ns;
    uint32_t events;              /* registered epoll events */
    unsigned busy : 1, closing : 1, dead : 1, eof : 1, in_req : 1, continued : 1,
        lingering : 1;
    SSL *ssl;                     /* NULL on a plain-HTTP server */
    unsigned hs : 1,              /* TLS handshake in progress (deadline from req_ns) */
        tls_ww : 1,               /* OpenSSL must write before it can read on */
        tls_shut : 1,             /* close_notify sent (or must not be) */
        tls_bad : 1;              /* the session failed: no SSL_shutdown */
    char peer[48];
};

struct job {
    job *next;
    conn *c;
    const srv_route *rt;
    srv_engine_ref *ref;
    char *body;
    size_t body_len;
    int method, keep_alive;
    int guard;                    /* a guard-tier job (counted in srv_server.glen) */
    uint64_t t0;
    srv_buf out;
    int status;
    const char *ctype;
    int n_flagged, n_inputs;
    size_t bytes_in;
    char path[64];
};

struct loop {
    srv_server *s;
    int idx;
    pthread_t th;
    int epfd, evfd;
    conn *head, *tail;
    size_t n_conns;
    srv_engine_ref *ref;
    uint64_t gen;
    srv_metrics m;
    srv_buf body;                 /* reused response body buffer */
    uint64_t seq;
    pthread_mutex_t done_lock;
    job *done;                    /* completed jobs, pushed by workers */
    int draining;
    uint64_t now;
    conn *graveyard;              /* closed this batch: events of the batch may name them */
};

typedef struct key_state {
    pthread_mutex_t lock;
    double tokens;
    uint64_t last_ns;
} key_state;

struct srv_server {
    srv_config cfg;
    http_limits lim;
    int lfd, port;
    int n_loops, n_workers, n_gworkers;
    loop *loops;
    pthread_t *workers;           /* [n_workers + n_gworkers]: CPU workers, guard waiters */
    srv_metrics *wm;              /* [n_workers + n_gworkers] */
    int started;
    /* worker queue, and the guard tier's own (guard waiters take only from it) */
    pthread_mutex_t qlock;
    pthread_cond_t qcond, gcond;
    job **q, **gq;
    size_t qcap, qhead, qlen;
    size_t gcap, ghead, gqlen;    /* gq: capacity = gcap */
    size_t glen;                  /* guard jobs queued or running */
    int qstop;
    /* engine */
    pthread_mutex_t eng_lock;
    srv_engine_ref *cur;
    uint64_t gen;                 /* atomic */
    /* state (atomics) */
    int stopping;
    long conns, inflight;
    uint64_t reloads, accepted, evicted;
    uint64_t stop_deadline;
    key_state *ks;
    FILE *alog;
    pthread_mutex_t alog_lock;
    SSL_CTX *tls;                 /* NULL: plain HTTP */
};

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#define ALOAD(x) __atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define AADD(x, v) __atomic_add_fetch(&(x), (v), __ATOMIC_ACQ_REL)

/* ------------------------------------------------------------ engine refs ---- */

static void ref_get(srv_engine_ref *r) { AADD(r->refs, 1); }
static void ref_put(srv_engine_ref *r) {
    if (r && AADD(r->refs, -1) == 0) srv_engine_ref_free(r);
}

/* The loop's engine, refreshed when a reload installed a new one. */
static srv_engine_ref *loop_ref(loop *L) {
    srv_server *s = L->s;
    uint64_t g = ALOAD(s->gen);
    if (g != L->gen) {
        pthread_mutex_lock(&s->eng_lock);
        srv_engine_ref *n = s->cur;
        ref_get(n);
        L->gen = s->gen;
        pthread_mutex_unlock(&s->eng_lock);
        ref_put(L->ref);
        L->ref = n;
    }
    return L->ref;
}

void srv_swap_engine(srv_server *s, parapet_engine *eng) {
    srv_engine_ref *n = srv_engine_ref_new(eng);
    if (!n) { parapet_close(eng); return; }
    pthread_mutex_lock(&s->eng_lock);
    srv_engine_ref *old = s->cur;
    s->cur = n;
    __atomic_store_n(&s->gen, s->gen + 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&s->eng_lock);
    AADD(s->reloads, 1);
    ref_put(old);
}

/* ------------------------------------------------------------ connections ---- */

static void list_unlink(loop *L, conn *c) {
    if (c->prev) c->prev->next = c->next; else L->head = c->next;
    if (c->next) c->next->prev = c->prev; else L->tail = c->prev;
    c->prev = c->next = NULL;
}

static void list_append(loop *L, conn *c) {
    c->prev = L->tail;
    c->next = NULL;
    if (L->tail) L->tail->next = c; else L->head = c;
    L->tail = c;
}

static void conn_free(conn *c) {
    if (c->ssl) SSL_free(c->ssl);
    free(c->rbuf);
    free(c->wbuf);
    free(c);
}

/* Frees closed connections at the end of an event batch, not at once, since a later
** event of the same batch may still point at them (they are marked dead). */
static void bury(conn *c) {
    c->gnext = c->L->graveyard;
    c->L->graveyard = c;
}

static void free_graveyard(loop *L) {
    while (L->graveyard) {
        conn *c = L->graveyard;
        L->graveyard = c->gnext;
        conn_free(c);
    }
}

/* ------------------------------------------------------------------- TLS ---- */

/* Sends close_notify once, without waiting for the peer's (non-blocking: a peer that
** never reads it loses nothing), unless the handshake never finished or the session
** failed, when OpenSSL forbids it. */
static void tls_notify(conn *c) {
    if (c->tls_shut) return;
    c->tls_shut = 1;
    if (!c->hs && !c->tls_bad) SSL_shutdown(c->ssl);
    ERR_clear_error();
}

/* SSL_read with recv's contract: >0 bytes read, 0 at the end of the stream (close_
** notify or a bare TCP FIN), -1 with errno EAGAIN (nothing yet; tls_ww set when OpenSSL
** must write first) or EIO (the session failed). */
static ssize_t tls_recv(conn *c, void *buf, size_t n) {
    int r = SSL_read(c->ssl, buf, n > INT_MAX ? INT_MAX : (int)n);
    if (r > 0) return r;
    switch (SSL_get_error(c->ssl, r)) {
    case SSL_ERROR_WANT_READ: errno = EAGAIN; return -1;
    case SSL_ERROR_WANT_WRITE: c->tls_ww = 1; errno = EAGAIN; return -1;
    case SSL_ERROR_ZERO_RETURN: return 0;
    default:
        c->tls_bad = 1;
        ERR_clear_error();
        errno = EIO;
        return -1;
    }
}

/* SSL_write with send's contract: >0 bytes taken, or -1 with errno EAGAIN or EPIPE.
** The partial-write and moving-buffer modes (tls.c) let the caller retry with the
** unsent tail wherever its buffer now is, plus anything appended since. */
static ssize_t tls_send(conn *c, const void *buf, size_t n) {
    int r = SSL_write(c->ssl, buf, n > INT_MAX ? INT_MAX : (int)n);
    if (r > 0) return r;
    int e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) { errno = EAGAIN; return -1; }
    c->tls_bad = 1;
    ERR_clear_error();
    errno = EPIPE;
    return -1;
}

/* Closes the socket and forgets the connection; the struct lives on while a job
** holds it (busy), and is freed when the job returns. */
static void conn_close(conn *c) {
    loop *L = c->L;
    if (c->fd >= 0) {
        if (c->ssl) {
            tls_notify(c);
            SSL_free(c->ssl);
            c->ssl = NULL;
        }
        epoll_ctl(L->epfd, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        c->fd = -1;
        list_unlink(L, c);
        L->n_conns--;
        AADD(L->s->conns, -1);
    }
    c->dead = 1;
    if (!c->busy) bury(c);
}

static int conn_idle(const conn *c) {
    return !c->busy && !c->in_req && c->woff == c->wlen && !c->lingering &&
           c->rlen == c->rstart;
}

static void set_events(conn *c) {
    uint32_t want = c->eof ? 0 : EPOLLRDHUP;
    int pending = c->wlen > c->woff;
    if (!c->busy && (c->lingering || (!c->closing && !c->eof && c->wlen - c->woff < WBUF_HIGH)))
        want |= EPOLLIN;
    if (pending) want |= EPOLLOUT;
    if (c->ssl) {
        if (c->hs) want = EPOLLRDHUP | (c->tls_ww ? EPOLLOUT : EPOLLIN);
        else if (c->tls_ww) want |= EPOLLOUT;
    }
    if (want == c->events) return;
    struct epoll_event ev = {.events = want, .data.ptr = c};
    epoll_ctl(c->L->epfd, EPOLL_CTL_MOD, c->fd, &ev);
    c->events = want;
}

/* Advances the server side of the TLS handshake.  1: done, the connection now carries
** HTTP; 0: waiting (the epoll interest now follows what OpenSSL wants); -1: failed and
** the connection is closed, or, for a client that sent plain HTTP to the TLS port,
** told so in a plain-text 400 and left to the lingering close. */
static int tls_handshake(conn *c) {
    int r = SSL_do_handshake(c->ssl);
    if (r == 1) {
        c->hs = 0;
        c->tls_ww = 0;
        c->last_ns = c->L->now;
        return 1;
    }
    int e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        c->tls_ww = e == SSL_ERROR_WANT_WRITE;
        set_events(c);
        return 0;
    }
    unsigned long why = ERR_peek_error();
    ERR_clear_error();
    c->tls_bad = 1;
    /* a protocol failure is the client's error; a hang-up (a TCP health check, say)
    ** is a disconnect */
    srv_metrics_error(&c->L->m, e == SSL_ERROR_SSL ? ERRK_BAD_REQUEST : ERRK_DISCONNECT);
    if (e == SSL_ERROR_SSL && ERR_GET_LIB(why) == ERR_LIB_SSL &&
        ERR_GET_REASON(why) == SSL_R_HTTP_REQUEST) {
        static const char body[] = "this port speaks TLS: use an https:// URL\n";
        char msg[256];
        int len = snprintf(msg, sizeof msg, "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n"
                           "Content-Length: %zu\r\nConnection: close\r\n\r\n%s", sizeof body - 1, body);
        ssize_t w = send(c->fd, msg, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT);
        (void)w;
        shutdown(c->fd, SHUT_WR);
        c->hs = 0;
        c->closing = 1;
        c->lingering = 1;
        c->linger_ns = c->L->now + LINGER_NS;
        set_events(c);
        return -1;
    }
    conn_close(c);
    return -1;
}

static int wreserve(conn *c, size_t n) {
    if (c->wlen + n <= c->wcap) return 0;
    if (c->woff) {                     /* reclaim the sent prefix first */
        memmove(c->wbuf, c->wbuf + c->woff, c->wlen - c->woff);
        c->wlen -= c->woff;
        c->woff = 0;
        if (c->wlen + n <= c->wcap) return 0;
    }
    size_t cap = c->wcap ? c->wcap : 4096;
    while (cap < c->wlen + n) cap *= 2;
    char *p = realloc(c->wbuf, cap);
    if (!p) return -1;
    c->wbuf = p;
    c->wcap = cap;
    return 0;
}

static void wput(conn *c, const void *p, size_t n) {
    if (wreserve(c, n)) { c->closing = 1; return; }
    memcpy(c->wbuf + c->wlen, p, n);
    c->wlen += n;
}

static char *utoa(char *end, size_t v) {
    *--end = 0;
    do { *--end = (char)('0' + v % 10); v /= 10; } while (v);
    return end;
}

/* Appends a complete response.  keep_alive 0 adds "Connection: close". */
static void write_response(conn *c, int status, const char *ctype, const char *body,
                           size_t len, int keep_alive, int head_only) {
    char num[24];
    if (wreserve(c, len + 256)) { c->closing = 1; return; }
    const char *sl;
    char line[64];
    if (status == 200) sl = "HTTP/1.1 200 OK\r\n";
    else {
        snprintf(line, sizeof line, "HTTP/1.1 %d %s\r\n", status, http_reason(status));
        sl = line;
    }
    wput(c, sl, strlen(sl));
    wput(c, "Content-Type: ", 14);
    wput(c, ctype, strlen(ctype));
    wput(c, "\r\nContent-Length: ", 18);
    const char *n = utoa(num + sizeof num, len);
    wput(c, n, strlen(n));
    if (status == 429 || status == 503) wput(c, "\r\nRetry-After: 1", 16);
    if (!keep_alive) wput(c, "\r\nConnection: close", 19);
    wput(c, "\r\n\r\n", 4);
    if (!head_only) wput(c, body, len);
    if (!keep_alive) c->closing = 1;
}

/* An error the server itself answers (no handler ran); the connection closes when
** `fatal` (the request framing may be lost). */
static void respond_error(conn *c, int status, const char *type, const char *code,
                          const char *msg, int fatal) {
    loop *L = c->L;
    srv_buf *b = &L->body;
    b->len = 0;
    srv_ctx ctx = {.srv = L->s, .out = b};
    srv_error(&ctx, status, type, NULL, code, "%s", msg);
    int ka = !fatal && c->req.keep_alive && !ALOAD(L->s->stopping);
    write_response(c, status, "application/json", b->p, b->len, ka, 0);
}

static int err_kind(int status) {
    switch (status) {
    case 400: case 405: case 411: case 505: case 501: return ERRK_BAD_REQUEST;
    case 413: case 414: case 431: return ERRK_TOO_LARGE;
    case 408: return ERRK_TIMEOUT;
    case 429: return ERRK_RATE_LIMITED;
    case 503: return ERRK_OVERLOAD;
    case 401: return ERRK_UNAUTHORIZED;
    case 404: return ERRK_NOT_FOUND;
    default: return ERRK_INTERNAL;
    }
}

/* --------------------------------------------------------------- logging ---- */

static void access_log(srv_server *s, conn *c, int method_ok, const char *method, size_t mlen,
                       const char *path, size_t plen, int status, size_t bytes_in,
                       size_t bytes_out, double latency_us, int n_inputs, int n_flagged,
                       const char *body, size_t body_len) {
    (void)method_ok;
    srv_buf b = {0};
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char t[40];
    strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%S", &tm);
    sb_printf(&b, "{\"ts\":\"%s.%03ldZ\",\"remote\":\"%s\",\"method\":", t, ts.tv_nsec / 1000000,
              c->peer);
    sb_json_str(&b, method, mlen);
    sb_puts(&b, ",\"path\":");
    sb_json_str(&b, path, plen);
    sb_printf(&b, ",\"status\":%d,\"bytes_in\":%zu,\"bytes_out\":%zu,\"latency_us\":%.1f,"
                  "\"inputs\":%d,\"flagged\":%d", status, bytes_in, bytes_out, latency_us,
              n_inputs, n_flagged);
    if (s->cfg.log_text && body) {
        sb_puts(&b, ",\"body\":");
        sb_json_str(&b, body, body_len);
    }
    sb_puts(&b, "}\n");
    if (!b.oom) {
        pthread_mutex_lock(&s->alog_lock);
        fwrite(b.p, 1, b.len, s->alog);
        fflush(s->alog);
        pthread_mutex_unlock(&s->alog_lock);
    }
    sb_free(&b);
}

/* ------------------------------------------------------------- dispatch ---- */

/* Checks the Bearer key and its rate limit.  0 = go on; otherwise the status was
** answered. */
static int authorize(conn *c, const char *base) {
    srv_server *s = c->L->s;
    if (!s->cfg.n_keys) return 0;
    const char *a = base + c->req.auth_off;
    size_t n = c->req.auth_len;
    if (n < 8 || strncasecmp(a, "Bearer ", 7)) {
        respond_error(c, 401, "invalid_request_error", "invalid_api_key",
                      "missing API key: send \"Authorization: Bearer KEY\"", 0);
        return 401;
    }
    a += 7;
    n -= 7;
    int found = -1;
    for (size_t i = 0; i < s->cfg.n_keys; i++) {   /* constant time per key */
        const char *k = s->cfg.keys[i].key;
        size_t kn = strlen(k);
        unsigned diff = (unsigned)(kn ^ n);
        for (size_t j = 0; j < kn; j++) diff |= (unsigned char)k[j] ^ (unsigned char)(j < n ? a[j] : 0);
        if (!diff) found = (int)i;
    }
    if (found < 0) {
        respond_error(c, 401, "invalid_request_error", "invalid_api_key", "incorrect API key provided", 0);
        return 401;
    }
    srv_key *k = &s->cfg.keys[found];
    if (k->rate_limit > 0) {
        key_state *ks = &s->ks[found];
        double burst = k->burst > 0 ? k->burst : (k->rate_limit > 1 ? k->rate_limit : 1);
        uint64_t now = now_ns();
        pthread_mutex_lock(&ks->lock);
        ks->tokens += (double)(now - ks->last_ns) / 1e9 * k->rate_limit;
        if (ks->tokens > burst) ks->tokens = burst;
        ks->last_ns = now;
        int ok = ks->tokens >= 1;
        if (ok) ks->tokens -= 1;
        pthread_mutex_unlock(&ks->lock);
        if (!ok) {
            respond_error(c, 429, "requests", "rate_limit_exceeded",
                          "rate limit reached for this API key; retry later", 0);
            return 429;
        }
    }
    return 0;
}

static void finish_request(conn *c, int endpoint, int status, uint64_t t0, srv_metrics *m) {
    double sec = (double)(now_ns() - t0) / 1e9;
    srv_metrics_request(m, endpoint, status, sec);
    if (status >= 400) srv_metrics_error(m, err_kind(status));
}

/* Queues j for the workers; -1 when the queue (or, for a guard job, the guard tier's
** share of it) is full or the server stops.  The queue owns j on success. */
static int enqueue(srv_server *s, job *j) {
    pthread_mutex_lock(&s->qlock);
    if (s->qstop || (j->guard ? s->glen >= s->gcap : s->qlen == s->qcap)) {
        pthread_mutex_unlock(&s->qlock);
        return -1;
    }
    if (j->guard) {
        s->gq[(s->ghead + s->gqlen) % s->gcap] = j;
        s->gqlen++;
        s->glen++;
        pthread_cond_signal(&s->gcond);
    } else {
        s->q[(s->qhead + s->qlen) % s->qcap] = j;
        s->qlen++;
        pthread_cond_signal(&s->qcond);
    }
    pthread_mutex_unlock(&s->qlock);
    return 0;
}

/* Hands the complete request at rbuf + rstart to the worker pool (a copy of its body
** goes with the job): 0 when queued (the connection is busy until the job returns),
** else the status already answered (503: out of memory, or the queue -- the guard
** tier's share of it when `guard` -- is full). */
static int submit(conn *c, const srv_route *rt, uint64_t t0, int ka, int guard) {
    loop *L = c->L;
    srv_server *s = L->s;
    http_req *r = &c->req;
    char *base = c->rbuf + c->rstart;
    job *j = calloc(1, sizeof *j);
    char *body = j ? malloc(r->body_len + 1) : NULL;
    if (!j || !body) {
        free(j);
        respond_error(c, 503, "server_error", "overloaded", "out of memory; retry later", 0);
        return 503;
    }
    memcpy(body, base + r->body_off, r->body_len);
    body[r->body_len] = 0;
    *j = (job){.c = c, .rt = rt, .ref = loop_ref(L), .body = body, .body_len = r->body_len,
               .method = r->method, .keep_alive = ka, .guard = guard, .t0 = t0,
               .bytes_in = r->consumed};
    snprintf(j->path, sizeof j->path, "%.*s", (int)PP_MIN(r->path_len, 63), base + r->path_off);
    ref_get(j->ref);
    if (enqueue(s, j)) {
        ref_put(j->ref);
        free(body);
        free(j);
        respond_error(c, 503, "server_error", "overloaded",
                      guard ? "the server is overloaded (guard model queue full); retry later"
                            : "the server is overloaded (worker queue full); retry later", 0);
        return 503;
    }
    c->busy = 1;
    AADD(s->inflight, 1);
    return 0;
}

/* Handles the complete request at rbuf + rstart. */
static void dispatch(conn *c) {
    loop *L = c->L;
    srv_server *s = L->s;
    http_req *r = &c->req;
    char *base = c->rbuf + c->rstart;
    uint64_t t0 = now_ns();
    size_t wbefore = c->wlen - c->woff;
    int known, status;
    const srv_route *rt = srv_route_find(r->method, base + r->path_off, r->path_len, &known);
    int endpoint = rt ? rt->endpoint : EP_OTHER;
    int stopping = ALOAD(s->stopping);
    int ka = r->keep_alive && !stopping;
    int n_inputs = 0, n_flagged = 0;
    if (!rt) {
        char msg[160];
        snprintf(msg, sizeof msg, "%s (%.*s %.*s)", known ? "method not allowed" : "invalid URL",
                 (int)r->method_len, base + r->method_off, (int)PP_MIN(r->path_len, 80),
                 base + r->path_off);
        status = known ? 405 : 404;
        respond_error(c, status, "invalid_request_error", NULL, msg, 0);
    } else if (rt->auth && (status = authorize(c, base)) != 0) {
        /* answered */
    } else if (rt->kind == SRV_ROUTE_HEAVY || r->body_len > s->cfg.inline_max_bytes) {
        if (!(status = submit(c, rt, t0, ka, 0))) return;
    } else {
        srv_buf *b = &L->body;
        b->len = 0;
        b->oom = 0;
        srv_engine_ref *ref = loop_ref(L);
        srv_ctx ctx = {.srv = s, .cfg = &s->cfg, .eng = ref->eng, .ref = ref,
                       .method = r->method, .path = base + r->path_off, .path_len = r->path_len,
                       .body = base + r->body_off, .body_len = r->body_len, .m = &L->m,
                       .thread_id = (unsigned long)L->idx, .seq = ++L->seq, .status = 500,
                       .content_type = "application/json", .out = b};
        ctx.inline_only = ref->guard;
        rt->fn(&ctx);
        if (ctx.want_guard) {
            /* The guard must judge it: drop the inline answer, rerun on a worker. */
            __atomic_store_n(&L->m.guard_requests, L->m.guard_requests + 1, __ATOMIC_RELAXED);
            if (!(status = submit(c, rt, t0, ka, 1))) return;
        } else if (b->oom) {
            status = 503;
            respond_error(c, 503, "server_error", "overloaded", "out of memory; retry later", 0);
        } else {
            status = ctx.status;
            write_response(c, status, ctx.content_type, b->p, b->len, ka, r->method == HTTP_HEAD);
        }
        n_inputs = ctx.n_inputs;
        n_flagged = ctx.n_flagged;
    }
    finish_request(c, endpoint, status, t0, &L->m);
    if (s->alog)
        access_log(s, c, 1, base + r->method_off, r->method_len, base + r->path_off, r->path_len,
                   status, r->consumed, c->wlen - c->woff - wbefore, (double)(now_ns() - t0) / 1e3,
                   n_inputs, n_flagged, base + r->body_off, r->body_len);
}

/* ----------------------------------------------------------------- I/O ---- */

static void on_readable(conn *c);

static void flush(conn *c) {
    if (c->ssl && c->hs) {
        if (c->eof) { conn_close(c); return; }
        if (tls_handshake(c) == 1) on_readable(c);   /* then reads; back here with hs 0 */
        return;
    }
    while (c->woff < c->wlen) {
        ssize_t n = c->ssl ? tls_send(c, c->wbuf + c->woff, c->wlen - c->woff)
                           : send(c->fd, c->wbuf + c->woff, c->wlen - c->woff, MSG_NOSIGNAL);
        if (n > 0) {
            c->woff += (size_t)n;
            c->write_ns = c->L->now;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        srv_metrics_error(&c->L->m, ERRK_DISCONNECT);
        conn_close(c);
        return;
    }
    if (c->woff == c->wlen) c->woff = c->wlen = 0;
    if (c->woff == c->wlen && !c->busy && (c->closing || (c->eof && !c->in_req))) {
        if (c->closing && !c->eof && !c->lingering) {
            /* Lingering close: stop sending, drain what the client still sends. */
            if (c->ssl) tls_notify(c);
            shutdown(c->fd, SHUT_WR);
            c->lingering = 1;
            c->linger_ns = c->L->now + LINGER_NS;
        } else if (!c->lingering || c->eof) {
            conn_close(c);
            return;
        }
    }
    set_events(c);
}

/* Parses and answers every complete request in the buffer, in order. */
static void process(conn *c) {
    loop *L = c->L;
    srv_server *s = L->s;
    while (!c->busy && !c->closing && !c->dead) {
        if (c->wlen - c->woff >= WBUF_HIGH) break;    /* client is not reading */
        if (c->rlen == c->rstart) break;
        if (!c->in_req) {
            c->in_req = 1;
            c->req_ns = L->now;
            http_req_init(&c->req);
        }
        size_t len = c->rlen - c->rstart;
        int rc = http_parse(&c->req, c->rbuf + c->rstart, len, &s->lim);
        if (rc == HTTP_AGAIN) {
            http_compact(&c->req, c->rbuf + c->rstart, &len);
            c->rlen = c->rstart + len;
            if (c->req.headers_done && c->req.expect_continue && !c->continued) {
                wput(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
                c->continued = 1;
            }
            break;
        }
        if (rc == HTTP_ERROR) {
            respond_error(c, c->req.status, "invalid_request_error", NULL, c->req.error, 1);
            finish_request(c, EP_OTHER, c->req.status, L->now, &L->m);
            c->in_req = 0;
            c->rstart = c->rlen = 0;
            break;
        }
        dispatch(c);
        if (c->busy) break;     /* the job has its own copy; consume on return */
        c->rstart += c->req.consumed;
        c->in_req = 0;
        c->continued = 0;
    }
    if (!c->busy && c->rstart == c->rlen) c->rstart = c->rlen = 0;
}

static void on_readable(conn *c) {
    loop *L = c->L;
    srv_server *s = L->s;
    size_t limit = s->lim.max_header_bytes + s->lim.max_body + 4096;
    if (c->ssl && c->hs && !c->lingering && tls_handshake(c) <= 0) return;
    for (int k = 0; k < 4 || (c->ssl && !c->lingering && SSL_has_pending(c->ssl)); k++) {
        if (c->lingering) {                      /* discard */
            char junk[4096];
            ssize_t n = recv(c->fd, junk, sizeof junk, 0);
            if (n > 0) continue;
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
            conn_close(c);
            return;
        }
        if (c->rstart && c->rlen == c->rcap) {   /* move the unparsed tail down */
            memmove(c->rbuf, c->rbuf + c->rstart, c->rlen - c->rstart);
            c->rlen -= c->rstart;
            c->rstart = 0;
        }
        if (c->rlen == c->rcap) {
            if (c->rcap >= limit) break;
            size_t cap = c->rcap ? c->rcap * 2 : 4096;
            if (cap > limit) cap = limit;
            char *p = realloc(c->rbuf, cap);
            if (!p) { conn_close(c); return; }
            c->rbuf = p;
            c->rcap = cap;
        }
        ssize_t n = c->ssl ? tls_recv(c, c->rbuf + c->rlen, c->rcap - c->rlen)
                           : recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen, 0);
        if (n > 0) {
            c->rlen += (size_t)n;
            if ((size_t)n < c->rcap - c->rlen + (size_t)n &&       /* drained */
                (!c->ssl || !SSL_has_pending(c->ssl)))
                break;
            continue;
        }
        if (n == 0) { c->eof = 1; break; }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        srv_metrics_error(&L->m, ERRK_DISCONNECT);
        conn_close(c);
        return;
    }
    if (c->lingering) return;
    c->last_ns = L->now;
    if (c != L->tail) { list_unlink(L, c); list_append(L, c); }
    process(c);
    if (c->dead) return;
    if (!c->busy && c->rlen == c->rcap && c->rcap >= limit && !c->closing) {
        /* Cannot happen within the parser's limits; refuse rather than spin. */
        respond_error(c, 413, "invalid_request_error", NULL, "request larger than the limit", 1);
    }
    if (c->eof && c->in_req && !c->busy) {
        /* The client closed in the middle of a request: nothing to answer. */
        srv_metrics_error(&L->m, ERRK_DISCONNECT);
        conn_close(c);
        return;
    }
    flush(c);
}

/* Closes the least recently active idle connection of this loop; 1 if one was. */
static int evict_one(loop *L) {
    int k = 0;
    for (conn *c = L->head; c && k < 256; c = c->next, k++)
        if (conn_idle(c)) {
            conn_close(c);
            AADD(L->s->evicted, 1);
            return 1;
        }
    return 0;
}

static void on_accept(loop *L) {
    srv_server *s = L->s;
    for (int k = 0; k < 64; k++) {
        struct sockaddr_storage sa;
        socklen_t sl = sizeof sa;
        int fd = accept4(s->lfd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR) continue;
            if ((errno == EMFILE || errno == ENFILE) && evict_one(L)) continue;
            return;
        }
        if (ALOAD(s->stopping)) { close(fd); continue; }
        if (ALOAD(s->conns) >= s->cfg.max_connections && !evict_one(L)) {
            static const char busy[] =
                "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                "Content-Length: 116\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
                "{\"error\":{\"message\":\"too many connections; retry later\",\"type\":\"server_error\",\"param\":null,\"code\":\"overloaded\"}}";
            if (!s->tls) {   /* a TLS client cannot read plain text: just close */
                ssize_t w = send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
                (void)w;
            }
            close(fd);
            srv_metrics_error(&L->m, ERRK_OVERLOAD);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        conn *c = calloc(1, sizeof *c);
        if (!c) { close(fd); continue; }
        c->fd = fd;
        c->L = L;
        c->last_ns = L->now;
        c->events = EPOLLIN | EPOLLRDHUP;
        if (s->tls) {
            c->ssl = SSL_new(s->tls);
            if (!c->ssl || SSL_set_fd(c->ssl, fd) != 1) {
                ERR_clear_error();
                conn_free(c);
                close(fd);
                continue;
            }
            SSL_set_accept_state(c->ssl);
            c->hs = 1;
            c->req_ns = L->now;           /* the handshake deadline runs from here */
        }
        if (s->alog) {
            if (sa.ss_family == AF_INET)
                inet_ntop(AF_INET, &((struct sockaddr_in *)&sa)->sin_addr, c->peer, sizeof c->peer);
            else if (sa.ss_family == AF_INET6)
                inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&sa)->sin6_addr, c->peer, sizeof c->peer);
        }
        struct epoll_event ev = {.events = c->events, .data.ptr = c};
        if (epoll_ctl(L->epfd, EPOLL_CTL_ADD, fd, &ev)) { close(fd); conn_free(c); continue; }
        list_append(L, c);
        L->n_conns++;
        AADD(s->conns, 1);
        AADD(s->accepted, 1);
    }
}

/* Jobs the workers finished for this loop's connections. */
static void on_done(loop *L) {
    uint64_t v;
    ssize_t n = read(L->evfd, &v, sizeof v);
    (void)n;
    pthread_mutex_lock(&L->done_lock);
    job *j = L->done;
    L->done = NULL;
    pthread_mutex_unlock(&L->done_lock);
    while (j) {
        job *next = j->next;
        conn *c = j->c;
        c->busy = 0;
        AADD(L->s->inflight, -1);
        int status = j->out.oom ? 503 : j->status;
        if (c->dead) {
            bury(c);
        } else {
            size_t before = c->wlen - c->woff;
            if (j->out.oom)
                respond_error(c, 503, "server_error", "overloaded", "out of memory; retry later", 0);
            else
                write_response(c, status, j->ctype, j->out.p, j->out.len,
                               j->keep_alive && !ALOAD(L->s->stopping), j->method == HTTP_HEAD);
            if (L->s->alog)
                access_log(L->s, c, 1, j->method == HTTP_HEAD ? "HEAD" : "POST", j->method == HTTP_HEAD ? 4 : 4,
                           j->path, strlen(j->path), status, j->bytes_in, c->wlen - c->woff - before,
                           (double)(now_ns() - j->t0) / 1e3, j->n_inputs, j->n_flagged, j->body, j->body_len);
            c->rstart += c->req.consumed;
            c->in_req = 0;
            c->continued = 0;
            process(c);
            if (!c->dead) flush(c);
        }
        (void)status;
        ref_put(j->ref);
        sb_free(&j->out);
        free(j->body);
        free(j);
        j = next;
    }
}

/* Deadlines; runs a few times a second. */
static void sweep(loop *L) {
    srv_server *s = L->s;
    const srv_config *cf = &s->cfg;
    uint64_t now = L->now, ms = 1000000ull;
    int stopping = ALOAD(s->stopping);
    conn *next;
    for (conn *c = L->head; c; c = next) {
        next = c->next;
        if (c->busy) continue;
        if (c->lingering) {
            if (now > c->linger_ns) conn_close(c);
            continue;
        }
        if (c->ssl && c->hs) {       /* the handshake has the header deadline */
            if (now - c->req_ns > (uint64_t)cf->header_timeout_ms * ms) {
                srv_metrics_error(&L->m, ERRK_TIMEOUT);
                conn_close(c);
            } else if (stopping) conn_close(c);
            continue;
        }
        if (c->wlen > c->woff) {
            if (now - c->write_ns > (uint64_t)cf->write_timeout_ms * ms) {
                srv_metrics_error(&L->m, ERRK_TIMEOUT);
                conn_close(c);
            }
            continue;
        }
        if (c->in_req) {
            uint64_t lim = (uint64_t)cf->header_timeout_ms * ms;
            if (c->req.headers_done) lim += (uint64_t)cf->body_timeout_ms * ms;
            if (now - c->req_ns > lim || (stopping && now > s->stop_deadline)) {
                respond_error(c, 408, "invalid_request_error", "timeout",
                              c->req.headers_done ? "the request body took too long to arrive"
                                                  : "the request headers took too long to arrive", 1);
                finish_request(c, EP_OTHER, 408, now, &L->m);
                flush(c);
            }
            continue;
        }
        if (stopping || now - c->last_ns > (uint64_t)cf->idle_timeout_ms * ms) conn_close(c);
    }
}

static void *loop_main(void *arg) {
    loop *L = arg;
    srv_server *s = L->s;
    struct epoll_event evs[256];
    sigset_t pipe_set;            /* OpenSSL writes with write(): EPIPE, not SIGPIPE */
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, NULL);
    int min_to = s->cfg.header_timeout_ms;
    if (s->cfg.idle_timeout_ms < min_to) min_to = s->cfg.idle_timeout_ms;
    if (s->cfg.body_timeout_ms < min_to) min_to = s->cfg.body_timeout_ms;
    if (s->cfg.write_timeout_ms < min_to) min_to = s->cfg.write_timeout_ms;
    int tick = min_to / 4;
    if (tick < 5) tick = 5;
    if (tick > 250) tick = 250;
    uint64_t next_sweep = now_ns() + (uint64_t)tick * 1000000ull;
    for (;;) {
        int n = epoll_wait(L->epfd, evs, 256, tick);
        L->now = now_ns();
        for (int i = 0; i < n; i++) {
            void *p = evs[i].data.ptr;
            if (p == TAG_LISTEN) { on_accept(L); continue; }
            if (p == TAG_EVENT) { on_done(L); continue; }
            conn *c = p;
            uint32_t e = evs[i].events;
            if (c->dead) continue;
            if (e & EPOLLIN) on_readable(c);
            if (c->dead) continue;
            if (e & EPOLLOUT) {
                if (c->ssl && c->tls_ww && !c->hs) {   /* a read waited for this */
                    c->tls_ww = 0;
                    on_readable(c);
                    if (c->dead) continue;
                }
                flush(c);
            }
            if (c->dead) continue;
            if (e & (EPOLLERR | EPOLLHUP)) {
                /* Reset or fully closed: nothing can be delivered any more.  A busy
                ** connection is freed when its job returns. */
                if (c->busy || c->in_req) srv_metrics_error(&L->m, ERRK_DISCONNECT);
                conn_close(c);
            } else if ((e & EPOLLRDHUP) && !c->eof) {
                /* Half-closed: answer what was asked, then close. */
                c->eof = 1;
                if (c->busy) set_events(c);
                else if (c->in_req && !c->lingering) {
                    srv_metrics_error(&L->m, ERRK_DISCONNECT);
                    conn_close(c);
                } else flush(c);
            }
        }
        free_graveyard(L);
        if (L->now >= next_sweep) {
            sweep(L);
            free_graveyard(L);
            next_sweep = L->now + (uint64_t)tick * 1000000ull;
        }
        if (ALOAD(s->stopping)) {
            if (!L->draining) {
                L->draining = 1;
                epoll_ctl(L->epfd, EPOLL_CTL_DEL, s->lfd, NULL);
                sweep(L);
                tick = 5;
            }
            int busy = 0;
            for (conn *c = L->head; c; c = c->next)
                if (c->busy || c->wlen > c->woff || c->in_req) busy = 1;
            if (L->now > s->stop_deadline) {
                conn *next;
                for (conn *c = L->head; c; c = next) {
                    next = c->next;
                    if (!c->busy) conn_close(c);
                }
                busy = 0;
                for (conn *c = L->head; c; c = c->next) busy |= c->busy;
            }
            if (!busy && (!L->head || L->now > s->stop_deadline)) break;
            if (!busy && L->head) {
                /* only lingering or idle ones left */
                int only_linger = 1;
                for (conn *c = L->head; c; c = c->next) if (!c->lingering) only_linger = 0;
                if (only_linger) break;
            }
        }
    }
    conn *next;
    for (conn *c = L->head; c; c = next) {
        next = c->next;
        conn_close(c);
    }
    free_graveyard(L);
    return NULL;
}

/* ---------------------------------------------------------------- workers ---- */

typedef struct worker_arg {
    srv_server *s;
    int idx;
} worker_arg;

static void *worker_main(void *arg) {
    worker_arg wa = *(worker_arg *)arg;
    free(arg);
    srv_server *s = wa.s;
    srv_metrics *m = &s->wm[wa.idx];
    uint64_t seq = 0;
    const int guard = wa.idx >= s->n_workers;   /* a guard waiter */
    size_t *len = guard ? &s->gqlen : &s->qlen, *head = guard ? &s->ghead : &s->qhead;
    size_t cap = guard ? s->gcap : s->qcap;
    job **ring = guard ? s->gq : s->q;
    pthread_cond_t *cond = guard ? &s->gcond : &s->qcond;
    for (;;) {
        pthread_mutex_lock(&s->qlock);
        while (!*len && !s->qstop) pthread_cond_wait(cond, &s->qlock);
        if (!*len) { pthread_mutex_unlock(&s->qlock); break; }
        job *j = ring[*head];
        *head = (*head + 1) % cap;
        (*len)--;
        pthread_mutex_unlock(&s->qlock);

        if (j->guard && s->cfg.test_guard_delay_ms > 0) {
            struct timespec d = {s->cfg.test_guard_delay_ms / 1000,
                                 (long)(s->cfg.test_guard_delay_ms % 1000) * 1000000L};
            nanosleep(&d, NULL);
        }
        srv_ctx ctx = {.srv = s, .cfg = &s->cfg, .eng = j->ref->eng, .ref = j->ref,
                       .method = j->method, .path = j->path, .path_len = strlen(j->path),
                       .body = j->body, .body_len = j->body_len, .m = m,
                       .thread_id = 0x100ul + (unsigned long)wa.idx, .seq = ++seq, .status = 500,
                       .content_type = "application/json", .out = &j->out};
        j->rt->fn(&ctx);
        j->status = ctx.status;
        j->ctype = ctx.content_type;
        j->n_flagged = ctx.n_flagged;
        j->n_inputs = ctx.n_inputs;
        finish_request(NULL, j->rt->endpoint, j->out.oom ? 503 : j->status, j->t0, m);
        if (j->guard) {
            pthread_mutex_lock(&s->qlock);
            s->glen--;
            pthread_mutex_unlock(&s->qlock);
        }

        loop *L = j->c->L;
        pthread_mutex_lock(&L->done_lock);
        j->next = L->done;
        L->done = j;
        pthread_mutex_unlock(&L->done_lock);
        uint64_t one = 1;
        ssize_t w = write(L->evfd, &one, sizeof one);
        (void)w;
    }
    return NULL;
}

/* ------------------------------------------------------------- lifecycle ---- */

static char *dupmsg(const char *fmt, const char *a, const char *b) {
    char buf[512];
    snprintf(buf, sizeof buf, fmt, a, b);
    return strdup(buf);
}

static int ncores(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

srv_server *srv_create(const srv_config *cfg, parapet_engine *eng, char **err) {
    *err = NULL;
    SSL_CTX *tls = NULL;
    if (cfg->tls_cert || cfg->tls_key) {
        if (!(tls = srv_tls_ctx_new(cfg->tls_cert, cfg->tls_key, err))) {
            parapet_close(eng);
            return NULL;
        }
    }
    srv_server *s = calloc(1, sizeof *s);
    if (!s) {
        srv_tls_ctx_free(tls);
        parapet_close(eng);
        *err = strdup("out of memory");
        return NULL;
    }
    s->lfd = -1;
    s->tls = tls;
    s->cfg = *cfg;
    /* deep-copy what the server keeps */
    s->cfg.host = strdup(cfg->host ? cfg->host : "127.0.0.1");
    s->cfg.policy = s->cfg.model = s->cfg.access_log = s->cfg.guard_model = NULL;
    s->cfg.tls_cert = s->cfg.tls_key = NULL;
    s->cfg.keys = cfg->n_keys ? calloc(cfg->n_keys, sizeof *s->cfg.keys) : NULL;
    s->ks = cfg->n_keys ? calloc(cfg->n_keys, sizeof *s->ks) : NULL;
    for (size_t i = 0; i < cfg->n_keys && s->cfg.keys; i++) {
        s->cfg.keys[i] = cfg->keys[i];
        s->cfg.keys[i].key = strdup(cfg->keys[i].key);
        pthread_mutex_init(&s->ks[i].lock, NULL);
        s->ks[i].tokens = cfg->keys[i].burst > 0 ? cfg->keys[i].burst
                          : (cfg->keys[i].rate_limit > 1 ? cfg->keys[i].rate_limit : 1);
        s->ks[i].last_ns = now_ns();
    }
    http_limits_default(&s->lim);
    if (s->cfg.max_body_bytes) s->lim.max_body = s->cfg.max_body_bytes;
    if (s->cfg.max_header_bytes) s->lim.max_header_bytes = s->cfg.max_header_bytes;
    if (s->lim.max_line > s->lim.max_header_bytes) s->lim.max_line = s->lim.max_header_bytes;
    s->n_loops = cfg->threads > 0 ? cfg->threads : ncores();
    s->n_workers = cfg->workers > 0 ? cfg->workers : ncores();
    s->qcap = cfg->queue_depth ? cfg->queue_depth : (size_t)s->n_workers * 64;
    s->gcap = cfg->guard_queue_depth ? cfg->guard_queue_depth : 64;
    /* Guard requests wait inside the guard engine, which scores the ones waiting
    ** together (one forward pass per round for the batch): one waiter per batch slot. */
    s->n_gworkers = cfg->guard_batch > 0 ? cfg->guard_batch : 8;
    s->q = calloc(s->qcap, sizeof *s->q);
    s->gq = calloc(s->gcap, sizeof *s->gq);
    s->loops = calloc((size_t)s->n_loops, sizeof *s->loops);
    s->workers = calloc((size_t)(s->n_workers + s->n_gworkers), sizeof *s->workers);
    s->wm = calloc((size_t)(s->n_workers + s->n_gworkers), sizeof *s->wm);
    pthread_mutex_init(&s->qlock, NULL);
    pthread_cond_init(&s->qcond, NULL);
    pthread_cond_init(&s->gcond, NULL);
    pthread_mutex_init(&s->eng_lock, NULL);
    pthread_mutex_init(&s->alog_lock, NULL);
    s->cur = srv_engine_ref_new(eng);
    if (!s->q || !s->gq || !s->loops || !s->workers || !s->wm || !s->cfg.host || !s->cur ||
        (cfg->n_keys && (!s->cfg.keys || !s->ks))) {
        if (!s->cur) parapet_close(eng);
        *err = strdup("out of memory");
        srv_destroy(s);
        return NULL;
    }
    if (cfg->access_log) {
        if (!strcmp(cfg->access_log, "-")) s->alog = stderr;
        else if (!(s->alog = fopen(cfg->access_log, "a"))) {
            *err = dupmsg("cannot open access log %s: %s", cfg->access_log, strerror(errno));
            srv_destroy(s);
            return NULL;
        }
    }

    /* listen */
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV}, *ai = NULL;
    char port[16];
    snprintf(port, sizeof port, "%d", cfg->port);
    int gai = getaddrinfo(s->cfg.host, port, &hints, &ai);
    if (gai) {
        *err = dupmsg("cannot resolve %s: %s", s->cfg.host, gai_strerror(gai));
        srv_destroy(s);
        return NULL;
    }
    s->lfd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (s->lfd >= 0) setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (s->lfd < 0 || bind(s->lfd, ai->ai_addr, ai->ai_addrlen) || listen(s->lfd, 4096)) {
        char hp[300];
        snprintf(hp, sizeof hp, "%s:%d", s->cfg.host, cfg->port);
        *err = dupmsg("cannot listen on %s: %s", hp, strerror(errno));
        freeaddrinfo(ai);
        srv_destroy(s);
        return NULL;
    }
    freeaddrinfo(ai);
    struct sockaddr_storage sa;
    socklen_t sl = sizeof sa;
    getsockname(s->lfd, (struct sockaddr *)&sa, &sl);
    s->port = ntohs(sa.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&sa)->sin6_port
                                             : ((struct sockaddr_in *)&sa)->sin_port);
    for (int i = 0; i < s->n_loops; i++) {
        loop *L = &s->loops[i];
        L->s = s;
        L->idx = i;
        L->epfd = epoll_create1(EPOLL_CLOEXEC);
        L->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        pthread_mutex_init(&L->done_lock, NULL);
        struct epoll_event le = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = TAG_LISTEN};
        struct epoll_event ee = {.events = EPOLLIN, .data.ptr = TAG_EVENT};
        if (L->epfd < 0 || L->evfd < 0 || epoll_ctl(L->epfd, EPOLL_CTL_ADD, s->lfd, &le) ||
            epoll_ctl(L->epfd, EPOLL_CTL_ADD, L->evfd, &ee)) {
            *err = dupmsg("cannot set up epoll: %s%s", strerror(errno), "");
            srv_destroy(s);
            return NULL;
        }
        ref_get(s->cur);
        L->ref = s->cur;
    }
    return s;
}

int srv_port(const srv_server *s) { return s->port; }

int srv_start(srv_server *s) {
    for (int i = 0; i < s->n_workers + s->n_gworkers; i++) {
        worker_arg *wa = malloc(sizeof *wa);
        if (!wa) return -1;
        *wa = (worker_arg){s, i};
        if (pthread_create(&s->workers[i], NULL, worker_main, wa)) { free(wa); return -1; }
        s->started = i + 1;
    }
    for (int i = 0; i < s->n_loops; i++)
        if (pthread_create(&s->loops[i].th, NULL, loop_main, &s->loops[i])) return -1;
    s->started = -1;  /* all running */
    return 0;
}

int srv_ready(const srv_server *s) { return !ALOAD(((srv_server *)s)->stopping); }

void srv_stop(srv_server *s) {
    if (!s || s->started == 0) return;
    s->stop_deadline = now_ns() + (uint64_t)s->cfg.shutdown_timeout_ms * 1000000ull;
    __atomic_store_n(&s->stopping, 1, __ATOMIC_RELEASE);
    if (s->started == -1)
        for (int i = 0; i < s->n_loops; i++) {
            uint64_t one = 1;
            ssize_t w = write(s->loops[i].evfd, &one, sizeof one);
            (void)w;
            pthread_join(s->loops[i].th, NULL);
        }
    pthread_mutex_lock(&s->qlock);
    s->qstop = 1;
    pthread_cond_broadcast(&s->qcond);
    pthread_cond_broadcast(&s->gcond);
    pthread_mutex_unlock(&s->qlock);
    int nw = s->started == -1 ? s->n_workers + s->n_gworkers : s->started;
    for (int i = 0; i < nw; i++) pthread_join(s->workers[i], NULL);
    s->started = 0;
    if (s->lfd >= 0) { close(s->lfd); s->lfd = -1; }   /* refuse new connections */
}

void srv_destroy(srv_server *s) {
    if (!s) return;
    srv_stop(s);
    for (int i = 0; s->loops && i < s->n_loops; i++) {
        loop *L = &s->loops[i];
        if (L->epfd > 0) close(L->epfd);
        if (L->evfd > 0) close(L->evfd);
        ref_put(L->ref);
        sb_free(&L->body);
        pthread_mutex_destroy(&L->done_lock);
    }
    if (s->lfd >= 0) close(s->lfd);
    ref_put(s->cur);
    if (s->alog && s->alog != stderr) fclose(s->alog);
    for (size_t i = 0; s->cfg.keys && i < s->cfg.n_keys; i++) {
        free(s->cfg.keys[i].key);
        pthread_mutex_destroy(&s->ks[i].lock);
    }
    free(s->cfg.keys);
    free(s->ks);
    free(s->cfg.host);
    free(s->q);
    free(s->gq);
    free(s->loops);
    free(s->workers);
    free(s->wm);
    srv_tls_ctx_free(s->tls);
    free(s);
}

void srv_render_metrics(srv_server *s, srv_buf *out) {
    srv_metrics *ms[256];
    size_t n = 0;
    for (int i = 0; i < s->n_loops && n < 256; i++) ms[n++] = &s->loops[i].m;
    for (int i = 0; i < s->n_workers + s->n_gworkers && n < 256; i++) ms[n++] = &s->wm[i];
    pthread_mutex_lock(&s->qlock);
    long qd = (long)s->qlen, gd = (long)s->glen;
    pthread_mutex_unlock(&s->qlock);
    pthread_mutex_lock(&s->eng_lock);
    srv_engine_ref *r = s->cur;
    ref_get(r);
    pthread_mutex_unlock(&s->eng_lock);
    srv_gauges g = {.connections = ALOAD(s->conns), .queue_depth = qd,
                    .queue_capacity = (long)s->qcap, .inflight = ALOAD(s->inflight),
                    .guard_queue_depth = gd, .guard_queue_capacity = (long)s->gcap,
                    .ready = srv_ready(s), .classifier_loaded = r->classifier, .guard_loaded = parapet_engine_has_guard(r->eng),
                    .reloads = ALOAD(s->reloads), .accepted = ALOAD(s->accepted),
                    .evicted = ALOAD(s->evicted), .policy_hash = r->hash};
    size_t gmax = 0;
    parapet_engine_guard_stats(r->eng, &g.guard_batches, &g.guard_batched, &gmax);
    g.guard_batch_max = gmax;
    srv_metrics_render(ms, n, &g, out);
    ref_put(r);
}
