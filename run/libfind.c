/* libfind.c - where a library module's file is (run/libfind.h).
 *
 * Every answer is a pure function of the environment and the files on disk,
 * so it is kept per dotted name, and every directory is listed once into a
 * hash set of its entry names: a lookup is then a few hash probes, not a
 * dozen stats per directory of the search path (site-packages holds
 * thousands of entries and an import of a.b.c asks every directory for a,
 * a.b and a.b.c). Only directories a name asks for are ever listed, which
 * is what keeps a cyclic site-packages (a symlink to a parent) from
 * hanging: the depth is bounded by the name's segments.
 *
 * Each kept answer also says where its submodules are looked up: the
 * package's directory (or a namespace package's portions) first, then a
 * fallback tier, for a partial stub package (the runtime package) and for
 * the standard library's stubs (the interpreter's sources of the same
 * package, for the submodules typeshed lacks). */
#include "run/libfind.h"

#include "common/alloc.h"
#include "common/arena.h"
#include "common/hmap.h"
#include "run/exec.h"
#include "scheduler/resolve.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define LIBFIND_MAX_NAME 1024
#define LIBFIND_MAX_VERSIONS ((size_t)4 << 20) /* typeshed's is 10 KiB */
#define LIBFIND_MAX_PYTYPED ((size_t)64 << 10)
#define LIBFIND_OPEN_MAX 0xFFFFu /* a range without its upper end */

/* What an entry of a listing is, from readdir's d_type. */
enum {
    NAME_FILE = 1, /* a regular file */
    NAME_DIR,      /* a directory */
    NAME_OTHER     /* a symbolic link, or unknown: either, listed to know */
};

/* Extension modules are keyed by their stem (`_yaml` for
 * `_yaml.cpython-311-x86_64-linux-gnu.so`) behind this byte, which no file
 * name entry can begin with in a way that collides with an identifier. */
#define EXT_KEY '\x01'

/* One directory's entry names; names is NULL when it holds nothing we
 * could read. is_dir is false when the path is no directory at all. */
typedef struct listing {
    bool is_dir;
    hmap_t *names;
    struct listing *next; /* every listing, to free their maps */
} listing_t;

/* An ordered list of directories (arena-owned). */
typedef struct {
    const char **dirs;
    bool *stdlib; /* per directory: the interpreter's standard library */
    size_t n;
} dirlist_t;

/* What one directory list gives for one name. */
typedef struct {
    lib_kind_t kind;
    bool package;
    const char *path; /* LIB_FILE */
    bool in_stdlib;   /* found in a standard-library directory */
    dirlist_t kids;   /* a package: where its submodules are */
} hit_t;

/* A kept answer. */
typedef struct {
    lib_module_t m;
    dirlist_t kids, fallback;
    lib_from_t kids_from, fallback_from;
} entry_t;

struct libfind {
    const env_t *env;
    arena_t *arena;
    hmap_t *memo;     /* dotted name -> entry_t * */
    hmap_t *lists;    /* directory path -> listing_t * */
    listing_t *all;   /* every listing */
    hmap_t *versions; /* VERSIONS name -> packed range; NULL: no stubs */
    dirlist_t search; /* the interpreter's stdlib directories, then env->paths */
    dirlist_t stdlib; /* the interpreter's stdlib directories alone */
    dirlist_t stubs;  /* the stubs directory alone */
    bool oom;         /* an allocation failed while answering: keep nothing */
};

static const lib_module_t absent_module = {LIB_ABSENT, LIB_FROM_SITE, false, false, NULL};

/* ---- VERSIONS --------------------------------------------------------- */

static uint64_t pack_range(unsigned a, unsigned b, unsigned c, unsigned d)
{
    return (uint64_t)a << 24 | (uint64_t)b << 16 | (uint64_t)c << 8 | d;
}

/* Reads "X.Y" at *p (each part at most 3 digits, under 256). */
static bool parse_version(const char **p, const char *end, unsigned *major, unsigned *minor)
{
    unsigned *part[2] = {major, minor};

    for (int i = 0; i < 2; i++) {
        unsigned v = 0, digits = 0;

        if (i == 1) {
            if (*p == end || **p != '.')
                return false;
            (*p)++;
        }
        while (*p < end && **p >= '0' && **p <= '9' && digits < 4)
            v = v * 10 + (unsigned)(*(*p)++ - '0'), digits++;
        if (digits == 0 || digits > 3 || v > 255)
            return false;
        *part[i] = v;
    }
    return true;
}

static bool is_ident_byte(unsigned char c, bool first)
{
    if (c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80)
        return true;
    return !first && c >= '0' && c <= '9';
}

/* Whether s[0..len) is a dotted name of identifiers. */
static bool is_dotted(const char *s, size_t len)
{
    bool first = true;

    if (len == 0 || s[len - 1] == '.')
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '.' && !first) {
            first = true;
            continue;
        }
        if (!is_ident_byte((unsigned char)s[i], first))
            return false;
        first = false;
    }
    return true;
}

/* One line of VERSIONS, comment and surrounding blanks removed:
 * `name: X.Y-` or `name: X.Y-A.B`. */
static bool parse_versions_line(const char *s, const char *end, const char **name, size_t *name_len,
                                uint64_t *range)
{
    const char *colon = memchr(s, ':', (size_t)(end - s));
    const char *p;
    unsigned a, b, c = LIBFIND_OPEN_MAX >> 8, d = LIBFIND_OPEN_MAX & 0xFF;

    if (colon == NULL || !is_dotted(s, (size_t)(colon - s)))
        return false;
    p = colon + 1;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (!parse_version(&p, end, &a, &b) || p == end || *p++ != '-')
        return false;
    if (p < end && (!parse_version(&p, end, &c, &d) || p != end || c * 256 + d < a * 256 + b))
        return false;
    *name = s;
    *name_len = (size_t)(colon - s);
    *range = pack_range(a, b, c, d);
    return true;
}

static const char *trim(const char *s, const char **end)
{
    const char *hash = memchr(s, '#', (size_t)(*end - s));

    if (hash != NULL)
        *end = hash;
    while (s < *end && (*s == ' ' || *s == '\t' || *s == '\r'))
        s++;
    while (*end > s && ((*end)[-1] == ' ' || (*end)[-1] == '\t' || (*end)[-1] == '\r'))
        (*end)--;
    return s;
}

/* Reads dir/VERSIONS into a new map in *out. ST_EIO, ST_EINVAL naming
 * the line, ST_ENOMEM; *out untouched then. */
static st_rc_t read_versions(const char *dir, arena_t *a, hmap_t **out, st_err_t *err)
{
    char path[PATH_MAX];
    uint8_t *data;
    size_t len, line = 0;
    st_err_t why = {0};
    hmap_t *map;
    st_rc_t rc;

    if ((size_t)snprintf(path, sizeof path, "%s/VERSIONS", dir) >= sizeof path)
        return st_fail(err, ST_EIO, "%s/VERSIONS: path too long", dir);
    if ((rc = exec_read_file(path, LIBFIND_MAX_VERSIONS, a, &data, &len, &why)) != ST_OK)
        return st_fail(err, rc == ST_ELIMIT ? ST_EINVAL : rc, "%s: %s", path, why.msg);
    if ((map = hmap_new(HMAP_BYTES)) == NULL)
        return st_fail(err, ST_ENOMEM, "out of memory reading %s", path);
    for (const char *s = (const char *)data, *stop = s + len; s < stop; line++) {
        const char *nl = memchr(s, '\n', (size_t)(stop - s));
        const char *end = nl != NULL ? nl : stop, *name;
        const char *text = trim(s, &end);
        size_t name_len;
        uint64_t range;

        s = nl != NULL ? nl + 1 : stop;
        if (text == end)
            continue;
        if (!parse_versions_line(text, end, &name, &name_len, &range)) {
            rc = st_fail(err, ST_EINVAL, "%s:%zu: expected `module: 3.X-` or `module: 3.X-3.Y`",
                         path, line + 1);
            goto fail;
        }
        if (hmap_get(map, name, name_len, NULL) == ST_OK) {
            rc = st_fail(err, ST_EINVAL, "%s:%zu: %.*s listed twice", path, line + 1, (int)name_len,
                         name);
            goto fail;
        }
        if (hmap_put(map, name, name_len, range) != ST_OK) {
            rc = st_fail(err, ST_ENOMEM, "out of memory reading %s", path);
            goto fail;
        }
    }
    *out = map;
    return ST_OK;
fail:
    hmap_destroy(&map);
    return rc;
}

/* The range of the most specific VERSIONS entry for dotted[0..len):
 * its own, else its closest listed package's. */
static bool versions_range(const libfind_t *self, const char *dotted, size_t len, uint64_t *range)
{
    if (self->versions == NULL)
        return false;
    for (;;) {
        if (hmap_get(self->versions, dotted, len, range) == ST_OK)
            return true;
        while (len > 0 && dotted[len - 1] != '.')
            len--;
        if (len-- == 0)
            return false;
    }
}

static bool range_includes(const libfind_t *self, uint64_t range)
{
    unsigned target = self->env->major * 256 + self->env->minor;
    unsigned lo = (unsigned)(range >> 16) & 0xFFFF, hi = (unsigned)range & 0xFFFF;

    return target >= lo && target <= hi;
}

/* ---- listings ---------------------------------------------------------- */

/* The stem of an extension module's file name (`m` for m.so, m.pyd,
 * m.TAG.so), or 0 when name is none. */
static size_t extension_stem(const char *name, size_t len)
{
    size_t base, dot;

    if (len > 3 && memcmp(name + len - 3, ".so", 3) == 0)
        base = len - 3;
    else if (len > 4 && memcmp(name + len - 4, ".pyd", 4) == 0)
        base = len - 4;
    else
        return 0;
    for (dot = 0; dot < base && name[dot] != '.'; dot++)
        ;
    if (dot < base && memchr(name + dot + 1, '.', base - dot - 1) != NULL)
        return 0; /* m.a.b.so: no finder loads it */
    return dot;
}

static bool listing_add(hmap_t *names, const struct dirent *de)
{
    size_t len = strlen(de->d_name), stem = extension_stem(de->d_name, len);
    uint64_t kind = de->d_type == DT_REG ? NAME_FILE : de->d_type == DT_DIR ? NAME_DIR : NAME_OTHER;
    char key[NAME_MAX + 2];

    if (hmap_put(names, de->d_name, len, kind) != ST_OK)
        return false;
    if (stem == 0 || stem > NAME_MAX || de->d_type == DT_DIR)
        return true;
    key[0] = EXT_KEY;
    memcpy(key + 1, de->d_name, stem);
    return hmap_put(names, key, stem + 1, NAME_FILE) == ST_OK;
}

/* Lists path into l. An unreadable directory lists as empty; a path that
 * is no directory (or a symbolic link loop) gives is_dir false. False when
 * out of memory (l->names freed). */
static bool listing_read(listing_t *l, const char *path)
{
    DIR *d = opendir(path);
    struct dirent *de;
    bool ok = true;

    if (d == NULL) {
        l->is_dir = errno == EACCES;
        return true;
    }
    l->is_dir = true;
    if ((l->names = hmap_new(HMAP_BYTES)) == NULL)
        ok = false;
    while (ok && (de = readdir(d)) != NULL)
        if (de->d_name[0] != '.') /* ., .. and hidden files hold no module */
            ok = listing_add(l->names, de);
    closedir(d);
    if (!ok)
        hmap_destroy(&l->names);
    return ok;
}

/* Notes that an allocation failed (the answer being made is not kept). */
static void *out_of_memory(libfind_t *self)
{
    self->oom = true;
    return NULL;
}

/* The kept listing of path; NULL only when out of memory. */
static const listing_t *list_dir(libfind_t *self, const char *path)
{
    size_t len = strlen(path);
    uint64_t v;
    listing_t *l;

    if (hmap_get(self->lists, path, len, &v) == ST_OK)
        return (const listing_t *)(uintptr_t)v;
    if ((l = arena_calloc(self->arena, 1, sizeof *l)) == NULL || !listing_read(l, path))
        return out_of_memory(self);
    if (hmap_put(self->lists, path, len, (uintptr_t)l) != ST_OK) {
        hmap_destroy(&l->names);
        return out_of_memory(self);
    }
    l->next = self->all;
    self->all = l;
    return l;
}

static bool has(const listing_t *l, const char *name, size_t len, uint64_t *kind)
{
    return l != NULL && l->names != NULL && hmap_get(l->names, name, len, kind) == ST_OK;
}

static bool has_str(const listing_t *l, const char *name)
{
    return has(l, name, strlen(name), NULL);
}

/* dir/name[0..len) followed by suffix, in the arena; NULL when too long
 * or out of memory. */
static char *join(libfind_t *self, const char *dir, const char *name, size_t len,
                  const char *suffix)
{
    char path[PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/%.*s%s", dir, (int)len, name, suffix);

    if (n < 0 || (size_t)n >= sizeof path)
        return NULL; /* no such file can be opened */
    char *copy = arena_strndup(self->arena, path, (size_t)n);
    return copy != NULL ? copy : out_of_memory(self);
}

/* ---- finding a name in a list of directories -------------------------- */

static bool dirlist_make(libfind_t *self, dirlist_t *dl, size_t cap)
{
    dl->n = 0;
    dl->dirs = arena_calloc(self->arena, cap ? cap : 1, sizeof *dl->dirs);
    dl->stdlib = arena_calloc(self->arena, cap ? cap : 1, sizeof *dl->stdlib);
    if (dl->dirs == NULL || dl->stdlib == NULL)
        return out_of_memory(self) != NULL;
    return true;
}

static bool dirlist_one(libfind_t *self, dirlist_t *dl, const char *dir, bool stdlib)
{
    if (!dirlist_make(self, dl, 1))
        return false;
    dl->dirs[0] = dir;
    dl->stdlib[0] = stdlib;
    dl->n = 1;
    return true;
}

/* Looks in dir/name for a regular package: true when it is one (hit set),
 * or *portion true when it is a directory without __init__. */
static bool find_package(libfind_t *self, const char *dir, const char *name, size_t len,
                         bool stdlib, hit_t *hit, bool *portion)
{
    char *pkg = join(self, dir, name, len, "");
    const listing_t *l = pkg != NULL ? list_dir(self, pkg) : NULL;
    static const char *const inits[] = {"__init__.pyi", "__init__.py"};

    *portion = false;
    if (l == NULL || !l->is_dir)
        return false;
    for (size_t i = 0; i < 2; i++)
        if (has_str(l, inits[i])) {
            if ((hit->path = join(self, pkg, inits[i], strlen(inits[i]), "")) == NULL)
                return false;
            hit->kind = LIB_FILE;
            break;
        }
    if (hit->kind == LIB_ABSENT && has(l, "\001__init__", 9, NULL))
        hit->kind = LIB_OPEN;
    if (hit->kind == LIB_ABSENT) {
        *portion = true;
        return false;
    }
    hit->package = true;
    hit->in_stdlib = stdlib;
    return dirlist_one(self, &hit->kids, pkg, stdlib);
}

/* Looks in one directory for a module file or an extension module. */
static bool find_module(libfind_t *self, const listing_t *l, const char *dir, const char *name,
                        size_t len, bool stdlib, hit_t *hit)
{
    static const char *const suffixes[] = {".pyi", ".py"};
    char key[LIBFIND_MAX_NAME + 8];
    uint64_t kind;

    for (size_t i = 0; i < 2; i++) {
        size_t sl = strlen(suffixes[i]);

        memcpy(key, name, len);
        memcpy(key + len, suffixes[i], sl);
        if (has(l, key, len + sl, &kind) && kind != NAME_DIR) {
            if ((hit->path = join(self, dir, name, len, suffixes[i])) == NULL)
                return false;
            hit->kind = LIB_FILE;
            hit->in_stdlib = stdlib;
            return true;
        }
    }
    key[0] = EXT_KEY;
    memcpy(key + 1, name, len);
    if (!has(l, key, len + 1, NULL))
        return false;
    hit->kind = LIB_OPEN;
    hit->in_stdlib = stdlib;
    return true;
}

/* Python's path finder over dirs for one name: in each directory a
 * regular package, then a module (.pyi before .py), then an extension;
 * failing all, the directories without __init__ as one namespace package.
 * skip_stdlib leaves out the interpreter's standard library. */
static void find_in(libfind_t *self, const dirlist_t *dirs, const char *name, size_t len,
                    bool skip_stdlib, hit_t *hit)
{
    dirlist_t portions = {NULL, NULL, 0};

    memset(hit, 0, sizeof *hit);
    for (size_t i = 0; i < dirs->n; i++) {
        const listing_t *l;
        uint64_t kind;
        bool portion = false;

        if ((skip_stdlib && dirs->stdlib[i]) || (l = list_dir(self, dirs->dirs[i])) == NULL)
            continue;
        memset(hit, 0, sizeof *hit);
        if (has(l, name, len, &kind) && kind != NAME_FILE &&
            find_package(self, dirs->dirs[i], name, len, dirs->stdlib[i], hit, &portion))
            return;
        if (find_module(self, l, dirs->dirs[i], name, len, dirs->stdlib[i], hit))
            return;
        memset(hit, 0, sizeof *hit);
        if (portion && (portions.dirs != NULL || dirlist_make(self, &portions, dirs->n))) {
            const char *p = join(self, dirs->dirs[i], name, len, "");

            if (p != NULL) {
                portions.stdlib[portions.n] = dirs->stdlib[i];
                portions.dirs[portions.n++] = p;
            }
        }
    }
    if (portions.n > 0) {
        hit->kind = LIB_NAMESPACE;
        hit->package = true;
        hit->kids = portions;
    }
}

/* ---- stub packages ----------------------------------------------------- */

/* Whether py.typed at path has a line `partial`. */
static bool is_partial(libfind_t *self, const char *path)
{
    uint8_t *data;
    size_t len;
    st_rc_t rc = exec_read_file(path, LIBFIND_MAX_PYTYPED, self->arena, &data, &len, NULL);

    if (rc == ST_ENOMEM)
        out_of_memory(self);
    if (rc != ST_OK)
        return false; /* unreadable: not partial, as if absent */
    for (const char *s = (const char *)data, *stop = s + len; s < stop;) {
        const char *nl = memchr(s, '\n', (size_t)(stop - s));
        const char *end = nl != NULL ? nl : stop;
        const char *text = trim(s, &end);

        if (end - text == 7 && memcmp(text, "partial", 7) == 0)
            return true;
        s = nl != NULL ? nl + 1 : stop;
    }
    return false;
}

/* The first NAME-stubs package with an __init__.pyi on the search path. */
static bool find_stub_package(libfind_t *self, const char *name, size_t len, bool skip_stdlib,
                              hit_t *hit, bool *partial)
{
    char stubs[LIBFIND_MAX_NAME + 8];

    memcpy(stubs, name, len);
    memcpy(stubs + len, "-stubs", 6);
    for (size_t i = 0; i < self->search.n; i++) {
        const char *dir = self->search.dirs[i];
        const listing_t *l;
        char *pkg;

        if ((skip_stdlib && self->search.stdlib[i]) || (l = list_dir(self, dir)) == NULL ||
            !has(l, stubs, len + 6, NULL) || (pkg = join(self, dir, stubs, len + 6, "")) == NULL ||
            !has_str(list_dir(self, pkg), "__init__.pyi"))
            continue;
        memset(hit, 0, sizeof *hit);
        if ((hit->path = join(self, pkg, "__init__.pyi", 12, "")) == NULL ||
            !dirlist_one(self, &hit->kids, pkg, false))
            return false;
        hit->kind = LIB_FILE;
        hit->package = true;
        if (has_str(list_dir(self, pkg), "py.typed")) {
            const char *typed = join(self, pkg, "py.typed", 8, "");

            *partial = typed != NULL && is_partial(self, typed);
        }
        return true;
    }
    return false;
}

/* ---- answers ------------------------------------------------------------- */

static entry_t *entry_from_hit(libfind_t *self, const hit_t *hit, lib_from_t from, bool stdlib)
{
    entry_t *e = arena_calloc(self->arena, 1, sizeof *e);

    if (e == NULL)
        return out_of_memory(self);
    e->m.kind = hit->kind;
    e->m.from = hit->kind == LIB_ABSENT ? LIB_FROM_SITE : from;
    e->m.package = hit->package;
    e->m.stdlib = stdlib;
    e->m.path = hit->kind == LIB_FILE ? hit->path : NULL;
    e->kids = hit->kids;
    e->kids_from = e->m.from;
    return e;
}

/* Gives e a fallback tier: what dirs give for name (when a package). */
static void add_fallback(libfind_t *self, entry_t *e, const dirlist_t *dirs, const char *name,
                         size_t len, lib_from_t from)
{
    hit_t fb;

    find_in(self, dirs, name, len, false, &fb);
    if (fb.package && fb.kind != LIB_OPEN) {
        e->fallback = fb.kids;
        e->fallback_from = from;
    }
}

/* A top-level name VERSIONS lists for the target: the stub, else the
 * interpreter's sources, else a built-in module (open). */
static entry_t *top_stdlib(libfind_t *self, const char *name, size_t len)
{
    hit_t hit;
    entry_t *e;

    find_in(self, &self->stubs, name, len, false, &hit);
    if (hit.kind != LIB_ABSENT) {
        if ((e = entry_from_hit(self, &hit, LIB_FROM_STUBS, true)) != NULL && hit.package)
            add_fallback(self, e, &self->stdlib, name, len, LIB_FROM_STDLIB_SRC);
        return e;
    }
    find_in(self, &self->stdlib, name, len, false, &hit);
    if (hit.kind == LIB_ABSENT)
        hit.kind = LIB_OPEN;
    return entry_from_hit(self, &hit, LIB_FROM_STDLIB_SRC, true);
}

static bool is_hook_name(const libfind_t *self, const char *name, size_t len)
{
    for (size_t i = 0; i < self->env->n_hook_names; i++) {
        const char *h = self->env->hook_names[i];

        if (h != NULL && strlen(h) == len && memcmp(h, name, len) == 0)
            return true;
    }
    return false;
}

/* A top-level name not the standard library's for the target (by
 * VERSIONS): stub packages, the search path, then import hooks.
 * excluded: VERSIONS lists it for other versions, so the interpreter's
 * own standard library is not looked at. */
static entry_t *top_site(libfind_t *self, const char *name, size_t len, bool excluded)
{
    hit_t stub, hit;
    bool partial = false, stdlib;
    entry_t *e;

    if (find_stub_package(self, name, len, excluded, &stub, &partial)) {
        if ((e = entry_from_hit(self, &stub, LIB_FROM_STUB_PACKAGE, false)) != NULL && partial) {
            find_in(self, &self->search, name, len, excluded, &hit);
            if (hit.package && hit.kind != LIB_OPEN) {
                e->fallback = hit.kids;
                e->fallback_from = hit.in_stdlib ? LIB_FROM_STDLIB_SRC : LIB_FROM_SITE;
            }
        }
        return e;
    }
    find_in(self, &self->search, name, len, excluded, &hit);
    stdlib = hit.kind != LIB_ABSENT && hit.kind != LIB_NAMESPACE && hit.in_stdlib;
    if (hit.kind == LIB_ABSENT && self->versions == NULL && resolver_is_stdlib(name, len)) {
        hit.kind = LIB_OPEN; /* no stubs: a built-in module, or no interpreter */
        return entry_from_hit(self, &hit, LIB_FROM_STDLIB_SRC, true);
    }
    if (hit.kind == LIB_ABSENT && (is_hook_name(self, name, len) || self->env->hook_unknown)) {
        hit.kind = LIB_OPEN;
        return entry_from_hit(self, &hit, LIB_FROM_HOOK, false);
    }
    return entry_from_hit(self, &hit, stdlib ? LIB_FROM_STDLIB_SRC : LIB_FROM_SITE, stdlib);
}

static entry_t *resolve_top(libfind_t *self, const char *name, size_t len)
{
    uint64_t range;

    if (!is_dotted(name, len))
        return entry_from_hit(self, &(hit_t){0}, LIB_FROM_SITE, false);
    if (versions_range(self, name, len, &range)) {
        if (range_includes(self, range))
            return top_stdlib(self, name, len);
        return top_site(self, name, len, true);
    }
    return top_site(self, name, len, false);
}

/* Submodule dotted[0..len) (its last segment name[0..nlen)) of parent. */
static entry_t *resolve_sub(libfind_t *self, const entry_t *parent, const char *dotted, size_t len,
                            const char *name, size_t nlen)
{
    hit_t hit = {0}, fb;
    uint64_t range;
    entry_t *e;

    if (parent->m.kind == LIB_OPEN) {
        hit.kind = LIB_OPEN;
        hit.package = true;
        return entry_from_hit(self, &hit, parent->m.from, parent->m.stdlib);
    }
    if (!parent->m.package || parent->m.kind == LIB_ABSENT || !is_dotted(name, nlen))
        return entry_from_hit(self, &hit, LIB_FROM_SITE, parent->m.stdlib);
    if (parent->m.stdlib && versions_range(self, dotted, len, &range) &&
        !range_includes(self, range))
        return entry_from_hit(self, &hit, LIB_FROM_STUBS, true);
    find_in(self, &parent->kids, name, nlen, false, &hit);
    if (parent->fallback.n == 0)
        return entry_from_hit(self, &hit, parent->kids_from, parent->m.stdlib);
    find_in(self, &parent->fallback, name, nlen, false, &fb);
    if (hit.kind == LIB_ABSENT)
        return entry_from_hit(self, &fb, parent->fallback_from, parent->m.stdlib);
    if ((e = entry_from_hit(self, &hit, parent->kids_from, parent->m.stdlib)) != NULL &&
        fb.package && fb.kind != LIB_OPEN) {
        e->fallback = fb.kids;
        e->fallback_from = parent->fallback_from;
    }
    return e;
}

lib_module_t libfind_module(libfind_t *self, const char *dotted, size_t len)
{
    const entry_t *parent = NULL;

    if (self == NULL || dotted == NULL || len == 0 || len > LIBFIND_MAX_NAME)
        return absent_module;
    for (size_t start = 0, end; start <= len; start = end + 1) {
        const char *dot = memchr(dotted + start, '.', len - start);
        uint64_t v;
        entry_t *e;

        end = dot != NULL ? (size_t)(dot - dotted) : len;
        if (end == start)
            return absent_module; /* an empty segment */
        if (hmap_get(self->memo, dotted, end, &v) == ST_OK) {
            parent = (const entry_t *)(uintptr_t)v;
            continue;
        }
        self->oom = false;
        e = parent == NULL ? resolve_top(self, dotted, end)
                           : resolve_sub(self, parent, dotted, end, dotted + start, end - start);
        if (e == NULL || self->oom)
            return absent_module; /* out of memory: not kept, asked again next time */
        if (hmap_put(self->memo, dotted, end, (uintptr_t)e) != ST_OK)
            return end == len ? e->m : absent_module;
        parent = e;
    }
    return parent->m;
}

bool libfind_is_stdlib(libfind_t *self, const char *top, size_t len)
{
    uint64_t range;

    if (self == NULL || top == NULL || len == 0 || memchr(top, '.', len) != NULL)
        return false;
    if (self->versions == NULL)
        return resolver_is_stdlib(top, len);
    return hmap_get(self->versions, top, len, &range) == ST_OK && range_includes(self, range);
}

static st_rc_t finder_modules(void *ctx, const lib_name_t *names, size_t n, lib_found_t *out,
                              st_err_t *err)
{
    (void)err;
    for (size_t i = 0; i < n; i++)
        out[i] = (lib_found_t){.m = libfind_module(ctx, names[i].name, names[i].len)};
    return ST_OK;
}

static st_rc_t finder_is_stdlib(void *ctx, const lib_name_t *tops, size_t n, bool *stdlib,
                                st_err_t *err)
{
    (void)err;
    for (size_t i = 0; i < n; i++)
        stdlib[i] = libfind_is_stdlib(ctx, tops[i].name, tops[i].len);
    return ST_OK;
}

lib_finder_t libfind_finder(libfind_t *self)
{
    return (lib_finder_t){.modules = finder_modules, .is_stdlib = finder_is_stdlib, .ctx = self};
}

/* ---- life -------------------------------------------------------------- */

static bool same_dir(const char *a, const char *b, size_t blen)
{
    size_t alen = strlen(a);

    while (alen > 1 && a[alen - 1] == '/')
        alen--;
    while (blen > 1 && b[blen - 1] == '/')
        blen--;
    return alen == blen && memcmp(a, b, alen) == 0;
}

/* The interpreter's stdlib directories (stdlib_dir, its lib-dynload) and the
 * search path: the stdlib ones first when sys.path lacks them. */
static bool make_search(libfind_t *self)
{
    const env_t *env = self->env;
    const char *own[2] = {env->stdlib_dir, NULL};
    bool on_path[2] = {false, false};
    size_t n_own = 0;

    if (env->stdlib_dir != NULL &&
        (own[1] = join(self, env->stdlib_dir, "lib-dynload", 11, "")) == NULL)
        return false;
    if (!dirlist_make(self, &self->search, env->n_paths + 2) ||
        !dirlist_make(self, &self->stdlib, 2))
        return false;
    for (size_t k = 0; k < 2 && own[k] != NULL; k++, n_own++) {
        for (size_t i = 0; i < env->n_paths; i++)
            on_path[k] |= env->paths[i] != NULL && same_dir(env->paths[i], own[k], strlen(own[k]));
        self->stdlib.dirs[self->stdlib.n] = own[k];
        self->stdlib.stdlib[self->stdlib.n++] = true;
    }
    for (size_t k = 0; k < n_own; k++)
        if (!on_path[k]) {
            self->search.dirs[self->search.n] = own[k];
            self->search.stdlib[self->search.n++] = true;
        }
    for (size_t i = 0; i < env->n_paths; i++) {
        bool std = false;

        if (env->paths[i] == NULL)
            continue;
        for (size_t k = 0; k < n_own; k++)
            std |= same_dir(env->paths[i], own[k], strlen(own[k]));
        self->search.dirs[self->search.n] = env->paths[i];
        self->search.stdlib[self->search.n++] = std;
    }
    return true;
}

st_rc_t libfind_new(const env_t *env, libfind_t **out, st_err_t *err)
{
    libfind_t *self;
    st_rc_t rc = ST_OK;

    if (env == NULL || out == NULL)
        return st_fail(err, ST_EINVAL, "libfind_new: no environment");
    if ((self = st_calloc(1, sizeof *self)) == NULL)
        return st_fail(err, ST_ENOMEM, "out of memory for the module finder");
    self->env = env;
    if ((self->arena = arena_new(0)) == NULL || (self->memo = hmap_new(HMAP_BYTES)) == NULL ||
        (self->lists = hmap_new(HMAP_BYTES)) == NULL || !make_search(self))
        goto nomem;
    if (env->typeshed_stdlib != NULL) {
        rc = read_versions(env->typeshed_stdlib, self->arena, &self->versions, err);
        if (rc == ST_ENOMEM)
            goto nomem;
        if (rc == ST_OK && !dirlist_one(self, &self->stubs, env->typeshed_stdlib, false))
            goto nomem;
        if (rc != ST_OK && err != NULL) {
            size_t n = strlen(err->msg);

            snprintf(err->msg + n, sizeof err->msg - n, "; the stdlib stubs are not used");
        }
    }
    *out = self;
    return rc;
nomem:
    libfind_destroy(&self);
    return st_fail(err, ST_ENOMEM, "out of memory for the module finder");
}

void libfind_destroy(libfind_t **self_p)
{
    libfind_t *self;

    if (self_p == NULL || (self = *self_p) == NULL)
        return;
    for (listing_t *l = self->all; l != NULL; l = l->next)
        hmap_destroy(&l->names);
    hmap_destroy(&self->versions);
    hmap_destroy(&self->lists);
    hmap_destroy(&self->memo);
    arena_destroy(&self->arena);
    st_free(self);
    *self_p = NULL;
}
