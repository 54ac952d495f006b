/* checker_walk.c - the walk: dispatch over node kinds, the helpers every
 * visitor uses, __all__'s names, and annotations (string annotations and
 * type comments are parsed and checked as expressions).
 *
 * The walk mirrors the order in which Python binds and reads names, which is
 * not source order: an assignment's value is read before its targets are
 * bound, a for loop's iterable before its target, a comprehension's clauses
 * before its element. Function bodies are deferred with a copy of the scope
 * stack, so they see every module-level binding, as at run time. */
#include "worker/python/checker_int.h"

#include <ctype.h>
#include <string.h>

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

void chk_visit_kids(checker_t *c, TSNode n)
{
    FOR_KIDS(c, n, cu)
    {
        TSNode ch = KID(cu);
        if (ts_node_is_named(ch))
            chk_visit(c, ch);
    }
}

TSNode chk_unparen(const checker_t *c, TSNode n)
{
    while (!ts_node_is_null(n) &&
           ((kind(c, n) == K_PAREN_EXPR && ts_node_named_child_count(n) == 1) ||
            chk_is_paren_target(c, n)))
        n = ts_node_named_child(n, 0);
    return n;
}

/* `(x)` as an assignment target: tree-sitter calls it a tuple pattern, but
 * without a comma it is just x in parentheses. */
bool chk_is_paren_target(const checker_t *c, TSNode n)
{
    return kind(c, n) == K_TUPLE_PATTERN && ts_node_child_count(n) == 3 &&
           ts_node_named_child_count(n) == 1;
}

/* Appends the str constants of a list or tuple literal to b's exports. */
void chk_add_export_strings(checker_t *c, TSNode seq, binding_t *b)
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

bool chk_is_seq_literal(const checker_t *c, TSNode n)
{
    lang_kind_t k = kind(c, n);
    return k == K_LIST || k == K_TUPLE;
}

/* pyflakes' ExportBinding: names from `[...]`, `(...)`, and `[...] + [...]`. */
void chk_collect_exports(checker_t *c, TSNode value, binding_t *b)
{
    TSNode v = chk_unparen(c, value);

    if (chk_is_seq_literal(c, v)) {
        chk_add_export_strings(c, v, b);
        return;
    }
    while (kind(c, v) == K_BINARY_OP) {
        TSNode left = chk_unparen(c, first_child(v)), right = chk_unparen(c, last_child(v));
        if (!chk_is_seq_literal(c, right))
            break;
        chk_add_export_strings(c, right, b);
        if (kind(c, left) == K_BINARY_OP) {
            v = left;
        } else {
            if (chk_is_seq_literal(c, left))
                chk_add_export_strings(c, left, b);
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
bool chk_is_typing(checker_t *c, TSNode n, uint32_t want)
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

bool chk_is_name_or_attr(checker_t *c, TSNode n, uint32_t want)
{
    lang_kind_t k = kind(c, n);
    if (k == K_IDENTIFIER)
        return name_id(c, n) == want;
    if (k == K_ATTRIBUTE)
        return name_id(c, last_child(n)) == want;
    return false;
}

void chk_visit_in(checker_t *c, TSNode n, annstate_t ann)
{
    uint8_t saved = c->ann;
    c->ann = (uint8_t)ann;
    chk_visit(c, n);
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
void chk_handle_annotation(checker_t *c, TSNode n, TSNode report)
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
        chk_visit_in(c, n, ANN_BARE);
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
    chk_visit_in(c, stmt, ANN_STRING);
    c->src = saved_src;
    c->override = saved_override;
    c->oline = saved_ol;
    c->ocol = saved_oc;
}

/* A string annotation: its text as an expression, names reported at the
 * string, a syntax error at (eline, ecol). */
void chk_string_annotation(checker_t *c, TSNode s, uint32_t eline, uint32_t ecol)
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
void chk_type_comment(checker_t *c, TSNode n)
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

/* ---- dispatch -------------------------------------------------------------- */

static void visit_simple(checker_t *c, TSNode n, lang_kind_t k)
{
    switch (k) {
    case K_RETURN:
        if (cur(c)->kind == SC_CLASS || cur(c)->kind == SC_MODULE)
            REPORT(c, n, "F706", "'return' outside function");
        else
            chk_visit_kids(c, n);
        break;
    case K_YIELD:
    case K_AWAIT:
        if (cur(c)->kind == SC_CLASS || cur(c)->kind == SC_MODULE)
            REPORT(c, n, "F704", "'yield' outside function");
        else
            chk_visit_kids(c, n);
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
        if (!ts_node_is_null(test) && chk_is_nonempty_tuple(c, test))
            REPORT(c, n, "F631", "assertion is always true, perhaps remove parentheses?");
        chk_visit_kids(c, n);
        break;
    }
    case K_PRINT:
        chk_visit_print(c, n);
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
            chk_visit_kids(c, n);
        break;
    }
    default:
        chk_visit_kids(c, n);
    }
}

void chk_visit(checker_t *c, TSNode n)
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
        chk_visit_attribute(c, n);
        break;
    case K_KEYWORD_ARGUMENT:
        chk_visit(c, last_child(n));
        break;
    case K_ASSIGNMENT:
        chk_visit_assignment(c, n);
        break;
    case K_AUG_ASSIGNMENT:
        chk_visit_aug_assignment(c, n);
        break;
    case K_NAMED_EXPR: {
        TSNode nm = first_child(n);
        chk_visit(c, last_child(n));
        chk_handle_store(c, nm, name_id(c, nm), ST_NAMED, false, false, (TSNode){0});
        break;
    }
    case K_CALL:
        chk_visit_call(c, n);
        break;
    case K_SUBSCRIPT:
        chk_visit_subscript(c, n);
        break;
    case K_BINARY_OP:
        chk_visit_binary_op(c, n);
        break;
    case K_DICTIONARY:
        chk_dict_keys(c, n);
        chk_visit_kids(c, n);
        break;
    case K_GENERIC_TYPE:
        chk_visit_generic_type(c, n);
        break;
    case K_STRING:
    case K_CONCAT_STRING:
        chk_visit_strings(c, n);
        break;
    case K_COMPARISON:
        chk_visit_comparison(c, n);
        break;
    case K_CONDITIONAL_EXPR:
        chk_visit_conditional(c, n);
        break;
    case K_BOOLEAN_OP:
        chk_visit_boolean(c, n);
        break;
    case K_LAMBDA:
        chk_visit_lambda(c, n);
        break;
    case K_LIST_COMP:
    case K_SET_COMP:
    case K_DICT_COMP:
    case K_GENERATOR_EXP:
        chk_visit_comprehension(c, n);
        break;
    case K_FUNCTION_DEF:
        chk_visit_function(c, n, (TSNode){0});
        break;
    case K_CLASS_DEF:
        chk_visit_class(c, n, (TSNode){0});
        break;
    case K_DECORATED_DEF: {
        TSNode def = field(c, n, F_DEFINITION);
        if (kind(c, def) == K_CLASS_DEF)
            chk_visit_class(c, def, n);
        else
            chk_visit_function(c, def, n);
        break;
    }
    case K_IF:
        chk_visit_if(c, n);
        break;
    case K_FOR:
        chk_visit_loop(c, n, true);
        break;
    case K_WHILE:
        chk_visit_loop(c, n, false);
        break;
    case K_TRY:
        chk_visit_try(c, n);
        break;
    case K_WITH:
        chk_visit_with(c, n);
        break;
    case K_MATCH:
        chk_visit_match(c, n);
        break;
    case K_IMPORT:
        chk_visit_import(c, n);
        break;
    case K_IMPORT_FROM:
        chk_visit_import_from(c, n, false);
        break;
    case K_FUTURE_IMPORT:
        chk_visit_import_from(c, n, true);
        break;
    case K_GLOBAL:
    case K_NONLOCAL:
        chk_visit_global(c, n);
        break;
    case K_DELETE:
        FOR_KIDS(c, n, cu)
        {
            if (ts_node_is_named(KID(cu)))
                chk_visit_delete_target(c, KID(cu));
        }
        break;
    case K_RAISE:
        chk_visit_raise(c, n);
        break;
    case K_BLOCK:
        chk_visit_block(c, n, false);
        break;
    case K_COMMENT: {
        uint32_t off;
        if (!c->override && is_type_comment(c, n, &off))
            chk_defer(c, D_TYPE_COMMENT, n);
        break;
    }
    case K_INTEGER:
    case K_FLOAT:
        chk_check_number(c, n);
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
