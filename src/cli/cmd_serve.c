/*
** cmd_serve.c -- `parapet serve`: run the HTTP moderation server (src/server).
**
** Reads the config file (if any), applies flags on top, opens the engine, starts the
** server, then waits for signals on the main thread (every other thread has them
** blocked): SIGHUP reopens the engine from the same options (policy, lexicons, model)
** and swaps it in without dropping a connection, or keeps the old one and logs why if
** the new policy does not load; SIGTERM / SIGINT stop gracefully (in-flight requests
** finish, up to the shutdown timeout).
*/
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include "parapet.h"
#include "cli.h"
#include "common.h"
#include "server/server.h"

static const char usage_text[] =
    "usage: parapet serve [OPTIONS]\n\n"
    "Serves POST /v1/moderations (OpenAI-compatible), POST /v1/check (native), GET /healthz,\n"
    "/readyz and /metrics (Prometheus).  See docs/server.md.\n\n"
    "  --config FILE           YAML config file (flags below override it)\n"
    "  --host HOST             address to listen on (default 127.0.0.1)\n"
    "  --port N                port (default 8080; 0 = any free port)\n"
    "  --threads N             event-loop threads (default: number of cores)\n"
    "  --workers N             worker threads for heavy requests (default: cores)\n"
    "  --queue-depth N         worker queue slots; beyond them requests get 503\n"
    "  --guard-queue-depth N   guard-model requests queued or running at once (default 64)\n"
    "  --max-body-bytes N      larger request bodies get 413 (default 1 MiB)\n"
    "  --max-connections N     connection cap; idle ones are evicted (default 10000)\n"
    "  --header-timeout-ms N   deadline for a request's headers (default 10000)\n"
    "  --body-timeout-ms N     deadline for its body (default 30000)\n"
    "  --idle-timeout-ms N     keep-alive idle timeout (default 60000)\n"
    "  --shutdown-timeout-ms N grace for in-flight requests on SIGTERM (default 10000)\n"
    "  --api-key KEY[:RATE]    require this Bearer key (repeatable); RATE in requests/s\n"
    "  --access-log PATH       JSON-lines access log (\"-\" = stderr); no text unless --log-text\n"
    "  --log-text              include request bodies in the access log\n"
    "  --tls-cert FILE         serve HTTPS with this PEM certificate (chain); needs --tls-key\n"
    "  --tls-key FILE          the PEM private key of --tls-cert\n"
    ENGINE_OPTIONS_HELP
    "\nsignals: SIGHUP reloads the policy, SIGTERM/SIGINT shut down gracefully.\n";

static int num_arg(const char *o, const char *v, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || *end || !*v || n < lo || n > hi) {
        cli_error("%s: expected a number in [%ld, %ld], got \"%s\"", o, lo, hi, v);
        return -1;
    }
    *out = n;
    return 0;
}

static int set_str(char **dst, const char *v) {
    free(*dst);
    *dst = strdup(v);
    return *dst ? 0 : -1;
}

int cmd_serve(int argc, char **argv) {
    srv_config cfg;
    srv_config_init(&cfg);
    engine_args ea;
    engine_args_init(&ea);
    int rc = CLI_USAGE;
    const char *config = NULL;
    /* First pass: the config file, so flags override it. */
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage_text, stdout);
            srv_config_clear(&cfg);
            return CLI_OK;
        }
        if (!strcmp(argv[i], "--config") && i + 1 < argc) config = argv[i + 1];
    }
    if (config) {
        char *err = NULL;
        if (srv_config_load(&cfg, config, &err)) {
            cli_error("%s", err ? err : "cannot read the config");
            free(err);
            srv_config_clear(&cfg);
            return CLI_USAGE;
        }
    }
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        int e = engine_arg(&ea, argc, argv, &i);
        if (e < 0) goto out;
        if (e > 0) continue;
        if (!strcmp(o, "--log-text")) { cfg.log_text = 1; continue; }
        if (i + 1 >= argc) { cli_error("unknown option or missing value: %s (try --help)", o); goto out; }
        const char *v = argv[++i];
        long n = 0;
        if (!strcmp(o, "--config")) continue;
        else if (!strcmp(o, "--host")) { if (set_str(&cfg.host, v)) goto out; }
        else if (!strcmp(o, "--port")) { if (num_arg(o, v, 0, 65535, &n)) goto out; cfg.port = (int)n; }
        else if (!strcmp(o, "--threads")) { if (num_arg(o, v, 0, 1024, &n)) goto out; cfg.threads = (int)n; }
        else if (!strcmp(o, "--workers")) { if (num_arg(o, v, 0, 1024, &n)) goto out; cfg.workers = (int)n; }
        else if (!strcmp(o, "--queue-depth")) { if (num_arg(o, v, 1, 10000000, &n)) goto out; cfg.queue_depth = (size_t)n; }
        else if (!strcmp(o, "--guard-queue-depth")) { if (num_arg(o, v, 1, 10000000, &n)) goto out; cfg.guard_queue_depth = (size_t)n; }
        else if (!strcmp(o, "--max-body-bytes")) { if (num_arg(o, v, 1, 1L << 30, &n)) goto out; cfg.max_body_bytes = (size_t)n; }
        else if (!strcmp(o, "--max-connections")) { if (num_arg(o, v, 1, 10000000, &n)) goto out; cfg.max_connections = (int)n; }
        else if (!strcmp(o, "--header-timeout-ms")) { if (num_arg(o, v, 1, 86400000, &n)) goto out; cfg.header_timeout_ms = (int)n; }
        else if (!strcmp(o, "--body-timeout-ms")) { if (num_arg(o, v, 1, 86400000, &n)) goto out; cfg.body_timeout_ms = (int)n; }
        else if (!strcmp(o, "--idle-timeout-ms")) { if (num_arg(o, v, 1, 86400000, &n)) goto out; cfg.idle_timeout_ms = (int)n; }
        else if (!strcmp(o, "--shutdown-timeout-ms")) { if (num_arg(o, v, 1, 86400000, &n)) goto out; cfg.shutdown_timeout_ms = (int)n; }
        else if (!strcmp(o, "--api-key")) {
            if (srv_config_add_key(&cfg, v)) { cli_error("--api-key: expected KEY or KEY:RATE"); goto out; }
        } else if (!strcmp(o, "--access-log")) { if (set_str(&cfg.access_log, v)) goto out; }
        else if (!strcmp(o, "--model")) { if (set_str(&cfg.model, v)) goto out; }
        else if (!strcmp(o, "--tls-cert")) { if (set_str(&cfg.tls_cert, v)) goto out; }
        else if (!strcmp(o, "--tls-key")) { if (set_str(&cfg.tls_key, v)) goto out; }
        else { cli_error("unknown option %s (try --help)", o); goto out; }
    }
    if (!ea.opt.policy_path && cfg.policy) ea.opt.policy_path = cfg.policy;
    if (cfg.model && !ea.opt.model_path) ea.opt.model_path = cfg.model; /* flags win */
    if (cfg.utf8_replace) ea.opt.utf8_mode = PARAPET_UTF8_REPLACE;
    if (cfg.guard_model && !ea.opt.guard_path) ea.opt.guard_path = cfg.guard_model;
    if (cfg.guard_threads && !ea.opt.guard_threads) ea.opt.guard_threads = cfg.guard_threads;
    if (cfg.guard_batch && !ea.opt.guard_batch) ea.opt.guard_batch = cfg.guard_batch;
    cfg.guard_batch = ea.opt.guard_batch;   /* the server's guard waiters, one per slot */

    /* Thousands of connections need descriptors: raise the soft limit to the hard. */
    struct rlimit rl;
    if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur != RLIM_INFINITY &&
        (rlim_t)cfg.max_connections + 64 > rl.rlim_cur)
        cfg.max_connections = rl.rlim_cur > 128 ? (int)(rl.rlim_cur - 64) : 64;

    /* Block the signals in every thread; the main thread takes them with sigwait. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    rc = CLI_ERROR;
    parapet_engine *eng = engine_open(&ea);
    if (!eng) { rc = CLI_USAGE; goto out; }
    char *err = NULL;
    srv_server *srv = srv_create(&cfg, eng, &err);
    if (!srv) {
        cli_error("%s", err ? err : "cannot start the server");
        free(err);
        goto out;
    }
    if (srv_start(srv)) {
        cli_error("cannot start threads");
        srv_destroy(srv);
        goto out;
    }
    fprintf(stderr, "parapet serve: listening on %s://%s:%d (policy %s)\n",
            cfg.tls_cert ? "https" : "http", cfg.host ? cfg.host : "127.0.0.1", srv_port(srv),
            parapet_policy_hash(parapet_engine_policy(eng)));
    fflush(stderr);
    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig)) continue;
        if (sig == SIGPIPE) continue;
        if (sig == SIGHUP) {
            parapet_engine *n = engine_open(&ea);
            if (!n) {
                cli_error("reload failed; still serving the previous policy");
                continue;
            }
            char hash[80];
            snprintf(hash, sizeof hash, "%s", parapet_policy_hash(parapet_engine_policy(n)));
            srv_swap_engine(srv, n);  /* after this, every new request uses n */
            fprintf(stderr, "parapet serve: policy reloaded (%s)\n", hash);
            fflush(stderr);
            continue;
        }
        fprintf(stderr, "parapet serve: shutting down\n");
        break;
    }
    srv_stop(srv);
    srv_destroy(srv);
    fprintf(stderr, "parapet serve: stopped\n");
    rc = CLI_OK;
out:
    srv_config_clear(&cfg);
    return rc;
}
