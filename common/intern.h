/* intern.h - string interner: byte strings to dense ids and back.
 *
 * The analysis interns every identifier of every file, then compares and
 * hashes 32-bit ids instead of strings. Ids are dense (0..count-1, in order of
 * first insertion) so callers can index plain arrays by id. An interner is
 * either self-owned (long-lived, e.g. shared names for a whole run) or lives
 * entirely in a caller's arena (per file in a job: no free, gone at reset).
 *
 * Not thread-safe: one writer at a time; concurrent readers (find, str,
 * count) are fine while nobody writes. */
#ifndef STRATA_INTERN_H
#define STRATA_INTERN_H

#include "common/arena.h"
#include "common/status.h"

#include <stddef.h>
#include <stdint.h>

typedef struct intern intern_t;

/* Returned by intern_find for an absent string. */
#define INTERN_NONE UINT32_MAX

/* A self-owned empty interner; caller frees with intern_destroy. NULL when out
 * of memory. */
intern_t *intern_new(void);

/* An empty interner whose table, entries and strings all live in arena a:
 * valid until a is reset or destroyed; never freed on its own (intern_destroy
 * only clears the pointer). NULL when the arena is exhausted. */
intern_t *intern_new_arena(arena_t *a);

/* Frees a self-owned interner (and every string it returned), sets *self_p to
 * NULL; accepts NULL. */
void intern_destroy(intern_t **self_p);

/* The id of s[0..len) (need not be NUL-terminated, may hold NULs), adding a
 * copy when absent. ST_ELIMIT when len >= UINT32_MAX or the interner is full
 * (2^31 strings); ST_ENOMEM when memory (heap or arena) runs out. On error the
 * interner is unchanged and *id untouched. */
st_rc_t intern_get_or_add(intern_t *self, const char *s, size_t len, uint32_t *id);

/* The id of s[0..len), or INTERN_NONE when absent. Never allocates. */
uint32_t intern_find(const intern_t *self, const char *s, size_t len);

/* The bytes of id (NUL-terminated), and their length in *len (when len is not
 * NULL). Borrowed: valid as long as the interner. NULL for an unknown id. */
const char *intern_str(const intern_t *self, uint32_t id, size_t *len);

/* How many strings are interned (ids are 0..count-1). */
uint32_t intern_count(const intern_t *self);

#endif
