/* cas_record.h - the on-disk form of one CAS value (private to common/cas).
 *
 * A record is what the disk tier stores: a fixed header (magic with the
 * format version, codec, the namespace and key it belongs to, the raw
 * length, a 128-bit XXH3 digest of the raw value) and the payload,
 * zstd-compressed or raw, whichever is smaller. The key inside the record
 * catches a bit flip that moves a record to another key; the digest catches
 * one in the value. The digest guards against damage, not against an
 * adversary (whoever can write the database can write a matching digest
 * too), so a fast non-cryptographic one does: the key that names the value
 * stays a SHA-256. Records read back are untrusted: decoding checks every
 * length before it allocates. */
#ifndef STRATA_CAS_RECORD_H
#define STRATA_CAS_RECORD_H

#include "common/arena.h"
#include "common/digest.h"
#include "common/status.h"

#include <stddef.h>
#include <stdint.h>
#include <zstd.h>

/* magic(4: "SCR" and the version) codec(1) ns(1) reserved(2)
 * raw_len(4, LE) key(32) xxh3_128(16, big-endian high half first) */
#define CAS_RECORD_HEADER 60

/* Encodes value[0..len) as a record for (ns, key), compressed at level with
 * cctx (used by one thread at a time). On ST_OK *out is st_malloc'd (caller
 * frees with st_free). ST_EINVAL over CAS_MAX_VALUE; ST_ENOMEM;
 * ST_EINTERNAL when zstd fails. */
st_rc_t cas_record_encode(ZSTD_CCtx *cctx, int level, int ns, const digest_t *key,
                          const void *value, size_t len, uint8_t **out, size_t *out_len);

/* Decodes rec[0..len) read for (ns, key) into arena a. ST_ENOENT when it is
 * a well-formed record of another format version (written by an older or
 * newer strata: unusable, not damaged). ST_ECORRUPT when the record is
 * malformed, belongs elsewhere, claims more than CAS_MAX_VALUE, or its
 * digest does not match; ST_ENOMEM when a is exhausted. *value is untouched
 * on failure. */
st_rc_t cas_record_decode(ZSTD_DCtx *dctx, int ns, const digest_t *key, const uint8_t *rec,
                          size_t len, arena_t *a, span_t *value, st_err_t *err);

#endif
