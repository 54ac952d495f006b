/* checker_expr.c - expressions: comprehensions, strings and f-strings,
 * comparisons, subscripts and generic types, calls, raise, attribute
 * chains, numbers, conditional and boolean operators, print and binary
 * operators.
 *
 * Most of the work is reading names (checker_scope.c's loads) in Python's
 * order; the checks here are the ones pyflakes makes on an expression's
 * shape (F541, F632, F633, F901), and the syntax errors CPython raises that
 * tree-sitter lets pass. */
#include "worker/python/checker_int.h"

#include <string.h>

/* ---- expressions ---------------------------------------------------------- */

void chk_visit_comprehension(checker_t *c, TSNode n)
{
    TSNode body = field(c, n, F_BODY);

    chk_push_scope(c, SC_GENERATOR);
    FOR_KIDS(c, n, cu)
    {
        TSNode cl = KID(cu);
        lang_kind_t k = kind(c, cl);
        if (k == K_FOR_IN_CLAUSE) {
            uint32_t iters = 0;
            FOR_KIDS(c, cl, cu2)
            {
                if (ts_tree_cursor_current_field_id(cu2) == c->L->field_id[F_RIGHT] &&
                    ts_node_is_named(KID(cu2))) {
                    if (++iters == 2 && kind(c, n) == K_GENERATOR_EXP)
                        chk_syntax_error(c, first_named(n),
                                         "Generator expression must be parenthesized");
                    else if (iters == 2)
                        chk_syntax_error(c, KID(cu2), "invalid syntax");
                    chk_visit(c, KID(cu2));
                }
            }
            chk_visit_target(c, field(c, cl, F_LEFT), ST_COMP, false, false);
        } else if (k == K_IF_CLAUSE) {
            chk_visit_kids(c, cl);
        }
    }
    if (kind(c, body) == K_PAIR) {
        chk_visit(c, first_child(body));
        chk_visit(c, last_child(body));
    } else {
        chk_visit(c, body);
    }
    chk_pop_scope(c);
}

static void visit_interpolations(checker_t *c, TSNode s)
{
    FOR_KIDS(c, s, cu)
    {
        TSNode ch = KID(cu);
        lang_kind_t k = kind(c, ch);
        if (k == K_INTERPOLATION || k == K_FORMAT_EXPRESSION) {
            chk_visit(c, field(c, ch, F_EXPRESSION));
            TSNode spec = field(c, ch, F_FORMAT_SPECIFIER);
            if (!ts_node_is_null(spec))
                visit_interpolations(c, spec);
        } else if (k == K_FORMAT_SPECIFIER) {
            visit_interpolations(c, ch);
        }
    }
}

/* A bytes literal may only hold ASCII; a mix of bytes and str parts in
 * one concatenation is refused too. */
static void check_bytes(checker_t *c, TSNode n)
{
    uint32_t len, bytes = 0, strs = 0;
    const char *t = text(c, n, &len);

    for (uint32_t i = 0; i < len; i++)
        if ((unsigned char)t[i] >= 0x80) {
            strinfo_t si;
            chk_string_info(c, n, &si);
            if (si.is_bytes) {
                chk_syntax_error(c, n, "bytes can only contain ASCII literal characters");
                return;
            }
            break;
        }
    if (kind(c, n) != K_CONCAT_STRING)
        return;
    FOR_KIDS(c, n, cu)
    {
        strinfo_t si;
        if (kind(c, KID(cu)) != K_STRING)
            continue;
        chk_string_info(c, KID(cu), &si);
        if (si.is_bytes)
            bytes++;
        else
            strs++;
    }
    if (bytes > 0 && strs > 0)
        chk_syntax_error(c, n, "cannot mix bytes and nonbytes literals");
}

/* A string, or the parts of an implicit concatenation: F541, names inside
 * f-strings, and string annotations. */
void chk_visit_strings(checker_t *c, TSNode n)
{
    bool any_f = false, any_interp = false, any_bytes = false;
    uint32_t parts = 0;
    bool saved = c->in_fstring;

    if (kind(c, n) == K_STRING) {
        strinfo_t si;
        chk_string_info(c, n, &si);
        any_f = si.is_f;
        any_interp = si.has_interp;
        any_bytes = si.is_bytes;
        parts = 1;
    } else {
        FOR_KIDS(c, n, cu)
        {
            strinfo_t si;
            if (kind(c, KID(cu)) != K_STRING)
                continue;
            chk_string_info(c, KID(cu), &si);
            any_f = any_f || si.is_f;
            any_interp = any_interp || si.has_interp;
            any_bytes = any_bytes || si.is_bytes;
            parts++;
        }
    }
    if (any_bytes)
        check_bytes(c, n);
    if (!any_f) {
        if (c->ann != ANN_NONE && !any_bytes && parts == 1) {
            if (c->in_deferred) {
                uint32_t el, ec;
                node_pos(c, n, &el, &ec);
                chk_string_annotation(c, n, el, ec);
            } else {
                chk_defer(c, D_STRING_ANN, n);
            }
        }
        return;
    }
    if (!c->in_fstring && !any_interp)
        REPORT(c, n, "F541", "f-string is missing placeholders");
    c->in_fstring = true;
    if (kind(c, n) == K_STRING) {
        visit_interpolations(c, n);
    } else {
        FOR_KIDS(c, n, cu)
        {
            if (kind(c, KID(cu)) == K_STRING)
                visit_interpolations(c, KID(cu));
        }
    }
    c->in_fstring = saved;
}

static bool is_constant(const checker_t *c, TSNode n, bool *singleton)
{
    n = chk_unparen(c, n);
    *singleton = false;
    switch (kind(c, n)) {
    case K_TRUE:
    case K_FALSE:
    case K_NONE:
    case K_ELLIPSIS:
        *singleton = true;
        return true;
    case K_INTEGER:
    case K_FLOAT:
        return true;
    case K_STRING: {
        strinfo_t si;
        chk_string_info(c, n, &si);
        return !si.is_f;
    }
    case K_CONCAT_STRING: {
        for (uint32_t i = 0; i < ts_node_named_child_count(n); i++) {
            strinfo_t si;
            chk_string_info(c, ts_node_named_child(n, i), &si);
            if (si.is_f)
                return false;
        }
        return true;
    }
    case K_TUPLE: {
        for (uint32_t i = 0; i < ts_node_named_child_count(n); i++) {
            bool s;
            if (!is_constant(c, ts_node_named_child(n, i), &s))
                return false;
        }
        return true;
    }
    default:
        return false;
    }
}

static bool is_const_non_singleton(const checker_t *c, TSNode n)
{
    bool singleton;
    return is_constant(c, n, &singleton) && !singleton;
}

void chk_visit_comparison(checker_t *c, TSNode n)
{
    TSNode prev = {0};
    bool pending_is = false;

    FOR_KIDS(c, n, cu)
    {
        TSNode ch = KID(cu);
        if (!ts_node_is_named(ch)) {
            uint32_t len;
            const char *op = text(c, ch, &len);
            pending_is = len >= 2 && op[0] == 'i' && op[1] == 's';
            continue;
        }
        if (pending_is && (is_const_non_singleton(c, prev) || is_const_non_singleton(c, ch)))
            REPORT(c, n, "F632",
                   "use ==/!= to compare constant literals (str, bytes, int, float, tuple)");
        pending_is = false;
        prev = ch;
        chk_visit(c, ch);
    }
}

/* pyflakes' SUBSCRIPT: `Literal[...]` holds values, not types; in
 * `Annotated[T, x]` only T is a type; any other typing generic makes its
 * arguments annotations. elems are the subscript's elements. */
static void visit_generic_args(checker_t *c, TSNode value, const TSNode *elems, uint32_t n)
{
    uint8_t saved = c->ann;

    if (chk_is_name_or_attr(c, value, WK_LITERAL)) {
        c->ann = ANN_NONE;
        chk_visit(c, value);
        for (uint32_t i = 0; i < n; i++)
            chk_visit(c, elems[i]);
    } else if (chk_is_name_or_attr(c, value, WK_ANNOTATED)) {
        chk_visit(c, value);
        for (uint32_t i = 0; i < n; i++) {
            c->ann = (n >= 2 && i > 0) ? ANN_NONE : saved;
            chk_visit(c, elems[i]);
        }
    } else {
        if (chk_is_typing(c, value, UINT32_MAX))
            c->ann = ANN_BARE;
        chk_visit(c, value);
        for (uint32_t i = 0; i < n; i++)
            chk_visit(c, elems[i]);
    }
    c->ann = saved;
}

#define MAX_ELEMS 256

void chk_visit_subscript(checker_t *c, TSNode n)
{
    TSNode value = first_child(n), elems[MAX_ELEMS];
    uint32_t k = 0;

    FOR_KIDS(c, n, cu)
    {
        if (ts_tree_cursor_current_field_id(cu) == c->L->field_id[F_SUBSCRIPT] && k < MAX_ELEMS)
            elems[k++] = KID(cu);
    }
    visit_generic_args(c, value, elems, k);
}

/* `X[...]` in an annotation, which tree-sitter parses as a generic type. */
void chk_visit_generic_type(checker_t *c, TSNode n)
{
    TSNode value = first_child(n), params = last_child(n), elems[MAX_ELEMS];
    uint32_t k = 0;

    if (kind(c, params) == K_TYPE_PARAMETER) {
        FOR_KIDS(c, params, cu)
        {
            if (ts_node_is_named(KID(cu)) && kind(c, KID(cu)) != K_COMMENT && k < MAX_ELEMS)
                elems[k++] = KID(cu);
        }
    }
    visit_generic_args(c, value, elems, k);
}

/* The positional and keyword arguments of a call's argument list. */
static void split_args(const checker_t *c, TSNode args, TSNode *pos, uint32_t *npos, uint32_t max)
{
    *npos = 0;
    for (uint32_t i = 0; i < ts_node_named_child_count(args) && *npos < max; i++) {
        TSNode a = ts_node_named_child(args, i);
        lang_kind_t k = kind(c, a);
        if (k != K_KEYWORD_ARGUMENT && k != K_DICT_SPLAT && k != K_COMMENT)
            pos[(*npos)++] = a;
    }
}

/* typing.cast, TypeVar, NamedTuple and TypedDict take types as values. */
static bool visit_typing_call(checker_t *c, TSNode n, TSNode func, TSNode args)
{
    TSNode pos[4];
    uint32_t npos;

    if (kind(c, args) != K_ARGUMENT_LIST)
        return false;
    split_args(c, args, pos, &npos, 4);
    if (npos >= 1 && chk_is_typing(c, func, WK_CAST)) {
        chk_visit_in(c, pos[0], ANN_BARE);
        return false; /* pyflakes then visits the whole call as usual */
    }
    if (!chk_is_typing(c, func, WK_TYPEVAR))
        return false;
    (void)n;
    chk_visit(c, func);
    uint32_t i = 0;
    FOR_KIDS(c, args, cu)
    {
        TSNode a = KID(cu);
        lang_kind_t k = kind(c, a);
        if (!ts_node_is_named(a) || k == K_COMMENT)
            continue;
        if (k == K_KEYWORD_ARGUMENT) {
            bool bound = name_id(c, field(c, a, F_NAME)) == WK_BOUND;
            chk_visit_in(c, field(c, a, F_VALUE), bound ? ANN_BARE : ANN_NONE);
        } else {
            chk_visit_in(c, a, i > 0 ? ANN_BARE : ANN_NONE);
            i++;
        }
    }
    return true;
}

static void add_all_call(checker_t *c, TSNode func, TSNode args)
{
    TSNode obj = first_child(func), arg;
    uint32_t attr;
    binding_t *b;

    if (cur(c)->kind != SC_MODULE || kind(c, obj) != K_IDENTIFIER || name_id(c, obj) != WK_ALL ||
        kind(c, args) != K_ARGUMENT_LIST || ts_node_named_child_count(args) != 1)
        return;
    attr = name_id(c, last_child(func));
    b = scope_get(cur(c), WK_ALL);
    if (b == NULL || b->kind != B_EXPORT)
        return;
    arg = chk_unparen(c, ts_node_named_child(args, 0));
    if (attr == WK_EXTEND && chk_is_seq_literal(c, arg))
        chk_add_export_strings(c, arg, b);
    else if (attr == WK_APPEND)
        chk_add_export_strings(c, args, b);
    else if (attr == WK_EXTEND)
        b->exports_dynamic = true;
}

/* Argument order CPython requires: no positional argument after a keyword
 * argument or `**`, no `*` after `**`, and no keyword twice. */
static void check_call_args(checker_t *c, TSNode args)
{
    bool keyword = false, dstar = false;
    uint32_t seen[32], n_seen = 0;
    TSNode first_dstar = {0};

    FOR_KIDS(c, args, cu)
    {
        TSNode a = KID(cu);
        lang_kind_t k = kind(c, a);
        if (!ts_node_is_named(a) || ts_node_is_extra(a))
            continue;
        if (k == K_KEYWORD_ARGUMENT) {
            uint32_t id = name_id(c, first_child(a));
            keyword = true;
            for (uint32_t i = 0; i < n_seen; i++)
                if (seen[i] == id)
                    chk_syntax_error(c, a, "keyword argument repeated");
            if (n_seen < 32)
                seen[n_seen++] = id;
        } else if (k == K_DICT_SPLAT) {
            if (!dstar)
                first_dstar = a;
            dstar = true;
        } else if (k == K_LIST_SPLAT) {
            if (dstar)
                chk_syntax_error(c, first_dstar,
                                 "iterable argument unpacking follows keyword argument "
                                 "unpacking");
        } else if (keyword || dstar) {
            chk_syntax_error(c, a, "positional argument follows keyword argument");
        }
    }
}

void chk_visit_call(checker_t *c, TSNode n)
{
    TSNode func = first_child(n), args = last_child(n);

    if (kind(c, args) == K_ARGUMENT_LIST)
        check_call_args(c, args);

    uint32_t guard = UINT32_MAX;
    if (kind(c, func) == K_IDENTIFIER) {
        uint32_t id = name_id(c, func);
        if (id == c->id_locals && cur(c)->kind == SC_FUNCTION)
            cur(c)->uses_locals = true;
        if (id < N_BUILTINS && c->sum != NULL && !c->override)
            guard = chk_summary_builtin_call(c, id, args);
    }
    if (kind(c, func) == K_ATTRIBUTE) {
        add_all_call(c, func, args);
        if (!c->override)
            chk_dot_format(c, n, func, args);
        chk_note_enum_export(c, func);
    }
    if (visit_typing_call(c, n, func, args))
        return;
    c->last_use = -1;
    chk_visit(c, func);
    if (c->last_use >= 0 && c->sum != NULL &&
        (kind(c, func) == K_IDENTIFIER || kind(c, func) == K_ATTRIBUTE))
        chk_record_call(c, args);
    chk_visit(c, args);
    if (guard != UINT32_MAX) /* after the call's own arguments */
        PUSH(c, c->guards, c->n_guards, c->cap_guards, guard);
}

static bool is_notimplemented(checker_t *c, TSNode n)
{
    return kind(c, n) == K_IDENTIFIER && name_id(c, n) == c->id_notimpl;
}

void chk_visit_raise(checker_t *c, TSNode n)
{
    TSNode exc = first_named(n);

    chk_visit_kids(c, n);
    if (ts_node_is_null(exc))
        return;
    if ((kind(c, exc) == K_CALL && is_notimplemented(c, first_child(exc))) ||
        is_notimplemented(c, exc))
        REPORT(c, n, "F901", "'raise NotImplemented' should be 'raise NotImplementedError'");
}

/* `a.b.c`: one load of `a`, recorded with its chain; other objects are
 * visited as usual. A target (c->use_store) marks the chain stored; only
 * this chain, not the ones inside its object. */
void chk_visit_attribute(checker_t *c, TSNode n)
{
    TSNode attrs[MAX_CHAIN], obj = n;
    uint32_t k = 0;
    bool store = c->use_store;

    c->use_store = false;

    while (kind(c, obj) == K_ATTRIBUTE && k < MAX_CHAIN) {
        attrs[k++] = last_child(obj);
        obj = first_child(obj);
    }
    if (kind(c, obj) == K_ATTRIBUTE) { /* deeper than MAX_CHAIN: no chain */
        chk_visit(c, obj);
        return;
    }
    if (kind(c, obj) != K_IDENTIFIER) {
        chk_visit(c, obj);
        c->last_use = -1;
        return;
    }
    if (k > 0 && c->sum != NULL) {
        /* An import hook installed in sys.meta_path or sys.path_hooks can
         * make any submodule or attribute appear (gi.repository, six.moves,
         * vendored packages): the module is dynamic. Installing is an
         * assignment to the list or a call of its append, insert or
         * extend; reading it (iterating the finders) is not. */
        uint32_t bl, al, ml = 0;
        const char *base = text(c, obj, &bl), *attr = text(c, attrs[k - 1], &al);
        const char *method = k > 1 ? text(c, attrs[k - 2], &ml) : "";
        bool hooks = bl == 3 && memcmp(base, "sys", 3) == 0 &&
                     ((al == 9 && memcmp(attr, "meta_path", 9) == 0) ||
                      (al == 10 && memcmp(attr, "path_hooks", 10) == 0));
        bool installs =
            (k == 1 && store) || (k == 2 && ((ml == 6 && memcmp(method, "append", 6) == 0) ||
                                             (ml == 6 && memcmp(method, "insert", 6) == 0) ||
                                             (ml == 6 && memcmp(method, "extend", 6) == 0)));
        if (hooks && installs)
            summary_set_dynamic(c->sum);
    }
    chk_record_use(c, chk_handle_load(c, obj, name_id(c, obj)), obj, attrs, k, store);
}

/* `0777` and `1_000_` parse in tree-sitter; CPython refuses both. */
void chk_check_number(checker_t *c, TSNode n)
{
    uint32_t len;
    const char *t = text(c, n, &len);
    bool digits_only = true, nonzero = false;

    if (len == 0)
        return;
    if (t[len - 1] == '_' || memmem(t, len, "__", 2) != NULL) {
        chk_syntax_error(c, n, "invalid decimal literal");
        return;
    }
    if (len < 2 || t[0] != '0' || kind(c, n) != K_INTEGER)
        return;
    for (uint32_t i = 0; i < len; i++) {
        if (t[i] == '_')
            continue;
        if (t[i] < '0' || t[i] > '9')
            digits_only = false;
        else if (t[i] != '0')
            nonzero = true;
    }
    if (digits_only && nonzero)
        chk_syntax_error(c, n,
                         "leading zeros in decimal integer literals are not permitted; "
                         "use an 0o prefix for octal integers");
}

/* `a if t else b`: pyflakes reads t, then a, then b (ast.IfExp's order). */
void chk_visit_conditional(checker_t *c, TSNode n)
{
    TSNode part[3];
    uint32_t k = 0;

    FOR_KIDS(c, n, cu)
    {
        TSNode ch = KID(cu);
        if (!ts_node_is_named(ch))
            continue;
        if (ts_node_is_extra(ch))
            chk_visit(c, ch); /* comments */
        else if (k < 3)
            part[k++] = ch;
    }
    if (k != 3) {
        for (uint32_t i = 0; i < k; i++)
            chk_visit(c, part[i]);
        return;
    }
    chk_check_if_tuple(c, part[1], n);
    c->cond++;
    bool outer = c->in_test > 0; /* then the enclosing test drops the guards */
    size_t mark = c->n_guards;
    chk_visit_test(c, part[1]);
    chk_visit(c, part[0]);
    chk_visit(c, part[2]);
    if (!outer)
        c->n_guards = mark;
    c->cond--;
}

/* `a and b`, `a or b`: a hasattr()/getattr() in an operand guards the
 * operands after it. */
void chk_visit_boolean(checker_t *c, TSNode n)
{
    bool outer = c->in_test > 0;
    size_t mark = c->n_guards;

    c->in_test++;
    chk_visit_kids(c, n);
    c->in_test--;
    if (!outer)
        c->n_guards = mark;
}

/* pyflakes' InvalidPrintSyntax: `print >> f` reads the builtin print. */
static bool is_builtin_print(checker_t *c, TSNode n)
{
    return kind(c, n) == K_IDENTIFIER && name_id(c, n) == c->id_print &&
           chk_lookup_quiet(c, c->id_print) == NULL && !c->builtin_deleted[c->id_print];
}

static void report_print_chevron(checker_t *c, TSNode name)
{
    REPORT(c, name, "F633", "use of >> is invalid with print function");
}

/* tree-sitter keeps Python 2's print statement. `print "x"` is a syntax
 * error for Python 3; `print >> f, x` is a valid (useless) tuple whose
 * first item shifts the print function. */
void chk_visit_print(checker_t *c, TSNode n)
{
    bool chevron = false;

    FOR_KIDS(c, n, cu)
    {
        if (kind(c, KID(cu)) == K_CHEVRON)
            chevron = true;
    }
    if (!chevron) {
        chk_syntax_error(c, n, "Missing parentheses in call to 'print'. Did you mean print(...)?");
        return;
    }
    if (chk_lookup_quiet(c, c->id_print) == NULL && !c->builtin_deleted[c->id_print])
        REPORT(c, n, "F633", "use of >> is invalid with print function");
    FOR_KIDS(c, n, cu)
    {
        TSNode ch = KID(cu);
        if (kind(c, ch) == K_CHEVRON)
            chk_visit_kids(c, ch);
        else if (ts_node_is_named(ch) && !ts_node_is_extra(ch))
            chk_visit(c, ch);
    }
}

void chk_visit_binary_op(checker_t *c, TSNode n)
{
    TSNode left = first_child(n), right = last_child(n);
    uint32_t len;
    const char *op = text(c, ts_node_child(n, 1), &len);

    if (len == 1 && op[0] == '%' && !c->override)
        chk_percent_format(c, n, left, right);
    if (len == 2 && op[0] == '>' && op[1] == '>') {
        if (is_builtin_print(c, left))
            report_print_chevron(c, left);
        if (is_builtin_print(c, right))
            report_print_chevron(c, right);
    }
    chk_visit_comments(c, n); /* a type comment may sit between the operands */
    chk_visit(c, left);
    chk_visit(c, right);
}
