/* test_digest.c - SHA-256 against the FIPS 180-2 vectors, streaming, hex. */
#include "test.h"

#include "common/alloc.h"
#include "common/digest.h"

#include <stdlib.h>

static const char *EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
static const char *ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
static const char *MILLION_A = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
static const char *TWO_BLOCK = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";

static void check_hex(const digest_t *d, const char *want)
{
    char hex[DIGEST_HEX_LEN + 1];
    digest_to_hex(d, hex);
    CHECK_STREQ(hex, want);
}

TEST(digest_vectors)
{
    digest_t d;
    char *a = malloc(1000000);
    REQUIRE(a != NULL);
    REQUIRE(digest_sha256(NULL, 0, &d) == ST_OK);
    check_hex(&d, EMPTY);
    REQUIRE(digest_sha256("abc", 3, &d) == ST_OK);
    check_hex(&d, ABC);
    REQUIRE(digest_sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, &d) ==
            ST_OK);
    check_hex(&d, TWO_BLOCK);
    memset(a, 'a', 1000000);
    REQUIRE(digest_sha256(a, 1000000, &d) == ST_OK);
    check_hex(&d, MILLION_A);
    free(a);
}

TEST(digest_streaming)
{
    digest_ctx_t *ctx = digest_ctx_new();
    digest_t d, one;
    char a[1000];
    REQUIRE(ctx != NULL);
    memset(a, 'a', sizeof a);
    for (int i = 0; i < 1000; i++)
        REQUIRE(digest_ctx_update(ctx, a, sizeof a) == ST_OK);
    REQUIRE(digest_ctx_final(ctx, &d) == ST_OK);
    check_hex(&d, MILLION_A);
    /* reset by final: a new message; pieces of odd sizes */
    REQUIRE(digest_ctx_update(ctx, "a", 1) == ST_OK);
    REQUIRE(digest_ctx_update(ctx, NULL, 0) == ST_OK);
    REQUIRE(digest_ctx_update(ctx, "bc", 2) == ST_OK);
    REQUIRE(digest_ctx_final(ctx, &d) == ST_OK);
    check_hex(&d, ABC);
    REQUIRE(digest_ctx_final(ctx, &d) == ST_OK);
    check_hex(&d, EMPTY);
    REQUIRE(digest_sha256("abc", 3, &one) == ST_OK);
    REQUIRE(digest_sha256("abc", 3, &d) == ST_OK);
    CHECK(digest_eq(&d, &one));
    d.b[31] ^= 1;
    CHECK(!digest_eq(&d, &one));
    digest_ctx_destroy(&ctx);
    CHECK(ctx == NULL);
    digest_ctx_destroy(&ctx);
    digest_ctx_destroy(NULL);
}

TEST(digest_hex_round_trip)
{
    digest_t d, e;
    char hex[DIGEST_HEX_LEN + 1];
    for (int i = 0; i < 32; i++)
        d.b[i] = (uint8_t)(i * 37 + 5);
    digest_to_hex(&d, hex);
    CHECK_EQ_INT(strlen(hex), 64);
    REQUIRE(digest_from_hex(hex, 64, &e) == ST_OK);
    CHECK(digest_eq(&d, &e));
    REQUIRE(digest_from_hex("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD", 64,
                            &e) == ST_OK);
    REQUIRE(digest_sha256("abc", 3, &d) == ST_OK);
    CHECK(digest_eq(&d, &e));
}

TEST(digest_hex_value)
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        CHECK_EQ_INT(digest_hex_value(digits[i]), i);
        if (i >= 10)
            CHECK_EQ_INT(digest_hex_value((char)(digits[i] - 'a' + 'A')), i);
    }
    /* the neighbours of each range, and what is not ASCII */
    const char bad[] = {'/', ':', '@', 'G', '`', 'g', ' ', 'x', '\0', (char)0xff};
    for (size_t i = 0; i < sizeof bad; i++)
        CHECK_EQ_INT(digest_hex_value(bad[i]), -1);
}

TEST(digest_errors)
{
    digest_t d, keep;
    char bad[65];
    digest_ctx_t *ctx;
    memset(&keep, 0x5a, sizeof keep);
    d = keep;
    CHECK(digest_sha256(NULL, 1, &d) == ST_EINVAL);
    CHECK(digest_from_hex(EMPTY, 63, &d) == ST_EINVAL);
    CHECK(digest_from_hex(EMPTY, 65, &d) == ST_EINVAL);
    memcpy(bad, EMPTY, 65);
    bad[40] = 'g';
    CHECK(digest_from_hex(bad, 64, &d) == ST_EINVAL);
    bad[40] = ' ';
    CHECK(digest_from_hex(bad, 64, &d) == ST_EINVAL);
    CHECK(digest_eq(&d, &keep));
    alloc_fail_after(0);
    CHECK(digest_ctx_new() == NULL);
    ctx = digest_ctx_new();
    REQUIRE(ctx != NULL);
    CHECK(digest_ctx_update(ctx, NULL, 5) == ST_EINVAL);
    digest_ctx_destroy(&ctx);
}
