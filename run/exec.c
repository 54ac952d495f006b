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
#include "run/exec.h"

#include "common/alloc.h"
#include "common/arena.h"
#include "worker/jobkey.h"

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

/* Reading and hashing runs at memory speed (SHA-256 at about 1-2 GB/s with
 * the SHA extensions this host has, reads from the page cache faster), so
 * thread start-up pays off only past some 100 KB: 2 threads at 45 us to
 * start save half of the hash time from about 90 KB. Not measured apart
 * from bench/warm_bench.sh's totals; a first estimate. */
const uint64_t EXEC_HASH_INLINE_MAX_BYTES = 128 * 1024;

#define EXEC_ARENA_CHUNK ((size_t)1 << 20)

/* Where a file stands in a cached run. */
typedef enum {
    ITEM_DONE = 0, /* handled: E902, failed, or result sunk */
    ITEM_KEYED = 1 /* read and hashed: key is its scan job key */
} item_state_t;

typedef struct exec_thread exec_thread_t;

typedef struct {
    const exec_opts_t *opts;
    scan_opts_t scan_opts;
    digest_t config;          /* jobkey_scan_config(scan_opts) */
    const exec_file_t *order; /* files, largest first */
    size_t n;
    digest_t *keys;     /* cached runs: key of order[i] */
    uint8_t *state;     /* cached runs: item_state_t of order[i] */
    const size_t *todo; /* the indices into order this phase works on */
    size_t n_todo;
    void (*job)(exec_thread_t *t, size_t i); /* the phase's job, on order[i] */
    atomic_size_t next;
    atomic_bool cache_failed; /* on_cache_error was called */
    arena_pool_t *pool;
    pthread_mutex_t lock; /* guards rc, err and stats */
    st_rc_t rc;
    st_err_t err;
    exec_stats_t stats;
} exec_ctx_t;

struct exec_thread {
    exec_ctx_t *ctx;
    scanner_t *scanner; /* NULL in the hashing phase */
    st_rc_t rc;         /* first error of this thread's jobs */
    st_err_t err;
    exec_stats_t stats;
};

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

/* exec_read_file, with the file's size when the caller knows it (size_hint
 * not NULL: the walk stat'ed every file already), which saves an fstat per
 * file. A directory then fails in read() with the same EISDIR. The size is
 * only a first buffer size: the file is read to its end either way. */
static st_rc_t read_path(const char *path, const uint64_t *size_hint, size_t max_bytes, arena_t *a,
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
    rc = read_fd(fd, hint, max_bytes, a, &buf, &got, err);
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
    return read_path(path, NULL, max_bytes, a, data, len, err);
}

/* Remembers the first error of a thread. */
static void note_error(exec_thread_t *t, st_rc_t rc, const st_err_t *err)
{
    if (t->rc == ST_OK) {
        t->rc = rc;
        t->err = *err;
    }
}

/* A job failed for a reason of ours: named, counted, and the run goes on. */
static void job_failed(exec_thread_t *t, const char *path, const st_err_t *err)
{
    const exec_opts_t *opts = t->ctx->opts;

    t->stats.failed++;
    if (opts->on_job_error != NULL)
        opts->on_job_error(opts->sink_ctx, path, err);
    note_error(t, ST_EINTERNAL, err);
}

/* The cache failed: told once per run, never an error of the run. */
static void cache_failed(exec_ctx_t *ctx, const st_err_t *err)
{
    if (atomic_exchange(&ctx->cache_failed, true))
        return;
    if (ctx->opts->on_cache_error != NULL)
        ctx->opts->on_cache_error(ctx->opts->sink_ctx, err);
}

/* The scan job key of data, a file of the given kind. */
static st_rc_t key_of(const exec_ctx_t *ctx, scan_kind_t kind, const uint8_t *data, size_t len,
                      digest_t *key, st_err_t *err)
{
    jobkey_scan_t in = {.version = JOBKEY_ANALYZER_VERSION, .config = ctx->config, .kind = kind};

    if (digest_sha256(data, len, &in.content) != ST_OK)
        return st_fail(err, ST_EINTERNAL, "SHA-256 of the file failed");
    return jobkey_scan(&in, key, err);
}

/* Stores a scan result under its key. */
static void store_result(exec_thread_t *t, const digest_t *key, span_t result)
{
    exec_ctx_t *ctx = t->ctx;
    st_err_t err = {0};

    if (cas_put(ctx->opts->cache, CAS_RESULTS, key, result.ptr, result.len, false, &err) != ST_OK) {
        cache_failed(ctx, &err);
        return;
    }
    t->stats.stored++;
}

/* Scans data, stores the result when caching, hands the decoded diagnostics
 * to the sink. The key is computed again from the bytes scanned, not taken
 * from the hashing phase: the file may have changed in between, and a result
 * must never be stored under the key of other bytes. */
static void scan_and_sink(exec_thread_t *t, const exec_file_t *f, const uint8_t *data, size_t len,
                          arena_t *a)
{
    const exec_opts_t *opts = t->ctx->opts;
    scan_kind_t kind = scan_kind_of_path(f->path);
    exec_done_t done = {.id = f->id, .path = f->path};
    st_err_t err = {0};
    st_rc_t rc;

    t->stats.scanned++;
    rc = scanner_run(t->scanner, &t->ctx->scan_opts, kind, data, len, a, &done.result, &err);
    if (rc == ST_OK)
        rc = scan_result_diags(done.result, a, (scan_diag_t **)&done.diags, &done.n_diags, &err);
    if (rc == ST_OK && opts->cache != NULL)
        rc = key_of(t->ctx, kind, data, len, &done.key, &err);
    if (rc != ST_OK) {
        job_failed(t, f->path, &err);
        return;
    }
    if (opts->cache != NULL) {
        done.has_key = true;
        store_result(t, &done.key, done.result);
    }
    if ((rc = opts->sink(opts->sink_ctx, &done, &err)) != ST_OK)
        note_error(t, rc, &err);
}

/* An E902 diagnostic for a file that could not be read (or is too big). */
static void sink_unreadable(exec_thread_t *t, const exec_file_t *f, const st_err_t *why)
{
    const exec_opts_t *opts = t->ctx->opts;
    char message[ST_ERR_MSG_MAX + 32];
    scan_diag_t d = {.line = 1, .col = 1, .code = "E902", .message = message};
    exec_done_t done = {.id = f->id, .path = f->path, .diags = &d, .n_diags = 1};
    st_err_t err = {0};
    st_rc_t rc;

    if (why->code == ST_ELIMIT)
        snprintf(message, sizeof message, "%s", why->msg);
    else
        snprintf(message, sizeof message, "cannot read file: %s", why->msg);
    t->stats.unreadable++;
    if ((rc = opts->sink(opts->sink_ctx, &done, &err)) != ST_OK)
        note_error(t, rc, &err);
}

/* Reads order[i] into a job arena; false when the job is over (E902 or a
 * failure, already reported). The caller puts *a back. */
static bool read_job(exec_thread_t *t, const exec_file_t *f, arena_t **a, uint8_t **data,
                     size_t *len)
{
    st_err_t err = {0};
    st_rc_t rc;

    if ((*a = arena_pool_get(t->ctx->pool)) == NULL) {
        st_fail(&err, ST_ENOMEM, "out of memory for the job's arena");
        job_failed(t, f->path, &err);
        return false;
    }
    rc = read_path(f->path, &f->size, t->ctx->scan_opts.max_file_bytes, *a, data, len, &err);
    if (rc == ST_OK) {
        t->stats.bytes += *len;
        return true;
    }
    if (rc == ST_EIO || rc == ST_ELIMIT)
        sink_unreadable(t, f, &err);
    else
        job_failed(t, f->path, &err);
    return false;
}

/* A scan job: read, scan, (store,) decode, hand over. */
static void scan_job(exec_thread_t *t, size_t i)
{
    const exec_file_t *f = &t->ctx->order[i];
    arena_t *a = NULL;
    uint8_t *data;
    size_t len;

    if (t->ctx->state == NULL)
        t->stats.files++; /* cached runs counted the file when hashing it */
    if (read_job(t, f, &a, &data, &len))
        scan_and_sink(t, f, data, len, a);
    if (a != NULL)
        arena_pool_put(t->ctx->pool, a);
}

/* A hashing job (cached runs): read, compute the key, keep only the key. */
static void key_job(exec_thread_t *t, size_t i)
{
    exec_ctx_t *ctx = t->ctx;
    const exec_file_t *f = &ctx->order[i];
    arena_t *a = NULL;
    st_err_t err = {0};
    uint8_t *data;
    size_t len;

    t->stats.files++;
    if (read_job(t, f, &a, &data, &len)) {
        if (key_of(ctx, scan_kind_of_path(f->path), data, len, &ctx->keys[i], &err) == ST_OK)
            ctx->state[i] = ITEM_KEYED;
        else
            job_failed(t, f->path, &err);
    }
    if (a != NULL)
        arena_pool_put(ctx->pool, a);
}

/* Takes jobs from the shared index until none is left; merges results. */
static void *thread_main(void *arg)
{
    exec_thread_t *t = arg;
    exec_ctx_t *ctx = t->ctx;
    size_t i;

    while ((i = atomic_fetch_add_explicit(&ctx->next, 1, memory_order_relaxed)) < ctx->n_todo)
        ctx->job(t, ctx->todo[i]);
    pthread_mutex_lock(&ctx->lock);
    if (ctx->rc == ST_OK && t->rc != ST_OK) {
        ctx->rc = t->rc;
        ctx->err = t->err;
    }
    ctx->stats.files += t->stats.files;
    ctx->stats.unreadable += t->stats.unreadable;
    ctx->stats.failed += t->stats.failed;
    ctx->stats.scanned += t->stats.scanned;
    ctx->stats.stored += t->stats.stored;
    ctx->stats.bytes += t->stats.bytes;
    t->stats = (exec_stats_t){0};
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

/* How many threads the phase should use: 0 runs in the calling thread. */
static unsigned choose_threads(const exec_ctx_t *ctx, uint64_t inline_max)
{
    unsigned jobs = ctx->opts->jobs;
    uint64_t total = 0;

    if (jobs <= 1 || ctx->n_todo <= 1)
        return 0;
    for (size_t i = 0; i < ctx->n_todo && total < inline_max; i++)
        total += ctx->order[ctx->todo[i]].size;
    if (total < inline_max)
        return 0;
    return jobs < ctx->n_todo ? jobs : (unsigned)ctx->n_todo;
}

static void free_threads(exec_thread_t **threads_p, unsigned count)
{
    for (unsigned i = 0; *threads_p != NULL && i < count; i++)
        scanner_destroy(&(*threads_p)[i].scanner);
    st_free(*threads_p);
    *threads_p = NULL;
}

/* Makes count thread states (at least one, for the calling thread), each
 * with a scanner when the phase scans. */
static st_rc_t make_threads(exec_ctx_t *ctx, unsigned count, bool scanners, exec_thread_t **out,
                            st_err_t *err)
{
    exec_thread_t *threads = st_calloc(count, sizeof *threads);

    if (threads == NULL)
        return st_fail(err, ST_ENOMEM, "exec: out of memory");
    for (unsigned i = 0; i < count; i++) {
        threads[i].ctx = ctx;
        if (scanners && (threads[i].scanner = scanner_new()) == NULL) {
            free_threads(&threads, i);
            return st_fail(err, ST_ENOMEM, "exec: cannot create a scanner");
        }
    }
    *out = threads;
    return ST_OK;
}

/* Runs the phase's jobs on count threads (count 0: in the calling thread);
 * the number started. */
static unsigned run_pool(exec_thread_t *threads, unsigned count)
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

/* Runs job over order[todo[0..n_todo)]; the threads started, through
 * *started. ST_ENOMEM when the threads' state cannot be made (no job ran). */
static st_rc_t run_phase(exec_ctx_t *ctx, void (*job)(exec_thread_t *, size_t), const size_t *todo,
                         size_t n_todo, uint64_t inline_max, unsigned *started, st_err_t *err)
{
    exec_thread_t *threads = NULL;
    unsigned count, made;
    st_rc_t rc;

    *started = 0;
    if (n_todo == 0)
        return ST_OK; /* nothing to do: no thread, no scanner */
    ctx->job = job;
    ctx->todo = todo;
    ctx->n_todo = n_todo;
    atomic_store(&ctx->next, 0);
    count = choose_threads(ctx, inline_max);
    made = count == 0 ? 1 : count;
    if ((rc = make_threads(ctx, made, job == scan_job, &threads, err)) != ST_OK)
        return rc;
    *started = run_pool(threads, count);
    free_threads(&threads, made);
    return ST_OK;
}

/* Hands a cached result's diagnostics to the sink; false when the result
 * does not decode (then the file is scanned again). */
static bool sink_cached(exec_ctx_t *ctx, const exec_file_t *f, const digest_t *key, span_t value,
                        arena_t *a)
{
    const exec_opts_t *opts = ctx->opts;
    exec_done_t done = {.id = f->id,
                        .path = f->path,
                        .result = value,
                        .cached = true,
                        .has_key = true,
                        .key = *key};
    st_err_t err = {0};
    st_rc_t rc;

    if (scan_result_diags(value, a, (scan_diag_t **)&done.diags, &done.n_diags, &err) != ST_OK) {
        ctx->stats.corrupt++;
        return false;
    }
    ctx->stats.cached++;
    if ((rc = opts->sink(opts->sink_ctx, &done, &err)) != ST_OK && ctx->rc == ST_OK) {
        ctx->rc = rc;
        ctx->err = err;
    }
    return true;
}

/* Looks every keyed file up in one batch; sinks the hits. On return
 * todo[0..*n_miss) are the files left to scan. */
static st_rc_t lookup_all(exec_ctx_t *ctx, size_t *todo, size_t *n_miss, st_err_t *err)
{
    size_t n_keyed = 0, hits = 0, n_left = 0;
    digest_t *keys = st_calloc(ctx->n == 0 ? 1 : ctx->n, sizeof *keys);
    span_t *values = st_calloc(ctx->n == 0 ? 1 : ctx->n, sizeof *values);
    arena_t *batch = arena_new(EXEC_ARENA_CHUNK), *scratch = arena_new(0);
    st_err_t cerr = {0};
    st_rc_t rc = ST_OK;

    if (keys == NULL || values == NULL || batch == NULL || scratch == NULL) {
        rc = st_fail(err, ST_ENOMEM, "exec: out of memory");
        goto done;
    }
    for (size_t i = 0; i < ctx->n; i++)
        if (ctx->state[i] == ITEM_KEYED)
            keys[n_keyed] = ctx->keys[i], todo[n_keyed++] = i;
    if (n_keyed > 0 && cas_get_many(ctx->opts->cache, CAS_RESULTS, keys, n_keyed, batch, values,
                                    &hits, &cerr) != ST_OK) {
        cache_failed(ctx, &cerr);
        hits = 0;
    }
    for (size_t k = 0; k < n_keyed; k++) {
        size_t i = todo[k];

        if (hits > 0 && values[k].ptr != NULL &&
            sink_cached(ctx, &ctx->order[i], &keys[k], values[k], scratch))
            ctx->state[i] = ITEM_DONE;
        else
            todo[n_left++] = i;
        arena_reset(scratch);
    }
    *n_miss = n_left;
done:
    arena_destroy(&scratch);
    arena_destroy(&batch);
    st_free(values);
    st_free(keys);
    return rc;
}

/* Offers every key to the keyed callback; true when it knows the results. */
static bool whole_known(exec_ctx_t *ctx)
{
    exec_keyed_t *k = st_calloc(ctx->n == 0 ? 1 : ctx->n, sizeof *k);
    size_t keyed = 0;
    bool known;

    if (k == NULL)
        return false; /* then the normal way */
    for (size_t i = 0; i < ctx->n; i++) {
        bool ok = ctx->state[i] == ITEM_KEYED;
        k[i] = (exec_keyed_t){.id = ctx->order[i].id, .ok = ok};
        if (ok) {
            k[i].key = ctx->keys[i];
            keyed++;
        }
    }
    known = ctx->opts->keyed(ctx->opts->sink_ctx, k, ctx->n);
    st_free(k);
    if (known) {
        ctx->stats.cached += keyed;
        ctx->stats.whole = true;
    }
    return known;
}

/* A cached run: hash everything, look up in one batch, scan the misses. */
static st_rc_t run_cached(exec_ctx_t *ctx, st_err_t *err)
{
    size_t *todo = st_calloc(ctx->n == 0 ? 1 : ctx->n, sizeof *todo);
    size_t n_miss = 0;
    st_rc_t rc;

    ctx->keys = st_calloc(ctx->n == 0 ? 1 : ctx->n, sizeof *ctx->keys);
    ctx->state = st_calloc(ctx->n == 0 ? 1 : ctx->n, 1);
    if (todo == NULL || ctx->keys == NULL || ctx->state == NULL) {
        rc = st_fail(err, ST_ENOMEM, "exec: out of memory");
        goto done;
    }
    for (size_t i = 0; i < ctx->n; i++)
        todo[i] = i;
    rc = run_phase(ctx, key_job, todo, ctx->n, EXEC_HASH_INLINE_MAX_BYTES, &ctx->stats.hash_threads,
                   err);
    if (rc == ST_OK && ctx->opts->keyed != NULL && whole_known(ctx))
        goto done;
    if (rc == ST_OK)
        rc = lookup_all(ctx, todo, &n_miss, err);
    if (rc == ST_OK && ctx->opts->misses != NULL) {
        for (size_t k = 0; k < n_miss; k++)
            ctx->opts->misses[k] = ctx->order[todo[k]].id;
        *ctx->opts->n_misses = n_miss;
    } else if (rc == ST_OK) {
        rc =
            run_phase(ctx, scan_job, todo, n_miss, EXEC_INLINE_MAX_BYTES, &ctx->stats.threads, err);
    }
done:
    st_free(todo);
    st_free(ctx->keys);
    st_free(ctx->state);
    ctx->keys = NULL;
    ctx->state = NULL;
    return rc;
}

/* An uncached run: one phase that reads and scans. */
static st_rc_t run_uncached(exec_ctx_t *ctx, st_err_t *err)
{
    size_t *todo = st_calloc(ctx->n == 0 ? 1 : ctx->n, sizeof *todo);
    st_rc_t rc;

    if (todo == NULL)
        return st_fail(err, ST_ENOMEM, "exec: out of memory");
    if (ctx->opts->misses != NULL) {
        for (size_t i = 0; i < ctx->n; i++)
            ctx->opts->misses[i] = ctx->order[i].id;
        *ctx->opts->n_misses = ctx->n;
        st_free(todo);
        return ST_OK;
    }
    for (size_t i = 0; i < ctx->n; i++)
        todo[i] = i;
    rc = run_phase(ctx, scan_job, todo, ctx->n, EXEC_INLINE_MAX_BYTES, &ctx->stats.threads, err);
    st_free(todo);
    return rc;
}

/* The context of one run: sorted copy of the list, arena pool, lock. */
static st_rc_t ctx_init(exec_ctx_t *ctx, const exec_opts_t *opts, const exec_file_t *files,
                        size_t n, st_err_t *err)
{
    unsigned pool_size = opts->jobs == 0 ? 1 : opts->jobs;
    exec_file_t *order;

    *ctx = (exec_ctx_t){.opts = opts};
    ctx->scan_opts.max_file_bytes =
        opts->max_file_bytes != 0 ? opts->max_file_bytes : SCAN_DEFAULT_MAX_FILE_BYTES;
    if (opts->cache != NULL && jobkey_scan_config(&ctx->scan_opts, &ctx->config) != ST_OK)
        return st_fail(err, ST_EINTERNAL, "exec: SHA-256 of the configuration failed");
    if ((order = st_calloc(n == 0 ? 1 : n, sizeof *order)) == NULL)
        return st_fail(err, ST_ENOMEM, "exec: out of memory");
    if (n > 0)
        memcpy(order, files, n * sizeof *order);
    qsort(order, n, sizeof *order, by_size_desc);
    ctx->order = order;
    ctx->n = n;
    atomic_init(&ctx->next, 0);
    atomic_init(&ctx->cache_failed, false);
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
    exec_ctx_t ctx;
    st_rc_t rc;

    if (stats != NULL)
        *stats = (exec_stats_t){0};
    if (opts->misses != NULL)
        *opts->n_misses = 0;
    if ((rc = ctx_init(&ctx, opts, files, n, err)) != ST_OK)
        return rc;
    if (opts->cache != NULL)
        rc = run_cached(&ctx, err);
    else
        rc = run_uncached(&ctx, err);
    if (stats != NULL)
        *stats = ctx.stats;
    if (rc == ST_OK) {
        rc = ctx.rc;
        if (rc != ST_OK && err != NULL)
            *err = ctx.err;
    }
    ctx_fini(&ctx);
    return rc;
}
