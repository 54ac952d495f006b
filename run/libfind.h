/* libfind.h - where a library module's file is: the standard library's
 * stubs and the installed packages of an environment (run/env.h).
 *
 * A module is asked by its absolute dotted name; the answer never depends
 * on the project (the project's own modules are resolved before, by
 * scheduler/resolve.h). The order, as PEP 561 and pyright have it:
 *   1. a top-level name that typeshed's stdlib/VERSIONS lists for the
 *      target version (the module's own line, else its package's) is the
 *      standard library: its stub in the stubs directory, else the
 *      interpreter's sources, else a built-in module (open); a submodule
 *      VERSIONS excludes for the target is absent, one typeshed lacks comes
 *      from the interpreter's sources of the same package. A name VERSIONS
 *      lists only for other versions (tomllib at 3.10, asyncore at 3.12) is
 *      looked up as a third-party one (step 2) outside the interpreter's
 *      stdlib directories: a backport may provide it, the interpreter's own
 *      copy is of another version. A name VERSIONS does not list comes from
 *      the search path, the interpreter's stdlib directory (and its
 *      lib-dynload) first when sys.path lacks them;
 *   2. otherwise the environment's search path, in order: first a stub
 *      package `NAME-stubs` in any directory (PEP 561; with `partial\n` in
 *      its py.typed, what it lacks falls back to step 3), then in each
 *      directory a regular package (NAME/__init__.pyi, NAME/__init__.py),
 *      a module (NAME.pyi, NAME.py), an extension module (NAME.*.so,
 *      NAME.so, NAME.pyd: open), and directories without __init__
 *      gathered as one namespace package (PEP 420) when nothing regular is
 *      found on the whole path;
 *   3. a submodule a.b.c is looked up only below what gave a.b: the
 *      package's directory (or a namespace package's directories, in
 *      order), a .pyi beside a .py winning;
 *   4. a name an import hook serves (env->hook_names, or any name when
 *      env->hook_unknown, for top-level names not found) is open.
 * Paths are the environment's (absolute). No file is read except VERSIONS
 * and py.typed; directories are listed once each and kept.
 *
 * Not thread-safe: one caller at a time (the run's thread). */
#ifndef STRATA_RUN_LIBFIND_H
#define STRATA_RUN_LIBFIND_H

#include "common/digest.h"
#include "common/status.h"
#include "run/env.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct libfind libfind_t;

typedef enum {
    LIB_ABSENT = 0, /* no such module in the environment */
    LIB_FILE,       /* a module or regular package: path is its file */
    LIB_NAMESPACE,  /* a namespace package: no file */
    LIB_OPEN        /* exists, interface unknown: an extension module without a
                       stub, a name an import hook serves */
} lib_kind_t;

/* Which tier gave a module (for `strata env` and --explain). */
typedef enum {
    LIB_FROM_STUBS = 0,    /* typeshed's stdlib stubs */
    LIB_FROM_STDLIB_SRC,   /* the interpreter's standard library sources */
    LIB_FROM_STUB_PACKAGE, /* a NAME-stubs package */
    LIB_FROM_SITE,         /* a package or module on the search path */
    LIB_FROM_HOOK          /* an import hook */
} lib_from_t;

typedef struct {
    lib_kind_t kind;
    lib_from_t from;
    bool package;     /* a package (regular or namespace): it may have submodules */
    bool stdlib;      /* the name is the standard library's */
    const char *path; /* LIB_FILE: the file (borrowed until libfind_destroy) */
} lib_module_t;

/* A finder over env (borrowed: it must outlive the finder; the finder
 * copies nothing of it). ST_ENOMEM (*out untouched). A VERSIONS file that
 * does not parse is ST_EINVAL naming its file and line, one that cannot be
 * read ST_EIO: then *out is set all the same, to a finder that does not use
 * the stubs (the standard library's names are then scheduler/resolve.h's,
 * their modules from the interpreter's sources or open); err says so, and
 * the caller warns and goes on. */
st_rc_t libfind_new(const env_t *env, libfind_t **out, st_err_t *err);
void libfind_destroy(libfind_t **self_p);

/* The module named dotted[0..len). A name with an empty segment or over
 * 1024 bytes is LIB_ABSENT. Asking for a.b.c asks for a and a.b first (the
 * answers are kept): when a is not a package, a.b.c is absent; when a.b is
 * open, so is a.b.c. Never fails: I/O errors read as absent directories
 * (an unreadable site-packages gives nothing). */
lib_module_t libfind_module(libfind_t *self, const char *dotted, size_t len);

/* Whether top-level name is a standard-library module for the target
 * (VERSIONS; without stubs, scheduler/resolve.h's list). */
bool libfind_is_stdlib(libfind_t *self, const char *top, size_t len);

/* ---- the finder as a run sees it ------------------------------------------- */

/* A name to ask about (not NUL-terminated). */
typedef struct {
    const char *name;
    size_t len;
} lib_name_t;

/* An answer: the module, and for a file whose content the finder read
 * elsewhere (a coordinator's client), that content's size and SHA-256
 * (has_digest false: read it at path, or nothing to read). */
typedef struct {
    lib_module_t m;
    bool has_digest;
    digest_t digest;
    uint64_t size;
} lib_found_t;

/* The finder a run asks, a round of names at a time: this process's
 * libfind_t (libfind_finder), or a coordinator's client, one round trip
 * per call (coordinator/batch.c). Both answer as libfind_module and
 * libfind_is_stdlib do; the names are valid ones (1 to 1024 bytes, no
 * empty segment). modules fills out[i] for names[i], is_stdlib stdlib[i]
 * for tops[i] (top-level names); paths in out are borrowed until the
 * finder ends. An error ends the run (err says why; out unspecified).
 * Called from the run's thread only. */
typedef struct {
    st_rc_t (*modules)(void *ctx, const lib_name_t *names, size_t n, lib_found_t *out,
                       st_err_t *err);
    st_rc_t (*is_stdlib)(void *ctx, const lib_name_t *tops, size_t n, bool *stdlib, st_err_t *err);
    void *ctx;
} lib_finder_t;

/* The finder of self (borrowed: it must outlive the value). */
lib_finder_t libfind_finder(libfind_t *self);

#endif
