/* scope.c - the context of a check: the project's files that were not
 * named (see scope.h).
 *
 * The roots are found with stat alone (is there an __init__ here?), the
 * context by one more walk with the same options as the arguments' (so
 * --exclude and the ignore rules leave out the same files), merged into the
 * arguments' list by the paths' normal form. */
#include "run/scope.h"

#include "common/alloc.h"
#include "common/hmap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_entry(const void *a, const void *b)
{
    return walk_path_cmp(((const walk_entry_t *)a)->path, ((const walk_entry_t *)b)->path);
}

static bool is_file(const char *dir, const char *name, char *buf, size_t cap)
{
    struct stat st;

    if ((size_t)snprintf(buf, cap, "%s/%s", dir, name) >= cap)
        return false;
    return stat(buf, &st) == 0 && S_ISREG(st.st_mode);
}

/* Whether dir holds __init__.py or __init__.pyi. */
static bool is_package(const char *dir)
{
    char buf[4096];

    return is_file(dir, "__init__.py", buf, sizeof buf) ||
           is_file(dir, "__init__.pyi", buf, sizeof buf);
}

/* The directory of a normal-form path: "." for a bare name. */
static char *dir_of(arena_t *a, const char *path)
{
    const char *slash = strrchr(path, '/');

    if (slash == NULL)
        return arena_strndup(a, ".", 1);
    return arena_strndup(a, path, slash == path ? 1 : (size_t)(slash - path));
}

/* The parent of a normal-form directory; NULL at ".", "/" and "..". */
static char *parent_of(arena_t *a, const char *dir)
{
    size_t len = strlen(dir);

    if (strcmp(dir, ".") == 0 || strcmp(dir, "/") == 0 || strcmp(dir, "..") == 0 ||
        (len >= 3 && strcmp(dir + len - 3, "/..") == 0))
        return NULL;
    return dir_of(a, dir);
}

/* The root of each directory climbed through so far (a file's directory,
 * the packages above it, and the first directory that is not one): the
 * arguments of one tree (pre-commit's long list of files) cost each
 * directory's stats once. Keys are normal-form directories; values point
 * at their roots, in the list's arena. */
typedef struct {
    hmap_t *roots;
} root_memo_t;

static const char *memo_get(const root_memo_t *memo, const char *dir)
{
    uint64_t v;

    return hmap_get(memo->roots, dir, strlen(dir), &v) == ST_OK ? (const char *)(uintptr_t)v : NULL;
}

/* The root of one argument in normal form, or NULL when the argument is a
 * directory that is its own root; *oom on allocation failure. is_file:
 * the walk listed the argument as a file. */
static const char *root_of_arg(arena_t *a, const char *arg, bool is_file, root_memo_t *memo,
                               bool *oom)
{
    struct stat st;
    char *dir, *up;
    const char *from, *known = NULL;

    if (!is_file && stat(arg, &st) == 0 && S_ISDIR(st.st_mode)) {
        if (!is_package(arg))
            return NULL;
        dir = arena_strndup(a, arg, strlen(arg));
    } else {
        dir = dir_of(a, arg);
    }
    if ((from = dir) == NULL) {
        *oom = true;
        return NULL;
    }
    /* climb until a directory that is no package, or one already known */
    while ((known = memo_get(memo, dir)) == NULL && is_package(dir) &&
           (up = parent_of(a, dir)) != NULL)
        dir = up;
    if (known == NULL)
        known = dir;
    /* every directory on the way has that root */
    for (const char *d = from; d != NULL && !*oom; d = parent_of(a, d)) {
        *oom = hmap_put(memo->roots, d, strlen(d), (uint64_t)(uintptr_t)known) != ST_OK;
        if (strcmp(d, dir) == 0)
            break;
    }
    return *oom ? NULL : known;
}

/* Whether the walk listed arg, as given, as a file (list->files is sorted). */
static bool listed_file(const walk_list_t *list, const char *arg)
{
    walk_entry_t key = {.path = arg};

    return list->n_files > 0 &&
           bsearch(&key, list->files, list->n_files, sizeof key, cmp_entry) != NULL;
}

/* Appends dir to dirs unless it is there already or is one of args. */
static st_rc_t add_dir(arena_t *a, const char ***dirs, size_t *n, size_t *cap, const char *dir,
                       const char *const *args, size_t n_args)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*dirs)[i], dir) == 0)
            return ST_OK;
    for (size_t i = 0; i < n_args; i++)
        if (strcmp(args[i], dir) == 0)
            return ST_OK;
    if (*n == *cap) {
        size_t grown_cap = *cap == 0 ? 8 : *cap * 2;
        const char **grown =
            arena_realloc(a, (void *)*dirs, *cap * sizeof **dirs, grown_cap * sizeof **dirs);
        if (grown == NULL)
            return ST_ENOMEM;
        *dirs = grown;
        *cap = grown_cap;
    }
    (*dirs)[(*n)++] = dir;
    return ST_OK;
}

st_rc_t scope_roots(walk_list_t *list, const char *const *args, size_t n_args,
                    const char *const *roots, size_t n_roots, const char ***dirs, size_t *n_dirs,
                    st_err_t *err)
{
    arena_t *a = list->arena;
    const char **norm = arena_calloc(a, n_args == 0 ? 1 : n_args, sizeof *norm);
    size_t n = 0, cap = 0, n_norm = 0;
    root_memo_t memo = {.roots = hmap_new_arena(a, HMAP_BYTES)};
    bool oom = norm == NULL || memo.roots == NULL;

    *dirs = NULL;
    for (size_t i = 0; i < n_args && !oom; i++) {
        struct stat st;
        const char *p = listed_file(list, args[i]) ? "" : walk_norm_path(a, args[i]);
        oom = p == NULL;
        if (p != NULL && p[0] != '\0' && stat(p, &st) == 0 && S_ISDIR(st.st_mode))
            norm[n_norm++] = p; /* directories the arguments' walk listed */
    }
    for (size_t i = 0; i < n_roots && !oom; i++) {
        const char *r = walk_norm_path(a, roots[i]);
        oom = r == NULL || add_dir(a, dirs, &n, &cap, r, norm, n_norm) != ST_OK;
    }
    for (size_t i = 0; i < n_args && n_roots == 0 && !oom; i++) {
        const char *p = walk_norm_path(a, args[i]), *r = NULL;
        if (p != NULL)
            r = root_of_arg(a, p, listed_file(list, args[i]), &memo, &oom);
        oom = oom || p == NULL;
        if (r != NULL && !oom)
            oom = add_dir(a, dirs, &n, &cap, r, norm, n_norm) != ST_OK;
    }
    if (oom)
        return st_fail(err, ST_ENOMEM, "out of memory finding the project's roots");
    *n_dirs = n;
    return ST_OK;
}

/* The normal forms of v[0..n)'s paths, sorted (for bsearch); NULL: ENOMEM. */
static const char **norm_set(arena_t *a, const walk_entry_t *v, size_t n)
{
    const char **set = arena_calloc(a, n == 0 ? 1 : n, sizeof *set);

    for (size_t i = 0; set != NULL && i < n; i++)
        if ((set[i] = walk_norm_path(a, v[i].path)) == NULL)
            return NULL;
    if (set != NULL && n > 0)
        qsort(set, n, sizeof *set, cmp_str);
    return set;
}

/* have[0..n_have) plus the entries of more[0..n_more) that it does not hold,
 * marked context when files; sorted, in a. NULL: ENOMEM. */
static walk_entry_t *merge(arena_t *a, const walk_entry_t *have, size_t n_have,
                           const walk_entry_t *more, size_t n_more, bool files, size_t *n_out)
{
    const char **set = norm_set(a, have, n_have);
    walk_entry_t *out = arena_calloc(a, n_have + n_more + 1, sizeof *out);
    size_t n = n_have;

    if (set == NULL || out == NULL)
        return NULL;
    if (n_have > 0)
        memcpy(out, have, n_have * sizeof *out);
    for (size_t i = 0; i < n_more; i++) {
        const char *key = walk_norm_path(a, more[i].path);
        if (key == NULL)
            return NULL;
        if (n_have > 0 && bsearch(&key, set, n_have, sizeof *set, cmp_str) != NULL)
            continue;
        out[n] = more[i];
        out[n++].context = files;
    }
    if (n > 0)
        qsort(out, n, sizeof *out, cmp_entry);
    *n_out = n;
    return out;
}

/* The list's extensions plus the context's that are neither among them nor
 * among the list's files (a named file git ignores is checked, not a
 * stand-in). NULL: ENOMEM. */
static walk_entry_t *merge_extensions(walk_list_t *list, const walk_list_t *more, size_t *n_out)
{
    size_t n_have = list->n_extensions + list->n_files;
    walk_entry_t *have = arena_calloc(list->arena, n_have + 1, sizeof *have), *out;
    size_t n = 0, kept = 0;

    if (have == NULL)
        return NULL;
    if (list->n_files > 0)
        memcpy(have, list->files, list->n_files * sizeof *have);
    if (list->n_extensions > 0)
        memcpy(have + list->n_files, list->extensions, list->n_extensions * sizeof *have);
    out = merge(list->arena, have, n_have, more->extensions, more->n_extensions, false, &n);
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) /* the files were only there to be matched */
        if (list->n_files == 0 ||
            bsearch(&out[i], list->files, list->n_files, sizeof *list->files, cmp_entry) == NULL)
            out[kept++] = out[i];
    *n_out = kept;
    return out;
}

st_rc_t scope_add_context(walk_list_t *list, const char *const *dirs, size_t n_dirs,
                          const walk_opts_t *opts, st_err_t *err)
{
    walk_list_t more;
    walk_entry_t *files, *exts;
    size_t n_files = 0, n_exts = 0;
    st_rc_t rc;

    walk_opts_t context_opts = *opts;

    if (n_dirs == 0)
        return ST_OK;
    /* the named files are not walked again */
    if ((context_opts.known = norm_set(list->arena, list->files, list->n_files)) == NULL)
        return st_fail(err, ST_ENOMEM, "out of memory listing the project's files");
    context_opts.n_known = list->n_files;
    if ((rc = walk_paths(dirs, n_dirs, &context_opts, &more, err)) != ST_OK)
        return rc;
    /* the context's paths must outlive its walk: copied into the list */
    for (size_t i = 0; i < more.n_files; i++)
        if ((more.files[i].path = arena_strndup(list->arena, more.files[i].path,
                                                strlen(more.files[i].path))) == NULL)
            goto oom;
    for (size_t i = 0; i < more.n_extensions; i++)
        if ((more.extensions[i].path = arena_strndup(list->arena, more.extensions[i].path,
                                                     strlen(more.extensions[i].path))) == NULL)
            goto oom;
    files =
        merge(list->arena, list->files, list->n_files, more.files, more.n_files, true, &n_files);
    exts = merge_extensions(list, &more, &n_exts);
    if (files == NULL || exts == NULL)
        goto oom;
    walk_list_free(&more);
    list->files = files;
    list->n_files = n_files;
    list->extensions = exts;
    list->n_extensions = n_exts;
    return ST_OK;
oom:
    walk_list_free(&more);
    return st_fail(err, ST_ENOMEM, "out of memory listing the project's files");
}
