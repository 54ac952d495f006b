/* proto_int.h - what the two halves of the wire protocol share: the
 * worker protocol (proto.c) and the client protocol (proto_client.c).
 *
 * Both speak the same envelope, a msgpack map opening with "v" and "t",
 * with the same limits, the same string and number checks and the same way
 * of filling a batch whose entry count is patched at the end; this header
 * holds those helpers so that each half keeps only its own messages. The
 * tiny ones are static inline; the decoding skeleton is defined once in
 * proto.c. Internal to common/proto*.c; the API is proto.h and
 * proto_client.h. */
#ifndef STRATA_PROTO_INT_H
#define STRATA_PROTO_INT_H

#include "common/proto.h"

#include "common/mpbuf.h"
#include "common/mpdiag.h"

#include <msgpack.h>
#include <string.h>

/* ---- decoding ------------------------------------------------------------ */

static inline st_rc_t read_text(mpread_t *r, uint32_t max, proto_str_t *out, const char *key,
                                st_err_t *err)
{
    if (mpread_str(r, &out->ptr, &out->len) != ST_OK)
        return st_fail(err, ST_ECORRUPT, "\"%s\" is not a string at byte %zu", key, r->pos);
    if (out->len > max)
        return st_fail(err, ST_ECORRUPT, "\"%s\" is %u bytes (limit %u)", key, out->len, max);
    return ST_OK;
}

static inline st_rc_t read_u32(mpread_t *r, uint32_t min, uint32_t max, uint32_t *out,
                               const char *key, st_err_t *err)
{
    uint64_t v;

    if (mpread_uint(r, &v) != ST_OK)
        return st_fail(err, ST_ECORRUPT, "\"%s\" is not an unsigned integer at byte %zu", key,
                       r->pos);
    if (v < min || v > max)
        return st_fail(err, ST_ECORRUPT, "\"%s\" is %llu (expected %u to %u)", key,
                       (unsigned long long)v, min, max);
    *out = (uint32_t)v;
    return ST_OK;
}

/* Reads the field named key (of klen bytes) of a message of m's type into
 * m, or skips it; *seen has a bit per field read so far. */
typedef st_rc_t (*proto__field_fn)(mpread_t *r, proto_msg_t *m, const char *key, uint32_t klen,
                                   unsigned *seen, st_err_t *err);

/* Decodes a message whose type is in [lo, hi], its fields read by read and
 * checked against need(type): the part both decoders share. ST_OK: *out is
 * filled; errors as proto_decode's. */
st_rc_t proto__decode_range(const void *p, size_t len, uint32_t lo, uint32_t hi,
                            proto__field_fn read, unsigned (*need)(proto_type_t), proto_msg_t *out,
                            st_err_t *err);

static inline int pack_str(msgpack_packer *pk, const char *s, size_t n)
{
    return msgpack_pack_str(pk, n) || msgpack_pack_str_body(pk, s, n) ? -1 : 0;
}

static inline int pack_key(msgpack_packer *pk, const char *s)
{
    return pack_str(pk, s, strlen(s));
}

/* The map header with "v" and "t", for a map of n entries in all. */
static inline int pack_header(msgpack_packer *pk, proto_type_t type, uint32_t n)
{
    return msgpack_pack_map(pk, n) || pack_key(pk, "v") || msgpack_pack_uint32(pk, PROTO_VERSION) ||
                   pack_key(pk, "t") || msgpack_pack_uint32(pk, (uint32_t)type)
               ? -1
               : 0;
}

/* Drops a partly written entry (keeping the terminator buf_t promises). */
static inline void drop_tail(buf_t *b, size_t len)
{
    b->len = len;
    b->data[len] = 0;
}

/* Room for one more entry carrying len bytes? */
static inline bool batch_room(const proto_batch_t *batch, size_t len)
{
    return batch->n < PROTO_MAX_JOBS && len <= PROTO_MAX_INPUT &&
           batch->b->len + len + proto_entry_overhead() <= PROTO_MAX_MSG;
}

#endif
