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
    int32_t *ovl; /* NULL: no overloads */
    uint32_t n_ovl;
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
    int32_t *ovl; /* NULL: no overloads */
    uint32_t n_ovl;
} member_t;

typedef struct {
    str_t name;
    uint32_t line;
    str_t *bases;
    uint32_t n_bases;
    member_t *members;
    uint32_t n_members;
    uint8_t flags;
    str_t *attrs;
    uint32_t n_attrs;
    str_t *plain;
    uint32_t n_plain;
} cls_t;

typedef struct {
    uint32_t class_line;
    str_t name;
    uint32_t line, col;
    bool call, instance;
    uint32_t npos;
    str_t *kw;
    uint32_t nkw;
} selfread_t;

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
    bool in_all, local;
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
    VEC(str_t) replaces;
    VEC(str_t) dead;
    VEC(selfread_t) selfreads;
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

int32_t summary_alias_import(summary_t *s, int32_t index, const char *asname, size_t alen)
{
    imp_t *e;

    if (index < 0 || (uint32_t)index >= s->imports.n)
        return -1;
    if ((e = VEC_PUSH(s, s->imports)) == NULL)
        return -1;
    *e = s->imports.v[index]; /* the push may have moved the vector: copy after */
    e->asname = copy_str(s, asname, alen);
    e->flags |= SUM_ALIAS;
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
    e->ovl = NULL;
    e->n_ovl = 0;
    return (int32_t)(s->defs.n - 1);
}

/* A copy of the n signature indices sigs, or NULL (out of memory: s->oom). */
static int32_t *copy_sigs(summary_t *s, const int32_t *sigs, uint32_t n)
{
    int32_t *v = arena_alloc(s->a, (size_t)(n ? n : 1) * sizeof *v);

    if (v == NULL) {
        s->oom = true;
        return NULL;
    }
    memcpy(v, sigs, (size_t)n * sizeof *v);
    return v;
}

void summary_set_overloads(summary_t *s, int32_t def, const int32_t *sigs, uint32_t n)
{
    def_t *d;

    if (def < 0 || (uint32_t)def >= s->defs.n)
        return;
    d = &s->defs.v[def];
    if ((d->ovl = copy_sigs(s, sigs, n)) != NULL)
        d->n_ovl = n;
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
    c->members[c->n_members].ovl = NULL;
    c->members[c->n_members].n_ovl = 0;
    c->n_members++;
}

int32_t summary_find_class(const summary_t *s, const char *name, size_t len, uint32_t line)
{
    for (uint32_t i = 0; i < s->classes.n; i++)
        if (s->classes.v[i].line == line && s->classes.v[i].name.len == len &&
            memcmp(s->classes.v[i].name.s, name, len) == 0)
            return (int32_t)i;
    return -1;
}

static str_t *copy_strs(summary_t *s, const char *const *p, const uint32_t *lens, uint32_t n);

void summary_class_seen(summary_t *s, int32_t cls, bool open, const char *const *attrs,
                        const uint32_t *lens, uint32_t n)
{
    cls_t *c;

    if (cls < 0 || (uint32_t)cls >= s->classes.n)
        return;
    c = &s->classes.v[cls];
    c->flags |= SUM_CLASS_SEEN | (open ? SUM_CLASS_OPEN : 0);
    if ((c->attrs = copy_strs(s, attrs, lens, n)) != NULL)
        c->n_attrs = n;
}

void summary_class_plain(summary_t *s, int32_t cls, const char *const *names, const uint32_t *lens,
                         uint32_t n)
{
    cls_t *c;

    if (cls < 0 || (uint32_t)cls >= s->classes.n)
        return;
    c = &s->classes.v[cls];
    if ((c->plain = copy_strs(s, names, lens, n)) != NULL)
        c->n_plain = n;
}

void summary_selfread_instance(summary_t *s)
{
    if (s->selfreads.n > 0)
        s->selfreads.v[s->selfreads.n - 1].instance = true;
}

void summary_selfread_call(summary_t *s, uint32_t npos, const char *const *kw,
                           const uint32_t *kwlens, uint32_t nkw)
{
    selfread_t *e;

    if (s->selfreads.n == 0)
        return;
    e = &s->selfreads.v[s->selfreads.n - 1];
    e->call = true;
    e->npos = npos;
    if ((e->kw = copy_strs(s, kw, kwlens, nkw)) != NULL)
        e->nkw = nkw;
}

void summary_add_selfread(summary_t *s, uint32_t class_line, const char *name, size_t len,
                          uint32_t line, uint32_t col)
{
    selfread_t *e = VEC_PUSH(s, s->selfreads);
    if (e == NULL)
        return;
    memset(e, 0, sizeof *e);
    e->class_line = class_line;
    e->name = copy_str(s, name, len);
    e->line = line;
    e->col = col;
}

void summary_class_set_overloads(summary_t *s, int32_t cls, const int32_t *sigs, uint32_t n)
{
    member_t *m;

    if (cls < 0 || (uint32_t)cls >= s->classes.n || s->classes.v[cls].n_members == 0)
        return;
    m = &s->classes.v[cls].members[s->classes.v[cls].n_members - 1];
    if ((m->ovl = copy_sigs(s, sigs, n)) != NULL)
        m->n_ovl = n;
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

void summary_add_replace(summary_t *s, const char *name, size_t len)
{
    str_t *e;

    for (uint32_t i = 0; i < s->replaces.n; i++)
        if (s->replaces.v[i].len == len && memcmp(s->replaces.v[i].s, name, len) == 0)
            return;
    if ((e = VEC_PUSH(s, s->replaces)) != NULL)
        *e = copy_str(s, name, len);
}

void summary_add_dead(summary_t *s, const char *name, size_t len)
{
    str_t *e;

    for (uint32_t i = 0; i < s->dead.n; i++)
        if (s->dead.v[i].len == len && memcmp(s->dead.v[i].s, name, len) == 0)
            return;
    if ((e = VEC_PUSH(s, s->dead)) != NULL)
        *e = copy_str(s, name, len);
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
    e->local = false;
}

void summary_star_set_local(summary_t *s, uint32_t index)
{
    if (index < s->stars.n)
        s->stars.v[index].local = true;
}

uint32_t summary_n_stars(const summary_t *s)
{
    return s->stars.n;
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

bool summary_noqa_covers(const summary_t *s, uint32_t line, const char *code)
{
    size_t clen = strlen(code);

    for (uint32_t i = 0; s != NULL && i < s->noqa.n; i++) {
        const noqa_t *e = &s->noqa.v[i];
        if (line < e->first || line > e->last)
            continue;
        if (e->blanket)
            return true;
        for (uint32_t k = 0; k < e->n; k++)
            if (e->codes[k].len > 0 && e->codes[k].len <= clen &&
                memcmp(code, e->codes[k].s, e->codes[k].len) == 0)
                return true;
    }
    return false;
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
    for (uint32_t i = 0; i < s->selfreads.n; i++)
        if ((w = pad_of(lines, widths, n, s->selfreads.v[i].line)) > 0)
            s->selfreads.v[i].col = s->selfreads.v[i].col > w ? s->selfreads.v[i].col - w : 0;
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

static void pack_overloads(msgpack_packer *pk, const int32_t *ovl, uint32_t n)
{
    msgpack_pack_array(pk, n);
    for (uint32_t i = 0; i < n; i++)
        msgpack_pack_int32(pk, ovl[i]);
}

static void pack_class(msgpack_packer *pk, const cls_t *c)
{
    bool seen = (c->flags & SUM_CLASS_SEEN) != 0;

    msgpack_pack_array(pk, seen ? 7 : 5);
    pack_str(pk, c->name);
    msgpack_pack_uint32(pk, c->line);
    msgpack_pack_array(pk, c->n_bases);
    for (uint32_t i = 0; i < c->n_bases; i++)
        pack_str(pk, c->bases[i]);
    msgpack_pack_array(pk, c->n_members);
    for (uint32_t i = 0; i < c->n_members; i++) {
        const member_t *m = &c->members[i];
        msgpack_pack_array(pk, m->ovl != NULL ? 4 : 3);
        pack_str(pk, m->name);
        msgpack_pack_uint8(pk, m->kind);
        msgpack_pack_int32(pk, m->sig);
        if (m->ovl != NULL)
            pack_overloads(pk, m->ovl, m->n_ovl);
    }
    msgpack_pack_uint8(pk, c->flags);
    if (seen) {
        msgpack_pack_array(pk, c->n_attrs);
        for (uint32_t i = 0; i < c->n_attrs; i++)
            pack_str(pk, c->attrs[i]);
        msgpack_pack_array(pk, c->n_plain);
        for (uint32_t i = 0; i < c->n_plain; i++)
            pack_str(pk, c->plain[i]);
    }
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
        msgpack_pack_array(pk, e->local ? 5 : 4);
        pack_str(pk, e->name);
        msgpack_pack_uint32(pk, e->line);
        msgpack_pack_uint32(pk, e->col);
        pack_bool(pk, e->in_all);
        if (e->local)
            pack_bool(pk, true);
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
    msgpack_pack_map(pk, 11 + (s->replaces.n > 0) + (s->dead.n > 0) + (s->selfreads.n > 0));
    pack_imports(pk, s);
    pack_key(pk, "defs");
    msgpack_pack_array(pk, s->defs.n);
    for (uint32_t i = 0; i < s->defs.n; i++) {
        const def_t *d = &s->defs.v[i];
        msgpack_pack_array(pk, d->ovl != NULL ? 6 : 5);
        pack_str(pk, d->name);
        msgpack_pack_uint8(pk, d->kind);
        msgpack_pack_uint32(pk, d->line);
        msgpack_pack_int32(pk, d->sig);
        msgpack_pack_uint8(pk, d->flags);
        if (d->ovl != NULL)
            pack_overloads(pk, d->ovl, d->n_ovl);
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
    if (s->replaces.n > 0) {
        pack_key(pk, "replaces");
        msgpack_pack_array(pk, s->replaces.n);
        for (uint32_t i = 0; i < s->replaces.n; i++)
            pack_str(pk, s->replaces.v[i]);
    }
    if (s->dead.n > 0) {
        pack_key(pk, "dead");
        msgpack_pack_array(pk, s->dead.n);
        for (uint32_t i = 0; i < s->dead.n; i++)
            pack_str(pk, s->dead.v[i]);
    }
    if (s->selfreads.n > 0) {
        pack_key(pk, "selfreads");
        msgpack_pack_array(pk, s->selfreads.n);
        for (uint32_t i = 0; i < s->selfreads.n; i++) {
            const selfread_t *e = &s->selfreads.v[i];
            msgpack_pack_array(pk, e->instance ? 6 : e->call ? 5 : 4);
            msgpack_pack_uint32(pk, e->class_line);
            pack_str(pk, e->name);
            msgpack_pack_uint32(pk, e->line);
            msgpack_pack_uint32(pk, e->col);
            if (e->call) {
                msgpack_pack_array(pk, 2);
                msgpack_pack_uint32(pk, e->npos);
                msgpack_pack_array(pk, e->nkw);
                for (uint32_t k = 0; k < e->nkw; k++)
                    pack_str(pk, e->kw[k]);
            } else if (e->instance) {
                msgpack_pack_nil(pk);
            }
            if (e->instance)
                msgpack_pack_true(pk);
        }
    }
    pack_uses(pk, s);
    pack_stars_noqa(pk, s);
    return ST_OK;
}
