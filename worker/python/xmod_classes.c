/* xmod_classes.c - what instances of the component's classes may have,
 * through bases in other modules, and the reads of self it settles.
 *
 * The scan reads a module's classes on its own (selfattr.h): for each
 * class whose bases are names, the members it found (SUM_CLASS_SEEN, the
 * "attrs"), whether something may add more (SUM_CLASS_OPEN), and, for a
 * class with a base from elsewhere, the reads of `self.x` that nothing in
 * the module gives ("selfreads"). Here a class's fact is the union of its
 * members and its bases' facts: a base of the same file, or one an import
 * names (`from m import B`, `m.B`), whose module is in the component or
 * sends its interface's "classes". A class gets a fact only when every
 * class on the way is closed; otherwise it has none, and its reads say
 * nothing. Facts of the component's classes are computed in passes (a
 * base may be a class of another module of the cycle, whose fact comes
 * later); a class still waiting when a pass adds nothing has none.
 *
 * A fact also holds the plain methods instances run (an undecorated def,
 * not a placeholder: the class's own, else the one base's that has the
 * name) with their signatures without self.
 *
 * A read `self.x` the scan left here is E1101 when the class has a fact
 * and x is not in it; a call `self.m(...)` of a method of the fact is
 * checked against its signature ("... in method call"). A read of an
 * instance `x = C(...)` (instance) is settled the same way when no class
 * of the fact binds __new__. */
#include "worker/python/xmod_int.h"

#include <string.h>

#define MAX_DOTS 32 /* components of a dotted base name */

static const xfact_t object = {NULL, 0, NULL, 0, false}; /* what object gives instances: nothing */

/* The class named name of file f when it is sure and the scan saw it: the
 * module-level binding of the name is that class statement alone. */
static cls_t *local_class(const file_t *f, uint32_t name)
{
    cls_t *k = NULL;

    for (uint32_t i = 0; i < f->n_classes && k == NULL; i++)
        if (f->classes[i].name == name)
            k = &f->classes[i];
    if (k == NULL || (k->flags & SUM_CLASS_FLAGS_UNKNOWN) || !(k->flags & SUM_CLASS_SEEN))
        return NULL;
    for (uint32_t i = 0; i < f->n_defs; i++)
        if (f->defs[i].name == name &&
            (f->defs[i].kind != SUM_DEF_CLASS || (f->defs[i].flags & SUM_DEF_REBOUND)))
            return NULL;
    return k;
}

#define MAX_REEXPORTS 8 /* imports followed from a class's name to its statement */

static int base_class(ctx_t *c, const file_t *f, uint32_t base, const xfact_t **out,
                      unsigned depth);

/* The fact of class name of module mod: FACT_OK with *out, FACT_WAITING
 * (a class of the component not settled yet) or FACT_NONE. A name the
 * module imports (a re-export: `from .case import TestCase`) is followed
 * to the class, depth imports deep so far. */
static int module_class(ctx_t *c, uint32_t mod, const nm_t *name, const xfact_t **out,
                        unsigned depth)
{
    const mod_t *m = xmod__mod_get(c, mod);
    const iface_t *f = m != NULL ? m->iface : NULL;
    const ent_t *e = xmod__iface_find(f, name);

    if (e == NULL || e->kind != E_CLASS || f->open || xmod__stored(c, mod, name->id))
        return FACT_NONE;
    if (m->file != NULL) {
        cls_t *k = local_class(m->file, name->id);
        if (k == NULL)
            return depth < MAX_REEXPORTS && xmod__binding_import(m->file, name->id) != NULL
                       ? base_class(c, m->file, name->id, out, depth + 1)
                       : FACT_NONE;
        *out = &k->fact;
        return k->fst;
    }
    for (uint32_t i = 0; i < f->n_classes; i++)
        if (f->classes[i].name.id == name->id) {
            *out = &f->classes[i].fact;
            return FACT_OK;
        }
    return FACT_NONE;
}

/* Whether comps[0..n), the first bound by import m, is abc's ABC: `from
 * abc import ABC` then ABC, or `import abc` then abc.ABC, abc the
 * standard library's (typeshed's stub, when the environment's library
 * files are in the graph; not a project's own abc.py). */
static bool abc_base(ctx_t *c, const imp_t *m, const uint32_t *comps, uint32_t n)
{
    nm_t abs = xmod__nm_of(c, m->abs);
    const iface_t *f;

    if (abs.len != 3 || memcmp(abs.s, "abc", 3) != 0 ||
        (m->res != R_STDLIB &&
         (m->res != R_PROJECT || (f = xmod__mod_iface(c, m->abs)) == NULL || !f->stub)))
        return false;
    if (n == 1 && m->kind == SUM_FROM)
        return strcmp(xmod__nm_of(c, m->name).s, "ABC") == 0;
    return n == 2 && m->kind == SUM_IMPORT && xmod__nm_of(c, m->asname).len == 0 &&
           strcmp(xmod__nm_of(c, comps[1]).s, "ABC") == 0;
}

/* The fact of a base of a class of file f, written as the dotted name
 * base: as module_class says. */
static int base_class(ctx_t *c, const file_t *f, uint32_t base, const xfact_t **out, unsigned depth)
{
    nm_t d = xmod__nm_of(c, base);
    uint32_t comps[MAX_DOTS], n = 0, from = 0;
    const imp_t *m;
    walk_t w;

    for (uint32_t i = 0; i <= d.len; i++) {
        if (i < d.len && d.s[i] != '.')
            continue;
        if (n == MAX_DOTS || i == from ||
            xmod__intern_id(c, d.s + from, i - from, &comps[n]) != ST_OK)
            return FACT_NONE;
        n++;
        from = i + 1;
    }
    if (n == 0)
        return FACT_NONE;
    if (n == 1) {
        cls_t *k = local_class(f, comps[0]);
        if (k != NULL) {
            *out = &k->fact;
            return k->fst;
        }
        if (strcmp(d.s, "object") == 0 && xmod__binding_import(f, comps[0]) == NULL) {
            for (uint32_t i = 0; i < f->n_defs; i++)
                if (f->defs[i].name == comps[0])
                    return FACT_NONE;
            *out = &object;
            return FACT_OK;
        }
    }
    /* an import at module level, run whatever happens */
    if ((m = xmod__binding_import(f, comps[0])) == NULL ||
        (m->flags & (SUM_NESTED | SUM_CONDITIONAL | SUM_GUARDED | SUM_TYPE_CHECKING | SUM_HANDLER |
                     SUM_VERSIONED | SUM_ALIAS)))
        return FACT_NONE;
    for (uint32_t i = 0; i < f->n_defs; i++) /* bound once, by the import */
        if (f->defs[i].name == comps[0] && (f->defs[i].flags & SUM_DEF_REBOUND))
            return FACT_NONE;
    if (abc_base(c, m, comps, n)) { /* abc.ABC gives instances nothing */
        *out = &object;
        return FACT_OK;
    }
    w = xmod__walk(c, m, comps + 1, n - 1);
    if (w.kind != W_ENTRY || (n > 1 && w.at != n - 2) || w.ent.kind != E_CLASS)
        return FACT_NONE;
    nm_t name = xmod__nm_of(c, n > 1 ? comps[n - 1] : m->name);
    return module_class(c, w.mod, &name, out, depth);
}

static const xmeth_t *fact_meth(const xfact_t *x, const nm_t *name)
{
    xmeth_t key = {.name = *name};
    return x->n_meth == 0 ? NULL : bsearch(&key, x->meth, x->n_meth, sizeof key, xmod__xmeth_qcmp);
}

/* The signature of class k's plain method name without its first
 * parameter (self), when sure: an undecorated def, not overloaded, whose
 * first parameter takes a positional argument; else NULL. */
static const csig_t *own_method(ctx_t *c, const file_t *f, const cls_t *k, const nm_t *name)
{
    const member_t *m = NULL;
    const csig_t *g;
    csig_t *b;

    if (!xmod__nm_in(k->plain, k->n_plain, name))
        return NULL;
    for (uint32_t i = 0; i < k->n_members && m == NULL; i++)
        if (k->members[i].name == name->id)
            m = &k->members[i];
    if (m == NULL || m->kind != SUM_DEF_FUNCTION || m->sig < 0 || m->sig >= f->n_sigs)
        return NULL;
    g = &f->sigs[m->sig];
    if ((g->flags & (SUM_SIG_DECORATED | SUM_SIG_OVERLOAD)) || g->n == 0 ||
        g->p[0].kind > SUM_P_NORMAL || (b = xmod__alloc_n(c, 1, sizeof *b)) == NULL)
        return NULL;
    b->flags = g->flags;
    b->n = g->n - 1;
    b->p = g->p + 1;
    return b;
}

/* The methods of k's fact: its own plain ones, then each of a base's
 * that k does not bind and no other base has (two bases with it: C3's
 * order would decide). */
static void fact_methods(ctx_t *c, const file_t *f, cls_t *k, const xfact_t *const *bases)
{
    uint32_t n = k->n_plain;

    for (uint32_t i = 0; i < k->n_bases; i++)
        n += bases[i]->n_meth;
    if (n == 0 || (k->fact.meth = xmod__alloc_n(c, n, sizeof *k->fact.meth)) == NULL)
        return;
    for (uint32_t i = 0; i < k->n_plain; i++) {
        const csig_t *g = own_method(c, f, k, &k->plain[i]);
        if (g != NULL)
            k->fact.meth[k->fact.n_meth++] = (xmeth_t){k->plain[i], g};
    }
    for (uint32_t i = 0; i < k->n_bases; i++)
        for (uint32_t j = 0; j < bases[i]->n_meth; j++) {
            const xmeth_t *m = &bases[i]->meth[j];
            bool other = xmod__nm_in(k->attrs, k->n_attrs, &m->name);
            for (uint32_t b = 0; b < k->n_bases && !other; b++)
                other = b != i && xmod__nm_in(bases[b]->mem, bases[b]->n, &m->name);
            if (!other)
                k->fact.meth[k->fact.n_meth++] = *m;
        }
    if (k->fact.n_meth > 1)
        qsort(k->fact.meth, k->fact.n_meth, sizeof *k->fact.meth, xmod__xmeth_qcmp);
}

/* Settles class k of file f when it can: FACT_OK (its fact made),
 * FACT_NONE, or FACT_WAITING (a base waits). */
static int settle(ctx_t *c, const file_t *f, cls_t *k)
{
    const xfact_t *bases[64];
    uint32_t total = k->n_attrs;
    int st = FACT_OK;

    /* (a SEEN class's only keyword is metaclass=ABCMeta) */
    if ((k->flags & SUM_CLASS_FLAGS_UNKNOWN) || !(k->flags & SUM_CLASS_SEEN) ||
        (k->flags & (SUM_CLASS_OPEN | SUM_CLASS_DECORATED | SUM_CLASS_GLOBAL_ENUM)) ||
        k->n_bases > sizeof bases / sizeof bases[0])
        return FACT_NONE;
    for (uint32_t i = 0; i < k->n_bases && st != FACT_NONE; i++) {
        int b = base_class(c, f, k->bases[i], &bases[i], 0);
        if (b == FACT_NONE)
            st = FACT_NONE;
        else if (b == FACT_WAITING)
            st = FACT_WAITING;
        else
            total += bases[i]->n;
    }
    if (st != FACT_OK)
        return st;
    if ((k->fact.mem = xmod__alloc_n(c, total, sizeof *k->fact.mem)) == NULL)
        return FACT_NONE;
    memcpy(k->fact.mem, k->attrs, (size_t)k->n_attrs * sizeof *k->attrs);
    k->fact.n = k->n_attrs;
    for (uint32_t i = 0; i < k->n_bases; i++) {
        if (bases[i]->n > 0)
            memcpy(k->fact.mem + k->fact.n, bases[i]->mem, (size_t)bases[i]->n * sizeof(nm_t));
        k->fact.n += bases[i]->n;
    }
    k->fact.n = xmod__nm_sort_unique(k->fact.mem, k->fact.n);
    k->fact.stub = f->stub;
    for (uint32_t i = 0; i < k->n_bases; i++)
        k->fact.stub = k->fact.stub || bases[i]->stub;
    fact_methods(c, f, k, bases);
    return FACT_OK;
}

/* The interface of the module of export file f gets the facts of its
 * classes (those its "names" call classes). */
static const xmeth_t *fact_meth(const xfact_t *x, const nm_t *name);

/* A class whose constructor no signature of its own describes (its
 * __init__ comes from a base in another module) gets, on its interface
 * entry e, the signature of the __init__ its fact runs: when nothing
 * along the way binds __new__ and the class has no decorator or
 * keyword. */
static void inherited_ctor(ctx_t *c, const cls_t *k, ent_t *e)
{
    nm_t init = {"__init__", 8, NONE}, nw = {"__new__", 7, NONE};
    const xmeth_t *m;

    if (e->sig != NULL || (k->flags & (uint8_t) ~(SUM_CLASS_SEEN | SUM_CLASS_OPEN)) != 0 ||
        xmod__intern_id(c, "__init__", 8, &init.id) != ST_OK ||
        xmod__intern_id(c, "__new__", 7, &nw.id) != ST_OK ||
        xmod__nm_in(k->fact.mem, k->fact.n, &nw) || (m = fact_meth(&k->fact, &init)) == NULL)
        return;
    e->sig = m->sig;
}

static st_rc_t export(ctx_t *c, const file_t *f, iface_t *to)
{
    uint32_t n = to->n_names;

    for (uint32_t i = 0; i < f->n_classes; i++)
        n += f->classes[i].fst == FACT_OK;
    if (n == 0)
        return ST_OK;
    if ((to->classes = xmod__alloc_n(c, n, sizeof *to->classes)) == NULL)
        return ST_ENOMEM;
    for (uint32_t i = 0; i < f->n_classes; i++) {
        const cls_t *k = &f->classes[i];
        nm_t name = xmod__nm_of(c, k->name);
        const ent_t *e = xmod__iface_find(to, &name);
        /* (the interface says whether it is a stub's, not whether a
           stub's class is on the way: a source's such facts stay here) */
        if (k->fst != FACT_OK || e == NULL || e->kind != E_CLASS || local_class(f, k->name) != k ||
            (k->fact.stub && !f->stub))
            continue;
        to->classes[to->n_classes].name = name;
        to->classes[to->n_classes++].fact = k->fact;
        inherited_ctor(c, k, (ent_t *)e);
    }
    /* the classes it imports and so exports (a package's __init__) */
    for (uint32_t i = 0; i < to->n_names; i++) {
        const ent_t *e = &to->names[i];
        const xfact_t *x;
        if (e->kind != E_CLASS || local_class(f, e->name.id) != NULL ||
            xmod__binding_import(f, e->name.id) == NULL ||
            base_class(c, f, e->name.id, &x, 1) != FACT_OK || (x->stub && !f->stub))
            continue;
        to->classes[to->n_classes].name = e->name;
        to->classes[to->n_classes++].fact = *x;
    }
    return ST_OK;
}

st_rc_t xmod__class_facts(ctx_t *c)
{
    bool more = true;

    while (more && !c->oom) {
        more = false;
        for (uint32_t i = 0; i < c->n_files; i++) {
            file_t *f = &c->files[i];
            for (uint32_t j = 0; j < f->n_classes; j++) {
                cls_t *k = &f->classes[j];
                int st;
                if (k->fst != FACT_WAITING || (st = settle(c, f, k)) == FACT_WAITING)
                    continue;
                k->fst = (uint8_t)st;
                more = true;
            }
        }
    }
    for (uint32_t i = 0; i < c->n_files; i++) /* bases waiting on each other */
        for (uint32_t j = 0; j < c->files[i].n_classes; j++)
            if (c->files[i].classes[j].fst == FACT_WAITING)
                c->files[i].classes[j].fst = FACT_NONE;
    for (uint32_t i = 0; i < c->n_comp && !c->oom; i++) {
        iface_t *to = c->mods[i].iface;
        if (c->mods[i].file == NULL || to == NULL)
            continue;
        ST_TRY(export(c, c->mods[i].file, to));
        if (to->n_classes > 1)
            qsort(to->classes, to->n_classes, sizeof *to->classes, xmod__xcls_qcmp);
    }
    return c->oom ? ST_ENOMEM : ST_OK;
}

/* `self.m(...)` (shape k) against m's signature g (without self), as
 * the scan checks those of its own classes: one report, the first of an
 * unexpected keyword, too many positional arguments, a missing one; a
 * keyword naming a positional-only parameter is pylint's E3102 and a
 * missing keyword-only one its E1125: nothing. */
static void check_method_call(ctx_t *c, file_t *f, const selfread_t *e, const csig_t *g,
                              const char *what)
{
    const call_t *k = &e->call;
    uint32_t line = e->line, col = xmod__col1(e->col);
    bind_t b;

    for (uint32_t j = 0; j < k->nkw; j++)
        for (uint32_t i = 0; i < g->n; i++)
            if (g->p[i].name.id == k->kw[j] && g->p[i].kind == SUM_P_POSONLY)
                return;
    if (!(b = xmod__bind_call(c, g, k)).checked)
        return;
    for (uint32_t j = 0; j < k->nkw && !b.kwargs; j++)
        if (!xmod__takes_keyword(g, k->kw[j])) {
            nm_t kn = xmod__nm_of(c, k->kw[j]);
            xmod__report(c, f, line, col, "E1123", "Unexpected keyword argument '%.*s' in %s call",
                         (int)kn.len, kn.s, what);
            return;
        }
    if (b.too_many) {
        xmod__report(c, f, line, col, "E1121", "Too many positional arguments for %s call", what);
        return;
    }
    for (uint32_t i = 0; i < g->n; i++)
        if (xmod__unbound(g, &b, i)) {
            xmod__report(c, f, line, col, "E1120", "No value for argument '%.*s' in %s call",
                         (int)g->p[i].name.len, g->p[i].name.s, what);
            return;
        }
}

void xmod__check_selfreads(ctx_t *c, file_t *f)
{
    for (uint32_t i = 0; i < f->n_selfreads; i++) {
        const selfread_t *e = &f->selfreads[i];
        const cls_t *k = NULL;
        for (uint32_t j = 0; j < f->n_classes && k == NULL; j++)
            if (f->classes[j].line == e->cls_line)
                k = &f->classes[j];
        if (k == NULL || k->fst != FACT_OK)
            continue;
        if (e->instance) { /* a base's __new__ may make something else */
            nm_t nw = {"__new__", 7, NONE};
            if (xmod__intern_id(c, "__new__", 7, &nw.id) != ST_OK ||
                xmod__nm_in(k->fact.mem, k->fact.n, &nw))
                continue;
        }
        /* `C(...)`: the __init__ C's fact runs (object's when none:
           not checked) */
        bool ctor = e->instance && e->name.len == 8 && memcmp(e->name.s, "__init__", 8) == 0;
        if (ctor || xmod__nm_in(k->fact.mem, k->fact.n, &e->name)) {
            const xmeth_t *m = e->is_call ? fact_meth(&k->fact, &e->name) : NULL;
            if (m != NULL)
                check_method_call(c, f, e, m->sig, ctor ? "constructor" : "method");
            continue;
        }
        if (k->fact.stub && e->name.len > 0 && e->name.s[0] == '_')
            continue; /* a stub leaves private names out */
        nm_t cname = xmod__nm_of(c, k->name);
        xmod__report(c, f, e->line, xmod__col1(e->col), "E1101",
                     "Instance of '%.*s' has no '%.*s' member", (int)cname.len, cname.s,
                     (int)e->name.len, e->name.s);
    }
}
