/* health.c - `strata health` (see health.h).
 *
 * HTTP/1.0 with Connection: close and no body, so the answer's first line
 * is all that is read: "HTTP/1.x 200". Every step (connect, send,
 * receive) shares one deadline, through poll on a non-blocking socket, so
 * that a daemon that accepts and never answers fails the probe in
 * --timeout seconds instead of holding the container's health check. */
#include "cli/health.h"

#include "coordinator/metricsd.h"
#include "common/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { HEALTH_OK = 0, HEALTH_BAD = 1, HEALTH_USAGE = 2 };

const char *health_usage(void)
{
    return "usage: strata health [--timeout SECONDS] [HOST:PORT]\n"
           "\n"
           "Ask a coordinator or worker started with --metrics-bind HOST:PORT\n"
           "whether its main loop still turns (GET /healthz): exit 0 when it\n"
           "answers 200, 1 when it answers anything else, does not answer in\n"
           "time, or nothing listens there. Meant for a container's health check,\n"
           "where there is no other HTTP client.\n"
           "\n"
           "  HOST:PORT             where to ask; default $STRATA_HEALTH, else\n"
           "                        " HEALTH_DEFAULT_ADDR "\n"
           "  --timeout SECONDS     give up after this long (default 3)\n"
           "  -h, --help            show this help and exit\n"
           "\n"
           "exit status: 0 healthy, 1 not healthy, 2 usage error\n";
}

/* Milliseconds left before deadline (monotonic ns), at least 0. */
static int ms_left(uint64_t deadline)
{
    uint64_t now = clock_ns();

    return now >= deadline ? 0 : (int)((deadline - now) / 1000000 + 1);
}

/* Waits until fd is ready for events; 0, or -1 when the time ran out. */
static int wait_ready(int fd, short events, uint64_t deadline)
{
    struct pollfd p = {.fd = fd, .events = events};
    int n;

    do {
        n = poll(&p, 1, ms_left(deadline));
    } while (n < 0 && errno == EINTR);
    return n > 0 ? 0 : -1;
}

/* A socket connected to host:port before deadline, or -1 (why in *why). */
static int connect_to(const char *host, uint16_t port, uint64_t deadline, const char **why)
{
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *res = NULL, *ai;
    char service[8];
    int fd = -1, soerr = 0;
    socklen_t sl = sizeof soerr;

    snprintf(service, sizeof service, "%u", port);
    if (getaddrinfo(host, service, &hints, &res) != 0 || res == NULL) {
        *why = "the host does not resolve";
        return -1;
    }
    *why = "nothing answers there";
    for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
            continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        if (errno != EINPROGRESS) {
            *why = strerror(errno);
        } else if (wait_ready(fd, POLLOUT, deadline) != 0) {
            *why = "no connection in time";
        } else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
            *why = strerror(soerr != 0 ? soerr : errno);
        } else {
            break;
        }
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

/* Sends the request and reads the status line; HEALTH_OK on 200. */
static int ask(int fd, const char *host, uint64_t deadline, char *status, size_t cap)
{
    char req[320];
    size_t len, sent = 0, got = 0;
    ssize_t n;

    len = (size_t)snprintf(req, sizeof req,
                           "GET /healthz HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n", host);
    while (sent < len) {
        if (wait_ready(fd, POLLOUT, deadline) != 0)
            return HEALTH_BAD;
        if ((n = send(fd, req + sent, len - sent, MSG_NOSIGNAL)) < 0 && errno != EAGAIN)
            return HEALTH_BAD;
        sent += n > 0 ? (size_t)n : 0;
    }
    while (got + 1 < cap && memchr(status, '\n', got) == NULL) {
        if (wait_ready(fd, POLLIN, deadline) != 0)
            return HEALTH_BAD;
        if ((n = recv(fd, status + got, cap - 1 - got, 0)) == 0)
            break;
        if (n < 0 && errno != EAGAIN)
            return HEALTH_BAD;
        got += n > 0 ? (size_t)n : 0;
    }
    status[got] = '\0';
    status[strcspn(status, "\r\n")] = '\0';
    if (strlen(status) < 12 || strncmp(status, "HTTP/1.", 7) != 0)
        return HEALTH_BAD;
    return strncmp(status + 8, " 200", 4) == 0 ? HEALTH_OK : HEALTH_BAD;
}

/* Parses the arguments into *addr and *timeout_s; HEALTH_OK, HEALTH_USAGE
 * (message on errout), or -1 for --help. */
static int parse(int argc, char **argv, const char **addr, double *timeout_s, FILE *errout)
{
    char *end;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return -1;
        if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
            errno = 0;
            *timeout_s = strtod(argv[++i], &end);
            if (*end != '\0' || errno != 0 || !(*timeout_s > 0 && *timeout_s <= 3600)) {
                fprintf(errout, "strata health: --timeout %s: expected seconds, 0 to 3600\n",
                        argv[i]);
                return HEALTH_USAGE;
            }
        } else if (argv[i][0] == '-' || *addr != NULL) {
            fprintf(errout, "strata health: unexpected argument %s\nTry 'strata health --help'.\n",
                    argv[i]);
            return HEALTH_USAGE;
        } else {
            *addr = argv[i];
        }
    }
    return HEALTH_OK;
}

int health_run(int argc, char **argv, FILE *out, FILE *errout)
{
    const char *addr = NULL, *why = NULL;
    double timeout_s = 3;
    char host[256], status[128];
    uint16_t port = 0;
    uint64_t deadline;
    st_err_t err = {0};
    int fd, rc;

    if ((rc = parse(argc, argv, &addr, &timeout_s, errout)) != HEALTH_OK) {
        if (rc < 0)
            fputs(health_usage(), out);
        return rc < 0 ? HEALTH_OK : rc;
    }
    if (addr == NULL && ((addr = getenv("STRATA_HEALTH")) == NULL || addr[0] == '\0'))
        addr = HEALTH_DEFAULT_ADDR;
    if (metricsd_parse_bind(addr, host, sizeof host, &port, &err) != ST_OK || port == 0) {
        fprintf(errout, "strata health: %s\n",
                port == 0 && err.msg[0] == '\0' ? "the port must be 1 to 65535" : err.msg);
        return HEALTH_USAGE;
    }
    deadline = clock_ns() + (uint64_t)(timeout_s * 1e9);
    if ((fd = connect_to(host, port, deadline, &why)) < 0) {
        fprintf(errout, "strata health: http://%s/healthz: %s\n", addr, why);
        return HEALTH_BAD;
    }
    status[0] = '\0';
    rc = ask(fd, host, deadline, status, sizeof status);
    close(fd);
    if (rc != HEALTH_OK)
        fprintf(errout, "strata health: http://%s/healthz: %s\n", addr,
                status[0] != '\0' ? status : "no answer in time");
    return rc;
}
