/* checker_target.c - deciding a stub's version and platform tests.
 *
 * typeshed writes one stub for every Python: `if sys.version_info >= (3,
 * 10):` and `if sys.platform == "win32":` pick what a given version and
 * platform have, as type checkers read them (PEP 484 asks them to). The
 * summary of a stub keeps only the branch the scan's target takes, so that
 * `os.startfile` is no attribute of os on linux and a function changed in
 * 3.12 has one signature. The diagnostics do not change: every branch is
 * still walked, only what the walk records for the summary is dropped in a
 * branch not taken (checker_summary.c), so pyflakes' findings stay as
 * pyflakes makes them.
 *
 * A test is decided when it is built, with and/or/not and parentheses, from
 * comparisons of `sys.version_info` (whole, `[0]`, `[1]` or `[:2]`) with a
 * tuple of 1 to 3 integers or an integer, of `sys.platform` with a string
 * (== and !=), and `sys.platform.startswith("...")`; `sys` is the module
 * imported by `import sys` (or `as`), and `version_info` / `platform`
 * also stand alone when imported from sys. Anything else is undecided:
 * both branches stay, as in a .py file. */
#include "worker/python/checker_int.h"

#include <string.h>

enum { T_FALSE = 0, T_TRUE = 1, T_UNKNOWN = -1 };

typedef enum { V_NONE, V_VERSION, V_TUPLE, V_INT, V_PLATFORM, V_STR } vkind_t;

typedef struct {
    vkind_t kind;
    int64_t v[3]; /* V_TUPLE: its items (n); V_INT: v[0] */
    uint32_t n;
    const char *s; /* V_STR */
    uint32_t len;
} val_t;

static bool text_is(const checker_t *c, TSNode n, const char *want)
{
    uint32_t len;
    const char *t = text(c, n, &len);
    return len == strlen(want) && memcmp(t, want, len) == 0;
}

/* Is n the module sys, as `import sys` (or `import sys as s`) bound it? */
static bool is_sys(checker_t *c, TSNode n)
{
    binding_t *b;

    if (kind(c, n) != K_IDENTIFIER)
        return false;
    b = chk_lookup_quiet(c, name_id(c, n));
    return b != NULL && b->kind == B_IMPORT && b->full == chk_intern_bytes(c, "sys", 3);
}

/* Is n sys's attribute attr: `sys.attr`, or `attr` from `from sys import
 * attr`? */
static bool is_sys_attr(checker_t *c, TSNode n, const char *attr)
{
    lang_kind_t k = kind(c, n);

    if (k == K_ATTRIBUTE)
        return is_sys(c, first_child(n)) && text_is(c, last_child(n), attr);
    if (k == K_IDENTIFIER) {
        binding_t *b = chk_lookup_quiet(c, name_id(c, n));
        return b != NULL && b->kind == B_FROM && b->module == chk_intern_bytes(c, "sys", 3) &&
               b->real == chk_intern_bytes(c, attr, strlen(attr));
    }
    return false;
}

static bool int_of(const checker_t *c, TSNode n, int64_t *v)
{
    uint32_t len;
    const char *t;
    int64_t x = 0;

    if (kind(c, n) != K_INTEGER)
        return false;
    t = text(c, n, &len);
    if (len == 0 || len > 9)
        return false;
    for (uint32_t i = 0; i < len; i++) {
        if (t[i] < '0' || t[i] > '9')
            return false;
        x = x * 10 + (t[i] - '0');
    }
    *v = x;
    return true;
}

static bool str_of(const checker_t *c, TSNode n, const char **s, uint32_t *len)
{
    strinfo_t si;

    if (!chk_is_plain_str(c, n))
        return false;
    chk_string_info(c, n, &si);
    if (si.has_interp || si.has_escape || si.n_content > 1)
        return false;
    if (si.n_content == 0) {
        *s = "";
        *len = 0;
    } else {
        *s = text(c, si.content, len);
    }
    return true;
}

/* sys.version_info[...] with an integer index or [:2]. */
static val_t subscript_value(checker_t *c, TSNode n, const scan_target_t *t)
{
    val_t v = {.kind = V_NONE};
    TSNode obj = first_child(n), idx;
    int64_t i, hi;

    if (!is_sys_attr(c, obj, "version_info") || ts_node_named_child_count(n) != 2)
        return v;
    idx = ts_node_named_child(n, 1);
    if (int_of(c, idx, &i) && i < 2) {
        v.kind = V_INT;
        v.v[0] = i == 0 ? t->major : t->minor;
    } else if (kind(c, idx) == K_SLICE && ts_node_child_count(idx) == 2 &&
               !ts_node_is_named(ts_node_child(idx, 0)) && int_of(c, ts_node_child(idx, 1), &hi) &&
               hi >= 1 && hi <= 2) {
        v.kind = V_TUPLE; /* [:1] or [:2] */
        v.v[0] = t->major;
        v.v[1] = t->minor;
        v.n = (uint32_t)hi;
    }
    return v;
}

static val_t value_of(checker_t *c, TSNode n, const scan_target_t *t)
{
    val_t v = {.kind = V_NONE};

    n = chk_unparen(c, n);
    switch (kind(c, n)) {
    case K_IDENTIFIER:
    case K_ATTRIBUTE:
        if (is_sys_attr(c, n, "version_info"))
            v.kind = V_VERSION;
        else if (is_sys_attr(c, n, "platform"))
            v.kind = V_PLATFORM;
        return v;
    case K_SUBSCRIPT:
        return subscript_value(c, n, t);
    case K_INTEGER:
        if (int_of(c, n, &v.v[0]))
            v.kind = V_INT;
        return v;
    case K_STRING:
        if (str_of(c, n, &v.s, &v.len))
            v.kind = V_STR;
        return v;
    case K_TUPLE: {
        uint32_t k = ts_node_named_child_count(n);
        if (k < 1 || k > 3)
            return v;
        for (uint32_t i = 0; i < k; i++)
            if (!int_of(c, ts_node_named_child(n, i), &v.v[i]))
                return v;
        v.kind = V_TUPLE;
        v.n = k;
        return v;
    }
    default:
        return v;
    }
}

static int sign(int64_t d)
{
    return d < 0 ? -1 : d > 0;
}

/* Orders a and b (-1, 0, 1) into *cmp; false when it cannot be known.
 * sys.version_info is (major, minor, micro, ...): past the minor it is
 * unknown, and it is longer than any tuple that matches its start. */
static bool order(const val_t *a, const val_t *b, const scan_target_t *t, int *cmp)
{
    if (a->kind == V_VERSION && b->kind == V_TUPLE) {
        int64_t mine[2] = {t->major, t->minor};
        for (uint32_t i = 0; i < b->n; i++) {
            if (i >= 2)
                return false;
            if (mine[i] != b->v[i]) {
                *cmp = sign(mine[i] - b->v[i]);
                return true;
            }
        }
        *cmp = 1;
        return true;
    }
    if (a->kind == V_TUPLE && b->kind == V_VERSION) {
        if (!order(b, a, t, cmp))
            return false;
        *cmp = -*cmp;
        return true;
    }
    if (a->kind == V_TUPLE && b->kind == V_TUPLE) {
        for (uint32_t i = 0; i < a->n && i < b->n; i++)
            if (a->v[i] != b->v[i]) {
                *cmp = sign(a->v[i] - b->v[i]);
                return true;
            }
        *cmp = sign((int64_t)a->n - (int64_t)b->n);
        return true;
    }
    if (a->kind == V_INT && b->kind == V_INT) {
        *cmp = sign(a->v[0] - b->v[0]);
        return true;
    }
    return false;
}

/* sys.platform against a string: equal or not. */
static int platform_eq(const val_t *a, const val_t *b, const scan_target_t *t)
{
    const val_t *s = a->kind == V_STR ? a : b;
    const val_t *p = a->kind == V_PLATFORM ? a : b;

    if (s->kind != V_STR || p->kind != V_PLATFORM)
        return T_UNKNOWN;
    return strlen(t->platform) == s->len && memcmp(t->platform, s->s, s->len) == 0;
}

static int comparison(checker_t *c, TSNode n, const scan_target_t *t)
{
    TSNode left, right, op = {0};
    val_t a, b;
    int cmp, eq;

    if (ts_node_named_child_count(n) != 2)
        return T_UNKNOWN; /* a chain: a < b < c */
    left = ts_node_named_child(n, 0);
    right = ts_node_named_child(n, 1);
    for (uint32_t i = 0; i < ts_node_child_count(n); i++)
        if (!ts_node_is_named(ts_node_child(n, i)))
            op = ts_node_child(n, i);
    if (ts_node_is_null(op))
        return T_UNKNOWN;
    a = value_of(c, left, t);
    b = value_of(c, right, t);
    if ((eq = platform_eq(&a, &b, t)) != T_UNKNOWN) {
        if (text_is(c, op, "=="))
            return eq;
        if (text_is(c, op, "!="))
            return !eq;
        return T_UNKNOWN;
    }
    if (!order(&a, &b, t, &cmp))
        return T_UNKNOWN;
    if (text_is(c, op, "<"))
        return cmp < 0;
    if (text_is(c, op, "<="))
        return cmp <= 0;
    if (text_is(c, op, ">"))
        return cmp > 0;
    if (text_is(c, op, ">="))
        return cmp >= 0;
    if (text_is(c, op, "=="))
        return cmp == 0;
    if (text_is(c, op, "!="))
        return cmp != 0;
    return T_UNKNOWN;
}

/* sys.platform.startswith("prefix") */
static int startswith(checker_t *c, TSNode n, const scan_target_t *t)
{
    TSNode f = field(c, n, F_FUNCTION), args = field(c, n, F_ARGUMENTS);
    const char *s;
    uint32_t len;

    if (kind(c, f) != K_ATTRIBUTE || !text_is(c, last_child(f), "startswith") ||
        !is_sys_attr(c, first_child(f), "platform") || kind(c, args) != K_ARGUMENT_LIST ||
        ts_node_named_child_count(args) != 1 || !str_of(c, ts_node_named_child(args, 0), &s, &len))
        return T_UNKNOWN;
    return strlen(t->platform) >= len && memcmp(t->platform, s, len) == 0;
}

static int decide(checker_t *c, TSNode n, const scan_target_t *t, uint32_t depth)
{
    int a, b;

    if (depth > 32)
        return T_UNKNOWN;
    n = chk_unparen(c, n);
    switch (kind(c, n)) {
    case K_COMPARISON:
        return comparison(c, n, t);
    case K_CALL:
        return startswith(c, n, t);
    case K_NOT_OP:
        a = decide(c, last_child(n), t, depth + 1);
        return a == T_UNKNOWN ? T_UNKNOWN : !a;
    case K_BOOLEAN_OP: {
        TSNode op = ts_node_child(n, 1);
        bool is_and = text_is(c, op, "and");
        a = decide(c, first_child(n), t, depth + 1);
        b = decide(c, last_child(n), t, depth + 1);
        if (is_and)
            return a == T_FALSE || b == T_FALSE ? T_FALSE
                   : a == T_TRUE && b == T_TRUE ? T_TRUE
                                                : T_UNKNOWN;
        return a == T_TRUE || b == T_TRUE     ? T_TRUE
               : a == T_FALSE && b == T_FALSE ? T_FALSE
                                              : T_UNKNOWN;
    }
    default:
        return T_UNKNOWN;
    }
}

int chk_target_test(checker_t *c, TSNode test)
{
    if (!c->in->is_stub || ts_node_is_null(test))
        return T_UNKNOWN;
    return decide(c, test, &c->in->target, 0);
}

bool chk_is_target_test(checker_t *c, TSNode test)
{
    scan_target_t t = scan_target_resolve(NULL);

    return !ts_node_is_null(test) && decide(c, test, &t, 0) != T_UNKNOWN;
}

/* ---- branches ------------------------------------------------------------ */

void chk_branch_enter(checker_t *c, branch_t *br, TSNode test, bool is_else)
{
    int t = T_UNKNOWN;

    br->dead = br->decided = false;
    if (!br->decide)
        return;
    if (br->taken) {
        br->dead = true; /* an earlier branch is taken whenever this is reached */
    } else {
        t = is_else ? T_TRUE : chk_target_test(c, test);
        if (t == T_FALSE) {
            br->dead = true;
        } else if (t == T_TRUE) {
            br->decided = br->certain;
            br->taken = true;
        } else {
            br->certain = false;
        }
    }
    c->not_taken += br->dead;
    c->taken += br->decided;
}

void chk_branch_leave(checker_t *c, branch_t *br)
{
    c->not_taken -= br->dead;
    c->taken -= br->decided;
}
