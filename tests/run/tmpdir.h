/* tmpdir.h - scratch state for the run's tests (test_exec.c, test_run.c,
 * test_backends.c, test_project.c): a directory of small files, and a
 * memory-only cache. */
#ifndef STRATA_TESTS_RUN_TMPDIR_H
#define STRATA_TESTS_RUN_TMPDIR_H

#include "test.h"

#include "common/cas/cas.h"

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

/* A new memory-only cache (the caller closes it: cas_close); NULL when it
 * cannot be opened. */
static inline cas_t *tmpdir_cache(void)
{
    cas_opts_t o;
    cas_t *c = NULL;

    cas_opts_default(&o);
    o.durability = CAS_MEMORY;
    return cas_open(&o, &c, NULL) == ST_OK ? c : NULL;
}

#endif
