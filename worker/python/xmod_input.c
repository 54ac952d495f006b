/* xmod_input.c - the check job's input document (xmod.h): its one encoder
 * (check_input_*, used by run/project_jobs.c and the tests) and its decoder into
 * the model (xmod_int.h), then the indexes the rules need.
 *
 * The decoder reads each module's summary with summary.h's decoder and each
 * interface with xmod_iface.c's, then interns every string: the model
 * compares names as ids. Every count and index is checked on the way in, so
 * nothing after this file meets a bad one. */
#include "worker/python/xmod_int.h"

#include <stdlib.h>
#include <string.h>

/* ---- writing ------------------------------------------------------------------ */

void check_input_begin(mpbuf_t *w, uint32_t n_modules)
{
    check_input_begin_env(w, n_modules, NULL);
}

void check_input_begin_env(mpbuf_t *w, uint32_t n_modules, const char *python)
{
    msgpack_pack_map(&w->pk, python != NULL ? 4 : 3);
    mpbuf_cstr(&w->pk, "v");
    msgpack_pack_uint32(&w->pk, CHECK_INPUT_VERSION);
    if (python != NULL) {
        mpbuf_cstr(&w->pk, "python");
        mpbuf_cstr(&w->pk, python);
    }
    mpbuf_cstr(&w->pk, "modules");
    msgpack_pack_array(&w->pk, n_modules);
}

void check_input_module(mpbuf_t *w, const check_input_module_t *m)
{
    msgpack_pack_map(&w->pk, 7 + (uint32_t)m->replaced + (uint32_t)m->stub);
    if (m->replaced) {
        mpbuf_cstr(&w->pk, "open");
        mpbuf_bool(&w->pk, true);
    }
    if (m->stub) {
        mpbuf_cstr(&w->pk, "stub");
        mpbuf_bool(&w->pk, true);
    }
    mpbuf_cstr(&w->pk, "name");
    mpbuf_cstr(&w->pk, m->name);
    mpbuf_cstr(&w->pk, "file");
    msgpack_pack_uint32(&w->pk, m->file);
    mpbuf_cstr(&w->pk, "pkg");
    mpbuf_bool(&w->pk, m->pkg);
    mpbuf_cstr(&w->pk, "export");
    mpbuf_bool(&w->pk, m->export);
    mpbuf_cstr(&w->pk, "subs");
    msgpack_pack_array(&w->pk, m->n_subs);
}

void check_input_sub(mpbuf_t *w, const char *sub)
{
    mpbuf_cstr(&w->pk, sub);
}

void check_input_summary(mpbuf_t *w, span_t summary)
{
    mpbuf_cstr(&w->pk, "summary");
    mpbuf_raw(w, summary.ptr, summary.len);
}

void check_input_summary_key(mpbuf_t *w, const digest_t *scan_key)
{
    mpbuf_cstr(&w->pk, "summary");
    mpbuf_bin(&w->pk, scan_key->b, sizeof scan_key->b);
}

void check_input_res(mpbuf_t *w, uint32_t n_imports)
{
    mpbuf_cstr(&w->pk, "res");
    msgpack_pack_array(&w->pk, n_imports);
}

void check_input_resolved(mpbuf_t *w, uint32_t kind, const char *abs)
{
    msgpack_pack_array(&w->pk, 2);
    msgpack_pack_uint32(&w->pk, kind);
    mpbuf_cstr(&w->pk, abs);
}

void check_input_ifaces(mpbuf_t *w, uint32_t n_ifaces)
{
    mpbuf_cstr(&w->pk, "ifaces");
    msgpack_pack_array(&w->pk, n_ifaces);
}

void check_input_iface(mpbuf_t *w, span_t iface)
{
    mpbuf_raw(w, iface.ptr, iface.len);
}

void check_input_iface_key(mpbuf_t *w, const char *name, const digest_t *iface_digest)
{
    msgpack_pack_array(&w->pk, 2);
    mpbuf_cstr(&w->pk, name);
    mpbuf_bin(&w->pk, iface_digest->b, sizeof iface_digest->b);
}

/* ---- reading -------------------------------------------------------------------- */

static st_rc_t rd_bool(mpread_t *r, bool *v)
{
    return mpread_bool(r, v) == ST_OK ? ST_OK : ST_ECORRUPT;
}

/* An array of n elements of at least min bytes each (so that a count the
 * bytes cannot hold is refused before it allocates), into *v. */
static st_rc_t rd_array(ctx_t *c, mpread_t *r, size_t min, size_t size, void **v, uint32_t *n)
{
    if (mpread_array_min(r, min, n) != ST_OK)
        return ST_ECORRUPT;
    *v = xmod__alloc_n(c, *n, size);
    return *v != NULL ? ST_OK : ST_ENOMEM;
}

static st_rc_t rd_nm(ctx_t *c, mpread_t *r, nm_t *out)
{
    sum_str_t s;
    ST_TRY(summary_read_str(r, &s));
    return xmod__str_nm(c, s, out);
}

static st_rc_t rd_nms(ctx_t *c, mpread_t *r, nm_t **v, uint32_t *n)
{
    ST_TRY(rd_array(c, r, 1, sizeof **v, (void **)v, n));
    for (uint32_t i = 0; i < *n; i++)
        ST_TRY(rd_nm(c, r, &(*v)[i]));
    return ST_OK;
}

static st_rc_t ids_of(ctx_t *c, const sum_str_t *v, uint32_t n, uint32_t **out)
{
    uint32_t *ids = xmod__alloc_n(c, n, sizeof *ids);

    if (ids == NULL)
        return ST_ENOMEM;
    for (uint32_t i = 0; i < n; i++)
        ST_TRY(xmod__str_id(c, v[i], &ids[i]));
    *out = ids;
    return ST_OK;
}

/* The summary's tables, into the model: what is read from where. */
static st_rc_t take_imports(ctx_t *c, const summary_doc_t *s, file_t *f)
{
    if ((f->imps = xmod__alloc_n(c, s->n_imports, sizeof *f->imps)) == NULL)
        return ST_ENOMEM;
    f->n_imps = s->n_imports;
    for (uint32_t i = 0; i < s->n_imports; i++) {
        const sum_import_t *e = &s->imports[i];
        imp_t *m = &f->imps[i];
        memset(m, 0, sizeof *m);
        m->kind = e->kind;
        m->level = e->level;
        ST_TRY(xmod__str_id(c, e->module, &m->module));
        ST_TRY(xmod__str_id(c, e->name, &m->name));
        ST_TRY(xmod__str_id(c, e->asname, &m->asname));
        m->line = e->line;
        m->col = e->col;
        m->flags = e->flags;
        m->abs = NONE;
        m->res = R_UNRESOLVED;
    }
    return ST_OK;
}

static st_rc_t take_defs(ctx_t *c, const summary_doc_t *s, file_t *f)
{
    if ((f->defs = xmod__alloc_n(c, s->n_defs, sizeof *f->defs)) == NULL ||
        (f->sigs = xmod__alloc_n(c, s->n_sigs, sizeof *f->sigs)) == NULL)
        return ST_ENOMEM;
    f->n_defs = s->n_defs;
    for (uint32_t i = 0; i < s->n_defs; i++) {
        const sum_def_t *e = &s->defs[i];
        def_t *d = &f->defs[i];
        memset(d, 0, sizeof *d);
        ST_TRY(xmod__str_id(c, e->name, &d->name));
        d->kind = e->kind;
        d->line = e->line;
        d->sig = e->sig;
        d->flags = e->flags;
    }
    f->n_sigs = s->n_sigs;
    for (uint32_t i = 0; i < s->n_sigs; i++)
        ST_TRY(xmod__sig(c, &s->sigs[i], &f->sigs[i]));
    for (uint32_t i = 0; i < s->n_defs; i++) {
        const sum_def_t *e = &s->defs[i];
        def_t *d = &f->defs[i];
        if (e->ovl == NULL || e->n_ovl == 0)
            continue;
        if ((d->ovl = xmod__alloc_n(c, e->n_ovl, sizeof *d->ovl)) == NULL)
            return ST_ENOMEM;
        for (uint32_t k = 0; k < e->n_ovl; k++) {
            if (e->ovl[k] < 0 || e->ovl[k] >= s->n_sigs)
                return ST_ECORRUPT; /* summary_read checked it: never */
            d->ovl[k] = &f->sigs[e->ovl[k]];
        }
        d->n_ovl = e->n_ovl;
    }
    return ST_OK;
}

static st_rc_t take_classes(ctx_t *c, const summary_doc_t *s, file_t *f)
{
    if ((f->classes = xmod__alloc_n(c, s->n_classes, sizeof *f->classes)) == NULL)
        return ST_ENOMEM;
    f->n_classes = s->n_classes;
    for (uint32_t i = 0; i < s->n_classes; i++) {
        const sum_class_t *e = &s->classes[i];
        cls_t *k = &f->classes[i];
        memset(k, 0, sizeof *k);
        ST_TRY(xmod__str_id(c, e->name, &k->name));
        ST_TRY(ids_of(c, e->bases, e->n_bases, &k->bases));
        k->n_bases = e->n_bases;
        if ((k->members = xmod__alloc_n(c, e->n_members, sizeof *k->members)) == NULL)
            return ST_ENOMEM;
        k->n_members = e->n_members;
        for (uint32_t j = 0; j < e->n_members; j++) {
            ST_TRY(xmod__str_id(c, e->members[j].name, &k->members[j].name));
            k->members[j].kind = e->members[j].kind;
            k->members[j].sig = e->members[j].sig;
        }
        k->flags = e->flags;
        k->line = e->line;
        if (e->flags != SUM_CLASS_FLAGS_UNKNOWN && (e->flags & SUM_CLASS_SEEN)) {
            ST_TRY(xmod__str_nms(c, e->attrs, e->n_attrs, &k->attrs));
            k->n_attrs = e->n_attrs;
            ST_TRY(xmod__str_nms(c, e->plain, e->n_plain, &k->plain));
            k->n_plain = xmod__nm_sort_unique(k->plain, e->n_plain);
        }
    }
    if ((f->selfreads = xmod__alloc_n(c, s->n_selfreads, sizeof *f->selfreads)) == NULL)
        return ST_ENOMEM;
    f->n_selfreads = s->n_selfreads;
    for (uint32_t i = 0; i < s->n_selfreads; i++) {
        const sum_selfread_t *e = &s->selfreads[i];
        f->selfreads[i].cls_line = e->class_line;
        f->selfreads[i].line = e->line;
        f->selfreads[i].col = e->col;
        ST_TRY(xmod__str_nm(c, e->name, &f->selfreads[i].name));
        f->selfreads[i].instance = e->instance;
        if ((f->selfreads[i].is_call = e->call)) {
            call_t *k = &f->selfreads[i].call;
            memset(k, 0, sizeof *k);
            k->use = -1;
            k->npos = e->npos;
            k->nkw = e->nkw;
            if ((k->kw = xmod__alloc_n(c, e->nkw, sizeof *k->kw)) == NULL)
                return ST_ENOMEM;
            for (uint32_t j = 0; j < e->nkw; j++)
                ST_TRY(xmod__str_id(c, e->kw[j], &k->kw[j]));
        }
    }
    return ST_OK;
}

static st_rc_t take_uses(ctx_t *c, const summary_doc_t *s, file_t *f)
{
    if ((f->uses = xmod__alloc_n(c, s->n_uses, sizeof *f->uses)) == NULL ||
        (f->calls = xmod__alloc_n(c, s->n_calls, sizeof *f->calls)) == NULL)
        return ST_ENOMEM;
    f->n_uses = s->n_uses;
    for (uint32_t i = 0; i < s->n_uses; i++) {
        const sum_use_t *e = &s->uses[i];
        use_t *u = &f->uses[i];
        memset(u, 0, sizeof *u);
        u->imp = e->imp;
        ST_TRY(ids_of(c, e->chain, e->n, &u->chain));
        u->n = e->n;
        u->line = e->line;
        u->col = e->col;
        u->flags = e->flags;
    }
    f->n_calls = s->n_calls;
    for (uint32_t i = 0; i < s->n_calls; i++) {
        const sum_call_t *e = &s->calls[i];
        call_t *k = &f->calls[i];
        k->use = e->use;
        k->npos = e->npos;
        ST_TRY(ids_of(c, e->kw, e->nkw, &k->kw));
        k->nkw = e->nkw;
        k->star = e->star;
        k->dstar = e->dstar;
    }
    return ST_OK;
}

static st_rc_t take_stars_noqa(ctx_t *c, const summary_doc_t *s, file_t *f)
{
    uint32_t id;

    if ((f->stars = xmod__alloc_n(c, s->n_stars, sizeof *f->stars)) == NULL ||
        (f->noqa = xmod__alloc_n(c, s->n_noqa, sizeof *f->noqa)) == NULL)
        return ST_ENOMEM;
    f->n_stars = s->n_stars;
    for (uint32_t i = 0; i < s->n_stars; i++) {
        const sum_star_t *e = &s->stars[i];
        ST_TRY(xmod__str_id(c, e->name, &f->stars[i].name));
        f->stars[i].line = e->line;
        f->stars[i].col = e->col;
        f->stars[i].in_all = e->in_all;
        f->stars[i].local = e->local;
    }
    f->n_noqa = s->n_noqa;
    for (uint32_t i = 0; i < s->n_noqa; i++) {
        const sum_noqa_t *e = &s->noqa[i];
        noqa_t *q = &f->noqa[i];
        q->first = e->first;
        q->last = e->last;
        q->codes = NULL;
        q->n = 0;
        if (e->codes == NULL)
            continue;
        if ((q->codes = xmod__alloc_n(c, e->n, sizeof *q->codes)) == NULL)
            return ST_ENOMEM;
        q->n = e->n;
        for (uint32_t k = 0; k < e->n; k++) {
            ST_TRY(xmod__str_id(c, e->codes[k], &id));
            q->codes[k] = xmod__nm_of(c, id).s;
        }
    }
    return ST_OK;
}

static st_rc_t rd_summary(ctx_t *c, mpread_t *r, file_t *f)
{
    summary_doc_t s;
    st_rc_t rc = summary_read(r, c->a, &s);

    if (rc == ST_ENOMEM)
        c->oom = true;
    ST_TRY(rc);
    ST_TRY(take_imports(c, &s, f));
    ST_TRY(take_defs(c, &s, f));
    ST_TRY(take_classes(c, &s, f));
    if ((f->has_all = s.has_all))
        ST_TRY(xmod__str_nms(c, s.all, s.n_all, &f->all));
    f->n_all = s.has_all ? s.n_all : 0;
    f->getattr = s.getattr;
    f->dynamic = s.dynamic;
    ST_TRY(xmod__str_nms(c, s.dead, s.n_dead, &f->dead));
    f->n_dead = s.n_dead;
    ST_TRY(take_uses(c, &s, f));
    ST_TRY(take_stars_noqa(c, &s, f));
    f->has_summary = true;
    return ST_OK;
}

/* "res": one [kind, abs] per import; decoded into the imports once both
 * are known (the keys may come in any order). */
static st_rc_t rd_res(ctx_t *c, mpread_t *r, file_t *f)
{
    uint32_t n, tn;
    uint64_t kind;
    sum_str_t abs;

    if (mpread_array(r, &n) != ST_OK || n != f->n_imps)
        return ST_ECORRUPT;
    for (uint32_t i = 0; i < n; i++) {
        if (mpread_array(r, &tn) != ST_OK || tn < 2 || mpread_uint(r, &kind) != ST_OK ||
            kind > R_MISSING)
            return ST_ECORRUPT;
        ST_TRY(summary_read_str(r, &abs));
        ST_TRY(xmod__str_id(c, abs, &f->imps[i].abs));
        f->imps[i].res = (uint8_t)kind;
        for (uint32_t k = 2; k < tn; k++)
            if (mpread_skip(r) != ST_OK)
                return ST_ECORRUPT;
    }
    f->n_res = n;
    f->has_res = true;
    return ST_OK;
}

/* One key of a module's map and its value. */
static st_rc_t rd_module_entry(ctx_t *c, mpread_t *r, file_t *f, bool *has_name, bool *has_file,
                               size_t *res_pos)
{
    if (mpread_key(r, "name")) {
        ST_TRY(rd_nm(c, r, &f->name));
        *has_name = f->name.len > 0;
    } else if (mpread_key(r, "file")) {
        ST_TRY(mpread_u32(r, &f->file));
        *has_file = true;
    } else if (mpread_key(r, "pkg")) {
        ST_TRY(rd_bool(r, &f->pkg));
    } else if (mpread_key(r, "export")) {
        ST_TRY(rd_bool(r, &f->export));
    } else if (mpread_key(r, "open")) {
        ST_TRY(rd_bool(r, &f->replaced));
    } else if (mpread_key(r, "stub")) {
        ST_TRY(rd_bool(r, &f->stub));
    } else if (mpread_key(r, "subs")) {
        ST_TRY(rd_nms(c, r, &f->subs, &f->n_subs));
    } else if (mpread_key(r, "summary")) {
        if (f->has_summary)
            return ST_ECORRUPT;
        ST_TRY(rd_summary(c, r, f));
    } else if (mpread_key(r, "res")) {
        *res_pos = r->pos; /* read once the imports are known */
        if (mpread_skip(r) != ST_OK)
            return ST_ECORRUPT;
    } else if (mpread_skip(r) != ST_OK || mpread_skip(r) != ST_OK) {
        return ST_ECORRUPT;
    }
    return ST_OK;
}

static st_rc_t rd_module(ctx_t *c, mpread_t *r, file_t *f)
{
    uint32_t n;
    bool has_name = false, has_file = false;
    size_t res_pos = SIZE_MAX;
    mpread_t rr;

    if (mpread_map(r, &n) != ST_OK)
        return ST_ECORRUPT;
    for (uint32_t k = 0; k < n; k++)
        ST_TRY(rd_module_entry(c, r, f, &has_name, &has_file, &res_pos));
    if (!has_name || !has_file || !f->has_summary || res_pos == SIZE_MAX)
        return ST_ECORRUPT;
    rr = *r;
    rr.pos = res_pos;
    ST_TRY(rd_res(c, &rr, f));
    f->n_subs = xmod__nm_sort_unique(f->subs, f->n_subs);
    return ST_OK;
}

st_rc_t xmod__read_input(ctx_t *c, mpread_t *r)
{
    uint32_t n;
    uint64_t v = 0;
    bool has_mods = false;

    if (mpread_map(r, &n) != ST_OK)
        return ST_ECORRUPT;
    for (uint32_t k = 0; k < n; k++) {
        if (mpread_key(r, "v")) {
            if (mpread_uint(r, &v) != ST_OK || v != CHECK_INPUT_VERSION)
                return ST_ECORRUPT;
        } else if (mpread_key(r, "modules")) {
            if (has_mods)
                return ST_ECORRUPT;
            ST_TRY(rd_array(c, r, 10, sizeof *c->files, (void **)&c->files, &c->n_files));
            memset(c->files, 0, (size_t)c->n_files * sizeof *c->files);
            for (uint32_t i = 0; i < c->n_files; i++)
                ST_TRY(rd_module(c, r, &c->files[i]));
            has_mods = true;
        } else if (mpread_key(r, "python")) {
            if (c->python.len > 0)
                return ST_ECORRUPT;
            ST_TRY(rd_nm(c, r, &c->python));
        } else if (mpread_key(r, "ifaces")) {
            if (c->ext != NULL)
                return ST_ECORRUPT;
            ST_TRY(rd_array(c, r, 3, sizeof *c->ext, (void **)&c->ext, &c->n_ext));
            for (uint32_t i = 0; i < c->n_ext; i++)
                ST_TRY(xmod__read_iface(c, r, &c->ext[i]));
        } else if (mpread_skip(r) != ST_OK || mpread_skip(r) != ST_OK) {
            return ST_ECORRUPT;
        }
    }
    return has_mods && v == CHECK_INPUT_VERSION ? ST_OK : ST_ECORRUPT;
}

/* ---- preparing the model -------------------------------------------------- */

/* The bound name of each import, and which import binds each name. */
static st_rc_t index_bindings(ctx_t *c, file_t *f)
{
    if ((f->bound = hmap_new_arena(c->a, HMAP_U64)) == NULL)
        return ST_ENOMEM;
    for (uint32_t i = 0; i < f->n_imps; i++) {
        imp_t *m = &f->imps[i];
        uint64_t prev;
        m->bound = NONE;
        if (m->kind == SUM_IMPORT)
            m->bound = xmod__nm_of(c, m->asname).len ? m->asname : xmod__top_id(c, m->module);
        else if (m->kind == SUM_FROM)
            m->bound = xmod__nm_of(c, m->asname).len ? m->asname : m->name;
        if (m->bound == NONE || xmod__nm_of(c, m->bound).len == 0)
            continue;
        uint64_t val = (uint64_t)i | (uint64_t)(m->flags & SUM_NESTED) << 32;
        if (hmap_get_u64(f->bound, m->bound, &prev) == ST_OK) {
            bool pn = (prev >> 32) & SUM_NESTED, nn = m->flags & SUM_NESTED;
            const imp_t *p = (prev & 0xffffffffu) != NONE ? &f->imps[prev & 0xffffffffu] : NULL;
            if (p != NULL && pn == nn && p->kind == SUM_IMPORT && m->kind == SUM_IMPORT &&
                xmod__nm_of(c, p->asname).len == 0 && xmod__nm_of(c, m->asname).len == 0)
                continue; /* `import a.b` and `import a.c` both bind module a */
            if (pn && !nn)
                prev = val; /* a module-level binding beats one in a function */
            else if (pn == nn)
                prev = NONE;
            val = prev;
        }
        if (hmap_put_u64(f->bound, m->bound, val) != ST_OK)
            return ST_ENOMEM;
    }
    return ST_OK;
}

const imp_t *xmod__binding_import(const file_t *f, uint32_t name)
{
    uint64_t v;
    if (hmap_get_u64(f->bound, name, &v) != ST_OK || (v & 0xffffffffu) == NONE)
        return NULL;
    return &f->imps[v & 0xffffffffu];
}

/* The constructor signature of a class when sure: a plain class (no
 * decorator, no keywords, no base but object) whose own __init__ is an
 * undecorated, non-overloaded function, and no __new__. Without self. */
static const csig_t *ctor_sig(ctx_t *c, const file_t *f, const cls_t *k)
{
    const csig_t *init = NULL;
    csig_t *g;
    int n_init = 0;

    if ((k->flags & (uint8_t) ~(SUM_CLASS_SEEN | SUM_CLASS_OPEN)) != 0)
        return NULL;
    for (uint32_t i = 0; i < k->n_bases; i++)
        if (strcmp(xmod__nm_of(c, k->bases[i]).s, "object") != 0)
            return NULL;
    for (uint32_t i = 0; i < k->n_members; i++) {
        const char *mn = xmod__nm_of(c, k->members[i].name).s;
        if (strcmp(mn, "__new__") == 0)
            return NULL;
        if (strcmp(mn, "__init__") == 0) {
            n_init++;
            if (k->members[i].kind == SUM_DEF_FUNCTION && k->members[i].sig >= 0)
                init = &f->sigs[k->members[i].sig];
        }
    }
    if (n_init != 1 || init == NULL ||
        (init->flags & (SUM_SIG_DECORATED | SUM_SIG_OVERLOAD)) != 0 || init->n == 0 ||
        init->p[0].kind > SUM_P_NORMAL)
        return NULL;
    if ((g = xmod__alloc_n(c, 1, sizeof *g)) == NULL)
        return NULL;
    g->flags = init->flags;
    g->n = init->n - 1;
    g->p = init->p + 1;
    return g;
}

/* Registers the modules: the component's (from their export files) and the
 * given interfaces; the first of a name wins. */
static st_rc_t index_modules(ctx_t *c)
{
    size_t total;

    if (!st_add_size(c->n_files, c->n_ext, &total) ||
        (c->mods = xmod__alloc_n(c, total, sizeof *c->mods)) == NULL ||
        (c->by_name = hmap_new_arena(c->a, HMAP_U64)) == NULL ||
        (c->stores = hmap_new_arena(c->a, HMAP_BYTES)) == NULL ||
        (c->r0401 = hmap_new_arena(c->a, HMAP_U64)) == NULL)
        return ST_ENOMEM;
    for (int pass = 0; pass < 2; pass++) {
        uint32_t n = pass == 0 ? c->n_files : c->n_ext;
        for (uint32_t i = 0; i < n; i++) {
            uint32_t name = pass == 0 ? c->files[i].name.id : c->ext[i].name.id;
            if ((pass == 0 && !c->files[i].export) || xmod__mod_get(c, name) != NULL)
                continue;
            mod_t *m = &c->mods[c->n_mods];
            m->name = name;
            m->file = pass == 0 ? &c->files[i] : NULL;
            m->iface = pass == 0 ? NULL : &c->ext[i];
            if (hmap_put_u64(c->by_name, name, c->n_mods) != ST_OK)
                return ST_ENOMEM;
            c->n_mods++;
        }
        if (pass == 0)
            c->n_comp = c->n_mods;
    }
    return ST_OK;
}

/* The file's star imports, the first of each module only. */
static st_rc_t index_stars(ctx_t *c, file_t *f)
{
    hmap_t *seen = hmap_new_arena(c->a, HMAP_U64);

    if (seen == NULL || (f->star_from = xmod__alloc_n(c, f->n_imps, sizeof *f->star_from)) == NULL)
        return ST_ENOMEM;
    for (uint32_t i = 0; i < f->n_imps; i++) {
        const imp_t *m = &f->imps[i];
        uint64_t key = (uint64_t)m->res << 32 | m->abs;
        if (m->kind != SUM_STAR || hmap_get_u64(seen, key, NULL) == ST_OK)
            continue;
        if (hmap_put_u64(seen, key, 1) != ST_OK)
            return ST_ENOMEM;
        f->star_from[f->n_star_from++] = i;
    }
    return ST_OK;
}

/* `@enum.global_enum` copies an enum's members into its module: they are
 * module attributes (variables) as much as the defs are. A member name the
 * module also binds is REBOUND. */
static st_rc_t add_global_enum_members(ctx_t *c, file_t *f)
{
    uint32_t extra = 0, n;
    def_t *defs;

    for (uint32_t k = 0; k < f->n_classes; k++)
        if (f->classes[k].flags & SUM_CLASS_GLOBAL_ENUM)
            extra += f->classes[k].n_members;
    if (extra == 0)
        return ST_OK;
    if ((defs = xmod__alloc_n(c, (size_t)f->n_defs + extra, sizeof *defs)) == NULL)
        return ST_ENOMEM;
    if (f->n_defs > 0) /* a summary without "defs" has none, and f->defs NULL */
        memcpy(defs, f->defs, f->n_defs * sizeof *defs);
    n = f->n_defs;
    for (uint32_t k = 0; k < f->n_classes; k++) {
        const cls_t *cl = &f->classes[k];
        if (!(cl->flags & SUM_CLASS_GLOBAL_ENUM))
            continue;
        for (uint32_t j = 0; j < cl->n_members; j++) {
            const member_t *m = &cl->members[j];
            bool dup = false;
            if (m->kind != SUM_DEF_VARIABLE)
                continue;
            for (uint32_t d = 0; d < n && !dup; d++)
                if (defs[d].name == m->name) {
                    defs[d].flags |= SUM_DEF_REBOUND;
                    dup = true;
                }
            if (!dup)
                defs[n++] = (def_t){.name = m->name, .kind = SUM_DEF_VARIABLE, .sig = -1};
        }
    }
    f->defs = defs;
    f->n_defs = n;
    return ST_OK;
}

st_rc_t xmod__prepare(ctx_t *c)
{
    ST_TRY(index_modules(c));
    for (uint32_t i = 0; i < c->n_files; i++) {
        file_t *f = &c->files[i];
        hmap_t *classes = hmap_new_arena(c->a, HMAP_U64);
        if (classes == NULL)
            return ST_ENOMEM;
        ST_TRY(add_global_enum_members(c, f));
        ST_TRY(index_bindings(c, f));
        ST_TRY(index_stars(c, f));
        for (uint32_t k = 0; k < f->n_classes; k++) {
            uint64_t v = hmap_get_u64(classes, f->classes[k].name, NULL) == ST_OK ? NONE : k;
            if (hmap_put_u64(classes, f->classes[k].name, v) != ST_OK)
                return ST_ENOMEM;
        }
        for (uint32_t k = 0; k < f->n_classes; k++)
            f->classes[k].ctor = ctor_sig(c, f, &f->classes[k]);
        for (uint32_t k = 0; k < f->n_defs; k++) {
            uint64_t v; /* no class of that name, or two: no signature */
            if (f->defs[k].kind == SUM_DEF_CLASS &&
                hmap_get_u64(classes, f->defs[k].name, &v) == ST_OK && v != NONE)
                f->defs[k].ctor = f->classes[v].ctor;
        }
        if (c->oom)
            return ST_ENOMEM;
        if (f->has_all)
            f->n_all = xmod__nm_sort_unique(f->all, f->n_all);
        diag_list_init(&f->diags, c->a);
    }
    return ST_OK;
}
