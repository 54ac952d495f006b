/* test_proto_client.c - the client messages (SUBMIT, NEED, UPLOAD,
 * PROGRESS, DONE): each round-trips, and truncations, corruptions, huge
 * counts and the other protocol's messages are refused without a crash. */
#include "test.h"

#include "common/proto.h"
#include "common/proto_client.h"

#include <msgpack.h>
#include <string.h>

static int str_is(proto_str_t s, const char *want)
{
    return s.len == strlen(want) && memcmp(s.ptr, want, s.len) == 0;
}

static proto_str_t str(const char *s)
{
    return (proto_str_t){.ptr = s, .len = (uint32_t)strlen(s)};
}

static void make_submit(buf_t *b)
{
    static const uint8_t dg[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    proto_file_t files[3] = {
        {.path = str("pkg/__init__.py"), .kind = 2, .digest = dg, .size = 10},
        {.path = str("pkg/mod.py"), .kind = 0, .digest = NULL, .size = 7},
        {.path = str("pkg/ext.so"), .kind = PROTO_KIND_EXTENSION, .digest = NULL, .size = 0},
    };
    const char *roots[] = {"src"};
    const char *args[] = {"pkg", "other"};

    buf_reset(b);
    REQUIRE(proto_encode_submit(b, files, 3, roots, 1, args, 2, 12345, NULL) == ST_OK);
}

TEST(proto_client_submit_round_trips)
{
    proto_msg_t m;
    proto_file_t f;
    proto_str_t s;
    buf_t b;
    st_err_t err = {0};

    buf_init(&b);
    make_submit(&b);
    REQUIRE(proto_decode_client(b.data, b.len, &m, &err) == ST_OK);
    CHECK(m.type == PROTO_SUBMIT && m.count == 3 && m.max_file_bytes == 12345);
    REQUIRE(proto_next_file(&m, &f));
    CHECK(str_is(f.path, "pkg/__init__.py") && f.kind == 2 && f.digest != NULL &&
          f.digest[9] == 10 && f.size == 10);
    REQUIRE(proto_next_file(&m, &f));
    CHECK(str_is(f.path, "pkg/mod.py") && f.kind == 0 && f.digest == NULL && f.size == 7);
    REQUIRE(proto_next_file(&m, &f));
    CHECK(f.kind == PROTO_KIND_EXTENSION);
    CHECK(!proto_next_file(&m, &f));
    REQUIRE(proto_next_root(&m, &s));
    CHECK(str_is(s, "src"));
    CHECK(!proto_next_root(&m, &s));
    REQUIRE(proto_next_arg(&m, &s));
    CHECK(str_is(s, "pkg"));
    REQUIRE(proto_next_arg(&m, &s));
    CHECK(str_is(s, "other"));
    CHECK(!proto_next_arg(&m, &s));
    /* the worker decoder refuses it, and the client one a worker message */
    CHECK(proto_decode(b.data, b.len, &m, NULL) == ST_ECORRUPT);
    buf_reset(&b);
    REQUIRE(proto_encode_heartbeat(&b) == ST_OK);
    CHECK(proto_decode_client(b.data, b.len, &m, NULL) == ST_ECORRUPT);
    buf_free(&b);
}

TEST(proto_client_need_upload_progress_round_trip)
{
    uint32_t idx[] = {0, 7, 999};
    proto_msg_t m;
    proto_batch_t batch;
    proto_blob_t blob;
    proto_progress_t p = {.scanned = 5, .checked = 6, .cached = 7, .workers = 2, .queued = 1};
    uint32_t i;
    buf_t b;

    buf_init(&b);
    REQUIRE(proto_encode_need(&b, idx, 3) == ST_OK);
    REQUIRE(proto_decode_client(b.data, b.len, &m, NULL) == ST_OK);
    CHECK(m.type == PROTO_NEED && m.count == 3);
    CHECK(proto_next_index(&m, &i) && i == 0);
    CHECK(proto_next_index(&m, &i) && i == 7);
    CHECK(proto_next_index(&m, &i) && i == 999);
    CHECK(!proto_next_index(&m, &i));

    buf_reset(&b);
    REQUIRE(proto_upload_begin(&batch, &b) == ST_OK);
    REQUIRE(proto_upload_blob(&batch, 4, (span_t){.ptr = (const uint8_t *)"zz", .len = 2}, 9) ==
            ST_OK);
    REQUIRE(proto_upload_blob(&batch, 5, (span_t){.ptr = (const uint8_t *)"", .len = 0}, 0) ==
            ST_OK);
    proto_batch_end(&batch);
    REQUIRE(proto_decode_client(b.data, b.len, &m, NULL) == ST_OK);
    CHECK(m.type == PROTO_UPLOAD && m.count == 2);
    REQUIRE(proto_next_blob(&m, &blob));
    CHECK(blob.index == 4 && blob.zdata.len == 2 && memcmp(blob.zdata.ptr, "zz", 2) == 0 &&
          blob.raw_size == 9);
    REQUIRE(proto_next_blob(&m, &blob));
    CHECK(blob.index == 5 && blob.zdata.len == 0);
    CHECK(!proto_next_blob(&m, &blob));

    buf_reset(&b);
    REQUIRE(proto_encode_progress(&b, &p) == ST_OK);
    REQUIRE(proto_decode_client(b.data, b.len, &m, NULL) == ST_OK);
    CHECK(m.type == PROTO_PROGRESS && m.progress.scanned == 5 && m.progress.checked == 6 &&
          m.progress.cached == 7 && m.progress.workers == 2 && m.progress.queued == 1);
    buf_free(&b);
}

static void make_done(buf_t *b)
{
    proto_batch_t batch;
    proto_stats_t st = {
        .files = 3, .uploaded = 1, .scanned = 2, .cached = 1, .checked = 4, .failed = 5};
    proto_diag_t d[2] = {
        {.line = 3, .col = 1, .code = str("F401"), .message = str("'os' imported but unused")},
        {.line = 9, .col = 5, .code = str("E0611"), .message = str("no name 'x' in module 'y'")},
    };

    buf_reset(b);
    REQUIRE(proto_done_begin(&batch, b, PROTO_DONE_OK, "", &st) == ST_OK);
    REQUIRE(proto_done_file(&batch, 0, d, 2) == ST_OK);
    REQUIRE(proto_done_file(&batch, 2, d + 1, 1) == ST_OK);
    proto_batch_end(&batch);
}

TEST(proto_client_done_round_trips)
{
    proto_msg_t m;
    proto_fdiags_t fd;
    proto_diag_t d;
    proto_batch_t batch;
    proto_stats_t st = {0};
    buf_t b;

    buf_init(&b);
    make_done(&b);
    REQUIRE(proto_decode_client(b.data, b.len, &m, NULL) == ST_OK);
    CHECK(m.type == PROTO_DONE && m.status == PROTO_DONE_OK && m.count == 2);
    CHECK(m.stats.files == 3 && m.stats.uploaded == 1 && m.stats.scanned == 2 &&
          m.stats.cached == 1 && m.stats.checked == 4 && m.stats.failed == 5);
    REQUIRE(proto_next_fdiags(&m, &fd));
    CHECK(fd.index == 0 && fd.count == 2);
    REQUIRE(proto_next_diag(&fd, &d));
    CHECK(d.line == 3 && d.col == 1 && str_is(d.code, "F401") &&
          str_is(d.message, "'os' imported but unused"));
    REQUIRE(proto_next_diag(&fd, &d));
    CHECK(str_is(d.code, "E0611"));
    CHECK(!proto_next_diag(&fd, &d));
    REQUIRE(proto_next_fdiags(&m, &fd));
    CHECK(fd.index == 2 && fd.count == 1);
    CHECK(!proto_next_fdiags(&m, &fd));

    buf_reset(&b);
    REQUIRE(proto_done_begin(&batch, &b, PROTO_DONE_ERROR, "no space left", &st) == ST_OK);
    proto_batch_end(&batch);
    REQUIRE(proto_decode_client(b.data, b.len, &m, NULL) == ST_OK);
    CHECK(m.status == PROTO_DONE_ERROR && str_is(m.error, "no space left") && m.count == 0);
    CHECK(proto_done_begin(&batch, &b, 1, "", &st) == ST_ELIMIT);
    buf_free(&b);
}

/* Every truncation of every message is refused; random corruptions never
 * crash, and whatever decodes points inside the message. */
TEST(proto_client_hostile_bytes)
{
    buf_t b;
    proto_msg_t m;
    uint32_t seed = 777;

    buf_init(&b);
    for (int which = 0; which < 2; which++) {
        if (which == 0)
            make_submit(&b);
        else
            make_done(&b);
        for (size_t cut = 0; cut < b.len; cut++)
            CHECK(proto_decode_client(b.data, cut, &m, NULL) != ST_OK);
        for (int round = 0; round < 3000; round++) {
            proto_file_t f;
            proto_fdiags_t fd;
            proto_diag_t d;
            if (which == 0)
                make_submit(&b);
            else
                make_done(&b);
            for (int k = 0; k < 3; k++) {
                seed = seed * 1103515245u + 12345u;
                b.data[(seed >> 8) % b.len] = (uint8_t)(seed >> 20);
            }
            if (proto_decode_client(b.data, b.len, &m, NULL) != ST_OK)
                continue;
            while (proto_next_file(&m, &f))
                CHECK(f.path.ptr >= (const char *)b.data &&
                      f.path.ptr + f.path.len <= (const char *)b.data + b.len);
            while (proto_next_fdiags(&m, &fd))
                while (proto_next_diag(&fd, &d))
                    CHECK(d.message.ptr + d.message.len <= (const char *)b.data + b.len &&
                          d.code.len <= PROTO_MAX_CODE);
        }
    }
    buf_free(&b);
}

/* Counts that claim more than the bytes hold, or more than the limits. */
TEST(proto_client_refuses_huge_counts)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    proto_msg_t m;
    st_err_t err = {0};

    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 3);
    msgpack_pack_str_with_body(&pk, "v", 1);
    msgpack_pack_uint32(&pk, PROTO_VERSION);
    msgpack_pack_str_with_body(&pk, "t", 1);
    msgpack_pack_uint32(&pk, PROTO_NEED);
    msgpack_pack_str_with_body(&pk, "digests", 7);
    msgpack_pack_array(&pk, 4000000000u); /* no bytes behind it */
    CHECK(proto_decode_client(sb.data, sb.size, &m, &err) == ST_ECORRUPT);
    msgpack_sbuffer_clear(&sb);

    /* an index past the limit */
    msgpack_pack_map(&pk, 3);
    msgpack_pack_str_with_body(&pk, "v", 1);
    msgpack_pack_uint32(&pk, PROTO_VERSION);
    msgpack_pack_str_with_body(&pk, "t", 1);
    msgpack_pack_uint32(&pk, PROTO_NEED);
    msgpack_pack_str_with_body(&pk, "digests", 7);
    msgpack_pack_array(&pk, 1);
    msgpack_pack_uint32(&pk, PROTO_MAX_FILES);
    CHECK(proto_decode_client(sb.data, sb.size, &m, &err) == ST_ECORRUPT);
    msgpack_sbuffer_clear(&sb);

    /* a digest of the wrong length */
    msgpack_pack_map(&pk, 3);
    msgpack_pack_str_with_body(&pk, "v", 1);
    msgpack_pack_uint32(&pk, PROTO_VERSION);
    msgpack_pack_str_with_body(&pk, "t", 1);
    msgpack_pack_uint32(&pk, PROTO_SUBMIT);
    msgpack_pack_str_with_body(&pk, "files", 5);
    msgpack_pack_array(&pk, 1);
    msgpack_pack_array(&pk, 4);
    msgpack_pack_str_with_body(&pk, "a.py", 4);
    msgpack_pack_uint32(&pk, 0);
    msgpack_pack_bin_with_body(&pk, "short", 5);
    msgpack_pack_uint32(&pk, 5);
    CHECK(proto_decode_client(sb.data, sb.size, &m, &err) == ST_ECORRUPT);
    CHECK(strstr(err.msg, "digest") != NULL);
    msgpack_sbuffer_clear(&sb);

    /* DONE without "files" */
    msgpack_pack_map(&pk, 3);
    msgpack_pack_str_with_body(&pk, "v", 1);
    msgpack_pack_uint32(&pk, PROTO_VERSION);
    msgpack_pack_str_with_body(&pk, "t", 1);
    msgpack_pack_uint32(&pk, PROTO_DONE);
    msgpack_pack_str_with_body(&pk, "status", 6);
    msgpack_pack_uint32(&pk, 0);
    CHECK(proto_decode_client(sb.data, sb.size, &m, &err) == ST_ECORRUPT);
    msgpack_sbuffer_destroy(&sb);
}

/* ---- the environment: SUBMIT's "env", LOOKUP, LIBFILES -------------------- */

static const uint8_t lib_digest[32] = {9, 8, 7};

static void make_submit_env(buf_t *b, const char *python)
{
    proto_file_t f = {.path = str("a.py"), .kind = 0, .digest = lib_digest, .size = 3};
    proto_env_t env = {.major = 3,
                       .minor = 11,
                       .platform = str("linux"),
                       .python = python != NULL ? str(python) : (proto_str_t){0},
                       .key = str("3.11 linux\n/usr/bin/python3\n")};

    buf_reset(b);
    REQUIRE(proto_encode_submit(b, &f, 1, NULL, 0, NULL, 0, 0, &env) == ST_OK);
}

static void make_lookup(buf_t *b)
{
    proto_str_t modules[] = {str("os"), str("os.path"), str("pkg.sub")};
    proto_str_t tops[] = {str("json")};

    buf_reset(b);
    REQUIRE(proto_encode_lookup(b, modules, 3, tops, 1) == ST_OK);
}

static void make_libfiles(buf_t *b)
{
    proto_libmod_t mods[3] = {
        {.kind = PROTO_LIB_FILE,
         .from = 0,
         .package = true,
         .stdlib = true,
         .path = str("/stubs/os/__init__.pyi"),
         .scan_kind = 1,
         .size = 40,
         .digest = lib_digest},
        {.kind = PROTO_LIB_FILE, .from = 3, .path = str("/site/pkg.py"), .size = 7},
        {.kind = 3, .from = 4},
    };
    bool stdlib[] = {true, false};

    buf_reset(b);
    REQUIRE(proto_encode_libfiles(b, mods, 3, stdlib, 2) == ST_OK);
}

TEST(proto_client_submit_env_round_trips)
{
    proto_msg_t m;
    buf_t b;
    st_err_t err = {0};

    buf_init(&b);
    make_submit_env(&b, "/usr/bin/python3");
    REQUIRE(proto_decode_client(b.data, b.len, &m, &err) == ST_OK);
    CHECK(m.has_env && m.env.major == 3 && m.env.minor == 11);
    CHECK(str_is(m.env.platform, "linux") && str_is(m.env.python, "/usr/bin/python3"));
    CHECK(str_is(m.env.key, "3.11 linux\n/usr/bin/python3\n"));
    make_submit_env(&b, NULL); /* no interpreter: nil */
    REQUIRE(proto_decode_client(b.data, b.len, &m, &err) == ST_OK);
    CHECK(m.has_env && m.env.python.ptr == NULL);
    make_submit(&b); /* an old client: no "env" */
    REQUIRE(proto_decode_client(b.data, b.len, &m, &err) == ST_OK);
    CHECK(!m.has_env);
    buf_free(&b);
}

TEST(proto_client_lookup_libfiles_round_trip)
{
    proto_msg_t m;
    proto_str_t s;
    proto_libmod_t l;
    bool v;
    buf_t b;
    st_err_t err = {0};

    buf_init(&b);
    make_lookup(&b);
    REQUIRE(proto_decode_client(b.data, b.len, &m, &err) == ST_OK);
    CHECK(m.type == PROTO_LOOKUP && m.count == 3 && m.n_tops == 1);
    REQUIRE(proto_next_module(&m, &s));
    CHECK(str_is(s, "os"));
    REQUIRE(proto_next_module(&m, &s));
    REQUIRE(proto_next_module(&m, &s));
    CHECK(str_is(s, "pkg.sub"));
    CHECK(!proto_next_module(&m, &s));
    REQUIRE(proto_next_top(&m, &s));
    CHECK(str_is(s, "json"));
    CHECK(!proto_next_top(&m, &s));
    CHECK(!proto_next_libmod(&m, &l)); /* another type's iterator */

    make_libfiles(&b);
    REQUIRE(proto_decode_client(b.data, b.len, &m, &err) == ST_OK);
    CHECK(m.type == PROTO_LIBFILES && m.count == 3 && m.n_tops == 2);
    REQUIRE(proto_next_libmod(&m, &l));
    CHECK(l.kind == PROTO_LIB_FILE && l.package && l.stdlib && l.scan_kind == 1 && l.size == 40);
    CHECK(str_is(l.path, "/stubs/os/__init__.pyi") && l.digest != NULL && l.digest[2] == 7);
    REQUIRE(proto_next_libmod(&m, &l));
    CHECK(l.from == 3 && !l.package && l.digest == NULL && str_is(l.path, "/site/pkg.py"));
    REQUIRE(proto_next_libmod(&m, &l));
    CHECK(l.kind == 3 && l.from == 4 && l.path.len == 0);
    CHECK(!proto_next_libmod(&m, &l));
    REQUIRE(proto_next_stdlib(&m, &v));
    CHECK(v);
    REQUIRE(proto_next_stdlib(&m, &v));
    CHECK(!v);
    CHECK(!proto_next_stdlib(&m, &v));
    /* the worker decoder refuses both */
    CHECK(proto_decode(b.data, b.len, &m, NULL) == ST_ECORRUPT);
    buf_free(&b);
}

TEST(proto_client_env_encoders_refuse_what_does_not_fit)
{
    char big[PROTO_MAX_MODULE + 2];
    proto_str_t names[1] = {{big, PROTO_MAX_MODULE + 1}};
    proto_libmod_t bad_kind = {.kind = PROTO_LIB_MAX_KIND + 1};
    proto_libmod_t no_path = {.kind = PROTO_LIB_FILE};
    proto_libmod_t path_not_file = {.kind = 0, .path = str("/x.py")};
    proto_env_t env = {.major = 4, .key = str("k")};
    buf_t b;

    memset(big, 'a', sizeof big);
    buf_init(&b);
    CHECK(proto_encode_lookup(&b, names, 1, NULL, 0) == ST_ELIMIT);
    CHECK(proto_encode_lookup(&b, NULL, PROTO_MAX_LOOKUP + 1, NULL, 0) == ST_ELIMIT);
    names[0].len = 0;
    CHECK(proto_encode_lookup(&b, NULL, 0, names, 1) == ST_ELIMIT);
    CHECK(proto_encode_libfiles(&b, &bad_kind, 1, NULL, 0) == ST_ELIMIT);
    CHECK(proto_encode_libfiles(&b, &no_path, 1, NULL, 0) == ST_ELIMIT);
    CHECK(proto_encode_libfiles(&b, &path_not_file, 1, NULL, 0) == ST_ELIMIT);
    CHECK(proto_encode_submit(&b, NULL, 0, NULL, 0, NULL, 0, 0, &env) == ST_ELIMIT);
    buf_free(&b);
}

/* A message of the map header and type t, then the entries the caller packs. */
static void pack_head(msgpack_packer *pk, uint32_t entries, proto_type_t t)
{
    msgpack_pack_map(pk, entries);
    msgpack_pack_str_with_body(pk, "v", 1);
    msgpack_pack_uint32(pk, PROTO_VERSION);
    msgpack_pack_str_with_body(pk, "t", 1);
    msgpack_pack_uint32(pk, t);
}

/* A LIBFILES with one answer: kind, path (NULL: nil), digest length (0:
 * nil), size; "tops" empty. */
static void pack_libfiles(msgpack_packer *pk, uint32_t kind, const char *path, size_t dlen,
                          uint64_t size)
{
    pack_head(pk, 4, PROTO_LIBFILES);
    msgpack_pack_str_with_body(pk, "modules", 7);
    msgpack_pack_array(pk, 1);
    msgpack_pack_array(pk, 8);
    msgpack_pack_uint32(pk, kind);
    msgpack_pack_uint32(pk, 0);
    msgpack_pack_false(pk);
    msgpack_pack_false(pk);
    if (path != NULL)
        msgpack_pack_str_with_body(pk, path, strlen(path));
    else
        msgpack_pack_nil(pk);
    msgpack_pack_uint32(pk, 0);
    msgpack_pack_uint64(pk, size);
    if (dlen > 0)
        msgpack_pack_bin_with_body(pk, lib_digest, dlen);
    else
        msgpack_pack_nil(pk);
    msgpack_pack_str_with_body(pk, "tops", 4);
    msgpack_pack_array(pk, 0);
}

/* Malformed environment messages are refused, each with a reason. */
TEST(proto_client_refuses_bad_env_messages)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    proto_msg_t m;
    st_err_t err = {0};
    static const struct {
        uint32_t kind;
        const char *path;
        size_t dlen;
        uint64_t size;
        bool ok;
    } cases[] = {
        {1, "/s/a.py", 32, 3, true},
        {1, "/s/a.py", 0, 0, true},
        {0, NULL, 0, 0, true},
        {4, NULL, 0, 0, false},
        {1, NULL, 32, 3, false},
        {1, "", 32, 3, false},
        {1, "/s/a.py", 31, 3, false},
        {0, "/s/a.py", 0, 0, false},
        {0, NULL, 32, 0, false},
        {0, NULL, 0, 5, false},
        {1, "/s/a.py", 32, (uint64_t)1 << 40, false},
    };

    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pack_libfiles(&pk, cases[i].kind, cases[i].path, cases[i].dlen, cases[i].size);
        CHECK((proto_decode_client(sb.data, sb.size, &m, &err) == ST_OK) == cases[i].ok);
        msgpack_sbuffer_clear(&sb);
    }

    /* LOOKUP: a name too long, an empty one, a huge count, "tops" missing */
    static char big[PROTO_MAX_MODULE + 1];
    memset(big, 'a', sizeof big);
    for (int which = 0; which < 4; which++) {
        pack_head(&pk, which == 3 ? 3 : 4, PROTO_LOOKUP);
        msgpack_pack_str_with_body(&pk, "modules", 7);
        if (which == 2) {
            msgpack_pack_array(&pk, PROTO_MAX_LOOKUP + 1);
        } else {
            msgpack_pack_array(&pk, 1);
            msgpack_pack_str_with_body(&pk, big, which == 0 ? sizeof big : which == 1 ? 0 : 2);
        }
        if (which != 3) {
            msgpack_pack_str_with_body(&pk, "tops", 4);
            msgpack_pack_array(&pk, 0);
        }
        CHECK(proto_decode_client(sb.data, sb.size, &m, &err) == ST_ECORRUPT);
        msgpack_sbuffer_clear(&sb);
    }

    /* SUBMIT's env: a version other than 3.x, a bad platform, a NUL in the
     * interpreter, a key over its limit */
    for (int which = 0; which < 4; which++) {
        static char key[PROTO_MAX_ENV_KEY + 1];
        pack_head(&pk, 4, PROTO_SUBMIT);
        msgpack_pack_str_with_body(&pk, "files", 5);
        msgpack_pack_array(&pk, 0);
        msgpack_pack_str_with_body(&pk, "env", 3);
        msgpack_pack_array(&pk, 5);
        msgpack_pack_uint32(&pk, which == 0 ? 2 : 3);
        msgpack_pack_uint32(&pk, 11);
        msgpack_pack_str_with_body(&pk, which == 1 ? "Linux/x" : "linux", which == 1 ? 7 : 5);
        msgpack_pack_str_with_body(&pk, which == 2 ? "py\0thon" : "python", which == 2 ? 7 : 6);
        msgpack_pack_str_with_body(&pk, key, which == 3 ? sizeof key : 1);
        CHECK(proto_decode_client(sb.data, sb.size, &m, &err) == ST_ECORRUPT);
        msgpack_sbuffer_clear(&sb);
    }
    msgpack_sbuffer_destroy(&sb);
}

TEST(proto_client_env_hostile_bytes)
{
    buf_t b;
    proto_msg_t m;
    uint32_t seed = 4242;

    buf_init(&b);
    for (int which = 0; which < 3; which++) {
        for (int round = 0; round < 2000; round++) {
            proto_str_t s;
            proto_libmod_t l;
            bool v;
            if (which == 0)
                make_lookup(&b);
            else if (which == 1)
                make_libfiles(&b);
            else
                make_submit_env(&b, "/usr/bin/python3");
            if (round == 0) {
                for (size_t cut = 0; cut < b.len; cut++)
                    CHECK(proto_decode_client(b.data, cut, &m, NULL) != ST_OK);
            }
            for (int k = 0; k < 3; k++) {
                seed = seed * 1103515245u + 12345u;
                b.data[(seed >> 8) % b.len] = (uint8_t)(seed >> 20);
            }
            if (proto_decode_client(b.data, b.len, &m, NULL) != ST_OK)
                continue;
            while (proto_next_module(&m, &s))
                CHECK(s.len > 0 && s.len <= PROTO_MAX_MODULE &&
                      s.ptr + s.len <= (const char *)b.data + b.len);
            while (proto_next_top(&m, &s))
                CHECK(s.len > 0 && s.len <= PROTO_MAX_MODULE);
            while (proto_next_libmod(&m, &l))
                CHECK(l.kind <= PROTO_LIB_MAX_KIND &&
                      (l.kind == PROTO_LIB_FILE ? l.path.len > 0 : l.digest == NULL));
            while (proto_next_stdlib(&m, &v))
                ;
            if (m.has_env)
                CHECK(m.env.key.len <= PROTO_MAX_ENV_KEY &&
                      m.env.platform.len <= PROTO_MAX_PLATFORM);
        }
    }
    buf_free(&b);
}
