/* policy.h - where a job runs and how many are in flight: the one place
 * that decides it, for every back end (run/backend.h).
 *
 * The decisions: whether worker processes pay for a run (a cost model,
 * measured: below), how many threads a phase of this process starts
 * (none for a small input), how many scan jobs a back end has in flight
 * (the window) and how deep each worker slot's queue is, how long the
 * driver waits in a back end's poll, whether the driving thread scans a
 * file itself while workers start, how long it waits for a worker before
 * scanning here, which check jobs run here rather than in a worker, and
 * how many threads run the check jobs. The functions are pure (numbers
 * in, a decision out), so later tuning is one file and its unit tests.
 *
 * What dispatching costs is not a constant: every run with worker
 * processes measures the start-up (spawn to the first worker ready), the
 * round trip of a job that costs nothing (an echo job on an idle worker),
 * the scan throughput of a thread and what a check job costs here per
 * input byte; the measurements are kept in a small record in the cache
 * directory (policy_cost_load/save). Nothing measured yet: the defaults
 * below. */
#ifndef STRATA_RUN_POLICY_H
#define STRATA_RUN_POLICY_H

#include "common/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The back ends, as far as the policy tells them apart. */
typedef enum {
    POLICY_THREADS = 0,  /* threads of this process */
    POLICY_HOSTPOOL = 1, /* worker processes on this host */
    POLICY_CLUSTER = 2   /* a coordinator's workers */
} policy_kind_t;

/* ---- in this process ------------------------------------------------------------- */

/* Below this many bytes in total a scan phase runs in the calling thread;
 * the same for reading and hashing (see policy.c for the measurements). */
extern const uint64_t POLICY_INLINE_SCAN_BYTES;
extern const uint64_t POLICY_INLINE_HASH_BYTES;

/* Threads a phase of n jobs should start on a pool of `jobs` threads,
 * when the first of its jobs (largest first) sum to `bytes` (counted up
 * to inline_max at least): 0 runs them in the calling thread. Pure. */
unsigned policy_threads(unsigned jobs, size_t n, uint64_t bytes, uint64_t inline_max);

/* ---- flow control ------------------------------------------------------------------ */

/* Jobs in flight per worker slot (dispatch_opts_t.depth) of a back end. */
unsigned policy_depth(policy_kind_t kind);

/* How many scan jobs should be pending (submitted, not ended) now, with
 * `workers` connected having `slots` slots in all (threads: slots of the
 * layout when none is connected yet) and `pending` pending. 0: submit
 * none now. SIZE_MAX: all. */
size_t policy_window(policy_kind_t kind, size_t workers, size_t slots, size_t pending);

/* Whether jobs go one per turn (a worker's HELLO is answered at once). */
bool policy_one_per_turn(policy_kind_t kind, size_t workers);

/* How long the driver waits in the back end's poll: `more` when some jobs
 * are still to submit within the window. < 0: until every job ends. */
int policy_poll_ms(policy_kind_t kind, size_t workers, bool more);

/* Whether the driving thread scans a file itself now: no worker ready
 * yet, the first jobs are ready for them, and the wait would be idle. */
bool policy_scan_early(policy_kind_t kind, bool ever_ready, bool more_files, int poll_ms);

/* No worker for this long: the rest is scanned or checked here. */
#define POLICY_NO_WORKER_MS 10000
/* A cluster's grace: no worker this long and its jobs are given back
 * (calls_opts_t.grace_ms; 0 there means this). */
#define POLICY_CLUSTER_GRACE_MS 1500
/* Worker processes of one run restarted at most this often. */
#define POLICY_MAX_RESTARTS 8

/* Threads of the check stage: for a back end of `threads` worker threads
 * in all, on a host with `jobs` threads for us. */
unsigned policy_check_threads(policy_kind_t kind, unsigned jobs, unsigned threads);

/* ---- what dispatching costs, measured ----------------------------------------------- */

typedef struct {
    double start_ms;          /* spawn to the first worker ready */
    double rtt_us;            /* round trip of a free job to an idle worker */
    double scan_bytes_per_ms; /* source bytes one thread scans per ms */
    double check_ns_per_byte; /* a check job run here, per input byte */
    uint32_t runs;            /* runs merged in; 0: nothing measured */
} policy_cost_t;

/* Without a measurement, runs with fewer bytes to scan stay in-process,
 * and check jobs with smaller inputs run in the coordinator. */
#define POLICY_DEFAULT_MIN_BYTES ((uint64_t)512 << 10)
#define POLICY_DEFAULT_CHECK_LOCAL ((size_t)256 << 10)
/* Worker processes are used when their predicted cost is at most this
 * share of the predicted in-process time of the same scans. */
#define POLICY_COST_SHARE 0.25
#define POLICY_CHECK_ROUND_TRIPS 10
/* Measurements over less than this are not kept: timer and scheduling
 * noise would be most of them. */
#define POLICY_MIN_MEASURED_CHECK_BYTES ((uint64_t)64 << 10)
#define POLICY_MIN_MEASURED_SCAN_MS 20.0

/* Both sides of the decision for one run. */
typedef struct {
    bool use;           /* worth starting worker processes */
    bool measured;      /* from a measurement (else POLICY_DEFAULT_MIN_BYTES) */
    double dispatch_ms; /* predicted: start-up + the last round trip */
    double local_ms;    /* predicted: the scans on `threads` threads here */
} policy_choice_t;

/* Whether `files` files of `bytes` bytes in all are worth worker processes
 * running `threads` threads in all, by cost c (NULL or unmeasured: bytes
 * >= POLICY_DEFAULT_MIN_BYTES): what dispatching costs whatever the size
 * of the run, the start-up and the round trip of the last result (the
 * others overlap with scans), against the time of the same scans here.
 * Pure. */
policy_choice_t policy_choose(const policy_cost_t *c, uint64_t bytes, size_t files,
                              unsigned threads);

/* The largest check job input (bytes) worth running here rather than in a
 * worker: the one that costs here POLICY_CHECK_ROUND_TRIPS round trips.
 * Clamped to [1 KiB, 64 MiB]; POLICY_DEFAULT_CHECK_LOCAL when c lacks
 * either measurement. Pure. */
size_t policy_check_local_max(const policy_cost_t *c);

/* Whether a check job of len input bytes runs in the calling thread
 * rather than on a worker process of this host: when it costs less than a
 * round trip (len <= local_max, from policy_check_local_max), or when the
 * workers cannot be reached any more (reachable false). The cluster sends
 * every check job (calls.c gives one back when no worker takes it). Pure. */
bool policy_check_here(size_t len, size_t local_max, bool reachable);

/* Merges the measurements of one run (fields <= 0 were not measured and
 * leave c's as they are) into c: the first taken as is, then a moving
 * average that gives the new one a third of the weight. Pure. */
void policy_cost_merge(policy_cost_t *c, const policy_cost_t *run);

/* The record as one line of text into out (cap bytes, NUL-terminated);
 * and back: ST_ECORRUPT for anything that is not such a line with finite
 * values in range, *out untouched then. */
void policy_cost_format(const policy_cost_t *c, char *out, size_t cap);
st_rc_t policy_cost_parse(const char *text, size_t len, policy_cost_t *out, st_err_t *err);

/* The record in directory dir (the cache directory): ST_ENOENT when there
 * is none, ST_ECORRUPT when it does not parse. Save writes a temporary file
 * and renames it over the record; ST_EIO when it cannot. */
st_rc_t policy_cost_load(const char *dir, policy_cost_t *out, st_err_t *err);
st_rc_t policy_cost_save(const char *dir, const policy_cost_t *c, st_err_t *err);

#endif
