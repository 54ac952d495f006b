/* jobs.c - running a job from its input document (see jobs.h).
 *
 * A scan job's input wraps the file's bytes with the two things besides
 * them that its result depends on (the file kind and the size limit), so
 * a worker needs nothing but the message to reproduce the in-process
 * result; the path stays on the coordinator, as the scan key says it must. */
#include "worker/jobs.h"

#include "common/mpbuf.h"
#include "common/mpread.h"
#include "worker/python/xmod.h"

#include <msgpack.h>

st_rc_t jobs_scan_input(buf_t *b, scan_kind_t kind, const scan_opts_t *opts, const uint8_t *src,
                        size_t len, st_err_t *err)
{
    size_t max = opts != NULL ? opts->max_file_bytes : 0;
    msgpack_packer pk;

    if (len > UINT32_MAX || max > UINT32_MAX)
        return st_fail(err, ST_ELIMIT, "scan input of %zu bytes is too large", len);
    if (buf_reserve(b, len + 16) != ST_OK)
        return st_fail(err, ST_ENOMEM, "out of memory building a scan input");
    mpbuf_packer(&pk, b);
    if (msgpack_pack_array(&pk, 3) || msgpack_pack_uint32(&pk, (uint32_t)kind) ||
        msgpack_pack_uint64(&pk, max) || msgpack_pack_bin(&pk, len) ||
        msgpack_pack_bin_body(&pk, src, len))
        return st_fail(err, ST_ENOMEM, "out of memory building a scan input");
    return ST_OK;
}

static st_rc_t run_scan(scanner_t *scanner, span_t input, arena_t *a, span_t *out, st_err_t *err)
{
    mpread_t r;
    uint32_t n, len;
    uint64_t kind, max;
    const uint8_t *src;
    scan_opts_t opts;

    if (scanner == NULL)
        return st_fail(err, ST_EINVAL, "scan job without a scanner");
    mpread_init(&r, input.ptr, input.len);
    if (mpread_array(&r, &n) != ST_OK || n != 3 || mpread_uint(&r, &kind) != ST_OK ||
        kind > SCAN_KIND_INIT || mpread_uint(&r, &max) != ST_OK || max > UINT32_MAX ||
        mpread_bin(&r, &src, &len) != ST_OK || r.pos != input.len)
        return st_fail(err, ST_ECORRUPT, "malformed scan job input at byte %zu", r.pos);
    opts = (scan_opts_t){.max_file_bytes = (size_t)max};
    return scanner_run(scanner, &opts, (scan_kind_t)kind, src, len, a, out, err);
}

st_rc_t jobs_run(scanner_t *scanner, uint32_t kind, span_t input, arena_t *a, span_t *out,
                 st_err_t *err)
{
    switch (kind) {
    case JOBS_SCAN:
        return run_scan(scanner, input, a, out, err);
    case JOBS_CHECK:
        return check_run(input, a, out, err);
    case JOBS_ECHO:
        *out = input;
        return ST_OK;
    default:
        return st_fail(err, ST_EINVAL, "unknown job kind %u", kind);
    }
}

const char *jobs_kind_name(uint32_t kind)
{
    static const char *const names[JOBS_N_KINDS] = {"scan", "check", "echo"};

    return kind < JOBS_N_KINDS ? names[kind] : "?";
}
