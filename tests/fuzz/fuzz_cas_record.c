/* fuzz_cas_record.c - cas_record_decode on arbitrary bytes (a record read
 * back from the disk tier), for the namespace and key the record names
 * itself so that the decoder gets past its header checks; and the same
 * bytes as a value, encoded and decoded back.
 * Properties: a decode is ST_OK, ST_ENOENT (another format version),
 * ST_ECORRUPT, or ST_ENOMEM only for a record that claims more than the
 * arena's cap; a value round-trips exactly. */
#include "fuzz.h"

#include "common/cas/cas.h"
#include "common/cas/cas_record.h"
#include "common/alloc.h"

#include <string.h>

enum { KEY_AT = 12, LEN_AT = 8 };

static uint32_t claimed(const uint8_t *data, size_t size)
{
    if (size < LEN_AT + 4)
        return 0;
    return (uint32_t)data[LEN_AT] | (uint32_t)data[LEN_AT + 1] << 8 |
           (uint32_t)data[LEN_AT + 2] << 16 | (uint32_t)data[LEN_AT + 3] << 24;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ZSTD_DCtx *dctx;
    static ZSTD_CCtx *cctx;
    arena_t *a = fuzz_arena();
    digest_t key = {0};
    int ns = size > 5 ? data[5] : 0;
    span_t v = {0};
    st_err_t err = {0};
    st_rc_t rc;
    uint8_t *rec = NULL;
    size_t rec_len = 0;

    if (dctx == NULL && (dctx = ZSTD_createDCtx()) == NULL)
        abort();
    if (cctx == NULL && (cctx = ZSTD_createCCtx()) == NULL)
        abort();
    if (size >= KEY_AT + sizeof key.b)
        memcpy(key.b, data + KEY_AT, sizeof key.b);
    rc = cas_record_decode(dctx, ns, &key, data, size, a, &v, &err);
    FUZZ_ASSERT(rc == ST_OK || rc == ST_ENOENT || rc == ST_ECORRUPT ||
                (rc == ST_ENOMEM && claimed(data, size) > FUZZ_ARENA_LIMIT / 2));
    if (rc == ST_OK)
        FUZZ_ASSERT(v.len == claimed(data, size));

    /* the input as a value: what is encoded decodes to itself */
    arena_reset(a);
    rc = cas_record_encode(cctx, 1, CAS_RESULTS, &key, data, size, &rec, &rec_len);
    FUZZ_ASSERT(rc == ST_OK);
    rc = cas_record_decode(dctx, CAS_RESULTS, &key, rec, rec_len, a, &v, &err);
    FUZZ_ASSERT(rc == ST_OK && v.len == size && (size == 0 || memcmp(v.ptr, data, size) == 0));
    /* and not under another key */
    key.b[0] ^= 1;
    FUZZ_ASSERT(cas_record_decode(dctx, CAS_RESULTS, &key, rec, rec_len, a, &v, &err) ==
                ST_ECORRUPT);
    st_free(rec);
    return 0;
}
