/* policy.c - the decisions of policy.h, and their measurements.
 *
 * Every number that sets where a job runs or how many are in flight is
 * here, with why it has its value; the back ends and the run's driver ask,
 * and never decide by themselves. */
#include "run/policy.h"

#include "common/file.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Break-even input size between scanning in the calling thread and starting
 * a pool. bench/exec_bench.c on the development host (2 online CPUs,
 * RelWithDebInfo, the 650-file stdlib corpus of bench/stdlib_files.sh, four
 * runs): starting and joining 2 threads that each make a scanner and take
 * an arena costs 39-46 us over the inline setup (bare pthread_create+join:
 * 42-45 us; a scanner is under 1 us); the scan costs 127-270 ns per byte
 * (3.7-7.9 MB/s; the spread is other load on the host). With 2 threads the
 * pool saves half the scan time, so it pays off above
 * overhead / (cost_per_byte * (1 - 1/2)) = 292-623 bytes. We take the top
 * of that range, rounded up: a faster scan raises the break-even, so re-run
 * the bench when the scan gets faster. */
const uint64_t POLICY_INLINE_SCAN_BYTES = 640;

/* Reading and hashing runs at memory speed (SHA-256 at about 1-2 GB/s with
 * the SHA extensions this host has, reads from the page cache faster), so
 * thread start-up pays off only past some 100 KB: 2 threads at 45 us to
 * start save half of the hash time from about 90 KB. Not measured apart
 * from bench/warm_bench.sh's totals; a first estimate. */
const uint64_t POLICY_INLINE_HASH_BYTES = 128 * 1024;

/* Jobs in flight per worker thread: most files scan in well under a
 * millisecond, about a round trip, so a thread needs several queued to
 * never wait for the next (2 left the threads idle half the time). The
 * cluster's workers get as many. */
#define POLICY_DEPTH 16
/* Scan jobs read ahead, per worker thread, while no worker has said HELLO
 * yet: its first batch is ready the moment it does, and small, so that
 * its threads start before the rest of their jobs arrive. */
#define POLICY_PREFETCH_PER_THREAD 2
/* A coordinator batch's scan jobs submitted and not ended: the calls copy
 * each input, so a large batch is not all in memory at once. */
#define POLICY_CLUSTER_WINDOW 256
/* A cluster batch thread looks at its results (and the stop flag) this
 * often. */
#define POLICY_CLUSTER_POLL_MS 200
/* A coordinator's check threads per CPU: each mostly waits for its job's
 * round trip. */
#define POLICY_CLUSTER_CHECKS_PER_CPU 4

unsigned policy_threads(unsigned jobs, size_t n, uint64_t bytes, uint64_t inline_max)
{
    if (jobs <= 1 || n <= 1)
        return 0;
    if (bytes < inline_max)
        return 0;
    return jobs < n ? jobs : (unsigned)n;
}

unsigned policy_depth(policy_kind_t kind)
{
    return kind == POLICY_THREADS ? 1 : POLICY_DEPTH;
}

/* Worker processes: in bursts, when half the workers' credit is free,
 * enough to fill it all, so that the dispatcher sends them as a few large
 * batches rather than one message per finished job (each message wakes
 * threads on both sides, on the cores that scan). Before any worker is
 * there, a small read-ahead. */
size_t policy_window(policy_kind_t kind, size_t workers, size_t slots, size_t pending)
{
    size_t credit;

    switch (kind) {
    case POLICY_THREADS:
        return SIZE_MAX; /* the pool takes them all at once, largest first */
    case POLICY_CLUSTER:
        return POLICY_CLUSTER_WINDOW;
    case POLICY_HOSTPOOL:
        break;
    }
    if (workers == 0)
        return (slots > 0 ? slots : 1) * POLICY_PREFETCH_PER_THREAD;
    credit = slots * POLICY_DEPTH;
    if (credit == 0)
        credit = POLICY_DEPTH;
    return pending <= credit / 2 ? credit : 0;
}

bool policy_one_per_turn(policy_kind_t kind, size_t workers)
{
    return kind == POLICY_HOSTPOOL && workers == 0;
}

/* Worker processes: until a worker is there, look often (its start is
 * measured), and between reads while some are still to read ahead. */
int policy_poll_ms(policy_kind_t kind, size_t workers, bool more)
{
    switch (kind) {
    case POLICY_THREADS:
        return -1;
    case POLICY_CLUSTER:
        return POLICY_CLUSTER_POLL_MS;
    case POLICY_HOSTPOOL:
        break;
    }
    return workers > 0 ? 50 : more ? 0 : 1;
}

/* The workers are starting and the first jobs are ready for them: this
 * thread's core is free, it scans the smallest file (no job is lost:
 * nothing was sent yet). */
bool policy_scan_early(policy_kind_t kind, bool ever_ready, bool more_files, int poll_ms)
{
    return kind == POLICY_HOSTPOOL && poll_ms == 1 && !ever_ready && more_files;
}

/* Worker processes on this host: as many check threads as the workers
 * have, as in-process: most check jobs cost less than a round trip and run
 * in the calling thread; the larger ones go to a worker while their thread
 * waits, so that no more checks run at once either way. */
unsigned policy_check_threads(policy_kind_t kind, unsigned jobs, unsigned threads)
{
    switch (kind) {
    case POLICY_HOSTPOOL:
        return threads > 0 ? threads : 1;
    case POLICY_CLUSTER:
        return jobs * POLICY_CLUSTER_CHECKS_PER_CPU;
    case POLICY_THREADS:
        break;
    }
    return jobs;
}

/* ---- what dispatching costs ------------------------------------------------------------ */

#define COST_MAGIC "strata-dispatch-cost"
#define COST_VERSION 1
#define COST_FILE "dispatch-cost"

static bool positive(double v)
{
    return isfinite(v) && v > 0;
}

policy_choice_t policy_choose(const policy_cost_t *c, uint64_t bytes, size_t files,
                              unsigned threads)
{
    policy_choice_t ch = {0};

    if (threads == 0)
        threads = 1;
    if (c == NULL || c->runs == 0 || !positive(c->start_ms) || !positive(c->rtt_us) ||
        !positive(c->scan_bytes_per_ms)) {
        ch.use = bytes >= POLICY_DEFAULT_MIN_BYTES;
        return ch;
    }
    ch.measured = true;
    ch.local_ms = (double)bytes / (c->scan_bytes_per_ms * threads);
    /* the fixed cost: the start-up, and the last result's round trip (the
     * others overlap with the scans: the workers have jobs queued) */
    ch.dispatch_ms = c->start_ms + c->rtt_us / 1000.0;
    ch.use = files > 0 && ch.dispatch_ms <= POLICY_COST_SHARE * ch.local_ms;
    return ch;
}

size_t policy_check_local_max(const policy_cost_t *c)
{
    double bytes;

    if (c == NULL || !positive(c->rtt_us) || !positive(c->check_ns_per_byte))
        return POLICY_DEFAULT_CHECK_LOCAL;
    bytes = POLICY_CHECK_ROUND_TRIPS * c->rtt_us * 1000.0 / c->check_ns_per_byte;
    if (bytes < 1024)
        return 1024;
    if (bytes > (double)(64u << 20))
        return 64u << 20;
    return (size_t)bytes;
}

bool policy_check_here(size_t len, size_t local_max, bool reachable)
{
    return len <= local_max || !reachable;
}

static double merged(double old, double new_value, bool first)
{
    if (!positive(new_value))
        return old;
    if (first || !positive(old))
        return new_value;
    return (2 * old + new_value) / 3;
}

void policy_cost_merge(policy_cost_t *c, const policy_cost_t *run)
{
    bool first = c->runs == 0;

    c->start_ms = merged(c->start_ms, run->start_ms, first);
    c->rtt_us = merged(c->rtt_us, run->rtt_us, first);
    c->scan_bytes_per_ms = merged(c->scan_bytes_per_ms, run->scan_bytes_per_ms, first);
    c->check_ns_per_byte = merged(c->check_ns_per_byte, run->check_ns_per_byte, first);
    if (c->runs < UINT32_MAX)
        c->runs++;
}

void policy_cost_format(const policy_cost_t *c, char *out, size_t cap)
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

st_rc_t policy_cost_parse(const char *text, size_t len, policy_cost_t *out, st_err_t *err)
{
    char line[256];
    policy_cost_t c = {0};
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

st_rc_t policy_cost_load(const char *dir, policy_cost_t *out, st_err_t *err)
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
    return policy_cost_parse(text, (size_t)n, out, err);
}

st_rc_t policy_cost_save(const char *dir, const policy_cost_t *c, st_err_t *err)
{
    char path[4096], text[256];

    if (dir == NULL || snprintf(path, sizeof path, "%s/" COST_FILE, dir) >= (int)sizeof path)
        return st_fail(err, ST_EIO, "no directory for the dispatch cost record");
    policy_cost_format(c, text, sizeof text);
    return file_replace(path, text, strlen(text), err);
}
