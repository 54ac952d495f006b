/* test_frames.c - whole messages from a ROUTER however a peer frames them:
 * a message of several frames is read away in one call and dropped, and
 * the message after it is read whole; an empty body frame is a message;
 * nothing waiting is FRAMES_NONE, never a blocking read. This is the fault
 * that once wedged the coordinator: a two-frame message made its reader
 * swallow every later message and then block. */
#include "test.h"

#include "coordinator/frames.h"

#include <string.h>
#include <zmq.h>

/* The next result of frames_recv on sock, polling up to 2 s. */
static frames_rc_t next(void *sock, frames_t *m, const char **why)
{
    zmq_pollitem_t it = {.socket = sock, .events = ZMQ_POLLIN};

    if (zmq_poll(&it, 1, 2000) <= 0)
        return FRAMES_NONE;
    return frames_recv(sock, m, why);
}

TEST(frames_multipart_is_dropped_whole_and_the_stream_goes_on)
{
    void *ctx = zmq_ctx_new();
    void *router = zmq_socket(ctx, ZMQ_ROUTER);
    void *dealer = zmq_socket(ctx, ZMQ_DEALER);
    int zero = 0;
    frames_t m;
    const char *why = NULL;

    zmq_setsockopt(router, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(dealer, ZMQ_LINGER, &zero, sizeof zero);
    REQUIRE(zmq_bind(router, "inproc://frames-test") == 0);
    REQUIRE(zmq_connect(dealer, "inproc://frames-test") == 0);

    CHECK(frames_recv(router, &m, &why) == FRAMES_NONE); /* nothing yet: no wait */
    /* [a, b]: the reproduction; then five frames; then a good one */
    zmq_send(dealer, "a", 1, ZMQ_SNDMORE);
    zmq_send(dealer, "b", 1, 0);
    for (int i = 0; i < 4; i++)
        zmq_send(dealer, "x", 1, ZMQ_SNDMORE);
    zmq_send(dealer, "y", 1, 0);
    zmq_send(dealer, "good", 4, 0);
    zmq_send(dealer, "", 0, 0);

    REQUIRE(next(router, &m, &why) == FRAMES_MALFORMED);
    CHECK(why != NULL && strstr(why, "several frames") != NULL);
    REQUIRE(next(router, &m, &why) == FRAMES_MALFORMED);
    REQUIRE(next(router, &m, &why) == FRAMES_OK);
    CHECK(zmq_msg_size(&m.body) == 4 && memcmp(zmq_msg_data(&m.body), "good", 4) == 0);
    CHECK(zmq_msg_size(&m.ident) > 0 && m.extra == 0);
    frames_close(&m);
    REQUIRE(next(router, &m, &why) == FRAMES_OK); /* an empty body is a message */
    CHECK(zmq_msg_size(&m.body) == 0);
    frames_close(&m);
    CHECK(frames_recv(router, &m, &why) == FRAMES_NONE);

    zmq_close(dealer);
    zmq_close(router);
    zmq_ctx_term(ctx);
}
