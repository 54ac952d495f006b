/* dispatch.c - the worker registry, credits, heartbeats and retries (see
 * dispatch.h).
 *
 * State: every unfinished job is a heap record found by id (hmap); a job
 * waits in one of two FIFO queues or is in flight on exactly one worker,
 * whose flight list holds it (the job knows its index there, so a result
 * removes it in O(1)). Jobs that were lost with a worker wait in the
 * suspect queue: each is sent alone to a worker with nothing else in
 * flight, and that worker gets nothing more until it answers, so a job
 * that crashes workers is charged for its own crashes only. Workers are
 * found by their ZeroMQ routing id; each registration gets a new serial,
 * and a job records the serial of the worker it went to, so a result
 * from anyone else (a worker dropped for silence that wakes up, a worker
 * that was re-registered) is recognised as late and ignored.
 *
 * On the wire a job is named by a ticket, new for every attempt, not by
 * the caller's id: the ticket map finds the attempt in flight, and a
 * worker keeps the tickets of its attempts that timed out (its stuck
 * list), so that their late results free the slots they held. Deadlines
 * are checked in a sweep over the flight lists a few times per timeout,
 * not on every poll.
 *
 * One file, past the ~1000 lines a file should keep to: the queues, the
 * flight and stuck lists, the retries and the message handlers are one
 * state machine over one private struct, and nearly every function keeps
 * the invariants above (a job queued or in flight on exactly one worker,
 * its ticket mapped while in flight); split, the struct would move to a
 * shared header and each invariant would span files. */
#include "coordinator/dispatch.h"

#include "coordinator/frames.h"
#include "coordinator/keys.h"

#include "common/clock.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "common/hmap.h"
#include "common/log.h"
#include "common/proto.h"
#include "common/proto_client.h"
#include "common/ratelog.h"
#include "worker/jobs.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <zmq.h>

#define DISPATCH_MAX_IDENT FRAMES_MAX_IDENT
#define DISPATCH_HANDSHAKE_MS 10000 /* a connection must finish its handshake in this */
#define DISPATCH_HELD_REPORT_MS 10000
/* Messages queued per worker connection: a worker sends a RESULTS every
 * few ms at most and the socket is read in bursts of thousands, so this is
 * only reached by a peer that floods; ZeroMQ then stops reading it. */
#define DISPATCH_RCVHWM 256
/* Messages handled before timers run again: enough to take every queued
 * heartbeat before judging who is silent after a long pause between polls. */
#define DISPATCH_RECV_BURST 4096

typedef struct djob djob_t;
typedef struct dworker dworker_t;

struct djob {
    uint64_t id;
    uint32_t kind;
    uint32_t losses;      /* times lost with a worker or timed out */
    uint32_t timeouts;    /* of them, timed out */
    uint64_t worker;      /* serial of the worker it is in flight on; 0: queued */
    uint64_t last_worker; /* serial of the worker of its last lost attempt */
    uint64_t ticket;      /* the wire id of the attempt in flight */
    uint64_t sent_ms;     /* when that attempt was sent */
    size_t slot;          /* its index in that worker's flight list */
    size_t len;
    uint8_t input[];
};

/* A FIFO of jobs (ring buffer). */
typedef struct {
    djob_t **items;
    size_t head, count, cap;
} queue_t;

struct dworker {
    uint8_t ident[DISPATCH_MAX_IDENT];
    size_t ident_len;
    uint64_t serial;
    char name[PROTO_MAX_NAME + 1];
    char peer[64]; /* its key or address, for the caps on log lines */
    uint32_t slots;
    djob_t **flight;
    size_t n_flight, cap_flight;
    size_t flight_bytes;           /* input bytes of the jobs in flight */
    uint64_t last_recv, last_send; /* ms, monotonic */
    bool quarantine;               /* running a suspect job alone */
    bool draining;                 /* to become idle for a suspect */
    uint64_t *stuck;               /* tickets of its attempts that timed out */
    size_t n_stuck, cap_stuck;
};

struct dispatch {
    int wake_fd; /* dispatch_set_wake_fd; -1: none */
    dispatch_opts_t opts;
    char version[PROTO_MAX_NAME + 1];
    char endpoint[512];
    void *zctx;
    void *sock;
    void *zap;           /* the ZAP handler's socket when CURVE is on */
    keys_allow_t *allow; /* allowed public keys (coordinator/keys.h) */
    ratelog_t *rl;       /* lines about bad messages and refused peers */
    hmap_t *jobs;        /* id -> djob_t* */
    hmap_t *tickets;     /* ticket -> djob_t*, for the attempts in flight */
    uint64_t next_ticket;
    uint64_t last_sweep; /* ms: deadlines last checked */
    queue_t queue;       /* fresh jobs */
    queue_t suspect;     /* jobs lost with a worker, to retry alone */
    dworker_t **workers;
    size_t n_workers, cap_workers;
    uint64_t next_serial;
    size_t in_flight;
    buf_t out; /* the message being built */
    dispatch_stats_t stats;
    /* the callback of the poll in progress */
    dispatch_done_fn done;
    void *done_ctx;
    size_t finished; /* jobs finished during this poll */
};

/* ---- queues ---------------------------------------------------------------------------- */

static bool queue_grow(queue_t *q)
{
    size_t cap = q->cap == 0 ? 64 : q->cap * 2;
    djob_t **items = st_calloc(cap, sizeof *items);

    if (items == NULL)
        return false;
    for (size_t i = 0; i < q->count; i++)
        items[i] = q->items[(q->head + i) % q->cap];
    st_free(q->items);
    q->items = items;
    q->head = 0;
    q->cap = cap;
    return true;
}

static bool queue_push(queue_t *q, djob_t *j)
{
    if (q->count == q->cap && !queue_grow(q))
        return false;
    q->items[(q->head + q->count) % q->cap] = j;
    q->count++;
    return true;
}

static djob_t *queue_at(const queue_t *q, size_t i)
{
    return q->items[(q->head + i) % q->cap];
}

static void queue_pop(queue_t *q, size_t n)
{
    q->head = (q->head + n) % q->cap;
    q->count -= n;
}

/* Takes j out of q, keeping the others' order; false when it is not there. */
static bool queue_remove(queue_t *q, const djob_t *j)
{
    for (size_t i = 0; i < q->count; i++) {
        if (queue_at(q, i) != j)
            continue;
        for (size_t k = i; k + 1 < q->count; k++)
            q->items[(q->head + k) % q->cap] = q->items[(q->head + k + 1) % q->cap];
        q->count--;
        return true;
    }
    return false;
}

/* Whether a line about a bad message or a refused peer may be written
 * (common/ratelog.h): a flood must not fill the disk. */
static bool may_log(dispatch_t *d, const char *peer)
{
    return d->rl == NULL || ratelog_allow(d->rl, peer, clock_ms());
}

/* ---- workers ------------------------------------------------------------------------- */

static dworker_t *find_worker(const dispatch_t *d, const uint8_t *ident, size_t len)
{
    for (size_t i = 0; i < d->n_workers; i++)
        if (d->workers[i]->ident_len == len && memcmp(d->workers[i]->ident, ident, len) == 0)
            return d->workers[i];
    return NULL;
}

/* Records j (sent under j->ticket at now) as in flight on w. */
static bool flight_add(dispatch_t *d, dworker_t *w, djob_t *j, uint64_t now)
{
    if (w->n_flight == w->cap_flight) {
        size_t cap = w->cap_flight == 0 ? 16 : w->cap_flight * 2;
        djob_t **grown = st_realloc(w->flight, cap * sizeof *grown);

        if (grown == NULL)
            return false;
        w->flight = grown;
        w->cap_flight = cap;
    }
    if (hmap_put_u64(d->tickets, j->ticket, (uint64_t)(uintptr_t)j) != ST_OK)
        return false;
    j->worker = w->serial;
    j->sent_ms = now;
    j->slot = w->n_flight;
    w->flight[w->n_flight++] = j;
    w->flight_bytes += j->len;
    return true;
}

static void flight_remove(dispatch_t *d, dworker_t *w, djob_t *j)
{
    djob_t *last = w->flight[--w->n_flight];

    w->flight[j->slot] = last;
    last->slot = j->slot;
    w->flight_bytes -= j->len;
    j->worker = 0;
    hmap_remove_u64(d->tickets, j->ticket);
}

/* Remembers that the attempt under ticket still holds a slot of w. False
 * when out of memory: the slot is then counted free. */
static bool stuck_add(dworker_t *w, uint64_t ticket)
{
    if (w->n_stuck == w->cap_stuck) {
        size_t cap = w->cap_stuck == 0 ? 4 : w->cap_stuck * 2;
        uint64_t *grown = st_realloc(w->stuck, cap * sizeof *grown);

        if (grown == NULL)
            return false;
        w->stuck = grown;
        w->cap_stuck = cap;
    }
    w->stuck[w->n_stuck++] = ticket;
    return true;
}

/* Forgets ticket from w's stuck list (its late result came); false when
 * it was not there. */
static bool stuck_remove(dworker_t *w, uint64_t ticket)
{
    for (size_t i = 0; i < w->n_stuck; i++) {
        if (w->stuck[i] == ticket) {
            w->stuck[i] = w->stuck[--w->n_stuck];
            return true;
        }
    }
    return false;
}

/* Slots of w not held by a stuck attempt. */
static size_t free_slots(const dworker_t *w)
{
    return w->n_stuck < w->slots ? w->slots - w->n_stuck : 0;
}

/* Jobs w may be sent now: depth per free slot, less those in flight. */
static size_t room(const dispatch_t *d, const dworker_t *w)
{
    size_t credit = free_slots(w) * d->opts.depth;

    return credit > w->n_flight ? credit - w->n_flight : 0;
}

/* ---- finishing jobs ------------------------------------------------------------------ */

static void finish(dispatch_t *d, djob_t *j, dispatch_status_t status, span_t result)
{
    hmap_remove_u64(d->jobs, j->id);
    if (status == DISPATCH_OK)
        d->stats.completed++;
    else if (status == DISPATCH_ERROR)
        d->stats.errors++;
    else
        d->stats.lost++;
    d->finished++;
    if (d->done != NULL)
        d->done(d->done_ctx, j->id, status, result);
    st_free(j);
}

/* The message of a job given up after losses (the last one a timeout
 * when timed_out). */
static int give_up_message(const dispatch_t *d, const djob_t *j, bool timed_out, char *msg,
                           size_t cap)
{
    unsigned ms = d->opts.job_timeout_ms;
    char within[32];

    if (ms % 1000 == 0)
        snprintf(within, sizeof within, "%u s", ms / 1000);
    else
        snprintf(within, sizeof within, "%u ms", ms);
    if (j->timeouts == 0)
        return snprintf(msg, cap,
                        "job lost with its worker %u times (does it crash "
                        "workers?)",
                        j->losses);
    if (j->timeouts == j->losses)
        return snprintf(msg, cap,
                        "job timed out %u times (no result within %s; does it "
                        "hang workers?)",
                        j->losses, within);
    return snprintf(msg, cap,
                    "job lost %u times, %s: %u times it timed out (no result "
                    "within %s), %u times it was lost with its worker",
                    j->losses,
                    timed_out ? "the last one timed out" : "the last one with its worker",
                    j->timeouts, within, j->losses - j->timeouts);
}

/* A job whose worker is gone, or that timed out: to the suspect queue, or
 * given up. */
static void job_lost(dispatch_t *d, djob_t *j, bool count, bool timed_out)
{
    char msg[256];
    int n;

    if (count)
        j->losses++;
    if (timed_out)
        j->timeouts++;
    if (j->losses > d->opts.max_retries) {
        n = give_up_message(d, j, timed_out, msg, sizeof msg);
        if (n < 0 || (size_t)n >= sizeof msg)
            n = (int)strlen(msg);
        if (j->timeouts == 0)
            LOG_WARN("job %llu (kind %u, input of %zu bytes) given up after %u lost workers",
                     (unsigned long long)j->id, j->kind, j->len, j->losses);
        else
            LOG_WARN("job %llu (kind %u, input of %zu bytes) given up after %u attempts, %u of "
                     "them timed out",
                     (unsigned long long)j->id, j->kind, j->len, j->losses, j->timeouts);
        finish(d, j, DISPATCH_LOST, (span_t){(const uint8_t *)msg, (size_t)n});
        return;
    }
    d->stats.retries++;
    if (!queue_push(j->losses > 0 ? &d->suspect : &d->queue, j)) {
        n = snprintf(msg, sizeof msg, "internal error: out of memory requeueing the job");
        finish(d, j, DISPATCH_LOST, (span_t){(const uint8_t *)msg, (size_t)n});
    }
}

/* Removes w from the registry; its jobs go back (counted as losses when the
 * worker failed rather than left). */
static void drop_worker(dispatch_t *d, dworker_t *w, bool failed, const char *why)
{
    size_t i;

    if (failed && (w->n_flight > 0 || may_log(d, w->peer)))
        LOG_WARN("worker %s dropped (%s); %zu jobs in flight requeued", w->name, why, w->n_flight);
    else
        LOG_INFO("worker %s left (%s); %zu jobs in flight requeued", w->name, why, w->n_flight);
    for (i = 0; i < d->n_workers && d->workers[i] != w; i++)
        ;
    d->workers[i] = d->workers[--d->n_workers];
    d->stats.dropped++;
    d->stats.workers--;
    d->stats.slots -= w->slots;
    d->in_flight -= w->n_flight;
    for (i = 0; i < w->n_flight; i++) {
        djob_t *j = w->flight[i];

        j->worker = 0;
        j->last_worker = w->serial;
        hmap_remove_u64(d->tickets, j->ticket);
        job_lost(d, j, failed, false);
    }
    st_free(w->flight);
    st_free(w->stuck);
    st_free(w);
}

/* ---- sending --------------------------------------------------------------------------- */

/* Sends d->out to ident. 0 sent; EHOSTUNREACH (the peer is gone), EAGAIN
 * (its queue is full) or another errno. */
static int send_to(dispatch_t *d, const uint8_t *ident, size_t len)
{
    if (zmq_send(d->sock, ident, len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return zmq_errno();
    if (zmq_send(d->sock, d->out.data, d->out.len, ZMQ_DONTWAIT) < 0)
        return zmq_errno();
    return 0;
}

/* Sends d->out to a registered worker; false when the worker was dropped
 * (unreachable) or the message could not go (w stays, nothing happened). */
static bool send_worker(dispatch_t *d, dworker_t *w, uint64_t now)
{
    int e = send_to(d, w->ident, w->ident_len);

    if (e == 0) {
        w->last_send = now;
        return true;
    }
    if (e == EHOSTUNREACH)
        drop_worker(d, w, true, "connection gone");
    else if (e != EAGAIN)
        LOG_WARN("worker %s: send failed: %s", w->name, zmq_strerror(e));
    return false;
}

/* A message without body to an unregistered peer (REFUSED). */
static void refuse(dispatch_t *d, const uint8_t *ident, size_t len, const char *reason, bool retry)
{
    buf_reset(&d->out);
    if (proto_encode_refused(&d->out, reason, retry) == ST_OK)
        (void)send_to(d, ident, len);
}

/* Sends the first n jobs of q to w as one batch; false when nothing was sent. */
static bool send_batch(dispatch_t *d, dworker_t *w, queue_t *q, size_t n, uint64_t now)
{
    proto_batch_t batch;
    size_t i;

    buf_reset(&d->out);
    if (proto_batch_begin(&batch, &d->out, PROTO_JOBS) != ST_OK)
        return false;
    for (i = 0; i < n; i++) {
        djob_t *j = queue_at(q, i);

        j->ticket = ++d->next_ticket; /* a new one per attempt, never reused */
        if (proto_batch_job(&batch, j->ticket, j->kind, (span_t){j->input, j->len}) != ST_OK)
            break;
    }
    n = i;
    proto_batch_end(&batch);
    if (n == 0 || !send_worker(d, w, now))
        return false;
    for (i = 0; i < n; i++) {
        djob_t *j = queue_at(q, i);

        if (!flight_add(d, w, j, now)) { /* out of memory: the job waits in the queue */
            n = i;
            break;
        }
    }
    queue_pop(q, n);
    d->in_flight += n;
    d->stats.batches++;
    d->stats.dispatched += n;
    d->stats.bytes_out += d->out.len;
    return n > 0;
}

/* How many of q's first jobs fit a batch for w, with room jobs free: at
 * most batch_bytes in the batch and PROTO_WORKER_INPUT_BYTES in flight on
 * w (one job always goes to a worker with none). */
static size_t batch_size(const dispatch_t *d, const dworker_t *w, const queue_t *q, size_t room)
{
    size_t n = 0, bytes = 0;

    if (room > d->opts.batch_max)
        room = d->opts.batch_max;
    while (n < room && n < q->count) {
        size_t len = queue_at(q, n)->len;

        if (n > 0 && bytes + len > d->opts.batch_bytes)
            break;
        if ((n > 0 || w->n_flight > 0) && w->flight_bytes + bytes + len > PROTO_WORKER_INPUT_BYTES)
            break;
        bytes += len;
        n++;
    }
    return n;
}

/* Whether w may take suspect j: a free slot, not quarantined, and not the
 * worker j was last lost on when another one could take it (avoid). */
static bool may_take(const dworker_t *w, const djob_t *j, bool avoid)
{
    return !w->quarantine && free_slots(w) > 0 && !(avoid && w->serial == j->last_worker);
}

/* Suspect jobs go one at a time to idle workers (another than the one the
 * job was last lost on, unless it is the only one with a free slot); while
 * none is idle, the least busy worker drains (gets no new jobs). */
static void pump_suspects(dispatch_t *d, uint64_t now)
{
    if (d->suspect.count == 0) /* nothing to make room for: no one drains */
        for (size_t i = 0; i < d->n_workers; i++)
            d->workers[i]->draining = false;
    while (d->suspect.count > 0) {
        const djob_t *j = queue_at(&d->suspect, 0);
        dworker_t *idle = NULL, *least = NULL;
        bool avoid = false;

        for (size_t i = 0; i < d->n_workers && !avoid; i++)
            avoid = d->workers[i]->serial != j->last_worker && may_take(d->workers[i], j, false);
        for (size_t i = 0; i < d->n_workers; i++) {
            dworker_t *w = d->workers[i];

            if (!may_take(w, j, avoid))
                continue;
            if (w->n_flight == 0 && idle == NULL)
                idle = w;
            if (least == NULL || w->n_flight < least->n_flight)
                least = w;
        }
        if (idle == NULL) {
            bool any_draining = false;

            for (size_t i = 0; i < d->n_workers; i++)
                any_draining = any_draining || d->workers[i]->draining;
            if (!any_draining && least != NULL)
                least->draining = true;
            return;
        }
        if (!send_batch(d, idle, &d->suspect, 1, now))
            return;
        idle->draining = false;
        idle->quarantine = true;
    }
}

/* Fresh jobs, a batch per worker with credit per round, until none fits. */
static void pump(dispatch_t *d, uint64_t now)
{
    bool progress = true;

    pump_suspects(d, now);
    while (progress && d->queue.count > 0) {
        progress = false;
        for (size_t i = 0; i < d->n_workers && d->queue.count > 0; i++) {
            dworker_t *w = d->workers[i];
            size_t n;

            if (w->quarantine || w->draining || room(d, w) == 0)
                continue;
            if ((n = batch_size(d, w, &d->queue, room(d, w))) == 0)
                continue; /* its input bytes in flight are at the cap */
            if (send_batch(d, w, &d->queue, n, now))
                progress = true;
            else
                break; /* the registry may have changed: start over next time */
        }
    }
}

/* An attempt past its deadline: lost (requeued or given up); the slot it
 * holds on w stays counted busy until its late result comes. */
static void time_out(dispatch_t *d, dworker_t *w, djob_t *j, uint64_t now)
{
    LOG_WARN("job %llu (kind %u, input of %zu bytes) timed out on worker %s: no result in %llu "
             "ms; %s",
             (unsigned long long)j->id, j->kind, j->len, w->name,
             (unsigned long long)(now - j->sent_ms),
             j->losses + 1 > d->opts.max_retries ? "given up" : "retried");
    flight_remove(d, w, j);
    d->in_flight--;
    d->stats.timeouts++;
    stuck_add(w, j->ticket);
    j->last_worker = w->serial;
    if (w->n_flight == 0)
        w->quarantine = false; /* its suspect job is the one that timed out */
    job_lost(d, j, true, true);
}

/* Attempts past their deadline, checked a few times per timeout. */
static void sweep_deadlines(dispatch_t *d, uint64_t now)
{
    uint64_t every = d->opts.job_timeout_ms / 8;

    every = every < 10 ? 10 : every > 1000 ? 1000 : every;
    if (now - d->last_sweep < every)
        return;
    d->last_sweep = now;
    for (size_t i = 0; i < d->n_workers; i++) {
        dworker_t *w = d->workers[i];

        for (size_t k = 0; k < w->n_flight;) {
            djob_t *j = w->flight[k];

            if (now - j->sent_ms >= d->opts.job_timeout_ms)
                time_out(d, w, j, now); /* slot k now holds another job */
            else
                k++;
        }
    }
}

/* Heartbeats out, silent workers dropped, deadlines. */
static void timers(dispatch_t *d, uint64_t now)
{
    sweep_deadlines(d, now);
    for (size_t i = 0; i < d->n_workers;) {
        dworker_t *w = d->workers[i];
        char why[64];

        if (now - w->last_recv > d->opts.timeout_ms) {
            snprintf(why, sizeof why, "no heartbeat for %llu ms",
                     (unsigned long long)(now - w->last_recv));
            drop_worker(d, w, true, why);
            continue; /* slot i holds another worker now */
        }
        if (now - w->last_send >= d->opts.heartbeat_ms) {
            buf_reset(&d->out);
            if (proto_encode_heartbeat(&d->out) == ST_OK && !send_worker(d, w, now) &&
                (i >= d->n_workers || d->workers[i] != w))
                continue; /* dropped */
        }
        i++;
    }
}

/* ---- receiving ------------------------------------------------------------------------ */

static void copy_str(char *dst, proto_str_t s)
{
    memcpy(dst, s.ptr, s.len);
    dst[s.len] = 0;
}

static void on_hello(dispatch_t *d, const uint8_t *ident, size_t len, const char *peer,
                     const proto_msg_t *m, uint64_t now)
{
    const proto_hello_t *h = &m->hello;
    dworker_t *w = find_worker(d, ident, len);
    char reason[PROTO_MAX_NAME * 2 + 96];

    if (w != NULL)
        drop_worker(d, w, false, "said HELLO again");
    if (h->version.len != strlen(d->version) ||
        memcmp(h->version.ptr, d->version, h->version.len)) {
        snprintf(reason, sizeof reason, "analyzer version %.*s, the coordinator runs %s",
                 (int)h->version.len, h->version.ptr, d->version);
        if (may_log(d, peer))
            LOG_WARN("worker %.*s on %.*s at %s refused: %s", (int)h->id.len, h->id.ptr,
                     (int)h->host.len, h->host.ptr, peer, reason);
        d->stats.refused++;
        refuse(d, ident, len, reason, false);
        return;
    }
    if (d->n_workers >= d->opts.max_workers) {
        if (may_log(d, peer))
            LOG_WARN("worker %.*s at %s refused: %zu workers already", (int)h->id.len, h->id.ptr,
                     peer, d->n_workers);
        d->stats.refused++;
        refuse(d, ident, len, "too many workers", true);
        return;
    }
    if (d->n_workers == d->cap_workers) {
        size_t cap = d->cap_workers == 0 ? 8 : d->cap_workers * 2;
        dworker_t **grown = st_realloc(d->workers, cap * sizeof *grown);

        if (grown == NULL)
            return; /* it will say HELLO again after its timeout */
        d->workers = grown;
        d->cap_workers = cap;
    }
    if ((w = st_calloc(1, sizeof *w)) == NULL)
        return;
    memcpy(w->ident, ident, len);
    w->ident_len = len;
    w->serial = ++d->next_serial;
    copy_str(w->name, h->id);
    snprintf(w->peer, sizeof w->peer, "%s", peer);
    w->slots = h->slots;
    w->last_recv = w->last_send = now;
    d->workers[d->n_workers++] = w;
    d->stats.joined++;
    d->stats.workers++;
    d->stats.slots += w->slots;
    LOG_INFO("worker %s on %.*s joined: %u slots, %u NUMA nodes, cpu %.*s", w->name,
             (int)h->host.len, h->host.ptr, h->slots, h->numa, (int)h->cpu.len, h->cpu.ptr);
}

static void on_results(dispatch_t *d, dworker_t *w, proto_msg_t *m)
{
    proto_result_t r;
    uint64_t val;

    while (proto_next_result(m, &r)) {
        djob_t *j;

        if (hmap_get_u64(d->tickets, r.id, &val) != ST_OK ||
            (j = (djob_t *)(uintptr_t)val)->worker != w->serial) {
            stuck_remove(w, r.id); /* a timed-out attempt's: its slot is free */
            d->stats.late++;
            continue;
        }
        flight_remove(d, w, j);
        d->in_flight--;
        finish(d, j, r.status == PROTO_STATUS_OK ? DISPATCH_OK : DISPATCH_ERROR, r.data);
    }
    if (w->n_flight == 0)
        w->quarantine = false;
}

/* "said BYE", with the worker's reason when it gave one. */
static const char *bye_reason(const proto_msg_t *m, char *buf, size_t cap)
{
    if (m->reason.len == 0)
        return "said BYE";
    snprintf(buf, cap, "said BYE: %.*s", (int)(m->reason.len > 160 ? 160 : m->reason.len),
             m->reason.ptr);
    return buf;
}

/* A client's message on the workers' socket: the client is told where
 * clients go (an error DONE answers its SUBMIT, which it waits on), and the
 * log says so in a line that names both ports. */
static void wrong_port(dispatch_t *d, const uint8_t *ident, size_t len, const char *peer,
                       uint32_t type)
{
    const char *at = d->opts.clients_at != NULL ? d->opts.clients_at : "the clients' port";
    char text[PROTO_MAX_TEXT];
    proto_batch_t batch;
    proto_stats_t st = {0};

    d->stats.refused++;
    if (may_log(d, peer))
        LOG_WARN("a client at %s sent %s to the workers' port (%s): told to submit to %s", peer,
                 proto_type_name(type), d->endpoint, at);
    if (type != PROTO_SUBMIT)
        return;
    snprintf(text, sizeof text,
             "this is the coordinator's port for workers (%s); clients submit to %s", d->endpoint,
             at);
    buf_reset(&d->out);
    if (proto_done_begin(&batch, &d->out, PROTO_DONE_ERROR, text, &st) == ST_OK) {
        proto_batch_end(&batch);
        (void)send_to(d, ident, len);
    }
}

/* One message from ident, whose connection is peer (for the log). */
static void on_message(dispatch_t *d, const uint8_t *ident, size_t len, const char *peer,
                       const uint8_t *body, size_t blen, uint64_t now)
{
    dworker_t *w = find_worker(d, ident, len);
    st_err_t err = {0};
    proto_msg_t m;
    uint32_t v, t;
    char reason[192];

    if (proto_decode(body, blen, &m, &err) != ST_OK) {
        d->stats.malformed++;
        if (proto_peek(body, blen, &v, &t) && v != PROTO_VERSION && t == PROTO_HELLO) {
            snprintf(reason, sizeof reason, "protocol version %u, the coordinator speaks %d", v,
                     PROTO_VERSION);
            if (may_log(d, peer))
                LOG_WARN("worker at %s refused: %s", peer, reason);
            d->stats.refused++;
            refuse(d, ident, len, reason, false);
            return;
        }
        if (w == NULL && proto_peek(body, blen, &v, &t) && v == PROTO_VERSION &&
            (t == PROTO_SUBMIT || t == PROTO_UPLOAD || t == PROTO_LIBFILES)) {
            wrong_port(d, ident, len, peer, t);
            return;
        }
        if (may_log(d, peer))
            LOG_WARN("%s %s at %s: malformed message dropped: %s", w != NULL ? "worker" : "peer",
                     w != NULL ? w->name : "(unregistered)", peer, err.msg);
        return;
    }
    if (m.type == PROTO_HELLO) {
        on_hello(d, ident, len, peer, &m, now);
        return;
    }
    if (w == NULL) {
        /* dropped earlier (or never said HELLO): whatever it sends is late */
        if (m.type == PROTO_RESULTS)
            d->stats.late += m.count;
        if (m.type != PROTO_BYE)
            refuse(d, ident, len, "unknown worker (dropped?): say HELLO again", true);
        return;
    }
    w->last_recv = now;
    if (m.type == PROTO_RESULTS)
        on_results(d, w, &m);
    else if (m.type == PROTO_BYE)
        drop_worker(d, w, false, bye_reason(&m, reason, sizeof reason));
    else if (m.type != PROTO_HEARTBEAT) {
        d->stats.malformed++;
        if (may_log(d, peer))
            LOG_WARN("worker %s: unexpected %s message dropped", w->name, proto_type_name(m.type));
    }
}

/* The peer of a message for the log and the caps: its key, else its
 * address, else "local". */
static void peer_name(zmq_msg_t *body, char *out, size_t cap)
{
    const char *addr = zmq_msg_gets(body, "Peer-Address");
    const char *user = zmq_msg_gets(body, "User-Id");

    if (user != NULL && user[0] != '\0')
        snprintf(out, cap, "key %.40s", user);
    else
        snprintf(out, cap, "%.60s", addr != NULL && addr[0] != '\0' ? addr : "local");
}

/* Receives one message if there is one: 1 handled (or dropped), 0 none,
 * -1 socket error. */
static int recv_one(dispatch_t *d, uint64_t now)
{
    frames_t f;
    const char *why = NULL;
    char peer[64];

    switch (frames_recv(d->sock, &f, &why)) {
    case FRAMES_NONE:
        return 0;
    case FRAMES_ERROR:
        return -1;
    case FRAMES_MALFORMED:
        d->stats.malformed++;
        if (may_log(d, "(framing)"))
            LOG_WARN("a message on the workers' socket dropped: %s", why);
        return 1;
    case FRAMES_OK:
        break;
    }
    d->stats.bytes_in += zmq_msg_size(&f.body);
    peer_name(&f.body, peer, sizeof peer);
    on_message(d, zmq_msg_data(&f.ident), zmq_msg_size(&f.ident), peer, zmq_msg_data(&f.body),
               zmq_msg_size(&f.body), now);
    frames_close(&f);
    return 1;
}

/* ---- authentication ----------------------------------------------------------------- */

/* Answers one ZAP request if there is one (keys_zap_answer); false when
 * none. A refused peer is counted and logged with its key. */
static bool serve_zap(dispatch_t *d)
{
    keys_zap_verdict_t v;

    if (!keys_zap_answer(d->zap, ZMQ_DONTWAIT, d->allow, &v))
        return false;
    if (!v.allowed) {
        d->stats.unauthorized++;
        if (may_log(d, v.addr))
            LOG_WARN("peer at %s refused: public key %s is not in the allowlist", v.addr, v.key);
    }
    return true;
}

/* CURVE on the ROUTER, and the ZAP handler that checks keys; or, without
 * keys, the check that the address is local. */
static st_rc_t setup_curve(dispatch_t *d, st_err_t *err)
{
    const dispatch_opts_t *o = &d->opts;
    int one = 1;

    if (o->curve_secret == NULL) {
        if (!o->insecure && !keys_is_local(o->bind))
            return st_fail(err, ST_EINVAL,
                           "refusing to bind %s without keys: anyone who can reach it could "
                           "send jobs and read results (use ipc:// or a loopback address, give "
                           "keys, or say insecure)",
                           o->bind);
        return ST_OK;
    }
    if (!zmq_has("curve"))
        return st_fail(err, ST_EINVAL, "this libzmq has no CURVE support");
    if (strlen(o->curve_secret) != 40)
        return st_fail(err, ST_EINVAL, "the secret key is not 40 Z85 characters");
    if (keys_allow_from_z85(o->allow, o->n_allow, &d->allow, err) != ST_OK)
        return err != NULL ? err->code : ST_EINVAL;
    if ((d->zap = zmq_socket(d->zctx, ZMQ_REP)) == NULL ||
        zmq_bind(d->zap, "inproc://zeromq.zap.01") != 0)
        return st_fail(err, ST_EIO, "dispatch: ZAP handler: %s", zmq_strerror(zmq_errno()));
    if (zmq_setsockopt(d->sock, ZMQ_CURVE_SERVER, &one, sizeof one) != 0 ||
        zmq_setsockopt(d->sock, ZMQ_CURVE_SECRETKEY, o->curve_secret, 41) != 0 ||
        zmq_setsockopt(d->sock, ZMQ_ZAP_DOMAIN, "strata", 6) != 0)
        return st_fail(err, ST_EINVAL, "dispatch: CURVE options: %s", zmq_strerror(zmq_errno()));
    return ST_OK;
}

/* ---- the public functions ---------------------------------------------------------- */

static st_rc_t check_opts(dispatch_opts_t *o, st_err_t *err)
{
    if (o->bind == NULL || *o->bind == '\0')
        return st_fail(err, ST_EINVAL, "dispatch: no address to bind");
    if (o->version == NULL)
        o->version = JOBS_ANALYZER_VERSION;
    if (strlen(o->version) > PROTO_MAX_NAME)
        return st_fail(err, ST_EINVAL, "dispatch: analyzer version too long");
    o->heartbeat_ms = o->heartbeat_ms == 0 ? PROTO_HEARTBEAT_MS : o->heartbeat_ms;
    o->timeout_ms = o->timeout_ms == 0 ? PROTO_TIMEOUT_MS : o->timeout_ms;
    o->depth = o->depth == 0 ? 2 : o->depth;
    o->batch_max = o->batch_max == 0 ? 64 : o->batch_max;
    o->batch_bytes = o->batch_bytes == 0 ? (size_t)4 << 20 : o->batch_bytes;
    o->max_retries = o->max_retries == 0 ? 3 : o->max_retries;
    o->job_timeout_ms = o->job_timeout_ms == 0 ? DISPATCH_JOB_TIMEOUT_MS : o->job_timeout_ms;
    o->max_workers = o->max_workers == 0 ? 1024 : o->max_workers;
    if (o->batch_max > PROTO_MAX_JOBS || o->batch_bytes > PROTO_MAX_MSG / 2 ||
        o->timeout_ms <= o->heartbeat_ms)
        return st_fail(err, ST_EINVAL, "dispatch: bad batch or heartbeat options");
    return ST_OK;
}

static st_rc_t open_socket(dispatch_t *d, st_err_t *err)
{
    int64_t maxmsg = (int64_t)PROTO_MAX_MSG;
    int one = 1, zero = 0, sndhwm = 10000, rcvhwm = DISPATCH_RCVHWM,
        handshake = DISPATCH_HANDSHAKE_MS;
    size_t len = sizeof d->endpoint;
    st_rc_t rc;

    if ((d->zctx = zmq_ctx_new()) == NULL || (d->sock = zmq_socket(d->zctx, ZMQ_ROUTER)) == NULL)
        return st_fail(err, ST_EIO, "dispatch: zmq: %s", zmq_strerror(zmq_errno()));
    if (zmq_setsockopt(d->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) != 0 ||
        zmq_setsockopt(d->sock, ZMQ_ROUTER_MANDATORY, &one, sizeof one) != 0 ||
        zmq_setsockopt(d->sock, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
        zmq_setsockopt(d->sock, ZMQ_SNDHWM, &sndhwm, sizeof sndhwm) != 0 ||
        zmq_setsockopt(d->sock, ZMQ_RCVHWM, &rcvhwm, sizeof rcvhwm) != 0 ||
        zmq_setsockopt(d->sock, ZMQ_HANDSHAKE_IVL, &handshake, sizeof handshake) != 0)
        return st_fail(err, ST_EIO, "dispatch: zmq options: %s", zmq_strerror(zmq_errno()));
    if ((rc = setup_curve(d, err)) != ST_OK)
        return rc;
    if (zmq_bind(d->sock, d->opts.bind) != 0)
        return st_fail(err, ST_EIO, "cannot bind %s: %s", d->opts.bind, zmq_strerror(zmq_errno()));
    if (zmq_getsockopt(d->sock, ZMQ_LAST_ENDPOINT, d->endpoint, &len) != 0)
        snprintf(d->endpoint, sizeof d->endpoint, "%s", d->opts.bind);
    return ST_OK;
}

dispatch_t *dispatch_new(const dispatch_opts_t *opts, st_err_t *err)
{
    dispatch_t *d = st_calloc(1, sizeof *d);

    if (d == NULL) {
        st_fail(err, ST_ENOMEM, "dispatch: out of memory");
        return NULL;
    }
    d->wake_fd = -1;
    d->opts = *opts;
    buf_init(&d->out);
    if (check_opts(&d->opts, err) != ST_OK)
        goto fail;
    snprintf(d->version, sizeof d->version, "%s", d->opts.version);
    d->opts.version = d->version;
    if ((d->jobs = hmap_new(HMAP_U64)) == NULL || (d->tickets = hmap_new(HMAP_U64)) == NULL ||
        (d->rl = ratelog_new(NULL)) == NULL) {
        st_fail(err, ST_ENOMEM, "dispatch: out of memory");
        goto fail;
    }
    if (open_socket(d, err) != ST_OK)
        goto fail;
    return d;
fail:
    dispatch_destroy(&d);
    return NULL;
}

void dispatch_destroy(dispatch_t **self_p)
{
    dispatch_t *d;
    hmap_iter_t it = HMAP_ITER_INIT;

    if (self_p == NULL || (d = *self_p) == NULL)
        return;
    for (size_t i = 0; i < d->n_workers; i++) {
        buf_reset(&d->out);
        if (proto_encode_bye(&d->out, "coordinator closing") == ST_OK)
            (void)send_to(d, d->workers[i]->ident, d->workers[i]->ident_len);
        st_free(d->workers[i]->flight);
        st_free(d->workers[i]->stuck);
        st_free(d->workers[i]);
    }
    st_free(d->workers);
    while (d->jobs != NULL && hmap_next(d->jobs, &it))
        st_free((void *)(uintptr_t)it.val);
    hmap_destroy(&d->jobs);
    hmap_destroy(&d->tickets);
    st_free(d->queue.items);
    st_free(d->suspect.items);
    buf_free(&d->out);
    if (d->sock != NULL) {
        int linger = 100; /* time for the BYEs to leave */
        zmq_setsockopt(d->sock, ZMQ_LINGER, &linger, sizeof linger);
        zmq_close(d->sock);
    }
    if (d->zap != NULL)
        zmq_close(d->zap);
    if (d->zctx != NULL)
        zmq_ctx_term(d->zctx);
    keys_allow_destroy(&d->allow);
    ratelog_destroy(&d->rl);
    st_free(d);
    *self_p = NULL;
}

const char *dispatch_endpoint(const dispatch_t *self)
{
    return self->endpoint;
}

st_rc_t dispatch_submit(dispatch_t *d, uint64_t id, uint32_t kind, span_t input, st_err_t *err)
{
    djob_t *j;

    if (input.len > PROTO_MAX_INPUT || kind > PROTO_MAX_KIND)
        return st_fail(err, ST_ELIMIT, "job %llu: input of %zu bytes or kind %u over the limits",
                       (unsigned long long)id, input.len, kind);
    if (hmap_get_u64(d->jobs, id, NULL) == ST_OK)
        return st_fail(err, ST_EEXIST, "job %llu already submitted", (unsigned long long)id);
    if ((j = st_malloc(sizeof *j + input.len)) == NULL)
        return st_fail(err, ST_ENOMEM, "out of memory queueing job %llu", (unsigned long long)id);
    *j = (djob_t){.id = id, .kind = kind, .len = input.len};
    if (input.len > 0)
        memcpy(j->input, input.ptr, input.len);
    if (hmap_put_u64(d->jobs, id, (uint64_t)(uintptr_t)j) != ST_OK) {
        st_free(j);
        return st_fail(err, ST_ENOMEM, "out of memory queueing job %llu", (unsigned long long)id);
    }
    if (!queue_push(&d->queue, j)) {
        hmap_remove_u64(d->jobs, id);
        st_free(j);
        return st_fail(err, ST_ENOMEM, "out of memory queueing job %llu", (unsigned long long)id);
    }
    return ST_OK;
}

bool dispatch_cancel(dispatch_t *d, uint64_t id)
{
    uint64_t v;
    djob_t *j;

    if (hmap_get_u64(d->jobs, id, &v) != ST_OK)
        return false;
    j = (djob_t *)(uintptr_t)v;
    if (j->worker != 0) /* in flight: its result comes back as usual */
        return false;
    if (!queue_remove(&d->queue, j) && !queue_remove(&d->suspect, j))
        return false;
    hmap_remove_u64(d->jobs, id);
    d->stats.cancelled++;
    st_free(j);
    return true;
}

/* Handles what is ready: messages (a burst), timers, sends. */
static st_rc_t work(dispatch_t *d, st_err_t *err)
{
    uint64_t now = clock_ms();
    int r = 1;

    while (d->zap != NULL && serve_zap(d))
        ;

    for (int i = 0; i < DISPATCH_RECV_BURST && r == 1; i++)
        if ((r = recv_one(d, now)) < 0)
            return st_fail(err, ST_EIO, "dispatch: receive: %s", zmq_strerror(zmq_errno()));
    timers(d, now);
    pump(d, now);
    if (d->rl != NULL) {
        uint64_t total, held = ratelog_held(d->rl, now, DISPATCH_HELD_REPORT_MS, &total);
        if (held > 0)
            LOG_WARN("%llu more bad messages or refused peers on the workers' socket not "
                     "logged (%llu since the start)",
                     (unsigned long long)held, (unsigned long long)total);
    }
    return ST_OK;
}

st_rc_t dispatch_poll(dispatch_t *d, int timeout_ms, dispatch_done_fn done, void *ctx,
                      st_err_t *err)
{
    uint64_t start = clock_ms();
    st_rc_t rc;

    d->done = done;
    d->done_ctx = ctx;
    d->finished = 0;
    if (timeout_ms < 0 && dispatch_pending(d) == 0)
        timeout_ms = 0; /* nothing can finish: do not wait forever */
    for (;;) {
        zmq_pollitem_t items[3] = {{.socket = d->sock, .events = ZMQ_POLLIN},
                                   {.fd = d->wake_fd, .events = ZMQ_POLLIN},
                                   {.socket = d->zap, .events = ZMQ_POLLIN}};
        int n_items = 1;
        uint64_t elapsed;
        long wait = d->opts.heartbeat_ms / 2;

        if ((rc = work(d, err)) != ST_OK || d->finished > 0)
            break;
        elapsed = clock_ms() - start;
        if (timeout_ms >= 0 && elapsed >= (uint64_t)timeout_ms)
            break;
        if (timeout_ms >= 0 && (uint64_t)timeout_ms - elapsed < (uint64_t)wait)
            wait = (long)((uint64_t)timeout_ms - elapsed);
        if (d->wake_fd >= 0)
            n_items = 2;
        else
            items[1] = items[2];
        if (d->zap != NULL)
            n_items++;
        if (zmq_poll(items, n_items, wait) < 0 && zmq_errno() != EINTR) {
            rc = st_fail(err, ST_EIO, "dispatch: poll: %s", zmq_strerror(zmq_errno()));
            break;
        }
        if (d->wake_fd >= 0 && (items[1].revents & ZMQ_POLLIN)) {
            uint64_t count;
            if (read(d->wake_fd, &count, sizeof count) < 0) {
                /* an eventfd that is not readable after all: nothing to do */
            }
            break; /* the caller has something to submit */
        }
    }
    d->done = NULL;
    d->done_ctx = NULL;
    return rc;
}

void dispatch_set_wake_fd(dispatch_t *d, int fd)
{
    d->wake_fd = fd;
}

size_t dispatch_pending(const dispatch_t *d)
{
    return hmap_count(d->jobs);
}

void dispatch_stats(const dispatch_t *d, dispatch_stats_t *out)
{
    *out = d->stats;
    out->queued = d->queue.count + d->suspect.count;
    out->in_flight = d->in_flight;
    out->stuck = 0;
    for (size_t i = 0; i < d->n_workers; i++)
        out->stuck += d->workers[i]->slots - free_slots(d->workers[i]);
}

size_t dispatch_workers(const dispatch_t *d, dispatch_worker_t *out, size_t cap,
                        dispatch_worker_t *rest)
{
    memset(rest, 0, sizeof *rest);
    for (size_t i = 0; i < d->n_workers; i++) {
        const dworker_t *w = d->workers[i];
        dispatch_worker_t *o = i < cap ? &out[i] : rest;
        uint32_t busy = w->n_flight < w->slots ? (uint32_t)w->n_flight : w->slots;

        if (i < cap) {
            snprintf(o->name, sizeof o->name, "%.*s", (int)sizeof o->name - 1, w->name);
            o->slots = o->busy = 0;
        }
        o->slots += w->slots;
        o->busy += busy;
    }
    return d->n_workers;
}
