/* calls.c - jobs on the workers from any thread (see calls.h).
 *
 * One mutex guards the queue of calls not yet handed to the dispatcher and
 * the table of those that were (by dispatcher id, plus a list to give them
 * all back at once). A call is owned by whoever took it out of those under
 * the mutex: the pump while it submits it, the router when its result
 * comes, calls_shutdown or the grace check when they give it back; the
 * owner ends it (callback, then free) without the mutex held, so each call
 * ends exactly once and a callback may submit again. */
#include "coordinator/calls.h"

#include "common/clock.h"
#include "common/alloc.h"
#include "common/hmap.h"
#include "common/queue.h"
#include "run/policy.h"
#include "worker/jobs.h"
#include "worker/python/xmod.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define CALLS_GRACE_MS POLICY_CLUSTER_GRACE_MS
#define CALLS_FIRST_ID ((uint64_t)1 << 48)

typedef struct call {
    queue_node_t queued;      /* in the queue, not sent */
    struct call *next, *prev; /* the list of those sent, or of those to end */
    uint64_t id;
    uint32_t kind;
    span_t input;
    uint8_t *owned; /* the input's copy (calls_submit); NULL when borrowed */
    calls_done_fn done;
    void *ctx;
    uint64_t tag;
} call_t;

struct calls {
    dispatch_t *d;
    unsigned grace_ms;
    uint64_t first_id;
    int wake;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_cond_t local_cond; /* a local check ended (calls_check) */
    unsigned local_max;
    /* under lock */
    unsigned local_running; /* check jobs calls_check runs here now */
    queue_t queue;          /* call_t.queued: not sent yet, in order */
    call_t *sent;           /* in the dispatcher (a list, for giving them all back) */
    hmap_t *by_id;          /* dispatcher id -> call_t * of those */
    uint64_t next_id;
    bool stopped;
    bool alone;
    size_t blocked; /* threads inside calls_run */
    calls_stats_t st;
    /* the driving thread's */
    uint64_t last_worker_ms;
};

calls_t *calls_new(dispatch_t *d, const calls_opts_t *opts, st_err_t *err)
{
    calls_t *self = st_calloc(1, sizeof *self);

    if (self == NULL || (self->by_id = hmap_new(HMAP_U64)) == NULL) {
        st_free(self);
        st_fail(err, ST_ENOMEM, "out of memory");
        return NULL;
    }
    if (pthread_mutex_init(&self->lock, NULL) != 0) {
        hmap_destroy(&self->by_id);
        st_free(self);
        st_fail(err, ST_ENOMEM, "out of memory for a mutex");
        return NULL;
    }
    if (pthread_cond_init(&self->cond, NULL) != 0) {
        pthread_mutex_destroy(&self->lock);
        hmap_destroy(&self->by_id);
        st_free(self);
        st_fail(err, ST_ENOMEM, "out of memory for a condition variable");
        return NULL;
    }
    if (pthread_cond_init(&self->local_cond, NULL) != 0) {
        pthread_cond_destroy(&self->cond);
        pthread_mutex_destroy(&self->lock);
        hmap_destroy(&self->by_id);
        st_free(self);
        st_fail(err, ST_ENOMEM, "out of memory for a condition variable");
        return NULL;
    }
    if ((self->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
        int e = errno;
        pthread_cond_destroy(&self->local_cond);
        pthread_cond_destroy(&self->cond);
        pthread_mutex_destroy(&self->lock);
        hmap_destroy(&self->by_id);
        st_free(self);
        st_fail(err, ST_EIO, "eventfd: %s", strerror(e));
        return NULL;
    }
    self->d = d;
    self->grace_ms = opts != NULL && opts->grace_ms != 0 ? opts->grace_ms : CALLS_GRACE_MS;
    self->first_id = opts != NULL && opts->first_id != 0 ? opts->first_id : CALLS_FIRST_ID;
    self->local_max = opts != NULL ? opts->local_max : 0;
    self->next_id = self->first_id;
    queue_init(&self->queue);
    self->last_worker_ms = clock_ms();
    dispatch_set_wake_fd(d, self->wake);
    return self;
}

void calls_wake(calls_t *self)
{
    uint64_t one = 1;

    if (write(self->wake, &one, sizeof one) < 0) {
        /* the counter is full: the driver is woken anyway */
    }
}

/* Ends call c (owned by the caller of this): counts it, calls back, frees. */
static void finish(calls_t *self, call_t *c, calls_status_t status, span_t result)
{
    pthread_mutex_lock(&self->lock);
    switch (status) {
    case CALLS_OK:
        self->st.ok++;
        break;
    case CALLS_FAILED:
        self->st.failed++;
        break;
    case CALLS_LOST:
        self->st.lost++;
        break;
    case CALLS_RUN_HERE:
        self->st.run_here++;
        break;
    case CALLS_STOPPED:
        self->st.stopped++;
        break;
    }
    pthread_mutex_unlock(&self->lock);
    c->done(c->ctx, c->tag, status, result);
    st_free(c->owned);
    st_free(c);
}

static void finish_text(calls_t *self, call_t *c, calls_status_t status, const char *text)
{
    finish(self, c, status, (span_t){.ptr = (const uint8_t *)text, .len = strlen(text)});
}

/* Ends every call of a list (linked by next) the same way. */
/* On the driving thread: the calls of list c, given back, are taken out of
 * the dispatcher's queue too, so that a worker joining later does not run
 * them for nothing (one in flight finishes there, its result dropped). */
static void cancel_list(calls_t *self, const call_t *c)
{
    for (; c != NULL; c = c->next)
        dispatch_cancel(self->d, c->id);
}

static void finish_list(calls_t *self, call_t *c, calls_status_t status, const char *text)
{
    while (c != NULL) {
        call_t *next = c->next;
        finish_text(self, c, status, text);
        c = next;
    }
}

/* Under lock: every queued call, taken out, as a list (by next). */
static call_t *take_queued_locked(calls_t *self)
{
    call_t *list = NULL, **end = &list;
    queue_node_t *n;

    while ((n = queue_pop(&self->queue)) != NULL) {
        call_t *c = QUEUE_ENTRY(n, call_t, queued);
        c->next = NULL;
        *end = c;
        end = &c->next;
    }
    return list;
}

/* Under lock: takes every sent call out of the table; returns them as a
 * list. */
static call_t *take_sent_locked(calls_t *self)
{
    call_t *all = self->sent;

    for (call_t *c = all; c != NULL; c = c->next)
        hmap_remove_u64(self->by_id, c->id);
    self->sent = NULL;
    return all;
}

static void unlink_sent_locked(calls_t *self, call_t *c)
{
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        self->sent = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    c->next = c->prev = NULL;
}

/* Under lock: queues c (ids are given here, in order). */
static void enqueue_locked(calls_t *self, call_t *c)
{
    c->id = self->next_id++;
    queue_push(&self->queue, &c->queued);
    self->st.submitted++;
}

st_rc_t calls_submit(calls_t *self, uint32_t kind, span_t input, calls_done_fn done, void *ctx,
                     uint64_t tag, st_err_t *err)
{
    call_t *c = st_calloc(1, sizeof *c);
    uint8_t *copy = c != NULL ? st_malloc(input.len == 0 ? 1 : input.len) : NULL;

    if (copy == NULL) {
        st_free(c);
        return st_fail(err, ST_ENOMEM, "out of memory queueing a job");
    }
    if (input.len > 0)
        memcpy(copy, input.ptr, input.len);
    *c = (call_t){.kind = kind,
                  .input = {.ptr = copy, .len = input.len},
                  .owned = copy,
                  .done = done,
                  .ctx = ctx,
                  .tag = tag};
    pthread_mutex_lock(&self->lock);
    if (self->stopped) {
        pthread_mutex_unlock(&self->lock);
        st_free(c->owned);
        st_free(c);
        return st_fail(err, ST_EIO, "the workers' calls are shut down");
    }
    enqueue_locked(self, c);
    pthread_mutex_unlock(&self->lock);
    calls_wake(self);
    return ST_OK;
}

/* ---- blocking calls ------------------------------------------------------------ */

typedef struct {
    calls_t *calls;
    bool done;
    calls_status_t status;
    uint8_t *result; /* a copy; NULL when out of memory */
    size_t len;
} waiter_t;

static void wake_waiter(void *ctx, uint64_t tag, calls_status_t status, span_t result)
{
    waiter_t *w = ctx;
    uint8_t *copy = st_malloc(result.len + 1);

    (void)tag;
    if (copy != NULL) {
        if (result.len > 0)
            memcpy(copy, result.ptr, result.len);
        copy[result.len] = '\0';
    }
    pthread_mutex_lock(&w->calls->lock);
    w->status = status;
    w->result = copy;
    w->len = copy != NULL ? result.len : 0;
    w->done = true;
    pthread_cond_broadcast(&w->calls->cond);
    pthread_mutex_unlock(&w->calls->lock);
}

/* What a blocked caller gets from a call that did not succeed. */
static calls_status_t waiter_error(const waiter_t *w, st_err_t *err)
{
    const char *text = w->result != NULL ? (const char *)w->result : "";
    int n = (int)(w->len < 200 ? w->len : 200);

    switch (w->status) {
    case CALLS_FAILED:
        st_fail(err, ST_EINTERNAL, "job failed on a worker: %.*s", n, text);
        break;
    case CALLS_LOST:
        st_fail(err, ST_EINTERNAL, "job lost with its workers: %.*s", n, text);
        break;
    case CALLS_RUN_HERE:
        st_fail(err, ST_OK, "%.*s", n, text);
        break;
    case CALLS_STOPPED:
        st_fail(err, ST_EIO, "job not run: the workers' calls are shut down");
        break;
    case CALLS_OK:
        break;
    }
    return w->status;
}

calls_status_t calls_run(calls_t *self, uint32_t kind, span_t input, arena_t *a, span_t *out,
                         st_err_t *err)
{
    waiter_t w = {.calls = self};
    call_t *c = st_calloc(1, sizeof *c);
    calls_status_t status;

    if (c == NULL) {
        st_fail(err, ST_ENOMEM, "out of memory queueing a job");
        return CALLS_FAILED;
    }
    *c = (call_t){.kind = kind, .input = input, .done = wake_waiter, .ctx = &w};
    pthread_mutex_lock(&self->lock);
    if (self->stopped) {
        pthread_mutex_unlock(&self->lock);
        st_free(c);
        st_fail(err, ST_EIO, "job not run: the workers' calls are shut down");
        return CALLS_STOPPED;
    }
    self->blocked++;
    enqueue_locked(self, c);
    pthread_mutex_unlock(&self->lock);
    calls_wake(self);
    pthread_mutex_lock(&self->lock);
    while (!w.done)
        pthread_cond_wait(&self->cond, &self->lock);
    self->blocked--;
    if (self->blocked == 0)
        pthread_cond_broadcast(&self->cond); /* calls_destroy may wait for it */
    pthread_mutex_unlock(&self->lock);
    if (w.result == NULL) {
        st_fail(err, ST_ENOMEM, "out of memory for a job's result");
        return CALLS_FAILED;
    }
    status = waiter_error(&w, err);
    if (status == CALLS_OK) {
        void *copy = arena_alloc(a, w.len == 0 ? 1 : w.len);
        if (copy == NULL) {
            st_fail(err, ST_ENOMEM, "out of memory for a job's result");
            status = CALLS_FAILED;
        } else {
            if (w.len > 0)
                memcpy(copy, w.result, w.len);
            *out = (span_t){.ptr = copy, .len = w.len};
        }
    }
    st_free(w.result);
    return status;
}

/* check_run here, at most local_max at once over all callers. */
static st_rc_t check_here(calls_t *self, span_t input, arena_t *a, span_t *out, st_err_t *err)
{
    st_rc_t rc;

    pthread_mutex_lock(&self->lock);
    while (self->local_max != 0 && self->local_running >= self->local_max)
        pthread_cond_wait(&self->local_cond, &self->lock);
    self->local_running++;
    pthread_mutex_unlock(&self->lock);
    rc = check_run(input, a, out, err); /* pure: the same bytes here */
    pthread_mutex_lock(&self->lock);
    self->local_running--;
    pthread_cond_signal(&self->local_cond);
    pthread_mutex_unlock(&self->lock);
    return rc;
}

st_rc_t calls_check(calls_t *self, calls_tally_t *tally, span_t input, arena_t *a, span_t *out,
                    st_err_t *err)
{
    st_err_t e = {0};

    switch (calls_run(self, JOBS_CHECK, input, a, out, &e)) {
    case CALLS_OK:
        if (tally != NULL)
            atomic_fetch_add(&tally->on_workers, 1);
        return ST_OK;
    case CALLS_RUN_HERE:
        if (tally != NULL)
            atomic_fetch_add(&tally->here, 1);
        return check_here(self, input, a, out, err);
    default:
        if (err != NULL)
            *err = e;
        return e.code != ST_OK ? e.code : ST_EINTERNAL;
    }
}

st_rc_t calls_run_check(void *calls, span_t input, arena_t *a, span_t *out, st_err_t *err)
{
    return calls_check(calls, NULL, input, a, out, err);
}

/* ---- the driving thread ----------------------------------------------------------- */

typedef struct {
    calls_t *self;
    dispatch_done_fn other;
    void *other_ctx;
} route_t;

static calls_status_t status_of(dispatch_status_t s)
{
    return s == DISPATCH_OK ? CALLS_OK : s == DISPATCH_ERROR ? CALLS_FAILED : CALLS_LOST;
}

static void route(void *ctx, uint64_t id, dispatch_status_t status, span_t result)
{
    route_t *r = ctx;
    calls_t *self = r->self;
    call_t *c = NULL;
    uint64_t v;

    if (id < self->first_id) {
        if (r->other != NULL)
            r->other(r->other_ctx, id, status, result);
        return;
    }
    pthread_mutex_lock(&self->lock);
    if (hmap_get_u64(self->by_id, id, &v) == ST_OK) {
        c = (call_t *)(uintptr_t)v;
        hmap_remove_u64(self->by_id, id);
        unlink_sent_locked(self, c);
    }
    pthread_mutex_unlock(&self->lock);
    if (c != NULL) /* else given back already: the result is dropped */
        finish(self, c, status_of(status), result);
}

/* Hands call c (owned) to the dispatcher, or ends it. */
static void send_one(calls_t *self, call_t *c)
{
    st_err_t e = {0};
    st_rc_t rc;

    pthread_mutex_lock(&self->lock);
    bool stopped = self->stopped, alone = self->alone;
    pthread_mutex_unlock(&self->lock);
    if (stopped) {
        finish_text(self, c, CALLS_STOPPED, "the workers' calls are shut down");
        return;
    }
    if (alone) {
        finish_text(self, c, CALLS_RUN_HERE, "no worker connected");
        return;
    }
    if ((rc = dispatch_submit(self->d, c->id, c->kind, c->input, &e)) != ST_OK) {
        finish_text(self, c, rc == ST_ELIMIT ? CALLS_RUN_HERE : CALLS_FAILED, e.msg);
        return;
    }
    st_free(c->owned); /* the dispatcher has its copy */
    c->owned = NULL;
    c->input = (span_t){0};
    pthread_mutex_lock(&self->lock);
    if (!self->stopped && hmap_put_u64(self->by_id, c->id, (uint64_t)(uintptr_t)c) == ST_OK) {
        c->prev = NULL;
        c->next = self->sent;
        if (self->sent != NULL)
            self->sent->prev = c;
        self->sent = c;
        c = NULL;
    }
    stopped = self->stopped;
    pthread_mutex_unlock(&self->lock);
    if (c != NULL) /* its result, if it comes, is dropped */
        finish_text(self, c, stopped ? CALLS_STOPPED : CALLS_FAILED,
                    stopped ? "the workers' calls are shut down" : "out of memory");
}

/* No worker past the grace period: the calls sent are given back, and the
 * next ones too until a worker joins. */
static void grace_check(calls_t *self)
{
    dispatch_stats_t ds;
    uint64_t now = clock_ms();
    call_t *back = NULL;

    dispatch_stats(self->d, &ds);
    if (ds.workers > 0)
        self->last_worker_ms = now;
    pthread_mutex_lock(&self->lock);
    self->alone = ds.workers == 0 && now - self->last_worker_ms > self->grace_ms;
    if (self->alone)
        back = take_sent_locked(self);
    pthread_mutex_unlock(&self->lock);
    cancel_list(self, back);
    finish_list(self, back, CALLS_RUN_HERE, "no worker connected");
}

st_rc_t calls_pump(calls_t *self, int timeout_ms, dispatch_done_fn other, void *other_ctx,
                   st_err_t *err)
{
    route_t r = {.self = self, .other = other, .other_ctx = other_ctx};
    call_t *take;
    st_rc_t rc;

    grace_check(self);
    pthread_mutex_lock(&self->lock);
    take = take_queued_locked(self);
    pthread_mutex_unlock(&self->lock);
    while (take != NULL) {
        call_t *next = take->next;
        send_one(self, take);
        take = next;
    }
    if ((rc = dispatch_poll(self->d, timeout_ms, route, &r, err)) != ST_OK) {
        call_t *back;
        pthread_mutex_lock(&self->lock);
        back = take_sent_locked(self);
        pthread_mutex_unlock(&self->lock);
        cancel_list(self, back);
        finish_list(self, back, CALLS_RUN_HERE, "the workers' socket failed");
        return rc;
    }
    grace_check(self);
    return ST_OK;
}

void calls_shutdown(calls_t *self)
{
    call_t *queued, *sent;

    pthread_mutex_lock(&self->lock);
    self->stopped = true;
    queued = take_queued_locked(self);
    sent = take_sent_locked(self);
    pthread_mutex_unlock(&self->lock);
    finish_list(self, queued, CALLS_STOPPED, "the workers' calls are shut down");
    finish_list(self, sent, CALLS_STOPPED, "the workers' calls are shut down");
}

/* Under lock: takes the calls of ctx out of the queue and the sent list;
 * returns them as a list. */
static call_t *take_ctx_locked(calls_t *self, const void *ctx)
{
    call_t *taken = NULL;

    for (call_t *c = take_queued_locked(self), *next; c != NULL; c = next) {
        next = c->next;
        if (c->ctx == ctx) {
            c->next = taken;
            taken = c;
        } else {
            queue_push(&self->queue, &c->queued); /* in order, as they were */
        }
    }
    for (call_t *c = self->sent, *next; c != NULL; c = next) {
        next = c->next;
        if (c->ctx != ctx)
            continue;
        hmap_remove_u64(self->by_id, c->id);
        unlink_sent_locked(self, c);
        c->next = taken;
        taken = c;
    }
    return taken;
}

void calls_cancel(calls_t *self, const void *ctx)
{
    call_t *taken;

    pthread_mutex_lock(&self->lock);
    taken = take_ctx_locked(self, ctx);
    pthread_mutex_unlock(&self->lock);
    finish_list(self, taken, CALLS_STOPPED, "cancelled");
}

void calls_stats(calls_t *self, calls_stats_t *out)
{
    pthread_mutex_lock(&self->lock);
    *out = self->st;
    out->waiting = self->queue.n + hmap_count(self->by_id);
    out->alone = self->alone;
    pthread_mutex_unlock(&self->lock);
}

void calls_destroy(calls_t **self_p)
{
    calls_t *self = self_p != NULL ? *self_p : NULL;

    if (self == NULL)
        return;
    calls_shutdown(self);
    pthread_mutex_lock(&self->lock);
    while (self->blocked > 0)
        pthread_cond_wait(&self->cond, &self->lock);
    pthread_mutex_unlock(&self->lock);
    dispatch_set_wake_fd(self->d, -1);
    close(self->wake);
    hmap_destroy(&self->by_id);
    pthread_cond_destroy(&self->local_cond);
    pthread_cond_destroy(&self->cond);
    pthread_mutex_destroy(&self->lock);
    st_free(self);
    *self_p = NULL;
}
