/* test.h - the unit-test harness: self-registering tests, one runner.
 *
 * A test file writes TEST(name) { ... CHECK(cond); ... }; a constructor
 * registers it, so adding a test touches no shared list. The runner
 * (tests/runner.c) runs all of them, or those whose name contains argv[1],
 * and ends with the line "N passed, N failed". */
#ifndef STRATA_TEST_H
#define STRATA_TEST_H

#include <stdio.h>
#include <string.h>

typedef void (*test_fn_t)(void);
void test__register(const char *name, const char *file, test_fn_t fn);
void test__fail(const char *file, int line, const char *expr);
int test__failed_now(void);

/* The path of strata-test, the strata binary with the test hooks (see
 * cli/testhooks.h), beside this runner: the runner is build/tests/
 * strata_tests, the binary build/strata-test. Tests that spawn workers run
 * it, so that they can set STRATA_TEST_CRASH_ON and _HANG_ON. */
void test_strata_path(char *out, size_t cap);

#define TEST(name)                                                                                 \
    static void test_##name(void);                                                                 \
    __attribute__((constructor)) static void test_register_##name(void)                            \
    {                                                                                              \
        test__register(#name, __FILE__, test_##name);                                              \
    }                                                                                              \
    static void test_##name(void)

/* Records a failure and goes on (so one run shows every broken check). */
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            test__fail(__FILE__, __LINE__, #cond);                                                 \
    } while (0)

/* Records a failure and leaves the test (for checks later ones depend on). */
#define REQUIRE(cond)                                                                              \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            test__fail(__FILE__, __LINE__, #cond);                                                 \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                         \
    do {                                                                                           \
        long long a_ = (long long)(a), b_ = (long long)(b);                                        \
        if (a_ != b_) {                                                                            \
            char m_[160];                                                                          \
            snprintf(m_, sizeof m_, "%s == %s (%lld != %lld)", #a, #b, a_, b_);                    \
            test__fail(__FILE__, __LINE__, m_);                                                    \
        }                                                                                          \
    } while (0)

#define CHECK_STREQ(a, b)                                                                          \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0) {                                     \
            char m_[1024];                                                                         \
            snprintf(m_, sizeof m_, "%.200s == %.200s (\"%.200s\" != \"%.200s\")", #a, #b,         \
                     a_ ? a_ : "(null)", b_ ? b_ : "(null)");                                      \
            test__fail(__FILE__, __LINE__, m_);                                                    \
        }                                                                                          \
    } while (0)

#endif
