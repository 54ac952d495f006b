/* test_project.c - the whole-project stage: a real project scanned into a
 * project_t and checked, its report the same whatever the thread count and
 * job order, and out-of-memory at every allocation leaving nothing that the
 * report would read out of bounds; its graph output, the scan explanations,
 * and the whole run's record stored and read back. */
#include "test.h"

#include "common/alloc.h"
#include "run/project.h"
#include "run/run.h"
#include "run/report.h"
#include "run/exec.h"
#include "tests/run/tmpdir.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define N_FILES 5

static char dir[64];

/* A star import of a package whose __all__ names a submodule binds it in
 * other's interface without importing it: zmain's job must not read
 * pkg.sub's interface (nothing orders pkg.sub's job first). Paths sorted. */
static const char *const names[N_FILES] = {"other.py", "pkg/__init__.py", "pkg/sub.py", "use.py",
                                           "zmain.py"};
static const char *const texts[N_FILES] = {
    "from pkg import *\n",
    "__all__ = [\"sub\"]\n",
    "def f():\n    pass\n",
    "from pkg import sub\n\nsub.f(1)\nsub.nothing\n",
    "from other import sub\n\nsub.g()\n",
};

/* Writes the fixture project under a new dir; its paths into paths, and
 * pointers to them into pp. */
static bool make_project(char paths[N_FILES][128], const char *pp[N_FILES])
{
    snprintf(dir, sizeof dir, "/tmp/strata-project-test.XXXXXX");
    if (mkdtemp(dir) == NULL)
        return false;
    char sub[96];
    snprintf(sub, sizeof sub, "%s/pkg", dir);
    if (mkdir(sub, 0755) != 0)
        return false;
    for (size_t i = 0; i < N_FILES; i++) {
        snprintf(paths[i], 128, "%s/%s", dir, names[i]);
        pp[i] = paths[i];
        int fd = open(paths[i], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0)
            return false;
        bool ok = write(fd, texts[i], strlen(texts[i])) == (ssize_t)strlen(texts[i]);
        close(fd);
        if (!ok)
            return false;
    }
    return true;
}

static const report_rules_t all_rules = {0};

/* A run over the fixture project, its files scanned (files: the run's
 * file table, borrowed by it); NULL when that fails. */
static run_t *scanned_run(const char *const *paths, run_file_t files[N_FILES])
{
    run_opts_t ropts = {.files = files, .n_files = N_FILES, .jobs = 1};
    run_t *run;
    st_err_t err = {0};

    for (size_t i = 0; i < N_FILES; i++)
        files[i] = (run_file_t){
            .path = paths[i], .size = strlen(texts[i]), .kind = scan_kind_of_path(paths[i])};
    if ((run = run_new(&ropts, NULL)) != NULL && run_scans(run, &err) != ST_OK)
        run_destroy(&run);
    return run;
}

/* The report as text (malloc'd), or NULL. */
static char *report_text(report_t *r)
{
    char *text = NULL;
    size_t size = 0, nd = 0, nf = 0;
    st_err_t err = {0};
    FILE *f = open_memstream(&text, &size);

    if (f == NULL)
        return NULL;
    if (report_write(r, REPORT_FORMAT_TEXT, f, &nd, &nf, &err) != ST_OK)
        CHECK(!"report_write");
    fclose(f);
    return text;
}

/* Scans and checks the project; the report's text (malloc'd) or NULL.
 * *rc gets project_check's result. */
static char *check_project(const char *const *paths, unsigned jobs, unsigned shuffle, long fail_at,
                           st_rc_t *rc, bool *fired)
{
    run_file_t files[N_FILES];
    run_t *run = scanned_run(paths, files);
    report_t *r = report_new(&all_rules);
    const char *args[] = {dir};
    project_opts_t popts = {.args = args, .n_args = 1, .jobs = jobs, .shuffle = shuffle};
    char *text = NULL;
    st_err_t err = {0};

    *rc = ST_EINTERNAL;
    if (run != NULL && r != NULL) {
        alloc_fail_after(fail_at);
        *rc = project_check(run_project(run), &popts, r, NULL, &err);
        if (fired != NULL)
            *fired = fail_at >= 0 && !alloc_fail_armed();
        alloc_fail_after(-1);
        text = report_text(r);
    }
    run_destroy(&run);
    report_destroy(&r);
    return text;
}

TEST(project_same_report_whatever_jobs_and_order)
{
    char paths[N_FILES][128];
    const char *pp[N_FILES];
    st_rc_t rc;

    REQUIRE(make_project(paths, pp));
    char *ref = check_project(pp, 1, 0, -1, &rc, NULL);
    CHECK_EQ_INT(rc, ST_OK);
    REQUIRE(ref != NULL);
    /* the cross-module check ran: pkg.sub is known to use.py */
    CHECK(strstr(ref, "use.py:3:1: E1121") != NULL);
    CHECK(strstr(ref, "use.py:4:1: E1101 Module 'pkg.sub' has no 'nothing' member") != NULL);
    for (unsigned jobs = 1; jobs <= 3; jobs++)
        for (unsigned seed = 1; seed <= 12; seed++) {
            char *out = check_project(pp, jobs, seed, -1, &rc, NULL);
            CHECK_EQ_INT(rc, ST_OK);
            CHECK_STREQ(out, ref);
            free(out);
        }
    free(ref);
    tmpdir_remove(dir);
}

/* Out of memory at each allocation of project_check in turn: ST_ENOMEM or
 * ST_OK (an E902 on the files of a job that failed), never a crash or a
 * report entry read from a copy that was not made (ASan). */
TEST(project_check_out_of_memory_at_each_allocation)
{
    char paths[N_FILES][128];
    const char *pp[N_FILES];
    st_rc_t rc;
    long n;
    bool fired = true;

    REQUIRE(make_project(paths, pp));
    for (n = 0; n < 5000 && fired; n++) {
        char *out = check_project(pp, 1, 0, n, &rc, &fired);
        CHECK(rc == ST_OK || rc == ST_ENOMEM);
        CHECK(out != NULL);
        free(out);
    }
    CHECK(!fired); /* every allocation was made to fail once */
    CHECK(n > 10);
    tmpdir_remove(dir);
}

/* A scan whose diagnostics cannot be copied: the file keeps none (not a
 * count of them without the copy, which the report would read). */
TEST(project_add_scan_out_of_memory_keeps_no_count)
{
    const char *paths[] = {"a.py"};
    project_t *p = project_new(paths, 1);
    report_t *r = report_new(&all_rules);
    scan_diag_t d = {.line = 1, .col = 1, .code = "F401", .message = "'os' imported but unused"};
    exec_done_t done = {.id = 0, .path = "a.py", .diags = &d, .n_diags = 1};
    const char *args[] = {"."};
    project_opts_t popts = {.args = args, .n_args = 1, .jobs = 1};
    st_err_t err = {0};
    char *text = NULL;
    size_t size = 0, nd = 0, nf = 0;

    REQUIRE(p != NULL && r != NULL);
    alloc_fail_after(0);
    CHECK_EQ_INT(project_add_scan(p, &done, &err), ST_ENOMEM);
    alloc_fail_after(-1);
    CHECK_EQ_INT(project_check(p, &popts, r, NULL, &err), ST_OK);
    FILE *f = open_memstream(&text, &size);
    REQUIRE(f != NULL);
    CHECK_EQ_INT(report_write(r, REPORT_FORMAT_TEXT, f, &nd, &nf, &err), ST_OK);
    fclose(f);
    CHECK_EQ_INT(nd, 0);
    free(text);
    /* and a scan that fits is kept */
    CHECK_EQ_INT(project_add_scan(p, &done, &err), ST_OK);
    project_destroy(&p);
    report_destroy(&r);
}

/* The fixture project scanned, and its graph written in format fmt; the
 * text (malloc'd) or NULL. *rc gets project_write_graph's result. */
static char *graph_text(const char *const *paths, project_graph_format_t fmt, st_rc_t *rc)
{
    run_file_t files[N_FILES];
    run_t *run = scanned_run(paths, files);
    const char *args[] = {dir};
    project_opts_t popts = {.args = args, .n_args = 1, .jobs = 1};
    char *text = NULL;
    size_t size = 0;
    st_err_t err = {0};
    FILE *f;

    *rc = ST_EINTERNAL;
    if (run != NULL && (f = open_memstream(&text, &size)) != NULL) {
        *rc = project_write_graph(run_project(run), &popts, fmt, f, &err);
        fclose(f);
    }
    run_destroy(&run);
    return text;
}

TEST(project_write_graph_json_and_dot)
{
    char paths[N_FILES][128];
    const char *pp[N_FILES];
    st_rc_t rc;

    REQUIRE(make_project(paths, pp));
    char *json = graph_text(pp, PROJECT_GRAPH_JSON, &rc);
    CHECK_EQ_INT(rc, ST_OK);
    REQUIRE(json != NULL);
    CHECK(strncmp(json, "{\"roots\":[", 10) == 0);
    CHECK(strstr(json, "{\"name\":\"pkg.sub\",\"file\":") != NULL);
    CHECK(strstr(json, "\"imports\":[\"pkg\",\"pkg.sub\"]") != NULL);
    CHECK(strstr(json, "\n\"layers\":") != NULL);
    free(json);
    char *dot = graph_text(pp, PROJECT_GRAPH_DOT, &rc);
    CHECK_EQ_INT(rc, ST_OK);
    REQUIRE(dot != NULL);
    CHECK(strncmp(dot, "digraph strata {\n", 17) == 0);
    CHECK(strstr(dot, "  \"use\" -> \"pkg.sub\";\n") != NULL);
    free(dot);
    tmpdir_remove(dir);
}

/* A stream that cannot be written: ST_EIO. */
TEST(project_write_graph_write_error)
{
    const char *paths[] = {"a.py"};
    const char *args[] = {"."};
    project_opts_t popts = {.args = args, .n_args = 1, .jobs = 1};
    project_t *p = project_new(paths, 1);
    FILE *ro = fopen("/dev/null", "r");
    st_err_t err = {0};

    REQUIRE(p != NULL && ro != NULL);
    CHECK_EQ_INT(project_write_graph(p, &popts, PROJECT_GRAPH_JSON, ro, &err), ST_EIO);
    fclose(ro);
    project_destroy(&p);
}

/* project_explain_scans on a one-file project scanned with key byte k
 * (cached: a cache hit, not a scan); what it printed (malloc'd). */
static char *explain_scan(cas_t *cache, uint8_t k, bool cached)
{
    const char *paths[] = {"a.py"};
    project_t *p = project_new(paths, 1);
    exec_done_t done = {.id = 0, .path = "a.py", .cached = cached, .has_key = true};
    char *text = NULL;
    size_t size = 0;
    st_err_t err = {0};

    memset(done.key.b, k, sizeof done.key.b);
    FILE *f = open_memstream(&text, &size);
    if (p == NULL || f == NULL || project_add_scan(p, &done, &err) != ST_OK ||
        project_explain_scans(p, cache, f, &err) != ST_OK)
        CHECK(!"explain_scan");
    if (f != NULL)
        fclose(f);
    project_destroy(&p);
    return text;
}

TEST(project_explain_scans_says_why)
{
    cas_t *cache = tmpdir_cache();
    char *out;

    REQUIRE(cache != NULL);
    CHECK_STREQ((out = explain_scan(NULL, 1, false)), "explain: scan a.py: no cache\n");
    free(out);
    CHECK_STREQ((out = explain_scan(cache, 1, false)), "explain: scan a.py: no cache entry\n");
    free(out);
    CHECK_STREQ((out = explain_scan(cache, 1, false)),
                "explain: scan a.py: no cache entry (evicted, cleared or corrupt)\n");
    free(out);
    CHECK_STREQ((out = explain_scan(cache, 2, false)), "explain: scan a.py: new content\n");
    free(out);
    CHECK_STREQ((out = explain_scan(cache, 3, true)), ""); /* a cache hit: not scanned */
    free(out);
    cas_close(&cache);
}

/* A one-file project keyed with key byte k and checked with cache: its
 * report's text (malloc'd); *hit gets project_keyed's answer, *whole
 * stats.whole. scan_failed: a scan job failed. */
static char *whole_run(cas_t *cache, uint8_t k, bool scan_failed, bool *hit, bool *whole)
{
    const char *paths[] = {"a.py"};
    const char *args[] = {"."};
    project_opts_t popts = {.args = args, .n_args = 1, .jobs = 1, .cache = cache};
    project_t *p = project_new(paths, 1);
    report_t *r = report_new(&all_rules);
    scan_diag_t d = {.line = 1, .col = 8, .code = "F401", .message = "'os' imported but unused"};
    exec_done_t done = {.id = 0, .path = "a.py", .diags = &d, .n_diags = 1, .has_key = true};
    exec_keyed_t keyed = {.id = 0, .ok = true};
    project_stats_t stats = {0};
    char *text;
    st_err_t err = {0};

    memset(done.key.b, k, sizeof done.key.b);
    keyed.key = done.key;
    if (p == NULL || r == NULL) {
        project_destroy(&p);
        report_destroy(&r);
        return NULL;
    }
    *hit = project_keyed(p, &popts, &keyed, 1);
    if (!*hit && project_add_scan(p, &done, &err) != ST_OK)
        CHECK(!"project_add_scan");
    if (scan_failed)
        project_scan_failed(p);
    CHECK_EQ_INT(project_check(p, &popts, r, &stats, &err), ST_OK);
    *whole = stats.whole;
    text = report_text(r);
    project_destroy(&p);
    report_destroy(&r);
    return text;
}

/* The whole run's diagnostics are stored after a complete run and come
 * back in one piece, the same report; not stored when a scan failed. */
TEST(project_whole_record_round_trip)
{
    cas_t *cache = tmpdir_cache();
    bool hit = true, whole = true;
    char *first, *again, *out;

    REQUIRE(cache != NULL);
    first = whole_run(cache, 1, false, &hit, &whole);
    CHECK(!hit && !whole);
    REQUIRE(first != NULL);
    CHECK(strstr(first, "a.py:1:8: F401") != NULL);
    again = whole_run(cache, 1, false, &hit, &whole);
    CHECK(hit && whole);
    CHECK_STREQ(again, first);
    free(again);
    out = whole_run(cache, 2, true, &hit, &whole);
    CHECK(!hit && !whole);
    free(out);
    out = whole_run(cache, 2, false, &hit, &whole);
    CHECK(!hit && !whole); /* the failed run stored nothing */
    free(out);
    free(first);
    cas_close(&cache);
}
