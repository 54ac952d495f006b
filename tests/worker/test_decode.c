/* test_decode.c - from file bytes to the text the parser reads: BOM, PEP
 * 263 coding lines, CR line endings, and the one diagnostic for each way a
 * file can fail. */
#include "test.h"

#include "common/arena.h"
#include "worker/python/decode.h"
#include "worker/python/diag.h"

#include <string.h>

typedef struct {
    bool ok;
    char text[128];
    char diag[160];
} decoded_t;

static decoded_t decode(const char *src, size_t len, size_t max)
{
    arena_t *a = arena_new(0);
    diag_list_t d;
    const char *text = NULL;
    uint32_t tl = 0;
    decoded_t r = {0};

    diag_list_init(&d, a);
    r.ok = decode_source((const uint8_t *)src, len, max, a, &d, &text, &tl);
    if (r.ok)
        snprintf(r.text, sizeof r.text, "%.*s", (int)tl, text);
    else if (d.count == 1)
        snprintf(r.diag, sizeof r.diag, "%u:%u %s %s", d.items[0].line, d.items[0].col,
                 d.items[0].code, d.items[0].msg);
    arena_destroy(&a);
    return r;
}

#define DECODE(s) decode((s), sizeof(s) - 1, 0)

TEST(decode_utf8_bom_and_cr)
{
    CHECK_STREQ(DECODE("x = 1\n").text, "x = 1\n");
    CHECK_STREQ(DECODE("\xef\xbb\xbfx = 1\n").text, "x = 1\n");
    CHECK_STREQ(DECODE("a = 1\rb = 2\r\nc = 3\r").text, "a = 1\nb = 2\r\nc = 3\n");
    CHECK(DECODE("").ok);
}

TEST(decode_coding_lines)
{
    char name[64];
    decode_coding_name((const uint8_t *)"# -*- coding: latin-1 -*-\n", 26, name, sizeof name);
    CHECK_STREQ(name, "iso-8859-1");
    decode_coding_name((const uint8_t *)"#!/usr/bin/python\n# vim: set fileencoding=UTF_8 :\n", 51,
                       name, sizeof name);
    CHECK_STREQ(name, "utf-8");
    decode_coding_name((const uint8_t *)"x = 1\n# coding: latin-1\n", 24, name, sizeof name);
    CHECK_STREQ(name, ""); /* line 2 counts only after a comment or blank line */
    CHECK_STREQ(DECODE("# coding: latin-1\ns = '\xe9'\n").text,
                "# coding: latin-1\ns = '\xc3\xa9'\n");
}

TEST(decode_failures_are_one_diagnostic)
{
    CHECK_STREQ(DECODE("x = '\xff'\n").diag,
                "1:6 E999 SyntaxError: (unicode error) 'utf-8' codec can't decode byte 0xff");
    CHECK_STREQ(DECODE("# coding: no-such-codec\n").diag,
                "1:1 E999 SyntaxError: unknown encoding: no-such-codec");
    CHECK_STREQ(DECODE("\xef\xbb\xbf# coding: latin-1\n").diag,
                "1:1 E999 SyntaxError: encoding problem: iso-8859-1 with BOM");
    CHECK_STREQ(DECODE("\0\1\2\3binary").diag,
                "1:1 E902 binary file (NUL bytes), not Python source");
    CHECK_STREQ(decode("0123456789", 10, 4).diag,
                "1:1 E902 file too large: 10 bytes (limit 4, see --max-file-size)");
}
