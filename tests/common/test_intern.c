/* test_intern.c - interner: dense ids, both storage modes, limits, OOM. */
#include "test.h"

#include "common/alloc.h"
#include "common/intern.h"

#include <stdint.h>
#include <stdio.h>

static void name_of(int i, char *out, size_t cap)
{
    snprintf(out, cap, "ident_%d", i * 7919);
}

/* Adds n names, checks dense ids, round trips and lookups. */
static void fill_check(intern_t *in, int n)
{
    char name[32];
    uint32_t id;
    size_t len;

    for (int i = 0; i < n; i++) {
        name_of(i, name, sizeof name);
        REQUIRE(intern_get_or_add(in, name, strlen(name), &id) == ST_OK);
        CHECK_EQ_INT(id, i);
    }
    CHECK_EQ_INT(intern_count(in), n);
    for (int i = 0; i < n; i++) {
        name_of(i, name, sizeof name);
        REQUIRE(intern_get_or_add(in, name, strlen(name), &id) == ST_OK);
        CHECK_EQ_INT(id, i);
        CHECK_EQ_INT(intern_find(in, name, strlen(name)), i);
        CHECK_STREQ(intern_str(in, (uint32_t)i, &len), name);
        CHECK_EQ_INT(len, strlen(name));
    }
    CHECK_EQ_INT(intern_count(in), n);
}

TEST(intern_owned_basic)
{
    intern_t *in = intern_new();
    REQUIRE(in != NULL);
    fill_check(in, 100000);
    CHECK(intern_find(in, "absent", 6) == INTERN_NONE);
    CHECK(intern_str(in, 100000, NULL) == NULL);
    CHECK(intern_str(in, INTERN_NONE, NULL) == NULL);
    intern_destroy(&in);
    CHECK(in == NULL);
    intern_destroy(&in);
    intern_destroy(NULL);
}

TEST(intern_arena_basic)
{
    arena_t *a = arena_new(0);
    intern_t *in;
    REQUIRE(a != NULL);
    in = intern_new_arena(a);
    REQUIRE(in != NULL);
    fill_check(in, 20000);
    intern_destroy(&in); /* only forgets */
    CHECK(in == NULL);
    arena_reset(a);
    in = intern_new_arena(a); /* a fresh one in the same memory */
    REQUIRE(in != NULL);
    CHECK_EQ_INT(intern_count(in), 0);
    fill_check(in, 300);
    arena_destroy(&a);
}

TEST(intern_binary_and_empty)
{
    intern_t *in = intern_new();
    uint32_t a, b, c, d;
    size_t len;
    const char *s;
    REQUIRE(in != NULL);
    REQUIRE(intern_get_or_add(in, "", 0, &a) == ST_OK);
    REQUIRE(intern_get_or_add(in, "a\0b", 3, &b) == ST_OK);
    REQUIRE(intern_get_or_add(in, "a\0c", 3, &c) == ST_OK);
    REQUIRE(intern_get_or_add(in, "a", 1, &d) == ST_OK);
    CHECK(a == 0 && b == 1 && c == 2 && d == 3);
    CHECK_EQ_INT(intern_find(in, "", 0), 0);
    CHECK_EQ_INT(intern_find(in, "a\0c", 3), 2);
    s = intern_str(in, 1, &len);
    CHECK(len == 3 && memcmp(s, "a\0b", 4) == 0);
    s = intern_str(in, 0, &len);
    CHECK(len == 0 && s[0] == 0);
    intern_destroy(&in);
}

TEST(intern_too_long)
{
    intern_t *in = intern_new();
    uint32_t id = 77;
    REQUIRE(in != NULL);
    CHECK(intern_get_or_add(in, "x", (size_t)UINT32_MAX, &id) == ST_ELIMIT);
    CHECK(intern_find(in, "x", (size_t)UINT32_MAX) == INTERN_NONE);
    CHECK_EQ_INT(id, 77);
    CHECK_EQ_INT(intern_count(in), 0);
    intern_destroy(&in);
}

TEST(intern_new_oom)
{
    intern_t *in;
    arena_t *a;
    for (long k = 0; k < 4; k++) {
        alloc_fail_after(k);
        in = intern_new();
        CHECK(in == NULL);
    }
    alloc_fail_after(-1);
    a = arena_new(0);
    REQUIRE(a != NULL);
    alloc_fail_after(0); /* the arena's first chunk */
    CHECK(intern_new_arena(a) == NULL);
    arena_destroy(&a);
}

/* Every allocation of a growth made to fail in turn: each failure is
 * ST_ENOMEM with the interner unchanged, and it goes on working after. */
TEST(intern_oom_growth_unchanged)
{
    intern_t *in = intern_new();
    char name[32];
    uint32_t id;
    int n = 0, failures = 0;
    REQUIRE(in != NULL);
    /* for each name, fail its 1st, 2nd, ... allocation until it succeeds */
    for (long k = 0; n < 5000; k++) {
        st_rc_t rc;
        name_of(n, name, sizeof name);
        id = 12345;
        alloc_fail_after(k);
        rc = intern_get_or_add(in, name, strlen(name), &id);
        alloc_fail_after(-1);
        if (rc == ST_ENOMEM) {
            failures++;
            CHECK_EQ_INT(id, 12345);
            CHECK_EQ_INT(intern_count(in), n);
            CHECK(intern_find(in, name, strlen(name)) == INTERN_NONE);
            continue;
        }
        REQUIRE(rc == ST_OK);
        CHECK_EQ_INT(id, n);
        n++;
        k = -1;
    }
    CHECK(failures > 10);
    fill_check(in, 5000);
    intern_destroy(&in);
}

TEST(intern_arena_exhausted_unchanged)
{
    arena_t *a = arena_new(4096);
    intern_t *in;
    char name[32];
    uint32_t id;
    st_rc_t rc = ST_OK;
    int n = 0;
    REQUIRE(a != NULL);
    arena_set_limit(a, 64 * 1024);
    in = intern_new_arena(a);
    REQUIRE(in != NULL);
    while (rc == ST_OK) {
        name_of(n, name, sizeof name);
        rc = intern_get_or_add(in, name, strlen(name), &id);
        n += rc == ST_OK;
    }
    CHECK(rc == ST_ENOMEM);
    CHECK_EQ_INT(intern_count(in), n);
    for (int i = 0; i < n; i++) {
        name_of(i, name, sizeof name);
        CHECK_EQ_INT(intern_find(in, name, strlen(name)), i);
    }
    arena_destroy(&a);
}
