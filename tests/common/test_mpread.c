/* test_mpread.c - the allocation-free msgpack reader: every type it reads,
 * and every way hostile bytes can lie (truncation, wrong type, counts and
 * lengths larger than the input, nesting bombs) refused with the position
 * left where it was. */
#include "test.h"

#include "common/mpread.h"

#include <msgpack.h>
#include <stdlib.h>

/* Packs a sample document with msgpack-c, the writer strata uses. */
static msgpack_sbuffer sample(void)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;

    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 3);
    msgpack_pack_str(&pk, 1);
    msgpack_pack_str_body(&pk, "v", 1);
    msgpack_pack_uint64(&pk, 1ull << 40);
    msgpack_pack_str(&pk, 3);
    msgpack_pack_str_body(&pk, "neg", 3);
    msgpack_pack_int32(&pk, -70000);
    msgpack_pack_str(&pk, 4);
    msgpack_pack_str_body(&pk, "list", 4);
    msgpack_pack_array(&pk, 4);
    msgpack_pack_nil(&pk);
    msgpack_pack_true(&pk);
    msgpack_pack_bin(&pk, 2);
    msgpack_pack_bin_body(&pk, "\x01\x02", 2);
    msgpack_pack_double(&pk, 1.5);
    return sb;
}

TEST(mpread_reads_what_msgpack_c_writes)
{
    msgpack_sbuffer sb = sample();
    mpread_t r;
    uint32_t n, len;
    uint64_t u;
    int64_t i;
    bool b;
    const uint8_t *bin;

    mpread_init(&r, sb.data, sb.size);
    REQUIRE(mpread_map(&r, &n) == ST_OK);
    CHECK_EQ_INT(n, 3);
    CHECK(mpread_key(&r, "v"));
    REQUIRE(mpread_uint(&r, &u) == ST_OK);
    CHECK(u == 1ull << 40);
    CHECK(!mpread_key(&r, "nope"));
    CHECK(mpread_key(&r, "neg"));
    REQUIRE(mpread_int(&r, &i) == ST_OK);
    CHECK_EQ_INT(i, -70000);
    CHECK(mpread_key(&r, "list"));
    REQUIRE(mpread_array(&r, &n) == ST_OK);
    CHECK_EQ_INT(n, 4);
    CHECK(mpread_nil(&r));
    REQUIRE(mpread_bool(&r, &b) == ST_OK);
    CHECK(b);
    REQUIRE(mpread_bin(&r, &bin, &len) == ST_OK);
    CHECK(len == 2 && bin[1] == 2);
    CHECK(mpread_skip(&r) == ST_OK); /* the double */
    CHECK(r.pos == sb.size);
    msgpack_sbuffer_destroy(&sb);
}

TEST(mpread_skip_walks_whole_documents)
{
    msgpack_sbuffer sb = sample();
    mpread_t r;

    mpread_init(&r, sb.data, sb.size);
    CHECK(mpread_skip(&r) == ST_OK);
    CHECK(r.pos == sb.size);
    msgpack_sbuffer_destroy(&sb);
}

TEST(mpread_every_truncation_is_refused)
{
    msgpack_sbuffer sb = sample();

    for (size_t cut = 0; cut < sb.size; cut++) {
        mpread_t r;
        mpread_init(&r, sb.data, cut);
        CHECK(mpread_skip(&r) == ST_ECORRUPT);
        CHECK(r.pos == 0);
    }
    msgpack_sbuffer_destroy(&sb);
}

TEST(mpread_wrong_type_leaves_position)
{
    const uint8_t nil[] = {0xc0};
    mpread_t r;
    uint32_t n;
    uint64_t u;
    const char *s;

    mpread_init(&r, nil, sizeof nil);
    CHECK(mpread_map(&r, &n) == ST_ECORRUPT);
    CHECK(mpread_array(&r, &n) == ST_ECORRUPT);
    CHECK(mpread_uint(&r, &u) == ST_ECORRUPT);
    CHECK(mpread_str(&r, &s, &n) == ST_ECORRUPT);
    CHECK(r.pos == 0);
}

TEST(mpread_refuses_counts_larger_than_the_input)
{
    /* array32 and map32 claiming four billion entries in 5 bytes */
    const uint8_t arr[] = {0xdd, 0xff, 0xff, 0xff, 0xff};
    const uint8_t map[] = {0xdf, 0xff, 0xff, 0xff, 0xff};
    const uint8_t str[] = {0xdb, 0x7f, 0xff, 0xff, 0xff, 'a'};
    const uint8_t neg[] = {0xff}; /* -1 is not a uint */
    mpread_t r;
    uint32_t n;
    uint64_t u;
    const char *s;

    mpread_init(&r, arr, sizeof arr);
    CHECK(mpread_array(&r, &n) == ST_ECORRUPT);
    mpread_init(&r, map, sizeof map);
    CHECK(mpread_map(&r, &n) == ST_ECORRUPT);
    mpread_init(&r, str, sizeof str);
    CHECK(mpread_str(&r, &s, &n) == ST_ECORRUPT);
    mpread_init(&r, neg, sizeof neg);
    CHECK(mpread_uint(&r, &u) == ST_ECORRUPT);
    CHECK(r.pos == 0);
}

TEST(mpread_nesting_bomb_is_refused)
{
    uint8_t bomb[4096];
    mpread_t r;

    for (size_t i = 0; i < sizeof bomb; i++)
        bomb[i] = 0x91; /* fixarray of one element, nested */
    mpread_init(&r, bomb, sizeof bomb);
    CHECK(mpread_skip(&r) == ST_ECORRUPT);
    CHECK(r.pos == 0);
}

TEST(mpread_ext_types_are_refused)
{
    const uint8_t ext[] = {0xd4, 0x01, 0x02};
    mpread_t r;

    mpread_init(&r, ext, sizeof ext);
    CHECK(mpread_skip(&r) == ST_ECORRUPT);
}

TEST(mpread_u32_and_array_min)
{
    /* 0xce 4294967295, 0xcf 2^32, then [1, 2, 3] */
    static const uint8_t doc[] = {0xce, 0xff, 0xff, 0xff, 0xff, 0xcf, 0, 0, 0,
                                  1,    0,    0,    0,    0,    0x93, 1, 2, 3};
    mpread_t r;
    uint32_t v, n;

    mpread_init(&r, doc, sizeof doc);
    REQUIRE(mpread_u32(&r, &v) == ST_OK && v == UINT32_MAX && r.pos == 5);
    CHECK(mpread_u32(&r, &v) == ST_ECORRUPT && r.pos == 5); /* 2^32: left where it was */
    r.pos = 14;
    CHECK(mpread_array_min(&r, 2, &n) == ST_ECORRUPT && r.pos == 14); /* 3 x 2 > 3 bytes */
    REQUIRE(mpread_array_min(&r, 1, &n) == ST_OK && n == 3 && r.pos == 15);
    CHECK(mpread_u32(&r, &v) == ST_OK && v == 1);
}
