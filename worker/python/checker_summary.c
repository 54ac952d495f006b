/* checker_summary.c - what the checker records for the local summary.
 *
 * While it walks, the checker notes what summary.h keeps of a file: imports
 * and their flags, uses of imported names with the attributes read from
 * them and the calls made, definitions with their signatures, classes with
 * their bases and members, and __all__. The walk calls in here; nothing
 * here reports a diagnostic. */
#include "worker/python/checker_int.h"

#include <string.h>

/* What the summary keeps of a binding about to replace old in target:
 * whether a module-level name was bound before (rebound), whether a def
 * continues a run of overloads, whether a function or class binds a name
 * it declared `global` (a module attribute too), and whether the binding
 * sits in a stub's branch the target does not take (dead: the summary
 * keeps the live binding it replaced instead, and nothing else changes). */
void chk_summary_binding(checker_t *c, scope_t *target, binding_t *old, binding_t *v)
{
    binding_t *prev = old != NULL && old->dead ? old->live_prev : old;

    if (c->not_taken > 0) {
        v->dead = true;
        v->live_prev = prev;
        return;
    }
    if (target->kind == SC_MODULE || target->kind == SC_CLASS) {
        bool continues =
            v->kind == B_FUNCTION && prev != NULL && prev->kind == B_FUNCTION && prev->overload;
        if (continues)
            v->ovl_prev = prev;
        if (target->kind == SC_MODULE) {
            if (continues)
                v->rebound = v->rebound || prev->rebound;
            else if (prev != NULL && (prev->kind != B_ANNOTATION || prev->rebound))
                v->rebound = true;
            return;
        }
    }
    if (old == NULL || !old->is_global)
        return;
    v->is_global = true;
    binding_t *mb = scope_get(c->stack[0], v->name);
    if (mb != NULL) {
        mb->global_bound = true;
    } else { /* a builtin's name: `global` left the module scope alone */
        PUSH(c, c->gextra, c->n_gextra, c->cap_gextra, v->name);
        PUSH(c, c->gextra_line, c->n_gextra_line, c->cap_gextra_line, v->line);
    }
}

/* The binding the summary keeps for a scope's slot: a binding in a dead
 * branch gives way to the live one it replaced. */
static binding_t *live(binding_t *b)
{
    return b != NULL && b->dead ? b->live_prev : b;
}

/* The __all__ binding b as the summary sees it: without what a stub's
 * branches not taken added. */
binding_t *chk_summary_all(binding_t *b)
{
    b = live(b);
    return b != NULL && b->sum_all != NULL ? b->sum_all : b;
}

/* An F405 at (line, col), the diagnostic's position, for the summary. */
void chk_summary_star(checker_t *c, uint32_t name, uint32_t line, uint32_t col, bool in_all)
{
    size_t len;
    const char *s;

    if (c->sum == NULL || (s = intern_str(c->names, name, &len)) == NULL)
        return;
    if (!in_all && cur(c)->kind == SC_FUNCTION) { /* settled at the end: bound later? */
        PUSH(c, c->star_scope, c->n_star_scope, c->cap_star_scope, cur(c));
        PUSH(c, c->star_name, c->n_star_name, c->cap_star_name, name);
        PUSH(c, c->star_index, c->n_star_index, c->cap_star_index, summary_n_stars(c->sum));
    }
    summary_add_star(c->sum, s, len, line, col, in_all);
}

static int import_flags(const checker_t *c)
{
    int flags = 0;
    if (cur(c)->kind != SC_MODULE || c->depth > 1)
        flags |= SUM_NESTED;
    if (c->cond > c->taken || c->n_except > 0) /* a stub's decided branch is sure */
        flags |= SUM_CONDITIONAL;
    if (c->try_import > 0)
        flags |= SUM_GUARDED;
    if (c->type_checking > 0)
        flags |= SUM_TYPE_CHECKING;
    if (c->in_handler > 0)
        flags |= SUM_HANDLER;
    if (c->versioned > 0)
        flags |= SUM_VERSIONED;
    return flags;
}

void chk_summary_import(checker_t *c, binding_t *b, int kind_, int level, uint32_t module,
                        uint32_t name, uint32_t asname, TSNode stmt)
{
    size_t ml, nl = 0, al = 0;
    const char *ms, *ns = "", *as = "";
    TSPoint p = ts_node_start_point(stmt);

    if (c->sum == NULL || c->override || c->not_taken > 0)
        return;
    ms = intern_str(c->names, module, &ml);
    while (ml > 0 && *ms == '.') {
        ms++;
        ml--;
    }
    if (name != UINT32_MAX)
        ns = intern_str(c->names, name, &nl);
    if (asname != UINT32_MAX)
        as = intern_str(c->names, asname, &al);
    b->import_index = summary_add_import(c->sum, kind_, level, ms, ml, ns, nl, as, al, p.row + 1,
                                         p.column, import_flags(c));
}

/* The identifier an attribute chain starts from (`a` in `a.b.c`), or n. */
static TSNode chain_base(checker_t *c, TSNode n)
{
    for (int depth = 0; kind(c, n) == K_ATTRIBUTE && depth < 64; depth++)
        n = first_child(n);
    return n;
}

/* Whether the call of globals() whose arguments are args only reads the
 * namespace: `name in globals()`, `globals().get(k)`, `.keys()`,
 * `.items()`, `.values()`, `.copy()` (os.py's `name in globals()`). */
static bool globals_read_only(checker_t *c, TSNode args)
{
    TSNode call = ts_node_parent(args), p = ts_node_parent(call);
    uint32_t len;
    const char *t;

    if (ts_node_is_null(p))
        return false;
    if (kind(c, p) == K_COMPARISON) {
        for (uint32_t i = 0; i + 1 < ts_node_child_count(p); i++) {
            TSNode op = ts_node_child(p, i), next = ts_node_child(p, i + 1);
            if (ts_node_is_named(op) || !ts_node_eq(next, call))
                continue;
            t = text(c, op, &len);
            return (len == 2 && memcmp(t, "in", 2) == 0) ||
                   (len >= 6 && memcmp(t, "not", 3) == 0 && memcmp(t + len - 2, "in", 2) == 0);
        }
        return false;
    }
    if (kind(c, p) != K_ATTRIBUTE || !ts_node_eq(first_child(p), call) ||
        kind(c, ts_node_parent(p)) != K_CALL)
        return false;
    t = text(c, last_child(p), &len);
    return (len == 3 && memcmp(t, "get", 3) == 0) || (len == 4 && memcmp(t, "keys", 4) == 0) ||
           (len == 5 && memcmp(t, "items", 5) == 0) || (len == 6 && memcmp(t, "values", 6) == 0) ||
           (len == 4 && memcmp(t, "copy", 4) == 0);
}

/* Calls of builtins the summary cares about: globals(), vars() and exec()
 * that write the module's namespace (dynamic), hasattr(m, a) and
 * getattr(m, a, default) in a test: returns m's name, which guards the uses
 * after the call, or UINT32_MAX. */
uint32_t chk_summary_builtin_call(checker_t *c, uint32_t id, TSNode args)
{
    TSNode first = {0};
    uint32_t npos = 0;
    bool module = cur(c)->kind == SC_MODULE;

    if (id != c->id_globals && id != c->id_vars && id != c->id_exec && id != c->id_hasattr &&
        id != c->id_getattr)
        return UINT32_MAX;
    if (c->builtin_deleted[id] || chk_lookup_quiet(c, id) != NULL)
        return UINT32_MAX; /* shadowed */
    if (kind(c, args) == K_ARGUMENT_LIST) {
        FOR_KIDS(c, args, cu)
        {
            TSNode a = KID(cu);
            lang_kind_t k = kind(c, a);
            if (!ts_node_is_named(a) || ts_node_is_extra(a))
                continue;
            if (k != K_KEYWORD_ARGUMENT && k != K_DICT_SPLAT && npos++ == 0)
                first = a;
            if (k == K_KEYWORD_ARGUMENT || k == K_DICT_SPLAT || k == K_LIST_SPLAT)
                npos += 1000; /* not a plain call: never "no argument" */
        }
    } else {
        npos = 1; /* f(x for x in y) */
    }
    if ((id == c->id_globals && !globals_read_only(c, args)) || (module && id == c->id_exec) ||
        (module && id == c->id_vars && npos == 0)) {
        summary_set_dynamic(c->sum);
    } else if (c->in_test > 0 && !ts_node_is_null(first) &&
               kind(c, first = chain_base(c, first)) == K_IDENTIFIER && npos < 1000 &&
               npos >= (id == c->id_hasattr   ? 2u
                        : id == c->id_getattr ? 3u
                                              : ~0u)) {
        return name_id(c, first);
    }
    return UINT32_MAX;
}

/* ---- uses of imported names, for the summary ------------------------------ */

/* Records a load of an imported name and the attributes read from it
 * (attrs[n-1] first: they were collected from the outside in). */
void chk_record_use(checker_t *c, const binding_t *b, TSNode base, const TSNode *attrs, uint32_t n,
                    bool store)
{
    const char *chain[MAX_CHAIN];
    uint32_t lens[MAX_CHAIN], line, col;
    int flags = store && n > 0 ? SUM_USE_STORE : 0;

    c->last_use = -1;
    if (b == NULL || c->sum == NULL || !is_importation(b) || b->import_index < 0 ||
        c->not_taken > 0)
        return;
    for (uint32_t i = 0; i < n; i++)
        chain[i] = text(c, attrs[n - 1 - i], &lens[i]);
    node_pos(c, base, &line, &col);
    if (c->try_guard > 0)
        flags |= SUM_USE_GUARDED;
    if (c->versioned > 0)
        flags |= SUM_USE_VERSIONED;
    for (size_t i = 0; i < c->n_guards && !(flags & SUM_USE_GUARDED); i++)
        if (c->guards[i] == b->name)
            flags |= SUM_USE_GUARDED;
    c->last_use = summary_add_use(c->sum, b->import_index, chain, lens, n, line, col, flags);
}

/* The shape of a call whose callee is an imported name, for arity checks. */
void chk_record_call(checker_t *c, TSNode args)
{
    const char *kw[64];
    uint32_t kwl[64], nkw = 0, npos = 0;
    bool star = false, dstar = false;

    if (kind(c, args) != K_ARGUMENT_LIST) { /* f(x for x in y) */
        summary_add_call(c->sum, c->last_use, 1, NULL, NULL, 0, false, false);
        return;
    }
    FOR_KIDS(c, args, cu)
    {
        TSNode a = KID(cu);
        lang_kind_t k = kind(c, a);
        if (!ts_node_is_named(a) || k == K_COMMENT)
            continue;
        if (k == K_KEYWORD_ARGUMENT) {
            if (nkw < 64)
                kw[nkw] = text(c, first_child(a), &kwl[nkw]), nkw++;
        } else if (k == K_LIST_SPLAT) {
            star = true;
        } else if (k == K_DICT_SPLAT) {
            dstar = true;
        } else {
            npos++;
        }
    }
    summary_add_call(c->sum, c->last_use, npos, kw, kwl, nkw, star, dstar);
}

/* ---- the local summary -------------------------------------------------------- */

/* Whether the text t[0..len) ends in the name want, as a dotted name's
 * last component or whole. */
static bool last_is(const char *t, size_t len, const char *want)
{
    size_t wl = strlen(want);
    return len >= wl && memcmp(t + len - wl, want, wl) == 0 &&
           (len == wl || t[len - wl - 1] == '.');
}

bool checker_stub_typing_base(const char *t, size_t len)
{
    return last_is(t, len, "Generic") || last_is(t, len, "Protocol");
}

bool checker_plain_class_decorator(const char *t, size_t len, bool called, bool stub)
{
    if (called)
        return last_is(t, len, "implementer");
    return last_is(t, len, "total_ordering") ||
           (stub && (last_is(t, len, "final") || last_is(t, len, "runtime_checkable") ||
                     last_is(t, len, "type_check_only")));
}

/* A class decorator that leaves its members alone. */
static bool plain_class_decorator(const checker_t *c, TSNode d)
{
    TSNode e = first_named(d);
    bool called = !ts_node_is_null(e) && kind(c, e) == K_CALL;
    uint32_t len;
    const char *t;

    if (called)
        e = field(c, e, F_FUNCTION);
    if (ts_node_is_null(e) || (kind(c, e) != K_IDENTIFIER && kind(c, e) != K_ATTRIBUTE))
        return false;
    t = text(c, e, &len);
    return checker_plain_class_decorator(t, len, called, c->in->is_stub);
}

/* In a stub, a base that gives instances nothing, subscripted or not. */
static bool stub_typing_base(const checker_t *c, TSNode e)
{
    uint32_t len;
    const char *t;

    if (kind(c, e) == K_SUBSCRIPT)
        e = field(c, e, F_VALUE);
    if (ts_node_is_null(e) || (kind(c, e) != K_IDENTIFIER && kind(c, e) != K_ATTRIBUTE))
        return false;
    t = text(c, e, &len);
    return checker_stub_typing_base(t, len);
}

static void summary_class(checker_t *c, const binding_t *b)
{
    size_t len;
    const char *name = intern_str(c->names, b->name, &len);
    TSNode bases = field(c, b->def, F_SUPERCLASSES);
    int flags = 0;

    if (!ts_node_is_null(b->decorated)) {
        FOR_KIDS(c, b->decorated, cu)
        {
            TSNode d = KID(cu);
            if (kind(c, d) != K_DECORATOR)
                continue;
            if (chk_is_global_enum(c, first_named(d)))
                flags |= SUM_CLASS_GLOBAL_ENUM;
            if (!plain_class_decorator(c, d))
                flags |= SUM_CLASS_DECORATED;
        }
    }

    if (!ts_node_is_null(bases)) {
        FOR_KIDS(c, bases, cu)
        {
            lang_kind_t k = kind(c, KID(cu));
            if (k == K_KEYWORD_ARGUMENT || k == K_DICT_SPLAT)
                flags |= SUM_CLASS_KEYWORDS;
        }
    }
    int32_t cls = summary_add_class(c->sum, name, len, b->line, flags);
    if (cls < 0)
        return;
    if (!ts_node_is_null(bases)) {
        FOR_KIDS(c, bases, cu)
        {
            TSNode e = KID(cu);
            lang_kind_t k = kind(c, e);
            uint32_t tl;
            /* a stub's `Mapping[K, V]` is Mapping; its Generic[T] nothing */
            if (c->in->is_stub && k == K_SUBSCRIPT && !stub_typing_base(c, e)) {
                e = field(c, e, F_VALUE);
                k = ts_node_is_null(e) ? K_OTHER : kind(c, e);
            }
            if ((k != K_IDENTIFIER && k != K_ATTRIBUTE) ||
                (c->in->is_stub && stub_typing_base(c, e)))
                continue;
            const char *t = text(c, e, &tl);
            summary_class_add_base(c->sum, cls, t, tl);
        }
    }
    for (uint32_t k = 0; b->body != NULL && k < b->body->cap; k++) {
        binding_t *m = b->body->slots[k].name < SLOT_TOMB ? b->body->slots[k].b : NULL;
        chk_defsig_t ds = {.sig = -1};
        int mk = SUM_DEF_VARIABLE;
        if (m == NULL || b->body->slots[k].name != m->name || (m = live(m)) == NULL)
            continue;
        if (m->kind == B_FUNCTION) {
            mk = SUM_DEF_FUNCTION;
            chk_def_sig(c, m, true, &ds);
        } else if (m->kind == B_CLASS) {
            mk = SUM_DEF_CLASS;
        } else if (is_importation(m)) {
            mk = SUM_DEF_IMPORT;
        }
        const char *mn = intern_str(c->names, m->name, &len);
        summary_class_add_member(c->sum, cls, mn, len, mk, ds.sig);
        if (ds.ovl != NULL)
            summary_class_set_overloads(c->sum, cls, ds.ovl, ds.n_ovl);
    }
}

void chk_build_summary(checker_t *c, scope_t *module)
{
    binding_t *all;

    if (c->sum == NULL)
        return;
    c->stack[0] = module; /* decorators are looked up in the final module scope */
    c->depth = 1;
    /* an F405 in a function of a name the function binds (later, in a
     * loop): defined, whatever the star imports bind */
    for (size_t i = 0; i < c->n_star_scope && i < c->n_star_name && i < c->n_star_index; i++)
        if (scope_get(c->star_scope[i], c->star_name[i]) != NULL)
            summary_star_set_local(c->sum, c->star_index[i]);
    for (uint32_t k = 0; k < module->cap; k++) {
        binding_t *b = module->slots[k].name < SLOT_TOMB ? module->slots[k].b : NULL;
        int kind_ = SUM_DEF_VARIABLE;
        chk_defsig_t ds = {.sig = -1};
        size_t len;
        if (b != NULL && module->slots[k].name == b->name && live(b) == NULL && b->dead &&
            b->kind != B_STAR && b->kind != B_FUTURE) {
            const char *dn = intern_str(c->names, b->name, &len);
            summary_add_dead(c->sum, dn, len); /* another version's or platform's name */
            continue;
        }
        if (b == NULL || module->slots[k].name != b->name || (b = live(b)) == NULL ||
            b->kind == B_STAR || b->kind == B_FUTURE)
            continue;
        /* a `global` declaration binds nothing unless a function binds the
         * name; a module binding also bound by a function is bound twice */
        if (b->is_global && !b->global_bound)
            continue;
        int flags = b->rebound || (b->global_bound && !b->is_global) ? SUM_DEF_REBOUND : 0;
        if (b->kind == B_FUNCTION) {
            kind_ = SUM_DEF_FUNCTION;
            chk_def_sig(c, b, false, &ds);
            if (ds.rebound)
                flags |= SUM_DEF_REBOUND;
            if (b->name == WK_GETATTR_)
                summary_set_getattr(c->sum);
        } else if (b->kind == B_CLASS) {
            kind_ = SUM_DEF_CLASS;
            summary_class(c, b);
        } else if (is_importation(b) || b->alias_import) {
            kind_ = SUM_DEF_IMPORT;
        }
        const char *name = intern_str(c->names, b->name, &len);
        int32_t d = summary_add_def(c->sum, name, len, kind_, b->line, ds.sig, flags);
        if (ds.ovl != NULL && !(flags & SUM_DEF_REBOUND)) /* bound otherwise too: unsure */
            summary_set_overloads(c->sum, d, ds.ovl, ds.n_ovl);
    }
    /* builtins' names bound via `global`: module attributes as well */
    for (size_t i = 0; i < c->n_gextra && i < c->n_gextra_line; i++) {
        bool seen = scope_get(module, c->gextra[i]) != NULL;
        size_t len;
        for (size_t j = 0; j < i && !seen; j++)
            seen = c->gextra[j] == c->gextra[i];
        if (seen)
            continue;
        const char *name = intern_str(c->names, c->gextra[i], &len);
        summary_add_def(c->sum, name, len, SUM_DEF_VARIABLE, c->gextra_line[i], -1, 0);
    }
    all = chk_summary_all(scope_get(module, WK_ALL));
    if (all != NULL && all->kind == B_EXPORT && !all->exports_dynamic) {
        const char *names[1024];
        uint32_t lens[1024], n = 0;
        for (uint32_t i = 0; i < all->n_exports && n < 1024; i++) {
            size_t len;
            names[n] = intern_str(c->names, all->exports[i], &len);
            lens[n++] = (uint32_t)len;
        }
        summary_set_all(c->sum, names, lens, n);
    }
    c->depth = 0;
}
