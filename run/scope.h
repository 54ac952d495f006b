/* scope.h - the files a check reports, and the project files it only reads.
 *
 * The files named on the command line (a directory names everything below
 * it) are the ones reported, but their imports resolve against the whole
 * project: `import pkg.b` from a named `pkg/a.py` must find `pkg/b.py`
 * although it was not named (pre-commit passes only the staged files).
 * So a check also walks the project's search roots, and every Python file
 * found there that was not named joins the run as *context*: scanned
 * (through the cache) and checked so that resolution and interfaces see
 * it, never reported or counted.
 *
 * The roots are the ones the resolver will use (scheduler/resolve.h): the
 * --root directories when given; else, for each argument, the argument
 * when it is a directory that is not a package, and otherwise the nearest
 * ancestor of the file or package that is not a package (a directory with
 * __init__.py or __init__.pyi), looked up on the disk here because the
 * resolver sees only the file list. A directory argument that is a root
 * adds nothing: the walk of the arguments listed it already. */
#ifndef STRATA_RUN_SCOPE_H
#define STRATA_RUN_SCOPE_H

#include "common/status.h"
#include "run/walk.h"

#include <stdbool.h>
#include <stddef.h>

/* The directories to walk for context (see above), in the list's arena
 * (valid until walk_list_free). args are the path arguments as given (a
 * missing one counts as a file: standard input's name may not exist);
 * roots the --root directories (n_roots 0: detect). ST_ENOMEM. */
st_rc_t scope_roots(walk_list_t *list, const char *const *args, size_t n_args,
                    const char *const *roots, size_t n_roots, const char ***dirs, size_t *n_dirs,
                    st_err_t *err);

/* Walks dirs with opts and adds each Python file found there that the list
 * does not hold yet (the same file under another spelling, "./a.py" and
 * "a.py", counts as held) to list->files with `context` set, and the
 * compiled extensions to list->extensions; both stay sorted and unique.
 * What the walk of dirs could not list is not reported. ST_ENOMEM; the
 * list is unchanged on error. */
st_rc_t scope_add_context(walk_list_t *list, const char *const *dirs, size_t n_dirs,
                          const walk_opts_t *opts, st_err_t *err);

#endif
