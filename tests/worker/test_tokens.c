/* test_tokens.c - the token-level pass: what CPython's tokenizer refuses,
 * lines joined for # noqa, and the padding of bracketed lines left of
 * their block. */
#include "test.h"

#include "common/arena.h"
#include "worker/python/diag.h"
#include "worker/python/tokens.h"

#include <string.h>

/* The E999 message tokens_check gives for src, or "" when it accepts it. */
static const char *verdict(const char *src, char *out, size_t cap)
{
    arena_t *a = arena_new(0);
    diag_list_t d;

    out[0] = '\0';
    diag_list_init(&d, a);
    if (!tokens_check(src, (uint32_t)strlen(src), &d) && d.count == 1)
        snprintf(out, cap, "%u:%s", d.items[0].line, d.items[0].msg);
    arena_destroy(&a);
    return out;
}

TEST(tokens_accepts_valid_layouts)
{
    char v[256];
    CHECK_STREQ(verdict("", v, sizeof v), "");
    CHECK_STREQ(verdict("if x:\n    y = (1,\n2)\n", v, sizeof v), "");
    CHECK_STREQ(verdict("s = '''\n  text\n'''\nif a:\n\tpass\n", v, sizeof v), "");
    CHECK_STREQ(verdict("x = 1 \\\n    + 2\n", v, sizeof v), "");
    CHECK_STREQ(verdict("if a:\n    pass\n  # comment at any indent\n", v, sizeof v), "");
    CHECK_STREQ(verdict("a = '#'  # (\nb = \"(\"\n", v, sizeof v), "");
}

TEST(tokens_refuses_what_cpython_refuses)
{
    char v[256], deep[1024];
    CHECK_STREQ(verdict("x = 1\n    y = 2\n", v, sizeof v),
                "2:IndentationError: unexpected indent");
    CHECK_STREQ(verdict("if a:\n        b\n    c\n", v, sizeof v),
                "3:IndentationError: unindent does not match any outer indentation level");
    CHECK_STREQ(verdict("if a:\n        b\n\tc\n", v, sizeof v),
                "3:TabError: inconsistent use of tabs and spaces in indentation");
    memset(deep, 0, sizeof deep);
    for (int i = 0; i < 201; i++)
        deep[i] = '(';
    CHECK_STREQ(verdict(deep, v, sizeof v), "1:SyntaxError: too many nested parentheses");
}

TEST(tokens_line_groups_join_strings_and_backslashes)
{
    const char *src = "a = '''x\ny\nz'''\nb = 1 + \\\n  2\nc = 3\n";
    uint32_t g[7];
    tokens_line_groups(src, (uint32_t)strlen(src), g, 7);
    CHECK_EQ_INT(g[0], 1);
    CHECK_EQ_INT(g[1], 1);
    CHECK_EQ_INT(g[2], 1);
    CHECK_EQ_INT(g[3], 4);
    CHECK_EQ_INT(g[4], 4);
    CHECK_EQ_INT(g[5], 6);
}

TEST(tokens_pad_moves_shallow_continuations_only)
{
    const char *src = "def f():\n    x = (1 +\n2)\n    y = [\n        3]\n";
    arena_t *a = arena_new(0);
    diag_list_t d;
    tokens_pads_t pads;
    uint32_t len;
    char *out;

    diag_list_init(&d, a);
    pads.n = 0;
    REQUIRE(tokens_scan(src, (uint32_t)strlen(src), &d, &pads));
    REQUIRE(pads.n == 1); /* line 3 only: line 5 is deeper than its block */
    CHECK_EQ_INT(pads.line[0], 3);
    CHECK_EQ_INT(pads.width[0], 4);
    out = tokens_pad(src, (uint32_t)strlen(src), &pads, a, &len);
    REQUIRE(out != NULL);
    CHECK_STREQ(out, "def f():\n    x = (1 +\n    2)\n    y = [\n        3]\n");
    CHECK_EQ_INT(len, strlen(src) + 4);
    arena_destroy(&a);
}
