/* test_testhooks.c - the test hooks as the release strata has them (the
 * runner links testhooks.c without STRATA_TEST_HOOKS): off, whatever the
 * environment says. strata-test's reading of them is exercised by the
 * tests that spawn it (test_dispatch, test_workers.sh). */
#include "test.h"

#include "cli/testhooks.h"

#include <stdlib.h>

TEST(testhooks_are_off_in_the_release_build)
{
    setenv("STRATA_TEST_SHUFFLE", "42", 1);
    setenv("STRATA_TEST_CRASH_ON", "pill", 1);
    setenv("STRATA_TEST_HANG_ON", "stuck", 1);
    CHECK_EQ_INT(testhooks_shuffle_seed(), 0);
    CHECK(testhooks_crash_on() == NULL);
    CHECK(testhooks_hang_on() == NULL);
    unsetenv("STRATA_TEST_SHUFFLE");
    unsetenv("STRATA_TEST_CRASH_ON");
    unsetenv("STRATA_TEST_HANG_ON");
}
