/* batch_env.c - a batch's finder of library modules: its client, asked
 * one round at a time (see batch_env.h).
 *
 * A round is one LOOKUP with every name the round needs (more than a
 * message takes go in several), one LIBFILES back, then at most one NEED
 * for the library contents the cache lacks, each content asked for once
 * per round however many files share it. The answer is decoded and every
 * entry validated before any of it is used; paths are copied into the
 * batch's arena, since the run keeps them to the end. The batch gives its
 * run slot back while it waits for its client and takes it again after,
 * so that a client that answers slowly holds up no other batch; one that
 * stalls is dropped after DAEMON_UPLOAD_IDLE_MS. */
#include "coordinator/batch_env.h"

#include "common/alloc.h"
#include "common/hmap.h"
#include "common/proto_client.h"
#include "coordinator/batch.h"

#include <string.h>

_Static_assert(LIB_FILE == PROTO_LIB_FILE && LIB_OPEN == PROTO_LIB_MAX_KIND &&
                   LIB_FROM_HOOK == PROTO_LIB_MAX_FROM,
               "LIBFILES numbers are run/libfind.h's");

/* A library file of the answer with a digest: registered as the batch's
 * next library blob (NEED index n_files + k), and asked for when neither
 * the cache nor an earlier file of this round has its content. */
static st_rc_t add_lib(batch_t *b, const proto_libmod_t *l, hmap_t *round, uint32_t *need,
                       size_t *n_need, st_err_t *err)
{
    batch_lib_t *lib;
    span_t v;

    if (l->size > b->max_file_bytes)
        return st_fail(err, ST_ECORRUPT, "the client gave a library file over the size limit");
    if (b->n_files + b->n_libs >= PROTO_MAX_FILES)
        return st_fail(err, ST_ELIMIT, "more files and library files than a batch takes");
    if (!st_grow((void **)&b->libs, &b->cap_libs, b->n_libs, sizeof *b->libs))
        return st_fail(err, ST_ENOMEM, "the coordinator is out of memory");
    lib = &b->libs[b->n_libs];
    *lib = (batch_lib_t){.size = l->size};
    memcpy(lib->digest.b, l->digest, sizeof lib->digest.b);
    b->n_libs++;
    if (hmap_get(round, lib->digest.b, sizeof lib->digest.b, NULL) == ST_OK)
        return ST_OK; /* asked for under an earlier index */
    arena_reset(b->work);
    if (b->dm->cache != NULL &&
        cas_get(b->dm->cache, CAS_BLOBS, &lib->digest, b->work, &v, NULL) == ST_OK)
        return ST_OK;
    if (hmap_put(round, lib->digest.b, sizeof lib->digest.b, 1) != ST_OK)
        return st_fail(err, ST_ENOMEM, "the coordinator is out of memory");
    lib->needed = true;
    need[(*n_need)++] = (uint32_t)(b->n_files + b->n_libs - 1);
    return ST_OK;
}

/* One answer of the LIBFILES into out (its path copied), its blob
 * registered when it has a digest. */
static st_rc_t take_module(batch_t *b, const proto_libmod_t *l, lib_found_t *out, hmap_t *round,
                           uint32_t *need, size_t *n_need, st_err_t *err)
{
    *out = (lib_found_t){.m = {.kind = (lib_kind_t)l->kind,
                               .from = (lib_from_t)l->from,
                               .package = l->package,
                               .stdlib = l->stdlib}};
    if (l->kind != PROTO_LIB_FILE)
        return ST_OK;
    if (++b->lib_files > BATCH_MAX_LIBS ||
        (b->lib_path_bytes += l->path.len) > BATCH_MAX_LIB_PATH_BYTES)
        return st_fail(err, ST_ELIMIT,
                       "more than %u library files or %zu MB of their paths in "
                       "one batch",
                       BATCH_MAX_LIBS, BATCH_MAX_LIB_PATH_BYTES >> 20);
    if ((out->m.path = arena_strndup(b->arena, l->path.ptr, l->path.len)) == NULL)
        return st_fail(err, ST_ENOMEM, "the coordinator is out of memory");
    if (l->digest == NULL)
        return ST_OK; /* the client could not read it: no content, as in a check there */
    out->has_digest = true;
    out->size = l->size;
    memcpy(out->digest.b, l->digest, sizeof out->digest.b);
    return add_lib(b, l, round, need, n_need, err);
}

/* The LIBFILES in zm, the answer to a LOOKUP of n names and n_tops
 * top-level names: into out and stdlib, with a NEED posted for the
 * contents to upload (b->n_needed counts them). */
static st_rc_t take_answer(batch_t *b, zmq_msg_t *zm, size_t n, lib_found_t *out, size_t n_tops,
                           bool *stdlib, st_err_t *err)
{
    proto_msg_t m;
    proto_libmod_t l;
    st_err_t derr = {0};
    hmap_t *round = NULL;
    uint32_t *need = NULL;
    size_t n_need = 0, i = 0;
    st_rc_t rc = ST_OK;

    if (proto_decode_client(zmq_msg_data(zm), zmq_msg_size(zm), &m, &derr) != ST_OK)
        return st_fail(err, ST_ECORRUPT, "a malformed answer to a library lookup: %s", derr.msg);
    if (m.count != n || m.n_tops != n_tops)
        return st_fail(err, ST_ECORRUPT,
                       "an answer to a library lookup of %u and %u names for %zu and %zu", m.count,
                       m.n_tops, n, n_tops);
    if ((round = hmap_new(HMAP_BYTES)) == NULL ||
        (need = st_calloc(n == 0 ? 1 : n, sizeof *need)) == NULL)
        rc = st_fail(err, ST_ENOMEM, "the coordinator is out of memory");
    while (rc == ST_OK && i < n && proto_next_libmod(&m, &l))
        rc = take_module(b, &l, &out[i++], round, need, &n_need, err);
    for (size_t k = 0; rc == ST_OK && k < n_tops; k++)
        if (!proto_next_stdlib(&m, &stdlib[k]))
            rc = st_fail(err, ST_EINTERNAL, "an answer to a library lookup ends early");
    if (rc == ST_OK && n_need > 0) {
        buf_reset(&b->out);
        if (proto_encode_need(&b->out, need, n_need) != ST_OK)
            rc = st_fail(err, ST_ENOMEM, "the coordinator is out of memory");
        else {
            b->n_needed += n_need;
            batch__post(b);
        }
    }
    hmap_destroy(&round);
    st_free(need);
    return rc;
}

/* Why a wait for the client ended early. */
static st_rc_t wait_failed(batch_t *b, bool dropped, const char *what, st_err_t *err)
{
    if (b->rc != ST_OK)
        return st_fail(err, b->rc, "%s", b->err.msg);
    if (dropped)
        return st_fail(err, ST_EIO, "the client stopped answering (%s)", what);
    return st_fail(err, ST_EIO, "the coordinator is stopping; submit again");
}

/* One LOOKUP of names[0..n) and tops[0..n_tops) (each at most
 * PROTO_MAX_LOOKUP), its answer into out and stdlib, and the contents it
 * names that the cache lacks uploaded and stored. */
static st_rc_t lookup_round(batch_t *b, const lib_name_t *names, size_t n, lib_found_t *out,
                            const lib_name_t *tops, size_t n_tops, bool *stdlib, st_err_t *err)
{
    proto_str_t *ps = st_calloc(n + n_tops == 0 ? 1 : n + n_tops, sizeof *ps);
    zmq_msg_t *zm = NULL;
    bool dropped = false;
    st_rc_t rc = ST_OK;

    if ((b->lib_names += n + n_tops) > BATCH_MAX_LIB_NAMES) {
        st_free(ps);
        return st_fail(err, ST_ELIMIT, "more than %u library lookups in one batch",
                       BATCH_MAX_LIB_NAMES);
    }
    if (ps == NULL)
        return st_fail(err, ST_ENOMEM, "the coordinator is out of memory");
    for (size_t i = 0; i < n; i++)
        ps[i] = (proto_str_t){names[i].name, (uint32_t)names[i].len};
    for (size_t i = 0; i < n_tops; i++)
        ps[n + i] = (proto_str_t){tops[i].name, (uint32_t)tops[i].len};
    buf_reset(&b->out);
    if (proto_encode_lookup(&b->out, ps, n, ps + n, n_tops) != ST_OK)
        rc = st_fail(err, ST_ELIMIT, "a library lookup that does not fit a message");
    st_free(ps);
    if (rc != ST_OK)
        return rc;
    /* a client that answers slowly holds up no other batch; a round
       before the run (the whole-run lookup) holds no slot to give */
    bool held = b->running;
    batch__slot_give(b);
    batch__set_accepting(b, true); /* before the LOOKUP goes: the answer may come at once */
    batch__post(b);
    if (!batch__await_answer(b, &zm, &dropped))
        rc = wait_failed(b, dropped, "a library lookup", err);
    else
        rc = take_answer(b, zm, n, out, n_tops, stdlib, err);
    if (zm != NULL) {
        zmq_msg_close(zm);
        st_free(zm);
    }
    if (rc == ST_OK && b->n_needed > 0 && !batch__uploads(b, &dropped))
        rc = wait_failed(b, dropped, "library files to upload", err);
    batch__set_accepting(b, false);
    if (held && !batch__slot_take(b) && rc == ST_OK)
        rc = st_fail(err, ST_EIO, "the coordinator is stopping; submit again");
    return rc;
}

/* How many of n entries from at go in one round trip. */
static size_t chunk(size_t n, size_t at)
{
    return at >= n ? 0 : n - at < PROTO_MAX_LOOKUP ? n - at : PROTO_MAX_LOOKUP;
}

/* lookup_round over lists of any length, PROTO_MAX_LOOKUP names of each
 * per round trip. */
static st_rc_t lookup_chunks(batch_t *b, const lib_name_t *names, size_t n, lib_found_t *out,
                             const lib_name_t *tops, size_t n_tops, bool *stdlib, st_err_t *err)
{
    st_rc_t rc = ST_OK;

    for (size_t at = 0; rc == ST_OK && (at < n || at < n_tops); at += PROTO_MAX_LOOKUP) {
        size_t k = chunk(n, at), kt = chunk(n_tops, at);
        rc = lookup_round(b, k ? names + at : NULL, k, k ? out + at : NULL, kt ? tops + at : NULL,
                          kt, kt ? stdlib + at : NULL, err);
    }
    return rc;
}

static st_rc_t remote_modules(void *ctx, const lib_name_t *names, size_t n, lib_found_t *out,
                              st_err_t *err)
{
    return lookup_chunks(ctx, names, n, out, NULL, 0, NULL, err);
}

static st_rc_t remote_is_stdlib(void *ctx, const lib_name_t *tops, size_t n, bool *stdlib,
                                st_err_t *err)
{
    return lookup_chunks(ctx, NULL, 0, NULL, tops, n, stdlib, err);
}

const char *batch_env_load(batch_t *b, const proto_env_t *e)
{
    b->target = (scan_target_t){.major = (uint8_t)e->major, .minor = (uint8_t)e->minor};
    memcpy(b->target.platform, e->platform.ptr, e->platform.len); /* <= PROTO_MAX_PLATFORM */
    b->target.platform[e->platform.len] = '\0';
    b->env_python =
        e->python.ptr != NULL ? arena_strndup(b->arena, e->python.ptr, e->python.len) : NULL;
    b->env_key = arena_strndup(b->arena, e->key.ptr, e->key.len);
    if ((e->python.ptr != NULL && b->env_python == NULL) || b->env_key == NULL)
        return "the coordinator is out of memory";
    b->finder = (lib_finder_t){.modules = remote_modules, .is_stdlib = remote_is_stdlib, .ctx = b};
    b->has_env = true;
    return NULL;
}

void batch_env_opts(batch_t *b, run_opts_t *o)
{
    if (!b->has_env)
        return;
    o->finder = &b->finder;
    o->env_found = b->env_python != NULL;
    o->python = b->env_python;
    o->env_key = b->env_key;
    o->target = b->target;
}
