/* test_gitignore.c - the walk with git's ignore rules: .gitignore at the
 * top and below, .git/info/exclude, negation, directory-only patterns,
 * arguments never left out, a tree outside any repository, and the rules
 * switched off. Each test makes a repository with libgit2 in a fresh
 * directory under /tmp and removes it. */
#include "test.h"

#include "run/gitignore.h"
#include "run/walk.h"
#include "tmpdir.h"

#include <git2.h>

static char dir[64];

/* Writes dir/rel with its parent directories. */
static void put(const char *rel, const char *text)
{
    char path[512];

    snprintf(path, sizeof path, "%s/%s", dir, rel);
    for (char *p = path + strlen(dir) + 1; *p != '\0'; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(path, 0755);
            *p = '/';
        }
    tmpdir_write(dir, rel, text, path, sizeof path);
}

/* A repository in a fresh dir; false when it cannot be made. */
static bool make_repo(void)
{
    git_repository *repo = NULL;
    bool ok;

    if (!tmpdir_make(dir))
        return false;
    git_libgit2_init();
    ok = git_repository_init(&repo, dir, 0) == 0;
    git_repository_free(repo);
    git_libgit2_shutdown();
    return ok;
}

/* The walk of dir/rels[i] (rel "" is dir), as "a.py b/c.py" below dir. */
static const char *walk_names(const char *const *rels, size_t n, bool respect)
{
    static char out[2048];
    char paths[4][512];
    const char *argv[4];
    walk_opts_t opts = {.respect_gitignore = respect};
    walk_list_t w;
    size_t len = 0, skip = strlen(dir) + 1;

    for (size_t i = 0; i < n && i < 4; i++) {
        snprintf(paths[i], sizeof paths[i], "%s%s%s", dir, rels[i][0] ? "/" : "", rels[i]);
        argv[i] = paths[i];
    }
    out[0] = '\0';
    if (walk_paths(argv, n, &opts, &w, NULL) != ST_OK)
        return "(walk failed)";
    for (size_t i = 0; i < w.n_files; i++)
        len += (size_t)snprintf(out + len, sizeof out - len, "%s%s", i ? " " : "",
                                w.files[i].path + skip);
    walk_list_free(&w);
    return out;
}

static void make_tree(void)
{
    put(".gitignore", "build/\n*_gen.py\n!keep_gen.py\n/top.py\n");
    put(".git/info/exclude", "local/\n");
    put("a.py", "x = 1\n");
    put("top.py", "x = 1\n");
    put("a_gen.py", "x = 1\n");
    put("keep_gen.py", "x = 1\n");
    put("build/b.py", "x = 1\n");
    put("local/l.py", "x = 1\n");
    put("pkg/top.py", "x = 1\n"); /* /top.py is anchored: not this one */
    put("pkg/c_gen.py", "x = 1\n");
    put("pkg/.gitignore", "secret.py\n");
    put("pkg/secret.py", "x = 1\n");
    put("pkg/ok.py", "x = 1\n");
}

TEST(gitignore_rules_at_every_level)
{
    const char *args[] = {""};

    REQUIRE(make_repo());
    make_tree();
    CHECK_STREQ(walk_names(args, 1, true), "a.py keep_gen.py pkg/ok.py pkg/top.py");
    tmpdir_remove(dir);
}

TEST(gitignore_ignored_modules_still_exist)
{
    char top[128];
    const char *argv[1] = {top};
    walk_opts_t opts = {.respect_gitignore = true};
    walk_list_t w;
    char want[4][256];

    REQUIRE(make_repo());
    make_tree();
    put("_ext.cpython-311-x86_64-linux-gnu.so", "");
    put(".gitignore", "build/\n*_gen.py\n!keep_gen.py\n/top.py\n*.so\n");
    snprintf(top, sizeof top, "%s", dir);
    REQUIRE(walk_paths(argv, 1, &opts, &w, NULL) == ST_OK);
    /* ignored files are stand-ins for imports; ignored directories are
     * not entered; compiled modules exist whatever git says */
    snprintf(want[0], sizeof want[0], "%s/_ext.so", dir);
    snprintf(want[1], sizeof want[1], "%s/a_gen.py", dir);
    snprintf(want[2], sizeof want[2], "%s/pkg/c_gen.py", dir);
    snprintf(want[3], sizeof want[3], "%s/top.py", dir);
    CHECK_EQ_INT(w.n_extensions, 5);
    if (w.n_extensions == 5) {
        CHECK_STREQ(w.extensions[0].path, want[0]);
        CHECK_STREQ(w.extensions[1].path, want[1]);
        CHECK_STREQ(w.extensions[2].path, want[2]);
        CHECK(strstr(w.extensions[3].path, "pkg/secret.py") != NULL);
        CHECK_STREQ(w.extensions[4].path, want[3]);
    }
    walk_list_free(&w);
    tmpdir_remove(dir);
}

TEST(gitignore_off_lists_everything)
{
    const char *args[] = {""};

    REQUIRE(make_repo());
    make_tree();
    CHECK_STREQ(walk_names(args, 1, false),
                "a.py a_gen.py build/b.py keep_gen.py local/l.py pkg/c_gen.py pkg/ok.py "
                "pkg/secret.py pkg/top.py top.py");
    tmpdir_remove(dir);
}

TEST(gitignore_arguments_are_never_left_out)
{
    const char *files[] = {"a_gen.py", "pkg/secret.py"};
    const char *ignored_dir[] = {"build"};
    const char *sub[] = {"pkg"};

    REQUIRE(make_repo());
    make_tree();
    /* named files, an ignored directory named: checked as asked */
    CHECK_STREQ(walk_names(files, 2, true), "a_gen.py pkg/secret.py");
    CHECK_STREQ(walk_names(ignored_dir, 1, true), "build/b.py");
    /* a directory below the top: the rules of every level still apply */
    CHECK_STREQ(walk_names(sub, 1, true), "pkg/ok.py pkg/top.py");
    tmpdir_remove(dir);
}

/* Adds rel to dir's index, as `git add -f` does. */
static bool track(const char *rel)
{
    git_repository *repo = NULL;
    git_index *index = NULL;
    bool ok;

    git_libgit2_init();
    ok = git_repository_open(&repo, dir) == 0 && git_repository_index(&index, repo) == 0 &&
         git_index_add_bypath(index, rel) == 0 && git_index_write(index) == 0;
    git_index_free(index);
    git_repository_free(repo);
    git_libgit2_shutdown();
    return ok;
}

TEST(gitignore_tracked_files_are_never_ignored)
{
    const char *args[] = {""};

    REQUIRE(make_repo());
    make_tree();
    put("build/c.py", "x = 1\n");
    REQUIRE(track("a_gen.py"));
    REQUIRE(track("build/b.py"));
    /* tracked: checked; the ignored directory holding one is entered, its
     * untracked file still ignored */
    CHECK_STREQ(walk_names(args, 1, true),
                "a.py a_gen.py build/b.py keep_gen.py pkg/ok.py pkg/top.py");
    tmpdir_remove(dir);
}

TEST(gitignore_outside_a_repository_changes_nothing)
{
    const char *args[] = {""};

    REQUIRE(tmpdir_make(dir));
    put(".gitignore", "*.py\n");
    put("a.py", "x = 1\n");
    CHECK_STREQ(walk_names(args, 1, true), "a.py");
    tmpdir_remove(dir);
}

TEST(gitignore_open_and_ask)
{
    gitignore_t *g = NULL;
    char below[256];
    char sub[600];

    REQUIRE(make_repo());
    make_tree();
    REQUIRE(gitignore_open(dir, &g, NULL) == ST_OK);
    REQUIRE(g != NULL);
    CHECK(gitignore_below(g, dir, below, sizeof below));
    CHECK_STREQ(below, "");
    snprintf(sub, sizeof sub, "%s/pkg", dir);
    CHECK(gitignore_below(g, sub, below, sizeof below));
    CHECK_STREQ(below, "pkg");
    CHECK(!gitignore_below(g, "/", below, sizeof below));
    CHECK(gitignore_ignored(g, "build", true));
    CHECK(gitignore_ignored(g, "build/b.py", false));
    CHECK(!gitignore_ignored(g, "pkg", true));
    CHECK(gitignore_ignored(g, "pkg/secret.py", false));
    CHECK(!gitignore_ignored(g, "keep_gen.py", false));
    CHECK(!gitignore_ignored(g, "", false));
    gitignore_destroy(&g);
    CHECK(g == NULL);
    gitignore_destroy(&g);
    /* no repository above /tmp/...: none, and no error */
    tmpdir_remove(dir);
    REQUIRE(tmpdir_make(dir));
    CHECK(gitignore_open(dir, &g, NULL) == ST_OK);
    CHECK(g == NULL);
    tmpdir_remove(dir);
}
