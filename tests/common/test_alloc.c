/* test_alloc.c - the heap wrappers and their fault-injection hook. */
#include "test.h"

#include "common/alloc.h"

#include <stdint.h>

TEST(alloc_basic)
{
    char *p = st_malloc(0), *q;
    CHECK(p != NULL);
    q = st_realloc(p, 100);
    REQUIRE(q != NULL);
    memset(q, 7, 100);
    st_free(q);
    p = st_calloc(10, 10);
    REQUIRE(p != NULL);
    CHECK(p[0] == 0 && p[99] == 0);
    st_free(p);
    st_free(NULL);
    CHECK(st_calloc(SIZE_MAX / 2, 4) == NULL);
    p = st_calloc(0, 5);
    CHECK(p != NULL);
    st_free(p);
}

TEST(alloc_fail_after_counts_and_disarms)
{
    void *a, *b, *c;

    alloc_fail_after(2);
    CHECK(alloc_fail_armed());
    a = st_malloc(8);
    b = st_calloc(1, 8);
    c = st_malloc(8); /* the third one fails */
    CHECK(a != NULL && b != NULL && c == NULL);
    CHECK(!alloc_fail_armed());
    c = st_malloc(8); /* one failure only */
    CHECK(c != NULL);
    st_free(a);
    st_free(b);
    st_free(c);
}

TEST(alloc_fail_realloc_keeps_block)
{
    char *p = st_malloc(4), *q;
    REQUIRE(p != NULL);
    memcpy(p, "abc", 4);
    alloc_fail_after(0);
    q = st_realloc(p, 1 << 20);
    CHECK(q == NULL);
    CHECK_STREQ(p, "abc");
    st_free(p);
}

TEST(alloc_fail_disarm)
{
    void *p;

    alloc_fail_after(0);
    alloc_fail_after(-1);
    CHECK(!alloc_fail_armed());
    p = st_malloc(1);
    CHECK(p != NULL);
    st_free(p);
}

TEST(alloc_grow_doubles_and_keeps_on_failure)
{
    int *a = NULL;
    size_t cap = 0;

    REQUIRE(st_grow((void **)&a, &cap, 0, sizeof *a));
    CHECK(cap == 64);
    a[0] = 7;
    CHECK(st_grow((void **)&a, &cap, 63, sizeof *a) && cap == 64); /* room already */
    alloc_fail_after(0);
    CHECK(!st_grow((void **)&a, &cap, 64, sizeof *a));
    CHECK(cap == 64 && a[0] == 7);
    REQUIRE(st_grow((void **)&a, &cap, 64, sizeof *a));
    CHECK(cap == 128 && a[0] == 7);
    size_t huge = SIZE_MAX / 2 + 1;
    CHECK(!st_grow((void **)&a, &huge, huge, sizeof *a)); /* the size overflows */
    st_free(a);
}
