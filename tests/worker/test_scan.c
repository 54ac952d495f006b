/* test_scan.c - the scan's own error paths: an exhausted arena fails the
 * job cleanly, and a result document that is not what it claims is refused
 * by scan_result_diags before anything is allocated for it. */
#include "test.h"

#include "common/arena.h"
#include "worker/python/scan.h"
#include "worker/python/summary.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char src[] = "import os\n"
                          "def f(a):\n"
                          "    b = 1\n"
                          "    return undefined_name\n";

TEST(scan_arena_limit_fails_the_job_not_the_process)
{
    scanner_t *s = scanner_new();
    REQUIRE(s != NULL);
    for (size_t limit = 256; limit <= 64 * 1024; limit *= 2) {
        arena_t *a = arena_new(256);
        span_t out;
        st_err_t err = {0};
        st_rc_t rc;
        REQUIRE(a != NULL);
        arena_set_limit(a, limit);
        rc = scanner_run(s, NULL, SCAN_KIND_PY, (const uint8_t *)src, strlen(src), a, &out, &err);
        CHECK(rc == ST_OK || rc == ST_ENOMEM);
        if (rc == ST_ENOMEM)
            CHECK(err.msg[0] != '\0');
        arena_destroy(&a);
    }
    /* and the scanner still works afterwards */
    arena_t *a = arena_new(0);
    span_t out;
    scan_diag_t *d;
    size_t n;
    REQUIRE(scanner_run(s, NULL, SCAN_KIND_PY, (const uint8_t *)src, strlen(src), a, &out, NULL) ==
            ST_OK);
    REQUIRE(scan_result_diags(out, a, &d, &n, NULL) == ST_OK);
    CHECK_EQ_INT(n, 3);
    arena_destroy(&a);
    scanner_destroy(&s);
    CHECK(s == NULL);
    scanner_destroy(&s); /* NULL is fine */
}

TEST(scan_result_rejects_corrupt_documents)
{
    scanner_t *s = scanner_new();
    arena_t *a = arena_new(0);
    span_t out;
    scan_diag_t *d;
    size_t n;

    REQUIRE(s != NULL && a != NULL);
    REQUIRE(scanner_run(s, NULL, SCAN_KIND_PY, (const uint8_t *)src, strlen(src), a, &out, NULL) ==
            ST_OK);
    /* every truncation of a real result is refused */
    for (size_t cut = 0; cut < out.len; cut++) {
        span_t t = {out.ptr, cut};
        st_err_t err = {0};
        st_rc_t rc = scan_result_diags(t, a, &d, &n, &err);
        /* the summary comes after the diagnostics and is not read */
        if (rc == ST_OK)
            CHECK(n == 3);
        else
            CHECK(rc == ST_ECORRUPT && err.msg[0] != '\0');
    }
    {
        /* {"v": 2, "diags": array32 claiming 2^32-1 entries} */
        const uint8_t huge[] = {
            0x82, 0xa1, 'v', SCAN_RESULT_VERSION, 0xa5, 'd', 'i', 'a', 'g', 's', 0xdd, 0xff,
            0xff, 0xff, 0xff};
        span_t t = {huge, sizeof huge};
        CHECK(scan_result_diags(t, a, &d, &n, NULL) == ST_ECORRUPT);
    }
    {
        /* the current version with no diagnostics is fine; an older one
         * (version 4: a summary without TYPE_CHECKING imports or pylint's
         * pragmas; 5: stubs' branches not decided, no overloads; 6: no
         * E1101 for self.x; 7: no checks of self.m(...) calls; 8: a result of
         * the parser's time limit not marked transient; 9: no class facts
         * for the check job) is refused: not reused */
        const uint8_t ok[] = {0x82, 0xa1, 'v', SCAN_RESULT_VERSION, 0xa5, 'd', 'i', 'a',
                              'g',  's',  0x90};
        const uint8_t v1[] = {0x82, 0xa1, 'v', 0x09, 0xa5, 'd', 'i', 'a', 'g', 's', 0x90};
        span_t t = {ok, sizeof ok}, t1 = {v1, sizeof v1};
        CHECK(SCAN_RESULT_VERSION == 11);
        CHECK(scan_result_diags(t, a, &d, &n, NULL) == ST_OK && n == 0);
        CHECK(scan_result_diags(t1, a, &d, &n, NULL) == ST_ECORRUPT);
    }
    {
        /* a version from the future */
        const uint8_t future[] = {0x82, 0xa1, 'v', 0x63, 0xa5, 'd', 'i', 'a', 'g', 's', 0x90};
        span_t t = {future, sizeof future};
        CHECK(scan_result_diags(t, a, &d, &n, NULL) == ST_ECORRUPT);
    }
    {
        /* a diagnostic with the wrong shape */
        const uint8_t shape[] = {
            0x82, 0xa1, 'v', SCAN_RESULT_VERSION, 0xa5, 'd', 'i', 'a', 'g', 's', 0x91,
            0x92, 0x01, 0x01};
        span_t t = {shape, sizeof shape};
        CHECK(scan_result_diags(t, a, &d, &n, NULL) == ST_ECORRUPT);
    }
    arena_destroy(&a);
    scanner_destroy(&s);
}

TEST(scan_kind_of_path_names)
{
    CHECK(scan_kind_of_path("a/b/__init__.py") == SCAN_KIND_INIT);
    CHECK(scan_kind_of_path("__init__.pyi") == SCAN_KIND_INIT_STUB);
    CHECK(scan_kind_of_path("x/mod.pyi") == SCAN_KIND_PYI);
    CHECK(scan_kind_of_path("x/mod.py") == SCAN_KIND_PY);
    CHECK(scan_kind_of_path("script") == SCAN_KIND_PY);
}

TEST(scan_size_limit_is_one_diagnostic)
{
    scanner_t *s = scanner_new();
    arena_t *a = arena_new(0);
    scan_opts_t o = {.max_file_bytes = 8};
    span_t out;
    scan_diag_t *d;
    size_t n;

    REQUIRE(s != NULL && a != NULL);
    REQUIRE(scanner_run(s, &o, SCAN_KIND_PY, (const uint8_t *)src, strlen(src), a, &out, NULL) ==
            ST_OK);
    REQUIRE(scan_result_diags(out, a, &d, &n, NULL) == ST_OK);
    REQUIRE(n == 1);
    CHECK_STREQ(d[0].code, "E902");
    arena_destroy(&a);
    scanner_destroy(&s);
}

/* A file whose tree needs more memory than the parse budget: the parse
 * stops, the file gets one E902 naming the budget, and the same scanner
 * goes on to parse the next file (tree-sitter is never denied memory, so
 * the process lives). */
TEST(scan_parse_budget_is_one_diagnostic_and_the_scanner_goes_on)
{
    scanner_t *s = scanner_new();
    arena_t *a = arena_new(0);
    size_t n_items = 100000, len = 0;
    char *big = malloc(n_items * 4 + 16);
    span_t out;
    scan_diag_t *d;
    size_t n;
    /* memory is what this is about: time enough, however slow the build */
    scan_opts_t patient = {.parse_timeout_us = 600000000u};

    REQUIRE(s != NULL && a != NULL && big != NULL);
    len += (size_t)sprintf(big, "x = [");
    for (size_t i = 0; i < n_items; i++) /* 400 KB of [1], tree-sitter needs ~70 MB */
        memcpy(big + len + i * 4, "[1],", 4);
    len += n_items * 4;
    len += (size_t)sprintf(big + len, "]\n");
    scanner_set_parse_budget(s, (size_t)4 << 20);
    REQUIRE(scanner_run(s, &patient, SCAN_KIND_PY, (const uint8_t *)big, len, a, &out, NULL) ==
            ST_OK);
    REQUIRE(scan_result_diags(out, a, &d, &n, NULL) == ST_OK);
    REQUIRE(n == 1);
    CHECK_STREQ(d[0].code, "E902");
    CHECK(strstr(d[0].message, "more than 4 MB of memory") != NULL);
    /* the scanner is whole: a normal file, then the big one within the
       default budget */
    arena_reset(a);
    REQUIRE(scanner_run(s, NULL, SCAN_KIND_PY, (const uint8_t *)src, strlen(src), a, &out, NULL) ==
            ST_OK);
    REQUIRE(scan_result_diags(out, a, &d, &n, NULL) == ST_OK);
    CHECK(n >= 1 && strcmp(d[0].code, "F401") == 0);
    scanner_set_parse_budget(s, SCAN_PARSE_BUDGET);
    arena_reset(a);
    REQUIRE(scanner_run(s, &patient, SCAN_KIND_PY, (const uint8_t *)big, len, a, &out, NULL) ==
            ST_OK);
    REQUIRE(scan_result_diags(out, a, &d, &n, NULL) == ST_OK);
    CHECK(n == 0);
    free(big);
    arena_destroy(&a);
    scanner_destroy(&s);
}

/* A parse that runs out of time is an E902 whose result says it is
 * transient (never cached: it depends on the machine's load), with no
 * summary to speak for the file; the memory budget's E902 and ordinary
 * results are not transient. */
TEST(scan_time_limit_is_transient)
{
    scanner_t *s = scanner_new();
    arena_t *a = arena_new(0);
    size_t n_lines = 20000, len = 0, n;
    char *src = malloc(n_lines * 16 + 1);
    scan_opts_t fast = {.parse_timeout_us = 1}, patient = {.parse_timeout_us = 600000000u};
    scan_diag_t *d;
    span_t out;

    REQUIRE(s != NULL && a != NULL && src != NULL);
    for (size_t i = 0; i < n_lines; i++)
        len += (size_t)sprintf(src + len, "x%zu = %zu\n", i % 1000, i);
    REQUIRE(scanner_run(s, &fast, SCAN_KIND_PY, (const uint8_t *)src, len, a, &out, NULL) == ST_OK);
    REQUIRE(scan_result_diags(out, a, &d, &n, NULL) == ST_OK);
    REQUIRE(n == 1);
    CHECK_STREQ(d[0].code, "E902");
    CHECK(strstr(d[0].message, "time limit") != NULL);
    CHECK(scan_result_transient(out));
    /* the same file with time enough: checked, not transient */
    arena_reset(a);
    REQUIRE(scanner_run(s, &patient, SCAN_KIND_PY, (const uint8_t *)src, len, a, &out, NULL) ==
            ST_OK);
    REQUIRE(scan_result_diags(out, a, &d, &n, NULL) == ST_OK);
    CHECK(n == 0);
    CHECK(!scan_result_transient(out));
    CHECK(scan_result_summary(out).len > 0);
    /* the memory budget is no clock: its E902 is a result like any */
    arena_reset(a);
    scanner_set_parse_budget(s, 4096);
    REQUIRE(scanner_run(s, &patient, SCAN_KIND_PY, (const uint8_t *)src, len, a, &out, NULL) ==
            ST_OK);
    REQUIRE(scan_result_diags(out, a, &d, &n, NULL) == ST_OK);
    CHECK(n == 1 && strstr(d[0].message, "memory") != NULL);
    CHECK(!scan_result_transient(out));
    /* not a result, or one cut short after the key: not transient */
    static const uint8_t cut[] = {0x81, 0xa9, 't', 'r', 'a', 'n', 's', 'i', 'e', 'n', 't'};
    CHECK(!scan_result_transient((span_t){.ptr = cut, .len = sizeof cut}));
    CHECK(!scan_result_transient((span_t){.ptr = (const uint8_t *)"junk", .len = 4}));
    free(src);
    arena_destroy(&a);
    scanner_destroy(&s);
}

/* The summary inside a result is found where the encoder put it, and its
 * diagnostics read back as a list: what encode_result writes, the readers
 * of the scan result give back. */
TEST(scan_result_summary_and_diags_round_trip)
{
    scanner_t *sc = scanner_new();
    arena_t *a = arena_new(0);
    span_t out, sum;
    mpread_t r;
    uint32_t n;
    scan_diag_t *d;
    size_t nd;
    sum_import_t *imps;
    uint32_t ni;

    REQUIRE(sc != NULL && a != NULL);
    REQUIRE(scanner_run(sc, NULL, SCAN_KIND_PY, (const uint8_t *)src, sizeof src - 1, a, &out,
                        NULL) == ST_OK);
    sum = scan_result_summary(out);
    REQUIRE(sum.len > 0 && sum.ptr + sum.len == out.ptr + out.len); /* the last value */
    REQUIRE(summary_decode_imports(sum, a, &imps, &ni) == ST_OK && ni >= 1);
    CHECK(imps[0].module.len == 2 && memcmp(imps[0].module.s, "os", 2) == 0);
    mpread_init(&r, out.ptr, out.len);
    REQUIRE(mpread_map(&r, &n) == ST_OK && mpread_skip(&r) == ST_OK && mpread_skip(&r) == ST_OK);
    REQUIRE(mpread_key(&r, "diags") && scan_diags_read(&r, a, &d, &nd) == ST_OK);
    REQUIRE(nd >= 1);
    CHECK_STREQ(d[0].code, "F401");
    CHECK(scan_result_summary((span_t){(const uint8_t *)"\x93", 1}).len == 0); /* no map */
    CHECK(scan_result_summary((span_t){(const uint8_t *)"\x81\xa1v\x01", 4}).len == 0);
    mpread_init(&r, (const uint8_t *)"\x91\x93\x01\x01\xa1x", 6); /* a 3-element diagnostic */
    CHECK(scan_diags_read(&r, a, &d, &nd) == ST_ECORRUPT);
    scanner_destroy(&sc);
    arena_destroy(&a);
}
