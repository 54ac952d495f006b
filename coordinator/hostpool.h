/* hostpool.h - worker processes on this host (the single-host mode of
 * `strata check`): a scan back end, and the check jobs sent to them.
 *
 * hostpool_start spawns worker processes (`strata worker --connect
 * ipc://...`, the same binary) that connect to a dispatcher
 * (coordinator/dispatch.h) bound to a socket in a private temporary
 * directory. hostpool_backend_new wraps them as a scan back end
 * (run/backend.h): each scan job is the file's bytes (worker/jobs.h: the
 * same input and the same result bytes as in-process), sent within the
 * window run/policy.h gives; while the workers start, the run scans the
 * smallest files itself. A worker that dies is restarted (a few times); a
 * job that kills its worker is retried elsewhere and finally ends lost
 * (the run gives its file an internal-error E902) while the rest of the
 * run completes. If no worker is alive for POLICY_NO_WORKER_MS, the back
 * end gives up and the run scans the rest itself. hostpool_stop reaps the
 * workers (keeping their peak memory) and removes the directory; a signal
 * that ends the process removes it too, and so do the workers of a check
 * killed with SIGKILL. Each run measures what dispatching costs
 * (run/policy.h), for the next run's decisions. */
#ifndef STRATA_COORDINATOR_HOSTPOOL_H
#define STRATA_COORDINATOR_HOSTPOOL_H

#include "common/arena.h"
#include "common/cas/cas.h"
#include "common/status.h"
#include "run/progress.h"
#include "run/backend.h"
#include "run/policy.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct remote hostpool_t;

/* ---- worker processes ---------------------------------------------------------------- */

typedef struct {
    unsigned workers;          /* worker processes; 0: one per NUMA node (hostpool_layout) */
    unsigned threads;          /* analysis threads of each; 0: the cores of its node */
    const char *exe;           /* the strata binary to spawn; NULL: /proc/self/exe */
    FILE *log;                 /* warnings (a worker died, falling back); NULL: stderr */
    const policy_cost_t *cost; /* earlier measurements (NULL: none), copied */
    unsigned job_timeout_ms;   /* a job attempt's deadline (dispatch.h); 0: its default */
    progress_t *progress;      /* PROGRESS_WORKERS kept up to date while scanning; NULL: none */
} hostpool_opts_t;

#define HOSTPOOL_MAX_WORKERS BACKEND_MAX_PROCESSES

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
 * measured (start-up, round trip, scan rate, check cost), the scans and
 * check job counts; its other fields are left as they are. */
void hostpool_stop(hostpool_t **self_p, backend_stats_t *stats);

/* hostpool_start as a scan back end (run/backend.h; its stop is
 * hostpool_stop's). */
st_rc_t hostpool_backend_new(const hostpool_opts_t *opts, backend_t *out, st_err_t *err);

/* For a worker that a strata check started (on endpoint, its --connect)
 * and that outlived it (the check was killed): removes the socket and the
 * private directory, if they are hostpool_start's; anything else is left
 * alone. Called as the worker exits, so that a killed check leaves nothing
 * in $TMPDIR once its workers are gone. */
void hostpool_orphan_cleanup(const char *endpoint);

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
 * end, the back end's scans must not run. hostpool_serve_begin: ST_EINVAL when
 * serving already, ST_EIO/ST_ENOMEM when the thread cannot start (the
 * checks then run without the remote). hostpool_serve_end ends the thread
 * (no caller may be inside hostpool_run_check then); hostpool_stop calls it. */
st_rc_t hostpool_serve_begin(hostpool_t *self, st_err_t *err);
/* False when the scans gave up on the workers (none for the timeout, or
 * the socket failed): the checks then run in this process. */
bool hostpool_usable(const hostpool_t *self);
/* The analysis threads of all the worker processes (>= 1). */
unsigned hostpool_threads(const hostpool_t *self);
void hostpool_serve_end(hostpool_t *self);
st_rc_t hostpool_run_check(void *remote, span_t input, arena_t *a, span_t *out, st_err_t *err);

#endif
