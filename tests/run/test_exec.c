/* test_exec.c - this process's threads: reading files (E902 causes and
 * limits), the pool (inline for small inputs, the threads asked for
 * otherwise, every job once). The threads back end's results are tested
 * with the others' in test_backends.c, the run over it in test_run.c. */
#include "test.h"

#include "common/alloc.h"
#include "run/report.h"
#include "run/exec.h"
#include "run/policy.h"
#include "tests/run/tmpdir.h"

#include <stdatomic.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static void write_file(const char *name, const char *text, char *path, size_t size)
{
    tmpdir_write(dir, name, text, path, size);
}

static bool setup(void)
{
    return tmpdir_make(dir);
}

static void teardown(void)
{
    tmpdir_remove(dir);
}

TEST(exec_read_file_whole)
{
    arena_t *a = arena_new(0);
    char path[128];
    uint8_t *data = NULL;
    size_t len = 0;
    st_err_t err = {0};

    REQUIRE(a != NULL && setup());
    write_file("a.py", "import os\n", path, sizeof path);
    REQUIRE(exec_read_file(path, 100, a, &data, &len, &err) == ST_OK);
    CHECK_EQ_INT(len, 10);
    CHECK(memcmp(data, "import os\n", 11) == 0); /* NUL-terminated */
    /* Exactly at the limit is fine; one byte over is not. */
    REQUIRE(exec_read_file(path, 10, a, &data, &len, &err) == ST_OK);
    CHECK_EQ_INT(exec_read_file(path, 9, a, &data, &len, &err), ST_ELIMIT);
    CHECK_STREQ(err.msg, "file too large: 10 bytes (limit 9, see --max-file-size)");
    write_file("empty.py", "", path, sizeof path);
    REQUIRE(exec_read_file(path, 100, a, &data, &len, &err) == ST_OK);
    CHECK_EQ_INT(len, 0);
    CHECK_EQ_INT(data[0], 0);
    teardown();
    arena_destroy(&a);
}

/* /proc files claim size 0: the loop must grow until EOF. */
TEST(exec_read_file_size_unknown)
{
    arena_t *a = arena_new(256);
    uint8_t *data = NULL;
    size_t len = 0;
    st_err_t err = {0};

    REQUIRE(a != NULL);
    REQUIRE(exec_read_file("/proc/self/maps", 1 << 24, a, &data, &len, &err) == ST_OK);
    CHECK(len > 100);
    CHECK_EQ_INT(data[len], 0);
    CHECK_EQ_INT(exec_read_file("/proc/self/maps", 50, a, &data, &len, &err), ST_ELIMIT);
    CHECK(strstr(err.msg, "more than 50 bytes") != NULL);
    REQUIRE(exec_read_file("/dev/null", 10, a, &data, &len, &err) == ST_OK);
    CHECK_EQ_INT(len, 0);
    arena_destroy(&a);
}

TEST(exec_read_file_errors)
{
    arena_t *a = arena_new(0);
    uint8_t *data = (uint8_t *)"keep";
    size_t len = 42;
    st_err_t err = {0};
    char big[20001], path[128];

    REQUIRE(a != NULL && setup());
    CHECK_EQ_INT(exec_read_file("/nonexistent/x.py", 10, a, &data, &len, &err), ST_EIO);
    CHECK_STREQ(err.msg, strerror(ENOENT));
    CHECK_EQ_INT(exec_read_file(dir, 10, a, &data, &len, &err), ST_EIO);
    CHECK_STREQ(err.msg, strerror(EISDIR));
    /* The job's arena is capped: a big file fails the job, not the process. */
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    write_file("big.py", big, path, sizeof path);
    arena_set_limit(a, 4096);
    CHECK_EQ_INT(exec_read_file(path, 1 << 20, a, &data, &len, &err), ST_ENOMEM);
    CHECK_EQ_INT(len, 42); /* untouched */
    CHECK(memcmp(data, "keep", 4) == 0);
    arena_destroy(&a);
    teardown();
}

typedef struct {
    atomic_size_t seen;
    atomic_size_t with_scanner;
    unsigned char ran[64];
} count_ctx_t;

static void count_job(void *ctx, size_t k, arena_t *a, scanner_t *scanner)
{
    count_ctx_t *c = ctx;

    (void)a;
    atomic_fetch_add(&c->seen, 1);
    if (scanner != NULL)
        atomic_fetch_add(&c->with_scanner, 1);
    if (k < sizeof c->ran)
        c->ran[k]++;
}

TEST(exec_pool_runs_every_job_once)
{
    exec_pool_opts_t o = {.jobs = 4, .inline_max = 640, .scanners = true};
    count_ctx_t c = {0};
    unsigned started = 99;

    REQUIRE(exec_pool_run(&o, 40, 1 << 20, count_job, &c, &started, NULL) == ST_OK);
    CHECK_EQ_INT(atomic_load(&c.seen), 40);
    CHECK_EQ_INT(atomic_load(&c.with_scanner), 40);
    CHECK_EQ_INT(started, 4); /* well above the inline threshold */
    for (size_t k = 0; k < 40; k++)
        CHECK_EQ_INT(c.ran[k], 1);
}

TEST(exec_pool_small_input_runs_inline)
{
    exec_pool_opts_t o = {.jobs = 8, .inline_max = POLICY_INLINE_SCAN_BYTES};
    count_ctx_t c = {0};
    unsigned started = 99;

    REQUIRE(exec_pool_run(&o, 2, 16, count_job, &c, &started, NULL) == ST_OK);
    CHECK_EQ_INT(started, 0);
    CHECK_EQ_INT(atomic_load(&c.seen), 2);
    CHECK_EQ_INT(atomic_load(&c.with_scanner), 0);
    /* One job, however big, runs inline too; none runs nothing. */
    REQUIRE(exec_pool_run(&o, 1, POLICY_INLINE_SCAN_BYTES * 10, count_job, &c, &started, NULL) ==
            ST_OK);
    CHECK_EQ_INT(started, 0);
    REQUIRE(exec_pool_run(&o, 0, 0, count_job, &c, &started, NULL) == ST_OK);
    CHECK_EQ_INT(atomic_load(&c.seen), 3);
}

/* Every allocation of the pool's setup failing in turn: ST_ENOMEM with no
 * job run, or every job run. */
TEST(exec_pool_out_of_memory)
{
    exec_pool_opts_t o = {.jobs = 2, .inline_max = 0, .scanners = true};
    int ok = 0;

    for (long n = 0; n < 100 && !ok; n++) {
        count_ctx_t c = {0};
        st_rc_t rc;
        int armed;

        alloc_fail_after(n);
        rc = exec_pool_run(&o, 8, 1 << 20, count_job, &c, NULL, NULL);
        armed = alloc_fail_armed();
        alloc_fail_after(-1);
        if (armed)
            ok = 1;
        CHECK((rc == ST_ENOMEM && atomic_load(&c.seen) == 0) ||
              (rc == ST_OK && atomic_load(&c.seen) == 8));
    }
    CHECK(ok);
}
