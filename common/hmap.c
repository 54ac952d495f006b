/* hmap.c - linear-probing hash map with backward-shift deletion.
 *
 * Each slot carries the full 64-bit hash (0 marks an empty slot; a real hash
 * of 0 is stored as 1), so probes compare hashes before keys and growth never
 * rehashes a key. Removal shifts the following entries back instead of leaving
 * tombstones, so lookups never slow down after many removals. Keys of up to 8
 * bytes are stored inside the slot; longer ones are copied to the heap (owned
 * map) or the arena. The table doubles at 3/4 load. */
#include "hmap.h"

#include "alloc.h"

#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#define INITIAL_SLOTS 16
#define INLINE_KEY 8

typedef struct {
    uint64_t hash; /* 0: empty */
    uint64_t key;  /* u64 key, inline key bytes, or pointer to key bytes */
    uint64_t val;
    uint32_t klen;
} slot_t;

struct hmap {
    slot_t *slots;
    size_t mask; /* number of slots - 1 (a power of two) */
    size_t count;
    hmap_kind_t kind;
    arena_t *arena; /* NULL: self-owned (heap) */
};

static inline uint64_t hash_bytes(const void *key, size_t len)
{
    uint64_t h = XXH3_64bits(key, len);
    return h != 0 ? h : 1;
}

static inline uint64_t hash_u64(uint64_t key)
{
    return hash_bytes(&key, sizeof key);
}

static inline const uint8_t *slot_key(const slot_t *s)
{
    return s->klen <= INLINE_KEY ? (const uint8_t *)&s->key : (const uint8_t *)(uintptr_t)s->key;
}

static slot_t *slots_new(const hmap_t *self, size_t n)
{
    if (self->arena == NULL)
        return st_calloc(n, sizeof(slot_t));
    return arena_calloc(self->arena, n, sizeof(slot_t));
}

static hmap_t *init(hmap_t *self, arena_t *a, hmap_kind_t kind)
{
    *self = (hmap_t){NULL, INITIAL_SLOTS - 1, 0, kind, a};
    self->slots = slots_new(self, INITIAL_SLOTS);
    return self->slots != NULL ? self : NULL;
}

hmap_t *hmap_new(hmap_kind_t kind)
{
    hmap_t *self;

    if (kind != HMAP_BYTES && kind != HMAP_U64)
        return NULL;
    if ((self = st_malloc(sizeof *self)) == NULL)
        return NULL;
    if (init(self, NULL, kind) == NULL) {
        st_free(self);
        return NULL;
    }
    return self;
}

hmap_t *hmap_new_arena(arena_t *a, hmap_kind_t kind)
{
    hmap_t *self;

    if (kind != HMAP_BYTES && kind != HMAP_U64)
        return NULL;
    if ((self = arena_alloc(a, sizeof *self)) == NULL)
        return NULL;
    return init(self, a, kind);
}

void hmap_destroy(hmap_t **self_p)
{
    hmap_t *self;

    if (self_p == NULL || *self_p == NULL)
        return;
    self = *self_p;
    if (self->arena == NULL) {
        for (size_t i = 0; i <= self->mask; i++)
            if (self->slots[i].hash != 0 && self->slots[i].klen > INLINE_KEY)
                st_free((void *)(uintptr_t)self->slots[i].key);
        st_free(self->slots);
        st_free(self);
    }
    *self_p = NULL;
}

/* Index of the slot holding the key, or of the empty slot ending its probe
 * (found tells which). key is bytes (HMAP_BYTES) or a uint64_t (HMAP_U64). */
static size_t find(const hmap_t *self, uint64_t h, const void *key, size_t len, bool *found)
{
    size_t i = h & self->mask;
    const slot_t *s;

    for (;; i = (i + 1) & self->mask) {
        s = &self->slots[i];
        if (s->hash == 0) {
            *found = false;
            return i;
        }
        if (s->hash != h)
            continue;
        if (self->kind == HMAP_U64 ? s->key == *(const uint64_t *)key
                                   : s->klen == len && memcmp(slot_key(s), key, len) == 0) {
            *found = true;
            return i;
        }
    }
}

/* Doubles the table; on failure the old one is kept. */
static bool grow(hmap_t *self)
{
    size_t n, mask;
    slot_t *slots;

    if (!st_mul_size(self->mask + 1, 2, &n) || (slots = slots_new(self, n)) == NULL)
        return false;
    mask = n - 1;
    for (size_t i = 0; i <= self->mask; i++) {
        size_t j;
        if (self->slots[i].hash == 0)
            continue;
        for (j = self->slots[i].hash & mask; slots[j].hash != 0; j = (j + 1) & mask)
            ;
        slots[j] = self->slots[i];
    }
    if (self->arena == NULL)
        st_free(self->slots);
    self->slots = slots;
    self->mask = mask;
    return true;
}

/* Stores the key in s: inline, or a copy on the heap or in the arena. */
static bool store_key(hmap_t *self, slot_t *s, const void *key, size_t len)
{
    void *copy;

    s->klen = (uint32_t)len;
    if (self->kind == HMAP_U64) {
        s->key = *(const uint64_t *)key;
        return true;
    }
    if (len <= INLINE_KEY) {
        s->key = 0;
        memcpy(&s->key, key, len);
        return true;
    }
    copy = self->arena != NULL ? arena_alloc(self->arena, len) : st_malloc(len);
    if (copy == NULL)
        return false;
    memcpy(copy, key, len);
    s->key = (uint64_t)(uintptr_t)copy;
    return true;
}

static st_rc_t put(hmap_t *self, uint64_t h, const void *key, size_t len, uint64_t val)
{
    bool found;
    size_t i = find(self, h, key, len, &found);
    slot_t s;

    if (found) {
        self->slots[i].val = val;
        return ST_OK;
    }
    if ((self->count + 1) * 4 > (self->mask + 1) * 3) {
        if (!grow(self))
            return ST_ENOMEM;
        i = find(self, h, key, len, &found);
    }
    if (!store_key(self, &s, key, len))
        return ST_ENOMEM;
    s.hash = h;
    s.val = val;
    self->slots[i] = s;
    self->count++;
    return ST_OK;
}

/* Empties slot i and shifts back the entries after it that may move closer
 * to their home slot, so no probe sequence is broken. */
static void delete_at(hmap_t *self, size_t i)
{
    size_t j = i, mask = self->mask;

    if (self->arena == NULL && self->slots[i].klen > INLINE_KEY && self->kind == HMAP_BYTES)
        st_free((void *)(uintptr_t)self->slots[i].key);
    for (;;) {
        size_t home;
        j = (j + 1) & mask;
        if (self->slots[j].hash == 0)
            break;
        home = self->slots[j].hash & mask;
        if (((j - home) & mask) >= ((j - i) & mask)) {
            self->slots[i] = self->slots[j];
            i = j;
        }
    }
    self->slots[i].hash = 0;
    self->count--;
}

static st_rc_t get(const hmap_t *self, uint64_t h, const void *key, size_t len, uint64_t *val)
{
    bool found;
    size_t i = find(self, h, key, len, &found);

    if (!found)
        return ST_ENOENT;
    if (val != NULL)
        *val = self->slots[i].val;
    return ST_OK;
}

static st_rc_t del(hmap_t *self, uint64_t h, const void *key, size_t len)
{
    bool found;
    size_t i = find(self, h, key, len, &found);

    if (!found)
        return ST_ENOENT;
    delete_at(self, i);
    return ST_OK;
}

st_rc_t hmap_put(hmap_t *self, const void *key, size_t len, uint64_t val)
{
    if (self->kind != HMAP_BYTES)
        return ST_EINVAL;
    if (len >= UINT32_MAX)
        return ST_ELIMIT;
    return put(self, hash_bytes(key, len), key, len, val);
}

st_rc_t hmap_get(const hmap_t *self, const void *key, size_t len, uint64_t *val)
{
    if (self->kind != HMAP_BYTES)
        return ST_EINVAL;
    if (len >= UINT32_MAX)
        return ST_ENOENT;
    return get(self, hash_bytes(key, len), key, len, val);
}

st_rc_t hmap_remove(hmap_t *self, const void *key, size_t len)
{
    if (self->kind != HMAP_BYTES)
        return ST_EINVAL;
    if (len >= UINT32_MAX)
        return ST_ENOENT;
    return del(self, hash_bytes(key, len), key, len);
}

st_rc_t hmap_put_u64(hmap_t *self, uint64_t key, uint64_t val)
{
    if (self->kind != HMAP_U64)
        return ST_EINVAL;
    return put(self, hash_u64(key), &key, sizeof key, val);
}

st_rc_t hmap_get_u64(const hmap_t *self, uint64_t key, uint64_t *val)
{
    if (self->kind != HMAP_U64)
        return ST_EINVAL;
    return get(self, hash_u64(key), &key, sizeof key, val);
}

st_rc_t hmap_remove_u64(hmap_t *self, uint64_t key)
{
    if (self->kind != HMAP_U64)
        return ST_EINVAL;
    return del(self, hash_u64(key), &key, sizeof key);
}

size_t hmap_count(const hmap_t *self)
{
    return self->count;
}

bool hmap_next(const hmap_t *self, hmap_iter_t *it)
{
    for (size_t i = it->pos_; i <= self->mask; i++) {
        const slot_t *s = &self->slots[i];
        if (s->hash == 0)
            continue;
        if (self->kind == HMAP_U64) {
            it->key_u64 = s->key;
            it->key = (span_t){NULL, 0};
        } else {
            it->key = (span_t){slot_key(s), s->klen};
            it->key_u64 = 0;
        }
        it->val = s->val;
        it->pos_ = i + 1;
        return true;
    }
    return false;
}
