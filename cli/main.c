/* main.c - the `strata` command: dispatch to subcommands.
 *
 * One binary plays every role (checker, coordinator, worker, client), so the
 * entry point is a table of subcommands: adding one is adding a row. Each
 * subcommand gets the arguments after its name and returns the process exit
 * status: 0 clean, 1 diagnostics found, 2 usage or internal error.
 *
 * `check` runs in this process: walk the paths, scan the files on a thread
 * pool (run/exec.h) through the cache of scan results, then sort and
 * print the report. The cache only saves time: one that cannot be opened or
 * written is a warning, and the exit status depends on diagnostics alone. */
#include "common/alloc.h"
#include "cli/cachecmd.h"
#include "cli/options.h"
#include "cli/submit.h"
#include "cli/testhooks.h"
#include "coordinator/daemon.h"
#include "coordinator/keys.h"
#include "run/project.h"
#include "coordinator/hostpool.h"
#include "run/report.h"
#include "run/walk.h"
#include "run/exec.h"
#include "worker/wproc.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <string.h>

#include "worker/jobkey.h"

enum { EXIT_CLEAN = 0, EXIT_FOUND = 1, EXIT_USAGE = 2 };

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is the command's name */
    const char *summary;
    const char *(*usage)(void); /* for `strata help NAME`; NULL: none */
} command_t;

static int cmd_check(int argc, char **argv);
static int cmd_version(int argc, char **argv);
static int cmd_help(int argc, char **argv);
static int cmd_cache(int argc, char **argv);
static int cmd_graph(int argc, char **argv);
static int cmd_keygen(int argc, char **argv);
static int cmd_worker(int argc, char **argv);
static int cmd_coordinator(int argc, char **argv);
static int cmd_submit(int argc, char **argv);

static const command_t commands[] = {
    {"check", cmd_check, "check Python files for errors", cli_check_usage},
    {"graph", cmd_graph, "print the import graph: modules, cycles, layers", cli_graph_usage},
    {"cache", cmd_cache, "inspect or maintain the cache (stats, verify, gc, clear)",
     cli_cache_usage},
    {"keygen", cmd_keygen, "write a CurveZMQ key pair for a cluster's authentication",
     cli_keygen_usage},
    {"worker", cmd_worker, "run jobs for a coordinator (strata worker --connect ADDR)",
     cli_worker_usage},
    {"coordinator", cmd_coordinator, "run a cluster's coordinator (strata coordinator --bind ADDR)",
     cli_coordinator_usage},
    {"submit", cmd_submit, "check files on a cluster (strata submit --coordinator ADDR PATH...)",
     cli_submit_usage},
    {"version", cmd_version, "print the version and exit", NULL},
    {"help", cmd_help, "show this help, or a command's (strata help check)", NULL},
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void print_usage(FILE *out)
{
    fprintf(out, "usage: strata COMMAND [ARGS...]\n\n"
                 "A static analyzer for Python.\n\n"
                 "commands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nRun 'strata COMMAND --help' for the options of a command.\n"
                 "exit status: 0 no diagnostic, 1 diagnostics reported, 2 usage or internal "
                 "error\n");
}

static const command_t *find_command(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static int cmd_version(int argc, char **argv)
{
    (void)argv;
    if (argc > 1) {
        fprintf(stderr, "strata version: takes no arguments\n");
        return EXIT_USAGE;
    }
    printf("strata %s (scan result v%d)\n", STRATA_VERSION, SCAN_RESULT_VERSION);
    return EXIT_CLEAN;
}

static int cmd_help(int argc, char **argv)
{
    const command_t *cmd;

    if (argc <= 1) {
        print_usage(stdout);
        return EXIT_CLEAN;
    }
    if ((cmd = find_command(argv[1])) == NULL) {
        fprintf(stderr, "strata help: unknown command '%s'\n", argv[1]);
        return EXIT_USAGE;
    }
    if (cmd->usage == NULL)
        printf("usage: strata %s\n\n%s\n", cmd->name, cmd->summary);
    else
        fputs(cmd->usage(), stdout);
    return EXIT_CLEAN;
}

/* What the exec callbacks get: the project, and its options for the
 * whole-run lookup (NULL: none, as for strata graph, which needs the
 * scans). */
typedef struct {
    project_t *project;
    const project_opts_t *popts;
    hostpool_t *remote;      /* worker processes the scans used, kept for the checks */
    hostpool_stats_t rstats; /* theirs, when remote was started */
    bool used_pool;
    hostpool_cost_t cost;     /* what dispatching costs, as measured so far */
    hostpool_choice_t choice; /* workers or not, and why (when chosen) */
    bool chose;
    double inproc_scan_bytes_per_ms; /* this run's, when it scanned here */
    progress_t *progress;            /* the progress line; NULL: none */
} scan_ctx_t;

/* The exec sink: scan results go to the project, which holds them until
 * the cross-module checks are done. */
static st_rc_t sink_to_project(void *ctx, const exec_done_t *done, st_err_t *err)
{
    scan_ctx_t *sc = ctx;

    progress_add(sc->progress, PROGRESS_SCANNED, 1);
    if (done->cached)
        progress_add(sc->progress, PROGRESS_CACHED, 1);
    return project_add_scan(sc->project, done, err);
}

/* Every file is hashed: the whole run's diagnostics may be known. */
static bool keyed_to_project(void *ctx, const exec_keyed_t *keyed, size_t n)
{
    scan_ctx_t *sc = ctx;
    return sc->popts != NULL && project_keyed(sc->project, sc->popts, keyed, n);
}

/* The cache failed mid-run: once, and the run goes on without it. */
static void on_cache_error(void *ctx, const st_err_t *err)
{
    if (ctx != NULL)
        progress_clear(((scan_ctx_t *)ctx)->progress);
    fprintf(stderr, "strata: warning: cache: %s; going on without caching\n", err->msg);
}

static void on_job_error(void *ctx, const char *path, const st_err_t *err)
{
    project_scan_failed(((scan_ctx_t *)ctx)->project);
    progress_clear(((scan_ctx_t *)ctx)->progress);
    fprintf(stderr, "strata: %s: internal error, file not checked: %s\n", path, err->msg);
}

/* Arguments that do not exist: a message each, then exit 2 at the end. */
static bool report_missing(const walk_list_t *files)
{
    for (size_t i = 0; i < files->n_missing; i++)
        fprintf(stderr, "strata: %s: %s\n", files->missing[i].path,
                strerror(files->missing[i].err));
    return files->n_missing > 0;
}

/* Directories below an argument that could not be listed become E902. */
static st_rc_t add_unreadable(report_t *report, const walk_list_t *files, st_err_t *err)
{
    for (size_t i = 0; i < files->n_unreadable; i++) {
        char message[128];
        scan_diag_t d = {.line = 1, .col = 1, .code = "E902", .message = message};
        st_rc_t rc;

        snprintf(message, sizeof message, "cannot read directory: %s",
                 strerror(files->unreadable[i].err));
        if ((rc = report_add(report, files->unreadable[i].path, &d, 1, err)) != ST_OK)
            return rc;
    }
    return ST_OK;
}

static double elapsed_ms(const struct timespec *since)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - since->tv_sec) * 1e3 +
           (double)(now.tv_nsec - since->tv_nsec) / 1e6;
}

/* Scans files[ids[0..n)) in worker processes when it is worth it and
 * allowed; false when the caller should scan them in this process. */
static bool scan_pool(const cli_check_t *cfg, const exec_file_t *list, const size_t *ids, size_t n,
                      cas_t *cache, scan_ctx_t *sc, exec_stats_t *stats, st_err_t *err, st_rc_t *rc)
{
    hostpool_opts_t ropts = {.workers = cfg->workers,
                             .threads = cfg->jobs,
                             .job_timeout_ms = cfg->job_timeout_s * 1000u,
                             .progress = sc->progress};
    hostpool_t *r = NULL;
    hostpool_stats_t *rs = &sc->rstats;
    scan_opts_t so = {.max_file_bytes = cfg->max_file_bytes};
    uint64_t bytes = 0;
    st_err_t rerr = {0};

    for (size_t i = 0; i < n; i++)
        bytes += list[ids[i]].size;
    if (cfg->no_workers)
        return false;
    /* worker processes when they cost little against the scans (measured,
     * see remote.h), or when asked for by number */
    sc->choice = hostpool_choose(&sc->cost, bytes, n, cfg->jobs);
    sc->chose = true;
    if (!sc->choice.use && cfg->workers == 0)
        return false;
    ropts.cost = &sc->cost;
    if (hostpool_start(&ropts, &r, &rerr) != ST_OK) {
        fprintf(stderr, "strata: warning: %s; scanning in this process\n", rerr.msg);
        return false;
    }
    *rc = hostpool_scan(r, list, ids, n, &so, cache, sink_to_project, sc, rs, err);
    sc->remote = r; /* kept for the check jobs; the caller stops it */
    sc->used_pool = true;
    if (stats != NULL) {
        stats->scanned += rs->scanned + rs->local + rs->early;
        stats->files += n;
    }
    return true;
}

/* Keeps the scan throughput of a thread of this run's in-process scans
 * (for the dispatch cost record), when they lasted long enough to tell. */
static void note_scan_rate(scan_ctx_t *sc, const exec_stats_t *st, double ms)
{
    unsigned threads = st->threads > 0 ? st->threads : 1;

    if (st->scanned > 0 && st->bytes > 0 && ms >= 20.0)
        sc->inproc_scan_bytes_per_ms = (double)st->bytes / (ms * threads);
}

/* Scans every listed file into the project, through cache (may be NULL):
 * hashes and looks up in this process, then scans the misses in worker
 * processes (scan_pool) or here. */
static st_rc_t scan_files(const cli_check_t *cfg, const walk_list_t *files, cas_t *cache,
                          scan_ctx_t *sc, exec_stats_t *stats, st_err_t *err)
{
    size_t n_misses = 0;
    exec_opts_t opts = {
        .jobs = cfg->jobs,
        .max_file_bytes = cfg->max_file_bytes,
        .sink = sink_to_project,
        .sink_ctx = sc,
        .on_job_error = on_job_error,
        .cache = cache,
        .on_cache_error = on_cache_error,
        .keyed = keyed_to_project,
        .n_misses = &n_misses,
    };
    exec_file_t *list = st_calloc(files->n_files == 0 ? 1 : files->n_files, sizeof *list);
    size_t *misses = st_calloc(files->n_files == 0 ? 1 : files->n_files, sizeof *misses);
    exec_stats_t local;
    struct timespec t0;
    st_rc_t rc;

    if (list == NULL || misses == NULL) {
        st_free(list);
        st_free(misses);
        return st_fail(err, ST_ENOMEM, "out of memory");
    }
    if (stats == NULL)
        stats = &local;
    for (size_t i = 0; i < files->n_files; i++)
        list[i] =
            (exec_file_t){.path = files->files[i].path, .size = files->files[i].size, .id = i};
    /* strata graph (no options for the whole run) needs every scan here */
    if (!cfg->no_workers && sc->popts != NULL)
        opts.misses = misses;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = exec_run(&opts, list, files->n_files, stats, err);
    if (opts.misses == NULL && cache == NULL)
        note_scan_rate(sc, stats, elapsed_ms(&t0)); /* scans only: no hashing */
    if (rc == ST_OK && n_misses > 0 &&
        !scan_pool(cfg, list, misses, n_misses, cache, sc, stats, err, &rc)) {
        /* not worth a worker process: scan the misses here */
        exec_stats_t more;
        exec_file_t *sub = st_calloc(n_misses, sizeof *sub);
        opts.misses = NULL;
        opts.keyed = NULL;
        if (sub == NULL) {
            rc = st_fail(err, ST_ENOMEM, "out of memory");
        } else {
            for (size_t k = 0; k < n_misses; k++)
                sub[k] = list[misses[k]];
            clock_gettime(CLOCK_MONOTONIC, &t0);
            rc = exec_run(&opts, sub, n_misses, &more, err);
            note_scan_rate(sc, &more, elapsed_ms(&t0));
            stats->scanned += more.scanned;
            stats->threads = more.threads;
            st_free(sub);
        }
    }
    st_free(misses);
    st_free(list);
    return rc;
}

/* The walk's paths as an array (borrowed from files): the files to check,
 * then the compiled extension modules, which exist for imports but are not
 * checked; NULL when out of memory. */
static const char **file_paths(const walk_list_t *files)
{
    size_t n = files->n_files + files->n_extensions;
    const char **paths = st_calloc(n == 0 ? 1 : n, sizeof *paths);

    for (size_t i = 0; paths != NULL && i < files->n_files; i++)
        paths[i] = files->files[i].path;
    for (size_t i = 0; paths != NULL && i < files->n_extensions; i++)
        paths[files->n_files + i] = files->extensions[i].path;
    return paths;
}

static project_opts_t project_opts(const cli_check_t *cfg, cas_t *cache)
{
    return (project_opts_t){
        .roots = cfg->roots,
        .n_roots = cfg->n_roots,
        .args = cfg->paths,
        .n_args = cfg->n_paths,
        .jobs = cfg->jobs,
        .cache = cache,
        .explain = cfg->explain ? stderr : NULL,
        .shuffle = testhooks_shuffle_seed(),
        .on_cache_error = on_cache_error,
    };
}

/* The cache for this run, or NULL (--no-cache, or it could not be opened:
 * then a warning, and the run goes on without). */
static cas_t *open_cache(const cli_check_t *cfg)
{
    const char *dir = cas_dir_default(cfg->cache_dir);
    cas_opts_t opts;
    cas_t *cache = NULL;
    st_err_t err = {0};

    if (cfg->no_cache)
        return NULL;
    cas_opts_default(&opts);
    opts.durability = cfg->durability;
    opts.dir = cfg->durability == CAS_MEMORY ? NULL : dir;
    if (cas_open(&opts, &cache, &err) != ST_OK) {
        fprintf(stderr, "strata: warning: cache %s: %s; going on without caching\n", dir, err.msg);
        return NULL;
    }
    return cache;
}

/* Merges what this run measured of dispatching and scanning into the
 * record in the cache directory, when there is one (a --no-cache run does
 * not make it; a record that cannot be written only costs the next run
 * its measurement). */
static void keep_measurements(const cli_check_t *cfg, scan_ctx_t *sc)
{
    const char *dir = cas_dir_default(cfg->cache_dir);
    hostpool_cost_t run = {0};

    if (sc->used_pool)
        run = sc->rstats.measured;
    if (sc->inproc_scan_bytes_per_ms > 0)
        run.scan_bytes_per_ms = sc->inproc_scan_bytes_per_ms;
    if (run.start_ms <= 0 && run.rtt_us <= 0 && run.scan_bytes_per_ms <= 0 &&
        run.check_ns_per_byte <= 0)
        return;
    hostpool_cost_merge(&sc->cost, &run);
    (void)hostpool_cost_save(dir, &sc->cost, NULL);
}

/* The --explain lines on worker processes: both sides of the choice, and
 * what the run measured. */
static void explain_dispatch(FILE *out, const scan_ctx_t *sc)
{
    const hostpool_stats_t *rs = &sc->rstats;
    const hostpool_cost_t *m = &rs->measured;

    if (sc->chose && sc->choice.measured)
        fprintf(out,
                "explain: worker processes %s: dispatching costs %.1f ms (start-up and the "
                "last round trip), scanning here %.1f ms (%.0f%% at most: %.0f%%)\n",
                sc->used_pool ? "used" : "not used", sc->choice.dispatch_ms, sc->choice.local_ms,
                HOSTPOOL_COST_SHARE * 100,
                sc->choice.local_ms > 0 ? 100 * sc->choice.dispatch_ms / sc->choice.local_ms : 0);
    else if (sc->chose)
        fprintf(out,
                "explain: worker processes %s: nothing measured yet, used from %llu KiB to "
                "scan\n",
                sc->used_pool ? "used" : "not used",
                (unsigned long long)(HOSTPOOL_DEFAULT_MIN_BYTES >> 10));
    if (!sc->used_pool)
        return;
    fprintf(out,
            "explain: measured: workers ready in %.1f ms, a round trip %.0f us, a thread scans "
            "%.0f KB/ms, a check here %.2f ns/byte; %zu files scanned here while the workers "
            "started; check jobs: %zu here, %zu in workers\n",
            m->start_ms, m->rtt_us, m->scan_bytes_per_ms / 1000.0, m->check_ns_per_byte, rs->early,
            rs->checks_here, rs->checks_sent);
}

/* The --explain line on memory: the peak resident memory of this process
 * and, when worker processes ran (rs), of each of them (from wait4). */
static void explain_memory(FILE *out, const hostpool_stats_t *rs)
{
    struct rusage ru;
    long self_kb = getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : 0;

    fprintf(out, "explain: peak memory: %.1f MiB in this process", (double)self_kb / 1024.0);
    if (rs != NULL && rs->workers > 0) {
        fprintf(out, "; %.1f MiB at most in a worker process (",
                (double)rs->peak_worker_rss_kb / 1024.0);
        for (unsigned k = 0; k < rs->workers && k < HOSTPOOL_MAX_WORKERS; k++)
            fprintf(out, "%s%.1f", k > 0 ? ", " : "", (double)rs->worker_rss_kb[k] / 1024.0);
        fprintf(out, " MiB; %u x %u threads)", rs->workers, rs->threads);
    }
    fputc('\n', out);
}

/* Scans, checks across modules, prints the report and the summary; the
 * exit status. */
static int check_and_report(const cli_check_t *cfg, const walk_list_t *files)
{
    report_t *report = report_new(&cfg->rules);
    const char **paths = file_paths(files);
    project_t *project =
        paths != NULL ? project_new(paths, files->n_files + files->n_extensions) : NULL;
    cas_t *cache = NULL;
    exec_stats_t stats = {0};
    project_stats_t pstats = {0};
    project_opts_t popts;
    st_err_t err = {0};
    size_t n_diags = 0, n_files = 0;
    bool failed = false;

    if (report == NULL || project == NULL) {
        fprintf(stderr, "strata: out of memory\n");
        project_destroy(&project);
        st_free(paths);
        report_destroy(&report);
        return EXIT_USAGE;
    }
    cache = open_cache(cfg);
    popts = project_opts(cfg, cache);
    scan_ctx_t sc = {.project = project, .popts = &popts};
    /* no line with --explain, whose lines go to the same terminal */
    if (progress_wanted(stderr, cfg->quiet || cfg->explain) &&
        (sc.progress = progress_new(stderr, "strata")) != NULL)
        progress_set(sc.progress, PROGRESS_FILES, files->n_files);
    popts.progress = sc.progress;
    popts.ctx = &sc;
    if (hostpool_cost_load(cas_dir_default(cfg->cache_dir), &sc.cost, NULL) != ST_OK)
        sc.cost = (hostpool_cost_t){0}; /* nothing measured yet: the defaults */
    if (add_unreadable(report, files, &err) != ST_OK ||
        scan_files(cfg, files, cache, &sc, &stats, &err) != ST_OK) {
        /* Jobs that failed were named already; other errors stop here. */
        if (err.code != ST_EINTERNAL && err.msg[0] != '\0')
            fprintf(stderr, "strata: %s\n", err.msg);
        failed = true;
    }
    if (project_explain_scans(project, cache, popts.explain, &err) != ST_OK)
        fprintf(stderr,
                "strata: warning: cache: %s; --explain may not say why scans ran next time\n",
                err.msg);
    /* the worker processes that scanned run the check jobs too */
    if (hostpool_usable(sc.remote) && hostpool_serve_begin(sc.remote, &err) == ST_OK) {
        /* as many threads as the workers have, as in-process: most check
         * jobs cost less than a round trip and run in the calling thread
         * (hostpool_run_check); the larger ones go to a worker while their
         * thread waits, so that no more checks run at once either way */
        popts.run_check = hostpool_run_check;
        popts.run_check_ctx = sc.remote;
        popts.jobs = hostpool_threads(sc.remote);
    }
    if (project_check(project, &popts, report, &pstats, &err) != ST_OK) {
        progress_clear(sc.progress);
        fprintf(stderr, "strata: %s\n", err.msg);
        failed = true;
    }
    if (sc.remote != NULL) {
        hostpool_serve_end(sc.remote);
        hostpool_stop(&sc.remote, &sc.rstats);
    }
    progress_destroy(&sc.progress); /* erased before the report */
    keep_measurements(cfg, &sc);
    cas_close(&cache); /* commits what buffered mode holds */
    if (report_write(report, cfg->format, stdout, &n_diags, &n_files, &err) != ST_OK) {
        fprintf(stderr, "strata: %s\n", err.msg);
        failed = true;
    }
    if (!cfg->quiet && cfg->no_cache)
        report_write_summary(stderr, n_diags, n_files, files->n_files);
    else if (!cfg->quiet)
        report_write_summary_cached(stderr, n_diags, n_files, files->n_files, stats.cached);
    if (cfg->explain && pstats.whole)
        fprintf(stderr,
                "explain: %zu scans ran, %zu cached; 0 check jobs ran, 0 cached (every check "
                "result came from the cache in one piece: the project's inputs are unchanged)\n",
                stats.scanned, stats.cached);
    else if (cfg->explain)
        fprintf(stderr,
                "explain: %zu scans ran, %zu cached; %zu check jobs ran, %zu cached (%zu "
                "modules, %zu components, %zu layers)\n",
                stats.scanned, stats.cached, pstats.checked, pstats.cached, pstats.modules,
                pstats.comps, pstats.layers);
    if (cfg->explain) {
        explain_dispatch(stderr, &sc);
        explain_memory(stderr, sc.used_pool ? &sc.rstats : NULL);
    }
    if (pstats.failed > 0)
        failed = true;
    project_destroy(&project);
    st_free(paths);
    report_destroy(&report);
    if (failed)
        return EXIT_USAGE;
    return n_diags > 0 ? EXIT_FOUND : EXIT_CLEAN;
}

/* The shared start of check and graph: parse the options (graph: those of
 * `strata graph`) and walk the paths. False when the command is over
 * (--help printed, or an error reported): *status is its exit status. */
static bool parse_and_walk(int argc, char **argv, bool graph, cli_check_t *cfg, walk_list_t *files,
                           int *status)
{
    const char *name = graph ? "graph" : "check";
    st_err_t err = {0};
    st_rc_t rc = graph ? cli_parse_graph(argc - 1, argv + 1, cfg, &err)
                       : cli_parse_check(argc - 1, argv + 1, cfg, &err);

    if (rc != ST_OK) {
        fprintf(stderr, "strata %s: %s\nTry 'strata %s --help'.\n", name, err.msg, name);
        *status = EXIT_USAGE;
        return false;
    }
    if (cfg->help) {
        fputs(graph ? cli_graph_usage() : cli_check_usage(), stdout);
        cli_check_free(cfg);
        *status = EXIT_CLEAN;
        return false;
    }
    walk_opts_t wopts = {.exclude = cfg->exclude, .n_exclude = cfg->n_exclude};
    if (walk_paths(cfg->paths, cfg->n_paths, &wopts, files, &err) != ST_OK) {
        fprintf(stderr, "strata: %s\n", err.msg);
        cli_check_free(cfg);
        *status = EXIT_USAGE;
        return false;
    }
    return true;
}

static int cmd_check(int argc, char **argv)
{
    cli_check_t cfg;
    walk_list_t files;
    int status;
    bool missing;

    if (!parse_and_walk(argc, argv, false, &cfg, &files, &status))
        return status;
    missing = report_missing(&files);
    status = check_and_report(&cfg, &files);
    walk_list_free(&files);
    cli_check_free(&cfg);
    return missing ? EXIT_USAGE : status;
}

static int cmd_graph(int argc, char **argv)
{
    cli_check_t cfg;
    walk_list_t files;
    st_err_t err = {0};
    int status = EXIT_CLEAN;

    if (!parse_and_walk(argc, argv, true, &cfg, &files, &status))
        return status;
    const char **paths = file_paths(&files);
    project_t *project =
        paths != NULL ? project_new(paths, files.n_files + files.n_extensions) : NULL;
    cas_t *cache = NULL;
    if (project == NULL) {
        fprintf(stderr, "strata: out of memory\n");
        status = EXIT_USAGE;
    } else {
        cache = open_cache(&cfg);
        project_opts_t popts = project_opts(&cfg, cache);
        popts.explain = NULL;
        scan_ctx_t gsc = {.project = project};
        if (scan_files(&cfg, &files, cache, &gsc, NULL, &err) != ST_OK &&
            err.code != ST_EINTERNAL) {
            fprintf(stderr, "strata: %s\n", err.msg);
            status = EXIT_USAGE;
        } else if (project_write_graph(project, &popts,
                                       cfg.format == REPORT_FORMAT_DOT ? PROJECT_GRAPH_DOT
                                                                    : PROJECT_GRAPH_JSON,
                                       stdout, &err) != ST_OK) {
            fprintf(stderr, "strata: %s\n", err.msg);
            status = EXIT_USAGE;
        }
        cas_close(&cache);
    }
    if (report_missing(&files))
        status = EXIT_USAGE;
    project_destroy(&project);
    st_free(paths);
    walk_list_free(&files);
    cli_check_free(&cfg);
    return status;
}

static int cmd_keygen(int argc, char **argv)
{
    cli_keygen_t cfg;
    keys_pair_t kp;
    st_err_t err = {0};

    if (cli_parse_keygen(argc - 1, argv + 1, &cfg, &err) != ST_OK) {
        fprintf(stderr, "strata keygen: %s\nTry 'strata keygen --help'.\n", err.msg);
        return EXIT_USAGE;
    }
    if (cfg.help) {
        fputs(cli_keygen_usage(), stdout);
        return EXIT_CLEAN;
    }
    if (keys_generate(cfg.dir, cfg.name, cfg.force, &kp, &err) != ST_OK) {
        fprintf(stderr, "strata keygen: %s\n", err.msg);
        return EXIT_USAGE;
    }
    printf("wrote %s/%s.key (secret, mode 0600) and %s/%s.pub\npublic key: %s\n", cfg.dir, cfg.name,
           cfg.dir, cfg.name, kp.public_z85);
    return EXIT_CLEAN;
}

static int cmd_cache(int argc, char **argv)
{
    return cachecmd_run(argc - 1, argv + 1, stdout, stderr);
}

/* SIGTERM and SIGINT call fn (which asks the long-running command to
 * stop); a peer gone from a socket is an error code, not SIGPIPE. */
static void on_stop_signals(void (*fn)(int))
{
    struct sigaction sa = {.sa_handler = fn};

    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static void on_stop_signal(int sig)
{
    (void)sig;
    wproc_stop();
}

/* Set when the strata check that started this worker died (its
 * PR_SET_PDEATHSIG signal). */
static volatile sig_atomic_t parent_gone;

static void on_parent_death(int sig)
{
    (void)sig;
    parent_gone = 1;
    wproc_stop();
}

/* True when the strata check that started this worker is gone. The death
 * signal comes when its thread that spawned this one ends, while its other
 * threads may still be ending: it is gone once this process has another
 * parent, which is waited for a little. */
/* True while process pid runs (not a zombie): from /proc/PID/stat's state. */
static bool process_running(long pid)
{
    char path[64], text[512];
    const char *close_paren;
    FILE *f;
    size_t n;

    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    if ((f = fopen(path, "r")) == NULL)
        return false;
    n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    /* "PID (COMM) STATE ...": COMM may hold parentheses, so the last ')' */
    if ((close_paren = strrchr(text, ')')) == NULL || close_paren[1] != ' ')
        return false;
    return close_paren[2] != 'Z' && close_paren[2] != 'X' && close_paren[2] != '\0';
}

static bool parent_is_gone(long parent_pid)
{
    if (!parent_gone && (long)getppid() == parent_pid)
        return false;
    /* The signal also comes when the spawning thread alone ends (a worker
     * restarted by a thread that has finished since): the parent runs on.
     * A dying parent is reparented away within milliseconds; one still
     * running after 20 ms of looking is alive. */
    for (int i = 0, running = 0; i < 1000 && (long)getppid() == parent_pid; i++) {
        running = process_running(parent_pid) ? running + 1 : 0;
        if (running >= 20)
            return false;
        usleep(1000);
    }
    return (long)getppid() != parent_pid;
}

/* `strata worker`: until SIGTERM/SIGINT (exit 0) or refused (exit 2). */
static int cmd_worker(int argc, char **argv)
{
    cli_worker_t cfg;
    st_err_t err = {0};
    wproc_opts_t opts;

    if (cli_parse_worker(argc - 1, argv + 1, &cfg, &err) != ST_OK) {
        fprintf(stderr, "strata worker: %s\nTry 'strata worker --help'.\n", err.msg);
        return EXIT_USAGE;
    }
    if (cfg.help) {
        fputs(cli_worker_usage(), stdout);
        return EXIT_CLEAN;
    }
    on_stop_signals(on_stop_signal);
    /* A worker that strata check started on this host ends with it, even
     * when check is killed (SIGHUP on the parent's death; and if the
     * parent is already gone, now), and then removes its socket directory. */
    const char *parent = getenv("STRATA_WORKER_PARENT");
    long parent_pid = parent != NULL ? strtol(parent, NULL, 10) : 0;
    if (parent != NULL) {
        struct sigaction hup = {.sa_handler = on_parent_death};
        sigemptyset(&hup.sa_mask);
        sigaction(SIGHUP, &hup, NULL);
        prctl(PR_SET_PDEATHSIG, SIGHUP);
        if ((long)getppid() != parent_pid) {
            hostpool_orphan_cleanup(cfg.connect);
            return EXIT_CLEAN;
        }
    }
    keys_pair_t server = {{0}, {0}}, mine = {{0}, {0}};
    if (cfg.server_key != NULL && (keys_load(cfg.server_key, &server, &err) != ST_OK ||
                                   keys_load(cfg.key, &mine, &err) != ST_OK)) {
        fprintf(stderr, "strata worker: %s\n", err.msg);
        return EXIT_USAGE;
    }
    if (cfg.key != NULL && mine.secret_z85[0] == '\0') {
        fprintf(stderr, "strata worker: %s: a .pub file: --key needs the .key (secret) file\n",
                cfg.key);
        return EXIT_USAGE;
    }
    opts = (wproc_opts_t){.connect = cfg.connect,
                          .threads = cfg.threads,
                          .crash_on = testhooks_crash_on(),
                          .hang_on = testhooks_hang_on(),
                          .no_cache = cfg.no_cache,
                          .cache_dir = cfg.cache_dir,
                          .cache_mem = cfg.cache_mem,
                          .job_limit_ms = cfg.job_limit_s * 1000u,
                          .cpuset = cfg.cpuset,
                          .numa_only = cfg.numa_only,
                          .numa_node = cfg.numa_node,
                          .server_key = cfg.server_key != NULL ? server.public_z85 : NULL,
                          .public_key = cfg.key != NULL ? mine.public_z85 : NULL,
                          .secret_key = cfg.key != NULL ? mine.secret_z85 : NULL};
    st_rc_t rc = parent_gone ? ST_OK : wproc_run(&opts, &err);
    /* the check that started this worker is gone: nobody else removes its
     * socket directory */
    if (parent != NULL && parent_is_gone(parent_pid))
        hostpool_orphan_cleanup(cfg.connect);
    if (rc != ST_OK) {
        fprintf(stderr, "strata worker: %s\n", err.msg);
        return EXIT_USAGE;
    }
    return EXIT_CLEAN;
}

static void on_coordinator_signal(int sig)
{
    (void)sig;
    daemon_stop();
}

/* `strata coordinator`: until SIGTERM/SIGINT (exit 0), or exit 2 when it
 * cannot start. */
static int cmd_coordinator(int argc, char **argv)
{
    cli_coordinator_t cfg;
    daemon_opts_t opts;
    st_err_t err = {0};

    if (cli_parse_coordinator(argc - 1, argv + 1, &cfg, &err) != ST_OK) {
        fprintf(stderr, "strata coordinator: %s\nTry 'strata coordinator --help'.\n", err.msg);
        return EXIT_USAGE;
    }
    if (cfg.help) {
        fputs(cli_coordinator_usage(), stdout);
        return EXIT_CLEAN;
    }
    on_stop_signals(on_coordinator_signal);
    opts = (daemon_opts_t){.bind = cfg.bind,
                           .workers_bind = cfg.workers_bind,
                           .cache_dir = cfg.cache_dir,
                           .keys_dir = cfg.keys_dir,
                           .allow_dir = cfg.allow_dir,
                           .insecure = cfg.insecure,
                           .jobs = cfg.jobs,
                           .job_timeout_ms = cfg.job_timeout_s * 1000u,
                           .client_batches = cfg.client_batches,
                           .client_bytes = cfg.client_bytes,
                           .client_files = cfg.client_files};
    if (daemon_run(&opts, &err) != ST_OK) {
        fprintf(stderr, "strata coordinator: %s\n", err.msg);
        return EXIT_USAGE;
    }
    return EXIT_CLEAN;
}

static int cmd_submit(int argc, char **argv)
{
    cli_submit_t cfg;
    st_err_t err = {0};
    int status;

    if (cli_parse_submit(argc - 1, argv + 1, &cfg, &err) != ST_OK) {
        fprintf(stderr, "strata submit: %s\nTry 'strata submit --help'.\n", err.msg);
        return EXIT_USAGE;
    }
    if (cfg.help) {
        fputs(cli_submit_usage(), stdout);
        return EXIT_CLEAN;
    }
    signal(SIGPIPE, SIG_IGN);
    status = client_submit(&cfg, stdout, stderr);
    cli_submit_free(&cfg);
    return status;
}

int main(int argc, char **argv)
{
    const command_t *cmd;

    if (argc < 2) {
        print_usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
        return cmd_help(1, argv + 1);
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)
        return cmd_version(1, argv + 1);
    if ((cmd = find_command(argv[1])) == NULL) {
        fprintf(stderr, "strata: unknown command '%s'\nRun 'strata help' for the commands.\n",
                argv[1]);
        return EXIT_USAGE;
    }
    return cmd->run(argc - 1, argv + 1);
}
