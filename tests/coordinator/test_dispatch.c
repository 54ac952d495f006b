/* test_dispatch.c - the dispatcher in this process, real worker processes
 * (`strata worker`, the binary built beside this runner) over ipc://.
 *
 * What is checked is what a run must survive: every job completes with the
 * bytes the in-process path gives; a worker killed with SIGKILL mid-batch
 * loses no job; a job that kills its workers is retried at most 3 times and
 * then reported, while the others complete; a worker of another analyzer or
 * protocol version is refused and told so; a worker started before the
 * coordinator binds joins when it appears; a stopped worker (SIGSTOP) is
 * dropped for missing heartbeats and rejoins when it wakes. Nothing is
 * timed: every wait is "until it happens", with a generous limit. */
#include "test.h"

#include "check_fixture.h"

#include "common/alloc.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/proto.h"
#include "coordinator/dispatch.h"
#include "worker/wproc.h"
#include "worker/jobs.h"
#include "worker/python/xmod.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define MAX_JOBS 128
#define MAX_WORKERS 4
#define WAIT_S 90 /* generous: ASan builds on a shared 2-core host */

/* ---- the jobs and their expected results ------------------------------------------------ */

typedef struct {
    size_t n;
    uint32_t kind[MAX_JOBS];
    buf_t input[MAX_JOBS];
    buf_t expect[MAX_JOBS];
    buf_t got[MAX_JOBS];
    dispatch_status_t status[MAX_JOBS];
    bool done[MAX_JOBS];
    size_t n_done;
    size_t twice; /* a job finished twice: a bug */
} jobset_t;

static void jobset_free(jobset_t *js)
{
    for (size_t i = 0; i < js->n; i++) {
        buf_free(&js->input[i]);
        buf_free(&js->expect[i]);
        buf_free(&js->got[i]);
    }
    memset(js, 0, sizeof *js);
}

/* Adds a job and its in-process result (jobs_run: the reference). */
static bool add_job(jobset_t *js, scanner_t *sc, uint32_t kind, const uint8_t *in, size_t len)
{
    arena_t *a = arena_new(0);
    span_t out;
    size_t i = js->n;
    bool ok;

    if (a == NULL || i >= MAX_JOBS)
        return false;
    buf_init(&js->input[i]);
    buf_init(&js->expect[i]);
    buf_init(&js->got[i]);
    js->kind[i] = kind;
    ok = buf_append(&js->input[i], in, len) == ST_OK &&
         jobs_run(sc, kind, (span_t){in, len}, a, &out, NULL) == ST_OK &&
         buf_append(&js->expect[i], out.ptr, out.len) == ST_OK;
    arena_destroy(&a);
    js->n++;
    return ok;
}

/* A check job over one module with two imports (os: stdlib, nosuchmod:
 * unresolved), its summary taken from the scan of the module. */
static bool add_check_job(jobset_t *js, scanner_t *sc)
{
    static const char src[] = "import os\nimport nosuchmod\nos.getcwd()\n";
    arena_t *a = arena_new(0);
    span_t scan;
    buf_t in;
    bool ok;

    if (a == NULL || scanner_run(sc, NULL, SCAN_KIND_PY, (const uint8_t *)src, sizeof src - 1, a,
                                 &scan, NULL) != ST_OK) {
        arena_destroy(&a);
        return false;
    }
    buf_init(&in);
    ok = check_fixture_input(&in, scan_result_summary(scan)) &&
         add_job(js, sc, JOBS_CHECK, in.data, in.len);
    buf_free(&in);
    arena_destroy(&a);
    return ok;
}

/* Scan jobs over the fixture files (up to max), a check job, echo jobs. */
static bool make_jobs(jobset_t *js, size_t max_scans, size_t n_echo)
{
    char dir[PATH_MAX], path[PATH_MAX * 2];
    scanner_t *sc = scanner_new();
    DIR *d;
    struct dirent *e;
    bool ok = sc != NULL;

    memset(js, 0, sizeof *js);
    snprintf(dir, sizeof dir, "%s/tests/data/py", STRATA_SOURCE_DIR);
    if (ok && (d = opendir(dir)) != NULL) {
        while (ok && js->n < max_scans && (e = readdir(d)) != NULL) {
            size_t nl = strlen(e->d_name);
            FILE *f;
            char data[65536];
            size_t len;
            buf_t in;

            if (nl < 4 || strcmp(e->d_name + nl - 3, ".py") != 0)
                continue;
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            if ((f = fopen(path, "rb")) == NULL)
                continue;
            len = fread(data, 1, sizeof data, f);
            fclose(f);
            buf_init(&in);
            ok = jobs_scan_input(&in, SCAN_KIND_PY, NULL, (const uint8_t *)data, len, NULL) ==
                     ST_OK &&
                 add_job(js, sc, JOBS_SCAN, in.data, in.len);
            buf_free(&in);
        }
        closedir(d);
    }
    ok = ok && add_check_job(js, sc);
    for (size_t i = 0; ok && i < n_echo; i++) {
        char text[64];
        int n = snprintf(text, sizeof text, "echo job %zu", i);
        ok = add_job(js, sc, JOBS_ECHO, (const uint8_t *)text, (size_t)n);
    }
    scanner_destroy(&sc);
    return ok && js->n > 0;
}

static void on_done(void *ctx, uint64_t id, dispatch_status_t status, span_t result)
{
    jobset_t *js = ctx;

    if (id >= js->n)
        return;
    if (js->done[id]) {
        js->twice++;
        return;
    }
    js->done[id] = true;
    js->status[id] = status;
    buf_append(&js->got[id], result.ptr, result.len);
    js->n_done++;
}

static bool submit_all(dispatch_t *d, const jobset_t *js)
{
    for (size_t i = 0; i < js->n; i++)
        if (dispatch_submit(d, i, js->kind[i], (span_t){js->input[i].data, js->input[i].len},
                            NULL) != ST_OK)
            return false;
    return true;
}

/* Jobs that finished OK with exactly the expected bytes. */
static size_t n_identical(const jobset_t *js)
{
    size_t same = 0;

    for (size_t i = 0; i < js->n; i++)
        if (js->done[i] && js->status[i] == DISPATCH_OK && js->got[i].len == js->expect[i].len &&
            memcmp(js->got[i].data, js->expect[i].data, js->got[i].len) == 0)
            same++;
    return same;
}

/* ---- worker processes ------------------------------------------------------------------- */

typedef struct {
    char addr[128];
    char strata[PATH_MAX + 16];
    const char *crash_on;  /* STRATA_TEST_CRASH_ON for the workers */
    const char *hang_on;   /* STRATA_TEST_HANG_ON for the workers */
    const char *job_limit; /* --job-limit SECONDS; NULL: the default */
    size_t exits_stuck;    /* workers reaped with status WPROC_EXIT_STUCK */
    const char *threads;
    char errlog[128]; /* the workers' stderr goes here when set, else /dev/null */
    pid_t pid[MAX_WORKERS];
    size_t n;
    size_t spawned;
    bool respawn; /* start a new worker when one dies */
} fleet_t;

static void fleet_init(fleet_t *f, const char *tag)
{
    static int counter;
    memset(f, 0, sizeof *f);
    test_strata_path(f->strata, sizeof f->strata);
    snprintf(f->addr, sizeof f->addr, "ipc:///tmp/strata-test-%ld-%s-%d", (long)getpid(), tag,
             counter++);
    f->threads = "1";
}

static pid_t spawn(fleet_t *f)
{
    pid_t pid = fork();

    if (pid == 0) {
        struct rlimit no_core = {0, 0};
        int fd = f->errlog[0] != '\0' ? open(f->errlog, O_WRONLY | O_CREAT | O_APPEND, 0600)
                                      : open("/dev/null", O_WRONLY);

        setrlimit(RLIMIT_CORE, &no_core);
        if (fd >= 0 && getenv("STRATA_TEST_WORKER_STDERR") == NULL)
            dup2(fd, 2);
        if (f->crash_on != NULL)
            setenv("STRATA_TEST_CRASH_ON", f->crash_on, 1);
        else
            unsetenv("STRATA_TEST_CRASH_ON");
        if (f->hang_on != NULL)
            setenv("STRATA_TEST_HANG_ON", f->hang_on, 1);
        else
            unsetenv("STRATA_TEST_HANG_ON");
        execl(f->strata, "strata", "worker", "--connect", f->addr, "--threads", f->threads,
              f->job_limit != NULL ? "--job-limit" : (char *)NULL, f->job_limit, (char *)NULL);
        _exit(127);
    }
    if (pid > 0)
        f->spawned++;
    return pid;
}

static bool fleet_start(fleet_t *f, size_t n)
{
    for (size_t i = 0; i < n && f->n < MAX_WORKERS; i++)
        if ((f->pid[f->n++] = spawn(f)) <= 0)
            return false;
    return true;
}

/* Reaps dead workers (and starts new ones when respawn is on). */
static void fleet_check(fleet_t *f)
{
    for (size_t i = 0; i < f->n; i++) {
        int status;

        if (f->pid[i] <= 0 || waitpid(f->pid[i], &status, WNOHANG) != f->pid[i])
            continue;
        if (WIFEXITED(status) && WEXITSTATUS(status) == WPROC_EXIT_STUCK)
            f->exits_stuck++;
        f->pid[i] = f->respawn ? spawn(f) : 0;
    }
}

/* Waits for pid to end (SIGKILL after WAIT_S); its exit status or -1. */
static int reap(pid_t pid)
{
    int status;

    for (int i = 0; i < WAIT_S * 20; i++) {
        pid_t r = waitpid(pid, &status, WNOHANG);

        if (r == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        if (r < 0)
            return -1;
        usleep(50000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

/* SIGTERM to every worker; true when all exited 0. */
static bool fleet_stop(fleet_t *f)
{
    bool clean = true;

    f->respawn = false;
    for (size_t i = 0; i < f->n; i++) {
        if (f->pid[i] <= 0)
            continue;
        kill(f->pid[i], SIGCONT);
        kill(f->pid[i], SIGTERM);
        clean = reap(f->pid[i]) == 0 && clean;
        f->pid[i] = 0;
    }
    if (strncmp(f->addr, "ipc://", 6) == 0)
        unlink(f->addr + strlen("ipc://"));
    if (f->errlog[0] != '\0')
        unlink(f->errlog);
    return clean;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Polls until every job finished (true) or WAIT_S passed. */
static bool run_all(dispatch_t *d, jobset_t *js, fleet_t *f)
{
    double end = now_s() + WAIT_S;

    while (js->n_done < js->n && now_s() < end) {
        if (dispatch_poll(d, 100, on_done, js, NULL) != ST_OK)
            return false;
        if (f != NULL)
            fleet_check(f);
    }
    return js->n_done == js->n;
}

/* Polls until pred holds on the stats (true) or WAIT_S passed. */
static bool poll_until(dispatch_t *d, fleet_t *f, bool (*pred)(const dispatch_stats_t *, size_t),
                       size_t arg)
{
    double end = now_s() + WAIT_S;
    dispatch_stats_t st;

    for (;;) {
        dispatch_stats(d, &st);
        if (pred(&st, arg))
            return true;
        if (now_s() >= end)
            return false;
        if (dispatch_poll(d, 100, on_done, NULL, NULL) != ST_OK)
            return false;
        if (f != NULL)
            fleet_check(f);
    }
}

static bool workers_at_least(const dispatch_stats_t *st, size_t n)
{
    return st->workers >= n;
}

static bool workers_exactly(const dispatch_stats_t *st, size_t n)
{
    return st->workers == n;
}

static bool refused_at_least(const dispatch_stats_t *st, size_t n)
{
    return st->refused >= n;
}

static bool stuck_exactly(const dispatch_stats_t *st, size_t n)
{
    return st->stuck == n;
}

static bool joined_at_least(const dispatch_stats_t *st, size_t n)
{
    return st->joined >= n;
}

/* The dispatcher's log goes to a file during a test (read back by some). */
static FILE *log_to_file(void)
{
    FILE *f = tmpfile();

    log_set_output(f);
    log_set_level(LOG_LEVEL_WARN);
    return f;
}

static bool log_has(FILE *f, const char *needle)
{
    char text[16384];
    size_t n;

    fflush(f);
    rewind(f);
    n = fread(text, 1, sizeof text - 1, f);
    text[n] = 0;
    return strstr(text, needle) != NULL;
}

/* True when the file at path contains needle. */
static bool file_has(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    bool has;

    if (f == NULL)
        return false;
    has = log_has(f, needle);
    fclose(f);
    return has;
}

static void log_restore(FILE **f)
{
    log_set_output(NULL);
    if (*f != NULL)
        fclose(*f);
    *f = NULL;
}

/* ---- the tests ------------------------------------------------------------------------- */

TEST(dispatch_runs_jobs_on_two_workers)
{
    jobset_t js;
    fleet_t f;
    dispatch_t *d;
    dispatch_stats_t st;
    st_err_t err = {0};
    FILE *log = log_to_file();

    REQUIRE(make_jobs(&js, 40, 40));
    fleet_init(&f, "run");
    d = dispatch_new(&(dispatch_opts_t){.bind = f.addr, .batch_max = 8}, &err);
    REQUIRE(d != NULL);
    CHECK(strncmp(dispatch_endpoint(d), "ipc://", 6) == 0);
    f.threads = "2";
    REQUIRE(fleet_start(&f, 2));
    REQUIRE(submit_all(d, &js));
    /* a job id in use, and an input over the limit, are refused */
    CHECK(dispatch_submit(d, 0, JOBS_ECHO, (span_t){(const uint8_t *)"x", 1}, &err) == ST_EEXIST);
    CHECK(dispatch_submit(d, 999, JOBS_ECHO, (span_t){(const uint8_t *)"", PROTO_MAX_INPUT + 1},
                          &err) == ST_ELIMIT);
    CHECK(dispatch_pending(d) == js.n);
    CHECK(run_all(d, &js, NULL));
    CHECK_EQ_INT(n_identical(&js), js.n);
    CHECK_EQ_INT(js.twice, 0);
    dispatch_stats(d, &st);
    CHECK_EQ_INT(st.completed, js.n);
    CHECK_EQ_INT(st.lost, 0);
    CHECK_EQ_INT(st.in_flight, 0);
    CHECK(st.batches >= 2);
    CHECK(st.dispatched >= js.n); /* the metrics' counts */
    CHECK(st.bytes_out > 0 && st.bytes_in > 0);
    CHECK_EQ_INT(dispatch_pending(d), 0);
    {
        /* the second worker may join only after the first ran every job */
        dispatch_worker_t one[1], rest;
        CHECK(poll_until(d, &f, workers_exactly, 2));
        CHECK_EQ_INT(dispatch_workers(d, one, 1, &rest), 2);
        CHECK(one[0].slots == 2 && one[0].busy == 0 && one[0].name[0] != '\0');
        CHECK(rest.slots == 2 && rest.busy == 0 && rest.name[0] == '\0');
    }
    CHECK(fleet_stop(&f)); /* SIGTERM: BYE and exit 0 */
    dispatch_destroy(&d);
    CHECK(d == NULL);
    jobset_free(&js);
    log_restore(&log);
}

static void count_ok(void *ctx, uint64_t id, dispatch_status_t status, span_t result)
{
    (void)id;
    (void)result;
    *(size_t *)ctx += status == DISPATCH_OK;
}

/* Input bytes in flight on a worker stay within PROTO_WORKER_INPUT_BYTES
 * (one job always goes), whatever its credit in jobs: a worker refuses
 * jobs past twice that, and this coordinator never makes it. */
TEST(dispatch_keeps_input_bytes_in_flight_within_the_worker_cap)
{
    fleet_t f;
    dispatch_t *d;
    dispatch_stats_t st;
    st_err_t err = {0};
    size_t big = (size_t)7 << 20, done = 0, most = 0;
    uint8_t *input = malloc(big);
    FILE *log = log_to_file();
    double end;

    REQUIRE(input != NULL);
    memset(input, 'x', big);
    fleet_init(&f, "bytes");
    d = dispatch_new(&(dispatch_opts_t){.bind = f.addr, .depth = 16}, &err);
    REQUIRE(d != NULL);
    REQUIRE(fleet_start(&f, 1));
    REQUIRE(poll_until(d, &f, workers_at_least, 1));
    for (uint64_t id = 0; id < 6; id++)
        REQUIRE(dispatch_submit(d, id, JOBS_ECHO, (span_t){input, big}, &err) == ST_OK);
    end = now_s() + WAIT_S;
    while (done < 6 && now_s() < end) {
        REQUIRE(dispatch_poll(d, 20, count_ok, &done, NULL) == ST_OK);
        dispatch_stats(d, &st);
        most = st.in_flight > most ? st.in_flight : most;
        fleet_check(&f);
    }
    CHECK_EQ_INT(done, 6); /* every job answered: none refused by the worker */
    CHECK(most >= 1 && most * big <= PROTO_WORKER_INPUT_BYTES);
    CHECK(fleet_stop(&f));
    dispatch_destroy(&d);
    free(input);
    log_restore(&log);
}

TEST(dispatch_job_errors_come_back_as_errors)
{
    jobset_t js = {0};
    fleet_t f;
    dispatch_t *d;
    st_err_t err = {0};
    static const uint8_t junk[] = {0x93, 0x07};
    FILE *log = log_to_file();

    fleet_init(&f, "err");
    d = dispatch_new(&(dispatch_opts_t){.bind = f.addr}, &err);
    REQUIRE(d != NULL);
    REQUIRE(fleet_start(&f, 1));
    js.n = 2;
    for (size_t i = 0; i < js.n; i++)
        buf_init(&js.got[i]);
    REQUIRE(dispatch_submit(d, 0, 77, (span_t){junk, sizeof junk}, NULL) == ST_OK);
    REQUIRE(dispatch_submit(d, 1, JOBS_SCAN, (span_t){junk, sizeof junk}, NULL) == ST_OK);
    CHECK(run_all(d, &js, NULL));
    CHECK(js.status[0] == DISPATCH_ERROR && js.status[1] == DISPATCH_ERROR);
    CHECK(js.got[0].data != NULL && strstr((char *)js.got[0].data, "unknown job kind 77"));
    CHECK(js.got[1].data != NULL && strstr((char *)js.got[1].data, "malformed scan job"));
    CHECK(fleet_stop(&f));
    dispatch_destroy(&d);
    jobset_free(&js);
    log_restore(&log);
}

TEST(dispatch_requeues_the_jobs_of_a_killed_worker)
{
    jobset_t js;
    fleet_t f;
    dispatch_t *d;
    dispatch_stats_t st;
    st_err_t err = {0};
    double end = now_s() + WAIT_S;
    FILE *log = log_to_file();

    REQUIRE(make_jobs(&js, 60, 20));
    fleet_init(&f, "kill");
    d = dispatch_new(&(dispatch_opts_t){.bind = f.addr, .depth = 8, .batch_max = 8}, &err);
    REQUIRE(d != NULL);
    REQUIRE(fleet_start(&f, 2));
    REQUIRE(poll_until(d, NULL, workers_at_least, 2));
    REQUIRE(submit_all(d, &js));
    /* both hold a batch once the first results are in: kill one of them */
    while (js.n_done == 0 && now_s() < end)
        REQUIRE(dispatch_poll(d, 100, on_done, &js, NULL) == ST_OK);
    kill(f.pid[0], SIGKILL);
    reap(f.pid[0]);
    f.pid[0] = 0;
    CHECK(run_all(d, &js, NULL));
    CHECK_EQ_INT(n_identical(&js), js.n);
    CHECK_EQ_INT(js.twice, 0);
    CHECK(poll_until(d, NULL, workers_exactly, 1)); /* the dead one is dropped */
    dispatch_stats(d, &st);
    CHECK(st.dropped >= 1);
    CHECK_EQ_INT(st.lost, 0);
    CHECK(fleet_stop(&f));
    dispatch_destroy(&d);
    jobset_free(&js);
    log_restore(&log);
}

TEST(dispatch_poison_pill_is_retried_three_times_then_reported)
{
    jobset_t js;
    fleet_t f;
    dispatch_t *d;
    dispatch_stats_t st;
    st_err_t err = {0};
    static const char poison[] = "x = 1  # STRATA-POISON-PILL\n";
    size_t pill;
    buf_t in;
    scanner_t *sc = scanner_new();
    FILE *log = log_to_file();

    REQUIRE(sc != NULL);
    REQUIRE(make_jobs(&js, 20, 20));
    buf_init(&in);
    REQUIRE(jobs_scan_input(&in, SCAN_KIND_PY, NULL, (const uint8_t *)poison, sizeof poison - 1,
                            NULL) == ST_OK);
    pill = js.n;
    REQUIRE(add_job(&js, sc, JOBS_SCAN, in.data, in.len));
    buf_free(&in);
    scanner_destroy(&sc);
    fleet_init(&f, "pill");
    f.crash_on = "STRATA-POISON-PILL";
    f.respawn = true; /* as single-host mode restarts crashed workers */
    d = dispatch_new(&(dispatch_opts_t){.bind = f.addr, .depth = 4, .batch_max = 4}, &err);
    REQUIRE(d != NULL);
    REQUIRE(fleet_start(&f, 2));
    REQUIRE(submit_all(d, &js));
    CHECK(run_all(d, &js, &f));
    CHECK(js.done[pill] && js.status[pill] == DISPATCH_LOST);
    CHECK(js.got[pill].data != NULL &&
          strstr((char *)js.got[pill].data, "job lost with its worker 4 times"));
    CHECK_EQ_INT(n_identical(&js), js.n - 1); /* every other job is right */
    CHECK_EQ_INT(js.twice, 0);
    dispatch_stats(d, &st);
    CHECK_EQ_INT(st.lost, 1);
    /* the pill ran once and was retried 3 times: 4 workers died for it */
    CHECK_EQ_INT(f.spawned, 2 + 4);
    CHECK(log_has(log, "given up after 4 lost workers"));
    CHECK(fleet_stop(&f));
    dispatch_destroy(&d);
    jobset_free(&js);
    log_restore(&log);
}

/* A job that hangs its worker's thread (the worker keeps heartbeating):
 * past the deadline it is retried elsewhere, 4 attempts in all, then
 * reported as timed out; the hung threads stay counted busy, and the other
 * jobs, and jobs submitted afterwards, all complete on the free slots. */
TEST(dispatch_hung_job_times_out_and_its_slots_stay_busy)
{
    jobset_t js, more;
    fleet_t f;
    dispatch_t *d;
    dispatch_stats_t st;
    st_err_t err = {0};
    static const char hang[] = "x = 1  # STRATA-HANG\n";
    size_t pill;
    buf_t in;
    scanner_t *sc = scanner_new();
    FILE *log = log_to_file();

    REQUIRE(sc != NULL);
    REQUIRE(make_jobs(&js, 20, 20));
    buf_init(&in);
    REQUIRE(jobs_scan_input(&in, SCAN_KIND_PY, NULL, (const uint8_t *)hang, sizeof hang - 1,
                            NULL) == ST_OK);
    pill = js.n;
    REQUIRE(add_job(&js, sc, JOBS_SCAN, in.data, in.len));
    buf_free(&in);
    scanner_destroy(&sc);
    fleet_init(&f, "hang");
    f.hang_on = "STRATA-HANG";
    f.threads = "3"; /* 6 slots: the 4 attempts hang 4, 2 stay free */
    d = dispatch_new(&(dispatch_opts_t){.bind = f.addr, .job_timeout_ms = 2000}, &err);
    REQUIRE(d != NULL);
    REQUIRE(fleet_start(&f, 2));
    REQUIRE(poll_until(d, NULL, workers_at_least, 2));
    REQUIRE(submit_all(d, &js));
    CHECK(run_all(d, &js, NULL));
    CHECK(js.done[pill] && js.status[pill] == DISPATCH_LOST);
    CHECK(js.got[pill].data != NULL && strstr((char *)js.got[pill].data, "timed out"));
    CHECK_EQ_INT(n_identical(&js), js.n - 1);
    CHECK_EQ_INT(js.twice, 0);
    dispatch_stats(d, &st);
    CHECK_EQ_INT(st.lost, 1);
    CHECK(st.timeouts >= 4);
    CHECK(log_has(log, "timed out on worker"));
    /* the 4 hung threads never answer: their slots stay busy */
    CHECK(poll_until(d, NULL, stuck_exactly, 4));
    CHECK_EQ_INT(f.spawned, 2); /* nobody died */
    /* the free slots still run new jobs */
    REQUIRE(make_jobs(&more, 5, 5));
    REQUIRE(submit_all(d, &more));
    CHECK(run_all(d, &more, NULL));
    CHECK_EQ_INT(n_identical(&more), more.n);
    CHECK(fleet_stop(&f)); /* the hung threads end with the worker: exit 0 */
    dispatch_destroy(&d);
    jobset_free(&js);
    jobset_free(&more);
    log_restore(&log);
}

/* A worker whose job runs past --job-limit exits with status 3, naming the
 * job; restarted (as single-host mode does), it takes the other jobs. The
 * dispatcher's deadline is longer here: the worker's limit acts first, so
 * the job is lost with its workers and then given up. */
TEST(dispatch_worker_exits_when_a_job_runs_past_its_limit)
{
    jobset_t js;
    fleet_t f;
    dispatch_t *d;
    st_err_t err = {0};
    static const char hang[] = "y = 2  # STRATA-HANG\n";
    size_t pill;
    buf_t in;
    scanner_t *sc = scanner_new();
    FILE *log = log_to_file();

    REQUIRE(sc != NULL);
    REQUIRE(make_jobs(&js, 3, 3));
    buf_init(&in);
    REQUIRE(jobs_scan_input(&in, SCAN_KIND_PY, NULL, (const uint8_t *)hang, sizeof hang - 1,
                            NULL) == ST_OK);
    pill = js.n;
    REQUIRE(add_job(&js, sc, JOBS_SCAN, in.data, in.len));
    buf_free(&in);
    scanner_destroy(&sc);
    fleet_init(&f, "limit");
    snprintf(f.errlog, sizeof f.errlog, "/tmp/strata-test-%ld-limit.err", (long)getpid());
    unlink(f.errlog);
    f.hang_on = "STRATA-HANG";
    f.job_limit = "1";
    f.respawn = true;
    d = dispatch_new(&(dispatch_opts_t){.bind = f.addr, .max_retries = 1, .job_timeout_ms = 600000},
                     &err);
    REQUIRE(d != NULL);
    REQUIRE(fleet_start(&f, 1));
    REQUIRE(submit_all(d, &js));
    CHECK(run_all(d, &js, &f));
    CHECK(js.done[pill] && js.status[pill] == DISPATCH_LOST);
    CHECK(js.got[pill].data != NULL && strstr((char *)js.got[pill].data, "lost with its worker"));
    CHECK_EQ_INT(n_identical(&js), js.n - 1);
    /* two attempts, two workers ended themselves */
    for (double end = now_s() + WAIT_S; f.exits_stuck < 2 && now_s() < end; usleep(50000))
        fleet_check(&f);
    CHECK_EQ_INT(f.exits_stuck, 2);
    CHECK(poll_until(d, &f, joined_at_least, 3)); /* the last one is up: it can stop cleanly */
    CHECK(file_has(f.errlog, "(scan, input of"));
    CHECK(file_has(f.errlog,
                   "over the limit of 1000 ms: its thread is stuck; exiting with status 3"));
    CHECK(fleet_stop(&f));
    dispatch_destroy(&d);
    jobset_free(&js);
    log_restore(&log);
}

TEST(dispatch_refuses_another_analyzer_version)
{
    fleet_t f;
    dispatch_t *d;
    dispatch_stats_t st;
    st_err_t err = {0};
    FILE *log = log_to_file();

    fleet_init(&f, "ver");
    d = dispatch_new(&(dispatch_opts_t){.bind = f.addr, .version = "0.0.0-other+scan0"}, &err);
    REQUIRE(d != NULL);
    REQUIRE(fleet_start(&f, 1));
    CHECK(poll_until(d, NULL, refused_at_least, 1));
    dispatch_stats(d, &st);
    CHECK_EQ_INT(st.workers, 0);
    CHECK(log_has(log, "refused: analyzer version"));
    CHECK(log_has(log, "the coordinator runs 0.0.0-other+scan0"));
    /* the worker gives up for good: exit status 2 */
    CHECK_EQ_INT(reap(f.pid[0]), 2);
    f.pid[0] = 0;
    fleet_stop(&f);
    dispatch_destroy(&d);
    log_restore(&log);
}

/* A peer in this process, speaking raw bytes to the dispatcher. */
static void *raw_peer(void *zctx, const char *addr)
{
    void *s = zmq_socket(zctx, ZMQ_DEALER);
    int zero = 0;

    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    zmq_connect(s, addr);
    return s;
}

/* Polls the dispatcher until the peer has a message; decodes it into m
 * (copied into b). */
static bool peer_reply(dispatch_t *d, void *s, buf_t *b, proto_msg_t *m)
{
    double end = now_s() + WAIT_S;

    while (now_s() < end) {
        zmq_msg_t msg;

        dispatch_poll(d, 50, on_done, NULL, NULL);
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, s, ZMQ_DONTWAIT) >= 0) {
            buf_reset(b);
            buf_append(b, zmq_msg_data(&msg), zmq_msg_size(&msg));
            zmq_msg_close(&msg);
            return proto_decode(b->data, b->len, m, NULL) == ST_OK;
        }
        zmq_msg_close(&msg);
    }
    return false;
}

TEST(dispatch_refuses_other_protocols_and_malformed_peers)
{
    static const uint8_t hello_v2[] = {0x82, 0xa1, 'v', 0x02, 0xa1, 't', 0x01};
    static const uint8_t garbage[] = {0xdd, 0xff, 0xff, 0xff, 0xff, 0x00};
    fleet_t f;
    dispatch_t *d;
    dispatch_stats_t st;
    st_err_t err = {0};
    void *zctx = zmq_ctx_new(), *s;
    proto_msg_t m;
    proto_batch_t batch;
    buf_t b;
    FILE *log = log_to_file();

    buf_init(&b);
    fleet_init(&f, "proto");
    d = dispatch_new(&(dispatch_opts_t){.bind = f.addr}, &err);
    REQUIRE(d != NULL && zctx != NULL);
    s = raw_peer(zctx, f.addr);
    zmq_send(s, hello_v2, sizeof hello_v2, 0);
    CHECK(peer_reply(d, s, &b, &m) && m.type == PROTO_REFUSED && !m.retry);
    CHECK(log_has(log, "protocol version 2"));
    /* garbage is dropped, and counted */
    zmq_send(s, garbage, sizeof garbage, 0);
    zmq_send(s, "a", 1, ZMQ_SNDMORE);
    zmq_send(s, "b", 1, 0);
    /* results from a peer that never said HELLO: ignored, and told so */
    buf_reset(&b);
    REQUIRE(proto_batch_begin(&batch, &b, PROTO_RESULTS) == ST_OK);
    REQUIRE(proto_batch_result(&batch, 5, PROTO_STATUS_OK, (span_t){(const uint8_t *)"r", 1}) ==
            ST_OK);
    proto_batch_end(&batch);
    zmq_send(s, b.data, b.len, 0);
    CHECK(peer_reply(d, s, &b, &m) && m.type == PROTO_REFUSED && m.retry);
    dispatch_stats(d, &st);
    CHECK_EQ_INT(st.malformed, 3);
    CHECK_EQ_INT(st.late, 1);
    CHECK_EQ_INT(st.workers, 0);
    zmq_close(s);
    zmq_ctx_term(zctx);
    dispatch_destroy(&d);
    unlink(f.addr + strlen("ipc://"));
    buf_free(&b);
    log_restore(&log);
}

TEST(dispatch_worker_started_first_joins_when_the_coordinator_binds)
{
    jobset_t js;
    fleet_t f;
    dispatch_t *d;
    st_err_t err = {0};
    FILE *log = log_to_file();

    REQUIRE(make_jobs(&js, 10, 10));
    fleet_init(&f, "early");
    REQUIRE(fleet_start(&f, 1));
    usleep(300000); /* not a timing assumption: the worker is up or not, both must work */
    d = dispatch_new(&(dispatch_opts_t){.bind = f.addr}, &err);
    REQUIRE(d != NULL);
    REQUIRE(submit_all(d, &js));
    CHECK(run_all(d, &js, NULL));
    CHECK_EQ_INT(n_identical(&js), js.n);
    CHECK(fleet_stop(&f));
    dispatch_destroy(&d);
    jobset_free(&js);
    log_restore(&log);
}

TEST(dispatch_drops_a_stopped_worker_and_it_rejoins)
{
    jobset_t js;
    fleet_t f;
    dispatch_t *d;
    dispatch_stats_t st;
    st_err_t err = {0};
    FILE *log = log_to_file();

    REQUIRE(make_jobs(&js, 20, 20));
    fleet_init(&f, "stop");
    d = dispatch_new(&(dispatch_opts_t){.bind = f.addr, .heartbeat_ms = 100, .timeout_ms = 1000},
                     &err);
    REQUIRE(d != NULL);
    REQUIRE(fleet_start(&f, 2));
    REQUIRE(poll_until(d, NULL, workers_at_least, 2));
    kill(f.pid[0], SIGSTOP);
    REQUIRE(submit_all(d, &js));
    CHECK(run_all(d, &js, NULL));
    CHECK_EQ_INT(n_identical(&js), js.n);
    CHECK(poll_until(d, NULL, workers_exactly, 1));
    dispatch_stats(d, &st);
    CHECK(st.dropped >= 1);
    CHECK(log_has(log, "no heartbeat"));
    /* woken up, it is told it is unknown and says HELLO again */
    kill(f.pid[0], SIGCONT);
    CHECK(poll_until(d, NULL, joined_at_least, 3));
    CHECK(poll_until(d, NULL, workers_at_least, 2));
    CHECK(fleet_stop(&f));
    dispatch_destroy(&d);
    jobset_free(&js);
    log_restore(&log);
}

TEST(dispatch_worker_reconnects_to_a_new_coordinator)
{
    jobset_t js;
    fleet_t f;
    dispatch_t *d;
    st_err_t err = {0};
    FILE *log = log_to_file();

    REQUIRE(make_jobs(&js, 10, 10));
    fleet_init(&f, "again");
    snprintf(f.errlog, sizeof f.errlog, "/tmp/strata-test-%ld-again.err", (long)getpid());
    unlink(f.errlog);
    d = dispatch_new(&(dispatch_opts_t){.bind = f.addr}, &err);
    REQUIRE(d != NULL);
    REQUIRE(fleet_start(&f, 1));
    REQUIRE(poll_until(d, NULL, workers_at_least, 1));
    dispatch_destroy(&d); /* says BYE: the worker reconnects */
    d = dispatch_new(&(dispatch_opts_t){.bind = f.addr}, &err);
    REQUIRE(d != NULL);
    REQUIRE(submit_all(d, &js));
    CHECK(run_all(d, &js, NULL));
    CHECK_EQ_INT(n_identical(&js), js.n);
    CHECK(file_has(f.errlog, "the coordinator said goodbye; reconnecting to ipc://"));
    CHECK(file_has(f.errlog, "working for the coordinator at ipc://"));
    CHECK(fleet_stop(&f));
    dispatch_destroy(&d);
    jobset_free(&js);
    log_restore(&log);
}

/* A coordinator that takes the HELLO and never answers: the worker gives
 * up on it after its timeout and connects again, to a real one by then. */
TEST(dispatch_worker_reconnects_after_coordinator_silence)
{
    jobset_t js;
    fleet_t f;
    dispatch_t *d;
    st_err_t err = {0};
    void *zctx = zmq_ctx_new(), *mute;
    zmq_msg_t msg;
    int zero = 0, got = -1;
    double end = now_s() + WAIT_S;
    FILE *log = log_to_file();

    REQUIRE(zctx != NULL);
    REQUIRE(make_jobs(&js, 5, 5));
    fleet_init(&f, "mute");
    snprintf(f.errlog, sizeof f.errlog, "/tmp/strata-test-%ld-mute.err", (long)getpid());
    unlink(f.errlog);
    mute = zmq_socket(zctx, ZMQ_ROUTER);
    zmq_setsockopt(mute, ZMQ_LINGER, &zero, sizeof zero);
    REQUIRE(zmq_bind(mute, f.addr) == 0);
    REQUIRE(fleet_start(&f, 1));
    zmq_msg_init(&msg);
    while (got < 0 && now_s() < end) { /* its HELLO (two frames: id, body) */
        zmq_pollitem_t item = {.socket = mute, .events = ZMQ_POLLIN};
        if (zmq_poll(&item, 1, 100) > 0)
            got = zmq_msg_recv(&msg, mute, 0);
    }
    zmq_msg_close(&msg);
    CHECK(got >= 0);
    while (!file_has(f.errlog, "no heartbeat from the coordinator") && now_s() < end)
        usleep(100000);
    CHECK(file_has(f.errlog, "no heartbeat from the coordinator"));
    zmq_close(mute);
    zmq_ctx_term(zctx);
    d = dispatch_new(&(dispatch_opts_t){.bind = f.addr}, &err);
    REQUIRE(d != NULL);
    REQUIRE(submit_all(d, &js));
    CHECK(run_all(d, &js, NULL));
    CHECK_EQ_INT(n_identical(&js), js.n);
    CHECK(fleet_stop(&f));
    dispatch_destroy(&d);
    jobset_free(&js);
    log_restore(&log);
}

/* Random bytes from a peer never crash the dispatcher; it keeps working. */
TEST(dispatch_survives_random_messages)
{
    fleet_t f;
    dispatch_t *d;
    dispatch_stats_t st;
    st_err_t err = {0};
    void *zctx = zmq_ctx_new(), *s;
    uint8_t msg[64];
    uint32_t seed = 99;
    proto_msg_t m;
    buf_t b;
    FILE *log = log_to_file();

    buf_init(&b);
    fleet_init(&f, "rand");
    d = dispatch_new(&(dispatch_opts_t){.bind = f.addr}, &err);
    REQUIRE(d != NULL && zctx != NULL);
    s = raw_peer(zctx, f.addr);
    for (int i = 0; i < 500; i++) {
        size_t n = 1 + i % sizeof msg;
        for (size_t k = 0; k < n; k++) {
            seed = seed * 1103515245u + 12345u;
            msg[k] = (uint8_t)(seed >> 16);
        }
        if (i % 3 == 0) /* a valid header, then junk */
            memcpy(msg, "\x83\xa1v\x01\xa1t\x03", n < 7 ? n : 7);
        zmq_send(s, msg, n, 0);
    }
    /* still answering: a HEARTBEAT from this unregistered peer gets REFUSED */
    buf_reset(&b);
    REQUIRE(proto_encode_heartbeat(&b) == ST_OK);
    zmq_send(s, b.data, b.len, 0);
    CHECK(peer_reply(d, s, &b, &m) && m.type == PROTO_REFUSED);
    dispatch_stats(d, &st);
    CHECK(st.malformed >= 400);
    CHECK_EQ_INT(st.workers, 0);
    zmq_close(s);
    zmq_ctx_term(zctx);
    dispatch_destroy(&d);
    unlink(f.addr + strlen("ipc://"));
    buf_free(&b);
    log_restore(&log);
}

/* A worker facing a coordinator of ours that sends junk, a job of an
 * unknown kind and a good job: it survives the junk, reports the bad job
 * as an error, runs the good one. */
TEST(dispatch_worker_survives_a_hostile_coordinator)
{
    fleet_t f;
    void *zctx = zmq_ctx_new(), *r;
    zmq_msg_t id, body;
    proto_batch_t batch;
    proto_msg_t m;
    proto_result_t res;
    buf_t b;
    int zero = 0, seen_ok = 0, seen_err = 0;
    double end = now_s() + WAIT_S;
    static const uint8_t junk[] = {0x83, 0xa1, 'v', 0x01, 0xa1, 't',  0x02, 0xa4, 'j',
                                   'o',  'b',  's', 0xdd, 0x7f, 0xff, 0xff, 0xff};

    REQUIRE(zctx != NULL);
    buf_init(&b);
    fleet_init(&f, "hostile");
    r = zmq_socket(zctx, ZMQ_ROUTER);
    zmq_setsockopt(r, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(r, ZMQ_RCVTIMEO, &(int){WAIT_S * 1000}, sizeof(int));
    REQUIRE(zmq_bind(r, f.addr) == 0);
    REQUIRE(fleet_start(&f, 1));
    zmq_msg_init(&id);
    zmq_msg_init(&body);
    REQUIRE(zmq_msg_recv(&id, r, 0) >= 0 && zmq_msg_recv(&body, r, 0) >= 0);
    CHECK(proto_decode(zmq_msg_data(&body), zmq_msg_size(&body), &m, NULL) == ST_OK &&
          m.type == PROTO_HELLO && m.hello.slots == 1);
    /* junk, a claimed count of two billion, a job of kind 200, an echo job */
    zmq_send(r, zmq_msg_data(&id), zmq_msg_size(&id), ZMQ_SNDMORE);
    zmq_send(r, "\xc1\xc1", 2, 0);
    zmq_send(r, zmq_msg_data(&id), zmq_msg_size(&id), ZMQ_SNDMORE);
    zmq_send(r, junk, sizeof junk, 0);
    REQUIRE(proto_batch_begin(&batch, &b, PROTO_JOBS) == ST_OK);
    REQUIRE(proto_batch_job(&batch, 1, 200, (span_t){(const uint8_t *)"x", 1}) == ST_OK);
    REQUIRE(proto_batch_job(&batch, 2, JOBS_ECHO, (span_t){(const uint8_t *)"hello", 5}) == ST_OK);
    proto_batch_end(&batch);
    zmq_send(r, zmq_msg_data(&id), zmq_msg_size(&id), ZMQ_SNDMORE);
    zmq_send(r, b.data, b.len, 0);
    while ((seen_ok == 0 || seen_err == 0) && now_s() < end) {
        zmq_pollitem_t item = {.socket = r, .events = ZMQ_POLLIN};
        if (zmq_poll(&item, 1, 100) <= 0)
            continue;
        if (zmq_msg_recv(&id, r, 0) < 0 || zmq_msg_recv(&body, r, 0) < 0)
            break;
        if (proto_decode(zmq_msg_data(&body), zmq_msg_size(&body), &m, NULL) != ST_OK ||
            m.type != PROTO_RESULTS)
            continue;
        while (proto_next_result(&m, &res)) {
            if (res.id == 2 && res.status == PROTO_STATUS_OK && res.data.len == 5 &&
                memcmp(res.data.ptr, "hello", 5) == 0)
                seen_ok++;
            if (res.id == 1 && res.status == PROTO_STATUS_ERROR)
                seen_err++;
        }
    }
    CHECK_EQ_INT(seen_ok, 1);
    CHECK_EQ_INT(seen_err, 1);
    zmq_msg_close(&id);
    zmq_msg_close(&body);
    CHECK(fleet_stop(&f));
    zmq_close(r);
    zmq_ctx_term(zctx);
    buf_free(&b);
}

TEST(dispatch_runs_jobs_over_tcp)
{
    jobset_t js;
    fleet_t f;
    dispatch_t *d;
    st_err_t err = {0};
    FILE *log = log_to_file();

    REQUIRE(make_jobs(&js, 10, 10));
    fleet_init(&f, "tcp");
    d = dispatch_new(&(dispatch_opts_t){.bind = "tcp://127.0.0.1:0"}, &err);
    REQUIRE(d != NULL);
    /* the port chosen by the system, as a worker would be told */
    CHECK(strncmp(dispatch_endpoint(d), "tcp://127.0.0.1:", 16) == 0);
    CHECK(strcmp(dispatch_endpoint(d), "tcp://127.0.0.1:0") != 0);
    snprintf(f.addr, sizeof f.addr, "%s", dispatch_endpoint(d));
    REQUIRE(fleet_start(&f, 1));
    REQUIRE(submit_all(d, &js));
    CHECK(run_all(d, &js, NULL));
    CHECK_EQ_INT(n_identical(&js), js.n);
    CHECK(fleet_stop(&f));
    dispatch_destroy(&d);
    jobset_free(&js);
    log_restore(&log);
}

TEST(dispatch_submit_out_of_memory_leaves_nothing_queued)
{
    dispatch_t *d;
    fleet_t f;
    st_err_t err = {0};

    fleet_init(&f, "oom");
    d = dispatch_new(&(dispatch_opts_t){.bind = f.addr}, &err);
    REQUIRE(d != NULL);
    alloc_fail_after(0);
    CHECK(dispatch_submit(d, 1, JOBS_ECHO, (span_t){(const uint8_t *)"x", 1}, &err) == ST_ENOMEM);
    alloc_fail_after(-1);
    CHECK_EQ_INT(dispatch_pending(d), 0);
    CHECK(dispatch_submit(d, 1, JOBS_ECHO, (span_t){(const uint8_t *)"x", 1}, &err) == ST_OK);
    CHECK_EQ_INT(dispatch_pending(d), 1);
    CHECK(dispatch_poll(d, 0, on_done, NULL, &err) == ST_OK); /* no worker: nothing finishes */
    CHECK_EQ_INT(dispatch_pending(d), 1);
    dispatch_destroy(&d); /* frees the queued job */
    unlink(f.addr + strlen("ipc://"));
}

/* A worker run in a thread of this process (wproc_run), for options the
 * command line does not have yet (keys). */
typedef struct {
    wproc_opts_t opts;
    st_rc_t rc;
    pthread_t tid;
} inproc_worker_t;

static void *inproc_worker_main(void *arg)
{
    inproc_worker_t *w = arg;

    w->rc = wproc_run(&w->opts, NULL);
    return NULL;
}

static bool inproc_worker_start(inproc_worker_t *w)
{
    return pthread_create(&w->tid, NULL, inproc_worker_main, w) == 0;
}

static void inproc_worker_stop(inproc_worker_t *w)
{
    wproc_stop();
    pthread_join(w->tid, NULL);
}

TEST(dispatch_curve_accepts_allowed_keys_only)
{
    char spub[41], ssec[41], gpub[41], gsec[41], bpub[41], bsec[41];
    const char *allow[1];
    jobset_t js;
    fleet_t f;
    dispatch_t *d;
    dispatch_stats_t st;
    st_err_t err = {0};
    inproc_worker_t good = {0}, bad = {0};
    FILE *log = log_to_file(), *wlog = tmpfile();

    if (!zmq_has("curve"))
        return; /* nothing to test without CURVE in libzmq */
    REQUIRE(zmq_curve_keypair(spub, ssec) == 0 && zmq_curve_keypair(gpub, gsec) == 0 &&
            zmq_curve_keypair(bpub, bsec) == 0);
    allow[0] = gpub;
    REQUIRE(make_jobs(&js, 5, 5));
    fleet_init(&f, "curve");
    d = dispatch_new(
        &(dispatch_opts_t){
            .bind = "tcp://127.0.0.1:0", .curve_secret = ssec, .allow = allow, .n_allow = 1},
        &err);
    REQUIRE(d != NULL);
    /* a key not in the allowlist: refused in the handshake, and logged */
    bad.opts = (wproc_opts_t){.connect = dispatch_endpoint(d),
                              .threads = 1,
                              .log = wlog,
                              .server_key = spub,
                              .public_key = bpub,
                              .secret_key = bsec};
    REQUIRE(inproc_worker_start(&bad));
    dispatch_stats(d, &st);
    for (double end = now_s() + WAIT_S; st.unauthorized == 0 && now_s() < end;) {
        dispatch_poll(d, 100, on_done, NULL, NULL);
        dispatch_stats(d, &st);
    }
    inproc_worker_stop(&bad);
    CHECK(st.unauthorized >= 1);
    CHECK_EQ_INT(st.workers, 0);
    CHECK(log_has(log, "is not in the allowlist"));
    char z85[64];
    snprintf(z85, sizeof z85, "public key %s", bpub);
    CHECK(log_has(log, z85));
    /* the allowed key: jobs run */
    good.opts = (wproc_opts_t){.connect = dispatch_endpoint(d),
                               .threads = 1,
                               .log = wlog,
                               .server_key = spub,
                               .public_key = gpub,
                               .secret_key = gsec};
    REQUIRE(inproc_worker_start(&good));
    REQUIRE(submit_all(d, &js));
    CHECK(run_all(d, &js, NULL));
    CHECK_EQ_INT(n_identical(&js), js.n);
    inproc_worker_stop(&good);
    CHECK(good.rc == ST_OK);
    dispatch_destroy(&d);
    jobset_free(&js);
    fclose(wlog);
    log_restore(&log);
}

TEST(dispatch_refuses_to_bind_open_tcp_without_keys)
{
    st_err_t err = {0};
    dispatch_t *d;
    const char *allow[] = {"short"};

    CHECK(dispatch_new(&(dispatch_opts_t){.bind = "tcp://0.0.0.0:0"}, &err) == NULL);
    CHECK(err.code == ST_EINVAL && strstr(err.msg, "without keys") != NULL);
    d = dispatch_new(&(dispatch_opts_t){.bind = "tcp://0.0.0.0:0", .insecure = true}, &err);
    CHECK(d != NULL);
    dispatch_destroy(&d);
    CHECK(dispatch_new(&(dispatch_opts_t){.bind = "tcp://127.0.0.1:0", .curve_secret = "x"},
                       &err) == NULL);
    CHECK(
        dispatch_new(&(dispatch_opts_t){.bind = "tcp://127.0.0.1:0",
                                        .curve_secret = "0123456789012345678901234567890123456789",
                                        .allow = allow,
                                        .n_allow = 1},
                     &err) == NULL);
    CHECK(strstr(err.msg, "allowed key 1") != NULL);
}

TEST(dispatch_refuses_bad_options)
{
    st_err_t err = {0};

    CHECK(dispatch_new(&(dispatch_opts_t){0}, &err) == NULL && err.code == ST_EINVAL);
    CHECK(dispatch_new(
              &(dispatch_opts_t){.bind = "ipc:///tmp/x", .heartbeat_ms = 500, .timeout_ms = 400},
              &err) == NULL);
    CHECK(dispatch_new(&(dispatch_opts_t){.bind = "ipc:///nonexistent-strata-dir/s"}, &err) ==
              NULL &&
          err.code == ST_EIO);
    CHECK(strstr(err.msg, "ipc:///nonexistent-strata-dir/s") != NULL);
    CHECK(dispatch_new(&(dispatch_opts_t){.bind = "bogus://nowhere", .insecure = true}, &err) ==
              NULL &&
          err.code == ST_EIO);
}
