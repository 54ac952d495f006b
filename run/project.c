/* project.c - the project stage's model and its driver: the files and
 * their scans, module names and resolved imports, the module graph, and
 * project_check, which runs the check jobs (project_jobs.c) unless the
 * whole run's diagnostics were cached, and fills the report
 * (project_whole.c). The graph output and the scan explanations are in
 * project_graph.c; what the files share is in project_int.h. */
#include "run/project_int.h"

#include "common/alloc.h"
#include "common/arena.h"
#include "common/buf.h"
#include "common/digest.h"
#include "scheduler/graph.h"
#include "scheduler/resolve.h"
#include "worker/python/summary.h"

#include <pthread.h>
#include <string.h>

#define PROJECT_MAX_NAME 1024

project_t *project_new(const char *const *paths, size_t n)
{
    project_t *p = st_calloc(1, sizeof *p);

    if (p == NULL)
        return NULL;
    p->files = st_calloc(n == 0 ? 1 : n, sizeof *p->files);
    p->arena = arena_new(PROJECT_ARENA_CHUNK);
    if (p->files == NULL || p->arena == NULL || pthread_mutex_init(&p->lock, NULL) != 0) {
        arena_destroy(&p->arena);
        st_free(p->files);
        st_free(p);
        return NULL;
    }
    if (pthread_cond_init(&p->cond, NULL) != 0) {
        pthread_mutex_destroy(&p->lock);
        arena_destroy(&p->arena);
        st_free(p->files);
        st_free(p);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        p->files[i] = (pfile_t){.path = paths[i], .module = RES_NONE, .next = RES_NONE};
    p->n = p->n_project = n;
    p->cap = n == 0 ? 1 : n;
    return p;
}

void project_destroy(project_t **self_p)
{
    project_t *p = self_p != NULL ? *self_p : NULL;

    if (p == NULL)
        return;
    graph_destroy(&p->graph);
    resolver_destroy(&p->res);
    st_free(p->mods);
    st_free((void *)p->reach_memo);
    hmap_destroy(&p->lib_seen);
    hmap_destroy(&p->replaced);
    hmap_destroy(&p->lib_tops);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
    arena_destroy(&p->arena);
    st_free(p->files);
    st_free(p);
    *self_p = NULL;
}

void project_set_context(project_t *self, size_t i)
{
    if (i < self->n)
        self->files[i].context = true;
}

st_rc_t project_add_files(project_t *self, const project_lib_file_t *files, size_t n)
{
    size_t need;

    if (!st_add_size(self->n, n, &need))
        return ST_ENOMEM;
    if (need > self->cap) {
        size_t cap = self->cap;
        while (cap < need)
            cap = cap * 2;
        pfile_t *grown = st_realloc(self->files, cap * sizeof *grown);
        if (grown == NULL)
            return ST_ENOMEM;
        self->files = grown;
        self->cap = cap;
    }
    for (size_t k = 0; k < n; k++)
        self->files[self->n + k] = (pfile_t){.path = files[k].path,
                                             .libname = files[k].name,
                                             .context = true,
                                             .module = RES_NONE,
                                             .next = RES_NONE};
    self->n = need;
    return ST_OK;
}

void project_set_env(project_t *self, bool found, const char *python)
{
    self->lib_env_found = found;
    self->lib_python = python;
}

size_t project_n_files(const project_t *self)
{
    return self->n;
}

/* ---- scans ----------------------------------------------------------------- */

/* Copies n diagnostics into arena a. */
scan_diag_t *project__copy_diags(arena_t *a, const scan_diag_t *d, size_t n)
{
    scan_diag_t *out = arena_calloc(a, n == 0 ? 1 : n, sizeof *out);

    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        out[i] = d[i];
        out[i].code = arena_strndup(a, d[i].code, strlen(d[i].code));
        out[i].message = arena_strndup(a, d[i].message, strlen(d[i].message));
        if (out[i].code == NULL || out[i].message == NULL)
            return NULL;
    }
    return out;
}

st_rc_t project_add_scan(project_t *self, const exec_done_t *done, st_err_t *err)
{
    span_t sum = scan_result_summary(done->result);
    pfile_t *f;
    st_rc_t rc = ST_OK;

    if (done->id >= self->n)
        return st_fail(err, ST_EINTERNAL, "project: file id %zu out of range", done->id);
    pthread_mutex_lock(&self->lock);
    f = &self->files[done->id];
    f->have = true;
    f->scanned = !done->cached;
    f->has_key = done->has_key;
    f->key = done->key;
    f->transient = done->transient;
    if (done->transient)
        self->scan_failed = true; /* not stored whole either */
    /* the count only with the copy: project__fill_report reads n_diags entries */
    if ((f->diags = project__copy_diags(self->arena, done->diags, done->n_diags)) == NULL)
        rc = st_fail(err, ST_ENOMEM, "out of memory keeping the scan results");
    f->n_diags = f->diags != NULL ? done->n_diags : 0;
    /* A file with a syntax error, or one the scan did not check (E902: too
     * large, not decodable, the parser's memory or time ran out), has an
     * empty summary: it is not checked, and its module's interface stays
     * unknown (nothing is said about imports from it) rather than empty
     * (every import from it an E0611). */
    for (size_t k = 0; k < done->n_diags && sum.len > 0; k++)
        if (strcmp(done->diags[k].code, "E999") == 0 || strcmp(done->diags[k].code, "E902") == 0)
            sum = (span_t){0};
    if (rc == ST_OK && sum.len > 0) {
        void *copy = arena_alloc(self->arena, sum.len);
        if (copy == NULL)
            rc = st_fail(err, ST_ENOMEM, "out of memory keeping the scan results");
        else
            f->summary = (span_t){.ptr = memcpy(copy, sum.ptr, sum.len), .len = sum.len};
    }
    pthread_mutex_unlock(&self->lock);
    return rc;
}

/* ---- resolution ------------------------------------------------------------ */

/* A NUL-terminated copy in a of a decoded name of at most PROJECT_MAX_NAME
 * bytes. */
static st_rc_t copy_name(sum_str_t s, arena_t *a, const char **out)
{
    if (s.len > PROJECT_MAX_NAME)
        return ST_ECORRUPT;
    return (*out = arena_strndup(a, s.s, s.len)) != NULL ? ST_OK : ST_ENOMEM;
}

st_rc_t project__decode_imports(project_t *p, pfile_t *f)
{
    arena_t *tmp;
    sum_import_t *v;
    uint32_t count;
    st_rc_t rc;

    if (f->decoded)
        return f->decode_rc; /* a library round did */
    if ((tmp = arena_new(0)) == NULL)
        return ST_ENOMEM;
    if ((rc = summary_decode_imports(f->summary, tmp, &v, &count)) != ST_OK)
        goto done;
    f->imports = arena_calloc(p->arena, count == 0 ? 1 : count, sizeof *f->imports);
    if (f->imports == NULL) {
        rc = ST_ENOMEM;
        goto done;
    }
    for (uint32_t k = 0; k < count && rc == ST_OK; k++) {
        pimport_t *im = &f->imports[k];
        const char *asname;
        if ((rc = copy_name(v[k].module, p->arena, &im->module)) != ST_OK ||
            (rc = copy_name(v[k].name, p->arena, &im->name)) != ST_OK ||
            (rc = copy_name(v[k].asname, p->arena, &asname)) != ST_OK)
            break;
        im->kind = v[k].kind;
        im->level = v[k].level;
        im->flags = v[k].flags;
        im->has_as = asname[0] != '\0';
    }
    if (rc == ST_OK)
        f->n_imports = count;
done:
    arena_destroy(&tmp);
    if (rc != ST_ENOMEM) {
        f->decoded = true;
        f->decode_rc = rc;
    }
    return rc;
}

/* The modules file f replaces in sys.modules, into p->replaced. */
static st_rc_t gather_replaced(project_t *p, const pfile_t *f)
{
    arena_t *tmp = arena_new(0);
    sum_str_t *v;
    uint32_t n;
    st_rc_t rc = ST_OK;

    if (tmp == NULL)
        return ST_ENOMEM;
    if (summary_decode_replaces(f->summary, tmp, &v, &n) == ST_OK && n > 0) {
        if (p->replaced == NULL && (p->replaced = hmap_new(HMAP_BYTES)) == NULL)
            rc = ST_ENOMEM;
        for (uint32_t k = 0; k < n && rc == ST_OK; k++)
            rc = hmap_put(p->replaced, v[k].s, v[k].len, 1);
    }
    arena_destroy(&tmp);
    return rc;
}

/* Whether abs or a package above it is replaced in sys.modules by some
 * file: then it exists, whatever the files say. */
static bool replaced_or_below(const project_t *p, const char *abs)
{
    size_t len = strlen(abs);

    if (p->replaced == NULL)
        return false;
    for (size_t end = 1; end <= len; end++)
        if ((end == len || abs[end] == '.') && hmap_get(p->replaced, abs, end, NULL) == ST_OK)
            return true;
    return false;
}

/* An import that names no project module although its top-level package
 * is one: is it really missing? Not when the deepest existing module on its
 * way makes its submodules at run time (six.moves, an import hook, a module
 * __getattr__). A namespace package is the project's directory: what it
 * lacks is missing. Returns the verdict. */
static res_kind_t recheck_unresolved(const project_t *p, const char *abs)
{
    size_t len = strlen(abs);
    uint32_t m = RES_NONE;

    for (size_t cut = len; cut > 0 && m == RES_NONE; cut--)
        if (abs[cut - 1] == '.')
            m = resolver_find(p->res, abs, cut - 1);
    if (m == RES_NONE)
        return RES_UNRESOLVED;
    uint32_t file = resolver_module_file(p->res, m);
    if (file == RES_NONE || file >= p->n)
        return RES_UNRESOLVED; /* a namespace package */
    if (p->files[file].summary.len > 0 && summary_is_dynamic(p->files[file].summary))
        return RES_EXTERNAL;
    return RES_UNRESOLVED;
}

/* Resolves every import of file i. */
static st_rc_t resolve_file(project_t *p, size_t i)
{
    pfile_t *f = &p->files[i];
    char abs[PROJECT_MAX_NAME * 2 + 8];

    for (uint32_t k = 0; k < f->n_imports; k++) {
        pimport_t *im = &f->imports[k];

        im->target = im->sub = RES_NONE;
        if (im->kind == 3) {
            im->res = RES_FUTURE;
            im->abs = "";
            continue;
        }
        if (resolver_resolve(p->res, i, im->level, im->module, strlen(im->module), &im->res, abs,
                             sizeof abs, &im->target) != ST_OK) {
            im->res = RES_EXTERNAL; /* a name too long to be anything we know */
            abs[0] = '\0';
        }
        if (im->res == RES_UNRESOLVED)
            im->res = recheck_unresolved(p, abs);
        if (im->res == RES_FUTURE) {
            /* `import __future__` imports a module: the project's own
             * __future__.py when it has one (the standard library does) */
            im->target = resolver_find(p->res, abs, strlen(abs));
            im->res = im->target != RES_NONE ? RES_PROJECT : RES_STDLIB;
        }
        if ((im->abs = arena_strndup(p->arena, abs, strlen(abs))) == NULL)
            return ST_ENOMEM;
        im->res = project__lib_verdict(p, im, im->res);
        if ((im->res == RES_UNRESOLVED || im->res == RES_MISSING) && replaced_or_below(p, abs))
            im->res = RES_EXTERNAL;
        if (im->kind == 1 && im->res == RES_PROJECT && im->name[0] != '\0') {
            size_t la = strlen(abs), ln = strlen(im->name);
            if (la + 1 + ln < sizeof abs) {
                abs[la] = '.';
                memcpy(abs + la + 1, im->name, ln + 1);
                im->sub = resolver_find(p->res, abs, la + 1 + ln);
            }
        }
    }
    return ST_OK;
}

/* Calls fn for every project module whose interface an import's names can
 * reach: its target; for `import a.b.c` (which binds a) the packages above
 * it; for `from m import n` the submodule m.n when there is one. These are
 * the import's edges in the graph and the interfaces its check job reads. */
void project__import_targets(const project_t *p, const pimport_t *im,
                             void (*fn)(void *ctx, uint32_t module), void *ctx)
{
    if (im->res != RES_PROJECT)
        return;
    fn(ctx, im->target);
    if (im->kind == 0 && !im->has_as)
        for (uint32_t m = resolver_module_parent(p->res, im->target); m != RES_NONE;
             m = resolver_module_parent(p->res, m))
            fn(ctx, m);
    if (im->sub != RES_NONE)
        fn(ctx, im->sub);
}

typedef struct {
    graph_t *g;
    uint32_t from;
    st_rc_t rc;
} edge_ctx_t;

static void add_edge(void *ctx, uint32_t module)
{
    edge_ctx_t *e = ctx;

    if (e->rc == ST_OK && module != e->from)
        e->rc = graph_add_edge(e->g, e->from, module);
}

/* Module table, resolution, graph. Idempotent. */
st_rc_t project__build(project_t *p, const project_opts_t *opts, st_err_t *err)
{
    uint64_t *cost = NULL;
    st_rc_t rc;

    if (p->graph != NULL)
        return ST_OK;
    if ((rc = project__table(p, opts, &p->res, err)) != ST_OK)
        return rc;
    p->n_mods = resolver_n_modules(p->res);
    p->mods = st_calloc(p->n_mods == 0 ? 1 : p->n_mods, sizeof *p->mods);
    cost = st_calloc(p->n_mods == 0 ? 1 : p->n_mods, sizeof *cost);
    p->graph = graph_new(p->n_mods);
    if (p->mods == NULL || cost == NULL || p->graph == NULL) {
        st_free(cost);
        return st_fail(err, ST_ENOMEM, "out of memory building the module graph");
    }
    for (uint32_t m = 0; m < p->n_mods; m++)
        p->mods[m].first = RES_NONE;
    /* files of each module, in path order (the file list is sorted) */
    for (size_t i = p->n; i-- > 0;) {
        pfile_t *f = &p->files[i];
        f->module = resolver_file_module(p->res, i);
        if (f->module == RES_NONE || f->module >= p->n_mods)
            continue;
        f->next = p->mods[f->module].first;
        p->mods[f->module].first = (uint32_t)i;
        cost[f->module] += 1 + f->summary.len / 1024;
    }
    rc = ST_OK;
    /* A summary whose imports do not decode is not checked at all (the
     * check job needs one resolution per import): its module's interface
     * stays unknown, as for a syntax error. All decoded before any is
     * resolved: resolving reads other files' summaries. */
    for (size_t i = 0; i < p->n && rc == ST_OK; i++) {
        pfile_t *f = &p->files[i];
        if (f->summary.len == 0 || f->module == RES_NONE)
            continue;
        if ((rc = project__decode_imports(p, f)) == ST_ECORRUPT) {
            f->n_imports = 0;
            f->summary = (span_t){0};
            rc = ST_OK;
        } else if (rc == ST_OK) {
            rc = gather_replaced(p, f);
        }
    }
    for (size_t i = 0; i < p->n && rc == ST_OK; i++) {
        pfile_t *f = &p->files[i];
        if (f->summary.len == 0 || f->module == RES_NONE)
            continue;
        rc = resolve_file(p, i);
        edge_ctx_t e = {.g = p->graph, .from = f->module};
        for (uint32_t k = 0; k < f->n_imports && rc == ST_OK; k++) {
            project__import_targets(p, &f->imports[k], add_edge, &e);
            rc = e.rc;
        }
    }
    if (rc == ST_OK)
        rc = graph_finish(p->graph, cost, err);
    else
        st_fail(err, rc, "out of memory resolving imports");
    st_free(cost);
    return rc;
}

/* ---- the check ----------------------------------------------------------- */

uint64_t project_simulate(project_t *self, unsigned workers, bool barrier)
{
    return self->graph != NULL ? graph_simulate(self->graph, workers, barrier) : 0;
}

st_rc_t project_check(project_t *self, const project_opts_t *opts, report_t *report,
                      project_stats_t *stats, st_err_t *err)
{
    st_err_t ignored = {0};
    project_stats_t local;
    st_rc_t rc;

    if (stats == NULL)
        stats = &local;
    if (self->whole_hit) {
        *stats = (project_stats_t){
            .whole = true, .ahead = self->whole_ahead, .whole_remote = self->whole_remote};
        return project__fill_report(self, report, err);
    }
    rc = project__run_checks(self, opts, stats, err);
    if (rc == ST_OK && self->whole_keyed && stats->failed == 0 && !self->scan_failed) {
        /* every keyed file got its result under the key it was hashed to */
        bool complete = true;
        for (size_t i = 0; i < self->n && complete; i++)
            complete = !self->files[i].keyed ||
                       (self->files[i].has_key &&
                        digest_eq(&self->files[i].key, &self->files[i].key_hashed));
        buf_t b;
        buf_init(&b);
        if (complete && project__whole_pack(self, opts, &b) == ST_OK) {
            if (cas_put(opts->cache, CAS_RESULTS, &self->whole_key, b.data, b.len, false,
                        &ignored) == ST_OK)
                self->whole_stored = true;
            else if (opts->on_cache_error != NULL)
                opts->on_cache_error(opts->ctx, &ignored);
            if (opts->remote != NULL && self->whole_remote_keyed)
                rcache_put(opts->remote, &self->whole_remote_key, b.data, b.len);
        }
        buf_free(&b);
    }

    /* When the checks could not run (out of memory) the scans'
     * diagnostics still go to the report, with the error for the caller. */
    if (rc != ST_OK) {
        project__fill_report(self, report, &ignored);
        return rc;
    }
    return project__fill_report(self, report, err);
}
