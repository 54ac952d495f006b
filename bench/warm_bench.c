/* warm_bench.c - what a warm re-check costs, against reading and hashing.
 *
 * A re-check of unchanged files should cost what it must: reading every
 * file and computing its SHA-256 (the key of its cached result), and little
 * more. So, in one run on the same files: (a) read + SHA-256 of every file
 * in this process, one thread (exec_read_file and digest_sha256, as the
 * check does, except that the check takes each file's size from its walk
 * where exec_read_file asks fstat), (b) a cold `strata check` with an
 * empty cache, (c) a warm
 * `strata check` on the cache (b) filled. It prints the medians and the
 * ratios warm/(read+hash) (target <= 1.5) and warm/cold (target <= 0.05).
 * Process start-up, the walk, the report and writing it (to /dev/null) are
 * all inside (b) and (c): they are part of what a user waits for; (d),
 * `strata version`, is the share of (c) a process pays to start and stop.
 * (a) and (c) are timed in turns, one of each at a time. The
 * user's shared cache of library scans is off (STRATA_SHARED_CACHE_DIR
 * empty), so that (b) scans the library files it reaches.
 *
 * Usage: bash bench/stdlib_files.sh | warm_bench PATH-TO-STRATA [RUNS]
 * (one path per line on stdin; RUNS timed runs of each, default 5). The
 * page cache is warmed by one untimed pass first. */
#include "common/arena.h"
#include "common/digest.h"
#include "common/metrics.h"
#include "run/exec.h"
#include "common/clock.h"

#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define MAX_RUNS 50

typedef struct {
    char **paths;
    size_t n;
} list_t;

static int read_list(list_t *l)
{
    char *line = NULL;
    size_t cap = 0, alloc = 0;
    ssize_t len;

    while ((len = getline(&line, &cap, stdin)) > 0) {
        if (line[len - 1] == '\n')
            line[--len] = '\0';
        if (len == 0)
            continue;
        if (l->n == alloc) {
            alloc = alloc ? alloc * 2 : 1024;
            if ((l->paths = realloc(l->paths, alloc * sizeof *l->paths)) == NULL)
                return -1;
        }
        if ((l->paths[l->n++] = strdup(line)) == NULL)
            return -1;
    }
    free(line);
    return l->n > 0 ? 0 : -1;
}

/* (a): one pass of read + SHA-256 over every file; ns, or 0 on failure. */
static uint64_t read_and_hash(const list_t *l, uint64_t *bytes)
{
    arena_t *a = arena_new(1 << 20);
    uint64_t t0 = clock_ns(), total = 0;

    if (a == NULL)
        return 0;
    for (size_t i = 0; i < l->n; i++) {
        uint8_t *data;
        size_t len;
        digest_t d;

        if (exec_read_file(l->paths[i], SCAN_DEFAULT_MAX_FILE_BYTES, a, &data, &len, NULL) ==
                ST_OK &&
            digest_sha256(data, len, &d) == ST_OK)
            total += len;
        arena_reset(a);
    }
    *bytes = total;
    arena_destroy(&a);
    return clock_ns() - t0;
}

/* Runs argv (argv[0] the program), output to /dev/null; ns, or 0 when it
 * could not run or exited with a status above 1. */
static uint64_t run_argv(char **argv)
{
    posix_spawn_file_actions_t fa;
    uint64_t t0;
    pid_t pid;
    int status = -1;

    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    t0 = clock_ns();
    if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) == 0)
        waitpid(pid, &status, 0);
    t0 = clock_ns() - t0;
    posix_spawn_file_actions_destroy(&fa);
    if (!WIFEXITED(status) || WEXITSTATUS(status) > 1)
        return 0;
    return t0;
}

/* Runs `strata check --quiet --cache-dir dir FILES...`: run_argv's answer. */
static uint64_t run_check(const char *strata, const char *dir, const list_t *l)
{
    char **argv = calloc(l->n + 6, sizeof *argv);
    uint64_t ns;

    if (argv == NULL)
        return 0;
    argv[0] = (char *)strata;
    argv[1] = "check";
    argv[2] = "--quiet";
    argv[3] = "--cache-dir";
    argv[4] = (char *)dir;
    memcpy(argv + 5, l->paths, l->n * sizeof *argv);
    ns = run_argv(argv);
    free(argv);
    return ns;
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

static void print_times(const char *name, uint64_t *v, int n)
{
    printf("%-28s median %8.1f ms  (", name, median_ms(v, n));
    for (int i = 0; i < n; i++)
        printf("%s%.1f", i ? " " : "", (double)v[i] / 1e6);
    printf(")\n");
}

int main(int argc, char **argv)
{
    list_t l = {0};
    uint64_t rh[MAX_RUNS], cold[MAX_RUNS], warm[MAX_RUNS], start[MAX_RUNS], bytes = 0;
    char base[] = "/tmp/strata-warm-bench.XXXXXX", dir[64], cmd[128];
    int runs = argc > 2 ? atoi(argv[2]) : 5;

    /* (b) is a cold check: no library scan from the user's shared cache */
    setenv("STRATA_SHARED_CACHE_DIR", "", 1);
    if (argc < 2 || runs < 1 || runs > MAX_RUNS) {
        fprintf(stderr, "usage: bash bench/stdlib_files.sh | warm_bench PATH-TO-STRATA [RUNS]\n");
        return 2;
    }
    if (read_list(&l) != 0 || mkdtemp(base) == NULL) {
        fprintf(stderr, "warm_bench: no file list on stdin, or no temporary directory\n");
        return 2;
    }
    read_and_hash(&l, &bytes); /* warms the page cache */
    for (int i = 0; i < runs; i++) {
        snprintf(dir, sizeof dir, "%s/c%d", base, i);
        if ((cold[i] = run_check(argv[1], dir, &l)) == 0) {
            fprintf(stderr, "warm_bench: %s check failed\n", argv[1]);
            return 2;
        }
    }
    /* (a) and (c) take turns, so that a load that comes and goes on a
       shared machine weighs on both alike */
    for (int i = 0; i < runs; i++) {
        rh[i] = read_and_hash(&l, &bytes);
        if ((warm[i] = run_check(argv[1], dir, &l)) == 0) {
            fprintf(stderr, "warm_bench: %s check failed\n", argv[1]);
            return 2;
        }
    }
    for (int i = 0; i < runs; i++) {
        char *version[] = {argv[1], "version", NULL};
        if ((start[i] = run_argv(version)) == 0) {
            fprintf(stderr, "warm_bench: %s version failed\n", argv[1]);
            return 2;
        }
    }
    printf("corpus: %zu files, %.1f MB; %d runs each; strata with its default --jobs\n", l.n,
           (double)bytes / 1e6, runs);
    print_times("(a) read + SHA-256, 1 thread", rh, runs);
    print_times("(b) cold strata check", cold, runs);
    print_times("(c) warm strata check", warm, runs);
    print_times("(d) strata version", start, runs);
    double a = median_ms(rh, runs), b = median_ms(cold, runs), c = median_ms(warm, runs);
    double d = median_ms(start, runs);
    printf("warm / (read+hash) = %.2f   (target <= 1.5)\n", c / a);
    printf("warm / cold        = %.3f  (target <= 0.05)\n", c / b);
    printf("start-up / warm    = %.2f   (a process that starts and stops: (d) / (c))\n", d / c);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
    if (system(cmd) != 0)
        fprintf(stderr, "warm_bench: could not remove %s\n", base);
    for (size_t i = 0; i < l.n; i++)
        free(l.paths[i]);
    free(l.paths);
    return 0;
}
