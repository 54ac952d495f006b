/* arena.c - chunked bump allocator and a pool of arenas.
 *
 * Ordinary allocations are bumped out of a chain of chunks of chunk_size
 * bytes. A reset rewinds to the first chunk and keeps the whole chain, so the
 * next job reuses it without touching malloc: O(1). Allocations larger than a
 * quarter of a chunk get a chunk of their own on a separate "big" list, which
 * a reset frees; that costs one free per big allocation made since the last
 * reset, each of which already cost a malloc, so reset stays amortised O(1)
 * while one huge file cannot pin its memory in the arena for ever. The newest
 * big allocation can also grow with realloc, which keeps a growing buffer in
 * an arena from copying and wasting its old copies. */
#include "arena.h"

#include "alloc.h"
#include "status.h"

#include <assert.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#define DEFAULT_CHUNK (64 * 1024)
#define MIN_CHUNK 256

typedef struct chunk {
    struct chunk *next;
    size_t size; /* usable bytes after the header */
} chunk_t;

/* The header is padded so that chunk data starts ARENA_ALIGN-aligned. */
#define CHUNK_HDR ((sizeof(chunk_t) + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1))

_Static_assert(alignof(max_align_t) >= ARENA_ALIGN, "malloc must align to ARENA_ALIGN");

struct arena {
    uint8_t *ptr;         /* free space of cur starts here ... */
    size_t avail;         /* ... and has this many bytes */
    uint8_t *last;        /* the last bump allocation (for realloc in place) */
    chunk_t *first;       /* chain of ordinary chunks, kept across resets */
    chunk_t *cur;         /* the chunk being bumped */
    chunk_t *big;         /* oversize allocations, newest first */
    size_t chunk_size;    /* size of an ordinary chunk */
    size_t big_threshold; /* larger allocations go to the big list */
    size_t limit;         /* cap on reserved (0: none) */
    size_t reserved;      /* bytes obtained from st_malloc for chunks */
    size_t used;          /* bytes handed out since the reset */
    arena_pool_t *pool;   /* the pool it belongs to, or NULL */
    arena_t *pool_next;   /* link in the pool's idle list */
};

struct arena_pool {
    pthread_mutex_t mu;
    arena_t *idle; /* reset arenas ready to hand out */
    size_t n_idle;
    size_t max_idle;
    size_t chunk_size;
    size_t arena_limit;
    uint64_t gets;
    uint64_t reuses;
    size_t high_water;
    _Atomic size_t bytes_reserved; /* updated by the arenas themselves */
};

static inline uint8_t *chunk_data(chunk_t *c)
{
    return (uint8_t *)c + CHUNK_HDR;
}

/* Rounds size up to ARENA_ALIGN (0 counts as 1); false on overflow. */
static inline bool align_size(size_t size, size_t *out)
{
    if (size > SIZE_MAX - (ARENA_ALIGN - 1))
        return false;
    *out = size == 0 ? ARENA_ALIGN : (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    return true;
}

/* True when reserving bytes more (after releasing freed) stays under the cap. */
static bool may_reserve(const arena_t *self, size_t bytes, size_t freed)
{
    size_t total;

    if (self->limit == 0)
        return true;
    if (!st_add_size(self->reserved - freed, bytes, &total))
        return false;
    return total <= self->limit;
}

/* Records a change of reserved bytes, in the arena and in its pool. */
static void account_add(arena_t *self, size_t bytes)
{
    self->reserved += bytes;
    if (self->pool != NULL)
        atomic_fetch_add(&self->pool->bytes_reserved, bytes);
}

static void account_sub(arena_t *self, size_t bytes)
{
    self->reserved -= bytes;
    if (self->pool != NULL)
        atomic_fetch_sub(&self->pool->bytes_reserved, bytes);
}

arena_t *arena_new(size_t chunk_size)
{
    arena_t *self = st_calloc(1, sizeof *self);

    if (self == NULL)
        return NULL;
    if (chunk_size == 0)
        chunk_size = DEFAULT_CHUNK;
    if (chunk_size < MIN_CHUNK)
        chunk_size = MIN_CHUNK;
    if (chunk_size > SIZE_MAX / 2)
        chunk_size = SIZE_MAX / 2;
    self->chunk_size = chunk_size & ~(size_t)(ARENA_ALIGN - 1);
    self->big_threshold = self->chunk_size / 4;
    return self;
}

static void free_chain(arena_t *self, chunk_t *c)
{
    while (c != NULL) {
        chunk_t *next = c->next;
        account_sub(self, CHUNK_HDR + c->size);
        st_free(c);
        c = next;
    }
}

void arena_destroy(arena_t **self_p)
{
    arena_t *self;

    if (self_p == NULL || *self_p == NULL)
        return;
    self = *self_p;
    free_chain(self, self->big);
    free_chain(self, self->first);
    st_free(self);
    *self_p = NULL;
}

void arena_set_limit(arena_t *self, size_t max_reserved)
{
    self->limit = max_reserved;
}

/* Allocation of need bytes (aligned) in a chunk of its own on the big list. */
static void *big_alloc(arena_t *self, size_t need)
{
    chunk_t *c;

    if (need > SIZE_MAX - CHUNK_HDR || !may_reserve(self, CHUNK_HDR + need, 0))
        return NULL;
    if ((c = st_malloc(CHUNK_HDR + need)) == NULL)
        return NULL;
    c->size = need;
    c->next = self->big;
    self->big = c;
    account_add(self, CHUNK_HDR + need);
    self->used += need;
    return chunk_data(c);
}

/* Makes cur a chunk with at least need free bytes: the next chunk of the
 * chain when it is large enough, else a new one linked right after cur. */
static bool next_chunk(arena_t *self, size_t need)
{
    chunk_t *next = self->cur != NULL ? self->cur->next : self->first;
    size_t size = self->chunk_size;
    chunk_t *c;

    if (next != NULL && next->size >= need) {
        c = next;
    } else {
        if (self->limit != 0) {
            size_t room = self->limit > self->reserved ? self->limit - self->reserved : 0;
            room = room > CHUNK_HDR ? (room - CHUNK_HDR) & ~(size_t)(ARENA_ALIGN - 1) : 0;
            size = room < size ? room : size;
        }
        if (size < need || (c = st_malloc(CHUNK_HDR + size)) == NULL)
            return false;
        c->size = size;
        c->next = next;
        if (self->cur != NULL)
            self->cur->next = c;
        else
            self->first = c;
        account_add(self, CHUNK_HDR + size);
    }
    self->cur = c;
    self->ptr = chunk_data(c);
    self->avail = c->size;
    return true;
}

static void *alloc_slow(arena_t *self, size_t need)
{
    uint8_t *p;

    if (need > self->big_threshold)
        return big_alloc(self, need);
    if (!next_chunk(self, need))
        return NULL;
    p = self->ptr;
    self->ptr += need;
    self->avail -= need;
    self->last = p;
    self->used += need;
    return p;
}

void *arena_alloc(arena_t *self, size_t size)
{
    size_t need;
    uint8_t *p;

    if (!align_size(size, &need))
        return NULL;
    if (need > self->avail)
        return alloc_slow(self, need);
    p = self->ptr;
    self->ptr += need;
    self->avail -= need;
    self->last = p;
    self->used += need;
    return p;
}

void *arena_calloc(arena_t *self, size_t n, size_t size)
{
    size_t bytes;
    void *p;

    if (!st_mul_size(n, size, &bytes) || (p = arena_alloc(self, bytes)) == NULL)
        return NULL;
    memset(p, 0, bytes);
    return p;
}

/* Resizes the newest big allocation with st_realloc. */
static void *big_realloc(arena_t *self, size_t new_size)
{
    chunk_t *c = self->big, *grown;
    size_t need, old = c->size;

    if (!align_size(new_size, &need) || need > SIZE_MAX - CHUNK_HDR ||
        !may_reserve(self, CHUNK_HDR + need, CHUNK_HDR + old))
        return NULL;
    if ((grown = st_realloc(c, CHUNK_HDR + need)) == NULL)
        return NULL;
    grown->size = need;
    self->big = grown;
    account_sub(self, old);
    account_add(self, need);
    self->used = self->used - old + need;
    return chunk_data(grown);
}

/* Resizes the last bump allocation where it is; false when cur lacks room. */
static bool resize_last(arena_t *self, size_t new_size)
{
    size_t need, held = (size_t)(self->ptr - self->last);

    if (!align_size(new_size, &need) || need > held + self->avail)
        return false;
    self->avail = held + self->avail - need;
    self->ptr = self->last + need;
    self->used = self->used - held + need;
    return true;
}

void *arena_realloc(arena_t *self, void *p, size_t old_size, size_t new_size)
{
    void *q;

    if (p == NULL)
        return arena_alloc(self, new_size);
    if (self->big != NULL && p == chunk_data(self->big))
        return big_realloc(self, new_size);
    if (p == self->last && resize_last(self, new_size))
        return p;
    if (new_size <= old_size)
        return p;
    if ((q = arena_alloc(self, new_size)) == NULL)
        return NULL;
    memcpy(q, p, old_size);
    return q;
}

char *arena_strndup(arena_t *self, const char *s, size_t len)
{
    char *p;

    if (len == SIZE_MAX || (p = arena_alloc(self, len + 1)) == NULL)
        return NULL;
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

void arena_reset(arena_t *self)
{
    free_chain(self, self->big);
    self->big = NULL;
    self->cur = self->first;
    self->ptr = self->first != NULL ? chunk_data(self->first) : NULL;
    self->avail = self->first != NULL ? self->first->size : 0;
    self->last = NULL;
    self->used = 0;
}

size_t arena_used(const arena_t *self)
{
    return self->used;
}

size_t arena_reserved(const arena_t *self)
{
    return self->reserved;
}

arena_pool_t *arena_pool_new(size_t chunk_size, size_t arena_limit, size_t max_idle)
{
    arena_pool_t *self = st_calloc(1, sizeof *self);

    if (self == NULL)
        return NULL;
    if (pthread_mutex_init(&self->mu, NULL) != 0) {
        st_free(self);
        return NULL;
    }
    self->chunk_size = chunk_size;
    self->arena_limit = arena_limit;
    self->max_idle = max_idle;
    atomic_init(&self->bytes_reserved, 0);
    return self;
}

void arena_pool_destroy(arena_pool_t **self_p)
{
    arena_pool_t *self;

    if (self_p == NULL || *self_p == NULL)
        return;
    self = *self_p;
    while (self->idle != NULL) {
        arena_t *a = self->idle;
        self->idle = a->pool_next;
        a->pool = NULL;
        arena_destroy(&a);
    }
    pthread_mutex_destroy(&self->mu);
    st_free(self);
    *self_p = NULL;
}

arena_t *arena_pool_get(arena_pool_t *self)
{
    arena_t *a;

    pthread_mutex_lock(&self->mu);
    a = self->idle;
    if (a != NULL) {
        self->idle = a->pool_next;
        self->n_idle--;
        self->gets++;
        self->reuses++;
    }
    pthread_mutex_unlock(&self->mu);
    if (a == NULL) {
        if ((a = arena_new(self->chunk_size)) == NULL)
            return NULL;
        a->pool = self;
        pthread_mutex_lock(&self->mu);
        self->gets++;
        pthread_mutex_unlock(&self->mu);
    }
    a->pool_next = NULL;
    a->limit = self->arena_limit;
    return a;
}

void arena_pool_put(arena_pool_t *self, arena_t *a)
{
    size_t used;
    bool keep;

    if (a == NULL)
        return;
    assert(a->pool == self);
    used = a->used;
    arena_reset(a);
    pthread_mutex_lock(&self->mu);
    if (used > self->high_water)
        self->high_water = used;
    keep = self->n_idle < self->max_idle;
    if (keep) {
        a->pool_next = self->idle;
        self->idle = a;
        self->n_idle++;
    }
    pthread_mutex_unlock(&self->mu);
    if (!keep)
        arena_destroy(&a);
}

void arena_pool_stats(arena_pool_t *self, arena_pool_stats_t *out)
{
    pthread_mutex_lock(&self->mu);
    out->gets = self->gets;
    out->reuses = self->reuses;
    out->high_water = self->high_water;
    pthread_mutex_unlock(&self->mu);
    out->bytes_reserved = atomic_load(&self->bytes_reserved);
}
