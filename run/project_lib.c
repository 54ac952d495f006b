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

typedef struct {
    project_t *p;
    libfind_t *lf;
    hmap_t *paths; /* library paths already in the project or found this round */
    project_lib_file_t *out;
    size_t n, cap;
    st_rc_t rc;
} round_t;

static void add_found(round_t *r, const char *name, size_t len, const char *path)
{
    size_t plen = strlen(path);

    if (r->rc != ST_OK || hmap_get(r->paths, path, plen, NULL) == ST_OK)
        return;
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        project_lib_file_t *grown = st_realloc(r->out, cap * sizeof *grown);
        if (grown == NULL) {
            r->rc = ST_ENOMEM;
            return;
        }
        r->out = grown;
        r->cap = cap;
    }
    const char *pc = arena_strndup(r->p->arena, path, plen);
    const char *nc = arena_strndup(r->p->arena, name, len);
    if (pc == NULL || nc == NULL || hmap_put(r->paths, path, plen, 1) != ST_OK) {
        r->rc = ST_ENOMEM;
        return;
    }
    r->out[r->n++] = (project_lib_file_t){.path = pc, .name = nc};
}

/* Asks the finder about name[0..len) and its packages, outermost first;
 * stops at the first that is not a package. */
static void want(round_t *r, const char *name, size_t len)
{
    project_t *p = r->p;

    if (len == 0 || len > LIB_MAX_NAME)
        return;
    for (size_t end = 0; end <= len && r->rc == ST_OK; end++) {
        if (end < len && name[end] != '.')
            continue;
        bool asked;
        lib_kind_t k = seen_kind(p, name, end, &asked);
        if (!asked) {
            lib_module_t m = libfind_module(r->lf, name, end);
            k = m.kind;
            if (hmap_put(p->lib_seen, name, end, (uint64_t)k + 1) != ST_OK) {
                r->rc = ST_ENOMEM;
                return;
            }
            if (k == LIB_FILE && m.path != NULL)
                add_found(r, name, end, m.path);
            if ((k == LIB_FILE && !m.package) && end < len)
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

/* The imports of file i, resolved against t, into wanted names. */
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
        want(r, abs, alen);
        if (im->kind == SUM_FROM && nlen > 0 && alen + 1 + nlen < sizeof abs) {
            abs[alen] = '.';
            memcpy(abs + alen + 1, im->name, nlen);
            want(r, abs, alen + 1 + nlen);
        }
    }
    return r->rc;
}

st_rc_t project_library_round(project_t *self, const project_opts_t *opts, libfind_t *lf,
                              project_lib_file_t **out, size_t *n_out, st_err_t *err)
{
    resolver_t *t = NULL;
    round_t r = {.p = self, .lf = lf};
    st_rc_t rc;

    *out = NULL;
    *n_out = 0;
    if (lf == NULL || self->lib_next >= self->n)
        return ST_OK;
    if ((rc = project__table(self, opts, &t, err)) != ST_OK)
        return rc;
    if (self->lib_seen == NULL) {
        /* the first round: every top-level module is the project's */
        if ((self->lib_seen = hmap_new(HMAP_BYTES)) == NULL ||
            (self->lib_tops = hmap_new(HMAP_BYTES)) == NULL)
            rc = ST_ENOMEM;
        size_t n_std = 0;
        for (uint32_t m = 0; m < resolver_n_modules(t); m++) {
            const char *name = resolver_module_name(t, m);
            n_std += resolver_module_parent(t, m) == RES_NONE &&
                     libfind_is_stdlib(lf, name, strlen(name));
        }
        /* A project with most of the standard library's modules is one (a
         * copy of CPython's Lib): its plain modules (os.py, socket.py) are
         * described by their stubs, as pyright reads them, rather than by
         * their sources, whose namespaces are often too dynamic to follow. */
        self->lib_first = n_std >= LIB_STDLIB_PROJECT;
        for (uint32_t m = 0; rc == ST_OK && m < resolver_n_modules(t); m++) {
            const char *name = resolver_module_name(t, m);
            /* a package keeps its sources: its own relative imports are
             * its files, as pyright reads them */
            if (resolver_module_parent(t, m) != RES_NONE ||
                (self->lib_first && !resolver_module_is_package(t, m) &&
                 libfind_is_stdlib(lf, name, strlen(name))))
                continue;
            rc = hmap_put(self->lib_tops, name, strlen(name), 1);
        }
    }
    if (rc == ST_OK && (r.paths = hmap_new(HMAP_BYTES)) == NULL)
        rc = ST_ENOMEM;
    for (size_t i = 0; rc == ST_OK && i < self->n; i++)
        if (self->files[i].libname != NULL)
            rc = hmap_put(r.paths, self->files[i].path, strlen(self->files[i].path), 1);
    for (size_t i = self->lib_next; rc == ST_OK && i < self->n; i++)
        rc = expand_file(&r, t, i);
    self->lib_next = self->n;
    hmap_destroy(&r.paths);
    resolver_destroy(&t);
    if (rc != ST_OK) {
        st_free(r.out);
        return st_fail(err, rc, "out of memory finding library modules");
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
