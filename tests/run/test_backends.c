/* test_backends.c - one conformance suite for every scan back end
 * (run/backend.h): threads of this process, worker processes on this host,
 * and a cluster's workers behind a dispatcher driven by another thread
 * (as a coordinator's main thread does). The same run, over the same
 * files, on each: every result the same bytes as a direct scan; a job that
 * kills its workers ends as an internal-error E902 on its file while the
 * jobs lost with it are retried and end right; a run cancelled while a job
 * hangs ends, cleanly. The workers' test hooks (STRATA_TEST_CRASH_ON,
 * STRATA_TEST_HANG_ON) need worker processes: the threads back end runs
 * the first case and a cancellation before its pool starts. A fourth back
 * end gets its fixture here and runs the same cases. */
#include "test.h"

#include "common/cas/cas.h"
#include "common/digest.h"
#include "coordinator/cluster.h"
#include "coordinator/hostpool.h"
#include "run/exec.h"
#include "run/run.h"
#include "tests/run/tmpdir.h"
#include "worker/jobkey.h"

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define POISON "STRATA-BACKENDS-POISON-71c"
#define STUCK "STRATA-BACKENDS-STUCK-2e8"
#define N_GENERATED 24
#define N_MAX (N_GENERATED + 8)
#define CLUSTER_WORKERS 2

/* ---- the files ------------------------------------------------------------------------ */

typedef struct {
    run_file_t files[N_MAX];
    char paths[N_MAX][32];
    char *texts[N_MAX];
    size_t n;
} corpus_t;

static void corpus_add(corpus_t *c, const char *path, const char *text)
{
    size_t i = c->n++;

    snprintf(c->paths[i], sizeof c->paths[i], "%s", path);
    c->texts[i] = strdup(text);
    c->files[i] = (run_file_t){.path = c->paths[i],
                               .size = strlen(text),
                               .kind = scan_kind_of_path(path),
                               .has_digest = true};
    CHECK(digest_sha256(text, strlen(text), &c->files[i].digest) == ST_OK);
}

/* Files of every kind, some with diagnostics, one that does not parse,
 * and many more so that the back ends have jobs in flight at once; with
 * extra (NULL: none) as the last. */
static void corpus_make(corpus_t *c, const char *extra)
{
    memset(c, 0, sizeof *c);
    corpus_add(c, "a.py", "import os\n");
    corpus_add(c, "b.py", "def f(x):\n    y = 1\n    return undefined_name\n");
    corpus_add(c, "c.pyi", "import sys\ndef g() -> int: ...\n");
    corpus_add(c, "p/__init__.py", "from .m import *\nprint(thing)\n");
    corpus_add(c, "d.py", "x = (\n");
    for (size_t i = 0; i < N_GENERATED; i++) {
        char path[32], text[2048];
        size_t len = (size_t)snprintf(text, sizeof text, "import json\n");
        for (size_t k = 0; k < i * 4 && len < sizeof text - 64; k++)
            len += (size_t)snprintf(text + len, sizeof text - len,
                                    "def f%zu(v):\n    w = v + %zu\n    return v\n", k, k);
        snprintf(path, sizeof path, "g%02zu.py", i);
        corpus_add(c, path, text);
    }
    if (extra != NULL) {
        /* the largest: sent first, never one the run scans itself while
         * the workers start */
        char text[8192];
        size_t len = (size_t)snprintf(text, sizeof text, "%s", extra);
        while (len < sizeof text - 80)
            len += (size_t)snprintf(text + len, sizeof text - len, "# %070d\n", 0);
        corpus_add(c, "z.py", text);
    }
}

static void corpus_free(corpus_t *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->texts[i]);
}

static cas_t *blob_cache(const corpus_t *c)
{
    cas_t *cache = tmpdir_cache();

    if (cache == NULL)
        return NULL;
    for (size_t i = 0; i < c->n; i++)
        CHECK(cas_put(cache, CAS_BLOBS, &c->files[i].digest, c->texts[i], strlen(c->texts[i]),
                      false, NULL) == ST_OK);
    return cache;
}

/* Whether file i's result in the cache is, byte for byte, a direct scan's. */
static bool same_as_direct(const corpus_t *c, size_t i, cas_t *cache)
{
    scan_opts_t so = {.max_file_bytes = SCAN_DEFAULT_MAX_FILE_BYTES};
    jobkey_scan_t in = {.version = JOBKEY_ANALYZER_VERSION,
                        .kind = c->files[i].kind,
                        .content = c->files[i].digest};
    scanner_t *sc = scanner_new();
    arena_t *a = arena_new(0);
    span_t direct, stored;
    digest_t key;
    bool same = false;

    if (sc != NULL && a != NULL && jobkey_scan_config(&so, &in.config) == ST_OK &&
        jobkey_scan(&in, &key, NULL) == ST_OK &&
        scanner_run(sc, &so, c->files[i].kind, (const uint8_t *)c->texts[i], strlen(c->texts[i]), a,
                    &direct, NULL) == ST_OK &&
        cas_get(cache, CAS_RESULTS, &key, a, &stored, NULL) == ST_OK)
        same = stored.len == direct.len && memcmp(stored.ptr, direct.ptr, direct.len) == 0;
    scanner_destroy(&sc);
    arena_destroy(&a);
    return same;
}

/* ---- a fixture per back end ---------------------------------------------------------- */

typedef struct {
    policy_kind_t kind;
    backend_t b;
    char strata[PATH_MAX + 16];
    FILE *log;
    /* the cluster's */
    char dir[64], endpoint[128];
    dispatch_t *d;
    calls_t *calls;
    pthread_t pump;
    atomic_bool stop;
    pid_t workers[CLUSTER_WORKERS];
    atomic_size_t respawned;
} fixture_t;

static pid_t spawn_worker(fixture_t *f)
{
    char *argv[] = {f->strata,   "worker", "--connect",  f->endpoint,
                    "--threads", "1",      "--no-cache", NULL};
    posix_spawn_file_actions_t fa;
    pid_t pid = 0;

    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    if (posix_spawn(&pid, f->strata, &fa, NULL, argv, environ) != 0)
        pid = 0;
    posix_spawn_file_actions_destroy(&fa);
    return pid;
}

/* The coordinator's main thread, in short: the calls pumped, dead workers
 * replaced (a few times). */
static void *pump_main(void *arg)
{
    fixture_t *f = arg;

    while (!atomic_load(&f->stop)) {
        (void)calls_pump(f->calls, 50, NULL, NULL, NULL);
        for (size_t k = 0; k < CLUSTER_WORKERS; k++)
            if (f->workers[k] > 0 && waitpid(f->workers[k], NULL, WNOHANG) == f->workers[k])
                f->workers[k] = atomic_fetch_add(&f->respawned, 1) < 8 ? spawn_worker(f) : 0;
    }
    return NULL;
}

static bool cluster_start(fixture_t *f)
{
    static int counter;
    dispatch_opts_t dopts = {.depth = policy_depth(POLICY_CLUSTER), .job_timeout_ms = 3000};

    snprintf(f->dir, sizeof f->dir, "/tmp/strata-backends-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return false;
    snprintf(f->endpoint, sizeof f->endpoint, "ipc://%s/w%d", f->dir, counter++);
    dopts.bind = f->endpoint;
    if ((f->d = dispatch_new(&dopts, NULL)) == NULL ||
        (f->calls = calls_new(f->d, &(calls_opts_t){.grace_ms = 20000}, NULL)) == NULL ||
        cluster_backend_new(f->calls, 1, &f->b, NULL) != ST_OK)
        return false;
    for (size_t k = 0; k < CLUSTER_WORKERS; k++)
        if ((f->workers[k] = spawn_worker(f)) <= 0)
            return false;
    atomic_init(&f->stop, false);
    return pthread_create(&f->pump, NULL, pump_main, f) == 0;
}

/* The back end of kind, its workers with the hooks set (NULL: none). */
static bool fixture_start(fixture_t *f, policy_kind_t kind, const char *crash_on,
                          const char *hang_on)
{
    hostpool_opts_t hopts = {.workers = 2, .threads = 1, .job_timeout_ms = 3000};
    bool ok = false;

    memset(f, 0, sizeof *f);
    f->kind = kind;
    test_strata_path(f->strata, sizeof f->strata);
    f->log = fopen("/dev/null", "w");
    hopts.exe = f->strata;
    hopts.log = f->log;
    if (crash_on != NULL)
        setenv("STRATA_TEST_CRASH_ON", crash_on, 1);
    if (hang_on != NULL)
        setenv("STRATA_TEST_HANG_ON", hang_on, 1);
    switch (kind) {
    case POLICY_THREADS:
        ok = exec_backend_new(2, &f->b, NULL) == ST_OK;
        break;
    case POLICY_HOSTPOOL:
        ok = hostpool_backend_new(&hopts, &f->b, NULL) == ST_OK;
        break;
    case POLICY_CLUSTER:
        ok = cluster_start(f);
        break;
    }
    return ok; /* the hooks stay set for the workers restarted later */
}

static void fixture_stop(fixture_t *f)
{
    backend_stop(&f->b, NULL);
    if (f->kind == POLICY_CLUSTER && f->calls != NULL) {
        atomic_store(&f->stop, true);
        calls_wake(f->calls);
        pthread_join(f->pump, NULL);
        for (size_t k = 0; k < CLUSTER_WORKERS; k++)
            if (f->workers[k] > 0) {
                kill(f->workers[k], SIGKILL);
                waitpid(f->workers[k], NULL, 0);
            }
        calls_destroy(&f->calls);
        dispatch_destroy(&f->d);
        unlink(f->endpoint + strlen("ipc://")); /* if ZeroMQ left it */
        rmdir(f->dir);
    }
    unsetenv("STRATA_WORKER_PARENT"); /* set by hostpool_start for its workers */
    unsetenv("STRATA_TEST_CRASH_ON");
    unsetenv("STRATA_TEST_HANG_ON");
    if (f->log != NULL)
        fclose(f->log);
}

/* ---- the run over a back end ----------------------------------------------------------- */

/* Digest, lookup and scan of c on f's back end, through cache; the
 * report's text of the checks when report is not NULL (malloc'd). */
static st_rc_t scan_on(fixture_t *f, const corpus_t *c, cas_t *cache, const atomic_bool *cancel,
                       char **report_text)
{
    run_opts_t o = {.files = c->files,
                    .n_files = c->n,
                    .source = RUN_FROM_BLOBS,
                    .jobs = 2,
                    .cache = cache,
                    .cancel = cancel};
    run_t *run = run_new(&o, NULL);
    st_err_t err = {0};
    st_rc_t rc = ST_ENOMEM;

    if (run == NULL)
        return rc;
    if ((rc = run_digest(run, &err)) == ST_OK && (rc = run_lookup(run, &err)) == ST_OK)
        rc = run_scan(run, &f->b, &err);
    if (report_text != NULL) {
        static const report_rules_t all = {0};
        report_t *r = report_new(&all);
        size_t size = 0, nd, nf;
        FILE *out = open_memstream(report_text, &size);
        if (r != NULL && out != NULL && run_check(run, r, &err) == ST_OK)
            report_write(r, REPORT_FORMAT_TEXT, out, &nd, &nf, NULL);
        if (out != NULL)
            fclose(out);
        report_destroy(&r);
    }
    run_destroy(&run);
    return rc;
}

static const policy_kind_t all_kinds[] = {POLICY_THREADS, POLICY_HOSTPOOL, POLICY_CLUSTER};
static const policy_kind_t worker_kinds[] = {POLICY_HOSTPOOL, POLICY_CLUSTER};

/* ---- the cases -------------------------------------------------------------------------- */

TEST(backends_scan_results_are_a_direct_scans)
{
    for (size_t k = 0; k < sizeof all_kinds / sizeof *all_kinds; k++) {
        corpus_t c;
        fixture_t f;
        cas_t *cache;

        corpus_make(&c, NULL);
        cache = blob_cache(&c);
        REQUIRE(cache != NULL);
        REQUIRE(fixture_start(&f, all_kinds[k], NULL, NULL));
        CHECK_EQ_INT(scan_on(&f, &c, cache, NULL, NULL), ST_OK);
        for (size_t i = 0; i < c.n; i++) {
            CHECK(same_as_direct(&c, i, cache));
            if (!same_as_direct(&c, i, cache))
                fprintf(stderr, "  %s: %s differs\n", f.b.ops->name, c.paths[i]);
        }
        fixture_stop(&f);
        cas_close(&cache);
        corpus_free(&c);
    }
}

TEST(backends_job_that_kills_its_workers_is_an_e902_the_rest_retried)
{
    struct rlimit no_core = {0, 0};

    setrlimit(RLIMIT_CORE, &no_core); /* the workers that crash dump nothing */
    for (size_t k = 0; k < sizeof worker_kinds / sizeof *worker_kinds; k++) {
        corpus_t c;
        fixture_t f;
        cas_t *cache;
        char *text = NULL;

        corpus_make(&c, "x = 1  # " POISON "\n");
        cache = blob_cache(&c);
        REQUIRE(cache != NULL);
        REQUIRE(fixture_start(&f, worker_kinds[k], POISON, NULL));
        /* the run names the failed job: not an error of the run's own */
        CHECK_EQ_INT(scan_on(&f, &c, cache, NULL, &text), ST_EINTERNAL);
        for (size_t i = 0; i + 1 < c.n; i++) /* the jobs lost with a worker came back right */
            CHECK(same_as_direct(&c, i, cache));
        backend_stats_t bs;
        f.b.ops->stats(f.b.self, &bs); /* and the dead workers were replaced */
        CHECK((worker_kinds[k] == POLICY_HOSTPOOL ? bs.restarts : atomic_load(&f.respawned)) > 0);
        CHECK(!same_as_direct(&c, c.n - 1, cache)); /* no result stored for it */
        CHECK(text != NULL &&
              strstr(text, "z.py:1:1: E902 internal error, file not checked") != NULL);
        if (text != NULL && strstr(text, "z.py:1:1: E902") == NULL)
            fprintf(stderr, "  %s: report:\n%s", f.b.ops->name, text);
        free(text);
        fixture_stop(&f);
        cas_close(&cache);
        corpus_free(&c);
    }
}

typedef struct {
    atomic_bool *flag;
    unsigned ms;
} later_t;

static void *set_later(void *arg)
{
    later_t *l = arg;
    struct timespec ts = {l->ms / 1000, (long)(l->ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
    atomic_store(l->flag, true);
    return NULL;
}

TEST(backends_cancelled_run_ends_cleanly)
{
    for (size_t k = 0; k < sizeof all_kinds / sizeof *all_kinds; k++) {
        bool workers = all_kinds[k] != POLICY_THREADS;
        atomic_bool cancel;
        later_t l = {.flag = &cancel, .ms = 300};
        pthread_t t;
        corpus_t c;
        fixture_t f;
        cas_t *cache;

        atomic_init(&cancel, !workers); /* threads: stopped before the pool starts */
        corpus_make(&c, workers ? "y = 2  # " STUCK "\n" : NULL);
        cache = blob_cache(&c);
        REQUIRE(cache != NULL);
        REQUIRE(fixture_start(&f, all_kinds[k], NULL, workers ? STUCK : NULL));
        REQUIRE(pthread_create(&t, NULL, set_later, &l) == 0 || !workers);
        /* a job hangs its worker: only the cancel ends the run */
        CHECK_EQ_INT(scan_on(&f, &c, cache, &cancel, NULL), ST_EIO);
        pthread_join(t, NULL);
        if (workers)
            CHECK(!same_as_direct(&c, c.n - 1, cache));
        else
            for (size_t i = 0; i < c.n; i++)
                CHECK(!same_as_direct(&c, i, cache)); /* nothing ran */
        fixture_stop(&f);                             /* and then the back end stops */
        cas_close(&cache);
        corpus_free(&c);
    }
}
