/* typeset_bench.c - type-set kernels per level, and small sets against
 * bitvectors, measured in the same run.
 *
 * Part 1 times each bitvector kernel (OR, AND, AND-NOT-is-zero on a true
 * subset so it reads every word, popcount) at every level the CPU has, on
 * bitvectors of 2^10 to 2^20 ids, as a ratio to the scalar level. Part 2
 * times the set operations (join = copy + union, meet = copy + intersect,
 * subset, equal, contains) at the best level on sets drawn by size bucket
 * (1, 2, 3-4, 5-16 ids, dense: more than 16), each set once as the API
 * makes it (small up to TYPESET_SMALL_MAX ids) and once forced into the
 * bitvector form, and prints bitvector time / default time: above 1, the
 * small form wins.
 *
 * The check jobs do not make type sets yet, so by default the sets are
 * synthetic: ids uniform over a universe of 2048 (--universe N), dense sets
 * holding each id with probability 1/4. Real sets, once the analysis can
 * write them, are read from a file (--sets FILE) in this format:
 *
 *     # comment lines start with '#'
 *     universe 5000
 *     8 12 4031
 *     1
 *
 * the first other line "universe N" (every id is below N), then one set per
 * line as ids separated by spaces (an empty line is the empty set, counted
 * but not timed); ids 0-7 are the kinds of common/typeset.h (0 unknown,
 * 1 None, ...), classes from 8 on.
 *
 * To measure another size of the small form, build with
 * -DTYPESET_SMALL_MAX=N in CMAKE_C_FLAGS (the whole program must agree).
 *
 * Usage: typeset_bench [--universe N] [--sets FILE] */
#include "common/arena.h"
#include "common/clock.h"
#include "common/typeset.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RUNS 7
#define PAIRS 4096
#define SYNTH_PER_BUCKET 2048
#define BUCKETS 5

static const char *bucket_names[BUCKETS] = {"1", "2", "3-4", "5-16", "dense"};

typedef struct {
    typeset_t *sets; /* as the API makes them */
    typeset_t *bits; /* the same, forced into bitvectors */
    size_t n, cap;
} bucket_t;

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11);
}

static int bucket_of(size_t count)
{
    return count <= 1 ? 0 : count == 2 ? 1 : count <= 4 ? 2 : count <= 16 ? 3 : 4;
}

/* ---- part 1: kernels ---- */

static volatile size_t sink;

/* Best ns per call of kernel k (0 or, 1 and, 2 subset, 3 popcount). */
static double time_kernel(int k, uint64_t *x, const uint64_t *y, size_t words)
{
    size_t reps = 1 + (size_t)(4u << 20) / (words + 16);
    uint64_t best = UINT64_MAX;

    for (int r = 0; r < RUNS; r++) {
        uint64_t t0 = clock_ns(), dt;
        size_t s = 0;
        for (size_t i = 0; i < reps; i++) {
            if (k == 0)
                typeset_words_or(x, y, words);
            else if (k == 1)
                typeset_words_and(x, y, words);
            else if (k == 2)
                s += typeset_words_andnot_zero(x, y, words);
            else
                s += typeset_words_popcount(x, words);
        }
        dt = clock_ns() - t0;
        sink += s;
        best = dt < best ? dt : best;
    }
    return (double)best / (double)reps;
}

static void bench_kernels(void)
{
    static const char *names[] = {"or", "and", "andnot_zero", "popcount"};
    static const size_t sizes[] = {16, 128, 4096, 16384};
    uint64_t *x = malloc(16384 * sizeof *x), *y = malloc(16384 * sizeof *y);

    if (x == NULL || y == NULL) {
        fprintf(stderr, "typeset_bench: out of memory\n");
        exit(2);
    }
    printf("\nkernels: ns per call (best of %d), ratio = scalar time / level time\n", RUNS);
    printf("  %-12s %9s", "kernel", "ids");
    for (int lv = 0; lv <= (int)typeset_detect(); lv++)
        printf(" %9s %6s", typeset_level_name((typeset_level_t)lv), "x");
    printf("\n");
    for (int k = 0; k < 4; k++) {
        for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
            size_t w = sizes[si];
            double scalar = 0;
            printf("  %-12s %9zu", names[k], w * 64);
            for (int lv = 0; lv <= (int)typeset_detect(); lv++) {
                double ns;
                for (size_t i = 0; i < w; i++) { /* x within y: subset reads all */
                    y[i] = ((uint64_t)rnd() << 32) | rnd();
                    x[i] = y[i] & (((uint64_t)rnd() << 32) | rnd());
                }
                typeset_force_level((typeset_level_t)lv);
                ns = time_kernel(k, x, y, w);
                scalar = lv == 0 ? ns : scalar;
                printf(" %9.1f %6.2f", ns, scalar / ns);
            }
            printf("\n");
        }
    }
    typeset_force_level(typeset_detect());
    free(x);
    free(y);
}

/* ---- part 2: forms ---- */

static int bucket_add(bucket_t *b, const typeset_t *s, uint32_t universe, arena_t *a)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        typeset_t *p = realloc(b->sets, cap * sizeof *p), *q;
        if (p == NULL)
            return -1;
        b->sets = p;
        if ((q = realloc(b->bits, cap * sizeof *q)) == NULL)
            return -1;
        b->bits = q;
        b->cap = cap;
    }
    if (typeset_copy(&b->sets[b->n], s, a) != ST_OK ||
        typeset_copy(&b->bits[b->n], s, a) != ST_OK ||
        typeset_to_bits(&b->bits[b->n], universe, a) != ST_OK)
        return -1;
    b->n++;
    return 0;
}

/* SYNTH_PER_BUCKET sets per bucket, ids uniform below universe. */
static int synthesize(bucket_t *buckets, uint32_t universe, arena_t *a)
{
    static const size_t lo[BUCKETS] = {1, 2, 3, 5, 0}, hi[BUCKETS] = {1, 2, 4, 16, 0};

    for (int bi = 0; bi < BUCKETS; bi++) {
        for (size_t i = 0; i < SYNTH_PER_BUCKET; i++) {
            typeset_t s;
            typeset_init(&s);
            if (bi == BUCKETS - 1) {
                for (uint32_t id = 0; id < universe; id++)
                    if (rnd() % 4 == 0 && typeset_add(&s, id, a) != ST_OK)
                        return -1;
            } else {
                size_t want = lo[bi] + rnd() % (hi[bi] - lo[bi] + 1);
                while (typeset_count(&s) < want)
                    if (typeset_add(&s, rnd() % universe, a) != ST_OK)
                        return -1;
            }
            if (bucket_add(&buckets[bi], &s, universe, a) != 0)
                return -1;
        }
    }
    return 0;
}

/* Parses one line of ids into s; -1 on a bad token. */
static int parse_ids(char *line, uint32_t universe, typeset_t *s, arena_t *a)
{
    char *p = line, *end;

    typeset_init(s);
    for (;;) {
        unsigned long v;
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
            p++;
        if (*p == '\0')
            return 0;
        errno = 0;
        v = strtoul(p, &end, 10);
        if (end == p || errno != 0 || v >= universe ||
            (*end != '\0' && *end != ' ' && *end != '\t' && *end != '\r' && *end != '\n'))
            return -1;
        if (typeset_add(s, (uint32_t)v, a) != ST_OK)
            return -1;
        p = end;
    }
}

/* Reads the sets file into the buckets, counting the empty sets (not
 * timed) in *empty; 0, or -1 with a message. */
static int load_sets(const char *path, bucket_t *buckets, uint32_t *universe, size_t *empty,
                     arena_t *a)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    unsigned long u = 0;
    int rc = 0;

    if (f == NULL) {
        fprintf(stderr, "typeset_bench: %s: %s\n", path, strerror(errno));
        return -1;
    }
    while (getline(&line, &cap, f) > 0) {
        typeset_t s;
        lineno++;
        if (line[0] == '#')
            continue;
        if (u == 0) {
            if (sscanf(line, "universe %lu", &u) != 1 || u == 0 || u > TYPESET_ID_LIMIT) {
                fprintf(stderr, "typeset_bench: %s:%zu: expected \"universe N\" (1..%u)\n", path,
                        lineno, (unsigned)TYPESET_ID_LIMIT);
                rc = -1;
                break;
            }
            continue;
        }
        if (parse_ids(line, (uint32_t)u, &s, a) != 0) {
            fprintf(stderr, "typeset_bench: %s:%zu: ids must be numbers below %lu\n", path, lineno,
                    u);
            rc = -1;
            break;
        }
        if (typeset_is_empty(&s)) {
            (*empty)++;
            continue;
        }
        if (bucket_add(&buckets[bucket_of(typeset_count(&s))], &s, (uint32_t)u, a) != 0) {
            fprintf(stderr, "typeset_bench: out of memory\n");
            rc = -1;
            break;
        }
    }
    free(line);
    fclose(f);
    *universe = (uint32_t)u;
    return rc;
}

/* Best ns per operation op over PAIRS pairs of sets (pairs: 2 * PAIRS
 * indexes below the number of sets, then PAIRS ids for contains). */
static double time_op(int op, const typeset_t *sets, const uint32_t *pairs, arena_t *scratch)
{
    uint64_t best = UINT64_MAX;

    for (int r = 0; r < RUNS; r++) {
        uint64_t t0 = clock_ns(), dt;
        size_t s = 0;
        for (size_t i = 0; i < PAIRS; i++) {
            const typeset_t *x = &sets[pairs[2 * i]], *y = &sets[pairs[2 * i + 1]];
            typeset_t t;
            if (op == 0) {
                typeset_copy(&t, x, scratch);
                typeset_union_into(&t, y, scratch);
                s += typeset_is_small(&t);
            } else if (op == 1) {
                typeset_copy(&t, x, scratch);
                typeset_intersect_into(&t, y);
                s += typeset_is_small(&t);
            } else if (op == 2) {
                s += typeset_is_subset(x, y);
            } else if (op == 3) {
                s += typeset_equal(x, y);
            } else {
                s += typeset_contains(x, pairs[2 * PAIRS + i]);
            }
        }
        dt = clock_ns() - t0;
        sink += s;
        best = dt < best ? dt : best;
        arena_reset(scratch);
    }
    return (double)best / PAIRS;
}

static void bench_forms(bucket_t *buckets, uint32_t universe, arena_t *scratch)
{
    static const char *ops[] = {"join", "meet", "subset", "equal", "contains"};
    static uint32_t pairs[3 * PAIRS];
    printf("\nforms at level %s: ns per operation (best of %d) on %d random pairs,\n"
           "default form (small up to %d ids) against every set a bitvector;\n"
           "ratio = bitvector / default (above 1: the default is faster); dense sets\n"
           "are bitvectors in both columns, so their ratios' distance from 1 is noise\n",
           typeset_level_name(typeset_level()), RUNS, PAIRS, TYPESET_SMALL_MAX);
    printf("  %-6s %6s %6s", "ids", "sets", "small");
    for (int op = 0; op < 5; op++)
        printf(" %8s %7s %6s", ops[op], "bits", "ratio");
    printf("\n");
    for (int bi = 0; bi < BUCKETS; bi++) {
        bucket_t *b = &buckets[bi];
        size_t small = 0;
        if (b->n == 0)
            continue;
        for (size_t i = 0; i < 2 * PAIRS; i++)
            pairs[i] = rnd() % (uint32_t)b->n;
        for (size_t i = 2 * PAIRS; i < 3 * PAIRS; i++)
            pairs[i] = rnd() % universe;
        for (size_t i = 0; i < b->n; i++)
            small += typeset_is_small(&b->sets[i]);
        printf("  %-6s %6zu %5.0f%%", bucket_names[bi], b->n, 100.0 * (double)small / (double)b->n);
        for (int op = 0; op < 5; op++) {
            double d = time_op(op, b->sets, pairs, scratch);
            double v = time_op(op, b->bits, pairs, scratch);
            printf(" %8.1f %7.1f %6.2f", d, v, v / d);
        }
        printf("\n");
    }
}

int main(int argc, char **argv)
{
    static bucket_t buckets[BUCKETS];
    const char *path = NULL;
    uint32_t universe = 2048;
    arena_t *a = arena_new(1 << 20), *scratch = arena_new(1 << 20);

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--sets") == 0 && i + 1 < argc) {
            path = argv[++i];
        } else if (strcmp(argv[i], "--universe") == 0 && i + 1 < argc) {
            unsigned long u = strtoul(argv[++i], NULL, 10);
            if (u < 64 || u > TYPESET_ID_LIMIT) {
                fprintf(stderr, "typeset_bench: --universe 64..%u\n", (unsigned)TYPESET_ID_LIMIT);
                return 2;
            }
            universe = (uint32_t)u;
        } else {
            fprintf(stderr, "usage: typeset_bench [--universe N] [--sets FILE]\n");
            return 2;
        }
    }
    if (a == NULL || scratch == NULL) {
        fprintf(stderr, "typeset_bench: out of memory\n");
        return 2;
    }
    printf("typeset_bench: CPU level %s; small form up to %d ids, a set is %zu bytes\n",
           typeset_level_name(typeset_detect()), TYPESET_SMALL_MAX, sizeof(typeset_t));
    bench_kernels();
    if (path != NULL) {
        size_t empty = 0;
        if (load_sets(path, buckets, &universe, &empty, a) != 0)
            return 2;
        printf("\nsets: %s (universe %u; %zu empty sets not timed; dense: more than 16 ids)\n",
               path, universe, empty);
    } else {
        if (synthesize(buckets, universe, a) != 0) {
            fprintf(stderr, "typeset_bench: out of memory\n");
            return 2;
        }
        printf("\nsets: SYNTHETIC, no real type sets exist yet (the analysis does not make\n"
               "them): ids uniform below %u, dense = each id with probability 1/4;\n"
               "--sets FILE measures real ones\n",
               universe);
    }
    bench_forms(buckets, universe, scratch);
    for (int bi = 0; bi < BUCKETS; bi++) {
        free(buckets[bi].sets);
        free(buckets[bi].bits);
    }
    arena_destroy(&a);
    arena_destroy(&scratch);
    return 0;
}
