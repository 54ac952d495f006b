/* run.c - the stages of a run, in order (see run.h).
 *
 * The run owns the per-file state every stage reads: the scan key (from
 * the digest stage), where the file stands (no result, queued on a back
 * end, done), and which files the lookups left to scan. The scan stage's
 * driver and the single path of results into the project are in
 * run/run_scan.c; this file decides which back end scans (run/policy.h),
 * looks the cache up, and hands the check stage its back end. */
#include "run/run_private.h"

#include "common/clock.h"
#include "common/alloc.h"
#include "run/exec.h"
#include "worker/jobkey.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <time.h>

/* Keys per cas_get_many: the values of one batch are in memory at once. */
#define RUN_LOOKUP_BATCH 4096
#define RUN_ARENA_CHUNK ((size_t)1 << 20)

static size_t at_least_one(size_t n)
{
    return n == 0 ? 1 : n;
}

/* The stat index of a run that reads files with a cache (run/statidx.h):
 * loaded, with the per-file arrays; the files' own stamps are used only
 * when the caller said when they were taken. False when out of memory. */
static bool index_open(run_t *self)
{
    const run_opts_t *o = &self->opts;
    size_t n = at_least_one(o->n_files);

    if (o->index_dir == NULL || o->cache == NULL || o->source != RUN_FROM_FILES)
        return true;
    self->index_since_ns =
        o->stamped_since_ns != 0 ? o->stamped_since_ns : clock_wall_ms() * 1000000u;
    if ((self->stamps = st_calloc(n, sizeof *self->stamps)) == NULL ||
        (self->content = st_calloc(n, sizeof *self->content)) == NULL ||
        (self->hashed = st_calloc(n, sizeof *self->hashed)) == NULL ||
        statidx_project_id(o->roots, o->n_roots, &self->index_id) != ST_OK ||
        (self->index = statidx_load(o->index_dir, &self->index_id)) == NULL)
        return false;
    for (size_t i = 0; o->stamped_since_ns != 0 && i < o->n_files; i++)
        self->stamps[i] = o->files[i].stamp;
    return true;
}

run_t *run_new(const run_opts_t *opts, st_err_t *err)
{
    run_t *self = st_calloc(1, sizeof *self);
    size_t n = opts->n_files;

    if (self == NULL) {
        st_fail(err, ST_ENOMEM, "out of memory");
        return NULL;
    }
    self->opts = *opts;
    self->scan.max_file_bytes =
        opts->max_file_bytes != 0 ? opts->max_file_bytes : SCAN_DEFAULT_MAX_FILE_BYTES;
    self->scan.target = scan_target_resolve(&opts->target);
    self->scan.parse_timeout_us = opts->parse_timeout_us;
    self->keys = st_calloc(at_least_one(n), sizeof *self->keys);
    self->keyed = st_calloc(at_least_one(n), sizeof *self->keyed);
    self->state = st_calloc(at_least_one(n), sizeof *self->state);
    self->misses = st_calloc(at_least_one(n), sizeof *self->misses);
    if (opts->paths == NULL) {
        self->paths = st_calloc(at_least_one(n), sizeof *self->paths);
        for (size_t i = 0; self->paths != NULL && i < n; i++)
            self->paths[i] = opts->files[i].path;
        self->opts.paths = self->paths;
        self->opts.n_paths = n;
    }
    if (pthread_mutex_init(&self->lock, NULL) != 0) {
        self->opts.paths = NULL; /* the lock is not to be destroyed */
        st_free(self->paths);
        st_free(self->keys);
        st_free(self->keyed);
        st_free(self->state);
        st_free(self->misses);
        st_free(self);
        st_fail(err, ST_ENOMEM, "out of memory for a mutex");
        return NULL;
    }
    if (self->keys == NULL || self->keyed == NULL || self->state == NULL || self->misses == NULL ||
        self->opts.paths == NULL ||
        (self->project = project_new(self->opts.paths, self->opts.n_paths)) == NULL) {
        run_destroy(&self);
        st_fail(err, ST_ENOMEM, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        if (opts->files[i].context)
            project_set_context(self->project, i);
    project_set_env(self->project, opts->env_found, opts->python);
    if (opts->cache != NULL && jobkey_scan_config(&self->scan, &self->config) != ST_OK)
        self->opts.cache = NULL; /* no key: as without a cache */
    if (opts->cost_dir == NULL || policy_cost_load(opts->cost_dir, &self->cost, NULL) != ST_OK)
        self->cost = (policy_cost_t){0}; /* nothing measured yet: the defaults */
    if (!index_open(self)) {
        run_destroy(&self);
        st_fail(err, ST_ENOMEM, "out of memory");
        return NULL;
    }
    return self;
}

void run_destroy(run_t **self_p)
{
    run_t *self = self_p != NULL ? *self_p : NULL;

    if (self == NULL)
        return;
    backend_stop(&self->workers, NULL);
    project_destroy(&self->project);
    scanner_destroy(&self->scanner);
    arena_destroy(&self->here);
    pthread_mutex_destroy(&self->lock);
    st_free(self->keys);
    st_free(self->keyed);
    st_free(self->state);
    st_free(self->misses);
    st_free(self->paths);
    st_free(self->files);
    cas_close(&self->shared);
    statidx_destroy(&self->index);
    st_free(self->stamps);
    st_free(self->content);
    st_free(self->hashed);
    st_free(self);
    *self_p = NULL;
}

project_t *run_project(run_t *self)
{
    return self->project;
}

/* Whether the library file at path still has the scan key key (a cached
 * whole run's): read and hashed again. */
static bool lib_same(void *ctx, const char *path, const digest_t *key)
{
    const run_t *self = ctx;
    arena_t *a = arena_new(0);
    uint8_t *bytes;
    size_t len;
    digest_t now;
    bool same = false;

    if (a != NULL &&
        exec_read_file(path, self->scan.max_file_bytes, a, &bytes, &len, NULL) == ST_OK &&
        run__scan_key(self, scan_kind_of_path(path), (span_t){bytes, len}, &now, NULL, NULL) ==
            ST_OK)
        same = digest_eq(&now, key);
    arena_destroy(&a);
    return same;
}

/* Whether the library files of a cached whole run are still what the
 * run's finder (a coordinator's client) gives for their names: one round
 * of every name, each answer a file at the same path whose content digest
 * gives the same scan key. */
static bool lib_same_all(void *ctx, const char *const *names, const char *const *paths,
                         const digest_t *keys, size_t n)
{
    const run_t *self = ctx;
    const lib_finder_t *f = self->opts.finder;
    lib_name_t *ask = st_calloc(at_least_one(n), sizeof *ask);
    lib_found_t *got = st_calloc(at_least_one(n), sizeof *got);
    st_err_t err = {0};
    bool same = ask != NULL && got != NULL && f != NULL;

    for (size_t k = 0; same && k < n; k++) {
        ask[k] = (lib_name_t){.name = names[k], .len = strlen(names[k])};
        same = ask[k].len > 0 && ask[k].len <= 1024;
    }
    if (same && n > 0)
        same = f->modules(f->ctx, ask, n, got, &err) == ST_OK;
    for (size_t k = 0; same && k < n; k++) {
        jobkey_scan_t in = {.version = JOBKEY_ANALYZER_VERSION,
                            .config = self->config,
                            .kind = scan_kind_of_path(paths[k]),
                            .target = self->scan.target,
                            .content = got[k].digest};
        digest_t now;
        same = got[k].m.kind == LIB_FILE && got[k].has_digest && got[k].m.path != NULL &&
               strcmp(got[k].m.path, paths[k]) == 0 && jobkey_scan(&in, &now, NULL) == ST_OK &&
               digest_eq(&now, &keys[k]);
    }
    st_free(ask);
    st_free(got);
    return same;
}

/* The stamp library file id had before it was read, when it is old enough
 * to trust (the stat index's rule): for the whole-run record. */
static bool lib_stamp(void *ctx, size_t id, file_stamp_t *out)
{
    const run_t *self = ctx;

    if (self->index == NULL || id >= self->opts.n_files || self->hashed[id] == RUN_HASH_NONE ||
        !file_stamp_trusted(&self->stamps[id], self->index_since_ns))
        return false;
    *out = self->stamps[id];
    return true;
}

/* The project's options for this run (the check stage's and the whole-run
 * lookup's: the same roots and arguments). */
static project_opts_t project_opts(const run_t *self)
{
    const run_opts_t *o = &self->opts;

    return (project_opts_t){
        .roots = o->roots,
        .n_roots = o->n_roots,
        .args = o->args,
        .n_args = o->n_args,
        .jobs = o->jobs,
        .cache = o->cache,
        .remote = o->cache != NULL ? o->remote : NULL,
        .explain = o->explain,
        .shuffle = o->shuffle,
        .on_cache_error = o->on_cache_error,
        .ctx = o->ctx,
        .progress = o->progress,
        .cancel = o->cancel,
        .env_key = o->env_key,
        .env_key_remote = o->env_key_remote,
        .env_key_remote_make = o->env_key_remote_make,
        .env_key_remote_ctx = o->env_key_remote_ctx,
        .lib_same = o->finder != NULL && o->source == RUN_FROM_FILES ? lib_same : NULL,
        .lib_stamp = lib_stamp,
        .lib_same_all = o->finder != NULL && o->source == RUN_FROM_BLOBS ? lib_same_all : NULL,
        .lib_ctx = (void *)self,
        .ahead = o->ahead};
}

/* ---- digest ------------------------------------------------------------------------ */

typedef struct {
    run_t *run;
    const size_t *order;
} digest_job_ctx_t;

/* Whether file i's content digest is the stat index's: its stamp (taken
 * now when the list had none) equals the one the index holds, and the file
 * is not over the size limit; its key is set then. */
static bool index_hit(run_t *self, size_t i, bool may_stat)
{
    const run_file_t *f = &self->opts.files[i];
    file_stamp_t *stamp = &self->stamps[i];
    jobkey_scan_t in = {.version = JOBKEY_ANALYZER_VERSION,
                        .config = self->config,
                        .kind = f->kind,
                        .target = self->scan.target};
    struct stat st;

    if (f->content != NULL)
        return false;
    if (stamp->ino == 0 && stamp->mtime_ns == 0) {
        if (!may_stat || stat(f->path, &st) != 0 || !S_ISREG(st.st_mode))
            return false;
        file_stamp_of(&st, stamp);
    }
    if (stamp->size > self->scan.max_file_bytes ||
        !statidx_find(self->index, f->path, stamp, &in.content) ||
        jobkey_scan(&in, &self->keys[i], NULL) != ST_OK)
        return false;
    self->content[i] = in.content;
    self->hashed[i] = RUN_HASH_INDEX;
    self->keyed[i] = true;
    atomic_fetch_add(&self->index_hits, 1);
    return true;
}

/* A digest job: the file read and hashed into its key (or its E902). */
static void digest_job(void *ctx, size_t k, arena_t *a, scanner_t *scanner)
{
    digest_job_ctx_t *d = ctx;
    span_t data;

    (void)scanner;
    if (d->run->index != NULL && index_hit(d->run, d->order[k], true))
        return;
    if (a == NULL) {
        st_err_t err;
        st_fail(&err, ST_ENOMEM, "out of memory for the job's arena");
        run__sink(d->run).done(d->run, d->order[k], BACKEND_ERROR,
                               (span_t){(const uint8_t *)err.msg, strlen(err.msg)}, NULL);
        return;
    }
    (void)run__read(d->run, d->order[k], a, &data);
}

/* Every file read and hashed on the pool, largest first. */
static st_rc_t digest_files(run_t *self, st_err_t *err)
{
    exec_pool_opts_t o = {.jobs = self->opts.jobs, .inline_max = POLICY_INLINE_HASH_BYTES};
    size_t *order = st_calloc(at_least_one(self->opts.n_files), sizeof *order), n = 0;
    uint64_t bytes = 0;
    st_rc_t rc;

    if (order == NULL)
        return st_fail(err, ST_ENOMEM, "out of memory");
    for (size_t i = 0; i < self->opts.n_files; i++)
        if (!self->opts.files[i].skip && self->state[i] != RUN_FILE_DONE &&
            (self->index == NULL || self->hashed[i] == RUN_HASH_NONE) &&
            (self->index == NULL || !index_hit(self, i, false))) {
            order[n++] = i;
            bytes += self->opts.files[i].size;
        }
    qsort_r(order, n, sizeof *order, run__larger_first, (void *)self->opts.files);
    digest_job_ctx_t d = {.run = self, .order = order};
    rc = exec_pool_run(&o, n, bytes, digest_job, &d, NULL, err);
    st_free(order);
    return rc;
}

/* The keys from the content digests a client sent. */
static void digest_blobs(run_t *self)
{
    for (size_t i = 0; i < self->opts.n_files; i++) {
        const run_file_t *f = &self->opts.files[i];
        jobkey_scan_t in = {.version = JOBKEY_ANALYZER_VERSION,
                            .config = self->config,
                            .kind = f->kind,
                            .target = self->scan.target,
                            .content = f->digest};
        if (f->skip || !f->has_digest)
            continue;
        self->keyed[i] = jobkey_scan(&in, &self->keys[i], NULL) == ST_OK;
    }
}

st_rc_t run_digest(run_t *self, st_err_t *err)
{
    if (self->opts.source == RUN_FROM_BLOBS) {
        digest_blobs(self);
        return ST_OK;
    }
    if (self->opts.cache == NULL)
        return ST_OK;
    return digest_files(self, err);
}

/* ---- lookup -------------------------------------------------------------------------- */

bool run_lookup_whole(run_t *self)
{
    project_opts_t popts = project_opts(self);
    exec_keyed_t *keyed;
    size_t n = 0, n_keyed = 0, n_context = 0;
    bool hit;

    if (!self->opts.whole || self->opts.cache == NULL ||
        (keyed = st_calloc(at_least_one(self->opts.n_files), sizeof *keyed)) == NULL)
        return false;
    for (size_t i = 0; i < self->opts.n_files; i++) {
        if (self->opts.files[i].skip)
            continue; /* no scan: not part of the key */
        keyed[n++] = (exec_keyed_t){.id = i, .ok = self->keyed[i], .key = self->keys[i]};
        n_keyed += self->keyed[i];
        n_context += self->keyed[i] && self->opts.files[i].context;
    }
    hit = project_keyed(self->project, &popts, keyed, n);
    st_free(keyed);
    if (hit) {
        self->whole = true;
        atomic_fetch_add(&self->cached, n_keyed); /* as if every scan were a cache hit */
        atomic_fetch_add(&self->context_cached, n_context);
    }
    return hit;
}

/* Files with no content to scan (blobs without a digest): an empty result. */
static void add_contentless(run_t *self, size_t i)
{
    exec_done_t done = {.id = i, .path = self->opts.files[i].path};
    st_err_t err = {0};
    st_rc_t rc;

    if ((rc = project_add_scan(self->project, &done, &err)) != ST_OK) {
        pthread_mutex_lock(&self->lock);
        if (self->rc == ST_OK) {
            self->rc = rc;
            self->err = err;
        }
        pthread_mutex_unlock(&self->lock);
    }
    self->state[i] = RUN_FILE_DONE;
    atomic_fetch_add(&self->finished, 1);
}

/* One cas_get_many of keyed files pending[0..n); the hits delivered. */
/* The shared cache, opened on first use; NULL when it cannot be (said
 * once). Main thread only (the lookups), so that it is open before any
 * scan of a library file ends. */
static cas_t *shared_cache(run_t *self)
{
    cas_opts_t o;
    st_err_t err = {0};

    if (self->shared_tried)
        return self->shared;
    self->shared_tried = true;
    cas_opts_default(&o);
    o.durability = CAS_BUFFERED;
    o.mem_budget = (size_t)16 << 20; /* its hits are copied into the run's cache */
    o.dir = self->opts.shared_dir;
    if (cas_open(&o, &self->shared, &err) != ST_OK) {
        self->shared = NULL;
        if (self->opts.log != NULL)
            fprintf(self->opts.log,
                    "strata: warning: shared cache %s: %s; library files are scanned for this "
                    "project alone\n",
                    self->opts.shared_dir, err.msg);
    }
    return self->shared;
}

/* The library files of pending[0..n) that the run's cache missed, looked
 * up in the shared cache: each hit delivered and copied into the run's
 * cache. keys and values are lookup_batch's (reused). */
static void lookup_shared(run_t *self, const size_t *pending, size_t n, arena_t *batch,
                          arena_t *scratch, digest_t *keys, span_t *values)
{
    size_t m = 0, hits = 0;
    size_t *which = st_calloc(at_least_one(n), sizeof *which);
    st_err_t err = {0};
    cas_t *shared;

    for (size_t k = 0; which != NULL && k < n; k++)
        if (self->opts.files[pending[k]].library && self->state[pending[k]] != RUN_FILE_DONE) {
            which[m] = pending[k];
            keys[m++] = self->keys[pending[k]];
        }
    if (m == 0 || (shared = shared_cache(self)) == NULL ||
        cas_get_many(shared, CAS_RESULTS, keys, m, batch, values, &hits, &err) != ST_OK) {
        st_free(which);
        return;
    }
    for (size_t k = 0; hits > 0 && k < m; k++) {
        if (values[k].ptr != NULL && run__deliver(self, which[k], values[k], true, scratch)) {
            atomic_fetch_add(&self->shared_hits, 1);
            if (cas_put(self->opts.cache, CAS_RESULTS, &keys[k], values[k].ptr, values[k].len,
                        false, &err) != ST_OK)
                run__cache_failed(self, &err);
            /* another project of this user computed it: the team has not */
            rcache_put(self->opts.remote, &keys[k], values[k].ptr, values[k].len);
        }
        arena_reset(scratch);
    }
    st_free(which);
}

/* The files of pending[0..n) that the local tiers missed, looked up in
 * the team cache in one parallel batch: each hit delivered and copied into
 * the run's cache (and a library file's into the shared one). keys and
 * values are lookup_batch's (reused). */
static void lookup_remote(run_t *self, const size_t *pending, size_t n, arena_t *batch,
                          arena_t *scratch, digest_t *keys, span_t *values)
{
    size_t m = 0, hits = 0;
    size_t *which = st_calloc(at_least_one(n), sizeof *which);
    st_err_t err = {0};

    for (size_t k = 0; which != NULL && k < n; k++)
        if (self->state[pending[k]] != RUN_FILE_DONE) {
            which[m] = pending[k];
            keys[m++] = self->keys[pending[k]];
        }
    if (m > 0)
        rcache_get_many(self->opts.remote, keys, m, batch, values, &hits);
    for (size_t k = 0; hits > 0 && k < m; k++) {
        if (values[k].ptr != NULL && run__deliver(self, which[k], values[k], true, scratch)) {
            atomic_fetch_add(&self->remote_hits, 1);
            if (cas_put(self->opts.cache, CAS_RESULTS, &keys[k], values[k].ptr, values[k].len,
                        false, &err) != ST_OK)
                run__cache_failed(self, &err);
            if (self->shared != NULL && self->opts.files[which[k]].library)
                (void)cas_put(self->shared, CAS_RESULTS, &keys[k], values[k].ptr, values[k].len,
                              false, &err);
        }
        arena_reset(scratch);
    }
    st_free(which);
}

static void lookup_batch(run_t *self, const size_t *pending, size_t n, arena_t *batch,
                         arena_t *scratch, digest_t *keys, span_t *values)
{
    size_t hits = 0;
    st_err_t err = {0};

    for (size_t k = 0; k < n; k++)
        keys[k] = self->keys[pending[k]];
    arena_reset(batch);
    if (cas_get_many(self->opts.cache, CAS_RESULTS, keys, n, batch, values, &hits, &err) != ST_OK) {
        run__cache_failed(self, &err);
        return;
    }
    for (size_t k = 0; hits > 0 && k < n; k++) {
        if (values[k].ptr != NULL)
            (void)run__deliver(self, pending[k], values[k], true, scratch);
        arena_reset(scratch);
    }
    if (self->opts.shared_dir != NULL)
        lookup_shared(self, pending, n, batch, scratch, keys, values);
    if (self->opts.remote != NULL)
        lookup_remote(self, pending, n, batch, scratch, keys, values);
}

/* Every keyed file looked up, RUN_LOOKUP_BATCH at a time. */
static st_rc_t lookup_keyed(run_t *self, st_err_t *err)
{
    size_t cap = self->opts.n_files < RUN_LOOKUP_BATCH ? self->opts.n_files : RUN_LOOKUP_BATCH;
    size_t *pending = st_calloc(at_least_one(cap), sizeof *pending), n = 0;
    digest_t *keys = st_calloc(at_least_one(cap), sizeof *keys);
    span_t *values = st_calloc(at_least_one(cap), sizeof *values);
    arena_t *batch = arena_new(RUN_ARENA_CHUNK), *scratch = arena_new(0);
    st_rc_t rc = ST_OK;

    if (pending == NULL || keys == NULL || values == NULL || batch == NULL || scratch == NULL) {
        rc = st_fail(err, ST_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < self->opts.n_files; i++) {
        if (self->opts.files[i].skip || self->state[i] == RUN_FILE_DONE || !self->keyed[i])
            continue;
        pending[n++] = i;
        if (n == cap) {
            lookup_batch(self, pending, n, batch, scratch, keys, values);
            n = 0;
        }
    }
    if (n > 0)
        lookup_batch(self, pending, n, batch, scratch, keys, values);
done:
    arena_destroy(&scratch);
    arena_destroy(&batch);
    st_free(values);
    st_free(keys);
    st_free(pending);
    return rc;
}

st_rc_t run_lookup(run_t *self, st_err_t *err)
{
    st_rc_t rc = ST_OK;

    for (size_t i = 0; i < self->opts.n_files; i++)
        if (self->opts.source == RUN_FROM_BLOBS && !self->opts.files[i].skip &&
            !self->opts.files[i].has_digest)
            add_contentless(self, i);
    if (self->opts.cache != NULL && (rc = lookup_keyed(self, err)) != ST_OK)
        return rc;
    self->n_misses = 0;
    for (size_t i = 0; i < self->opts.n_files; i++)
        if (!self->opts.files[i].skip && self->state[i] != RUN_FILE_DONE)
            self->misses[self->n_misses++] = i;
    return ST_OK;
}

/* ---- scan ---------------------------------------------------------------------------- */

/* The misses on this process's threads; the throughput of a thread kept
 * for the cost record when the scans lasted long enough to tell. */
static st_rc_t scan_on_threads(run_t *self, st_err_t *err)
{
    backend_t threads = {0};
    backend_stats_t st;
    uint64_t bytes0 = atomic_load(&self->bytes_read);
    size_t scanned0 = atomic_load(&self->scanned);
    uint64_t t0;
    double ms;
    st_rc_t rc;

    if ((rc = exec_backend_new(self->opts.jobs, &threads, err)) != ST_OK)
        return rc;
    t0 = clock_ns();
    rc = run__scan_on(self, &threads, err);
    ms = (double)(clock_ns() - t0) / 1e6;
    backend_stop(&threads, &st);
    uint64_t bytes = atomic_load(&self->bytes_read) - bytes0;
    if (atomic_load(&self->scanned) > scanned0 && bytes > 0 && ms >= POLICY_MIN_MEASURED_SCAN_MS &&
        (self->opts.cache == NULL || !self->opts.no_workers))
        self->here_bytes_per_ms = (double)bytes / (ms * (st.threads > 0 ? st.threads : 1));
    return rc;
}

/* Whether strata check's worker processes scan the misses: made when the
 * policy says they pay (or asked for by number). */
static bool make_workers(run_t *self)
{
    uint64_t bytes = 0;
    st_err_t err = {0};

    if (self->opts.no_workers || self->opts.make_workers == NULL)
        return false;
    for (size_t k = 0; k < self->n_misses; k++)
        bytes += self->opts.files[self->misses[k]].size;
    self->choice = policy_choose(&self->cost, bytes, self->n_misses, self->opts.jobs);
    self->chose = true;
    if (!self->choice.use && self->opts.workers == 0)
        return false;
    if (self->opts.make_workers(self->opts.make_ctx, &self->cost, &self->workers, &err) != ST_OK) {
        if (self->opts.log != NULL)
            fprintf(self->opts.log, "strata: warning: %s; scanning in this process\n", err.msg);
        return false;
    }
    self->used_workers = true;
    self->checks = &self->workers;
    return true;
}

st_rc_t run_scan(run_t *self, backend_t *b, st_err_t *err)
{
    size_t failed;
    st_rc_t rc;

    if (b != NULL)
        self->checks = b; /* its check jobs too, even when every scan was cached */
    if (self->n_misses == 0)
        rc = ST_OK;
    else if (b != NULL)
        rc = run__scan_on(self, b, err);
    else if (make_workers(self))
        rc = run__scan_on(self, &self->workers, err);
    else
        rc = scan_on_threads(self, err);
    if (rc != ST_OK)
        return rc;
    pthread_mutex_lock(&self->lock);
    rc = self->rc;
    if (rc != ST_OK && err != NULL)
        *err = self->err;
    pthread_mutex_unlock(&self->lock);
    if (rc == ST_OK && (failed = atomic_load(&self->failed)) > 0) /* named by their E902s */
        rc = st_fail(err, ST_EINTERNAL, "%zu scan jobs failed", failed);
    return rc;
}

st_rc_t run_scans(run_t *self, st_err_t *err)
{
    st_rc_t rc;

    if ((rc = run_digest(self, err)) != ST_OK)
        return rc;
    if (run_lookup_whole(self))
        return ST_OK;
    if ((rc = run_lookup(self, err)) != ST_OK)
        return rc;
    return run_scan(self, NULL, err);
}

/* ---- library files --------------------------------------------------------------------- */

static bool grow_array(void **p, size_t old_n, size_t new_n, size_t size)
{
    void *grown = st_realloc(*p, new_n * size);

    if (grown == NULL)
        return false;
    memset((char *)grown + old_n * size, 0, (new_n - old_n) * size);
    *p = grown;
    return true;
}

/* Appends library files to the run (and the project): ids after every
 * path the project has, so the run's ids stay the project's. The paths
 * beyond the files (extension modules) become skipped files the first
 * time. */
static st_rc_t add_library(run_t *self, const project_lib_file_t *lib, size_t n, st_err_t *err)
{
    size_t old = self->opts.n_files, base = self->opts.n_paths, need;
    st_rc_t rc;

    if (!st_add_size(base, n, &need))
        return st_fail(err, ST_ENOMEM, "out of memory");
    if (need > self->cap) {
        size_t cap = self->cap > 0 ? self->cap : 64;
        while (cap < need)
            cap *= 2;
        if (self->files == NULL) {
            run_file_t *files = st_calloc(cap, sizeof *files);
            const char **paths = st_calloc(cap, sizeof *paths);
            if (files == NULL || paths == NULL) {
                st_free(files);
                st_free(paths);
                return st_fail(err, ST_ENOMEM, "out of memory");
            }
            memcpy(files, self->opts.files, old * sizeof *files);
            memcpy(paths, self->opts.paths, base * sizeof *paths);
            for (size_t i = old; i < base; i++) /* extension modules: never scanned */
                files[i] = (run_file_t){.path = paths[i], .skip = true};
            st_free(self->paths);
            self->files = files;
            self->paths = paths;
        } else if (!grow_array((void **)&self->files, self->cap, cap, sizeof *self->files) ||
                   !grow_array((void **)&self->paths, self->cap, cap, sizeof *self->paths)) {
            return st_fail(err, ST_ENOMEM, "out of memory");
        }
        size_t had = self->cap > old ? self->cap : old;
        if (!grow_array((void **)&self->keys, had, cap, sizeof *self->keys) ||
            !grow_array((void **)&self->keyed, had, cap, sizeof *self->keyed) ||
            !grow_array((void **)&self->state, had, cap, sizeof *self->state) ||
            !grow_array((void **)&self->misses, had, cap, sizeof *self->misses) ||
            (self->index != NULL &&
             (!grow_array((void **)&self->stamps, had, cap, sizeof *self->stamps) ||
              !grow_array((void **)&self->content, had, cap, sizeof *self->content) ||
              !grow_array((void **)&self->hashed, had, cap, sizeof *self->hashed))))
            return st_fail(err, ST_ENOMEM, "out of memory");
        self->cap = cap;
    }
    for (size_t k = 0; k < n; k++) {
        self->files[base + k] = (run_file_t){.path = lib[k].path,
                                             .kind = scan_kind_of_path(lib[k].path),
                                             .context = true,
                                             .library = true,
                                             .size = lib[k].size,
                                             .has_digest = lib[k].has_digest,
                                             .digest = lib[k].digest};
        self->paths[base + k] = lib[k].path;
    }
    if ((rc = project_add_files(self->project, lib, n)) != ST_OK)
        return st_fail(err, rc, "out of memory");
    self->opts.files = self->files;
    self->opts.paths = self->paths;
    self->opts.n_files = self->opts.n_paths = need;
    return ST_OK;
}

/* The library rounds: the modules the files' imports reach in the
 * environment, added and scanned (cache first) until none is new. */
static st_rc_t run_library(run_t *self, st_err_t *err)
{
    project_opts_t popts = project_opts(self);
    st_rc_t rc = ST_OK;

    if (self->opts.finder == NULL || self->whole)
        return ST_OK;
    for (;;) {
        project_lib_file_t *lib = NULL;
        size_t n = 0;
        if ((rc = project_library_round(self->project, &popts, self->opts.finder, &lib, &n, err)) !=
            ST_OK)
            return rc;
        if (n == 0)
            return ST_OK;
        rc = add_library(self, lib, n, err);
        st_free(lib);
        progress_add(self->opts.progress, PROGRESS_FILES, n); /* their scans count too */
        if (rc != ST_OK)
            return rc;
        if ((rc = run_digest(self, err)) != ST_OK || (rc = run_lookup(self, err)) != ST_OK)
            return rc;
        if (self->n_misses == 0)
            continue;
        if (self->checks != NULL)
            rc = run__scan_on(self, self->checks, err);
        else
            rc = scan_on_threads(self, err);
        if (rc != ST_OK)
            return rc;
    }
}

/* ---- graph, check, report ------------------------------------------------------------ */

static st_rc_t check_on_backend(void *ctx, span_t input, arena_t *a, span_t *out, st_err_t *err)
{
    backend_t *b = ctx;

    return b->ops->run_check(b->self, input, a, out, err);
}

st_rc_t run_check(run_t *self, report_t *report, st_err_t *err)
{
    project_opts_t popts = project_opts(self);
    backend_t *b;
    unsigned threads = 0;
    st_rc_t rc;

    if ((rc = run_library(self, err)) != ST_OK)
        return rc;
    b = self->checks;
    if (b != NULL && b->ops != NULL && b->ops->checks_begin != NULL &&
        b->ops->checks_begin(b->self, &threads, NULL) == ST_OK) {
        popts.run_check = check_on_backend;
        popts.run_check_ctx = b;
        popts.jobs = threads;
    }
    return project_check(self->project, &popts, report, &self->pstats, err);
}

st_rc_t run_write_graph(run_t *self, project_graph_format_t format, FILE *out, st_err_t *err)
{
    project_opts_t popts = project_opts(self);

    return project_write_graph(self->project, &popts, format, out, err);
}

/* The stat index written again when this run hashed a file it can trust
 * next time (with the entries of files this run did not read that are
 * still right). */
static void index_save(run_t *self)
{
    statidx_entry_t *e;
    size_t n = 0, fresh = 0;
    st_err_t err = {0};

    if (self->index == NULL)
        return;
    if ((e = st_calloc(at_least_one(self->opts.n_files), sizeof *e)) == NULL)
        return;
    for (size_t i = 0; i < self->opts.n_files; i++) {
        if (self->hashed[i] == RUN_HASH_NONE ||
            !file_stamp_trusted(&self->stamps[i], self->index_since_ns))
            continue;
        fresh += self->hashed[i] == RUN_HASH_READ;
        e[n++] = (statidx_entry_t){.path = self->opts.files[i].path,
                                   .stamp = self->stamps[i],
                                   .content = self->content[i]};
    }
    if (fresh > 0 &&
        statidx_save(self->opts.index_dir, &self->index_id, e, n, self->index, &err) != ST_OK &&
        self->opts.log != NULL)
        fprintf(self->opts.log, "strata: warning: stat index: %s\n", err.msg);
    st_free(e);
}

void run_finish(run_t *self)
{
    policy_cost_t measured = {0};

    index_save(self);
    if (self->used_workers) {
        backend_stop(&self->workers, &self->bstats);
        self->checks = NULL;
        measured = self->bstats.measured;
    }
    if (self->here_bytes_per_ms > 0)
        measured.scan_bytes_per_ms = self->here_bytes_per_ms;
    if (self->opts.cost_dir == NULL ||
        (measured.start_ms <= 0 && measured.rtt_us <= 0 && measured.scan_bytes_per_ms <= 0 &&
         measured.check_ns_per_byte <= 0))
        return;
    policy_cost_merge(&self->cost, &measured);
    (void)policy_cost_save(self->opts.cost_dir, &self->cost, NULL);
}

void run_progress(run_t *self, size_t *scanned, size_t *cached)
{
    *scanned = atomic_load(&self->scanned);
    *cached = atomic_load(&self->cached);
}

void run_stats(run_t *self, run_stats_t *out)
{
    *out = (run_stats_t){.scanned = atomic_load(&self->scanned),
                         .cached = atomic_load(&self->cached),
                         .context_cached = atomic_load(&self->context_cached),
                         .failed = atomic_load(&self->failed),
                         .unreadable = atomic_load(&self->unreadable),
                         .early = atomic_load(&self->early),
                         .whole = self->whole,
                         .chose = self->chose,
                         .choice = self->choice,
                         .used_workers = self->used_workers,
                         .backend = self->bstats,
                         .project = self->pstats};
    for (size_t i = 0; i < self->opts.n_files; i++)
        out->files += !self->opts.files[i].skip;
    for (size_t i = 0; i < self->opts.n_files; i++)
        out->context += self->opts.files[i].context;
    out->indexed = self->index != NULL;
    out->shared_hits = atomic_load(&self->shared_hits);
    out->remote_hits = atomic_load(&self->remote_hits);
    for (size_t i = 0; self->index != NULL && i < self->opts.n_files; i++) {
        out->unchanged += self->hashed[i] == RUN_HASH_INDEX;
        out->hashed += self->hashed[i] == RUN_HASH_READ;
    }
}
