/*
** test_pool.c -- the thread pool: every index exactly once, barriers, nesting, reuse.
*/
#include "test.h"
#include "llm/pool.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

typedef struct cover { _Atomic int *hits; size_t grain; int bad; _Atomic int calls; } cover;

static void cover_fn(void *arg, size_t b, size_t e, int thread) {
    cover *c = arg;
    atomic_fetch_add(&c->calls, 1);
    if (b >= e || (b % c->grain) != 0) c->bad = 1;
    for (size_t i = b; i < e; i++) atomic_fetch_add(&c->hits[i], 1);
}

/* Runs pp_pool_for over n with the grain and checks each index was hit once. */
static int covers_once(pp_pool *pool, size_t n, size_t grain) {
    cover c = { calloc(n + 1, sizeof(_Atomic int)), grain, 0, 0 };
    pp_pool_for(pool, n, grain, cover_fn, &c);
    int ok = !c.bad && atomic_load(&c.calls) <= pp_pool_size(pool);
    for (size_t i = 0; i < n; i++) ok = ok && atomic_load(&c.hits[i]) == 1;
    free(c.hits);
    return ok;
}

TEST(pool_for_covers_every_index_once) {
    static const size_t ns[] = { 1, 2, 3, 15, 16, 17, 100, 1000, 4099 };
    static const size_t grains[] = { 1, 16, 64 };
    for (int nt = 1; nt <= 4; nt++) {
        pp_pool *pool = NULL;
        CHECK_OK(pp_pool_create(nt, &pool));
        CHECK_EQ(pp_pool_size(pool), nt);
        int ok = 1;
        for (size_t a = 0; a < PP_ARRAY_LEN(ns); a++)
            for (size_t g = 0; g < PP_ARRAY_LEN(grains); g++)
                ok = ok && covers_once(pool, ns[a], grains[g]);
        pp_pool_destroy(pool);
        CHECK_MSG(ok, "coverage failed with %d threads", nt);
    }
    CHECK(covers_once(NULL, 77, 8));   /* NULL pool: inline */
}

TEST(pool_split_is_a_partition) {
    for (int nt = 1; nt <= 5; nt++) {
        size_t next = 0;
        for (int t = 0; t < nt; t++) {
            size_t b, e;
            pp_pool_split(100, 16, t, nt, &b, &e);
            CHECK_EQ(b, next);
            CHECK(e >= b);
            CHECK(b % 16 == 0 || b == 100);
            next = e;
        }
        CHECK_EQ(next, 100);
    }
}

typedef struct seen { _Atomic int mask; _Atomic int inner; pp_pool *pool; } seen;

static void record_thread(void *arg, int thread, int nt) {
    seen *s = arg;
    atomic_fetch_or(&s->mask, 1 << thread);
}

TEST(pool_run_calls_each_thread_once_many_times) {
    pp_pool *pool = NULL;
    CHECK_OK(pp_pool_create(3, &pool));
    int ok = 1;
    for (int i = 0; i < 300 && ok; i++) {   /* many short jobs: the spin/sleep handoff */
        seen s = { 0, 0, pool };
        pp_pool_run(pool, record_thread, &s);
        ok = atomic_load(&s.mask) == 7;      /* barrier: all three done on return */
    }
    pp_pool_destroy(pool);
    CHECK(ok);
}

static void inner_job(void *arg, int thread, int nt) {
    seen *s = arg;
    if (nt == 1 && thread == 0) atomic_fetch_add(&s->inner, 1);
}

static void outer_job(void *arg, int thread, int nt) {
    seen *s = arg;
    pp_pool_run(s->pool, inner_job, s);   /* nested: runs inline on this thread */
    atomic_fetch_or(&s->mask, 1 << thread);
}

TEST(pool_nested_jobs_run_inline) {
    pp_pool *pool = NULL;
    CHECK_OK(pp_pool_create(2, &pool));
    seen s = { 0, 0, pool };
    pp_pool_run(pool, outer_job, &s);
    pp_pool_destroy(pool);
    CHECK_EQ(atomic_load(&s.mask), 3);
    CHECK_EQ(atomic_load(&s.inner), 2);
}

static void slow_job(void *arg, int thread, int nt) {
    seen *s = arg;
    if (thread == 1) {   /* long enough that the caller gives up spinning and sleeps */
        struct timespec ts = { 0, 3000000 };
        nanosleep(&ts, NULL);
    }
    atomic_fetch_or(&s->mask, 1 << thread);
}

TEST(pool_sleeping_workers_wake_up) {
    pp_pool *pool = NULL;
    CHECK_OK(pp_pool_create(2, &pool));
    struct timespec ts = { 0, 5000000 };   /* 5 ms idle: workers go to the futex */
    int ok = 1;
    for (int i = 0; i < 3 && ok; i++) {
        nanosleep(&ts, NULL);
        seen s = { 0, 0, pool };
        pp_pool_run(pool, slow_job, &s);
        ok = atomic_load(&s.mask) == 3;
    }
    pp_pool_destroy(pool);
    CHECK(ok);
}

TEST(pool_rejects_too_many_threads) {
    pp_pool *pool = (pp_pool *)1;
    CHECK_EQ(pp_pool_create(PP_POOL_MAX_THREADS + 1, &pool), PARAPET_ERR_ARG);
    CHECK(pool == NULL);
    pp_pool_destroy(NULL);
    CHECK_EQ(pp_pool_size(NULL), 1);
}
