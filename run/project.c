/* project.c - resolve, graph, check jobs in readiness order, report.
 *
 * Memory: what the scans hand over and what the jobs produce is copied into
 * the project's arena under its lock; each job thread has its own arena for
 * the job's documents, reset after every job. Module interfaces are written
 * once, under the lock, before their component is marked done, and only read
 * by the jobs of components that depend on it, directly or not (comp_below
 * decides from the graph alone): those are handed out only after it is done,
 * under the same lock, so readers need no lock, and which interfaces a job
 * reads never depends on timing. The one thing threads share without the
 * lock is comp_below's memo (relaxed atomics; every value a true fact). */
#include "run/project.h"

#include "common/alloc.h"
#include "common/arena.h"
#include "common/buf.h"
#include "common/digest.h"
#include "common/mpbuf.h"
#include "common/mpdiag.h"
#include "common/mpread.h"
#include "run/e902.h"
#include "scheduler/graph.h"
#include "scheduler/resolve.h"
#include "worker/jobkey.h"
#include "worker/python/xmod.h"

#include <msgpack.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define PROJECT_ARENA_CHUNK ((size_t)1 << 20)
#define PROJECT_MAX_NAME 1024

/* The version in check job keys: the release, the summary (scan result)
 * format the inputs embed, and the check job's documents. */
#define PROJECT_CHECK_VERSION                                                                      \
    STRATA_VERSION "+scan" JOBKEY_STR(SCAN_RESULT_VERSION) "+check" JOBKEY_STR(                    \
        CHECK_INPUT_VERSION) "." JOBKEY_STR(CHECK_RESULT_VERSION)

typedef struct {
    uint8_t kind, flags;
    bool has_as; /* `import a.b as x`: binds a.b, not a */
    uint32_t level;
    const char *module; /* as written, without the dots; in the project arena */
    const char *name;   /* the imported name of a from-import, else "" */
    res_kind_t res;
    const char *abs; /* the absolute module name ("" for __future__) */
    uint32_t target; /* module id for RES_PROJECT, else RES_NONE */
    uint32_t sub;    /* from-imports: module id of abs.name when that exists */
} pimport_t;

typedef struct {
    const char *path;
    bool have;    /* a scan finished for it */
    bool scanned; /* this run scanned it (not a cache hit) */
    bool has_key;
    digest_t key;
    span_t summary; /* the summary map's bytes; len 0: none */
    scan_diag_t *diags;
    size_t n_diags;
    uint32_t module;
    uint32_t next; /* the next file of the same module, RES_NONE at the end */
    pimport_t *imports;
    uint32_t n_imports;
    scan_diag_t *cdiags; /* the check's */
    size_t n_cdiags;
    check_pos_t *drop;
    size_t n_drop;
    const char *failed;  /* the check job failed: why (E902) */
    bool keyed;          /* hashed in this run's first phase (project_keyed) */
    digest_t key_hashed; /* the key it was hashed to then */
} pfile_t;

typedef struct {
    uint32_t first; /* first file, RES_NONE for a namespace package */
    span_t iface;   /* len 0: unknown */
    digest_t digest;
    /* the interface's module attributes that are project modules (kind-3
     * names), read once from it: name and module id */
    const char **ref_names;
    uint32_t *ref_mods;
    uint32_t n_refs;
} pmod_t;

struct project {
    bool whole_keyed; /* project_keyed computed whole_key */
    bool whole_hit;   /* ... and found the run's diagnostics under it */
    bool scan_failed; /* a scan job failed: the run is not stored whole */
    digest_t whole_key;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    arena_t *arena;
    pfile_t *files;
    size_t n;
    resolver_t *res;
    graph_t *graph;
    pmod_t *mods;
    uint32_t n_mods;
    _Atomic uint32_t *reach_memo; /* per component (comp_below); UINT32_MAX: none */
};

/* One run of check jobs. */
typedef struct {
    project_t *p;
    const project_opts_t *opts;
    project_stats_t stats;
    uint32_t *ready; /* shuffle and barrier modes: ready components not yet taken */
    size_t n_ready;
    uint32_t layer;       /* barrier mode: the layer running */
    uint32_t *layer_left; /* barrier mode: components of each layer not done */
    unsigned seed;
    bool cache_failed;
    const char **explained; /* --explain: each component's line, printed in
                               component order after the run */
    st_rc_t rc;             /* first hard error (out of memory) */
    st_err_t err;
} run_t;

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
    p->n = n;
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
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
    arena_destroy(&p->arena);
    st_free(p->files);
    st_free(p);
    *self_p = NULL;
}

/* ---- scans ----------------------------------------------------------------- */

/* Copies n diagnostics into arena a. */
static scan_diag_t *copy_diags(arena_t *a, const scan_diag_t *d, size_t n)
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
    /* the count only with the copy: fill_report reads n_diags entries */
    if ((f->diags = copy_diags(self->arena, done->diags, done->n_diags)) == NULL)
        rc = st_fail(err, ST_ENOMEM, "out of memory keeping the scan results");
    f->n_diags = f->diags != NULL ? done->n_diags : 0;
    /* A file with a syntax error has an empty summary: it is not checked,
     * and its module's interface stays unknown (nothing is said about
     * imports from it) rather than empty (every import from it an E0611). */
    for (size_t k = 0; k < done->n_diags && sum.len > 0; k++)
        if (strcmp(done->diags[k].code, "E999") == 0)
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

/* Decodes the "imports" of a file's summary (kind, level, module, name,
 * flags of each; summary.h decodes, in a scratch arena). ST_ECORRUPT when
 * it does not decode. */
static st_rc_t decode_imports(project_t *p, pfile_t *f)
{
    arena_t *tmp = arena_new(0);
    sum_import_t *v;
    uint32_t count;
    st_rc_t rc;

    if (tmp == NULL)
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
    return rc;
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
static void import_targets(const project_t *p, const pimport_t *im,
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
static st_rc_t build(project_t *p, const project_opts_t *opts, st_err_t *err)
{
    const char **paths = NULL;
    uint64_t *cost = NULL;
    st_rc_t rc;

    if (p->graph != NULL)
        return ST_OK;
    if ((paths = st_calloc(p->n == 0 ? 1 : p->n, sizeof *paths)) == NULL)
        return st_fail(err, ST_ENOMEM, "out of memory");
    for (size_t i = 0; i < p->n; i++)
        paths[i] = p->files[i].path;
    rc = resolver_new(opts->roots, opts->n_roots, opts->args, opts->n_args, paths, p->n, &p->res,
                      err);
    st_free(paths);
    if (rc != ST_OK)
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
        if ((rc = decode_imports(p, f)) == ST_ECORRUPT) {
            f->n_imports = 0;
            f->summary = (span_t){0};
            rc = ST_OK;
        }
    }
    for (size_t i = 0; i < p->n && rc == ST_OK; i++) {
        pfile_t *f = &p->files[i];
        if (f->summary.len == 0 || f->module == RES_NONE)
            continue;
        rc = resolve_file(p, i);
        edge_ctx_t e = {.g = p->graph, .from = f->module};
        for (uint32_t k = 0; k < f->n_imports && rc == ST_OK; k++) {
            import_targets(p, &f->imports[k], add_edge, &e);
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

/* ---- check jobs ------------------------------------------------------------- */

/* The files a component's job checks (in module order, then path order):
 * those with a summary. */
static size_t comp_files(const project_t *p, uint32_t c, uint32_t *out, size_t cap)
{
    size_t n_nodes, n = 0;
    const uint32_t *nodes = graph_comp_nodes(p->graph, c, &n_nodes);

    for (size_t k = 0; k < n_nodes; k++)
        for (uint32_t i = p->mods[nodes[k]].first; i != RES_NONE; i = p->files[i].next)
            if (p->files[i].summary.len > 0 && n < cap)
                out[n++] = i;
    return n;
}

/* A check thread's scratch for reachability searches over the components
 * (comp_below): sized for every component, allocated once per thread. */
typedef struct {
    uint32_t *seen;  /* per component: the search that last visited it */
    uint32_t *stack; /* components to visit */
    uint32_t *from;  /* per component: the one it was reached from */
    uint32_t search; /* the current search's number (never 0) */
} reach_t;

typedef struct {
    const project_t *p;
    uint32_t comp;
    uint32_t *deps;
    size_t n, cap;
    reach_t *reach;
    bool oom;
} deps_t;

static bool in_sorted(const uint32_t *v, size_t n, uint32_t x)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] == x)
            return true;
        if (v[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

/* Whether component t is done before d->comp's job starts whatever order
 * jobs run and finish in: t is one of its dependencies, or one that owner
 * (a dependency of d->comp: the component whose interface named t) depends
 * on, directly or through others. A smaller id is not enough: ids are only
 * a topological order, and an unrelated component may still be running.
 * The answer is a property of the graph alone; p->reach_memo (one target
 * per component known to be reachable from it, shared by the threads) only
 * saves searches, which a chain of star imports would otherwise repeat. */
static bool comp_below(deps_t *d, uint32_t owner, uint32_t t)
{
    const graph_t *g = d->p->graph;
    _Atomic uint32_t *memo = d->p->reach_memo;
    reach_t *r = d->reach;
    size_t n, top = 0;
    const uint32_t *deps;

    if (t == owner)
        return true;
    if (t > owner)
        return false; /* every edge goes to a smaller id */
    deps = graph_comp_deps(g, d->comp, &n);
    if (in_sorted(deps, n, t))
        return true;
    deps = graph_comp_deps(g, owner, &n);
    if (in_sorted(deps, n, t) || atomic_load_explicit(&memo[owner], memory_order_relaxed) == t)
        return true;
    if (++r->search == 0) {
        memset(r->seen, 0, graph_n_comps(g) * sizeof *r->seen);
        r->search = 1;
    }
    r->seen[owner] = r->search;
    r->stack[top++] = owner;
    while (top > 0) {
        uint32_t v = r->stack[--top];
        deps = graph_comp_deps(g, v, &n);
        for (size_t k = 0; k < n; k++) {
            uint32_t u = deps[k];
            if (u == t || atomic_load_explicit(&memo[u], memory_order_relaxed) == t) {
                for (uint32_t w = v;; w = r->from[w]) {
                    atomic_store_explicit(&memo[w], t, memory_order_relaxed);
                    if (w == owner)
                        break;
                }
                return true;
            }
            /* only components with larger ids than t can lead to it */
            if (u > t && r->seen[u] != r->search) {
                r->seen[u] = r->search;
                r->from[u] = v;
                r->stack[top++] = u;
            }
        }
    }
    return false;
}

static void dep_add(void *ctx, uint32_t m)
{
    deps_t *d = ctx;

    if (graph_comp_of(d->p->graph, m) == d->comp)
        return;
    for (size_t i = 0; i < d->n; i++)
        if (d->deps[i] == m)
            return;
    if (d->n == d->cap) {
        size_t cap = d->cap == 0 ? 16 : d->cap * 2;
        uint32_t *grown = st_realloc(d->deps, cap * sizeof *grown);
        if (grown == NULL) {
            d->oom = true;
            return;
        }
        d->deps = grown, d->cap = cap;
    }
    d->deps[d->n++] = m;
}

/* Reads the kind-3 (module) names of module m's interface that are
 * project modules into m's ref arrays, in arena a (under the project's
 * lock, when the interface is stored); the interface is decoded by its
 * owner (xmod.h) in a scratch arena. A malformed interface has none. */
static void read_refs(const project_t *p, pmod_t *m, arena_t *a)
{
    arena_t *tmp = arena_new(0);
    check_iface_t f;
    mpread_t r;

    m->n_refs = 0;
    mpread_init(&r, m->iface.ptr, m->iface.len);
    if (tmp == NULL || check_iface_read(&r, tmp, &f) != ST_OK)
        goto done;
    m->ref_names = arena_calloc(a, f.n_names == 0 ? 1 : f.n_names, sizeof *m->ref_names);
    m->ref_mods = arena_calloc(a, f.n_names == 0 ? 1 : f.n_names, sizeof *m->ref_mods);
    if (m->ref_names == NULL || m->ref_mods == NULL)
        goto done;
    for (uint32_t k = 0; k < f.n_names; k++) {
        const check_iface_name_t *e = &f.names[k];
        if (e->kind != CHECK_NAME_MODULE || !e->has_ref)
            continue;
        uint32_t target = resolver_find(p->res, e->ref.s, e->ref.len);
        const char *copy = arena_strndup(a, e->name.s, e->name.len);
        if (target != RES_NONE && copy != NULL) {
            m->ref_names[m->n_refs] = copy;
            m->ref_mods[m->n_refs++] = target;
        }
    }
done:
    arena_destroy(&tmp);
}

/* Adds the modules module m (in component owner) binds as attributes: only
 * the one called `only` when not NULL. Only a module whose job is done
 * before this one starts whatever the timing: one still running would make
 * the inputs, and so the key, depend on timing. A module an interface
 * binds is not always imported by it (a star import binds the submodules an
 * __all__ lists). */
static void dep_add_refs(deps_t *d, uint32_t owner, const pmod_t *m, const char *only)
{
    for (uint32_t k = 0; k < m->n_refs; k++)
        if ((only == NULL || strcmp(only, m->ref_names[k]) == 0) &&
            comp_below(d, owner, graph_comp_of(d->p->graph, m->ref_mods[k])))
            dep_add(d, m->ref_mods[k]);
}

/* The modules an import can reach through module attributes of the
 * interfaces it reads: `from m import n` only n's, when n is a module bound
 * in m; `import m` (and star imports) every module m binds. Interfaces of
 * the component itself are not known yet: those are skipped. */
static void import_refs(deps_t *d, const pimport_t *im)
{
    const project_t *p = d->p;

    if (im->res != RES_PROJECT)
        return;
    for (uint32_t m = im->target; m != RES_NONE; m = resolver_module_parent(p->res, m)) {
        uint32_t owner = graph_comp_of(p->graph, m);
        if (owner != d->comp && p->mods[m].iface.len > 0)
            dep_add_refs(d, owner, &p->mods[m], im->kind == 1 ? im->name : NULL);
        if (im->kind != 0 || im->has_as)
            break; /* only `import a.b.c` binds the packages above */
    }
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* The interfaces a component's job reads: every module its imports reach,
 * and the modules those interfaces bind as attributes that the imports can
 * reach (import_refs); only the known ones, sorted by id (= by name). */
static st_rc_t comp_deps(const project_t *p, uint32_t c, const uint32_t *files, size_t n_files,
                         reach_t *reach, deps_t *d)
{
    *d = (deps_t){.p = p, .comp = c, .reach = reach};
    for (size_t k = 0; k < n_files; k++) {
        const pfile_t *f = &p->files[files[k]];
        for (uint32_t i = 0; i < f->n_imports; i++) {
            import_targets(p, &f->imports[i], dep_add, d);
            import_refs(d, &f->imports[i]);
        }
    }
    if (d->oom)
        return ST_ENOMEM;
    /* keep the known ones */
    size_t kept = 0;
    for (size_t k = 0; k < d->n; k++)
        if (p->mods[d->deps[k]].iface.len > 0)
            d->deps[kept++] = d->deps[k];
    d->n = kept;
    if (d->n > 1)
        qsort(d->deps, d->n, sizeof *d->deps, cmp_u32);
    return ST_OK;
}

/* Packs the job's input document, or (for_key) the document its key is the
 * digest of: the same, with each summary replaced by its scan key and each
 * interface by its digest. */
static st_rc_t pack_input(const project_t *p, const uint32_t *files, size_t n_files,
                          const deps_t *d, bool for_key, buf_t *b)
{
    mpbuf_t w;

    mpbuf_init(&w, b);
    check_input_begin(&w, (uint32_t)n_files);
    for (size_t k = 0; k < n_files; k++) {
        const pfile_t *f = &p->files[files[k]];
        uint32_t m = f->module;
        size_t n_subs;
        const uint32_t *subs = resolver_submodules(p->res, m, &n_subs);
        check_input_module_t mod = {.name = resolver_module_name(p->res, m),
                                    .file = (uint32_t)k,
                                    .pkg = scan_kind_of_path(f->path) == SCAN_KIND_INIT,
                                    .export = resolver_module_file(p->res, m) == files[k],
                                    .n_subs = (uint32_t)n_subs};

        check_input_module(&w, &mod);
        for (size_t s = 0; s < n_subs; s++) {
            const char *sub = resolver_module_name(p->res, subs[s]);
            const char *dot = strrchr(sub, '.');
            check_input_sub(&w, dot != NULL ? dot + 1 : sub);
        }
        if (for_key)
            check_input_summary_key(&w, &f->key);
        else
            check_input_summary(&w, f->summary);
        check_input_res(&w, f->n_imports);
        for (uint32_t i = 0; i < f->n_imports; i++)
            check_input_resolved(&w, (uint32_t)f->imports[i].res, f->imports[i].abs);
    }
    check_input_ifaces(&w, (uint32_t)d->n);
    for (size_t k = 0; k < d->n; k++) {
        const pmod_t *m = &p->mods[d->deps[k]];
        if (for_key)
            check_input_iface_key(&w, resolver_module_name(p->res, d->deps[k]), &m->digest);
        else
            check_input_iface(&w, m->iface);
    }
    return mpbuf_status(&w);
}

/* The key of a job from its key document. */
static st_rc_t check_key(const buf_t *doc, digest_t *key)
{
    static const char tag[] = "strata-check\0" PROJECT_CHECK_VERSION;
    digest_ctx_t *ctx = digest_ctx_new();
    st_rc_t rc = ST_EINTERNAL;

    if (ctx != NULL && digest_ctx_update(ctx, tag, sizeof tag) == ST_OK &&
        digest_ctx_update(ctx, doc->data, doc->len) == ST_OK)
        rc = digest_ctx_final(ctx, key);
    digest_ctx_destroy(&ctx);
    return rc;
}

/* The key under which the previous run's inputs of a component are kept
 * for --explain: its first module's name. */
/* SHA-256 of a tag (with its NUL) and a name (with its NUL). */
static st_rc_t named_key(const char *tag, size_t tag_size, const char *name, digest_t *key)
{
    digest_ctx_t *ctx = digest_ctx_new();
    st_rc_t rc = ST_EINTERNAL;

    if (ctx != NULL && digest_ctx_update(ctx, tag, tag_size) == ST_OK &&
        digest_ctx_update(ctx, name, strlen(name) + 1) == ST_OK)
        rc = digest_ctx_final(ctx, key);
    digest_ctx_destroy(&ctx);
    return rc;
}

static st_rc_t explain_key(const project_t *p, uint32_t c, digest_t *key)
{
    static const char tag[] = "strata-explain\0" PROJECT_CHECK_VERSION;
    size_t n;
    const uint32_t *nodes = graph_comp_nodes(p->graph, c, &n);

    return named_key(tag, sizeof tag, resolver_module_name(p->res, nodes[0]), key);
}

static void cache_failed(run_t *run, const st_err_t *err)
{
    pthread_mutex_lock(&run->p->lock);
    bool first = !run->cache_failed;
    run->cache_failed = true;
    pthread_mutex_unlock(&run->p->lock);
    if (first && run->opts->on_cache_error != NULL)
        run->opts->on_cache_error(run->opts->ctx, err);
}

/* Finds what differs between the previous key document of a component
 * (prev) and this one (cur): a summary (new content of a file) or an
 * interface (a dependency changed). Both are trusted only as far as they
 * decode; anything else is "inputs changed". */
static void explain_diff(span_t prev, const buf_t *cur, char *why, size_t cap)
{
    /* Both documents are {v, modules:[{name,...,summary:bin,res}], ifaces:
     * [[name, digest]]}: compare module by module, then interface by
     * interface, by name. */
    mpread_t a, b;
    uint32_t na, nb, ma, mb;

    snprintf(why, cap, "inputs changed (files added, removed or moved)");
    mpread_init(&a, prev.ptr, prev.len);
    mpread_init(&b, cur->data, cur->len);
    if (mpread_map(&a, &na) != ST_OK || mpread_map(&b, &nb) != ST_OK || na != 3 || nb != 3)
        return;
    for (int part = 0; part < 3; part++) {
        if (mpread_skip(&a) != ST_OK || mpread_skip(&b) != ST_OK)
            return;
        if (part == 0) {
            if (mpread_skip(&a) != ST_OK || mpread_skip(&b) != ST_OK)
                return;
            continue;
        }
        if (mpread_array(&a, &ma) != ST_OK || mpread_array(&b, &mb) != ST_OK)
            return;
        if (ma != mb)
            return;
        for (uint32_t k = 0; k < ma; k++) {
            size_t sa = a.pos, sb = b.pos;
            const char *name;
            uint32_t nlen, len;
            if (mpread_skip(&a) != ST_OK || mpread_skip(&b) != ST_OK)
                return;
            if (a.pos - sa == b.pos - sb && memcmp(a.p + sa, b.p + sb, a.pos - sa) == 0)
                continue;
            /* the first field of both shapes is (or holds) the name */
            mpread_t n = {.p = b.p, .len = b.pos, .pos = sb};
            if (part == 1) {
                if (mpread_map(&n, &len) != ST_OK || !mpread_key(&n, "name") ||
                    mpread_str(&n, &name, &nlen) != ST_OK)
                    return;
                snprintf(why, cap, "new content of module %.*s", (int)nlen, name);
            } else {
                if (mpread_array(&n, &len) != ST_OK || mpread_str(&n, &name, &nlen) != ST_OK)
                    return;
                snprintf(why, cap, "changed dependency interface %.*s", (int)nlen, name);
            }
            return;
        }
    }
}

/* Keeps component c's --explain line (module name, the others of its cycle,
 * why) for the end of the run: printed as jobs finish, the lines would come
 * in an order that depends on timing. Printed at once when out of memory. */
static void explain_keep(run_t *run, uint32_t c, const char *name, size_t more, const char *why,
                         arena_t *a)
{
    project_t *p = run->p;
    buf_t line;
    st_rc_t rc;

    buf_init_arena(&line, a);
    rc = buf_printf(&line, "explain: check %s", name);
    if (rc == ST_OK && more > 0)
        rc = buf_printf(&line, " (and %zu more in its cycle)", more);
    if (rc == ST_OK)
        rc = buf_printf(&line, ": %s\n", why);
    pthread_mutex_lock(&p->lock);
    if (rc == ST_OK &&
        (run->explained[c] = arena_strndup(p->arena, (const char *)line.data, line.len)) != NULL) {
        pthread_mutex_unlock(&p->lock);
        return;
    }
    fprintf(run->opts->explain, "explain: check %s: %s\n", name, why);
    pthread_mutex_unlock(&p->lock);
}

/* Says why component c runs (cache miss), then records its key document
 * for the next run's explanation. */
static void explain(run_t *run, uint32_t c, const buf_t *keydoc, arena_t *a)
{
    const project_opts_t *opts = run->opts;
    const project_t *p = run->p;
    size_t n;
    const uint32_t *nodes = graph_comp_nodes(p->graph, c, &n);
    char why[256];
    digest_t ek;
    span_t prev = {0};
    st_err_t err = {0};

    if (opts->cache == NULL || explain_key(p, c, &ek) != ST_OK)
        return;
    if (opts->explain != NULL) {
        st_rc_t rc = cas_get(opts->cache, CAS_RESULTS, &ek, a, &prev, &err);
        if (rc == ST_OK)
            explain_diff(prev, keydoc, why, sizeof why);
        else
            snprintf(why, sizeof why, "no cache entry");
        explain_keep(run, c, resolver_module_name(p->res, nodes[0]), n - 1, why, a);
    }
    if (cas_put(opts->cache, CAS_RESULTS, &ek, keydoc->data, keydoc->len, false, &err) != ST_OK)
        cache_failed(run, &err);
}

/* Copies a job's per-file results into the project (under its lock). */
static st_rc_t keep_result(run_t *run, const uint32_t *files, size_t n_files,
                           const check_module_t *mods, size_t n_mods)
{
    project_t *p = run->p;
    st_rc_t rc = ST_OK;

    pthread_mutex_lock(&p->lock);
    for (size_t k = 0; k < n_mods && rc == ST_OK; k++) {
        const check_module_t *cm = &mods[k];
        if (cm->file >= n_files)
            continue; /* validated by the decoder; a stray entry is ignored */
        pfile_t *f = &p->files[files[cm->file]];
        f->cdiags = copy_diags(p->arena, cm->diags, cm->n_diags);
        f->n_cdiags = f->cdiags != NULL ? cm->n_diags : 0; /* fill_report reads as many */
        f->drop = arena_calloc(p->arena, cm->n_drop == 0 ? 1 : cm->n_drop, sizeof *f->drop);
        if (f->cdiags == NULL || f->drop == NULL) {
            rc = ST_ENOMEM;
            break;
        }
        if (cm->n_drop > 0)
            memcpy(f->drop, cm->drop, cm->n_drop * sizeof *f->drop);
        f->n_drop = cm->n_drop;
        if (cm->iface.len > 0 && resolver_module_file(p->res, f->module) == files[cm->file]) {
            pmod_t *m = &p->mods[f->module];
            void *copy = arena_alloc(p->arena, cm->iface.len);
            if (copy == NULL) {
                rc = ST_ENOMEM;
                break;
            }
            m->iface =
                (span_t){.ptr = memcpy(copy, cm->iface.ptr, cm->iface.len), .len = cm->iface.len};
            if (digest_sha256(copy, cm->iface.len, &m->digest) != ST_OK)
                m->iface = (span_t){0}; /* unknown: dependents say nothing */
            else
                read_refs(p, m, p->arena);
        }
    }
    pthread_mutex_unlock(&p->lock);
    return rc;
}

/* Marks the files of a component whose job failed. */
static void job_failed(run_t *run, const uint32_t *files, size_t n_files, const st_err_t *why)
{
    project_t *p = run->p;

    pthread_mutex_lock(&p->lock);
    run->stats.failed++;
    for (size_t k = 0; k < n_files; k++) {
        pfile_t *f = &p->files[files[k]];
        f->failed = arena_strndup(p->arena, why->msg, strlen(why->msg));
        if (f->failed == NULL)
            f->failed = "out of memory";
    }
    pthread_mutex_unlock(&p->lock);
}

/* Runs (or fetches from the cache) the job of component c. */
static void run_comp(run_t *run, uint32_t c, arena_t *a, uint32_t *files, size_t cap,
                     reach_t *reach)
{
    project_t *p = run->p;
    const project_opts_t *opts = run->opts;
    size_t n_files = comp_files(p, c, files, cap);
    deps_t d = {0};
    buf_t keydoc, input;
    digest_t key;
    span_t result = {0};
    check_module_t *mods = NULL;
    size_t n_mods = 0;
    st_err_t err = {0};
    bool hit = false, keyed = false;
    st_rc_t rc;

    if (n_files == 0)
        return; /* namespace packages, files that could not be read */
    buf_init_arena(&keydoc, a);
    buf_init_arena(&input, a);
    if ((rc = comp_deps(p, c, files, n_files, reach, &d)) != ST_OK) {
        st_fail(&err, rc, "out of memory");
        goto failed;
    }
    if (opts->cache != NULL) {
        bool all_keyed = true;
        for (size_t k = 0; k < n_files; k++)
            all_keyed = all_keyed && p->files[files[k]].has_key;
        if (all_keyed && pack_input(p, files, n_files, &d, true, &keydoc) == ST_OK &&
            check_key(&keydoc, &key) == ST_OK) {
            keyed = true;
            rc = cas_get(opts->cache, CAS_RESULTS, &key, a, &result, &err);
            if (rc == ST_OK && check_result_decode(result, a, &mods, &n_mods, &err) == ST_OK &&
                n_mods == n_files)
                hit = true;
            else if (rc != ST_OK && rc != ST_ENOENT)
                cache_failed(run, &err);
        }
    }
    if (!hit) {
        if (keyed)
            explain(run, c, &keydoc, a);
        else if (opts->explain != NULL)
            explain_keep(run, c, resolver_module_name(p->res, p->files[files[0]].module), 0,
                         "no cache", a);
        if ((rc = pack_input(p, files, n_files, &d, false, &input)) != ST_OK) {
            st_fail(&err, rc, "out of memory building the check input");
            goto failed;
        }
        span_t in = {.ptr = input.data, .len = input.len};
        if ((rc = opts->run_check != NULL
                      ? opts->run_check(opts->run_check_ctx, in, a, &result, &err)
                      : check_run(in, a, &result, &err)) != ST_OK ||
            (rc = check_result_decode(result, a, &mods, &n_mods, &err)) != ST_OK)
            goto failed;
        if (n_mods != n_files) {
            st_fail(&err, ST_EINTERNAL, "check job returned %zu modules for %zu files", n_mods,
                    n_files);
            goto failed;
        }
        if (keyed &&
            cas_put(opts->cache, CAS_RESULTS, &key, result.ptr, result.len, false, &err) != ST_OK)
            cache_failed(run, &err);
    }
    if (keep_result(run, files, n_files, mods, n_mods) != ST_OK) {
        st_fail(&err, ST_ENOMEM, "out of memory keeping check results");
        goto failed;
    }
    pthread_mutex_lock(&p->lock);
    run->stats.checks++;
    if (hit)
        run->stats.cached++;
    else
        run->stats.checked++;
    pthread_mutex_unlock(&p->lock);
    st_free(d.deps);
    return;
failed:
    st_free(d.deps);
    pthread_mutex_lock(&p->lock);
    run->stats.checks++;
    pthread_mutex_unlock(&p->lock);
    job_failed(run, files, n_files, &err);
}

/* A ready component that may start now in barrier mode (its layer is the
 * one running), taken out of run->ready; false when there is none. */
static bool take_barrier(run_t *run, uint32_t *c)
{
    graph_t *g = run->p->graph;

    while (run->layer < graph_n_layers(g) && run->layer_left[run->layer] == 0)
        run->layer++;
    for (size_t k = 0; k < run->n_ready; k++)
        if (graph_layer(g, run->ready[k]) == run->layer) {
            *c = run->ready[k];
            memmove(&run->ready[k], &run->ready[k + 1], (run->n_ready - k - 1) * sizeof *c);
            run->n_ready--;
            return true;
        }
    return false;
}

/* The next component to run, under the lock; false when none is left. */
static bool take(run_t *run, uint32_t *c)
{
    project_t *p = run->p;

    for (;;) {
        if (run->rc != ST_OK) /* stopped, or failed: the other threads end too */
            return false;
        if (run->opts->shuffle != 0 || run->opts->barrier) {
            uint32_t r;
            while (graph_ready_next(p->graph, &r))
                run->ready[run->n_ready++] = r;
            if (run->opts->barrier) {
                if (take_barrier(run, c))
                    return true;
            } else if (run->n_ready > 0) {
                size_t k = (size_t)rand_r(&run->seed) % run->n_ready;
                *c = run->ready[k];
                run->ready[k] = run->ready[--run->n_ready];
                return true;
            }
        } else if (graph_ready_next(p->graph, c)) {
            return true;
        }
        if (graph_ready_left(p->graph) == 0)
            return false;
        pthread_cond_wait(&p->cond, &p->lock);
    }
}

typedef struct {
    run_t *run;
    size_t cap;
} worker_arg_t;

static void *check_thread(void *arg)
{
    worker_arg_t *w = arg;
    run_t *run = w->run;
    project_t *p = run->p;
    arena_t *a = arena_new(PROJECT_ARENA_CHUNK);
    uint32_t *files = st_calloc(w->cap == 0 ? 1 : w->cap, sizeof *files);
    size_t nc = graph_n_comps(p->graph) == 0 ? 1 : graph_n_comps(p->graph);
    reach_t reach = {.seen = st_calloc(nc, sizeof *reach.seen),
                     .stack = st_calloc(nc, sizeof *reach.stack),
                     .from = st_calloc(nc, sizeof *reach.from)};
    uint32_t c;

    pthread_mutex_lock(&p->lock);
    if (a == NULL || files == NULL || reach.seen == NULL || reach.stack == NULL ||
        reach.from == NULL) {
        if (run->rc == ST_OK)
            run->rc = st_fail(&run->err, ST_ENOMEM, "out of memory starting check jobs");
    }
    while (run->rc == ST_OK && take(run, &c)) {
        if (run->opts->cancel != NULL && atomic_load(run->opts->cancel)) {
            run->rc = st_fail(&run->err, ST_EIO, "stopped");
            break;
        }
        pthread_mutex_unlock(&p->lock);
        if (run->opts->shuffle != 0)
            sched_yield();
        run_comp(run, c, a, files, w->cap, &reach);
        arena_reset(a);
        progress_add(run->opts->progress, PROGRESS_CHECKED, 1);
        pthread_mutex_lock(&p->lock);
        graph_ready_done(p->graph, c);
        if (run->layer_left != NULL)
            run->layer_left[graph_layer(p->graph, c)]--;
        pthread_cond_broadcast(&p->cond);
    }
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    st_free(files);
    st_free(reach.seen);
    st_free(reach.stack);
    st_free(reach.from);
    arena_destroy(&a);
    return NULL;
}

/* Interfaces of namespace packages: known before any job runs. */
static st_rc_t namespace_ifaces(project_t *p, st_err_t *err)
{
    for (uint32_t m = 0; m < p->n_mods; m++) {
        size_t n_subs;
        const uint32_t *subs;
        const char **names;
        span_t out;
        if (p->mods[m].first != RES_NONE)
            continue;
        subs = resolver_submodules(p->res, m, &n_subs);
        names = arena_calloc(p->arena, n_subs == 0 ? 1 : n_subs, sizeof *names);
        if (names == NULL)
            return st_fail(err, ST_ENOMEM, "out of memory");
        for (size_t s = 0; s < n_subs; s++) {
            const char *sub = resolver_module_name(p->res, subs[s]);
            const char *dot = strrchr(sub, '.');
            names[s] = dot != NULL ? dot + 1 : sub;
        }
        if (check_namespace_iface(resolver_module_name(p->res, m), names, n_subs, p->arena, &out,
                                  err) != ST_OK)
            return err->code;
        p->mods[m].iface = out;
        if (digest_sha256(out.ptr, out.len, &p->mods[m].digest) != ST_OK)
            p->mods[m].iface = (span_t){0};
    }
    return ST_OK;
}

/* ---- the whole run's diagnostics in one piece ----------------------------------- */

static void hash_str(digest_ctx_t *ctx, const char *str)
{
    uint32_t n = (uint32_t)strlen(str);
    uint8_t len[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
    digest_ctx_update(ctx, len, sizeof len);
    digest_ctx_update(ctx, str, n);
}

/* The key of a whole run's diagnostics: everything every scan and check
 * job reads is a function of the file list (paths, and the scan key of each
 * file that was read and hashed), the roots and the path arguments. */
static bool whole_key(const project_t *p, const project_opts_t *opts, digest_t *key)
{
    static const char tag[] = "strata-run\0" PROJECT_CHECK_VERSION;
    digest_ctx_t *ctx;
    bool ok;

    if ((ctx = digest_ctx_new()) == NULL)
        return false;
    digest_ctx_update(ctx, tag, sizeof tag);
    hash_str(ctx, "roots");
    for (size_t i = 0; i < opts->n_roots; i++)
        hash_str(ctx, opts->roots[i]);
    hash_str(ctx, "args");
    for (size_t i = 0; i < opts->n_args; i++)
        hash_str(ctx, opts->args[i]);
    hash_str(ctx, "files");
    for (size_t i = 0; i < p->n; i++) {
        const pfile_t *f = &p->files[i];
        uint8_t keyed = f->keyed;
        hash_str(ctx, f->path);
        digest_ctx_update(ctx, &keyed, 1);
        if (keyed)
            digest_ctx_update(ctx, f->key_hashed.b, sizeof f->key_hashed.b);
    }
    ok = digest_ctx_final(ctx, key) == ST_OK;
    digest_ctx_destroy(&ctx);
    return ok;
}

static void pack_diag(msgpack_packer *pk, const scan_diag_t *d)
{
    mpdiag_pack_cstr(pk, d->line, d->col, d->code, d->message);
}

static bool dropped(const pfile_t *f, const scan_diag_t *d)
{
    if (strcmp(d->code, "F405") != 0)
        return false;
    for (size_t j = 0; j < f->n_drop; j++)
        if (f->drop[j].line == d->line && f->drop[j].col == d->col)
            return true;
    return false;
}

/* Encodes every keyed file's final diagnostics (the scan's less the
 * settled F405s, then the check's): an array in file order of arrays of
 * [line, col, code, message]; files that were not keyed have none (their
 * E902 comes from the run itself). */
static st_rc_t whole_pack(const project_t *p, buf_t *b)
{
    mpbuf_t w;
    msgpack_packer *pk = &w.pk;

    mpbuf_init(&w, b);
    msgpack_pack_array(pk, p->n);
    for (size_t i = 0; i < p->n; i++) {
        const pfile_t *f = &p->files[i];
        size_t n = 0;
        if (!f->keyed) {
            msgpack_pack_array(pk, 0);
            continue;
        }
        for (size_t k = 0; k < f->n_diags; k++)
            n += !dropped(f, &f->diags[k]);
        msgpack_pack_array(pk, n + f->n_cdiags);
        for (size_t k = 0; k < f->n_diags; k++)
            if (!dropped(f, &f->diags[k]))
                pack_diag(pk, &f->diags[k]);
        for (size_t k = 0; k < f->n_cdiags; k++)
            pack_diag(pk, &f->cdiags[k]);
    }
    return mpbuf_status(&w) != ST_OK || b->data == NULL ? ST_ENOMEM : ST_OK;
}

/* Decodes what whole_pack wrote into the keyed files' diagnostics
 * (untrusted: a cached value); false, with nothing kept, when it does not
 * decode. Single-threaded. */
static bool whole_unpack(project_t *p, span_t v)
{
    mpread_t r;
    uint32_t n;
    scan_diag_t **diags = st_calloc(p->n == 0 ? 1 : p->n, sizeof *diags);
    uint32_t *counts = st_calloc(p->n == 0 ? 1 : p->n, sizeof *counts);
    bool ok = false;

    mpread_init(&r, v.ptr, v.len);
    if (diags == NULL || counts == NULL || mpread_array(&r, &n) != ST_OK || n != p->n)
        goto done;
    for (size_t i = 0; i < p->n; i++) {
        size_t nd;
        if (scan_diags_read(&r, p->arena, &diags[i], &nd) != ST_OK ||
            (nd > 0 && !p->files[i].keyed))
            goto done;
        counts[i] = (uint32_t)nd;
    }
    if (r.pos != r.len)
        goto done;
    for (size_t i = 0; i < p->n; i++) {
        pfile_t *f = &p->files[i];
        if (!f->keyed)
            continue;
        f->have = true;
        f->diags = diags[i];
        f->n_diags = counts[i];
        f->n_cdiags = f->n_drop = 0;
    }
    ok = true;
done:
    st_free(counts);
    st_free(diags);
    return ok;
}

bool project_keyed(project_t *self, const project_opts_t *opts, const exec_keyed_t *keyed, size_t n)
{
    arena_t *a;
    span_t v;
    st_err_t ignored = {0};
    bool hit;

    if (opts->cache == NULL)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (keyed[i].id >= self->n)
            return false;
        self->files[keyed[i].id].keyed = keyed[i].ok;
        self->files[keyed[i].id].key_hashed = keyed[i].key;
    }
    if (!whole_key(self, opts, &self->whole_key))
        return false;
    self->whole_keyed = true;
    if ((a = arena_new(0)) == NULL)
        return false;
    hit = cas_get(opts->cache, CAS_RESULTS, &self->whole_key, a, &v, &ignored) == ST_OK &&
          whole_unpack(self, v);
    arena_destroy(&a);
    self->whole_hit = hit;
    return hit;
}

void project_scan_failed(project_t *self)
{
    pthread_mutex_lock(&self->lock);
    self->scan_failed = true;
    pthread_mutex_unlock(&self->lock);
}

/* Every file's diagnostics into the report: the scan's (less the settled
 * F405s), the check's, and an E902 when its check job failed. */
static st_rc_t fill_report(project_t *p, report_t *report, st_err_t *err)
{
    for (size_t i = 0; i < p->n; i++) {
        pfile_t *f = &p->files[i];
        size_t kept = 0;
        st_rc_t rc;

        for (size_t k = 0; k < f->n_diags; k++) {
            bool dropped = false;
            if (strcmp(f->diags[k].code, "F405") == 0)
                for (size_t j = 0; j < f->n_drop && !dropped; j++)
                    dropped =
                        f->drop[j].line == f->diags[k].line && f->drop[j].col == f->diags[k].col;
            if (!dropped)
                f->diags[kept++] = f->diags[k];
        }
        if (kept > 0 && (rc = report_add(report, f->path, f->diags, kept, err)) != ST_OK)
            return rc;
        if (f->n_cdiags > 0 &&
            (rc = report_add(report, f->path, f->cdiags, f->n_cdiags, err)) != ST_OK)
            return rc;
        if (f->failed != NULL) {
            char message[E902_MESSAGE_MAX];
            scan_diag_t d =
                e902_diag(e902_textf(message, sizeof message, E902_CHECK_FAILED, f->failed));
            if ((rc = report_add(report, f->path, &d, 1, err)) != ST_OK)
                return rc;
        }
    }
    return ST_OK;
}

static st_rc_t run_checks(project_t *self, const project_opts_t *opts, project_stats_t *stats,
                          st_err_t *err)
{
    run_t run = {.p = self, .opts = opts, .seed = opts->shuffle};
    unsigned n_threads = opts->jobs == 0 ? 1 : opts->jobs;
    pthread_t *threads = NULL;
    worker_arg_t warg = {.run = &run, .cap = self->n};
    unsigned started = 0;
    st_rc_t rc;

    if (stats != NULL)
        *stats = (project_stats_t){0};
    if ((rc = build(self, opts, err)) != ST_OK || (rc = namespace_ifaces(self, err)) != ST_OK)
        return rc;
    if ((rc = graph_ready_reset(self->graph)) != ST_OK)
        return st_fail(err, rc, "out of memory");
    st_free((void *)self->reach_memo);
    self->reach_memo = st_calloc(graph_n_comps(self->graph) == 0 ? 1 : graph_n_comps(self->graph),
                                 sizeof *self->reach_memo);
    if (self->reach_memo == NULL)
        return st_fail(err, ST_ENOMEM, "out of memory");
    for (uint32_t c = 0; c < graph_n_comps(self->graph); c++)
        atomic_init(&self->reach_memo[c], UINT32_MAX);
    run.stats.modules = self->n_mods;
    run.stats.comps = graph_n_comps(self->graph);
    run.stats.layers = graph_n_layers(self->graph);
    progress_set(opts->progress, PROGRESS_COMPS, run.stats.comps);
    if (n_threads > run.stats.comps)
        n_threads = run.stats.comps == 0 ? 1 : (unsigned)run.stats.comps;
    if ((opts->shuffle != 0 || opts->barrier) &&
        (run.ready = st_calloc(run.stats.comps == 0 ? 1 : run.stats.comps, sizeof *run.ready)) ==
            NULL)
        return st_fail(err, ST_ENOMEM, "out of memory");
    if (opts->explain != NULL &&
        (run.explained = st_calloc(run.stats.comps == 0 ? 1 : run.stats.comps,
                                   sizeof *run.explained)) == NULL) {
        st_free(run.ready);
        return st_fail(err, ST_ENOMEM, "out of memory");
    }
    if (opts->barrier) {
        run.layer_left = st_calloc(run.stats.layers + 1, sizeof *run.layer_left);
        if (run.layer_left == NULL) {
            st_free(run.ready);
            st_free(run.explained);
            return st_fail(err, ST_ENOMEM, "out of memory");
        }
        for (uint32_t c = 0; c < run.stats.comps; c++)
            run.layer_left[graph_layer(self->graph, c)]++;
    }
    if (opts->cache != NULL)
        cas_reads_begin(opts->cache); /* one read transaction for the lookups */
    if (n_threads > 1 && (threads = st_calloc(n_threads - 1, sizeof *threads)) != NULL)
        for (; started < n_threads - 1; started++)
            if (pthread_create(&threads[started], NULL, check_thread, &warg) != 0)
                break;
    check_thread(&warg); /* the calling thread works too */
    for (unsigned t = 0; t < started; t++)
        pthread_join(threads[t], NULL);
    if (opts->cache != NULL)
        cas_reads_end(opts->cache);
    st_free(threads);
    st_free(run.ready);
    st_free(run.layer_left);
    for (uint32_t c = 0; run.explained != NULL && c < run.stats.comps; c++)
        if (run.explained[c] != NULL)
            fputs(run.explained[c], opts->explain);
    st_free(run.explained);
    if (stats != NULL)
        *stats = run.stats;
    if (run.rc != ST_OK) {
        if (err != NULL)
            *err = run.err;
        return run.rc;
    }
    return ST_OK;
}

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
        *stats = (project_stats_t){.whole = true};
        return fill_report(self, report, err);
    }
    rc = run_checks(self, opts, stats, err);
    if (rc == ST_OK && self->whole_keyed && stats->failed == 0 && !self->scan_failed) {
        /* every keyed file got its result under the key it was hashed to */
        bool complete = true;
        for (size_t i = 0; i < self->n && complete; i++)
            complete = !self->files[i].keyed ||
                       (self->files[i].has_key &&
                        digest_eq(&self->files[i].key, &self->files[i].key_hashed));
        buf_t b;
        buf_init(&b);
        if (complete && whole_pack(self, &b) == ST_OK &&
            cas_put(opts->cache, CAS_RESULTS, &self->whole_key, b.data, b.len, false, &ignored) !=
                ST_OK &&
            opts->on_cache_error != NULL)
            opts->on_cache_error(opts->ctx, &ignored);
        buf_free(&b);
    }

    /* When the checks could not run (out of memory) the scans'
     * diagnostics still go to the report, with the error for the caller. */
    if (rc != ST_OK) {
        fill_report(self, report, &ignored);
        return rc;
    }
    return fill_report(self, report, err);
}

/* ---- graph output ------------------------------------------------------------ */

static void json_str(FILE *out, const char *s)
{
    buf_t b;

    buf_init(&b);
    if (report_json_string(&b, s, strlen(s)) == ST_OK)
        fwrite(b.data, 1, b.len, out);
    else
        fputs("\"\"", out);
    buf_free(&b);
}

/* The distinct project modules module m's files import (sorted). */
static const uint32_t *module_imports(const project_t *p, uint32_t m, size_t *n)
{
    return graph_succ(p->graph, m, n);
}

static void write_json(const project_t *p, FILE *out)
{
    uint32_t n_comps = graph_n_comps(p->graph);

    fputs("{\"roots\":[", out);
    for (size_t r = 0; r < resolver_n_roots(p->res); r++) {
        if (r)
            fputc(',', out);
        json_str(out, resolver_root(p->res, r));
    }
    fputs("],\n\"modules\":[", out);
    for (uint32_t m = 0; m < p->n_mods; m++) {
        uint32_t file = resolver_module_file(p->res, m);
        size_t n;
        const uint32_t *imp = module_imports(p, m, &n);
        fputs(m ? ",\n {\"name\":" : "\n {\"name\":", out);
        json_str(out, resolver_module_name(p->res, m));
        fputs(",\"file\":", out);
        if (file == RES_NONE)
            fputs("null", out);
        else
            json_str(out, p->files[file].path);
        fprintf(out, ",\"package\":%s,\"component\":%u,\"imports\":[",
                resolver_module_is_package(p->res, m) ? "true" : "false",
                graph_comp_of(p->graph, m));
        for (size_t k = 0; k < n; k++) {
            if (k)
                fputc(',', out);
            json_str(out, resolver_module_name(p->res, imp[k]));
        }
        fputs("]}", out);
    }
    fprintf(out, "],\n\"layers\":%u,\n\"components\":[", graph_n_layers(p->graph));
    for (uint32_t c = 0; c < n_comps; c++) {
        size_t n, nd;
        const uint32_t *nodes = graph_comp_nodes(p->graph, c, &n);
        const uint32_t *deps = graph_comp_deps(p->graph, c, &nd);
        fprintf(out, "%s {\"id\":%u,\"layer\":%u,\"priority\":%llu,\"modules\":[", c ? ",\n" : "\n",
                c, graph_layer(p->graph, c), (unsigned long long)graph_priority(p->graph, c));
        for (size_t k = 0; k < n; k++) {
            if (k)
                fputc(',', out);
            json_str(out, resolver_module_name(p->res, nodes[k]));
        }
        fputs("],\"deps\":[", out);
        for (size_t k = 0; k < nd; k++)
            fprintf(out, "%s%u", k ? "," : "", deps[k]);
        fputs("]}", out);
    }
    fputs("]}\n", out);
}

static void write_dot(const project_t *p, FILE *out)
{
    uint32_t n_comps = graph_n_comps(p->graph);

    fputs("digraph strata {\n  rankdir=LR;\n  node [shape=box];\n", out);
    for (uint32_t c = 0; c < n_comps; c++) {
        size_t n;
        const uint32_t *nodes = graph_comp_nodes(p->graph, c, &n);
        if (n > 1)
            fprintf(out, "  subgraph cluster_%u {\n    label=\"cycle %u (layer %u)\";\n", c, c,
                    graph_layer(p->graph, c));
        for (size_t k = 0; k < n; k++) {
            fputs(n > 1 ? "    " : "  ", out);
            json_str(out, resolver_module_name(p->res, nodes[k]));
            fputs(";\n", out);
        }
        if (n > 1)
            fputs("  }\n", out);
    }
    for (uint32_t m = 0; m < p->n_mods; m++) {
        size_t n;
        const uint32_t *imp = module_imports(p, m, &n);
        for (size_t k = 0; k < n; k++) {
            fputs("  ", out);
            json_str(out, resolver_module_name(p->res, m));
            fputs(" -> ", out);
            json_str(out, resolver_module_name(p->res, imp[k]));
            fputs(";\n", out);
        }
    }
    fputs("}\n", out);
}

st_rc_t project_write_graph(project_t *self, const project_opts_t *opts,
                            project_graph_format_t format, FILE *out, st_err_t *err)
{
    st_rc_t rc;

    if ((rc = build(self, opts, err)) != ST_OK)
        return rc;
    if (format == PROJECT_GRAPH_DOT)
        write_dot(self, out);
    else
        write_json(self, out);
    if (ferror(out))
        return st_fail(err, ST_EIO, "cannot write the graph");
    return ST_OK;
}

/* ---- scan explanations ------------------------------------------------------- */

/* The key of the record of the content a path had when it was last scanned. */
static st_rc_t scan_explain_key(const char *path, digest_t *key)
{
    static const char tag[] = "strata-explain-scan\0" PROJECT_CHECK_VERSION;

    return named_key(tag, sizeof tag, path, key);
}

st_rc_t project_explain_scans(project_t *self, cas_t *cache, FILE *out, st_err_t *err)
{
    arena_t *a;

    if (cache == NULL) {
        for (size_t i = 0; out != NULL && i < self->n; i++)
            if (self->files[i].have && self->files[i].scanned)
                fprintf(out, "explain: scan %s: no cache\n", self->files[i].path);
        return ST_OK;
    }
    if ((a = arena_new(4096)) == NULL)
        return st_fail(err, ST_ENOMEM, "out of memory");
    for (size_t i = 0; i < self->n; i++) {
        const pfile_t *f = &self->files[i];
        digest_t ek;
        span_t prev;
        st_err_t gerr = {0};

        if (!f->have || !f->scanned || !f->has_key || scan_explain_key(f->path, &ek) != ST_OK)
            continue;
        if (out != NULL) {
            const char *why = "no cache entry";
            if (cas_get(cache, CAS_RESULTS, &ek, a, &prev, &gerr) == ST_OK)
                why = prev.len == sizeof f->key.b && memcmp(prev.ptr, f->key.b, prev.len) == 0
                          ? "no cache entry (evicted, cleared or corrupt)"
                          : "new content";
            fprintf(out, "explain: scan %s: %s\n", f->path, why);
            arena_reset(a);
        }
        if (cas_put(cache, CAS_RESULTS, &ek, f->key.b, sizeof f->key.b, false, &gerr) != ST_OK) {
            arena_destroy(&a);
            return st_fail(err, gerr.code, "%s", gerr.msg);
        }
    }
    arena_destroy(&a);
    return ST_OK;
}
