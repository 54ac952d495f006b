/* summary_read.c - the one decoder of a local summary (see summary.h).
 *
 * Kept apart from the encoder in summary.c because it reads bytes that
 * crossed a process boundary: every count, index and string is checked
 * here before it is trusted, and the two halves read best on their own. */
#include "summary.h"

#include <string.h>

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

/* A def's or member's overloads: [sig index, ...] or nil (none). */
static st_rc_t rd_overloads(mpread_t *r, arena_t *a, int64_t **v, uint32_t *n)
{
    *v = NULL;
    *n = 0;
    if (mpread_nil(r))
        return ST_OK;
    ST_TRY(rd_array(r, a, 1, sizeof **v, (void **)v, n));
    for (uint32_t i = 0; i < *n; i++)
        ST_TRY(rd_index(r, &(*v)[i]));
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
        if (n > 5)
            ST_TRY(rd_overloads(r, a, &d->ovl, &d->n_ovl));
        ST_TRY(skip_rest(r, n, n > 5 ? 6 : n > 4 ? 5 : 4));
    }
    return ST_OK;
}

static st_rc_t rd_members(mpread_t *r, arena_t *a, sum_class_t *k)
{
    uint32_t mn;

    ST_TRY(rd_array(r, a, 4, sizeof *k->members, (void **)&k->members, &k->n_members));
    for (uint32_t j = 0; j < k->n_members; j++) {
        sum_member_t *m = &k->members[j];
        ST_TRY(rd_tuple(r, 3, &mn));
        ST_TRY(summary_read_str(r, &m->name));
        ST_TRY(rd_u8(r, SUM_DEF_IMPORT, &m->kind));
        ST_TRY(rd_index(r, &m->sig));
        m->ovl = NULL;
        m->n_ovl = 0;
        if (mn > 3)
            ST_TRY(rd_overloads(r, a, &m->ovl, &m->n_ovl));
        ST_TRY(skip_rest(r, mn, mn > 3 ? 4 : 3));
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
        if (n > 6 && (k->flags & (SUM_CLASS_FLAGS_UNKNOWN | SUM_CLASS_SEEN)) == SUM_CLASS_SEEN) {
            ST_TRY(summary_read_strs(r, a, &k->attrs, &k->n_attrs));
            ST_TRY(summary_read_strs(r, a, &k->plain, &k->n_plain));
            ST_TRY(skip_rest(r, n, 7));
        } else {
            /* no attrs: nothing was seen */
            if (!(k->flags & SUM_CLASS_FLAGS_UNKNOWN))
                k->flags &= (uint8_t) ~(SUM_CLASS_SEEN | SUM_CLASS_OPEN);
            ST_TRY(skip_rest(r, n, n > 4 ? 5 : 4));
        }
    }
    return ST_OK;
}

static st_rc_t rd_selfreads(mpread_t *r, arena_t *a, summary_doc_t *f)
{
    uint32_t n;

    ST_TRY(rd_array(r, a, 5, sizeof *f->selfreads, (void **)&f->selfreads, &f->n_selfreads));
    for (uint32_t i = 0; i < f->n_selfreads; i++) {
        sum_selfread_t *e = &f->selfreads[i];
        ST_TRY(rd_tuple(r, 4, &n));
        ST_TRY(mpread_u32(r, &e->class_line));
        ST_TRY(summary_read_str(r, &e->name));
        ST_TRY(mpread_u32(r, &e->line));
        ST_TRY(mpread_u32(r, &e->col));
        e->call = e->instance = false;
        e->npos = e->nkw = 0;
        e->kw = NULL;
        if (n > 4 && !mpread_nil(r)) {
            uint32_t m;
            e->call = true;
            ST_TRY(rd_tuple(r, 2, &m));
            ST_TRY(mpread_u32(r, &e->npos));
            ST_TRY(summary_read_strs(r, a, &e->kw, &e->nkw));
            ST_TRY(skip_rest(r, m, 2));
        }
        if (n > 5)
            ST_TRY(rd_bool(r, &e->instance));
        ST_TRY(skip_rest(r, n, n > 5 ? 6 : n > 4 ? 5 : 4));
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
        s->local = false;
        if (n >= 5)
            ST_TRY(rd_bool(r, &s->local));
        ST_TRY(skip_rest(r, n, n >= 5 ? 5 : 4));
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

/* A signature index: -1 (none) when none_ok, else into sigs. */
static bool sig_ok(const summary_doc_t *f, int64_t sig, bool none_ok)
{
    return (none_ok && sig == -1) || (sig >= 0 && sig < (int64_t)f->n_sigs);
}

static bool sigs_ok(const summary_doc_t *f, int64_t sig, const int64_t *ovl, uint32_t n)
{
    if (!sig_ok(f, sig, true))
        return false;
    for (uint32_t i = 0; i < n; i++)
        if (!sig_ok(f, ovl[i], false))
            return false;
    return true;
}

/* Indices between the tables must point inside them. */
static st_rc_t validate(const summary_doc_t *f)
{
    for (uint32_t i = 0; i < f->n_defs; i++)
        if (!sigs_ok(f, f->defs[i].sig, f->defs[i].ovl, f->defs[i].n_ovl))
            return ST_ECORRUPT;
    for (uint32_t i = 0; i < f->n_classes; i++)
        for (uint32_t j = 0; j < f->classes[i].n_members; j++) {
            const sum_member_t *m = &f->classes[i].members[j];
            if (!sigs_ok(f, m->sig, m->ovl, m->n_ovl))
                return ST_ECORRUPT;
        }
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
    if (strcmp(key, "replaces") == 0)
        return summary_read_strs(r, a, &f->replaces, &f->n_replaces);
    if (strcmp(key, "dead") == 0)
        return summary_read_strs(r, a, &f->dead, &f->n_dead);
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
    if (strcmp(key, "selfreads") == 0)
        return rd_selfreads(r, a, f);
    return rd_noqa(r, a, f);
}

st_rc_t summary_read(mpread_t *r, arena_t *a, summary_doc_t *out)
{
    static const char *const keys[] = {"imports", "defs",    "sigs",     "classes",  "all",
                                       "getattr", "dynamic", "replaces", "dead",     "uses",
                                       "calls",   "stars",   "noqa",     "selfreads"};
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

/* Moves r to the value of key (the first such), *found whether there is
 * one; ST_ECORRUPT when the bytes are no map. */
static st_rc_t seek_key(span_t sum, const char *key, mpread_t *r, bool *found)
{
    uint32_t keys;

    *found = false;
    mpread_init(r, sum.ptr, sum.len);
    if (mpread_map(r, &keys) != ST_OK)
        return ST_ECORRUPT;
    for (uint32_t i = 0; i < keys; i++) {
        if (mpread_key(r, key)) {
            *found = true;
            return ST_OK;
        }
        if (mpread_skip(r) != ST_OK || mpread_skip(r) != ST_OK)
            return ST_ECORRUPT;
    }
    return ST_OK;
}

st_rc_t summary_decode_imports(span_t sum, arena_t *a, sum_import_t **imports, uint32_t *n)
{
    mpread_t r;
    bool found;
    sum_import_t *v = NULL;
    uint32_t count = 0;

    ST_TRY(seek_key(sum, "imports", &r, &found));
    if (found)
        ST_TRY(rd_imports(&r, a, &v, &count));
    *imports = v;
    *n = count;
    return ST_OK;
}

st_rc_t summary_decode_replaces(span_t sum, arena_t *a, sum_str_t **names, uint32_t *n)
{
    mpread_t r;
    bool found;
    sum_str_t *v = NULL;
    uint32_t count = 0;

    ST_TRY(seek_key(sum, "replaces", &r, &found));
    if (found)
        ST_TRY(summary_read_strs(&r, a, &v, &count));
    *names = v;
    *n = count;
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
