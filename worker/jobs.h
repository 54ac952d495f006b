/* jobs.h - a job run from its input bytes: the one entry point of every mode.
 *
 * DESIGN.md promises byte-identical results whatever runs a job: the
 * in-process executor, a worker process on this host, or one on another
 * machine. So a job is named by a kind and an input document, and this one
 * function turns them into the result document: the executor and the
 * worker process (worker/wproc.h) both call it, and the coordinator only
 * moves bytes. The input is untrusted (it may come off the wire): a
 * malformed one fails the job with ST_ECORRUPT, it never crashes the worker.
 *
 * Inputs:
 *   JOBS_SCAN   msgpack [scan kind (scan_kind_t), max_file_bytes (uint,
 *               0: the scan's default), [major, minor, platform] (the
 *               target, defaults resolved: worker/scan_target.h), content
 *               (bin)], built by jobs_scan_input; the result is
 *               scanner_run's document
 *   JOBS_CHECK  the check input document (xmod.h); check_run's result
 *   JOBS_ECHO   any bytes, returned unchanged: a job of no cost, to measure
 *               what dispatching costs (bench/dispatch_bench.c) */
#ifndef STRATA_JOBS_H
#define STRATA_JOBS_H

#include "common/arena.h"
#include "common/buf.h"
#include "common/status.h"
#include "worker/jobkey.h"
#include "worker/python/xmod.h"
#include "worker/python/scan.h"

#include <stdint.h>

/* The analyzer version a worker says in HELLO and a coordinator asks for:
 * the release and the format of every job document (scan result, check
 * input and result), so that a worker that would answer any job
 * differently is refused rather than given jobs. */
#define JOBS_ANALYZER_VERSION                                                                      \
    STRATA_VERSION "+scan" JOBKEY_STR(SCAN_RESULT_VERSION) "+check" JOBKEY_STR(                    \
        CHECK_INPUT_VERSION) "." JOBKEY_STR(CHECK_RESULT_VERSION)

typedef enum { JOBS_SCAN = 0, JOBS_CHECK = 1, JOBS_ECHO = 2 } jobs_kind_t;

#define JOBS_N_KINDS 3

/* Appends the input document of a scan job to b (a heap or arena buffer).
 * ST_ELIMIT when len is over UINT32_MAX or opts->max_file_bytes over
 * UINT32_MAX; ST_ENOMEM. opts may be NULL (defaults). */
st_rc_t jobs_scan_input(buf_t *b, scan_kind_t kind, const scan_opts_t *opts, const uint8_t *src,
                        size_t len, st_err_t *err);

/* Runs a job of the given kind (a uint32 off the wire: an unknown kind is
 * ST_EINVAL) on input. scanner is the calling thread's own (needed by scan
 * jobs only, may be NULL otherwise: then a scan job is ST_EINVAL). On ST_OK
 * *out points into arena a (or, for JOBS_ECHO, is input itself), valid until
 * a is reset. Errors: ST_ECORRUPT for a malformed input, ST_ENOMEM when a's
 * limit is hit, ST_EINTERNAL; err says what. Thread-safe for distinct
 * scanners and arenas. */
st_rc_t jobs_run(scanner_t *scanner, uint32_t kind, span_t input, arena_t *a, span_t *out,
                 st_err_t *err);

/* "scan", "check", "echo", or "?"; static. */
const char *jobs_kind_name(uint32_t kind);

#endif
