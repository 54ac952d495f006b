/* test_project.c - the whole-project stage: a real project scanned into a
 * project_t and checked, its report the same whatever the thread count and
 * job order, and out-of-memory at every allocation leaving nothing that the
 * report would read out of bounds. */
#include "test.h"

#include "common/alloc.h"
#include "run/project.h"
#include "run/run.h"
#include "run/report.h"
#include "run/exec.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define N_FILES 5

static char dir[64];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

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

static bool make_project(char paths[N_FILES][128])
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

/* Scans and checks the project; the report's text (malloc'd) or NULL.
 * *rc gets project_check's result. */
static char *check_project(const char *const *paths, unsigned jobs, unsigned shuffle, long fail_at,
                           st_rc_t *rc, bool *fired)
{
    run_file_t files[N_FILES];
    run_opts_t ropts = {.files = files, .n_files = N_FILES, .jobs = 1};
    run_t *run;
    project_t *p;
    report_t *r = report_new(&all_rules);
    const char *args[] = {dir};
    project_opts_t popts = {.args = args, .n_args = 1, .jobs = jobs, .shuffle = shuffle};
    char *text = NULL;
    size_t size = 0, nd = 0, nf = 0;
    st_err_t err = {0};

    *rc = ST_EINTERNAL;
    for (size_t i = 0; i < N_FILES; i++)
        files[i] = (run_file_t){
            .path = paths[i], .size = strlen(texts[i]), .kind = scan_kind_of_path(paths[i])};
    run = run_new(&ropts, NULL);
    p = run != NULL ? run_project(run) : NULL;
    if (p == NULL || r == NULL) {
        run_destroy(&run);
        report_destroy(&r);
        return NULL;
    }
    if (run_scans(run, &err) == ST_OK) {
        alloc_fail_after(fail_at);
        *rc = project_check(p, &popts, r, NULL, &err);
        if (fired != NULL)
            *fired = fail_at >= 0 && !alloc_fail_armed();
        alloc_fail_after(-1);
        FILE *f = open_memstream(&text, &size);
        if (f != NULL) {
            if (report_write(r, REPORT_FORMAT_TEXT, f, &nd, &nf, &err) != ST_OK)
                CHECK(!"report_write");
            fclose(f);
        }
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

    REQUIRE(make_project(paths));
    for (size_t i = 0; i < N_FILES; i++)
        pp[i] = paths[i];
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
    nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
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

    REQUIRE(make_project(paths));
    for (size_t i = 0; i < N_FILES; i++)
        pp[i] = paths[i];
    for (n = 0; n < 5000 && fired; n++) {
        char *out = check_project(pp, 1, 0, n, &rc, &fired);
        CHECK(rc == ST_OK || rc == ST_ENOMEM);
        CHECK(out != NULL);
        free(out);
    }
    CHECK(!fired); /* every allocation was made to fail once */
    CHECK(n > 10);
    nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
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
