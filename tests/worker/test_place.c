/* test_place.c - thread placement: which thread lands on which core and NUMA
 * node, checked on hwloc synthetic topologies (so on any machine), plus the
 * --cpuset parser and one real binding of a thread on this machine. */
#include "test.h"

#include <glob.h>

#include "common/alloc.h"
#include "worker/place.h"

#include <hwloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

/* The topology of the brief: 2 packages x 2 NUMA nodes x 2 cores x 2 PUs
 * would be "pack:2 numa:2 core:2 pu:2"; most tests use smaller ones whose
 * numbering is easy to follow: "numa:2 core:2 pu:2" has node 0 = cores 0-1 =
 * pus 0-3 and node 1 = cores 2-3 = pus 4-7. */
#define SMALL "numa:2 core:2 pu:2"

static place_topo_t *load(const char *synthetic)
{
    place_topo_t *t = NULL;
    st_err_t err = {0};

    if (place_topology_load(synthetic, &t, &err) != ST_OK)
        fprintf(stderr, "load %s: %s\n", synthetic ? synthetic : "(this machine)", err.msg);
    return t;
}

static place_plan_t *plan_of(const place_topo_t *t, unsigned threads, const char *cpuset,
                             int numa_node)
{
    place_opts_t o = place_opts_default();
    place_plan_t *p = NULL;
    st_err_t err = {0};

    o.threads = threads;
    o.cpuset = cpuset;
    o.numa_node = numa_node;
    if (place_plan(t, &o, &p, &err) != ST_OK)
        fprintf(stderr, "plan: %s\n", err.msg);
    return p;
}

/* The rc of a plan that must fail, with its message in err. */
static st_rc_t plan_error(const place_topo_t *t, unsigned threads, const char *cpuset,
                          int numa_node, st_err_t *err)
{
    place_opts_t o = place_opts_default();
    place_plan_t *p = (place_plan_t *)&o; /* a sentinel: must stay untouched */
    st_rc_t rc;

    o.threads = threads;
    o.cpuset = cpuset;
    o.numa_node = numa_node;
    rc = place_plan(t, &o, &p, err);
    CHECK(p == (place_plan_t *)&o);
    return rc;
}

static bool thread_is(const place_plan_t *p, unsigned i, unsigned core, unsigned pu, unsigned npus,
                      int numa)
{
    const place_thread_t *th = place_plan_thread(p, i);

    if (th == NULL)
        return false;
    if (th->core != core || th->pu != pu || th->npus != npus || th->numa != numa) {
        fprintf(stderr, "thread %u: core %u pu %u npus %u numa %d\n", i, th->core, th->pu, th->npus,
                th->numa);
        return false;
    }
    return true;
}

TEST(place_one_thread_per_core_with_its_numa_node)
{
    place_topo_t *t = load("pack:2 numa:2 core:4 pu:1");
    place_plan_t *p;
    int ids[8];
    size_t n = 0;

    REQUIRE(t != NULL);
    CHECK(!place_topology_is_this_machine(t));
    p = plan_of(t, 0, NULL, -1);
    REQUIRE(p != NULL);
    CHECK_EQ_INT(place_plan_threads(p), 16);
    CHECK_EQ_INT(place_plan_cores(p), 16);
    CHECK(!place_plan_oversubscribed(p));
    for (unsigned i = 0; i < 16; i++) {
        CHECK(thread_is(p, i, i, i, 1, (int)(i / 4)));
        CHECK_EQ_INT(place_plan_thread(p, i)->core_os, i);
    }
    CHECK(place_plan_thread(p, 16) == NULL);
    place_plan_destroy(&p);
    CHECK(p == NULL);
    /* The same with threads = 16 given explicitly. */
    p = plan_of(t, 16, NULL, -1);
    REQUIRE(p != NULL);
    for (unsigned i = 0; i < 16; i++)
        CHECK(thread_is(p, i, i, i, 1, (int)(i / 4)));
    place_plan_destroy(&p);

    REQUIRE(place_numa_nodes(t, NULL, ids, 8, &n, NULL) == ST_OK);
    CHECK_EQ_INT(n, 4);
    for (int i = 0; i < 4; i++)
        CHECK_EQ_INT(ids[i], i);
    /* Sizing call: cap 0 writes nothing and gives the count. */
    n = 0;
    REQUIRE(place_numa_nodes(t, NULL, NULL, 0, &n, NULL) == ST_OK);
    CHECK_EQ_INT(n, 4);
    place_topology_destroy(&t);
    CHECK(t == NULL);
    place_topology_destroy(&t);
    place_topology_destroy(NULL);
    place_plan_destroy(NULL);
}

TEST(place_fewer_threads_spread_over_nodes_packed_within)
{
    place_topo_t *t = load(SMALL);
    place_plan_t *p;

    REQUIRE(t != NULL);
    p = plan_of(t, 3, NULL, -1);
    REQUIRE(p != NULL);
    CHECK_EQ_INT(place_plan_threads(p), 3);
    CHECK_EQ_INT(place_plan_cores(p), 4);
    CHECK(!place_plan_oversubscribed(p));
    /* Node 0, node 1, then node 0's next core; bound to both PUs of a core. */
    CHECK(thread_is(p, 0, 0, 0, 2, 0));
    CHECK(thread_is(p, 1, 2, 4, 2, 1));
    CHECK(thread_is(p, 2, 1, 2, 2, 0));
    place_plan_destroy(&p);

    p = plan_of(t, 1, NULL, -1);
    REQUIRE(p != NULL);
    CHECK_EQ_INT(place_plan_threads(p), 1);
    CHECK(thread_is(p, 0, 0, 0, 2, 0));
    place_plan_destroy(&p);
    place_topology_destroy(&t);
}

TEST(place_spread_on_two_packages_of_two_nodes)
{
    /* 2 packages x 2 nodes x 4 cores x 2 PUs: node n has cores 4n..4n+3 and
     * pus 8n..8n+7. Four threads: one per node, on its first core. Six: the
     * fifth and sixth go back to nodes 0 and 1, on their second cores. */
    place_topo_t *t = load("pack:2 numa:2 core:4 pu:2");
    place_plan_t *p;

    REQUIRE(t != NULL);
    p = plan_of(t, 4, NULL, -1);
    REQUIRE(p != NULL);
    for (unsigned k = 0; k < 4; k++)
        CHECK(thread_is(p, k, 4 * k, 8 * k, 2, (int)k));
    place_plan_destroy(&p);
    p = plan_of(t, 6, NULL, -1);
    REQUIRE(p != NULL);
    CHECK(thread_is(p, 4, 1, 2, 2, 0));
    CHECK(thread_is(p, 5, 5, 10, 2, 1));
    place_plan_destroy(&p);
    /* One worker per node: node 3 alone, four threads. */
    p = plan_of(t, 0, NULL, 3);
    REQUIRE(p != NULL);
    CHECK_EQ_INT(place_plan_threads(p), 4);
    for (unsigned k = 0; k < 4; k++)
        CHECK(thread_is(p, k, 12 + k, 24 + 2 * k, 2, 3));
    place_plan_destroy(&p);
    place_topology_destroy(&t);
}

TEST(place_spread_moves_on_when_a_node_is_full)
{
    /* Cpus 0-4: node 0 has cores 0-3, node 1 only core 4. Four threads on
     * five cores: node 0, node 1, node 0, then node 1 is full so node 0. */
    place_topo_t *t = load("pack:2 numa:2 core:4 pu:1");
    place_plan_t *p;

    REQUIRE(t != NULL);
    p = plan_of(t, 4, "0-4", -1);
    REQUIRE(p != NULL);
    CHECK_EQ_INT(place_plan_cores(p), 5);
    CHECK(thread_is(p, 0, 0, 0, 1, 0));
    CHECK(thread_is(p, 1, 4, 4, 1, 1));
    CHECK(thread_is(p, 2, 1, 1, 1, 0));
    CHECK(thread_is(p, 3, 2, 2, 1, 0));
    place_plan_destroy(&p);
    place_topology_destroy(&t);
}

TEST(place_more_threads_round_robin)
{
    place_topo_t *t = load(SMALL);
    place_plan_t *p;
    static const unsigned first_pu[4] = {0, 2, 4, 6};
    buf_t b;

    REQUIRE(t != NULL);
    p = plan_of(t, 10, NULL, -1);
    REQUIRE(p != NULL);
    CHECK_EQ_INT(place_plan_threads(p), 10);
    CHECK_EQ_INT(place_plan_cores(p), 4);
    CHECK(place_plan_oversubscribed(p));
    for (unsigned i = 0; i < 10; i++)
        CHECK(thread_is(p, i, i % 4, first_pu[i % 4], 2, (int)(i % 4 / 2)));
    buf_init(&b);
    REQUIRE(place_describe(p, &b) == ST_OK);
    CHECK(strstr((const char *)b.data, "oversubscribed") != NULL);
    CHECK(strstr((const char *)b.data, "thread 9: core 1 (pus 2-3), numa 0\n") != NULL);
    buf_free(&b);
    place_plan_destroy(&p);
    place_topology_destroy(&t);
}

TEST(place_one_numa_node_only)
{
    place_topo_t *t = load(SMALL);
    place_plan_t *p;
    st_err_t err = {0};

    REQUIRE(t != NULL);
    p = plan_of(t, 0, NULL, 1);
    REQUIRE(p != NULL);
    CHECK_EQ_INT(place_plan_threads(p), 2);
    CHECK(thread_is(p, 0, 2, 4, 2, 1));
    CHECK(thread_is(p, 1, 3, 6, 2, 1));
    place_plan_destroy(&p);
    /* More threads than the node's cores stay on the node. */
    p = plan_of(t, 3, NULL, 1);
    REQUIRE(p != NULL);
    CHECK(place_plan_oversubscribed(p));
    CHECK(thread_is(p, 2, 2, 4, 2, 1));
    place_plan_destroy(&p);

    CHECK_EQ_INT(plan_error(t, 0, NULL, 2, &err), ST_EINVAL);
    CHECK(strstr(err.msg, "numa node 2 does not exist (nodes: 0-1)") != NULL);
    CHECK_EQ_INT(plan_error(t, 0, NULL, -2, &err), ST_EINVAL);
    /* A node with no cpu in the cpuset. */
    CHECK_EQ_INT(plan_error(t, 0, "0-1", 1, &err), ST_EINVAL);
    CHECK(strstr(err.msg, "numa node 1 has no usable cpu") != NULL);
    place_topology_destroy(&t);
}

TEST(place_cpuset_restricts_cores_and_pus)
{
    place_topo_t *t = load(SMALL);
    place_plan_t *p;
    place_opts_t o = place_opts_default();
    int ids[4] = {-1, -1, -1, -1};
    size_t n = 0;

    REQUIRE(t != NULL);
    /* 0-1: the two PUs of core 0. */
    p = plan_of(t, 0, "0-1", -1);
    REQUIRE(p != NULL);
    CHECK_EQ_INT(place_plan_threads(p), 1);
    CHECK(thread_is(p, 0, 0, 0, 2, 0));
    place_plan_destroy(&p);
    REQUIRE(place_numa_nodes(t, "0-1", ids, 4, &n, NULL) == ST_OK);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(ids[0], 0);

    /* 4,6: one PU of each core of node 1; the thread gets only that PU. */
    p = plan_of(t, 0, "4,6", -1);
    REQUIRE(p != NULL);
    CHECK_EQ_INT(place_plan_threads(p), 2);
    CHECK(thread_is(p, 0, 2, 4, 1, 1));
    CHECK(thread_is(p, 1, 3, 6, 1, 1));
    place_plan_destroy(&p);
    REQUIRE(place_numa_nodes(t, "4,6", ids, 4, &n, NULL) == ST_OK);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(ids[0], 1);

    /* hwloc's bitmap format names the same cpus. */
    p = plan_of(t, 0, "0x50", -1);
    REQUIRE(p != NULL);
    CHECK_EQ_INT(place_plan_threads(p), 2);
    CHECK(thread_is(p, 1, 3, 6, 1, 1));
    place_plan_destroy(&p);

    /* Bind to one PU per core. */
    o.bind = PLACE_BIND_PU;
    REQUIRE(place_plan(t, &o, &p, NULL) == ST_OK);
    CHECK_EQ_INT(place_plan_threads(p), 4);
    CHECK(thread_is(p, 3, 3, 6, 1, 1));
    place_plan_destroy(&p);
    place_topology_destroy(&t);
}

TEST(place_bad_cpusets_and_options)
{
    place_topo_t *t = load(SMALL);
    place_opts_t o = place_opts_default();
    place_plan_t *p = NULL;
    st_err_t err = {0};
    size_t n = 77;

    REQUIRE(t != NULL);
    CHECK_EQ_INT(plan_error(t, 0, "8", -1, &err), ST_EINVAL);
    CHECK(strstr(err.msg, "cpus 8 are not usable here (usable: 0-7)") != NULL);
    CHECK_EQ_INT(plan_error(t, 0, "6-9", -1, &err), ST_EINVAL);
    CHECK(strstr(err.msg, "cpus 8-9") != NULL);
    CHECK_EQ_INT(plan_error(t, 0, "", -1, &err), ST_EINVAL);
    CHECK_EQ_INT(plan_error(t, 0, "3-1", -1, &err), ST_EINVAL);
    CHECK(strstr(err.msg, "backwards") != NULL);
    CHECK_EQ_INT(plan_error(t, 0, "0,,1", -1, &err), ST_EINVAL);
    CHECK_EQ_INT(plan_error(t, 0, "0x0", -1, &err), ST_EINVAL);
    CHECK(strstr(err.msg, "selects no cpu") != NULL);
    CHECK_EQ_INT(plan_error(t, 0, "99999999999999999999", -1, &err), ST_ELIMIT);
    CHECK_EQ_INT(plan_error(t, PLACE_MAX_THREADS + 1, NULL, -1, &err), ST_ELIMIT);
    place_topology_destroy(&t);
    /* One thread per core, but more cores than a plan places. */
    t = load("pack:2 core:2049 pu:1");
    REQUIRE(t != NULL);
    CHECK_EQ_INT(plan_error(t, 0, NULL, -1, &err), ST_ELIMIT);
    CHECK(strstr(err.msg, "4098 usable cores") != NULL);
    p = plan_of(t, 2, NULL, -1);
    REQUIRE(p != NULL);
    place_plan_destroy(&p);
    place_topology_destroy(&t);
    t = load(SMALL);
    REQUIRE(t != NULL);
    o.bind = (place_bind_t)7;
    CHECK_EQ_INT(place_plan(t, &o, &p, &err), ST_EINVAL);
    CHECK(p == NULL);
    CHECK_EQ_INT(place_numa_nodes(t, "9", NULL, 0, &n, &err), ST_EINVAL);
    CHECK_EQ_INT(n, 77);
    CHECK_EQ_INT(place_plan(NULL, NULL, &p, &err), ST_EINVAL);
    place_topology_destroy(&t);
}

TEST(place_parse_cpuset_forms)
{
    place_cpuset_t s;
    st_err_t err = {0};
    hwloc_bitmap_t h = hwloc_bitmap_alloc();
    char text[256];

    REQUIRE(place_parse_cpuset("0-3,8", &s, &err) == ST_OK);
    CHECK_EQ_INT(place_cpuset_count(&s), 5);
    for (unsigned c = 0; c < 4; c++)
        CHECK(place_cpuset_has(&s, c));
    CHECK(!place_cpuset_has(&s, 4));
    CHECK(place_cpuset_has(&s, 8));
    CHECK(!place_cpuset_has(&s, PLACE_MAX_CPUS));
    REQUIRE(place_parse_cpuset(" 7\n", &s, &err) == ST_OK);
    CHECK_EQ_INT(place_cpuset_count(&s), 1);
    CHECK(place_cpuset_has(&s, 7));
    REQUIRE(place_parse_cpuset("4095", &s, &err) == ST_OK);
    CHECK(place_cpuset_has(&s, 4095));
    REQUIRE(place_parse_cpuset("0-4095", &s, &err) == ST_OK);
    CHECK_EQ_INT(place_cpuset_count(&s), 4096);
    REQUIRE(place_parse_cpuset("2,1,2", &s, &err) == ST_OK);
    CHECK_EQ_INT(place_cpuset_count(&s), 2);

    /* hwloc's format, as hwloc prints it, reads back as the same cpus. */
    REQUIRE(h != NULL);
    hwloc_bitmap_set_range(h, 0, 70);
    hwloc_bitmap_set(h, 100);
    REQUIRE(hwloc_bitmap_snprintf(text, sizeof text, h) > 0);
    REQUIRE(place_parse_cpuset(text, &s, &err) == ST_OK);
    CHECK_EQ_INT(place_cpuset_count(&s), 72);
    CHECK(place_cpuset_has(&s, 70) && place_cpuset_has(&s, 100) && !place_cpuset_has(&s, 71));
    hwloc_bitmap_free(h);
    REQUIRE(place_parse_cpuset("0xF0", &s, &err) == ST_OK);
    CHECK_EQ_INT(place_cpuset_count(&s), 4);
    CHECK(place_cpuset_has(&s, 4) && place_cpuset_has(&s, 7));
    REQUIRE(place_parse_cpuset("0x1,00000000", &s, &err) == ST_OK);
    CHECK_EQ_INT(place_cpuset_count(&s), 1);
    CHECK(place_cpuset_has(&s, 32));
}

TEST(place_parse_cpuset_rejects)
{
    static const struct {
        const char *s;
        st_rc_t rc;
    } bad[] = {
        {"", ST_EINVAL},
        {" \t", ST_EINVAL},
        {"a", ST_EINVAL},
        {"-1", ST_EINVAL},
        {"1-", ST_EINVAL},
        {"1,", ST_EINVAL},
        {",1", ST_EINVAL},
        {"1 2", ST_EINVAL},
        {"1-2-3", ST_EINVAL},
        {"5-2", ST_EINVAL},
        {"0x", ST_EINVAL},
        {"0xg", ST_EINVAL},
        {"0x123456789", ST_EINVAL},
        {"0x1,", ST_EINVAL},
        {"0x1,,0x1", ST_EINVAL},
        {"0x0,0x0", ST_EINVAL},
        {"0xf...f", ST_EINVAL},
        {"4096", ST_ELIMIT},
        {"0-4096", ST_ELIMIT},
        {"18446744073709551617", ST_ELIMIT},
    };
    place_cpuset_t s, before;
    st_err_t err = {0};
    char *big;

    memset(&s, 0xab, sizeof s);
    before = s;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err.msg[0] = '\0';
        CHECK_EQ_INT(place_parse_cpuset(bad[i].s, &s, &err), bad[i].rc);
        CHECK(strstr(err.msg, "cpuset") != NULL);
        CHECK(memcmp(&s, &before, sizeof s) == 0);
    }
    CHECK_EQ_INT(place_parse_cpuset(NULL, &s, &err), ST_EINVAL);

    /* A set bit in the 129th 32-bit word is cpu 4096; leading zero words are
     * fine however many. */
    big = malloc(200 * 11 + 1);
    REQUIRE(big != NULL);
    strcpy(big, "0x1");
    for (int i = 0; i < 128; i++)
        strcat(big, ",0x00000000");
    CHECK_EQ_INT(place_parse_cpuset(big, &s, &err), ST_ELIMIT);
    big[2] = '0';
    strcat(big, ",0x1");
    CHECK_EQ_INT(place_parse_cpuset(big, &s, &err), ST_OK);
    CHECK_EQ_INT(place_cpuset_count(&s), 1);
    CHECK(place_cpuset_has(&s, 0));
    free(big);
}

TEST(place_topology_without_numa_or_cores)
{
    place_topo_t *t = load("core:4 pu:1");
    place_plan_t *p;
    int ids[2] = {-1, -1};
    size_t n = 0;

    REQUIRE(t != NULL);
    p = plan_of(t, 2, NULL, -1);
    REQUIRE(p != NULL);
    /* One node: packed. */
    CHECK(thread_is(p, 0, 0, 0, 1, 0));
    CHECK(thread_is(p, 1, 1, 1, 1, 0));
    place_plan_destroy(&p);
    p = plan_of(t, 0, NULL, -1);
    REQUIRE(p != NULL);
    CHECK_EQ_INT(place_plan_threads(p), 4);
    for (unsigned i = 0; i < 4; i++)
        CHECK(thread_is(p, i, i, i, 1, 0));
    place_plan_destroy(&p);
    REQUIRE(place_numa_nodes(t, NULL, ids, 2, &n, NULL) == ST_OK);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(ids[0], 0);
    /* The one node is 0: asking for it works, for another does not. */
    p = plan_of(t, 0, NULL, 0);
    REQUIRE(p != NULL);
    CHECK_EQ_INT(place_plan_threads(p), 4);
    place_plan_destroy(&p);
    CHECK_EQ_INT(plan_error(t, 0, NULL, 1, NULL), ST_EINVAL);
    place_topology_destroy(&t);

    /* No core level: each PU counts as a core. */
    t = load("numa:2 pu:2");
    REQUIRE(t != NULL);
    p = plan_of(t, 0, NULL, -1);
    REQUIRE(p != NULL);
    CHECK_EQ_INT(place_plan_threads(p), 4);
    for (unsigned i = 0; i < 4; i++)
        CHECK(thread_is(p, i, i, i, 1, (int)(i / 2)));
    place_plan_destroy(&p);
    place_topology_destroy(&t);
}

static bool same_plans(const place_plan_t *a, const place_plan_t *b)
{
    if (place_plan_threads(a) != place_plan_threads(b) ||
        place_plan_cores(a) != place_plan_cores(b) ||
        place_plan_oversubscribed(a) != place_plan_oversubscribed(b))
        return false;
    for (unsigned i = 0; i < place_plan_threads(a); i++)
        if (memcmp(place_plan_thread(a, i), place_plan_thread(b, i), sizeof(place_thread_t)) != 0)
            return false;
    return true;
}

TEST(place_plans_are_deterministic)
{
    static const unsigned counts[] = {1, 3, 5, 8, 13, 40};
    place_topo_t *t1 = load("pack:2 numa:2 core:2 pu:2");
    place_topo_t *t2 = load("pack:2 numa:2 core:2 pu:2");

    REQUIRE(t1 != NULL && t2 != NULL);
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        place_plan_t *a = plan_of(t1, counts[i], NULL, -1);
        place_plan_t *b = plan_of(t2, counts[i], NULL, -1);
        place_plan_t *c = plan_of(t1, counts[i], NULL, -1);
        buf_t da, db;

        REQUIRE(a != NULL && b != NULL && c != NULL);
        CHECK(same_plans(a, b));
        CHECK(same_plans(a, c));
        buf_init(&da);
        buf_init(&db);
        CHECK(place_describe(a, &da) == ST_OK);
        CHECK(place_describe(b, &db) == ST_OK);
        CHECK_STREQ((const char *)da.data, (const char *)db.data);
        buf_free(&da);
        buf_free(&db);
        place_plan_destroy(&a);
        place_plan_destroy(&b);
        place_plan_destroy(&c);
    }
    place_topology_destroy(&t1);
    place_topology_destroy(&t2);
}

TEST(place_describe_lines)
{
    place_topo_t *t = load(SMALL);
    place_opts_t o = place_opts_default();
    place_plan_t *p = NULL;
    buf_t b;

    REQUIRE(t != NULL);
    o.threads = 3;
    o.bind = PLACE_BIND_PU;
    REQUIRE(place_plan(t, &o, &p, NULL) == ST_OK);
    buf_init(&b);
    REQUIRE(place_describe(p, &b) == ST_OK);
    CHECK_STREQ((const char *)b.data, "placement: 3 threads on 4 cores\n"
                                      "thread 0: core 0 (pu 0), numa 0\n"
                                      "thread 1: core 2 (pu 4), numa 1\n"
                                      "thread 2: core 1 (pu 2), numa 0\n");
    buf_free(&b);
    place_plan_destroy(&p);
    place_topology_destroy(&t);
}

TEST(place_synthetic_and_xml_errors)
{
    place_topo_t *t = (place_topo_t *)&t, *sentinel = t;
    st_err_t err = {0};
    char *longs;

    CHECK_EQ_INT(place_topology_load("garbage", &t, &err), ST_EINVAL);
    CHECK(strstr(err.msg, "garbage") != NULL);
    CHECK_EQ_INT(place_topology_load("pack:1000 core:1000 pu:2", &t, &err), ST_ELIMIT);
    CHECK_EQ_INT(place_topology_load("pu:999999999999", &t, &err), ST_ELIMIT);
    longs = malloc(2000);
    REQUIRE(longs != NULL);
    memset(longs, ' ', 1999);
    memcpy(longs, "pu:2", 4);
    longs[1999] = '\0';
    CHECK_EQ_INT(place_topology_load(longs, &t, &err), ST_ELIMIT);
    free(longs);
    CHECK_EQ_INT(place_topology_load_xml("<not a topology", 15, &t, &err), ST_EINVAL);
    CHECK_EQ_INT(place_topology_load_xml("", 0, &t, &err), ST_EINVAL);
    CHECK(t == sentinel);
}

TEST(place_xml_topology_plans_like_synthetic)
{
    hwloc_topology_t h;
    char *xml = NULL;
    int len = 0;
    place_topo_t *a = load("pack:2 numa:2 core:2 pu:2"), *b = NULL;
    place_plan_t *pa, *pb;
    st_err_t err = {0};

    REQUIRE(a != NULL);
    REQUIRE(hwloc_topology_init(&h) == 0);
    REQUIRE(hwloc_topology_set_synthetic(h, "pack:2 numa:2 core:2 pu:2") == 0);
    REQUIRE(hwloc_topology_load(h) == 0);
    REQUIRE(hwloc_topology_export_xmlbuffer(h, &xml, &len, 0) == 0);
    CHECK_EQ_INT(place_topology_load_xml(xml, (size_t)len, &b, &err), ST_OK);
    hwloc_free_xmlbuffer(h, xml);
    hwloc_topology_destroy(h);
    REQUIRE(b != NULL);
    CHECK(!place_topology_is_this_machine(b));
    pa = plan_of(a, 5, NULL, -1);
    pb = plan_of(b, 5, NULL, -1);
    REQUIRE(pa != NULL && pb != NULL);
    CHECK(same_plans(pa, pb));
    CHECK(thread_is(pb, 1, 2, 4, 2, 1));
    place_plan_destroy(&pa);
    place_plan_destroy(&pb);
    place_topology_destroy(&a);
    place_topology_destroy(&b);
}

TEST(place_plan_reports_allocation_failure)
{
    place_topo_t *t = load(SMALL);
    place_opts_t o = place_opts_default();
    int failures = 0;

    REQUIRE(t != NULL);
    o.threads = 3;
    for (long n = 0; n < 100; n++) {
        place_plan_t *p = NULL;
        st_err_t err = {0};
        st_rc_t rc;

        alloc_fail_after(n);
        rc = place_plan(t, &o, &p, &err);
        alloc_fail_after(-1);
        if (rc == ST_OK) {
            CHECK(thread_is(p, 2, 1, 2, 2, 0));
            place_plan_destroy(&p);
            break;
        }
        CHECK_EQ_INT(rc, ST_ENOMEM);
        CHECK(p == NULL);
        failures++;
    }
    CHECK(failures > 0);
    place_topology_destroy(&t);
}

/* ---- on this machine ---- */

typedef struct {
    const place_plan_t *p;
    unsigned thread;
    st_rc_t rc;
    place_bound_t bound;
    st_err_t err;
    cpu_set_t before, after;
    int getaffinity;
} apply_run_t;

static void *apply_thread(void *arg)
{
    apply_run_t *r = arg;

    CPU_ZERO(&r->before);
    r->getaffinity = sched_getaffinity(0, sizeof r->before, &r->before);
    r->rc = place_apply(r->p, r->thread, &r->bound, &r->err);
    CPU_ZERO(&r->after);
    r->getaffinity |= sched_getaffinity(0, sizeof r->after, &r->after);
    return NULL;
}

/* Runs place_apply for plan thread `thread` in a fresh thread (so the
 * runner's own affinity is never changed). */
static bool apply_in_thread(const place_plan_t *p, unsigned thread, apply_run_t *r)
{
    pthread_t th;

    memset(r, 0, sizeof *r);
    r->p = p;
    r->thread = thread;
    return pthread_create(&th, NULL, apply_thread, r) == 0 && pthread_join(th, NULL) == 0 &&
           r->getaffinity == 0;
}

/* Binds a fresh thread (not the runner's) as planned and checks that the
 * kernel now runs it only on the planned cpus. */
static void apply_on_this_machine(place_bind_t bind)
{
    place_topo_t *t = load(NULL);
    place_opts_t o = place_opts_default();
    place_plan_t *p = NULL;
    apply_run_t r;
    const place_thread_t *pt;
    unsigned matched = 0;

    REQUIRE(t != NULL);
    CHECK(place_topology_is_this_machine(t));
    o.threads = 1;
    o.bind = bind;
    REQUIRE(place_plan(t, &o, &p, NULL) == ST_OK);
    pt = place_plan_thread(p, 0);
    REQUIRE(pt != NULL);
    REQUIRE(apply_in_thread(p, 0, &r));
    CHECK_EQ_INT(r.rc, ST_OK);
    if (r.bound.cpu) {
        CHECK(CPU_ISSET(pt->pu, &r.after));
        for (unsigned c = 0; c < CPU_SETSIZE; c++)
            matched += CPU_ISSET(c, &r.after) ? 1u : 0u;
        CHECK_EQ_INT(matched, pt->npus);
    } else {
        /* Not pinned: the reason is given. */
        CHECK(r.bound.why[0] != '\0');
    }
    if (!r.bound.mem)
        CHECK(r.bound.why[0] != '\0');
    place_plan_destroy(&p);
    place_topology_destroy(&t);
}

TEST(place_apply_on_this_machine)
{
    apply_on_this_machine(PLACE_BIND_CORE);
    apply_on_this_machine(PLACE_BIND_PU);
}

TEST(place_apply_refuses_what_it_cannot_bind)
{
    place_topo_t *t = load(SMALL), *here = load(NULL);
    place_plan_t *p, *q;
    place_bound_t bound = {.cpu = true, .mem = true, .why = "x"};
    st_err_t err = {0};

    REQUIRE(t != NULL && here != NULL);
    p = plan_of(t, 2, NULL, -1);
    q = plan_of(here, 1, NULL, -1);
    REQUIRE(p != NULL && q != NULL);
    /* A synthetic plan is not this machine's: nothing is bound. */
    CHECK_EQ_INT(place_apply(p, 0, &bound, &err), ST_EINVAL);
    CHECK(strstr(err.msg, "nothing bound") != NULL);
    CHECK(bound.cpu && bound.mem);
    CHECK_EQ_INT(place_apply(q, 1, &bound, &err), ST_EINVAL);
    CHECK(strstr(err.msg, "thread 1 is not in the plan") != NULL);
    place_plan_destroy(&p);
    place_plan_destroy(&q);
    place_topology_destroy(&t);
    place_topology_destroy(&here);
}

/* hwloc binds for real on a synthetic topology when HWLOC_THISSYSTEM=1 is set
 * while it loads, which lets a test name a NUMA node or a CPU this machine
 * lacks: node 1000 holds cpu 0, node 0 holds cpu 4000. */
TEST(place_apply_memory_is_best_effort_cpus_are_not)
{
    place_topo_t *t;
    place_plan_t *p;
    apply_run_t r;
    cpu_set_t mine;

    CPU_ZERO(&mine);
    if (sched_getaffinity(0, sizeof mine, &mine) != 0 || !CPU_ISSET(0, &mine)) {
        fprintf(stderr, "  place_apply_memory_is_best_effort: skipped (cpu 0 not usable)\n");
        return;
    }
    setenv("HWLOC_THISSYSTEM", "1", 1);
    t = load("numa:2(indexes=1000,0) core:1 pu:1(indexes=0,4000)");
    unsetenv("HWLOC_THISSYSTEM");
    REQUIRE(t != NULL);
    REQUIRE(place_topology_is_this_machine(t));
    p = plan_of(t, 0, NULL, -1);
    REQUIRE(p != NULL);
    REQUIRE(thread_is(p, 0, 0, 0, 1, 1000));
    REQUIRE(thread_is(p, 1, 1, 4000, 1, 0));

    /* cpu 0 binds; node 1000 does not exist: reported, not an error. */
    REQUIRE(apply_in_thread(p, 0, &r));
    CHECK_EQ_INT(r.rc, ST_OK);
    CHECK(r.bound.cpu);
    CHECK(!r.bound.mem);
    CHECK(strstr(r.bound.why, "numa node 1000") != NULL);
    CHECK(CPU_ISSET(0, &r.after) && CPU_COUNT(&r.after) == 1);

    /* cpu 4000 does not exist: an error, and the affinity is unchanged. */
    REQUIRE(apply_in_thread(p, 1, &r));
    CHECK_EQ_INT(r.rc, ST_EIO);
    CHECK(strstr(r.err.msg, "binding thread 1 to cpus 4000") != NULL);
    CHECK(CPU_EQUAL(&r.before, &r.after));
    place_plan_destroy(&p);
    place_topology_destroy(&t);
}

TEST(place_numa_node_count_is_what_the_kernel_shows)
{
    glob_t g;
    size_t want = 0;

    if (glob("/sys/devices/system/node/node[0-9]*", 0, NULL, &g) == 0) {
        want = g.gl_pathc;
        globfree(&g);
    }
    CHECK_EQ_INT(place_numa_node_count(), want);
}
