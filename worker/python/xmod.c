/* xmod.c - the check job of one import-graph component (see xmod.h): the job
 * itself and the helpers of its model (xmod_int.h).
 *
 * The job decodes its whole input first (xmod_input.c: every index and
 * count checked), interning every string so that names compare as ids. It
 * then computes the component's interfaces by rounds (xmod_iface.c); the
 * rules read the final interfaces (xmod_rules.c, xmod_cycles.c); each
 * file's diagnostics get its `# noqa` ranges, then everything is encoded in
 * input order (xmod_result.c). The job is a pure function of its input
 * bytes: its result is cached under their digest.
 *
 * Precision first: every rule says nothing when a fact it needs is unknown
 * (a module not given, an open interface, a name bound twice, a decorated
 * function, a guarded use). Nothing recurses over input data: chains and
 * re-exports are walked by loops bounded by the input's own sizes. */
#include "worker/python/xmod_int.h"

#include <string.h>

/* ---- the model's helpers ------------------------------------------------------ */

void *xmod__alloc_n(ctx_t *c, size_t n, size_t size)
{
    size_t bytes;
    void *p;

    if (!st_mul_size(n, size, &bytes) || (p = arena_alloc(c->a, bytes ? bytes : 1)) == NULL) {
        c->oom = true;
        return NULL;
    }
    return p;
}

nm_t xmod__nm_of(const ctx_t *c, uint32_t id)
{
    nm_t n = {"", 0, id};
    size_t len;
    const char *s = intern_str(c->in, id, &len);

    if (s != NULL) {
        n.s = s;
        n.len = (uint32_t)len;
    }
    return n;
}

st_rc_t xmod__intern_id(ctx_t *c, const char *s, size_t len, uint32_t *id)
{
    st_rc_t rc = intern_get_or_add(c->in, s, len, id);
    if (rc == ST_ENOMEM)
        c->oom = true;
    return rc == ST_ENOMEM ? ST_ENOMEM : rc == ST_OK ? ST_OK : ST_ECORRUPT;
}

int xmod__nm_cmp(const nm_t *a, const nm_t *b)
{
    uint32_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->s, b->s, n);

    if (c != 0)
        return c;
    return a->len < b->len ? -1 : a->len > b->len ? 1 : 0;
}

static int nm_qcmp(const void *pa, const void *pb)
{
    return xmod__nm_cmp(pa, pb);
}

int xmod__ent_qcmp(const void *pa, const void *pb)
{
    return xmod__nm_cmp(&((const ent_t *)pa)->name, &((const ent_t *)pb)->name);
}

/* Sorts names and drops duplicates; returns the new count. */
uint32_t xmod__nm_sort_unique(nm_t *v, uint32_t n)
{
    uint32_t j = 0;

    if (n > 1)
        qsort(v, n, sizeof *v, nm_qcmp);
    for (uint32_t i = 0; i < n; i++)
        if (j == 0 || v[j - 1].id != v[i].id)
            v[j++] = v[i];
    return j;
}

int xmod__xmeth_qcmp(const void *pa, const void *pb)
{
    return xmod__nm_cmp(&((const xmeth_t *)pa)->name, &((const xmeth_t *)pb)->name);
}

int xmod__xcls_qcmp(const void *pa, const void *pb)
{
    return xmod__nm_cmp(&((const xcls_t *)pa)->name, &((const xcls_t *)pb)->name);
}

bool xmod__nm_in(const nm_t *v, uint32_t n, const nm_t *key)
{
    return n > 0 && bsearch(key, v, n, sizeof *v, nm_qcmp) != NULL;
}

const ent_t *xmod__iface_find(const iface_t *f, const nm_t *name)
{
    ent_t key = {.name = *name};
    if (f == NULL || f->n_names == 0)
        return NULL;
    return bsearch(&key, f->names, f->n_names, sizeof key, xmod__ent_qcmp);
}

/* The id of "prefix.name"; NONE when absent and add is false. */
uint32_t xmod__join_id(ctx_t *c, uint32_t prefix, uint32_t name, bool add)
{
    nm_t p = xmod__nm_of(c, prefix), n = xmod__nm_of(c, name);
    char buf[SUMMARY_MAX_NAME * 2 + 2];
    uint32_t id;

    if (p.len + n.len + 1 > sizeof buf || p.len == 0 || n.len == 0)
        return NONE;
    memcpy(buf, p.s, p.len);
    buf[p.len] = '.';
    memcpy(buf + p.len + 1, n.s, n.len);
    if (!add)
        return intern_find(c->in, buf, p.len + 1 + n.len);
    return xmod__intern_id(c, buf, p.len + 1 + n.len, &id) == ST_OK ? id : NONE;
}

uint32_t xmod__top_id(ctx_t *c, uint32_t dotted)
{
    nm_t d = xmod__nm_of(c, dotted);
    const char *dot = d.len ? memchr(d.s, '.', d.len) : NULL;
    uint32_t id;

    if (dot == NULL)
        return d.len ? dotted : NONE;
    if (dot == d.s)
        return NONE;
    return xmod__intern_id(c, d.s, (size_t)(dot - d.s), &id) == ST_OK ? id : NONE;
}

mod_t *xmod__mod_get(const ctx_t *c, uint32_t name)
{
    uint64_t v;
    if (name == NONE || hmap_get_u64(c->by_name, name, &v) != ST_OK)
        return NULL;
    return &c->mods[v];
}

iface_t *xmod__mod_iface(const ctx_t *c, uint32_t name)
{
    mod_t *m = xmod__mod_get(c, name);
    return m != NULL ? m->iface : NULL;
}

bool xmod__stub_omits(const iface_t *f, const nm_t *n)
{
    return f->stub && n->len > 0 && n->s[0] == '_' && !xmod__is_dunder(n);
}

bool xmod__is_dunder(const nm_t *n)
{
    return n->len > 4 && memcmp(n->s, "__", 2) == 0 && memcmp(n->s + n->len - 2, "__", 2) == 0;
}

bool xmod__is_sub(ctx_t *c, const iface_t *f, uint32_t mod, const nm_t *name)
{
    if (f != NULL && xmod__nm_in(f->subs, f->n_subs, name))
        return true;
    return xmod__mod_get(c, xmod__join_id(c, mod, name->id, false)) != NULL;
}

/* ---- decoded strings into the model ------------------------------------------- */

st_rc_t xmod__str_id(ctx_t *c, sum_str_t s, uint32_t *id)
{
    return xmod__intern_id(c, s.s, s.len, id);
}

st_rc_t xmod__str_nm(ctx_t *c, sum_str_t s, nm_t *out)
{
    uint32_t id;
    ST_TRY(xmod__str_id(c, s, &id));
    *out = xmod__nm_of(c, id);
    return ST_OK;
}

st_rc_t xmod__str_nms(ctx_t *c, const sum_str_t *v, uint32_t n, nm_t **out)
{
    nm_t *p = xmod__alloc_n(c, n, sizeof *p);

    if (p == NULL)
        return ST_ENOMEM;
    for (uint32_t i = 0; i < n; i++)
        ST_TRY(xmod__str_nm(c, v[i], &p[i]));
    *out = p;
    return ST_OK;
}

st_rc_t xmod__sig(ctx_t *c, const sum_sig_t *s, csig_t *g)
{
    g->flags = s->flags;
    g->n = s->n;
    if ((g->p = xmod__alloc_n(c, s->n, sizeof *g->p)) == NULL)
        return ST_ENOMEM;
    for (uint32_t i = 0; i < s->n; i++) {
        ST_TRY(xmod__str_nm(c, s->p[i].name, &g->p[i].name));
        g->p[i].kind = s->p[i].kind;
        g->p[i].dflt = s->p[i].has_default;
    }
    return ST_OK;
}

/* ---- the job ------------------------------------------------------------------------ */

static st_rc_t run_checks(ctx_t *c)
{
    ST_TRY(xmod__compute_ifaces(c));
    ST_TRY(xmod__collect_stores(c));
    ST_TRY(xmod__class_facts(c));
    for (uint32_t i = 0; i < c->n_files; i++) {
        xmod__check_file(c, &c->files[i]);
        xmod__check_selfreads(c, &c->files[i]);
        if (c->oom)
            return ST_ENOMEM;
    }
    ST_TRY(xmod__check_cycles(c));
    for (uint32_t i = 0; i < c->n_files; i++) {
        file_t *f = &c->files[i];
        if (f->diags.oom)
            return ST_ENOMEM;
        xmod__finish_file(c, f);
    }
    return c->oom ? ST_ENOMEM : ST_OK;
}

st_rc_t check_run(span_t input, arena_t *a, span_t *out, st_err_t *err)
{
    ctx_t c;
    mpread_t r;
    st_rc_t rc;

    memset(&c, 0, sizeof c);
    c.a = a;
    if ((c.in = intern_new_arena(a)) == NULL)
        return st_fail(err, ST_ENOMEM, "check: arena exhausted");
    mpread_init(&r, input.ptr, input.len);
    rc = xmod__read_input(&c, &r);
    if (rc == ST_OK && c.oom)
        rc = ST_ENOMEM;
    if (rc != ST_OK)
        return st_fail(err, c.oom ? ST_ENOMEM : rc, "check: %s input near byte %zu",
                       c.oom ? "arena exhausted reading the" : "malformed", r.pos);
    if ((rc = xmod__prepare(&c)) != ST_OK || (rc = run_checks(&c)) != ST_OK)
        return st_fail(err, rc, "check: arena exhausted running the checks");
    if ((rc = xmod__encode(&c, out)) != ST_OK)
        return st_fail(err, rc, "check: arena exhausted encoding the result");
    return ST_OK;
}
