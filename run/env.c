/* env.c - finding the environment: the interpreter, the target and the
 * standard library's stubs (see env.h for the order of each).
 *
 * An interpreter the user named (--python, `python` of the configuration)
 * that does not work stops the run: checking against another environment
 * than the one asked for would give answers that look right and are not.
 * One found by looking ($VIRTUAL_ENV, .venv, PATH) that does not work only
 * costs the installed packages: the run goes on with the stubs, and says
 * why. The target is settled after the interpreter answered, since its
 * version and platform are the defaults of the flags. Asking the
 * interpreter and its cache are in env_query.c. */
#include "run/env_int.h"

#include "common/alloc.h"
#include "common/buf.h"
#include "common/digest.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#ifndef STRATA_DATADIR
#define STRATA_DATADIR "/usr/local/share/strata"
#endif

#define ENV_VERSIONS_MAX_BYTES (1u << 20)

char *env__strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *copy = st_malloc(n);

    if (copy != NULL)
        memcpy(copy, s, n);
    return copy;
}

void env__free_strs(char **v, size_t n)
{
    for (size_t i = 0; v != NULL && i < n; i++)
        st_free(v[i]);
    st_free(v);
}

bool env__valid_platform(const char *s)
{
    size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789");
    return n > 0 && n < ENV_MAX_PLATFORM && s[n] == '\0';
}

bool env_valid_platform(const char *name)
{
    return env__valid_platform(name);
}

/* Digits from s into *out (1 or 2, no sign, no leading zero); the end, or
 * NULL. */
static const char *read_number(const char *s, unsigned *out)
{
    size_t n = strspn(s, "0123456789");

    if (n == 0 || n > 2 || (n == 2 && s[0] == '0'))
        return NULL;
    *out = (unsigned)strtoul(s, NULL, 10);
    return s + n;
}

bool env_parse_version(const char *s, unsigned *major, unsigned *minor)
{
    unsigned ma, mi;
    const char *end = read_number(s, &ma);

    if (end == NULL || *end != '.' || ma != 3 || (end = read_number(end + 1, &mi)) == NULL ||
        *end != '\0')
        return false;
    *major = ma;
    *minor = mi;
    return true;
}

const char *env_source_name(env_source_t source)
{
    static const char *const names[] = {"none",        "flag",         "config",
                                        "virtual_env", "project_venv", "path"};
    return (size_t)source < sizeof names / sizeof names[0] ? names[source] : "none";
}

const char *env_target_source_name(env_target_source_t from)
{
    static const char *const names[] = {"default", "interpreter", "flag", "config"};
    return (size_t)from < sizeof names / sizeof names[0] ? names[from] : "default";
}

const char *env_path_kind_name(env_path_kind_t kind)
{
    static const char *const names[] = {"other",         "stdlib", "lib-dynload",
                                        "site-packages", "venv",   "pth"};
    return (size_t)kind < sizeof names / sizeof names[0] ? names[kind] : "other";
}

void env_free(env_t *env)
{
    if (env == NULL)
        return;
    st_free(env->python);
    st_free(env->python_real);
    st_free(env->prefix);
    env__free_strs(env->paths, env->n_paths);
    st_free(env->path_kinds);
    st_free(env->stdlib_dir);
    env__free_strs(env->hook_names, env->n_hook_names);
    env__free_strs(env->hook_finders, env->n_hook_finders);
    st_free(env->typeshed_stdlib);
    st_free(env->problem);
    *env = (env_t){0};
}

/* ---- the target ----------------------------------------------------------- */

/* This host's sys.platform: linux, darwin, else the system's name in lower
 * case and its major release (freebsd14, as Python names it). */
static void host_platform(char *out)
{
    struct utsname u;
    size_t n = 0;

#if defined(__linux__)
    strcpy(out, "linux");
    return;
#elif defined(__APPLE__)
    strcpy(out, "darwin");
    return;
#endif
    if (uname(&u) != 0) {
        strcpy(out, "unknown");
        return;
    }
    for (const char *s = u.sysname; *s != '\0' && n + 1 < ENV_MAX_PLATFORM; s++)
        if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9'))
            out[n++] = (char)(*s | (*s >= 'A' && *s <= 'Z' ? 0x20 : 0));
    for (const char *s = u.release; *s >= '0' && *s <= '9' && n + 1 < ENV_MAX_PLATFORM; s++)
        out[n++] = *s;
    out[n] = '\0';
    if (n == 0)
        strcpy(out, "unknown");
}

/* The version and platform the flags and the configuration say, checked
 * before anything runs. */
static st_rc_t read_target(const env_opts_t *o, env_t *e, st_err_t *err)
{
    const char *platform = o->platform != NULL ? o->platform : o->platform_config;

    if (o->version != NULL) {
        if (!env_parse_version(o->version, &e->major, &e->minor))
            return st_fail(err, ST_EINVAL,
                           "invalid value '%.40s' for --python-version (expected 3.0 to 3.99, "
                           "such as 3.12)",
                           o->version);
        e->version_from = ENV_TARGET_FLAG;
    } else if (o->target_version != NULL) {
        const char *t = o->target_version, *end;

        if (strncmp(t, "py3", 3) != 0 || (end = read_number(t + 3, &e->minor)) == NULL ||
            *end != '\0')
            return st_fail(err, ST_EINVAL,
                           "invalid target-version '%.40s' (expected py3 and the minor version, "
                           "such as py312)",
                           t);
        e->major = 3;
        e->version_from = ENV_TARGET_CONFIG;
    }
    if (platform != NULL) {
        if (!env__valid_platform(platform))
            return st_fail(err, ST_EINVAL,
                           "invalid %s '%.40s' (expected a sys.platform value: linux, darwin, "
                           "win32...: 1 to 31 lower-case letters and digits)",
                           o->platform != NULL ? "value for --python-platform" : "python-platform",
                           platform);
        snprintf(e->platform, sizeof e->platform, "%s", platform);
        e->platform_from = o->platform != NULL ? ENV_TARGET_FLAG : ENV_TARGET_CONFIG;
    }
    return ST_OK;
}

/* What the flags left open: the interpreter's, else the defaults. */
static void settle_target(env_t *e, const env__said_t *said)
{
    if (e->version_from == ENV_TARGET_DEFAULT && e->found) {
        e->major = said->major;
        e->minor = said->minor;
        e->version_from = ENV_TARGET_INTERPRETER;
    } else if (e->version_from == ENV_TARGET_DEFAULT) {
        e->major = ENV_DEFAULT_MAJOR;
        e->minor = ENV_DEFAULT_MINOR;
    }
    if (e->platform_from == ENV_TARGET_DEFAULT && e->found && said->platform[0] != '\0') {
        snprintf(e->platform, sizeof e->platform, "%s", said->platform);
        e->platform_from = ENV_TARGET_INTERPRETER;
    } else if (e->platform_from == ENV_TARGET_DEFAULT) {
        host_platform(e->platform);
    }
}

/* ---- the stubs ------------------------------------------------------------ */

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The stdlib directory of dir (dir itself or dir/stdlib, the one holding
 * VERSIONS), real, into out; false when neither holds it. */
static bool stubs_in(const char *dir, char *out)
{
    char path[PATH_MAX + 32];

    for (int i = 0; i < 2; i++) {
        const char *sub = i == 0 ? "" : "/stdlib";

        if (snprintf(path, sizeof path, "%s%s/VERSIONS", dir, sub) >= (int)sizeof path ||
            !is_file(path))
            continue;
        path[strlen(path) - strlen("/VERSIONS")] = '\0';
        return realpath(path, out) != NULL;
    }
    return false;
}

static st_rc_t find_stubs(env_t *e, st_err_t *err)
{
    const char *given = getenv("STRATA_TYPESHED");
    char found[PATH_MAX], exe[PATH_MAX], dir[PATH_MAX + 64];
    ssize_t n;
    bool ok = false;

    if (given != NULL && given[0] != '\0') {
        if (!stubs_in(given, found))
            return st_fail(err, ST_EINVAL, "STRATA_TYPESHED=%s: no stdlib/VERSIONS there", given);
        ok = true;
    }
    if (!ok && (n = readlink("/proc/self/exe", exe, sizeof exe - 1)) > 0) {
        exe[n] = '\0';
        *strrchr(exe, '/') = '\0';
        snprintf(dir, sizeof dir, "%s/share/strata/typeshed", exe);
        ok = stubs_in(dir, found);
        snprintf(dir, sizeof dir, "%s/../share/strata/typeshed", exe);
        ok = ok || stubs_in(dir, found);
    }
    ok = ok || stubs_in(STRATA_DATADIR "/typeshed", found);
    if (ok && (e->typeshed_stdlib = env__strdup(found)) == NULL)
        return st_fail(err, ST_ENOMEM, "out of memory");
    return ST_OK;
}

/* "X.Y" at s into a comparable number (X * 100 + Y); the end, or NULL. */
static const char *read_dotted(const char *s, unsigned *out)
{
    unsigned major, minor;

    if ((s = read_number(s, &major)) == NULL || *s != '.' ||
        (s = read_number(s + 1, &minor)) == NULL)
        return NULL;
    *out = major * 100 + minor;
    return s;
}

/* True when VERSIONS' line ("name: 3.0-", "name: 3.3-3.11", a comment)
 * lists a module for version v (X * 100 + Y). */
static bool line_has(const char *line, size_t len, unsigned v)
{
    char text[256];
    const char *s;
    unsigned lo, hi = 9999;

    if (len >= sizeof text)
        return false;
    memcpy(text, line, len);
    text[len] = '\0';
    text[strcspn(text, "#")] = '\0';
    if ((s = strchr(text, ':')) == NULL || s == text)
        return false;
    s += strspn(s + 1, " \t") + 1;
    if ((s = read_dotted(s, &lo)) == NULL || *s++ != '-')
        return false;
    if (*s != '\0' && *s != ' ' && *s != '\t' && *s != '\r' && (s = read_dotted(s, &hi)) == NULL)
        return false;
    return lo <= v && v <= hi;
}

size_t env_stub_modules(const env_t *e)
{
    char path[PATH_MAX + 16], *text;
    size_t n = 0, len;
    FILE *f;

    if (e->typeshed_stdlib == NULL ||
        snprintf(path, sizeof path, "%s/VERSIONS", e->typeshed_stdlib) >= (int)sizeof path ||
        (f = fopen(path, "re")) == NULL)
        return 0;
    if ((text = st_malloc(ENV_VERSIONS_MAX_BYTES + 1)) != NULL) {
        len = fread(text, 1, ENV_VERSIONS_MAX_BYTES, f);
        for (size_t at = 0, end; at < len; at = end + 1) {
            end = at;
            while (end < len && text[end] != '\n')
                end++;
            n += line_has(text + at, end - at, e->major * 100 + e->minor);
        }
    }
    st_free(text);
    fclose(f);
    return n;
}

/* ---- the interpreter ------------------------------------------------------- */

static bool is_executable(const char *path)
{
    return is_file(path) && access(path, X_OK) == 0;
}

/* dir/bin/python (or python3) of a virtual environment into out. */
static bool venv_python(const char *dir, char *out, size_t cap)
{
    static const char *const names[] = {"bin/python", "bin/python3"};

    for (size_t i = 0; i < 2; i++)
        if (snprintf(out, cap, "%s/%s", dir, names[i]) < (int)cap && is_executable(out))
            return true;
    return false;
}

/* path made absolute (not resolved: a venv's python is a symlink) into out. */
static bool absolute(const char *path, char *out, size_t cap)
{
    char cwd[PATH_MAX];

    if (path[0] == '/')
        return snprintf(out, cap, "%s", path) < (int)cap;
    if (getcwd(cwd, sizeof cwd) == NULL)
        return false;
    while (path[0] == '.' && path[1] == '/')
        path += 2;
    return snprintf(out, cap, "%s/%s", cwd, path) < (int)cap;
}

/* An interpreter the user named: a file, or a venv's directory. */
static st_rc_t named(const char *given, const char *what, char *out, size_t cap, st_err_t *err)
{
    char python[PATH_MAX];
    struct stat st;

    if (stat(given, &st) != 0)
        return st_fail(err, ST_EINVAL, "%s %s: %s", what, given, strerror(errno));
    if (S_ISDIR(st.st_mode) && !venv_python(given, python, sizeof python))
        return st_fail(err, ST_EINVAL,
                       "%s %s: a directory without bin/python (expected an interpreter or a "
                       "virtual environment)",
                       what, given);
    if (!S_ISDIR(st.st_mode))
        snprintf(python, sizeof python, "%s", given);
    if (!is_executable(python))
        return st_fail(err, ST_EINVAL, "%s %s: not an executable file", what, python);
    if (!absolute(python, out, cap))
        return st_fail(err, ST_EINVAL, "%s %s: path too long", what, given);
    return ST_OK;
}

/* python3 in a directory of $PATH into out (absolute). */
static bool on_path(char *out, size_t cap)
{
    const char *path = getenv("PATH");

    for (const char *p = path != NULL ? path : ""; *p != '\0';) {
        size_t n = strcspn(p, ":");
        char found[PATH_MAX];

        /* an empty entry is the current directory, as for execvp */
        if (snprintf(found, sizeof found, "%.*s/python3", (int)n, n == 0 ? "." : p) <
                (int)sizeof found &&
            is_executable(found))
            return absolute(found, out, cap);
        p += n + (p[n] == ':');
    }
    return false;
}

/* The interpreter to ask, by the order of env.h, into out; ENV_NONE when
 * there is none. */
static st_rc_t choose(const env_opts_t *o, char *out, size_t cap, env_source_t *source,
                      st_err_t *err)
{
    const char *venv = getenv("VIRTUAL_ENV"), *root = o->project_root ? o->project_root : ".";
    char dir[PATH_MAX];

    *source = ENV_NONE;
    if (o->python != NULL || o->python_config != NULL) {
        *source = o->python != NULL ? ENV_FLAG : ENV_CONFIG;
        return named(o->python != NULL ? o->python : o->python_config,
                     o->python != NULL ? "--python" : "the configuration's python", out, cap, err);
    }
    if (venv != NULL && venv[0] != '\0' && venv_python(venv, dir, sizeof dir))
        *source = ENV_VIRTUALENV;
    for (int i = 0; i < 2 && *source == ENV_NONE; i++) {
        char sub[PATH_MAX];

        snprintf(sub, sizeof sub, "%s/%s", root, i == 0 ? ".venv" : "venv");
        if (venv_python(sub, dir, sizeof dir))
            *source = ENV_DOTVENV;
    }
    if (*source != ENV_NONE && !absolute(dir, out, cap))
        return st_fail(err, ST_EINVAL, "%s: path too long", dir);
    if (*source == ENV_NONE && on_path(out, cap))
        *source = ENV_PATH;
    return ST_OK;
}

/* Finds and asks the interpreter; an error only for one the user named. */
static st_rc_t find_python(const env_opts_t *o, env_t *e, env__said_t *said, st_err_t *err)
{
    char python[PATH_MAX];
    st_err_t why = {0};
    st_rc_t rc;

    if ((rc = choose(o, python, sizeof python, &e->source, err)) != ST_OK)
        return rc;
    if (e->source == ENV_NONE) {
        snprintf(why.msg, sizeof why.msg,
                 "no interpreter: none named, none in $VIRTUAL_ENV, no .venv or venv in %s, no "
                 "python3 on PATH",
                 o->project_root != NULL ? o->project_root : ".");
    } else if ((e->python = env__strdup(python)) == NULL) {
        return st_fail(err, ST_ENOMEM, "out of memory");
    } else if ((rc = env__ask(python, o, e, said, &why)) == ST_ENOMEM) {
        return st_fail(err, ST_ENOMEM, "%s", why.msg);
    }
    if (rc == ST_OK && e->source != ENV_NONE) {
        e->found = true;
        return ST_OK;
    }
    if (e->source == ENV_FLAG || e->source == ENV_CONFIG)
        return st_fail(err, ST_EINVAL, "%s %s",
                       e->source == ENV_FLAG ? "--python" : "the configuration's python", why.msg);
    if ((e->problem = env__strdup(why.msg)) == NULL)
        return st_fail(err, ST_ENOMEM, "out of memory");
    return ST_OK;
}

st_rc_t env_find(const env_opts_t *opts, env_t *env, st_err_t *err)
{
    env_t e = {0};
    env__said_t said = {0};
    st_rc_t rc;

    *env = (env_t){0};
    if ((rc = read_target(opts, &e, err)) != ST_OK || (rc = find_stubs(&e, err)) != ST_OK ||
        (!opts->no_interpreter && (rc = find_python(opts, &e, &said, err)) != ST_OK)) {
        env_free(&e);
        return rc;
    }
    settle_target(&e, &said);
    *env = e;
    return ST_OK;
}

static int skip_entry(const struct dirent *e)
{
    return strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
           strcmp(e->d_name, "__pycache__") != 0;
}

/* Byte order, whatever the locale. */
static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

/* The SHA-256 (hex) of the sorted names in dir, or "-" when it cannot be
 * listed. */
static void listing_digest(const char *dir, char out[DIGEST_HEX_LEN + 1])
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, skip_entry, by_name);
    digest_ctx_t *ctx = n >= 0 ? digest_ctx_new() : NULL;
    digest_t dg;

    snprintf(out, DIGEST_HEX_LEN + 1, "-");
    for (int i = 0; ctx != NULL && i < n; i++)
        digest_ctx_update_str(ctx, names[i]->d_name);
    if (ctx != NULL && digest_ctx_final(ctx, &dg) == ST_OK)
        digest_to_hex(&dg, out);
    digest_ctx_destroy(&ctx);
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* env_key_text and env_key_text_shared: each search-path directory named
 * by its modification time, or (shared) by a digest of its listing. */
static char *key_text(const env_t *env, bool shared)
{
    buf_t b;

    buf_init(&b);
    buf_printf(&b, "%u.%u %s\n%s\n%s\n", env->major, env->minor, env->platform,
               env->found && env->python_real != NULL ? env->python_real : "-",
               env->typeshed_stdlib != NULL ? env->typeshed_stdlib : "-");
    for (size_t i = 0; env->found && i < env->n_paths; i++) {
        if (shared) {
            char hex[DIGEST_HEX_LEN + 1];
            listing_digest(env->paths[i], hex);
            buf_printf(&b, "%s %s\n", env->paths[i], hex);
        } else {
            struct stat st;
            if (stat(env->paths[i], &st) != 0)
                memset(&st, 0, sizeof st);
            buf_printf(&b, "%s %lld.%09ld\n", env->paths[i], (long long)st.st_mtim.tv_sec,
                       (long)st.st_mtim.tv_nsec);
        }
    }
    if (buf_append_byte(&b, 0) != ST_OK) {
        buf_free(&b);
        return NULL;
    }
    return (char *)b.data;
}

char *env_key_text_shared(const env_t *env)
{
    return key_text(env, true);
}

char *env_key_text(const env_t *env)
{
    return key_text(env, false);
}
