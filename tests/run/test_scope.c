/* test_scope.c - the context of a check (run/scope.h): paths' normal form,
 * the roots found on the disk for files, packages and plain directories,
 * --root, and the merge of the context into the named files. */
#include "test.h"

#include "run/scope.h"
#include "tmpdir.h"

static char dir[64];

static void put(const char *rel)
{
    char path[512];

    snprintf(path, sizeof path, "%s/%s", dir, rel);
    for (char *p = path + strlen(dir) + 1; *p != '\0'; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(path, 0755);
            *p = '/';
        }
    tmpdir_write(dir, rel, "x = 1\n", path, sizeof path);
}

TEST(walk_norm_path_forms)
{
    arena_t *a = arena_new(0);

    REQUIRE(a != NULL);
    CHECK_STREQ(walk_norm_path(a, "./pkg/a.py"), "pkg/a.py");
    CHECK_STREQ(walk_norm_path(a, "pkg//./a.py"), "pkg/a.py");
    CHECK_STREQ(walk_norm_path(a, "pkg/"), "pkg");
    CHECK_STREQ(walk_norm_path(a, "."), ".");
    CHECK_STREQ(walk_norm_path(a, "./"), ".");
    CHECK_STREQ(walk_norm_path(a, "/"), "/");
    CHECK_STREQ(walk_norm_path(a, "//x/./y"), "/x/y");
    CHECK_STREQ(walk_norm_path(a, "../p/a.py"), "../p/a.py");
    arena_destroy(&a);
}

/* The roots of args (below dir) as "r1 r2" below dir. */
static const char *roots_of(const char *const *rels, size_t n, const char *const *roots,
                            size_t n_roots)
{
    static char out[1024];
    char paths[4][256], rpaths[4][256];
    const char *argv[4], *rootv[4], **dirs;
    size_t n_dirs = 0, len = 0, skip = strlen(dir);
    walk_list_t l;

    for (size_t i = 0; i < n; i++) {
        snprintf(paths[i], sizeof paths[i], "%s/%s", dir, rels[i]);
        argv[i] = paths[i];
    }
    for (size_t i = 0; i < n_roots; i++) {
        snprintf(rpaths[i], sizeof rpaths[i], "%s/%s", dir, roots[i]);
        rootv[i] = rpaths[i];
    }
    if (walk_paths(NULL, 0, &(walk_opts_t){0}, &l, NULL) != ST_OK ||
        scope_roots(&l, argv, n, rootv, n_roots, &dirs, &n_dirs, NULL) != ST_OK)
        return "(failed)";
    out[0] = '\0';
    for (size_t i = 0; i < n_dirs; i++)
        len += (size_t)snprintf(out + len, sizeof out - len, "%s%s", i ? " " : "",
                                strlen(dirs[i]) > skip ? dirs[i] + skip + 1 : "(dir)");
    walk_list_free(&l);
    return out;
}

TEST(scope_roots_from_the_disk)
{
    const char *file[] = {"proj/pkg/sub/m.py"};
    const char *pkg[] = {"proj/pkg"};
    const char *plain[] = {"proj"};
    const char *loose[] = {"proj/tools/t.py"};
    const char *missing[] = {"proj/pkg/new.py"};
    const char *two[] = {"proj/pkg/a.py", "proj/pkg/sub/m.py"};
    const char *given[] = {"proj", "other"};

    REQUIRE(tmpdir_make(dir));
    put("proj/pkg/__init__.py");
    put("proj/pkg/a.py");
    put("proj/pkg/sub/__init__.pyi");
    put("proj/pkg/sub/m.py");
    put("proj/tools/t.py");
    put("other/o.py");
    CHECK_STREQ(roots_of(file, 1, NULL, 0), "proj");
    CHECK_STREQ(roots_of(pkg, 1, NULL, 0), "proj");
    CHECK_STREQ(roots_of(plain, 1, NULL, 0), ""); /* its own root: walked already */
    CHECK_STREQ(roots_of(loose, 1, NULL, 0), "proj/tools");
    CHECK_STREQ(roots_of(missing, 1, NULL, 0), "proj"); /* standard input's name */
    CHECK_STREQ(roots_of(two, 2, NULL, 0), "proj");     /* once */
    CHECK_STREQ(roots_of(file, 1, given, 2), "proj other");
    tmpdir_remove(dir);
}

TEST(scope_context_joins_unnamed_files)
{
    char named[256], root[256], cwd[512];
    const char *argv[1] = {named}, *dirs[1] = {root};
    walk_opts_t opts = {0};
    walk_list_t l;

    REQUIRE(tmpdir_make(dir));
    put("pkg/__init__.py");
    put("pkg/a.py");
    put("pkg/b.py");
    put("pkg/_ext.cpython-311-x86_64-linux-gnu.so");
    REQUIRE(getcwd(cwd, sizeof cwd) != NULL);
    REQUIRE(chdir(dir) == 0);
    /* named as "./pkg/a.py", found again as "pkg/a.py": one file */
    snprintf(named, sizeof named, "./pkg/a.py");
    snprintf(root, sizeof root, ".");
    REQUIRE(walk_paths(argv, 1, &opts, &l, NULL) == ST_OK);
    REQUIRE(scope_add_context(&l, dirs, 1, &opts, NULL) == ST_OK);
    REQUIRE(l.n_files == 3);
    CHECK_STREQ(l.files[0].path, "./pkg/__init__.py");
    CHECK(l.files[0].context);
    CHECK_STREQ(l.files[1].path, "./pkg/a.py");
    CHECK(!l.files[1].context);
    CHECK_STREQ(l.files[2].path, "./pkg/b.py");
    CHECK(l.files[2].context);
    CHECK_EQ_INT(l.n_extensions, 1);
    /* no directories: nothing changes */
    CHECK(scope_add_context(&l, dirs, 0, &opts, NULL) == ST_OK);
    CHECK_EQ_INT(l.n_files, 3);
    walk_list_free(&l);
    CHECK(chdir(cwd) == 0);
    tmpdir_remove(dir);
}
