/* zmqdl.c - libzmq, loaded on first use (common/dynlib.h says why): the
 * functions strata calls, each forwarding to libzmq's own. A process that
 * opens no socket (a check answered by the cache, or scanned on its own
 * threads) never loads libzmq, libstdc++, libsodium and the rest. */
#include "common/dynlib.h"

#include <zmq.h>

#ifndef STRATA_ZMQ_SONAME
#error "STRATA_ZMQ_SONAME: CMake defines it (the SONAME of the libzmq found)"
#endif

static dynlib_t lib = DYNLIB_INIT(STRATA_ZMQ_SONAME, "libzmq5");

DYNLIB_SLOT(zmq_ctx_new);
void *zmq_ctx_new(void)
{
    return DYNLIB_CALL(lib, zmq_ctx_new)();
}

DYNLIB_SLOT(zmq_ctx_term);
int zmq_ctx_term(void *context_)
{
    return DYNLIB_CALL(lib, zmq_ctx_term)(context_);
}

DYNLIB_SLOT(zmq_errno);
int zmq_errno(void)
{
    return DYNLIB_CALL(lib, zmq_errno)();
}

DYNLIB_SLOT(zmq_strerror);
const char *zmq_strerror(int errnum_)
{
    return DYNLIB_CALL(lib, zmq_strerror)(errnum_);
}

DYNLIB_SLOT(zmq_has);
int zmq_has(const char *capability_)
{
    return DYNLIB_CALL(lib, zmq_has)(capability_);
}

DYNLIB_SLOT(zmq_socket);
void *zmq_socket(void *context_, int type_)
{
    return DYNLIB_CALL(lib, zmq_socket)(context_, type_);
}

DYNLIB_SLOT(zmq_close);
int zmq_close(void *s_)
{
    return DYNLIB_CALL(lib, zmq_close)(s_);
}

DYNLIB_SLOT(zmq_setsockopt);
int zmq_setsockopt(void *s_, int option_, const void *optval_, size_t optvallen_)
{
    return DYNLIB_CALL(lib, zmq_setsockopt)(s_, option_, optval_, optvallen_);
}

DYNLIB_SLOT(zmq_getsockopt);
int zmq_getsockopt(void *s_, int option_, void *optval_, size_t *optvallen_)
{
    return DYNLIB_CALL(lib, zmq_getsockopt)(s_, option_, optval_, optvallen_);
}

DYNLIB_SLOT(zmq_bind);
int zmq_bind(void *s_, const char *addr_)
{
    return DYNLIB_CALL(lib, zmq_bind)(s_, addr_);
}

DYNLIB_SLOT(zmq_connect);
int zmq_connect(void *s_, const char *addr_)
{
    return DYNLIB_CALL(lib, zmq_connect)(s_, addr_);
}

DYNLIB_SLOT(zmq_socket_monitor);
int zmq_socket_monitor(void *s_, const char *addr_, int events_)
{
    return DYNLIB_CALL(lib, zmq_socket_monitor)(s_, addr_, events_);
}

DYNLIB_SLOT(zmq_send);
int zmq_send(void *s_, const void *buf_, size_t len_, int flags_)
{
    return DYNLIB_CALL(lib, zmq_send)(s_, buf_, len_, flags_);
}

DYNLIB_SLOT(zmq_recv);
int zmq_recv(void *s_, void *buf_, size_t len_, int flags_)
{
    return DYNLIB_CALL(lib, zmq_recv)(s_, buf_, len_, flags_);
}

DYNLIB_SLOT(zmq_poll);
int zmq_poll(zmq_pollitem_t *items_, int nitems_, long timeout_)
{
    return DYNLIB_CALL(lib, zmq_poll)(items_, nitems_, timeout_);
}

DYNLIB_SLOT(zmq_msg_init);
int zmq_msg_init(zmq_msg_t *msg_)
{
    return DYNLIB_CALL(lib, zmq_msg_init)(msg_);
}

DYNLIB_SLOT(zmq_msg_close);
int zmq_msg_close(zmq_msg_t *msg_)
{
    return DYNLIB_CALL(lib, zmq_msg_close)(msg_);
}

DYNLIB_SLOT(zmq_msg_move);
int zmq_msg_move(zmq_msg_t *dest_, zmq_msg_t *src_)
{
    return DYNLIB_CALL(lib, zmq_msg_move)(dest_, src_);
}

DYNLIB_SLOT(zmq_msg_recv);
int zmq_msg_recv(zmq_msg_t *msg_, void *s_, int flags_)
{
    return DYNLIB_CALL(lib, zmq_msg_recv)(msg_, s_, flags_);
}

DYNLIB_SLOT(zmq_msg_data);
void *zmq_msg_data(zmq_msg_t *msg_)
{
    return DYNLIB_CALL(lib, zmq_msg_data)(msg_);
}

DYNLIB_SLOT(zmq_msg_size);
size_t zmq_msg_size(const zmq_msg_t *msg_)
{
    return DYNLIB_CALL(lib, zmq_msg_size)(msg_);
}

DYNLIB_SLOT(zmq_msg_more);
int zmq_msg_more(const zmq_msg_t *msg_)
{
    return DYNLIB_CALL(lib, zmq_msg_more)(msg_);
}

DYNLIB_SLOT(zmq_msg_gets);
const char *zmq_msg_gets(const zmq_msg_t *msg_, const char *property_)
{
    return DYNLIB_CALL(lib, zmq_msg_gets)(msg_, property_);
}

DYNLIB_SLOT(zmq_z85_encode);
char *zmq_z85_encode(char *dest_, const uint8_t *data_, size_t size_)
{
    return DYNLIB_CALL(lib, zmq_z85_encode)(dest_, data_, size_);
}

DYNLIB_SLOT(zmq_z85_decode);
uint8_t *zmq_z85_decode(uint8_t *dest_, const char *string_)
{
    return DYNLIB_CALL(lib, zmq_z85_decode)(dest_, string_);
}

DYNLIB_SLOT(zmq_curve_keypair);
int zmq_curve_keypair(char *z85_public_key_, char *z85_secret_key_)
{
    return DYNLIB_CALL(lib, zmq_curve_keypair)(z85_public_key_, z85_secret_key_);
}

DYNLIB_SLOT(zmq_curve_public);
int zmq_curve_public(char *z85_public_key_, const char *z85_secret_key_)
{
    return DYNLIB_CALL(lib, zmq_curve_public)(z85_public_key_, z85_secret_key_);
}
