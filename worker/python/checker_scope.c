/* checker_scope.c - the binding machinery: scope tables, bindings, and
 * how names are loaded, stored and deleted (pyflakes' addBinding,
 * handleNodeLoad, handleNodeStore, handleNodeDelete), with deferral of the
 * code that runs at the end of the module.
 *
 * Scopes are open-addressing tables keyed by interned name ids, allocated
 * from the scan's arena; the lookup itself is inline in checker_int.h.
 *
 * "Different forks" (pyflakes' rule that `try: import x / except: x = None`
 * is no redefinition) is answered from a small tree of if/try branches built
 * during the walk, not from parent pointers on every node. */
#include "worker/python/checker_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- small helpers ----------------------------------------------------- */

bool chk_grow(checker_t *c, void **items, size_t *cap, size_t need, size_t elem)
{
    size_t ncap = *cap ? *cap : 16;
    size_t old_bytes, new_bytes;
    void *p;

    if (need <= *cap)
        return true;
    while (ncap < need)
        ncap *= 2;
    if (!st_mul_size(*cap, elem, &old_bytes) || !st_mul_size(ncap, elem, &new_bytes)) {
        c->oom = true;
        return false;
    }
    if ((p = arena_realloc(c->a, *items, old_bytes, new_bytes)) == NULL) {
        c->oom = true;
        return false;
    }
    *items = p;
    *cap = ncap;
    return true;
}

uint32_t chk_intern_bytes(checker_t *c, const char *s, size_t len)
{
    uint32_t id;

    if (intern_get_or_add(c->names, s, len, &id) != ST_OK) {
        c->oom = true;
        return UINT32_MAX - 2;
    }
    return id;
}

const char *chk_name_str(const checker_t *c, uint32_t id)
{
    size_t len;
    const char *s = intern_str(c->names, id, &len);
    return s != NULL ? s : "?";
}

/* An E999 for what CPython rejects and tree-sitter accepted; the scan keeps
 * only the first one and drops every other diagnostic. */
void chk_syntax_error(checker_t *c, TSNode n, const char *msg)
{
    if (c->override)
        return; /* inside a string annotation: pyflakes' F722 covers it */
    REPORT(c, n, "E999", "SyntaxError: %s", msg);
}

/* pyflakes' Binding.redefines and its overrides. */
static bool redefines(const binding_t *value, const binding_t *other)
{
    if (other == NULL)
        return false;
    if (value->kind == B_ANNOTATION)
        return false;
    if (value->kind == B_SUBMODULE && is_importation(other))
        return value->full == other->full;
    if (is_importation(value) && other->kind == B_SUBMODULE)
        return value->full == other->full;
    return is_definition(other) && value->name == other->name;
}

/* ---- scope tables ------------------------------------------------------ */

static scope_t *scope_new(checker_t *c, sckind_t k)
{
    scope_t *s = arena_calloc(c->a, 1, sizeof *s);
    if (s == NULL) {
        c->oom = true;
        return NULL;
    }
    s->kind = (uint8_t)k;
    return s;
}

static bool scope_rehash(checker_t *c, scope_t *s, uint32_t cap)
{
    slot_t *old = s->slots;
    uint32_t ocap = s->cap;
    slot_t *slots = arena_alloc(c->a, (size_t)cap * sizeof(slot_t));

    if (slots == NULL) {
        c->oom = true;
        return false;
    }
    for (uint32_t i = 0; i < cap; i++)
        slots[i].name = SLOT_EMPTY;
    s->slots = slots;
    s->cap = cap;
    s->fill = s->live;
    for (uint32_t i = 0; i < ocap; i++) {
        if (old[i].name >= SLOT_TOMB)
            continue;
        uint32_t j = slot_hash(old[i].name, cap);
        while (slots[j].name != SLOT_EMPTY)
            j = (j + 1) & (cap - 1);
        slots[j] = old[i];
    }
    return true;
}

void chk_scope_set(checker_t *c, scope_t *s, uint32_t name, binding_t *b)
{
    uint32_t i, tomb = UINT32_MAX;

    if ((s->fill + 1) * 4 > s->cap * 3 &&
        !scope_rehash(c, s, s->cap == 0 ? 8 : (s->live * 2 >= s->cap ? s->cap * 2 : s->cap)))
        return;
    for (i = slot_hash(name, s->cap);; i = (i + 1) & (s->cap - 1)) {
        if (s->slots[i].name == name) {
            s->slots[i].b = b;
            return;
        }
        if (s->slots[i].name == SLOT_TOMB && tomb == UINT32_MAX)
            tomb = i;
        if (s->slots[i].name == SLOT_EMPTY)
            break;
    }
    if (tomb != UINT32_MAX)
        i = tomb;
    else
        s->fill++;
    s->slots[i].name = name;
    s->slots[i].b = b;
    s->live++;
}

binding_t *chk_scope_pop(scope_t *s, uint32_t name)
{
    if (s->cap == 0)
        return NULL;
    for (uint32_t i = slot_hash(name, s->cap);; i = (i + 1) & (s->cap - 1)) {
        if (s->slots[i].name == name) {
            binding_t *b = s->slots[i].b;
            s->slots[i].name = SLOT_TOMB;
            s->live--;
            return b;
        }
        if (s->slots[i].name == SLOT_EMPTY)
            return NULL;
    }
}

void chk_push_scope(checker_t *c, sckind_t k)
{
    scope_t *s = scope_new(c, k);
    size_t cap = c->stack_cap;

    if (s == NULL || !chk_grow(c, (void **)&c->stack, &cap, c->depth + 1, sizeof(scope_t *)))
        return;
    c->stack_cap = (uint32_t)cap;
    c->stack[c->depth++] = s;
}

void chk_pop_scope(checker_t *c)
{
    scope_t *s = c->stack[--c->depth];
    PUSH(c, c->dead, c->n_dead, c->cap_dead, s);
}

/* Lookup in a module scope falls back to the builtins. */
bool chk_module_has(const checker_t *c, const scope_t *s, uint32_t name)
{
    if (scope_get(s, name) != NULL)
        return true;
    return s->kind == SC_MODULE && name < N_BUILTINS && !c->builtin_deleted[name];
}

bool chk_scope_has(const checker_t *c, const scope_t *s, uint32_t name)
{
    return s->kind == SC_MODULE ? chk_module_has(c, s, name) : scope_get(s, name) != NULL;
}

/* ---- forks ----------------------------------------------------------- */

uint32_t chk_fnode_new(checker_t *c, uint32_t parent, bool is_fork)
{
    fnode_t f = {parent, c->n_fnodes ? c->fnodes[parent].depth + 1 : 0, is_fork};
    size_t cap = c->cap_fnodes;
    uint32_t id = c->n_fnodes;

    if (!chk_grow(c, (void **)&c->fnodes, &cap, (size_t)c->n_fnodes + 1, sizeof(fnode_t)))
        return parent;
    c->cap_fnodes = (uint32_t)cap;
    c->fnodes[c->n_fnodes++] = f;
    return id;
}

/* True when a and b sit in different branches of one if or try. */
static bool different_forks(const checker_t *c, uint32_t a, uint32_t b)
{
    if (a == b)
        return false;
    while (c->fnodes[a].depth > c->fnodes[b].depth)
        a = c->fnodes[a].parent;
    while (c->fnodes[b].depth > c->fnodes[a].depth)
        b = c->fnodes[b].parent;
    if (a == b)
        return false;
    while (c->fnodes[a].parent != c->fnodes[b].parent) {
        a = c->fnodes[a].parent;
        b = c->fnodes[b].parent;
    }
    return c->fnodes[c->fnodes[a].parent].is_fork;
}

/* ---- child loops --------------------------------------------------------
 * tree-sitter finds the i-th child by walking from the first, so loops use
 * cursors; one per nesting level of open loops, created once per run. */

TSTreeCursor *chk_kid_first(checker_t *c, TSNode n)
{
    TSTreeCursor *cu;
    checker_cursors_t *p = c->curs;
    uint32_t i = c->n_curs_used;

    if (i == p->made) {
        if (i / CURSOR_BLOCK >= CURSOR_BLOCKS) {
            c->too_deep = true;
            return NULL;
        }
        if (i % CURSOR_BLOCK == 0 &&
            (p->blocks[i / CURSOR_BLOCK] = malloc(CURSOR_BLOCK * sizeof(TSTreeCursor))) == NULL) {
            c->oom = true;
            return NULL;
        }
        p->blocks[i / CURSOR_BLOCK][i % CURSOR_BLOCK] = ts_tree_cursor_new(n);
        p->made++;
    }
    cu = &p->blocks[i / CURSOR_BLOCK][i % CURSOR_BLOCK];
    c->n_curs_used++;
    ts_tree_cursor_reset(cu, n);
    if (!ts_tree_cursor_goto_first_child(cu)) {
        c->n_curs_used--;
        return NULL;
    }
    return cu;
}

TSTreeCursor *chk_kid_next(checker_t *c, TSTreeCursor *cu)
{
    if (ts_tree_cursor_goto_next_sibling(cu))
        return cu;
    c->n_curs_used--;
    return NULL;
}

/* ---- bindings ---------------------------------------------------------- */

binding_t *chk_binding_new(checker_t *c, uint32_t name, bkind_t k, TSNode src)
{
    binding_t *b = arena_calloc(c->a, 1, sizeof *b);

    if (b == NULL) {
        c->oom = true;
        return NULL;
    }
    b->name = name;
    b->kind = (uint8_t)k;
    node_pos(c, src, &b->line, &b->col);
    b->fnode = c->cur_fnode;
    b->import_index = -1;
    return b;
}

/* Finds the innermost scope holding name; for a builtin, *b is NULL and
 * *is_builtin true. */
static scope_t *find_scope(const checker_t *c, uint32_t name, binding_t **b, bool *is_builtin)
{
    *b = NULL;
    *is_builtin = false;
    for (uint32_t i = c->depth; i-- > 0;) {
        scope_t *s = c->stack[i];
        if ((*b = scope_get(s, name)) != NULL)
            return s;
        if (s->kind == SC_MODULE && name < N_BUILTINS && !c->builtin_deleted[name]) {
            *is_builtin = true;
            return s;
        }
    }
    return c->stack[0];
}

static void report_redefinition(checker_t *c, uint32_t line, uint32_t col, const binding_t *v,
                                const binding_t *existing, scope_t *scope)
{
    if (is_importation(existing) && v->parent_is_for) {
        if (diag_add(c->diags, line, col + 1, "F402",
                     "import '%s' from line %u shadowed by loop variable", chk_name_str(c, v->name),
                     existing->line) == NULL)
            c->oom = true;
    } else if (scope == cur(c)) {
        if (existing->used == NULL && redefines(v, existing) &&
            (v->name != WK_UNDERSCORE || is_importation(existing)) && !existing->overload) {
            if (diag_add(c->diags, line, col + 1, "F811",
                         "redefinition of unused '%s' from line %u", chk_name_str(c, v->name),
                         existing->line) == NULL)
                c->oom = true;
        }
    } else if (is_importation(existing) && redefines(v, existing)) {
        redef_t *r = arena_alloc(c->a, sizeof *r);
        if (r == NULL) {
            c->oom = true;
            return;
        }
        r->line = line;
        r->col = col;
        r->is_for = v->parent_is_for;
        r->next = ((binding_t *)existing)->redefined;
        ((binding_t *)existing)->redefined = r;
    }
}

/* pyflakes' addBinding: report redefinitions, carry "used" over from the
 * binding replaced, and store. (line, col) is where a redefinition is
 * reported. */
void chk_add_binding(checker_t *c, uint32_t line, uint32_t col, binding_t *v)
{
    binding_t *existing;
    bool is_builtin;
    scope_t *scope, *here = cur(c);

    if (v == NULL)
        return;
    scope = find_scope(c, v->name, &existing, &is_builtin);
    if (existing != NULL && !different_forks(c, v->fnode, existing->fnode))
        report_redefinition(c, line, col, v, existing, scope);
    bool bound_here = true; /* the name is in this scope already (a builtin counts) */
    binding_t *in_here = scope_get(here, v->name);
    if ((existing = in_here) != NULL) {
        v->used = existing->used;
        v->used_line = existing->used_line;
        v->used_col = existing->used_col;
    } else if (here->kind == SC_MODULE && v->name < N_BUILTINS && !c->builtin_deleted[v->name]) {
        v->used = c->builtin_use[v->name].by;
        v->used_line = c->builtin_use[v->name].line;
        v->used_col = c->builtin_use[v->name].col;
    } else {
        bound_here = false;
    }
    if (bound_here && v->kind == B_ANNOTATION && in_here == NULL && c->in->is_stub &&
        c->sum != NULL && here->kind == SC_MODULE && c->not_taken == 0) {
        /* `copyright: str` in a stub declares a module attribute even where
         * a builtin has the name (pyflakes keeps no binding for it) */
        PUSH(c, c->gextra, c->n_gextra, c->cap_gextra, v->name);
        PUSH(c, c->gextra_line, c->n_gextra_line, c->cap_gextra_line, v->line);
    }
    if (!bound_here || v->kind != B_ANNOTATION) {
        uint32_t i = c->depth - 1;
        while (v->kind == B_NAMEDEXPR && i > 0 && c->stack[i]->kind == SC_GENERATOR)
            i--;
        if (c->sum != NULL)
            chk_summary_binding(c, c->stack[i],
                                c->stack[i] == here ? in_here : scope_get(c->stack[i], v->name), v);
        chk_scope_set(c, c->stack[i], v->name, v);
    }
}

/* ---- loads, stores, deletes ------------------------------------------- */

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Marks the star imports of scopes used, and writes their modules, sorted
 * and comma-separated as pyflakes lists them, into from. */
void chk_star_sources(checker_t *c, scope_t *const *scopes, uint32_t n_scopes, const scope_t *user,
                      char *from, size_t cap)
{
    const char *mods[64];
    size_t n = 0, len = 0;

    for (uint32_t i = 0; i < n_scopes; i++) {
        scope_t *s = scopes[i];
        for (uint32_t k = 0; k < s->cap; k++) {
            binding_t *b = s->slots[k].name < SLOT_TOMB ? s->slots[k].b : NULL;
            if (b == NULL || b->kind != B_STAR)
                continue;
            b->used = user;
            if (n < sizeof mods / sizeof mods[0])
                mods[n++] = chk_name_str(c, b->full);
        }
    }
    qsort(mods, n, sizeof mods[0], cmp_cstr);
    from[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        int w = snprintf(from + len, cap - len, "%s%s", len ? ", " : "", mods[i]);
        if (w > 0 && (size_t)w < cap - len)
            len += (size_t)w;
    }
}

/* pyflakes' Importation._has_alias: the bound name is not the last part of
 * the full name. */
static bool has_alias(const checker_t *c, const binding_t *b)
{
    size_t len;
    const char *full, *last;

    if (!is_importation(b) || b->kind == B_STAR)
        return false;
    if (b->kind == B_FROM || b->kind == B_FUTURE)
        return b->real != b->name;
    full = intern_str(c->names, b->full, &len);
    if (full == NULL)
        return false;
    last = strrchr(full, '.');
    last = last ? last + 1 : full;
    return strcmp(last, chk_name_str(c, b->name)) != 0;
}

/* F821, remembering the name: a later `global` withdraws it. */
static void report_undefined(checker_t *c, uint32_t line, uint32_t col, uint32_t name)
{
    diag_t *d =
        diag_add(c->diags, line, col + 1, "F821", "undefined name '%s'", chk_name_str(c, name));
    if (d == NULL)
        c->oom = true;
    else
        d->name = name;
}

/* pyflakes' handleNodeLoad. Returns the binding the name resolved to. */
binding_t *chk_handle_load(checker_t *c, TSNode n, uint32_t name)
{
    int in_gen = 2; /* 2: not yet known, 1: only generator scopes so far, 0: no */
    bool starred = false;
    uint32_t line, col;

    node_pos(c, n, &line, &col);
    for (uint32_t i = c->depth; i-- > 0;) {
        scope_t *s = c->stack[i];
        binding_t *b;
        if (s->kind == SC_CLASS) {
            if (name == WK_CLASS_)
                return NULL;
            if (in_gen == 0)
                continue;
        }
        b = scope_get(s, name);
        if (b != NULL && b->kind == B_ANNOTATION && c->ann != ANN_STRING && !c->annotations_future)
            continue;
        if (b != NULL) {
            mark_used(c, b, line, col);
            if (has_alias(c, b)) {
                /* `import a as x` also counts as a use of `import a.b` */
                binding_t *sub = scope_get(s, b->full);
                if (sub != NULL)
                    mark_used(c, sub, line, col);
            }
            return b;
        }
        if (s->kind == SC_MODULE && name < N_BUILTINS && !c->builtin_deleted[name]) {
            c->builtin_use[name] = (builtin_use_t){cur(c), line, col};
            return NULL;
        }
        starred = starred || s->import_starred;
        if (in_gen != 0)
            in_gen = s->kind == SC_GENERATOR;
    }
    if (starred) {
        char from[1024];
        chk_star_sources(c, c->stack, c->depth, cur(c), from, sizeof from);
        if (diag_add(c->diags, line, col + 1, "F405",
                     "'%s' may be undefined, or defined from star imports: %s",
                     chk_name_str(c, name), from) == NULL)
            c->oom = true;
        chk_summary_star(c, name, line, col + 1, false);
        return NULL;
    }
    if (name == WK_PATH && c->in->is_init)
        return NULL;
    if ((name == WK_MODULE_ || name == WK_QUALNAME) && cur(c)->kind == SC_CLASS)
        return NULL;
    if (c->n_except > 0 && c->except_stack[c->n_except - 1])
        return NULL;
    report_undefined(c, line, col, name);
    return NULL;
}

bool chk_is_always_used(uint32_t name)
{
    return name == WK_TB_HIDE || name == WK_TB_INFO || name == WK_TB_SUPP;
}

/* pyflakes' UndefinedLocal (F823): a name read from an enclosing scope in
 * this function, then bound here. */
static void check_undefined_local(checker_t *c, uint32_t name)
{
    scope_t *here = cur(c);

    if (here->kind != SC_FUNCTION || chk_scope_has(c, here, name))
        return;
    for (uint32_t i = 0; i + 1 < c->depth; i++) {
        scope_t *s = c->stack[i];
        binding_t *b;
        if (s->kind != SC_FUNCTION && s->kind != SC_MODULE)
            continue;
        b = scope_get(s, name);
        if (b == NULL && s->kind == SC_MODULE && name < N_BUILTINS && !c->builtin_deleted[name]) {
            const builtin_use_t *u = &c->builtin_use[name];
            if (u->by == here && !chk_is_always_used(name)) {
                if (diag_add(c->diags, u->line, u->col + 1, "F823",
                             "local variable '%s' defined as a builtin referenced before "
                             "assignment",
                             chk_name_str(c, name)) == NULL)
                    c->oom = true;
                return;
            }
            continue;
        }
        if (b != NULL && b->used == here && !chk_is_always_used(name)) {
            if (diag_add(c->diags, b->used_line, b->used_col + 1, "F823",
                         "local variable '%s' defined in enclosing scope on line %u referenced "
                         "before assignment",
                         chk_name_str(c, name), b->line) == NULL)
                c->oom = true;
            return;
        }
    }
}

/* The names of __all__ bound by b: those of old too when augmented. */
static void set_exports(checker_t *c, binding_t *b, store_ctx_t ctx, const binding_t *old,
                        TSNode value)
{
    if (ctx == ST_AUG && old != NULL && old->kind == B_EXPORT) {
        b->exports = old->exports;
        b->n_exports = old->n_exports;
        b->exports_dynamic = old->exports_dynamic;
    } else if (ctx == ST_AUG) {
        b->exports_dynamic = true;
    }
    if (!ts_node_is_null(value))
        chk_collect_exports(c, value, b);
}

/* pyflakes' handleNodeStore, for an identifier n bound in context ctx;
 * nested: inside a tuple/list target; literal: the assignment unpacks a
 * literal tuple into a tuple. */
binding_t *chk_handle_store(checker_t *c, TSNode n, uint32_t name, store_ctx_t ctx, bool nested,
                            bool literal, TSNode value)
{
    bkind_t k;
    binding_t *b;
    uint32_t line, col;

    check_undefined_local(c, name);
    if (ctx == ST_ANN_NOVALUE)
        k = B_ANNOTATION;
    else if (ctx == ST_FOR || ctx == ST_COMP || (nested && !literal))
        k = B_BINDING;
    else if (name == WK_ALL && cur(c)->kind == SC_MODULE &&
             (ctx == ST_ASSIGN || ctx == ST_AUG || ctx == ST_ANN_VALUE) && !nested)
        k = B_EXPORT;
    else if (ctx == ST_NAMED)
        k = B_NAMEDEXPR;
    else
        k = B_ASSIGNMENT;
    b = chk_binding_new(c, name, k, n);
    if (b == NULL)
        return NULL;
    b->parent_is_for = ctx == ST_FOR;
    b->rebound = ctx == ST_FOR; /* a loop binds its target again and again */
    if (k == B_EXPORT) {
        binding_t *old = scope_get(cur(c), WK_ALL), *view = chk_summary_all(old);
        set_exports(c, b, ctx, old, value);
        if (view != old && c->not_taken == 0 && c->sum != NULL) {
            /* a stub's branch not taken changed __all__: the summary's own list */
            if ((b->sum_all = chk_binding_new(c, name, k, n)) != NULL)
                set_exports(c, b->sum_all, ctx, view, value);
        }
    }
    if (k == B_ASSIGNMENT && ctx == ST_ASSIGN && !nested && c->sum != NULL && c->not_taken == 0 &&
        cur(c)->kind == SC_MODULE && !ts_node_is_null(value) && kind(c, value) == K_IDENTIFIER) {
        /* `path = _path` (os.pyi): path is what the import _path binds */
        binding_t *vb = scope_get(cur(c), name_id(c, value));
        size_t len;
        const char *s = chk_name_str(c, name);
        if (vb != NULL && is_importation(vb) && vb->kind != B_SUBMODULE && vb->import_index >= 0 &&
            s != NULL && (len = strlen(s)) > 0 &&
            summary_alias_import(c->sum, vb->import_index, s, len) >= 0)
            b->alias_import = true;
    }
    node_pos(c, n, &line, &col);
    chk_add_binding(c, line, col, b);
    return b;
}

void chk_handle_delete(checker_t *c, TSNode n, uint32_t name)
{
    scope_t *here = cur(c);

    if (c->cond > 0)
        return;
    if (here->kind == SC_FUNCTION && chk_is_always_used(name))
        return;
    if (chk_scope_pop(here, name) != NULL)
        return;
    if (here->kind == SC_MODULE && name < N_BUILTINS && !c->builtin_deleted[name]) {
        c->builtin_deleted[name] = true;
        return;
    }
    uint32_t line, col;
    node_pos(c, n, &line, &col);
    report_undefined(c, line, col, name);
}

/* ---- deferral ---------------------------------------------------------- */

void chk_defer(checker_t *c, dkind_t k, TSNode n)
{
    defer_t d;
    size_t bytes = (size_t)c->depth * sizeof(scope_t *);

    memset(&d, 0, sizeof d);
    d.kind = (uint8_t)k;
    d.node = n;
    d.depth = c->depth;
    d.fnode = c->cur_fnode;
    d.cond = c->cond;
    d.not_taken = c->not_taken;
    d.versioned = c->versioned;
    d.taken = c->taken;
    d.src = c->src;
    d.override = c->override;
    d.oline = c->oline;
    d.ocol = c->ocol;
    node_pos(c, n, &d.eline, &d.ecol);
    if ((d.stack = arena_alloc(c->a, bytes)) == NULL) {
        c->oom = true;
        return;
    }
    memcpy(d.stack, c->stack, bytes);
    PUSH(c, c->deferred, c->n_deferred, c->cap_deferred, d);
}

/* A deferred string annotation whose syntax error pyflakes reports at the
 * annotated statement or definition (report), not at the string. */
void chk_defer_annotation(checker_t *c, TSNode s, TSNode report)
{
    size_t before = c->n_deferred;

    chk_defer(c, D_STRING_ANN, s);
    if (c->n_deferred > before && !ts_node_is_null(report))
        node_pos(c, report, &c->deferred[before].eline, &c->deferred[before].ecol);
}
