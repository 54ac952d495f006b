/* frames.c - one whole message from a ROUTER socket (see frames.h).
 *
 * The loop that reads extra frames tests the flag of the frame it has just
 * read, and only ever reads a frame ZeroMQ said is part of the message being
 * read: the rest of a multipart message is already queued when its first
 * frame is, so those reads never wait. */
#include "coordinator/frames.h"

#include <errno.h>

size_t frames_drain(void *sock)
{
    size_t n = 0;
    int more = 1;

    while (more) {
        zmq_msg_t extra;

        zmq_msg_init(&extra);
        if (zmq_msg_recv(&extra, sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&extra);
            break; /* cannot happen for a queued message; never wait */
        }
        more = zmq_msg_more(&extra);
        zmq_msg_close(&extra);
        n++;
    }
    return n;
}

frames_rc_t frames_recv(void *sock, frames_t *m, const char **why)
{
    size_t id_len;

    m->extra = 0;
    zmq_msg_init(&m->ident);
    if (zmq_msg_recv(&m->ident, sock, ZMQ_DONTWAIT) < 0) {
        int e = zmq_errno();

        zmq_msg_close(&m->ident);
        return e == EAGAIN || e == EINTR ? FRAMES_NONE : FRAMES_ERROR;
    }
    id_len = zmq_msg_size(&m->ident);
    if (!zmq_msg_more(&m->ident)) {
        zmq_msg_close(&m->ident);
        *why = "a routing id with no frame after it";
        return FRAMES_MALFORMED;
    }
    zmq_msg_init(&m->body);
    if (zmq_msg_recv(&m->body, sock, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&m->body);
        zmq_msg_close(&m->ident);
        *why = "a message cut short";
        return FRAMES_MALFORMED;
    }
    if (zmq_msg_more(&m->body))
        m->extra = frames_drain(sock);
    if (m->extra > 0 || id_len == 0 || id_len > FRAMES_MAX_IDENT) {
        *why = m->extra > 0 ? "several frames where the protocol has one"
                            : "a routing id of an impossible size";
        frames_close(m);
        return FRAMES_MALFORMED;
    }
    return FRAMES_OK;
}

void frames_close(frames_t *m)
{
    zmq_msg_close(&m->body);
    zmq_msg_close(&m->ident);
}
