/*
** metrics.c -- the server's counters and latency histograms, in Prometheus text format.
**
** Each thread (event loop or worker) owns one srv_metrics and is its only writer, so
** recording a request is a handful of plain stores: no lock, no atomic read-modify-
** write, no shared cache line on the hot path.  The stores are relaxed atomics only so
** that a concurrent /metrics scrape (which sums every thread's struct) is a defined
** race; a scrape may see one thread a request behind, which Prometheus tolerates.
**
** Category names for the per-category flag counter are registered once in a global
** table (append-only, under a mutex); handlers count by slot.
*/
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "server/server.h"

#define INC(x) __atomic_store_n(&(x), __atomic_load_n(&(x), __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED)
#define ADD(x, v) __atomic_store_n(&(x), __atomic_load_n(&(x), __ATOMIC_RELAXED) + (v), __ATOMIC_RELAXED)
#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

/* Histogram upper bounds in seconds; the last bucket is +Inf. */
static const double bounds[SRV_HIST_BUCKETS] = {
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
    0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0};

/* Status codes counted individually; the last slot is "other". */
static const int codes[SRV_N_CODES - 1] = {200, 400, 401, 404, 405, 408, 411,
                                           413, 414, 429, 431, 500, 503};

static const char *const ep_names[EP_COUNT] = {"moderations", "check", "healthz",
                                                "readyz", "metrics", "other"};
static const char *const err_names[ERRK_COUNT] = {
    "bad_request", "too_large", "timeout", "overload", "rate_limited",
    "unauthorized", "not_found", "internal", "disconnect"};

static pthread_mutex_t cat_lock = PTHREAD_MUTEX_INITIALIZER;
static char *cat_names[SRV_MAX_CATS];
static int n_cat_names;

static int bucket_of(double s) {
    int i = 0;
    while (i < SRV_HIST_BUCKETS && s > bounds[i]) i++;
    return i;
}

void srv_metrics_request(srv_metrics *m, int endpoint, int status, double seconds) {
    int c = SRV_N_CODES - 1;
    for (int i = 0; i < SRV_N_CODES - 1; i++)
        if (codes[i] == status) { c = i; break; }
    INC(m->requests[endpoint][c]);
    INC(m->lat[endpoint][bucket_of(seconds)]);
    ADD(m->lat_sum_ns[endpoint], (uint64_t)(seconds * 1e9));
}

void srv_metrics_tier(srv_metrics *m, int tier, double seconds) {
    INC(m->tier_lat[tier][bucket_of(seconds)]);
    ADD(m->tier_sum_ns[tier], (uint64_t)(seconds * 1e9));
}

void srv_metrics_error(srv_metrics *m, int kind) { INC(m->errors[kind]); }

void srv_metrics_flag(srv_metrics *m, int slot) {
    if (slot >= 0 && slot < SRV_MAX_CATS) INC(m->flags[slot]);
}

int srv_metrics_cat_slot(const char *category) {
    int slot = -1;
    pthread_mutex_lock(&cat_lock);
    for (int i = 0; i < n_cat_names; i++)
        if (!strcmp(cat_names[i], category)) { slot = i; break; }
    if (slot < 0 && n_cat_names < SRV_MAX_CATS) {
        char *d = strdup(category);
        if (d) {
            cat_names[n_cat_names] = d;
            slot = n_cat_names++;
        }
    }
    pthread_mutex_unlock(&cat_lock);
    return slot;
}

/* Writes a label value with Prometheus escaping (backslash, quote, newline). */
static void label(srv_buf *b, const char *s) {
    for (; *s; s++) {
        if (*s == '\\' || *s == '"') { sb_put(b, "\\", 1); sb_put(b, s, 1); }
        else if (*s == '\n') sb_puts(b, "\\n");
        else sb_put(b, s, 1);
    }
}

static void histogram(srv_buf *b, const char *name, const char *lname, const char *lval,
                      const uint64_t *cnt, uint64_t sum_ns) {
    uint64_t cum = 0;
    for (int i = 0; i <= SRV_HIST_BUCKETS; i++) {
        cum += cnt[i];
        if (i < SRV_HIST_BUCKETS)
            sb_printf(b, "%s_bucket{%s=\"%s\",le=\"%g\"} %llu\n", name, lname, lval, bounds[i],
                      (unsigned long long)cum);
        else
            sb_printf(b, "%s_bucket{%s=\"%s\",le=\"+Inf\"} %llu\n", name, lname, lval,
                      (unsigned long long)cum);
    }
    sb_printf(b, "%s_sum{%s=\"%s\"} %.9f\n", name, lname, lval, sum_ns / 1e9);
    sb_printf(b, "%s_count{%s=\"%s\"} %llu\n", name, lname, lval, (unsigned long long)cum);
}

void srv_metrics_render(srv_metrics *const *ms, size_t n, const srv_gauges *g, srv_buf *b) {
    srv_metrics t;
    memset(&t, 0, sizeof t);
    for (size_t k = 0; k < n; k++) {
        const srv_metrics *m = ms[k];
        for (int e = 0; e < EP_COUNT; e++) {
            for (int c = 0; c < SRV_N_CODES; c++) t.requests[e][c] += LOAD(m->requests[e][c]);
            for (int i = 0; i <= SRV_HIST_BUCKETS; i++) t.lat[e][i] += LOAD(m->lat[e][i]);
            t.lat_sum_ns[e] += LOAD(m->lat_sum_ns[e]);
        }
        for (int r = 0; r < 2; r++) {
            for (int i = 0; i <= SRV_HIST_BUCKETS; i++) t.tier_lat[r][i] += LOAD(m->tier_lat[r][i]);
            t.tier_sum_ns[r] += LOAD(m->tier_sum_ns[r]);
        }
        for (int i = 0; i < SRV_MAX_CATS; i++) t.flags[i] += LOAD(m->flags[i]);
        for (int i = 0; i < ERRK_COUNT; i++) t.errors[i] += LOAD(m->errors[i]);
        t.inputs += LOAD(m->inputs);
        t.guard_requests += LOAD(m->guard_requests);
    }
    sb_puts(b, "# HELP parapet_http_requests_total HTTP requests answered, by endpoint and status code.\n"
               "# TYPE parapet_http_requests_total counter\n");
    for (int e = 0; e < EP_COUNT; e++)
        for (int c = 0; c < SRV_N_CODES; c++) {
            if (!t.requests[e][c]) continue;
            if (c < SRV_N_CODES - 1)
                sb_printf(b, "parapet_http_requests_total{endpoint=\"%s\",code=\"%d\"} %llu\n",
                          ep_names[e], codes[c], (unsigned long long)t.requests[e][c]);
            else
                sb_printf(b, "parapet_http_requests_total{endpoint=\"%s\",code=\"other\"} %llu\n",
                          ep_names[e], (unsigned long long)t.requests[e][c]);
        }
    sb_puts(b, "# HELP parapet_http_request_duration_seconds Time from a complete request to its response, by endpoint.\n"
               "# TYPE parapet_http_request_duration_seconds histogram\n");
    for (int e = 0; e < EP_COUNT; e++)
        histogram(b, "parapet_http_request_duration_seconds", "endpoint", ep_names[e],
                  t.lat[e], t.lat_sum_ns[e]);
    sb_puts(b, "# HELP parapet_tier_duration_seconds Moderation time per text, by tier.\n"
               "# TYPE parapet_tier_duration_seconds histogram\n");
    histogram(b, "parapet_tier_duration_seconds", "tier", "cheap", t.tier_lat[0], t.tier_sum_ns[0]);
    histogram(b, "parapet_tier_duration_seconds", "tier", "guard", t.tier_lat[1], t.tier_sum_ns[1]);
    sb_printf(b, "# HELP parapet_inputs_total Texts moderated.\n# TYPE parapet_inputs_total counter\n"
                 "parapet_inputs_total %llu\n", (unsigned long long)t.inputs);
    sb_printf(b, "# HELP parapet_guard_requests_total Requests handed to the guard model tier.\n"
                 "# TYPE parapet_guard_requests_total counter\nparapet_guard_requests_total %llu\n"
                 "# HELP parapet_guard_queue_depth Guard-tier requests queued or running.\n"
                 "# TYPE parapet_guard_queue_depth gauge\nparapet_guard_queue_depth %ld\n"
                 "# HELP parapet_guard_queue_capacity Guard-tier requests allowed at once.\n"
                 "# TYPE parapet_guard_queue_capacity gauge\nparapet_guard_queue_capacity %ld\n",
              (unsigned long long)t.guard_requests, g->guard_queue_depth, g->guard_queue_capacity);
    sb_printf(b, "# HELP parapet_guard_batches_total Forward-pass batches the guard engine ran.\n"
                 "# TYPE parapet_guard_batches_total counter\nparapet_guard_batches_total %llu\n"
                 "# HELP parapet_guard_batched_requests_total Guard requests those batches held.\n"
                 "# TYPE parapet_guard_batched_requests_total counter\nparapet_guard_batched_requests_total %llu\n"
                 "# HELP parapet_guard_batch_max The most guard requests scored in one batch.\n"
                 "# TYPE parapet_guard_batch_max gauge\nparapet_guard_batch_max %llu\n",
              (unsigned long long)g->guard_batches, (unsigned long long)g->guard_batched,
              (unsigned long long)g->guard_batch_max);
    sb_puts(b, "# HELP parapet_flags_total Texts flagged, by category.\n"
               "# TYPE parapet_flags_total counter\n");
    pthread_mutex_lock(&cat_lock);
    for (int i = 0; i < n_cat_names; i++) {
        sb_puts(b, "parapet_flags_total{category=\"");
        label(b, cat_names[i]);
        sb_printf(b, "\"} %llu\n", (unsigned long long)t.flags[i]);
    }
    pthread_mutex_unlock(&cat_lock);
    sb_puts(b, "# HELP parapet_errors_total Errors, by kind.\n# TYPE parapet_errors_total counter\n");
    for (int i = 0; i < ERRK_COUNT; i++)
        sb_printf(b, "parapet_errors_total{kind=\"%s\"} %llu\n", err_names[i],
                  (unsigned long long)t.errors[i]);
    sb_printf(b,
              "# HELP parapet_connections Open client connections.\n# TYPE parapet_connections gauge\n"
              "parapet_connections %ld\n"
              "# HELP parapet_connections_accepted_total Connections accepted.\n"
              "# TYPE parapet_connections_accepted_total counter\nparapet_connections_accepted_total %llu\n"
              "# HELP parapet_connections_evicted_total Idle connections closed to admit new ones.\n"
              "# TYPE parapet_connections_evicted_total counter\nparapet_connections_evicted_total %llu\n"
              "# HELP parapet_queue_depth Requests waiting for a worker.\n# TYPE parapet_queue_depth gauge\n"
              "parapet_queue_depth %ld\n"
              "# HELP parapet_queue_capacity Worker queue slots.\n# TYPE parapet_queue_capacity gauge\n"
              "parapet_queue_capacity %ld\n"
              "# HELP parapet_requests_in_flight Requests being processed.\n# TYPE parapet_requests_in_flight gauge\n"
              "parapet_requests_in_flight %ld\n"
              "# HELP parapet_ready 1 when the server accepts traffic.\n# TYPE parapet_ready gauge\n"
              "parapet_ready %d\n"
              "# HELP parapet_model_loaded 1 when the tier's model is loaded.\n# TYPE parapet_model_loaded gauge\n"
              "parapet_model_loaded{tier=\"classifier\"} %d\nparapet_model_loaded{tier=\"guard\"} %d\n"
              "# HELP parapet_policy_reloads_total Successful policy reloads (SIGHUP).\n"
              "# TYPE parapet_policy_reloads_total counter\nparapet_policy_reloads_total %llu\n"
              "# HELP parapet_policy_info The policy in effect.\n# TYPE parapet_policy_info gauge\n"
              "parapet_policy_info{hash=\"%s\"} 1\n",
              g->connections, (unsigned long long)g->accepted, (unsigned long long)g->evicted,
              g->queue_depth, g->queue_capacity, g->inflight, g->ready, g->classifier_loaded,
              g->guard_loaded, (unsigned long long)g->reloads, g->policy_hash ? g->policy_hash : "");
}
