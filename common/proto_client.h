/* proto_client.h - the wire messages between a client (strata submit) and
 * the coordinator.
 *
 * They travel in proto.h's envelope (a msgpack map opening with "v" and
 * "t", the same version and limits) and decode into the same proto_msg_t,
 * with the same distrust: every entry of every list is validated before
 * the message is handed on, then iterated in place. A socket speaks one
 * protocol: proto_decode_client refuses the worker messages.
 *
 * Messages (keys after "v" and "t"; unknown keys are skipped):
 *   SUBMIT    client -> coordinator: "files" [[path str, kind uint, digest
 *             bin32 or nil, size uint]...] (kind: scan_kind_t, or
 *             PROTO_KIND_EXTENSION for a compiled module that exists for
 *             imports only; digest nil: no content to check, an extension
 *             or a file the client could not read and reported itself),
 *             "roots" [str...], "args" [str...], "max_file_bytes" uint,
 *             "env" [major uint, minor uint, platform str, python str or
 *             nil, key str] (optional: the client's Python environment,
 *             which the run takes as its own; the target version (0.0:
 *             the default) and sys.platform ("": the default), the
 *             interpreter E0401 names (nil: none found), and the text
 *             that stands for the environment in the whole run's key.
 *             Without "env" the batch has no environment: imports of the
 *             standard library and of installed packages stay unknown)
 *   NEED      coordinator -> client: "digests" [index uint...], indices
 *             into the SUBMIT list whose content the coordinator lacks;
 *             an index at or past the SUBMIT list's length names a library
 *             file: the k-th file (0-based) the client's LIBFILES gave
 *             with a digest, counted over the batch, is index n_files + k
 *   UPLOAD    client -> coordinator: "blobs" [[index uint, zstd bin, raw
 *             size uint]...]; the NEEDed blobs may come in several UPLOADs
 *   PROGRESS  coordinator -> client: "scanned", "checked", "cached",
 *             "workers" uint, "queued" uint (batches ahead of this one);
 *             also the heartbeat of a running batch
 *   DONE      coordinator -> client: "status" uint (0 ok, 2 error), "error"
 *             str, "stats" {"files","uploaded","scanned","cached","checked",
 *             "failed" uint}, "files" [[index uint, [[line, col, code str, message
 *             str]...]]...] (files without a diagnostic are left out)
 *   LOOKUP    coordinator -> client (only to a SUBMIT with "env"), once per
 *             library round: "modules" [name str...] (absolute dotted
 *             module names, at most PROTO_MAX_MODULE bytes each), "tops"
 *             [name str...] (top-level names: are they the standard
 *             library's?); at most PROTO_MAX_LOOKUP of each
 *   LIBFILES  client -> coordinator, the answer to the last LOOKUP, one
 *             entry per name in the same order: "modules" [[kind uint,
 *             from uint, package bool, stdlib bool, path str or nil, scan
 *             kind uint, size uint, digest bin32 or nil]...] (run/libfind.h's
 *             answer: kind 0 absent, 1 a file, 2 a namespace package, 3
 *             open; from its lib_from_t; path, scan kind, size and the
 *             SHA-256 of the content only for a file, digest nil when the
 *             client could not read it), "tops" [bool...]. The contents the
 *             coordinator lacks then go through NEED and UPLOAD. */
#ifndef STRATA_PROTO_CLIENT_H
#define STRATA_PROTO_CLIENT_H

#include "common/proto.h"

#define PROTO_MAX_FILES 1000000u /* files in one SUBMIT */
#define PROTO_MAX_PATH 4096u     /* bytes of a path or argument */
#define PROTO_MAX_ARGS 65536u    /* roots or args in one SUBMIT */
#define PROTO_MAX_DIAGS 1000000u /* diagnostics of one file in DONE */
#define PROTO_MAX_CODE 32u       /* bytes of a diagnostic code */
#define PROTO_KIND_EXTENSION 4u  /* SUBMIT kind: not checked, for imports */
#define PROTO_DIGEST_LEN 32u     /* SHA-256 */
#define PROTO_MAX_MODULE 1024u   /* bytes of a dotted module name in LOOKUP */
#define PROTO_MAX_LOOKUP 8192u   /* names in one LOOKUP's list */
#define PROTO_MAX_ENV_KEY 65536u /* bytes of SUBMIT's environment key */
#define PROTO_MAX_PLATFORM 31u   /* bytes of a sys.platform name */
#define PROTO_LIB_FILE 1u        /* LIBFILES kind: a module with a file */
#define PROTO_LIB_MAX_KIND 3u    /* LIBFILES kinds: 0..3 (run/libfind.h lib_kind_t) */
#define PROTO_LIB_MAX_FROM 4u    /* LIBFILES from: 0..4 (lib_from_t) */
#define PROTO_DONE_OK 0u
#define PROTO_DONE_ERROR 2u

/* One file of a SUBMIT. */
typedef struct {
    proto_str_t path;
    uint32_t kind;         /* scan_kind_t (0..3) or PROTO_KIND_EXTENSION */
    const uint8_t *digest; /* PROTO_DIGEST_LEN bytes, or NULL (nil) */
    uint64_t size;
} proto_file_t;

/* One blob of an UPLOAD. */
typedef struct {
    uint32_t index; /* into the SUBMIT list */
    span_t zdata;   /* zstd frame */
    uint64_t raw_size;
} proto_blob_t;

/* One answer of a LIBFILES. */
typedef struct {
    uint32_t kind; /* 0..PROTO_LIB_MAX_KIND */
    uint32_t from; /* 0..PROTO_LIB_MAX_FROM */
    bool package, stdlib;
    /* kind PROTO_LIB_FILE only (else empty, 0 and NULL): */
    proto_str_t path;
    uint32_t scan_kind;    /* scan_kind_t (0..3) */
    uint64_t size;         /* bytes of the content */
    const uint8_t *digest; /* PROTO_DIGEST_LEN bytes, or NULL: not read */
} proto_libmod_t;

/* One diagnostic in a DONE. */
typedef struct {
    uint32_t line, col;
    proto_str_t code;    /* <= PROTO_MAX_CODE bytes */
    proto_str_t message; /* <= PROTO_MAX_TEXT bytes */
} proto_diag_t;

/* The diagnostics of one file of a DONE, iterated by proto_next_diag. */
typedef struct {
    uint32_t index; /* into the SUBMIT list */
    uint32_t count;
    mpread_t r_;    /* private */
    uint32_t left_; /* private */
} proto_fdiags_t;

/* The same for the client protocol: SUBMIT, NEED, UPLOAD, PROGRESS,
 * DONE, LOOKUP and LIBFILES only (every entry of every list validated, as proto_decode does);
 * the worker messages are ST_ECORRUPT here. */
st_rc_t proto_decode_client(const void *p, size_t len, proto_msg_t *out, st_err_t *err);

/* Iterators over a decoded client message (false at the end, or for a
 * message of another type): SUBMIT's files, roots and args; NEED's
 * indices; UPLOAD's blobs; DONE's files, then each file's diagnostics. */
bool proto_next_file(proto_msg_t *m, proto_file_t *file);
bool proto_next_root(proto_msg_t *m, proto_str_t *root);
bool proto_next_arg(proto_msg_t *m, proto_str_t *arg);
bool proto_next_index(proto_msg_t *m, uint32_t *index);
bool proto_next_blob(proto_msg_t *m, proto_blob_t *blob);
bool proto_next_fdiags(proto_msg_t *m, proto_fdiags_t *fd);
bool proto_next_diag(proto_fdiags_t *fd, proto_diag_t *diag);
/* LOOKUP's module names and top-level names; LIBFILES' answers to each. */
bool proto_next_module(proto_msg_t *m, proto_str_t *name);
bool proto_next_top(proto_msg_t *m, proto_str_t *name);
bool proto_next_libmod(proto_msg_t *m, proto_libmod_t *mod);
bool proto_next_stdlib(proto_msg_t *m, bool *stdlib);

/* Client encoders. ST_ELIMIT when a count, string or kind is past its
 * limit (nothing usable in b then); ST_ENOMEM. SUBMIT's files[i].digest may
 * be NULL (nil); env NULL: no "env" (env->python.ptr NULL: nil). */
st_rc_t proto_encode_submit(buf_t *b, const proto_file_t *files, size_t n_files,
                            const char *const *roots, size_t n_roots, const char *const *args,
                            size_t n_args, uint64_t max_file_bytes, const proto_env_t *env);
st_rc_t proto_encode_lookup(buf_t *b, const proto_str_t *modules, size_t n_modules,
                            const proto_str_t *tops, size_t n_tops);
st_rc_t proto_encode_libfiles(buf_t *b, const proto_libmod_t *mods, size_t n_mods,
                              const bool *stdlib, size_t n_tops);
st_rc_t proto_encode_need(buf_t *b, const uint32_t *indices, size_t n);
st_rc_t proto_encode_progress(buf_t *b, const proto_progress_t *p);

/* UPLOAD and DONE are built one entry at a time, like a batch:
 *     proto_upload_begin(&batch, b); proto_upload_blob(&batch, ...)...;
 *     proto_batch_end(&batch);
 *     proto_done_begin(&batch, b, status, error, &stats);
 *     proto_done_file(&batch, index, diags, n)...; proto_batch_end(&batch);
 * An UPLOAD takes at most PROTO_MAX_JOBS blobs and PROTO_MAX_MSG bytes
 * (ST_ELIMIT, the batch unchanged: send it and start another); a DONE
 * takes up to PROTO_MAX_FILES files (ST_ELIMIT past PROTO_MAX_MSG). */
st_rc_t proto_upload_begin(proto_batch_t *batch, buf_t *b);
st_rc_t proto_upload_blob(proto_batch_t *batch, uint32_t index, span_t zdata, uint64_t raw_size);
st_rc_t proto_done_begin(proto_batch_t *batch, buf_t *b, uint32_t status, const char *error,
                         const proto_stats_t *stats);
st_rc_t proto_done_file(proto_batch_t *batch, uint32_t index, const proto_diag_t *diags, size_t n);

#endif
