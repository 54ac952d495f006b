/* env_query.c - asking a Python interpreter about itself, and keeping its
 * answer.
 *
 * The interpreter runs one fixed script (no shell; standard input
 * /dev/null; its own process group, so that a wrapper such as a pyenv shim
 * and the interpreter it starts are both killed on a timeout) that prints
 * one JSON object: version, platform, prefix, the stdlib directory, sys.path
 * after `site` ran (each entry with what put it there), the site-packages
 * directories and the import hooks of sys.meta_path. Everything it prints
 * is input: bounded (ENV_QUERY_MAX_BYTES, so many paths, so long) and
 * checked, and anything else is "no answer" with what it printed.
 *
 * Asking costs 20 ms for a plain interpreter and half a second for a pyenv
 * shim, so the answer is cached in a small file per interpreter under the
 * cache directory (python/<key>.json), keyed by the interpreter's path as
 * found (two virtual environments share one real executable), its real
 * path, size and mtime. A cached answer is used only while the executable
 * it ran, the site-packages directories and a venv's pyvenv.cfg keep their
 * mtimes: installing a package with a .pth file or an editable install
 * changes its directory. A file that does not read back is a miss, and is
 * rewritten. */
#include "run/env_int.h"

#include "common/alloc.h"
#include "common/buf.h"
#include "common/clock.h"
#include "common/digest.h"
#include "common/file.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define ENV_MAX_ENTRIES 4096 /* sys.path entries, site dirs, hooks, names each */
#define ENV_STDERR_KEEP 4096
#define ENV_CACHE_VERSION 1

/* Runs under `python -I -S`: site is imported and run by hand, after
 * sys.path is noted, so that what .pth files add can be told apart. Kept
 * parseable by Python 2, so that one gets a clear message rather than a
 * SyntaxError. Paths that are not UTF-8 are left out (JSON cannot carry
 * them). */
static const char script[] =
    "import sys, os, json\n"
    "before = list(sys.path)\n"
    "import site\n"
    "site.main()\n"
    "def ok(p):\n"
    "    try:\n"
    "        p.encode('utf-8')\n"
    "    except Exception:\n"
    "        return False\n"
    "    return True\n"
    "def text(p):\n"
    "    return p if p and ok(p) else None\n"
    "try:\n"
    "    import sysconfig\n"
    "    lib = sysconfig.get_paths()['stdlib']\n"
    "except Exception:\n"
    "    lib = None\n"
    "try:\n"
    "    sites = [p for p in site.getsitepackages() if ok(p)]\n"
    "except Exception:\n"
    "    sites = []\n"
    "norm = os.path.normpath\n"
    "venv = sys.prefix != getattr(sys, 'base_prefix', sys.prefix)\n"
    "path = []\n"
    "for p in sys.path:\n"
    "    if not p or not ok(p):\n"
    "        continue\n"
    "    if lib and norm(p) == norm(lib):\n"
    "        k = 'stdlib'\n"
    "    elif os.path.basename(norm(p)) == 'lib-dynload':\n"
    "        k = 'lib-dynload'\n"
    "    elif p in sites:\n"
    "        inside = norm(p).startswith(norm(sys.prefix) + os.sep)\n"
    "        k = 'venv' if venv and inside else 'site'\n"
    "    elif p not in before:\n"
    "        k = 'pth'\n"
    "    else:\n"
    "        k = 'other'\n"
    "    path.append([p, k])\n"
    "standard = ('BuiltinImporter', 'FrozenImporter', 'PathFinder')\n"
    "internal = ('_frozen_importlib', '_frozen_importlib_external',\n"
    "            'importlib._bootstrap', 'importlib._bootstrap_external',\n"
    "            'importlib.machinery')\n"
    "hooks = []\n"
    "for f in sys.meta_path:\n"
    "    c = f if isinstance(f, type) else type(f)\n"
    "    n = getattr(c, '__name__', '?')\n"
    "    m = getattr(c, '__module__', None) or '?'\n"
    "    if n in standard and m in internal:\n"
    "        continue\n"
    "    names = None\n"
    "    if m.startswith('__editable__'):\n"
    "        mod = sys.modules.get(m)\n"
    "        mapping = getattr(mod, 'MAPPING', None)\n"
    "        if isinstance(mapping, dict):\n"
    "            spaces = getattr(mod, 'NAMESPACES', None) or {}\n"
    "            keys = list(mapping) + list(spaces)\n"
    "            names = [k.split('.')[0] for k in keys if isinstance(k, str)]\n"
    "    elif m == '_distutils_hack' and n == 'DistutilsMetaFinder':\n"
    "        names = ['distutils']\n"
    "    elif m == '_virtualenv' and n == '_Finder':\n"
    "        names = []\n"
    "    hooks.append({'finder': m + '.' + n, 'names': names})\n"
    "print(json.dumps({'strata': 1, 'version': list(sys.version_info[:2]),\n"
    "                  'platform': sys.platform, 'prefix': text(sys.prefix),\n"
    "                  'venv': venv, 'executable': text(sys.executable),\n"
    "                  'stdlib': text(lib), 'sites': sites, 'path': path,\n"
    "                  'hooks': hooks}))\n";

/* ---- running it ---------------------------------------------------------- */

/* What the child did. */
typedef struct {
    buf_t out, err;
    bool too_much;  /* printed more than ENV_QUERY_MAX_BYTES */
    bool timed_out; /* killed at the deadline */
    int status;     /* waitpid's */
} child_t;

/* Reads what fd has into b, keeping at most keep bytes in all (*over set
 * when more came); false at end of file or on an error. */
static bool drain(int fd, buf_t *b, size_t keep, bool *over)
{
    char chunk[16384];
    ssize_t n = read(fd, chunk, sizeof chunk);

    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return true;
    if (n <= 0)
        return false;
    if (b->len + (size_t)n > keep) {
        *over = true;
        n = (ssize_t)(keep - b->len);
    }
    return buf_append(b, chunk, (size_t)n) == ST_OK;
}

/* Reads the child's stdout and stderr until both end, too much comes, or
 * the deadline (a clock_ms value) passes. */
static void collect(int out_fd, int err_fd, uint64_t deadline, child_t *c)
{
    struct pollfd p[2] = {{.fd = out_fd, .events = POLLIN}, {.fd = err_fd, .events = POLLIN}};
    bool err_over = false;

    while (p[0].fd >= 0 || p[1].fd >= 0) {
        uint64_t now = clock_ms();

        if (now >= deadline) {
            c->timed_out = true;
            return;
        }
        if (poll(p, 2, (int)(deadline - now)) < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        if (p[0].revents != 0 && !drain(out_fd, &c->out, ENV_QUERY_MAX_BYTES, &c->too_much))
            p[0].fd = -1;
        if (c->too_much)
            return;
        /* the start of stderr is kept, the rest read and dropped: a child
         * blocked on a full pipe would never answer */
        if (p[1].revents != 0 && !drain(err_fd, &c->err, ENV_STDERR_KEEP, &err_over))
            p[1].fd = -1;
    }
}

/* Waits for pid until deadline, then kills its process group. */
static void reap(pid_t pid, uint64_t deadline, child_t *c)
{
    const struct timespec pause = {0, 5 * 1000 * 1000};

    if (!c->timed_out && !c->too_much) {
        while (clock_ms() < deadline) {
            pid_t r = waitpid(pid, &c->status, WNOHANG);

            if (r == pid || (r < 0 && errno != EINTR))
                return;
            nanosleep(&pause, NULL);
        }
        c->timed_out = true;
    }
    kill(-pid, SIGKILL);
    while (waitpid(pid, &c->status, 0) < 0 && errno == EINTR)
        ;
}

/* Starts python on the script with stdout and stderr on pipes. */
static int spawn(const char *python, int out[2], int errp[2], pid_t *pid)
{
    char *argv[] = {(char *)python, "-I", "-S", "-c", (char *)script, NULL};
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, pipe_default;
    int rc;

    sigemptyset(&pipe_default);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
    posix_spawnattr_init(&at);
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&at, &none);
    sigaddset(&pipe_default, SIGPIPE); /* strata ignores it; the child need not */
    posix_spawnattr_setsigdefault(&at, &pipe_default);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);
    rc = posix_spawn(pid, python, &fa, &at, argv, environ);
    posix_spawnattr_destroy(&at);
    posix_spawn_file_actions_destroy(&fa);
    return rc;
}

/* The last non-empty line of text, cut to 160 bytes, into line. */
static void last_line(const buf_t *text, char *line, size_t cap)
{
    size_t end = text->len, start;

    while (end > 0 && (text->data[end - 1] == '\n' || text->data[end - 1] == '\r' ||
                       text->data[end - 1] == ' '))
        end--;
    start = end;
    while (start > 0 && text->data[start - 1] != '\n')
        start--;
    snprintf(line, cap, "%.*s", (int)(end - start > 160 ? 160 : end - start),
             text->len > 0 ? (const char *)text->data + start : "");
}

/* What went wrong with a child that ran, or ST_OK. */
static st_rc_t child_failure(const char *python, const child_t *c, unsigned timeout_ms,
                             st_err_t *err)
{
    char line[200];

    last_line(&c->err, line, sizeof line);
    if (c->timed_out)
        return st_fail(err, ST_EINVAL, "%s: no answer in %u ms", python, timeout_ms);
    if (c->too_much)
        return st_fail(err, ST_EINVAL, "%s: printed more than %u bytes", python,
                       ENV_QUERY_MAX_BYTES);
    if (WIFSIGNALED(c->status))
        return st_fail(err, ST_EINVAL, "%s: killed by signal %d%s%s", python, WTERMSIG(c->status),
                       line[0] != '\0' ? ": " : "", line);
    if (!WIFEXITED(c->status) || WEXITSTATUS(c->status) != 0)
        return st_fail(err, ST_EINVAL, "%s: exited %d%s%s", python, WEXITSTATUS(c->status),
                       line[0] != '\0' ? ": " : "", line);
    return ST_OK;
}

/* Runs the script under python; on ST_OK c->out holds what it printed (the
 * caller frees c's buffers either way). */
static st_rc_t run_script(const char *python, unsigned timeout_ms, child_t *c, st_err_t *err)
{
    int out[2] = {-1, -1}, errp[2] = {-1, -1}, rc;
    uint64_t deadline = clock_ms() + timeout_ms;
    pid_t pid;

    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0) {
        rc = errno;
        if (out[0] >= 0)
            close(out[0]), close(out[1]);
        return st_fail(err, ST_EINVAL, "%s: cannot run it: %s", python, strerror(rc));
    }
    rc = spawn(python, out, errp, &pid);
    close(out[1]);
    close(errp[1]);
    if (rc == 0) {
        collect(out[0], errp[0], deadline, c);
        reap(pid, deadline, c);
    }
    close(out[0]);
    close(errp[0]);
    if (rc != 0)
        return st_fail(err, ST_EINVAL, "%s: cannot run it: %s", python, strerror(rc));
    return child_failure(python, c, timeout_ms, err);
}

/* ---- reading the answer --------------------------------------------------- */

static const char *const kind_words[] = {
    [ENV_PATH_OTHER] = "other", [ENV_PATH_STDLIB] = "stdlib",  [ENV_PATH_DYNLOAD] = "lib-dynload",
    [ENV_PATH_SITE] = "site",   [ENV_PATH_VENV_SITE] = "venv", [ENV_PATH_PTH] = "pth"};

/* A string of at most PATH_MAX bytes without NUL, or NULL. */
static const char *jtext(const json_t *v)
{
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= PATH_MAX ||
        strlen(json_string_value(v)) != json_string_length(v))
        return NULL;
    return json_string_value(v);
}

/* What the answer fills, built apart so that env stays untouched on error. */
typedef struct {
    env_t e;
    env__said_t said;
    const json_t *sites; /* borrowed from the answer */
    const char *exe;     /* ditto */
} answer_t;

static void answer_free(answer_t *a)
{
    env_free(&a->e);
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Adds sys.path's entry item ([path, kind]) when it is a directory not met
 * yet. */
static st_rc_t add_path(answer_t *a, const json_t *item)
{
    const char *p = jtext(json_array_get(item, 0)), *k = jtext(json_array_get(item, 1));
    env_path_kind_t kind = ENV_PATH_OTHER;

    if (!json_is_array(item) || p == NULL || k == NULL)
        return ST_ECORRUPT;
    if (p[0] != '/' || !is_dir(p))
        return ST_OK;
    for (size_t i = 0; i < a->e.n_paths; i++)
        if (strcmp(a->e.paths[i], p) == 0)
            return ST_OK;
    for (size_t i = 0; i < sizeof kind_words / sizeof kind_words[0]; i++)
        if (strcmp(kind_words[i], k) == 0)
            kind = (env_path_kind_t)i;
    if ((a->e.paths[a->e.n_paths] = env__strdup(p)) == NULL)
        return ST_ENOMEM;
    a->e.path_kinds[a->e.n_paths++] = kind;
    return ST_OK;
}

/* Adds name to the hook names unless it is there. */
static st_rc_t add_hook_name(answer_t *a, const char *name)
{
    char **grown;

    for (size_t i = 0; i < a->e.n_hook_names; i++)
        if (strcmp(a->e.hook_names[i], name) == 0)
            return ST_OK;
    if (a->e.n_hook_names >= ENV_MAX_ENTRIES)
        return ST_ECORRUPT;
    grown = st_realloc(a->e.hook_names, (a->e.n_hook_names + 1) * sizeof *grown);
    if (grown == NULL)
        return ST_ENOMEM;
    a->e.hook_names = grown;
    if ((grown[a->e.n_hook_names] = env__strdup(name)) == NULL)
        return ST_ENOMEM;
    a->e.n_hook_names++;
    return ST_OK;
}

/* Reads one hook ({"finder": "m.C", "names": [...] or null}). */
static st_rc_t add_hook(answer_t *a, const json_t *hook)
{
    const char *finder = jtext(json_object_get(hook, "finder"));
    const json_t *names = json_object_get(hook, "names");
    size_t i;
    st_rc_t rc;

    if (finder == NULL || (!json_is_array(names) && !json_is_null(names)))
        return ST_ECORRUPT;
    if ((a->e.hook_finders[a->e.n_hook_finders] = env__strdup(finder)) == NULL)
        return ST_ENOMEM;
    a->e.n_hook_finders++;
    if (json_is_null(names)) {
        a->e.hook_unknown = true;
        return ST_OK;
    }
    for (i = 0; i < json_array_size(names); i++) {
        const char *name = jtext(json_array_get(names, i));

        if (name == NULL)
            return ST_ECORRUPT;
        if ((rc = add_hook_name(a, name)) != ST_OK)
            return rc;
    }
    return ST_OK;
}

/* The version and platform the interpreter says. */
static st_rc_t read_said(const json_t *root, env__said_t *said)
{
    const json_t *v = json_object_get(root, "version");
    json_int_t major = json_integer_value(json_array_get(v, 0));
    json_int_t minor = json_integer_value(json_array_get(v, 1));
    const char *platform = jtext(json_object_get(root, "platform"));

    if (json_integer_value(json_object_get(root, "strata")) != 1 || json_array_size(v) != 2 ||
        !json_is_integer(json_array_get(v, 0)) || !json_is_integer(json_array_get(v, 1)) ||
        major < 1 || major > 99 || minor < 0 || minor > 99)
        return ST_ECORRUPT;
    said->major = (unsigned)major;
    said->minor = (unsigned)minor;
    said->platform[0] = '\0';
    if (platform != NULL && env__valid_platform(platform))
        snprintf(said->platform, sizeof said->platform, "%s", platform);
    return ST_OK;
}

/* The optional strings of the answer. */
static st_rc_t read_strings(const json_t *root, answer_t *a)
{
    const char *prefix = jtext(json_object_get(root, "prefix"));
    const char *lib = jtext(json_object_get(root, "stdlib"));

    a->exe = jtext(json_object_get(root, "executable"));
    a->e.venv = json_is_true(json_object_get(root, "venv"));
    if ((prefix != NULL && (a->e.prefix = env__strdup(prefix)) == NULL) ||
        (lib != NULL && (a->e.stdlib_dir = env__strdup(lib)) == NULL))
        return ST_ENOMEM;
    return ST_OK;
}

/* Reads the answer object into a. ST_ECORRUPT: not an answer. */
static st_rc_t read_answer(const json_t *root, answer_t *a)
{
    const json_t *path = json_object_get(root, "path"), *hooks = json_object_get(root, "hooks");
    size_t i;
    st_rc_t rc;

    a->sites = json_object_get(root, "sites");
    if (!json_is_object(root) || !json_is_array(path) || !json_is_array(hooks) ||
        !json_is_array(a->sites) || json_array_size(path) > ENV_MAX_ENTRIES ||
        json_array_size(hooks) > ENV_MAX_ENTRIES || json_array_size(a->sites) > ENV_MAX_ENTRIES)
        return ST_ECORRUPT;
    if ((rc = read_said(root, &a->said)) != ST_OK || (rc = read_strings(root, a)) != ST_OK)
        return rc;
    for (i = 0; i < json_array_size(a->sites); i++)
        if (jtext(json_array_get(a->sites, i)) == NULL)
            return ST_ECORRUPT;
    a->e.paths = st_calloc(json_array_size(path) + 1, sizeof *a->e.paths);
    a->e.path_kinds = st_calloc(json_array_size(path) + 1, sizeof *a->e.path_kinds);
    a->e.hook_finders = st_calloc(json_array_size(hooks) + 1, sizeof *a->e.hook_finders);
    if (a->e.paths == NULL || a->e.path_kinds == NULL || a->e.hook_finders == NULL)
        return ST_ENOMEM;
    for (i = 0; i < json_array_size(path); i++)
        if ((rc = add_path(a, json_array_get(path, i))) != ST_OK)
            return rc;
    for (i = 0; i < json_array_size(hooks); i++)
        if ((rc = add_hook(a, json_array_get(hooks, i))) != ST_OK)
            return rc;
    return ST_OK;
}

/* ---- the cache ------------------------------------------------------------ */

/* The identity of a file: size and mtime; -1 each when it is absent. */
typedef struct {
    json_int_t size, mtime_ns;
} ident_t;

static ident_t ident_of(const char *path)
{
    struct stat st;

    if (stat(path, &st) != 0)
        return (ident_t){-1, -1};
    return (ident_t){(json_int_t)st.st_size,
                     (json_int_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec};
}

/* The cache file of the interpreter at python (real path real, identity
 * id) into path; false when there is none (no cache, names too long). */
static bool cache_file(const char *cache_dir, const char *python, const char *real, ident_t id,
                       char *path, size_t cap)
{
    char text[2 * PATH_MAX + 64], hex[DIGEST_HEX_LEN + 1];
    digest_t d;
    int n;

    if (cache_dir == NULL)
        return false;
    n = snprintf(text, sizeof text, "%d\n%s\n%s\n%lld\n%lld", ENV_CACHE_VERSION, python, real,
                 (long long)id.size, (long long)id.mtime_ns);
    if (n < 0 || (size_t)n >= sizeof text || digest_sha256(text, (size_t)n, &d) != ST_OK)
        return false;
    digest_to_hex(&d, hex);
    n = snprintf(path, cap, "%s/python/%.32s.json", cache_dir, hex);
    return n > 0 && (size_t)n < cap;
}

/* The files whose mtimes an answer depends on: the executable it ran, the
 * site-packages directories, a venv's pyvenv.cfg; as [path, size, mtime]
 * now. NULL when out of memory. */
static json_t *watched_now(const answer_t *a)
{
    json_t *list = json_array();
    char cfg[PATH_MAX + 16];
    size_t i;

    if (list == NULL)
        return NULL;
    if (a->exe != NULL)
        json_array_append_new(list, json_string(a->exe));
    for (i = 0; i < json_array_size(a->sites); i++)
        json_array_append(list, json_array_get(a->sites, i));
    if (a->e.venv && a->e.prefix != NULL &&
        snprintf(cfg, sizeof cfg, "%s/pyvenv.cfg", a->e.prefix) < (int)sizeof cfg)
        json_array_append_new(list, json_string(cfg));
    for (i = 0; i < json_array_size(list); i++) {
        ident_t id = ident_of(json_string_value(json_array_get(list, i)));
        json_t *row = json_pack("[OII]", json_array_get(list, i), id.size, id.mtime_ns);

        if (row == NULL || json_array_set_new(list, i, row) != 0) {
            json_decref(list);
            return NULL;
        }
    }
    return list;
}

/* The JSON document of the cache file at path; NULL when it is absent, not
 * a regular file (a FIFO planted there must not hang the run), too big or
 * not JSON. */
static json_t *load_cache_file(const char *path)
{
    json_t *root;
    uint8_t *text;
    size_t len;

    if (!file_read_all(path, 2 * ENV_QUERY_MAX_BYTES, &text, &len))
        return NULL;
    root = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, NULL);
    st_free(text);
    return root;
}

/* Reads the cache file at path; ST_OK when it holds an answer for this
 * interpreter whose watched files are unchanged. */
static st_rc_t cache_read(const char *path, const char *python, const char *real, answer_t *a)
{
    json_t *root = load_cache_file(path);
    json_t *now = NULL;
    const char *p = jtext(json_object_get(root, "python"));
    const char *r = jtext(json_object_get(root, "real"));
    st_rc_t rc = ST_ECORRUPT;

    if (root == NULL || p == NULL || r == NULL || strcmp(p, python) != 0 || strcmp(r, real) != 0 ||
        json_integer_value(json_object_get(root, "version")) != ENV_CACHE_VERSION)
        goto done;
    if ((rc = read_answer(json_object_get(root, "answer"), a)) != ST_OK)
        goto done;
    rc = ST_ENOENT;
    if ((now = watched_now(a)) != NULL && json_equal(now, json_object_get(root, "watched")))
        rc = ST_OK;
done:
    json_decref(now);
    json_decref(root);
    return rc;
}

/* Writes answer (the interpreter's object) for the interpreter at python
 * to path, through a fresh file renamed over it. Failures cost time only. */
static void cache_write(const char *path, const char *python, const char *real, json_t *answer,
                        const answer_t *a)
{
    char dir[PATH_MAX];
    json_t *root = json_pack("{sisssssOso}", "version", ENV_CACHE_VERSION, "python", python, "real",
                             real, "answer", answer, "watched", watched_now(a));
    char *text = root != NULL ? json_dumps(root, JSON_COMPACT) : NULL;
    const char *slash = strrchr(path, '/');
    st_err_t ignored = {0};

    snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    if (text == NULL)
        goto done;
    /* python/, the cache directory, and its parent (the shared cache's
     * ~/.cache may not exist yet): no further up, so that a mistyped
     * directory does not grow a tree */
    if (mkdir(dir, 0777) != 0 && errno == ENOENT) {
        char *cut[2] = {NULL, NULL};
        for (int k = 0; k < 2; k++)
            if ((cut[k] = strrchr(dir, '/')) != NULL && cut[k] != dir)
                *cut[k] = '\0';
            else
                cut[k] = NULL;
        for (int k = 1; k >= 0; k--) {
            (void)mkdir(dir, 0777);
            if (cut[k] != NULL)
                *cut[k] = '/';
        }
        (void)mkdir(dir, 0777);
    }
    (void)file_replace(path, text, strlen(text), &ignored);
done:
    free(text);
    json_decref(root);
}

/* ---- asking ---------------------------------------------------------------- */

/* Parses what the child printed into a (and *answer, the object kept for
 * the cache). */
static st_rc_t parse_printed(const char *python, const buf_t *out, answer_t *a, json_t **answer,
                             st_err_t *err)
{
    json_t *root = json_loadb(out->len > 0 ? (const char *)out->data : "", out->len,
                              JSON_REJECT_DUPLICATES, NULL);
    char first[100];
    st_rc_t rc = root != NULL ? read_answer(root, a) : ST_ECORRUPT;

    if (rc == ST_OK) {
        *answer = root;
        return ST_OK;
    }
    json_decref(root);
    if (rc == ST_ENOMEM)
        return st_fail(err, ST_ENOMEM, "out of memory reading %s's answer", python);
    snprintf(first, sizeof first, "%.*s", (int)strcspn(out->len > 0 ? (char *)out->data : "", "\n"),
             out->len > 0 ? (const char *)out->data : "");
    return st_fail(err, ST_EINVAL, "%s: not a Python interpreter's answer: '%.60s'", python, first);
}

/* Runs the interpreter and reads its answer into a. */
static st_rc_t ask_fresh(const char *python, const env_opts_t *opts, answer_t *a, json_t **answer,
                         st_err_t *err)
{
    child_t c = {.status = 0};
    unsigned timeout = opts->timeout_ms != 0 ? opts->timeout_ms : ENV_QUERY_TIMEOUT_MS;
    st_rc_t rc;

    buf_init(&c.out);
    buf_init(&c.err);
    rc = run_script(python, timeout, &c, err);
    if (rc == ST_OK)
        rc = parse_printed(python, &c.out, a, answer, err);
    buf_free(&c.out);
    buf_free(&c.err);
    return rc;
}

st_rc_t env__ask(const char *python, const env_opts_t *opts, env_t *env, env__said_t *said,
                 st_err_t *err)
{
    char real[PATH_MAX], path[PATH_MAX + 64], shared[PATH_MAX + 64];
    answer_t a = {.sites = NULL};
    json_t *answer = NULL;
    bool cacheable, in_shared;
    ident_t id;
    st_rc_t rc;

    if (realpath(python, real) == NULL)
        return st_fail(err, ST_EINVAL, "%s: %s", python, strerror(errno));
    id = ident_of(real);
    cacheable = cache_file(opts->cache_dir, python, real, id, path, sizeof path);
    /* the user's shared cache keeps answers too: a new clone of any project
     * does not ask an interpreter this user's runs asked already */
    in_shared = cache_file(opts->shared_dir, python, real, id, shared, sizeof shared);
    if (cacheable && !opts->refresh && cache_read(path, python, real, &a) == ST_OK)
        a.e.cached = true;
    else if (in_shared && !opts->refresh) {
        answer_free(&a);
        a = (answer_t){.sites = NULL};
        a.e.cached = cache_read(shared, python, real, &a) == ST_OK;
    }
    if (!a.e.cached) {
        answer_free(&a);
        a = (answer_t){.sites = NULL};
        if ((rc = ask_fresh(python, opts, &a, &answer, err)) != ST_OK) {
            answer_free(&a);
            return rc;
        }
        if (cacheable)
            cache_write(path, python, real, answer, &a);
        if (in_shared)
            cache_write(shared, python, real, answer, &a);
        json_decref(answer);
    }
    if (a.said.major != 3) {
        answer_free(&a);
        return st_fail(err, ST_EINVAL, "%s: Python %u.%u: strata checks Python 3", python,
                       a.said.major, a.said.minor);
    }
    if ((a.e.python_real = env__strdup(real)) == NULL) {
        answer_free(&a);
        return st_fail(err, ST_ENOMEM, "out of memory");
    }
    env->python_real = a.e.python_real;
    env->prefix = a.e.prefix;
    env->venv = a.e.venv;
    env->paths = a.e.paths;
    env->path_kinds = a.e.path_kinds;
    env->n_paths = a.e.n_paths;
    env->stdlib_dir = a.e.stdlib_dir;
    env->hook_names = a.e.hook_names;
    env->n_hook_names = a.e.n_hook_names;
    env->hook_unknown = a.e.hook_unknown;
    env->hook_finders = a.e.hook_finders;
    env->n_hook_finders = a.e.n_hook_finders;
    env->cached = a.e.cached;
    *said = a.said;
    return ST_OK;
}
