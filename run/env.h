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
 * import hooks (one `python -I -S -c ...` with `site` imported and run by
 * hand, so .pth files count); the answer is cached under the interpreter's
 * path as found, its real path, size and mtime, and is used again only while
 * the executable it ran (sys.executable) and its site-packages directories
 * are unchanged (a .pth file added or removed changes the directory).
 * `--python-version X.Y` (or `target-version`) and `--python-platform` (or
 * `python-platform`) override the target. Without an interpreter the
 * standard library still comes from the stubs and third-party imports stay
 * unknown (found is false: no E0401 for packages that are not installed).
 *
 * The standard library's interface comes from typeshed's stdlib stubs as
 * pyright ships them (see docs/environment.md for why): STRATA_TYPESHED
 * names the directory holding `stdlib/VERSIONS` (or the stdlib directory
 * itself), else the copy installed beside the binary (<exe
 * dir>/share/strata/typeshed or <exe dir>/../share/strata/typeshed), else
 * the compiled-in data directory. */
#ifndef STRATA_RUN_ENV_H
#define STRATA_RUN_ENV_H

#include "common/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define ENV_MAX_PLATFORM 32

/* The target version when nothing says one (no flag, no configuration, no
 * interpreter): see docs/environment.md for why. */
#define ENV_DEFAULT_MAJOR 3
#define ENV_DEFAULT_MINOR 12

/* How long an interpreter may take to answer, and how much it may print. */
#define ENV_QUERY_TIMEOUT_MS 10000u
#define ENV_QUERY_MAX_BYTES (1u << 20)

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
    ENV_TARGET_DEFAULT = 0, /* nothing said: the default (the platform: this host's) */
    ENV_TARGET_INTERPRETER, /* the interpreter's own */
    ENV_TARGET_FLAG,        /* --python-version / --python-platform */
    ENV_TARGET_CONFIG       /* target-version / python-platform of the configuration */
} env_target_source_t;

/* What a directory of the search path gives, as the interpreter says. */
typedef enum {
    ENV_PATH_OTHER = 0, /* on sys.path before site ran (a zip, PYTHONHOME's) */
    ENV_PATH_STDLIB,    /* the standard library's sources */
    ENV_PATH_DYNLOAD,   /* lib-dynload: the standard library's extension modules */
    ENV_PATH_SITE,      /* a site-packages (or Debian's dist-packages) directory */
    ENV_PATH_VENV_SITE, /* the virtual environment's own site-packages */
    ENV_PATH_PTH        /* added by a .pth file (editable installs, nspkg...) */
} env_path_kind_t;

typedef struct {
    /* the target: one per run */
    unsigned major, minor;
    char platform[ENV_MAX_PLATFORM]; /* as sys.platform: "linux", "darwin", "win32" */
    env_target_source_t version_from, platform_from;

    /* the interpreter (found true) */
    bool found;
    env_source_t source;
    char *python;      /* as found, absolute (may be a symlink); NULL when none was found (set,
                          with found false, when one was found but did not answer) */
    char *python_real; /* its real path */
    char *prefix;      /* sys.prefix */
    bool venv;         /* sys.prefix differs from sys.base_prefix */
    char **paths;      /* sys.path: existing directories, in order, after .pth files,
                          without the current directory entry ("") and duplicates */
    env_path_kind_t *path_kinds; /* what each of paths is */
    size_t n_paths;
    char *stdlib_dir; /* sysconfig's stdlib (.../lib/python3.X); NULL unknown */
    /* Import hooks on sys.meta_path other than the standard finders: the
     * top-level names they are known to serve (editable installs' mappings,
     * setuptools' distutils shim), and whether one serves unknown names
     * (then no import of a missing top-level package is reported). */
    char **hook_names;
    size_t n_hook_names;
    bool hook_unknown;
    char **hook_finders; /* each hook as "module.Class", for `strata env` */
    size_t n_hook_finders;
    bool cached; /* the interpreter's answer came from the cache */

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
    const char *shared_dir;      /* and the user's shared cache (run.h shared_dir), read when
                                    cache_dir lacks the answer; NULL: none */
    bool no_interpreter;         /* tests and --isolated environments: never look for one */
    bool refresh;                /* ask the interpreter even when its answer is cached
                                    (`strata env`), then cache the new answer */
    unsigned timeout_ms;         /* the interpreter's time to answer; 0: ENV_QUERY_TIMEOUT_MS */
} env_opts_t;

/* Finds the environment. A --python (or configuration `python`) that does
 * not work is an error (ST_EINVAL with a message naming it: missing, not
 * executable, a directory without bin/python, exits non-zero, prints no
 * answer, takes too long); an interpreter found otherwise that does not
 * answer is not: env->found is false and env->problem says why. A bad
 * version or platform, or a STRATA_TYPESHED without VERSIONS, is ST_EINVAL.
 * ST_ENOMEM. A cache that cannot be read or written costs time only. On
 * error *env is zeroed. Runs a child process: call before starting threads
 * that fork, or accept that they may inherit nothing (pipes are
 * close-on-exec). */
st_rc_t env_find(const env_opts_t *opts, env_t *env, st_err_t *err);

/* Frees what env_find allocated and zeroes env; accepts a zeroed env. */
void env_free(env_t *env);

/* True when s is a version strata accepts as a target: "3.Y", Y from 0
 * to 99 (typeshed's stubs describe 3.10 to 3.14); *major and *minor then
 * hold it. */
bool env_parse_version(const char *s, unsigned *major, unsigned *minor);

/* True when name can be a sys.platform value: 1 to 31 of [a-z0-9]
 * ("linux", "darwin", "win32", "freebsd14"). */
bool env_valid_platform(const char *name);

/* The word for a source, a target source and a path kind ("--python",
 * "interpreter", "site-packages"), static. */
const char *env_source_name(env_source_t source);
const char *env_target_source_name(env_target_source_t from);
const char *env_path_kind_name(env_path_kind_t kind);

/* Writes what `strata env` prints: the target and where it came from, the
 * interpreter and how it was found, the stubs, and the search path with
 * what each directory gives (stdlib sources, site-packages, .pth
 * additions). */
void env_print(const env_t *env, FILE *out);

/* How many modules the stubs' VERSIONS lists for env's target version (for
 * `strata env`; read when asked, not by env_find: a check does not need
 * it). 0 without stubs. */
size_t env_stub_modules(const env_t *env);

/* A text naming everything of env a check's results depend on: the target,
 * the interpreter's real path, the stubs directory, and each search-path
 * directory with its modification time (installing or removing a package
 * changes it). A whole run's cached record is keyed by it (run.h
 * env_key). The caller frees it (st_free); NULL when out of memory. */
char *env_key_text(const env_t *env);

/* The same for hosts that share results through a team cache: each
 * search-path directory with a digest of the names it holds instead of its
 * modification time, which differs from host to host for the same
 * packages. Costs a listing of each directory. */
char *env_key_text_shared(const env_t *env);

/* The same as one JSON object (jansson), with a newline. ST_ENOMEM; ST_EIO
 * when out fails. */
st_rc_t env_print_json(const env_t *env, FILE *out, st_err_t *err);

#endif
