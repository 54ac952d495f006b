/* jobs.c - running a job from its input document (see jobs.h).
 *
 * A scan job's input wraps the file's bytes with the things besides them
 * that its result depends on (the file kind, the size limit and the target
 * a stub's branches are decided for), so
 * a worker needs nothing but the message to reproduce the in-process
 * result; the path stays on the coordinator, as the scan key says it must. */
#include "worker/jobs.h"

#include "common/mpbuf.h"
#include "common/mpread.h"
#include "worker/python/xmod.h"

#include <msgpack.h>
#include <string.h>

st_rc_t jobs_scan_input(buf_t *b, scan_kind_t kind, const scan_opts_t *opts, const uint8_t *src,
                        size_t len, st_err_t *err)
{
    size_t max = opts != NULL ? opts->max_file_bytes : 0;
    scan_target_t t = scan_target_resolve(opts != NULL ? &opts->target : NULL);
    size_t plen = strlen(t.platform);
    msgpack_packer pk;

    if (len > UINT32_MAX || max > UINT32_MAX)
        return st_fail(err, ST_ELIMIT, "scan input of %zu bytes is too large", len);
    if (buf_reserve(b, len + 64) != ST_OK)
        return st_fail(err, ST_ENOMEM, "out of memory building a scan input");
    mpbuf_packer(&pk, b);
    if (msgpack_pack_array(&pk, 4) || msgpack_pack_uint32(&pk, (uint32_t)kind) ||
        msgpack_pack_uint64(&pk, max) || msgpack_pack_array(&pk, 3) ||
        msgpack_pack_uint8(&pk, t.major) || msgpack_pack_uint8(&pk, t.minor) ||
        msgpack_pack_str(&pk, plen) || msgpack_pack_str_body(&pk, t.platform, plen) ||
        msgpack_pack_bin(&pk, len) || msgpack_pack_bin_body(&pk, src, len))
        return st_fail(err, ST_ENOMEM, "out of memory building a scan input");
    return ST_OK;
}

/* The target element of a scan input: [major, minor, platform]. */
static st_rc_t read_target(mpread_t *r, scan_target_t *t)
{
    uint32_t n, plen;
    uint64_t major, minor;
    const char *p;

    if (mpread_array(r, &n) != ST_OK || n != 3 || mpread_uint(r, &major) != ST_OK || major == 0 ||
        major > 255 || mpread_uint(r, &minor) != ST_OK || minor > 255 ||
        mpread_str(r, &p, &plen) != ST_OK || plen == 0 || plen >= sizeof t->platform ||
        memchr(p, '\0', plen) != NULL)
        return ST_ECORRUPT;
    memset(t, 0, sizeof *t);
    t->major = (uint8_t)major;
    t->minor = (uint8_t)minor;
    memcpy(t->platform, p, plen);
    return ST_OK;
}

static st_rc_t run_scan(scanner_t *scanner, span_t input, arena_t *a, span_t *out, st_err_t *err)
{
    mpread_t r;
    uint32_t n, len;
    uint64_t kind, max;
    const uint8_t *src;
    scan_opts_t opts = {0};

    if (scanner == NULL)
        return st_fail(err, ST_EINVAL, "scan job without a scanner");
    mpread_init(&r, input.ptr, input.len);
    if (mpread_array(&r, &n) != ST_OK || n != 4 || mpread_uint(&r, &kind) != ST_OK ||
        kind >= SCAN_N_KINDS || mpread_uint(&r, &max) != ST_OK || max > UINT32_MAX ||
        read_target(&r, &opts.target) != ST_OK || mpread_bin(&r, &src, &len) != ST_OK ||
        r.pos != input.len)
        return st_fail(err, ST_ECORRUPT, "malformed scan job input at byte %zu", r.pos);
    opts.max_file_bytes = (size_t)max;
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
