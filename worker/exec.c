/* exec.c - scanning a file list on a fixed pool of threads.
 *
 * Everything a thread needs for the whole run (its scanner) is made before
 * any thread starts, so a failure to set up fails the run before any job
 * ran, rather than leaving files unscanned. Per job, the only shared state
 * touched is the atomic index of the next file, the arena pool, and the
 * sink; errors and statistics are kept per thread and merged under a mutex
 * once, when the thread ends. A thread that cannot be created just means
 * fewer threads: the index hands the files to those that exist, and with
 * none the calling thread does the work. */
#include "worker/exec.h"

#include "common/alloc.h"
#include "common/arena.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
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
const uint64_t EXEC_INLINE_MAX_BYTES = 640;

#define EXEC_ARENA_CHUNK ((size_t)1 << 20)

typedef struct {
    const exec_opts_t *opts;
    scan_opts_t scan_opts;
    const exec_file_t *order; /* files, largest first */
    size_t n;
    atomic_size_t next;
    arena_pool_t *pool;
    pthread_mutex_t lock; /* guards rc, err and stats */
    st_rc_t rc;
    st_err_t err;
    exec_stats_t stats;
} exec_ctx_t;

typedef struct {
    exec_ctx_t *ctx;
    scanner_t *scanner;
    st_rc_t rc; /* first error of this thread's jobs */
    st_err_t err;
    exec_stats_t stats;
} exec_thread_t;

/* The max_bytes + 1 first bytes of fd into a (growing as the file does). */
static st_rc_t read_fd(int fd, size_t hint, size_t max_bytes, arena_t *a, uint8_t **data,
                       size_t *len, st_err_t *err)
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

st_rc_t exec_read_file(const char *path, size_t max_bytes, arena_t *a, uint8_t **data, size_t *len,
                       st_err_t *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    uint8_t *buf = NULL;
    size_t got = 0;
    st_rc_t rc;

    if (fd < 0)
        return st_fail(err, ST_EIO, "%s", strerror(errno));
    if (fstat(fd, &st) != 0) {
        int e = errno;

        close(fd);
        return st_fail(err, ST_EIO, "%s", strerror(e));
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return st_fail(err, ST_EIO, "%s", strerror(EISDIR));
    }
    rc = read_fd(fd, S_ISREG(st.st_mode) ? (size_t)st.st_size : 0, max_bytes, a, &buf, &got, err);
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

/* Remembers the first error of a thread. */
static void note_error(exec_thread_t *t, st_rc_t rc, const st_err_t *err)
{
    if (t->rc == ST_OK) {
        t->rc = rc;
        t->err = *err;
    }
}

/* Scans data and hands the decoded diagnostics to the sink. */
static void scan_and_sink(exec_thread_t *t, const char *path, const uint8_t *data, size_t len,
                          arena_t *a)
{
    const exec_opts_t *opts = t->ctx->opts;
    st_err_t err = {0};
    span_t result;
    scan_diag_t *diags;
    size_t n;
    st_rc_t rc;

    rc = scanner_run(t->scanner, &t->ctx->scan_opts, scan_kind_of_path(path), data, len, a, &result,
                     &err);
    if (rc == ST_OK)
        rc = scan_result_diags(result, a, &diags, &n, &err);
    if (rc != ST_OK) {
        t->stats.failed++;
        if (opts->on_job_error != NULL)
            opts->on_job_error(opts->sink_ctx, path, &err);
        note_error(t, ST_EINTERNAL, &err);
        return;
    }
    if ((rc = opts->sink(opts->sink_ctx, path, diags, n, &err)) != ST_OK)
        note_error(t, rc, &err);
}

/* An E902 diagnostic for a file that could not be read (or is too big). */
static void sink_unreadable(exec_thread_t *t, const char *path, const st_err_t *why)
{
    const exec_opts_t *opts = t->ctx->opts;
    char message[ST_ERR_MSG_MAX + 32];
    scan_diag_t d = {.line = 1, .col = 1, .code = "E902", .message = message};
    st_err_t err = {0};
    st_rc_t rc;

    if (why->code == ST_ELIMIT)
        snprintf(message, sizeof message, "%s", why->msg);
    else
        snprintf(message, sizeof message, "cannot read file: %s", why->msg);
    t->stats.unreadable++;
    if ((rc = opts->sink(opts->sink_ctx, path, &d, 1, &err)) != ST_OK)
        note_error(t, rc, &err);
}

/* One job: read, scan, decode, hand over; its arena goes back after. */
static void run_job(exec_thread_t *t, const exec_file_t *f)
{
    const exec_opts_t *opts = t->ctx->opts;
    arena_t *a = arena_pool_get(t->ctx->pool);
    st_err_t err = {0};
    uint8_t *data;
    size_t len;
    st_rc_t rc;

    t->stats.files++;
    if (a == NULL) {
        st_fail(&err, ST_ENOMEM, "out of memory for the job's arena");
        t->stats.failed++;
        if (opts->on_job_error != NULL)
            opts->on_job_error(opts->sink_ctx, f->path, &err);
        note_error(t, ST_EINTERNAL, &err);
        return;
    }
    rc = exec_read_file(f->path, t->ctx->scan_opts.max_file_bytes, a, &data, &len, &err);
    if (rc == ST_OK) {
        t->stats.bytes += len;
        scan_and_sink(t, f->path, data, len, a);
    } else if (rc == ST_EIO || rc == ST_ELIMIT) {
        sink_unreadable(t, f->path, &err);
    } else {
        t->stats.failed++;
        if (opts->on_job_error != NULL)
            opts->on_job_error(opts->sink_ctx, f->path, &err);
        note_error(t, ST_EINTERNAL, &err);
    }
    arena_pool_put(t->ctx->pool, a);
}

/* Takes files from the shared index until none is left; merges results. */
static void *thread_main(void *arg)
{
    exec_thread_t *t = arg;
    exec_ctx_t *ctx = t->ctx;
    size_t i;

    while ((i = atomic_fetch_add_explicit(&ctx->next, 1, memory_order_relaxed)) < ctx->n)
        run_job(t, &ctx->order[i]);
    pthread_mutex_lock(&ctx->lock);
    if (ctx->rc == ST_OK && t->rc != ST_OK) {
        ctx->rc = t->rc;
        ctx->err = t->err;
    }
    ctx->stats.files += t->stats.files;
    ctx->stats.unreadable += t->stats.unreadable;
    ctx->stats.failed += t->stats.failed;
    ctx->stats.bytes += t->stats.bytes;
    pthread_mutex_unlock(&ctx->lock);
    return NULL;
}

/* Largest first; equal sizes by path, so the order is the same every run. */
static int by_size_desc(const void *pa, const void *pb)
{
    const exec_file_t *a = pa, *b = pb;

    if (a->size != b->size)
        return a->size > b->size ? -1 : 1;
    return strcmp(a->path, b->path);
}

/* How many threads to use: 0 runs in the calling thread. */
static unsigned choose_threads(const exec_opts_t *opts, const exec_file_t *files, size_t n)
{
    uint64_t total = 0;

    if (opts->jobs <= 1 || n <= 1)
        return 0;
    for (size_t i = 0; i < n && total < EXEC_INLINE_MAX_BYTES; i++)
        total += files[i].size;
    if (total < EXEC_INLINE_MAX_BYTES)
        return 0;
    return opts->jobs < n ? opts->jobs : (unsigned)n;
}

/* Makes one scanner per thread (at least one, for the calling thread). */
static st_rc_t make_threads(exec_ctx_t *ctx, unsigned count, exec_thread_t **out, st_err_t *err)
{
    exec_thread_t *threads = st_calloc(count, sizeof *threads);

    if (threads == NULL)
        return st_fail(err, ST_ENOMEM, "exec: out of memory");
    for (unsigned i = 0; i < count; i++) {
        threads[i].ctx = ctx;
        if ((threads[i].scanner = scanner_new()) == NULL) {
            for (unsigned j = 0; j < i; j++)
                scanner_destroy(&threads[j].scanner);
            st_free(threads);
            return st_fail(err, ST_ENOMEM, "exec: cannot create a scanner");
        }
    }
    *out = threads;
    return ST_OK;
}

/* Runs the jobs on count threads (count 0: in the calling thread). */
static void run_pool(exec_ctx_t *ctx, exec_thread_t *threads, unsigned count)
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
    ctx->stats.threads = started;
    st_free(ids);
}

/* The context of one run: sorted copy of the list, arena pool, lock. */
static st_rc_t ctx_init(exec_ctx_t *ctx, const exec_opts_t *opts, const exec_file_t *files,
                        size_t n, unsigned pool_size, st_err_t *err)
{
    exec_file_t *order;

    *ctx = (exec_ctx_t){.opts = opts};
    ctx->scan_opts.max_file_bytes =
        opts->max_file_bytes != 0 ? opts->max_file_bytes : SCAN_DEFAULT_MAX_FILE_BYTES;
    if ((order = st_calloc(n == 0 ? 1 : n, sizeof *order)) == NULL)
        return st_fail(err, ST_ENOMEM, "exec: out of memory");
    if (n > 0)
        memcpy(order, files, n * sizeof *order);
    qsort(order, n, sizeof *order, by_size_desc);
    ctx->order = order;
    ctx->n = n;
    atomic_init(&ctx->next, 0);
    ctx->pool = arena_pool_new(EXEC_ARENA_CHUNK, 0, pool_size);
    if (ctx->pool == NULL || pthread_mutex_init(&ctx->lock, NULL) != 0) {
        arena_pool_destroy(&ctx->pool);
        st_free(order);
        return st_fail(err, ST_ENOMEM, "exec: out of memory");
    }
    return ST_OK;
}

static void ctx_fini(exec_ctx_t *ctx)
{
    pthread_mutex_destroy(&ctx->lock);
    arena_pool_destroy(&ctx->pool);
    st_free((void *)ctx->order);
}

st_rc_t exec_run(const exec_opts_t *opts, const exec_file_t *files, size_t n, exec_stats_t *stats,
                 st_err_t *err)
{
    unsigned count = choose_threads(opts, files, n);
    unsigned made = count == 0 ? 1 : count;
    exec_thread_t *threads = NULL;
    exec_ctx_t ctx;
    st_rc_t rc;

    if (stats != NULL)
        *stats = (exec_stats_t){0};
    if ((rc = ctx_init(&ctx, opts, files, n, made, err)) != ST_OK)
        return rc;
    if ((rc = make_threads(&ctx, made, &threads, err)) != ST_OK) {
        ctx_fini(&ctx);
        return rc;
    }
    run_pool(&ctx, threads, count);
    for (unsigned i = 0; i < made; i++)
        scanner_destroy(&threads[i].scanner);
    st_free(threads);
    if (stats != NULL)
        *stats = ctx.stats;
    rc = ctx.rc;
    if (rc != ST_OK && err != NULL)
        *err = ctx.err;
    ctx_fini(&ctx);
    return rc;
}
