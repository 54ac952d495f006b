/* env.h - the Python environment a run checks against: the target (version
 * and platform), the interpreter found and its module search path, and the
 * standard library's stubs.
 *
 * Found as pyright and mypy find one, first match wins:
 *   1. `--python PATH` (or `python` in the configuration): an interpreter
 *      (or a virtual environment's directory: its bin/python);
 *   2. $VIRTUAL_ENV: its bin/python;
 *   3. `.venv` or `venv` in the project root holding a bin/python;
 *   4. `python3` on PATH.
 * The interpreter is asked once for its version, platform, sys.path and
 * import hooks (one `python -I -S -c ...` with `site` imported by hand, so
 * .pth files count); the answer is cached under the interpreter's real path,
 * size and mtime. `--python-version X.Y` (or `target-version`) and
 * `--python-platform` override the target. Without an interpreter the
 * standard library still comes from the stubs and third-party imports stay
 * unknown (found is false: no E0401 for packages that are not installed).
 *
 * The standard library's interface comes from typeshed's stdlib stubs as
 * pyright ships them (see docs/environment.md for why): STRATA_TYPESHED
 * names the directory holding `stdlib/VERSIONS`, else the copy installed
 * beside the binary (<exe dir>/share/strata/typeshed or <exe
 * dir>/../share/strata/typeshed), else the compiled-in data directory. */
#ifndef STRATA_RUN_ENV_H
#define STRATA_RUN_ENV_H

#include "common/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define ENV_MAX_PLATFORM 32

/* How the interpreter was found. */
typedef enum {
    ENV_NONE = 0,   /* no interpreter */
    ENV_FLAG,       /* --python */
    ENV_CONFIG,     /* `python` of the configuration */
    ENV_VIRTUALENV, /* $VIRTUAL_ENV */
    ENV_DOTVENV,    /* .venv or venv in the project root */
    ENV_PATH        /* python3 on PATH */
} env_source_t;

/* Where the target came from. */
typedef enum {
    ENV_TARGET_DEFAULT = 0, /* nothing said: the default */
    ENV_TARGET_INTERPRETER, /* the interpreter's own */
    ENV_TARGET_FLAG,        /* --python-version / --python-platform */
    ENV_TARGET_CONFIG       /* target-version / python-platform of the configuration */
} env_target_source_t;

typedef struct {
    /* the target: one per run */
    unsigned major, minor;
    char platform[ENV_MAX_PLATFORM]; /* as sys.platform: "linux", "darwin", "win32" */
    env_target_source_t version_from, platform_from;

    /* the interpreter (found true) */
    bool found;
    env_source_t source;
    char *python;      /* as found (may be a symlink); NULL when none */
    char *python_real; /* its real path */
    char *prefix;      /* sys.prefix */
    char **paths;      /* sys.path: existing directories, in order, after .pth files,
                          without the current directory entry ("") */
    size_t n_paths;
    char *stdlib_dir; /* sysconfig's stdlib (.../lib/python3.X); NULL unknown */
    /* Import hooks on sys.meta_path other than the standard finders: the
     * top-level names they are known to serve (editable installs' mappings,
     * setuptools' distutils shim), and whether one serves unknown names
     * (then no import of a missing top-level package is reported). */
    char **hook_names;
    size_t n_hook_names;
    bool hook_unknown;

    /* the stdlib stubs: the directory holding VERSIONS; NULL: none found */
    char *typeshed_stdlib;

    /* why the interpreter was not used, for `strata env` and a warning:
     * "no python3 on PATH", "/x/python: exited 1: ..."; NULL when found or
     * never asked */
    char *problem;
} env_t;

/* What the caller knows: flags and configuration (strings borrowed). */
typedef struct {
    const char *python;          /* --python PATH; NULL: not given */
    const char *python_config;   /* `python` of the configuration; NULL: none */
    const char *version;         /* --python-version "3.11"; NULL: not given */
    const char *target_version;  /* target-version of the configuration "py311"; NULL: none */
    const char *platform;        /* --python-platform; NULL: not given */
    const char *platform_config; /* python-platform of the configuration; NULL: none */
    const char *project_root;    /* where .venv/venv is looked for; NULL: "." */
    const char *cache_dir;       /* where interpreter answers are cached; NULL: not cached */
    bool no_interpreter;         /* tests and --isolated environments: never look for one */
} env_opts_t;

/* Finds the environment. A --python that does not work is an error
 * (ST_EINVAL with a message naming it); an interpreter found otherwise that
 * does not answer is not: env->found is false and env->problem says why.
 * A bad version or platform is ST_EINVAL. ST_ENOMEM. */
st_rc_t env_find(const env_opts_t *opts, env_t *env, st_err_t *err);

/* Frees what env_find allocated and zeroes env; accepts a zeroed env. */
void env_free(env_t *env);

/* Writes what `strata env` prints: the target and where it came from, the
 * interpreter and how it was found, the stubs, and the search path with
 * what each directory gives (stdlib sources, site-packages, .pth
 * additions). */
void env_print(const env_t *env, FILE *out);

#endif
