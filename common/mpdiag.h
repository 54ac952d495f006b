/* mpdiag.h - the diagnostic array [line, col, code, message] of every
 * document that carries diagnostics.
 *
 * The scan result, the check result, the whole-run record (run/project_whole.c)
 * and the DONE message of the client protocol (common/proto.h) all hold
 * diagnostics as this one array, so one encoder and one decoder serve them.
 * It lives in common/ because the wire protocol needs it and common/ may
 * not include worker/: the documents that own a list of diagnostics (scan.h,
 * xmod.h, proto.h) say where the list sits, this module what one element is.
 *
 * line and col are 1-based (col in bytes of the UTF-8 text); the code is 1
 * to MPDIAG_MAX_CODE bytes, the message at most MPDIAG_MAX_MESSAGE; neither
 * holds a NUL byte, so a decoded one can be copied into a C string. */
#ifndef STRATA_MPDIAG_H
#define STRATA_MPDIAG_H

#include "common/mpread.h"
#include "common/status.h"

#include <msgpack.h>
#include <stdint.h>

#define MPDIAG_MAX_CODE 32u
#define MPDIAG_MAX_MESSAGE 4096u

typedef struct {
    uint32_t line, col;
    const char *code; /* code_len bytes, not NUL-terminated when decoded */
    uint32_t code_len;
    const char *message;
    uint32_t message_len;
} mpdiag_t;

/* Writes d as the array. Returns 0, or -1 when a write failed (as the
 * msgpack_pack_* calls do). Lengths are not checked here: encoders write
 * what their own analysis produced. */
int mpdiag_pack(msgpack_packer *pk, const mpdiag_t *d);

/* As mpdiag_pack, for NUL-terminated code and message. */
int mpdiag_pack_cstr(msgpack_packer *pk, uint32_t line, uint32_t col, const char *code,
                     const char *message);

/* Reads one array at r's position (untrusted bytes). On ST_OK d's strings
 * point into r's bytes and r is past the array. ST_ECORRUPT when it is not
 * exactly four elements, line or col is not a uint32, or code or message is
 * not a string within the limits above (r then stays where it failed). */
st_rc_t mpdiag_read(mpread_t *r, mpdiag_t *d);

#endif
