/* cas_disk_int.h - what the two halves of the SQLite tier share (private to
 * cas_disk.c and cas_disk_maint.c).
 *
 * cas_disk.c holds the connection, reads, writes and the log's merge;
 * cas_disk_maint.c the maintenance that runs on the same connection under
 * the same lock: eviction, verify, clear, statistics. Every function here
 * expects self->lock held. */
#ifndef STRATA_CAS_DISK_INT_H
#define STRATA_CAS_DISK_INT_H

#include "common/cas/cas_disk.h"
#include "common/cas/cas_log.h"

#include <pthread.h>
#include <sqlite3.h>
#include <zstd.h>

typedef struct {
    cas_ns_t ns;
    digest_t key;
} touch_t;

struct cas_disk {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t flusher;
    bool has_flusher, stop;
    _Atomic bool enabled; /* written under lock, read without by cas_disk_enabled */
    char path[4096];
    sqlite3 *db;
    sqlite3_stmt *st_get, *st_put, *st_del, *st_touch;
    ZSTD_DCtx *dctx;
    bool session;            /* cas_disk_reads: lookups share a read transaction */
    bool session_txn;        /* that transaction is open (a BEGIN of ours) */
    uint64_t session_txn_ns; /* since when */
    cas_durability_t mode;
    uint64_t budget, bytes_est;
    uint32_t flush_ms, flush_writes;
    cas_disk_rec_t *pending;
    cas_log_t *log; /* buffered: flush windows go here, merged later */
    size_t npending, cap_pending;
    uint64_t batch_start_ns;
    touch_t *touches;        /* reads whose atime is due, applied with the next write */
    uint64_t touch_slack_ms; /* how stale an atime may get before a read refreshes it */
    size_t ntouches;
    uint64_t touch_ms;
    uint64_t hits, misses, evictions, reads, corruptions, resets;
};

/* A column as bytes: pointer first, then length, as SQLite asks; a NULL
 * (absent or out of memory) reads as empty, which no record is. */
static inline span_t cas_disk__column(sqlite3_stmt *st, int col)
{
    span_t s = {sqlite3_column_blob(st, col), 0};

    s.len = s.ptr != NULL ? (size_t)sqlite3_column_bytes(st, col) : 0;
    return s;
}

/* SQLite's result of sql on the store's connection. */
int cas_disk__exec(cas_disk_t *self, const char *sql);

/* Reacts to a failed SQLite call (busy: skipped; corrupt: the database
 * moved aside and recreated; else the tier off); true when still usable. */
bool cas_disk__on_error(cas_disk_t *self, int rc, const char *what);
bool cas_disk__is_corrupt(int rc);

/* Moves the corrupt database aside and starts an empty one. */
void cas_disk__reset_db(cas_disk_t *self, const char *what);

/* The sum of the records' sizes in *bytes. */
int cas_disk__read_bytes(cas_disk_t *self, uint64_t *bytes);

/* Deletes one entry; failures only cost a later re-detection. */
void cas_disk__delete(cas_disk_t *self, cas_ns_t ns, const digest_t *key);

/* Frees the pending records. */
void cas_disk__free_pending(cas_disk_t *self);

/* Ends a read session's open transaction, if any. */
void cas_disk__end_read_txn(cas_disk_t *self);

/* Applies the queued atime refreshes. */
void cas_disk__apply_touches(cas_disk_t *self);

/* Pending records and the log into the main table (synced when sync). */
st_rc_t cas_disk__flush_all(cas_disk_t *self, bool sync);

/* Evicts least recently used entries down to max_bytes (cas_disk_maint.c). */
st_rc_t cas_disk__gc_locked(cas_disk_t *self, uint64_t max_bytes, uint64_t *removed);

#endif
