/* test_env.c - finding the environment (run/env.h) with fake interpreters:
 * shell scripts in a scratch directory that print a canned answer (and
 * count their runs in a file), garbage, exit 1, sleep past a short
 * timeout, or are not executable. Also the order of discovery
 * ($VIRTUAL_ENV, .venv, venv, PATH), the target's overrides, the stubs'
 * directory and VERSIONS, the cache (a second ask does not run the
 * interpreter; a changed site directory or a corrupt file does), the
 * printers, and failed allocations. The real interpreters are tried by
 * tests/e2e/test_env.sh. */
#include "test.h"

#include "common/alloc.h"
#include "run/env.h"
#include "run/tmpdir.h"

#include <dirent.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

static char dir[64];
static char saved_path[8192], saved_venv[PATH_MAX], saved_typeshed[PATH_MAX];
static bool saved, had_venv, had_typeshed;

/* Writes an executable shell script dir/name running body; its path into
 * path. */
static void script(const char *name, const char *body, char *path, size_t cap)
{
    char text[PATH_MAX + 64];

    snprintf(text, sizeof text, "#!/bin/sh\n%.4000s\n", body);
    tmpdir_write(dir, name, text, path, cap);
    chmod(path, 0755);
}

static void make_dir(const char *rel)
{
    char path[PATH_MAX + 64];

    snprintf(path, sizeof path, "%s/%.200s", dir, rel);
    mkdir(path, 0755);
}

/* The canned answer of a Python 3.11 on "linux" whose sys.path has a
 * stdlib, lib-dynload, a site directory, a .pth addition, and entries
 * that must be dropped: relative, missing, a file, a repeat. */
static void write_answer(const char *version, const char *hooks)
{
    char text[4096], path[PATH_MAX];

    snprintf(text, sizeof text,
             "{\"strata\": 1, \"version\": %s, \"platform\": \"linux\", \"prefix\": \"%s\", "
             "\"venv\": false, \"executable\": \"%s/python\", \"stdlib\": \"%s/lib\", "
             "\"sites\": [\"%s/site\"], \"path\": [[\"%s/lib\", \"stdlib\"], "
             "[\"%s/lib/lib-dynload\", \"lib-dynload\"], [\"rel\", \"other\"], "
             "[\"%s/missing\", \"other\"], [\"%s/answer.json\", \"other\"], "
             "[\"%s/site\", \"site\"], [\"%s/pth\", \"pth\"], [\"%s/site\", \"site\"]], "
             "\"hooks\": %s}\n",
             version, dir, dir, dir, dir, dir, dir, dir, dir, dir, dir, dir, hooks);
    tmpdir_write(dir, "answer.json", text, path, sizeof path);
}

static void setup(void)
{
    const char *p = getenv("PATH"), *v = getenv("VIRTUAL_ENV"), *t = getenv("STRATA_TYPESHED");
    char path[PATH_MAX];

    /* once: a test that stopped early may not have restored them */
    if (!saved) {
        snprintf(saved_path, sizeof saved_path, "%s", p != NULL ? p : "");
        had_venv = v != NULL;
        snprintf(saved_venv, sizeof saved_venv, "%s", v != NULL ? v : "");
        had_typeshed = t != NULL;
        snprintf(saved_typeshed, sizeof saved_typeshed, "%s", t != NULL ? t : "");
        saved = true;
    }
    setenv("PATH", saved_path, 1);
    unsetenv("VIRTUAL_ENV");
    unsetenv("STRATA_TYPESHED");
    CHECK(tmpdir_make(dir));
    make_dir("lib");
    make_dir("lib/lib-dynload");
    make_dir("site");
    make_dir("pth");
    write_answer("[3, 11]", "[]");
    snprintf(path, sizeof path, "echo run >>%s/runs\n/bin/cat %s/answer.json", dir, dir);
    script("python", path, path, sizeof path);
}

static void teardown(void)
{
    setenv("PATH", saved_path, 1);
    if (had_venv)
        setenv("VIRTUAL_ENV", saved_venv, 1);
    else
        unsetenv("VIRTUAL_ENV");
    if (had_typeshed)
        setenv("STRATA_TYPESHED", saved_typeshed, 1);
    tmpdir_remove(dir);
}

/* How many times the fake python ran. */
static int runs(void)
{
    char path[PATH_MAX], line[64];
    int n = 0;
    FILE *f;

    snprintf(path, sizeof path, "%s/runs", dir);
    if ((f = fopen(path, "r")) == NULL)
        return 0;
    while (fgets(line, sizeof line, f) != NULL)
        n++;
    fclose(f);
    return n;
}

static env_opts_t with_python(const char *python)
{
    return (env_opts_t){.python = python, .project_root = dir};
}

static void fake(char *path, size_t cap)
{
    snprintf(path, cap, "%s/python", dir);
}

/* setup(), then options naming the fake python (its path into python,
 * PATH_MAX bytes). */
static env_opts_t start(char *python)
{
    setup();
    fake(python, PATH_MAX);
    return with_python(python);
}

TEST(env_flag_asks_the_interpreter)
{
    char python[PATH_MAX], want[PATH_MAX];
    env_t env;
    env_opts_t o;
    st_err_t err = {0};

    o = start(python);
    REQUIRE(env_find(&o, &env, &err) == ST_OK);
    CHECK(env.found);
    CHECK_EQ_INT(env.source, ENV_FLAG);
    CHECK_STREQ(env.python, python);
    CHECK_EQ_INT(env.major, 3);
    CHECK_EQ_INT(env.minor, 11);
    CHECK_EQ_INT(env.version_from, ENV_TARGET_INTERPRETER);
    CHECK_STREQ(env.platform, "linux");
    CHECK_EQ_INT(env.platform_from, ENV_TARGET_INTERPRETER);
    CHECK_STREQ(env.prefix, dir);
    CHECK(!env.cached);
    /* relative, missing, a file and the repeat are gone */
    REQUIRE(env.n_paths == 4);
    snprintf(want, sizeof want, "%s/lib", dir);
    CHECK_STREQ(env.paths[0], want);
    CHECK_EQ_INT(env.path_kinds[0], ENV_PATH_STDLIB);
    CHECK_EQ_INT(env.path_kinds[1], ENV_PATH_DYNLOAD);
    snprintf(want, sizeof want, "%s/site", dir);
    CHECK_STREQ(env.paths[2], want);
    CHECK_EQ_INT(env.path_kinds[2], ENV_PATH_SITE);
    CHECK_EQ_INT(env.path_kinds[3], ENV_PATH_PTH);
    snprintf(want, sizeof want, "%s/lib", dir);
    CHECK_STREQ(env.stdlib_dir, want);
    CHECK(env.problem == NULL);
    CHECK_EQ_INT(runs(), 1);
    env_free(&env);
    CHECK(env.python == NULL && env.paths == NULL);
    env_free(&env); /* a zeroed one */
    teardown();
}

TEST(env_import_hooks)
{
    char python[PATH_MAX];
    env_t env;
    env_opts_t o;
    st_err_t err = {0};

    o = start(python);
    write_answer("[3, 12]",
                 "[{\"finder\": \"__editable___foo_finder._EditableFinder\", \"names\": [\"foo\", "
                 "\"bar\"]}, {\"finder\": \"_distutils_hack.DistutilsMetaFinder\", \"names\": "
                 "[\"distutils\", \"foo\"]}]");
    REQUIRE(env_find(&o, &env, &err) == ST_OK);
    CHECK_EQ_INT(env.n_hook_finders, 2);
    REQUIRE(env.n_hook_names == 3);
    CHECK_STREQ(env.hook_names[0], "foo");
    CHECK_STREQ(env.hook_names[1], "bar");
    CHECK_STREQ(env.hook_names[2], "distutils");
    CHECK(!env.hook_unknown);
    CHECK_EQ_INT(env.minor, 12);
    env_free(&env);
    /* a finder whose names are unknown */
    write_answer("[3, 12]", "[{\"finder\": \"magic.Finder\", \"names\": null}]");
    REQUIRE(env_find(&o, &env, &err) == ST_OK);
    CHECK(env.hook_unknown);
    CHECK_EQ_INT(env.n_hook_names, 0);
    CHECK_STREQ(env.hook_finders[0], "magic.Finder");
    env_free(&env);
    teardown();
}

/* env_find with --python body (a script); the message, or "" when found. */
static const char *broken(const char *body, unsigned timeout_ms, st_rc_t *rc)
{
    static st_err_t err;
    char python[PATH_MAX];
    env_opts_t o;
    env_t env;

    script("broken", body, python, sizeof python);
    o = with_python(python);
    o.timeout_ms = timeout_ms;
    err = (st_err_t){0};
    *rc = env_find(&o, &env, &err);
    if (*rc == ST_OK)
        env_free(&env);
    return err.msg;
}

TEST(env_broken_interpreter_named_is_an_error)
{
    char body[PATH_MAX + 64];
    st_rc_t rc;

    setup();
    CHECK(strstr(broken("echo hello", 0, &rc), "not a Python interpreter's answer: 'hello'") !=
          NULL);
    CHECK_EQ_INT(rc, ST_EINVAL);
    CHECK(strstr(broken("echo boom >&2; exit 1", 0, &rc), "exited 1: boom") != NULL);
    CHECK_EQ_INT(rc, ST_EINVAL);
    CHECK(strncmp(broken("exit 3", 0, &rc), "--python ", 9) == 0);
    /* sleeps past the timeout: it ends, killed */
    CHECK(strstr(broken("exec sleep 30", 200, &rc), "no answer in 200 ms") != NULL);
    CHECK_EQ_INT(rc, ST_EINVAL);
    /* a shell that starts a child holding the pipe: both killed */
    CHECK(strstr(broken("sleep 30", 200, &rc), "no answer in 200 ms") != NULL);
    CHECK(strstr(broken("kill -9 $$", 0, &rc), "killed by signal 9") != NULL);
    /* much on stderr is read (and dropped) while the answer comes */
    snprintf(body, sizeof body, "yes warning | head -c 300000 >&2; /bin/cat %s/answer.json", dir);
    broken(body, 0, &rc);
    CHECK_EQ_INT(rc, ST_OK);
    /* endless output: cut at the limit, killed */
    CHECK(strstr(broken("exec yes", 0, &rc), "printed more than 1048576 bytes") != NULL);
    CHECK(strstr(broken("echo '{\"strata\": 1, \"version\": [2, 7]}'", 0, &rc), "not a Python") !=
          NULL);
    teardown();
}

TEST(env_named_interpreter_that_cannot_run)
{
    char path[PATH_MAX];
    env_opts_t o;
    env_t env;
    st_err_t err = {0};

    setup();
    tmpdir_write(dir, "plain", "#!/bin/sh\nexit 0\n", path, sizeof path);
    chmod(path, 0644);
    o = with_python(path);
    CHECK_EQ_INT(env_find(&o, &env, &err), ST_EINVAL);
    CHECK(strstr(err.msg, "not an executable file") != NULL);
    snprintf(path, sizeof path, "%s/nothing", dir);
    o = with_python(path);
    CHECK_EQ_INT(env_find(&o, &env, &err), ST_EINVAL);
    CHECK(strstr(err.msg, "No such file") != NULL);
    o = with_python(dir); /* a directory without bin/python */
    CHECK_EQ_INT(env_find(&o, &env, &err), ST_EINVAL);
    CHECK(strstr(err.msg, "a directory without bin/python") != NULL);
    /* the configuration's python: an error too, named as such */
    o = (env_opts_t){.python_config = path};
    CHECK_EQ_INT(env_find(&o, &env, &err), ST_EINVAL);
    CHECK(strncmp(err.msg, "the configuration's python ", 27) == 0);
    /* an executable that is no program */
    tmpdir_write(dir, "junk",
                 "\x7f"
                 "ELFjunk",
                 path, sizeof path);
    chmod(path, 0755);
    o = with_python(path);
    CHECK_EQ_INT(env_find(&o, &env, &err), ST_EINVAL);
    CHECK(strstr(err.msg, "cannot run it") != NULL);
    CHECK(env.python == NULL && !env.found);
    teardown();
}

TEST(env_python_2_is_refused)
{
    char python[PATH_MAX];
    env_opts_t o;
    env_t env;
    st_err_t err = {0};

    o = start(python);
    write_answer("[2, 7]", "[]");
    CHECK_EQ_INT(env_find(&o, &env, &err), ST_EINVAL);
    CHECK(strstr(err.msg, "Python 2.7: strata checks Python 3") != NULL);
    /* found by looking: not used, and nothing of it kept */
    o = (env_opts_t){.project_root = dir};
    make_dir(".venv");
    make_dir(".venv/bin");
    snprintf(python, sizeof python, "/bin/cat %s/answer.json", dir);
    script(".venv/bin/python", python, python, sizeof python);
    REQUIRE(env_find(&o, &env, &err) == ST_OK);
    CHECK(!env.found && env.problem != NULL && strstr(env.problem, "Python 2.7") != NULL);
    CHECK(env.n_paths == 0 && env.paths == NULL && env.prefix == NULL);
    CHECK_EQ_INT(env.version_from, ENV_TARGET_DEFAULT);
    env_free(&env);
    teardown();
}

/* Makes dir/name/bin/python a copy of the fake interpreter. */
static void make_venv(const char *name)
{
    char rel[256], path[PATH_MAX];

    snprintf(rel, sizeof rel, "%s", name);
    make_dir(rel);
    snprintf(rel, sizeof rel, "%s/bin", name);
    make_dir(rel);
    snprintf(rel, sizeof rel, "%s/bin/python", name);
    snprintf(path, sizeof path, "/bin/cat %s/answer.json", dir);
    script(rel, path, path, sizeof path);
}

TEST(env_discovery_order)
{
    char want[PATH_MAX];
    env_opts_t o = {.project_root = dir};
    env_t env;
    st_err_t err = {0};

    setup();
    make_venv("active");
    make_venv(".venv");
    make_venv("venv");
    make_dir("onpath");
    snprintf(want, sizeof want, "/bin/cat %s/answer.json", dir);
    script("onpath/python3", want, want, sizeof want);
    snprintf(want, sizeof want, "/nonexistent::%s/onpath", dir);
    setenv("PATH", want, 1);
    snprintf(want, sizeof want, "%s/active", dir);
    setenv("VIRTUAL_ENV", want, 1);
    REQUIRE(env_find(&o, &env, &err) == ST_OK);
    CHECK_EQ_INT(env.source, ENV_VIRTUALENV);
    snprintf(want, sizeof want, "%s/active/bin/python", dir);
    CHECK_STREQ(env.python, want);
    env_free(&env);
    /* --python DIR: a virtual environment's directory */
    snprintf(want, sizeof want, "%s/venv", dir);
    o.python = want;
    REQUIRE(env_find(&o, &env, &err) == ST_OK);
    CHECK_EQ_INT(env.source, ENV_FLAG);
    CHECK(strstr(env.python, "/venv/bin/python") != NULL);
    env_free(&env);
    o.python = NULL;
    /* $VIRTUAL_ENV without bin/python is passed over */
    setenv("VIRTUAL_ENV", "/nonexistent", 1);
    REQUIRE(env_find(&o, &env, &err) == ST_OK);
    CHECK_EQ_INT(env.source, ENV_DOTVENV);
    CHECK(strstr(env.python, "/.venv/bin/python") != NULL);
    env_free(&env);
    unsetenv("VIRTUAL_ENV");
    snprintf(want, sizeof want, "%s/.venv/bin/python", dir);
    unlink(want);
    REQUIRE(env_find(&o, &env, &err) == ST_OK);
    CHECK_EQ_INT(env.source, ENV_DOTVENV);
    CHECK(strstr(env.python, "/venv/bin/python") != NULL && strstr(env.python, ".venv") == NULL);
    env_free(&env);
    o.project_root = "/nonexistent";
    REQUIRE(env_find(&o, &env, &err) == ST_OK);
    CHECK_EQ_INT(env.source, ENV_PATH);
    CHECK(env.found);
    snprintf(want, sizeof want, "%s/onpath/python3", dir);
    CHECK_STREQ(env.python, want);
    env_free(&env);
    setenv("PATH", "/nonexistent", 1);
    REQUIRE(env_find(&o, &env, &err) == ST_OK);
    CHECK_EQ_INT(env.source, ENV_NONE);
    CHECK(!env.found && env.python == NULL);
    CHECK(env.problem != NULL && strstr(env.problem, "no interpreter") != NULL);
    CHECK_EQ_INT(env.version_from, ENV_TARGET_DEFAULT);
    CHECK_EQ_INT(env.minor, ENV_DEFAULT_MINOR);
    env_free(&env);
    teardown();
}

TEST(env_found_broken_is_a_problem_not_an_error)
{
    char path[PATH_MAX];
    env_opts_t o = {.project_root = dir};
    env_t env;
    st_err_t err = {0};

    setup();
    make_dir(".venv");
    make_dir(".venv/bin");
    script(".venv/bin/python", "echo garbage; exit 0", path, sizeof path);
    REQUIRE(env_find(&o, &env, &err) == ST_OK);
    CHECK(!env.found);
    CHECK_EQ_INT(env.source, ENV_DOTVENV);
    CHECK(env.python != NULL);
    CHECK(env.problem != NULL && strstr(env.problem, "not a Python interpreter's answer") != NULL);
    CHECK_EQ_INT(env.n_paths, 0);
    CHECK_EQ_INT(env.version_from, ENV_TARGET_DEFAULT);
    env_free(&env);
    teardown();
}

TEST(env_target_overrides)
{
    char python[PATH_MAX];
    env_opts_t o;
    env_t env;
    st_err_t err = {0};

    o = start(python);
    o.target_version = "py39";
    o.platform_config = "darwin";
    REQUIRE(env_find(&o, &env, &err) == ST_OK);
    CHECK_EQ_INT(env.minor, 9);
    CHECK_EQ_INT(env.version_from, ENV_TARGET_CONFIG);
    CHECK_STREQ(env.platform, "darwin");
    CHECK_EQ_INT(env.platform_from, ENV_TARGET_CONFIG);
    env_free(&env);
    o.version = "3.13";
    o.platform = "win32";
    REQUIRE(env_find(&o, &env, &err) == ST_OK);
    CHECK_EQ_INT(env.major, 3);
    CHECK_EQ_INT(env.minor, 13);
    CHECK_EQ_INT(env.version_from, ENV_TARGET_FLAG);
    CHECK_STREQ(env.platform, "win32");
    CHECK_EQ_INT(env.platform_from, ENV_TARGET_FLAG);
    env_free(&env);
    /* no interpreter: the defaults, this host's platform */
    CHECK_EQ_INT(runs(), 2);
    o = (env_opts_t){.no_interpreter = true};
    REQUIRE(env_find(&o, &env, &err) == ST_OK);
    CHECK_EQ_INT(env.major, ENV_DEFAULT_MAJOR);
    CHECK_EQ_INT(env.minor, ENV_DEFAULT_MINOR);
    CHECK_STREQ(env.platform, "linux");
    CHECK_EQ_INT(env.platform_from, ENV_TARGET_DEFAULT);
    CHECK(env.problem == NULL && !env.found);
    CHECK_EQ_INT(runs(), 2);
    env_free(&env);
    /* bad values, before anything runs */
    o = with_python(python);
    o.version = "3.x";
    CHECK_EQ_INT(env_find(&o, &env, &err), ST_EINVAL);
    CHECK(strstr(err.msg, "--python-version") != NULL);
    o.version = NULL;
    o.target_version = "py2";
    CHECK_EQ_INT(env_find(&o, &env, &err), ST_EINVAL);
    o.target_version = NULL;
    o.platform = "Linux";
    CHECK_EQ_INT(env_find(&o, &env, &err), ST_EINVAL);
    CHECK(strstr(err.msg, "--python-platform") != NULL);
    o.platform = NULL;
    o.platform_config = "a-b";
    CHECK_EQ_INT(env_find(&o, &env, &err), ST_EINVAL);
    CHECK(strstr(err.msg, "python-platform") != NULL);
    CHECK_EQ_INT(runs(), 2);
    teardown();
}

TEST(env_parse_version_and_platform)
{
    unsigned ma = 0, mi = 0;

    CHECK(env_parse_version("3.0", &ma, &mi) && ma == 3 && mi == 0);
    CHECK(env_parse_version("3.99", &ma, &mi) && mi == 99);
    CHECK(env_parse_version("3.12", &ma, &mi) && mi == 12);
    CHECK(!env_parse_version("3.100", &ma, &mi));
    CHECK(!env_parse_version("2.7", &ma, &mi));
    CHECK(!env_parse_version("3", &ma, &mi));
    CHECK(!env_parse_version("3.11.2", &ma, &mi));
    CHECK(!env_parse_version("3.-1", &ma, &mi));
    CHECK(!env_parse_version("3.011", &ma, &mi) && !env_parse_version("3.01", &ma, &mi));
    CHECK(!env_parse_version("03.1", &ma, &mi) && !env_parse_version(" 3.1", &ma, &mi));
    CHECK(!env_parse_version("", &ma, &mi));
    CHECK(env_valid_platform("linux") && env_valid_platform("freebsd14"));
    CHECK(!env_valid_platform("") && !env_valid_platform("Linux") && !env_valid_platform("a b"));
    CHECK(env_valid_platform("abcdefghijklmnopqrstuvwxyz01234"));
    CHECK(!env_valid_platform("abcdefghijklmnopqrstuvwxyz012345"));
}

TEST(env_typeshed_directory_and_versions)
{
    char path[PATH_MAX], real[PATH_MAX];
    env_opts_t o = {.no_interpreter = true, .version = "3.11"};
    env_t env;
    st_err_t err = {0};

    setup();
    /* the copy beside the test binary (build/share/strata/typeshed) */
    REQUIRE(env_find(&o, &env, &err) == ST_OK);
    CHECK(env.typeshed_stdlib != NULL &&
          strstr(env.typeshed_stdlib, "share/strata/typeshed/stdlib") != NULL);
    CHECK(env_stub_modules(&env) > 200);
    env_free(&env);
    make_dir("ts");
    make_dir("ts/stdlib");
    tmpdir_write(dir, "ts/stdlib/VERSIONS",
                 "# comment\n\nos: 3.0-\nasynchat: 3.0-3.11  # gone\ntomllib: 3.11-\n"
                 "new: 3.13-\nbroken line\nx: 3.x-\n",
                 path, sizeof path);
    snprintf(path, sizeof path, "%s/ts", dir);
    setenv("STRATA_TYPESHED", path, 1);
    REQUIRE(env_find(&o, &env, &err) == ST_OK);
    snprintf(path, sizeof path, "%s/ts/stdlib", dir);
    CHECK(realpath(path, real) != NULL);
    CHECK_STREQ(env.typeshed_stdlib, real);
    CHECK_EQ_INT(env_stub_modules(&env), 3); /* os, asynchat, tomllib */
    env_free(&env);
    o.version = "3.12";
    REQUIRE(env_find(&o, &env, &err) == ST_OK);
    CHECK_EQ_INT(env_stub_modules(&env), 2); /* os, tomllib */
    env_free(&env);
    /* the stdlib directory itself */
    setenv("STRATA_TYPESHED", real, 1);
    REQUIRE(env_find(&o, &env, &err) == ST_OK);
    CHECK_STREQ(env.typeshed_stdlib, real);
    env_free(&env);
    setenv("STRATA_TYPESHED", dir, 1);
    CHECK_EQ_INT(env_find(&o, &env, &err), ST_EINVAL);
    CHECK(strstr(err.msg, "STRATA_TYPESHED") != NULL);
    unsetenv("STRATA_TYPESHED");
    teardown();
}

/* The one cache file under dir/cache/python, into path. */
static bool cache_file(char *path, size_t cap)
{
    char sub[PATH_MAX];
    struct dirent *d;
    DIR *dp;
    bool found = false;

    snprintf(sub, sizeof sub, "%s/cache/python", dir);
    if ((dp = opendir(sub)) == NULL)
        return false;
    while ((d = readdir(dp)) != NULL)
        if (d->d_name[0] != '.' && !found)
            found = snprintf(path, cap, "%s/%s", sub, d->d_name) < (int)cap;
    closedir(dp);
    return found;
}

TEST(env_cache)
{
    char python[PATH_MAX], cache[PATH_MAX], file[PATH_MAX], site[PATH_MAX + 64], rel[256];
    struct timeval later[2];
    env_opts_t o;
    env_t env;
    st_err_t err = {0};

    o = start(python);
    snprintf(cache, sizeof cache, "%s/cache", dir);
    o.cache_dir = cache;
    REQUIRE(env_find(&o, &env, &err) == ST_OK);
    CHECK(!env.cached);
    env_free(&env);
    REQUIRE(env_find(&o, &env, &err) == ST_OK);
    CHECK(env.cached);
    CHECK_EQ_INT(env.n_paths, 4);
    CHECK_EQ_INT(env.minor, 11);
    env_free(&env);
    CHECK_EQ_INT(runs(), 1);
    /* refresh: asked again, cached again */
    o.refresh = true;
    REQUIRE(env_find(&o, &env, &err) == ST_OK);
    CHECK(!env.cached);
    env_free(&env);
    CHECK_EQ_INT(runs(), 2);
    o.refresh = false;
    /* a site directory changed (a .pth file added): asked again */
    snprintf(site, sizeof site, "%s/site", dir);
    gettimeofday(&later[0], NULL);
    later[0].tv_sec += 100;
    later[1] = later[0];
    CHECK(utimes(site, later) == 0);
    REQUIRE(env_find(&o, &env, &err) == ST_OK);
    CHECK(!env.cached);
    env_free(&env);
    CHECK_EQ_INT(runs(), 3);
    /* a corrupt file is a miss, and is rewritten */
    REQUIRE(cache_file(file, sizeof file));
    snprintf(rel, sizeof rel, "%.200s", file + strlen(dir) + 1);
    tmpdir_write(dir, rel, "{\"version\": 1, \"python\": [", site, sizeof site);
    REQUIRE(env_find(&o, &env, &err) == ST_OK);
    CHECK(!env.cached);
    env_free(&env);
    CHECK_EQ_INT(runs(), 4);
    REQUIRE(env_find(&o, &env, &err) == ST_OK);
    CHECK(env.cached);
    env_free(&env);
    CHECK_EQ_INT(runs(), 4);
    /* a valid answer of another interpreter in its place: a miss */
    tmpdir_write(dir, rel,
                 "{\"version\": 1, \"python\": \"/usr/bin/python9\", \"real\": \"/x\", "
                 "\"answer\": {}, \"watched\": []}",
                 site, sizeof site);
    REQUIRE(env_find(&o, &env, &err) == ST_OK);
    CHECK(!env.cached);
    env_free(&env);
    CHECK_EQ_INT(runs(), 5);
    /* a FIFO planted in its place is not read (it would block) */
    unlink(file);
    REQUIRE(mkfifo(file, 0644) == 0);
    REQUIRE(env_find(&o, &env, &err) == ST_OK);
    CHECK(!env.cached);
    env_free(&env);
    CHECK_EQ_INT(runs(), 6);
    teardown();
}

TEST(env_cache_dir_unwritable_costs_time_only)
{
    char python[PATH_MAX];
    env_opts_t o;
    env_t env;
    st_err_t err = {0};

    o = start(python);
    o.cache_dir = "/nonexistent/a/b";
    REQUIRE(env_find(&o, &env, &err) == ST_OK);
    CHECK(env.found);
    env_free(&env);
    REQUIRE(env_find(&o, &env, &err) == ST_OK);
    CHECK(!env.cached);
    env_free(&env);
    CHECK_EQ_INT(runs(), 2);
    teardown();
}

/* What fn printed for env, in a string (static). */
static const char *printed(const env_t *env, bool json)
{
    static char text[16384];
    FILE *f = fmemopen(text, sizeof text - 1, "w");

    memset(text, 0, sizeof text);
    if (f == NULL)
        return "";
    if (json)
        CHECK(env_print_json(env, f, NULL) == ST_OK);
    else
        env_print(env, f);
    fclose(f);
    return text;
}

TEST(env_print_text_and_json)
{
    char python[PATH_MAX];
    env_opts_t o;
    env_t env;
    st_err_t err = {0};
    json_t *doc;
    const char *text;

    o = start(python);
    o.version = "3.10";
    REQUIRE(env_find(&o, &env, &err) == ST_OK);
    text = printed(&env, false);
    CHECK(strstr(text, "target:       Python 3.10 on linux\n") != NULL);
    CHECK(strstr(text, "  version:    --python-version\n") != NULL);
    CHECK(strstr(text, "(--python)") != NULL);
    CHECK(strstr(text, "standard library sources") != NULL);
    CHECK(strstr(text, "added by a .pth file") != NULL);
    CHECK(strstr(text, "import hooks: none") != NULL);
    doc = json_loads(printed(&env, true), 0, NULL);
    REQUIRE(doc != NULL);
    CHECK_STREQ(json_string_value(json_object_get(json_object_get(doc, "target"), "version")),
                "3.10");
    CHECK_STREQ(json_string_value(json_object_get(json_object_get(doc, "interpreter"), "found_by")),
                "flag");
    CHECK_EQ_INT(json_array_size(json_object_get(doc, "search_path")), 4);
    CHECK_STREQ(json_string_value(json_object_get(
                    json_array_get(json_object_get(doc, "search_path"), 2), "kind")),
                "site-packages");
    CHECK(json_is_integer(json_object_get(json_object_get(doc, "stubs"), "modules")));
    json_decref(doc);
    env_free(&env);
    /* none found */
    o = (env_opts_t){.no_interpreter = true};
    REQUIRE(env_find(&o, &env, &err) == ST_OK);
    CHECK(strstr(printed(&env, false), "search path:  none") != NULL);
    doc = json_loads(printed(&env, true), 0, NULL);
    REQUIRE(doc != NULL);
    CHECK(json_is_false(json_object_get(json_object_get(doc, "interpreter"), "found")));
    CHECK(json_is_null(json_object_get(json_object_get(doc, "interpreter"), "path")));
    json_decref(doc);
    env_free(&env);
    teardown();
}

TEST(env_failed_allocations)
{
    char python[PATH_MAX], cache[PATH_MAX];
    env_opts_t o;
    env_t env;
    st_err_t err = {0};
    bool done = false;

    o = start(python);
    snprintf(cache, sizeof cache, "%s/cache", dir);
    o.cache_dir = cache;
    REQUIRE(env_find(&o, &env, &err) == ST_OK); /* cached from now on */
    env_free(&env);
    for (long n = 0; n < 200 && !done; n++) {
        st_rc_t rc;

        alloc_fail_after(n);
        rc = env_find(&o, &env, &err);
        done = alloc_fail_armed();
        alloc_fail_after(-1);
        CHECK(rc == ST_OK || rc == ST_ENOMEM);
        if (rc == ST_OK)
            env_free(&env);
        else
            CHECK(env.python == NULL && env.paths == NULL);
    }
    CHECK(done);
    teardown();
}
