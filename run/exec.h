/* exec.h - this process's threads: reading files, a pool of threads over a
 * list of jobs, and the threads back end of the scans.
 *
 * Scan jobs are independent, so they run on a fixed pool of threads, each
 * with its own scanner (a tree-sitter parser is single-threaded) and an
 * arena from a shared pool for each job. Threads take the next job from an
 * atomic index over the list, which the run sorts largest first, so the
 * long files start early and the short ones fill the gaps at the end.
 * Starting threads costs more than scanning a few small files, so a small
 * input runs in the calling thread (run/policy.h says when).
 *
 * The same pool reads and hashes every file of a cached run (the digest
 * stage, run/run.c), and is the threads back end (run/backend.h) that
 * scans the misses: its poll runs the jobs submitted so far and ends each
 * through the run's sink on the pool's threads. */
#ifndef STRATA_RUN_EXEC_H
#define STRATA_RUN_EXEC_H

#include "common/arena.h"
#include "common/digest.h"
#include "common/status.h"
#include "run/backend.h"
#include "worker/python/scan.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a finished scan hands to the project (run/project.h): the file, its
 * diagnostics (sorted by line, col, code), the whole scan result document
 * (for the summary that the cross-module checks read; len 0 when the file
 * got E902 without a scan), and the scan job key when the run has one.
 * Everything is borrowed for the call only. */
typedef struct {
    size_t id;        /* the file's index in the run */
    const char *path; /* the file's path */
    const scan_diag_t *diags;
    size_t n_diags;
    span_t result;
    bool cached;    /* the result came from the cache (no scan ran) */
    bool transient; /* the scan says it must not be cached (scan_result_transient) */
    bool has_key;
    digest_t key;
} exec_done_t;

/* A file's scan job key after the digest stage of a cached run: ok is
 * false for a file that could not be read or hashed (it got its E902 or
 * failed already). */
typedef struct {
    size_t id; /* the file's index in the run */
    bool ok;
    digest_t key;
} exec_keyed_t;

/* Job k of a pool run: a is the job's arena (put back after; NULL when
 * out of memory), scanner the thread's (NULL unless asked for). Called on
 * the pool's threads, concurrently. */
typedef void (*exec_job_fn)(void *ctx, size_t k, arena_t *a, scanner_t *scanner);

typedef struct {
    unsigned jobs;       /* threads at most; 0 means 1 */
    uint64_t inline_max; /* below this many bytes in all: the calling thread */
    bool scanners;       /* each thread gets a scanner */
} exec_pool_opts_t;

/* Runs jobs 0..n-1 (bytes: their size in all) on the threads
 * policy_threads gives, taking them in order; *started (may be NULL) gets
 * the threads started (0: ran in the calling thread). ST_ENOMEM when the
 * threads' state cannot be made (then no job ran). Blocks until every job
 * ran. */
st_rc_t exec_pool_run(const exec_pool_opts_t *opts, size_t n, uint64_t bytes, exec_job_fn fn,
                      void *ctx, unsigned *started, st_err_t *err);

/* The threads back end (run/backend.h) with `jobs` threads: ST_ENOMEM. */
st_rc_t exec_backend_new(unsigned jobs, backend_t *out, st_err_t *err);

/* Reads the whole file at path into arena a (*data valid until a is reset,
 * NUL-terminated; *len excludes the NUL), reading at most max_bytes + 1
 * bytes so that an oversized file is seen as such without reading it all.
 * ST_EIO with errno's text in err when the file cannot be opened or read;
 * ST_ELIMIT (the message to show) when it is over max_bytes; ST_ENOMEM when
 * a is exhausted. Thread-safe for distinct arenas. */
st_rc_t exec_read_file(const char *path, size_t max_bytes, arena_t *a, uint8_t **data, size_t *len,
                       st_err_t *err);

/* The first max_bytes + 1 bytes of fd (a file, or a pipe such as standard
 * input) into arena a, NUL-terminated; hint is a first buffer size (the
 * buffer grows as the bytes come). ST_EIO with errno's text; ST_ENOMEM. */
st_rc_t exec_read_fd(int fd, size_t hint, size_t max_bytes, arena_t *a, uint8_t **data, size_t *len,
                     st_err_t *err);

/* exec_read_file with the size the walk saw (size_hint; NULL: unknown),
 * which saves an fstat: only a first buffer size, the file is read to its
 * end either way. */
st_rc_t exec_read_sized(const char *path, const uint64_t *size_hint, size_t max_bytes, arena_t *a,
                        uint8_t **data, size_t *len, st_err_t *err);

#endif
