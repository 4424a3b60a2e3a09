/*
** pool.c -- the fixed thread pool behind the matmul kernels (see pool.h).
**
** Protocol.  A job is published by storing (job, ctx), setting `pending` to the
** number of OS workers and bumping the generation counter `gen`.  Each worker waits
** for `gen` to move: first by spinning (a job usually follows the previous one within
** microseconds during a forward pass), then by sleeping on a futex on `gen`.  After
** running its share it decrements `pending`; the caller, having run share 0, waits
** for `pending` to reach zero the same way.  Sleepers announce themselves in
** `sleepers` / `caller_sleeping` so the fast path makes no system call: a waker reads
** the counter after its own store (both seq_cst), and a sleeper re-checks the value
** inside FUTEX_WAIT, so a wake-up is never lost.
**
** Linux only (futex); the engine's other Linux-isms (arch_prctl for AMX) live in
** cpu.c.
*/
#include "llm/pool.h"

#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define SPIN_NS 200000   /* spin this long before sleeping (0.2 ms) */

struct pp_pool {
    int n;                       /* threads including the caller */
    pthread_t *threads;          /* n-1 OS threads */
    pp_pool_job job;
    void *ctx;
    _Atomic unsigned gen;        /* bumped once per job */
    _Atomic int pending;         /* workers still running the current job */
    _Atomic int sleepers;        /* workers in FUTEX_WAIT on gen */
    _Atomic int caller_sleeping; /* caller in FUTEX_WAIT on pending */
    _Atomic int stop;
};

typedef struct worker_arg { pp_pool *pool; int id; } worker_arg;

static _Thread_local int t_in_job;   /* nesting guard: jobs inside jobs run inline */

static void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void futex_wait(volatile void *addr, int val) {
    syscall(SYS_futex, (void *)addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake(volatile void *addr) {
    syscall(SYS_futex, (void *)addr, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Waits until *gen differs from `seen`; returns the new value. */
static unsigned wait_gen(pp_pool *p, unsigned seen) {
    uint64_t t0 = 0;
    for (unsigned i = 1;; i++) {
        unsigned g = atomic_load_explicit(&p->gen, memory_order_acquire);
        if (g != seen) return g;
        cpu_relax();
        if ((i & 255) == 0) {
            uint64_t t = now_ns();
            if (!t0) t0 = t;
            else if (t - t0 > SPIN_NS) break;
        }
    }
    for (;;) {
        atomic_fetch_add(&p->sleepers, 1);
        unsigned g = atomic_load(&p->gen);
        if (g == seen) futex_wait((volatile void *)&p->gen, (int)seen);
        atomic_fetch_sub(&p->sleepers, 1);
        g = atomic_load_explicit(&p->gen, memory_order_acquire);
        if (g != seen) return g;
    }
}

static void *worker_main(void *arg) {
    worker_arg wa = *(worker_arg *)arg;
    pp_free(arg);
    pp_pool *p = wa.pool;
    unsigned seen = 0;
    for (;;) {
        seen = wait_gen(p, seen);
        if (atomic_load(&p->stop)) break;
        t_in_job = 1;
        p->job(p->ctx, wa.id, p->n);
        t_in_job = 0;
        if (atomic_fetch_sub(&p->pending, 1) == 1 && atomic_load(&p->caller_sleeping))
            futex_wake((volatile void *)&p->pending);
    }
    return NULL;
}

pp_status pp_pool_create(int n_threads, pp_pool **out) {
    *out = NULL;
    if (n_threads <= 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        n_threads = c > 0 ? (int)PP_MIN(c, PP_POOL_MAX_THREADS) : 1;
    }
    if (n_threads > PP_POOL_MAX_THREADS) return PARAPET_ERR_ARG;
    pp_pool *p = pp_calloc(1, sizeof *p);
    if (!p) return PARAPET_ERR_NOMEM;
    p->n = 1;
    if (n_threads > 1) {
        p->threads = pp_calloc((size_t)n_threads - 1, sizeof *p->threads);
        if (!p->threads) { pp_free(p); return PARAPET_ERR_NOMEM; }
    }
    for (int i = 1; i < n_threads; i++) {
        worker_arg *wa = pp_malloc(sizeof *wa);
        if (!wa) { pp_pool_destroy(p); return PARAPET_ERR_NOMEM; }
        wa->pool = p;
        wa->id = i;
        if (pthread_create(&p->threads[i - 1], NULL, worker_main, wa) != 0) {
            pp_free(wa);
            pp_pool_destroy(p);
            return PARAPET_ERR_NOMEM;
        }
        p->n = i + 1;   /* threads [0, n-1) are live, so destroy joins exactly those */
    }
    *out = p;
    return PARAPET_OK;
}

void pp_pool_destroy(pp_pool *p) {
    if (!p) return;
    atomic_store(&p->stop, 1);
    atomic_fetch_add(&p->gen, 1);
    futex_wake((volatile void *)&p->gen);
    for (int i = 0; i + 1 < p->n; i++) pthread_join(p->threads[i], NULL);
    pp_free(p->threads);
    pp_free(p);
}

int pp_pool_size(const pp_pool *p) {
    return p ? p->n : 1;
}

void pp_pool_run(pp_pool *p, pp_pool_job job, void *ctx) {
    if (!p || p->n == 1 || t_in_job) {
        int saved = t_in_job;
        t_in_job = 1;
        job(ctx, 0, 1);
        t_in_job = saved;
        return;
    }
    p->job = job;
    p->ctx = ctx;
    atomic_store(&p->pending, p->n - 1);
    atomic_fetch_add(&p->gen, 1);           /* seq_cst: publishes job, ctx, pending */
    if (atomic_load(&p->sleepers)) futex_wake((volatile void *)&p->gen);
    t_in_job = 1;
    job(ctx, 0, p->n);
    t_in_job = 0;
    uint64_t t0 = 0;
    for (unsigned i = 1; atomic_load_explicit(&p->pending, memory_order_acquire); i++) {
        cpu_relax();
        if ((i & 255) == 0) {
            uint64_t t = now_ns();
            if (!t0) t0 = t;
            else if (t - t0 > SPIN_NS) {
                atomic_store(&p->caller_sleeping, 1);
                int v;
                while ((v = atomic_load(&p->pending)) != 0) futex_wait((volatile void *)&p->pending, v);
                atomic_store(&p->caller_sleeping, 0);
                break;
            }
        }
    }
    atomic_thread_fence(memory_order_acquire);
}

void pp_pool_split(size_t n, size_t grain, int t, int nt, size_t *begin, size_t *end) {
    if (grain == 0) grain = 1;
    size_t units = (n + grain - 1) / grain;
    size_t per = units / (size_t)nt, extra = units % (size_t)nt;
    size_t ub = (size_t)t * per + PP_MIN((size_t)t, extra);
    size_t ue = ub + per + ((size_t)t < extra);
    *begin = PP_MIN(ub * grain, n);
    *end = PP_MIN(ue * grain, n);
}

typedef struct for_ctx { size_t n, grain; pp_pool_range_fn fn; void *ctx; } for_ctx;

static void for_job(void *arg, int t, int nt) {
    for_ctx *c = arg;
    size_t b, e;
    pp_pool_split(c->n, c->grain, t, nt, &b, &e);
    if (b < e) c->fn(c->ctx, b, e, t);
}

void pp_pool_for(pp_pool *pool, size_t n, size_t grain, pp_pool_range_fn fn, void *ctx) {
    if (n == 0) return;
    for_ctx c = { n, grain, fn, ctx };
    pp_pool_run(pool, for_job, &c);
}
