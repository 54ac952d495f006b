/* calls.h - jobs on the workers from any thread, through a dispatcher that
 * one other thread drives.
 *
 * The dispatcher (coordinator/dispatch.h) is single-threaded by design, but
 * the work that needs it is not: the check jobs of a project run on a pool
 * of threads, and a daemon serves several batches at once. A calls_t is the
 * meeting point. Any thread submits a job (a kind from worker/jobs.h and
 * the input bytes) and either blocks until its result is back (calls_run,
 * or calls_run_check, which has project_opts_t.run_check's contract) or
 * gets a completion callback (calls_submit). The thread that owns the
 * dispatcher calls calls_pump in its loop: it hands the queued jobs to the
 * dispatcher, polls it, and routes each finished job to its caller; an
 * eventfd set as the dispatcher's wake fd makes the pump return as soon as
 * a job is queued, so nobody waits for a poll timeout.
 *
 * A job always ends, once: with its result, with the worker's error, lost
 * (its workers died on every retry), given back to be run by the caller
 * (CALLS_RUN_HERE: no worker has been connected for the grace period, or
 * the input is too large to send, or the dispatcher's socket failed), or
 * stopped (calls_shutdown). While no worker is connected past the grace
 * period, new jobs are given back at once instead of waiting again; the
 * first worker to join ends that. A job given back is taken out of the
 * dispatcher's queue (dispatch_cancel); one already sent to a worker runs
 * there, and its result is dropped.
 *
 * The calls take dispatcher ids from opts.first_id upwards and never reuse
 * one, so the driving thread can submit jobs of its own below that range
 * and get them back through calls_pump's other callback. */
#ifndef STRATA_CALLS_H
#define STRATA_CALLS_H

#include "common/arena.h"
#include "common/status.h"
#include "coordinator/dispatch.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct calls calls_t;

typedef struct {
    unsigned grace_ms;  /* no worker connected this long: jobs are given back; 0: 1500 */
    uint64_t first_id;  /* the first dispatcher id used; 0: 1 << 48 */
    unsigned local_max; /* check jobs given back that calls_check runs at once in
                           the callers' threads, over all callers; 0: no bound */
} calls_opts_t;

/* Where calls_check ran its jobs, for a caller's own count. */
typedef struct {
    atomic_size_t on_workers, here;
} calls_tally_t;

typedef enum {
    CALLS_OK = 0,       /* ran on a worker: result is its result document */
    CALLS_FAILED = 1,   /* ran and failed, or could not be queued: result is the reason */
    CALLS_LOST = 2,     /* lost with its worker on every retry: result says so */
    CALLS_RUN_HERE = 3, /* not run: no worker, too large, or no socket; run it yourself */
    CALLS_STOPPED = 4   /* not run: calls_shutdown */
} calls_status_t;

/* A finished job, with the tag given to calls_submit. result is borrowed
 * for the call only (for CALLS_RUN_HERE and CALLS_STOPPED a short text).
 * Called on the thread that runs calls_pump (or calls_shutdown), without
 * any lock of the calls held: it may call calls_submit, never calls_pump,
 * calls_destroy, nor anything of the dispatcher. */
typedef void (*calls_done_fn)(void *ctx, uint64_t tag, calls_status_t status, span_t result);

/* Calls onto dispatcher d (borrowed: it must outlive the calls_t, and be
 * driven by the thread that calls calls_pump). Makes the eventfd and sets
 * it as d's wake fd. NULL with err set: ST_EIO (no eventfd), ST_ENOMEM.
 * Caller owns it (calls_destroy). */
calls_t *calls_new(dispatch_t *d, const calls_opts_t *opts, st_err_t *err);

/* calls_shutdown, then waits until every thread blocked in calls_run has
 * left it, unsets d's wake fd, frees, sets *self_p to NULL; accepts NULL.
 * On the driving thread (or when none drives any more), once no thread
 * will submit again. */
void calls_destroy(calls_t **self_p);

/* Queues a job; input is copied. done(ctx, tag, ...) is called once when it
 * ends. ST_EIO after calls_shutdown, ST_ENOMEM: then done is never called.
 * Any thread. */
st_rc_t calls_submit(calls_t *self, uint32_t kind, span_t input, calls_done_fn done, void *ctx,
                     uint64_t tag, st_err_t *err);

/* Queues a job and blocks until it ends; input is borrowed until then.
 * CALLS_OK: *out is the result, copied into arena a. CALLS_RUN_HERE:
 * nothing ran, the caller should run the job itself (err says why, code
 * ST_OK). CALLS_FAILED and CALLS_LOST: err has ST_EINTERNAL and the
 * reason; CALLS_STOPPED: ST_EIO; out of memory (for the call or the
 * result's copy): CALLS_FAILED with ST_ENOMEM. Any thread but the driving
 * one. */
calls_status_t calls_run(calls_t *self, uint32_t kind, span_t input, arena_t *a, span_t *out,
                         st_err_t *err);

/* A check job (JOBS_CHECK) through calls_run; given back, it runs here
 * (check_run: the same bytes), at most opts.local_max at once. Counted in
 * *tally (NULL: not counted). ST_EINTERNAL for a job that failed or was
 * lost on the workers, ST_EIO after calls_shutdown. Any thread but the
 * driving one. */
st_rc_t calls_check(calls_t *self, calls_tally_t *tally, span_t input, arena_t *a, span_t *out,
                    st_err_t *err);

/* project_opts_t.run_check over calls (ctx is the calls_t): calls_check
 * without a tally. */
st_rc_t calls_run_check(void *calls, span_t input, arena_t *a, span_t *out, st_err_t *err);

/* The driving thread's turn: queued jobs go to the dispatcher (or are
 * given back), then dispatch_poll for at most timeout_ms (as its timeout;
 * a calls_submit or calls_wake ends it early), routing finished calls to
 * their callers and every other finished id to other (NULL: dropped), then
 * the grace check. ST_OK, or ST_EIO when the dispatcher's socket failed
 * (err says why; the jobs waiting were given back). */
st_rc_t calls_pump(calls_t *self, int timeout_ms, dispatch_done_fn other, void *other_ctx,
                   st_err_t *err);

/* Ends the driving thread's wait in calls_pump now (for a driver that has
 * other work, e.g. messages to send). Any thread; async-signal-safe. */
void calls_wake(calls_t *self);

/* Every job queued or running ends with CALLS_STOPPED (their callbacks are
 * called on this thread, blocked callers return), and later submits fail.
 * The dispatcher is not touched: jobs already sent may still run, their
 * results are dropped. Any thread; twice is once. */
void calls_shutdown(calls_t *self);

/* Every call of calls_submit's ctx (one caller's) queued or sent ends now
 * with CALLS_STOPPED, its callback on this thread; the results of those
 * sent are dropped when they come. Any thread; others' calls untouched. */
void calls_cancel(calls_t *self, const void *ctx);

typedef struct {
    uint64_t submitted;                           /* calls accepted */
    uint64_t ok, failed, lost, run_here, stopped; /* calls ended so */
    size_t waiting;                               /* queued or in the dispatcher now */
    bool alone; /* no worker for the grace period: jobs are given back */
} calls_stats_t;

/* A snapshot. Any thread. */
void calls_stats(calls_t *self, calls_stats_t *out);

#endif
