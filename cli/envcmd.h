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
#include "run/libfind.h"

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

/* The environment of a run of cfg (envcmd_find, envcmd_warn), its finder
 * of library modules (*lf, run/libfind.h) and its key text (*key,
 * env_key_text; the caller frees it with st_free). With
 * --no-environment, nothing (all left NULL) and true. False, said on
 * errout after "COMMAND: ", when a --python does not work or memory runs
 * out; stubs that cannot be read are a warning and the run goes on
 * without them. The caller frees env (env_free) and *lf. */
bool envcmd_open(const cli_check_t *cfg, const char *command, env_t *env, libfind_t **lf,
                 char **key, FILE *errout);

/* Runs `strata env` with the arguments after "env". Writes the environment
 * to out (text, or JSON with --format json) and messages to errout.
 * Returns the exit status: 0 printed, 2 bad arguments, a bad configuration
 * or a --python that does not work. Always asks the interpreter afresh
 * (and caches its answer). */
int envcmd_run(int argc, char **argv, FILE *out, FILE *errout);

/* The usage text of `strata env`, static. */
const char *envcmd_usage(void);

#endif
