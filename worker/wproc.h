/* wproc.h - the worker process: jobs from a coordinator, run on N threads.
 *
 * `strata worker --connect ADDR` is this loop. A ZeroMQ DEALER socket
 * connects to the coordinator's ROUTER and says HELLO (id, host, analyzer
 * version, slots = threads, NUMA nodes, CPU features); JOBS batches go to a
 * queue that N analysis threads drain, each with its own scanner and a job
 * arena from a shared pool; results go back in RESULTS batches as they
 * finish (whatever finished since the last send goes in one message), and
 * heartbeats flow both ways. The coordinator decides how much is in
 * flight (its credits), so the queue needs no bound of its own.
 *
 * When the coordinator falls silent for the timeout, says BYE, or says it
 * does not know this worker (REFUSED with retry, e.g. after dropping it
 * for silence), the worker forgets its jobs (their results would be late:
 * the coordinator has requeued them), waits (exponential backoff up to a
 * cap, said on stderr), and connects again on a new socket. The first
 * answer on a connection is said on stderr too ("working for ..."). A REFUSED
 * without retry (another analyzer or protocol version) ends it with an
 * error. wproc_stop (from a signal handler) ends it cleanly: BYE, the
 * running jobs finish, the threads are joined.
 *
 * One main thread owns the socket; the analysis threads touch only the job
 * queue, the result list and an eventfd that wakes the main thread. */
#ifndef STRATA_WPROC_H
#define STRATA_WPROC_H

#include "common/status.h"

#include <stdbool.h>
#include <stdio.h>

typedef struct {
    const char *connect;     /* "ipc:///path" or "tcp://host:port" */
    unsigned threads;        /* analysis threads = slots; 0: online CPUs */
    const char *version;     /* reported analyzer version; NULL: JOBKEY_ANALYZER_VERSION */
    unsigned heartbeat_ms;   /* 0: 500 */
    unsigned timeout_ms;     /* coordinator silence before reconnecting; 0: 3000 */
    unsigned backoff_max_ms; /* cap of the reconnection delay; 0: 5000 */
    /* Test hook: a job whose input contains this string aborts the process
     * (a poison pill for the retry tests). NULL: none. */
    const char *crash_on;
    FILE *log; /* where reconnections and refusals are said; NULL: stderr */
    /* CurveZMQ (Z85, 40 characters each): the coordinator's public key and
     * this worker's key pair. NULL server_key: no encryption (ipc://,
     * loopback, or a coordinator started insecure). */
    const char *server_key;
    const char *public_key;
    const char *secret_key;
    /* Thread placement (worker/place.h): each analysis thread is pinned to
     * a core of cpuset (NULL: every allowed CPU), on NUMA node numa_node
     * when numa_only, its memory bound to the core's node. A placement that
     * cannot be made on this machine is said on the log and the threads
     * run unpinned; a malformed cpuset or an absent node is an error. */
    const char *cpuset;
    bool numa_only;
    unsigned numa_node;
} wproc_opts_t;

/* Runs the worker until wproc_stop is called (then ST_OK, after BYE and
 * every thread joined) or the coordinator refuses it for good (ST_EINVAL,
 * the reason in err). ST_EINVAL for bad options, ST_EIO when ZeroMQ
 * fails, ST_ENOMEM when the threads or scanners cannot be made. One run at
 * a time per process. */
st_rc_t wproc_run(const wproc_opts_t *opts, st_err_t *err);

/* Asks the running wproc_run to end. Async-signal-safe. */
void wproc_stop(void);

#endif
