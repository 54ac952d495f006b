/* test_walk.c - which files a check looks at: extensions, hidden directories,
 * __pycache__, excludes, symlink loops, missing paths, order. Each test
 * builds its tree under a fresh mkdtemp directory and removes it. */
#include "test.h"

#include "common/alloc.h"
#include "run/walk.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[64];

/* Creates root/rel, with parent directories; a trailing '/' makes a dir. */
static void make(const char *rel)
{
    char path[512];
    size_t len;

    snprintf(path, sizeof path, "%s/%s", root, rel);
    len = strlen(path);
    for (char *p = path + strlen(root) + 1; *p != '\0'; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(path, 0755);
            *p = '/';
        }
    }
    if (path[len - 1] != '/') {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            if (write(fd, "x = 1\n", 6) != 6)
                CHECK(!"write");
            close(fd);
        }
    }
}

static void link_at(const char *target, const char *rel)
{
    char path[512];

    snprintf(path, sizeof path, "%s/%s", root, rel);
    CHECK(symlink(target, path) == 0);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    chmod(path, 0755);
    return remove(path);
}

static void setup(void)
{
    strcpy(root, "/tmp/strata-walk-XXXXXX");
    if (mkdtemp(root) == NULL)
        root[0] = '\0';
}

static void teardown(void)
{
    if (root[0] != '\0')
        nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Walks root/arg (or the args as given when abs) with the excludes. */
static st_rc_t walk_rel(const char *const *rels, size_t n, const char *const *exclude,
                        size_t n_exclude, walk_list_t *out)
{
    char paths[8][512];
    const char *argv[8];
    walk_opts_t opts = {.exclude = exclude, .n_exclude = n_exclude};

    for (size_t i = 0; i < n && i < 8; i++) {
        snprintf(paths[i], sizeof paths[i], "%s%s%s", root, rels[i][0] ? "/" : "", rels[i]);
        argv[i] = paths[i];
    }
    return walk_paths(argv, n, &opts, out, NULL);
}

/* The files of a list below root, as "a.py b/c.py", for one comparison. */
static const char *names(const walk_entry_t *e, size_t n)
{
    static char out[2048];
    size_t len = 0, skip = strlen(root) + 1;

    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(out + len, sizeof out - len, "%s%s", i ? " " : "",
                                strlen(e[i].path) >= skip ? e[i].path + skip : e[i].path);
    return out;
}

static void make_tree(void)
{
    make("pkg/__init__.py");
    make("pkg/mod.py");
    make("pkg/stub.pyi");
    make("pkg/notes.txt");
    make("pkg/py");
    make("pkg/.py");
    make("pkg/.dotfile.py");
    make("pkg/.hidden/h.py");
    make("pkg/__pycache__/mod.cpython-311.py");
    make("pkg/sub/deep/d.py");
    make("pkg/sub/s.py");
    make("pkg/build/gen.py");
    make("pkg/empty/");
}

TEST(walk_directory_finds_python_files)
{
    const char *args[] = {"pkg"};
    walk_list_t w;

    setup();
    REQUIRE(root[0] != '\0');
    make_tree();
    REQUIRE(walk_rel(args, 1, NULL, 0, &w) == ST_OK);
    CHECK_STREQ(names(w.files, w.n_files), "pkg/.dotfile.py pkg/__init__.py pkg/build/gen.py "
                                           "pkg/mod.py pkg/stub.pyi pkg/sub/deep/d.py "
                                           "pkg/sub/s.py");
    CHECK_EQ_INT(w.n_missing, 0);
    CHECK_EQ_INT(w.n_unreadable, 0);
    CHECK_EQ_INT(w.files[1].size, 6);
    walk_list_free(&w);
    CHECK(w.arena == NULL);
    walk_list_free(&w);
    teardown();
}

TEST(walk_explicit_file_any_extension)
{
    const char *args[] = {"pkg/notes.txt", "pkg/.hidden/h.py", "pkg/__pycache__"};
    walk_list_t w;

    setup();
    REQUIRE(root[0] != '\0');
    make_tree();
    REQUIRE(walk_rel(args, 3, NULL, 0, &w) == ST_OK);
    /* An explicit directory is walked even if it would be skipped below. */
    CHECK_STREQ(names(w.files, w.n_files), "pkg/.hidden/h.py "
                                           "pkg/__pycache__/mod.cpython-311.py pkg/notes.txt");
    walk_list_free(&w);
    teardown();
}

TEST(walk_exclude_globs)
{
    const char *args[] = {"pkg"};
    const char *ex1[] = {"build", "*.pyi"};
    const char *ex2[] = {"sub/*"};
    const char *ex3[] = {"*/deep"};
    const char *ex4[] = {"mod.py", "__init__.py", ".dotfile.py", "*/pkg/sub"};
    walk_list_t w;

    setup();
    REQUIRE(root[0] != '\0');
    make_tree();
    REQUIRE(walk_rel(args, 1, ex1, 2, &w) == ST_OK);
    CHECK_STREQ(names(w.files, w.n_files), "pkg/.dotfile.py pkg/__init__.py pkg/mod.py "
                                           "pkg/sub/deep/d.py pkg/sub/s.py");
    walk_list_free(&w);
    /* Whole relative path below the argument: '*' crosses '/'. */
    REQUIRE(walk_rel(args, 1, ex2, 1, &w) == ST_OK);
    CHECK_STREQ(names(w.files, w.n_files),
                "pkg/.dotfile.py pkg/__init__.py pkg/build/gen.py pkg/mod.py pkg/stub.pyi");
    walk_list_free(&w);
    REQUIRE(walk_rel(args, 1, ex3, 1, &w) == ST_OK);
    CHECK_STREQ(names(w.files, w.n_files), "pkg/.dotfile.py pkg/__init__.py pkg/build/gen.py "
                                           "pkg/mod.py pkg/stub.pyi pkg/sub/s.py");
    walk_list_free(&w);
    /* Whole displayed path. */
    REQUIRE(walk_rel(args, 1, ex4, 4, &w) == ST_OK);
    CHECK_STREQ(names(w.files, w.n_files), "pkg/build/gen.py pkg/stub.pyi");
    walk_list_free(&w);
    teardown();
}

TEST(walk_exclude_not_applied_to_arguments)
{
    const char *args[] = {"pkg/build", "pkg/mod.py"};
    const char *ex[] = {"build", "mod.py"};
    walk_list_t w;

    setup();
    REQUIRE(root[0] != '\0');
    make_tree();
    REQUIRE(walk_rel(args, 2, ex, 2, &w) == ST_OK);
    CHECK_STREQ(names(w.files, w.n_files), "pkg/build/gen.py pkg/mod.py");
    walk_list_free(&w);
    teardown();
}

TEST(walk_symlink_loop_terminates)
{
    const char *args[] = {"pkg"};
    walk_list_t w;

    setup();
    REQUIRE(root[0] != '\0');
    make("pkg/a.py");
    make("pkg/sub/b.py");
    link_at("..", "pkg/sub/up");
    link_at(".", "pkg/self");
    link_at("sub", "pkg/zlink"); /* a second way into sub: walked once */
    link_at("missing.py", "pkg/dangling.py");
    link_at("nowhere", "pkg/dangling_dir");
    REQUIRE(walk_rel(args, 1, NULL, 0, &w) == ST_OK);
    /* The dangling .py link is kept: checking it reports why it fails. */
    CHECK_STREQ(names(w.files, w.n_files), "pkg/a.py pkg/dangling.py pkg/sub/b.py");
    walk_list_free(&w);
    teardown();
}

TEST(walk_missing_arguments_reported)
{
    const char *args[] = {"nope", "pkg/mod.py", "also/missing.py"};
    walk_list_t w;

    setup();
    REQUIRE(root[0] != '\0');
    make_tree();
    REQUIRE(walk_rel(args, 3, NULL, 0, &w) == ST_OK);
    CHECK_STREQ(names(w.files, w.n_files), "pkg/mod.py");
    REQUIRE(w.n_missing == 2);
    CHECK_STREQ(names(w.missing, w.n_missing), "nope also/missing.py"); /* argument order */
    CHECK_EQ_INT(w.missing[0].err, ENOENT);
    walk_list_free(&w);
    teardown();
}

/* A link to a directory is entered only when the directory was not reached
 * by a real path; then it lists its files under the link's name. */
TEST(walk_link_to_outside_tree)
{
    const char *args[] = {"a"};
    walk_list_t w;

    setup();
    REQUIRE(root[0] != '\0');
    make("a/x.py");
    make("b/real/y.py");
    link_at("../b/real", "a/link");
    REQUIRE(walk_rel(args, 1, NULL, 0, &w) == ST_OK);
    CHECK_STREQ(names(w.files, w.n_files), "a/link/y.py a/x.py");
    walk_list_free(&w);
    teardown();
}

TEST(walk_duplicates_and_order)
{
    const char *args[] = {"pkg/sub", "pkg", "pkg/mod.py", "pkg/mod.py"};
    walk_list_t w;

    setup();
    REQUIRE(root[0] != '\0');
    make_tree();
    REQUIRE(walk_rel(args, 4, NULL, 0, &w) == ST_OK);
    CHECK_STREQ(names(w.files, w.n_files), "pkg/.dotfile.py pkg/__init__.py pkg/build/gen.py "
                                           "pkg/mod.py pkg/stub.pyi pkg/sub/deep/d.py "
                                           "pkg/sub/s.py");
    for (size_t i = 1; i < w.n_files; i++)
        CHECK(walk_path_cmp(w.files[i - 1].path, w.files[i].path) < 0);
    walk_list_free(&w);
    teardown();
}

TEST(walk_path_joining_keeps_argument_spelling)
{
    char arg[600];
    const char *argv[1] = {arg};
    walk_opts_t opts = {0};
    walk_list_t w;

    setup();
    REQUIRE(root[0] != '\0');
    make("d/a.py");
    snprintf(arg, sizeof arg, "%s/d/", root);
    REQUIRE(walk_paths(argv, 1, &opts, &w, NULL) == ST_OK);
    REQUIRE(w.n_files == 1);
    CHECK_STREQ(names(w.files, 1), "d/a.py"); /* no "d//a.py" */
    walk_list_free(&w);
    snprintf(arg, sizeof arg, "%s/./d", root);
    REQUIRE(walk_paths(argv, 1, &opts, &w, NULL) == ST_OK);
    REQUIRE(w.n_files == 1);
    CHECK_STREQ(names(w.files, 1), "./d/a.py");
    walk_list_free(&w);
    teardown();
}

TEST(walk_unreadable_directory)
{
    const char *args[] = {"pkg"};
    char path[600];
    walk_list_t w;

    if (geteuid() == 0) {
        fprintf(stderr, "  walk_unreadable_directory: skipped as root (root reads anything)\n");
        return;
    }
    setup();
    REQUIRE(root[0] != '\0');
    make("pkg/a.py");
    make("pkg/locked/b.py");
    snprintf(path, sizeof path, "%s/pkg/locked", root);
    REQUIRE(chmod(path, 0) == 0);
    REQUIRE(walk_rel(args, 1, NULL, 0, &w) == ST_OK);
    CHECK_STREQ(names(w.files, w.n_files), "pkg/a.py");
    REQUIRE(w.n_unreadable == 1);
    CHECK_STREQ(names(w.unreadable, 1), "pkg/locked");
    CHECK_EQ_INT(w.unreadable[0].err, EACCES);
    walk_list_free(&w);
    teardown();
}

TEST(walk_out_of_memory)
{
    const char *args[] = {"pkg"};
    walk_list_t w;
    int ok = 0;

    setup();
    REQUIRE(root[0] != '\0');
    make_tree();
    for (long n = 0; n < 100 && !ok; n++) {
        st_rc_t rc;

        alloc_fail_after(n);
        rc = walk_rel(args, 1, NULL, 0, &w);
        alloc_fail_after(-1);
        if (rc == ST_OK) {
            ok = 1;
            CHECK_EQ_INT(w.n_files, 7);
            walk_list_free(&w);
        } else {
            CHECK_EQ_INT(rc, ST_ENOMEM);
        }
    }
    CHECK(ok);
    teardown();
}

TEST(walk_names_and_order)
{
    CHECK(walk_is_python_name("a.py"));
    CHECK(walk_is_python_name("a.pyi"));
    CHECK(walk_is_python_name(".x.py"));
    CHECK(!walk_is_python_name(".py"));
    CHECK(!walk_is_python_name("py"));
    CHECK(!walk_is_python_name("a.pyc"));
    CHECK(!walk_is_python_name("a.py~"));
    CHECK(!walk_is_python_name("a.PY"));
    CHECK(walk_path_cmp("a.py", "a/b.py") < 0);
    CHECK(walk_path_cmp("a/b.py", "a_b.py") < 0);
    CHECK(walk_path_cmp("Z.py", "a.py") < 0);
    CHECK(walk_path_cmp("z.py", "\xc3\xa9.py") < 0); /* bytes, not signed chars */
    CHECK(walk_path_cmp("a", "a") == 0);
}

TEST(walk_is_excluded_matches)
{
    const char *ex[] = {"*.pyi", "tests/*"};
    walk_opts_t opts = {.exclude = ex, .n_exclude = 2};
    walk_opts_t none = {0};

    CHECK(walk_is_excluded(&opts, "a.pyi", "x/a.pyi", "src/x/a.pyi"));
    CHECK(walk_is_excluded(&opts, "a.py", "tests/a.py", "src/tests/a.py"));
    CHECK(walk_is_excluded(&opts, "a.py", "x/a.py", "tests/x/a.py"));
    CHECK(!walk_is_excluded(&opts, "a.py", "x/a.py", "src/x/a.py"));
    CHECK(!walk_is_excluded(&none, "a.py", "a.py", "a.py"));
}

TEST(walk_extension_stem_names_compiled_modules)
{
    CHECK_EQ_INT(walk_extension_stem("_ext.cpython-311-x86_64-linux-gnu.so"), 4);
    CHECK_EQ_INT(walk_extension_stem("speedups.so"), 8);
    CHECK_EQ_INT(walk_extension_stem("mod.pyd"), 3);
    CHECK_EQ_INT(walk_extension_stem("mod.abi3.so"), 3);
    CHECK_EQ_INT(walk_extension_stem("libfoo.so.1"), 0);
    CHECK_EQ_INT(walk_extension_stem("mod.py"), 0);
    CHECK_EQ_INT(walk_extension_stem(".so"), 0);
    CHECK_EQ_INT(walk_extension_stem("1x.so"), 0);
    CHECK_EQ_INT(walk_extension_stem("a-b.so"), 0);
}
