/* cas_disk.h - the SQLite tier of the CAS (private to common/cas).
 *
 * One database per cache directory (DIR/cas.sqlite, WAL mode), one
 * connection per store, used under one mutex: SQLite serialises writers
 * anyway, and the expensive part of a put (compression, hashing) happens
 * before the lock. Records come encoded (cas_record.h) and are decoded and
 * verified here on every read. Nothing here fails a run: a corrupt database
 * is moved aside and recreated, any other database error turns the tier off
 * (cas_disk_enabled false), each with one warning. */
#ifndef STRATA_CAS_DISK_H
#define STRATA_CAS_DISK_H

#include "common/cas/cas.h"

typedef struct cas_disk cas_disk_t;

/* An encoded record for the disk; the disk takes ownership of rec. */
typedef struct {
    digest_t key;
    cas_ns_t ns;
    uint8_t *rec; /* st_malloc'd */
    size_t len;
    uint32_t raw_len;
} cas_disk_rec_t;

/* Opens DIR/cas.sqlite (creating DIR). NULL (after a warning) when the
 * database cannot be opened at all. */
cas_disk_t *cas_disk_open(const cas_opts_t *opts);

/* Commits and syncs what is pending, stops the flusher, closes. */
void cas_disk_close(cas_disk_t **self_p);

/* False once the tier has turned itself off; lock-free. */
bool cas_disk_enabled(cas_disk_t *self);

/* For each i with values[i].ptr == NULL, looks (ns, keys[i]) up and decodes
 * it into a; a corrupt record is removed, counted and left a miss. Returns
 * the number found. ST_ENOMEM (in *rc) when a is exhausted. Thread-safe. */
size_t cas_disk_get_many(cas_disk_t *self, cas_ns_t ns, const digest_t *keys, size_t n, arena_t *a,
                         span_t *values, st_rc_t *rc);

/* Starts (on) or ends a read session: lookups share one read transaction,
 * renewed every 200 ms and ended by any write of this store (which runs in
 * its own). Thread-safe. */
void cas_disk_reads(cas_disk_t *self, bool on);

/* Stores n records, taking ownership of every recs[i].rec whatever happens.
 * Buffered: queued and committed by the flusher, after flush_writes puts, or
 * now when durable. Strict: committed (synchronous=FULL) before returning.
 * ST_EIO when a commit that had to be durable failed. Thread-safe. */
st_rc_t cas_disk_put_many(cas_disk_t *self, cas_disk_rec_t *recs, size_t n, bool durable);

/* Commits pending puts with a sync. ST_EIO when that failed. */
st_rc_t cas_disk_flush(cas_disk_t *self);

st_rc_t cas_disk_verify(cas_disk_t *self, uint64_t *checked, uint64_t *removed);
st_rc_t cas_disk_gc(cas_disk_t *self, uint64_t max_bytes, uint64_t *removed);
st_rc_t cas_disk_clear(cas_disk_t *self);

/* Fills disk, disk_reads, corruptions and databases_reset of out. */
void cas_disk_stats(cas_disk_t *self, cas_stats_t *out, bool totals);

#endif
