/* test_arena.c - bump allocation, reset, limits, realloc and the pool. */
#include "test.h"

#include "common/alloc.h"
#include "common/arena.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

static int aligned(const void *p)
{
    return ((uintptr_t)p % ARENA_ALIGN) == 0;
}

/* Many random-size allocations: aligned, disjoint (each keeps its pattern). */
static void fill_and_check(arena_t *a, unsigned seed, int n)
{
    uint8_t *ptrs[512];
    size_t sizes[512];

    REQUIRE(n <= 512);
    srand(seed);
    for (int i = 0; i < n; i++) {
        sizes[i] = (size_t)(rand() % 700);
        ptrs[i] = arena_alloc(a, sizes[i]);
        REQUIRE(ptrs[i] != NULL);
        CHECK(aligned(ptrs[i]));
        memset(ptrs[i], i & 0xff, sizes[i]);
    }
    for (int i = 0; i < n; i++)
        for (size_t j = 0; j < sizes[i]; j++)
            if (ptrs[i][j] != (i & 0xff)) {
                CHECK(!"allocation overwritten");
                return;
            }
}

TEST(arena_alloc_aligned_disjoint)
{
    arena_t *a = arena_new(1024);
    REQUIRE(a != NULL);
    fill_and_check(a, 1, 500);
    CHECK(arena_used(a) > 0);
    CHECK(arena_reserved(a) >= arena_used(a));
    arena_destroy(&a);
    CHECK(a == NULL);
    arena_destroy(&a);
    arena_destroy(NULL);
}

TEST(arena_zero_size_unique)
{
    arena_t *a = arena_new(0);
    void *p, *q;
    REQUIRE(a != NULL);
    p = arena_alloc(a, 0);
    q = arena_alloc(a, 0);
    CHECK(p != NULL && q != NULL && p != q);
    arena_destroy(&a);
}

TEST(arena_reset_keeps_chunks)
{
    arena_t *a = arena_new(1024);
    size_t reserved;
    REQUIRE(a != NULL);
    for (int round = 0; round < 2; round++) { /* warm-up: a full chain */
        fill_and_check(a, 2, 300);
        arena_reset(a); /* frees the big allocations, keeps the chain */
    }
    reserved = arena_reserved(a);
    CHECK_EQ_INT(arena_used(a), 0);
    for (int round = 0; round < 3; round++) {
        fill_and_check(a, 2, 300); /* same pattern: fits in the kept chain */
        arena_reset(a);
    }
    CHECK_EQ_INT(arena_reserved(a), reserved);
    arena_destroy(&a);
}

TEST(arena_big_freed_at_reset)
{
    arena_t *a = arena_new(1024);
    size_t base;
    uint8_t *p;
    REQUIRE(a != NULL);
    REQUIRE(arena_alloc(a, 16) != NULL);
    base = arena_reserved(a);
    p = arena_alloc(a, 100000);
    REQUIRE(p != NULL);
    CHECK(aligned(p));
    memset(p, 1, 100000);
    CHECK(arena_reserved(a) >= base + 100000);
    arena_reset(a);
    CHECK_EQ_INT(arena_reserved(a), base);
    arena_destroy(&a);
}

TEST(arena_limit)
{
    arena_t *a = arena_new(1024);
    size_t got = 0;
    REQUIRE(a != NULL);
    arena_set_limit(a, 4000);
    while (arena_alloc(a, 100) != NULL)
        got += 100;
    CHECK(got >= 2000);
    CHECK(arena_reserved(a) <= 4000);
    CHECK(arena_alloc(a, 100000) == NULL);
    /* a failed allocation leaves the arena usable */
    arena_reset(a);
    CHECK(arena_alloc(a, 100) != NULL);
    arena_destroy(&a);
}

TEST(arena_limit_smaller_than_chunk)
{
    arena_t *a = arena_new(1 << 20);
    REQUIRE(a != NULL);
    arena_set_limit(a, 1000);
    CHECK(arena_alloc(a, 100) != NULL);
    CHECK(arena_reserved(a) <= 1000);
    CHECK(arena_alloc(a, 5000) == NULL);
    arena_destroy(&a);
}

TEST(arena_overflow)
{
    arena_t *a = arena_new(0);
    REQUIRE(a != NULL);
    CHECK(arena_alloc(a, SIZE_MAX) == NULL);
    CHECK(arena_alloc(a, SIZE_MAX - 8) == NULL);
    CHECK(arena_calloc(a, SIZE_MAX / 2, 4) == NULL);
    CHECK(arena_strndup(a, "x", SIZE_MAX) == NULL);
    CHECK(arena_alloc(a, 8) != NULL);
    arena_destroy(&a);
}

TEST(arena_calloc_strndup)
{
    arena_t *a = arena_new(0);
    uint32_t *z;
    char *s;
    REQUIRE(a != NULL);
    memset(arena_alloc(a, 256), 0xff, 256);
    arena_reset(a);
    z = arena_calloc(a, 64, sizeof *z);
    REQUIRE(z != NULL);
    for (int i = 0; i < 64; i++)
        CHECK(z[i] == 0);
    s = arena_strndup(a, "hello world", 5);
    CHECK_STREQ(s, "hello");
    arena_destroy(&a);
}

TEST(arena_realloc_in_place_and_copy)
{
    arena_t *a = arena_new(4096);
    char *p, *q, *r;
    REQUIRE(a != NULL);
    p = arena_alloc(a, 10);
    memcpy(p, "abcdefghi", 10);
    q = arena_realloc(a, p, 10, 200); /* last allocation: grows in place */
    CHECK(q == p);
    r = arena_alloc(a, 8);
    CHECK(r == p + 208);
    q = arena_realloc(a, p, 200, 300); /* no longer last: copies */
    REQUIRE(q != NULL);
    CHECK(q != p);
    CHECK_STREQ(q, "abcdefghi");
    CHECK(arena_realloc(a, q, 300, 50) == q); /* shrink in place */
    CHECK(arena_alloc(a, 8) == (void *)(q + 64));
    CHECK(arena_realloc(a, r, 8, 4) == r); /* shrink of an older one: same */
    p = arena_realloc(a, NULL, 0, 30);
    CHECK(p != NULL && aligned(p));
    arena_destroy(&a);
}

TEST(arena_realloc_grows_into_big)
{
    arena_t *a = arena_new(1024);
    uint8_t *p = NULL;
    size_t cap = 0, reserved_small;
    REQUIRE(a != NULL);
    for (size_t want = 16; want <= (1u << 20); want *= 2) {
        uint8_t *q = arena_realloc(a, p, cap, want);
        REQUIRE(q != NULL);
        for (size_t i = cap; i < want; i++)
            q[i] = (uint8_t)i;
        p = q;
        cap = want;
    }
    for (size_t i = 0; i < cap; i++)
        if (p[i] != (uint8_t)i) {
            CHECK(!"content lost in realloc");
            break;
        }
    /* the big allocation was resized, not copied: little waste */
    CHECK(arena_reserved(a) < cap + cap / 2 + 4096);
    arena_reset(a);
    reserved_small = arena_reserved(a);
    CHECK(reserved_small <= 4096);
    arena_destroy(&a);
}

TEST(arena_big_realloc_limit)
{
    arena_t *a = arena_new(1024);
    uint8_t *p;
    REQUIRE(a != NULL);
    arena_set_limit(a, 20000);
    p = arena_alloc(a, 5000);
    REQUIRE(p != NULL);
    p[4999] = 9;
    CHECK(arena_realloc(a, p, 5000, 30000) == NULL);
    CHECK(p[4999] == 9);
    p = arena_realloc(a, p, 5000, 10000);
    REQUIRE(p != NULL);
    CHECK(p[4999] == 9);
    arena_destroy(&a);
}

TEST(arena_oom)
{
    arena_t *a;
    alloc_fail_after(0);
    CHECK(arena_new(0) == NULL);
    a = arena_new(1024);
    REQUIRE(a != NULL);
    alloc_fail_after(0);
    CHECK(arena_alloc(a, 10) == NULL); /* first chunk */
    CHECK(arena_alloc(a, 10) != NULL);
    alloc_fail_after(0);
    CHECK(arena_alloc(a, 5000) == NULL); /* big chunk */
    fill_and_check(a, 3, 100);
    arena_destroy(&a);
}

TEST(arena_pool_reuse_and_stats)
{
    arena_pool_t *pool = arena_pool_new(1024, 0, 1);
    arena_pool_stats_t st;
    arena_t *a, *b;
    REQUIRE(pool != NULL);
    a = arena_pool_get(pool);
    b = arena_pool_get(pool);
    REQUIRE(a != NULL && b != NULL);
    REQUIRE(arena_alloc(a, 3000) != NULL);
    REQUIRE(arena_alloc(b, 100) != NULL);
    arena_pool_stats(pool, &st);
    CHECK_EQ_INT(st.gets, 2);
    CHECK_EQ_INT(st.reuses, 0);
    CHECK_EQ_INT(st.bytes_reserved, arena_reserved(a) + arena_reserved(b));
    arena_pool_put(pool, a);
    arena_pool_put(pool, b); /* beyond max_idle: freed */
    arena_pool_put(pool, NULL);
    arena_pool_stats(pool, &st);
    CHECK_EQ_INT(st.high_water, 3008);
    a = arena_pool_get(pool);
    REQUIRE(a != NULL);
    CHECK_EQ_INT(arena_used(a), 0);
    arena_pool_stats(pool, &st);
    CHECK_EQ_INT(st.gets, 3);
    CHECK_EQ_INT(st.reuses, 1);
    CHECK_EQ_INT(st.bytes_reserved, arena_reserved(a));
    arena_pool_put(pool, a);
    arena_pool_destroy(&pool);
    CHECK(pool == NULL);
    arena_pool_destroy(&pool);
}

TEST(arena_pool_limit_applies)
{
    arena_pool_t *pool = arena_pool_new(1024, 2048, 4);
    arena_t *a;
    REQUIRE(pool != NULL);
    a = arena_pool_get(pool);
    REQUIRE(a != NULL);
    CHECK(arena_alloc(a, 100000) == NULL);
    arena_pool_put(pool, a);
    arena_pool_destroy(&pool);
}

TEST(arena_pool_oom)
{
    arena_pool_t *pool;
    alloc_fail_after(0);
    CHECK(arena_pool_new(0, 0, 1) == NULL);
    pool = arena_pool_new(0, 0, 1);
    REQUIRE(pool != NULL);
    alloc_fail_after(0);
    CHECK(arena_pool_get(pool) == NULL);
    arena_pool_destroy(&pool);
}

static void *pool_worker(void *arg)
{
    arena_pool_t *pool = arg;
    for (int i = 0; i < 2000; i++) {
        arena_t *a = arena_pool_get(pool);
        if (a == NULL)
            return (void *)1;
        for (int j = 0; j < 20; j++)
            memset(arena_alloc(a, 64), j, 64);
        arena_pool_put(pool, a);
    }
    return NULL;
}

TEST(arena_pool_threads)
{
    arena_pool_t *pool = arena_pool_new(4096, 0, 2);
    pthread_t th[4];
    arena_pool_stats_t st;
    void *rv;
    REQUIRE(pool != NULL);
    for (int i = 0; i < 4; i++)
        REQUIRE(pthread_create(&th[i], NULL, pool_worker, pool) == 0);
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], &rv);
        CHECK(rv == NULL);
    }
    arena_pool_stats(pool, &st);
    CHECK_EQ_INT(st.gets, 8000);
    /* how many arenas were made depends on how the threads interleave
     * (at most max_idle=2 are kept); every get is a reuse or a creation */
    CHECK(st.reuses > 0 && st.reuses < st.gets);
    CHECK_EQ_INT(st.high_water, 20 * 64);
    CHECK(st.bytes_reserved <= 2 * (4096 + 64));
    arena_pool_destroy(&pool);
}
