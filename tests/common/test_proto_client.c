/* test_proto_client.c - the client messages (SUBMIT, NEED, UPLOAD,
 * PROGRESS, DONE): each round-trips, and truncations, corruptions, huge
 * counts and the other protocol's messages are refused without a crash. */
#include "test.h"

#include "common/proto.h"
#include "common/proto_client.h"

#include <msgpack.h>
#include <string.h>

static int str_is(proto_str_t s, const char *want)
{
    return s.len == strlen(want) && memcmp(s.ptr, want, s.len) == 0;
}

static proto_str_t str(const char *s)
{
    return (proto_str_t){.ptr = s, .len = (uint32_t)strlen(s)};
}

static void make_submit(buf_t *b)
{
    static const uint8_t dg[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    proto_file_t files[3] = {
        {.path = str("pkg/__init__.py"), .kind = 2, .digest = dg, .size = 10},
        {.path = str("pkg/mod.py"), .kind = 0, .digest = NULL, .size = 7},
        {.path = str("pkg/ext.so"), .kind = PROTO_KIND_EXTENSION, .digest = NULL, .size = 0},
    };
    const char *roots[] = {"src"};
    const char *args[] = {"pkg", "other"};

    buf_reset(b);
    REQUIRE(proto_encode_submit(b, files, 3, roots, 1, args, 2, 12345) == ST_OK);
}

TEST(proto_client_submit_round_trips)
{
    proto_msg_t m;
    proto_file_t f;
    proto_str_t s;
    buf_t b;
    st_err_t err = {0};

    buf_init(&b);
    make_submit(&b);
    REQUIRE(proto_decode_client(b.data, b.len, &m, &err) == ST_OK);
    CHECK(m.type == PROTO_SUBMIT && m.count == 3 && m.max_file_bytes == 12345);
    REQUIRE(proto_next_file(&m, &f));
    CHECK(str_is(f.path, "pkg/__init__.py") && f.kind == 2 && f.digest != NULL &&
          f.digest[9] == 10 && f.size == 10);
    REQUIRE(proto_next_file(&m, &f));
    CHECK(str_is(f.path, "pkg/mod.py") && f.kind == 0 && f.digest == NULL && f.size == 7);
    REQUIRE(proto_next_file(&m, &f));
    CHECK(f.kind == PROTO_KIND_EXTENSION);
    CHECK(!proto_next_file(&m, &f));
    REQUIRE(proto_next_root(&m, &s));
    CHECK(str_is(s, "src"));
    CHECK(!proto_next_root(&m, &s));
    REQUIRE(proto_next_arg(&m, &s));
    CHECK(str_is(s, "pkg"));
    REQUIRE(proto_next_arg(&m, &s));
    CHECK(str_is(s, "other"));
    CHECK(!proto_next_arg(&m, &s));
    /* the worker decoder refuses it, and the client one a worker message */
    CHECK(proto_decode(b.data, b.len, &m, NULL) == ST_ECORRUPT);
    buf_reset(&b);
    REQUIRE(proto_encode_heartbeat(&b) == ST_OK);
    CHECK(proto_decode_client(b.data, b.len, &m, NULL) == ST_ECORRUPT);
    buf_free(&b);
}

TEST(proto_client_need_upload_progress_round_trip)
{
    uint32_t idx[] = {0, 7, 999};
    proto_msg_t m;
    proto_batch_t batch;
    proto_blob_t blob;
    proto_progress_t p = {.scanned = 5, .checked = 6, .cached = 7, .workers = 2, .queued = 1};
    uint32_t i;
    buf_t b;

    buf_init(&b);
    REQUIRE(proto_encode_need(&b, idx, 3) == ST_OK);
    REQUIRE(proto_decode_client(b.data, b.len, &m, NULL) == ST_OK);
    CHECK(m.type == PROTO_NEED && m.count == 3);
    CHECK(proto_next_index(&m, &i) && i == 0);
    CHECK(proto_next_index(&m, &i) && i == 7);
    CHECK(proto_next_index(&m, &i) && i == 999);
    CHECK(!proto_next_index(&m, &i));

    buf_reset(&b);
    REQUIRE(proto_upload_begin(&batch, &b) == ST_OK);
    REQUIRE(proto_upload_blob(&batch, 4, (span_t){.ptr = (const uint8_t *)"zz", .len = 2}, 9) ==
            ST_OK);
    REQUIRE(proto_upload_blob(&batch, 5, (span_t){.ptr = (const uint8_t *)"", .len = 0}, 0) ==
            ST_OK);
    proto_batch_end(&batch);
    REQUIRE(proto_decode_client(b.data, b.len, &m, NULL) == ST_OK);
    CHECK(m.type == PROTO_UPLOAD && m.count == 2);
    REQUIRE(proto_next_blob(&m, &blob));
    CHECK(blob.index == 4 && blob.zdata.len == 2 && memcmp(blob.zdata.ptr, "zz", 2) == 0 &&
          blob.raw_size == 9);
    REQUIRE(proto_next_blob(&m, &blob));
    CHECK(blob.index == 5 && blob.zdata.len == 0);
    CHECK(!proto_next_blob(&m, &blob));

    buf_reset(&b);
    REQUIRE(proto_encode_progress(&b, &p) == ST_OK);
    REQUIRE(proto_decode_client(b.data, b.len, &m, NULL) == ST_OK);
    CHECK(m.type == PROTO_PROGRESS && m.progress.scanned == 5 && m.progress.checked == 6 &&
          m.progress.cached == 7 && m.progress.workers == 2 && m.progress.queued == 1);
    buf_free(&b);
}

static void make_done(buf_t *b)
{
    proto_batch_t batch;
    proto_stats_t st = {
        .files = 3, .uploaded = 1, .scanned = 2, .cached = 1, .checked = 4, .failed = 5};
    proto_diag_t d[2] = {
        {.line = 3, .col = 1, .code = str("F401"), .message = str("'os' imported but unused")},
        {.line = 9, .col = 5, .code = str("E0611"), .message = str("no name 'x' in module 'y'")},
    };

    buf_reset(b);
    REQUIRE(proto_done_begin(&batch, b, PROTO_DONE_OK, "", &st) == ST_OK);
    REQUIRE(proto_done_file(&batch, 0, d, 2) == ST_OK);
    REQUIRE(proto_done_file(&batch, 2, d + 1, 1) == ST_OK);
    proto_batch_end(&batch);
}

TEST(proto_client_done_round_trips)
{
    proto_msg_t m;
    proto_fdiags_t fd;
    proto_diag_t d;
    proto_batch_t batch;
    proto_stats_t st = {0};
    buf_t b;

    buf_init(&b);
    make_done(&b);
    REQUIRE(proto_decode_client(b.data, b.len, &m, NULL) == ST_OK);
    CHECK(m.type == PROTO_DONE && m.status == PROTO_DONE_OK && m.count == 2);
    CHECK(m.stats.files == 3 && m.stats.uploaded == 1 && m.stats.scanned == 2 &&
          m.stats.cached == 1 && m.stats.checked == 4 && m.stats.failed == 5);
    REQUIRE(proto_next_fdiags(&m, &fd));
    CHECK(fd.index == 0 && fd.count == 2);
    REQUIRE(proto_next_diag(&fd, &d));
    CHECK(d.line == 3 && d.col == 1 && str_is(d.code, "F401") &&
          str_is(d.message, "'os' imported but unused"));
    REQUIRE(proto_next_diag(&fd, &d));
    CHECK(str_is(d.code, "E0611"));
    CHECK(!proto_next_diag(&fd, &d));
    REQUIRE(proto_next_fdiags(&m, &fd));
    CHECK(fd.index == 2 && fd.count == 1);
    CHECK(!proto_next_fdiags(&m, &fd));

    buf_reset(&b);
    REQUIRE(proto_done_begin(&batch, &b, PROTO_DONE_ERROR, "no space left", &st) == ST_OK);
    proto_batch_end(&batch);
    REQUIRE(proto_decode_client(b.data, b.len, &m, NULL) == ST_OK);
    CHECK(m.status == PROTO_DONE_ERROR && str_is(m.error, "no space left") && m.count == 0);
    CHECK(proto_done_begin(&batch, &b, 1, "", &st) == ST_ELIMIT);
    buf_free(&b);
}

/* Every truncation of every message is refused; random corruptions never
 * crash, and whatever decodes points inside the message. */
TEST(proto_client_hostile_bytes)
{
    buf_t b;
    proto_msg_t m;
    uint32_t seed = 777;

    buf_init(&b);
    for (int which = 0; which < 2; which++) {
        if (which == 0)
            make_submit(&b);
        else
            make_done(&b);
        for (size_t cut = 0; cut < b.len; cut++)
            CHECK(proto_decode_client(b.data, cut, &m, NULL) != ST_OK);
        for (int round = 0; round < 3000; round++) {
            proto_file_t f;
            proto_fdiags_t fd;
            proto_diag_t d;
            if (which == 0)
                make_submit(&b);
            else
                make_done(&b);
            for (int k = 0; k < 3; k++) {
                seed = seed * 1103515245u + 12345u;
                b.data[(seed >> 8) % b.len] = (uint8_t)(seed >> 20);
            }
            if (proto_decode_client(b.data, b.len, &m, NULL) != ST_OK)
                continue;
            while (proto_next_file(&m, &f))
                CHECK(f.path.ptr >= (const char *)b.data &&
                      f.path.ptr + f.path.len <= (const char *)b.data + b.len);
            while (proto_next_fdiags(&m, &fd))
                while (proto_next_diag(&fd, &d))
                    CHECK(d.message.ptr + d.message.len <= (const char *)b.data + b.len &&
                          d.code.len <= PROTO_MAX_CODE);
        }
    }
    buf_free(&b);
}

/* Counts that claim more than the bytes hold, or more than the limits. */
TEST(proto_client_refuses_huge_counts)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    proto_msg_t m;
    st_err_t err = {0};

    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 3);
    msgpack_pack_str_with_body(&pk, "v", 1);
    msgpack_pack_uint32(&pk, PROTO_VERSION);
    msgpack_pack_str_with_body(&pk, "t", 1);
    msgpack_pack_uint32(&pk, PROTO_NEED);
    msgpack_pack_str_with_body(&pk, "digests", 7);
    msgpack_pack_array(&pk, 4000000000u); /* no bytes behind it */
    CHECK(proto_decode_client(sb.data, sb.size, &m, &err) == ST_ECORRUPT);
    msgpack_sbuffer_clear(&sb);

    /* an index past the limit */
    msgpack_pack_map(&pk, 3);
    msgpack_pack_str_with_body(&pk, "v", 1);
    msgpack_pack_uint32(&pk, PROTO_VERSION);
    msgpack_pack_str_with_body(&pk, "t", 1);
    msgpack_pack_uint32(&pk, PROTO_NEED);
    msgpack_pack_str_with_body(&pk, "digests", 7);
    msgpack_pack_array(&pk, 1);
    msgpack_pack_uint32(&pk, PROTO_MAX_FILES);
    CHECK(proto_decode_client(sb.data, sb.size, &m, &err) == ST_ECORRUPT);
    msgpack_sbuffer_clear(&sb);

    /* a digest of the wrong length */
    msgpack_pack_map(&pk, 3);
    msgpack_pack_str_with_body(&pk, "v", 1);
    msgpack_pack_uint32(&pk, PROTO_VERSION);
    msgpack_pack_str_with_body(&pk, "t", 1);
    msgpack_pack_uint32(&pk, PROTO_SUBMIT);
    msgpack_pack_str_with_body(&pk, "files", 5);
    msgpack_pack_array(&pk, 1);
    msgpack_pack_array(&pk, 4);
    msgpack_pack_str_with_body(&pk, "a.py", 4);
    msgpack_pack_uint32(&pk, 0);
    msgpack_pack_bin_with_body(&pk, "short", 5);
    msgpack_pack_uint32(&pk, 5);
    CHECK(proto_decode_client(sb.data, sb.size, &m, &err) == ST_ECORRUPT);
    CHECK(strstr(err.msg, "digest") != NULL);
    msgpack_sbuffer_clear(&sb);

    /* DONE without "files" */
    msgpack_pack_map(&pk, 3);
    msgpack_pack_str_with_body(&pk, "v", 1);
    msgpack_pack_uint32(&pk, PROTO_VERSION);
    msgpack_pack_str_with_body(&pk, "t", 1);
    msgpack_pack_uint32(&pk, PROTO_DONE);
    msgpack_pack_str_with_body(&pk, "status", 6);
    msgpack_pack_uint32(&pk, 0);
    CHECK(proto_decode_client(sb.data, sb.size, &m, &err) == ST_ECORRUPT);
    msgpack_sbuffer_destroy(&sb);
}
