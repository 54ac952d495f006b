/* envcmd.h - the Python environment of a command line: found from the
 * flags and configuration a check was parsed with, and `strata env`, which
 * prints it.
 *
 * `strata check`, `graph` and `submit` all need one environment found the
 * same way (run/env.h), so the mapping from their options to env_opts_t
 * lives here once: which directory is the project root (where .venv is
 * looked for) and where interpreter answers are cached. */
#ifndef STRATA_CLI_ENVCMD_H
#define STRATA_CLI_ENVCMD_H

#include "cli/options.h"
#include "common/status.h"
#include "run/env.h"

#include <stdio.h>

/* The environment of cfg (after config_apply_run, so the configuration's
 * python, python-platform and target-version count). The project root is
 * the directory of the configuration governing the first PATH, else the
 * first --root, else the first PATH (its directory when a file); answers
 * are cached in the cache directory unless --no-cache or --durability
 * memory. Errors as env_find: ST_EINVAL (a --python that does not work, a
 * bad version or platform; err says which, fit for stderr after "strata
 * check: ") means exit 2. Free env with env_free. */
st_rc_t envcmd_find(const cli_check_t *cfg, env_t *env, st_err_t *err);

/* The warning a run prints when an interpreter was found but does not
 * answer (env->python set, env->found false), on errout; nothing
 * otherwise. */
void envcmd_warn(const env_t *env, FILE *errout);

/* Runs `strata env` with the arguments after "env". Writes the environment
 * to out (text, or JSON with --format json) and messages to errout.
 * Returns the exit status: 0 printed, 2 bad arguments, a bad configuration
 * or a --python that does not work. Always asks the interpreter afresh
 * (and caches its answer). */
int envcmd_run(int argc, char **argv, FILE *out, FILE *errout);

/* The usage text of `strata env`, static. */
const char *envcmd_usage(void);

#endif
