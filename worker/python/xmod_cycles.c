/* xmod_cycles.c - R0401 cyclic-import over the modules of one component.
 *
 * Edges are module-level imports outside try/if blocks (an import under
 * `if TYPE_CHECKING:` does not run), from the .py when a stub sits beside
 * it; the search starts at the smallest module name and takes successors in
 * name order; every back edge u -> v reports "Cyclic import (v -> ... ->
 * u)" (the DFS path from v to u) on the first import in u's file that
 * imports v, once per (file, line). */
#include "worker/python/xmod_int.h"

#include <stdlib.h>
#include <string.h>

#define MAX_CYCLE_TEXT 400 /* R0401 messages are cut (with "...") beyond this */

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
    return xmod__nm_cmp(&((const ranked_t *)pa)->name, &((const ranked_t *)pb)->name);
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
        t = xmod__mod_get(c, xmod__join_id(c, m->abs, m->name, false));
    if (t == NULL || t->file == NULL)
        t = xmod__mod_get(c, m->abs);
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
    uint32_t *n_files = xmod__alloc_n(c, c->n_comp, sizeof *n_files);

    if (n_files == NULL)
        return ST_ENOMEM;
    memset(n_files, 0, (size_t)c->n_comp * sizeof *n_files);
    for (uint32_t i = 0; i < c->n_files; i++) {
        mod_t *m = xmod__mod_get(c, c->files[i].name.id);
        if (m != NULL && m->file != NULL)
            n_files[m - c->mods]++;
    }
    for (uint32_t i = 0; i < c->n_files; i++) {
        file_t *f = &c->files[i];
        mod_t *from = xmod__mod_get(c, f->name.id);
        if (from == NULL || from->file == NULL || (n_files[from - c->mods] > 1 && from->file == f))
            continue;
        for (uint32_t k = 0; k < f->n_imps; k++) {
            uint32_t to = edge_target(c, &f->imps[k]);
            if (to == NONE || &c->mods[to] == from)
                continue;
            edge_t x = {to, rank[to], f, f->imps[k].line, f->imps[k].col};
            ST_TRY(edge_push(c, &adj[from - c->mods], x));
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
        nm_t n = xmod__nm_of(c, c->mods[stack[i]].name);
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
    xmod__report(c, e->file, e->line, xmod__col1(e->col), "R0401", "Cyclic import (%.*s)", (int)len,
                 msg);
}

/* A depth-first search from each module in name order, successors in name
 * order, with an explicit stack; every back edge closes one cycle. */
st_rc_t xmod__check_cycles(ctx_t *c)
{
    uint32_t n = c->n_comp, sp = 0;
    ranked_t *order;
    uint32_t *rank, *stack, *next, *pos;
    uint8_t *color;
    edges_t *adj;

    if (n < 2)
        return ST_OK;
    order = xmod__alloc_n(c, n, sizeof *order);
    rank = xmod__alloc_n(c, n, sizeof *rank);
    stack = xmod__alloc_n(c, n, sizeof *stack);
    next = xmod__alloc_n(c, n, sizeof *next);
    pos = xmod__alloc_n(c, n, sizeof *pos);
    color = xmod__alloc_n(c, n, sizeof *color);
    adj = xmod__alloc_n(c, n, sizeof *adj);
    if (c->oom)
        return ST_ENOMEM;
    for (uint32_t i = 0; i < n; i++)
        order[i] = (ranked_t){xmod__nm_of(c, c->mods[i].name), i};
    qsort(order, n, sizeof *order, ranked_qcmp);
    for (uint32_t i = 0; i < n; i++)
        rank[order[i].mod] = i;
    memset(color, 0, n);
    memset(adj, 0, (size_t)n * sizeof *adj);
    ST_TRY(build_edges(c, rank, adj));
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
