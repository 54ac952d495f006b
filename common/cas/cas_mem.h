/* cas_mem.h - the memory tier of the CAS (private to common/cas).
 *
 * A hash table split into shards, each with its own lock, hash chains and
 * LRU list, so threads working on different keys rarely meet. Each shard
 * holds at most budget/shards bytes (value plus entry overhead); a put that
 * passes it evicts the least recently used entries of that shard. Entries
 * own their bytes (st_malloc), since they outlive every job. */
#ifndef STRATA_CAS_MEM_H
#define STRATA_CAS_MEM_H

#include "common/arena.h"
#include "common/cas/cas.h"

typedef struct cas_mem cas_mem_t;

/* An empty tier; shards is a power of two. NULL when out of memory. */
cas_mem_t *cas_mem_new(size_t budget, uint32_t shards);
void cas_mem_destroy(cas_mem_t **self_p);

/* Copies the value under (ns, key) into a and marks it recently used.
 * ST_ENOENT when absent (counted as a miss), ST_ENOMEM when a is exhausted.
 * Thread-safe. */
st_rc_t cas_mem_get(cas_mem_t *self, cas_ns_t ns, const digest_t *key, arena_t *a, span_t *value);

/* True when (ns, key) is present; counts nothing, moves nothing. */
bool cas_mem_contains(cas_mem_t *self, cas_ns_t ns, const digest_t *key);

/* Stores a copy (replacing an older one), evicting for the budget. A value
 * bigger than a shard's budget is not kept (ST_OK). ST_ENOMEM: unchanged.
 * Thread-safe. */
st_rc_t cas_mem_put(cas_mem_t *self, cas_ns_t ns, const digest_t *key, const void *value,
                    size_t len);

/* Drops one entry (no-op when absent) or all of them. Thread-safe. */
void cas_mem_remove(cas_mem_t *self, cas_ns_t ns, const digest_t *key);
void cas_mem_clear(cas_mem_t *self);

/* Entries, bytes, hits, misses, evictions so far. Thread-safe. */
void cas_mem_stats(cas_mem_t *self, cas_tier_stats_t *out);

#endif
