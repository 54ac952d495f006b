/* digest.h - SHA-256 content digests.
 *
 * Every file and every job result is named by the SHA-256 of its bytes: the
 * cache key of a scan job, the CAS blob name, the early-cutoff check of an
 * interface. A digest_t is a plain 32-byte value, copied and compared freely.
 * OpenSSL's libcrypto computes it (hardware SHA extensions when present). */
#ifndef STRATA_DIGEST_H
#define STRATA_DIGEST_H

#include "common/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    uint8_t b[32];
} digest_t;

#define DIGEST_HEX_LEN 64

typedef struct digest_ctx digest_ctx_t;

/* SHA-256 of p[0..n) into *out (p may be NULL when n is 0). ST_EINVAL for
 * p NULL with n > 0; ST_EINTERNAL when libcrypto fails (e.g. out of memory
 * inside it); *out untouched then. Thread-safe. */
st_rc_t digest_sha256(const void *p, size_t n, digest_t *out);

/* Streaming hash: new, update..., final. A context is ready for a new message
 * after final. Caller frees it with digest_ctx_destroy. NULL when out of
 * memory. A context is used by one thread at a time. */
digest_ctx_t *digest_ctx_new(void);

/* Feeds p[0..n). ST_EINVAL for p NULL with n > 0; ST_EINTERNAL on a
 * libcrypto failure (the message is then lost: start over with final). */
st_rc_t digest_ctx_update(digest_ctx_t *ctx, const void *p, size_t n);

/* Feeds str's length (4 bytes, big-endian) then its bytes: fields fed
 * this way cannot run into each other ("ab","c" is not "a","bc"). */
st_rc_t digest_ctx_update_str(digest_ctx_t *ctx, const char *str);

/* The digest of everything fed since new (or the last final) into *out, and
 * resets ctx for the next message. ST_EINTERNAL on a libcrypto failure (ctx is
 * reset anyway, *out untouched). */
st_rc_t digest_ctx_final(digest_ctx_t *ctx, digest_t *out);

/* Frees ctx, sets *ctx_p to NULL; accepts NULL. */
void digest_ctx_destroy(digest_ctx_t **ctx_p);

/* Lowercase hex into out[0..64) plus a NUL at out[64]. */
void digest_to_hex(const digest_t *d, char out[DIGEST_HEX_LEN + 1]);

/* The value (0..15) of the hex digit c, either case; -1 for any other
 * character. Shared by every hex parser (digests, cpusets). */
int digest_hex_value(char c);

/* Parses exactly 64 hex digits (either case) from hex[0..len). ST_EINVAL on a
 * wrong length or a non-hex character; *out untouched then. */
st_rc_t digest_from_hex(const char *hex, size_t len, digest_t *out);

/* True when a and b are the same digest. */
static inline bool digest_eq(const digest_t *a, const digest_t *b)
{
    return memcmp(a->b, b->b, sizeof a->b) == 0;
}

#endif
