/* exec.h - the in-process job executor: scan a list of files on a thread pool.
 *
 * Scan jobs are independent, so they run on a fixed pool of threads, each
 * with its own scanner (a tree-sitter parser is single-threaded) and an
 * arena from a shared pool for each job. Threads take the next file from an
 * atomic index over the list sorted largest first, so the long files start
 * early and the short ones fill the gaps at the end. A job reads its file,
 * scans it, decodes the result document exactly as a remote worker's would
 * be decoded, and hands the diagnostics to a sink that copies what it keeps:
 * the job's arena goes back to the pool when the job ends.
 *
 * Starting threads costs more than scanning a few small files, so a small
 * input (under EXEC_INLINE_MAX_BYTES in total, or a single file) runs in the
 * calling thread; bench/exec_bench.c measured the break-even.
 *
 * With a cache (common/cas/cas.h) a run has three phases: every file is
 * read and hashed into its scan job key (worker/jobkey.h) on the pool, all
 * keys are looked up in one batch, and only the misses are scanned (and
 * their results stored). A second run on unchanged files thus reads and
 * hashes, but starts no scanner. A cached result that does not decode is a
 * miss; a cache that fails is a warning, and the run goes on without it. */
#ifndef STRATA_RUN_EXEC_H
#define STRATA_RUN_EXEC_H

#include "common/cas/cas.h"
#include "common/status.h"
#include "worker/python/scan.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a finished job hands to the sink: the file, its diagnostics (sorted
 * by line, col, code), the whole scan result document (for the summary that
 * the cross-module checks read; len 0 when the file got E902 without a
 * scan), and the scan job key when the run has a cache. Everything is
 * borrowed for the call only. */
typedef struct {
    size_t id;        /* the exec_file_t's id */
    const char *path; /* the exec_file_t's path */
    const scan_diag_t *diags;
    size_t n_diags;
    span_t result;
    bool cached; /* the result came from the cache (no scan ran) */
    bool has_key;
    digest_t key;
} exec_done_t;

/* Receives one finished file. Called from the pool's threads, concurrently:
 * it must be thread-safe. A non-OK return is remembered and becomes
 * exec_run's result; the remaining files are still scanned. */
typedef st_rc_t (*exec_sink_fn)(void *ctx, const exec_done_t *done, st_err_t *err);

/* One file to scan: its path, its size when listed (a hint for ordering;
 * the file is read to its end whatever it has become), and an id of the
 * caller's, given back to the sink. */
typedef struct {
    const char *path;
    uint64_t size;
    size_t id;
} exec_file_t;

/* A file's scan job key after the hashing phase of a cached run: ok is
 * false for a file that could not be read or hashed (it got its E902 or
 * failed already). */
typedef struct {
    size_t id; /* the exec_file_t's id */
    bool ok;
    digest_t key;
} exec_keyed_t;

/* Called once in a cached run, from the calling thread, when every file
 * is hashed, with the keys of all n files (in no particular order). True
 * means the caller already knows every result it needs (it cached the
 * whole run's outcome under a digest of these keys): the run then ends
 * there, with no lookup and no scan; the sink saw only the E902s. */
typedef bool (*exec_keyed_fn)(void *ctx, const exec_keyed_t *keyed, size_t n);

typedef struct {
    unsigned jobs;         /* threads; 0 means 1 */
    size_t max_file_bytes; /* larger files get one E902 diagnostic; 0: scan default */
    exec_sink_fn sink;
    void *sink_ctx;
    /* Called from the pool's threads when a job fails for a reason of ours
     * (out of memory, a scan error): the run goes on and exec_run returns
     * ST_EINTERNAL at the end. NULL: no call. */
    void (*on_job_error)(void *ctx, const char *path, const st_err_t *err);
    /* Scan results are looked up here before scanning and stored after
     * (namespace CAS_RESULTS). NULL: no cache. Borrowed for the run. */
    cas_t *cache;
    /* Called (from any thread, at most once per run) when the cache fails a
     * lookup or a store; the run goes on as if the entry were absent. NULL:
     * no call. */
    void (*on_cache_error)(void *ctx, const st_err_t *err);
    /* See exec_keyed_fn; NULL: none. Gets sink_ctx. */
    exec_keyed_fn keyed;
    /* Non-NULL: the files that would be scanned are not; their ids go to
     * misses[0..*n_misses) instead (capacity: one per file), for the
     * caller to run elsewhere (worker processes). Files that cannot be
     * read (in a cached run) got their E902 already; in an uncached run
     * every file is a miss, unread. */
    size_t *misses;
    size_t *n_misses;
} exec_opts_t;

typedef struct {
    size_t files;          /* jobs run */
    size_t unreadable;     /* of which got E902 because the file could not be read */
    size_t failed;         /* of which failed (on_job_error was called) */
    size_t scanned;        /* of which were scanned (scanner_run called) */
    size_t cached;         /* of which took their result from the cache (or
                              were known to the keyed callback) */
    bool whole;            /* the keyed callback ended the run */
    size_t corrupt;        /* cached results that did not decode (then scanned) */
    size_t stored;         /* results stored into the cache */
    uint64_t bytes;        /* bytes read (files read twice count twice) */
    unsigned threads;      /* threads started for the scans (0: none, or inline) */
    unsigned hash_threads; /* threads started to read and hash (cache only) */
} exec_stats_t;

/* Below this many bytes in total the jobs run in the calling thread: see
 * exec.c for the measurement. */
extern const uint64_t EXEC_INLINE_MAX_BYTES;

/* The same for reading and hashing (the first phase of a cached run). */
extern const uint64_t EXEC_HASH_INLINE_MAX_BYTES;

/* Scans files[0..n) and passes each file's diagnostics to opts->sink; a file
 * that cannot be read gets one diagnostic at 1:1, "E902 cannot read file:
 * <reason>". The file list is not modified (the executor sorts a copy).
 * ST_OK: every job ran and every sink call succeeded. ST_EINTERNAL: some job
 * failed (see on_job_error); the sink's code when it failed; ST_ENOMEM or
 * ST_EIO when the pool could not be set up (then no job ran). *stats (if
 * not NULL) is filled in every case. Blocks until every job is done. */
st_rc_t exec_run(const exec_opts_t *opts, const exec_file_t *files, size_t n, exec_stats_t *stats,
                 st_err_t *err);

/* Reads the whole file at path into arena a (*data valid until a is reset,
 * NUL-terminated; *len excludes the NUL), reading at most max_bytes + 1
 * bytes so that an oversized file is seen as such without reading it all.
 * ST_EIO with errno's text in err when the file cannot be opened or read;
 * ST_ENOMEM when a is exhausted. Thread-safe for distinct arenas. */
st_rc_t exec_read_file(const char *path, size_t max_bytes, arena_t *a, uint8_t **data, size_t *len,
                       st_err_t *err);

#endif
