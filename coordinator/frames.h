/* frames.h - one whole message from a ROUTER socket, however a peer frames it.
 *
 * Our protocols put exactly one frame after the routing id. A peer may send
 * any number of frames, and ZeroMQ delivers a multipart message all at once,
 * so the whole of it is read here in one call: the routing id, the body,
 * and every extra frame, drained by the `more` flag of the frame just read.
 * What is left on the socket afterwards always starts a new message, so a
 * badly framed message costs one dropped message, never the stream. */
#ifndef STRATA_FRAMES_H
#define STRATA_FRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <zmq.h>

#define FRAMES_MAX_IDENT 255 /* ZMQ_ROUTING_ID is at most 255 bytes */

typedef enum {
    FRAMES_NONE = 0,      /* nothing to read now (or interrupted) */
    FRAMES_OK = 1,        /* ident and body hold one well-framed message */
    FRAMES_MALFORMED = 2, /* read and dropped: *why says how it was framed */
    FRAMES_ERROR = -1     /* the socket failed (zmq_errno says why) */
} frames_rc_t;

typedef struct {
    zmq_msg_t ident; /* the peer's routing id, 1..FRAMES_MAX_IDENT bytes */
    zmq_msg_t body;  /* the one frame after it; its metadata (Peer-Address,
                        User-Id) is the connection's */
    size_t extra;    /* frames past the body that were read away */
} frames_t;

/* Reads one message from the ROUTER sock without blocking for its first
 * frame. FRAMES_OK: m's frames are the caller's until frames_close. On
 * every other result m holds nothing to close, and for FRAMES_MALFORMED
 * *why (static text) says what was wrong: no body frame, extra frames, or
 * an empty or too long routing id. Thread: the socket's owner. */
frames_rc_t frames_recv(void *sock, frames_t *m, const char **why);

/* Reads away the rest of a message (of any socket type) after a frame
 * whose more flag was set, each frame by the flag of the one before, never
 * waiting; the number of frames read. */
size_t frames_drain(void *sock);

/* Releases m's frames (after FRAMES_OK). */
void frames_close(frames_t *m);

#endif
