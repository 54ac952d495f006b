/* test_dynlib.c - libraries loaded on first use: a function is found and
 * kept, errno survives the first lookup, and a library or symbol that
 * cannot be found ends the process with status 2 and a message naming
 * it (the forwarding files themselves run in every test that opens a
 * socket, reads git's rules or writes JUnit). */
#include "test.h"

#include "common/dynlib.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static dynlib_t libc_lib = DYNLIB_INIT("libc.so.6", "libc6");
static dynlib_t nowhere = DYNLIB_INIT("libstrata-nowhere.so.9", "strata-nowhere");

TEST(dynlib_finds_and_keeps)
{
    void *slot = NULL;
    size_t (*len)(const char *);

    errno = 1234;
    len = (size_t(*)(const char *))dynlib_fn(&libc_lib, "strlen", &slot);
    CHECK_EQ_INT(errno, 1234);
    REQUIRE(len != NULL);
    CHECK_EQ_INT(len("abc"), 3);
    CHECK(slot == (void *)len);
    CHECK(dynlib_fn(&libc_lib, "strlen", &slot) == (void *)len);
}

/* Runs dynlib_fn(lib, name) in a child; its exit status and stderr. */
static int child(dynlib_t *lib, const char *name, char *msg, size_t cap)
{
    int fds[2], status = -1;
    pid_t pid;

    if (pipe(fds) != 0)
        return -1;
    if ((pid = fork()) == 0) {
        void *slot = NULL;
        dup2(fds[1], 2);
        close(fds[0]);
        dynlib_fn(lib, name, &slot);
        _exit(0);
    }
    close(fds[1]);
    ssize_t n = read(fds[0], msg, cap - 1);
    msg[n > 0 ? n : 0] = '\0';
    close(fds[0]);
    if (pid > 0)
        waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(dynlib_missing_is_a_clear_exit)
{
    char msg[512];

    CHECK_EQ_INT(child(&nowhere, "f", msg, sizeof msg), 2);
    CHECK(strstr(msg, "libstrata-nowhere.so.9") != NULL);
    CHECK(strstr(msg, "install the package strata-nowhere") != NULL);
    CHECK_EQ_INT(child(&libc_lib, "strata_no_such_function", msg, sizeof msg), 2);
    CHECK(strstr(msg, "no strata_no_such_function") != NULL);
}
