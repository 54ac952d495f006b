/* test_report.c - sorting, filtering and formatting of the report, JSON
 * string escaping by jansson (bytes that are not UTF-8 become U+FFFD,
 * written as the character: jansson does not escape it). */
#include "test.h"

#include "common/alloc.h"
#include "run/report.h"

#include <pthread.h>
#include <stdlib.h>

/* The JSON literal for s[0..len), in a static buffer. */
static const char *json(const char *s, size_t len)
{
    static char out[512];
    buf_t b;

    buf_init(&b);
    if (report_json_string(&b, s, len) != ST_OK || b.len >= sizeof out) {
        buf_free(&b);
        return "(error)";
    }
    memcpy(out, b.data, b.len + 1);
    buf_free(&b);
    return out;
}

#define JSON(lit) json(lit, sizeof(lit) - 1)

TEST(report_json_plain_and_escapes)
{
    CHECK_STREQ(JSON(""), "\"\"");
    CHECK_STREQ(JSON("a.py"), "\"a.py\"");
    CHECK_STREQ(JSON("say \"hi\" \\ bye"), "\"say \\\"hi\\\" \\\\ bye\"");
    CHECK_STREQ(JSON("\n\r\t\b\f"), "\"\\n\\r\\t\\b\\f\"");
    CHECK_STREQ(JSON("\x01\x1f\x7f"), "\"\\u0001\\u001F\x7f\"");
    CHECK_STREQ(json("a\0b", 3), "\"a\\u0000b\"");
    CHECK_STREQ(JSON("/"), "\"/\"");
}

TEST(report_json_valid_utf8_copied)
{
    CHECK_STREQ(JSON("caf\xc3\xa9"), "\"caf\xc3\xa9\"");           /* U+00E9 */
    CHECK_STREQ(JSON("\xe2\x82\xac"), "\"\xe2\x82\xac\"");         /* U+20AC */
    CHECK_STREQ(JSON("\xf0\x9d\x84\x9e"), "\"\xf0\x9d\x84\x9e\""); /* U+1D11E */
    CHECK_STREQ(JSON("\xef\xbf\xbf"), "\"\xef\xbf\xbf\"");         /* U+FFFF */
    CHECK_STREQ(JSON("\xf4\x8f\xbf\xbf"), "\"\xf4\x8f\xbf\xbf\""); /* U+10FFFF */
    CHECK_STREQ(JSON("\xed\x9f\xbf"), "\"\xed\x9f\xbf\"");         /* U+D7FF */
}

TEST(report_json_invalid_utf8_replaced)
{
    CHECK_STREQ(JSON("a\xff"
                     "b"),
                "\"a\xef\xbf\xbd"
                "b\"");
    CHECK_STREQ(JSON("\x80"), "\"\xef\xbf\xbd"
                              "\""); /* lone continuation */
    CHECK_STREQ(JSON("\xc0\xaf"), "\"\xef\xbf\xbd"
                                  "\xef\xbf\xbd"
                                  "\""); /* overlong '/' */
    CHECK_STREQ(JSON("\xc1\xbf"), "\"\xef\xbf\xbd"
                                  "\xef\xbf\xbd"
                                  "\""); /* overlong */
    CHECK_STREQ(JSON("\xe0\x80\xaf"), "\"\xef\xbf\xbd"
                                      "\xef\xbf\xbd"
                                      "\xef\xbf\xbd"
                                      "\""); /* overlong 3 */
    CHECK_STREQ(JSON("\xed\xa0\x80"), "\"\xef\xbf\xbd"
                                      "\xef\xbf\xbd"
                                      "\xef\xbf\xbd"
                                      "\""); /* surrogate */
    CHECK_STREQ(JSON("\xf4\x90\x80\x80"), "\"\xef\xbf\xbd"
                                          "\xef\xbf\xbd"
                                          "\xef\xbf\xbd"
                                          "\xef\xbf\xbd"
                                          "\""); /* > 10FFFF */
    CHECK_STREQ(JSON("\xf5\x80"), "\"\xef\xbf\xbd"
                                  "\xef\xbf\xbd"
                                  "\"");
    CHECK_STREQ(JSON("x\xe2\x82"), "\"x\xef\xbf\xbd"
                                   "\xef\xbf\xbd"
                                   "\""); /* truncated */
    CHECK_STREQ(JSON("\xe2\x28\xa1"), "\"\xef\xbf\xbd"
                                      "(\xef\xbf\xbd"
                                      "\""); /* bad continuation */
    CHECK_STREQ(JSON("\xf0\x9d\x84"), "\"\xef\xbf\xbd"
                                      "\xef\xbf\xbd"
                                      "\xef\xbf\xbd"
                                      "\"");
}

/* Runs report_write into a memory stream; returns a malloc'd string. */
static char *write_all(report_t *r, report_format_t format, size_t *n_diags, size_t *n_files)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    st_err_t err = {0};

    if (f == NULL)
        return NULL;
    if (report_write(r, format, f, n_diags, n_files, &err) != ST_OK) {
        fclose(f);
        free(text);
        return NULL;
    }
    fclose(f);
    return text;
}

static const report_rules_t all_rules = {0};

static void add(report_t *r, const char *path, uint32_t line, uint32_t col, const char *code,
                const char *msg)
{
    scan_diag_t d = {.line = line, .col = col, .code = code, .message = msg};

    CHECK_EQ_INT(report_add(r, path, &d, 1, NULL), ST_OK);
}

TEST(report_text_sorted_by_path_line_col_code)
{
    report_t *r = report_new(&all_rules);
    size_t nd = 0, nf = 0;
    char *out;

    REQUIRE(r != NULL);
    add(r, "a_b.py", 1, 1, "F401", "x");
    add(r, "a/b.py", 2, 1, "F401", "x");
    add(r, "a.py", 10, 1, "F401", "ten");
    add(r, "a.py", 9, 5, "F841", "nine-five");
    add(r, "a.py", 9, 5, "F821", "nine-five b");
    add(r, "a.py", 9, 12, "E902", "nine-twelve");
    add(r, "a.py", 9, 5, "F821", "nine-five a");
    add(r, "\xc3\xa9.py", 1, 1, "F401", "utf8");
    add(r, "B.py", 1, 1, "F401", "upper");
    out = write_all(r, REPORT_FORMAT_TEXT, &nd, &nf);
    REQUIRE(out != NULL);
    CHECK_STREQ(out, "B.py:1:1: F401 upper\n"
                     "a.py:9:5: F821 nine-five a\n"
                     "a.py:9:5: F821 nine-five b\n"
                     "a.py:9:5: F841 nine-five\n"
                     "a.py:9:12: E902 nine-twelve\n"
                     "a.py:10:1: F401 ten\n"
                     "a/b.py:2:1: F401 x\n"
                     "a_b.py:1:1: F401 x\n"
                     "\xc3\xa9.py:1:1: F401 utf8\n");
    CHECK_EQ_INT(nd, 9);
    CHECK_EQ_INT(nf, 5);
    free(out);
    report_destroy(&r);
    CHECK(r == NULL);
    report_destroy(&r);
    report_destroy(NULL);
}

TEST(report_json_output)
{
    report_t *r = report_new(&all_rules);
    size_t nd = 0, nf = 0;
    char *out;

    REQUIRE(r != NULL);
    add(r, "b\xff.py", 3, 4, "F821", "undefined name 'x\"'");
    add(r, "a.py", 1, 1, "F401", "'os' imported but unused");
    out = write_all(r, REPORT_FORMAT_JSON, &nd, &nf);
    REQUIRE(out != NULL);
    CHECK_STREQ(out, "[\n"
                     "  {\"filename\": \"a.py\", \"line\": 1, \"column\": 1, \"code\": \"F401\", "
                     "\"message\": \"'os' imported but unused\"},\n"
                     "  {\"filename\": \"b\xef\xbf\xbd"
                     ".py\", \"line\": 3, \"column\": 4, \"code\": "
                     "\"F821\", \"message\": \"undefined name 'x\\\"'\"}\n"
                     "]\n");
    CHECK_EQ_INT(nd, 2);
    CHECK_EQ_INT(nf, 2);
    free(out);
    report_destroy(&r);
}

TEST(report_empty)
{
    report_t *r = report_new(&all_rules);
    size_t nd = 1, nf = 1;
    char *out;

    REQUIRE(r != NULL);
    CHECK_EQ_INT(report_add(r, "a.py", NULL, 0, NULL), ST_OK);
    out = write_all(r, REPORT_FORMAT_JSON, &nd, &nf);
    CHECK_STREQ(out, "[]\n");
    CHECK_EQ_INT(nd, 0);
    CHECK_EQ_INT(nf, 0);
    free(out);
    out = write_all(r, REPORT_FORMAT_TEXT, &nd, &nf);
    CHECK_STREQ(out, "");
    free(out);
    report_destroy(&r);
}

TEST(report_filters_by_rules)
{
    const char *select[] = {"F"};
    const char *ignore[] = {"F4"};
    report_rules_t rules = {.select = select, .n_select = 1, .ignore = ignore, .n_ignore = 1};
    report_t *r = report_new(&rules);
    scan_diag_t d[] = {{1, 1, "F401", "a"}, {2, 1, "F811", "b"}, {3, 1, "E902", "c"}};
    size_t nd, nf;
    char *out;

    REQUIRE(r != NULL);
    CHECK_EQ_INT(report_add(r, "x.py", d, 3, NULL), ST_OK);
    CHECK_EQ_INT(report_add(r, "y.py", d, 1, NULL), ST_OK); /* all filtered */
    out = write_all(r, REPORT_FORMAT_TEXT, &nd, &nf);
    CHECK_STREQ(out, "x.py:2:1: F811 b\n");
    CHECK_EQ_INT(nd, 1);
    CHECK_EQ_INT(nf, 1);
    free(out);
    report_destroy(&r);
}

/* The copy outlives the caller's strings. */
TEST(report_copies_strings)
{
    report_t *r = report_new(&all_rules);
    char path[] = "p.py", code[] = "F401", msg[] = "m";
    scan_diag_t d = {1, 2, code, msg};
    size_t nd, nf;
    char *out;

    REQUIRE(r != NULL);
    REQUIRE(report_add(r, path, &d, 1, NULL) == ST_OK);
    memset(path, 'X', 4), memset(code, 'X', 4), msg[0] = 'X';
    out = write_all(r, REPORT_FORMAT_TEXT, &nd, &nf);
    CHECK_STREQ(out, "p.py:1:2: F401 m\n");
    free(out);
    report_destroy(&r);
}

typedef struct {
    report_t *r;
    int id;
} adder_t;

static void *add_many(void *arg)
{
    adder_t *a = arg;
    char path[32];

    for (int i = 0; i < 200; i++) {
        scan_diag_t d[2] = {{(uint32_t)i, 1, "F401", "one"}, {(uint32_t)i, 2, "F841", "two"}};

        snprintf(path, sizeof path, "f%03d.py", (i * 7 + a->id * 13) % 200);
        if (report_add(a->r, path, d, 2, NULL) != ST_OK)
            return (void *)1;
    }
    return NULL;
}

/* Concurrent adds in any order give the same bytes as sequential ones. */
TEST(report_threads_same_output)
{
    char *outs[2];

    for (int round = 0; round < 2; round++) {
        report_t *r = report_new(&all_rules);
        pthread_t t[4];
        adder_t a[4];
        size_t nd, nf;

        REQUIRE(r != NULL);
        for (int i = 0; i < 4; i++) {
            a[i] = (adder_t){r, round == 0 ? i : 3 - i};
            if (round == 0)
                REQUIRE(pthread_create(&t[i], NULL, add_many, &a[i]) == 0);
            else
                CHECK(add_many(&a[i]) == NULL);
        }
        for (int i = 0; round == 0 && i < 4; i++) {
            void *res;
            pthread_join(t[i], &res);
            CHECK(res == NULL);
        }
        outs[round] = write_all(r, REPORT_FORMAT_TEXT, &nd, &nf);
        CHECK_EQ_INT(nd, 1600);
        report_destroy(&r);
    }
    REQUIRE(outs[0] != NULL && outs[1] != NULL);
    CHECK(strcmp(outs[0], outs[1]) == 0);
    free(outs[0]);
    free(outs[1]);
}

TEST(report_out_of_memory_keeps_nothing)
{
    report_t *r = report_new(&all_rules);
    scan_diag_t d[3] = {{1, 1, "F401", "a"}, {2, 1, "F401", "b"}, {3, 1, "F401", "c"}};
    size_t nd, nf;
    st_err_t err = {0};
    char *out;

    REQUIRE(r != NULL);
    alloc_fail_after(0);
    CHECK_EQ_INT(report_add(r, "x.py", d, 3, &err), ST_ENOMEM);
    alloc_fail_after(-1);
    CHECK_EQ_INT(err.code, ST_ENOMEM);
    out = write_all(r, REPORT_FORMAT_TEXT, &nd, &nf);
    CHECK_STREQ(out, "");
    CHECK_EQ_INT(nd, 0);
    free(out);
    report_destroy(&r);
}

TEST(report_new_out_of_memory)
{
    for (long n = 0; n < 2; n++) {
        alloc_fail_after(n);
        CHECK(report_new(&all_rules) == NULL);
        alloc_fail_after(-1);
    }
}

TEST(report_write_error_is_eio)
{
    FILE *full = fopen("/dev/full", "w");
    report_t *r = report_new(&all_rules);
    size_t nd = 7, nf = 7;
    st_err_t err = {0};

    if (full == NULL) {
        fprintf(stderr, "  report_write_error_is_eio: no /dev/full, skipped\n");
        report_destroy(&r);
        return;
    }
    REQUIRE(r != NULL);
    add(r, "a.py", 1, 1, "F401", "m");
    CHECK_EQ_INT(report_write(r, REPORT_FORMAT_TEXT, full, &nd, &nf, &err), ST_EIO);
    CHECK_EQ_INT(err.code, ST_EIO);
    CHECK_EQ_INT(nd, 7); /* untouched on error */
    fclose(full);
    report_destroy(&r);
}

TEST(report_summary_plurals)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);

    REQUIRE(f != NULL);
    report_write_summary(f, 0, 0, 3);
    report_write_summary(f, 1, 1, 1);
    report_write_summary(f, 5, 2, 10);
    fclose(f);
    CHECK_STREQ(text, "Found 0 diagnostics in 0 files (3 files checked)\n"
                      "Found 1 diagnostic in 1 file (1 file checked)\n"
                      "Found 5 diagnostics in 2 files (10 files checked)\n");
    free(text);
}

TEST(report_summary_with_cache)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);

    REQUIRE(f != NULL);
    report_write_summary_cached(f, 0, 0, 3, 0);
    report_write_summary_cached(f, 1, 1, 1, 1);
    report_write_summary_cached(f, 5, 2, 10, 9);
    fclose(f);
    CHECK_STREQ(text, "Found 0 diagnostics in 0 files (3 files checked, 0 from cache)\n"
                      "Found 1 diagnostic in 1 file (1 file checked, 1 from cache)\n"
                      "Found 5 diagnostics in 2 files (10 files checked, 9 from cache)\n");
    free(text);
}

typedef struct {
    char seen[256];
    size_t calls;
} each_ctx_t;

static st_rc_t collect(void *ctx, const char *path, const scan_diag_t *diags, size_t n,
                       st_err_t *err)
{
    each_ctx_t *c = ctx;
    size_t len = strlen(c->seen);

    (void)err;
    c->calls++;
    snprintf(c->seen + len, sizeof c->seen - len, "%s:", path);
    for (size_t i = 0; i < n; i++) {
        len = strlen(c->seen);
        snprintf(c->seen + len, sizeof c->seen - len, "%u%s;", diags[i].line, diags[i].code);
    }
    return ST_OK;
}

static st_rc_t stop_at_first(void *ctx, const char *path, const scan_diag_t *diags, size_t n,
                             st_err_t *err)
{
    (void)ctx;
    (void)path;
    (void)diags;
    (void)n;
    return st_fail(err, ST_EIO, "stop");
}

/* report_each: one call per file, in the printed order, filtered by the
 * rules; an error stops it. */
TEST(report_each_groups_files_in_order)
{
    const char *ignore[] = {"E1"};
    report_rules_t rules = {.ignore = ignore, .n_ignore = 1};
    report_t *r = report_new(&rules);
    scan_diag_t b[] = {{9, 1, "F401", "x"}, {2, 1, "E1101", "gone"}, {2, 1, "E0611", "y"}};
    scan_diag_t a[] = {{5, 2, "F841", "z"}};
    each_ctx_t c = {{0}, 0};
    st_err_t err = {0};

    REQUIRE(r != NULL);
    REQUIRE(report_add(r, "b.py", b, 3, &err) == ST_OK);
    REQUIRE(report_add(r, "a.py", a, 1, &err) == ST_OK);
    REQUIRE(report_each(r, collect, &c, &err) == ST_OK);
    CHECK_EQ_INT(c.calls, 2);
    CHECK_STREQ(c.seen, "a.py:5F841;b.py:2E0611;9F401;");
    CHECK(report_each(r, stop_at_first, NULL, &err) == ST_EIO);
    report_destroy(&r);
}
