/* proto_client.c - the client protocol (SUBMIT, NEED, UPLOAD, PROGRESS,
 * DONE, LOOKUP, LIBFILES): encoding and validating decoding.
 *
 * Built as proto.c builds the worker protocol (proto_int.h holds what
 * they share): decoded with mpread, every entry of every list validated
 * before the message is handed on, then iterated again in place; UPLOAD
 * and DONE are filled one entry at a time like a batch. */
#include "common/proto_client.h"

#include "common/proto_int.h"

/* One SUBMIT file: [path, kind, digest bin32 or nil, size]. */
static st_rc_t read_file_entry(mpread_t *r, proto_file_t *f, st_err_t *err)
{
    uint32_t n, len;
    uint64_t kind;
    const uint8_t *p;

    if (mpread_array(r, &n) != ST_OK || n != 4)
        return st_fail(err, ST_ECORRUPT, "a file is not a 4-element array at byte %zu", r->pos);
    if (read_text(r, PROTO_MAX_PATH, &f->path, "path", err) != ST_OK)
        return ST_ECORRUPT;
    if (mpread_uint(r, &kind) != ST_OK || kind > PROTO_KIND_EXTENSION)
        return st_fail(err, ST_ECORRUPT, "a file's kind is bad at byte %zu", r->pos);
    if (mpread_nil(r)) {
        f->digest = NULL;
    } else {
        if (mpread_bin(r, &p, &len) != ST_OK || len != PROTO_DIGEST_LEN)
            return st_fail(err, ST_ECORRUPT, "a file's digest is not 32 bytes at byte %zu", r->pos);
        f->digest = p;
    }
    if (mpread_uint(r, &f->size) != ST_OK)
        return st_fail(err, ST_ECORRUPT, "a file's size is bad at byte %zu", r->pos);
    f->kind = (uint32_t)kind;
    return ST_OK;
}

static st_rc_t read_index(mpread_t *r, uint32_t *index, st_err_t *err)
{
    uint64_t v;

    if (mpread_uint(r, &v) != ST_OK || v >= PROTO_MAX_FILES)
        return st_fail(err, ST_ECORRUPT, "a file index is bad at byte %zu", r->pos);
    *index = (uint32_t)v;
    return ST_OK;
}

/* One UPLOAD blob: [index, zstd bin, raw size]. */
static st_rc_t read_blob(mpread_t *r, proto_blob_t *b, st_err_t *err)
{
    uint32_t n, len;
    const uint8_t *p;

    if (mpread_array(r, &n) != ST_OK || n != 3)
        return st_fail(err, ST_ECORRUPT, "a blob is not a 3-element array at byte %zu", r->pos);
    if (read_index(r, &b->index, err) != ST_OK)
        return ST_ECORRUPT;
    if (mpread_bin(r, &p, &len) != ST_OK)
        return st_fail(err, ST_ECORRUPT, "a blob's content is not bin at byte %zu", r->pos);
    if (mpread_uint(r, &b->raw_size) != ST_OK || b->raw_size > PROTO_MAX_INPUT)
        return st_fail(err, ST_ECORRUPT, "a blob's raw size is bad at byte %zu", r->pos);
    b->zdata = (span_t){.ptr = p, .len = len};
    return ST_OK;
}

/* A module name of LOOKUP: 1 to PROTO_MAX_MODULE bytes. */
static st_rc_t read_module(mpread_t *r, proto_str_t *name, st_err_t *err)
{
    if (read_text(r, PROTO_MAX_MODULE, name, "modules", err) != ST_OK)
        return ST_ECORRUPT;
    if (name->len == 0)
        return st_fail(err, ST_ECORRUPT, "an empty module name at byte %zu", r->pos);
    return ST_OK;
}

/* A path or digest that only a file has: nil for the other kinds. */
static bool nil_unless_file(mpread_t *r, bool file)
{
    return file || mpread_nil(r);
}

/* One LIBFILES answer: [kind, from, package, stdlib, path or nil, scan
 * kind, size, digest or nil]; what only a file has is nil or 0 otherwise. */
static st_rc_t read_libmod(mpread_t *r, proto_libmod_t *l, st_err_t *err)
{
    uint32_t n, len;
    const uint8_t *p;
    bool file;

    *l = (proto_libmod_t){0};
    if (mpread_array(r, &n) != ST_OK || n != 8)
        return st_fail(err, ST_ECORRUPT, "a module is not an 8-element array at byte %zu", r->pos);
    if (read_u32(r, 0, PROTO_LIB_MAX_KIND, &l->kind, "kind", err) != ST_OK ||
        read_u32(r, 0, PROTO_LIB_MAX_FROM, &l->from, "from", err) != ST_OK)
        return ST_ECORRUPT;
    if (mpread_bool(r, &l->package) != ST_OK || mpread_bool(r, &l->stdlib) != ST_OK)
        return st_fail(err, ST_ECORRUPT, "a module's flags are not booleans at byte %zu", r->pos);
    file = l->kind == PROTO_LIB_FILE;
    if (!nil_unless_file(r, file) ||
        (file && (read_text(r, PROTO_MAX_PATH, &l->path, "path", err) != ST_OK ||
                  l->path.len == 0 || memchr(l->path.ptr, '\0', l->path.len) != NULL)))
        return st_fail(err, ST_ECORRUPT, "a module's path is bad at byte %zu", r->pos);
    if (read_u32(r, 0, file ? 3 : 0, &l->scan_kind, "scan kind", err) != ST_OK)
        return ST_ECORRUPT;
    if (mpread_uint(r, &l->size) != ST_OK || (!file && l->size != 0) || l->size > PROTO_MAX_INPUT)
        return st_fail(err, ST_ECORRUPT, "a module's size is bad at byte %zu", r->pos);
    if (!mpread_nil(r)) {
        if (!file || mpread_bin(r, &p, &len) != ST_OK || len != PROTO_DIGEST_LEN)
            return st_fail(err, ST_ECORRUPT, "a module's digest is bad at byte %zu", r->pos);
        l->digest = p;
    }
    return ST_OK;
}

/* SUBMIT's "env": [major, minor, platform, python or nil, key]. */
static st_rc_t read_env(mpread_t *r, proto_env_t *e, st_err_t *err)
{
    uint32_t n;

    *e = (proto_env_t){0};
    if (mpread_array(r, &n) != ST_OK || n != 5)
        return st_fail(err, ST_ECORRUPT, "\"env\" is not a 5-element array at byte %zu", r->pos);
    if (read_u32(r, 0, 3, &e->major, "env major", err) != ST_OK ||
        read_u32(r, 0, 99, &e->minor, "env minor", err) != ST_OK ||
        read_text(r, PROTO_MAX_PLATFORM, &e->platform, "env platform", err) != ST_OK)
        return ST_ECORRUPT;
    if (e->major == 0 ? e->minor != 0 : e->major != 3)
        return st_fail(err, ST_ECORRUPT, "\"env\" has version %u.%u", e->major, e->minor);
    for (uint32_t i = 0; i < e->platform.len; i++) {
        char c = e->platform.ptr[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            return st_fail(err, ST_ECORRUPT, "\"env\" has a bad platform name");
    }
    if (!mpread_nil(r) && (read_text(r, PROTO_MAX_PATH, &e->python, "env python", err) != ST_OK ||
                           memchr(e->python.ptr, '\0', e->python.len) != NULL))
        return st_fail(err, ST_ECORRUPT, "\"env\" has a bad interpreter at byte %zu", r->pos);
    if (read_text(r, PROTO_MAX_ENV_KEY, &e->key, "env key", err) != ST_OK)
        return ST_ECORRUPT;
    return ST_OK;
}

/* One diagnostic of DONE: [line, col, code, message] (common/mpdiag.h). */
static st_rc_t read_diag(mpread_t *r, proto_diag_t *d, st_err_t *err)
{
    mpdiag_t m;

    if (mpdiag_read(r, &m) != ST_OK)
        return st_fail(err, ST_ECORRUPT, "a diagnostic is malformed at byte %zu", r->pos);
    *d = (proto_diag_t){.line = m.line,
                        .col = m.col,
                        .code = {m.code, m.code_len},
                        .message = {m.message, m.message_len}};
    return ST_OK;
}

/* The head of one DONE file, [index, [diag...]]: leaves r at its first
 * diagnostic. */
static st_rc_t read_fdiags_head(mpread_t *r, proto_fdiags_t *fd, st_err_t *err)
{
    uint32_t n;

    if (mpread_array(r, &n) != ST_OK || n != 2)
        return st_fail(err, ST_ECORRUPT, "a file's diagnostics are not a pair at byte %zu", r->pos);
    if (read_index(r, &fd->index, err) != ST_OK)
        return ST_ECORRUPT;
    if (mpread_array(r, &fd->count) != ST_OK || fd->count > PROTO_MAX_DIAGS)
        return st_fail(err, ST_ECORRUPT, "a file's diagnostic list is bad at byte %zu", r->pos);
    fd->r_ = *r;
    fd->left_ = fd->count;
    return ST_OK;
}

/* One entry of the list of a client message of m's type. */
static st_rc_t read_client_entry(mpread_t *r, proto_type_t type, st_err_t *err)
{
    proto_file_t f;
    proto_blob_t b;
    proto_fdiags_t fd;
    proto_diag_t d;
    proto_libmod_t l;
    proto_str_t s;
    uint32_t index;

    switch (type) {
    case PROTO_SUBMIT:
        return read_file_entry(r, &f, err);
    case PROTO_LOOKUP:
        return read_module(r, &s, err);
    case PROTO_LIBFILES:
        return read_libmod(r, &l, err);
    case PROTO_NEED:
        return read_index(r, &index, err);
    case PROTO_UPLOAD:
        return read_blob(r, &b, err);
    default: /* DONE */
        if (read_fdiags_head(r, &fd, err) != ST_OK)
            return ST_ECORRUPT;
        for (uint32_t i = 0; i < fd.count; i++)
            if (read_diag(r, &d, err) != ST_OK)
                return ST_ECORRUPT;
        return ST_OK;
    }
}

/* A list of entries; *at is where it starts, *count its length. */
static st_rc_t read_client_list(mpread_t *r, proto_type_t type, uint32_t max, mpread_t *at,
                                uint32_t *count, st_err_t *err)
{
    uint32_t n;

    if (mpread_array(r, &n) != ST_OK)
        return st_fail(err, ST_ECORRUPT, "a list is not an array at byte %zu", r->pos);
    if (n > max)
        return st_fail(err, ST_ECORRUPT, "%u entries in one list (limit %u)", n, max);
    *at = *r;
    *count = n;
    for (uint32_t i = 0; i < n; i++)
        if (read_client_entry(r, type, err) != ST_OK)
            return ST_ECORRUPT;
    return ST_OK;
}

static st_rc_t read_str_list(mpread_t *r, mpread_t *at, uint32_t *count, const char *key,
                             st_err_t *err)
{
    uint32_t n;
    proto_str_t s;

    if (mpread_array(r, &n) != ST_OK || n > PROTO_MAX_ARGS)
        return st_fail(err, ST_ECORRUPT, "\"%s\" is not a list of at most %u at byte %zu", key,
                       PROTO_MAX_ARGS, r->pos);
    *at = *r;
    *count = n;
    for (uint32_t i = 0; i < n; i++)
        if (read_text(r, PROTO_MAX_PATH, &s, key, err) != ST_OK)
            return ST_ECORRUPT;
    return ST_OK;
}

/* "tops": names in LOOKUP, booleans in LIBFILES. */
static st_rc_t read_tops(mpread_t *r, proto_msg_t *m, st_err_t *err)
{
    uint32_t n;
    proto_str_t s;
    bool v;

    if (mpread_array(r, &n) != ST_OK || n > PROTO_MAX_LOOKUP)
        return st_fail(err, ST_ECORRUPT, "\"tops\" is not a list of at most %u at byte %zu",
                       PROTO_MAX_LOOKUP, r->pos);
    m->tops_ = *r;
    m->n_tops = n;
    for (uint32_t i = 0; i < n; i++)
        if (m->type == PROTO_LOOKUP ? read_module(r, &s, err) != ST_OK
                                    : mpread_bool(r, &v) != ST_OK)
            return st_fail(err, ST_ECORRUPT, "a bad entry of \"tops\" at byte %zu", r->pos);
    return ST_OK;
}

static st_rc_t read_u64(mpread_t *r, uint64_t *out, const char *key, st_err_t *err)
{
    if (mpread_uint(r, out) != ST_OK)
        return st_fail(err, ST_ECORRUPT, "\"%s\" is not an unsigned integer at byte %zu", key,
                       r->pos);
    return ST_OK;
}

static bool key_is(const char *key, uint32_t klen, const char *want)
{
    return strlen(want) == klen && memcmp(key, want, klen) == 0;
}

/* DONE's "stats": a map of counters; unknown keys are skipped. */
static st_rc_t read_stats(mpread_t *r, proto_stats_t *s, st_err_t *err)
{
    uint32_t n, klen;
    const char *key;

    if (mpread_map(r, &n) != ST_OK)
        return st_fail(err, ST_ECORRUPT, "\"stats\" is not a map at byte %zu", r->pos);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t *slot = NULL;
        if (mpread_str(r, &key, &klen) != ST_OK)
            return st_fail(err, ST_ECORRUPT, "a stats key is not a string at byte %zu", r->pos);
        if (key_is(key, klen, "files"))
            slot = &s->files;
        else if (key_is(key, klen, "uploaded"))
            slot = &s->uploaded;
        else if (key_is(key, klen, "scanned"))
            slot = &s->scanned;
        else if (key_is(key, klen, "cached"))
            slot = &s->cached;
        else if (key_is(key, klen, "checked"))
            slot = &s->checked;
        else if (key_is(key, klen, "failed"))
            slot = &s->failed;
        if (slot == NULL ? mpread_skip(r) != ST_OK : read_u64(r, slot, "stats", err) != ST_OK)
            return st_fail(err, ST_ECORRUPT, "bad stats value at byte %zu", r->pos);
    }
    return ST_OK;
}

/* The fields of each client message: name, bit, type. */
static const struct {
    const char *name;
    unsigned bit;
    proto_type_t type;
} client_fields[] = {
    {"files", 1u << 0, PROTO_SUBMIT},     {"roots", 1u << 1, PROTO_SUBMIT},
    {"args", 1u << 2, PROTO_SUBMIT},      {"max_file_bytes", 1u << 3, PROTO_SUBMIT},
    {"digests", 1u << 0, PROTO_NEED},     {"blobs", 1u << 0, PROTO_UPLOAD},
    {"scanned", 1u << 0, PROTO_PROGRESS}, {"checked", 1u << 1, PROTO_PROGRESS},
    {"cached", 1u << 2, PROTO_PROGRESS},  {"workers", 1u << 3, PROTO_PROGRESS},
    {"queued", 1u << 4, PROTO_PROGRESS},  {"status", 1u << 0, PROTO_DONE},
    {"files", 1u << 1, PROTO_DONE},       {"error", 1u << 2, PROTO_DONE},
    {"stats", 1u << 3, PROTO_DONE},       {"env", 1u << 4, PROTO_SUBMIT},
    {"modules", 1u << 0, PROTO_LOOKUP},   {"tops", 1u << 1, PROTO_LOOKUP},
    {"modules", 1u << 0, PROTO_LIBFILES}, {"tops", 1u << 1, PROTO_LIBFILES},
};

static st_rc_t read_client_field(mpread_t *r, proto_msg_t *m, const char *key, uint32_t klen,
                                 unsigned *seen, st_err_t *err)
{
    const char *name = NULL;
    unsigned bit = 0;

    for (size_t i = 0; i < sizeof client_fields / sizeof client_fields[0] && bit == 0; i++)
        if (client_fields[i].type == m->type && key_is(key, klen, client_fields[i].name)) {
            bit = client_fields[i].bit;
            name = client_fields[i].name;
        }
    if (bit == 0)
        return mpread_skip(r) == ST_OK
                   ? ST_OK
                   : st_fail(err, ST_ECORRUPT, "bad value of key \"%.*s\"", (int)klen, key);
    if (*seen & bit)
        return st_fail(err, ST_ECORRUPT, "key \"%s\" twice", name);
    *seen |= bit;
    switch (m->type) {
    case PROTO_SUBMIT:
        if (bit == 1u << 0)
            return read_client_list(r, m->type, PROTO_MAX_FILES, &m->items_, &m->count, err);
        if (bit == 1u << 1)
            return read_str_list(r, &m->roots_, &m->n_roots, "roots", err);
        if (bit == 1u << 2)
            return read_str_list(r, &m->args_, &m->n_args, "args", err);
        if (bit == 1u << 4) {
            m->has_env = true;
            return read_env(r, &m->env, err);
        }
        return read_u64(r, &m->max_file_bytes, name, err);
    case PROTO_LOOKUP:
    case PROTO_LIBFILES:
        if (bit == 1u << 1)
            return read_tops(r, m, err);
        return read_client_list(r, m->type, PROTO_MAX_LOOKUP, &m->items_, &m->count, err);
    case PROTO_NEED:
        return read_client_list(r, m->type, PROTO_MAX_FILES, &m->items_, &m->count, err);
    case PROTO_UPLOAD:
        return read_client_list(r, m->type, PROTO_MAX_JOBS, &m->items_, &m->count, err);
    case PROTO_PROGRESS: {
        uint64_t *slots[] = {&m->progress.scanned, &m->progress.checked, &m->progress.cached,
                             &m->progress.workers, &m->progress.queued};
        unsigned k = 0;
        while ((1u << k) != bit)
            k++;
        return read_u64(r, slots[k], name, err);
    }
    default: /* DONE */
        if (bit == 1u << 0) {
            st_rc_t rc = read_u32(r, 0, PROTO_DONE_ERROR, &m->status, name, err);
            if (rc == ST_OK && m->status != PROTO_DONE_OK && m->status != PROTO_DONE_ERROR)
                return st_fail(err, ST_ECORRUPT, "\"status\" is %u", m->status);
            return rc;
        }
        if (bit == 1u << 1)
            return read_client_list(r, m->type, PROTO_MAX_FILES, &m->items_, &m->count, err);
        if (bit == 1u << 2)
            return read_text(r, PROTO_MAX_TEXT, &m->error, name, err);
        return read_stats(r, &m->stats, err);
    }
}

static unsigned client_required(proto_type_t type)
{
    switch (type) {
    case PROTO_SUBMIT:
        return 1u << 0;
    case PROTO_NEED:
    case PROTO_UPLOAD:
        return 1u << 0;
    case PROTO_DONE:
    case PROTO_LOOKUP:
    case PROTO_LIBFILES:
        return (1u << 0) | (1u << 1);
    default:
        return 0;
    }
}

st_rc_t proto_decode_client(const void *p, size_t len, proto_msg_t *out, st_err_t *err)
{
    st_rc_t rc = proto__decode_range(p, len, PROTO_SUBMIT, PROTO_LIBFILES, read_client_field,
                                     client_required, out, err);

    if (rc == ST_OK)
        out->items_left_ = out->count;
    return rc;
}

bool proto_next_file(proto_msg_t *m, proto_file_t *file)
{
    if (m->type != PROTO_SUBMIT || m->items_left_ == 0)
        return false;
    if (read_file_entry(&m->items_, file, NULL) != ST_OK) {
        m->items_left_ = 0;
        return false;
    }
    m->items_left_--;
    return true;
}

static bool next_str(mpread_t *r, uint32_t *left, proto_str_t *s)
{
    if (*left == 0)
        return false;
    if (mpread_str(r, &s->ptr, &s->len) != ST_OK) {
        *left = 0;
        return false;
    }
    (*left)--;
    return true;
}

bool proto_next_root(proto_msg_t *m, proto_str_t *root)
{
    return m->type == PROTO_SUBMIT && next_str(&m->roots_, &m->n_roots, root);
}

bool proto_next_arg(proto_msg_t *m, proto_str_t *arg)
{
    return m->type == PROTO_SUBMIT && next_str(&m->args_, &m->n_args, arg);
}

bool proto_next_index(proto_msg_t *m, uint32_t *index)
{
    if (m->type != PROTO_NEED || m->items_left_ == 0)
        return false;
    if (read_index(&m->items_, index, NULL) != ST_OK) {
        m->items_left_ = 0;
        return false;
    }
    m->items_left_--;
    return true;
}

bool proto_next_blob(proto_msg_t *m, proto_blob_t *blob)
{
    if (m->type != PROTO_UPLOAD || m->items_left_ == 0)
        return false;
    if (read_blob(&m->items_, blob, NULL) != ST_OK) {
        m->items_left_ = 0;
        return false;
    }
    m->items_left_--;
    return true;
}

bool proto_next_fdiags(proto_msg_t *m, proto_fdiags_t *fd)
{
    proto_diag_t d;

    if (m->type != PROTO_DONE || m->items_left_ == 0)
        return false;
    if (read_fdiags_head(&m->items_, fd, NULL) != ST_OK) {
        m->items_left_ = 0;
        return false;
    }
    /* step m past this file's diagnostics; fd keeps its own reader */
    for (uint32_t i = 0; i < fd->count; i++)
        if (read_diag(&m->items_, &d, NULL) != ST_OK) {
            m->items_left_ = 0;
            return false;
        }
    m->items_left_--;
    return true;
}

bool proto_next_diag(proto_fdiags_t *fd, proto_diag_t *diag)
{
    if (fd->left_ == 0)
        return false;
    if (read_diag(&fd->r_, diag, NULL) != ST_OK) {
        fd->left_ = 0;
        return false;
    }
    fd->left_--;
    return true;
}

bool proto_next_module(proto_msg_t *m, proto_str_t *name)
{
    if (m->type != PROTO_LOOKUP || m->items_left_ == 0)
        return false;
    if (read_module(&m->items_, name, NULL) != ST_OK) {
        m->items_left_ = 0;
        return false;
    }
    m->items_left_--;
    return true;
}

bool proto_next_top(proto_msg_t *m, proto_str_t *name)
{
    return m->type == PROTO_LOOKUP && next_str(&m->tops_, &m->n_tops, name);
}

bool proto_next_libmod(proto_msg_t *m, proto_libmod_t *mod)
{
    if (m->type != PROTO_LIBFILES || m->items_left_ == 0)
        return false;
    if (read_libmod(&m->items_, mod, NULL) != ST_OK) {
        m->items_left_ = 0;
        return false;
    }
    m->items_left_--;
    return true;
}

bool proto_next_stdlib(proto_msg_t *m, bool *stdlib)
{
    if (m->type != PROTO_LIBFILES || m->n_tops == 0)
        return false;
    if (mpread_bool(&m->tops_, stdlib) != ST_OK) {
        m->n_tops = 0;
        return false;
    }
    m->n_tops--;
    return true;
}

static int pack_strs(msgpack_packer *pk, const char *key, const char *const *s, size_t n)
{
    if (pack_key(pk, key) || msgpack_pack_array(pk, (uint32_t)n))
        return -1;
    for (size_t i = 0; i < n; i++)
        if (pack_str(pk, s[i], strlen(s[i])))
            return -1;
    return 0;
}

st_rc_t proto_encode_submit(buf_t *b, const proto_file_t *files, size_t n_files,
                            const char *const *roots, size_t n_roots, const char *const *args,
                            size_t n_args, uint64_t max_file_bytes, const proto_env_t *env)
{
    msgpack_packer pk;

    if (n_files > PROTO_MAX_FILES || n_roots > PROTO_MAX_ARGS || n_args > PROTO_MAX_ARGS)
        return ST_ELIMIT;
    if (env != NULL &&
        (env->major > 3 || env->minor > 99 || env->platform.len > PROTO_MAX_PLATFORM ||
         env->python.len > PROTO_MAX_PATH || env->key.len > PROTO_MAX_ENV_KEY))
        return ST_ELIMIT;
    for (size_t i = 0; i < n_files; i++)
        if (files[i].path.len > PROTO_MAX_PATH || files[i].kind > PROTO_KIND_EXTENSION)
            return ST_ELIMIT;
    for (size_t i = 0; i < n_roots; i++)
        if (strlen(roots[i]) > PROTO_MAX_PATH)
            return ST_ELIMIT;
    for (size_t i = 0; i < n_args; i++)
        if (strlen(args[i]) > PROTO_MAX_PATH)
            return ST_ELIMIT;
    mpbuf_packer(&pk, b);
    if (pack_header(&pk, PROTO_SUBMIT, env != NULL ? 7 : 6) || pack_key(&pk, "files") ||
        msgpack_pack_array(&pk, (uint32_t)n_files))
        return ST_ENOMEM;
    for (size_t i = 0; i < n_files; i++) {
        const proto_file_t *f = &files[i];
        if (msgpack_pack_array(&pk, 4) || pack_str(&pk, f->path.ptr, f->path.len) ||
            msgpack_pack_uint32(&pk, f->kind) ||
            (f->digest == NULL ? msgpack_pack_nil(&pk)
                               : msgpack_pack_bin(&pk, PROTO_DIGEST_LEN) ||
                                     msgpack_pack_bin_body(&pk, f->digest, PROTO_DIGEST_LEN)) ||
            msgpack_pack_uint64(&pk, f->size))
            return ST_ENOMEM;
    }
    if (pack_strs(&pk, "roots", roots, n_roots) || pack_strs(&pk, "args", args, n_args) ||
        pack_key(&pk, "max_file_bytes") || msgpack_pack_uint64(&pk, max_file_bytes))
        return ST_ENOMEM;
    if (env != NULL &&
        (pack_key(&pk, "env") || msgpack_pack_array(&pk, 5) ||
         msgpack_pack_uint32(&pk, env->major) || msgpack_pack_uint32(&pk, env->minor) ||
         pack_str(&pk, env->platform.ptr, env->platform.len) ||
         (env->python.ptr == NULL ? msgpack_pack_nil(&pk)
                                  : pack_str(&pk, env->python.ptr, env->python.len)) ||
         pack_str(&pk, env->key.ptr, env->key.len)))
        return ST_ENOMEM;
    return b->len > PROTO_MAX_MSG ? ST_ELIMIT : ST_OK;
}

static int pack_names(msgpack_packer *pk, const char *key, const proto_str_t *s, size_t n)
{
    if (pack_key(pk, key) || msgpack_pack_array(pk, (uint32_t)n))
        return -1;
    for (size_t i = 0; i < n; i++)
        if (pack_str(pk, s[i].ptr, s[i].len))
            return -1;
    return 0;
}

st_rc_t proto_encode_lookup(buf_t *b, const proto_str_t *modules, size_t n_modules,
                            const proto_str_t *tops, size_t n_tops)
{
    msgpack_packer pk;

    if (n_modules > PROTO_MAX_LOOKUP || n_tops > PROTO_MAX_LOOKUP)
        return ST_ELIMIT;
    for (size_t i = 0; i < n_modules; i++)
        if (modules[i].len == 0 || modules[i].len > PROTO_MAX_MODULE)
            return ST_ELIMIT;
    for (size_t i = 0; i < n_tops; i++)
        if (tops[i].len == 0 || tops[i].len > PROTO_MAX_MODULE)
            return ST_ELIMIT;
    mpbuf_packer(&pk, b);
    if (pack_header(&pk, PROTO_LOOKUP, 4) || pack_names(&pk, "modules", modules, n_modules) ||
        pack_names(&pk, "tops", tops, n_tops))
        return ST_ENOMEM;
    return ST_OK;
}

static bool libmod_fits(const proto_libmod_t *l)
{
    bool file = l->kind == PROTO_LIB_FILE;

    return l->kind <= PROTO_LIB_MAX_KIND && l->from <= PROTO_LIB_MAX_FROM &&
           (file ? l->path.len > 0 && l->path.len <= PROTO_MAX_PATH && l->scan_kind <= 3 &&
                       l->size <= PROTO_MAX_INPUT
                 : l->path.len == 0 && l->scan_kind == 0 && l->size == 0 && l->digest == NULL);
}

st_rc_t proto_encode_libfiles(buf_t *b, const proto_libmod_t *mods, size_t n_mods,
                              const bool *stdlib, size_t n_tops)
{
    msgpack_packer pk;

    if (n_mods > PROTO_MAX_LOOKUP || n_tops > PROTO_MAX_LOOKUP)
        return ST_ELIMIT;
    for (size_t i = 0; i < n_mods; i++)
        if (!libmod_fits(&mods[i]))
            return ST_ELIMIT;
    mpbuf_packer(&pk, b);
    if (pack_header(&pk, PROTO_LIBFILES, 4) || pack_key(&pk, "modules") ||
        msgpack_pack_array(&pk, (uint32_t)n_mods))
        return ST_ENOMEM;
    for (size_t i = 0; i < n_mods; i++) {
        const proto_libmod_t *l = &mods[i];
        bool file = l->kind == PROTO_LIB_FILE;
        if (msgpack_pack_array(&pk, 8) || msgpack_pack_uint32(&pk, l->kind) ||
            msgpack_pack_uint32(&pk, l->from) ||
            (l->package ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk)) ||
            (l->stdlib ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk)) ||
            (file ? pack_str(&pk, l->path.ptr, l->path.len) : msgpack_pack_nil(&pk)) ||
            msgpack_pack_uint32(&pk, l->scan_kind) || msgpack_pack_uint64(&pk, l->size) ||
            (l->digest == NULL ? msgpack_pack_nil(&pk)
                               : msgpack_pack_bin(&pk, PROTO_DIGEST_LEN) ||
                                     msgpack_pack_bin_body(&pk, l->digest, PROTO_DIGEST_LEN)))
            return ST_ENOMEM;
    }
    if (pack_key(&pk, "tops") || msgpack_pack_array(&pk, (uint32_t)n_tops))
        return ST_ENOMEM;
    for (size_t i = 0; i < n_tops; i++)
        if (stdlib[i] ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk))
            return ST_ENOMEM;
    return b->len > PROTO_MAX_MSG ? ST_ELIMIT : ST_OK;
}

st_rc_t proto_encode_need(buf_t *b, const uint32_t *indices, size_t n)
{
    msgpack_packer pk;

    if (n > PROTO_MAX_FILES)
        return ST_ELIMIT;
    for (size_t i = 0; i < n; i++)
        if (indices[i] >= PROTO_MAX_FILES)
            return ST_ELIMIT;
    mpbuf_packer(&pk, b);
    if (pack_header(&pk, PROTO_NEED, 3) || pack_key(&pk, "digests") ||
        msgpack_pack_array(&pk, (uint32_t)n))
        return ST_ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (msgpack_pack_uint32(&pk, indices[i]))
            return ST_ENOMEM;
    return ST_OK;
}

st_rc_t proto_encode_progress(buf_t *b, const proto_progress_t *p)
{
    msgpack_packer pk;

    mpbuf_packer(&pk, b);
    if (pack_header(&pk, PROTO_PROGRESS, 7) || pack_key(&pk, "scanned") ||
        msgpack_pack_uint64(&pk, p->scanned) || pack_key(&pk, "checked") ||
        msgpack_pack_uint64(&pk, p->checked) || pack_key(&pk, "cached") ||
        msgpack_pack_uint64(&pk, p->cached) || pack_key(&pk, "workers") ||
        msgpack_pack_uint64(&pk, p->workers) || pack_key(&pk, "queued") ||
        msgpack_pack_uint64(&pk, p->queued))
        return ST_ENOMEM;
    return ST_OK;
}

static const uint8_t array32_header[5] = {0xdd, 0, 0, 0, 0};

st_rc_t proto_upload_begin(proto_batch_t *batch, buf_t *b)
{
    msgpack_packer pk;

    mpbuf_packer(&pk, b);
    if (pack_header(&pk, PROTO_UPLOAD, 3) || pack_key(&pk, "blobs"))
        return ST_ENOMEM;
    *batch = (proto_batch_t){.b = b, .count_at = b->len, .type = PROTO_UPLOAD};
    return buf_append(b, array32_header, sizeof array32_header) == ST_OK ? ST_OK : ST_ENOMEM;
}

st_rc_t proto_upload_blob(proto_batch_t *batch, uint32_t index, span_t zdata, uint64_t raw_size)
{
    msgpack_packer pk;
    size_t mark = batch->b->len;

    if (batch->type != PROTO_UPLOAD)
        return ST_EINVAL;
    if (!batch_room(batch, zdata.len) || index >= PROTO_MAX_FILES || raw_size > PROTO_MAX_INPUT)
        return ST_ELIMIT;
    mpbuf_packer(&pk, batch->b);
    if (msgpack_pack_array(&pk, 3) || msgpack_pack_uint32(&pk, index) ||
        msgpack_pack_bin(&pk, zdata.len) || msgpack_pack_bin_body(&pk, zdata.ptr, zdata.len) ||
        msgpack_pack_uint64(&pk, raw_size)) {
        drop_tail(batch->b, mark);
        return ST_ENOMEM;
    }
    batch->n++;
    return ST_OK;
}

st_rc_t proto_done_begin(proto_batch_t *batch, buf_t *b, uint32_t status, const char *error,
                         const proto_stats_t *s)
{
    msgpack_packer pk;
    size_t n = error != NULL ? strlen(error) : 0;

    if ((status != PROTO_DONE_OK && status != PROTO_DONE_ERROR) || n > PROTO_MAX_TEXT)
        return ST_ELIMIT;
    mpbuf_packer(&pk, b);
    if (pack_header(&pk, PROTO_DONE, 6) || pack_key(&pk, "status") ||
        msgpack_pack_uint32(&pk, status) || pack_key(&pk, "error") ||
        pack_str(&pk, error != NULL ? error : "", n) || pack_key(&pk, "stats") ||
        msgpack_pack_map(&pk, 6) || pack_key(&pk, "files") || msgpack_pack_uint64(&pk, s->files) ||
        pack_key(&pk, "uploaded") || msgpack_pack_uint64(&pk, s->uploaded) ||
        pack_key(&pk, "scanned") || msgpack_pack_uint64(&pk, s->scanned) ||
        pack_key(&pk, "cached") || msgpack_pack_uint64(&pk, s->cached) ||
        pack_key(&pk, "checked") || msgpack_pack_uint64(&pk, s->checked) ||
        pack_key(&pk, "failed") || msgpack_pack_uint64(&pk, s->failed) || pack_key(&pk, "files"))
        return ST_ENOMEM;
    *batch = (proto_batch_t){.b = b, .count_at = b->len, .type = PROTO_DONE};
    return buf_append(b, array32_header, sizeof array32_header) == ST_OK ? ST_OK : ST_ENOMEM;
}

st_rc_t proto_done_file(proto_batch_t *batch, uint32_t index, const proto_diag_t *diags, size_t n)
{
    msgpack_packer pk;
    size_t mark = batch->b->len;
    int bad;

    if (batch->type != PROTO_DONE)
        return ST_EINVAL;
    if (batch->n >= PROTO_MAX_FILES || index >= PROTO_MAX_FILES || n > PROTO_MAX_DIAGS)
        return ST_ELIMIT;
    for (size_t i = 0; i < n; i++)
        if (diags[i].code.len > PROTO_MAX_CODE || diags[i].message.len > PROTO_MAX_TEXT)
            return ST_ELIMIT;
    mpbuf_packer(&pk, batch->b);
    bad = msgpack_pack_array(&pk, 2) || msgpack_pack_uint32(&pk, index) ||
          msgpack_pack_array(&pk, (uint32_t)n);
    for (size_t i = 0; i < n && !bad; i++) {
        mpdiag_t m = {diags[i].line,     diags[i].col,         diags[i].code.ptr,
                      diags[i].code.len, diags[i].message.ptr, diags[i].message.len};
        bad = mpdiag_pack(&pk, &m);
    }
    if (bad) {
        drop_tail(batch->b, mark);
        return ST_ENOMEM;
    }
    if (batch->b->len > PROTO_MAX_MSG) {
        drop_tail(batch->b, mark);
        return ST_ELIMIT;
    }
    batch->n++;
    return ST_OK;
}
