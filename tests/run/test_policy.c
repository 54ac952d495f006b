/* test_policy.c - the dispatch cost record and the decisions made from
 * it: whether a run is worth worker processes, which check jobs run in the
 * coordinator, how measurements merge, and the record's text and file. */
#include "test.h"

#include <sys/stat.h>

#include "run/policy.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A machine where workers start in 10 ms, a round trip is 200 us and a
 * thread scans 10,000 bytes per ms; a check costs 5 ns per input byte. */
static policy_cost_t measured(void)
{
    return (policy_cost_t){.start_ms = 10,
                           .rtt_us = 200,
                           .scan_bytes_per_ms = 10000,
                           .check_ns_per_byte = 5,
                           .runs = 3};
}

TEST(policy_choose_without_measurement_uses_the_constant)
{
    policy_cost_t none = {0};
    policy_choice_t c;

    c = policy_choose(NULL, POLICY_DEFAULT_MIN_BYTES - 1, 10, 2);
    CHECK(!c.use);
    CHECK(!c.measured);
    c = policy_choose(NULL, POLICY_DEFAULT_MIN_BYTES, 10, 2);
    CHECK(c.use);
    CHECK(!c.measured);
    c = policy_choose(&none, POLICY_DEFAULT_MIN_BYTES, 10, 2);
    CHECK(c.use && !c.measured);
    /* a record with a field missing is as good as none */
    none = measured();
    none.scan_bytes_per_ms = 0;
    c = policy_choose(&none, 100, 1, 2);
    CHECK(!c.use && !c.measured);
    none = measured();
    none.start_ms = NAN;
    c = policy_choose(&none, (uint64_t)1 << 40, 1, 2);
    CHECK(c.use && !c.measured);
}

TEST(policy_choose_compares_dispatch_with_local_time)
{
    policy_cost_t m = measured();
    policy_choice_t c;

    /* 10 MB in 500 files on 2 threads: 500 ms here; 10 + 0.2 ms of
     * dispatching, 2%: worth it */
    c = policy_choose(&m, 10000000, 500, 2);
    CHECK(c.measured);
    CHECK(c.use);
    CHECK(fabs(c.local_ms - 500) < 1e-6);
    CHECK(fabs(c.dispatch_ms - 10.2) < 1e-6);
    /* 600 KB in 20 files: 30 ms here against 10.2 ms: not worth it */
    c = policy_choose(&m, 600000, 20, 2);
    CHECK(c.measured);
    CHECK(!c.use);
    CHECK(fabs(c.local_ms - 30) < 1e-6);
    /* the boundary: dispatching exactly the allowed share is still used;
     * 10.2 ms is a quarter of 40.8 ms, 816,000 bytes on 2 threads */
    CHECK(policy_choose(&m, 816000, 1, 2).use);
    CHECK(!policy_choose(&m, 815000, 1, 2).use);
    CHECK(!policy_choose(&m, 816000, 0, 2).use); /* no file at all: nothing to send */
    /* more threads: the scans take less time here, so more is needed */
    CHECK(policy_choose(&m, 3000000, 100, 1).use);
    CHECK(!policy_choose(&m, 3000000, 100, 16).use);
    /* 0 threads is one */
    CHECK(fabs(policy_choose(&m, 3000000, 100, 0).local_ms - 300) < 1e-6);
    /* a slower start raises the bar */
    m.start_ms = 200;
    CHECK(!policy_choose(&m, 10000000, 500, 2).use);
}

TEST(policy_check_local_max_is_ten_round_trips_of_work)
{
    policy_cost_t m = measured();

    /* 10 round trips of 200 us at 5 ns per byte: 400,000 bytes */
    CHECK_EQ_INT(policy_check_local_max(&m), 400000);
    m.rtt_us = 0.001;
    CHECK_EQ_INT(policy_check_local_max(&m), 1024);
    m.rtt_us = 1e9;
    CHECK_EQ_INT(policy_check_local_max(&m), 64u << 20);
    m = measured();
    m.check_ns_per_byte = 0;
    CHECK_EQ_INT(policy_check_local_max(&m), POLICY_DEFAULT_CHECK_LOCAL);
    m = measured();
    m.rtt_us = -1;
    CHECK_EQ_INT(policy_check_local_max(&m), POLICY_DEFAULT_CHECK_LOCAL);
    CHECK_EQ_INT(policy_check_local_max(NULL), POLICY_DEFAULT_CHECK_LOCAL);
}

TEST(policy_cost_merge_averages_what_was_measured)
{
    policy_cost_t c = {0};
    policy_cost_t run = {.start_ms = 9, .rtt_us = 300, .scan_bytes_per_ms = 0, .runs = 0};

    policy_cost_merge(&c, &run);
    CHECK_EQ_INT(c.runs, 1);
    CHECK(c.start_ms == 9 && c.rtt_us == 300);
    CHECK(c.scan_bytes_per_ms == 0); /* not measured: still unknown */
    run = (policy_cost_t){.start_ms = 12, .rtt_us = 0, .scan_bytes_per_ms = 6000};
    policy_cost_merge(&c, &run);
    CHECK_EQ_INT(c.runs, 2);
    CHECK(fabs(c.start_ms - 10) < 1e-9); /* (2 * 9 + 12) / 3 */
    CHECK(c.rtt_us == 300);              /* not measured this time: kept */
    CHECK(c.scan_bytes_per_ms == 6000);  /* its first measurement: as is */
    run = (policy_cost_t){.start_ms = NAN, .rtt_us = -5, .check_ns_per_byte = INFINITY};
    policy_cost_merge(&c, &run);
    CHECK(fabs(c.start_ms - 10) < 1e-9 && c.rtt_us == 300 && c.check_ns_per_byte == 0);
}

TEST(policy_cost_text_round_trip)
{
    policy_cost_t c = measured(), back = {0};
    char text[256];
    st_err_t err = {0};

    c.check_ns_per_byte = 5.25;
    policy_cost_format(&c, text, sizeof text);
    REQUIRE(policy_cost_parse(text, strlen(text), &back, &err) == ST_OK);
    CHECK(back.start_ms == 10 && back.rtt_us == 200 && back.scan_bytes_per_ms == 10000);
    CHECK(back.check_ns_per_byte == 5.25);
    CHECK_EQ_INT(back.runs, 3);
}

TEST(policy_cost_parse_rejects_what_is_not_a_record)
{
    static const char *const bad[] = {
        "",
        "hello",
        "strata-dispatch-cost 2 start_ms=1 rtt_us=1 scan_bytes_per_ms=1 check_ns_per_byte=1 "
        "runs=1",
        "strata-dispatch-cost 1 start_ms=1 rtt_us=1 scan_bytes_per_ms=1 runs=1",
        "strata-dispatch-cost 1 start_ms=-1 rtt_us=1 scan_bytes_per_ms=1 check_ns_per_byte=1 "
        "runs=1",
        "strata-dispatch-cost 1 start_ms=nan rtt_us=1 scan_bytes_per_ms=1 check_ns_per_byte=1 "
        "runs=1",
        "strata-dispatch-cost 1 start_ms=1e999 rtt_us=1 scan_bytes_per_ms=1 "
        "check_ns_per_byte=1 runs=1",
        "strata-dispatch-cost 1 start_ms=1x rtt_us=1 scan_bytes_per_ms=1 check_ns_per_byte=1 "
        "runs=1",
        "strata-dispatch-cost 1 start_ms=1 rtt_us=1 scan_bytes_per_ms=1 check_ns_per_byte=1 "
        "runs=1.5",
        "strata-dispatch-cost 1 start_ms=1 rtt_us=1 scan_bytes_per_ms=1 check_ns_per_byte=1 "
        "runs=99999999999",
    };
    policy_cost_t keep = measured(), c = keep;
    char with_nul[] = "strata-dispatch-cost 1 start_ms=1\0 rtt_us=1";
    char huge[400];
    st_err_t err = {0};

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(policy_cost_parse(bad[i], strlen(bad[i]), &c, &err) == ST_ECORRUPT);
        CHECK(memcmp(&c, &keep, sizeof c) == 0);
    }
    CHECK(policy_cost_parse(with_nul, sizeof with_nul - 1, &c, &err) == ST_ECORRUPT);
    memset(huge, 'x', sizeof huge);
    CHECK(policy_cost_parse(huge, sizeof huge, &c, &err) == ST_ECORRUPT);
    CHECK(policy_cost_parse(NULL, 0, &c, &err) == ST_ECORRUPT);
    CHECK(memcmp(&c, &keep, sizeof c) == 0);
}

TEST(policy_cost_file_save_and_load)
{
    char dir[] = "/tmp/strata-cost-test-XXXXXX", path[128];
    policy_cost_t c = measured(), back = {0};
    st_err_t err = {0};
    int fd;

    REQUIRE(mkdtemp(dir) != NULL);
    CHECK(policy_cost_load(dir, &back, &err) == ST_ENOENT);
    REQUIRE(policy_cost_save(dir, &c, &err) == ST_OK);
    REQUIRE(policy_cost_load(dir, &back, &err) == ST_OK);
    CHECK(back.start_ms == c.start_ms && back.runs == c.runs);
    /* a damaged record is reported, then replaced by the next save */
    snprintf(path, sizeof path, "%s/dispatch-cost", dir);
    fd = open(path, O_WRONLY | O_TRUNC);
    REQUIRE(fd >= 0);
    CHECK(write(fd, "strata-dispatch-cost 1 sta", 26) == 26);
    close(fd);
    CHECK(policy_cost_load(dir, &back, &err) == ST_ECORRUPT);
    REQUIRE(policy_cost_save(dir, &c, &err) == ST_OK);
    CHECK(policy_cost_load(dir, &back, &err) == ST_OK);
    unlink(path);
    /* a FIFO or a symlink under the name is refused, without blocking */
    REQUIRE(mkfifo(path, 0600) == 0);
    CHECK(policy_cost_load(dir, &back, &err) == ST_ECORRUPT);
    unlink(path);
    REQUIRE(symlink("/etc/hostname", path) == 0);
    CHECK(policy_cost_load(dir, &back, &err) == ST_ENOENT);
    unlink(path);
    CHECK(rmdir(dir) == 0); /* no temporary file left beside it */
    /* no directory: nothing saved, nothing loaded */
    CHECK(policy_cost_save(dir, &c, &err) == ST_EIO);
    CHECK(policy_cost_load(dir, &back, &err) == ST_ENOENT);
    CHECK(policy_cost_load(NULL, &back, &err) == ST_ENOENT);
}

TEST(policy_threads_inline_below_the_break_even)
{
    CHECK_EQ_INT(policy_threads(8, 2, 16, POLICY_INLINE_SCAN_BYTES), 0);
    CHECK_EQ_INT(policy_threads(8, 1, 1 << 20, POLICY_INLINE_SCAN_BYTES), 0);  /* one job */
    CHECK_EQ_INT(policy_threads(1, 40, 1 << 20, POLICY_INLINE_SCAN_BYTES), 0); /* one thread */
    CHECK_EQ_INT(policy_threads(4, 40, 1 << 20, POLICY_INLINE_SCAN_BYTES), 4);
    CHECK_EQ_INT(policy_threads(8, 3, 1 << 20, POLICY_INLINE_SCAN_BYTES), 3); /* no idle one */
}

TEST(policy_windows_of_each_back_end)
{
    /* threads: all at once; a cluster batch: a fixed window */
    CHECK(policy_window(POLICY_THREADS, 1, 2, 0) == SIZE_MAX);
    CHECK_EQ_INT(policy_window(POLICY_CLUSTER, 3, 12, 500), 256);
    /* worker processes: a small read-ahead before any is there, then
     * bursts that fill the credit when half of it is free */
    CHECK_EQ_INT(policy_window(POLICY_HOSTPOOL, 0, 4, 0), 8);
    CHECK(policy_one_per_turn(POLICY_HOSTPOOL, 0));
    CHECK(!policy_one_per_turn(POLICY_HOSTPOOL, 1));
    CHECK_EQ_INT(policy_window(POLICY_HOSTPOOL, 2, 4, 32), 64);
    CHECK_EQ_INT(policy_window(POLICY_HOSTPOOL, 2, 4, 33), 0);
    CHECK_EQ_INT(policy_depth(POLICY_HOSTPOOL), 16);
    CHECK_EQ_INT(policy_depth(POLICY_CLUSTER), 16);
    /* the waits, and the early scans while workers start */
    CHECK_EQ_INT(policy_poll_ms(POLICY_THREADS, 1, false), -1);
    CHECK_EQ_INT(policy_poll_ms(POLICY_HOSTPOOL, 1, true), 50);
    CHECK_EQ_INT(policy_poll_ms(POLICY_HOSTPOOL, 0, true), 0);
    CHECK_EQ_INT(policy_poll_ms(POLICY_HOSTPOOL, 0, false), 1);
    CHECK(policy_scan_early(POLICY_HOSTPOOL, false, true, 1));
    CHECK(!policy_scan_early(POLICY_HOSTPOOL, true, true, 1));
    CHECK(!policy_scan_early(POLICY_CLUSTER, false, true, 1));
    CHECK_EQ_INT(policy_check_threads(POLICY_CLUSTER, 2, 0), 8);
    CHECK_EQ_INT(policy_check_threads(POLICY_HOSTPOOL, 2, 6), 6);
    CHECK_EQ_INT(policy_check_threads(POLICY_THREADS, 2, 0), 2);
}

TEST(policy_check_here_when_cheaper_than_a_round_trip_or_no_worker)
{
    CHECK(policy_check_here(1024, 1024, true));
    CHECK(!policy_check_here(1025, 1024, true));
    CHECK(policy_check_here(1u << 30, 1024, false));
}
