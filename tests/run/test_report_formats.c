/* test_report_formats.c - the output formats one by one: their names,
 * empty reports, escaping (GitHub's workflow commands, JSON, XML), paths
 * with spaces, commas and colons, non-ASCII, source lines read back from
 * files that changed or vanished, GitLab fingerprints, statistics and the
 * output file. */
#include "test.h"

#include "run/report.h"
#include "run/report_formats.h"

#include <jansson.h>
#include <libxml/parser.h>
#include <stdlib.h>
#include <unistd.h>

static const report_rules_t all = {0};

static void add(report_t *r, const char *path, uint32_t line, uint32_t col, const char *code,
                const char *message)
{
    scan_diag_t d = {.line = line, .col = col, .code = code, .message = message};
    st_err_t err = {0};

    CHECK_EQ_INT(report_add(r, path, &d, 1, &err), ST_OK);
}

/* The report in format (statistics: its counts), malloc'd; NULL on error. */
static char *render(report_t *r, report_format_t format, bool statistics)
{
    char *text = NULL;
    size_t size = 0, nd, nf;
    FILE *f = open_memstream(&text, &size);
    st_err_t err = {0};
    st_rc_t rc;

    if (f == NULL)
        return NULL;
    rc = statistics ? report_write_statistics(r, format, f, &nd, &nf, &err)
                    : report_write(r, format, f, &nd, &nf, &err);
    fclose(f);
    if (rc != ST_OK) {
        free(text);
        return NULL;
    }
    return text;
}

/* A scratch file with text; its path in a static buffer. */
static const char *scratch(const char *name, const char *text)
{
    static char path[256];
    FILE *f;

    snprintf(path, sizeof path, "/tmp/strata-fmt-%d-%s", (int)getpid(), name);
    f = fopen(path, "w");
    if (f == NULL)
        return "(none)";
    fputs(text, f);
    fclose(f);
    return path;
}

TEST(report_format_parse_names)
{
    static const char *names[] = {"full",  "concise", "grouped", "json",  "json-lines",
                                  "sarif", "github",  "gitlab",  "junit", "pylint"};
    report_format_t f = REPORT_FORMAT_DOT;
    st_err_t err = {0};

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        CHECK_EQ_INT(report_format_parse(names[i], &f, &err), ST_OK);
        CHECK_STREQ(report_format_name(f), names[i]);
    }
    CHECK_EQ_INT(report_format_parse("text", &f, &err), ST_OK);
    CHECK_EQ_INT(f, REPORT_FORMAT_CONCISE);
    f = REPORT_FORMAT_DOT;
    CHECK_EQ_INT(report_format_parse("xml", &f, &err), ST_EINVAL);
    CHECK_EQ_INT(f, REPORT_FORMAT_DOT);
    CHECK_STREQ(err.msg, "invalid output format 'xml' (expected full, concise, grouped, json, "
                         "json-lines, sarif, github, gitlab, junit or pylint)");
    CHECK_EQ_INT(report_format_parse("", &f, NULL), ST_EINVAL);
    CHECK_EQ_INT(report_format_parse("JSON", &f, NULL), ST_EINVAL);
}

TEST(report_formats_empty)
{
    static const struct {
        report_format_t format;
        const char *want;
    } cases[] = {
        {REPORT_FORMAT_FULL, ""},       {REPORT_FORMAT_CONCISE, ""},    {REPORT_FORMAT_GROUPED, ""},
        {REPORT_FORMAT_JSON, "[]\n"},   {REPORT_FORMAT_JSON_LINES, ""}, {REPORT_FORMAT_GITHUB, ""},
        {REPORT_FORMAT_GITLAB, "[]\n"}, {REPORT_FORMAT_PYLINT, ""},
    };
    report_t *r = report_new(&all);
    char *out;

    REQUIRE(r != NULL);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        out = render(r, cases[i].format, false);
        CHECK_STREQ(out, cases[i].want);
        free(out);
    }
    out = render(r, REPORT_FORMAT_SARIF, false);
    CHECK(out != NULL && strstr(out, "\"rules\": []}},\n    \"results\": []\n") != NULL);
    free(out);
    out = render(r, REPORT_FORMAT_JUNIT, false);
    CHECK(out != NULL &&
          strstr(out, "<testsuite name=\"strata\" tests=\"0\" failures=\"0\"") != NULL);
    free(out);
    out = render(r, REPORT_FORMAT_CONCISE, true);
    CHECK_STREQ(out, "");
    free(out);
    out = render(r, REPORT_FORMAT_JSON, true);
    CHECK_STREQ(out, "[]\n");
    free(out);
    report_destroy(&r);
}

TEST(report_formats_line_formats)
{
    report_t *r = report_new(&all);
    char *out;

    REQUIRE(r != NULL);
    add(r, "a dir, x/b:c.py", 12, 3, "F821", "undefined name 'caf\xc3\xa9'");
    add(r, "a dir, x/b:c.py", 2, 10, "F401", "'os' imported but unused");
    add(r, "z.py", 1, 1, "E999", "SyntaxError: 100% bad\nnext\rline");
    out = render(r, REPORT_FORMAT_PYLINT, false);
    CHECK_STREQ(out, "a dir, x/b:c.py:2: [F401] 'os' imported but unused\n"
                     "a dir, x/b:c.py:12: [F821] undefined name 'caf\xc3\xa9'\n"
                     "z.py:1: [E999] SyntaxError: 100% bad\nnext\rline\n");
    free(out);
    out = render(r, REPORT_FORMAT_GROUPED, false);
    CHECK_STREQ(out, "a dir, x/b:c.py:\n"
                     "   2:10 F401 'os' imported but unused\n"
                     "  12:3  F821 undefined name 'caf\xc3\xa9'\n"
                     "\n"
                     "z.py:\n"
                     "  1:1 E999 SyntaxError: 100% bad\nnext\rline\n"
                     "\n");
    free(out);
    out = render(r, REPORT_FORMAT_GITHUB, false);
    CHECK_STREQ(out, "::error file=a dir%2C x/b%3Ac.py,line=2,col=10,title=F401::'os' imported "
                     "but unused\n"
                     "::error file=a dir%2C x/b%3Ac.py,line=12,col=3,title=F821::undefined name "
                     "'caf\xc3\xa9'\n"
                     "::error file=z.py,line=1,col=1,title=E999::SyntaxError: 100%25 "
                     "bad%0Anext%0Dline\n");
    free(out);
    report_destroy(&r);
}

TEST(report_formats_github_property_escapes)
{
    report_t *r = report_new(&all);
    char *out;

    REQUIRE(r != NULL);
    add(r, "p%1:2,3\n.py", 1, 1, "X:1,%", "m: a, b");
    out = render(r, REPORT_FORMAT_GITHUB, false);
    CHECK_STREQ(out, "::error file=p%251%3A2%2C3%0A.py,line=1,col=1,title=X%3A1%2C%25::m: a, b\n");
    free(out);
    report_destroy(&r);
}

TEST(report_formats_full_reads_source)
{
    const char *path = scratch("full.py", "import os\n\tx = caf\xc3\xa9 + y\r\nshort\n");
    char *copy = strdup(path);
    report_t *r = report_new(&all);
    char *out, want[1024];

    REQUIRE(r != NULL && copy != NULL);
    add(r, copy, 2, 14, "F821", "undefined name 'y'");
    add(r, copy, 3, 40, "F999", "column past the end: the file changed");
    add(r, copy, 9, 1, "F998", "line past the end");
    add(r, "/nonexistent/strata/gone.py", 1, 1, "F401", "vanished");
    out = render(r, REPORT_FORMAT_FULL, false);
    snprintf(want, sizeof want,
             "/nonexistent/strata/gone.py:1:1: F401 vanished\n\n"
             "%s:2:14: F821 undefined name 'y'\n"
             "  |\n"
             "2 | \tx = caf\xc3\xa9 + y\n"
             "  | \t           ^\n\n"
             "%s:3:40: F999 column past the end: the file changed\n\n"
             "%s:9:1: F998 line past the end\n\n",
             copy, copy, copy);
    CHECK_STREQ(out, want);
    free(out);
    unlink(copy);
    free(copy);
    report_destroy(&r);
}

/* The fingerprints of a gitlab report, in order, joined by spaces. */
static char *fingerprints_of(const char *doc)
{
    json_t *arr = json_loads(doc, 0, NULL);
    size_t i;
    json_t *v;
    static char out[1024];

    out[0] = '\0';
    json_array_foreach(arr, i, v)
    {
        strncat(out, json_string_value(json_object_get(v, "fingerprint")), 40);
        strcat(out, " ");
    }
    json_decref(arr);
    return out;
}

TEST(report_formats_gitlab_fingerprints)
{
    const char *p1 = scratch("gl.py", "import os\nimport os\n");
    char *path = strdup(p1), before[1024];
    report_t *r = report_new(&all);
    char *out;
    json_t *doc, *first;

    REQUIRE(r != NULL && path != NULL);
    add(r, path, 1, 1, "F401", "'os' imported but unused");
    add(r, path, 2, 1, "F401", "'os' imported but unused");
    out = render(r, REPORT_FORMAT_GITLAB, false);
    REQUIRE(out != NULL);
    doc = json_loads(out, 0, NULL);
    REQUIRE(json_array_size(doc) == 2);
    first = json_array_get(doc, 0);
    CHECK_STREQ(json_string_value(json_object_get(first, "check_name")), "F401");
    CHECK_STREQ(json_string_value(json_object_get(first, "severity")), "minor");
    CHECK_EQ_INT(json_integer_value(json_object_get(
                     json_object_get(json_object_get(first, "location"), "lines"), "begin")),
                 1);
    json_decref(doc);
    snprintf(before, sizeof before, "%s", fingerprints_of(out));
    CHECK(strlen(before) == 2 * 33);
    CHECK(strncmp(before, before + 33, 32) != 0); /* occurrence index differs */
    free(out);
    report_destroy(&r);

    /* two lines inserted above: the same fingerprints, new line numbers */
    scratch("gl.py", "# a\n# b\nimport os\nimport os\n");
    REQUIRE((r = report_new(&all)) != NULL);
    add(r, path, 3, 1, "F401", "'os' imported but unused");
    add(r, path, 4, 1, "F401", "'os' imported but unused");
    out = render(r, REPORT_FORMAT_GITLAB, false);
    CHECK_STREQ(fingerprints_of(out), before);
    free(out);
    report_destroy(&r);
    unlink(path);
    free(path);
}

TEST(report_formats_json_lines_and_non_utf8)
{
    report_t *r = report_new(&all);
    char *out;

    REQUIRE(r != NULL);
    add(r, "caf\xc3\xa9 \xff.py", 1, 2, "F401", "tab\there \"q\"");
    out = render(r, REPORT_FORMAT_JSON_LINES, false);
    CHECK_STREQ(out, "{\"filename\": \"caf\xc3\xa9 \xef\xbf\xbd"
                     ".py\", \"line\": 1, \"column\": 2, \"code\": \"F401\", \"message\": "
                     "\"tab\\there \\\"q\\\"\"}\n");
    free(out);
    report_destroy(&r);
}

TEST(report_formats_junit_is_well_formed)
{
    report_t *r = report_new(&all);
    char *out;
    xmlDocPtr doc;

    REQUIRE(r != NULL);
    add(r, "a <&> \xff.py", 1, 1, "F401", "bell\x07 \"q\" <tag> & caf\xc3\xa9");
    add(r, "a <&> \xff.py", 2, 1, "F811", "second");
    add(r, "b.py", 1, 1, "E999", "third");
    out = render(r, REPORT_FORMAT_JUNIT, false);
    REQUIRE(out != NULL);
    doc = xmlReadMemory(out, (int)strlen(out), "junit.xml", NULL, XML_PARSE_NONET);
    CHECK(doc != NULL);
    xmlFreeDoc(doc);
    CHECK(strstr(out, "<testsuite name=\"strata\" tests=\"2\" failures=\"3\" errors=\"0\"") !=
          NULL);
    CHECK(strstr(out, "name=\"a &lt;&amp;&gt; \xef\xbf\xbd.py\"") != NULL);
    CHECK(strstr(out, "bell\xef\xbf\xbd &quot;q&quot; &lt;tag&gt; &amp; caf\xc3\xa9") != NULL);
    free(out);
    report_destroy(&r);
}

TEST(report_formats_sarif_absolute_uri)
{
    report_t *r = report_new(&all);
    char *out;

    REQUIRE(r != NULL);
    add(r, "/abs/a b.py", 1, 1, "F401", "m");
    add(r, "rel/c,d.py", 1, 1, "E999", "m");
    out = render(r, REPORT_FORMAT_SARIF, false);
    CHECK(out != NULL && strstr(out, "\"uri\": \"file:///abs/a%20b.py\"") != NULL);
    CHECK(out != NULL && strstr(out, "\"uri\": \"rel/c%2Cd.py\"") != NULL);
    CHECK(out != NULL && strstr(out, "\"ruleId\": \"E999\", \"level\": \"error\"") != NULL);
    free(out);
    report_destroy(&r);
}

TEST(report_formats_statistics)
{
    report_t *r = report_new(&all);
    char *out;

    REQUIRE(r != NULL);
    for (uint32_t i = 1; i <= 12; i++)
        add(r, "a.py", i, 1, "F401", "m");
    add(r, "b.py", 1, 1, "F821", "m");
    add(r, "a.py", 20, 1, "E999", "m");
    out = render(r, REPORT_FORMAT_CONCISE, true);
    CHECK_STREQ(out, "12\tF401\n 1\tE999\n 1\tF821\n");
    free(out);
    out = render(r, REPORT_FORMAT_JSON, true);
    CHECK_STREQ(out, "[\n  {\"code\": \"F401\", \"count\": 12},\n  {\"code\": \"E999\", \"count\": "
                     "1},\n  {\"code\": \"F821\", \"count\": 1}\n]\n");
    free(out);
    report_destroy(&r);
}

TEST(report_output_file)
{
    report_t *r = report_new(&all);
    report_output_t o = {.format = REPORT_FORMAT_PYLINT, .format_given = true};
    const char *path = scratch("out.txt", "old contents\n");
    char got[256] = {0};
    size_t nd = 0, nf = 0;
    st_err_t err = {0};
    FILE *f;

    REQUIRE(r != NULL);
    add(r, "a.py", 3, 1, "F401", "m");
    o.output_file = path;
    CHECK_EQ_INT(report_output(r, &o, stdout, &nd, &nf, &err), ST_OK);
    CHECK_EQ_INT(nd, 1);
    CHECK_EQ_INT(nf, 1);
    REQUIRE((f = fopen(path, "r")) != NULL);
    CHECK_EQ_INT(fread(got, 1, sizeof got - 1, f), 17);
    fclose(f);
    CHECK_STREQ(got, "a.py:3: [F401] m\n");
    unlink(path);
    o.output_file = "/nonexistent/strata/out.txt";
    CHECK_EQ_INT(report_output(r, &o, stdout, &nd, &nf, &err), ST_EIO);
    CHECK(strstr(err.msg, "cannot write /nonexistent/strata/out.txt") != NULL);
    report_destroy(&r);
}

static bool never_same(void *ctx, const char *path, const uint8_t *text, size_t len)
{
    (void)path, (void)text, (void)len;
    ++*(int *)ctx;
    return false;
}

/* A source check that says the file changed: no source line, once asked. */
TEST(report_output_source_check)
{
    const char *p = scratch("chk.py", "import os\n");
    char *path = strdup(p), *text = NULL, want[512];
    size_t size = 0, nd, nf;
    int asked = 0;
    report_output_t o = {.format = REPORT_FORMAT_FULL,
                         .format_given = true,
                         .source = {.same = never_same, .ctx = &asked}};
    report_t *r = report_new(&all);
    FILE *f = open_memstream(&text, &size);
    st_err_t err = {0};

    REQUIRE(r != NULL && path != NULL && f != NULL);
    add(r, path, 1, 1, "F401", "a");
    add(r, path, 1, 8, "F402", "b");
    CHECK_EQ_INT(report_output(r, &o, f, &nd, &nf, &err), ST_OK);
    fclose(f);
    snprintf(want, sizeof want, "%s:1:1: F401 a\n\n%s:1:8: F402 b\n\n", path, path);
    CHECK_STREQ(text, want);
    CHECK_EQ_INT(asked, 1);
    free(text);
    unlink(path);
    free(path);
    report_destroy(&r);
}
