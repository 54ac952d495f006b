/* test_remote.c - the team cache's formats (the blob that carries a result
 * and its key, the REAPI action result that names it), the URL check, the
 * tally, and what a server that refuses or never answers does to a run:
 * misses, the circuit opened, nothing sent. The exchanges with a real
 * server (nginx with WebDAV) are tests/e2e/test_remote_cache.sh's. */
#include "test.h"

#include "common/arena.h"
#include "run/remote.h"
#include "tests/run/tmpdir.h"

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static digest_t key_of(uint8_t seed)
{
    digest_t k;
    for (size_t i = 0; i < sizeof k.b; i++)
        k.b[i] = (uint8_t)(seed * 31 + i);
    return k;
}

TEST(remote_blob_round_trip_and_refusals)
{
    arena_t *a = arena_new(0);
    digest_t k = key_of(1), other = key_of(2);
    const char value[] = "a result, a result, a result, a result";
    span_t blob, got;

    REQUIRE(a != NULL);
    REQUIRE(rcache_blob_encode(&k, value, sizeof value, a, &blob) == ST_OK);
    REQUIRE(rcache_blob_decode(&k, blob, a, &got) == ST_OK);
    CHECK(got.len == sizeof value && memcmp(got.ptr, value, sizeof value) == 0);
    /* another key's blob: a swapped entry on the server */
    CHECK(rcache_blob_decode(&other, blob, a, &got) == ST_ECORRUPT);
    /* cut short, or cut to nothing */
    for (size_t n = 0; n < blob.len; n += 7)
        CHECK(rcache_blob_decode(&k, (span_t){.ptr = blob.ptr, .len = n}, a, &got) == ST_ECORRUPT);
    /* a header that lies about the length */
    uint8_t *copy = arena_alloc(a, blob.len);
    REQUIRE(copy != NULL);
    memcpy(copy, blob.ptr, blob.len);
    copy[8 + 32] ^= 1;
    CHECK(rcache_blob_decode(&k, (span_t){.ptr = copy, .len = blob.len}, a, &got) == ST_ECORRUPT);
    copy[8 + 32] ^= 1;
    copy[0] = 'S'; /* not ours */
    CHECK(rcache_blob_decode(&k, (span_t){.ptr = copy, .len = blob.len}, a, &got) == ST_ECORRUPT);
    /* an empty value is a value */
    REQUIRE(rcache_blob_encode(&k, "", 0, a, &blob) == ST_OK);
    REQUIRE(rcache_blob_decode(&k, blob, a, &got) == ST_OK);
    CHECK(got.len == 0);
    arena_destroy(&a);
}

TEST(remote_action_result_round_trip_and_refusals)
{
    arena_t *a = arena_new(0);
    char hash[DIGEST_HEX_LEN + 1], back[DIGEST_HEX_LEN + 1];
    digest_t d = key_of(3), k = key_of(4), ak;
    uint64_t size = 0;
    span_t ac;

    REQUIRE(a != NULL);
    digest_to_hex(&d, hash);
    REQUIRE(rcache_ac_encode(hash, 1234, a, &ac) == ST_OK);
    REQUIRE(rcache_ac_decode(ac, back, &size) == ST_OK);
    CHECK_STREQ(back, hash);
    CHECK(size == 1234);
    /* garbage, nothing, a cut message */
    CHECK(rcache_ac_decode((span_t){.ptr = (const uint8_t *)"\xff\xff\xff", .len = 3}, back,
                           &size) == ST_ECORRUPT);
    CHECK(rcache_ac_decode((span_t){.ptr = ac.ptr, .len = 0}, back, &size) == ST_ECORRUPT);
    CHECK(rcache_ac_decode((span_t){.ptr = ac.ptr, .len = ac.len - 3}, back, &size) == ST_ECORRUPT);
    /* a digest that is not lower-case hex of the right length, a size of 0 */
    hash[0] = 'G';
    REQUIRE(rcache_ac_encode(hash, 10, a, &ac) == ST_OK);
    CHECK(rcache_ac_decode(ac, back, &size) == ST_ECORRUPT);
    digest_to_hex(&d, hash);
    REQUIRE(rcache_ac_encode(hash, 0, a, &ac) == ST_OK);
    CHECK(rcache_ac_decode(ac, back, &size) == ST_ECORRUPT);
    /* the action-cache key is the job key's, in strata's namespace */
    rcache_ac_key(&k, &ak);
    CHECK(!digest_eq(&ak, &k));
    digest_t ak2;
    rcache_ac_key(&k, &ak2);
    CHECK(digest_eq(&ak, &ak2));
    arena_destroy(&a);
}

TEST(remote_url_check)
{
    st_err_t err = {0};

    CHECK(rcache_check_url("http://127.0.0.1:8080", &err) == ST_OK);
    CHECK(rcache_check_url("https://cache.example/team/strata/", &err) == ST_OK);
    CHECK(rcache_check_url("", &err) == ST_EINVAL);
    CHECK(rcache_check_url(NULL, &err) == ST_EINVAL);
    CHECK(rcache_check_url("ftp://host", &err) == ST_EINVAL);
    CHECK(rcache_check_url("http://", &err) == ST_EINVAL);
    CHECK(rcache_check_url("http:///path", &err) == ST_EINVAL);
    CHECK(rcache_check_url("http://user:pw@host", &err) == ST_EINVAL);
    CHECK(strstr(err.msg, "auth-file") != NULL); /* says where credentials go */
    CHECK(rcache_check_url("http://host/a b", &err) == ST_EINVAL);
    CHECK(rcache_check_url("http://host/?q=1", &err) == ST_EINVAL);
    CHECK(rcache_check_url("http://host/\r\nX: y", &err) == ST_EINVAL);
}

TEST(remote_tally_adds_up)
{
    char dir[64], path[256];
    rcache_tally_t t;
    rcache_stats_t one = {.hits = 3,
                          .misses = 2,
                          .errors = 1,
                          .bytes_down = 100,
                          .uploaded = 4,
                          .bytes_up = 50,
                          .wait_ms = 7,
                          .open = true};

    REQUIRE(tmpdir_make(dir));
    CHECK(!rcache_tally_load(dir, &t));
    rcache_tally_add(dir, "http://a", &one);
    one.open = false;
    rcache_tally_add(dir, "http://b", &one);
    REQUIRE(rcache_tally_load(dir, &t));
    CHECK(t.runs == 2 && t.opened == 1);
    CHECK(t.sum.hits == 6 && t.sum.misses == 4 && t.sum.errors == 2);
    CHECK(t.sum.bytes_down == 200 && t.sum.uploaded == 8 && t.sum.bytes_up == 100);
    CHECK(t.sum.wait_ms == 14);
    CHECK_STREQ(t.url, "http://b");
    /* a file that is not a tally is none */
    tmpdir_write(dir, "stat/remote-tally", "hits=99\n", path, sizeof path);
    CHECK(!rcache_tally_load(dir, &t));
    CHECK(t.sum.hits == 0);
    tmpdir_remove(dir);
}

/* A socket on loopback that listens and never accepts: connections are
 * made (the kernel's backlog) and never answered. Its port, or 0. */
static int silent_server(int *port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 64) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *port = ntohs(sa.sin_port);
    return fd;
}

/* A port nothing listens on (bound, then closed). */
static int dead_port(void)
{
    int port = 0, fd = silent_server(&port);
    if (fd >= 0)
        close(fd);
    return port;
}

static void lookups_miss_and_circuit_opens(const char *url, uint32_t budget_ms)
{
    rcache_opts_t o = {.url = url, .upload = true, .budget_ms = budget_ms};
    rcache_t *rc = NULL;
    arena_t *a = arena_new(0);
    digest_t keys[8];
    span_t values[8];
    size_t hits = 99;
    rcache_stats_t st;
    st_err_t err = {0};

    REQUIRE(a != NULL);
    for (int i = 0; i < 8; i++)
        keys[i] = key_of((uint8_t)i);
    REQUIRE(rcache_open(&o, &rc, &err) == ST_OK);
    rcache_get_many(rc, keys, 8, a, values, &hits);
    CHECK(hits == 0);
    for (int i = 0; i < 8; i++)
        CHECK(values[i].ptr == NULL);
    rcache_put(rc, &keys[0], "x", 1); /* given up on: not queued */
    span_t v;
    CHECK(!rcache_get(rc, &keys[1], a, &v));
    rcache_stats(rc, &st);
    CHECK(st.open);
    CHECK(st.hits == 0 && st.misses == 9);
    CHECK(st.errors >= 1);
    CHECK(st.dropped == 1 && st.uploaded == 0);
    rcache_close(&rc);
    CHECK(rc == NULL);
    arena_destroy(&a);
}

TEST(remote_refused_connections_open_the_circuit)
{
    char url[64];

    snprintf(url, sizeof url, "http://127.0.0.1:%d", dead_port());
    lookups_miss_and_circuit_opens(url, 2000);
}

TEST(remote_server_that_never_answers_opens_the_circuit)
{
    int port = 0, fd = silent_server(&port);
    char url[64];

    REQUIRE(fd >= 0);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/prefix/", port);
    lookups_miss_and_circuit_opens(url, 300); /* the budget, not the stall time, ends it */
    close(fd);
}

TEST(remote_open_refuses_bad_options)
{
    rcache_opts_t o = {.url = "http://127.0.0.1:1", .auth = "Basic x\r\nX-Injected: 1"};
    rcache_t *rc = NULL;
    st_err_t err = {0};

    CHECK(rcache_open(&o, &rc, &err) == ST_EINVAL); /* a header cannot be smuggled in */
    CHECK(rc == NULL);
    o.auth = NULL;
    o.url = "gopher://x";
    CHECK(rcache_open(&o, &rc, &err) == ST_EINVAL);
    /* opened and never asked: nothing to wait for */
    o.url = "http://127.0.0.1:1";
    REQUIRE(rcache_open(&o, &rc, &err) == ST_OK);
    rcache_finish(rc);
    rcache_close(&rc);
    rcache_close(&rc); /* NULL is fine */
}
