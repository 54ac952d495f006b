/* test_jobs.c - jobs_run gives byte for byte what the analysis gives when
 * called directly (so every execution mode agrees), and refuses malformed
 * inputs and unknown kinds with an error instead of crashing. */
#include "test.h"

#include "check_fixture.h"

#include "common/alloc.h"
#include "common/mpbuf.h"
#include "worker/jobs.h"
#include "worker/python/xmod.h"

static const char src[] =
    "import os\nimport nosuchmod\n\ndef f(a):\n    x = 1\n    return undefined_name\n";

static int same(span_t a, span_t b)
{
    return a.len == b.len && memcmp(a.ptr, b.ptr, a.len) == 0;
}

TEST(jobs_scan_equals_scanner_run)
{
    scanner_t *sc = scanner_new();
    arena_t *a = arena_new(0);
    scan_opts_t opts = {.max_file_bytes = 0};
    span_t direct, viajob;
    buf_t in;

    REQUIRE(sc != NULL && a != NULL);
    for (scan_kind_t kind = SCAN_KIND_PY; kind < SCAN_N_KINDS; kind++) {
        buf_init(&in);
        REQUIRE(jobs_scan_input(&in, kind, &opts, (const uint8_t *)src, sizeof src - 1, NULL) ==
                ST_OK);
        REQUIRE(scanner_run(sc, &opts, kind, (const uint8_t *)src, sizeof src - 1, a, &direct,
                            NULL) == ST_OK);
        REQUIRE(jobs_run(sc, JOBS_SCAN, (span_t){in.data, in.len}, a, &viajob, NULL) == ST_OK);
        CHECK(same(direct, viajob));
        buf_free(&in);
    }
    /* the target travels with the job: a stub's branches follow it */
    {
        static const char stub[] = "import sys\n"
                                   "if sys.platform == 'win32':\n"
                                   "    def startfile(p): ...\n";
        scan_opts_t win = {.target = {.major = 3, .minor = 12, .platform = "win32"}};
        buf_init(&in);
        REQUIRE(jobs_scan_input(&in, SCAN_KIND_PYI, &win, (const uint8_t *)stub, sizeof stub - 1,
                                NULL) == ST_OK);
        REQUIRE(jobs_run(sc, JOBS_SCAN, (span_t){in.data, in.len}, a, &viajob, NULL) == ST_OK);
        CHECK(memmem(viajob.ptr, viajob.len, "startfile", 9) != NULL);
        buf_free(&in);
        buf_init(&in);
        REQUIRE(jobs_scan_input(&in, SCAN_KIND_PYI, NULL, (const uint8_t *)stub, sizeof stub - 1,
                                NULL) == ST_OK);
        REQUIRE(jobs_run(sc, JOBS_SCAN, (span_t){in.data, in.len}, a, &viajob, NULL) == ST_OK);
        /* linux: startfile only as another platform's name ("dead") */
        CHECK(memmem(viajob.ptr, viajob.len, "dead", 4) != NULL);
        buf_free(&in);
    }
    /* the size limit travels with the job: a small one gives the E902 */
    opts.max_file_bytes = 10;
    buf_init(&in);
    REQUIRE(jobs_scan_input(&in, SCAN_KIND_PY, &opts, (const uint8_t *)src, sizeof src - 1, NULL) ==
            ST_OK);
    REQUIRE(scanner_run(sc, &opts, SCAN_KIND_PY, (const uint8_t *)src, sizeof src - 1, a, &direct,
                        NULL) == ST_OK);
    REQUIRE(jobs_run(sc, JOBS_SCAN, (span_t){in.data, in.len}, a, &viajob, NULL) == ST_OK);
    CHECK(same(direct, viajob));
    buf_free(&in);
    arena_destroy(&a);
    scanner_destroy(&sc);
}

TEST(jobs_check_equals_check_run)
{
    scanner_t *sc = scanner_new();
    arena_t *a = arena_new(0);
    span_t scan, sum, direct, viajob;
    buf_t in;
    check_module_t *mods;
    size_t n;

    REQUIRE(sc != NULL && a != NULL);
    REQUIRE(scanner_run(sc, NULL, SCAN_KIND_PY, (const uint8_t *)src, sizeof src - 1, a, &scan,
                        NULL) == ST_OK);
    sum = scan_result_summary(scan);
    buf_init(&in);
    REQUIRE(check_fixture_input(&in, sum));

    REQUIRE(check_run((span_t){in.data, in.len}, a, &direct, NULL) == ST_OK);
    REQUIRE(jobs_run(NULL, JOBS_CHECK, (span_t){in.data, in.len}, a, &viajob, NULL) == ST_OK);
    CHECK(same(direct, viajob));
    REQUIRE(check_result_decode(viajob, a, &mods, &n, NULL) == ST_OK);
    REQUIRE(n == 1);
    CHECK(mods[0].n_diags >= 1); /* E0401 for nosuchmod */
    buf_free(&in);
    arena_destroy(&a);
    scanner_destroy(&sc);
}

TEST(jobs_refuses_bad_inputs)
{
    scanner_t *sc = scanner_new();
    arena_t *a = arena_new(0);
    span_t out = {0};
    st_err_t err = {0};
    buf_t in;
    static const uint8_t junk[] = {0x93, 0x07, 0x00, 0xc4, 0x05, 'a'};

    REQUIRE(sc != NULL && a != NULL);
    CHECK(jobs_run(sc, 7, (span_t){junk, sizeof junk}, a, &out, &err) == ST_EINVAL);
    CHECK(strstr(err.msg, "kind 7") != NULL);
    CHECK(jobs_run(NULL, JOBS_SCAN, (span_t){junk, sizeof junk}, a, &out, &err) == ST_EINVAL);
    /* the old input of three elements, a target without a platform */
    {
        static const uint8_t old[] = {0x93, 0x00, 0x00, 0xc4, 0x01, 'x'};
        static const uint8_t nopl[] = {0x94, 0x00, 0x00, 0x93, 0x03, 0x0c, 0xa0, 0xc4, 0x01, 'x'};
        CHECK(jobs_run(sc, JOBS_SCAN, (span_t){old, sizeof old}, a, &out, &err) == ST_ECORRUPT);
        CHECK(jobs_run(sc, JOBS_SCAN, (span_t){nopl, sizeof nopl}, a, &out, &err) == ST_ECORRUPT);
    }
    /* scan kind 7, and a bin longer than the bytes */
    CHECK(jobs_run(sc, JOBS_SCAN, (span_t){junk, sizeof junk}, a, &out, &err) == ST_ECORRUPT);
    CHECK(jobs_run(sc, JOBS_SCAN, (span_t){junk, 2}, a, &out, &err) == ST_ECORRUPT);
    CHECK(jobs_run(sc, JOBS_CHECK, (span_t){junk, sizeof junk}, a, &out, &err) == ST_ECORRUPT);
    /* trailing bytes after a valid scan input */
    buf_init(&in);
    REQUIRE(jobs_scan_input(&in, SCAN_KIND_PY, NULL, (const uint8_t *)"x=1\n", 4, NULL) == ST_OK);
    REQUIRE(buf_append_byte(&in, 0xc0) == ST_OK);
    CHECK(jobs_run(sc, JOBS_SCAN, (span_t){in.data, in.len}, a, &out, &err) == ST_ECORRUPT);
    CHECK(jobs_run(sc, JOBS_SCAN, (span_t){in.data, in.len - 1}, a, &out, &err) == ST_OK);
    buf_free(&in);
    /* echo returns its input */
    CHECK(jobs_run(NULL, JOBS_ECHO, (span_t){junk, sizeof junk}, a, &out, &err) == ST_OK);
    CHECK(out.ptr == junk && out.len == sizeof junk);
    CHECK_STREQ(jobs_kind_name(JOBS_CHECK), "check");
    CHECK_STREQ(jobs_kind_name(99), "?");
    arena_destroy(&a);
    scanner_destroy(&sc);
}

TEST(jobs_scan_input_reports_limits_and_out_of_memory)
{
    scan_opts_t huge = {.max_file_bytes = (size_t)UINT32_MAX + 1};
    st_err_t err = {0};
    buf_t in;

    buf_init(&in);
    CHECK(jobs_scan_input(&in, SCAN_KIND_PY, &huge, (const uint8_t *)"x", 1, &err) == ST_ELIMIT);
    CHECK(jobs_scan_input(&in, SCAN_KIND_PY, NULL, (const uint8_t *)"x", (size_t)UINT32_MAX + 1,
                          &err) == ST_ELIMIT);
    alloc_fail_after(0);
    CHECK(jobs_scan_input(&in, SCAN_KIND_PY, NULL, (const uint8_t *)"x", 1, &err) == ST_ENOMEM);
    alloc_fail_after(-1);
    CHECK(in.len == 0);
    buf_free(&in);
}
