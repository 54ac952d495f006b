/* xmod_iface.c - interfaces (the map in xmod.h): the one decoder
 * (check_iface_read, also used by run/project_jobs.c), the one encoder
 * (xmod__pack_iface, for results and check_namespace_iface), and how the job
 * computes the interfaces of its component.
 *
 * Interfaces are computed by rounds: each round rebuilds every module's
 * interface from the previous round's (a star import or a re-export may come
 * from a module of the same cycle), from empty closed interfaces up, until a
 * round changes nothing or the round limit is hit; what has not settled then
 * is made unknown (kind 4) or open, so that nothing is claimed from it. An
 * interface is canonical (the same module gives the same bytes): names
 * sorted, each once, since results are cached under their digests. */
#include "worker/python/xmod_int.h"

#include <stdlib.h>
#include <string.h>

#define MAX_ROUNDS 64 /* interface rounds in a cycle before giving up */

/* ---- reading ---------------------------------------------------------------------- */

/* [name, kind, sig, ref] */
static st_rc_t rd_name(mpread_t *r, arena_t *a, check_iface_name_t *e)
{
    uint32_t n;
    uint64_t kind;

    memset(e, 0, sizeof *e);
    if (mpread_array(r, &n) != ST_OK || n < 4)
        return ST_ECORRUPT;
    ST_TRY(summary_read_str(r, &e->name));
    if (mpread_uint(r, &kind) != ST_OK || kind > CHECK_NAME_UNKNOWN)
        return ST_ECORRUPT;
    e->kind = (uint8_t)kind;
    if ((e->has_sig = !mpread_nil(r)))
        ST_TRY(summary_read_sig(r, a, &e->sig));
    if ((e->has_ref = !mpread_nil(r)))
        ST_TRY(summary_read_str(r, &e->ref));
    if (n >= 5 && e->kind == CHECK_NAME_FUNCTION && !mpread_nil(r)) {
        if (mpread_array_min(r, 3, &e->n_ovl) != ST_OK || e->n_ovl == 0 ||
            (e->ovl = arena_calloc(a, e->n_ovl, sizeof *e->ovl)) == NULL)
            return e->n_ovl > 0 && e->ovl == NULL ? ST_ENOMEM : ST_ECORRUPT;
        for (uint32_t k = 0; k < e->n_ovl; k++)
            ST_TRY(summary_read_sig(r, a, &e->ovl[k]));
    }
    for (uint32_t k = n >= 5 && e->kind == CHECK_NAME_FUNCTION ? 5 : 4; k < n; k++)
        if (mpread_skip(r) != ST_OK)
            return ST_ECORRUPT;
    return ST_OK;
}

static st_rc_t rd_entry(mpread_t *r, arena_t *a, check_iface_t *f)
{
    if (mpread_key(r, "name"))
        return summary_read_str(r, &f->name);
    if (mpread_key(r, "open"))
        return mpread_bool(r, &f->open) == ST_OK ? ST_OK : ST_ECORRUPT;
    if (mpread_key(r, "stub"))
        return mpread_bool(r, &f->stub) == ST_OK ? ST_OK : ST_ECORRUPT;
    if (mpread_key(r, "all")) {
        f->has_all = !mpread_nil(r);
        return f->has_all ? summary_read_strs(r, a, &f->all, &f->n_all) : ST_OK;
    }
    if (mpread_key(r, "subs"))
        return summary_read_strs(r, a, &f->subs, &f->n_subs);
    if (mpread_key(r, "classes")) {
        if (mpread_array_min(r, 3, &f->n_classes) != ST_OK)
            return ST_ECORRUPT;
        if ((f->classes = arena_calloc(a, f->n_classes ? f->n_classes : 1, sizeof *f->classes)) ==
            NULL)
            return ST_ENOMEM;
        for (uint32_t i = 0; i < f->n_classes; i++) {
            uint32_t n;
            if (mpread_array(r, &n) != ST_OK || n < 2)
                return ST_ECORRUPT;
            check_iface_class_t *k = &f->classes[i];
            ST_TRY(summary_read_str(r, &k->name));
            ST_TRY(summary_read_strs(r, a, &k->members, &k->n_members));
            if (n > 2) {
                if (mpread_array_min(r, 3, &k->n_meths) != ST_OK)
                    return ST_ECORRUPT;
                if ((k->meth_names = arena_calloc(a, k->n_meths ? k->n_meths : 1,
                                                  sizeof *k->meth_names)) == NULL ||
                    (k->meth_sigs = arena_calloc(a, k->n_meths ? k->n_meths : 1,
                                                 sizeof *k->meth_sigs)) == NULL)
                    return ST_ENOMEM;
                for (uint32_t j = 0; j < k->n_meths; j++) {
                    uint32_t mn;
                    if (mpread_array(r, &mn) != ST_OK || mn < 2)
                        return ST_ECORRUPT;
                    ST_TRY(summary_read_str(r, &k->meth_names[j]));
                    ST_TRY(summary_read_sig(r, a, &k->meth_sigs[j]));
                    for (uint32_t x = 2; x < mn; x++)
                        if (mpread_skip(r) != ST_OK)
                            return ST_ECORRUPT;
                }
            }
            for (uint32_t x = 3; x < n; x++)
                if (mpread_skip(r) != ST_OK)
                    return ST_ECORRUPT;
        }
        return ST_OK;
    }
    if (mpread_key(r, "names")) {
        if (mpread_array_min(r, 5, &f->n_names) != ST_OK)
            return ST_ECORRUPT;
        if ((f->names = arena_calloc(a, f->n_names ? f->n_names : 1, sizeof *f->names)) == NULL)
            return ST_ENOMEM;
        for (uint32_t i = 0; i < f->n_names; i++)
            ST_TRY(rd_name(r, a, &f->names[i]));
        return ST_OK;
    }
    return mpread_skip(r) != ST_OK || mpread_skip(r) != ST_OK ? ST_ECORRUPT : ST_OK;
}

st_rc_t check_iface_read(mpread_t *r, arena_t *a, check_iface_t *out)
{
    uint32_t n;

    memset(out, 0, sizeof *out);
    if (mpread_map(r, &n) != ST_OK)
        return ST_ECORRUPT;
    for (uint32_t k = 0; k < n; k++)
        ST_TRY(rd_entry(r, a, out));
    return out->name.len > 0 ? ST_OK : ST_ECORRUPT;
}

/* One decoded name into the model. */
static st_rc_t take_name(ctx_t *c, const check_iface_name_t *v, ent_t *e)
{
    csig_t *g;

    ST_TRY(xmod__str_nm(c, v->name, &e->name));
    e->kind = v->kind;
    e->sig = NULL;
    e->ref = NONE;
    if (v->has_sig) {
        if ((g = xmod__alloc_n(c, 1, sizeof *g)) == NULL)
            return ST_ENOMEM;
        ST_TRY(xmod__sig(c, &v->sig, g));
        e->sig = g;
    }
    if (v->has_ref)
        ST_TRY(xmod__str_id(c, v->ref, &e->ref));
    e->ovl = NULL;
    e->n_ovl = 0;
    if (v->n_ovl > 0 && v->kind == CHECK_NAME_FUNCTION) {
        csig_t **ovl = xmod__alloc_n(c, v->n_ovl, sizeof *ovl);
        csig_t *gs = xmod__alloc_n(c, v->n_ovl, sizeof *gs);
        if (ovl == NULL || gs == NULL)
            return ST_ENOMEM;
        for (uint32_t k = 0; k < v->n_ovl; k++) {
            ST_TRY(xmod__sig(c, &v->ovl[k], &gs[k]));
            ovl[k] = &gs[k];
        }
        e->ovl = (const csig_t *const *)ovl;
        e->n_ovl = v->n_ovl;
    }
    return ST_OK;
}

/* Sorted by name, each once: a name given twice, the first wins. */
static void canonical(iface_t *f)
{
    uint32_t j = 0;

    if (f->n_classes > 1)
        qsort(f->classes, f->n_classes, sizeof *f->classes, xmod__xcls_qcmp);
    for (uint32_t i = 0; i < f->n_classes; i++)
        if (j == 0 || f->classes[j - 1].name.id != f->classes[i].name.id)
            f->classes[j++] = f->classes[i];
    f->n_classes = j;
    j = 0;

    f->n_subs = xmod__nm_sort_unique(f->subs, f->n_subs);
    if (f->has_all)
        f->n_all = xmod__nm_sort_unique(f->all, f->n_all);
    if (f->n_names > 1)
        qsort(f->names, f->n_names, sizeof *f->names, xmod__ent_qcmp);
    for (uint32_t i = 0; i < f->n_names; i++)
        if (j == 0 || f->names[j - 1].name.id != f->names[i].name.id)
            f->names[j++] = f->names[i];
    f->n_names = j;
}

/* A class's decoded methods into its fact: sorted, each name once (a
 * name sent twice: neither is sure). */
static st_rc_t take_meths(ctx_t *c, const check_iface_class_t *v, xfact_t *x)
{
    uint32_t j = 0;

    if ((x->meth = xmod__alloc_n(c, v->n_meths, sizeof *x->meth)) == NULL)
        return ST_ENOMEM;
    for (uint32_t i = 0; i < v->n_meths; i++) {
        csig_t *g = xmod__alloc_n(c, 1, sizeof *g);
        if (g == NULL)
            return ST_ENOMEM;
        ST_TRY(xmod__str_nm(c, v->meth_names[i], &x->meth[i].name));
        ST_TRY(xmod__sig(c, &v->meth_sigs[i], g));
        x->meth[i].sig = g;
    }
    if (v->n_meths > 1)
        qsort(x->meth, v->n_meths, sizeof *x->meth, xmod__xmeth_qcmp);
    for (uint32_t i = 0; i < v->n_meths; i++) {
        bool dup = (i > 0 && x->meth[i - 1].name.id == x->meth[i].name.id) ||
                   (i + 1 < v->n_meths && x->meth[i + 1].name.id == x->meth[i].name.id);
        if (!dup)
            x->meth[j++] = x->meth[i];
    }
    x->n_meth = j;
    return ST_OK;
}

st_rc_t xmod__read_iface(ctx_t *c, mpread_t *r, iface_t *f)
{
    check_iface_t v;
    st_rc_t rc = check_iface_read(r, c->a, &v);

    memset(f, 0, sizeof *f);
    if (rc == ST_ENOMEM)
        c->oom = true;
    ST_TRY(rc);
    ST_TRY(xmod__str_nm(c, v.name, &f->name));
    f->open = v.open;
    f->stub = v.stub;
    if ((f->has_all = v.has_all)) {
        ST_TRY(xmod__str_nms(c, v.all, v.n_all, &f->all));
        f->n_all = v.n_all;
    }
    ST_TRY(xmod__str_nms(c, v.subs, v.n_subs, &f->subs));
    f->n_subs = v.n_subs;
    if ((f->names = xmod__alloc_n(c, v.n_names, sizeof *f->names)) == NULL)
        return ST_ENOMEM;
    f->n_names = v.n_names;
    for (uint32_t i = 0; i < v.n_names; i++)
        ST_TRY(take_name(c, &v.names[i], &f->names[i]));
    if ((f->classes = xmod__alloc_n(c, v.n_classes, sizeof *f->classes)) == NULL)
        return ST_ENOMEM;
    f->n_classes = v.n_classes;
    for (uint32_t i = 0; i < v.n_classes; i++) {
        xcls_t *k = &f->classes[i];
        ST_TRY(xmod__str_nm(c, v.classes[i].name, &k->name));
        ST_TRY(xmod__str_nms(c, v.classes[i].members, v.classes[i].n_members, &k->fact.mem));
        k->fact.n = xmod__nm_sort_unique(k->fact.mem, v.classes[i].n_members);
        k->fact.stub = v.stub; /* (a source exports no fact a stub's class made) */
        ST_TRY(take_meths(c, &v.classes[i], &k->fact));
    }
    canonical(f);
    return ST_OK;
}

/* ---- writing ------------------------------------------------------------------------ */

static void pack_nms(msgpack_packer *pk, const nm_t *v, uint32_t n)
{
    msgpack_pack_array(pk, n);
    for (uint32_t i = 0; i < n; i++)
        mpbuf_str(pk, v[i].s, v[i].len);
}

static void pack_sig(msgpack_packer *pk, const csig_t *g)
{
    summary_pack_sig(pk, g->flags, g->n);
    for (uint32_t i = 0; i < g->n; i++)
        summary_pack_param(pk, g->p[i].name.s, g->p[i].name.len, g->p[i].kind, g->p[i].dflt);
}

void xmod__pack_iface(const ctx_t *c, msgpack_packer *pk, const iface_t *f)
{
    msgpack_pack_map(pk, 5 + (f->stub ? 1 : 0) + (f->n_classes > 0 ? 1 : 0));
    mpbuf_cstr(pk, "name");
    mpbuf_str(pk, f->name.s, f->name.len);
    mpbuf_cstr(pk, "open");
    mpbuf_bool(pk, f->open);
    if (f->stub) {
        mpbuf_cstr(pk, "stub");
        mpbuf_bool(pk, true);
    }
    mpbuf_cstr(pk, "all");
    if (f->has_all)
        pack_nms(pk, f->all, f->n_all);
    else
        msgpack_pack_nil(pk);
    mpbuf_cstr(pk, "subs");
    pack_nms(pk, f->subs, f->n_subs);
    if (f->n_classes > 0) {
        mpbuf_cstr(pk, "classes");
        msgpack_pack_array(pk, f->n_classes);
        for (uint32_t i = 0; i < f->n_classes; i++) {
            const xfact_t *x = &f->classes[i].fact;
            msgpack_pack_array(pk, x->n_meth > 0 ? 3 : 2);
            mpbuf_str(pk, f->classes[i].name.s, f->classes[i].name.len);
            pack_nms(pk, x->mem, x->n);
            if (x->n_meth > 0) {
                msgpack_pack_array(pk, x->n_meth);
                for (uint32_t k = 0; k < x->n_meth; k++) {
                    msgpack_pack_array(pk, 2);
                    mpbuf_str(pk, x->meth[k].name.s, x->meth[k].name.len);
                    pack_sig(pk, x->meth[k].sig);
                }
            }
        }
    }
    mpbuf_cstr(pk, "names");
    msgpack_pack_array(pk, f->n_names);
    for (uint32_t i = 0; i < f->n_names; i++) {
        const ent_t *e = &f->names[i];
        bool ovl = e->kind == E_FUNC && e->n_ovl > 0;
        msgpack_pack_array(pk, ovl ? 5 : 4);
        mpbuf_str(pk, e->name.s, e->name.len);
        msgpack_pack_uint8(pk, e->kind);
        if (e->sig != NULL && (e->kind == E_FUNC || e->kind == E_CLASS))
            pack_sig(pk, e->sig);
        else
            msgpack_pack_nil(pk);
        if (e->kind == E_MOD && e->ref != NONE) {
            nm_t r = xmod__nm_of(c, e->ref);
            mpbuf_str(pk, r.s, r.len);
        } else {
            msgpack_pack_nil(pk);
        }
        if (ovl) {
            msgpack_pack_array(pk, e->n_ovl);
            for (uint32_t k = 0; k < e->n_ovl; k++)
                pack_sig(pk, e->ovl[k]);
        }
    }
}

st_rc_t check_namespace_iface(const char *name, const char *const *subs, size_t n_subs, arena_t *a,
                              span_t *out, st_err_t *err)
{
    ctx_t c = {.a = a}; /* no names: the packer needs no interned refs */
    iface_t f = {0};
    buf_t b;
    mpbuf_t w;

    if (name == NULL || (n_subs > 0 && subs == NULL) || n_subs > UINT32_MAX)
        return st_fail(err, ST_EINVAL, "check: bad namespace package arguments");
    if ((f.subs = xmod__alloc_n(&c, n_subs, sizeof *f.subs)) == NULL)
        return st_fail(err, ST_ENOMEM, "check: arena exhausted");
    f.name = (nm_t){name, (uint32_t)strlen(name), NONE};
    for (size_t i = 0; i < n_subs; i++)
        f.subs[i] = (nm_t){subs[i], (uint32_t)strlen(subs[i]), NONE};
    f.n_subs = (uint32_t)n_subs;
    buf_init_arena(&b, a);
    if (buf_reserve(&b, 64) != ST_OK)
        return st_fail(err, ST_ENOMEM, "check: arena exhausted");
    mpbuf_init(&w, &b);
    xmod__pack_iface(&c, &w.pk, &f);
    if (mpbuf_status(&w) != ST_OK || b.data == NULL || buf_reserve(&b, 0) != ST_OK)
        return st_fail(err, ST_ENOMEM, "check: arena exhausted");
    out->ptr = b.data;
    out->len = b.len;
    return ST_OK;
}

/* ---- computing the component's interfaces ---------------------------------------- */

static ent_t unknown_ent(void)
{
    ent_t e = {.kind = E_UNKNOWN, .sig = NULL, .ref = NONE};
    return e;
}

static ent_t module_ent(uint32_t ref)
{
    ent_t e = {.kind = ref == NONE ? E_UNKNOWN : E_MOD, .sig = NULL, .ref = ref};
    return e;
}

/* What `from X import y` binds, as far as X's interface says. */
static ent_t from_ent(ctx_t *c, uint32_t x, uint32_t y)
{
    const iface_t *f = xmod__mod_iface(c, x);
    nm_t yn = xmod__nm_of(c, y);
    const ent_t *e = xmod__iface_find(f, &yn);
    uint32_t sub = NONE;
    ent_t r;

    if (xmod__is_sub(c, f, x, &yn))
        sub = xmod__join_id(c, x, y, true);
    if (sub != NONE && (e == NULL || (e->kind == E_MOD && e->ref == sub)))
        return module_ent(sub);
    if (e == NULL || sub != NONE)
        return unknown_ent(); /* absent, or both a name and a submodule */
    r = *e;
    return r;
}

ent_t xmod__import_ent(ctx_t *c, const imp_t *m)
{
    if (m->kind == SUM_IMPORT && m->abs != NONE && xmod__nm_of(c, m->abs).len > 0) {
        if (xmod__nm_of(c, m->asname).len > 0)
            return module_ent(m->abs);
        return module_ent(xmod__top_id(c, m->abs));
    }
    if (m->kind == SUM_FROM && m->res == R_PROJECT)
        return from_ent(c, m->abs, m->name);
    return unknown_ent();
}

static ent_t def_ent(ctx_t *c, const file_t *f, const def_t *d)
{
    ent_t e = unknown_ent();
    bool rebound = (d->flags & SUM_DEF_REBOUND) != 0;
    const imp_t *m;

    switch (d->kind) {
    case SUM_DEF_FUNCTION:
        e.kind = E_FUNC;
        e.sig = rebound || d->sig < 0 ? NULL : &f->sigs[d->sig];
        if (!rebound && d->ovl != NULL) {
            e.ovl = d->ovl;
            e.n_ovl = d->n_ovl;
        }
        break;
    case SUM_DEF_CLASS:
        e.kind = E_CLASS;
        e.sig = rebound ? NULL : d->ctor;
        break;
    case SUM_DEF_VARIABLE:
        e.kind = E_VAR;
        break;
    default:
        if (!rebound && (m = xmod__binding_import(f, d->name)) != NULL)
            e = xmod__import_ent(c, m);
        break;
    }
    return e;
}

typedef struct {
    ent_t *v;
    uint32_t n, cap;
} entvec_t;

static bool ev_push(ctx_t *c, entvec_t *ev, ent_t e)
{
    if (ev->n == ev->cap) {
        uint32_t ncap = ev->cap ? ev->cap * 2 : 16;
        ent_t *p;
        if (ncap < ev->cap || (p = arena_realloc(c->a, ev->v, (size_t)ev->cap * sizeof *p,
                                                 (size_t)ncap * sizeof *p)) == NULL) {
            c->oom = true;
            return false;
        }
        ev->v = p;
        ev->cap = ncap;
    }
    ev->v[ev->n++] = e;
    return true;
}

/* Whether a star import takes only the public names: without __all__. An
 * __all__ the summary could not read may list private names too, so then
 * every name counts (a star import binds at most those). */
static bool star_public_only(const iface_t *f)
{
    static const nm_t all = {"__all__", 7, 0};
    return !f->has_all && xmod__iface_find(f, &all) == NULL;
}

/* Whether a star import of module m (interface f) binds name. */
bool xmod__star_provides(ctx_t *c, const iface_t *f, uint32_t m, const nm_t *name)
{
    if (f->has_all)
        return xmod__nm_in(f->all, f->n_all, name) &&
               (xmod__iface_find(f, name) != NULL || xmod__is_sub(c, f, m, name));
    if (star_public_only(f) && name->len > 0 && name->s[0] == '_')
        return false;
    return xmod__iface_find(f, name) != NULL || xmod__is_sub(c, f, m, name);
}

/* The interface a star import of m brings in, or NULL when it cannot be
 * known (not a known closed project module). self: the importing module. */
const iface_t *xmod__star_source(ctx_t *c, const imp_t *m, uint32_t self)
{
    const iface_t *f;

    if (m->res != R_PROJECT || m->abs == self || (f = xmod__mod_iface(c, m->abs)) == NULL ||
        f->open)
        return NULL;
    return f;
}

/* The names a star import of f (module id m) binds. */
static void star_names(ctx_t *c, const iface_t *f, uint32_t m, entvec_t *ev)
{
    if (f->has_all) {
        for (uint32_t i = 0; i < f->n_all; i++) {
            const ent_t *e = xmod__iface_find(f, &f->all[i]);
            ent_t x;
            if (e != NULL)
                x = *e;
            else if (xmod__is_sub(c, f, m, &f->all[i]))
                x = module_ent(xmod__join_id(c, m, f->all[i].id, true));
            else
                continue;
            x.name = f->all[i];
            ev_push(c, ev, x);
        }
        return;
    }
    bool public_only = star_public_only(f);
    for (uint32_t i = 0; i < f->n_names; i++)
        if (public_only ? f->names[i].name.len > 0 && f->names[i].name.s[0] != '_'
                        : strcmp(f->names[i].name.s, "__all__") != 0)
            ev_push(c, ev, f->names[i]);
}

static bool ent_same(const ent_t *a, const ent_t *b)
{
    return a->kind == b->kind && a->sig == b->sig && a->ref == b->ref;
}

/* Sorts entries; a name given by two sources that disagree is unknown. */
static uint32_t merge_ents(ent_t *v, uint32_t n)
{
    uint32_t j = 0;

    if (n > 1)
        qsort(v, n, sizeof *v, xmod__ent_qcmp);
    for (uint32_t i = 0; i < n; i++) {
        if (j > 0 && v[j - 1].name.id == v[i].name.id) {
            if (!ent_same(&v[j - 1], &v[i])) {
                nm_t nm = v[j - 1].name;
                v[j - 1] = unknown_ent();
                v[j - 1].name = nm;
            }
            continue;
        }
        v[j++] = v[i];
    }
    return j;
}

/* A source module that star-imports a private stub (`from _struct import
 * *` in struct.py): typeshed lists the names of such a C accelerator in
 * the public module's stub instead (struct.error is in struct.pyi), so
 * what the source gets from it is not known. */
static bool private_stub_of_source(const file_t *f, const iface_t *src)
{
    const char *dot = memrchr(src->name.s, '.', src->name.len);
    const char *last = dot != NULL ? dot + 1 : src->name.s;

    return src->stub && !f->stub && last[0] == '_' && !(last[1] == '_');
}

/* One round's interface of component module m from the current ones. */
static st_rc_t build_iface(ctx_t *c, const mod_t *m, iface_t *out, entvec_t *ev)
{
    const file_t *f = m->file;

    memset(out, 0, sizeof *out);
    ev->n = 0;
    out->name = f->name;
    out->open = f->getattr || f->dynamic || f->replaced;
    out->stub = f->stub;
    out->has_all = f->has_all;
    out->all = f->all;
    out->n_all = f->n_all;
    out->subs = f->subs;
    out->n_subs = f->n_subs;
    for (uint32_t i = 0; i < f->n_defs; i++) {
        ent_t e = def_ent(c, f, &f->defs[i]);
        e.name = xmod__nm_of(c, f->defs[i].name);
        if (e.name.len > 0)
            ev_push(c, ev, e);
    }
    for (uint32_t i = 0; i < f->n_dead; i++) { /* another target's: may exist */
        ent_t e = unknown_ent();
        e.name = f->dead[i];
        ev_push(c, ev, e);
    }
    for (uint32_t i = 0; i < f->n_star_from && !out->open; i++) {
        const imp_t *im = &f->imps[f->star_from[i]];
        const iface_t *src;
        if ((src = xmod__star_source(c, im, m->name)) == NULL || private_stub_of_source(f, src))
            out->open = true;
        else
            star_names(c, src, im->abs, ev);
    }
    if (c->oom)
        return ST_ENOMEM;
    out->names = ev->v;
    out->n_names = merge_ents(ev->v, ev->n);
    return ST_OK;
}

static bool iface_same(const iface_t *a, const iface_t *b)
{
    if (a->open != b->open || a->n_names != b->n_names)
        return false;
    for (uint32_t i = 0; i < a->n_names; i++)
        if (a->names[i].name.id != b->names[i].name.id || !ent_same(&a->names[i], &b->names[i]))
            return false;
    return true;
}

/* After the last round, what still moved is not known: entries that
 * changed are unknown, a module whose names changed is open. */
static void unsettle(iface_t *cur, const iface_t *prev)
{
    uint32_t j = 0;

    if (cur->open != prev->open || cur->n_names != prev->n_names)
        cur->open = true;
    for (uint32_t i = 0; i < cur->n_names; i++) {
        while (j < prev->n_names && xmod__nm_cmp(&prev->names[j].name, &cur->names[i].name) < 0)
            j++;
        if (j < prev->n_names && prev->names[j].name.id == cur->names[i].name.id) {
            if (!ent_same(&prev->names[j], &cur->names[i])) {
                nm_t nm = cur->names[i].name;
                cur->names[i] = unknown_ent();
                cur->names[i].name = nm;
            }
        } else {
            cur->open = true;
        }
    }
}

/* Rounds alternate between two sets of interfaces (and of entry vectors,
 * whose capacity is reused): a round reads only the previous one. */
st_rc_t xmod__compute_ifaces(ctx_t *c)
{
    iface_t *ifs[2];
    entvec_t *evs[2];
    bool settled = false;

    if (c->n_comp == 0)
        return ST_OK;
    for (int k = 0; k < 2; k++) {
        ifs[k] = xmod__alloc_n(c, c->n_comp, sizeof *ifs[k]);
        evs[k] = xmod__alloc_n(c, c->n_comp, sizeof *evs[k]);
        if (c->oom)
            return ST_ENOMEM;
        memset(evs[k], 0, (size_t)c->n_comp * sizeof *evs[k]);
    }
    for (uint32_t i = 0; i < c->n_comp; i++) { /* round 0: empty and closed */
        const file_t *f = c->mods[i].file;
        iface_t *z = &ifs[0][i];
        memset(z, 0, sizeof *z);
        z->name = f->name;
        z->has_all = f->has_all;
        z->all = f->all;
        z->n_all = f->n_all;
        z->subs = f->subs;
        z->n_subs = f->n_subs;
        c->mods[i].iface = z;
    }
    for (int round = 0; round < MAX_ROUNDS && !settled; round++) {
        iface_t *prev = ifs[round & 1], *next = ifs[(round + 1) & 1];
        entvec_t *ev = evs[(round + 1) & 1];
        for (uint32_t i = 0; i < c->n_comp; i++)
            ST_TRY(build_iface(c, &c->mods[i], &next[i], &ev[i]));
        settled = true;
        for (uint32_t i = 0; i < c->n_comp; i++)
            settled = settled && iface_same(&next[i], &prev[i]);
        if (!settled && round + 1 == MAX_ROUNDS)
            for (uint32_t i = 0; i < c->n_comp; i++)
                unsettle(&next[i], &prev[i]);
        for (uint32_t i = 0; i < c->n_comp; i++)
            c->mods[i].iface = &next[i];
    }
    return ST_OK;
}
