/* cas.h - the content-addressed store: job results and source blobs.
 *
 * Everything strata computes is a pure function of bytes, so a result can be
 * stored under a digest of its inputs and reused by any later run, on any
 * host, for any path. Two namespaces as in Bazel's remote-execution model:
 * blobs (keyed by the SHA-256 of their content) and results (keyed by a job
 * key). Two tiers: memory (sharded, LRU under a byte budget) and disk (one
 * SQLite database in WAL mode per directory, values zstd-compressed and
 * stored with their digest). A value read back from disk is verified: a
 * corrupt entry is removed and reads as a miss, never as a wrong answer; a
 * database SQLite calls corrupt is moved aside and recreated.
 *
 * Durability follows SQLite's synchronous levels: CAS_MEMORY (no disk),
 * CAS_BUFFERED (puts committed in batches every flush_ms or flush_writes,
 * without fsync: a bounded loss window), CAS_STRICT (committed and synced
 * before a put returns). A put may ask to be durable whatever the mode.
 *
 * A cas_t is safe for many threads; several processes may open the same
 * directory at once (each its own cas_t: one opened before a fork must not
 * be used in the child, whose copy has no flusher thread). A full disk or a
 * broken database is logged once and the store goes on as memory-only:
 * caching is never why a run fails. */
#ifndef STRATA_CAS_H
#define STRATA_CAS_H

#include "common/arena.h"
#include "common/digest.h"
#include "common/metrics.h"
#include "common/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cas cas_t;

typedef enum { CAS_BLOBS = 0, CAS_RESULTS = 1 } cas_ns_t;

typedef enum { CAS_MEMORY = 0, CAS_BUFFERED = 1, CAS_STRICT = 2 } cas_durability_t;

/* zstd levels: below 1 are zstd's fast levels, which leave literals
 * unentropy-coded. The default is one of them because results are small
 * (most under 4 KB): at level 3 the fixed cost of decoding a frame's entropy
 * tables made decompression most of a warm lookup. On the stdlib's results,
 * level -1 stores 54% of the raw bytes (level 3: 47%) and decodes 2.6 times
 * faster. */
#define CAS_ZSTD_LEVEL_DEFAULT (-1)
#define CAS_ZSTD_LEVEL_MIN (-50)

/* Largest value the store accepts (and believes a record can claim). */
#define CAS_MAX_VALUE ((size_t)256 << 20)

typedef struct {
    const char *dir;             /* cache directory (created); NULL: memory only */
    cas_durability_t durability; /* CAS_MEMORY ignores dir */
    size_t mem_budget;           /* memory tier budget in bytes (0: 64 MiB) */
    uint64_t disk_budget;        /* LRU-evict beyond this many bytes on disk (0: none) */
    uint32_t flush_ms;           /* buffered: commit at least this often (0: 100) */
    uint32_t flush_writes;       /* buffered: or after this many puts (0: 1000) */
    int zstd_level;              /* CAS_ZSTD_LEVEL_MIN..19, 0 the default; a value is stored
                                  * raw when that is smaller */
    uint32_t mem_shards;         /* power of two (0: 16) */
    uint32_t touch_ms;           /* a read refreshes an entry's LRU time when it is older
                                  * than this (0: one hour, so a warm run writes nothing) */
} cas_opts_t;

/* Defaults: memory only, 64 MiB, 16 shards, level -1, 100 ms / 1000 writes. */
void cas_opts_default(cas_opts_t *opts);

/* Opens (creating when needed) the store. ST_EINVAL for bad options. A disk
 * tier that cannot be opened is not an error: the store logs why and runs
 * memory-only (cas_stats says so). Caller owns *out. */
st_rc_t cas_open(const cas_opts_t *opts, cas_t **out, st_err_t *err);

/* Commits pending puts, closes the database, frees; sets *self_p NULL,
 * accepts NULL. */
void cas_close(cas_t **self_p);

/* The value under (ns, key). On ST_OK *value points into arena a (valid
 * until a is reset). ST_ENOENT: absent, or found corrupt (then removed and
 * counted). ST_ENOMEM: a is exhausted (the entry stays). ST_EINVAL: a NULL
 * argument or an unknown ns. Thread-safe. */
st_rc_t cas_get(cas_t *self, cas_ns_t ns, const digest_t *key, arena_t *a, span_t *value,
                st_err_t *err);

/* Stores a copy of value[0..len). For CAS_BLOBS the key must be the
 * SHA-256 of the value (ST_EINVAL otherwise). durable: committed and synced
 * before returning, whatever the mode. ST_ELIMIT over CAS_MAX_VALUE.
 * ST_ENOMEM: nothing stored (an older value under key stays). ST_EIO: the
 * value is cached, but the commit that had to make it durable (strict mode,
 * or durable) failed; the disk tier is then off, or was busy past its 5 s
 * timeout. A disk tier already off is not an error (cas_stats tells).
 * Thread-safe. */
st_rc_t cas_put(cas_t *self, cas_ns_t ns, const digest_t *key, const void *value, size_t len,
                bool durable, st_err_t *err);

/* n lookups in one pass (one disk transaction for the misses of the memory
 * tier). values[i] is {NULL, 0} on a miss; *hits counts the others. Unlike
 * cas_get, values found on disk are not copied into the memory tier (a
 * batch is a scan). Errors as cas_get (ST_ENOMEM: values partly filled,
 * *hits unset). */
st_rc_t cas_get_many(cas_t *self, cas_ns_t ns, const digest_t *keys, size_t n, arena_t *a,
                     span_t *values, size_t *hits, st_err_t *err);

/* n puts in one transaction. Errors as cas_put; on ST_ENOMEM none of the
 * n is stored (older values under those keys may be dropped from memory). */
st_rc_t cas_put_many(cas_t *self, cas_ns_t ns, const digest_t *keys, const span_t *values, size_t n,
                     bool durable, st_err_t *err);

/* A burst of lookups that cas_get_many cannot batch (jobs that look their
 * results up one by one as they become ready): between cas_reads_begin and
 * cas_reads_end the disk tier keeps one read transaction open across
 * lookups instead of opening one per lookup, which costs three system
 * calls (about 2.4 us, more than a lookup of a small value from the
 * memory-mapped database). Lookups then see the database as of the
 * transaction's start, renewed every 200 ms and after each write of this
 * store (a write ends the transaction first and runs in its own, so a
 * session never holds the write lock); other processes' checkpoints wait
 * for it no longer than that. Not nested: begin twice is begin once; end
 * without begin does nothing. cas_close ends it. Thread-safe. */
void cas_reads_begin(cas_t *self);
void cas_reads_end(cas_t *self);

/* Commits (and syncs) what buffered mode holds. ST_EIO when that failed.
 * Buffered mode otherwise commits from a background thread every flush_ms,
 * or in the put that brings the pending count to flush_writes. */
st_rc_t cas_flush(cas_t *self, st_err_t *err);

typedef struct {
    uint64_t entries, bytes; /* now */
    uint64_t hits, misses;   /* lookups answered / not by this tier */
    uint64_t evictions;      /* entries dropped for the budget */
} cas_tier_stats_t;

typedef struct {
    cas_tier_stats_t mem, disk;
    uint64_t disk_reads;              /* values read from the database */
    uint64_t corruptions;             /* entries found corrupt and removed */
    uint64_t databases_reset;         /* databases moved aside as corrupt */
    bool disk_enabled;                /* false: memory-only (by choice or after an error) */
    metrics_summary_t get_ns, put_ns; /* latency, this process (a 1-in-8 sample) */
} cas_stats_t;

/* A snapshot (disk entries and bytes counted in the database, so other
 * processes' entries included). Also adds the counters' growth since the
 * last call to the metrics registry (cas.mem.hits, cas.disk.reads, ...).
 * Thread-safe. */
void cas_stats(cas_t *self, cas_stats_t *out);

/* As cas_stats without counting the disk tier's entries and bytes (which
 * scans its table): the counters only, cheap enough for every scrape of a
 * metrics page. disk.entries counts only the writes not yet committed.
 * Thread-safe. */
void cas_counters(cas_t *self, cas_stats_t *out);

/* SQLite's integrity check, then every entry read and verified; corrupt
 * entries are removed and counted in *removed (a database failing the
 * integrity check is moved aside and recreated: its rows count as removed).
 * Memory-only: nothing to check. checked and removed may be NULL. */
st_rc_t cas_verify(cas_t *self, uint64_t *checked, uint64_t *removed, st_err_t *err);

/* Evicts least recently used entries until the disk tier holds at most
 * max_bytes; *removed counts them. */
st_rc_t cas_gc(cas_t *self, uint64_t max_bytes, uint64_t *removed, st_err_t *err);

/* Removes every entry of both tiers. */
st_rc_t cas_clear(cas_t *self, st_err_t *err);

/* Whether the cache has a disk tier (not memory-only, by choice or after
 * an error opening it): what a run may keep beside it then has a home. */
bool cas_has_disk(const cas_t *self);

/* The cache directory to use: flag (--cache-dir) when not NULL, else
 * $STRATA_CACHE_DIR when set and not empty, else ".strata-cache" (relative
 * to the current directory). Borrowed (argv, the environment, or static).
 * Reads the environment: call before starting threads. */
const char *cas_dir_default(const char *flag);

#endif
