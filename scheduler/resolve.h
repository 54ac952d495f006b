/* resolve.h - Python module resolution over a project's files.
 *
 * The scheduler names every file by its dotted module name and resolves
 * every import to a project module, a standard-library module, or an
 * external one, with Python's rules:
 *   - a file's module name is its path below the first search root that
 *     contains it, with "/" as "." and the extension dropped; a package is a
 *     directory with __init__.py or __init__.pyi, named by the directory;
 *   - directories without __init__ are namespace packages (PEP 420): they are
 *     modules too (with no file), so `import ns.pkg.mod` resolves and `ns`
 *     has `pkg` as a submodule;
 *   - a stub (.pyi) beside its .py is the same module: the stub is the file
 *     whose interface counts ("preferred"), both are checked;
 *   - relative imports at any depth, from a package's __init__ (level 1 is
 *     the package itself) or from a module (level 1 is its package); beyond
 *     the top level they are unresolved (E0401);
 *   - an absolute import is tried against the project's modules first, then
 *     the standard library's module names (scheduler/stdlib_names.c: data),
 *     then it is external. An absolute import whose top-level package is a
 *     project module but whose full name is not is unresolved (E0401), with
 *     one exception for a project that shadows a standard name (checking
 *     CPython's Lib/, or a directory called `email` without __init__): when
 *     the deepest project module on the way is a plain module or a namespace
 *     package, the rest can only come from elsewhere (os.path, email.mime),
 *     so the import is RES_STDLIB; below a regular package it is unresolved.
 *     `__future__` is RES_FUTURE even when the project has a __future__.py.
 *
 * Which file is a module's (several files may give one name): a file of the
 * first root that has the name beats later roots (Python's path order);
 * within a root __init__.pyi > __init__.py > .pyi > .py > other extensions
 * (the finder looks for a package directory first; a stub's interface
 * counts); then the earlier file in the list. Every file still maps to that
 * module (resolver_file_module), so all of them are checked. A module file
 * and a directory of the same name without __init__ give one module that is
 * not a package but has submodules.
 *
 * Names: the extension (.py, .pyi, else whatever follows the last dot) is
 * dropped; segments that are not identifiers (`c-d`, `b.c` of `b.c.py`) are
 * kept as they are: such a module exists but no normal import reaches it
 * (the parent of `a/b.c.py` is `a`, whatever `a.b` may be). An __init__.py
 * directly in a root is a plain module named `__init__`. Paths with nothing
 * below their root (".", "/", "a/..") get a module named by their last
 * segment. Nothing in a name is ever rejected.
 *
 * Search roots come from the command line (--root, repeatable). Without
 * any, each path argument gives one: a directory that is not itself a package
 * is a root; a package directory's or a file's root is its nearest ancestor
 * that is not a package (never above "." or "/"); a directory with a `src/`
 * directory of Python files, no top-level .py and no src/__init__ also gets
 * `src/`, before itself (src layout). An argument is a file when it is in the
 * file list, or has a .py/.pyi name and nothing listed below it. Roots are
 * tried in order; the first that contains a file names it. A file outside
 * every root is named from its own root (its nearest non-package ancestor,
 * found for it alone); those roots are appended to the list (after the
 * others, deduplicated) but never name other files, so names do not depend
 * on the order of the file list.
 *
 * Paths are compared as given, after removing "./" and duplicate slashes:
 * callers pass the walk's paths and the roots in the same form (both
 * relative to the current directory, or both absolute).
 *
 * Pure data: no file is opened. Only the file list decides what exists.
 *
 * Immutable once built: any number of threads may call the accessors and
 * resolver_resolve concurrently. Strings returned are borrowed until
 * resolver_destroy. */
#ifndef STRATA_RESOLVE_H
#define STRATA_RESOLVE_H

#include "common/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct resolver resolver_t;

/* What an import's target is. */
typedef enum {
    RES_PROJECT = 0,    /* a module of the project: see the module id */
    RES_STDLIB = 1,     /* the standard library (not in the project) */
    RES_EXTERNAL = 2,   /* anything else: third-party, unknown */
    RES_UNRESOLVED = 3, /* should be in the project and is not: E0401 */
    RES_FUTURE = 4,     /* from __future__ import ... */
    RES_MISSING = 5     /* a top-level package the environment (run/env.h) lacks: E0401 */
} res_kind_t;

#define RES_NONE UINT32_MAX /* "no module" in id fields */

/* Builds the module table. roots[0..n_roots) may be empty (then detected
 * from args[0..n_args), the path arguments of the command line; args are
 * ignored when roots are given); files are the walk's .py/.pyi paths. Files
 * outside every root get a module name from their own detected root (never
 * dropped). Nothing is kept of the arguments (copied). ST_ENOMEM; ST_EINVAL
 * for a root that is not a directory name (empty), a NULL list with a
 * non-zero count, a NULL entry or a NULL out; ST_ELIMIT for UINT32_MAX files
 * or more. *out is untouched on error; err (may be NULL) says what failed. */
st_rc_t resolver_new(const char *const *roots, size_t n_roots, const char *const *args,
                     size_t n_args, const char *const *files, size_t n_files, resolver_t **out,
                     st_err_t *err);
/* resolver_new with library files: names[i], when names and names[i] are
 * not NULL, is file i's module name as the environment's finder gave it
 * (run/libfind.h), its packages made on the way; whether it is a package's
 * __init__ comes from its base name. Such a file ranks after every root, so
 * a project file of the same name stays the module's; with names_first it
 * ranks with the first root instead, so that a stub (.pyi) beats the
 * project's source of the same name (the project is a standard library
 * checked against its stubs). ST_EINVAL for an empty name. */
st_rc_t resolver_new_named(const char *const *roots, size_t n_roots, const char *const *args,
                           size_t n_args, const char *const *files, const char *const *names,
                           bool names_first, size_t n_files, resolver_t **out, st_err_t *err);
void resolver_destroy(resolver_t **self_p);

/* The search roots in use (given or detected), in order. */
size_t resolver_n_roots(const resolver_t *self);
const char *resolver_root(const resolver_t *self, size_t i);

/* Modules: ids 0..n-1, sorted byte-wise by dotted name (so ids are
 * deterministic: the same set of files gives the same ids in any order). A
 * module has a name, at most a preferred file (the stub if there is one,
 * else the .py; RES_NONE for a namespace package), whether it is a package,
 * its parent package (RES_NONE at top level) and its direct submodules. */
uint32_t resolver_n_modules(const resolver_t *self);
const char *resolver_module_name(const resolver_t *self, uint32_t module);
uint32_t resolver_module_file(const resolver_t *self, uint32_t module);
bool resolver_module_is_package(const resolver_t *self, uint32_t module);
uint32_t resolver_module_parent(const resolver_t *self, uint32_t module);
/* Direct submodules, sorted by name; *n receives the count. */
const uint32_t *resolver_submodules(const resolver_t *self, uint32_t module, size_t *n);
/* A module by dotted name, or RES_NONE. Out-of-range ids anywhere above give
 * NULL, RES_NONE, false or no submodules. */
uint32_t resolver_find(const resolver_t *self, const char *dotted, size_t len);

/* The module of file (an index into the files given to resolver_new). */
uint32_t resolver_file_module(const resolver_t *self, size_t file);

/* Resolves an import written in file: `level` leading dots then `module`
 * (may be empty for `from . import x`). *kind receives the verdict;
 * abs[0..abs_cap) the absolute dotted name (NUL-terminated; truncation is
 * ST_ELIMIT); *module the project module id for RES_PROJECT, else RES_NONE.
 * For RES_UNRESOLVED with level > 0 beyond the top level, abs is the text as
 * written (with its dots). An empty absolute name is RES_UNRESOLVED. On
 * ST_ELIMIT nothing is written. ST_EINVAL for a file index out of range or a
 * NULL pointer (module may be NULL when module_len is 0). Never fails
 * otherwise. */
st_rc_t resolver_resolve(const resolver_t *self, size_t file, uint32_t level, const char *module,
                         size_t module_len, res_kind_t *kind, char *abs, size_t abs_cap,
                         uint32_t *module_id);

/* Whether a top-level name is a standard-library module (the data in
 * stdlib_names.c, Python 3.8 to 3.13, including built-in modules such as
 * sys and _io). */
bool resolver_is_stdlib(const char *top, size_t len);

#endif
