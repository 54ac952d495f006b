/* test_exec.c - the job executor: reading files, E902 for unreadable and
 * oversized ones, identical results whatever the thread count, setup
 * failures. Runs the real scanner on small generated files. */
#include "test.h"

#include "common/alloc.h"
#include "run/report.h"
#include "run/exec.h"
#include "worker/jobkey.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static void write_file(const char *name, const char *text, char *path, size_t size)
{
    int fd;

    snprintf(path, size, "%s/%s", dir, name);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return;
    if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        CHECK(!"write");
    close(fd);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static bool setup(void)
{
    strcpy(dir, "/tmp/strata-exec-XXXXXX");
    return mkdtemp(dir) != NULL;
}

static void teardown(void)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TEST(exec_read_file_whole)
{
    arena_t *a = arena_new(0);
    char path[128];
    uint8_t *data = NULL;
    size_t len = 0;
    st_err_t err = {0};

    REQUIRE(a != NULL && setup());
    write_file("a.py", "import os\n", path, sizeof path);
    REQUIRE(exec_read_file(path, 100, a, &data, &len, &err) == ST_OK);
    CHECK_EQ_INT(len, 10);
    CHECK(memcmp(data, "import os\n", 11) == 0); /* NUL-terminated */
    /* Exactly at the limit is fine; one byte over is not. */
    REQUIRE(exec_read_file(path, 10, a, &data, &len, &err) == ST_OK);
    CHECK_EQ_INT(exec_read_file(path, 9, a, &data, &len, &err), ST_ELIMIT);
    CHECK_STREQ(err.msg, "file too large: 10 bytes (limit 9, see --max-file-size)");
    write_file("empty.py", "", path, sizeof path);
    REQUIRE(exec_read_file(path, 100, a, &data, &len, &err) == ST_OK);
    CHECK_EQ_INT(len, 0);
    CHECK_EQ_INT(data[0], 0);
    teardown();
    arena_destroy(&a);
}

/* /proc files claim size 0: the loop must grow until EOF. */
TEST(exec_read_file_size_unknown)
{
    arena_t *a = arena_new(256);
    uint8_t *data = NULL;
    size_t len = 0;
    st_err_t err = {0};

    REQUIRE(a != NULL);
    REQUIRE(exec_read_file("/proc/self/maps", 1 << 24, a, &data, &len, &err) == ST_OK);
    CHECK(len > 100);
    CHECK_EQ_INT(data[len], 0);
    CHECK_EQ_INT(exec_read_file("/proc/self/maps", 50, a, &data, &len, &err), ST_ELIMIT);
    CHECK(strstr(err.msg, "more than 50 bytes") != NULL);
    REQUIRE(exec_read_file("/dev/null", 10, a, &data, &len, &err) == ST_OK);
    CHECK_EQ_INT(len, 0);
    arena_destroy(&a);
}

TEST(exec_read_file_errors)
{
    arena_t *a = arena_new(0);
    uint8_t *data = (uint8_t *)"keep";
    size_t len = 42;
    st_err_t err = {0};
    char big[20001], path[128];

    REQUIRE(a != NULL && setup());
    CHECK_EQ_INT(exec_read_file("/nonexistent/x.py", 10, a, &data, &len, &err), ST_EIO);
    CHECK_STREQ(err.msg, strerror(ENOENT));
    CHECK_EQ_INT(exec_read_file(dir, 10, a, &data, &len, &err), ST_EIO);
    CHECK_STREQ(err.msg, strerror(EISDIR));
    /* The job's arena is capped: a big file fails the job, not the process. */
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    write_file("big.py", big, path, sizeof path);
    arena_set_limit(a, 4096);
    CHECK_EQ_INT(exec_read_file(path, 1 << 20, a, &data, &len, &err), ST_ENOMEM);
    CHECK_EQ_INT(len, 42); /* untouched */
    CHECK(memcmp(data, "keep", 4) == 0);
    arena_destroy(&a);
    teardown();
}

typedef struct {
    report_t *report;
    int errors;
} sink_ctx_t;

static st_rc_t sink(void *ctx, const exec_done_t *done, st_err_t *err)
{
    return report_add(((sink_ctx_t *)ctx)->report, done->path, done->diags, done->n_diags, err);
}

static void on_error(void *ctx, const char *path, const st_err_t *err)
{
    (void)path, (void)err;
    ((sink_ctx_t *)ctx)->errors++;
}

static const report_rules_t all_rules = {0};

/* Runs exec over files with jobs threads; the text report (malloc'd). */
static char *run(const exec_file_t *files, size_t n, unsigned jobs, size_t max, exec_stats_t *stats,
                 st_rc_t *rc)
{
    sink_ctx_t ctx = {.report = report_new(&all_rules)};
    exec_opts_t opts = {.jobs = jobs,
                        .max_file_bytes = max,
                        .sink = sink,
                        .sink_ctx = &ctx,
                        .on_job_error = on_error};
    char *text = NULL;
    size_t size = 0, nd, nf;
    FILE *f;

    if (ctx.report == NULL)
        return NULL;
    *rc = exec_run(&opts, files, n, stats, NULL);
    if ((f = open_memstream(&text, &size)) != NULL) {
        report_write(ctx.report, REPORT_FORMAT_TEXT, f, &nd, &nf, NULL);
        fclose(f);
    }
    report_destroy(&ctx.report);
    return text;
}

/* Enough bytes in total that a pool really starts. */
static size_t make_files(exec_file_t *files, char paths[][128], size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char text[8192];
        size_t len = (size_t)snprintf(text, sizeof text, "import os\nimport sys\n\n");

        for (size_t k = 0; k < i * 8 && len < sizeof text - 64; k++)
            len += (size_t)snprintf(text + len, sizeof text - len,
                                    "def f%zu(x):\n    y = x + %zu\n    return x\n", k, k);
        snprintf(text + len, sizeof text - len, "print(sys.argv, undefined_%zu)\n", i);
        char name[32];
        snprintf(name, sizeof name, "m%02zu.py", i);
        write_file(name, text, paths[i], sizeof paths[i]);
        files[i] = (exec_file_t){.path = paths[i], .size = strlen(text)};
    }
    return n;
}

TEST(exec_same_output_any_thread_count)
{
    exec_file_t files[40];
    char paths[40][128];
    exec_stats_t st1, st4;
    st_rc_t rc1 = ST_EINVAL, rc4 = ST_EINVAL;
    char *one, *four;

    REQUIRE(setup());
    make_files(files, paths, 40);
    one = run(files, 40, 1, 0, &st1, &rc1);
    four = run(files, 40, 4, 0, &st4, &rc4);
    REQUIRE(one != NULL && four != NULL);
    CHECK_EQ_INT(rc1, ST_OK);
    CHECK_EQ_INT(rc4, ST_OK);
    CHECK_STREQ(one, four);
    CHECK(strstr(one, "m00.py:1:1: F401") != NULL);
    CHECK(strstr(one, "F821") != NULL);
    CHECK(strstr(one, "F841") != NULL);
    CHECK_EQ_INT(st1.files, 40);
    CHECK_EQ_INT(st4.files, 40);
    CHECK_EQ_INT(st1.threads, 0);
    CHECK_EQ_INT(st4.threads, 4); /* well above the inline threshold */
    CHECK_EQ_INT(st1.bytes, st4.bytes);
    free(one);
    free(four);
    teardown();
}

TEST(exec_small_input_runs_inline)
{
    exec_file_t files[2];
    char paths[2][128];
    exec_stats_t st;
    st_rc_t rc = ST_EINVAL;
    char *out;

    REQUIRE(setup());
    write_file("a.py", "import os\n", paths[0], sizeof paths[0]);
    write_file("b.py", "x = 1\n", paths[1], sizeof paths[1]);
    files[0] = (exec_file_t){.path = paths[0], .size = 10};
    files[1] = (exec_file_t){.path = paths[1], .size = 6};
    REQUIRE(16 < EXEC_INLINE_MAX_BYTES);
    out = run(files, 2, 8, 0, &st, &rc);
    CHECK_EQ_INT(rc, ST_OK);
    CHECK_EQ_INT(st.threads, 0);
    CHECK_EQ_INT(st.files, 2);
    CHECK(out != NULL && strstr(out, "a.py:1:1: F401") != NULL);
    free(out);
    /* One file, however big, runs inline too. */
    files[1].size = EXEC_INLINE_MAX_BYTES * 10;
    out = run(files + 1, 1, 8, 0, &st, &rc);
    CHECK_EQ_INT(rc, ST_OK);
    CHECK_EQ_INT(st.threads, 0);
    free(out);
    out = run(files, 0, 8, 0, &st, &rc);
    CHECK_EQ_INT(rc, ST_OK);
    CHECK_STREQ(out, "");
    CHECK_EQ_INT(st.files, 0);
    free(out);
    teardown();
}

TEST(exec_unreadable_files_get_e902)
{
    exec_file_t files[3];
    char paths[3][128];
    exec_stats_t st;
    st_rc_t rc = ST_EINVAL;
    char *out, want[512];

    REQUIRE(setup());
    write_file("big.py", "x = 1\ny = 2\n", paths[0], sizeof paths[0]);
    snprintf(paths[1], sizeof paths[1], "%s/gone.py", dir);
    snprintf(paths[2], sizeof paths[2], "%s", dir);
    for (int i = 0; i < 3; i++)
        files[i] = (exec_file_t){.path = paths[i], .size = 0};
    out = run(files, 3, 2, 5, &st, &rc);
    CHECK_EQ_INT(rc, ST_OK); /* E902 is a diagnostic, not an error */
    snprintf(want, sizeof want,
             "%s:1:1: E902 cannot read file: Is a directory\n"
             "%s/big.py:1:1: E902 file too large: 12 bytes (limit 5, see --max-file-size)\n"
             "%s/gone.py:1:1: E902 cannot read file: No such file or directory\n",
             dir, dir, dir);
    CHECK(out != NULL && strcmp(out, want) == 0);
    if (out != NULL && strcmp(out, want) != 0)
        fprintf(stderr, "  got:\n%s  want:\n%s", out, want);
    CHECK_EQ_INT(st.unreadable, 3);
    free(out);
    teardown();
}

static st_rc_t failing_sink(void *ctx, const exec_done_t *done, st_err_t *err)
{
    (void)ctx, (void)done;
    return st_fail(err, ST_ENOMEM, "sink full");
}

TEST(exec_sink_error_is_returned)
{
    exec_file_t files[3];
    char paths[3][128];
    exec_opts_t opts = {.jobs = 1, .sink = failing_sink};
    exec_stats_t st;
    st_err_t err = {0};

    REQUIRE(setup());
    make_files(files, paths, 3);
    CHECK_EQ_INT(exec_run(&opts, files, 3, &st, &err), ST_ENOMEM);
    CHECK_STREQ(err.msg, "sink full");
    CHECK_EQ_INT(st.files, 3); /* the other jobs still ran */
    teardown();
}

/* Every allocation of the setup failing in turn: a clean error or success,
 * never a crash or a leak. */
TEST(exec_out_of_memory)
{
    exec_file_t files[3];
    char paths[3][128];
    int ok = 0;

    REQUIRE(setup());
    make_files(files, paths, 3);
    for (long n = 0; n < 200 && !ok; n++) {
        exec_stats_t st;
        st_rc_t rc = ST_ENOMEM; /* stays so when the report cannot be made */
        char *out;
        int armed;

        alloc_fail_after(n);
        out = run(files, 3, 1, 0, &st, &rc);
        armed = alloc_fail_armed();
        alloc_fail_after(-1);
        free(out);
        if (armed) /* the run needed fewer than n allocations */
            ok = 1;
        else
            CHECK(rc == ST_OK || rc == ST_ENOMEM || rc == ST_EINTERNAL);
    }
    CHECK(ok);
    teardown();
}

/* Runs exec through cache; the text report (malloc'd). */
static char *run_cached(const exec_file_t *files, size_t n, unsigned jobs, cas_t *cache,
                        exec_stats_t *stats, st_rc_t *rc)
{
    sink_ctx_t ctx = {.report = report_new(&all_rules)};
    exec_opts_t opts = {
        .jobs = jobs, .sink = sink, .sink_ctx = &ctx, .on_job_error = on_error, .cache = cache};
    char *text = NULL;
    size_t size = 0, nd, nf;
    FILE *f;

    if (ctx.report == NULL)
        return NULL;
    *rc = exec_run(&opts, files, n, stats, NULL);
    if ((f = open_memstream(&text, &size)) != NULL) {
        report_write(ctx.report, REPORT_FORMAT_TEXT, f, &nd, &nf, NULL);
        fclose(f);
    }
    report_destroy(&ctx.report);
    return text;
}

static cas_t *memory_cache(void)
{
    cas_opts_t o;
    cas_t *c = NULL;

    cas_opts_default(&o);
    o.durability = CAS_MEMORY;
    return cas_open(&o, &c, NULL) == ST_OK ? c : NULL;
}

TEST(exec_cache_warm_run_scans_nothing)
{
    exec_file_t files[40];
    char paths[40][128];
    exec_stats_t st0, st1, st2;
    st_rc_t rc0 = ST_EINVAL, rc1 = ST_EINVAL, rc2 = ST_EINVAL;
    cas_t *cache = memory_cache();
    char *cold, *first, *warm;

    REQUIRE(cache != NULL && setup());
    make_files(files, paths, 40);
    cold = run(files, 40, 2, 0, &st0, &rc0);
    first = run_cached(files, 40, 2, cache, &st1, &rc1);
    warm = run_cached(files, 40, 2, cache, &st2, &rc2);
    REQUIRE(cold != NULL && first != NULL && warm != NULL);
    CHECK_EQ_INT(rc1, ST_OK);
    CHECK_EQ_INT(rc2, ST_OK);
    CHECK_STREQ(first, cold);
    CHECK_STREQ(warm, cold);
    CHECK_EQ_INT(st1.files, 40);
    CHECK_EQ_INT(st1.scanned, 40);
    CHECK_EQ_INT(st1.cached, 0);
    CHECK_EQ_INT(st1.stored, 40);
    CHECK_EQ_INT(st1.hash_threads, 2);
    CHECK_EQ_INT(st2.files, 40);
    CHECK_EQ_INT(st2.scanned, 0);
    CHECK_EQ_INT(st2.cached, 40);
    CHECK_EQ_INT(st2.stored, 0);
    CHECK_EQ_INT(st2.threads, 0); /* no scan thread started */
    free(cold);
    free(first);
    free(warm);
    cas_close(&cache);
    teardown();
}

TEST(exec_cache_path_independent_and_edits)
{
    exec_file_t files[3];
    char paths[3][128];
    exec_stats_t st;
    st_rc_t rc = ST_EINVAL;
    cas_t *cache = memory_cache();
    char *out;

    REQUIRE(cache != NULL && setup());
    write_file("a.py", "import os\n", paths[0], sizeof paths[0]);
    files[0] = (exec_file_t){.path = paths[0], .size = 10};
    free(run_cached(files, 1, 1, cache, &st, &rc));
    CHECK_EQ_INT(st.scanned, 1);
    /* Same bytes elsewhere: a hit, reported under its own path. */
    write_file("copy.py", "import os\n", paths[1], sizeof paths[1]);
    files[1] = (exec_file_t){.path = paths[1], .size = 10};
    out = run_cached(files + 1, 1, 1, cache, &st, &rc);
    CHECK_EQ_INT(st.cached, 1);
    CHECK_EQ_INT(st.scanned, 0);
    CHECK(out != NULL && strstr(out, "copy.py:1:1: F401") != NULL);
    free(out);
    /* Same bytes as a stub: another kind, another key. */
    write_file("a.pyi", "import os\n", paths[2], sizeof paths[2]);
    files[2] = (exec_file_t){.path = paths[2], .size = 10};
    free(run_cached(files + 2, 1, 1, cache, &st, &rc));
    CHECK_EQ_INT(st.cached, 0);
    CHECK_EQ_INT(st.scanned, 1);
    /* An edit: the file is scanned again, the others hit. */
    write_file("a.py", "import sys\n", paths[0], sizeof paths[0]);
    out = run_cached(files, 3, 1, cache, &st, &rc);
    CHECK_EQ_INT(st.scanned, 1);
    CHECK_EQ_INT(st.cached, 2);
    CHECK(out != NULL && strstr(out, "a.py:1:1: F401 'sys'") != NULL);
    free(out);
    cas_close(&cache);
    teardown();
}

TEST(exec_cache_corrupt_result_is_rescanned)
{
    exec_file_t files[1];
    char paths[1][128];
    exec_stats_t st;
    st_rc_t rc = ST_EINVAL;
    cas_t *cache = memory_cache();
    scan_opts_t so = {0};
    jobkey_scan_t in = {.version = JOBKEY_ANALYZER_VERSION, .kind = SCAN_KIND_PY};
    digest_t key;
    char *cold, *out;

    REQUIRE(cache != NULL && setup());
    write_file("a.py", "import os\n", paths[0], sizeof paths[0]);
    files[0] = (exec_file_t){.path = paths[0], .size = 10};
    REQUIRE(jobkey_scan_config(&so, &in.config) == ST_OK);
    REQUIRE(digest_sha256("import os\n", 10, &in.content) == ST_OK);
    REQUIRE(jobkey_scan(&in, &key, NULL) == ST_OK);
    /* Bytes that are no scan result, stored under the file's key. */
    REQUIRE(cas_put(cache, CAS_RESULTS, &key, "\xc1garbage", 8, false, NULL) == ST_OK);
    cold = run(files, 1, 1, 0, &st, &rc);
    out = run_cached(files, 1, 1, cache, &st, &rc);
    CHECK_EQ_INT(rc, ST_OK);
    CHECK_EQ_INT(st.corrupt, 1);
    CHECK_EQ_INT(st.cached, 0);
    CHECK_EQ_INT(st.scanned, 1);
    REQUIRE(cold != NULL && out != NULL);
    CHECK_STREQ(out, cold);
    free(cold);
    free(out);
    cas_close(&cache);
    teardown();
}

TEST(exec_cache_unreadable_files_not_cached)
{
    exec_file_t files[2];
    char paths[2][128];
    exec_stats_t st;
    st_rc_t rc = ST_EINVAL;
    cas_t *cache = memory_cache();
    char *out;

    REQUIRE(cache != NULL && setup());
    snprintf(paths[0], sizeof paths[0], "%s/gone.py", dir);
    write_file("big.py", "x = 1\ny = 2\n", paths[1], sizeof paths[1]);
    files[0] = (exec_file_t){.path = paths[0], .size = 0};
    files[1] = (exec_file_t){.path = paths[1], .size = 12};
    for (int pass = 0; pass < 2; pass++) {
        sink_ctx_t ctx = {.report = report_new(&all_rules)};
        exec_opts_t opts = {
            .jobs = 1, .max_file_bytes = 5, .sink = sink, .sink_ctx = &ctx, .cache = cache};

        REQUIRE(ctx.report != NULL);
        CHECK_EQ_INT(exec_run(&opts, files, 2, &st, NULL), ST_OK);
        CHECK_EQ_INT(st.unreadable, 2);
        CHECK_EQ_INT(st.cached, 0);
        CHECK_EQ_INT(st.stored, 0);
        report_destroy(&ctx.report);
    }
    out = run_cached(files + 1, 1, 1, cache, &st, &rc);
    CHECK_EQ_INT(st.scanned, 1); /* within the default limit now: scanned */
    free(out);
    cas_close(&cache);
    teardown();
}
