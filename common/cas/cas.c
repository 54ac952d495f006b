/* cas.c - the CAS front: argument checks, the two tiers, statistics.
 *
 * A get asks the memory tier, then the disk, and copies a disk hit into
 * memory. A batch get does not: a batch is a scan (a warm re-check asks for
 * every file's result once), and copying each hit cost a third of the page
 * faults of a warm run and would evict what single gets found useful. A put validates and encodes
 * first (hash, compress: the costly part, done outside any lock) and only then touches the tiers,
 * so a failed put leaves both as they were. Compression contexts come from a small pool because
 * creating one per put costs more than compressing a small value.
 *
 * Latency goes to the process-wide histograms cas.get_ns and cas.put_ns,
 * sampled: one call in LATENCY_SAMPLE per thread is timed, because timing
 * every call would make every get of every thread write the same three
 * shared cache lines (the histogram's bucket, count and sum), which costs
 * more than the lookup once two cores do it. Their counts are sample sizes;
 * the exact call counts are the tiers' hits and misses. Counters are kept per tier (under the
 * tier's own locks, nothing shared on the hot path) and published to the metrics registry as cas.*
 * counters whenever cas_stats runs and at close. */
#include "common/cas/cas.h"

#include "common/alloc.h"
#include "common/cas/cas_disk.h"
#include "common/cas/cas_mem.h"
#include "common/cas/cas_record.h"
#include "common/log.h"
#include "common/clock.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#define CCTX_POOL 8
#define LATENCY_SAMPLE 8 /* a power of two */

static _Thread_local uint32_t sample_tick;

/* The start time when this call is one to time, else 0. */
static inline uint64_t sample_start(void)
{
    return (sample_tick++ & (LATENCY_SAMPLE - 1)) == 0 ? clock_ns() : 0;
}

static inline void sample_end(metrics_hist_t *h, uint64_t t0)
{
    if (t0 != 0)
        metrics_hist_record(h, clock_ns() - t0);
}

struct cas {
    cas_opts_t opts;
    cas_mem_t *mem;
    cas_disk_t *disk;     /* NULL: memory only */
    pthread_mutex_t lock; /* the context pool and published counters */
    ZSTD_CCtx *cctx[CCTX_POOL];
    int ncctx;
    metrics_hist_t *get_ns, *put_ns;
    cas_stats_t published;
};

void cas_opts_default(cas_opts_t *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->durability = CAS_MEMORY;
    opts->mem_budget = (size_t)64 << 20;
    opts->flush_ms = 100;
    opts->flush_writes = 1000;
    opts->zstd_level = CAS_ZSTD_LEVEL_DEFAULT;
    opts->mem_shards = 16;
}

static st_rc_t check_opts(const cas_opts_t *in, cas_opts_t *o, st_err_t *err)
{
    *o = *in;
    if ((unsigned)o->durability > CAS_STRICT)
        return st_fail(err, ST_EINVAL, "cas: unknown durability %d", (int)o->durability);
    if (o->mem_budget == 0)
        o->mem_budget = (size_t)64 << 20;
    if (o->flush_ms == 0)
        o->flush_ms = 100;
    if (o->flush_writes == 0)
        o->flush_writes = 1000;
    if (o->zstd_level == 0)
        o->zstd_level = CAS_ZSTD_LEVEL_DEFAULT;
    if (o->zstd_level < CAS_ZSTD_LEVEL_MIN || o->zstd_level > 19)
        return st_fail(err, ST_EINVAL, "cas: zstd level %d not in %d..19", o->zstd_level,
                       CAS_ZSTD_LEVEL_MIN);
    if (o->mem_shards == 0)
        o->mem_shards = 16;
    if ((o->mem_shards & (o->mem_shards - 1)) != 0 || o->mem_shards > 4096)
        return st_fail(err, ST_EINVAL, "cas: %u shards, not a power of two <= 4096", o->mem_shards);
    if (o->dir == NULL || o->dir[0] == '\0')
        o->durability = CAS_MEMORY;
    return ST_OK;
}

st_rc_t cas_open(const cas_opts_t *opts, cas_t **out, st_err_t *err)
{
    cas_t *self;
    st_rc_t rc;

    if (opts == NULL || out == NULL)
        return st_fail(err, ST_EINVAL, "cas_open: NULL argument");
    if ((self = st_calloc(1, sizeof *self)) == NULL)
        return st_fail(err, ST_ENOMEM, "cas_open: out of memory");
    if ((rc = check_opts(opts, &self->opts, err)) != ST_OK) {
        st_free(self);
        return rc;
    }
    self->opts.dir = NULL; /* borrowed by the caller: the disk tier copies it */
    if ((self->mem = cas_mem_new(self->opts.mem_budget, self->opts.mem_shards)) == NULL) {
        st_free(self);
        return st_fail(err, ST_ENOMEM, "cas_open: out of memory");
    }
    pthread_mutex_init(&self->lock, NULL);
    self->get_ns = metrics_hist("cas.get_ns");
    self->put_ns = metrics_hist("cas.put_ns");
    if (opts->dir != NULL && opts->dir[0] != '\0' && self->opts.durability != CAS_MEMORY) {
        cas_opts_t o = self->opts;
        o.dir = opts->dir;
        self->disk = cas_disk_open(&o);
    }
    *out = self;
    return ST_OK;
}

static void publish_one(const char *name, uint64_t now, uint64_t *was)
{
    if (now > *was)
        metrics_counter_add(metrics_counter(name), now - *was);
    *was = now;
}

/* Adds what the counters gained since the last call to the registry. */
static void publish(cas_t *self, const cas_stats_t *s)
{
    cas_stats_t *p = &self->published;

    pthread_mutex_lock(&self->lock);
    publish_one("cas.mem.hits", s->mem.hits, &p->mem.hits);
    publish_one("cas.mem.misses", s->mem.misses, &p->mem.misses);
    publish_one("cas.mem.evictions", s->mem.evictions, &p->mem.evictions);
    publish_one("cas.disk.hits", s->disk.hits, &p->disk.hits);
    publish_one("cas.disk.misses", s->disk.misses, &p->disk.misses);
    publish_one("cas.disk.evictions", s->disk.evictions, &p->disk.evictions);
    publish_one("cas.disk.reads", s->disk_reads, &p->disk_reads);
    publish_one("cas.corruptions", s->corruptions, &p->corruptions);
    publish_one("cas.databases_reset", s->databases_reset, &p->databases_reset);
    pthread_mutex_unlock(&self->lock);
}

/* Counters and latencies, and with totals the entries and bytes on disk,
 * which cost SQLite a scan of the whole table. */
static void collect_stats(cas_t *self, cas_stats_t *out, bool totals)
{
    memset(out, 0, sizeof *out);
    cas_mem_stats(self->mem, &out->mem);
    if (self->disk != NULL)
        cas_disk_stats(self->disk, out, totals);
    metrics_hist_summary(self->get_ns, &out->get_ns);
    metrics_hist_summary(self->put_ns, &out->put_ns);
    publish(self, out);
}

void cas_close(cas_t **self_p)
{
    cas_t *self = self_p ? *self_p : NULL;
    cas_stats_t s;

    if (self == NULL)
        return;
    collect_stats(self, &s, false); /* publish the counters; no table scan */
    cas_disk_close(&self->disk);    /* commits what is pending */
    cas_mem_destroy(&self->mem);
    for (int i = 0; i < self->ncctx; i++)
        ZSTD_freeCCtx(self->cctx[i]);
    pthread_mutex_destroy(&self->lock);
    st_free(self);
    *self_p = NULL;
}

static bool bad_ns(cas_ns_t ns)
{
    return (unsigned)ns > CAS_RESULTS;
}

st_rc_t cas_get(cas_t *self, cas_ns_t ns, const digest_t *key, arena_t *a, span_t *value,
                st_err_t *err)
{
    uint64_t t0 = sample_start();
    span_t v = {NULL, 0};
    st_rc_t rc;

    if (self == NULL || key == NULL || a == NULL || value == NULL || bad_ns(ns))
        return st_fail(err, ST_EINVAL, "cas_get: bad argument");
    rc = cas_mem_get(self->mem, ns, key, a, &v);
    if (rc == ST_ENOENT && self->disk != NULL) {
        if (cas_disk_get_many(self->disk, ns, key, 1, a, &v, &rc) == 1) {
            cas_mem_put(self->mem, ns, key, v.ptr, v.len); /* failing costs a later read */
            rc = ST_OK;
        } else if (rc == ST_OK) {
            rc = ST_ENOENT;
        }
    }
    sample_end(self->get_ns, t0);
    if (rc == ST_ENOMEM)
        return st_fail(err, ST_ENOMEM, "cas_get: arena exhausted");
    if (rc != ST_OK)
        return st_fail(err, ST_ENOENT, "cas_get: not cached");
    *value = v;
    return ST_OK;
}

st_rc_t cas_get_many(cas_t *self, cas_ns_t ns, const digest_t *keys, size_t n, arena_t *a,
                     span_t *values, size_t *hits, st_err_t *err)
{
    uint64_t t0 = sample_start();
    size_t found = 0, missing = 0;
    st_rc_t rc = ST_OK, r;

    if (self == NULL || (n > 0 && (keys == NULL || values == NULL)) || a == NULL || hits == NULL ||
        bad_ns(ns))
        return st_fail(err, ST_EINVAL, "cas_get_many: bad argument");
    for (size_t i = 0; i < n; i++) {
        values[i].ptr = NULL;
        values[i].len = 0;
        r = cas_mem_get(self->mem, ns, &keys[i], a, &values[i]);
        if (r == ST_OK)
            found++;
        else if (r == ST_ENOMEM)
            rc = ST_ENOMEM;
        else
            missing++;
    }
    if (missing > 0 && rc == ST_OK && self->disk != NULL) {
        /* a batch is a scan: its disk hits are not copied into memory */
        found += cas_disk_get_many(self->disk, ns, keys, n, a, values, &rc);
    }
    sample_end(self->get_ns, t0);
    if (rc != ST_OK)
        return st_fail(err, rc, "cas_get_many: arena exhausted");
    *hits = found;
    return ST_OK;
}

static ZSTD_CCtx *take_cctx(cas_t *self)
{
    ZSTD_CCtx *c = NULL;

    pthread_mutex_lock(&self->lock);
    if (self->ncctx > 0)
        c = self->cctx[--self->ncctx];
    pthread_mutex_unlock(&self->lock);
    return c != NULL ? c : ZSTD_createCCtx();
}

static void give_cctx(cas_t *self, ZSTD_CCtx *c)
{
    pthread_mutex_lock(&self->lock);
    if (self->ncctx < CCTX_POOL) {
        self->cctx[self->ncctx++] = c;
        c = NULL;
    }
    pthread_mutex_unlock(&self->lock);
    ZSTD_freeCCtx(c);
}

/* Checks one value and, when rec is not NULL (the disk tier is on), encodes
 * it into *rec. */
static st_rc_t prepare_put(cas_t *self, cas_ns_t ns, const digest_t *key, const void *value,
                           size_t len, cas_disk_rec_t *rec, st_err_t *err)
{
    digest_t sha;
    ZSTD_CCtx *cctx;
    st_rc_t rc;

    if (len > CAS_MAX_VALUE)
        return st_fail(err, ST_ELIMIT, "cas_put: %zu bytes, over the limit", len);
    if (value == NULL && len > 0)
        return st_fail(err, ST_EINVAL, "cas_put: NULL value");
    if (ns == CAS_BLOBS) {
        if (digest_sha256(value, len, &sha) != ST_OK)
            return st_fail(err, ST_ENOMEM, "cas_put: sha-256 failed");
        if (!digest_eq(&sha, key))
            return st_fail(err, ST_EINVAL, "cas_put: blob key is not the SHA-256 of the value");
    }
    if (rec == NULL)
        return ST_OK;
    if ((cctx = take_cctx(self)) == NULL)
        return st_fail(err, ST_ENOMEM, "cas_put: no compression context");
    rc = cas_record_encode(cctx, self->opts.zstd_level, (int)ns, key, value, len, &rec->rec,
                           &rec->len);
    give_cctx(self, cctx);
    if (rc != ST_OK)
        return st_fail(err, rc, "cas_put: cannot encode the record");
    rec->key = *key;
    rec->ns = ns;
    rec->raw_len = (uint32_t)len;
    return ST_OK;
}

st_rc_t cas_put(cas_t *self, cas_ns_t ns, const digest_t *key, const void *value, size_t len,
                bool durable, st_err_t *err)
{
    span_t v = {value, len};

    if (self == NULL || key == NULL)
        return st_fail(err, ST_EINVAL, "cas_put: bad argument");
    return cas_put_many(self, ns, key, &v, 1, durable, err);
}

static void free_recs(cas_disk_rec_t *recs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        st_free(recs[i].rec);
    st_free(recs);
}

/* Stores values in the memory tier; on failure removes those it added. */
static st_rc_t put_mem(cas_t *self, cas_ns_t ns, const digest_t *keys, const span_t *values,
                       size_t n, st_err_t *err)
{
    for (size_t i = 0; i < n; i++) {
        if (cas_mem_put(self->mem, ns, &keys[i], values[i].ptr, values[i].len) == ST_OK)
            continue;
        while (i-- > 0)
            cas_mem_remove(self->mem, ns, &keys[i]);
        return st_fail(err, ST_ENOMEM, "cas_put: out of memory");
    }
    return ST_OK;
}

st_rc_t cas_put_many(cas_t *self, cas_ns_t ns, const digest_t *keys, const span_t *values, size_t n,
                     bool durable, st_err_t *err)
{
    uint64_t t0 = sample_start();
    cas_disk_rec_t one, *recs = NULL;
    st_rc_t rc = ST_OK;
    bool to_disk;

    if (self == NULL || (n > 0 && (keys == NULL || values == NULL)) || bad_ns(ns))
        return st_fail(err, ST_EINVAL, "cas_put: bad argument");
    memset(&one, 0, sizeof one);
    /* once the disk tier is off (full disk...), skip the compression too */
    to_disk = self->disk != NULL && n > 0 && cas_disk_enabled(self->disk);
    if (to_disk)
        recs = n == 1 ? &one : st_calloc(n, sizeof *recs);
    if (to_disk && recs == NULL)
        return st_fail(err, ST_ENOMEM, "cas_put: out of memory");
    for (size_t i = 0; i < n && rc == ST_OK; i++)
        rc = prepare_put(self, ns, &keys[i], values[i].ptr, values[i].len, recs ? &recs[i] : NULL,
                         err);
    if (rc == ST_OK)
        rc = put_mem(self, ns, keys, values, n, err);
    if (rc != ST_OK) {
        if (recs == &one)
            st_free(one.rec);
        else if (recs != NULL)
            free_recs(recs, n);
        return rc;
    }
    if (to_disk && cas_disk_put_many(self->disk, recs, n, durable) != ST_OK)
        rc = st_fail(err, ST_EIO, "cas_put: the durable commit failed");
    if (recs != &one)
        st_free(recs);
    sample_end(self->put_ns, t0);
    return rc;
}

void cas_reads_begin(cas_t *self)
{
    if (self != NULL && self->disk != NULL)
        cas_disk_reads(self->disk, true);
}

void cas_reads_end(cas_t *self)
{
    if (self != NULL && self->disk != NULL)
        cas_disk_reads(self->disk, false);
}

st_rc_t cas_flush(cas_t *self, st_err_t *err)
{
    if (self == NULL)
        return st_fail(err, ST_EINVAL, "cas_flush: NULL store");
    if (self->disk != NULL && cas_disk_flush(self->disk) != ST_OK)
        return st_fail(err, ST_EIO, "cas_flush: the commit failed");
    return ST_OK;
}

void cas_stats(cas_t *self, cas_stats_t *out)
{
    collect_stats(self, out, true);
}

void cas_counters(cas_t *self, cas_stats_t *out)
{
    collect_stats(self, out, false);
}

st_rc_t cas_verify(cas_t *self, uint64_t *checked, uint64_t *removed, st_err_t *err)
{
    uint64_t c = 0, r = 0;

    if (self == NULL)
        return st_fail(err, ST_EINVAL, "cas_verify: NULL store");
    if (self->disk != NULL)
        cas_disk_verify(self->disk, &c, &r);
    if (checked != NULL)
        *checked = c;
    if (removed != NULL)
        *removed = r;
    return ST_OK;
}

st_rc_t cas_gc(cas_t *self, uint64_t max_bytes, uint64_t *removed, st_err_t *err)
{
    uint64_t r = 0;

    if (self == NULL)
        return st_fail(err, ST_EINVAL, "cas_gc: NULL store");
    if (self->disk != NULL && cas_disk_gc(self->disk, max_bytes, &r) != ST_OK)
        return st_fail(err, ST_EIO, "cas_gc: the database failed");
    if (removed != NULL)
        *removed = r;
    return ST_OK;
}

st_rc_t cas_clear(cas_t *self, st_err_t *err)
{
    if (self == NULL)
        return st_fail(err, ST_EINVAL, "cas_clear: NULL store");
    cas_mem_clear(self->mem);
    if (self->disk != NULL)
        cas_disk_clear(self->disk);
    return ST_OK;
}

const char *cas_dir_default(const char *flag)
{
    const char *env;

    if (flag != NULL)
        return flag;
    env = getenv("STRATA_CACHE_DIR");
    if (env != NULL && *env != '\0')
        return env;
    return ".strata-cache";
}

bool cas_has_disk(const cas_t *self)
{
    return self != NULL && self->disk != NULL && cas_disk_enabled(self->disk);
}
