/* hostpool.c - worker processes on this host: the scan back end and the
 * check jobs of the single-host mode.
 *
 * As a scan back end (run/backend.h) the pool is driven by the run's
 * thread: submit reads the file and queues its job on the dispatcher,
 * poll drives the dispatcher and between polls checks on the child
 * processes, restarting dead ones; the run's policy sets the window, so
 * that a large project does not copy every file into memory at once and
 * jobs go out in a few large batches. That is why the scans do not go
 * through calls.h. The check jobs do: between hostpool_serve_begin and
 * hostpool_serve_end a thread of ours pumps a calls_t (the one mechanism
 * the cluster daemon uses too) and restarts dead workers, while the
 * project's threads submit through it. The time everything takes is
 * measured where it happens (start-up, round trip, scan rate, checks run
 * here) and handed back by hostpool_stop. */
#include "coordinator/hostpool.h"

#include "common/clock.h"
#include "common/alloc.h"
#include "common/arena.h"
#include "common/buf.h"
#include "common/cpus.h"
#include "common/digest.h"
#include "common/proto.h"
#include "coordinator/calls.h"
#include "coordinator/dispatch.h"
#include "worker/jobs.h"
#include "worker/place.h"
#include "worker/python/xmod.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define HOSTPOOL_ARENA_CHUNK (1u << 20) /* per-file reading arena */
/* Dispatcher ids: a scan job's is the run's job number; the echo
 * jobs of the round trip come next (below the calls' range, so that a late
 * one is dropped by calls_pump), then the check jobs' calls. */
#define HOSTPOOL_PROBE_ID ((uint64_t)1 << 47)
#define HOSTPOOL_CALLS_FIRST_ID ((uint64_t)1 << 48)
#define HOSTPOOL_PROBES 5

typedef struct {
    pid_t pid;
    bool running;
    int log;            /* the worker's stderr: a file with no name (show_log reads it) */
    uint64_t maxrss_kb; /* the largest peak of its processes reaped so far */
} child_t;

struct remote {
    hostpool_opts_t opts;
    /* the serving thread and the check jobs' calls (hostpool_serve_begin) */
    pthread_t server;
    bool serving;
    atomic_bool stop;   /* hostpool_serve_end: the serving thread ends */
    atomic_bool broken; /* the dispatcher's socket failed: checks run here */
    calls_t *calls;
    bool gave_up; /* the scans found no worker: the rest ran here */
    char dir[64];
    char endpoint[128];
    char exe[4096];
    dispatch_t *d;
    child_t children[HOSTPOOL_MAX_WORKERS];
    hostpool_layout_t layout;
    unsigned n_children, threads;
    size_t restarts;
    /* what dispatching costs: the record it started with, and this run's */
    policy_cost_t cost;
    size_t check_local_max; /* check jobs with inputs up to this size run here */
    uint64_t spawned_us;    /* when the workers were spawned */
    double start_ms, rtt_us, scan_bytes_per_ms;
    atomic_size_t checks_here, checks_sent;
    atomic_uint_fast64_t check_ns, check_bytes; /* of the checks run here */
    /* the scans (the run's thread) */
    backend_sink_t sink;
    arena_t *a;      /* a file read, a result delivered */
    buf_t input;     /* a scan job's input */
    size_t *pending; /* the run's jobs queued here, not ended */
    size_t n_pending, cap_pending;
    size_t scanned, max_slots;
    uint64_t bytes; /* of the jobs submitted */
    uint64_t ready_us, alone_since;
};

/* Notes job as queued here. */
static st_rc_t pending_add(hostpool_t *r, size_t job, st_err_t *err)
{
    if (r->n_pending == r->cap_pending) {
        size_t cap = r->cap_pending == 0 ? 64 : r->cap_pending * 2;
        size_t *grown = st_realloc(r->pending, cap * sizeof *grown);
        if (grown == NULL)
            return st_fail(err, ST_ENOMEM, "out of memory queueing a scan");
        r->pending = grown;
        r->cap_pending = cap;
    }
    r->pending[r->n_pending++] = job;
    return ST_OK;
}

/* Takes job out of those queued here; false when it is not one (the
 * window keeps them few: a scan is cheap). */
static bool pending_take(hostpool_t *r, size_t job)
{
    for (size_t k = r->n_pending; k-- > 0;)
        if (r->pending[k] == job) {
            r->pending[k] = r->pending[--r->n_pending];
            return true;
        }
    return false;
}

static FILE *log_of(const hostpool_t *r)
{
    return r->opts.log != NULL ? r->opts.log : stderr;
}

static uint64_t now_us(void)
{
    return clock_ns() / 1000u;
}

static uint64_t now_ms(void)
{
    return now_us() / 1000u;
}

/* ---- the private directory on a signal ------------------------------------------------ */

/* The paths the handler removes: written before it is installed, read only
 * by it (unlink and rmdir are async-signal-safe). One remote at a time. */
static char signal_socket[128], signal_dir[64];
static const int cleanup_signals[] = {SIGINT, SIGTERM, SIGHUP};
static struct sigaction saved_actions[3];
static bool handlers_installed;

static void on_fatal_signal(int sig)
{
    int saved = errno;

    unlink(signal_socket);
    rmdir(signal_dir);
    signal(sig, SIG_DFL);
    raise(sig); /* ends the process as the signal would have */
    errno = saved;
}

/* Removes the directory when the process is ended by a signal that has
 * its default action (one the program handles is left alone). */
static void install_cleanup(const hostpool_t *r)
{
    struct sigaction sa = {.sa_handler = on_fatal_signal};

    if (handlers_installed)
        return;
    snprintf(signal_socket, sizeof signal_socket, "%s/workers", r->dir);
    snprintf(signal_dir, sizeof signal_dir, "%s", r->dir);
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof cleanup_signals / sizeof cleanup_signals[0]; i++) {
        saved_actions[i].sa_handler = SIG_IGN;
        if (sigaction(cleanup_signals[i], NULL, &saved_actions[i]) == 0 &&
            saved_actions[i].sa_handler == SIG_DFL && !(saved_actions[i].sa_flags & SA_SIGINFO))
            sigaction(cleanup_signals[i], &sa, NULL);
        else
            saved_actions[i].sa_handler = SIG_IGN; /* not ours: not restored */
    }
    handlers_installed = true;
}

static void remove_cleanup(void)
{
    if (!handlers_installed)
        return;
    for (size_t i = 0; i < sizeof cleanup_signals / sizeof cleanup_signals[0]; i++)
        if (saved_actions[i].sa_handler == SIG_DFL)
            sigaction(cleanup_signals[i], &saved_actions[i], NULL);
    handlers_installed = false;
}

void hostpool_orphan_cleanup(const char *endpoint)
{
    const char *path, *slash;
    char dir[128];
    struct stat st;

    if (endpoint == NULL || strncmp(endpoint, "ipc://", 6) != 0)
        return;
    path = endpoint + 6;
    slash = strrchr(path, '/');
    /* only a directory hostpool_start made: .../strata-XXXXXX/workers */
    if (slash == NULL || strcmp(slash, "/workers") != 0 || (size_t)(slash - path) >= sizeof dir)
        return;
    memcpy(dir, path, (size_t)(slash - path));
    dir[slash - path] = '\0';
    if (strncmp(strrchr(dir, '/') != NULL ? strrchr(dir, '/') + 1 : dir, "strata-", 7) != 0)
        return;
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path);
    rmdir(dir); /* fails, harmlessly, while anything else is in it */
}

/* Starts worker process k; its output goes to a log in the private
 * directory (shown when it dies). */
static st_rc_t spawn(hostpool_t *r, unsigned k, st_err_t *err)
{
    char threads[16], logpath[128], node[16], limit[16];
    /* no local cache: this process's cache already answers repeated jobs,
     * and keying every job would hash every file a second time */
    char *argv[16] = {r->exe,      "worker", "--connect", r->endpoint,
                      "--threads", threads,  "--no-cache"};
    int argc = 7;

    snprintf(threads, sizeof threads, "%u", r->layout.threads[k]);
    if (r->layout.node[k] >= 0) {
        snprintf(node, sizeof node, "%d", r->layout.node[k]);
        argv[argc++] = "--numa-node";
        argv[argc++] = node;
    } else if (r->layout.cpuset[k][0] != '\0') {
        argv[argc++] = "--cpuset";
        argv[argc++] = r->layout.cpuset[k];
    }
    if (r->opts.job_timeout_ms != 0) { /* the worker's own guard stays at twice the deadline */
        unsigned secs = (r->opts.job_timeout_ms + 999) / 1000;
        snprintf(limit, sizeof limit, "%u",
                 secs > PROTO_MAX_JOB_LIMIT_S / 2 ? PROTO_MAX_JOB_LIMIT_S : secs * 2);
        argv[argc++] = "--job-limit";
        argv[argc++] = limit;
    }
    argv[argc] = NULL;
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int rc;

    if (r->children[k].log < 0) {
        /* named only for the time it takes to open it: nothing is left in
         * the directory for a killed run to leave behind */
        snprintf(logpath, sizeof logpath, "%s/worker-%u.log", r->dir, k);
        r->children[k].log = open(logpath, O_RDWR | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
        unlink(logpath);
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    if (r->children[k].log >= 0)
        posix_spawn_file_actions_adddup2(&fa, r->children[k].log, 2);
    else
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    rc = posix_spawn(&pid, r->exe, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return st_fail(err, ST_EIO, "cannot start a worker process (%s): %s", r->exe, strerror(rc));
    r->children[k].pid = pid;
    r->children[k].running = true;
    return ST_OK;
}

static void share_cpus(hostpool_layout_t *l, unsigned ncpu)
{
    unsigned per = ncpu / l->n;

    for (unsigned k = 0; k < l->n; k++) {
        unsigned first = per >= 1 ? (k * per) % ncpu : k % ncpu;
        unsigned last = per >= 1 ? first + per - 1 : first;
        if (last >= ncpu)
            last = ncpu - 1;
        snprintf(l->cpuset[k], sizeof l->cpuset[k], "%u-%u", first, last);
    }
}

st_rc_t hostpool_layout(const place_topo_t *t, unsigned workers, unsigned threads, unsigned ncpu,
                        hostpool_layout_t *out, st_err_t *err)
{
    hostpool_layout_t l;
    int nodes[HOSTPOOL_MAX_WORKERS];
    size_t n_nodes = 1;

    memset(&l, 0, sizeof l);
    if (ncpu == 0)
        ncpu = 1;
    if (workers > HOSTPOOL_MAX_WORKERS)
        return st_fail(err, ST_EINVAL, "at most %d worker processes", HOSTPOOL_MAX_WORKERS);
    if (workers == 0 && t != NULL &&
        place_numa_nodes(t, NULL, nodes, HOSTPOOL_MAX_WORKERS, &n_nodes, err) != ST_OK)
        return err != NULL ? err->code : ST_EINVAL;
    if (workers == 0 && n_nodes > 1) {
        /* one process per NUMA node, a thread per core of it */
        l.n = n_nodes < HOSTPOOL_MAX_WORKERS ? (unsigned)n_nodes : HOSTPOOL_MAX_WORKERS;
        for (unsigned k = 0; k < l.n; k++) {
            place_opts_t po = place_opts_default();
            place_plan_t *plan = NULL;
            po.numa_node = nodes[k];
            l.node[k] = nodes[k];
            l.threads[k] = threads;
            if (threads == 0 && place_plan(t, &po, &plan, NULL) == ST_OK)
                l.threads[k] = place_plan_threads(plan);
            if (l.threads[k] == 0)
                l.threads[k] = 1;
            place_plan_destroy(&plan);
        }
    } else {
        l.n = workers == 0 ? 1 : workers;
        for (unsigned k = 0; k < l.n; k++) {
            l.node[k] = -1;
            l.threads[k] = threads != 0 ? threads : (ncpu + l.n - 1) / l.n;
        }
        if (l.n > 1 && ncpu > 1)
            share_cpus(&l, ncpu);
    }
    *out = l;
    return ST_OK;
}

st_rc_t hostpool_start(const hostpool_opts_t *opts, hostpool_t **out, st_err_t *err)
{
    hostpool_t *r = st_calloc(1, sizeof *r);
    dispatch_opts_t dopts = {0};
    unsigned workers;
    ssize_t len;

    if (r == NULL)
        return st_fail(err, ST_ENOMEM, "out of memory");
    r->opts = *opts;
    buf_init(&r->input);
    if (opts->cost != NULL)
        r->cost = *opts->cost;
    r->check_local_max = policy_check_local_max(&r->cost);
    for (unsigned k = 0; k < HOSTPOOL_MAX_WORKERS; k++)
        r->children[k].log = -1;
    if (opts->exe != NULL) {
        snprintf(r->exe, sizeof r->exe, "%s", opts->exe);
    } else if ((len = readlink("/proc/self/exe", r->exe, sizeof r->exe - 1)) > 0) {
        r->exe[len] = '\0';
    } else {
        st_free(r);
        return st_fail(err, ST_EIO, "cannot find the strata binary: %s", strerror(errno));
    }
    {
        place_topo_t *topo = NULL;
        st_err_t perr = {0};
        st_rc_t rc;
        /* the topology only tells the NUMA nodes apart: not needed for a
         * number of workers, nor on a machine with one node (its load is
         * milliseconds on the way to the first worker) */
        if (opts->workers == 0 && place_numa_node_count() > 1 &&
            place_topology_load(NULL, &topo, &perr) != ST_OK)
            topo = NULL; /* laid out as one node */
        rc =
            hostpool_layout(topo, opts->workers, opts->threads, cpus_online(1024), &r->layout, err);
        place_topology_destroy(&topo);
        if (rc != ST_OK) {
            st_free(r);
            return rc;
        }
    }
    workers = r->layout.n;
    r->threads = r->layout.threads[0];
    snprintf(r->dir, sizeof r->dir, "%s/strata-XXXXXX",
             getenv("TMPDIR") != NULL && strlen(getenv("TMPDIR")) < 32 ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(r->dir) == NULL) {
        st_free(r);
        return st_fail(err, ST_EIO, "cannot make a directory for the workers' socket: %s",
                       strerror(errno));
    }
    snprintf(r->endpoint, sizeof r->endpoint, "ipc://%s/workers", r->dir);
    install_cleanup(r);
    dopts.bind = r->endpoint;
    dopts.depth = policy_depth(POLICY_HOSTPOOL);
    dopts.job_timeout_ms = r->opts.job_timeout_ms;
    if ((r->d = dispatch_new(&dopts, err)) == NULL) {
        remove_cleanup();
        rmdir(r->dir);
        st_free(r);
        return err != NULL ? err->code : ST_EIO;
    }
    {
        /* the workers end with this process, even when it is killed; set
         * once, here, as restarts spawn from the serving thread while
         * others may read the environment */
        char parent[32];
        snprintf(parent, sizeof parent, "%ld", (long)getpid());
        setenv("STRATA_WORKER_PARENT", parent, 1);
    }
    r->n_children = workers; /* spawn shares the CPUs among them */
    for (unsigned k = 0; k < workers; k++) {
        st_rc_t rc = spawn(r, k, err);
        if (rc != ST_OK) {
            r->n_children = k;
            hostpool_stop(&r, NULL);
            return rc;
        }
    }
    r->n_children = workers;
    r->spawned_us = now_us();
    *out = r;
    return ST_OK;
}

/* Prints the last lines a worker wrote (why it died, if it said). */
static void show_log(hostpool_t *r, unsigned k)
{
    char line[512];
    int fd = r->children[k].log >= 0 ? dup(r->children[k].log) : -1;
    FILE *f;

    if (fd < 0 || lseek(fd, 0, SEEK_SET) < 0 || (f = fdopen(fd, "r")) == NULL) {
        if (fd >= 0)
            close(fd);
        return;
    }
    while (fgets(line, sizeof line, f) != NULL)
        if (strstr(line, "working for") == NULL)
            fprintf(log_of(r), "  worker %u: %s", k, line);
    fclose(f);
    /* what was shown is not shown again if the restarted worker dies too */
    if (ftruncate(r->children[k].log, 0) != 0) {
        /* then it is shown again: harmless */
    }
}

/* Reaps worker k if it ended (wait: blocking), keeping its peak memory;
 * true when it was reaped, with its status in *status. */
static bool reap(hostpool_t *r, unsigned k, bool wait, int *status)
{
    child_t *c = &r->children[k];
    struct rusage ru;

    if (!c->running || wait4(c->pid, status, wait ? 0 : WNOHANG, &ru) != c->pid)
        return false;
    c->running = false;
    if (ru.ru_maxrss > 0 && (uint64_t)ru.ru_maxrss > c->maxrss_kb)
        c->maxrss_kb = (uint64_t)ru.ru_maxrss; /* kilobytes on Linux */
    return true;
}

/* Reaps workers that ended; restarts them while the run needs them. */
static void check_children(hostpool_t *r, bool restart)
{
    for (unsigned k = 0; k < r->n_children; k++) {
        child_t *c = &r->children[k];
        int status;
        if (!reap(r, k, false, &status))
            continue;
        if (!restart)
            continue;
        pid_t pid = c->pid;
        if (WIFSIGNALED(status))
            fprintf(log_of(r), "strata: warning: worker process %d killed by signal %d\n", pid,
                    WTERMSIG(status));
        else
            fprintf(log_of(r), "strata: warning: worker process %d exited with status %d\n", pid,
                    WEXITSTATUS(status));
        show_log(r, k);
        if (r->restarts < POLICY_MAX_RESTARTS && spawn(r, k, NULL) == ST_OK) {
            r->restarts++;
            fprintf(log_of(r), "strata: warning: worker process %d restarted\n", pid);
        } else {
            fprintf(log_of(r), "strata: warning: worker process %d not restarted\n", pid);
        }
    }
}

void hostpool_stop(hostpool_t **self_p, backend_stats_t *stats)
{
    hostpool_t *r = self_p != NULL ? *self_p : NULL;
    char path[128];

    if (r == NULL)
        return;
    hostpool_serve_end(r); /* its thread drives the dispatcher */
    /* a worker ends cleanly on SIGTERM: they end while the dispatcher says
     * BYE and closes */
    for (unsigned k = 0; k < r->n_children; k++)
        if (r->children[k].running)
            kill(r->children[k].pid, SIGTERM);
    dispatch_destroy(&r->d);
    for (unsigned k = 0; k < r->n_children; k++) {
        child_t *c = &r->children[k];
        int status;
        /* a worker takes a millisecond or two to end: look often first */
        for (int tries = 0; c->running && tries < 250; tries++)
            if (!reap(r, k, false, &status))
                usleep(tries < 50 ? 200 : 10000);
        if (c->running) {
            kill(c->pid, SIGKILL);
            reap(r, k, true, &status);
        }
        if (stats != NULL && k < BACKEND_MAX_PROCESSES) {
            stats->worker_rss_kb[k] = c->maxrss_kb;
            if (c->maxrss_kb > stats->peak_worker_rss_kb)
                stats->peak_worker_rss_kb = c->maxrss_kb;
        }
    }
    for (unsigned k = 0; k < HOSTPOOL_MAX_WORKERS; k++)
        if (r->children[k].log >= 0)
            close(r->children[k].log); /* a worker that could not start has one too */
    if (stats != NULL) {
        uint64_t ns = atomic_load(&r->check_ns), bytes = atomic_load(&r->check_bytes);
        stats->scanned = r->scanned;
        stats->restarts = r->restarts;
        stats->gave_up = r->gave_up;
        stats->processes = r->n_children;
        stats->threads = r->threads;
        stats->measured = (policy_cost_t){.start_ms = r->start_ms,
                                          .rtt_us = r->rtt_us,
                                          .scan_bytes_per_ms = r->scan_bytes_per_ms};
        /* too few bytes say more about the clock than about the checks */
        if (bytes >= POLICY_MIN_MEASURED_CHECK_BYTES)
            stats->measured.check_ns_per_byte = (double)ns / (double)bytes;
        stats->checks_here = atomic_load(&r->checks_here);
        stats->checks_sent = atomic_load(&r->checks_sent);
    }
    snprintf(path, sizeof path, "%s/workers", r->dir);
    unlink(path);
    rmdir(r->dir);
    remove_cleanup();
    arena_destroy(&r->a);
    buf_free(&r->input);
    st_free(r->pending);
    st_free(r);
    *self_p = NULL;
}

/* ---- the scan back end (run/backend.h) ----------------------------------------------- */

/* Ends job (a dispatcher id) through the run's sink. */
static void scan_ended(void *ctx, uint64_t id, dispatch_status_t status, span_t result)
{
    hostpool_t *r = ctx;
    backend_status_t st = status == DISPATCH_OK      ? BACKEND_OK
                          : status == DISPATCH_ERROR ? BACKEND_FAILED
                                                     : BACKEND_LOST;

    if (!pending_take(r, (size_t)id))
        return; /* cancelled, or not a scan of this run */
    if (st == BACKEND_OK)
        r->scanned++;
    arena_reset(r->a);
    r->sink.done(r->sink.ctx, (size_t)id, st, result, r->a);
}

static st_rc_t pool_start(void *self, const backend_sink_t *sink, st_err_t *err)
{
    hostpool_t *r = self;

    if (r->a == NULL && (r->a = arena_new(HOSTPOOL_ARENA_CHUNK)) == NULL)
        return st_fail(err, ST_ENOMEM, "out of memory");
    r->sink = *sink;
    r->alone_since = now_ms();
    return ST_OK;
}

/* Reads the file, builds its scan job and queues it (its id is the run's
 * job number: below the probes' and the calls' ranges). */
static st_rc_t pool_submit(void *self, size_t job, scan_kind_t kind, uint64_t size, st_err_t *err)
{
    hostpool_t *r = self;
    span_t data;
    st_rc_t rc;

    r->bytes += size;
    arena_reset(r->a);
    if (!r->sink.read(r->sink.ctx, job, r->a, &data))
        return ST_OK; /* over: its E902 is in */
    buf_reset(&r->input);
    if ((rc = jobs_scan_input(&r->input, kind, &r->sink.scan, data.ptr, data.len, err)) != ST_OK)
        return rc;
    if ((rc = pending_add(r, job, err)) != ST_OK)
        return rc;
    rc = dispatch_submit(r->d, job, JOBS_SCAN, (span_t){.ptr = r->input.data, .len = r->input.len},
                         err);
    if (rc != ST_OK)
        (void)pending_take(r, job);
    return rc;
}

/* After a poll: the workers' state, their start and the scan rate
 * measured, and the wait for a worker given up after POLICY_NO_WORKER_MS. */
static void after_poll(hostpool_t *r)
{
    dispatch_stats_t ds;

    check_children(r, true);
    dispatch_stats(r->d, &ds);
    progress_set(r->opts.progress, PROGRESS_WORKERS, ds.workers);
    if (ds.workers > 0 && r->ready_us == 0) {
        r->ready_us = now_us();
        if (r->start_ms == 0)
            r->start_ms = (double)(r->ready_us - r->spawned_us) / 1000.0;
    }
    if (ds.slots > r->max_slots)
        r->max_slots = ds.slots;
    if (r->n_pending == 0 && r->ready_us != 0 && r->max_slots > 0) {
        /* the throughput of a thread, as the workers saw it (their
         * overheads included: it errs on the side of fewer workers) */
        double ms = (double)(now_us() - r->ready_us) / 1000.0;
        if (ms >= POLICY_MIN_MEASURED_SCAN_MS)
            r->scan_bytes_per_ms = (double)r->bytes / (ms * (double)r->max_slots);
    }
    if (ds.workers > 0) {
        r->alone_since = now_ms();
    } else if (now_ms() - r->alone_since > POLICY_NO_WORKER_MS) {
        fprintf(log_of(r), "strata: warning: no worker process for %d s; scanning the rest here\n",
                POLICY_NO_WORKER_MS / 1000);
        r->gave_up = true;
    }
}

static st_rc_t pool_poll(void *self, int timeout_ms, st_err_t *err)
{
    hostpool_t *r = self;
    st_err_t perr = {0};

    if (dispatch_poll(r->d, timeout_ms, scan_ended, r, &perr) != ST_OK) {
        fprintf(log_of(r), "strata: warning: workers: %s; scanning here\n", perr.msg);
        r->gave_up = true;
        return st_fail(err, ST_EIO, "%s", perr.msg);
    }
    after_poll(r);
    return ST_OK;
}

/* The jobs not ended: out of the dispatcher's queue (one in flight runs
 * on, its result dropped), and ended as stopped. */
static void pool_cancel(void *self)
{
    hostpool_t *r = self;

    while (r->n_pending > 0) {
        size_t job = r->pending[r->n_pending - 1];
        (void)dispatch_cancel(r->d, job);
        (void)pending_take(r, job);
        r->sink.done(r->sink.ctx, job, BACKEND_STOPPED, (span_t){0}, r->a);
    }
}

static void pool_stats(void *self, backend_stats_t *out)
{
    hostpool_t *r = self;
    dispatch_stats_t ds;

    dispatch_stats(r->d, &ds);
    *out = (backend_stats_t){.workers = ds.workers,
                             .slots = ds.workers > 0 ? ds.slots : hostpool_threads(r),
                             .gave_up = r->gave_up,
                             .ever_ready = r->ready_us != 0,
                             .scanned = r->scanned,
                             .restarts = r->restarts,
                             .processes = r->n_children,
                             .threads = r->threads};
}

static st_rc_t pool_checks_begin(void *self, unsigned *threads, st_err_t *err)
{
    hostpool_t *r = self;
    st_rc_t rc;

    if (!hostpool_usable(r))
        return st_fail(err, ST_EIO, "no worker process");
    if ((rc = hostpool_serve_begin(r, err)) != ST_OK)
        return rc;
    *threads = policy_check_threads(POLICY_HOSTPOOL, 0, hostpool_threads(r));
    return ST_OK;
}

static st_rc_t pool_run_check(void *self, span_t input, arena_t *a, span_t *out, st_err_t *err)
{
    return hostpool_run_check(self, input, a, out, err);
}

static void pool_stop(void *self, backend_stats_t *out)
{
    hostpool_t *r = self;

    hostpool_stop(&r, out);
}

static const backend_ops_t pool_ops = {
    .kind = POLICY_HOSTPOOL,
    .name = "worker processes",
    .start = pool_start,
    .submit = pool_submit,
    .poll = pool_poll,
    .cancel = pool_cancel,
    .stats = pool_stats,
    .checks_begin = pool_checks_begin,
    .run_check = pool_run_check,
    .stop = pool_stop,
};

st_rc_t hostpool_backend_new(const hostpool_opts_t *opts, backend_t *out, st_err_t *err)
{
    hostpool_t *r = NULL;
    st_rc_t rc;

    if ((rc = hostpool_start(opts, &r, err)) != ST_OK)
        return rc;
    *out = (backend_t){.ops = &pool_ops, .self = r};
    return ST_OK;
}

/* ---- check jobs from any thread ------------------------------------------------- */

unsigned hostpool_threads(const hostpool_t *self)
{
    unsigned n = 0;

    for (unsigned k = 0; k < self->layout.n; k++)
        n += self->layout.threads[k];
    return n > 0 ? n : 1;
}

bool hostpool_usable(const hostpool_t *self)
{
    return self != NULL && !self->gave_up;
}

typedef struct {
    bool done;
    dispatch_status_t status;
} probe_t;

static void probe_done(void *ctx, uint64_t id, dispatch_status_t status, span_t result)
{
    probe_t *p = ctx;

    (void)result;
    if (id >= HOSTPOOL_PROBE_ID && id < HOSTPOOL_PROBE_ID + HOSTPOOL_PROBES) {
        p->done = true;
        p->status = status;
    }
}

/* The round trip of an echo job (no analysis) to the workers, idle between
 * the scans and the checks: what a job costs to dispatch, and so which
 * check jobs are cheaper here. The least of a few: a round trip can only
 * be made longer by the rest of the machine, never shorter. */
static void measure_round_trip(hostpool_t *r)
{
    static const uint8_t payload[64];
    dispatch_stats_t ds;
    double best = 0;

    dispatch_stats(r->d, &ds);
    if (ds.workers == 0 || dispatch_pending(r->d) > 0)
        return;
    for (unsigned i = 0; i < HOSTPOOL_PROBES; i++) {
        probe_t p = {0};
        uint64_t t0 = now_us();
        if (dispatch_submit(r->d, HOSTPOOL_PROBE_ID + i, JOBS_ECHO,
                            (span_t){payload, sizeof payload}, NULL) != ST_OK)
            break;
        while (!p.done && now_us() - t0 < 1000000u)
            if (dispatch_poll(r->d, 10, probe_done, &p, NULL) != ST_OK)
                return;
        if (!p.done || p.status != DISPATCH_OK)
            break;
        if (best == 0 || (double)(now_us() - t0) < best)
            best = (double)(now_us() - t0);
    }
    if (best > 0) {
        policy_cost_t now = r->cost;
        r->rtt_us = best;
        now.rtt_us = best;
        r->check_local_max = policy_check_local_max(&now);
    }
}

/* The serving thread: the check jobs' calls go to the workers, dead
 * workers are restarted, until hostpool_serve_end. calls_pump waits at most
 * 100 ms (a call queued or hostpool_serve_end wakes it at once), so the
 * workers get their heartbeats and a dead one is seen soon. */
static void *serve_main(void *arg)
{
    hostpool_t *r = arg;
    bool alone = false;

    while (!atomic_load(&r->stop)) {
        st_err_t err = {0};
        calls_stats_t st;
        if (calls_pump(r->calls, 100, NULL, NULL, &err) != ST_OK) {
            /* the calls waiting were given back to their threads; the next
             * ones run here too (calls_shutdown: CALLS_STOPPED) */
            fprintf(log_of(r), "strata: warning: workers: %s; checking here\n", err.msg);
            atomic_store(&r->broken, true);
            calls_shutdown(r->calls);
            return NULL;
        }
        check_children(r, true);
        calls_stats(r->calls, &st);
        if (st.alone && !alone)
            fprintf(log_of(r),
                    "strata: warning: no worker process for %d s; checking here until one "
                    "is back\n",
                    POLICY_NO_WORKER_MS / 1000);
        alone = st.alone;
    }
    return NULL;
}

st_rc_t hostpool_serve_begin(hostpool_t *self, st_err_t *err)
{
    calls_opts_t copts = {.grace_ms = POLICY_NO_WORKER_MS, .first_id = HOSTPOOL_CALLS_FIRST_ID};
    st_err_t e = {0};

    if (self->serving)
        return st_fail(err, ST_EINVAL, "the workers' check jobs are served already");
    measure_round_trip(self);
    if ((self->calls = calls_new(self->d, &copts, &e)) == NULL) {
        if (err != NULL)
            *err = e;
        return e.code;
    }
    atomic_store(&self->stop, false);
    atomic_store(&self->broken, false);
    if (pthread_create(&self->server, NULL, serve_main, self) != 0) {
        calls_destroy(&self->calls);
        return st_fail(err, ST_ENOMEM, "cannot start the workers' thread");
    }
    self->serving = true;
    return ST_OK;
}

void hostpool_serve_end(hostpool_t *self)
{
    if (self == NULL || !self->serving)
        return;
    atomic_store(&self->stop, true);
    calls_wake(self->calls);
    pthread_join(self->server, NULL);
    calls_destroy(&self->calls); /* no thread drives it any more */
    self->serving = false;
}

/* A check job in the calling thread (pure: the same bytes as a worker's),
 * measured for the next run's policy_check_local_max. */
static st_rc_t check_here(hostpool_t *r, span_t input, arena_t *a, span_t *out, st_err_t *err)
{
    uint64_t t0 = clock_ns();
    st_rc_t rc = check_run(input, a, out, err);

    atomic_fetch_add(&r->check_ns, clock_ns() - t0);
    atomic_fetch_add(&r->check_bytes, input.len);
    atomic_fetch_add(&r->checks_here, 1);
    return rc;
}

st_rc_t hostpool_run_check(void *remote, span_t input, arena_t *a, span_t *out, st_err_t *err)
{
    hostpool_t *r = remote;
    st_err_t e = {0};

    if (policy_check_here(input.len, r->check_local_max, !atomic_load(&r->broken)))
        return check_here(r, input, a, out, err);
    switch (calls_run(r->calls, JOBS_CHECK, input, a, out, &e)) {
    case CALLS_OK:
        atomic_fetch_add(&r->checks_sent, 1);
        return ST_OK;
    case CALLS_RUN_HERE: /* no worker for the grace period, too large, or the socket failed */
    case CALLS_STOPPED:  /* the socket failed (serve_main) */
        return check_here(r, input, a, out, err);
    case CALLS_FAILED:
    case CALLS_LOST:
        break;
    }
    if (e.code != ST_EINTERNAL) { /* out of memory here, not the job's doing */
        if (err != NULL)
            *err = e;
        return e.code;
    }
    atomic_fetch_add(&r->checks_sent, 1);
    return st_fail(err, ST_EINTERNAL, "check %s", e.msg);
}
