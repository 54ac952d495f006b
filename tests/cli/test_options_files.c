/* test_options_files.c - the options of `strata check` that choose its
 * files: --respect-gitignore / --no-respect-gitignore, --show-files and
 * --stdin-filename (cli/options.h). */
#include "test.h"

#include "cli/options.h"

#define ARGC(v) ((int)(sizeof(v) / sizeof((v)[0])))

static st_rc_t parse(int argc, char **argv, cli_check_t *cfg, st_err_t *err)
{
    *err = (st_err_t){0};
    return cli_parse_check(argc, argv, cfg, err);
}

TEST(cli_files_defaults)
{
    char *argv[] = {"src"};
    char *help[] = {"--help"};
    cli_check_t cfg;
    st_err_t err;

    REQUIRE(parse(ARGC(argv), argv, &cfg, &err) == ST_OK);
    CHECK(cfg.respect_gitignore);
    CHECK(!cfg.show_files);
    CHECK(cfg.stdin_filename == NULL);
    cli_check_free(&cfg);
    REQUIRE(parse(ARGC(help), help, &cfg, &err) == ST_OK);
    CHECK(cfg.respect_gitignore);
    cli_check_free(&cfg);
}

TEST(cli_files_gitignore_flags_last_wins)
{
    char *off[] = {"--no-respect-gitignore", "a"};
    char *on_again[] = {"--no-respect-gitignore", "--respect-gitignore"};
    char *off_again[] = {"--respect-gitignore", "--no-respect-gitignore"};
    cli_check_t cfg;
    st_err_t err;

    REQUIRE(parse(ARGC(off), off, &cfg, &err) == ST_OK);
    CHECK(!cfg.respect_gitignore);
    CHECK_EQ_INT(cfg.n_paths, 1);
    cli_check_free(&cfg);
    REQUIRE(parse(ARGC(on_again), on_again, &cfg, &err) == ST_OK);
    CHECK(cfg.respect_gitignore);
    cli_check_free(&cfg);
    REQUIRE(parse(ARGC(off_again), off_again, &cfg, &err) == ST_OK);
    CHECK(!cfg.respect_gitignore);
    cli_check_free(&cfg);
}

TEST(cli_files_show_and_stdin)
{
    char *argv[] = {"--show-files", "-", "--stdin-filename", "pkg/a.py"};
    char *inline_value[] = {"--stdin-filename=b.py"};
    cli_check_t cfg;
    st_err_t err;

    REQUIRE(parse(ARGC(argv), argv, &cfg, &err) == ST_OK);
    CHECK(cfg.show_files);
    CHECK_STREQ(cfg.stdin_filename, "pkg/a.py");
    REQUIRE(cfg.n_paths == 1);
    CHECK_STREQ(cfg.paths[0], "-");
    cli_check_free(&cfg);
    REQUIRE(parse(ARGC(inline_value), inline_value, &cfg, &err) == ST_OK);
    CHECK_STREQ(cfg.stdin_filename, "b.py");
    cli_check_free(&cfg);
}

TEST(cli_files_bad)
{
    char *empty[] = {"--stdin-filename", ""};
    char *missing[] = {"--stdin-filename"};
    char *valued_flag[] = {"--no-respect-gitignore=1"};
    char *valued_show[] = {"--show-files=yes"};
    cli_check_t cfg;
    st_err_t err;

    CHECK(parse(ARGC(empty), empty, &cfg, &err) == ST_EINVAL);
    CHECK_STREQ(err.msg, "empty path for --stdin-filename");
    CHECK(parse(ARGC(missing), missing, &cfg, &err) == ST_EINVAL);
    CHECK_STREQ(err.msg, "option '--stdin-filename' needs a value");
    CHECK(parse(ARGC(valued_flag), valued_flag, &cfg, &err) == ST_EINVAL);
    CHECK_STREQ(err.msg, "option '--no-respect-gitignore' takes no value");
    CHECK(parse(ARGC(valued_show), valued_show, &cfg, &err) == ST_EINVAL);
    CHECK(strstr(cli_check_usage(), "--no-respect-gitignore") != NULL);
    CHECK(strstr(cli_check_usage(), "--stdin-filename PATH") != NULL);
}
