/* checker.c - scope analysis and pyflakes' per-file checks (see checker.h):
 * the names known to the checker, the end of the module, and the entry.
 *
 * Names are interned per file; the builtins are interned first, so a name
 * id below N_BUILTINS is a builtin and needs no binding of its own.
 *
 * At the end of the module the deferred function bodies and annotations run
 * against the final module scope; then the scopes popped along the way are
 * checked for unused imports and assignments, and the summary is built.
 *
 * The checker is split by concern:
 *   checker_int.h      what the parts share: state, bindings, scopes, helpers
 *   checker_scope.c    scope tables, forks, bindings, loads and stores, deferral
 *   checker_walk.c     the walk: dispatch over node kinds, annotations
 *   checker_defs.c     imports, functions and classes
 *   checker_stmt.c     statements, match, assignments
 *   checker_expr.c     expressions
 *   checker_dict.c     repeated dictionary keys (F601, F602)
 *   checker_format.c   format strings (F50x, F52x)
 *   checker_summary.c  what the local summary records
 *   checker_sig.c      the summary's signatures, overloads and decorators
 *   checker_target.c   a stub's version and platform tests */
#include "worker/python/checker_int.h"
#include "worker/python/noqa.h"

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

bool checker_is_builtin(const char *name, size_t len)
{
    for (uint32_t i = 0; i < N_BUILTINS; i++)
        if (strlen(builtin_names[i]) == len && memcmp(builtin_names[i], name, len) == 0)
            return true;
    return false;
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
        c->not_taken = d.not_taken;
        c->versioned = d.versioned;
        c->taken = d.taken;
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
            chk_run_function(c, d.node, d.kind == D_LAMBDA);
            break;
        case D_STRING_ANN:
            chk_string_annotation(c, d.node, d.eline, d.ecol);
            break;
        case D_ANN_EXPR:
            chk_visit_in(c, d.node, ANN_BARE);
            break;
        case D_TYPE_COMMENT:
            chk_type_comment(c, d.node);
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
    chk_visit_module(&c, ts_tree_root_node(in->tree));
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
