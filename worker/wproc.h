/* wproc.h - the worker process: jobs from a coordinator, run on N threads.
 *
 * `strata worker --connect ADDR` is this loop. A ZeroMQ DEALER socket
 * connects to the coordinator's ROUTER and says HELLO (id, host, analyzer
 * version, slots = threads, NUMA nodes, CPU features); JOBS batches go to a
 * queue that N analysis threads drain, each with its own scanner and a job
 * arena from a shared pool; results go back in RESULTS batches as they
 * finish (whatever finished since the last send goes in one message), and
 * heartbeats flow both ways. The coordinator decides how much is in
 * flight (its credits, and PROTO_WORKER_INPUT_BYTES of input); the worker
 * trusts it no more than any peer, so the queue has bounds above those
 * (256 jobs per thread, twice that input: jobs past them are answered at
 * once with an error), each job's input is copied out of its message, the
 * socket queues 2 messages in and 4 out, results that cannot go yet wait
 * (past 8 MB of them the threads take no new job, and the worker
 * reconnects when they still cannot go), and a message of several frames
 * is dropped whole.
 *
 * When the coordinator falls silent for the timeout, says BYE, or says it
 * does not know this worker (REFUSED with retry, e.g. after dropping it
 * for silence), the worker forgets its jobs (their results would be late:
 * the coordinator has requeued them), waits (exponential backoff up to a
 * cap, said on stderr), and connects again on a new socket. The first
 * answer on a connection is said on stderr too ("working for ..."). A REFUSED
 * without retry (another analyzer or protocol version) ends it with an
 * error. wproc_stop (from a signal handler) ends it within 2 s: BYE, the
 * running jobs get 800 ms to finish and the threads are joined; a thread
 * still inside a job then is left behind, and the process ends at once
 * (its cache flushed) rather than free what that thread uses.
 *
 * A job the worker has run before is answered from its local cache
 * (worker/wcache.h), in memory and, with a cache directory, on disk; the
 * counts are on the log line it writes when it stops. A job that runs past
 * job_limit_ms ends the process (see the option): a thread that hangs
 * would otherwise hold its slot for good.
 *
 * One main thread owns the socket; the analysis threads touch only the job
 * queue, the result list and an eventfd that wakes the main thread. */
#ifndef STRATA_WPROC_H
#define STRATA_WPROC_H

#include "common/buf.h"
#include "common/status.h"

#include <stdbool.h>
#include <stdio.h>

/* Exit status of a worker that ended itself because a job was stuck. */
#define WPROC_EXIT_STUCK 3
#define WPROC_JOB_LIMIT_MS 240000u

typedef struct {
    const char *connect;     /* "ipc:///path" or "tcp://host:port" */
    unsigned threads;        /* analysis threads = slots; 0: online CPUs */
    const char *version;     /* reported analyzer version; NULL: JOBS_ANALYZER_VERSION */
    unsigned heartbeat_ms;   /* 0: PROTO_HEARTBEAT_MS */
    unsigned timeout_ms;     /* coordinator silence before reconnecting; 0: PROTO_TIMEOUT_MS */
    unsigned backoff_max_ms; /* cap of the reconnection delay; 0: 5000 */
    /* Test hook: a job whose input contains this string aborts the process
     * (a poison pill for the retry tests). NULL: none. */
    const char *crash_on;
    /* Test hook: a job whose input contains this string hangs (until the
     * worker stops), as a job stuck in the analysis would. NULL: none. */
    const char *hang_on;
    /* The worker-local cache (worker/wcache.h): a job this worker has run
     * before is answered from it. no_cache: none. cache_dir: its disk tier,
     * kept across restarts (NULL: memory only). cache_mem: the memory
     * tier's budget in bytes (0: 64 MiB). */
    bool no_cache;
    const char *cache_dir;
    size_t cache_mem;
    /* A job running longer than this means its thread is stuck: the worker
     * says which job on the log and exits with WPROC_EXIT_STUCK, so that
     * whoever started it starts a fresh one (the coordinator gives a job
     * that outlives its deadline to another worker; its default deadline
     * is half of this). 0: WPROC_JOB_LIMIT_MS. */
    unsigned job_limit_ms;
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

/* For the metrics endpoint (coordinator/metricsd.h), from any thread:
 * these read only atomics that the worker updates as it goes, so they
 * never wait for it. wproc_alive: the main loop (or its wait before a
 * reconnection) has turned within stale_ms; false before and after
 * wproc_run. wproc_ready: connected, and a coordinator has answered on the
 * connection (a refused or silent one does not count). wproc_metrics
 * appends the worker's metrics in Prometheus's text format (common/prom.h:
 * jobs run, local cache hits and misses, busy threads, messages dropped,
 * jobs refused, reconnections); zeros before the first run. ST_ENOMEM. */
bool wproc_alive(unsigned stale_ms);
bool wproc_ready(void);
st_rc_t wproc_metrics(buf_t *out);

#endif
