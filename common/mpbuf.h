/* mpbuf.h - the one msgpack writer: a msgpack_packer appending to a buf_t.
 *
 * Every encoder (results, interfaces, job inputs, wire messages, cache
 * records) writes msgpack into a buf_t through this adapter, so there is one
 * place that decides what a failed write means. A failure sticks: once an
 * append fails (the heap or the arena is exhausted) every later write fails
 * too, even a smaller one that would fit. Without that, a document could get
 * a hole in the middle and still look complete; its digest would then be a
 * wrong cache key. Callers check mpbuf_status once at the end, or the return
 * values of the msgpack_pack_* calls as they go, whichever reads better;
 * an encoder that checks every call may use a bare packer (mpbuf_packer).
 *
 * Not thread-safe: one thread uses an mpbuf_t (and its buf_t) at a time. */
#ifndef STRATA_MPBUF_H
#define STRATA_MPBUF_H

#include "common/buf.h"
#include "common/status.h"

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct {
    msgpack_packer pk; /* pass &w->pk to msgpack_pack_* */
    buf_t *b;
    bool failed;
} mpbuf_t;

/* Starts writing at the end of b (borrowed: it must outlive the writer).
 * The packer points at w itself: w must not be copied or moved while in use. */
void mpbuf_init(mpbuf_t *w, buf_t *b);

/* A bare packer appending to b, for encoders that check the return value
 * of every msgpack_pack_* call and stop at the first failure (a failed
 * append leaves b unchanged, so a later one could still succeed). */
void mpbuf_packer(msgpack_packer *pk, buf_t *b);

/* ST_OK when every write so far succeeded, else ST_ENOMEM. */
st_rc_t mpbuf_status(const mpbuf_t *w);

/* Appends n bytes that already are msgpack (a document embedded whole). */
int mpbuf_raw(mpbuf_t *w, const void *p, size_t n);

/* A str of n bytes; a NUL-terminated str; a bin of n bytes; a bool. Each
 * returns 0, or -1 when a write failed (as msgpack_pack_* do). */
int mpbuf_str(msgpack_packer *pk, const char *s, size_t n);
int mpbuf_cstr(msgpack_packer *pk, const char *s);
int mpbuf_bin(msgpack_packer *pk, const void *p, size_t n);
int mpbuf_bool(msgpack_packer *pk, bool b);

#endif
