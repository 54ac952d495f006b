/* test_hostpool_serve.c - the check jobs of the single-host mode: between
 * hostpool_serve_begin and hostpool_serve_end, hostpool_run_check runs a small
 * input in the calling thread and sends a large one to a worker process
 * (`strata worker`, the binary built beside this runner, spawned by
 * hostpool_start), through calls.h.
 *
 * Checked: both ways give the bytes of check_run, and are counted where
 * they ran; a job that kills every worker it is sent to is an ST_EINTERNAL
 * "check job lost with its workers" (so it did go to them), one that fails
 * there says so, and the restarted workers take the next one; hostpool_stop
 * ends the serving thread itself. Nothing is timed. */
#include "test.h"

#include "check_fixture.h"

#include "common/arena.h"
#include "common/buf.h"
#include "common/log.h"
#include "coordinator/hostpool.h"
#include "worker/python/xmod.h"
#include "worker/python/scan.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define POISON "STRATA-SERVE-POISON-9d1"

/* Decisions that keep only inputs up to 1 KiB here: a round trip of
 * 100 us, a check costing 1 ms per byte (hostpool_check_local_max clamps). */
static const policy_cost_t send_over_1k = {.rtt_us = 100, .check_ns_per_byte = 1e6, .runs = 1};

/* The input of a check job over module m of source src that imports os
 * (stdlib) and nosuchmod (unresolved), its summary from the scan. */
static bool write_input(buf_t *in, const char *src, arena_t *a)
{
    scanner_t *sc = scanner_new();
    span_t scan;
    bool ok = sc != NULL && scanner_run(sc, NULL, SCAN_KIND_PY, (const uint8_t *)src, strlen(src),
                                        a, &scan, NULL) == ST_OK;

    ok = ok && check_fixture_input(in, scan_result_summary(scan));
    scanner_destroy(&sc);
    return ok;
}

/* A check job's input over one module m of `defs` functions that imports
 * os (stdlib) and nosuchmod (unresolved). */
static bool check_input(buf_t *in, unsigned defs)
{
    buf_t src;
    arena_t *a = arena_new(0);
    char line[96];
    bool ok = a != NULL;

    buf_init(&src);
    ok = ok && buf_append(&src, "import os\nimport nosuchmod\nos.getcwd()\n", 39) == ST_OK;
    for (unsigned k = 0; ok && k < defs; k++) {
        int len =
            snprintf(line, sizeof line, "def g_%u(a, b=1, *args, c, **kw):\n    return a\n", k);
        ok = buf_append(&src, line, (size_t)len) == ST_OK;
    }
    ok = ok && buf_append(&src, "", 1) == ST_OK; /* the NUL */
    ok = ok && write_input(in, (const char *)src.data, a);
    buf_free(&src);
    arena_destroy(&a);
    return ok && in->data != NULL;
}

/* hostpool_run_check's result for in is check_run's, byte for byte. */
static bool same_as_here(hostpool_t *r, const buf_t *in, arena_t *a)
{
    span_t got = {0}, want = {0};
    st_err_t err = {0};
    span_t input = {in->data, in->len};

    return hostpool_run_check(r, input, a, &got, &err) == ST_OK &&
           check_run(input, a, &want, &err) == ST_OK && got.len == want.len && got.len > 0 &&
           memcmp(got.ptr, want.ptr, got.len) == 0;
}

/* The dispatcher's warnings (workers dropped, a job given up) go to log
 * too, not to the runner's output. */
static hostpool_t *start(const char *strata, FILE *log)
{
    hostpool_opts_t opts = {.workers = 1, .threads = 1, .exe = strata, .log = log};
    hostpool_t *r = NULL;
    st_err_t err = {0};

    opts.cost = &send_over_1k;
    log_set_output(log);
    log_set_level(LOG_LEVEL_WARN);
    if (hostpool_start(&opts, &r, &err) != ST_OK)
        return NULL;
    return r;
}

TEST(hostpool_checks_run_here_or_on_a_worker_with_the_same_bytes)
{
    char strata[PATH_MAX + 16];
    buf_t small, large;
    arena_t *a = arena_new(0);
    FILE *log = tmpfile();
    backend_stats_t st = {0};
    st_err_t err = {0};
    hostpool_t *r;

    test_strata_path(strata, sizeof strata);
    buf_init(&small);
    buf_init(&large);
    REQUIRE(a != NULL && log != NULL);
    REQUIRE(check_input(&small, 0) && check_input(&large, 40));
    REQUIRE(small.len <= 1024 && large.len > 1024);
    REQUIRE((r = start(strata, log)) != NULL);
    REQUIRE(hostpool_serve_begin(r, &err) == ST_OK);
    CHECK(hostpool_serve_begin(r, &err) == ST_EINVAL); /* one serving thread */
    CHECK(same_as_here(r, &small, a));
    CHECK(same_as_here(r, &large, a));
    hostpool_serve_end(r);
    hostpool_serve_end(r); /* twice is once */
    hostpool_stop(&r, &st);
    CHECK(r == NULL);
    CHECK_EQ_INT(st.checks_here, 1);
    CHECK_EQ_INT(st.checks_sent, 1);
    unsetenv("STRATA_WORKER_PARENT"); /* set by hostpool_start for its workers */
    log_set_output(NULL);
    fclose(log);
    arena_destroy(&a);
    buf_free(&small);
    buf_free(&large);
}

TEST(hostpool_check_that_kills_its_workers_is_an_internal_error)
{
    char strata[PATH_MAX + 16], text[4096];
    uint8_t pill[2048], junk[2048];
    buf_t large;
    arena_t *a = arena_new(0);
    FILE *log = tmpfile();
    backend_stats_t st = {0};
    st_err_t err = {0};
    span_t out = {0};
    size_t n;
    hostpool_t *r;

    test_strata_path(strata, sizeof strata);
    buf_init(&large);
    REQUIRE(a != NULL && log != NULL && check_input(&large, 40));
    memset(pill, ' ', sizeof pill);
    memcpy(pill, POISON, strlen(POISON));
    memset(junk, 0xc1, sizeof junk);           /* never valid msgpack */
    setenv("STRATA_TEST_CRASH_ON", POISON, 1); /* in the workers, restarted ones too */
    r = start(strata, log);
    REQUIRE(r != NULL);
    REQUIRE(hostpool_serve_begin(r, &err) == ST_OK);
    CHECK(hostpool_run_check(r, (span_t){pill, sizeof pill}, a, &out, &err) == ST_EINTERNAL);
    CHECK(strstr(err.msg, "check job lost with its workers") != NULL);
    memset(&err, 0, sizeof err);
    CHECK(hostpool_run_check(r, (span_t){junk, sizeof junk}, a, &out, &err) == ST_EINTERNAL);
    CHECK(strstr(err.msg, "check job failed on a worker") != NULL);
    CHECK(same_as_here(r, &large, a)); /* on the restarted worker */
    hostpool_stop(&r, &st);            /* ends the serving thread too */
    CHECK(r == NULL);
    CHECK_EQ_INT(st.checks_here, 0);
    CHECK_EQ_INT(st.checks_sent, 3);
    unsetenv("STRATA_TEST_CRASH_ON");
    unsetenv("STRATA_WORKER_PARENT");
    rewind(log);
    n = fread(text, 1, sizeof text - 1, log);
    text[n] = '\0';
    CHECK(strstr(text, " restarted\n") != NULL);
    log_set_output(NULL);
    fclose(log);
    arena_destroy(&a);
    buf_free(&large);
}
