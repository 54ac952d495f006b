/* checker_stmt.c - statements: blocks, if, loops, try, with, global and
 * nonlocal, del, match patterns, and assignments with their targets.
 *
 * The branches of an if or a try open forks (checker_scope.c), so that a
 * name bound again in another branch is no redefinition. A handler that
 * catches NameError silences F821 in its try body; the exceptions the
 * handlers catch also decide which uses and imports in the body the summary
 * marks guarded. */
#include "worker/python/checker_int.h"

#include <string.h>

static void visit_store_attribute(checker_t *c, TSNode n);

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
    chk_visit_block(c, block, in_for);
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

void chk_visit_block(checker_t *c, TSNode block, bool in_for)
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
        chk_visit(c, st);
    }
    if (statements == 0 && kind(c, block) == K_BLOCK)
        missing_block(c, block);
    c->in_for = saved;
}

void chk_visit_module(checker_t *c, TSNode root)
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
        chk_visit(c, st);
    }
}

bool chk_is_nonempty_tuple(const checker_t *c, TSNode n)
{
    return kind(c, n) == K_TUPLE && ts_node_named_child_count(n) > 0;
}

/* F634: an if, elif or conditional expression testing a tuple, reported
 * at `at`. */
void chk_check_if_tuple(checker_t *c, TSNode test, TSNode at)
{
    if (chk_is_nonempty_tuple(c, test))
        REPORT(c, at, "F634",
               "'if tuple literal' is always true, perhaps remove accidental comma?");
}

/* The test of an if, elif or while: hasattr()/getattr() calls in it guard
 * the body's uses of the names they test (the caller drops the guards
 * after the body). */
void chk_visit_test(checker_t *c, TSNode test)
{
    c->in_test++;
    chk_visit(c, test);
    c->in_test--;
}

void chk_visit_if(checker_t *c, TSNode n)
{
    uint32_t saved = c->cur_fnode, fork, body, other;
    TSNode cond = field(c, n, F_CONDITION);
    branch_t br = {.decide = c->in->is_stub && c->not_taken == 0 &&
                             (cur(c)->kind == SC_MODULE || cur(c)->kind == SC_CLASS),
                   .certain = true};

    bool versioned = !c->in->is_stub && chk_is_target_test(c, cond);
    FOR_KIDS(c, n, cu0)
    {
        if (!versioned && !c->in->is_stub && kind(c, KID(cu0)) == K_ELIF)
            versioned = chk_is_target_test(c, field(c, KID(cu0), F_CONDITION));
    }
    c->versioned += versioned;
    chk_check_if_tuple(c, cond, n);
    fork = chk_fnode_new(c, c->cur_fnode, true);
    body = chk_fnode_new(c, fork, false);
    other = chk_fnode_new(c, fork, false);
    c->cond++;
    c->cur_fnode = other;
    size_t mark = c->n_guards;
    chk_visit_test(c, cond);
    c->cur_fnode = body;
    /* `if TYPE_CHECKING:` or `if typing.TYPE_CHECKING:`: never runs */
    bool tc = (kind(c, cond) == K_IDENTIFIER && name_id(c, cond) == WK_TYPE_CHECKING) ||
              (kind(c, cond) == K_ATTRIBUTE && kind(c, last_child(cond)) == K_IDENTIFIER &&
               name_id(c, last_child(cond)) == WK_TYPE_CHECKING);
    c->type_checking += tc;
    chk_branch_enter(c, &br, cond, false);
    chk_visit_block(c, field(c, n, F_CONSEQUENCE), false);
    chk_branch_leave(c, &br);
    c->type_checking -= tc;
    c->n_guards = mark;
    FOR_KIDS(c, n, cu)
    {
        TSNode alt = KID(cu);
        lang_kind_t k = kind(c, alt);
        if (k == K_ELIF) {
            TSNode ec = field(c, alt, F_CONDITION);
            chk_check_if_tuple(c, ec, alt);
            fork = chk_fnode_new(c, other, true);
            body = chk_fnode_new(c, fork, false);
            other = chk_fnode_new(c, fork, false);
            c->cur_fnode = other;
            chk_visit_test(c, ec);
            c->cur_fnode = body;
            chk_branch_enter(c, &br, ec, false);
            chk_visit_block(c, field(c, alt, F_CONSEQUENCE), false);
            chk_branch_leave(c, &br);
            c->n_guards = mark;
        } else if (k == K_ELSE) {
            c->cur_fnode = other;
            chk_branch_enter(c, &br, (TSNode){0}, true);
            chk_visit_block(c, last_child(alt), false);
            chk_branch_leave(c, &br);
        }
    }
    c->versioned -= versioned;
    c->cond--;
    c->cur_fnode = saved;
}

void chk_visit_loop(checker_t *c, TSNode n, bool is_for)
{
    TSNode alt = field(c, n, F_ALTERNATIVE);
    size_t mark = c->n_guards;

    if (is_for) {
        chk_visit(c, field(c, n, F_RIGHT));
        chk_visit_target(c, field(c, n, F_LEFT), ST_FOR, false, false);
    } else {
        c->cond++;
        chk_visit_test(c, field(c, n, F_CONDITION));
    }
    chk_visit_comments(c, n);
    c->loop++;
    visit_nested_block(c, field(c, n, F_BODY), is_for);
    c->loop--;
    c->n_guards = mark;
    if (!ts_node_is_null(alt))
        chk_visit_block(c, last_child(alt), is_for);
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
    chk_visit(c, type);
    FOR_KIDS(c, h, cu)
    {
        if (kind(c, KID(cu)) == K_BLOCK)
            chk_visit_block(c, KID(cu), false);
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

void chk_visit_try(checker_t *c, TSNode n)
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
            c->in_handler++;
            visit_except(c, ch);
            c->in_handler--;
        } else if (k == K_ELSE) {
            /* runs only when the body's imports worked: as guarded */
            c->cur_fnode = body;
            c->try_import += import;
            chk_visit_block(c, last_child(ch), false);
            c->try_import -= import;
        } else if (k == K_FINALLY) {
            c->cur_fnode = chk_fnode_new(c, fork, false);
            FOR_KIDS(c, ch, cu2)
            {
                if (kind(c, KID(cu2)) == K_BLOCK)
                    chk_visit_block(c, KID(cu2), false);
            }
        }
    }
    c->cur_fnode = saved;
}

void chk_visit_with(checker_t *c, TSNode n)
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
                chk_visit(c, first_named(v));
                if (!ts_node_is_null(t))
                    chk_visit_target(c, first_named(t), ST_WITH, false, false);
            } else {
                chk_visit(c, v);
            }
        }
    }
    chk_visit_comments(c, n);
    visit_nested_block(c, last_child(n), false);
}

void chk_visit_global(checker_t *c, TSNode n)
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

void chk_visit_delete_target(checker_t *c, TSNode n)
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
                chk_visit_delete_target(c, KID(cu));
        }
        break;
    case K_ATTRIBUTE:
        visit_store_attribute(c, n);
        break;
    case K_SUBSCRIPT:
        chk_visit(c, n);
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
        chk_visit(c, n);
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
        chk_visit(c, p);
    }
}

void chk_visit_match(checker_t *c, TSNode n)
{
    FOR_KIDS(c, n, cu)
    {
        TSNode ch = KID(cu);
        TSFieldId f = ts_tree_cursor_current_field_id(cu);
        if (f == c->L->field_id[F_SUBJECT])
            chk_visit(c, ch);
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
            chk_visit_kids(c, guard);
        chk_visit_block(c, field(c, cc, F_CONSEQUENCE), false);
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
    chk_visit(c, n);
    c->use_store = false;
}

/* `sys.modules[k] = v` may replace a module by any object: the summary
 * names the module when k is a plain string (the project opens that one),
 * and calls the file's own namespace dynamic otherwise (k unknown). */
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
    if (len != 7 || memcmp(t, "modules", 7) != 0)
        return;
    if (ts_node_named_child_count(sub) == 2) {
        TSNode key = ts_node_named_child(sub, 1);
        strinfo_t si;
        if (chk_is_plain_str(c, key)) {
            chk_string_info(c, key, &si);
            if (si.n_content == 1 && !si.has_escape && !si.has_interp) {
                t = text(c, si.content, &len);
                summary_add_replace(c->sum, t, len);
                return;
            }
        }
    }
    summary_set_dynamic(c->sum);
}

void chk_visit_target(checker_t *c, TSNode n, store_ctx_t ctx, bool nested, bool literal)
{
    switch (kind(c, n)) {
    case K_IDENTIFIER:
        chk_handle_store(c, n, name_id(c, n), ctx, nested, literal, c->export_value);
        break;
    case K_PAREN_EXPR:
    case K_TUPLE_PATTERN:
        if (kind(c, n) == K_PAREN_EXPR ? ts_node_named_child_count(n) == 1
                                       : chk_is_paren_target(c, n)) {
            chk_visit_target(c, ts_node_named_child(n, 0), ctx, nested, literal);
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
                chk_visit_target(c, KID(cu), ctx, true, literal);
        }
        break;
    case K_ATTRIBUTE:
        if (ctx == ST_ANN_NOVALUE) /* `m.x: int` assigns nothing */
            chk_visit(c, n);
        else
            visit_store_attribute(c, n);
        break;
    case K_SUBSCRIPT:
        if (ctx != ST_ANN_NOVALUE)
            check_sys_modules(c, n);
        chk_visit(c, n);
        break;
    default: /* reads of their parts */
        chk_visit(c, n);
    }
}

void chk_visit_assignment(checker_t *c, TSNode n)
{
    TSNode type = field(c, n, F_TYPE), value;
    bool literal = true;
    TSNode saved = c->export_value;

    if (!ts_node_is_null(type)) {
        TSNode left = field(c, n, F_LEFT), right = field(c, n, F_RIGHT);
        c->export_value = right;
        chk_visit_target(c, left, ts_node_is_null(right) ? ST_ANN_NOVALUE : ST_ANN_VALUE, false,
                         false);
        c->export_value = saved;
        chk_handle_annotation(c, type, n);
        if (!ts_node_is_null(right)) {
            TSNode ann = kind(c, type) == K_TYPE ? first_named(type) : type;
            if (!ts_node_is_null(ann) && chk_is_typing(c, ann, WK_TYPEALIAS))
                chk_handle_annotation(c, right, n);
            else
                chk_visit(c, right);
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
    chk_visit(c, value);
    c->export_value = value;
    for (n = top;; n = field(c, n, F_RIGHT)) {
        chk_visit_target(c, field(c, n, F_LEFT), ST_ASSIGN, false, literal);
        if (ts_node_eq(field(c, n, F_RIGHT), value))
            break;
    }
    c->export_value = saved;
}

void chk_visit_aug_assignment(checker_t *c, TSNode n)
{
    TSNode left = field(c, n, F_LEFT), right = field(c, n, F_RIGHT);
    TSNode saved = c->export_value;

    TSNode target = chk_unparen(c, left); /* `(o.a) += v` is fine */
    if (kind(c, target) == K_IDENTIFIER)
        chk_handle_load(c, target, name_id(c, target));
    else if (kind(c, target) != K_ATTRIBUTE && kind(c, target) != K_SUBSCRIPT)
        chk_syntax_error(c, left, "illegal expression for augmented assignment");
    chk_visit(c, right);
    c->export_value = right;
    chk_visit_target(c, left, ST_AUG, false, false);
    c->export_value = saved;
}
