/* check.c - the check job of one import-graph component (see check.h).
 *
 * The job decodes its whole input first (every index and count checked),
 * interning every string so that names compare as ids. It then computes the
 * component's interfaces by rounds: each round rebuilds every module's
 * interface from the previous round's (a star import or a re-export may come
 * from a module of the same cycle), from empty closed interfaces up, until a
 * round changes nothing or the round limit is hit; what has not settled then
 * is made unknown (kind 4) or open, so that nothing is claimed from it.
 * The checks read the final interfaces; each file's diagnostics get its
 * `# noqa` ranges, then everything is encoded in input order.
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
 *   - R0401 edges are module-level imports outside try/if blocks (an import
 *     under `if TYPE_CHECKING:` does not run), from the .py when a stub
 *     sits beside it; the search starts at the smallest module name and
 *     takes successors in name order; every back edge u -> v reports
 *     "Cyclic import (v -> ... -> u)" (the DFS path from v to u) on the
 *     first import in u's file that imports v, once per (file, line);
 *   - a keyword-only parameter left unbound is pylint's E1125, not E1120:
 *     nothing is said about it;
 *   - a class tuple without flags (an older summary) gives no constructor
 *     signature, since its decorators are unknown. */
#include "check.h"

#include "common/buf.h"
#include "common/hmap.h"
#include "common/intern.h"
#include "common/mpread.h"
#include "worker/python/diag.h"
#include "worker/python/summary.h"

#include <msgpack.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ROUNDS 64       /* interface rounds in a cycle before giving up */
#define MAX_NAME_BYTES 4096 /* a longer dotted name is corrupt input */
#define MAX_CYCLE_TEXT 400  /* R0401 messages are cut (with "...") beyond this */
#define MAX_RESULT_ITEMS (1u << 24)
#define MAX_CALL_CHECK 255 /* larger signatures or keyword lists are not checked */

enum { E_FUNC = 0, E_CLASS = 1, E_VAR = 2, E_MOD = 3, E_UNKNOWN = 4 };
enum { R_PROJECT = 0, R_STDLIB = 1, R_EXTERNAL = 2, R_UNRESOLVED = 3, R_FUTURE = 4 };

#define NONE INTERN_NONE
#define CLASS_FLAGS_UNKNOWN 0x80

#define TRY(expr)                                                                                  \
    do {                                                                                           \
        st_rc_t rc_ = (expr);                                                                      \
        if (rc_ != ST_OK)                                                                          \
            return rc_;                                                                            \
    } while (0)

/* ---- the model ------------------------------------------------------------ */

typedef struct {
    const char *s; /* interned, NUL-terminated */
    uint32_t len;
    uint32_t id;
} nm_t;

typedef struct {
    nm_t name;
    uint8_t kind;
    bool dflt;
} param_t;

typedef struct {
    uint8_t flags;
    uint32_t n;
    param_t *p;
} csig_t;

typedef struct {
    nm_t name;
    uint8_t kind;
    const csig_t *sig; /* NULL: none */
    uint32_t ref;      /* module id for E_MOD, else NONE */
} ent_t;

typedef struct {
    nm_t name;
    bool open, has_all;
    nm_t *all;
    uint32_t n_all;
    nm_t *subs;
    uint32_t n_subs;
    ent_t *names;
    uint32_t n_names;
} iface_t;

typedef struct {
    uint8_t kind, level, flags, res;
    uint32_t module, name, asname, abs, line, col;
    uint32_t bound; /* the name the import binds, or NONE */
} imp_t;

typedef struct {
    uint32_t name, line;
    uint8_t kind, flags;
    int64_t sig;
    const csig_t *ctor; /* classes: the sure constructor signature */
} def_t;

typedef struct {
    uint32_t name;
    uint8_t kind;
    int64_t sig;
} member_t;

typedef struct {
    uint32_t name, n_bases, n_members;
    uint32_t *bases;
    member_t *members;
    uint8_t flags;
    const csig_t *ctor; /* the sure constructor signature, or NULL */
} cls_t;

typedef struct {
    int64_t imp;
    uint32_t *chain;
    uint32_t n, line, col;
    uint8_t flags;
} use_t;

typedef struct {
    int64_t use;
    uint32_t npos, nkw;
    uint32_t *kw;
    bool star, dstar;
} call_t;

typedef struct {
    uint32_t name, line, col;
    bool in_all;
} star_t;

typedef struct {
    uint32_t first, last, n;
    const char **codes; /* NULL: every code */
} noqa_t;

typedef struct {
    nm_t name;
    uint32_t file;
    bool pkg, export, has_summary, has_res;
    nm_t *subs;
    uint32_t n_subs;
    imp_t *imps;
    uint32_t n_imps, n_res;
    def_t *defs;
    uint32_t n_defs;
    csig_t *sigs;
    uint32_t n_sigs;
    cls_t *classes;
    uint32_t n_classes;
    nm_t *all;
    uint32_t n_all;
    bool has_all, getattr, dynamic;
    use_t *uses;
    uint32_t n_uses;
    call_t *calls;
    uint32_t n_calls;
    star_t *stars;
    uint32_t n_stars;
    noqa_t *noqa;
    uint32_t n_noqa;
    hmap_t *bound;       /* bound name id -> import index (NONE: ambiguous) */
    uint32_t *star_from; /* star imports, one per distinct module */
    uint32_t n_star_from;
    /* results */
    diag_list_t diags;
    check_pos_t *drop;
    uint32_t n_drop, cap_drop;
} file_t;

typedef struct {
    uint32_t name;
    iface_t *iface; /* the current (then final) interface; NULL: none */
    file_t *file;   /* the export file of a component module, else NULL */
} mod_t;

typedef struct {
    arena_t *a;
    intern_t *in;
    bool oom;
    file_t *files;
    uint32_t n_files;
    iface_t *ext;
    uint32_t n_ext;
    mod_t *mods; /* component modules first (n_comp), then external ones */
    uint32_t n_mods, n_comp;
    hmap_t *by_name; /* module name id -> index in mods */
    hmap_t *stores;  /* "module id, name id" assigned somewhere in the component */
    hmap_t *r0401;   /* "file index, line" that already has an R0401 */
} ctx_t;

/* ---- small helpers ---------------------------------------------------------- */

static void *alloc_n(ctx_t *c, size_t n, size_t size)
{
    size_t bytes;
    void *p;

    if (!st_mul_size(n, size, &bytes) || (p = arena_alloc(c->a, bytes ? bytes : 1)) == NULL) {
        c->oom = true;
        return NULL;
    }
    return p;
}

static nm_t nm_of(const ctx_t *c, uint32_t id)
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

static st_rc_t intern_id(ctx_t *c, const char *s, size_t len, uint32_t *id)
{
    st_rc_t rc = intern_get_or_add(c->in, s, len, id);
    if (rc == ST_ENOMEM)
        c->oom = true;
    return rc == ST_ENOMEM ? ST_ENOMEM : rc == ST_OK ? ST_OK : ST_ECORRUPT;
}

static int nm_cmp(const nm_t *a, const nm_t *b)
{
    uint32_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->s, b->s, n);

    if (c != 0)
        return c;
    return a->len < b->len ? -1 : a->len > b->len ? 1 : 0;
}

static int nm_qcmp(const void *pa, const void *pb)
{
    return nm_cmp(pa, pb);
}

static int ent_qcmp(const void *pa, const void *pb)
{
    return nm_cmp(&((const ent_t *)pa)->name, &((const ent_t *)pb)->name);
}

/* Sorts names and drops duplicates; returns the new count. */
static uint32_t nm_sort_unique(nm_t *v, uint32_t n)
{
    uint32_t j = 0;

    if (n > 1)
        qsort(v, n, sizeof *v, nm_qcmp);
    for (uint32_t i = 0; i < n; i++)
        if (j == 0 || v[j - 1].id != v[i].id)
            v[j++] = v[i];
    return j;
}

static bool nm_in(const nm_t *v, uint32_t n, const nm_t *key)
{
    return n > 0 && bsearch(key, v, n, sizeof *v, nm_qcmp) != NULL;
}

static const ent_t *iface_find(const iface_t *f, const nm_t *name)
{
    ent_t key = {.name = *name};
    if (f == NULL || f->n_names == 0)
        return NULL;
    return bsearch(&key, f->names, f->n_names, sizeof key, ent_qcmp);
}

/* The id of "prefix.name"; NONE when absent and add is false. */
static uint32_t join_id(ctx_t *c, uint32_t prefix, uint32_t name, bool add)
{
    nm_t p = nm_of(c, prefix), n = nm_of(c, name);
    char buf[MAX_NAME_BYTES * 2 + 2];
    uint32_t id;

    if (p.len + n.len + 1 > sizeof buf || p.len == 0 || n.len == 0)
        return NONE;
    memcpy(buf, p.s, p.len);
    buf[p.len] = '.';
    memcpy(buf + p.len + 1, n.s, n.len);
    if (!add)
        return intern_find(c->in, buf, p.len + 1 + n.len);
    return intern_id(c, buf, p.len + 1 + n.len, &id) == ST_OK ? id : NONE;
}

static uint32_t top_id(ctx_t *c, uint32_t dotted)
{
    nm_t d = nm_of(c, dotted);
    const char *dot = d.len ? memchr(d.s, '.', d.len) : NULL;
    uint32_t id;

    if (dot == NULL)
        return d.len ? dotted : NONE;
    if (dot == d.s)
        return NONE;
    return intern_id(c, d.s, (size_t)(dot - d.s), &id) == ST_OK ? id : NONE;
}

static mod_t *mod_get(const ctx_t *c, uint32_t name)
{
    uint64_t v;
    if (name == NONE || hmap_get_u64(c->by_name, name, &v) != ST_OK)
        return NULL;
    return &c->mods[v];
}

static iface_t *mod_iface(const ctx_t *c, uint32_t name)
{
    mod_t *m = mod_get(c, name);
    return m != NULL ? m->iface : NULL;
}

static bool is_dunder(const nm_t *n)
{
    return n->len > 4 && memcmp(n->s, "__", 2) == 0 && memcmp(n->s + n->len - 2, "__", 2) == 0;
}

static bool is_sub(ctx_t *c, const iface_t *f, uint32_t mod, const nm_t *name)
{
    if (f != NULL && nm_in(f->subs, f->n_subs, name))
        return true;
    return mod_get(c, join_id(c, mod, name->id, false)) != NULL;
}

/* ---- decoding ----------------------------------------------------------- */

static st_rc_t rd_u32(mpread_t *r, uint32_t *v)
{
    uint64_t x;
    if (mpread_uint(r, &x) != ST_OK || x > UINT32_MAX)
        return ST_ECORRUPT;
    *v = (uint32_t)x;
    return ST_OK;
}

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

static st_rc_t rd_id(ctx_t *c, mpread_t *r, uint32_t *id)
{
    const char *s;
    uint32_t n;

    if (mpread_str(r, &s, &n) != ST_OK || n > MAX_NAME_BYTES)
        return ST_ECORRUPT;
    return intern_id(c, s, n, id);
}

static st_rc_t rd_nm(ctx_t *c, mpread_t *r, nm_t *out)
{
    uint32_t id;
    TRY(rd_id(c, r, &id));
    *out = nm_of(c, id);
    return ST_OK;
}

/* An array of at least min elements; *n its length. */
static st_rc_t rd_tuple(mpread_t *r, uint32_t min, uint32_t *n)
{
    if (mpread_array(r, n) != ST_OK || *n < min)
        return ST_ECORRUPT;
    return ST_OK;
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
static st_rc_t rd_array(ctx_t *c, mpread_t *r, size_t min, size_t size, void **v, uint32_t *n)
{
    if (mpread_array(r, n) != ST_OK || (uint64_t)*n * min > r->len - r->pos)
        return ST_ECORRUPT;
    *v = alloc_n(c, *n, size);
    return *v != NULL ? ST_OK : ST_ENOMEM;
}

static st_rc_t rd_nms(ctx_t *c, mpread_t *r, nm_t **v, uint32_t *n)
{
    TRY(rd_array(c, r, 1, sizeof **v, (void **)v, n));
    for (uint32_t i = 0; i < *n; i++)
        TRY(rd_nm(c, r, &(*v)[i]));
    return ST_OK;
}

static st_rc_t rd_ids(ctx_t *c, mpread_t *r, uint32_t **v, uint32_t *n)
{
    TRY(rd_array(c, r, 1, sizeof **v, (void **)v, n));
    for (uint32_t i = 0; i < *n; i++)
        TRY(rd_id(c, r, &(*v)[i]));
    return ST_OK;
}

/* [flags, [[name, pkind, has_default], ...]] */
static st_rc_t rd_sig(ctx_t *c, mpread_t *r, csig_t *g)
{
    uint32_t n, pn;

    TRY(rd_tuple(r, 2, &n));
    TRY(rd_u8(r, 255, &g->flags));
    TRY(rd_array(c, r, 4, sizeof *g->p, (void **)&g->p, &g->n));
    for (uint32_t i = 0; i < g->n; i++) {
        TRY(rd_tuple(r, 3, &pn));
        TRY(rd_nm(c, r, &g->p[i].name));
        TRY(rd_u8(r, SUM_P_KWARGS, &g->p[i].kind));
        TRY(rd_bool(r, &g->p[i].dflt));
        TRY(skip_rest(r, pn, 3));
    }
    return skip_rest(r, n, 2);
}

static st_rc_t rd_imports(ctx_t *c, mpread_t *r, file_t *f)
{
    uint32_t n;

    TRY(rd_array(c, r, 9, sizeof *f->imps, (void **)&f->imps, &f->n_imps));
    for (uint32_t i = 0; i < f->n_imps; i++) {
        imp_t *m = &f->imps[i];
        memset(m, 0, sizeof *m);
        TRY(rd_tuple(r, 8, &n));
        TRY(rd_u8(r, SUM_FUTURE, &m->kind));
        TRY(rd_u8(r, 255, &m->level));
        TRY(rd_id(c, r, &m->module));
        TRY(rd_id(c, r, &m->name));
        TRY(rd_id(c, r, &m->asname));
        TRY(rd_u32(r, &m->line));
        TRY(rd_u32(r, &m->col));
        TRY(rd_u8(r, 255, &m->flags));
        TRY(skip_rest(r, n, 8));
        m->abs = NONE;
        m->res = R_UNRESOLVED;
    }
    return ST_OK;
}

static st_rc_t rd_defs(ctx_t *c, mpread_t *r, file_t *f)
{
    uint32_t n;

    TRY(rd_array(c, r, 5, sizeof *f->defs, (void **)&f->defs, &f->n_defs));
    for (uint32_t i = 0; i < f->n_defs; i++) {
        def_t *d = &f->defs[i];
        memset(d, 0, sizeof *d);
        TRY(rd_tuple(r, 4, &n));
        TRY(rd_id(c, r, &d->name));
        TRY(rd_u8(r, SUM_DEF_IMPORT, &d->kind));
        TRY(rd_u32(r, &d->line));
        TRY(rd_index(r, &d->sig));
        if (n > 4)
            TRY(rd_u8(r, 255, &d->flags));
        TRY(skip_rest(r, n, n > 4 ? 5 : 4));
    }
    return ST_OK;
}

static st_rc_t rd_classes(ctx_t *c, mpread_t *r, file_t *f)
{
    uint32_t n, mn, line;

    TRY(rd_array(c, r, 5, sizeof *f->classes, (void **)&f->classes, &f->n_classes));
    for (uint32_t i = 0; i < f->n_classes; i++) {
        cls_t *k = &f->classes[i];
        memset(k, 0, sizeof *k);
        TRY(rd_tuple(r, 4, &n));
        TRY(rd_id(c, r, &k->name));
        TRY(rd_u32(r, &line));
        TRY(rd_ids(c, r, &k->bases, &k->n_bases));
        TRY(rd_array(c, r, 4, sizeof *k->members, (void **)&k->members, &k->n_members));
        for (uint32_t j = 0; j < k->n_members; j++) {
            TRY(rd_tuple(r, 3, &mn));
            TRY(rd_id(c, r, &k->members[j].name));
            TRY(rd_u8(r, SUM_DEF_IMPORT, &k->members[j].kind));
            TRY(rd_index(r, &k->members[j].sig));
            TRY(skip_rest(r, mn, 3));
        }
        k->flags = CLASS_FLAGS_UNKNOWN; /* an older summary: decorators unknown */
        if (n > 4)
            TRY(rd_u8(r, 255, &k->flags));
        TRY(skip_rest(r, n, n > 4 ? 5 : 4));
    }
    return ST_OK;
}

static st_rc_t rd_uses(ctx_t *c, mpread_t *r, file_t *f)
{
    uint32_t n;

    TRY(rd_array(c, r, 5, sizeof *f->uses, (void **)&f->uses, &f->n_uses));
    for (uint32_t i = 0; i < f->n_uses; i++) {
        use_t *u = &f->uses[i];
        memset(u, 0, sizeof *u);
        TRY(rd_tuple(r, 4, &n));
        TRY(rd_index(r, &u->imp));
        TRY(rd_ids(c, r, &u->chain, &u->n));
        TRY(rd_u32(r, &u->line));
        TRY(rd_u32(r, &u->col));
        if (n > 4)
            TRY(rd_u8(r, 255, &u->flags));
        TRY(skip_rest(r, n, n > 4 ? 5 : 4));
    }
    return ST_OK;
}

static st_rc_t rd_calls(ctx_t *c, mpread_t *r, file_t *f)
{
    uint32_t n;

    TRY(rd_array(c, r, 6, sizeof *f->calls, (void **)&f->calls, &f->n_calls));
    for (uint32_t i = 0; i < f->n_calls; i++) {
        call_t *k = &f->calls[i];
        TRY(rd_tuple(r, 5, &n));
        TRY(rd_index(r, &k->use));
        TRY(rd_u32(r, &k->npos));
        TRY(rd_ids(c, r, &k->kw, &k->nkw));
        TRY(rd_bool(r, &k->star));
        TRY(rd_bool(r, &k->dstar));
        TRY(skip_rest(r, n, 5));
    }
    return ST_OK;
}

static st_rc_t rd_stars(ctx_t *c, mpread_t *r, file_t *f)
{
    uint32_t n;

    TRY(rd_array(c, r, 5, sizeof *f->stars, (void **)&f->stars, &f->n_stars));
    for (uint32_t i = 0; i < f->n_stars; i++) {
        star_t *s = &f->stars[i];
        TRY(rd_tuple(r, 4, &n));
        TRY(rd_id(c, r, &s->name));
        TRY(rd_u32(r, &s->line));
        TRY(rd_u32(r, &s->col));
        TRY(rd_bool(r, &s->in_all));
        TRY(skip_rest(r, n, 4));
    }
    return ST_OK;
}

static st_rc_t rd_noqa(ctx_t *c, mpread_t *r, file_t *f)
{
    uint32_t n, id;

    TRY(rd_array(c, r, 4, sizeof *f->noqa, (void **)&f->noqa, &f->n_noqa));
    for (uint32_t i = 0; i < f->n_noqa; i++) {
        noqa_t *q = &f->noqa[i];
        TRY(rd_tuple(r, 3, &n));
        TRY(rd_u32(r, &q->first));
        TRY(rd_u32(r, &q->last));
        q->codes = NULL;
        q->n = 0;
        if (!mpread_nil(r)) {
            TRY(rd_array(c, r, 1, sizeof *q->codes, (void **)&q->codes, &q->n));
            for (uint32_t k = 0; k < q->n; k++) {
                TRY(rd_id(c, r, &id));
                q->codes[k] = nm_of(c, id).s;
            }
        }
        TRY(skip_rest(r, n, 3));
    }
    return ST_OK;
}

static st_rc_t rd_summary(ctx_t *c, mpread_t *r, file_t *f)
{
    uint32_t n;

    if (mpread_map(r, &n) != ST_OK)
        return ST_ECORRUPT;
    for (uint32_t k = 0; k < n; k++) {
        if (mpread_key(r, "imports")) {
            TRY(rd_imports(c, r, f));
        } else if (mpread_key(r, "defs")) {
            TRY(rd_defs(c, r, f));
        } else if (mpread_key(r, "sigs")) {
            TRY(rd_array(c, r, 3, sizeof *f->sigs, (void **)&f->sigs, &f->n_sigs));
            for (uint32_t i = 0; i < f->n_sigs; i++)
                TRY(rd_sig(c, r, &f->sigs[i]));
        } else if (mpread_key(r, "classes")) {
            TRY(rd_classes(c, r, f));
        } else if (mpread_key(r, "all")) {
            f->has_all = !mpread_nil(r);
            if (f->has_all)
                TRY(rd_nms(c, r, &f->all, &f->n_all));
        } else if (mpread_key(r, "getattr")) {
            TRY(rd_bool(r, &f->getattr));
        } else if (mpread_key(r, "dynamic")) {
            TRY(rd_bool(r, &f->dynamic));
        } else if (mpread_key(r, "uses")) {
            TRY(rd_uses(c, r, f));
        } else if (mpread_key(r, "calls")) {
            TRY(rd_calls(c, r, f));
        } else if (mpread_key(r, "stars")) {
            TRY(rd_stars(c, r, f));
        } else if (mpread_key(r, "noqa")) {
            TRY(rd_noqa(c, r, f));
        } else if (mpread_skip(r) != ST_OK || mpread_skip(r) != ST_OK) {
            return ST_ECORRUPT;
        }
    }
    f->has_summary = true;
    return ST_OK;
}

/* "res": one [kind, abs] per import; decoded into the imports once both
 * are known (the keys may come in any order), so kept as a span here. */
static st_rc_t rd_res(ctx_t *c, mpread_t *r, file_t *f)
{
    uint32_t n, tn;

    if (mpread_array(r, &n) != ST_OK || n != f->n_imps)
        return ST_ECORRUPT;
    for (uint32_t i = 0; i < n; i++) {
        TRY(rd_tuple(r, 2, &tn));
        TRY(rd_u8(r, R_FUTURE, &f->imps[i].res));
        TRY(rd_id(c, r, &f->imps[i].abs));
        TRY(skip_rest(r, tn, 2));
    }
    f->n_res = n;
    f->has_res = true;
    return ST_OK;
}

/* Indices between the summary's tables must point inside them. */
static st_rc_t validate_file(const file_t *f)
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
        if (f->uses[i].imp < 0 || f->uses[i].imp >= (int64_t)f->n_imps)
            return ST_ECORRUPT;
    for (uint32_t i = 0; i < f->n_calls; i++)
        if (f->calls[i].use < 0 || f->calls[i].use >= (int64_t)f->n_uses)
            return ST_ECORRUPT;
    return ST_OK;
}

static st_rc_t rd_module(ctx_t *c, mpread_t *r, file_t *f)
{
    uint32_t n;
    bool has_name = false, has_file = false;
    size_t res_pos = SIZE_MAX;

    if (mpread_map(r, &n) != ST_OK)
        return ST_ECORRUPT;
    for (uint32_t k = 0; k < n; k++) {
        if (mpread_key(r, "name")) {
            TRY(rd_nm(c, r, &f->name));
            has_name = f->name.len > 0;
        } else if (mpread_key(r, "file")) {
            TRY(rd_u32(r, &f->file));
            has_file = true;
        } else if (mpread_key(r, "pkg")) {
            TRY(rd_bool(r, &f->pkg));
        } else if (mpread_key(r, "export")) {
            TRY(rd_bool(r, &f->export));
        } else if (mpread_key(r, "subs")) {
            TRY(rd_nms(c, r, &f->subs, &f->n_subs));
        } else if (mpread_key(r, "summary")) {
            if (f->has_summary)
                return ST_ECORRUPT;
            TRY(rd_summary(c, r, f));
        } else if (mpread_key(r, "res")) {
            res_pos = r->pos; /* read once the imports are known */
            if (mpread_skip(r) != ST_OK)
                return ST_ECORRUPT;
        } else if (mpread_skip(r) != ST_OK || mpread_skip(r) != ST_OK) {
            return ST_ECORRUPT;
        }
    }
    if (!has_name || !has_file || !f->has_summary || res_pos == SIZE_MAX)
        return ST_ECORRUPT;
    {
        mpread_t rr = *r;
        rr.pos = res_pos;
        TRY(rd_res(c, &rr, f));
    }
    f->n_subs = nm_sort_unique(f->subs, f->n_subs);
    return validate_file(f);
}

/* An interface map (check.h), made canonical on the way in. */
static st_rc_t rd_iface(ctx_t *c, mpread_t *r, iface_t *f)
{
    uint32_t n, en;
    bool has_name = false;

    memset(f, 0, sizeof *f);
    if (mpread_map(r, &n) != ST_OK)
        return ST_ECORRUPT;
    for (uint32_t k = 0; k < n; k++) {
        if (mpread_key(r, "name")) {
            TRY(rd_nm(c, r, &f->name));
            has_name = f->name.len > 0;
        } else if (mpread_key(r, "open")) {
            TRY(rd_bool(r, &f->open));
        } else if (mpread_key(r, "all")) {
            f->has_all = !mpread_nil(r);
            if (f->has_all)
                TRY(rd_nms(c, r, &f->all, &f->n_all));
        } else if (mpread_key(r, "subs")) {
            TRY(rd_nms(c, r, &f->subs, &f->n_subs));
        } else if (mpread_key(r, "names")) {
            TRY(rd_array(c, r, 5, sizeof *f->names, (void **)&f->names, &f->n_names));
            for (uint32_t i = 0; i < f->n_names; i++) {
                ent_t *e = &f->names[i];
                csig_t *g;
                TRY(rd_tuple(r, 4, &en));
                TRY(rd_nm(c, r, &e->name));
                TRY(rd_u8(r, E_UNKNOWN, &e->kind));
                e->sig = NULL;
                e->ref = NONE;
                if (!mpread_nil(r)) {
                    if ((g = alloc_n(c, 1, sizeof *g)) == NULL)
                        return ST_ENOMEM;
                    TRY(rd_sig(c, r, g));
                    e->sig = g;
                }
                if (!mpread_nil(r))
                    TRY(rd_id(c, r, &e->ref));
                TRY(skip_rest(r, en, 4));
            }
        } else if (mpread_skip(r) != ST_OK || mpread_skip(r) != ST_OK) {
            return ST_ECORRUPT;
        }
    }
    if (!has_name)
        return ST_ECORRUPT;
    f->n_subs = nm_sort_unique(f->subs, f->n_subs);
    if (f->has_all)
        f->n_all = nm_sort_unique(f->all, f->n_all);
    if (f->n_names > 1)
        qsort(f->names, f->n_names, sizeof *f->names, ent_qcmp);
    {
        uint32_t j = 0; /* a name given twice: the first wins */
        for (uint32_t i = 0; i < f->n_names; i++)
            if (j == 0 || f->names[j - 1].name.id != f->names[i].name.id)
                f->names[j++] = f->names[i];
        f->n_names = j;
    }
    return ST_OK;
}

static st_rc_t rd_input(ctx_t *c, mpread_t *r)
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
            TRY(rd_array(c, r, 10, sizeof *c->files, (void **)&c->files, &c->n_files));
            memset(c->files, 0, (size_t)c->n_files * sizeof *c->files);
            for (uint32_t i = 0; i < c->n_files; i++)
                TRY(rd_module(c, r, &c->files[i]));
            has_mods = true;
        } else if (mpread_key(r, "ifaces")) {
            if (c->ext != NULL)
                return ST_ECORRUPT;
            TRY(rd_array(c, r, 3, sizeof *c->ext, (void **)&c->ext, &c->n_ext));
            for (uint32_t i = 0; i < c->n_ext; i++)
                TRY(rd_iface(c, r, &c->ext[i]));
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
            m->bound = nm_of(c, m->asname).len ? m->asname : top_id(c, m->module);
        else if (m->kind == SUM_FROM)
            m->bound = nm_of(c, m->asname).len ? m->asname : m->name;
        if (m->bound == NONE || nm_of(c, m->bound).len == 0)
            continue;
        uint64_t val = (uint64_t)i | (uint64_t)(m->flags & SUM_NESTED) << 32;
        if (hmap_get_u64(f->bound, m->bound, &prev) == ST_OK) {
            bool pn = (prev >> 32) & SUM_NESTED, nn = m->flags & SUM_NESTED;
            const imp_t *p = (prev & 0xffffffffu) != NONE ? &f->imps[prev & 0xffffffffu] : NULL;
            if (p != NULL && pn == nn && p->kind == SUM_IMPORT && m->kind == SUM_IMPORT &&
                nm_of(c, p->asname).len == 0 && nm_of(c, m->asname).len == 0)
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

static const imp_t *binding_import(const file_t *f, uint32_t name)
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

    if (k->flags != 0)
        return NULL;
    for (uint32_t i = 0; i < k->n_bases; i++)
        if (strcmp(nm_of(c, k->bases[i]).s, "object") != 0)
            return NULL;
    for (uint32_t i = 0; i < k->n_members; i++) {
        const char *mn = nm_of(c, k->members[i].name).s;
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
    if ((g = alloc_n(c, 1, sizeof *g)) == NULL)
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
        (c->mods = alloc_n(c, total, sizeof *c->mods)) == NULL ||
        (c->by_name = hmap_new_arena(c->a, HMAP_U64)) == NULL ||
        (c->stores = hmap_new_arena(c->a, HMAP_BYTES)) == NULL ||
        (c->r0401 = hmap_new_arena(c->a, HMAP_U64)) == NULL)
        return ST_ENOMEM;
    for (int pass = 0; pass < 2; pass++) {
        uint32_t n = pass == 0 ? c->n_files : c->n_ext;
        for (uint32_t i = 0; i < n; i++) {
            uint32_t name = pass == 0 ? c->files[i].name.id : c->ext[i].name.id;
            if ((pass == 0 && !c->files[i].export) || mod_get(c, name) != NULL)
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

    if (seen == NULL || (f->star_from = alloc_n(c, f->n_imps, sizeof *f->star_from)) == NULL)
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
    if ((defs = alloc_n(c, (size_t)f->n_defs + extra, sizeof *defs)) == NULL)
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

static st_rc_t prepare(ctx_t *c)
{
    TRY(index_modules(c));
    for (uint32_t i = 0; i < c->n_files; i++) {
        file_t *f = &c->files[i];
        hmap_t *classes = hmap_new_arena(c->a, HMAP_U64);
        if (classes == NULL)
            return ST_ENOMEM;
        TRY(add_global_enum_members(c, f));
        TRY(index_bindings(c, f));
        TRY(index_stars(c, f));
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
            f->n_all = nm_sort_unique(f->all, f->n_all);
        diag_list_init(&f->diags, c->a);
    }
    return ST_OK;
}

/* ---- interfaces -------------------------------------------------------------- */

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
    const iface_t *f = mod_iface(c, x);
    nm_t yn = nm_of(c, y);
    const ent_t *e = iface_find(f, &yn);
    uint32_t sub = NONE;
    ent_t r;

    if (is_sub(c, f, x, &yn))
        sub = join_id(c, x, y, true);
    if (sub != NONE && (e == NULL || (e->kind == E_MOD && e->ref == sub)))
        return module_ent(sub);
    if (e == NULL || sub != NONE)
        return unknown_ent(); /* absent, or both a name and a submodule */
    r = *e;
    return r;
}

static ent_t import_ent(ctx_t *c, const imp_t *m)
{
    if (m->kind == SUM_IMPORT && m->abs != NONE && nm_of(c, m->abs).len > 0) {
        if (nm_of(c, m->asname).len > 0)
            return module_ent(m->abs);
        return module_ent(top_id(c, m->abs));
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
        break;
    case SUM_DEF_CLASS:
        e.kind = E_CLASS;
        e.sig = rebound ? NULL : d->ctor;
        break;
    case SUM_DEF_VARIABLE:
        e.kind = E_VAR;
        break;
    default:
        if (!rebound && (m = binding_import(f, d->name)) != NULL)
            e = import_ent(c, m);
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
    return !f->has_all && iface_find(f, &all) == NULL;
}

/* Whether a star import of module m (interface f) binds name. */
static bool star_provides(ctx_t *c, const iface_t *f, uint32_t m, const nm_t *name)
{
    if (f->has_all)
        return nm_in(f->all, f->n_all, name) &&
               (iface_find(f, name) != NULL || is_sub(c, f, m, name));
    if (star_public_only(f) && name->len > 0 && name->s[0] == '_')
        return false;
    return iface_find(f, name) != NULL || is_sub(c, f, m, name);
}

/* The interface a star import of m brings in, or NULL when it cannot be
 * known (not a known closed project module). self: the importing module. */
static const iface_t *star_source(ctx_t *c, const imp_t *m, uint32_t self)
{
    const iface_t *f;

    if (m->res != R_PROJECT || m->abs == self || (f = mod_iface(c, m->abs)) == NULL || f->open)
        return NULL;
    return f;
}

/* The names a star import of f (module id m) binds. */
static void star_names(ctx_t *c, const iface_t *f, uint32_t m, entvec_t *ev)
{
    if (f->has_all) {
        for (uint32_t i = 0; i < f->n_all; i++) {
            const ent_t *e = iface_find(f, &f->all[i]);
            ent_t x;
            if (e != NULL)
                x = *e;
            else if (is_sub(c, f, m, &f->all[i]))
                x = module_ent(join_id(c, m, f->all[i].id, true));
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
        qsort(v, n, sizeof *v, ent_qcmp);
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

/* One round's interface of component module m from the current ones. */
static st_rc_t build_iface(ctx_t *c, const mod_t *m, iface_t *out, entvec_t *ev)
{
    const file_t *f = m->file;

    memset(out, 0, sizeof *out);
    ev->n = 0;
    out->name = f->name;
    out->open = f->getattr || f->dynamic;
    out->has_all = f->has_all;
    out->all = f->all;
    out->n_all = f->n_all;
    out->subs = f->subs;
    out->n_subs = f->n_subs;
    for (uint32_t i = 0; i < f->n_defs; i++) {
        ent_t e = def_ent(c, f, &f->defs[i]);
        e.name = nm_of(c, f->defs[i].name);
        if (e.name.len > 0)
            ev_push(c, ev, e);
    }
    for (uint32_t i = 0; i < f->n_star_from && !out->open; i++) {
        const imp_t *im = &f->imps[f->star_from[i]];
        const iface_t *src;
        if ((src = star_source(c, im, m->name)) == NULL)
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
        while (j < prev->n_names && nm_cmp(&prev->names[j].name, &cur->names[i].name) < 0)
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
static st_rc_t compute_ifaces(ctx_t *c)
{
    iface_t *ifs[2];
    entvec_t *evs[2];
    bool settled = false;

    if (c->n_comp == 0)
        return ST_OK;
    for (int k = 0; k < 2; k++) {
        ifs[k] = alloc_n(c, c->n_comp, sizeof *ifs[k]);
        evs[k] = alloc_n(c, c->n_comp, sizeof *evs[k]);
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
            TRY(build_iface(c, &c->mods[i], &next[i], &ev[i]));
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

/* ---- walking uses ------------------------------------------------------------- */

typedef enum {
    W_STOP,    /* nothing known */
    W_MODULE,  /* the chain ends on a known module */
    W_ENTRY,   /* the chain ends on a name of a module */
    W_MISSING, /* chain[at] is not an attribute of closed module mod */
} walk_kind_t;

typedef struct {
    walk_kind_t kind;
    uint32_t mod; /* W_MODULE: it; W_ENTRY, W_MISSING: the module holding the name */
    uint32_t at;  /* chain index of the entry or the missing name */
    ent_t ent;
} walk_t;

static bool stored(ctx_t *c, uint32_t mod, uint32_t name)
{
    uint32_t key[2] = {mod, name};
    return hmap_get(c->stores, key, sizeof key, NULL) == ST_OK;
}

/* Walks chain[0..n) from what import m binds, through modules only. */
static walk_t walk(ctx_t *c, const imp_t *m, const uint32_t *chain, uint32_t n)
{
    walk_t w = {.kind = W_STOP, .mod = NONE, .at = 0};
    ent_t start;

    if (m->res != R_PROJECT || (m->kind != SUM_IMPORT && m->kind != SUM_FROM))
        return w;
    start = import_ent(c, m);
    if (start.kind != E_MOD) {
        if (n == 0 && start.kind != E_UNKNOWN && m->kind == SUM_FROM &&
            mod_iface(c, m->abs) != NULL) {
            w.kind = W_ENTRY;
            w.mod = m->abs;
            w.ent = start;
        }
        return w;
    }
    w.mod = start.ref;
    for (uint32_t i = 0; i < n; i++) {
        const iface_t *f = mod_iface(c, w.mod);
        nm_t x = nm_of(c, chain[i]);
        const ent_t *e;
        uint32_t sub = NONE;
        if (f == NULL)
            return (walk_t){.kind = W_STOP};
        e = iface_find(f, &x);
        if (is_sub(c, f, w.mod, &x))
            sub = join_id(c, w.mod, x.id, true);
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
        if (e != NULL || f->open || is_dunder(&x) || stored(c, w.mod, x.id))
            return (walk_t){.kind = W_STOP};
        w.kind = W_MISSING;
        w.at = i;
        return w;
    }
    w.kind = mod_get(c, w.mod) != NULL ? W_MODULE : W_STOP;
    return w;
}

/* Attributes the component assigns on modules (`m.x = 1`) exist. */
static st_rc_t collect_stores(ctx_t *c)
{
    for (uint32_t i = 0; i < c->n_files; i++) {
        const file_t *f = &c->files[i];
        for (uint32_t k = 0; k < f->n_uses; k++) {
            const use_t *u = &f->uses[k];
            if (!(u->flags & SUM_USE_STORE) || u->n == 0)
                continue;
            walk_t w = walk(c, &f->imps[u->imp], u->chain, u->n - 1);
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

static void report(ctx_t *c, file_t *f, uint32_t line, uint32_t col, const char *code,
                   const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void report(ctx_t *c, file_t *f, uint32_t line, uint32_t col, const char *code,
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

static uint32_t col1(uint32_t col)
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
    if (is_sub(c, src, self, name) || is_dunder(name) || stored(c, self, name->id))
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
        nm_t abs = nm_of(c, m->abs), name = nm_of(c, m->name);
        const iface_t *src;
        if (m->flags & (SUM_GUARDED | SUM_TYPE_CHECKING))
            continue; /* as pylint: a failing import is handled, or never runs */
        if (m->res == R_UNRESOLVED && m->kind != SUM_FUTURE) {
            uint32_t key[3] = {m->line, m->col, m->abs}; /* `from x import a, b`: once */
            if (hmap_get(seen, key, sizeof key, NULL) == ST_OK)
                continue;
            if (hmap_put(seen, key, sizeof key, 1) != ST_OK)
                c->oom = true;
            report(c, f, m->line, col1(m->col), "E0401", "Unable to import '%.*s'", (int)abs.len,
                   abs.s);
            continue;
        }
        if (m->kind != SUM_FROM || m->res != R_PROJECT || name.len == 0)
            continue;
        if ((src = mod_iface(c, m->abs)) == NULL || src->open)
            continue;
        if (m->abs == f->name.id && !self_import_defines(c, f, src, m->abs, &name))
            ; /* `from . import x` in a package's __init__: x must exist without it */
        else if (iface_find(src, &name) != NULL || is_sub(c, src, m->abs, &name) ||
                 is_dunder(&name) || stored(c, m->abs, name.id))
            continue;
        report(c, f, m->line, col1(m->col), "E0611", "No name '%.*s' in module '%.*s'",
               (int)name.len, name.s, (int)abs.len, abs.s);
    }
}

static void check_uses(ctx_t *c, file_t *f)
{
    for (uint32_t i = 0; i < f->n_uses; i++) {
        const use_t *u = &f->uses[i];
        walk_t w;
        if (u->flags & (SUM_USE_STORE | SUM_USE_GUARDED) || u->n == 0)
            continue;
        w = walk(c, &f->imps[u->imp], u->chain, u->n);
        if (w.kind != W_MISSING)
            continue;
        nm_t mod = nm_of(c, w.mod), x = nm_of(c, u->chain[w.at]);
        report(c, f, u->line, col1(u->col), "E1101", "Module '%.*s' has no '%.*s' member",
               (int)mod.len, mod.s, (int)x.len, x.s);
    }
}

/* Binds a call's arguments to a signature as Python does. */
static void check_call(ctx_t *c, file_t *f, const use_t *u, const call_t *k, const ent_t *e)
{
    const csig_t *g = e->sig;
    const char *what = e->kind == E_CLASS ? "constructor" : "function";
    uint32_t n_slots = 0, line = u->line, col = col1(u->col);
    bool varargs = false, kwargs = false, *bound;

    if (g->n > MAX_CALL_CHECK || k->nkw > MAX_CALL_CHECK ||
        (bound = alloc_n(c, g->n ? g->n : 1, sizeof *bound)) == NULL)
        return;
    for (uint32_t i = 0; i < g->n; i++) {
        bound[i] = false;
        if (g->p[i].kind <= SUM_P_NORMAL)
            n_slots++;
        varargs |= g->p[i].kind == SUM_P_VARARGS;
        kwargs |= g->p[i].kind == SUM_P_KWARGS;
    }
    if (k->npos > n_slots && !varargs && !k->star)
        report(c, f, line, col, "E1121", "Too many positional arguments for %s call", what);
    for (uint32_t i = 0, p = 0; i < g->n && p < k->npos; i++)
        if (g->p[i].kind <= SUM_P_NORMAL)
            bound[i] = true, p++;
    for (uint32_t j = 0; j < k->nkw; j++) {
        uint32_t hit = NONE;
        for (uint32_t i = 0; i < g->n && hit == NONE; i++)
            if (g->p[i].name.id == k->kw[j] && g->p[i].kind <= SUM_P_KWONLY &&
                g->p[i].kind != SUM_P_VARARGS)
                hit = i;
        if (hit != NONE && g->p[hit].kind != SUM_P_POSONLY) {
            bound[hit] = true;
            continue;
        }
        if (kwargs || k->dstar)
            continue;
        nm_t kn = nm_of(c, k->kw[j]);
        report(c, f, line, col, "E1123", "Unexpected keyword argument '%.*s' in %s call",
               (int)kn.len, kn.s, what);
    }
    if (k->star || k->dstar)
        return;
    for (uint32_t i = 0; i < g->n; i++) {
        uint8_t pk = g->p[i].kind;
        if (bound[i] || g->p[i].dflt || pk == SUM_P_VARARGS || pk == SUM_P_KWARGS)
            continue;
        if (pk == SUM_P_KWONLY)
            continue; /* pylint's E1125 missing-kwoa, not one of ours */
        report(c, f, line, col, "E1120", "No value for argument '%.*s' in %s call",
               (int)g->p[i].name.len, g->p[i].name.s, what);
    }
}

static void check_calls(ctx_t *c, file_t *f)
{
    for (uint32_t i = 0; i < f->n_calls; i++) {
        const call_t *k = &f->calls[i];
        const use_t *u = &f->uses[k->use];
        walk_t w;
        if (u->flags & (SUM_USE_STORE | SUM_USE_GUARDED))
            continue;
        w = walk(c, &f->imps[u->imp], u->chain, u->n);
        if (w.kind != W_ENTRY || (u->n > 0 && w.at + 1 != u->n))
            continue; /* not a name of a module (a method, an attribute of a value) */
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
        if (star_source(c, &f->imps[f->star_from[i]], self) == NULL)
            all_known = false;
    for (uint32_t s = 0; s < f->n_stars; s++) {
        const star_t *st = &f->stars[s];
        nm_t name = nm_of(c, st->name);
        bool provided = false;
        for (uint32_t i = 0; i < f->n_star_from && !provided; i++) {
            const imp_t *m = &f->imps[f->star_from[i]];
            const iface_t *src = star_source(c, m, self);
            provided = src != NULL && star_provides(c, src, m->abs, &name);
        }
        if (!provided && !all_known)
            continue; /* an open or unknown source may bind it: F405 stays */
        add_drop(c, f, st->line, st->col);
        if (provided)
            continue;
        if (st->in_all)
            report(c, f, st->line, st->col, "F822", "undefined name '%.*s' in __all__",
                   (int)name.len, name.s);
        else
            report(c, f, st->line, st->col, "F821", "undefined name '%.*s'", (int)name.len, name.s);
    }
}

/* ---- R0401 ---------------------------------------------------------------------- */

/* An import of a component module by another, at load time. */
typedef struct {
    uint32_t to, to_rank; /* module index, and its rank in name order */
    file_t *file;         /* where the import is written */
    uint32_t line, col;
} edge_t;

typedef struct {
    edge_t *v;
    uint32_t n, cap;
} edges_t;

static int edge_qcmp(const void *pa, const void *pb)
{
    const edge_t *a = pa, *b = pb;

    if (a->to_rank != b->to_rank)
        return a->to_rank < b->to_rank ? -1 : 1;
    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    return a->col < b->col ? -1 : a->col > b->col ? 1 : 0;
}

typedef struct {
    nm_t name;
    uint32_t mod;
} ranked_t;

static int ranked_qcmp(const void *pa, const void *pb)
{
    return nm_cmp(&((const ranked_t *)pa)->name, &((const ranked_t *)pb)->name);
}

/* The component module an import makes its module load (at module level,
 * unconditionally: imports under `if TYPE_CHECKING:` or in functions do
 * not make a cycle at import time), or NONE. */
static uint32_t edge_target(ctx_t *c, const imp_t *m)
{
    mod_t *t = NULL;

    if (m->res != R_PROJECT || m->kind == SUM_FUTURE ||
        (m->flags & (SUM_NESTED | SUM_CONDITIONAL)) != 0)
        return NONE;
    if (m->kind == SUM_FROM)
        t = mod_get(c, join_id(c, m->abs, m->name, false));
    if (t == NULL || t->file == NULL)
        t = mod_get(c, m->abs);
    if (t == NULL || t->file == NULL)
        return NONE;
    return (uint32_t)(t - c->mods);
}

static st_rc_t edge_push(ctx_t *c, edges_t *e, edge_t x)
{
    if (e->n == e->cap) {
        uint32_t ncap = e->cap ? e->cap * 2 : 4;
        edge_t *p;
        if (ncap < e->cap || (p = arena_realloc(c->a, e->v, (size_t)e->cap * sizeof *p,
                                                (size_t)ncap * sizeof *p)) == NULL)
            return ST_ENOMEM;
        e->v = p;
        e->cap = ncap;
    }
    e->v[e->n++] = x;
    return ST_OK;
}

/* Edges of each component module, sorted by target name then position. A
 * stub beside its .py imports for type checkers only: when a module has
 * two files, the export one (the stub) gives no edge. */
static st_rc_t build_edges(ctx_t *c, const uint32_t *rank, edges_t *adj)
{
    uint32_t *n_files = alloc_n(c, c->n_comp, sizeof *n_files);

    if (n_files == NULL)
        return ST_ENOMEM;
    memset(n_files, 0, (size_t)c->n_comp * sizeof *n_files);
    for (uint32_t i = 0; i < c->n_files; i++) {
        mod_t *m = mod_get(c, c->files[i].name.id);
        if (m != NULL && m->file != NULL)
            n_files[m - c->mods]++;
    }
    for (uint32_t i = 0; i < c->n_files; i++) {
        file_t *f = &c->files[i];
        mod_t *from = mod_get(c, f->name.id);
        if (from == NULL || from->file == NULL || (n_files[from - c->mods] > 1 && from->file == f))
            continue;
        for (uint32_t k = 0; k < f->n_imps; k++) {
            uint32_t to = edge_target(c, &f->imps[k]);
            if (to == NONE || &c->mods[to] == from)
                continue;
            edge_t x = {to, rank[to], f, f->imps[k].line, f->imps[k].col};
            TRY(edge_push(c, &adj[from - c->mods], x));
        }
    }
    for (uint32_t i = 0; i < c->n_comp; i++)
        if (adj[i].n > 1)
            qsort(adj[i].v, adj[i].n, sizeof *adj[i].v, edge_qcmp);
    return ST_OK;
}

/* "Cyclic import (a -> b -> c)": the modules of the DFS stack from the
 * target of the back edge to its source, on the import that closes it. */
static void report_cycle(ctx_t *c, const uint32_t *stack, uint32_t from, uint32_t to,
                         const edge_t *e)
{
    char msg[MAX_CYCLE_TEXT + 8];
    size_t len = 0;
    uint64_t key = (uint64_t)(e->file - c->files) << 32 | e->line;

    if (hmap_get_u64(c->r0401, key, NULL) == ST_OK)
        return;
    if (hmap_put_u64(c->r0401, key, 1) != ST_OK) {
        c->oom = true;
        return;
    }
    for (uint32_t i = from; i <= to; i++) {
        nm_t n = nm_of(c, c->mods[stack[i]].name);
        if (len + n.len + 7 > MAX_CYCLE_TEXT) {
            memcpy(msg + len, " -> ...", 7);
            len += 7;
            break;
        }
        if (i > from) {
            memcpy(msg + len, " -> ", 4);
            len += 4;
        }
        memcpy(msg + len, n.s, n.len);
        len += n.len;
    }
    report(c, e->file, e->line, col1(e->col), "R0401", "Cyclic import (%.*s)", (int)len, msg);
}

/* A depth-first search from each module in name order, successors in name
 * order, with an explicit stack; every back edge closes one cycle. */
static st_rc_t check_cycles(ctx_t *c)
{
    uint32_t n = c->n_comp, sp = 0;
    ranked_t *order;
    uint32_t *rank, *stack, *next, *pos;
    uint8_t *color;
    edges_t *adj;

    if (n < 2)
        return ST_OK;
    order = alloc_n(c, n, sizeof *order);
    rank = alloc_n(c, n, sizeof *rank);
    stack = alloc_n(c, n, sizeof *stack);
    next = alloc_n(c, n, sizeof *next);
    pos = alloc_n(c, n, sizeof *pos);
    color = alloc_n(c, n, sizeof *color);
    adj = alloc_n(c, n, sizeof *adj);
    if (c->oom)
        return ST_ENOMEM;
    for (uint32_t i = 0; i < n; i++)
        order[i] = (ranked_t){nm_of(c, c->mods[i].name), i};
    qsort(order, n, sizeof *order, ranked_qcmp);
    for (uint32_t i = 0; i < n; i++)
        rank[order[i].mod] = i;
    memset(color, 0, n);
    memset(adj, 0, (size_t)n * sizeof *adj);
    TRY(build_edges(c, rank, adj));
    for (uint32_t r = 0; r < n; r++) {
        if (color[order[r].mod] != 0)
            continue;
        stack[0] = order[r].mod;
        next[0] = 0;
        pos[order[r].mod] = 0;
        color[order[r].mod] = 1;
        sp = 1;
        while (sp > 0) {
            uint32_t u = stack[sp - 1];
            if (next[sp - 1] == adj[u].n) {
                color[u] = 2;
                sp--;
                continue;
            }
            uint32_t ei = next[sp - 1]++;
            const edge_t *e = &adj[u].v[ei];
            if (ei > 0 && adj[u].v[ei - 1].to == e->to)
                continue; /* one edge per target: its first import */
            if (color[e->to] == 1) {
                report_cycle(c, stack, pos[e->to], sp - 1, e);
            } else if (color[e->to] == 0) {
                color[e->to] = 1;
                pos[e->to] = sp;
                stack[sp] = e->to;
                next[sp] = 0;
                sp++;
            }
        }
    }
    return c->oom ? ST_ENOMEM : ST_OK;
}

/* ---- noqa and the result ----------------------------------------------------------- */

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
    if ((reach = alloc_n(c, f->n_noqa, sizeof *reach)) == NULL)
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

static int buf_write(void *data, const char *p, size_t n)
{
    return buf_append((buf_t *)data, p, n) == ST_OK ? 0 : -1;
}

static void pack_bytes(msgpack_packer *pk, const char *s, size_t n)
{
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

static void pack_cstr(msgpack_packer *pk, const char *s)
{
    pack_bytes(pk, s, strlen(s));
}

static void pack_bool(msgpack_packer *pk, bool b)
{
    if (b)
        msgpack_pack_true(pk);
    else
        msgpack_pack_false(pk);
}

static void pack_nms(msgpack_packer *pk, const nm_t *v, uint32_t n)
{
    msgpack_pack_array(pk, n);
    for (uint32_t i = 0; i < n; i++)
        pack_bytes(pk, v[i].s, v[i].len);
}

static void pack_sig(msgpack_packer *pk, const csig_t *g)
{
    msgpack_pack_array(pk, 2);
    msgpack_pack_uint8(pk, g->flags);
    msgpack_pack_array(pk, g->n);
    for (uint32_t i = 0; i < g->n; i++) {
        msgpack_pack_array(pk, 3);
        pack_bytes(pk, g->p[i].name.s, g->p[i].name.len);
        msgpack_pack_uint8(pk, g->p[i].kind);
        pack_bool(pk, g->p[i].dflt);
    }
}

/* The canonical interface map (check.h). */
static void pack_iface(const ctx_t *c, msgpack_packer *pk, const iface_t *f)
{
    msgpack_pack_map(pk, 5);
    pack_cstr(pk, "name");
    pack_bytes(pk, f->name.s, f->name.len);
    pack_cstr(pk, "open");
    pack_bool(pk, f->open);
    pack_cstr(pk, "all");
    if (f->has_all)
        pack_nms(pk, f->all, f->n_all);
    else
        msgpack_pack_nil(pk);
    pack_cstr(pk, "subs");
    pack_nms(pk, f->subs, f->n_subs);
    pack_cstr(pk, "names");
    msgpack_pack_array(pk, f->n_names);
    for (uint32_t i = 0; i < f->n_names; i++) {
        const ent_t *e = &f->names[i];
        msgpack_pack_array(pk, 4);
        pack_bytes(pk, e->name.s, e->name.len);
        msgpack_pack_uint8(pk, e->kind);
        if (e->sig != NULL && (e->kind == E_FUNC || e->kind == E_CLASS))
            pack_sig(pk, e->sig);
        else
            msgpack_pack_nil(pk);
        if (e->kind == E_MOD && e->ref != NONE) {
            nm_t r = nm_of(c, e->ref);
            pack_bytes(pk, r.s, r.len);
        } else {
            msgpack_pack_nil(pk);
        }
    }
}

static void pack_file(const ctx_t *c, msgpack_packer *pk, const file_t *f)
{
    const mod_t *m = mod_get(c, f->name.id);

    msgpack_pack_map(pk, 4);
    pack_cstr(pk, "file");
    msgpack_pack_uint32(pk, f->file);
    pack_cstr(pk, "iface");
    if (f->export && m != NULL && m->file == f && m->iface != NULL)
        pack_iface(c, pk, m->iface);
    else
        msgpack_pack_nil(pk);
    pack_cstr(pk, "diags");
    msgpack_pack_array(pk, f->diags.count);
    for (size_t i = 0; i < f->diags.count; i++) {
        const diag_t *d = &f->diags.items[i];
        msgpack_pack_array(pk, 4);
        msgpack_pack_uint32(pk, d->line);
        msgpack_pack_uint32(pk, d->col);
        pack_cstr(pk, d->code);
        pack_cstr(pk, d->msg);
    }
    pack_cstr(pk, "drop");
    msgpack_pack_array(pk, f->n_drop);
    for (uint32_t i = 0; i < f->n_drop; i++) {
        msgpack_pack_array(pk, 2);
        msgpack_pack_uint32(pk, f->drop[i].line);
        msgpack_pack_uint32(pk, f->drop[i].col);
    }
}

static st_rc_t encode(const ctx_t *c, span_t *out)
{
    buf_t b;
    msgpack_packer pk;

    buf_init_arena(&b, c->a);
    if (buf_reserve(&b, 256) != ST_OK)
        return ST_ENOMEM;
    msgpack_packer_init(&pk, &b, buf_write);
    msgpack_pack_map(&pk, 2);
    pack_cstr(&pk, "v");
    msgpack_pack_uint32(&pk, CHECK_RESULT_VERSION);
    pack_cstr(&pk, "modules");
    msgpack_pack_array(&pk, c->n_files);
    for (uint32_t i = 0; i < c->n_files; i++)
        pack_file(c, &pk, &c->files[i]);
    if (b.data == NULL || buf_reserve(&b, 0) != ST_OK)
        return ST_ENOMEM;
    out->ptr = b.data;
    out->len = b.len;
    return ST_OK;
}

/* ---- the job ------------------------------------------------------------------------ */

static st_rc_t run_checks(ctx_t *c)
{
    TRY(compute_ifaces(c));
    TRY(collect_stores(c));
    for (uint32_t i = 0; i < c->n_files; i++) {
        file_t *f = &c->files[i];
        check_imports(c, f);
        check_uses(c, f);
        check_calls(c, f);
        check_stars(c, f);
        if (c->oom)
            return ST_ENOMEM;
    }
    TRY(check_cycles(c));
    for (uint32_t i = 0; i < c->n_files; i++) {
        file_t *f = &c->files[i];
        if (f->diags.oom)
            return ST_ENOMEM;
        apply_noqa(c, f);
        diag_list_sort(&f->diags);
        sort_drops(f);
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
    rc = rd_input(&c, &r);
    if (rc == ST_OK && c.oom)
        rc = ST_ENOMEM;
    if (rc != ST_OK)
        return st_fail(err, c.oom ? ST_ENOMEM : rc, "check: %s input near byte %zu",
                       c.oom ? "arena exhausted reading the" : "malformed", r.pos);
    if ((rc = prepare(&c)) != ST_OK || (rc = run_checks(&c)) != ST_OK)
        return st_fail(err, rc, "check: arena exhausted running the checks");
    if ((rc = encode(&c, out)) != ST_OK)
        return st_fail(err, rc, "check: arena exhausted encoding the result");
    return ST_OK;
}

/* ---- reading a result ---------------------------------------------------------------- */

static char *copy_text(arena_t *a, mpread_t *r, uint32_t max, st_rc_t *rc)
{
    const char *s;
    uint32_t n;
    char *p;

    if (mpread_str(r, &s, &n) != ST_OK || n > max || memchr(s, 0, n) != NULL) {
        *rc = ST_ECORRUPT;
        return NULL;
    }
    if ((p = arena_strndup(a, s, n)) == NULL)
        *rc = ST_ENOMEM;
    return p;
}

static st_rc_t rd_result_diag(mpread_t *r, arena_t *a, scan_diag_t *d)
{
    uint32_t n;
    st_rc_t rc = ST_OK;

    TRY(rd_tuple(r, 4, &n));
    if (n != 4)
        return ST_ECORRUPT;
    TRY(rd_u32(r, &d->line));
    TRY(rd_u32(r, &d->col));
    if ((d->code = copy_text(a, r, 16, &rc)) == NULL ||
        (d->message = copy_text(a, r, 4096, &rc)) == NULL)
        return rc;
    if (d->code[0] == '\0')
        return ST_ECORRUPT;
    return ST_OK;
}

static st_rc_t rd_result_module(mpread_t *r, arena_t *a, check_module_t *m)
{
    uint32_t n, k, tn;
    size_t start;
    bool has_file = false;

    memset(m, 0, sizeof *m);
    if (mpread_map(r, &n) != ST_OK)
        return ST_ECORRUPT;
    for (uint32_t i = 0; i < n; i++) {
        if (mpread_key(r, "file")) {
            TRY(rd_u32(r, &m->file));
            has_file = true;
        } else if (mpread_key(r, "iface")) {
            if (mpread_nil(r))
                continue;
            start = r->pos;
            if (mpread_map(r, &k) != ST_OK)
                return ST_ECORRUPT;
            r->pos = start;
            if (mpread_skip(r) != ST_OK)
                return ST_ECORRUPT;
            m->iface.ptr = r->p + start;
            m->iface.len = r->pos - start;
        } else if (mpread_key(r, "diags")) {
            if (mpread_array(r, &k) != ST_OK || k > MAX_RESULT_ITEMS)
                return ST_ECORRUPT;
            if (k > 0 && (m->diags = arena_alloc(a, (size_t)k * sizeof *m->diags)) == NULL)
                return ST_ENOMEM;
            for (uint32_t j = 0; j < k; j++)
                TRY(rd_result_diag(r, a, &m->diags[j]));
            m->n_diags = k;
        } else if (mpread_key(r, "drop")) {
            if (mpread_array(r, &k) != ST_OK || k > MAX_RESULT_ITEMS)
                return ST_ECORRUPT;
            if (k > 0 && (m->drop = arena_alloc(a, (size_t)k * sizeof *m->drop)) == NULL)
                return ST_ENOMEM;
            for (uint32_t j = 0; j < k; j++) {
                TRY(rd_tuple(r, 2, &tn));
                if (tn != 2)
                    return ST_ECORRUPT;
                TRY(rd_u32(r, &m->drop[j].line));
                TRY(rd_u32(r, &m->drop[j].col));
            }
            m->n_drop = k;
        } else if (mpread_skip(r) != ST_OK || mpread_skip(r) != ST_OK) {
            return ST_ECORRUPT;
        }
    }
    return has_file ? ST_OK : ST_ECORRUPT;
}

st_rc_t check_result_decode(span_t result, arena_t *a, check_module_t **mods, size_t *n,
                            st_err_t *err)
{
    mpread_t r;
    uint32_t nkeys, count = 0;
    uint64_t v = 0;
    check_module_t *items = NULL;
    bool seen = false;
    st_rc_t rc;

    mpread_init(&r, result.ptr, result.len);
    if (mpread_map(&r, &nkeys) != ST_OK)
        return st_fail(err, ST_ECORRUPT, "check result: not a map");
    for (uint32_t k = 0; k < nkeys; k++) {
        if (mpread_key(&r, "v")) {
            if (mpread_uint(&r, &v) != ST_OK || v != CHECK_RESULT_VERSION)
                return st_fail(err, ST_ECORRUPT, "check result: unknown version");
        } else if (mpread_key(&r, "modules") && !seen) {
            if (mpread_array(&r, &count) != ST_OK || count > MAX_RESULT_ITEMS)
                return st_fail(err, ST_ECORRUPT, "check result: bad module count");
            if (count > 0 && (items = arena_alloc(a, (size_t)count * sizeof *items)) == NULL)
                return st_fail(err, ST_ENOMEM, "arena exhausted decoding a check result");
            for (uint32_t i = 0; i < count; i++)
                if ((rc = rd_result_module(&r, a, &items[i])) != ST_OK)
                    return st_fail(err, rc, "check result: bad module %u near byte %zu", i, r.pos);
            seen = true;
        } else if (mpread_skip(&r) != ST_OK || mpread_skip(&r) != ST_OK) {
            return st_fail(err, ST_ECORRUPT, "check result: malformed entry at byte %zu", r.pos);
        }
    }
    if (!seen || v != CHECK_RESULT_VERSION)
        return st_fail(err, ST_ECORRUPT, "check result: missing version or modules");
    *mods = items;
    *n = count;
    return ST_OK;
}

st_rc_t check_namespace_iface(const char *name, const char *const *subs, size_t n_subs, arena_t *a,
                              span_t *out, st_err_t *err)
{
    buf_t b;
    msgpack_packer pk;

    if (name == NULL || (n_subs > 0 && subs == NULL) || n_subs > UINT32_MAX)
        return st_fail(err, ST_EINVAL, "check: bad namespace package arguments");
    buf_init_arena(&b, a);
    if (buf_reserve(&b, 64) != ST_OK)
        return st_fail(err, ST_ENOMEM, "check: arena exhausted");
    msgpack_packer_init(&pk, &b, buf_write);
    msgpack_pack_map(&pk, 5);
    pack_cstr(&pk, "name");
    pack_cstr(&pk, name);
    pack_cstr(&pk, "open");
    msgpack_pack_false(&pk);
    pack_cstr(&pk, "all");
    msgpack_pack_nil(&pk);
    pack_cstr(&pk, "subs");
    msgpack_pack_array(&pk, (uint32_t)n_subs);
    for (size_t i = 0; i < n_subs; i++)
        pack_cstr(&pk, subs[i]);
    pack_cstr(&pk, "names");
    msgpack_pack_array(&pk, 0);
    if (b.data == NULL || buf_reserve(&b, 0) != ST_OK)
        return st_fail(err, ST_ENOMEM, "check: arena exhausted");
    out->ptr = b.data;
    out->len = b.len;
    return ST_OK;
}
