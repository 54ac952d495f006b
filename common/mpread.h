/* mpread.h - a bounds-checked reader of msgpack bytes that come from outside.
 *
 * msgpack-c's unpacker builds a whole object tree and sizes its zone from the
 * counts it reads, so a message that claims four billion elements costs memory
 * before it is known to be false. This reader allocates nothing: it walks the
 * bytes in place, and every length and count it returns has been checked
 * against the bytes that remain. Decoders of results, cache records and wire
 * messages are built on it. */
#ifndef STRATA_MPREAD_H
#define STRATA_MPREAD_H

#include "common/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    const uint8_t *p;
    size_t len;
    size_t pos;
} mpread_t;

/* Maximum nesting mpread_skip follows before calling the input corrupt. */
#define MPREAD_MAX_DEPTH 64

static inline void mpread_init(mpread_t *r, const void *p, size_t len)
{
    r->p = (const uint8_t *)p;
    r->len = len;
    r->pos = 0;
}

/* Each reader returns ST_OK and advances, or ST_ECORRUPT and leaves the
 * position unchanged (wrong type, truncated, or a count larger than the
 * bytes left could hold). */
st_rc_t mpread_map(mpread_t *r, uint32_t *count);
st_rc_t mpread_array(mpread_t *r, uint32_t *count);
/* An array header whose elements, of at least min_bytes each, fit the bytes
 * left: a count that may then size an allocation before the elements are
 * read. */
st_rc_t mpread_array_min(mpread_t *r, size_t min_bytes, uint32_t *count);
/* *s points into the input (not NUL-terminated). */
st_rc_t mpread_str(mpread_t *r, const char **s, uint32_t *len);
st_rc_t mpread_bin(mpread_t *r, const uint8_t **s, uint32_t *len);
st_rc_t mpread_uint(mpread_t *r, uint64_t *v);
/* A uint that fits 32 bits (line numbers, indices, counts of formats). */
st_rc_t mpread_u32(mpread_t *r, uint32_t *v);
st_rc_t mpread_int(mpread_t *r, int64_t *v);
st_rc_t mpread_bool(mpread_t *r, bool *v);
/* True (and advances) when the next value is nil. */
bool mpread_nil(mpread_t *r);
/* Skips one value of any type, nested up to MPREAD_MAX_DEPTH. */
st_rc_t mpread_skip(mpread_t *r);

/* True when the next value is a str equal to key (then consumed). */
bool mpread_key(mpread_t *r, const char *key);

#endif
