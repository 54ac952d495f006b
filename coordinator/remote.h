/* remote.h - scan jobs in worker processes on this host (the single-host
 * mode of `strata check`).
 *
 * remote_start spawns worker processes (`strata worker --connect ipc://...`,
 * the same binary) that connect to a dispatcher (coordinator/dispatch.h)
 * bound to a socket in a private temporary directory; remote_scan reads the
 * files the cache could not answer, sends each as a scan job (worker/jobs.h:
 * the same input and the same result bytes as in-process), and hands every
 * result to the exec sink as the in-process executor would, storing it in
 * the cache. A worker that dies is restarted (a few times); a job that kills
 * its worker is retried elsewhere and finally reported as an internal-error
 * E902 on its file while the rest of the run completes. If no worker is
 * alive for the timeout, the remaining files are scanned in this process.
 * remote_stop says BYE, reaps the workers and removes the directory. */
#ifndef STRATA_REMOTE_H
#define STRATA_REMOTE_H

#include "common/arena.h"
#include "common/cas/cas.h"
#include "common/status.h"
#include "worker/exec.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct remote remote_t;

typedef struct {
    unsigned workers; /* worker processes; 0: one per NUMA node (remote_layout) */
    unsigned threads; /* analysis threads of each; 0: the cores of its node */
    const char *exe;  /* the strata binary to spawn; NULL: /proc/self/exe */
    FILE *log;        /* warnings (a worker died, falling back); NULL: stderr */
} remote_opts_t;

#define REMOTE_MAX_WORKERS 64

typedef struct {
    size_t scanned;  /* files scanned by workers */
    size_t local;    /* files scanned here after the workers were lost */
    size_t failed;   /* files whose job was lost on every retry (E902) */
    size_t restarts; /* worker processes restarted */
    unsigned workers, threads;
    /* Set by remote_stop, from wait4: the peak resident memory (ru_maxrss,
     * KiB) of worker process k (the largest of its restarts), and the
     * largest of them. */
    uint64_t worker_rss_kb[REMOTE_MAX_WORKERS];
    uint64_t peak_worker_rss_kb;
} remote_stats_t;

/* How the worker processes of the single-host mode are laid out: process k
 * runs threads[k] analysis threads, restricted to NUMA node node[k] (when
 * >= 0) or to the CPUs cpuset[k] (when not empty). */
typedef struct {
    unsigned n;
    int node[REMOTE_MAX_WORKERS];
    unsigned threads[REMOTE_MAX_WORKERS];
    char cpuset[REMOTE_MAX_WORKERS][32];
} remote_layout_t;

typedef struct place_topo place_topo_t;

/* The layout on topology t (worker/place.h; NULL: one NUMA node) of a
 * machine with ncpu CPUs: with workers 0, one process per NUMA node that
 * has usable cores, each on its node with a thread per core of it (a
 * single node: one process, a thread per CPU); with workers N, N processes
 * sharing the CPUs in equal ranges. threads (not 0) overrides the threads
 * of each. Pure: testable on synthetic topologies. */
st_rc_t remote_layout(const place_topo_t *t, unsigned workers, unsigned threads, unsigned ncpu,
                      remote_layout_t *out, st_err_t *err);

/* Spawns the workers. ST_EIO when the socket or a process cannot be made
 * (then the caller scans in-process). */
st_rc_t remote_start(const remote_opts_t *opts, remote_t **out, st_err_t *err);

/* Says BYE, ends and reaps the workers (SIGTERM, then SIGKILL after 2 s),
 * removes the directory, frees *self_p and sets it NULL; accepts NULL.
 * stats (may be NULL) gets the workers' peak memory; its other fields are
 * left as they are. */
void remote_stop(remote_t **self_p, remote_stats_t *stats);

/* For a worker that a strata check started (on endpoint, its --connect)
 * and that outlived it (the check was killed): removes the socket and the
 * private directory, if they are remote_start's; anything else is left
 * alone. Called as the worker exits, so that a killed check leaves nothing
 * in $TMPDIR once its workers are gone. */
void remote_orphan_cleanup(const char *endpoint);

/* Scans the files with the given ids (ids index files[] by exec_file_t id;
 * files[i].id == i) with scan options sopts, through cache (NULL: none),
 * delivering every result to sink as exec_run would. ST_OK, or the sink's
 * error; a file that cannot be read gets its E902. */
st_rc_t remote_scan(remote_t *self, const exec_file_t *files, const size_t *ids, size_t n,
                    const scan_opts_t *sopts, cas_t *cache, exec_sink_fn sink, void *sink_ctx,
                    remote_stats_t *stats, st_err_t *err);

/* Check jobs through the workers: between remote_serve_begin and
 * remote_serve_end a thread of the remote drives the dispatcher, and
 * remote_run_check (the project's run_check: same contract as check_run,
 * callable from any number of threads) sends one check job and waits for
 * its result. A job lost with its workers (it kills them), or that failed
 * there, is an ST_EINTERNAL error saying so; when no worker is alive for
 * the timeout, the job runs in the calling thread instead. Between begin and end, remote_scan must
 * not be called. */
st_rc_t remote_serve_begin(remote_t *self, st_err_t *err);
/* False when remote_scan gave up on the workers (none for the timeout, or
 * the socket failed): the checks then run in this process. */
bool remote_usable(const remote_t *self);
void remote_serve_end(remote_t *self);
st_rc_t remote_run_check(void *remote, span_t input, arena_t *a, span_t *out, st_err_t *err);

#endif
