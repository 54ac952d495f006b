/* cas_disk.c - CAS records in one SQLite database per directory.
 *
 * Table cas(ns, digest, value, raw_size, size, atime) WITHOUT ROWID, keyed
 * by (ns, digest): the key is the B-tree key, so a lookup is one descent.
 * atime (ms since the epoch, shared by every process on the host) orders
 * LRU eviction; a read refreshes it only when it is more than a second old,
 * so a warm run does not turn every read into a write.
 *
 * Buffered mode keeps encoded records in a pending list (readable by this
 * process's gets) and commits them in one transaction, by a background
 * flusher thread (started by the first put, so a run that only reads starts
 * none) every flush_ms, or by the put that brings the list to flush_writes.
 * The commit goes to a log of this process (cas_log.h), not to the main
 * table: a window's records land on random pages of the digest-keyed
 * table, and committing each window there rewrote most of the table every
 * time. The log is merged into the main table in key order at flush and
 * close. Holding records rather than an open write transaction means other
 * processes never wait for our window, and a durable put can switch to
 * synchronous=FULL (SQLite refuses that inside a transaction): it goes to
 * the main table at once. Strict mode runs at synchronous=FULL and commits
 * inside each put.
 *
 * Errors: SQLITE_CORRUPT/NOTADB anywhere moves the database (and its -wal
 * and -shm) aside as cas.sqlite.corrupt-<time> and recreates it; BUSY is
 * transient (the operation is skipped, pending records kept); anything else
 * (FULL, IOERR, READONLY...) turns the tier off for the rest of the run.
 *
 * Maintenance (eviction, verify, clear, statistics) is in cas_disk_maint.c,
 * on the same connection under the same lock (cas_disk_int.h). */
#include "common/clock.h"
#include "common/cas/cas_disk_int.h"

#include "common/alloc.h"
#include "common/cas/cas_record.h"
#include "common/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BUSY_TIMEOUT_MS 5000
/* A read session's transaction is renewed after this long, so that a long
 * burst of reads neither reads an old snapshot nor holds back checkpoints. */
#define SESSION_TXN_MAX_NS (200u * 1000000u)
#define TOUCH_SLACK_DEFAULT_MS (3600u * 1000u)
#define TOUCH_MAX 1024
#define CACHE_SIZE_SQL "PRAGMA cache_size=-32768" /* 32 MiB of pages */
/* Pages of a new database. SQLite keeps at most about a quarter of an index
 * page in the B-tree cell (WITHOUT ROWID tables are indexes), the rest of a
 * record goes to overflow pages, so with 4 KB pages every record over 1 KB
 * (most results) cost an overflow chain to follow and copy on each read.
 * With 64 KB pages records up to 16 KB stay in their cell: a warm lookup of
 * the stdlib's results took half the time and the file shrank by a third.
 * An existing database keeps the page size it was made with. */
#define PAGE_SIZE_SQL "PRAGMA page_size=65536"
/* Reads of the database file through a mapping rather than read() into
 * SQLite's page cache: a warm run reads every page once, and copying them
 * into freshly allocated memory cost a page fault per 4 KB (a ninth of a
 * warm run's faults) on top of the copy. The file only ever grows (no
 * VACUUM, no auto-vacuum), so no other process can truncate it under the
 * mapping; beyond this size SQLite reads as before. */
#define MMAP_SQL "PRAGMA mmap_size=268435456"
/* WAL size that triggers a checkpoint, as SQLite's default (1000 pages of
 * 4 KB), whatever the page size. */
#define CHECKPOINT_BYTES (4u << 20)
/* The log is merged into the main table at flush and close, or once it
 * holds this much (a long-lived store: the coordinator daemon). */
#define LOG_MERGE_BYTES ((uint64_t)256 << 20)
/* Records per transaction of a merge. In key order, so the chunks touch
 * disjoint pages; a chunk bounds how long other writers wait. */
#define MERGE_CHUNK 16384
/* Records a merge holds in memory at a time (a larger log is merged in
 * passes over slices of the key space). */
#define MERGE_PASS_BYTES ((uint64_t)64 << 20)

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS cas("
    "ns INTEGER NOT NULL, digest BLOB NOT NULL, value BLOB NOT NULL,"
    "raw_size INTEGER NOT NULL, size INTEGER NOT NULL, atime INTEGER NOT NULL,"
    "PRIMARY KEY(ns, digest)) WITHOUT ROWID";

void cas_disk__free_pending(cas_disk_t *self)
{
    for (size_t i = 0; i < self->npending; i++)
        st_free(self->pending[i].rec);
    self->npending = 0;
}

static void close_db(cas_disk_t *self)
{
    sqlite3_finalize(self->st_get);
    sqlite3_finalize(self->st_put);
    sqlite3_finalize(self->st_del);
    sqlite3_finalize(self->st_touch);
    self->st_get = self->st_put = self->st_del = self->st_touch = NULL;
    sqlite3_close_v2(self->db); /* rolls back a read session's transaction */
    self->db = NULL;
    self->session_txn = false;
}

static int prepare_all(cas_disk_t *self)
{
    int rc;

    if ((rc = sqlite3_prepare_v3(self->db,
                                 "SELECT value, raw_size, atime FROM cas "
                                 "WHERE ns = ?1 AND digest = ?2",
                                 -1, SQLITE_PREPARE_PERSISTENT, &self->st_get, NULL)) != SQLITE_OK)
        return rc;
    if ((rc = sqlite3_prepare_v3(self->db, "INSERT OR REPLACE INTO cas VALUES(?1,?2,?3,?4,?5,?6)",
                                 -1, SQLITE_PREPARE_PERSISTENT, &self->st_put, NULL)) != SQLITE_OK)
        return rc;
    if ((rc = sqlite3_prepare_v3(self->db, "DELETE FROM cas WHERE ns = ?1 AND digest = ?2", -1,
                                 SQLITE_PREPARE_PERSISTENT, &self->st_del, NULL)) != SQLITE_OK)
        return rc;
    return sqlite3_prepare_v3(self->db, "UPDATE cas SET atime = ?3 WHERE ns = ?1 AND digest = ?2",
                              -1, SQLITE_PREPARE_PERSISTENT, &self->st_touch, NULL);
}

/* Sum of record sizes, the start of the budget estimate; reads every row's
 * header, so it also meets most corruption early. */
int cas_disk__read_bytes(cas_disk_t *self, uint64_t *bytes)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(self->db, "SELECT COALESCE(SUM(size), 0) FROM cas", -1, &st, NULL);

    if (rc != SQLITE_OK)
        return rc;
    if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        *bytes = (uint64_t)sqlite3_column_int64(st, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

/* Checkpoints after CHECKPOINT_BYTES of WAL, in this database's pages. */
static int set_autocheckpoint(cas_disk_t *self)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(self->db, "PRAGMA page_size", -1, &st, NULL);
    int pages = 1000;

    if (rc != SQLITE_OK)
        return rc;
    if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int page = sqlite3_column_int(st, 0);
        if (page >= 512)
            pages = (int)(CHECKPOINT_BYTES / (unsigned)page);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return rc;
    sqlite3_wal_autocheckpoint(self->db, pages);
    return SQLITE_OK;
}

/* The -wal and -shm files are kept when the last connection closes (the WAL
 * emptied), so that the next run does not create and delete both again:
 * creating files was 0.25 ms of every warm run, several times that while
 * the file system was busy. */
static int open_db(cas_disk_t *self)
{
    int persist = 1;
    const char *sync =
        self->mode == CAS_STRICT ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL";
    int rc =
        sqlite3_open_v2(self->path, &self->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);

    if (rc != SQLITE_OK)
        goto fail;
    sqlite3_busy_timeout(self->db, BUSY_TIMEOUT_MS);
    sqlite3_file_control(self->db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
    if ((rc = sqlite3_exec(self->db, PAGE_SIZE_SQL, NULL, NULL, NULL)) != SQLITE_OK ||
        (rc = sqlite3_exec(self->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL)) != SQLITE_OK ||
        (rc = sqlite3_exec(self->db, sync, NULL, NULL, NULL)) != SQLITE_OK ||
        (rc = sqlite3_exec(self->db, CACHE_SIZE_SQL, NULL, NULL, NULL)) != SQLITE_OK ||
        (rc = sqlite3_exec(self->db, MMAP_SQL, NULL, NULL, NULL)) != SQLITE_OK ||
        (rc = sqlite3_exec(self->db, schema_sql, NULL, NULL, NULL)) != SQLITE_OK ||
        (rc = set_autocheckpoint(self)) != SQLITE_OK || (rc = prepare_all(self)) != SQLITE_OK ||
        /* the running total serves the budget only: without one, opening
         * does not pay for a scan of the whole table */
        (self->budget > 0 && (rc = cas_disk__read_bytes(self, &self->bytes_est)) != SQLITE_OK))
        goto fail;
    return SQLITE_OK;
fail:
    close_db(self);
    return rc;
}

bool cas_disk__is_corrupt(int rc)
{
    return (rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB;
}

static bool is_busy(int rc)
{
    return (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
}

static void disable(cas_disk_t *self, int rc, const char *what)
{
    LOG_WARN("cache %s: %s: %s, going on without the disk cache", self->path, what,
             sqlite3_errstr(rc));
    close_db(self);
    cas_disk__free_pending(self);
    if (self->log != NULL)
        cas_log_clear(self->log);
    self->enabled = false;
}

static void move_aside(const char *path, const char *suffix, long stamp)
{
    char from[4200], to[4300];

    snprintf(from, sizeof from, "%s%s", path, suffix);
    snprintf(to, sizeof to, "%s.corrupt-%ld%s", path, stamp, suffix);
    if (rename(from, to) != 0 && errno != ENOENT)
        unlink(from);
}

/* The database is corrupt: keep it for inspection, start an empty one. */
void cas_disk__reset_db(cas_disk_t *self, const char *what)
{
    long stamp = (long)time(NULL);
    int rc;

    close_db(self);
    move_aside(self->path, "", stamp);
    move_aside(self->path, "-wal", stamp);
    move_aside(self->path, "-shm", stamp);
    self->resets++;
    self->bytes_est = 0;
    LOG_WARN("cache %s: database corrupt (%s), moved aside as %s.corrupt-%ld and recreated",
             self->path, what, self->path, stamp);
    if ((rc = open_db(self)) != SQLITE_OK)
        disable(self, rc, "cannot recreate the database");
}

/* Reacts to a failed SQLite call; true when the tier is still usable. */
bool cas_disk__on_error(cas_disk_t *self, int rc, const char *what)
{
    if (is_busy(rc)) {
        LOG_DEBUG("cache %s: %s: busy, skipped", self->path, what);
        return true;
    }
    if (cas_disk__is_corrupt(rc))
        cas_disk__reset_db(self, what);
    else
        disable(self, rc, what);
    return false;
}

int cas_disk__exec(cas_disk_t *self, const char *sql)
{
    return sqlite3_exec(self->db, sql, NULL, NULL, NULL);
}

/* Ends a read session's transaction, when one is open, so that a write of
 * this store runs in a transaction of its own (and never holds the write
 * lock for the rest of a session). The next lookup opens a new one. */
void cas_disk__end_read_txn(cas_disk_t *self)
{
    if (!self->session_txn)
        return;
    self->session_txn = false;
    if (self->db != NULL && !sqlite3_get_autocommit(self->db) &&
        cas_disk__exec(self, "COMMIT") != SQLITE_OK)
        cas_disk__exec(self, "ROLLBACK");
}

/* In a read session, makes sure lookups run in its transaction (renewed
 * when it is SESSION_TXN_MAX_NS old); true when they do. */
static bool session_reads(cas_disk_t *self)
{
    uint64_t now;

    if (!self->session || !self->enabled)
        return false;
    now = clock_ns();
    if (self->session_txn && now - self->session_txn_ns > SESSION_TXN_MAX_NS)
        cas_disk__end_read_txn(self);
    if (!self->session_txn && sqlite3_get_autocommit(self->db) &&
        cas_disk__exec(self, "BEGIN") == SQLITE_OK) {
        self->session_txn = true;
        self->session_txn_ns = now;
    }
    return self->session_txn;
}

static void bind_key(sqlite3_stmt *st, cas_ns_t ns, const digest_t *key)
{
    sqlite3_bind_int(st, 1, (int)ns);
    sqlite3_bind_blob(st, 2, key->b, (int)sizeof key->b, SQLITE_STATIC);
}

/* Deletes one entry; failures only cost a later re-detection. */
void cas_disk__delete(cas_disk_t *self, cas_ns_t ns, const digest_t *key)
{
    int rc;

    cas_disk__end_read_txn(self);
    bind_key(self->st_del, ns, key);
    rc = sqlite3_step(self->st_del);
    sqlite3_reset(self->st_del);
    if (rc != SQLITE_DONE)
        cas_disk__on_error(self, rc, "delete");
}

/* Refreshes the atime of the queued reads inside the caller's transaction
 * and forgets them; the first failure is returned for the caller to handle
 * (the rest are dropped: they only cost LRU precision). */
static int run_touches(cas_disk_t *self)
{
    size_t n = self->ntouches;
    int rc = SQLITE_DONE;

    self->ntouches = 0;
    for (size_t i = 0; i < n && rc == SQLITE_DONE; i++) {
        bind_key(self->st_touch, self->touches[i].ns, &self->touches[i].key);
        sqlite3_bind_int64(self->st_touch, 3, (sqlite3_int64)self->touch_ms);
        rc = sqlite3_step(self->st_touch);
        sqlite3_reset(self->st_touch);
    }
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Applies queued touches in a transaction of their own. */
void cas_disk__apply_touches(cas_disk_t *self)
{
    int rc;

    if (self->ntouches == 0 || !self->enabled)
        return;
    cas_disk__end_read_txn(self);
    if (!sqlite3_get_autocommit(self->db)) {
        rc = run_touches(self); /* inside get_many's transaction */
    } else if ((rc = cas_disk__exec(self, "BEGIN IMMEDIATE")) == SQLITE_OK) {
        if ((rc = run_touches(self)) != SQLITE_OK ||
            (rc = cas_disk__exec(self, "COMMIT")) != SQLITE_OK)
            cas_disk__exec(self, "ROLLBACK");
    }
    self->ntouches = 0;
    if (rc != SQLITE_OK)
        cas_disk__on_error(self, rc, "touch");
}

/* Queues an atime refresh: a read must not cost a commit (in strict mode an
 * fsync), so refreshes ride along with the next write, or go in one
 * transaction per TOUCH_MAX reads. */
static void queue_touch(cas_disk_t *self, cas_ns_t ns, const digest_t *key, uint64_t now)
{
    if (self->touches == NULL && (self->touches = st_malloc(TOUCH_MAX * sizeof(touch_t))) == NULL)
        return;
    if (self->ntouches == TOUCH_MAX)
        cas_disk__apply_touches(self);
    self->touches[self->ntouches].ns = ns;
    self->touches[self->ntouches].key = *key;
    self->ntouches++;
    self->touch_ms = now;
}

/* The newest pending record for (ns, key), or NULL. */
static const cas_disk_rec_t *find_pending(cas_disk_t *self, cas_ns_t ns, const digest_t *key)
{
    for (size_t i = self->npending; i-- > 0;)
        if (self->pending[i].ns == ns && digest_eq(&self->pending[i].key, key))
            return &self->pending[i];
    return NULL;
}

/* A lookup in this store's log: ST_OK, ST_ENOMEM, or ST_ENOENT (absent, or
 * found corrupt, which is counted: the main table may still have it). */
static st_rc_t get_logged(cas_disk_t *self, cas_ns_t ns, const digest_t *key, arena_t *a,
                          span_t *value)
{
    span_t rec;
    uint32_t raw_len;
    st_rc_t rc;

    if (self->log == NULL || cas_log_get(self->log, ns, key, &rec, &raw_len) != SQLITE_OK)
        return ST_ENOENT;
    self->reads++;
    rc = cas_record_decode(self->dctx, (int)ns, key, rec.ptr, rec.len, a, value, NULL);
    if (rc == ST_OK && raw_len != value->len)
        rc = ST_ECORRUPT;
    if (rc == ST_ECORRUPT) {
        LOG_DEBUG("cache %s: corrupt entry in the log, skipped", self->path);
        self->corruptions++;
    }
    return rc == ST_OK || rc == ST_ENOMEM ? rc : ST_ENOENT;
}

/* One lookup: ST_OK, ST_ENOENT (absent, corrupt, or a database error),
 * ST_ENOMEM. */
static st_rc_t get_one(cas_disk_t *self, cas_ns_t ns, const digest_t *key, arena_t *a,
                       span_t *value)
{
    const cas_disk_rec_t *p = find_pending(self, ns, key);
    st_rc_t rc;
    uint64_t atime, now;
    span_t rec;
    int src;

    if (p != NULL)
        return cas_record_decode(self->dctx, (int)ns, key, p->rec, p->len, a, value, NULL);
    if ((rc = get_logged(self, ns, key, a, value)) != ST_ENOENT)
        return rc;
    bind_key(self->st_get, ns, key);
    src = sqlite3_step(self->st_get);
    if (src != SQLITE_ROW) {
        sqlite3_reset(self->st_get);
        if (src != SQLITE_DONE)
            cas_disk__on_error(self, src, "read");
        return ST_ENOENT;
    }
    self->reads++;
    rec = cas_disk__column(self->st_get, 0);
    rc = cas_record_decode(self->dctx, (int)ns, key, rec.ptr, rec.len, a, value, NULL);
    if (rc == ST_OK && (uint64_t)sqlite3_column_int64(self->st_get, 1) != value->len)
        rc = ST_ECORRUPT;
    atime = (uint64_t)sqlite3_column_int64(self->st_get, 2);
    sqlite3_reset(self->st_get);
    if (rc == ST_ECORRUPT) {
        LOG_DEBUG("cache %s: corrupt entry removed", self->path);
        self->corruptions++;
        cas_disk__delete(self, ns, key);
        return ST_ENOENT;
    }
    now = clock_wall_ms();
    if (rc == ST_OK && now > atime + self->touch_slack_ms)
        queue_touch(self, ns, key, now);
    return rc;
}

size_t cas_disk_get_many(cas_disk_t *self, cas_ns_t ns, const digest_t *keys, size_t n, arena_t *a,
                         span_t *values, st_rc_t *rc)
{
    size_t found = 0;
    bool txn;

    *rc = ST_OK;
    pthread_mutex_lock(&self->lock);
    txn = !session_reads(self) && self->enabled && n > 1 &&
          cas_disk__exec(self, "BEGIN") == SQLITE_OK;
    for (size_t i = 0; i < n && self->enabled; i++) {
        st_rc_t r;
        if (values[i].ptr != NULL)
            continue;
        if (!txn)
            session_reads(self); /* again after a delete or touch ended it */
        r = get_one(self, ns, &keys[i], a, &values[i]);
        if (r == ST_OK) {
            found++;
            self->hits++;
        } else {
            self->misses++;
            if (r == ST_ENOMEM)
                *rc = ST_ENOMEM;
        }
    }
    if (txn && self->db != NULL && !sqlite3_get_autocommit(self->db) &&
        cas_disk__exec(self, "COMMIT") != SQLITE_OK)
        cas_disk__exec(self, "ROLLBACK");
    pthread_mutex_unlock(&self->lock);
    return found;
}

static int insert_rec(cas_disk_t *self, const cas_disk_rec_t *r, uint64_t now)
{
    int rc;

    bind_key(self->st_put, r->ns, &r->key);
    sqlite3_bind_blob(self->st_put, 3, r->rec, (int)r->len, SQLITE_STATIC);
    sqlite3_bind_int64(self->st_put, 4, (sqlite3_int64)r->raw_len);
    sqlite3_bind_int64(self->st_put, 5, (sqlite3_int64)r->len);
    sqlite3_bind_int64(self->st_put, 6, (sqlite3_int64)now);
    rc = sqlite3_step(self->st_put);
    sqlite3_reset(self->st_put);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int write_recs(cas_disk_t *self, const cas_disk_rec_t *recs, size_t n, uint64_t *bytes)
{
    uint64_t now = clock_wall_ms();
    int rc;

    for (size_t i = 0; i < n; i++) {
        if ((rc = insert_rec(self, &recs[i], now)) != SQLITE_OK)
            return rc;
        *bytes += recs[i].len;
    }
    return SQLITE_OK;
}

/* Counts bytes written to the main table, and evicts down to 7/8 of the
 * budget when they bring it over. */
static void added(cas_disk_t *self, uint64_t bytes)
{
    uint64_t gone;

    self->bytes_est += bytes;
    if (self->budget > 0 && self->bytes_est > self->budget)
        cas_disk__gc_locked(self, self->budget - self->budget / 8, &gone);
}

/* Writes pending records plus recs[0..n) in one transaction (synced when
 * sync). Frees them unless the database was busy (pending kept for a retry).
 * ST_EIO when nothing was written. */
static st_rc_t write_batch(cas_disk_t *self, cas_disk_rec_t *recs, size_t n, bool sync)
{
    bool resync = sync && self->mode != CAS_STRICT;
    uint64_t bytes = 0;
    int rc;

    if (!self->enabled)
        goto drop;
    cas_disk__end_read_txn(self);
    if (resync && (rc = cas_disk__exec(self, "PRAGMA synchronous=FULL")) != SQLITE_OK)
        goto fail;
    if ((rc = cas_disk__exec(self, "BEGIN IMMEDIATE")) != SQLITE_OK)
        goto fail;
    if ((rc = write_recs(self, self->pending, self->npending, &bytes)) != SQLITE_OK ||
        (rc = write_recs(self, recs, n, &bytes)) != SQLITE_OK ||
        (rc = run_touches(self)) != SQLITE_OK ||
        (rc = cas_disk__exec(self, "COMMIT")) != SQLITE_OK) {
        cas_disk__exec(self, "ROLLBACK");
        goto fail;
    }
    if (resync)
        cas_disk__exec(self, "PRAGMA synchronous=NORMAL");
    cas_disk__free_pending(self);
    for (size_t i = 0; i < n; i++)
        st_free(recs[i].rec);
    added(self, bytes);
    return ST_OK;
fail:
    if (self->db != NULL && resync)
        cas_disk__exec(self, "PRAGMA synchronous=NORMAL");
    if (cas_disk__on_error(self, rc, "write") && n == 0)
        return ST_EIO; /* busy: the pending list waits for the next try */
drop:
    cas_disk__free_pending(self);
    for (size_t i = 0; i < n; i++)
        st_free(recs[i].rec);
    return ST_EIO;
}

/* Writes one slice of a log into the main table, MERGE_CHUNK records a
 * transaction (the last one synced when sync). */
static int merge_batch(cas_disk_t *self, const cas_log_batch_t *b, bool sync, uint64_t *bytes)
{
    uint64_t now = clock_wall_ms();
    int rc = SQLITE_OK;

    for (size_t i = 0; i < b->n; i += MERGE_CHUNK) {
        size_t end = b->n - i > MERGE_CHUNK ? i + MERGE_CHUNK : b->n;
        if ((sync && end == b->n &&
             (rc = cas_disk__exec(self, "PRAGMA synchronous=FULL")) != SQLITE_OK) ||
            (rc = cas_disk__exec(self, "BEGIN IMMEDIATE")) != SQLITE_OK)
            return rc;
        for (size_t j = i; j < end && rc == SQLITE_OK; j++) {
            const cas_log_entry_t *e = &b->v[j];
            cas_disk_rec_t r = {.key = e->key, .ns = e->ns, .raw_len = e->raw_len};
            r.rec = b->bytes + e->off;
            r.len = e->len;
            rc = insert_rec(self, &r, now);
            *bytes += r.len;
        }
        if (rc != SQLITE_OK || (rc = cas_disk__exec(self, "COMMIT")) != SQLITE_OK) {
            cas_disk__exec(self, "ROLLBACK");
            return rc;
        }
    }
    return SQLITE_OK;
}

/* Moves the records of log into the main table in key order, then empties
 * the log. In passes over slices of the key space, each one sequential read
 * of the log holding at most about MERGE_PASS_BYTES of records in memory;
 * the slices touch disjoint pages of the main table. On failure the log
 * keeps every record for a later merge (rows merged already are written
 * again then: the same values under the same keys). */
static st_rc_t merge_log(cas_disk_t *self, cas_log_t *log, bool sync)
{
    bool resync = sync && self->mode != CAS_STRICT;
    uint64_t bytes = 0, t0 = clock_ns();
    unsigned passes = (unsigned)(cas_log_bytes(log) / MERGE_PASS_BYTES) + 1;
    cas_log_batch_t b = {0};
    size_t n = 0;
    int rc = SQLITE_OK;

    if (passes > 256)
        passes = 256;
    cas_disk__end_read_txn(self);
    sqlite3_wal_autocheckpoint(self->db, 0); /* one checkpoint, at the end */
    for (unsigned p = 0; p < passes && rc == SQLITE_OK; p++) {
        if ((rc = cas_log_load(log, p * 65536u / passes, (p + 1) * 65536u / passes, &b)) !=
            SQLITE_OK) {
            if (rc == SQLITE_NOMEM)
                goto fail;
            LOG_WARN("cache %s: log unreadable (%s), its entries dropped", self->path,
                     sqlite3_errstr(rc));
            cas_log_batch_free(&b);
            cas_log_clear(log);
            return ST_EIO;
        }
        rc = merge_batch(self, &b, resync && p + 1 == passes, &bytes);
        n += b.n;
    }
    if (rc != SQLITE_OK)
        goto fail;
    if (resync)
        cas_disk__exec(self, "PRAGMA synchronous=NORMAL");
    set_autocheckpoint(self);
    cas_disk__exec(self, "PRAGMA wal_checkpoint(PASSIVE)");
    cas_log_batch_free(&b);
    cas_log_clear(log);
    LOG_DEBUG("cache %s: %zu records merged from the log in %u passes, %.1f ms", self->path, n,
              passes, (double)(clock_ns() - t0) / 1e6);
    added(self, bytes);
    return ST_OK;
fail:
    if (self->db != NULL && resync)
        cas_disk__exec(self, "PRAGMA synchronous=NORMAL");
    if (self->db != NULL)
        set_autocheckpoint(self);
    cas_log_batch_free(&b);
    if (rc == SQLITE_NOMEM)
        return ST_ENOMEM;
    cas_disk__on_error(self, rc, "merge");
    return ST_EIO;
}

/* Commits the pending records: to the log (an append), or to the main
 * table when there is no log or it fails. A log grown past
 * LOG_MERGE_BYTES is merged. */
static st_rc_t flush_pending(cas_disk_t *self)
{
    if (self->npending == 0)
        return ST_OK;
    if (self->log == NULL || cas_log_append(self->log, self->pending, self->npending) != SQLITE_OK)
        return write_batch(self, NULL, 0, false);
    cas_disk__free_pending(self);
    if (cas_log_bytes(self->log) >= LOG_MERGE_BYTES)
        return merge_log(self, self->log, false);
    return ST_OK;
}

/* Everything this store holds into the main table (synced when sync). With
 * records in the log, the pending ones join them, so that all go in key
 * order; else the pending ones are written as they are. */
st_rc_t cas_disk__flush_all(cas_disk_t *self, bool sync)
{
    bool logged = self->log != NULL && cas_log_count(self->log) > 0;

    if (!self->enabled)
        return ST_OK;
    if (logged && self->npending > 0 &&
        cas_log_append(self->log, self->pending, self->npending) == SQLITE_OK)
        cas_disk__free_pending(self);
    if (self->npending > 0 && write_batch(self, NULL, 0, sync) != ST_OK)
        return ST_EIO;
    if (logged && self->enabled)
        return merge_log(self, self->log, sync);
    return ST_OK;
}

static void *flusher_main(void *arg);

/* Appends to the pending list; false when it cannot grow, or when there is
 * no flusher to commit it (then the caller writes at once). The flusher
 * starts with the first put: a run that only reads never pays for it. */
static bool queue_recs(cas_disk_t *self, cas_disk_rec_t *recs, size_t n)
{
    size_t need;

    if (!self->has_flusher)
        self->has_flusher = pthread_create(&self->flusher, NULL, flusher_main, self) == 0;
    if (!self->has_flusher || !st_add_size(self->npending, n, &need))
        return false;
    if (need > self->cap_pending) {
        size_t cap = need < 64 ? 64 : need * 2, bytes;
        cas_disk_rec_t *p;
        if (!st_mul_size(cap, sizeof *p, &bytes) || (p = st_realloc(self->pending, bytes)) == NULL)
            return false;
        self->pending = p;
        self->cap_pending = cap;
    }
    if (self->npending == 0) {
        self->batch_start_ns = clock_ns();
        pthread_cond_signal(&self->wake);
    }
    memcpy(self->pending + self->npending, recs, n * sizeof *recs);
    self->npending += n;
    return true;
}

st_rc_t cas_disk_put_many(cas_disk_t *self, cas_disk_rec_t *recs, size_t n, bool durable)
{
    st_rc_t rc = ST_OK;
    bool strict = durable || self->mode == CAS_STRICT;

    pthread_mutex_lock(&self->lock);
    if (!self->enabled) {
        for (size_t i = 0; i < n; i++)
            st_free(recs[i].rec);
    } else if (strict || !queue_recs(self, recs, n)) {
        rc = write_batch(self, recs, n, strict);
        if (!strict)
            rc = ST_OK;
    } else if (self->npending >= self->flush_writes) {
        flush_pending(self);
    }
    pthread_mutex_unlock(&self->lock);
    return rc;
}

st_rc_t cas_disk_flush(cas_disk_t *self)
{
    st_rc_t rc = ST_OK;

    pthread_mutex_lock(&self->lock);
    rc = cas_disk__flush_all(self, true);
    cas_disk__apply_touches(self);
    pthread_mutex_unlock(&self->lock);
    return rc;
}

static void *flusher_main(void *arg)
{
    cas_disk_t *self = arg;

    pthread_mutex_lock(&self->lock);
    while (!self->stop) {
        uint64_t due = self->batch_start_ns + (uint64_t)self->flush_ms * 1000000ULL;
        struct timespec ts;
        if (self->npending == 0) {
            pthread_cond_wait(&self->wake, &self->lock);
            continue;
        }
        if (clock_ns() >= due) {
            if (flush_pending(self) != ST_OK && self->npending > 0)
                self->batch_start_ns = clock_ns(); /* busy: retry a window later */
            continue;
        }
        ts.tv_sec = (time_t)(due / 1000000000ULL);
        ts.tv_nsec = (long)(due % 1000000000ULL);
        pthread_cond_timedwait(&self->wake, &self->lock, &ts);
    }
    pthread_mutex_unlock(&self->lock);
    return NULL;
}

static bool make_dirs(const char *dir)
{
    char buf[4096];
    size_t len = strlen(dir);

    if (len == 0 || len >= sizeof buf)
        return false;
    memcpy(buf, dir, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        buf[i] = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return false;
        buf[i] = i == len ? '\0' : '/';
    }
    return true;
}

static void init_wake(cas_disk_t *self)
{
    pthread_condattr_t attr;

    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&self->wake, &attr);
    pthread_condattr_destroy(&attr);
}

/* Merges the logs of stores killed before they could (one store adopts a
 * given log). A log that cannot be merged now (the database busy, out of
 * memory) stays for a later store, and ends the adoption: adopting it
 * again at once would only fail again. */
static void adopt_logs(cas_disk_t *self, const char *dir)
{
    cas_log_t *log;
    bool merged = true;

    for (int i = 0; i < 64 && merged && self->enabled; i++) {
        cas_log_adopt(dir, &log);
        if (log == NULL)
            break;
        merged = cas_log_count(log) == 0 || merge_log(self, log, false) == ST_OK;
        if (merged)
            cas_log_clear(log);
        cas_log_destroy(&log);
    }
}

cas_disk_t *cas_disk_open(const cas_opts_t *opts)
{
    cas_disk_t *self = st_calloc(1, sizeof *self);
    int rc;

    if (self == NULL)
        return NULL;
    self->mode = opts->durability;
    self->touch_slack_ms = opts->touch_ms ? opts->touch_ms : TOUCH_SLACK_DEFAULT_MS;
    self->budget = opts->disk_budget;
    self->flush_ms = opts->flush_ms;
    self->flush_writes = opts->flush_writes;
    self->enabled = true;
    pthread_mutex_init(&self->lock, NULL);
    snprintf(self->path, sizeof self->path, "%s/cas.sqlite", opts->dir);
    if (strlen(opts->dir) + 12 >= sizeof self->path || !make_dirs(opts->dir)) {
        LOG_WARN("cache %s: cannot create the directory, going on without", opts->dir);
        goto fail;
    }
    if ((self->dctx = ZSTD_createDCtx()) == NULL)
        goto fail;
    /* a process creating the database or switching it to WAL holds locks
     * the busy handler does not wait for: retry for up to about 5 s */
    for (int tries = 0; (rc = open_db(self)) != SQLITE_OK && is_busy(rc) && tries < 500; tries++)
        usleep(10000);
    if (rc != SQLITE_OK) {
        if (!cas_disk__is_corrupt(rc)) {
            LOG_WARN("cache %s: %s, going on without", self->path, sqlite3_errstr(rc));
            goto fail;
        }
        cas_disk__reset_db(self, "open");
        if (!self->enabled)
            goto fail;
    }
    if (self->mode == CAS_BUFFERED)
        self->log = cas_log_new(opts->dir); /* NULL: windows go to the main table */
    adopt_logs(self, opts->dir);
    init_wake(self);
    return self;
fail:
    ZSTD_freeDCtx(self->dctx);
    pthread_mutex_destroy(&self->lock);
    st_free(self);
    return NULL;
}

void cas_disk_close(cas_disk_t **self_p)
{
    cas_disk_t *self = self_p ? *self_p : NULL;

    if (self == NULL)
        return;
    pthread_mutex_lock(&self->lock);
    self->stop = true;
    self->session = false;
    cas_disk__end_read_txn(self);
    pthread_cond_signal(&self->wake);
    pthread_mutex_unlock(&self->lock);
    if (self->has_flusher)
        pthread_join(self->flusher, NULL);
    cas_disk__flush_all(self, true);
    cas_disk__apply_touches(self);
    cas_disk__free_pending(self);
    cas_log_destroy(&self->log); /* what a failed merge left, the next store adopts */
    st_free(self->pending);
    st_free(self->touches);
    if (self->db != NULL) /* the last connection out empties the WAL it keeps */
        cas_disk__exec(self, "PRAGMA journal_size_limit=0");
    close_db(self);
    ZSTD_freeDCtx(self->dctx);
    pthread_cond_destroy(&self->wake);
    pthread_mutex_destroy(&self->lock);
    st_free(self);
    *self_p = NULL;
}

void cas_disk_reads(cas_disk_t *self, bool on)
{
    pthread_mutex_lock(&self->lock);
    self->session = on;
    if (!on)
        cas_disk__end_read_txn(self);
    pthread_mutex_unlock(&self->lock);
}

bool cas_disk_enabled(cas_disk_t *self)
{
    return atomic_load(&self->enabled);
}
