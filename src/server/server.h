/*
** server.h -- `parapet serve`: an HTTP/1.1 moderation server over libparapet.
**
** A front end: it uses only the public header (include/parapet.h) for moderation.
** The pieces, one file each:
**
**   http.c     the incremental, strict request parser (http.h)
**   server.c   event loops (one epoll per thread, sharing one listening socket),
**              connections, timeouts, connection cap, the worker pool, shutdown
**   api.c      the routes: /v1/moderations, /v1/check, /healthz, /readyz, /metrics
**   metrics.c  counters and histograms, rendered in Prometheus text format
**   config.c   the YAML config file and defaults
**   tls.c      the optional TLS context (OpenSSL); per-connection TLS is in server.c
**
** Threading.  `threads` event-loop threads each run their own epoll set; all of them
** wait on the one listening socket (EPOLLEXCLUSIVE) and own the connections they
** accepted for their whole life.  Cheap requests (the rules and classifier tiers take
** microseconds) are answered inline on the loop thread.  Requests that may take long
** (a body over `inline_max_bytes`, and anything the guard model must judge) go to a
** fixed pool of `workers` threads through a bounded queue; when the queue is full the
** request is answered 503 at once, so nothing queues without bound.  With a guard
** model, a loop thread first moderates a request with the guard switched off; only
** when the policy's guard section says the guard must judge it (always, or a cascade
** score inside the band) does the request go to a worker, which runs the whole
** pipeline again, guard included.  Loop threads never call the guard, so a guard call
** of seconds does not delay the cheap requests of the other connections; at most
** `guard_queue_depth` guard requests wait or run at once (503 beyond).  The connection waits (and
** reads nothing more) until its job comes back, so pipelined responses stay in order.
**
** The engine is shared: every thread holds a counted reference to the current one;
** srv_swap_engine() installs a new engine (policy reload) and the old one is closed
** when its last in-flight request finishes.  No connection is dropped by a reload.
**
** Routes are a table (api.c) of {method, path, handler, kind}.  A kind SRV_ROUTE_STREAM
** is reserved for the streaming (Server-Sent Events) endpoint: such a handler will get
** the connection's writer instead of a response buffer, and the loop will keep the
** connection in a streaming state; adding it touches api.c's table plus one handler.
*/
#ifndef PP_SERVER_H
#define PP_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include "parapet.h"
#include "server/http.h"

/* ---------------------------------------------------------------- config ---- */

typedef struct srv_key {
    char *key;          /* the Bearer token */
    double rate_limit;  /* requests per second; 0 = unlimited */
    double burst;       /* bucket size; 0 = max(1, rate_limit) */
} srv_key;

typedef struct srv_config {
    char *host;                  /* default "127.0.0.1" */
    int port;                    /* default 8080; 0 = ephemeral (tests) */
    int threads;                 /* event loops; 0 = number of cores */
    int workers;                 /* worker pool; 0 = number of cores */
    size_t queue_depth;          /* worker queue slots; 0 = 64 per worker */
    size_t guard_queue_depth;    /* guard-tier requests queued or running (default 64) */
    size_t max_body_bytes;       /* default 1 MiB */
    size_t max_header_bytes;     /* default 16 KiB */
    size_t inline_max_bytes;     /* bodies larger than this go to the pool (64 KiB) */
    size_t max_inputs;           /* texts per request (default 2048) */
    int max_connections;         /* default 10000 */
    int header_timeout_ms;       /* whole header section (default 10 s) */
    int body_timeout_ms;         /* whole body after the headers (default 30 s) */
    int idle_timeout_ms;         /* keep-alive idle (default 60 s) */
    int write_timeout_ms;        /* no write progress (default 30 s) */
    int shutdown_timeout_ms;     /* grace for in-flight work on SIGTERM (10 s) */
    srv_key *keys;               /* API keys; none = no authentication */
    size_t n_keys;
    char *tls_cert, *tls_key;    /* PEM files; both set = the port speaks only TLS */
    char *policy;                /* policy file; NULL = embedded default */
    char *model;                 /* classifier model file; NULL = embedded */
    char *guard_model;           /* guard model (GGUF); NULL = none */
    int guard_threads;           /* its forward pass's threads (0: 1) */
    int guard_batch;             /* guard requests scored together, and the threads that
                                 ** wait on them (0: 8) */
    char *access_log;            /* NULL = off, "-" = stderr, else a file (appended) */
    int log_text;                /* put request bodies in the access log */
    int utf8_replace;            /* replace invalid UTF-8 instead of 400 */
    /* Tests only (no config key, no flag): a worker sleeps this long before each
    ** guard-tier request, to make the guard slow on demand.  0 in production. */
    int test_guard_delay_ms;
} srv_config;

/* Fills the defaults.  Free the strings with srv_config_clear. */
void srv_config_init(srv_config *c);
void srv_config_clear(srv_config *c);
/* Reads a YAML config file into c (fields present in the file replace c's).  On error
** returns -1 and *err is a malloc'd "file:line: why". */
int srv_config_load(srv_config *c, const char *path, char **err);
/* Parses "KEY" or "KEY:RATE" and appends it. 0 on success. */
int srv_config_add_key(srv_config *c, const char *spec);

/* ------------------------------------------------------------------- tls ---- */

/* tls.c: an SSL_CTX (returned as void * so this header needs no OpenSSL) loaded with
** the PEM certificate chain and matching private key; TLS 1.2+ only.  NULL with *err
** malloc'd ("cannot read TLS private key /x: No such file or directory", "... does
** not match ...") on any failure.  The caller owns the context. */
void *srv_tls_ctx_new(const char *cert, const char *key, char **err);
void srv_tls_ctx_free(void *ctx);

/* ---------------------------------------------------------------- server ---- */

typedef struct srv_server srv_server;

/* Binds and listens (so srv_port is valid on return), takes ownership of `eng` (closed
** by srv_destroy or when replaced).  The config is copied.  NULL with *err malloc'd on
** failure (eng is then closed). */
srv_server *srv_create(const srv_config *cfg, parapet_engine *eng, char **err);
/* The bound port (useful with port 0). */
int srv_port(const srv_server *s);
/* Starts the loop and worker threads; returns 0, or -1 if a thread failed to start. */
int srv_start(srv_server *s);
/* Installs a new engine (takes ownership).  In-flight requests finish on the old one. */
void srv_swap_engine(srv_server *s, parapet_engine *eng);
/* Stops accepting, lets requests in progress (inline and queued) finish and their
** responses be written, waiting at most the shutdown timeout, then closes every
** connection and joins the threads.  Idempotent. */
void srv_stop(srv_server *s);
/* Stops if needed and frees everything.  NULL is fine. */
void srv_destroy(srv_server *s);

/* -------------------------------------------------------------- handlers ---- */

typedef struct srv_buf {
    char *p;
    size_t len, cap;
    int oom;
} srv_buf;
void sb_reserve(srv_buf *b, size_t extra);
void sb_put(srv_buf *b, const void *s, size_t n);
void sb_puts(srv_buf *b, const char *s);
void sb_printf(srv_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_json_str(srv_buf *b, const char *s, size_t n);  /* with the quotes */
void sb_score(srv_buf *b, double v);                     /* compact number in [0,1] */
void sb_free(srv_buf *b);

typedef struct srv_metrics srv_metrics;
typedef struct srv_engine_ref srv_engine_ref;

/* What a handler sees.  body points into the connection buffer (or a copy owned by
** the job) and lives until the handler returns. */
typedef struct srv_ctx {
    srv_server *srv;
    const srv_config *cfg;
    parapet_engine *eng;
    const srv_engine_ref *ref;  /* per-engine data cached by api.c */
    int method;
    const char *path;
    size_t path_len;
    const char *body;
    size_t body_len;
    srv_metrics *m;            /* this thread's metrics */
    int inline_only;           /* on a loop thread with a guard engine: never run the
                               ** guard; set want_guard instead when it should run */
    unsigned long thread_id;
    uint64_t seq;              /* request counter of this thread, for ids */
    /* out */
    int status;
    const char *content_type;  /* static; default application/json */
    srv_buf *out;              /* the response body */
    int n_flagged;             /* for the access log */
    int n_inputs;
    int want_guard;            /* the handler asks for the guard tier: server.c drops
                               ** ctx->out and reruns the request on a worker */
} srv_ctx;

enum srv_route_kind { SRV_ROUTE_INLINE, SRV_ROUTE_HEAVY, SRV_ROUTE_STREAM };
enum srv_endpoint { EP_MODERATIONS, EP_CHECK, EP_HEALTHZ, EP_READYZ, EP_METRICS, EP_OTHER,
                    EP_COUNT };

typedef struct srv_route {
    int method;                 /* enum http_method */
    const char *path;
    void (*fn)(srv_ctx *ctx);
    int kind;                   /* enum srv_route_kind */
    int endpoint;               /* enum srv_endpoint, for metrics */
    int auth;                   /* requires an API key when keys are configured */
} srv_route;

/* api.c: finds the route for method+path.  *path_known is set when the path exists
** with another method (405 rather than 404). */
const srv_route *srv_route_find(int method, const char *path, size_t len, int *path_known);
/* api.c: writes an OpenAI-shaped error object into ctx->out and sets the status. */
void srv_error(srv_ctx *ctx, int status, const char *type, const char *param,
               const char *code, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* An engine plus what api.c precomputes about its policy, counted by server.c: every
** loop thread holds one reference to the current one, every job one more. */
#define SRV_N_OPENAI 13
struct srv_engine_ref {
    parapet_engine *eng;
    int refs;                      /* atomic; the struct dies with the last one */
    size_t n_cats;                 /* categories of the engine's policy */
    int openai_idx[SRV_N_OPENAI];  /* policy index of each OpenAI category, -1 absent */
    unsigned char *is_openai;      /* [n_cats] */
    int *slot;                     /* [n_cats] metrics slot */
    char hash[72];                 /* policy hash */
    int classifier;                /* the classifier tier runs */
    /* Guard tier (parapet_engine_has_guard): the policy overlay that switches the guard
    ** off, for the inline pass on loop threads (parsed once per engine), and when the
    ** guard must run after it (mode PARAPET_GUARD_*, band [guard_low, guard_high]). */
    int guard;
    parapet_policy *noguard;
    int guard_mode;
    double guard_low, guard_high;
};
/* api.c: 1 when a result of the inline (guard-off) pass must go on to the guard tier:
** mode always, or cascade with the largest category score inside the band. */
int srv_guard_wanted(const srv_engine_ref *ref, const parapet_result *r);
/* api.c: builds the reference (refs = 1) for an engine it takes ownership of; NULL on
** allocation failure (the engine is then still the caller's). */
srv_engine_ref *srv_engine_ref_new(parapet_engine *eng);
/* Closes the engine and frees the struct (refcount handled by the caller). */
void srv_engine_ref_free(srv_engine_ref *r);

/* server.c, for /readyz and /metrics. */
int srv_ready(const srv_server *s);
void srv_render_metrics(srv_server *s, srv_buf *out);

/* ---------------------------------------------------------------- metrics ---- */

enum srv_err_kind { ERRK_BAD_REQUEST, ERRK_TOO_LARGE, ERRK_TIMEOUT, ERRK_OVERLOAD,
                    ERRK_RATE_LIMITED, ERRK_UNAUTHORIZED, ERRK_NOT_FOUND, ERRK_INTERNAL,
                    ERRK_DISCONNECT, ERRK_COUNT };
#define SRV_HIST_BUCKETS 14
#define SRV_MAX_CATS 128
#define SRV_N_CODES 14

/* One per thread; only its owner writes (relaxed stores), /metrics reads and sums. */
struct srv_metrics {
    uint64_t requests[EP_COUNT][SRV_N_CODES]; /* by status code, see metrics.c */
    uint64_t lat[EP_COUNT][SRV_HIST_BUCKETS + 1];
    uint64_t lat_sum_ns[EP_COUNT];
    uint64_t tier_lat[2][SRV_HIST_BUCKETS + 1];   /* 0 = rules+classifier, 1 = guard */
    uint64_t tier_sum_ns[2];
    uint64_t flags[SRV_MAX_CATS];
    uint64_t errors[ERRK_COUNT];
    uint64_t inputs;
    uint64_t guard_requests;                      /* handed to the guard tier */
};

void srv_metrics_request(srv_metrics *m, int endpoint, int status, double seconds);
void srv_metrics_tier(srv_metrics *m, int tier, double seconds);
void srv_metrics_error(srv_metrics *m, int kind);
/* The metrics slot of a category name (registered on first use; thread-safe), or -1
** when SRV_MAX_CATS names are taken. */
int srv_metrics_cat_slot(const char *category);
void srv_metrics_flag(srv_metrics *m, int slot);
/* Renders the sum of ms[0..n) plus the gauges. */
typedef struct srv_gauges {
    long connections, queue_depth, queue_capacity, inflight;
    long guard_queue_depth, guard_queue_capacity;
    uint64_t guard_batches, guard_batched, guard_batch_max;   /* the guard engine's batching */
    int ready, classifier_loaded, guard_loaded;
    uint64_t reloads, accepted, evicted;
    const char *policy_hash;
} srv_gauges;
void srv_metrics_render(srv_metrics *const *ms, size_t n, const srv_gauges *g, srv_buf *out);

#endif
