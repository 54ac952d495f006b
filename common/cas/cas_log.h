/* cas_log.h - the log of buffered puts (private to common/cas).
 *
 * The main database is a B-tree keyed by SHA-256 digests, so the records of
 * one commit land on random pages, and each commit (and the checkpoint after
 * it) rewrote nearly every page of the table: a cold run with a fresh cache
 * wrote about 95 bytes per byte it kept. Buffered mode therefore commits its
 * flush windows to a log instead: a database of this process's own (one
 * table in insertion order, in WAL mode without checkpoints), where each commit
 * only appends. The log's records go into the main database in key order,
 * in few large transactions, when the store is flushed or closed (or the
 * log grows large), so each page of the main table is written about once.
 *
 * A log is DIR/cas-log-PID-N.sqlite, held with flock(2) by its process for
 * its whole life. A log whose lock is free (its process killed before it
 * could merge; the pid in the name says nothing, pids are reused) is
 * adopted by the next store that opens DIR: it takes the lock, merges the
 * records and deletes the file. Other processes do not read a log: a record
 * in one is visible to them once merged, to this process at once (through an
 * in-memory index of the log's keys). Records are decoded and verified when
 * read, as in the main database; a log SQLite finds damaged is dropped
 * (its records are lost: misses, never wrong answers). */
#ifndef STRATA_CAS_LOG_H
#define STRATA_CAS_LOG_H

#include "common/cas/cas_disk.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cas_log cas_log_t;

/* One record of the log as the merge reads it: a copy, in key order. */
typedef struct {
    cas_ns_t ns;
    digest_t key;
    int64_t id; /* row in the log */
    uint32_t raw_len;
    size_t off, len; /* the record in the batch's bytes */
} cas_log_entry_t;

/* A slice of the log: entries sorted by (ns, key), one per key (the
 * newest), and the bytes of their records. */
typedef struct {
    cas_log_entry_t *v;
    size_t n;
    uint8_t *bytes;
    size_t nbytes, cap_v, cap_bytes;
} cas_log_batch_t;

/* A log for this process in dir (created on the first append). NULL when
 * out of memory. */
cas_log_t *cas_log_new(const char *dir);

/* Adopts the first log in dir that no one holds (its flock free: its
 * process is gone, or closed it unmerged), whatever pid its name carries:
 * *out is that log, its index rebuilt; NULL when there is none. A log that
 * cannot be read (damaged, not a database) is deleted, with a warning. */
void cas_log_adopt(const char *dir, cas_log_t **out);

/* Appends recs[0..n) in one transaction. SQLite's result code (SQLITE_OK);
 * on failure nothing of the batch is in the log. The records stay the
 * caller's. */
int cas_log_append(cas_log_t *self, const cas_disk_rec_t *recs, size_t n);

/* The record under (ns, key) in *rec, borrowed until the next call on the
 * log; *raw_len the value's length as put. SQLITE_OK when found,
 * SQLITE_NOTFOUND when not in the log, another code on a read error. */
int cas_log_get(cas_log_t *self, cas_ns_t ns, const digest_t *key, span_t *rec, uint32_t *raw_len);

/* Fills b (emptied first; zero it before the first use) with the log's
 * records whose key's first two bytes, read big-endian, are in [lo, hi):
 * one sequential read of the log, so that a merge in key order does not
 * read the log's pages in random order. SQLITE_NOMEM when out of memory.
 * cas_log_batch_free frees b's arrays. */
int cas_log_load(cas_log_t *self, unsigned lo, unsigned hi, cas_log_batch_t *b);
void cas_log_batch_free(cas_log_batch_t *b);

/* Records in the log, and their bytes. */
size_t cas_log_count(const cas_log_t *self);
uint64_t cas_log_bytes(const cas_log_t *self);

/* Deletes the log's files and forgets its records (once merged, or to drop
 * them); the log starts again empty. */
void cas_log_clear(cas_log_t *self);

/* Closes the log, leaving its files for a later adoption when it still
 * holds records (a store that could not merge them). Accepts NULL. */
void cas_log_destroy(cas_log_t **self_p);

#endif
