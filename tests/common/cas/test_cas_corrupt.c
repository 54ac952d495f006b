/* test_cas_corrupt.c - damaged caches: bit flips in stored values, random
 * bytes flipped in the database and its WAL, truncated files, a file that is
 * not a database at all. A damaged entry must read as a miss, never as a
 * wrong value; nothing may crash; the store must open without repair. */
#include "test.h"

#include "cas_test.h"
#include "common/cas/cas.h"
#include "common/log.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>

#define NENTRIES 100

static void path_in(char *out, size_t cap, const char *dir, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

/* Rewrites the stored record of key i through f. */
static int edit_record(const char *dir, long i, void (*f)(uint8_t *rec, int *len))
{
    char path[128];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    digest_t k = cas_test_key(i);
    uint8_t rec[4096];
    int len, ok = 0;

    path_in(path, sizeof path, dir, "cas.sqlite");
    if (sqlite3_open(path, &db) != SQLITE_OK)
        goto done;
    sqlite3_prepare_v2(db, "SELECT value FROM cas WHERE ns = 1 AND digest = ?1", -1, &st, NULL);
    sqlite3_bind_blob(st, 1, k.b, 32, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW || (len = sqlite3_column_bytes(st, 0)) > 4096)
        goto done;
    memcpy(rec, sqlite3_column_blob(st, 0), (size_t)len);
    sqlite3_finalize(st);
    f(rec, &len);
    sqlite3_prepare_v2(db, "UPDATE cas SET value = ?2 WHERE ns = 1 AND digest = ?1", -1, &st, NULL);
    sqlite3_bind_blob(st, 1, k.b, 32, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, rec, len, SQLITE_STATIC);
    ok = sqlite3_step(st) == SQLITE_DONE;
done:
    sqlite3_finalize(st);
    sqlite3_close(db);
    return ok;
}

/* The stored record of key i into rec (at most 4096 bytes); its length, or
 * -1. */
static int read_record(const char *dir, long i, uint8_t *rec)
{
    char path[128];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    digest_t k = cas_test_key(i);
    int len = -1;

    path_in(path, sizeof path, dir, "cas.sqlite");
    if (sqlite3_open(path, &db) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT value FROM cas WHERE ns = 1 AND digest = ?1", -1, &st,
                           NULL) == SQLITE_OK) {
        sqlite3_bind_blob(st, 1, k.b, 32, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW && (len = sqlite3_column_bytes(st, 0)) <= 4096)
            memcpy(rec, sqlite3_column_blob(st, 0), (size_t)len);
        else
            len = -1;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return len;
}

static void flip_payload(uint8_t *rec, int *len)
{
    rec[*len - 1] ^= 0x10;
}

static void flip_key(uint8_t *rec, int *len)
{
    (void)len;
    rec[20] ^= 0x01;
}

static void flip_length(uint8_t *rec, int *len)
{
    (void)len;
    rec[11] ^= 0x40; /* claims far more than CAS_MAX_VALUE... or a wrong size */
}

static void truncate_rec(uint8_t *rec, int *len)
{
    (void)rec;
    *len /= 2;
}

static void flip_digest(uint8_t *rec, int *len)
{
    (void)len;
    rec[50] ^= 0x80;
}

static void old_version(uint8_t *rec, int *len)
{
    (void)len;
    rec[3] = '1'; /* what strata wrote before the XXH3 digests */
}

TEST(cas_corrupt_damage_is_caught_in_both_codecs)
{
    uint8_t rec[4096];
    char dir[64];
    cas_t *c;

    REQUIRE(cas_test_tmpdir(dir) != NULL);
    c = cas_test_open(dir, CAS_STRICT);
    REQUIRE(c != NULL);
    for (long i = 0; i < 5; i++)
        CHECK_EQ_INT(cas_test_put(c, i, false), ST_OK);
    cas_close(&c);
    /* the values cas_corrupt_values_read_as_misses damages: 2 and 4 are
     * zstd frames, 1 and 3 raw, so a flip is caught after either codec */
    for (long i = 1; i < 5; i++) {
        CHECK(read_record(dir, i, rec) > 4);
        CHECK_EQ_INT(rec[4], i % 2 == 0 ? 1 : 0);
    }
    cas_test_rmdir(dir);
}

TEST(cas_corrupt_other_version_is_a_plain_miss)
{
    char dir[64];
    arena_t *a = arena_new(0);
    cas_stats_t s;
    uint64_t checked, removed;
    cas_t *c;

    REQUIRE(a != NULL && cas_test_tmpdir(dir) != NULL);
    c = cas_test_open(dir, CAS_STRICT);
    REQUIRE(c != NULL);
    for (long i = 0; i < 10; i++)
        CHECK_EQ_INT(cas_test_put(c, i, false), ST_OK);
    cas_close(&c);
    CHECK(edit_record(dir, 2, old_version));
    CHECK(edit_record(dir, 3, old_version));
    c = cas_test_open(dir, CAS_STRICT);
    REQUIRE(c != NULL);
    for (long i = 0; i < 10; i++)
        CHECK_EQ_INT(cas_test_get(c, i, a), i == 2 || i == 3 ? ST_ENOENT : ST_OK);
    cas_stats(c, &s);
    CHECK_EQ_INT(s.corruptions, 0); /* not damage: kept until overwritten */
    CHECK_EQ_INT(s.disk.entries, 10);
    CHECK_EQ_INT(cas_test_put(c, 2, false), ST_OK); /* a re-run stores it anew */
    cas_close(&c);
    c = cas_test_open(dir, CAS_STRICT);
    REQUIRE(c != NULL);
    CHECK_EQ_INT(cas_test_get(c, 2, a), ST_OK);
    CHECK_EQ_INT(cas_test_get(c, 3, a), ST_ENOENT);
    /* verify drops what no run can read, without calling it corrupt */
    CHECK_EQ_INT(cas_verify(c, &checked, &removed, NULL), ST_OK);
    CHECK_EQ_INT(checked, 10);
    CHECK_EQ_INT(removed, 1);
    cas_stats(c, &s);
    CHECK_EQ_INT(s.corruptions, 0);
    CHECK_EQ_INT(s.disk.entries, 9);
    cas_close(&c);
    arena_destroy(&a);
    cas_test_rmdir(dir);
}

/* The same damage met by a batch large enough to decode on two threads:
 * every damaged entry a miss, removed and counted once, the rest right. */
TEST(cas_corrupt_values_in_a_large_batch)
{
    void (*edits[])(uint8_t *, int *) = {flip_payload, flip_key,    flip_length,
                                         truncate_rec, flip_digest, old_version};
    enum { N = 200 };
    char dir[64];
    arena_t *a = arena_new(0);
    digest_t keys[N];
    span_t vals[N];
    size_t hits = 0;
    cas_stats_t s;
    cas_t *c;
    int wrong = 0;

    REQUIRE(a != NULL && cas_test_tmpdir(dir) != NULL);
    c = cas_test_open(dir, CAS_STRICT);
    REQUIRE(c != NULL);
    for (long i = 0; i < N; i++) {
        CHECK_EQ_INT(cas_test_put(c, i, false), ST_OK);
        keys[i] = cas_test_key(i);
    }
    cas_close(&c);
    /* i % 20 < 6 damaged: both codecs (odd i raw, even i compressed) */
    for (long i = 0; i < N; i++)
        if (i % 20 < 6)
            CHECK(edit_record(dir, i, edits[i % 20]));
    c = cas_test_open(dir, CAS_STRICT);
    REQUIRE(c != NULL);
    CHECK_EQ_INT(cas_get_many(c, CAS_RESULTS, keys, N, a, vals, &hits, NULL), ST_OK);
    CHECK_EQ_INT(hits, N - N / 20 * 6);
    for (long i = 0; i < N; i++)
        wrong += i % 20 < 6 ? vals[i].ptr != NULL : !cas_test_value_ok(i, vals[i]);
    CHECK_EQ_INT(wrong, 0);
    cas_stats(c, &s);
    CHECK_EQ_INT(s.corruptions, N / 20 * 5); /* the old-version records are not damage */
    CHECK_EQ_INT(s.disk.entries, N - N / 20 * 5);
    CHECK_EQ_INT(s.disk.misses, N / 20 * 6);
    arena_reset(a);
    CHECK_EQ_INT(cas_get_many(c, CAS_RESULTS, keys, N, a, vals, &hits, NULL), ST_OK);
    CHECK_EQ_INT(hits, N - N / 20 * 6);
    cas_stats(c, &s);
    CHECK_EQ_INT(s.corruptions, N / 20 * 5); /* counted once */
    cas_close(&c);
    arena_destroy(&a);
    cas_test_rmdir(dir);
}

TEST(cas_corrupt_values_read_as_misses)
{
    void (*edits[])(uint8_t *, int *) = {flip_payload, flip_key, flip_length, truncate_rec,
                                         flip_digest};
    char dir[64];
    arena_t *a = arena_new(0);
    cas_stats_t s;
    uint64_t checked, removed;
    cas_t *c;

    REQUIRE(a != NULL && cas_test_tmpdir(dir) != NULL);
    c = cas_test_open(dir, CAS_STRICT);
    REQUIRE(c != NULL);
    for (long i = 0; i < 20; i++)
        CHECK_EQ_INT(cas_test_put(c, i, false), ST_OK);
    cas_close(&c);
    for (long i = 0; i < 5; i++) { /* 0, 2, 4: compressed; 1, 3: raw */
        CHECK(edit_record(dir, i, edits[i]));
        CHECK(edit_record(dir, 10 + i, edits[i]));
    }
    c = cas_test_open(dir, CAS_STRICT);
    REQUIRE(c != NULL);
    for (long i = 0; i < 10; i++)
        CHECK_EQ_INT(cas_test_get(c, i, a), i < 5 ? ST_ENOENT : ST_OK);
    for (long i = 0; i < 5; i++) /* removed: still a miss, not counted twice */
        CHECK_EQ_INT(cas_test_get(c, i, a), ST_ENOENT);
    cas_stats(c, &s);
    CHECK_EQ_INT(s.corruptions, 5);
    CHECK_EQ_INT(s.disk.entries, 15);
    /* verify finds the five nobody read */
    CHECK_EQ_INT(cas_verify(c, &checked, &removed, NULL), ST_OK);
    CHECK_EQ_INT(checked, 15);
    CHECK_EQ_INT(removed, 5);
    CHECK_EQ_INT(cas_verify(c, &checked, &removed, NULL), ST_OK);
    CHECK_EQ_INT(checked, 10);
    CHECK_EQ_INT(removed, 0);
    cas_close(&c);
    arena_destroy(&a);
    cas_test_rmdir(dir);
}

static int count_corrupt_files(const char *dir)
{
    char cmd[256], out[64] = "";
    FILE *p;

    snprintf(cmd, sizeof cmd, "ls %s | grep -c 'cas.sqlite.corrupt-'", dir);
    if ((p = popen(cmd, "r")) == NULL)
        return -1;
    if (fgets(out, sizeof out, p) == NULL)
        out[0] = '\0';
    pclose(p);
    return atoi(out);
}

TEST(cas_corrupt_not_a_database)
{
    char dir[64], path[128], line[512];
    arena_t *a = arena_new(0);
    FILE *f, *logf = tmpfile();
    cas_stats_t s;
    int warnings = 0;
    cas_t *c;

    REQUIRE(a != NULL && logf != NULL && cas_test_tmpdir(dir) != NULL);
    path_in(path, sizeof path, dir, "cas.sqlite");
    f = fopen(path, "w");
    REQUIRE(f != NULL);
    for (int i = 0; i < 5000; i++)
        fputc("garbage!"[i % 8], f);
    fclose(f);
    log_set_output(logf);
    c = cas_test_open(dir, CAS_BUFFERED);
    log_set_output(NULL);
    REQUIRE(c != NULL);
    cas_stats(c, &s);
    CHECK(s.disk_enabled);
    CHECK_EQ_INT(s.databases_reset, 1);
    CHECK_EQ_INT(count_corrupt_files(dir), 1);
    CHECK_EQ_INT(cas_test_put(c, 1, true), ST_OK);
    cas_close(&c);
    c = cas_test_open(dir, CAS_BUFFERED);
    REQUIRE(c != NULL);
    CHECK_EQ_INT(cas_test_get(c, 1, a), ST_OK);
    cas_close(&c);
    rewind(logf);
    while (fgets(line, sizeof line, logf))
        warnings += strstr(line, "warn") != NULL;
    CHECK_EQ_INT(warnings, 1);
    fclose(logf);
    arena_destroy(&a);
    cas_test_rmdir(dir);
}

static int copy_file(const char *from, const char *to)
{
    char buf[65536];
    size_t n;
    FILE *in = fopen(from, "rb"), *out;

    if (in == NULL)
        return 0;
    if ((out = fopen(to, "wb")) == NULL) {
        fclose(in);
        return 0;
    }
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        fwrite(buf, 1, n, out);
    fclose(in);
    fclose(out);
    return 1;
}

static void checkpoint(const char *dir)
{
    char path[128];
    sqlite3 *db;

    path_in(path, sizeof path, dir, "cas.sqlite");
    if (sqlite3_open(path, &db) == SQLITE_OK)
        sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    sqlite3_close(db);
}

/* A crash image: NENTRIES entries, the first half checkpointed into the
 * database, the rest only in the WAL. */
static int make_image(const char *dir, const char *image)
{
    char from[128], to[128];
    int ok;
    cas_t *c = cas_test_open(dir, CAS_STRICT);

    if (c == NULL)
        return 0;
    for (long i = 0; i < NENTRIES; i++) {
        cas_test_put(c, i, false);
        if (i == NENTRIES / 2)
            checkpoint(dir);
    }
    path_in(from, sizeof from, dir, "cas.sqlite");
    path_in(to, sizeof to, image, "cas.sqlite");
    ok = copy_file(from, to);
    path_in(from, sizeof from, dir, "cas.sqlite-wal");
    path_in(to, sizeof to, image, "cas.sqlite-wal");
    ok &= copy_file(from, to);
    cas_close(&c);
    return ok;
}

static void damage(const char *path, unsigned *seed)
{
    struct stat st;
    int fd = open(path, O_RDWR);
    int kind = rand_r(seed) % 4;

    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size == 0) {
        if (fd >= 0)
            close(fd);
        return;
    }
    if (kind == 0) {
        if (ftruncate(fd, rand_r(seed) % st.st_size) != 0)
            kind = 1;
    }
    for (int n = kind == 0 ? 0 : 1 + rand_r(seed) % (kind * 8); n > 0; n--) {
        off_t at = rand_r(seed) % st.st_size;
        uint8_t b;
        if (pread(fd, &b, 1, at) == 1) {
            b ^= (uint8_t)(1u << (rand_r(seed) % 8));
            if (pwrite(fd, &b, 1, at) != 1)
                break;
        }
    }
    close(fd);
}

/* Opens a damaged image: every entry is right or a miss, verify runs, and
 * the store still takes and returns new entries. */
static void check_damaged(const char *dir, int *wrong, int *hits)
{
    arena_t *a = arena_new(0);
    uint64_t checked, removed;
    cas_t *c = cas_test_open(dir, CAS_BUFFERED);

    if (c == NULL || a == NULL) {
        (*wrong)++;
        arena_destroy(&a);
        cas_close(&c);
        return;
    }
    for (long i = 0; i < NENTRIES; i++) {
        st_rc_t rc = cas_test_get(c, i, a);
        *wrong += rc != ST_OK && rc != ST_ENOENT;
        *hits += rc == ST_OK;
        arena_reset(a);
    }
    cas_verify(c, &checked, &removed, NULL);
    *wrong += cas_test_put(c, NENTRIES + 1, true) != ST_OK;
    cas_close(&c);
    c = cas_test_open(dir, CAS_BUFFERED);
    *wrong += c == NULL || cas_test_get(c, NENTRIES + 1, a) != ST_OK;
    cas_close(&c);
    arena_destroy(&a);
}

TEST(cas_corrupt_random_bytes_in_files)
{
    char dir[64], image[64], trial[64], from[128], to[128];
    const char *files[] = {"cas.sqlite", "cas.sqlite-wal"};
    FILE *logf = tmpfile();
    unsigned seed = 12345;
    int wrong = 0, hits = 0;

    REQUIRE(logf != NULL && cas_test_tmpdir(dir) != NULL && cas_test_tmpdir(image) != NULL);
    REQUIRE(make_image(dir, image));
    log_set_output(logf);
    for (int t = 0; t < 60; t++) {
        REQUIRE(cas_test_tmpdir(trial) != NULL);
        for (int f = 0; f < 2; f++) {
            path_in(from, sizeof from, image, files[f]);
            path_in(to, sizeof to, trial, files[f]);
            copy_file(from, to);
        }
        path_in(to, sizeof to, trial, files[t % 3 == 2 ? 1 : t % 2]);
        damage(to, &seed);
        if (t % 5 == 4) { /* both */
            path_in(to, sizeof to, trial, files[1]);
            damage(to, &seed);
        }
        check_damaged(trial, &wrong, &hits);
        cas_test_rmdir(trial);
    }
    log_set_output(NULL);
    fclose(logf);
    CHECK_EQ_INT(wrong, 0);
    CHECK(hits > 0); /* most damage leaves most entries readable */
    cas_test_rmdir(dir);
    cas_test_rmdir(image);
}
