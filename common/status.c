/* status.c - error records and names of return codes. */
#include "status.h"

#include <stdarg.h>
#include <stdio.h>

st_rc_t st_fail(st_err_t *err, st_rc_t code, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return code;
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return code;
}

const char *st_strerror(st_rc_t code)
{
    switch (code) {
    case ST_OK:
        return "ok";
    case ST_EINVAL:
        return "invalid argument";
    case ST_ENOENT:
        return "not found";
    case ST_ENOMEM:
        return "out of memory";
    case ST_EIO:
        return "i/o error";
    case ST_ECORRUPT:
        return "corrupt input";
    case ST_ELIMIT:
        return "limit exceeded";
    case ST_EEXIST:
        return "already exists";
    case ST_EINTERNAL:
        return "internal error";
    }
    return "unknown error";
}
