/* test_cas_crash.c - kill -9 in the middle of a stream of puts. A child
 * puts values and reports each acknowledged put (and when) through a pipe;
 * the parent kills it, reopens the directory and checks: strict lost no
 * acknowledged put, buffered lost only puts younger than its window,
 * nothing reads back wrong, and the store opens without repair. */
#include "test.h"

#include "cas_test.h"
#include "common/cas/cas.h"
#include "common/metrics.h"
#include "common/clock.h"

#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#define FLUSH_MS 50
#define SLACK_MS 400 /* scheduling, and a commit in progress under ASan */
#define MAX_ACKS 200000

typedef struct {
    long i;
    uint64_t t; /* CLOCK_MONOTONIC, shared by both processes */
} ack_t;

static void child_stream(const char *dir, cas_durability_t mode, int fd)
{
    cas_opts_t o;
    cas_t *c = NULL;

    cas_opts_default(&o);
    o.dir = dir;
    o.durability = mode;
    o.flush_ms = FLUSH_MS;
    if (cas_open(&o, &c, NULL) != ST_OK)
        _exit(2);
    for (long i = 0;; i++) {
        ack_t ack;
        if (cas_test_put(c, i, false) != ST_OK)
            _exit(3);
        ack.i = i;
        ack.t = clock_ns();
        if (write(fd, &ack, sizeof ack) != (ssize_t)sizeof ack)
            _exit(4);
    }
}

static void crash_and_check(cas_durability_t mode, long kill_after)
{
    static ack_t acks[MAX_ACKS];
    char dir[64];
    int fds[2], status;
    size_t nacks = 0;
    ssize_t n;
    uint64_t killed_at, window = (uint64_t)(FLUSH_MS + SLACK_MS) * 1000000ULL;
    arena_t *a = arena_new(0);
    cas_stats_t s;
    pid_t pid;
    cas_t *c;
    long lost = 0;

    REQUIRE(a != NULL && cas_test_tmpdir(dir) != NULL && pipe(fds) == 0);
    pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        child_stream(dir, mode, fds[1]);
    }
    close(fds[1]);
    while (nacks < (size_t)kill_after &&
           (n = read(fds[0], &acks[nacks], sizeof acks[0])) == (ssize_t)sizeof acks[0])
        nacks++;
    kill(pid, SIGKILL);
    killed_at = clock_ns();
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status));
    /* every put the child acknowledged before dying */
    while (nacks < MAX_ACKS &&
           (n = read(fds[0], &acks[nacks], sizeof acks[0])) == (ssize_t)sizeof acks[0])
        nacks++;
    close(fds[0]);
    REQUIRE(nacks >= (size_t)kill_after);
    c = cas_test_open(dir, mode);
    REQUIRE(c != NULL);
    for (size_t k = 0; k < nacks; k++) {
        st_rc_t rc = cas_test_get(c, acks[k].i, a);
        CHECK(rc == ST_OK || rc == ST_ENOENT);
        if (rc == ST_ENOENT) {
            lost++;
            /* strict: nothing; buffered: only the window before the kill */
            CHECK(mode == CAS_BUFFERED && acks[k].t + window > killed_at);
        }
        arena_reset(a);
    }
    for (long i = (long)nacks; i < (long)nacks + 10; i++) /* unacknowledged: absent or right */
        CHECK(cas_test_get(c, i, a) != ST_ECORRUPT);
    cas_stats(c, &s);
    CHECK(s.disk_enabled);
    CHECK_EQ_INT(s.databases_reset, 0);
    CHECK_EQ_INT(s.corruptions, 0);
    CHECK(mode == CAS_BUFFERED || lost == 0);
    cas_close(&c);
    arena_destroy(&a);
    cas_test_rmdir(dir);
}

TEST(cas_crash_strict_loses_nothing)
{
    crash_and_check(CAS_STRICT, 150);
}

TEST(cas_crash_buffered_loses_only_the_window)
{
    crash_and_check(CAS_BUFFERED, 20000);
}
