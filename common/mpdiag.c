/* mpdiag.c - the diagnostic array [line, col, code, message] (see mpdiag.h). */
#include "common/mpdiag.h"

#include "common/mpbuf.h"

#include <string.h>

int mpdiag_pack(msgpack_packer *pk, const mpdiag_t *d)
{
    return msgpack_pack_array(pk, 4) || msgpack_pack_uint32(pk, d->line) ||
                   msgpack_pack_uint32(pk, d->col) || mpbuf_str(pk, d->code, d->code_len) ||
                   mpbuf_str(pk, d->message, d->message_len)
               ? -1
               : 0;
}

int mpdiag_pack_cstr(msgpack_packer *pk, uint32_t line, uint32_t col, const char *code,
                     const char *message)
{
    mpdiag_t d = {line, col, code, (uint32_t)strlen(code), message, (uint32_t)strlen(message)};
    return mpdiag_pack(pk, &d);
}

static st_rc_t read_text(mpread_t *r, uint32_t min, uint32_t max, const char **s, uint32_t *len)
{
    if (mpread_str(r, s, len) != ST_OK || *len < min || *len > max || memchr(*s, 0, *len) != NULL)
        return ST_ECORRUPT;
    return ST_OK;
}

st_rc_t mpdiag_read(mpread_t *r, mpdiag_t *d)
{
    uint32_t n;
    mpdiag_t x;

    if (mpread_array(r, &n) != ST_OK || n != 4 || mpread_u32(r, &x.line) != ST_OK ||
        mpread_u32(r, &x.col) != ST_OK ||
        read_text(r, 1, MPDIAG_MAX_CODE, &x.code, &x.code_len) != ST_OK ||
        read_text(r, 0, MPDIAG_MAX_MESSAGE, &x.message, &x.message_len) != ST_OK)
        return ST_ECORRUPT;
    *d = x;
    return ST_OK;
}
