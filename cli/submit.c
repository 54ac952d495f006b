/* submit.c - strata submit: hash here, check on the coordinator, print
 * here. With an environment, the client is also the coordinator's finder
 * of library modules: it answers each LOOKUP from its own libfind_t and
 * uploads the library files the coordinator lacks, as it does the
 * project's. */
#include "cli/submit.h"

#include "cli/envcmd.h"
#include "common/clock.h"
#include "common/alloc.h"
#include "common/arena.h"
#include "common/buf.h"
#include "common/digest.h"
#include "common/proto.h"
#include "common/proto_client.h"
#include "coordinator/frames.h"
#include "coordinator/keys.h"
#include "run/progress.h"
#include "run/report.h"
#include "run/report_formats.h"
#include "run/walk.h"
#include "cli/files.h"
#include "run/e902.h"
#include "run/exec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>
#include <zstd.h>

#define CLIENT_ZSTD_LEVEL 3
#define CLIENT_UPLOAD_BYTES ((size_t)8 << 20) /* compressed bytes per UPLOAD */

enum { EXIT_CLEAN = 0, EXIT_FOUND = 1, EXIT_ERROR = 2 };

/* A library file whose content the coordinator may NEED. */
typedef struct {
    const char *path; /* in the client's arena */
    digest_t digest;
} lib_blob_t;

_Static_assert(LIB_FILE == PROTO_LIB_FILE && LIB_OPEN == PROTO_LIB_MAX_KIND &&
                   LIB_FROM_HOOK == PROTO_LIB_MAX_FROM,
               "LIBFILES numbers are run/libfind.h's");

typedef struct {
    const cli_submit_t *cfg;
    FILE *errs;
    walk_list_t files;
    proto_file_t *entries; /* files, then extensions */
    digest_t *digests;
    const char **local_error; /* E902 message of a file read here, or NULL */
    size_t n;
    arena_t *arena;
    void *zctx, *sock, *mon;
    bool auth_failed, heard;
    progress_t *progress; /* the line on stderr when it is a terminal; NULL: none */
    buf_t msg;
    size_t max_bytes;
    /* the environment (none with --no-environment: no "env" is sent) */
    bool has_env;
    env_t env;
    libfind_t *lf;
    char *env_key;
    /* the library files answered with a digest: NEED index n + k is libs[k] */
    lib_blob_t *libs;
    size_t n_libs, cap_libs;
} client_t;

/* Whether entry i is a context file: sent for the project's sake, its
 * diagnostics never reported (cli/files.h). */
static bool is_context(const client_t *c, size_t i)
{
    return i < c->files.n_files && c->files.files[i].context;
}

/* Reads and hashes every file; files that cannot be read keep their E902. */
static st_rc_t hash_files(client_t *c, st_err_t *err)
{
    const walk_list_t *w = &c->files;
    arena_t *a = arena_new(1u << 20);

    c->n = w->n_files + w->n_extensions;
    c->entries = st_calloc(c->n == 0 ? 1 : c->n, sizeof *c->entries);
    c->digests = st_calloc(c->n == 0 ? 1 : c->n, sizeof *c->digests);
    c->local_error = st_calloc(c->n == 0 ? 1 : c->n, sizeof *c->local_error);
    if (a == NULL || c->entries == NULL || c->digests == NULL || c->local_error == NULL) {
        arena_destroy(&a);
        return st_fail(err, ST_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < c->n; i++) {
        bool ext = i >= w->n_files;
        const walk_entry_t *e = ext ? &w->extensions[i - w->n_files] : &w->files[i];
        proto_file_t *f = &c->entries[i];
        uint8_t *data;
        size_t len;
        st_err_t rerr = {0};
        st_rc_t rc;

        f->path = (proto_str_t){.ptr = e->path, .len = (uint32_t)strlen(e->path)};
        f->size = e->size;
        if (ext) {
            f->kind = PROTO_KIND_EXTENSION;
            continue;
        }
        f->kind = (uint32_t)scan_kind_of_path(e->path);
        arena_reset(a);
        rc = exec_read_file(e->path, c->max_bytes, a, &data, &len, &rerr);
        if (rc == ST_EIO || rc == ST_ELIMIT) {
            char message[E902_MESSAGE_MAX];
            e902_read_text(message, sizeof message, rc, &rerr);
            if ((c->local_error[i] = arena_strndup(c->arena, message, strlen(message))) == NULL) {
                arena_destroy(&a);
                return st_fail(err, ST_ENOMEM, "out of memory");
            }
            continue;
        }
        if (rc != ST_OK || digest_sha256(data, len, &c->digests[i]) != ST_OK) {
            arena_destroy(&a);
            return st_fail(err, rc != ST_OK ? rc : ST_EINTERNAL, "%s: %s", e->path,
                           rc != ST_OK ? rerr.msg : "cannot hash");
        }
        f->digest = c->digests[i].b;
        f->size = len;
    }
    arena_destroy(&a);
    return ST_OK;
}

static st_rc_t connect_socket(client_t *c, st_err_t *err)
{
    const cli_submit_t *cfg = c->cfg;
    int64_t maxmsg = (int64_t)PROTO_MAX_MSG;
    int zero = 0;

    if ((c->zctx = zmq_ctx_new()) == NULL || (c->sock = zmq_socket(c->zctx, ZMQ_DEALER)) == NULL)
        return st_fail(err, ST_EIO, "zmq: %s", zmq_strerror(errno));
    if (zmq_setsockopt(c->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) != 0 ||
        zmq_setsockopt(c->sock, ZMQ_LINGER, &zero, sizeof zero) != 0)
        return st_fail(err, ST_EIO, "zmq: %s", zmq_strerror(errno));
    if (cfg->keys_dir != NULL) {
        char path[4096];
        keys_pair_t me, server;
        snprintf(path, sizeof path, "%s/client.key", cfg->keys_dir);
        if (keys_load(path, &me, err) != ST_OK || keys_load(cfg->server_key, &server, err) != ST_OK)
            return err != NULL ? err->code : ST_EINVAL;
        if (me.secret_z85[0] == '\0')
            return st_fail(err, ST_EINVAL, "%s holds no secret key", path);
        if (zmq_setsockopt(c->sock, ZMQ_CURVE_SERVERKEY, server.public_z85, KEYS_Z85_LEN) != 0 ||
            zmq_setsockopt(c->sock, ZMQ_CURVE_PUBLICKEY, me.public_z85, KEYS_Z85_LEN) != 0 ||
            zmq_setsockopt(c->sock, ZMQ_CURVE_SECRETKEY, me.secret_z85, KEYS_Z85_LEN) != 0)
            return st_fail(err, ST_EIO, "zmq CURVE: %s", zmq_strerror(errno));
        /* to tell a refused key from a silent coordinator */
        if (zmq_socket_monitor(c->sock, "inproc://strata-submit-monitor",
                               ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                                   ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) == 0 &&
            (c->mon = zmq_socket(c->zctx, ZMQ_PAIR)) != NULL &&
            zmq_connect(c->mon, "inproc://strata-submit-monitor") != 0) {
            zmq_close(c->mon);
            c->mon = NULL;
        }
    }
    if (zmq_connect(c->sock, cfg->coordinator) != 0)
        return st_fail(err, ST_EIO, "cannot connect to %s: %s", cfg->coordinator,
                       zmq_strerror(errno));
    return ST_OK;
}

static void drain_monitor(client_t *c)
{
    zmq_msg_t m;

    if (c->mon == NULL)
        return;
    for (;;) {
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, c->mon, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            return;
        }
        if (zmq_msg_size(&m) == 6 && zmq_msg_more(&m)) {
            uint16_t ev;
            memcpy(&ev, zmq_msg_data(&m), 2);
            if (ev == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH || ev == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL)
                c->auth_failed = true;
        }
        zmq_msg_close(&m);
    }
}

/* The file and digest of NEED index i: a file of the SUBMIT list, or a
 * library file answered since; false for any other index. */
static bool blob_source(const client_t *c, uint32_t i, const char **path, const uint8_t **digest)
{
    if (i < c->n && c->entries[i].digest != NULL) {
        *path = c->entries[i].path.ptr;
        *digest = c->digests[i].b;
        return true;
    }
    if (i >= c->n && i - c->n < c->n_libs) {
        *path = c->libs[i - c->n].path;
        *digest = c->libs[i - c->n].digest.b;
        return true;
    }
    return false;
}

/* Sends the blobs NEED asks for. */
static st_rc_t upload(client_t *c, proto_msg_t *need, st_err_t *err)
{
    proto_batch_t batch;
    arena_t *a = arena_new(1u << 20);
    uint8_t *z = NULL;
    size_t zcap = 0, in_batch = 0;
    uint32_t index;
    st_rc_t rc = ST_OK;

    if (a == NULL)
        return st_fail(err, ST_ENOMEM, "out of memory");
    buf_reset(&c->msg);
    if (proto_upload_begin(&batch, &c->msg) != ST_OK)
        rc = st_fail(err, ST_ENOMEM, "out of memory");
    while (rc == ST_OK && proto_next_index(need, &index)) {
        uint8_t *data;
        size_t len, zlen;
        digest_t dg;
        st_err_t rerr = {0};
        const char *path;
        const uint8_t *want;
        if (!blob_source(c, index, &path, &want)) {
            rc = st_fail(err, ST_ECORRUPT, "the coordinator asked for a file it was not sent");
            break;
        }
        arena_reset(a);
        if (exec_read_file(path, c->max_bytes, a, &data, &len, &rerr) != ST_OK ||
            digest_sha256(data, len, &dg) != ST_OK || memcmp(dg.b, want, 32) != 0) {
            rc = st_fail(err, ST_EIO, "%s changed while it was submitted; run again", path);
            break;
        }
        if (ZSTD_compressBound(len) > zcap) {
            uint8_t *grown = st_realloc(z, ZSTD_compressBound(len));
            if (grown == NULL) {
                rc = st_fail(err, ST_ENOMEM, "out of memory");
                break;
            }
            z = grown;
            zcap = ZSTD_compressBound(len);
        }
        zlen = ZSTD_compress(z, zcap, data, len, CLIENT_ZSTD_LEVEL);
        if (ZSTD_isError(zlen)) {
            rc = st_fail(err, ST_EINTERNAL, "zstd: %s", ZSTD_getErrorName(zlen));
            break;
        }
        if (in_batch > 0 && c->msg.len + zlen > CLIENT_UPLOAD_BYTES) {
            proto_batch_end(&batch);
            if (zmq_send(c->sock, c->msg.data, c->msg.len, 0) < 0) {
                rc = st_fail(err, ST_EIO, "send: %s", zmq_strerror(errno));
                break;
            }
            buf_reset(&c->msg);
            in_batch = 0;
            if (proto_upload_begin(&batch, &c->msg) != ST_OK) {
                rc = st_fail(err, ST_ENOMEM, "out of memory");
                break;
            }
        }
        if (proto_upload_blob(&batch, index, (span_t){.ptr = z, .len = zlen}, len) != ST_OK) {
            rc = st_fail(err, ST_ELIMIT, "%s is too large to upload", path);
            break;
        }
        in_batch++;
    }
    if (rc == ST_OK && in_batch > 0) {
        proto_batch_end(&batch);
        if (zmq_send(c->sock, c->msg.data, c->msg.len, 0) < 0)
            rc = st_fail(err, ST_EIO, "send: %s", zmq_strerror(errno));
    }
    st_free(z);
    arena_destroy(&a);
    return rc;
}

/* A library file the finder gave, as LIBFILES describes it: read and
 * hashed (digest NULL when it cannot be read or is over the size limit:
 * the coordinator then has no content for it, as a check here would
 * have none), and given the next library index. */
static st_rc_t describe_lib_file(client_t *c, const char *path, arena_t *a, proto_libmod_t *out,
                                 st_err_t *err)
{
    uint8_t *data;
    size_t len;
    lib_blob_t *lb;

    out->path = (proto_str_t){.ptr = path, .len = (uint32_t)strlen(path)};
    out->scan_kind = (uint32_t)scan_kind_of_path(path);
    arena_reset(a);
    if (out->path.len > PROTO_MAX_PATH || c->n + c->n_libs + 1 >= PROTO_MAX_FILES ||
        exec_read_file(path, c->max_bytes, a, &data, &len, NULL) != ST_OK)
        return ST_OK;
    if (!st_grow((void **)&c->libs, &c->cap_libs, c->n_libs, sizeof *c->libs))
        return st_fail(err, ST_ENOMEM, "out of memory");
    lb = &c->libs[c->n_libs];
    /* out's digest is a copy: c->libs moves as it grows */
    uint8_t *copy = arena_alloc(c->arena, sizeof lb->digest.b);
    if (copy == NULL || digest_sha256(data, len, &lb->digest) != ST_OK ||
        (lb->path = arena_strndup(c->arena, path, out->path.len)) == NULL)
        return st_fail(err, ST_ENOMEM, "out of memory hashing %s", path);
    memcpy(copy, lb->digest.b, sizeof lb->digest.b);
    c->n_libs++;
    out->size = len;
    out->digest = copy;
    return ST_OK;
}

/* Answers a LOOKUP with LIBFILES: this environment's finder's answer for
 * each name. */
static st_rc_t answer_lookup(client_t *c, proto_msg_t *m, st_err_t *err)
{
    proto_libmod_t *mods = st_calloc(m->count == 0 ? 1 : m->count, sizeof *mods);
    bool *stdlib = st_calloc(m->n_tops == 0 ? 1 : m->n_tops, sizeof *stdlib);
    uint32_t n_tops = m->n_tops;
    arena_t *a = arena_new(1u << 20);
    proto_str_t s;
    size_t n = 0;
    st_rc_t rc = ST_OK;

    if (mods == NULL || stdlib == NULL || a == NULL)
        rc = st_fail(err, ST_ENOMEM, "out of memory");
    while (rc == ST_OK && proto_next_module(m, &s)) {
        lib_module_t lm = libfind_module(c->lf, s.ptr, s.len);
        proto_libmod_t *l = &mods[n++];
        *l = (proto_libmod_t){
            .kind = lm.kind, .from = lm.from, .package = lm.package, .stdlib = lm.stdlib};
        if (lm.kind == LIB_FILE && lm.path == NULL)
            l->kind = LIB_OPEN; /* a file without a path: nothing to read */
        else if (lm.kind == LIB_FILE)
            rc = describe_lib_file(c, lm.path, a, l, err);
    }
    for (size_t k = 0; rc == ST_OK && proto_next_top(m, &s); k++)
        stdlib[k] = libfind_is_stdlib(c->lf, s.ptr, s.len);
    for (size_t k = 0; rc == ST_OK && k < n; k++) /* their scans count too, as in a check */
        progress_add(c->progress, PROGRESS_FILES, mods[k].kind == LIB_FILE);
    if (rc == ST_OK) {
        buf_reset(&c->msg);
        if ((rc = proto_encode_libfiles(&c->msg, mods, n, stdlib, n_tops)) != ST_OK)
            rc = st_fail(err, rc, "the answer to the coordinator's lookup is too large");
        else if (zmq_send(c->sock, c->msg.data, c->msg.len, 0) < 0)
            rc = st_fail(err, ST_EIO, "send: %s", zmq_strerror(errno));
    }
    arena_destroy(&a);
    st_free(mods);
    st_free(stdlib);
    return rc;
}

/* DONE's diagnostics into the report. */
static st_rc_t take_done(client_t *c, proto_msg_t *m, report_t *report, st_err_t *err)
{
    proto_fdiags_t fd;
    proto_diag_t d;
    arena_t *a = arena_new(0);
    st_rc_t rc = ST_OK;

    if (a == NULL)
        return st_fail(err, ST_ENOMEM, "out of memory");
    while (rc == ST_OK && proto_next_fdiags(m, &fd)) {
        scan_diag_t *diags;
        size_t k = 0;
        if (fd.index >= c->n) {
            rc = st_fail(err, ST_ECORRUPT, "the coordinator sent results for an unknown file");
            break;
        }
        arena_reset(a);
        if ((diags = arena_calloc(a, fd.count == 0 ? 1 : fd.count, sizeof *diags)) == NULL) {
            rc = st_fail(err, ST_ENOMEM, "out of memory");
            break;
        }
        while (proto_next_diag(&fd, &d)) {
            diags[k] = (scan_diag_t){.line = d.line,
                                     .col = d.col,
                                     .code = arena_strndup(a, d.code.ptr, d.code.len),
                                     .message = arena_strndup(a, d.message.ptr, d.message.len)};
            if (diags[k].code == NULL || diags[k].message == NULL) {
                rc = st_fail(err, ST_ENOMEM, "out of memory");
                break;
            }
            k++;
        }
        if (rc == ST_OK && !is_context(c, fd.index))
            rc = report_add(report, c->entries[fd.index].path.ptr, diags, k, err);
    }
    arena_destroy(&a);
    return rc;
}

/* SUBMIT, uploads, and the wait for DONE. ST_OK: the report has the
 * coordinator's diagnostics and *failed says whether jobs failed. */
static st_rc_t run_batch(client_t *c, report_t *report, bool *failed, st_err_t *err)
{
    const cli_submit_t *cfg = c->cfg;
    uint64_t last = clock_ms();
    st_rc_t rc;

    proto_env_t env = {
        .major = c->env.major,
        .minor = c->env.minor,
        .platform = {c->env.platform, (uint32_t)strlen(c->env.platform)},
        .python = {c->env.found ? c->env.python : NULL,
                   c->env.found && c->env.python != NULL ? (uint32_t)strlen(c->env.python) : 0},
        .key = {c->env_key, c->env_key != NULL ? (uint32_t)strlen(c->env_key) : 0}};

    if ((rc = connect_socket(c, err)) != ST_OK)
        return rc;
    buf_reset(&c->msg);
    rc = proto_encode_submit(&c->msg, c->entries, c->n, (const char *const *)cfg->check.roots,
                             cfg->check.n_roots, (const char *const *)cfg->check.paths,
                             cfg->check.n_paths, c->max_bytes, c->has_env ? &env : NULL);
    if (rc != ST_OK)
        return st_fail(err, rc, "too many files or too long a path for one submission");
    if (zmq_send(c->sock, c->msg.data, c->msg.len, 0) < 0)
        return st_fail(err, ST_EIO, "send: %s", zmq_strerror(errno));
    for (;;) {
        zmq_pollitem_t items[2] = {{.socket = c->sock, .events = ZMQ_POLLIN},
                                   {.socket = c->mon, .events = ZMQ_POLLIN}};
        uint64_t now = clock_ms();
        int n;
        if (now - last >= cfg->timeout_ms) {
            drain_monitor(c);
            if (c->auth_failed)
                return st_fail(err, ST_EIO,
                               "the coordinator at %s refused this client's key (is "
                               "%s/client.pub in its allowlist? is --server-key right?)",
                               cfg->coordinator, cfg->keys_dir);
            if (!c->heard)
                return st_fail(err, ST_EIO, "no answer from the coordinator at %s in %u s",
                               cfg->coordinator, cfg->timeout_ms / 1000);
            return st_fail(err, ST_EIO, "the coordinator at %s stopped answering",
                           cfg->coordinator);
        }
        n = zmq_poll(items, c->mon != NULL ? 2 : 1, (long)(cfg->timeout_ms - (now - last)));
        if (n < 0 && errno == EINTR)
            return st_fail(err, ST_EIO, "interrupted");
        if (n < 0)
            return st_fail(err, ST_EIO, "poll: %s", zmq_strerror(errno));
        if (c->mon != NULL && (items[1].revents & ZMQ_POLLIN))
            drain_monitor(c);
        if (!(items[0].revents & ZMQ_POLLIN))
            continue;
        zmq_msg_t zm;
        proto_msg_t m;
        st_err_t derr = {0};
        zmq_msg_init(&zm);
        if (zmq_msg_recv(&zm, c->sock, 0) < 0) {
            zmq_msg_close(&zm);
            continue;
        }
        last = clock_ms();
        c->heard = true;
        if (zmq_msg_more(&zm)) { /* several frames: not our protocol */
            frames_drain(c->sock);
            snprintf(derr.msg, sizeof derr.msg, "several frames where the protocol has one");
        }
        if (derr.msg[0] != '\0' ||
            proto_decode_client(zmq_msg_data(&zm), zmq_msg_size(&zm), &m, &derr) != ST_OK) {
            fprintf(c->errs,
                    "strata submit: warning: a malformed message from the coordinator: "
                    "%s\n",
                    derr.msg);
            zmq_msg_close(&zm);
            continue;
        }
        rc = ST_OK;
        if (m.type == PROTO_PROGRESS) {
            progress_set(c->progress, PROGRESS_QUEUED, (size_t)m.progress.queued);
            /* the coordinator counts scans and cache hits apart */
            progress_set(c->progress, PROGRESS_SCANNED,
                         (size_t)(m.progress.scanned + m.progress.cached));
            progress_set(c->progress, PROGRESS_CACHED, (size_t)m.progress.cached);
            progress_set(c->progress, PROGRESS_CHECKED, (size_t)m.progress.checked);
            progress_set(c->progress, PROGRESS_WORKERS, (size_t)m.progress.workers);
        }
        if (m.type == PROTO_NEED) {
            rc = upload(c, &m, err);
            last = clock_ms();
        } else if (m.type == PROTO_LOOKUP && c->has_env) {
            rc = answer_lookup(c, &m, err);
            last = clock_ms();
        } else if (m.type == PROTO_LOOKUP) {
            fprintf(c->errs, "strata submit: warning: a lookup from the coordinator, which was "
                             "sent no environment; ignored\n");
        } else if (m.type == PROTO_DONE) {
            if (m.status != PROTO_DONE_OK)
                rc = st_fail(err, ST_EIO, "the coordinator at %s: %.*s", cfg->coordinator,
                             (int)m.error.len, m.error.ptr);
            else
                rc = take_done(c, &m, report, err);
            *failed = m.stats.failed > 0;
            zmq_msg_close(&zm);
            return rc;
        }
        zmq_msg_close(&zm);
        if (rc != ST_OK)
            return rc;
    }
}

/* A file sent, by path: what the source lines of the report are checked
 * against. */
typedef struct {
    const char *path;
    const digest_t *digest;
} sent_file_t;

typedef struct {
    sent_file_t *files; /* sorted by path */
    size_t n;
} sent_t;

static int cmp_sent(const void *a, const void *b)
{
    return strcmp(((const sent_file_t *)a)->path, ((const sent_file_t *)b)->path);
}

/* The report's source check: text is what was sent when it hashes to the
 * digest sent for path (the coordinator checked that content). */
static bool same_as_sent(void *ctx, const char *path, const uint8_t *text, size_t len)
{
    const sent_t *sent = ctx;
    sent_file_t key = {.path = path}, *f;
    digest_t d;

    if (sent->files == NULL ||
        (f = bsearch(&key, sent->files, sent->n, sizeof key, cmp_sent)) == NULL)
        return false;
    return digest_sha256(text, len, &d) == ST_OK && digest_eq(&d, f->digest);
}

/* Writes the report; the source lines it shows are those of the files as
 * they were sent (a file changed since shows none). */
static st_rc_t write_report(const client_t *c, report_t *report, FILE *out, size_t *n_diags,
                            size_t *n_files, st_err_t *err)
{
    sent_t sent = {.files = st_calloc(c->n == 0 ? 1 : c->n, sizeof *sent.files)};
    report_output_t o = cli_report_output(&c->cfg->check);
    st_rc_t rc;

    for (size_t i = 0; sent.files != NULL && i < c->files.n_files; i++)
        if (c->entries[i].digest != NULL)
            sent.files[sent.n++] = (sent_file_t){c->entries[i].path.ptr, &c->digests[i]};
    if (sent.files != NULL)
        qsort(sent.files, sent.n, sizeof *sent.files, cmp_sent);
    o.source = (report_source_check_t){.same = same_as_sent, .ctx = &sent};
    rc = report_output(report, &o, out, n_diags, n_files, err);
    st_free(sent.files);
    return rc;
}

int client_submit(const cli_submit_t *cfg, config_set_t *conf, FILE *out, FILE *errs)
{
    client_t c = {.cfg = cfg, .errs = errs};
    report_t *report = NULL;
    cli_files_t gathered = {0};
    st_err_t err = {0};
    size_t n_diags = 0, n_files = 0;
    bool failed = false, missing = false;
    int status = EXIT_ERROR;

    c.max_bytes =
        cfg->check.max_file_bytes != 0 ? cfg->check.max_file_bytes : SCAN_DEFAULT_MAX_FILE_BYTES;
    buf_init(&c.msg);
    /* the named files and the project around them, as strata check reads
     * them: the coordinator checks all, the named ones are reported */
    if (cli_files_gather(&cfg->check, conf, true, &gathered, &err) != ST_OK ||
        (gathered.has_stdin &&
         st_fail(&err, ST_EINVAL, "standard input ('-') cannot be submitted") != ST_OK)) {
        cli_files_free(&gathered);
        fprintf(errs, "strata submit: %s\n", err.msg);
        buf_free(&c.msg);
        return EXIT_ERROR;
    }
    c.files = gathered.list;
    for (size_t i = 0; i < c.files.n_missing; i++)
        fprintf(errs, "strata: %s: %s\n", c.files.missing[i].path,
                strerror(c.files.missing[i].err));
    missing = c.files.n_missing > 0;
    if ((c.arena = arena_new(0)) == NULL || (report = report_new(&cfg->check.rules)) == NULL) {
        fprintf(errs, "strata: out of memory\n");
        goto out;
    }
    for (size_t i = 0; conf != NULL && i < c.files.n_files; i++)
        if (config_lookup(conf, c.files.files[i].path, false, &err) != ST_OK)
            break;
    if (conf != NULL && (err.code != ST_OK || config_error(conf, &err) != ST_OK)) {
        fprintf(errs, "strata: %s\n", err.msg);
        goto out;
    }
    if (conf != NULL && config_any(conf))
        report_set_filter(report, config_enabled, conf);
    if (progress_wanted(errs, cfg->check.quiet) &&
        (c.progress = progress_new(errs, "strata submit")) != NULL)
        progress_set(c.progress, PROGRESS_FILES, c.files.n_files);
    /* the environment as strata check finds it: the coordinator checks
     * against it, asking this client where library modules are */
    if (!envcmd_open(&cfg->check, "strata submit", &c.env, &c.lf, &c.env_key, errs))
        goto out;
    c.has_env = c.env_key != NULL;
    if (hash_files(&c, &err) != ST_OK || run_batch(&c, report, &failed, &err) != ST_OK) {
        progress_destroy(&c.progress);
        fprintf(errs, "strata submit: %s\n", err.msg);
        goto out;
    }
    progress_destroy(&c.progress); /* the line is erased before the results */
    for (size_t i = 0; i < c.n; i++) {
        scan_diag_t d = e902_diag(c.local_error[i]);
        if (c.local_error[i] != NULL && !is_context(&c, i) &&
            report_add(report, c.entries[i].path.ptr, &d, 1, &err) != ST_OK) {
            fprintf(errs, "strata: %s\n", err.msg);
            goto out;
        }
    }
    for (size_t i = 0; i < c.files.n_unreadable; i++) {
        char message[E902_MESSAGE_MAX];
        scan_diag_t d = e902_diag(e902_textf(message, sizeof message, E902_DIRECTORY,
                                             strerror(c.files.unreadable[i].err)));
        if (report_add(report, c.files.unreadable[i].path, &d, 1, &err) != ST_OK) {
            fprintf(errs, "strata: %s\n", err.msg);
            goto out;
        }
    }
    if (write_report(&c, report, out, &n_diags, &n_files, &err) != ST_OK) {
        fprintf(errs, "strata: %s\n", err.msg);
        goto out;
    }
    if (!cfg->check.quiet)
        report_write_summary(errs, n_diags, n_files, gathered.n_named);
    status = missing || failed                      ? EXIT_ERROR
             : n_diags > 0 && !cfg->check.exit_zero ? EXIT_FOUND
                                                    : EXIT_CLEAN;
out:
    progress_destroy(&c.progress);
    if (c.mon != NULL) {
        zmq_socket_monitor(c.sock, NULL, 0);
        zmq_close(c.mon);
    }
    if (c.sock != NULL)
        zmq_close(c.sock);
    if (c.zctx != NULL)
        zmq_ctx_term(c.zctx);
    report_destroy(&report);
    arena_destroy(&c.arena);
    libfind_destroy(&c.lf);
    env_free(&c.env);
    st_free(c.env_key);
    st_free(c.libs);
    st_free(c.entries);
    st_free(c.digests);
    st_free(c.local_error);
    walk_list_free(&c.files);
    buf_free(&c.msg);
    return status;
}
