/* test_cas_log.c - buffered mode's log: which store adopts a log (its lock
 * decides, not the pid in its name), damaged logs read as misses, a log
 * that cannot be merged is kept, the index forgets a cleared log's rows,
 * a full disk under buffered mode, and no descriptor left open. */
#include "test.h"

#include "cas_test.h"
#include "common/alloc.h"
#include "common/cas/cas.h"
#include "common/cas/cas_log.h"
#include "common/log.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

enum { LOG_RECORDS = 40 };

/* Files in dir whose name starts with prefix; the first one's name in
 * first (when not NULL, at least 256 bytes). */
static int count_files(const char *dir, const char *prefix, char *first)
{
    struct dirent *e;
    DIR *d = opendir(dir);
    int n = 0;

    while (d != NULL && (e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
            continue;
        if (n++ == 0 && first != NULL)
            snprintf(first, 256, "%s", e->d_name);
    }
    if (d != NULL)
        closedir(d);
    return n;
}

/* A child process puts keys 0..LOG_RECORDS in windows of 10 and ends
 * without closing its store, as if killed: its log stays in dir, unmerged.
 * The log's name (NAME.sqlite, its records in NAME.sqlite-wal) in name. */
static void leave_a_log(const char *dir, char name[256])
{
    int status = -1;
    pid_t pid = fork();

    REQUIRE(pid >= 0);
    if (pid == 0) {
        cas_t *c = cas_test_open_window(dir, 10, 1);
        int bad = c == NULL;
        for (long i = 0; i < LOG_RECORDS && c != NULL; i++)
            bad += cas_test_put(c, i, false) != ST_OK;
        _exit(bad ? 1 : 0);
    }
    waitpid(pid, &status, 0);
    REQUIRE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    REQUIRE(count_files(dir, "cas-log-", NULL) >= 1);
    REQUIRE(count_files(dir, "cas-log-", name) >= 1);
    *strstr(name, ".sqlite") = '\0';
}

static void rename_log(const char *dir, const char *from, const char *to)
{
    static const char *const suffix[] = {".sqlite", ".sqlite-wal"};
    char a[600], b[600];

    for (int i = 0; i < 2; i++) {
        snprintf(a, sizeof a, "%s/%s%s", dir, from, suffix[i]);
        snprintf(b, sizeof b, "%s/%s%s", dir, to, suffix[i]);
        REQUIRE(rename(a, b) == 0);
    }
}

/* A log whose name carries the pid of a live process (a pid reused after a
 * crash) but whose lock is free is adopted all the same. */
TEST(cas_log_adopted_whatever_pid_it_names)
{
    char dir[64], name[256], alive[64];
    arena_t *a = arena_new(0);
    int wrong = 0;
    cas_t *c;

    REQUIRE(a != NULL && cas_test_tmpdir(dir) != NULL);
    leave_a_log(dir, name);
    snprintf(alive, sizeof alive, "cas-log-%ld-7", (long)getppid());
    rename_log(dir, name, alive);
    c = cas_test_open(dir, CAS_BUFFERED);
    REQUIRE(c != NULL);
    for (long i = 0; i < LOG_RECORDS; i++, arena_reset(a))
        wrong += cas_test_get(c, i, a) != ST_OK;
    CHECK_EQ_INT(wrong, 0);
    CHECK_EQ_INT(count_files(dir, "cas-log-", NULL), 0);
    cas_close(&c);
    arena_destroy(&a);
    cas_test_rmdir(dir);
}

/* A store does not adopt the log another live store holds, even in the
 * same process; the records reach the other store once the holder closes. */
TEST(cas_log_held_log_is_left_alone)
{
    char dir[64];
    arena_t *a = arena_new(0);
    int held = 0, other = 0;
    cas_t *c, *c2;

    REQUIRE(a != NULL && cas_test_tmpdir(dir) != NULL);
    c = cas_test_open_window(dir, 10, 1);
    REQUIRE(c != NULL);
    for (long i = 0; i < LOG_RECORDS; i++)
        CHECK_EQ_INT(cas_test_put(c, i, false), ST_OK);
    CHECK(count_files(dir, "cas-log-", NULL) >= 1);
    c2 = cas_test_open(dir, CAS_BUFFERED);
    REQUIRE(c2 != NULL);
    CHECK(count_files(dir, "cas-log-", NULL) >= 1);
    for (long i = 0; i < LOG_RECORDS; i++, arena_reset(a)) {
        held += cas_test_get(c, i, a) == ST_OK;
        other += cas_test_get(c2, i, a) == ST_OK;
    }
    CHECK_EQ_INT(held, LOG_RECORDS);
    CHECK_EQ_INT(other, 0);
    cas_close(&c);
    CHECK_EQ_INT(count_files(dir, "cas-log-", NULL), 0);
    for (long i = 0; i < LOG_RECORDS; i++, arena_reset(a))
        CHECK_EQ_INT(cas_test_get(c2, i, a), ST_OK);
    cas_close(&c2);
    arena_destroy(&a);
    cas_test_rmdir(dir);
}

static void overwrite(const char *path, off_t at, size_t len)
{
    int fd = open(path, O_WRONLY);
    char junk[512];

    REQUIRE(fd >= 0 && len <= sizeof junk);
    for (size_t i = 0; i < len; i++)
        junk[i] = "garbage!"[i % 8];
    CHECK(pwrite(fd, junk, len, at) == (ssize_t)len);
    close(fd);
}

static void cut(const char *path, int percent)
{
    struct stat st;

    REQUIRE(stat(path, &st) == 0);
    CHECK(truncate(path, st.st_size * percent / 100) == 0);
}

/* Damages the log NAME in dir in one of several ways. */
static void damage(const char *dir, const char *name, int how)
{
    char db[600], wal[600];
    struct stat st;

    snprintf(db, sizeof db, "%s/%s.sqlite", dir, name);
    snprintf(wal, sizeof wal, "%s/%s.sqlite-wal", dir, name);
    switch (how) {
    case 0: /* a WAL cut in the middle of a frame */
        cut(wal, 50);
        break;
    case 1: /* a WAL cut to its header */
        CHECK(truncate(wal, 32) == 0);
        break;
    case 2: /* the database's header overwritten */
        overwrite(db, 0, 100);
        break;
    case 3: /* records overwritten inside the WAL's frames */
        REQUIRE(stat(wal, &st) == 0);
        for (off_t at = 4096; at + 512 < st.st_size; at += 8192)
            overwrite(wal, at, 512);
        break;
    case 4: /* an empty database file beside its WAL */
        CHECK(truncate(db, 0) == 0);
        break;
    default: /* no WAL at all */
        CHECK(unlink(wal) == 0);
        break;
    }
}

/* A damaged log never crashes a store nor gives a wrong value: each record
 * reads back right or as a miss (recomputed), and the log is gone after. */
TEST(cas_log_damaged_logs_read_as_misses)
{
    for (int how = 0; how < 6; how++) {
        char dir[64], name[256];
        arena_t *a = arena_new(0);
        FILE *logf = tmpfile();
        int wrong = 0, found = 0;
        cas_t *c;

        REQUIRE(a != NULL && logf != NULL && cas_test_tmpdir(dir) != NULL);
        leave_a_log(dir, name);
        damage(dir, name, how);
        log_set_output(logf);
        c = cas_test_open(dir, CAS_BUFFERED);
        log_set_output(NULL);
        REQUIRE(c != NULL);
        for (long i = 0; i < LOG_RECORDS; i++, arena_reset(a)) {
            st_rc_t rc = cas_test_get(c, i, a);
            wrong += rc != ST_OK && rc != ST_ENOENT;
            found += rc == ST_OK;
        }
        if (wrong != 0 || count_files(dir, "cas-log-", NULL) != 0)
            fprintf(stderr, "  damage %d: %d wrong, %d found\n", how, wrong, found);
        CHECK_EQ_INT(wrong, 0);
        CHECK_EQ_INT(count_files(dir, "cas-log-", NULL), 0);
        cas_close(&c);
        fclose(logf);
        arena_destroy(&a);
        cas_test_rmdir(dir);
    }
}

/* A log the adopting store cannot merge (another connection holds the
 * database's write lock) stays for a later store, which merges it. */
TEST(cas_log_unmerged_log_kept_for_later)
{
    char dir[64], name[256], db[128];
    arena_t *a = arena_new(0);
    sqlite3 *lock = NULL;
    cas_t *c;
    int found = 0;

    REQUIRE(a != NULL && cas_test_tmpdir(dir) != NULL);
    leave_a_log(dir, name);
    snprintf(db, sizeof db, "%s/cas.sqlite", dir);
    REQUIRE(sqlite3_open(db, &lock) == SQLITE_OK);
    REQUIRE(sqlite3_exec(lock, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK);
    c = cas_test_open(dir, CAS_BUFFERED); /* waits for the lock, gives up */
    REQUIRE(c != NULL);
    cas_close(&c);
    CHECK(count_files(dir, "cas-log-", NULL) >= 1);
    sqlite3_exec(lock, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(lock);
    c = cas_test_open(dir, CAS_BUFFERED);
    REQUIRE(c != NULL);
    for (long i = 0; i < LOG_RECORDS; i++, arena_reset(a))
        found += cas_test_get(c, i, a) == ST_OK;
    CHECK_EQ_INT(found, LOG_RECORDS);
    CHECK_EQ_INT(count_files(dir, "cas-log-", NULL), 0);
    cas_close(&c);
    arena_destroy(&a);
    cas_test_rmdir(dir);
}

static cas_disk_rec_t log_rec(long i, uint8_t *buf, size_t cap)
{
    cas_disk_rec_t r = {.key = cas_test_key(i), .ns = CAS_RESULTS};

    r.len = cas_test_value(i, buf, cap);
    r.raw_len = (uint32_t)r.len;
    r.rec = buf;
    return r;
}

/* A cleared log's row ids are forgotten even when memory runs out as it is
 * cleared: the next file's rows start again at 1, and a stale entry would
 * give a key another key's record. */
TEST(cas_log_index_forgets_cleared_rows)
{
    char dir[64];
    uint8_t b1[2048], b2[2048];
    cas_disk_rec_t r1 = log_rec(1, b1, sizeof b1), r2 = log_rec(2, b2, sizeof b2);
    cas_log_t *log;
    span_t rec;
    uint32_t raw;
    int rc;

    REQUIRE(cas_test_tmpdir(dir) != NULL);
    log = cas_log_new(dir);
    REQUIRE(log != NULL);
    CHECK_EQ_INT(cas_log_append(log, &r1, 1), SQLITE_OK);
    alloc_fail_after(0);
    cas_log_clear(log);
    for (int tries = 0; tries < 3 && (rc = cas_log_append(log, &r2, 1)) != SQLITE_OK; tries++)
        CHECK_EQ_INT(rc, SQLITE_NOMEM); /* the hook's failure, if clear did not meet it */
    alloc_fail_after(-1);
    CHECK_EQ_INT(cas_log_count(log), 1);
    CHECK_EQ_INT(cas_log_get(log, CAS_RESULTS, &r1.key, &rec, &raw), SQLITE_NOTFOUND);
    REQUIRE(cas_log_get(log, CAS_RESULTS, &r2.key, &rec, &raw) == SQLITE_OK);
    CHECK(rec.len == r2.len && memcmp(rec.ptr, r2.rec, r2.len) == 0);
    cas_log_clear(log);
    cas_log_destroy(&log);
    CHECK_EQ_INT(count_files(dir, "cas-log-", NULL), 0);
    cas_test_rmdir(dir);
}

/* A file-size limit makes the log's and the database's writes fail as on a
 * full disk: one warning, memory-only, every put and get still answers. */
TEST(cas_log_disk_full_buffered)
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
        int bad = 0, warnings = 0;
        arena_t *a = arena_new(0);
        cas_t *c = cas_test_open_window(dir, 10, 64u << 20);
        cas_stats_t s;
        signal(SIGXFSZ, SIG_IGN);
        log_set_output(logf);
        if (c == NULL || a == NULL || setrlimit(RLIMIT_FSIZE, &rl) != 0)
            _exit(2);
        for (long i = 0; i < 400; i++)
            bad += cas_test_put(c, i, false) != ST_OK;
        for (long i = 0; i < 400; i++, arena_reset(a))
            bad += cas_test_get(c, i, a) != ST_OK;
        cas_stats(c, &s);
        cas_close(&c);
        log_set_output(NULL);
        rewind(logf);
        while (fgets(line, sizeof line, logf))
            warnings += strstr(line, "going on without") != NULL;
        _exit(bad ? 3 : s.disk_enabled ? 4 : warnings != 1 ? 5 : 0);
    }
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK_EQ_INT(WEXITSTATUS(status), 0);
    cas_test_rmdir(dir);
}

static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;

    while (d != NULL && readdir(d) != NULL)
        n++;
    if (d != NULL)
        closedir(d);
    return n;
}

/* Adopting a log, writing a log of its own and merging both leave no
 * descriptor open once the store is closed. */
TEST(cas_log_no_descriptor_left)
{
    char dir[64], name[256];
    cas_t *c;
    int before;

    REQUIRE(cas_test_tmpdir(dir) != NULL);
    leave_a_log(dir, name);
    before = open_fds();
    c = cas_test_open_window(dir, 10, 1);
    REQUIRE(c != NULL);
    for (long i = 100; i < 100 + LOG_RECORDS; i++)
        CHECK_EQ_INT(cas_test_put(c, i, false), ST_OK);
    CHECK_EQ_INT(cas_flush(c, NULL), ST_OK);
    for (long i = 200; i < 200 + LOG_RECORDS; i++)
        CHECK_EQ_INT(cas_test_put(c, i, false), ST_OK);
    cas_close(&c);
    CHECK_EQ_INT(open_fds(), before);
    CHECK_EQ_INT(count_files(dir, "cas-log-", NULL), 0);
    cas_test_rmdir(dir);
}
