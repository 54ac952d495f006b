/* buf.c - growable byte buffer.
 *
 * Capacity doubles (from 64 bytes) so appends are amortised O(1); one extra
 * byte is always reserved for the NUL terminator. */
#include "buf.h"

#include "alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define BUF_MIN_CAP 64

void buf_init(buf_t *b)
{
    *b = (buf_t){NULL, 0, 0, NULL};
}

void buf_init_arena(buf_t *b, arena_t *a)
{
    *b = (buf_t){NULL, 0, 0, a};
}

/* Moves the bytes to a block of new_cap bytes. */
static st_rc_t grow_to(buf_t *b, size_t new_cap)
{
    uint8_t *p;

    if (b->arena != NULL)
        p = arena_realloc(b->arena, b->data, b->data != NULL ? b->len + 1 : 0, new_cap);
    else
        p = st_realloc(b->data, new_cap);
    if (p == NULL)
        return ST_ENOMEM;
    p[b->len] = 0;
    b->data = p;
    b->cap = new_cap;
    return ST_OK;
}

st_rc_t buf_reserve(buf_t *b, size_t extra)
{
    size_t need, new_cap;

    if (!st_add_size(b->len, extra, &need) || !st_add_size(need, 1, &need))
        return ST_ELIMIT;
    if (need <= b->cap)
        return ST_OK;
    new_cap = b->cap < BUF_MIN_CAP ? BUF_MIN_CAP : b->cap;
    while (new_cap < need)
        new_cap = new_cap > SIZE_MAX / 2 ? need : new_cap * 2;
    return grow_to(b, new_cap);
}

st_rc_t buf_append(buf_t *b, const void *p, size_t n)
{
    st_rc_t rc = buf_reserve(b, n);

    if (rc != ST_OK)
        return rc;
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
    return ST_OK;
}

st_rc_t buf_append_byte(buf_t *b, uint8_t c)
{
    if (b->len + 1 >= b->cap) {
        st_rc_t rc = buf_reserve(b, 1);
        if (rc != ST_OK)
            return rc;
    }
    b->data[b->len++] = c;
    b->data[b->len] = 0;
    return ST_OK;
}

st_rc_t buf_printf(buf_t *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    st_rc_t rc;

    if ((rc = buf_reserve(b, 0)) != ST_OK)
        return rc;
    va_start(ap, fmt);
    n = vsnprintf((char *)b->data + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->data[b->len] = 0;
        return ST_EINVAL;
    }
    if ((size_t)n >= b->cap - b->len) {
        if ((rc = buf_reserve(b, (size_t)n)) != ST_OK) {
            b->data[b->len] = 0;
            return rc;
        }
        va_start(ap, fmt);
        vsnprintf((char *)b->data + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
    return ST_OK;
}

void buf_reset(buf_t *b)
{
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = 0;
}

void buf_free(buf_t *b)
{
    if (b->arena == NULL)
        st_free(b->data);
    *b = (buf_t){NULL, 0, 0, b->arena};
}
