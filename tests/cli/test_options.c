/* test_cli.c - `strata check` option parsing and rule-code selection. */
#include "test.h"

#include "common/alloc.h"
#include "cli/options.h"

#include <stdlib.h>
#include <unistd.h>

#define ARGC(v) ((int)(sizeof(v) / sizeof((v)[0])))

/* Parses a NULL-free vector; the rc. */
static st_rc_t parse(int argc, char **argv, cli_check_t *cfg, st_err_t *err)
{
    *err = (st_err_t){0};
    return cli_parse_check(argc, argv, cfg, err);
}

TEST(cli_defaults)
{
    char *argv[] = {"src"};
    cli_check_t cfg;
    st_err_t err;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);

    REQUIRE(parse(ARGC(argv), argv, &cfg, &err) == ST_OK);
    CHECK_EQ_INT(cfg.n_paths, 1);
    CHECK_STREQ(cfg.paths[0], "src");
    CHECK_EQ_INT(cfg.format, REPORT_FORMAT_TEXT);
    CHECK_EQ_INT(cfg.jobs, cpus < 1 ? 1 : cpus);
    CHECK_EQ_INT(cfg.max_file_bytes, 0);
    CHECK_EQ_INT(cfg.rules.n_select, 0);
    CHECK_EQ_INT(cfg.rules.n_ignore, 0);
    CHECK_EQ_INT(cfg.n_exclude, 0);
    CHECK(!cfg.quiet);
    CHECK(!cfg.help);
    cli_check_free(&cfg);
    CHECK(cfg.arena == NULL);
}

TEST(cli_no_path_means_dot)
{
    cli_check_t cfg;
    st_err_t err;

    REQUIRE(parse(0, NULL, &cfg, &err) == ST_OK);
    REQUIRE(cfg.n_paths == 1);
    CHECK_STREQ(cfg.paths[0], ".");
    cli_check_free(&cfg);
}

TEST(cli_separate_values)
{
    char *argv[] = {"--format", "json",     "a",    "--jobs",    "3",     "--select",
                    "F4,E9",    "--ignore", "F401", "--exclude", "build", "--max-file-size",
                    "1000",     "--quiet",  "b"};
    cli_check_t cfg;
    st_err_t err;

    REQUIRE(parse(ARGC(argv), argv, &cfg, &err) == ST_OK);
    CHECK_EQ_INT(cfg.format, REPORT_FORMAT_JSON);
    CHECK_EQ_INT(cfg.jobs, 3);
    REQUIRE(cfg.rules.n_select == 2);
    CHECK_STREQ(cfg.rules.select[0], "F4");
    CHECK_STREQ(cfg.rules.select[1], "E9");
    REQUIRE(cfg.rules.n_ignore == 1);
    CHECK_STREQ(cfg.rules.ignore[0], "F401");
    REQUIRE(cfg.n_exclude == 1);
    CHECK_STREQ(cfg.exclude[0], "build");
    CHECK_EQ_INT(cfg.max_file_bytes, 1000);
    CHECK(cfg.quiet);
    REQUIRE(cfg.n_paths == 2);
    CHECK_STREQ(cfg.paths[0], "a");
    CHECK_STREQ(cfg.paths[1], "b");
    cli_check_free(&cfg);
}

TEST(cli_inline_values_and_short_forms)
{
    char *argv[] = {"--format=text",
                    "--jobs=2",
                    "-j",
                    "5",
                    "--select=F",
                    "--ignore=F8,E",
                    "--exclude=a",
                    "--exclude",
                    "b*",
                    "--max-file-size=7",
                    "-q",
                    "x.py"};
    char *argv2[] = {"-j7"};
    cli_check_t cfg;
    st_err_t err;

    REQUIRE(parse(ARGC(argv), argv, &cfg, &err) == ST_OK);
    CHECK_EQ_INT(cfg.format, REPORT_FORMAT_TEXT);
    CHECK_EQ_INT(cfg.jobs, 5); /* the last one wins */
    CHECK_EQ_INT(cfg.rules.n_select, 1);
    CHECK_EQ_INT(cfg.rules.n_ignore, 2);
    REQUIRE(cfg.n_exclude == 2);
    CHECK_STREQ(cfg.exclude[1], "b*");
    CHECK_EQ_INT(cfg.max_file_bytes, 7);
    CHECK(cfg.quiet);
    cli_check_free(&cfg);
    REQUIRE(parse(ARGC(argv2), argv2, &cfg, &err) == ST_OK);
    CHECK_EQ_INT(cfg.jobs, 7);
    cli_check_free(&cfg);
}

TEST(cli_jobs_zero_is_online_cpus)
{
    char *argv[] = {"--jobs", "0"};
    cli_check_t cfg;
    st_err_t err;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);

    REQUIRE(parse(ARGC(argv), argv, &cfg, &err) == ST_OK);
    CHECK_EQ_INT(cfg.jobs, cpus < 1 ? 1 : cpus);
    cli_check_free(&cfg);
}

TEST(cli_double_dash_ends_options)
{
    char *argv[] = {"-q", "--", "--format", "-", "-j"};
    cli_check_t cfg;
    st_err_t err;

    REQUIRE(parse(ARGC(argv), argv, &cfg, &err) == ST_OK);
    REQUIRE(cfg.n_paths == 3);
    CHECK_STREQ(cfg.paths[0], "--format");
    CHECK_STREQ(cfg.paths[1], "-");
    CHECK_STREQ(cfg.paths[2], "-j");
    cli_check_free(&cfg);
}

TEST(cli_help)
{
    char *argv[] = {"--select", "F", "--help", "x"};
    char *argv2[] = {"-h"};
    cli_check_t cfg;
    st_err_t err;

    REQUIRE(parse(ARGC(argv), argv, &cfg, &err) == ST_OK);
    CHECK(cfg.help);
    cli_check_free(&cfg);
    REQUIRE(parse(ARGC(argv2), argv2, &cfg, &err) == ST_OK);
    CHECK(cfg.help);
    cli_check_free(&cfg);
    CHECK(strstr(cli_check_usage(), "--max-file-size") != NULL);
}

/* Each bad command line fails with ST_EINVAL and a message containing want. */
static void check_bad(int argc, char **argv, const char *want)
{
    cli_check_t cfg = {0};
    st_err_t err;

    CHECK_EQ_INT(parse(argc, argv, &cfg, &err), ST_EINVAL);
    CHECK_EQ_INT(err.code, ST_EINVAL);
    if (strstr(err.msg, want) == NULL)
        CHECK_STREQ(err.msg, want);
    CHECK(cfg.arena == NULL); /* untouched */
}

#define BAD(want, ...)                                                                             \
    do {                                                                                           \
        char *v_[] = {__VA_ARGS__};                                                                \
        check_bad(ARGC(v_), v_, want);                                                             \
    } while (0)

TEST(cli_bad_flags)
{
    BAD("unknown option '--bogus'", "--bogus");
    BAD("unknown option '-x'", "-x");
    BAD("unknown option '--form=json'", "--form=json");
    BAD("option '--quiet' takes no value", "--quiet=1");
    BAD("option '-q' takes no value", "-qj");
    BAD("option '--jobs' needs a value", "--jobs");
    BAD("option '-j' needs a value", "a", "-j");
    BAD("option '--format' needs a value", "--format");
}

TEST(cli_bad_values)
{
    BAD("invalid value 'xml' for --format", "--format", "xml");
    BAD("invalid value '' for --format", "--format=");
    BAD("invalid value '-1' for --jobs", "--jobs", "-1");
    BAD("invalid value 'abc' for --jobs", "--jobs=abc");
    BAD("invalid value '1025' for --jobs", "--jobs", "1025");
    BAD("invalid value '99999999999999999999999' for -j", "-j", "99999999999999999999999");
    BAD("invalid value '3x' for -j", "-j3x");
    BAD("invalid value '0' for --max-file-size", "--max-file-size", "0");
    BAD("invalid value '12k' for --max-file-size", "--max-file-size=12k");
    BAD("invalid value '4294967296' for --max-file-size", "--max-file-size", "4294967296");
    BAD("empty pattern for --exclude", "--exclude", "");
    BAD("invalid rule code 'f401'", "--select", "f401");
    BAD("invalid rule code ''", "--select", "F401,");
    BAD("invalid rule code ''", "--ignore", "");
    BAD("invalid rule code '4'", "--ignore", "F,4");
    BAD("invalid rule code 'F4X'", "--select=F4X");
    BAD("invalid rule code 'F 4'", "--select=F 4");
}

TEST(cli_max_values_accepted)
{
    char *argv[] = {"--jobs", "1024", "--max-file-size", "4294967295"};
    cli_check_t cfg;
    st_err_t err;

    REQUIRE(parse(ARGC(argv), argv, &cfg, &err) == ST_OK);
    CHECK_EQ_INT(cfg.jobs, 1024);
    CHECK_EQ_INT(cfg.max_file_bytes, 4294967295u);
    cli_check_free(&cfg);
}

TEST(cli_codes_all_is_empty_prefix)
{
    arena_t *a = arena_new(0);
    const char **codes = NULL;
    size_t n = 0;
    st_err_t err = {0};

    REQUIRE(a != NULL);
    REQUIRE(cli_parse_codes(a, "ALL,F401,E", &codes, &n, &err) == ST_OK);
    REQUIRE(n == 3);
    CHECK_STREQ(codes[0], "");
    CHECK_STREQ(codes[1], "F401");
    CHECK_STREQ(codes[2], "E");
    /* Many codes: the array grows. */
    for (int i = 0; i < 100; i++)
        REQUIRE(cli_parse_codes(a, "R0401", &codes, &n, &err) == ST_OK);
    CHECK_EQ_INT(n, 103);
    CHECK_STREQ(codes[102], "R0401");
    arena_destroy(&a);
}

/* select/ignore lists from comma-separated strings (NULL: none given). */
static bool enabled(const char *select, const char *ignore, const char *code)
{
    arena_t *a = arena_new(0);
    report_rules_t r = {0};
    bool on;

    if (select != NULL)
        cli_parse_codes(a, select, &r.select, &r.n_select, NULL);
    if (ignore != NULL)
        cli_parse_codes(a, ignore, &r.ignore, &r.n_ignore, NULL);
    on = report_rules_enabled(&r, code);
    arena_destroy(&a);
    return on;
}

TEST(cli_rules_prefixes)
{
    CHECK(enabled(NULL, NULL, "F401"));
    CHECK(enabled(NULL, NULL, "E902"));
    CHECK(enabled("F", NULL, "F401"));
    CHECK(!enabled("F", NULL, "E902"));
    CHECK(enabled("F4", NULL, "F401"));
    CHECK(!enabled("F4", NULL, "F541"));
    CHECK(enabled("F401", NULL, "F401"));
    CHECK(enabled("F401", NULL, "F4011")); /* a prefix is a prefix */
    CHECK(!enabled("F40", NULL, "F811"));
    CHECK(enabled("ALL", NULL, "R0401"));
    CHECK(enabled("F,E9", NULL, "E902"));
    CHECK(!enabled("F,E9", NULL, "E0401"));
}

TEST(cli_rules_ignore_wins_when_longer_or_equal)
{
    CHECK(!enabled(NULL, "F401", "F401"));
    CHECK(enabled(NULL, "F401", "F811"));
    CHECK(!enabled(NULL, "F", "F811"));
    CHECK(!enabled("F", "F", "F401"));     /* equal length: ignore wins */
    CHECK(!enabled("F4", "F401", "F401")); /* longer ignore wins */
    CHECK(enabled("F4", "F401", "F403"));
    CHECK(enabled("F401", "F", "F401"));  /* longer select wins */
    CHECK(!enabled("F401", "F", "F811")); /* not selected at all */
    CHECK(enabled("F401", "ALL", "F401"));
    CHECK(!enabled(NULL, "ALL", "F401"));   /* ALL vs default ALL: ignore */
    CHECK(enabled("F,F401", "F4", "F401")); /* the longest select counts */
    CHECK(!enabled("F,F40", "F401", "F401"));
}

TEST(cli_out_of_memory)
{
    char *argv[] = {"--select", "F,E,R,W,C", "--exclude", "a", "--exclude", "b", "x", "y", "z"};
    cli_check_t cfg;
    st_err_t err;
    int ok = 0;

    for (long n = 0; n < 50 && !ok; n++) {
        st_rc_t rc;

        cfg = (cli_check_t){0};
        alloc_fail_after(n);
        rc = parse(ARGC(argv), argv, &cfg, &err);
        alloc_fail_after(-1);
        if (rc == ST_OK) {
            ok = 1;
            CHECK_EQ_INT(cfg.rules.n_select, 5);
            cli_check_free(&cfg);
        } else {
            CHECK_EQ_INT(rc, ST_ENOMEM);
            CHECK(cfg.arena == NULL);
        }
    }
    CHECK(ok);
}

TEST(cli_free_accepts_zeroed)
{
    cli_check_t cfg = {0};

    cli_check_free(&cfg);
    cli_check_free(NULL);
    CHECK(cfg.arena == NULL);
}

TEST(cli_cache_flags)
{
    char *argv[] = {"--cache-dir", "/tmp/c", "--durability=strict", "--no-cache", "src"};
    char *none[] = {"src"};
    cli_check_t cfg;
    st_err_t err;

    REQUIRE(parse(ARGC(none), none, &cfg, &err) == ST_OK);
    CHECK(cfg.cache_dir == NULL);
    CHECK(!cfg.no_cache);
    CHECK_EQ_INT(cfg.durability, CAS_BUFFERED);
    cli_check_free(&cfg);
    REQUIRE(parse(ARGC(argv), argv, &cfg, &err) == ST_OK);
    CHECK_STREQ(cfg.cache_dir, "/tmp/c");
    CHECK(cfg.no_cache);
    CHECK_EQ_INT(cfg.durability, CAS_STRICT);
    CHECK_EQ_INT(cfg.n_paths, 1);
    cli_check_free(&cfg);
    {
        char *m[] = {"--durability", "memory"};
        REQUIRE(parse(ARGC(m), m, &cfg, &err) == ST_OK);
        CHECK_EQ_INT(cfg.durability, CAS_MEMORY);
        cli_check_free(&cfg);
    }
}

TEST(cli_cache_bad_flags)
{
    BAD("invalid value 'fast' for --durability", "--durability", "fast");
    BAD("invalid value '' for --durability", "--durability=");
    BAD("option '--durability' needs a value", "--durability");
    BAD("option '--cache-dir' needs a value", "--cache-dir");
    BAD("empty directory for --cache-dir", "--cache-dir=");
    BAD("option '--no-cache' takes no value", "--no-cache=1");
}

TEST(cli_cache_dir_default)
{
    char *saved = getenv("STRATA_CACHE_DIR") ? strdup(getenv("STRATA_CACHE_DIR")) : NULL;

    CHECK_STREQ(cas_dir_default("flag"), "flag");
    setenv("STRATA_CACHE_DIR", "/env/dir", 1);
    CHECK_STREQ(cas_dir_default(NULL), "/env/dir");
    CHECK_STREQ(cas_dir_default("flag"), "flag");
    setenv("STRATA_CACHE_DIR", "", 1);
    CHECK_STREQ(cas_dir_default(NULL), ".strata-cache");
    unsetenv("STRATA_CACHE_DIR");
    CHECK_STREQ(cas_dir_default(NULL), ".strata-cache");
    if (saved != NULL)
        setenv("STRATA_CACHE_DIR", saved, 1);
    free(saved);
}

TEST(cli_parse_bytes)
{
    uint64_t v = 7;

    CHECK(cli_parse_bytes("0", &v) && v == 0);
    CHECK(cli_parse_bytes("512", &v) && v == 512);
    CHECK(cli_parse_bytes("1k", &v) && v == 1024);
    CHECK(cli_parse_bytes("100M", &v) && v == 100u << 20);
    CHECK(cli_parse_bytes("2G", &v) && v == (uint64_t)2 << 30);
    CHECK(cli_parse_bytes("3T", &v) && v == (uint64_t)3 << 40);
    CHECK(cli_parse_bytes("1KiB", &v) && v == 1024);
    CHECK(cli_parse_bytes("5mb", &v) && v == 5u << 20);
    CHECK(cli_parse_bytes("18446744073709551615", &v) && v == UINT64_MAX);
    v = 7;
    CHECK(!cli_parse_bytes("", &v));
    CHECK(!cli_parse_bytes("M", &v));
    CHECK(!cli_parse_bytes("-1", &v));
    CHECK(!cli_parse_bytes("1.5G", &v));
    CHECK(!cli_parse_bytes("10X", &v));
    CHECK(!cli_parse_bytes("10 ", &v));
    CHECK(!cli_parse_bytes("10MM", &v));
    CHECK(!cli_parse_bytes("18446744073709551616", &v));
    CHECK(!cli_parse_bytes("16777216T", &v));
    CHECK_EQ_INT(v, 7); /* untouched on error */
}

static void cache_bad(int argc, char **argv, const char *want)
{
    cli_cache_t c = {.max_size = 99};
    st_err_t err = {0};

    CHECK_EQ_INT(cli_parse_cache(argc, argv, &c, &err), ST_EINVAL);
    CHECK(strstr(err.msg, want) != NULL);
    if (strstr(err.msg, want) == NULL)
        fprintf(stderr, "  got: %s\n  want: %s\n", err.msg, want);
    CHECK_EQ_INT(c.max_size, 99);
}

#define CACHE_BAD(want, ...)                                                                       \
    do {                                                                                           \
        char *v_[] = {__VA_ARGS__};                                                                \
        cache_bad(ARGC(v_), v_, want);                                                             \
    } while (0)

TEST(cli_parse_cache_actions)
{
    cli_cache_t c;
    st_err_t err = {0};
    char *stats[] = {"stats"};
    char *gc[] = {"gc", "--max-size", "100M", "--cache-dir", "/c"};
    char *gc2[] = {"gc", "--cache-dir=/d", "--max-size=2G"};
    char *help[] = {"verify", "--help"};

    REQUIRE(cli_parse_cache(ARGC(stats), stats, &c, &err) == ST_OK);
    CHECK_EQ_INT(c.action, CLI_CACHE_STATS);
    CHECK(c.cache_dir == NULL);
    REQUIRE(cli_parse_cache(ARGC(gc), gc, &c, &err) == ST_OK);
    CHECK_EQ_INT(c.action, CLI_CACHE_GC);
    CHECK(c.max_size == 100u << 20);
    CHECK_STREQ(c.cache_dir, "/c");
    REQUIRE(cli_parse_cache(ARGC(gc2), gc2, &c, &err) == ST_OK);
    CHECK(c.max_size == (uint64_t)2 << 30);
    CHECK_STREQ(c.cache_dir, "/d");
    REQUIRE(cli_parse_cache(ARGC(help), help, &c, &err) == ST_OK);
    CHECK(c.help);
    CHECK(strstr(cli_cache_usage(), "gc --max-size SIZE") != NULL);
}

TEST(cli_parse_cache_bad)
{
    cli_cache_t c = {.max_size = 99};
    st_err_t err = {0};

    CHECK_EQ_INT(cli_parse_cache(0, NULL, &c, &err), ST_EINVAL);
    CHECK(strstr(err.msg, "missing action") != NULL);
    CACHE_BAD("unknown action 'purge'", "purge");
    CACHE_BAD("gc needs --max-size", "gc");
    CACHE_BAD("invalid value 'lots' for --max-size", "gc", "--max-size", "lots");
    CACHE_BAD("invalid value '' for --max-size", "gc", "--max-size=");
    CACHE_BAD("option '--max-size' needs a value", "gc", "--max-size");
    CACHE_BAD("--max-size is for gc only", "stats", "--max-size", "1M");
    CACHE_BAD("option '--cache-dir' needs a directory", "clear", "--cache-dir");
    CACHE_BAD("option '--cache-dir' needs a directory", "clear", "--cache-dir=");
    CACHE_BAD("unknown option '--force'", "clear", "--force");
    CACHE_BAD("unexpected argument 'extra'", "stats", "extra");
}

/* Each subcommand keeps its own conventions under the shared parser. */
TEST(cli_conventions_per_subcommand)
{
    char *check_flag_value[] = {"--quiet=yes"};
    char *check_dash[] = {"-", "--", "-q"};
    char *worker_flag_value[] = {"--connect", "ipc:///s", "--no-cache=yes"};
    char *worker_dash[] = {"--connect", "ipc:///s", "-"};
    char *coord_empty[] = {"--bind", "ipc:///s", "--jobs="};
    char *cache_empty[] = {"gc", "--max-size="};
    cli_check_t cfg;
    cli_worker_t w;
    cli_coordinator_t c;
    cli_cache_t cc;
    st_err_t err = {0};

    CHECK(cli_parse_check(1, check_flag_value, &cfg, &err) == ST_EINVAL);
    CHECK_STREQ(err.msg, "option '--quiet' takes no value");
    REQUIRE(cli_parse_check(3, check_dash, &cfg, &err) == ST_OK);
    REQUIRE(cfg.n_paths == 2);
    CHECK_STREQ(cfg.paths[0], "-");
    CHECK_STREQ(cfg.paths[1], "-q");
    CHECK(!cfg.quiet);
    cli_check_free(&cfg);
    CHECK(cli_parse_worker(3, worker_flag_value, &w, &err) == ST_EINVAL);
    CHECK_STREQ(err.msg, "unknown option '--no-cache=yes'");
    CHECK(cli_parse_worker(3, worker_dash, &w, &err) == ST_EINVAL);
    CHECK_STREQ(err.msg, "unknown option '-'");
    CHECK(cli_parse_coordinator(3, coord_empty, &c, &err) == ST_EINVAL);
    CHECK_STREQ(err.msg, "option '--jobs' needs a value");
    CHECK(cli_parse_cache(2, cache_empty, &cc, &err) == ST_EINVAL);
    CHECK_STREQ(err.msg, "invalid value '' for --max-size (expected bytes, or a number with K, M, "
                         "G or T: 100M, 2G)");
}
