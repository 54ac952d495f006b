/* run.h - one run of the pipeline, the only driver of its stages:
 *
 *     walk -> digest -> cache lookup -> scan -> graph -> check -> report
 *
 * `strata check` and `strata graph` (cli/main.c) and a coordinator's
 * batches (coordinator/batch.c) all make a run_t and call its stages in
 * this order; what differs is only where a file's bytes come from (the
 * disk, or the coordinator's blob store), where the scans run (a back end,
 * run/backend.h, chosen by run/policy.h or given by the caller) and what
 * is done with the report. The walk is the caller's (it gives the file
 * list); the report is handed back for the caller to write or encode.
 *
 * Each stage is one function here, implemented elsewhere:
 *   digest   run_digest: run/exec.c (reading and hashing on the pool), or
 *            worker/jobkey.c from the digests a client sent;
 *   lookup   run_lookup_whole: run/project_whole.c project_keyed; run_lookup:
 *            common/cas cas_get_many;
 *   scan     run_scan: run/run_scan.c drives a back end (run/exec.c,
 *            coordinator/hostpool.c, coordinator/cluster.c);
 *   graph + check  run_check: run/project.c project_check, with the back
 *            end's check jobs;
 *   report   run_check fills a report_t (run/report.c).
 *
 * The run prints nothing: warnings go to opts.log, errors come back as
 * st_err_t, and --explain lines go to opts.explain. */
#ifndef STRATA_RUN_RUN_H
#define STRATA_RUN_RUN_H

#include "common/cas/cas.h"
#include "common/digest.h"
#include "common/status.h"
#include "run/backend.h"
#include "run/libfind.h"
#include "run/policy.h"
#include "run/progress.h"
#include "run/project.h"
#include "run/statidx.h"
#include "run/report.h"
#include "run/remote.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>

typedef struct run run_t;

/* Where the files' bytes come from. */
typedef enum {
    RUN_FROM_FILES = 0, /* read from the disk at path */
    RUN_FROM_BLOBS = 1  /* the cache's CAS_BLOBS under digest (a coordinator) */
} run_source_t;

/* One file of the run (its index is its id everywhere). */
typedef struct {
    const char *path; /* borrowed for the run */
    uint64_t size;    /* a hint for the order (files), or the content's size (blobs) */
    scan_kind_t kind;
    bool skip;    /* not scanned nor reported (an extension module) */
    bool context; /* scanned and checked for the project's sake, never
                     reported (run/scope.h) */
    bool library; /* a library file the run added (the environment's) */
    /* files: the content, given in memory (standard input) rather than
     * read from path; borrowed for the run. NULL: read path. */
    const uint8_t *content;
    size_t content_len;
    bool has_digest; /* blobs: the content's digest is known; without one,
                        the file has no result (its client reports why) */
    digest_t digest; /* blobs: SHA-256 of the content */
    /* files read from path: their stat when the list was made (all zero:
     * the run stats them itself when it keeps a stat index) */
    file_stamp_t stamp;
} run_file_t;

/* Makes the worker back end of a `strata check` (cost: what dispatching
 * was measured to cost, borrowed for the call). Its failure is a warning:
 * the run scans in this process. */
typedef st_rc_t (*run_make_workers_fn)(void *ctx, const policy_cost_t *cost, backend_t *out,
                                       st_err_t *err);

typedef struct {
    const run_file_t *files; /* borrowed for the run */
    size_t n_files;
    /* The project's paths: every file's, then the extension modules (which
     * exist for imports); borrowed. NULL: the files' paths. */
    const char *const *paths;
    size_t n_paths;
    run_source_t source;
    size_t max_file_bytes;     /* 0: the scan default */
    uint64_t parse_timeout_us; /* tests: the parser's time limit (scan.h); 0: the default */
    unsigned jobs;             /* threads of this process; 0 means 1 */
    cas_t *cache;              /* NULL: none; borrowed */
    /* the project (run/project.h): roots, arguments, --explain, tests */
    const char *const *roots;
    size_t n_roots;
    const char *const *args;
    size_t n_args;
    FILE *explain;             /* NULL: no --explain lines */
    unsigned shuffle;          /* tests: STRATA_TEST_SHUFFLE */
    bool whole;                /* look the whole run up in the cache (not for strata graph) */
    progress_t *progress;      /* NULL: none */
    const atomic_bool *cancel; /* set by any thread: the run stops soon */
    FILE *log;                 /* warnings; NULL: none */
    /* Called once per run when the cache fails (from any thread); the run
     * goes on without it. NULL: none. */
    void (*on_cache_error)(void *ctx, const st_err_t *err);
    /* A scan failed in this process for a reason of ours (from any
     * thread): NULL: the file gets an internal-error E902 instead. */
    void (*on_job_error)(void *ctx, const char *path, const st_err_t *err);
    void *ctx;
    /* strata check's worker processes: never when no_workers; by number
     * when workers > 0; else when the policy says they pay. NULL: never. */
    bool no_workers;
    unsigned workers;
    run_make_workers_fn make_workers;
    void *make_ctx;
    /* The directory of the cost record (the cache's); NULL: none kept. */
    const char *cost_dir;
    /* The directory of the stat index (run/statidx.h: the cache's) and the
     * wall clock (ns) taken before any file's stamp was: the files whose
     * stat is unchanged since they were hashed are not read again. NULL: no
     * index, every file is read and hashed. */
    const char *index_dir;
    uint64_t stamped_since_ns;
    /* The user's cache of library files' scan results, shared by every
     * project (content-addressed, so any project may read and add): looked
     * up when the run's cache misses, opened then; a hit is copied into
     * the run's cache, a scan added to both. NULL: none. */
    const char *shared_dir;
    /* The team cache (run/remote.h), a tier behind the run's cache: what
     * that misses is looked up there, hits are copied into it, and the
     * results the run computes are queued for upload (when its uploads are
     * on). NULL: none. Borrowed. */
    rcache_t *remote;
    /* The environment's library modules (run/libfind.h's finder: this
     * process's, or a coordinator's client; borrowed): before the checks,
     * the run adds the stubs and packages the files' imports reach, scans
     * them as context, and asks again until nothing new is reached. With
     * blobs, a file the finder gives comes with its digest, its content in
     * the blob store by then. NULL: imports of what the project lacks stay
     * unknown. */
    const lib_finder_t *finder;
    bool env_found;             /* an interpreter answered: missing packages are E0401 */
    const char *python;         /* its path (borrowed), named in those E0401s */
    const char *env_key;        /* the environment in the whole run's key (project.h) */
    const char *env_key_remote; /* ... in the team cache's key of it (project.h) */
    char *(*env_key_remote_make)(const void *ctx);
    const void *env_key_remote_ctx;
    scan_target_t target; /* what stubs' branches are decided for; zero: the default */
    /* The whole-run record this invocation used last, read ahead while the
     * files were walked (project.h); NULL: none. Borrowed. */
    const project_ahead_t *ahead;
} run_opts_t;

typedef struct {
    size_t files;          /* files with a job (not skipped) */
    size_t scanned;        /* scan results that came from a scan */
    size_t cached;         /* from the cache (or known to the whole-run lookup) */
    size_t context;        /* files that are context (run/scope.h), of files */
    size_t context_cached; /* of cached: context files' */
    size_t failed;         /* jobs that failed (an E902, or named through on_job_error) */
    size_t unreadable;     /* files that could not be read (E902) */
    size_t early;          /* scanned here while the workers started */
    bool indexed;          /* the run kept a stat index (run/statidx.h) */
    size_t unchanged;      /* files whose digest came from it (not read) */
    size_t hashed;         /* files read and hashed */
    size_t shared_hits;    /* library scans from the shared cache */
    size_t remote_hits;    /* scans from the team cache */
    bool whole;            /* the whole run came from the cache */
    bool chose;            /* the policy was asked about worker processes */
    policy_choice_t choice;
    bool used_workers;       /* the run had a worker back end */
    backend_stats_t backend; /* the worker back end's, when used */
    project_stats_t project; /* the check stage's */
} run_stats_t;

/* A run over opts->files (options copied; what they point to borrowed).
 * NULL with err set: ST_ENOMEM. Caller owns it (run_destroy). */
run_t *run_new(const run_opts_t *opts, st_err_t *err);

/* Stops its back end (if run_finish was not called) and frees; accepts NULL. */
void run_destroy(run_t **self_p);

/* The run's project (borrowed: for --explain and strata graph). */
project_t *run_project(run_t *self);

/* digest: every file's scan key (with a cache: read and hashed on the
 * pool, or from the digests given). Files that cannot be read get their
 * E902 here. Nothing without a cache. */
st_rc_t run_digest(run_t *self, st_err_t *err);

/* lookup (whole): true when the whole run's diagnostics are in the cache
 * (then no other stage is needed before run_check, which just reports). */
bool run_lookup_whole(run_t *self);

/* lookup: every keyed file's scan result from the cache; the others are
 * the run's misses. */
st_rc_t run_lookup(run_t *self, st_err_t *err);

/* scan: the misses on back end b (borrowed; the run uses it for the
 * checks too), or with b NULL on the one the policy chooses (threads, or
 * opts.make_workers's). ST_EINTERNAL when a job failed (named already),
 * ST_EIO when cancelled, the sink's error otherwise. */
st_rc_t run_scan(run_t *self, backend_t *b, st_err_t *err);

/* digest, lookup (whole, then each), scan: every scan result is in the
 * project when it returns ST_OK. */
st_rc_t run_scans(run_t *self, st_err_t *err);

/* graph, check, report: the check jobs (on the scan back end when it takes
 * them), every file's diagnostics into report. */
st_rc_t run_check(run_t *self, report_t *report, st_err_t *err);

/* graph alone (strata graph): after run_scans, the import graph written
 * to out. */
st_rc_t run_write_graph(run_t *self, project_graph_format_t format, FILE *out, st_err_t *err);

/* Stops the worker back end (its stats kept) and merges what the run
 * measured into the cost record. */
void run_finish(run_t *self);

/* Scan results so far: scanned, and from the cache (any thread, while the
 * run's thread works). */
void run_progress(run_t *self, size_t *scanned, size_t *cached);

/* A snapshot of the counts (any thread; the backend's after run_finish). */
void run_stats(run_t *self, run_stats_t *out);

#endif
