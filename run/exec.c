/* exec.c - reading files, and jobs on a fixed pool of threads.
 *
 * Everything a thread needs for the whole phase (its scanner) is made before
 * any thread starts, so a failure to set up fails the phase before any job
 * ran, rather than leaving files unscanned. Per job, the only shared state
 * touched is the atomic index of the next job and the arena pool; the job
 * function does the rest (the run's sink is thread-safe). A thread that
 * cannot be created just means fewer threads: the index hands the jobs to
 * those that exist, and with none the calling thread does the work. */
#include "run/exec.h"

#include "common/alloc.h"
#include "common/arena.h"
#include "run/policy.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXEC_ARENA_CHUNK ((size_t)1 << 20)

st_rc_t exec_read_fd(int fd, size_t hint, size_t max_bytes, arena_t *a, uint8_t **data, size_t *len,
                     st_err_t *err)
{
    size_t cap = (hint < max_bytes ? hint : max_bytes) + 2, got = 0;
    uint8_t *buf = arena_alloc(a, cap);

    for (;;) {
        ssize_t r;

        if (buf == NULL)
            return st_fail(err, ST_ENOMEM, "out of memory reading the file");
        if (got == cap - 1) { /* full: the file grew, or size was unknown */
            size_t grown = cap - 1 > max_bytes / 2 ? max_bytes + 2 : cap * 2;

            if (got > max_bytes)
                break;
            buf = arena_realloc(a, buf, cap, grown);
            cap = grown;
            continue;
        }
        r = read(fd, buf + got, cap - 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return st_fail(err, ST_EIO, "%s", strerror(errno));
        if (r == 0)
            break;
        got += (size_t)r;
    }
    buf[got] = 0;
    *data = buf;
    *len = got;
    return ST_OK;
}

/* exec_read_file, with the file's size when the caller knows it (size_hint
 * not NULL: the walk stat'ed every file already), which saves an fstat per
 * file. A directory then fails in read() with the same EISDIR. The size is
 * only a first buffer size: the file is read to its end either way. */
st_rc_t exec_read_sized(const char *path, const uint64_t *size_hint, size_t max_bytes, arena_t *a,
                        uint8_t **data, size_t *len, st_err_t *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st = {0};
    uint8_t *buf = NULL;
    size_t got = 0, hint;
    st_rc_t rc;

    if (fd < 0)
        return st_fail(err, ST_EIO, "%s", strerror(errno));
    if (size_hint == NULL && fstat(fd, &st) != 0) {
        int e = errno;

        close(fd);
        return st_fail(err, ST_EIO, "%s", strerror(e));
    }
    if (size_hint == NULL && S_ISDIR(st.st_mode)) {
        close(fd);
        return st_fail(err, ST_EIO, "%s", strerror(EISDIR));
    }
    if (size_hint != NULL)
        hint = *size_hint < max_bytes ? (size_t)*size_hint : max_bytes;
    else
        hint = S_ISREG(st.st_mode) ? (size_t)st.st_size : 0;
    rc = exec_read_fd(fd, hint, max_bytes, a, &buf, &got, err);
    /* too large: the size for the message, as without a hint */
    if (rc == ST_OK && got > max_bytes && size_hint != NULL && fstat(fd, &st) != 0)
        st.st_mode = 0;
    close(fd);
    if (rc != ST_OK)
        return rc;
    /* The scan's own wording, so the limit reads the same wherever it hit. */
    if (got > max_bytes && S_ISREG(st.st_mode) && (uint64_t)st.st_size > max_bytes)
        return st_fail(err, ST_ELIMIT,
                       "file too large: %llu bytes (limit %zu, see --max-file-size)",
                       (unsigned long long)st.st_size, max_bytes);
    if (got > max_bytes)
        return st_fail(err, ST_ELIMIT,
                       "file too large: more than %zu bytes (limit %zu, see --max-file-size)",
                       max_bytes, max_bytes);
    *data = buf;
    *len = got;
    return ST_OK;
}

st_rc_t exec_read_file(const char *path, size_t max_bytes, arena_t *a, uint8_t **data, size_t *len,
                       st_err_t *err)
{
    return exec_read_sized(path, NULL, max_bytes, a, data, len, err);
}

/* ---- the pool --------------------------------------------------------------- */

typedef struct {
    size_t n;
    exec_job_fn fn;
    void *ctx;
    atomic_size_t next;
    arena_pool_t *pool;
} pool_run_t;

typedef struct {
    pool_run_t *run;
    scanner_t *scanner;
} pool_thread_t;

/* Takes jobs from the shared index until none is left. */
static void *thread_main(void *arg)
{
    pool_thread_t *t = arg;
    pool_run_t *run = t->run;
    size_t k;

    while ((k = atomic_fetch_add_explicit(&run->next, 1, memory_order_relaxed)) < run->n) {
        arena_t *a = arena_pool_get(run->pool);
        run->fn(run->ctx, k, a, t->scanner);
        if (a != NULL)
            arena_pool_put(run->pool, a);
    }
    return NULL;
}

static void free_threads(pool_thread_t **threads_p, unsigned count)
{
    for (unsigned i = 0; *threads_p != NULL && i < count; i++)
        scanner_destroy(&(*threads_p)[i].scanner);
    st_free(*threads_p);
    *threads_p = NULL;
}

/* Makes count thread states (at least one, for the calling thread), each
 * with a scanner when asked. */
static st_rc_t make_threads(pool_run_t *run, unsigned count, bool scanners, pool_thread_t **out,
                            st_err_t *err)
{
    pool_thread_t *threads = st_calloc(count, sizeof *threads);

    if (threads == NULL)
        return st_fail(err, ST_ENOMEM, "exec: out of memory");
    for (unsigned i = 0; i < count; i++) {
        threads[i].run = run;
        if (scanners && (threads[i].scanner = scanner_new()) == NULL) {
            free_threads(&threads, i);
            return st_fail(err, ST_ENOMEM, "exec: cannot create a scanner");
        }
    }
    *out = threads;
    return ST_OK;
}

/* Runs the jobs on count threads (count 0: in the calling thread); the
 * number started. */
static unsigned start_and_join(pool_thread_t *threads, unsigned count)
{
    pthread_t *ids = count > 0 ? st_calloc(count, sizeof *ids) : NULL;
    unsigned started = 0;

    while (ids != NULL && started < count &&
           pthread_create(&ids[started], NULL, thread_main, &threads[started]) == 0)
        started++;
    if (started == 0) /* no pool (small input, or no thread could start) */
        thread_main(&threads[0]);
    for (unsigned i = 0; i < started; i++)
        pthread_join(ids[i], NULL);
    /* Threads that failed to start leave their share to the others; their
     * scanners are simply unused. */
    st_free(ids);
    return started;
}

st_rc_t exec_pool_run(const exec_pool_opts_t *opts, size_t n, uint64_t bytes, exec_job_fn fn,
                      void *ctx, unsigned *started, st_err_t *err)
{
    unsigned jobs = opts->jobs == 0 ? 1 : opts->jobs;
    pool_run_t run = {.n = n, .fn = fn, .ctx = ctx};
    pool_thread_t *threads = NULL;
    unsigned count, made, got;
    st_rc_t rc;

    if (started != NULL)
        *started = 0;
    if (n == 0)
        return ST_OK; /* nothing to do: no thread, no scanner */
    atomic_init(&run.next, 0);
    count = policy_threads(jobs, n, bytes, opts->inline_max);
    made = count == 0 ? 1 : count;
    if ((run.pool = arena_pool_new(EXEC_ARENA_CHUNK, 0, jobs)) == NULL)
        return st_fail(err, ST_ENOMEM, "exec: out of memory");
    if ((rc = make_threads(&run, made, opts->scanners, &threads, err)) != ST_OK) {
        arena_pool_destroy(&run.pool);
        return rc;
    }
    got = start_and_join(threads, count);
    free_threads(&threads, made);
    arena_pool_destroy(&run.pool);
    if (started != NULL)
        *started = got;
    return ST_OK;
}

/* ---- the threads back end ---------------------------------------------------------- */

typedef struct {
    unsigned jobs;
    backend_sink_t sink;
    size_t *items;      /* submitted, in order */
    scan_kind_t *kinds; /* theirs */
    uint64_t bytes;     /* of those not run yet */
    size_t n, cap, ran;
    atomic_bool stop; /* cancel */
    atomic_size_t scanned;
    unsigned threads; /* started by the last poll */
} threads_t;

static st_rc_t threads_start(void *self, const backend_sink_t *sink, st_err_t *err)
{
    threads_t *t = self;

    (void)err;
    t->sink = *sink;
    return ST_OK;
}

static st_rc_t threads_submit(void *self, size_t job, scan_kind_t kind, uint64_t size,
                              st_err_t *err)
{
    threads_t *t = self;

    if (t->n == t->cap) {
        size_t cap = t->cap == 0 ? 256 : t->cap * 2;
        size_t *grown = st_realloc(t->items, cap * sizeof *grown);
        scan_kind_t *kinds = grown != NULL ? st_realloc(t->kinds, cap * sizeof *kinds) : NULL;
        if (grown != NULL)
            t->items = grown;
        if (kinds == NULL)
            return st_fail(err, ST_ENOMEM, "out of memory queueing a scan");
        t->kinds = kinds;
        t->cap = cap;
    }
    t->kinds[t->n] = kind;
    t->items[t->n++] = job;
    t->bytes += size;
    return ST_OK;
}

static bool stopped(const threads_t *t)
{
    return atomic_load(&t->stop) || (t->sink.cancel != NULL && atomic_load(t->sink.cancel));
}

/* One scan on a pool thread: read, scan, hand over. */
static void scan_job(void *ctx, size_t k, arena_t *a, scanner_t *scanner)
{
    threads_t *t = ctx;
    size_t job = t->items[t->ran + k];
    const backend_sink_t *s = &t->sink;
    span_t data, result;
    st_err_t err = {0};
    const char *why;

    if (stopped(t)) {
        s->done(s->ctx, job, BACKEND_STOPPED, (span_t){0}, a);
        return;
    }
    if (a == NULL) {
        why = "out of memory for the job's arena";
        s->done(s->ctx, job, BACKEND_ERROR, (span_t){(const uint8_t *)why, strlen(why)}, a);
        return;
    }
    if (!s->read(s->ctx, job, a, &data))
        return;
    if (scanner_run(scanner, &s->scan, t->kinds[t->ran + k], data.ptr, data.len, a, &result,
                    &err) != ST_OK) {
        s->done(s->ctx, job, BACKEND_ERROR, (span_t){(const uint8_t *)err.msg, strlen(err.msg)}, a);
        return;
    }
    atomic_fetch_add(&t->scanned, 1);
    s->done(s->ctx, job, BACKEND_OK, result, a);
}

/* Runs the jobs submitted since the last poll, all of them: the pool takes
 * them in the order given (the run's, largest first). */
static st_rc_t threads_poll(void *self, int timeout_ms, st_err_t *err)
{
    threads_t *t = self;
    exec_pool_opts_t o = {
        .jobs = t->jobs, .inline_max = POLICY_INLINE_SCAN_BYTES, .scanners = true};
    size_t n = t->n - t->ran;
    st_rc_t rc;

    (void)timeout_ms;
    rc = exec_pool_run(&o, n, t->bytes, scan_job, t, &t->threads, err);
    if (rc != ST_OK) { /* nothing ran: each job ends as failed here */
        for (size_t k = 0; k < n; k++) {
            const char *why = err != NULL ? err->msg : "exec: out of memory";
            t->sink.done(t->sink.ctx, t->items[t->ran + k], BACKEND_ERROR,
                         (span_t){(const uint8_t *)why, strlen(why)}, NULL);
        }
    }
    t->ran = t->n;
    t->bytes = 0;
    return ST_OK;
}

static void threads_cancel(void *self)
{
    atomic_store(&((threads_t *)self)->stop, true);
}

static void threads_stats(void *self, backend_stats_t *out)
{
    threads_t *t = self;

    *out = (backend_stats_t){.workers = 1,
                             .slots = t->jobs,
                             .ever_ready = true,
                             .scanned = atomic_load(&t->scanned),
                             .threads = t->threads};
}

static void threads_stop(void *self, backend_stats_t *out)
{
    threads_t *t = self;

    if (out != NULL)
        threads_stats(t, out);
    st_free(t->items);
    st_free(t->kinds);
    st_free(t);
}

static const backend_ops_t threads_ops = {
    .kind = POLICY_THREADS,
    .name = "threads",
    .start = threads_start,
    .submit = threads_submit,
    .poll = threads_poll,
    .cancel = threads_cancel,
    .stats = threads_stats,
    .checks_begin = NULL,
    .run_check = NULL,
    .stop = threads_stop,
};

st_rc_t exec_backend_new(unsigned jobs, backend_t *out, st_err_t *err)
{
    threads_t *t = st_calloc(1, sizeof *t);

    if (t == NULL)
        return st_fail(err, ST_ENOMEM, "out of memory");
    t->jobs = jobs == 0 ? 1 : jobs;
    atomic_init(&t->stop, false);
    atomic_init(&t->scanned, 0);
    *out = (backend_t){.ops = &threads_ops, .self = t};
    return ST_OK;
}
