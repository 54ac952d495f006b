/* env_print.c - what `strata env` prints: the environment found, as text
 * for a person and as one JSON object for a script.
 *
 * Both say the same things in the same order (the target and where it
 * came from, the interpreter and how it was found or why none was used,
 * the stubs, the import hooks, the search path with what each directory
 * gives), so that the text can be read as the JSON explained. The JSON's
 * words are the env_*_name identifiers; the text spells them out. Paths
 * are bytes and JSON wants UTF-8: a path that is not gets U+FFFD for its
 * bad bytes, as the report's JSON does (report__utf8_clean). */
#include "run/env_int.h"

#include "common/buf.h"
#include "run/report_int.h"

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

static const char *source_text(env_source_t source)
{
    static const char *const texts[] = {"none",
                                        "--python",
                                        "python in the configuration",
                                        "$VIRTUAL_ENV",
                                        "the project's virtual environment",
                                        "python3 on PATH"};
    return (size_t)source < sizeof texts / sizeof texts[0] ? texts[source] : "?";
}

static const char *target_text(env_target_source_t from, bool version)
{
    switch (from) {
    case ENV_TARGET_INTERPRETER:
        return "the interpreter's";
    case ENV_TARGET_FLAG:
        return version ? "--python-version" : "--python-platform";
    case ENV_TARGET_CONFIG:
        return version ? "target-version in the configuration"
                       : "python-platform in the configuration";
    default:
        return version ? "the default" : "this host's";
    }
}

static const char *kind_text(env_path_kind_t kind)
{
    static const char *const texts[] = {[ENV_PATH_OTHER] = "on sys.path before site ran",
                                        [ENV_PATH_STDLIB] = "standard library sources",
                                        [ENV_PATH_DYNLOAD] = "standard library extension modules",
                                        [ENV_PATH_SITE] = "site-packages",
                                        [ENV_PATH_VENV_SITE] =
                                            "the virtual environment's site-packages",
                                        [ENV_PATH_PTH] = "added by a .pth file"};
    return (size_t)kind < sizeof texts / sizeof texts[0] ? texts[kind] : "?";
}

/* The typeshed commit the stubs come from (commit.txt beside stdlib/),
 * into out ("" when unknown). */
static void stubs_commit(const env_t *env, char *out, size_t cap)
{
    char path[PATH_MAX + 32];
    FILE *f;
    size_t n = 0;

    out[0] = '\0';
    if (env->typeshed_stdlib == NULL ||
        snprintf(path, sizeof path, "%s/../commit.txt", env->typeshed_stdlib) >= (int)sizeof path ||
        (f = fopen(path, "re")) == NULL)
        return;
    n = fread(out, 1, cap - 1, f);
    fclose(f);
    out[n] = '\0';
    out[strspn(out, "0123456789abcdef")] = '\0';
}

static void print_interpreter(const env_t *env, FILE *out)
{
    if (!env->found && env->python == NULL) {
        fprintf(out, "interpreter:  none (%s)\n",
                env->problem != NULL ? env->problem : "not looked for");
        return;
    }
    fprintf(out, "interpreter:  %s (%s)\n", env->python, source_text(env->source));
    if (!env->found) {
        fprintf(out, "  not used:   %s\n", env->problem != NULL ? env->problem : "?");
        return;
    }
    fprintf(out, "  real path:  %s\n", env->python_real);
    fprintf(out, "  prefix:     %s%s\n", env->prefix != NULL ? env->prefix : "?",
            env->venv ? " (a virtual environment)" : "");
    fprintf(out, "  answer:     %s\n", env->cached ? "from the cache" : "asked now");
}

static void print_hooks(const env_t *env, FILE *out)
{
    if (!env->found)
        return;
    if (env->n_hook_finders == 0) {
        fputs("import hooks: none\n", out);
        return;
    }
    fputs("import hooks:\n", out);
    for (size_t i = 0; i < env->n_hook_finders; i++)
        fprintf(out, "  %s\n", env->hook_finders[i]);
    fputs("  names served:", out);
    for (size_t i = 0; i < env->n_hook_names; i++)
        fprintf(out, "%s %s", i > 0 ? "," : "", env->hook_names[i]);
    if (env->n_hook_names == 0)
        fputs(" none known", out);
    if (env->hook_unknown)
        fputs("; a hook may serve any name: imports of packages not installed are not reported",
              out);
    fputc('\n', out);
}

void env_print(const env_t *env, FILE *out)
{
    char commit[48];
    int width = 0;

    fprintf(out, "target:       Python %u.%u on %s\n", env->major, env->minor, env->platform);
    fprintf(out, "  version:    %s\n", target_text(env->version_from, true));
    fprintf(out, "  platform:   %s\n", target_text(env->platform_from, false));
    print_interpreter(env, out);
    stubs_commit(env, commit, sizeof commit);
    if (env->typeshed_stdlib != NULL)
        fprintf(out, "stubs:        %s (typeshed%s%.12s, %zu modules for %u.%u)\n",
                env->typeshed_stdlib, commit[0] != '\0' ? " " : "", commit, env_stub_modules(env),
                env->major, env->minor);
    else
        fputs("stubs:        none found (set STRATA_TYPESHED): the standard library is unknown\n",
              out);
    print_hooks(env, out);
    if (!env->found) {
        fputs("search path:  none: imports of installed packages are unknown\n", out);
        return;
    }
    fputs("search path:\n", out);
    for (size_t i = 0; i < env->n_paths; i++)
        if ((int)strlen(env->paths[i]) > width)
            width = (int)strlen(env->paths[i]);
    for (size_t i = 0; i < env->n_paths; i++)
        fprintf(out, "  %-*s  %s\n", width, env->paths[i], kind_text(env->path_kinds[i]));
}

/* ---- JSON ------------------------------------------------------------------ */

/* A JSON string of s cleaned to UTF-8, or JSON null for NULL; NULL when out
 * of memory. */
static json_t *jpath(const char *s)
{
    buf_t clean;
    json_t *v = NULL;

    if (s == NULL)
        return json_null();
    buf_init(&clean);
    if (report__utf8_clean(&clean, s, strlen(s), false) == ST_OK)
        v = json_stringn(clean.len > 0 ? (const char *)clean.data : "", clean.len);
    buf_free(&clean);
    return v;
}

static json_t *jstrings(char *const *v, size_t n)
{
    json_t *a = json_array();

    for (size_t i = 0; a != NULL && i < n; i++)
        if (json_array_append_new(a, jpath(v[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static json_t *json_target(const env_t *env)
{
    char version[16];

    snprintf(version, sizeof version, "%u.%u", env->major, env->minor);
    return json_pack("{ssssssss}", "version", version, "version_from",
                     env_target_source_name(env->version_from), "platform", env->platform,
                     "platform_from", env_target_source_name(env->platform_from));
}

static json_t *json_interpreter(const env_t *env)
{
    return json_pack("{sbsssososososbsosb}", "found", env->found, "found_by",
                     env_source_name(env->source), "path", jpath(env->python), "real_path",
                     jpath(env->python_real), "prefix", jpath(env->prefix), "stdlib",
                     jpath(env->stdlib_dir), "venv", env->venv, "problem", jpath(env->problem),
                     "cached", env->cached);
}

static json_t *json_stubs(const env_t *env)
{
    char commit[48];

    stubs_commit(env, commit, sizeof commit);
    return json_pack("{sosssI}", "path", jpath(env->typeshed_stdlib), "typeshed_commit", commit,
                     "modules", (json_int_t)env_stub_modules(env));
}

static json_t *json_hooks(const env_t *env)
{
    return json_pack("{sososb}", "finders", jstrings(env->hook_finders, env->n_hook_finders),
                     "names", jstrings(env->hook_names, env->n_hook_names), "unknown",
                     env->hook_unknown);
}

static json_t *json_search_path(const env_t *env)
{
    json_t *a = json_array();

    for (size_t i = 0; a != NULL && i < env->n_paths; i++)
        if (json_array_append_new(a, json_pack("{soss}", "path", jpath(env->paths[i]), "kind",
                                               env_path_kind_name(env->path_kinds[i]))) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

st_rc_t env_print_json(const env_t *env, FILE *out, st_err_t *err)
{
    json_t *doc = json_pack("{sososososo}", "target", json_target(env), "interpreter",
                            json_interpreter(env), "stubs", json_stubs(env), "hooks",
                            json_hooks(env), "search_path", json_search_path(env));
    int rc;

    if (doc == NULL)
        return st_fail(err, ST_ENOMEM, "out of memory writing the environment");
    rc = json_dumpf(doc, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(doc);
    if (rc != 0 || fputc('\n', out) == EOF || ferror(out))
        return st_fail(err, ST_EIO, "cannot write the environment");
    return ST_OK;
}
