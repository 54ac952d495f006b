/* cas_bench.c - put and get latency and throughput of the CAS per mode.
 *
 * For each durability mode (memory, buffered, strict) and for 1 and 2
 * threads on disjoint keys, times every put and every get of small result
 * values (p50/p99 from a local histogram, ops/s from wall time), then, for
 * the disk modes, gets after reopening (memory cold: every get is a disk
 * read). A plain hash map (common/hmap.h, one per thread, values copied in
 * and out as the CAS does) measured in the same run is the reference.
 * Prints a markdown table and the 2-thread scaling of the memory tier.
 * Usage: cas_bench [dir-parent] (default /tmp). */
#include "common/alloc.h"
#include "common/arena.h"
#include "common/cas/cas.h"
#include "common/hmap.h"
#include "common/metrics.h"
#include "common/clock.h"

#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define VALUE_LEN 200

typedef enum { REF_HMAP = -1 } ref_t;

typedef struct {
    int mode; /* cas_durability_t, or REF_HMAP */
    cas_t *cas;
    long base, n;
    int get_only;
    pthread_barrier_t *start;
    metrics_hist_t *put_h, *get_h; /* this thread's */
    digest_t *keys;                /* keys of base..base+n, made before timing */
    uint64_t put_begin, put_end, get_begin, get_end;
    long errors;
} run_t;

typedef struct {
    double put_p50, put_p99, put_ops, get_p50, get_p99, get_ops;
} result_t;

static digest_t key_of(long i)
{
    digest_t k;
    char s[32];
    int n = snprintf(s, sizeof s, "bench-%ld", i);
    digest_sha256(s, (size_t)n, &k);
    return k;
}

static void value_of(long i, uint8_t *buf)
{
    for (int j = 0; j < VALUE_LEN; j++)
        buf[j] = (uint8_t)(j < VALUE_LEN / 2 ? 'a' + (i + j) % 5 : (i * 31 + j * j) & 0xff);
}

static void run_ref(run_t *r, arena_t *a)
{
    hmap_t *m = hmap_new(HMAP_BYTES);
    uint8_t buf[VALUE_LEN];

    value_of(r->base, buf);
    pthread_barrier_wait(r->start);
    r->put_begin = clock_ns();
    for (long i = 0; i < r->n && m; i++) {
        uint64_t t0 = clock_ns();
        uint8_t *copy = st_malloc(VALUE_LEN);
        if (copy)
            memcpy(copy, buf, VALUE_LEN);
        r->errors +=
            copy == NULL || hmap_put(m, r->keys[i].b, 32, (uint64_t)(uintptr_t)copy) != ST_OK;
        metrics_hist_record(r->put_h, clock_ns() - t0);
    }
    r->put_end = clock_ns();
    pthread_barrier_wait(r->start);
    r->get_begin = clock_ns();
    for (long i = 0; i < r->n && m; i++) {
        uint64_t t0 = clock_ns(), v;
        if (hmap_get(m, r->keys[i].b, 32, &v) == ST_OK) {
            uint8_t *out = arena_alloc(a, VALUE_LEN);
            if (out)
                memcpy(out, (const void *)(uintptr_t)v, VALUE_LEN);
        } else {
            r->errors++;
        }
        metrics_hist_record(r->get_h, clock_ns() - t0);
        if (arena_used(a) > (1u << 20))
            arena_reset(a);
    }
    r->get_end = clock_ns();
    for (hmap_iter_t it = HMAP_ITER_INIT; m && hmap_next(m, &it);)
        st_free((void *)(uintptr_t)it.val);
    hmap_destroy(&m);
}

static void run_cas(run_t *r, arena_t *a)
{
    uint8_t buf[VALUE_LEN];

    pthread_barrier_wait(r->start);
    r->put_begin = clock_ns();
    for (long i = 0; i < r->n && !r->get_only; i++) {
        uint64_t t0;
        value_of(r->base + i, buf);
        t0 = clock_ns();
        r->errors +=
            cas_put(r->cas, CAS_RESULTS, &r->keys[i], buf, VALUE_LEN, false, NULL) != ST_OK;
        metrics_hist_record(r->put_h, clock_ns() - t0);
    }
    r->put_end = clock_ns();
    pthread_barrier_wait(r->start);
    r->get_begin = clock_ns();
    for (long i = 0; i < r->n; i++) {
        span_t v;
        uint64_t t0 = clock_ns();
        r->errors += cas_get(r->cas, CAS_RESULTS, &r->keys[i], a, &v, NULL) != ST_OK;
        metrics_hist_record(r->get_h, clock_ns() - t0);
        if (arena_used(a) > (1u << 20))
            arena_reset(a);
    }
    r->get_end = clock_ns();
}

static void *thread_main(void *p)
{
    run_t *r = p;
    arena_t *a = arena_new(0);

    if (r->mode == REF_HMAP)
        run_ref(r, a);
    else
        run_cas(r, a);
    arena_destroy(&a);
    return NULL;
}

static cas_t *open_store(int mode, const char *dir)
{
    cas_opts_t o;
    cas_t *c = NULL;

    cas_opts_default(&o);
    o.durability = (cas_durability_t)mode;
    o.dir = dir;
    o.mem_budget = (size_t)256 << 20;
    if (cas_open(&o, &c, NULL) != ST_OK) {
        fprintf(stderr, "cas_bench: cannot open the store\n");
        exit(1);
    }
    return c;
}

/* Runs threads x n puts, then (after all puts) threads x n gets. Rates
 * from each phase's wall time; percentiles from thread 0 (the threads do the
 * same work on disjoint keys). */
static void measure(int mode, cas_t *c, int threads, long n, int get_only, result_t *out)
{
    pthread_t t[2];
    run_t r[2];
    pthread_barrier_t start;
    metrics_summary_t ps, gs;
    uint64_t pb = UINT64_MAX, pe = 0, gb = UINT64_MAX, ge = 0;
    long errors = 0;

    pthread_barrier_init(&start, NULL, (unsigned)threads);
    for (int i = 0; i < threads; i++) {
        r[i] = (run_t){mode,
                       c,
                       i * 10000000L,
                       n,
                       get_only,
                       &start,
                       metrics_hist_new(),
                       metrics_hist_new(),
                       calloc((size_t)n, sizeof(digest_t)),
                       0,
                       0,
                       0,
                       0,
                       0};
        for (long k = 0; k < n; k++)
            r[i].keys[k] = key_of(r[i].base + k);
    }
    for (int i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, thread_main, &r[i]);
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        pb = r[i].put_begin < pb ? r[i].put_begin : pb;
        pe = r[i].put_end > pe ? r[i].put_end : pe;
        gb = r[i].get_begin < gb ? r[i].get_begin : gb;
        ge = r[i].get_end > ge ? r[i].get_end : ge;
        errors += r[i].errors;
    }
    pthread_barrier_destroy(&start);
    metrics_hist_summary(r[0].put_h, &ps);
    metrics_hist_summary(r[0].get_h, &gs);
    out->put_ops = get_only ? 0 : (double)n * threads / ((double)(pe - pb) / 1e9);
    out->get_ops = (double)n * threads / ((double)(ge - gb) / 1e9);
    out->put_p50 = (double)ps.p50 / 1000;
    out->put_p99 = (double)ps.p99 / 1000;
    out->get_p50 = (double)gs.p50 / 1000;
    out->get_p99 = (double)gs.p99 / 1000;
    if (errors)
        fprintf(stderr, "cas_bench: %ld failed operations\n", errors);
    for (int i = 0; i < threads; i++) {
        metrics_hist_destroy(&r[i].put_h);
        metrics_hist_destroy(&r[i].get_h);
        free(r[i].keys);
    }
}

static int rm_one(const char *p, const struct stat *s, int f, struct FTW *w)
{
    (void)s;
    (void)f;
    (void)w;
    return remove(p);
}

/* CPUs kept busy by other processes, sampled from /proc/stat over 200 ms
 * while this program sleeps (-1 when unreadable). */
static double cpus_busy(void)
{
    unsigned long long v[2][8] = {{0}};
    double busy, total;

    for (int k = 0; k < 2; k++) {
        FILE *f = fopen("/proc/stat", "r");
        if (f == NULL ||
            fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[k][0], &v[k][1], &v[k][2],
                   &v[k][3], &v[k][4], &v[k][5], &v[k][6], &v[k][7]) != 8) {
            if (f)
                fclose(f);
            return -1;
        }
        fclose(f);
        if (k == 0)
            usleep(200000);
    }
    total = busy = 0;
    for (int i = 0; i < 8; i++)
        total += (double)(v[1][i] - v[0][i]);
    busy = total - (double)(v[1][3] - v[0][3]) - (double)(v[1][4] - v[0][4]);
    return total > 0 ? busy / total * (double)sysconf(_SC_NPROCESSORS_ONLN) : -1;
}

static void row(const char *name, int threads, const result_t *r, int get_only)
{
    if (get_only)
        printf("| %-22s | %d | - | - | - | %.2f | %.2f | %.0f |\n", name, threads, r->get_p50,
               r->get_p99, r->get_ops);
    else
        printf("| %-22s | %d | %.2f | %.2f | %.0f | %.2f | %.2f | %.0f |\n", name, threads,
               r->put_p50, r->put_p99, r->put_ops, r->get_p50, r->get_p99, r->get_ops);
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int mode;
        long n;
    } modes[] = {{"hash map (reference)", REF_HMAP, 200000},
                 {"memory", CAS_MEMORY, 200000},
                 {"buffered", CAS_BUFFERED, 50000},
                 {"strict", CAS_STRICT, 1500}};
    const char *parent = argc > 1 ? argv[1] : "/tmp";
    result_t mem[3] = {{0}}, ref[3] = {{0}};
    double busy = cpus_busy();
    char dir[512];

    printf("| mode | threads | put p50 us | put p99 us | put ops/s | get p50 us | get p99 us "
           "| get ops/s |\n|---|---|---|---|---|---|---|---|\n");
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        for (int threads = 1; threads <= 2; threads++) {
            result_t r;
            cas_t *c = NULL;
            snprintf(dir, sizeof dir, "%s/cas-bench-XXXXXX", parent);
            if (modes[m].mode != REF_HMAP && mkdtemp(dir) == NULL) {
                perror("cas_bench: mkdtemp");
                return 1;
            }
            if (modes[m].mode != REF_HMAP)
                c = open_store(modes[m].mode, dir);
            measure(modes[m].mode, c, threads, modes[m].n, 0, &r);
            row(modes[m].name, threads, &r, 0);
            if (modes[m].mode == CAS_MEMORY)
                mem[threads] = r;
            if (modes[m].mode == REF_HMAP)
                ref[threads] = r;
            if (modes[m].mode == CAS_BUFFERED || modes[m].mode == CAS_STRICT) {
                char name[64];
                cas_close(&c); /* reopen: the memory tier starts cold */
                c = open_store(modes[m].mode, dir);
                measure(modes[m].mode, c, threads, modes[m].n, 1, &r);
                snprintf(name, sizeof name, "%s, disk reads", modes[m].name);
                row(name, threads, &r, 1);
            }
            cas_close(&c);
            if (modes[m].mode != REF_HMAP)
                nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
        }
    }
    printf("\n2 threads vs 1 on disjoint keys: memory tier put %.2fx, get %.2fx; "
           "hash map put %.2fx, get %.2fx\n",
           mem[2].put_ops / mem[1].put_ops, mem[2].get_ops / mem[1].get_ops,
           ref[2].put_ops / ref[1].put_ops, ref[2].get_ops / ref[1].get_ops);
    printf("%ld CPUs, %.1f busy with other work before the run%s\n", sysconf(_SC_NPROCESSORS_ONLN),
           busy, busy > 0.5 ? ": scaling numbers are not meaningful" : "");
    return 0;
}
