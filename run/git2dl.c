/* git2dl.c - libgit2, loaded on first use (common/dynlib.h says why): the
 * functions strata calls (the walk's ignore rules, run/gitignore.c, and
 * the tests' repositories), each forwarding to libgit2's own. A check
 * outside a git work tree, or with --no-respect-gitignore, never loads
 * libgit2, mbedTLS, libssh2 and the rest. */
#include "common/dynlib.h"

#include <git2.h>
#include <stdarg.h>

#ifndef STRATA_GIT2_SONAME
#error "STRATA_GIT2_SONAME: CMake defines it (the SONAME of the libgit2 found)"
#endif

static dynlib_t lib = DYNLIB_INIT(STRATA_GIT2_SONAME, "libgit2-1.5");

DYNLIB_SLOT(git_libgit2_init);
int git_libgit2_init(void)
{
    return DYNLIB_CALL(lib, git_libgit2_init)();
}

DYNLIB_SLOT(git_libgit2_shutdown);
int git_libgit2_shutdown(void)
{
    return DYNLIB_CALL(lib, git_libgit2_shutdown)();
}

/* Variadic: forwarded for the options strata sets, which take one int;
 * any other option is refused (-1) rather than passed a guessed argument. */
DYNLIB_SLOT(git_libgit2_opts);
int git_libgit2_opts(int option, ...)
{
    va_list ap;
    int value;

    if (option != GIT_OPT_SET_OWNER_VALIDATION)
        return -1;
    va_start(ap, option);
    value = va_arg(ap, int);
    va_end(ap);
    return DYNLIB_CALL(lib, git_libgit2_opts)(option, value);
}

DYNLIB_SLOT(git_error_last);
const git_error *git_error_last(void)
{
    return DYNLIB_CALL(lib, git_error_last)();
}

DYNLIB_SLOT(git_repository_open);
int git_repository_open(git_repository **out, const char *path)
{
    return DYNLIB_CALL(lib, git_repository_open)(out, path);
}

DYNLIB_SLOT(git_repository_open_ext);
int git_repository_open_ext(git_repository **out, const char *path, unsigned int flags,
                            const char *ceiling_dirs)
{
    return DYNLIB_CALL(lib, git_repository_open_ext)(out, path, flags, ceiling_dirs);
}

DYNLIB_SLOT(git_repository_init);
int git_repository_init(git_repository **out, const char *path, unsigned is_bare)
{
    return DYNLIB_CALL(lib, git_repository_init)(out, path, is_bare);
}

DYNLIB_SLOT(git_repository_free);
void git_repository_free(git_repository *repo)
{
    DYNLIB_CALL(lib, git_repository_free)(repo);
}

DYNLIB_SLOT(git_repository_workdir);
const char *git_repository_workdir(const git_repository *repo)
{
    return DYNLIB_CALL(lib, git_repository_workdir)(repo);
}

DYNLIB_SLOT(git_repository_index);
int git_repository_index(git_index **out, git_repository *repo)
{
    return DYNLIB_CALL(lib, git_repository_index)(out, repo);
}

DYNLIB_SLOT(git_ignore_path_is_ignored);
int git_ignore_path_is_ignored(int *ignored, git_repository *repo, const char *path)
{
    return DYNLIB_CALL(lib, git_ignore_path_is_ignored)(ignored, repo, path);
}

DYNLIB_SLOT(git_index_free);
void git_index_free(git_index *index)
{
    DYNLIB_CALL(lib, git_index_free)(index);
}

DYNLIB_SLOT(git_index_find_prefix);
int git_index_find_prefix(size_t *at_pos, git_index *index, const char *prefix)
{
    return DYNLIB_CALL(lib, git_index_find_prefix)(at_pos, index, prefix);
}

DYNLIB_SLOT(git_index_get_bypath);
const git_index_entry *git_index_get_bypath(git_index *index, const char *path, int stage)
{
    return DYNLIB_CALL(lib, git_index_get_bypath)(index, path, stage);
}

DYNLIB_SLOT(git_index_add_bypath);
int git_index_add_bypath(git_index *index, const char *path)
{
    return DYNLIB_CALL(lib, git_index_add_bypath)(index, path);
}

DYNLIB_SLOT(git_index_write);
int git_index_write(git_index *index)
{
    return DYNLIB_CALL(lib, git_index_write)(index);
}
