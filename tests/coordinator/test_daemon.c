/* test_daemon.c - the coordinator daemon in a thread of this process, and a
 * hand-driven client socket: endpoints and the loopback rule; hostile
 * messages (garbage, worker messages, uploads nobody asked for, a blob
 * whose content does not match its digest) are dropped or answered with an
 * error DONE and the daemon goes on serving; a real batch gets NEED for
 * what it lacks, then DONE with the file's diagnostics, and a second one
 * needs nothing; a batch with an environment asks its client where library
 * modules are. No worker: the daemon scans in-process after its grace. */
#include "test.h"

#include "common/buf.h"
#include "common/digest.h"
#include "common/proto.h"
#include "common/proto_client.h"
#include "coordinator/daemon.h"
#include "coordinator/keys.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>
#include <zstd.h>

TEST(daemon_loopback_rule)
{
    CHECK(keys_is_local("ipc:///tmp/x"));
    CHECK(keys_is_local("tcp://127.0.0.1:7700"));
    CHECK(keys_is_local("tcp://127.1.2.3:7700"));
    CHECK(keys_is_local("tcp://localhost:7700"));
    CHECK(keys_is_local("tcp://[::1]:7700"));
    CHECK(!keys_is_local("tcp://0.0.0.0:7700"));
    CHECK(!keys_is_local("tcp://*:7700"));
    CHECK(!keys_is_local("tcp://10.0.0.1:7700"));
    CHECK(!keys_is_local("tcp://127.example.com:7700"));
    CHECK(!keys_is_local("tcp://:7700"));
    CHECK(!keys_is_local("udp://127.0.0.1:1"));
}

TEST(daemon_workers_endpoint_derived)
{
    char out[128];
    st_err_t err = {0};

    REQUIRE(daemon_workers_endpoint("tcp://127.0.0.1:7700", out, sizeof out, &err) == ST_OK);
    CHECK_STREQ(out, "tcp://127.0.0.1:7701");
    REQUIRE(daemon_workers_endpoint("ipc:///run/s", out, sizeof out, &err) == ST_OK);
    CHECK_STREQ(out, "ipc:///run/s.workers");
    CHECK(daemon_workers_endpoint("tcp://h:*", out, sizeof out, &err) == ST_EINVAL);
    CHECK(daemon_workers_endpoint("tcp://h:65535", out, sizeof out, &err) == ST_EINVAL);
    CHECK(daemon_workers_endpoint("tcp://h", out, sizeof out, &err) == ST_EINVAL);
    CHECK(daemon_workers_endpoint("ipc:///a/very/long/path", out, 12, &err) == ST_EINVAL);
}

TEST(daemon_refuses_public_bind_without_keys)
{
    daemon_opts_t o = {.bind = "tcp://0.0.0.0:17700", .log = stderr};
    st_err_t err = {0};

    CHECK(daemon_run(&o, &err) == ST_EINVAL);
    CHECK(strstr(err.msg, "without authentication") != NULL);
    o = (daemon_opts_t){.bind = "ipc:///tmp/x", .workers_bind = "tcp://0.0.0.0:17701"};
    CHECK(daemon_run(&o, &err) == ST_EINVAL);
    CHECK(strstr(err.msg, "workers' socket") != NULL);
    o = (daemon_opts_t){.bind = "ipc:///tmp/x", .keys_dir = "/nonexistent"};
    CHECK(daemon_run(&o, &err) == ST_EINVAL);
}

typedef struct {
    daemon_opts_t opts;
    st_rc_t rc;
    st_err_t err;
} run_t;

static void *daemon_thread(void *arg)
{
    run_t *r = arg;
    r->rc = daemon_run(&r->opts, &r->err);
    return NULL;
}

/* The next message that is not PROGRESS, decoded into m (its bytes in b);
 * false after ms. */
static bool answer_within(void *sock, buf_t *b, proto_msg_t *m, int ms)
{
    for (int waited = 0; waited < ms;) {
        zmq_pollitem_t it = {.socket = sock, .events = ZMQ_POLLIN};
        zmq_msg_t zm;
        if (zmq_poll(&it, 1, 100) <= 0) {
            waited += 100;
            continue;
        }
        zmq_msg_init(&zm);
        if (zmq_msg_recv(&zm, sock, 0) < 0) {
            zmq_msg_close(&zm);
            return false;
        }
        buf_reset(b);
        buf_append(b, zmq_msg_data(&zm), zmq_msg_size(&zm));
        zmq_msg_close(&zm);
        if (proto_decode_client(b->data, b->len, m, NULL) != ST_OK)
            return false;
        if (m->type != PROTO_PROGRESS)
            return true;
    }
    return false;
}

static bool next_answer(void *sock, buf_t *b, proto_msg_t *m)
{
    return answer_within(sock, b, m, 30000);
}

static void send_buf(void *sock, const buf_t *b)
{
    zmq_send(sock, b->data, b->len, 0);
}

static void send_submit(void *sock, buf_t *b, const char *path, const digest_t *dg, size_t len)
{
    proto_file_t f = {
        .path = {path, (uint32_t)strlen(path)}, .kind = 0, .digest = dg->b, .size = len};
    const char *args[] = {"."};

    buf_reset(b);
    REQUIRE(proto_encode_submit(b, &f, 1, NULL, 0, args, 1, 0, NULL) == ST_OK);
    send_buf(sock, b);
}

static void send_upload(void *sock, buf_t *b, uint32_t index, const char *content)
{
    proto_batch_t batch;
    size_t len = strlen(content);
    uint8_t z[256];
    size_t zlen = ZSTD_compress(z, sizeof z, content, len, 3);

    REQUIRE(!ZSTD_isError(zlen));
    buf_reset(b);
    REQUIRE(proto_upload_begin(&batch, b) == ST_OK);
    REQUIRE(proto_upload_blob(&batch, index, (span_t){.ptr = z, .len = zlen}, len) == ST_OK);
    proto_batch_end(&batch);
    send_buf(sock, b);
}

TEST(daemon_serves_batches_and_survives_hostile_clients)
{
    char dir[] = "/tmp/strata-daemon-test.XXXXXX";
    char ep[128], cache[160];
    const char *src = "import os\n";
    run_t r = {0};
    pthread_t th;
    void *ctx, *sock;
    buf_t b, in;
    proto_msg_t m;
    proto_fdiags_t fd;
    proto_diag_t d;
    digest_t dg;
    uint32_t idx;
    int zero = 0;

    REQUIRE(mkdtemp(dir) != NULL);
    snprintf(ep, sizeof ep, "ipc://%s/c", dir);
    snprintf(cache, sizeof cache, "%s/cache", dir);
    r.opts = (daemon_opts_t){.bind = ep, .cache_dir = cache, .jobs = 1, .grace_ms = 100};
    REQUIRE(pthread_create(&th, NULL, daemon_thread, &r) == 0);
    buf_init(&b);
    buf_init(&in);
    ctx = zmq_ctx_new();
    sock = zmq_socket(ctx, ZMQ_DEALER);
    zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof zero);
    REQUIRE(zmq_connect(sock, ep) == 0);

    /* garbage, a worker's message, an upload nobody asked for: dropped */
    zmq_send(sock, "\xc1\xff garbage", 10, 0);
    buf_reset(&b);
    REQUIRE(proto_encode_heartbeat(&b) == ST_OK);
    send_buf(sock, &b);
    send_upload(sock, &b, 0, "x = 1\n");
    /* a SUBMIT: the blob is missing */
    REQUIRE(digest_sha256(src, strlen(src), &dg) == ST_OK);
    send_submit(sock, &b, "m.py", &dg, strlen(src));
    REQUIRE(next_answer(sock, &in, &m));
    CHECK(m.type == PROTO_NEED && m.count == 1);
    CHECK(proto_next_index(&m, &idx) && idx == 0);
    /* another content than the digest says: an error DONE */
    send_upload(sock, &b, 0, "import re\n"); /* its size, not its digest */
    REQUIRE(next_answer(sock, &in, &m));
    CHECK(m.type == PROTO_DONE && m.status == PROTO_DONE_ERROR);
    CHECK(m.error.len > 0 && memmem(m.error.ptr, m.error.len, "digest", 6) != NULL);

    /* the daemon goes on: the same SUBMIT, the right content */
    send_submit(sock, &b, "m.py", &dg, strlen(src));
    REQUIRE(next_answer(sock, &in, &m));
    CHECK(m.type == PROTO_NEED && m.count == 1);
    send_upload(sock, &b, 0, src);
    REQUIRE(next_answer(sock, &in, &m));
    REQUIRE(m.type == PROTO_DONE);
    CHECK(m.status == PROTO_DONE_OK && m.stats.files == 1 && m.stats.uploaded == 1 &&
          m.stats.scanned == 1);
    REQUIRE(proto_next_fdiags(&m, &fd));
    CHECK(fd.index == 0 && fd.count == 1);
    REQUIRE(proto_next_diag(&fd, &d));
    CHECK(d.line == 1 && d.code.len == 4 && memcmp(d.code.ptr, "F401", 4) == 0);

    /* again: nothing needed, the scan comes from the cache */
    send_submit(sock, &b, "m.py", &dg, strlen(src));
    REQUIRE(next_answer(sock, &in, &m));
    CHECK(m.type == PROTO_NEED && m.count == 0);
    REQUIRE(next_answer(sock, &in, &m));
    REQUIRE(m.type == PROTO_DONE);
    CHECK(m.status == PROTO_DONE_OK && m.stats.uploaded == 0 && m.stats.cached == 1);

    /* a path twice: refused, with no crash */
    {
        proto_file_t f[2] = {{.path = {"a.py", 4}, .kind = 0, .digest = dg.b, .size = 1},
                             {.path = {"a.py", 4}, .kind = 1, .digest = dg.b, .size = 1}};
        buf_reset(&b);
        REQUIRE(proto_encode_submit(&b, f, 2, NULL, 0, NULL, 0, 0, NULL) == ST_OK);
        send_buf(sock, &b);
        REQUIRE(next_answer(sock, &in, &m));
        CHECK(m.type == PROTO_DONE && m.status == PROTO_DONE_ERROR);
        CHECK(m.error.len > 0 && memmem(m.error.ptr, m.error.len, "twice", 5) != NULL);
    }

    daemon_stop();
    pthread_join(th, NULL);
    CHECK(r.rc == ST_OK);
    zmq_close(sock);
    zmq_ctx_term(ctx);
    buf_free(&b);
    buf_free(&in);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

/* A daemon in a thread on a fresh ipc endpoint (dir made, ep filled). */
static void start_daemon(run_t *r, pthread_t *th, char *dir, char *ep, size_t cap,
                         const daemon_opts_t *caps)
{
    static char cache[200];

    REQUIRE(mkdtemp(dir) != NULL);
    snprintf(ep, cap, "ipc://%s/c", dir);
    snprintf(cache, sizeof cache, "%s/cache", dir);
    r->opts = *caps;
    r->opts.bind = ep;
    r->opts.cache_dir = cache;
    r->opts.jobs = 1;
    r->opts.grace_ms = 100;
    REQUIRE(pthread_create(th, NULL, daemon_thread, r) == 0);
}

static void *client_socket(void *ctx, const char *ep)
{
    void *sock = zmq_socket(ctx, ZMQ_DEALER);
    int zero = 0;

    zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof zero);
    if (zmq_connect(sock, ep) != 0) {
        zmq_close(sock);
        return NULL;
    }
    return sock;
}

static void stop_daemon(run_t *r, pthread_t th, const char *dir)
{
    char cmd[256];

    daemon_stop();
    pthread_join(th, NULL);
    CHECK(r->rc == ST_OK);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

static bool error_says(const proto_msg_t *m, const char *text)
{
    return m->type == PROTO_DONE && m->status == PROTO_DONE_ERROR && m->error.len > 0 &&
           memmem(m->error.ptr, m->error.len, text, strlen(text)) != NULL;
}

/* The reproduction of the fault that wedged the coordinator for good: one
 * message of two frames. The next submit gets its answer. */
TEST(daemon_survives_a_message_of_several_frames)
{
    char dir[] = "/tmp/strata-daemon-frames.XXXXXX";
    char ep[128];
    const char *src = "import os\n";
    run_t r = {0};
    pthread_t th;
    void *ctx = zmq_ctx_new(), *sock;
    buf_t b, in;
    proto_msg_t m;
    digest_t dg;

    start_daemon(&r, &th, dir, ep, sizeof ep, &(daemon_opts_t){0});
    buf_init(&b);
    buf_init(&in);
    REQUIRE((sock = client_socket(ctx, ep)) != NULL);
    zmq_send(sock, "a", 1, ZMQ_SNDMORE);
    zmq_send(sock, "b", 1, 0);
    for (int i = 0; i < 5; i++) /* and one of six, and an empty one */
        zmq_send(sock, "xyz", 3, i < 4 ? ZMQ_SNDMORE : 0);
    zmq_send(sock, "", 0, ZMQ_SNDMORE);
    zmq_send(sock, "", 0, 0);
    REQUIRE(digest_sha256(src, strlen(src), &dg) == ST_OK);
    send_submit(sock, &b, "m.py", &dg, strlen(src));
    REQUIRE(next_answer(sock, &in, &m));
    CHECK(m.type == PROTO_NEED && m.count == 1);
    send_upload(sock, &b, 0, src);
    REQUIRE(next_answer(sock, &in, &m));
    CHECK(m.type == PROTO_DONE && m.status == PROTO_DONE_OK && m.stats.scanned == 1);
    /* the cache is on disk in --cache-dir (it once stayed in memory) */
    {
        char db[256];
        snprintf(db, sizeof db, "%s/cas.sqlite", r.opts.cache_dir);
        CHECK(access(db, F_OK) == 0);
    }
    zmq_close(sock);
    stop_daemon(&r, th, dir);
    zmq_ctx_term(ctx);
    buf_free(&b);
    buf_free(&in);
}

/* The caps per client: files and batches queued or running
 * (ipc clients are one client), and a client that is gone loses its batch
 * at once, so that the others are served. */
TEST(daemon_caps_each_client_and_forgets_one_that_is_gone)
{
    char dir[] = "/tmp/strata-daemon-caps.XXXXXX";
    char ep[128];
    const char *src = "import os\n";
    run_t r = {0};
    pthread_t th;
    void *ctx = zmq_ctx_new(), *a, *c;
    buf_t b, in;
    proto_msg_t m;
    digest_t dg;

    start_daemon(&r, &th, dir, ep, sizeof ep,
                 &(daemon_opts_t){.client_batches = 1, .client_files = 2});
    buf_init(&b);
    buf_init(&in);
    REQUIRE((a = client_socket(ctx, ep)) != NULL && (c = client_socket(ctx, ep)) != NULL);
    REQUIRE(digest_sha256(src, strlen(src), &dg) == ST_OK);
    {
        proto_file_t f[3] = {{.path = {"a.py", 4}, .kind = 0, .digest = dg.b, .size = 1},
                             {.path = {"b.py", 4}, .kind = 0, .digest = dg.b, .size = 1},
                             {.path = {"c.py", 4}, .kind = 0, .digest = dg.b, .size = 1}};
        buf_reset(&b);
        REQUIRE(proto_encode_submit(&b, f, 3, NULL, 0, NULL, 0, 0, NULL) == ST_OK);
        send_buf(a, &b);
        REQUIRE(next_answer(a, &in, &m));
        CHECK(error_says(&m, "--max-client-files"));
    }
    send_submit(a, &b, "m.py", &dg, strlen(src)); /* waits for its upload */
    REQUIRE(next_answer(a, &in, &m));
    CHECK(m.type == PROTO_NEED && m.count == 1);
    send_submit(c, &b, "m.py", &dg, strlen(src)); /* the same client: over its cap */
    REQUIRE(next_answer(c, &in, &m));
    CHECK(error_says(&m, "--max-client-batches"));
    /* a goes away without a word: its batch is dropped, c is served */
    zmq_close(a);
    bool served = false;
    for (int i = 0; i < 100 && !served; i++) {
        usleep(100 * 1000);
        send_submit(c, &b, "m.py", &dg, strlen(src));
        REQUIRE(next_answer(c, &in, &m));
        served = m.type == PROTO_NEED;
    }
    CHECK(served);
    send_upload(c, &b, 0, src);
    REQUIRE(next_answer(c, &in, &m));
    CHECK(m.type == PROTO_DONE && m.status == PROTO_DONE_OK);
    zmq_close(c);
    stop_daemon(&r, th, dir);
    zmq_ctx_term(ctx);
    buf_free(&b);
    buf_free(&in);
}

/* Uploads over the client's cap of bytes waiting: the batch is refused
 * with a message naming the cap. */
TEST(daemon_refuses_uploads_over_the_client_bytes)
{
    char dir[] = "/tmp/strata-daemon-bytes.XXXXXX";
    char ep[128];
    run_t r = {0};
    pthread_t th;
    void *ctx = zmq_ctx_new(), *a;
    buf_t b, in;
    proto_msg_t m;
    proto_batch_t batch;
    digest_t dg;
    uint8_t raw[600], z[1024];
    size_t zlen;

    uint64_t x = 88172645463325252u;
    for (size_t i = 0; i < sizeof raw; i++) { /* incompressible: xorshift */
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        raw[i] = (uint8_t)x;
    }
    zlen = ZSTD_compress(z, sizeof z, raw, sizeof raw, 3);
    REQUIRE(!ZSTD_isError(zlen) && zlen > 400);
    start_daemon(&r, &th, dir, ep, sizeof ep, &(daemon_opts_t){.client_bytes = 300});
    buf_init(&b);
    buf_init(&in);
    REQUIRE((a = client_socket(ctx, ep)) != NULL);
    REQUIRE(digest_sha256(raw, sizeof raw, &dg) == ST_OK);
    send_submit(a, &b, "big.py", &dg, sizeof raw);
    REQUIRE(next_answer(a, &in, &m));
    REQUIRE(m.type == PROTO_NEED && m.count == 1);
    buf_reset(&b);
    REQUIRE(proto_upload_begin(&batch, &b) == ST_OK);
    REQUIRE(proto_upload_blob(&batch, 0, (span_t){.ptr = z, .len = zlen}, sizeof raw) == ST_OK);
    proto_batch_end(&batch);
    send_buf(a, &b);
    REQUIRE(next_answer(a, &in, &m));
    CHECK(error_says(&m, "--max-client-bytes"));
    zmq_close(a);
    stop_daemon(&r, th, dir);
    zmq_ctx_term(ctx);
    buf_free(&b);
    buf_free(&in);
}

/* A blob of another size than the SUBMIT said is refused before it is
 * decompressed; one of the right size whose content is not the file's
 * (an 8 MB frame of spaces in a few hundred bytes) is refused after a
 * streaming check, without the 8 MB being allocated. */
TEST(daemon_verifies_a_blob_before_it_takes_memory)
{
    char dir[] = "/tmp/strata-daemon-blob.XXXXXX";
    char ep[128];
    run_t r = {0};
    pthread_t th;
    void *ctx = zmq_ctx_new(), *a;
    buf_t b, in;
    proto_msg_t m;
    proto_batch_t batch;
    digest_t dg;
    size_t big = (size_t)8 << 20, zcap = ZSTD_compressBound(big), zlen;
    uint8_t *spaces = malloc(big), *z = malloc(zcap);
    proto_file_t f = {.path = {"bomb.py", 7}, .kind = 0, .digest = dg.b, .size = big};
    const char *args[] = {"."};

    REQUIRE(spaces != NULL && z != NULL);
    memset(spaces, ' ', big);
    zlen = ZSTD_compress(z, zcap, spaces, big, 3);
    REQUIRE(!ZSTD_isError(zlen) && zlen < 4096);
    memset(dg.b, 0x5a, sizeof dg.b); /* not the spaces' digest */
    start_daemon(&r, &th, dir, ep, sizeof ep, &(daemon_opts_t){0});
    buf_init(&b);
    buf_init(&in);
    REQUIRE((a = client_socket(ctx, ep)) != NULL);
    for (int round = 0; round < 2; round++) {
        buf_reset(&b);
        REQUIRE(proto_encode_submit(&b, &f, 1, NULL, 0, args, 1, 16u << 20, NULL) == ST_OK);
        send_buf(a, &b);
        REQUIRE(next_answer(a, &in, &m));
        REQUIRE(m.type == PROTO_NEED && m.count == 1);
        buf_reset(&b);
        REQUIRE(proto_upload_begin(&batch, &b) == ST_OK);
        REQUIRE(proto_upload_blob(&batch, 0, (span_t){.ptr = z, .len = zlen},
                                  round == 0 ? big - 1 : big) == ST_OK);
        proto_batch_end(&batch);
        send_buf(a, &b);
        REQUIRE(next_answer(a, &in, &m));
        CHECK(error_says(&m, round == 0 ? "size" : "digest"));
    }
    zmq_close(a);
    stop_daemon(&r, th, dir);
    zmq_ctx_term(ctx);
    buf_free(&b);
    buf_free(&in);
    free(spaces);
    free(z);
}

/* Batches waiting for their uploads hold no run slot: with more of them
 * than run at once, another batch is still served at once (it used to
 * wait until they were dropped for silence, 30 s later). */
TEST(daemon_serves_others_while_batches_wait_for_uploads)
{
    char dir[] = "/tmp/strata-daemon-slots.XXXXXX";
    char ep[128], path[32], text[64];
    run_t r = {0};
    pthread_t th;
    void *ctx = zmq_ctx_new(), *a, *c;
    buf_t b, in;
    proto_msg_t m;
    digest_t dg;

    start_daemon(&r, &th, dir, ep, sizeof ep, &(daemon_opts_t){.client_batches = 16});
    buf_init(&b);
    buf_init(&in);
    REQUIRE((a = client_socket(ctx, ep)) != NULL && (c = client_socket(ctx, ep)) != NULL);
    for (int i = 0; i < 6; i++) { /* more than run at once, none uploaded */
        snprintf(path, sizeof path, "slow%d.py", i);
        snprintf(text, sizeof text, "x = %d\n", i);
        REQUIRE(digest_sha256(text, strlen(text), &dg) == ST_OK);
        send_submit(a, &b, path, &dg, strlen(text));
        REQUIRE(next_answer(a, &in, &m));
        CHECK(m.type == PROTO_NEED && m.count == 1);
    }
    REQUIRE(digest_sha256("import os\n", 10, &dg) == ST_OK);
    send_submit(c, &b, "m.py", &dg, 10);
    REQUIRE(answer_within(c, &in, &m, 10000));
    CHECK(m.type == PROTO_NEED);
    send_upload(c, &b, 0, "import os\n");
    REQUIRE(answer_within(c, &in, &m, 10000));
    CHECK(m.type == PROTO_DONE && m.status == PROTO_DONE_OK);
    zmq_close(a);
    zmq_close(c);
    stop_daemon(&r, th, dir);
    zmq_ctx_term(ctx);
    buf_free(&b);
    buf_free(&in);
}

/* The client's side of an environment's batch, until DONE (in m): NEEDs
 * answered from src (index 0) and lib (index 1, the one library file),
 * LOOKUPs from a finder that has only libmod, at /lib/libmod.py. The
 * library blobs uploaded are counted in *lib_uploads. */
static bool serve_env(void *sock, buf_t *b, buf_t *in, proto_msg_t *m, const char *src,
                      const char *lib, int *lib_uploads)
{
    digest_t lib_dg;

    if (digest_sha256(lib, strlen(lib), &lib_dg) != ST_OK)
        return false;
    while (next_answer(sock, in, m)) {
        proto_str_t s;
        uint32_t idx;
        if (m->type == PROTO_DONE)
            return true;
        if (m->type == PROTO_NEED) {
            while (proto_next_index(m, &idx)) {
                CHECK(idx <= 1);
                *lib_uploads += idx == 1;
                send_upload(sock, b, idx, idx == 1 ? lib : src);
            }
            continue;
        }
        if (m->type != PROTO_LOOKUP || m->count > 8 || m->n_tops > 8)
            return false;
        proto_libmod_t mods[8] = {{0}};
        bool tops[8] = {false};
        uint32_t n = 0, n_tops = m->n_tops;
        while (proto_next_module(m, &s)) {
            if (s.len == 6 && memcmp(s.ptr, "libmod", 6) == 0)
                mods[n] = (proto_libmod_t){.kind = PROTO_LIB_FILE,
                                           .from = 3,
                                           .path = {"/lib/libmod.py", 14},
                                           .size = strlen(lib),
                                           .digest = lib_dg.b};
            n++;
        }
        buf_reset(b);
        if (proto_encode_libfiles(b, mods, n, tops, n_tops) != ST_OK)
            return false;
        send_buf(sock, b);
    }
    return false;
}

/* A SUBMIT with an environment: the coordinator asks the client where the
 * library module is (LOOKUP), asks for its content past the SUBMIT list
 * (NEED index 1), checks the project against it; the second time the
 * library content is in the cache and is not asked for. */
TEST(daemon_checks_against_the_clients_environment)
{
    char dir[] = "/tmp/strata-daemon-env.XXXXXX";
    char ep[128];
    const char *src = "import libmod\nlibmod.nope\nlibmod.x\n", *lib = "x = 1\n";
    run_t r = {0};
    pthread_t th;
    void *ctx = zmq_ctx_new(), *sock;
    buf_t b, in;
    proto_msg_t m;
    proto_fdiags_t fd;
    proto_diag_t d;
    digest_t dg;
    proto_env_t env = {.major = 3,
                       .minor = 12,
                       .platform = {"linux", 5},
                       .python = {"/opt/py", 7},
                       .key = {"k", 1}};
    const char *args[] = {"."};

    start_daemon(&r, &th, dir, ep, sizeof ep, &(daemon_opts_t){0});
    buf_init(&b);
    buf_init(&in);
    REQUIRE((sock = client_socket(ctx, ep)) != NULL);
    REQUIRE(digest_sha256(src, strlen(src), &dg) == ST_OK);
    proto_file_t f = {.path = {"m.py", 4}, .kind = 0, .digest = dg.b, .size = strlen(src)};
    for (int round = 0; round < 2; round++) {
        int lib_uploads = 0;
        buf_reset(&b);
        REQUIRE(proto_encode_submit(&b, &f, 1, NULL, 0, args, 1, 0, &env) == ST_OK);
        send_buf(sock, &b);
        REQUIRE(serve_env(sock, &b, &in, &m, src, lib, &lib_uploads));
        REQUIRE(m.status == PROTO_DONE_OK);
        CHECK(lib_uploads == (round == 0 ? 1 : 0));
        size_t e1101 = 0;
        while (proto_next_fdiags(&m, &fd)) {
            CHECK(fd.index == 0); /* the library file is never reported */
            while (proto_next_diag(&fd, &d))
                e1101 += d.code.len == 5 && memcmp(d.code.ptr, "E1101", 5) == 0 &&
                         memmem(d.message.ptr, d.message.len, "'nope'", 6) != NULL;
        }
        CHECK(e1101 == 1);
    }
    zmq_close(sock);
    stop_daemon(&r, th, dir);
    zmq_ctx_term(ctx);
    buf_free(&b);
    buf_free(&in);
}
