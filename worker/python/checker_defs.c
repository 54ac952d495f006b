/* checker_defs.c - imports, functions and classes: the statements that
 * bind a module, a function or a class, and the scopes they open.
 *
 * A function's decorators, defaults and annotations are read where it is
 * defined; its body is deferred (checker_scope.c) and runs at the end of
 * the module (checker.c), in a function scope of its own. A class body runs
 * in place, in a class scope its methods do not see. */
#include "worker/python/checker_int.h"

#include <stdio.h>
#include <string.h>

static const char *const future_features[] = {
    "nested_scopes",  "generators",       "division",       "absolute_import", "with_statement",
    "print_function", "unicode_literals", "barry_as_FLUFL", "generator_stop",  "annotations"};

/* ---- imports --------------------------------------------------------------- */

/* "a.b.c" from a dotted_name, joined without the spaces Python allows. */
static uint32_t dotted_id(checker_t *c, TSNode n, const char *prefix, size_t plen)
{
    char buf[1024];
    size_t len = 0;

    if (plen > sizeof buf / 2)
        plen = sizeof buf / 2;
    memcpy(buf, prefix, plen);
    len = plen;
    if (!ts_node_is_null(n)) {
        bool first = true;
        FOR_KIDS(c, n, cu)
        {
            TSNode id = KID(cu);
            uint32_t l;
            const char *s;
            if (kind(c, id) != K_IDENTIFIER)
                continue;
            s = text(c, id, &l);
            if (len + l + 1 < sizeof buf) {
                if (!first)
                    buf[len++] = '.';
                memcpy(buf + len, s, l);
                len += l;
            }
            first = false;
        }
    }
    return chk_intern_bytes(c, buf, len);
}

void chk_visit_import(checker_t *c, TSNode n)
{
    uint32_t line, col;

    node_pos(c, n, &line, &col);
    FOR_KIDS(c, n, cu)
    {
        TSNode a = KID(cu), dn = a, alias = {0};
        binding_t *b;
        if (kind(c, a) == K_ALIASED_IMPORT) {
            dn = field(c, a, F_NAME);
            alias = field(c, a, F_ALIAS);
        } else if (kind(c, a) != K_DOTTED_NAME) {
            continue;
        }
        uint32_t full = dotted_id(c, dn, "", 0);
        bool dotted = ts_node_named_child_count(dn) > 1;
        if (ts_node_is_null(alias) && dotted) {
            b = chk_binding_new(c, name_id(c, ts_node_named_child(dn, 0)), B_SUBMODULE, n);
        } else {
            uint32_t nm = ts_node_is_null(alias) ? full : name_id(c, alias);
            b = chk_binding_new(c, nm, B_IMPORT, n);
        }
        if (b == NULL)
            continue;
        b->full = full;
        b->parent_is_for = c->in_for;
        chk_summary_import(c, b, SUM_IMPORT, 0, full, UINT32_MAX,
                           ts_node_is_null(alias) ? UINT32_MAX : b->name, n);
        chk_add_binding(c, line, col, b);
    }
}

static bool is_future_feature(const char *s, size_t len)
{
    for (size_t i = 0; i < sizeof future_features / sizeof future_features[0]; i++)
        if (strlen(future_features[i]) == len && memcmp(future_features[i], s, len) == 0)
            return true;
    return false;
}

/* One imported name of a from-import: `name` or `name as alias`. */
static void from_name(checker_t *c, TSNode stmt, TSNode a, uint32_t module, int level, bool future)
{
    TSNode dn = a, alias = {0};
    uint32_t line, col, real, bound;
    binding_t *b;
    size_t mlen;
    const char *ms;

    if (kind(c, a) == K_ALIASED_IMPORT) {
        dn = field(c, a, F_NAME);
        alias = field(c, a, F_ALIAS);
    }
    real = dotted_id(c, dn, "", 0);
    bound = ts_node_is_null(alias) ? real : name_id(c, alias);
    node_pos(c, stmt, &line, &col);
    if (future) {
        size_t rl;
        const char *rs = intern_str(c->names, real, &rl);
        if (!is_future_feature(rs, rl))
            REPORT(c, stmt, "F407", "future feature %s is not defined", rs);
        if (real == WK_ANNOTATIONS_F)
            c->annotations_future = true;
    }
    if ((b = chk_binding_new(c, bound, future ? B_FUTURE : B_FROM, stmt)) == NULL)
        return;
    ms = intern_str(c->names, module, &mlen);
    {
        char buf[1200];
        size_t rl;
        const char *rs = intern_str(c->names, real, &rl);
        int k = snprintf(buf, sizeof buf, "%s%s%.*s", ms,
                         (mlen > 0 && ms[mlen - 1] == '.') ? "" : ".", (int)rl, rs);
        b->full = chk_intern_bytes(c, buf, k > 0 && (size_t)k < sizeof buf ? (size_t)k : 0);
    }
    b->module = module;
    b->real = real;
    b->parent_is_for = c->in_for;
    if (future)
        mark_used(c, b, line, col);
    chk_summary_import(c, b, future ? SUM_FUTURE : SUM_FROM, level, module, real,
                       ts_node_is_null(alias) ? UINT32_MAX : bound, stmt);
    chk_add_binding(c, line, col, b);
}

void chk_visit_import_from(checker_t *c, TSNode n, bool future)
{
    TSNode mod = field(c, n, F_MODULE_NAME);
    uint32_t module;
    int level = 0;

    if (future) {
        if (!c->futures_allowed)
            REPORT(c, n, "F404", "from __future__ imports must occur at the beginning of the file");
        module = chk_intern_bytes(c, "__future__", 10);
    } else {
        c->futures_allowed = false;
        if (kind(c, mod) == K_RELATIVE_IMPORT) {
            TSNode prefix = {0}, dn = {0};
            FOR_KIDS(c, mod, cu)
            {
                TSNode k = KID(cu);
                if (kind(c, k) == K_IMPORT_PREFIX)
                    prefix = k;
                else if (kind(c, k) == K_DOTTED_NAME)
                    dn = k;
            }
            char dots[256];
            uint32_t plen = 0;
            if (!ts_node_is_null(prefix)) {
                uint32_t tl;
                const char *t = text(c, prefix, &tl);
                for (uint32_t i = 0; i < tl && plen < sizeof dots; i++)
                    if (t[i] == '.')
                        dots[plen++] = '.';
            }
            level = (int)plen;
            module = dotted_id(c, dn, dots, plen);
        } else {
            module = dotted_id(c, mod, "", 0);
        }
    }
    FOR_KIDS(c, n, cu)
    {
        TSNode a = KID(cu);
        TSFieldId f = ts_tree_cursor_current_field_id(cu);
        if (kind(c, a) == K_WILDCARD_IMPORT) {
            size_t ml;
            const char *ms = intern_str(c->names, module, &ml);
            if (cur(c)->kind != SC_MODULE) {
                REPORT(c, n, "F406", "'from %s import *' only allowed at module level", ms);
                continue;
            }
            cur(c)->import_starred = true;
            REPORT(c, n, "F403", "'from %s import *' used; unable to detect undefined names", ms);
            char buf[1100];
            int k = snprintf(buf, sizeof buf, "%s.*", ms);
            binding_t *b = chk_binding_new(
                c, chk_intern_bytes(c, buf, k > 0 && (size_t)k < sizeof buf ? (size_t)k : 0),
                B_STAR, n);
            if (b == NULL)
                continue;
            b->full = module;
            b->module = module;
            chk_summary_import(c, b, SUM_STAR, level, module, UINT32_MAX, UINT32_MAX, n);
            uint32_t line, col;
            node_pos(c, n, &line, &col);
            chk_add_binding(c, line, col, b);
        } else if (f == c->L->field_id[F_NAME]) {
            from_name(c, n, a, module, level, future);
        }
    }
}

/* ---- functions and classes ----------------------------------------------- */

/* The identifier a parameter binds, or a null node (separators). */
TSNode chk_param_name(const checker_t *c, TSNode p)
{
    switch (kind(c, p)) {
    case K_IDENTIFIER:
        return p;
    case K_DEFAULT_PARAMETER:
    case K_TYPED_DEFAULT_PARAMETER: {
        TSNode nm = field(c, p, F_NAME);
        return kind(c, nm) == K_IDENTIFIER ? nm : (TSNode){0};
    }
    case K_TYPED_PARAMETER:
    case K_LIST_SPLAT_PATTERN:
    case K_DICT_SPLAT_PATTERN: {
        TSNode ch = first_named(p);
        if (!ts_node_is_null(ch) && kind(c, ch) != K_IDENTIFIER)
            ch = first_named(ch);
        return !ts_node_is_null(ch) && kind(c, ch) == K_IDENTIFIER ? ch : (TSNode){0};
    }
    default:
        return (TSNode){0};
    }
}

/* What CPython's grammar refuses in a parameter list and tree-sitter's
 * accepts: a parameter without default after one with, a bare `*` with no
 * keyword-only parameter after it, and `def f((a, b))`. */
static void check_param_order(checker_t *c, TSNode params)
{
    bool defaults = false, kwonly = false, bare_star = false;
    TSNode star = {0};

    FOR_KIDS(c, params, cu)
    {
        TSNode p = KID(cu);
        lang_kind_t k = kind(c, p);
        bool named = k == K_IDENTIFIER || k == K_TYPED_PARAMETER || k == K_DEFAULT_PARAMETER ||
                     k == K_TYPED_DEFAULT_PARAMETER;
        if (k == K_TYPED_PARAMETER) {
            lang_kind_t ik = kind(c, first_named(p));
            if (ik == K_LIST_SPLAT_PATTERN || ik == K_DICT_SPLAT_PATTERN) {
                named = false;
                k = ik;
            }
        }
        if (k == K_KEYWORD_SEPARATOR || k == K_LIST_SPLAT_PATTERN) {
            kwonly = true;
            bare_star = k == K_KEYWORD_SEPARATOR;
            star = p;
        } else if (k == K_DICT_SPLAT_PATTERN) {
            if (bare_star)
                chk_syntax_error(c, star, "named arguments must follow bare *");
            bare_star = false;
        } else if (k == K_TUPLE_PATTERN) {
            chk_syntax_error(c, p, "invalid syntax (tuple parameter)");
        } else if (named) {
            bare_star = false;
            if (k == K_DEFAULT_PARAMETER || k == K_TYPED_DEFAULT_PARAMETER)
                defaults = true;
            else if (defaults && !kwonly)
                chk_syntax_error(c, p, "non-default argument follows default argument");
        }
    }
    if (bare_star)
        chk_syntax_error(c, star, "named arguments must follow bare *");
}

/* At definition time: annotations, then defaults, then the duplicate
 * argument check (pyflakes' LAMBDA before the body is deferred). */
static void handle_params_at_def(checker_t *c, TSNode def, TSNode params, TSNode returns)
{
    uint32_t seen[64], n_seen = 0;

    if (!ts_node_is_null(params)) {
        FOR_KIDS(c, params, cu)
        {
            TSNode p = KID(cu);
            lang_kind_t k = kind(c, p);
            if (k == K_TYPED_PARAMETER || k == K_TYPED_DEFAULT_PARAMETER)
                chk_handle_annotation(c, field(c, p, F_TYPE), def);
        }
    }
    if (!ts_node_is_null(returns))
        chk_handle_annotation(c, returns, def);
    if (ts_node_is_null(params))
        return;
    check_param_order(c, params);
    FOR_KIDS(c, params, cu)
    {
        TSNode p = KID(cu);
        lang_kind_t k = kind(c, p);
        if (k == K_DEFAULT_PARAMETER || k == K_TYPED_DEFAULT_PARAMETER)
            chk_visit(c, last_child(p));
        TSNode nm = chk_param_name(c, p);
        if (ts_node_is_null(nm))
            continue;
        uint32_t id = name_id(c, nm);
        for (uint32_t i = 0; i < n_seen; i++)
            if (seen[i] == id)
                REPORT(c, def, "F831", "duplicate argument '%s' in function definition",
                       chk_name_str(c, id));
        if (n_seen < sizeof seen / sizeof seen[0])
            seen[n_seen++] = id;
    }
}

static void bind_params(checker_t *c, TSNode def, TSNode params)
{
    if (ts_node_is_null(params))
        return;
    FOR_KIDS(c, params, cu)
    {
        TSNode p = KID(cu), nm = chk_param_name(c, p);
        uint32_t line, col;
        binding_t *b;
        if (ts_node_is_null(nm))
            continue;
        if ((b = chk_binding_new(c, name_id(c, nm), B_ARGUMENT, def)) == NULL)
            continue;
        node_pos(c, nm, &line, &col);
        chk_add_binding(c, line, col, b);
    }
}

static bool has_overload_decorator(checker_t *c, TSNode decorated)
{
    bool found = false;

    if (ts_node_is_null(decorated))
        return false;
    FOR_KIDS(c, decorated, cu)
    {
        TSNode d = KID(cu);
        if (kind(c, d) == K_DECORATOR && chk_is_typing(c, first_named(d), WK_OVERLOAD))
            found = true;
    }
    return found;
}

/* enum's helpers that copy an enum's members into a module's namespace:
 * `@enum.global_enum` and `IntEnum._convert_(name, __name__, ...)` (re, ssl,
 * socket, signal use them). A module using one has names the summary cannot
 * list: it is dynamic. f is a callee or a decorator expression. */
bool chk_is_global_enum(checker_t *c, TSNode f)
{
    uint32_t len;
    const char *t;

    if (kind(c, f) == K_CALL)
        f = first_child(f);
    if (kind(c, f) == K_ATTRIBUTE)
        f = last_child(f);
    if (kind(c, f) != K_IDENTIFIER)
        return false;
    t = text(c, f, &len);
    return len == 11 && memcmp(t, "global_enum", 11) == 0;
}

/* A call of global_enum or _convert_: the module is dynamic. (A class
 * decorated with global_enum is not: its members are known, see
 * SUM_CLASS_GLOBAL_ENUM.) */
void chk_note_enum_export(checker_t *c, TSNode f)
{
    uint32_t len;
    const char *t;

    if (c->sum == NULL)
        return;
    if (chk_is_global_enum(c, f)) {
        summary_set_dynamic(c->sum);
        return;
    }
    if (kind(c, f) == K_ATTRIBUTE)
        f = last_child(f);
    if (kind(c, f) != K_IDENTIFIER)
        return;
    t = text(c, f, &len);
    if (len == 9 && memcmp(t, "_convert_", 9) == 0)
        summary_set_dynamic(c->sum);
}

static void visit_decorators(checker_t *c, TSNode decorated)
{
    if (ts_node_is_null(decorated))
        return;
    FOR_KIDS(c, decorated, cu)
    {
        TSNode d = KID(cu);
        if (kind(c, d) == K_DECORATOR)
            chk_visit_kids(c, d);
    }
}

static void check_py312(checker_t *c, TSNode n)
{
    TSNode tp = field(c, n, F_TYPE_PARAMETERS);
    if (!ts_node_is_null(tp))
        REPORT(c, tp, "E999", "SyntaxError: type parameter lists need Python 3.12");
}

void chk_visit_function(checker_t *c, TSNode n, TSNode decorated)
{
    uint32_t line, col;
    binding_t *b;

    check_py312(c, n);
    visit_decorators(c, decorated);
    handle_params_at_def(c, n, field(c, n, F_PARAMETERS), field(c, n, F_RETURN_TYPE));
    chk_defer(c, D_FUNCTION, n);
    if ((b = chk_binding_new(c, name_id(c, field(c, n, F_NAME)), B_FUNCTION, n)) == NULL)
        return;
    b->overload = has_overload_decorator(c, decorated);
    b->parent_is_for = c->in_for;
    b->def = n;
    b->decorated = decorated;
    node_pos(c, n, &line, &col);
    chk_add_binding(c, line, col, b);
}

void chk_visit_class(checker_t *c, TSNode n, TSNode decorated)
{
    TSNode bases = field(c, n, F_SUPERCLASSES);
    uint32_t saved_loop = c->loop, line, col;
    binding_t *b;

    check_py312(c, n);
    visit_decorators(c, decorated);
    if (!ts_node_is_null(bases))
        chk_visit_kids(c, bases);
    chk_push_scope(c, SC_CLASS);
    c->loop = 0;
    uint32_t saved_blocks = c->fblocks;
    c->fblocks = 0;
    chk_visit_block(c, last_child(n), false);
    c->fblocks = saved_blocks;
    c->loop = saved_loop;
    scope_t *body = cur(c);
    chk_pop_scope(c);
    if ((b = chk_binding_new(c, name_id(c, field(c, n, F_NAME)), B_CLASS, n)) == NULL)
        return;
    b->parent_is_for = c->in_for;
    b->def = n;
    b->decorated = decorated;
    b->body = body;
    node_pos(c, n, &line, &col);
    chk_add_binding(c, line, col, b);
}

void chk_visit_lambda(checker_t *c, TSNode n)
{
    TSNode params = field(c, n, F_PARAMETERS);
    handle_params_at_def(c, n, params, (TSNode){0});
    chk_defer(c, D_LAMBDA, n);
}

/* Comments that sit between the parts of a compound statement (type
 * comments of a def, a for or a with land there). */
void chk_visit_comments(checker_t *c, TSNode n)
{
    FOR_KIDS(c, n, cu)
    {
        if (kind(c, KID(cu)) == K_COMMENT)
            chk_visit(c, KID(cu));
    }
}

/* A deferred function or lambda body, in a new function scope. */
void chk_run_function(checker_t *c, TSNode n, bool is_lambda)
{
    uint32_t saved_loop = c->loop;

    chk_push_scope(c, SC_FUNCTION);
    c->loop = 0;
    bind_params(c, n, field(c, n, F_PARAMETERS));
    if (!is_lambda)
        chk_visit_comments(c, n);
    if (is_lambda)
        chk_visit(c, last_child(n));
    else
        chk_visit_block(c, last_child(n), false);
    PUSH(c, c->fscopes, c->n_fscopes, c->cap_fscopes, cur(c));
    c->loop = saved_loop;
    chk_pop_scope(c);
}
