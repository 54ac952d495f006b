/* digest.c - SHA-256 through OpenSSL's EVP interface.
 *
 * EVP (not the deprecated SHA256_* calls) picks the fastest implementation
 * for the CPU. The algorithm is fetched once per process: EVP_sha256()
 * makes every call look the implementation up again in the provider's
 * tables (about half a microsecond, under a lock, per call: as much as
 * hashing 1 KB). OpenSSL is initialised without reading the system's
 * openssl.cnf, which nothing here needs and which cost 0.3 ms of every
 * process start. The context wrapper is allocated with st_malloc so that
 * tests can make its creation fail. */
#include "digest.h"

#include "alloc.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>
#include <pthread.h>

struct digest_ctx {
    EVP_MD_CTX *md;
};

static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static const EVP_MD *sha256_md;

static void sha256_init(void)
{
    EVP_MD *md;

    OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
    md = EVP_MD_fetch(NULL, "SHA256", NULL);
    /* Kept for the life of the process; EVP_sha256() fetches on each use. */
    sha256_md = md != NULL ? md : EVP_sha256();
}

/* The SHA-256 implementation, fetched on first use. */
static const EVP_MD *sha256(void)
{
    pthread_once(&sha256_once, sha256_init);
    return sha256_md;
}

st_rc_t digest_sha256(const void *p, size_t n, digest_t *out)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    if (p == NULL && n > 0)
        return ST_EINVAL;
    if (EVP_Digest(n > 0 ? p : "", n, md, &len, sha256(), NULL) != 1 || len != sizeof out->b)
        return ST_EINTERNAL;
    memcpy(out->b, md, sizeof out->b);
    return ST_OK;
}

digest_ctx_t *digest_ctx_new(void)
{
    digest_ctx_t *ctx = st_malloc(sizeof *ctx);

    if (ctx == NULL)
        return NULL;
    ctx->md = EVP_MD_CTX_new();
    if (ctx->md == NULL || EVP_DigestInit_ex(ctx->md, sha256(), NULL) != 1) {
        EVP_MD_CTX_free(ctx->md);
        st_free(ctx);
        return NULL;
    }
    return ctx;
}

st_rc_t digest_ctx_update(digest_ctx_t *ctx, const void *p, size_t n)
{
    if (p == NULL && n > 0)
        return ST_EINVAL;
    if (n > 0 && EVP_DigestUpdate(ctx->md, p, n) != 1)
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
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    int ok = EVP_DigestFinal_ex(ctx->md, md, &len) == 1 && len == sizeof out->b;

    if (EVP_DigestInit_ex(ctx->md, sha256(), NULL) != 1 || !ok)
        return ST_EINTERNAL;
    memcpy(out->b, md, sizeof out->b);
    return ST_OK;
}

void digest_ctx_destroy(digest_ctx_t **ctx_p)
{
    if (ctx_p == NULL || *ctx_p == NULL)
        return;
    EVP_MD_CTX_free((*ctx_p)->md);
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
