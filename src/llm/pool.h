/*
** pool.h -- parapet's own thread pool for the guard-model engine.
**
** The forward pass issues a few hundred short parallel jobs per request (one per
** matmul), each a few hundred microseconds to a few milliseconds long.  What matters
** is the latency of starting and joining a job, so the pool keeps a fixed set of
** threads that spin briefly on a generation counter after each job and only then
** sleep on a futex; starting a job allocates nothing.
**
** The calling thread is worker 0: a pool of n threads starts n-1 OS threads.  A
** NULL pool, a pool of one thread, and a job started from inside a job (nesting) all
** run the job inline on the calling thread, so kernels never need a special case.
** One pool serves one caller at a time (the engine owns one per model context);
** starting jobs on the same pool from two threads at once is not supported.
*/
#ifndef PP_POOL_H
#define PP_POOL_H

#include <stddef.h>
#include "core/core.h"

typedef struct pp_pool pp_pool;

#define PP_POOL_MAX_THREADS 256

/* Creates a pool of n_threads threads in all (1..PP_POOL_MAX_THREADS), the caller
** counting as one.  n_threads <= 0 means the number of online CPUs.  On success *out
** owns the threads until pp_pool_destroy. */
pp_status pp_pool_create(int n_threads, pp_pool **out);

/* Joins the threads and frees the pool.  NULL is fine. */
void pp_pool_destroy(pp_pool *pool);

/* Threads in the pool (1 for NULL). */
int pp_pool_size(const pp_pool *pool);

/* A job: called once on each of n_threads threads with thread = 0..n_threads-1. */
typedef void (*pp_pool_job)(void *ctx, int thread, int n_threads);

/* Runs job on every thread of the pool (the caller as thread 0) and returns when all
** have finished: a full barrier, so writes made by the job are visible afterwards. */
void pp_pool_run(pp_pool *pool, pp_pool_job job, void *ctx);

/* A parallel for: fn(ctx, begin, end, thread) over [0, n) split into one contiguous
** range per thread, each a multiple of `grain` long (except the last).  Every index is
** covered exactly once; threads with an empty range are not called. */
typedef void (*pp_pool_range_fn)(void *ctx, size_t begin, size_t end, int thread);
void pp_pool_for(pp_pool *pool, size_t n, size_t grain, pp_pool_range_fn fn, void *ctx);

/* The range thread `t` of `nt` gets under pp_pool_for's split (for jobs that need the
** same split as a previous pp_pool_for). */
void pp_pool_split(size_t n, size_t grain, int t, int nt, size_t *begin, size_t *end);

#endif
