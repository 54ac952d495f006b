/* test_keys.c - key files, the allowlist, and the ZAP handler refusing a
 * peer whose key is not allowed while accepting one whose key is. */
#include "test.h"

#include "coordinator/keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

static char dir[64];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/strata-keys-test.XXXXXX");
    REQUIRE(mkdtemp(dir) != NULL);
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

static void write_text(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    REQUIRE(f != NULL);
    fputs(text, f);
    fclose(f);
}

static mode_t mode_of(const char *name)
{
    char path[256];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &st) == 0 ? st.st_mode & 0777 : 0;
}

TEST(keys_generate_and_load)
{
    keys_pair_t kp, back, pub;
    char path[256];
    st_err_t err = {0};

    setup();
    REQUIRE(keys_generate(dir, "node", false, &kp, &err) == ST_OK);
    CHECK_EQ_INT(strlen(kp.public_z85), KEYS_Z85_LEN);
    CHECK_EQ_INT(mode_of("node.key"), 0600);
    CHECK_EQ_INT(mode_of("node.pub"), 0644);
    snprintf(path, sizeof path, "%s/node.key", dir);
    REQUIRE(keys_load(path, &back, &err) == ST_OK);
    CHECK_STREQ(back.public_z85, kp.public_z85);
    CHECK_STREQ(back.secret_z85, kp.secret_z85);
    snprintf(path, sizeof path, "%s/node.pub", dir);
    REQUIRE(keys_load(path, &pub, &err) == ST_OK);
    CHECK_STREQ(pub.public_z85, kp.public_z85);
    CHECK_EQ_INT(pub.secret_z85[0], '\0');
    /* no silent overwrite; --force makes a new pair */
    CHECK(keys_generate(dir, "node", false, NULL, &err) == ST_EEXIST);
    CHECK(strstr(err.msg, "--force") != NULL);
    REQUIRE(keys_generate(dir, "node", true, &back, &err) == ST_OK);
    CHECK(strcmp(back.public_z85, kp.public_z85) != 0);
    CHECK(keys_generate(dir, "", false, NULL, &err) == ST_EINVAL);
    CHECK(keys_generate(dir, "a/b", false, NULL, &err) == ST_EINVAL);
    CHECK(keys_generate("/nonexistent-dir-for-strata", "x", false, NULL, &err) == ST_EIO);
    teardown();
}

TEST(keys_load_refuses_what_is_not_a_key)
{
    keys_pair_t kp, other;
    char path[256], text[256];
    st_err_t err = {0};
    static const char *const bad[] = {
        "",
        "hello\n",
        "0123456789012345678901234567890123456789X\n", /* 41 characters */
        "012345678901234567890123456789012345678\n",   /* 39 */
        "public: "
        "\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\n", /* not
                                                                                                 Z85
                                                                                               */
    };

    setup();
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        write_text("bad.pub", bad[i]);
        snprintf(path, sizeof path, "%s/bad.pub", dir);
        CHECK(keys_load(path, &kp, &err) == ST_ECORRUPT);
    }
    /* a secret key that does not belong to the public key */
    REQUIRE(keys_generate(dir, "a", false, &kp, &err) == ST_OK);
    REQUIRE(keys_generate(dir, "b", false, &other, &err) == ST_OK);
    snprintf(text, sizeof text, "public: %s\nsecret: %s\n", kp.public_z85, other.secret_z85);
    write_text("mixed.key", text);
    snprintf(path, sizeof path, "%s/mixed.key", dir);
    CHECK(keys_load(path, &kp, &err) == ST_ECORRUPT);
    CHECK(strstr(err.msg, "does not match") != NULL);
    snprintf(path, sizeof path, "%s/absent.key", dir);
    CHECK(keys_load(path, &kp, &err) == ST_EIO);
    teardown();
}

TEST(keys_allowlist_loads_pub_files_only)
{
    keys_allow_t *allow = NULL;
    keys_pair_t a, b;
    unsigned char bin[32];
    st_err_t err = {0};

    setup();
    REQUIRE(keys_generate(dir, "a", false, &a, &err) == ST_OK);
    REQUIRE(keys_generate(dir, "b", false, &b, &err) == ST_OK);
    write_text("README", "not a key\n");
    REQUIRE(keys_allow_load(dir, &allow, &err) == ST_OK);
    CHECK_EQ_INT(keys_allow_count(allow), 2);
    zmq_z85_decode(bin, a.public_z85);
    CHECK(keys_allow_has(allow, bin));
    memset(bin, 7, sizeof bin);
    CHECK(!keys_allow_has(allow, bin));
    keys_allow_destroy(&allow);
    write_text("broken.pub", "nope\n");
    CHECK(keys_allow_load(dir, &allow, &err) == ST_ECORRUPT);
    CHECK(strstr(err.msg, "broken.pub") != NULL);
    CHECK(keys_allow_load("/nonexistent-dir-for-strata", &allow, &err) == ST_EIO);
    teardown();
}

/* A client with key pair kp sends "hello" to the CURVE server at endpoint;
 * whether the server received it within the timeout. */
static bool client_gets_through(void *ctx, void *server, const char *endpoint,
                                const keys_pair_t *server_kp, const keys_pair_t *kp)
{
    void *c = zmq_socket(ctx, ZMQ_DEALER);
    int linger = 0, timeout = 1500;
    char buf[16];
    bool ok;

    zmq_setsockopt(c, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(c, ZMQ_CURVE_SERVERKEY, server_kp->public_z85, KEYS_Z85_LEN);
    zmq_setsockopt(c, ZMQ_CURVE_PUBLICKEY, kp->public_z85, KEYS_Z85_LEN);
    zmq_setsockopt(c, ZMQ_CURVE_SECRETKEY, kp->secret_z85, KEYS_Z85_LEN);
    zmq_connect(c, endpoint);
    zmq_send(c, "hello", 5, ZMQ_DONTWAIT);
    zmq_setsockopt(server, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    /* ROUTER: identity frame, then the payload */
    ok = zmq_recv(server, buf, sizeof buf, 0) >= 0 && zmq_recv(server, buf, sizeof buf, 0) == 5 &&
         memcmp(buf, "hello", 5) == 0;
    zmq_close(c);
    return ok;
}

TEST(keys_zap_accepts_allowed_keys_and_refuses_others)
{
    keys_pair_t server_kp, good, bad;
    keys_allow_t *allow = NULL;
    keys_zap_t *zap = NULL;
    st_err_t err = {0};
    char endpoint[128], logpath[256];
    size_t accepted, refused;
    int one = 1, linger = 0;

    setup();
    REQUIRE(keys_generate(dir, "server", false, &server_kp, &err) == ST_OK);
    REQUIRE(keys_generate(dir, "good", false, &good, &err) == ST_OK);
    char allow_dir[128];
    snprintf(allow_dir, sizeof allow_dir, "%s/allow", dir);
    REQUIRE(mkdir(allow_dir, 0700) == 0);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "cp '%s/good.pub' '%s/'", dir, allow_dir);
    REQUIRE(system(cmd) == 0);
    REQUIRE(keys_generate(dir, "bad", false, &bad, &err) == ST_OK);
    REQUIRE(keys_allow_load(allow_dir, &allow, &err) == ST_OK);
    CHECK_EQ_INT(keys_allow_count(allow), 1);

    void *ctx = zmq_ctx_new();
    snprintf(logpath, sizeof logpath, "%s/zap.log", dir);
    FILE *log = fopen(logpath, "w+");
    REQUIRE(log != NULL);
    REQUIRE(keys_zap_start(ctx, allow, log, &zap, &err) == ST_OK);
    void *server = zmq_socket(ctx, ZMQ_ROUTER);
    zmq_setsockopt(server, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(server, ZMQ_CURVE_SERVER, &one, sizeof one);
    zmq_setsockopt(server, ZMQ_CURVE_SECRETKEY, server_kp.secret_z85, KEYS_Z85_LEN);
    snprintf(endpoint, sizeof endpoint, "ipc://%s/sock", dir);
    REQUIRE(zmq_bind(server, endpoint) == 0);

    CHECK(client_gets_through(ctx, server, endpoint, &server_kp, &good));
    CHECK(!client_gets_through(ctx, server, endpoint, &server_kp, &bad));
    keys_zap_counts(zap, &accepted, &refused);
    CHECK(accepted >= 1);
    CHECK(refused >= 1);

    zmq_close(server);
    keys_zap_stop(&zap);
    zmq_ctx_term(ctx);
    fflush(log);
    rewind(log);
    char line[512] = "";
    CHECK(fgets(line, sizeof line, log) != NULL);
    CHECK(strstr(line, "refused") != NULL);
    CHECK(strstr(line, bad.public_z85) != NULL);
    fclose(log);
    keys_allow_destroy(&allow);
    teardown();
}
