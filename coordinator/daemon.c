/* daemon.c - the coordinator daemon: clients' batches through the pipeline.
 *
 * The main thread owns both sockets. It reads the clients' messages (a
 * SUBMIT is queued, an UPLOAD goes to its batch's inbox), sends what the
 * batches post (NEED, DONE) and the PROGRESS heartbeats, and drives the
 * dispatcher (single-threaded by design) through calls_pump. Everything
 * that takes time runs on a thread per batch, several batches at once:
 * blob lookups and uploads (decompressed and verified there), scan keys
 * and cache lookups, scan jobs sent with calls_submit (whose results the
 * main thread routes back to the batch's inbox), the project stage with
 * its check jobs sent with calls_run, the DONE encoding. So a large upload
 * or a long project stage of one client holds up neither the others nor
 * the workers' heartbeats.
 *
 * One mutex (the daemon's) guards the inboxes, the outbox and the count
 * of a batch's scan calls not ended; a batch thread waits on its own
 * condition. A batch thread ends only when all its scan calls have ended
 * (each always does: result, lost, given back, or stopped), so a callback
 * never sees a freed batch. The cache is thread-safe by itself: two
 * batches of the same files store the same bytes under the same keys. */
#include "coordinator/daemon.h"

#include "common/clock.h"
#include "common/cpus.h"
#include "common/alloc.h"
#include "common/arena.h"
#include "common/buf.h"
#include "common/cas/cas.h"
#include "common/digest.h"
#include "common/proto.h"
#include "common/ratelog.h"
#include "coordinator/calls.h"
#include "coordinator/dispatch.h"
#include "coordinator/frames.h"
#include "coordinator/keys.h"
#include "run/project.h"
#include "run/report.h"
#include "worker/jobkey.h"
#include "worker/jobs.h"
#include "worker/python/xmod.h"

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

#define DAEMON_PROGRESS_MS 500      /* PROGRESS to waiting clients this often */
#define DAEMON_UPLOAD_IDLE_MS 30000 /* a client silent this long while uploading: dropped */
#define DAEMON_WINDOW 256           /* a batch's scan jobs submitted and not finished */
/* Batches with a thread of their own; the others wait in the queue. A
 * batch waiting for its uploads holds a thread but no run slot, so that a
 * client that uploads slowly holds up nobody else. */
#define DAEMON_MAX_ACTIVE 16
#define DAEMON_MAX_RUNNING 4                     /* batches scanning and checking at once */
#define DAEMON_MAX_QUEUE 64                      /* batches waiting; more are refused */
#define DAEMON_MAX_QUEUE_BYTES ((size_t)1 << 30) /* SUBMITs waiting, all clients */
#define DAEMON_CACHE_MEM ((size_t)16 << 20)      /* the cache's memory tier */
#define DAEMON_CLIENT_BATCHES 4u                 /* defaults of the per-client caps */
#define DAEMON_CLIENT_BYTES ((uint64_t)256 << 20)
#define DAEMON_CLIENT_FILES 50000u
#define DAEMON_RCVHWM 4 /* messages queued per client connection */
/* Uploads waiting in one batch's inbox past which the clients' socket is
 * not read until they are stored: flow control (ZeroMQ then holds the
 * senders back), so a fast client never reaches its --max-client-bytes. */
#define DAEMON_INBOX_PAUSE ((size_t)32 << 20)
#define DAEMON_SNDHWM 256           /* messages waiting for a client: it does not read */
#define DAEMON_UPLOAD_PROBE_MS 2000 /* PROGRESS to a client while it uploads */
#define DAEMON_HANDSHAKE_MS 10000   /* a connection must finish its handshake in this */
#define DAEMON_HELD_REPORT_MS 10000 /* "N more not logged" at most this often */
#define DAEMON_STOP_MS 1500         /* batches still running then are left behind */
#define DAEMON_MAX_IDENT FRAMES_MAX_IDENT
#define DAEMON_ARENA_CHUNK (1u << 20)
#define DAEMON_WAIT_MS 200 /* a batch thread looks at the stop flag this often */

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

/* ---- state ------------------------------------------------------------------- */

typedef struct {
    uint8_t id[DAEMON_MAX_IDENT];
    size_t len;
} ident_t;

/* A client's name for its caps: "key Z85" or its address ("local" for
 * ipc). */
typedef struct {
    char s[64];
} peer_t;

/* A batch waiting its turn: who sent it, and its SUBMIT (a copy). */
typedef struct {
    ident_t who;
    peer_t peer;
    char name[96];
    uint8_t *submit;
    size_t len;
    size_t files; /* in the SUBMIT */
} pending_t;

typedef struct {
    const char *path;
    uint32_t kind;
    bool has_digest;
    digest_t digest;
    uint64_t size; /* the SUBMIT's: an upload of another size is refused */
    bool needed;   /* asked for in NEED, not received yet */
    bool done;     /* scan result delivered (or no scan) */
    bool keyed;
    digest_t key; /* scan key */
} bfile_t;

/* A message between the main thread and a batch thread: an upload (zm), a
 * scan result (index, status, data), or one to send (who, data). */
typedef struct msg {
    struct msg *next;
    ident_t who;
    zmq_msg_t *zm;
    size_t index;
    calls_status_t status;
    uint8_t *data; /* owned */
    size_t len;
} msg_t;

typedef struct daemon daemon_t;

/* A batch being served, on its own thread. */
typedef struct {
    daemon_t *dm;
    pending_t p;
    pthread_t tid;
    atomic_bool over;    /* the thread has ended: the main thread joins it */
    pthread_cond_t cond; /* with dm->lock: something in the inbox, a call ended, stop */
    /* under dm->lock */
    msg_t *uploads, *results;
    size_t inflight;    /* scan calls not ended */
    bool accepting;     /* waiting for uploads */
    size_t inbox_bytes; /* of the uploads in the inbox */
    bool over_cap;      /* an upload went over the client's cap: refused */
    /* set by the main thread: the client is gone (a message found no
       connection to it); read by the batch thread */
    atomic_bool gone;
    uint64_t seq;        /* the order batches were started in: run slots go by it */
    bool wants_run;      /* under dm->lock: waiting for a run slot */
    bool running;        /* under dm->lock: holds one */
    uint64_t last_probe; /* the main thread's: the last PROGRESS sent */
    /* read by the main thread for PROGRESS */
    atomic_size_t scanned, cached;
    progress_t *progress; /* counts only: the check jobs done, for PROGRESS */
    /* the batch thread's */
    arena_t *arena; /* paths, roots, args */
    bfile_t *files;
    size_t n_files;
    const char **paths;
    const char **roots;
    size_t n_roots;
    const char **args;
    size_t n_args;
    scan_opts_t so;
    digest_t config;
    size_t n_needed, uploaded;
    uint64_t last_upload;
    project_t *project;
    arena_t *work; /* per-result scratch */
    size_t finished, failed;
    bool whole;    /* the whole run's diagnostics came from the cache */
    bool answered; /* a DONE was posted */
    st_rc_t rc;
    st_err_t err;
    uint64_t started;
    buf_t out;
} batch_t;

struct daemon {
    const daemon_opts_t *opts;
    FILE *log;
    void *zctx;
    void *cs; /* clients' ROUTER */
    keys_allow_t *allow;
    keys_zap_t *zap;
    dispatch_t *d;
    calls_t *calls; /* every job to the workers goes through it */
    cas_t *cache;
    keys_pair_t kp;                      /* with --keys */
    char (*allow_z85)[KEYS_Z85_LEN + 1]; /* the allowlist, for the dispatcher */
    const char **allow_ptrs;
    size_t n_allow;
    unsigned jobs;
    uint64_t pump_warned_ms; /* the last warning of a failed calls_pump */
    ratelog_t *rl;           /* lines about dropped and refused messages */
    size_t dropped;          /* malformed or unexpected messages dropped */
    size_t refused;          /* SUBMITs and UPLOADs refused over a cap */
    size_t client_batches, client_files;
    uint64_t client_bytes;
    atomic_bool stopping;
    pthread_mutex_t lock;
    msg_t *outbox, *outbox_tail; /* under lock: to send, in order */
    /* the main thread's */
    pending_t queue[DAEMON_MAX_QUEUE];
    size_t n_queue;
    size_t queue_bytes; /* of the SUBMITs in queue */
    batch_t *active[DAEMON_MAX_ACTIVE];
    size_t n_active;
    size_t running;      /* under lock: run slots held */
    uint64_t next_seq;   /* the main thread's: batch_t.seq */
    pthread_cond_t runs; /* with lock: a run slot freed, or stop */
    uint64_t last_progress;
    buf_t out;
};

static bool stopping(daemon_t *dm)
{
    return atomic_load(&stop_flag) || atomic_load(&dm->stopping);
}

static void msg_free(msg_t *m)
{
    while (m != NULL) {
        msg_t *next = m->next;
        if (m->zm != NULL) {
            zmq_msg_close(m->zm);
            st_free(m->zm);
        }
        st_free(m->data);
        st_free(m);
        m = next;
    }
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

/* An error DONE into b (reset first). */
static st_rc_t encode_error_done(buf_t *b, const char *message)
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
    if (encode_error_done(&dm->out, message) == ST_OK)
        send_to(dm, who, dm->out.data, dm->out.len);
}

/* Sends what the batch threads posted. */
static void flush_outbox(daemon_t *dm)
{
    msg_t *m;

    pthread_mutex_lock(&dm->lock);
    m = dm->outbox;
    dm->outbox = dm->outbox_tail = NULL;
    pthread_mutex_unlock(&dm->lock);
    for (msg_t *k = m; k != NULL; k = k->next) {
        const char *why = send_to(dm, &k->who, k->data, k->len);
        if (why != NULL)
            client_gone(dm, &k->who, why);
    }
    msg_free(m);
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
        p.scanned = atomic_load(&b->scanned);
        p.cached = atomic_load(&b->cached);
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

/* An UPLOAD to the inbox of the client's batch that waits for blobs
 * (moved out of body). Dropped when there is none; when it would take the
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
            m->next = b->uploads;
            b->uploads = m;
            b->inbox_bytes += len;
            m = NULL;
            pthread_cond_signal(&b->cond);
        }
    }
    pthread_mutex_unlock(&dm->lock);
    msg_free(m);
}

/* One message from a client: SUBMIT is queued, UPLOAD goes to its batch,
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
    client_name(&f.body, name, sizeof name, &peer);
    if (proto_decode_client(zmq_msg_data(&f.body), zmq_msg_size(&f.body), &m, &err) != ST_OK) {
        dm->dropped++;
        log_peer(dm, &peer, name, "malformed message dropped", err.msg);
    } else if (m.type == PROTO_SUBMIT) {
        queue_submit(dm, &who, &peer, name, &m, &f.body);
    } else if (m.type == PROTO_UPLOAD) {
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

/* ---- a batch's messages (batch thread) -------------------------------------------- */

/* Hands b->out to the main thread for the batch's client. */
static void post(batch_t *b)
{
    daemon_t *dm = b->dm;
    msg_t *m = st_calloc(1, sizeof *m);

    if (m == NULL || b->out.data == NULL) {
        st_free(m);
        return; /* out of memory: the client times out */
    }
    m->who = b->p.who;
    m->data = b->out.data; /* moved */
    m->len = b->out.len;
    buf_init(&b->out);
    pthread_mutex_lock(&dm->lock);
    if (dm->outbox_tail != NULL)
        dm->outbox_tail->next = m;
    else
        dm->outbox = m;
    dm->outbox_tail = m;
    pthread_mutex_unlock(&dm->lock);
    calls_wake(dm->calls);
}

static void post_error_done(batch_t *b, const char *message)
{
    b->answered = true;
    if (encode_error_done(&b->out, message) == ST_OK)
        post(b);
}

/* Whether the batch's client is gone or over its cap: the wait for its
 * uploads ends. Under dm->lock. */
static bool client_out(batch_t *b)
{
    return b->over_cap || atomic_load(&b->gone);
}

/* Waits (up to DAEMON_WAIT_MS) for *list to hold something or the daemon
 * to stop (or, for the uploads, client_out), then takes the list. */
static msg_t *wait_take(batch_t *b, msg_t **list)
{
    daemon_t *dm = b->dm;
    struct timespec until = clock_deadline(CLOCK_MONOTONIC, DAEMON_WAIT_MS); /* b->cond's clock */
    msg_t *m;

    pthread_mutex_lock(&dm->lock);
    while (*list == NULL && !stopping(dm) && !(list == &b->uploads && client_out(b)))
        if (pthread_cond_timedwait(&b->cond, &dm->lock, &until) == ETIMEDOUT)
            break;
    m = *list;
    *list = NULL;
    pthread_mutex_unlock(&dm->lock);
    return m;
}

/* ---- a batch ----------------------------------------------------------------------- */

static void batch_free(batch_t **bp)
{
    batch_t *b = *bp;

    if (b == NULL)
        return;
    project_destroy(&b->project);
    progress_destroy(&b->progress);
    arena_destroy(&b->arena);
    arena_destroy(&b->work);
    msg_free(b->uploads);
    msg_free(b->results);
    buf_free(&b->out);
    pthread_cond_destroy(&b->cond);
    st_free(b->files);
    st_free(b->paths);
    st_free(b->roots);
    st_free(b->args);
    st_free(b->p.submit);
    st_free(b);
    *bp = NULL;
}

static char *copy_text(arena_t *a, proto_str_t s)
{
    if (memchr(s.ptr, '\0', s.len) != NULL)
        return NULL;
    return arena_strndup(a, s.ptr, s.len);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Whether a path is listed twice (a project names each file once); true
 * when out of memory too. */
static bool has_duplicate(const char **paths, size_t n)
{
    const char **sorted = st_calloc(n == 0 ? 1 : n, sizeof *sorted);
    bool dup = sorted == NULL;

    if (sorted != NULL) {
        memcpy(sorted, paths, n * sizeof *sorted);
        qsort(sorted, n, sizeof *sorted, cmp_str);
        for (size_t i = 1; i < n && !dup; i++)
            dup = strcmp(sorted[i - 1], sorted[i]) == 0;
    }
    st_free(sorted);
    return dup;
}

/* Reads the SUBMIT into the batch. False (and an error DONE posted) when
 * it cannot be served. */
static bool batch_load(batch_t *b)
{
    proto_msg_t m;
    proto_file_t f;
    proto_str_t s;
    size_t i = 0;
    const char *why = NULL;

    if (proto_decode_client(b->p.submit, b->p.len, &m, NULL) != ST_OK) {
        post_error_done(b, "internal error: the SUBMIT could not be decoded again");
        return false;
    }
    b->n_files = m.count;
    b->n_roots = m.n_roots;
    b->n_args = m.n_args;
    b->arena = arena_new(0);
    b->work = arena_new(DAEMON_ARENA_CHUNK);
    b->files = st_calloc(m.count == 0 ? 1 : m.count, sizeof *b->files);
    b->paths = st_calloc(m.count == 0 ? 1 : m.count, sizeof *b->paths);
    b->roots = st_calloc(m.n_roots == 0 ? 1 : m.n_roots, sizeof *b->roots);
    b->args = st_calloc(m.n_args == 0 ? 1 : m.n_args, sizeof *b->args);
    if (b->arena == NULL || b->work == NULL || b->files == NULL || b->paths == NULL ||
        b->roots == NULL || b->args == NULL)
        why = "the coordinator is out of memory";
    while (why == NULL && proto_next_file(&m, &f)) {
        bfile_t *bf = &b->files[i];
        if ((bf->path = copy_text(b->arena, f.path)) == NULL)
            why = "a path holds a NUL byte (or out of memory)";
        else if (f.kind == PROTO_KIND_EXTENSION && f.digest != NULL)
            why = "an extension module with content";
        bf->kind = f.kind;
        bf->size = f.size;
        bf->has_digest = f.digest != NULL;
        if (f.digest != NULL)
            memcpy(bf->digest.b, f.digest, sizeof bf->digest.b);
        bf->done = !bf->has_digest;
        b->paths[i++] = bf->path;
    }
    for (size_t k = 0; why == NULL && proto_next_root(&m, &s); k++)
        if ((b->roots[k] = copy_text(b->arena, s)) == NULL)
            why = "a root holds a NUL byte (or out of memory)";
    for (size_t k = 0; why == NULL && proto_next_arg(&m, &s); k++)
        if ((b->args[k] = copy_text(b->arena, s)) == NULL)
            why = "an argument holds a NUL byte (or out of memory)";
    b->so.max_file_bytes =
        m.max_file_bytes == 0 || m.max_file_bytes > PROTO_MAX_INPUT ? 0 : m.max_file_bytes;
    if (b->so.max_file_bytes == 0)
        b->so.max_file_bytes = SCAN_DEFAULT_MAX_FILE_BYTES;
    if (why == NULL && has_duplicate(b->paths, b->n_files))
        why = "a path given twice (or out of memory)";
    if (why == NULL && jobkey_scan_config(&b->so, &b->config) != ST_OK)
        why = "internal error: cannot digest the scan options";
    if (why == NULL && (b->project = project_new(b->paths, b->n_files)) == NULL)
        why = "the coordinator is out of memory";
    if (why != NULL) {
        post_error_done(b, why);
        return false;
    }
    return true;
}

static int cmp_digest_idx(const void *pa, const void *pb, void *ctx)
{
    const bfile_t *files = ctx;
    return memcmp(files[*(const size_t *)pa].digest.b, files[*(const size_t *)pb].digest.b, 32);
}

/* Posts NEED: one file per distinct digest that is not in CAS_BLOBS. */
static bool batch_need(batch_t *b)
{
    cas_t *cache = b->dm->cache;
    size_t *order = st_calloc(b->n_files == 0 ? 1 : b->n_files, sizeof *order);
    uint32_t *need = st_calloc(b->n_files == 0 ? 1 : b->n_files, sizeof *need);
    size_t n = 0, n_need = 0;
    bool ok = order != NULL && need != NULL;

    for (size_t i = 0; ok && i < b->n_files; i++)
        if (b->files[i].has_digest)
            order[n++] = i;
    if (ok)
        qsort_r(order, n, sizeof *order, cmp_digest_idx, b->files);
    for (size_t k = 0; ok && k < n; k++) {
        bfile_t *f = &b->files[order[k]];
        span_t v;
        if (k > 0 && memcmp(b->files[order[k - 1]].digest.b, f->digest.b, 32) == 0)
            continue;
        arena_reset(b->work);
        if (cache != NULL && cas_get(cache, CAS_BLOBS, &f->digest, b->work, &v, NULL) == ST_OK)
            continue;
        f->needed = true;
        need[n_need++] = (uint32_t)order[k];
    }
    if (ok) {
        buf_reset(&b->out);
        ok = proto_encode_need(&b->out, need, n_need) == ST_OK;
    }
    if (ok) {
        /* before the NEED goes: the first UPLOAD may come at once */
        pthread_mutex_lock(&b->dm->lock);
        b->accepting = n_need > 0;
        pthread_mutex_unlock(&b->dm->lock);
        post(b);
    }
    b->n_needed = n_need;
    st_free(order);
    st_free(need);
    if (!ok)
        post_error_done(b, "the coordinator is out of memory");
    return ok;
}

/* Whether zdata decompresses to exactly size bytes whose SHA-256 is
 * want, found through a small window: a frame that claims megabytes costs
 * no memory before its content is proven to be the file's. */
static bool blob_matches(span_t zdata, uint64_t size, const digest_t *want)
{
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    digest_ctx_t *dc = digest_ctx_new();
    uint8_t window[64 * 1024];
    ZSTD_inBuffer in = {.src = zdata.ptr, .size = zdata.len, .pos = 0};
    uint64_t total = 0;
    size_t left = 1;
    digest_t dg;
    bool ok = dctx != NULL && dc != NULL;

    while (ok && left != 0) {
        ZSTD_outBuffer out = {.dst = window, .size = sizeof window, .pos = 0};
        left = ZSTD_decompressStream(dctx, &out, &in);
        if (ZSTD_isError(left) || (total += out.pos) > size ||
            digest_ctx_update(dc, window, out.pos) != ST_OK)
            ok = false;
        else if (left != 0 && out.pos == 0 && in.pos == in.size)
            ok = false; /* the frame ends before its content */
    }
    ok = ok && in.pos == in.size && total == size && digest_ctx_final(dc, &dg) == ST_OK &&
         memcmp(dg.b, want->b, sizeof dg.b) == 0;
    ZSTD_freeDCtx(dctx);
    digest_ctx_destroy(&dc);
    return ok;
}

/* Verifies one blob, decompresses it and stores it. */
static const char *store_blob(batch_t *b, const proto_blob_t *blob)
{
    cas_t *cache = b->dm->cache;
    bfile_t *f;
    uint8_t *raw;
    size_t got;
    digest_t dg;
    unsigned long long fsize;

    if (blob->index >= b->n_files || !(f = &b->files[blob->index])->needed)
        return "a blob that was not asked for";
    if (blob->raw_size != f->size || blob->raw_size > b->so.max_file_bytes)
        return "a blob whose size is not the one submitted";
    fsize = ZSTD_getFrameContentSize(blob->zdata.ptr, blob->zdata.len);
    if (fsize == ZSTD_CONTENTSIZE_ERROR ||
        (fsize != ZSTD_CONTENTSIZE_UNKNOWN && fsize != blob->raw_size))
        return "a blob that is not a zstd frame of its size";
    if (!blob_matches(blob->zdata, blob->raw_size, &f->digest))
        return "a blob whose content does not match its digest";
    if ((raw = st_malloc(blob->raw_size == 0 ? 1 : (size_t)blob->raw_size)) == NULL)
        return "out of memory";
    got = ZSTD_decompress(raw, (size_t)blob->raw_size, blob->zdata.ptr, blob->zdata.len);
    if (ZSTD_isError(got) || got != blob->raw_size || digest_sha256(raw, got, &dg) != ST_OK ||
        memcmp(dg.b, f->digest.b, 32) != 0) {
        st_free(raw);
        return "a blob whose content does not match its digest";
    }
    if (cache == NULL || cas_put(cache, CAS_BLOBS, &dg, raw, got, false, NULL) != ST_OK) {
        st_free(raw);
        return "the coordinator cannot store a blob";
    }
    st_free(raw);
    f->needed = false;
    b->n_needed--;
    b->uploaded++;
    return NULL;
}

/* One UPLOAD from the inbox (decoded again: the main thread only looked
 * at its type). */
static void on_upload(batch_t *b, zmq_msg_t *zm)
{
    proto_msg_t m;
    proto_blob_t blob;
    const char *why = NULL;

    if (b->rc != ST_OK || b->n_needed == 0)
        return; /* not waiting for blobs: dropped */
    if (proto_decode_client(zmq_msg_data(zm), zmq_msg_size(zm), &m, NULL) != ST_OK ||
        m.type != PROTO_UPLOAD)
        return;
    size_t before = b->uploaded;
    while (why == NULL && proto_next_blob(&m, &blob))
        why = store_blob(b, &blob);
    if (b->uploaded > before) /* only progress keeps a batch waiting for uploads */
        b->last_upload = clock_ms();
    if (why != NULL) {
        fprintf(b->dm->log, "strata coordinator: %s: upload dropped: %s\n", b->p.name, why);
        b->rc = st_fail(&b->err, ST_ECORRUPT, "upload refused: %s", why);
    }
}

/* Takes the uploads until every needed blob is in; false when the client
 * fell silent or is gone (the batch is dropped), an upload was refused
 * (b->rc, also when over the client's cap) or the daemon stops. */
static bool batch_uploads(batch_t *b)
{
    daemon_t *dm = b->dm;
    bool ok = true, over;

    b->last_upload = clock_ms();
    while (b->n_needed > 0 && b->rc == ST_OK && !stopping(dm)) {
        msg_t *m = wait_take(b, &b->uploads);
        size_t taken = 0;
        for (msg_t *k = m; k != NULL; k = k->next) {
            on_upload(b, k->zm);
            taken += k->len;
        }
        msg_free(m);
        pthread_mutex_lock(&dm->lock);
        b->inbox_bytes -= taken;
        over = b->over_cap;
        pthread_mutex_unlock(&dm->lock);
        if (over) {
            char message[200];
            snprintf(message, sizeof message,
                     "the uploads came faster than the coordinator stores them, over this "
                     "client's limit of %llu bytes waiting (--max-client-bytes)",
                     (unsigned long long)dm->client_bytes);
            b->rc = st_fail(&b->err, ST_ELIMIT, "%s", message);
            break;
        }
        if (atomic_load(&b->gone)) {
            fprintf(dm->log, "strata coordinator: %s: client gone or not reading; batch dropped\n",
                    b->p.name);
            b->answered = true; /* nobody to answer */
            ok = false;
            break;
        }
        if (m == NULL && clock_ms() - b->last_upload > DAEMON_UPLOAD_IDLE_MS) {
            fprintf(dm->log, "strata coordinator: %s: no upload for %d s; batch dropped\n",
                    b->p.name, DAEMON_UPLOAD_IDLE_MS / 1000);
            b->answered = true; /* nobody to answer */
            ok = false;
            break;
        }
    }
    pthread_mutex_lock(&dm->lock);
    b->accepting = false;
    pthread_mutex_unlock(&dm->lock);
    return ok && b->rc == ST_OK && !stopping(dm);
}

/* ---- scans (batch thread) ------------------------------------------------------------ */

/* A scan result for file i: decoded, to the project and the cache. */
static void deliver(batch_t *b, size_t i, span_t result, bool cached)
{
    bfile_t *f = &b->files[i];
    exec_done_t done = {.id = i, .path = f->path, .result = result, .cached = cached};
    scan_diag_t *diags;
    st_err_t err = {0};
    char message[ST_ERR_MSG_MAX + 64];
    scan_diag_t e902 = {.line = 1, .col = 1, .code = "E902", .message = message};

    if (scan_result_diags(result, b->work, &diags, &done.n_diags, &err) != ST_OK) {
        snprintf(message, sizeof message, "internal error: a worker's scan result: %s", err.msg);
        done = (exec_done_t){.id = i, .path = f->path, .diags = &e902, .n_diags = 1};
        b->failed++;
        project_scan_failed(b->project);
    } else {
        done.diags = diags;
        if (f->keyed) {
            done.has_key = true;
            done.key = f->key;
            if (!cached && b->dm->cache != NULL)
                cas_put(b->dm->cache, CAS_RESULTS, &f->key, result.ptr, result.len, false, NULL);
        }
    }
    if (project_add_scan(b->project, &done, &err) != ST_OK && b->rc == ST_OK) {
        b->rc = err.code;
        b->err = err;
    }
}

static void deliver_e902(batch_t *b, size_t i, const char *message)
{
    scan_diag_t d = {.line = 1, .col = 1, .code = "E902", .message = message};
    exec_done_t done = {.id = i, .path = b->files[i].path, .diags = &d, .n_diags = 1};
    st_err_t err = {0};

    b->failed++;
    project_scan_failed(b->project);
    if (project_add_scan(b->project, &done, &err) != ST_OK && b->rc == ST_OK) {
        b->rc = err.code;
        b->err = err;
    }
}

static void finish_file(batch_t *b, size_t i)
{
    b->files[i].done = true;
    b->finished++;
}

/* A scan call ended (main thread, in calls_pump or calls_shutdown): its
 * result, copied, to the batch's inbox. The msg_t was made with the call
 * (its tag), so only the copy can fail. */
static void on_scan(void *ctx, uint64_t tag, calls_status_t status, span_t result)
{
    batch_t *b = ctx;
    daemon_t *dm = b->dm;
    msg_t *m = (msg_t *)(uintptr_t)tag;
    static const char nomem[] = "out of memory for a scan result";

    m->status = status;
    if ((m->data = st_malloc(result.len == 0 ? 1 : result.len)) == NULL) {
        m->status = status == CALLS_OK ? CALLS_FAILED : status;
        m->data = st_malloc(sizeof nomem);
        result = (span_t){.ptr = (const uint8_t *)nomem, .len = sizeof nomem - 1};
    }
    if (m->data != NULL) {
        if (result.len > 0)
            memcpy(m->data, result.ptr, result.len);
        m->len = result.len;
    }
    pthread_mutex_lock(&dm->lock);
    m->next = b->results;
    b->results = m;
    b->inflight--;
    pthread_cond_signal(&b->cond);
    pthread_mutex_unlock(&dm->lock);
}

/* The job input of file i into out (its blob from the cache); false when
 * the file is finished already (its E902 delivered). */
static bool job_input(batch_t *b, size_t i, buf_t *out)
{
    bfile_t *f = &b->files[i];
    cas_t *cache = b->dm->cache;
    span_t v;
    st_err_t err = {0};

    arena_reset(b->work);
    buf_reset(out);
    if (cache == NULL || cas_get(cache, CAS_BLOBS, &f->digest, b->work, &v, &err) != ST_OK) {
        finish_file(b, i);
        deliver_e902(b, i,
                     "internal error, file not checked: its content is not in the "
                     "coordinator's cache");
        return false;
    }
    if (jobs_scan_input(out, (scan_kind_t)f->kind, &b->so, v.ptr, v.len, &err) != ST_OK) {
        char message[ST_ERR_MSG_MAX + 64];
        snprintf(message, sizeof message, "internal error, file not checked: %s", err.msg);
        finish_file(b, i);
        deliver_e902(b, i, message);
        return false;
    }
    return true;
}

/* Scans file i in this process (no worker for it). */
static void scan_here(batch_t *b, size_t i, scanner_t **scanner, arena_t **out, buf_t *in)
{
    span_t result;
    st_err_t err = {0};

    if (!job_input(b, i, in))
        return;
    finish_file(b, i);
    if (*scanner == NULL)
        *scanner = scanner_new();
    if (*out == NULL)
        *out = arena_new(DAEMON_ARENA_CHUNK);
    if (*scanner == NULL || *out == NULL) {
        deliver_e902(b, i, "internal error, file not checked: out of memory for a scanner");
        return;
    }
    arena_reset(*out);
    if (jobs_run(*scanner, JOBS_SCAN, (span_t){.ptr = in->data, .len = in->len}, *out, &result,
                 &err) != ST_OK) {
        char message[ST_ERR_MSG_MAX + 64];
        snprintf(message, sizeof message, "internal error, file not checked: %s", err.msg);
        deliver_e902(b, i, message);
        return;
    }
    b->scanned++;
    arena_reset(b->work);
    deliver(b, i, result, false);
}

/* A scan call's end, taken from the inbox. */
static void on_result(batch_t *b, const msg_t *m, scanner_t **scanner, arena_t **out, buf_t *in)
{
    size_t i = m->index;
    char message[512];

    if (b->files[i].done)
        return;
    switch (m->status) {
    case CALLS_OK:
        finish_file(b, i);
        b->scanned++;
        arena_reset(b->work);
        deliver(b, i, (span_t){.ptr = m->data, .len = m->len}, false);
        break;
    case CALLS_RUN_HERE:
        scan_here(b, i, scanner, out, in);
        break;
    case CALLS_STOPPED:
        break; /* the daemon stops: the batch ends unfinished */
    default:
        finish_file(b, i);
        snprintf(message, sizeof message, "internal error, file not checked: %.*s",
                 (int)(m->len < 400 ? m->len : 400), m->data != NULL ? (const char *)m->data : "");
        deliver_e902(b, i, message);
        break;
    }
}

/* Sends file i's scan job; false (its E902 delivered, or the daemon
 * stopping) when it could not be. */
static void submit_scan(batch_t *b, size_t i, buf_t *in)
{
    daemon_t *dm = b->dm;
    msg_t *m = st_calloc(1, sizeof *m);
    st_err_t err = {0};

    if (!job_input(b, i, in)) {
        st_free(m);
        return;
    }
    if (m == NULL) {
        finish_file(b, i);
        deliver_e902(b, i, "internal error, file not checked: out of memory");
        return;
    }
    m->index = i;
    pthread_mutex_lock(&dm->lock);
    b->inflight++;
    pthread_mutex_unlock(&dm->lock);
    if (calls_submit(dm->calls, JOBS_SCAN, (span_t){.ptr = in->data, .len = in->len}, on_scan, b,
                     (uint64_t)(uintptr_t)m, &err) != ST_OK) {
        pthread_mutex_lock(&dm->lock);
        b->inflight--;
        pthread_mutex_unlock(&dm->lock);
        st_free(m);
        if (stopping(dm))
            return;
        char message[ST_ERR_MSG_MAX + 64];
        snprintf(message, sizeof message, "internal error, file not checked: %s", err.msg);
        finish_file(b, i);
        deliver_e902(b, i, message);
    }
}

static size_t inflight(batch_t *b)
{
    size_t n;

    pthread_mutex_lock(&b->dm->lock);
    n = b->inflight;
    pthread_mutex_unlock(&b->dm->lock);
    return n;
}

/* Scan keys (before NEED: the whole run may be known by them). Files
 * without content get no scan: the client reports why. */
static void batch_keys(batch_t *b)
{
    for (size_t i = 0; i < b->n_files; i++) {
        bfile_t *f = &b->files[i];
        jobkey_scan_t kin = {.version = JOBKEY_ANALYZER_VERSION,
                             .config = b->config,
                             .kind = (scan_kind_t)f->kind,
                             .content = f->digest};
        if (f->kind == PROTO_KIND_EXTENSION || !f->has_digest)
            continue;
        f->keyed = jobkey_scan(&kin, &f->key, NULL) == ST_OK;
    }
}

/* Cache lookups, then the misses on the workers (or here, for those the
 * calls give back). */
static void batch_scan(batch_t *b)
{
    daemon_t *dm = b->dm;
    size_t *misses = st_calloc(b->n_files == 0 ? 1 : b->n_files, sizeof *misses);
    size_t n_misses = 0, next = 0;
    scanner_t *scanner = NULL;
    arena_t *out = NULL;
    buf_t in;

    if (misses == NULL) {
        b->rc = st_fail(&b->err, ST_ENOMEM, "out of memory");
        return;
    }
    for (size_t i = 0; i < b->n_files; i++) {
        bfile_t *f = &b->files[i];
        span_t v;
        if (f->kind == PROTO_KIND_EXTENSION)
            continue;
        if (!f->has_digest) {
            exec_done_t done = {.id = i, .path = f->path};
            st_err_t err = {0};
            if (project_add_scan(b->project, &done, &err) != ST_OK && b->rc == ST_OK) {
                b->rc = err.code;
                b->err = err;
            }
            continue;
        }
        arena_reset(b->work);
        if (f->keyed && dm->cache != NULL &&
            cas_get(dm->cache, CAS_RESULTS, &f->key, b->work, &v, NULL) == ST_OK) {
            scan_diag_t *diags;
            size_t n;
            if (scan_result_diags(v, b->work, &diags, &n, NULL) == ST_OK) {
                finish_file(b, i);
                b->cached++;
                deliver(b, i, v, true);
                continue;
            }
        }
        misses[n_misses++] = i;
    }
    size_t goal = b->finished + n_misses; /* every file with content finished */
    buf_init(&in);
    while (b->finished < goal && b->rc == ST_OK && !stopping(dm)) {
        while (next < n_misses && inflight(b) < DAEMON_WINDOW && !stopping(dm))
            submit_scan(b, misses[next++], &in);
        if (b->finished >= goal)
            break;
        msg_t *m = wait_take(b, &b->results);
        for (msg_t *k = m; k != NULL; k = k->next)
            on_result(b, k, &scanner, &out, &in);
        msg_free(m);
    }
    buf_free(&in);
    arena_destroy(&out);
    scanner_destroy(&scanner);
    st_free(misses);
}

/* ---- the check stage (batch thread) -------------------------------------------------- */

typedef struct {
    calls_t *calls;
    calls_tally_t tally; /* check jobs that ran on workers, here */
} check_ctx_t;

/* project_opts_t.run_check: through the calls, counted for the batch's log
 * line; given back, here, at most --jobs at once over all batches. */
static st_rc_t run_check(void *ctx, span_t input, arena_t *a, span_t *out, st_err_t *err)
{
    check_ctx_t *c = ctx;

    return calls_check(c->calls, &c->tally, input, a, out, err);
}

/* Paths sorted, for finding a report path's index. */
typedef struct {
    const char *path;
    uint32_t index;
} pidx_t;

static int cmp_pidx(const void *a, const void *b)
{
    return strcmp(((const pidx_t *)a)->path, ((const pidx_t *)b)->path);
}

typedef struct {
    proto_batch_t batch;
    const pidx_t *idx;
    size_t n;
    arena_t *a;
} done_ctx_t;

static st_rc_t add_file_to_done(void *ctx, const char *path, const scan_diag_t *diags, size_t n,
                                st_err_t *err)
{
    done_ctx_t *dc = ctx;
    pidx_t key = {.path = path};
    const pidx_t *hit = bsearch(&key, dc->idx, dc->n, sizeof *dc->idx, cmp_pidx);
    proto_diag_t *pd;
    st_rc_t rc;

    if (hit == NULL)
        return st_fail(err, ST_EINTERNAL, "a diagnostic for a file not submitted: %s", path);
    arena_reset(dc->a);
    if ((pd = arena_calloc(dc->a, n == 0 ? 1 : n, sizeof *pd)) == NULL)
        return st_fail(err, ST_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        size_t cl = strlen(diags[i].code), ml = strlen(diags[i].message);
        pd[i] = (proto_diag_t){
            .line = diags[i].line,
            .col = diags[i].col,
            .code = {diags[i].code, (uint32_t)(cl > PROTO_MAX_CODE ? PROTO_MAX_CODE : cl)},
            .message = {diags[i].message, (uint32_t)(ml > PROTO_MAX_TEXT ? PROTO_MAX_TEXT : ml)}};
    }
    if ((rc = proto_done_file(&dc->batch, hit->index, pd, n)) != ST_OK)
        return st_fail(err, rc, "the results are too large for one message");
    return ST_OK;
}

static void on_check_cache_error(void *ctx, const st_err_t *err)
{
    (void)ctx;
    fprintf(stderr, "strata coordinator: warning: cache: %s\n", err->msg);
}

/* The project's options for this batch (run_check through c). */
static project_opts_t batch_popts(batch_t *b, check_ctx_t *c)
{
    return (project_opts_t){.roots = b->roots,
                            .n_roots = b->n_roots,
                            .args = b->args,
                            .n_args = b->n_args,
                            /* a thread mostly waits for its job's round
                               trip: several per core */
                            .jobs = b->dm->jobs * 4,
                            .cache = b->dm->cache,
                            .on_cache_error = on_check_cache_error,
                            .run_check = run_check,
                            .run_check_ctx = c,
                            .progress = b->progress,
                            .cancel = &b->dm->stopping};
}

/* The report as a DONE, posted. */
static void post_done(batch_t *b, report_t *report, const proto_stats_t *st)
{
    pidx_t *idx = st_calloc(b->n_files == 0 ? 1 : b->n_files, sizeof *idx);
    done_ctx_t dc = {.a = arena_new(0)};
    st_err_t err = {0};
    st_rc_t rc;

    if (idx == NULL || dc.a == NULL) {
        post_error_done(b, "the coordinator is out of memory");
    } else {
        for (size_t i = 0; i < b->n_files; i++)
            idx[i] = (pidx_t){.path = b->files[i].path, .index = (uint32_t)i};
        qsort(idx, b->n_files, sizeof *idx, cmp_pidx);
        dc.idx = idx;
        dc.n = b->n_files;
        buf_reset(&b->out);
        rc = proto_done_begin(&dc.batch, &b->out, PROTO_DONE_OK, "", st);
        if (rc == ST_OK)
            rc = report_each(report, add_file_to_done, &dc, &err);
        if (rc != ST_OK) {
            post_error_done(b, err.msg[0] != '\0' ? err.msg : "out of memory");
        } else {
            proto_batch_end(&dc.batch);
            b->answered = true;
            post(b);
        }
    }
    arena_destroy(&dc.a);
    st_free(idx);
}

/* The whole run's diagnostics, looked up under a digest of every file's
 * scan key with the roots and arguments (project_keyed), which also has
 * project_check store them under it after a run. True on a hit: no scan
 * result and no check job is needed. */
static bool batch_whole(batch_t *b, const project_opts_t *popts)
{
    exec_keyed_t *keyed;
    size_t n = 0, n_keyed = 0;
    bool hit;

    if (b->dm->cache == NULL ||
        (keyed = st_calloc(b->n_files == 0 ? 1 : b->n_files, sizeof *keyed)) == NULL)
        return false;
    for (size_t i = 0; i < b->n_files; i++) {
        const bfile_t *f = &b->files[i];
        if (f->kind == PROTO_KIND_EXTENSION)
            continue; /* no scan: not part of the key */
        keyed[n++] = (exec_keyed_t){.id = i, .ok = f->keyed, .key = f->key};
        n_keyed += f->keyed;
    }
    hit = project_keyed(b->project, popts, keyed, n);
    st_free(keyed);
    if (hit)
        atomic_store(&b->cached, n_keyed); /* as if every scan were a cache hit */
    return hit;
}

/* Runs the project stage and posts DONE. */
static void batch_check(batch_t *b, const project_opts_t *popts, check_ctx_t *c)
{
    static const report_rules_t all = {0};
    project_stats_t ps = {0};
    report_t *report;
    proto_stats_t st;
    st_err_t err = {0};

    if ((report = report_new(&all)) == NULL) {
        post_error_done(b, "the coordinator is out of memory");
        return;
    }
    if (project_check(b->project, popts, report, &ps, &err) != ST_OK) {
        char message[ST_ERR_MSG_MAX + 32];
        snprintf(message, sizeof message, "check: %s", err.msg);
        if (!stopping(b->dm))
            post_error_done(b, message);
        report_destroy(&report);
        return;
    }
    if (stopping(b->dm)) { /* its check jobs were refused: not the results */
        report_destroy(&report);
        return;
    }
    st = (proto_stats_t){.files = b->n_files,
                         .uploaded = b->uploaded,
                         .scanned = atomic_load(&b->scanned),
                         .cached = atomic_load(&b->cached),
                         .checked = ps.checked,
                         .failed = b->failed + ps.failed};
    post_done(b, report, &st);
    fprintf(b->dm->log,
            "strata coordinator: batch from %s: %zu files, %zu uploaded, %zu scanned, %zu "
            "cached, %zu checks (%zu cached, %zu on workers, %zu here)%s, %llu ms\n",
            b->p.name, b->n_files, b->uploaded, atomic_load(&b->scanned), atomic_load(&b->cached),
            ps.checked, ps.cached, atomic_load(&c->tally.on_workers), atomic_load(&c->tally.here),
            ps.whole ? ", whole run from the cache" : "",
            (unsigned long long)(clock_ms() - b->started));
    fflush(b->dm->log);
    report_destroy(&report);
}

/* Waits for a run slot, given to the batches in the order they started;
 * false when the daemon stops first. */
static bool run_slot_take(batch_t *b)
{
    daemon_t *dm = b->dm;
    bool first;

    pthread_mutex_lock(&dm->lock);
    b->wants_run = true;
    for (;;) {
        first = true;
        for (size_t i = 0; i < dm->n_active && first; i++)
            first = !(dm->active[i]->wants_run && dm->active[i]->seq < b->seq);
        if ((first && dm->running < DAEMON_MAX_RUNNING) || stopping(dm))
            break;
        struct timespec until = clock_deadline(CLOCK_MONOTONIC, DAEMON_WAIT_MS);
        pthread_cond_timedwait(&dm->runs, &dm->lock, &until);
    }
    b->wants_run = false;
    b->running = !stopping(dm);
    dm->running += b->running;
    pthread_cond_broadcast(&dm->runs); /* the next in line looks again */
    pthread_mutex_unlock(&dm->lock);
    return b->running;
}

static void run_slot_give(batch_t *b)
{
    daemon_t *dm = b->dm;

    pthread_mutex_lock(&dm->lock);
    if (b->running) {
        b->running = false;
        dm->running--;
    }
    b->wants_run = false;
    pthread_cond_broadcast(&dm->runs);
    pthread_mutex_unlock(&dm->lock);
}

/* A batch from SUBMIT to DONE, on its thread. */
static void *batch_main(void *arg)
{
    batch_t *b = arg;
    daemon_t *dm = b->dm;
    check_ctx_t c = {.calls = dm->calls};
    project_opts_t popts;

    atomic_init(&c.tally.on_workers, 0);
    atomic_init(&c.tally.here, 0);
    if (!batch_load(b))
        goto out;
    popts = batch_popts(b, &c);
    batch_keys(b);
    /* known whole: the blobs are still asked for when missing (a client
       proves it has the content it names), then nothing runs */
    b->whole = batch_whole(b, &popts);
    if (!batch_need(b) || !batch_uploads(b) || !run_slot_take(b))
        goto out;
    if (!b->whole)
        batch_scan(b);
    if (b->rc == ST_OK && !stopping(dm))
        batch_check(b, &popts, &c);
out:
    run_slot_give(b);
    if (!b->answered && b->rc != ST_OK && !stopping(dm))
        post_error_done(b, b->err.msg);
    if (!b->answered && stopping(dm))
        post_error_done(b, "the coordinator is stopping; submit again");
    /* its scan calls end (each does, at the latest on calls_shutdown)
       before the batch may be freed */
    pthread_mutex_lock(&dm->lock);
    while (b->inflight > 0)
        pthread_cond_wait(&b->cond, &dm->lock);
    pthread_mutex_unlock(&dm->lock);
    atomic_store(&b->over, true);
    calls_wake(dm->calls); /* the main thread joins it */
    return NULL;
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
        atomic_init(&b->scanned, 0);
        atomic_init(&b->cached, 0);
        atomic_init(&b->gone, false);
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
    }
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
    atomic_init(&dm.stopping, false);
    if (pthread_mutex_init(&dm.lock, NULL) != 0)
        return st_fail(err, ST_ENOMEM, "out of memory for a mutex");
    {
        pthread_condattr_t ca;
        bool ok = pthread_condattr_init(&ca) == 0;
        ok = ok && pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
             pthread_cond_init(&dm.runs, &ca) == 0;
        pthread_condattr_destroy(&ca);
        if (!ok) {
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
    dopts.depth = 16;
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
    fflush(dm.log);
    while (!atomic_load(&stop_flag)) {
        reap(&dm, false);
        while (dm.n_queue > 0 && dm.n_active < DAEMON_MAX_ACTIVE)
            start_next(&dm);
        service(&dm, 20);
    }
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
    msg_free(dm.outbox);
    ratelog_destroy(&dm.rl);
    pthread_cond_destroy(&dm.runs);
    pthread_mutex_destroy(&dm.lock);
    return rc;
}
