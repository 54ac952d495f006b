/* test_lspdoc.c - the language server's buffers: positions in UTF-8 and
 * UTF-16, clamping, surrogates, CRLF, edits and their tree-sitter
 * fields, the size limit; and the incremental parse giving the same scan
 * result as a fresh one after random edits. */
#include "cli/lspdoc.h"
#include "common/alloc.h"
#include "common/arena.h"
#include "test.h"
#include "worker/python/scan.h"

#include <stdlib.h>
#include <string.h>

static size_t off8(const char *t, uint32_t line, uint32_t ch)
{
    return lspdoc_offset(t, strlen(t), LSPDOC_UTF8, (lspdoc_pos_t){line, ch});
}

static size_t off16(const char *t, uint32_t line, uint32_t ch)
{
    return lspdoc_offset(t, strlen(t), LSPDOC_UTF16, (lspdoc_pos_t){line, ch});
}

TEST(lspdoc_offsets_ascii_and_line_ends)
{
    const char *t = "ab\ncd\r\nef\rgh";

    CHECK_EQ_INT(off8(t, 0, 0), 0);
    CHECK_EQ_INT(off8(t, 0, 2), 2);
    CHECK_EQ_INT(off8(t, 0, 99), 2); /* past the line's end: its end */
    CHECK_EQ_INT(off8(t, 1, 1), 4);
    CHECK_EQ_INT(off8(t, 1, 5), 5);         /* before "\r\n" */
    CHECK_EQ_INT(off8(t, 2, 0), 7);         /* after "\r\n" */
    CHECK_EQ_INT(off8(t, 3, 1), 11);        /* a lone "\r" ends a line too */
    CHECK_EQ_INT(off8(t, 4, 0), strlen(t)); /* past the last line: the end */
    CHECK_EQ_INT(off8(t, UINT32_MAX, UINT32_MAX), strlen(t));
    CHECK_EQ_INT(off8("", 0, 5), 0);
}

TEST(lspdoc_offsets_utf16_and_surrogates)
{
    /* "é" 2 bytes 1 unit; "€" 3 bytes 1 unit; "😀" 4 bytes 2 units */
    const char *t = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z";

    CHECK_EQ_INT(off16(t, 0, 1), 1);
    CHECK_EQ_INT(off16(t, 0, 2), 3);
    CHECK_EQ_INT(off16(t, 0, 3), 6);
    CHECK_EQ_INT(off16(t, 0, 4), 6); /* inside the surrogate pair: its start */
    CHECK_EQ_INT(off16(t, 0, 5), 10);
    CHECK_EQ_INT(off16(t, 0, 6), 11);
    CHECK_EQ_INT(off8(t, 0, 2), 1); /* inside "é" in bytes: its start */
    CHECK_EQ_INT(off8(t, 0, 6), 6);
    /* and back */
    lspdoc_pos_t p = lspdoc_position(t, strlen(t), LSPDOC_UTF16, 10);
    CHECK_EQ_INT(p.line, 0);
    CHECK_EQ_INT(p.character, 5);
    p = lspdoc_position(t, strlen(t), LSPDOC_UTF16, 8); /* mid-character */
    CHECK_EQ_INT(p.character, 3);
    p = lspdoc_position(t, strlen(t), LSPDOC_UTF8, 10);
    CHECK_EQ_INT(p.character, 10);
}

TEST(lspdoc_invalid_utf8_counts_bytes)
{
    const char *t = "\xff\xfe\xc3x"; /* bad lead, bad lead, truncated */

    CHECK_EQ_INT(off16(t, 0, 3), 3);
    CHECK_EQ_INT(lspdoc_position(t, 4, LSPDOC_UTF16, 4).character, 4);
}

TEST(lspdoc_position_lines)
{
    const char *t = "ab\r\ncd\n";
    lspdoc_pos_t p = lspdoc_position(t, strlen(t), LSPDOC_UTF16, 3); /* between \r and \n */

    CHECK_EQ_INT(p.line, 0);
    CHECK_EQ_INT(p.character, 2);
    p = lspdoc_position(t, strlen(t), LSPDOC_UTF16, 5);
    CHECK_EQ_INT(p.line, 1);
    CHECK_EQ_INT(p.character, 1);
    p = lspdoc_position(t, strlen(t), LSPDOC_UTF16, 999);
    CHECK_EQ_INT(p.line, 2);
    CHECK_EQ_INT(p.character, 0);
}

TEST(lspdoc_apply_edits)
{
    lspdoc_t d = {0};
    lspdoc_edit_t e;
    st_err_t err = {0};

    REQUIRE(lspdoc_set(&d, "import os\nx = 1\n", 16, &err) == ST_OK);
    REQUIRE(lspdoc_apply(&d, LSPDOC_UTF16, (lspdoc_pos_t){1, 4}, (lspdoc_pos_t){1, 5}, "22\n3", 4,
                         &e, &err) == ST_OK);
    CHECK_STREQ(d.text, "import os\nx = 22\n3\n");
    CHECK_EQ_INT(e.start_byte, 14);
    CHECK_EQ_INT(e.old_end_byte, 15);
    CHECK_EQ_INT(e.new_end_byte, 18);
    CHECK_EQ_INT(e.start_point.row, 1);
    CHECK_EQ_INT(e.start_point.column, 4);
    CHECK_EQ_INT(e.new_end_point.row, 2);
    CHECK_EQ_INT(e.new_end_point.column, 1);
    /* a reversed range is empty at its start; past the end appends */
    REQUIRE(lspdoc_apply(&d, LSPDOC_UTF16, (lspdoc_pos_t){0, 6}, (lspdoc_pos_t){0, 0}, "!", 1, NULL,
                         &err) == ST_OK);
    CHECK_STREQ(d.text, "import! os\nx = 22\n3\n");
    REQUIRE(lspdoc_apply(&d, LSPDOC_UTF16, (lspdoc_pos_t){99, 0}, (lspdoc_pos_t){99, 9}, "end", 3,
                         NULL, &err) == ST_OK);
    CHECK_STREQ(d.text, "import! os\nx = 22\n3\nend");
    /* delete everything */
    REQUIRE(lspdoc_apply(&d, LSPDOC_UTF8, (lspdoc_pos_t){0, 0}, (lspdoc_pos_t){UINT32_MAX, 0}, "",
                         0, &e, &err) == ST_OK);
    CHECK_EQ_INT(d.len, 0);
    CHECK_EQ_INT(e.old_end_point.row, 3);
    lspdoc_free(&d);
}

TEST(lspdoc_apply_crlf)
{
    lspdoc_t d = {0};
    st_err_t err = {0};

    REQUIRE(lspdoc_set(&d, "a\r\nb\r\n", 6, &err) == ST_OK);
    REQUIRE(lspdoc_apply(&d, LSPDOC_UTF16, (lspdoc_pos_t){1, 0}, (lspdoc_pos_t){1, 1}, "c", 1, NULL,
                         &err) == ST_OK);
    CHECK_STREQ(d.text, "a\r\nc\r\n");
    REQUIRE(lspdoc_apply(&d, LSPDOC_UTF16, (lspdoc_pos_t){0, 1}, (lspdoc_pos_t){1, 0}, "", 0, NULL,
                         &err) == ST_OK);
    CHECK_STREQ(d.text, "ac\r\n");
    lspdoc_free(&d);
}

TEST(lspdoc_limits)
{
    lspdoc_t d = {0};
    st_err_t err = {0};

    REQUIRE(lspdoc_set(&d, "abc", 3, &err) == ST_OK);
    CHECK(lspdoc_set(&d, "x", LSPDOC_MAX_BYTES + 1, &err) == ST_ELIMIT);
    CHECK(lspdoc_apply(&d, LSPDOC_UTF8, (lspdoc_pos_t){0, 0}, (lspdoc_pos_t){0, 0}, "x", SIZE_MAX,
                       NULL, &err) == ST_ELIMIT);
    CHECK(lspdoc_apply(&d, LSPDOC_UTF8, (lspdoc_pos_t){0, 0}, (lspdoc_pos_t){0, 0}, "x",
                       LSPDOC_MAX_BYTES - 2, NULL, &err) == ST_ELIMIT);
    CHECK_STREQ(d.text, "abc"); /* unchanged */
    lspdoc_free(&d);
    lspdoc_free(&d); /* a zeroed one */
}

/* ---- incremental parse ------------------------------------------------------------ */

static const char *const pieces[] = {"x",
                                     "\n",
                                     " ",
                                     "import os\n",
                                     "def f(a):\n    return a\n",
                                     "(",
                                     ")",
                                     "'",
                                     "#",
                                     "y = f(1)\n",
                                     "\xc3\xa9",
                                     "if x:\n",
                                     "    pass\n",
                                     "from a import (b,\n  c)\n",
                                     ""};

static bool same_result(scanner_t *sc, const lspdoc_t *d, TSTree **tree, arena_t *a)
{
    span_t inc, full;
    TSTree *t = NULL;
    st_err_t err = {0};
    uint8_t *copy;
    bool same;

    arena_reset(a);
    if (scanner_run_incremental(sc, NULL, SCAN_KIND_PY, (const uint8_t *)d->text, d->len, *tree, &t,
                                a, &inc, &err) != ST_OK)
        return false;
    if (*tree != NULL)
        ts_tree_delete(*tree);
    *tree = t;
    if ((copy = malloc(inc.len + 1)) == NULL)
        return false;
    memcpy(copy, inc.ptr, inc.len);
    same = scanner_run(sc, NULL, SCAN_KIND_PY, (const uint8_t *)d->text, d->len, a, &full, &err) ==
               ST_OK &&
           full.len == inc.len && memcmp(full.ptr, copy, inc.len) == 0;
    free(copy);
    return same;
}

TEST(lspdoc_incremental_parse_equals_fresh)
{
    static const char base[] =
        "import os\nimport sys\n\n\ndef g(x):\n    y = 1\n    return x\n\n"
        "class C:\n    def m(self):\n        return os.path\n\nprint(g(2))\n";
    scanner_t *sc = scanner_new();
    arena_t *a = arena_new(1 << 20);
    lspdoc_t d = {0};
    TSTree *tree = NULL;
    st_err_t err = {0};
    unsigned seed = 12345;
    int mismatches = 0;

    REQUIRE(sc != NULL && a != NULL);
    REQUIRE(lspdoc_set(&d, base, sizeof base - 1, &err) == ST_OK);
    REQUIRE(same_result(sc, &d, &tree, a));
    for (int round = 0; round < 400; round++) {
        lspdoc_pos_t p, q;
        lspdoc_edit_t e;
        const char *ins = pieces[(seed = seed * 1103515245u + 12345u) % 15];

        p.line = (seed = seed * 1103515245u + 12345u) % 20;
        p.character = (seed = seed * 1103515245u + 12345u) % 30;
        q = p;
        if ((seed = seed * 1103515245u + 12345u) % 3 == 0)
            q.character += seed % 5;
        if (d.len > 4000)
            ins = "";
        REQUIRE(lspdoc_apply(&d, (seed >> 8) % 2 ? LSPDOC_UTF8 : LSPDOC_UTF16, p, q, ins,
                             strlen(ins), &e, &err) == ST_OK);
        if (tree != NULL) {
            TSInputEdit te = {e.start_byte,
                              e.old_end_byte,
                              e.new_end_byte,
                              {e.start_point.row, e.start_point.column},
                              {e.old_end_point.row, e.old_end_point.column},
                              {e.new_end_point.row, e.new_end_point.column}};
            ts_tree_edit(tree, &te);
        }
        if (!same_result(sc, &d, &tree, a))
            mismatches++;
    }
    CHECK_EQ_INT(mismatches, 0);
    if (tree != NULL)
        ts_tree_delete(tree);
    lspdoc_free(&d);
    arena_destroy(&a);
    scanner_destroy(&sc);
}

TEST(lspdoc_out_of_memory_leaves_the_buffer)
{
    lspdoc_t d = {0};
    st_err_t err = {0};
    char big[1000];

    memset(big, 'x', sizeof big);
    REQUIRE(lspdoc_set(&d, "abc", 3, &err) == ST_OK);
    alloc_fail_after(0);
    CHECK(lspdoc_apply(&d, LSPDOC_UTF8, (lspdoc_pos_t){0, 1}, (lspdoc_pos_t){0, 2}, big, sizeof big,
                       NULL, &err) == ST_ENOMEM);
    alloc_fail_after(-1);
    CHECK_STREQ(d.text, "abc");
    CHECK_EQ_INT(d.len, 3);
    alloc_fail_after(0);
    CHECK(lspdoc_set(&d, big, sizeof big, &err) == ST_ENOMEM);
    alloc_fail_after(-1);
    CHECK_STREQ(d.text, "abc");
    lspdoc_free(&d);
}
