/* project_jobs.c - the check jobs of a project, one per component of the
 * module graph: which files and interfaces each reads, its input document
 * and key, the cache lookup and --explain of why it ran, its result kept in
 * the project, and the threads that take components as they become ready
 * (in priority order, or shuffled, or layer by layer). A job's inputs, and
 * so its key, never depend on timing: it reads only the interfaces of
 * components done before it can start whatever the order (comp_below). */
#include "run/project_int.h"

#include "common/alloc.h"
#include "common/arena.h"
#include "common/buf.h"
#include "common/digest.h"
#include "common/mpbuf.h"
#include "common/mpread.h"
#include "scheduler/graph.h"
#include "scheduler/resolve.h"
#include "worker/jobkey.h"
#include "worker/python/xmod.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

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
    bool *needed;           /* per component: its job runs; NULL: every one */
    st_rc_t rc;             /* first hard error (out of memory) */
    st_err_t err;
    /* With a team cache (waves of lookups, below): per component, what its
     * wave found (value {NULL, 0}: neither cache had it; st_malloc'd) and
     * whether a wave claimed it; NULL: no waves. Under p's lock. */
    struct prefetched *pre;
    uint8_t *pre_state;
    uint32_t *fresh; /* components ready since the last wave was claimed */
    size_t n_fresh;
} run_t;

typedef struct prefetched {
    digest_t key;
    span_t value;
    bool looked; /* a wave computed key and looked it up */
    bool remote; /* the value came from the team cache */
} prefetched_t;

/* ---- a job's inputs ------------------------------------------------------ */

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
            project__import_targets(p, &f->imports[i], dep_add, d);
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

    const char *python = NULL;
    for (size_t k = 0; k < n_files && python == NULL && p->lib_python != NULL; k++) {
        const pfile_t *f = &p->files[files[k]];
        for (uint32_t i = 0; i < f->n_imports && python == NULL; i++)
            if (f->imports[i].res == RES_MISSING)
                python = p->lib_python;
    }
    mpbuf_init(&w, b);
    check_input_begin_env(&w, (uint32_t)n_files, python);
    for (size_t k = 0; k < n_files; k++) {
        const pfile_t *f = &p->files[files[k]];
        uint32_t m = f->module;
        size_t n_subs;
        const uint32_t *subs = resolver_submodules(p->res, m, &n_subs);
        scan_kind_t kind = scan_kind_of_path(f->path);
        check_input_module_t mod = {.name = resolver_module_name(p->res, m),
                                    .file = (uint32_t)k,
                                    .pkg = scan_kind_is_package(kind),
                                    .export = resolver_module_file(p->res, m) == files[k],
                                    .replaced = project__replaced(p, m),
                                    .stub = scan_kind_is_stub(kind),
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

/* ---- keys and --explain -------------------------------------------------- */

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

/* SHA-256 of a tag (with its NUL) and a name (with its NUL). */
st_rc_t project__named_key(const char *tag, size_t tag_size, const char *name, digest_t *key)
{
    digest_ctx_t *ctx = digest_ctx_new();
    st_rc_t rc = ST_EINTERNAL;

    if (ctx != NULL && digest_ctx_update(ctx, tag, tag_size) == ST_OK &&
        digest_ctx_update(ctx, name, strlen(name) + 1) == ST_OK)
        rc = digest_ctx_final(ctx, key);
    digest_ctx_destroy(&ctx);
    return rc;
}

/* The key under which the previous run's inputs of a component are kept
 * for --explain: its first module's name. */
static st_rc_t explain_key(const project_t *p, uint32_t c, digest_t *key)
{
    static const char tag[] = "strata-explain\0" PROJECT_CHECK_VERSION;
    size_t n;
    const uint32_t *nodes = graph_comp_nodes(p->graph, c, &n);

    return project__named_key(tag, sizeof tag, resolver_module_name(p->res, nodes[0]), key);
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

/* ---- a job --------------------------------------------------------------- */

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
        f->cdiags = project__copy_diags(p->arena, cm->diags, cm->n_diags);
        f->n_cdiags = f->cdiags != NULL ? cm->n_diags : 0; /* project__fill_report reads as many */
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

/* ---- waves of lookups ------------------------------------------------------ */

/* With a team cache, a job that looked its result up only when it ran
 * would wait a round trip each: 900 jobs on a server 5 ms away are 2 s,
 * the whole budget. A job's key is computable once it is ready (it holds
 * its dependencies' interface digests, known when their jobs are done), so
 * the thread that takes a job also claims every job ready then that no
 * other thread claimed, computes their keys, and looks them all up at
 * once: the run's cache in one pass, the misses on the server in one
 * parallel batch (hits written through). A wave per burst of readiness,
 * about one per layer of the graph. */

enum { PRE_NONE = 0, PRE_CLAIMED = 1, PRE_DONE = 2 };

/* Claims c and the components that became ready since the last claim
 * (none of them claimed yet), into wave[]; their count. None once the team
 * cache is given up: jobs then look their own up in the run's cache.
 * Under p->lock. */
static size_t claim_wave(run_t *run, uint32_t c, uint32_t *wave)
{
    size_t n = 0;

    if (rcache_usable(run->opts->remote)) {
        if (run->pre_state[c] == PRE_NONE) {
            run->pre_state[c] = PRE_CLAIMED;
            wave[n++] = c;
        }
        for (size_t k = 0; k < run->n_fresh; k++)
            if (run->pre_state[run->fresh[k]] == PRE_NONE) {
                run->pre_state[run->fresh[k]] = PRE_CLAIMED;
                wave[n++] = run->fresh[k];
            }
    }
    run->n_fresh = 0;
    return n;
}

/* The ready buffer as a heap in the graph's order (highest priority, then
 * lowest id, first): waves drain the graph's ready components as they
 * come, and jobs still start in its order. Under p->lock. */
static bool ready_before(const graph_t *g, uint32_t a, uint32_t b)
{
    uint64_t pa = graph_priority(g, a), pb = graph_priority(g, b);
    return pa != pb ? pa > pb : a < b;
}

static void ready_push(run_t *run, uint32_t c)
{
    const graph_t *g = run->p->graph;
    size_t i = run->n_ready++;

    while (i > 0 && ready_before(g, c, run->ready[(i - 1) / 2])) {
        run->ready[i] = run->ready[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    run->ready[i] = c;
}

static uint32_t ready_pop(run_t *run)
{
    const graph_t *g = run->p->graph;
    uint32_t top = run->ready[0], last = run->ready[--run->n_ready];
    size_t i = 0, n = run->n_ready;

    for (;;) {
        size_t l = 2 * i + 1, best = i;
        uint32_t at = last;
        if (l < n && ready_before(g, run->ready[l], at))
            best = l, at = run->ready[l];
        if (l + 1 < n && ready_before(g, run->ready[l + 1], at))
            best = l + 1;
        if (best == i)
            break;
        run->ready[i] = run->ready[best];
        i = best;
    }
    if (n > 0)
        run->ready[i] = last;
    return top;
}

/* The key of component c's job (what run_comp computes), false when it
 * has none (no files, not needed, a file without a key) or on failure. */
static bool job_key(run_t *run, uint32_t c, uint32_t *files, reach_t *reach, arena_t *a,
                    digest_t *key)
{
    project_t *p = run->p;
    size_t n_files = comp_files(p, c, files, p->n);
    bool ok = n_files > 0 && (run->needed == NULL || run->needed[c]);
    deps_t d = {0};
    buf_t doc;

    for (size_t k = 0; k < n_files && ok; k++)
        ok = p->files[files[k]].has_key && !p->files[files[k]].transient;
    if (!ok)
        return false;
    buf_init_arena(&doc, a);
    ok = comp_deps(p, c, files, n_files, reach, &d) == ST_OK &&
         pack_input(p, files, n_files, &d, true, &doc) == ST_OK && check_key(&doc, key) == ST_OK;
    st_free(d.deps);
    return ok;
}

/* Looks up the jobs of wave[0..n) in both caches; marks them done. */
static void fetch_wave(run_t *run, const uint32_t *wave, size_t n, uint32_t *files, reach_t *reach,
                       arena_t *a)
{
    project_t *p = run->p;
    const project_opts_t *opts = run->opts;
    digest_t *keys = arena_calloc(a, n, sizeof *keys);
    span_t *values = arena_calloc(a, n, sizeof *values);
    uint32_t *which = arena_calloc(a, n, sizeof *which);
    bool *remote = arena_calloc(a, n, sizeof *remote);
    size_t m = 0, hits = 0, miss = 0;
    st_err_t err = {0};

    for (size_t k = 0; keys != NULL && values != NULL && which != NULL && remote != NULL && k < n;
         k++)
        if (job_key(run, wave[k], files, reach, a, &keys[m]))
            which[m++] = wave[k];
    if (m > 0 && cas_get_many(opts->cache, CAS_RESULTS, keys, m, a, values, &hits, &err) != ST_OK)
        memset(values, 0, m * sizeof *values);
    if (m > 0 && hits < m) {
        /* the misses, asked of the team cache in one batch */
        digest_t *mk = arena_calloc(a, m - hits, sizeof *mk);
        span_t *mv = arena_calloc(a, m - hits, sizeof *mv);
        size_t *at = arena_calloc(a, m - hits, sizeof *at), got = 0;
        for (size_t k = 0; mk != NULL && mv != NULL && at != NULL && k < m; k++)
            if (values[k].ptr == NULL) {
                mk[miss] = keys[k];
                at[miss++] = k;
            }
        if (miss > 0)
            rcache_get_many(opts->remote, mk, miss, a, mv, &got);
        for (size_t k = 0; k < miss && got > 0; k++)
            if (mv[k].ptr != NULL) {
                values[at[k]] = mv[k];
                remote[at[k]] = true;
                if (cas_put(opts->cache, CAS_RESULTS, &mk[k], mv[k].ptr, mv[k].len, false, &err) !=
                    ST_OK)
                    cache_failed(run, &err);
            }
    }
    pthread_mutex_lock(&p->lock);
    for (size_t k = 0; k < m; k++) {
        prefetched_t *pf = &run->pre[which[k]];
        pf->key = keys[k];
        pf->remote = remote[k];
        pf->value = (span_t){0};
        if (values[k].ptr != NULL) {
            void *copy = st_malloc(values[k].len == 0 ? 1 : values[k].len);
            if (copy != NULL)
                pf->value = (span_t){.ptr = memcpy(copy, values[k].ptr, values[k].len),
                                     .len = values[k].len};
        }
        pf->looked = true;
    }
    for (size_t k = 0; k < n; k++)
        run->pre_state[wave[k]] = PRE_DONE;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

/* What the wave that claimed c found, waiting for the wave to end; NULL
 * when no wave looked c up (no waves, the server given up, or no key). The
 * wave computed c's key once c was ready, from the inputs its job reads
 * (its dependencies' jobs were done): the job takes that key. */
static const prefetched_t *prefetched(run_t *run, uint32_t c)
{
    project_t *p = run->p;
    const prefetched_t *pf = NULL;

    if (run->pre == NULL)
        return NULL;
    pthread_mutex_lock(&p->lock);
    while (run->pre_state[c] == PRE_CLAIMED)
        pthread_cond_wait(&p->cond, &p->lock);
    if (run->pre[c].looked)
        pf = &run->pre[c];
    pthread_mutex_unlock(&p->lock);
    return pf;
}

/* comp_deps of component c into *d, the first time it is asked for. */
static st_rc_t deps_once(const project_t *p, uint32_t c, const uint32_t *files, size_t n_files,
                         reach_t *reach, deps_t *d, bool *have)
{
    st_rc_t rc;

    if (*have)
        return ST_OK;
    if ((rc = comp_deps(p, c, files, n_files, reach, d)) == ST_OK)
        *have = true;
    return rc;
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
    bool hit = false, keyed = false, remote = false, have_deps = false;
    st_rc_t rc;

    if (n_files == 0 || (run->needed != NULL && !run->needed[c]))
        return; /* namespace packages, files that could not be read, context
                   that no reported file reads */
    buf_init_arena(&keydoc, a);
    buf_init_arena(&input, a);
    if (opts->cache != NULL) {
        bool all_keyed = true;
        for (size_t k = 0; k < n_files; k++)
            all_keyed = all_keyed && p->files[files[k]].has_key && !p->files[files[k]].transient;
        const prefetched_t *pf = all_keyed ? prefetched(run, c) : NULL;
        if (pf != NULL) {
            key = pf->key; /* no dependencies or key document needed for a hit */
            keyed = true;
        } else if (all_keyed) {
            if ((rc = deps_once(p, c, files, n_files, reach, &d, &have_deps)) != ST_OK)
                goto oom;
            keyed = pack_input(p, files, n_files, &d, true, &keydoc) == ST_OK &&
                    check_key(&keydoc, &key) == ST_OK;
        }
        if (keyed) {
            if (pf != NULL) /* looked up by its wave, in both caches */
                rc = pf->value.ptr != NULL ? (result = pf->value, ST_OK) : ST_ENOENT;
            else
                rc = cas_get(opts->cache, CAS_RESULTS, &key, a, &result, &err);
            if (rc == ST_OK && check_result_decode(result, a, &mods, &n_mods, &err) == ST_OK &&
                n_mods == n_files)
                hit = true, remote = pf != NULL && pf->remote;
            else if (rc != ST_OK && rc != ST_ENOENT)
                cache_failed(run, &err);
            if (!hit && pf == NULL && opts->remote != NULL &&
                rcache_get(opts->remote, &key, a, &result) &&
                check_result_decode(result, a, &mods, &n_mods, &err) == ST_OK &&
                n_mods == n_files) {
                hit = remote = true;
                if (cas_put(opts->cache, CAS_RESULTS, &key, result.ptr, result.len, false, &err) !=
                    ST_OK)
                    cache_failed(run, &err);
            }
        }
    }
    if (!hit) {
        if ((rc = deps_once(p, c, files, n_files, reach, &d, &have_deps)) != ST_OK)
            goto oom;
        if (keyed && keydoc.len == 0) /* the wave had the key */
            (void)pack_input(p, files, n_files, &d, true, &keydoc);
        if (keyed && keydoc.len > 0)
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
        if (keyed)
            rcache_put(opts->remote, &key, result.ptr, result.len);
    }
    rc = keep_result(run, files, n_files, mods, n_mods);
    if (run->pre != NULL && run->pre[c].value.ptr != NULL) {
        /* kept (copied) now: the wave's copy is not needed any more */
        st_free((void *)run->pre[c].value.ptr);
        run->pre[c].value = (span_t){0};
    }
    if (rc != ST_OK) {
        st_fail(&err, ST_ENOMEM, "out of memory keeping check results");
        goto failed;
    }
    pthread_mutex_lock(&p->lock);
    run->stats.checks++;
    if (hit)
        run->stats.cached++;
    else
        run->stats.checked++;
    run->stats.remote += remote;
    pthread_mutex_unlock(&p->lock);
    st_free(d.deps);
    return;
oom:
    st_fail(&err, rc, "out of memory");
failed:
    st_free(d.deps);
    pthread_mutex_lock(&p->lock);
    run->stats.checks++;
    pthread_mutex_unlock(&p->lock);
    job_failed(run, files, n_files, &err);
}

/* ---- the threads --------------------------------------------------------- */

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
        if (run->opts->shuffle != 0 || run->opts->barrier || run->pre != NULL) {
            bool heap = run->opts->shuffle == 0 && !run->opts->barrier; /* waves alone */
            uint32_t r;
            while (graph_ready_next(p->graph, &r)) {
                if (heap)
                    ready_push(run, r);
                else
                    run->ready[run->n_ready++] = r;
                if (run->fresh != NULL)
                    run->fresh[run->n_fresh++] = r;
            }
            if (run->opts->barrier) {
                if (take_barrier(run, c))
                    return true;
            } else if (heap && run->n_ready > 0) {
                *c = ready_pop(run);
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
    uint32_t c, *wave = run->pre != NULL ? st_calloc(nc, sizeof *wave) : NULL;

    pthread_mutex_lock(&p->lock);
    if (a == NULL || files == NULL || reach.seen == NULL || reach.stack == NULL ||
        reach.from == NULL || (run->pre != NULL && wave == NULL)) {
        if (run->rc == ST_OK)
            run->rc = st_fail(&run->err, ST_ENOMEM, "out of memory starting check jobs");
    }
    while (run->rc == ST_OK && take(run, &c)) {
        if (run->opts->cancel != NULL && atomic_load(run->opts->cancel)) {
            run->rc = st_fail(&run->err, ST_EIO, "stopped");
            break;
        }
        size_t n_wave = run->pre != NULL && wave != NULL ? claim_wave(run, c, wave) : 0;
        pthread_mutex_unlock(&p->lock);
        if (n_wave > 0) {
            fetch_wave(run, wave, n_wave, files, &reach, a);
            arena_reset(a);
        }
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
    st_free(wave);
    st_free(files);
    st_free(reach.seen);
    st_free(reach.stack);
    st_free(reach.from);
    arena_destroy(&a);
    return NULL;
}

/* The components whose jobs a run needs when some files are context
 * (run/scope.h): those with a reported file, and every component below one,
 * whose interfaces they read; the others' diagnostics would never be
 * reported. *out NULL when every file is reported. ST_ENOMEM. */
static st_rc_t needed_comps(const project_t *p, bool **out)
{
    uint32_t n = graph_n_comps(p->graph), *stack, top = 0;
    bool any_context = false, *needed;

    *out = NULL;
    for (size_t i = 0; i < p->n && !any_context; i++)
        any_context = p->files[i].context;
    if (!any_context)
        return ST_OK;
    needed = st_calloc(n == 0 ? 1 : n, sizeof *needed);
    stack = st_calloc(n == 0 ? 1 : n, sizeof *stack);
    if (needed == NULL || stack == NULL) {
        st_free(needed);
        st_free(stack);
        return ST_ENOMEM;
    }
    for (size_t i = 0; i < p->n; i++) {
        uint32_t m = p->files[i].module, c;
        if (p->files[i].context || m == RES_NONE || m >= p->n_mods)
            continue;
        if (!needed[c = graph_comp_of(p->graph, m)])
            needed[stack[top++] = c] = true;
    }
    while (top > 0) {
        size_t n_deps;
        const uint32_t *deps = graph_comp_deps(p->graph, stack[--top], &n_deps);
        for (size_t k = 0; k < n_deps; k++)
            if (!needed[deps[k]])
                needed[stack[top++] = deps[k]] = true;
    }
    st_free(stack);
    *out = needed;
    return ST_OK;
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

st_rc_t project__run_checks(project_t *self, const project_opts_t *opts, project_stats_t *stats,
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
    if ((rc = project__build(self, opts, err)) != ST_OK ||
        (rc = namespace_ifaces(self, err)) != ST_OK)
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
    if (opts->cache != NULL && opts->remote != NULL) {
        size_t nc = run.stats.comps == 0 ? 1 : run.stats.comps;
        run.pre = st_calloc(nc, sizeof *run.pre);
        run.pre_state = st_calloc(nc, sizeof *run.pre_state);
        run.fresh = st_calloc(nc, sizeof *run.fresh);
        if (run.pre == NULL || run.pre_state == NULL || run.fresh == NULL) {
            st_free(run.pre);
            st_free(run.pre_state);
            st_free(run.fresh);
            run.pre = NULL; /* no waves: each job looks its own up */
            run.pre_state = NULL;
            run.fresh = NULL;
        }
    }
    if ((opts->shuffle != 0 || opts->barrier || run.pre != NULL) &&
        (run.ready = st_calloc(run.stats.comps == 0 ? 1 : run.stats.comps, sizeof *run.ready)) ==
            NULL) {
        st_free(run.pre);
        st_free(run.pre_state);
        st_free(run.fresh);
        return st_fail(err, ST_ENOMEM, "out of memory");
    }
    if (opts->explain != NULL &&
        (run.explained = st_calloc(run.stats.comps == 0 ? 1 : run.stats.comps,
                                   sizeof *run.explained)) == NULL) {
        st_free(run.ready);
        st_free(run.pre);
        st_free(run.pre_state);
        st_free(run.fresh);
        return st_fail(err, ST_ENOMEM, "out of memory");
    }
    if (opts->barrier) {
        run.layer_left = st_calloc(run.stats.layers + 1, sizeof *run.layer_left);
        if (run.layer_left == NULL) {
            st_free(run.ready);
            st_free(run.explained);
            st_free(run.pre);
            st_free(run.pre_state);
            st_free(run.fresh);
            return st_fail(err, ST_ENOMEM, "out of memory");
        }
        for (uint32_t c = 0; c < run.stats.comps; c++)
            run.layer_left[graph_layer(self->graph, c)]++;
    }
    if (needed_comps(self, &run.needed) != ST_OK) {
        st_free(run.ready);
        st_free(run.explained);
        st_free(run.layer_left);
        st_free(run.pre);
        st_free(run.pre_state);
        st_free(run.fresh);
        return st_fail(err, ST_ENOMEM, "out of memory");
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
    st_free(run.needed);
    for (uint32_t c = 0; run.pre != NULL && c < run.stats.comps; c++)
        st_free((void *)run.pre[c].value.ptr);
    st_free(run.pre);
    st_free(run.pre_state);
    st_free(run.fresh);
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
