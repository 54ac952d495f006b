/* e902.c - the table of E902 texts (see e902.h). */
#include "run/e902.h"

#include <stdio.h>
#include <string.h>

/* The longest detail kept: a worker's error text can be long, the message
 * stays one line of a report. */
#define E902_DETAIL_MAX 400

static const char *const formats[E902_N] = {
    [E902_READ] = "cannot read file: %.*s",
    [E902_TOO_LARGE] = "%.*s",
    [E902_DIRECTORY] = "cannot read directory: %.*s",
    [E902_INTERNAL] = "internal error, file not checked: %.*s",
    /* (parenthesized: one string on two lines, not two items) */
    [E902_NO_BLOB] = ("internal error, file not checked: its content is not in the "
                      "coordinator's cache%.*s"),
    [E902_BAD_RESULT] = "internal error: a worker's scan result: %.*s",
    [E902_CHECK_FAILED] = "internal error: cross-module check failed: %.*s",
};

const char *e902_text(char *out, size_t cap, e902_why_t why, const char *detail, size_t detail_len)
{
    if (cap == 0)
        return out;
    if (detail == NULL)
        detail_len = 0;
    if (detail_len > E902_DETAIL_MAX)
        detail_len = E902_DETAIL_MAX;
    if ((unsigned)why >= E902_N)
        why = E902_INTERNAL;
    snprintf(out, cap, formats[why], (int)detail_len, detail != NULL ? detail : "");
    return out;
}

const char *e902_textf(char *out, size_t cap, e902_why_t why, const char *detail)
{
    return e902_text(out, cap, why, detail, detail != NULL ? strlen(detail) : 0);
}

const char *e902_read_text(char *out, size_t cap, st_rc_t rc, const st_err_t *err)
{
    return e902_textf(out, cap, rc == ST_ELIMIT ? E902_TOO_LARGE : E902_READ, err->msg);
}

scan_diag_t e902_diag(const char *message)
{
    return (scan_diag_t){.line = 1, .col = 1, .code = "E902", .message = message};
}
