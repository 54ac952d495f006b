/* test_cas_mem.c - the CAS front and its memory tier: every operation,
 * argument errors, LRU order and budget, batches, threads, and failed
 * allocations leaving the store unchanged. */
#include "test.h"

#include "cas_test.h"
#include "common/alloc.h"
#include "common/cas/cas.h"
#include "common/metrics.h"

#include <pthread.h>

static cas_t *open_mem(size_t budget, uint32_t shards)
{
    cas_opts_t o;
    cas_t *c = NULL;
    cas_opts_default(&o);
    o.mem_budget = budget;
    o.mem_shards = shards;
    return cas_open(&o, &c, NULL) == ST_OK ? c : NULL;
}

TEST(cas_open_rejects_bad_options)
{
    cas_opts_t o;
    cas_t *c = NULL;
    st_err_t err = {0};

    cas_opts_default(&o);
    o.mem_shards = 3;
    CHECK_EQ_INT(cas_open(&o, &c, &err), ST_EINVAL);
    CHECK(strstr(err.msg, "shards") != NULL);
    cas_opts_default(&o);
    o.zstd_level = 25;
    CHECK_EQ_INT(cas_open(&o, &c, NULL), ST_EINVAL);
    o.zstd_level = CAS_ZSTD_LEVEL_MIN - 1;
    CHECK_EQ_INT(cas_open(&o, &c, NULL), ST_EINVAL);
    o.zstd_level = CAS_ZSTD_LEVEL_MIN; /* the fast levels are levels */
    CHECK_EQ_INT(cas_open(&o, &c, NULL), ST_OK);
    cas_close(&c);
    cas_opts_default(&o);
    o.durability = (cas_durability_t)7;
    CHECK_EQ_INT(cas_open(&o, &c, NULL), ST_EINVAL);
    CHECK_EQ_INT(cas_open(NULL, &c, NULL), ST_EINVAL);
    CHECK(c == NULL);
    cas_close(&c); /* accepts NULL */
}

TEST(cas_mem_put_get_miss)
{
    cas_t *c = open_mem(0, 0);
    arena_t *a = arena_new(0);
    digest_t k = cas_test_key(1), blob;
    span_t v = {NULL, 0};
    cas_stats_t s;
    st_err_t err = {0};

    REQUIRE(c != NULL && a != NULL);
    CHECK_EQ_INT(cas_test_get(c, 1, a), ST_ENOENT);
    CHECK_EQ_INT(cas_test_put(c, 1, false), ST_OK);
    CHECK_EQ_INT(cas_test_get(c, 1, a), ST_OK);
    CHECK_EQ_INT(cas_put(c, CAS_RESULTS, &k, "x", 1, false, NULL), ST_OK); /* replace */
    CHECK_EQ_INT(cas_get(c, CAS_RESULTS, &k, a, &v, NULL), ST_OK);
    CHECK(v.len == 1 && v.ptr[0] == 'x');
    /* namespaces are separate */
    CHECK_EQ_INT(cas_get(c, CAS_BLOBS, &k, a, &v, &err), ST_ENOENT);
    CHECK_EQ_INT(err.code, ST_ENOENT);
    /* blobs: the key must be the SHA-256 of the value */
    CHECK_EQ_INT(cas_put(c, CAS_BLOBS, &k, "abc", 3, false, NULL), ST_EINVAL);
    digest_sha256("abc", 3, &blob);
    CHECK_EQ_INT(cas_put(c, CAS_BLOBS, &blob, "abc", 3, false, NULL), ST_OK);
    CHECK_EQ_INT(cas_get(c, CAS_BLOBS, &blob, a, &v, NULL), ST_OK);
    CHECK(v.len == 3 && memcmp(v.ptr, "abc", 3) == 0);
    /* empty values, limits, bad arguments */
    k = cas_test_key(2);
    CHECK_EQ_INT(cas_put(c, CAS_RESULTS, &k, NULL, 0, false, NULL), ST_OK);
    CHECK_EQ_INT(cas_get(c, CAS_RESULTS, &k, a, &v, NULL), ST_OK);
    CHECK_EQ_INT(v.len, 0);
    CHECK_EQ_INT(cas_put(c, CAS_RESULTS, &k, "x", CAS_MAX_VALUE + 1, false, NULL), ST_ELIMIT);
    CHECK_EQ_INT(cas_put(c, CAS_RESULTS, &k, NULL, 5, false, NULL), ST_EINVAL);
    CHECK_EQ_INT(cas_put(c, (cas_ns_t)9, &k, "x", 1, false, NULL), ST_EINVAL);
    CHECK_EQ_INT(cas_get(c, (cas_ns_t)9, &k, a, &v, NULL), ST_EINVAL);
    CHECK_EQ_INT(cas_get(c, CAS_RESULTS, NULL, a, &v, NULL), ST_EINVAL);
    CHECK_EQ_INT(cas_put(NULL, CAS_RESULTS, &k, "x", 1, false, NULL), ST_EINVAL);
    cas_stats(c, &s);
    CHECK_EQ_INT(s.mem.entries, 3);
    CHECK(s.mem.hits >= 4 && s.mem.misses >= 2);
    CHECK(!s.disk_enabled);
    CHECK(s.get_ns.count > 0 && s.put_ns.count > 0);
    /* cas_stats published the counters to the registry */
    CHECK(metrics_counter_get(metrics_counter("cas.mem.hits")) >= s.mem.hits);
    CHECK(metrics_counter_get(metrics_counter("cas.mem.misses")) >= s.mem.misses);
    CHECK_EQ_INT(cas_flush(c, NULL), ST_OK);
    CHECK_EQ_INT(cas_clear(c, NULL), ST_OK);
    CHECK_EQ_INT(cas_test_get(c, 1, a), ST_ENOENT);
    cas_stats(c, &s);
    CHECK_EQ_INT(s.mem.entries, 0);
    CHECK_EQ_INT(s.mem.bytes, 0);
    arena_destroy(&a);
    cas_close(&c);
    CHECK(c == NULL);
}

TEST(cas_mem_lru_order)
{
    /* one shard of about 4 values of 1000 bytes */
    cas_t *c = open_mem(4 * 1100, 1);
    arena_t *a = arena_new(0);
    uint8_t buf[1000];
    cas_stats_t s;

    REQUIRE(c != NULL && a != NULL);
    memset(buf, 7, sizeof buf);
    for (long i = 0; i < 4; i++) {
        digest_t k = cas_test_key(i);
        CHECK_EQ_INT(cas_put(c, CAS_RESULTS, &k, buf, sizeof buf, false, NULL), ST_OK);
    }
    for (long i = 0; i < 4; i++) {
        digest_t k = cas_test_key(i);
        span_t v;
        CHECK_EQ_INT(cas_get(c, CAS_RESULTS, &k, a, &v, NULL), ST_OK);
    }
    /* touch 0 and 1: 2 is now the least recently used, then 3 */
    for (long i = 0; i < 2; i++) {
        digest_t k = cas_test_key(i);
        span_t v;
        CHECK_EQ_INT(cas_get(c, CAS_RESULTS, &k, a, &v, NULL), ST_OK);
    }
    for (long i = 4; i < 6; i++) {
        digest_t k = cas_test_key(i);
        CHECK_EQ_INT(cas_put(c, CAS_RESULTS, &k, buf, sizeof buf, false, NULL), ST_OK);
    }
    for (long i = 0; i < 6; i++) {
        digest_t k = cas_test_key(i);
        span_t v;
        st_rc_t want = i == 2 || i == 3 ? ST_ENOENT : ST_OK;
        CHECK_EQ_INT(cas_get(c, CAS_RESULTS, &k, a, &v, NULL), want);
    }
    cas_stats(c, &s);
    CHECK_EQ_INT(s.mem.evictions, 2);
    CHECK(s.mem.bytes <= 4 * 1100);
    /* a value bigger than the budget is not kept, and evicts nothing */
    {
        static uint8_t big[8192];
        digest_t k = cas_test_key(99);
        CHECK_EQ_INT(cas_put(c, CAS_RESULTS, &k, big, sizeof big, false, NULL), ST_OK);
        CHECK_EQ_INT(cas_test_get(c, 99, a), ST_ENOENT);
        CHECK_EQ_INT(cas_test_get(c, 0, a) == ST_ENOENT, 0);
        /* nor may an older value of its key answer for it */
        k = cas_test_key(0);
        CHECK_EQ_INT(cas_put(c, CAS_RESULTS, &k, big, sizeof big, false, NULL), ST_OK);
        CHECK_EQ_INT(cas_test_get(c, 0, a), ST_ENOENT);
    }
    arena_destroy(&a);
    cas_close(&c);
}

TEST(cas_mem_budget_holds)
{
    cas_t *c = open_mem(64 * 1024, 4);
    arena_t *a = arena_new(0);
    cas_stats_t s;
    int present = 0;

    REQUIRE(c != NULL && a != NULL);
    for (long i = 0; i < 2000; i++)
        CHECK_EQ_INT(cas_test_put(c, i, false), ST_OK);
    cas_stats(c, &s);
    CHECK(s.mem.bytes <= 64 * 1024);
    CHECK(s.mem.evictions > 0);
    CHECK_EQ_INT(s.mem.entries + s.mem.evictions, 2000);
    for (long i = 0; i < 2000; i++) {
        st_rc_t rc = cas_test_get(c, i, a);
        CHECK(rc == ST_OK || rc == ST_ENOENT);
        present += rc == ST_OK;
        arena_reset(a);
    }
    CHECK_EQ_INT((uint64_t)present, s.mem.entries);
    CHECK_EQ_INT(cas_test_get(c, 1999, a), ST_OK); /* the newest stays */
    arena_destroy(&a);
    cas_close(&c);
}

TEST(cas_mem_batches)
{
    cas_t *c = open_mem(0, 0);
    arena_t *a = arena_new(0);
    digest_t keys[10];
    span_t vals[10];
    uint8_t bufs[10][2048];
    size_t hits = 99;

    REQUIRE(c != NULL && a != NULL);
    for (long i = 0; i < 10; i++) {
        keys[i] = cas_test_key(i);
        vals[i].ptr = bufs[i];
        vals[i].len = cas_test_value(i, bufs[i], sizeof bufs[i]);
    }
    CHECK_EQ_INT(cas_put_many(c, CAS_RESULTS, keys, vals, 5, false, NULL), ST_OK);
    memset(vals, 0, sizeof vals);
    CHECK_EQ_INT(cas_get_many(c, CAS_RESULTS, keys, 10, a, vals, &hits, NULL), ST_OK);
    CHECK_EQ_INT(hits, 5);
    for (long i = 0; i < 10; i++)
        CHECK(i < 5 ? cas_test_value_ok(i, vals[i]) : vals[i].ptr == NULL && vals[i].len == 0);
    CHECK_EQ_INT(cas_get_many(c, CAS_RESULTS, keys, 0, a, vals, &hits, NULL), ST_OK);
    CHECK_EQ_INT(hits, 0);
    CHECK_EQ_INT(cas_get_many(c, CAS_RESULTS, keys, 1, a, vals, NULL, NULL), ST_EINVAL);
    arena_destroy(&a);
    cas_close(&c);
}

typedef struct {
    cas_t *c;
    long base;
    int bad;
} worker_arg_t;

static void *worker(void *p)
{
    worker_arg_t *w = p;
    arena_t *a = arena_new(0);

    for (long round = 0; round < 3000 && a != NULL; round++) {
        long i = w->base + round % 500, other = (round * 7) % 2000;
        if (cas_test_put(w->c, i, false) != ST_OK)
            w->bad++;
        /* another thread's key: absent or right, never wrong */
        if (cas_test_get(w->c, other, a) == ST_ECORRUPT)
            w->bad++;
        if (cas_test_get(w->c, i, a) != ST_OK)
            w->bad++;
        arena_reset(a);
    }
    arena_destroy(&a);
    return NULL;
}

TEST(cas_mem_threads)
{
    cas_t *c = open_mem(8 << 20, 8);
    pthread_t t[4];
    worker_arg_t w[4];
    cas_stats_t s;

    REQUIRE(c != NULL);
    for (int i = 0; i < 4; i++) {
        w[i] = (worker_arg_t){c, i * 500, 0};
        REQUIRE(pthread_create(&t[i], NULL, worker, &w[i]) == 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK_EQ_INT(w[i].bad, 0);
    }
    cas_stats(c, &s);
    CHECK(s.mem.bytes <= 8 << 20);
    cas_close(&c);
}

/* Every allocation of a put or get may fail: ST_ENOMEM, and the store is
 * as it was (the key absent, or its old value). */
static void alloc_failures(cas_t *c)
{
    arena_t *a = arena_new(0);

    REQUIRE(a != NULL);
    CHECK_EQ_INT(cas_test_put(c, 1, false), ST_OK);
    for (long n = 0; n < 40; n++) {
        st_rc_t rc;
        alloc_fail_after(n);
        rc = cas_test_put(c, 100 + n, false);
        alloc_fail_after(-1);
        CHECK(rc == ST_OK || rc == ST_ENOMEM);
        CHECK_EQ_INT(cas_test_get(c, 100 + n, a), rc == ST_OK ? ST_OK : ST_ENOENT);
        arena_reset(a);
        alloc_fail_after(n);
        rc = cas_test_get(c, 1, a);
        alloc_fail_after(-1);
        CHECK(rc == ST_OK || rc == ST_ENOMEM);
        arena_reset(a);
        CHECK_EQ_INT(cas_test_get(c, 1, a), ST_OK);
        arena_reset(a);
    }
    for (long n = 0; n < 20; n++) {
        cas_t *o = NULL;
        cas_opts_t opts;
        st_rc_t rc;
        cas_opts_default(&opts);
        alloc_fail_after(n);
        rc = cas_open(&opts, &o, NULL);
        alloc_fail_after(-1);
        CHECK(rc == ST_OK || rc == ST_ENOMEM);
        CHECK(rc == ST_OK ? o != NULL : o == NULL);
        cas_close(&o);
    }
    arena_destroy(&a);
}

TEST(cas_mem_alloc_failures)
{
    cas_t *c = open_mem(0, 0);

    REQUIRE(c != NULL);
    alloc_failures(c);
    cas_close(&c);
}

TEST(cas_disk_alloc_failures)
{
    char dir[64];
    cas_t *c;

    REQUIRE(cas_test_tmpdir(dir) != NULL);
    c = cas_test_open(dir, CAS_BUFFERED);
    REQUIRE(c != NULL);
    alloc_failures(c);
    cas_close(&c);
    c = cas_test_open(dir, CAS_STRICT);
    REQUIRE(c != NULL);
    alloc_failures(c);
    cas_close(&c);
    cas_test_rmdir(dir);
}
