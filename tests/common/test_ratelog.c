/* test_ratelog.c - the caps on log lines: a peer gets its lines per window
 * and then none until the window ends, all peers together their lines per
 * second, what is held back is counted and reported at most so often, and
 * a flood of distinct peers (more than the table's slots) stays within the
 * global cap. */
#include "test.h"

#include "common/ratelog.h"

#include <stdio.h>

TEST(ratelog_caps_a_peer_per_window)
{
    ratelog_t *r =
        ratelog_new(&(ratelog_opts_t){.per_peer = 3, .window_ms = 1000, .per_second = 100});
    uint64_t total = 0;
    int allowed = 0;

    REQUIRE(r != NULL);
    for (int i = 0; i < 50; i++)
        allowed += ratelog_allow(r, "10.0.0.1", 5000 + (uint64_t)i);
    CHECK_EQ_INT(allowed, 3);
    /* another peer has its own lines */
    CHECK(ratelog_allow(r, "10.0.0.2", 5100));
    /* held back: 47, reported once, then not again before every_ms */
    CHECK(ratelog_held(r, 5200, 10000, &total) == 47);
    CHECK(total == 51);
    CHECK(ratelog_held(r, 5300, 10000, &total) == 0);
    /* the window ends: the peer may log again */
    CHECK(ratelog_allow(r, "10.0.0.1", 6001));
    ratelog_destroy(&r);
    CHECK(r == NULL);
    ratelog_destroy(&r); /* accepts NULL */
}

TEST(ratelog_caps_all_peers_per_second)
{
    ratelog_t *r = ratelog_new(NULL); /* 10 per peer a minute, 5 a second */
    char peer[32];
    int allowed = 0;

    REQUIRE(r != NULL);
    /* 5000 distinct peers in one second: more than the table's slots */
    for (int i = 0; i < 5000; i++) {
        snprintf(peer, sizeof peer, "peer-%d", i);
        allowed += ratelog_allow(r, peer, 10000 + (uint64_t)i / 10);
    }
    CHECK_EQ_INT(allowed, 5);
    /* the next second has its own lines */
    CHECK(ratelog_allow(r, "peer-new", 11500));
    CHECK(ratelog_held(r, 11500, 0, NULL) == 4995);
    ratelog_destroy(&r);
}

TEST(ratelog_peers_sharing_a_slot_share_its_cap)
{
    ratelog_t *r = ratelog_new(&(ratelog_opts_t){.per_peer = 2, .per_second = 1000000});
    char peer[32];
    int allowed = 0;

    REQUIRE(r != NULL);
    /* 100000 peers alternating within a window: never more than the slots
       times the per-peer cap */
    for (int i = 0; i < 100000; i++) {
        snprintf(peer, sizeof peer, "p%d", i % 3000);
        allowed += ratelog_allow(r, peer, 1000 + (uint64_t)i / 100);
    }
    CHECK(allowed <= 1024 * 2);
    CHECK(allowed > 0);
    ratelog_destroy(&r);
}
