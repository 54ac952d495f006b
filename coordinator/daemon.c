/* daemon.c - the coordinator daemon: its sockets, its clients and their
 * caps, and the queue of their batches.
 *
 * The main thread owns both sockets. It reads the clients' messages (a
 * SUBMIT is queued, an UPLOAD goes to its batch's inbox), sends what the
 * batches post (NEED, DONE) and the PROGRESS heartbeats, and drives the
 * dispatcher (single-threaded by design) through calls_pump. Everything
 * that takes time runs on a thread per batch (coordinator/batch.c, which
 * drives the run: run/run.h), several batches at once: blob lookups and
 * uploads, scan keys and cache lookups, scan jobs (whose ends the main
 * thread routes back to the batch through its cluster back end), the
 * check jobs, the DONE encoding. So a large upload or a long project stage
 * of one client holds up neither the others nor the workers' heartbeats.
 *
 * One mutex (the daemon's) guards the inboxes, the outbox and the run
 * slots; a batch thread waits on its own condition. The cache is
 * thread-safe by itself: two batches of the same files store the same
 * bytes under the same keys. */
#include "coordinator/daemon.h"

#include "coordinator/batch.h"

#include "common/clock.h"
#include "common/cpus.h"
#include "common/alloc.h"
#include "common/arena.h"
#include "common/buf.h"
#include "common/cas/cas.h"
#include "common/digest.h"
#include "common/proto.h"
#include "common/proto_client.h"
#include "common/ratelog.h"
#include "common/queue.h"
#include "coordinator/calls.h"
#include "coordinator/cluster.h"
#include "coordinator/dispatch.h"
#include "coordinator/frames.h"
#include "coordinator/keys.h"
#include "run/policy.h"
#include "run/report.h"
#include "run/run.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>
#include <zstd.h>

/* set by a signal handler, read by the batch threads: a lock-free atomic */
static atomic_int stop_flag;

void daemon_stop(void)
{
    atomic_store(&stop_flag, 1);
}

/* ---- endpoints --------------------------------------------------------------- */

st_rc_t daemon_workers_endpoint(const char *bind, char *out, size_t cap, st_err_t *err)
{
    if (strncmp(bind, "ipc://", 6) == 0) {
        if ((size_t)snprintf(out, cap, "%s.workers", bind) >= cap)
            return st_fail(err, ST_EINVAL, "the address %s is too long", bind);
        return ST_OK;
    }
    if (strncmp(bind, "tcp://", 6) == 0) {
        const char *colon = strrchr(bind + 6, ':');
        char *end;
        unsigned long port;
        if (colon != NULL && colon[1] >= '0' && colon[1] <= '9') {
            errno = 0;
            port = strtoul(colon + 1, &end, 10);
            if (errno == 0 && *end == '\0' && port > 0 && port < 65535) {
                if ((size_t)snprintf(out, cap, "%.*s:%lu", (int)(colon - bind), bind, port + 1) >=
                    cap)
                    return st_fail(err, ST_EINVAL, "the address %s is too long", bind);
                return ST_OK;
            }
        }
        return st_fail(err, ST_EINVAL,
                       "cannot derive the workers' address from %s (no port, or 65535): give "
                       "--workers-bind",
                       bind);
    }
    return st_fail(err, ST_EINVAL, "the address %s is neither tcp:// nor ipc://", bind);
}

bool daemon__stopping(daemon_t *dm)
{
    return atomic_load(&stop_flag) || atomic_load(&dm->stopping);
}

void daemon__msg_free(msg_t *m)
{
    if (m == NULL)
        return;
    if (m->zm != NULL) {
        zmq_msg_close(m->zm);
        st_free(m->zm);
    }
    st_free(m->data);
    st_free(m);
}

void daemon__msgs_free(queue_t *q)
{
    queue_node_t *n;

    while ((n = queue_pop(q)) != NULL)
        daemon__msg_free(QUEUE_ENTRY(n, msg_t, node));
}

/* ---- the client socket (main thread) --------------------------------------------- */

static bool same_ident(const ident_t *a, const ident_t *b)
{
    return a->len == b->len && memcmp(a->id, b->id, a->len) == 0;
}

/* Forgets a client that is gone or does not read (why): its queued
 * batches are dropped, its running ones told (a batch waiting for its
 * uploads ends at once). */
static void client_gone(daemon_t *dm, const ident_t *who, const char *why)
{
    for (size_t i = 0; i < dm->n_queue;) {
        if (!same_ident(&dm->queue[i].who, who)) {
            i++;
            continue;
        }
        fprintf(dm->log, "strata coordinator: %s: client %s; its queued batch dropped\n",
                dm->queue[i].name, why);
        dm->queue_bytes -= dm->queue[i].len;
        st_free(dm->queue[i].submit);
        memmove(dm->queue + i, dm->queue + i + 1, (dm->n_queue - i - 1) * sizeof *dm->queue);
        dm->n_queue--;
    }
    pthread_mutex_lock(&dm->lock);
    for (size_t i = 0; i < dm->n_active; i++) {
        batch_t *b = dm->active[i];
        if (same_ident(&b->p.who, who) && !atomic_load(&b->gone)) {
            atomic_store(&b->gone, true);
            pthread_cond_signal(&b->cond);
        }
    }
    pthread_mutex_unlock(&dm->lock);
}

/* Sends one message to a client without waiting. NULL when it went (or
 * could not be encoded); else why the client is to be forgotten: it is
 * gone (no connection has its routing id: ROUTER_MANDATORY), or it does
 * not read (DAEMON_SNDHWM messages wait for it, which a client that reads
 * never has: it gets no PROGRESS while it uploads). */
static const char *send_to(daemon_t *dm, const ident_t *who, const uint8_t *data, size_t len)
{
    if (zmq_send(dm->cs, who->id, who->len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return zmq_errno() == EHOSTUNREACH ? "gone"
               : zmq_errno() == EAGAIN     ? "does not read its messages"
                                           : NULL;
    zmq_send(dm->cs, data, len, ZMQ_DONTWAIT);
    return NULL;
}

static const char *send_progress(daemon_t *dm, const ident_t *who, const proto_progress_t *p)
{
    buf_reset(&dm->out);
    if (proto_encode_progress(&dm->out, p) != ST_OK)
        return NULL;
    return send_to(dm, who, dm->out.data, dm->out.len);
}

st_rc_t daemon__encode_error_done(buf_t *b, const char *message)
{
    proto_batch_t batch;
    proto_stats_t st = {0};
    char text[PROTO_MAX_TEXT];
    st_rc_t rc;

    snprintf(text, sizeof text, "%s", message);
    buf_reset(b);
    if ((rc = proto_done_begin(&batch, b, PROTO_DONE_ERROR, text, &st)) == ST_OK)
        proto_batch_end(&batch);
    return rc;
}

static void send_error_done(daemon_t *dm, const ident_t *who, const char *message)
{
    if (daemon__encode_error_done(&dm->out, message) == ST_OK)
        send_to(dm, who, dm->out.data, dm->out.len);
}

/* Sends what the batch threads posted. */
static void flush_outbox(daemon_t *dm)
{
    queue_t q;
    queue_node_t *n;

    queue_init(&q);
    pthread_mutex_lock(&dm->lock);
    queue_move(&q, &dm->outbox);
    pthread_mutex_unlock(&dm->lock);
    while ((n = queue_pop(&q)) != NULL) {
        msg_t *k = QUEUE_ENTRY(n, msg_t, node);
        const char *why = send_to(dm, &k->who, k->data, k->len);
        if (why != NULL)
            client_gone(dm, &k->who, why);
        daemon__msg_free(k);
    }
}

static size_t workers_now(daemon_t *dm)
{
    dispatch_stats_t ds;
    dispatch_stats(dm->d, &ds);
    return ds.workers;
}

/* PROGRESS to the batches' clients and the queued ones, when due; to a
 * client that is uploading (it reads nothing until it has sent its blobs)
 * only every DAEMON_UPLOAD_PROBE_MS, which still finds it gone soon. The
 * clients found gone or not reading are forgotten after. */
static void heartbeats(daemon_t *dm)
{
    uint64_t now = clock_ms();
    proto_progress_t p = {.workers = workers_now(dm)};
    ident_t gone[DAEMON_MAX_ACTIVE + DAEMON_MAX_QUEUE];
    const char *why[DAEMON_MAX_ACTIVE + DAEMON_MAX_QUEUE];
    size_t n_gone = 0;

    if (now - dm->last_progress < DAEMON_PROGRESS_MS)
        return;
    dm->last_progress = now;
    for (size_t i = 0; i < dm->n_active; i++) {
        batch_t *b = dm->active[i];
        bool uploading;
        pthread_mutex_lock(&dm->lock);
        uploading = b->accepting;
        pthread_mutex_unlock(&dm->lock);
        if (uploading && now - b->last_probe < DAEMON_UPLOAD_PROBE_MS)
            continue;
        b->last_probe = now;
        p.scanned = p.cached = 0;
        run_t *run = atomic_load(&b->run);
        if (run != NULL)
            run_progress(run, &p.scanned, &p.cached);
        p.checked = progress_get(b->progress, PROGRESS_CHECKED);
        if ((why[n_gone] = send_progress(dm, &b->p.who, &p)) != NULL)
            gone[n_gone++] = b->p.who;
    }
    for (size_t i = 0; i < dm->n_queue; i++) {
        p.scanned = p.cached = p.checked = 0;
        p.queued = i + 1;
        if ((why[n_gone] = send_progress(dm, &dm->queue[i].who, &p)) != NULL)
            gone[n_gone++] = dm->queue[i].who;
    }
    for (size_t i = 0; i < n_gone; i++)
        client_gone(dm, &gone[i], why[i]);
}

/* The name of a client for the log (its address, or "local" for ipc, and
 * its key), and the peer its caps are counted under: its key, else its
 * address without the port. */
static void client_name(zmq_msg_t *m, char *out, size_t cap, peer_t *peer)
{
    const char *addr = zmq_msg_gets(m, "Peer-Address");
    const char *user = zmq_msg_gets(m, "User-Id");
    bool has_addr = addr != NULL && addr[0] != '\0', has_user = user != NULL && user[0] != '\0';

    snprintf(out, cap, "%s%s%.16s", has_addr ? addr : "local", has_user ? " key " : "",
             has_user ? user : "");
    if (has_user)
        snprintf(peer->s, sizeof peer->s, "key %.40s", user);
    else
        snprintf(peer->s, sizeof peer->s, "%.60s", has_addr ? addr : "local");
}

/* Logs a dropped or refused message from a client, within the caps. */
static void log_peer(daemon_t *dm, const peer_t *peer, const char *name, const char *what,
                     const char *why)
{
    if (dm->rl == NULL || ratelog_allow(dm->rl, peer->s, clock_ms()))
        fprintf(dm->log, "strata coordinator: %s: %s: %s\n", name, what, why);
}

/* What a client has waiting here, over the queue and the running batches:
 * batches, files, and bytes (queued SUBMITs, uploads in the inboxes). */
typedef struct {
    size_t batches, files;
    uint64_t bytes;
} load_t;

static load_t client_load(daemon_t *dm, const peer_t *peer)
{
    load_t l = {0};

    for (size_t i = 0; i < dm->n_queue; i++) {
        if (strcmp(dm->queue[i].peer.s, peer->s) == 0) {
            l.batches++;
            l.files += dm->queue[i].files;
            l.bytes += dm->queue[i].len;
        }
    }
    pthread_mutex_lock(&dm->lock);
    for (size_t i = 0; i < dm->n_active; i++) {
        if (strcmp(dm->active[i]->p.peer.s, peer->s) == 0) {
            l.batches++;
            l.files += dm->active[i]->p.files;
            l.bytes += dm->active[i]->inbox_bytes;
        }
    }
    pthread_mutex_unlock(&dm->lock);
    return l;
}

/* Why a SUBMIT of files files and len bytes from peer cannot be queued;
 * NULL when it can. */
static const char *submit_refusal(daemon_t *dm, const peer_t *peer, size_t files, size_t len,
                                  char *why, size_t cap)
{
    load_t l = client_load(dm, peer);

    if (l.files + files > dm->client_files) {
        snprintf(why, cap,
                 "%zu files in this submission and %zu in this client's others queued or "
                 "running, over the coordinator's limit of %zu (--max-client-files); submit "
                 "fewer at once",
                 files, l.files, dm->client_files);
        return why;
    }
    if (l.batches >= dm->client_batches) {
        snprintf(why, cap,
                 "this client has %zu batches queued or running, the coordinator's limit "
                 "(--max-client-batches); submit again when one is done",
                 l.batches);
        return why;
    }
    if (l.bytes + len > dm->client_bytes) {
        snprintf(why, cap,
                 "this client would have %llu bytes waiting at the coordinator, over its "
                 "limit of %llu (--max-client-bytes); submit again when a batch is done",
                 (unsigned long long)(l.bytes + len), (unsigned long long)dm->client_bytes);
        return why;
    }
    if (dm->n_queue >= DAEMON_MAX_QUEUE || dm->queue_bytes + len > DAEMON_MAX_QUEUE_BYTES)
        return "the coordinator's queue is full; try again later";
    return NULL;
}

static void queue_submit(daemon_t *dm, const ident_t *who, const peer_t *peer, const char *name,
                         const proto_msg_t *m, zmq_msg_t *body)
{
    size_t len = zmq_msg_size(body);
    char why[256];
    const char *refusal = submit_refusal(dm, peer, m->count, len, why, sizeof why);
    pending_t *p = &dm->queue[dm->n_queue];

    if (refusal != NULL) {
        dm->refused++;
        log_peer(dm, peer, name, "batch refused", refusal);
        send_error_done(dm, who, refusal);
        return;
    }
    if ((p->submit = st_malloc(len == 0 ? 1 : len)) == NULL) {
        send_error_done(dm, who, "the coordinator is out of memory");
        return;
    }
    memcpy(p->submit, zmq_msg_data(body), len);
    p->len = len;
    p->files = m->count;
    p->who = *who;
    p->peer = *peer;
    snprintf(p->name, sizeof p->name, "%s", name);
    dm->n_queue++;
    dm->queue_bytes += len;
    if (dm->n_active >= DAEMON_MAX_ACTIVE || dm->n_queue > 1) {
        proto_progress_t pr = {.queued = dm->n_queue, .workers = workers_now(dm)};
        send_progress(dm, who, &pr);
    }
}

/* An UPLOAD or LIBFILES to the inbox of the client's batch that waits for
 * blobs or an answer (moved out of body). Dropped when there is none; when it would take the
 * client over its cap of bytes waiting here, the batch is refused. */
static void route_upload(daemon_t *dm, const ident_t *who, const peer_t *peer, const char *name,
                         zmq_msg_t *body)
{
    size_t len = zmq_msg_size(body);
    uint64_t bytes = client_load(dm, peer).bytes;
    batch_t *to = NULL;
    msg_t *m;

    pthread_mutex_lock(&dm->lock);
    for (size_t i = 0; i < dm->n_active && to == NULL; i++)
        if (dm->active[i]->accepting && same_ident(who, &dm->active[i]->p.who))
            to = dm->active[i];
    if (to != NULL && bytes + len > dm->client_bytes) {
        to->over_cap = true; /* the batch thread answers why */
        pthread_cond_signal(&to->cond);
        to = NULL;
        dm->refused++;
    }
    pthread_mutex_unlock(&dm->lock);
    if (to == NULL) {
        dm->dropped++;
        log_peer(dm, peer, name, "upload dropped",
                 bytes + len > dm->client_bytes ? "over the client's --max-client-bytes"
                                                : "no batch of this client waits for one");
        return;
    }
    m = st_calloc(1, sizeof *m);
    zmq_msg_t *zm = st_malloc(sizeof *zm);
    if (m == NULL || zm == NULL) {
        st_free(m);
        st_free(zm);
        return; /* the client's batch times out, or its next upload comes */
    }
    zmq_msg_init(zm);
    zmq_msg_move(zm, body);
    m->zm = zm;
    m->len = len;
    pthread_mutex_lock(&dm->lock);
    for (size_t i = 0; i < dm->n_active && m != NULL; i++) {
        batch_t *b = dm->active[i];
        if (b == to && b->accepting) { /* still: only the main thread ends a batch */
            queue_push(&b->uploads, &m->node);
            b->inbox_bytes += len;
            dm->upload_bytes += len;
            m = NULL;
            pthread_cond_signal(&b->cond);
        }
    }
    pthread_mutex_unlock(&dm->lock);
    daemon__msg_free(m);
}

/* A worker's message on the clients' socket: its HELLO is refused for good
 * with the workers' port named (the worker logs it and stops), and the log
 * says so, naming both ports. */
static void worker_on_client_port(daemon_t *dm, const ident_t *who, const peer_t *peer,
                                  const char *name, uint32_t type)
{
    const char *workers = dispatch_endpoint(dm->d);
    char text[PROTO_MAX_TEXT], why[PROTO_MAX_TEXT + 64];

    snprintf(why, sizeof why, "told to connect to the workers' port, %s", workers);
    log_peer(dm, peer, name,
             type == PROTO_HELLO ? "a worker connected to the clients' port"
                                 : "a worker's message on the clients' port",
             why);
    if (type != PROTO_HELLO)
        return;
    snprintf(text, sizeof text,
             "this is the coordinator's port for clients (%s); workers connect to %s",
             dm->opts->bind, workers);
    buf_reset(&dm->out);
    if (proto_encode_refused(&dm->out, text, false) == ST_OK)
        send_to(dm, who, dm->out.data, dm->out.len);
}

/* One message from a client: SUBMIT is queued, UPLOAD and LIBFILES go to
 * its batch,
 * anything else is dropped, counted, and logged within the caps. False
 * when there was none. */
static bool handle_client(daemon_t *dm)
{
    frames_t f;
    ident_t who = {0};
    char name[96];
    peer_t peer;
    proto_msg_t m;
    st_err_t err = {0};
    const char *why = NULL;

    switch (frames_recv(dm->cs, &f, &why)) {
    case FRAMES_OK:
        break;
    case FRAMES_MALFORMED:
        dm->dropped++;
        if (dm->rl == NULL || ratelog_allow(dm->rl, "(framing)", clock_ms()))
            fprintf(dm->log, "strata coordinator: a client's message dropped: %s\n", why);
        return true;
    default:
        return false;
    }
    who.len = zmq_msg_size(&f.ident);
    memcpy(who.id, zmq_msg_data(&f.ident), who.len);
    dm->bytes_in += zmq_msg_size(&f.body);
    client_name(&f.body, name, sizeof name, &peer);
    if (proto_decode_client(zmq_msg_data(&f.body), zmq_msg_size(&f.body), &m, &err) != ST_OK) {
        uint32_t v, t;
        dm->dropped++;
        if (proto_peek(zmq_msg_data(&f.body), zmq_msg_size(&f.body), &v, &t) &&
            v == PROTO_VERSION &&
            (t == PROTO_HELLO || t == PROTO_RESULTS || t == PROTO_HEARTBEAT || t == PROTO_BYE))
            worker_on_client_port(dm, &who, &peer, name, t);
        else
            log_peer(dm, &peer, name, "malformed message dropped", err.msg);
    } else if (m.type == PROTO_SUBMIT) {
        queue_submit(dm, &who, &peer, name, &m, &f.body);
    } else if (m.type == PROTO_UPLOAD || m.type == PROTO_LIBFILES) {
        route_upload(dm, &who, &peer, name, &f.body);
    } else {
        dm->dropped++;
        log_peer(dm, &peer, name, "message dropped",
                 "a coordinator's message type, which clients do not send");
    }
    frames_close(&f);
    return true;
}

/* One line, now and then, for the lines held back by the caps. */
static void report_held(daemon_t *dm)
{
    uint64_t total, held;

    if (dm->rl != NULL &&
        (held = ratelog_held(dm->rl, clock_ms(), DAEMON_HELD_REPORT_MS, &total)) > 0)
        fprintf(dm->log,
                "strata coordinator: %llu more dropped or refused messages not logged (%llu "
                "since the start)\n",
                (unsigned long long)held, (unsigned long long)total);
}

/* Whether a batch has DAEMON_INBOX_PAUSE of uploads to store: the clients'
 * socket waits. */
static bool inbox_full(daemon_t *dm)
{
    bool full = false;

    pthread_mutex_lock(&dm->lock);
    for (size_t i = 0; i < dm->n_active && !full; i++)
        full = dm->active[i]->inbox_bytes > DAEMON_INBOX_PAUSE;
    pthread_mutex_unlock(&dm->lock);
    return full;
}

/* Works on the sockets for up to timeout_ms: the dispatcher (through the
 * calls), client messages, what the batches posted, heartbeats. The wait
 * is in calls_pump, on the workers' socket, which a job queued or a
 * message posted ends at once; the clients' socket is then read without
 * waiting (a client's message waits timeout_ms at most). Only when the
 * pump fails is the wait on the clients' socket. */
static void service(daemon_t *dm, int timeout_ms)
{
    zmq_pollitem_t item = {.socket = dm->cs, .events = ZMQ_POLLIN};
    bool busy = true;
    st_err_t err = {0};
    int n;

    /* the wait is on the workers' socket even when no batch runs, so that
       whatever arrives there is read at once, not left to pile up */
    if (calls_pump(dm->calls, timeout_ms, NULL, NULL, &err) != ST_OK) {
        /* the jobs are given back to the batches (run here); the wait is
         * then on the client socket, and the warning at most every 10 s */
        uint64_t now = clock_ms();
        if (now - dm->pump_warned_ms >= 10000) {
            fprintf(dm->log, "strata coordinator: warning: workers: %s\n", err.msg);
            dm->pump_warned_ms = now;
        }
        busy = false;
    }
    n = inbox_full(dm) ? 0 : zmq_poll(&item, 1, busy ? 0 : timeout_ms);
    /* a burst at most, then the rest of the loop: nothing read can block */
    for (int k = 0; n > 0 && k < 256 && handle_client(dm); k++)
        if (inbox_full(dm))
            break;
    flush_outbox(dm);
    heartbeats(dm);
    report_held(dm);
}

/* ---- batches (main thread) ------------------------------------------------------------ */

/* Starts the first queued batch on a thread of its own. */
static void start_next(daemon_t *dm)
{
    batch_t *b = st_calloc(1, sizeof *b);
    pthread_condattr_t ca;
    bool cond_ok = false;

    if (b != NULL && pthread_condattr_init(&ca) == 0) {
        cond_ok = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
                  pthread_cond_init(&b->cond, &ca) == 0;
        pthread_condattr_destroy(&ca);
    }
    if (!cond_ok) {
        st_free(b);
        send_error_done(dm, &dm->queue[0].who, "the coordinator is out of memory");
        st_free(dm->queue[0].submit);
    } else {
        b->dm = dm;
        b->p = dm->queue[0];
        b->started = clock_ms();
        b->seq = ++dm->next_seq;
        buf_init(&b->out);
        atomic_init(&b->over, false);
        atomic_init(&b->run, NULL);
        atomic_init(&b->gone, false);
        queue_init(&b->uploads);
        b->progress = progress_new(NULL, NULL); /* NULL: no count, no harm */
    }
    dm->queue_bytes -= dm->queue[0].len;
    memmove(dm->queue, dm->queue + 1, (dm->n_queue - 1) * sizeof *dm->queue);
    dm->n_queue--;
    if (!cond_ok)
        return;
    pthread_mutex_lock(&dm->lock); /* route_upload reads the list under it */
    dm->active[dm->n_active++] = b;
    pthread_mutex_unlock(&dm->lock);
    if (pthread_create(&b->tid, NULL, batch_main, b) != 0) {
        pthread_mutex_lock(&dm->lock);
        dm->n_active--;
        pthread_mutex_unlock(&dm->lock);
        send_error_done(dm, &b->p.who, "the coordinator cannot start a thread; try again later");
        batch_free(&b);
    }
}

/* Joins the batches whose thread ended (all of them when wait). */
static void reap(daemon_t *dm, bool wait)
{
    bool reaped = false;

    for (size_t i = 0; i < dm->n_active;) {
        batch_t *b = dm->active[i];
        if (!wait && !atomic_load(&b->over)) {
            i++;
            continue;
        }
        pthread_join(b->tid, NULL);
        pthread_mutex_lock(&dm->lock);
        dm->active[i] = dm->active[--dm->n_active];
        pthread_mutex_unlock(&dm->lock);
        batch_free(&b);
        reaped = true;
    }
    /* a batch's thread allocated and freed its run (tens of megabytes)
       in a malloc arena of its own, which glibc keeps for the next thread
       that lands there: given back now, so that many batches one after
       another do not each leave their peak behind */
    if (reaped)
        malloc_trim(0);
}

/* Stops every batch: they are woken, their calls end, they post their
 * "stopping" answers, and are joined, within DAEMON_STOP_MS. False when a
 * batch thread still runs then (inside one long scan or check job of its
 * own): its client has been told, and the caller must not free what it
 * uses. */
static bool stop_batches(daemon_t *dm)
{
    uint64_t until = clock_ms() + DAEMON_STOP_MS;

    atomic_store(&dm->stopping, true);
    pthread_mutex_lock(&dm->lock);
    for (size_t i = 0; i < dm->n_active; i++)
        pthread_cond_broadcast(&dm->active[i]->cond);
    pthread_cond_broadcast(&dm->runs);
    pthread_mutex_unlock(&dm->lock);
    calls_shutdown(dm->calls);
    for (;;) {
        reap(dm, false);
        flush_outbox(dm);
        if (dm->n_active == 0 || clock_ms() >= until)
            break;
        nanosleep(&(struct timespec){0, 10 * 1000000L}, NULL);
    }
    for (size_t i = 0; i < dm->n_active; i++)
        send_error_done(dm, &dm->active[i]->p.who, "the coordinator is stopping; submit again");
    return dm->n_active == 0;
}

/* ---- setup --------------------------------------------------------------------------- */

static st_rc_t open_client_socket(daemon_t *dm, st_err_t *err)
{
    const daemon_opts_t *o = dm->opts;
    int64_t maxmsg = (int64_t)PROTO_MAX_MSG;
    int one = 1, zero = 0, hwm = DAEMON_RCVHWM, sndhwm = DAEMON_SNDHWM,
        handshake = DAEMON_HANDSHAKE_MS;

    if ((dm->zctx = zmq_ctx_new()) == NULL || (dm->cs = zmq_socket(dm->zctx, ZMQ_ROUTER)) == NULL)
        return st_fail(err, ST_EIO, "zmq: %s", zmq_strerror(errno));
    if (zmq_setsockopt(dm->cs, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) != 0 ||
        zmq_setsockopt(dm->cs, ZMQ_ROUTER_MANDATORY, &one, sizeof one) != 0 ||
        zmq_setsockopt(dm->cs, ZMQ_RCVHWM, &hwm, sizeof hwm) != 0 ||
        zmq_setsockopt(dm->cs, ZMQ_SNDHWM, &sndhwm, sizeof sndhwm) != 0 ||
        zmq_setsockopt(dm->cs, ZMQ_HANDSHAKE_IVL, &handshake, sizeof handshake) != 0 ||
        zmq_setsockopt(dm->cs, ZMQ_LINGER, &zero, sizeof zero) != 0)
        return st_fail(err, ST_EIO, "zmq: %s", zmq_strerror(errno));
    if (o->keys_dir != NULL) {
        char path[4096];
        keys_pair_t *kp = &dm->kp;
        snprintf(path, sizeof path, "%s/coordinator.key", o->keys_dir);
        if (keys_load(path, kp, err) != ST_OK)
            return err != NULL ? err->code : ST_EINVAL;
        if (kp->secret_z85[0] == '\0')
            return st_fail(err, ST_EINVAL, "%s holds no secret key", path);
        if (keys_allow_load(o->allow_dir, &dm->allow, err) != ST_OK)
            return err != NULL ? err->code : ST_EINVAL;
        if (keys_zap_start(dm->zctx, dm->allow, dm->log, &dm->zap, err) != ST_OK)
            return err != NULL ? err->code : ST_EIO;
        if (zmq_setsockopt(dm->cs, ZMQ_CURVE_SERVER, &one, sizeof one) != 0 ||
            zmq_setsockopt(dm->cs, ZMQ_CURVE_SECRETKEY, dm->kp.secret_z85, KEYS_Z85_LEN) != 0 ||
            zmq_setsockopt(dm->cs, ZMQ_ZAP_DOMAIN, "strata", 6) != 0)
            return st_fail(err, ST_EIO, "zmq CURVE: %s", zmq_strerror(errno));
    }
    if (zmq_bind(dm->cs, o->bind) != 0)
        return st_fail(err, ST_EIO, "cannot bind %s: %s", o->bind, zmq_strerror(errno));
    return ST_OK;
}

/* The allowlist (loaded for the client socket) as Z85 strings, for the
 * dispatcher, which takes them so. */
static st_rc_t allow_z85(daemon_t *dm, st_err_t *err)
{
    size_t n = keys_allow_count(dm->allow);

    dm->allow_z85 = st_calloc(n == 0 ? 1 : n, sizeof *dm->allow_z85);
    dm->allow_ptrs = st_calloc(n == 0 ? 1 : n, sizeof *dm->allow_ptrs);
    if (dm->allow_z85 == NULL || dm->allow_ptrs == NULL)
        return st_fail(err, ST_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        keys_allow_z85(dm->allow, i, dm->allow_z85[i]);
        dm->allow_ptrs[i] = dm->allow_z85[i];
    }
    dm->n_allow = n;
    return ST_OK;
}

static cas_t *open_cache(const daemon_opts_t *o, FILE *log)
{
    cas_opts_t copts;
    cas_t *cache = NULL;
    st_err_t err = {0};

    cas_opts_default(&copts); /* memory only: the disk tier is asked for */
    copts.durability = CAS_BUFFERED;
    /* the memory tier only spares disk reads of what the disk tier holds:
       a quarter of the default, so that a coordinator's memory is mostly
       its batches' */
    copts.mem_budget = DAEMON_CACHE_MEM;
    copts.dir = cas_dir_default(o->cache_dir);
    if (cas_open(&copts, &cache, &err) != ST_OK) {
        fprintf(log, "strata coordinator: warning: cache %s: %s; keeping blobs in memory\n",
                copts.dir, err.msg);
        copts.durability = CAS_MEMORY;
        copts.dir = NULL;
        if (cas_open(&copts, &cache, &err) != ST_OK)
            return NULL;
    }
    return cache;
}

st_rc_t daemon_run(const daemon_opts_t *opts, st_err_t *err)
{
    daemon_t dm = {.opts = opts, .log = opts->log != NULL ? opts->log : stderr};
    char wep[4200];
    dispatch_opts_t dopts = {0};
    st_rc_t rc = ST_OK;

    atomic_store(&stop_flag, 0);
    /* messages of megabytes come and go on both sockets, allocated by
       ZeroMQ's I/O threads and freed on this one: mapped each time, they go
       back to the system when freed, instead of raising glibc's dynamic
       threshold and staying in its heap after a flood */
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    if (opts->workers_bind != NULL)
        snprintf(wep, sizeof wep, "%s", opts->workers_bind);
    else if ((rc = daemon_workers_endpoint(opts->bind, wep, sizeof wep, err)) != ST_OK)
        return rc;
    if ((opts->keys_dir == NULL) != (opts->allow_dir == NULL))
        return st_fail(err, ST_EINVAL, "--keys and --allow go together");
    if (!opts->insecure && opts->keys_dir == NULL && !keys_is_local(opts->bind))
        return st_fail(err, ST_EINVAL,
                       "refusing to bind %s without authentication: anyone who can reach it "
                       "could submit work; give --keys DIR --allow DIR, bind a loopback "
                       "address or ipc://, or pass --insecure",
                       opts->bind);
    if (!opts->insecure && opts->keys_dir == NULL && !keys_is_local(wep))
        return st_fail(err, ST_EINVAL,
                       "refusing to bind the workers' socket %s without authentication; give "
                       "--keys DIR --allow DIR, bind it to a loopback address or ipc:// "
                       "(--workers-bind), or pass --insecure",
                       wep);
    dm.jobs = opts->jobs != 0 ? opts->jobs : cpus_online(1024);
    dm.client_batches = opts->client_batches != 0 ? opts->client_batches : DAEMON_CLIENT_BATCHES;
    dm.client_bytes = opts->client_bytes != 0 ? opts->client_bytes : DAEMON_CLIENT_BYTES;
    dm.client_files = opts->client_files != 0 ? opts->client_files : DAEMON_CLIENT_FILES;
    buf_init(&dm.out);
    queue_init(&dm.outbox);
    atomic_init(&dm.stopping, false);
    atomic_init(&dm.ready, false);
    atomic_init(&dm.heartbeat_ms, clock_ms());
    if (pthread_mutex_init(&dm.lock, NULL) != 0)
        return st_fail(err, ST_ENOMEM, "out of memory for a mutex");
    if (pthread_mutex_init(&dm.snap_lock, NULL) != 0) {
        pthread_mutex_destroy(&dm.lock);
        return st_fail(err, ST_ENOMEM, "out of memory for a mutex");
    }
    {
        pthread_condattr_t ca;
        bool ok = pthread_condattr_init(&ca) == 0;
        ok = ok && pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
             pthread_cond_init(&dm.runs, &ca) == 0;
        pthread_condattr_destroy(&ca);
        if (!ok) {
            pthread_mutex_destroy(&dm.snap_lock);
            pthread_mutex_destroy(&dm.lock);
            return st_fail(err, ST_ENOMEM, "out of memory for a condition variable");
        }
    }
    if ((dm.rl = ratelog_new(NULL)) == NULL) {
        rc = st_fail(err, ST_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = open_client_socket(&dm, err)) != ST_OK)
        goto out;
    dopts.bind = wep;
    dopts.clients_at = opts->bind;
    dopts.depth = policy_depth(POLICY_CLUSTER);
    dopts.job_timeout_ms = opts->job_timeout_ms;
    dopts.insecure = opts->insecure;
    if (opts->keys_dir != NULL) { /* workers authenticate as clients do */
        if ((rc = allow_z85(&dm, err)) != ST_OK)
            goto out;
        dopts.curve_secret = dm.kp.secret_z85;
        dopts.allow = dm.allow_ptrs;
        dopts.n_allow = dm.n_allow;
    }
    if ((dm.d = dispatch_new(&dopts, err)) == NULL) {
        rc = err != NULL && err->code != ST_OK ? err->code : ST_EIO;
        goto out;
    }
    if ((dm.calls =
             calls_new(dm.d, &(calls_opts_t){.grace_ms = opts->grace_ms, .local_max = dm.jobs},
                       err)) == NULL) {
        rc = err != NULL && err->code != ST_OK ? err->code : ST_EIO;
        goto out;
    }
    dm.cache = open_cache(opts, dm.log);
    fprintf(dm.log, "strata coordinator: clients on %s, workers on %s%s\n", opts->bind,
            dispatch_endpoint(dm.d),
            opts->keys_dir != NULL ? " (clients and workers authenticated)" : "");
    if ((rc = daemon__metrics_start(&dm, err)) != ST_OK)
        goto out;
    fflush(dm.log);
    atomic_store(&dm.ready, true);
    while (!atomic_load(&stop_flag)) {
        reap(&dm, false);
        while (dm.n_queue > 0 && dm.n_active < DAEMON_MAX_ACTIVE)
            start_next(&dm);
        service(&dm, 20);
        daemon__metrics_turn(&dm);
    }
    /* first, so that nothing reads the state below while it is torn down */
    daemon__metrics_stop(&dm);
    fprintf(dm.log,
            "strata coordinator: stopping (%zu client messages dropped, %zu refused over a "
            "limit)\n",
            dm.dropped, dm.refused);
    if (!stop_batches(&dm)) {
        /* a batch thread is inside a job: the process ends without it,
           after the answers to the queued clients and the cache's writes */
        fprintf(dm.log, "strata coordinator: a batch is inside a long job; exiting without "
                        "waiting for it\n");
        for (size_t i = 0; i < dm.n_queue; i++)
            send_error_done(&dm, &dm.queue[i].who, "the coordinator is stopping; submit again");
        if (dm.cache != NULL)
            cas_flush(dm.cache, NULL);
        nanosleep(&(struct timespec){0, 100 * 1000000L}, NULL); /* the answers leave */
        fflush(NULL);
        _exit(0);
    }
out:
    daemon__metrics_stop(&dm);
    for (size_t i = 0; i < dm.n_queue; i++) {
        send_error_done(&dm, &dm.queue[i].who, "the coordinator is stopping; submit again");
        st_free(dm.queue[i].submit);
    }
    calls_destroy(&dm.calls);
    dispatch_destroy(&dm.d);
    cas_close(&dm.cache);
    if (dm.cs != NULL) {
        int linger = 500; /* the last "stopping" answers may go out */
        zmq_setsockopt(dm.cs, ZMQ_LINGER, &linger, sizeof linger);
        zmq_close(dm.cs);
    }
    keys_zap_stop(&dm.zap);
    if (dm.zctx != NULL)
        zmq_ctx_term(dm.zctx);
    keys_allow_destroy(&dm.allow);
    st_free(dm.allow_z85);
    st_free(dm.allow_ptrs);
    buf_free(&dm.out);
    daemon__msgs_free(&dm.outbox);
    ratelog_destroy(&dm.rl);
    pthread_cond_destroy(&dm.runs);
    pthread_mutex_destroy(&dm.snap_lock);
    pthread_mutex_destroy(&dm.lock);
    return rc;
}
