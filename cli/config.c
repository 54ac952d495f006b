/* config.c - configuration files read into settings, found per directory.
 *
 * Each key has one row in `keys` saying how its value is read and which
 * flag of `strata check` it stands for; the per-run scalars are handed to
 * the option parser (cli_check_set) as text, so a value means and fails in
 * a file exactly as on the command line. Every file read is a config_t
 * whose values keep the file and line they came from, for `strata config`
 * and for messages; `extend` reads the base into the same config_t first.
 * Directories map to the config_t governing them in a hash map keyed by
 * the directory as the walk spells it, so the file system is asked once
 * per directory, however many files it holds. Everything lives in the
 * set's arena; the TOML documents live as long as the set. */
#include "cli/config.h"

#include "cli/toml.h"
#include "common/alloc.h"
#include "common/arena.h"
#include "common/cpus.h"
#include "common/hmap.h"
#include "coordinator/dispatch.h"
#include "run/exec.h"
#include "run/remote.h"
#include "run/report_formats.h"
#include "run/walk.h"
#include "worker/python/scan.h"

#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONFIG_MAX_BYTES (1u << 20)
#define CONFIG_MAX_EXTEND 16
#define CONFIG_MAX_DOCS 256

enum {
    K_SELECT,
    K_EXTEND_SELECT,
    K_IGNORE,
    K_EXTEND_IGNORE,
    K_PER_FILE_IGNORES,
    K_EXCLUDE,
    K_EXTEND_EXCLUDE,
    K_RESPECT_GITIGNORE,
    K_SRC,
    K_TARGET_VERSION,
    K_CACHE_DIR,
    K_OUTPUT_FORMAT,
    K_EXTEND,
    K_JOBS,
    K_WORKERS,
    K_NO_WORKERS,
    K_DURABILITY,
    K_JOB_TIMEOUT,
    K_MAX_FILE_SIZE,
    K_QUIET,
    K_PYTHON,
    K_PYTHON_PLATFORM,
    K_REMOTE_CACHE,
    K_REMOTE_CACHE_UPLOAD,
    K_REMOTE_CACHE_AUTH_FILE,
    K_REMOTE_CACHE_CA,
    K_REMOTE_CACHE_TIMEOUT,
    K_N
};

typedef enum {
    V_CODES,  /* array of rule codes */
    V_GLOBS,  /* array of non-empty strings */
    V_PATHS,  /* array of directories, relative to the file's */
    V_PFI,    /* table: glob -> array of codes */
    V_BOOL,   /* true or false, as the flag */
    V_INT,    /* an integer >= 0, as the flag's value */
    V_STRING, /* a string, as the flag's value */
    V_PATH    /* a path relative to the file's directory */
} vkind_t;

static const struct {
    const char *name;
    vkind_t kind;
    const char *flag; /* the check flag it stands for; NULL: none */
} keys[K_N] = {
    [K_SELECT] = {"select", V_CODES, "--select"},
    [K_EXTEND_SELECT] = {"extend-select", V_CODES, NULL},
    [K_IGNORE] = {"ignore", V_CODES, "--ignore"},
    [K_EXTEND_IGNORE] = {"extend-ignore", V_CODES, NULL},
    [K_PER_FILE_IGNORES] = {"per-file-ignores", V_PFI, NULL},
    [K_EXCLUDE] = {"exclude", V_GLOBS, "--exclude"},
    [K_EXTEND_EXCLUDE] = {"extend-exclude", V_GLOBS, NULL},
    [K_RESPECT_GITIGNORE] = {"respect-gitignore", V_BOOL, "--respect-gitignore"},
    [K_SRC] = {"src", V_PATHS, "--root"},
    [K_TARGET_VERSION] = {"target-version", V_STRING, "--python-version"},
    [K_CACHE_DIR] = {"cache-dir", V_PATH, "--cache-dir"},
    [K_OUTPUT_FORMAT] = {"output-format", V_STRING, "--output-format"},
    [K_EXTEND] = {"extend", V_PATH, NULL},
    [K_JOBS] = {"jobs", V_INT, "--jobs"},
    [K_WORKERS] = {"workers", V_INT, "--workers"},
    [K_NO_WORKERS] = {"no-workers", V_BOOL, "--no-workers"},
    [K_DURABILITY] = {"durability", V_STRING, "--durability"},
    [K_JOB_TIMEOUT] = {"job-timeout", V_INT, "--job-timeout"},
    [K_MAX_FILE_SIZE] = {"max-file-size", V_INT, "--max-file-size"},
    [K_QUIET] = {"quiet", V_BOOL, "--quiet"},
    [K_PYTHON] = {"python", V_PATH, "--python"},
    [K_PYTHON_PLATFORM] = {"python-platform", V_STRING, "--python-platform"},
    [K_REMOTE_CACHE] = {"remote-cache", V_STRING, "--remote-cache"},
    [K_REMOTE_CACHE_UPLOAD] = {"remote-cache-upload", V_BOOL, "--remote-cache-upload"},
    [K_REMOTE_CACHE_AUTH_FILE] = {"remote-cache-auth-file", V_PATH, "--remote-cache-auth-file"},
    [K_REMOTE_CACHE_CA] = {"remote-cache-ca", V_PATH, "--remote-cache-ca"},
    [K_REMOTE_CACHE_TIMEOUT] = {"remote-cache-timeout", V_INT, "--remote-cache-timeout"},
};

/* The keys a run has one value of, whatever file governs which file, and
 * what they name in the message when two files differ. */
static const struct {
    int key;
    const char *what;
} one_per_run[] = {{K_TARGET_VERSION, "target version"},
                   {K_PYTHON, "interpreter"},
                   {K_PYTHON_PLATFORM, "platform"}};

#define N_ONE_PER_RUN (sizeof one_per_run / sizeof one_per_run[0])

/* Python versions `target-version` names, as ruff spells them. */
static const char *const target_versions[] = {"py37",  "py38",  "py39",  "py310", "py311",
                                              "py312", "py313", "py314", NULL};

typedef struct {
    const char *glob;
    const char **codes;
    size_t n_codes;
} pfi_t;

/* One key's value and where it was written. */
typedef struct {
    bool set;
    const char *file; /* the file that set it (a base, for an extended key) */
    uint32_t line, col;
    const char **strs; /* V_CODES, V_GLOBS, V_PATHS */
    size_t n;
    pfi_t *pfi; /* V_PFI */
    size_t n_pfi;
    const char *text; /* V_BOOL ("true"/"false"), V_INT, V_STRING, V_PATH */
} val_t;

typedef struct config {
    const char *path; /* the file, as found */
    const char *dir;  /* its directory, absolute */
    val_t v[K_N];
    report_rules_t rules; /* select and ignore, with the command line's */
} config_t;

/* A directory as the walk spells it: its absolute form and governor. */
typedef struct {
    const char *abs;
    const config_t *cfg; /* NULL: none */
} dir_entry_t;

struct config_set {
    const cli_check_t *cli;
    arena_t *a;
    hmap_t *dirs;     /* directory as given -> dir_entry_t * */
    hmap_t *abs_dirs; /* absolute directory -> config_t * (or 0: none) */
    toml_doc_t *docs[CONFIG_MAX_DOCS];
    size_t n_docs;
    const config_t *only; /* --config's */
    bool any;
    const val_t *run_vals[N_ONE_PER_RUN]; /* the first of each one_per_run key met */
    st_err_t deferred;                    /* the first error met by a callback */
};

static st_rc_t fail_at(st_err_t *err, const char *file, uint32_t line, uint32_t col,
                       const char *msg)
{
    return st_fail(err, ST_EINVAL, "%s:%u:%u: %s", file, line, col, msg);
}

static st_rc_t no_memory(st_err_t *err)
{
    return st_fail(err, ST_ENOMEM, "out of memory reading the configuration");
}

/* dir + "/" + rel, or rel when absolute; in a. */
static char *join(arena_t *a, const char *dir, const char *rel)
{
    if (rel[0] == '/')
        return arena_strndup(a, rel, strlen(rel));
    return walk_join(a, dir, rel);
}

/* ---- reading one file's keys --------------------------------------------- */

typedef struct {
    config_set_t *s;
    config_t *c;
    const char *file, *dir; /* the file being read */
    st_err_t *err;
} reader_t;

/* Copies n string pointers (none when n is 0: src may then be NULL). */
static void put_strs(const char **dst, const char *const *src, size_t n)
{
    if (n > 0)
        memcpy(dst, src, n * sizeof *dst);
}

/* Appends the strings of array v to *strs (kind k), in the set's arena. */
static st_rc_t read_strings(reader_t *r, const toml_value_t *v, vkind_t k, const char ***strs,
                            size_t *n)
{
    char msg[ST_ERR_MSG_MAX];
    const char **all;
    size_t total;

    if (v->kind != TOML_ARRAY)
        goto bad;
    if (!st_add_size(*n, v->n, &total) || total > 4096 ||
        (all = arena_calloc(r->s->a, total + 1, sizeof *all)) == NULL)
        return no_memory(r->err);
    put_strs(all, *strs, *n);
    for (size_t i = 0; i < v->n; i++) {
        const toml_value_t *item = v->items[i];
        const char **one = NULL;
        size_t n_one = 0;
        st_err_t e = {0};

        if (item->kind != TOML_STRING || item->len == 0 || strlen(item->str) != item->len)
            goto bad;
        if (k == V_CODES && cli_parse_codes(r->s->a, item->str, &one, &n_one, &e) != ST_OK)
            return fail_at(r->err, r->file, item->line, item->col, e.msg);
        all[(*n)++] = k == V_CODES   ? one[0]
                      : k == V_PATHS ? join(r->s->a, r->dir, item->str)
                                     : item->str;
        if (all[*n - 1] == NULL)
            return no_memory(r->err);
    }
    *strs = all;
    return ST_OK;
bad:
    snprintf(msg, sizeof msg, "expected an array of %s",
             k == V_CODES   ? "rule codes (strings such as \"F401\")"
             : k == V_PATHS ? "directories (strings)"
                            : "patterns (non-empty strings)");
    return fail_at(r->err, r->file, v->line, v->col, msg);
}

static st_rc_t read_pfi(reader_t *r, const toml_value_t *v, val_t *out)
{
    pfi_t *pfi;

    if (v->kind != TOML_TABLE)
        return fail_at(r->err, r->file, v->line, v->col,
                       "expected a table of glob = [rule codes] (per-file-ignores)");
    if ((pfi = arena_calloc(r->s->a, v->n + 1, sizeof *pfi)) == NULL)
        return no_memory(r->err);
    for (size_t i = 0; i < v->n; i++) {
        st_rc_t rc;

        pfi[i].glob = v->entries[i].key;
        if ((rc = read_strings(r, v->entries[i].value, V_CODES, &pfi[i].codes, &pfi[i].n_codes)) !=
            ST_OK)
            return rc;
    }
    out->pfi = pfi;
    out->n_pfi = v->n;
    return ST_OK;
}

/* The text of a scalar, checked by the option parser as the flag's. */
static st_rc_t read_scalar(reader_t *r, int k, const toml_value_t *v, val_t *out)
{
    vkind_t kind = keys[k].kind;
    toml_kind_t want = kind == V_BOOL ? TOML_BOOL : kind == V_INT ? TOML_INTEGER : TOML_STRING;
    char msg[ST_ERR_MSG_MAX], num[24];
    cli_check_t scratch = {0};
    st_err_t e = {0};

    if (v->kind != want || (want == TOML_INTEGER && v->i < 0) ||
        (want == TOML_STRING && (v->len == 0 || strlen(v->str) != v->len))) {
        snprintf(msg, sizeof msg, "invalid value for '%s': expected %s", keys[k].name,
                 want == TOML_BOOL      ? "true or false"
                 : want == TOML_INTEGER ? "a non-negative integer"
                                        : "a non-empty string");
        return fail_at(r->err, r->file, v->line, v->col, msg);
    }
    snprintf(num, sizeof num, "%lld", (long long)v->i);
    out->text = kind == V_BOOL ? (v->b ? "true" : "false") : kind == V_INT ? num : v->str;
    if (kind == V_PATH)
        out->text = join(r->s->a, r->dir, v->str);
    else
        out->text = arena_strndup(r->s->a, out->text, strlen(out->text));
    if (out->text == NULL)
        return no_memory(r->err);
    if (k == K_TARGET_VERSION) {
        for (size_t i = 0; target_versions[i] != NULL; i++)
            if (strcmp(target_versions[i], v->str) == 0)
                return ST_OK;
        snprintf(msg, sizeof msg,
                 "invalid value '%.40s' for 'target-version' (expected py37 to "
                 "py314)",
                 v->str);
        return fail_at(r->err, r->file, v->line, v->col, msg);
    }
    /* a boolean is right as TOML's type; the option may not exist */
    if (keys[k].flag == NULL || kind == V_PATH || kind == V_BOOL)
        return ST_OK;
    if (cli_check_set(&scratch, keys[k].flag, keys[k].name, out->text, &e) != ST_OK)
        return fail_at(r->err, r->file, v->line, v->col, e.msg);
    return ST_OK;
}

static st_rc_t read_entry(reader_t *r, const toml_entry_t *e, bool pyproject)
{
    char msg[ST_ERR_MSG_MAX];
    val_t *out;
    int k = 0;
    st_rc_t rc;

    while (k < K_N && strcmp(keys[k].name, e->key) != 0)
        k++;
    if (k == K_N) {
        snprintf(msg, sizeof msg, "unknown key '%.60s'%s", e->key,
                 pyproject ? " in [tool.strata]" : "");
        return fail_at(r->err, r->file, e->line, e->col, msg);
    }
    out = &r->c->v[k];
    if (k == K_EXTEND) { /* its base was read first, by read_file */
        *out = (val_t){
            .set = true, .file = r->file, .line = e->line, .col = e->col, .text = e->value->str};
        return ST_OK;
    }
    /* extend-* add to what a base file set; the others replace it */
    if (k != K_EXTEND_SELECT && k != K_EXTEND_IGNORE && k != K_EXTEND_EXCLUDE)
        *out = (val_t){0};
    if (keys[k].kind == V_CODES || keys[k].kind == V_GLOBS || keys[k].kind == V_PATHS)
        rc = read_strings(r, e->value, keys[k].kind, &out->strs, &out->n);
    else if (keys[k].kind == V_PFI)
        rc = read_pfi(r, e->value, out);
    else
        rc = read_scalar(r, k, e->value, out);
    out->set = true;
    out->file = r->file;
    out->line = e->line;
    out->col = e->col;
    return rc;
}

static st_rc_t read_file(config_set_t *s, const char *path, config_t *c, const char **chain,
                         size_t depth, st_err_t *err);

/* `extend`: the base file's settings first. */
static st_rc_t read_base(reader_t *r, const toml_entry_t *e, const char **chain, size_t depth)
{
    const toml_value_t *v = e->value;
    char msg[ST_ERR_MSG_MAX], real[PATH_MAX];
    const char *base;

    if (v->kind != TOML_STRING || v->len == 0)
        return fail_at(r->err, r->file, v->line, v->col,
                       "invalid value for 'extend': expected a file name");
    if ((base = join(r->s->a, r->dir, v->str)) == NULL)
        return no_memory(r->err);
    if (realpath(base, real) == NULL) {
        snprintf(msg, sizeof msg, "extend: cannot read '%.80s': %s", v->str, strerror(errno));
        return fail_at(r->err, r->file, v->line, v->col, msg);
    }
    for (size_t i = 0; i <= depth; i++) {
        if (strcmp(chain[i], real) == 0 || depth + 1 >= CONFIG_MAX_EXTEND) {
            snprintf(msg, sizeof msg, "extend: a cycle: '%.80s' extends itself through '%.80s'",
                     chain[i], v->str);
            return fail_at(r->err, r->file, v->line, v->col, msg);
        }
    }
    if ((chain[depth + 1] = arena_strndup(r->s->a, real, strlen(real))) == NULL)
        return no_memory(r->err);
    return read_file(r->s, chain[depth + 1], r->c, chain, depth + 1, r->err);
}

static bool is_pyproject(const char *path)
{
    const char *slash = strrchr(path, '/');
    return strcmp(slash != NULL ? slash + 1 : path, "pyproject.toml") == 0;
}

/* Reads path's settings into c (its base's first). ST_ENOENT: a
 * pyproject.toml without [tool.strata] (it does not count). */
static st_rc_t read_file(config_set_t *s, const char *path, config_t *c, const char **chain,
                         size_t depth, st_err_t *err)
{
    bool pyproject = is_pyproject(path);
    reader_t r = {.s = s, .c = c, .file = path, .err = err};
    const toml_value_t *table;
    const toml_entry_t *ext;
    toml_doc_t *doc = NULL;
    uint8_t *text;
    size_t len;
    char *slash;
    st_err_t e = {0};
    st_rc_t rc;

    if (s->n_docs == CONFIG_MAX_DOCS)
        return st_fail(err, ST_ELIMIT, "%s: too many configuration files", path);
    if ((rc = exec_read_file(path, CONFIG_MAX_BYTES, s->a, &text, &len, &e)) != ST_OK)
        return st_fail(err, ST_EINVAL, "%s: %s", path, e.msg);
    if ((rc = toml_parse(path, (const char *)text, len, &doc, err)) != ST_OK)
        return rc;
    s->docs[s->n_docs++] = doc;
    table = toml_root(doc);
    if (pyproject)
        table = toml_get(toml_get(table, "tool"), "strata");
    if (table == NULL || table->kind != TOML_TABLE)
        return depth == 0 ? ST_ENOENT
                          : st_fail(err, ST_EINVAL, "%s: no [tool.strata] table to extend", path);
    /* the real path: a relative --config names its directory too */
    if ((r.dir = arena_strndup(s->a, chain[depth], strlen(chain[depth]))) == NULL)
        return no_memory(err);
    slash = strrchr(r.dir, '/');
    if (slash != NULL)
        *slash = slash == r.dir ? (slash[1] = '\0', '/') : '\0';
    if ((ext = toml_entry(table, "extend")) != NULL &&
        (rc = read_base(&r, ext, chain, depth)) != ST_OK)
        return rc;
    for (size_t i = 0; i < table->n; i++)
        if ((rc = read_entry(&r, &table->entries[i], pyproject)) != ST_OK)
            return rc;
    return ST_OK;
}

/* The rules of files under c: its select (or the flag's), its ignores and
 * the flag's. */
static st_rc_t make_rules(config_set_t *s, config_t *c)
{
    const report_rules_t *cli = &s->cli->rules;
    const val_t *sel = &c->v[K_SELECT], *xsel = &c->v[K_EXTEND_SELECT];
    const val_t *ign = &c->v[K_IGNORE], *xign = &c->v[K_EXTEND_IGNORE];
    const char **select = NULL, **ignore = NULL;
    size_t n_sel = 0, n_ign = 0;

    if (cli_check_given(s->cli, "--select") || !sel->set) {
        c->rules.select = cli->select;
        c->rules.n_select = cli->n_select;
    } else if ((select = arena_calloc(s->a, sel->n + xsel->n + 1, sizeof *select)) == NULL) {
        return ST_ENOMEM;
    } else {
        put_strs(select, sel->strs, sel->n);
        put_strs(select + sel->n, xsel->strs, xsel->n);
        n_sel = sel->n + xsel->n;
        c->rules.select = select;
        c->rules.n_select = n_sel;
    }
    if ((ignore = arena_calloc(s->a, ign->n + xign->n + cli->n_ignore + 1, sizeof *ignore)) == NULL)
        return ST_ENOMEM;
    put_strs(ignore, ign->strs, ign->n);
    put_strs(ignore + ign->n, xign->strs, xign->n);
    put_strs(ignore + ign->n + xign->n, cli->ignore, cli->n_ignore);
    n_ign = ign->n + xign->n + cli->n_ignore;
    c->rules.ignore = ignore;
    c->rules.n_ignore = n_ign;
    return ST_OK;
}

/* One run, one target version, one interpreter, one platform. */
static st_rc_t check_target(config_set_t *s, const config_t *c, st_err_t *err)
{
    char msg[ST_ERR_MSG_MAX];

    for (size_t i = 0; i < N_ONE_PER_RUN; i++) {
        int k = one_per_run[i].key;
        const val_t *v = &c->v[k], *first = s->run_vals[i];

        if (!v->set)
            continue;
        if (first == NULL || strcmp(first->text, v->text) == 0) {
            s->run_vals[i] = first != NULL ? first : v;
            continue;
        }
        snprintf(msg, sizeof msg,
                 "%s '%.60s' differs from '%.60s' set in %.80s:%u: one run checks for one %s",
                 keys[k].name, v->text, first->text, first->file, first->line, one_per_run[i].what);
        return fail_at(err, v->file, v->line, v->col, msg);
    }
    return ST_OK;
}

/* Reads the configuration file at path (absolute); *out NULL when it is a
 * pyproject.toml without [tool.strata]. */
static st_rc_t load(config_set_t *s, const char *path, const config_t **out, st_err_t *err)
{
    const char *chain[CONFIG_MAX_EXTEND + 1];
    config_t *c = arena_calloc(s->a, 1, sizeof *c);
    char real[PATH_MAX];
    st_rc_t rc;

    if (c == NULL)
        return no_memory(err);
    c->path = arena_strndup(s->a, path, strlen(path));
    if (realpath(path, real) == NULL)
        return st_fail(err, ST_EINVAL, "%s: %s", path, strerror(errno));
    chain[0] = arena_strndup(s->a, real, strlen(real));
    if (c->path == NULL || chain[0] == NULL)
        return no_memory(err);
    if ((rc = read_file(s, c->path, c, chain, 0, err)) == ST_ENOENT) {
        *out = NULL;
        return ST_OK;
    }
    if (rc != ST_OK)
        return rc;
    c->dir = arena_strndup(s->a, real, strlen(real));
    *strrchr((char *)c->dir, '/') = '\0';
    if (c->dir[0] == '\0')
        c->dir = "/";
    if (make_rules(s, c) != ST_OK)
        return no_memory(err);
    if ((rc = check_target(s, c, err)) != ST_OK)
        return rc;
    s->any = true;
    *out = c;
    return ST_OK;
}

/* ---- finding ------------------------------------------------------------- */

static const char *const file_names[] = {".strata.toml", "strata.toml", "pyproject.toml"};

/* The configuration governing absolute directory dir, found upward. */
static st_rc_t find_up(config_set_t *s, const char *dir, const config_t **out, st_err_t *err)
{
    uint64_t hit;
    const config_t *c = NULL;
    char *parent;
    st_rc_t rc;

    if (hmap_get(s->abs_dirs, dir, strlen(dir), &hit) == ST_OK) {
        *out = (const config_t *)(uintptr_t)hit;
        return ST_OK;
    }
    for (size_t i = 0; c == NULL && i < sizeof file_names / sizeof file_names[0]; i++) {
        char *path = join(s->a, strcmp(dir, "/") == 0 ? "" : dir, file_names[i]);
        struct stat st;

        if (path == NULL)
            return no_memory(err);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && (rc = load(s, path, &c, err)) != ST_OK)
            return rc;
    }
    if (c == NULL && strcmp(dir, "/") != 0) {
        if ((parent = arena_strndup(s->a, dir, strlen(dir))) == NULL)
            return no_memory(err);
        *strrchr(parent, '/') = '\0';
        if ((rc = find_up(s, parent[0] == '\0' ? "/" : parent, &c, err)) != ST_OK)
            return rc;
    }
    if (hmap_put(s->abs_dirs, dir, strlen(dir), (uint64_t)(uintptr_t)c) != ST_OK)
        return no_memory(err);
    *out = c;
    return ST_OK;
}

/* realpath(dir) into real: from its parent's entry when the parent was
 * looked up already and dir's last part is a directory, not a link (one
 * lstat instead of a readlink per part: a long list of files in many
 * directories resolves each once), else from realpath. */
static bool resolve(config_set_t *s, const char *dir, char real[PATH_MAX])
{
    const char *slash = strrchr(dir, '/'), *base = slash != NULL ? slash + 1 : dir;
    size_t plen = slash == NULL ? 1 : slash == dir ? 1 : (size_t)(slash - dir);
    const char *parent = slash == NULL ? "." : dir;
    const dir_entry_t *pe;
    struct stat st;
    uint64_t hit;

    if (base[0] != '\0' && strcmp(base, ".") != 0 && strcmp(base, "..") != 0 &&
        strcmp(dir, ".") != 0 && hmap_get(s->dirs, parent, plen, &hit) == ST_OK &&
        (pe = (const dir_entry_t *)(uintptr_t)hit)->abs != NULL && lstat(dir, &st) == 0 &&
        S_ISDIR(st.st_mode) &&
        (size_t)snprintf(real, PATH_MAX, "%s/%s", strcmp(pe->abs, "/") == 0 ? "" : pe->abs, base) <
            PATH_MAX)
        return true;
    return realpath(dir, real) != NULL;
}

/* The entry of the directory holding path (path itself when is_dir). */
static st_rc_t dir_of(config_set_t *s, const char *path, bool is_dir, const dir_entry_t **out,
                      st_err_t *err)
{
    const char *slash = is_dir ? NULL : strrchr(path, '/');
    size_t len = is_dir          ? strlen(path)
                 : slash == NULL ? 1
                 : slash == path ? 1
                                 : (size_t)(slash - path);
    const char *dir = is_dir ? path : slash == NULL ? "." : slash == path ? "/" : path;
    char real[PATH_MAX], *copy;
    dir_entry_t *e;
    uint64_t hit;
    st_rc_t rc;

    if (hmap_get(s->dirs, dir, len, &hit) == ST_OK) {
        *out = (const dir_entry_t *)(uintptr_t)hit;
        return ST_OK;
    }
    if ((copy = arena_strndup(s->a, dir, len)) == NULL ||
        (e = arena_calloc(s->a, 1, sizeof *e)) == NULL)
        return no_memory(err);
    /* a directory that cannot be resolved is governed by nothing */
    if (resolve(s, copy, real)) {
        if ((e->abs = arena_strndup(s->a, real, strlen(real))) == NULL)
            return no_memory(err);
        if (s->only != NULL)
            e->cfg = s->only;
        else if (!s->cli->isolated && (rc = find_up(s, e->abs, &e->cfg, err)) != ST_OK)
            return rc;
    }
    if (hmap_put(s->dirs, dir, len, (uint64_t)(uintptr_t)e) != ST_OK)
        return no_memory(err);
    *out = e;
    return ST_OK;
}

st_rc_t config_lookup(config_set_t *self, const char *path, bool is_dir, st_err_t *err)
{
    const dir_entry_t *e;
    return dir_of(self, path, is_dir, &e, err);
}

/* The path of name in entry e's directory relative to cfg's directory, in
 * buf; false when it is not below it. */
static bool relative(const dir_entry_t *e, const char *name, char *buf, size_t cap)
{
    size_t d = strlen(e->cfg->dir);
    const char *below = e->abs + d;

    if (strncmp(e->abs, e->cfg->dir, d) != 0 || (*below != '/' && *below != '\0' && d > 1))
        return false;
    while (*below == '/')
        below++;
    return (size_t)snprintf(buf, cap, "%s%s%s", below, *below != '\0' ? "/" : "", name) < cap;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash != NULL ? slash + 1 : path;
}

static bool any_match(const char *const *globs, size_t n, const char *name, const char *rel)
{
    for (size_t i = 0; i < n; i++)
        if (fnmatch(globs[i], name, 0) == 0 || fnmatch(globs[i], rel, 0) == 0)
            return true;
    return false;
}

/* The governing entry of path, or NULL (error kept for config_error). */
static const dir_entry_t *entry_of(config_set_t *s, const char *path)
{
    const dir_entry_t *e = NULL;
    st_err_t err = {0};

    if (dir_of(s, path, false, &e, &err) != ST_OK) {
        if (s->deferred.code == ST_OK)
            s->deferred = err;
        return NULL;
    }
    return e->cfg != NULL ? e : NULL;
}

bool config_skip(void *ctx, const char *path, const char *name)
{
    config_set_t *s = ctx;
    const dir_entry_t *e = entry_of(s, path);
    char rel[PATH_MAX];
    const val_t *v;

    if (e == NULL || !relative(e, name, rel, sizeof rel))
        return false;
    v = e->cfg->v;
    return any_match(v[K_EXCLUDE].strs, v[K_EXCLUDE].n, name, rel) ||
           any_match(v[K_EXTEND_EXCLUDE].strs, v[K_EXTEND_EXCLUDE].n, name, rel);
}

static bool code_matches(const char *const *codes, size_t n, const char *code)
{
    for (size_t i = 0; i < n; i++)
        if (strncmp(codes[i], code, strlen(codes[i])) == 0)
            return true;
    return false;
}

bool config_enabled(void *ctx, const char *path, const char *code)
{
    config_set_t *s = ctx;
    const dir_entry_t *e = entry_of(s, path);
    const char *name = base_name(path);
    char rel[PATH_MAX];
    const val_t *pfi;

    if (e == NULL)
        return report_rules_enabled(&s->cli->rules, code);
    if (!report_rules_enabled(&e->cfg->rules, code))
        return false;
    pfi = &e->cfg->v[K_PER_FILE_IGNORES];
    if (pfi->n_pfi == 0 || !relative(e, name, rel, sizeof rel))
        return true;
    for (size_t i = 0; i < pfi->n_pfi; i++) {
        const char *glob = pfi->pfi[i].glob;

        if ((fnmatch(glob, rel, 0) == 0 || fnmatch(glob, name, 0) == 0) &&
            code_matches(pfi->pfi[i].codes, pfi->pfi[i].n_codes, code))
            return false;
    }
    return true;
}

st_rc_t config_error(const config_set_t *self, st_err_t *err)
{
    if (self->deferred.code == ST_OK)
        return ST_OK;
    return st_fail(err, self->deferred.code, "%s", self->deferred.msg);
}

bool config_any(const config_set_t *self)
{
    return self->any;
}

/* ---- the set ------------------------------------------------------------- */

st_rc_t config_set_new(const cli_check_t *cli, config_set_t **out, st_err_t *err)
{
    config_set_t *s = st_calloc(1, sizeof *s);
    st_rc_t rc = ST_ENOMEM;

    if (s == NULL || (s->a = arena_new(16384)) == NULL ||
        (s->dirs = hmap_new_arena(s->a, HMAP_BYTES)) == NULL ||
        (s->abs_dirs = hmap_new_arena(s->a, HMAP_BYTES)) == NULL) {
        rc = no_memory(err);
        goto fail;
    }
    s->cli = cli;
    if (cli->config != NULL) {
        if ((rc = load(s, cli->config, &s->only, err)) != ST_OK)
            goto fail;
        if (s->only == NULL) {
            rc = st_fail(err, ST_EINVAL, "%s: no [tool.strata] table", cli->config);
            goto fail;
        }
    }
    *out = s;
    return ST_OK;
fail:
    config_set_destroy(&s);
    return rc;
}

void config_set_destroy(config_set_t **self_p)
{
    config_set_t *s;

    if (self_p == NULL || (s = *self_p) == NULL)
        return;
    for (size_t i = 0; i < s->n_docs; i++)
        toml_destroy(&s->docs[i]);
    hmap_destroy(&s->dirs);
    hmap_destroy(&s->abs_dirs);
    arena_destroy(&s->a);
    st_free(s);
    *self_p = NULL;
}

/* The configuration governing path (a file or a directory). */
static st_rc_t governing(config_set_t *s, const char *path, const config_t **out, st_err_t *err)
{
    struct stat st;
    const dir_entry_t *e;
    st_rc_t rc;

    if ((rc = dir_of(s, path, stat(path, &st) == 0 && S_ISDIR(st.st_mode), &e, err)) != ST_OK)
        return rc;
    *out = e->cfg;
    return ST_OK;
}

static bool given(const cli_check_t *cli, int k)
{
    return (keys[k].flag != NULL && cli_check_given(cli, keys[k].flag)) ||
           (k == K_OUTPUT_FORMAT && cli_check_given(cli, "--format")) ||
           (k == K_RESPECT_GITIGNORE && cli_check_given(cli, "--no-respect-gitignore"));
}

st_rc_t config_apply_run(config_set_t *self, cli_check_t *cli, st_err_t *err)
{
    const config_t *c;
    st_rc_t rc;

    if ((rc = governing(self, cli->paths[0], &c, err)) != ST_OK || c == NULL)
        return rc;
    cli->config_dir = c->dir;
    for (int k = 0; k < K_N; k++) {
        const val_t *v = &c->v[k];

        if (!v->set || given(cli, k) || (k == K_OUTPUT_FORMAT && cli->graph))
            continue;
        if (k == K_SRC) {
            cli->roots = v->strs;
            cli->n_roots = v->n;
        } else if (k == K_RESPECT_GITIGNORE) {
            cli->respect_gitignore = strcmp(v->text, "true") == 0;
        } else if (k == K_TARGET_VERSION) {
            cli->target_version = v->text;
        } else if (k == K_PYTHON) {
            cli->python_config = v->text;
        } else if (k == K_PYTHON_PLATFORM) {
            cli->platform_config = v->text;
        } else if (keys[k].kind != V_CODES && keys[k].kind != V_GLOBS && keys[k].kind != V_PFI &&
                   keys[k].flag != NULL) {
            char msg[ST_ERR_MSG_MAX];
            st_err_t e = {0};

            if (cli_check_set(cli, keys[k].flag, keys[k].name, v->text, &e) != ST_OK) {
                snprintf(msg, sizeof msg, "%s", e.msg);
                return fail_at(err, v->file, v->line, v->col, msg);
            }
        }
    }
    if (cli->jobs == 0)
        cli->jobs = cpus_online(CLI_MAX_JOBS);
    return ST_OK;
}

/* ---- strata config ------------------------------------------------------- */

static const char usage[] =
    "usage: strata config [OPTIONS] [PATH]\n"
    "\n"
    "Print the settings that govern PATH (a file or a directory; default '.')\n"
    "when it is checked: the configuration file found for it (the closest\n"
    ".strata.toml, strata.toml or pyproject.toml with [tool.strata] above it),\n"
    "then one line per key, `key = value  # from`, where from is 'default',\n"
    "FILE:LINE, or the flag that set it. Takes the options of strata check\n"
    "(--config, --isolated and the flags that override the files).\n"
    "\n"
    "exit status: 0 printed, 2 a bad configuration or usage error\n";

const char *config_usage(void)
{
    return usage;
}

static void show_strs(FILE *out, const char *const *strs, size_t n, const char *empty)
{
    if (n == 0 && empty != NULL) {
        fprintf(out, "[\"%s\"]", empty);
        return;
    }
    fputc('[', out);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s\"%s\"", i > 0 ? ", " : "", strs[i][0] == '\0' ? "ALL" : strs[i]);
    fputc(']', out);
}

static void show_pfi(FILE *out, const val_t *v)
{
    fputc('{', out);
    for (size_t i = 0; i < v->n_pfi; i++) {
        fprintf(out, "%s\"%s\" = ", i > 0 ? ", " : "", v->pfi[i].glob);
        show_strs(out, v->pfi[i].codes, v->pfi[i].n_codes, NULL);
    }
    fputc('}', out);
}

/* "s" quoted, or none. */
static void show_string(FILE *out, const char *s)
{
    fprintf(out, s != NULL ? "\"%s\"" : "none", s != NULL ? s : "");
}

/* The value of a per-run key as cli holds it after config_apply_run. */
static void show_run_value(FILE *out, int k, const cli_check_t *cli)
{
    static const char *const durability[] = {"memory", "buffered", "strict"};

    switch (k) {
    case K_RESPECT_GITIGNORE:
        fputs(cli->respect_gitignore ? "true" : "false", out);
        break;
    case K_SRC:
        show_strs(out, cli->roots, cli->n_roots, NULL);
        break;
    case K_TARGET_VERSION:
        show_string(out, cli->python_version != NULL ? cli->python_version : cli->target_version);
        break;
    case K_PYTHON:
        show_string(out, cli->python != NULL ? cli->python : cli->python_config);
        break;
    case K_PYTHON_PLATFORM:
        show_string(out,
                    cli->python_platform != NULL ? cli->python_platform : cli->platform_config);
        break;
    case K_CACHE_DIR:
        fprintf(out, "\"%s\"", cas_dir_default(cli->cache_dir));
        break;
    case K_OUTPUT_FORMAT:
        fprintf(out, "\"%s\"", report_format_name(cli->format));
        break;
    case K_JOBS:
        fprintf(out, "%u", cli->jobs);
        break;
    case K_WORKERS:
        fprintf(out, cli->workers == 0 ? "\"auto\"" : "%u", cli->workers);
        break;
    case K_NO_WORKERS:
        fputs(cli->no_workers ? "true" : "false", out);
        break;
    case K_DURABILITY:
        fprintf(out, "\"%s\"", durability[cli->durability % 3]);
        break;
    case K_JOB_TIMEOUT:
        fprintf(out, "%u",
                cli->job_timeout_s != 0 ? cli->job_timeout_s : DISPATCH_JOB_TIMEOUT_MS / 1000);
        break;
    case K_MAX_FILE_SIZE:
        fprintf(out, "%zu",
                cli->max_file_bytes != 0 ? cli->max_file_bytes : SCAN_DEFAULT_MAX_FILE_BYTES);
        break;
    case K_QUIET:
        fputs(cli->quiet ? "true" : "false", out);
        break;
    case K_REMOTE_CACHE:
        show_string(out, cli->remote_cache);
        break;
    case K_REMOTE_CACHE_UPLOAD:
        fputs(cli->remote_cache_upload ? "true" : "false", out);
        break;
    case K_REMOTE_CACHE_AUTH_FILE:
        show_string(out, cli->remote_auth_file);
        break;
    case K_REMOTE_CACHE_CA:
        show_string(out, cli->remote_ca);
        break;
    case K_REMOTE_CACHE_TIMEOUT:
        fprintf(out, "%u.%03u",
                (cli->remote_timeout_ms != 0 ? cli->remote_timeout_ms : RCACHE_BUDGET_MS_DEFAULT) /
                    1000,
                (cli->remote_timeout_ms != 0 ? cli->remote_timeout_ms : RCACHE_BUDGET_MS_DEFAULT) %
                    1000);
        break;
    }
}

/* key = value, for the per-file keys of c (NULL: none). */
static void show_file_value(FILE *out, int k, const config_t *c, const cli_check_t *cli)
{
    const val_t *v = c != NULL ? &c->v[k] : NULL;
    bool set = v != NULL && v->set;

    if (k == K_SELECT && (cli_check_given(cli, "--select") || !set))
        show_strs(out, cli->rules.select, cli->rules.n_select, "ALL");
    else if (k == K_IGNORE)
        show_strs(out, c != NULL ? c->rules.ignore : cli->rules.ignore,
                  c != NULL ? c->rules.n_ignore : cli->rules.n_ignore, NULL);
    else if (k == K_EXCLUDE && cli->n_exclude > 0)
        show_strs(out, cli->exclude, cli->n_exclude, NULL);
    else if (k == K_PER_FILE_IGNORES)
        set ? show_pfi(out, v) : (void)fputs("{}", out);
    else if (k == K_EXTEND)
        fprintf(out, set ? "\"%s\"" : "none", set ? v->text : "");
    else
        show_strs(out, set ? v->strs : NULL, set ? v->n : 0, NULL);
}

st_rc_t config_show(config_set_t *self, const char *path, FILE *out, st_err_t *err)
{
    const config_t *c;
    cli_check_t *cli = (cli_check_t *)self->cli;
    st_rc_t rc;

    if ((rc = governing(self, path, &c, err)) != ST_OK ||
        (rc = config_apply_run(self, cli, err)) != ST_OK)
        return rc;
    fprintf(out, "%-18s = ", "config-file");
    fprintf(out, c != NULL ? "\"%s\"\n" : "none\n", c != NULL ? c->path : "");
    for (int k = 0; k < K_N; k++) {
        const val_t *v = c != NULL ? &c->v[k] : NULL;
        bool flag = given(cli, k);

        fprintf(out, "%-18s = ", keys[k].name);
        if (keys[k].kind == V_CODES || keys[k].kind == V_GLOBS || keys[k].kind == V_PFI ||
            k == K_EXTEND)
            show_file_value(out, k, c, cli);
        else
            show_run_value(out, k, cli);
        fputs("  # ", out);
        if (v != NULL && v->set)
            fprintf(out, "%s:%u%s", v->file, v->line, flag ? ", " : "");
        if (flag)
            fputs(keys[k].flag, out);
        if ((v == NULL || !v->set) && !flag)
            fputs("default", out);
        fputc('\n', out);
    }
    return ferror(out) ? st_fail(err, ST_EIO, "cannot write the settings") : ST_OK;
}
