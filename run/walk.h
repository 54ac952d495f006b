/* walk.h - the list of files a `strata check` run looks at.
 *
 * The walk is the only place that decides which files are Python: a path
 * named on the command line is checked whatever its extension (the user
 * asked for it), while directories contribute their `.py` and `.pyi` files,
 * recursively, leaving out hidden directories, `__pycache__`, whatever
 * matches an --exclude glob and (with respect_gitignore) what git ignores. Symbolic links are
 * followed, but each directory (by device and inode) is entered once, so a link loop cannot hang
 * the walk and two links to one tree do not check it twice. The result is sorted byte-wise by path
 * and free of duplicates, so everything downstream is deterministic whatever the order of readdir.
 */
#ifndef STRATA_RUN_WALK_H
#define STRATA_RUN_WALK_H

#include "common/arena.h"
#include "common/status.h"
#include "run/statidx.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A path found by the walk. `path` is the argument as given, joined with the
 * path below it ("src/" + "pkg/a.py" is "src/pkg/a.py"). */
typedef struct {
    const char *path;
    uint64_t size;      /* bytes at walk time (0 for pipes and the like) */
    file_stamp_t stamp; /* files: their stat at walk time (all zero: none) */
    int err;            /* errno for `unreadable` and `missing` entries, else 0 */
    bool context;       /* files: not named, only read for the project's sake
                           (run/scope.h) */
} walk_entry_t;

/* What a walk found; everything lives in `arena`, owned by the list. */
typedef struct {
    arena_t *arena;
    walk_entry_t *files; /* to check; sorted by path, unique */
    size_t n_files;
    walk_entry_t *unreadable; /* directories below an argument that could not be
                                 listed (report them as E902); sorted */
    size_t n_unreadable;
    walk_entry_t *missing; /* arguments that could not be stat'ed (usually
                              ENOENT): a usage error; in argument order */
    size_t n_missing;
    walk_entry_t *extensions; /* modules that exist for imports but are not
                                 checked, sorted, size 0: compiled modules
                                 found in the walked directories (`_ext.cpython-
                                 311-x86_64-linux-gnu.so`, `_ext.pyd`), each
                                 named as the module file it stands for
                                 (`dir/_ext.so`), whether git ignores them or
                                 not; and the Python files git ignores (as
                                 they are: `dir/_version.py`) */
    size_t n_extensions;
} walk_list_t;

typedef struct {
    const char *const *exclude; /* fnmatch globs (no flags: '*' matches '/') */
    size_t n_exclude;
    /* Also skipped: what skip(skip_ctx, path, name) says (the configuration
     * files' exclude); NULL: nothing more. */
    bool (*skip)(void *skip_ctx, const char *path, const char *name);
    void *skip_ctx;
    /* Do not check what git ignores (run/gitignore.h) below each directory
     * argument inside a work tree: ignored directories are not entered,
     * ignored Python files go to `extensions` (they exist for imports). An
     * argument itself is never left out, and a directory argument git
     * ignores is walked without the rules. */
    bool respect_gitignore;
    /* Python files the caller has listed already, in normal form
     * (walk_norm_path), sorted by strcmp: left out without a stat. */
    const char *const *known;
    size_t n_known;
} walk_opts_t;

/* Walks paths[0..n). Problems with individual paths are not errors: they
 * land in `missing` or `unreadable`. ST_OK: *out is filled (free with
 * walk_list_free). ST_ENOMEM: out of memory, *out untouched. Uses the file
 * system only through stat/opendir; single-threaded. */
st_rc_t walk_paths(const char *const *paths, size_t n, const walk_opts_t *opts, walk_list_t *out,
                   st_err_t *err);

/* The length of the module name of a compiled extension's file name
 * (`_ext` in `_ext.cpython-311-x86_64-linux-gnu.so` or `_ext.pyd`), or 0
 * when name is not one. */
size_t walk_extension_stem(const char *name);

/* Frees the list's arena and zeroes it; accepts a zeroed list. */
void walk_list_free(walk_list_t *list);

/* True when an entry named `name`, at `rel` below its argument and shown as
 * `path`, matches one of the exclude globs (against the name, the relative
 * path or the whole path). Pure; thread-safe. */
bool walk_is_excluded(const walk_opts_t *opts, const char *name, const char *rel, const char *path);

/* path without "./" segments and repeated '/' (a trailing '/' dropped), in
 * arena a; NULL when out of memory. The form two spellings of one path
 * are compared in. */
const char *walk_norm_path(arena_t *a, const char *path);

/* a + "/" + b in the arena (no '/' added when a is empty or ends in one);
 * NULL when out of memory. */
char *walk_join(arena_t *arena, const char *a, const char *b);

/* True for the names a directory walk checks: "*.py" and "*.pyi". */
bool walk_is_python_name(const char *name);

/* Byte-wise comparison of two paths as qsort wants it (unsigned bytes). */
int walk_path_cmp(const char *a, const char *b);

#endif
