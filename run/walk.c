/* walk.c - listing the files of a check from its PATH arguments.
 *
 * A depth-first walk with opendir/readdir and stat (so symbolic links are
 * followed). Each directory is closed before its subdirectories are entered,
 * so a deep tree holds one descriptor at a time. Directories already entered
 * are remembered by (device, inode) in a small open-addressing set on the
 * heap; that is what stops a link loop, and what makes a tree reached twice
 * listed once. Which path wins then matters, so it is made stable and
 * natural: names are sorted before they are visited, and links to
 * directories are queued and entered only after every real directory of the
 * argument, so the real path is the one listed. Paths live in the list's
 * arena. Ignore rules: each repository is opened once per walk (the first
 * argument inside it), and asked only about the directories the walk would
 * enter and the files it would keep. */
#include "run/walk.h"

#include "common/alloc.h"
#include "run/gitignore.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
    walk_entry_t *items;
    size_t n;
    size_t cap;
} entry_vec_t;

typedef struct {
    const char *name;
    bool is_link;
    bool is_file; /* readdir said: a regular file (not a link) */
} walk_name_t;

typedef struct {
    dev_t dev;
    ino_t ino;
    bool used;
} dir_id_t;

typedef struct {
    const walk_opts_t *opts;
    arena_t *arena;
    dir_id_t *seen; /* open addressing, linear probing, load <= 1/2 */
    size_t seen_cap;
    size_t seen_n;
    entry_vec_t files;
    entry_vec_t unreadable;
    entry_vec_t extensions; /* compiled modules, named as module files */
    entry_vec_t missing;
    entry_vec_t links;     /* links to directories, entered after the rest */
    entry_vec_t links_rel; /* their paths below the argument, same order */
    gitignore_t **repos;   /* opened so far (respect_gitignore) */
    size_t n_repos;
    gitignore_t *git;      /* the current argument's; NULL: no rules */
    char git_prefix[4096]; /* the argument's path below its work tree */
    st_err_t *err;
} walk_ctx_t;

static st_rc_t walk_dir(walk_ctx_t *ctx, const char *path, const char *rel);
static st_rc_t push_entry(walk_ctx_t *ctx, entry_vec_t *v, const char *path, uint64_t size, int e);
static st_rc_t push_file(walk_ctx_t *ctx, const char *path, const struct stat *st);

static int cmp_known(const void *key, const void *item)
{
    return strcmp(*(const char *const *)key, *(const char *const *)item);
}

/* Whether the caller listed path already (opts->known). */
static bool is_known(walk_ctx_t *ctx, const char *path)
{
    const char *norm = walk_norm_path(ctx->arena, path);

    return norm != NULL && bsearch(&norm, ctx->opts->known, ctx->opts->n_known,
                                   sizeof *ctx->opts->known, cmp_known) != NULL;
}

/* Whether git ignores rel, below the current argument. */
static bool git_ignored(walk_ctx_t *ctx, const char *rel, bool is_dir)
{
    char path[sizeof ctx->git_prefix * 2];
    size_t lp, lr;

    if (ctx->git == NULL)
        return false;
    lp = strlen(ctx->git_prefix);
    lr = strlen(rel);
    if (lp + 1 + lr >= sizeof path)
        return false;
    memcpy(path, ctx->git_prefix, lp);
    if (lp > 0)
        path[lp++] = '/';
    memcpy(path + lp, rel, lr + 1);
    return gitignore_ignored(ctx->git, path, is_dir);
}

/* A Python file found below an argument: checked, a module that exists
 * for imports only (git ignores it: generated code such as _version.py
 * is still imported), or left out (excluded). */
static st_rc_t keep_python(walk_ctx_t *ctx, const char *name, const char *rel, const char *path,
                           const struct stat *st)
{
    if (walk_is_excluded(ctx->opts, name, rel, path))
        return ST_OK;
    if (git_ignored(ctx, rel, false))
        return push_entry(ctx, &ctx->extensions, path, 0, 0);
    return push_file(ctx, path, st);
}

int walk_path_cmp(const char *a, const char *b)
{
    /* strcmp compares as unsigned char (C11 7.24.4): byte order. */
    return strcmp(a, b);
}

const char *walk_norm_path(arena_t *a, const char *path)
{
    size_t len = strlen(path), n = 0;
    char *out = arena_alloc(a, len + 2);

    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < len;) {
        size_t seg = strcspn(path + i, "/");
        if (seg == 1 && path[i] == '.' && (i + 1 < len || n > 0)) {
            i += 2; /* "./" (and a trailing "." after something) */
            continue;
        }
        if (seg > 0) {
            if (n > 0 && out[n - 1] != '/')
                out[n++] = '/';
            memcpy(out + n, path + i, seg);
            n += seg;
        } else if (i == 0) {
            out[n++] = '/'; /* the root of an absolute path */
        }
        i += seg + 1;
    }
    if (n == 0)
        out[n++] = '.';
    out[n] = '\0';
    return out;
}

bool walk_is_python_name(const char *name)
{
    size_t len = strlen(name);

    return (len > 3 && strcmp(name + len - 3, ".py") == 0) ||
           (len > 4 && strcmp(name + len - 4, ".pyi") == 0);
}

size_t walk_extension_stem(const char *name)
{
    size_t len = strlen(name), stem = strcspn(name, ".");

    if (!((len > 3 && strcmp(name + len - 3, ".so") == 0) ||
          (len > 4 && strcmp(name + len - 4, ".pyd") == 0)))
        return 0;
    if (stem == 0 || !(isalpha((unsigned char)name[0]) || name[0] == '_'))
        return 0;
    for (size_t i = 1; i < stem; i++)
        if (!(isalnum((unsigned char)name[i]) || name[i] == '_'))
            return 0;
    return stem;
}

bool walk_is_excluded(const walk_opts_t *opts, const char *name, const char *rel, const char *path)
{
    for (size_t i = 0; i < opts->n_exclude; i++) {
        const char *glob = opts->exclude[i];

        if (fnmatch(glob, name, 0) == 0 || fnmatch(glob, rel, 0) == 0 ||
            fnmatch(glob, path, 0) == 0)
            return true;
    }
    return opts->skip != NULL && opts->skip(opts->skip_ctx, path, name);
}

static st_rc_t push_entry(walk_ctx_t *ctx, entry_vec_t *v, const char *path, uint64_t size, int e)
{
    if (v->n == v->cap) {
        size_t cap = v->cap == 0 ? 64 : v->cap * 2, old_bytes, new_bytes;
        walk_entry_t *grown;

        if (!st_mul_size(v->cap, sizeof *grown, &old_bytes) ||
            !st_mul_size(cap, sizeof *grown, &new_bytes))
            return st_fail(ctx->err, ST_ENOMEM, "walk: too many files");
        grown = arena_realloc(ctx->arena, v->items, old_bytes, new_bytes);
        if (grown == NULL)
            return st_fail(ctx->err, ST_ENOMEM, "walk: out of memory listing files");
        v->items = grown;
        v->cap = cap;
    }
    v->items[v->n++] = (walk_entry_t){.path = path, .size = size, .err = e};
    return ST_OK;
}

/* A file to check, with its stat (NULL: none) as the stat index compares
 * it. */
static st_rc_t push_file(walk_ctx_t *ctx, const char *path, const struct stat *st)
{
    st_rc_t rc = push_entry(ctx, &ctx->files, path, st != NULL ? (uint64_t)st->st_size : 0, 0);

    if (rc == ST_OK && st != NULL && S_ISREG(st->st_mode)) /* not a FIFO's */
        file_stamp_of(st, &ctx->files.items[ctx->files.n - 1].stamp);
    return rc;
}

static size_t dir_hash(dev_t dev, ino_t ino, size_t cap)
{
    uint64_t h = ((uint64_t)dev * 0x9e3779b97f4a7c15u) ^ ((uint64_t)ino * 0xc2b2ae3d27d4eb4fu);

    return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

/* Inserts without growing; the caller keeps the load at most 1/2. */
static bool seen_put(dir_id_t *table, size_t cap, dev_t dev, ino_t ino)
{
    size_t i = dir_hash(dev, ino, cap);

    while (table[i].used) {
        if (table[i].dev == dev && table[i].ino == ino)
            return false;
        i = (i + 1) & (cap - 1);
    }
    table[i] = (dir_id_t){.dev = dev, .ino = ino, .used = true};
    return true;
}

/* Remembers a directory; *is_new is false when it was entered before. */
static st_rc_t seen_add(walk_ctx_t *ctx, const struct stat *st, bool *is_new)
{
    if ((ctx->seen_n + 1) * 2 > ctx->seen_cap) {
        size_t cap = ctx->seen_cap == 0 ? 64 : ctx->seen_cap * 2;
        dir_id_t *table = st_calloc(cap, sizeof *table);

        if (table == NULL)
            return st_fail(ctx->err, ST_ENOMEM, "walk: out of memory");
        for (size_t i = 0; i < ctx->seen_cap; i++)
            if (ctx->seen[i].used)
                seen_put(table, cap, ctx->seen[i].dev, ctx->seen[i].ino);
        st_free(ctx->seen);
        ctx->seen = table;
        ctx->seen_cap = cap;
    }
    *is_new = seen_put(ctx->seen, ctx->seen_cap, st->st_dev, st->st_ino);
    if (*is_new)
        ctx->seen_n++;
    return ST_OK;
}

char *walk_join(arena_t *arena, const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    bool sep = la > 0 && a[la - 1] != '/';
    char *s = arena_alloc(arena, la + sep + lb + 1);

    if (s == NULL)
        return NULL;
    memcpy(s, a, la);
    if (sep)
        s[la] = '/';
    memcpy(s + la + sep, b, lb + 1);
    return s;
}

static int cmp_names(const void *pa, const void *pb)
{
    return walk_path_cmp(((const walk_name_t *)pa)->name, ((const walk_name_t *)pb)->name);
}

static int cmp_entries(const void *a, const void *b)
{
    return walk_path_cmp(((const walk_entry_t *)a)->path, ((const walk_entry_t *)b)->path);
}

/* A directory found below an argument: skipped, queued (a link), entered. */
static st_rc_t visit_dir(walk_ctx_t *ctx, const struct stat *st, const char *path, const char *rel,
                         const char *name, bool is_link)
{
    bool is_new;
    st_rc_t rc;

    if (name[0] == '.' || strcmp(name, "__pycache__") == 0 ||
        walk_is_excluded(ctx->opts, name, rel, path) || git_ignored(ctx, rel, true))
        return ST_OK;
    if (is_link) {
        if ((rc = push_entry(ctx, &ctx->links, path, 0, 0)) != ST_OK)
            return rc;
        return push_entry(ctx, &ctx->links_rel, rel, 0, 0);
    }
    if ((rc = seen_add(ctx, st, &is_new)) != ST_OK || !is_new)
        return rc;
    return walk_dir(ctx, path, rel);
}

/* Visits one name found in a directory: descend, keep, or skip. */
static st_rc_t visit(walk_ctx_t *ctx, const char *dir, const char *dir_rel,
                     const walk_name_t *entry)
{
    const char *name = entry->name;
    char *path = walk_join(ctx->arena, dir, name);
    char *rel = walk_join(ctx->arena, dir_rel, name);
    struct stat st;

    if (path == NULL || rel == NULL)
        return st_fail(ctx->err, ST_ENOMEM, "walk: out of memory");
    /* a regular file that is no module: nothing to stat it for */
    if (entry->is_file && !walk_is_python_name(name) && walk_extension_stem(name) == 0)
        return ST_OK;
    if (ctx->opts->n_known > 0 && walk_is_python_name(name) && is_known(ctx, path))
        return ST_OK;
    if (stat(path, &st) != 0) {
        /* A dangling link named like a module: checking it reports why. */
        return walk_is_python_name(name) ? keep_python(ctx, name, rel, path, NULL) : ST_OK;
    }
    if (S_ISDIR(st.st_mode))
        return visit_dir(ctx, &st, path, rel, name, entry->is_link);
    if (S_ISREG(st.st_mode) && walk_is_python_name(name))
        return keep_python(ctx, name, rel, path, &st);
    size_t stem = S_ISREG(st.st_mode) ? walk_extension_stem(name) : 0;
    /* compiled in place, usually ignored by git: they exist all the same */
    if (stem > 0 && !walk_is_excluded(ctx->opts, name, rel, path)) {
        /* dir/_ext.cpython-311-x86_64-linux-gnu.so is the module dir/_ext */
        size_t dir_len = strlen(path) - strlen(name);
        char *module = arena_alloc(ctx->arena, dir_len + stem + 4);
        if (module == NULL)
            return st_fail(ctx->err, ST_ENOMEM, "walk: out of memory");
        memcpy(module, path, dir_len + stem);
        memcpy(module + dir_len + stem, ".so", 4);
        return push_entry(ctx, &ctx->extensions, module, 0, 0);
    }
    return ST_OK;
}

/* Whether a directory entry is a symbolic link (lstat when d_type is not
 * filled in, as on some file systems). */
static bool entry_is_link(const char *dir, const struct dirent *de, arena_t *a)
{
    struct stat st;
    char *path;

    if (de->d_type != DT_UNKNOWN)
        return de->d_type == DT_LNK;
    path = walk_join(a, dir, de->d_name);
    return path != NULL && lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
}

/* Appends one name to a growing array in the arena. */
static st_rc_t push_name(walk_ctx_t *ctx, walk_name_t **names, size_t *n, size_t *cap,
                         walk_name_t name)
{
    if (*n == *cap) {
        size_t grown_cap = *cap == 0 ? 64 : *cap * 2;
        walk_name_t *grown =
            arena_realloc(ctx->arena, *names, *cap * sizeof **names, grown_cap * sizeof **names);

        if (grown == NULL)
            return st_fail(ctx->err, ST_ENOMEM, "walk: out of memory");
        *names = grown;
        *cap = grown_cap;
    }
    (*names)[(*n)++] = name;
    return ST_OK;
}

/* The entries of a directory, sorted (cmp_names), in the arena; an
 * unreadable directory is recorded and lists nothing. */
static st_rc_t list_dir(walk_ctx_t *ctx, const char *path, walk_name_t **names, size_t *n)
{
    DIR *d = opendir(path);
    struct dirent *de;
    size_t cap = 0;

    *names = NULL;
    *n = 0;
    if (d == NULL)
        return push_entry(ctx, &ctx->unreadable, path, 0, errno);
    while ((de = readdir(d)) != NULL) {
        walk_name_t name;

        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        name.name = arena_strndup(ctx->arena, de->d_name, strlen(de->d_name));
        name.is_link = entry_is_link(path, de, ctx->arena);
        name.is_file = de->d_type == DT_REG;
        if (name.name == NULL || push_name(ctx, names, n, &cap, name) != ST_OK) {
            closedir(d);
            return st_fail(ctx->err, ST_ENOMEM, "walk: out of memory");
        }
    }
    closedir(d);
    if (*n > 0)
        qsort(*names, *n, sizeof **names, cmp_names);
    return ST_OK;
}

static st_rc_t walk_dir(walk_ctx_t *ctx, const char *path, const char *rel)
{
    walk_name_t *names;
    size_t n;
    st_rc_t rc;

    if ((rc = list_dir(ctx, path, &names, &n)) != ST_OK)
        return rc;
    for (size_t i = 0; i < n; i++)
        if ((rc = visit(ctx, path, rel, &names[i])) != ST_OK)
            return rc;
    return ST_OK;
}

/* Enters the queued links to directories, oldest first; entering one may
 * queue more. A link to a directory seen before is skipped. */
static st_rc_t walk_links(walk_ctx_t *ctx)
{
    struct stat st;
    bool is_new;
    st_rc_t rc;

    for (size_t i = 0; i < ctx->links.n; i++) {
        const char *path = ctx->links.items[i].path;

        if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
            continue; /* changed under us since it was queued */
        if ((rc = seen_add(ctx, &st, &is_new)) != ST_OK)
            return rc;
        if (is_new && (rc = walk_dir(ctx, path, ctx->links_rel.items[i].path)) != ST_OK)
            return rc;
    }
    ctx->links.n = 0;
    ctx->links_rel.n = 0;
    return ST_OK;
}

/* The ignore rules for a directory argument: its work tree's (opened
 * once), none when it is in none or git ignores the argument itself. */
static st_rc_t git_for_arg(walk_ctx_t *ctx, const char *dir)
{
    gitignore_t *repo = NULL, **grown;
    st_err_t ignored = {0};
    st_rc_t rc;

    ctx->git = NULL;
    for (size_t i = 0; i < ctx->n_repos && repo == NULL; i++)
        if (gitignore_below(ctx->repos[i], dir, ctx->git_prefix, sizeof ctx->git_prefix))
            repo = ctx->repos[i];
    if (repo == NULL) {
        if ((rc = gitignore_open(dir, &repo, &ignored)) == ST_ENOMEM)
            return st_fail(ctx->err, rc, "walk: %s", ignored.msg);
        if (repo == NULL)
            return ST_OK; /* in no work tree, or unreadable: no rules */
        grown = st_realloc(ctx->repos, (ctx->n_repos + 1) * sizeof *grown);
        if (grown == NULL) {
            gitignore_destroy(&repo);
            return st_fail(ctx->err, ST_ENOMEM, "walk: out of memory");
        }
        ctx->repos = grown;
        ctx->repos[ctx->n_repos++] = repo;
        if (!gitignore_below(repo, dir, ctx->git_prefix, sizeof ctx->git_prefix))
            return ST_OK;
    }
    if (ctx->git_prefix[0] == '\0' || !gitignore_ignored(repo, ctx->git_prefix, true))
        ctx->git = repo;
    return ST_OK;
}

/* One PATH argument: a directory is walked, anything else is checked. */
static st_rc_t walk_arg(walk_ctx_t *ctx, const char *arg)
{
    struct stat st;
    bool is_new;
    st_rc_t rc;
    char *path = arena_strndup(ctx->arena, arg, strlen(arg));

    if (path == NULL)
        return st_fail(ctx->err, ST_ENOMEM, "walk: out of memory");
    if (stat(path, &st) != 0)
        return push_entry(ctx, &ctx->missing, path, 0, errno);
    if (!S_ISDIR(st.st_mode))
        return push_file(ctx, path, &st);
    if ((rc = seen_add(ctx, &st, &is_new)) != ST_OK || !is_new)
        return rc;
    if (ctx->opts->respect_gitignore && (rc = git_for_arg(ctx, path)) != ST_OK)
        return rc;
    if ((rc = walk_dir(ctx, path, "")) != ST_OK)
        return rc;
    return walk_links(ctx);
}

/* Sorts v by path and drops repeated paths (a file named twice). */
static void sort_unique(entry_vec_t *v)
{
    size_t kept = 0;

    if (v->n == 0)
        return;
    qsort(v->items, v->n, sizeof v->items[0], cmp_entries);
    for (size_t i = 1; i < v->n; i++)
        if (walk_path_cmp(v->items[i].path, v->items[kept].path) != 0)
            v->items[++kept] = v->items[i];
    v->n = kept + 1;
}

st_rc_t walk_paths(const char *const *paths, size_t n, const walk_opts_t *opts, walk_list_t *out,
                   st_err_t *err)
{
    walk_ctx_t ctx = {.opts = opts, .err = err};
    st_rc_t rc = ST_OK;

    if ((ctx.arena = arena_new(0)) == NULL)
        return st_fail(err, ST_ENOMEM, "walk: out of memory");
    for (size_t i = 0; i < n && rc == ST_OK; i++)
        rc = walk_arg(&ctx, paths[i]);
    st_free(ctx.seen);
    for (size_t i = 0; i < ctx.n_repos; i++)
        gitignore_destroy(&ctx.repos[i]);
    st_free(ctx.repos);
    if (rc != ST_OK) {
        arena_destroy(&ctx.arena);
        return rc;
    }
    sort_unique(&ctx.files);
    sort_unique(&ctx.unreadable);
    sort_unique(&ctx.extensions);
    *out = (walk_list_t){
        .extensions = ctx.extensions.items,
        .n_extensions = ctx.extensions.n,
        .arena = ctx.arena,
        .files = ctx.files.items,
        .n_files = ctx.files.n,
        .unreadable = ctx.unreadable.items,
        .n_unreadable = ctx.unreadable.n,
        .missing = ctx.missing.items,
        .n_missing = ctx.missing.n,
    };
    return ST_OK;
}

void walk_list_free(walk_list_t *list)
{
    if (list == NULL)
        return;
    arena_destroy(&list->arena);
    *list = (walk_list_t){0};
}
