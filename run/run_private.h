/* run_private.h - the state of a run, shared by run/run.c (the stages) and
 * run/run_scan.c (the scan stage's driver and the one path every result
 * takes into the project). Not for other folders. */
#ifndef STRATA_RUN_RUN_PRIVATE_H
#define STRATA_RUN_RUN_PRIVATE_H

#include "run/run.h"

#include <pthread.h>

/* Where a file stands. */
typedef enum {
    RUN_FILE_TODO = 0,   /* no result yet */
    RUN_FILE_QUEUED = 1, /* submitted to a back end */
    RUN_FILE_DONE = 2    /* its result, E902 or failure is in */
} run_file_state_t;

struct run {
    run_opts_t opts;
    scan_opts_t scan;
    digest_t config; /* jobkey_scan_config(scan), with a cache */
    project_t *project;
    const char **paths; /* owned when opts.paths was NULL, or once grown */
    run_file_t *files;  /* owned once grown (library files): opts.files then points here */
    size_t cap;         /* of files and the per-file arrays, once grown */
    /* per file: written by the one thread that has the file's job */
    digest_t *keys;
    bool *keyed;
    /* the stat index (NULL: none): per file its stamp and content digest,
     * hashed[i] once content[i] is known (STAMP_READ: read this run) */
    statidx_t *index;
    digest_t index_id;
    file_stamp_t *stamps;
    digest_t *content;
    uint8_t *hashed;
    atomic_size_t index_hits;
    /* the shared cache of library scans (opts.shared_dir), opened by the
     * first lookup that needs it, before any scan of a library file */
    cas_t *shared;
    bool shared_tried;
    atomic_size_t shared_hits;
    atomic_size_t remote_hits; /* scans from the team cache */
    uint64_t index_since_ns;   /* stamps older than this by STATIDX_RACY_NS are kept */
    uint8_t *state;            /* run_file_state_t */
    size_t *misses;            /* the files left to scan after the lookups */
    size_t n_misses;
    /* counts (any thread) */
    atomic_size_t scanned, cached, failed, unreadable, finished, early;
    atomic_size_t context_cached; /* of cached: context files' */
    atomic_size_t in_flight;      /* files submitted to the back end, not ended */
    atomic_uint_fast64_t bytes_read;
    atomic_bool cache_failed;
    pthread_mutex_t lock; /* rc, err */
    st_rc_t rc;           /* the first error of a result's way into the project */
    st_err_t err;
    /* the scan back end */
    backend_t workers; /* the one the run made (opts.make_workers) */
    backend_t *checks; /* the one the check jobs may use (borrowed or &workers) */
    bool whole, chose, used_workers;
    policy_choice_t choice;
    policy_cost_t cost;
    backend_stats_t bstats;
    double here_bytes_per_ms; /* a thread of this run's scans here, when measured */
    project_stats_t pstats;
    /* the driver's own scans (run__scan_here) */
    scanner_t *scanner;
    arena_t *here;
};

/* The sink every back end gets (run/run_scan.c). */
backend_sink_t run__sink(run_t *self);

/* Reads file i's bytes into a and notes its scan key (sink.read). */
bool run__read(void *ctx, size_t i, arena_t *a, span_t *data);

/* A scan result of file i (from the cache when cached) into the project
 * and the cache; false when a cached one does not decode (a miss then). */
bool run__deliver(run_t *self, size_t i, span_t result, bool cached, arena_t *a);

/* The scan stage on back end b. */
st_rc_t run__scan_on(run_t *self, backend_t *b, st_err_t *err);

/* qsort_r's order of file indices (ctx: the run_file_t array): largest
 * first (the long jobs start early, the short ones fill the end), equal
 * sizes by path, so that the order is the same every run. */
int run__larger_first(const void *pa, const void *pb, void *ctx);

/* The scan key of content data of the given kind, with the run's
 * configuration; the content's SHA-256 into *content (NULL: not wanted). */
st_rc_t run__scan_key(const run_t *self, scan_kind_t kind, span_t data, digest_t *key,
                      digest_t *content, st_err_t *err);

/* hashed[i]: how file i's content digest became known. */
enum { RUN_HASH_NONE = 0, RUN_HASH_INDEX = 1, RUN_HASH_READ = 2 };

/* The cache failed: told once per run. */
void run__cache_failed(run_t *self, const st_err_t *err);

#endif
