/* test_cas_disk.c - the SQLite tier: reopen, modes, durable puts, budget and
 * gc order, verify, clear, stats, threads and two processes on one
 * directory, and a disk that fills up. */
#include "test.h"

#include "cas_test.h"
#include "common/cas/cas.h"
#include "common/log.h"

#include <dirent.h>
#include <pthread.h>
#include <sqlite3.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void reopen_reads_back(cas_durability_t mode)
{
    char dir[64];
    arena_t *a = arena_new(0);
    cas_t *c;
    cas_stats_t s;

    REQUIRE(a != NULL && cas_test_tmpdir(dir) != NULL);
    c = cas_test_open(dir, mode);
    REQUIRE(c != NULL);
    for (long i = 0; i < 300; i++)
        CHECK_EQ_INT(cas_test_put(c, i, false), ST_OK);
    cas_stats(c, &s);
    CHECK(s.disk_enabled);
    cas_close(&c);
    c = cas_test_open(dir, mode);
    REQUIRE(c != NULL);
    for (long i = 0; i < 300; i++)
        CHECK_EQ_INT(cas_test_get(c, i, a), ST_OK);
    CHECK_EQ_INT(cas_test_get(c, 300, a), ST_ENOENT);
    for (long i = 0; i < 300; i++)
        CHECK_EQ_INT(cas_test_get(c, i, a), ST_OK); /* now from memory */
    cas_stats(c, &s);
    CHECK_EQ_INT(s.disk.hits, 300);
    CHECK_EQ_INT(s.disk.misses, 1);
    CHECK_EQ_INT(s.disk_reads, 300);
    CHECK_EQ_INT(s.mem.hits, 300);
    CHECK_EQ_INT(s.disk.entries, 300);
    CHECK(s.disk.bytes > 0);
    CHECK_EQ_INT(s.corruptions, 0);
    cas_close(&c);
    arena_destroy(&a);
    cas_test_rmdir(dir);
}

TEST(cas_disk_reopen_buffered)
{
    reopen_reads_back(CAS_BUFFERED);
}

TEST(cas_disk_reopen_strict)
{
    reopen_reads_back(CAS_STRICT);
}

TEST(cas_disk_memory_mode_ignores_dir)
{
    char dir[64], path[128];
    cas_t *c;

    REQUIRE(cas_test_tmpdir(dir) != NULL);
    c = cas_test_open(dir, CAS_MEMORY);
    REQUIRE(c != NULL);
    CHECK_EQ_INT(cas_test_put(c, 1, true), ST_OK);
    cas_close(&c);
    snprintf(path, sizeof path, "%s/cas.sqlite", dir);
    CHECK(access(path, F_OK) != 0);
    cas_test_rmdir(dir);
}

/* Another connection sees a buffered put once it is in the main table: at
 * once for a durable put, after cas_flush or close for the others (a flush
 * window's commit goes to the writer's log, which only the writer reads). */
TEST(cas_disk_buffered_commits)
{
    char dir[64];
    arena_t *a = arena_new(0);
    cas_t *c, *other;

    REQUIRE(a != NULL && cas_test_tmpdir(dir) != NULL);
    c = cas_test_open_window(dir, 50, 1); /* the writer's reads come from its disk tier */
    REQUIRE(c != NULL);
    other = cas_test_open(dir, CAS_BUFFERED);
    REQUIRE(other != NULL);
    CHECK_EQ_INT(cas_test_put(c, 1, false), ST_OK);
    CHECK_EQ_INT(cas_test_get(other, 1, a), ST_ENOENT); /* pending */
    CHECK_EQ_INT(cas_test_put(c, 2, true), ST_OK);
    CHECK_EQ_INT(cas_test_get(other, 1, a), ST_OK);
    CHECK_EQ_INT(cas_test_get(other, 2, a), ST_OK);
    for (long i = 10; i < 60; i++) /* the 50th put commits, to the log */
        CHECK_EQ_INT(cas_test_put(c, i, false), ST_OK);
    CHECK_EQ_INT(cas_test_get(other, 59, a), ST_ENOENT);
    for (long i = 10; i < 60; i++) /* the writer reads its log */
        CHECK_EQ_INT(cas_test_get(c, i, a), ST_OK);
    CHECK_EQ_INT(cas_test_put(c, 3, false), ST_OK);
    CHECK_EQ_INT(cas_flush(c, NULL), ST_OK);
    CHECK_EQ_INT(cas_test_get(other, 3, a), ST_OK);
    CHECK_EQ_INT(cas_test_get(other, 59, a), ST_OK);
    CHECK_EQ_INT(cas_test_put(c, 4, false), ST_OK);
    cas_close(&c);
    CHECK_EQ_INT(cas_test_get(other, 4, a), ST_OK);
    cas_close(&other);
    arena_destroy(&a);
    cas_test_rmdir(dir);
}

/* The flusher thread commits a window on its own: a process that ends
 * without closing its store (as if killed) 200 ms after a put leaves it in
 * its log, which the next store to open the directory merges and deletes. */
TEST(cas_disk_flusher_commits_to_the_log)
{
    char dir[64];
    arena_t *a = arena_new(0);
    int status = -1, logs = 0;
    struct dirent *e;
    DIR *d;
    pid_t pid;
    cas_t *c;

    REQUIRE(a != NULL && cas_test_tmpdir(dir) != NULL);
    pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        cas_opts_t o;
        cas_t *cc = NULL;
        cas_opts_default(&o);
        o.dir = dir;
        o.durability = CAS_BUFFERED;
        o.flush_ms = 10;
        if (cas_open(&o, &cc, NULL) != ST_OK || cas_test_put(cc, 4, false) != ST_OK)
            _exit(1);
        sleep_ms(200);
        _exit(0); /* no close: nothing but the flusher wrote */
    }
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    c = cas_test_open(dir, CAS_STRICT);
    REQUIRE(c != NULL);
    CHECK_EQ_INT(cas_test_get(c, 4, a), ST_OK);
    cas_close(&c);
    REQUIRE((d = opendir(dir)) != NULL);
    while ((e = readdir(d)) != NULL)
        logs += strncmp(e->d_name, "cas-log-", 8) == 0;
    closedir(d);
    CHECK_EQ_INT(logs, 0);
    arena_destroy(&a);
    cas_test_rmdir(dir);
}

/* Records flushed in random key order, several windows of them and some
 * keys twice, read back whole from the log, then from the main table after
 * the merge that sorts them. */
TEST(cas_disk_unsorted_windows_read_back_whole)
{
    enum { N = 3000 };
    char dir[64];
    arena_t *a = arena_new(0);
    cas_stats_t s;
    cas_t *c;
    int wrong = 0;

    REQUIRE(a != NULL && cas_test_tmpdir(dir) != NULL);
    c = cas_test_open_window(dir, 250, 1);
    REQUIRE(c != NULL);
    for (long k = 0; k < N + 500; k++) /* i = 7k mod N: not in key order, 500 twice */
        wrong += cas_test_put(c, (k * 7) % N, false) != ST_OK;
    for (long i = 0; i < N; i++, arena_reset(a))
        wrong += cas_test_get(c, i, a) != ST_OK;
    cas_stats(c, &s);
    CHECK(s.disk.entries >= N);
    cas_close(&c);
    c = cas_test_open(dir, CAS_BUFFERED);
    REQUIRE(c != NULL);
    for (long i = 0; i < N; i++, arena_reset(a))
        wrong += cas_test_get(c, i, a) != ST_OK;
    cas_stats(c, &s);
    CHECK_EQ_INT(s.disk.entries, N);
    CHECK_EQ_INT(s.corruptions, 0);
    CHECK_EQ_INT(wrong, 0);
    cas_close(&c);
    arena_destroy(&a);
    cas_test_rmdir(dir);
}

TEST(cas_disk_batches)
{
    char dir[64];
    arena_t *a = arena_new(0);
    digest_t keys[20];
    span_t vals[20];
    uint8_t bufs[20][2048];
    size_t hits;
    cas_stats_t s;
    cas_t *c;

    REQUIRE(a != NULL && cas_test_tmpdir(dir) != NULL);
    c = cas_test_open(dir, CAS_BUFFERED);
    REQUIRE(c != NULL);
    for (long i = 0; i < 20; i++) {
        keys[i] = cas_test_key(i);
        vals[i].ptr = bufs[i];
        vals[i].len = cas_test_value(i, bufs[i], sizeof bufs[i]);
    }
    CHECK_EQ_INT(cas_put_many(c, CAS_RESULTS, keys, vals, 15, false, NULL), ST_OK);
    cas_close(&c);
    c = cas_test_open(dir, CAS_STRICT);
    REQUIRE(c != NULL);
    CHECK_EQ_INT(cas_test_get(c, 0, a), ST_OK); /* one from memory */
    CHECK_EQ_INT(cas_get_many(c, CAS_RESULTS, keys, 20, a, vals, &hits, NULL), ST_OK);
    CHECK_EQ_INT(hits, 15);
    for (long i = 0; i < 20; i++)
        CHECK(i < 15 ? cas_test_value_ok(i, vals[i]) : vals[i].ptr == NULL);
    /* the batch left the memory tier as it was: the one single get only */
    cas_stats(c, &s);
    CHECK_EQ_INT(s.mem.entries, 1);
    CHECK_EQ_INT(s.disk_reads, 15);
    CHECK_EQ_INT(cas_test_get(c, 1, a), ST_OK); /* from disk again */
    cas_stats(c, &s);
    CHECK_EQ_INT(s.disk_reads, 16);
    CHECK_EQ_INT(s.mem.entries, 2);
    cas_close(&c);
    arena_destroy(&a);
    cas_test_rmdir(dir);
}

/* A large batch (decoded on two threads) finds records still pending in
 * buffered mode as well as committed ones, and reports the absent. */
TEST(cas_disk_large_batch_pending_and_committed)
{
    enum { N = 300 };
    char dir[64];
    arena_t *a = arena_new(0);
    digest_t keys[N + 10];
    span_t vals[N + 10];
    size_t hits = 0;
    cas_stats_t s;
    cas_opts_t o;
    cas_t *c = NULL;
    int wrong = 0;

    REQUIRE(a != NULL && cas_test_tmpdir(dir) != NULL);
    c = cas_test_open(dir, CAS_STRICT);
    REQUIRE(c != NULL);
    for (long i = 0; i < N / 2; i++)
        CHECK_EQ_INT(cas_test_put(c, i, false), ST_OK);
    cas_close(&c);
    cas_opts_default(&o);
    o.dir = dir;
    o.durability = CAS_BUFFERED;
    o.flush_ms = 60000; /* the second half stays pending */
    o.flush_writes = 100000;
    o.mem_budget = 1; /* and is not in the memory tier either */
    REQUIRE(cas_open(&o, &c, NULL) == ST_OK);
    for (long i = N / 2; i < N; i++)
        CHECK_EQ_INT(cas_test_put(c, i, false), ST_OK);
    for (long i = 0; i < N + 10; i++)
        keys[i] = cas_test_key(i);
    CHECK_EQ_INT(cas_get_many(c, CAS_RESULTS, keys, N + 10, a, vals, &hits, NULL), ST_OK);
    CHECK_EQ_INT(hits, N);
    for (long i = 0; i < N + 10; i++)
        wrong += i < N ? !cas_test_value_ok(i, vals[i]) : vals[i].ptr != NULL;
    CHECK_EQ_INT(wrong, 0);
    cas_stats(c, &s);
    CHECK_EQ_INT(s.mem.hits, 0);
    CHECK_EQ_INT(s.disk.hits, N);
    CHECK_EQ_INT(s.disk_reads, N / 2); /* the pending half came from no row */
    cas_close(&c);
    arena_destroy(&a);
    cas_test_rmdir(dir);
}

TEST(cas_disk_gc_order_and_budget)
{
    char dir[64];
    arena_t *a = arena_new(0);
    uint8_t buf[1000];
    uint64_t removed = 0, total;
    cas_stats_t s;
    cas_opts_t o;
    cas_t *c;

    REQUIRE(a != NULL && cas_test_tmpdir(dir) != NULL);
    c = cas_test_open(dir, CAS_STRICT);
    REQUIRE(c != NULL);
    for (long i = 0; i < 10; i++) {
        digest_t k = cas_test_key(i);
        for (size_t j = 0; j < sizeof buf; j++)
            buf[j] = (uint8_t)(j * 131 + (size_t)i * 7 + j * j); /* barely compressible */
        CHECK_EQ_INT(cas_put(c, CAS_RESULTS, &k, buf, sizeof buf, false, NULL), ST_OK);
        sleep_ms(3);
    }
    cas_stats(c, &s);
    total = s.disk.bytes;
    CHECK_EQ_INT(s.disk.entries, 10);
    CHECK_EQ_INT(cas_gc(c, total, &removed, NULL), ST_OK);
    CHECK_EQ_INT(removed, 0);
    CHECK_EQ_INT(cas_gc(c, total / 2, &removed, NULL), ST_OK);
    CHECK_EQ_INT(removed, 5);
    cas_stats(c, &s);
    CHECK(s.disk.bytes <= total / 2);
    CHECK_EQ_INT(s.disk.evictions, 5);
    cas_close(&c);
    c = cas_test_open(dir, CAS_STRICT);
    REQUIRE(c != NULL);
    for (long i = 0; i < 10; i++) {
        digest_t k = cas_test_key(i);
        span_t v;
        CHECK_EQ_INT(cas_get(c, CAS_RESULTS, &k, a, &v, NULL), i < 5 ? ST_ENOENT : ST_OK);
    }
    CHECK_EQ_INT(cas_gc(c, 0, &removed, NULL), ST_OK);
    CHECK_EQ_INT(removed, 5);
    cas_close(&c);
    /* a disk budget evicts on its own */
    cas_opts_default(&o);
    o.dir = dir;
    o.durability = CAS_BUFFERED;
    o.disk_budget = 40000;
    o.flush_writes = 10;
    REQUIRE(cas_open(&o, &c, NULL) == ST_OK);
    for (long i = 0; i < 300; i++)
        CHECK_EQ_INT(cas_test_put(c, i, false), ST_OK);
    CHECK_EQ_INT(cas_flush(c, NULL), ST_OK);
    cas_stats(c, &s);
    CHECK(s.disk.bytes <= 40000);
    CHECK(s.disk.evictions > 0);
    cas_close(&c);
    arena_destroy(&a);
    cas_test_rmdir(dir);
}

/* A read refreshes the entry's atime (when older than touch_ms), so gc keeps
 * what was read and drops what was not, even though it was written later. */
TEST(cas_disk_gc_keeps_what_was_read)
{
    char dir[64];
    arena_t *a = arena_new(0);
    uint64_t removed = 0;
    cas_stats_t s;
    cas_t *c;

    REQUIRE(a != NULL && cas_test_tmpdir(dir) != NULL);
    c = cas_test_open(dir, CAS_STRICT);
    REQUIRE(c != NULL);
    for (long i = 0; i < 10; i++)
        CHECK_EQ_INT(cas_test_put(c, i * 2, false), ST_OK); /* even: same sizes */
    cas_close(&c);
    sleep_ms(1100);
    c = cas_test_open_touch(dir, CAS_STRICT, 1000); /* LRU to the second */
    REQUIRE(c != NULL);
    for (long i = 0; i < 5; i++)
        CHECK_EQ_INT(cas_test_get(c, i * 2, a), ST_OK);
    cas_stats(c, &s);
    CHECK_EQ_INT(cas_gc(c, s.disk.bytes / 2 + 1, &removed, NULL), ST_OK);
    CHECK(removed >= 4 && removed <= 5);
    cas_close(&c);
    c = cas_test_open(dir, CAS_STRICT);
    REQUIRE(c != NULL);
    for (long i = 0; i < 5; i++)
        CHECK_EQ_INT(cas_test_get(c, i * 2, a), ST_OK);
    cas_close(&c);
    arena_destroy(&a);
    cas_test_rmdir(dir);
}

/* Ages every entry by a minute, as if written long ago. */
static void age_entries(const char *dir)
{
    char path[128];
    sqlite3 *db;

    snprintf(path, sizeof path, "%s/cas.sqlite", dir);
    if (sqlite3_open(path, &db) == SQLITE_OK)
        sqlite3_exec(db, "UPDATE cas SET atime = atime - 60000", NULL, NULL, NULL);
    sqlite3_close(db);
}

/* More reads than the refresh queue holds: the queue is applied on its
 * own, in get and in get_many, and everything still reads back. */
TEST(cas_disk_many_refreshes)
{
    char dir[64];
    arena_t *a = arena_new(0);
    static digest_t keys[1500];
    static span_t vals[1500];
    static uint8_t bufs[1500][64];
    size_t hits = 0;
    cas_t *c;

    REQUIRE(a != NULL && cas_test_tmpdir(dir) != NULL);
    c = cas_test_open(dir, CAS_STRICT);
    REQUIRE(c != NULL);
    for (long i = 0; i < 1500; i++) {
        keys[i] = cas_test_key(i);
        vals[i].ptr = bufs[i];
        vals[i].len = cas_test_value(i, bufs[i], sizeof bufs[i]);
    }
    CHECK_EQ_INT(cas_put_many(c, CAS_RESULTS, keys, vals, 1500, false, NULL), ST_OK);
    cas_close(&c);
    age_entries(dir);
    c = cas_test_open(dir, CAS_STRICT);
    REQUIRE(c != NULL);
    for (long i = 0; i < 1100; i++) {
        digest_t k = cas_test_key(i);
        span_t v;
        CHECK_EQ_INT(cas_get(c, CAS_RESULTS, &k, a, &v, NULL), ST_OK);
        arena_reset(a);
    }
    CHECK_EQ_INT(cas_get_many(c, CAS_RESULTS, keys + 1100, 400, a, vals, &hits, NULL), ST_OK);
    CHECK_EQ_INT(hits, 400);
    cas_close(&c);
    c = cas_test_open(dir, CAS_BUFFERED);
    REQUIRE(c != NULL);
    CHECK_EQ_INT(cas_get_many(c, CAS_RESULTS, keys, 1500, a, vals, &hits, NULL), ST_OK);
    CHECK_EQ_INT(hits, 1500);
    for (long i = 0; i < 1500; i++) {
        uint8_t want[64];
        size_t len = cas_test_value(i, want, sizeof want);
        CHECK(vals[i].len == len && memcmp(vals[i].ptr, want, len) == 0);
    }
    cas_close(&c);
    arena_destroy(&a);
    cas_test_rmdir(dir);
}

/* A read session: single gets share a read transaction, yet writes of this
 * store (its own puts, the atime refreshes of 1500 old entries, verify, gc)
 * run in transactions of their own, so another process can write while the
 * session lasts (a held write lock would fail its put after the 5 s busy
 * timeout), and after the session this store sees that process's write. */
TEST(cas_disk_read_session)
{
    enum { N = 1500 };
    char dir[64];
    arena_t *a = arena_new(0);
    static digest_t keys[N];
    static span_t vals[N];
    static uint8_t bufs[N][2048];
    uint64_t checked = 0, removed = 0;
    cas_stats_t s;
    cas_t *c, *other;
    int wrong = 0;

    REQUIRE(a != NULL && cas_test_tmpdir(dir) != NULL);
    c = cas_test_open(dir, CAS_STRICT);
    REQUIRE(c != NULL);
    for (long i = 0; i < N; i++) {
        keys[i] = cas_test_key(i);
        vals[i].ptr = bufs[i];
        vals[i].len = cas_test_value(i, bufs[i], sizeof bufs[i]);
    }
    CHECK_EQ_INT(cas_put_many(c, CAS_RESULTS, keys, vals, N, false, NULL), ST_OK);
    cas_close(&c);
    age_entries(dir);
    c = cas_test_open_touch(dir, CAS_STRICT, 1000); /* every read refreshes */
    other = cas_test_open(dir, CAS_STRICT);
    REQUIRE(c != NULL && other != NULL);
    cas_reads_begin(c);
    cas_reads_begin(c); /* not nested */
    for (long i = 0; i < N; i++) {
        wrong += cas_test_get(c, i, a) != ST_OK;
        arena_reset(a);
    }
    CHECK_EQ_INT(wrong, 0);
    CHECK_EQ_INT(cas_test_put(other, N + 1, false), ST_OK);
    CHECK_EQ_INT(cas_test_put(c, N + 2, false), ST_OK);
    CHECK_EQ_INT(cas_test_get(c, N + 2, a), ST_OK);
    cas_stats(c, &s);
    CHECK_EQ_INT(s.disk.entries, N + 2);
    CHECK_EQ_INT(s.disk.hits, N);
    cas_reads_end(c);
    CHECK_EQ_INT(cas_test_get(c, N + 1, a), ST_OK); /* the other's write */
    cas_reads_begin(c);
    CHECK_EQ_INT(cas_test_get(c, 3, a), ST_OK);
    CHECK_EQ_INT(cas_verify(c, &checked, &removed, NULL), ST_OK);
    CHECK_EQ_INT(checked, N + 2);
    CHECK_EQ_INT(removed, 0);
    CHECK_EQ_INT(cas_gc(c, 1, &removed, NULL), ST_OK);
    CHECK_EQ_INT(removed, N + 2);
    CHECK_EQ_INT(cas_test_put(other, 7, false), ST_OK);
    cas_close(&c);        /* ends the session */
    cas_reads_end(other); /* without a begin: nothing */
    CHECK_EQ_INT(cas_test_get(other, 7, a), ST_OK);
    cas_close(&other);
    arena_destroy(&a);
    cas_test_rmdir(dir);
}

/* An arena too small for the value: ST_ENOMEM from either tier, and the
 * entry is still there for a bigger arena. */
TEST(cas_disk_get_arena_exhausted)
{
    char dir[64];
    arena_t *small = arena_new(256), *a = arena_new(0);
    digest_t keys[2] = {cas_test_key(1), cas_test_key(3)};
    span_t vals[2], v;
    size_t hits;
    st_err_t err = {0};
    cas_t *c;

    REQUIRE(a != NULL && small != NULL && cas_test_tmpdir(dir) != NULL);
    arena_set_limit(small, 512);
    c = cas_test_open(dir, CAS_BUFFERED);
    REQUIRE(c != NULL);
    CHECK_EQ_INT(cas_test_put(c, 1, false), ST_OK);  /* 38 bytes */
    CHECK_EQ_INT(cas_test_put(c, 3, false), ST_OK);  /* 112 bytes */
    CHECK_EQ_INT(cas_test_put(c, 31, false), ST_OK); /* 1148 bytes */
    cas_close(&c);
    c = cas_test_open(dir, CAS_BUFFERED);
    REQUIRE(c != NULL);
    keys[1] = cas_test_key(31);
    CHECK_EQ_INT(cas_get(c, CAS_RESULTS, &keys[1], small, &v, &err), ST_ENOMEM); /* disk */
    CHECK_EQ_INT(err.code, ST_ENOMEM);
    arena_reset(small);
    CHECK_EQ_INT(cas_get_many(c, CAS_RESULTS, keys, 2, small, vals, &hits, NULL), ST_ENOMEM);
    arena_reset(small);
    CHECK_EQ_INT(cas_test_get(c, 31, a), ST_OK);
    CHECK_EQ_INT(cas_get(c, CAS_RESULTS, &keys[1], small, &v, NULL), ST_ENOMEM); /* memory */
    CHECK_EQ_INT(cas_test_get(c, 31, a), ST_OK);
    CHECK_EQ_INT(cas_test_get(c, 1, small), ST_OK);
    cas_close(&c);
    arena_destroy(&a);
    arena_destroy(&small);
    cas_test_rmdir(dir);
}

TEST(cas_disk_verify_and_clear)
{
    char dir[64];
    arena_t *a = arena_new(0);
    uint64_t checked = 0, removed = 9;
    cas_stats_t s;
    cas_t *c;

    REQUIRE(a != NULL && cas_test_tmpdir(dir) != NULL);
    c = cas_test_open(dir, CAS_BUFFERED);
    REQUIRE(c != NULL);
    for (long i = 0; i < 50; i++)
        CHECK_EQ_INT(cas_test_put(c, i, false), ST_OK);
    CHECK_EQ_INT(cas_verify(c, &checked, &removed, NULL), ST_OK);
    CHECK_EQ_INT(checked, 50);
    CHECK_EQ_INT(removed, 0);
    CHECK_EQ_INT(cas_clear(c, NULL), ST_OK);
    cas_stats(c, &s);
    CHECK_EQ_INT(s.disk.entries, 0);
    CHECK_EQ_INT(s.mem.entries, 0);
    CHECK_EQ_INT(cas_test_get(c, 3, a), ST_ENOENT);
    cas_close(&c);
    c = cas_test_open(dir, CAS_BUFFERED);
    REQUIRE(c != NULL);
    CHECK_EQ_INT(cas_test_get(c, 3, a), ST_ENOENT);
    cas_close(&c);
    arena_destroy(&a);
    cas_test_rmdir(dir);
}

typedef struct {
    cas_t *c;
    long base;
    int bad;
} disk_worker_t;

static void *disk_worker(void *p)
{
    disk_worker_t *w = p;
    arena_t *a = arena_new(0);

    for (long i = 0; i < 300 && a != NULL; i++) {
        if (cas_test_put(w->c, w->base + i, false) != ST_OK)
            w->bad++;
        if (cas_test_get(w->c, (w->base + 300 + i) % 1200, a) == ST_ECORRUPT)
            w->bad++;
        arena_reset(a);
    }
    arena_destroy(&a);
    return NULL;
}

TEST(cas_disk_threads)
{
    char dir[64];
    arena_t *a = arena_new(0);
    pthread_t t[4];
    disk_worker_t w[4];
    cas_opts_t o;
    cas_t *c = NULL;

    REQUIRE(a != NULL && cas_test_tmpdir(dir) != NULL);
    cas_opts_default(&o);
    o.dir = dir;
    o.durability = CAS_BUFFERED;
    o.mem_budget = 64 * 1024; /* small: most gets go to the disk */
    o.flush_writes = 64;
    REQUIRE(cas_open(&o, &c, NULL) == ST_OK);
    for (int i = 0; i < 4; i++) {
        w[i] = (disk_worker_t){c, i * 300, 0};
        REQUIRE(pthread_create(&t[i], NULL, disk_worker, &w[i]) == 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK_EQ_INT(w[i].bad, 0);
    }
    cas_close(&c);
    c = cas_test_open(dir, CAS_STRICT);
    REQUIRE(c != NULL);
    for (long i = 0; i < 1200; i++) {
        CHECK_EQ_INT(cas_test_get(c, i, a), ST_OK);
        arena_reset(a);
    }
    cas_close(&c);
    arena_destroy(&a);
    cas_test_rmdir(dir);
}

/* Two processes put disjoint keys into one directory at once, then each
 * key reads back. */
TEST(cas_disk_two_processes)
{
    char dir[64];
    arena_t *a = arena_new(0);
    int status = -1;
    pid_t pid;
    cas_t *c;

    REQUIRE(a != NULL && cas_test_tmpdir(dir) != NULL);
    pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        cas_t *cc = cas_test_open(dir, CAS_BUFFERED);
        int bad = cc == NULL;
        for (long i = 1000; i < 1400 && cc != NULL; i++)
            bad += cas_test_put(cc, i, i % 50 == 0) != ST_OK;
        cas_close(&cc);
        _exit(bad ? 1 : 0);
    }
    c = cas_test_open(dir, CAS_STRICT);
    REQUIRE(c != NULL);
    for (long i = 0; i < 400; i++)
        CHECK_EQ_INT(cas_test_put(c, i, false), ST_OK);
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    for (long i = 0; i < 400; i++)
        CHECK_EQ_INT(cas_test_get(c, 1000 + i, a), ST_OK);
    cas_close(&c);
    c = cas_test_open(dir, CAS_BUFFERED);
    REQUIRE(c != NULL);
    for (long i = 0; i < 400; i++) {
        CHECK_EQ_INT(cas_test_get(c, i, a), ST_OK);
        CHECK_EQ_INT(cas_test_get(c, 1000 + i, a), ST_OK);
        arena_reset(a);
    }
    cas_close(&c);
    arena_destroy(&a);
    cas_test_rmdir(dir);
}

/* A file-size limit makes the database's writes fail as on a full disk:
 * one warning, memory-only, every put and get still answers. */
TEST(cas_disk_full_goes_memory_only)
{
    char dir[64];
    int status = -1;
    pid_t pid;

    REQUIRE(cas_test_tmpdir(dir) != NULL);
    pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        struct rlimit rl = {64 * 1024, 64 * 1024};
        FILE *logf = tmpfile();
        char line[512];
        int bad = 0, warnings = 0, eio = 0;
        arena_t *a = arena_new(0);
        cas_t *c = cas_test_open(dir, CAS_STRICT);
        cas_stats_t s;
        signal(SIGXFSZ, SIG_IGN);
        log_set_output(logf);
        if (c == NULL || a == NULL || setrlimit(RLIMIT_FSIZE, &rl) != 0)
            _exit(2);
        for (long i = 0; i < 400; i++) {
            st_rc_t rc = cas_test_put(c, i, false);
            eio += rc == ST_EIO; /* the strict commit that failed says so, once */
            bad += rc != ST_OK && cas_test_put(c, i, false) != ST_OK;
        }
        for (long i = 0; i < 400; i++)
            bad += cas_test_get(c, i, a) != ST_OK;
        cas_stats(c, &s);
        cas_close(&c);
        log_set_output(NULL);
        rewind(logf);
        while (fgets(line, sizeof line, logf))
            warnings += strstr(line, "going on without") != NULL;
        _exit(bad ? 3 : s.disk_enabled ? 4 : warnings != 1 ? 5 : eio != 1 ? 6 : 0);
    }
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK_EQ_INT(WEXITSTATUS(status), 0);
    cas_test_rmdir(dir);
}
