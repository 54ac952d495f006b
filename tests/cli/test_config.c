/* test_config.c - configuration files: which file governs a path, how
 * select, ignore, extend-* and per-file-ignores merge with the command
 * line, extend, the per-run keys, and each error with its position. */
#include "cli/config.h"
#include "run/tmpdir.h"
#include "test.h"

#include <string.h>
#include <sys/stat.h>

/* Parses args (NULL-terminated) as `strata check` does into *cli. */
static bool parse(cli_check_t *cli, char **args)
{
    int n = 0;
    st_err_t err = {0};

    while (args[n] != NULL)
        n++;
    return cli_parse_check(n, args, cli, &err) == ST_OK;
}

static void put(const char *dir, const char *name, const char *text)
{
    char path[512];
    tmpdir_write(dir, name, text, path, sizeof path);
}

TEST(config_closest_file_governs)
{
    char dir[64], sub[128], a[160], b[160];
    cli_check_t cli;
    config_set_t *set = NULL;
    st_err_t err = {0};

    REQUIRE(tmpdir_make(dir));
    snprintf(sub, sizeof sub, "%s/sub", dir);
    mkdir(sub, 0755);
    put(dir, "pyproject.toml", "[tool.strata]\nignore = [\"F401\"]\n");
    put(sub, "pyproject.toml", "[project]\nname = 'no tool.strata: does not count'\n");
    put(sub, "strata.toml",
        "select = [\"F\", \"E9\"]\nextend-ignore = [\"F8\"]\n"
        "per-file-ignores = { \"t_*.py\" = [\"E9\"] }\n");
    snprintf(a, sizeof a, "%s/m.py", dir);
    snprintf(b, sizeof b, "%s/t_m.py", sub);
    REQUIRE(parse(&cli, (char *[]){"--ignore", "E999", dir, NULL}));
    REQUIRE(config_set_new(&cli, &set, &err) == ST_OK);
    CHECK(config_lookup(set, a, false, &err) == ST_OK);
    CHECK(config_any(set));
    CHECK(!config_enabled(set, a, "F401"));
    CHECK(config_enabled(set, a, "F811"));
    CHECK(!config_enabled(set, a, "E999")); /* the flag adds to the file's ignores */
    CHECK(config_enabled(set, a, "E0401"));
    CHECK(config_enabled(set, b, "F401"));   /* sub's file replaces the parent's */
    CHECK(!config_enabled(set, b, "F811"));  /* extend-ignore */
    CHECK(!config_enabled(set, b, "E0401")); /* not selected */
    CHECK(!config_enabled(set, b, "E902"));  /* per-file-ignores, by name */
    CHECK(config_error(set, &err) == ST_OK);
    config_set_destroy(&set);
    CHECK(set == NULL);
    cli_check_free(&cli);

    /* .strata.toml wins over strata.toml in one directory */
    put(sub, ".strata.toml", "ignore = [\"F\"]\n");
    REQUIRE(parse(&cli, (char *[]){dir, NULL}));
    REQUIRE(config_set_new(&cli, &set, &err) == ST_OK);
    CHECK(!config_enabled(set, b, "F401"));
    CHECK(config_enabled(set, b, "E902"));
    config_set_destroy(&set);
    cli_check_free(&cli);
    tmpdir_remove(dir);
}

TEST(config_exclude_is_relative_to_the_file)
{
    char dir[64], p[160];
    cli_check_t cli;
    config_set_t *set = NULL;
    st_err_t err = {0};

    REQUIRE(tmpdir_make(dir));
    put(dir, "strata.toml", "exclude = [\"build\"]\nextend-exclude = [\"gen/*.py\"]\n");
    REQUIRE(parse(&cli, (char *[]){dir, NULL}));
    REQUIRE(config_set_new(&cli, &set, &err) == ST_OK);
    snprintf(p, sizeof p, "%s/build", dir);
    CHECK(config_skip(set, p, "build"));
    snprintf(p, sizeof p, "%s/gen", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/gen/x.py", dir);
    CHECK(config_skip(set, p, "x.py"));
    snprintf(p, sizeof p, "%s/src/x.py", dir);
    CHECK(!config_skip(set, p, "x.py"));
    config_set_destroy(&set);
    cli_check_free(&cli);
    tmpdir_remove(dir);
}

TEST(config_run_keys_and_flags)
{
    char dir[64], cache[128];
    cli_check_t cli;
    config_set_t *set = NULL;
    st_err_t err = {0};

    REQUIRE(tmpdir_make(dir));
    put(dir, "base.toml", "jobs = 3\nworkers = 4\nquiet = true\n");
    put(dir, "strata.toml",
        "extend = \"base.toml\"\nworkers = 5\ndurability = \"memory\"\n"
        "cache-dir = \"c\"\nmax-file-size = 2048\nno-workers = true\n"
        "job-timeout = 9\noutput-format = \"json\"\n"
        "target-version = \"py312\"\nrespect-gitignore = false\n");
    REQUIRE(parse(&cli, (char *[]){"--workers", "7", dir, NULL}));
    REQUIRE(config_set_new(&cli, &set, &err) == ST_OK);
    REQUIRE(config_apply_run(set, &cli, &err) == ST_OK);
    snprintf(cache, sizeof cache, "%s/c", dir);
    CHECK_EQ_INT(cli.jobs, 3);
    CHECK_EQ_INT(cli.workers, 7); /* the flag wins */
    CHECK(cli.quiet && cli.no_workers && !cli.respect_gitignore);
    CHECK_EQ_INT(cli.durability, CAS_MEMORY);
    CHECK_STREQ(cli.cache_dir, cache);
    CHECK_EQ_INT(cli.max_file_bytes, 2048);
    CHECK_EQ_INT(cli.job_timeout_s, 9);
    CHECK_EQ_INT(cli.format, REPORT_FORMAT_JSON);
    CHECK_STREQ(cli.target_version, "py312");
    config_set_destroy(&set);
    cli_check_free(&cli);
    tmpdir_remove(dir);
}

/* The error reading dir's strata.toml holding text contains want. */
static bool fails_with(const char *text, const char *want)
{
    char dir[64], file[128];
    cli_check_t cli;
    config_set_t *set = NULL;
    st_err_t err = {0};
    bool ok;

    if (!tmpdir_make(dir))
        return false;
    put(dir, "strata.toml", text);
    put(dir, "loop.toml", "extend = \"strata.toml\"\n");
    snprintf(file, sizeof file, "%s/m.py", dir);
    if (!parse(&cli, (char *[]){dir, NULL}))
        return false;
    ok = config_set_new(&cli, &set, &err) == ST_OK &&
         (config_lookup(set, file, false, &err) != ST_OK ||
          config_apply_run(set, &cli, &err) != ST_OK) &&
         err.code == ST_EINVAL && strstr(err.msg, want) != NULL && strstr(err.msg, dir) != NULL;
    if (!ok)
        fprintf(stderr, "got '%s', want '%s'\n", err.msg, want);
    config_set_destroy(&set);
    cli_check_free(&cli);
    tmpdir_remove(dir);
    return ok;
}

TEST(config_errors_name_file_line_col)
{
    CHECK(fails_with("select = [\"F\"\n", "strata.toml:1:"));
    CHECK(fails_with("\nfoo = 1\n", "strata.toml:2:1: unknown key 'foo'"));
    CHECK(fails_with("ignore = [1]\n", "strata.toml:1:10: expected an array of rule codes"));
    CHECK(fails_with("ignore = [\"x1\"]\n", "strata.toml:1:11: invalid rule code 'x1'"));
    CHECK(fails_with("per-file-ignores = [\"F\"]\n", "strata.toml:1:20: expected a table"));
    CHECK(fails_with("workers = 0\n", "strata.toml:1:11: invalid value '0' for workers"));
    CHECK(fails_with("jobs = -1\n", "strata.toml:1:8: invalid value for 'jobs'"));
    CHECK(fails_with("quiet = 1\n", "expected true or false"));
    CHECK(fails_with("target-version = \"py3\"\n", "'target-version' (expected py37 to py314)"));
    CHECK(fails_with("extend = \"loop.toml\"\n", "extend: a cycle"));
    CHECK(fails_with("extend = \"none.toml\"\n", "extend: cannot read 'none.toml'"));
}

TEST(config_one_target_version)
{
    char dir[64], a[128], b[128], fa[160], fb[160];
    cli_check_t cli;
    config_set_t *set = NULL;
    st_err_t err = {0};

    REQUIRE(tmpdir_make(dir));
    snprintf(a, sizeof a, "%s/a", dir);
    snprintf(b, sizeof b, "%s/b", dir);
    mkdir(a, 0755);
    mkdir(b, 0755);
    put(a, "strata.toml", "target-version = \"py310\"\n");
    put(b, "strata.toml", "target-version = \"py311\"\n");
    snprintf(fa, sizeof fa, "%s/m.py", a);
    snprintf(fb, sizeof fb, "%s/m.py", b);
    REQUIRE(parse(&cli, (char *[]){dir, NULL}));
    REQUIRE(config_set_new(&cli, &set, &err) == ST_OK);
    CHECK(config_lookup(set, fa, false, &err) == ST_OK);
    CHECK(config_lookup(set, fb, false, &err) == ST_EINVAL);
    CHECK(strstr(err.msg, "target-version 'py311' differs from 'py310'") != NULL);
    config_set_destroy(&set);
    cli_check_free(&cli);
    tmpdir_remove(dir);
}

TEST(config_isolated_and_only)
{
    char dir[64], f[128], only[128];
    cli_check_t cli;
    config_set_t *set = NULL;
    st_err_t err = {0};

    REQUIRE(tmpdir_make(dir));
    put(dir, "strata.toml", "ignore = [\"F401\"]\n");
    put(dir, "other.toml", "ignore = [\"E9\"]\n");
    snprintf(f, sizeof f, "%s/m.py", dir);
    snprintf(only, sizeof only, "%s/other.toml", dir);
    REQUIRE(parse(&cli, (char *[]){"--isolated", dir, NULL}));
    REQUIRE(config_set_new(&cli, &set, &err) == ST_OK);
    CHECK(config_enabled(set, f, "F401"));
    CHECK(!config_any(set));
    config_set_destroy(&set);
    cli_check_free(&cli);
    REQUIRE(parse(&cli, (char *[]){"--config", only, dir, NULL}));
    REQUIRE(config_set_new(&cli, &set, &err) == ST_OK);
    CHECK(config_enabled(set, f, "F401"));
    CHECK(!config_enabled(set, f, "E902"));
    config_set_destroy(&set);
    cli_check_free(&cli);
    tmpdir_remove(dir);
}

TEST(config_show_says_where)
{
    char dir[64], line[256];
    cli_check_t cli;
    config_set_t *set = NULL;
    st_err_t err = {0};
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);

    REQUIRE(out != NULL && tmpdir_make(dir));
    put(dir, "strata.toml", "\nignore = [\"F401\"]\n");
    REQUIRE(parse(&cli, (char *[]){"--quiet", dir, NULL}));
    REQUIRE(config_set_new(&cli, &set, &err) == ST_OK);
    CHECK(config_show(set, dir, out, &err) == ST_OK);
    fclose(out);
    snprintf(line, sizeof line, "ignore             = [\"F401\"]  # %s/strata.toml:2\n", dir);
    CHECK(strstr(text, line) != NULL);
    CHECK(strstr(text, "quiet              = true  # --quiet\n") != NULL);
    CHECK(strstr(text, "select             = [\"ALL\"]  # default\n") != NULL);
    free(text);
    config_set_destroy(&set);
    cli_check_free(&cli);
    tmpdir_remove(dir);
}

TEST(config_flags_given)
{
    cli_check_t cli;
    st_err_t err = {0};

    REQUIRE(parse(&cli, (char *[]){"-j", "2", "--config=x.toml", NULL}));
    CHECK(cli_check_given(&cli, "--jobs"));
    CHECK(!cli_check_given(&cli, "--workers"));
    CHECK(!cli_check_given(&cli, "--no-such-flag"));
    CHECK_STREQ(cli.config, "x.toml");
    CHECK(cli.respect_gitignore);
    cli_check_free(&cli);
    CHECK(cli_parse_check(3, (char *[]){"--config", "x.toml", "--isolated"}, &cli, &err) ==
          ST_EINVAL);
    CHECK(strstr(err.msg, "--config and --isolated") != NULL);
    CHECK(cli_check_set(&cli, "--nope", "nope", "1", &err) == ST_EINVAL);
}
