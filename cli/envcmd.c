/* envcmd.c - the environment from the command line, and `strata env`.
 *
 * `strata env` takes the options of `strata check` (through its parser, as
 * `strata config` does), so that it answers for exactly the command line a
 * check would get, configuration files included; of the output formats
 * only text and json mean something here. It always asks the interpreter
 * afresh: it is the command a user runs to see what the interpreter says
 * now, and running it replaces a cached answer that went stale (a pyenv
 * shim switched to another version). */
#include "cli/envcmd.h"

#include "cli/config.h"
#include "cli/prep.h"
#include "common/cas/cas.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

enum { ENVCMD_OK = 0, ENVCMD_USAGE = 2 };

/* The project root of cfg into out (see envcmd_find). */
static void project_root(const cli_check_t *cfg, char *out, size_t cap)
{
    const char *first = cfg->n_paths > 0 ? cfg->paths[0] : ".";
    const char *slash;
    struct stat st;

    if (strcmp(first, "-") == 0)
        first = cfg->stdin_filename != NULL ? cfg->stdin_filename : ".";
    if (cfg->config_dir != NULL)
        snprintf(out, cap, "%s", cfg->config_dir);
    else if (cfg->n_roots > 0)
        snprintf(out, cap, "%s", cfg->roots[0]);
    else if (stat(first, &st) == 0 && S_ISDIR(st.st_mode))
        snprintf(out, cap, "%s", first);
    else if ((slash = strrchr(first, '/')) == NULL)
        snprintf(out, cap, ".");
    else
        snprintf(out, cap, "%.*s", slash == first ? 1 : (int)(slash - first), first);
}

static st_rc_t find(const cli_check_t *cfg, bool refresh, env_t *env, st_err_t *err)
{
    char root[PATH_MAX];
    env_opts_t o = {.python = cfg->python,
                    .python_config = cfg->python_config,
                    .version = cfg->python_version,
                    .target_version = cfg->target_version,
                    .platform = cfg->python_platform,
                    .platform_config = cfg->platform_config,
                    .project_root = root,
                    .refresh = refresh,
                    .no_interpreter = cfg->no_python};

    project_root(cfg, root, sizeof root);
    if (!cfg->no_cache && cfg->durability != CAS_MEMORY) {
        o.cache_dir = cas_dir_default(cfg->cache_dir);
        o.shared_dir = prep_shared_dir(cfg);
    }
    return env_find(&o, env, err);
}

st_rc_t envcmd_find(const cli_check_t *cfg, env_t *env, st_err_t *err)
{
    return find(cfg, false, env, err);
}

void envcmd_warn(const env_t *env, FILE *errout)
{
    if (env->python != NULL && !env->found && env->problem != NULL)
        fprintf(errout,
                "strata: warning: the interpreter found is not used: %s; installed packages are "
                "not checked (see strata env)\n",
                env->problem);
}

bool envcmd_open(const cli_check_t *cfg, const char *command, env_t *env, libfind_t **lf,
                 char **key, FILE *errout)
{
    st_err_t err = {0};
    st_rc_t rc;

    if (cfg->no_environment)
        return true;
    if (envcmd_find(cfg, env, &err) != ST_OK) {
        fprintf(errout, "%s: %s\n", command, err.msg);
        return false;
    }
    envcmd_warn(env, errout);
    if ((rc = libfind_new(env, lf, &err)) != ST_OK) {
        if (rc == ST_ENOMEM) {
            fprintf(errout, "strata: out of memory\n");
            return false;
        }
        fprintf(errout, "strata: warning: %s\n", err.msg);
    }
    if ((*key = env_key_text(env)) == NULL) {
        fprintf(errout, "strata: out of memory\n");
        return false;
    }
    return true;
}

static const char usage[] =
    "usage: strata env [OPTIONS] [PATH...]\n"
    "\n"
    "Print the Python environment a check of PATH (default '.') uses: the\n"
    "target version and platform and where each came from, the interpreter\n"
    "and how it was found (or why none is used), the standard library's stubs,\n"
    "import hooks, and each directory of the module search path with what it\n"
    "holds. The interpreter is found as for strata check: --python, else the\n"
    "configuration's python, else $VIRTUAL_ENV, else .venv or venv in the\n"
    "project, else python3 on PATH; it is asked afresh (and its answer cached).\n"
    "\n"
    "options:\n"
    "  --python PATH         the interpreter, or a virtual environment's directory\n"
    "  --python-version X.Y  the target version (3.0 to 3.99); default: the\n"
    "                        interpreter's, else 3.12\n"
    "  --python-platform NAME  the target platform as sys.platform names it\n"
    "                        (linux, darwin, win32...); default: the\n"
    "                        interpreter's, else this host's\n"
    "  --config FILE         read only this configuration file\n"
    "  --isolated            read no configuration file\n"
    "  --format FORMAT       text (default) or json\n"
    "  --cache-dir DIR       where interpreter answers are cached (as for check)\n"
    "  -h, --help            show this help and exit\n"
    "\n"
    "exit status: 0 printed, 2 usage error, a bad configuration, or a --python\n"
    "that does not work\n";

const char *envcmd_usage(void)
{
    return usage;
}

/* The parsed command line with its configuration applied; false when over
 * (help printed or an error said): *status then. */
static bool prepare(int argc, char **argv, cli_check_t *cfg, config_set_t **conf, FILE *out,
                    FILE *errout, int *status)
{
    st_err_t err = {0};

    *status = ENVCMD_USAGE;
    if (cli_parse_check(argc, argv, cfg, &err) != ST_OK) {
        fprintf(errout, "strata env: %s\nTry 'strata env --help'.\n", err.msg);
        return false;
    }
    if (cfg->help) {
        fputs(usage, out);
        *status = ENVCMD_OK;
        return false;
    }
    if (cfg->format_given && cfg->format != REPORT_FORMAT_TEXT &&
        cfg->format != REPORT_FORMAT_JSON) {
        fprintf(errout, "strata env: --format is text or json\nTry 'strata env --help'.\n");
        return false;
    }
    if (config_set_new(cfg, conf, &err) != ST_OK || config_apply_run(*conf, cfg, &err) != ST_OK) {
        fprintf(errout, "strata env: %s\n", err.msg);
        return false;
    }
    return true;
}

int envcmd_run(int argc, char **argv, FILE *out, FILE *errout)
{
    cli_check_t cfg = {0};
    config_set_t *conf = NULL;
    env_t env = {0};
    st_err_t err = {0};
    int status;

    if (!prepare(argc, argv, &cfg, &conf, out, errout, &status))
        goto done;
    if (find(&cfg, true, &env, &err) != ST_OK) {
        fprintf(errout, "strata env: %s\n", err.msg);
        goto done;
    }
    if (cfg.format_given && cfg.format == REPORT_FORMAT_JSON) {
        if (env_print_json(&env, out, &err) != ST_OK) {
            fprintf(errout, "strata env: %s\n", err.msg);
            goto done;
        }
    } else {
        env_print(&env, out);
    }
    status = fflush(out) == 0 ? ENVCMD_OK : ENVCMD_USAGE;
done:
    env_free(&env);
    config_set_destroy(&conf);
    cli_check_free(&cfg);
    return status;
}
