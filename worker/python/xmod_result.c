/* xmod_result.c - the check job's result document (xmod.h): its one encoder
 * (from the model, once the rules ran) and its one decoder
 * (check_result_decode, for run/project_jobs.c). The diagnostics are lists of
 * common/mpdiag.h arrays, read as the scan result's are (scan.h). A
 * module's interface is kept as its bytes: the project stores them as they
 * are, keyed by their digest. */
#include "worker/python/xmod_int.h"

#include "common/mpdiag.h"

#include <string.h>

/* ---- writing ------------------------------------------------------------------ */

static void pack_file(const ctx_t *c, msgpack_packer *pk, const file_t *f)
{
    const mod_t *m = xmod__mod_get(c, f->name.id);

    msgpack_pack_map(pk, 4);
    mpbuf_cstr(pk, "file");
    msgpack_pack_uint32(pk, f->file);
    mpbuf_cstr(pk, "iface");
    if (f->export && m != NULL && m->file == f && m->iface != NULL)
        xmod__pack_iface(c, pk, m->iface);
    else
        msgpack_pack_nil(pk);
    mpbuf_cstr(pk, "diags");
    msgpack_pack_array(pk, f->diags.count);
    for (size_t i = 0; i < f->diags.count; i++) {
        const diag_t *d = &f->diags.items[i];
        mpdiag_pack_cstr(pk, d->line, d->col, d->code, d->msg);
    }
    mpbuf_cstr(pk, "drop");
    msgpack_pack_array(pk, f->n_drop);
    for (uint32_t i = 0; i < f->n_drop; i++) {
        msgpack_pack_array(pk, 2);
        msgpack_pack_uint32(pk, f->drop[i].line);
        msgpack_pack_uint32(pk, f->drop[i].col);
    }
}

st_rc_t xmod__encode(const ctx_t *c, span_t *out)
{
    buf_t b;
    mpbuf_t w;

    buf_init_arena(&b, c->a);
    if (buf_reserve(&b, 256) != ST_OK)
        return ST_ENOMEM;
    mpbuf_init(&w, &b);
    msgpack_pack_map(&w.pk, 2);
    mpbuf_cstr(&w.pk, "v");
    msgpack_pack_uint32(&w.pk, CHECK_RESULT_VERSION);
    mpbuf_cstr(&w.pk, "modules");
    msgpack_pack_array(&w.pk, c->n_files);
    for (uint32_t i = 0; i < c->n_files; i++)
        pack_file(c, &w.pk, &c->files[i]);
    if (mpbuf_status(&w) != ST_OK || b.data == NULL || buf_reserve(&b, 0) != ST_OK)
        return ST_ENOMEM;
    out->ptr = b.data;
    out->len = b.len;
    return ST_OK;
}

/* ---- reading ------------------------------------------------------------------- */

static st_rc_t rd_result_module(mpread_t *r, arena_t *a, check_module_t *m)
{
    uint32_t n, k, tn;
    size_t start;
    bool has_file = false;

    memset(m, 0, sizeof *m);
    if (mpread_map(r, &n) != ST_OK)
        return ST_ECORRUPT;
    for (uint32_t i = 0; i < n; i++) {
        if (mpread_key(r, "file")) {
            ST_TRY(mpread_u32(r, &m->file));
            has_file = true;
        } else if (mpread_key(r, "iface")) {
            if (mpread_nil(r))
                continue;
            start = r->pos;
            if (mpread_map(r, &k) != ST_OK)
                return ST_ECORRUPT;
            r->pos = start;
            if (mpread_skip(r) != ST_OK)
                return ST_ECORRUPT;
            m->iface.ptr = r->p + start;
            m->iface.len = r->pos - start;
        } else if (mpread_key(r, "diags")) {
            ST_TRY(scan_diags_read(r, a, &m->diags, &m->n_diags));
        } else if (mpread_key(r, "drop")) {
            if (mpread_array(r, &k) != ST_OK || k > SCAN_MAX_DIAGS)
                return ST_ECORRUPT;
            if (k > 0 && (m->drop = arena_alloc(a, (size_t)k * sizeof *m->drop)) == NULL)
                return ST_ENOMEM;
            for (uint32_t j = 0; j < k; j++) {
                if (mpread_array(r, &tn) != ST_OK || tn != 2)
                    return ST_ECORRUPT;
                ST_TRY(mpread_u32(r, &m->drop[j].line));
                ST_TRY(mpread_u32(r, &m->drop[j].col));
            }
            m->n_drop = k;
        } else if (mpread_skip(r) != ST_OK || mpread_skip(r) != ST_OK) {
            return ST_ECORRUPT;
        }
    }
    return has_file ? ST_OK : ST_ECORRUPT;
}

st_rc_t check_result_decode(span_t result, arena_t *a, check_module_t **mods, size_t *n,
                            st_err_t *err)
{
    mpread_t r;
    uint32_t nkeys, count = 0;
    uint64_t v = 0;
    check_module_t *items = NULL;
    bool seen = false;
    st_rc_t rc;

    mpread_init(&r, result.ptr, result.len);
    if (mpread_map(&r, &nkeys) != ST_OK)
        return st_fail(err, ST_ECORRUPT, "check result: not a map");
    for (uint32_t k = 0; k < nkeys; k++) {
        if (mpread_key(&r, "v")) {
            if (mpread_uint(&r, &v) != ST_OK || v != CHECK_RESULT_VERSION)
                return st_fail(err, ST_ECORRUPT, "check result: unknown version");
        } else if (mpread_key(&r, "modules") && !seen) {
            if (mpread_array(&r, &count) != ST_OK || count > SCAN_MAX_DIAGS)
                return st_fail(err, ST_ECORRUPT, "check result: bad module count");
            if (count > 0 && (items = arena_alloc(a, (size_t)count * sizeof *items)) == NULL)
                return st_fail(err, ST_ENOMEM, "arena exhausted decoding a check result");
            for (uint32_t i = 0; i < count; i++)
                if ((rc = rd_result_module(&r, a, &items[i])) != ST_OK)
                    return st_fail(err, rc, "check result: bad module %u near byte %zu", i, r.pos);
            seen = true;
        } else if (mpread_skip(&r) != ST_OK || mpread_skip(&r) != ST_OK) {
            return st_fail(err, ST_ECORRUPT, "check result: malformed entry at byte %zu", r.pos);
        }
    }
    if (!seen || v != CHECK_RESULT_VERSION)
        return st_fail(err, ST_ECORRUPT, "check result: missing version or modules");
    *mods = items;
    *n = count;
    return ST_OK;
}
