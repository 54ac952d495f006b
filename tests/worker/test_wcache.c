/* test_wcache.c - the worker-local cache: a repeated job is answered from
 * it with the bytes jobs_run gives; another kind, input or version is a
 * miss; a restarted worker finds its results on disk; a damaged entry, a
 * database that is not one, or a directory that cannot be used is a miss
 * and the job runs, never a wrong answer. */
#include "test.h"

#include "common/alloc.h"
#include "common/cas/cas.h"
#include "common/log.h"
#include "worker/jobs.h"
#include "worker/wcache.h"

#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const char src[] = "import os\nimport nosuchmod\n\ndef f(a):\n    return undefined_name\n";

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void rm_tree(const char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static char *tmp_dir(char *buf)
{
    strcpy(buf, "/tmp/strata-wcache-XXXXXX");
    return mkdtemp(buf);
}

/* The input of a scan job over text. */
static void scan_input(buf_t *in, const char *text)
{
    buf_init(in);
    jobs_scan_input(in, SCAN_KIND_PY, NULL, (const uint8_t *)text, strlen(text), NULL);
}

static bool same(span_t a, span_t b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* What jobs_run gives, into *ref (in arena a). */
static bool reference(scanner_t *sc, uint32_t kind, span_t in, arena_t *a, span_t *ref)
{
    return jobs_run(sc, kind, in, a, ref, NULL) == ST_OK;
}

/* Runs a job through c: its status; *hit says where the result came from. */
static st_rc_t run(wcache_t *c, scanner_t *sc, uint32_t kind, span_t in, arena_t *a, span_t *out,
                   bool *hit)
{
    return wcache_run(c, sc, kind, in, a, out, hit, NULL);
}

TEST(wcache_repeated_job_is_a_hit_with_the_same_bytes)
{
    scanner_t *sc = scanner_new();
    arena_t *a = arena_new(0);
    wcache_t *c = NULL;
    wcache_stats_t st;
    span_t ref, out;
    bool hit = true;
    buf_t in;

    REQUIRE(sc != NULL && a != NULL);
    scan_input(&in, src);
    REQUIRE(wcache_open(&(wcache_opts_t){0}, &c, NULL) == ST_OK);
    REQUIRE(reference(sc, JOBS_SCAN, (span_t){in.data, in.len}, a, &ref));
    CHECK(run(c, sc, JOBS_SCAN, (span_t){in.data, in.len}, a, &out, &hit) == ST_OK);
    CHECK(!hit);
    CHECK(same(out, ref));
    CHECK(run(c, sc, JOBS_SCAN, (span_t){in.data, in.len}, a, &out, &hit) == ST_OK);
    CHECK(hit);
    CHECK(same(out, ref));
    wcache_stats(c, &st);
    CHECK_EQ_INT(st.hits, 1);
    CHECK_EQ_INT(st.misses, 1);
    CHECK_EQ_INT(st.stored, 1);
    CHECK_EQ_INT(st.disk_hits, 0);
    CHECK(!st.disk);
    wcache_destroy(&c);
    CHECK(c == NULL);
    wcache_destroy(&c); /* NULL is fine */
    buf_free(&in);
    arena_destroy(&a);
    scanner_destroy(&sc);
}

TEST(wcache_other_kind_input_or_version_is_a_miss)
{
    scanner_t *sc = scanner_new();
    arena_t *a = arena_new(0);
    wcache_t *c = NULL;
    wcache_stats_t st;
    span_t ref, out;
    bool hit = true;
    buf_t in, other;
    digest_t k1, k2, k3, k4, k5;

    REQUIRE(sc != NULL && a != NULL);
    scan_input(&in, src);
    scan_input(&other, "import sys\n");
    REQUIRE(wcache_open(&(wcache_opts_t){0}, &c, NULL) == ST_OK);
    REQUIRE(run(c, sc, JOBS_SCAN, (span_t){in.data, in.len}, a, &out, &hit) == ST_OK);
    /* the same bytes as a check job: a miss (and a malformed check input) */
    CHECK(run(c, sc, JOBS_CHECK, (span_t){in.data, in.len}, a, &out, &hit) == ST_ECORRUPT);
    CHECK(!hit);
    /* another input of the same kind: a miss, and its own right answer */
    REQUIRE(reference(sc, JOBS_SCAN, (span_t){other.data, other.len}, a, &ref));
    CHECK(run(c, sc, JOBS_SCAN, (span_t){other.data, other.len}, a, &out, &hit) == ST_OK);
    CHECK(!hit);
    CHECK(same(out, ref));
    wcache_stats(c, &st);
    CHECK_EQ_INT(st.hits, 0);
    CHECK_EQ_INT(st.misses, 3);
    CHECK_EQ_INT(st.stored, 2); /* the failed check job is not kept */
    /* the keys: every field counts */
    REQUIRE(wcache_key("v1", JOBS_SCAN, (span_t){in.data, in.len}, &k1, NULL) == ST_OK);
    REQUIRE(wcache_key("v1", JOBS_SCAN, (span_t){in.data, in.len}, &k2, NULL) == ST_OK);
    REQUIRE(wcache_key("v2", JOBS_SCAN, (span_t){in.data, in.len}, &k3, NULL) == ST_OK);
    REQUIRE(wcache_key("v1", JOBS_CHECK, (span_t){in.data, in.len}, &k4, NULL) == ST_OK);
    REQUIRE(wcache_key("v1", JOBS_SCAN, (span_t){in.data, in.len - 1}, &k5, NULL) == ST_OK);
    CHECK(digest_eq(&k1, &k2));
    CHECK(!digest_eq(&k1, &k3) && !digest_eq(&k1, &k4) && !digest_eq(&k1, &k5));
    CHECK(wcache_key(NULL, JOBS_SCAN, (span_t){in.data, in.len}, &k1, NULL) == ST_EINVAL);
    wcache_destroy(&c);
    buf_free(&in);
    buf_free(&other);
    arena_destroy(&a);
    scanner_destroy(&sc);
}

TEST(wcache_keeps_only_scan_and_check_results)
{
    scanner_t *sc = scanner_new();
    arena_t *a = arena_new(0);
    wcache_t *c = NULL;
    wcache_stats_t st;
    span_t out;
    bool hit = true;
    static const uint8_t junk[] = {0x93, 0x07};

    REQUIRE(sc != NULL && a != NULL);
    REQUIRE(wcache_open(&(wcache_opts_t){0}, &c, NULL) == ST_OK);
    CHECK(wcache_keeps(JOBS_SCAN) && wcache_keeps(JOBS_CHECK));
    CHECK(!wcache_keeps(JOBS_ECHO) && !wcache_keeps(77));
    for (int i = 0; i < 2; i++) {
        CHECK(run(c, sc, JOBS_ECHO, (span_t){(const uint8_t *)"hi", 2}, a, &out, &hit) == ST_OK);
        CHECK(!hit && out.len == 2);
        CHECK(run(c, sc, 77, (span_t){(const uint8_t *)"hi", 2}, a, &out, &hit) == ST_EINVAL);
        CHECK(!hit);
        /* a failed job is run again, not answered from the cache */
        CHECK(run(c, sc, JOBS_SCAN, (span_t){junk, sizeof junk}, a, &out, &hit) == ST_ECORRUPT);
        CHECK(!hit);
    }
    wcache_stats(c, &st);
    CHECK_EQ_INT(st.hits, 0);
    CHECK_EQ_INT(st.misses, 2);
    CHECK_EQ_INT(st.stored, 0);
    /* no cache: jobs_run alone */
    CHECK(run(NULL, sc, JOBS_ECHO, (span_t){(const uint8_t *)"hi", 2}, a, &out, &hit) == ST_OK);
    CHECK(!hit);
    wcache_destroy(&c);
    arena_destroy(&a);
    scanner_destroy(&sc);
}

TEST(wcache_restarted_worker_finds_results_on_disk)
{
    char dir[64];
    scanner_t *sc = scanner_new();
    arena_t *a = arena_new(0);
    wcache_t *c = NULL;
    wcache_stats_t st;
    span_t ref, out;
    bool hit = true;
    buf_t in;

    REQUIRE(sc != NULL && a != NULL && tmp_dir(dir) != NULL);
    scan_input(&in, src);
    REQUIRE(reference(sc, JOBS_SCAN, (span_t){in.data, in.len}, a, &ref));
    REQUIRE(wcache_open(&(wcache_opts_t){.dir = dir}, &c, NULL) == ST_OK);
    CHECK(run(c, sc, JOBS_SCAN, (span_t){in.data, in.len}, a, &out, &hit) == ST_OK && !hit);
    wcache_destroy(&c); /* commits */
    REQUIRE(wcache_open(&(wcache_opts_t){.dir = dir}, &c, NULL) == ST_OK);
    CHECK(run(c, sc, JOBS_SCAN, (span_t){in.data, in.len}, a, &out, &hit) == ST_OK);
    CHECK(hit);
    CHECK(same(out, ref));
    wcache_stats(c, &st);
    CHECK(st.disk);
    CHECK_EQ_INT(st.hits, 1);
    CHECK_EQ_INT(st.disk_hits, 1);
    CHECK_EQ_INT(st.misses, 0);
    wcache_destroy(&c);
    /* another analyzer version does not see those results */
    REQUIRE(wcache_open(&(wcache_opts_t){.dir = dir, .version = "0.0.0-other"}, &c, NULL) == ST_OK);
    CHECK(run(c, sc, JOBS_SCAN, (span_t){in.data, in.len}, a, &out, &hit) == ST_OK);
    CHECK(!hit);
    CHECK(same(out, ref));
    wcache_destroy(&c);
    rm_tree(dir);
    buf_free(&in);
    arena_destroy(&a);
    scanner_destroy(&sc);
}

/* Flips the last byte of the record stored under key in dir's database. */
static bool damage_record(const char *dir, const digest_t *key)
{
    char path[128];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    uint8_t rec[65536];
    int len = 0;
    bool ok = false;

    snprintf(path, sizeof path, "%s/cas.sqlite", dir);
    if (sqlite3_open(path, &db) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT value FROM cas WHERE ns = 1 AND digest = ?1", -1, &st,
                           NULL) != SQLITE_OK)
        goto done;
    sqlite3_bind_blob(st, 1, key->b, 32, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW || (len = sqlite3_column_bytes(st, 0)) > (int)sizeof rec ||
        len < 1)
        goto done;
    memcpy(rec, sqlite3_column_blob(st, 0), (size_t)len);
    sqlite3_finalize(st);
    st = NULL;
    rec[len - 1] ^= 0x10;
    if (sqlite3_prepare_v2(db, "UPDATE cas SET value = ?2 WHERE ns = 1 AND digest = ?1", -1, &st,
                           NULL) != SQLITE_OK)
        goto done;
    sqlite3_bind_blob(st, 1, key->b, 32, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, rec, len, SQLITE_STATIC);
    ok = sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(db) == 1;
done:
    sqlite3_finalize(st);
    sqlite3_close(db);
    return ok;
}

TEST(wcache_damaged_disk_entry_is_a_miss_and_the_job_runs)
{
    char dir[64];
    scanner_t *sc = scanner_new();
    arena_t *a = arena_new(0);
    wcache_t *c = NULL;
    wcache_stats_t st;
    span_t ref, out;
    bool hit = true;
    buf_t in;
    digest_t key;

    REQUIRE(sc != NULL && a != NULL && tmp_dir(dir) != NULL);
    log_set_level(LOG_LEVEL_OFF); /* the damage is said on stderr */
    scan_input(&in, src);
    REQUIRE(reference(sc, JOBS_SCAN, (span_t){in.data, in.len}, a, &ref));
    REQUIRE(wcache_key(WCACHE_VERSION, JOBS_SCAN, (span_t){in.data, in.len}, &key, NULL) == ST_OK);
    REQUIRE(wcache_open(&(wcache_opts_t){.dir = dir}, &c, NULL) == ST_OK);
    CHECK(run(c, sc, JOBS_SCAN, (span_t){in.data, in.len}, a, &out, &hit) == ST_OK && !hit);
    wcache_destroy(&c);
    REQUIRE(damage_record(dir, &key));
    REQUIRE(wcache_open(&(wcache_opts_t){.dir = dir}, &c, NULL) == ST_OK);
    CHECK(run(c, sc, JOBS_SCAN, (span_t){in.data, in.len}, a, &out, &hit) == ST_OK);
    CHECK(!hit);
    CHECK(same(out, ref));
    wcache_stats(c, &st);
    CHECK_EQ_INT(st.corrupt, 1);
    CHECK_EQ_INT(st.misses, 1);
    CHECK_EQ_INT(st.stored, 1); /* the fresh result replaces it */
    wcache_destroy(&c);
    REQUIRE(wcache_open(&(wcache_opts_t){.dir = dir}, &c, NULL) == ST_OK);
    CHECK(run(c, sc, JOBS_SCAN, (span_t){in.data, in.len}, a, &out, &hit) == ST_OK);
    CHECK(hit);
    CHECK(same(out, ref));
    wcache_destroy(&c);
    log_set_level(LOG_LEVEL_WARN);
    rm_tree(dir);
    buf_free(&in);
    arena_destroy(&a);
    scanner_destroy(&sc);
}

TEST(wcache_unusable_directory_or_database_runs_the_jobs)
{
    char dir[64], path[128];
    scanner_t *sc = scanner_new();
    arena_t *a = arena_new(0);
    wcache_t *c = NULL;
    wcache_stats_t st;
    span_t ref, out;
    bool hit = true;
    buf_t in;
    FILE *f;

    REQUIRE(sc != NULL && a != NULL && tmp_dir(dir) != NULL);
    log_set_level(LOG_LEVEL_OFF);
    scan_input(&in, src);
    REQUIRE(reference(sc, JOBS_SCAN, (span_t){in.data, in.len}, a, &ref));
    /* a file where the directory should be: memory only */
    snprintf(path, sizeof path, "%s/file", dir);
    REQUIRE((f = fopen(path, "w")) != NULL);
    fclose(f);
    REQUIRE(wcache_open(&(wcache_opts_t){.dir = path}, &c, NULL) == ST_OK);
    CHECK(run(c, sc, JOBS_SCAN, (span_t){in.data, in.len}, a, &out, &hit) == ST_OK && !hit);
    CHECK(same(out, ref));
    CHECK(run(c, sc, JOBS_SCAN, (span_t){in.data, in.len}, a, &out, &hit) == ST_OK && hit);
    CHECK(same(out, ref));
    wcache_stats(c, &st);
    CHECK(!st.disk);
    wcache_destroy(&c);
    /* a database that is not one: set aside, the job runs */
    snprintf(path, sizeof path, "%s/db", dir);
    REQUIRE(wcache_open(&(wcache_opts_t){.dir = path}, &c, NULL) == ST_OK);
    CHECK(run(c, sc, JOBS_SCAN, (span_t){in.data, in.len}, a, &out, &hit) == ST_OK);
    wcache_destroy(&c);
    snprintf(path, sizeof path, "%s/db/cas.sqlite", dir);
    REQUIRE((f = fopen(path, "w")) != NULL);
    fputs("this is not a database, and it is long enough to look like a header of one", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/db", dir);
    REQUIRE(wcache_open(&(wcache_opts_t){.dir = path}, &c, NULL) == ST_OK);
    CHECK(run(c, sc, JOBS_SCAN, (span_t){in.data, in.len}, a, &out, &hit) == ST_OK);
    CHECK(!hit);
    CHECK(same(out, ref));
    wcache_destroy(&c);
    log_set_level(LOG_LEVEL_WARN);
    rm_tree(dir);
    buf_free(&in);
    arena_destroy(&a);
    scanner_destroy(&sc);
}

TEST(wcache_open_errors)
{
    char version[300];
    wcache_t *c = NULL;
    st_err_t err = {0};

    memset(version, 'v', sizeof version - 1);
    version[sizeof version - 1] = 0;
    CHECK(wcache_open(&(wcache_opts_t){.version = version}, &c, &err) == ST_EINVAL);
    CHECK(c == NULL);
    alloc_fail_after(0);
    CHECK(wcache_open(&(wcache_opts_t){0}, &c, &err) == ST_ENOMEM);
    alloc_fail_after(-1);
    CHECK(c == NULL);
}
