/* graph.c - the module graph: SCCs, layers, priorities, readiness dispatch.
 *
 * Edges are only collected until graph_finish; then everything is built at
 * once into flat arrays (compressed rows: an offset table and one array of
 * targets), because the graph never changes after that and the dispatcher
 * reads it on every completion. Rows are built by two stable counting sorts
 * (by target, then by source), so they come out sorted and deduplicated in
 * linear time whatever order the edges were added in.
 *
 * Tarjan's algorithm runs on an explicit stack so that a long import chain
 * cannot overflow the C stack. Its component order depends on the visit
 * order, so components are renumbered afterwards by Kahn's algorithm over
 * "dependencies first", always taking the ready component with the smallest
 * node: the numbering is then a function of the graph alone.
 *
 * graph_finish builds into a separate set of arrays and installs them only on
 * success, so a failed finish (out of memory) leaves the graph as it was; it
 * also allocates the scratch the dispatcher and the simulator use, so neither
 * allocates later and neither can fail for lack of memory. */
#include "scheduler/graph.h"

#include "common/alloc.h"

#include <string.h>

#define NONE UINT32_MAX

/* Dispatch state of a component during a run. */
enum { C_PENDING, C_READY, C_RUNNING, C_DONE };

/* Rows of sorted, distinct targets: row r is col[off[r] .. off[r+1]). */
typedef struct {
    size_t *off;
    uint32_t *col;
} rows_t;

/* Everything graph_finish computes, built aside and installed on success. */
typedef struct {
    uint32_t n_comps, n_layers;
    rows_t succ;        /* node -> nodes it imports */
    uint32_t *comp_of;  /* node -> component */
    rows_t nodes;       /* component -> its nodes */
    rows_t deps, users; /* component -> components it depends on / its users */
    uint32_t *layer;
    rows_t by_layer; /* layer -> its components */
    uint64_t *cost, *prio;
    /* Scratch for the dispatcher and the simulator (n_comps each). */
    uint32_t *missing, *heap, *sim_missing, *sim_ready, *sim_run;
    uint64_t *sim_end;
    uint8_t *state;
} built_t;

struct graph {
    uint32_t n;
    bool finished;
    uint32_t *eu, *ev; /* edges u -> v, until graph_finish */
    size_t n_edges, cap_edges;
    built_t b;
    uint32_t heap_len, left;
};

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    uint64_t r;
    return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}

static void rows_free(rows_t *r)
{
    st_free(r->off);
    st_free(r->col);
    r->off = NULL;
    r->col = NULL;
}

static void built_free(built_t *b)
{
    rows_free(&b->succ);
    rows_free(&b->nodes);
    rows_free(&b->deps);
    rows_free(&b->users);
    rows_free(&b->by_layer);
    st_free(b->comp_of);
    st_free(b->layer);
    st_free(b->cost);
    st_free(b->prio);
    st_free(b->missing);
    st_free(b->heap);
    st_free(b->sim_missing);
    st_free(b->sim_ready);
    st_free(b->sim_run);
    st_free(b->sim_end);
    st_free(b->state);
    memset(b, 0, sizeof *b);
}

graph_t *graph_new(uint32_t n)
{
    graph_t *self;

    if (n == NONE) /* NONE marks "no node" internally */
        return NULL;
    if ((self = st_calloc(1, sizeof *self)) == NULL)
        return NULL;
    self->n = n;
    return self;
}

void graph_destroy(graph_t **self_p)
{
    graph_t *self;

    if (self_p == NULL || *self_p == NULL)
        return;
    self = *self_p;
    st_free(self->eu);
    st_free(self->ev);
    built_free(&self->b);
    st_free(self);
    *self_p = NULL;
}

static st_rc_t grow_edges(graph_t *self)
{
    size_t cap = self->cap_edges ? self->cap_edges : 16, bytes;
    uint32_t *eu, *ev;

    if (!st_mul_size(cap, 2, &cap) || !st_mul_size(cap, sizeof(uint32_t), &bytes))
        return ST_ENOMEM;
    if ((eu = st_realloc(self->eu, bytes)) == NULL)
        return ST_ENOMEM;
    self->eu = eu;
    if ((ev = st_realloc(self->ev, bytes)) == NULL)
        return ST_ENOMEM; /* eu is merely bigger than needed: still consistent */
    self->ev = ev;
    self->cap_edges = cap;
    return ST_OK;
}

st_rc_t graph_add_edge(graph_t *self, uint32_t u, uint32_t v)
{
    if (self == NULL || self->finished || u >= self->n || v >= self->n)
        return ST_EINVAL;
    if (self->n_edges == self->cap_edges && grow_edges(self) != ST_OK)
        return ST_ENOMEM;
    self->eu[self->n_edges] = u;
    self->ev[self->n_edges] = v;
    self->n_edges++;
    return ST_OK;
}

/* calloc of n items of size sz; NULL on overflow or out of memory. */
static void *alloc_n(size_t n, size_t sz)
{
    return st_calloc(n ? n : 1, sz);
}

/* Rows from m pairs (src[i] -> dst[i]), src < n_rows, dst < n_cols: sorted
 * by dst with a stable counting sort, then by src, then duplicates dropped. */
static st_rc_t rows_build(rows_t *out, const uint32_t *src, const uint32_t *dst, size_t m,
                          uint32_t n_rows, uint32_t n_cols)
{
    size_t *cnt = alloc_n((size_t)n_cols + 1, sizeof *cnt);
    size_t *off = alloc_n((size_t)n_rows + 1, sizeof *off);
    uint32_t *ts = alloc_n(m, sizeof *ts), *td = alloc_n(m, sizeof *td);
    uint32_t *col = alloc_n(m, sizeof *col);
    size_t w = 0, prev_end = 0;

    if (cnt == NULL || off == NULL || ts == NULL || td == NULL || col == NULL)
        goto fail;
    for (size_t i = 0; i < m; i++)
        cnt[dst[i] + 1]++;
    for (uint32_t c = 0; c < n_cols; c++)
        cnt[c + 1] += cnt[c];
    for (size_t i = 0; i < m; i++) {
        size_t p = cnt[dst[i]]++;
        ts[p] = src[i];
        td[p] = dst[i];
    }
    for (size_t i = 0; i < m; i++)
        off[ts[i] + 1]++;
    for (uint32_t r = 0; r < n_rows; r++)
        off[r + 1] += off[r];
    for (size_t i = 0; i < m; i++) /* off[r] walks to where row r ends */
        col[off[ts[i]]++] = td[i];
    for (uint32_t r = 0; r < n_rows; r++) { /* compact: drop repeats in place */
        size_t start = prev_end, end = off[r];
        prev_end = end;
        off[r] = w;
        for (size_t i = start; i < end; i++)
            if (i == start || col[i] != col[i - 1])
                col[w++] = col[i];
    }
    off[n_rows] = w;
    st_free(cnt);
    st_free(ts);
    st_free(td);
    out->off = off;
    out->col = col;
    return ST_OK;
fail:
    st_free(cnt);
    st_free(off);
    st_free(ts);
    st_free(td);
    st_free(col);
    return ST_ENOMEM;
}

/* Tarjan's algorithm with its call stack made explicit: frame[] holds the
 * nodes being visited and next[] where each is in its successor row. A node
 * visited but without a component yet is on the component stack. */
typedef struct {
    const rows_t *succ;
    uint32_t *comp, *index, *low, *stack, *frame;
    size_t *next;
    uint32_t counter, sp, fp, nc;
} tarjan_t;

static void tarjan_enter(tarjan_t *t, uint32_t v)
{
    t->index[v] = t->low[v] = t->counter++;
    t->stack[t->sp++] = v;
    t->frame[t->fp] = v;
    t->next[t->fp++] = t->succ->off[v];
}

/* v's successors are all seen: if v is a root, pop its component; then
 * pass v's low link up to the node that reached v. */
static void tarjan_leave(tarjan_t *t, uint32_t v)
{
    t->fp--;
    if (t->low[v] == t->index[v]) {
        uint32_t w;
        do {
            w = t->stack[--t->sp];
            t->comp[w] = t->nc;
        } while (w != v);
        t->nc++;
    }
    if (t->fp > 0 && t->low[v] < t->low[t->frame[t->fp - 1]])
        t->low[t->frame[t->fp - 1]] = t->low[v];
}

/* One step at the top frame: follow one edge, or leave the node. */
static void tarjan_step(tarjan_t *t)
{
    uint32_t v = t->frame[t->fp - 1], w;

    if (t->next[t->fp - 1] == t->succ->off[v + 1]) {
        tarjan_leave(t, v);
        return;
    }
    w = t->succ->col[t->next[t->fp - 1]++];
    if (t->index[w] == NONE)
        tarjan_enter(t, w);
    else if (t->comp[w] == NONE && t->index[w] < t->low[v]) /* w is on the stack */
        t->low[v] = t->index[w];
}

/* comp[v] gets a component number in Tarjan's (visit-order dependent)
 * numbering; *n_comps how many there are. */
static st_rc_t tarjan(const rows_t *succ, uint32_t n, uint32_t *comp, uint32_t *n_comps)
{
    tarjan_t t = {.succ = succ, .comp = comp};
    st_rc_t rc = ST_ENOMEM;

    if ((t.index = alloc_n(n, sizeof *t.index)) == NULL ||
        (t.low = alloc_n(n, sizeof *t.low)) == NULL ||
        (t.stack = alloc_n(n, sizeof *t.stack)) == NULL ||
        (t.frame = alloc_n(n, sizeof *t.frame)) == NULL ||
        (t.next = alloc_n(n, sizeof *t.next)) == NULL)
        goto done;
    for (uint32_t v = 0; v < n; v++)
        t.index[v] = comp[v] = NONE;
    for (uint32_t s = 0; s < n; s++) {
        if (t.index[s] != NONE)
            continue;
        tarjan_enter(&t, s);
        while (t.fp > 0)
            tarjan_step(&t);
    }
    *n_comps = t.nc;
    rc = ST_OK;
done:
    st_free(t.index);
    st_free(t.low);
    st_free(t.stack);
    st_free(t.frame);
    st_free(t.next);
    return rc;
}

/* A binary min-heap of uint32 items; before(a, b, ctx) says a comes first. */
typedef bool (*heap_before_t)(uint32_t a, uint32_t b, const void *ctx);

static void heap_push(uint32_t *h, uint32_t *len, uint32_t x, heap_before_t before, const void *ctx)
{
    uint32_t i = (*len)++;
    while (i > 0 && before(x, h[(i - 1) / 2], ctx)) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = x;
}

static uint32_t heap_pop(uint32_t *h, uint32_t *len, heap_before_t before, const void *ctx)
{
    uint32_t top = h[0], x = h[--*len], i = 0, n = *len;
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && before(h[c + 1], h[c], ctx))
            c++;
        if (!before(h[c], x, ctx))
            break;
        h[i] = h[c];
        i = c;
    }
    if (n > 0)
        h[i] = x;
    return top;
}

static bool by_min_node(uint32_t a, uint32_t b, const void *ctx)
{
    const uint32_t *min_node = ctx;
    return min_node[a] < min_node[b];
}

/* Renumbers Tarjan's components: final[t] is the position of component t
 * in Kahn's order over "dependencies first", smallest node first among the
 * ready ones. tusers: Tarjan component -> its users (distinct). */
static st_rc_t kahn_order(const rows_t *tusers, const uint32_t *tcomp, uint32_t n, uint32_t nc,
                          uint32_t *final)
{
    uint32_t *min_node = alloc_n(nc, sizeof *min_node), *ndeps = alloc_n(nc, sizeof *ndeps);
    uint32_t *heap = alloc_n(nc, sizeof *heap), len = 0, next_id = 0;
    st_rc_t rc = ST_ENOMEM;

    if (min_node == NULL || ndeps == NULL || heap == NULL)
        goto done;
    for (uint32_t t = 0; t < nc; t++)
        min_node[t] = NONE;
    for (uint32_t v = 0; v < n; v++)
        if (min_node[tcomp[v]] == NONE)
            min_node[tcomp[v]] = v;
    for (size_t i = 0; i < tusers->off[nc]; i++)
        ndeps[tusers->col[i]]++;
    for (uint32_t t = 0; t < nc; t++)
        if (ndeps[t] == 0)
            heap_push(heap, &len, t, by_min_node, min_node);
    while (len > 0) {
        uint32_t t = heap_pop(heap, &len, by_min_node, min_node);
        final[t] = next_id++;
        for (size_t i = tusers->off[t]; i < tusers->off[t + 1]; i++)
            if (--ndeps[tusers->col[i]] == 0)
                heap_push(heap, &len, tusers->col[i], by_min_node, min_node);
    }
    /* The condensation is acyclic, so every component gets a number. */
    rc = next_id == nc ? ST_OK : ST_EINTERNAL;
done:
    st_free(min_node);
    st_free(ndeps);
    st_free(heap);
    return rc;
}

/* Components, their nodes and the condensation's deps and users in rows. */
static st_rc_t build_comps(built_t *b, uint32_t n)
{
    uint32_t *tcomp = alloc_n(n, sizeof *tcomp), *final = NULL, *src = NULL, *dst = NULL;
    rows_t tusers = {NULL, NULL};
    size_t m = 0, n_succ = b->succ.off[n];
    uint32_t nc = 0;
    st_rc_t rc = ST_ENOMEM;

    if (tcomp == NULL || (src = alloc_n(n_succ, sizeof *src)) == NULL ||
        (dst = alloc_n(n_succ, sizeof *dst)) == NULL)
        goto done;
    if ((rc = tarjan(&b->succ, n, tcomp, &nc)) != ST_OK)
        goto done;
    for (uint32_t u = 0; u < n; u++)
        for (size_t i = b->succ.off[u]; i < b->succ.off[u + 1]; i++)
            if (tcomp[u] != tcomp[b->succ.col[i]]) {
                src[m] = tcomp[b->succ.col[i]];
                dst[m++] = tcomp[u];
            }
    rc = ST_ENOMEM;
    if (rows_build(&tusers, src, dst, m, nc, nc) != ST_OK ||
        (final = alloc_n(nc, sizeof *final)) == NULL)
        goto done;
    if ((rc = kahn_order(&tusers, tcomp, n, nc, final)) != ST_OK)
        goto done;
    m = 0;
    for (uint32_t t = 0; t < nc; t++)
        for (size_t i = tusers.off[t]; i < tusers.off[t + 1]; i++) {
            src[m] = final[tusers.col[i]];
            dst[m++] = final[t];
        }
    rc = ST_ENOMEM;
    if (rows_build(&b->deps, src, dst, m, nc, nc) != ST_OK ||
        rows_build(&b->users, dst, src, m, nc, nc) != ST_OK)
        goto done;
    for (uint32_t v = 0; v < n; v++)
        tcomp[v] = final[tcomp[v]];
    b->comp_of = tcomp;
    tcomp = NULL;
    b->n_comps = nc;
    rc = ST_OK;
done:
    rows_free(&tusers);
    st_free(tcomp);
    st_free(final);
    st_free(src);
    st_free(dst);
    return rc;
}

/* Component -> its nodes, ascending (a counting sort over the nodes). */
static st_rc_t build_nodes(built_t *b, uint32_t n)
{
    uint32_t nc = b->n_comps;

    if ((b->nodes.off = alloc_n((size_t)nc + 1, sizeof *b->nodes.off)) == NULL ||
        (b->nodes.col = alloc_n(n, sizeof *b->nodes.col)) == NULL)
        return ST_ENOMEM;
    for (uint32_t v = 0; v < n; v++)
        b->nodes.off[b->comp_of[v] + 1]++;
    for (uint32_t c = 0; c < nc; c++)
        b->nodes.off[c + 1] += b->nodes.off[c];
    for (uint32_t v = 0; v < n; v++) /* off[c] walks to where c+1 starts */
        b->nodes.col[b->nodes.off[b->comp_of[v]]++] = v;
    for (uint32_t c = nc; c > 0; c--)
        b->nodes.off[c] = b->nodes.off[c - 1];
    b->nodes.off[0] = 0;
    return ST_OK;
}

/* Costs, layers (ids ascending: deps come first), priorities (ids descending:
 * users come first) and the components of each layer. */
static st_rc_t build_layers(built_t *b, uint32_t n, const uint64_t *node_cost)
{
    uint32_t nc = b->n_comps, top = 0;

    if ((b->cost = alloc_n(nc, sizeof *b->cost)) == NULL ||
        (b->prio = alloc_n(nc, sizeof *b->prio)) == NULL ||
        (b->layer = alloc_n(nc, sizeof *b->layer)) == NULL)
        return ST_ENOMEM;
    for (uint32_t v = 0; v < n; v++)
        b->cost[b->comp_of[v]] = sat_add(b->cost[b->comp_of[v]], node_cost ? node_cost[v] : 1);
    for (uint32_t c = 0; c < nc; c++) {
        for (size_t i = b->deps.off[c]; i < b->deps.off[c + 1]; i++)
            if (b->layer[b->deps.col[i]] + 1 > b->layer[c])
                b->layer[c] = b->layer[b->deps.col[i]] + 1;
        if (b->layer[c] > top)
            top = b->layer[c];
    }
    for (uint32_t c = nc; c-- > 0;) {
        uint64_t best = 0;
        for (size_t i = b->users.off[c]; i < b->users.off[c + 1]; i++)
            if (b->prio[b->users.col[i]] > best)
                best = b->prio[b->users.col[i]];
        b->prio[c] = sat_add(b->cost[c], best);
    }
    b->n_layers = nc ? top + 1 : 0;
    if ((b->by_layer.off = alloc_n((size_t)b->n_layers + 1, sizeof *b->by_layer.off)) == NULL ||
        (b->by_layer.col = alloc_n(nc, sizeof *b->by_layer.col)) == NULL)
        return ST_ENOMEM;
    for (uint32_t c = 0; c < nc; c++)
        b->by_layer.off[b->layer[c] + 1]++;
    for (uint32_t k = 0; k < b->n_layers; k++)
        b->by_layer.off[k + 1] += b->by_layer.off[k];
    for (uint32_t c = 0; c < nc; c++)
        b->by_layer.col[b->by_layer.off[b->layer[c]]++] = c;
    for (uint32_t k = b->n_layers; k > 0; k--)
        b->by_layer.off[k] = b->by_layer.off[k - 1];
    b->by_layer.off[0] = 0;
    return ST_OK;
}

static st_rc_t alloc_scratch(built_t *b)
{
    size_t nc = b->n_comps;

    if ((b->missing = alloc_n(nc, sizeof *b->missing)) == NULL ||
        (b->heap = alloc_n(nc, sizeof *b->heap)) == NULL ||
        (b->sim_missing = alloc_n(nc, sizeof *b->sim_missing)) == NULL ||
        (b->sim_ready = alloc_n(nc, sizeof *b->sim_ready)) == NULL ||
        (b->sim_run = alloc_n(nc, sizeof *b->sim_run)) == NULL ||
        (b->sim_end = alloc_n(nc, sizeof *b->sim_end)) == NULL ||
        (b->state = alloc_n(nc, sizeof *b->state)) == NULL)
        return ST_ENOMEM;
    return ST_OK;
}

st_rc_t graph_finish(graph_t *self, const uint64_t *cost, st_err_t *err)
{
    built_t b;
    st_rc_t rc;

    if (self == NULL)
        return st_fail(err, ST_EINVAL, "graph_finish: no graph");
    if (self->finished)
        return st_fail(err, ST_EINVAL, "graph_finish: already finished");
    memset(&b, 0, sizeof b);
    if ((rc = rows_build(&b.succ, self->eu, self->ev, self->n_edges, self->n, self->n)) != ST_OK ||
        (rc = build_comps(&b, self->n)) != ST_OK || (rc = build_nodes(&b, self->n)) != ST_OK ||
        (rc = build_layers(&b, self->n, cost)) != ST_OK || (rc = alloc_scratch(&b)) != ST_OK) {
        built_free(&b);
        return st_fail(err, rc, "module graph of %u modules, %zu imports: %s", self->n,
                       self->n_edges, st_strerror(rc));
    }
    self->b = b;
    self->finished = true;
    st_free(self->eu);
    st_free(self->ev);
    self->eu = self->ev = NULL;
    self->n_edges = self->cap_edges = 0;
    return graph_ready_reset(self);
}

uint32_t graph_n_nodes(const graph_t *self)
{
    return self ? self->n : 0;
}

uint32_t graph_n_comps(const graph_t *self)
{
    return self && self->finished ? self->b.n_comps : 0;
}

uint32_t graph_comp_of(const graph_t *self, uint32_t node)
{
    return self && self->finished && node < self->n ? self->b.comp_of[node] : NONE;
}

/* Row r of rows (r < limit), or NULL and *n = 0 when out of range. */
static const uint32_t *row_get(const graph_t *self, const rows_t *rows, uint32_t r, uint32_t limit,
                               size_t *n)
{
    size_t dummy;

    if (n == NULL)
        n = &dummy;
    if (self == NULL || !self->finished || r >= limit) {
        *n = 0;
        return NULL;
    }
    *n = rows->off[r + 1] - rows->off[r];
    return rows->col + rows->off[r];
}

const uint32_t *graph_comp_nodes(const graph_t *self, uint32_t c, size_t *n)
{
    return row_get(self, self ? &self->b.nodes : NULL, c, graph_n_comps(self), n);
}

const uint32_t *graph_comp_deps(const graph_t *self, uint32_t c, size_t *n)
{
    return row_get(self, self ? &self->b.deps : NULL, c, graph_n_comps(self), n);
}

const uint32_t *graph_comp_users(const graph_t *self, uint32_t c, size_t *n)
{
    return row_get(self, self ? &self->b.users : NULL, c, graph_n_comps(self), n);
}

const uint32_t *graph_succ(const graph_t *self, uint32_t u, size_t *n)
{
    return row_get(self, self ? &self->b.succ : NULL, u, graph_n_nodes(self), n);
}

uint32_t graph_layer(const graph_t *self, uint32_t c)
{
    return c < graph_n_comps(self) ? self->b.layer[c] : 0;
}

uint32_t graph_n_layers(const graph_t *self)
{
    return self && self->finished ? self->b.n_layers : 0;
}

uint64_t graph_priority(const graph_t *self, uint32_t c)
{
    return c < graph_n_comps(self) ? self->b.prio[c] : 0;
}

/* Dispatch order: higher priority first, then lower id. */
static bool by_priority(uint32_t a, uint32_t b, const void *ctx)
{
    const uint64_t *prio = ((const built_t *)ctx)->prio;
    return prio[a] != prio[b] ? prio[a] > prio[b] : a < b;
}

st_rc_t graph_ready_reset(graph_t *self)
{
    built_t *b;

    if (self == NULL || !self->finished)
        return ST_EINVAL;
    b = &self->b;
    self->heap_len = 0;
    for (uint32_t c = 0; c < b->n_comps; c++) {
        b->missing[c] = (uint32_t)(b->deps.off[c + 1] - b->deps.off[c]);
        b->state[c] = b->missing[c] ? C_PENDING : C_READY;
        if (b->missing[c] == 0)
            heap_push(b->heap, &self->heap_len, c, by_priority, b);
    }
    self->left = b->n_comps;
    return ST_OK;
}

bool graph_ready_next(graph_t *self, uint32_t *c)
{
    uint32_t x;

    if (self == NULL || c == NULL || !self->finished || self->heap_len == 0)
        return false;
    x = heap_pop(self->b.heap, &self->heap_len, by_priority, &self->b);
    self->b.state[x] = C_RUNNING;
    *c = x;
    return true;
}

void graph_ready_done(graph_t *self, uint32_t c)
{
    built_t *b;

    if (c >= graph_n_comps(self) || self->b.state[c] != C_RUNNING)
        return; /* never handed out, or already done: nothing to release */
    b = &self->b;
    b->state[c] = C_DONE;
    self->left--;
    for (size_t i = b->users.off[c]; i < b->users.off[c + 1]; i++) {
        uint32_t u = b->users.col[i];
        if (--b->missing[u] == 0) {
            b->state[u] = C_READY;
            heap_push(b->heap, &self->heap_len, u, by_priority, b);
        }
    }
}

uint32_t graph_ready_left(const graph_t *self)
{
    return self && self->finished ? self->left : 0;
}

/* Running components, the one finishing first on top (ties: lower id). */
static bool by_end(uint32_t a, uint32_t b, const void *ctx)
{
    const uint64_t *end = ((const built_t *)ctx)->sim_end;
    return end[a] != end[b] ? end[a] < end[b] : a < b;
}

/* Runs the simulator's ready components on `workers` workers from time t
 * until nothing is left running; with release, a completion makes users
 * whose last dependency it was ready. Returns the time of the last end. */
static uint64_t sim_drain(built_t *b, uint32_t *ready_len, uint32_t workers, uint64_t t,
                          bool release)
{
    uint32_t run_len = 0;

    for (;;) {
        while (run_len<workers && * ready_len> 0) {
            uint32_t c = heap_pop(b->sim_ready, ready_len, by_priority, b);
            b->sim_end[c] = sat_add(t, b->cost[c]);
            heap_push(b->sim_run, &run_len, c, by_end, b);
        }
        if (run_len == 0)
            return t;
        t = b->sim_end[b->sim_run[0]];
        while (run_len > 0 && b->sim_end[b->sim_run[0]] == t) {
            uint32_t c = heap_pop(b->sim_run, &run_len, by_end, b);
            for (size_t i = b->users.off[c]; release && i < b->users.off[c + 1]; i++)
                if (--b->sim_missing[b->users.col[i]] == 0)
                    heap_push(b->sim_ready, ready_len, b->users.col[i], by_priority, b);
        }
    }
}

uint64_t graph_simulate(graph_t *self, unsigned workers, bool barrier)
{
    built_t *b;
    uint32_t nc = graph_n_comps(self), ready_len = 0, w;
    uint64_t t = 0;

    if (nc == 0)
        return 0;
    b = &self->b;
    w = workers == 0 ? 1 : workers > nc ? nc : (uint32_t)workers;
    if (barrier) {
        for (uint32_t k = 0; k < b->n_layers; k++) {
            for (size_t i = b->by_layer.off[k]; i < b->by_layer.off[k + 1]; i++)
                heap_push(b->sim_ready, &ready_len, b->by_layer.col[i], by_priority, b);
            t = sim_drain(b, &ready_len, w, t, false);
        }
        return t;
    }
    for (uint32_t c = 0; c < nc; c++) {
        b->sim_missing[c] = (uint32_t)(b->deps.off[c + 1] - b->deps.off[c]);
        if (b->sim_missing[c] == 0)
            heap_push(b->sim_ready, &ready_len, c, by_priority, b);
    }
    return sim_drain(b, &ready_len, w, t, true);
}
