/* dispatch.h - the coordinator's side of the worker protocol: jobs out,
 * results in, over one ZeroMQ ROUTER socket.
 *
 * A caller submits jobs (an id of its own, a kind from worker/jobs.h, the
 * input bytes) and drives the dispatcher with dispatch_poll, which hands
 * back each finished job through a callback. In between, the dispatcher
 * keeps a registry of the workers that said HELLO (refusing those of another
 * analyzer or protocol version), sends each at most slots * depth jobs and
 * PROTO_WORKER_INPUT_BYTES of input (but always one job) at a
 * time in batches (credit-based flow control: enough in flight to keep every
 * slot busy, no more, so that a new worker or a dead one changes the balance
 * at once), exchanges heartbeats, and survives losing workers: a worker that
 * stops heartbeating or whose connection is gone is dropped, its jobs go
 * back to the queue, and a late result from it is ignored. A job lost with
 * its worker is retried, alone on an idle worker (so that a job that kills
 * its worker takes no other job down with it), at most max_retries times;
 * then it finishes with DISPATCH_LOST and the run goes on.
 *
 * A worker can also keep heartbeating while one of its threads hangs on a
 * job. So a job in flight has a deadline (job_timeout_ms from when it was
 * sent): past it, the attempt counts as lost like one lost with its
 * worker, the job is retried alone, preferably on another worker, and a
 * result that comes later from the first attempt is ignored. The stuck
 * thread still occupies its slot, so the worker is given that many slots
 * fewer (depth jobs each) until the late result comes, or the worker is
 * dropped; a worker whose slots are all stuck gets nothing. (The worker
 * ends itself when a job runs far past the deadline, see wproc.h, so that
 * a restarted one takes over.) Each attempt goes out under a new wire id,
 * so a late result is never mistaken for the answer to a later attempt of
 * the same job.
 *
 * Single-threaded by design: there is no hidden thread, everything happens
 * inside dispatch_submit and dispatch_poll on the caller's thread (ZeroMQ's
 * own I/O threads apart), so the caller decides when the coordinator works
 * and can interleave it with its own scheduling. A dispatcher is used by one
 * thread at a time. Heartbeats go out only inside dispatch_poll: while
 * workers are attached, call it at least every heartbeat_ms (a caller busy
 * for longer than the workers' timeout makes them reconnect, and their
 * jobs in flight are run again). */
#ifndef STRATA_DISPATCH_H
#define STRATA_DISPATCH_H

#include "common/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct dispatch dispatch_t;

#define DISPATCH_JOB_TIMEOUT_MS 120000u

typedef struct {
    const char *bind;      /* "ipc:///path" or "tcp://host:port" (port 0 or *: any) */
    const char *version;   /* the analyzer version workers must report;
                              NULL: JOBS_ANALYZER_VERSION */
    unsigned heartbeat_ms; /* a message to each worker at least this often; 0: PROTO_HEARTBEAT_MS */
    unsigned timeout_ms;   /* a worker silent this long is dropped; 0: PROTO_TIMEOUT_MS */
    unsigned depth;        /* jobs in flight per slot; 0: 2 */
    unsigned batch_max;    /* jobs per message at most; 0: 64 (<= PROTO_MAX_JOBS) */
    size_t batch_bytes;    /* input bytes per message, once it has a job; 0: 4 MiB */
    unsigned max_retries;  /* retries of a job lost with its worker or timed out; 0: 3 */
    /* A job in flight this long (ms, from when it was sent) without a
     * result is lost: retried, or given up after max_retries. Generous:
     * it covers the job's wait in the worker's queue (depth jobs per slot)
     * and the largest file's scan. 0: DISPATCH_JOB_TIMEOUT_MS. */
    unsigned job_timeout_ms;
    unsigned max_workers; /* registered at once; 0: 1024 (more are refused) */
    /* CurveZMQ: this coordinator's secret key (Z85, 40 characters) and the
     * public keys (Z85) of the peers it accepts; a peer with another key is
     * refused during the handshake, and logged with its key. NULL: no
     * encryption and no authentication, which is allowed only on ipc://
     * and loopback tcp:// unless insecure is set. */
    const char *curve_secret;
    const char *const *allow;
    size_t n_allow;
    bool insecure; /* bind any tcp:// address without keys */
    /* Where clients submit (the daemon's endpoint for them): a client that
     * sends a SUBMIT here is answered with an error naming it. NULL: the
     * answer names none. */
    const char *clients_at;
} dispatch_opts_t;

typedef enum {
    DISPATCH_OK = 0,    /* the job ran: the result is its result document */
    DISPATCH_ERROR = 1, /* the job ran and failed (a malformed input, out of
                           memory): the result is the worker's error text */
    DISPATCH_LOST = 2   /* internal error: the job was lost with its worker, or
                           timed out, more than max_retries times (it may kill
                           or hang workers); the result is a message saying
                           which ("timed out" when the last attempt did) */
} dispatch_status_t;

/* A finished job. result is borrowed for the call only. Called from
 * dispatch_poll, on its thread; it must not call dispatch_poll or
 * dispatch_destroy (dispatch_submit is fine). */
typedef void (*dispatch_done_fn)(void *ctx, uint64_t id, dispatch_status_t status, span_t result);

typedef struct {
    size_t workers;        /* registered now */
    size_t slots;          /* their slots, in all */
    size_t queued;         /* submitted, not sent yet (retries included) */
    size_t in_flight;      /* sent, no result yet */
    uint64_t completed;    /* finished DISPATCH_OK */
    uint64_t errors;       /* finished DISPATCH_ERROR */
    uint64_t lost;         /* finished DISPATCH_LOST */
    uint64_t cancelled;    /* taken back from the queue (dispatch_cancel) */
    uint64_t retries;      /* jobs requeued after their worker was lost or a timeout */
    uint64_t timeouts;     /* attempts past job_timeout_ms */
    size_t stuck;          /* slots held now by timed-out jobs without a result */
    uint64_t joined;       /* workers registered since the start */
    uint64_t dropped;      /* workers dropped: silent, unreachable, or BYE */
    uint64_t refused;      /* HELLOs refused (version, or too many workers) */
    uint64_t late;         /* results ignored: not in flight on their sender (a
                              timed-out attempt's among them) */
    uint64_t malformed;    /* messages dropped as corrupt */
    uint64_t unauthorized; /* handshakes refused: key not allowed */
    uint64_t batches;      /* JOBS messages sent */
    uint64_t dispatched;   /* job attempts sent (retries included) */
    uint64_t bytes_out;    /* bytes of the JOBS messages sent */
    uint64_t bytes_in;     /* bytes of the messages received from workers */
} dispatch_stats_t;

/* One registered worker, for the metrics: its name (its HELLO's id, host
 * and process; cut at DISPATCH_WORKER_NAME - 1 bytes), its slots, and how
 * many of them are busy (jobs in flight on it, at most its slots). */
#define DISPATCH_WORKER_NAME 128
typedef struct {
    char name[DISPATCH_WORKER_NAME];
    uint32_t slots;
    uint32_t busy;
} dispatch_worker_t;

/* A dispatcher bound to opts->bind. NULL with err set (ST_EINVAL for a bad
 * option, a bad key, or a non-local tcp:// address without keys nor
 * insecure; ST_EIO when ZeroMQ cannot bind, with its reason; ST_ENOMEM).
 * Caller owns it (dispatch_destroy). */
dispatch_t *dispatch_new(const dispatch_opts_t *opts, st_err_t *err);

/* Says BYE to every worker (so that they reconnect at once to a successor),
 * closes the socket, frees every job still queued or in flight (their
 * callbacks are not called), sets *self_p to NULL; accepts NULL. */
void dispatch_destroy(dispatch_t **self_p);

/* The endpoint bound (with the port chosen when it was 0 or *); borrowed,
 * valid as long as the dispatcher. */
const char *dispatch_endpoint(const dispatch_t *self);

/* Queues a job; the input is copied. ST_EEXIST when a job with this id is
 * queued or in flight; ST_ELIMIT when input.len > PROTO_MAX_INPUT or kind >
 * PROTO_MAX_KIND (run it in-process instead); ST_ENOMEM. Nothing is sent
 * before the next dispatch_poll. */
st_rc_t dispatch_submit(dispatch_t *self, uint64_t id, uint32_t kind, span_t input, st_err_t *err);

/* Works for at most timeout_ms (0: only what is ready now; < 0: until
 * something finishes): receives and handles messages, sends heartbeats and
 * batches, drops silent workers, and calls done for each job that finished.
 * Returns as soon as at least one job finished, or when the time is up.
 * ST_OK, or ST_EIO when the socket fails (err says why). */
st_rc_t dispatch_poll(dispatch_t *self, int timeout_ms, dispatch_done_fn done, void *ctx,
                      st_err_t *err);

/* A file descriptor (an eventfd) that dispatch_poll also watches: when it
 * becomes readable, dispatch_poll drains it and returns, so that another
 * thread can wake the one that drives the dispatcher when it has jobs to
 * submit (the dispatcher itself stays single-threaded). -1: none. */
void dispatch_set_wake_fd(dispatch_t *self, int fd);

/* Takes job id back while it is still queued (not sent, or requeued for a
 * retry): it is freed and never finishes, no callback. False when it is not
 * queued: unknown, or in flight (its result then comes as usual). O(queued). */
bool dispatch_cancel(dispatch_t *self, uint64_t id);

/* Jobs submitted and not finished (queued + in flight). */
size_t dispatch_pending(const dispatch_t *self);

void dispatch_stats(const dispatch_t *self, dispatch_stats_t *out);

/* The registered workers, the first cap of them in out (in no set
 * order), and in *rest (name empty) the slots and busy slots of the others
 * summed; returns how many there are (may exceed cap). O(workers). */
size_t dispatch_workers(const dispatch_t *self, dispatch_worker_t *out, size_t cap,
                        dispatch_worker_t *rest);

#endif
