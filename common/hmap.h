/* hmap.h - open-addressing hash map from byte strings or uint64 keys to uint64.
 *
 * The general-purpose map of strata (module names to ids, digests to results,
 * ids to indices). A value is a uint64_t: an id, an index, or a pointer cast
 * by the caller. A map has one kind of key, chosen at creation: byte strings
 * (copied into the map) or uint64. Like the interner, a map is self-owned or
 * lives in a caller's arena (per-job use; removal then does not give memory
 * back until the arena is reset).
 *
 * Not thread-safe: one writer at a time; concurrent readers are fine while
 * nobody writes. */
#ifndef STRATA_HMAP_H
#define STRATA_HMAP_H

#include "common/arena.h"
#include "common/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct hmap hmap_t;

typedef enum {
    HMAP_BYTES, /* keys are byte strings, copied into the map */
    HMAP_U64    /* keys are uint64_t */
} hmap_kind_t;

/* A self-owned empty map; caller frees with hmap_destroy. NULL when out of
 * memory or kind is not a hmap_kind_t. */
hmap_t *hmap_new(hmap_kind_t kind);

/* An empty map living wholly in arena a (table and key copies): valid until a
 * is reset; hmap_destroy only clears the pointer. NULL when a is exhausted. */
hmap_t *hmap_new_arena(arena_t *a, hmap_kind_t kind);

/* Frees a self-owned map and its key copies, sets *self_p to NULL; accepts
 * NULL. */
void hmap_destroy(hmap_t **self_p);

/* Maps key[0..len) to val, replacing the value of a present key (which never
 * fails). ST_EINVAL on a HMAP_U64 map; ST_ELIMIT when len >= UINT32_MAX;
 * ST_ENOMEM when growing or copying the key fails. On error the map is
 * unchanged. Iterators are invalidated. */
st_rc_t hmap_put(hmap_t *self, const void *key, size_t len, uint64_t val);

/* The value of key[0..len) in *val (may be NULL to test presence). ST_ENOENT
 * when absent, ST_EINVAL on a HMAP_U64 map; *val untouched then. */
st_rc_t hmap_get(const hmap_t *self, const void *key, size_t len, uint64_t *val);

/* Removes key[0..len). ST_ENOENT when absent, ST_EINVAL on a HMAP_U64 map.
 * Never allocates. Iterators are invalidated. */
st_rc_t hmap_remove(hmap_t *self, const void *key, size_t len);

/* The same for a HMAP_U64 map (ST_EINVAL on a HMAP_BYTES one). */
st_rc_t hmap_put_u64(hmap_t *self, uint64_t key, uint64_t val);
st_rc_t hmap_get_u64(const hmap_t *self, uint64_t key, uint64_t *val);
st_rc_t hmap_remove_u64(hmap_t *self, uint64_t key);

/* Number of keys. */
size_t hmap_count(const hmap_t *self);

/* Iteration in unspecified order:
 *     hmap_iter_t it = HMAP_ITER_INIT;
 *     while (hmap_next(map, &it)) use(it.key, it.key_u64, it.val);
 * key (byte maps) points into the map: borrowed until the next put or remove;
 * key_u64 is set for u64 maps. A put or remove during iteration invalidates
 * the iterator. */
typedef struct {
    span_t key;       /* HMAP_BYTES: the key */
    uint64_t key_u64; /* HMAP_U64: the key */
    uint64_t val;
    size_t pos_; /* private: next slot to look at */
} hmap_iter_t;

#define HMAP_ITER_INIT                                                                             \
    {                                                                                              \
        {NULL, 0}, 0, 0, 0                                                                         \
    }

/* Advances it to the next entry; false (it unchanged) at the end. */
bool hmap_next(const hmap_t *self, hmap_iter_t *it);

#endif
