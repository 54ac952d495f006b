/* wcache.c - the worker-local cache (see wcache.h).
 *
 * A key hashes the input once (SHA-256, at about 1 GB/s far below a scan's
 * cost) and then a short fixed encoding of the other fields, as jobkey.c
 * does, so no key needs an allocation. The counters are the cache's own
 * (hits and misses as a worker sees them); the CAS is asked only at the end
 * how many hits its disk tier served and how many damaged entries it
 * dropped, since its statistics cost a scan of the table. */
#include "worker/wcache.h"

#include "common/alloc.h"
#include "common/cas/cas.h"
#include "common/log.h"
#include "worker/jobs.h"
#include "worker/python/scan.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#define WCACHE_TAG "strata-wcache-1"
#define WCACHE_MAX_VERSION 256

struct wcache {
    cas_t *cas;
    char version[WCACHE_MAX_VERSION + 1];
    char where[256]; /* the directory, or "(memory)", for the log */
    atomic_uint_fast64_t hits, misses, stored;
    atomic_bool warned; /* a put failure has been said */
};

st_rc_t wcache_open(const wcache_opts_t *opts, wcache_t **out, st_err_t *err)
{
    const char *version = opts->version != NULL ? opts->version : WCACHE_VERSION;
    cas_opts_t co;
    wcache_t *c;
    st_rc_t rc;

    if (strlen(version) > WCACHE_MAX_VERSION)
        return st_fail(err, ST_EINVAL, "worker cache: analyzer version too long");
    if ((c = st_calloc(1, sizeof *c)) == NULL)
        return st_fail(err, ST_ENOMEM, "worker cache: out of memory");
    snprintf(c->version, sizeof c->version, "%s", version);
    snprintf(c->where, sizeof c->where, "%s", opts->dir != NULL ? opts->dir : "(memory)");
    cas_opts_default(&co);
    co.mem_budget = opts->mem_budget != 0 ? opts->mem_budget : WCACHE_MEM_DEFAULT;
    if (opts->dir != NULL) {
        co.dir = opts->dir;
        co.durability = CAS_BUFFERED; /* a lost batch of puts costs reruns only */
    }
    if ((rc = cas_open(&co, &c->cas, err)) != ST_OK) {
        st_free(c);
        return rc;
    }
    *out = c;
    return ST_OK;
}

void wcache_flush(wcache_t *self)
{
    if (self != NULL && cas_flush(self->cas, NULL) != ST_OK)
        LOG_WARN("worker cache %s: results not saved to disk", self->where);
}

void wcache_destroy(wcache_t **self_p)
{
    wcache_t *c = self_p != NULL ? *self_p : NULL;
    wcache_stats_t st;

    if (c == NULL)
        return;
    wcache_stats(c, &st);
    if (st.corrupt > 0)
        LOG_WARN("worker cache %s: %llu damaged entries dropped; their jobs were run", c->where,
                 (unsigned long long)st.corrupt);
    cas_close(&c->cas);
    st_free(c);
    *self_p = NULL;
}

bool wcache_keeps(uint32_t kind)
{
    return kind == JOBS_SCAN || kind == JOBS_CHECK;
}

/* Appends a 4-byte big-endian length and the bytes; sizes fit by
 * construction (the caller's buffer holds the longest encoding). */
static size_t put_field(uint8_t *b, size_t at, const void *p, size_t n)
{
    b[at++] = (uint8_t)(n >> 24);
    b[at++] = (uint8_t)(n >> 16);
    b[at++] = (uint8_t)(n >> 8);
    b[at++] = (uint8_t)n;
    memcpy(b + at, p, n);
    return at + n;
}

st_rc_t wcache_key(const char *version, uint32_t kind, span_t input, digest_t *out, st_err_t *err)
{
    uint8_t enc[5 * 4 + sizeof WCACHE_TAG + WCACHE_MAX_VERSION + 4 + 32];
    uint8_t be_kind[4] = {(uint8_t)(kind >> 24), (uint8_t)(kind >> 16), (uint8_t)(kind >> 8),
                          (uint8_t)kind};
    digest_t in;
    size_t vlen, n = 0;

    if (version == NULL || (vlen = strlen(version)) > WCACHE_MAX_VERSION)
        return st_fail(err, ST_EINVAL, "worker cache key: missing or overlong version");
    if (digest_sha256(input.ptr, input.len, &in) != ST_OK)
        return st_fail(err, ST_EINTERNAL, "worker cache key: SHA-256 failed");
    n = put_field(enc, n, WCACHE_TAG, strlen(WCACHE_TAG));
    n = put_field(enc, n, version, vlen);
    n = put_field(enc, n, be_kind, sizeof be_kind);
    n = put_field(enc, n, in.b, sizeof in.b);
    if (digest_sha256(enc, n, out) != ST_OK)
        return st_fail(err, ST_EINTERNAL, "worker cache key: SHA-256 failed");
    return ST_OK;
}

/* Keeps a copy of a result; a failure costs a rerun later, so it is said
 * once and otherwise ignored. */
static void store(wcache_t *c, const digest_t *key, span_t result)
{
    st_err_t err = {0};
    st_rc_t rc = cas_put(c->cas, CAS_RESULTS, key, result.ptr, result.len, false, &err);

    if (rc == ST_OK) {
        atomic_fetch_add(&c->stored, 1);
        return;
    }
    if (rc != ST_ELIMIT && !atomic_exchange(&c->warned, true))
        LOG_WARN("worker cache %s: a result could not be kept (%s); going on", c->where, err.msg);
}

st_rc_t wcache_run(wcache_t *self, scanner_t *scanner, uint32_t kind, span_t input, arena_t *a,
                   span_t *out, bool *hit, st_err_t *err)
{
    digest_t key;
    span_t cached;
    st_rc_t rc;

    if (hit != NULL)
        *hit = false;
    if (self == NULL || !wcache_keeps(kind) ||
        wcache_key(self->version, kind, input, &key, NULL) != ST_OK)
        return jobs_run(scanner, kind, input, a, out, err);
    if (cas_get(self->cas, CAS_RESULTS, &key, a, &cached, NULL) == ST_OK) {
        atomic_fetch_add(&self->hits, 1);
        if (hit != NULL)
            *hit = true;
        *out = cached;
        return ST_OK;
    }
    atomic_fetch_add(&self->misses, 1);
    /* a scan that ran out of time answers for this once, not for the key */
    if ((rc = jobs_run(scanner, kind, input, a, out, err)) == ST_OK && !scan_result_transient(*out))
        store(self, &key, *out);
    return rc;
}

void wcache_stats(wcache_t *self, wcache_stats_t *out)
{
    cas_stats_t cs;

    memset(out, 0, sizeof *out);
    if (self == NULL)
        return;
    cas_stats(self->cas, &cs);
    out->hits = atomic_load(&self->hits);
    out->misses = atomic_load(&self->misses);
    out->stored = atomic_load(&self->stored);
    out->disk_hits = cs.disk.hits < out->hits ? cs.disk.hits : out->hits;
    out->corrupt = cs.corruptions;
    out->disk = cs.disk_enabled;
}
