/* mpread.c - msgpack reading without allocation (see mpread.h). */
#include "mpread.h"

#include <string.h>

static bool have(const mpread_t *r, size_t pos, size_t n)
{
    return pos <= r->len && n <= r->len - pos;
}

static uint64_t be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* Reads a header whose fix form is [lo, lo+fixmax] and whose 8/16/32-bit
 * forms have the given type bytes (0 when absent). */
static st_rc_t read_len(mpread_t *r, uint8_t fixlo, uint8_t fixmask, uint8_t t8, uint8_t t16,
                        uint8_t t32, uint32_t *n, size_t *after)
{
    size_t pos = r->pos;
    uint8_t t;

    if (!have(r, pos, 1))
        return ST_ECORRUPT;
    t = r->p[pos];
    if (fixmask && (t & (uint8_t)~fixmask) == fixlo) {
        *n = t & fixmask;
        *after = pos + 1;
        return ST_OK;
    }
    int w = t8 && t == t8 ? 1 : t16 && t == t16 ? 2 : t32 && t == t32 ? 4 : 0;
    if (w == 0 || !have(r, pos + 1, (size_t)w))
        return ST_ECORRUPT;
    *n = (uint32_t)be(r->p + pos + 1, w);
    *after = pos + 1 + (size_t)w;
    return ST_OK;
}

st_rc_t mpread_map(mpread_t *r, uint32_t *count)
{
    uint32_t n;
    size_t after;

    if (read_len(r, 0x80, 0x0f, 0, 0xde, 0xdf, &n, &after) != ST_OK)
        return ST_ECORRUPT;
    /* every entry takes at least two bytes */
    if ((uint64_t)n * 2 > r->len - after)
        return ST_ECORRUPT;
    *count = n;
    r->pos = after;
    return ST_OK;
}

st_rc_t mpread_array(mpread_t *r, uint32_t *count)
{
    uint32_t n;
    size_t after;

    if (read_len(r, 0x90, 0x0f, 0, 0xdc, 0xdd, &n, &after) != ST_OK)
        return ST_ECORRUPT;
    if ((uint64_t)n > r->len - after)
        return ST_ECORRUPT;
    *count = n;
    r->pos = after;
    return ST_OK;
}

st_rc_t mpread_array_min(mpread_t *r, size_t min_bytes, uint32_t *count)
{
    size_t pos = r->pos;
    uint32_t n;

    if (mpread_array(r, &n) != ST_OK)
        return ST_ECORRUPT;
    if ((uint64_t)n * min_bytes > r->len - r->pos) {
        r->pos = pos;
        return ST_ECORRUPT;
    }
    *count = n;
    return ST_OK;
}

st_rc_t mpread_str(mpread_t *r, const char **s, uint32_t *len)
{
    uint32_t n;
    size_t after;

    if (read_len(r, 0xa0, 0x1f, 0xd9, 0xda, 0xdb, &n, &after) != ST_OK || !have(r, after, n))
        return ST_ECORRUPT;
    *s = (const char *)r->p + after;
    *len = n;
    r->pos = after + n;
    return ST_OK;
}

st_rc_t mpread_bin(mpread_t *r, const uint8_t **s, uint32_t *len)
{
    uint32_t n;
    size_t after;

    if (read_len(r, 0, 0, 0xc4, 0xc5, 0xc6, &n, &after) != ST_OK || !have(r, after, n))
        return ST_ECORRUPT;
    *s = r->p + after;
    *len = n;
    r->pos = after + n;
    return ST_OK;
}

st_rc_t mpread_int(mpread_t *r, int64_t *v)
{
    size_t pos = r->pos;
    uint8_t t;
    int w;

    if (!have(r, pos, 1))
        return ST_ECORRUPT;
    t = r->p[pos];
    if (t <= 0x7f || t >= 0xe0) {
        *v = (int8_t)t;
        r->pos = pos + 1;
        return ST_OK;
    }
    switch (t) {
    case 0xcc:
    case 0xd0:
        w = 1;
        break;
    case 0xcd:
    case 0xd1:
        w = 2;
        break;
    case 0xce:
    case 0xd2:
        w = 4;
        break;
    case 0xcf:
    case 0xd3:
        w = 8;
        break;
    default:
        return ST_ECORRUPT;
    }
    if (!have(r, pos + 1, (size_t)w))
        return ST_ECORRUPT;
    uint64_t u = be(r->p + pos + 1, w);
    if (t >= 0xd0) {
        int shift = 64 - 8 * w;
        *v = shift ? (int64_t)(u << shift) >> shift : (int64_t)u;
    } else {
        if (u > INT64_MAX)
            return ST_ECORRUPT;
        *v = (int64_t)u;
    }
    r->pos = pos + 1 + (size_t)w;
    return ST_OK;
}

st_rc_t mpread_uint(mpread_t *r, uint64_t *v)
{
    size_t pos = r->pos;
    int64_t s;

    if (have(r, pos, 9) && r->p[pos] == 0xcf) {
        *v = be(r->p + pos + 1, 8);
        r->pos = pos + 9;
        return ST_OK;
    }
    if (mpread_int(r, &s) != ST_OK)
        return ST_ECORRUPT;
    if (s < 0) {
        r->pos = pos;
        return ST_ECORRUPT;
    }
    *v = (uint64_t)s;
    return ST_OK;
}

st_rc_t mpread_u32(mpread_t *r, uint32_t *v)
{
    size_t pos = r->pos;
    uint64_t x;

    if (mpread_uint(r, &x) != ST_OK)
        return ST_ECORRUPT;
    if (x > UINT32_MAX) {
        r->pos = pos;
        return ST_ECORRUPT;
    }
    *v = (uint32_t)x;
    return ST_OK;
}

st_rc_t mpread_bool(mpread_t *r, bool *v)
{
    if (!have(r, r->pos, 1) || (r->p[r->pos] != 0xc2 && r->p[r->pos] != 0xc3))
        return ST_ECORRUPT;
    *v = r->p[r->pos++] == 0xc3;
    return ST_OK;
}

bool mpread_nil(mpread_t *r)
{
    if (have(r, r->pos, 1) && r->p[r->pos] == 0xc0) {
        r->pos++;
        return true;
    }
    return false;
}

bool mpread_key(mpread_t *r, const char *key)
{
    size_t pos = r->pos;
    const char *s;
    uint32_t n;

    if (mpread_str(r, &s, &n) == ST_OK && n == strlen(key) && memcmp(s, key, n) == 0)
        return true;
    r->pos = pos;
    return false;
}

/* Skips one value; depth guards the C stack against nesting bombs. */
static st_rc_t skip_depth(mpread_t *r, int depth)
{
    size_t pos = r->pos;
    uint32_t n;
    const char *s;
    const uint8_t *b;
    int64_t i;
    uint8_t t;

    if (depth > MPREAD_MAX_DEPTH || !have(r, pos, 1))
        return ST_ECORRUPT;
    t = r->p[pos];
    if (t == 0xc0 || t == 0xc2 || t == 0xc3) {
        r->pos++;
        return ST_OK;
    }
    if (mpread_str(r, &s, &n) == ST_OK || mpread_bin(r, &b, &n) == ST_OK ||
        mpread_int(r, &i) == ST_OK)
        return ST_OK;
    if (t == 0xcf) { /* uint64 beyond int64 */
        uint64_t u;
        return mpread_uint(r, &u);
    }
    if (t == 0xca || t == 0xcb) {
        size_t w = t == 0xca ? 4 : 8;
        if (!have(r, pos + 1, w))
            return ST_ECORRUPT;
        r->pos = pos + 1 + w;
        return ST_OK;
    }
    if (mpread_array(r, &n) == ST_OK) {
        for (uint32_t k = 0; k < n; k++)
            if (skip_depth(r, depth + 1) != ST_OK)
                goto fail;
        return ST_OK;
    }
    if (mpread_map(r, &n) == ST_OK) {
        for (uint32_t k = 0; k < 2 * n; k++)
            if (skip_depth(r, depth + 1) != ST_OK)
                goto fail;
        return ST_OK;
    }
    return ST_ECORRUPT; /* ext types are not used by strata */
fail:
    r->pos = pos;
    return ST_ECORRUPT;
}

st_rc_t mpread_skip(mpread_t *r)
{
    return skip_depth(r, 0);
}
