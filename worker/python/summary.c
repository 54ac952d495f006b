/* summary.c - builds and encodes a file's local summary (see summary.h).
 *
 * Entries are appended to arena-backed arrays while the checker walks; the
 * whole summary is thrown away with the job's arena once it is encoded. */
#include "summary.h"

#include <string.h>

typedef struct {
    const char *s;
    uint32_t len;
} str_t;

typedef struct {
    uint8_t kind, level, flags;
    str_t module, name, asname;
    uint32_t line, col;
} imp_t;

typedef struct {
    str_t name;
    uint8_t kind;
    uint8_t flags;
    uint32_t line;
    int32_t sig;
} def_t;

typedef struct {
    uint8_t flags;
    sum_param_t *params;
    uint32_t n;
} sig_t;

typedef struct {
    str_t name;
    uint8_t kind;
    int32_t sig;
} member_t;

typedef struct {
    str_t name;
    uint32_t line;
    str_t *bases;
    uint32_t n_bases;
    member_t *members;
    uint32_t n_members;
    uint8_t flags;
} cls_t;

typedef struct {
    int32_t import_index;
    str_t *chain;
    uint32_t n;
    uint32_t line, col;
    uint8_t flags;
} use_t;

typedef struct {
    int32_t use;
    uint32_t npos;
    str_t *kw;
    uint32_t nkw;
    bool star, dstar;
} call_t;

typedef struct {
    str_t name;
    uint32_t line, col;
    bool in_all;
} star_t;

typedef struct {
    uint32_t first, last;
    str_t *codes;
    uint32_t n;
    bool blanket;
} noqa_t;

#define VEC(T)                                                                                     \
    struct {                                                                                       \
        T *v;                                                                                      \
        uint32_t n, cap;                                                                           \
    }

struct summary {
    arena_t *a;
    bool oom;
    VEC(imp_t) imports;
    VEC(def_t) defs;
    VEC(sig_t) sigs;
    VEC(cls_t) classes;
    VEC(use_t) uses;
    VEC(call_t) calls;
    VEC(star_t) stars;
    VEC(noqa_t) noqa;
    str_t *all;
    uint32_t n_all;
    bool has_all;
    bool getattr;
    bool dynamic;
};

summary_t *summary_new(arena_t *a)
{
    summary_t *s = arena_calloc(a, 1, sizeof *s);
    if (s != NULL)
        s->a = a;
    return s;
}

/* Makes room for one more element of size elem in *v (n used, cap). */
static bool vec_grow(summary_t *s, void **v, uint32_t n, uint32_t *cap, size_t elem)
{
    uint32_t ncap;
    void *p;

    if (n < *cap)
        return true;
    ncap = *cap ? *cap * 2 : 8;
    if (ncap < *cap ||
        (p = arena_realloc(s->a, *v, (size_t)*cap * elem, (size_t)ncap * elem)) == NULL) {
        s->oom = true;
        return false;
    }
    *v = p;
    *cap = ncap;
    return true;
}

#define VEC_PUSH(s, vec)                                                                           \
    (vec_grow((s), (void **)&(vec).v, (vec).n, &(vec).cap, sizeof *(vec).v) ? &(vec).v[(vec).n++]  \
                                                                            : NULL)

static str_t copy_str(summary_t *s, const char *p, size_t len)
{
    str_t r = {"", 0};
    char *q;

    if (len == 0 || len > UINT32_MAX)
        return r;
    if ((q = arena_strndup(s->a, p, len)) == NULL) {
        s->oom = true;
        return r;
    }
    r.s = q;
    r.len = (uint32_t)len;
    return r;
}

int32_t summary_add_import(summary_t *s, int kind, int level, const char *module, size_t mlen,
                           const char *name, size_t nlen, const char *asname, size_t alen,
                           uint32_t line, uint32_t col, int flags)
{
    imp_t *e = VEC_PUSH(s, s->imports);
    if (e == NULL)
        return -1;
    e->kind = (uint8_t)kind;
    e->level = (uint8_t)(level > 255 ? 255 : level);
    e->flags = (uint8_t)flags;
    e->module = copy_str(s, module, mlen);
    e->name = copy_str(s, name, nlen);
    e->asname = copy_str(s, asname, alen);
    e->line = line;
    e->col = col;
    return (int32_t)(s->imports.n - 1);
}

int32_t summary_add_sig(summary_t *s, int flags, const sum_param_t *params, uint32_t n)
{
    sig_t *e = VEC_PUSH(s, s->sigs);
    if (e == NULL)
        return -1;
    e->flags = (uint8_t)flags;
    e->n = 0;
    e->params = n ? arena_alloc(s->a, (size_t)n * sizeof(sum_param_t)) : NULL;
    if (n && e->params == NULL) {
        s->oom = true;
        return -1;
    }
    for (uint32_t i = 0; i < n; i++) {
        str_t nm = copy_str(s, params[i].name, strlen(params[i].name));
        e->params[i] = params[i];
        e->params[i].name = nm.s;
    }
    e->n = n;
    return (int32_t)(s->sigs.n - 1);
}

int32_t summary_add_def(summary_t *s, const char *name, size_t len, int kind, uint32_t line,
                        int32_t sig, int flags)
{
    def_t *e = VEC_PUSH(s, s->defs);
    if (e == NULL)
        return -1;
    e->name = copy_str(s, name, len);
    e->kind = (uint8_t)kind;
    e->line = line;
    e->sig = sig;
    e->flags = (uint8_t)flags;
    return (int32_t)(s->defs.n - 1);
}

int32_t summary_add_class(summary_t *s, const char *name, size_t len, uint32_t line, int flags)
{
    cls_t *e = VEC_PUSH(s, s->classes);
    if (e == NULL)
        return -1;
    memset(e, 0, sizeof *e);
    e->name = copy_str(s, name, len);
    e->line = line;
    e->flags = (uint8_t)flags;
    return (int32_t)(s->classes.n - 1);
}

void summary_class_add_base(summary_t *s, int32_t cls, const char *dotted, size_t len)
{
    cls_t *c;
    str_t *p;

    if (cls < 0 || (uint32_t)cls >= s->classes.n)
        return;
    c = &s->classes.v[cls];
    p = arena_realloc(s->a, c->bases, (size_t)c->n_bases * sizeof(str_t),
                      ((size_t)c->n_bases + 1) * sizeof(str_t));
    if (p == NULL) {
        s->oom = true;
        return;
    }
    c->bases = p;
    c->bases[c->n_bases++] = copy_str(s, dotted, len);
}

void summary_class_add_member(summary_t *s, int32_t cls, const char *name, size_t len, int kind,
                              int32_t sig)
{
    cls_t *c;
    member_t *p;

    if (cls < 0 || (uint32_t)cls >= s->classes.n)
        return;
    c = &s->classes.v[cls];
    p = arena_realloc(s->a, c->members, (size_t)c->n_members * sizeof(member_t),
                      ((size_t)c->n_members + 1) * sizeof(member_t));
    if (p == NULL) {
        s->oom = true;
        return;
    }
    c->members = p;
    c->members[c->n_members].name = copy_str(s, name, len);
    c->members[c->n_members].kind = (uint8_t)kind;
    c->members[c->n_members].sig = sig;
    c->n_members++;
}

static str_t *copy_strs(summary_t *s, const char *const *p, const uint32_t *lens, uint32_t n)
{
    str_t *v;

    if (n == 0)
        return NULL;
    if ((v = arena_alloc(s->a, (size_t)n * sizeof(str_t))) == NULL) {
        s->oom = true;
        return NULL;
    }
    for (uint32_t i = 0; i < n; i++)
        v[i] = copy_str(s, p[i], lens[i]);
    return v;
}

void summary_set_all(summary_t *s, const char *const *names, const uint32_t *lens, uint32_t n)
{
    s->all = copy_strs(s, names, lens, n);
    s->n_all = s->all != NULL ? n : 0;
    s->has_all = true;
}

void summary_set_getattr(summary_t *s)
{
    s->getattr = true;
}

void summary_set_dynamic(summary_t *s)
{
    s->dynamic = true;
}

int32_t summary_add_use(summary_t *s, int32_t import_index, const char *const *chain,
                        const uint32_t *lens, uint32_t n, uint32_t line, uint32_t col, int flags)
{
    use_t *e = VEC_PUSH(s, s->uses);
    if (e == NULL)
        return -1;
    e->import_index = import_index;
    e->chain = copy_strs(s, chain, lens, n);
    e->n = e->chain != NULL ? n : 0;
    e->line = line;
    e->col = col;
    e->flags = (uint8_t)flags;
    return (int32_t)(s->uses.n - 1);
}

void summary_add_call(summary_t *s, int32_t use, uint32_t npos, const char *const *kw,
                      const uint32_t *kwlens, uint32_t nkw, bool star, bool dstar)
{
    call_t *e = VEC_PUSH(s, s->calls);
    if (e == NULL)
        return;
    e->use = use;
    e->npos = npos;
    e->kw = copy_strs(s, kw, kwlens, nkw);
    e->nkw = e->kw != NULL ? nkw : 0;
    e->star = star;
    e->dstar = dstar;
}

void summary_add_star(summary_t *s, const char *name, size_t len, uint32_t line, uint32_t col,
                      bool in_all)
{
    star_t *e = VEC_PUSH(s, s->stars);
    if (e == NULL)
        return;
    e->name = copy_str(s, name, len);
    e->line = line;
    e->col = col;
    e->in_all = in_all;
}

void summary_add_noqa(summary_t *s, uint32_t first, uint32_t last, const char *const *codes,
                      const uint32_t *lens, uint32_t n)
{
    noqa_t *e = VEC_PUSH(s, s->noqa);
    if (e == NULL)
        return;
    e->first = first;
    e->last = last;
    e->blanket = n == 0;
    e->codes = copy_strs(s, codes, lens, n);
    e->n = e->codes != NULL ? n : 0;
}

/* The padding inserted on line, or 0. */
static uint32_t pad_of(const uint32_t *lines, const uint32_t *widths, uint32_t n, uint32_t line)
{
    for (uint32_t k = 0; k < n; k++)
        if (lines[k] == line)
            return widths[k];
    return 0;
}

void summary_unpad_columns(summary_t *s, const uint32_t *lines, const uint32_t *widths, uint32_t n)
{
    uint32_t w;

    if (n == 0)
        return;
    for (uint32_t i = 0; i < s->imports.n; i++)
        if ((w = pad_of(lines, widths, n, s->imports.v[i].line)) > 0)
            s->imports.v[i].col = s->imports.v[i].col > w ? s->imports.v[i].col - w : 0;
    for (uint32_t i = 0; i < s->uses.n; i++)
        if ((w = pad_of(lines, widths, n, s->uses.v[i].line)) > 0)
            s->uses.v[i].col = s->uses.v[i].col > w ? s->uses.v[i].col - w : 0;
    for (uint32_t i = 0; i < s->stars.n; i++) /* 1-based, as scan.c moves diagnostics */
        if ((w = pad_of(lines, widths, n, s->stars.v[i].line)) > 0)
            s->stars.v[i].col = s->stars.v[i].col > w ? s->stars.v[i].col - w : 1;
}

/* ---- encoding ---------------------------------------------------------- */

static void pack_str(msgpack_packer *pk, str_t s)
{
    msgpack_pack_str(pk, s.len);
    msgpack_pack_str_body(pk, s.s, s.len);
}

static void pack_key(msgpack_packer *pk, const char *k)
{
    size_t n = strlen(k);
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, k, n);
}

static void pack_bool(msgpack_packer *pk, bool b)
{
    if (b)
        msgpack_pack_true(pk);
    else
        msgpack_pack_false(pk);
}

void summary_pack_sig(msgpack_packer *pk, uint8_t flags, uint32_t n_params)
{
    msgpack_pack_array(pk, 2);
    msgpack_pack_uint8(pk, flags);
    msgpack_pack_array(pk, n_params);
}

void summary_pack_param(msgpack_packer *pk, const char *name, size_t len, uint8_t kind,
                        bool has_default)
{
    msgpack_pack_array(pk, 3);
    msgpack_pack_str(pk, len);
    msgpack_pack_str_body(pk, name, len);
    msgpack_pack_uint8(pk, kind);
    pack_bool(pk, has_default);
}

static void pack_sig(msgpack_packer *pk, const sig_t *g)
{
    summary_pack_sig(pk, g->flags, g->n);
    for (uint32_t i = 0; i < g->n; i++) {
        const sum_param_t *p = &g->params[i];
        summary_pack_param(pk, p->name ? p->name : "", p->name ? strlen(p->name) : 0, p->kind,
                           p->has_default);
    }
}

static void pack_class(msgpack_packer *pk, const cls_t *c)
{
    msgpack_pack_array(pk, 5);
    pack_str(pk, c->name);
    msgpack_pack_uint32(pk, c->line);
    msgpack_pack_array(pk, c->n_bases);
    for (uint32_t i = 0; i < c->n_bases; i++)
        pack_str(pk, c->bases[i]);
    msgpack_pack_array(pk, c->n_members);
    for (uint32_t i = 0; i < c->n_members; i++) {
        msgpack_pack_array(pk, 3);
        pack_str(pk, c->members[i].name);
        msgpack_pack_uint8(pk, c->members[i].kind);
        msgpack_pack_int32(pk, c->members[i].sig);
    }
    msgpack_pack_uint8(pk, c->flags);
}

static void pack_imports(msgpack_packer *pk, const summary_t *s)
{
    pack_key(pk, "imports");
    msgpack_pack_array(pk, s->imports.n);
    for (uint32_t i = 0; i < s->imports.n; i++) {
        const imp_t *e = &s->imports.v[i];
        msgpack_pack_array(pk, 8);
        msgpack_pack_uint8(pk, e->kind);
        msgpack_pack_uint8(pk, e->level);
        pack_str(pk, e->module);
        pack_str(pk, e->name);
        pack_str(pk, e->asname);
        msgpack_pack_uint32(pk, e->line);
        msgpack_pack_uint32(pk, e->col);
        msgpack_pack_uint8(pk, e->flags);
    }
}

static void pack_uses(msgpack_packer *pk, const summary_t *s)
{
    pack_key(pk, "uses");
    msgpack_pack_array(pk, s->uses.n);
    for (uint32_t i = 0; i < s->uses.n; i++) {
        const use_t *u = &s->uses.v[i];
        msgpack_pack_array(pk, 5);
        msgpack_pack_int32(pk, u->import_index);
        msgpack_pack_array(pk, u->n);
        for (uint32_t k = 0; k < u->n; k++)
            pack_str(pk, u->chain[k]);
        msgpack_pack_uint32(pk, u->line);
        msgpack_pack_uint32(pk, u->col);
        msgpack_pack_uint8(pk, u->flags);
    }
    pack_key(pk, "calls");
    msgpack_pack_array(pk, s->calls.n);
    for (uint32_t i = 0; i < s->calls.n; i++) {
        const call_t *c = &s->calls.v[i];
        msgpack_pack_array(pk, 5);
        msgpack_pack_int32(pk, c->use);
        msgpack_pack_uint32(pk, c->npos);
        msgpack_pack_array(pk, c->nkw);
        for (uint32_t k = 0; k < c->nkw; k++)
            pack_str(pk, c->kw[k]);
        pack_bool(pk, c->star);
        pack_bool(pk, c->dstar);
    }
}

static void pack_stars_noqa(msgpack_packer *pk, const summary_t *s)
{
    pack_key(pk, "stars");
    msgpack_pack_array(pk, s->stars.n);
    for (uint32_t i = 0; i < s->stars.n; i++) {
        const star_t *e = &s->stars.v[i];
        msgpack_pack_array(pk, 4);
        pack_str(pk, e->name);
        msgpack_pack_uint32(pk, e->line);
        msgpack_pack_uint32(pk, e->col);
        pack_bool(pk, e->in_all);
    }
    pack_key(pk, "noqa");
    msgpack_pack_array(pk, s->noqa.n);
    for (uint32_t i = 0; i < s->noqa.n; i++) {
        const noqa_t *e = &s->noqa.v[i];
        msgpack_pack_array(pk, 3);
        msgpack_pack_uint32(pk, e->first);
        msgpack_pack_uint32(pk, e->last);
        if (e->blanket) {
            msgpack_pack_nil(pk);
            continue;
        }
        msgpack_pack_array(pk, e->n);
        for (uint32_t k = 0; k < e->n; k++)
            pack_str(pk, e->codes[k]);
    }
}

st_rc_t summary_pack(const summary_t *s, msgpack_packer *pk)
{
    if (s->oom)
        return ST_ENOMEM;
    msgpack_pack_map(pk, 11);
    pack_imports(pk, s);
    pack_key(pk, "defs");
    msgpack_pack_array(pk, s->defs.n);
    for (uint32_t i = 0; i < s->defs.n; i++) {
        const def_t *d = &s->defs.v[i];
        msgpack_pack_array(pk, 5);
        pack_str(pk, d->name);
        msgpack_pack_uint8(pk, d->kind);
        msgpack_pack_uint32(pk, d->line);
        msgpack_pack_int32(pk, d->sig);
        msgpack_pack_uint8(pk, d->flags);
    }
    pack_key(pk, "sigs");
    msgpack_pack_array(pk, s->sigs.n);
    for (uint32_t i = 0; i < s->sigs.n; i++)
        pack_sig(pk, &s->sigs.v[i]);
    pack_key(pk, "classes");
    msgpack_pack_array(pk, s->classes.n);
    for (uint32_t i = 0; i < s->classes.n; i++)
        pack_class(pk, &s->classes.v[i]);
    pack_key(pk, "all");
    if (s->has_all) {
        msgpack_pack_array(pk, s->n_all);
        for (uint32_t i = 0; i < s->n_all; i++)
            pack_str(pk, s->all[i]);
    } else {
        msgpack_pack_nil(pk);
    }
    pack_key(pk, "getattr");
    pack_bool(pk, s->getattr);
    pack_key(pk, "dynamic");
    pack_bool(pk, s->dynamic);
    pack_uses(pk, s);
    pack_stars_noqa(pk, s);
    return ST_OK;
}

/* ---- decoding ------------------------------------------------------------ */

static st_rc_t rd_u8(mpread_t *r, uint8_t max, uint8_t *v)
{
    uint64_t x;
    if (mpread_uint(r, &x) != ST_OK || x > max)
        return ST_ECORRUPT;
    *v = (uint8_t)x;
    return ST_OK;
}

static st_rc_t rd_index(mpread_t *r, int64_t *v)
{
    return mpread_int(r, v) == ST_OK ? ST_OK : ST_ECORRUPT;
}

static st_rc_t rd_bool(mpread_t *r, bool *v)
{
    return mpread_bool(r, v) == ST_OK ? ST_OK : ST_ECORRUPT;
}

st_rc_t summary_read_str(mpread_t *r, sum_str_t *out)
{
    if (mpread_str(r, &out->s, &out->len) != ST_OK || out->len > SUMMARY_MAX_NAME)
        return ST_ECORRUPT;
    return ST_OK;
}

/* An array of at least min elements; *n its length. */
static st_rc_t rd_tuple(mpread_t *r, uint32_t min, uint32_t *n)
{
    return mpread_array(r, n) == ST_OK && *n >= min ? ST_OK : ST_ECORRUPT;
}

/* Skips the elements of a tuple past the `used` ones read. */
static st_rc_t skip_rest(mpread_t *r, uint32_t n, uint32_t used)
{
    for (uint32_t i = used; i < n; i++)
        if (mpread_skip(r) != ST_OK)
            return ST_ECORRUPT;
    return ST_OK;
}

/* An array of n elements of at least min bytes each (so that a count the
 * bytes cannot hold is refused before it allocates), into *v. */
static st_rc_t rd_array(mpread_t *r, arena_t *a, size_t min, size_t size, void **v, uint32_t *n)
{
    size_t bytes;

    if (mpread_array_min(r, min, n) != ST_OK)
        return ST_ECORRUPT;
    if (!st_mul_size(*n, size, &bytes) || (*v = arena_alloc(a, bytes ? bytes : 1)) == NULL)
        return ST_ENOMEM;
    return ST_OK;
}

st_rc_t summary_read_strs(mpread_t *r, arena_t *a, sum_str_t **v, uint32_t *n)
{
    ST_TRY(rd_array(r, a, 1, sizeof **v, (void **)v, n));
    for (uint32_t i = 0; i < *n; i++)
        ST_TRY(summary_read_str(r, &(*v)[i]));
    return ST_OK;
}

st_rc_t summary_read_sig(mpread_t *r, arena_t *a, sum_sig_t *g)
{
    uint32_t n, pn;

    ST_TRY(rd_tuple(r, 2, &n));
    ST_TRY(rd_u8(r, 255, &g->flags));
    ST_TRY(rd_array(r, a, 4, sizeof *g->p, (void **)&g->p, &g->n));
    for (uint32_t i = 0; i < g->n; i++) {
        ST_TRY(rd_tuple(r, 3, &pn));
        ST_TRY(summary_read_str(r, &g->p[i].name));
        ST_TRY(rd_u8(r, SUM_P_KWARGS, &g->p[i].kind));
        ST_TRY(rd_bool(r, &g->p[i].has_default));
        ST_TRY(skip_rest(r, pn, 3));
    }
    return skip_rest(r, n, 2);
}

static st_rc_t rd_imports(mpread_t *r, arena_t *a, sum_import_t **v, uint32_t *count)
{
    uint32_t n;

    ST_TRY(rd_array(r, a, 9, sizeof **v, (void **)v, count));
    for (uint32_t i = 0; i < *count; i++) {
        sum_import_t *m = &(*v)[i];
        ST_TRY(rd_tuple(r, 8, &n));
        ST_TRY(rd_u8(r, SUM_FUTURE, &m->kind));
        ST_TRY(rd_u8(r, 255, &m->level));
        ST_TRY(summary_read_str(r, &m->module));
        ST_TRY(summary_read_str(r, &m->name));
        ST_TRY(summary_read_str(r, &m->asname));
        ST_TRY(mpread_u32(r, &m->line));
        ST_TRY(mpread_u32(r, &m->col));
        ST_TRY(rd_u8(r, 255, &m->flags));
        ST_TRY(skip_rest(r, n, 8));
    }
    return ST_OK;
}

static st_rc_t rd_defs(mpread_t *r, arena_t *a, summary_doc_t *f)
{
    uint32_t n;

    ST_TRY(rd_array(r, a, 5, sizeof *f->defs, (void **)&f->defs, &f->n_defs));
    for (uint32_t i = 0; i < f->n_defs; i++) {
        sum_def_t *d = &f->defs[i];
        memset(d, 0, sizeof *d);
        ST_TRY(rd_tuple(r, 4, &n));
        ST_TRY(summary_read_str(r, &d->name));
        ST_TRY(rd_u8(r, SUM_DEF_IMPORT, &d->kind));
        ST_TRY(mpread_u32(r, &d->line));
        ST_TRY(rd_index(r, &d->sig));
        if (n > 4)
            ST_TRY(rd_u8(r, 255, &d->flags));
        ST_TRY(skip_rest(r, n, n > 4 ? 5 : 4));
    }
    return ST_OK;
}

static st_rc_t rd_members(mpread_t *r, arena_t *a, sum_class_t *k)
{
    uint32_t mn;

    ST_TRY(rd_array(r, a, 4, sizeof *k->members, (void **)&k->members, &k->n_members));
    for (uint32_t j = 0; j < k->n_members; j++) {
        ST_TRY(rd_tuple(r, 3, &mn));
        ST_TRY(summary_read_str(r, &k->members[j].name));
        ST_TRY(rd_u8(r, SUM_DEF_IMPORT, &k->members[j].kind));
        ST_TRY(rd_index(r, &k->members[j].sig));
        ST_TRY(skip_rest(r, mn, 3));
    }
    return ST_OK;
}

static st_rc_t rd_classes(mpread_t *r, arena_t *a, summary_doc_t *f)
{
    uint32_t n;

    ST_TRY(rd_array(r, a, 5, sizeof *f->classes, (void **)&f->classes, &f->n_classes));
    for (uint32_t i = 0; i < f->n_classes; i++) {
        sum_class_t *k = &f->classes[i];
        memset(k, 0, sizeof *k);
        ST_TRY(rd_tuple(r, 4, &n));
        ST_TRY(summary_read_str(r, &k->name));
        ST_TRY(mpread_u32(r, &k->line));
        ST_TRY(summary_read_strs(r, a, &k->bases, &k->n_bases));
        ST_TRY(rd_members(r, a, k));
        k->flags = SUM_CLASS_FLAGS_UNKNOWN;
        if (n > 4)
            ST_TRY(rd_u8(r, 255, &k->flags));
        ST_TRY(skip_rest(r, n, n > 4 ? 5 : 4));
    }
    return ST_OK;
}

static st_rc_t rd_uses(mpread_t *r, arena_t *a, summary_doc_t *f)
{
    uint32_t n;

    ST_TRY(rd_array(r, a, 5, sizeof *f->uses, (void **)&f->uses, &f->n_uses));
    for (uint32_t i = 0; i < f->n_uses; i++) {
        sum_use_t *u = &f->uses[i];
        memset(u, 0, sizeof *u);
        ST_TRY(rd_tuple(r, 4, &n));
        ST_TRY(rd_index(r, &u->imp));
        ST_TRY(summary_read_strs(r, a, &u->chain, &u->n));
        ST_TRY(mpread_u32(r, &u->line));
        ST_TRY(mpread_u32(r, &u->col));
        if (n > 4)
            ST_TRY(rd_u8(r, 255, &u->flags));
        ST_TRY(skip_rest(r, n, n > 4 ? 5 : 4));
    }
    return ST_OK;
}

static st_rc_t rd_calls(mpread_t *r, arena_t *a, summary_doc_t *f)
{
    uint32_t n;

    ST_TRY(rd_array(r, a, 6, sizeof *f->calls, (void **)&f->calls, &f->n_calls));
    for (uint32_t i = 0; i < f->n_calls; i++) {
        sum_call_t *k = &f->calls[i];
        ST_TRY(rd_tuple(r, 5, &n));
        ST_TRY(rd_index(r, &k->use));
        ST_TRY(mpread_u32(r, &k->npos));
        ST_TRY(summary_read_strs(r, a, &k->kw, &k->nkw));
        ST_TRY(rd_bool(r, &k->star));
        ST_TRY(rd_bool(r, &k->dstar));
        ST_TRY(skip_rest(r, n, 5));
    }
    return ST_OK;
}

static st_rc_t rd_stars(mpread_t *r, arena_t *a, summary_doc_t *f)
{
    uint32_t n;

    ST_TRY(rd_array(r, a, 5, sizeof *f->stars, (void **)&f->stars, &f->n_stars));
    for (uint32_t i = 0; i < f->n_stars; i++) {
        sum_star_t *s = &f->stars[i];
        ST_TRY(rd_tuple(r, 4, &n));
        ST_TRY(summary_read_str(r, &s->name));
        ST_TRY(mpread_u32(r, &s->line));
        ST_TRY(mpread_u32(r, &s->col));
        ST_TRY(rd_bool(r, &s->in_all));
        ST_TRY(skip_rest(r, n, 4));
    }
    return ST_OK;
}

static st_rc_t rd_noqa(mpread_t *r, arena_t *a, summary_doc_t *f)
{
    uint32_t n;

    ST_TRY(rd_array(r, a, 4, sizeof *f->noqa, (void **)&f->noqa, &f->n_noqa));
    for (uint32_t i = 0; i < f->n_noqa; i++) {
        sum_noqa_t *q = &f->noqa[i];
        ST_TRY(rd_tuple(r, 3, &n));
        ST_TRY(mpread_u32(r, &q->first));
        ST_TRY(mpread_u32(r, &q->last));
        q->codes = NULL;
        q->n = 0;
        if (!mpread_nil(r))
            ST_TRY(summary_read_strs(r, a, &q->codes, &q->n));
        ST_TRY(skip_rest(r, n, 3));
    }
    return ST_OK;
}

/* Indices between the tables must point inside them. */
static st_rc_t validate(const summary_doc_t *f)
{
    for (uint32_t i = 0; i < f->n_defs; i++)
        if (f->defs[i].sig < -1 || f->defs[i].sig >= (int64_t)f->n_sigs)
            return ST_ECORRUPT;
    for (uint32_t i = 0; i < f->n_classes; i++)
        for (uint32_t j = 0; j < f->classes[i].n_members; j++)
            if (f->classes[i].members[j].sig < -1 ||
                f->classes[i].members[j].sig >= (int64_t)f->n_sigs)
                return ST_ECORRUPT;
    for (uint32_t i = 0; i < f->n_uses; i++)
        if (f->uses[i].imp < 0 || f->uses[i].imp >= (int64_t)f->n_imports)
            return ST_ECORRUPT;
    for (uint32_t i = 0; i < f->n_calls; i++)
        if (f->calls[i].use < 0 || f->calls[i].use >= (int64_t)f->n_uses)
            return ST_ECORRUPT;
    return ST_OK;
}

/* One value of the map, its key already read. */
static st_rc_t rd_value(mpread_t *r, arena_t *a, const char *key, summary_doc_t *f)
{
    if (strcmp(key, "sigs") == 0) {
        ST_TRY(rd_array(r, a, 3, sizeof *f->sigs, (void **)&f->sigs, &f->n_sigs));
        for (uint32_t i = 0; i < f->n_sigs; i++)
            ST_TRY(summary_read_sig(r, a, &f->sigs[i]));
        return ST_OK;
    }
    if (strcmp(key, "all") == 0) {
        f->has_all = !mpread_nil(r);
        return f->has_all ? summary_read_strs(r, a, &f->all, &f->n_all) : ST_OK;
    }
    if (strcmp(key, "getattr") == 0)
        return rd_bool(r, &f->getattr);
    if (strcmp(key, "dynamic") == 0)
        return rd_bool(r, &f->dynamic);
    if (strcmp(key, "imports") == 0)
        return rd_imports(r, a, &f->imports, &f->n_imports);
    if (strcmp(key, "defs") == 0)
        return rd_defs(r, a, f);
    if (strcmp(key, "classes") == 0)
        return rd_classes(r, a, f);
    if (strcmp(key, "uses") == 0)
        return rd_uses(r, a, f);
    if (strcmp(key, "calls") == 0)
        return rd_calls(r, a, f);
    if (strcmp(key, "stars") == 0)
        return rd_stars(r, a, f);
    return rd_noqa(r, a, f);
}

st_rc_t summary_read(mpread_t *r, arena_t *a, summary_doc_t *out)
{
    static const char *const keys[] = {"imports", "defs", "sigs",  "classes", "all", "getattr",
                                       "dynamic", "uses", "calls", "stars",   "noqa"};
    uint32_t n;

    memset(out, 0, sizeof *out);
    if (mpread_map(r, &n) != ST_OK)
        return ST_ECORRUPT;
    for (uint32_t k = 0; k < n; k++) {
        const char *key = NULL;
        for (size_t i = 0; i < sizeof keys / sizeof keys[0] && key == NULL; i++)
            if (mpread_key(r, keys[i]))
                key = keys[i];
        if (key != NULL)
            ST_TRY(rd_value(r, a, key, out));
        else if (mpread_skip(r) != ST_OK || mpread_skip(r) != ST_OK)
            return ST_ECORRUPT;
    }
    return validate(out);
}

st_rc_t summary_decode_imports(span_t sum, arena_t *a, sum_import_t **imports, uint32_t *n)
{
    mpread_t r;
    uint32_t keys;

    mpread_init(&r, sum.ptr, sum.len);
    if (mpread_map(&r, &keys) != ST_OK)
        return ST_ECORRUPT;
    for (uint32_t i = 0; i < keys; i++) {
        if (mpread_key(&r, "imports")) {
            sum_import_t *v;
            uint32_t count;
            ST_TRY(rd_imports(&r, a, &v, &count));
            *imports = v;
            *n = count;
            return ST_OK;
        }
        if (mpread_skip(&r) != ST_OK || mpread_skip(&r) != ST_OK)
            return ST_ECORRUPT;
    }
    *imports = NULL;
    *n = 0;
    return ST_OK;
}

bool summary_is_dynamic(span_t sum)
{
    mpread_t r;
    uint32_t n;

    mpread_init(&r, sum.ptr, sum.len);
    if (mpread_map(&r, &n) != ST_OK)
        return false;
    for (uint32_t i = 0; i < n; i++) {
        bool b;
        if (mpread_key(&r, "dynamic") || mpread_key(&r, "getattr")) {
            /* a value that is not a bool is skipped too: left in place,
             * it would be read as the next key */
            if (mpread_bool(&r, &b) == ST_OK) {
                if (b)
                    return true;
            } else if (mpread_skip(&r) != ST_OK) {
                return false;
            }
            continue;
        }
        if (mpread_skip(&r) != ST_OK || mpread_skip(&r) != ST_OK)
            return false;
    }
    return false;
}
