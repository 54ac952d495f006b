/* run_scan.c - the scan stage's driver, and the one way a scan result, a
 * cached one or an E902 goes into the project.
 *
 * Whatever the back end, a file's job takes the same path: its bytes are
 * read by run__read (from the disk or the blob store, hashed into its scan
 * key when the run has a cache: the key of the bytes scanned, never of
 * other bytes), it is scanned there or here, and run__done turns how it
 * ended into its result, or into an E902 made by run/e902.h. The driver
 * submits within the policy's window, polls, scans here what is given
 * back, and scans every job left when the back end gives up; a cancelled
 * run ends its jobs and returns at once. */
#include "run/run_private.h"

#include "common/alloc.h"
#include "run/e902.h"
#include "run/exec.h"
#include "worker/jobkey.h"

#include <stdlib.h>
#include <string.h>

#define RUN_HERE_ARENA_CHUNK ((size_t)1 << 20)

void run__cache_failed(run_t *self, const st_err_t *err)
{
    if (atomic_exchange(&self->cache_failed, true))
        return;
    if (self->opts.on_cache_error != NULL)
        self->opts.on_cache_error(self->opts.ctx, err);
}

static void note_error(run_t *self, st_rc_t rc, const st_err_t *err)
{
    pthread_mutex_lock(&self->lock);
    if (self->rc == ST_OK) {
        self->rc = rc;
        self->err = *err;
    }
    pthread_mutex_unlock(&self->lock);
}

static void finish(run_t *self, size_t i)
{
    if (self->state[i] == RUN_FILE_QUEUED)
        atomic_fetch_sub(&self->in_flight, 1);
    self->state[i] = RUN_FILE_DONE;
    atomic_fetch_add(&self->finished, 1);
}

/* Into the project (and the progress line). */
static void add(run_t *self, const exec_done_t *done)
{
    st_err_t err = {0};
    st_rc_t rc;

    progress_add(self->opts.progress, PROGRESS_SCANNED, 1);
    if (done->cached)
        progress_add(self->opts.progress, PROGRESS_CACHED, 1);
    if ((rc = project_add_scan(self->project, done, &err)) != ST_OK)
        note_error(self, rc, &err);
}

/* File i's E902; failure: a job of the run failed (the run's diagnostics
 * are then not stored whole). */
static void deliver_e902(run_t *self, size_t i, const char *message, bool failure)
{
    scan_diag_t d = e902_diag(message);
    exec_done_t done = {.id = i, .path = self->opts.files[i].path, .diags = &d, .n_diags = 1};

    if (failure) {
        atomic_fetch_add(&self->failed, 1);
        project_scan_failed(self->project);
    }
    add(self, &done);
    finish(self, i);
}

static void deliver_e902_why(run_t *self, size_t i, e902_why_t why, const char *detail, size_t len)
{
    char message[E902_MESSAGE_MAX];

    deliver_e902(self, i, e902_text(message, sizeof message, why, detail, len), true);
}

/* A job failed in this process for a reason of ours: named through
 * on_job_error (the run's result is then ST_EINTERNAL), or an E902. */
static void job_error(run_t *self, size_t i, const st_err_t *err)
{
    if (self->opts.on_job_error == NULL) {
        deliver_e902_why(self, i, E902_INTERNAL, err->msg, strlen(err->msg));
        return;
    }
    atomic_fetch_add(&self->failed, 1);
    project_scan_failed(self->project);
    self->opts.on_job_error(self->opts.ctx, self->opts.files[i].path, err);
    note_error(self, ST_EINTERNAL, err);
    finish(self, i);
}

/* The scan key of file i's bytes. */
st_rc_t run__scan_key(const run_t *self, scan_kind_t kind, span_t data, digest_t *key,
                      digest_t *content, st_err_t *err)
{
    jobkey_scan_t in = {.version = JOBKEY_ANALYZER_VERSION,
                        .config = self->config,
                        .kind = kind,
                        .target = self->scan.target};
    st_rc_t rc;

    if ((rc = digest_sha256(data.ptr, data.len, &in.content)) != ST_OK)
        return st_fail(err, rc, "SHA-256 failed");
    if (content != NULL)
        *content = in.content;
    return jobkey_scan(&in, key, err);
}

static st_rc_t key_of(run_t *self, size_t i, span_t data, st_err_t *err)
{
    st_rc_t rc;

    bool indexed = self->index != NULL && self->opts.files[i].content == NULL;

    if ((rc = run__scan_key(self, self->opts.files[i].kind, data, &self->keys[i],
                            indexed ? &self->content[i] : NULL, err)) != ST_OK)
        return rc;
    self->keyed[i] = true;
    if (indexed)
        self->hashed[i] = RUN_HASH_READ;
    return ST_OK;
}

/* A content given in memory, as exec_read_sized reads a file: copied into
 * a, NUL-terminated; ST_ELIMIT past max_bytes. */
static st_rc_t read_given(const run_file_t *f, size_t max_bytes, arena_t *a, uint8_t **data,
                          size_t *len, st_err_t *err)
{
    uint8_t *copy;

    if (f->content_len > max_bytes)
        return st_fail(err, ST_ELIMIT,
                       "file too large: more than %zu bytes (limit %zu, see --max-file-size)",
                       max_bytes, max_bytes);
    if ((copy = arena_alloc(a, f->content_len + 1)) == NULL)
        return st_fail(err, ST_ENOMEM, "out of memory reading %s", f->path);
    memcpy(copy, f->content, f->content_len);
    copy[f->content_len] = '\0';
    *data = copy;
    *len = f->content_len;
    return ST_OK;
}

bool run__read(void *ctx, size_t i, arena_t *a, span_t *data)
{
    run_t *self = ctx;
    const run_file_t *f = &self->opts.files[i];
    st_err_t err = {0};
    uint8_t *bytes;
    size_t len;
    st_rc_t rc;

    if (self->opts.source == RUN_FROM_BLOBS) {
        if (self->opts.cache == NULL ||
            cas_get(self->opts.cache, CAS_BLOBS, &f->digest, a, data, &err) != ST_OK) {
            deliver_e902_why(self, i, E902_NO_BLOB, NULL, 0);
            return false;
        }
        return true;
    }
    if (f->content != NULL)
        rc = read_given(f, self->scan.max_file_bytes, a, &bytes, &len, &err);
    else
        rc = exec_read_sized(f->path, &f->size, self->scan.max_file_bytes, a, &bytes, &len, &err);
    if (rc == ST_EIO || rc == ST_ELIMIT) {
        char message[E902_MESSAGE_MAX];
        atomic_fetch_add(&self->unreadable, 1);
        deliver_e902(self, i, e902_read_text(message, sizeof message, rc, &err), false);
        return false;
    }
    if (rc == ST_OK)
        atomic_fetch_add(&self->bytes_read, len);
    *data = (span_t){.ptr = bytes, .len = len};
    if (rc == ST_OK && self->opts.cache != NULL)
        rc = key_of(self, i, *data, &err);
    if (rc != ST_OK) {
        job_error(self, i, &err);
        return false;
    }
    return true;
}

bool run__deliver(run_t *self, size_t i, span_t result, bool cached, arena_t *a)
{
    exec_done_t done = {.id = i,
                        .path = self->opts.files[i].path,
                        .result = result,
                        .cached = cached,
                        .has_key = self->keyed[i],
                        .key = self->keys[i]};
    st_err_t err = {0};

    done.transient = !cached && scan_result_transient(result);
    if (scan_result_diags(result, a, (scan_diag_t **)&done.diags, &done.n_diags, &err) != ST_OK) {
        if (cached)
            return false; /* scanned again */
        deliver_e902_why(self, i, E902_BAD_RESULT, err.msg, strlen(err.msg));
        return true;
    }
    if (!cached && done.has_key && !done.transient && self->opts.cache != NULL &&
        cas_put(self->opts.cache, CAS_RESULTS, &done.key, result.ptr, result.len, false, &err) !=
            ST_OK)
        run__cache_failed(self, &err);
    /* a library file's scan serves every project of the user; a failure
     * here costs another project a scan, nothing more */
    if (!cached && done.has_key && !done.transient && self->shared != NULL &&
        self->opts.files[i].library)
        (void)cas_put(self->shared, CAS_RESULTS, &done.key, result.ptr, result.len, false, &err);
    if (!cached && done.has_key && !done.transient && self->opts.cache != NULL)
        rcache_put(self->opts.remote, &done.key, result.ptr, result.len);
    if (cached)
        atomic_fetch_add(&self->cached, 1);
    if (cached && self->opts.files[i].context)
        atomic_fetch_add(&self->context_cached, 1);
    add(self, &done);
    finish(self, i);
    return true;
}

/* File i scanned by the driver's thread; false when it could not be. */
static bool scan_here(run_t *self, size_t i)
{
    span_t data, result;
    st_err_t err = {0};

    if (self->here == NULL)
        self->here = arena_new(RUN_HERE_ARENA_CHUNK);
    if (self->scanner == NULL)
        self->scanner = scanner_new();
    if (self->here != NULL)
        arena_reset(self->here);
    if (self->here == NULL || self->scanner == NULL) {
        deliver_e902_why(self, i, E902_INTERNAL, "out of memory", strlen("out of memory"));
        return false;
    }
    if (!run__read(self, i, self->here, &data))
        return false;
    if (scanner_run(self->scanner, &self->scan, self->opts.files[i].kind, data.ptr, data.len,
                    self->here, &result, &err) != ST_OK) {
        deliver_e902_why(self, i, E902_INTERNAL, err.msg, strlen(err.msg));
        return false;
    }
    atomic_fetch_add(&self->scanned, 1);
    run__deliver(self, i, result, false, self->here);
    return true;
}

/* sink.done: how job i ended, into its result. */
static void run_done(void *ctx, size_t i, backend_status_t status, span_t result, arena_t *a)
{
    run_t *self = ctx;
    st_err_t err = {0};

    if (self->state[i] == RUN_FILE_DONE)
        return; /* ended already (scanned here after the back end gave up) */
    switch (status) {
    case BACKEND_OK:
        atomic_fetch_add(&self->scanned, 1);
        run__deliver(self, i, result, false, a);
        break;
    case BACKEND_ERROR:
        st_fail(&err, ST_EINTERNAL, "%.*s", (int)(result.len < 200 ? result.len : 200),
                (const char *)result.ptr);
        job_error(self, i, &err);
        break;
    case BACKEND_FAILED:
    case BACKEND_LOST:
        deliver_e902_why(self, i, E902_INTERNAL, (const char *)result.ptr, result.len);
        break;
    case BACKEND_RUN_HERE:
        (void)scan_here(self, i);
        break;
    case BACKEND_STOPPED:
        finish(self, i);
        break;
    }
}

backend_sink_t run__sink(run_t *self)
{
    return (backend_sink_t){.read = run__read,
                            .done = run_done,
                            .ctx = self,
                            .scan = self->scan,
                            .cancel = self->opts.cancel};
}

/* Largest first (the long jobs start early, the short ones fill the end);
 * equal sizes by path, so that the order is the same every run. */
int run__larger_first(const void *pa, const void *pb, void *ctx)
{
    const run_file_t *files = ctx;
    const run_file_t *a = &files[*(const size_t *)pa], *b = &files[*(const size_t *)pb];

    if (a->size != b->size)
        return a->size > b->size ? -1 : 1;
    return strcmp(a->path, b->path);
}

static bool cancelled(const run_t *self)
{
    return self->opts.cancel != NULL && atomic_load(self->opts.cancel);
}

/* Whether a result's way into the project failed (then the run stops). */
static bool sink_failed(run_t *self)
{
    bool failed;

    pthread_mutex_lock(&self->lock);
    failed = self->rc != ST_OK;
    pthread_mutex_unlock(&self->lock);
    return failed;
}

/* Cancelled: the back end ends its jobs, which are polled out. */
static void drain_cancelled(run_t *self, backend_t *b)
{
    st_err_t err = {0};

    b->ops->cancel(b->self);
    for (int turns = 0; turns < 100 && atomic_load(&self->in_flight) > 0; turns++)
        if (b->ops->poll(b->self, 10, &err) != ST_OK)
            break;
}

st_rc_t run__scan_on(run_t *self, backend_t *b, st_err_t *err)
{
    const backend_ops_t *ops = b->ops;
    backend_sink_t sink = run__sink(self);
    size_t *order = self->misses, n = self->n_misses, next = 0, last = n;
    size_t base = atomic_load(&self->finished);
    st_err_t e = {0};

    qsort_r(order, n, sizeof *order, run__larger_first, (void *)self->opts.files);
    bool started = ops->start(b->self, &sink, &e) == ST_OK; /* else all here */

    while (started && atomic_load(&self->finished) - base < n && !sink_failed(self)) {
        backend_stats_t st;
        size_t pending, want;
        int wait_ms;

        if (cancelled(self)) {
            drain_cancelled(self, b);
            return st_fail(err, ST_EIO, "stopped");
        }
        ops->stats(b->self, &st);
        pending = atomic_load(&self->in_flight);
        want = policy_window(ops->kind, st.workers, st.slots, pending);
        while (next < last && pending < want) {
            size_t i = order[next++];
            pending++;
            self->state[i] = RUN_FILE_QUEUED;
            atomic_fetch_add(&self->in_flight, 1);
            if (ops->submit(b->self, i, self->opts.files[i].kind, self->opts.files[i].size, &e) !=
                    ST_OK &&
                self->state[i] != RUN_FILE_DONE)
                deliver_e902_why(self, i, E902_INTERNAL, e.msg, strlen(e.msg));
            if (policy_one_per_turn(ops->kind, st.workers))
                break;
        }
        if (atomic_load(&self->finished) - base >= n)
            break;
        wait_ms = policy_poll_ms(ops->kind, st.workers, next < last && pending < want);
        if (policy_scan_early(ops->kind, st.ever_ready, next < last, wait_ms)) {
            if (scan_here(self, order[--last]))
                atomic_fetch_add(&self->early, 1);
            wait_ms = 0;
            if (atomic_load(&self->finished) - base >= n)
                break;
        }
        if (ops->poll(b->self, wait_ms, &e) != ST_OK)
            break; /* given up: the rest here */
        ops->stats(b->self, &st);
        if (st.gave_up)
            break;
    }
    if (cancelled(self)) {
        drain_cancelled(self, b);
        return st_fail(err, ST_EIO, "stopped");
    }
    for (size_t k = 0; k < n && !sink_failed(self); k++)
        if (self->state[order[k]] != RUN_FILE_DONE)
            (void)scan_here(self, order[k]);
    return ST_OK;
}
