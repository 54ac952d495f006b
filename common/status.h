/* status.h - return codes, error messages and checked size arithmetic.
 *
 * Every fallible function in strata returns an st_rc_t and passes results
 * through out-parameters; an optional st_err_t carries a human message so
 * that the caller can log what failed and where without a global errno.
 * Sizes taken from untrusted input go through st_mul_size/st_add_size before
 * they allocate or index anything. */
#ifndef STRATA_STATUS_H
#define STRATA_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    ST_OK = 0,
    ST_EINVAL = -1,   /* bad argument or malformed request */
    ST_ENOENT = -2,   /* absent (or unreadable entry treated as absent) */
    ST_ENOMEM = -3,   /* allocation failed */
    ST_EIO = -4,      /* operating-system I/O error */
    ST_ECORRUPT = -5, /* input bytes are not what they claim to be */
    ST_ELIMIT = -6,   /* a configured or hard size limit was exceeded */
    ST_EEXIST = -7,   /* already present */
    ST_EINTERNAL = -8 /* a bug of ours, reported rather than aborting */
} st_rc_t;

#define ST_ERR_MSG_MAX 256

/* Code and message of the last failure. Zero-initialise before use. */
typedef struct {
    st_rc_t code;
    char msg[ST_ERR_MSG_MAX];
} st_err_t;

/* A borrowed byte range; who owns the bytes is said where a span is returned. */
typedef struct {
    const uint8_t *ptr;
    size_t len;
} span_t;

/* Records code and formatted message in err (if not NULL); returns code so
 * that callers can write `return st_fail(err, ST_EIO, "...")`. */
st_rc_t st_fail(st_err_t *err, st_rc_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Static, never NULL. */
const char *st_strerror(st_rc_t code);

/* Returns expr's code from the calling function unless it is ST_OK: for
 * decoders that read a dozen fields in a row (a macro, since a function
 * cannot return for its caller). */
#define ST_TRY(expr)                                                                               \
    do {                                                                                           \
        st_rc_t st_try_rc_ = (expr);                                                               \
        if (st_try_rc_ != ST_OK)                                                                   \
            return st_try_rc_;                                                                     \
    } while (0)

/* Overflow-checked arithmetic: false (and *out untouched) on overflow. */
static inline bool st_mul_size(size_t a, size_t b, size_t *out)
{
    size_t r;
    if (__builtin_mul_overflow(a, b, &r))
        return false;
    *out = r;
    return true;
}

static inline bool st_add_size(size_t a, size_t b, size_t *out)
{
    size_t r;
    if (__builtin_add_overflow(a, b, &r))
        return false;
    *out = r;
    return true;
}

#endif
