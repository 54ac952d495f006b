/* test_mpdiag.c - the diagnostic array [line, col, code, message]: what
 * mpdiag_pack writes mpdiag_read gives back; every malformed form refused. */
#include "test.h"

#include "common/mpbuf.h"
#include "common/mpdiag.h"

#include <string.h>

TEST(mpdiag_round_trip)
{
    buf_t b;
    msgpack_packer pk;
    mpread_t r;
    mpdiag_t d = {12, 7, "E0401", 5, "Unable to import 'x'", 20}, got;

    buf_init(&b);
    mpbuf_packer(&pk, &b);
    REQUIRE(mpdiag_pack(&pk, &d) == 0);
    REQUIRE(mpdiag_pack_cstr(&pk, 4000000000u, 1, "F401", "'os' imported but unused") == 0);
    mpread_init(&r, b.data, b.len);
    REQUIRE(mpdiag_read(&r, &got) == ST_OK);
    CHECK(got.line == 12 && got.col == 7);
    CHECK(got.code_len == 5 && memcmp(got.code, "E0401", 5) == 0);
    CHECK(got.message_len == 20 && memcmp(got.message, d.message, 20) == 0);
    REQUIRE(mpdiag_read(&r, &got) == ST_OK);
    CHECK(got.line == 4000000000u && got.col == 1 && got.code_len == 4);
    CHECK(r.pos == b.len);
    buf_free(&b);
}

/* Packs a 4-element array from the parts given, then reads it. */
static st_rc_t read_one(uint64_t line, const char *code, size_t code_len, const char *msg,
                        size_t msg_len, uint32_t n)
{
    buf_t b;
    msgpack_packer pk;
    mpread_t r;
    mpdiag_t d = {0};
    st_rc_t rc;

    buf_init(&b);
    mpbuf_packer(&pk, &b);
    msgpack_pack_array(&pk, n);
    msgpack_pack_uint64(&pk, line);
    msgpack_pack_uint32(&pk, 1);
    mpbuf_str(&pk, code, code_len);
    mpbuf_str(&pk, msg, msg_len);
    mpread_init(&r, b.data, b.len);
    rc = mpdiag_read(&r, &d);
    if (rc != ST_OK)
        CHECK(d.code == NULL); /* nothing returned */
    buf_free(&b);
    return rc;
}

TEST(mpdiag_read_refuses_malformed)
{
    static char big[MPDIAG_MAX_MESSAGE + 1];

    memset(big, 'x', sizeof big);
    CHECK(read_one(1, "F401", 4, "m", 1, 4) == ST_OK);
    CHECK(read_one(1, "F401", 4, "m", 1, 5) == ST_ECORRUPT);          /* five elements */
    CHECK(read_one(1ull << 32, "F401", 4, "m", 1, 4) == ST_ECORRUPT); /* line past uint32 */
    CHECK(read_one(1, "", 0, "m", 1, 4) == ST_ECORRUPT);              /* no code */
    CHECK(read_one(1, big, MPDIAG_MAX_CODE, "m", 1, 4) == ST_OK);
    CHECK(read_one(1, big, MPDIAG_MAX_CODE + 1, "m", 1, 4) == ST_ECORRUPT);
    CHECK(read_one(1, "F401", 4, big, MPDIAG_MAX_MESSAGE, 4) == ST_OK);
    CHECK(read_one(1, "F401", 4, big, MPDIAG_MAX_MESSAGE + 1, 4) == ST_ECORRUPT);
    CHECK(read_one(1, "F4\0", 3, "m", 1, 4) == ST_ECORRUPT);    /* a NUL in the code */
    CHECK(read_one(1, "F401", 4, "a\0b", 3, 4) == ST_ECORRUPT); /* ... in the message */
}
