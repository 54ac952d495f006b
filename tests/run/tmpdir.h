/* tmpdir.h - a scratch directory of small files for the run's tests
 * (test_exec.c, test_run.c, test_backends.c). */
#ifndef STRATA_TESTS_RUN_TMPDIR_H
#define STRATA_TESTS_RUN_TMPDIR_H

#include "test.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Makes dir (64 bytes) a new directory under /tmp; false when it cannot. */
static inline bool tmpdir_make(char *dir)
{
    strcpy(dir, "/tmp/strata-run-XXXXXX");
    return mkdtemp(dir) != NULL;
}

/* Writes text to dir/name; its path into path. */
static inline void tmpdir_write(const char *dir, const char *name, const char *text, char *path,
                                size_t size)
{
    int fd;

    snprintf(path, size, "%s/%s", dir, name);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return;
    if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        CHECK(!"write");
    close(fd);
}

static inline int tmpdir_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

/* Removes dir and everything in it. */
static inline void tmpdir_remove(const char *dir)
{
    nftw(dir, tmpdir_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
