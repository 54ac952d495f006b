/* scan_bench.c - single-thread scan throughput against the raw parser.
 *
 * The speed bar says the whole per-file scan (decoding, parse, scope
 * analysis, checks, summary, msgpack) must run at no less than 70% of the
 * rate at which tree-sitter alone parses the same bytes and walks every node
 * of the tree once. Both are measured here in one process, on the same
 * buffers, read into memory before any timing so that the disk is out of
 * the picture: (i) one TSParser, ts_parser_parse_string plus a TSTreeCursor
 * walk over every node, named or not; (ii) one scanner and one arena,
 * scanner_run per file with an arena reset after each. The two alternate,
 * repetition by repetition, and the best repetition of each counts, so that
 * a noisy neighbour or a frequency change hits both alike.
 *
 * Usage: scan_bench [--reps N] [--json] [--list FILE | FILE...]
 * With neither --list nor files, paths are read from stdin, one per line.
 * Prints MB/s for both and their ratio; --json prints one JSON object. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tree_sitter/api.h>

#include "common/arena.h"
#include "common/status.h"
#include "worker/python/scan.h"

const TSLanguage *tree_sitter_python(void);

#define BENCH_MAX_FILE_BYTES ((size_t)1 << 30)

typedef struct {
    char *path;
    uint8_t *data;
    size_t len;
    scan_kind_t kind;
} bench_file_t;

typedef struct {
    bench_file_t *files;
    size_t count;
    size_t cap;
    size_t bytes;
} corpus_t;

typedef struct {
    int reps;
    bool json;
    const char *list;
    char **paths;
    int npaths;
} bench_opts_t;

typedef struct {
    double best;
    uint64_t checksum; /* nodes walked, or diagnostics: proves the work was done */
    size_t failures;
} bench_result_t;

static double now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int read_whole(const char *path, uint8_t **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0;

    if (f == NULL)
        return -1;
    for (;;) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            uint8_t *nbuf;
            if (ncap > BENCH_MAX_FILE_BYTES || (nbuf = realloc(buf, ncap)) == NULL)
                goto fail;
            buf = nbuf;
            cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f))
        goto fail;
    fclose(f);
    *data = buf;
    *len = n;
    return 0;
fail:
    free(buf);
    fclose(f);
    return -1;
}

static int corpus_add(corpus_t *c, const char *path)
{
    bench_file_t *fl;

    if (c->count == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 1024;
        if ((fl = realloc(c->files, ncap * sizeof *fl)) == NULL)
            return -1;
        c->files = fl;
        c->cap = ncap;
    }
    fl = &c->files[c->count];
    if (read_whole(path, &fl->data, &fl->len) != 0) {
        fprintf(stderr, "scan_bench: cannot read %s: %s, skipping it\n", path, strerror(errno));
        return 0;
    }
    if ((fl->path = strdup(path)) == NULL) {
        free(fl->data);
        return -1;
    }
    fl->kind = scan_kind_of_path(path);
    c->bytes += fl->len;
    c->count++;
    return 0;
}

static int corpus_add_lines(corpus_t *c, FILE *in)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;

    while (rc == 0 && (n = getline(&line, &cap, in)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n > 0)
            rc = corpus_add(c, line);
    }
    free(line);
    return rc;
}

static int corpus_load(corpus_t *c, const bench_opts_t *o)
{
    FILE *in;
    int rc;

    if (o->npaths > 0) {
        for (int i = 0; i < o->npaths; i++)
            if (corpus_add(c, o->paths[i]) != 0)
                return -1;
        return 0;
    }
    if (o->list == NULL)
        return corpus_add_lines(c, stdin);
    if ((in = fopen(o->list, "r")) == NULL) {
        fprintf(stderr, "scan_bench: cannot open %s: %s\n", o->list, strerror(errno));
        return -1;
    }
    rc = corpus_add_lines(c, in);
    fclose(in);
    return rc;
}

static void corpus_free(corpus_t *c)
{
    for (size_t i = 0; i < c->count; i++) {
        free(c->files[i].path);
        free(c->files[i].data);
    }
    free(c->files);
}

/* Visits every node of the tree once, in document order. */
static uint64_t walk_tree(const TSTree *tree)
{
    TSTreeCursor cur = ts_tree_cursor_new(ts_tree_root_node(tree));
    uint64_t nodes = 1;

    for (;;) {
        if (ts_tree_cursor_goto_first_child(&cur)) {
            nodes++;
            continue;
        }
        while (!ts_tree_cursor_goto_next_sibling(&cur)) {
            if (!ts_tree_cursor_goto_parent(&cur))
                goto done;
        }
        nodes++;
    }
done:
    ts_tree_cursor_delete(&cur);
    return nodes;
}

static int parse_walk_once(TSParser *parser, const corpus_t *c, uint64_t *nodes, size_t *failures)
{
    *nodes = 0;
    *failures = 0;
    for (size_t i = 0; i < c->count; i++) {
        const bench_file_t *f = &c->files[i];
        TSTree *tree;

        if (f->len > UINT32_MAX) {
            (*failures)++;
            continue;
        }
        tree = ts_parser_parse_string(parser, NULL, (const char *)f->data, (uint32_t)f->len);
        if (tree == NULL) {
            (*failures)++;
            ts_parser_reset(parser);
            continue;
        }
        *nodes += walk_tree(tree);
        ts_tree_delete(tree);
    }
    return 0;
}

static int scan_once(scanner_t *sc, arena_t *a, const corpus_t *c, size_t *failures)
{
    const scan_opts_t opts = {0};

    *failures = 0;
    for (size_t i = 0; i < c->count; i++) {
        const bench_file_t *f = &c->files[i];
        span_t out;
        st_err_t err = {0};

        if (scanner_run(sc, &opts, f->kind, f->data, f->len, a, &out, &err) != ST_OK)
            (*failures)++;
        arena_reset(a);
    }
    return 0;
}

/* Untimed: runs each file once more and decodes its result, to report the
 * number of diagnostics and to show that the results are well-formed. */
static uint64_t count_diags(scanner_t *sc, arena_t *a, const corpus_t *c, size_t *bad)
{
    const scan_opts_t opts = {0};
    uint64_t total = 0;

    *bad = 0;
    for (size_t i = 0; i < c->count; i++) {
        const bench_file_t *f = &c->files[i];
        span_t out;
        scan_diag_t *diags;
        size_t n;
        st_err_t err = {0};

        if (scanner_run(sc, &opts, f->kind, f->data, f->len, a, &out, &err) != ST_OK ||
            scan_result_diags(out, a, &diags, &n, &err) != ST_OK) {
            fprintf(stderr, "scan_bench: %s: %s\n", f->path, err.msg);
            (*bad)++;
        } else {
            total += n;
        }
        arena_reset(a);
    }
    return total;
}

static int run_bench(const corpus_t *c, int reps, bench_result_t *pw, bench_result_t *sr)
{
    /* the scanner first: it routes tree-sitter's allocations through the
       counting allocator (worker/python/tsalloc.h), which the reference
       parser then uses too; blocks made before that could not be freed */
    scanner_t *sc = scanner_new();
    TSParser *parser = ts_parser_new();
    arena_t *a = arena_new(0);
    int rc = -1;

    if (parser == NULL || sc == NULL || a == NULL ||
        !ts_parser_set_language(parser, tree_sitter_python())) {
        fprintf(stderr, "scan_bench: cannot set up parser, scanner or arena\n");
        goto fail;
    }
    pw->best = sr->best = 1e300;
    for (int r = 0; r < reps; r++) {
        double t0 = now_seconds();
        parse_walk_once(parser, c, &pw->checksum, &pw->failures);
        double t1 = now_seconds();
        scan_once(sc, a, c, &sr->failures);
        double t2 = now_seconds();
        if (t1 - t0 < pw->best)
            pw->best = t1 - t0;
        if (t2 - t1 < sr->best)
            sr->best = t2 - t1;
    }
    sr->checksum = count_diags(sc, a, c, &sr->failures);
    rc = 0;
fail:
    arena_destroy(&a);
    scanner_destroy(&sc);
    if (parser != NULL)
        ts_parser_delete(parser);
    return rc;
}

static void report(const corpus_t *c, int reps, bool json, const bench_result_t *pw,
                   const bench_result_t *sr)
{
    double mb = (double)c->bytes / 1e6;
    double pw_rate = mb / pw->best, sr_rate = mb / sr->best;
    double ratio = sr_rate / pw_rate;

    if (json) {
        printf("{\"files\": %zu, \"bytes\": %zu, \"reps\": %d, "
               "\"parse_walk_seconds\": %.6f, \"parse_walk_mb_s\": %.3f, \"nodes\": %llu, "
               "\"parse_failures\": %zu, \"scan_seconds\": %.6f, \"scan_mb_s\": %.3f, "
               "\"diagnostics\": %llu, \"scan_failures\": %zu, \"ratio\": %.4f}\n",
               c->count, c->bytes, reps, pw->best, pw_rate, (unsigned long long)pw->checksum,
               pw->failures, sr->best, sr_rate, (unsigned long long)sr->checksum, sr->failures,
               ratio);
        return;
    }
    printf("corpus: %zu files, %.2f MB in memory; best of %d, one thread\n", c->count, mb, reps);
    printf("tree-sitter parse+walk: %.3f s  %7.2f MB/s  (%llu nodes, %zu failed)\n", pw->best,
           pw_rate, (unsigned long long)pw->checksum, pw->failures);
    printf("strata scanner_run:     %.3f s  %7.2f MB/s  (%llu diagnostics, %zu failed)\n", sr->best,
           sr_rate, (unsigned long long)sr->checksum, sr->failures);
    printf("scan / parse+walk:      %.2f  (target >= 0.70: %s)\n", ratio,
           ratio >= 0.70 ? "PASS" : "FAIL");
}

static int parse_args(int argc, char **argv, bench_opts_t *o)
{
    *o = (bench_opts_t){.reps = 3};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
            o->reps = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--list") == 0 && i + 1 < argc) {
            o->list = argv[++i];
        } else if (strcmp(argv[i], "--json") == 0) {
            o->json = true;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return -1;
        } else {
            o->paths = &argv[i];
            o->npaths = argc - i;
            break;
        }
    }
    return o->reps >= 1 ? 0 : -1;
}

int main(int argc, char **argv)
{
    bench_opts_t o;
    corpus_t c = {0};
    bench_result_t pw = {0}, sr = {0};
    int rc = 2;

    if (parse_args(argc, argv, &o) != 0) {
        fprintf(stderr, "usage: scan_bench [--reps N] [--json] [--list FILE | FILE...]\n");
        return 2;
    }
    if (corpus_load(&c, &o) != 0 || c.count == 0) {
        fprintf(stderr, "scan_bench: no corpus (out of memory, or no readable file)\n");
        goto out;
    }
    if (run_bench(&c, o.reps, &pw, &sr) != 0)
        goto out;
    report(&c, o.reps, o.json, &pw, &sr);
    rc = 0;
out:
    corpus_free(&c);
    return rc;
}
