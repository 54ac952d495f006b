/* test_library.c - a run with an environment: the standard library's stubs
 * and a site-packages directory made on the disk (run/libfind.h over an
 * env_t filled by hand), library modules found from the project's imports
 * and theirs, checked and never reported; E0401 for a package the
 * environment lacks, nothing for an open one; the whole run cached with
 * the library files it read, and found stale when one of them changes; the
 * finder asked a round at a time, with the answers of asking one name at a
 * time, and its failure the run's. */
#include "test.h"

#include "run/libfind.h"
#include "run/run.h"
#include "tests/run/tmpdir.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char dir[64];
static const report_rules_t all_rules = {0};

static void put(const char *name, const char *text)
{
    char path[256], sub[256];

    /* the directories on the way */
    for (const char *s = strchr(name, '/'); s != NULL; s = strchr(s + 1, '/')) {
        snprintf(sub, sizeof sub, "%s/%.*s", dir, (int)(s - name), name);
        mkdir(sub, 0755);
    }
    tmpdir_write(dir, name, text, path, sizeof path);
}

typedef struct {
    env_t env;
    libfind_t *lf;
    const lib_finder_t *finder; /* NULL: libfind_finder(lf) */
    st_err_t err;               /* the last run's error */
    char stubs[128], site[128];
    char *paths[1];
} fake_env_t;

static bool fake_env(fake_env_t *e)
{
    st_err_t err = {0};

    memset(e, 0, sizeof *e);
    snprintf(e->stubs, sizeof e->stubs, "%s/ts/stdlib", dir);
    snprintf(e->site, sizeof e->site, "%s/site", dir);
    e->paths[0] = e->site;
    e->env = (env_t){.major = 3,
                     .minor = 11,
                     .platform = "linux",
                     .found = true,
                     .python = "/opt/fake/python3",
                     .paths = e->paths,
                     .n_paths = 1,
                     .typeshed_stdlib = e->stubs};
    if (libfind_new(&e->env, &e->lf, &err) != ST_OK) {
        fprintf(stderr, "libfind_new: %s\n", err.msg);
        return false;
    }
    return true;
}

/* Checks the project files with the environment; the text report. */
static char *check(const char *const *names, size_t n, fake_env_t *e, cas_t *cache, run_stats_t *st)
{
    run_file_t files[8];
    char paths[8][128];
    report_t *report = report_new(&all_rules);
    char *text = NULL;
    size_t size = 0, nd, nf;
    st_err_t err = {0};
    FILE *f;

    for (size_t i = 0; i < n; i++) {
        snprintf(paths[i], sizeof paths[i], "%s/proj/%s", dir, names[i]);
        files[i] = (run_file_t){.path = paths[i], .kind = scan_kind_of_path(paths[i])};
    }
    char root[128];
    snprintf(root, sizeof root, "%s/proj", dir);
    lib_finder_t finder = libfind_finder(e->lf);
    run_opts_t o = {.files = files,
                    .n_files = n,
                    .jobs = 2,
                    .cache = cache,
                    .whole = true,
                    .roots = (const char *const[]){root},
                    .n_roots = 1,
                    .finder = e->finder != NULL ? e->finder
                              : e->lf != NULL   ? &finder
                                                : NULL,
                    .env_found = e->env.found,
                    .python = e->env.python,
                    .env_key = "fake"};
    run_t *run = report != NULL ? run_new(&o, NULL) : NULL;
    if (run != NULL && run_scans(run, &err) == ST_OK && run_check(run, report, &err) == ST_OK &&
        (f = open_memstream(&text, &size)) != NULL) {
        report_write(report, REPORT_FORMAT_TEXT, f, &nd, &nf, NULL);
        fclose(f);
    } else if (err.msg[0] != '\0' && e->finder == NULL) {
        fprintf(stderr, "run: %s\n", err.msg);
    }
    e->err = err;
    if (run != NULL) {
        run_finish(run);
        if (st != NULL)
            run_stats(run, st);
    }
    run_destroy(&run);
    report_destroy(&report);
    return text;
}

static bool has_line(const char *text, const char *needle)
{
    return text != NULL && strstr(text, needle) != NULL;
}

static void make_env_tree(void)
{
    put("ts/stdlib/VERSIONS", "# a comment\nos: 3.0-\njson: 3.0-\nnewmod: 3.12-\n");
    put("ts/stdlib/os/__init__.pyi", "import sys\nfrom . import path as path\n"
                                     "def getcwd() -> str: ...\n"
                                     "def listdir(path: str = ...) -> list[str]: ...\n"
                                     "if sys.platform == 'win32':\n"
                                     "    def startfile(path: str) -> None: ...\n"
                                     "copyright: str\n");
    put("ts/stdlib/os/path.pyi", "def join(a: str, *paths: str) -> str: ...\n"
                                 "def exists(path: str) -> bool: ...\n");
    put("ts/stdlib/json/__init__.pyi", "from typing import Any\n"
                                       "def dumps(obj: Any, *, indent: int = ...) -> str: ...\n");
    put("ts/stdlib/newmod.pyi", "def f() -> None: ...\n");
    put("site/pkg/__init__.py", "import os\nfrom .impl import helper\n\n"
                                "def f(a, b):\n    return undefined_in_library\n");
    put("site/pkg/impl.py", "def helper(x):\n    return x\n");
    put("site/ext.cpython-311-x86_64-linux-gnu.so", "\x7f"
                                                    "ELF");
    put("proj/app.py", "import os\n"
                       "import json\n"
                       "import pkg\n"
                       "import ext\n"
                       "import notinstalled\n"
                       "from os import nope\n"
                       "try:\n"
                       "    import alsonot\n"
                       "except ImportError:\n"
                       "    alsonot = None\n"
                       "os.getcwdx()\n"
                       "os.path.joinx('a')\n"
                       "os.getcwd(1)\n"
                       "json.dumps({}, 2)\n"
                       "pkg.f(1, 2, 3)\n"
                       "pkg.g()\n"
                       "pkg.helper(1)\n"
                       "ext.anything()\n"
                       "os.path.join('a', 'b', 'c')\n"
                       "print(os.listdir(), json.dumps({}, indent=2), pkg.f(1, 2))\n"
                       "os.startfile('x'), os.copyright\n");
    put("proj/old.py", "import newmod\n");
}

/* The scratch directory with the tree and its environment; false (said)
 * when it cannot be made. */
static bool setup(fake_env_t *e)
{
    if (!tmpdir_make(dir))
        return false;
    make_env_tree();
    if (!fake_env(e)) {
        CHECK(!"libfind");
        tmpdir_remove(dir);
        return false;
    }
    return true;
}

TEST(library_modules_checked_never_reported)
{
    fake_env_t e;
    const char *names[] = {"app.py", "old.py"};

    if (!setup(&e))
        return;
    char *text = check(names, 2, &e, NULL, NULL);
    CHECK(text != NULL);
    CHECK(has_line(text, "app.py:5:1: E0401 Unable to import 'notinstalled' (not installed for "
                         "/opt/fake/python3)"));
    CHECK(has_line(text, "app.py:6:1: E0611 No name 'nope' in module 'os'"));
    CHECK(has_line(text, "app.py:11:1: E1101 Module 'os' has no 'getcwdx' member"));
    CHECK(has_line(text, "app.py:12:1: E1101 Module 'os.path' has no 'joinx' member"));
    CHECK(has_line(text, "app.py:13:1: E1121"));
    CHECK(has_line(text, "app.py:14:1: E1121"));
    CHECK(has_line(text, "app.py:15:1: E1121"));
    CHECK(has_line(text, "app.py:16:1: E1101 Module 'pkg' has no 'g' member"));
    CHECK(has_line(text, "old.py:1:1: E0401 Unable to import 'newmod'")); /* 3.12 and later */
    CHECK(!has_line(text, "alsonot"));
    CHECK(!has_line(text, "ext"));
    CHECK(!has_line(text, "app.py:17:"));
    CHECK(!has_line(text, "app.py:19:"));
    CHECK(!has_line(text, "app.py:20:"));
    CHECK(!has_line(text, "app.py:21:")); /* win32's, and a declared builtin name */
    CHECK(!has_line(text, "site/"));      /* the library's own F821 is never reported */
    CHECK(!has_line(text, "ts/"));
    free(text);
    libfind_destroy(&e.lf);
    tmpdir_remove(dir);
}

TEST(library_whole_run_stale_when_a_library_file_changes)
{
    fake_env_t e;
    const char *names[] = {"app.py", "old.py"};
    run_stats_t st;
    cas_t *cache;

    if (!tmpdir_make(dir))
        return;
    make_env_tree();
    if (!fake_env(&e) || (cache = tmpdir_cache()) == NULL) {
        CHECK(!"setup");
        tmpdir_remove(dir);
        return;
    }
    char *first = check(names, 2, &e, cache, &st);
    CHECK(!st.whole);
    char *second = check(names, 2, &e, cache, &st);
    CHECK(st.whole);
    CHECK(first != NULL && second != NULL && strcmp(first, second) == 0);
    free(second);
    /* the package grows g: the cached run is stale */
    put("site/pkg/__init__.py", "import os\nfrom .impl import helper\n\n"
                                "def f(a, b):\n    return 1\n\ndef g():\n    return 2\n");
    libfind_destroy(&e.lf);
    CHECK(fake_env(&e));
    char *third = check(names, 2, &e, cache, &st);
    CHECK(!st.whole);
    CHECK(third != NULL && !has_line(third, "has no 'g' member"));
    CHECK(has_line(third, "has no 'getcwdx' member"));
    free(first);
    free(third);
    libfind_destroy(&e.lf);
    cas_close(&cache);
    tmpdir_remove(dir);
}

/* A module another module replaces in sys.modules (as Twisted installs its
 * reactor) is open, and a replaced name below a package exists. */
TEST(library_replaced_modules_are_open)
{
    fake_env_t e;
    const char *names[] = {"app.py", "inst.py", "old.py"};

    if (!tmpdir_make(dir))
        return;
    make_env_tree();
    put("proj/inst.py", "import sys\n"
                        "sys.modules['pkg'] = object()\n"
                        "sys.modules['pkg.virtual'] = object()\n");
    put("proj/old.py", "import pkg.virtual\nimport pkg.other\n");
    if (!fake_env(&e)) {
        CHECK(!"libfind");
        tmpdir_remove(dir);
        return;
    }
    char *text = check(names, 3, &e, NULL, NULL);
    CHECK(text != NULL);
    CHECK(!has_line(text, "has no 'g' member"));
    CHECK(!has_line(text, "import 'pkg.virtual'"));
    CHECK(!has_line(text, "import 'pkg.other'")); /* below a replaced module: unknown */
    CHECK(has_line(text, "has no 'getcwdx' member"));
    free(text);
    libfind_destroy(&e.lf);
    tmpdir_remove(dir);
}

/* A finder that counts its calls and hands them to libfind, or fails. */
typedef struct {
    libfind_t *lf;
    size_t modules_calls, names, stdlib_calls;
    bool fail;
} counting_t;

static st_rc_t counting_modules(void *ctx, const lib_name_t *names, size_t n, lib_found_t *out,
                                st_err_t *err)
{
    counting_t *c = ctx;
    lib_finder_t inner = libfind_finder(c->lf);

    c->modules_calls++;
    c->names += n;
    for (size_t i = 0; i < n; i++)
        CHECK(names[i].len > 0 && names[i].name[0] != '.' &&
              names[i].name[names[i].len - 1] != '.');
    if (c->fail)
        return st_fail(err, ST_EIO, "the finder's client is gone");
    return inner.modules(inner.ctx, names, n, out, err);
}

static st_rc_t counting_is_stdlib(void *ctx, const lib_name_t *tops, size_t n, bool *stdlib,
                                  st_err_t *err)
{
    counting_t *c = ctx;
    lib_finder_t inner = libfind_finder(c->lf);

    c->stdlib_calls++;
    return inner.is_stdlib(inner.ctx, tops, n, stdlib, err);
}

TEST(library_finder_asked_a_round_at_a_time)
{
    fake_env_t e;
    const char *names[] = {"app.py", "old.py"};
    counting_t c = {0};
    lib_finder_t counting = {
        .modules = counting_modules, .is_stdlib = counting_is_stdlib, .ctx = &c};

    if (!setup(&e))
        return;
    char *plain = check(names, 2, &e, NULL, NULL);
    c.lf = e.lf;
    e.finder = &counting;
    char *counted = check(names, 2, &e, NULL, NULL);
    /* the same report as libfind's own, from one call per round: the
     * project's imports, then the library files' (pkg's os and .impl) */
    CHECK(plain != NULL && counted != NULL && strcmp(plain, counted) == 0);
    CHECK(c.stdlib_calls == 1);
    CHECK(c.modules_calls >= 2 && c.modules_calls <= 3);
    CHECK(c.names >= 8);
    free(plain);
    free(counted);

    /* a finder that fails ends the run with its error */
    c.fail = true;
    counted = check(names, 2, &e, NULL, NULL);
    CHECK(counted == NULL && strstr(e.err.msg, "client is gone") != NULL);
    free(counted);
    libfind_destroy(&e.lf);
    tmpdir_remove(dir);
}
