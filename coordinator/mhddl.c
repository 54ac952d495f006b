/* mhddl.c - libmicrohttpd, loaded on first use (common/dynlib.h): the
 * functions coordinator/metricsd.c calls, each forwarding to the library's
 * own.
 *
 * Why not linked: only `strata coordinator` and `strata worker` started
 * with --metrics-bind serve HTTP, while every process would pay for the
 * library at start-up. Debian's libmicrohttpd12 brings GnuTLS and its
 * dozen dependencies; a program linked with it took about 9 ms longer to
 * start here than the same program without (300 runs each: 20 against 11
 * ms), as much as a warm re-check of a small project. */
#include "common/dynlib.h"

#include <stdarg.h>
#include <microhttpd.h>

#ifndef STRATA_MHD_SONAME
#error "STRATA_MHD_SONAME: CMake defines it (the SONAME of the libmicrohttpd found)"
#endif

static dynlib_t lib = DYNLIB_INIT(STRATA_MHD_SONAME, "libmicrohttpd12");

DYNLIB_SLOT(MHD_start_daemon_va);
struct MHD_Daemon *MHD_start_daemon_va(unsigned int flags, uint16_t port,
                                       MHD_AcceptPolicyCallback apc, void *apc_cls,
                                       MHD_AccessHandlerCallback dh, void *dh_cls, va_list ap)
{
    return DYNLIB_CALL(lib, MHD_start_daemon_va)(flags, port, apc, apc_cls, dh, dh_cls, ap);
}

/* The variadic entry, through the va_list one. */
struct MHD_Daemon *MHD_start_daemon(unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc,
                                    void *apc_cls, MHD_AccessHandlerCallback dh, void *dh_cls, ...)
{
    struct MHD_Daemon *d;
    va_list ap;

    va_start(ap, dh_cls);
    d = MHD_start_daemon_va(flags, port, apc, apc_cls, dh, dh_cls, ap);
    va_end(ap);
    return d;
}

DYNLIB_SLOT(MHD_stop_daemon);
void MHD_stop_daemon(struct MHD_Daemon *daemon)
{
    DYNLIB_CALL(lib, MHD_stop_daemon)(daemon);
}

DYNLIB_SLOT(MHD_create_response_from_buffer);
struct MHD_Response *MHD_create_response_from_buffer(size_t size, void *buffer,
                                                     enum MHD_ResponseMemoryMode mode)
{
    return DYNLIB_CALL(lib, MHD_create_response_from_buffer)(size, buffer, mode);
}

DYNLIB_SLOT(MHD_add_response_header);
enum MHD_Result MHD_add_response_header(struct MHD_Response *response, const char *header,
                                        const char *content)
{
    return DYNLIB_CALL(lib, MHD_add_response_header)(response, header, content);
}

DYNLIB_SLOT(MHD_queue_response);
enum MHD_Result MHD_queue_response(struct MHD_Connection *connection, unsigned int status_code,
                                   struct MHD_Response *response)
{
    return DYNLIB_CALL(lib, MHD_queue_response)(connection, status_code, response);
}

DYNLIB_SLOT(MHD_destroy_response);
void MHD_destroy_response(struct MHD_Response *response)
{
    DYNLIB_CALL(lib, MHD_destroy_response)(response);
}

DYNLIB_SLOT(MHD_lookup_connection_value);
const char *MHD_lookup_connection_value(struct MHD_Connection *connection, enum MHD_ValueKind kind,
                                        const char *key)
{
    return DYNLIB_CALL(lib, MHD_lookup_connection_value)(connection, kind, key);
}
