/* runner.c - runs every registered unit test (or those whose name contains
 * argv[1]) and prints one line per failure and the closing count. */
#include "test.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_TESTS 4096

typedef struct {
    const char *name;
    const char *file;
    test_fn_t fn;
} test_entry_t;

static test_entry_t tests[MAX_TESTS];
static int n_tests;
static int current_failed;

void test__register(const char *name, const char *file, test_fn_t fn)
{
    if (n_tests < MAX_TESTS)
        tests[n_tests++] = (test_entry_t){name, file, fn};
}

void test__fail(const char *file, int line, const char *expr)
{
    fprintf(stderr, "  %s:%d: check failed: %s\n", file, line, expr);
    current_failed = 1;
}

int test__failed_now(void)
{
    return current_failed;
}

void test_strata_path(char *out, size_t cap)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    char *slash;

    self[n > 0 ? n : 0] = '\0';
    if ((slash = strrchr(self, '/')) != NULL)
        *slash = '\0';
    snprintf(out, cap, "%s/../strata-test", self);
}

static int by_file_then_name(const void *a, const void *b)
{
    const test_entry_t *x = a, *y = b;
    int c = strcmp(x->file, y->file);
    return c != 0 ? c : strcmp(x->name, y->name);
}

int main(int argc, char **argv)
{
    const char *filter = argc > 1 ? argv[1] : NULL;
    int passed = 0, failed = 0;

    qsort(tests, (size_t)n_tests, sizeof tests[0], by_file_then_name);
    for (int i = 0; i < n_tests; i++) {
        if (filter != NULL && strstr(tests[i].name, filter) == NULL)
            continue;
        current_failed = 0;
        tests[i].fn();
        if (current_failed) {
            fprintf(stderr, "FAIL %s (%s)\n", tests[i].name, tests[i].file);
            failed++;
        } else {
            passed++;
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}
