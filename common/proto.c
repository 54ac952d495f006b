/* proto.c - the envelope every message shares, and the worker protocol:
 * encoding and validating decoding.
 *
 * Encoding goes through msgpack-c's packer into a buf_t; decoding never
 * uses msgpack-c's unpacker (which sizes its zone from counts it has not
 * checked) but mpread, which allocates nothing. A batch is validated entry
 * by entry in proto_decode and iterated again by proto_next_*, so a caller
 * never sees the first half of a message whose second half is garbage.
 * The entry count of a batch is written as a fixed 32-bit array header and
 * patched at the end, so a batch can be filled without knowing its size.
 * The client protocol is proto_client.c; what both share is proto_int.h. */
#include "common/proto_int.h"

/* Which keys of a message have been seen (a repeated key is corrupt). */
enum {
    SEEN_ID = 1 << 0,
    SEEN_HOST = 1 << 1,
    SEEN_VER = 1 << 2,
    SEEN_SLOTS = 1 << 3,
    SEEN_NUMA = 1 << 4,
    SEEN_CPU = 1 << 5,
    SEEN_ITEMS = 1 << 6,
    SEEN_REASON = 1 << 7,
    SEEN_RETRY = 1 << 8
};

const char *proto_type_name(uint32_t type)
{
    switch (type) {
    case PROTO_HELLO:
        return "HELLO";
    case PROTO_JOBS:
        return "JOBS";
    case PROTO_RESULTS:
        return "RESULTS";
    case PROTO_HEARTBEAT:
        return "HEARTBEAT";
    case PROTO_BYE:
        return "BYE";
    case PROTO_REFUSED:
        return "REFUSED";
    case PROTO_SUBMIT:
        return "SUBMIT";
    case PROTO_NEED:
        return "NEED";
    case PROTO_UPLOAD:
        return "UPLOAD";
    case PROTO_PROGRESS:
        return "PROGRESS";
    case PROTO_DONE:
        return "DONE";
    case PROTO_LOOKUP:
        return "LOOKUP";
    case PROTO_LIBFILES:
        return "LIBFILES";
    default:
        return "?";
    }
}

/* ---- decoding ------------------------------------------------------------ */

/* The map header and its "v" and "t" entries; *left is the entries after. */
static bool read_header(mpread_t *r, uint32_t *left, uint32_t *version, uint32_t *type)
{
    uint32_t n;
    uint64_t v, t;

    if (mpread_map(r, &n) != ST_OK || n < 2)
        return false;
    if (!mpread_key(r, "v") || mpread_uint(r, &v) != ST_OK || v > UINT32_MAX)
        return false;
    if (!mpread_key(r, "t") || mpread_uint(r, &t) != ST_OK || t > UINT32_MAX)
        return false;
    *left = n - 2;
    *version = (uint32_t)v;
    *type = (uint32_t)t;
    return true;
}

bool proto_peek(const void *p, size_t len, uint32_t *version, uint32_t *type)
{
    mpread_t r;
    uint32_t left;

    mpread_init(&r, p, len);
    return read_header(&r, &left, version, type);
}

/* One JOBS entry: [id, kind, input]. */
static st_rc_t read_job(mpread_t *r, proto_job_t *job, st_err_t *err)
{
    uint32_t n, len;
    uint64_t kind;
    const uint8_t *p;

    if (mpread_array(r, &n) != ST_OK || n != 3)
        return st_fail(err, ST_ECORRUPT, "a job is not a 3-element array at byte %zu", r->pos);
    if (mpread_uint(r, &job->id) != ST_OK)
        return st_fail(err, ST_ECORRUPT, "a job id is not an unsigned integer at byte %zu", r->pos);
    if (mpread_uint(r, &kind) != ST_OK || kind > PROTO_MAX_KIND)
        return st_fail(err, ST_ECORRUPT, "job %llu: bad kind at byte %zu",
                       (unsigned long long)job->id, r->pos);
    if (mpread_bin(r, &p, &len) != ST_OK)
        return st_fail(err, ST_ECORRUPT, "job %llu: input is not bin at byte %zu",
                       (unsigned long long)job->id, r->pos);
    if (len > PROTO_MAX_INPUT)
        return st_fail(err, ST_ECORRUPT, "job %llu: input of %u bytes (limit %zu)",
                       (unsigned long long)job->id, len, PROTO_MAX_INPUT);
    job->kind = (uint32_t)kind;
    job->input = (span_t){.ptr = p, .len = len};
    return ST_OK;
}

/* One RESULTS entry: [id, 0, bin] or [id, 1, str]. */
static st_rc_t read_result(mpread_t *r, proto_result_t *res, st_err_t *err)
{
    uint32_t n, len;
    uint64_t status;
    const uint8_t *p;
    const char *s;

    if (mpread_array(r, &n) != ST_OK || n != 3)
        return st_fail(err, ST_ECORRUPT, "a result is not a 3-element array at byte %zu", r->pos);
    if (mpread_uint(r, &res->id) != ST_OK)
        return st_fail(err, ST_ECORRUPT, "a result id is not an unsigned integer at byte %zu",
                       r->pos);
    if (mpread_uint(r, &status) != ST_OK || status > PROTO_STATUS_ERROR)
        return st_fail(err, ST_ECORRUPT, "result %llu: bad status at byte %zu",
                       (unsigned long long)res->id, r->pos);
    if (status == PROTO_STATUS_OK) {
        if (mpread_bin(r, &p, &len) != ST_OK || len > PROTO_MAX_INPUT)
            return st_fail(err, ST_ECORRUPT, "result %llu: bad result bytes at byte %zu",
                           (unsigned long long)res->id, r->pos);
    } else {
        if (mpread_str(r, &s, &len) != ST_OK || len > PROTO_MAX_TEXT)
            return st_fail(err, ST_ECORRUPT, "result %llu: bad error text at byte %zu",
                           (unsigned long long)res->id, r->pos);
        p = (const uint8_t *)s;
    }
    res->status = (proto_status_t)status;
    res->data = (span_t){.ptr = p, .len = len};
    return ST_OK;
}

/* The entry array of a batch, every entry validated; leaves r after it. */
static st_rc_t read_items(mpread_t *r, proto_msg_t *m, st_err_t *err)
{
    uint32_t n;
    st_rc_t rc;

    if (mpread_array(r, &n) != ST_OK)
        return st_fail(err, ST_ECORRUPT, "the entries are not an array at byte %zu", r->pos);
    if (n > PROTO_MAX_JOBS)
        return st_fail(err, ST_ECORRUPT, "%u entries in one message (limit %u)", n, PROTO_MAX_JOBS);
    m->items_ = *r;
    m->count = m->items_left_ = n;
    for (uint32_t i = 0; i < n; i++) {
        proto_job_t job;
        proto_result_t res;

        rc = m->type == PROTO_JOBS ? read_job(r, &job, err) : read_result(r, &res, err);
        if (rc != ST_OK)
            return rc;
    }
    return ST_OK;
}

/* The field named key (of klen bytes) of a message of m's type, or a skip. */
static st_rc_t read_field(mpread_t *r, proto_msg_t *m, const char *key, uint32_t klen,
                          unsigned *seen, st_err_t *err)
{
    static const struct {
        const char *name;
        unsigned bit;
        proto_type_t type;
    } fields[] = {
        {"id", SEEN_ID, PROTO_HELLO},         {"host", SEEN_HOST, PROTO_HELLO},
        {"ver", SEEN_VER, PROTO_HELLO},       {"slots", SEEN_SLOTS, PROTO_HELLO},
        {"numa", SEEN_NUMA, PROTO_HELLO},     {"cpu", SEEN_CPU, PROTO_HELLO},
        {"jobs", SEEN_ITEMS, PROTO_JOBS},     {"results", SEEN_ITEMS, PROTO_RESULTS},
        {"reason", SEEN_REASON, PROTO_BYE},   {"reason", SEEN_REASON, PROTO_REFUSED},
        {"retry", SEEN_RETRY, PROTO_REFUSED},
    };
    unsigned bit = 0;

    for (size_t i = 0; i < sizeof fields / sizeof fields[0] && bit == 0; i++)
        if (fields[i].type == m->type && strlen(fields[i].name) == klen &&
            memcmp(fields[i].name, key, klen) == 0)
            bit = fields[i].bit;
    if (bit == 0)
        return mpread_skip(r) == ST_OK
                   ? ST_OK
                   : st_fail(err, ST_ECORRUPT, "bad value of key \"%.*s\"", (int)klen, key);
    if (*seen & bit)
        return st_fail(err, ST_ECORRUPT, "key \"%.*s\" twice", (int)klen, key);
    *seen |= bit;
    switch (bit) {
    case SEEN_ID:
        return read_text(r, PROTO_MAX_NAME, &m->hello.id, "id", err);
    case SEEN_HOST:
        return read_text(r, PROTO_MAX_NAME, &m->hello.host, "host", err);
    case SEEN_VER:
        return read_text(r, PROTO_MAX_NAME, &m->hello.version, "ver", err);
    case SEEN_CPU:
        return read_text(r, PROTO_MAX_NAME, &m->hello.cpu, "cpu", err);
    case SEEN_SLOTS:
        return read_u32(r, 1, PROTO_MAX_SLOTS, &m->hello.slots, "slots", err);
    case SEEN_NUMA:
        return read_u32(r, 0, PROTO_MAX_NUMA, &m->hello.numa, "numa", err);
    case SEEN_ITEMS:
        return read_items(r, m, err);
    case SEEN_REASON:
        return read_text(r, PROTO_MAX_TEXT, &m->reason, "reason", err);
    default:
        return mpread_bool(r, &m->retry) == ST_OK
                   ? ST_OK
                   : st_fail(err, ST_ECORRUPT, "\"retry\" is not a bool at byte %zu", r->pos);
    }
}

/* The fields a message of each type must have. */
static unsigned required(proto_type_t type)
{
    switch (type) {
    case PROTO_HELLO:
        return SEEN_ID | SEEN_HOST | SEEN_VER | SEEN_SLOTS;
    case PROTO_JOBS:
    case PROTO_RESULTS:
        return SEEN_ITEMS;
    case PROTO_REFUSED:
        return SEEN_REASON | SEEN_RETRY;
    default:
        return 0;
    }
}

st_rc_t proto__decode_range(const void *p, size_t len, uint32_t lo, uint32_t hi,
                            proto__field_fn read, unsigned (*need)(proto_type_t), proto_msg_t *out,
                            st_err_t *err)
{
    proto_msg_t m = {0};
    mpread_t r;
    uint32_t left, type, klen;
    unsigned seen = 0;
    const char *key;
    st_rc_t rc;

    if (len > PROTO_MAX_MSG)
        return st_fail(err, ST_ELIMIT, "message of %zu bytes (limit %zu)", len, PROTO_MAX_MSG);
    mpread_init(&r, p, len);
    if (!read_header(&r, &left, &m.version, &type))
        return st_fail(err, ST_ECORRUPT, "not a message: no map starting with \"v\" and \"t\"");
    if (m.version != PROTO_VERSION)
        return st_fail(err, ST_ECORRUPT, "protocol version %u (expected %d)", m.version,
                       PROTO_VERSION);
    if (type < lo || type > hi)
        return st_fail(err, ST_ECORRUPT, "unexpected message type %u (%s)", type,
                       proto_type_name(type));
    m.type = (proto_type_t)type;
    for (uint32_t i = 0; i < left; i++) {
        if (mpread_str(&r, &key, &klen) != ST_OK)
            return st_fail(err, ST_ECORRUPT, "a key is not a string at byte %zu", r.pos);
        if ((rc = read(&r, &m, key, klen, &seen, err)) != ST_OK)
            return rc;
    }
    if (r.pos != len)
        return st_fail(err, ST_ECORRUPT, "%zu bytes after the message", len - r.pos);
    if ((seen & need(m.type)) != need(m.type))
        return st_fail(err, ST_ECORRUPT, "%s without a required field", proto_type_name(type));
    *out = m;
    return ST_OK;
}

st_rc_t proto_decode(const void *p, size_t len, proto_msg_t *out, st_err_t *err)
{
    return proto__decode_range(p, len, PROTO_HELLO, PROTO_REFUSED, read_field, required, out, err);
}

bool proto_next_job(proto_msg_t *m, proto_job_t *job)
{
    if (m->type != PROTO_JOBS || m->items_left_ == 0)
        return false;
    if (read_job(&m->items_, job, NULL) != ST_OK) {
        m->items_left_ = 0; /* cannot happen after proto_decode; stop anyway */
        return false;
    }
    m->items_left_--;
    return true;
}

bool proto_next_result(proto_msg_t *m, proto_result_t *res)
{
    if (m->type != PROTO_RESULTS || m->items_left_ == 0)
        return false;
    if (read_result(&m->items_, res, NULL) != ST_OK) {
        m->items_left_ = 0;
        return false;
    }
    m->items_left_--;
    return true;
}

/* ---- encoding ------------------------------------------------------------ */

static int pack_field(msgpack_packer *pk, const char *key, proto_str_t s)
{
    return pack_key(pk, key) || pack_str(pk, s.ptr, s.len) ? -1 : 0;
}

st_rc_t proto_encode_hello(buf_t *b, const proto_hello_t *h)
{
    msgpack_packer pk;

    if (h->id.len > PROTO_MAX_NAME || h->host.len > PROTO_MAX_NAME ||
        h->version.len > PROTO_MAX_NAME || h->cpu.len > PROTO_MAX_NAME || h->slots < 1 ||
        h->slots > PROTO_MAX_SLOTS || h->numa > PROTO_MAX_NUMA)
        return ST_ELIMIT;
    mpbuf_packer(&pk, b);
    if (pack_header(&pk, PROTO_HELLO, 8) || pack_field(&pk, "id", h->id) ||
        pack_field(&pk, "host", h->host) || pack_field(&pk, "ver", h->version) ||
        pack_key(&pk, "slots") || msgpack_pack_uint32(&pk, h->slots) || pack_key(&pk, "numa") ||
        msgpack_pack_uint32(&pk, h->numa) || pack_field(&pk, "cpu", h->cpu))
        return ST_ENOMEM;
    return ST_OK;
}

st_rc_t proto_encode_heartbeat(buf_t *b)
{
    msgpack_packer pk;

    mpbuf_packer(&pk, b);
    return pack_header(&pk, PROTO_HEARTBEAT, 2) ? ST_ENOMEM : ST_OK;
}

st_rc_t proto_encode_bye(buf_t *b, const char *reason)
{
    msgpack_packer pk;
    size_t n = reason != NULL ? strlen(reason) : 0;

    if (n > PROTO_MAX_TEXT)
        return ST_ELIMIT;
    mpbuf_packer(&pk, b);
    if (pack_header(&pk, PROTO_BYE, reason != NULL ? 3 : 2) ||
        (reason != NULL && (pack_key(&pk, "reason") || pack_str(&pk, reason, n))))
        return ST_ENOMEM;
    return ST_OK;
}

st_rc_t proto_encode_refused(buf_t *b, const char *reason, bool retry)
{
    msgpack_packer pk;
    size_t n = strlen(reason);

    if (n > PROTO_MAX_TEXT)
        return ST_ELIMIT;
    mpbuf_packer(&pk, b);
    if (pack_header(&pk, PROTO_REFUSED, 4) || pack_key(&pk, "reason") || pack_str(&pk, reason, n) ||
        pack_key(&pk, "retry") || (retry ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk)))
        return ST_ENOMEM;
    return ST_OK;
}

st_rc_t proto_batch_begin(proto_batch_t *batch, buf_t *b, proto_type_t type)
{
    static const uint8_t array32[5] = {0xdd, 0, 0, 0, 0};
    msgpack_packer pk;

    if (type != PROTO_JOBS && type != PROTO_RESULTS)
        return ST_EINVAL;
    mpbuf_packer(&pk, b);
    if (pack_header(&pk, type, 3) || pack_key(&pk, type == PROTO_JOBS ? "jobs" : "results"))
        return ST_ENOMEM;
    *batch = (proto_batch_t){.b = b, .count_at = b->len, .type = type};
    return buf_append(b, array32, sizeof array32) == ST_OK ? ST_OK : ST_ENOMEM;
}

st_rc_t proto_batch_job(proto_batch_t *batch, uint64_t id, uint32_t kind, span_t input)
{
    msgpack_packer pk;
    size_t mark = batch->b->len;

    if (batch->type != PROTO_JOBS)
        return ST_EINVAL;
    if (!batch_room(batch, input.len) || kind > PROTO_MAX_KIND)
        return ST_ELIMIT;
    mpbuf_packer(&pk, batch->b);
    if (msgpack_pack_array(&pk, 3) || msgpack_pack_uint64(&pk, id) ||
        msgpack_pack_uint32(&pk, kind) || msgpack_pack_bin(&pk, input.len) ||
        msgpack_pack_bin_body(&pk, input.ptr, input.len)) {
        drop_tail(batch->b, mark);
        return ST_ENOMEM;
    }
    batch->n++;
    return ST_OK;
}

st_rc_t proto_batch_result(proto_batch_t *batch, uint64_t id, proto_status_t status, span_t data)
{
    msgpack_packer pk;
    size_t mark = batch->b->len;
    int bad;

    if (batch->type != PROTO_RESULTS || status > PROTO_STATUS_ERROR)
        return ST_EINVAL;
    if (!batch_room(batch, data.len) || (status == PROTO_STATUS_ERROR && data.len > PROTO_MAX_TEXT))
        return ST_ELIMIT;
    mpbuf_packer(&pk, batch->b);
    bad = msgpack_pack_array(&pk, 3) || msgpack_pack_uint64(&pk, id) ||
          msgpack_pack_uint32(&pk, (uint32_t)status);
    if (!bad && status == PROTO_STATUS_OK)
        bad = msgpack_pack_bin(&pk, data.len) || msgpack_pack_bin_body(&pk, data.ptr, data.len);
    else if (!bad)
        bad = pack_str(&pk, (const char *)data.ptr, data.len);
    if (bad) {
        drop_tail(batch->b, mark);
        return ST_ENOMEM;
    }
    batch->n++;
    return ST_OK;
}

void proto_batch_end(proto_batch_t *batch)
{
    uint8_t *p = batch->b->data + batch->count_at + 1;

    p[0] = (uint8_t)(batch->n >> 24);
    p[1] = (uint8_t)(batch->n >> 16);
    p[2] = (uint8_t)(batch->n >> 8);
    p[3] = (uint8_t)batch->n;
}
