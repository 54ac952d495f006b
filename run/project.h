/* project.h - the whole-project stage of a check: graph, check jobs, report.
 *
 * After the scans, a project knows every file's diagnostics and local
 * summary. project_check then names the files as modules and resolves their
 * imports (scheduler/resolve.h), builds the module graph and its components
 * (scheduler/graph.h), and runs one check job (worker/python/xmod.h) per
 * component as soon as the components it imports are done, highest priority
 * first, on a pool of threads. A job's input is its modules' summaries and
 * resolutions and the interfaces of what they import; its key is a digest of
 * those inputs with each summary represented by its scan key and each
 * interface by its digest, so when an edit leaves an interface unchanged,
 * the keys of the modules that import it are unchanged too and their results
 * come from the cache (early cutoff).
 *
 * Finally every file's scan diagnostics (less the F405s a check settled) and
 * check diagnostics go into the report. The result is the same whatever the
 * number of threads and whatever order jobs finish in.
 *
 * A whole run's diagnostics are also cached in one piece, under a digest of
 * everything they depend on (the paths, the scan keys, the roots and the
 * path arguments), looked up as soon as the files are hashed
 * (project_keyed): a re-check of unchanged files then fetches no scan
 * result, builds no graph, and runs no job. */
#ifndef STRATA_RUN_PROJECT_H
#define STRATA_RUN_PROJECT_H

#include "common/cas/cas.h"
#include "common/status.h"
#include "run/progress.h"
#include "run/report.h"
#include "run/exec.h"
#include "run/libfind.h"
#include "run/statidx.h"
#include "run/remote.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>

typedef struct project project_t;

/* A project over paths[0..n) (borrowed: they outlive the project); the
 * scans' ids (exec_done_t.id) must be the indices into paths. NULL when
 * out of memory. */
project_t *project_new(const char *const *paths, size_t n);
void project_destroy(project_t **self_p);

/* File i is context (run/scope.h): scanned and checked so that the
 * others' imports see it, never reported. Before the scans. */
void project_set_context(project_t *self, size_t i);

/* Records one finished scan (the run's results go here: thread-safe;
 * copies what it keeps). */
st_rc_t project_add_scan(project_t *self, const exec_done_t *done, st_err_t *err);

/* After the scans: records, for each file scanned (not a cache hit), the
 * content it was scanned with, under a key of its path, and when out is not
 * NULL first prints why it was scanned: "new content" when the path's
 * previous record differs, "no cache entry" when there is none. cache NULL:
 * prints "no cache" for each. The cache's errors are returned. */
st_rc_t project_explain_scans(project_t *self, cas_t *cache, FILE *out, st_err_t *err);

typedef struct project_opts project_opts_t;

/* A library file a round found (run/libfind.h): its path and its module's
 * name, in the project's arena; with the size and digest of its content
 * when the finder read it elsewhere (lib_found_t). */
typedef struct {
    const char *path;
    const char *name;
    bool has_digest;
    digest_t digest;
    uint64_t size;
} project_lib_file_t;

/* After the scans of every file so far: the library files their imports
 * reach that the project does not have yet, found through finder (NULL:
 * none; borrowed for the call), asked once per round for the names the
 * round needs (and on the first round, which top-level names are the
 * standard library's).
 * *out is the caller's to free (st_free); n_out 0: the closure is complete.
 * The caller adds them (project_add_files), scans them, and asks again.
 * ST_ENOMEM, the resolver's error, or the finder's (which ends the run). */
st_rc_t project_library_round(project_t *self, const project_opts_t *opts,
                              const lib_finder_t *finder, project_lib_file_t **out, size_t *n_out,
                              st_err_t *err);

/* Adds library files (context: never reported) after the others: their ids
 * continue from the project's count. Between stages only (no scan in
 * flight). ST_ENOMEM. */
st_rc_t project_add_files(project_t *self, const project_lib_file_t *files, size_t n);

/* Whether an interpreter answered, and which (borrowed): imports of
 * top-level packages it lacks are then E0401. */
void project_set_env(project_t *self, bool found, const char *python);

/* The project's file count (library files included). */
size_t project_n_files(const project_t *self);

/* The whole-run lookup of a cached run (run/run.h run_lookup_whole),
 * after the digest stage: records each
 * file's scan key, and looks the whole run's diagnostics up under a digest
 * of all of them with the roots and path arguments (see project_check).
 * True on a hit: the run needs no scan result, no graph and no check job;
 * project_check then just reports. */
bool project_keyed(project_t *self, const project_opts_t *opts, const exec_keyed_t *keyed,
                   size_t n);

/* A scan job failed (the run names it): the run's diagnostics are
 * incomplete and are not stored whole. Thread-safe. */
void project_scan_failed(project_t *self);

/* The whole run's key, once the run found its diagnostics under it or
 * stored them there: true, *key set. False otherwise (no lookup, a run
 * that was not stored whole). */
bool project_whole_key(const project_t *self, digest_t *key);

/* A whole-run record read ahead, before the run knows its own key: while
 * the files are walked, a check fetches the record its invocation used
 * last time (run/whole_hint.h) and stats every library file it names.
 * project_keyed takes it when the run's key turns out the same, and then
 * neither reads the record again nor stats the library files. */
typedef struct {
    digest_t key;   /* the key it was read under */
    span_t value;   /* the record; ptr NULL: none */
    size_t lib_pos; /* where its library list begins */
    bool libs_same; /* the list decoded to the end, and every library file
                       has the stamp the record holds (none was missing) */
} project_ahead_t;

/* Reads the record under key from cache into *out (its bytes in a) and
 * compares its library files' stamps. False (out zeroed) when it is not
 * cached or does not decode. */
bool project_ahead_read(cas_t *cache, const digest_t *key, arena_t *a, project_ahead_t *out);

struct project_opts {
    const char *const *roots; /* --root, in order; may be empty */
    size_t n_roots;
    const char *const *args; /* the path arguments, for root detection */
    size_t n_args;
    unsigned jobs;    /* threads for the check jobs; 0 means 1 */
    cas_t *cache;     /* check results (CAS_RESULTS); NULL: none */
    rcache_t *remote; /* the team cache behind it (run/remote.h); NULL: none */
    FILE *explain;    /* non-NULL: one line per job that ran, saying why */
    unsigned shuffle; /* tests: non-zero seeds a random choice among ready
                         components instead of the priority order */
    bool barrier;     /* benches: run layer by layer (a component of layer
                         k+1 waits for all of layer k), not on readiness */
    void (*on_cache_error)(void *ctx, const st_err_t *err); /* once per run */
    void *ctx;
    /* Runs a check job elsewhere (worker processes): the same contract as
     * check_run (thread-safe; *out in arena a). NULL: check_run here. */
    st_rc_t (*run_check)(void *ctx, span_t input, arena_t *a, span_t *out, st_err_t *err);
    void *run_check_ctx;
    progress_t *progress; /* PROGRESS_COMPS and PROGRESS_CHECKED; NULL: none */
    /* Non-NULL and set (by any thread): no further check job starts, and
     * project_check returns ST_EIO ("stopped") once the running ones end. */
    const atomic_bool *cancel;
    /* The environment, when library files are checked: env_key names it
     * in the whole run's key (the target, the interpreter, the search
     * path's directories as they stand); lib_same says whether a library
     * file of a cached whole run still has the scan key it had (read and
     * hashed again; called from two threads at once). NULL: no library
     * files. */
    const char *env_key;
    /* The same for the team cache's key of the whole run: what other hosts
     * with this environment share (no modification times); NULL: made by
     * env_key_remote_make(env_key_remote_ctx) when the run's own cache
     * missed (it lists directories: a warm run does not pay it), else
     * env_key. The text made is st_malloc'd and freed here. */
    const char *env_key_remote;
    char *(*env_key_remote_make)(const void *ctx);
    const void *env_key_remote_ctx;
    bool (*lib_same)(void *ctx, const char *path, const digest_t *key);
    /* The stamp library file id had before it was read (run/statidx.h),
     * when it is one to trust (old enough): recorded with the whole run,
     * so that an unchanged re-check stats the file instead of reading it.
     * False (or NULL): none, the file is read again each time. */
    bool (*lib_stamp)(void *ctx, size_t id, file_stamp_t *out);
    /* For a run whose library files are not on this host (a coordinator's,
     * from its client): whether every one is still what its finder gives
     * for its module name, at the same path with the same scan key, asked
     * all at once (one round trip). Set: used instead of lib_same and the
     * stamps. */
    bool (*lib_same_all)(void *ctx, const char *const *names, const char *const *paths,
                         const digest_t *keys, size_t n);
    void *lib_ctx;
    /* A record read ahead (project_ahead_read); NULL: none. Borrowed. */
    const project_ahead_t *ahead;
};

typedef struct {
    size_t modules;    /* modules (including namespace packages) */
    size_t comps;      /* components of the graph */
    size_t layers;     /* layers of the condensation */
    size_t checks;     /* check jobs (components with a file to check) */
    size_t checked;    /* of which ran */
    size_t cached;     /* of which came from the cache */
    size_t remote;     /* of those, from the team cache */
    size_t failed;     /* of which failed (their files got an internal-error E902) */
    bool whole;        /* the whole run's diagnostics came from the cache in one
                          piece (project_keyed): no graph was built, the counts
                          above are 0 */
    bool ahead;        /* ... and was read ahead (project_ahead_t) */
    bool whole_remote; /* ... from the team cache */
} project_stats_t;

/* Resolves, builds the graph, runs the check jobs, and adds every file's
 * diagnostics to report. ST_OK even when jobs failed (each failure is an
 * E902 diagnostic on the component's files and counts in stats->failed);
 * errors are out of memory and the report's. */
st_rc_t project_check(project_t *self, const project_opts_t *opts, report_t *report,
                      project_stats_t *stats, st_err_t *err);

/* The makespan of the project's check jobs simulated on `workers` workers,
 * on readiness or with a layer barrier (graph_simulate; costs from summary
 * sizes). After project_check or project_write_graph; 0 before. */
uint64_t project_simulate(project_t *self, unsigned workers, bool barrier);

typedef enum { PROJECT_GRAPH_JSON = 0, PROJECT_GRAPH_DOT = 1 } project_graph_format_t;

/* Resolves and builds the graph only, and writes it: modules (name, file,
 * imports), components, layers, priorities, cycles. */
st_rc_t project_write_graph(project_t *self, const project_opts_t *opts,
                            project_graph_format_t format, FILE *out, st_err_t *err);

#endif
