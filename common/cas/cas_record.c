/* cas_record.c - encoding and verified decoding of CAS records.
 *
 * The decoder is the one place where bytes from disk become a value, so it
 * trusts nothing: the raw length is capped before anything is allocated, a
 * zstd frame must declare its content size and that size must agree with the
 * header, and the XXH3-128 digest of the result must match the one stored.
 * Any failure is ST_ECORRUPT and the caller treats the entry as a miss.
 *
 * The digest is XXH3 rather than SHA-256 because it is checked on every read
 * of a warm run, where SHA-256 of the values cost as much as the rest of the
 * lookup; XXH3 runs at memory speed. Version 1 records (SHA-256 digests, a
 * 76-byte header) read as ST_ENOENT: a miss whose result is recomputed and
 * stored again in this format. */
#include "common/cas/cas_record.h"

#include "common/alloc.h"
#include "common/cas/cas.h"

#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#define RECORD_VERSION '2'

static const uint8_t record_magic[4] = {'S', 'C', 'R', RECORD_VERSION};

enum { CODEC_RAW = 0, CODEC_ZSTD = 1 };

enum { OFF_CODEC = 4, OFF_NS = 5, OFF_LEN = 8, OFF_KEY = 12, OFF_SUM = 44 };

_Static_assert(OFF_SUM + sizeof(XXH128_canonical_t) == CAS_RECORD_HEADER, "record header layout");

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The digest of value[0..len) as stored in a record. */
static void value_sum(const void *value, size_t len, XXH128_canonical_t *out)
{
    XXH128_canonicalFromHash(out, XXH3_128bits(len > 0 ? value : "", len));
}

static void write_header(uint8_t *rec, int codec, int ns, const digest_t *key, const void *value,
                         size_t len)
{
    memcpy(rec, record_magic, 4);
    rec[OFF_CODEC] = (uint8_t)codec;
    rec[OFF_NS] = (uint8_t)ns;
    rec[6] = 0;
    rec[7] = 0;
    put_u32(rec + OFF_LEN, (uint32_t)len);
    memcpy(rec + OFF_KEY, key->b, 32);
    value_sum(value, len, (XXH128_canonical_t *)(rec + OFF_SUM));
}

st_rc_t cas_record_encode(ZSTD_CCtx *cctx, int level, int ns, const digest_t *key,
                          const void *value, size_t len, uint8_t **out, size_t *out_len)
{
    size_t bound = ZSTD_compressBound(len), cap, n;
    uint8_t *rec, *shrunk;

    if (len > CAS_MAX_VALUE || !st_add_size(bound > len ? bound : len, CAS_RECORD_HEADER, &cap))
        return ST_EINVAL;
    if ((rec = st_malloc(cap)) == NULL)
        return ST_ENOMEM;
    n = len == 0 ? 1 : ZSTD_compressCCtx(cctx, rec + CAS_RECORD_HEADER, bound, value, len, level);
    if (ZSTD_isError(n)) {
        st_free(rec);
        return ST_EINTERNAL;
    }
    if (n < len) {
        write_header(rec, CODEC_ZSTD, ns, key, value, len);
    } else {
        write_header(rec, CODEC_RAW, ns, key, value, len);
        if (len > 0)
            memcpy(rec + CAS_RECORD_HEADER, value, len);
        n = len;
    }
    /* Give back the compression slack; keeping it is harmless if this fails. */
    if (cap - (n + CAS_RECORD_HEADER) > 256 && (shrunk = st_realloc(rec, n + CAS_RECORD_HEADER)))
        rec = shrunk;
    *out = rec;
    *out_len = n + CAS_RECORD_HEADER;
    return ST_OK;
}

/* A record of another version: "SCR" and a version digit not ours. */
static bool other_version(const uint8_t *rec, size_t len)
{
    return len >= 4 && memcmp(rec, record_magic, 3) == 0 && rec[3] >= '1' && rec[3] <= '9' &&
           rec[3] != RECORD_VERSION;
}

static st_rc_t check_header(int ns, const digest_t *key, const uint8_t *rec, size_t len,
                            uint32_t *raw_len, st_err_t *err)
{
    if (other_version(rec, len))
        return st_fail(err, ST_ENOENT, "cas record: format version %c, not %c", rec[3],
                       RECORD_VERSION);
    if (len < CAS_RECORD_HEADER || memcmp(rec, record_magic, 4) != 0)
        return st_fail(err, ST_ECORRUPT, "cas record: bad header (%zu bytes)", len);
    if (rec[OFF_CODEC] > CODEC_ZSTD || rec[OFF_NS] != (uint8_t)ns || rec[6] != 0 || rec[7] != 0)
        return st_fail(err, ST_ECORRUPT, "cas record: bad codec or namespace");
    if (memcmp(rec + OFF_KEY, key->b, 32) != 0)
        return st_fail(err, ST_ECORRUPT, "cas record: stored under another key");
    *raw_len = get_u32(rec + OFF_LEN);
    if (*raw_len > CAS_MAX_VALUE)
        return st_fail(err, ST_ECORRUPT, "cas record: claims %u bytes", *raw_len);
    return ST_OK;
}

static st_rc_t decompress(ZSTD_DCtx *dctx, const uint8_t *src, size_t n, uint8_t *dst,
                          uint32_t raw_len, st_err_t *err)
{
    unsigned long long declared = ZSTD_getFrameContentSize(src, n);
    size_t got;

    if (declared == ZSTD_CONTENTSIZE_UNKNOWN || declared == ZSTD_CONTENTSIZE_ERROR ||
        declared != raw_len)
        return st_fail(err, ST_ECORRUPT, "cas record: frame size does not match");
    got = ZSTD_decompressDCtx(dctx, dst, raw_len, src, n);
    if (ZSTD_isError(got) || got != raw_len)
        return st_fail(err, ST_ECORRUPT, "cas record: undecodable payload");
    return ST_OK;
}

st_rc_t cas_record_decode(ZSTD_DCtx *dctx, int ns, const digest_t *key, const uint8_t *rec,
                          size_t len, arena_t *a, span_t *value, st_err_t *err)
{
    const uint8_t *payload = rec + CAS_RECORD_HEADER;
    size_t n = len - CAS_RECORD_HEADER;
    uint32_t raw_len = 0;
    XXH128_canonical_t sum;
    uint8_t *dst;
    st_rc_t rc;

    if ((rc = check_header(ns, key, rec, len, &raw_len, err)) != ST_OK)
        return rc;
    if (rec[OFF_CODEC] == CODEC_RAW && n != raw_len)
        return st_fail(err, ST_ECORRUPT, "cas record: raw length %zu, header %u", n, raw_len);
    if (rec[OFF_CODEC] == CODEC_ZSTD && (n == 0 || n >= raw_len))
        return st_fail(err, ST_ECORRUPT, "cas record: compressed payload too large");
    if ((dst = arena_alloc(a, raw_len)) == NULL)
        return st_fail(err, ST_ENOMEM, "cas record: arena exhausted");
    if (rec[OFF_CODEC] == CODEC_RAW) {
        if (raw_len > 0)
            memcpy(dst, payload, raw_len);
    } else if ((rc = decompress(dctx, payload, n, dst, raw_len, err)) != ST_OK) {
        return rc;
    }
    value_sum(dst, raw_len, &sum);
    if (memcmp(sum.digest, rec + OFF_SUM, sizeof sum.digest) != 0)
        return st_fail(err, ST_ECORRUPT, "cas record: digest mismatch");
    value->ptr = dst;
    value->len = raw_len;
    return ST_OK;
}
