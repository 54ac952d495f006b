/* test_resolve.c - module names, packages, roots and import verdicts from
 * small in-memory file lists; the standard-library table; errors and OOM. */
#include "test.h"

#include "common/alloc.h"
#include "scheduler/resolve.h"
#include "scheduler/stdlib_names.h"

#include <stdint.h>
#include <string.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* A resolver over files with the given roots (or args when no roots). */
static resolver_t *make(const char *const *roots, size_t n_roots, const char *const *args,
                        size_t n_args, const char *const *files, size_t n_files)
{
    resolver_t *r = NULL;
    st_err_t err = {0};
    if (resolver_new(roots, n_roots, args, n_args, files, n_files, &r, &err) != ST_OK)
        fprintf(stderr, "resolver_new: %s\n", err.msg);
    return r;
}

static uint32_t find(const resolver_t *r, const char *name)
{
    return resolver_find(r, name, strlen(name));
}

/* The name of file i's module ("" when none). */
static const char *file_mod(const resolver_t *r, size_t i)
{
    const char *n = resolver_module_name(r, resolver_file_module(r, i));
    return n ? n : "";
}

typedef struct {
    res_kind_t kind;
    uint32_t id;
    char abs[128];
} verdict_t;

static verdict_t res(const resolver_t *r, size_t file, uint32_t level, const char *module)
{
    verdict_t v = {(res_kind_t)99, 12345, ""};
    st_rc_t rc = resolver_resolve(r, file, level, module, strlen(module), &v.kind, v.abs,
                                  sizeof v.abs, &v.id);
    if (rc != ST_OK)
        v.kind = (res_kind_t)-1;
    return v;
}

#define CHECK_RES(r, file, level, module, want_kind, want_abs)                                     \
    do {                                                                                           \
        verdict_t v_ = res((r), (file), (level), (module));                                        \
        CHECK_EQ_INT(v_.kind, (want_kind));                                                        \
        CHECK_STREQ(v_.abs, (want_abs));                                                           \
        if ((want_kind) == RES_PROJECT)                                                            \
            CHECK_EQ_INT(v_.id, find((r), (want_abs)));                                            \
        else                                                                                       \
            CHECK_EQ_INT(v_.id, RES_NONE);                                                         \
    } while (0)

TEST(resolve_packages_and_modules)
{
    const char *roots[] = {"."};
    const char *files[] = {"pkg/__init__.py", "pkg/a.py", "pkg/sub/__init__.py", "pkg/sub/b.py",
                           "top.py"};
    resolver_t *r = make(roots, 1, NULL, 0, files, N(files));
    const char *names[] = {"pkg", "pkg.a", "pkg.sub", "pkg.sub.b", "top"};
    size_t n;
    const uint32_t *subs;

    REQUIRE(r != NULL);
    CHECK_EQ_INT(resolver_n_roots(r), 1);
    CHECK_STREQ(resolver_root(r, 0), ".");
    CHECK(resolver_root(r, 1) == NULL);
    REQUIRE(resolver_n_modules(r) == N(names));
    for (uint32_t i = 0; i < N(names); i++) { /* ids in name order */
        CHECK_STREQ(resolver_module_name(r, i), names[i]);
        CHECK_EQ_INT(find(r, names[i]), i);
    }
    CHECK_STREQ(file_mod(r, 0), "pkg");
    CHECK_STREQ(file_mod(r, 1), "pkg.a");
    CHECK_STREQ(file_mod(r, 2), "pkg.sub");
    CHECK_STREQ(file_mod(r, 3), "pkg.sub.b");
    CHECK_STREQ(file_mod(r, 4), "top");
    CHECK(resolver_module_is_package(r, find(r, "pkg")));
    CHECK(resolver_module_is_package(r, find(r, "pkg.sub")));
    CHECK(!resolver_module_is_package(r, find(r, "pkg.a")));
    CHECK(!resolver_module_is_package(r, find(r, "top")));
    CHECK_EQ_INT(resolver_module_file(r, find(r, "pkg")), 0);
    CHECK_EQ_INT(resolver_module_file(r, find(r, "pkg.sub.b")), 3);
    CHECK_EQ_INT(resolver_module_parent(r, find(r, "pkg")), RES_NONE);
    CHECK_EQ_INT(resolver_module_parent(r, find(r, "pkg.sub.b")), find(r, "pkg.sub"));
    CHECK_EQ_INT(resolver_module_parent(r, find(r, "pkg.a")), find(r, "pkg"));
    subs = resolver_submodules(r, find(r, "pkg"), &n);
    REQUIRE(n == 2);
    CHECK_EQ_INT(subs[0], find(r, "pkg.a"));
    CHECK_EQ_INT(subs[1], find(r, "pkg.sub"));
    resolver_submodules(r, find(r, "top"), &n);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(find(r, "pkg.sub.c"), RES_NONE);
    CHECK_EQ_INT(find(r, "pk"), RES_NONE);
    /* out of range */
    CHECK(resolver_module_name(r, 99) == NULL);
    CHECK_EQ_INT(resolver_module_file(r, 99), RES_NONE);
    CHECK_EQ_INT(resolver_module_parent(r, 99), RES_NONE);
    CHECK(!resolver_module_is_package(r, 99));
    CHECK(resolver_submodules(r, 99, &n) == NULL && n == 0);
    CHECK_EQ_INT(resolver_file_module(r, 5), RES_NONE);
    resolver_destroy(&r);
    CHECK(r == NULL);
    resolver_destroy(&r);
    resolver_destroy(NULL);
}

TEST(resolve_namespace_packages)
{
    const char *roots[] = {"."};
    const char *files[] = {"ns/inner/deep/mod.py", "ns/inner/pkg/__init__.py", "ns/side.py"};
    resolver_t *r = make(roots, 1, NULL, 0, files, N(files));
    const char *names[] = {"ns",           "ns.inner", "ns.inner.deep", "ns.inner.deep.mod",
                           "ns.inner.pkg", "ns.side"};
    const uint32_t *subs;
    size_t n;

    REQUIRE(r != NULL);
    REQUIRE(resolver_n_modules(r) == N(names));
    for (uint32_t i = 0; i < N(names); i++)
        CHECK_STREQ(resolver_module_name(r, i), names[i]);
    /* namespace packages: packages without a file */
    CHECK(resolver_module_is_package(r, find(r, "ns")));
    CHECK_EQ_INT(resolver_module_file(r, find(r, "ns")), RES_NONE);
    CHECK(resolver_module_is_package(r, find(r, "ns.inner.deep")));
    CHECK_EQ_INT(resolver_module_file(r, find(r, "ns.inner.deep")), RES_NONE);
    CHECK_EQ_INT(resolver_module_file(r, find(r, "ns.inner.pkg")), 1);
    CHECK_EQ_INT(resolver_module_parent(r, find(r, "ns.inner.deep")), find(r, "ns.inner"));
    CHECK_EQ_INT(resolver_module_parent(r, find(r, "ns.inner")), find(r, "ns"));
    subs = resolver_submodules(r, find(r, "ns"), &n);
    REQUIRE(n == 2);
    CHECK_EQ_INT(subs[0], find(r, "ns.inner"));
    CHECK_EQ_INT(subs[1], find(r, "ns.side"));
    subs = resolver_submodules(r, find(r, "ns.inner"), &n);
    REQUIRE(n == 2);
    CHECK_EQ_INT(subs[0], find(r, "ns.inner.deep"));
    CHECK_EQ_INT(subs[1], find(r, "ns.inner.pkg"));
    CHECK_RES(r, 2, 0, "ns.inner.deep.mod", RES_PROJECT, "ns.inner.deep.mod");
    CHECK_RES(r, 2, 0, "ns.inner", RES_PROJECT, "ns.inner");
    CHECK_RES(r, 2, 0, "ns.inner.pkg.nope", RES_UNRESOLVED, "ns.inner.pkg.nope");
    CHECK_RES(r, 2, 0, "ns.nope", RES_UNRESOLVED, "ns.nope");
    /* relative from a module of a namespace package */
    CHECK_RES(r, 0, 1, "", RES_PROJECT, "ns.inner.deep");
    CHECK_RES(r, 0, 2, "pkg", RES_PROJECT, "ns.inner.pkg");
    CHECK_RES(r, 0, 3, "side", RES_PROJECT, "ns.side");
    CHECK_RES(r, 0, 4, "side", RES_UNRESOLVED, "....side");
    resolver_destroy(&r);
}

TEST(resolve_package_init_is_the_package)
{
    const char *roots[] = {"."};
    const char *files[] = {"pkg/__init__.py", "pkg/__main__.py", "mod.py"};
    resolver_t *r = make(roots, 1, NULL, 0, files, N(files));

    REQUIRE(r != NULL);
    /* `import pkg.__init__` and `from .__init__ import x` name pkg */
    CHECK_RES(r, 1, 0, "pkg.__init__", RES_PROJECT, "pkg");
    CHECK_RES(r, 1, 1, "__init__", RES_PROJECT, "pkg");
    CHECK_EQ_INT(find(r, "pkg.__init__"), find(r, "pkg"));
    /* only a package has an __init__ */
    CHECK_EQ_INT(find(r, "mod.__init__"), RES_NONE);
    resolver_destroy(&r);
}

TEST(resolve_stub_is_preferred)
{
    const char *roots[] = {"."};
    const char *files[] = {"m.py",          "m.pyi", "p/__init__.pyi", "p/__init__.py", "q.py",
                           "q/__init__.py", "s.pyi", "t.py",           "t/u.py"};
    resolver_t *r = make(roots, 1, NULL, 0, files, N(files));

    REQUIRE(r != NULL);
    /* m, p, q, s, t, t.u */
    CHECK_EQ_INT(resolver_n_modules(r), 6);
    CHECK_STREQ(file_mod(r, 0), "m");
    CHECK_STREQ(file_mod(r, 1), "m");
    CHECK_EQ_INT(resolver_module_file(r, find(r, "m")), 1);
    CHECK(!resolver_module_is_package(r, find(r, "m")));
    CHECK_STREQ(file_mod(r, 2), "p");
    CHECK_STREQ(file_mod(r, 3), "p");
    CHECK_EQ_INT(resolver_module_file(r, find(r, "p")), 2);
    CHECK(resolver_module_is_package(r, find(r, "p")));
    /* a regular package beats a module file of the same name */
    CHECK_STREQ(file_mod(r, 4), "q");
    CHECK_EQ_INT(resolver_module_file(r, find(r, "q")), 5);
    CHECK(resolver_module_is_package(r, find(r, "q")));
    /* a stub alone is the module */
    CHECK_EQ_INT(resolver_module_file(r, find(r, "s")), 6);
    /* a module file beats a namespace directory: not a package */
    CHECK_EQ_INT(resolver_module_file(r, find(r, "t")), 7);
    CHECK(!resolver_module_is_package(r, find(r, "t")));
    CHECK_EQ_INT(resolver_module_parent(r, find(r, "t.u")), find(r, "t"));
    /* relative import from the losing q.py: a plain top-level module */
    CHECK_RES(r, 4, 1, "x", RES_UNRESOLVED, ".x");
    CHECK_RES(r, 5, 1, "", RES_PROJECT, "q");
    resolver_destroy(&r);

    /* the same with the stub listed first */
    const char *files2[] = {"m.pyi", "m.py"};
    r = make(roots, 1, NULL, 0, files2, N(files2));
    REQUIRE(r != NULL);
    CHECK_EQ_INT(resolver_n_modules(r), 1);
    CHECK_EQ_INT(resolver_module_file(r, 0), 0);
    resolver_destroy(&r);
}

TEST(resolve_relative_imports)
{
    const char *roots[] = {"."};
    const char *files[] = {
        "a/__init__.py",     /* 0 */
        "a/b/__init__.py",   /* 1 */
        "a/b/c/__init__.py", /* 2 */
        "a/b/c/d.py",        /* 3 */
        "a/x.py",            /* 4 */
        "a/b/y.py",          /* 5 */
        "top.py",            /* 6 */
    };
    resolver_t *r = make(roots, 1, NULL, 0, files, N(files));

    REQUIRE(r != NULL);
    /* from a plain module: level 1 is its package */
    CHECK_RES(r, 3, 1, "", RES_PROJECT, "a.b.c");
    CHECK_RES(r, 3, 1, "d", RES_PROJECT, "a.b.c.d");
    CHECK_RES(r, 3, 2, "y", RES_PROJECT, "a.b.y");
    CHECK_RES(r, 3, 2, "", RES_PROJECT, "a.b");
    CHECK_RES(r, 3, 3, "x", RES_PROJECT, "a.x");
    CHECK_RES(r, 3, 3, "b.c", RES_PROJECT, "a.b.c");
    CHECK_RES(r, 3, 4, "z", RES_UNRESOLVED, "....z");
    CHECK_RES(r, 3, 1, "nope", RES_UNRESOLVED, "a.b.c.nope");
    CHECK_RES(r, 3, 3, "nope.deeper", RES_UNRESOLVED, "a.nope.deeper");
    /* from a package's __init__: level 1 is the package itself */
    CHECK_RES(r, 2, 1, "d", RES_PROJECT, "a.b.c.d");
    CHECK_RES(r, 2, 1, "", RES_PROJECT, "a.b.c");
    CHECK_RES(r, 2, 2, "", RES_PROJECT, "a.b");
    CHECK_RES(r, 2, 2, "y", RES_PROJECT, "a.b.y");
    CHECK_RES(r, 2, 3, "x", RES_PROJECT, "a.x");
    CHECK_RES(r, 2, 4, "x", RES_UNRESOLVED, "....x");
    CHECK_RES(r, 0, 1, "x", RES_PROJECT, "a.x");
    CHECK_RES(r, 0, 2, "x", RES_UNRESOLVED, "..x");
    CHECK_RES(r, 0, 2, "", RES_UNRESOLVED, "..");
    /* depth 1 module */
    CHECK_RES(r, 4, 1, "b.y", RES_PROJECT, "a.b.y");
    CHECK_RES(r, 4, 2, "", RES_UNRESOLVED, "..");
    /* a top-level module has no package */
    CHECK_RES(r, 6, 1, "a", RES_UNRESOLVED, ".a");
    CHECK_RES(r, 6, 1, "", RES_UNRESOLVED, ".");
    /* a huge level never loops */
    {
        res_kind_t kind = RES_PROJECT;
        uint32_t id = 0;
        char abs[16];
        CHECK_EQ_INT(resolver_resolve(r, 3, UINT32_MAX, "z", 1, &kind, abs, sizeof abs, &id),
                     ST_ELIMIT);
        CHECK_EQ_INT(kind, RES_PROJECT);
        CHECK_EQ_INT(id, 0);
    }
    resolver_destroy(&r);
}

TEST(resolve_absolute_verdicts)
{
    const char *roots[] = {"."};
    const char *files[] = {"pkg/__init__.py", "pkg/a.py", "ns/m.py"};
    resolver_t *r = make(roots, 1, NULL, 0, files, N(files));

    REQUIRE(r != NULL);
    CHECK_RES(r, 1, 0, "pkg", RES_PROJECT, "pkg");
    CHECK_RES(r, 1, 0, "pkg.a", RES_PROJECT, "pkg.a");
    CHECK_RES(r, 1, 0, "pkg.missing", RES_UNRESOLVED, "pkg.missing");
    CHECK_RES(r, 1, 0, "pkg.a.b", RES_UNRESOLVED, "pkg.a.b"); /* a is not a package */
    CHECK_RES(r, 1, 0, "ns.other", RES_UNRESOLVED, "ns.other");
    CHECK_RES(r, 1, 0, "os", RES_STDLIB, "os");
    CHECK_RES(r, 1, 0, "os.path", RES_STDLIB, "os.path");
    CHECK_RES(r, 1, 0, "xml.etree.ElementTree", RES_STDLIB, "xml.etree.ElementTree");
    CHECK_RES(r, 1, 0, "_io", RES_STDLIB, "_io");
    CHECK_RES(r, 1, 0, "sys", RES_STDLIB, "sys");
    CHECK_RES(r, 1, 0, "numpy", RES_EXTERNAL, "numpy");
    CHECK_RES(r, 1, 0, "numpy.linalg", RES_EXTERNAL, "numpy.linalg");
    CHECK_RES(r, 1, 0, "pkgx", RES_EXTERNAL, "pkgx");
    CHECK_RES(r, 1, 0, "__future__", RES_FUTURE, "__future__");
    CHECK_RES(r, 1, 0, "", RES_UNRESOLVED, "");
    CHECK_RES(r, 1, 0, ".odd", RES_UNRESOLVED, ".odd");
    resolver_destroy(&r);
}

TEST(resolve_project_shadows_stdlib)
{
    const char *roots[] = {"/usr/lib/python3.11/"};
    const char *files[] = {
        "/usr/lib/python3.11/os.py",            /* 0 */
        "/usr/lib/python3.11/json/__init__.py", /* 1 */
        "/usr/lib/python3.11/json/decoder.py",  /* 2 */
        "/usr/lib/python3.11/__future__.py",    /* 3 */
        "/usr/lib/python3.11/email/mine.py",    /* 4: a namespace "email" */
    };
    resolver_t *r = make(roots, 1, NULL, 0, files, N(files));

    REQUIRE(r != NULL);
    CHECK_STREQ(resolver_root(r, 0), "/usr/lib/python3.11");
    CHECK_STREQ(file_mod(r, 0), "os");
    CHECK_STREQ(file_mod(r, 2), "json.decoder");
    CHECK_RES(r, 2, 0, "os", RES_PROJECT, "os");
    CHECK_RES(r, 2, 0, "json", RES_PROJECT, "json");
    CHECK_RES(r, 2, 0, "json.decoder", RES_PROJECT, "json.decoder");
    CHECK_RES(r, 2, 1, "decoder", RES_PROJECT, "json.decoder");
    /* a regular package that shadows: its missing submodule is missing */
    CHECK_RES(r, 2, 0, "json.missing", RES_UNRESOLVED, "json.missing");
    /* below a plain module or a namespace package the real one can serve */
    CHECK_RES(r, 2, 0, "os.path", RES_STDLIB, "os.path");
    CHECK_RES(r, 2, 0, "email.mime", RES_STDLIB, "email.mime");
    CHECK_RES(r, 2, 0, "email.mine", RES_PROJECT, "email.mine");
    /* built-ins that have no file are still the standard library */
    CHECK_RES(r, 2, 0, "_io", RES_STDLIB, "_io");
    CHECK_RES(r, 2, 0, "sys", RES_STDLIB, "sys");
    /* a future statement stays one even when __future__.py is in the project */
    CHECK_RES(r, 3, 0, "__future__", RES_FUTURE, "__future__");
    resolver_destroy(&r);
}

TEST(resolve_src_layout)
{
    const char *args[] = {"proj"};
    const char *files[] = {"proj/src/pkg/__init__.py", "proj/src/pkg/m.py", "proj/tests/test_m.py"};
    resolver_t *r = make(NULL, 0, args, 1, files, N(files));

    REQUIRE(r != NULL);
    REQUIRE(resolver_n_roots(r) == 2);
    CHECK_STREQ(resolver_root(r, 0), "proj/src");
    CHECK_STREQ(resolver_root(r, 1), "proj");
    CHECK_STREQ(file_mod(r, 0), "pkg");
    CHECK_STREQ(file_mod(r, 1), "pkg.m");
    CHECK_STREQ(file_mod(r, 2), "tests.test_m");
    CHECK_RES(r, 2, 0, "pkg.m", RES_PROJECT, "pkg.m");
    resolver_destroy(&r);

    /* a top-level .py: not a src layout */
    const char *files2[] = {"proj/setup.py", "proj/src/pkg/__init__.py", "proj/src/pkg/m.py"};
    r = make(NULL, 0, args, 1, files2, N(files2));
    REQUIRE(r != NULL);
    CHECK_EQ_INT(resolver_n_roots(r), 1);
    CHECK_STREQ(resolver_root(r, 0), "proj");
    CHECK_STREQ(file_mod(r, 2), "src.pkg.m");
    resolver_destroy(&r);

    /* src that is a package: not a src layout */
    const char *files3[] = {"proj/src/__init__.py", "proj/src/m.py"};
    r = make(NULL, 0, args, 1, files3, N(files3));
    REQUIRE(r != NULL);
    CHECK_EQ_INT(resolver_n_roots(r), 1);
    CHECK_STREQ(file_mod(r, 1), "src.m");
    resolver_destroy(&r);

    /* src layout in the current directory, given as "." */
    const char *args4[] = {"./"};
    const char *files4[] = {"./src/pkg/__init__.py", "./src/pkg/m.py", "./tests/t.py"};
    r = make(NULL, 0, args4, 1, files4, N(files4));
    REQUIRE(r != NULL);
    REQUIRE(resolver_n_roots(r) == 2);
    CHECK_STREQ(resolver_root(r, 0), "src");
    CHECK_STREQ(resolver_root(r, 1), ".");
    CHECK_STREQ(file_mod(r, 1), "pkg.m");
    CHECK_STREQ(file_mod(r, 2), "tests.t");
    resolver_destroy(&r);
}

TEST(resolve_root_detection)
{
    const char *files[] = {"proj/pkg/__init__.py", "proj/pkg/sub/__init__.py", "proj/pkg/sub/m.py",
                           "proj/tool.py"};
    /* a file inside a package: its nearest non-package ancestor */
    const char *args1[] = {"proj/pkg/sub/m.py"};
    resolver_t *r = make(NULL, 0, args1, 1, files + 0, 3);

    REQUIRE(r != NULL);
    REQUIRE(resolver_n_roots(r) == 1);
    CHECK_STREQ(resolver_root(r, 0), "proj");
    CHECK_STREQ(file_mod(r, 2), "pkg.sub.m");
    CHECK_RES(r, 2, 2, "", RES_PROJECT, "pkg");
    resolver_destroy(&r);

    /* a package directory: the same */
    const char *args2[] = {"proj/pkg/sub/"};
    r = make(NULL, 0, args2, 1, files + 1, 2);
    REQUIRE(r != NULL);
    CHECK_STREQ(resolver_root(r, 0), "proj/pkg");
    CHECK_STREQ(file_mod(r, 1), "sub.m"); /* proj/pkg/__init__.py is not listed */
    resolver_destroy(&r);
    const char *args3[] = {"proj/pkg"};
    r = make(NULL, 0, args3, 1, files, 3);
    REQUIRE(r != NULL);
    CHECK_STREQ(resolver_root(r, 0), "proj");
    resolver_destroy(&r);

    /* a plain directory is a root; two arguments, one root each, deduplicated */
    const char *args4[] = {"proj", "proj/tool.py", "proj/"};
    r = make(NULL, 0, args4, 3, files, N(files));
    REQUIRE(r != NULL);
    CHECK_EQ_INT(resolver_n_roots(r), 1);
    CHECK_STREQ(resolver_root(r, 0), "proj");
    CHECK_STREQ(file_mod(r, 3), "tool");
    resolver_destroy(&r);

    /* a bare file name: the current directory */
    const char *args5[] = {"m.py"};
    const char *files5[] = {"m.py"};
    r = make(NULL, 0, args5, 1, files5, 1);
    REQUIRE(r != NULL);
    CHECK_STREQ(resolver_root(r, 0), ".");
    CHECK_STREQ(file_mod(r, 0), "m");
    resolver_destroy(&r);

    /* absolute paths, and a package that reaches "/" */
    const char *args6[] = {"/abs/proj/pkg/m.py"};
    const char *files6[] = {"/abs/proj/pkg/__init__.py", "/abs/proj/pkg/m.py"};
    r = make(NULL, 0, args6, 1, files6, 2);
    REQUIRE(r != NULL);
    CHECK_STREQ(resolver_root(r, 0), "/abs/proj");
    CHECK_STREQ(file_mod(r, 1), "pkg.m");
    resolver_destroy(&r);
    const char *files7[] = {"/__init__.py", "/pkg/__init__.py", "/pkg/m.py"};
    const char *args7[] = {"/pkg/m.py"};
    r = make(NULL, 0, args7, 1, files7, 3);
    REQUIRE(r != NULL);
    CHECK_STREQ(resolver_root(r, 0), "/");
    CHECK_STREQ(file_mod(r, 2), "pkg.m");
    CHECK_STREQ(file_mod(r, 0), "__init__");
    resolver_destroy(&r);

    /* a missing argument that looks like a file is taken as one */
    const char *args8[] = {"gone/x.py", "dir.py"};
    const char *files8[] = {"dir.py/a.py"};
    r = make(NULL, 0, args8, 2, files8, 1);
    REQUIRE(r != NULL);
    REQUIRE(resolver_n_roots(r) == 2);
    CHECK_STREQ(resolver_root(r, 0), "gone");
    CHECK_STREQ(resolver_root(r, 1), "dir.py");
    CHECK_STREQ(file_mod(r, 0), "a");
    resolver_destroy(&r);
}

TEST(resolve_roots_order_and_outside_files)
{
    const char *roots[] = {"r1", "r2"};
    const char *files[] = {"r2/m.py",    "r2/other.py",           "r1/m.py",
                           "tests/t.py", "tools/pkg/__init__.py", "tools/pkg/x.py",
                           "r2/pkg/y.py"};
    resolver_t *r = make(roots, 2, NULL, 0, files, N(files));

    REQUIRE(r != NULL);
    /* the first root wins; the other file maps to the same module */
    CHECK_STREQ(file_mod(r, 0), "m");
    CHECK_STREQ(file_mod(r, 2), "m");
    CHECK_EQ_INT(resolver_module_file(r, find(r, "m")), 2);
    CHECK_STREQ(file_mod(r, 1), "other");
    /* files outside every root: their own roots, after the given ones */
    CHECK_STREQ(file_mod(r, 3), "t");
    CHECK_STREQ(file_mod(r, 5), "pkg.x");
    CHECK_STREQ(file_mod(r, 6), "pkg.y");
    /* pkg is a regular package from tools/ (a root after r2) */
    CHECK_EQ_INT(resolver_module_file(r, find(r, "pkg")), 4);
    REQUIRE(resolver_n_roots(r) == 4);
    CHECK_STREQ(resolver_root(r, 0), "r1");
    CHECK_STREQ(resolver_root(r, 1), "r2");
    CHECK_STREQ(resolver_root(r, 2), "tests");
    CHECK_STREQ(resolver_root(r, 3), "tools");
    resolver_destroy(&r);

    /* given roots: the path arguments do not add any */
    const char *args[] = {"elsewhere"};
    const char *files2[] = {"r1/a.py"};
    r = make(roots, 2, args, 1, files2, 1);
    REQUIRE(r != NULL);
    CHECK_EQ_INT(resolver_n_roots(r), 2);
    resolver_destroy(&r);

    /* no roots and no arguments: every file has its own */
    const char *files3[] = {"x/w.py", "x/y/z.py"};
    r = make(NULL, 0, NULL, 0, files3, 2);
    REQUIRE(r != NULL);
    CHECK_STREQ(file_mod(r, 0), "w");
    CHECK_STREQ(file_mod(r, 1), "z");
    resolver_destroy(&r);
}

TEST(resolve_ids_are_deterministic)
{
    const char *roots[] = {"."};
    const char *fwd[] = {"b/__init__.py", "b/z.py", "a/c/d.py", "a.py",  "c.pyi",
                         "b/a.py",        "x/y.py", "x.y/w.py", "x.y.py"};
    const char *rev[N(fwd)];
    resolver_t *r1, *r2;

    for (size_t i = 0; i < N(fwd); i++)
        rev[i] = fwd[N(fwd) - 1 - i];
    r1 = make(roots, 1, NULL, 0, fwd, N(fwd));
    r2 = make(roots, 1, NULL, 0, rev, N(rev));
    REQUIRE(r1 != NULL && r2 != NULL);
    REQUIRE(resolver_n_modules(r1) == resolver_n_modules(r2));
    for (uint32_t i = 0; i < resolver_n_modules(r1); i++) {
        CHECK_STREQ(resolver_module_name(r1, i), resolver_module_name(r2, i));
        CHECK_EQ_INT(resolver_module_parent(r1, i), resolver_module_parent(r2, i));
        CHECK_EQ_INT(resolver_module_is_package(r1, i), resolver_module_is_package(r2, i));
        if (i > 0)
            CHECK(strcmp(resolver_module_name(r1, i - 1), resolver_module_name(r1, i)) < 0);
    }
    for (size_t i = 0; i < N(fwd); i++)
        CHECK_EQ_INT(resolver_file_module(r1, i), resolver_file_module(r2, N(fwd) - 1 - i));
    /* odd names: x.y is reached from the root and from x; x is its parent */
    CHECK_EQ_INT(resolver_module_parent(r1, find(r1, "x.y")), find(r1, "x"));
    CHECK_EQ_INT(resolver_module_parent(r1, find(r1, "x.y.w")), find(r1, "x.y"));
    resolver_destroy(&r1);
    resolver_destroy(&r2);
}

TEST(resolve_odd_inputs)
{
    const char *roots[] = {"./"};
    resolver_t *r = make(roots, 1, NULL, 0, NULL, 0);

    /* an empty project */
    REQUIRE(r != NULL);
    CHECK_EQ_INT(resolver_n_modules(r), 0);
    CHECK_EQ_INT(find(r, "x"), RES_NONE);
    CHECK_EQ_INT(resolver_find(r, NULL, 0), RES_NONE);
    CHECK_STREQ(resolver_root(r, 0), ".");
    resolver_destroy(&r);

    /* ./ and // in paths and roots, a trailing slash on a root */
    const char *roots2[] = {".//src/"};
    const char *files2[] = {
        "./src//pkg/__init__.py", "src/./pkg/a.py", "src/__init__.py", "src/a/b/c-d.py",
        "src/a/b.c.py",           "src/a/.py",      "src/tool",        "src/notes.txt"};
    r = make(roots2, 1, NULL, 0, files2, N(files2));
    REQUIRE(r != NULL);
    CHECK_STREQ(resolver_root(r, 0), "src");
    CHECK_STREQ(file_mod(r, 0), "pkg");
    CHECK_STREQ(file_mod(r, 1), "pkg.a");
    CHECK(resolver_module_is_package(r, find(r, "pkg")));
    /* __init__.py at the root: a plain module called __init__ */
    CHECK_STREQ(file_mod(r, 2), "__init__");
    CHECK(!resolver_module_is_package(r, find(r, "__init__")));
    CHECK_RES(r, 2, 1, "x", RES_UNRESOLVED, ".x");
    /* names that are not identifiers are still modules */
    CHECK_STREQ(file_mod(r, 3), "a.b.c-d");
    CHECK_EQ_INT(resolver_module_parent(r, find(r, "a.b.c-d")), find(r, "a.b"));
    CHECK_STREQ(file_mod(r, 4), "a.b.c"); /* its parent is the directory a */
    CHECK_EQ_INT(resolver_module_parent(r, find(r, "a.b.c")), find(r, "a"));
    CHECK_STREQ(file_mod(r, 5), "a..py");
    CHECK_STREQ(file_mod(r, 6), "tool");
    CHECK_STREQ(file_mod(r, 7), "notes");
    CHECK_RES(r, 3, 1, "c-d", RES_PROJECT, "a.b.c-d");
    resolver_destroy(&r);

    /* paths with nothing below a root never crash and each gets a module */
    const char *files3[] = {"", ".", "..", "/", "a/..", "../up.py", "//x.py"};
    r = make(NULL, 0, NULL, 0, files3, N(files3));
    REQUIRE(r != NULL);
    for (size_t i = 0; i < N(files3); i++) {
        uint32_t m = resolver_file_module(r, i);
        CHECK(m != RES_NONE);
        CHECK(resolver_module_name(r, m) != NULL && resolver_module_name(r, m)[0] != '\0');
    }
    CHECK_STREQ(file_mod(r, 5), "up");
    CHECK_STREQ(file_mod(r, 6), "x");
    for (size_t i = 0; i < N(files3); i++) {
        verdict_t v = res(r, i, 1, "q");
        CHECK(v.kind == RES_UNRESOLVED || v.kind == RES_PROJECT);
    }
    resolver_destroy(&r);
}

TEST(resolve_errors)
{
    const char *roots[] = {"."};
    const char *files[] = {"pkg/__init__.py", "pkg/mod.py"};
    const char *bad_roots[] = {"a", ""};
    const char *null_file[] = {"a.py", NULL};
    resolver_t *r = (resolver_t *)&r, *keep = r;
    st_err_t err = {0};
    res_kind_t kind = RES_EXTERNAL;
    uint32_t id = 7;
    char abs[8] = "same";

    CHECK_EQ_INT(resolver_new(bad_roots, 2, NULL, 0, files, 2, &r, &err), ST_EINVAL);
    CHECK_EQ_INT(err.code, ST_EINVAL);
    CHECK(strstr(err.msg, "root 1") != NULL);
    CHECK(r == keep);
    CHECK_EQ_INT(resolver_new(bad_roots, 2, NULL, 0, files, 2, &r, NULL), ST_EINVAL);
    CHECK_EQ_INT(resolver_new(roots, 1, NULL, 0, null_file, 2, &r, &err), ST_EINVAL);
    CHECK_EQ_INT(resolver_new(roots, 1, NULL, 0, NULL, 2, &r, &err), ST_EINVAL);
    CHECK_EQ_INT(resolver_new(roots, 1, NULL, 0, files, 2, NULL, &err), ST_EINVAL);
    CHECK(r == keep);

    r = make(roots, 1, NULL, 0, files, 2);
    REQUIRE(r != NULL);
    /* a name that does not fit: ST_ELIMIT, nothing written */
    CHECK_EQ_INT(resolver_resolve(r, 1, 0, "pkg.mod", 7, &kind, abs, 7, &id), ST_ELIMIT);
    CHECK_EQ_INT(resolver_resolve(r, 1, 1, "mod", 3, &kind, abs, 7, &id), ST_ELIMIT);
    CHECK_EQ_INT(resolver_resolve(r, 1, 3, "mod", 3, &kind, abs, 6, &id), ST_ELIMIT);
    CHECK_EQ_INT(resolver_resolve(r, 1, 0, "", 0, &kind, abs, 0, &id), ST_ELIMIT);
    CHECK_STREQ(abs, "same");
    CHECK_EQ_INT(kind, RES_EXTERNAL);
    CHECK_EQ_INT(id, 7);
    /* exactly fitting */
    CHECK_EQ_INT(resolver_resolve(r, 1, 0, "pkg.mod", 7, &kind, abs, 8, &id), ST_OK);
    CHECK_STREQ(abs, "pkg.mod");
    CHECK_EQ_INT(kind, RES_PROJECT);
    CHECK_EQ_INT(resolver_resolve(r, 1, 3, "mod", 3, &kind, abs, 7, &id), ST_OK);
    CHECK_STREQ(abs, "...mod");
    /* bad arguments */
    CHECK_EQ_INT(resolver_resolve(r, 2, 0, "x", 1, &kind, abs, sizeof abs, &id), ST_EINVAL);
    CHECK_EQ_INT(resolver_resolve(r, 0, 0, NULL, 1, &kind, abs, sizeof abs, &id), ST_EINVAL);
    CHECK_EQ_INT(resolver_resolve(r, 0, 0, "x", 1, NULL, abs, sizeof abs, &id), ST_EINVAL);
    CHECK_EQ_INT(resolver_resolve(r, 0, 0, "x", 1, &kind, NULL, 8, &id), ST_EINVAL);
    CHECK_EQ_INT(resolver_resolve(r, 0, 0, "x", 1, &kind, abs, sizeof abs, NULL), ST_EINVAL);
    CHECK_EQ_INT(resolver_resolve(NULL, 0, 0, "x", 1, &kind, abs, sizeof abs, &id), ST_EINVAL);
    resolver_destroy(&r);
    CHECK_EQ_INT(resolver_n_roots(NULL), 0);
    CHECK_EQ_INT(resolver_n_modules(NULL), 0);
}

TEST(resolve_out_of_memory)
{
    const char *args[] = {"proj"};
    const char *files[] = {"proj/src/pkg/__init__.py", "proj/src/pkg/sub/m.py", "proj/tests/t.py",
                           "elsewhere/x/y.py"};
    int failures = 0;
    bool built = false;

    for (long n = 0; n < 10000 && !built; n++) {
        resolver_t *r = (resolver_t *)&failures, *keep = r;
        st_err_t err = {0};
        st_rc_t rc;
        alloc_fail_after(n);
        rc = resolver_new(NULL, 0, args, 1, files, N(files), &r, &err);
        bool armed = alloc_fail_armed();
        alloc_fail_after(-1);
        if (rc == ST_OK) {
            CHECK(armed); /* the hook never fired: every allocation was tried */
            CHECK_STREQ(file_mod(r, 1), "pkg.sub.m");
            resolver_destroy(&r);
            built = true;
            continue;
        }
        CHECK_EQ_INT(rc, ST_ENOMEM);
        CHECK_EQ_INT(err.code, ST_ENOMEM);
        CHECK(r == keep);
        failures++;
    }
    CHECK(built);
    CHECK(failures > 5);
}

TEST(resolve_stdlib_names)
{
    size_t n = stdlib_names_count();

    CHECK(n > 300);
    for (size_t i = 1; i < n; i++)
        CHECK(strcmp(stdlib_names_at(i - 1), stdlib_names_at(i)) < 0);
    for (size_t i = 0; i < n; i++) {
        const char *s = stdlib_names_at(i);
        CHECK(strchr(s, '.') == NULL);
        CHECK(resolver_is_stdlib(s, strlen(s)));
    }
    CHECK(stdlib_names_at(n) == NULL);
    /* from every supported version */
    const char *yes[] = {
        "os",        "sys",       "_io",         "builtins",        "__future__",    "tomllib",
        "asyncore",  "distutils", "imp",         "smtpd",           "binhex",        "formatter",
        "parser",    "symbol",    "_bootlocale", "dummy_threading", "_interpreters", "_pyrepl",
        "_colorize", "cProfile",  "zoneinfo",    "graphlib",        "winreg",        "zlib"};
    for (size_t i = 0; i < N(yes); i++)
        CHECK(resolver_is_stdlib(yes[i], strlen(yes[i])));
    const char *no[] = {"numpy",     "os.path", "o", "oss",      "test_support",
                        "_testcapi", "zzz",     "",  "__future", "Os"};
    for (size_t i = 0; i < N(no); i++)
        CHECK(!resolver_is_stdlib(no[i], strlen(no[i])));
    CHECK(resolver_is_stdlib("os.path", 2)); /* len counts, not the NUL */
    CHECK(!resolver_is_stdlib(NULL, 0));
}

/* Library files come with the names their finder gave: packages made on
 * the way, relative imports inside them, and a project file of the same
 * name stays the module's. */
TEST(resolve_named_library_files)
{
    const char *roots[] = {"proj"};
    const char *files[] = {"proj/app.py",
                           "proj/json.py",
                           "/ts/stdlib/os/__init__.pyi",
                           "/ts/stdlib/os/path.pyi",
                           "/site/yaml-stubs/__init__.pyi",
                           "/ts/stdlib/json/__init__.pyi"};
    const char *names[] = {NULL, NULL, "os", "os.path", "yaml", "json"};
    resolver_t *r = NULL;
    st_err_t err = {0};

    CHECK_EQ_INT(resolver_new_named(roots, 1, NULL, 0, files, names, false, N(files), &r, &err),
                 ST_OK);
    if (r == NULL)
        return;
    CHECK_STREQ(file_mod(r, 2), "os");
    CHECK_STREQ(file_mod(r, 3), "os.path");
    CHECK_STREQ(file_mod(r, 4), "yaml");
    CHECK(resolver_module_is_package(r, find(r, "os")));
    CHECK(!resolver_module_is_package(r, find(r, "os.path")));
    CHECK_EQ_INT(resolver_module_file(r, find(r, "json")), 1); /* the project's */
    CHECK_EQ_INT(resolver_module_parent(r, find(r, "os.path")), find(r, "os"));
    CHECK_RES(r, 0, 0, "os.path", RES_PROJECT, "os.path");
    CHECK_RES(r, 3, 1, "", RES_PROJECT, "os"); /* from . import x, in os/path.pyi */
    CHECK_RES(r, 2, 1, "path", RES_PROJECT, "os.path");
    resolver_destroy(&r);
    const char *bad[] = {NULL, NULL, "", "os.path", "yaml", "json"};
    CHECK_EQ_INT(resolver_new_named(roots, 1, NULL, 0, files, bad, false, N(files), &r, &err),
                 ST_EINVAL);
    /* names first: the stub beats the project's source of the same name */
    REQUIRE(resolver_new_named(roots, 1, NULL, 0, files, names, true, N(files), &r, &err) == ST_OK);
    CHECK_EQ_INT(resolver_module_file(r, find(r, "json")), 5);
    CHECK_STREQ(file_mod(r, 1), "json");
    resolver_destroy(&r);
    CHECK(r == NULL);
}
