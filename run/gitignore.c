/* gitignore.c - git's ignore rules through libgit2 (see gitignore.h).
 *
 * libgit2 is initialised once per process and never shut down: the walk
 * may run many times in a test binary, and the library's global state is
 * small. Ownership validation (a repository owned by another user) is
 * turned off: strata only reads ignore files from it, never runs anything
 * a repository's configuration names, and ruff reads them whoever owns
 * them. A directory is asked about with a trailing '/', so that libgit2
 * need not stat it to apply directory-only patterns ("build/"). Tracked
 * files are answered from the index, read once: most files of a checked
 * tree are tracked, and each question to libgit2 costs a stat of every
 * ignore file from the top of the work tree down. */
#include "run/gitignore.h"

#include "common/alloc.h"

#include <git2.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct gitignore {
    git_repository *repo;
    git_index *index;    /* tracked files; NULL: unread, ask about everything */
    char *workdir;       /* absolute, ends in '/' */
    size_t workdir_len;  /* without the '/' when it is not the root */
    char path[PATH_MAX]; /* the question's scratch */
};

static pthread_once_t git_once = PTHREAD_ONCE_INIT;
static int git_init_rc;

static void git_init(void)
{
    git_init_rc = git_libgit2_init();
    if (git_init_rc >= 0)
        (void)git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);
}

/* Whether dir or a directory above it holds a `.git` (a directory, or
 * the file of a linked work tree or a submodule): where a work tree must
 * start. Checked before libgit2 is started at all, which costs a few
 * milliseconds (its TLS set-up) that a tree in no repository never pays. */
static bool maybe_in_work_tree(const char *dir)
{
    char *real = realpath(dir, NULL), probe[PATH_MAX + 8];
    struct stat st;
    size_t len;
    bool found = false;

    if (real == NULL)
        return true; /* let libgit2 say */
    for (len = strlen(real); !found && len < PATH_MAX;) {
        snprintf(probe, sizeof probe, "%.*s/.git", (int)len, real); /* "//.git" at the top */
        found = stat(probe, &st) == 0;
        if (len <= 1)
            break;
        while (len > 1 && real[len - 1] != '/')
            len--;
        if (len > 1)
            len--; /* "/a/b" -> "/a"; "/a" -> "/" */
    }
    free(real);
    return found;
}

st_rc_t gitignore_open(const char *dir, gitignore_t **out, st_err_t *err)
{
    git_repository *repo = NULL;
    gitignore_t *self;
    const char *wd;
    int rc;

    *out = NULL;
    if (!maybe_in_work_tree(dir))
        return ST_OK;
    pthread_once(&git_once, git_init);
    if (git_init_rc < 0)
        return st_fail(err, ST_EIO, "libgit2 could not start");
    rc = git_repository_open_ext(&repo, dir, 0, NULL);
    if (rc == GIT_ENOTFOUND)
        return ST_OK;
    if (rc < 0) {
        const git_error *e = git_error_last();
        return st_fail(err, ST_EIO, "%s: git repository: %s", dir,
                       e != NULL && e->message != NULL ? e->message : "cannot be opened");
    }
    if ((wd = git_repository_workdir(repo)) == NULL) {
        git_repository_free(repo); /* bare: no work tree, no rules */
        return ST_OK;
    }
    if ((self = st_calloc(1, sizeof *self)) == NULL ||
        (self->workdir = st_malloc(strlen(wd) + 2)) == NULL) {
        st_free(self);
        git_repository_free(repo);
        return st_fail(err, ST_ENOMEM, "out of memory opening %s", wd);
    }
    self->repo = repo;
    if (git_repository_index(&self->index, repo) < 0)
        self->index = NULL;
    strcpy(self->workdir, wd);
    self->workdir_len = strlen(wd);
    if (self->workdir_len == 0 || self->workdir[self->workdir_len - 1] != '/')
        strcpy(self->workdir + self->workdir_len++, "/");
    if (self->workdir_len > 1)
        self->workdir_len--; /* "/w/" is compared as "/w" */
    *out = self;
    return ST_OK;
}

const char *gitignore_workdir(const gitignore_t *self)
{
    return self->workdir;
}

bool gitignore_below(const gitignore_t *self, const char *dir, char *out, size_t cap)
{
    char *real = realpath(dir, NULL);
    size_t n = self->workdir_len;
    const char *rel;
    bool ok;

    if (real == NULL)
        return false;
    if (n == 1) /* the work tree is "/" */
        rel = real + 1;
    else if (strncmp(real, self->workdir, n) == 0 && (real[n] == '\0' || real[n] == '/'))
        rel = real[n] == '/' ? real + n + 1 : real + n;
    else
        rel = NULL;
    ok = rel != NULL && strlen(rel) < cap;
    if (ok)
        strcpy(out, rel);
    free(real);
    return ok;
}

bool gitignore_ignored(gitignore_t *self, const char *rel, bool is_dir)
{
    size_t len = strlen(rel);
    int ignored = 0;

    if (len == 0 || len + 2 > sizeof self->path)
        return false;
    memcpy(self->path, rel, len);
    if (is_dir)
        self->path[len++] = '/';
    self->path[len] = '\0';
    /* tracked: never ignored, and a directory holding tracked files is
     * entered (gitignore(5): "files already tracked by Git are not
     * affected"); the index answers without a system call */
    if (self->index != NULL && (is_dir ? git_index_find_prefix(NULL, self->index, self->path) == 0
                                       : git_index_get_bypath(self->index, self->path, 0) != NULL))
        return false;
    if (git_ignore_path_is_ignored(&ignored, self->repo, self->path) < 0)
        return false;
    return ignored != 0;
}

void gitignore_destroy(gitignore_t **self_p)
{
    gitignore_t *self = self_p != NULL ? *self_p : NULL;

    if (self == NULL)
        return;
    git_index_free(self->index);
    git_repository_free(self->repo);
    st_free(self->workdir);
    st_free(self);
    *self_p = NULL;
}
