/* test_summary.c - the local summary in a scan's result: what later stages
 * read about a module (imports, definitions, signatures, classes, __all__,
 * uses of imported names and call shapes). */
#include "test.h"

#include "common/arena.h"
#include "common/buf.h"
#include "common/mpread.h"
#include "worker/python/scan.h"

#include <stdio.h>
#include <string.h>

/* msgpack to compact JSON-like text, for readable assertions. */
static int to_text(mpread_t *r, buf_t *out, int depth)
{
    const char *s;
    uint32_t n;
    int64_t i;
    bool b;

    if (depth > 32)
        return -1;
    if (mpread_nil(r))
        return buf_append(out, "nil", 3) == ST_OK ? 0 : -1;
    if (mpread_bool(r, &b) == ST_OK)
        return buf_printf(out, "%s", b ? "true" : "false") == ST_OK ? 0 : -1;
    if (mpread_int(r, &i) == ST_OK)
        return buf_printf(out, "%lld", (long long)i) == ST_OK ? 0 : -1;
    if (mpread_str(r, &s, &n) == ST_OK)
        return buf_printf(out, "\"%.*s\"", (int)n, s) == ST_OK ? 0 : -1;
    if (mpread_array(r, &n) == ST_OK) {
        buf_append_byte(out, '[');
        for (uint32_t k = 0; k < n; k++) {
            if (k)
                buf_append_byte(out, ',');
            if (to_text(r, out, depth + 1) != 0)
                return -1;
        }
        return buf_append_byte(out, ']') == ST_OK ? 0 : -1;
    }
    if (mpread_map(r, &n) == ST_OK) {
        buf_append_byte(out, '{');
        for (uint32_t k = 0; k < n; k++) {
            if (k)
                buf_append_byte(out, ',');
            if (to_text(r, out, depth + 1) != 0)
                return -1;
            buf_append_byte(out, ':');
            if (to_text(r, out, depth + 1) != 0)
                return -1;
        }
        return buf_append_byte(out, '}') == ST_OK ? 0 : -1;
    }
    return -1;
}

/* The "summary" value of the scan result of src, as text in out. */
static bool summary_of(const char *src, const char *path, buf_t *out)
{
    scanner_t *s = scanner_new();
    arena_t *a = arena_new(0);
    span_t res;
    st_err_t err = {0};
    mpread_t r;
    uint32_t n;
    bool ok = false;

    if (s == NULL || a == NULL)
        goto done;
    if (scanner_run(s, NULL, scan_kind_of_path(path), (const uint8_t *)src, strlen(src), a, &res,
                    &err) != ST_OK)
        goto done;
    mpread_init(&r, res.ptr, res.len);
    if (mpread_map(&r, &n) != ST_OK)
        goto done;
    for (uint32_t k = 0; k < n; k++) {
        if (mpread_key(&r, "summary")) {
            ok = to_text(&r, out, 0) == 0;
            break;
        }
        if (mpread_skip(&r) != ST_OK || mpread_skip(&r) != ST_OK)
            break;
    }
done:
    scanner_destroy(&s);
    arena_destroy(&a);
    return ok;
}

#define HAS(text, sub)                                                                             \
    do {                                                                                           \
        if (strstr((text), (sub)) == NULL) {                                                       \
            fprintf(stderr, "  summary: %s\n  lacks:   %s\n", (text), (sub));                     \
            CHECK(!"summary lacks an entry");                                                     \
        }                                                                                          \
    } while (0)

static const char sample[] = "import os.path\n"
                             "from json import dumps as d\n"
                             "import collections.abc as cabc\n"
                             "from ..pkg.mod import name\n"
                             "from . import *\n"
                             "def f(x, /, y=1, *a, k, **kw): pass\n"
                             "async def g(*, only): pass\n"
                             "class C(cabc.Mapping):\n"
                             "    attr = 1\n"
                             "    def m(self, q): return os.path.join(q, 'x')\n"
                             "d(1, 2, indent=3, *x)\n"
                             "__all__ = ['f']\n"
                             "__all__ += ['g']\n"
                             "def __getattr__(n): pass\n"
                             "try:\n"
                             "    import fast\n"
                             "except ImportError:\n"
                             "    fast = None\n";

TEST(summary_imports)
{
    buf_t t;
    buf_init(&t);
    REQUIRE(summary_of(sample, "m.py", &t));
    HAS((char *)t.data, "[0,0,\"os.path\",\"\",\"\",1,0,0]");
    HAS((char *)t.data, "[1,0,\"json\",\"dumps\",\"d\",2,0,0]");
    HAS((char *)t.data, "[0,0,\"collections.abc\",\"\",\"cabc\",3,0,0]");
    HAS((char *)t.data, "[1,2,\"pkg.mod\",\"name\",\"\",4,0,0]");
    HAS((char *)t.data, "[2,1,\"\",\"\",\"\",5,0,0]");
    HAS((char *)t.data, "[0,0,\"fast\",\"\",\"\",16,4,2]"); /* conditional */
    buf_free(&t);
}

TEST(summary_definitions_and_signatures)
{
    buf_t t;
    buf_init(&t);
    REQUIRE(summary_of(sample, "m.py", &t));
    /* f(x, /, y=1, *a, k, **kw) */
    HAS((char *)t.data, "[0,[[\"x\",0,false],[\"y\",1,true],[\"a\",2,false],[\"k\",3,false],"
                        "[\"kw\",4,false]]]");
    /* async def g(*, only) */
    HAS((char *)t.data, "[2,[[\"only\",3,false]]]");
    HAS((char *)t.data, "[\"C\",8,[\"cabc.Mapping\"],");
    HAS((char *)t.data, "[\"attr\",2,-1]");
    HAS((char *)t.data, "\"all\":[\"f\",\"g\"]");
    HAS((char *)t.data, "\"getattr\":true");
    buf_free(&t);
}

TEST(summary_uses_and_calls)
{
    buf_t t;
    buf_init(&t);
    REQUIRE(summary_of(sample, "m.py", &t));
    /* os.path.join in a method: import 0, chain path.join */
    HAS((char *)t.data, "[0,[\"path\",\"join\"],10,27]");
    /* cabc.Mapping as a base */
    HAS((char *)t.data, "[2,[\"Mapping\"],8,8]");
    /* d(1, 2, indent=3, *x): 2 positional, keyword indent, a star */
    HAS((char *)t.data, ",2,[\"indent\"],true,false]");
    buf_free(&t);
}

TEST(summary_is_independent_of_path)
{
    buf_t a, b;
    buf_init(&a);
    buf_init(&b);
    REQUIRE(summary_of(sample, "x/one.py", &a));
    REQUIRE(summary_of(sample, "y/two.py", &b));
    CHECK_STREQ((char *)a.data, (char *)b.data);
    buf_free(&a);
    buf_free(&b);
}

TEST(summary_nil_all_without_static_all)
{
    buf_t t;
    buf_init(&t);
    REQUIRE(summary_of("import os\n__all__ = os.listdir()\n", "m.py", &t));
    HAS((char *)t.data, "\"all\":nil"); /* not static: unknown */
    buf_free(&t);
    buf_init(&t);
    REQUIRE(summary_of("import os\n", "m.py", &t));
    HAS((char *)t.data, "\"all\":nil");
    buf_free(&t);
}
