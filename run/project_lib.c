/* project_lib.c - the library modules a project reaches: the standard
 * library's stubs and installed packages (run/libfind.h), found from the
 * imports of the files scanned so far, round after round until no import
 * names a module not yet asked for; and, once the graph is built, what the
 * environment says of every import that names no module of the project.
 *
 * A round decodes the imports of the files added since the last one,
 * resolves them against a module table of every file so far, and asks the
 * finder about each absolute name that is not a project module: the name
 * and its packages, and for `from m import n` also m.n (a submodule, when
 * m is a package). A top-level name the project itself has is never asked:
 * the project shadows it (resolve.h keeps such imports unknown). Answers
 * are kept per name for the whole run (p->lib_seen), so a name is asked
 * once. Library files get their finder's module name (resolver_new_named)
 * and are context: scanned and checked, never reported. */
#include "run/project_int.h"

#include "common/alloc.h"
#include "common/arena.h"
#include "common/hmap.h"
#include "worker/python/summary.h"

#include <string.h>

#define LIB_MAX_NAME 1024
#define LIB_STDLIB_PROJECT 100 /* top-level stdlib names that make a project a stdlib */

/* The answer kept per name: lib_kind_t + 1 (0: never asked). */
static lib_kind_t seen_kind(const project_t *p, const char *name, size_t len, bool *asked)
{
    uint64_t v = 0;

    *asked = p->lib_seen != NULL && hmap_get(p->lib_seen, name, len, &v) == ST_OK && v > 0;
    return *asked ? (lib_kind_t)(v - 1) : LIB_ABSENT;
}

st_rc_t project__table(project_t *p, const project_opts_t *opts, resolver_t **out, st_err_t *err)
{
    const char **paths = st_calloc(p->n == 0 ? 1 : p->n, sizeof *paths);
    const char **names = st_calloc(p->n == 0 ? 1 : p->n, sizeof *names);
    st_rc_t rc;

    if (paths == NULL || names == NULL) {
        st_free(paths);
        st_free(names);
        return st_fail(err, ST_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < p->n; i++) {
        paths[i] = p->files[i].path;
        names[i] = p->files[i].libname;
    }
    rc = resolver_new_named(opts->roots, opts->n_roots, opts->args, opts->n_args, paths, names,
                            p->lib_first, p->n, out, err);
    st_free(paths);
    st_free(names);
    return rc;
}

/* A round runs in two passes over the same imports: the first gathers
 * every name it may ask (each wanted name's packages included, whatever
 * their answers will be) for one call of the finder, which may be a
 * round trip to a client; the second replays the asks in order against
 * those answers. So the names kept (p->lib_seen) and the files found, in
 * their order, are those of asking one name at a time. */
typedef struct {
    project_t *p;
    const lib_finder_t *finder;
    arena_t *a;         /* the round's names */
    hmap_t *paths;      /* library paths already in the project or found this round */
    hmap_t *asked;      /* name -> index + 1 into ask and found */
    lib_name_t *ask;    /* the names the finder is asked, first pass */
    lib_found_t *found; /* their answers */
    size_t n_ask, cap_ask;
    lib_name_t *wants; /* the names wanted, in order, first pass */
    size_t n_wants, cap_wants;
    project_lib_file_t *out;
    size_t n, cap;
    st_rc_t rc;
} round_t;

static void add_found(round_t *r, const char *name, size_t len, const lib_found_t *f)
{
    const char *path = f->m.path;
    size_t plen = strlen(path);

    if (r->rc != ST_OK || hmap_get(r->paths, path, plen, NULL) == ST_OK)
        return;
    if (!st_grow((void **)&r->out, &r->cap, r->n, sizeof *r->out)) {
        r->rc = ST_ENOMEM;
        return;
    }
    const char *pc = arena_strndup(r->p->arena, path, plen);
    const char *nc = arena_strndup(r->p->arena, name, len);
    if (pc == NULL || nc == NULL || hmap_put(r->paths, path, plen, 1) != ST_OK) {
        r->rc = ST_ENOMEM;
        return;
    }
    r->out[r->n++] = (project_lib_file_t){
        .path = pc, .name = nc, .has_digest = f->has_digest, .digest = f->digest, .size = f->size};
}

/* Whether the finder can know name[0..len) at all: a name libfind_module
 * answers absent by its form (empty, too long, an empty segment) is not
 * asked. */
static bool askable(const char *name, size_t len)
{
    if (len == 0 || len > LIB_MAX_NAME || name[0] == '.' || name[len - 1] == '.')
        return false;
    for (size_t i = 1; i < len; i++)
        if (name[i] == '.' && name[i - 1] == '.')
            return false;
    return true;
}

/* First pass: name[0..len) wanted, and each of its packages not asked in
 * an earlier round put on the list (stopping below one known to have no
 * submodules). */
static void gather(round_t *r, const char *name, size_t len)
{
    if (len == 0 || len > LIB_MAX_NAME || r->rc != ST_OK)
        return;
    const char *copy = arena_strndup(r->a, name, len);
    if (copy == NULL || !st_grow((void **)&r->wants, &r->cap_wants, r->n_wants, sizeof *r->wants)) {
        r->rc = ST_ENOMEM;
        return;
    }
    r->wants[r->n_wants++] = (lib_name_t){copy, len};
    for (size_t end = 0; end <= len; end++) {
        if (end < len && name[end] != '.')
            continue;
        bool asked;
        lib_kind_t k = seen_kind(r->p, name, end, &asked);
        if (asked && (k == LIB_ABSENT || k == LIB_OPEN))
            return;
        if (asked || !askable(copy, end) || hmap_get(r->asked, copy, end, NULL) == ST_OK)
            continue;
        if (!st_grow((void **)&r->ask, &r->cap_ask, r->n_ask, sizeof *r->ask) ||
            hmap_put(r->asked, copy, end, r->n_ask + 1) != ST_OK) {
            r->rc = ST_ENOMEM;
            return;
        }
        r->ask[r->n_ask++] = (lib_name_t){copy, end};
    }
}

/* The finder's answer for name[0..len), from the round's one call. */
static const lib_found_t *answer(const round_t *r, const char *name, size_t len)
{
    static const lib_found_t absent = {.m = {.kind = LIB_ABSENT, .from = LIB_FROM_SITE}};
    uint64_t v;

    if (hmap_get(r->asked, name, len, &v) != ST_OK || v == 0 || v > r->n_ask)
        return &absent; /* not askable: absent by its form */
    return &r->found[v - 1];
}

/* Second pass: name[0..len) and its packages, outermost first, as the
 * finder answered; stops at the first that is not a package. */
static void want(round_t *r, const char *name, size_t len)
{
    project_t *p = r->p;

    for (size_t end = 0; end <= len && r->rc == ST_OK; end++) {
        if (end < len && name[end] != '.')
            continue;
        bool asked;
        lib_kind_t k = seen_kind(p, name, end, &asked);
        if (!asked) {
            const lib_found_t *f = answer(r, name, end);
            k = f->m.kind;
            if (hmap_put(p->lib_seen, name, end, (uint64_t)k + 1) != ST_OK) {
                r->rc = ST_ENOMEM;
                return;
            }
            if (k == LIB_FILE && f->m.path != NULL)
                add_found(r, name, end, f);
            if ((k == LIB_FILE && !f->m.package) && end < len)
                return; /* a plain module has no submodules */
        }
        if (k == LIB_ABSENT || k == LIB_OPEN)
            return;
    }
}

/* Whether the top-level name of dotted is one of the project's own. */
static bool project_top(const project_t *p, const char *dotted)
{
    const char *dot = strchr(dotted, '.');
    size_t len = dot ? (size_t)(dot - dotted) : strlen(dotted);

    return p->lib_tops != NULL && hmap_get(p->lib_tops, dotted, len, NULL) == ST_OK;
}

/* The imports of file i, resolved against t, into wanted names (gather). */
static st_rc_t expand_file(round_t *r, const resolver_t *t, size_t i)
{
    pfile_t *f = &r->p->files[i];
    char abs[LIB_MAX_NAME * 2 + 8];
    st_rc_t rc;

    if (f->summary.len == 0)
        return ST_OK;
    if ((rc = project__decode_imports(r->p, f)) != ST_OK)
        return rc == ST_ENOMEM ? rc : ST_OK; /* not checked at all (project__build) */
    for (uint32_t k = 0; k < f->n_imports && r->rc == ST_OK; k++) {
        const pimport_t *im = &f->imports[k];
        size_t mlen = strlen(im->module), nlen = strlen(im->name);
        res_kind_t kind;
        uint32_t target;
        if (im->kind == SUM_FUTURE || mlen > LIB_MAX_NAME ||
            resolver_resolve(t, i, im->level, im->module, mlen, &kind, abs, sizeof abs, &target) !=
                ST_OK)
            continue;
        bool lib_target = kind == RES_PROJECT && target != RES_NONE && !project_top(r->p, abs);
        if (kind == RES_PROJECT && !lib_target)
            continue; /* the project's own module */
        if (kind == RES_UNRESOLVED && (abs[0] == '.' || project_top(r->p, abs)))
            continue; /* beyond the top level, or below a project package */
        if (kind == RES_FUTURE || project_top(r->p, abs))
            continue;
        size_t alen = strlen(abs);
        gather(r, abs, alen);
        if (im->kind == SUM_FROM && nlen > 0 && alen + 1 + nlen < sizeof abs) {
            abs[alen] = '.';
            memcpy(abs + alen + 1, im->name, nlen);
            gather(r, abs, alen + 1 + nlen);
        }
    }
    return r->rc;
}

/* Whether module m is top-level, with a name the finder can be asked. */
static bool is_top(const resolver_t *t, uint32_t m)
{
    const char *name = resolver_module_name(t, m);

    return resolver_module_parent(t, m) == RES_NONE && askable(name, strlen(name));
}

/* The first round: every top-level module is the project's, but for a
 * copy of the standard library (see below). */
static st_rc_t first_round(project_t *self, const lib_finder_t *finder, const resolver_t *t,
                           st_err_t *err)
{
    uint32_t n = resolver_n_modules(t);
    lib_name_t *tops = st_calloc(n == 0 ? 1 : n, sizeof *tops);
    bool *std = st_calloc(n == 0 ? 1 : n, sizeof *std);
    size_t n_tops = 0, n_std = 0;
    st_rc_t rc = ST_OK;

    if (tops == NULL || std == NULL || (self->lib_seen = hmap_new(HMAP_BYTES)) == NULL ||
        (self->lib_tops = hmap_new(HMAP_BYTES)) == NULL) {
        rc = st_fail(err, ST_ENOMEM, "out of memory finding library modules");
        goto done;
    }
    for (uint32_t m = 0; m < n; m++)
        if (is_top(t, m))
            tops[n_tops++] =
                (lib_name_t){resolver_module_name(t, m), strlen(resolver_module_name(t, m))};
    if (n_tops > 0 && (rc = finder->is_stdlib(finder->ctx, tops, n_tops, std, err)) != ST_OK)
        goto done;
    for (size_t k = 0; k < n_tops; k++)
        n_std += std[k];
    /* A project with most of the standard library's modules is one (a
     * copy of CPython's Lib): its plain modules (os.py, socket.py) are
     * described by their stubs, as pyright reads them, rather than by
     * their sources, whose namespaces are often too dynamic to follow. */
    self->lib_first = n_std >= LIB_STDLIB_PROJECT;
    for (uint32_t m = 0, k = 0; rc == ST_OK && m < n; m++) {
        const char *name = resolver_module_name(t, m);
        bool is_std = is_top(t, m) && std[k++];
        /* a package keeps its sources: its own relative imports are
         * its files, as pyright reads them */
        if (resolver_module_parent(t, m) != RES_NONE ||
            (self->lib_first && !resolver_module_is_package(t, m) && is_std))
            continue;
        if (hmap_put(self->lib_tops, name, strlen(name), 1) != ST_OK)
            rc = st_fail(err, ST_ENOMEM, "out of memory finding library modules");
    }
done:
    st_free(tops);
    st_free(std);
    return rc;
}

static void round_free(round_t *r)
{
    hmap_destroy(&r->paths);
    hmap_destroy(&r->asked);
    arena_destroy(&r->a);
    st_free(r->ask);
    st_free(r->found);
    st_free(r->wants);
}

/* The two passes over the files added since the last round. */
static st_rc_t run_round(round_t *r, const resolver_t *t, st_err_t *err)
{
    project_t *self = r->p;
    st_rc_t rc = ST_OK;

    if ((r->paths = hmap_new(HMAP_BYTES)) == NULL || (r->asked = hmap_new(HMAP_BYTES)) == NULL ||
        (r->a = arena_new(0)) == NULL)
        return st_fail(err, ST_ENOMEM, "out of memory finding library modules");
    for (size_t i = 0; rc == ST_OK && i < self->n; i++)
        if (self->files[i].libname != NULL)
            rc = hmap_put(r->paths, self->files[i].path, strlen(self->files[i].path), 1);
    for (size_t i = self->lib_next; rc == ST_OK && i < self->n; i++)
        rc = expand_file(r, t, i);
    self->lib_next = self->n;
    if (rc != ST_OK)
        return st_fail(err, rc, "out of memory finding library modules");
    if (r->n_ask > 0) {
        if ((r->found = st_calloc(r->n_ask, sizeof *r->found)) == NULL)
            return st_fail(err, ST_ENOMEM, "out of memory finding library modules");
        if ((rc = r->finder->modules(r->finder->ctx, r->ask, r->n_ask, r->found, err)) != ST_OK)
            return rc;
    }
    for (size_t k = 0; k < r->n_wants && r->rc == ST_OK; k++)
        want(r, r->wants[k].name, r->wants[k].len);
    if (r->rc != ST_OK)
        return st_fail(err, r->rc, "out of memory finding library modules");
    return ST_OK;
}

st_rc_t project_library_round(project_t *self, const project_opts_t *opts,
                              const lib_finder_t *finder, project_lib_file_t **out, size_t *n_out,
                              st_err_t *err)
{
    resolver_t *t = NULL;
    round_t r = {.p = self, .finder = finder};
    st_rc_t rc;

    *out = NULL;
    *n_out = 0;
    if (finder == NULL || self->lib_next >= self->n)
        return ST_OK;
    if ((rc = project__table(self, opts, &t, err)) != ST_OK)
        return rc;
    if (self->lib_seen == NULL)
        rc = first_round(self, finder, t, err);
    if (rc == ST_OK)
        rc = run_round(&r, t, err);
    round_free(&r);
    resolver_destroy(&t);
    if (rc != ST_OK) {
        st_free(r.out);
        return rc;
    }
    *out = r.out;
    *n_out = r.n;
    return ST_OK;
}

/* ---- what the environment says of an import ------------------------------- */

res_kind_t project__lib_verdict(const project_t *p, const pimport_t *im, res_kind_t res)
{
    const char *abs = im->abs;
    size_t len = strlen(abs);
    bool asked;

    if (p->lib_seen == NULL ||
        (res != RES_STDLIB && res != RES_EXTERNAL && res != RES_UNRESOLVED) || len == 0 ||
        abs[0] == '.' || project_top(p, abs))
        return res;
    /* the outermost name that is not a module decides */
    for (size_t end = 0; end <= len; end++) {
        if (end < len && abs[end] != '.')
            continue;
        lib_kind_t k = seen_kind(p, abs, end, &asked);
        if (!asked || k == LIB_OPEN || k == LIB_NAMESPACE)
            return res == RES_UNRESOLVED ? RES_EXTERNAL : res;
        if (k == LIB_ABSENT) {
            if (memchr(abs, '.', end) != NULL)
                return RES_UNRESOLVED; /* below a library package that lacks it */
            /* a standard module without a stub or a source (built into the
             * interpreter, or another platform's) is unknown, never missing */
            if (!p->lib_env_found || resolver_is_stdlib(abs, end))
                return RES_EXTERNAL;
            return RES_MISSING;
        }
    }
    return res;
}

bool project__replaced(const project_t *p, uint32_t m)
{
    const char *name = resolver_module_name(p->res, m);

    return p->replaced != NULL && name != NULL &&
           hmap_get(p->replaced, name, strlen(name), NULL) == ST_OK;
}
