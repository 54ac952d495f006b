/* test_options_keygen.c - the options of `strata keygen`: defaults, every
 * accepted form and every refusal, with the message the user sees. */
#include "test.h"

#include "cli/options.h"

TEST(cli_keygen_defaults_and_values)
{
    char *a1[] = {"--dir", "/tmp/k", "--name", "client", "--force"};
    char *help[] = {"--bogus-after-help-is-not-read", "x"};
    char *help_first[] = {"-h", "--bogus"};
    cli_keygen_t k;
    st_err_t err = {0};

    REQUIRE(cli_parse_keygen(0, NULL, &k, &err) == ST_OK);
    CHECK_STREQ(k.dir, ".");
    CHECK_STREQ(k.name, "strata");
    CHECK(!k.force && !k.help);
    REQUIRE(cli_parse_keygen(5, a1, &k, &err) == ST_OK);
    CHECK_STREQ(k.dir, "/tmp/k");
    CHECK_STREQ(k.name, "client");
    CHECK(k.force);
    /* --help ends the parse: what follows is not read */
    REQUIRE(cli_parse_keygen(2, help_first, &k, &err) == ST_OK);
    CHECK(k.help);
    CHECK(cli_parse_keygen(2, help, &k, &err) == ST_EINVAL);
    CHECK(strstr(cli_keygen_usage(), "--force") != NULL);
}

TEST(cli_keygen_refusals)
{
    char *attached[] = {"--dir=/tmp"}; /* values come as the next argument only */
    char *missing[] = {"--name"};
    char *empty[] = {"--dir", ""};
    char *flag_value[] = {"--force=yes"};
    char *stray[] = {"extra"};
    cli_keygen_t k = {.dir = "kept"};
    st_err_t err = {0};

    CHECK(cli_parse_keygen(1, attached, &k, &err) == ST_EINVAL);
    CHECK_STREQ(err.msg, "unknown argument '--dir=/tmp'");
    CHECK(cli_parse_keygen(1, missing, &k, &err) == ST_EINVAL);
    CHECK_STREQ(err.msg, "missing value for '--name'");
    CHECK(cli_parse_keygen(2, empty, &k, &err) == ST_EINVAL);
    CHECK_STREQ(err.msg, "missing value for '--dir'");
    CHECK(cli_parse_keygen(1, flag_value, &k, &err) == ST_EINVAL);
    CHECK_STREQ(err.msg, "unknown argument '--force=yes'");
    CHECK(cli_parse_keygen(1, stray, &k, &err) == ST_EINVAL);
    CHECK_STREQ(err.msg, "unknown argument 'extra'");
    CHECK_STREQ(k.dir, "kept"); /* untouched on error */
}
