/* jobkey.h - the cache keys of jobs: what a job's result depends on, hashed.
 *
 * A job is a pure function of its inputs, so its result can be stored under
 * a digest of those inputs and reused by any run that has the same ones.
 * The key of a scan job is SHA-256 over a canonical encoding of ("scan",
 * analyzer version, config digest, file kind, content digest), as DESIGN.md
 * says, and for a stub (.pyi) the target its version and platform branches
 * are decided for (worker/scan_target.h); a .py's key has no target, so one
 * cache serves every target for a project's sources. The path is deliberately not an input: two
 * identical files share one result and a moved file is a hit. Everything that could change the
 * bytes of a scan result must be in the key, or a stale result would be served: the analyzer
 * version covers the code (bump STRATA_VERSION on a release, SCAN_RESULT_VERSION when the result
 * document or any diagnostic changes), the config digest covers the scan options.
 *
 * The encoding is a fixed tag, then each field as a 4-byte big-endian length
 * and its bytes, so no two different inputs encode to the same bytes. */
#ifndef STRATA_JOBKEY_H
#define STRATA_JOBKEY_H

#include "common/digest.h"
#include "common/status.h"
#include "worker/python/scan.h"

#include <stddef.h>

/* The product version, printed by `strata version`. */
#define STRATA_VERSION "0.1.0"

#define JOBKEY_STR_(x) #x
#define JOBKEY_STR(x) JOBKEY_STR_(x)

/* The analyzer version in scan keys: the release and the result format.
 * Any change to what a scan outputs must change this string. */
#define JOBKEY_ANALYZER_VERSION STRATA_VERSION "+scan" JOBKEY_STR(SCAN_RESULT_VERSION)

/* The inputs of a scan job's key. version is a NUL-terminated string
 * (normally JOBKEY_ANALYZER_VERSION; tests vary it). */
typedef struct {
    const char *version;
    digest_t config;      /* jobkey_scan_config() of the scan options */
    scan_kind_t kind;     /* scan_kind_of_path() of the file */
    digest_t content;     /* SHA-256 of the file's bytes */
    scan_target_t target; /* stubs only (scan_kind_is_stub); zero: the default */
} jobkey_scan_t;

/* The digest of the scan options that can change a scan's result, but the
 * target (a stub's key holds it, see jobkey_scan_t), with defaults made
 * explicit (max_file_bytes 0 and its default give the same
 * digest). ST_EINTERNAL when libcrypto fails; *out untouched then.
 * Thread-safe. */
st_rc_t jobkey_scan_config(const scan_opts_t *opts, digest_t *out);

/* The key of a scan job into *out. ST_EINVAL for a NULL or overlong
 * version (over 256 bytes); ST_EINTERNAL when libcrypto fails; *out
 * untouched on error. Thread-safe. */
st_rc_t jobkey_scan(const jobkey_scan_t *in, digest_t *out, st_err_t *err);

#endif
