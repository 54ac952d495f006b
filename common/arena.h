/* arena.h - chunked bump allocator and a pool of arenas.
 *
 * Every allocation made while a job runs comes from the job's arena and is
 * released all at once when the job ends (arena_reset is O(1): chunks are kept
 * for the next job), so the analysis never calls free per node. A pool hands
 * arenas to threads and takes them back, so chunks are reused across jobs; its
 * statistics show how much memory the jobs really needed.
 *
 * An arena is not thread-safe: one thread uses it at a time. The pool is. */
#ifndef STRATA_ARENA_H
#define STRATA_ARENA_H

#include <stddef.h>
#include <stdint.h>

typedef struct arena arena_t;
typedef struct arena_pool arena_pool_t;

#define ARENA_ALIGN 16

/* New empty arena whose chunks are chunk_size bytes (0: 64 KiB; at least 256).
 * No chunk is reserved until the first allocation. Caller owns it (free with
 * arena_destroy); NULL when out of memory. */
arena_t *arena_new(size_t chunk_size);

/* Frees every chunk and the arena, sets *self_p to NULL; accepts NULL. */
void arena_destroy(arena_t **self_p);

/* Caps the bytes the arena may reserve (0: no cap). An allocation that would
 * pass the cap returns NULL: a hostile input fails its job, not the process. */
void arena_set_limit(arena_t *self, size_t max_reserved);

/* size bytes aligned to ARENA_ALIGN, valid until the next reset; NULL on
 * exhaustion or overflow. size 0 returns a unique non-NULL pointer. */
void *arena_alloc(arena_t *self, size_t size);

/* n*size zeroed bytes; NULL on overflow or exhaustion. */
void *arena_calloc(arena_t *self, size_t n, size_t size);

/* Grows (or shrinks) an allocation; in place when p is the last allocation
 * and the chunk has room, or when p is the newest oversize allocation (more than
 * a quarter of a chunk: it has a chunk of its own, resized with st_realloc);
 * otherwise copies old_size bytes. p may be NULL. NULL on failure, and then p
 * is untouched and still valid. */
void *arena_realloc(arena_t *self, void *p, size_t old_size, size_t new_size);

/* Copy of s[0..len) plus a NUL terminator. */
char *arena_strndup(arena_t *self, const char *s, size_t len);

/* Releases every allocation at once; keeps the chain of ordinary chunks for
 * reuse (O(1)) and frees the oversize allocations' own chunks (one free each,
 * amortised against the malloc that made them), so a huge input does not pin
 * its memory in a pooled arena. */
void arena_reset(arena_t *self);

/* Bytes handed out since the last reset, and bytes reserved from the system. */
size_t arena_used(const arena_t *self);
size_t arena_reserved(const arena_t *self);

typedef struct {
    uint64_t gets;         /* arenas handed out */
    uint64_t reuses;       /* of which were recycled rather than created */
    size_t bytes_reserved; /* reserved now by all arenas the pool knows */
    size_t high_water;     /* largest arena_used() seen at a put */
} arena_pool_stats_t;

/* Pool of arenas with the given chunk size and per-arena cap (0: none).
 * At most max_idle arenas are kept when returned. */
arena_pool_t *arena_pool_new(size_t chunk_size, size_t arena_limit, size_t max_idle);

/* Frees the pool and its idle arenas. Every arena got from it must have been
 * put back before: an arena outlives its pool only as a bug. */
void arena_pool_destroy(arena_pool_t **self_p);

/* An empty arena with the pool's limit; the caller owns it until
 * arena_pool_put (it must not arena_destroy it). NULL when out of memory.
 * Thread-safe. */
arena_t *arena_pool_get(arena_pool_t *self);

/* Resets a and takes it back (or frees it beyond max_idle). Thread-safe. */
void arena_pool_put(arena_pool_t *self, arena_t *a);

/* A snapshot of the statistics. Thread-safe. */
void arena_pool_stats(arena_pool_t *self, arena_pool_stats_t *out);

#endif
