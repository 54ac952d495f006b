/* wproc.c - the worker process loop (see wproc.h).
 *
 * A job's input is copied out of its JOBS message, which is freed at once,
 * so that what the worker holds is exactly the inputs of its jobs, which it
 * caps (the copy costs far less than the parse). A job's result is copied out of its arena into a
 * result record, so the arena goes back to the pool at once and the main
 * thread can batch records from many jobs into one RESULTS message. Each
 * connection has an epoch: after a reconnection, jobs and results of an
 * older epoch are dropped, since the coordinator has given them to others. */
#include "worker/wproc.h"

#include "common/clock.h"
#include "common/cpus.h"
#include "common/alloc.h"
#include "common/arena.h"
#include "common/buf.h"
#include "common/prom.h"
#include "common/proto.h"
#include "common/ratelog.h"
#include "common/simd.h"
#include "worker/jobkey.h"
#include "worker/jobs.h"
#include "worker/place.h"
#include "worker/wcache.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define WPROC_ARENA_CHUNK ((size_t)1 << 20)
#define WPROC_BACKOFF_MIN_MS 250u
#define WPROC_RESULT_BYTES ((size_t)1 << 20) /* a RESULTS message, once it has one */
/* Results held back to go in one message (flush_due): at most this many,
 * this long. */
#define WPROC_COALESCE_RESULTS 16u
#define WPROC_COALESCE_MS 2u
/* ... and at most this long when no other result comes to send them: the
 * main thread's timer while jobs run */
#define WPROC_HOLD_MAX_MS 10u
/* What a coordinator may have this worker hold: jobs queued per thread,
 * and bytes of job messages kept (one message is always taken). A
 * coordinator keeps far below both (dispatch.h: depth jobs per slot, batches
 * of a few MB); jobs past them are answered at once with an error, so that
 * a buggy or hostile coordinator cannot grow this process without bound. */
#define WPROC_MAX_QUEUED_PER_THREAD 256u
#define WPROC_MAX_HELD_BYTES (2 * PROTO_WORKER_INPUT_BYTES)
/* The socket's queues, in messages (of megabytes, some): ZeroMQ stops
 * reading a coordinator that sends faster than this worker takes messages
 * (the rest wait on its side), and results a coordinator does not take
 * wait here (WPROC_MAX_HELD_RESULTS). */
#define WPROC_RCVHWM 2
#define WPROC_SNDHWM 4
/* Results waiting to be sent past which the coordinator is taken for one
 * that does not read, and the worker reconnects. */
#define WPROC_MAX_HELD_RESULTS ((size_t)8 << 20)
/* On stop, the analysis threads get this long to finish their jobs; one
 * still running then is left behind (the process exits without it). */
#define WPROC_STOP_JOIN_MS 800u

static atomic_bool stop_requested;

void wproc_stop(void)
{
    atomic_store(&stop_requested, true);
}

/* What the metrics endpoint shows (wproc_metrics, wproc_alive,
 * wproc_ready): atomics that the main loop and the analysis threads update
 * as they go and any thread reads, so that a scrape takes no lock of the
 * worker's. Process-wide, as a process runs one worker. */
static struct {
    _Atomic uint64_t heartbeat_ms; /* the main loop's last turn; 0: not running */
    atomic_bool greeted;           /* a coordinator answered on this connection */
    _Atomic uint64_t ran, hits, misses, dropped, refused, reconnects;
    atomic_uint busy, threads;
} live;

typedef struct wjob {
    struct wjob *next;
    uint64_t epoch;
    proto_job_t job; /* its input is data */
    uint8_t data[];
} wjob_t;

typedef struct wres {
    struct wres *next;
    uint64_t epoch;
    uint64_t id;
    proto_status_t status;
    size_t len;
    uint8_t data[];
} wres_t;

typedef struct wthread wthread_t;

typedef struct {
    const wproc_opts_t *opts;
    pthread_mutex_t lock; /* guards todo, done, epoch, quit */
    pthread_cond_t cond;
    wjob_t *todo, *todo_tail;
    size_t n_todo;    /* jobs in todo */
    size_t n_running; /* jobs the analysis threads are running */
    wres_t *done;
    unsigned n_done;   /* results in done */
    size_t done_bytes; /* and their bytes: past WPROC_MAX_HELD_RESULTS the
                          analysis threads take no job until they go */
    uint64_t done_ms;  /* when the oldest of them was finished */
    uint64_t epoch;
    bool quit;
    int efd; /* written by a thread when it adds to done */
    arena_pool_t *pool;
    void *zctx, *sock;
    FILE *log;
    buf_t out;
    uint64_t last_recv, last_send;
    unsigned backoff;
    unsigned threads;
    wthread_t *ts;                  /* the analysis threads, watched for stuck jobs */
    wcache_t *cache;                /* NULL: off */
    atomic_uint_fast64_t ran, hits; /* jobs finished, of them answered by the cache */
    atomic_size_t held;             /* bytes of the JOBS messages kept */
    ratelog_t *rl;                  /* caps on the lines about bad messages */
    size_t dropped;                 /* malformed messages dropped */
    size_t refused_jobs;            /* jobs answered "over the limit" at once */
    bool greeted;                   /* the coordinator has answered on this connection */
    bool refused;                   /* ... refused this worker for good: nothing more to send */
    char why[192];                  /* why the coordinator ended the connection */
    char id[PROTO_MAX_NAME + 1], host[PROTO_MAX_NAME / 2];
} wproc_t;

/* ---- the analysis threads ---------------------------------------------------------------- */

struct wthread {
    wproc_t *w;
    scanner_t *scanner;
    pthread_t tid;
    bool started;
    unsigned index;
    const place_plan_t *plan; /* NULL: unpinned */
    /* the job running now, for the main thread's stuck-job watch */
    atomic_uint_fast64_t since; /* ms (monotonic) it started; 0: idle */
    atomic_uint_fast64_t job_id;
    atomic_uint job_kind;
    atomic_size_t job_len;
};

/* A result record for a job's outcome (result bytes or error text). */
static wres_t *make_result(const wjob_t *j, st_rc_t rc, span_t out, const st_err_t *err)
{
    char text[PROTO_MAX_TEXT];
    span_t data = out;
    wres_t *r;

    if (rc == ST_OK && out.len > PROTO_MAX_INPUT) {
        rc = ST_ELIMIT;
        snprintf(text, sizeof text, "result of %zu bytes is over the limit", out.len);
    } else if (rc != ST_OK) {
        snprintf(text, sizeof text, "%s: %s", st_strerror(rc), err->msg);
    }
    if (rc != ST_OK)
        data = (span_t){(const uint8_t *)text, strlen(text)};
    if ((r = st_malloc(sizeof *r + data.len)) == NULL)
        return NULL;
    *r = (wres_t){.epoch = j->epoch,
                  .id = j->job.id,
                  .status = rc == ST_OK ? PROTO_STATUS_OK : PROTO_STATUS_ERROR,
                  .len = data.len};
    if (data.len > 0)
        memcpy(r->data, data.ptr, data.len);
    return r;
}

static bool input_has(const wjob_t *j, const char *hook)
{
    return hook != NULL && *hook != '\0' &&
           memmem(j->job.input.ptr, j->job.input.len, hook, strlen(hook)) != NULL;
}

/* The hang test hook: returns when the worker stops. */
static void hang(wproc_t *w)
{
    for (;;) {
        struct timespec ts = {0, 20 * 1000000L};
        bool quit;

        pthread_mutex_lock(&w->lock);
        quit = w->quit;
        pthread_mutex_unlock(&w->lock);
        if (quit || atomic_load(&stop_requested))
            return;
        nanosleep(&ts, NULL);
    }
}

/* Runs j (through the local cache) into a result record. */
static wres_t *run_one(wproc_t *w, wthread_t *t, const wjob_t *j)
{
    arena_t *a = arena_pool_get(w->pool);
    st_err_t err = {0};
    span_t out = {0};
    bool hit = false;
    st_rc_t rc;
    wres_t *r;

    if (a == NULL)
        rc = st_fail(&err, ST_ENOMEM, "out of memory for the job's arena");
    else
        rc = wcache_run(w->cache, t->scanner, j->job.kind, j->job.input, a, &out, &hit, &err);
    r = make_result(j, rc, out, &err);
    if (a != NULL)
        arena_pool_put(w->pool, a);
    atomic_fetch_add(&w->ran, 1);
    atomic_fetch_add(&live.ran, 1);
    if (hit) {
        atomic_fetch_add(&w->hits, 1);
        atomic_fetch_add(&live.hits, 1);
    } else if (a != NULL && w->cache != NULL) {
        atomic_fetch_add(&live.misses, 1);
    }
    return r;
}

/* Whether the results in done should go now (under the lock). Each RESULTS
 * message wakes this process's main thread, both ZeroMQ I/O threads and the
 * coordinator, and the wakes preempt analysis threads: while enough jobs are
 * queued to keep every thread busy, results wait for a few more, briefly.
 * The coordinator refills the queue from the results, so they go as soon as
 * it runs low. */
static bool flush_due(const wproc_t *w)
{
    return w->n_todo < 2 * (size_t)w->threads || w->n_done >= WPROC_COALESCE_RESULTS ||
           w->done_bytes > WPROC_MAX_HELD_RESULTS || clock_ms() - w->done_ms >= WPROC_COALESCE_MS;
}

static void run_job(wproc_t *w, wthread_t *t, wjob_t *j)
{
    wres_t *r;
    uint64_t one = 1;
    bool wake;

    if (input_has(j, w->opts->crash_on))
        abort(); /* the test hook: this job kills its worker */
    atomic_store(&t->job_id, j->job.id);
    atomic_store(&t->job_kind, j->job.kind);
    atomic_store(&t->job_len, j->job.input.len);
    atomic_store(&t->since, clock_ms());
    atomic_fetch_add(&live.busy, 1);
    if (input_has(j, w->opts->hang_on)) {
        hang(w); /* the test hook: this job never ends */
        r = NULL;
    } else {
        r = run_one(w, t, j);
    }
    atomic_fetch_sub(&live.busy, 1);
    atomic_store(&t->since, 0);
    if (r == NULL) { /* out of memory (or the hook): the coordinator's deadline retries it */
        pthread_mutex_lock(&w->lock);
        w->n_running--;
        pthread_mutex_unlock(&w->lock);
        return;
    }
    pthread_mutex_lock(&w->lock);
    w->n_running--;
    r->next = w->done;
    w->done = r;
    w->done_bytes += r->len;
    if (w->n_done++ == 0)
        w->done_ms = clock_ms();
    /* a result held back without a wake is sent by the main thread's
     * WPROC_HOLD_MAX_MS timer at the latest */
    wake = flush_due(w);
    pthread_mutex_unlock(&w->lock);
    if (wake && write(w->efd, &one, sizeof one) < 0) {
        /* the counter cannot overflow at our rates; nothing to do */
    }
}

static void *thread_main(void *arg)
{
    wthread_t *t = arg;
    wproc_t *w = t->w;
    place_bound_t bound;
    st_err_t perr = {0};

    if (t->plan != NULL && place_apply(t->plan, t->index, &bound, &perr) != ST_OK && t->index == 0)
        fprintf(w->log, "strata worker: threads not pinned: %s\n", perr.msg);

    for (;;) {
        wjob_t *j;

        pthread_mutex_lock(&w->lock);
        /* results that cannot go yet: no new job makes more of them */
        while (!w->quit && (w->todo == NULL || w->done_bytes > WPROC_MAX_HELD_RESULTS))
            pthread_cond_wait(&w->cond, &w->lock);
        if (w->quit) {
            pthread_mutex_unlock(&w->lock);
            return NULL;
        }
        j = w->todo;
        w->todo = j->next;
        w->n_todo--;
        w->n_running++;
        if (w->todo == NULL)
            w->todo_tail = NULL;
        pthread_mutex_unlock(&w->lock);
        run_job(w, t, j);
        atomic_fetch_sub(&w->held, j->job.input.len);
        st_free(j);
    }
}

/* ---- the connection ------------------------------------------------------------------- */

static void say(wproc_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One line on the log: "strata worker: ...". */
static void say(wproc_t *w, const char *fmt, ...)
{
    char line[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(w->log, "strata worker: %s\n", line);
    fflush(w->log);
}

/* Sends w->out without blocking; false when ZeroMQ cannot take it (no
 * connection to queue it on: the handshake failed, or it is being
 * redone), and then the message is lost. */
static bool send_out(wproc_t *w)
{
    if (zmq_send(w->sock, w->out.data, w->out.len, ZMQ_DONTWAIT) < 0)
        return false;
    w->last_send = clock_ms();
    return true;
}

/* Number of NUMA nodes the kernel shows (0: unknown), as HELLO carries it. */
static unsigned numa_nodes(void)
{
    unsigned n = place_numa_node_count();

    return n > PROTO_MAX_NUMA ? PROTO_MAX_NUMA : n;
}

static st_rc_t open_socket(wproc_t *w, unsigned threads, st_err_t *err)
{
    const char *version = w->opts->version != NULL ? w->opts->version : JOBS_ANALYZER_VERSION;
    const char *cpu = simd_level_name(simd_detect());
    int64_t maxmsg = (int64_t)PROTO_MAX_MSG;
    int zero = 0, rcvhwm = WPROC_RCVHWM, sndhwm = WPROC_SNDHWM;
    proto_hello_t h = {.id = {w->id, (uint32_t)strlen(w->id)},
                       .host = {w->host, (uint32_t)strlen(w->host)},
                       .version = {version, (uint32_t)strlen(version)},
                       .cpu = {cpu, (uint32_t)strlen(cpu)},
                       .slots = threads,
                       .numa = numa_nodes()};

    if ((w->sock = zmq_socket(w->zctx, ZMQ_DEALER)) == NULL)
        return st_fail(err, ST_EIO, "zmq socket: %s", zmq_strerror(zmq_errno()));
    if (zmq_setsockopt(w->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) != 0 ||
        zmq_setsockopt(w->sock, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
        zmq_setsockopt(w->sock, ZMQ_SNDHWM, &sndhwm, sizeof sndhwm) != 0 ||
        zmq_setsockopt(w->sock, ZMQ_RCVHWM, &rcvhwm, sizeof rcvhwm) != 0)
        return st_fail(err, ST_EIO, "zmq options: %s", zmq_strerror(zmq_errno()));
    if (w->opts->server_key != NULL &&
        (zmq_setsockopt(w->sock, ZMQ_CURVE_SERVERKEY, w->opts->server_key, 41) != 0 ||
         zmq_setsockopt(w->sock, ZMQ_CURVE_PUBLICKEY, w->opts->public_key, 41) != 0 ||
         zmq_setsockopt(w->sock, ZMQ_CURVE_SECRETKEY, w->opts->secret_key, 41) != 0))
        return st_fail(err, ST_EINVAL, "CURVE keys: %s", zmq_strerror(zmq_errno()));
    if (zmq_connect(w->sock, w->opts->connect) != 0)
        return st_fail(err, ST_EINVAL, "cannot connect to %s: %s", w->opts->connect,
                       zmq_strerror(zmq_errno()));
    buf_reset(&w->out);
    if (proto_encode_hello(&w->out, &h) != ST_OK)
        return st_fail(err, ST_ENOMEM, "out of memory for HELLO");
    send_out(w); /* if it cannot go, no answer comes and the timeout reconnects */
    w->last_recv = clock_ms();
    w->greeted = false;
    atomic_store(&live.greeted, false);
    return ST_OK;
}

/* Forgets the queued jobs and moves to a new epoch (results of the old one
 * are dropped when they come). */
static void new_epoch(wproc_t *w)
{
    wjob_t *j;

    pthread_mutex_lock(&w->lock);
    w->epoch++;
    j = w->todo;
    w->todo = w->todo_tail = NULL;
    w->n_todo = 0;
    pthread_mutex_unlock(&w->lock);
    while (j != NULL) {
        wjob_t *next = j->next;

        atomic_fetch_sub(&w->held, j->job.input.len);
        st_free(j);
        j = next;
    }
}

/* Sleeps ms, waking early when asked to stop. */
static void pause_ms(unsigned ms)
{
    for (unsigned slept = 0; slept < ms && !atomic_load(&stop_requested); slept += 50) {
        atomic_store(&live.heartbeat_ms, clock_ms()); /* waiting is the loop's work */
        struct timespec ts = {0, (long)(ms - slept < 50 ? ms - slept : 50) * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* Drops the connection and makes a new one after the backoff. */
static st_rc_t reconnect(wproc_t *w, unsigned threads, const char *why, st_err_t *err)
{
    say(w, "%s; reconnecting to %s in %u ms", why, w->opts->connect, w->backoff);
    atomic_store(&live.greeted, false);
    atomic_fetch_add(&live.reconnects, 1);
    new_epoch(w);
    zmq_close(w->sock);
    w->sock = NULL;
    pause_ms(w->backoff);
    w->backoff *= 2;
    if (w->backoff > w->opts->backoff_max_ms)
        w->backoff = w->opts->backoff_max_ms;
    if (atomic_load(&stop_requested))
        return ST_OK;
    return open_socket(w, threads, err);
}

/* Puts records back at the head of done (they could not go yet); the
 * bytes they hold. */
static size_t requeue_results(wproc_t *w, wres_t *list)
{
    wres_t *last = list;
    size_t bytes = 0, n = 0;

    for (wres_t *r = list; r != NULL; r = r->next) {
        bytes += r->len;
        n++;
        last = r;
    }
    if (list == NULL)
        return 0;
    pthread_mutex_lock(&w->lock);
    last->next = w->done;
    if (w->done == NULL)
        w->done_ms = clock_ms();
    w->done = list;
    w->n_done += (unsigned)n;
    w->done_bytes += bytes;
    pthread_mutex_unlock(&w->lock);
    return bytes;
}

/* Sends the finished results of this epoch in RESULTS batches. A batch
 * ZeroMQ cannot take now (the coordinator reads slower than results come:
 * WPROC_SNDHWM messages wait) goes back, with the rest, for the next try.
 * False when they cannot go at all: the socket failed, or more than
 * WPROC_MAX_HELD_RESULTS bytes wait (a coordinator that does not read); the
 * caller then starts a new connection, and the coordinator requeues the
 * jobs when it drops this one. */
static bool send_results(wproc_t *w)
{
    wres_t *r, *keep = NULL, *next;
    proto_batch_t batch;

    pthread_mutex_lock(&w->lock);
    r = w->done;
    w->done = NULL;
    w->n_done = 0;
    w->done_bytes = 0;
    pthread_cond_broadcast(&w->cond); /* threads held back by them go on */
    pthread_mutex_unlock(&w->lock);
    for (; r != NULL; r = next) { /* an older epoch's are late: dropped */
        next = r->next;
        if (r->epoch == w->epoch) {
            r->next = keep;
            keep = r;
        } else {
            st_free(r);
        }
    }
    while (keep != NULL) {
        wres_t *first = keep;
        size_t n = 0;

        buf_reset(&w->out);
        if (proto_batch_begin(&batch, &w->out, PROTO_RESULTS) != ST_OK)
            break;
        while (keep != NULL && batch.n < PROTO_MAX_JOBS &&
               (n == 0 || w->out.len + keep->len <= WPROC_RESULT_BYTES)) {
            proto_batch_result(&batch, keep->id, keep->status, (span_t){keep->data, keep->len});
            keep = keep->next;
            n++;
        }
        proto_batch_end(&batch);
        if (!send_out(w)) {
            bool full = zmq_errno() == EAGAIN;
            return requeue_results(w, first) <= WPROC_MAX_HELD_RESULTS && full;
        }
        for (wres_t *k = first; k != keep; k = next) {
            next = k->next;
            st_free(k);
        }
    }
    requeue_results(w, keep); /* only when out of memory for a message */
    return true;
}

/* Answers a job at once with an error (it is over this worker's limits):
 * the result goes with the next RESULTS. */
static void refuse_job(wproc_t *w, const proto_job_t *job, const char *why)
{
    wjob_t tmp = {.epoch = w->epoch, .job = *job};
    st_err_t err = {0};
    wres_t *r;

    st_fail(&err, ST_ELIMIT, "%s", why);
    if ((r = make_result(&tmp, ST_ELIMIT, (span_t){0}, &err)) == NULL)
        return; /* out of memory: the coordinator's deadline retries it */
    w->refused_jobs++;
    atomic_fetch_add(&live.refused, 1);
    pthread_mutex_lock(&w->lock);
    r->next = w->done;
    w->done = r;
    w->done_bytes += r->len;
    if (w->n_done++ == 0)
        w->done_ms = clock_ms();
    pthread_mutex_unlock(&w->lock);
}

/* Queues the jobs of a JOBS message (m points into b's message), within
 * the limits on jobs queued and bytes held; the jobs past them are
 * refused. */
static void take_jobs(wproc_t *w, proto_msg_t *m)
{
    wjob_t *first = NULL, *last = NULL;
    size_t n = 0, queued, room, taken = 0, held = atomic_load(&w->held);
    size_t max_queued = (size_t)w->threads * WPROC_MAX_QUEUED_PER_THREAD;
    proto_job_t job;
    char why[192];

    pthread_mutex_lock(&w->lock);
    queued = w->n_todo;
    pthread_mutex_unlock(&w->lock);
    room = queued < max_queued ? max_queued - queued : 0;
    while (proto_next_job(m, &job)) {
        bool fits =
            n < room && (held + taken == 0 || held + taken + job.input.len <= WPROC_MAX_HELD_BYTES);
        wjob_t *j = fits ? st_malloc(sizeof *j + job.input.len) : NULL;

        if (j == NULL) {
            if (fits)
                snprintf(why, sizeof why, "the worker is out of memory");
            else
                snprintf(why, sizeof why,
                         "the worker holds %zu jobs and %zu bytes of input already, its limits "
                         "are %zu and %zu: the coordinator sent more than its credit",
                         queued + n, held + taken, max_queued, WPROC_MAX_HELD_BYTES);
            refuse_job(w, &job, why);
            continue;
        }
        /* the input is copied: the message is freed at once, and what the
           worker holds is exactly the inputs of its jobs */
        *j = (wjob_t){.epoch = w->epoch, .job = job};
        if (job.input.len > 0)
            memcpy(j->data, job.input.ptr, job.input.len);
        j->job.input.ptr = j->data;
        taken += job.input.len;
        n++;
        if (last != NULL)
            last->next = j;
        else
            first = j;
        last = j;
    }
    if (first == NULL)
        return;
    atomic_fetch_add(&w->held, taken);
    pthread_mutex_lock(&w->lock);
    if (w->todo_tail != NULL)
        w->todo_tail->next = first;
    else
        w->todo = first;
    w->todo_tail = last;
    w->n_todo += n;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

typedef enum { MSG_NONE, MSG_OK, MSG_RECONNECT, MSG_REFUSED, MSG_FAILED } msg_outcome_t;

/* Handles a decoded message. */
static msg_outcome_t on_message(wproc_t *w, proto_msg_t *m, st_err_t *err)
{
    w->last_recv = clock_ms();
    if (!w->greeted && m->type != PROTO_REFUSED && m->type != PROTO_BYE) {
        w->greeted = true;
        atomic_store(&live.greeted, true);
        say(w, "working for the coordinator at %s with %u threads", w->opts->connect, w->threads);
    }
    switch (m->type) {
    case PROTO_JOBS:
        w->backoff = WPROC_BACKOFF_MIN_MS; /* a working connection: start over */
        take_jobs(w, m);
        return MSG_OK;
    case PROTO_HEARTBEAT:
        w->backoff = WPROC_BACKOFF_MIN_MS;
        return MSG_OK;
    case PROTO_BYE:
        snprintf(w->why, sizeof w->why, "the coordinator said goodbye");
        return MSG_RECONNECT;
    case PROTO_REFUSED:
        if (m->retry) {
            snprintf(w->why, sizeof w->why, "the coordinator does not take this worker (%.*s)",
                     (int)(m->reason.len > 120 ? 120 : m->reason.len), m->reason.ptr);
            return MSG_RECONNECT;
        }
        st_fail(err, ST_EINVAL, "refused by the coordinator at %s: %.*s", w->opts->connect,
                (int)m->reason.len, m->reason.ptr);
        w->refused = true;
        return MSG_REFUSED;
    default:
        return MSG_OK;
    }
}

/* Receives one message if there is one. */
static msg_outcome_t recv_one(wproc_t *w, st_err_t *err)
{
    zmq_msg_t zm;
    st_err_t derr = {0};
    proto_msg_t m;
    msg_outcome_t out = MSG_OK;

    zmq_msg_init(&zm);
    if (zmq_msg_recv(&zm, w->sock, ZMQ_DONTWAIT) < 0) {
        int e = zmq_errno();

        zmq_msg_close(&zm);
        if (e == EAGAIN || e == EINTR)
            return MSG_NONE;
        st_fail(err, ST_EIO, "receive: %s", zmq_strerror(e));
        return MSG_FAILED;
    }
    if (zmq_msg_more(&zm)) {
        /* several frames: not our protocol. The rest of the message is
           queued already; it is read away by the flag of each frame read */
        for (int more = 1; more;) {
            zmq_msg_t extra;
            zmq_msg_init(&extra);
            more = zmq_msg_recv(&extra, w->sock, ZMQ_DONTWAIT) >= 0 && zmq_msg_more(&extra);
            zmq_msg_close(&extra);
        }
        snprintf(derr.msg, sizeof derr.msg, "several frames where the protocol has one");
    } else if (proto_decode(zmq_msg_data(&zm), zmq_msg_size(&zm), &m, &derr) == ST_OK) {
        derr.msg[0] = '\0';
    }
    if (derr.msg[0] != '\0') {
        w->dropped++;
        atomic_fetch_add(&live.dropped, 1);
        if (w->rl == NULL || ratelog_allow(w->rl, "coordinator", clock_ms()))
            say(w, "malformed message from the coordinator dropped: %s", derr.msg);
    } else {
        out = on_message(w, &m, err); /* the jobs' inputs are copied */
    }
    zmq_msg_close(&zm);
    return out;
}

/* A job running past the limit: its thread is stuck (a bug in the
 * analysis, or a pathological input), and a thread cannot be stopped from
 * outside. The process ends without BYE, so that the coordinator counts
 * the job as lost with its worker, and whoever started it starts another.
 * What the cache holds back is committed first. */
static void check_stuck(wproc_t *w, uint64_t now)
{
    for (unsigned i = 0; i < w->threads; i++) {
        wthread_t *t = &w->ts[i];
        uint64_t since = atomic_load(&t->since);

        if (since == 0 || now < since || now - since <= w->opts->job_limit_ms)
            continue;
        say(w,
            "job %llu (%s, input of %zu bytes) has run for %llu ms, over the limit of %u ms: "
            "its thread is stuck; exiting with status %d so that a fresh worker takes over",
            (unsigned long long)atomic_load(&t->job_id), jobs_kind_name(atomic_load(&t->job_kind)),
            atomic_load(&t->job_len), (unsigned long long)(now - since), w->opts->job_limit_ms,
            WPROC_EXIT_STUCK);
        wcache_flush(w->cache);
        _exit(WPROC_EXIT_STUCK);
    }
}

/* Heartbeat due, or the coordinator silent too long (MSG_RECONNECT). */
static msg_outcome_t timers(wproc_t *w)
{
    uint64_t now = clock_ms();

    check_stuck(w, now);
    if (now - w->last_recv > w->opts->timeout_ms)
        return MSG_RECONNECT;
    if (now - w->last_send >= w->opts->heartbeat_ms) {
        buf_reset(&w->out);
        if (proto_encode_heartbeat(&w->out) == ST_OK)
            send_out(w);
    }
    return MSG_OK;
}

/* The main loop: until stopped or refused. */
static st_rc_t serve(wproc_t *w, unsigned threads, st_err_t *err)
{
    st_rc_t rc;

    if (w->sock == NULL && (rc = open_socket(w, threads, err)) != ST_OK)
        return rc;
    while (!atomic_load(&stop_requested)) {
        zmq_pollitem_t items[2] = {{.socket = w->sock, .events = ZMQ_POLLIN},
                                   {.fd = w->efd, .events = ZMQ_POLLIN}};
        msg_outcome_t out = MSG_OK;
        const char *why = NULL;
        char timeout[96];
        long wait_ms = (long)(w->opts->heartbeat_ms / 2);
        uint64_t count;
        bool due;

        atomic_store(&live.heartbeat_ms, clock_ms());
        pthread_mutex_lock(&w->lock);
        if (w->done != NULL) { /* results held back (flush_due) go soon */
            uint64_t age = clock_ms() - w->done_ms;
            wait_ms = age >= WPROC_HOLD_MAX_MS ? 0 : (long)(WPROC_HOLD_MAX_MS - age);
        } else if (w->n_todo > 0 || w->n_running > 0) { /* one may be held any time */
            wait_ms = WPROC_HOLD_MAX_MS;
        }
        pthread_mutex_unlock(&w->lock);
        if (zmq_poll(items, 2, wait_ms) < 0 && zmq_errno() != EINTR)
            return st_fail(err, ST_EIO, "poll: %s", zmq_strerror(zmq_errno()));
        if ((items[1].revents & ZMQ_POLLIN) && read(w->efd, &count, sizeof count) < 0) {
            /* EAGAIN: another wake took it; nothing else can fail here */
        }
        pthread_mutex_lock(&w->lock);
        due = w->done != NULL && flush_due(w);
        pthread_mutex_unlock(&w->lock);
        if (due && !send_results(w))
            why = "results cannot be sent to the coordinator";
        for (int i = 0; why == NULL && i < 64 && (out = recv_one(w, err)) == MSG_OK; i++)
            ;
        if (out == MSG_REFUSED || out == MSG_FAILED)
            return err->code;
        if (why == NULL && out == MSG_RECONNECT)
            why = w->why;
        if (why == NULL && timers(w) == MSG_RECONNECT) {
            snprintf(timeout, sizeof timeout, "no heartbeat from the coordinator for %u ms",
                     w->opts->timeout_ms);
            why = timeout;
        }
        if (why != NULL && (rc = reconnect(w, threads, why, err)) != ST_OK)
            return rc;
    }
    return ST_OK;
}

static st_rc_t start_threads(wproc_t *w, wthread_t *ts, unsigned n, st_err_t *err)
{
    sigset_t block, old;

    for (unsigned i = 0; i < n; i++) {
        ts[i].w = w;
        ts[i].index = i;
        if ((ts[i].scanner = scanner_new()) == NULL)
            return st_fail(err, ST_ENOMEM, "cannot create a scanner");
    }
    /* signals go to the main thread, whose poll they interrupt */
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    for (unsigned i = 0; i < n; i++)
        ts[i].started = pthread_create(&ts[i].tid, NULL, thread_main, &ts[i]) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!ts[0].started)
        return st_fail(err, ST_ENOMEM, "cannot start an analysis thread");
    return ST_OK;
}

/* Joins t, waiting at most ms for the job it runs; false when it is still
 * running (a stuck job). */
static bool join_within(wthread_t *t, unsigned ms)
{
    struct timespec until = clock_deadline(CLOCK_REALTIME, ms);

    return pthread_timedjoin_np(t->tid, NULL, &until) == 0;
}

/* Ends the analysis threads: each finishes the job it runs, within
 * WPROC_STOP_JOIN_MS in all. False when one is still running then (a long
 * or stuck job): its thread still uses the worker's state, so the caller
 * must not free it (wproc_run then ends the process). */
static bool stop_threads(wproc_t *w, wthread_t *ts, unsigned n)
{
    uint64_t until = clock_ms() + WPROC_STOP_JOIN_MS;
    bool all = true;

    pthread_mutex_lock(&w->lock);
    w->quit = true;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
    for (unsigned i = 0; i < n; i++) {
        uint64_t now = clock_ms();
        unsigned ms = now < until ? (unsigned)(until - now) : 0;

        if (ts[i].started && !join_within(&ts[i], ms)) {
            fprintf(w->log, "strata worker: thread %u still runs job %llu; exiting without it\n", i,
                    (unsigned long long)atomic_load(&ts[i].job_id));
            all = false;
            continue;
        }
        scanner_destroy(&ts[i].scanner);
    }
    return all;
}

static void say_bye(wproc_t *w)
{
    int linger = 200; /* time for the BYE to leave (the stop takes 2 s at most) */
    char reason[128];

    if (w->sock == NULL)
        return;
    snprintf(reason, sizeof reason, "worker stopping after %llu jobs, %llu from its local cache",
             (unsigned long long)atomic_load(&w->ran), (unsigned long long)atomic_load(&w->hits));
    buf_reset(&w->out);
    if (proto_encode_bye(&w->out, reason) == ST_OK)
        send_out(w);
    zmq_setsockopt(w->sock, ZMQ_LINGER, &linger, sizeof linger);
}

/* The line at exit: jobs run, and what the local cache did. */
static void say_stats(wproc_t *w)
{
    unsigned long long ran = atomic_load(&w->ran);
    wcache_stats_t st;

    if (w->dropped > 0 || w->refused_jobs > 0)
        say(w, "%zu malformed messages from coordinators dropped, %zu jobs refused over the limits",
            w->dropped, w->refused_jobs);
    if (w->cache == NULL) {
        say(w, "stopped after %llu jobs; local cache off", ran);
        return;
    }
    wcache_stats(w->cache, &st);
    say(w, "stopped after %llu jobs; local cache %s: %llu hits (%llu from disk), %llu misses", ran,
        !st.disk ? "in memory" : w->opts->cache_dir, (unsigned long long)st.hits,
        (unsigned long long)st.disk_hits, (unsigned long long)st.misses);
}

static void free_results(wproc_t *w)
{
    while (w->done != NULL) {
        wres_t *next = w->done->next;

        st_free(w->done);
        w->done = next;
    }
}

st_rc_t wproc_run(const wproc_opts_t *in, st_err_t *err)
{
    wproc_opts_t opts = *in;
    wproc_t w = {.opts = &opts, .backoff = WPROC_BACKOFF_MIN_MS, .efd = -1};
    unsigned n = opts.threads != 0 ? opts.threads : cpus_online(PROTO_MAX_SLOTS);
    wthread_t *ts = NULL;
    place_topo_t *topo = NULL;
    place_plan_t *plan = NULL;
    st_rc_t rc;

    if (opts.connect == NULL || n > PROTO_MAX_SLOTS)
        return st_fail(err, ST_EINVAL, "worker: no address, or too many threads");
    if (opts.server_key != NULL &&
        (strlen(opts.server_key) != 40 || opts.public_key == NULL ||
         strlen(opts.public_key) != 40 || opts.secret_key == NULL || strlen(opts.secret_key) != 40))
        return st_fail(err, ST_EINVAL, "worker: CURVE keys must be 40 Z85 characters each");
    opts.heartbeat_ms = opts.heartbeat_ms == 0 ? PROTO_HEARTBEAT_MS : opts.heartbeat_ms;
    opts.timeout_ms = opts.timeout_ms == 0 ? PROTO_TIMEOUT_MS : opts.timeout_ms;
    opts.backoff_max_ms = opts.backoff_max_ms == 0 ? 5000 : opts.backoff_max_ms;
    opts.job_limit_ms = opts.job_limit_ms == 0 ? WPROC_JOB_LIMIT_MS : opts.job_limit_ms;
    w.log = opts.log != NULL ? opts.log : stderr;
    if (gethostname(w.host, sizeof w.host) != 0)
        snprintf(w.host, sizeof w.host, "unknown");
    w.host[sizeof w.host - 1] = 0;
    snprintf(w.id, sizeof w.id, "%s:%ld", w.host, (long)getpid());
    atomic_store(&stop_requested, false);
    atomic_store(&live.heartbeat_ms, clock_ms());
    atomic_store(&live.greeted, false);
    atomic_store(&live.threads, n);
    /* job messages and results of megabytes come and go: mapped each time,
       they go back to the system when freed (see daemon.c) */
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    atomic_init(&w.held, 0);
    w.rl = ratelog_new(NULL); /* NULL (out of memory): every bad message logged */
    pthread_mutex_init(&w.lock, NULL);
    pthread_cond_init(&w.cond, NULL);
    buf_init(&w.out);
    if ((ts = st_calloc(n, sizeof *ts)) == NULL ||
        (w.pool = arena_pool_new(WPROC_ARENA_CHUNK, 0, n)) == NULL ||
        (w.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0 || (w.zctx = zmq_ctx_new()) == NULL) {
        rc = st_fail(err, ST_ENOMEM, "worker: cannot set up: %s", strerror(errno));
        goto out;
    }
    w.threads = n;
    w.ts = ts;
    if (!opts.no_cache &&
        (rc = wcache_open(&(wcache_opts_t){.dir = opts.cache_dir, .mem_budget = opts.cache_mem},
                          &w.cache, err)) != ST_OK)
        goto out;
    /* HELLO first: the coordinator's answer (the first jobs) is on its way
     * while the topology loads, which takes milliseconds */
    if ((rc = open_socket(&w, n, err)) != ST_OK)
        goto out;
    /* the placement plan: a core per thread (round-robin past the cores) */
    {
        place_opts_t po = place_opts_default();
        st_err_t perr = {0};
        po.threads = n;
        po.cpuset = opts.cpuset;
        po.numa_node = opts.numa_only ? (int)opts.numa_node : -1;
        rc = place_topology_load(NULL, &topo, &perr);
        if (rc == ST_OK)
            rc = place_plan(topo, &po, &plan, &perr);
        if (rc != ST_OK && (opts.cpuset != NULL || opts.numa_only)) {
            rc = st_fail(err, ST_EINVAL, "worker: %s", perr.msg);
            say_bye(&w); /* its jobs go elsewhere at once */
            goto out;
        }
        if (rc != ST_OK)
            fprintf(w.log, "strata worker: threads not pinned: %s\n", perr.msg);
        for (unsigned i = 0; i < n; i++)
            ts[i].plan = plan;
    }
    if ((rc = start_threads(&w, ts, n, err)) == ST_OK) {
        rc = serve(&w, n, err);
        atomic_store(&live.heartbeat_ms, 0); /* the loop has ended */
        atomic_store(&live.greeted, false);
        if (w.sock != NULL && w.refused) {
            /* a coordinator that refused us for good takes nothing more:
               nothing is left queued for it (libzmq leaked such a message
               when its linger ran out at exit) */
            int zero = 0;
            zmq_setsockopt(w.sock, ZMQ_LINGER, &zero, sizeof zero);
        } else {
            if (w.sock != NULL)
                (void)send_results(&w); /* those held back, so that they are not run again */
            say_bye(&w);
        }
    }
    if (!stop_threads(&w, ts, n)) {
        /* a thread is in a job: nothing it uses may be freed, and the
           process ends now, with what the cache holds back committed */
        say_stats(&w);
        wcache_flush(w.cache);
        fflush(NULL);
        _exit(rc == ST_OK ? 0 : 2);
    }
    say_stats(&w);
out:
    wcache_destroy(&w.cache);
    place_plan_destroy(&plan);
    place_topology_destroy(&topo);
    new_epoch(&w);
    free_results(&w);
    if (w.sock != NULL)
        zmq_close(w.sock);
    if (w.zctx != NULL)
        zmq_ctx_term(w.zctx);
    if (w.efd >= 0)
        close(w.efd);
    arena_pool_destroy(&w.pool);
    buf_free(&w.out);
    ratelog_destroy(&w.rl);
    st_free(ts);
    pthread_cond_destroy(&w.cond);
    pthread_mutex_destroy(&w.lock);
    return rc;
}

/* ---- the metrics endpoint's view (any thread) -------------------------------------------- */

bool wproc_alive(unsigned stale_ms)
{
    uint64_t hb = atomic_load(&live.heartbeat_ms);

    return hb != 0 && clock_ms() - hb < stale_ms;
}

bool wproc_ready(void)
{
    return atomic_load(&live.greeted) && atomic_load(&live.heartbeat_ms) != 0 &&
           !atomic_load(&stop_requested);
}

st_rc_t wproc_metrics(buf_t *out)
{
    const struct {
        const char *name;
        prom_type_t type;
        const char *help;
        uint64_t value;
    } t[] = {
        {"strata_worker_jobs_run_total", PROM_COUNTER,
         "Jobs this worker finished (run, or answered by its local cache).",
         atomic_load(&live.ran)},
        {"strata_worker_cache_hits_total", PROM_COUNTER, "Jobs answered by the local cache.",
         atomic_load(&live.hits)},
        {"strata_worker_cache_misses_total", PROM_COUNTER,
         "Jobs the local cache could not answer (run).", atomic_load(&live.misses)},
        {"strata_worker_busy_threads", PROM_GAUGE, "Analysis threads running a job now.",
         atomic_load(&live.busy)},
        {"strata_worker_threads", PROM_GAUGE, "Analysis threads (slots).",
         atomic_load(&live.threads)},
        {"strata_worker_messages_dropped_total", PROM_COUNTER,
         "Malformed messages from coordinators dropped.", atomic_load(&live.dropped)},
        {"strata_worker_jobs_refused_total", PROM_COUNTER,
         "Jobs answered at once with an error: over the worker's limits.",
         atomic_load(&live.refused)},
        {"strata_worker_reconnects_total", PROM_COUNTER,
         "Connections to the coordinator dropped and made again.", atomic_load(&live.reconnects)},
        {"strata_worker_connected", PROM_GAUGE,
         "1 while a coordinator has answered on the connection, else 0.",
         atomic_load(&live.greeted) ? 1u : 0u},
    };
    st_rc_t rc = ST_OK;

    for (size_t i = 0; i < sizeof t / sizeof t[0] && rc == ST_OK; i++) {
        rc = prom_family(out, t[i].name, t[i].type, t[i].help);
        if (rc == ST_OK)
            rc = prom_sample(out, t[i].name, NULL, 0, t[i].value);
    }
    return rc;
}
