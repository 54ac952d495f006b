/* graph.h - the module graph: SCCs, layers, priorities, readiness dispatch.
 *
 * Nodes are 0..n-1 (module ids from resolve.h); an edge u -> v means "u
 * imports v", so v's check must finish before u's. Tarjan's algorithm,
 * iterative (an explicit stack: no recursion depth limit, a 100,000-module
 * chain is fine), groups the nodes into strongly connected components.
 * Components are numbered in a deterministic dependency-first order: every
 * edge between components goes from a higher id to a lower one, and ties are
 * broken by the smallest node id in the component, so the same graph gives
 * the same numbering whatever order its edges were added in.
 *
 * Over the condensation (a DAG): the layer of a component is 0 when it
 * depends on nothing, else 1 + the largest layer of its dependencies; its
 * priority is its own cost plus the largest priority among its dependents
 * (the longest path to the end of the run: the critical path first).
 *
 * Dispatch on readiness: a component is ready when every component it
 * depends on is done. graph_ready_* hands out ready components highest
 * priority first (ties: lower id). Not thread-safe: the caller locks. */
#ifndef STRATA_GRAPH_H
#define STRATA_GRAPH_H

#include "common/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct graph graph_t;

/* An empty graph of n nodes; NULL when out of memory. */
graph_t *graph_new(uint32_t n);
void graph_destroy(graph_t **self_p);

/* Adds u -> v. Duplicates and self-loops are accepted (a self-loop does not
 * make a cycle of components). ST_EINVAL when u or v >= n; ST_ENOMEM. */
st_rc_t graph_add_edge(graph_t *self, uint32_t u, uint32_t v);

/* Computes components, condensation edges, layers and priorities. cost[i]
 * is node i's estimated cost (NULL: 1 each); a component's cost is the sum.
 * Call once, after the last edge. */
st_rc_t graph_finish(graph_t *self, const uint64_t *cost, st_err_t *err);

uint32_t graph_n_nodes(const graph_t *self);
uint32_t graph_n_comps(const graph_t *self);
uint32_t graph_comp_of(const graph_t *self, uint32_t node);
/* The nodes of component c, sorted ascending. */
const uint32_t *graph_comp_nodes(const graph_t *self, uint32_t c, size_t *n);
/* The components c depends on (distinct, sorted), and those depending on c. */
const uint32_t *graph_comp_deps(const graph_t *self, uint32_t c, size_t *n);
const uint32_t *graph_comp_users(const graph_t *self, uint32_t c, size_t *n);
/* Node successors (distinct, sorted): what node u imports. */
const uint32_t *graph_succ(const graph_t *self, uint32_t u, size_t *n);
uint32_t graph_layer(const graph_t *self, uint32_t c);
uint32_t graph_n_layers(const graph_t *self);
uint64_t graph_priority(const graph_t *self, uint32_t c);

/* Readiness dispatch. graph_ready_reset starts a run: every component is
 * pending. graph_ready_next gives the best ready component not yet handed out
 * (false when none is ready now). graph_ready_done marks c finished, which
 * may make its users ready. graph_ready_left counts components not done. */
st_rc_t graph_ready_reset(graph_t *self);
bool graph_ready_next(graph_t *self, uint32_t *c);
void graph_ready_done(graph_t *self, uint32_t c);
uint32_t graph_ready_left(const graph_t *self);

/* A discrete-event simulation of a run on `workers` identical workers:
 * component c takes comp_cost (the graph_finish costs) time units. With
 * barrier, layer k+1 starts only when all of layer k is done; without, a
 * component starts as soon as it is ready and a worker is free (priority
 * order). Returns the makespan; 0 for an empty graph. */
uint64_t graph_simulate(graph_t *self, unsigned workers, bool barrier);

#endif
