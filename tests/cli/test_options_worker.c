/* test_cli_worker.c - the options of `strata worker`: every accepted form
 * and every refusal, with the message the user sees. */
#include "test.h"

#include "cli/options.h"

static st_rc_t parse(int argc, char *const *argv, cli_worker_t *out, st_err_t *err)
{
    *out = (cli_worker_t){.threads = 999};
    return cli_parse_worker(argc, argv, out, err);
}

TEST(cli_worker_accepts_connect_and_threads)
{
    char *a1[] = {"--connect", "ipc:///tmp/s", "--threads", "3"};
    char *a2[] = {"--threads=0", "--connect=tcp://host:7700"};
    char *a3[] = {"--help"};
    cli_worker_t w;

    REQUIRE(parse(4, a1, &w, NULL) == ST_OK);
    CHECK_STREQ(w.connect, "ipc:///tmp/s");
    CHECK_EQ_INT(w.threads, 3);
    REQUIRE(parse(2, a2, &w, NULL) == ST_OK);
    CHECK_STREQ(w.connect, "tcp://host:7700");
    CHECK_EQ_INT(w.threads, 0);
    REQUIRE(parse(1, a3, &w, NULL) == ST_OK);
    CHECK(w.help);
    CHECK(strstr(cli_worker_usage(), "--connect ADDR") != NULL);
}

TEST(cli_worker_refuses_bad_arguments)
{
    char *none[] = {"--threads", "2"};
    char *scheme[] = {"--connect", "udp://x"};
    char *empty[] = {"--connect=tcp://"};
    char *novalue[] = {"--connect"};
    char *threads[] = {"--connect", "ipc:///s", "--threads", "many"};
    char *toomany[] = {"--connect", "ipc:///s", "--threads", "100000"};
    char *unknown[] = {"--connect", "ipc:///s", "--jobs", "2"};
    char *stray[] = {"--connect", "ipc:///s", "extra"};
    cli_worker_t w;
    st_err_t err = {0};

    CHECK(parse(2, none, &w, &err) == ST_EINVAL);
    CHECK(strstr(err.msg, "missing --connect") != NULL);
    CHECK_EQ_INT(w.threads, 999); /* untouched on error */
    CHECK(parse(2, scheme, &w, &err) == ST_EINVAL);
    CHECK(strstr(err.msg, "ipc:///path or tcp://host:port") != NULL);
    CHECK(parse(1, empty, &w, &err) == ST_EINVAL);
    CHECK(parse(1, novalue, &w, &err) == ST_EINVAL);
    CHECK(parse(4, threads, &w, &err) == ST_EINVAL);
    CHECK(strstr(err.msg, "--threads") != NULL);
    CHECK(parse(4, toomany, &w, &err) == ST_EINVAL);
    CHECK(parse(4, unknown, &w, &err) == ST_EINVAL);
    CHECK(strstr(err.msg, "unknown option '--jobs'") != NULL);
    CHECK(parse(3, stray, &w, &err) == ST_EINVAL);
    CHECK(strstr(err.msg, "unexpected argument 'extra'") != NULL);
}

TEST(cli_worker_cache_and_job_limit_options)
{
    char *a1[] = {"--connect",       "ipc:///s",    "--cache-dir", "/var/cache/w",
                  "--cache-mem=16M", "--job-limit", "30"};
    char *a2[] = {"--connect", "ipc:///s", "--no-cache"};
    char *both[] = {"--connect", "ipc:///s", "--no-cache", "--cache-dir", "/x"};
    char *nodir[] = {"--connect", "ipc:///s", "--cache-dir"};
    char *badmem[] = {"--connect", "ipc:///s", "--cache-mem", "lots"};
    char *zerolimit[] = {"--connect", "ipc:///s", "--job-limit", "0"};
    char *longlimit[] = {"--connect", "ipc:///s", "--job-limit", "86401"};
    cli_worker_t w;
    st_err_t err = {0};

    REQUIRE(parse(7, a1, &w, NULL) == ST_OK);
    CHECK_STREQ(w.cache_dir, "/var/cache/w");
    CHECK_EQ_INT(w.cache_mem, 16 << 20);
    CHECK_EQ_INT(w.job_limit_s, 30);
    CHECK(!w.no_cache);
    REQUIRE(parse(3, a2, &w, NULL) == ST_OK);
    CHECK(w.no_cache && w.cache_dir == NULL && w.job_limit_s == 0);
    CHECK(parse(5, both, &w, &err) == ST_EINVAL);
    CHECK(strstr(err.msg, "--no-cache") != NULL);
    CHECK(parse(3, nodir, &w, &err) == ST_EINVAL);
    CHECK(strstr(err.msg, "--cache-dir") != NULL);
    CHECK(parse(4, badmem, &w, &err) == ST_EINVAL);
    CHECK(strstr(err.msg, "--cache-mem") != NULL);
    CHECK(parse(4, zerolimit, &w, &err) == ST_EINVAL);
    CHECK(strstr(err.msg, "--job-limit") != NULL);
    CHECK(parse(4, longlimit, &w, &err) == ST_EINVAL);
    CHECK(strstr(cli_worker_usage(), "--cache-dir DIR") != NULL);
}
