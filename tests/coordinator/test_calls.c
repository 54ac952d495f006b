/* test_calls.c - jobs from many threads onto a dispatcher driven by one,
 * with real worker processes (`strata worker`, the binary built beside this
 * runner) over ipc:// in /tmp.
 *
 * Checked: results from any number of threads, blocking or by callback,
 * are the bytes the in-process path gives; other jobs of the driver come
 * back through its own callback; with no worker for the grace period jobs
 * are given back (and calls_run_check runs them here, same bytes) until a
 * worker joins, the grace period counting even while nothing waits; a job that fails is an error
 * saying so, one that kills its workers on every retry is an ST_EINTERNAL "lost"; too large an
 * input is given back; shutdown releases every waiting caller and refuses later ones; out of memory
 * leaves nothing queued. Nothing is timed: every wait is "until it happens", with a generous limit.
 */
#include "test.h"

#include "check_fixture.h"

#include "common/alloc.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/proto.h"
#include "coordinator/calls.h"
#include "coordinator/dispatch.h"
#include "worker/jobs.h"
#include "worker/python/xmod.h"

#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WAIT_S 90 /* generous: ASan builds on a shared 2-core host */
#define MAX_FLEET 4

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- worker processes ------------------------------------------------------------ */

typedef struct {
    char addr[128];
    char strata[PATH_MAX + 16];
    const char *crash_on;
    pid_t pid[MAX_FLEET];
    size_t n;
    atomic_bool respawn;
} fleet_t;

static void fleet_init(fleet_t *f, const char *tag)
{
    static int counter;
    memset(f, 0, sizeof *f);
    test_strata_path(f->strata, sizeof f->strata);
    snprintf(f->addr, sizeof f->addr, "ipc:///tmp/strata-calls-%ld-%s-%d", (long)getpid(), tag,
             counter++);
}

static pid_t spawn_worker(fleet_t *f)
{
    pid_t pid = fork();

    if (pid == 0) {
        struct rlimit no_core = {0, 0};
        FILE *null = freopen("/dev/null", "w", stderr);
        (void)null;
        setrlimit(RLIMIT_CORE, &no_core);
        if (f->crash_on != NULL)
            setenv("STRATA_TEST_CRASH_ON", f->crash_on, 1);
        else
            unsetenv("STRATA_TEST_CRASH_ON");
        execl(f->strata, "strata", "worker", "--connect", f->addr, "--threads", "1", (char *)NULL);
        _exit(127);
    }
    return pid;
}

static bool fleet_start(fleet_t *f, size_t n)
{
    for (size_t i = 0; i < n && f->n < MAX_FLEET; i++)
        if ((f->pid[f->n++] = spawn_worker(f)) <= 0)
            return false;
    return true;
}

/* Reaps dead workers, starting new ones while respawn is on. */
static void fleet_check(fleet_t *f)
{
    for (size_t i = 0; i < f->n; i++)
        if (f->pid[i] > 0 && waitpid(f->pid[i], NULL, WNOHANG) == f->pid[i])
            f->pid[i] = atomic_load(&f->respawn) ? spawn_worker(f) : 0;
}

static void fleet_stop(fleet_t *f)
{
    atomic_store(&f->respawn, false);
    for (size_t i = 0; i < f->n; i++) {
        if (f->pid[i] <= 0)
            continue;
        kill(f->pid[i], SIGKILL);
        waitpid(f->pid[i], NULL, 0);
        f->pid[i] = 0;
    }
    unlink(f->addr + strlen("ipc://"));
}

/* ---- the driving thread ------------------------------------------------------------ */

typedef struct {
    calls_t *calls;
    fleet_t *fleet; /* reaped (and respawned) between pumps; may be NULL */
    atomic_bool stop;
    atomic_size_t pump_errors;
    pthread_t tid;
} driver_t;

static void *driver_main(void *arg)
{
    driver_t *dr = arg;

    while (!atomic_load(&dr->stop)) {
        if (calls_pump(dr->calls, 50, NULL, NULL, NULL) != ST_OK)
            atomic_fetch_add(&dr->pump_errors, 1);
        if (dr->fleet != NULL)
            fleet_check(dr->fleet);
    }
    return NULL;
}

static bool driver_start(driver_t *dr, calls_t *calls, fleet_t *fleet)
{
    dr->calls = calls;
    dr->fleet = fleet;
    atomic_init(&dr->stop, false);
    atomic_init(&dr->pump_errors, 0);
    return pthread_create(&dr->tid, NULL, driver_main, dr) == 0;
}

static void driver_stop(driver_t *dr)
{
    atomic_store(&dr->stop, true);
    calls_wake(dr->calls);
    pthread_join(dr->tid, NULL);
}

/* ---- jobs and their in-process results --------------------------------------------- */

/* A check job's input over one module with two imports (os: stdlib,
 * nosuchmod: unresolved), its summary from the scan of the module. */
static bool check_input(buf_t *in)
{
    static const char src[] = "import os\nimport nosuchmod\nos.getcwd()\n";
    scanner_t *sc = scanner_new();
    arena_t *a = arena_new(0);
    span_t scan;
    bool ok = sc != NULL && a != NULL &&
              scanner_run(sc, NULL, SCAN_KIND_PY, (const uint8_t *)src, sizeof src - 1, a, &scan,
                          NULL) == ST_OK;

    if (ok) {
        ok = check_fixture_input(in, scan_result_summary(scan));
    }
    arena_destroy(&a);
    scanner_destroy(&sc);
    return ok && in->data != NULL;
}

/* Job k of a thread's share: an echo, a scan, or a check, and the bytes
 * the in-process path gives for it. */
typedef struct {
    uint32_t kind;
    buf_t input, expect;
} job_t;

static bool job_make(job_t *j, size_t k, const buf_t *check)
{
    scanner_t *sc = scanner_new();
    arena_t *a = arena_new(0);
    span_t out;
    char text[96];
    bool ok = sc != NULL && a != NULL;

    buf_init(&j->input);
    buf_init(&j->expect);
    if (k % 3 == 0) {
        j->kind = JOBS_ECHO;
        snprintf(text, sizeof text, "echo %zu", k);
        ok = ok && buf_append(&j->input, text, strlen(text)) == ST_OK;
    } else if (k % 3 == 1) {
        j->kind = JOBS_SCAN;
        snprintf(text, sizeof text, "import os\nx%zu = 1\ndef f():\n    y = %zu\n", k, k);
        ok = ok && jobs_scan_input(&j->input, SCAN_KIND_PY, NULL, (const uint8_t *)text,
                                   strlen(text), NULL) == ST_OK;
    } else {
        j->kind = JOBS_CHECK;
        ok = ok && buf_append(&j->input, check->data, check->len) == ST_OK;
    }
    ok = ok &&
         jobs_run(sc, j->kind, (span_t){j->input.data, j->input.len}, a, &out, NULL) == ST_OK &&
         buf_append(&j->expect, out.ptr, out.len) == ST_OK;
    arena_destroy(&a);
    scanner_destroy(&sc);
    return ok;
}

static void job_free(job_t *j)
{
    buf_free(&j->input);
    buf_free(&j->expect);
}

static bool same_bytes(span_t got, const buf_t *want)
{
    return got.len == want->len && memcmp(got.ptr, want->data, got.len) == 0;
}

/* ---- callers -------------------------------------------------------------------------- */

#define JOBS_PER_THREAD 12
#define THREADS 6

typedef struct {
    calls_t *calls;
    const buf_t *check;
    size_t first;
    size_t identical, run; /* calls that gave the in-process bytes, calls made */
    pthread_t tid;
} caller_t;

static void *caller_main(void *arg)
{
    caller_t *c = arg;
    arena_t *a = arena_new(0);

    for (size_t k = c->first; a != NULL && k < c->first + JOBS_PER_THREAD; k++) {
        job_t j;
        span_t out = {0};
        st_err_t err = {0};
        bool ok;
        if (!job_make(&j, k, c->check)) {
            job_free(&j);
            continue;
        }
        arena_reset(a);
        if (j.kind == JOBS_CHECK && k % 2 == 0)
            ok = calls_run_check(c->calls, (span_t){j.input.data, j.input.len}, a, &out, &err) ==
                 ST_OK;
        else
            ok = calls_run(c->calls, j.kind, (span_t){j.input.data, j.input.len}, a, &out, &err) ==
                 CALLS_OK;
        c->run++;
        if (ok && same_bytes(out, &j.expect))
            c->identical++;
        job_free(&j);
    }
    arena_destroy(&a);
    return NULL;
}

/* What callbacks saw. */
typedef struct {
    pthread_mutex_t lock;
    size_t n;
    size_t by_status[5];
    uint64_t tag_sum;
    buf_t last;
} seen_t;

static void seen_init(seen_t *s)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->lock, NULL);
    buf_init(&s->last);
}

static void seen_free(seen_t *s)
{
    pthread_mutex_destroy(&s->lock);
    buf_free(&s->last);
}

static void on_seen(void *ctx, uint64_t tag, calls_status_t status, span_t result)
{
    seen_t *s = ctx;

    pthread_mutex_lock(&s->lock);
    s->n++;
    s->by_status[status]++;
    s->tag_sum += tag;
    buf_reset(&s->last);
    buf_append(&s->last, result.ptr, result.len);
    pthread_mutex_unlock(&s->lock);
}

static size_t seen_count(seen_t *s)
{
    size_t n;

    pthread_mutex_lock(&s->lock);
    n = s->n;
    pthread_mutex_unlock(&s->lock);
    return n;
}

static bool wait_seen(seen_t *s, size_t n)
{
    double end = now_s() + WAIT_S;

    while (seen_count(s) < n && now_s() < end)
        usleep(10000);
    return seen_count(s) >= n;
}

static FILE *quiet_log(void)
{
    FILE *f = tmpfile();

    log_set_output(f);
    log_set_level(LOG_LEVEL_WARN);
    return f;
}

static void log_restore(FILE **f)
{
    log_set_output(NULL);
    if (*f != NULL)
        fclose(*f);
    *f = NULL;
}

/* ---- the tests ------------------------------------------------------------------------- */

TEST(calls_from_many_threads_give_in_process_bytes)
{
    fleet_t f;
    dispatch_t *d;
    calls_t *calls;
    driver_t dr;
    caller_t callers[THREADS];
    seen_t seen;
    calls_stats_t st;
    buf_t check;
    st_err_t err = {0};
    size_t identical = 0, run = 0;
    FILE *log = quiet_log();

    buf_init(&check);
    REQUIRE(check_input(&check));
    fleet_init(&f, "many");
    d = dispatch_new(&(dispatch_opts_t){.bind = f.addr}, &err);
    REQUIRE(d != NULL);
    calls = calls_new(d, &(calls_opts_t){.grace_ms = WAIT_S * 1000}, &err);
    REQUIRE(calls != NULL);
    REQUIRE(fleet_start(&f, 2));
    REQUIRE(driver_start(&dr, calls, NULL));
    seen_init(&seen);
    for (size_t i = 0; i < THREADS; i++) {
        callers[i] = (caller_t){.calls = calls, .check = &check, .first = i * JOBS_PER_THREAD};
        REQUIRE(pthread_create(&callers[i].tid, NULL, caller_main, &callers[i]) == 0);
    }
    /* callbacks too, from this thread */
    for (uint64_t t = 1; t <= 20; t++) {
        char text[32];
        int n = snprintf(text, sizeof text, "async %llu", (unsigned long long)t);
        CHECK(calls_submit(calls, JOBS_ECHO, (span_t){(const uint8_t *)text, (size_t)n}, on_seen,
                           &seen, t, &err) == ST_OK);
    }
    for (size_t i = 0; i < THREADS; i++) {
        pthread_join(callers[i].tid, NULL);
        identical += callers[i].identical;
        run += callers[i].run;
    }
    CHECK(wait_seen(&seen, 20));
    CHECK_EQ_INT(run, THREADS * JOBS_PER_THREAD);
    CHECK_EQ_INT(identical, run);
    CHECK_EQ_INT(seen.n, 20);
    CHECK_EQ_INT(seen.by_status[CALLS_OK], 20);
    CHECK_EQ_INT(seen.tag_sum, 20 * 21 / 2);
    calls_stats(calls, &st);
    CHECK_EQ_INT(st.submitted, run + 20);
    CHECK_EQ_INT(st.ok, run + 20);
    CHECK_EQ_INT(st.run_here + st.failed + st.lost + st.stopped, 0);
    CHECK_EQ_INT(st.waiting, 0);
    CHECK(!st.alone);
    driver_stop(&dr);
    CHECK_EQ_INT(atomic_load(&dr.pump_errors), 0);
    calls_destroy(&calls);
    CHECK(calls == NULL);
    calls_destroy(&calls); /* NULL is fine */
    dispatch_destroy(&d);
    fleet_stop(&f);
    seen_free(&seen);
    buf_free(&check);
    log_restore(&log);
}

static void on_other(void *ctx, uint64_t id, dispatch_status_t status, span_t result)
{
    buf_t *b = ctx;

    if (id == 7 && status == DISPATCH_OK)
        buf_append(b, result.ptr, result.len);
}

TEST(calls_pump_routes_the_drivers_own_jobs_to_it)
{
    fleet_t f;
    dispatch_t *d;
    calls_t *calls;
    seen_t seen;
    buf_t other;
    st_err_t err = {0};
    double end = now_s() + WAIT_S;
    FILE *log = quiet_log();

    fleet_init(&f, "other");
    d = dispatch_new(&(dispatch_opts_t){.bind = f.addr}, &err);
    REQUIRE(d != NULL);
    calls = calls_new(d, &(calls_opts_t){.grace_ms = WAIT_S * 1000, .first_id = 1000}, &err);
    REQUIRE(calls != NULL);
    REQUIRE(fleet_start(&f, 1));
    seen_init(&seen);
    buf_init(&other);
    REQUIRE(dispatch_submit(d, 7, JOBS_ECHO, (span_t){(const uint8_t *)"mine", 4}, &err) == ST_OK);
    REQUIRE(calls_submit(calls, JOBS_ECHO, (span_t){(const uint8_t *)"theirs", 6}, on_seen, &seen,
                         3, &err) == ST_OK);
    while ((other.len == 0 || seen_count(&seen) == 0) && now_s() < end)
        CHECK(calls_pump(calls, 100, on_other, &other, &err) == ST_OK);
    CHECK(other.len == 4 && memcmp(other.data, "mine", 4) == 0);
    CHECK_EQ_INT(seen.n, 1);
    CHECK(seen.by_status[CALLS_OK] == 1 && seen.tag_sum == 3);
    CHECK(seen.last.len == 6 && memcmp(seen.last.data, "theirs", 6) == 0);
    calls_destroy(&calls);
    dispatch_destroy(&d);
    fleet_stop(&f);
    seen_free(&seen);
    buf_free(&other);
    log_restore(&log);
}

TEST(calls_without_workers_are_given_back_until_one_joins)
{
    fleet_t f;
    dispatch_t *d;
    calls_t *calls;
    driver_t dr;
    seen_t seen;
    calls_stats_t st;
    buf_t check;
    arena_t *a = arena_new(0);
    span_t out = {0}, here = {0};
    st_err_t err = {0};
    calls_status_t s = CALLS_RUN_HERE;
    double end;
    FILE *log = quiet_log();

    buf_init(&check);
    REQUIRE(a != NULL && check_input(&check));
    fleet_init(&f, "alone");
    d = dispatch_new(&(dispatch_opts_t){.bind = f.addr}, &err);
    REQUIRE(d != NULL);
    calls = calls_new(d, &(calls_opts_t){.grace_ms = 100}, &err);
    REQUIRE(calls != NULL);
    REQUIRE(driver_start(&dr, calls, NULL));
    seen_init(&seen);
    /* waits out the grace period, then is given back */
    CHECK(calls_run(calls, JOBS_ECHO, (span_t){(const uint8_t *)"x", 1}, a, &out, &err) ==
          CALLS_RUN_HERE);
    CHECK(err.code == ST_OK && strstr(err.msg, "no worker") != NULL);
    calls_stats(calls, &st);
    CHECK(st.alone);
    /* ... and taken out of the dispatcher: no worker runs it later */
    driver_stop(&dr); /* the dispatcher is this thread's to look at */
    CHECK_EQ_INT(dispatch_pending(d), 0);
    REQUIRE(driver_start(&dr, calls, NULL));
    /* from now on at once, by callback too */
    CHECK(calls_submit(calls, JOBS_ECHO, (span_t){(const uint8_t *)"y", 1}, on_seen, &seen, 9,
                       &err) == ST_OK);
    CHECK(wait_seen(&seen, 1));
    CHECK(seen.by_status[CALLS_RUN_HERE] == 1 && seen.tag_sum == 9);
    /* calls_run_check runs it here: the same bytes as check_run */
    CHECK(calls_run_check(calls, (span_t){check.data, check.len}, a, &out, &err) == ST_OK);
    CHECK(check_run((span_t){check.data, check.len}, a, &here, &err) == ST_OK);
    CHECK(out.len == here.len && out.len > 0 && memcmp(out.ptr, here.ptr, out.len) == 0);
    /* calls_check counts where it ran */
    calls_tally_t tally;
    atomic_init(&tally.on_workers, 0);
    atomic_init(&tally.here, 0);
    CHECK(calls_check(calls, &tally, (span_t){check.data, check.len}, a, &out, &err) == ST_OK);
    CHECK(atomic_load(&tally.here) == 1 && atomic_load(&tally.on_workers) == 0);
    /* a worker joins: jobs run there again */
    REQUIRE(fleet_start(&f, 1));
    end = now_s() + WAIT_S;
    do {
        s = calls_run(calls, JOBS_ECHO, (span_t){(const uint8_t *)"z", 1}, a, &out, &err);
        if (s != CALLS_OK)
            usleep(50000);
    } while (s == CALLS_RUN_HERE && now_s() < end);
    CHECK(s == CALLS_OK && out.len == 1 && out.ptr[0] == 'z');
    calls_stats(calls, &st);
    CHECK(!st.alone);
    CHECK(st.run_here >= 3);
    driver_stop(&dr);
    calls_destroy(&calls);
    dispatch_destroy(&d);
    fleet_stop(&f);
    seen_free(&seen);
    arena_destroy(&a);
    buf_free(&check);
    log_restore(&log);
}

/* The grace period counts from the last time a worker was connected,
 * whether or not a job was waiting: a job that comes after the workers
 * have been gone that long is given back without waiting it out again
 * (single-host mode relies on it, see hostpool.c). */
TEST(calls_grace_counts_while_nothing_waits)
{
    fleet_t f;
    dispatch_t *d;
    calls_t *calls;
    driver_t dr;
    calls_stats_t st;
    arena_t *a = arena_new(0);
    span_t out = {0};
    st_err_t err = {0};
    double end = now_s() + WAIT_S;
    FILE *log = quiet_log();

    REQUIRE(a != NULL);
    fleet_init(&f, "idle");
    d = dispatch_new(&(dispatch_opts_t){.bind = f.addr}, &err);
    REQUIRE(d != NULL);
    calls = calls_new(d, &(calls_opts_t){.grace_ms = 100}, &err);
    REQUIRE(calls != NULL);
    REQUIRE(driver_start(&dr, calls, NULL));
    do {
        calls_stats(calls, &st);
        if (!st.alone)
            usleep(10000);
    } while (!st.alone && now_s() < end);
    CHECK(st.alone);
    CHECK_EQ_INT(st.submitted, 0);
    CHECK(calls_run(calls, JOBS_ECHO, (span_t){(const uint8_t *)"x", 1}, a, &out, &err) ==
          CALLS_RUN_HERE);
    CHECK(err.code == ST_OK && strstr(err.msg, "no worker") != NULL);
    driver_stop(&dr);
    calls_destroy(&calls);
    dispatch_destroy(&d);
    unlink(f.addr + strlen("ipc://"));
    arena_destroy(&a);
    log_restore(&log);
}

TEST(calls_failed_and_lost_jobs_are_internal_errors)
{
    static const uint8_t junk[] = {0x93, 0x07};
    static const char pill[] = "x = 1  # STRATA-POISON-PILL\n";
    fleet_t f;
    dispatch_t *d;
    calls_t *calls;
    driver_t dr;
    calls_stats_t st;
    arena_t *a = arena_new(0);
    span_t out = {0};
    st_err_t err = {0};
    FILE *log = quiet_log();

    REQUIRE(a != NULL);
    fleet_init(&f, "lost");
    f.crash_on = "STRATA-POISON-PILL";
    atomic_init(&f.respawn, true); /* as single-host mode restarts crashed workers */
    d = dispatch_new(&(dispatch_opts_t){.bind = f.addr, .max_retries = 1}, &err);
    REQUIRE(d != NULL);
    calls = calls_new(d, &(calls_opts_t){.grace_ms = WAIT_S * 1000}, &err);
    REQUIRE(calls != NULL);
    REQUIRE(fleet_start(&f, 2));
    REQUIRE(driver_start(&dr, calls, &f));
    CHECK(calls_run(calls, 77, (span_t){junk, sizeof junk}, a, &out, &err) == CALLS_FAILED);
    CHECK(err.code == ST_EINTERNAL && strstr(err.msg, "unknown job kind 77") != NULL);
    memset(&err, 0, sizeof err);
    CHECK(calls_run_check(calls, (span_t){junk, sizeof junk}, a, &out, &err) == ST_EINTERNAL);
    CHECK(strstr(err.msg, "failed on a worker") != NULL);
    /* the pill kills both workers it is sent to (once, and one retry) */
    memset(&err, 0, sizeof err);
    CHECK(calls_run_check(calls, (span_t){(const uint8_t *)pill, sizeof pill - 1}, a, &out, &err) ==
          ST_EINTERNAL);
    CHECK(strstr(err.msg, "lost with its workers") != NULL);
    /* and the next job runs on the restarted workers */
    CHECK(calls_run(calls, JOBS_ECHO, (span_t){(const uint8_t *)"ok", 2}, a, &out, &err) ==
          CALLS_OK);
    CHECK(out.len == 2 && memcmp(out.ptr, "ok", 2) == 0);
    calls_stats(calls, &st);
    CHECK_EQ_INT(st.failed, 2);
    CHECK_EQ_INT(st.lost, 1);
    CHECK_EQ_INT(st.ok, 1);
    driver_stop(&dr);
    calls_destroy(&calls);
    dispatch_destroy(&d);
    fleet_stop(&f);
    arena_destroy(&a);
    log_restore(&log);
}

TEST(calls_too_large_for_the_wire_is_given_back)
{
    fleet_t f;
    dispatch_t *d;
    calls_t *calls;
    driver_t dr;
    arena_t *a = arena_new(0);
    uint8_t *big = st_calloc(PROTO_MAX_INPUT + 1, 1);
    span_t out = {0};
    st_err_t err = {0};
    FILE *log = quiet_log();

    REQUIRE(a != NULL && big != NULL);
    fleet_init(&f, "big");
    d = dispatch_new(&(dispatch_opts_t){.bind = f.addr}, &err);
    REQUIRE(d != NULL);
    calls = calls_new(d, &(calls_opts_t){.grace_ms = WAIT_S * 1000}, &err);
    REQUIRE(calls != NULL);
    REQUIRE(fleet_start(&f, 1));
    REQUIRE(driver_start(&dr, calls, NULL));
    CHECK(calls_run(calls, JOBS_ECHO, (span_t){big, PROTO_MAX_INPUT + 1}, a, &out, &err) ==
          CALLS_RUN_HERE);
    CHECK(strstr(err.msg, "over the limits") != NULL);
    driver_stop(&dr);
    calls_destroy(&calls);
    dispatch_destroy(&d);
    fleet_stop(&f);
    st_free(big);
    arena_destroy(&a);
    log_restore(&log);
}

typedef struct {
    calls_t *calls;
    calls_status_t status;
    st_err_t err;
    pthread_t tid;
} blocked_t;

static void *blocked_main(void *arg)
{
    blocked_t *b = arg;
    arena_t *a = arena_new(0);
    span_t out;

    b->status =
        calls_run(b->calls, JOBS_ECHO, (span_t){(const uint8_t *)"wait", 4}, a, &out, &b->err);
    arena_destroy(&a);
    return NULL;
}

TEST(calls_shutdown_releases_every_waiting_caller)
{
    fleet_t f;
    dispatch_t *d;
    calls_t *calls;
    driver_t dr;
    blocked_t blocked[4];
    seen_t seen;
    calls_stats_t st;
    arena_t *a = arena_new(0);
    span_t out;
    st_err_t err = {0};
    double end = now_s() + WAIT_S;
    FILE *log = quiet_log();

    REQUIRE(a != NULL);
    fleet_init(&f, "stop"); /* no worker: every call waits */
    d = dispatch_new(&(dispatch_opts_t){.bind = f.addr}, &err);
    REQUIRE(d != NULL);
    calls = calls_new(d, &(calls_opts_t){.grace_ms = WAIT_S * 1000}, &err);
    REQUIRE(calls != NULL);
    REQUIRE(driver_start(&dr, calls, NULL));
    seen_init(&seen);
    for (size_t i = 0; i < 4; i++) {
        blocked[i] = (blocked_t){.calls = calls, .status = CALLS_OK};
        REQUIRE(pthread_create(&blocked[i].tid, NULL, blocked_main, &blocked[i]) == 0);
    }
    for (uint64_t t = 0; t < 3; t++)
        CHECK(calls_submit(calls, JOBS_ECHO, (span_t){(const uint8_t *)"cb", 2}, on_seen, &seen, t,
                           &err) == ST_OK);
    do {
        calls_stats(calls, &st);
        if (st.waiting < 7)
            usleep(10000);
    } while (st.waiting < 7 && now_s() < end);
    CHECK_EQ_INT(st.waiting, 7);
    calls_shutdown(calls);
    for (size_t i = 0; i < 4; i++) {
        pthread_join(blocked[i].tid, NULL);
        CHECK(blocked[i].status == CALLS_STOPPED);
        CHECK(blocked[i].err.code == ST_EIO);
    }
    CHECK_EQ_INT(seen.n, 3);
    CHECK_EQ_INT(seen.by_status[CALLS_STOPPED], 3);
    /* later calls are refused */
    CHECK(calls_submit(calls, JOBS_ECHO, (span_t){(const uint8_t *)"late", 4}, on_seen, &seen, 0,
                       &err) == ST_EIO);
    CHECK(calls_run(calls, JOBS_ECHO, (span_t){(const uint8_t *)"late", 4}, a, &out, &err) ==
          CALLS_STOPPED);
    CHECK(calls_run_check(calls, (span_t){(const uint8_t *)"late", 4}, a, &out, &err) == ST_EIO);
    calls_stats(calls, &st);
    CHECK_EQ_INT(st.stopped, 7);
    CHECK_EQ_INT(st.waiting, 0);
    calls_shutdown(calls); /* twice is once */
    driver_stop(&dr);
    CHECK_EQ_INT(seen_count(&seen), 3);
    calls_destroy(&calls);
    dispatch_destroy(&d);
    unlink(f.addr + strlen("ipc://"));
    seen_free(&seen);
    arena_destroy(&a);
    log_restore(&log);
}

TEST(calls_out_of_memory_queues_nothing)
{
    fleet_t f;
    dispatch_t *d;
    calls_t *calls;
    calls_stats_t st;
    seen_t seen;
    st_err_t err = {0};
    FILE *log = quiet_log();

    fleet_init(&f, "oom");
    d = dispatch_new(&(dispatch_opts_t){.bind = f.addr}, &err);
    REQUIRE(d != NULL);
    for (long n = 0; n < 3; n++) {
        alloc_fail_after(n);
        calls = calls_new(d, NULL, &err);
        if (alloc_fail_armed()) { /* needed fewer than n allocations */
            alloc_fail_after(-1);
            CHECK(calls != NULL);
        } else {
            CHECK(calls == NULL && err.code == ST_ENOMEM);
        }
        calls_destroy(&calls);
    }
    calls = calls_new(d, NULL, &err);
    REQUIRE(calls != NULL);
    seen_init(&seen);
    for (long n = 0; n < 2; n++) {
        alloc_fail_after(n);
        CHECK(calls_submit(calls, JOBS_ECHO, (span_t){(const uint8_t *)"m", 1}, on_seen, &seen, 0,
                           &err) == ST_ENOMEM);
        alloc_fail_after(-1);
    }
    calls_stats(calls, &st);
    CHECK_EQ_INT(st.submitted, 0);
    CHECK_EQ_INT(st.waiting, 0);
    calls_destroy(&calls);
    CHECK_EQ_INT(seen.n, 0);
    dispatch_destroy(&d);
    unlink(f.addr + strlen("ipc://"));
    seen_free(&seen);
    log_restore(&log);
}

/* calls_cancel ends one caller's calls, queued or handed to the
 * dispatcher, and leaves the others' alone. */
TEST(calls_cancel_ends_one_callers_calls)
{
    fleet_t f;
    dispatch_t *d;
    calls_t *calls;
    driver_t dr;
    seen_t mine, theirs;
    st_err_t err = {0};
    FILE *log = quiet_log();

    fleet_init(&f, "cancel");
    d = dispatch_new(&(dispatch_opts_t){.bind = f.addr}, &err);
    REQUIRE(d != NULL);
    calls = calls_new(d, &(calls_opts_t){.grace_ms = 600000}, &err); /* no worker: they wait */
    REQUIRE(calls != NULL);
    REQUIRE(driver_start(&dr, calls, NULL));
    seen_init(&mine);
    seen_init(&theirs);
    for (uint64_t k = 1; k <= 3; k++)
        CHECK(calls_submit(calls, JOBS_ECHO, (span_t){(const uint8_t *)"m", 1}, on_seen, &mine, k,
                           &err) == ST_OK);
    CHECK(calls_submit(calls, JOBS_ECHO, (span_t){(const uint8_t *)"t", 1}, on_seen, &theirs, 7,
                       &err) == ST_OK);
    usleep(50000); /* the driver hands them to the dispatcher */
    calls_cancel(calls, &mine);
    CHECK_EQ_INT(seen_count(&mine), 3); /* at once, on this thread */
    CHECK(mine.by_status[CALLS_STOPPED] == 3 && mine.tag_sum == 6);
    CHECK_EQ_INT(seen_count(&theirs), 0);
    calls_cancel(calls, &mine); /* nothing left of them: nothing happens */
    CHECK_EQ_INT(seen_count(&mine), 3);
    driver_stop(&dr);
    calls_destroy(&calls); /* shuts the rest down */
    CHECK(theirs.n == 1 && theirs.by_status[CALLS_STOPPED] == 1);
    dispatch_destroy(&d);
    fleet_stop(&f); /* none started: removes the socket */
    seen_free(&mine);
    seen_free(&theirs);
    log_restore(&log);
}
