/* test_hostpool.c - how the single-host mode lays its worker processes on a
 * machine: one per NUMA node (a thread per core of it), or N sharing the
 * CPUs. On hwloc's synthetic topologies, so that no NUMA hardware is
 * needed. */
#include "test.h"

#include "coordinator/hostpool.h"
#include "worker/place.h"

#include <string.h>

static place_topo_t *topo(const char *synthetic)
{
    place_topo_t *t = NULL;
    st_err_t err = {0};
    CHECK(place_topology_load(synthetic, &t, &err) == ST_OK);
    return t;
}

TEST(hostpool_layout_one_process_per_numa_node)
{
    place_topo_t *t = topo("pack:2 numa:2 core:4 pu:1");
    REQUIRE(t != NULL);
    hostpool_layout_t l;
    st_err_t err = {0};

    REQUIRE(hostpool_layout(t, 0, 0, 16, &l, &err) == ST_OK);
    CHECK_EQ_INT(l.n, 4);
    for (unsigned k = 0; k < l.n; k++) {
        CHECK_EQ_INT(l.node[k], (int)k);
        CHECK_EQ_INT(l.threads[k], 4); /* the cores of its node */
        CHECK_EQ_INT(l.cpuset[k][0], '\0');
    }
    /* --jobs overrides the threads of each */
    REQUIRE(hostpool_layout(t, 0, 2, 16, &l, &err) == ST_OK);
    CHECK_EQ_INT(l.n, 4);
    CHECK_EQ_INT(l.threads[3], 2);
    place_topology_destroy(&t);
}

TEST(hostpool_layout_single_node_is_one_process)
{
    place_topo_t *t = topo("core:4 pu:1");
    REQUIRE(t != NULL);
    hostpool_layout_t l;
    st_err_t err = {0};

    REQUIRE(hostpool_layout(t, 0, 0, 4, &l, &err) == ST_OK);
    CHECK_EQ_INT(l.n, 1);
    CHECK_EQ_INT(l.node[0], -1);
    CHECK_EQ_INT(l.threads[0], 4);
    CHECK_STREQ(l.cpuset[0], "");
    /* no topology at all: the same */
    REQUIRE(hostpool_layout(NULL, 0, 0, 2, &l, &err) == ST_OK);
    CHECK_EQ_INT(l.n, 1);
    CHECK_EQ_INT(l.threads[0], 2);
    place_topology_destroy(&t);
}

TEST(hostpool_layout_workers_share_the_cpus)
{
    place_topo_t *t = topo("numa:2 core:2 pu:1");
    REQUIRE(t != NULL);
    hostpool_layout_t l;
    st_err_t err = {0};

    /* --workers N: N processes, equal CPU ranges, not per node */
    REQUIRE(hostpool_layout(t, 2, 1, 4, &l, &err) == ST_OK);
    CHECK_EQ_INT(l.n, 2);
    CHECK_STREQ(l.cpuset[0], "0-1");
    CHECK_STREQ(l.cpuset[1], "2-3");
    CHECK_EQ_INT(l.node[0], -1);
    CHECK_EQ_INT(l.threads[1], 1);
    /* more processes than CPUs: one CPU each, round-robin */
    REQUIRE(hostpool_layout(t, 3, 0, 2, &l, &err) == ST_OK);
    CHECK_STREQ(l.cpuset[0], "0-0");
    CHECK_STREQ(l.cpuset[1], "1-1");
    CHECK_STREQ(l.cpuset[2], "0-0");
    CHECK_EQ_INT(l.threads[2], 1);
    CHECK(hostpool_layout(t, 65, 0, 2, &l, &err) == ST_EINVAL);
    place_topology_destroy(&t);
}
