/* test_jobkey.c - scan job keys: the same inputs give the same key whatever
 * the path, and a change of any input (kind, version, config, content)
 * gives a different one. */
#include "test.h"

#include "worker/jobkey.h"
#include "worker/jobs.h"

#include <string.h>

static jobkey_scan_t base_input(void)
{
    scan_opts_t opts = {.max_file_bytes = 0};
    jobkey_scan_t in = {.version = JOBKEY_ANALYZER_VERSION, .kind = SCAN_KIND_PY};

    CHECK(jobkey_scan_config(&opts, &in.config) == ST_OK);
    CHECK(digest_sha256("x = 1\n", 6, &in.content) == ST_OK);
    return in;
}

static bool key_of(const jobkey_scan_t *in, digest_t *out)
{
    st_err_t err = {0};

    return jobkey_scan(in, out, &err) == ST_OK;
}

TEST(jobkey_same_bytes_same_key)
{
    /* Two files with the same bytes at different paths: the path is not an
     * input, so the keys are equal. */
    const char *text = "import os\n";
    scan_opts_t opts = {.max_file_bytes = 0};
    jobkey_scan_t a = {.version = JOBKEY_ANALYZER_VERSION}, b;
    digest_t ka, kb;

    a.kind = scan_kind_of_path("src/pkg/mod.py");
    REQUIRE(jobkey_scan_config(&opts, &a.config) == ST_OK);
    REQUIRE(digest_sha256(text, strlen(text), &a.content) == ST_OK);
    b = a;
    b.kind = scan_kind_of_path("elsewhere/moved.py");
    REQUIRE(digest_sha256(text, strlen(text), &b.content) == ST_OK);
    REQUIRE(key_of(&a, &ka));
    REQUIRE(key_of(&b, &kb));
    CHECK(digest_eq(&ka, &kb));
    /* Deterministic across calls. */
    REQUIRE(key_of(&a, &kb));
    CHECK(digest_eq(&ka, &kb));
}

TEST(jobkey_each_input_changes_the_key)
{
    jobkey_scan_t base = base_input(), in;
    scan_opts_t other = {.max_file_bytes = 1000};
    digest_t k0, k;

    REQUIRE(key_of(&base, &k0));

    in = base;
    in.kind = SCAN_KIND_PYI;
    REQUIRE(key_of(&in, &k));
    CHECK(!digest_eq(&k0, &k));
    in.kind = SCAN_KIND_INIT;
    REQUIRE(key_of(&in, &k));
    CHECK(!digest_eq(&k0, &k));

    in = base;
    in.version = "0.1.0+scan999";
    REQUIRE(key_of(&in, &k));
    CHECK(!digest_eq(&k0, &k));
    in.version = "";
    REQUIRE(key_of(&in, &k));
    CHECK(!digest_eq(&k0, &k));

    in = base;
    REQUIRE(jobkey_scan_config(&other, &in.config) == ST_OK);
    REQUIRE(key_of(&in, &k));
    CHECK(!digest_eq(&k0, &k));

    in = base;
    REQUIRE(digest_sha256("x = 2\n", 6, &in.content) == ST_OK);
    REQUIRE(key_of(&in, &k));
    CHECK(!digest_eq(&k0, &k));
    /* One bit of the content digest is enough. */
    in = base;
    in.content.b[31] ^= 1;
    REQUIRE(key_of(&in, &k));
    CHECK(!digest_eq(&k0, &k));
}

TEST(jobkey_key_is_not_the_content_digest)
{
    /* A key must not collide with the blob namespace's names either. */
    jobkey_scan_t in = base_input();
    digest_t k;

    REQUIRE(key_of(&in, &k));
    CHECK(!digest_eq(&k, &in.content));
    CHECK(!digest_eq(&k, &in.config));
}

TEST(jobkey_config_defaults_are_explicit)
{
    scan_opts_t zero = {.max_file_bytes = 0};
    scan_opts_t dflt = {.max_file_bytes = SCAN_DEFAULT_MAX_FILE_BYTES};
    scan_opts_t small = {.max_file_bytes = 1};
    digest_t a, b, c;

    REQUIRE(jobkey_scan_config(&zero, &a) == ST_OK);
    REQUIRE(jobkey_scan_config(&dflt, &b) == ST_OK);
    REQUIRE(jobkey_scan_config(&small, &c) == ST_OK);
    CHECK(digest_eq(&a, &b));
    CHECK(!digest_eq(&a, &c));
}

TEST(jobkey_version_string)
{
    /* The analyzer version carries the result format's version. */
    char want[32];

    snprintf(want, sizeof want, "+scan%d", SCAN_RESULT_VERSION);
    CHECK(strncmp(JOBKEY_ANALYZER_VERSION, STRATA_VERSION, strlen(STRATA_VERSION)) == 0);
    CHECK(strstr(JOBKEY_ANALYZER_VERSION, want) != NULL);
}

TEST(jobs_analyzer_version_names_every_job_format)
{
    /* What HELLO carries: a worker whose check documents differ is refused
       as one whose scan results differ is. */
    char want[64];

    snprintf(want, sizeof want, "%s+check%d.%d", JOBKEY_ANALYZER_VERSION, CHECK_INPUT_VERSION,
             CHECK_RESULT_VERSION);
    CHECK_STREQ(JOBS_ANALYZER_VERSION, want);
}

TEST(jobkey_bad_version)
{
    jobkey_scan_t in = base_input();
    char longer[300];
    st_err_t err = {0};
    digest_t k, before;

    memset(&k, 0xab, sizeof k);
    before = k;
    in.version = NULL;
    CHECK(jobkey_scan(&in, &k, &err) == ST_EINVAL);
    CHECK(err.msg[0] != '\0');
    CHECK(digest_eq(&k, &before));
    memset(longer, 'v', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    in.version = longer;
    CHECK(jobkey_scan(&in, &k, NULL) == ST_EINVAL);
    CHECK(digest_eq(&k, &before));
    /* The longest accepted version. */
    longer[256] = '\0';
    CHECK(jobkey_scan(&in, &k, NULL) == ST_OK);
}

TEST(jobkey_target_is_in_stub_keys_only)
{
    jobkey_scan_t py = base_input(), pyi, other;
    digest_t k0, k1, k2;

    /* a .py key: the same whatever the target */
    other = py;
    other.target = (scan_target_t){.major = 3, .minor = 9, .platform = "win32"};
    REQUIRE(key_of(&py, &k0) && key_of(&other, &k1));
    CHECK(digest_eq(&k0, &k1));
    /* a stub's key changes with the version and the platform */
    for (scan_kind_t kind = SCAN_KIND_PYI; kind <= SCAN_KIND_INIT_STUB; kind += 2) {
        pyi = py;
        pyi.kind = kind;
        other = pyi;
        other.target = (scan_target_t){.major = 3, .minor = 9};
        REQUIRE(key_of(&pyi, &k0) && key_of(&other, &k1));
        CHECK(!digest_eq(&k0, &k1));
        other.target = (scan_target_t){.major = 3, .minor = 12, .platform = "darwin"};
        REQUIRE(key_of(&other, &k2));
        CHECK(!digest_eq(&k0, &k2) && !digest_eq(&k1, &k2));
        /* unset is the default spelled out: 3.12 on linux */
        other.target = (scan_target_t){.major = 3, .minor = 12, .platform = "linux"};
        REQUIRE(key_of(&other, &k1));
        CHECK(digest_eq(&k0, &k1));
    }
}
