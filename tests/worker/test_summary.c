/* test_summary.c - the local summary in a scan's result: what later stages
 * read about a module (imports, definitions, signatures, classes, __all__,
 * uses of imported names and call shapes). */
#include "test.h"

#include "common/arena.h"
#include "common/buf.h"
#include "common/mpbuf.h"
#include "common/mpread.h"
#include "worker/python/scan.h"
#include "worker/python/summary.h"

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

/* The "summary" value of the scan result of src for target t (NULL: the
 * default), as text in out. */
static bool summary_for(const char *src, const char *path, const scan_target_t *t, buf_t *out)
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
    scan_opts_t opts = {.max_file_bytes = 0};
    if (t != NULL)
        opts.target = *t;
    if (scanner_run(s, &opts, scan_kind_of_path(path), (const uint8_t *)src, strlen(src), a, &res,
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

static bool summary_of(const char *src, const char *path, buf_t *out)
{
    return summary_for(src, path, NULL, out);
}

#define HAS(text, sub)                                                                             \
    do {                                                                                           \
        if (strstr((text), (sub)) == NULL) {                                                       \
            fprintf(stderr, "  summary: %s\n  lacks:   %s\n", (text), (sub));                      \
            CHECK(!"summary lacks an entry");                                                      \
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
    HAS((char *)t.data, "[0,0,\"fast\",\"\",\"\",16,4,6]"); /* conditional, guarded */
    buf_free(&t);
}

TEST(summary_import_guarded)
{
    buf_t t;
    buf_init(&t);
    REQUIRE(summary_of("try:\n"
                       "    import a\n"
                       "except (ValueError, ModuleNotFoundError):\n"
                       "    import b\n"
                       "try:\n"
                       "    import c\n"
                       "except ValueError:\n"
                       "    pass\n"
                       "if a:\n"
                       "    import d\n"
                       "def f():\n"
                       "    import e\n",
                       "m.py", &t));
    HAS((char *)t.data, "[0,0,\"a\",\"\",\"\",2,4,6]");
    HAS((char *)t.data, "[0,0,\"b\",\"\",\"\",4,4,16]"); /* the handler: a fallback */
    HAS((char *)t.data, "[0,0,\"c\",\"\",\"\",6,4,2]");
    HAS((char *)t.data, "[0,0,\"d\",\"\",\"\",10,4,2]");
    HAS((char *)t.data, "[0,0,\"e\",\"\",\"\",12,4,1]");
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
    HAS((char *)t.data, "[0,[\"path\",\"join\"],10,27,0]");
    /* cabc.Mapping as a base */
    HAS((char *)t.data, "[2,[\"Mapping\"],8,8,0]");
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

#define LACKS(text, sub)                                                                           \
    do {                                                                                           \
        if (strstr((text), (sub)) != NULL) {                                                       \
            fprintf(stderr, "  summary: %s\n  has:     %s\n", (text), (sub));                      \
            CHECK(!"summary has an unexpected entry");                                             \
        }                                                                                          \
    } while (0)

/* The summary of src as text, in t (freed by the caller). */
#define SUMMARY(t, src)                                                                            \
    do {                                                                                           \
        buf_init(&(t));                                                                            \
        REQUIRE(summary_of((src), "m.py", &(t)));                                                  \
    } while (0)

TEST(summary_shapes_of_defs_and_classes)
{
    buf_t t;
    SUMMARY(t, sample);
    HAS((char *)t.data, "[\"g\",0,7,0,0]");                  /* [name, kind, line, sig, flags] */
    HAS((char *)t.data, "[\"m\",0,1]],8,[\"attr\",\"m\"],[\"m\"]]"); /* flags, attrs, plain */
    HAS((char *)t.data, "[\"fast\",2,18,-1,1]");             /* import, then assigned */
    HAS((char *)t.data, "[\"__all__\",2,13,-1,1]");          /* augmented */
    HAS((char *)t.data, "\"getattr\":true,\"dynamic\":false,\"uses\":");
    HAS((char *)t.data, "\"calls\":[");
    HAS((char *)t.data, "],\"stars\":[");
    HAS((char *)t.data, "],\"noqa\":[]}");
    buf_free(&t);
}

static const char rebound[] = "import os\n"               /* 1 */
                              "def os(): pass\n"          /* 2 */
                              "def f(): pass\n"           /* 3 */
                              "f = 1\n"                   /* 4 */
                              "def g(x): pass\n"          /* 5 */
                              "if g:\n"                   /* 6 */
                              "    h = 1\n"               /* 7 */
                              "else:\n"                   /* 8 */
                              "    h = 2\n"               /* 9 */
                              "k = 1\n"                   /* 10 */
                              "k += 1\n"                  /* 11 */
                              "for i in []: pass\n"       /* 12 */
                              "a: int\n"                  /* 13 */
                              "a = 1\n"                   /* 14 */
                              "def setter():\n"           /* 15 */
                              "    global gv, k2, open\n" /* 16 */
                              "    global only_read\n"    /* 17 */
                              "    gv = 1\n"              /* 18 */
                              "    k2 = 2\n"              /* 19 */
                              "    open = 3\n"            /* 20 */
                              "    return only_read\n"    /* 21 */
                              "k2 = 0\n"                  /* 22 */
                              "class C:\n"                /* 23 */
                              "    c = 1\n"               /* 24 */
                              "    c = 2\n"               /* 25 */
                              "def uses_local():\n"       /* 26 */
                              "    g = 1\n"               /* 27 */
                              "    return g\n";           /* 28 */

TEST(summary_defs_rebound)
{
    buf_t t;
    SUMMARY(t, rebound);
    HAS((char *)t.data, "[\"os\",0,2,");      /* import, then def */
    HAS((char *)t.data, "[\"f\",2,4,-1,1]");  /* def, then assignment */
    HAS((char *)t.data, "[\"h\",2,9,-1,1]");  /* both branches of an if */
    HAS((char *)t.data, "[\"k\",2,11,-1,1]"); /* augmented */
    HAS((char *)t.data, "[\"i\",2,12,-1,1]"); /* a loop target */
    HAS((char *)t.data, "[\"k2\",2,22,-1,1]");
    /* bound once: a local of the same name elsewhere does not count, nor
     * an annotation without value */
    HAS((char *)t.data, "[\"g\",0,5,");
    LACKS((char *)t.data, "[\"g\",0,5,-1,1]");
    HAS((char *)t.data, "[\"a\",2,14,-1,0]");
    HAS((char *)t.data, "[\"setter\",0,15,");
    LACKS((char *)t.data, "[\"c\",2,25,"); /* class members are not module defs */
    buf_free(&t);
}

TEST(summary_defs_bound_via_global)
{
    buf_t t;
    SUMMARY(t, rebound);
    /* declared global and bound in a function: a module attribute */
    HAS((char *)t.data, "[\"gv\",2,16,-1,0]");
    HAS((char *)t.data, "[\"open\",2,20,-1,0]"); /* a builtin's name */
    /* declared but only read: not bound by anyone */
    LACKS((char *)t.data, "\"only_read\"");
    buf_free(&t);
    SUMMARY(t, "class K:\n"
               "    global made\n"
               "    made = 1\n");
    HAS((char *)t.data, "[\"made\",2,2,-1,0]");
    buf_free(&t);
}

TEST(summary_class_flags)
{
    buf_t t;
    SUMMARY(t, "import abc\n"
               "def dec(c): return c\n"
               "@dec\n"
               "class A: pass\n"
               "class B(metaclass=abc.ABCMeta): pass\n"
               "class C(A, B): pass\n"
               "kw = {}\n"
               "class D(**kw): pass\n"
               "class E(A, flag=True): pass\n");
    HAS((char *)t.data, "[\"A\",4,[],[],1]"); /* decorated */
    HAS((char *)t.data, "[\"B\",5,[],[],10,[],[]]"); /* keywords; seen: abc's metaclass */
    HAS((char *)t.data, "[\"C\",6,[\"A\",\"B\"],[],0]");
    HAS((char *)t.data, "[\"D\",8,[],[],2]");
    HAS((char *)t.data, "[\"E\",9,[\"A\"],[],2]");
    buf_free(&t);
}

static void check_dynamic(const char *src, bool dynamic)
{
    buf_t t;
    SUMMARY(t, src);
    HAS((char *)t.data, dynamic ? "\"dynamic\":true" : "\"dynamic\":false");
    buf_free(&t);
}

TEST(summary_dynamic)
{
    check_dynamic("globals()['x'] = 1\n", true);
    /* reading it is not writing it */
    check_dynamic("def f(n):\n    return n in globals()\n", false);
    check_dynamic("def f(n):\n    return n not in globals() or globals().get(n)\n", false);
    check_dynamic("for k in globals().keys():\n    pass\n", false);
    check_dynamic("globals().update(x=1)\n", true);
    check_dynamic("f(globals())\n", true);
    check_dynamic("def f():\n    return globals()\n", true);
    check_dynamic("vars()\n", true);
    check_dynamic("exec('x = 1')\n", true);
    check_dynamic("import sys\nsys.modules[__name__] = object()\n", true);
    /* a plain key names the module replaced ("replaces"): not this one */
    check_dynamic("import sys\ndef f():\n    sys.modules['m'] = 1\n", false);
    check_dynamic("import sys\nsys.modules[k] = 1\n", true);
    /* not this module's namespace, or not the builtin */
    check_dynamic("import os\n", false);
    check_dynamic("def f():\n    return vars()\n", false);
    check_dynamic("class C:\n    vars()\n", false);
    check_dynamic("o = 1\nvars(o)\n", false);
    check_dynamic("def f():\n    exec('x = 1')\n", false);
    check_dynamic("import sys\nx = sys.modules[__name__]\n", false);
    check_dynamic("import sys\ndel sys.modules['m']\n", false);
    check_dynamic("def globals(): return {}\nglobals()\n", false);
    check_dynamic("globals = dict\ndef f():\n    return globals()\n", false);
}

TEST(summary_use_store)
{
    buf_t t;
    SUMMARY(t, "import m\n"
               "m.x = 1\n"
               "m.y += 1\n"
               "del m.z\n"
               "for m.w in []: pass\n"
               "with open('f') as m.v: pass\n"
               "print(m.r)\n"
               "m.a.b = 1\n"
               "len(m.q).c = 1\n"
               "m.s[0] = 1\n"
               "(m.p) = 2\n"
               "m.n: int\n"
               "m.o: int = 1\n");
    HAS((char *)t.data, "[0,[\"x\"],2,0,1]");
    HAS((char *)t.data, "[0,[\"y\"],3,0,1]");
    HAS((char *)t.data, "[0,[\"z\"],4,4,1]");
    HAS((char *)t.data, "[0,[\"w\"],5,4,1]");
    HAS((char *)t.data, "[0,[\"v\"],6,18,1]");
    HAS((char *)t.data, "[0,[\"a\",\"b\"],8,0,1]");
    HAS((char *)t.data, "[0,[\"p\"],11,1,1]");
    /* loads: read, inside another target, the object of a subscript */
    HAS((char *)t.data, "[0,[\"r\"],7,6,0]");
    HAS((char *)t.data, "[0,[\"q\"],9,4,0]");
    HAS((char *)t.data, "[0,[\"s\"],10,0,0]");
    HAS((char *)t.data, "[0,[\"n\"],12,0,0]"); /* annotated, not assigned */
    HAS((char *)t.data, "[0,[\"o\"],13,0,1]");
    buf_free(&t);
}

static const char guarded[] = "import m, other\n"                         /* 1 */
                              "try:\n"                                    /* 2 */
                              "    m.t1\n"                                /* 3 */
                              "except AttributeError:\n"                  /* 4 */
                              "    m.e1\n"                                /* 5 */
                              "try:\n"                                    /* 6 */
                              "    m.t2\n"                                /* 7 */
                              "except ValueError:\n"                      /* 8 */
                              "    pass\n"                                /* 9 */
                              "try:\n"                                    /* 10 */
                              "    m.t3\n"                                /* 11 */
                              "except (KeyError, ImportError):\n"         /* 12 */
                              "    pass\n"                                /* 13 */
                              "try:\n"                                    /* 14 */
                              "    m.t4\n"                                /* 15 */
                              "except:\n"                                 /* 16 */
                              "    pass\n"                                /* 17 */
                              "if hasattr(m, 'h1'):\n"                    /* 18 */
                              "    m.h1\n"                                /* 19 */
                              "elif other:\n"                             /* 20 */
                              "    m.h2\n"                                /* 21 */
                              "m.h3\n"                                    /* 22 */
                              "x = m.c1 if hasattr(m, 'c1') else m.c2\n"  /* 23 */
                              "y = hasattr(m, 'b1') and m.b1\n"           /* 24 */
                              "z = m.b2 and hasattr(m, 'b2')\n"           /* 25 */
                              "if getattr(m, 'g1', None):\n"              /* 26 */
                              "    m.g1\n"                                /* 27 */
                              "if getattr(m, 'g2'):\n"                    /* 28 */
                              "    m.g2\n"                                /* 29 */
                              "while hasattr(m, 'w1'):\n"                 /* 30 */
                              "    m.w1\n"                                /* 31 */
                              "if hasattr(other, 'o'):\n"                 /* 32 */
                              "    m.o\n"                                 /* 33 */
                              "if other and hasattr(m, 'n1') and m.n1:\n" /* 34 */
                              "    m.n2\n"                                /* 35 */
                              "try:\n"                                    /* 36 */
                              "    def f():\n"                            /* 37 */
                              "        return m.d1\n"                     /* 38 */
                              "except NameError:\n"                       /* 39 */
                              "    pass\n";                               /* 40 */

TEST(summary_use_guarded)
{
    buf_t t;
    SUMMARY(t, guarded);
    HAS((char *)t.data, "[0,[\"t1\"],3,4,2]");
    HAS((char *)t.data, "[0,[\"t3\"],11,4,2]");
    HAS((char *)t.data, "[0,[\"t4\"],15,4,2]");
    HAS((char *)t.data, "[0,[\"h1\"],19,4,2]");
    HAS((char *)t.data, "[0,[\"c1\"],23,4,2]");
    HAS((char *)t.data, "[0,[\"c2\"],23,34,2]");
    HAS((char *)t.data, "[0,[\"b1\"],24,25,2]");
    HAS((char *)t.data, "[0,[\"g1\"],27,4,2]");
    HAS((char *)t.data, "[0,[\"w1\"],31,4,2]");
    HAS((char *)t.data, "[0,[\"n1\"],34,34,2]");
    HAS((char *)t.data, "[0,[\"n2\"],35,4,2]");
    /* not guarded: a handler's own body, other exceptions, else branches,
     * after the if, operands before the test, getattr without default,
     * another name tested, a function body (it runs later) */
    HAS((char *)t.data, "[0,[\"e1\"],5,4,0]");
    HAS((char *)t.data, "[0,[\"t2\"],7,4,0]");
    HAS((char *)t.data, "[0,[\"h2\"],21,4,0]");
    HAS((char *)t.data, "[0,[\"h3\"],22,0,0]");
    HAS((char *)t.data, "[0,[\"b2\"],25,4,0]");
    HAS((char *)t.data, "[0,[\"g2\"],29,4,0]");
    HAS((char *)t.data, "[0,[\"o\"],33,4,0]");
    HAS((char *)t.data, "[0,[\"d1\"],38,15,0]");
    HAS((char *)t.data, "[0,[],18,11,0]"); /* the tested name itself */
    buf_free(&t);
    /* in a function body, its own tests and try statements guard */
    SUMMARY(t, "import m\n"
               "def f():\n"
               "    if hasattr(m, 'x'):\n"
               "        return m.x\n"
               "    try:\n"
               "        return m.y\n"
               "    except Exception:\n"
               "        return m.z\n");
    HAS((char *)t.data, "[0,[\"x\"],4,15,2]");
    HAS((char *)t.data, "[0,[\"y\"],6,15,2]");
    HAS((char *)t.data, "[0,[\"z\"],8,15,0]");
    buf_free(&t);
    /* a shadowed hasattr guards nothing */
    SUMMARY(t, "import m\n"
               "def hasattr(o, a): return True\n"
               "if hasattr(m, 'x'):\n"
               "    m.x\n");
    HAS((char *)t.data, "[0,[\"x\"],4,4,0]");
    buf_free(&t);
}

TEST(summary_stars)
{
    buf_t t;
    SUMMARY(t, "from mod import *\n"
               "print(name1)\n"
               "name2  # noqa\n"
               "__all__ = ['name3', 'print', 'here']\n"
               "here = 1\n");
    /* the F405s' own positions (1-based columns), noqa'd ones too */
    HAS((char *)t.data, "\"stars\":[[\"name1\",2,7,false],[\"name2\",3,1,false],"
                        "[\"name3\",4,1,true]]");
    buf_free(&t);
    SUMMARY(t, "import mod\nprint(name1)\n");
    HAS((char *)t.data, "\"stars\":[]");
    buf_free(&t);
}

TEST(summary_noqa)
{
    buf_t t;
    SUMMARY(t, "import os  # noqa\n"
               "import sys  # noqa: F401, E501\n"
               "x = \"\"\"a\n"
               "b\"\"\"  # noqa:F821\n"
               "y = 1  # NOQA:bad\n"
               "z = 1  # just a comment\n");
    HAS((char *)t.data, "\"noqa\":[[1,1,nil],[2,2,[\"F401\",\"E501\"]],[3,4,[\"F821\"]],"
                        "[5,5,nil]]");
    buf_free(&t);
    SUMMARY(t, "import os\n# flake8: noqa\n");
    HAS((char *)t.data, "\"noqa\":[[1,4294967295,nil]]");
    buf_free(&t);
    SUMMARY(t, "import os\n# ruff: noqa\n");
    HAS((char *)t.data, "\"noqa\":[[1,4294967295,nil]]");
    buf_free(&t);
    SUMMARY(t, "import os  # not noqa here\n");
    HAS((char *)t.data, "\"noqa\":[]");
    buf_free(&t);
}

TEST(summary_unpad_columns)
{
    arena_t *a = arena_new(0);
    summary_t *s;
    buf_t packed, t;
    msgpack_packer pk;
    mpread_t r;
    const char *chain[] = {"x"};
    const uint32_t lens[] = {1}, lines[] = {2}, widths[] = {4};

    REQUIRE(a != NULL && (s = summary_new(a)) != NULL);
    summary_add_import(s, SUM_IMPORT, 0, "m", 1, "", 0, "", 0, 2, 6, 0);
    summary_add_use(s, 0, chain, lens, 1, 2, 10, 0);
    summary_add_use(s, 0, chain, lens, 1, 3, 10, 0);
    summary_add_use(s, 0, chain, lens, 1, 2, 1, 0);
    summary_add_star(s, "n", 1, 2, 11, false);
    summary_add_star(s, "n", 1, 2, 2, false);
    summary_unpad_columns(s, lines, widths, 1);
    buf_init(&packed);
    buf_init(&t);
    mpbuf_packer(&pk, &packed);
    REQUIRE(summary_pack(s, &pk) == ST_OK);
    mpread_init(&r, packed.data, packed.len);
    REQUIRE(to_text(&r, &t, 0) == 0);
    buf_append_byte(&t, '\0');
    HAS((char *)t.data, "[0,0,\"m\",\"\",\"\",2,2,0]");
    HAS((char *)t.data, "[0,[\"x\"],2,6,0]");
    HAS((char *)t.data, "[0,[\"x\"],3,10,0]"); /* not a padded line */
    HAS((char *)t.data, "[0,[\"x\"],2,0,0]");  /* inside the padding: its start */
    HAS((char *)t.data, "[\"n\",2,7,false],[\"n\",2,1,false]");
    buf_free(&packed);
    buf_free(&t);
    arena_destroy(&a);
}

TEST(summary_import_hooks_and_enum_exports_are_dynamic)
{
    static const char *const dynamic[] = {
        "import sys\nsys.meta_path.append(object())\n",
        "import sys\nclass V:\n    def install(self):\n        if self not in sys.meta_path:\n"
        "            sys.meta_path.insert(0, self)\n",
        "import sys\nsys.path_hooks.append(len)\n",
        "import enum\nclass F(enum.IntFlag):\n    A = 1\nenum.global_enum(F)\n",
        "import enum\nenum.IntEnum._convert_('E', __name__, lambda n: n.startswith('X'))\n",
    };
    for (size_t i = 0; i < sizeof dynamic / sizeof *dynamic; i++) {
        buf_t out;
        buf_init(&out);
        CHECK(summary_of(dynamic[i], "m.py", &out));
        CHECK(strstr((const char *)out.data, "\"dynamic\":true") != NULL);
        buf_free(&out);
    }
    buf_t out;
    buf_init(&out);
    CHECK(summary_of("import sys\nprint(sys.path)\nimport enum\nclass F(enum.IntFlag):\n    A = 1\n"
                     "for finder in sys.meta_path:\n    pass\nn = len(sys.path_hooks)\n",
                     "m.py", &out));
    CHECK(strstr((const char *)out.data, "\"dynamic\":false") != NULL);
    buf_free(&out);
}

TEST(summary_global_enum_class_is_flagged_not_dynamic)
{
    buf_t out;
    buf_init(&out);
    CHECK(summary_of("import enum\n@enum.global_enum\nclass F(enum.IntFlag):\n    A = 1\n", "m.py",
                     &out));
    CHECK(strstr((const char *)out.data, "\"dynamic\":false") != NULL);
    CHECK(strstr((const char *)out.data, "[[\"A\",2,-1]],5]") != NULL);
    buf_free(&out);
}

TEST(summary_hasattr_on_a_chain_guards_its_base)
{
    buf_t out;
    buf_init(&out);
    CHECK(summary_of("import a.b\nif hasattr(a.b, 'x'):\n    a.b.x()\na.b.y()\n", "m.py", &out));
    /* the use under the test is guarded (flag 2), the one after it is not */
    CHECK(strstr((const char *)out.data, "[0,[\"b\",\"x\"],3,4,2]") != NULL);
    CHECK(strstr((const char *)out.data, "[0,[\"b\",\"y\"],4,0,0]") != NULL);
    buf_free(&out);
}

TEST(summary_type_checking_imports_are_flagged)
{
    buf_t out;
    buf_init(&out);
    CHECK(summary_of("import typing\nif typing.TYPE_CHECKING:\n    import a\nelse:\n    import b\n",
                     "m.py", &out));
    /* a: conditional (2) and under TYPE_CHECKING (8); b: conditional only */
    CHECK(strstr((const char *)out.data, "[0,0,\"a\",\"\",\"\",3,4,10]") != NULL);
    CHECK(strstr((const char *)out.data, "[0,0,\"b\",\"\",\"\",5,4,2]") != NULL);
    buf_free(&out);
}

TEST(summary_pylint_pragmas_are_noqa_ranges)
{
    buf_t out;
    buf_init(&out);
    CHECK(summary_of("import m\n"
                     "m.x  # pylint: disable=no-member,unused-import\n"
                     "# pylint: disable-next=too-many-function-args\n"
                     "m.f(1)\n"
                     "def g():\n"
                     "    # pylint: disable=all\n"
                     "    m.y\n"
                     "\n"
                     "    m.z\n"
                     "m.w  # pylint: enable=no-member\n"
                     "m.v  # noqa\n",
                     "m.py", &out));
    CHECK(strstr((const char *)out.data,
                 "\"noqa\":[[2,2,[\"E1101\"]],[4,4,[\"E1121\"]],[6,9,[\"E0401\",\"E0611\","
                 "\"E1101\",\"E1120\",\"E1121\",\"E1123\",\"R0401\"]],[11,11,nil]]") != NULL);
    buf_free(&out);
}

/* ---- the decoder ----------------------------------------------------------------- */

static bool str_is(sum_str_t s, const char *want)
{
    return s.len == strlen(want) && memcmp(s.s, want, s.len) == 0;
}

/* Every table, built with summary_add_*, packed, read back. */
TEST(summary_read_round_trip)
{
    arena_t *a = arena_new(0);
    summary_t *s;
    buf_t b;
    msgpack_packer pk;
    mpread_t r;
    summary_doc_t d;
    const sum_param_t params[] = {{"self", SUM_P_NORMAL, false}, {"k", SUM_P_KWONLY, true}};
    const char *chain[] = {"path", "join"}, *kw[] = {"sep"}, *all[] = {"f"}, *codes[] = {"F4"};
    const uint32_t chain_lens[] = {4, 4}, kw_lens[] = {3}, all_lens[] = {1}, code_lens[] = {2};
    int32_t sig, cls;

    REQUIRE(a != NULL && (s = summary_new(a)) != NULL);
    summary_add_import(s, SUM_FROM, 1, "pkg", 3, "os", 2, "o", 1, 3, 4, SUM_GUARDED);
    sig = summary_add_sig(s, SUM_SIG_ASYNC, params, 2);
    summary_add_def(s, "f", 1, SUM_DEF_FUNCTION, 5, sig, SUM_DEF_REBOUND);
    cls = summary_add_class(s, "C", 1, 7, SUM_CLASS_DECORATED);
    summary_class_add_base(s, cls, "a.B", 3);
    summary_class_add_member(s, cls, "__init__", 8, SUM_DEF_FUNCTION, sig);
    summary_set_all(s, all, all_lens, 1);
    summary_set_getattr(s);
    summary_add_use(s, 0, chain, chain_lens, 2, 9, 2, SUM_USE_STORE);
    summary_add_call(s, 0, 2, kw, kw_lens, 1, true, false);
    summary_add_star(s, "zz", 2, 11, 5, true);
    summary_add_noqa(s, 3, 4, codes, code_lens, 1);
    summary_add_noqa(s, 6, 6, NULL, NULL, 0);
    buf_init(&b);
    mpbuf_packer(&pk, &b);
    REQUIRE(summary_pack(s, &pk) == ST_OK);
    mpread_init(&r, b.data, b.len);
    REQUIRE(summary_read(&r, a, &d) == ST_OK);
    CHECK(r.pos == b.len);
    REQUIRE(d.n_imports == 1 && d.n_defs == 1 && d.n_sigs == 1 && d.n_classes == 1);
    CHECK(d.imports[0].kind == SUM_FROM && d.imports[0].level == 1);
    CHECK(str_is(d.imports[0].module, "pkg") && str_is(d.imports[0].name, "os"));
    CHECK(str_is(d.imports[0].asname, "o") && d.imports[0].line == 3 && d.imports[0].col == 4);
    CHECK(d.imports[0].flags == SUM_GUARDED);
    CHECK(str_is(d.defs[0].name, "f") && d.defs[0].kind == SUM_DEF_FUNCTION);
    CHECK(d.defs[0].line == 5 && d.defs[0].sig == 0 && d.defs[0].flags == SUM_DEF_REBOUND);
    CHECK(d.sigs[0].flags == SUM_SIG_ASYNC && d.sigs[0].n == 2);
    CHECK(str_is(d.sigs[0].p[1].name, "k") && d.sigs[0].p[1].kind == SUM_P_KWONLY);
    CHECK(d.sigs[0].p[1].has_default && !d.sigs[0].p[0].has_default);
    CHECK(str_is(d.classes[0].name, "C") && d.classes[0].flags == SUM_CLASS_DECORATED);
    CHECK(d.classes[0].n_bases == 1 && str_is(d.classes[0].bases[0], "a.B"));
    CHECK(d.classes[0].n_members == 1 && d.classes[0].members[0].sig == 0);
    CHECK(d.has_all && d.n_all == 1 && str_is(d.all[0], "f"));
    CHECK(d.getattr && !d.dynamic);
    REQUIRE(d.n_uses == 1 && d.n_calls == 1 && d.n_stars == 1 && d.n_noqa == 2);
    CHECK(d.uses[0].imp == 0 && d.uses[0].n == 2 && str_is(d.uses[0].chain[1], "join"));
    CHECK(d.uses[0].flags == SUM_USE_STORE && d.uses[0].line == 9);
    CHECK(d.calls[0].use == 0 && d.calls[0].npos == 2 && d.calls[0].nkw == 1);
    CHECK(str_is(d.calls[0].kw[0], "sep") && d.calls[0].star && !d.calls[0].dstar);
    CHECK(str_is(d.stars[0].name, "zz") && d.stars[0].col == 5 && d.stars[0].in_all);
    CHECK(d.noqa[0].n == 1 && str_is(d.noqa[0].codes[0], "F4") && d.noqa[1].codes == NULL);
    CHECK(summary_is_dynamic((span_t){b.data, b.len})); /* through __getattr__ */
    {
        sum_import_t *imps;
        uint32_t n;
        REQUIRE(summary_decode_imports((span_t){b.data, b.len}, a, &imps, &n) == ST_OK);
        CHECK(n == 1 && str_is(imps[0].module, "pkg") && imps[0].flags == SUM_GUARDED);
    }
    buf_free(&b);
    arena_destroy(&a);
}

/* Reads the summary fill packs; the bytes are copied into a, since the
 * decoded strings point into them. */
static st_rc_t read_packed(void (*fill)(msgpack_packer *pk), summary_doc_t *d, arena_t *a)
{
    buf_t b;
    msgpack_packer pk;
    mpread_t r;
    st_rc_t rc = ST_ENOMEM;
    uint8_t *copy;

    buf_init(&b);
    mpbuf_packer(&pk, &b);
    fill(&pk);
    if ((copy = arena_alloc(a, b.len ? b.len : 1)) != NULL) {
        memcpy(copy, b.data, b.len);
        mpread_init(&r, copy, b.len);
        rc = summary_read(&r, a, d);
    }
    buf_free(&b);
    return rc;
}

static void def_with_bad_sig(msgpack_packer *pk)
{
    msgpack_pack_map(pk, 1);
    mpbuf_cstr(pk, "defs");
    msgpack_pack_array(pk, 1);
    msgpack_pack_array(pk, 4);
    mpbuf_cstr(pk, "f"), msgpack_pack_uint8(pk, 0), msgpack_pack_uint8(pk, 1);
    msgpack_pack_int32(pk, 0); /* no "sigs": index 0 is out of range */
}

static void use_of_no_import(msgpack_packer *pk)
{
    msgpack_pack_map(pk, 1);
    mpbuf_cstr(pk, "uses");
    msgpack_pack_array(pk, 1);
    msgpack_pack_array(pk, 4);
    msgpack_pack_int32(pk, 0), msgpack_pack_array(pk, 0);
    msgpack_pack_uint8(pk, 1), msgpack_pack_uint8(pk, 0);
}

static void huge_import_count(msgpack_packer *pk)
{
    msgpack_pack_map(pk, 1);
    mpbuf_cstr(pk, "imports");
    msgpack_pack_array(pk, 1000000); /* nothing follows */
}

static void import_kind_too_big(msgpack_packer *pk)
{
    msgpack_pack_map(pk, 1);
    mpbuf_cstr(pk, "imports");
    msgpack_pack_array(pk, 1);
    msgpack_pack_array(pk, 8);
    msgpack_pack_uint8(pk, SUM_FUTURE + 1), msgpack_pack_uint8(pk, 0);
    mpbuf_cstr(pk, "m"), mpbuf_cstr(pk, ""), mpbuf_cstr(pk, "");
    msgpack_pack_uint8(pk, 1), msgpack_pack_uint8(pk, 0), msgpack_pack_uint8(pk, 0);
}

static void older_class_and_unknown_key(msgpack_packer *pk)
{
    msgpack_pack_map(pk, 2);
    mpbuf_cstr(pk, "later");
    msgpack_pack_array(pk, 0);
    mpbuf_cstr(pk, "classes");
    msgpack_pack_array(pk, 1);
    msgpack_pack_array(pk, 4); /* no flags */
    mpbuf_cstr(pk, "C"), msgpack_pack_uint8(pk, 1), msgpack_pack_array(pk, 0);
    msgpack_pack_array(pk, 0);
}

TEST(summary_read_refuses_malformed)
{
    arena_t *a = arena_new(0);
    summary_doc_t d;

    REQUIRE(a != NULL);
    CHECK(read_packed(def_with_bad_sig, &d, a) == ST_ECORRUPT);
    CHECK(read_packed(use_of_no_import, &d, a) == ST_ECORRUPT);
    CHECK(read_packed(huge_import_count, &d, a) == ST_ECORRUPT);
    CHECK(read_packed(import_kind_too_big, &d, a) == ST_ECORRUPT);
    REQUIRE(read_packed(older_class_and_unknown_key, &d, a) == ST_OK);
    CHECK(d.n_classes == 1 && d.classes[0].flags == SUM_CLASS_FLAGS_UNKNOWN);
    CHECK(d.n_imports == 0 && !d.has_all);
    CHECK(!summary_is_dynamic((span_t){(const uint8_t *)"\x90", 1})); /* not a map */
    arena_destroy(&a);
}

TEST(summary_read_out_of_memory)
{
    arena_t *a = arena_new(256);
    mpread_t r;
    summary_doc_t d;
    sum_import_t *imps;
    uint32_t n;
    /* {"imports": [[0, 0, "m", "", "", 1, 0, 0]]} */
    static const char doc[] = "\x81\xa7imports\x91\x98\x00\x00\xa1m\xa0\xa0\x01\x00\x00";

    REQUIRE(a != NULL);
    arena_set_limit(a, 1); /* not even one chunk */
    mpread_init(&r, doc, sizeof doc - 1);
    CHECK(summary_read(&r, a, &d) == ST_ENOMEM);
    CHECK(summary_decode_imports((span_t){(const uint8_t *)doc, sizeof doc - 1}, a, &imps, &n) ==
          ST_ENOMEM);
    arena_set_limit(a, 0);
    mpread_init(&r, doc, sizeof doc - 1);
    REQUIRE(summary_read(&r, a, &d) == ST_OK);
    CHECK(d.n_imports == 1 && str_is(d.imports[0].module, "m") && r.pos == sizeof doc - 1);
    arena_destroy(&a);
}

/* ---- stubs: the target's branches, declarations, overloads --------------------- */

static const char stub_sample[] = "import sys\n"
                                  "from typing import overload, final\n"
                                  "from typing_extensions import deprecated\n"
                                  "import typing\n"
                                  "\n"
                                  "if sys.version_info >= (3, 10):\n"
                                  "    import a\n"
                                  "    def f(x: int) -> int: ...\n"
                                  "    __all__ = [\"f\", \"g\"]\n"
                                  "else:\n"
                                  "    import b\n"
                                  "    def f(x: int, y: int) -> int: ...\n"
                                  "    __all__ = [\"f\"]\n"
                                  "\n"
                                  "if sys.platform == \"win32\":\n"
                                  "    def startfile(p: str) -> None: ...\n"
                                  "    __all__ += [\"startfile\"]\n"
                                  "\n"
                                  "CONST: int\n"
                                  "\n"
                                  "@overload\n"
                                  "def g(x: int) -> int: ...\n"
                                  "@overload\n"
                                  "def g(x: str) -> str: ...\n"
                                  "\n"
                                  "@final\n"
                                  "def h(__a: int, b: int) -> None: ...\n"
                                  "@deprecated(\"no\")\n"
                                  "def k() -> None: ...\n"
                                  "\n"
                                  "class C:\n"
                                  "    attr: int\n"
                                  "    if sys.version_info >= (3, 11):\n"
                                  "        def m(self, __x: int) -> None: ...\n"
                                  "    else:\n"
                                  "        def m(self, x: int, y: int) -> None: ...\n"
                                  "    @overload\n"
                                  "    def o(self) -> None: ...\n"
                                  "    @overload\n"
                                  "    def o(self, x: int) -> None: ...\n";

/* The summary's text of src scanned as a stub for version major.minor on
 * platform, into a static buffer. */
static const char *stub_for(const char *src, uint8_t major, uint8_t minor, const char *platform)
{
    static char text[16384];
    scan_target_t t = {.major = major, .minor = minor};
    buf_t out;

    snprintf(t.platform, sizeof t.platform, "%s", platform);
    buf_init(&out);
    text[0] = '\0';
    if (summary_for(src, "m.pyi", &t, &out))
        snprintf(text, sizeof text, "%.*s", (int)out.len, (const char *)out.data);
    buf_free(&out);
    return text;
}

/* t without its "dead" list (the names of branches not taken), in a
 * static buffer: what the summary says exists. */
static const char *live_part(const char *t)
{
    static char out[65536];
    const char *d = strstr(t, "\"dead\":[");
    size_t n = strlen(t);

    if (n >= sizeof out)
        n = sizeof out - 1;
    if (d == NULL) {
        memcpy(out, t, n);
        out[n] = '\0';
        return out;
    }
    const char *e = strchr(d, ']');
    size_t head = (size_t)(d - t);
    snprintf(out, sizeof out, "%.*s%s", (int)head, t, e != NULL ? e + 1 : "");
    return out;
}

TEST(summary_stub_keeps_the_branches_its_target_takes)
{
    const char *t = stub_for(stub_sample, 3, 12, "linux");

    HAS(t, "[0,0,\"a\",\"\",\"\",7,4,0]");  /* taken for sure: not conditional */
    CHECK(strstr(t, "\"b\",\"\"") == NULL); /* not taken: no import, no def */
    HAS(t, "[\"f\",0,8,4,0]");              /* one f, not rebound, 3.10's signature */
    HAS(t, "[4,[[\"x\",1,false]]]");
    CHECK(strstr(live_part(t), "startfile") == NULL);
    HAS(t, "\"dead\":[\"b\",\"startfile\"]"); /* other targets': may exist */
    HAS(t, "\"all\":[\"f\",\"g\"]");
    HAS(t, "[\"m\",0,5]"); /* a member: 3.11's */
    HAS(t, "[0,[[\"self\",0,false],[\"__x\",0,false]]]");

    t = stub_for(stub_sample, 3, 9, "win32");
    HAS(t, "[0,0,\"b\",\"\",\"\",11,4,0]");
    CHECK(strstr(t, "\"a\",\"\"") == NULL);
    HAS(t, "\"all\":[\"f\",\"startfile\"]");
    HAS(t, "[\"startfile\",0,16,");
    HAS(t, "[\"f\",0,12,");
    HAS(t, "[[\"self\",1,false],[\"x\",1,false],[\"y\",1,false]]");
}

TEST(summary_stub_tests_of_every_spelling)
{
    static const char *const yes[] = {
        "sys.version_info >= (3, 10)",
        "sys.version_info > (3, 11, 5)",
        "sys.version_info < (3, 13)",
        "sys.version_info < (3, 12, 99) or sys.platform == 'linux'",
        "(3, 12) <= sys.version_info",
        "sys.version_info[0] == 3",
        "sys.version_info[1] != 11",
        "sys.version_info[:2] == (3, 12)",
        "sys.version_info >= (3,)",
        "sys.platform == \"linux\"",
        "sys.platform != 'win32'",
        "sys.platform.startswith(\"lin\")",
        "not sys.platform.startswith('win')",
        "sys.platform != 'win32' and (sys.version_info >= (3, 8) or undecided)",
        "version_info >= (3, 12) and platform == 'linux'",
        "s.version_info >= (3, 12)",
    };
    static const char *const no[] = {
        "sys.version_info >= (3, 13)",
        "sys.version_info == (3, 12)", /* version_info is longer */
        "sys.version_info[:2] > (3, 12)",
        "sys.platform == 'win32'",
        "not (sys.platform == 'linux')",
        "sys.platform == 'win32' and undecided",
    };
    static const char *const unknown[] = {
        "sys.version_info >= (3, 12, 1)", /* the micro version is not known */
        "sys.platform < 'm'",
        "sys.version_info <= (3, 12, 99) or sys.platform == 'darwin'",
        "undecided",
        "sys.platform == 'linux' and undecided",
        "sys.version_info >= (3, 10) > (3, 9)",
        "os.version_info >= (3, 10)",
    };
    char src[512];

    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        snprintf(src, sizeof src,
                 "import sys\nimport sys as s\nfrom sys import version_info, platform\n"
                 "if %s:\n    def taken(): ...\nelse:\n    def other(): ...\n",
                 yes[i]);
        const char *t = stub_for(src, 3, 12, "linux");
        if (strstr(t, "taken") == NULL || strstr(live_part(t), "other") != NULL)
            fprintf(stderr, "  not decided true: %s\n", yes[i]);
        CHECK(strstr(t, "taken") != NULL && strstr(live_part(t), "other") == NULL);
    }
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        snprintf(src, sizeof src,
                 "import sys\nif %s:\n    def taken(): ...\nelse:\n"
                 "    def other(): ...\n",
                 no[i]);
        const char *t = stub_for(src, 3, 12, "linux");
        if (strstr(live_part(t), "taken") != NULL || strstr(t, "other") == NULL)
            fprintf(stderr, "  not decided false: %s\n", no[i]);
        CHECK(strstr(live_part(t), "taken") == NULL && strstr(t, "other") != NULL);
    }
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        snprintf(src, sizeof src,
                 "import sys\nif %s:\n    def taken(): ...\nelse:\n"
                 "    def other(): ...\n",
                 unknown[i]);
        const char *t = stub_for(src, 3, 12, "linux");
        if (strstr(t, "taken") == NULL || strstr(t, "other") == NULL)
            fprintf(stderr, "  decided: %s\n", unknown[i]);
        CHECK(strstr(t, "taken") != NULL && strstr(t, "other") != NULL);
    }
}

TEST(summary_stub_elif_chains)
{
    static const char src[] = "import sys\n"
                              "if sys.version_info >= (3, 13):\n"
                              "    import a\n"
                              "elif sys.version_info >= (3, 11):\n"
                              "    import b\n"
                              "elif sys.version_info >= (3, 9):\n"
                              "    import c\n"
                              "else:\n"
                              "    import d\n"
                              "if undecided:\n"
                              "    import e\n"
                              "elif sys.platform == 'linux':\n"
                              "    import f\n"
                              "else:\n"
                              "    import g\n";
    const char *t = stub_for(src, 3, 12, "linux");

    HAS(t, "[0,0,\"b\",\"\",\"\",5,4,0]");
    CHECK(strstr(t, "\"a\",\"\"") == NULL && strstr(t, "\"c\",\"\"") == NULL);
    CHECK(strstr(t, "\"d\",\"\"") == NULL);
    HAS(t, "[0,0,\"e\",\"\",\"\",11,4,2]"); /* undecided: conditional */
    HAS(t, "[0,0,\"f\",\"\",\"\",13,4,2]"); /* taken only when e's is not */
    CHECK(strstr(t, "\"g\",\"\"") == NULL);
}

TEST(summary_py_branches_are_never_decided)
{
    static const char src[] = "import sys\n"
                              "if sys.version_info >= (3, 13):\n"
                              "    import a\n"
                              "else:\n"
                              "    import b\n";
    buf_t out;
    buf_init(&out);
    REQUIRE(summary_of(src, "m.py", &out));
    /* conditional, and in a version test's branch: either may run */
    HAS((char *)out.data, "[0,0,\"a\",\"\",\"\",3,4,34]");
    HAS((char *)out.data, "[0,0,\"b\",\"\",\"\",5,4,34]");
    buf_free(&out);
    REQUIRE(summary_of("import sys, os\nif sys.platform == 'win32':\n    def f():\n"
                       "        return os.x\nif x:\n    os.y\n",
                       "m.py", &out));
    HAS((char *)out.data, "[1,[\"x\"],4,15,4]"); /* a function defined there too */
    HAS((char *)out.data, "[1,[\"y\"],6,4,0]");
    buf_free(&out);
}

TEST(summary_stub_dead_branches_record_no_uses)
{
    static const char src[] = "import sys\n"
                              "import m\n"
                              "if sys.platform == 'win32':\n"
                              "    x = m.win\n"
                              "    def f(): return m.inner\n"
                              "    class C:\n"
                              "        y = m.cls\n"
                              "else:\n"
                              "    z = m.posix\n";
    const char *t = stub_for(src, 3, 12, "linux");

    HAS(t, "[1,[\"posix\"],9,8,0]");
    CHECK(strstr(t, "win") == NULL && strstr(t, "inner") == NULL && strstr(t, "cls") == NULL);
    CHECK(strstr(live_part(t), "\"C\"") == NULL && strstr(t, "[\"f\"") == NULL);
}

TEST(summary_stub_declarations_are_definitions)
{
    const char *t = stub_for("x: int\nclass C:\n    y: str\n    z: int = 1\n", 3, 12, "linux");

    HAS(t, "[\"x\",2,1,-1,0]");
    HAS(t, "[\"y\",2,-1]");
    HAS(t, "[\"z\",2,-1]");
}

TEST(summary_stub_private_parameters_are_positional_only)
{
    const char *t = stub_for("def f(__a, __b, c, __d): ...\n"
                             "def g(a, __b): ...\n"
                             "def h(__a, /, b): ...\n"
                             "def k(__a__, __b): ...\n"
                             "class C:\n"
                             "    def m(self, __x, y): ...\n",
                             3, 12, "linux");

    HAS(t, "[[\"__a\",0,false],[\"__b\",0,false],[\"c\",1,false],[\"__d\",1,false]]");
    HAS(t, "[[\"a\",1,false],[\"__b\",1,false]]"); /* a normal one before */
    HAS(t, "[[\"__a\",0,false],[\"b\",1,false]]");
    HAS(t, "[[\"__a__\",1,false],[\"__b\",1,false]]"); /* a dunder is no private name */
    HAS(t, "[[\"self\",0,false],[\"__x\",0,false],[\"y\",1,false]]");

    buf_t out; /* not in a .py file */
    buf_init(&out);
    REQUIRE(summary_of("def f(__a): pass\n", "m.py", &out));
    HAS((char *)out.data, "[[\"__a\",1,false]]");
    buf_free(&out);
}

static const char overloads_py[] = "import typing\n"
                                   "from typing import overload\n"
                                   "import typing_extensions as te\n"
                                   "@overload\n"
                                   "def f(x: int) -> int: ...\n"
                                   "@typing.overload\n"
                                   "def f(x: str) -> str: ...\n"
                                   "def f(x, y=None): return x\n"
                                   "@overload\n"
                                   "def g(x: int) -> int: ...\n"
                                   "@overload\n"
                                   "@other\n"
                                   "def g(x: str) -> str: ...\n"
                                   "def g(x): return x\n"
                                   "h = 1\n"
                                   "@te.overload\n"
                                   "def h(x: int) -> int: ...\n"
                                   "def h(x): return x\n"
                                   "@overload\n"
                                   "async def k(x: int) -> int: ...\n"
                                   "@overload\n"
                                   "def k(x: str) -> str: ...\n"
                                   "def k(x): return x\n"
                                   "class C:\n"
                                   "    @overload\n"
                                   "    def m(self) -> None: ...\n"
                                   "    @overload\n"
                                   "    def m(self, x: int) -> None: ...\n"
                                   "    def m(self, x=0): pass\n";

/* The decoded summary of src (a .py file), in arena a. */
static bool doc_of(const char *src, arena_t *a, summary_doc_t *d)
{
    scanner_t *s = scanner_new();
    span_t res, sum;
    mpread_t r;
    bool ok = false;

    if (s != NULL && scanner_run(s, NULL, SCAN_KIND_PY, (const uint8_t *)src, strlen(src), a, &res,
                                 NULL) == ST_OK) {
        sum = scan_result_summary(res);
        mpread_init(&r, sum.ptr, sum.len);
        ok = summary_read(&r, a, d) == ST_OK;
    }
    scanner_destroy(&s);
    return ok;
}

static const sum_def_t *def_named(const summary_doc_t *d, const char *name)
{
    for (uint32_t i = 0; i < d->n_defs; i++)
        if (d->defs[i].name.len == strlen(name) &&
            memcmp(d->defs[i].name.s, name, d->defs[i].name.len) == 0)
            return &d->defs[i];
    return NULL;
}

/* The number of parameters and the flags of signature i. */
static bool sig_is(const summary_doc_t *d, int64_t i, uint32_t n, uint8_t flags)
{
    return i >= 0 && i < (int64_t)d->n_sigs && d->sigs[i].n == n && d->sigs[i].flags == flags;
}

TEST(summary_overloads_in_a_source)
{
    arena_t *a = arena_new(0);
    summary_doc_t d;
    const sum_def_t *f;

    REQUIRE(a != NULL && doc_of(overloads_py, a, &d));
    /* f: the implementation's signature, then the overloads in order */
    REQUIRE((f = def_named(&d, "f")) != NULL && f->n_ovl == 2 && f->flags == 0);
    CHECK(sig_is(&d, f->sig, 2, 0) && f->line == 8);
    CHECK(sig_is(&d, f->ovl[0], 1, SUM_SIG_OVERLOAD) && sig_is(&d, f->ovl[1], 1, SUM_SIG_OVERLOAD));
    CHECK(f->ovl[0] != f->ovl[1]);
    /* g: one overload has another decorator: as before, rebound, no list */
    REQUIRE((f = def_named(&d, "g")) != NULL);
    CHECK(f->ovl == NULL && f->flags == SUM_DEF_REBOUND && sig_is(&d, f->sig, 1, 0));
    /* h: bound by an assignment too */
    REQUIRE((f = def_named(&d, "h")) != NULL);
    CHECK(f->ovl == NULL && f->flags == SUM_DEF_REBOUND);
    /* k: async on one overload only */
    REQUIRE((f = def_named(&d, "k")) != NULL);
    CHECK(f->ovl == NULL && f->flags == SUM_DEF_REBOUND);
    /* a method's overloads */
    REQUIRE(d.n_classes == 1 && d.classes[0].n_members == 1);
    const sum_member_t *m = &d.classes[0].members[0];
    CHECK(m->n_ovl == 2 && sig_is(&d, m->sig, 2, 0) && sig_is(&d, m->ovl[1], 2, SUM_SIG_OVERLOAD));
    arena_destroy(&a);
}

TEST(summary_overloads_in_a_stub)
{
    const char *t = stub_for("from typing import overload\n"
                             "@overload\n"
                             "def f(x: int) -> int: ...\n"
                             "@overload\n"
                             "def f(x: str) -> str: ...\n"
                             "class C:\n"
                             "    @overload\n"
                             "    def m(self) -> None: ...\n"
                             "    @overload\n"
                             "    def m(self, x: int) -> None: ...\n",
                             3, 12, "linux");

    HAS(t, "[\"f\",0,5,-1,0,[0,1]]"); /* no implementation: no signature of its own */
    HAS(t, "[\"m\",0,-1,[2,3]]");
}

TEST(summary_known_decorators_keep_the_signature)
{
    arena_t *a = arena_new(0);
    summary_doc_t d;
    static const char *const sure[] = {"a", "b", "c"}, *const unsure[] = {"d", "e"};

    REQUIRE(a != NULL && doc_of("import typing\n"
                                "import warnings\n"
                                "from typing_extensions import deprecated, final\n"
                                "@typing.final\n"
                                "def a(): pass\n"
                                "@deprecated('use b2')\n"
                                "def b(): pass\n"
                                "@warnings.deprecated('no')\n"
                                "@typing.no_type_check\n"
                                "@typing.type_check_only\n"
                                "def c(): pass\n"
                                "@final\n"
                                "@other\n"
                                "def d(): pass\n"
                                "@deprecated\n" /* not called: not the decorator */
                                "def e(): pass\n",
                                a, &d));
    for (size_t i = 0; i < 3; i++) {
        const sum_def_t *f = def_named(&d, sure[i]);
        CHECK(f != NULL && sig_is(&d, f->sig, 0, 0));
    }
    for (size_t i = 0; i < 2; i++) {
        const sum_def_t *f = def_named(&d, unsure[i]);
        CHECK(f != NULL && sig_is(&d, f->sig, 0, SUM_SIG_DECORATED));
    }
    arena_destroy(&a);
}

TEST(summary_sys_modules_replacements)
{
    buf_t out;
    buf_init(&out);
    REQUIRE(summary_of("import sys\n"
                       "sys.modules['a.b'] = object()\n"
                       "def f():\n"
                       "    sys.modules[\"twisted.internet.reactor\"] = f\n"
                       "sys.modules['a.b'] = 2\n"
                       "sys.modules[__name__] = 3\n",
                       "m.py", &out));
    HAS((char *)out.data, "\"dynamic\":true,\"replaces\":[\"a.b\",\"twisted.internet.reactor\"]");
    buf_free(&out);
    buf_init(&out);
    REQUIRE(summary_of("import sys\nsys.modules[__name__] = 3\n", "m.py", &out));
    HAS((char *)out.data, "\"dynamic\":true,\"uses\"");
    buf_free(&out);
}

/* A def and a member with overloads, a "replaces", read back; and a def
 * whose overload points past "sigs". */
static void overloads_and_replaces(msgpack_packer *pk)
{
    msgpack_pack_map(pk, 4);
    mpbuf_cstr(pk, "sigs");
    msgpack_pack_array(pk, 2);
    for (int i = 0; i < 2; i++)
        summary_pack_sig(pk, SUM_SIG_OVERLOAD, 0);
    mpbuf_cstr(pk, "defs");
    msgpack_pack_array(pk, 2);
    msgpack_pack_array(pk, 6);
    mpbuf_cstr(pk, "f"), msgpack_pack_uint8(pk, 0), msgpack_pack_uint8(pk, 1);
    msgpack_pack_int32(pk, -1), msgpack_pack_uint8(pk, 0);
    msgpack_pack_array(pk, 2), msgpack_pack_int32(pk, 0), msgpack_pack_int32(pk, 1);
    msgpack_pack_array(pk, 6); /* nil: no overloads */
    mpbuf_cstr(pk, "g"), msgpack_pack_uint8(pk, 0), msgpack_pack_uint8(pk, 2);
    msgpack_pack_int32(pk, 0), msgpack_pack_uint8(pk, 0), msgpack_pack_nil(pk);
    mpbuf_cstr(pk, "classes");
    msgpack_pack_array(pk, 1);
    msgpack_pack_array(pk, 5);
    mpbuf_cstr(pk, "C"), msgpack_pack_uint8(pk, 1), msgpack_pack_array(pk, 0);
    msgpack_pack_array(pk, 2);
    msgpack_pack_array(pk, 4);
    mpbuf_cstr(pk, "m"), msgpack_pack_uint8(pk, 0), msgpack_pack_int32(pk, -1);
    msgpack_pack_array(pk, 1), msgpack_pack_int32(pk, 1);
    msgpack_pack_array(pk, 3); /* an older member */
    mpbuf_cstr(pk, "n"), msgpack_pack_uint8(pk, 0), msgpack_pack_int32(pk, 0);
    msgpack_pack_uint8(pk, 0);
    mpbuf_cstr(pk, "replaces");
    msgpack_pack_array(pk, 1);
    mpbuf_cstr(pk, "a.b");
}

static void overload_past_sigs(msgpack_packer *pk)
{
    msgpack_pack_map(pk, 1);
    mpbuf_cstr(pk, "defs");
    msgpack_pack_array(pk, 1);
    msgpack_pack_array(pk, 6);
    mpbuf_cstr(pk, "f"), msgpack_pack_uint8(pk, 0), msgpack_pack_uint8(pk, 1);
    msgpack_pack_int32(pk, -1), msgpack_pack_uint8(pk, 0);
    msgpack_pack_array(pk, 1), msgpack_pack_int32(pk, 0); /* no "sigs" */
}

static void overload_not_a_list(msgpack_packer *pk)
{
    msgpack_pack_map(pk, 1);
    mpbuf_cstr(pk, "defs");
    msgpack_pack_array(pk, 1);
    msgpack_pack_array(pk, 6);
    mpbuf_cstr(pk, "f"), msgpack_pack_uint8(pk, 0), msgpack_pack_uint8(pk, 1);
    msgpack_pack_int32(pk, -1), msgpack_pack_uint8(pk, 0), msgpack_pack_uint8(pk, 7);
}

TEST(summary_read_overloads_and_replaces)
{
    arena_t *a = arena_new(0);
    summary_doc_t d;
    buf_t b;
    msgpack_packer pk;
    sum_str_t *names;
    uint32_t n;

    REQUIRE(a != NULL);
    REQUIRE(read_packed(overloads_and_replaces, &d, a) == ST_OK);
    REQUIRE(d.n_defs == 2 && d.n_classes == 1 && d.classes[0].n_members == 2);
    CHECK(d.defs[0].sig == -1 && d.defs[0].n_ovl == 2 && d.defs[0].ovl[1] == 1);
    CHECK(d.defs[1].ovl == NULL && d.defs[1].n_ovl == 0);
    CHECK(d.classes[0].members[0].n_ovl == 1 && d.classes[0].members[0].ovl[0] == 1);
    CHECK(d.classes[0].members[1].ovl == NULL && d.classes[0].members[1].sig == 0);
    CHECK(d.n_replaces == 1 && str_is(d.replaces[0], "a.b"));
    CHECK(read_packed(overload_past_sigs, &d, a) == ST_ECORRUPT);
    CHECK(read_packed(overload_not_a_list, &d, a) == ST_ECORRUPT);

    buf_init(&b);
    mpbuf_packer(&pk, &b);
    overloads_and_replaces(&pk);
    REQUIRE(summary_decode_replaces((span_t){b.data, b.len}, a, &names, &n) == ST_OK);
    CHECK(n == 1 && str_is(names[0], "a.b"));
    CHECK(summary_decode_replaces((span_t){(const uint8_t *)"\x80", 1}, a, &names, &n) == ST_OK);
    CHECK(n == 0 && names == NULL);
    CHECK(summary_decode_replaces((span_t){(const uint8_t *)"\x90", 1}, a, &names, &n) ==
          ST_ECORRUPT);
    buf_free(&b);
    arena_destroy(&a);
}

/* Built with summary_add_*, packed, read back: the new parts. */
TEST(summary_overloads_and_replaces_round_trip)
{
    arena_t *a = arena_new(0);
    summary_t *s;
    buf_t b;
    msgpack_packer pk;
    mpread_t r;
    summary_doc_t d;
    const int32_t ovl[] = {0, 1};
    int32_t def, cls;

    REQUIRE(a != NULL && (s = summary_new(a)) != NULL);
    summary_add_sig(s, SUM_SIG_OVERLOAD, NULL, 0);
    summary_add_sig(s, SUM_SIG_OVERLOAD, NULL, 0);
    def = summary_add_def(s, "f", 1, SUM_DEF_FUNCTION, 3, -1, 0);
    summary_set_overloads(s, def, ovl, 2);
    cls = summary_add_class(s, "C", 1, 7, 0);
    summary_class_add_member(s, cls, "m", 1, SUM_DEF_FUNCTION, 0);
    summary_class_set_overloads(s, cls, ovl + 1, 1);
    summary_add_replace(s, "x.y", 3);
    summary_add_replace(s, "x.y", 3);
    buf_init(&b);
    mpbuf_packer(&pk, &b);
    REQUIRE(summary_pack(s, &pk) == ST_OK);
    mpread_init(&r, b.data, b.len);
    REQUIRE(summary_read(&r, a, &d) == ST_OK);
    CHECK(d.n_defs == 1 && d.defs[0].n_ovl == 2 && d.defs[0].ovl[0] == 0);
    CHECK(d.classes[0].members[0].n_ovl == 1 && d.classes[0].members[0].ovl[0] == 1);
    CHECK(d.n_replaces == 1 && str_is(d.replaces[0], "x.y"));
    buf_free(&b);
    arena_destroy(&a);
}

TEST(summary_type_checker_ignores_are_noqa_ranges)
{
    buf_t out;
    buf_init(&out);
    CHECK(summary_of("import m\n"
                     "m.x  # type: ignore\n"
                     "m.y(1,  # pyright: ignore[reportCallIssue]\n" /* brackets join no lines */
                     "    2)\n"
                     "s = '''\n"
                     "''' + m.z  # type: ignore[attr-defined]  # noqa: E501\n"
                     "m.w  # type: int\n"
                     "m.v  # type: ignored\n",
                     "m.py", &out));
    CHECK(strstr((const char *)out.data,
                 "\"noqa\":[[2,2,[\"E0401\",\"E0611\",\"E1101\",\"E1120\",\"E1121\",\"E1123\"]],"
                 "[3,3,[\"E0401\",\"E0611\",\"E1101\",\"E1120\",\"E1121\",\"E1123\"]],"
                 "[5,6,[\"E501\"]],"
                 "[5,6,[\"E0401\",\"E0611\",\"E1101\",\"E1120\",\"E1121\",\"E1123\"]]]") != NULL);
    buf_free(&out);
    /* alone before any statement: the whole file; after one: its line */
    buf_init(&out);
    CHECK(summary_of("#!/usr/bin/env python\n\n# type: ignore\nimport m\n# type: ignore\n", "m.py",
                     &out));
    CHECK(strstr((const char *)out.data,
                 "\"noqa\":[[1,4294967295,[\"E0401\",\"E0611\",\"E1101\",\"E1120\",\"E1121\","
                 "\"E1123\"]],[5,5,") != NULL);
    buf_free(&out);
    buf_init(&out);
    CHECK(summary_of("import m  # type: ignore\n# type: ignore\n", "m.py", &out));
    CHECK(strstr((const char *)out.data, "4294967295") == NULL);
    buf_free(&out);
}

TEST(summary_type_checker_ignores_leave_pyflakes_alone)
{
    scanner_t *s = scanner_new();
    arena_t *a = arena_new(0);
    span_t res;
    scan_diag_t *d;
    size_t n;
    static const char src[] = "# type: ignore\nimport os  # type: ignore\nx  # pyright: ignore\n";

    REQUIRE(s != NULL && a != NULL);
    REQUIRE(scanner_run(s, NULL, SCAN_KIND_PY, (const uint8_t *)src, sizeof src - 1, a, &res,
                        NULL) == ST_OK);
    REQUIRE(scan_result_diags(res, a, &d, &n, NULL) == ST_OK);
    CHECK(n == 2 && strcmp(d[0].code, "F401") == 0 && strcmp(d[1].code, "F821") == 0);
    scanner_destroy(&s);
    arena_destroy(&a);
}

TEST(summary_stub_all_changed_in_a_branch_not_taken)
{
    static const char src[] = "import sys\n"
                              "from m import a as a, w as w, v as v\n"
                              "__all__ = ['a']\n"
                              "if sys.platform == 'win32':\n"
                              "    __all__ += ['w']\n"
                              "if sys.version_info >= (3, 10):\n"
                              "    __all__ += ['v']\n"
                              "__all__ += ['x']\n";
    scanner_t *s = scanner_new();
    arena_t *a = arena_new(0);
    span_t res;
    scan_diag_t *d;
    size_t n;

    HAS(stub_for(src, 3, 12, "linux"), "\"all\":[\"a\",\"v\",\"x\"]");
    /* the diagnostics read every branch: w is exported, x undefined */
    REQUIRE(s != NULL && a != NULL);
    REQUIRE(scanner_run(s, NULL, SCAN_KIND_PYI, (const uint8_t *)src, sizeof src - 1, a, &res,
                        NULL) == ST_OK);
    REQUIRE(scan_result_diags(res, a, &d, &n, NULL) == ST_OK);
    CHECK(n == 1 && strcmp(d[0].code, "F822") == 0 && strstr(d[0].message, "'x'") != NULL);
    scanner_destroy(&s);
    arena_destroy(&a);
}

/* The else clause of a try guarding imports runs only when they worked. */
TEST(summary_import_in_try_else_is_guarded)
{
    buf_t t;
    SUMMARY(t, "try:\n    import a\nexcept ImportError:\n    pass\nelse:\n    import b\n");
    HAS((char *)t.data, "[0,0,\"b\",\"\",\"\",6,4,4]");
    buf_free(&t);
}

/* `path = _path` binds path to what the import _path binds (os.pyi): the
 * import again, flagged as a repeat, and path is an import's name. */
TEST(summary_alias_of_an_import)
{
    buf_t t;
    SUMMARY(t, "from . import path as _path\npath = _path\nimport a.b\nc = a\n");
    HAS((char *)t.data, "[1,1,\"\",\"path\",\"_path\",1,0,0]");
    HAS((char *)t.data, "[1,1,\"\",\"path\",\"path\",1,0,64]");
    HAS((char *)t.data, "[\"path\",3,2,-1,0]");
    HAS((char *)t.data, "[\"c\",2,4,-1,0]"); /* `import a.b` binds a.b, not a: no alias */
    buf_free(&t);
}

/* An F405 of a name its function binds too (a loop carries it) is marked:
 * never undefined, whatever the star imports bind. */
TEST(summary_star_of_a_local_name)
{
    buf_t t;
    SUMMARY(t, "from m import *\ndef f():\n    while True:\n        print(later, gone)\n"
               "        later = 1\n");
    HAS((char *)t.data, "[\"later\",4,15,false,true]");
    HAS((char *)t.data, "[\"gone\",4,22,false]");
    buf_free(&t);
}
