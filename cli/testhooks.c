/* testhooks.c - the test hooks, read from the environment in strata-test
 * and compiled to nothing in the release strata (see testhooks.h). One file
 * holds every hook so that the test binary differs from the release one
 * by this object only. */
#include "cli/testhooks.h"

#include <stdlib.h>

#ifndef STRATA_TEST_HOOKS
#define STRATA_TEST_HOOKS 0
#endif

unsigned testhooks_shuffle_seed(void)
{
#if STRATA_TEST_HOOKS
    const char *v = getenv("STRATA_TEST_SHUFFLE");
    return v != NULL ? (unsigned)strtoul(v, NULL, 10) : 0;
#else
    return 0;
#endif
}

const char *testhooks_crash_on(void)
{
#if STRATA_TEST_HOOKS
    return getenv("STRATA_TEST_CRASH_ON");
#else
    return NULL;
#endif
}

const char *testhooks_hang_on(void)
{
#if STRATA_TEST_HOOKS
    return getenv("STRATA_TEST_HANG_ON");
#else
    return NULL;
#endif
}
