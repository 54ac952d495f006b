/* main.c - the `strata` command: dispatch to subcommands.
 *
 * One binary plays every role (checker, coordinator, worker, client), so the
 * entry point is a table of subcommands: adding one is adding a row. Each
 * subcommand gets the arguments after its name and returns the process exit
 * status: 0 clean, 1 diagnostics found, 2 usage or internal error.
 *
 * `check` and `graph` walk the paths, then hand the files to a run
 * (run/run.h: the pipeline's stages, with this host's worker processes as
 * its back end when they pay), and print what it gives back. The cache only
 * saves time: one that cannot be opened or written is a warning, and the
 * exit status depends on diagnostics alone. */
#include "common/alloc.h"
#include "cli/cachecmd.h"
#include "cli/config.h"
#include "cli/envcmd.h"
#include "cli/files.h"
#include "cli/health.h"
#include "cli/lsp.h"
#include "cli/options.h"
#include "cli/prep.h"
#include "cli/submit.h"
#include "cli/testhooks.h"
#include "coordinator/daemon.h"
#include "coordinator/keys.h"
#include "coordinator/hostpool.h"
#include "coordinator/metricsd.h"
#include "common/file.h"
#include "run/e902.h"
#include "run/env.h"
#include "run/remote.h"
#include "run/libfind.h"
#include "cli/heap.h"
#include "run/run.h"
#include "run/walk.h"
#include "run/whole_hint.h"
#include "worker/wproc.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
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
static int cmd_config(int argc, char **argv);
static int cmd_env(int argc, char **argv);
static int cmd_health(int argc, char **argv);
static int cmd_lsp(int argc, char **argv);

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
    {"config", cmd_config, "print the settings governing a path and where each came from",
     config_usage},
    {"env", cmd_env, "print the Python environment a check uses: target, interpreter, stubs",
     envcmd_usage},
    {"lsp", cmd_lsp, "run a language server for editors (LSP over stdin and stdout)", lsp_usage},
    {"health", cmd_health, "ask a daemon's /healthz, for a container's health check", health_usage},
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

/* What the run's callbacks get: the options, and the progress line to
 * clear before a message. */
typedef struct {
    const cli_check_t *cfg;
    progress_t *progress; /* NULL: none */
} cli_run_t;

/* The cache failed mid-run: once, and the run goes on without it. */
static void on_cache_error(void *ctx, const st_err_t *err)
{
    if (ctx != NULL)
        progress_clear(((cli_run_t *)ctx)->progress);
    fprintf(stderr, "strata: warning: cache: %s; going on without caching\n", err->msg);
}

static void on_job_error(void *ctx, const char *path, const st_err_t *err)
{
    progress_clear(((cli_run_t *)ctx)->progress);
    fprintf(stderr, "strata: %s: internal error, file not checked: %s\n", path, err->msg);
}

/* The worker processes of this host, when the run's policy asks for them. */
static st_rc_t make_workers(void *ctx, const policy_cost_t *cost, backend_t *out, st_err_t *err)
{
    const cli_run_t *cr = ctx;
    hostpool_opts_t o = {.workers = cr->cfg->workers,
                         .threads = cr->cfg->jobs,
                         .job_timeout_ms = cr->cfg->job_timeout_s * 1000u,
                         .progress = cr->progress,
                         .cost = cost};

    return hostpool_backend_new(&o, out, err);
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
        char message[E902_MESSAGE_MAX];
        scan_diag_t d = e902_diag(e902_textf(message, sizeof message, E902_DIRECTORY,
                                             strerror(files->unreadable[i].err)));
        st_rc_t rc;

        if ((rc = report_add(report, files->unreadable[i].path, &d, 1, err)) != ST_OK)
            return rc;
    }
    return ST_OK;
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

/* The files to check, as the run takes them (the context and standard
 * input said); NULL when out of memory. */
static run_file_t *run_files(const cli_files_t *cf)
{
    const walk_list_t *files = &cf->list;
    run_file_t *rf = st_calloc(files->n_files == 0 ? 1 : files->n_files, sizeof *rf);

    for (size_t i = 0; rf != NULL && i < files->n_files; i++) {
        rf[i] = (run_file_t){.path = files->files[i].path,
                             .size = files->files[i].size,
                             .kind = scan_kind_of_path(files->files[i].path),
                             .context = files->files[i].context,
                             .stamp = files->files[i].stamp};
        if (cf->has_stdin && files->files[i].path == cf->stdin_path) {
            rf[i].content = cf->stdin_data;
            rf[i].content_len = cf->stdin_len;
        }
    }
    return rf;
}

static run_opts_t run_opts(const cli_check_t *cfg, const cli_files_t *cf, const run_file_t *rf,
                           const char **paths, cas_t *cache, cli_run_t *cr)
{
    const walk_list_t *files = &cf->list;

    return (run_opts_t){
        .files = rf,
        .n_files = files->n_files,
        .paths = paths,
        .n_paths = files->n_files + files->n_extensions,
        .max_file_bytes = cfg->max_file_bytes,
        .jobs = cfg->jobs,
        .cache = cache,
        .roots = cfg->roots,
        .n_roots = cfg->n_roots,
        .args = cf->args,
        .n_args = cf->n_args,
        .shuffle = testhooks_shuffle_seed(),
        .progress = cr->progress,
        .log = stderr,
        .on_cache_error = on_cache_error,
        .on_job_error = on_job_error,
        .ctx = cr,
        .no_workers = cfg->no_workers,
        .workers = cfg->workers,
    };
}

/* The --explain lines on worker processes: both sides of the choice, and
 * what the run measured. */
static void explain_dispatch(FILE *out, const run_stats_t *st)
{
    const backend_stats_t *bs = &st->backend;
    const policy_cost_t *m = &bs->measured;

    if (st->chose && st->choice.measured)
        fprintf(out,
                "explain: worker processes %s: dispatching costs %.1f ms (start-up and the "
                "last round trip), scanning here %.1f ms (%.0f%% at most: %.0f%%)\n",
                st->used_workers ? "used" : "not used", st->choice.dispatch_ms, st->choice.local_ms,
                POLICY_COST_SHARE * 100,
                st->choice.local_ms > 0 ? 100 * st->choice.dispatch_ms / st->choice.local_ms : 0);
    else if (st->chose)
        fprintf(out,
                "explain: worker processes %s: nothing measured yet, used from %llu KiB to "
                "scan\n",
                st->used_workers ? "used" : "not used",
                (unsigned long long)(POLICY_DEFAULT_MIN_BYTES >> 10));
    if (!st->used_workers)
        return;
    fprintf(out,
            "explain: measured: workers ready in %.1f ms, a round trip %.0f us, a thread scans "
            "%.0f KB/ms, a check here %.2f ns/byte; %zu files scanned here while the workers "
            "started; check jobs: %zu here, %zu in workers\n",
            m->start_ms, m->rtt_us, m->scan_bytes_per_ms / 1000.0, m->check_ns_per_byte, st->early,
            bs->checks_here, bs->checks_sent);
}

/* The --explain line on memory: the peak resident memory of this process
 * and, when worker processes ran (bs), of each of them (from wait4). */
static void explain_memory(FILE *out, const backend_stats_t *bs)
{
    struct rusage ru;
    long self_kb = getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : 0;

    fprintf(out, "explain: peak memory: %.1f MiB in this process", (double)self_kb / 1024.0);
    if (bs != NULL && bs->processes > 0) {
        fprintf(out, "; %.1f MiB at most in a worker process (",
                (double)bs->peak_worker_rss_kb / 1024.0);
        for (unsigned k = 0; k < bs->processes && k < BACKEND_MAX_PROCESSES; k++)
            fprintf(out, "%s%.1f", k > 0 ? ", " : "", (double)bs->worker_rss_kb[k] / 1024.0);
        fprintf(out, " MiB; %u x %u threads)", bs->processes, bs->threads);
    }
    fputc('\n', out);
}

/* The summary on stderr, and the --explain lines. */
static void print_summary(const cli_check_t *cfg, const run_stats_t *st, size_t n_diags,
                          size_t n_files, size_t n_listed)
{
    const project_stats_t *ps = &st->project;

    if (!cfg->quiet && cfg->no_cache)
        report_write_summary(stderr, n_diags, n_files, n_listed);
    else if (!cfg->quiet)
        report_write_summary_cached(stderr, n_diags, n_files, n_listed,
                                    st->cached - st->context_cached);
    if (!cfg->explain)
        return;
    if (ps->whole)
        fprintf(stderr,
                "explain: %zu scans ran, %zu cached; 0 check jobs ran, 0 cached (every check "
                "result came from the cache in one piece: the project's inputs are unchanged%s)\n",
                st->scanned, st->cached,
                ps->ahead ? "; read ahead while the files were walked" : "");
    else
        fprintf(stderr,
                "explain: %zu scans ran, %zu cached; %zu check jobs ran, %zu cached (%zu "
                "modules, %zu components, %zu layers)\n",
                st->scanned, st->cached, ps->checked, ps->cached, ps->modules, ps->comps,
                ps->layers);
    if (st->shared_hits > 0)
        fprintf(stderr,
                "explain: %zu library files' scans came from the shared cache (another project "
                "read them first)\n",
                st->shared_hits);
    if (st->indexed)
        fprintf(stderr,
                "explain: %zu files unchanged since they were hashed (same size, times and inode), "
                "%zu read and hashed\n",
                st->unchanged, st->hashed);
    explain_dispatch(stderr, st);
    explain_memory(stderr, st->used_workers ? &st->backend : NULL);
}

/* Scans, checks across modules: the run's stages, then the report. False
 * when something failed (said already). */
static bool run_all(run_t *run, const walk_list_t *files, cas_t *cache, FILE *explain,
                    cli_run_t *cr, report_t *report)
{
    st_err_t err = {0};
    bool ok = true;

    if (add_unreadable(report, files, &err) != ST_OK || run_scans(run, &err) != ST_OK) {
        /* Jobs that failed were named already; other errors stop here. */
        if (err.code != ST_EINTERNAL && err.msg[0] != '\0')
            fprintf(stderr, "strata: %s\n", err.msg);
        ok = false;
    }
    if (project_explain_scans(run_project(run), cache, explain, &err) != ST_OK)
        fprintf(stderr,
                "strata: warning: cache: %s; --explain may not say why scans ran next time\n",
                err.msg);
    if (run_check(run, report, &err) != ST_OK) {
        progress_clear(cr->progress);
        fprintf(stderr, "strata: %s\n", err.msg);
        ok = false;
    }
    run_finish(run);
    return ok;
}

/* Makes the whole-run key of run the hint of this invocation (for the
 * next run to read ahead, cli/prep.h) when it is not already; a hint that
 * cannot be written only costs the next run its read ahead. */
static void save_hint(const prep_t *prep, const char *dir, run_t *run)
{
    st_err_t ignored = {0};
    digest_t key;

    if (dir != NULL && prep->hint_id_ok && project_whole_key(run_project(run), &key) &&
        (!prep->hinted || !digest_eq(&key, &prep->hint_key)))
        (void)whole_hint_save(dir, &prep->hint_id, &key, &ignored);
}

/* Whether the host that begins s ("host[:port]/...") is this one. */
static bool loopback_url(const char *s)
{
    static const char *const hosts[] = {"localhost", "127.", "[::1]"};

    for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
        size_t n = strlen(hosts[i]);
        if (strncmp(s, hosts[i], n) == 0 &&
            (hosts[i][n - 1] == '.' || s[n] == '\0' || s[n] == ':' || s[n] == '/'))
            return true;
    }
    return false;
}

/* The team cache of cfg (run/remote.h), or none: *out NULL when no URL is
 * configured or the run has no cache. False when the credential cannot be
 * read (said). The credential comes from --remote-cache-auth-file (its
 * first line) or STRATA_REMOTE_CACHE_AUTH, and is never printed. */
static bool open_remote(const cli_check_t *cfg, rcache_t **out)
{
    rcache_opts_t o = {.url = cfg->remote_cache,
                       .ca_file = cfg->remote_ca,
                       .upload = cfg->remote_cache_upload,
                       .budget_ms = cfg->remote_timeout_ms,
                       .log = stderr};
    char *auth = NULL;
    st_err_t err = {0};
    st_rc_t rc;

    *out = NULL;
    if (cfg->remote_cache == NULL || cfg->no_cache)
        return true;
    if (cfg->remote_auth_file != NULL) {
        /* a Kubernetes secret is a symbolic link: followed */
        FILE *f = fopen(cfg->remote_auth_file, "r");
        if ((auth = st_calloc(1, 8192)) == NULL || f == NULL || fgets(auth, 8192, f) == NULL) {
            fprintf(stderr, "strata: remote cache credential %s: %s\n", cfg->remote_auth_file,
                    f == NULL ? strerror(errno) : "empty or unreadable");
            if (f != NULL)
                fclose(f);
            st_free(auth);
            return false;
        }
        fclose(f);
        auth[strcspn(auth, "\r\n")] = '\0';
        if (auth[0] == '\0') {
            fprintf(stderr, "strata: remote cache credential %s: empty\n", cfg->remote_auth_file);
            st_free(auth);
            return false;
        }
        o.auth = auth;
    } else if (getenv("STRATA_REMOTE_CACHE_AUTH") != NULL &&
               getenv("STRATA_REMOTE_CACHE_AUTH")[0] != '\0')
        o.auth = getenv("STRATA_REMOTE_CACHE_AUTH");
    if (o.auth != NULL && strncmp(cfg->remote_cache, "http://", 7) == 0 &&
        !loopback_url(cfg->remote_cache + 7))
        fprintf(stderr,
                "strata: warning: remote cache %s: the credential goes over plain http; use "
                "https\n",
                cfg->remote_cache);
    if (cfg->remote_ca != NULL && access(cfg->remote_ca, R_OK) != 0) {
        fprintf(stderr, "strata: --remote-cache-ca %s: %s\n", cfg->remote_ca, strerror(errno));
        st_free(auth);
        return false;
    }
    rc = rcache_open(&o, out, &err);
    if (auth != NULL)
        memset(auth, 0, strlen(auth));
    st_free(auth);
    if (rc != ST_OK) {
        fprintf(stderr, "strata: %s\n", err.msg);
        return false;
    }
    return true;
}

/* The environment's text for the team cache's key of the whole run. */
static char *shared_env_text(const void *env)
{
    return env_key_text_shared(env);
}

/* The --explain line on the team cache. */
static void explain_remote(rcache_t *remote, const run_stats_t *st)
{
    rcache_stats_t rs;

    rcache_stats(remote, &rs);
    fprintf(stderr,
            "explain: remote cache: %llu hits, %llu misses, %llu errors (%zu scans, %zu check "
            "jobs%s from it); %llu uploaded, %llu over the size cap, %llu not sent; %.1f KiB "
            "down, %.1f KiB up; waited %llu ms%s\n",
            (unsigned long long)rs.hits, (unsigned long long)rs.misses,
            (unsigned long long)rs.errors, st->remote_hits, st->project.remote,
            st->project.whole_remote ? " and the whole run" : "", (unsigned long long)rs.uploaded,
            (unsigned long long)rs.skipped, (unsigned long long)rs.dropped,
            (double)rs.bytes_down / 1024.0, (double)rs.bytes_up / 1024.0,
            (unsigned long long)rs.wait_ms, rs.open ? "; given up on for this run" : "");
}

/* Scans, checks across modules, prints the report and the summary; the
 * exit status. */
static int check_and_report(const cli_check_t *cfg, const cli_files_t *cf, config_set_t *conf,
                            prep_t *prep)
{
    const walk_list_t *files = &cf->list;
    report_t *report = report_new(&cfg->rules);
    const char **paths = file_paths(files);
    run_file_t *rf = run_files(cf);
    cli_run_t cr = {.cfg = cfg};
    run_t *run = NULL;
    run_stats_t st;
    st_err_t err = {0};
    size_t n_diags = 0, n_files = 0;
    bool failed = false, env_ok;
    report_output_t out = cli_report_output(cfg);
    lib_finder_t finder;
    rcache_t *remote = NULL;

    if (report != NULL && config_any(conf))
        report_set_filter(report, config_enabled, conf);
    env_ok = prep_finish(prep, stderr); /* the cache, the environment */
    cas_t *cache = prep->cache;
    const env_t *env = &prep->env;
    /* no line with --explain, whose lines go to the same terminal */
    if (progress_wanted(stderr, cfg->quiet || cfg->explain) &&
        (cr.progress = progress_new(stderr, "strata")) != NULL)
        progress_set(cr.progress, PROGRESS_FILES, files->n_files);
    run_opts_t o = run_opts(cfg, cf, rf, paths, cache, &cr);
    o.explain = cfg->explain ? stderr : NULL;
    o.whole = true;
    o.make_workers = make_workers;
    o.make_ctx = &cr;
    o.cost_dir = cas_dir_default(cfg->cache_dir);
    o.index_dir = cas_has_disk(cache) ? o.cost_dir : NULL; /* none beside a memory cache */
    o.stamped_since_ns = cf->stamped_since_ns;
    o.shared_dir = prep_shared_dir(cfg);
    o.ahead = prep->ahead.value.ptr != NULL ? &prep->ahead : NULL;
    if (!env_ok || !open_remote(cfg, &remote)) {
        failed = true;
        goto out;
    }
    o.remote = cache != NULL ? remote : NULL;
    finder = libfind_finder(prep->lf);
    o.finder = prep->lf != NULL ? &finder : NULL;
    o.env_found = env->found;
    o.python = env->python;
    o.env_key = prep->env_key;
    if (o.remote != NULL) { /* made when the local lookup of the whole run misses */
        o.env_key_remote_make = shared_env_text;
        o.env_key_remote_ctx = env;
    }
    if (env->major != 0) {
        o.target = (scan_target_t){.major = (uint8_t)env->major, .minor = (uint8_t)env->minor};
        snprintf(o.target.platform, sizeof o.target.platform, "%s", env->platform);
    }
    if (report == NULL || paths == NULL || rf == NULL || (run = run_new(&o, &err)) == NULL) {
        fprintf(stderr, "strata: out of memory\n");
        failed = true;
        goto out;
    }
    failed = !run_all(run, files, cache, o.explain, &cr, report);
    save_hint(prep, o.index_dir, run);
    progress_destroy(&cr.progress); /* erased before the report */
    cas_close(&prep->cache);        /* commits what buffered mode holds */
    if (report_output(report, &out, stdout, &n_diags, &n_files, &err) != ST_OK) {
        fprintf(stderr, "strata: %s\n", err.msg);
        failed = true;
    }
    rcache_finish(remote); /* the uploads, within the time budget */
    if (o.remote != NULL && o.index_dir != NULL) {
        rcache_stats_t rs;
        rcache_stats(remote, &rs);
        rcache_tally_add(o.index_dir, rcache_url(remote), &rs);
    }
    run_stats(run, &st);
    print_summary(cfg, &st, n_diags, n_files, cf->n_named);
    if (cfg->explain && o.remote != NULL)
        explain_remote(remote, &st);
    if (st.project.failed > 0)
        failed = true;
out:
    progress_destroy(&cr.progress);
    run_destroy(&run); /* before the caches and the finder it borrows */
    rcache_close(&remote);
    prep_free(prep);
    st_free(rf);
    st_free(paths);
    report_destroy(&report);
    if (failed)
        return EXIT_USAGE;
    return n_diags > 0 && !cfg->exit_zero ? EXIT_FOUND : EXIT_CLEAN;
}

/* The configuration of the run: the per-run settings into cfg. False
 * when it is bad (said); *set is freed then. */
static bool read_config(cli_check_t *cfg, config_set_t **set)
{
    st_err_t err = {0};

    if (config_set_new(cfg, set, &err) == ST_OK && config_apply_run(*set, cfg, &err) == ST_OK &&
        config_error(*set, &err) == ST_OK)
        return true;
    fprintf(stderr, "strata: %s\n", err.msg);
    config_set_destroy(set);
    return false;
}

/* Each walked file's configuration found, so that a bad one stops the run
 * before it starts: false when one is bad (said), *set freed then, after
 * prep (NULL: none), which borrows cfg's strings from the set, stopped. */
static bool read_config_files(const walk_list_t *files, config_set_t **set, prep_t *prep)
{
    st_err_t err = {0};

    for (size_t i = 0; i < files->n_files; i++)
        if (config_lookup(*set, files->files[i].path, false, &err) != ST_OK)
            goto fail;
    if (config_error(*set, &err) == ST_OK)
        return true;
fail:
    if (prep != NULL)
        prep_free(prep);
    fprintf(stderr, "strata: %s\n", err.msg);
    config_set_destroy(set);
    return false;
}

/* The shared start of check and graph: parse the options (graph: those of
 * `strata graph`), read the configuration and gather the files (the named
 * ones and, for a check, the project around them). prep (a check's; NULL
 * for graph) starts opening the cache and the environment once the
 * configuration is read, while the files are walked. False when the
 * command is over (--help printed, or an error reported): *status is its
 * exit status, prep freed. */
static bool parse_and_walk(int argc, char **argv, bool graph, cli_check_t *cfg, cli_files_t *files,
                           config_set_t **conf, prep_t *prep, int *status)
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
    *conf = NULL;
    if (!read_config(cfg, conf)) {
        cli_check_free(cfg);
        *status = EXIT_USAGE;
        return false;
    }
    if (prep != NULL && !cfg->show_files)
        prep_start(prep, cfg);
    /* a check reads the project around the files it reports */
    if ((rc = cli_files_gather(cfg, *conf, !graph && !cfg->show_files, files, &err)) != ST_OK) {
        if (rc == ST_EINVAL)
            fprintf(stderr, "strata %s: %s\nTry 'strata %s --help'.\n", name, err.msg, name);
        else
            fprintf(stderr, "strata: %s\n", err.msg);
        if (prep != NULL)
            prep_free(prep);
        config_set_destroy(conf);
        cli_check_free(cfg);
        *status = EXIT_USAGE;
        return false;
    }
    if (!read_config_files(&files->list, conf, prep)) {
        cli_files_free(files);
        cli_check_free(cfg);
        *status = EXIT_USAGE;
        return false;
    }
    return true;
}

static int cmd_check(int argc, char **argv)
{
    cli_check_t cfg;
    cli_files_t files;
    config_set_t *conf;
    prep_t prep = {0};
    int status;
    bool missing;

    if (!parse_and_walk(argc, argv, false, &cfg, &files, &conf, &prep, &status))
        return status;
    missing = report_missing(&files.list);
    if (cfg.show_files) {
        cli_files_show(&files, stdout);
        status = EXIT_CLEAN;
    } else {
        status = check_and_report(&cfg, &files, conf, &prep);
    }
    prep_free(&prep);
    cli_files_free(&files);
    config_set_destroy(&conf);
    cli_check_free(&cfg);
    return missing ? EXIT_USAGE : status;
}

/* strata graph: the scans (in this process), then the graph stage alone. */
static int graph_status(const cli_check_t *cfg, const cli_files_t *cf)
{
    const walk_list_t *files = &cf->list;
    const char **paths = file_paths(files);
    run_file_t *rf = run_files(cf);
    cli_run_t cr = {.cfg = cfg};
    cas_t *cache = paths != NULL && rf != NULL ? prep_open_cache(cfg, stderr) : NULL;
    run_opts_t o = run_opts(cfg, cf, rf, paths, cache, &cr);
    run_t *run = NULL;
    st_err_t err = {0};
    int status = EXIT_CLEAN;

    if (paths == NULL || rf == NULL || (run = run_new(&o, &err)) == NULL) {
        fprintf(stderr, "strata: out of memory\n");
        status = EXIT_USAGE;
    } else if (run_scans(run, &err) != ST_OK && err.code != ST_EINTERNAL) {
        fprintf(stderr, "strata: %s\n", err.msg);
        status = EXIT_USAGE;
    } else if (run_write_graph(
                   run, cfg->format == REPORT_FORMAT_DOT ? PROJECT_GRAPH_DOT : PROJECT_GRAPH_JSON,
                   stdout, &err) != ST_OK) {
        fprintf(stderr, "strata: %s\n", err.msg);
        status = EXIT_USAGE;
    }
    run_destroy(&run);
    cas_close(&cache);
    st_free(rf);
    st_free(paths);
    return status;
}

static int cmd_graph(int argc, char **argv)
{
    cli_check_t cfg;
    cli_files_t files;
    config_set_t *conf;
    int status = EXIT_CLEAN;

    if (!parse_and_walk(argc, argv, true, &cfg, &files, &conf, NULL, &status))
        return status;
    status = graph_status(&cfg, &files);
    if (report_missing(&files.list))
        status = EXIT_USAGE;
    cli_files_free(&files);
    config_set_destroy(&conf);
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

/* The worker's metrics endpoint: its view of the running worker. */
static bool worker_metrics(void *ctx, buf_t *out)
{
    (void)ctx;
    return wproc_metrics(out) == ST_OK;
}

static bool worker_alive(void *ctx)
{
    (void)ctx;
    return wproc_alive(METRICSD_STALE_MS);
}

static bool worker_ready(void *ctx)
{
    (void)ctx;
    return wproc_ready();
}

/* Starts the worker's metrics endpoint when asked (*m stays NULL
 * otherwise); false, said on stderr, when it cannot. */
static bool worker_metrics_start(const char *bind, metricsd_t **m)
{
    st_err_t err = {0};

    if (bind == NULL)
        return true;
    *m = metricsd_start(
        &(metricsd_opts_t){
            .bind = bind, .render = worker_metrics, .alive = worker_alive, .ready = worker_ready},
        &err);
    if (*m == NULL) {
        fprintf(stderr, "strata worker: %s\n", err.msg);
        return false;
    }
    fprintf(stderr, "strata worker: metrics on %s/metrics\n", metricsd_url(*m));
    return true;
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
    metricsd_t *metrics = NULL;
    if (!worker_metrics_start(cfg.metrics_bind, &metrics))
        return EXIT_USAGE;
    st_rc_t rc = parent_gone ? ST_OK : wproc_run(&opts, &err);
    metricsd_stop(&metrics);
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
                           .client_files = cfg.client_files,
                           .metrics_bind = cfg.metrics_bind};
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
    config_set_t *conf = NULL;
    if (!read_config(&cfg.check, &conf)) {
        cli_submit_free(&cfg);
        return EXIT_USAGE;
    }
    signal(SIGPIPE, SIG_IGN);
    status = client_submit(&cfg, conf, stdout, stderr);
    config_set_destroy(&conf);
    cli_submit_free(&cfg);
    return status;
}

/* strata config [OPTIONS] [PATH]: the settings governing PATH. */
static int cmd_config(int argc, char **argv)
{
    cli_check_t cfg;
    config_set_t *conf = NULL;
    st_err_t err = {0};

    if (cli_parse_check(argc - 1, argv + 1, &cfg, &err) != ST_OK) {
        fprintf(stderr, "strata config: %s\nTry 'strata config --help'.\n", err.msg);
        return EXIT_USAGE;
    }
    if (cfg.help || cfg.n_paths > 1) {
        int status = cfg.help ? EXIT_CLEAN : EXIT_USAGE;

        if (cfg.help)
            fputs(config_usage(), stdout);
        else
            fprintf(stderr, "strata config: one PATH at most\nTry 'strata config --help'.\n");
        cli_check_free(&cfg);
        return status;
    }
    if (config_set_new(&cfg, &conf, &err) != ST_OK ||
        config_show(conf, cfg.paths[0], stdout, &err) != ST_OK) {
        fprintf(stderr, "strata: %s\n", err.msg);
        config_set_destroy(&conf);
        cli_check_free(&cfg);
        return EXIT_USAGE;
    }
    config_set_destroy(&conf);
    cli_check_free(&cfg);
    return EXIT_CLEAN;
}

static int cmd_env(int argc, char **argv)
{
    return envcmd_run(argc - 1, argv + 1, stdout, stderr);
}

static int cmd_lsp(int argc, char **argv)
{
    return lsp_main(argc, argv);
}

static int cmd_health(int argc, char **argv)
{
    return health_run(argc - 1, argv + 1, stdout, stderr);
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
    if (cmd->run != cmd_worker && cmd->run != cmd_coordinator && cmd->run != cmd_lsp)
        heap_setup(); /* a command that runs and exits (not a server) */
    return cmd->run(argc - 1, argv + 1);
}
