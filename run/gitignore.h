/* gitignore.h - which paths of a git work tree git itself would ignore.
 *
 * The walk leaves out what the user's `.gitignore` files (at every level),
 * `.git/info/exclude` and the global excludes (core.excludesFile, else
 * $XDG_CONFIG_HOME/git/ignore) say to ignore, as ruff does. The rules are
 * git's and so is the matcher: libgit2 reads and applies them, so that
 * negations, anchored patterns, `**` and directory-only patterns mean what
 * they mean to git. A tree outside any repository has no such rules.
 *
 * One gitignore_t is one repository, opened once per run; the walk asks it
 * about each directory it would enter and each file it would keep, by the
 * path below the work tree (libgit2 caches the parsed ignore files and
 * re-reads one only when it changes). Single-threaded: one walk at a time. */
#ifndef STRATA_RUN_GITIGNORE_H
#define STRATA_RUN_GITIGNORE_H

#include "common/status.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct gitignore gitignore_t;

/* The repository whose work tree holds dir (an existing directory; the
 * search goes up from it as git's does). ST_OK with *out NULL when dir is in
 * no work tree (or in a bare repository); ST_OK with *out set: the caller
 * owns it (gitignore_destroy). ST_ENOMEM; ST_EIO when a repository was
 * found but could not be opened (err says why; the caller may go on
 * without its rules). */
st_rc_t gitignore_open(const char *dir, gitignore_t **out, st_err_t *err);

/* The work tree's root, absolute, with a trailing '/' (borrowed until
 * gitignore_destroy). */
const char *gitignore_workdir(const gitignore_t *self);

/* The part of an existing directory's real path (symbolic links resolved)
 * below the work tree: "" for its root, "a/b" below it. False when dir is
 * outside it, or cannot be resolved. At most cap bytes with the NUL. */
bool gitignore_below(const gitignore_t *self, const char *dir, char *out, size_t cap);

/* Whether git ignores rel, a path below the work tree ("a/b.py"; no
 * leading "./"), that is a directory when is_dir. As for git, a tracked
 * file (in the index) is never ignored, nor a directory that holds one; a
 * path inside an ignored directory is ignored too. Rules that cannot be
 * read count as none. */
bool gitignore_ignored(gitignore_t *self, const char *rel, bool is_dir);

/* Frees; sets *self_p NULL; accepts NULL. */
void gitignore_destroy(gitignore_t **self_p);

#endif
