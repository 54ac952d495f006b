/* test_metricsd.c - the metrics and health endpoint over real loopback
 * connections: the three pages, 404, 405, a request with a body, the
 * states of /healthz and /readyz, a port in use, bad addresses, more
 * connections than the cap, and a stop with connections open. */
#include "test.h"

#include "coordinator/metricsd.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

typedef struct {
    atomic_bool alive, ready;
    atomic_int renders;
} state_t;

static bool render(void *ctx, buf_t *out)
{
    state_t *s = ctx;
    atomic_fetch_add(&s->renders, 1);
    return buf_printf(out, "# TYPE t_total counter\nt_total %d\n", atomic_load(&s->renders)) ==
           ST_OK;
}

static bool alive(void *ctx)
{
    return atomic_load(&((state_t *)ctx)->alive);
}

static bool ready(void *ctx)
{
    return atomic_load(&((state_t *)ctx)->ready);
}

static int connect_to(uint16_t port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    struct timeval tv = {2, 0};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Sends request, reads the whole answer into out; its status, or -1. */
static int ask(uint16_t port, const char *request, char *out, size_t cap)
{
    int fd = connect_to(port), status = -1;
    size_t got = 0;
    ssize_t n;

    out[0] = '\0';
    if (fd < 0)
        return -1;
    if (write(fd, request, strlen(request)) == (ssize_t)strlen(request)) {
        while (got + 1 < cap && (n = read(fd, out + got, cap - 1 - got)) > 0)
            got += (size_t)n;
        out[got] = '\0';
        if (sscanf(out, "HTTP/1.%*d %d", &status) != 1)
            status = -1;
    }
    close(fd);
    return status;
}

static metricsd_t *start(state_t *s, const char *bind, st_err_t *err)
{
    return metricsd_start(
        &(metricsd_opts_t){
            .bind = bind, .render = render, .alive = alive, .ready = ready, .ctx = s},
        err);
}

#define GET(path) "GET " path " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"

TEST(metricsd_pages)
{
    state_t s = {0};
    st_err_t err = {0};
    char out[4096];
    metricsd_t *m;
    uint16_t port;

    atomic_store(&s.alive, true);
    REQUIRE((m = start(&s, "127.0.0.1:0", &err)) != NULL);
    port = metricsd_port(m);
    CHECK(port != 0);
    CHECK(strstr(metricsd_url(m), "http://127.0.0.1:") == metricsd_url(m));
    CHECK_EQ_INT(ask(port, GET("/metrics"), out, sizeof out), 200);
    CHECK(strstr(out, "text/plain; version=0.0.4") != NULL);
    CHECK(strstr(out, "\r\n\r\n# TYPE t_total counter\nt_total 1\n") != NULL);
    CHECK_EQ_INT(ask(port, GET("/healthz"), out, sizeof out), 200);
    CHECK_EQ_INT(ask(port, GET("/readyz"), out, sizeof out), 503);
    atomic_store(&s.ready, true);
    atomic_store(&s.alive, false);
    CHECK_EQ_INT(ask(port, GET("/readyz"), out, sizeof out), 200);
    CHECK_EQ_INT(ask(port, GET("/healthz"), out, sizeof out), 503);
    CHECK_EQ_INT(ask(port, GET("/"), out, sizeof out), 404);
    CHECK_EQ_INT(ask(port, GET("/metrics/x"), out, sizeof out), 404);
    CHECK_EQ_INT(ask(port, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", out,
                     sizeof out),
                 405);
    CHECK(strstr(out, "Allow: GET, HEAD") != NULL);
    CHECK_EQ_INT(ask(port, "DELETE /readyz HTTP/1.1\r\nHost: x\r\n\r\n", out, sizeof out), 405);
    CHECK_EQ_INT(ask(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
                     out, sizeof out),
                 413);
    CHECK_EQ_INT(ask(port, "HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", out,
                     sizeof out),
                 200);
    CHECK(strstr(out, "t_total") == NULL); /* no body */
    metricsd_stop(&m);
    CHECK(m == NULL);
    metricsd_stop(&m);
    CHECK(connect_to(port) < 0); /* closed */
}

TEST(metricsd_port_in_use)
{
    state_t s = {0};
    st_err_t err = {0};
    char bind[64];
    metricsd_t *a, *b;

    REQUIRE((a = start(&s, "127.0.0.1:0", &err)) != NULL);
    snprintf(bind, sizeof bind, "127.0.0.1:%u", metricsd_port(a));
    b = start(&s, bind, &err);
    CHECK(b == NULL);
    CHECK(err.code == ST_EIO);
    CHECK(strstr(err.msg, "in use") != NULL);
    metricsd_stop(&b);
    metricsd_stop(&a);
}

TEST(metricsd_bad_addresses)
{
    static const char *const bad[] = {"127.0.0.1",    ":80",    "127.0.0.1:", "127.0.0.1:65536",
                                      "127.0.0.1:8x", "::1:80", "[::1:80",    "127.0.0.1:-1"};
    char host[64];
    uint16_t port;
    st_err_t err = {0};
    state_t s = {0};

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err.code = ST_OK;
        CHECK(metricsd_parse_bind(bad[i], host, sizeof host, &port, &err) == ST_EINVAL);
        CHECK(strstr(err.msg, "metrics address") != NULL);
    }
    CHECK(metricsd_parse_bind("[::1]:9100", host, sizeof host, &port, &err) == ST_OK);
    CHECK_STREQ(host, "::1");
    CHECK_EQ_INT(port, 9100);
    CHECK(metricsd_parse_bind("*:0", host, sizeof host, &port, &err) == ST_OK);
    CHECK_STREQ(host, "*");
    CHECK(metricsd_parse_bind("a-very-long-host-name:1", host, 8, &port, &err) == ST_EINVAL);
    CHECK(start(&s, "no-such-host.invalid:0", &err) == NULL);
    CHECK(err.code == ST_EINVAL);
    CHECK(metricsd_start(&(metricsd_opts_t){.bind = "127.0.0.1:0"}, &err) == NULL);
    CHECK(err.code == ST_EINVAL);
}

/* More idle connections than the cap: the server stays up, a page is
 * served once they go, and a stop with connections open is prompt. */
TEST(metricsd_connection_cap)
{
    enum { N = METRICSD_MAX_CONNS + 36 };
    state_t s = {0};
    st_err_t err = {0};
    char out[4096];
    int fds[N];
    metricsd_t *m;

    REQUIRE((m = start(&s, "127.0.0.1:0", &err)) != NULL);
    for (int i = 0; i < N; i++)
        fds[i] = connect_to(metricsd_port(m));
    for (int i = 0; i < N; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    usleep(100000);
    CHECK_EQ_INT(ask(metricsd_port(m), GET("/metrics"), out, sizeof out), 200);
    for (int i = 0; i < 8; i++)
        fds[i] = connect_to(metricsd_port(m));
    metricsd_stop(&m);
    for (int i = 0; i < 8; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}
