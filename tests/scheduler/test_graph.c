/* test_graph.c - the module graph against hand-worked graphs and against
 * slow reference computations (reachability, repeated relaxation), its
 * numbering under edge reordering, dispatch order and misuse, 200,000-node
 * chains and cycles, the simulator, errors and out-of-memory. */
#include "test.h"

#include "common/alloc.h"
#include "scheduler/graph.h"

#include <stdint.h>
#include <stdlib.h>

#define NONE UINT32_MAX

typedef struct {
    uint32_t u, v;
} edge_t;

static uint64_t rng_state;

static uint32_t rnd(uint32_t bound)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % bound);
}

/* A finished graph of n nodes with the m edges e, or NULL (a failed check). */
static graph_t *make(uint32_t n, const edge_t *e, size_t m, const uint64_t *cost)
{
    graph_t *g = graph_new(n);
    st_err_t err = {0};

    if (g == NULL)
        return NULL;
    for (size_t i = 0; i < m; i++)
        if (graph_add_edge(g, e[i].u, e[i].v) != ST_OK)
            goto fail;
    if (graph_finish(g, cost, &err) != ST_OK)
        goto fail;
    return g;
fail:
    graph_destroy(&g);
    return NULL;
}

static bool row_is(const uint32_t *row, size_t n, const uint32_t *want, size_t n_want)
{
    if (n != n_want)
        return false;
    for (size_t i = 0; i < n; i++)
        if (row[i] != want[i])
            return false;
    return true;
}

/* ---- hand-worked graphs ---- */

/* Cycle {0,1,2} importing cycle {3,4}; 5 alone with a self-loop. */
TEST(graph_cycles_and_self_loop)
{
    static const edge_t e[] = {{0, 1}, {1, 2}, {2, 0}, {2, 3}, {3, 4}, {4, 3}, {5, 5}, {2, 3}};
    static const uint32_t want_comp[] = {1, 1, 1, 0, 0, 2};
    graph_t *g = make(6, e, sizeof e / sizeof e[0], NULL);
    const uint32_t *row;
    size_t n;

    REQUIRE(g != NULL);
    CHECK_EQ_INT(graph_n_nodes(g), 6);
    CHECK_EQ_INT(graph_n_comps(g), 3);
    for (uint32_t v = 0; v < 6; v++)
        CHECK_EQ_INT(graph_comp_of(g, v), want_comp[v]);
    row = graph_comp_nodes(g, 1, &n);
    CHECK(row_is(row, n, (const uint32_t[]){0, 1, 2}, 3));
    row = graph_comp_nodes(g, 0, &n);
    CHECK(row_is(row, n, (const uint32_t[]){3, 4}, 2));
    row = graph_comp_deps(g, 1, &n);
    CHECK(row_is(row, n, (const uint32_t[]){0}, 1));
    row = graph_comp_users(g, 0, &n);
    CHECK(row_is(row, n, (const uint32_t[]){1}, 1));
    graph_comp_deps(g, 2, &n); /* the self-loop is no dependency */
    CHECK_EQ_INT(n, 0);
    graph_comp_users(g, 2, &n);
    CHECK_EQ_INT(n, 0);
    row = graph_succ(g, 2, &n); /* 2 -> 3 twice: once */
    CHECK(row_is(row, n, (const uint32_t[]){0, 3}, 2));
    row = graph_succ(g, 5, &n); /* the self-loop is still an import */
    CHECK(row_is(row, n, (const uint32_t[]){5}, 1));
    CHECK_EQ_INT(graph_layer(g, 0), 0);
    CHECK_EQ_INT(graph_layer(g, 1), 1);
    CHECK_EQ_INT(graph_layer(g, 2), 0);
    CHECK_EQ_INT(graph_n_layers(g), 2);
    CHECK(graph_priority(g, 1) == 3);
    CHECK(graph_priority(g, 0) == 5);
    CHECK(graph_priority(g, 2) == 1);
    graph_destroy(&g);
    CHECK(g == NULL);
    graph_destroy(&g);
    graph_destroy(NULL);
}

/* Cycles sharing nodes (0-1-2, 1-3, 3-4) make one component. */
TEST(graph_nested_cycles)
{
    static const edge_t e[] = {{0, 1}, {1, 2}, {2, 0}, {1, 3}, {3, 1}, {3, 4}, {4, 3}, {4, 5}};
    graph_t *g = make(6, e, sizeof e / sizeof e[0], NULL);
    const uint32_t *row;
    size_t n;

    REQUIRE(g != NULL);
    CHECK_EQ_INT(graph_n_comps(g), 2);
    CHECK_EQ_INT(graph_comp_of(g, 5), 0);
    for (uint32_t v = 0; v < 5; v++)
        CHECK_EQ_INT(graph_comp_of(g, v), 1);
    row = graph_comp_nodes(g, 1, &n);
    CHECK(row_is(row, n, (const uint32_t[]){0, 1, 2, 3, 4}, 5));
    CHECK(graph_priority(g, 0) == 6);
    CHECK(graph_priority(g, 1) == 5);
    graph_destroy(&g);
}

/* Ties between ready components go to the smallest node: with 0 -> 1 and
 * 2 -> 3, 1 comes first, then 0 (now the smallest ready), 3, 2, then 4. */
TEST(graph_disconnected_numbering)
{
    static const edge_t e[] = {{0, 1}, {2, 3}};
    static const edge_t f[] = {{1, 0}, {3, 2}};
    static const uint32_t want_e[] = {1, 0, 3, 2, 4}, want_f[] = {0, 1, 2, 3, 4};
    graph_t *g = make(5, e, 2, NULL), *h = make(5, f, 2, NULL);

    REQUIRE(g != NULL && h != NULL);
    for (uint32_t v = 0; v < 5; v++) {
        CHECK_EQ_INT(graph_comp_of(g, v), want_e[v]);
        CHECK_EQ_INT(graph_comp_of(h, v), want_f[v]);
    }
    CHECK_EQ_INT(graph_n_layers(g), 2);
    CHECK_EQ_INT(graph_layer(g, 4), 0);
    graph_destroy(&g);
    graph_destroy(&h);
}

/* ---- against references on random graphs ---- */

#define RMAX 40

typedef struct {
    uint32_t n, nc;
    uint32_t comp[RMAX];
    bool adj[RMAX][RMAX];   /* node -> node it imports */
    bool reach[RMAX][RMAX]; /* node -> node, reflexive */
    bool cdep[RMAX][RMAX];  /* component -> component it depends on */
    uint32_t layer[RMAX];
    uint64_t cost[RMAX], prio[RMAX];
} ref_t;

/* Components by mutual reachability, numbered by the header's rule taken
 * literally: next is the unnumbered component, all of whose dependencies
 * are numbered, with the smallest node. Layers and priorities by repeated
 * relaxation until nothing changes. */
static void reference(ref_t *r, uint32_t n, const edge_t *e, size_t m, const uint64_t *cost)
{
    uint32_t group[RMAX], ng = 0, num[RMAX];
    bool gdep[RMAX][RMAX] = {{false}}, changed = true;

    memset(r, 0, sizeof *r);
    r->n = n;
    for (uint32_t v = 0; v < n; v++)
        r->reach[v][v] = true;
    for (size_t i = 0; i < m; i++)
        r->adj[e[i].u][e[i].v] = r->reach[e[i].u][e[i].v] = true;
    for (uint32_t k = 0; k < n; k++)
        for (uint32_t i = 0; i < n; i++)
            for (uint32_t j = 0; j < n; j++)
                r->reach[i][j] = r->reach[i][j] || (r->reach[i][k] && r->reach[k][j]);
    for (uint32_t v = 0; v < n; v++) { /* group: by smallest mutually reachable node */
        group[v] = NONE;
        for (uint32_t w = 0; w < v && group[v] == NONE; w++)
            if (r->reach[v][w] && r->reach[w][v])
                group[v] = group[w];
        if (group[v] == NONE)
            group[v] = ng++;
    }
    for (size_t i = 0; i < m; i++)
        if (group[e[i].u] != group[e[i].v])
            gdep[group[e[i].u]][group[e[i].v]] = true;
    for (uint32_t g = 0; g < ng; g++)
        num[g] = NONE;
    for (uint32_t id = 0; id < ng; id++) {
        uint32_t pick = NONE; /* groups are ordered by their smallest node already */
        for (uint32_t g = 0; g < ng && pick == NONE; g++) {
            bool ok = num[g] == NONE;
            for (uint32_t d = 0; d < ng && ok; d++)
                ok = !gdep[g][d] || num[d] != NONE;
            if (ok)
                pick = g;
        }
        num[pick] = id;
    }
    r->nc = ng;
    for (uint32_t v = 0; v < n; v++) {
        r->comp[v] = num[group[v]];
        r->cost[r->comp[v]] += cost ? cost[v] : 1;
    }
    for (uint32_t a = 0; a < ng; a++)
        for (uint32_t b = 0; b < ng; b++)
            r->cdep[num[a]][num[b]] = gdep[a][b];
    for (uint32_t c = 0; c < ng; c++)
        r->prio[c] = r->cost[c];
    while (changed) {
        changed = false;
        for (uint32_t a = 0; a < ng; a++)
            for (uint32_t b = 0; b < ng; b++) {
                if (!r->cdep[a][b])
                    continue;
                if (r->layer[a] < r->layer[b] + 1)
                    r->layer[a] = r->layer[b] + 1, changed = true;
                if (r->prio[b] < r->cost[b] + r->prio[a])
                    r->prio[b] = r->cost[b] + r->prio[a], changed = true;
            }
    }
}

static void check_against(const graph_t *g, const ref_t *r)
{
    uint32_t top = 0;

    REQUIRE(graph_n_comps(g) == r->nc);
    for (uint32_t v = 0; v < r->n; v++) {
        size_t n, k = 0;
        const uint32_t *succ = graph_succ(g, v, &n);
        CHECK_EQ_INT(graph_comp_of(g, v), r->comp[v]);
        for (uint32_t w = 0; w < r->n; w++) /* succ: the edges, sorted, distinct */
            if (r->adj[v][w])
                CHECK(k < n && succ[k++] == w);
        CHECK_EQ_INT(k, n);
    }
    for (uint32_t c = 0; c < r->nc; c++) {
        size_t nd, nu, nn, kd = 0, ku = 0, kn = 0;
        const uint32_t *deps = graph_comp_deps(g, c, &nd), *users = graph_comp_users(g, c, &nu);
        const uint32_t *nodes = graph_comp_nodes(g, c, &nn);
        for (uint32_t d = 0; d < r->nc; d++) {
            if (r->cdep[c][d])
                CHECK(kd < nd && deps[kd++] == d && d < c); /* deps have lower ids */
            if (r->cdep[d][c])
                CHECK(ku < nu && users[ku++] == d);
        }
        for (uint32_t v = 0; v < r->n; v++)
            if (r->comp[v] == c)
                CHECK(kn < nn && nodes[kn++] == v);
        CHECK(kd == nd && ku == nu && kn == nn);
        CHECK_EQ_INT(graph_layer(g, c), r->layer[c]);
        CHECK(graph_priority(g, c) == r->prio[c]);
        top = r->layer[c] > top ? r->layer[c] : top;
    }
    CHECK_EQ_INT(graph_n_layers(g), r->nc ? top + 1 : 0);
}

static size_t random_edges(edge_t *e, uint32_t n, size_t max)
{
    size_t m = rnd((uint32_t)max + 1);
    uint32_t span = 1 + rnd(n); /* short spans: more cycles */
    for (size_t i = 0; i < m; i++) {
        e[i].u = rnd(n);
        e[i].v = rnd(4) == 0 ? rnd(n) : (e[i].u + rnd(span)) % n;
    }
    return m;
}

TEST(graph_random_against_reference)
{
    static edge_t e[4 * RMAX];
    static ref_t r;
    uint64_t cost[RMAX];

    rng_state = 0x9e3779b97f4a7c15u;
    for (int round = 0; round < 400; round++) {
        uint32_t n = 1 + rnd(RMAX);
        size_t m = random_edges(e, n, 4 * RMAX);
        graph_t *g;
        for (uint32_t v = 0; v < n; v++)
            cost[v] = rnd(10);
        g = make(n, e, m, round % 2 ? cost : NULL);
        REQUIRE(g != NULL);
        reference(&r, n, e, m, round % 2 ? cost : NULL);
        check_against(g, &r);
        graph_destroy(&g);
    }
}

/* The same edges in other orders, with repeats, give the same graph. */
TEST(graph_numbering_ignores_edge_order)
{
    static edge_t e[3 * RMAX], f[6 * RMAX];

    rng_state = 12345;
    for (int round = 0; round < 100; round++) {
        uint32_t n = 1 + rnd(RMAX);
        size_t m = random_edges(e, n, 3 * RMAX), mf = 0;
        graph_t *g = make(n, e, m, NULL), *h;
        REQUIRE(g != NULL);
        for (size_t i = 0; i < m; i++) {
            f[mf++] = e[i];
            if (rnd(3) == 0)
                f[mf++] = e[rnd((uint32_t)m)];
        }
        for (size_t i = mf; i > 1; i--) { /* shuffle */
            size_t j = rnd((uint32_t)i);
            edge_t t = f[i - 1];
            f[i - 1] = f[j];
            f[j] = t;
        }
        h = make(n, f, mf, NULL);
        REQUIRE(h != NULL);
        CHECK_EQ_INT(graph_n_comps(g), graph_n_comps(h));
        for (uint32_t v = 0; v < n; v++) {
            size_t a, b;
            const uint32_t *sa = graph_succ(g, v, &a), *sb = graph_succ(h, v, &b);
            CHECK_EQ_INT(graph_comp_of(g, v), graph_comp_of(h, v));
            CHECK(row_is(sa, a, sb, b));
        }
        for (uint32_t c = 0; c < graph_n_comps(g) && c < graph_n_comps(h); c++) {
            size_t a, b;
            const uint32_t *da = graph_comp_deps(g, c, &a), *db = graph_comp_deps(h, c, &b);
            CHECK(row_is(da, a, db, b));
            CHECK(graph_priority(g, c) == graph_priority(h, c));
        }
        graph_destroy(&g);
        graph_destroy(&h);
    }
}

/* ---- readiness dispatch ---- */

/* Hands out everything, finishing each component at once; order[] gets the
 * order; returns how many were handed out. */
static uint32_t drain(graph_t *g, uint32_t *order)
{
    uint32_t c, k = 0;
    while (graph_ready_next(g, &c)) {
        order[k++] = c;
        graph_ready_done(g, c);
    }
    return k;
}

TEST(graph_ready_chain)
{
    static const edge_t e[] = {{0, 1}, {1, 2}, {2, 3}};
    graph_t *g = make(4, e, 3, NULL);
    uint32_t c, order[4];

    REQUIRE(g != NULL);
    CHECK_EQ_INT(graph_comp_of(g, 3), 0);
    CHECK_EQ_INT(graph_comp_of(g, 0), 3);
    CHECK_EQ_INT(graph_n_layers(g), 4);
    CHECK(graph_priority(g, 0) == 4);
    CHECK_EQ_INT(graph_ready_left(g), 4);
    for (uint32_t i = 0; i < 4; i++) {
        REQUIRE(graph_ready_next(g, &c));
        CHECK_EQ_INT(c, i);
        CHECK(!graph_ready_next(g, &c)); /* the next one waits for this one */
        graph_ready_done(g, c);
        CHECK_EQ_INT(graph_ready_left(g), 3 - i);
    }
    CHECK(!graph_ready_next(g, &c));
    REQUIRE(graph_ready_reset(g) == ST_OK); /* a second run */
    CHECK_EQ_INT(graph_ready_left(g), 4);
    CHECK_EQ_INT(drain(g, order), 4);
    CHECK(order[0] == 0 && order[3] == 3);
    graph_destroy(&g);
}

/* 0 imports 1 and 2, both import 3: comps 3 -> 0, 1 -> 1, 2 -> 2, 0 -> 3. */
TEST(graph_ready_diamond)
{
    static const edge_t e[] = {{0, 1}, {0, 2}, {1, 3}, {2, 3}};
    graph_t *g = make(4, e, 4, NULL);
    uint32_t a, b, c;

    REQUIRE(g != NULL);
    CHECK(graph_comp_of(g, 3) == 0 && graph_comp_of(g, 1) == 1);
    CHECK(graph_comp_of(g, 2) == 2 && graph_comp_of(g, 0) == 3);
    CHECK(graph_layer(g, 1) == 1 && graph_layer(g, 2) == 1 && graph_layer(g, 3) == 2);
    REQUIRE(graph_ready_next(g, &a));
    CHECK_EQ_INT(a, 0);
    graph_ready_done(g, a);
    REQUIRE(graph_ready_next(g, &a) && graph_ready_next(g, &b));
    CHECK(a == 1 && b == 2); /* equal priorities: lower id first */
    CHECK(!graph_ready_next(g, &c));
    graph_ready_done(g, b);
    CHECK(!graph_ready_next(g, &c)); /* 3 still waits for 1 */
    graph_ready_done(g, a);
    REQUIRE(graph_ready_next(g, &c));
    CHECK_EQ_INT(c, 3);
    graph_ready_done(g, c);
    CHECK_EQ_INT(graph_ready_left(g), 0);
    graph_destroy(&g);
}

/* Node 0 stands alone (cost 2); node 1 heads a chain 2 -> 1, 3 -> 2, 4 -> 3
 * (cost 1 each), so comp 1 (node 1, priority 4) goes before comp 0
 * (node 0, priority 2) although its id is higher. */
TEST(graph_ready_critical_path_first)
{
    static const edge_t e[] = {{2, 1}, {3, 2}, {4, 3}};
    static const uint64_t cost[] = {2, 1, 1, 1, 1};
    graph_t *g = make(5, e, 3, cost);
    uint32_t order[5];

    REQUIRE(g != NULL);
    CHECK(graph_comp_of(g, 0) == 0 && graph_comp_of(g, 1) == 1);
    CHECK(graph_priority(g, 0) == 2 && graph_priority(g, 1) == 4);
    REQUIRE(drain(g, order) == 5);
    CHECK(order[0] == 1 && order[1] == 2 && order[2] == 0);
    graph_destroy(&g);
}

/* done() on what was not handed out, twice, or out of range changes nothing. */
TEST(graph_ready_misuse)
{
    static const edge_t e[] = {{0, 1}, {0, 2}, {1, 3}, {2, 3}};
    graph_t *g = make(4, e, 4, NULL);
    uint32_t a, b, c;

    REQUIRE(g != NULL);
    graph_ready_done(g, 3); /* pending */
    graph_ready_done(g, 0); /* ready, not handed out */
    graph_ready_done(g, 4);
    graph_ready_done(g, UINT32_MAX);
    CHECK_EQ_INT(graph_ready_left(g), 4);
    REQUIRE(graph_ready_next(g, &a));
    CHECK_EQ_INT(a, 0);
    graph_ready_done(g, a);
    graph_ready_done(g, a);
    CHECK_EQ_INT(graph_ready_left(g), 3);
    REQUIRE(graph_ready_next(g, &a) && graph_ready_next(g, &b));
    graph_ready_done(g, a);
    graph_ready_done(g, a); /* must not count as b's completion */
    CHECK_EQ_INT(graph_ready_left(g), 2);
    CHECK(!graph_ready_next(g, &c));
    CHECK(!graph_ready_next(g, NULL));
    graph_ready_done(g, b);
    REQUIRE(graph_ready_next(g, &c));
    CHECK_EQ_INT(c, 3);
    graph_ready_done(g, c);
    CHECK_EQ_INT(graph_ready_left(g), 0);
    graph_destroy(&g);
}

/* ---- size: no recursion ---- */

#define BIG 200000

TEST(graph_big_chain)
{
    edge_t *e = malloc(BIG * sizeof *e);
    graph_t *g, *h;
    uint32_t c, k = 0;
    bool ok = true;

    REQUIRE(e != NULL);
    for (uint32_t i = 0; i + 1 < BIG; i++) /* i imports i + 1, added last first */
        e[BIG - 2 - i] = (edge_t){i, i + 1};
    g = make(BIG, e, BIG - 1, NULL);
    for (uint32_t i = 0; i + 1 < BIG; i++)
        e[i] = (edge_t){i + 1, i}; /* the reverse chain, in order */
    h = make(BIG, e, BIG - 1, NULL);
    free(e);
    REQUIRE(g != NULL && h != NULL);
    REQUIRE(graph_n_comps(g) == BIG && graph_n_comps(h) == BIG);
    CHECK_EQ_INT(graph_n_layers(g), BIG);
    for (uint32_t i = 0; i < BIG && ok; i++)
        ok = graph_comp_of(g, i) == BIG - 1 - i && graph_layer(g, i) == i &&
             graph_priority(g, i) == BIG - i && graph_comp_of(h, i) == i;
    CHECK(ok);
    while (graph_ready_next(g, &c) && c == k++)
        graph_ready_done(g, c);
    CHECK_EQ_INT(k, BIG);
    CHECK_EQ_INT(graph_ready_left(g), 0);
    CHECK(graph_simulate(g, 8, false) == BIG && graph_simulate(g, 8, true) == BIG);
    graph_destroy(&g);
    graph_destroy(&h);
}

TEST(graph_big_cycle)
{
    graph_t *g = graph_new(BIG);
    const uint32_t *nodes;
    size_t n;
    bool ok = true;

    REQUIRE(g != NULL);
    for (uint32_t i = 0; i < BIG; i++)
        REQUIRE(graph_add_edge(g, i, (i + 1) % BIG) == ST_OK);
    REQUIRE(graph_finish(g, NULL, NULL) == ST_OK);
    CHECK_EQ_INT(graph_n_comps(g), 1);
    CHECK_EQ_INT(graph_n_layers(g), 1);
    CHECK(graph_priority(g, 0) == BIG);
    nodes = graph_comp_nodes(g, 0, &n);
    REQUIRE(n == BIG);
    for (uint32_t i = 0; i < BIG && ok; i++)
        ok = nodes[i] == i && graph_comp_of(g, i) == 0;
    CHECK(ok);
    CHECK(graph_simulate(g, 4, false) == BIG);
    graph_destroy(&g);
}

/* ---- simulation ---- */

/* Diamond 0 -> {1, 2} -> 3 with costs 1, 2, 5, 1: 3 runs [0, 1), 1 and 2
 * from 1 to 3 and 6, 0 from 6 to 7; on one worker, the sum 9. */
TEST(graph_simulate_diamond)
{
    static const edge_t e[] = {{0, 1}, {0, 2}, {1, 3}, {2, 3}};
    static const uint64_t cost[] = {1, 2, 5, 1};
    graph_t *g = make(4, e, 4, cost);

    REQUIRE(g != NULL);
    for (int barrier = 0; barrier < 2; barrier++) {
        CHECK(graph_simulate(g, 2, barrier) == 7);
        CHECK(graph_simulate(g, 100, barrier) == 7);
        CHECK(graph_simulate(g, 1, barrier) == 9);
        CHECK(graph_simulate(g, 0, barrier) == 9); /* no workers counts as one */
    }
    graph_destroy(&g);
}

/* 0 (cost 1) and 1 (cost 4) are layer 0; 2 (cost 4) imports 0. Readiness
 * starts 2 at 1 and ends at 5; the barrier holds it until 4: 8. With one
 * worker, priorities order 0 (5), 2 (4), 1 (4): 9 either way. */
TEST(graph_simulate_barrier_waits)
{
    static const edge_t e[] = {{2, 0}};
    static const uint64_t cost[] = {1, 4, 4};
    graph_t *g = make(3, e, 1, cost);

    REQUIRE(g != NULL);
    CHECK(graph_simulate(g, 2, false) == 5);
    CHECK(graph_simulate(g, 2, true) == 8);
    CHECK(graph_simulate(g, 1, false) == 9);
    CHECK(graph_simulate(g, 1, true) == 9);
    graph_destroy(&g);
}

/* Three workers, greedy by priority: 0..2 are roots of costs 3, 3, 2;
 * 3 (cost 3) imports 0, 4 (cost 1) imports 2. At 0: 0, 1, 2 start; at 2, 2
 * ends and 4 runs to 3; at 3, 0 and 1 end, 3 runs to 6. The barrier: layer
 * 0 ends at 3, layer 1 (3 and 4 together) at 6 too. Two workers: 0 and 1
 * to 3; 2 to 5 while 3 runs 3..6; 4 from 5 to 6: 6. Barrier: 0, 1 to 3, 2 to
 * 5; then 3 and 4 from 5: 8. */
TEST(graph_simulate_exact)
{
    static const edge_t e[] = {{3, 0}, {4, 2}};
    static const uint64_t cost[] = {3, 3, 2, 3, 1};
    graph_t *g = make(5, e, 2, cost);

    REQUIRE(g != NULL);
    CHECK(graph_simulate(g, 3, false) == 6);
    CHECK(graph_simulate(g, 3, true) == 6);
    CHECK(graph_simulate(g, 2, false) == 6);
    CHECK(graph_simulate(g, 2, true) == 8);
    CHECK(graph_simulate(g, 1, false) == 12);
    graph_destroy(&g);
}

/* Completions at the same time are all in before anything starts. Roots
 * 0, 1, 5 (costs 3, 3, 2); 2 and 3 (3, 2) import 1; 4 (1) imports 3.
 * Priorities: 1: 6, 0, 2, 3: 3, 5: 2, 4: 1. At 0, 1 and 0 start; at 3 both
 * end, then 2 and 3 start (not 5, as it would if 0's end were taken alone);
 * 3 ends at 5, 5 runs to 7, 4 from 6 to 7. Barrier: layer 0 to 5, layer 1
 * to 8, 4 to 9. */
TEST(graph_simulate_simultaneous_ends)
{
    static const edge_t e[] = {{2, 1}, {3, 1}, {4, 3}};
    static const uint64_t cost[] = {3, 3, 3, 2, 1, 2};
    graph_t *g = make(6, e, 3, cost);

    REQUIRE(g != NULL);
    CHECK(graph_priority(g, 1) == 6 && graph_priority(g, 5) == 2);
    CHECK(graph_simulate(g, 2, false) == 7);
    CHECK(graph_simulate(g, 2, true) == 9);
    graph_destroy(&g);
}

/* On random graphs: one worker takes the total cost; enough workers, the
 * critical path (readiness) or the sum of each layer's longest (barrier);
 * in between, the bounds of list scheduling. The same call twice agrees.
 * (Barrier <= readiness is not checked here: greedy list scheduling has
 * anomalies, see graph_simulate_anomaly.) */
TEST(graph_simulate_bounds)
{
    static edge_t e[4 * RMAX];
    uint64_t cost[RMAX];

    rng_state = 777;
    for (int round = 0; round < 200; round++) {
        uint32_t n = 1 + rnd(RMAX);
        size_t m = random_edges(e, n, 4 * RMAX);
        uint64_t total = 0, crit = 0, layered = 0, layer_max[RMAX] = {0};
        graph_t *g;
        for (uint32_t v = 0; v < n; v++)
            total += cost[v] = 1 + rnd(20);
        g = make(n, e, m, cost);
        REQUIRE(g != NULL);
        for (uint32_t c = 0; c < graph_n_comps(g); c++) {
            size_t nn;
            const uint32_t *nodes = graph_comp_nodes(g, c, &nn);
            uint64_t cc = 0;
            for (size_t i = 0; i < nn; i++)
                cc += cost[nodes[i]];
            crit = graph_priority(g, c) > crit ? graph_priority(g, c) : crit;
            if (cc > layer_max[graph_layer(g, c)])
                layer_max[graph_layer(g, c)] = cc;
        }
        for (uint32_t k = 0; k < graph_n_layers(g); k++)
            layered += layer_max[k];
        CHECK(graph_simulate(g, 1, false) == total);
        CHECK(graph_simulate(g, 1, true) == total);
        CHECK(graph_simulate(g, n, false) == crit);
        CHECK(graph_simulate(g, n, true) == layered);
        CHECK(layered >= crit);
        for (unsigned w = 2; w <= 3; w++) {
            /* Never idle while something is ready: Graham's bound. */
            uint64_t rdy = graph_simulate(g, w, false), bar = graph_simulate(g, w, true);
            CHECK(rdy >= crit && rdy * w >= total && rdy * w <= total + (w - 1) * crit);
            CHECK(bar >= layered && bar * w >= total && bar * w <= total + (w - 1) * layered);
        }
        CHECK(graph_simulate(g, 3, false) == graph_simulate(g, 3, false));
        graph_destroy(&g);
    }
}

/* Greedy by priority is not optimal, and the barrier can happen to beat it:
 * chains 13->14->0 (18, 8, 17), 1->11->12 (18, 15, 8), three of two
 * (15+7, 8+14, 15+7), three alone (18, 14, 6); total 188 on 2 workers.
 * Readiness 97, barrier 95, as an independent model of both rules gives. */
TEST(graph_simulate_anomaly)
{
    static const edge_t e[] = {{2, 3}, {13, 14}, {14, 0}, {11, 12}, {1, 11}, {8, 9}, {4, 5}};
    static const uint64_t cost[] = {17, 18, 15, 7, 15, 7, 18, 14, 8, 14, 6, 15, 8, 18, 8};
    graph_t *g = make(15, e, 7, cost);

    REQUIRE(g != NULL);
    CHECK(graph_simulate(g, 2, false) == 97);
    CHECK(graph_simulate(g, 2, true) == 95);
    CHECK(graph_simulate(g, 1, false) == 188);
    graph_destroy(&g);
}

/* Costs near UINT64_MAX saturate instead of wrapping. */
TEST(graph_cost_saturates)
{
    static const edge_t e[] = {{0, 1}, {2, 3}, {3, 2}};
    const uint64_t big = UINT64_MAX - 5, half = UINT64_MAX / 2 + 1;
    const uint64_t cost[] = {big, big, half, half};
    graph_t *g = make(4, e, 3, cost);

    REQUIRE(g != NULL);
    REQUIRE(graph_n_comps(g) == 3);
    CHECK(graph_priority(g, graph_comp_of(g, 0)) == big);
    CHECK(graph_priority(g, graph_comp_of(g, 1)) == UINT64_MAX);
    CHECK(graph_priority(g, graph_comp_of(g, 2)) == UINT64_MAX); /* half + half */
    CHECK(graph_simulate(g, 1, false) == UINT64_MAX);
    CHECK(graph_simulate(g, 4, true) == UINT64_MAX);
    graph_destroy(&g);
}

/* ---- errors and edge cases ---- */

TEST(graph_empty)
{
    graph_t *g = graph_new(0);
    uint32_t c;
    size_t n = 7;

    REQUIRE(g != NULL);
    CHECK(graph_add_edge(g, 0, 0) == ST_EINVAL);
    REQUIRE(graph_finish(g, NULL, NULL) == ST_OK);
    CHECK_EQ_INT(graph_n_nodes(g), 0);
    CHECK_EQ_INT(graph_n_comps(g), 0);
    CHECK_EQ_INT(graph_n_layers(g), 0);
    CHECK_EQ_INT(graph_comp_of(g, 0), NONE);
    CHECK(graph_comp_nodes(g, 0, &n) == NULL && n == 0);
    CHECK(graph_succ(g, 0, &n) == NULL && n == 0);
    CHECK(graph_ready_reset(g) == ST_OK);
    CHECK(!graph_ready_next(g, &c));
    CHECK_EQ_INT(graph_ready_left(g), 0);
    CHECK(graph_simulate(g, 4, false) == 0 && graph_simulate(g, 4, true) == 0);
    graph_destroy(&g);
}

TEST(graph_errors)
{
    graph_t *g = graph_new(3);
    st_err_t err = {0};
    uint32_t c;
    size_t n = 7;

    REQUIRE(g != NULL);
    CHECK(graph_add_edge(g, 3, 0) == ST_EINVAL);
    CHECK(graph_add_edge(g, 0, 3) == ST_EINVAL);
    CHECK(graph_add_edge(g, UINT32_MAX, 1) == ST_EINVAL);
    CHECK(graph_add_edge(NULL, 0, 1) == ST_EINVAL);
    /* Before graph_finish there is nothing to read or dispatch. */
    CHECK_EQ_INT(graph_n_nodes(g), 3);
    CHECK_EQ_INT(graph_n_comps(g), 0);
    CHECK_EQ_INT(graph_comp_of(g, 0), NONE);
    CHECK(graph_succ(g, 0, &n) == NULL && n == 0);
    CHECK(graph_ready_reset(g) == ST_EINVAL);
    CHECK(!graph_ready_next(g, &c));
    graph_ready_done(g, 0);
    CHECK(graph_simulate(g, 1, false) == 0);
    REQUIRE(graph_add_edge(g, 0, 1) == ST_OK);
    REQUIRE(graph_finish(g, NULL, &err) == ST_OK);
    CHECK(graph_finish(g, NULL, &err) == ST_EINVAL && err.code == ST_EINVAL);
    CHECK(graph_add_edge(g, 1, 2) == ST_EINVAL);
    CHECK_EQ_INT(graph_n_comps(g), 3);
    CHECK(graph_comp_deps(g, 3, &n) == NULL && n == 0);
    CHECK(graph_comp_users(g, 0, NULL) != NULL); /* n may be NULL */
    CHECK(graph_layer(g, 3) == 0 && graph_priority(g, 3) == 0);
    CHECK(graph_finish(NULL, NULL, &err) == ST_EINVAL);
    CHECK(graph_new(UINT32_MAX) == NULL);
    graph_destroy(&g);
}

/* Fails each allocation of graph_new, graph_add_edge and graph_finish in
 * turn: ST_ENOMEM (or NULL), nothing half-built, and a retry that works
 * gives the same graph as a run without faults. */
TEST(graph_oom)
{
    static edge_t e[120];
    static ref_t r;
    graph_t *g = NULL;
    st_err_t err = {0};
    size_t m;
    int failures = 0;

    rng_state = 99;
    for (m = 0; m < 120; m++)
        e[m] = (edge_t){rnd(RMAX), rnd(RMAX)};
    alloc_fail_after(0);
    CHECK(graph_new(RMAX) == NULL);
    alloc_fail_after(-1);
    REQUIRE((g = graph_new(RMAX)) != NULL);
    for (size_t i = 0; i < m; i++) { /* each growth fails first at eu, then at ev */
        st_rc_t rc;
        for (long f = 0; f < 2; f++) {
            alloc_fail_after(f);
            rc = graph_add_edge(g, e[i].u, e[i].v);
            alloc_fail_after(-1);
            if (rc == ST_OK)
                break;
            CHECK(rc == ST_ENOMEM);
            failures++;
        }
        if (rc != ST_OK)
            rc = graph_add_edge(g, e[i].u, e[i].v);
        REQUIRE(rc == ST_OK);
    }
    CHECK(failures >= 4); /* growths at 0, 32 (and 64...): two failures each */
    for (long f = 0;; f++) {
        st_rc_t rc;
        alloc_fail_after(f);
        rc = graph_finish(g, NULL, &err);
        alloc_fail_after(-1);
        if (rc == ST_OK)
            break;
        REQUIRE(rc == ST_ENOMEM && err.code == ST_ENOMEM);
        CHECK_EQ_INT(graph_n_comps(g), 0); /* still unfinished */
        CHECK(graph_ready_reset(g) == ST_EINVAL);
        failures++;
    }
    CHECK(failures > 20);
    reference(&r, RMAX, e, m, NULL);
    check_against(g, &r);
    graph_destroy(&g);
}
