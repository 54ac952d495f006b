/* test_libfind.c - where library modules come from (run/libfind.c): fixture
 * trees of stubs, an interpreter's standard library and site directories
 * built in a temporary directory, then the real typeshed copy and Debian's
 * dist-packages when this machine has them. */
#include "test.h"
#include "tmpdir.h"

#include "common/alloc.h"
#include "run/libfind.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Creates root/rel (its parent directories too) holding text; rel ending
 * in '/' makes a directory. */
static void fx(const char *root, const char *rel, const char *text)
{
    char path[512];
    size_t n;

    snprintf(path, sizeof path, "%s/%s", root, rel);
    n = strlen(root) + 1;
    for (char *p = path + n; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(path, 0755) != 0 && errno != EEXIST)
                CHECK(!"mkdir");
            *p = '/';
        }
    if (rel[strlen(rel) - 1] != '/') {
        char dummy[512];

        tmpdir_write(root, rel, text, dummy, sizeof dummy);
    }
}

/* A fixture environment over dir: stubs/ (typeshed's layout: VERSIONS and
 * .pyi files), lib/python3.11 (the interpreter's sources, with
 * lib-dynload), site1 and site2. */
typedef struct {
    char dir[64];
    char stubs[128], stdlib[128], dynload[128], site1[128], site2[128];
    char *paths[4];
    env_t env;
} fixture_t;

static const char versions_text[] = "# the standard library\n"
                                    "\n"
                                    "foo: 3.0-        # a package\n"
                                    "foo.new: 3.11-\n"
                                    "gone: 3.0-3.9\n"
                                    "builtinmod: 3.0-\n"
                                    "asyncore: 3.0-3.11\n";

static bool fixture_make(fixture_t *f, unsigned major, unsigned minor)
{
    memset(f, 0, sizeof *f);
    if (!tmpdir_make(f->dir))
        return false;
    snprintf(f->stubs, sizeof f->stubs, "%s/stubs", f->dir);
    snprintf(f->stdlib, sizeof f->stdlib, "%s/lib/python3.11", f->dir);
    snprintf(f->dynload, sizeof f->dynload, "%s/lib/python3.11/lib-dynload", f->dir);
    snprintf(f->site1, sizeof f->site1, "%s/site1", f->dir);
    snprintf(f->site2, sizeof f->site2, "%s/site2", f->dir);
    fx(f->dir, "stubs/VERSIONS", versions_text);
    fx(f->dir, "stubs/foo/__init__.pyi", "");
    fx(f->dir, "stubs/foo/new.pyi", "");
    fx(f->dir, "stubs/foo/old.pyi", "");
    fx(f->dir, "stubs/gone.pyi", "");
    fx(f->dir, "stubs/asyncore.pyi", "");
    fx(f->dir, "lib/python3.11/foo/__init__.py", "");
    fx(f->dir, "lib/python3.11/foo/extra.py", "");
    fx(f->dir, "lib/python3.11/srcmod.py", "");
    fx(f->dir, "lib/python3.11/lib-dynload/_speedy.cpython-311-x86_64-linux-gnu.so", "");
    fx(f->dir, "site1/", "");
    fx(f->dir, "site2/", "");
    f->paths[0] = f->stdlib;
    f->paths[1] = f->dynload;
    f->paths[2] = f->site1;
    f->paths[3] = f->site2;
    f->env.major = major;
    f->env.minor = minor;
    strcpy(f->env.platform, "linux");
    f->env.found = true;
    f->env.paths = f->paths;
    f->env.n_paths = 4;
    f->env.stdlib_dir = f->stdlib;
    f->env.typeshed_stdlib = f->stubs;
    return true;
}

static lib_module_t find(libfind_t *lf, const char *dotted)
{
    return libfind_module(lf, dotted, strlen(dotted));
}

/* Whether m is a file ending in suffix (a path below the fixture). */
static bool is_file(lib_module_t m, const char *suffix)
{
    size_t n = strlen(suffix);

    return m.kind == LIB_FILE && m.path != NULL && strlen(m.path) >= n &&
           strcmp(m.path + strlen(m.path) - n, suffix) == 0;
}

TEST(libfind_versions_ranges)
{
    fixture_t f;
    libfind_t *lf = NULL;
    lib_module_t m;

    REQUIRE(fixture_make(&f, 3, 10));
    REQUIRE(libfind_new(&f.env, &lf, NULL) == ST_OK);
    m = find(lf, "foo");
    CHECK(is_file(m, "/stubs/foo/__init__.pyi"));
    CHECK(m.from == LIB_FROM_STUBS && m.stdlib && m.package);
    CHECK(is_file(find(lf, "foo.old"), "/stubs/foo/old.pyi"));
    /* foo.new is 3.11-: absent at 3.10, though its stub is there */
    CHECK_EQ_INT(find(lf, "foo.new").kind, LIB_ABSENT);
    CHECK(is_file(find(lf, "foo.old"), "/stubs/foo/old.pyi"));
    /* gone: 3.0-3.9 */
    CHECK_EQ_INT(find(lf, "gone").kind, LIB_ABSENT);
    CHECK(libfind_is_stdlib(lf, "foo", 3));
    CHECK(!libfind_is_stdlib(lf, "gone", 4));
    CHECK(!libfind_is_stdlib(lf, "srcmod", 6)); /* VERSIONS does not list it */
    CHECK(!libfind_is_stdlib(lf, "foo.old", 7));
    libfind_destroy(&lf);
    CHECK(lf == NULL);
    libfind_destroy(&lf);

    f.env.minor = 11;
    REQUIRE(libfind_new(&f.env, &lf, NULL) == ST_OK);
    CHECK(is_file(find(lf, "foo.new"), "/stubs/foo/new.pyi"));
    CHECK_EQ_INT(find(lf, "gone").kind, LIB_ABSENT);
    libfind_destroy(&lf);

    f.env.minor = 9;
    REQUIRE(libfind_new(&f.env, &lf, NULL) == ST_OK);
    CHECK(is_file(find(lf, "gone"), "/stubs/gone.pyi"));
    CHECK(libfind_is_stdlib(lf, "gone", 4));
    libfind_destroy(&lf);
    tmpdir_remove(f.dir);
}

TEST(libfind_stdlib_sources)
{
    fixture_t f;
    libfind_t *lf = NULL;
    lib_module_t m;

    REQUIRE(fixture_make(&f, 3, 11));
    REQUIRE(libfind_new(&f.env, &lf, NULL) == ST_OK);
    /* not in the stubs: the interpreter's sources */
    m = find(lf, "srcmod");
    CHECK(is_file(m, "/lib/python3.11/srcmod.py"));
    CHECK(m.from == LIB_FROM_STDLIB_SRC && m.stdlib && !m.package);
    /* a submodule typeshed lacks: from the sources of the same package */
    m = find(lf, "foo.extra");
    CHECK(is_file(m, "/lib/python3.11/foo/extra.py"));
    CHECK(m.from == LIB_FROM_STDLIB_SRC && m.stdlib);
    CHECK_EQ_INT(find(lf, "foo.nothing").kind, LIB_ABSENT);
    /* an extension module in lib-dynload */
    m = find(lf, "_speedy");
    CHECK(m.kind == LIB_OPEN && m.from == LIB_FROM_STDLIB_SRC && m.stdlib);
    CHECK(find(lf, "_speedy.x").kind == LIB_OPEN);
    /* listed, no stub, no source: built into the interpreter */
    m = find(lf, "builtinmod");
    CHECK(m.kind == LIB_OPEN && m.stdlib);
    libfind_destroy(&lf);

    /* sys.path without the stdlib directories: they are still looked at */
    f.env.paths = f.paths + 2;
    f.env.n_paths = 2;
    REQUIRE(libfind_new(&f.env, &lf, NULL) == ST_OK);
    CHECK(is_file(find(lf, "srcmod"), "/lib/python3.11/srcmod.py"));
    CHECK(find(lf, "_speedy").kind == LIB_OPEN);
    libfind_destroy(&lf);
    tmpdir_remove(f.dir);
}

TEST(libfind_removed_stdlib_module_from_site)
{
    fixture_t f;
    libfind_t *lf = NULL;
    lib_module_t m;

    /* asyncore left the standard library in 3.12; a backport installs it */
    REQUIRE(fixture_make(&f, 3, 12));
    fx(f.dir, "lib/python3.11/asyncore.py", "");
    REQUIRE(libfind_new(&f.env, &lf, NULL) == ST_OK);
    CHECK_EQ_INT(find(lf, "asyncore").kind, LIB_ABSENT); /* not the 3.11 sources */
    libfind_destroy(&lf);
    fx(f.dir, "site2/asyncore.py", "");
    REQUIRE(libfind_new(&f.env, &lf, NULL) == ST_OK);
    m = find(lf, "asyncore");
    CHECK(is_file(m, "/site2/asyncore.py"));
    CHECK(m.from == LIB_FROM_SITE && !m.stdlib);
    libfind_destroy(&lf);
    tmpdir_remove(f.dir);
}

TEST(libfind_stub_packages)
{
    fixture_t f;
    libfind_t *lf = NULL;
    lib_module_t m;

    REQUIRE(fixture_make(&f, 3, 11));
    /* complete stubs in site2, the runtime package in site1 */
    fx(f.dir, "site2/full-stubs/__init__.pyi", "");
    fx(f.dir, "site2/full-stubs/a.pyi", "");
    fx(f.dir, "site1/full/__init__.py", "");
    fx(f.dir, "site1/full/a.py", "");
    fx(f.dir, "site1/full/b.py", "");
    /* partial stubs */
    fx(f.dir, "site1/part-stubs/__init__.pyi", "");
    fx(f.dir, "site1/part-stubs/py.typed", "# stubs\n  partial  \n");
    fx(f.dir, "site1/part-stubs/a.pyi", "");
    fx(f.dir, "site1/part-stubs/sub/__init__.pyi", "");
    fx(f.dir, "site2/part/__init__.py", "");
    fx(f.dir, "site2/part/b.py", "");
    fx(f.dir, "site2/part/sub/__init__.py", "");
    fx(f.dir, "site2/part/sub/deep.py", "");
    /* py.typed without `partial`, and a -stubs directory without __init__.pyi */
    fx(f.dir, "site1/typed-stubs/__init__.pyi", "");
    fx(f.dir, "site1/typed-stubs/py.typed", "partially\n");
    fx(f.dir, "site2/typed/b.py", "");
    fx(f.dir, "site1/loose-stubs/x.pyi", "");
    fx(f.dir, "site2/loose.py", "");
    REQUIRE(libfind_new(&f.env, &lf, NULL) == ST_OK);

    m = find(lf, "full");
    CHECK(is_file(m, "/site2/full-stubs/__init__.pyi"));
    CHECK(m.from == LIB_FROM_STUB_PACKAGE && m.package && !m.stdlib);
    CHECK(is_file(find(lf, "full.a"), "/site2/full-stubs/a.pyi"));
    CHECK_EQ_INT(find(lf, "full.b").kind, LIB_ABSENT); /* not partial */

    CHECK(is_file(find(lf, "part"), "/site1/part-stubs/__init__.pyi"));
    CHECK(is_file(find(lf, "part.a"), "/site1/part-stubs/a.pyi"));
    m = find(lf, "part.b");
    CHECK(is_file(m, "/site2/part/b.py"));
    CHECK(m.from == LIB_FROM_SITE);
    CHECK(is_file(find(lf, "part.sub"), "/site1/part-stubs/sub/__init__.pyi"));
    CHECK(is_file(find(lf, "part.sub.deep"), "/site2/part/sub/deep.py"));
    CHECK_EQ_INT(find(lf, "part.none").kind, LIB_ABSENT);

    CHECK(is_file(find(lf, "typed"), "/site1/typed-stubs/__init__.pyi"));
    CHECK_EQ_INT(find(lf, "typed.b").kind, LIB_ABSENT);
    CHECK(is_file(find(lf, "loose"), "/site2/loose.py"));
    libfind_destroy(&lf);
    tmpdir_remove(f.dir);
}

TEST(libfind_namespace_packages)
{
    fixture_t f;
    libfind_t *lf = NULL;
    lib_module_t m;

    REQUIRE(fixture_make(&f, 3, 11));
    fx(f.dir, "site1/ns/x.py", "");
    fx(f.dir, "site2/ns/y.py", "");
    fx(f.dir, "site2/ns/inner/z.pyi", "");
    fx(f.dir, "site1/ns/inner/w.py", "");
    /* a directory without __init__ first, a regular package later: regular */
    fx(f.dir, "site1/reg/only.py", "");
    fx(f.dir, "site2/reg/__init__.py", "");
    fx(f.dir, "site2/reg/mod.py", "");
    /* a directory without __init__ first, a module later: the module */
    fx(f.dir, "site1/modlater/x.py", "");
    fx(f.dir, "site2/modlater.py", "");
    REQUIRE(libfind_new(&f.env, &lf, NULL) == ST_OK);

    m = find(lf, "ns");
    CHECK(m.kind == LIB_NAMESPACE && m.package && m.path == NULL && m.from == LIB_FROM_SITE);
    CHECK(is_file(find(lf, "ns.x"), "/site1/ns/x.py"));
    CHECK(is_file(find(lf, "ns.y"), "/site2/ns/y.py"));
    CHECK_EQ_INT(find(lf, "ns.inner").kind, LIB_NAMESPACE);
    CHECK(is_file(find(lf, "ns.inner.z"), "/site2/ns/inner/z.pyi"));
    CHECK(is_file(find(lf, "ns.inner.w"), "/site1/ns/inner/w.py"));
    CHECK_EQ_INT(find(lf, "ns.missing").kind, LIB_ABSENT);

    CHECK(is_file(find(lf, "reg"), "/site2/reg/__init__.py"));
    CHECK(is_file(find(lf, "reg.mod"), "/site2/reg/mod.py"));
    CHECK_EQ_INT(find(lf, "reg.only").kind, LIB_ABSENT);
    CHECK(is_file(find(lf, "modlater"), "/site2/modlater.py"));
    CHECK_EQ_INT(find(lf, "modlater.x").kind, LIB_ABSENT); /* a module has no submodules */
    libfind_destroy(&lf);
    tmpdir_remove(f.dir);
}

TEST(libfind_files_in_one_directory)
{
    fixture_t f;
    libfind_t *lf = NULL;
    lib_module_t m;

    REQUIRE(fixture_make(&f, 3, 11));
    fx(f.dir, "site1/inline.py", "");
    fx(f.dir, "site1/inline.pyi", "");
    fx(f.dir, "site1/both.py", "");
    fx(f.dir, "site1/both/__init__.py", "");
    fx(f.dir, "site1/both/__init__.pyi", "");
    fx(f.dir, "site1/fast.cpython-311-x86_64-linux-gnu.so", "");
    fx(f.dir, "site1/typedext.cpython-311-x86_64-linux-gnu.so", "");
    fx(f.dir, "site1/typedext.pyi", "");
    fx(f.dir, "site1/plain.so", "");
    fx(f.dir, "site1/abi.abi3.so", "");
    fx(f.dir, "site1/notmod.a.b.so", "");
    fx(f.dir, "site1/extpkg/__init__.cpython-311-x86_64-linux-gnu.so", "");
    fx(f.dir, "site1/dirpy.py/", ""); /* a directory named like a module */
    fx(f.dir, "site2/later.py", "");
    fx(f.dir, "site1/later.py", "");
    REQUIRE(libfind_new(&f.env, &lf, NULL) == ST_OK);

    CHECK(is_file(find(lf, "inline"), "/site1/inline.pyi"));
    m = find(lf, "both");
    CHECK(is_file(m, "/site1/both/__init__.pyi") && m.package);
    m = find(lf, "fast");
    CHECK(m.kind == LIB_OPEN && m.from == LIB_FROM_SITE && !m.stdlib);
    CHECK(find(lf, "fast.sub.deeper").kind == LIB_OPEN);
    CHECK(is_file(find(lf, "typedext"), "/site1/typedext.pyi"));
    CHECK(find(lf, "plain").kind == LIB_OPEN);
    CHECK(find(lf, "abi").kind == LIB_OPEN);
    CHECK_EQ_INT(find(lf, "notmod").kind, LIB_ABSENT);
    m = find(lf, "extpkg");
    CHECK(m.kind == LIB_OPEN && m.package);
    CHECK_EQ_INT(find(lf, "dirpy").kind, LIB_ABSENT);
    CHECK(is_file(find(lf, "later"), "/site1/later.py")); /* path order */
    libfind_destroy(&lf);
    tmpdir_remove(f.dir);
}

TEST(libfind_bad_directories)
{
    fixture_t f;
    libfind_t *lf = NULL;
    char *paths[5], deep[1100];
    char notdir[160], missing[160], locked[160];

    REQUIRE(fixture_make(&f, 3, 11));
    fx(f.dir, "afile", "");
    fx(f.dir, "locked/hidden.py", "");
    fx(f.dir, "site1/cyc/__init__.py", "");
    fx(f.dir, "site1/cyc/leaf.py", "");
    fx(f.dir, "site2/found.py", "");
    snprintf(notdir, sizeof notdir, "%s/afile", f.dir);
    snprintf(missing, sizeof missing, "%s/missing", f.dir);
    snprintf(locked, sizeof locked, "%s/locked", f.dir);
    CHECK(symlink("loop", strcat(strcpy(deep, f.site1), "/loop")) == 0);
    CHECK(symlink("..", strcat(strcpy(deep, f.site1), "/cyc/up")) == 0);
    CHECK(chmod(locked, 0) == 0);
    paths[0] = notdir;
    paths[1] = missing;
    paths[2] = locked;
    paths[3] = f.site1;
    paths[4] = f.site2;
    f.env.paths = paths;
    f.env.n_paths = 5;
    REQUIRE(libfind_new(&f.env, &lf, NULL) == ST_OK);

    CHECK(is_file(find(lf, "found"), "/site2/found.py"));
    if (geteuid() != 0)
        CHECK_EQ_INT(find(lf, "hidden").kind, LIB_ABSENT);
    else
        fprintf(stderr, "  libfind_bad_directories: unreadable part skipped as root\n");
    CHECK_EQ_INT(find(lf, "loop").kind, LIB_ABSENT);
    CHECK_EQ_INT(find(lf, "loop.x").kind, LIB_ABSENT);
    /* cyc/up is site1 itself: every name is finite, so is the lookup */
    CHECK(is_file(find(lf, "cyc.up.cyc.leaf"), "/site1/cyc/up/cyc/leaf.py"));
    strcpy(deep, "cyc");
    while (strlen(deep) + 7 < 1024)
        strcat(deep, ".up.cyc");
    /* past 40 symbolic links the kernel says ELOOP, as Python would hear */
    CHECK(find(lf, deep).kind == LIB_FILE || find(lf, deep).kind == LIB_ABSENT);
    libfind_destroy(&lf);
    chmod(locked, 0755);
    tmpdir_remove(f.dir);
}

TEST(libfind_names)
{
    fixture_t f;
    libfind_t *lf = NULL;
    char big[1100];

    REQUIRE(fixture_make(&f, 3, 11));
    fx(f.dir, "site1/ok/__init__.py", "");
    fx(f.dir, "site1/ok/sub.py", "");
    fx(f.dir, "site1/bad-name.py", "");
    fx(f.dir, "site1/ok/bad-sub.py", "");
    REQUIRE(libfind_new(&f.env, &lf, NULL) == ST_OK);
    CHECK(find(lf, "ok").kind == LIB_FILE);
    CHECK_EQ_INT(libfind_module(lf, "ok.sub", 2).kind, LIB_FILE); /* len counts */
    CHECK(is_file(libfind_module(lf, "ok.sub", 6), "/site1/ok/sub.py"));
    CHECK_EQ_INT(find(lf, "").kind, LIB_ABSENT);
    CHECK_EQ_INT(find(lf, ".ok").kind, LIB_ABSENT);
    CHECK_EQ_INT(find(lf, "ok.").kind, LIB_ABSENT);
    CHECK_EQ_INT(find(lf, "ok..sub").kind, LIB_ABSENT);
    CHECK_EQ_INT(find(lf, "bad-name").kind, LIB_ABSENT);
    CHECK_EQ_INT(find(lf, "ok.bad-sub").kind, LIB_ABSENT);
    CHECK_EQ_INT(find(lf, "ok/sub").kind, LIB_ABSENT);
    CHECK_EQ_INT(find(lf, "1ok").kind, LIB_ABSENT);
    memset(big, 'a', 1025);
    big[1025] = '\0';
    CHECK_EQ_INT(find(lf, big).kind, LIB_ABSENT);
    CHECK_EQ_INT(libfind_module(lf, NULL, 0).kind, LIB_ABSENT);
    CHECK_EQ_INT(libfind_module(NULL, "ok", 2).kind, LIB_ABSENT);
    CHECK(!libfind_is_stdlib(NULL, "os", 2));
    CHECK_EQ_INT(libfind_new(NULL, &lf, NULL), ST_EINVAL);
    libfind_destroy(&lf);
    tmpdir_remove(f.dir);
}

/* Writes a VERSIONS of text into the fixture; libfind_new's code and
 * message in *err. */
static st_rc_t new_with_versions(fixture_t *f, const char *text, st_err_t *err)
{
    libfind_t *lf = NULL;
    st_rc_t rc;

    fx(f->dir, "stubs/VERSIONS", text);
    memset(err, 0, sizeof *err);
    rc = libfind_new(&f->env, &lf, err);
    if (lf != NULL) {
        /* the stubs are not used: stdlib names from resolve.h's list */
        CHECK(rc == ST_OK || libfind_is_stdlib(lf, "os", 2));
        CHECK(rc == ST_OK || find(lf, "foo").from == LIB_FROM_STDLIB_SRC);
    }
    CHECK(lf != NULL);
    libfind_destroy(&lf);
    return rc;
}

TEST(libfind_malformed_versions)
{
    static const char *const bad[] = {
        "foo: 3.0-\n\nfoo 3.0-\n",         "a: 3.x-\nb: 3.0-\nc: 3.0-\n",
        "a: 3.0-\nb: 3.0-\nc: 3.10-3.2\n", "a: 3.0-\nb: 3.0-\na: 3.1-\n",
        "a: 3.0-\n\nbad-name: 3.0-\n",     "a: 3.0-\nb: 3.0\nc:\n",
        "a: 3.0-\nb:3.0-\nc: 3.0-3\n",     "x\n\n: 3.0-\n",
    };
    static const char *const lines[] = {":3:", ":1:", ":3:", ":3:", ":3:", ":2:", ":3:", ":1:"};
    fixture_t f;
    st_err_t err;

    REQUIRE(fixture_make(&f, 3, 11));
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK_EQ_INT(new_with_versions(&f, bad[i], &err), ST_EINVAL);
        CHECK(strstr(err.msg, "VERSIONS") != NULL);
        CHECK(strstr(err.msg, lines[i]) != NULL);
        CHECK(strstr(err.msg, "not used") != NULL);
    }
    /* what parses */
    CHECK_EQ_INT(
        new_with_versions(&f, "a: 3.0-\r\n  b.c: 3.10-3.12  # x\n\t\n# only\nd: 3.0-", &err),
        ST_OK);
    /* a VERSIONS too big to be one */
    {
        char *huge = malloc(((size_t)4 << 20) + 2);

        REQUIRE(huge != NULL);
        memset(huge, '#', ((size_t)4 << 20) + 1);
        huge[((size_t)4 << 20) + 1] = '\0';
        CHECK_EQ_INT(new_with_versions(&f, huge, &err), ST_EINVAL);
        CHECK(strstr(err.msg, "VERSIONS") != NULL);
        free(huge);
    }
    /* no VERSIONS */
    unlink(strcat(strcpy(err.msg, f.stubs), "/VERSIONS"));
    {
        libfind_t *lf = NULL;

        CHECK_EQ_INT(libfind_new(&f.env, &lf, &err), ST_EIO);
        CHECK(strstr(err.msg, "VERSIONS") != NULL);
        CHECK(lf != NULL);
        libfind_destroy(&lf);
    }
    tmpdir_remove(f.dir);
}

TEST(libfind_hooks_and_no_stubs)
{
    fixture_t f;
    libfind_t *lf = NULL;
    char *hooks[] = {"editable", "asyncore"};
    lib_module_t m;

    REQUIRE(fixture_make(&f, 3, 12));
    fx(f.dir, "site1/real.py", "");
    f.env.hook_names = hooks;
    f.env.n_hook_names = 2;
    REQUIRE(libfind_new(&f.env, &lf, NULL) == ST_OK);
    m = find(lf, "editable");
    CHECK(m.kind == LIB_OPEN && m.from == LIB_FROM_HOOK && !m.stdlib);
    CHECK(find(lf, "editable.sub").kind == LIB_OPEN);
    CHECK(find(lf, "asyncore").kind == LIB_OPEN); /* a shim serving a removed module */
    CHECK(is_file(find(lf, "real"), "/site1/real.py"));
    CHECK_EQ_INT(find(lf, "other").kind, LIB_ABSENT);
    libfind_destroy(&lf);

    f.env.hook_unknown = true;
    REQUIRE(libfind_new(&f.env, &lf, NULL) == ST_OK);
    CHECK(find(lf, "other").kind == LIB_OPEN);
    CHECK(is_file(find(lf, "real"), "/site1/real.py"));
    CHECK_EQ_INT(find(lf, "real.sub").kind, LIB_ABSENT); /* only top-level names */
    CHECK_EQ_INT(find(lf, "foo.nothing").kind, LIB_ABSENT);
    libfind_destroy(&lf);

    /* no stubs, no interpreter: standard names open, the rest absent */
    memset(&f.env, 0, sizeof f.env);
    f.env.major = 3;
    f.env.minor = 11;
    REQUIRE(libfind_new(&f.env, &lf, NULL) == ST_OK);
    m = find(lf, "os");
    CHECK(m.kind == LIB_OPEN && m.stdlib);
    CHECK(find(lf, "os.path").kind == LIB_OPEN);
    CHECK(libfind_is_stdlib(lf, "os", 2));
    CHECK(!libfind_is_stdlib(lf, "requests", 8));
    CHECK_EQ_INT(find(lf, "requests").kind, LIB_ABSENT);
    libfind_destroy(&lf);
    tmpdir_remove(f.dir);
}

TEST(libfind_out_of_memory)
{
    fixture_t f;
    libfind_t *lf;
    bool done = false;

    REQUIRE(fixture_make(&f, 3, 11));
    for (long n = 0; n < 200 && !done; n++) {
        st_err_t err = {0};
        st_rc_t rc;

        lf = NULL;
        alloc_fail_after(n);
        rc = libfind_new(&f.env, &lf, &err);
        done = alloc_fail_armed();
        alloc_fail_after(-1);
        CHECK(rc == ST_OK || rc == ST_ENOMEM);
        CHECK((rc == ST_OK) == (lf != NULL));
        if (rc == ST_ENOMEM)
            CHECK(strstr(err.msg, "out of memory") != NULL);
        /* lookups under failing allocations answer absent or right, never crash */
        if (lf != NULL) {
            lib_module_t m;

            alloc_fail_after(n);
            m = find(lf, "foo.old");
            alloc_fail_after(-1);
            CHECK(m.kind == LIB_ABSENT || is_file(m, "/stubs/foo/old.pyi"));
            CHECK(is_file(find(lf, "foo.old"), "/stubs/foo/old.pyi"));
        }
        libfind_destroy(&lf);
    }
    CHECK(done);
    tmpdir_remove(f.dir);
}

/* The typeshed copy pyright ships, when this machine has one. */
static const char *real_typeshed(char *buf, size_t cap)
{
    const char *env = getenv("STRATA_TYPESHED");
    struct stat st;

    if (env != NULL && *env)
        snprintf(buf, cap, "%s/stdlib", env);
    else
        snprintf(buf, cap, "/tmp/pr/package/dist/typeshed-fallback/stdlib");
    strcat(buf, "/VERSIONS");
    if (stat(buf, &st) != 0)
        return NULL;
    buf[strlen(buf) - strlen("/VERSIONS")] = '\0';
    return buf;
}

TEST(libfind_real_typeshed)
{
    char stubs[512];
    env_t env = {0};
    libfind_t *lf = NULL;
    lib_module_t m;

    if (real_typeshed(stubs, sizeof stubs) == NULL) {
        fprintf(stderr, "  libfind_real_typeshed: skipped (no typeshed copy)\n");
        return;
    }
    env.major = 3;
    env.minor = 10;
    env.typeshed_stdlib = stubs;
    REQUIRE(libfind_new(&env, &lf, NULL) == ST_OK);
    m = find(lf, "os");
    CHECK(is_file(m, "/stdlib/os/__init__.pyi") && m.package && m.stdlib);
    CHECK(is_file(find(lf, "os.path"), "/stdlib/os/path.pyi"));
    CHECK(is_file(find(lf, "collections.abc"), "/stdlib/collections/abc.pyi"));
    CHECK(is_file(find(lf, "asyncio"), "/stdlib/asyncio/__init__.pyi"));
    CHECK_EQ_INT(find(lf, "asyncio.taskgroups").kind, LIB_ABSENT);
    CHECK_EQ_INT(find(lf, "tomllib").kind, LIB_ABSENT);
    CHECK(!libfind_is_stdlib(lf, "tomllib", 7));
    CHECK(libfind_is_stdlib(lf, "sys", 3));
    libfind_destroy(&lf);

    env.minor = 11;
    REQUIRE(libfind_new(&env, &lf, NULL) == ST_OK);
    CHECK(is_file(find(lf, "asyncio.taskgroups"), "/stdlib/asyncio/taskgroups.pyi"));
    CHECK(is_file(find(lf, "tomllib"), "/stdlib/tomllib.pyi"));
    CHECK(libfind_is_stdlib(lf, "tomllib", 7));
    libfind_destroy(&lf);
}

TEST(libfind_real_dist_packages)
{
    static const char dist[] = "/usr/lib/python3/dist-packages";
    char *paths[] = {(char *)dist};
    env_t env = {0};
    libfind_t *lf = NULL;
    struct stat st;
    lib_module_t m;

    if (stat("/usr/lib/python3/dist-packages/yaml/__init__.py", &st) != 0 ||
        stat("/usr/lib/python3/dist-packages/apt_pkg-stubs/__init__.pyi", &st) != 0) {
        fprintf(stderr, "  libfind_real_dist_packages: skipped (no Debian PyYAML, apt stubs)\n");
        return;
    }
    env.major = 3;
    env.minor = 11;
    env.found = true;
    env.paths = paths;
    env.n_paths = 1;
    REQUIRE(libfind_new(&env, &lf, NULL) == ST_OK);
    m = find(lf, "yaml");
    if (stat("/usr/lib/python3/dist-packages/yaml-stubs/__init__.pyi", &st) == 0) {
        /* python3-typeshed's stubs (complete: no py.typed) come first */
        CHECK(is_file(m, "/dist-packages/yaml-stubs/__init__.pyi"));
        CHECK(m.from == LIB_FROM_STUB_PACKAGE);
        CHECK(is_file(find(lf, "yaml.constructor"), "/dist-packages/yaml-stubs/constructor.pyi"));
        CHECK(is_file(find(lf, "yaml._yaml"), "/dist-packages/yaml-stubs/_yaml.pyi"));
    } else {
        CHECK(is_file(m, "/dist-packages/yaml/__init__.py") && m.from == LIB_FROM_SITE);
        CHECK(is_file(find(lf, "yaml.constructor"), "/dist-packages/yaml/constructor.py"));
        /* PyYAML's C speedups: an extension module inside the package */
        CHECK(find(lf, "yaml._yaml").kind == LIB_OPEN);
    }
    /* Debian's _yaml is a package of Python shims */
    CHECK(is_file(find(lf, "_yaml"), "/dist-packages/_yaml/__init__.py"));
    m = find(lf, "apt_pkg");
    CHECK(is_file(m, "/dist-packages/apt_pkg-stubs/__init__.pyi"));
    CHECK(m.from == LIB_FROM_STUB_PACKAGE);
    CHECK_EQ_INT(find(lf, "surely_not_installed_here").kind, LIB_ABSENT);
    libfind_destroy(&lf);
}
