/* buf.h - growable byte buffer, on the heap or in an arena.
 *
 * Encoders, formatters and readers build byte strings of unknown length. A
 * buf_t is a plain struct (data, len, cap) that callers may read directly; it
 * grows geometrically, either with st_realloc (long-lived buffers) or inside a
 * job's arena (arena_realloc grows the newest allocation in place, so a buffer
 * built in an arena rarely copies). The bytes are always NUL-terminated
 * (data[len] == 0 once data is not NULL), so text can be used as a C string.
 *
 * Not thread-safe: one thread uses a buffer at a time. */
#ifndef STRATA_BUF_H
#define STRATA_BUF_H

#include "common/arena.h"
#include "common/status.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint8_t *data;  /* NULL until the first growth; then data[len] == 0 */
    size_t len;     /* bytes in use */
    size_t cap;     /* bytes allocated at data (room for the terminator included) */
    arena_t *arena; /* where data lives; NULL: the heap (st_realloc) */
} buf_t;

/* An empty heap buffer (no allocation yet). Release with buf_free. */
void buf_init(buf_t *b);

/* An empty buffer growing inside arena a: its bytes are valid until a is
 * reset; buf_free is optional (it only forgets them). */
void buf_init_arena(buf_t *b, arena_t *a);

/* Makes room for extra more bytes (plus the terminator) without a further
 * allocation. ST_ELIMIT when the size overflows, ST_ENOMEM when the heap or
 * the arena fails; on error b is unchanged. */
st_rc_t buf_reserve(buf_t *b, size_t extra);

/* Appends n bytes (p may be NULL when n is 0); errors as buf_reserve. */
st_rc_t buf_append(buf_t *b, const void *p, size_t n);

/* Appends one byte; errors as buf_reserve. */
st_rc_t buf_append_byte(buf_t *b, uint8_t c);

/* Appends printf-formatted text; errors as buf_reserve, plus ST_EINVAL when the
 * format fails (vsnprintf < 0). On error b's content is unchanged. */
st_rc_t buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Empties the buffer and keeps its capacity. */
void buf_reset(buf_t *b);

/* Frees a heap buffer's bytes (forgets an arena buffer's) and leaves b empty
 * with the same arena, ready for reuse. */
void buf_free(buf_t *b);

#endif
