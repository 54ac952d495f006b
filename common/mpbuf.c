/* mpbuf.c - a msgpack_packer appending to a buf_t, failures sticky (see
 * mpbuf.h). */
#include "common/mpbuf.h"

#include <string.h>

static int mpbuf_write(void *data, const char *p, size_t n)
{
    mpbuf_t *w = data;

    if (w->failed || buf_append(w->b, p, n) != ST_OK) {
        w->failed = true;
        return -1;
    }
    return 0;
}

static int buf_write(void *data, const char *p, size_t n)
{
    return buf_append((buf_t *)data, p, n) == ST_OK ? 0 : -1;
}

void mpbuf_packer(msgpack_packer *pk, buf_t *b)
{
    msgpack_packer_init(pk, b, buf_write);
}

void mpbuf_init(mpbuf_t *w, buf_t *b)
{
    w->b = b;
    w->failed = false;
    msgpack_packer_init(&w->pk, w, mpbuf_write);
}

st_rc_t mpbuf_status(const mpbuf_t *w)
{
    return w->failed ? ST_ENOMEM : ST_OK;
}

int mpbuf_raw(mpbuf_t *w, const void *p, size_t n)
{
    return mpbuf_write(w, p, n);
}

int mpbuf_str(msgpack_packer *pk, const char *s, size_t n)
{
    return msgpack_pack_str(pk, n) || msgpack_pack_str_body(pk, s, n) ? -1 : 0;
}

int mpbuf_cstr(msgpack_packer *pk, const char *s)
{
    return mpbuf_str(pk, s, strlen(s));
}

int mpbuf_bin(msgpack_packer *pk, const void *p, size_t n)
{
    return msgpack_pack_bin(pk, n) || msgpack_pack_bin_body(pk, p, n) ? -1 : 0;
}

int mpbuf_bool(msgpack_packer *pk, bool b)
{
    return b ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
}
