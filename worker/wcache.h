/* wcache.h - the worker-local cache: results of jobs this worker ran.
 *
 * DESIGN.md: "Workers keep a local cache; the coordinator's cache is the
 * merged one". A coordinator that lost its cache, a second coordinator, or
 * one that sends the same job twice (a retry, another client's batch) would
 * otherwise make a worker redo work it has done. A job is a pure function
 * of its kind and input bytes, so its result is stored under a digest of
 * (analyzer version, kind, input): that key is exact, and a hit gives the
 * bytes jobs_run would give. The store is a CAS (common/cas/cas.h): a memory
 * tier under a byte budget, and a disk tier when a directory is given, so a
 * restarted worker still has its results.
 *
 * The cache is never why a job fails or gets a wrong answer: a value read
 * back is verified by the CAS (a damaged one reads as a miss), a store that
 * cannot be opened or read makes every lookup a miss, and the job runs. The
 * first such problem is logged (LOG_WARN) once; damaged entries are counted
 * and said once when the cache is closed. Only results of scan and check
 * jobs that succeeded are kept (an echo job costs nothing; an error may be
 * an exhausted arena, which another run would not hit). */
#ifndef STRATA_WCACHE_H
#define STRATA_WCACHE_H

#include "common/arena.h"
#include "common/digest.h"
#include "common/status.h"
#include "worker/jobkey.h"
#include "worker/jobs.h"
#include "worker/python/xmod.h"
#include "worker/python/scan.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The analyzer version in the keys: the release and both job documents.
 * Any change to what a scan or check job outputs must change this string. */
#define WCACHE_VERSION JOBS_ANALYZER_VERSION

#define WCACHE_MEM_DEFAULT ((size_t)64 << 20)

typedef struct wcache wcache_t;

typedef struct {
    const char *dir;     /* disk tier: a CAS in this directory (created); NULL: memory only */
    size_t mem_budget;   /* memory tier in bytes; 0: WCACHE_MEM_DEFAULT */
    const char *version; /* analyzer version in the keys; NULL: WCACHE_VERSION (tests vary it) */
} wcache_opts_t;

typedef struct {
    uint64_t hits;      /* jobs answered from the cache */
    uint64_t disk_hits; /* of them, read from the disk tier */
    uint64_t misses;    /* lookups that found nothing: the job ran */
    uint64_t stored;    /* results kept */
    uint64_t corrupt;   /* entries found damaged and dropped (counted as misses) */
    bool disk;          /* the disk tier is on (a directory was given and works) */
} wcache_stats_t;

/* Opens the cache. A directory that cannot be used is not an error: the
 * CAS logs why and the cache keeps results in memory only. ST_EINVAL for a
 * version over 256 bytes; ST_ENOMEM. Caller owns *out (wcache_destroy). */
st_rc_t wcache_open(const wcache_opts_t *opts, wcache_t **out, st_err_t *err);

/* Commits what the disk tier holds back (it commits in batches, so a
 * process about to end abruptly calls this first). Thread-safe. */
void wcache_flush(wcache_t *self);

/* Says damaged entries on the log if there were any, commits, closes,
 * frees; sets *self_p NULL, accepts NULL. */
void wcache_destroy(wcache_t **self_p);

/* True for the kinds whose results are kept (JOBS_SCAN, JOBS_CHECK). */
bool wcache_keeps(uint32_t kind);

/* The key of a job into *out: SHA-256 over a tag, the version, the kind
 * and the SHA-256 of the input. ST_EINVAL for a NULL or overlong version;
 * ST_EINTERNAL when libcrypto fails; *out untouched on error. Thread-safe. */
st_rc_t wcache_key(const char *version, uint32_t kind, span_t input, digest_t *out, st_err_t *err);

/* jobs_run (worker/jobs.h) through the cache: a kept kind is looked up
 * first, and on a miss run and its result stored. self NULL: jobs_run
 * alone. *hit (may be NULL) says whether the result came from the cache.
 * Results, errors, ownership and threads as jobs_run: on ST_OK *out points
 * into a (or is input, for an echo job). */
st_rc_t wcache_run(wcache_t *self, scanner_t *scanner, uint32_t kind, span_t input, arena_t *a,
                   span_t *out, bool *hit, st_err_t *err);

/* Counters since open. Reads the disk tier's counters (a scan of its
 * table): meant for the end of a run, not for every job. Thread-safe. */
void wcache_stats(wcache_t *self, wcache_stats_t *out);

#endif
