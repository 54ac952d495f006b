/* test_buf.c - growable buffer on the heap and in an arena, with OOM. */
#include "test.h"

#include "common/alloc.h"
#include "common/buf.h"

#include <stdint.h>
#include <wchar.h>

TEST(buf_append_heap)
{
    buf_t b;
    buf_init(&b);
    CHECK(b.data == NULL && b.len == 0);
    for (int i = 0; i < 1000; i++)
        REQUIRE(buf_append(&b, "abc", 3) == ST_OK);
    CHECK_EQ_INT(b.len, 3000);
    CHECK(b.cap > b.len);
    CHECK(b.data[b.len] == 0);
    CHECK(memcmp(b.data + 2997, "abc", 3) == 0);
    CHECK(buf_append(&b, NULL, 0) == ST_OK);
    buf_reset(&b);
    CHECK(b.len == 0 && b.cap > 0 && b.data[0] == 0);
    buf_free(&b);
    CHECK(b.data == NULL && b.cap == 0);
    buf_free(&b);
}

TEST(buf_append_byte_and_printf)
{
    buf_t b;
    buf_init(&b);
    for (int i = 0; i < 200; i++)
        REQUIRE(buf_append_byte(&b, (uint8_t)('a' + i % 26)) == ST_OK);
    CHECK_EQ_INT(b.len, 200);
    buf_reset(&b);
    REQUIRE(buf_printf(&b, "%s:%d:%d: %s", "x.py", 3, 7, "F401") == ST_OK);
    CHECK_STREQ((char *)b.data, "x.py:3:7: F401");
    /* longer than the room left: formatted again after growing */
    char big[300];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = 0;
    REQUIRE(buf_printf(&b, "[%s]", big) == ST_OK);
    CHECK_EQ_INT(b.len, 14 + 301);
    CHECK(b.data[b.len - 1] == ']' && b.data[b.len] == 0);
    buf_free(&b);
}

TEST(buf_arena)
{
    arena_t *a = arena_new(1024);
    buf_t b;
    REQUIRE(a != NULL);
    buf_init_arena(&b, a);
    for (int i = 0; i < 5000; i++)
        REQUIRE(buf_printf(&b, "%d,", i % 10) == ST_OK);
    CHECK_EQ_INT(b.len, 10000);
    CHECK(memcmp(b.data, "0,1,2,", 6) == 0);
    CHECK(b.arena == a);
    /* growth in the arena resizes in place: little waste */
    CHECK(arena_reserved(a) < 3 * b.cap);
    buf_free(&b);
    CHECK(b.arena == a && b.data == NULL);
    arena_destroy(&a);
}

TEST(buf_arena_limit)
{
    arena_t *a = arena_new(1024);
    buf_t b;
    st_rc_t rc = ST_OK;
    REQUIRE(a != NULL);
    arena_set_limit(a, 8192);
    buf_init_arena(&b, a);
    for (int i = 0; i < 10000 && rc == ST_OK; i++)
        rc = buf_append(&b, "0123456789", 10);
    CHECK(rc == ST_ENOMEM);
    CHECK(b.len > 0 && b.len % 10 == 0 && b.data[b.len] == 0);
    arena_destroy(&a);
}

TEST(buf_overflow_limit)
{
    buf_t b;
    buf_init(&b);
    REQUIRE(buf_append(&b, "x", 1) == ST_OK);
    CHECK(buf_reserve(&b, SIZE_MAX) == ST_ELIMIT);
    CHECK(buf_reserve(&b, SIZE_MAX - 1) == ST_ELIMIT);
    CHECK(b.len == 1 && b.data[0] == 'x');
    buf_free(&b);
}

TEST(buf_oom_leaves_unchanged)
{
    buf_t b;
    uint8_t *old;
    size_t cap;
    buf_init(&b);
    alloc_fail_after(0);
    CHECK(buf_append(&b, "abc", 3) == ST_ENOMEM);
    CHECK(b.data == NULL && b.len == 0 && b.cap == 0);
    REQUIRE(buf_append(&b, "abc", 3) == ST_OK);
    old = b.data;
    cap = b.cap;
    char chunk[100];
    memset(chunk, 'q', sizeof chunk);
    alloc_fail_after(0);
    CHECK(buf_append(&b, chunk, sizeof chunk) == ST_ENOMEM);
    CHECK(b.data == old && b.cap == cap && b.len == 3);
    alloc_fail_after(0);
    CHECK(buf_printf(&b, "%100s", "x") == ST_ENOMEM);
    CHECK(b.len == 3 && b.data[3] == 0);
    CHECK_STREQ((char *)b.data, "abc");
    for (size_t i = b.len; i + 1 < b.cap; i++)
        REQUIRE(buf_append_byte(&b, 'x') == ST_OK);
    alloc_fail_after(0);
    CHECK(buf_append_byte(&b, 'y') == ST_ENOMEM);
    CHECK(b.len + 1 == b.cap);
    REQUIRE(buf_append_byte(&b, 'y') == ST_OK);
    buf_free(&b);
}

TEST(buf_printf_format_error)
{
    buf_t b;
    static const wchar_t bad[] = {0xD800, 0}; /* not encodable: vsnprintf fails */
    buf_init(&b);
    REQUIRE(buf_append(&b, "ok", 2) == ST_OK);
    CHECK(buf_printf(&b, "%ls", bad) == ST_EINVAL);
    CHECK_STREQ((char *)b.data, "ok");
    CHECK_EQ_INT(b.len, 2);
    buf_free(&b);
}
