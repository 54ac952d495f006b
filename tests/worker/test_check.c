/* test_check.c - the check job: interfaces of a component and the checks
 * that need more than one file (E0401, E0611, E1101, E1120/E1121/E1123,
 * R0401, star imports settled), from real scans of small sources plus
 * resolutions and dependency interfaces written here; and its refusal of
 * malformed input.
 *
 * Documents are written in a small text notation (JSON-like: [..], {..},
 * "str", integers, nil, true, false) turned into msgpack, so that the
 * expectations read as the wire format does. */
#include "test.h"

#include "common/arena.h"
#include "common/buf.h"
#include "common/mpbuf.h"
#include "common/mpread.h"
#include "worker/python/xmod.h"
#include "worker/python/scan.h"

#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- text <-> msgpack ------------------------------------------------------- */

static void skip_ws(const char **p)
{
    while (**p == ' ' || **p == '\n' || **p == ',' || **p == ':')
        (*p)++;
}

/* Counts the values of a [..] or {..} starting after its opening bracket. */
static uint32_t count_items(const char *p, char close)
{
    uint32_t n = 0;
    int depth = 0;
    bool in_str = false;

    for (; *p; p++) {
        if (in_str) {
            if (*p == '\\')
                p++;
            else if (*p == '"')
                in_str = false;
            continue;
        }
        if (*p == '"')
            in_str = true;
        if (depth == 0 && *p == close)
            break;
        if (*p == '[' || *p == '{')
            depth++;
        else if (*p == ']' || *p == '}')
            depth--;
        if (depth == 0 && (*p == ',' || *p == ':'))
            n++;
    }
    return n;
}

/* Packs one value of the notation; returns false on a notation error. */
static bool pack_text(msgpack_packer *pk, const char **p)
{
    skip_ws(p);
    if (**p == '[' || **p == '{') {
        char close = **p == '[' ? ']' : '}';
        const char *q = *p + 1;
        while (*q == ' ' || *q == '\n')
            q++;
        uint32_t n = *q == close ? 0 : count_items(*p + 1, close) + 1;
        if (close == ']')
            msgpack_pack_array(pk, n);
        else
            msgpack_pack_map(pk, n / 2);
        (*p)++;
        for (uint32_t i = 0; i < n; i++)
            if (!pack_text(pk, p))
                return false;
        skip_ws(p);
        if (**p != close)
            return false;
        (*p)++;
        return true;
    }
    if (**p == '"') {
        char tmp[4096];
        size_t n = 0;
        for ((*p)++; **p && **p != '"' && n < sizeof tmp; (*p)++) {
            if (**p == '\\')
                (*p)++;
            tmp[n++] = **p;
        }
        if (**p != '"')
            return false;
        (*p)++;
        msgpack_pack_str(pk, n);
        msgpack_pack_str_body(pk, tmp, n);
        return true;
    }
    if (strncmp(*p, "nil", 3) == 0) {
        *p += 3;
        msgpack_pack_nil(pk);
        return true;
    }
    if (strncmp(*p, "true", 4) == 0) {
        *p += 4;
        msgpack_pack_true(pk);
        return true;
    }
    if (strncmp(*p, "false", 5) == 0) {
        *p += 5;
        msgpack_pack_false(pk);
        return true;
    }
    char *end;
    long long v = strtoll(*p, &end, 10);
    if (end == *p)
        return false;
    *p = end;
    if (v < 0)
        msgpack_pack_int64(pk, v);
    else
        msgpack_pack_uint64(pk, (uint64_t)v);
    return true;
}

/* msgpack to the notation (compact), for assertions. */
static bool value_text(mpread_t *r, buf_t *out, int depth)
{
    const char *s;
    uint32_t n;
    int64_t i;
    bool b;

    if (depth > 32)
        return false;
    if (mpread_nil(r))
        return buf_append(out, "nil", 3) == ST_OK;
    if (mpread_bool(r, &b) == ST_OK)
        return buf_printf(out, "%s", b ? "true" : "false") == ST_OK;
    if (mpread_int(r, &i) == ST_OK)
        return buf_printf(out, "%lld", (long long)i) == ST_OK;
    if (mpread_str(r, &s, &n) == ST_OK)
        return buf_printf(out, "\"%.*s\"", (int)n, s) == ST_OK;
    if (mpread_array(r, &n) == ST_OK) {
        buf_append_byte(out, '[');
        for (uint32_t k = 0; k < n; k++) {
            if (k)
                buf_append_byte(out, ',');
            if (!value_text(r, out, depth + 1))
                return false;
        }
        return buf_append_byte(out, ']') == ST_OK;
    }
    if (mpread_map(r, &n) == ST_OK) {
        buf_append_byte(out, '{');
        for (uint32_t k = 0; k < n; k++) {
            if (k)
                buf_append_byte(out, ',');
            if (!value_text(r, out, depth + 1))
                return false;
            buf_append_byte(out, ':');
            if (!value_text(r, out, depth + 1))
                return false;
        }
        return buf_append_byte(out, '}') == ST_OK;
    }
    return false;
}

static char *span_text(span_t s)
{
    buf_t b;
    mpread_t r;
    buf_init(&b);
    mpread_init(&r, s.ptr, s.len);
    if (!value_text(&r, &b, 0) || r.pos != s.len) {
        buf_free(&b);
        return strdup("<bad msgpack>");
    }
    buf_append_byte(&b, 0);
    return (char *)b.data; /* caller frees */
}

/* ---- building inputs ------------------------------------------------------------- */

typedef struct {
    const char *name; /* dotted module name */
    const char *path; /* decides the scan kind */
    const char *src;  /* Python source scanned for the summary */
    const char *sum;  /* {key: value} replacing or adding summary keys, or NULL */
    const char *res;  /* one "K abs" per import, separated by '|' */
    const char *subs; /* [..] or NULL */
    bool not_export;
    bool pkg;
    bool replaced; /* another module replaces it in sys.modules */
    /* the new summary's flags, appended to the scanned tuples of "defs" and
     * "classes": "classes:F=1;defs:twice=1" (names not listed get 0), or
     * NULL to keep the older tuples */
    const char *flags;
} tmod_t;

/* The flag spec gives for (key, name), 0 when absent. */
static unsigned spec_flag(const char *spec, const char *key, const char *name, uint32_t nl)
{
    size_t kl = strlen(key);
    for (const char *p = spec; p != NULL && *p; p = strchr(p, ';') ? strchr(p, ';') + 1 : NULL) {
        if (strncmp(p, key, kl) != 0 || p[kl] != ':')
            continue;
        for (const char *q = p + kl + 1; *q && *q != ';';) {
            const char *eq = strchr(q, '=');
            if (eq == NULL)
                break;
            if ((size_t)(eq - q) == nl && memcmp(q, name, nl) == 0)
                return (unsigned)atoi(eq + 1);
            q = eq + 1;
            while (*q && *q != ',' && *q != ';')
                q++;
            if (*q == ',')
                q++;
        }
    }
    return 0;
}

/* Copies an array of tuples, each with one more element, its flags, when
 * it has none (4 elements); a tuple the scan gave flags is copied as is. */
static bool extend_tuples(msgpack_packer *pk, mpread_t *r, const char *spec, const char *key)
{
    uint32_t n, tn, nl;
    const char *name;

    if (mpread_array(r, &n) != ST_OK)
        return false;
    msgpack_pack_array(pk, n);
    for (uint32_t i = 0; i < n; i++) {
        if (mpread_array(r, &tn) != ST_OK)
            return false;
        msgpack_pack_array(pk, tn < 5 ? tn + 1 : tn);
        size_t start = r->pos;
        if (mpread_str(r, &name, &nl) != ST_OK)
            return false;
        r->pos = start;
        for (uint32_t k = 0; k < tn; k++) {
            size_t at = r->pos;
            if (mpread_skip(r) != ST_OK)
                return false;
            msgpack_pack_str_body(pk, (const char *)r->p + at, r->pos - at);
        }
        if (tn < 5)
            msgpack_pack_uint32(pk, spec_flag(spec, key, name, nl));
    }
    return true;
}

/* The "summary" value of a scan of src, packed into pk with overrides. */
static bool pack_summary(msgpack_packer *pk, const tmod_t *m)
{
    scanner_t *s = scanner_new();
    arena_t *a = arena_new(0);
    buf_t over;
    span_t res;
    mpread_t r, o;
    uint32_t n, no = 0;
    bool ok = false;

    buf_init(&over);
    if (s == NULL || a == NULL)
        goto done;
    if (m->sum != NULL) {
        msgpack_packer opk;
        const char *p = m->sum;
        mpbuf_packer(&opk, &over);
        if (!pack_text(&opk, &p))
            goto done;
        mpread_init(&o, over.data, over.len);
        if (mpread_map(&o, &no) != ST_OK)
            goto done;
    }
    if (scanner_run(s, NULL, scan_kind_of_path(m->path), (const uint8_t *)m->src, strlen(m->src), a,
                    &res, NULL) != ST_OK)
        goto done;
    mpread_init(&r, res.ptr, res.len);
    if (mpread_map(&r, &n) != ST_OK)
        goto done;
    for (uint32_t k = 0; k < n; k++) {
        if (mpread_key(&r, "summary"))
            break;
        if (mpread_skip(&r) != ST_OK || mpread_skip(&r) != ST_OK)
            goto done;
    }
    if (mpread_map(&r, &n) != ST_OK)
        goto done;
    /* the scanned keys not overridden, then the overrides */
    {
        size_t start = r.pos, kept = 0;
        for (uint32_t k = 0; k < n; k++) {
            const char *key;
            uint32_t kl;
            bool replaced = false;
            if (mpread_str(&r, &key, &kl) != ST_OK)
                goto done;
            mpread_t oo = o;
            for (uint32_t j = 0; j < no && m->sum != NULL; j++) {
                const char *ok2;
                uint32_t ol;
                if (mpread_str(&oo, &ok2, &ol) != ST_OK || mpread_skip(&oo) != ST_OK)
                    goto done;
                replaced |= ol == kl && memcmp(ok2, key, kl) == 0;
            }
            kept += !replaced;
            if (mpread_skip(&r) != ST_OK)
                goto done;
        }
        msgpack_pack_map(pk, (uint32_t)kept + no);
        r.pos = start;
        for (uint32_t k = 0; k < n; k++) {
            size_t kpos = r.pos;
            const char *key;
            uint32_t kl;
            bool replaced = false;
            mpread_str(&r, &key, &kl);
            mpread_t oo = o;
            for (uint32_t j = 0; j < no && m->sum != NULL; j++) {
                const char *ok2;
                uint32_t ol;
                mpread_str(&oo, &ok2, &ol);
                mpread_skip(&oo);
                replaced |= ol == kl && memcmp(ok2, key, kl) == 0;
            }
            bool ext = m->flags != NULL && ((kl == 4 && memcmp(key, "defs", 4) == 0) ||
                                            (kl == 7 && memcmp(key, "classes", 7) == 0));
            if (ext && !replaced) {
                msgpack_pack_str_body(pk, (const char *)r.p + kpos, r.pos - kpos);
                if (!extend_tuples(pk, &r, m->flags, kl == 4 ? "defs" : "classes"))
                    goto done;
                continue;
            }
            mpread_skip(&r);
            if (!replaced)
                msgpack_pack_str_body(pk, (const char *)r.p + kpos, r.pos - kpos);
        }
        if (no > 0)
            msgpack_pack_str_body(pk, (const char *)o.p + o.pos, o.len - o.pos);
    }
    ok = true;
done:
    buf_free(&over);
    scanner_destroy(&s);
    arena_destroy(&a);
    return ok;
}

/* One "k:abs" resolution per import, '|' between them ("" for none). */
static bool write_res(mpbuf_t *w, const char *res)
{
    uint32_t n = 0;
    const char *p;
    char abs[256];

    if (res != NULL && *res != 0)
        for (n = 1, p = res; *p; p++)
            n += *p == '|';
    check_input_res(w, n);
    for (p = res; n > 0; n--) {
        const char *end = strchr(p, '|');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        size_t skip = len > 1 ? 2 : 1;
        if (len < 1 || len - skip >= sizeof abs)
            return false;
        memcpy(abs, p + skip, len - skip);
        abs[len - skip] = '\0';
        check_input_resolved(w, (uint32_t)(p[0] - '0'), abs);
        p = end ? end + 1 : p + len;
    }
    return true;
}

/* The elements of an array in the notation, packed into b; r at the first. */
static bool text_array(const char *text, buf_t *b, mpread_t *r, uint32_t *n)
{
    msgpack_packer pk;

    mpbuf_packer(&pk, b);
    if (!pack_text(&pk, &text))
        return false;
    mpread_init(r, b->data, b->len);
    return mpread_array(r, n) == ST_OK;
}

/* A module's head and its subs (an array of strings in the notation). */
static bool write_module(mpbuf_t *w, const tmod_t *m, uint32_t file)
{
    buf_t b;
    mpread_t r;
    uint32_t n, len;
    const char *s;
    char sub[256];
    bool ok;

    buf_init(&b);
    ok = text_array(m->subs ? m->subs : "[]", &b, &r, &n);
    check_input_module(w, &(check_input_module_t){
                              .name = m->name,
                              .file = file,
                              .pkg = m->pkg || strstr(m->path, "__init__") != NULL,
                              .export = !m->not_export,
                              .replaced = m->replaced,
                              .stub = strstr(m->path, ".pyi") != NULL,
                              .n_subs = ok ? n : 0,
                          });
    for (uint32_t i = 0; ok && i < n; i++) {
        ok = mpread_str(&r, &s, &len) == ST_OK && len < sizeof sub;
        if (ok) {
            memcpy(sub, s, len);
            sub[len] = '\0';
            check_input_sub(w, sub);
        }
    }
    buf_free(&b);
    return ok;
}

/* The environment's interpreter the next inputs name (NULL: none). */
static const char *test_python;

/* The input document of a job over mods, with ifaces given in the notation,
 * written by the check module's encoder (check_input_*). */
static bool build_input(const tmod_t *mods, size_t n, const char *ifaces, buf_t *out)
{
    mpbuf_t w;
    buf_t b;
    mpread_t r;
    uint32_t count;
    bool ok = true;

    buf_init(out);
    mpbuf_init(&w, out);
    check_input_begin_env(&w, (uint32_t)n, test_python);
    for (size_t i = 0; i < n && ok; i++) {
        msgpack_packer pk;
        buf_init(&b);
        mpbuf_packer(&pk, &b);
        ok = write_module(&w, &mods[i], (uint32_t)i) && pack_summary(&pk, &mods[i]);
        check_input_summary(&w, (span_t){b.data, b.len});
        ok = ok && write_res(&w, mods[i].res);
        buf_free(&b);
    }
    buf_init(&b);
    ok = ok && text_array(ifaces ? ifaces : "[]", &b, &r, &count);
    check_input_ifaces(&w, ok ? count : 0);
    for (uint32_t i = 0; ok && i < count; i++) {
        size_t start = r.pos;
        ok = mpread_skip(&r) == ST_OK;
        check_input_iface(&w, (span_t){r.p + start, r.pos - start});
    }
    buf_free(&b);
    return ok && mpbuf_status(&w) == ST_OK;
}

/* ---- running a job ------------------------------------------------------------------ */

#define MAXM 8

typedef struct {
    st_rc_t rc;
    char *diags[MAXM]; /* "line:col CODE message\n" each */
    char *drop[MAXM];  /* "line:col " each */
    char *iface[MAXM]; /* the notation, or "nil" */
    span_t raw;
    buf_t bytes; /* copy of the result */
} tres_t;

static void tres_free(tres_t *t)
{
    for (int i = 0; i < MAXM; i++) {
        free(t->diags[i]);
        free(t->drop[i]);
        free(t->iface[i]);
    }
    buf_free(&t->bytes);
}

static bool run(const tmod_t *mods, size_t n, const char *ifaces, tres_t *t)
{
    arena_t *a = arena_new(0);
    buf_t in;
    span_t out;
    check_module_t *cm;
    size_t ncm;
    st_err_t err = {0};

    memset(t, 0, sizeof *t);
    buf_init(&t->bytes);
    if (a == NULL || n > MAXM || !build_input(mods, n, ifaces, &in)) {
        arena_destroy(&a);
        return false;
    }
    t->rc = check_run((span_t){in.data, in.len}, a, &out, &err);
    buf_free(&in);
    if (t->rc != ST_OK) {
        fprintf(stderr, "  check_run: %s\n", err.msg);
        arena_destroy(&a);
        return false;
    }
    buf_append(&t->bytes, out.ptr, out.len);
    t->raw = (span_t){t->bytes.data, t->bytes.len};
    if (check_result_decode(t->raw, a, &cm, &ncm, &err) != ST_OK || ncm != n) {
        arena_destroy(&a);
        return false;
    }
    for (size_t i = 0; i < ncm; i++) {
        buf_t d, p;
        buf_init(&d);
        buf_init(&p);
        buf_append(&d, "", 0);
        buf_append(&p, "", 0);
        for (size_t k = 0; k < cm[i].n_diags; k++)
            buf_printf(&d, "%u:%u %s %s\n", cm[i].diags[k].line, cm[i].diags[k].col,
                       cm[i].diags[k].code, cm[i].diags[k].message);
        for (size_t k = 0; k < cm[i].n_drop; k++)
            buf_printf(&p, "%u:%u ", cm[i].drop[k].line, cm[i].drop[k].col);
        t->diags[cm[i].file] = (char *)d.data;
        t->drop[cm[i].file] = (char *)p.data;
        t->iface[cm[i].file] = cm[i].iface.len ? span_text(cm[i].iface) : strdup("nil");
    }
    arena_destroy(&a);
    return true;
}

/* ---- interfaces -------------------------------------------------------------------- */

static const char impl_iface[] = "{\"name\":\"pkg.impl\",\"open\":false,\"all\":nil,\"subs\":[],"
                                 "\"names\":[[\"Thing\",1,nil,nil],"
                                 "[\"helper\",0,[0,[[\"q\",1,false]]],nil]]}";

TEST(check_iface_of_a_module)
{
    static const tmod_t mods[] = {
        {.name = "pkg",
         .path = "pkg/__init__.py",
         .src = "import os\n"
                "import os.path as osp\n"
                "from .impl import helper, Thing as T, nothing\n"
                "from . import impl\n"
                "def f(a, /, b=1, *args, c, **kw): pass\n"
                "class C:\n"
                "    def __init__(self, x, y=2): pass\n"
                "class D(Base):\n"
                "    def __init__(self, x): pass\n"
                "class E:\n"
                "    pass\n"
                "@deco\n"
                "class F:\n"
                "    def __init__(self, x): pass\n"
                "class G:\n"
                "    def __new__(cls, x): pass\n"
                "    def __init__(self, x): pass\n"
                "class H(object):\n"
                "    def __init__(self, x): pass\n"
                "X = 1\n"
                "__all__ = ['f', 'C']\n",
         .flags = "classes:F=1", /* the new summary's class flags */
         .res = "1 os|1 os.path|0 pkg.impl|0 pkg.impl|0 pkg.impl|0 pkg",
         .subs = "[\"impl\"]"},
    };
    tres_t t;
    char ifaces[512];
    snprintf(ifaces, sizeof ifaces, "[%s]", impl_iface);
    REQUIRE(run(mods, 1, ifaces, &t));
    CHECK_STREQ(t.iface[0],
                "{\"name\":\"pkg\",\"open\":false,\"all\":[\"C\",\"f\"],\"subs\":[\"impl\"],"
                /* what instances of the closed classes may have (not D:
                   Base is unknown; not F: decorated) */
                "\"classes\":[[\"C\",[\"__init__\"]],[\"E\",[]],"
                "[\"G\",[\"__init__\",\"__new__\"]],[\"H\",[\"__init__\"]]],"
                "\"names\":["
                "[\"C\",1,[0,[[\"x\",1,false],[\"y\",1,true]]],nil]," /* __init__ minus self */
                "[\"D\",1,nil,nil],"                                  /* a base class */
                "[\"E\",1,nil,nil],"                                  /* no own __init__ */
                "[\"F\",1,nil,nil],"                                  /* decorated */
                "[\"G\",1,nil,nil],"                                  /* __new__ */
                "[\"H\",1,[0,[[\"x\",1,false]]],nil],"                /* object is fine */
                "[\"T\",1,nil,nil],"                                  /* re-exported */
                "[\"X\",2,nil,nil],[\"__all__\",2,nil,nil],"
                "[\"f\",0,[0,[[\"a\",0,false],[\"b\",1,true],[\"args\",2,false],"
                "[\"c\",3,false],[\"kw\",4,false]]],nil],"
                "[\"helper\",0,[0,[[\"q\",1,false]]],nil],"
                "[\"impl\",3,nil,\"pkg.impl\"],"
                "[\"nothing\",4,nil,nil],"
                "[\"os\",3,nil,\"os\"],[\"osp\",3,nil,\"os.path\"]]}");
    CHECK_STREQ(t.diags[0], "3:1 E0611 No name 'nothing' in module 'pkg.impl'\n");
    tres_free(&t);
}

TEST(check_iface_decorated_class_has_no_constructor)
{
    /* a decorator may replace the class or its __init__: no signature */
    static const tmod_t mods[] = {
        {.name = "m",
         .path = "m.py",
         .src = "def deco(c): return c\n"
                "@deco\n"
                "class C:\n    def __init__(self, x): pass\n"
                "class D:\n    def __init__(self, x): pass\n"},
    };
    tres_t t;
    REQUIRE(run(mods, 1, NULL, &t));
    CHECK_STREQ(t.iface[0], "{\"name\":\"m\",\"open\":false,\"all\":nil,\"subs\":[],"
                            "\"classes\":[[\"D\",[\"__init__\"]]],"
                            "\"names\":[[\"C\",1,nil,nil],[\"D\",1,[0,[[\"x\",1,false]]],nil],"
                            "[\"deco\",0,[0,[[\"c\",1,false]]],nil]]}");
    tres_free(&t);
}

TEST(check_iface_rebound_and_open)
{
    static const tmod_t mods[] = {
        {.name = "m",
         .path = "m.py",
         .src = "def f(a): pass\n"
                "try:\n    def f(a, b): pass\n" /* bound twice: no signature is sure */
                "except OSError:\n    pass\n"
                "def g(a): pass\n",
         .sum = "{\"getattr\":true}"},
        {.name = "n", .path = "n.py", .src = "x = 1\n", .sum = "{\"dynamic\":true}"},
        {.name = "o", .path = "o.py", .src = "from os.path import *\ny = 1\n", .res = "1 os.path"},
        {.name = "p", .path = "p.py", .src = "from pkg.gone import *\n", .res = "0 pkg.gone"},
        {.name = "q", .path = "q.py", .src = "import json\n", .res = "1 json", .not_export = true},
    };
    tres_t t;
    REQUIRE(run(mods, 5, NULL, &t));
    CHECK_STREQ(t.iface[0], "{\"name\":\"m\",\"open\":true,\"all\":nil,\"subs\":[],"
                            "\"names\":[[\"f\",0,nil,nil],[\"g\",0,[0,[[\"a\",1,false]]],nil]]}");
    CHECK_STREQ(t.iface[1], "{\"name\":\"n\",\"open\":true,\"all\":nil,\"subs\":[],"
                            "\"names\":[[\"x\",2,nil,nil]]}");
    /* a star import from outside the project, or from an unknown module */
    CHECK_STREQ(t.iface[2], "{\"name\":\"o\",\"open\":true,\"all\":nil,\"subs\":[],"
                            "\"names\":[[\"y\",2,nil,nil]]}");
    CHECK_STREQ(t.iface[3], "{\"name\":\"p\",\"open\":true,\"all\":nil,\"subs\":[],\"names\":[]}");
    CHECK_STREQ(t.iface[4], "nil");
    tres_free(&t);
}

TEST(check_iface_star_of_star_and_all)
{
    static const tmod_t mods[] = {
        {.name = "a",
         .path = "a.py",
         .src = "__all__ = ['f']\n"
                "__all__ += ['g', 'sub']\n"
                "def f(x): pass\n"
                "def g(): pass\n"
                "def h(): pass\n",
         .subs = "[\"sub\"]"},
        {.name = "b",
         .path = "b.py",
         .src = "from a import *\n"
                "def _private(): pass\n"
                "def own(): pass\n",
         .res = "0 a"},
        {.name = "c",
         .path = "c.py",
         .src = "from b import *\n"
                "print(f, g, h, sub, own, _private)\n",
         .res = "0 b",
         .sum = "{\"stars\":[[\"f\",2,7,false],[\"g\",2,10,false],[\"h\",2,13,false],"
                "[\"sub\",2,16,false],[\"own\",2,21,false],[\"_private\",2,26,false]]}"},
    };
    tres_t t;
    REQUIRE(run(mods, 3, NULL, &t));
    CHECK_STREQ(t.iface[0], "{\"name\":\"a\",\"open\":false,\"all\":[\"f\",\"g\",\"sub\"],"
                            "\"subs\":[\"sub\"],\"names\":[[\"__all__\",2,nil,nil],"
                            "[\"f\",0,[0,[[\"x\",1,false]]],nil],[\"g\",0,[0,[]],nil],"
                            "[\"h\",0,[0,[]],nil]]}");
    /* b gets what a's __all__ lists, the submodule included */
    CHECK_STREQ(t.iface[1], "{\"name\":\"b\",\"open\":false,\"all\":nil,\"subs\":[],"
                            "\"names\":[[\"_private\",0,[0,[]],nil],"
                            "[\"f\",0,[0,[[\"x\",1,false]]],nil],[\"g\",0,[0,[]],nil],"
                            "[\"own\",0,[0,[]],nil],[\"sub\",3,nil,\"a.sub\"]]}");
    CHECK_STREQ(t.diags[2], "2:13 F821 undefined name 'h'\n2:26 F821 undefined name '_private'\n");
    CHECK_STREQ(t.drop[2], "2:7 2:10 2:13 2:16 2:21 2:26 ");
    CHECK_STREQ(t.diags[0], "");
    CHECK_STREQ(t.diags[1], "");
    tres_free(&t);
}

TEST(check_iface_cycles_settle)
{
    /* star imports both ways, and a re-export that goes round in circles */
    static const tmod_t mods[] = {
        {.name = "a",
         .path = "a.py",
         .src = "from b import *\nfrom b import loop\ndef fa(): pass\n",
         .res = "0 b|0 b"},
        {.name = "b",
         .path = "b.py",
         .src = "from a import *\nfrom a import loop\ndef fb(): pass\n",
         .res = "0 a|0 a"},
    };
    tres_t t;
    REQUIRE(run(mods, 2, NULL, &t));
    CHECK_STREQ(t.iface[0], "{\"name\":\"a\",\"open\":false,\"all\":nil,\"subs\":[],"
                            "\"names\":[[\"fa\",0,[0,[]],nil],[\"fb\",0,[0,[]],nil],"
                            "[\"loop\",4,nil,nil]]}");
    CHECK_STREQ(t.iface[1], "{\"name\":\"b\",\"open\":false,\"all\":nil,\"subs\":[],"
                            "\"names\":[[\"fa\",0,[0,[]],nil],[\"fb\",0,[0,[]],nil],"
                            "[\"loop\",4,nil,nil]]}");
    /* both are conditionless module-level imports of each other */
    CHECK_STREQ(t.diags[0], "");
    CHECK_STREQ(t.diags[1], "1:1 R0401 Cyclic import (a -> b)\n");
    tres_free(&t);
}

TEST(check_iface_is_canonical)
{
    static const tmod_t one[] = {
        {.name = "m", .path = "m.py", .src = "def b(): pass\ndef a(): pass\nz = 1\n"},
    };
    static const tmod_t two[] = {
        {.name = "m", .path = "m.py", .src = "z = 1\n\ndef a(): pass\ndef b(): pass\n"},
    };
    tres_t t1, t2;
    REQUIRE(run(one, 1, NULL, &t1));
    REQUIRE(run(two, 1, NULL, &t2));
    CHECK_STREQ(t1.iface[0], t2.iface[0]);
    tres_free(&t1);
    tres_free(&t2);
}

TEST(check_namespace_iface)
{
    arena_t *a = arena_new(0);
    static const char *const subs[] = {"mod", "other"};
    span_t out;
    REQUIRE(a != NULL);
    REQUIRE(check_namespace_iface("ns", subs, 2, a, &out, NULL) == ST_OK);
    char *text = span_text(out);
    CHECK_STREQ(text, "{\"name\":\"ns\",\"open\":false,\"all\":nil,\"subs\":[\"mod\",\"other\"],"
                      "\"names\":[]}");
    free(text);

    /* used as the interface of a namespace package */
    char ifaces[1024];
    snprintf(ifaces, sizeof ifaces,
             "[{\"name\":\"ns\",\"open\":false,\"all\":nil,\"subs\":[\"mod\",\"other\"],"
             "\"names\":[]},"
             "{\"name\":\"ns.mod\",\"open\":false,\"all\":nil,\"subs\":[],"
             "\"names\":[[\"f\",0,[0,[]],nil]]}]");
    static const tmod_t mods[] = {
        {.name = "app",
         .path = "app.py",
         .src = "import ns.mod\nns.mod.f()\nns.mod.g\nns.nope\nns.other.x\nns.__path__\n",
         .res = "0 ns.mod"},
    };
    tres_t t;
    REQUIRE(run(mods, 1, ifaces, &t));
    CHECK_STREQ(t.diags[0], "3:1 E1101 Module 'ns.mod' has no 'g' member\n"
                            "4:1 E1101 Module 'ns' has no 'nope' member\n");
    tres_free(&t);
    arena_destroy(&a);
}

/* ---- E0401, E0611 ----------------------------------------------------------------- */

TEST(check_import_error)
{
    static const tmod_t mods[] = {
        {.name = "app",
         .path = "app.py",
         .src = "import pkg.gone\n"
                "from pkg.nowhere import a, b\n"
                "try:\n"
                "    import pkg.maybe\n"
                "except ImportError:\n"
                "    pass\n"
                "from ... import too_far\n"
                "import os, requests\n"
                "from __future__ import annotations\n",
         .res = "3 pkg.gone|3 pkg.nowhere|3 pkg.nowhere|3 pkg.maybe|3 ...|1 os|2 requests|4 ",
         /* the new summary's import flag: guarded by an ImportError handler */
         .sum = "{\"imports\":[[0,0,\"pkg.gone\",\"\",\"\",1,0,0],"
                "[1,0,\"pkg.nowhere\",\"a\",\"\",2,0,0],[1,0,\"pkg.nowhere\",\"b\",\"\",2,0,0],"
                "[0,0,\"pkg.maybe\",\"\",\"\",4,4,6],[1,3,\"\",\"too_far\",\"\",7,0,0],"
                "[0,0,\"os\",\"\",\"\",8,0,0],[0,0,\"requests\",\"\",\"\",8,0,0],"
                "[3,0,\"__future__\",\"annotations\",\"\",9,0,0]]}"},
    };
    tres_t t;
    REQUIRE(run(mods, 1, NULL, &t));
    CHECK_STREQ(t.diags[0], "1:1 E0401 Unable to import 'pkg.gone'\n"
                            "2:1 E0401 Unable to import 'pkg.nowhere'\n"
                            "7:1 E0401 Unable to import '...'\n");
    tres_free(&t);
}

/* Packages the environment lacks: E0401 naming the interpreter, except
 * where the import is a fallback or conditional. */
TEST(check_import_of_a_missing_package)
{
    static const tmod_t mods[] = {
        {.name = "app",
         .path = "app.py",
         .src = "import requests\n"
                "from yaml.loader import x\n"
                "try:\n"
                "    import simplejson as json\n"
                "except ImportError:\n"
                "    import json2\n"
                "if x:\n"
                "    import winonly\n"
                "def f():\n"
                "    import numpy\n",
         .res = "5 requests|5 yaml.loader|5 simplejson|5 json2|5 winonly|5 numpy"},
    };
    tres_t t;
    test_python = "/opt/py/bin/python3";
    bool ok = run(mods, 1, NULL, &t);
    test_python = NULL;
    REQUIRE(ok);
    CHECK_STREQ(t.diags[0],
                "1:1 E0401 Unable to import 'requests' (not installed for /opt/py/bin/python3)\n"
                "2:1 E0401 Unable to import 'yaml.loader' (not installed for /opt/py/bin/python3)\n"
                "10:5 E0401 Unable to import 'numpy' (not installed for /opt/py/bin/python3)\n");
    tres_free(&t);
    REQUIRE(run(mods, 1, NULL, &t)); /* no interpreter named */
    CHECK(strstr(t.diags[0], "1:1 E0401 Unable to import 'requests'\n") != NULL);
    tres_free(&t);
}

/* A stub leaves private names out: one missing from it is not reported; a
 * source module that star-imports a private stub is open, a public one
 * closed; a module another one replaces in sys.modules is open. */
TEST(check_stubs_private_names_and_replaced_modules)
{
    static const tmod_t mods[] = {
        {.name = "_c", .path = "_c.pyi", .src = "def pack(fmt: str) -> bytes: ...\n", .res = ""},
        {.name = "wrap", .path = "wrap.py", .src = "from _c import *\n", .res = "0 _c"},
        {.name = "gone", .path = "gone.py", .src = "x = 1\n", .res = "", .replaced = true},
        {.name = "pub", .path = "pub.pyi", .src = "def getpid() -> int: ...\n", .res = ""},
        {.name = "osx", .path = "osx.py", .src = "from pub import *\n", .res = "0 pub"},
        {.name = "app",
         .path = "app.py",
         .src = "import _c, wrap, gone\n"
                "from _c import _private, public_missing\n"
                "_c._hidden\n"
                "_c.missing\n"
                "wrap.error\n"
                "gone.anything\n"
                "import osx\n"
                "osx.getpid(1)\n"
                "osx.nope\n",
         .res = "0 _c|0 wrap|0 gone|0 _c|0 _c|0 osx"},
    };
    tres_t t;
    REQUIRE(run(mods, 6, NULL, &t));
    CHECK_STREQ(t.diags[5], "2:1 E0611 No name 'public_missing' in module '_c'\n"
                            "4:1 E1101 Module '_c' has no 'missing' member\n"
                            "8:1 E1121 Too many positional arguments for function call\n"
                            "9:1 E1101 Module 'osx' has no 'nope' member\n");
    CHECK(strstr(t.iface[0], "\"stub\":true") != NULL);
    CHECK(strstr(t.iface[1], "\"open\":true") != NULL);
    CHECK(strstr(t.iface[1], "stub") == NULL);
    CHECK(strstr(t.iface[2], "\"open\":true") != NULL);
    tres_free(&t);
}

/* An overloaded function: a call is wrong only when no overload takes it,
 * and then only what every overload says. */
TEST(check_calls_of_overloads)
{
    const char *ifaces = "[{\"name\":\"lib\",\"open\":false,\"all\":nil,\"subs\":[],\"stub\":true,"
                         "\"names\":[[\"f\",0,nil,nil,[[4,[[\"a\",1,false]]],"
                         "[4,[[\"a\",1,false],[\"b\",1,false],[\"key\",3,true]]]]]]}]";
    static const tmod_t mods[] = {
        {.name = "app",
         .path = "app.py",
         .src = "import lib\n"
                "lib.f(1)\n"
                "lib.f(1, 2)\n"
                "lib.f(1, 2, 3)\n"
                "lib.f(1, other=2)\n"
                "lib.f(1, key=2)\n"
                "lib.f()\n"
                "lib.f(1, 2, 3, *rest)\n",
         .res = "0 lib"},
    };
    tres_t t;
    REQUIRE(run(mods, 1, ifaces, &t));
    CHECK_STREQ(t.diags[0], "4:1 E1121 Too many positional arguments for function call\n"
                            "5:1 E1123 Unexpected keyword argument 'other' in function call\n");
    tres_free(&t);
}

/* What a version or platform test guards may be another Python's: no
 * report there (pyright calls it unreachable). */
TEST(check_versioned_branches_say_nothing)
{
    const char *ifaces = "[{\"name\":\"lib\",\"open\":false,\"all\":nil,\"subs\":[],"
                         "\"names\":[[\"f\",0,[0,[]],nil]]}]";
    static const tmod_t mods[] = {
        {.name = "app",
         .path = "app.py",
         .src = "import sys, lib\n"
                "if sys.version_info[0] < 3:\n"
                "    from lib import gone\n"
                "    lib.nope\n"
                "    lib.f(1)\n"
                "lib.nope2\n",
         .res = "0 sys|0 lib|0 lib"},
    };
    tres_t t;
    REQUIRE(run(mods, 1, ifaces, &t));
    CHECK_STREQ(t.diags[0], "6:1 E1101 Module 'lib' has no 'nope2' member\n");
    tres_free(&t);
}

TEST(check_no_name_in_module)
{
    char ifaces[2048];
    snprintf(ifaces, sizeof ifaces,
             "[{\"name\":\"lib\",\"open\":false,\"all\":[\"ghost\"],\"subs\":[\"sub\"],"
             "\"names\":[[\"f\",0,nil,nil]]},"
             "{\"name\":\"lib.sub\",\"open\":false,\"all\":nil,\"subs\":[],\"names\":[]},"
             "{\"name\":\"dyn\",\"open\":true,\"all\":nil,\"subs\":[],\"names\":[]}]");
    static const tmod_t mods[] = {
        {.name = "app",
         .path = "app.py",
         .src = "from lib import f, nope, sub, __name__, ghost\n"
                "try:\n"
                "    from lib import guarded\n"
                "except ImportError:\n"
                "    guarded = None\n"
                "from dyn import anything\n"
                "from unknown import whatever\n"
                "from os import nothing_here\n"
                "def late():\n"
                "    from lib import inner\n",
         .res = "0 lib|0 lib|0 lib|0 lib|0 lib|0 lib|0 dyn|0 unknown|1 os|0 lib",
         .sum = "{\"imports\":[[1,0,\"lib\",\"f\",\"\",1,0,0],[1,0,\"lib\",\"nope\",\"\",1,0,0],"
                "[1,0,\"lib\",\"sub\",\"\",1,0,0],[1,0,\"lib\",\"__name__\",\"\",1,0,0],"
                "[1,0,\"lib\",\"ghost\",\"\",1,0,0],[1,0,\"lib\",\"guarded\",\"\",3,4,6],"
                "[1,0,\"dyn\",\"anything\",\"\",6,0,0],[1,0,\"unknown\",\"whatever\",\"\",7,0,0],"
                "[1,0,\"os\",\"nothing_here\",\"\",8,0,0],[1,0,\"lib\",\"inner\",\"\",10,4,1]]}"},
    };
    tres_t t;
    REQUIRE(run(mods, 1, ifaces, &t));
    /* __all__ names exist only if defined: ghost is not */
    CHECK_STREQ(t.diags[0], "1:1 E0611 No name 'ghost' in module 'lib'\n"
                            "1:1 E0611 No name 'nope' in module 'lib'\n"
                            "10:5 E0611 No name 'inner' in module 'lib'\n");
    tres_free(&t);
}

TEST(check_relative_imports_and_stubs)
{
    /* pkg's stub is its interface; the .py beside it is checked against it */
    static const tmod_t mods[] = {
        {.name = "pkg",
         .path = "pkg/__init__.pyi",
         .src = "def api(x: int) -> int: ...\n",
         .subs = "[\"mod\"]"},
        {.name = "pkg",
         .path = "pkg/__init__.py",
         .src = "from .mod import api, missing\n",
         .res = "0 pkg.mod|0 pkg.mod",
         .subs = "[\"mod\"]",
         .not_export = true},
        {.name = "pkg.mod",
         .path = "pkg/mod.py",
         .src = "from . import api, absent, mod\n"
                "def api(x): return x\n",
         .res = "0 pkg|0 pkg|0 pkg"},
    };
    tres_t t;
    REQUIRE(run(mods, 3, NULL, &t));
    CHECK_STREQ(t.iface[1], "nil");
    CHECK_STREQ(t.diags[0], "");
    CHECK_STREQ(t.diags[1], "1:1 E0611 No name 'missing' in module 'pkg.mod'\n");
    /* pkg/__init__.py imports pkg.mod, which imports pkg */
    CHECK_STREQ(t.diags[2], "1:1 E0611 No name 'absent' in module 'pkg'\n"
                            "1:1 R0401 Cyclic import (pkg -> pkg.mod)\n");
    tres_free(&t);
}

/* ---- E1101 ------------------------------------------------------------------------ */

TEST(check_no_member)
{
    char ifaces[2048];
    snprintf(ifaces, sizeof ifaces,
             "[{\"name\":\"lib\",\"open\":false,\"all\":nil,\"subs\":[\"sub\"],"
             "\"names\":[[\"f\",0,nil,nil],[\"C\",1,nil,nil],[\"os\",3,nil,\"os\"],"
             "[\"alias\",3,nil,\"lib.sub\"]]},"
             "{\"name\":\"lib.sub\",\"open\":false,\"all\":nil,\"subs\":[],"
             "\"names\":[[\"g\",0,nil,nil]]},"
             "{\"name\":\"dyn\",\"open\":true,\"all\":nil,\"subs\":[],\"names\":[]}]");
    static const tmod_t mods[] = {
        {.name = "app",
         .path = "app.py",
         .src = "import lib\n"
                "import lib.sub as ls\n"
                "import dyn\n"
                "from lib import sub\n"
                "lib.f()\n"
                "lib.nope\n"
                "lib.C.whatever\n"
                "lib.os.anything\n"
                "lib.sub.g\n"
                "lib.sub.h\n"
                "lib.alias.h2\n"
                "ls.h3\n"
                "sub.h4\n"
                "dyn.anything\n"
                "lib.__file__\n"
                "lib.f.attr\n",
         .res = "0 lib|0 lib.sub|0 dyn|0 lib"},
    };
    tres_t t;
    REQUIRE(run(mods, 1, ifaces, &t));
    CHECK_STREQ(t.diags[0], "6:1 E1101 Module 'lib' has no 'nope' member\n"
                            "10:1 E1101 Module 'lib.sub' has no 'h' member\n"
                            "11:1 E1101 Module 'lib.sub' has no 'h2' member\n"
                            "12:1 E1101 Module 'lib.sub' has no 'h3' member\n"
                            "13:1 E1101 Module 'lib.sub' has no 'h4' member\n");
    tres_free(&t);
}

TEST(check_no_member_store_and_guarded)
{
    static const char ifaces[] = "[{\"name\":\"lib\",\"open\":false,\"all\":nil,\"subs\":[],"
                                 "\"names\":[]}]";
    static const tmod_t mods[] = {
        {.name = "app",
         .path = "app.py",
         .src = "import lib\n"
                "lib.set_here = 1\n"
                "lib.set_here\n"
                "lib.guarded\n"
                "lib.missing\n",
         .res = "0 lib",
         /* the new summary's use flags: a store, a guarded load */
         .sum = "{\"uses\":[[0,[\"set_here\"],2,0,1],[0,[\"set_here\"],3,0,0],"
                "[0,[\"guarded\"],4,0,2],[0,[\"missing\"],5,0,0]]}"},
    };
    tres_t t;
    REQUIRE(run(mods, 1, ifaces, &t));
    CHECK_STREQ(t.diags[0], "5:1 E1101 Module 'lib' has no 'missing' member\n");
    tres_free(&t);
}

/* ---- calls --------------------------------------------------------------------------- */

static const char sig_iface[] =
    "[{\"name\":\"lib\",\"open\":false,\"all\":nil,\"subs\":[],\"names\":["
    "[\"Plain\",1,[0,[[\"x\",1,false]]],nil],"
    "[\"deco\",0,[1,[[\"a\",1,false]]],nil],"
    "[\"f\",0,[0,[[\"a\",1,false],[\"b\",1,true]]],nil],"
    "[\"kw\",0,[0,[[\"a\",1,false],[\"k\",3,false],[\"opt\",3,true]]],nil],"
    "[\"many\",0,[0,[[\"a\",1,false],[\"rest\",2,false],[\"more\",4,false]]],nil],"
    "[\"over\",0,[4,[[\"a\",1,false]]],nil],"
    "[\"po\",0,[0,[[\"a\",0,false],[\"b\",1,false]]],nil],"
    "[\"unsure\",0,nil,nil]]}]";

TEST(check_calls)
{
    static const tmod_t mods[] = {
        {.name = "app",
         .path = "app.py",
         .src = "from lib import f, kw, many, po, deco, over, unsure, Plain\n"
                "import lib\n"
                "f()\n"                /* 3: missing a */
                "f(1, 2, 3)\n"         /* 4: too many */
                "f(1, c=2)\n"          /* 5: unexpected c */
                "f(b=1)\n"             /* 6: missing a */
                "f(*args)\n"           /* 7: star: nothing */
                "f(**opts)\n"          /* 8: dstar: nothing */
                "f(1, 2, 3, *args)\n"  /* 9: star: no E1121 */
                "kw(1)\n"              /* 10: kw-only missing: E1125, not ours */
                "kw(1, k=2, zz=3)\n"   /* 11: unexpected zz */
                "many(1, 2, 3, x=4)\n" /* 12: fine */
                "many()\n"             /* 13: missing a */
                "po(a=1, b=2)\n"       /* 14: a positional-only */
                "po(1, 2)\n"           /* 15: fine */
                "deco()\n"             /* 16: decorated */
                "over()\n"             /* 17: overloaded */
                "unsure()\n"           /* 18: no signature */
                "Plain()\n"            /* 19: constructor */
                "lib.f(1, 2, 3)\n"     /* 20: through the module */
                "lib.Plain(1, y=2)\n"  /* 21 */
                "lib.f.__call__()\n",  /* 22: an attribute of a function */
         .res = "0 lib|0 lib|0 lib|0 lib|0 lib|0 lib|0 lib|0 lib|0 lib"},
    };
    tres_t t;
    REQUIRE(run(mods, 1, sig_iface, &t));
    CHECK_STREQ(t.diags[0], "3:1 E1120 No value for argument 'a' in function call\n"
                            "4:1 E1121 Too many positional arguments for function call\n"
                            "5:1 E1123 Unexpected keyword argument 'c' in function call\n"
                            "6:1 E1120 No value for argument 'a' in function call\n"
                            "11:1 E1123 Unexpected keyword argument 'zz' in function call\n"
                            "13:1 E1120 No value for argument 'a' in function call\n"
                            "14:1 E1120 No value for argument 'a' in function call\n"
                            "14:1 E1123 Unexpected keyword argument 'a' in function call\n"
                            "19:1 E1120 No value for argument 'x' in constructor call\n"
                            "20:1 E1121 Too many positional arguments for function call\n"
                            "21:1 E1123 Unexpected keyword argument 'y' in constructor call\n");
    tres_free(&t);
}

TEST(check_calls_through_reexport_and_component)
{
    static const tmod_t mods[] = {
        {.name = "app",
         .path = "app.py",
         .src = "from pkg import api, Box, twice\n"
                "import pkg\n"
                "api()\n"
                "pkg.api(1, 2)\n"
                "Box(1, 2)\n"
                "twice(1)\n"
                "pkg.impl.api(x=1, y=2)\n",
         .res = "0 pkg|0 pkg|0 pkg|0 pkg",
         .sum = NULL},
        {.name = "pkg",
         .path = "pkg/__init__.py",
         .src = "from .impl import api, Box, twice\n",
         .res = "0 pkg.impl|0 pkg.impl|0 pkg.impl",
         .subs = "[\"impl\"]"},
        {.name = "pkg.impl",
         .path = "pkg/impl.py",
         .src = "def api(x): pass\n"
                "class Box:\n"
                "    def __init__(self, v): pass\n"
                "def twice(a): pass\n"
                "def twice(a, b): pass\n",
         .flags = "defs:twice=1"},
    };
    tres_t t;
    REQUIRE(run(mods, 3, NULL, &t));
    CHECK_STREQ(t.diags[0], "3:1 E1120 No value for argument 'x' in function call\n"
                            "4:1 E1121 Too many positional arguments for function call\n"
                            "5:1 E1121 Too many positional arguments for constructor call\n"
                            "7:1 E1123 Unexpected keyword argument 'y' in function call\n");
    tres_free(&t);
}

/* ---- R0401 ---------------------------------------------------------------------------- */

TEST(check_cyclic_import)
{
    static const tmod_t mods[] = {
        {.name = "p.a", .path = "p/a.py", .src = "import p.b\n", .res = "0 p.b"},
        {.name = "p.b",
         .path = "p/b.py",
         .src = "from p import c\nfrom p.a import x\n",
         .res = "0 p|0 p.a"},
        {.name = "p.c",
         .path = "p/c.py",
         .src = "from . import a\n"
                "import p.b\n"
                "def later():\n"
                "    import p.a\n"
                "if TYPE_CHECKING:\n"
                "    import p.b\n",
         .res = "0 p|0 p.b|0 p.a|0 p.b"},
    };
    tres_t t;
    char ifaces[256];
    snprintf(ifaces, sizeof ifaces,
             "[{\"name\":\"p\",\"open\":false,\"all\":nil,\"subs\":[\"a\",\"b\",\"c\"],"
             "\"names\":[]}]");
    REQUIRE(run(mods, 3, ifaces, &t));
    /* DFS from p.a: a -> b -> c; c -> a closes (a b c); c -> b closes (b c);
     * b -> a closes (a b) */
    CHECK_STREQ(t.diags[0], "");
    CHECK_STREQ(t.diags[1], "2:1 E0611 No name 'x' in module 'p.a'\n"
                            "2:1 R0401 Cyclic import (p.a -> p.b)\n");
    CHECK_STREQ(t.diags[2], "1:1 R0401 Cyclic import (p.a -> p.b -> p.c)\n"
                            "2:1 R0401 Cyclic import (p.b -> p.c)\n");
    tres_free(&t);
}

/* ---- noqa, determinism ---------------------------------------------------------------- */

TEST(check_noqa)
{
    static const tmod_t mods[] = {
        {.name = "app",
         .path = "app.py",
         .src = "import gone1\nimport gone2\nimport gone3\nimport gone4\n",
         .res = "3 gone1|3 gone2|3 gone3|3 gone4",
         .sum = "{\"noqa\":[[1,1,nil],[2,2,[\"E04\"]],[3,3,[\"F401\"]]]}"},
        {.name = "all",
         .path = "all.py",
         .src = "import gone\n",
         .res = "3 gone",
         .sum = "{\"noqa\":[[1,4294967295,nil]]}"},
    };
    tres_t t;
    REQUIRE(run(mods, 2, NULL, &t));
    CHECK_STREQ(t.diags[0], "3:1 E0401 Unable to import 'gone3'\n"
                            "4:1 E0401 Unable to import 'gone4'\n");
    CHECK_STREQ(t.diags[1], "");
    tres_free(&t);
}

TEST(check_stars_left_alone_when_unsure)
{
    static const tmod_t mods[] = {
        {.name = "a", .path = "a.py", .src = "def __getattr__(n): pass\n"},
        {.name = "b",
         .path = "b.py",
         .src = "from a import *\nfrom os import *\nprint(x)\n",
         .res = "0 a|1 os",
         .sum = "{\"stars\":[[\"x\",3,7,false]]}"},
        {.name = "c",
         .path = "c.py",
         .src = "from a import *\nprint(y)\n__all__ = ['z']\n",
         .res = "0 a",
         .sum = "{\"stars\":[[\"y\",2,7,false],[\"z\",3,12,true]]}"},
        {.name = "d",
         .path = "d.py",
         .src = "from e import *\nprint(y)\n__all__ = ['z']\n",
         .res = "0 e",
         .sum = "{\"stars\":[[\"y\",2,7,false],[\"z\",3,12,true]]}"},
        {.name = "e", .path = "e.py", .src = "z = 1\n"},
    };
    tres_t t;
    REQUIRE(run(mods, 5, NULL, &t));
    CHECK_STREQ(t.drop[1], "");
    CHECK_STREQ(t.drop[2], ""); /* a is open */
    CHECK_STREQ(t.drop[3], "2:7 3:12 ");
    CHECK_STREQ(t.diags[3], "2:7 F821 undefined name 'y'\n");
    tres_free(&t);
}

TEST(check_result_is_deterministic_and_decodes)
{
    static const tmod_t mods[] = {
        {.name = "app",
         .path = "app.py",
         .src = "from lib import f, nope\nf(1, 2, 3)\n",
         .res = "0 lib|0 lib"},
    };
    tres_t t1, t2;
    REQUIRE(run(mods, 1, sig_iface, &t1));
    REQUIRE(run(mods, 1, sig_iface, &t2));
    CHECK(t1.raw.len == t2.raw.len && memcmp(t1.raw.ptr, t2.raw.ptr, t1.raw.len) == 0);
    char *text = span_text(t1.raw);
    CHECK_STREQ(text, "{\"v\":1,\"modules\":[{\"file\":0,\"iface\":{\"name\":\"app\","
                      "\"open\":false,\"all\":nil,\"subs\":[],\"names\":["
                      "[\"f\",0,[0,[[\"a\",1,false],[\"b\",1,true]]],nil],"
                      "[\"nope\",4,nil,nil]]},"
                      "\"diags\":[[1,1,\"E0611\",\"No name 'nope' in module 'lib'\"],"
                      "[2,1,\"E1121\",\"Too many positional arguments for function call\"]],"
                      "\"drop\":[]}]}");
    free(text);
    tres_free(&t1);
    tres_free(&t2);
}

/* ---- malformed input ------------------------------------------------------------------- */

static st_rc_t run_bytes(const uint8_t *p, size_t n, size_t limit)
{
    arena_t *a = arena_new(256);
    span_t out;
    st_err_t err = {0};
    st_rc_t rc;

    if (a == NULL)
        return ST_ENOMEM;
    arena_set_limit(a, limit);
    rc = check_run((span_t){p, n}, a, &out, &err);
    if (rc != ST_OK && err.msg[0] == '\0')
        rc = ST_EINTERNAL; /* every failure says why */
    arena_destroy(&a);
    return rc;
}

static st_rc_t run_text(const char *text)
{
    buf_t b;
    msgpack_packer pk;
    const char *p = text;
    st_rc_t rc;

    buf_init(&b);
    mpbuf_packer(&pk, &b);
    if (!pack_text(&pk, &p)) {
        buf_free(&b);
        return ST_EINVAL;
    }
    rc = run_bytes(b.data, b.len, 0);
    buf_free(&b);
    return rc;
}

#define DOC(summary, res)                                                                          \
    "{\"v\":1,\"modules\":[{\"name\":\"m\",\"file\":0,\"pkg\":false,\"export\":true,"              \
    "\"subs\":[],\"summary\":" summary ",\"res\":" res "}],\"ifaces\":[]}"

#define SUM_OK                                                                                     \
    "{\"imports\":[[1,0,\"lib\",\"f\",\"\",1,0,0]],\"defs\":[[\"g\",0,2,0,0]],"                    \
    "\"sigs\":[[0,[[\"a\",1,false]]]],\"classes\":[[\"C\",3,[],[[\"__init__\",0,0]],0]],"          \
    "\"all\":nil,\"getattr\":false,\"uses\":[[0,[],4,0,0]],\"calls\":[[0,1,[],false,false]]}"

static void expect_rc(const char *text, st_rc_t want, int line)
{
    st_rc_t got = run_text(text);
    if (got != want) {
        char m[96];
        snprintf(m, sizeof m, "document at line %d: rc %d, want %d", line, (int)got, (int)want);
        test__fail(__FILE__, line, m);
    }
}

#define EXPECT_RC(text, want) expect_rc((text), (want), __LINE__)

TEST(check_refuses_malformed_documents)
{
    EXPECT_RC((DOC(SUM_OK, "[[0,\"lib\"]]")), ST_OK);
    /* the old tuples, and keys it does not know */
    EXPECT_RC((DOC("{\"imports\":[[1,0,\"lib\",\"f\",\"\",1,0,0]],"
                   "\"defs\":[[\"g\",0,2,-1]],\"uses\":[[0,[],4,0]],"
                   "\"future_key\":[1,{\"x\":2}]}",
                   "[[0,\"lib\",\"extra\"]]")),
              ST_OK);
    EXPECT_RC(("{\"v\":2,\"modules\":[]}"), ST_ECORRUPT);
    EXPECT_RC(("{\"v\":1}"), ST_ECORRUPT);
    EXPECT_RC(("[1]"), ST_ECORRUPT);
    /* res does not match the imports */
    EXPECT_RC((DOC(SUM_OK, "[]")), ST_ECORRUPT);
    EXPECT_RC((DOC(SUM_OK, "[[0,\"lib\"],[0,\"lib\"]]")), ST_ECORRUPT);
    EXPECT_RC((DOC(SUM_OK, "[[9,\"lib\"]]")), ST_ECORRUPT);
    /* bad indices */
    EXPECT_RC((DOC("{\"imports\":[],\"uses\":[[0,[],1,0,0]]}", "[]")), ST_ECORRUPT);
    EXPECT_RC((DOC("{\"imports\":[],\"uses\":[[-1,[],1,0,0]]}", "[]")), ST_ECORRUPT);
    EXPECT_RC((DOC("{\"imports\":[[1,0,\"lib\",\"f\",\"\",1,0,0]],"
                   "\"uses\":[[0,[],1,0,0]],\"calls\":[[1,0,[],false,false]]}",
                   "[[0,\"lib\"]]")),
              ST_ECORRUPT);
    EXPECT_RC((DOC("{\"defs\":[[\"g\",0,2,0,0]],\"sigs\":[]}", "[]")), ST_ECORRUPT);
    EXPECT_RC((DOC("{\"classes\":[[\"C\",3,[],[[\"__init__\",0,5]],0]]}", "[]")), ST_ECORRUPT);
    /* wrong types, short tuples, out-of-range kinds */
    EXPECT_RC((DOC("{\"defs\":[[7,0,2,-1,0]]}", "[]")), ST_ECORRUPT);
    EXPECT_RC((DOC("{\"defs\":[[\"g\",0,2]]}", "[]")), ST_ECORRUPT);
    EXPECT_RC((DOC("{\"defs\":[[\"g\",9,2,-1,0]]}", "[]")), ST_ECORRUPT);
    EXPECT_RC((DOC("{\"sigs\":[[0,[[\"a\",7,false]]]]}", "[]")), ST_ECORRUPT);
    EXPECT_RC((DOC("{\"imports\":\"no\"}", "[]")), ST_ECORRUPT);
    EXPECT_RC((DOC("{\"getattr\":1}", "[]")), ST_ECORRUPT);
    EXPECT_RC((DOC("{\"noqa\":[[1,2,[3]]]}", "[]")), ST_ECORRUPT);
    EXPECT_RC((DOC("{\"stars\":[[\"x\",1,-1,false]]}", "[]")), ST_ECORRUPT);
    EXPECT_RC((DOC("{\"uses\":[[0,[],4294967296,0]]}", "[]")), ST_ECORRUPT);
    EXPECT_RC(("{\"v\":1,\"modules\":[{\"name\":\"m\",\"file\":0,\"res\":[]}]}"),
              ST_ECORRUPT); /* no summary */
    EXPECT_RC(("{\"v\":1,\"modules\":[],\"ifaces\":[{\"name\":\"x\","
               "\"names\":[[\"a\",5,nil,nil]]}]}"),
              ST_ECORRUPT);
    EXPECT_RC(("{\"v\":1,\"modules\":[],\"ifaces\":[{\"open\":true}]}"), ST_ECORRUPT);
    /* duplicates are tolerated: two modules of one name, a name given twice */
    EXPECT_RC(("{\"v\":1,\"modules\":[],\"ifaces\":[{\"name\":\"x\",\"names\":"
               "[[\"a\",0,nil,nil],[\"a\",1,nil,nil]]},{\"name\":\"x\"}]}"),
              ST_OK);
}

TEST(check_refuses_huge_counts)
{
    /* an array32 header claiming 2^32-1 modules in a tiny document */
    static const uint8_t doc[] = {0x82, 0xa1, 'v', 0x01, 0xa7, 'm',  'o',  'd',  'u',
                                  'l',  'e',  's', 0xdd, 0xff, 0xff, 0xff, 0xff, 0x80};
    CHECK_EQ_INT(run_bytes(doc, sizeof doc, 0), ST_ECORRUPT);
    /* a str32 name claiming 4 GiB */
    static const uint8_t doc2[] = {0x82, 0xa1, 'v',  0x01, 0xa7, 'm',  'o', 'd', 'u',
                                   'l',  'e',  's',  0x91, 0x81, 0xa4, 'n', 'a', 'm',
                                   'e',  0xdb, 0xff, 0xff, 0xff, 0xff, 'x'};
    CHECK_EQ_INT(run_bytes(doc2, sizeof doc2, 0), ST_ECORRUPT);
}

static const tmod_t fuzz_mods[] = {
    {.name = "app",
     .path = "app.py",
     .src = "from lib import f, kw, Plain, nope\nimport lib\nfrom b import *\n"
            "f(1, 2, 3)\nkw(zz=1)\nPlain()\nlib.f.x\nlib.nope\nprint(q, r)\n",
     .res = "0 lib|0 lib|0 lib|0 lib|0 lib|0 b",
     .sum = "{\"stars\":[[\"q\",9,7,false],[\"r\",9,10,false]],\"noqa\":[[5,5,[\"E11\"]]]}",
     .flags = ""},
    {.name = "b",
     .path = "b.py",
     .src = "import app\nfrom app import *\ndef q(): pass\n",
     .res = "0 app|0 app"},
};

TEST(check_survives_truncation_and_mutation)
{
    buf_t in;
    REQUIRE(build_input(fuzz_mods, 2, sig_iface, &in));
    REQUIRE(run_bytes(in.data, in.len, 0) == ST_OK);
    for (size_t n = 0; n < in.len; n++)
        if (run_bytes(in.data, n, 0) != ST_ECORRUPT) {
            fprintf(stderr, "  prefix %zu of %zu accepted\n", n, in.len);
            CHECK(!"a truncated input is corrupt");
            break;
        }
    static const uint8_t subst[] = {0x00, 0x7f, 0xff, 0xc0, 0xc3, 0xdd, 0xdf, 0xdb, 0x91, 0xa1};
    for (size_t i = 0; i < in.len; i++) {
        uint8_t keep = in.data[i];
        for (size_t k = 0; k < sizeof subst; k++) {
            in.data[i] = subst[k];
            st_rc_t rc = run_bytes(in.data, in.len, 0);
            CHECK(rc == ST_OK || rc == ST_ECORRUPT);
        }
        in.data[i] = keep;
    }
    buf_free(&in);
}

TEST(check_arena_limit_fails_the_job)
{
    buf_t in;
    REQUIRE(build_input(fuzz_mods, 2, sig_iface, &in));
    for (size_t limit = 512; limit <= 256 * 1024; limit = limit * 3 / 2) {
        st_rc_t rc = run_bytes(in.data, in.len, limit);
        CHECK(rc == ST_OK || rc == ST_ENOMEM);
    }
    CHECK_EQ_INT(run_bytes(in.data, in.len, 0), ST_OK);
    buf_free(&in);
}

TEST(check_fuzz_inputs_give_their_diagnostics)
{
    /* the input the two tests above mutate is itself a meaningful job */
    tres_t t;
    REQUIRE(run(fuzz_mods, 2, sig_iface, &t));
    CHECK_STREQ(t.diags[0], "1:1 E0611 No name 'nope' in module 'lib'\n"
                            "4:1 E1121 Too many positional arguments for function call\n"
                            "6:1 E1120 No value for argument 'x' in constructor call\n"
                            "8:1 E1101 Module 'lib' has no 'nope' member\n"
                            "9:10 F821 undefined name 'r'\n"); /* b defines q */
    CHECK_STREQ(t.drop[0], "9:7 9:10 ");
    CHECK_STREQ(t.diags[1], "1:1 R0401 Cyclic import (app -> b)\n");
    tres_free(&t);
}

TEST(check_result_decode_refuses_malformed)
{
    tres_t t;
    arena_t *a = arena_new(0);
    check_module_t *m;
    size_t n;
    REQUIRE(a != NULL);
    REQUIRE(run(fuzz_mods, 2, sig_iface, &t));
    REQUIRE(check_result_decode(t.raw, a, &m, &n, NULL) == ST_OK);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(m[0].n_diags, 5);
    CHECK_STREQ(m[0].diags[2].code, "E1120");
    CHECK(m[1].iface.len > 0 && m[1].iface.ptr >= t.raw.ptr &&
          m[1].iface.ptr + m[1].iface.len <= t.raw.ptr + t.raw.len);
    for (size_t k = 0; k < t.raw.len; k++)
        CHECK(check_result_decode((span_t){t.raw.ptr, k}, a, &m, &n, NULL) == ST_ECORRUPT);
    static const char *bad[] = {
        "{\"v\":2,\"modules\":[]}",
        "{\"modules\":[]}",
        "{\"v\":1,\"modules\":[{\"iface\":nil}]}",
        "{\"v\":1,\"modules\":[{\"file\":0,\"iface\":[1]}]}",
        "{\"v\":1,\"modules\":[{\"file\":0,\"diags\":[[1,1,\"E1\"]]}]}",
        "{\"v\":1,\"modules\":[{\"file\":0,\"diags\":[[1,1,\"\",\"m\"]]}]}",
        "{\"v\":1,\"modules\":[{\"file\":0,\"drop\":[[1]]}]}",
        "{\"v\":1,\"modules\":[{\"file\":-1}]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        buf_t b;
        msgpack_packer pk;
        const char *p = bad[i];
        buf_init(&b);
        mpbuf_packer(&pk, &b);
        REQUIRE(pack_text(&pk, &p));
        CHECK_EQ_INT(check_result_decode((span_t){b.data, b.len}, a, &m, &n, NULL), ST_ECORRUPT);
        buf_free(&b);
    }
    tres_free(&t);
    arena_destroy(&a);
}

TEST(check_unsettled_reexports_become_unknown)
{
    /* a chain of 70 re-exports: a0 <- a1 <- ... <- a69 defines x(). The
     * rounds stop before the start of the chain settles: what did not
     * settle is unknown, what did keeps its signature. */
    enum { N = 70 };
    buf_t doc;
    buf_init(&doc);
    buf_printf(&doc, "{\"v\":1,\"modules\":[");
    for (int i = 0; i < N; i++) {
        buf_printf(&doc,
                   "%s{\"name\":\"a%02d\",\"file\":%d,\"export\":true,\"summary\":", i ? "," : "",
                   i, i);
        if (i + 1 < N)
            buf_printf(
                &doc,
                "{\"imports\":[[1,0,\"a%02d\",\"x\",\"\",1,0,0]],\"defs\":[[\"x\",3,1,-1,0]],"
                "\"uses\":[[0,[],2,0,0]],\"calls\":[[0,1,[],false,false]]},"
                "\"res\":[[0,\"a%02d\"]]}",
                i + 1, i + 1);
        else
            buf_printf(&doc, "{\"defs\":[[\"x\",0,1,0,0]],\"sigs\":[[0,[]]]},\"res\":[]}");
    }
    buf_printf(&doc, "]}");
    buf_t b;
    msgpack_packer pk;
    const char *p = (const char *)doc.data;
    buf_init(&b);
    mpbuf_packer(&pk, &b);
    REQUIRE(pack_text(&pk, &p));
    arena_t *a = arena_new(0);
    span_t out;
    check_module_t *m;
    size_t n;
    REQUIRE(check_run((span_t){b.data, b.len}, a, &out, NULL) == ST_OK);
    REQUIRE(check_result_decode(out, a, &m, &n, NULL) == ST_OK);
    REQUIRE(n == N);
    char *first = span_text(m[0].iface), *settled = span_text(m[20].iface);
    CHECK_STREQ(first, "{\"name\":\"a00\",\"open\":false,\"all\":nil,\"subs\":[],"
                       "\"names\":[[\"x\",4,nil,nil]]}");
    CHECK_STREQ(settled, "{\"name\":\"a20\",\"open\":false,\"all\":nil,\"subs\":[],"
                         "\"names\":[[\"x\",0,[0,[]],nil]]}");
    /* x(1) is too many where x is known (a20 imports it from a21), not where
     * it is not (a0) */
    CHECK_EQ_INT(m[0].n_diags, 0);
    CHECK_EQ_INT(m[20].n_diags, 1);
    if (m[20].n_diags == 1)
        CHECK_STREQ(m[20].diags[0].code, "E1121");
    free(first);
    free(settled);
    arena_destroy(&a);
    buf_free(&b);
    buf_free(&doc);
}

TEST(check_star_of_a_dynamic_all_takes_every_name)
{
    static const tmod_t mods[] = {
        {.name = "a",
         .path = "a.py",
         .src = "import other\n__all__ = ['_p'] + other.names\n_p = 1\n_q = 2\nv = 3\n",
         .res = "2 other"},
        {.name = "b",
         .path = "b.py",
         .src = "from a import *\nprint(_p, zz)\n",
         .res = "0 a",
         .sum = "{\"stars\":[[\"_p\",2,7,false],[\"zz\",2,11,false]]}"},
    };
    tres_t t;
    REQUIRE(run(mods, 2, NULL, &t));
    CHECK_STREQ(t.iface[0], "{\"name\":\"a\",\"open\":false,\"all\":nil,\"subs\":[],\"names\":["
                            "[\"__all__\",2,nil,nil],[\"_p\",2,nil,nil],[\"_q\",2,nil,nil],"
                            "[\"other\",3,nil,\"other\"],[\"v\",2,nil,nil]]}");
    /* the __all__ a could not read may list any of its names */
    CHECK_STREQ(t.iface[1], "{\"name\":\"b\",\"open\":false,\"all\":nil,\"subs\":[],\"names\":["
                            "[\"_p\",2,nil,nil],[\"_q\",2,nil,nil],"
                            "[\"other\",3,nil,\"other\"],[\"v\",2,nil,nil]]}");
    CHECK_STREQ(t.diags[1], "2:11 F821 undefined name 'zz'\n");
    CHECK_STREQ(t.drop[1], "2:7 2:11 ");
    tres_free(&t);
}

TEST(check_cycles_ignore_stub_imports_and_duplicates)
{
    /* m's stub imports n for its annotations; m.py does not: no cycle. A
     * second export file for n is ignored (the first wins). */
    static const tmod_t mods[] = {
        {.name = "m",
         .path = "m.pyi",
         .src = "import n\ndef f(x: n.T) -> None: ...\n",
         .res = "0 n"},
        {.name = "m", .path = "m.py", .src = "def f(x): pass\n", .not_export = true},
        {.name = "n", .path = "n.py", .src = "import m\nclass T: pass\nm.f()\n", .res = "0 m"},
        {.name = "n", .path = "n2.py", .src = "import m\nm.g\n", .res = "0 m"},
    };
    tres_t t;
    REQUIRE(run(mods, 4, NULL, &t));
    CHECK_STREQ(t.diags[0], "");
    CHECK_STREQ(t.diags[2], "3:1 E1120 No value for argument 'x' in function call\n");
    CHECK_STREQ(t.iface[3], "nil");
    CHECK_STREQ(t.diags[3], "2:1 E1101 Module 'm' has no 'g' member\n");
    tres_free(&t);
}

/* ---- the documents' encoders and decoders ------------------------------------------------ */

static bool sum_str_is(sum_str_t s, const char *want)
{
    return s.len == strlen(want) && memcmp(s.s, want, s.len) == 0;
}

/* The interface a job writes, read back by check_iface_read. */
TEST(check_iface_round_trip)
{
    static const tmod_t mods[] = {
        {.name = "m",
         .path = "m.py",
         .src = "import os\n__all__ = ['f', 'C']\ndef f(a, *, k=1): pass\nclass C:\n"
                "    def __init__(self, x): pass\nv = 1\n",
         .res = "2 os",
         .subs = "[\"sub\"]"},
    };
    tres_t t;
    arena_t *a = arena_new(0);
    check_module_t *m;
    check_iface_t f;
    size_t n;
    mpread_t r;

    REQUIRE(a != NULL && run(mods, 1, NULL, &t));
    REQUIRE(check_result_decode(t.raw, a, &m, &n, NULL) == ST_OK && n == 1);
    mpread_init(&r, m[0].iface.ptr, m[0].iface.len);
    REQUIRE(check_iface_read(&r, a, &f) == ST_OK);
    CHECK(r.pos == m[0].iface.len);
    CHECK(sum_str_is(f.name, "m") && !f.open && f.has_all && f.n_all == 2);
    CHECK(f.n_subs == 1 && sum_str_is(f.subs[0], "sub"));
    REQUIRE(f.n_names == 5); /* C, __all__, f, os, v */
    CHECK(sum_str_is(f.names[0].name, "C") && f.names[0].kind == CHECK_NAME_CLASS);
    CHECK(f.names[0].has_sig && f.names[0].sig.n == 1 && sum_str_is(f.names[0].sig.p[0].name, "x"));
    CHECK(sum_str_is(f.names[2].name, "f") && f.names[2].kind == CHECK_NAME_FUNCTION);
    CHECK(f.names[2].has_sig && f.names[2].sig.n == 2 && f.names[2].sig.p[1].has_default);
    CHECK(sum_str_is(f.names[3].name, "os") && f.names[3].kind == CHECK_NAME_MODULE);
    CHECK(f.names[3].has_ref && sum_str_is(f.names[3].ref, "os") && !f.names[3].has_sig);
    CHECK(f.names[4].kind == CHECK_NAME_VARIABLE && !f.names[4].has_sig && !f.names[4].has_ref);
    tres_free(&t);
    arena_destroy(&a);
}

TEST(check_iface_read_namespace_and_refs)
{
    arena_t *a = arena_new(0);
    static const char *const subs[] = {"a", "b"};
    span_t out;
    check_iface_t f;
    mpread_t r;
    buf_t b;
    msgpack_packer pk;
    const char *text = "{\"name\":\"p\",\"open\":true,\"all\":nil,\"subs\":[],"
                       "\"names\":[[\"q\",3,nil,\"p.q\",\"later\"]],\"later\":1}";

    REQUIRE(a != NULL);
    REQUIRE(check_namespace_iface("ns", subs, 2, a, &out, NULL) == ST_OK);
    mpread_init(&r, out.ptr, out.len);
    REQUIRE(check_iface_read(&r, a, &f) == ST_OK);
    CHECK(sum_str_is(f.name, "ns") && !f.open && !f.has_all && f.n_names == 0);
    CHECK(f.n_subs == 2 && sum_str_is(f.subs[1], "b"));
    buf_init(&b);
    mpbuf_packer(&pk, &b);
    REQUIRE(pack_text(&pk, &text));
    mpread_init(&r, b.data, b.len);
    REQUIRE(check_iface_read(&r, a, &f) == ST_OK);
    CHECK(f.open && f.n_names == 1 && f.names[0].kind == CHECK_NAME_MODULE);
    CHECK(f.names[0].has_ref && sum_str_is(f.names[0].ref, "p.q"));
    for (size_t k = 0; k < b.len; k++) { /* every truncation refused */
        mpread_init(&r, b.data, k);
        CHECK(check_iface_read(&r, a, &f) == ST_ECORRUPT);
    }
    static const char *bad[] = {
        "{\"open\":false}", /* no name */
        "{\"name\":\"\"}",
        "{\"name\":\"m\",\"names\":[[\"x\",5,nil,nil]]}", /* kind past unknown */
        "{\"name\":\"m\",\"names\":[[\"x\",0,[0],nil]]}", /* a signature without params */
        "{\"name\":\"m\",\"names\":[[\"x\",0,nil]]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *p = bad[i];
        buf_reset(&b);
        mpbuf_packer(&pk, &b);
        REQUIRE(pack_text(&pk, &p));
        mpread_init(&r, b.data, b.len);
        CHECK(check_iface_read(&r, a, &f) == ST_ECORRUPT);
    }
    arena_set_limit(a, 1);
    arena_t *tiny = arena_new(256);
    REQUIRE(tiny != NULL);
    arena_set_limit(tiny, 1);
    mpread_init(&r, out.ptr, out.len);
    CHECK(check_iface_read(&r, tiny, &f) == ST_ENOMEM);
    arena_destroy(&tiny);
    buf_free(&b);
    arena_destroy(&a);
}

/* What check_input_* write, check_run reads: each field lands. */
TEST(check_input_round_trip)
{
    static const char src[] = "import nosuchmod\nfrom pkg import gone\n";
    scanner_t *sc = scanner_new();
    arena_t *a = arena_new(0);
    span_t scan, out, ns;
    buf_t in;
    mpbuf_t w;
    check_module_t *m;
    size_t n;
    static const char *const nsubs[] = {"x"};

    REQUIRE(sc != NULL && a != NULL);
    REQUIRE(scanner_run(sc, NULL, SCAN_KIND_INIT, (const uint8_t *)src, sizeof src - 1, a, &scan,
                        NULL) == ST_OK);
    REQUIRE(check_namespace_iface("pkg", nsubs, 1, a, &ns, NULL) == ST_OK);
    buf_init(&in);
    mpbuf_init(&w, &in);
    check_input_begin(&w, 1);
    check_input_module(&w, &(check_input_module_t){
                               .name = "top", .file = 7, .pkg = true, .export = true, .n_subs = 1});
    check_input_sub(&w, "child");
    check_input_summary(&w, scan_result_summary(scan));
    check_input_res(&w, 2);
    check_input_resolved(&w, 3, "nosuchmod");
    check_input_resolved(&w, 0, "pkg");
    check_input_ifaces(&w, 1);
    check_input_iface(&w, ns);
    REQUIRE(mpbuf_status(&w) == ST_OK);
    REQUIRE(check_run((span_t){in.data, in.len}, a, &out, NULL) == ST_OK);
    REQUIRE(check_result_decode(out, a, &m, &n, NULL) == ST_OK && n == 1);
    CHECK(m[0].file == 7 && m[0].iface.len > 0); /* export: its interface */
    REQUIRE(m[0].n_diags == 2);
    CHECK_STREQ(m[0].diags[0].code, "E0401");
    CHECK_STREQ(m[0].diags[1].message, "No name 'gone' in module 'pkg'");
    char *iface = span_text(m[0].iface);
    CHECK(strstr(iface, "\"subs\":[\"child\"]") != NULL);
    free(iface);
    buf_free(&in);
    scanner_destroy(&sc);
    arena_destroy(&a);
}

/* The key document: summaries and interfaces replaced by digests. */
TEST(check_input_key_document)
{
    buf_t b;
    mpbuf_t w;
    digest_t k1, k2;
    mpread_t r;
    uint32_t n;
    uint64_t v;
    const uint8_t *bin;

    memset(&k1, 1, sizeof k1);
    memset(&k2, 2, sizeof k2);
    buf_init(&b);
    mpbuf_init(&w, &b);
    check_input_begin(&w, 1);
    check_input_module(&w, &(check_input_module_t){.name = "m", .file = 0, .n_subs = 0});
    check_input_summary_key(&w, &k1);
    check_input_res(&w, 1);
    check_input_resolved(&w, 0, "dep");
    check_input_ifaces(&w, 1);
    check_input_iface_key(&w, "dep", &k2);
    REQUIRE(mpbuf_status(&w) == ST_OK);
    mpread_init(&r, b.data, b.len);
    REQUIRE(mpread_map(&r, &n) == ST_OK && n == 3 && mpread_key(&r, "v"));
    REQUIRE(mpread_uint(&r, &v) == ST_OK && v == CHECK_INPUT_VERSION && mpread_key(&r, "modules"));
    REQUIRE(mpread_array(&r, &n) == ST_OK && n == 1 && mpread_map(&r, &n) == ST_OK && n == 7);
    for (int k = 0; k < 5; k++) /* name, file, pkg, export, subs */
        REQUIRE(mpread_skip(&r) == ST_OK && mpread_skip(&r) == ST_OK);
    REQUIRE(mpread_key(&r, "summary") && mpread_bin(&r, &bin, &n) == ST_OK);
    CHECK(n == sizeof k1.b && memcmp(bin, k1.b, n) == 0);
    REQUIRE(mpread_key(&r, "res") && mpread_skip(&r) == ST_OK && mpread_key(&r, "ifaces"));
    REQUIRE(mpread_array(&r, &n) == ST_OK && n == 1 && mpread_array(&r, &n) == ST_OK && n == 2);
    REQUIRE(mpread_key(&r, "dep") && mpread_bin(&r, &bin, &n) == ST_OK);
    CHECK(n == sizeof k2.b && memcmp(bin, k2.b, n) == 0 && r.pos == b.len);
    buf_free(&b);
}
