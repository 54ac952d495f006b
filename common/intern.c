/* intern.c - open-addressing string interner.
 *
 * The table is an array of 64-bit slots, each holding the upper 32 bits of the
 * string's XXH3 hash (the "tag") and id+1 (0 marks an empty slot), probed
 * linearly from tag & mask. A probe compares tags before it touches the entry,
 * so a lookup usually reads one cache line of slots and one entry; growing
 * rehashes from the slots alone without reading a string. The table doubles
 * at 5/8 load. Entries (pointer, length) are indexed by id, and the strings
 * are copied into an arena: the caller's, or one the interner owns.
 * xxHash is compiled inline (XXH_INLINE_ALL) because most identifiers are a
 * few bytes long and a library call would cost as much as the hash. */
#include "intern.h"

#include "alloc.h"

#include <stdbool.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#define INITIAL_SLOTS 64
#define MAX_COUNT (1u << 31)

typedef struct {
    const char *str;
    uint32_t len;
} entry_t;

struct intern {
    uint64_t *slots;  /* tag << 32 | (id + 1); 0: empty */
    size_t mask;      /* number of slots - 1 (a power of two) */
    entry_t *entries; /* by id */
    uint32_t count;
    uint32_t entries_cap;
    arena_t *arena; /* string storage (and everything, when !owned) */
    bool owned;     /* self-owned: slots and entries on the heap, arena ours */
};

static inline uint32_t hash_tag(const char *s, size_t len)
{
    return (uint32_t)(XXH3_64bits(s, len) >> 32);
}

/* Zeroed table memory, from the heap or the arena. */
static uint64_t *slots_new(intern_t *self, size_t n)
{
    if (self->owned)
        return st_calloc(n, sizeof(uint64_t));
    return arena_calloc(self->arena, n, sizeof(uint64_t));
}

static intern_t *init(intern_t *self, arena_t *a, bool owned)
{
    self->arena = a;
    self->owned = owned;
    self->mask = INITIAL_SLOTS - 1;
    self->count = 0;
    self->entries_cap = INITIAL_SLOTS / 2;
    self->slots = slots_new(self, INITIAL_SLOTS);
    if (owned)
        self->entries = st_malloc(self->entries_cap * sizeof(entry_t));
    else
        self->entries = arena_alloc(a, self->entries_cap * sizeof(entry_t));
    if (self->slots == NULL || self->entries == NULL)
        return NULL;
    return self;
}

intern_t *intern_new(void)
{
    intern_t *self = st_calloc(1, sizeof *self);
    arena_t *a = arena_new(0);

    if (self == NULL || a == NULL || init(self, a, true) == NULL) {
        if (self != NULL) {
            st_free(self->slots);
            st_free(self->entries);
        }
        st_free(self);
        arena_destroy(&a);
        return NULL;
    }
    return self;
}

intern_t *intern_new_arena(arena_t *a)
{
    intern_t *self = arena_alloc(a, sizeof *self);

    if (self == NULL)
        return NULL;
    return init(self, a, false);
}

void intern_destroy(intern_t **self_p)
{
    intern_t *self;

    if (self_p == NULL || *self_p == NULL)
        return;
    self = *self_p;
    if (self->owned) {
        st_free(self->slots);
        st_free(self->entries);
        arena_destroy(&self->arena);
        st_free(self);
    }
    *self_p = NULL;
}

/* Finds s: its id, or INTERN_NONE with *empty set to the free slot where the
 * probe ended (where it would be inserted). */
static inline uint32_t probe(const intern_t *self, const char *s, size_t len, uint32_t tag,
                             size_t *empty)
{
    size_t i = tag & self->mask;

    for (;;) {
        uint64_t slot = self->slots[i];
        if (slot == 0)
            break;
        if ((uint32_t)(slot >> 32) == tag) {
            const entry_t *e = &self->entries[(uint32_t)slot - 1];
            if (e->len == len && memcmp(e->str, s, len) == 0)
                return (uint32_t)slot - 1;
        }
        i = (i + 1) & self->mask;
    }
    *empty = i;
    return INTERN_NONE;
}

/* The first empty slot on tag's probe path (after a growth, for a string
 * known to be absent). */
static size_t free_slot(const intern_t *self, uint32_t tag)
{
    size_t i = tag & self->mask;

    while (self->slots[i] != 0)
        i = (i + 1) & self->mask;
    return i;
}

/* Doubles the table. On failure the old table is kept (nothing changed). */
static bool grow_slots(intern_t *self)
{
    size_t n = (self->mask + 1) * 2, mask = n - 1;
    uint64_t *slots = slots_new(self, n);

    if (slots == NULL)
        return false;
    for (size_t i = 0; i <= self->mask; i++) {
        uint64_t slot = self->slots[i];
        size_t j;
        if (slot == 0)
            continue;
        j = (size_t)(slot >> 32) & mask;
        while (slots[j] != 0)
            j = (j + 1) & mask;
        slots[j] = slot;
    }
    if (self->owned)
        st_free(self->slots);
    self->slots = slots;
    self->mask = mask;
    return true;
}

/* Doubles the entry array. On failure the old one is kept. */
static bool grow_entries(intern_t *self)
{
    size_t old = (size_t)self->entries_cap * sizeof(entry_t);
    entry_t *e;

    if (self->owned)
        e = st_realloc(self->entries, old * 2);
    else
        e = arena_realloc(self->arena, self->entries, old, old * 2);
    if (e == NULL)
        return false;
    self->entries = e;
    self->entries_cap *= 2;
    return true;
}

/* Adds s, known absent; empty is where the probe for it ended. */
static st_rc_t add(intern_t *self, const char *s, size_t len, uint32_t tag, size_t empty,
                   uint32_t *id)
{
    char *copy;

    if (self->count >= MAX_COUNT)
        return ST_ELIMIT;
    if ((size_t)(self->count + 1) * 8 > (self->mask + 1) * 5) {
        if (!grow_slots(self))
            return ST_ENOMEM;
        empty = free_slot(self, tag);
    }
    if (self->count == self->entries_cap && !grow_entries(self))
        return ST_ENOMEM;
    if ((copy = arena_strndup(self->arena, s, len)) == NULL)
        return ST_ENOMEM;
    self->entries[self->count] = (entry_t){copy, (uint32_t)len};
    self->slots[empty] = (uint64_t)tag << 32 | (self->count + 1);
    *id = self->count++;
    return ST_OK;
}

st_rc_t intern_get_or_add(intern_t *self, const char *s, size_t len, uint32_t *id)
{
    uint32_t tag, found;
    size_t empty = 0;

    if (len >= UINT32_MAX)
        return ST_ELIMIT;
    tag = hash_tag(s, len);
    found = probe(self, s, len, tag, &empty);
    if (found != INTERN_NONE) {
        *id = found;
        return ST_OK;
    }
    return add(self, s, len, tag, empty, id);
}

uint32_t intern_find(const intern_t *self, const char *s, size_t len)
{
    size_t empty = 0;

    if (len >= UINT32_MAX)
        return INTERN_NONE;
    return probe(self, s, len, hash_tag(s, len), &empty);
}

const char *intern_str(const intern_t *self, uint32_t id, size_t *len)
{
    if (id >= self->count)
        return NULL;
    if (len != NULL)
        *len = self->entries[id].len;
    return self->entries[id].str;
}

uint32_t intern_count(const intern_t *self)
{
    return self->count;
}
