/* exec_bench.c - where a thread pool starts to pay for itself.
 *
 * run/exec.c runs a small input in the calling thread, because starting
 * a pool costs more than it saves on a few small files. This bench measures
 * the two sides of that trade in one process so that the threshold in
 * run/policy.c (POLICY_INLINE_SCAN_BYTES) is a number measured on the
 * target host, not a guess:
 *   (i)  pool overhead: starting and joining N threads that each make and
 *        destroy a scanner and take one arena from a pool (what the pool
 *        adds over the inline path, which needs one scanner anyway); the
 *        bare pthread_create/join cost is printed too;
 *   (ii) scan cost per byte: scanner_run over real Python files (read into
 *        memory first), one arena reset per file, single thread.
 * With N threads the scan of B bytes takes B*c inline and about
 * overhead + B*c/N on the pool, so the pool wins above
 *        break_even = overhead / (c * (1 - 1/N)).
 * Medians over many repetitions (overhead) and the best of several passes
 * (scan) keep a noisy neighbour out of the numbers.
 *
 * Usage: exec_bench [--threads N] [FILE...]
 * Without files it scans the *.py files directly in /usr/lib/python3.11
 * (the top of the stdlib corpus of bench/stdlib_files.sh). */
#include "common/arena.h"
#include "common/status.h"
#include "run/exec.h"
#include "worker/python/scan.h"

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define OVERHEAD_REPS 200
#define SCAN_PASSES 3
#define MAX_FILES 4096
#define DEFAULT_DIR "/usr/lib/python3.11"

typedef struct {
    char *path;
    uint8_t *data;
    size_t len;
} bench_file_t;

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return v[n / 2];
}

static void *bare_thread(void *arg)
{
    return arg;
}

/* What a pool thread sets up besides its jobs: a scanner and an arena. */
static void *pool_thread(void *arg)
{
    arena_pool_t *pool = arg;
    scanner_t *s = scanner_new();
    arena_t *a = arena_pool_get(pool);

    if (a != NULL) {
        arena_alloc(a, 64); /* the first chunk, as a first job would */
        arena_pool_put(pool, a);
    }
    scanner_destroy(&s);
    return NULL;
}

/* Median seconds to start and join n threads running fn. */
static double time_threads(unsigned n, void *(*fn)(void *), bool with_pool)
{
    double samples[OVERHEAD_REPS];
    pthread_t ids[256];

    for (int r = 0; r < OVERHEAD_REPS; r++) {
        arena_pool_t *pool = with_pool ? arena_pool_new((size_t)1 << 20, 0, n) : NULL;
        double t0 = now();
        unsigned started = 0;

        while (started < n && pthread_create(&ids[started], NULL, fn, pool) == 0)
            started++;
        for (unsigned i = 0; i < started; i++)
            pthread_join(ids[i], NULL);
        samples[r] = now() - t0;
        arena_pool_destroy(&pool);
    }
    return median(samples, OVERHEAD_REPS);
}

/* The same setup in the calling thread (one scanner, one arena). */
static double time_inline_setup(void)
{
    double samples[OVERHEAD_REPS];

    for (int r = 0; r < OVERHEAD_REPS; r++) {
        arena_pool_t *pool = arena_pool_new((size_t)1 << 20, 0, 1);
        double t0 = now();

        pool_thread(pool);
        samples[r] = now() - t0;
        arena_pool_destroy(&pool);
    }
    return median(samples, OVERHEAD_REPS);
}

static int load(bench_file_t *files, size_t *n, const char *path)
{
    arena_t *a = arena_new(0);
    uint8_t *data;
    size_t len;

    if (*n >= MAX_FILES || a == NULL ||
        exec_read_file(path, SCAN_DEFAULT_MAX_FILE_BYTES, a, &data, &len, NULL) != ST_OK) {
        arena_destroy(&a);
        return -1;
    }
    files[*n].path = strdup(path);
    files[*n].data = malloc(len + 1);
    if (files[*n].path == NULL || files[*n].data == NULL) {
        free(files[*n].path);
        free(files[*n].data);
        arena_destroy(&a);
        return -1;
    }
    memcpy(files[*n].data, data, len);
    files[*n].len = len;
    (*n)++;
    arena_destroy(&a);
    return 0;
}

static void load_default(bench_file_t *files, size_t *n)
{
    DIR *d = opendir(DEFAULT_DIR);
    struct dirent *de;
    char path[4096];

    if (d == NULL)
        return;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);

        if (len > 3 && strcmp(de->d_name + len - 3, ".py") == 0) {
            snprintf(path, sizeof path, "%s/%s", DEFAULT_DIR, de->d_name);
            load(files, n, path);
        }
    }
    closedir(d);
}

/* Best seconds, over SCAN_PASSES, to scan every file once; *bytes total. */
static double time_scan(const bench_file_t *files, size_t n, size_t *bytes, size_t *diags)
{
    scanner_t *s = scanner_new();
    arena_t *a = arena_new((size_t)1 << 20);
    scan_opts_t opts = {0};
    double best = 1e30;

    *bytes = 0;
    *diags = 0;
    for (int pass = 0; pass < SCAN_PASSES && s != NULL && a != NULL; pass++) {
        double t0 = now();
        size_t total = 0, nd = 0;

        for (size_t i = 0; i < n; i++) {
            span_t out;
            scan_diag_t *d;
            size_t k;

            if (scanner_run(s, &opts, scan_kind_of_path(files[i].path), files[i].data, files[i].len,
                            a, &out, NULL) == ST_OK &&
                scan_result_diags(out, a, &d, &k, NULL) == ST_OK)
                nd += k;
            total += files[i].len;
            arena_reset(a);
        }
        double took = now() - t0;

        if (took < best)
            best = took;
        *bytes = total;
        *diags = nd;
    }
    scanner_destroy(&s);
    arena_destroy(&a);
    return best;
}

static unsigned parse_threads(int *argc, char ***argv)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    if (*argc > 2 && strcmp((*argv)[1], "--threads") == 0) {
        n = atol((*argv)[2]);
        *argc -= 2;
        *argv += 2;
    }
    if (n < 2)
        n = 2; /* one thread has no break-even: the pool never helps */
    return n > 256 ? 256 : (unsigned)n;
}

int main(int argc, char **argv)
{
    static bench_file_t files[MAX_FILES];
    size_t n = 0, bytes, diags;
    unsigned threads = parse_threads(&argc, &argv);
    double bare, pool, inl, scan, per_byte, overhead, break_even;

    for (int i = 1; i < argc; i++)
        if (load(files, &n, argv[i]) != 0)
            fprintf(stderr, "exec_bench: cannot read %s, skipped\n", argv[i]);
    if (argc <= 1)
        load_default(files, &n);
    if (n == 0) {
        fprintf(stderr, "exec_bench: no file to scan\n");
        return 2;
    }
    bare = time_threads(threads, bare_thread, false);
    pool = time_threads(threads, pool_thread, true);
    inl = time_inline_setup();
    scan = time_scan(files, n, &bytes, &diags);
    per_byte = scan / (double)bytes;
    overhead = pool - inl > 0 ? pool - inl : pool;
    break_even = overhead / (per_byte * (1.0 - 1.0 / threads));
    printf("threads:                %u\n", threads);
    printf("start+join, bare:       %.1f us (median of %d)\n", bare * 1e6, OVERHEAD_REPS);
    printf("start+join, pool setup: %.1f us (scanner + arena per thread)\n", pool * 1e6);
    printf("inline setup:           %.1f us (one scanner + arena)\n", inl * 1e6);
    printf("pool overhead:          %.1f us\n", overhead * 1e6);
    printf("scan:                   %zu files, %zu bytes, %zu diagnostics, best %.1f ms\n", n,
           bytes, diags, scan * 1e3);
    printf("scan cost:              %.2f ns/byte (%.1f MB/s)\n", per_byte * 1e9,
           (double)bytes / scan / 1e6);
    printf("break-even:             %.0f bytes (pool wins above)\n", break_even);
    printf("POLICY_INLINE_SCAN_BYTES:  %llu (current constant)\n",
           (unsigned long long)POLICY_INLINE_SCAN_BYTES);
    for (size_t i = 0; i < n; i++) {
        free(files[i].path);
        free(files[i].data);
    }
    return 0;
}
