/* checker.c - scope analysis and pyflakes' per-file checks (see checker.h).
 *
 * The walk mirrors the order in which Python binds and reads names, which is
 * not source order: an assignment's value is read before its targets are
 * bound, a for loop's iterable before its target, a comprehension's clauses
 * before its element. Function bodies are deferred with a copy of the scope
 * stack, so they see every module-level binding, as at run time.
 *
 * Names are interned per file; the builtins are interned first, so a name
 * id below N_BUILTINS is a builtin and needs no binding of its own.
 *
 * "Different forks" (pyflakes' rule that `try: import x / except: x = None`
 * is no redefinition) is answered from a small tree of if/try branches built
 * during the walk, not from parent pointers on every node.
 *
 * The checks that need nothing of the walk but a node live apart:
 * checker_dict.c (F601, F602) and checker_format.c (F50x, F52x);
 * checker_summary.c records what the local summary needs; checker_scope.c
 * holds the binding machinery (scopes, forks, bindings, loads and stores,
 * deferral).
 * checker_int.h holds what the files share. */
#include "worker/python/checker_int.h"
#include "worker/python/noqa.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- names known to the checker ------------------------------------- */

/* Python 3.11's dir(builtins) plus the module globals pyflakes also treats
 * as defined everywhere. A fact about CPython, kept as data. */
static const char *const builtin_names[] = {
    "ArithmeticError", "AssertionError", "AttributeError", "BaseException", "BaseExceptionGroup",
    "BlockingIOError", "BrokenPipeError", "BufferError", "BytesWarning", "ChildProcessError",
    "ConnectionAbortedError", "ConnectionError", "ConnectionRefusedError", "ConnectionResetError",
    "DeprecationWarning", "EOFError", "Ellipsis", "EncodingWarning", "EnvironmentError",
    "Exception", "ExceptionGroup", "False", "FileExistsError", "FileNotFoundError",
    "FloatingPointError", "FutureWarning", "GeneratorExit", "IOError", "ImportError",
    "ImportWarning", "IndentationError", "IndexError", "InterruptedError", "IsADirectoryError",
    "KeyError", "KeyboardInterrupt", "LookupError", "MemoryError", "ModuleNotFoundError",
    "NameError", "None", "NotADirectoryError", "NotImplemented", "NotImplementedError", "OSError",
    "OverflowError", "PendingDeprecationWarning", "PermissionError", "ProcessLookupError",
    "RecursionError", "ReferenceError", "ResourceWarning", "RuntimeError", "RuntimeWarning",
    "StopAsyncIteration", "StopIteration", "SyntaxError", "SyntaxWarning", "SystemError",
    "SystemExit", "TabError", "TimeoutError", "True", "TypeError", "UnboundLocalError",
    "UnicodeDecodeError", "UnicodeEncodeError", "UnicodeError", "UnicodeTranslateError",
    "UnicodeWarning", "UserWarning", "ValueError", "Warning", "ZeroDivisionError",
    "__build_class__", "__debug__", "__doc__", "__import__", "__loader__", "__name__",
    "__package__", "__spec__", "abs", "aiter", "all", "anext", "any", "ascii", "bin", "bool",
    "breakpoint", "bytearray", "bytes", "callable", "chr", "classmethod", "compile", "complex",
    "copyright", "credits", "delattr", "dict", "dir", "divmod", "enumerate", "eval", "exec", "exit",
    "filter", "float", "format", "frozenset", "getattr", "globals", "hasattr", "hash", "help",
    "hex", "id", "input", "int", "isinstance", "issubclass", "iter", "len", "license", "list",
    "locals", "map", "max", "memoryview", "min", "next", "object", "oct", "open", "ord", "pow",
    "print", "property", "quit", "range", "repr", "reversed", "round", "set", "setattr", "slice",
    "sorted", "staticmethod", "str", "sum", "super", "tuple", "type", "vars", "zip",
    /* pyflakes' _MAGIC_GLOBALS */
    "__file__", "__builtins__", "__annotations__", "WindowsError"};

_Static_assert(sizeof builtin_names / sizeof builtin_names[0] == N_BUILTINS,
               "N_BUILTINS in checker_int.h counts builtin_names");

static const char *const well_known_names[] = {
#define WK_STR(k, s) s,
    WELL_KNOWN(WK_STR)
#undef WK_STR
};

/* Builtin ids we test directly. */
static uint32_t id_of_builtin(const char *s)
{
    for (uint32_t i = 0; i < N_BUILTINS; i++)
        if (strcmp(builtin_names[i], s) == 0)
            return i;
    return UINT32_MAX;
}

static const char *const future_features[] = {
    "nested_scopes",  "generators",       "division",       "absolute_import", "with_statement",
    "print_function", "unicode_literals", "barry_as_FLUFL", "generator_stop",  "annotations"};

/* ---- string literals ----------------------------------------------------- */

void chk_string_info(const checker_t *c, TSNode s, strinfo_t *si)
{
    uint32_t n = ts_node_child_count(s);
    TSNode first;

    memset(si, 0, sizeof *si);
    if (n == 0)
        return;
    first = ts_node_child(s, 0);
    if (kind(c, first) == K_STRING_START) {
        uint32_t len;
        const char *p = text(c, first, &len);
        for (uint32_t i = 0; i < len && p[i] != '\'' && p[i] != '"'; i++) {
            if (p[i] == 'f' || p[i] == 'F')
                si->is_f = true;
            if (p[i] == 'b' || p[i] == 'B')
                si->is_bytes = true;
        }
    }
    for (uint32_t i = 1; i < n; i++) {
        TSNode ch = ts_node_child(s, i);
        lang_kind_t k = kind(c, ch);
        if (k == K_INTERPOLATION)
            si->has_interp = true;
        else if (k == K_STRING_CONTENT) {
            si->content = ch;
            si->n_content++;
            if (ts_node_named_child_count(ch) > 0)
                si->has_escape = true;
        }
    }
}

/* ---- the walk ------------------------------------------------------------ */

static void visit(checker_t *c, TSNode n);
static void visit_attribute(checker_t *c, TSNode n);
static void visit_target(checker_t *c, TSNode n, store_ctx_t ctx, bool nested, bool literal);
static void visit_store_attribute(checker_t *c, TSNode n);

static void visit_kids(checker_t *c, TSNode n)
{
    FOR_KIDS(c, n, cu)
    {
        TSNode ch = KID(cu);
        if (ts_node_is_named(ch))
            visit(c, ch);
    }
}

static bool is_paren_target(const checker_t *c, TSNode n);

TSNode chk_unparen(const checker_t *c, TSNode n)
{
    while (!ts_node_is_null(n) &&
           ((kind(c, n) == K_PAREN_EXPR && ts_node_named_child_count(n) == 1) ||
            is_paren_target(c, n)))
        n = ts_node_named_child(n, 0);
    return n;
}

/* `(x)` as an assignment target: tree-sitter calls it a tuple pattern, but
 * without a comma it is just x in parentheses. */
static bool is_paren_target(const checker_t *c, TSNode n)
{
    return kind(c, n) == K_TUPLE_PATTERN && ts_node_child_count(n) == 3 &&
           ts_node_named_child_count(n) == 1;
}

/* Appends the str constants of a list or tuple literal to b's exports. */
static void add_export_strings(checker_t *c, TSNode seq, binding_t *b)
{
    FOR_KIDS(c, seq, cu)
    {
        TSNode s = KID(cu);
        strinfo_t si;
        uint32_t len = 0, *names;
        const char *p = "";
        if (!ts_node_is_named(s) || kind(c, s) == K_COMMENT)
            continue;
        if (kind(c, s) != K_STRING) {
            b->exports_dynamic = true;
            continue;
        }
        chk_string_info(c, s, &si);
        if (si.is_f || si.is_bytes || si.has_escape || si.n_content > 1) {
            b->exports_dynamic = true;
            continue;
        }
        if (si.n_content == 1)
            p = text(c, si.content, &len);
        names = arena_realloc(c->a, b->exports, (size_t)b->n_exports * sizeof(uint32_t),
                              ((size_t)b->n_exports + 1) * sizeof(uint32_t));
        if (names == NULL) {
            c->oom = true;
            continue;
        }
        names[b->n_exports++] = chk_intern_bytes(c, p, len);
        b->exports = names;
    }
}

static bool is_seq_literal(const checker_t *c, TSNode n)
{
    lang_kind_t k = kind(c, n);
    return k == K_LIST || k == K_TUPLE;
}

/* pyflakes' ExportBinding: names from `[...]`, `(...)`, and `[...] + [...]`. */
void chk_collect_exports(checker_t *c, TSNode value, binding_t *b)
{
    TSNode v = chk_unparen(c, value);

    if (is_seq_literal(c, v)) {
        add_export_strings(c, v, b);
        return;
    }
    while (kind(c, v) == K_BINARY_OP) {
        TSNode left = chk_unparen(c, first_child(v)), right = chk_unparen(c, last_child(v));
        if (!is_seq_literal(c, right))
            break;
        add_export_strings(c, right, b);
        if (kind(c, left) == K_BINARY_OP) {
            v = left;
        } else {
            if (is_seq_literal(c, left))
                add_export_strings(c, left, b);
            else
                b->exports_dynamic = true;
            return;
        }
    }
    b->exports_dynamic = true;
}

/* The binding a name would resolve to, without marking it used (pyflakes'
 * typing helpers look names up this way). */
binding_t *chk_lookup_quiet(const checker_t *c, uint32_t name)
{
    for (uint32_t i = c->depth; i-- > 0;) {
        binding_t *b = scope_get(c->stack[i], name);
        if (b != NULL)
            return b;
        if (c->stack[i]->kind == SC_MODULE && name < N_BUILTINS)
            return NULL;
    }
    return NULL;
}

static bool is_typing_module(uint32_t id)
{
    return id == WK_TYPING || id == WK_TYPING_EXT;
}

/* Is n `X` imported from typing, or `typing.X`; want UINT32_MAX for any X. */
static bool is_typing(checker_t *c, TSNode n, uint32_t want)
{
    lang_kind_t k = kind(c, n);

    if (k == K_IDENTIFIER) {
        binding_t *b = chk_lookup_quiet(c, name_id(c, n));
        return b != NULL && b->kind == B_FROM && is_typing_module(b->module) &&
               (want == UINT32_MAX || b->real == want);
    }
    if (k == K_ATTRIBUTE) {
        TSNode obj = first_child(n), attr = last_child(n);
        if (kind(c, obj) != K_IDENTIFIER)
            return false;
        binding_t *b = chk_lookup_quiet(c, name_id(c, obj));
        return b != NULL && is_importation(b) && is_typing_module(b->full) &&
               (want == UINT32_MAX || name_id(c, attr) == want);
    }
    return false;
}

static bool is_name_or_attr(checker_t *c, TSNode n, uint32_t want)
{
    lang_kind_t k = kind(c, n);
    if (k == K_IDENTIFIER)
        return name_id(c, n) == want;
    if (k == K_ATTRIBUTE)
        return name_id(c, last_child(n)) == want;
    return false;
}

static void visit_in(checker_t *c, TSNode n, annstate_t ann)
{
    uint8_t saved = c->ann;
    c->ann = (uint8_t)ann;
    visit(c, n);
    c->ann = saved;
}

bool chk_is_plain_str(const checker_t *c, TSNode n)
{
    strinfo_t si;
    if (kind(c, n) != K_STRING)
        return false;
    chk_string_info(c, n, &si);
    return !si.is_f && !si.is_bytes;
}

/* pyflakes' handleAnnotation; report is the annotated statement or def. */
static void handle_annotation(checker_t *c, TSNode n, TSNode report)
{
    if (ts_node_is_null(n))
        return;
    if (kind(c, n) == K_TYPE && ts_node_named_child_count(n) == 1)
        n = ts_node_named_child(n, 0);
    if (chk_is_plain_str(c, n))
        chk_defer_annotation(c, n, report);
    else if (c->annotations_future)
        chk_defer(c, D_ANN_EXPR, n);
    else
        visit_in(c, n, ANN_BARE);
}

/* The one statement of a parsed snippet (comments aside), or a null node. */
static TSNode only_statement(checker_t *c, TSNode root)
{
    TSNode stmt = {0};
    uint32_t n = 0;

    FOR_KIDS(c, root, cu)
    {
        if (ts_node_is_named(KID(cu)) && !ts_node_is_extra(KID(cu))) {
            stmt = KID(cu);
            n++;
        }
    }
    return n == 1 ? stmt : (TSNode){0};
}

/* An expression statement holding only expressions (`a, b` is a tuple),
 * not an assignment. */
static bool is_expression_list(checker_t *c, TSNode stmt)
{
    bool ok = true;

    FOR_KIDS(c, stmt, cu)
    {
        lang_kind_t k = kind(c, KID(cu));
        if (k == K_ASSIGNMENT || k == K_AUG_ASSIGNMENT || k == K_YIELD)
            ok = false;
    }
    return ok;
}

/* Parses text as one expression and checks the names in it, reporting at
 * (line, col); code and what name the report when it does not parse
 * (F722 forward annotation, F723 type comment). */
static void annotation_text(checker_t *c, const char *p, uint32_t len, uint32_t line, uint32_t col,
                            uint32_t eline, uint32_t ecol, const char *code, const char *what)
{
    TSTree *t;
    TSNode root, stmt;
    const char *saved_src = c->src;
    bool saved_override = c->override;
    uint32_t saved_ol = c->oline, saved_oc = c->ocol;
    char *copy;

    if ((copy = arena_strndup(c->a, p, len)) == NULL) {
        c->oom = true;
        return;
    }
    t = ts_parser_parse_string(c->in->parser, NULL, copy, len);
    if (t == NULL)
        return;
    PUSH(c, c->ann_trees, c->n_ann_trees, c->cap_ann_trees, t);
    root = ts_tree_root_node(t);
    stmt = only_statement(c, root);
    if (ts_node_has_error(root) || ts_node_is_null(stmt) ||
        kind(c, stmt) != K_EXPRESSION_STATEMENT || !is_expression_list(c, stmt) ||
        (len > 0 && (copy[0] == ' ' || copy[0] == '\t'))) {
        if (diag_add(c->diags, eline, ecol + 1, code, "syntax error in %s '%.*s'", what,
                     (int)(len > 200 ? 200 : len), copy) == NULL)
            c->oom = true;
        return;
    }
    c->src = copy;
    c->override = true;
    c->oline = line;
    c->ocol = col;
    visit_in(c, stmt, ANN_STRING);
    c->src = saved_src;
    c->override = saved_override;
    c->oline = saved_ol;
    c->ocol = saved_oc;
}

/* A string annotation: its text as an expression, names reported at the
 * string, a syntax error at (eline, ecol). */
static void string_annotation(checker_t *c, TSNode s, uint32_t eline, uint32_t ecol)
{
    strinfo_t si;
    uint32_t len = 0, line, col;
    const char *p = "";

    chk_string_info(c, s, &si);
    if (si.has_escape || si.n_content > 1 || si.has_interp)
        return;
    if (si.n_content == 1)
        p = text(c, si.content, &len);
    node_pos(c, s, &line, &col);
    annotation_text(c, p, len, line, col, eline, ecol, "F722", "forward annotation");
}

/* Is the comment n a PEP 484 type comment (and not `# type: ignore`)? */
static bool is_type_comment(const checker_t *c, TSNode n, uint32_t *off)
{
    uint32_t len, i = 1;
    const char *t = text(c, n, &len);

    while (i < len && (t[i] == ' ' || t[i] == '\t'))
        i++;
    if (len - i < 5 || memcmp(t + i, "type:", 5) != 0)
        return false;
    i += 5;
    while (i < len && (t[i] == ' ' || t[i] == '\t'))
        i++;
    if (len - i >= 6 && memcmp(t + i, "ignore", 6) == 0 &&
        (len - i == 6 || !(isalnum((unsigned char)t[i + 6]) || t[i + 6] == '_')))
        return false;
    *off = i;
    return true;
}

/* `# type: (a, b) -> r` checks a and r; `# type: T` checks T. */
static void type_comment(checker_t *c, TSNode n)
{
    uint32_t len, off, line, col;
    const char *t = text(c, n, &len);
    char buf[1024];
    const char *arrow;

    if (!is_type_comment(c, n, &off))
        return;
    node_pos(c, n, &line, &col);
    t += off;
    len -= off;
    while (len > 0 && (t[len - 1] == ' ' || t[len - 1] == '\t' || t[len - 1] == '\r'))
        len--;
    if (len > 0 && t[0] == '(' && (arrow = memchr(t, ')', len)) != NULL) {
        uint32_t close = (uint32_t)(arrow - t), k = close + 1, n_args = 0;
        while (k < len && (t[k] == ' ' || t[k] == '\t'))
            k++;
        if (k + 1 < len && t[k] == '-' && t[k + 1] == '>') {
            for (uint32_t i = 0; i <= close && n_args + 1 < sizeof buf; i++)
                if (t[i] != '*')
                    buf[n_args++] = t[i];
            annotation_text(c, buf, n_args, line, col, line, col, "F723", "type comment");
            k += 2;
            while (k < len && (t[k] == ' ' || t[k] == '\t'))
                k++;
            annotation_text(c, t + k, len - k, line, col, line, col, "F723", "type comment");
            return;
        }
    }
    annotation_text(c, t, len, line, col, line, col, "F723", "type comment");
}

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

static void visit_import(checker_t *c, TSNode n)
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

static void visit_import_from(checker_t *c, TSNode n, bool future)
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
                handle_annotation(c, field(c, p, F_TYPE), def);
        }
    }
    if (!ts_node_is_null(returns))
        handle_annotation(c, returns, def);
    if (ts_node_is_null(params))
        return;
    check_param_order(c, params);
    FOR_KIDS(c, params, cu)
    {
        TSNode p = KID(cu);
        lang_kind_t k = kind(c, p);
        if (k == K_DEFAULT_PARAMETER || k == K_TYPED_DEFAULT_PARAMETER)
            visit(c, last_child(p));
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
        if (kind(c, d) == K_DECORATOR && is_typing(c, first_named(d), WK_OVERLOAD))
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
static void note_enum_export(checker_t *c, TSNode f)
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
            visit_kids(c, d);
    }
}

static void check_py312(checker_t *c, TSNode n)
{
    TSNode tp = field(c, n, F_TYPE_PARAMETERS);
    if (!ts_node_is_null(tp))
        REPORT(c, tp, "E999", "SyntaxError: type parameter lists need Python 3.12");
}

static void visit_function(checker_t *c, TSNode n, TSNode decorated)
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

static void visit_block(checker_t *c, TSNode block, bool in_for);
static void visit_nested_block(checker_t *c, TSNode block, bool in_for);

static void visit_class(checker_t *c, TSNode n, TSNode decorated)
{
    TSNode bases = field(c, n, F_SUPERCLASSES);
    uint32_t saved_loop = c->loop, line, col;
    binding_t *b;

    check_py312(c, n);
    visit_decorators(c, decorated);
    if (!ts_node_is_null(bases))
        visit_kids(c, bases);
    chk_push_scope(c, SC_CLASS);
    c->loop = 0;
    uint32_t saved_blocks = c->fblocks;
    c->fblocks = 0;
    visit_block(c, last_child(n), false);
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

static void visit_lambda(checker_t *c, TSNode n)
{
    TSNode params = field(c, n, F_PARAMETERS);
    handle_params_at_def(c, n, params, (TSNode){0});
    chk_defer(c, D_LAMBDA, n);
}

/* Comments that sit between the parts of a compound statement (type
 * comments of a def, a for or a with land there). */
static void visit_comments(checker_t *c, TSNode n)
{
    FOR_KIDS(c, n, cu)
    {
        if (kind(c, KID(cu)) == K_COMMENT)
            visit(c, KID(cu));
    }
}

/* A deferred function or lambda body, in a new function scope. */
static void run_function(checker_t *c, TSNode n, bool is_lambda)
{
    uint32_t saved_loop = c->loop;

    chk_push_scope(c, SC_FUNCTION);
    c->loop = 0;
    bind_params(c, n, field(c, n, F_PARAMETERS));
    if (!is_lambda)
        visit_comments(c, n);
    if (is_lambda)
        visit(c, last_child(n));
    else
        visit_block(c, last_child(n), false);
    PUSH(c, c->fscopes, c->n_fscopes, c->cap_fscopes, cur(c));
    c->loop = saved_loop;
    chk_pop_scope(c);
}

/* ---- statements ---------------------------------------------------------- */

static bool is_docstring_stmt(const checker_t *c, TSNode stmt)
{
    if (kind(c, stmt) != K_EXPRESSION_STATEMENT || ts_node_named_child_count(stmt) != 1)
        return false;
    lang_kind_t k = kind(c, ts_node_named_child(stmt, 0));
    return k == K_STRING || k == K_CONCAT_STRING;
}

/* CPython's compiler allows 20 statically nested blocks (loops, try,
 * with) per function; this counts no more than it does. */
#define PY_MAX_BLOCKS 20

static void visit_nested_block(checker_t *c, TSNode block, bool in_for)
{
    if (++c->fblocks == PY_MAX_BLOCKS + 1)
        REPORT(c, block, "E999", "SyntaxError: too many statically nested blocks");
    visit_block(c, block, in_for);
    c->fblocks--;
}

/* An empty block: CPython reports it on the line of the next token (the
 * statement that should have been indented), or past the last line. */
static void missing_block(checker_t *c, TSNode block)
{
    const char *s = c->in->src;
    uint32_t i = ts_node_end_byte(block), len = c->in->len;
    uint32_t line = ts_node_end_point(block).row + 1;

    while (i < len && s[i] != '\n')
        i++;
    while (i < len) {
        i++; /* past the newline */
        line++;
        while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\f' || s[i] == '\r'))
            i++;
        if (i < len && s[i] != '\n' && s[i] != '#')
            break;
        while (i < len && s[i] != '\n')
            i++;
    }
    if (diag_add(c->diags, line, 1, "E999", "IndentationError: expected an indented block") == NULL)
        c->oom = true;
}

static void visit_block(checker_t *c, TSNode block, bool in_for)
{
    bool saved = c->in_for;
    uint32_t statements = 0;

    if (ts_node_is_null(block))
        return;
    FOR_KIDS(c, block, cu)
    {
        TSNode st = KID(cu);
        if (!ts_node_is_named(st))
            continue;
        if (!ts_node_is_extra(st))
            statements++;
        c->in_for = in_for;
        visit(c, st);
    }
    if (statements == 0 && kind(c, block) == K_BLOCK)
        missing_block(c, block);
    c->in_for = saved;
}

static void visit_module(checker_t *c, TSNode root)
{
    FOR_KIDS(c, root, cu)
    {
        TSNode st = KID(cu);
        lang_kind_t k = kind(c, st);
        if (!ts_node_is_named(st))
            continue;
        if (c->futures_allowed && k != K_IMPORT_FROM && k != K_FUTURE_IMPORT && k != K_COMMENT &&
            !is_docstring_stmt(c, st))
            c->futures_allowed = false;
        c->in_for = false;
        visit(c, st);
    }
}

static bool is_nonempty_tuple(const checker_t *c, TSNode n)
{
    return kind(c, n) == K_TUPLE && ts_node_named_child_count(n) > 0;
}

/* F634: an if, elif or conditional expression testing a tuple, reported
 * at `at`. */
static void check_if_tuple(checker_t *c, TSNode test, TSNode at)
{
    if (is_nonempty_tuple(c, test))
        REPORT(c, at, "F634",
               "'if tuple literal' is always true, perhaps remove accidental comma?");
}

/* The test of an if, elif or while: hasattr()/getattr() calls in it guard
 * the body's uses of the names they test (the caller drops the guards
 * after the body). */
static void visit_test(checker_t *c, TSNode test)
{
    c->in_test++;
    visit(c, test);
    c->in_test--;
}

static void visit_if(checker_t *c, TSNode n)
{
    uint32_t saved = c->cur_fnode, fork, body, other;
    TSNode cond = field(c, n, F_CONDITION);

    check_if_tuple(c, cond, n);
    fork = chk_fnode_new(c, c->cur_fnode, true);
    body = chk_fnode_new(c, fork, false);
    other = chk_fnode_new(c, fork, false);
    c->cond++;
    c->cur_fnode = other;
    size_t mark = c->n_guards;
    visit_test(c, cond);
    c->cur_fnode = body;
    /* `if TYPE_CHECKING:` or `if typing.TYPE_CHECKING:`: never runs */
    bool tc = (kind(c, cond) == K_IDENTIFIER && name_id(c, cond) == WK_TYPE_CHECKING) ||
              (kind(c, cond) == K_ATTRIBUTE && kind(c, last_child(cond)) == K_IDENTIFIER &&
               name_id(c, last_child(cond)) == WK_TYPE_CHECKING);
    c->type_checking += tc;
    visit_block(c, field(c, n, F_CONSEQUENCE), false);
    c->type_checking -= tc;
    c->n_guards = mark;
    FOR_KIDS(c, n, cu)
    {
        TSNode alt = KID(cu);
        lang_kind_t k = kind(c, alt);
        if (k == K_ELIF) {
            TSNode ec = field(c, alt, F_CONDITION);
            check_if_tuple(c, ec, alt);
            fork = chk_fnode_new(c, other, true);
            body = chk_fnode_new(c, fork, false);
            other = chk_fnode_new(c, fork, false);
            c->cur_fnode = other;
            visit_test(c, ec);
            c->cur_fnode = body;
            visit_block(c, field(c, alt, F_CONSEQUENCE), false);
            c->n_guards = mark;
        } else if (k == K_ELSE) {
            c->cur_fnode = other;
            visit_block(c, last_child(alt), false);
        }
    }
    c->cond--;
    c->cur_fnode = saved;
}

static void visit_loop(checker_t *c, TSNode n, bool is_for)
{
    TSNode alt = field(c, n, F_ALTERNATIVE);
    size_t mark = c->n_guards;

    if (is_for) {
        visit(c, field(c, n, F_RIGHT));
        visit_target(c, field(c, n, F_LEFT), ST_FOR, false, false);
    } else {
        c->cond++;
        visit_test(c, field(c, n, F_CONDITION));
    }
    visit_comments(c, n);
    c->loop++;
    visit_nested_block(c, field(c, n, F_BODY), is_for);
    c->loop--;
    c->n_guards = mark;
    if (!ts_node_is_null(alt))
        visit_block(c, last_child(alt), is_for);
    if (!is_for)
        c->cond--;
}

/* The exception type of an except clause, and the name it binds. */
static void except_parts(const checker_t *c, TSNode h, TSNode *type, TSNode *name)
{
    TSNode v = field(c, h, F_VALUE), alias = field(c, h, F_ALIAS);

    if (ts_node_is_null(v) && kind(c, h) == K_EXCEPT_GROUP) {
        v = first_named(h); /* except* has no fields */
        if (!ts_node_is_null(v) && kind(c, v) == K_BLOCK)
            v = (TSNode){0};
    }
    *type = v;
    *name = alias;
    if (!ts_node_is_null(v) && kind(c, v) == K_AS_PATTERN) {
        *type = first_named(v);
        TSNode t = field(c, v, F_ALIAS);
        if (!ts_node_is_null(t) && kind(c, t) == K_AS_PATTERN_TARGET)
            t = first_named(t);
        *name = t;
    }
    if (!ts_node_is_null(*type) && kind(c, *type) == K_LIST_SPLAT)
        *type = first_named(*type);
    if (!ts_node_is_null(*name) && kind(c, *name) != K_IDENTIFIER)
        *name = (TSNode){0};
}

/* Is id one of the exceptions whose handler guards a try body's uses of
 * imported names (AttributeError, NameError, ImportError...)? */
static bool is_guard_exception(const checker_t *c, uint32_t id)
{
    for (size_t i = 0; i < sizeof c->id_guard_exc / sizeof c->id_guard_exc[0]; i++)
        if (c->id_guard_exc[i] == id)
            return true;
    return false;
}

/* Does id name an exception an ImportError is (or ModuleNotFoundError)? */
static bool catches_import_error(const checker_t *c, uint32_t id)
{
    return id == c->id_guard_exc[GX_IMPORT] || id == c->id_guard_exc[GX_MODULE_NOT_FOUND] ||
           id == c->id_guard_exc[GX_EXCEPTION] || id == c->id_guard_exc[GX_BASE];
}

/* Does a handler of try_stmt catch NameError (the result); *guard: does one
 * catch a guard exception, or everything; *import: ImportError. */
static bool catches_name_error(checker_t *c, TSNode try_stmt, bool *guard, bool *import)
{
    bool found = false;

    *guard = false;
    *import = false;
    FOR_KIDS(c, try_stmt, cu)
    {
        TSNode h = KID(cu), type, name;
        lang_kind_t k = kind(c, h);
        if (k != K_EXCEPT && k != K_EXCEPT_GROUP)
            continue;
        except_parts(c, h, &type, &name);
        type = chk_unparen(c, type);
        if (ts_node_is_null(type)) {
            *guard = true;
            *import = true;
            continue;
        }
        if (kind(c, type) == K_IDENTIFIER) {
            uint32_t id = name_id(c, type);
            found = found || id == c->id_nameerror;
            *guard = *guard || is_guard_exception(c, id);
            *import = *import || catches_import_error(c, id);
        } else if (kind(c, type) == K_TUPLE) {
            FOR_KIDS(c, type, cu2)
            {
                TSNode e = KID(cu2);
                if (kind(c, e) != K_IDENTIFIER)
                    continue;
                uint32_t id = name_id(c, e);
                if (id == c->id_nameerror)
                    found = true;
                if (is_guard_exception(c, id))
                    *guard = true;
                if (catches_import_error(c, id))
                    *import = true;
            }
        }
    }
    return found;
}

/* The type of an except clause, then its body. */
static void visit_handler_parts(checker_t *c, TSNode h, TSNode type)
{
    visit(c, type);
    FOR_KIDS(c, h, cu)
    {
        if (kind(c, KID(cu)) == K_BLOCK)
            visit_block(c, KID(cu), false);
    }
}

static void visit_except(checker_t *c, TSNode h)
{
    TSNode type, name;
    scope_t *here = cur(c);

    except_parts(c, h, &type, &name);
    if (ts_node_is_null(name)) {
        visit_handler_parts(c, h, type);
        return;
    }
    uint32_t id = name_id(c, name);
    if (chk_scope_has(c, here, id))
        chk_handle_store(c, h, id, ST_EXCEPT, false, false, (TSNode){0});
    binding_t *prev = chk_scope_pop(here, id);
    chk_handle_store(c, h, id, ST_EXCEPT, false, false, (TSNode){0});
    visit_handler_parts(c, h, type);
    binding_t *b = chk_scope_pop(here, id);
    if (b != NULL && b->used == NULL)
        REPORT(c, h, "F841", "local variable '%s' is assigned to but never used",
               chk_name_str(c, id));
    if (prev != NULL)
        chk_scope_set(c, here, id, prev);
}

static void visit_try(checker_t *c, TSNode n)
{
    uint32_t saved = c->cur_fnode, fork, body;
    bool guard, import, catches = catches_name_error(c, n, &guard, &import);
    uint32_t n_handlers = 0, i = 0;

    fork = chk_fnode_new(c, c->cur_fnode, true);
    body = chk_fnode_new(c, fork, false);
    FOR_KIDS(c, n, cu)
    {
        lang_kind_t k = kind(c, KID(cu));
        if (k == K_EXCEPT || k == K_EXCEPT_GROUP)
            n_handlers++;
    }
    PUSH(c, c->except_stack, c->n_except, c->cap_except, catches);
    c->cur_fnode = body;
    c->try_guard += guard;
    c->try_import += import;
    visit_nested_block(c, field(c, n, F_BODY), false);
    c->try_import -= import;
    c->try_guard -= guard;
    c->n_except--;
    FOR_KIDS(c, n, cu)
    {
        TSNode ch = KID(cu);
        lang_kind_t k = kind(c, ch);
        if (k == K_EXCEPT || k == K_EXCEPT_GROUP) {
            TSNode type, name;
            except_parts(c, ch, &type, &name);
            if (ts_node_is_null(type) && i + 1 < n_handlers)
                REPORT(c, ch, "F707", "default 'except:' must be last");
            i++;
            c->cur_fnode = chk_fnode_new(c, fork, false);
            visit_except(c, ch);
        } else if (k == K_ELSE) {
            c->cur_fnode = body;
            visit_block(c, last_child(ch), false);
        } else if (k == K_FINALLY) {
            c->cur_fnode = chk_fnode_new(c, fork, false);
            FOR_KIDS(c, ch, cu2)
            {
                if (kind(c, KID(cu2)) == K_BLOCK)
                    visit_block(c, KID(cu2), false);
            }
        }
    }
    c->cur_fnode = saved;
}

static void visit_with(checker_t *c, TSNode n)
{
    FOR_KIDS(c, n, cu)
    {
        TSNode wc = KID(cu);
        if (kind(c, wc) != K_WITH_CLAUSE)
            continue;
        FOR_KIDS(c, wc, cu2)
        {
            TSNode item = KID(cu2), v;
            if (kind(c, item) != K_WITH_ITEM)
                continue;
            v = field(c, item, F_VALUE);
            if (kind(c, chk_unparen(c, v)) == K_AS_PATTERN) /* `with (a() as x):` */
                v = chk_unparen(c, v);
            if (kind(c, v) == K_AS_PATTERN) {
                TSNode t = field(c, v, F_ALIAS);
                visit(c, first_named(v));
                if (!ts_node_is_null(t))
                    visit_target(c, first_named(t), ST_WITH, false, false);
            } else {
                visit(c, v);
            }
        }
    }
    visit_comments(c, n);
    visit_nested_block(c, last_child(n), false);
}

static void visit_global(checker_t *c, TSNode n)
{
    scope_t *global = c->stack[0];

    if (cur(c) == global) {
        if (kind(c, n) == K_NONLOCAL)
            REPORT(c, n, "E999", "SyntaxError: nonlocal declaration not allowed at module level");
        return;
    }
    FOR_KIDS(c, n, cu)
    {
        TSNode id = KID(cu);
        uint32_t name, line, col;
        binding_t *b;
        if (kind(c, id) != K_IDENTIFIER)
            continue;
        name = name_id(c, id);
        for (size_t i = 0; i < c->diags->count; i++) {
            diag_t *d = &c->diags->items[i];
            if (d->name == name && strcmp(d->code, "F821") == 0)
                d->dead = 1;
        }
        if ((b = chk_binding_new(c, name, B_ASSIGNMENT, n)) == NULL)
            continue;
        node_pos(c, n, &line, &col);
        b->is_global = true;
        b->used = global;
        b->used_line = line;
        b->used_col = col;
        if (!chk_module_has(c, global, name))
            chk_scope_set(c, global, name, b);
        for (uint32_t i = 1; i < c->depth; i++)
            chk_scope_set(c, c->stack[i], name, b);
    }
}

static void visit_delete_target(checker_t *c, TSNode n)
{
    switch (kind(c, n)) {
    case K_IDENTIFIER:
        chk_handle_delete(c, n, name_id(c, n));
        break;
    case K_TUPLE:
    case K_LIST:
    case K_EXPRESSION_LIST:
    case K_PAREN_EXPR:
        FOR_KIDS(c, n, cu)
        {
            if (ts_node_is_named(KID(cu)))
                visit_delete_target(c, KID(cu));
        }
        break;
    case K_ATTRIBUTE:
        visit_store_attribute(c, n);
        break;
    case K_SUBSCRIPT:
        visit(c, n);
        break;
    case K_CALL:
        chk_syntax_error(c, n, "cannot delete function call");
        break;
    case K_INTEGER:
    case K_FLOAT:
    case K_STRING:
    case K_CONCAT_STRING:
    case K_TRUE:
    case K_FALSE:
    case K_NONE:
    case K_ELLIPSIS:
        chk_syntax_error(c, n, "cannot delete literal");
        break;
    default:
        chk_syntax_error(c, n, "cannot delete expression");
        visit(c, n);
    }
}

/* ---- match ---------------------------------------------------------------- */

/* Binds a capture; pyflakes places it at the pattern node (MatchAs,
 * MatchStar, MatchMapping), which is at pos. */
static void capture(checker_t *c, TSNode id, TSNode pos)
{
    uint32_t name = name_id(c, id);
    if (name != WK_UNDERSCORE)
        chk_handle_store(c, pos, name, ST_MATCH, false, false, (TSNode){0});
}

/* A value pattern (`Color.RED`) reads its first name; a single name binds. */
static void pattern_dotted(checker_t *c, TSNode dn, bool value_only)
{
    uint32_t n = ts_node_named_child_count(dn);
    TSNode first = first_named(dn);

    if (ts_node_is_null(first))
        return;
    if (n == 1 && !value_only)
        capture(c, first, first);
    else
        chk_handle_load(c, first, name_id(c, first));
}

static void visit_pattern(checker_t *c, TSNode p)
{
    switch (kind(c, p)) {
    case K_DOTTED_NAME:
        pattern_dotted(c, p, false);
        break;
    case K_AS_PATTERN: {
        TSNode alias = field(c, p, F_ALIAS);
        uint32_t nk = ts_node_named_child_count(p);
        TSNode last = nk > 0 ? ts_node_named_child(p, nk - 1) : (TSNode){0};
        if (ts_node_is_null(alias))
            alias = last;
        if (kind(c, alias) == K_AS_PATTERN_TARGET)
            alias = first_named(alias);
        if (!ts_node_is_null(alias) && kind(c, alias) == K_IDENTIFIER)
            capture(c, alias, p);
        FOR_KIDS(c, p, cu)
        {
            TSNode ch = KID(cu);
            if (ts_node_is_named(ch) && !ts_node_eq(ch, alias) &&
                kind(c, ch) != K_AS_PATTERN_TARGET)
                visit_pattern(c, ch);
        }
        break;
    }
    case K_SPLAT_PATTERN: {
        TSNode id = first_named(p);
        if (!ts_node_is_null(id) && kind(c, id) == K_IDENTIFIER)
            capture(c, id, p);
        break;
    }
    case K_CLASS_PATTERN: {
        bool first = true;
        FOR_KIDS(c, p, cu)
        {
            TSNode ch = KID(cu);
            if (!ts_node_is_named(ch))
                continue;
            if (first && kind(c, ch) == K_DOTTED_NAME)
                pattern_dotted(c, ch, true);
            else
                visit_pattern(c, ch);
            first = false;
        }
        break;
    }
    case K_KEYWORD_PATTERN: {
        bool first = true;
        FOR_KIDS(c, p, cu)
        {
            TSNode ch = KID(cu);
            if (!ts_node_is_named(ch))
                continue;
            if (!first)
                visit_pattern(c, ch);
            first = false;
        }
        break;
    }
    case K_DICT_PATTERN:
        FOR_KIDS(c, p, cu)
        {
            TSNode ch = KID(cu);
            TSFieldId f = ts_tree_cursor_current_field_id(cu);
            if (!ts_node_is_named(ch))
                continue;
            if (f == c->L->field_id[F_KEY] && kind(c, ch) == K_DOTTED_NAME)
                pattern_dotted(c, ch, true);
            else if (kind(c, ch) == K_SPLAT_PATTERN && !ts_node_is_null(first_named(ch)))
                capture(c, first_named(ch), p); /* **rest: at the mapping */
            else
                visit_pattern(c, ch);
        }
        break;
    case K_CASE_PATTERN:
    case K_UNION_PATTERN:
    case K_LIST_PATTERN:
    case K_TUPLE_PATTERN:
        FOR_KIDS(c, p, cu)
        {
            if (ts_node_is_named(KID(cu)))
                visit_pattern(c, KID(cu));
        }
        break;
    case K_IDENTIFIER:
        capture(c, p, p);
        break;
    default:
        visit(c, p);
    }
}

static void visit_match(checker_t *c, TSNode n)
{
    FOR_KIDS(c, n, cu)
    {
        TSNode ch = KID(cu);
        TSFieldId f = ts_tree_cursor_current_field_id(cu);
        if (f == c->L->field_id[F_SUBJECT])
            visit(c, ch);
    }
    FOR_KIDS(c, field(c, n, F_BODY), cu)
    {
        TSNode cc = KID(cu);
        if (kind(c, cc) != K_CASE_CLAUSE)
            continue;
        FOR_KIDS(c, cc, cu2)
        {
            TSNode ch = KID(cu2);
            if (kind(c, ch) == K_CASE_PATTERN)
                visit_pattern(c, ch);
        }
        TSNode guard = field(c, cc, F_GUARD);
        if (!ts_node_is_null(guard))
            visit_kids(c, guard);
        visit_block(c, field(c, cc, F_CONSEQUENCE), false);
    }
}

/* ---- assignments ------------------------------------------------------------ */

static bool has_elts(const checker_t *c, TSNode n)
{
    lang_kind_t k = kind(c, chk_unparen(c, n));
    return k == K_TUPLE || k == K_LIST || k == K_SET || k == K_EXPRESSION_LIST ||
           k == K_PATTERN_LIST || k == K_TUPLE_PATTERN || k == K_LIST_PATTERN;
}

/* An attribute assigned, augmented or deleted: `m.x = v`. */
static void visit_store_attribute(checker_t *c, TSNode n)
{
    c->use_store = true;
    visit(c, n);
    c->use_store = false;
}

/* `sys.modules[k] = v` may replace a module by any object: the summary
 * calls the namespace dynamic. */
static void check_sys_modules(checker_t *c, TSNode sub)
{
    TSNode v = first_child(sub), obj;
    uint32_t len;
    const char *t;

    if (c->sum == NULL || kind(c, v) != K_ATTRIBUTE)
        return;
    obj = first_child(v);
    if (kind(c, obj) != K_IDENTIFIER)
        return;
    t = text(c, obj, &len);
    if (len != 3 || memcmp(t, "sys", 3) != 0)
        return;
    t = text(c, last_child(v), &len);
    if (len == 7 && memcmp(t, "modules", 7) == 0)
        summary_set_dynamic(c->sum);
}

static void visit_target(checker_t *c, TSNode n, store_ctx_t ctx, bool nested, bool literal)
{
    switch (kind(c, n)) {
    case K_IDENTIFIER:
        chk_handle_store(c, n, name_id(c, n), ctx, nested, literal, c->export_value);
        break;
    case K_PAREN_EXPR:
    case K_TUPLE_PATTERN:
        if (kind(c, n) == K_PAREN_EXPR ? ts_node_named_child_count(n) == 1
                                       : is_paren_target(c, n)) {
            visit_target(c, ts_node_named_child(n, 0), ctx, nested, literal);
            break;
        }
        /* fall through */
    case K_PATTERN_LIST:
    case K_LIST_PATTERN:
    case K_TUPLE:
    case K_LIST:
    case K_EXPRESSION_LIST:
    case K_LIST_SPLAT_PATTERN:
    case K_LIST_SPLAT:
        FOR_KIDS(c, n, cu)
        {
            if (ts_node_is_named(KID(cu)))
                visit_target(c, KID(cu), ctx, true, literal);
        }
        break;
    case K_ATTRIBUTE:
        if (ctx == ST_ANN_NOVALUE) /* `m.x: int` assigns nothing */
            visit(c, n);
        else
            visit_store_attribute(c, n);
        break;
    case K_SUBSCRIPT:
        if (ctx != ST_ANN_NOVALUE)
            check_sys_modules(c, n);
        visit(c, n);
        break;
    default: /* reads of their parts */
        visit(c, n);
    }
}

static void visit_assignment(checker_t *c, TSNode n)
{
    TSNode type = field(c, n, F_TYPE), value;
    bool literal = true;
    TSNode saved = c->export_value;

    if (!ts_node_is_null(type)) {
        TSNode left = field(c, n, F_LEFT), right = field(c, n, F_RIGHT);
        c->export_value = right;
        visit_target(c, left, ts_node_is_null(right) ? ST_ANN_NOVALUE : ST_ANN_VALUE, false, false);
        c->export_value = saved;
        handle_annotation(c, type, n);
        if (!ts_node_is_null(right)) {
            TSNode ann = kind(c, type) == K_TYPE ? first_named(type) : type;
            if (!ts_node_is_null(ann) && is_typing(c, ann, WK_TYPEALIAS))
                handle_annotation(c, right, n);
            else
                visit(c, right);
        }
        return;
    }
    /* `a = b = v`: tree-sitter nests the chain; read its value first, then
     * bind its targets left to right, as CPython does. */
    TSNode top = n;
    for (;;) {
        TSNode right = field(c, n, F_RIGHT), left = field(c, n, F_LEFT);
        literal = literal && has_elts(c, left);
        if (kind(c, left) == K_LIST_SPLAT_PATTERN)
            chk_syntax_error(c, left, "starred assignment target must be in a list or tuple");
        if (!ts_node_is_null(right) && kind(c, right) == K_ASSIGNMENT &&
            ts_node_is_null(field(c, right, F_TYPE))) {
            n = right;
            continue;
        }
        value = right;
        break;
    }
    literal = literal && !ts_node_is_null(value) && has_elts(c, value);
    visit(c, value);
    c->export_value = value;
    for (n = top;; n = field(c, n, F_RIGHT)) {
        visit_target(c, field(c, n, F_LEFT), ST_ASSIGN, false, literal);
        if (ts_node_eq(field(c, n, F_RIGHT), value))
            break;
    }
    c->export_value = saved;
}

static void visit_aug_assignment(checker_t *c, TSNode n)
{
    TSNode left = field(c, n, F_LEFT), right = field(c, n, F_RIGHT);
    TSNode saved = c->export_value;

    TSNode target = chk_unparen(c, left); /* `(o.a) += v` is fine */
    if (kind(c, target) == K_IDENTIFIER)
        chk_handle_load(c, target, name_id(c, target));
    else if (kind(c, target) != K_ATTRIBUTE && kind(c, target) != K_SUBSCRIPT)
        chk_syntax_error(c, left, "illegal expression for augmented assignment");
    visit(c, right);
    c->export_value = right;
    visit_target(c, left, ST_AUG, false, false);
    c->export_value = saved;
}

/* ---- expressions ---------------------------------------------------------- */

static void visit_comprehension(checker_t *c, TSNode n)
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
                    visit(c, KID(cu2));
                }
            }
            visit_target(c, field(c, cl, F_LEFT), ST_COMP, false, false);
        } else if (k == K_IF_CLAUSE) {
            visit_kids(c, cl);
        }
    }
    if (kind(c, body) == K_PAIR) {
        visit(c, first_child(body));
        visit(c, last_child(body));
    } else {
        visit(c, body);
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
            visit(c, field(c, ch, F_EXPRESSION));
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
static void visit_strings(checker_t *c, TSNode n)
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
                string_annotation(c, n, el, ec);
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

static void visit_comparison(checker_t *c, TSNode n)
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
        visit(c, ch);
    }
}

/* pyflakes' SUBSCRIPT: `Literal[...]` holds values, not types; in
 * `Annotated[T, x]` only T is a type; any other typing generic makes its
 * arguments annotations. elems are the subscript's elements. */
static void visit_generic_args(checker_t *c, TSNode value, const TSNode *elems, uint32_t n)
{
    uint8_t saved = c->ann;

    if (is_name_or_attr(c, value, WK_LITERAL)) {
        c->ann = ANN_NONE;
        visit(c, value);
        for (uint32_t i = 0; i < n; i++)
            visit(c, elems[i]);
    } else if (is_name_or_attr(c, value, WK_ANNOTATED)) {
        visit(c, value);
        for (uint32_t i = 0; i < n; i++) {
            c->ann = (n >= 2 && i > 0) ? ANN_NONE : saved;
            visit(c, elems[i]);
        }
    } else {
        if (is_typing(c, value, UINT32_MAX))
            c->ann = ANN_BARE;
        visit(c, value);
        for (uint32_t i = 0; i < n; i++)
            visit(c, elems[i]);
    }
    c->ann = saved;
}

#define MAX_ELEMS 256

static void visit_subscript(checker_t *c, TSNode n)
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
static void visit_generic_type(checker_t *c, TSNode n)
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
    if (npos >= 1 && is_typing(c, func, WK_CAST)) {
        visit_in(c, pos[0], ANN_BARE);
        return false; /* pyflakes then visits the whole call as usual */
    }
    if (!is_typing(c, func, WK_TYPEVAR))
        return false;
    (void)n;
    visit(c, func);
    uint32_t i = 0;
    FOR_KIDS(c, args, cu)
    {
        TSNode a = KID(cu);
        lang_kind_t k = kind(c, a);
        if (!ts_node_is_named(a) || k == K_COMMENT)
            continue;
        if (k == K_KEYWORD_ARGUMENT) {
            bool bound = name_id(c, field(c, a, F_NAME)) == WK_BOUND;
            visit_in(c, field(c, a, F_VALUE), bound ? ANN_BARE : ANN_NONE);
        } else {
            visit_in(c, a, i > 0 ? ANN_BARE : ANN_NONE);
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
    if (attr == WK_EXTEND && is_seq_literal(c, arg))
        add_export_strings(c, arg, b);
    else if (attr == WK_APPEND)
        add_export_strings(c, args, b);
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

static void visit_call(checker_t *c, TSNode n)
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
        note_enum_export(c, func);
    }
    if (visit_typing_call(c, n, func, args))
        return;
    c->last_use = -1;
    visit(c, func);
    if (c->last_use >= 0 && c->sum != NULL &&
        (kind(c, func) == K_IDENTIFIER || kind(c, func) == K_ATTRIBUTE))
        chk_record_call(c, args);
    visit(c, args);
    if (guard != UINT32_MAX) /* after the call's own arguments */
        PUSH(c, c->guards, c->n_guards, c->cap_guards, guard);
}

static bool is_notimplemented(checker_t *c, TSNode n)
{
    return kind(c, n) == K_IDENTIFIER && name_id(c, n) == c->id_notimpl;
}

static void visit_raise(checker_t *c, TSNode n)
{
    TSNode exc = first_named(n);

    visit_kids(c, n);
    if (ts_node_is_null(exc))
        return;
    if ((kind(c, exc) == K_CALL && is_notimplemented(c, first_child(exc))) ||
        is_notimplemented(c, exc))
        REPORT(c, n, "F901", "'raise NotImplemented' should be 'raise NotImplementedError'");
}

/* `a.b.c`: one load of `a`, recorded with its chain; other objects are
 * visited as usual. A target (c->use_store) marks the chain stored; only
 * this chain, not the ones inside its object. */
static void visit_attribute(checker_t *c, TSNode n)
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
        visit(c, obj);
        return;
    }
    if (kind(c, obj) != K_IDENTIFIER) {
        visit(c, obj);
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
static void check_number(checker_t *c, TSNode n)
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
static void visit_conditional(checker_t *c, TSNode n)
{
    TSNode part[3];
    uint32_t k = 0;

    FOR_KIDS(c, n, cu)
    {
        TSNode ch = KID(cu);
        if (!ts_node_is_named(ch))
            continue;
        if (ts_node_is_extra(ch))
            visit(c, ch); /* comments */
        else if (k < 3)
            part[k++] = ch;
    }
    if (k != 3) {
        for (uint32_t i = 0; i < k; i++)
            visit(c, part[i]);
        return;
    }
    check_if_tuple(c, part[1], n);
    c->cond++;
    bool outer = c->in_test > 0; /* then the enclosing test drops the guards */
    size_t mark = c->n_guards;
    visit_test(c, part[1]);
    visit(c, part[0]);
    visit(c, part[2]);
    if (!outer)
        c->n_guards = mark;
    c->cond--;
}

/* `a and b`, `a or b`: a hasattr()/getattr() in an operand guards the
 * operands after it. */
static void visit_boolean(checker_t *c, TSNode n)
{
    bool outer = c->in_test > 0;
    size_t mark = c->n_guards;

    c->in_test++;
    visit_kids(c, n);
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
static void visit_print(checker_t *c, TSNode n)
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
            visit_kids(c, ch);
        else if (ts_node_is_named(ch) && !ts_node_is_extra(ch))
            visit(c, ch);
    }
}

static void visit_binary_op(checker_t *c, TSNode n)
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
    visit_comments(c, n); /* a type comment may sit between the operands */
    visit(c, left);
    visit(c, right);
}

/* ---- dispatch -------------------------------------------------------------- */

static void visit_simple(checker_t *c, TSNode n, lang_kind_t k)
{
    switch (k) {
    case K_RETURN:
        if (cur(c)->kind == SC_CLASS || cur(c)->kind == SC_MODULE)
            REPORT(c, n, "F706", "'return' outside function");
        else
            visit_kids(c, n);
        break;
    case K_YIELD:
    case K_AWAIT:
        if (cur(c)->kind == SC_CLASS || cur(c)->kind == SC_MODULE)
            REPORT(c, n, "F704", "'yield' outside function");
        else
            visit_kids(c, n);
        break;
    case K_BREAK:
        if (c->loop == 0)
            REPORT(c, n, "F701", "'break' outside loop");
        break;
    case K_CONTINUE:
        if (c->loop == 0)
            REPORT(c, n, "F702", "'continue' not properly in loop");
        break;
    case K_ASSERT: {
        TSNode test = first_named(n);
        if (!ts_node_is_null(test) && is_nonempty_tuple(c, test))
            REPORT(c, n, "F631", "assertion is always true, perhaps remove parentheses?");
        visit_kids(c, n);
        break;
    }
    case K_PRINT:
        visit_print(c, n);
        break;
    case K_EXEC:
        chk_syntax_error(c, n, "Missing parentheses in call to 'exec'");
        break;
    case K_TYPE_ALIAS: {
        /* tree-sitter also reads `type(x).attr = v` as a type alias */
        TSNode left = field(c, n, F_LEFT);
        if (!ts_node_is_null(left) && kind(c, left) == K_TYPE)
            left = first_named(left);
        if (!ts_node_is_null(left) && kind(c, left) == K_IDENTIFIER)
            REPORT(c, n, "E999", "SyntaxError: the type statement needs Python 3.12");
        else
            visit_kids(c, n);
        break;
    }
    default:
        visit_kids(c, n);
    }
}

static void visit(checker_t *c, TSNode n)
{
    lang_kind_t k;

    if (ts_node_is_null(n) || c->oom || c->too_deep)
        return;
    if (++c->rec > c->max_rec)
        c->max_rec = c->rec;
    if (c->rec > CHECKER_MAX_DEPTH) {
        c->too_deep = true;
        c->rec--;
        return;
    }
    k = kind(c, n);
    switch (k) {
    case K_IDENTIFIER:
        chk_record_use(c, chk_handle_load(c, n, name_id(c, n)), n, NULL, 0, false);
        break;
    case K_ATTRIBUTE:
        visit_attribute(c, n);
        break;
    case K_KEYWORD_ARGUMENT:
        visit(c, last_child(n));
        break;
    case K_ASSIGNMENT:
        visit_assignment(c, n);
        break;
    case K_AUG_ASSIGNMENT:
        visit_aug_assignment(c, n);
        break;
    case K_NAMED_EXPR: {
        TSNode nm = first_child(n);
        visit(c, last_child(n));
        chk_handle_store(c, nm, name_id(c, nm), ST_NAMED, false, false, (TSNode){0});
        break;
    }
    case K_CALL:
        visit_call(c, n);
        break;
    case K_SUBSCRIPT:
        visit_subscript(c, n);
        break;
    case K_BINARY_OP:
        visit_binary_op(c, n);
        break;
    case K_DICTIONARY:
        chk_dict_keys(c, n);
        visit_kids(c, n);
        break;
    case K_GENERIC_TYPE:
        visit_generic_type(c, n);
        break;
    case K_STRING:
    case K_CONCAT_STRING:
        visit_strings(c, n);
        break;
    case K_COMPARISON:
        visit_comparison(c, n);
        break;
    case K_CONDITIONAL_EXPR:
        visit_conditional(c, n);
        break;
    case K_BOOLEAN_OP:
        visit_boolean(c, n);
        break;
    case K_LAMBDA:
        visit_lambda(c, n);
        break;
    case K_LIST_COMP:
    case K_SET_COMP:
    case K_DICT_COMP:
    case K_GENERATOR_EXP:
        visit_comprehension(c, n);
        break;
    case K_FUNCTION_DEF:
        visit_function(c, n, (TSNode){0});
        break;
    case K_CLASS_DEF:
        visit_class(c, n, (TSNode){0});
        break;
    case K_DECORATED_DEF: {
        TSNode def = field(c, n, F_DEFINITION);
        if (kind(c, def) == K_CLASS_DEF)
            visit_class(c, def, n);
        else
            visit_function(c, def, n);
        break;
    }
    case K_IF:
        visit_if(c, n);
        break;
    case K_FOR:
        visit_loop(c, n, true);
        break;
    case K_WHILE:
        visit_loop(c, n, false);
        break;
    case K_TRY:
        visit_try(c, n);
        break;
    case K_WITH:
        visit_with(c, n);
        break;
    case K_MATCH:
        visit_match(c, n);
        break;
    case K_IMPORT:
        visit_import(c, n);
        break;
    case K_IMPORT_FROM:
        visit_import_from(c, n, false);
        break;
    case K_FUTURE_IMPORT:
        visit_import_from(c, n, true);
        break;
    case K_GLOBAL:
    case K_NONLOCAL:
        visit_global(c, n);
        break;
    case K_DELETE:
        FOR_KIDS(c, n, cu)
        {
            if (ts_node_is_named(KID(cu)))
                visit_delete_target(c, KID(cu));
        }
        break;
    case K_RAISE:
        visit_raise(c, n);
        break;
    case K_BLOCK:
        visit_block(c, n, false);
        break;
    case K_COMMENT: {
        uint32_t off;
        if (!c->override && is_type_comment(c, n, &off))
            chk_defer(c, D_TYPE_COMMENT, n);
        break;
    }
    case K_INTEGER:
    case K_FLOAT:
        check_number(c, n);
        break;
    case K_TRUE:
    case K_FALSE:
    case K_NONE:
    case K_ELLIPSIS:
    case K_PASS:
    case K_LINE_CONTINUATION:
    case K_KEYWORD_SEPARATOR:
    case K_POSITIONAL_SEPARATOR:
        break;
    default:
        visit_simple(c, n, k);
    }
    c->rec--;
}

/* ---- the end of the module ------------------------------------------------- */

static void run_deferred(checker_t *c)
{
    c->in_deferred = true;
    for (size_t i = 0; i < c->n_deferred && !c->oom; i++) {
        defer_t d = c->deferred[i];
        size_t cap = c->stack_cap;
        if (!chk_grow(c, (void **)&c->stack, &cap, d.depth + 1, sizeof(scope_t *)))
            return;
        c->stack_cap = (uint32_t)cap;
        memcpy(c->stack, d.stack, (size_t)d.depth * sizeof(scope_t *));
        c->depth = d.depth;
        c->cur_fnode = d.fnode;
        c->cond = d.cond;
        c->src = d.src;
        c->override = d.override;
        c->oline = d.oline;
        c->ocol = d.ocol;
        c->ann = ANN_NONE;
        c->in_fstring = false;
        c->n_except = 0;
        c->loop = 0;
        c->fblocks = 0;
        c->try_guard = 0;
        c->try_import = 0;
        c->in_test = 0;
        c->n_guards = 0;
        c->use_store = false;
        switch (d.kind) {
        case D_FUNCTION:
        case D_LAMBDA:
            run_function(c, d.node, d.kind == D_LAMBDA);
            break;
        case D_STRING_ANN:
            string_annotation(c, d.node, d.eline, d.ecol);
            break;
        case D_ANN_EXPR:
            visit_in(c, d.node, ANN_BARE);
            break;
        case D_TYPE_COMMENT:
            type_comment(c, d.node);
            break;
        }
    }
}

static void check_unused_assignments(checker_t *c)
{
    for (size_t i = 0; i < c->n_fscopes; i++) {
        scope_t *s = c->fscopes[i];
        if (s->uses_locals)
            continue;
        for (uint32_t k = 0; k < s->cap; k++) {
            binding_t *b = s->slots[k].name < SLOT_TOMB ? s->slots[k].b : NULL;
            if (b == NULL || b->used != NULL || b->name == WK_UNDERSCORE ||
                chk_is_always_used(b->name) || !is_assignment(b) || s->slots[k].name != b->name)
                continue;
            if (diag_add(c->diags, b->line, b->col + 1, "F841",
                         "local variable '%s' is assigned to but never used",
                         chk_name_str(c, b->name)) == NULL)
                c->oom = true;
        }
    }
}

/* pyflakes' str() of an importation, for F401's message. */
static void import_label(const checker_t *c, const binding_t *b, char *out, size_t cap)
{
    const char *full = chk_name_str(c, b->full), *name = chk_name_str(c, b->name);
    size_t fl = strlen(full);

    switch (b->kind) {
    case B_IMPORT: {
        const char *last = strrchr(full, '.');
        last = last ? last + 1 : full;
        if (strcmp(last, name) != 0)
            snprintf(out, cap, "%s as %s", full, name);
        else
            snprintf(out, cap, "%s", full);
        break;
    }
    case B_FROM:
    case B_FUTURE:
        if (b->real != b->name)
            snprintf(out, cap, "%s as %s", full, name);
        else
            snprintf(out, cap, "%s", full);
        break;
    case B_STAR:
        if (fl > 0 && full[fl - 1] == '.')
            snprintf(out, cap, "from %s import *", full);
        else
            snprintf(out, cap, "%s", name);
        break;
    default:
        snprintf(out, cap, "%s", full);
    }
}

static bool in_exports(const binding_t *all, uint32_t name)
{
    for (uint32_t i = 0; all != NULL && i < all->n_exports; i++)
        if (all->exports[i] == name)
            return true;
    return false;
}

static void check_exports(checker_t *c, scope_t *s, binding_t *all)
{
    bool any_undefined = false;

    for (uint32_t i = 0; i < all->n_exports; i++) {
        uint32_t name = all->exports[i];
        if (chk_module_has(c, s, name))
            continue;
        any_undefined = true;
        if (!s->import_starred && !c->in->is_init)
            if (diag_add(c->diags, all->line, all->col + 1, "F822",
                         "undefined name '%s' in __all__", chk_name_str(c, name)) == NULL)
                c->oom = true;
    }
    if (!any_undefined || !s->import_starred)
        return;
    char from[1024];
    chk_star_sources(c, &s, 1, s, from, sizeof from);
    for (uint32_t i = 0; i < all->n_exports; i++)
        if (!chk_module_has(c, s, all->exports[i])) {
            if (diag_add(c->diags, all->line, all->col + 1, "F405",
                         "'%s' may be undefined, or defined from star imports: %s",
                         chk_name_str(c, all->exports[i]), from) == NULL)
                c->oom = true;
            chk_summary_star(c, all->exports[i], all->line, all->col + 1, true);
        }
}

static void check_dead_scope(checker_t *c, scope_t *s)
{
    binding_t *all = NULL;

    if (s->kind == SC_CLASS)
        return;
    all = scope_get(s, WK_ALL);
    if (all != NULL && all->kind != B_EXPORT)
        all = NULL;
    if (all != NULL)
        check_exports(c, s, all);
    for (uint32_t k = 0; k < s->cap; k++) {
        binding_t *b = s->slots[k].name < SLOT_TOMB ? s->slots[k].b : NULL;
        bool used;
        char label[600];
        if (b == NULL || !is_importation(b) || s->slots[k].name != b->name)
            continue;
        used = b->used != NULL || in_exports(all, b->name);
        if (!used) {
            import_label(c, b, label, sizeof label);
            if (diag_add(c->diags, b->line, b->col + 1, "F401", "'%s' imported but unused",
                         label) == NULL)
                c->oom = true;
        }
        for (redef_t *r = b->redefined; r != NULL; r = r->next) {
            const char *code = r->is_for ? "F402" : "F811";
            if (!r->is_for && used)
                continue;
            if (diag_add(c->diags, r->line, r->col + 1, code,
                         r->is_for ? "import '%s' from line %u shadowed by loop variable"
                                   : "redefinition of unused '%s' from line %u",
                         chk_name_str(c, b->name), b->line) == NULL)
                c->oom = true;
        }
    }
}

void checker_cursors_free(checker_cursors_t *self)
{
    for (uint32_t i = 0; i < self->made; i++)
        ts_tree_cursor_delete(&self->blocks[i / CURSOR_BLOCK][i % CURSOR_BLOCK]);
    for (uint32_t b = 0; b < CURSOR_BLOCKS && self->blocks[b] != NULL; b++) {
        free(self->blocks[b]);
        self->blocks[b] = NULL;
    }
    self->made = 0;
}

/* ---- entry ----------------------------------------------------------------------- */

static st_rc_t checker_init(checker_t *c, const checker_input_t *in)
{
    memset(c, 0, sizeof *c);
    c->in = in;
    c->L = in->lang;
    c->a = in->arena;
    c->diags = in->diags;
    c->sum = in->summary;
    c->src = in->src;
    c->curs = in->cursors;
    c->futures_allowed = true;
    c->annotations_future = in->is_stub;
    if ((c->names = intern_new_arena(c->a)) == NULL)
        return ST_ENOMEM;
    for (uint32_t i = 0; i < N_BUILTINS; i++)
        chk_intern_bytes(c, builtin_names[i], strlen(builtin_names[i]));
    for (uint32_t i = 0; i < WK__END - N_BUILTINS; i++)
        chk_intern_bytes(c, well_known_names[i], strlen(well_known_names[i]));
    c->id_locals = id_of_builtin("locals");
    c->id_print = id_of_builtin("print");
    c->id_nameerror = id_of_builtin("NameError");
    c->id_notimpl = id_of_builtin("NotImplemented");
    c->id_hasattr = id_of_builtin("hasattr");
    c->id_getattr = id_of_builtin("getattr");
    c->id_globals = id_of_builtin("globals");
    c->id_vars = id_of_builtin("vars");
    c->id_exec = id_of_builtin("exec");
    {
        static const char *const guard_exc[GX__N] = {"AttributeError", "NameError",
                                                     "ImportError",    "ModuleNotFoundError",
                                                     "Exception",      "BaseException"};
        for (size_t i = 0; i < sizeof guard_exc / sizeof guard_exc[0]; i++)
            c->id_guard_exc[i] = id_of_builtin(guard_exc[i]);
    }
    c->builtin_use = arena_calloc(c->a, N_BUILTINS, sizeof(builtin_use_t));
    c->builtin_deleted = arena_calloc(c->a, N_BUILTINS, sizeof(bool));
    if (c->oom || c->builtin_use == NULL || c->builtin_deleted == NULL)
        return ST_ENOMEM;
    chk_fnode_new(c, 0, false); /* the module */
    chk_push_scope(c, SC_MODULE);
    return c->oom ? ST_ENOMEM : ST_OK;
}

static void checker_cleanup(checker_t *c)
{
    c->n_curs_used = 0;
    for (size_t i = 0; i < c->n_ann_trees; i++)
        ts_tree_delete(c->ann_trees[i]);
}

st_rc_t checker_run(checker_input_t *in, st_err_t *err)
{
    checker_t c;
    st_rc_t rc;
    scope_t *module;

    if ((rc = checker_init(&c, in)) != ST_OK) {
        checker_cleanup(&c);
        return st_fail(err, rc, "arena exhausted starting the analysis");
    }
    module = c.stack[0];
    visit_module(&c, ts_tree_root_node(in->tree));
    if (!c.too_deep)
        run_deferred(&c);
    c.depth = 1;
    c.stack[0] = module;
    chk_pop_scope(&c);
    if (!c.too_deep && !c.oom) {
        check_unused_assignments(&c);
        for (size_t i = 0; i < c.n_dead; i++)
            check_dead_scope(&c, c.dead[i]);
        chk_build_summary(&c, module);
        if (c.sum != NULL && !noqa_summarize(in->src, in->len, c.a, c.sum))
            c.oom = true;
    }
    checker_cleanup(&c);
    in->max_depth = c.max_rec;
    if (c.oom || in->diags->oom)
        return st_fail(err, ST_ENOMEM, "arena exhausted during the analysis");
    if (c.too_deep)
        return st_fail(err, ST_ELIMIT, "nesting deeper than %d levels", CHECKER_MAX_DEPTH);
    return ST_OK;
}
