/* env_int.h - what the environment's files share: env.c (finding the
 * interpreter, the target, the stubs), env_query.c (asking an interpreter,
 * its cached answer) and env_print.c (`strata env`'s text and JSON). */
#ifndef STRATA_RUN_ENV_INT_H
#define STRATA_RUN_ENV_INT_H

#include "run/env.h"

#include <stdbool.h>
#include <stddef.h>

/* What the interpreter says of itself. */
typedef struct {
    unsigned major, minor;
    char platform[ENV_MAX_PLATFORM]; /* "" when it said none fit to use */
} env__said_t;

/* Asks the interpreter at python (absolute, as found) through opts' cache:
 * fills env's python_real, prefix, venv, paths, path_kinds, stdlib_dir,
 * hooks and cached (the caller sets found, source and python), and *said.
 * ST_EINVAL with a message starting with python when it cannot be run,
 * fails, hangs past opts' timeout, prints no answer or is not Python 3;
 * env is untouched then. ST_ENOMEM. */
st_rc_t env__ask(const char *python, const env_opts_t *opts, env_t *env, env__said_t *said,
                 st_err_t *err);

/* A heap copy of s (st_free); NULL when out of memory. */
char *env__strdup(const char *s);

/* True when s can be a sys.platform: 1 to 31 of [a-z0-9]. */
bool env__valid_platform(const char *s);

/* Frees n strings of v, then v; accepts NULL. */
void env__free_strs(char **v, size_t n);

#endif
