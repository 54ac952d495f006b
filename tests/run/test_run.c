/* test_run.c - the run's stages over files on the disk, in this process:
 * the same report whatever the thread count, E902 for files that cannot be
 * read, the cache (a warm run scans nothing, a key is the content's and
 * the kind's, a corrupt entry is scanned again, an E902 is never stored),
 * the whole run from the cache in one piece, and allocation failures.
 * Runs the real scanner on small generated files. */
#include "test.h"

#include "common/alloc.h"
#include "common/digest.h"
#include "run/run.h"
#include "tests/run/tmpdir.h"
#include "worker/jobkey.h"

#include <stdlib.h>
#include <string.h>

static char dir[64];
static const report_rules_t all_rules = {0};
static uint64_t parse_timeout_us; /* check_files' scans: 0 the default limit */

/* Runs files[0..n) through every stage; the text report (malloc'd, NULL
 * when out of memory), the scans' result in *rc, the counts in *st. */
static char *check_files(const run_file_t *files, size_t n, unsigned jobs, size_t max, cas_t *cache,
                         run_stats_t *st, st_rc_t *rc)
{
    run_opts_t o = {.files = files,
                    .n_files = n,
                    .jobs = jobs,
                    .max_file_bytes = max,
                    .parse_timeout_us = parse_timeout_us,
                    .cache = cache,
                    .whole = true,
                    .args = (const char *const[]){dir},
                    .n_args = 1};
    report_t *report = report_new(&all_rules);
    run_t *run = report != NULL ? run_new(&o, NULL) : NULL;
    char *text = NULL;
    size_t size = 0, nd, nf;
    st_err_t err = {0};
    FILE *f;

    *rc = ST_ENOMEM;
    if (run != NULL) {
        *rc = run_scans(run, &err);
        if (run_check(run, report, &err) == ST_OK && (f = open_memstream(&text, &size)) != NULL) {
            report_write(report, REPORT_FORMAT_TEXT, f, &nd, &nf, NULL);
            fclose(f);
        }
        run_finish(run);
        run_stats(run, st);
    }
    run_destroy(&run);
    report_destroy(&report);
    return text;
}

static void add_file(run_file_t *files, char paths[][128], size_t i, const char *name,
                     const char *text)
{
    tmpdir_write(dir, name, text, paths[i], sizeof paths[i]);
    files[i] =
        (run_file_t){.path = paths[i], .size = strlen(text), .kind = scan_kind_of_path(paths[i])};
}

/* n files, enough bytes in total that a pool really starts. */
static void make_files(run_file_t *files, char paths[][128], size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char text[8192], name[32];
        size_t len = (size_t)snprintf(text, sizeof text, "import os\nimport sys\n\n");

        for (size_t k = 0; k < i * 8 && len < sizeof text - 64; k++)
            len += (size_t)snprintf(text + len, sizeof text - len,
                                    "def f%zu(x):\n    y = x + %zu\n    return x\n", k, k);
        snprintf(text + len, sizeof text - len, "print(sys.argv, undefined_%zu)\n", i);
        snprintf(name, sizeof name, "m%02zu.py", i);
        add_file(files, paths, i, name, text);
    }
}

TEST(run_same_report_any_thread_count)
{
    run_file_t files[40];
    char paths[40][128];
    run_stats_t st1, st4;
    st_rc_t rc1 = ST_EINVAL, rc4 = ST_EINVAL;
    char *one, *four;

    REQUIRE(tmpdir_make(dir));
    make_files(files, paths, 40);
    one = check_files(files, 40, 1, 0, NULL, &st1, &rc1);
    four = check_files(files, 40, 4, 0, NULL, &st4, &rc4);
    REQUIRE(one != NULL && four != NULL);
    CHECK_EQ_INT(rc1, ST_OK);
    CHECK_EQ_INT(rc4, ST_OK);
    CHECK_STREQ(one, four);
    CHECK(strstr(one, "m00.py:1:1: F401") != NULL);
    CHECK(strstr(one, "F821") != NULL);
    CHECK(strstr(one, "F841") != NULL);
    CHECK_EQ_INT(st1.files, 40);
    CHECK_EQ_INT(st1.scanned, 40);
    CHECK_EQ_INT(st4.scanned, 40);
    free(one);
    free(four);
    tmpdir_remove(dir);
}

TEST(run_unreadable_files_get_e902)
{
    run_file_t files[3];
    char paths[3][128];
    run_stats_t st;
    st_rc_t rc = ST_EINVAL;
    char *out, want[512];

    REQUIRE(tmpdir_make(dir));
    add_file(files, paths, 0, "big.py", "x = 1\ny = 2\n");
    snprintf(paths[1], sizeof paths[1], "%s/gone.py", dir);
    snprintf(paths[2], sizeof paths[2], "%s", dir);
    files[1] = (run_file_t){.path = paths[1]};
    files[2] = (run_file_t){.path = paths[2]};
    out = check_files(files, 3, 2, 5, NULL, &st, &rc);
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
    tmpdir_remove(dir);
}

/* Every allocation failing in turn: a clean error or success, never a
 * crash or a leak. */
TEST(run_out_of_memory)
{
    run_file_t files[3];
    char paths[3][128];
    int ok = 0;

    REQUIRE(tmpdir_make(dir));
    make_files(files, paths, 3);
    for (long n = 0; n < 400 && !ok; n++) {
        run_stats_t st;
        st_rc_t rc = ST_ENOMEM;
        char *out;
        int armed;

        alloc_fail_after(n);
        out = check_files(files, 3, 1, 0, NULL, &st, &rc);
        armed = alloc_fail_armed();
        alloc_fail_after(-1);
        free(out);
        if (armed) /* the run needed fewer than n allocations */
            ok = 1;
        else
            CHECK(rc == ST_OK || rc == ST_ENOMEM || rc == ST_EINTERNAL);
    }
    CHECK(ok);
    tmpdir_remove(dir);
}

TEST(run_cache_warm_run_scans_nothing)
{
    run_file_t files[40];
    char paths[40][128];
    run_stats_t st0, st1, st2;
    st_rc_t rc0 = ST_EINVAL, rc1 = ST_EINVAL, rc2 = ST_EINVAL;
    cas_t *cache = tmpdir_cache();
    char *cold, *first, *warm;

    REQUIRE(cache != NULL && tmpdir_make(dir));
    make_files(files, paths, 40);
    cold = check_files(files, 40, 2, 0, NULL, &st0, &rc0);
    first = check_files(files, 40, 2, 0, cache, &st1, &rc1);
    warm = check_files(files, 40, 2, 0, cache, &st2, &rc2);
    REQUIRE(cold != NULL && first != NULL && warm != NULL);
    CHECK_EQ_INT(rc1, ST_OK);
    CHECK_EQ_INT(rc2, ST_OK);
    CHECK_STREQ(first, cold);
    CHECK_STREQ(warm, cold);
    CHECK_EQ_INT(st1.scanned, 40);
    CHECK_EQ_INT(st1.cached, 0);
    CHECK(!st1.whole);
    CHECK_EQ_INT(st2.scanned, 0);
    CHECK_EQ_INT(st2.cached, 40);
    CHECK(st2.whole); /* unchanged: the whole run in one piece */
    free(cold);
    free(first);
    free(warm);
    cas_close(&cache);
    tmpdir_remove(dir);
}

/* A scan that ran out of time (a machine under load) is reported for
 * this run only: neither it, nor a check of its module, nor the whole run
 * is cached, so the next run checks the file; and its module's interface
 * is unknown meanwhile, not empty (no E0611 for what it defines). */
TEST(run_cache_time_limit_is_not_cached)
{
    run_file_t files[2];
    char paths[2][128];
    run_stats_t st0, st1, st2;
    st_rc_t rc0 = ST_EINVAL, rc1 = ST_EINVAL, rc2 = ST_EINVAL;
    cas_t *cache = tmpdir_cache();
    size_t len = 0, cap = 20000 * 24;
    char *big = malloc(cap), *nocache, *first, *second;

    REQUIRE(cache != NULL && big != NULL && tmpdir_make(dir));
    for (size_t i = 0; i < 20000; i++)
        len += (size_t)snprintf(big + len, cap - len, "name%zu = %zu\n", i, i);
    add_file(files, paths, 0, "big.py", big);
    add_file(files, paths, 1, "user.py", "from big import name7, nope\nprint(name7, nope)\n");
    parse_timeout_us = 1;
    first = check_files(files, 2, 1, 0, cache, &st1, &rc1);
    parse_timeout_us = 600000000u; /* time enough, however slow the build */
    second = check_files(files, 2, 1, 0, cache, &st2, &rc2);
    nocache = check_files(files, 2, 1, 0, NULL, &st0, &rc0);
    parse_timeout_us = 0;
    REQUIRE(first != NULL && second != NULL && nocache != NULL);
    CHECK(strstr(first, "big.py:1:1: E902") != NULL && strstr(first, "time limit") != NULL);
    CHECK(strstr(first, "E0611") == NULL);
    CHECK(strstr(nocache, "E0611 No name 'nope' in module 'big'") != NULL);
    CHECK_STREQ(second, nocache); /* nothing the first run saw was served */
    CHECK(!st2.whole);
    CHECK(st2.scanned >= 1);
    free(big);
    free(first);
    free(second);
    free(nocache);
    cas_close(&cache);
    tmpdir_remove(dir);
}

TEST(run_cache_path_independent_and_edits)
{
    run_file_t files[3];
    char paths[3][128];
    run_stats_t st;
    st_rc_t rc = ST_EINVAL;
    cas_t *cache = tmpdir_cache();
    char *out;

    REQUIRE(cache != NULL && tmpdir_make(dir));
    add_file(files, paths, 0, "a.py", "import os\n");
    free(check_files(files, 1, 1, 0, cache, &st, &rc));
    CHECK_EQ_INT(st.scanned, 1);
    /* Same bytes elsewhere: a hit, reported under its own path. */
    add_file(files, paths, 1, "copy.py", "import os\n");
    out = check_files(files + 1, 1, 1, 0, cache, &st, &rc);
    CHECK_EQ_INT(st.cached, 1);
    CHECK_EQ_INT(st.scanned, 0);
    CHECK(out != NULL && strstr(out, "copy.py:1:1: F401") != NULL);
    free(out);
    /* Same bytes as a stub: another kind, another key. */
    add_file(files, paths, 2, "a.pyi", "import os\n");
    free(check_files(files + 2, 1, 1, 0, cache, &st, &rc));
    CHECK_EQ_INT(st.cached, 0);
    CHECK_EQ_INT(st.scanned, 1);
    /* An edit: the file is scanned again, the others hit. */
    add_file(files, paths, 0, "a.py", "import sys\n");
    out = check_files(files, 3, 1, 0, cache, &st, &rc);
    CHECK_EQ_INT(st.scanned, 1);
    CHECK_EQ_INT(st.cached, 2);
    CHECK(out != NULL && strstr(out, "a.py:1:1: F401 'sys'") != NULL);
    free(out);
    cas_close(&cache);
    tmpdir_remove(dir);
}

TEST(run_cache_corrupt_result_is_rescanned)
{
    run_file_t files[1];
    char paths[1][128];
    run_stats_t st;
    st_rc_t rc = ST_EINVAL;
    cas_t *cache = tmpdir_cache();
    scan_opts_t so = {.max_file_bytes = SCAN_DEFAULT_MAX_FILE_BYTES};
    jobkey_scan_t in = {.version = JOBKEY_ANALYZER_VERSION, .kind = SCAN_KIND_PY};
    digest_t key;
    char *cold, *out;

    REQUIRE(cache != NULL && tmpdir_make(dir));
    add_file(files, paths, 0, "a.py", "import os\n");
    REQUIRE(jobkey_scan_config(&so, &in.config) == ST_OK);
    REQUIRE(digest_sha256("import os\n", 10, &in.content) == ST_OK);
    REQUIRE(jobkey_scan(&in, &key, NULL) == ST_OK);
    /* Bytes that are no scan result, stored under the file's key. */
    REQUIRE(cas_put(cache, CAS_RESULTS, &key, "\xc1garbage", 8, false, NULL) == ST_OK);
    cold = check_files(files, 1, 1, 0, NULL, &st, &rc);
    out = check_files(files, 1, 1, 0, cache, &st, &rc);
    CHECK_EQ_INT(rc, ST_OK);
    CHECK_EQ_INT(st.cached, 0);
    CHECK_EQ_INT(st.scanned, 1);
    REQUIRE(cold != NULL && out != NULL);
    CHECK_STREQ(out, cold);
    free(cold);
    free(out);
    cas_close(&cache);
    tmpdir_remove(dir);
}

TEST(run_cache_unreadable_files_not_cached)
{
    run_file_t files[2];
    char paths[2][128];
    run_stats_t st;
    st_rc_t rc = ST_EINVAL;
    cas_t *cache = tmpdir_cache();

    REQUIRE(cache != NULL && tmpdir_make(dir));
    snprintf(paths[0], sizeof paths[0], "%s/gone.py", dir);
    files[0] = (run_file_t){.path = paths[0]};
    add_file(files, paths, 1, "big.py", "x = 1\ny = 2\n");
    for (int pass = 0; pass < 2; pass++) {
        free(check_files(files, 2, 1, 5, cache, &st, &rc));
        CHECK_EQ_INT(rc, ST_OK);
        CHECK_EQ_INT(st.unreadable, 2);
        CHECK_EQ_INT(st.cached, 0);
    }
    free(check_files(files + 1, 1, 1, 0, cache, &st, &rc));
    CHECK_EQ_INT(st.scanned, 1); /* within the default limit now: scanned */
    cas_close(&cache);
    tmpdir_remove(dir);
}
