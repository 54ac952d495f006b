/* backend.h - a scan back end: where the run's scan jobs (and then its
 * check jobs) run.
 *
 * The run (run/run.h) drives every back end the same way: start with a
 * sink, submit jobs within the window the policy gives (run/policy.h),
 * poll, and take each ended job through the sink's done callback; a job
 * given back (BACKEND_RUN_HERE), or every job left when the back end gives
 * up, the run scans itself. A back end is this struct of functions and its
 * state; it decides nothing about flow control (the policy does) and makes
 * no diagnostic (the run turns every status into a result or an E902).
 *
 * The back ends: threads of this process (run/exec.c, exec_backend_new),
 * worker processes on this host (coordinator/hostpool.c,
 * hostpool_backend_new), a coordinator's cluster workers through its
 * dispatcher (coordinator/cluster.c, cluster_backend_new). A
 * fourth is one more file that fills backend_ops_t, a policy_kind_t for it
 * in run/policy.h, and a place that makes it: run_opts_t.make_workers for
 * `strata check`, or the caller of run_scan for a daemon. */
#ifndef STRATA_RUN_BACKEND_H
#define STRATA_RUN_BACKEND_H

#include "common/arena.h"
#include "common/status.h"
#include "run/policy.h"
#include "worker/python/scan.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    BACKEND_OK = 0,       /* scanned: the result is the scan result document */
    BACKEND_ERROR = 1,    /* failed in this process, for a reason of ours: the
                             result is the message (the run names the file) */
    BACKEND_FAILED = 2,   /* failed on a worker: the result is its error text */
    BACKEND_LOST = 3,     /* lost with its workers on every retry: the result says so */
    BACKEND_RUN_HERE = 4, /* not run: no worker, or too large; the run scans it */
    BACKEND_STOPPED = 5   /* not run: the run was cancelled */
} backend_status_t;

/* What a back end gets from the run: the jobs' content, where they end,
 * and the run's stop flag. */
typedef struct {
    /* Reads job's content into a (valid until a is reset); for a run with a
     * cache it also notes the bytes' scan key. False: the job is over
     * already (its E902 was delivered): the back end forgets it. Thread-safe
     * for distinct arenas. */
    bool (*read)(void *ctx, size_t job, arena_t *a, span_t *data);
    /* Job ended. result is borrowed for the call; a is an arena the callee
     * may use until it returns. Called on the thread in poll, or for the
     * threads back end on its threads: thread-safe. */
    void (*done)(void *ctx, size_t job, backend_status_t status, span_t result, arena_t *a);
    void *ctx;
    scan_opts_t scan;          /* max_file_bytes set */
    const atomic_bool *cancel; /* set: no new job starts (NULL: none) */
} backend_sink_t;

#define BACKEND_MAX_PROCESSES 64

/* What a back end did and measured. */
typedef struct {
    size_t workers;                  /* connected now (threads: 1) */
    size_t slots;                    /* their threads now; before any connects, those expected */
    bool gave_up;                    /* no worker for too long, or its socket failed: the run
                                        scans the jobs not ended here */
    bool ever_ready;                 /* a worker was connected at some time */
    size_t scanned;                  /* jobs ended BACKEND_OK */
    size_t restarts;                 /* worker processes restarted */
    unsigned processes, threads;     /* worker processes and threads of each */
    size_t checks_here, checks_sent; /* check jobs run here / on workers */
    policy_cost_t measured;          /* what this run measured (0: nothing) */
    uint64_t worker_rss_kb[BACKEND_MAX_PROCESSES]; /* peak resident memory of each */
    uint64_t peak_worker_rss_kb;
} backend_stats_t;

typedef struct {
    policy_kind_t kind;
    const char *name;
    /* Before the first submit; the sink is copied. */
    st_rc_t (*start)(void *self, const backend_sink_t *sink, st_err_t *err);
    /* Queues job, a file of that kind (size bytes: for the order and the
     * measures). Its content is read through sink.read, now or on the back
     * end's threads. ST_OK: the job ends through sink.done once, unless
     * read said it is over. Else it is not queued (err says why) and the
     * run ends it. */
    st_rc_t (*submit)(void *self, size_t job, scan_kind_t kind, uint64_t size, st_err_t *err);
    /* Works for up to timeout_ms (< 0: until every job submitted ended),
     * ending jobs through sink.done. ST_EIO when the back end failed (err
     * says why): then it has given up. */
    st_rc_t (*poll)(void *self, int timeout_ms, st_err_t *err);
    /* Every job submitted and not ended ends BACKEND_STOPPED, now or in the
     * next poll, and results that come later are dropped. On the thread
     * that polls. */
    void (*cancel)(void *self);
    void (*stats)(void *self, backend_stats_t *out);
    /* After the scans: ST_OK when check jobs go through run_check from now
     * on, with *threads the check threads the run should use; else the run
     * checks here. NULL: always here. */
    st_rc_t (*checks_begin)(void *self, unsigned *threads, st_err_t *err);
    /* project_opts_t.run_check's contract (any thread). */
    st_rc_t (*run_check)(void *self, span_t input, arena_t *a, span_t *out, st_err_t *err);
    /* Ends everything, fills *out (NULL: not) and frees self. */
    void (*stop)(void *self, backend_stats_t *out);
} backend_ops_t;

/* A back end: its functions and its state (owned: ops->stop frees it). */
typedef struct {
    const backend_ops_t *ops;
    void *self;
} backend_t;

/* Stops b (when it has one) and clears it; stats as ops->stop. */
static inline void backend_stop(backend_t *b, backend_stats_t *out)
{
    if (b->ops != NULL)
        b->ops->stop(b->self, out);
    b->ops = NULL;
    b->self = NULL;
}

#endif
