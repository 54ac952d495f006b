/* dispatch_bench.c - what it costs the coordinator to move a job.
 *
 * Issue 6 sets the bar at 100,000 no-op jobs per second through the
 * coordinator with batching, and adaptive granularity needs the measured
 * cost of a dispatch to decide when a run is too small to leave the
 * process. So this bench runs echo jobs (worker/jobs.h: the result is the
 * input, no analysis) through coordinator/dispatch.c to one real worker
 * process (`strata worker --threads T` over ipc://), for several batch
 * sizes, and prints jobs/s and microseconds per job for each; the
 * reference in the same run is the same jobs run in this process with
 * jobs_run (plus the copy of the result a sink would make), which is what a
 * job costs when it never leaves. The worker is started and registered
 * before the clock starts; each measurement submits every job, then polls
 * until all results are in, and the best of a few passes is kept.
 *
 * Usage: dispatch_bench [STRATA] [--jobs N] [--threads T] [--size BYTES]
 * STRATA defaults to ../strata beside this program (build/strata). */
#include "common/arena.h"
#include "common/buf.h"
#include "common/log.h"
#include "coordinator/dispatch.h"
#include "worker/jobs.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PASSES 3

typedef struct {
    const char *strata;
    size_t jobs;
    const char *threads;
    size_t size;
} bench_opts_t;

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void on_done(void *ctx, uint64_t id, dispatch_status_t status, span_t result)
{
    size_t *n = ctx;

    (void)id;
    if (status == DISPATCH_OK && result.len > 0)
        (*n)++;
}

static pid_t spawn_worker(const bench_opts_t *o, const char *addr)
{
    pid_t pid = fork();

    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);

        if (null >= 0) /* its "working for ..." line would cut through the table */
            dup2(null, 2);
        execl(o->strata, "strata", "worker", "--connect", addr, "--threads", o->threads,
              (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* Seconds to run n echo jobs through d (registered worker), or -1. */
static double one_pass(dispatch_t *d, size_t n, const uint8_t *input, size_t size, uint64_t base)
{
    size_t done = 0;
    double t0 = now();

    for (size_t i = 0; i < n; i++)
        if (dispatch_submit(d, base + i, JOBS_ECHO, (span_t){input, size}, NULL) != ST_OK)
            return -1;
    while (done < n)
        if (dispatch_poll(d, 1000, on_done, &done, NULL) != ST_OK || now() - t0 > 120)
            return -1;
    return now() - t0;
}

/* Peak resident memory of the workers so far, KiB. */
static long worker_peak_kib;

/* Best jobs/s over PASSES at batch size batch; 0 on failure. */
static double run_batch(const bench_opts_t *o, unsigned batch, const uint8_t *input)
{
    struct rusage ru;
    char addr[128];
    dispatch_stats_t st;
    dispatch_t *d;
    double best = 0, t0 = now();
    pid_t pid;
    size_t n = batch == 1 ? o->jobs / 10 : o->jobs;

    snprintf(addr, sizeof addr, "ipc:///tmp/strata-dispatch-bench-%ld-%u", (long)getpid(), batch);
    d = dispatch_new(&(dispatch_opts_t){.bind = addr, .batch_max = batch, .depth = 2 * batch},
                     NULL);
    if (d == NULL || (pid = spawn_worker(o, addr)) <= 0) {
        dispatch_destroy(&d);
        return 0;
    }
    do {
        dispatch_poll(d, 100, on_done, NULL, NULL);
        dispatch_stats(d, &st);
    } while (st.workers == 0 && now() - t0 < 30);
    for (int pass = 0; st.workers > 0 && pass < PASSES; pass++) {
        double s = one_pass(d, n, input, o->size, (uint64_t)pass * n);

        if (s > 0 && n / s > best)
            best = (double)n / s;
    }
    kill(pid, SIGTERM);
    if (wait4(pid, NULL, 0, &ru) == pid && ru.ru_maxrss > worker_peak_kib)
        worker_peak_kib = ru.ru_maxrss;
    dispatch_destroy(&d);
    unlink(addr + strlen("ipc://"));
    return best;
}

/* Jobs/s of the same echo jobs run in this process. */
static double in_process(const bench_opts_t *o, const uint8_t *input)
{
    arena_t *a = arena_new(0);
    buf_t sink;
    double best = 0;

    buf_init(&sink);
    for (int pass = 0; a != NULL && pass < PASSES; pass++) {
        double t0 = now(), s;

        for (size_t i = 0; i < o->jobs; i++) {
            span_t out;

            if (jobs_run(NULL, JOBS_ECHO, (span_t){input, o->size}, a, &out, NULL) != ST_OK)
                break;
            buf_reset(&sink);
            buf_append(&sink, out.ptr, out.len);
            arena_reset(a);
        }
        s = now() - t0;
        if (s > 0 && (double)o->jobs / s > best)
            best = (double)o->jobs / s;
    }
    buf_free(&sink);
    arena_destroy(&a);
    return best;
}

static void parse(int argc, char **argv, bench_opts_t *o, char *self_strata, size_t cap)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    char *slash;

    self[n > 0 ? n : 0] = 0;
    if ((slash = strrchr(self, '/')) != NULL)
        *slash = 0;
    snprintf(self_strata, cap, "%s/../strata", self);
    *o = (bench_opts_t){.strata = self_strata, .jobs = 200000, .threads = "1", .size = 32};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--jobs") == 0 && i + 1 < argc)
            o->jobs = strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
            o->threads = argv[++i];
        else if (strcmp(argv[i], "--size") == 0 && i + 1 < argc)
            o->size = strtoul(argv[++i], NULL, 10);
        else
            o->strata = argv[i];
    }
    if (o->jobs < 10)
        o->jobs = 10;
    if (o->size == 0)
        o->size = 1;
}

int main(int argc, char **argv)
{
    static const unsigned batches[] = {1, 4, 16, 64, 256, 1024};
    char strata[PATH_MAX + 16];
    bench_opts_t o;
    uint8_t *input;
    double ref;

    parse(argc, argv, &o, strata, sizeof strata);
    if ((input = malloc(o.size)) == NULL)
        return 2;
    memset(input, 'j', o.size);
    log_set_level(LOG_LEVEL_ERROR);
    signal(SIGPIPE, SIG_IGN);
    ref = in_process(&o, input);
    printf("dispatch_bench: %zu echo jobs of %zu bytes, 1 worker process x %s threads over "
           "ipc://, best of %d\n",
           o.jobs, o.size, o.threads, PASSES);
    printf("in-process reference (jobs_run + copy): %.0f jobs/s, %.3f us/job\n", ref, 1e6 / ref);
    printf("%8s %14s %10s %12s\n", "batch", "jobs/s", "us/job", "vs 100k/s");
    for (size_t i = 0; i < sizeof batches / sizeof batches[0]; i++) {
        double rate = run_batch(&o, batches[i], input);

        if (rate <= 0) {
            printf("%8u %14s\n", batches[i], "failed");
            continue;
        }
        printf("%8u %14.0f %10.2f %11.2fx\n", batches[i], rate, 1e6 / rate, rate / 100000.0);
        fflush(stdout);
    }
    struct rusage self;
    getrusage(RUSAGE_SELF, &self);
    printf("peak memory: coordinator (this process) %.1f MB, worker %.1f MB\n",
           (double)self.ru_maxrss / 1024.0, (double)worker_peak_kib / 1024.0);
    free(input);
    return 0;
}
