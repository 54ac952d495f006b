/* digest.c - SHA-256 through OpenSSL's libcrypto.
 *
 * The SHA256_Init/Update/Final calls, not EVP: they run the same
 * CPU-dispatched code (SHA-NI, AVX2; the CPU is probed when libcrypto
 * loads), at the same speed on large inputs and faster on small ones, but
 * EVP's first use initialises OpenSSL's provider machinery, which cost 2
 * ms of every process start (a warm re-check is about 30 ms). OpenSSL 3
 * marks these calls deprecated, not removed; the deprecation warnings are
 * silenced here alone. The context is allocated with st_malloc so that
 * tests can make its creation fail. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "digest.h"

#include "alloc.h"

#include <openssl/sha.h>
#include <string.h>

struct digest_ctx {
    SHA256_CTX sha;
};

st_rc_t digest_sha256(const void *p, size_t n, digest_t *out)
{
    SHA256_CTX c;

    if (p == NULL && n > 0)
        return ST_EINVAL;
    if (SHA256_Init(&c) != 1 || (n > 0 && SHA256_Update(&c, p, n) != 1) ||
        SHA256_Final(out->b, &c) != 1)
        return ST_EINTERNAL;
    return ST_OK;
}

digest_ctx_t *digest_ctx_new(void)
{
    digest_ctx_t *ctx = st_malloc(sizeof *ctx);

    if (ctx == NULL)
        return NULL;
    if (SHA256_Init(&ctx->sha) != 1) {
        st_free(ctx);
        return NULL;
    }
    return ctx;
}

st_rc_t digest_ctx_update(digest_ctx_t *ctx, const void *p, size_t n)
{
    if (p == NULL && n > 0)
        return ST_EINVAL;
    if (n > 0 && SHA256_Update(&ctx->sha, p, n) != 1)
        return ST_EINTERNAL;
    return ST_OK;
}

st_rc_t digest_ctx_update_str(digest_ctx_t *ctx, const char *str)
{
    size_t n = strlen(str);
    uint8_t len[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
    st_rc_t rc = digest_ctx_update(ctx, len, sizeof len);

    return rc != ST_OK ? rc : digest_ctx_update(ctx, str, n);
}

st_rc_t digest_ctx_final(digest_ctx_t *ctx, digest_t *out)
{
    int ok = SHA256_Final(out->b, &ctx->sha) == 1;

    if (SHA256_Init(&ctx->sha) != 1 || !ok)
        return ST_EINTERNAL;
    return ST_OK;
}

void digest_ctx_destroy(digest_ctx_t **ctx_p)
{
    if (ctx_p == NULL || *ctx_p == NULL)
        return;
    st_free(*ctx_p);
    *ctx_p = NULL;
}

void digest_to_hex(const digest_t *d, char out[DIGEST_HEX_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";

    for (size_t i = 0; i < sizeof d->b; i++) {
        out[2 * i] = hex[d->b[i] >> 4];
        out[2 * i + 1] = hex[d->b[i] & 15];
    }
    out[DIGEST_HEX_LEN] = '\0';
}

int digest_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

st_rc_t digest_from_hex(const char *hex, size_t len, digest_t *out)
{
    digest_t d;

    if (len != DIGEST_HEX_LEN)
        return ST_EINVAL;
    for (size_t i = 0; i < sizeof d.b; i++) {
        int hi = digest_hex_value(hex[2 * i]), lo = digest_hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return ST_EINVAL;
        d.b[i] = (uint8_t)(hi << 4 | lo);
    }
    *out = d;
    return ST_OK;
}
