/* test_hmap.c - hash map against a reference model, both key kinds, both
 * storage modes, iteration, errors and OOM. */
#include "test.h"

#include "common/alloc.h"
#include "common/hmap.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define NKEYS 3000

/* Key i as bytes: its decimal digits padded with letters, 1 to 15 bytes, so
 * both inline (<= 8) and copied keys occur; distinct for distinct i. */
static size_t key_of(int i, char *out)
{
    int len = snprintf(out, 16, "%d", i), pad = i % 12;
    for (int j = 0; j < pad; j++)
        out[len + j] = (char)('a' + (i + j) % 26);
    return (size_t)(len + pad);
}

/* Random puts and removes checked against a plain array. */
static void random_ops(hmap_t *m, bool bytes, unsigned seed)
{
    static int64_t model[NKEYS]; /* -1: absent */
    char k[32];
    uint64_t v;
    size_t present = 0;

    srand(seed);
    for (int i = 0; i < NKEYS; i++)
        model[i] = -1;
    for (int op = 0; op < 60000; op++) {
        int i = rand() % NKEYS, kind = rand() % 3;
        size_t len = bytes ? key_of(i, k) : 0;
        st_rc_t rc;
        if (kind < 2) {
            v = (uint64_t)rand();
            rc = bytes ? hmap_put(m, k, len, v) : hmap_put_u64(m, (uint64_t)i * 0x10001, v);
            REQUIRE(rc == ST_OK);
            present += model[i] < 0;
            model[i] = (int64_t)v;
        } else {
            rc = bytes ? hmap_remove(m, k, len) : hmap_remove_u64(m, (uint64_t)i * 0x10001);
            CHECK(rc == (model[i] >= 0 ? ST_OK : ST_ENOENT));
            present -= model[i] >= 0;
            model[i] = -1;
        }
    }
    CHECK_EQ_INT(hmap_count(m), present);
    for (int i = 0; i < NKEYS; i++) {
        size_t len = bytes ? key_of(i, k) : 0;
        st_rc_t rc = bytes ? hmap_get(m, k, len, &v) : hmap_get_u64(m, (uint64_t)i * 0x10001, &v);
        if (model[i] < 0) {
            CHECK(rc == ST_ENOENT);
        } else {
            REQUIRE(rc == ST_OK);
            CHECK(v == (uint64_t)model[i]);
        }
    }
}

TEST(hmap_bytes_model)
{
    hmap_t *m = hmap_new(HMAP_BYTES);
    REQUIRE(m != NULL);
    random_ops(m, true, 11);
    hmap_destroy(&m);
    CHECK(m == NULL);
    hmap_destroy(&m);
    hmap_destroy(NULL);
}

TEST(hmap_u64_model)
{
    hmap_t *m = hmap_new(HMAP_U64);
    REQUIRE(m != NULL);
    random_ops(m, false, 12);
    hmap_destroy(&m);
}

TEST(hmap_arena_model)
{
    arena_t *a = arena_new(0);
    hmap_t *m;
    REQUIRE(a != NULL);
    m = hmap_new_arena(a, HMAP_BYTES);
    REQUIRE(m != NULL);
    random_ops(m, true, 13);
    hmap_destroy(&m);
    CHECK(m == NULL);
    m = hmap_new_arena(a, HMAP_U64);
    REQUIRE(m != NULL);
    random_ops(m, false, 14);
    arena_destroy(&a);
}

TEST(hmap_iterate_each_once)
{
    hmap_t *m = hmap_new(HMAP_BYTES), *u = hmap_new(HMAP_U64);
    static uint8_t seen[1000];
    hmap_iter_t it = HMAP_ITER_INIT;
    char k[32];
    int n = 0;
    REQUIRE(m != NULL && u != NULL);
    for (int i = 0; i < 1000; i++) {
        int len = snprintf(k, sizeof k, "module.%d", i);
        REQUIRE(hmap_put(m, k, (size_t)len, (uint64_t)i) == ST_OK);
        REQUIRE(hmap_put_u64(u, (uint64_t)i << 40, (uint64_t)i) == ST_OK);
    }
    memset(seen, 0, sizeof seen);
    while (hmap_next(m, &it)) {
        int len = snprintf(k, sizeof k, "module.%d", (int)it.val);
        REQUIRE(it.val < 1000);
        CHECK(it.key.len == (size_t)len && memcmp(it.key.ptr, k, it.key.len) == 0);
        seen[it.val]++;
        n++;
    }
    CHECK_EQ_INT(n, 1000);
    CHECK(!hmap_next(m, &it));
    for (int i = 0; i < 1000; i++)
        CHECK(seen[i] == 1);
    it = (hmap_iter_t)HMAP_ITER_INIT;
    n = 0;
    while (hmap_next(u, &it)) {
        CHECK(it.key_u64 == it.val << 40);
        n++;
    }
    CHECK_EQ_INT(n, 1000);
    hmap_destroy(&m);
    hmap_destroy(&u);
}

TEST(hmap_errors)
{
    hmap_t *m = hmap_new(HMAP_BYTES), *u = hmap_new(HMAP_U64);
    uint64_t v = 5;
    REQUIRE(m != NULL && u != NULL);
    CHECK(hmap_new((hmap_kind_t)7) == NULL);
    CHECK(hmap_put_u64(m, 1, 1) == ST_EINVAL);
    CHECK(hmap_get_u64(m, 1, &v) == ST_EINVAL);
    CHECK(hmap_remove_u64(m, 1) == ST_EINVAL);
    CHECK(hmap_put(u, "a", 1, 1) == ST_EINVAL);
    CHECK(hmap_get(u, "a", 1, &v) == ST_EINVAL);
    CHECK(hmap_remove(u, "a", 1) == ST_EINVAL);
    CHECK(hmap_put(m, "a", (size_t)UINT32_MAX, 1) == ST_ELIMIT);
    CHECK(hmap_get(m, "a", (size_t)UINT32_MAX, &v) == ST_ENOENT);
    CHECK(hmap_remove(m, "a", (size_t)UINT32_MAX) == ST_ENOENT);
    CHECK(hmap_get(m, "a", 1, &v) == ST_ENOENT);
    CHECK(hmap_remove(m, "a", 1) == ST_ENOENT);
    CHECK(v == 5);
    REQUIRE(hmap_put(m, "a", 1, 9) == ST_OK);
    CHECK(hmap_get(m, "a", 1, NULL) == ST_OK);
    REQUIRE(hmap_put(m, "a", 1, 10) == ST_OK); /* replace */
    CHECK(hmap_get(m, "a", 1, &v) == ST_OK && v == 10);
    CHECK_EQ_INT(hmap_count(m), 1);
    CHECK_EQ_INT(hmap_count(u), 0);
    hmap_destroy(&m);
    hmap_destroy(&u);
}

TEST(hmap_new_oom)
{
    arena_t *a;
    alloc_fail_after(0);
    CHECK(hmap_new(HMAP_U64) == NULL);
    alloc_fail_after(1);
    CHECK(hmap_new(HMAP_U64) == NULL);
    alloc_fail_after(-1);
    a = arena_new(0);
    REQUIRE(a != NULL);
    alloc_fail_after(0);
    CHECK(hmap_new_arena(a, HMAP_BYTES) == NULL);
    CHECK(hmap_new_arena(a, (hmap_kind_t)9) == NULL);
    arena_destroy(&a);
}

/* Fails the 1st, 2nd... allocation of each put until it passes: each
 * failure is ST_ENOMEM with the map unchanged. */
TEST(hmap_oom_unchanged)
{
    hmap_t *m = hmap_new(HMAP_BYTES);
    char k[64];
    int n = 0, failures = 0;
    REQUIRE(m != NULL);
    for (long f = 0; n < 2000; f++) {
        int len = snprintf(k, sizeof k, "a.rather.long.module.name.%d", n);
        st_rc_t rc;
        alloc_fail_after(f);
        rc = hmap_put(m, k, (size_t)len, (uint64_t)n);
        alloc_fail_after(-1);
        if (rc == ST_ENOMEM) {
            failures++;
            CHECK_EQ_INT(hmap_count(m), n);
            CHECK(hmap_get(m, k, (size_t)len, NULL) == ST_ENOENT);
            continue;
        }
        REQUIRE(rc == ST_OK);
        n++;
        f = -1;
    }
    CHECK(failures > 2000); /* every key copy, plus every growth */
    for (int i = 0; i < n; i++) {
        uint64_t v;
        int len = snprintf(k, sizeof k, "a.rather.long.module.name.%d", i);
        CHECK(hmap_get(m, k, (size_t)len, &v) == ST_OK && v == (uint64_t)i);
    }
    hmap_destroy(&m);
}

TEST(hmap_remove_all_then_reuse)
{
    hmap_t *m = hmap_new(HMAP_U64);
    hmap_iter_t it = HMAP_ITER_INIT;
    REQUIRE(m != NULL);
    for (uint64_t i = 0; i < 5000; i++)
        REQUIRE(hmap_put_u64(m, i, i * 2) == ST_OK);
    for (uint64_t i = 0; i < 5000; i++)
        CHECK(hmap_remove_u64(m, i) == ST_OK);
    CHECK_EQ_INT(hmap_count(m), 0);
    CHECK(!hmap_next(m, &it));
    for (uint64_t i = 0; i < 100; i++)
        REQUIRE(hmap_put_u64(m, i + 7, i) == ST_OK);
    for (uint64_t i = 0; i < 100; i++) {
        uint64_t v;
        CHECK(hmap_get_u64(m, i + 7, &v) == ST_OK && v == i);
    }
    hmap_destroy(&m);
}
