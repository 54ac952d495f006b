/* test_cli_cluster.c - the options of `strata coordinator` and `strata
 * submit`: accepted forms, and refusals with the message the user sees. */
#include "test.h"

#include "cli/options.h"

#include <string.h>

TEST(cli_coordinator_accepts_its_options)
{
    char *a1[] = {"--bind",
                  "tcp://127.0.0.1:7700",
                  "--workers-bind=ipc:///tmp/w",
                  "--cache-dir",
                  "/tmp/c",
                  "--keys",
                  "k",
                  "--allow=a",
                  "--insecure",
                  "--jobs",
                  "3"};
    char *a2[] = {"--help"};
    cli_coordinator_t c;

    REQUIRE(cli_parse_coordinator(11, a1, &c, NULL) == ST_OK);
    CHECK_STREQ(c.bind, "tcp://127.0.0.1:7700");
    CHECK_STREQ(c.workers_bind, "ipc:///tmp/w");
    CHECK_STREQ(c.cache_dir, "/tmp/c");
    CHECK_STREQ(c.keys_dir, "k");
    CHECK_STREQ(c.allow_dir, "a");
    CHECK(c.insecure);
    CHECK_EQ_INT(c.jobs, 3);
    REQUIRE(cli_parse_coordinator(1, a2, &c, NULL) == ST_OK);
    CHECK(c.help);
    CHECK(strstr(cli_coordinator_usage(), "--bind ADDR") != NULL);
}

TEST(cli_coordinator_refusals)
{
    char *none[] = {"--insecure"};
    char *bad_addr[] = {"--bind", "udp://x"};
    char *no_value[] = {"--bind"};
    char *keys_alone[] = {"--bind", "ipc:///s", "--keys", "k"};
    char *stray[] = {"--bind", "ipc:///s", "extra"};
    char *bad_jobs[] = {"--bind", "ipc:///s", "--jobs", "-1"};
    cli_coordinator_t c;
    st_err_t err = {0};

    CHECK(cli_parse_coordinator(1, none, &c, &err) == ST_EINVAL);
    CHECK(strstr(err.msg, "missing --bind") != NULL);
    CHECK(cli_parse_coordinator(2, bad_addr, &c, &err) == ST_EINVAL);
    CHECK(strstr(err.msg, "needs an address") != NULL);
    CHECK(cli_parse_coordinator(1, no_value, &c, &err) == ST_EINVAL);
    CHECK(cli_parse_coordinator(4, keys_alone, &c, &err) == ST_EINVAL);
    CHECK(strstr(err.msg, "--keys and --allow") != NULL);
    CHECK(cli_parse_coordinator(3, stray, &c, &err) == ST_EINVAL);
    CHECK(strstr(err.msg, "unknown argument 'extra'") != NULL);
    CHECK(cli_parse_coordinator(4, bad_jobs, &c, &err) == ST_EINVAL);
}

TEST(cli_coordinator_client_caps)
{
    char *a[] = {"--bind",
                 "ipc:///s",
                 "--max-client-batches",
                 "2",
                 "--max-client-bytes=64M",
                 "--max-client-files",
                 "1000"};
    char *zero[] = {"--bind", "ipc:///s", "--max-client-batches", "0"};
    char *big[] = {"--bind", "ipc:///s", "--max-client-batches=65"};
    char *bytes[] = {"--bind", "ipc:///s", "--max-client-bytes", "lots"};
    char *files[] = {"--bind", "ipc:///s", "--max-client-files", "2000000"};
    char *missing[] = {"--bind", "ipc:///s", "--max-client-files"};
    cli_coordinator_t c;
    st_err_t err = {0};

    REQUIRE(cli_parse_coordinator(7, a, &c, &err) == ST_OK);
    CHECK_EQ_INT(c.client_batches, 2);
    CHECK(c.client_bytes == (uint64_t)64 << 20);
    CHECK_EQ_INT(c.client_files, 1000);
    CHECK(cli_parse_coordinator(4, zero, &c, &err) == ST_EINVAL);
    CHECK(strstr(err.msg, "--max-client-batches") != NULL);
    CHECK(cli_parse_coordinator(3, big, &c, &err) == ST_EINVAL);
    CHECK(cli_parse_coordinator(4, bytes, &c, &err) == ST_EINVAL);
    CHECK(strstr(err.msg, "--max-client-bytes") != NULL);
    CHECK(cli_parse_coordinator(4, files, &c, &err) == ST_EINVAL);
    CHECK(strstr(err.msg, "--max-client-files") != NULL);
    CHECK(cli_parse_coordinator(3, missing, &c, &err) == ST_EINVAL);
}

TEST(cli_submit_splits_its_options_from_checks)
{
    char *a[] = {"--format", "json", "--coordinator", "ipc:///s", "--select=F4",
                 "--keys",   "k",    "--server-key",  "c.pub",    "--timeout",
                 "9",        "src",  "--root",        "lib",      "more"};
    cli_submit_t s;
    st_err_t err = {0};

    REQUIRE(cli_parse_submit(15, a, &s, &err) == ST_OK);
    CHECK_STREQ(s.coordinator, "ipc:///s");
    CHECK_STREQ(s.keys_dir, "k");
    CHECK_STREQ(s.server_key, "c.pub");
    CHECK_EQ_INT(s.timeout_ms, 9000);
    CHECK(s.check.format == REPORT_FORMAT_JSON);
    CHECK_EQ_INT(s.check.rules.n_select, 1);
    REQUIRE(s.check.n_paths == 2);
    CHECK_STREQ(s.check.paths[0], "src");
    CHECK_STREQ(s.check.paths[1], "more");
    REQUIRE(s.check.n_roots == 1);
    CHECK_STREQ(s.check.roots[0], "lib");
    cli_submit_free(&s);
}

TEST(cli_submit_refusals)
{
    char *none[] = {"src"};
    char *keys_alone[] = {"--coordinator", "ipc:///s", "--keys", "k", "src"};
    char *bad_timeout[] = {"--coordinator", "ipc:///s", "--timeout", "0", "src"};
    char *bad_check[] = {"--coordinator", "ipc:///s", "--format", "xml", "src"};
    char *bad_addr[] = {"--coordinator", "http://x", "src"};
    char *help[] = {"--help"};
    cli_submit_t s;
    st_err_t err = {0};

    CHECK(cli_parse_submit(1, none, &s, &err) == ST_EINVAL);
    CHECK(strstr(err.msg, "missing --coordinator") != NULL);
    CHECK(cli_parse_submit(5, keys_alone, &s, &err) == ST_EINVAL);
    CHECK(strstr(err.msg, "--keys and --server-key") != NULL);
    CHECK(cli_parse_submit(5, bad_timeout, &s, &err) == ST_EINVAL);
    CHECK(cli_parse_submit(5, bad_check, &s, &err) == ST_EINVAL);
    CHECK(cli_parse_submit(3, bad_addr, &s, &err) == ST_EINVAL);
    REQUIRE(cli_parse_submit(1, help, &s, &err) == ST_OK);
    CHECK(s.help);
    CHECK(strstr(cli_submit_usage(), "--coordinator ADDR") != NULL);
}

TEST(cli_job_timeout_on_check_and_coordinator)
{
    char *check_ok[] = {"--job-timeout", "30", "."};
    char *check_zero[] = {"--job-timeout=0", "."};
    char *check_word[] = {"--job-timeout", "soon"};
    char *coord_ok[] = {"--bind", "ipc:///s", "--job-timeout=45"};
    char *coord_big[] = {"--bind", "ipc:///s", "--job-timeout", "86401"};
    cli_check_t cfg;
    cli_coordinator_t c;
    st_err_t err = {0};

    REQUIRE(cli_parse_check(3, check_ok, &cfg, &err) == ST_OK);
    CHECK_EQ_INT(cfg.job_timeout_s, 30);
    cli_check_free(&cfg);
    CHECK(cli_parse_check(2, check_zero, &cfg, &err) == ST_EINVAL);
    CHECK(strstr(err.msg, "--job-timeout") != NULL);
    CHECK(cli_parse_check(2, check_word, &cfg, &err) == ST_EINVAL);
    REQUIRE(cli_parse_coordinator(3, coord_ok, &c, &err) == ST_OK);
    CHECK_EQ_INT(c.job_timeout_s, 45);
    CHECK(cli_parse_coordinator(4, coord_big, &c, &err) == ST_EINVAL);
    CHECK(strstr(err.msg, "needs seconds") != NULL);
}
