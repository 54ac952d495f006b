/* cas_mem.c - sharded LRU hash table of CAS values.
 *
 * Each shard is a chained hash table plus an intrusive doubly linked LRU
 * list (head: most recent), under one mutex. Counters live in the shard and
 * are updated under its lock, so the hot path touches no shared cache line
 * besides the shard's own. A get moves its entry to the head only when the
 * entry is not already among the newest quarter of the shard (memcached
 * bumps an item at most once a minute for the same reason): relinking
 * writes the neighbours' and the old head's lines, which another thread
 * likely holds, and an entry that near the head is in no danger. So the
 * order is LRU to within a quarter of a shard; for small shards it is
 * exact. Shards are padded to two cache lines so two
 * threads on two shards do not false-share. The chain table doubles when a
 * shard holds more entries than buckets; if that allocation fails the chains
 * just get longer. */
#include "common/cas/cas_mem.h"

#include "common/alloc.h"

#include <pthread.h>
#include <string.h>

typedef struct mem_entry {
    struct mem_entry *chain; /* next in the bucket */
    struct mem_entry *newer, *older;
    uint64_t hash;
    uint64_t seq; /* the shard's seq when last put at the head */
    digest_t key;
    uint8_t ns;
    size_t len;
    uint8_t value[];
} mem_entry_t;

typedef struct {
    union {
        struct {
            /* what every get writes, in one cache line */
            pthread_mutex_t lock;
            mem_entry_t *newest;
            uint64_t seq, hits;
            /* the rest */
            mem_entry_t **buckets;
            size_t nbuckets;
            mem_entry_t *oldest;
            size_t entries, bytes;
            uint64_t misses, evictions;
        } s;
        char pad[256];
    } u;
} mem_shard_t;

struct cas_mem {
    mem_shard_t *shards;
    uint32_t nshards;
    size_t shard_budget;
};

#define INITIAL_BUCKETS 64

static uint64_t key_hash(cas_ns_t ns, const digest_t *key)
{
    uint64_t h;

    memcpy(&h, key->b, sizeof h);
    h ^= (uint64_t)ns * 0x9e3779b97f4a7c15ULL;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

static size_t entry_cost(size_t len)
{
    return sizeof(mem_entry_t) + len;
}

cas_mem_t *cas_mem_new(size_t budget, uint32_t shards)
{
    cas_mem_t *self = st_calloc(1, sizeof *self);
    pthread_mutexattr_t attr;

    if (self == NULL)
        return NULL;
    if ((self->shards = st_calloc(shards, sizeof *self->shards)) == NULL)
        goto fail;
    self->nshards = shards;
    self->shard_budget = budget / shards;
    /* adaptive: the critical sections are a few hundred ns, shorter than a
     * futex sleep and wake-up */
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
    for (uint32_t i = 0; i < shards; i++) {
        mem_shard_t *sh = &self->shards[i];
        pthread_mutex_init(&sh->u.s.lock, &attr);
        if ((sh->u.s.buckets = st_calloc(INITIAL_BUCKETS, sizeof(mem_entry_t *))) == NULL) {
            self->nshards = i + 1;
            pthread_mutexattr_destroy(&attr);
            cas_mem_destroy(&self);
            return NULL;
        }
        sh->u.s.nbuckets = INITIAL_BUCKETS;
    }
    pthread_mutexattr_destroy(&attr);
    return self;
fail:
    st_free(self);
    return NULL;
}

static void shard_free_entries(mem_shard_t *sh)
{
    mem_entry_t *e = sh->u.s.newest, *next;

    for (; e != NULL; e = next) {
        next = e->older;
        st_free(e);
    }
    memset(sh->u.s.buckets, 0, sh->u.s.nbuckets * sizeof(mem_entry_t *));
    sh->u.s.newest = sh->u.s.oldest = NULL;
    sh->u.s.entries = sh->u.s.bytes = 0;
}

void cas_mem_destroy(cas_mem_t **self_p)
{
    cas_mem_t *self = self_p ? *self_p : NULL;

    if (self == NULL)
        return;
    for (uint32_t i = 0; i < self->nshards; i++) {
        mem_shard_t *sh = &self->shards[i];
        if (sh->u.s.buckets != NULL)
            shard_free_entries(sh);
        st_free(sh->u.s.buckets);
        pthread_mutex_destroy(&sh->u.s.lock);
    }
    st_free(self->shards);
    st_free(self);
    *self_p = NULL;
}

static mem_shard_t *shard_of(cas_mem_t *self, uint64_t h)
{
    return &self->shards[(h >> 40) & (self->nshards - 1)];
}

/* The link that points at the entry for (ns, key), or at the chain's end. */
static mem_entry_t **find_link(mem_shard_t *sh, uint64_t h, cas_ns_t ns, const digest_t *key)
{
    mem_entry_t **link = &sh->u.s.buckets[h & (sh->u.s.nbuckets - 1)];

    while (*link != NULL &&
           ((*link)->hash != h || (*link)->ns != ns || !digest_eq(&(*link)->key, key)))
        link = &(*link)->chain;
    return link;
}

static void lru_unlink(mem_shard_t *sh, mem_entry_t *e)
{
    if (e->newer)
        e->newer->older = e->older;
    else
        sh->u.s.newest = e->older;
    if (e->older)
        e->older->newer = e->newer;
    else
        sh->u.s.oldest = e->newer;
}

static void lru_push(mem_shard_t *sh, mem_entry_t *e)
{
    e->seq = ++sh->u.s.seq;
    e->newer = NULL;
    e->older = sh->u.s.newest;
    if (sh->u.s.newest)
        sh->u.s.newest->newer = e;
    else
        sh->u.s.oldest = e;
    sh->u.s.newest = e;
}

/* Unlinks e (found at *link) from its chain and the LRU list, and frees it. */
static void drop_entry(mem_shard_t *sh, mem_entry_t **link, mem_entry_t *e)
{
    *link = e->chain;
    lru_unlink(sh, e);
    sh->u.s.entries--;
    sh->u.s.bytes -= entry_cost(e->len);
    st_free(e);
}

st_rc_t cas_mem_get(cas_mem_t *self, cas_ns_t ns, const digest_t *key, arena_t *a, span_t *value)
{
    uint64_t h = key_hash(ns, key);
    mem_shard_t *sh = shard_of(self, h);
    mem_entry_t *e;
    uint8_t *copy;
    st_rc_t rc = ST_OK;

    pthread_mutex_lock(&sh->u.s.lock);
    e = *find_link(sh, h, ns, key);
    if (e == NULL) {
        sh->u.s.misses++;
        rc = ST_ENOENT;
    } else if ((copy = arena_alloc(a, e->len)) == NULL) {
        rc = ST_ENOMEM;
    } else {
        memcpy(copy, e->value, e->len);
        value->ptr = copy;
        value->len = e->len;
        sh->u.s.hits++;
        if (sh->u.s.newest != e && sh->u.s.seq - e->seq > sh->u.s.entries / 4) {
            lru_unlink(sh, e);
            lru_push(sh, e);
        }
    }
    pthread_mutex_unlock(&sh->u.s.lock);
    return rc;
}

bool cas_mem_contains(cas_mem_t *self, cas_ns_t ns, const digest_t *key)
{
    uint64_t h = key_hash(ns, key);
    mem_shard_t *sh = shard_of(self, h);
    bool found;

    pthread_mutex_lock(&sh->u.s.lock);
    found = *find_link(sh, h, ns, key) != NULL;
    pthread_mutex_unlock(&sh->u.s.lock);
    return found;
}

/* Doubles the bucket table; on failure keeps the old one. */
static void maybe_grow(mem_shard_t *sh)
{
    size_t n = sh->u.s.nbuckets * 2;
    mem_entry_t **nb;

    if (sh->u.s.entries <= sh->u.s.nbuckets || (nb = st_calloc(n, sizeof *nb)) == NULL)
        return;
    for (size_t i = 0; i < sh->u.s.nbuckets; i++) {
        mem_entry_t *e = sh->u.s.buckets[i], *next;
        for (; e != NULL; e = next) {
            next = e->chain;
            e->chain = nb[e->hash & (n - 1)];
            nb[e->hash & (n - 1)] = e;
        }
    }
    st_free(sh->u.s.buckets);
    sh->u.s.buckets = nb;
    sh->u.s.nbuckets = n;
}

static void evict_for_budget(cas_mem_t *self, mem_shard_t *sh)
{
    while (sh->u.s.bytes > self->shard_budget && sh->u.s.oldest != NULL) {
        mem_entry_t *e = sh->u.s.oldest;
        drop_entry(sh, find_link(sh, e->hash, (cas_ns_t)e->ns, &e->key), e);
        sh->u.s.evictions++;
    }
}

st_rc_t cas_mem_put(cas_mem_t *self, cas_ns_t ns, const digest_t *key, const void *value,
                    size_t len)
{
    uint64_t h = key_hash(ns, key);
    mem_shard_t *sh = shard_of(self, h);
    mem_entry_t *e, **link;
    size_t size;

    if (len > self->shard_budget || entry_cost(len) > self->shard_budget) {
        cas_mem_remove(self, ns, key); /* an older value must not answer for it */
        return ST_OK;
    }
    if (!st_add_size(sizeof *e, len, &size) || (e = st_malloc(size)) == NULL)
        return ST_ENOMEM;
    e->hash = h;
    e->key = *key;
    e->ns = (uint8_t)ns;
    e->len = len;
    if (len > 0)
        memcpy(e->value, value, len);
    pthread_mutex_lock(&sh->u.s.lock);
    link = find_link(sh, h, ns, key);
    if (*link != NULL)
        drop_entry(sh, link, *link);
    link = &sh->u.s.buckets[h & (sh->u.s.nbuckets - 1)];
    e->chain = *link;
    *link = e;
    lru_push(sh, e);
    sh->u.s.entries++;
    sh->u.s.bytes += entry_cost(len);
    evict_for_budget(self, sh);
    maybe_grow(sh);
    pthread_mutex_unlock(&sh->u.s.lock);
    return ST_OK;
}

void cas_mem_remove(cas_mem_t *self, cas_ns_t ns, const digest_t *key)
{
    uint64_t h = key_hash(ns, key);
    mem_shard_t *sh = shard_of(self, h);
    mem_entry_t **link;

    pthread_mutex_lock(&sh->u.s.lock);
    link = find_link(sh, h, ns, key);
    if (*link != NULL)
        drop_entry(sh, link, *link);
    pthread_mutex_unlock(&sh->u.s.lock);
}

void cas_mem_clear(cas_mem_t *self)
{
    for (uint32_t i = 0; i < self->nshards; i++) {
        mem_shard_t *sh = &self->shards[i];
        pthread_mutex_lock(&sh->u.s.lock);
        shard_free_entries(sh);
        pthread_mutex_unlock(&sh->u.s.lock);
    }
}

void cas_mem_stats(cas_mem_t *self, cas_tier_stats_t *out)
{
    memset(out, 0, sizeof *out);
    for (uint32_t i = 0; i < self->nshards; i++) {
        mem_shard_t *sh = &self->shards[i];
        pthread_mutex_lock(&sh->u.s.lock);
        out->entries += sh->u.s.entries;
        out->bytes += sh->u.s.bytes;
        out->hits += sh->u.s.hits;
        out->misses += sh->u.s.misses;
        out->evictions += sh->u.s.evictions;
        pthread_mutex_unlock(&sh->u.s.lock);
    }
}
