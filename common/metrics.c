/* metrics.c - atomic counters, log-linear histograms and their registry.
 *
 * Bucket index of a value v: v itself below 2^SUB_BITS; above, with e the
 * position of its top bit, the octave (e - SUB_BITS + 1) times 2^SUB_BITS plus
 * the SUB_BITS bits after the top one. So buckets are exact up to 127 and then
 * 1/64 of an octave wide. The registry is a sorted linked list under a mutex:
 * metrics are registered a few dozen times per run, and dump wants the order. */
#include "metrics.h"

#include "alloc.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#define SUB_BITS 6
#define SUB_COUNT (1u << SUB_BITS)
#define MAX_BITS 42 /* 2^42 ns is about 73 minutes */
#define N_BUCKETS ((MAX_BITS - SUB_BITS + 1) * SUB_COUNT)
#define MAX_VALUE ((UINT64_C(1) << MAX_BITS) - 1)

struct metrics_counter {
    _Atomic uint64_t value;
};

struct metrics_hist {
    _Atomic uint64_t count;
    _Atomic uint64_t sum;
    _Atomic uint64_t min;
    _Atomic uint64_t max;
    _Atomic uint64_t buckets[N_BUCKETS];
};

typedef struct entry {
    struct entry *next;
    char *name;
    bool is_hist;
    metrics_counter_t *counter;
    metrics_hist_t *hist;
} entry_t;

static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static entry_t *registry; /* sorted by (kind, name) */

void metrics_counter_add(metrics_counter_t *c, uint64_t n)
{
    if (c != NULL)
        atomic_fetch_add_explicit(&c->value, n, memory_order_relaxed);
}

uint64_t metrics_counter_get(const metrics_counter_t *c)
{
    return c != NULL ? atomic_load_explicit(&c->value, memory_order_relaxed) : 0;
}

static inline size_t bucket_of(uint64_t v)
{
    unsigned e, shift;

    if (v < SUB_COUNT)
        return (size_t)v;
    if (v > MAX_VALUE)
        v = MAX_VALUE;
    e = 63u - (unsigned)__builtin_clzll(v);
    shift = e - SUB_BITS;
    return (size_t)(shift + 1) * SUB_COUNT + (size_t)(v >> shift) - SUB_COUNT;
}

/* Midpoint of bucket i (its only value for exact buckets). */
static uint64_t bucket_mid(size_t i)
{
    unsigned shift;
    uint64_t lo;

    if (i < 2 * SUB_COUNT)
        return i;
    shift = (unsigned)(i / SUB_COUNT) - 1;
    lo = (uint64_t)(i % SUB_COUNT + SUB_COUNT) << shift;
    return lo + ((UINT64_C(1) << shift) - 1) / 2;
}

static void init_hist(metrics_hist_t *h)
{
    atomic_store(&h->count, 0);
    atomic_store(&h->sum, 0);
    atomic_store(&h->min, UINT64_MAX);
    atomic_store(&h->max, 0);
    for (size_t i = 0; i < N_BUCKETS; i++)
        atomic_store_explicit(&h->buckets[i], 0, memory_order_relaxed);
}

metrics_hist_t *metrics_hist_new(void)
{
    metrics_hist_t *h = st_malloc(sizeof *h);

    if (h != NULL)
        init_hist(h);
    return h;
}

void metrics_hist_destroy(metrics_hist_t **h_p)
{
    if (h_p == NULL)
        return;
    st_free(*h_p);
    *h_p = NULL;
}

void metrics_hist_reset(metrics_hist_t *h)
{
    if (h != NULL)
        init_hist(h);
}

void metrics_hist_record(metrics_hist_t *h, uint64_t ns)
{
    uint64_t cur;

    if (h == NULL)
        return;
    atomic_fetch_add_explicit(&h->buckets[bucket_of(ns)], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum, ns, memory_order_relaxed);
    cur = atomic_load_explicit(&h->min, memory_order_relaxed);
    while (ns < cur && !atomic_compare_exchange_weak(&h->min, &cur, ns))
        ;
    cur = atomic_load_explicit(&h->max, memory_order_relaxed);
    while (ns > cur && !atomic_compare_exchange_weak(&h->max, &cur, ns))
        ;
}

/* Percentile from the buckets alone (their own total, so that a concurrent
 * record cannot make the rank fall off the end). */
static uint64_t percentile_raw(const metrics_hist_t *h, double q)
{
    uint64_t total = 0, rank, seen = 0;

    for (size_t i = 0; i < N_BUCKETS; i++)
        total += atomic_load_explicit(&h->buckets[i], memory_order_relaxed);
    if (total == 0)
        return 0;
    q = q < 0 ? 0 : q > 1 ? 1 : q;
    rank = (uint64_t)ceil(q * (double)total);
    if (rank == 0)
        rank = 1;
    for (size_t i = 0; i < N_BUCKETS; i++) {
        seen += atomic_load_explicit(&h->buckets[i], memory_order_relaxed);
        if (seen >= rank)
            return bucket_mid(i);
    }
    return bucket_mid(N_BUCKETS - 1);
}

uint64_t metrics_hist_percentile(const metrics_hist_t *h, double q)
{
    uint64_t v, lo, hi;

    if (h == NULL || (v = percentile_raw(h, q)) == 0)
        return 0;
    lo = atomic_load(&h->min);
    hi = atomic_load(&h->max);
    return v < lo ? lo : v > hi ? hi : v;
}

void metrics_hist_summary(const metrics_hist_t *h, metrics_summary_t *out)
{
    memset(out, 0, sizeof *out);
    if (h == NULL || (out->count = atomic_load(&h->count)) == 0)
        return;
    out->mean = (double)atomic_load(&h->sum) / (double)out->count;
    out->min = atomic_load(&h->min);
    out->max = atomic_load(&h->max);
    out->p50 = metrics_hist_percentile(h, 0.50);
    out->p95 = metrics_hist_percentile(h, 0.95);
    out->p99 = metrics_hist_percentile(h, 0.99);
}

void metrics_hist_cumulative(const metrics_hist_t *h, const uint64_t *bounds, size_t n,
                             uint64_t *cumulative, uint64_t *count, uint64_t *sum)
{
    uint64_t seen = 0;
    size_t next = 0; /* the bucket to add next */

    *count = h != NULL ? atomic_load(&h->count) : 0;
    *sum = h != NULL ? atomic_load(&h->sum) : 0;
    for (size_t k = 0; k < n; k++) {
        size_t last = h != NULL ? bucket_of(bounds[k]) : 0;
        for (; h != NULL && next <= last; next++)
            seen += atomic_load_explicit(&h->buckets[next], memory_order_relaxed);
        cumulative[k] = seen;
    }
}

/* Finds or creates the metric (caller holds registry_mu). */
static entry_t *lookup(const char *name, bool is_hist)
{
    entry_t **pp = &registry, *e;
    int c = 1;

    for (; *pp != NULL; pp = &(*pp)->next) {
        if ((*pp)->is_hist != is_hist) {
            if ((*pp)->is_hist)
                break; /* counters come first */
            continue;
        }
        if ((c = strcmp((*pp)->name, name)) >= 0)
            break;
    }
    if (*pp != NULL && c == 0 && (*pp)->is_hist == is_hist)
        return *pp;
    if ((e = st_calloc(1, sizeof *e)) == NULL || (e->name = st_malloc(strlen(name) + 1)) == NULL)
        goto fail;
    strcpy(e->name, name);
    e->is_hist = is_hist;
    if (is_hist ? (e->hist = metrics_hist_new()) == NULL
                : (e->counter = st_calloc(1, sizeof *e->counter)) == NULL)
        goto fail;
    e->next = *pp;
    *pp = e;
    return e;
fail:
    if (e != NULL)
        st_free(e->name);
    st_free(e);
    return NULL;
}

static entry_t *registered(const char *name, bool is_hist)
{
    entry_t *e;

    if (name == NULL || name[0] == '\0')
        return NULL;
    pthread_mutex_lock(&registry_mu);
    e = lookup(name, is_hist);
    pthread_mutex_unlock(&registry_mu);
    return e;
}

metrics_counter_t *metrics_counter(const char *name)
{
    entry_t *e = registered(name, false);
    return e != NULL ? e->counter : NULL;
}

metrics_hist_t *metrics_hist(const char *name)
{
    entry_t *e = registered(name, true);
    return e != NULL ? e->hist : NULL;
}

void metrics_dump(FILE *f)
{
    metrics_summary_t s;

    pthread_mutex_lock(&registry_mu);
    for (entry_t *e = registry; e != NULL; e = e->next) {
        if (!e->is_hist) {
            fprintf(f, "counter %s %llu\n", e->name,
                    (unsigned long long)metrics_counter_get(e->counter));
            continue;
        }
        metrics_hist_summary(e->hist, &s);
        fprintf(f, "hist %s count=%llu mean=%.1f min=%llu p50=%llu p95=%llu p99=%llu max=%llu\n",
                e->name, (unsigned long long)s.count, s.mean, (unsigned long long)s.min,
                (unsigned long long)s.p50, (unsigned long long)s.p95, (unsigned long long)s.p99,
                (unsigned long long)s.max);
    }
    pthread_mutex_unlock(&registry_mu);
}

void metrics_reset_all(void)
{
    pthread_mutex_lock(&registry_mu);
    for (entry_t *e = registry; e != NULL; e = e->next) {
        if (e->is_hist)
            init_hist(e->hist);
        else
            atomic_store(&e->counter->value, 0);
    }
    pthread_mutex_unlock(&registry_mu);
}
