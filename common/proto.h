/* proto.h - the wire messages between the coordinator and its workers, and
 * the envelope every message shares (the client protocol's too).
 *
 * Every message is one ZeroMQ frame holding a msgpack map whose first two
 * entries are "v" (PROTO_VERSION) and "t" (a proto_type_t), so that a peer
 * of another protocol version can still be told apart and refused. The
 * bytes come from other processes and other machines, so decoding trusts
 * nothing: it walks the message with mpread (no allocation), checks every
 * type, count and length against the bytes left and against the PROTO_MAX_*
 * limits, and only a message that is valid as a whole is handed on. A
 * decoded batch (JOBS, RESULTS) is then iterated in place, pointing into the
 * received bytes: nothing is copied or allocated for a message before it is
 * known to be sound.
 *
 * Messages (keys after "v" and "t"; unknown keys are skipped, so a field can
 * be added without a new version):
 *   HELLO     worker -> coordinator: "id" str, "host" str, "ver" str (the
 *             analyzer version), "slots" uint (threads), "numa" uint (NUMA
 *             nodes), "cpu" str (CPU features, e.g. "avx2")
 *   JOBS      coordinator -> worker: "jobs" [[id uint64, kind uint, input bin]...]
 *   RESULTS   worker -> coordinator: "results" [[id, 0, result bin] or
 *             [id, 1, error str]...]
 *   HEARTBEAT both ways, no field
 *   BYE       both ways: "reason" str (optional)
 *   REFUSED   coordinator -> worker: "reason" str, "retry" bool (true: say
 *             HELLO again on a new connection; false: never, e.g. another
 *             analyzer version)
 * The client messages (SUBMIT, NEED, UPLOAD, PROGRESS, DONE, LOOKUP,
 * LIBFILES) are
 * proto_client.h's. They share this envelope, the type numbers, the limits
 * below, the decoded message (proto_msg_t) and the batches; proto_decode
 * refuses them, as proto_decode_client refuses the worker messages: a
 * socket speaks one of the two protocols. */
#ifndef STRATA_PROTO_H
#define STRATA_PROTO_H

#include "common/buf.h"
#include "common/mpread.h"
#include "common/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROTO_VERSION 1

/* Hard limits on what a message may hold; a message beyond one is corrupt. */
#define PROTO_MAX_INPUT ((size_t)64 << 20) /* bytes of one job's input or result */
#define PROTO_MAX_MSG ((size_t)80 << 20)   /* bytes of one message (ZMQ_MAXMSGSIZE) */
#define PROTO_MAX_JOBS 4096u               /* jobs or results per message */
#define PROTO_MAX_NAME 256u                /* id, host, version, cpu strings */
#define PROTO_MAX_TEXT 4096u               /* reasons, error texts */
#define PROTO_MAX_SLOTS 4096u              /* a worker's slots */
#define PROTO_MAX_NUMA 1024u               /* a worker's NUMA nodes */
#define PROTO_MAX_KIND 255u                /* job kinds are small numbers */
/* Heartbeats, both ways: a peer sends one when it has sent nothing for
 * PROTO_HEARTBEAT_MS, and takes a peer that has said nothing for
 * PROTO_TIMEOUT_MS for gone (the defaults of both ends). */
/* Bytes of job input a coordinator keeps in flight on one worker (one job
 * always goes, whatever its size); a worker holds no more than twice this
 * and answers jobs past it with an error. */
#define PROTO_WORKER_INPUT_BYTES ((size_t)16 << 20)
#define PROTO_HEARTBEAT_MS 500u
#define PROTO_TIMEOUT_MS 3000u

/* The longest time limit of one job (--job-limit, --job-timeout): a day. */
#define PROTO_MAX_JOB_LIMIT_S 86400

typedef enum {
    PROTO_HELLO = 1,
    PROTO_JOBS = 2,
    PROTO_RESULTS = 3,
    PROTO_HEARTBEAT = 4,
    PROTO_BYE = 5,
    PROTO_REFUSED = 6,
    /* the client protocol's (proto_client.h) */
    PROTO_SUBMIT = 16,
    PROTO_NEED = 17,
    PROTO_UPLOAD = 18,
    PROTO_PROGRESS = 19,
    PROTO_DONE = 20,
    PROTO_LOOKUP = 21,
    PROTO_LIBFILES = 22
} proto_type_t;

/* A string inside a message: not NUL-terminated (print with "%.*s"). */
typedef struct {
    const char *ptr;
    uint32_t len;
} proto_str_t;

typedef struct {
    proto_str_t id;      /* the worker's name for itself (host:pid) */
    proto_str_t host;    /* its host name */
    proto_str_t version; /* its analyzer version (JOBS_ANALYZER_VERSION) */
    proto_str_t cpu;     /* CPU features, informative */
    uint32_t slots;      /* jobs it runs at once, 1..PROTO_MAX_SLOTS */
    uint32_t numa;       /* NUMA nodes, 0..PROTO_MAX_NUMA (0: unknown) */
} proto_hello_t;

typedef struct {
    uint64_t id;
    uint32_t kind; /* <= PROTO_MAX_KIND; what it means is worker/jobs.h's */
    span_t input;
} proto_job_t;

typedef enum { PROTO_STATUS_OK = 0, PROTO_STATUS_ERROR = 1 } proto_status_t;

typedef struct {
    uint64_t id;
    proto_status_t status;
    span_t data; /* OK: the result document; ERROR: the error text (UTF-8) */
} proto_result_t;

/* PROGRESS's counters and DONE's stats (proto_client.h), defined here
 * since a decoded message holds them. */
typedef struct {
    uint64_t scanned, checked, cached, workers, queued;
} proto_progress_t;

/* SUBMIT's environment (proto_client.h): the client's Python, which the
 * coordinator's run takes as its own; defined here since a decoded message
 * holds it. */
typedef struct {
    uint32_t major, minor; /* the target version; 0.0: the default */
    proto_str_t platform;  /* sys.platform; len 0: the default */
    proto_str_t python;    /* the interpreter named in E0401s; ptr NULL: none found */
    proto_str_t key;       /* the environment's part of the whole run's key */
} proto_env_t;

typedef struct {
    uint64_t files, uploaded, scanned, cached, checked;
    uint64_t failed; /* jobs that failed (their files got an internal-error E902) */
} proto_stats_t;

/* A decoded message. Every pointer points into the bytes given to
 * proto_decode: borrowed, valid as long as they are. */
typedef struct {
    uint32_t version;
    proto_type_t type;
    proto_hello_t hello;  /* HELLO */
    uint32_t count;       /* JOBS, RESULTS: entries */
    proto_str_t reason;   /* BYE, REFUSED (len 0 when absent) */
    bool retry;           /* REFUSED */
    mpread_t items_;      /* private: the entries, for proto_next_* */
    uint32_t items_left_; /* private */
    /* client messages (proto_decode_client); count is the entries of
       "files" (SUBMIT, DONE), "digests" (NEED), "blobs" (UPLOAD) or
       "modules" (LOOKUP, LIBFILES) */
    uint32_t n_roots, n_args;  /* SUBMIT */
    uint64_t max_file_bytes;   /* SUBMIT */
    mpread_t roots_, args_;    /* private: SUBMIT's lists */
    bool has_env;              /* SUBMIT: an "env" (else none: the old behaviour) */
    proto_env_t env;           /* SUBMIT, when has_env */
    uint32_t n_tops;           /* LOOKUP, LIBFILES: entries of "tops" */
    mpread_t tops_;            /* private: LOOKUP's and LIBFILES' "tops" */
    proto_progress_t progress; /* PROGRESS */
    uint32_t status;           /* DONE: PROTO_DONE_OK or PROTO_DONE_ERROR */
    proto_str_t error;         /* DONE (len 0 when absent) */
    proto_stats_t stats;       /* DONE */
} proto_msg_t;

/* Decodes and validates a whole message of len bytes. ST_OK: *out is
 * filled. ST_ECORRUPT with a reason in err (and *out undefined): not a
 * map, "v"/"t" missing or not first, another protocol version, an unknown
 * or client type, a missing or mistyped field, a count or length past the
 * limits or past the bytes. ST_ELIMIT: len > PROTO_MAX_MSG. Pure; thread-safe. */
st_rc_t proto_decode(const void *p, size_t len, proto_msg_t *out, st_err_t *err);

/* Reads only "v" and "t" (for refusing a peer of another version). False
 * when even these are not there. */
bool proto_peek(const void *p, size_t len, uint32_t *version, uint32_t *type);

/* The next entry of a decoded JOBS or RESULTS message; false at the end
 * (or when m is of another type). Entries were validated by proto_decode. */
bool proto_next_job(proto_msg_t *m, proto_job_t *job);
bool proto_next_result(proto_msg_t *m, proto_result_t *res);

/* Encoders: each appends one whole message to b (normally emptied first).
 * ST_ELIMIT when a string is over its limit (or slots out of range);
 * ST_ENOMEM; on error b may hold a partial message (reset it). */
st_rc_t proto_encode_hello(buf_t *b, const proto_hello_t *hello);
st_rc_t proto_encode_heartbeat(buf_t *b);
st_rc_t proto_encode_bye(buf_t *b, const char *reason);
st_rc_t proto_encode_refused(buf_t *b, const char *reason, bool retry);

/* A JOBS or RESULTS message built one entry at a time, for batches whose
 * size is decided while they fill up:
 *     proto_batch_begin(&batch, b, PROTO_JOBS);
 *     proto_batch_job(&batch, id, kind, input) ... ;
 *     proto_batch_end(&batch);
 * The batch borrows b until proto_batch_end. */
typedef struct {
    buf_t *b;
    size_t count_at; /* offset of the entry count in b */
    uint32_t n;
    proto_type_t type;
} proto_batch_t;

/* Starts a message of type PROTO_JOBS or PROTO_RESULTS (ST_EINVAL else). */
st_rc_t proto_batch_begin(proto_batch_t *batch, buf_t *b, proto_type_t type);

/* Adds an entry. ST_ELIMIT when the batch holds PROTO_MAX_JOBS entries
 * already, the input or result is over PROTO_MAX_INPUT, the error text over
 * PROTO_MAX_TEXT (cut it first), the kind over PROTO_MAX_KIND, or the message
 * would pass PROTO_MAX_MSG; the batch is unchanged then and can be ended. */
st_rc_t proto_batch_job(proto_batch_t *batch, uint64_t id, uint32_t kind, span_t input);
st_rc_t proto_batch_result(proto_batch_t *batch, uint64_t id, proto_status_t status, span_t data);

/* Writes the entry count. */
void proto_batch_end(proto_batch_t *batch);

/* Bytes an entry adds to a batch at most (for sizing batches). */
static inline size_t proto_entry_overhead(void)
{
    return 24;
}

/* "HELLO", "JOBS", ...; "?" for another number. Static. */
const char *proto_type_name(uint32_t type);

#endif
