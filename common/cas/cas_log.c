/* cas_log.c - the append-only log of buffered puts, one per process.
 *
 * A table in insertion order (the row id is the key of its B-tree, so a
 * commit appends to the last page) in WAL mode without checkpoints and
 * without fsync: a process killed mid-commit leaves a WAL whose last
 * transaction has no commit frame, which the adopting store's recovery
 * ignores, and the page cache keeps what a killed process wrote.
 * locking_mode=EXCLUSIVE since no other connection ever reads a live log. The file is also held
 * with flock(2) from before SQLite opens it until after SQLite closes it, and a store adopts a
 * log only when it gets that lock: the lock, not the pid in the file's name, says whether the
 * log's process is alive, since a pid may be reused by another process after a crash (and a
 * store that could not merge its log leaves it for adoption while its process goes on). A file
 * whose lock is free is in use all the same while it is empty (its creator has not locked it
 * yet) or no longer under its name (its owner deleted it): adoption skips both. The descriptor
 * that holds the flock stays open as long as SQLite's connection: closing any descriptor of a
 * file drops the process's POSIX locks on it, SQLite's included. */
#include "common/cas/cas_log.h"

#include "common/alloc.h"
#include "common/hmap.h"
#include "common/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOG_KEY_LEN (1 + (int)sizeof(((digest_t *)0)->b))

struct cas_log {
    char dir[4096];
    char path[4200];
    int fd; /* holds the flock; -1 with no file */
    sqlite3 *db;
    sqlite3_stmt *st_ins, *st_read;
    hmap_t *index; /* ns byte + digest -> row; NULL while the log is empty */
    size_t count;
    uint64_t bytes;
};

/* WAL with no checkpoint ever: the records are written once, to the -wal
 * file, and the file is deleted after the merge. (A rollback journal would
 * write each commit's last page twice, and a checkpoint every record
 * twice.) Exclusive locking keeps the WAL index in this process's memory:
 * no -shm file. */
static const char log_schema[] = "PRAGMA synchronous=OFF;"
                                 "PRAGMA locking_mode=EXCLUSIVE;"
                                 "PRAGMA journal_mode=WAL;"
                                 "PRAGMA wal_autocheckpoint=0;"
                                 "CREATE TABLE IF NOT EXISTS log(id INTEGER PRIMARY KEY,"
                                 "ns INTEGER NOT NULL, digest BLOB NOT NULL,"
                                 "value BLOB NOT NULL, raw_size INTEGER NOT NULL)";

static atomic_uint log_seq;

cas_log_t *cas_log_new(const char *dir)
{
    cas_log_t *self = st_calloc(1, sizeof *self);

    if (self == NULL)
        return NULL;
    self->fd = -1;
    snprintf(self->dir, sizeof self->dir, "%s", dir);
    return self;
}

static void close_files(cas_log_t *self)
{
    sqlite3_finalize(self->st_ins);
    sqlite3_finalize(self->st_read);
    self->st_ins = self->st_read = NULL;
    sqlite3_close_v2(self->db);
    self->db = NULL;
    if (self->fd >= 0)
        close(self->fd); /* after SQLite's: this drops the flock */
    self->fd = -1;
}

/* Opens the SQLite side of a file whose flock self->fd holds. */
static int open_sqlite(cas_log_t *self)
{
    int rc =
        sqlite3_open_v2(self->path, &self->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);

    if (rc == SQLITE_OK)
        rc = sqlite3_db_config(self->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(self->db, log_schema, NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v3(self->db,
                                "INSERT INTO log(ns, digest, value, raw_size) "
                                "VALUES(?1,?2,?3,?4)",
                                -1, SQLITE_PREPARE_PERSISTENT, &self->st_ins, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v3(self->db, "SELECT value, raw_size FROM log WHERE id = ?1", -1,
                                SQLITE_PREPARE_PERSISTENT, &self->st_read, NULL);
    return rc;
}

static void remove_files(const char *path)
{
    char j[4300];

    unlink(path);
    snprintf(j, sizeof j, "%s-wal", path);
    unlink(j);
    snprintf(j, sizeof j, "%s-shm", path);
    unlink(j);
}

/* Locks a file this process has just created. Another store may hold the
 * lock for a moment (it found the file empty and lets it be): a few tries. */
static bool lock_new_file(int fd)
{
    struct timespec ms = {0, 1000000};

    for (int tries = 0; tries < 100; tries++) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            return true;
        if (errno != EWOULDBLOCK && errno != EINTR)
            return false;
        nanosleep(&ms, NULL);
    }
    return false;
}

/* A new file of this process's, locked, then opened by SQLite. */
static int create_file(cas_log_t *self)
{
    int rc;

    for (int tries = 0; tries < 8 && self->fd < 0; tries++) {
        snprintf(self->path, sizeof self->path, "%s/cas-log-%ld-%u.sqlite", self->dir,
                 (long)getpid(), atomic_fetch_add(&log_seq, 1));
        self->fd = open(self->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    }
    if (self->fd < 0)
        return SQLITE_CANTOPEN;
    if (!lock_new_file(self->fd) || (rc = open_sqlite(self)) != SQLITE_OK) {
        rc = self->db != NULL ? sqlite3_errcode(self->db) : SQLITE_CANTOPEN;
        remove_files(self->path);
        close_files(self);
        return rc == SQLITE_OK ? SQLITE_CANTOPEN : rc;
    }
    return SQLITE_OK;
}

static void index_key(uint8_t k[LOG_KEY_LEN], cas_ns_t ns, const digest_t *key)
{
    k[0] = (uint8_t)ns;
    memcpy(k + 1, key->b, sizeof key->b);
}

static int insert_one(cas_log_t *self, const cas_disk_rec_t *r)
{
    int rc;

    sqlite3_bind_int(self->st_ins, 1, (int)r->ns);
    sqlite3_bind_blob(self->st_ins, 2, r->key.b, (int)sizeof r->key.b, SQLITE_STATIC);
    sqlite3_bind_blob(self->st_ins, 3, r->rec, (int)r->len, SQLITE_STATIC);
    sqlite3_bind_int64(self->st_ins, 4, (sqlite3_int64)r->raw_len);
    rc = sqlite3_step(self->st_ins);
    sqlite3_reset(self->st_ins);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int cas_log_append(cas_log_t *self, const cas_disk_rec_t *recs, size_t n)
{
    int64_t *ids;
    int rc;

    if (n == 0)
        return SQLITE_OK;
    if (self->index == NULL && (self->index = hmap_new(HMAP_BYTES)) == NULL)
        return SQLITE_NOMEM;
    if (self->db == NULL && (rc = create_file(self)) != SQLITE_OK)
        return rc;
    if ((ids = st_malloc(n * sizeof *ids)) == NULL)
        return SQLITE_NOMEM;
    sqlite3_reset(self->st_read);
    if ((rc = sqlite3_exec(self->db, "BEGIN", NULL, NULL, NULL)) != SQLITE_OK)
        goto out;
    for (size_t i = 0; i < n && rc == SQLITE_OK; i++) {
        rc = insert_one(self, &recs[i]);
        ids[i] = sqlite3_last_insert_rowid(self->db);
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(self->db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_exec(self->db, "ROLLBACK", NULL, NULL, NULL);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t k[LOG_KEY_LEN];
        index_key(k, recs[i].ns, &recs[i].key);
        /* a key the index lacks is still merged (the merge reads the
         * table); this process just does not find it before */
        hmap_put(self->index, k, sizeof k, (uint64_t)ids[i]);
        self->bytes += recs[i].len;
    }
    self->count += n;
out:
    st_free(ids);
    return rc;
}

static int read_row(cas_log_t *self, int64_t id, span_t *rec, uint32_t *raw_len)
{
    int rc;

    if (self->db == NULL)
        return SQLITE_NOTFOUND;
    sqlite3_reset(self->st_read);
    sqlite3_bind_int64(self->st_read, 1, id);
    if ((rc = sqlite3_step(self->st_read)) != SQLITE_ROW) {
        sqlite3_reset(self->st_read);
        return rc == SQLITE_DONE ? SQLITE_NOTFOUND : rc;
    }
    rec->ptr = sqlite3_column_blob(self->st_read, 0);
    rec->len = rec->ptr != NULL ? (size_t)sqlite3_column_bytes(self->st_read, 0) : 0;
    *raw_len = (uint32_t)sqlite3_column_int64(self->st_read, 1);
    return SQLITE_OK;
}

int cas_log_get(cas_log_t *self, cas_ns_t ns, const digest_t *key, span_t *rec, uint32_t *raw_len)
{
    uint8_t k[LOG_KEY_LEN];
    uint64_t id;

    if (self->count == 0 || self->index == NULL)
        return SQLITE_NOTFOUND;
    index_key(k, ns, key);
    if (hmap_get(self->index, k, sizeof k, &id) != ST_OK)
        return SQLITE_NOTFOUND;
    return read_row(self, (int64_t)id, rec, raw_len);
}

static int entry_cmp(const void *pa, const void *pb)
{
    const cas_log_entry_t *a = pa, *b = pb;
    int c;

    if (a->ns != b->ns)
        return a->ns < b->ns ? -1 : 1;
    if ((c = memcmp(a->key.b, b->key.b, sizeof a->key.b)) != 0)
        return c;
    return a->id < b->id ? -1 : a->id > b->id;
}

/* Sorts b's entries and keeps the newest row of each key. */
static void sort_unique(cas_log_batch_t *b)
{
    size_t out = 0;

    qsort(b->v, b->n, sizeof *b->v, entry_cmp);
    for (size_t i = 0; i < b->n; i++) {
        if (out > 0 && b->v[out - 1].ns == b->v[i].ns &&
            digest_eq(&b->v[out - 1].key, &b->v[i].key))
            out--;
        b->v[out++] = b->v[i];
    }
    b->n = out;
}

/* Room for one more entry and len more bytes; false when out of memory. */
static bool batch_grow(cas_log_batch_t *b, size_t len)
{
    size_t need;
    void *p;

    if (b->n == b->cap_v) {
        size_t cap = b->cap_v ? b->cap_v * 2 : 1024;
        if ((p = st_realloc(b->v, cap * sizeof *b->v)) == NULL)
            return false;
        b->v = p;
        b->cap_v = cap;
    }
    if (!st_add_size(b->nbytes, len, &need))
        return false;
    if (need > b->cap_bytes) {
        size_t cap = need < 65536 ? 65536 : need * 2;
        if ((p = st_realloc(b->bytes, cap)) == NULL)
            return false;
        b->bytes = p;
        b->cap_bytes = cap;
    }
    return true;
}

/* Copies the current row of st (id, ns, digest, value, raw_size) into b. */
static bool batch_add(cas_log_batch_t *b, sqlite3_stmt *st, const void *key)
{
    const void *rec = sqlite3_column_blob(st, 3);
    size_t len = rec != NULL ? (size_t)sqlite3_column_bytes(st, 3) : 0;
    cas_log_entry_t *e;

    if (!batch_grow(b, len))
        return false;
    e = &b->v[b->n++];
    e->id = sqlite3_column_int64(st, 0);
    e->ns = (cas_ns_t)sqlite3_column_int(st, 1);
    memcpy(e->key.b, key, sizeof e->key.b);
    e->raw_len = (uint32_t)sqlite3_column_int64(st, 4);
    e->off = b->nbytes;
    e->len = len;
    if (len > 0)
        memcpy(b->bytes + b->nbytes, rec, len);
    b->nbytes += len;
    return true;
}

int cas_log_load(cas_log_t *self, unsigned lo, unsigned hi, cas_log_batch_t *b)
{
    sqlite3_stmt *st;
    int rc;

    b->n = b->nbytes = 0;
    if (self->db == NULL)
        return SQLITE_OK;
    sqlite3_reset(self->st_read);
    if ((rc = sqlite3_prepare_v2(self->db, "SELECT id, ns, digest, value, raw_size FROM log", -1,
                                 &st, NULL)) != SQLITE_OK)
        return rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const uint8_t *k = sqlite3_column_blob(st, 2);
        unsigned prefix;
        if (k == NULL || sqlite3_column_bytes(st, 2) != (int)sizeof(digest_t))
            continue; /* a damaged row: dropped with the log */
        prefix = (unsigned)k[0] << 8 | k[1];
        if (prefix >= lo && prefix < hi && !batch_add(b, st, k)) {
            rc = SQLITE_NOMEM;
            break;
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return rc;
    sort_unique(b);
    return SQLITE_OK;
}

void cas_log_batch_free(cas_log_batch_t *b)
{
    st_free(b->v);
    st_free(b->bytes);
    memset(b, 0, sizeof *b);
}

size_t cas_log_count(const cas_log_t *self)
{
    return self->count;
}

uint64_t cas_log_bytes(const cas_log_t *self)
{
    return self->bytes;
}

void cas_log_clear(cas_log_t *self)
{
    if (self->fd >= 0)
        remove_files(self->path); /* while the flock is held: no one adopts it */
    close_files(self);
    /* the next file's rows start again at 1: no row id of this one may
     * survive in the index */
    hmap_destroy(&self->index);
    self->count = 0;
    self->bytes = 0;
}

void cas_log_destroy(cas_log_t **self_p)
{
    cas_log_t *self = self_p ? *self_p : NULL;

    if (self == NULL)
        return;
    if (self->count == 0)
        cas_log_clear(self);
    close_files(self); /* records left: the next store adopts them */
    hmap_destroy(&self->index);
    st_free(self);
    *self_p = NULL;
}

/* NAME is a log's (whether its process is alive, its lock says). */
static bool log_name(const char *name)
{
    long pid;
    unsigned seq;
    int end = 0;

    return sscanf(name, "cas-log-%ld-%u.sqlite%n", &pid, &seq, &end) == 2 && end > 0 &&
           name[end] == '\0';
}

/* The file fd holds is the one at path, and in use by no creator: false for
 * a log being created (empty, no WAL yet, until its creator locks it and
 * SQLite writes) or deleted since it was opened. */
static bool same_live_file(int fd, const char *path)
{
    struct stat a, b;
    char wal[4300];

    if (fstat(fd, &a) != 0 || stat(path, &b) != 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino)
        return false;
    snprintf(wal, sizeof wal, "%s-wal", path);
    return a.st_size > 0 || access(wal, F_OK) == 0;
}

/* Takes the log at path when no one holds it: its count read, its index
 * rebuilt. SQLITE_BUSY when it is held; other codes when it is unreadable. */
static int take(cas_log_t *self, const char *path)
{
    sqlite3_stmt *st = NULL;
    int rc;

    snprintf(self->path, sizeof self->path, "%s", path);
    if ((self->fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
        return SQLITE_CANTOPEN;
    if (flock(self->fd, LOCK_EX | LOCK_NB) != 0 || !same_live_file(self->fd, path)) {
        close_files(self);
        return SQLITE_BUSY;
    }
    if ((self->index = hmap_new(HMAP_BYTES)) == NULL) {
        close_files(self);
        return SQLITE_NOMEM;
    }
    if ((rc = open_sqlite(self)) == SQLITE_OK &&
        (rc = sqlite3_prepare_v2(self->db, "SELECT id, ns, digest, length(value) FROM log", -1, &st,
                                 NULL)) == SQLITE_OK) {
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            uint8_t k[LOG_KEY_LEN];
            if (sqlite3_column_bytes(st, 2) != (int)sizeof(digest_t))
                continue;
            k[0] = (uint8_t)sqlite3_column_int(st, 1);
            memcpy(k + 1, sqlite3_column_blob(st, 2), sizeof(digest_t));
            hmap_put(self->index, k, sizeof k, (uint64_t)sqlite3_column_int64(st, 0));
            self->count++;
            self->bytes += (uint64_t)sqlite3_column_int64(st, 3);
        }
        rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
    }
    sqlite3_finalize(st);
    return rc;
}

void cas_log_adopt(const char *dir, cas_log_t **out)
{
    DIR *d = opendir(dir);
    struct dirent *e;

    *out = NULL;
    while (d != NULL && *out == NULL && (e = readdir(d)) != NULL) {
        char path[4200];
        cas_log_t *log;
        int rc;
        if (!log_name(e->d_name) || (log = cas_log_new(dir)) == NULL)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if ((rc = take(log, path)) == SQLITE_OK) {
            *out = log;
            break;
        }
        if (rc != SQLITE_BUSY && rc != SQLITE_NOMEM && log->fd >= 0) {
            LOG_WARN("cache %s: unreadable log of a killed run (%s), dropped", path,
                     sqlite3_errstr(rc));
            remove_files(path);
        }
        log->count = 0;
        cas_log_destroy(&log);
    }
    if (d != NULL)
        closedir(d);
}
