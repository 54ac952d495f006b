/* resolve.c - the module table of a project and import resolution.
 *
 * Everything is decided from the list of paths: a directory "exists" when a
 * listed file is below it, a package when its __init__.py(i) is listed. So
 * the table is a pure function of (roots, args, files) and the scheduler can
 * rebuild it on any machine without touching the disk.
 *
 * Building: paths are normalised once; each file gets the first root that
 * contains it (or a root detected for it alone), and every prefix of its
 * dotted name becomes a module (the directories on the way are packages,
 * namespace ones until an __init__ says otherwise). The parent of a module is
 * the structural one (the directory above; the deepest one when odd names
 * reach a module from two directories). Modules are then sorted by name so
 * ids do not depend on the order of the file list, and children lists come
 * out sorted for free: siblings share their parent's name as a prefix.
 *
 * The resolver owns its memory: strings in an arena, tables on the heap; it
 * is immutable after resolver_new, so any number of threads may read it. */
#include "resolve.h"

#include "stdlib_names.h"

#include "common/alloc.h"
#include "common/arena.h"
#include "common/buf.h"
#include "common/hmap.h"

#include <stdlib.h>
#include <string.h>

/* How strongly a file claims its module; lower wins within one root. A
 * regular package beats a module file of the same name (Python's finder
 * looks for the package directory first), a stub beats its .py. */
enum { RANK_INIT_PYI, RANK_INIT_PY, RANK_PYI, RANK_PY, RANK_OTHER };

typedef struct {
    const char *name; /* arena, NUL-terminated */
    uint32_t len;
    uint32_t file;   /* preferred file; RES_NONE for a namespace package */
    uint32_t parent; /* RES_NONE at top level */
    uint32_t sub_off, n_subs;
    uint32_t best_root; /* build: root and rank of the preferred file */
    uint8_t best_rank;
    uint32_t tmp; /* build: index before sorting */
} module_t;

typedef struct {
    uint32_t module;
    bool is_init; /* the __init__ of a package (level 1 is the package) */
} file_t;

struct resolver {
    arena_t *arena;
    const char **roots;
    size_t n_roots, roots_cap;
    module_t *mods;
    uint32_t n_mods, mods_cap;
    uint32_t *subs;
    file_t *files;
    size_t n_files;
    hmap_t *by_name; /* dotted name -> module id */
};

/* A borrowed piece of a path. */
typedef struct {
    const char *p;
    size_t len;
} piece_t;

/* State needed only while building. */
typedef struct {
    resolver_t *r;
    const char **paths; /* normalised file paths, arena */
    size_t *path_lens;
    const char *const *names; /* library files' module names (NULL entries: project files) */
    bool names_first;         /* library files rank with the first root */
    hmap_t *path_set;         /* normalised path -> first file index */
    hmap_t *root_set;         /* root -> index in r->roots */
    size_t n_base_roots;      /* given or detected from the arguments */
    buf_t scratch;
} build_t;

/* ---------------------------------------------------------------- paths */

/* p without "." segments, empty segments and trailing slashes ("." when
 * nothing is left of a relative path). ".." is kept: paths are compared as
 * given. NULL when the arena is exhausted. */
static char *norm_path(arena_t *a, const char *p)
{
    size_t n = strlen(p), i = 0, j = 0;
    char *out = arena_alloc(a, n + 2);

    if (out == NULL)
        return NULL;
    if (p[0] == '/')
        out[j++] = '/';
    while (i < n) {
        size_t start;
        while (i < n && p[i] == '/')
            i++;
        start = i;
        while (i < n && p[i] != '/')
            i++;
        if (i == start || (i - start == 1 && p[start] == '.'))
            continue;
        if (j > 0 && out[j - 1] != '/')
            out[j++] = '/';
        memcpy(out + j, p + start, i - start);
        j += i - start;
    }
    if (j == 0)
        out[j++] = '.';
    out[j] = '\0';
    return out;
}

static bool piece_is(piece_t s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n && memcmp(s.p, lit, n) == 0;
}

static bool ends_with(const char *p, size_t len, const char *suffix)
{
    size_t n = strlen(suffix);
    return len >= n && memcmp(p + len - n, suffix, n) == 0;
}

static bool is_python_path(const char *p, size_t len)
{
    return ends_with(p, len, ".py") || ends_with(p, len, ".pyi");
}

/* The directory holding path: "." for a bare name, "/" for "/name". */
static piece_t dir_of(piece_t path)
{
    size_t i = path.len;
    while (i > 0 && path.p[i - 1] != '/')
        i--;
    if (i == 0)
        return (piece_t){".", 1};
    if (i == 1)
        return (piece_t){path.p, 1};
    return (piece_t){path.p, i - 1};
}

/* The directory above dir; false at ".", "/" and ".." (the walk's paths are
 * relative to those, nothing above them is listed). */
static bool parent_dir(piece_t dir, piece_t *up)
{
    if (piece_is(dir, ".") || piece_is(dir, "/") || piece_is(dir, "..") ||
        ends_with(dir.p, dir.len, "/.."))
        return false;
    *up = dir_of(dir);
    return true;
}

/* The part of path below root, or NULL when root does not contain it. A
 * ".." segment below the root leaves it. */
static const char *under_root(const char *root, size_t root_len, const char *path, size_t len)
{
    const char *rel;
    size_t i = 0;

    if (root_len == 1 && root[0] == '.') {
        if (path[0] == '/')
            return NULL;
        rel = path;
    } else if (root_len == 1 && root[0] == '/') {
        if (path[0] != '/')
            return NULL;
        rel = path + 1;
    } else {
        if (len <= root_len + 1 || memcmp(path, root, root_len) != 0 || path[root_len] != '/')
            return NULL;
        rel = path + root_len + 1;
    }
    if (rel[0] == '\0' || (rel[0] == '.' && strcmp(rel, ".") == 0))
        return NULL;
    while (rel[i] != '\0') {
        size_t start = i;
        while (rel[i] != '\0' && rel[i] != '/')
            i++;
        if (i - start == 2 && rel[start] == '.' && rel[start + 1] == '.')
            return NULL;
        if (rel[i] == '/')
            i++;
    }
    return rel;
}

/* ---------------------------------------------------------- build steps */

static bool has_file(const build_t *b, const char *p, size_t len)
{
    return hmap_get(b->path_set, p, len, NULL) == ST_OK;
}

/* dir/name in the scratch buffer. */
static st_rc_t join(build_t *b, piece_t dir, const char *name, piece_t *out)
{
    st_rc_t rc;

    buf_reset(&b->scratch);
    if (!piece_is(dir, ".")) {
        if ((rc = buf_append(&b->scratch, dir.p, dir.len)) != ST_OK)
            return rc;
        if (!piece_is(dir, "/") && (rc = buf_append_byte(&b->scratch, '/')) != ST_OK)
            return rc;
    }
    if ((rc = buf_append(&b->scratch, name, strlen(name))) != ST_OK)
        return rc;
    *out = (piece_t){(const char *)b->scratch.data, b->scratch.len};
    return ST_OK;
}

/* Whether dir has a listed __init__.py or __init__.pyi. */
static st_rc_t is_package_dir(build_t *b, piece_t dir, bool *yes)
{
    piece_t init;
    st_rc_t rc;

    if ((rc = join(b, dir, "__init__.py", &init)) != ST_OK)
        return rc;
    if (has_file(b, init.p, init.len)) {
        *yes = true;
        return ST_OK;
    }
    if ((rc = join(b, dir, "__init__.pyi", &init)) != ST_OK)
        return rc;
    *yes = has_file(b, init.p, init.len);
    return ST_OK;
}

/* The nearest of dir and its ancestors that is not a package. */
static st_rc_t non_package_ancestor(build_t *b, piece_t dir, piece_t *out)
{
    bool pkg;
    st_rc_t rc;

    for (;;) {
        if ((rc = is_package_dir(b, dir, &pkg)) != ST_OK)
            return rc;
        if (!pkg || !parent_dir(dir, &dir))
            break;
    }
    *out = dir;
    return ST_OK;
}

/* Appends root (deduplicated); *index receives its position. */
static st_rc_t add_root(build_t *b, piece_t root, size_t *index)
{
    resolver_t *r = b->r;
    uint64_t v;
    char *copy;

    if (hmap_get(b->root_set, root.p, root.len, &v) == ST_OK) {
        *index = (size_t)v;
        return ST_OK;
    }
    if (r->n_roots == r->roots_cap) {
        size_t cap = r->roots_cap ? r->roots_cap * 2 : 8;
        const char **grown = st_realloc(r->roots, cap * sizeof *grown);
        if (grown == NULL)
            return ST_ENOMEM;
        r->roots = grown;
        r->roots_cap = cap;
    }
    if ((copy = arena_strndup(r->arena, root.p, root.len)) == NULL)
        return ST_ENOMEM;
    if (hmap_put(b->root_set, copy, root.len, r->n_roots) != ST_OK)
        return ST_ENOMEM;
    r->roots[r->n_roots] = copy;
    *index = r->n_roots++;
    return ST_OK;
}

/* Whether an argument names a file: it is listed, or it has a Python name
 * and nothing is listed below it. */
static bool arg_is_file(const build_t *b, const char *a, size_t len)
{
    if (has_file(b, a, len))
        return true;
    if (!is_python_path(a, len))
        return false;
    for (size_t i = 0; i < b->r->n_files; i++)
        if (under_root(a, len, b->paths[i], b->path_lens[i]) != NULL)
            return false;
    return true;
}

/* src layout: dir/src holds Python files, is not a package, and dir has no
 * Python file of its own. */
static st_rc_t is_src_layout(build_t *b, piece_t dir, bool *yes)
{
    bool src_py = false, src_pkg;
    piece_t src;
    char *src_copy;
    st_rc_t rc;

    *yes = false;
    if ((rc = join(b, dir, "src", &src)) != ST_OK)
        return rc;
    if ((src_copy = arena_strndup(b->r->arena, src.p, src.len)) == NULL)
        return ST_ENOMEM;
    for (size_t i = 0; i < b->r->n_files; i++) {
        const char *p = b->paths[i];
        size_t len = b->path_lens[i];
        if (!is_python_path(p, len))
            continue;
        piece_t d = dir_of((piece_t){p, len});
        if (d.len == dir.len && memcmp(d.p, dir.p, dir.len) == 0)
            return ST_OK; /* a top-level .py: not a src layout */
        if (under_root(src_copy, src.len, p, len) != NULL)
            src_py = true;
    }
    if (!src_py)
        return ST_OK;
    if ((rc = is_package_dir(b, (piece_t){src_copy, src.len}, &src_pkg)) != ST_OK)
        return rc;
    *yes = !src_pkg;
    return ST_OK;
}

/* The roots one path argument gives (see resolve.h). */
static st_rc_t roots_of_arg(build_t *b, const char *arg)
{
    const char *a = norm_path(b->r->arena, arg);
    piece_t dir, root;
    bool pkg, src;
    size_t idx;
    st_rc_t rc;

    if (a == NULL)
        return ST_ENOMEM;
    dir = (piece_t){a, strlen(a)};
    if (arg_is_file(b, dir.p, dir.len))
        dir = dir_of(dir);
    else if ((rc = is_package_dir(b, dir, &pkg)) != ST_OK)
        return rc;
    else if (!pkg) {
        if ((rc = is_src_layout(b, dir, &src)) != ST_OK)
            return rc;
        if (src) {
            piece_t s;
            if ((rc = join(b, dir, "src", &s)) != ST_OK || (rc = add_root(b, s, &idx)) != ST_OK)
                return rc;
        }
        return add_root(b, dir, &idx);
    }
    if ((rc = non_package_ancestor(b, dir, &root)) != ST_OK)
        return rc;
    return add_root(b, root, &idx);
}

/* The module called name[0..len), created (with parent) when new. */
static st_rc_t module_get(build_t *b, const char *name, size_t len, uint32_t parent, uint32_t *id)
{
    resolver_t *r = b->r;
    module_t *m;
    uint64_t v;
    char *copy;

    if (hmap_get(r->by_name, name, len, &v) == ST_OK) {
        /* Reached again from another directory (only odd names such as
         * a/b.c.py do that): the deepest parent wins, whatever the order. */
        m = &r->mods[v];
        if (parent != RES_NONE &&
            (m->parent == RES_NONE || r->mods[m->parent].len < r->mods[parent].len))
            m->parent = parent;
        *id = (uint32_t)v;
        return ST_OK;
    }
    if (len >= UINT32_MAX || r->n_mods >= UINT32_MAX - 1)
        return ST_ELIMIT;
    if (r->n_mods == r->mods_cap) {
        uint32_t cap = r->mods_cap ? r->mods_cap * 2 : 64;
        module_t *grown;
        if (cap < r->mods_cap || cap >= UINT32_MAX)
            cap = UINT32_MAX - 1;
        if ((grown = st_realloc(r->mods, (size_t)cap * sizeof *grown)) == NULL)
            return ST_ENOMEM;
        r->mods = grown;
        r->mods_cap = cap;
    }
    if ((copy = arena_strndup(r->arena, name, len)) == NULL ||
        hmap_put(r->by_name, copy, len, r->n_mods) != ST_OK)
        return ST_ENOMEM;
    m = &r->mods[r->n_mods];
    *m = (module_t){copy, (uint32_t)len, RES_NONE, parent, 0, 0, UINT32_MAX, 0, r->n_mods};
    *id = r->n_mods++;
    return ST_OK;
}

/* The last segment of rel as a module name: the extension dropped, and how
 * strongly the file claims it. */
static piece_t stem_of(piece_t base, int *rank, bool *is_init)
{
    piece_t stem = base;
    int ext = RANK_OTHER;

    if (ends_with(base.p, base.len, ".pyi") && base.len > 4) {
        stem.len -= 4;
        ext = RANK_PYI;
    } else if (ends_with(base.p, base.len, ".py") && base.len > 3) {
        stem.len -= 3;
        ext = RANK_PY;
    } else {
        const char *dot = memrchr(base.p, '.', base.len);
        if (dot != NULL && dot > base.p)
            stem.len = (size_t)(dot - base.p);
    }
    *is_init = ext != RANK_OTHER && piece_is(stem, "__init__");
    *rank = *is_init ? (ext == RANK_PYI ? RANK_INIT_PYI : RANK_INIT_PY) : ext;
    return stem;
}

/* Gives file i, found at rel below root, its module and the modules of the
 * directories on the way. */
static st_rc_t assign_file(build_t *b, size_t i, size_t root, const char *rel)
{
    resolver_t *r = b->r;
    size_t rel_len = strlen(rel), start = 0;
    uint32_t parent = RES_NONE, id = RES_NONE;
    const char *slash = memrchr(rel, '/', rel_len);
    size_t dirs_end = slash ? (size_t)(slash - rel) : 0;
    piece_t stem;
    bool is_init;
    int rank;
    st_rc_t rc;

    piece_t base = {slash ? slash + 1 : rel, rel_len - (slash ? dirs_end + 1 : 0)};

    if (base.len == 0) /* "/" itself: one segment, as it is */
        base = (piece_t){rel, rel_len}, slash = NULL, dirs_end = 0;
    stem = stem_of(base, &rank, &is_init);
    if (stem.len == 0)
        stem = base;
    if (is_init && slash == NULL)
        is_init = false, rank = rank == RANK_INIT_PYI ? RANK_PYI : RANK_PY;
    buf_reset(&b->scratch);
    while (slash != NULL && start < dirs_end) { /* the directories: packages */
        const char *seg_end = memchr(rel + start, '/', dirs_end - start);
        size_t end = seg_end ? (size_t)(seg_end - rel) : dirs_end;
        if ((b->scratch.len > 0 && (rc = buf_append_byte(&b->scratch, '.')) != ST_OK) ||
            (rc = buf_append(&b->scratch, rel + start, end - start)) != ST_OK ||
            (rc = module_get(b, (const char *)b->scratch.data, b->scratch.len, parent, &id)) !=
                ST_OK)
            return rc;
        parent = id;
        start = end + 1;
    }
    if (!is_init) {
        if ((b->scratch.len > 0 && (rc = buf_append_byte(&b->scratch, '.')) != ST_OK) ||
            (rc = buf_append(&b->scratch, stem.p, stem.len)) != ST_OK ||
            (rc = module_get(b, (const char *)b->scratch.data, b->scratch.len, parent, &id)) !=
                ST_OK)
            return rc;
    }
    r->files[i] = (file_t){id, is_init};
    module_t *m = &r->mods[id];
    if (root > b->n_base_roots)
        root = b->n_base_roots; /* files' own roots rank alike, after the others */
    if (root < m->best_root || (root == m->best_root && rank < m->best_rank)) {
        m->best_root = (uint32_t)root;
        m->best_rank = (uint8_t)rank;
        m->file = (uint32_t)i;
    }
    return ST_OK;
}

/* Gives library file i the module its finder named: its rank within the
 * name from its base name, its root after every other (a project's file of
 * the same name wins). */
static st_rc_t assign_named(build_t *b, size_t i, const char *name)
{
    resolver_t *r = b->r;
    const char *slash = strrchr(b->paths[i], '/');
    piece_t base = {slash ? slash + 1 : b->paths[i], 0};
    size_t len = strlen(name), start = 0;
    uint32_t parent = RES_NONE, id = RES_NONE;
    bool is_init;
    int rank;
    st_rc_t rc;

    base.len = strlen(base.p);
    (void)stem_of(base, &rank, &is_init);
    if (len == 0)
        return ST_EINVAL;
    while (start <= len) {
        const char *dot = memchr(name + start, '.', len - start);
        size_t end = dot ? (size_t)(dot - name) : len;
        if ((rc = module_get(b, name, end, parent, &id)) != ST_OK)
            return rc;
        parent = id;
        start = end + 1;
    }
    r->files[i] = (file_t){id, is_init};
    module_t *m = &r->mods[id];
    size_t root = b->names_first ? 0 : b->n_base_roots + 1;
    if (root < m->best_root || (root == m->best_root && rank < m->best_rank)) {
        m->best_root = (uint32_t)root;
        m->best_rank = (uint8_t)rank;
        m->file = (uint32_t)i;
    }
    return ST_OK;
}

/* The root of file i: the first containing it, else its own. */
static st_rc_t place_file(build_t *b, size_t i)
{
    resolver_t *r = b->r;
    const char *p = b->paths[i], *rel = NULL;
    size_t len = b->path_lens[i], root = 0;
    piece_t dir;
    st_rc_t rc;

    if (b->names != NULL && b->names[i] != NULL)
        return assign_named(b, i, b->names[i]);

    for (; root < b->n_base_roots && rel == NULL; root++)
        rel = under_root(r->roots[root], strlen(r->roots[root]), p, len);
    if (rel != NULL)
        return assign_file(b, i, root - 1, rel);
    if ((rc = non_package_ancestor(b, dir_of((piece_t){p, len}), &dir)) != ST_OK ||
        (rc = add_root(b, dir, &root)) != ST_OK)
        return rc;
    rel = under_root(r->roots[root], dir.len, p, len);
    if (rel == NULL) { /* ".", "/", "a/..": name it by its last segment */
        const char *slash = strrchr(p, '/');
        rel = slash != NULL && slash[1] != '\0' ? slash + 1 : p;
    }
    return assign_file(b, i, root, rel);
}

static int cmp_module(const void *pa, const void *pb)
{
    const module_t *a = pa, *b = pb;
    int c = memcmp(a->name, b->name, a->len < b->len ? a->len : b->len);
    if (c != 0)
        return c;
    return a->len < b->len ? -1 : a->len > b->len ? 1 : 0;
}

/* Sorts the modules by name, renumbers every reference, fills the package
 * flags' source (files) and the children lists. */
static st_rc_t finish_modules(resolver_t *r)
{
    uint32_t n = r->n_mods, *new_id = st_calloc(n ? n : 1, sizeof *new_id);

    if (new_id == NULL || (r->subs = st_calloc(n ? n : 1, sizeof *r->subs)) == NULL) {
        st_free(new_id);
        return ST_ENOMEM;
    }
    if (n > 0)
        qsort(r->mods, n, sizeof *r->mods, cmp_module);
    for (uint32_t id = 0; id < n; id++)
        new_id[r->mods[id].tmp] = id;
    for (uint32_t id = 0; id < n; id++) {
        module_t *m = &r->mods[id];
        if (m->parent != RES_NONE)
            m->parent = new_id[m->parent];
        (void)hmap_put(r->by_name, m->name, m->len, id); /* replaces: cannot fail */
        if (m->parent != RES_NONE)
            r->mods[m->parent].n_subs++;
    }
    for (size_t i = 0; i < r->n_files; i++)
        r->files[i].module = new_id[r->files[i].module];
    for (uint32_t id = 0, off = 0; id < n; id++) {
        r->mods[id].sub_off = off;
        off += r->mods[id].n_subs;
        r->mods[id].n_subs = 0;
    }
    for (uint32_t id = 0; id < n; id++) { /* id order: each list sorted */
        module_t *p = r->mods[id].parent != RES_NONE ? &r->mods[r->mods[id].parent] : NULL;
        if (p != NULL)
            r->subs[p->sub_off + p->n_subs++] = id;
    }
    st_free(new_id);
    return ST_OK;
}

/* Checks the arguments of resolver_new. */
static st_rc_t check_args(const char *const *roots, size_t n_roots, const char *const *args,
                          size_t n_args, const char *const *files, size_t n_files, st_err_t *err)
{
    if ((n_roots && roots == NULL) || (n_args && args == NULL) || (n_files && files == NULL))
        return st_fail(err, ST_EINVAL, "resolver: NULL list");
    if (n_files >= UINT32_MAX)
        return st_fail(err, ST_ELIMIT, "resolver: %zu files, at most %u", n_files, UINT32_MAX - 1);
    for (size_t i = 0; i < n_roots; i++)
        if (roots[i] == NULL || roots[i][0] == '\0')
            return st_fail(err, ST_EINVAL, "resolver: root %zu is not a directory name", i);
    for (size_t i = 0; i < n_args; i++)
        if (args[i] == NULL)
            return st_fail(err, ST_EINVAL, "resolver: path argument %zu is NULL", i);
    for (size_t i = 0; i < n_files; i++)
        if (files[i] == NULL)
            return st_fail(err, ST_EINVAL, "resolver: file %zu is NULL", i);
    return ST_OK;
}

/* Normalises the files into b and indexes them by path. */
static st_rc_t load_files(build_t *b, const char *const *files)
{
    resolver_t *r = b->r;
    size_t n = r->n_files ? r->n_files : 1;

    if ((b->paths = st_calloc(n, sizeof *b->paths)) == NULL ||
        (b->path_lens = st_calloc(n, sizeof *b->path_lens)) == NULL ||
        (r->files = st_calloc(n, sizeof *r->files)) == NULL)
        return ST_ENOMEM;
    for (size_t i = 0; i < r->n_files; i++) {
        if ((b->paths[i] = norm_path(r->arena, files[i])) == NULL)
            return ST_ENOMEM;
        b->path_lens[i] = strlen(b->paths[i]);
        if (has_file(b, b->paths[i], b->path_lens[i]))
            continue;
        if (hmap_put(b->path_set, b->paths[i], b->path_lens[i], i) != ST_OK)
            return ST_ENOMEM;
    }
    return ST_OK;
}

static st_rc_t build(build_t *b, const char *const *roots, size_t n_roots, const char *const *args,
                     size_t n_args, const char *const *files)
{
    resolver_t *r = b->r;
    st_rc_t rc;

    if ((rc = load_files(b, files)) != ST_OK)
        return rc;
    for (size_t i = 0; i < n_roots; i++) {
        const char *root = norm_path(r->arena, roots[i]);
        size_t idx;
        if (root == NULL)
            return ST_ENOMEM;
        if ((rc = add_root(b, (piece_t){root, strlen(root)}, &idx)) != ST_OK)
            return rc;
    }
    for (size_t i = 0; n_roots == 0 && i < n_args; i++)
        if ((rc = roots_of_arg(b, args[i])) != ST_OK)
            return rc;
    b->n_base_roots = r->n_roots;
    for (size_t i = 0; i < r->n_files; i++)
        if ((rc = place_file(b, i)) != ST_OK)
            return rc;
    return finish_modules(r);
}

st_rc_t resolver_new(const char *const *roots, size_t n_roots, const char *const *args,
                     size_t n_args, const char *const *files, size_t n_files, resolver_t **out,
                     st_err_t *err)
{
    return resolver_new_named(roots, n_roots, args, n_args, files, NULL, false, n_files, out, err);
}

st_rc_t resolver_new_named(const char *const *roots, size_t n_roots, const char *const *args,
                           size_t n_args, const char *const *files, const char *const *names,
                           bool names_first, size_t n_files, resolver_t **out, st_err_t *err)
{
    build_t b = {.names = names, .names_first = names_first};
    resolver_t *r;
    st_rc_t rc;

    if (out == NULL)
        return st_fail(err, ST_EINVAL, "resolver: NULL out");
    if ((rc = check_args(roots, n_roots, args, n_args, files, n_files, err)) != ST_OK)
        return rc;
    if ((r = st_calloc(1, sizeof *r)) == NULL)
        return st_fail(err, ST_ENOMEM, "resolver: out of memory");
    r->n_files = n_files;
    b.r = r;
    buf_init(&b.scratch);
    if ((r->arena = arena_new(0)) == NULL || (r->by_name = hmap_new(HMAP_BYTES)) == NULL ||
        (b.path_set = hmap_new(HMAP_BYTES)) == NULL || (b.root_set = hmap_new(HMAP_BYTES)) == NULL)
        rc = ST_ENOMEM;
    else
        rc = build(&b, roots, n_roots, args, n_args, files);
    st_free(b.paths);
    st_free(b.path_lens);
    hmap_destroy(&b.path_set);
    hmap_destroy(&b.root_set);
    buf_free(&b.scratch);
    if (rc != ST_OK) {
        resolver_destroy(&r);
        return st_fail(err, rc, "resolver: %s building the module table", st_strerror(rc));
    }
    *out = r;
    return ST_OK;
}

void resolver_destroy(resolver_t **self_p)
{
    resolver_t *r;

    if (self_p == NULL || (r = *self_p) == NULL)
        return;
    hmap_destroy(&r->by_name);
    arena_destroy(&r->arena);
    st_free(r->roots);
    st_free(r->mods);
    st_free(r->subs);
    st_free(r->files);
    st_free(r);
    *self_p = NULL;
}

/* ------------------------------------------------------------ accessors */

size_t resolver_n_roots(const resolver_t *self)
{
    return self ? self->n_roots : 0;
}

const char *resolver_root(const resolver_t *self, size_t i)
{
    return self && i < self->n_roots ? self->roots[i] : NULL;
}

uint32_t resolver_n_modules(const resolver_t *self)
{
    return self ? self->n_mods : 0;
}

static const module_t *mod(const resolver_t *self, uint32_t id)
{
    return self && id < self->n_mods ? &self->mods[id] : NULL;
}

const char *resolver_module_name(const resolver_t *self, uint32_t module)
{
    const module_t *m = mod(self, module);
    return m ? m->name : NULL;
}

uint32_t resolver_module_file(const resolver_t *self, uint32_t module)
{
    const module_t *m = mod(self, module);
    return m ? m->file : RES_NONE;
}

bool resolver_module_is_package(const resolver_t *self, uint32_t module)
{
    const module_t *m = mod(self, module);
    return m != NULL && (m->file == RES_NONE || self->files[m->file].is_init);
}

uint32_t resolver_module_parent(const resolver_t *self, uint32_t module)
{
    const module_t *m = mod(self, module);
    return m ? m->parent : RES_NONE;
}

const uint32_t *resolver_submodules(const resolver_t *self, uint32_t module, size_t *n)
{
    const module_t *m = mod(self, module);
    if (n != NULL)
        *n = m ? m->n_subs : 0;
    return m ? self->subs + m->sub_off : NULL;
}

uint32_t resolver_find(const resolver_t *self, const char *dotted, size_t len)
{
    uint64_t v;

    if (self == NULL || (dotted == NULL && len > 0))
        return RES_NONE;
    if (hmap_get(self->by_name, dotted ? dotted : "", len, &v) == ST_OK)
        return (uint32_t)v;
    /* `import pkg.__init__` imports the package's __init__: pkg */
    if (len > 9 && memcmp(dotted + len - 9, ".__init__", 9) == 0 &&
        hmap_get(self->by_name, dotted, len - 9, &v) == ST_OK &&
        resolver_module_is_package(self, (uint32_t)v))
        return (uint32_t)v;
    return RES_NONE;
}

uint32_t resolver_file_module(const resolver_t *self, size_t file)
{
    return self && file < self->n_files ? self->files[file].module : RES_NONE;
}

bool resolver_is_stdlib(const char *top, size_t len)
{
    return stdlib_names_contains(top, len);
}

/* ------------------------------------------------------------ resolving */

/* The verdict on an absolute name that is not a project module. */
static res_kind_t absolute_miss(const resolver_t *self, const char *name, size_t len)
{
    const char *dot = memchr(name, '.', len);
    size_t top_len = dot ? (size_t)(dot - name) : len;
    bool stdlib = resolver_is_stdlib(name, top_len);
    uint32_t deepest = RES_NONE;

    if (top_len == 0)
        return RES_UNRESOLVED;
    if (resolver_find(self, name, top_len) == RES_NONE)
        return stdlib ? RES_STDLIB : RES_EXTERNAL;
    for (size_t end = len; deepest == RES_NONE && end > top_len; end--)
        if (name[end - 1] == '.')
            deepest = resolver_find(self, name, end - 1);
    if (deepest == RES_NONE)
        deepest = resolver_find(self, name, top_len);
    /* A project shadowing a standard name: below a namespace package or a
     * plain module the rest can come from the real one (os.path). */
    if (stdlib &&
        !(self->mods[deepest].file != RES_NONE && self->files[self->mods[deepest].file].is_init))
        return RES_STDLIB;
    return RES_UNRESOLVED;
}

/* Writes module id's own name over abs (pkg for pkg.__init__: never longer). */
static void canonical(const resolver_t *self, uint32_t id, char *abs)
{
    memcpy(abs, self->mods[id].name, self->mods[id].len);
    abs[self->mods[id].len] = '\0';
}

st_rc_t resolver_resolve(const resolver_t *self, size_t file, uint32_t level, const char *module,
                         size_t module_len, res_kind_t *kind, char *abs, size_t abs_cap,
                         uint32_t *module_id)
{
    uint32_t pkg, id;
    size_t need, plen;

    if (self == NULL || file >= self->n_files || kind == NULL || module_id == NULL ||
        (module == NULL && module_len > 0) || (abs == NULL && abs_cap > 0))
        return ST_EINVAL;
    if (level == 0) {
        if (module_len >= abs_cap)
            return ST_ELIMIT;
        if (module_len > 0)
            memcpy(abs, module, module_len);
        abs[module_len] = '\0';
        id = module_len ? resolver_find(self, abs, module_len) : RES_NONE;
        *module_id = RES_NONE;
        if (module_len == 0)
            *kind = RES_UNRESOLVED;
        else if (module_len == 10 && memcmp(abs, "__future__", 10) == 0)
            *kind = RES_FUTURE;
        else if (id != RES_NONE)
            *kind = RES_PROJECT, *module_id = id, canonical(self, id, abs);
        else
            *kind = absolute_miss(self, abs, module_len);
        return ST_OK;
    }
    id = self->files[file].module;
    pkg = self->files[file].is_init ? id : self->mods[id].parent;
    for (uint32_t k = 1; k < level && pkg != RES_NONE; k++)
        pkg = self->mods[pkg].parent;
    if (pkg == RES_NONE) { /* above the top level: the text as written */
        if (!st_add_size(level, module_len, &need) || need >= abs_cap)
            return ST_ELIMIT;
        memset(abs, '.', level);
        if (module_len > 0)
            memcpy(abs + level, module, module_len);
        abs[need] = '\0';
        *kind = RES_UNRESOLVED;
        *module_id = RES_NONE;
        return ST_OK;
    }
    plen = self->mods[pkg].len;
    if (!st_add_size(plen, module_len ? module_len + 1 : 0, &need) || need >= abs_cap)
        return ST_ELIMIT;
    memcpy(abs, self->mods[pkg].name, plen);
    if (module_len > 0) {
        abs[plen] = '.';
        memcpy(abs + plen + 1, module, module_len);
    }
    abs[need] = '\0';
    id = resolver_find(self, abs, need);
    *kind = id != RES_NONE ? RES_PROJECT : RES_UNRESOLVED;
    *module_id = id;
    if (id != RES_NONE)
        canonical(self, id, abs);
    return ST_OK;
}
