/* daemon_private.h - the coordinator daemon's state, shared by its main
 * thread's side (coordinator/daemon.c: sockets, clients, caps, the queue
 * of batches) and its batches' side (coordinator/batch.c: a batch from its
 * SUBMIT to its DONE, through the run). Not for other folders. */
#ifndef STRATA_COORDINATOR_DAEMON_PRIVATE_H
#define STRATA_COORDINATOR_DAEMON_PRIVATE_H

#include "common/arena.h"
#include "common/buf.h"
#include "common/cas/cas.h"
#include "common/queue.h"
#include "common/ratelog.h"
#include "coordinator/calls.h"
#include "coordinator/daemon.h"
#include "coordinator/dispatch.h"
#include "coordinator/frames.h"
#include "coordinator/keys.h"
#include "coordinator/metricsd.h"
#include "run/run.h"

#include <pthread.h>
#include <stdatomic.h>
#include <zmq.h>

#define DAEMON_PROGRESS_MS 500      /* PROGRESS to waiting clients this often */
#define DAEMON_UPLOAD_IDLE_MS 30000 /* a client silent this long while uploading: dropped */
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

/* A message between the main thread and a batch thread: an upload (zm),
 * or one to send (who, data). */
typedef struct {
    queue_node_t node;
    ident_t who;
    zmq_msg_t *zm;
    uint8_t *data; /* owned */
    size_t len;
} msg_t;

typedef struct daemon daemon_t;

/* Workers named on the metrics page; the others are summed as "other", so
 * that a large fleet does not make a series per worker. */
#define DAEMON_METRICS_WORKERS 32

/* What the metrics page shows of the main thread's state: a copy it takes
 * now and then (coordinator/daemon_metrics.c), since the dispatcher and
 * the queue are the main thread's alone. */
typedef struct {
    bool taken; /* at least once */
    dispatch_stats_t ds;
    size_t batches_queued, batches_active;
    uint64_t client_dropped, client_refused; /* messages */
    uint64_t client_bytes_in, upload_bytes_in;
    size_t n_workers; /* in workers[], at most DAEMON_METRICS_WORKERS */
    dispatch_worker_t workers[DAEMON_METRICS_WORKERS];
    uint64_t other_slots, other_busy; /* of the workers past those */
} daemon_snapshot_t;

/* A library file the client gave (LIBFILES) with a digest: its blob is
 * NEED index n_files + k for the k-th. */
typedef struct {
    digest_t digest;
    uint64_t size;
    bool needed; /* asked for in NEED, not received yet */
} batch_lib_t;

/* What one batch may take from its client's lookups: library files (with
 * a content or without), answers, and bytes of library paths. */
#define BATCH_MAX_LIBS 200000u
#define BATCH_MAX_LIB_NAMES 2000000u
#define BATCH_MAX_LIB_PATH_BYTES ((size_t)64 << 20)

/* A batch being served, on its own thread. */
typedef struct {
    daemon_t *dm;
    pending_t p;
    pthread_t tid;
    atomic_bool over;    /* the thread has ended: the main thread joins it */
    pthread_cond_t cond; /* with dm->lock: an upload in the inbox, stop */
    /* under dm->lock */
    queue_t uploads;
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
    /* read by the main thread for PROGRESS: the run once it is made */
    _Atomic(run_t *) run;
    progress_t *progress; /* counts only: the check jobs done, for PROGRESS */
    /* the batch thread's */
    arena_t *arena; /* paths, roots, args */
    run_file_t *files;
    uint64_t *sizes; /* the SUBMIT's: an upload of another size is refused */
    bool *needed;    /* asked for in NEED, not received yet */
    size_t n_files;
    const char **paths;
    const char **roots;
    size_t n_roots;
    const char **args;
    size_t n_args;
    size_t max_file_bytes;
    size_t n_needed, uploaded;
    uint64_t last_upload;
    arena_t *work; /* per-blob scratch */
    bool whole;    /* the whole run's diagnostics came from the cache */
    /* the client's environment (SUBMIT's "env"; coordinator/batch_env.c):
       the run's finder asks the client */
    bool has_env;
    scan_target_t target;
    const char *env_python; /* in arena; NULL: no interpreter found */
    const char *env_key;    /* in arena */
    lib_finder_t finder;
    batch_lib_t *libs;
    size_t n_libs, cap_libs;
    size_t lib_files, lib_names, lib_path_bytes; /* taken so far, for the caps */
    bool answered;                               /* a DONE was posted */
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
    uint64_t bytes_in;       /* of the clients' messages received */
    uint64_t upload_bytes;   /* of them, UPLOADs and LIBFILES routed to a batch */
    size_t client_batches, client_files;
    uint64_t client_bytes;
    atomic_bool stopping;
    pthread_mutex_t lock;
    queue_t outbox; /* under lock: to send, in order */
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
    /* the metrics and health endpoint (coordinator/daemon_metrics.c) */
    metricsd_t *metricsd;          /* NULL: none */
    _Atomic uint64_t heartbeat_ms; /* the main loop's last turn */
    atomic_bool ready;             /* sockets bound, loop running */
    uint64_t snap_ms;              /* the main thread's: the last copy */
    pthread_mutex_t snap_lock;     /* guards snap; never waited for by
                                      the main thread (trylock) */
    daemon_snapshot_t snap;
};

/* Starts the metrics endpoint when opts->metrics_bind is set (and logs
 * its address); errors as metricsd_start. */
st_rc_t daemon__metrics_start(daemon_t *dm, st_err_t *err);

/* The main thread's turn: the heartbeat, and every 100 ms a copy of its
 * state for the page, unless the page's thread holds it (then the next
 * turn). */
void daemon__metrics_turn(daemon_t *dm);

/* Records a batch answered (its time from start to DONE) for the page. */
void daemon__metrics_batch(uint64_t ms);

/* Stops the endpoint (no callback runs after); NULL endpoint: nothing. */
void daemon__metrics_stop(daemon_t *dm);

/* Whether the daemon stops (a signal, or stop_batches). */
bool daemon__stopping(daemon_t *dm);

/* An error DONE into b (reset first). */
st_rc_t daemon__encode_error_done(buf_t *b, const char *message);

/* Frees a message (NULL: nothing), or every message of q. */
void daemon__msg_free(msg_t *m);
void daemon__msgs_free(queue_t *q);

#endif
