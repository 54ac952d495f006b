/* graph_bench.c - readiness dispatch against a strict layer barrier.
 *
 * The check jobs of a project form a DAG of import-graph components. A
 * scheduler can run them layer by layer (every component of layer k before
 * any of layer k+1: simple, but each layer waits for its slowest job) or on
 * readiness (a component starts as soon as the ones it imports are done,
 * critical path first). On a real graph (default: the standard library,
 * tests excluded as in stdlib_files.sh), in one run:
 *   (a) the check phase measured both ways on this machine with --jobs
 *       threads, alternated, median of RUNS (scans are done once, before);
 *   (b) the makespan of both policies simulated over the same graph for 1
 *       to 64 workers (component cost = summary size), as a projection for
 *       larger machines.
 * It prints the times and the ratio barrier/readiness (>= 1 means readiness
 * is faster).
 *
 * Usage: graph_bench [--jobs N] [--runs R] [ROOT]  (default ROOT
 * /usr/lib/python3.11, N 2, R 5) */
#include "common/cas/cas.h"
#include "common/metrics.h"
#include "run/project.h"
#include "run/report.h"
#include "run/walk.h"
#include "run/run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_RUNS 50

static const char *const excluded[] = {"site-packages", "dist-packages", "test", "tests",
                                       "idle_test"};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A run with every file scanned (through the in-memory cache, so only
 * the first one really scans); its project is checked by hand below, with
 * and without the layer barrier that the run does not offer. */
static run_t *scanned_run(const walk_list_t *files, cas_t *cache, unsigned jobs, run_file_t *rf)
{
    run_opts_t o = {.files = rf, .n_files = files->n_files, .jobs = jobs, .cache = cache};
    run_t *run;
    st_err_t err = {0};

    for (size_t i = 0; i < files->n_files; i++)
        rf[i] = (run_file_t){.path = files->files[i].path,
                             .size = files->files[i].size,
                             .kind = scan_kind_of_path(files->files[i].path)};
    if ((run = run_new(&o, &err)) == NULL)
        return NULL;
    if (run_scans(run, &err) != ST_OK)
        fprintf(stderr, "graph_bench: scan: %s (going on)\n", err.msg);
    return run;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double median_ms(uint64_t *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_u64);
    return (double)v[n / 2] / 1e6;
}

int main(int argc, char **argv)
{
    const char *root = "/usr/lib/python3.11";
    unsigned jobs = 2;
    int runs = 5;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--jobs") == 0 && i + 1 < argc)
            jobs = (unsigned)atoi(argv[++i]);
        else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = atoi(argv[++i]);
        else
            root = argv[i];
    }
    if (runs < 1 || runs > MAX_RUNS || jobs < 1 || jobs > 1024) {
        fprintf(stderr, "usage: graph_bench [--jobs N] [--runs R(1-%d)] [ROOT]\n", MAX_RUNS);
        return 2;
    }

    walk_opts_t wopts = {.exclude = excluded, .n_exclude = sizeof excluded / sizeof *excluded};
    walk_list_t files;
    st_err_t err = {0};
    if (walk_paths(&root, 1, &wopts, &files, &err) != ST_OK || files.n_files == 0) {
        fprintf(stderr, "graph_bench: %s: %s\n", root, err.msg[0] ? err.msg : "no files");
        return 2;
    }
    run_file_t *rf = calloc(files.n_files, sizeof *rf);
    cas_opts_t copts;
    cas_t *cache = NULL;
    cas_opts_default(&copts);
    copts.durability = CAS_MEMORY;
    copts.dir = NULL;
    if (rf == NULL || cas_open(&copts, &cache, &err) != ST_OK) {
        fprintf(stderr, "graph_bench: setup: %s\n", err.msg);
        return 2;
    }

    report_rules_t rules = {0};
    uint64_t t_ready[MAX_RUNS], t_barrier[MAX_RUNS];
    project_stats_t st = {0};
    printf("graph_bench: %zu files under %s, %u threads, %d runs each\n", files.n_files, root, jobs,
           runs);
    for (int r = 0; r < runs * 2; r++) {
        bool barrier = (r % 2) == 1;
        run_t *run = scanned_run(&files, cache, jobs, rf);
        project_t *p = run != NULL ? run_project(run) : NULL;
        report_t *report = report_new(&rules);
        project_opts_t po = {.args = &root, .n_args = 1, .jobs = jobs, .barrier = barrier};
        if (p == NULL || report == NULL) {
            fprintf(stderr, "graph_bench: out of memory\n");
            return 2;
        }
        uint64_t t0 = now_ns();
        if (project_check(p, &po, report, &st, &err) != ST_OK) {
            fprintf(stderr, "graph_bench: check: %s\n", err.msg);
            return 2;
        }
        uint64_t dt = now_ns() - t0;
        (barrier ? t_barrier : t_ready)[r / 2] = dt;
        if (r == 0) {
            printf("graph: %zu modules, %zu components, %zu layers, %zu check jobs\n", st.modules,
                   st.comps, st.layers, st.checks);
            printf("\n%-9s %8s %8s %8s\n", "workers", "ready", "barrier", "ratio");
            for (unsigned w = 1; w <= 64; w *= 2) {
                uint64_t a = project_simulate(p, w, false), b = project_simulate(p, w, true);
                printf("%-9u %8llu %8llu %8.2f   (simulated, cost units)\n", w,
                       (unsigned long long)a, (unsigned long long)b,
                       a > 0 ? (double)b / (double)a : 0.0);
            }
        }
        report_destroy(&report);
        run_destroy(&run);
    }
    double ready = median_ms(t_ready, runs), barrier = median_ms(t_barrier, runs);
    printf("\nmeasured check phase, %u threads (median of %d):\n", jobs, runs);
    printf("  readiness %8.1f ms\n  barrier   %8.1f ms\n  barrier/readiness %.2f\n", ready, barrier,
           ready > 0 ? barrier / ready : 0.0);
    cas_close(&cache);
    free(rf);
    walk_list_free(&files);
    return 0;
}
