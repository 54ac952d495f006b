/* test_proto.c - the wire messages: every type round-trips, and hostile
 * bytes (truncations, huge counts and lengths, wrong types, unknown types,
 * another version, trailing bytes, repeated keys) are refused as corrupt
 * before anything is trusted. */
#include "test.h"

#include "common/alloc.h"
#include "common/proto.h"

#include <msgpack.h>
#include <stdlib.h>

static proto_str_t str(const char *s)
{
    return (proto_str_t){.ptr = s, .len = (uint32_t)strlen(s)};
}

static int str_is(proto_str_t s, const char *want)
{
    return s.len == strlen(want) && memcmp(s.ptr, want, s.len) == 0;
}

static span_t span_of(const char *s)
{
    return (span_t){.ptr = (const uint8_t *)s, .len = strlen(s)};
}

TEST(proto_hello_round_trips)
{
    proto_hello_t h = {.id = str("box:42"),
                       .host = str("box"),
                       .version = str("0.1.0+scan5"),
                       .cpu = str("avx2"),
                       .slots = 8,
                       .numa = 2};
    proto_msg_t m;
    buf_t b;

    buf_init(&b);
    REQUIRE(proto_encode_hello(&b, &h) == ST_OK);
    REQUIRE(proto_decode(b.data, b.len, &m, NULL) == ST_OK);
    CHECK_EQ_INT(m.version, PROTO_VERSION);
    CHECK_EQ_INT(m.type, PROTO_HELLO);
    CHECK(str_is(m.hello.id, "box:42"));
    CHECK(str_is(m.hello.host, "box"));
    CHECK(str_is(m.hello.version, "0.1.0+scan5"));
    CHECK(str_is(m.hello.cpu, "avx2"));
    CHECK_EQ_INT(m.hello.slots, 8);
    CHECK_EQ_INT(m.hello.numa, 2);
    buf_free(&b);
}

TEST(proto_small_messages_round_trip)
{
    proto_msg_t m;
    buf_t b;

    buf_init(&b);
    REQUIRE(proto_encode_heartbeat(&b) == ST_OK);
    REQUIRE(proto_decode(b.data, b.len, &m, NULL) == ST_OK);
    CHECK_EQ_INT(m.type, PROTO_HEARTBEAT);
    buf_reset(&b);
    REQUIRE(proto_encode_bye(&b, "signal") == ST_OK);
    REQUIRE(proto_decode(b.data, b.len, &m, NULL) == ST_OK);
    CHECK_EQ_INT(m.type, PROTO_BYE);
    CHECK(str_is(m.reason, "signal"));
    buf_reset(&b);
    REQUIRE(proto_encode_bye(&b, NULL) == ST_OK);
    REQUIRE(proto_decode(b.data, b.len, &m, NULL) == ST_OK);
    CHECK_EQ_INT(m.reason.len, 0);
    buf_reset(&b);
    REQUIRE(proto_encode_refused(&b, "analyzer version x", false) == ST_OK);
    REQUIRE(proto_decode(b.data, b.len, &m, NULL) == ST_OK);
    CHECK_EQ_INT(m.type, PROTO_REFUSED);
    CHECK(str_is(m.reason, "analyzer version x"));
    CHECK(!m.retry);
    buf_reset(&b);
    REQUIRE(proto_encode_refused(&b, "unknown", true) == ST_OK);
    REQUIRE(proto_decode(b.data, b.len, &m, NULL) == ST_OK);
    CHECK(m.retry);
    buf_free(&b);
}

/* A JOBS message of n jobs: id i*1000003, kind i%3, input "job-i". */
static void make_jobs(buf_t *b, uint32_t n)
{
    proto_batch_t batch;
    char in[32];

    buf_reset(b);
    REQUIRE(proto_batch_begin(&batch, b, PROTO_JOBS) == ST_OK);
    for (uint32_t i = 0; i < n; i++) {
        snprintf(in, sizeof in, "job-%u", i);
        REQUIRE(proto_batch_job(&batch, (uint64_t)i * 1000003u, i % 3, span_of(in)) == ST_OK);
    }
    proto_batch_end(&batch);
}

TEST(proto_jobs_round_trip)
{
    proto_msg_t m;
    proto_job_t job;
    buf_t b;
    uint32_t i = 0;
    char in[32];

    buf_init(&b);
    make_jobs(&b, 300);
    REQUIRE(proto_decode(b.data, b.len, &m, NULL) == ST_OK);
    CHECK_EQ_INT(m.type, PROTO_JOBS);
    CHECK_EQ_INT(m.count, 300);
    while (proto_next_job(&m, &job)) {
        snprintf(in, sizeof in, "job-%u", i);
        CHECK(job.id == (uint64_t)i * 1000003u);
        CHECK_EQ_INT(job.kind, i % 3);
        CHECK(job.input.len == strlen(in) && memcmp(job.input.ptr, in, job.input.len) == 0);
        i++;
    }
    CHECK_EQ_INT(i, 300);
    make_jobs(&b, 0);
    REQUIRE(proto_decode(b.data, b.len, &m, NULL) == ST_OK);
    CHECK_EQ_INT(m.count, 0);
    CHECK(!proto_next_job(&m, &job));
    buf_free(&b);
}

TEST(proto_results_round_trip)
{
    proto_batch_t batch;
    proto_msg_t m;
    proto_result_t r;
    buf_t b;

    buf_init(&b);
    REQUIRE(proto_batch_begin(&batch, &b, PROTO_RESULTS) == ST_OK);
    REQUIRE(proto_batch_result(&batch, UINT64_MAX, PROTO_STATUS_OK, span_of("\x81\xa1v\x01")) ==
            ST_OK);
    REQUIRE(proto_batch_result(&batch, 7, PROTO_STATUS_ERROR, span_of("out of memory")) == ST_OK);
    REQUIRE(proto_batch_result(&batch, 8, PROTO_STATUS_OK, (span_t){0}) == ST_OK);
    proto_batch_end(&batch);
    REQUIRE(proto_decode(b.data, b.len, &m, NULL) == ST_OK);
    CHECK_EQ_INT(m.count, 3);
    REQUIRE(proto_next_result(&m, &r));
    CHECK(r.id == UINT64_MAX && r.status == PROTO_STATUS_OK && r.data.len == 4);
    REQUIRE(proto_next_result(&m, &r));
    CHECK(r.id == 7 && r.status == PROTO_STATUS_ERROR && r.data.len == 13);
    CHECK(memcmp(r.data.ptr, "out of memory", 13) == 0);
    REQUIRE(proto_next_result(&m, &r));
    CHECK(r.id == 8 && r.data.len == 0);
    CHECK(!proto_next_result(&m, &r));
    CHECK(!proto_next_job(&m, &(proto_job_t){0})); /* a RESULTS message has no jobs */
    buf_free(&b);
}

TEST(proto_batch_limits)
{
    proto_batch_t batch;
    buf_t b;
    char big[PROTO_MAX_TEXT + 2];

    buf_init(&b);
    CHECK(proto_batch_begin(&batch, &b, PROTO_HELLO) == ST_EINVAL);
    REQUIRE(proto_batch_begin(&batch, &b, PROTO_JOBS) == ST_OK);
    for (uint32_t i = 0; i < PROTO_MAX_JOBS; i++)
        REQUIRE(proto_batch_job(&batch, i, 0, span_of("x")) == ST_OK);
    CHECK(proto_batch_job(&batch, 1, 0, span_of("x")) == ST_ELIMIT);
    CHECK(proto_batch_result(&batch, 1, PROTO_STATUS_OK, span_of("x")) == ST_EINVAL);
    proto_batch_end(&batch);
    proto_msg_t m;
    CHECK(proto_decode(b.data, b.len, &m, NULL) == ST_OK);
    CHECK_EQ_INT(m.count, PROTO_MAX_JOBS);

    buf_reset(&b);
    REQUIRE(proto_batch_begin(&batch, &b, PROTO_JOBS) == ST_OK);
    CHECK(proto_batch_job(&batch, 1, PROTO_MAX_KIND + 1, span_of("x")) == ST_ELIMIT);
    CHECK(proto_batch_job(&batch, 1, 0,
                          (span_t){.ptr = (const uint8_t *)"", .len = PROTO_MAX_INPUT + 1}) ==
          ST_ELIMIT);
    buf_reset(&b);
    memset(big, 'e', sizeof big - 1);
    big[sizeof big - 1] = 0;
    REQUIRE(proto_batch_begin(&batch, &b, PROTO_RESULTS) == ST_OK);
    CHECK(proto_batch_result(&batch, 1, PROTO_STATUS_ERROR, span_of(big)) == ST_ELIMIT);
    CHECK(proto_encode_refused(&b, big, false) == ST_ELIMIT);
    CHECK(proto_encode_hello(&b, &(proto_hello_t){.slots = 0}) == ST_ELIMIT);
    buf_free(&b);
}

/* Every strict prefix of a valid message is refused. */
TEST(proto_truncations_are_corrupt)
{
    proto_hello_t h = {.id = str("w"), .host = str("h"), .version = str("v"), .slots = 1};
    proto_msg_t m;
    buf_t b;
    st_err_t err = {0};

    buf_init(&b);
    make_jobs(&b, 5);
    for (size_t n = 0; n < b.len; n++)
        CHECK(proto_decode(b.data, n, &m, &err) == ST_ECORRUPT);
    buf_reset(&b);
    REQUIRE(proto_encode_hello(&b, &h) == ST_OK);
    for (size_t n = 0; n < b.len; n++)
        CHECK(proto_decode(b.data, n, &m, &err) == ST_ECORRUPT);
    CHECK(proto_decode(b.data, b.len, &m, &err) == ST_OK);
    buf_free(&b);
}

/* Hostile documents written by hand with msgpack-c. */
typedef struct {
    msgpack_sbuffer sb;
    msgpack_packer pk;
} doc_t;

static void doc_init(doc_t *d)
{
    msgpack_sbuffer_init(&d->sb);
    msgpack_packer_init(&d->pk, &d->sb, msgpack_sbuffer_write);
}

static void key(doc_t *d, const char *k)
{
    msgpack_pack_str(&d->pk, strlen(k));
    msgpack_pack_str_body(&d->pk, k, strlen(k));
}

static void head(doc_t *d, uint32_t n, uint64_t v, uint64_t t)
{
    msgpack_pack_map(&d->pk, n);
    key(d, "v");
    msgpack_pack_uint64(&d->pk, v);
    key(d, "t");
    msgpack_pack_uint64(&d->pk, t);
}

static st_rc_t decode_doc(doc_t *d, st_err_t *err)
{
    proto_msg_t m;
    st_rc_t rc = proto_decode(d->sb.data, d->sb.size, &m, err);

    msgpack_sbuffer_destroy(&d->sb);
    return rc;
}

TEST(proto_refuses_wrong_version_and_types)
{
    doc_t d;
    st_err_t err = {0};
    uint32_t v, t;

    doc_init(&d);
    head(&d, 2, 2, PROTO_HEARTBEAT);
    CHECK(proto_peek(d.sb.data, d.sb.size, &v, &t) && v == 2 && t == PROTO_HEARTBEAT);
    CHECK(decode_doc(&d, &err) == ST_ECORRUPT);
    CHECK(strstr(err.msg, "protocol version 2") != NULL);

    doc_init(&d);
    head(&d, 2, PROTO_VERSION, 99);
    CHECK(decode_doc(&d, &err) == ST_ECORRUPT);
    CHECK(strstr(err.msg, "type 99") != NULL);

    doc_init(&d);
    head(&d, 2, PROTO_VERSION, PROTO_SUBMIT); /* client messages are not decoded yet */
    CHECK(decode_doc(&d, &err) == ST_ECORRUPT);

    doc_init(&d); /* "t" before "v" */
    msgpack_pack_map(&d.pk, 2);
    key(&d, "t");
    msgpack_pack_uint32(&d.pk, PROTO_HEARTBEAT);
    key(&d, "v");
    msgpack_pack_uint32(&d.pk, PROTO_VERSION);
    CHECK(!proto_peek(d.sb.data, d.sb.size, &v, &t));
    CHECK(decode_doc(&d, &err) == ST_ECORRUPT);

    doc_init(&d); /* not a map */
    msgpack_pack_array(&d.pk, 2);
    msgpack_pack_uint32(&d.pk, 1);
    msgpack_pack_uint32(&d.pk, 4);
    CHECK(decode_doc(&d, &err) == ST_ECORRUPT);

    doc_init(&d); /* "v" a string */
    msgpack_pack_map(&d.pk, 2);
    key(&d, "v");
    key(&d, "1");
    key(&d, "t");
    msgpack_pack_uint32(&d.pk, PROTO_HEARTBEAT);
    CHECK(decode_doc(&d, &err) == ST_ECORRUPT);
}

TEST(proto_refuses_bad_fields)
{
    doc_t d;
    st_err_t err = {0};

    doc_init(&d); /* HELLO without slots */
    head(&d, 5, PROTO_VERSION, PROTO_HELLO);
    key(&d, "id"), key(&d, "w");
    key(&d, "host"), key(&d, "h");
    key(&d, "ver"), key(&d, "1");
    CHECK(decode_doc(&d, &err) == ST_ECORRUPT);
    CHECK(strstr(err.msg, "required") != NULL);

    doc_init(&d); /* slots 0, and slots a string */
    head(&d, 6, PROTO_VERSION, PROTO_HELLO);
    key(&d, "id"), key(&d, "w");
    key(&d, "host"), key(&d, "h");
    key(&d, "ver"), key(&d, "1");
    key(&d, "slots"), msgpack_pack_uint32(&d.pk, 0);
    CHECK(decode_doc(&d, &err) == ST_ECORRUPT);
    doc_init(&d);
    head(&d, 6, PROTO_VERSION, PROTO_HELLO);
    key(&d, "id"), key(&d, "w");
    key(&d, "host"), key(&d, "h");
    key(&d, "ver"), key(&d, "1");
    key(&d, "slots"), key(&d, "8");
    CHECK(decode_doc(&d, &err) == ST_ECORRUPT);

    doc_init(&d); /* a repeated key */
    head(&d, 4, PROTO_VERSION, PROTO_BYE);
    key(&d, "reason"), key(&d, "a");
    key(&d, "reason"), key(&d, "b");
    CHECK(decode_doc(&d, &err) == ST_ECORRUPT);

    doc_init(&d); /* an unknown key is skipped */
    head(&d, 3, PROTO_VERSION, PROTO_HEARTBEAT);
    key(&d, "load"), msgpack_pack_array(&d.pk, 2), msgpack_pack_nil(&d.pk),
        msgpack_pack_true(&d.pk);
    CHECK(decode_doc(&d, &err) == ST_OK);

    doc_init(&d); /* an id string over the limit */
    char big[PROTO_MAX_NAME + 1];
    memset(big, 'x', sizeof big);
    head(&d, 6, PROTO_VERSION, PROTO_HELLO);
    key(&d, "id"), msgpack_pack_str(&d.pk, sizeof big),
        msgpack_pack_str_body(&d.pk, big, sizeof big);
    key(&d, "host"), key(&d, "h");
    key(&d, "ver"), key(&d, "1");
    key(&d, "slots"), msgpack_pack_uint32(&d.pk, 1);
    CHECK(decode_doc(&d, &err) == ST_ECORRUPT);

    doc_init(&d); /* trailing bytes */
    head(&d, 2, PROTO_VERSION, PROTO_HEARTBEAT);
    msgpack_pack_nil(&d.pk);
    CHECK(decode_doc(&d, &err) == ST_ECORRUPT);
}

TEST(proto_refuses_bad_batches)
{
    doc_t d;
    st_err_t err = {0};

    doc_init(&d); /* a count past the limit (and past the bytes) */
    head(&d, 3, PROTO_VERSION, PROTO_JOBS);
    key(&d, "jobs");
    msgpack_pack_array(&d.pk, PROTO_MAX_JOBS + 1);
    for (uint32_t i = 0; i < PROTO_MAX_JOBS + 1; i++)
        msgpack_pack_nil(&d.pk);
    CHECK(decode_doc(&d, &err) == ST_ECORRUPT);

    doc_init(&d); /* a count of four billion in a few bytes */
    head(&d, 3, PROTO_VERSION, PROTO_RESULTS);
    key(&d, "results");
    msgpack_pack_array(&d.pk, UINT32_MAX);
    CHECK(decode_doc(&d, &err) == ST_ECORRUPT);

    doc_init(&d); /* a bin length past the bytes */
    head(&d, 3, PROTO_VERSION, PROTO_JOBS);
    key(&d, "jobs");
    msgpack_pack_array(&d.pk, 1);
    msgpack_pack_array(&d.pk, 3);
    msgpack_pack_uint32(&d.pk, 1);
    msgpack_pack_uint32(&d.pk, 0);
    msgpack_pack_bin(&d.pk, 1u << 30);
    CHECK(decode_doc(&d, &err) == ST_ECORRUPT);

    doc_init(&d); /* a job with a str input, and a negative id */
    head(&d, 3, PROTO_VERSION, PROTO_JOBS);
    key(&d, "jobs");
    msgpack_pack_array(&d.pk, 1);
    msgpack_pack_array(&d.pk, 3);
    msgpack_pack_uint32(&d.pk, 1);
    msgpack_pack_uint32(&d.pk, 0);
    key(&d, "text");
    CHECK(decode_doc(&d, &err) == ST_ECORRUPT);
    doc_init(&d);
    head(&d, 3, PROTO_VERSION, PROTO_JOBS);
    key(&d, "jobs");
    msgpack_pack_array(&d.pk, 1);
    msgpack_pack_array(&d.pk, 3);
    msgpack_pack_int32(&d.pk, -1);
    msgpack_pack_uint32(&d.pk, 0);
    msgpack_pack_bin(&d.pk, 0);
    CHECK(decode_doc(&d, &err) == ST_ECORRUPT);

    doc_init(&d); /* a result with status 2; an OK result as str */
    head(&d, 3, PROTO_VERSION, PROTO_RESULTS);
    key(&d, "results");
    msgpack_pack_array(&d.pk, 1);
    msgpack_pack_array(&d.pk, 3);
    msgpack_pack_uint32(&d.pk, 1);
    msgpack_pack_uint32(&d.pk, 2);
    msgpack_pack_bin(&d.pk, 0);
    CHECK(decode_doc(&d, &err) == ST_ECORRUPT);
    doc_init(&d);
    head(&d, 3, PROTO_VERSION, PROTO_RESULTS);
    key(&d, "results");
    msgpack_pack_array(&d.pk, 1);
    msgpack_pack_array(&d.pk, 3);
    msgpack_pack_uint32(&d.pk, 1);
    msgpack_pack_uint32(&d.pk, 0);
    key(&d, "ok");
    CHECK(decode_doc(&d, &err) == ST_ECORRUPT);

    doc_init(&d); /* a JOBS message without its jobs */
    head(&d, 2, PROTO_VERSION, PROTO_JOBS);
    CHECK(decode_doc(&d, &err) == ST_ECORRUPT);
}

TEST(proto_refuses_oversized_message)
{
    static const uint8_t hb[] = {0x82, 0xa1, 'v', 0x01, 0xa1, 't', 0x04};
    proto_msg_t m;

    CHECK(proto_decode(hb, sizeof hb, &m, NULL) == ST_OK);
    CHECK(proto_decode(hb, PROTO_MAX_MSG + 1, &m, NULL) == ST_ELIMIT);
}

/* Random bytes and random corruptions of a valid batch never crash. */
TEST(proto_survives_random_bytes)
{
    proto_msg_t m;
    proto_job_t job;
    buf_t b;
    uint32_t seed = 12345;

    buf_init(&b);
    for (int round = 0; round < 3000; round++) {
        make_jobs(&b, 4);
        for (int k = 0; k < 3; k++) {
            seed = seed * 1103515245u + 12345u;
            b.data[(seed >> 8) % b.len] = (uint8_t)(seed >> 20);
        }
        if (proto_decode(b.data, b.len, &m, NULL) == ST_OK)
            while (proto_next_job(&m, &job))
                CHECK(job.input.ptr >= b.data && job.input.ptr + job.input.len <= b.data + b.len);
    }
    buf_free(&b);
}

TEST(proto_encoders_report_out_of_memory)
{
    proto_hello_t h = {.id = str("w"), .host = str("h"), .version = str("v"), .slots = 1};
    proto_batch_t batch;
    buf_t b;

    buf_init(&b);
    alloc_fail_after(0);
    CHECK(proto_encode_hello(&b, &h) == ST_ENOMEM);
    alloc_fail_after(0);
    CHECK(proto_encode_heartbeat(&b) == ST_ENOMEM);
    alloc_fail_after(0);
    CHECK(proto_encode_refused(&b, "r", true) == ST_ENOMEM);
    alloc_fail_after(0);
    CHECK(proto_batch_begin(&batch, &b, PROTO_JOBS) == ST_ENOMEM);
    alloc_fail_after(-1);
    buf_free(&b);
    /* an entry that does not fit leaves the batch as it was */
    buf_init(&b);
    REQUIRE(proto_batch_begin(&batch, &b, PROTO_RESULTS) == ST_OK);
    REQUIRE(proto_batch_result(&batch, 1, PROTO_STATUS_OK, span_of("ok")) == ST_OK);
    size_t len = b.len;
    char big[100000];
    memset(big, 'r', sizeof big);
    alloc_fail_after(0);
    CHECK(proto_batch_result(&batch, 2, PROTO_STATUS_OK,
                             (span_t){(const uint8_t *)big, sizeof big}) == ST_ENOMEM);
    alloc_fail_after(-1);
    CHECK(b.len == len && batch.n == 1);
    proto_batch_end(&batch);
    proto_msg_t m;
    CHECK(proto_decode(b.data, b.len, &m, NULL) == ST_OK && m.count == 1);
    buf_free(&b);
}
