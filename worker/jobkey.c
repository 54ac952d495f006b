/* jobkey.c - canonical encodings of job inputs, hashed into cache keys.
 *
 * Keys are built in a small stack buffer and hashed in one call: a key is
 * computed once per file per run, on the warm path too, so it costs one
 * SHA-256 over about a hundred bytes and no allocation. Every field carries
 * its length, and the encoding starts with a tag naming the scheme, so
 * changing the scheme (or adding a field) changes every key rather than
 * colliding with old ones. */
#include "worker/jobkey.h"

#include <stdint.h>
#include <string.h>

#define JOBKEY_TAG "strata-jobkey-1"
#define JOBKEY_MAX_VERSION 256
#define JOBKEY_MAX_ENCODING 512

typedef struct {
    uint8_t b[JOBKEY_MAX_ENCODING];
    size_t len;
} encoding_t;

/* Appends a length-prefixed field; the callers' sizes fit by construction. */
static void put_field(encoding_t *e, const void *p, size_t n)
{
    e->b[e->len++] = (uint8_t)(n >> 24);
    e->b[e->len++] = (uint8_t)(n >> 16);
    e->b[e->len++] = (uint8_t)(n >> 8);
    e->b[e->len++] = (uint8_t)n;
    memcpy(e->b + e->len, p, n);
    e->len += n;
}

static void put_u64(encoding_t *e, uint64_t v)
{
    uint8_t be[8];

    for (int i = 0; i < 8; i++)
        be[i] = (uint8_t)(v >> (56 - 8 * i));
    put_field(e, be, sizeof be);
}

st_rc_t jobkey_scan_config(const scan_opts_t *opts, digest_t *out)
{
    encoding_t e = {.len = 0};
    size_t max_bytes =
        opts->max_file_bytes != 0 ? opts->max_file_bytes : SCAN_DEFAULT_MAX_FILE_BYTES;

    put_field(&e, JOBKEY_TAG, strlen(JOBKEY_TAG));
    put_field(&e, "scan-config", strlen("scan-config"));
    put_field(&e, "max_file_bytes", strlen("max_file_bytes"));
    put_u64(&e, max_bytes);
    return digest_sha256(e.b, e.len, out);
}

st_rc_t jobkey_scan(const jobkey_scan_t *in, digest_t *out, st_err_t *err)
{
    encoding_t e = {.len = 0};
    size_t vlen;
    uint8_t kind;
    st_rc_t rc;

    if (in->version == NULL || (vlen = strlen(in->version)) > JOBKEY_MAX_VERSION)
        return st_fail(err, ST_EINVAL, "job key: missing or overlong analyzer version");
    kind = (uint8_t)in->kind;
    put_field(&e, JOBKEY_TAG, strlen(JOBKEY_TAG));
    put_field(&e, "scan", strlen("scan"));
    put_field(&e, in->version, vlen);
    put_field(&e, in->config.b, sizeof in->config.b);
    put_field(&e, &kind, 1);
    put_field(&e, in->content.b, sizeof in->content.b);
    if (scan_kind_is_stub(in->kind)) { /* a .py's key stays free of the target */
        scan_target_t t = scan_target_resolve(&in->target);
        uint8_t version[2] = {t.major, t.minor};
        put_field(&e, "target", strlen("target"));
        put_field(&e, version, sizeof version);
        put_field(&e, t.platform, strlen(t.platform));
    }
    if ((rc = digest_sha256(e.b, e.len, out)) != ST_OK)
        return st_fail(err, rc, "job key: SHA-256 failed");
    return ST_OK;
}
