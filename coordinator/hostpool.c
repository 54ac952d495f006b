/* remote.c - worker processes on this host, and scan jobs sent to them.
 *
 * hostpool_scan drives the dispatcher from the calling thread: it keeps at
 * most the workers' credit of jobs submitted (so that a large project does
 * not copy every file into memory at once, and jobs go out in a few large
 * batches), scans files itself while the workers start, polls, and between
 * polls checks on its child processes. That flow control is why the scans
 * do not go through calls.h. The check jobs do: between
 * hostpool_serve_begin and hostpool_serve_end a thread of ours pumps a calls_t
 * (the one mechanism the cluster daemon uses too) and restarts dead
 * workers, while the project's threads submit through it. The time
 * everything takes is measured where it happens (start-up, round trip,
 * scan rate, checks run here) and handed back by hostpool_stop. */
#include "coordinator/hostpool.h"

#include "common/alloc.h"
#include "common/arena.h"
#include "common/buf.h"
#include "common/cpus.h"
#include "common/digest.h"
#include "common/proto.h"
#include "coordinator/calls.h"
#include "coordinator/dispatch.h"
#include "worker/jobkey.h"
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

/* Jobs in flight per worker thread: most files scan in well under a
 * millisecond, about a round trip, so a thread needs several queued to
 * never wait for the next (2 left the threads idle half the time). */
#define HOSTPOOL_DEPTH 16
/* Scan jobs read ahead, per worker thread, while no worker has said HELLO
 * yet: its first batch is ready the moment it does, and small, so that
 * its threads start before the rest of their jobs arrive. */
#define HOSTPOOL_PREFETCH_PER_THREAD 2
#define HOSTPOOL_MAX_RESTARTS 8         /* worker processes restarted in one run */
#define HOSTPOOL_NO_WORKER_MS 10000     /* no worker alive this long: scan or check here */
#define HOSTPOOL_ARENA_CHUNK (1u << 20) /* per-file reading arena */
/* Measurements over less than this are not kept: timer and scheduling
 * noise would be most of them. */
#define HOSTPOOL_MIN_MEASURED_CHECK_BYTES ((uint64_t)64 << 10)
#define HOSTPOOL_MIN_MEASURED_SCAN_MS 20.0
/* Dispatcher ids: a scan job's is its index in hostpool_scan's jobs; the echo
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
    bool gave_up; /* hostpool_scan found no worker: the rest ran here */
    char dir[64];
    char endpoint[128];
    char exe[4096];
    dispatch_t *d;
    child_t children[HOSTPOOL_MAX_WORKERS];
    hostpool_layout_t layout;
    unsigned n_children, threads;
    size_t restarts;
    /* what dispatching costs: the record it started with, and this run's */
    hostpool_cost_t cost;
    size_t check_local_max; /* check jobs with inputs up to this size run here */
    uint64_t spawned_us;    /* when the workers were spawned */
    double start_ms, rtt_us, scan_bytes_per_ms;
    atomic_size_t checks_here, checks_sent;
    atomic_uint_fast64_t check_ns, check_bytes; /* of the checks run here */
};

/* One scan of a hostpool_scan run. */
typedef struct {
    size_t id; /* exec_file_t id */
    digest_t key;
    bool keyed, done;
} rjob_t;

typedef struct {
    hostpool_t *r;
    const exec_file_t *files;
    rjob_t *jobs;
    cas_t *cache;
    exec_sink_fn sink;
    void *sink_ctx;
    arena_t *a;
    hostpool_stats_t *stats;
    size_t finished;
    st_rc_t rc; /* the first sink error */
    st_err_t err;
} run_t;

static FILE *log_of(const hostpool_t *r)
{
    return r->opts.log != NULL ? r->opts.log : stderr;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t now_us(void)
{
    return now_ns() / 1000u;
}

static uint64_t now_ms(void)
{
    return now_us() / 1000u;
}

/* ---- what dispatching costs ------------------------------------------------------------ */

#define COST_MAGIC "strata-dispatch-cost"
#define COST_VERSION 1
#define COST_FILE "dispatch-cost"

static bool positive(double v)
{
    return isfinite(v) && v > 0;
}

hostpool_choice_t hostpool_choose(const hostpool_cost_t *c, uint64_t bytes, size_t files,
                                  unsigned threads)
{
    hostpool_choice_t ch = {0};

    if (threads == 0)
        threads = 1;
    if (c == NULL || c->runs == 0 || !positive(c->start_ms) || !positive(c->rtt_us) ||
        !positive(c->scan_bytes_per_ms)) {
        ch.use = bytes >= HOSTPOOL_DEFAULT_MIN_BYTES;
        return ch;
    }
    ch.measured = true;
    ch.local_ms = (double)bytes / (c->scan_bytes_per_ms * threads);
    /* the fixed cost: the start-up, and the last result's round trip (the
     * others overlap with the scans: the workers have jobs queued) */
    ch.dispatch_ms = c->start_ms + c->rtt_us / 1000.0;
    ch.use = files > 0 && ch.dispatch_ms <= HOSTPOOL_COST_SHARE * ch.local_ms;
    return ch;
}

size_t hostpool_check_local_max(const hostpool_cost_t *c)
{
    double bytes;

    if (c == NULL || !positive(c->rtt_us) || !positive(c->check_ns_per_byte))
        return HOSTPOOL_DEFAULT_CHECK_LOCAL;
    bytes = HOSTPOOL_CHECK_ROUND_TRIPS * c->rtt_us * 1000.0 / c->check_ns_per_byte;
    if (bytes < 1024)
        return 1024;
    if (bytes > (double)(64u << 20))
        return 64u << 20;
    return (size_t)bytes;
}

static double merged(double old, double new_value, bool first)
{
    if (!positive(new_value))
        return old;
    if (first || !positive(old))
        return new_value;
    return (2 * old + new_value) / 3;
}

void hostpool_cost_merge(hostpool_cost_t *c, const hostpool_cost_t *run)
{
    bool first = c->runs == 0;

    c->start_ms = merged(c->start_ms, run->start_ms, first);
    c->rtt_us = merged(c->rtt_us, run->rtt_us, first);
    c->scan_bytes_per_ms = merged(c->scan_bytes_per_ms, run->scan_bytes_per_ms, first);
    c->check_ns_per_byte = merged(c->check_ns_per_byte, run->check_ns_per_byte, first);
    if (c->runs < UINT32_MAX)
        c->runs++;
}

void hostpool_cost_format(const hostpool_cost_t *c, char *out, size_t cap)
{
    snprintf(out, cap,
             "%s %d start_ms=%.3f rtt_us=%.3f scan_bytes_per_ms=%.1f "
             "check_ns_per_byte=%.4f runs=%u\n",
             COST_MAGIC, COST_VERSION, c->start_ms, c->rtt_us, c->scan_bytes_per_ms,
             c->check_ns_per_byte, c->runs);
}

/* The value of "name=" in text (a double in [0, max]); false if absent or bad. */
static bool cost_field(const char *text, const char *name, double max, double *out)
{
    char key[32];
    const char *p;
    char *end;
    double v;

    snprintf(key, sizeof key, " %s=", name);
    if ((p = strstr(text, key)) == NULL)
        return false;
    p += strlen(key);
    errno = 0;
    v = strtod(p, &end);
    if (end == p || errno != 0 || !isfinite(v) || v < 0 || v > max ||
        (*end != ' ' && *end != '\n' && *end != '\0'))
        return false;
    *out = v;
    return true;
}

st_rc_t hostpool_cost_parse(const char *text, size_t len, hostpool_cost_t *out, st_err_t *err)
{
    char line[256];
    hostpool_cost_t c = {0};
    double runs;

    if (text == NULL || len == 0 || len >= sizeof line || memchr(text, '\0', len) != NULL)
        return st_fail(err, ST_ECORRUPT, "dispatch cost record: empty or too long");
    memcpy(line, text, len);
    line[len] = '\0';
    if (strncmp(line, COST_MAGIC " ", strlen(COST_MAGIC) + 1) != 0 ||
        atoi(line + strlen(COST_MAGIC) + 1) != COST_VERSION)
        return st_fail(err, ST_ECORRUPT, "dispatch cost record: not version %d", COST_VERSION);
    if (!cost_field(line, "start_ms", 600000, &c.start_ms) ||
        !cost_field(line, "rtt_us", 60e6, &c.rtt_us) ||
        !cost_field(line, "scan_bytes_per_ms", 1e12, &c.scan_bytes_per_ms) ||
        !cost_field(line, "check_ns_per_byte", 1e9, &c.check_ns_per_byte) ||
        !cost_field(line, "runs", UINT32_MAX, &runs) || runs != (double)(uint32_t)runs)
        return st_fail(err, ST_ECORRUPT, "dispatch cost record: a field is missing or bad");
    c.runs = (uint32_t)runs;
    *out = c;
    return ST_OK;
}

st_rc_t hostpool_cost_load(const char *dir, hostpool_cost_t *out, st_err_t *err)
{
    char path[4096], text[256];
    ssize_t n;
    int fd;

    if (dir == NULL || snprintf(path, sizeof path, "%s/" COST_FILE, dir) >= (int)sizeof path)
        return st_fail(err, ST_ENOENT, "no dispatch cost record");
    /* non-blocking: a FIFO planted under the name must not hang the run */
    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW)) < 0)
        return st_fail(err, ST_ENOENT, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return st_fail(err, ST_ECORRUPT, "%s: not a regular file", path);
    }
    n = read(fd, text, sizeof text);
    close(fd);
    if (n < 0)
        return st_fail(err, ST_ENOENT, "%s: %s", path, strerror(errno));
    return hostpool_cost_parse(text, (size_t)n, out, err);
}

st_rc_t hostpool_cost_save(const char *dir, const hostpool_cost_t *c, st_err_t *err)
{
    char path[4096], tmp[4096 + 32], text[256];
    size_t len;
    int fd;

    if (dir == NULL || snprintf(path, sizeof path, "%s/" COST_FILE, dir) >= (int)sizeof path)
        return st_fail(err, ST_EIO, "no directory for the dispatch cost record");
    /* a fresh file of our own: never through a name someone planted */
    snprintf(tmp, sizeof tmp, "%s.XXXXXX", path);
    hostpool_cost_format(c, text, sizeof text);
    len = strlen(text);
    if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
        return st_fail(err, ST_EIO, "%s: %s", tmp, strerror(errno));
    fchmod(fd, 0644);
    bool ok = write(fd, text, len) == (ssize_t)len;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return st_fail(err, ST_EIO, "%s: %s", path, strerror(e));
    }
    return ST_OK;
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
    if (opts->cost != NULL)
        r->cost = *opts->cost;
    r->check_local_max = hostpool_check_local_max(&r->cost);
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
    dopts.depth = HOSTPOOL_DEPTH;
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
        if (r->restarts < HOSTPOOL_MAX_RESTARTS && spawn(r, k, NULL) == ST_OK) {
            r->restarts++;
            fprintf(log_of(r), "strata: warning: worker process %d restarted\n", pid);
        } else {
            fprintf(log_of(r), "strata: warning: worker process %d not restarted\n", pid);
        }
    }
}

void hostpool_stop(hostpool_t **self_p, hostpool_stats_t *stats)
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
        if (stats != NULL && k < HOSTPOOL_MAX_WORKERS) {
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
        stats->measured = (hostpool_cost_t){.start_ms = r->start_ms,
                                            .rtt_us = r->rtt_us,
                                            .scan_bytes_per_ms = r->scan_bytes_per_ms};
        /* too few bytes say more about the clock than about the checks */
        if (bytes >= HOSTPOOL_MIN_MEASURED_CHECK_BYTES)
            stats->measured.check_ns_per_byte = (double)ns / (double)bytes;
        stats->checks_here = atomic_load(&r->checks_here);
        stats->checks_sent = atomic_load(&r->checks_sent);
    }
    snprintf(path, sizeof path, "%s/workers", r->dir);
    unlink(path);
    rmdir(r->dir);
    remove_cleanup();
    st_free(r);
    *self_p = NULL;
}

/* ---- scanning ---------------------------------------------------------------------- */

static void sink_one(run_t *run, exec_done_t *done)
{
    st_err_t err = {0};
    st_rc_t rc = run->sink(run->sink_ctx, done, &err);

    if (rc != ST_OK && run->rc == ST_OK) {
        run->rc = rc;
        run->err = err;
    }
}

/* An E902 for a file: it could not be read, or its job was lost. */
static void sink_e902(run_t *run, size_t id, const char *message)
{
    scan_diag_t d = {.line = 1, .col = 1, .code = "E902", .message = message};
    exec_done_t done = {.id = id, .path = run->files[id].path, .diags = &d, .n_diags = 1};

    sink_one(run, &done);
}

/* A scan result for job j: to the sink and the cache. */
static void deliver(run_t *run, rjob_t *j, span_t result)
{
    exec_done_t done = {.id = j->id, .path = run->files[j->id].path, .result = result};
    st_err_t err = {0};

    arena_reset(run->a);
    if (scan_result_diags(result, run->a, (scan_diag_t **)&done.diags, &done.n_diags, &err) !=
        ST_OK) {
        char message[ST_ERR_MSG_MAX + 64];
        snprintf(message, sizeof message, "internal error: a worker's scan result: %s", err.msg);
        sink_e902(run, j->id, message);
        run->stats->failed++;
        return;
    }
    if (run->cache != NULL && j->keyed) {
        done.has_key = true;
        done.key = j->key;
        if (cas_put(run->cache, CAS_RESULTS, &j->key, result.ptr, result.len, false, &err) != ST_OK)
            done.has_key = false; /* not stored: the run goes on */
    }
    sink_one(run, &done);
}

static void on_done(void *ctx, uint64_t id, dispatch_status_t status, span_t result)
{
    run_t *run = ctx;
    rjob_t *j = &run->jobs[id];

    if (j->done)
        return;
    j->done = true;
    run->finished++;
    if (status == DISPATCH_OK) {
        run->stats->scanned++;
        deliver(run, j, result);
        return;
    }
    char message[512];
    snprintf(message, sizeof message, "internal error, file not checked: %.*s",
             (int)(result.len < 400 ? result.len : 400), (const char *)result.ptr);
    run->stats->failed++;
    sink_e902(run, j->id, message);
}

/* Reads file j and builds its job input in b (and its key); false when the
 * file could not be read (its E902 is sunk, the job is done). */
static bool prepare(run_t *run, rjob_t *j, const scan_opts_t *sopts, const digest_t *config,
                    buf_t *b)
{
    const exec_file_t *f = &run->files[j->id];
    scan_kind_t kind = scan_kind_of_path(f->path);
    uint8_t *data;
    size_t len;
    st_err_t err = {0};
    st_rc_t rc;

    arena_reset(run->a);
    rc = exec_read_file(f->path, sopts->max_file_bytes, run->a, &data, &len, &err);
    if (rc != ST_OK) {
        char message[ST_ERR_MSG_MAX + 64];
        if (rc == ST_ELIMIT)
            snprintf(message, sizeof message, "%s", err.msg);
        else
            snprintf(message, sizeof message, "cannot read file: %s", err.msg);
        j->done = true;
        run->finished++;
        sink_e902(run, j->id, message);
        return false;
    }
    if (run->cache != NULL) {
        jobkey_scan_t in = {.version = JOBKEY_ANALYZER_VERSION, .config = *config, .kind = kind};
        j->keyed = digest_sha256(data, len, &in.content) == ST_OK &&
                   jobkey_scan(&in, &j->key, &err) == ST_OK;
    }
    buf_reset(b);
    if (jobs_scan_input(b, kind, sopts, data, len, &err) != ST_OK) {
        char message[ST_ERR_MSG_MAX + 64];
        snprintf(message, sizeof message, "internal error, file not checked: %s", err.msg);
        j->done = true;
        run->finished++;
        run->stats->failed++;
        sink_e902(run, j->id, message);
        return false;
    }
    return true;
}

/* Scans job j here (with this thread's scanner and result arena); false
 * when it was done already or could not be read (its E902 is sunk). */
static bool scan_one_here(run_t *run, rjob_t *j, scanner_t *scanner, arena_t *out,
                          const scan_opts_t *sopts, const digest_t *config, buf_t *b)
{
    span_t result;
    st_err_t err = {0};

    if (j->done || !prepare(run, j, sopts, config, b))
        return false;
    j->done = true;
    run->finished++;
    arena_reset(out);
    if (scanner == NULL || out == NULL ||
        jobs_run(scanner, JOBS_SCAN, (span_t){.ptr = b->data, .len = b->len}, out, &result, &err) !=
            ST_OK) {
        char message[ST_ERR_MSG_MAX + 64];
        snprintf(message, sizeof message, "internal error, file not checked: %s",
                 scanner == NULL || out == NULL ? "out of memory" : err.msg);
        run->stats->failed++;
        sink_e902(run, j->id, message);
        return false;
    }
    deliver(run, j, result);
    return true;
}

/* No worker for too long: the jobs not done run here. */
static void scan_here(run_t *run, const scan_opts_t *sopts, const digest_t *config, size_t n)
{
    scanner_t *scanner = scanner_new();
    arena_t *out = arena_new(HOSTPOOL_ARENA_CHUNK);
    buf_t b;

    buf_init(&b);
    for (size_t i = 0; i < n; i++)
        if (scan_one_here(run, &run->jobs[i], scanner, out, sopts, config, &b))
            run->stats->local++;
    buf_free(&b);
    arena_destroy(&out);
    scanner_destroy(&scanner);
}

/* Larger files first (qsort_r, ctx: the exec_file_t array the ids index). */
static int larger_first(const void *a, const void *b, void *ctx)
{
    const exec_file_t *files = ctx;
    const rjob_t *x = a, *y = b;
    uint64_t sx = files[x->id].size, sy = files[y->id].size;

    if (sx != sy)
        return sx > sy ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* How many scan jobs should be pending (submitted, not finished) now.
 * Jobs are submitted in bursts: when half the workers' credit is free,
 * enough to fill it all, so that the dispatcher sends them as a few large
 * batches rather than one message per finished job (each message wakes
 * threads on both sides, on the cores that scan). */
static size_t submit_target(const hostpool_t *r, const dispatch_stats_t *ds, size_t pending)
{
    size_t credit;

    if (ds->workers == 0) {
        size_t threads = 0;
        for (unsigned k = 0; k < r->layout.n; k++)
            threads += r->layout.threads[k];
        return (threads > 0 ? threads : 1) * HOSTPOOL_PREFETCH_PER_THREAD;
    }
    credit = ds->slots * HOSTPOOL_DEPTH;
    if (credit == 0)
        credit = HOSTPOOL_DEPTH;
    return pending <= credit / 2 ? credit : 0;
}

st_rc_t hostpool_scan(hostpool_t *self, const exec_file_t *files, const size_t *ids, size_t n,
                      const scan_opts_t *sopts, cas_t *cache, exec_sink_fn sink, void *sink_ctx,
                      hostpool_stats_t *stats, st_err_t *err)
{
    hostpool_stats_t local_stats = {0};
    run_t run = {.r = self, .files = files, .cache = cache, .sink = sink, .sink_ctx = sink_ctx};
    scan_opts_t so = *sopts;
    digest_t config;
    size_t next = 0, last = n, slots = 0;
    scanner_t *early_scanner = NULL;
    arena_t *early_out = NULL;
    uint64_t alone_since = now_ms(), ready_us = 0, bytes = 0;
    buf_t b;

    run.stats = stats != NULL ? stats : &local_stats;
    *run.stats = (hostpool_stats_t){.workers = self->n_children, .threads = self->threads};
    if (so.max_file_bytes == 0)
        so.max_file_bytes = SCAN_DEFAULT_MAX_FILE_BYTES;
    if (cache != NULL && jobkey_scan_config(&so, &config) != ST_OK)
        cache = run.cache = NULL;
    run.jobs = st_calloc(n == 0 ? 1 : n, sizeof *run.jobs);
    run.a = arena_new(HOSTPOOL_ARENA_CHUNK);
    if (run.jobs == NULL || run.a == NULL) {
        st_free(run.jobs);
        arena_destroy(&run.a);
        return st_fail(err, ST_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        run.jobs[i].id = ids[i];
    /* for the files scanned here while the workers start; without them,
     * none is */
    early_scanner = scanner_new();
    early_out = arena_new(HOSTPOOL_ARENA_CHUNK);
    /* the largest first: the last jobs are small, so the threads (and the
     * workers) finish together */
    qsort_r(run.jobs, n, sizeof *run.jobs, larger_first, (void *)files);
    buf_init(&b);
    while (run.finished < n) {
        dispatch_stats_t ds;
        st_err_t perr = {0};
        size_t pending = dispatch_pending(self->d), want;
        int timeout;

        dispatch_stats(self->d, &ds);
        want = submit_target(self, &ds, pending);
        while (next < last && pending < want) {
            rjob_t *j = &run.jobs[next];
            pending++;
            bytes += files[j->id].size;
            if (prepare(&run, j, &so, &config, &b) &&
                dispatch_submit(self->d, next, JOBS_SCAN, (span_t){.ptr = b.data, .len = b.len},
                                &perr) != ST_OK) {
                char message[ST_ERR_MSG_MAX + 64];
                snprintf(message, sizeof message, "internal error, file not checked: %s", perr.msg);
                j->done = true;
                run.finished++;
                run.stats->failed++;
                sink_e902(&run, j->id, message);
            }
            next++;
            if (ds.workers == 0)
                break; /* one at a time: a HELLO is answered at once */
        }
        if (run.finished >= n)
            break;
        /* until a worker is there, look often (its start is measured), and
         * between reads while some are still to read ahead */
        timeout = ds.workers > 0 ? 50 : next < last && pending < want ? 0 : 1;
        if (timeout == 1 && ready_us == 0 && next < last && early_scanner != NULL &&
            early_out != NULL) {
            /* the workers are starting, and the first jobs are ready for
             * them: this thread's core is free, it scans the smallest file
             * (no job is lost here: nothing was sent yet) */
            if (scan_one_here(&run, &run.jobs[--last], early_scanner, early_out, &so, &config, &b))
                run.stats->early++;
            timeout = 0;
            if (run.finished >= n)
                break;
        }
        if (dispatch_poll(self->d, timeout, on_done, &run, &perr) != ST_OK) {
            fprintf(log_of(self), "strata: warning: workers: %s; scanning here\n", perr.msg);
            self->gave_up = true;
            break;
        }
        check_children(self, true);
        dispatch_stats(self->d, &ds);
        progress_set(self->opts.progress, PROGRESS_WORKERS, ds.workers);
        if (ds.workers > 0 && ready_us == 0) {
            ready_us = now_us();
            if (self->start_ms == 0)
                self->start_ms = (double)(ready_us - self->spawned_us) / 1000.0;
        }
        if (ds.slots > slots)
            slots = ds.slots;
        if (ds.workers > 0)
            alone_since = now_ms();
        else if (now_ms() - alone_since > HOSTPOOL_NO_WORKER_MS) {
            fprintf(log_of(self),
                    "strata: warning: no worker process for %d s; scanning the "
                    "rest here\n",
                    HOSTPOOL_NO_WORKER_MS / 1000);
            self->gave_up = true;
            break;
        }
    }
    buf_free(&b);
    scanner_destroy(&early_scanner);
    arena_destroy(&early_out);
    if (run.finished == n && ready_us != 0 && slots > 0) {
        /* the throughput of a thread, as the workers saw it (their
         * overheads included: it errs on the side of fewer workers) */
        double ms = (double)(now_us() - ready_us) / 1000.0;
        if (ms >= HOSTPOOL_MIN_MEASURED_SCAN_MS)
            self->scan_bytes_per_ms = (double)bytes / (ms * (double)slots);
    }
    if (run.finished < n)
        scan_here(&run, &so, &config, n);
    run.stats->restarts = self->restarts;
    st_free(run.jobs);
    arena_destroy(&run.a);
    if (run.rc == ST_OK && run.stats->failed > 0) /* as exec_run: named by their E902s */
        run.rc = st_fail(&run.err, ST_EINTERNAL, "%zu scan jobs failed", run.stats->failed);
    if (run.rc != ST_OK && err != NULL)
        *err = run.err;
    return run.rc;
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
        hostpool_cost_t now = r->cost;
        r->rtt_us = best;
        now.rtt_us = best;
        r->check_local_max = hostpool_check_local_max(&now);
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
                    HOSTPOOL_NO_WORKER_MS / 1000);
        alone = st.alone;
    }
    return NULL;
}

st_rc_t hostpool_serve_begin(hostpool_t *self, st_err_t *err)
{
    calls_opts_t copts = {.grace_ms = HOSTPOOL_NO_WORKER_MS, .first_id = HOSTPOOL_CALLS_FIRST_ID};
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
 * measured for the next run's hostpool_check_local_max. */
static st_rc_t check_here(hostpool_t *r, span_t input, arena_t *a, span_t *out, st_err_t *err)
{
    uint64_t t0 = now_ns();
    st_rc_t rc = check_run(input, a, out, err);

    atomic_fetch_add(&r->check_ns, now_ns() - t0);
    atomic_fetch_add(&r->check_bytes, input.len);
    atomic_fetch_add(&r->checks_here, 1);
    return rc;
}

st_rc_t hostpool_run_check(void *remote, span_t input, arena_t *a, span_t *out, st_err_t *err)
{
    hostpool_t *r = remote;
    st_err_t e = {0};

    /* cheaper than a round trip, or no socket to the workers any more */
    if (input.len <= r->check_local_max || atomic_load(&r->broken))
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
