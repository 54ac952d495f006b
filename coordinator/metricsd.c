/* metricsd.c - the HTTP endpoint for metrics and health (see metricsd.h).
 *
 * Every answer is made and sent in the one call of the request handler
 * that sees its headers: nothing is streamed and no request body is ever
 * read, so a connection holds only libmicrohttpd's fixed pool
 * (METRICSD_CONN_MEMORY) and the copy of one page. */
#include "coordinator/metricsd.h"

#include "common/alloc.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* A connection's memory pool: a request's headers must fit (larger ones
 * get 431 from libmicrohttpd). */
#define METRICSD_CONN_MEMORY ((size_t)16 << 10)
#define METRICSD_BACKLOG 64

struct metricsd {
    metricsd_opts_t opts;
    struct MHD_Daemon *mhd;
    uint16_t port;
    char url[300];
};

st_rc_t metricsd_parse_bind(const char *bind, char *host, size_t cap, uint16_t *port, st_err_t *err)
{
    const char *colon, *h = bind;
    size_t hlen;
    char *end;
    unsigned long p;

    if (bind == NULL || (colon = strrchr(bind, ':')) == NULL || colon == bind)
        return st_fail(err, ST_EINVAL, "metrics address %s: expected HOST:PORT",
                       bind != NULL ? bind : "(none)");
    hlen = (size_t)(colon - bind);
    if (bind[0] == '[') { /* [v6]:PORT */
        if (hlen < 3 || bind[hlen - 1] != ']')
            return st_fail(err, ST_EINVAL, "metrics address %s: expected [ADDRESS]:PORT", bind);
        h++;
        hlen -= 2;
    } else if (memchr(bind, ':', hlen) != NULL) {
        return st_fail(err, ST_EINVAL, "metrics address %s: write an IPv6 address as [ADDR]:PORT",
                       bind);
    }
    errno = 0;
    p = strtoul(colon + 1, &end, 10);
    if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || errno != 0 || p > 65535)
        return st_fail(err, ST_EINVAL, "metrics address %s: the port must be 0 to 65535", bind);
    if (hlen + 1 > cap)
        return st_fail(err, ST_EINVAL, "metrics address %s: the host is too long", bind);
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    *port = (uint16_t)p;
    return ST_OK;
}

/* A listening socket on host:port (host "*": every address); its fd, or -1
 * with err set. *bound: the port it got. */
static int listen_on(const char *addr, const char *host, uint16_t port, uint16_t *bound,
                     st_err_t *err)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char service[8];
    int fd = -1, one = 1, gai, e = 0;

    snprintf(service, sizeof service, "%u", port);
    if ((gai = getaddrinfo(strcmp(host, "*") == 0 ? NULL : host, service, &hints, &res)) != 0) {
        st_fail(err, ST_EINVAL, "metrics address %s: %s", addr, gai_strerror(gai));
        return -1;
    }
    for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol)) < 0) {
            e = errno;
            continue;
        }
        /* a restarted daemon binds again past its old connections' TIME_WAIT;
           a port another process listens on stays refused */
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, METRICSD_BACKLOG) != 0) {
            e = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0) {
        st_fail(err, ST_EIO, "cannot serve metrics on %s: %s", addr, strerror(e));
        return -1;
    }
    *bound = port;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        *bound = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                : ((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

/* Queues status with body text (copied) and its type; extra header allow
 * (NULL: none). */
static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const void *body,
                             size_t len, const char *type, const char *allow)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ok;

    if (r == NULL)
        return MHD_NO; /* out of memory: the connection is closed */
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (allow != NULL)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result text(struct MHD_Connection *c, unsigned status, const char *body)
{
    return reply(c, status, body, strlen(body), "text/plain; charset=utf-8", NULL);
}

/* Whether the request announces a body (which is never read). */
static bool has_body(struct MHD_Connection *c)
{
    const char *len = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");

    return (len != NULL && strspn(len, "0") != strlen(len)) ||
           MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Transfer-Encoding") != NULL;
}

static enum MHD_Result metrics_page(metricsd_t *self, struct MHD_Connection *c)
{
    buf_t page;
    enum MHD_Result ok;

    buf_init(&page);
    if (!self->opts.render(self->opts.ctx, &page)) {
        buf_free(&page);
        return text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "metrics unavailable (out of memory)\n");
    }
    ok = reply(c, MHD_HTTP_OK, page.data != NULL ? page.data : (const uint8_t *)"", page.len,
               "text/plain; version=0.0.4; charset=utf-8", NULL);
    buf_free(&page);
    return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
    metricsd_t *self = cls;
    bool ok;

    (void)version;
    (void)upload_data;
    (void)con_cls;
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
        static const char body[] = "method not allowed: GET or HEAD\n";
        return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, body, sizeof body - 1,
                     "text/plain; charset=utf-8", "GET, HEAD");
    }
    if (*upload_size != 0 || has_body(c))
        return text(c, MHD_HTTP_CONTENT_TOO_LARGE, "request bodies are not accepted\n");
    if (strcmp(url, "/metrics") == 0)
        return metrics_page(self, c);
    if (strcmp(url, "/healthz") == 0) {
        ok = self->opts.alive(self->opts.ctx);
        return text(c, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
                    ok ? "ok\n" : "the main loop has stalled\n");
    }
    if (strcmp(url, "/readyz") == 0) {
        ok = self->opts.ready(self->opts.ctx);
        return text(c, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
                    ok ? "ready\n" : "not ready\n");
    }
    return text(c, MHD_HTTP_NOT_FOUND, "not found: /metrics, /healthz or /readyz\n");
}

metricsd_t *metricsd_start(const metricsd_opts_t *opts, st_err_t *err)
{
    char host[256];
    uint16_t port;
    int fd;
    metricsd_t *self;
    sigset_t block, old;

    if (opts->render == NULL || opts->alive == NULL || opts->ready == NULL) {
        st_fail(err, ST_EINVAL, "metricsd_start: a callback is missing");
        return NULL;
    }
    if (metricsd_parse_bind(opts->bind, host, sizeof host, &port, err) != ST_OK)
        return NULL;
    if ((self = st_calloc(1, sizeof *self)) == NULL) {
        st_fail(err, ST_ENOMEM, "out of memory");
        return NULL;
    }
    self->opts = *opts;
    if ((fd = listen_on(opts->bind, host, port, &self->port, err)) < 0) {
        st_free(self);
        return NULL;
    }
    snprintf(self->url, sizeof self->url,
             strchr(host, ':') != NULL ? "http://[%s]:%u" : "http://%s:%u", host, self->port);
    /* the server's thread inherits this mask: signals go to the loops */
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    self->mhd = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ITC, 0, NULL, NULL,
                                 on_request, self, MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
                                 MHD_OPTION_CONNECTION_LIMIT, (unsigned int)METRICSD_MAX_CONNS,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)METRICSD_TIMEOUT_S,
                                 MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)METRICSD_CONN_MEMORY,
                                 MHD_OPTION_END);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (self->mhd == NULL) {
        close(fd);
        st_free(self);
        st_fail(err, ST_EIO, "cannot serve metrics on %s: the HTTP server did not start",
                opts->bind);
        return NULL;
    }
    return self;
}

uint16_t metricsd_port(const metricsd_t *self)
{
    return self->port;
}

const char *metricsd_url(const metricsd_t *self)
{
    return self->url;
}

void metricsd_stop(metricsd_t **self_p)
{
    metricsd_t *self = self_p != NULL ? *self_p : NULL;

    if (self == NULL)
        return;
    MHD_stop_daemon(self->mhd); /* joins its thread, closes the socket */
    st_free(self);
    *self_p = NULL;
}
