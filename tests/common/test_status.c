/* test_status.c - error records, code names and checked size arithmetic. */
#include "test.h"

#include "common/status.h"

#include <stdint.h>

TEST(status_fail_records)
{
    st_err_t err = {0};
    CHECK(st_fail(&err, ST_EIO, "read %s: %d", "x.py", 5) == ST_EIO);
    CHECK(err.code == ST_EIO);
    CHECK_STREQ(err.msg, "read x.py: 5");
    CHECK(st_fail(NULL, ST_ENOMEM, "ignored") == ST_ENOMEM);
    char big[600];
    memset(big, 'm', sizeof big - 1);
    big[sizeof big - 1] = 0;
    st_fail(&err, ST_ELIMIT, "%s", big);
    CHECK_EQ_INT(strlen(err.msg), ST_ERR_MSG_MAX - 1);
}

TEST(status_strerror_all)
{
    static const st_rc_t codes[] = {ST_OK,       ST_EINVAL, ST_ENOENT, ST_ENOMEM,   ST_EIO,
                                    ST_ECORRUPT, ST_ELIMIT, ST_EEXIST, ST_EINTERNAL};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        const char *s = st_strerror(codes[i]);
        CHECK(s != NULL && strcmp(s, "unknown error") != 0);
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(s, st_strerror(codes[j])) != 0);
    }
    CHECK_STREQ(st_strerror((st_rc_t)-99), "unknown error");
}

TEST(status_checked_sizes)
{
    size_t r = 7;
    CHECK(st_mul_size(3, 4, &r) && r == 12);
    CHECK(!st_mul_size(SIZE_MAX / 2 + 1, 2, &r) && r == 12);
    CHECK(st_add_size(SIZE_MAX - 1, 1, &r) && r == SIZE_MAX);
    CHECK(!st_add_size(SIZE_MAX, 1, &r) && r == SIZE_MAX);
    CHECK(st_mul_size(0, SIZE_MAX, &r) && r == 0);
}
