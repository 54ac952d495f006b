/* cluster.c - the cluster's workers as a scan back end (see cluster.h).
 *
 * One mutex guards the queue of ended calls and the count of calls not
 * ended; the main thread (calls_pump) pushes, the batch's thread takes.
 * Each call carries its node, made with it, so the end of a call cannot
 * fail for want of memory (only its result's copy can, and then the job
 * ends as failed). */
#include "coordinator/cluster.h"

#include "common/alloc.h"
#include "common/buf.h"
#include "common/clock.h"
#include "common/queue.h"
#include "worker/jobs.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

#define CLUSTER_ARENA_CHUNK ((size_t)1 << 20)

/* A call's end, queued for the batch's thread. */
typedef struct {
    queue_node_t node;
    size_t job;
    calls_status_t status;
    uint8_t *data; /* owned */
    size_t len;
} ended_t;

typedef struct {
    calls_t *calls;
    unsigned jobs;
    calls_tally_t tally; /* check jobs on workers, here */
    backend_sink_t sink;
    arena_t *a;
    buf_t input;
    size_t scanned;
    pthread_mutex_t lock;
    pthread_cond_t cond; /* with lock: a call ended */
    queue_t ended;       /* under lock */
    size_t inflight;     /* under lock: calls not ended */
} cluster_t;

static void ended_free(ended_t *e)
{
    if (e != NULL)
        st_free(e->data);
    st_free(e);
}

/* A call ended (the main thread, in calls_pump, or any thread in
 * calls_cancel/calls_shutdown): its result, copied, to the queue. */
static void on_call(void *ctx, uint64_t tag, calls_status_t status, span_t result)
{
    cluster_t *c = ctx;
    ended_t *e = (ended_t *)(uintptr_t)tag;
    static const char nomem[] = "out of memory for a scan result";

    e->status = status;
    if ((e->data = st_malloc(result.len == 0 ? 1 : result.len)) == NULL) {
        e->status = status == CALLS_OK ? CALLS_FAILED : status;
        e->data = st_malloc(sizeof nomem);
        result = (span_t){.ptr = (const uint8_t *)nomem, .len = sizeof nomem - 1};
    }
    if (e->data != NULL) {
        if (result.len > 0)
            memcpy(e->data, result.ptr, result.len);
        e->len = result.len;
    }
    pthread_mutex_lock(&c->lock);
    queue_push(&c->ended, &e->node);
    c->inflight--;
    pthread_cond_signal(&c->cond);
    pthread_mutex_unlock(&c->lock);
}

static st_rc_t cl_start(void *self, const backend_sink_t *sink, st_err_t *err)
{
    cluster_t *c = self;

    if (c->a == NULL && (c->a = arena_new(CLUSTER_ARENA_CHUNK)) == NULL)
        return st_fail(err, ST_ENOMEM, "out of memory");
    c->sink = *sink;
    return ST_OK;
}

static st_rc_t cl_submit(void *self, size_t job, scan_kind_t kind, uint64_t size, st_err_t *err)
{
    cluster_t *c = self;
    ended_t *e;
    span_t data;
    st_rc_t rc;

    (void)size;
    arena_reset(c->a);
    if (!c->sink.read(c->sink.ctx, job, c->a, &data))
        return ST_OK; /* over: its E902 is in */
    buf_reset(&c->input);
    if ((rc = jobs_scan_input(&c->input, kind, &c->sink.scan, data.ptr, data.len, err)) != ST_OK)
        return rc;
    if ((e = st_calloc(1, sizeof *e)) == NULL)
        return st_fail(err, ST_ENOMEM, "out of memory");
    e->job = job;
    pthread_mutex_lock(&c->lock);
    c->inflight++;
    pthread_mutex_unlock(&c->lock);
    rc = calls_submit(c->calls, JOBS_SCAN, (span_t){.ptr = c->input.data, .len = c->input.len},
                      on_call, c, (uint64_t)(uintptr_t)e, err);
    if (rc != ST_OK) {
        pthread_mutex_lock(&c->lock);
        c->inflight--;
        pthread_mutex_unlock(&c->lock);
        st_free(e);
    }
    return rc;
}

static backend_status_t status_of(calls_status_t s)
{
    switch (s) {
    case CALLS_OK:
        return BACKEND_OK;
    case CALLS_FAILED:
        return BACKEND_FAILED;
    case CALLS_LOST:
        return BACKEND_LOST;
    case CALLS_RUN_HERE:
        return BACKEND_RUN_HERE;
    case CALLS_STOPPED:
        break;
    }
    return BACKEND_STOPPED;
}

/* Waits up to timeout_ms for ended calls, then ends their jobs here. */
static st_rc_t cl_poll(void *self, int timeout_ms, st_err_t *err)
{
    cluster_t *c = self;
    struct timespec until = clock_deadline(CLOCK_MONOTONIC, timeout_ms < 0 ? 1000 : timeout_ms);
    queue_t taken;
    queue_node_t *n;

    (void)err;
    queue_init(&taken);
    pthread_mutex_lock(&c->lock);
    while (c->ended.n == 0 && c->inflight > 0 &&
           !(c->sink.cancel != NULL && atomic_load(c->sink.cancel)))
        if (pthread_cond_timedwait(&c->cond, &c->lock, &until) == ETIMEDOUT)
            break;
    queue_move(&taken, &c->ended);
    pthread_mutex_unlock(&c->lock);
    while ((n = queue_pop(&taken)) != NULL) {
        ended_t *e = QUEUE_ENTRY(n, ended_t, node);
        backend_status_t st = status_of(e->status);
        if (st == BACKEND_OK)
            c->scanned++;
        arena_reset(c->a);
        c->sink.done(c->sink.ctx, e->job, st, (span_t){.ptr = e->data, .len = e->len}, c->a);
        ended_free(e);
    }
    return ST_OK;
}

static void cl_cancel(void *self)
{
    calls_cancel(((cluster_t *)self)->calls, self);
}

static void cl_stats(void *self, backend_stats_t *out)
{
    cluster_t *c = self;

    *out = (backend_stats_t){.workers = 1,
                             .ever_ready = true,
                             .scanned = c->scanned,
                             .checks_here = atomic_load(&c->tally.here),
                             .checks_sent = atomic_load(&c->tally.on_workers)};
}

static st_rc_t cl_checks_begin(void *self, unsigned *threads, st_err_t *err)
{
    (void)err;
    *threads = policy_check_threads(POLICY_CLUSTER, ((cluster_t *)self)->jobs, 0);
    return ST_OK;
}

/* Through the calls; given back, here, at most --jobs at once over all
 * batches (calls_opts_t.local_max). */
static st_rc_t cl_run_check(void *self, span_t input, arena_t *a, span_t *out, st_err_t *err)
{
    cluster_t *c = self;

    return calls_check(c->calls, &c->tally, input, a, out, err);
}

/* Waits for every call to end (each does: result, lost, given back,
 * cancelled or shut down), then frees. */
static void cl_stop(void *self, backend_stats_t *out)
{
    cluster_t *c = self;
    queue_node_t *n;

    pthread_mutex_lock(&c->lock);
    while (c->inflight > 0)
        pthread_cond_wait(&c->cond, &c->lock);
    pthread_mutex_unlock(&c->lock);
    if (out != NULL)
        cl_stats(c, out);
    while ((n = queue_pop(&c->ended)) != NULL)
        ended_free(QUEUE_ENTRY(n, ended_t, node));
    arena_destroy(&c->a);
    buf_free(&c->input);
    pthread_cond_destroy(&c->cond);
    pthread_mutex_destroy(&c->lock);
    st_free(c);
}

static const backend_ops_t cluster_ops = {
    .kind = POLICY_CLUSTER,
    .name = "cluster workers",
    .start = cl_start,
    .submit = cl_submit,
    .poll = cl_poll,
    .cancel = cl_cancel,
    .stats = cl_stats,
    .checks_begin = cl_checks_begin,
    .run_check = cl_run_check,
    .stop = cl_stop,
};

st_rc_t cluster_backend_new(calls_t *calls, unsigned jobs, backend_t *out, st_err_t *err)
{
    cluster_t *c = st_calloc(1, sizeof *c);
    pthread_condattr_t ca;
    bool ok = false;

    if (c == NULL)
        return st_fail(err, ST_ENOMEM, "out of memory");
    if (pthread_condattr_init(&ca) == 0) {
        ok = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
             pthread_cond_init(&c->cond, &ca) == 0;
        pthread_condattr_destroy(&ca);
    }
    if (!ok || pthread_mutex_init(&c->lock, NULL) != 0) {
        if (ok)
            pthread_cond_destroy(&c->cond);
        st_free(c);
        return st_fail(err, ST_ENOMEM, "out of memory for a condition variable");
    }
    c->calls = calls;
    c->jobs = jobs;
    atomic_init(&c->tally.on_workers, 0);
    atomic_init(&c->tally.here, 0);
    buf_init(&c->input);
    queue_init(&c->ended);
    *out = (backend_t){.ops = &cluster_ops, .self = c};
    return ST_OK;
}
