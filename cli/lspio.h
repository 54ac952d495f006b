/* lspio.h - the base protocol of the Language Server Protocol: messages
 * framed by a "Content-Length: N" header block.
 *
 * A push parser: the server feeds it whatever read() gave and takes whole
 * message bodies out, so that it can be driven by a poll loop, tested with
 * strings and fuzzed without a pipe. The client is untrusted: a header
 * block that is not LSP's (no Content-Length, a bad number, longer than
 * LSPIO_MAX_HEADER) is an event of its own, after which the parser looks
 * for the next header block; a body longer than the limit is another, and
 * its bytes are skipped as they arrive, never held. Memory is bounded by
 * the limit plus what one read() gives. Not thread-safe. */
#ifndef STRATA_CLI_LSPIO_H
#define STRATA_CLI_LSPIO_H

#include "common/status.h"

#include <stdbool.h>
#include <signal.h>
#include <stddef.h>

/* The default largest body (64 MiB; `strata lsp --max-message-size`). */
#define LSPIO_DEFAULT_MAX_BODY ((size_t)64 << 20)
/* The largest header block. */
#define LSPIO_MAX_HEADER 8192

typedef struct lspio lspio_t;

typedef enum {
    LSPIO_NONE = 0,    /* no whole message yet: feed more */
    LSPIO_MESSAGE = 1, /* *body, *len: a whole body */
    LSPIO_BAD_HEADER,  /* a header block that is not LSP's, dropped */
    LSPIO_TOO_LARGE,   /* a body over the limit: *len its length, being skipped */
} lspio_event_t;

/* A parser keeping bodies up to max_body bytes (0: the default). NULL when
 * out of memory. Caller owns it (lspio_destroy). */
lspio_t *lspio_new(size_t max_body);
void lspio_destroy(lspio_t **self_p);

/* Appends data[0..n) (copied). ST_ENOMEM: nothing was kept. */
st_rc_t lspio_feed(lspio_t *self, const void *data, size_t n, st_err_t *err);

/* The next event from what was fed. For LSPIO_MESSAGE, *body points into
 * the parser (valid until the next call; not NUL-terminated). */
lspio_event_t lspio_next(lspio_t *self, const char **body, size_t *len);

/* Bytes fed and not yet consumed (a partial message at EOF). */
size_t lspio_pending(const lspio_t *self);

/* Writes one framed message (body[0..len)) to fd, whole: ST_EIO when the
 * other end is gone or the write fails, or when a signal interrupts a
 * blocked write and *stop (when not NULL) is set. */
st_rc_t lspio_write(int fd, const char *body, size_t len, const volatile sig_atomic_t *stop,
                    st_err_t *err);

#endif
