/* test_toml.c - the TOML layer: values of every kind, and each rule of
 * TOML 1.0 that the grammar leaves to it, valid and invalid. */
#include "cli/toml.h"
#include "test.h"

#include <math.h>
#include <string.h>

static toml_doc_t *parse_ok(const char *text)
{
    toml_doc_t *doc = NULL;
    st_err_t err = {0};

    if (toml_parse("t.toml", text, strlen(text), &doc, &err) != ST_OK)
        fprintf(stderr, "unexpected: %s\n", err.msg);
    return doc;
}

/* True when text fails with a message that contains want. */
static bool fails_with(const char *text, const char *want)
{
    toml_doc_t *doc = NULL;
    st_err_t err = {0};

    if (toml_parse("t.toml", text, strlen(text), &doc, &err) == ST_OK) {
        toml_destroy(&doc);
        fprintf(stderr, "parsed, expected '%s': %s\n", want, text);
        return false;
    }
    if (strstr(err.msg, want) == NULL) {
        fprintf(stderr, "got '%s', expected '%s'\n", err.msg, want);
        return false;
    }
    return true;
}

TEST(toml_scalars)
{
    toml_doc_t *doc =
        parse_ok("s = \"a\\tb\\u00e9\\U0001F600\\\\\\\"\"\n"
                 "l = 'C:\\x'\n"
                 "i = 1_000\nh = 0xff\no = 0o17\nb = 0b101\nn = -9223372036854775808\n"
                 "f = 1.5e3\ninf = -inf\nt = true\nd = 1979-05-27T07:32:00Z\n"
                 "ml = \"\"\"\nx\\\n   y\"\"\"\nml2 = '''\nraw\\n'''\n");
    const toml_value_t *r;

    REQUIRE(doc != NULL);
    r = toml_root(doc);
    CHECK_STREQ(toml_get(r, "s")->str, "a\tb\xc3\xa9\xf0\x9f\x98\x80\\\"");
    CHECK_STREQ(toml_get(r, "l")->str, "C:\\x");
    CHECK_EQ_INT(toml_get(r, "i")->i, 1000);
    CHECK_EQ_INT(toml_get(r, "h")->i, 255);
    CHECK_EQ_INT(toml_get(r, "o")->i, 15);
    CHECK_EQ_INT(toml_get(r, "b")->i, 5);
    CHECK(toml_get(r, "n")->i == INT64_MIN);
    CHECK(toml_get(r, "f")->f == 1500.0);
    CHECK(isinf(toml_get(r, "inf")->f) && toml_get(r, "inf")->f < 0);
    CHECK(toml_get(r, "t")->kind == TOML_BOOL && toml_get(r, "t")->b);
    CHECK(toml_get(r, "d")->kind == TOML_DATETIME);
    CHECK_STREQ(toml_get(r, "d")->str, "1979-05-27T07:32:00Z");
    CHECK_STREQ(toml_get(r, "ml")->str, "xy");
    CHECK_STREQ(toml_get(r, "ml2")->str, "raw\\n");
    CHECK_EQ_INT(toml_entry(r, "i")->line, 3);
    CHECK_EQ_INT(toml_entry(r, "i")->col, 1);
    toml_destroy(&doc);
    CHECK(doc == NULL);
}

TEST(toml_tables_and_arrays)
{
    toml_doc_t *doc =
        parse_ok("a.b.c = 1\n\"q k\" = 2\n[tool.strata]\nselect = [\"F\", # c\n"
                 "  \"E9\",\n]\nper = { x = 1, y.z = 2 }\n"
                 "[[items]]\nn = 1\n[[items]]\nn = 2\n[items.sub]\nk = 3\n"
                 "[fruit]\napple.color = 'red'\n[fruit.apple.texture]\nsmooth = true\n");
    const toml_value_t *r, *s, *items;

    REQUIRE(doc != NULL);
    r = toml_root(doc);
    CHECK_EQ_INT(toml_get(toml_get(toml_get(r, "a"), "b"), "c")->i, 1);
    CHECK_EQ_INT(toml_get(r, "q k")->i, 2);
    s = toml_get(toml_get(r, "tool"), "strata");
    REQUIRE(s != NULL && s->kind == TOML_TABLE);
    CHECK_EQ_INT(toml_get(s, "select")->n, 2);
    CHECK_STREQ(toml_get(s, "select")->items[1]->str, "E9");
    CHECK_EQ_INT(toml_get(toml_get(toml_get(s, "per"), "y"), "z")->i, 2);
    items = toml_get(r, "items");
    REQUIRE(items != NULL && items->kind == TOML_ARRAY && items->n == 2);
    CHECK_EQ_INT(toml_get(toml_get(items->items[1], "sub"), "k")->i, 3);
    CHECK(toml_get(toml_get(toml_get(toml_get(r, "fruit"), "apple"), "texture"), "smooth")->b);
    toml_destroy(&doc);
}

TEST(toml_syntax_errors_have_a_position)
{
    CHECK(fails_with("a = 1\nb = \n", "t.toml:2:"));
    CHECK(fails_with("a = 1\n[x\n", "t.toml:2:"));
    CHECK(fails_with("a = 1\nb = \"x\\qy\"\n", "t.toml:2:"));
    CHECK(fails_with("a = 1\nb = \"x\\qy\"\n", "escape"));
    CHECK(fails_with("a = \"\\uD800\"\n", "t.toml:1:"));
    CHECK(fails_with("a = 1 2\n", "t.toml:1:7: syntax error"));
    CHECK(fails_with("a = 01\n", "t.toml:1:6: syntax error"));
    CHECK(fails_with("a = [1,,2]\n", "t.toml:1:7: syntax error"));
}

TEST(toml_duplicate_keys)
{
    CHECK(fails_with("a = 1\na = 2\n", "t.toml:2:1: duplicate key 'a'"));
    CHECK(fails_with("[t]\nx = 1\n\"x\" = 2\n", "t.toml:3:1: duplicate key 'x'"));
    CHECK(fails_with("a.b = 1\na.b = 2\n", "duplicate key 'a.b'"));
    CHECK(fails_with("p = { x = 1, x = 2 }\n", "duplicate key 'x'"));
}

TEST(toml_tables_defined_twice)
{
    CHECK(fails_with("[a]\n[a]\n", "t.toml:2:2: table [a] is defined twice"));
    CHECK(fails_with("[a.b]\n[a]\nb = 1\n", "t.toml:3:1: duplicate key 'b'"));
    CHECK(fails_with("a = 1\n[a]\n", "already defined as a value"));
    /* an implicit table may be defined once */
    toml_doc_t *doc = parse_ok("[a.b]\n[a]\nx = 1\n");
    CHECK(doc != NULL);
    toml_destroy(&doc);
}

TEST(toml_dotted_keys_and_inline_tables_are_closed)
{
    CHECK(fails_with("a.b = 1\n[a]\n", "table [a] is already defined by dotted keys"));
    CHECK(fails_with("[a.b.c]\n[a]\nb.d = 1\n", "dotted keys cannot extend it"));
    CHECK(fails_with("[a]\nb.c = 1\n[a.b]\n", "already defined by dotted keys"));
    CHECK(fails_with("p = { x = 1 }\np.y = 2\n", "already defined as a value"));
    CHECK(fails_with("p = { x = 1 }\n[p]\n", "already defined as a value"));
    CHECK(fails_with("p = { x = 1 }\n[p.q]\n", "already defined as a value"));
}

TEST(toml_arrays_of_tables)
{
    CHECK(fails_with("[a]\n[[a]]\n", "'a' is a table, not an array of tables"));
    CHECK(fails_with("[[a]]\n[a]\n", "'a' is an array of tables, not a table"));
    CHECK(fails_with("a = []\n[[a]]\n", "already defined as a value"));
    CHECK(fails_with("a = [{}]\n[a.b]\n", "already defined as a value"));
}

TEST(toml_integer_overflow)
{
    CHECK(fails_with("a = 9223372036854775808\n", "t.toml:1:5: integer out of range"));
    CHECK(fails_with("a = -9223372036854775809\n", "integer out of range"));
    CHECK(fails_with("a = 0x1_0000_0000_0000_0000\n", "integer out of range"));
    toml_doc_t *doc = parse_ok("a = 9_223_372_036_854_775_807\n");
    REQUIRE(doc != NULL);
    CHECK(toml_get(toml_root(doc), "a")->i == INT64_MAX);
    toml_destroy(&doc);
}

TEST(toml_refuses_nul_bytes)
{
    toml_doc_t *doc = NULL;
    st_err_t err = {0};

    CHECK(toml_parse("t.toml", "a = 1\nb = 2\0", 12, &doc, &err) == ST_EINVAL);
    CHECK(doc == NULL);
    CHECK_STREQ(err.msg, "t.toml:2:6: a NUL byte: not a TOML file");
}

/* Hostile input: every prefix of a rich document, and each byte of it
 * replaced by a few troublesome ones, parses or fails with a message. */
TEST(toml_every_prefix_and_byte)
{
    static const char doc[] = "# c\na.b = \"x\\u00e9\\\\\" # t\n'q' = '''\nl\n'''\n"
                              "m = \"\"\"\nx\\\n y\"\"\"\n[t]\ni = [1, 0x_f, {k = 1}, [2.5e-3]]\n"
                              "[[r]]\nd = 1979-05-27T07:32:00-08:00\n[r.s]\nz = -inf\n";
    static const char subst[] = {'\0', '"', '\\', '[', ']', '=', '.', '\n', '\'', '{', '\xff'};
    char buf[sizeof doc];
    size_t n = sizeof doc - 1, ok = 0;

    for (size_t len = 0; len <= n; len++) {
        toml_doc_t *d = NULL;
        st_err_t err = {0};
        st_rc_t rc = toml_parse("t.toml", doc, len, &d, &err);

        CHECK(rc == ST_OK || (rc == ST_EINVAL && strncmp(err.msg, "t.toml:", 7) == 0));
        ok += rc == ST_OK;
        toml_destroy(&d);
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < sizeof subst; k++) {
            toml_doc_t *d = NULL;
            st_err_t err = {0};
            st_rc_t rc;

            memcpy(buf, doc, sizeof doc);
            buf[i] = subst[k];
            rc = toml_parse("t.toml", buf, n, &d, &err);
            CHECK(rc == ST_OK || (rc == ST_EINVAL && strncmp(err.msg, "t.toml:", 7) == 0));
            toml_destroy(&d);
        }
    }
    CHECK(ok > 0);
}
