/* test_envcmd.c - the Python environment on the command line: the
 * --python, --python-version and --python-platform flags, the python and
 * python-platform keys (relative to their file, one per run, shown by
 * strata config), the project root and cache of envcmd_find, and `strata
 * env`'s exit statuses and formats. A fake interpreter (a shell script
 * printing a canned answer) stands for Python. */
#include "cli/config.h"
#include "cli/envcmd.h"
#include "run/tmpdir.h"
#include "test.h"

#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char dir[64];

static bool parse(cli_check_t *cli, char **args, st_err_t *err)
{
    int n = 0;

    while (args[n] != NULL)
        n++;
    return cli_parse_check(n, args, cli, err) == ST_OK;
}

static void put(const char *name, const char *text)
{
    char path[PATH_MAX];
    tmpdir_write(dir, name, text, path, sizeof path);
}

/* dir/name: a fake interpreter answering Python 3.9 on "sunos5". */
static void fake_python(const char *name)
{
    char text[PATH_MAX * 2], path[PATH_MAX];

    snprintf(text, sizeof text,
             "#!/bin/sh\n/bin/cat <<'EOF'\n{\"strata\": 1, \"version\": [3, 9], \"platform\": "
             "\"sunos5\", \"prefix\": \"%s\", \"venv\": true, \"executable\": null, "
             "\"stdlib\": null, \"sites\": [], \"path\": [[\"%s\", \"venv\"]], \"hooks\": "
             "[]}\nEOF\n",
             dir, dir);
    tmpdir_write(dir, name, text, path, sizeof path);
    chmod(path, 0755);
}

static void setup(void)
{
    CHECK(tmpdir_make(dir));
    unsetenv("VIRTUAL_ENV");
}

TEST(envcmd_flags_parse)
{
    cli_check_t cli;
    st_err_t err = {0};

    REQUIRE(parse(&cli,
                  (char *[]){"--python", "/x/python", "--python-version=3.11", "--python-platform",
                             "darwin", ".", NULL},
                  &err));
    CHECK_STREQ(cli.python, "/x/python");
    CHECK_STREQ(cli.python_version, "3.11");
    CHECK_STREQ(cli.python_platform, "darwin");
    CHECK(cli_check_given(&cli, "--python-version"));
    cli_check_free(&cli);
    CHECK(!parse(&cli, (char *[]){"--python-version", "2.7", NULL}, &err));
    CHECK(strstr(err.msg, "invalid value '2.7' for --python-version (expected 3.0 to 3.99") !=
          NULL);
    CHECK(!parse(&cli, (char *[]){"--python-version=3.11.1", NULL}, &err));
    CHECK(!parse(&cli, (char *[]){"--python-platform", "Win32", NULL}, &err));
    CHECK(strstr(err.msg, "for --python-platform") != NULL);
    CHECK(!parse(&cli, (char *[]){"--python=", NULL}, &err));
    CHECK(strstr(err.msg, "empty path for --python") != NULL);
    CHECK(!parse(&cli, (char *[]){"--python", NULL}, &err));
    /* strata submit hands them to check's parser */
    cli_submit_t sub;
    REQUIRE(cli_parse_submit(
                4, (char *[]){"--coordinator", "tcp://h:1", "--python-version", "3.10", NULL}, &sub,
                &err) == ST_OK);
    CHECK_STREQ(sub.check.python_version, "3.10");
    cli_submit_free(&sub);
}

TEST(envcmd_config_keys)
{
    char sub[PATH_MAX], want[PATH_MAX + 16], line[2 * PATH_MAX + 64];
    cli_check_t cli;
    config_set_t *set = NULL;
    st_err_t err = {0};
    char *text = NULL;
    size_t len = 0;
    FILE *out;

    setup();
    put("strata.toml", "python = \"env/bin/python\"\npython-platform = \"win32\"\n"
                       "target-version = \"py310\"\n");
    REQUIRE(parse(&cli, (char *[]){dir, NULL}, &err));
    REQUIRE(config_set_new(&cli, &set, &err) == ST_OK);
    REQUIRE(config_apply_run(set, &cli, &err) == ST_OK);
    snprintf(want, sizeof want, "%s/env/bin/python", dir);
    CHECK_STREQ(cli.python_config, want);
    CHECK_STREQ(cli.platform_config, "win32");
    CHECK_STREQ(cli.target_version, "py310");
    CHECK(cli.config_dir != NULL && strstr(cli.config_dir, dir + 4) != NULL);
    CHECK(cli.python == NULL);
    config_set_destroy(&set);
    cli_check_free(&cli);

    /* strata config shows them, the flags winning */
    out = open_memstream(&text, &len);
    REQUIRE(parse(&cli, (char *[]){"--python-version", "3.12", dir, NULL}, &err));
    REQUIRE(config_set_new(&cli, &set, &err) == ST_OK);
    CHECK(config_show(set, dir, out, &err) == ST_OK);
    fclose(out);
    snprintf(line, sizeof line, "python             = \"%s\"  # %s/strata.toml:1\n", want, dir);
    CHECK(strstr(text, line) != NULL);
    CHECK(strstr(text, "python-platform    = \"win32\"  #") != NULL);
    CHECK(strstr(text, "target-version     = \"3.12\"  #") != NULL);
    CHECK(strstr(text, ", --python-version\n") != NULL);
    free(text);
    config_set_destroy(&set);
    cli_check_free(&cli);

    /* bad values, and one per run */
    put("strata.toml", "python-platform = \"Linux\"\n");
    REQUIRE(parse(&cli, (char *[]){dir, NULL}, &err));
    CHECK(config_set_new(&cli, &set, &err) == ST_OK);
    CHECK(config_apply_run(set, &cli, &err) == ST_EINVAL);
    CHECK(strstr(err.msg, "strata.toml:1:19:") != NULL);
    config_set_destroy(&set);
    cli_check_free(&cli);
    put("strata.toml", "python = \"a/python\"\n");
    snprintf(sub, sizeof sub, "%s/sub", dir);
    mkdir(sub, 0755);
    put("sub/strata.toml", "python = \"a/python\"\n");
    put("sub/m.py", "");
    REQUIRE(parse(&cli, (char *[]){dir, NULL}, &err));
    REQUIRE(config_set_new(&cli, &set, &err) == ST_OK);
    snprintf(want, sizeof want, "%s/m.py", dir);
    CHECK(config_lookup(set, want, false, &err) == ST_OK);
    snprintf(want, sizeof want, "%s/m.py", sub);
    CHECK(config_lookup(set, want, false, &err) == ST_EINVAL);
    CHECK(strstr(err.msg, "python '") != NULL);
    CHECK(strstr(err.msg, "one run checks for one interpreter") != NULL);
    config_set_destroy(&set);
    cli_check_free(&cli);
    tmpdir_remove(dir);
}

TEST(envcmd_find_uses_the_project)
{
    char cache[PATH_MAX], python[PATH_MAX];
    cli_check_t cli;
    config_set_t *set = NULL;
    env_t env;
    st_err_t err = {0};

    setup();
    mkdir((snprintf(python, sizeof python, "%s/.venv", dir), python), 0755);
    mkdir((snprintf(python, sizeof python, "%s/.venv/bin", dir), python), 0755);
    fake_python(".venv/bin/python");
    put("pkg.py", "");
    put("strata.toml", "python-platform = \"emscripten\"\n");
    snprintf(cache, sizeof cache, "%s/cache", dir);
    snprintf(python, sizeof python, "%s/pkg.py", dir);
    REQUIRE(parse(&cli, (char *[]){"--cache-dir", cache, python, NULL}, &err));
    REQUIRE(config_set_new(&cli, &set, &err) == ST_OK);
    REQUIRE(config_apply_run(set, &cli, &err) == ST_OK);
    REQUIRE(envcmd_find(&cli, &env, &err) == ST_OK);
    CHECK(env.found);
    CHECK_EQ_INT(env.source, ENV_DOTVENV);
    CHECK_EQ_INT(env.minor, 9);
    CHECK_STREQ(env.platform, "emscripten");
    CHECK_EQ_INT(env.platform_from, ENV_TARGET_CONFIG);
    env_free(&env);
    REQUIRE(envcmd_find(&cli, &env, &err) == ST_OK);
    CHECK(env.cached);
    env_free(&env);
    config_set_destroy(&set);
    cli_check_free(&cli);
    /* --no-cache: asked every time */
    REQUIRE(parse(&cli, (char *[]){"--isolated", "--no-cache", python, NULL}, &err));
    REQUIRE(envcmd_find(&cli, &env, &err) == ST_OK);
    CHECK(!env.cached);
    CHECK_EQ_INT(env.source, ENV_DOTVENV); /* the file's directory */
    env_free(&env);
    cli_check_free(&cli);
    tmpdir_remove(dir);
}

/* Runs `strata env` with args; its stdout into out (static), the status. */
static int run_env(char **args, const char **out, const char **errout)
{
    static char text[16384], errtext[4096];
    FILE *o = fmemopen(text, sizeof text - 1, "w"), *e = fmemopen(errtext, sizeof errtext - 1, "w");
    int n = 0, status;

    memset(text, 0, sizeof text);
    memset(errtext, 0, sizeof errtext);
    while (args[n] != NULL)
        n++;
    status = envcmd_run(n, args, o, e);
    fclose(o);
    fclose(e);
    *out = text;
    *errout = errtext;
    return status;
}

TEST(envcmd_strata_env)
{
    char python[PATH_MAX];
    const char *out, *err;
    json_t *doc;

    setup();
    fake_python("python");
    snprintf(python, sizeof python, "%s/python", dir);
    CHECK_EQ_INT(run_env((char *[]){"--help", NULL}, &out, &err), 0);
    CHECK(strstr(out, "usage: strata env") != NULL);
    CHECK_EQ_INT(run_env((char *[]){"--isolated", "--python", python, dir, NULL}, &out, &err), 0);
    CHECK(strstr(out, "target:       Python 3.9 on sunos5\n") != NULL);
    CHECK(strstr(out, "the virtual environment's site-packages") != NULL);
    CHECK_EQ_INT(run_env((char *[]){"--isolated", "--format", "json", "--python", python,
                                    "--python-version", "3.13", dir, NULL},
                         &out, &err),
                 0);
    REQUIRE((doc = json_loads(out, 0, NULL)) != NULL);
    CHECK_STREQ(json_string_value(json_object_get(json_object_get(doc, "target"), "version")),
                "3.13");
    CHECK_STREQ(json_string_value(json_object_get(json_object_get(doc, "target"), "version_from")),
                "flag");
    CHECK(json_is_true(json_object_get(json_object_get(doc, "interpreter"), "found")));
    json_decref(doc);
    CHECK_EQ_INT(run_env((char *[]){"--format", "sarif", NULL}, &out, &err), 2);
    CHECK(strstr(err, "--format is text or json") != NULL);
    CHECK_EQ_INT(run_env((char *[]){"--python-version", "4.0", NULL}, &out, &err), 2);
    CHECK_EQ_INT(run_env((char *[]){"--isolated", "--python", dir, NULL}, &out, &err), 2);
    CHECK(strstr(err, "strata env: --python ") != NULL);
    CHECK(strstr(err, "a directory without bin/python") != NULL);
    snprintf(python, sizeof python, "%s/nothing", dir);
    CHECK_EQ_INT(run_env((char *[]){"--isolated", "--python", python, NULL}, &out, &err), 2);
    put("strata.toml", "bad-key = 1\n");
    CHECK_EQ_INT(run_env((char *[]){dir, NULL}, &out, &err), 2);
    CHECK(strstr(err, "unknown key 'bad-key'") != NULL);
    tmpdir_remove(dir);
}

TEST(envcmd_warning)
{
    char text[512] = {0};
    FILE *f = fmemopen(text, sizeof text - 1, "w");
    env_t env = {.python = "/x/python", .problem = "/x/python: exited 1: boom"};

    REQUIRE(f != NULL);
    envcmd_warn(&env, f);
    env.found = true;
    envcmd_warn(&env, f);
    fclose(f);
    CHECK_STREQ(text, "strata: warning: the interpreter found is not used: /x/python: exited 1: "
                      "boom; installed packages are not checked (see strata env)\n");
}
