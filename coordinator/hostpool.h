/* remote.h - scan jobs in worker processes on this host (the single-host
 * mode of `strata check`).
 *
 * hostpool_start spawns worker processes (`strata worker --connect ipc://...`,
 * the same binary) that connect to a dispatcher (coordinator/dispatch.h)
 * bound to a socket in a private temporary directory; hostpool_scan reads the
 * files the cache could not answer, largest first, sends each as a scan job
 * (worker/jobs.h: the same input and the same result bytes as in-process)
 * in bursts that fill the workers' credit, and hands every result to the
 * exec sink as the in-process executor would, storing it in the cache.
 * While the workers start, the calling thread scans the smallest files
 * itself. A worker that dies is restarted (a few times); a job that kills
 * its worker is retried elsewhere and finally reported as an internal-error
 * E902 on its file while the rest of the run completes. If no worker is
 * alive for the timeout, the remaining files are scanned in this process.
 * hostpool_stop reaps the workers (keeping their peak memory) and removes the
 * directory; a signal that ends the process removes it too, and so do the
 * workers of a check killed with SIGKILL. Each run measures what
 * dispatching costs (below), for the next run's decisions. */
#ifndef STRATA_COORDINATOR_HOSTPOOL_H
#define STRATA_COORDINATOR_HOSTPOOL_H

#include "common/arena.h"
#include "common/cas/cas.h"
#include "common/status.h"
#include "run/progress.h"
#include "run/exec.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct remote hostpool_t;

/* ---- what dispatching costs, measured ----------------------------------------------
 *
 * Worker processes pay a start-up and a round trip per job that the
 * in-process executor does not; below some amount of work they cost more
 * than the run is worth. That amount is not a constant: every run with
 * workers measures the start-up (spawn to the first worker ready), the
 * round trip of a job that costs nothing (an echo job on an idle worker),
 * the scan throughput of a thread and what a check job costs here per
 * input byte; the measurements are kept in a small record in the cache
 * directory (hostpool_cost_load/save) and the decisions below are pure
 * functions of it. Nothing measured yet: the constants below. */
typedef struct {
    double start_ms;          /* spawn to the first worker ready */
    double rtt_us;            /* round trip of a free job to an idle worker */
    double scan_bytes_per_ms; /* source bytes one thread scans per ms */
    double check_ns_per_byte; /* a check job run here, per input byte */
    uint32_t runs;            /* runs merged in; 0: nothing measured */
} hostpool_cost_t;

/* Without a measurement, runs with fewer bytes to scan stay in-process,
 * and check jobs with smaller inputs run in the coordinator. */
#define HOSTPOOL_DEFAULT_MIN_BYTES ((uint64_t)512 << 10)
#define HOSTPOOL_DEFAULT_CHECK_LOCAL ((size_t)256 << 10)
/* Worker processes are used when their predicted cost is at most this
 * share of the predicted in-process time of the same scans. */
#define HOSTPOOL_COST_SHARE 0.25
#define HOSTPOOL_CHECK_ROUND_TRIPS 10

/* Both sides of the decision for one run. */
typedef struct {
    bool use;           /* worth starting worker processes */
    bool measured;      /* from a measurement (else HOSTPOOL_DEFAULT_MIN_BYTES) */
    double dispatch_ms; /* predicted: start-up + the last round trip */
    double local_ms;    /* predicted: the scans on `threads` threads here */
} hostpool_choice_t;

/* Whether `files` files of `bytes` bytes in all are worth worker processes
 * running `threads` threads in all, by cost c (NULL or unmeasured: bytes
 * >= HOSTPOOL_DEFAULT_MIN_BYTES): what dispatching costs whatever the size
 * of the run, the start-up and the round trip of the last result (the
 * others overlap with scans, and their cost per job grows with the work
 * as the scans do), against the time of the same scans here. Pure. */
hostpool_choice_t hostpool_choose(const hostpool_cost_t *c, uint64_t bytes, size_t files,
                                  unsigned threads);

/* The largest check job input (bytes) worth running here rather than in a
 * worker: the one that costs here HOSTPOOL_CHECK_ROUND_TRIPS round trips, so
 * that a job sent away waits at most a tenth more than it works (a thread
 * of the coordinator waits for it: on one host, the cores are the same).
 * Clamped to [1 KiB, 64 MiB]; HOSTPOOL_DEFAULT_CHECK_LOCAL when c lacks
 * either measurement. Pure. */
size_t hostpool_check_local_max(const hostpool_cost_t *c);

/* Merges the measurements of one run (fields <= 0 were not measured and
 * leave c's as they are) into c: the first taken as is, then a moving
 * average that gives the new one a third of the weight. Pure. */
void hostpool_cost_merge(hostpool_cost_t *c, const hostpool_cost_t *run);

/* The record as one line of text into out (cap bytes, NUL-terminated);
 * and back: ST_ECORRUPT for anything that is not such a line with finite
 * values in range (a record from another version, truncated, edited),
 * *out untouched then. */
void hostpool_cost_format(const hostpool_cost_t *c, char *out, size_t cap);
st_rc_t hostpool_cost_parse(const char *text, size_t len, hostpool_cost_t *out, st_err_t *err);

/* The record in directory dir (the cache directory): ST_ENOENT when there
 * is none, ST_ECORRUPT when it does not parse (then it is ignored and
 * overwritten by the next save). Save writes a temporary file and renames
 * it over the record, so readers never see half of one; ST_EIO when it
 * cannot (a read-only or missing directory: the run goes on). */
st_rc_t hostpool_cost_load(const char *dir, hostpool_cost_t *out, st_err_t *err);
st_rc_t hostpool_cost_save(const char *dir, const hostpool_cost_t *c, st_err_t *err);

/* ---- worker processes ---------------------------------------------------------------- */

typedef struct {
    unsigned workers;            /* worker processes; 0: one per NUMA node (hostpool_layout) */
    unsigned threads;            /* analysis threads of each; 0: the cores of its node */
    const char *exe;             /* the strata binary to spawn; NULL: /proc/self/exe */
    FILE *log;                   /* warnings (a worker died, falling back); NULL: stderr */
    const hostpool_cost_t *cost; /* earlier measurements (NULL: none), copied */
    unsigned job_timeout_ms;     /* a job attempt's deadline (dispatch.h); 0: its default */
    progress_t *progress;        /* PROGRESS_WORKERS kept up to date while scanning; NULL: none */
} hostpool_opts_t;

#define HOSTPOOL_MAX_WORKERS 64

typedef struct {
    size_t scanned;  /* files scanned by workers */
    size_t local;    /* files scanned here after the workers were lost */
    size_t early;    /* files scanned here while the workers started */
    size_t failed;   /* files whose job was lost on every retry (E902) */
    size_t restarts; /* worker processes restarted */
    unsigned workers, threads;
    /* What this run measured (hostpool_cost_t's fields; 0 where nothing
     * was): start_ms by hostpool_scan, rtt_us by hostpool_serve_begin, the
     * scan rate from hostpool_scan's bytes and time, the check cost from
     * the check jobs run here. Filled by hostpool_stop. */
    hostpool_cost_t measured;
    size_t checks_here, checks_sent; /* check jobs run here / in workers */
    /* Set by hostpool_stop, from wait4: the peak resident memory (ru_maxrss,
     * KiB) of worker process k (the largest of its restarts), and the
     * largest of them. */
    uint64_t worker_rss_kb[HOSTPOOL_MAX_WORKERS];
    uint64_t peak_worker_rss_kb;
} hostpool_stats_t;

/* How the worker processes of the single-host mode are laid out: process k
 * runs threads[k] analysis threads, restricted to NUMA node node[k] (when
 * >= 0) or to the CPUs cpuset[k] (when not empty). */
typedef struct {
    unsigned n;
    int node[HOSTPOOL_MAX_WORKERS];
    unsigned threads[HOSTPOOL_MAX_WORKERS];
    char cpuset[HOSTPOOL_MAX_WORKERS][32];
} hostpool_layout_t;

typedef struct place_topo place_topo_t;

/* The layout on topology t (worker/place.h; NULL: one NUMA node) of a
 * machine with ncpu CPUs: with workers 0, one process per NUMA node that
 * has usable cores, each on its node with a thread per core of it (a
 * single node: one process, a thread per CPU); with workers N, N processes
 * sharing the CPUs in equal ranges. threads (not 0) overrides the threads
 * of each. Pure: testable on synthetic topologies. */
st_rc_t hostpool_layout(const place_topo_t *t, unsigned workers, unsigned threads, unsigned ncpu,
                        hostpool_layout_t *out, st_err_t *err);

/* Spawns the workers. ST_EIO when the socket or a process cannot be made
 * (then the caller scans in-process). */
st_rc_t hostpool_start(const hostpool_opts_t *opts, hostpool_t **out, st_err_t *err);

/* Says BYE, ends and reaps the workers (SIGTERM, then SIGKILL after 2 s),
 * removes the directory, frees *self_p and sets it NULL; accepts NULL.
 * stats (may be NULL) gets the workers' peak memory, what the run
 * measured and the check job counts; its other fields are left as they
 * are. */
void hostpool_stop(hostpool_t **self_p, hostpool_stats_t *stats);

/* For a worker that a strata check started (on endpoint, its --connect)
 * and that outlived it (the check was killed): removes the socket and the
 * private directory, if they are hostpool_start's; anything else is left
 * alone. Called as the worker exits, so that a killed check leaves nothing
 * in $TMPDIR once its workers are gone. */
void hostpool_orphan_cleanup(const char *endpoint);

/* Scans the files with the given ids (ids index files[] by exec_file_t id;
 * files[i].id == i) with scan options sopts, through cache (NULL: none),
 * delivering every result to sink as exec_run would. ST_OK; the sink's
 * error; or, as exec_run, ST_EINTERNAL when a job failed (lost with its
 * workers: its file got an internal-error E902). A file that cannot be
 * read gets its E902. */
st_rc_t hostpool_scan(hostpool_t *self, const exec_file_t *files, const size_t *ids, size_t n,
                      const scan_opts_t *sopts, cas_t *cache, exec_sink_fn sink, void *sink_ctx,
                      hostpool_stats_t *stats, st_err_t *err);

/* Check jobs through the workers: hostpool_serve_begin first measures a
 * round trip to the (idle) workers with an echo job; then, until
 * hostpool_serve_end, a thread of the remote drives the dispatcher (through
 * coordinator/calls.h) and restarts dead workers, and hostpool_run_check
 * (the project's run_check: same contract as check_run, callable from any
 * number of threads) runs a check job whose input is cheaper to check
 * than a round trip (hostpool_check_local_max) in the calling thread, and
 * sends any other one to a worker and waits for its result. A job lost
 * with its workers (it kills them), or that failed there, is an
 * ST_EINTERNAL error saying so ("check job lost with its workers: ...",
 * "check job failed on a worker: ..."). The job runs in the calling
 * thread instead when no worker has been connected for 10 s (counted from
 * the last one, whether or not a job was waiting, so a job that comes
 * later does not wait it out again; a worker that joins ends it), when
 * its input is too large to send, and from the moment the workers' socket
 * fails (the jobs waiting then too). Both are logged. Between begin and
 * end, hostpool_scan must not be called. hostpool_serve_begin: ST_EINVAL when
 * serving already, ST_EIO/ST_ENOMEM when the thread cannot start (the
 * checks then run without the remote). hostpool_serve_end ends the thread
 * (no caller may be inside hostpool_run_check then); hostpool_stop calls it. */
st_rc_t hostpool_serve_begin(hostpool_t *self, st_err_t *err);
/* False when hostpool_scan gave up on the workers (none for the timeout, or
 * the socket failed): the checks then run in this process. */
bool hostpool_usable(const hostpool_t *self);
/* The analysis threads of all the worker processes (>= 1). */
unsigned hostpool_threads(const hostpool_t *self);
void hostpool_serve_end(hostpool_t *self);
st_rc_t hostpool_run_check(void *remote, span_t input, arena_t *a, span_t *out, st_err_t *err);

#endif
