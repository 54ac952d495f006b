/* xmod_rules.c - the check job's rules over one file: walking the uses of
 * imported names through the interfaces, E0401, E0611, E1101, E1120,
 * E1121, E1123, the F405s settled by star imports (F821, F822), then the
 * file's `# noqa` ranges.
 *
 * Precision first: every rule says nothing when a fact it needs is unknown
 * (a module not given, an open interface, a name bound twice, a decorated
 * function, a guarded use). Nothing recurses over input data: chains and
 * re-exports are walked by loops bounded by the input's own sizes.
 *
 * Conventions the contract leaves open:
 *   - positions: summary imports and uses have 0-based columns, diagnostics
 *     1-based ones; "stars" positions are those of the scan's F405s, already
 *     1-based, and are echoed as they are in "drop" and in the F821/F822;
 *   - a dunder attribute of a module (__name__, __path__, __version__...)
 *     is never reported missing;
 *   - a keyword-only parameter left unbound is pylint's E1125, not E1120:
 *     nothing is said about it;
 *   - a class tuple without flags (an older summary) gives no constructor
 *     signature, since its decorators are unknown. */
#include "worker/python/xmod_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CALL_CHECK 255 /* larger signatures or keyword lists are not checked */

/* ---- walking uses ------------------------------------------------------------- */

bool xmod__stored(ctx_t *c, uint32_t mod, uint32_t name)
{
    uint32_t key[2] = {mod, name};
    return hmap_get(c->stores, key, sizeof key, NULL) == ST_OK;
}

walk_t xmod__walk(ctx_t *c, const imp_t *m, const uint32_t *chain, uint32_t n)
{
    walk_t w = {.kind = W_STOP, .mod = NONE, .at = 0};
    ent_t start;

    if (m->res != R_PROJECT || (m->kind != SUM_IMPORT && m->kind != SUM_FROM))
        return w;
    start = xmod__import_ent(c, m);
    if (start.kind != E_MOD) {
        if (n == 0 && start.kind != E_UNKNOWN && m->kind == SUM_FROM &&
            xmod__mod_iface(c, m->abs) != NULL) {
            w.kind = W_ENTRY;
            w.mod = m->abs;
            w.ent = start;
        }
        return w;
    }
    w.mod = start.ref;
    for (uint32_t i = 0; i < n; i++) {
        const iface_t *f = xmod__mod_iface(c, w.mod);
        nm_t x = xmod__nm_of(c, chain[i]);
        const ent_t *e;
        uint32_t sub = NONE;
        if (f == NULL)
            return (walk_t){.kind = W_STOP};
        e = xmod__iface_find(f, &x);
        if (xmod__is_sub(c, f, w.mod, &x))
            sub = xmod__join_id(c, w.mod, x.id, true);
        if (sub != NONE && (e == NULL || (e->kind == E_MOD && e->ref == sub))) {
            w.mod = sub;
            continue;
        }
        if (e != NULL && sub == NONE && e->kind == E_MOD) {
            w.mod = e->ref;
            continue;
        }
        if (e != NULL && sub == NONE) {
            w.kind = W_ENTRY;
            w.at = i;
            w.ent = *e;
            return w;
        }
        if (e != NULL || f->open || xmod__is_dunder(&x) || xmod__stub_omits(f, &x) ||
            xmod__stored(c, w.mod, x.id))
            return (walk_t){.kind = W_STOP};
        w.kind = W_MISSING;
        w.at = i;
        return w;
    }
    w.kind = xmod__mod_get(c, w.mod) != NULL ? W_MODULE : W_STOP;
    return w;
}

/* Attributes the component assigns on modules (`m.x = 1`) exist. */
st_rc_t xmod__collect_stores(ctx_t *c)
{
    for (uint32_t i = 0; i < c->n_files; i++) {
        const file_t *f = &c->files[i];
        for (uint32_t k = 0; k < f->n_uses; k++) {
            const use_t *u = &f->uses[k];
            if (!(u->flags & SUM_USE_STORE) || u->n == 0)
                continue;
            walk_t w = xmod__walk(c, &f->imps[u->imp], u->chain, u->n - 1);
            if (w.kind != W_MODULE)
                continue;
            uint32_t key[2] = {w.mod, u->chain[u->n - 1]};
            if (hmap_put(c->stores, key, sizeof key, 1) != ST_OK)
                return ST_ENOMEM;
        }
    }
    return c->oom ? ST_ENOMEM : ST_OK;
}

/* ---- the checks ------------------------------------------------------------------ */

void xmod__report(ctx_t *c, file_t *f, uint32_t line, uint32_t col, const char *code,
                  const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (diag_add(&f->diags, line, col, code, "%s", msg) == NULL)
        c->oom = true;
}

uint32_t xmod__col1(uint32_t col)
{
    return col < UINT32_MAX ? col + 1 : col;
}

/* For `from M import n` written in M itself (`from . import n` in a
 * package's __init__): the import binds n, so M's interface has n whether
 * or not it exists. It exists when n is a submodule or a dunder, or when
 * something else than imports from M itself binds it. */
static bool self_import_defines(ctx_t *c, const file_t *f, const iface_t *src, uint32_t self,
                                const nm_t *name)
{
    if (xmod__is_sub(c, src, self, name) || xmod__is_dunder(name) ||
        xmod__stored(c, self, name->id))
        return true;
    for (uint32_t k = 0; k < f->n_defs; k++) {
        const def_t *d = &f->defs[k];
        if (d->name != name->id)
            continue;
        if (d->kind != SUM_DEF_IMPORT || (d->flags & SUM_DEF_REBOUND))
            return true;
    }
    for (uint32_t i = 0; i < f->n_imps; i++) {
        const imp_t *m = &f->imps[i];
        if (m->bound == name->id && !(m->kind == SUM_FROM && m->abs == self))
            return true; /* bound by another import: an import of the name itself */
    }
    return false; /* bound only by imports from M itself */
}

static void check_imports(ctx_t *c, file_t *f)
{
    hmap_t *seen = hmap_new_arena(c->a, HMAP_BYTES);

    if (seen == NULL) {
        c->oom = true;
        return;
    }
    for (uint32_t i = 0; i < f->n_imps; i++) {
        const imp_t *m = &f->imps[i];
        nm_t abs = xmod__nm_of(c, m->abs), name = xmod__nm_of(c, m->name);
        const iface_t *src;
        if (m->flags & (SUM_GUARDED | SUM_TYPE_CHECKING))
            continue; /* as pylint: a failing import is handled, or never runs */
        if (m->flags & (SUM_VERSIONED | SUM_ALIAS))
            continue; /* another Python's branch (as pyright), or said once already */
        if (m->res == R_UNRESOLVED && m->kind != SUM_FUTURE) {
            uint32_t key[3] = {m->line, m->col, m->abs}; /* `from x import a, b`: once */
            if (hmap_get(seen, key, sizeof key, NULL) == ST_OK)
                continue;
            if (hmap_put(seen, key, sizeof key, 1) != ST_OK)
                c->oom = true;
            xmod__report(c, f, m->line, xmod__col1(m->col), "E0401", "Unable to import '%.*s'",
                         (int)abs.len, abs.s);
            continue;
        }
        if (m->res == R_MISSING && !(m->flags & (SUM_CONDITIONAL | SUM_HANDLER))) {
            uint32_t key[3] = {m->line, m->col, m->abs};
            if (hmap_get(seen, key, sizeof key, NULL) == ST_OK)
                continue;
            if (hmap_put(seen, key, sizeof key, 1) != ST_OK)
                c->oom = true;
            if (c->python.len > 0)
                xmod__report(c, f, m->line, xmod__col1(m->col), "E0401",
                             "Unable to import '%.*s' (not installed for %.*s)", (int)abs.len,
                             abs.s, (int)c->python.len, c->python.s);
            else
                xmod__report(c, f, m->line, xmod__col1(m->col), "E0401", "Unable to import '%.*s'",
                             (int)abs.len, abs.s);
            continue;
        }
        if (m->kind != SUM_FROM || m->res != R_PROJECT || name.len == 0)
            continue;
        if ((src = xmod__mod_iface(c, m->abs)) == NULL || src->open)
            continue;
        if (m->abs == f->name.id && !self_import_defines(c, f, src, m->abs, &name))
            ; /* `from . import x` in a package's __init__: x must exist without it */
        else if (xmod__iface_find(src, &name) != NULL || xmod__is_sub(c, src, m->abs, &name) ||
                 xmod__is_dunder(&name) || xmod__stub_omits(src, &name) ||
                 xmod__stored(c, m->abs, name.id))
            continue;
        xmod__report(c, f, m->line, xmod__col1(m->col), "E0611", "No name '%.*s' in module '%.*s'",
                     (int)name.len, name.s, (int)abs.len, abs.s);
    }
}

static void check_uses(ctx_t *c, file_t *f)
{
    for (uint32_t i = 0; i < f->n_uses; i++) {
        const use_t *u = &f->uses[i];
        walk_t w;
        if (u->flags & (SUM_USE_STORE | SUM_USE_GUARDED | SUM_USE_VERSIONED) || u->n == 0)
            continue;
        w = xmod__walk(c, &f->imps[u->imp], u->chain, u->n);
        if (w.kind != W_MISSING)
            continue;
        nm_t mod = xmod__nm_of(c, w.mod), x = xmod__nm_of(c, u->chain[w.at]);
        xmod__report(c, f, u->line, xmod__col1(u->col), "E1101",
                     "Module '%.*s' has no '%.*s' member", (int)mod.len, mod.s, (int)x.len, x.s);
    }
}

/* Whether keyword kw names a parameter of g that takes a keyword. */
bool xmod__takes_keyword(const csig_t *g, uint32_t kw)
{
    for (uint32_t i = 0; i < g->n; i++)
        if (g->p[i].name.id == kw && g->p[i].kind <= SUM_P_KWONLY && g->p[i].kind != SUM_P_VARARGS)
            return g->p[i].kind != SUM_P_POSONLY;
    return false;
}

/* Whether parameter i of g needs a value the call did not give (a
 * keyword-only one is pylint's E1125 missing-kwoa, not one of ours). */
bool xmod__unbound(const csig_t *g, const bind_t *b, uint32_t i)
{
    uint8_t pk = g->p[i].kind;
    return !b->bound[i] && !g->p[i].dflt && pk != SUM_P_VARARGS && pk != SUM_P_KWARGS &&
           pk != SUM_P_KWONLY;
}

bind_t xmod__bind_call(ctx_t *c, const csig_t *g, const call_t *k)
{
    bind_t b = {0};
    uint32_t n_slots = 0;
    bool varargs = false;

    if (g->n > MAX_CALL_CHECK || k->nkw > MAX_CALL_CHECK ||
        (b.bound = xmod__alloc_n(c, g->n ? g->n : 1, sizeof *b.bound)) == NULL)
        return b;
    b.checked = true;
    for (uint32_t i = 0; i < g->n; i++) {
        b.bound[i] = false;
        if (g->p[i].kind <= SUM_P_NORMAL)
            n_slots++;
        varargs |= g->p[i].kind == SUM_P_VARARGS;
        b.kwargs |= g->p[i].kind == SUM_P_KWARGS;
    }
    b.too_many = k->npos > n_slots && !varargs && !k->star;
    for (uint32_t i = 0, p = 0; i < g->n && p < k->npos; i++)
        if (g->p[i].kind <= SUM_P_NORMAL)
            b.bound[i] = true, p++;
    for (uint32_t j = 0; j < k->nkw; j++)
        for (uint32_t i = 0; i < g->n; i++)
            if (g->p[i].name.id == k->kw[j] && xmod__takes_keyword(g, k->kw[j]))
                b.bound[i] = true;
    return b;
}

/* Reports what binding the call to e's signature finds wrong. */
static void check_call(ctx_t *c, file_t *f, const use_t *u, const call_t *k, const ent_t *e)
{
    const csig_t *g = e->sig;
    const char *what = e->kind == E_CLASS ? "constructor" : "function";
    uint32_t line = u->line, col = xmod__col1(u->col);
    bind_t b = xmod__bind_call(c, g, k);

    if (!b.checked)
        return;
    if (b.too_many)
        xmod__report(c, f, line, col, "E1121", "Too many positional arguments for %s call", what);
    for (uint32_t j = 0; j < k->nkw && !b.kwargs && !k->dstar; j++) {
        if (xmod__takes_keyword(g, k->kw[j]))
            continue;
        nm_t kn = xmod__nm_of(c, k->kw[j]);
        xmod__report(c, f, line, col, "E1123", "Unexpected keyword argument '%.*s' in %s call",
                     (int)kn.len, kn.s, what);
    }
    if (k->star || k->dstar)
        return;
    for (uint32_t i = 0; i < g->n; i++)
        if (xmod__unbound(g, &b, i))
            xmod__report(c, f, line, col, "E1120", "No value for argument '%.*s' in %s call",
                         (int)g->p[i].name.len, g->p[i].name.s, what);
}

/* An overloaded function: a call is wrong only when no overload accepts
 * it, and then only what every overload says (pyright's "No overloads
 * for ..."): too many positional arguments, or one same keyword no
 * overload takes. A missing argument differs per overload: not said. */
static void check_overloads(ctx_t *c, file_t *f, const use_t *u, const call_t *k, const ent_t *e)
{
    bool all_too_many = true, same_kw = true;
    uint32_t kw = NONE;

    for (uint32_t i = 0; i < e->n_ovl; i++) {
        const csig_t *g = e->ovl[i];
        uint32_t bad = NONE;
        bool missing = false;
        if (g->flags & SUM_SIG_DECORATED)
            return;
        bind_t b = xmod__bind_call(c, g, k);
        if (!b.checked)
            return;
        for (uint32_t j = 0; j < k->nkw && bad == NONE && !b.kwargs && !k->dstar; j++)
            if (!xmod__takes_keyword(g, k->kw[j]))
                bad = k->kw[j];
        for (uint32_t p = 0; p < g->n && !missing && !k->star && !k->dstar; p++)
            missing = xmod__unbound(g, &b, p);
        if (!b.too_many && bad == NONE && !missing)
            return; /* this overload accepts it */
        all_too_many &= b.too_many;
        if (bad == NONE || (kw != NONE && kw != bad))
            same_kw = false;
        kw = bad;
    }
    if (e->n_ovl == 0)
        return;
    if (all_too_many)
        xmod__report(c, f, u->line, xmod__col1(u->col), "E1121",
                     "Too many positional arguments for function call");
    else if (same_kw && kw != NONE) {
        nm_t kn = xmod__nm_of(c, kw);
        xmod__report(c, f, u->line, xmod__col1(u->col), "E1123",
                     "Unexpected keyword argument '%.*s' in function call", (int)kn.len, kn.s);
    }
}

static void check_calls(ctx_t *c, file_t *f)
{
    for (uint32_t i = 0; i < f->n_calls; i++) {
        const call_t *k = &f->calls[i];
        const use_t *u = &f->uses[k->use];
        walk_t w;
        if (u->flags & (SUM_USE_STORE | SUM_USE_GUARDED | SUM_USE_VERSIONED))
            continue;
        w = xmod__walk(c, &f->imps[u->imp], u->chain, u->n);
        if (w.kind != W_ENTRY || (u->n > 0 && w.at + 1 != u->n))
            continue; /* not a name of a module (a method, an attribute of a value) */
        if (w.ent.kind == E_FUNC && w.ent.n_ovl > 0) {
            check_overloads(c, f, u, k, &w.ent);
            continue;
        }
        if ((w.ent.kind != E_FUNC && w.ent.kind != E_CLASS) || w.ent.sig == NULL ||
            (w.ent.sig->flags & (SUM_SIG_DECORATED | SUM_SIG_OVERLOAD)) != 0)
            continue;
        check_call(c, f, u, k, &w.ent);
    }
}

static void add_drop(ctx_t *c, file_t *f, uint32_t line, uint32_t col)
{
    if (f->n_drop == f->cap_drop) {
        uint32_t ncap = f->cap_drop ? f->cap_drop * 2 : 8;
        check_pos_t *p =
            arena_realloc(c->a, f->drop, (size_t)f->cap_drop * sizeof *p, (size_t)ncap * sizeof *p);
        if (ncap < f->cap_drop || p == NULL) {
            c->oom = true;
            return;
        }
        f->drop = p;
        f->cap_drop = ncap;
    }
    f->drop[f->n_drop++] = (check_pos_t){line, col};
}

/* An F405 settles when a star import from a known closed project module
 * binds the name (then it is defined), or when every star import of the
 * file is from such a module and none binds it (then it is undefined). */
static void check_stars(ctx_t *c, file_t *f)
{
    bool all_known = true;
    uint32_t self = f->name.id;

    if (f->n_star_from == 0)
        return;
    for (uint32_t i = 0; i < f->n_star_from; i++)
        if (xmod__star_source(c, &f->imps[f->star_from[i]], self) == NULL)
            all_known = false;
    for (uint32_t s = 0; s < f->n_stars; s++) {
        const star_t *st = &f->stars[s];
        nm_t name = xmod__nm_of(c, st->name);
        bool provided = false;
        for (uint32_t i = 0; i < f->n_star_from && !provided; i++) {
            const imp_t *m = &f->imps[f->star_from[i]];
            const iface_t *src = xmod__star_source(c, m, self);
            provided = src != NULL && xmod__star_provides(c, src, m->abs, &name);
        }
        if (!provided && (!all_known || st->local))
            continue; /* an open or unknown source may bind it, or its function does: F405 */
        add_drop(c, f, st->line, st->col);
        if (provided)
            continue;
        if (st->in_all)
            xmod__report(c, f, st->line, st->col, "F822", "undefined name '%.*s' in __all__",
                         (int)name.len, name.s);
        else
            xmod__report(c, f, st->line, st->col, "F821", "undefined name '%.*s'", (int)name.len,
                         name.s);
    }
}

/* ---- noqa ------------------------------------------------------------------------------ */

static int noqa_qcmp(const void *pa, const void *pb)
{
    const noqa_t *a = pa, *b = pb;
    if (a->first != b->first)
        return a->first < b->first ? -1 : 1;
    return a->last < b->last ? -1 : a->last > b->last ? 1 : 0;
}

static bool noqa_covers(const noqa_t *n, const diag_t *d)
{
    if (d->line < n->first || d->line > n->last)
        return false;
    if (n->codes == NULL)
        return true;
    for (uint32_t k = 0; k < n->n; k++)
        if (n->codes[k][0] != 0 && strncmp(d->code, n->codes[k], strlen(n->codes[k])) == 0)
            return true;
    return false;
}

/* The summary's noqa ranges, sorted by first line; reach[i] is the largest
 * last line among ranges 0..i, so a lookup stops as soon as no earlier
 * range can reach the line. */
static void apply_noqa(ctx_t *c, file_t *f)
{
    uint32_t *reach;

    if (f->n_noqa == 0 || f->diags.count == 0)
        return;
    for (uint32_t i = 0; i < f->n_noqa; i++)
        if (f->noqa[i].codes == NULL && f->noqa[i].first <= 1 && f->noqa[i].last == UINT32_MAX) {
            f->diags.count = 0; /* `# flake8: noqa` */
            return;
        }
    if ((reach = xmod__alloc_n(c, f->n_noqa, sizeof *reach)) == NULL)
        return;
    qsort(f->noqa, f->n_noqa, sizeof *f->noqa, noqa_qcmp);
    for (uint32_t i = 0; i < f->n_noqa; i++)
        reach[i] = i > 0 && reach[i - 1] > f->noqa[i].last ? reach[i - 1] : f->noqa[i].last;
    for (size_t i = 0; i < f->diags.count; i++) {
        diag_t *d = &f->diags.items[i];
        uint32_t lo = 0, hi = f->n_noqa; /* hi: ranges starting at or before the line */
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (f->noqa[mid].first <= d->line)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (uint32_t q = lo; q > 0 && reach[q - 1] >= d->line && !d->dead; q--)
            if (noqa_covers(&f->noqa[q - 1], d))
                d->dead = 1;
    }
}

static int pos_qcmp(const void *pa, const void *pb)
{
    const check_pos_t *a = pa, *b = pb;
    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    return a->col < b->col ? -1 : a->col > b->col ? 1 : 0;
}

static void sort_drops(file_t *f)
{
    uint32_t j = 0;

    if (f->n_drop > 1)
        qsort(f->drop, f->n_drop, sizeof *f->drop, pos_qcmp);
    for (uint32_t i = 0; i < f->n_drop; i++)
        if (j == 0 || pos_qcmp(&f->drop[j - 1], &f->drop[i]) != 0)
            f->drop[j++] = f->drop[i];
    f->n_drop = j;
}

void xmod__check_file(ctx_t *c, file_t *f)
{
    check_imports(c, f);
    check_uses(c, f);
    check_calls(c, f);
    check_stars(c, f);
}

void xmod__finish_file(ctx_t *c, file_t *f)
{
    apply_noqa(c, f);
    diag_list_sort(&f->diags);
    sort_drops(f);
}
