/* test_options_output.c - the check options that say how the report is
 * written: --output-format and its alias --format, --output-file,
 * --statistics, --exit-zero. */
#include "test.h"

#include "cli/options.h"

#define ARGC(v) ((int)(sizeof(v) / sizeof((v)[0])))

TEST(cli_output_defaults)
{
    char *argv[] = {"src"};
    cli_check_t cfg;
    st_err_t err = {0};
    report_output_t o;

    REQUIRE(cli_parse_check(ARGC(argv), argv, &cfg, &err) == ST_OK);
    CHECK(!cfg.format_given);
    CHECK(!cfg.statistics);
    CHECK(!cfg.exit_zero);
    CHECK(cfg.output_file == NULL);
    o = cli_report_output(&cfg);
    CHECK(!o.format_given);
    CHECK(o.output_file == NULL);
    CHECK(o.source.same == NULL);
    cli_check_free(&cfg);
}

TEST(cli_output_flags)
{
    char *argv[] = {"--output-format", "gitlab",      "--output-file=r.json",
                    "--statistics",    "--exit-zero", "src"};
    cli_check_t cfg;
    st_err_t err = {0};
    report_output_t o;

    REQUIRE(cli_parse_check(ARGC(argv), argv, &cfg, &err) == ST_OK);
    CHECK_EQ_INT(cfg.format, REPORT_FORMAT_GITLAB);
    CHECK(cfg.format_given);
    CHECK(cfg.statistics);
    CHECK(cfg.exit_zero);
    CHECK_STREQ(cfg.output_file, "r.json");
    o = cli_report_output(&cfg);
    CHECK_EQ_INT(o.format, REPORT_FORMAT_GITLAB);
    CHECK(o.format_given && o.statistics);
    CHECK_STREQ(o.output_file, "r.json");
    cli_check_free(&cfg);
}

TEST(cli_output_format_alias_and_errors)
{
    char *text[] = {"--format", "text"};
    char *junit[] = {"--format=junit"};
    char *bad[] = {"--output-format", "yaml"};
    char *empty[] = {"--output-file="};
    char *missing[] = {"--output-format"};
    cli_check_t cfg;
    st_err_t err = {0};

    REQUIRE(cli_parse_check(ARGC(text), text, &cfg, &err) == ST_OK);
    CHECK_EQ_INT(cfg.format, REPORT_FORMAT_CONCISE);
    CHECK(cfg.format_given);
    cli_check_free(&cfg);
    REQUIRE(cli_parse_check(ARGC(junit), junit, &cfg, &err) == ST_OK);
    CHECK_EQ_INT(cfg.format, REPORT_FORMAT_JUNIT);
    cli_check_free(&cfg);
    CHECK_EQ_INT(cli_parse_check(ARGC(bad), bad, &cfg, &err), ST_EINVAL);
    CHECK_STREQ(err.msg, "invalid value 'yaml' for --output-format (expected full, concise, "
                         "grouped, json, json-lines, sarif, github, gitlab, junit or pylint)");
    CHECK_EQ_INT(cli_parse_check(ARGC(empty), empty, &cfg, &err), ST_EINVAL);
    CHECK_STREQ(err.msg, "empty path for --output-file");
    CHECK_EQ_INT(cli_parse_check(ARGC(missing), missing, &cfg, &err), ST_EINVAL);
    CHECK_STREQ(err.msg, "option '--output-format' needs a value");
}
