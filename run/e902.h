/* e902.h - the one builder of E902 diagnostics: a file the run could not
 * check, and why.
 *
 * A file gets an E902 at 1:1 when it cannot be read, is over the size
 * limit, its directory cannot be listed, its scan job was lost or failed
 * on a worker, its result does not decode, or its cross-module check job
 * failed. Those texts reach users and tests, and every mode (in-process,
 * worker processes, a cluster, the client of one) must word them the same;
 * so they live in one table here, and every E902 of the run, the back ends,
 * the coordinator and the client is made by e902_text. */
#ifndef STRATA_RUN_E902_H
#define STRATA_RUN_E902_H

#include "common/status.h"
#include "worker/python/scan.h"

#include <stddef.h>

typedef enum {
    E902_READ,         /* the file could not be read: detail is the reason */
    E902_TOO_LARGE,    /* over --max-file-size: detail is the whole message */
    E902_DIRECTORY,    /* a directory could not be listed: detail is the reason */
    E902_INTERNAL,     /* a job failed or was lost: detail is why */
    E902_NO_BLOB,      /* the coordinator lost the content it was sent */
    E902_BAD_RESULT,   /* a worker's scan result does not decode: detail is why */
    E902_CHECK_FAILED, /* the file's cross-module check job failed: detail is why */
    E902_N
} e902_why_t;

/* Room for any E902 message (its detail is cut at 400 bytes). */
#define E902_MESSAGE_MAX 512

/* The message for why with detail (its first detail_len bytes, at most 400;
 * NULL: none) into out (cap bytes, NUL-terminated, cut to fit). Returns
 * out. Pure. */
const char *e902_text(char *out, size_t cap, e902_why_t why, const char *detail, size_t detail_len);

/* e902_text with the whole of detail (a C string). */
const char *e902_textf(char *out, size_t cap, e902_why_t why, const char *detail);

/* The E902 a file gets when reading it failed with rc (ST_ELIMIT: too
 * large, else unreadable) and err's message. */
const char *e902_read_text(char *out, size_t cap, st_rc_t rc, const st_err_t *err);

/* The diagnostic at 1:1 with message (borrowed). */
scan_diag_t e902_diag(const char *message);

#endif
