/* test_mpbuf.c - the msgpack writer into a buf_t: bytes as msgpack-c packs
 * them, read back with mpread; a failed write sticks. */
#include "test.h"

#include "common/arena.h"
#include "common/mpbuf.h"
#include "common/mpread.h"

#include <string.h>

TEST(mpbuf_round_trip)
{
    buf_t b;
    mpbuf_t w;
    mpread_t r;
    const char *s;
    const uint8_t *bin;
    uint32_t n, len;
    bool flag;
    uint64_t v;

    buf_init(&b);
    mpbuf_init(&w, &b);
    CHECK(msgpack_pack_array(&w.pk, 5) == 0);
    CHECK(mpbuf_cstr(&w.pk, "name") == 0);
    CHECK(mpbuf_str(&w.pk, "abcdef", 3) == 0);
    CHECK(mpbuf_bin(&w.pk, "\x01\x02", 2) == 0);
    CHECK(mpbuf_bool(&w.pk, true) == 0);
    CHECK(mpbuf_raw(&w, "\x2a", 1) == 0); /* fixint 42, already msgpack */
    REQUIRE(mpbuf_status(&w) == ST_OK);
    mpread_init(&r, b.data, b.len);
    REQUIRE(mpread_array(&r, &n) == ST_OK && n == 5);
    REQUIRE(mpread_str(&r, &s, &len) == ST_OK && len == 4 && memcmp(s, "name", 4) == 0);
    REQUIRE(mpread_str(&r, &s, &len) == ST_OK && len == 3 && memcmp(s, "abc", 3) == 0);
    REQUIRE(mpread_bin(&r, &bin, &len) == ST_OK && len == 2 && bin[1] == 2);
    REQUIRE(mpread_bool(&r, &flag) == ST_OK && flag);
    REQUIRE(mpread_uint(&r, &v) == ST_OK && v == 42);
    CHECK(r.pos == b.len);
    buf_free(&b);
}

TEST(mpbuf_appends_after_existing_bytes)
{
    buf_t b;
    mpbuf_t w;

    buf_init(&b);
    REQUIRE(buf_append(&b, "xy", 2) == ST_OK);
    mpbuf_init(&w, &b);
    CHECK(msgpack_pack_nil(&w.pk) == 0);
    CHECK(b.len == 3 && memcmp(b.data, "xy\xc0", 3) == 0);
    buf_free(&b);
}

TEST(mpbuf_failure_sticks)
{
    arena_t *a = arena_new(256);
    buf_t b;
    mpbuf_t w;
    static char big[8192];
    size_t len;

    REQUIRE(a != NULL);
    arena_set_limit(a, 4096);
    buf_init_arena(&b, a);
    mpbuf_init(&w, &b);
    CHECK(mpbuf_cstr(&w.pk, "ok") == 0);
    len = b.len;
    CHECK(mpbuf_bin(&w.pk, big, sizeof big) != 0); /* past the arena's limit */
    CHECK(mpbuf_status(&w) == ST_ENOMEM);
    /* a small write that would fit fails too: no document with a hole */
    CHECK(mpbuf_cstr(&w.pk, "x") != 0);
    CHECK(mpbuf_raw(&w, "\xc0", 1) != 0);
    CHECK(b.len <= len + 5); /* at most the bin's header got in */
    CHECK(mpbuf_status(&w) == ST_ENOMEM);
    arena_destroy(&a);
}

TEST(mpbuf_bare_packer_appends)
{
    buf_t b;
    msgpack_packer pk;
    mpread_t r;
    const char *s;
    uint32_t len;

    buf_init(&b);
    mpbuf_packer(&pk, &b);
    CHECK(mpbuf_cstr(&pk, "hello") == 0);
    mpread_init(&r, b.data, b.len);
    REQUIRE(mpread_str(&r, &s, &len) == ST_OK && len == 5 && memcmp(s, "hello", 5) == 0);
    buf_free(&b);
}
