/* metricsd.h - the daemons' HTTP endpoint for Prometheus and health checks.
 *
 * `strata coordinator` and `strata worker` given --metrics-bind HOST:PORT
 * serve three pages, for Prometheus and for what places and restarts them
 * (compose, Kubernetes, systemd):
 *
 *   GET /metrics   200, the process's metrics in Prometheus's text format
 *                  (common/prom.h), written by the owner's render callback
 *   GET /healthz   200 while the process's main loop turns (alive), else 503
 *   GET /readyz    200 while it can do its work (ready), else 503
 *
 * Any other path is 404, any other method 405 (HEAD is served as GET
 * without the body), and a request with a body is refused (413) before the
 * body is read.
 *
 * The server is libmicrohttpd's, on a thread of its own (its internal
 * polling thread, epoll): the daemons' ZeroMQ loops never wait on HTTP, and
 * the callbacks run on that thread, so they must only read what the loops
 * publish (atomics, or a copy taken under a lock the loop holds briefly
 * and never waits for). Hostile clients cost bounded resources: at most
 * METRICSD_MAX_CONNS connections (more are closed at accept), each closed
 * after METRICSD_TIMEOUT_S seconds without a byte, and each with a small
 * fixed memory pool; a slow or idle client can keep the pages from
 * others but never stalls the daemon.
 *
 * The listening socket is made here, not by libmicrohttpd, so that a port
 * in use is reported with its reason before the daemon starts, and port 0
 * is resolved to the port the kernel picked. */
#ifndef STRATA_METRICSD_H
#define STRATA_METRICSD_H

#include "common/buf.h"
#include "common/status.h"

#include <stdbool.h>
#include <stdint.h>

#define METRICSD_MAX_CONNS 64u
#define METRICSD_TIMEOUT_S 5u
/* A main loop silent this long is not alive (/healthz 503). */
#define METRICSD_STALE_MS 10000u

typedef struct metricsd metricsd_t;

/* Writes the metrics page into out (empty on entry). False: 500. On the
 * server's thread. */
typedef bool (*metricsd_render_fn)(void *ctx, buf_t *out);
/* Whether the process is alive, or ready. On the server's thread. */
typedef bool (*metricsd_state_fn)(void *ctx);

typedef struct {
    const char *bind; /* HOST:PORT ([v6]:PORT for IPv6; port 0: any) */
    metricsd_render_fn render;
    metricsd_state_fn alive, ready;
    void *ctx; /* passed to the callbacks; must outlive the server */
} metricsd_opts_t;

/* Parses "HOST:PORT" (HOST may be "[v6]"; PORT 0 to 65535) into host
 * (cap bytes) and *port. ST_EINVAL with a message naming the address.
 * Pure. */
st_rc_t metricsd_parse_bind(const char *bind, char *host, size_t cap, uint16_t *port,
                            st_err_t *err);

/* Binds opts->bind and serves on a new thread. NULL with err set:
 * ST_EINVAL (a malformed address, or a host that does not resolve),
 * ST_EIO (the address cannot be bound: in use, not local, no permission;
 * the message says which), ST_ENOMEM. The caller owns the server
 * (metricsd_stop). SIGTERM, SIGINT and SIGHUP are blocked on its thread,
 * so that they interrupt the daemon's own loop. */
metricsd_t *metricsd_start(const metricsd_opts_t *opts, st_err_t *err);

/* The port bound (the kernel's choice when opts->bind had port 0). */
uint16_t metricsd_port(const metricsd_t *self);

/* The address served, "http://HOST:PORT", for the log; borrowed, valid as
 * long as the server. */
const char *metricsd_url(const metricsd_t *self);

/* Stops serving: closes the socket and every connection, joins the thread
 * (no callback runs after it returns), frees, sets *self_p to NULL;
 * accepts NULL. */
void metricsd_stop(metricsd_t **self_p);

#endif
