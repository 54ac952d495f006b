/* project_whole.c - the whole run's diagnostics in one record, and the
 * report. The record is cached under a digest of everything the run reads
 * (project_keyed looks it up as soon as the files are hashed; project_check
 * stores it after a run with every result in), so a re-check of unchanged
 * files runs nothing; the report gets every file's final diagnostics the
 * same way whether they came from that record or from the jobs. */
#include "run/project_int.h"

#include "common/alloc.h"
#include "common/arena.h"
#include "common/buf.h"
#include "common/digest.h"
#include "common/mpbuf.h"
#include "common/mpdiag.h"
#include "common/mpread.h"
#include "run/e902.h"

#include <fcntl.h>
#include <limits.h>
#include <msgpack.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The key of a whole run's diagnostics: everything every scan and check
 * job reads is a function of the file list (paths, and the scan key of each
 * file that was read and hashed), the roots and the path arguments; which
 * files are context (never reported) is in it too. */
static bool whole_key(const project_t *p, const project_opts_t *opts, const char *env,
                      digest_t *key)
{
    static const char tag[] = "strata-run\0" PROJECT_CHECK_VERSION;
    digest_ctx_t *ctx;
    bool ok;

    if ((ctx = digest_ctx_new()) == NULL)
        return false;
    digest_ctx_update(ctx, tag, sizeof tag);
    digest_ctx_update_str(ctx, "env");
    digest_ctx_update_str(ctx, env != NULL ? env : "");
    digest_ctx_update_str(ctx, "roots");
    for (size_t i = 0; i < opts->n_roots; i++)
        digest_ctx_update_str(ctx, opts->roots[i]);
    digest_ctx_update_str(ctx, "args");
    for (size_t i = 0; i < opts->n_args; i++)
        digest_ctx_update_str(ctx, opts->args[i]);
    digest_ctx_update_str(ctx, "files");
    for (size_t i = 0; i < p->n_project; i++) {
        const pfile_t *f = &p->files[i];
        uint8_t keyed = f->keyed, context = f->context;
        digest_ctx_update_str(ctx, f->path);
        digest_ctx_update(ctx, &keyed, 1);
        digest_ctx_update(ctx, &context, 1);
        if (keyed)
            digest_ctx_update(ctx, f->key_hashed.b, sizeof f->key_hashed.b);
    }
    ok = digest_ctx_final(ctx, key) == ST_OK;
    digest_ctx_destroy(&ctx);
    return ok;
}

static void pack_diag(msgpack_packer *pk, const scan_diag_t *d)
{
    mpdiag_pack_cstr(pk, d->line, d->col, d->code, d->message);
}

static bool dropped(const pfile_t *f, const scan_diag_t *d)
{
    if (strcmp(d->code, "F405") != 0)
        return false;
    for (size_t j = 0; j < f->n_drop; j++)
        if (f->drop[j].line == d->line && f->drop[j].col == d->col)
            return true;
    return false;
}

/* One library file of a whole-run record: [path, scan key, size,
 * mtime_ns, ctime_ns, ino, dev, module name]. */
static void pack_lib(msgpack_packer *pk, const char *path, const digest_t *key,
                     const file_stamp_t *st, const char *name)
{
    msgpack_pack_array(pk, 8);
    mpbuf_cstr(pk, path);
    mpbuf_bin(pk, key->b, sizeof key->b);
    msgpack_pack_uint64(pk, st->size);
    msgpack_pack_uint64(pk, st->mtime_ns);
    msgpack_pack_uint64(pk, st->ctime_ns);
    msgpack_pack_uint64(pk, st->ino);
    msgpack_pack_uint64(pk, st->dev);
    mpbuf_cstr(pk, name);
}

/* Encodes every keyed file's final diagnostics (the scan's less the
 * settled F405s, then the check's): [files, library], files an array in
 * file order of arrays of [line, col, code, message] (files that were not
 * keyed have none: their E902 comes from the run itself), library the
 * library files the run read, each [path, scan key, size, mtime_ns,
 * ctime_ns, ino, dev, module name]: the stamp opts->lib_stamp says the
 * file had before it was read, all zero when there is none to trust (the
 * file is read again next time); the name its finder found it by. ST_EINVAL when a library file has
 * no key (the run is then not stored whole). */
st_rc_t project__whole_pack(const project_t *p, const project_opts_t *opts, buf_t *b)
{
    mpbuf_t w;
    msgpack_packer *pk = &w.pk;

    for (size_t i = p->n_project; i < p->n; i++)
        if (!p->files[i].has_key)
            return ST_EINVAL;
    mpbuf_init(&w, b);
    msgpack_pack_array(pk, 2);
    msgpack_pack_array(pk, p->n_project);
    for (size_t i = 0; i < p->n_project; i++) {
        const pfile_t *f = &p->files[i];
        size_t n = 0;
        if (!f->keyed) {
            msgpack_pack_array(pk, 0);
            continue;
        }
        for (size_t k = 0; k < f->n_diags; k++)
            n += !dropped(f, &f->diags[k]);
        msgpack_pack_array(pk, n + f->n_cdiags);
        for (size_t k = 0; k < f->n_diags; k++)
            if (!dropped(f, &f->diags[k]))
                pack_diag(pk, &f->diags[k]);
        for (size_t k = 0; k < f->n_cdiags; k++)
            pack_diag(pk, &f->cdiags[k]);
    }
    msgpack_pack_array(pk, p->n - p->n_project);
    for (size_t i = p->n_project; i < p->n; i++) {
        file_stamp_t st = {0};
        if (opts->lib_stamp == NULL || !opts->lib_stamp(opts->lib_ctx, i, &st))
            st = (file_stamp_t){0};
        pack_lib(pk, p->files[i].path, &p->files[i].key, &st,
                 p->files[i].libname != NULL ? p->files[i].libname : "");
    }
    return mpbuf_status(&w) != ST_OK || b->data == NULL ? ST_ENOMEM : ST_OK;
}

/* A library file of a whole-run record. */
typedef struct {
    char *path, *name;
    digest_t key;
    file_stamp_t stamp; /* all zero: none, read again */
} lib_rec_t;

/* The stat of path through the open directory of its parent (*dir_fd,
 * whose path is dir[0..*dir_len)): files of one directory follow each
 * other, and a lookup of one name is cheaper than a walk of the whole
 * path. Falls back to stat. */
static int stat_in_dir(const char *path, int *dir_fd, char *dir, size_t *dir_len, struct stat *st)
{
    const char *slash = strrchr(path, '/');
    size_t len = slash != NULL ? (size_t)(slash - path) : 0;

    if (slash == NULL || len == 0 || len >= PATH_MAX)
        return stat(path, st);
    if (*dir_fd < 0 || len != *dir_len || memcmp(dir, path, len) != 0) {
        if (*dir_fd >= 0)
            close(*dir_fd);
        memcpy(dir, path, len);
        dir[len] = '\0';
        *dir_len = len;
        *dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    }
    if (*dir_fd < 0)
        return stat(path, st);
    return fstatat(*dir_fd, slash + 1, st, 0);
}

static int lib_rec_cmp(const void *a, const void *b)
{
    return strcmp(((const lib_rec_t *)a)->path, ((const lib_rec_t *)b)->path);
}

typedef struct {
    const project_opts_t *opts; /* NULL: stamps only, no file is read */
    const lib_rec_t *recs;
    size_t from, to;
    atomic_bool *changed;
} lib_range_t;

/* Whether recs[from..to) still have their keys: the same stamp as before
 * they were read (the stat index's rule, run/statidx.h), else the same
 * content (opts->lib_same reads and hashes it; without opts, a file whose
 * stamp differs counts as changed); sets *changed on the first that does
 * not, which stops the other thread too. */
static void *lib_range(void *arg)
{
    lib_range_t *r = arg;
    char dir[PATH_MAX];
    size_t dir_len = 0;
    int dir_fd = -1;

    for (size_t k = r->from; k < r->to && !atomic_load(r->changed); k++) {
        const lib_rec_t *e = &r->recs[k];
        struct stat st;
        file_stamp_t now;
        if ((e->stamp.ino != 0 || e->stamp.mtime_ns != 0) &&
            stat_in_dir(e->path, &dir_fd, dir, &dir_len, &st) == 0) {
            file_stamp_of(&st, &now);
            if (memcmp(&now, &e->stamp, sizeof now) == 0)
                continue; /* the same size, times and inode as then */
        }
        if (r->opts == NULL || !r->opts->lib_same(r->opts->lib_ctx, e->path, &e->key))
            atomic_store(r->changed, true);
    }
    if (dir_fd >= 0)
        close(dir_fd);
    return NULL;
}

/* The library files of a run whose files are elsewhere, asked of its
 * finder at once (opts->lib_same_all). */
static bool lib_same_remote(arena_t *a, const project_opts_t *opts, const lib_rec_t *recs,
                            uint32_t n)
{
    const char **names = arena_calloc(a, n, sizeof *names);
    const char **paths = arena_calloc(a, n, sizeof *paths);
    digest_t *keys = arena_calloc(a, n, sizeof *keys);

    if (names == NULL || paths == NULL || keys == NULL)
        return false;
    for (uint32_t k = 0; k < n; k++) {
        if (recs[k].name[0] == '\0')
            return false; /* found by no name: cannot be asked */
        names[k] = recs[k].name;
        paths[k] = recs[k].path;
        keys[k] = recs[k].key;
    }
    return opts->lib_same_all(opts->lib_ctx, names, paths, keys, n);
}

/* The library list of the record at r, into *recs (in a) and *n. False
 * when it does not decode. */
static bool lib_decode(arena_t *a, mpread_t *r, lib_rec_t **recs, uint32_t *n)
{
    uint32_t tn, klen, plen;
    const char *path;
    const uint8_t *key;

    *recs = NULL;
    if (mpread_array_min(r, 4, n) != ST_OK)
        return false;
    if (*n == 0)
        return true;
    if ((*recs = arena_calloc(a, *n, sizeof **recs)) == NULL)
        return false;
    for (uint32_t k = 0; k < *n; k++) {
        lib_rec_t *e = &(*recs)[k];
        file_stamp_t *st = &e->stamp;
        const char *name;
        uint32_t nlen;
        if (mpread_array(r, &tn) != ST_OK || tn != 8 || mpread_str(r, &path, &plen) != ST_OK ||
            plen == 0 || plen >= PATH_MAX || memchr(path, '\0', plen) != NULL ||
            mpread_bin(r, &key, &klen) != ST_OK || klen != sizeof e->key.b ||
            mpread_uint(r, &st->size) != ST_OK || mpread_uint(r, &st->mtime_ns) != ST_OK ||
            mpread_uint(r, &st->ctime_ns) != ST_OK || mpread_uint(r, &st->ino) != ST_OK ||
            mpread_uint(r, &st->dev) != ST_OK || mpread_str(r, &name, &nlen) != ST_OK ||
            nlen > PATH_MAX || memchr(name, '\0', nlen) != NULL ||
            (e->path = arena_strndup(a, path, plen)) == NULL ||
            (e->name = arena_strndup(a, name, nlen)) == NULL)
            return false;
        memcpy(e->key.b, key, klen);
    }
    return true;
}

#define LIB_SAME_SPLIT 256 /* library files from which a second thread checks half */

/* Whether every one of recs[0..n) still has its scan key (lib_range; opts
 * NULL: its stamp), checked on two threads when there are many. Sorts
 * recs by path, so that the files of a directory follow each other. */
static bool lib_check(const project_opts_t *opts, lib_rec_t *recs, uint32_t n)
{
    atomic_bool changed = false;

    if (n == 0)
        return true;
    qsort(recs, n, sizeof *recs, lib_rec_cmp);
    lib_range_t whole = {.opts = opts, .recs = recs, .from = 0, .to = n, .changed = &changed};
    lib_range_t half = whole;
    pthread_t t;
    bool two = n >= LIB_SAME_SPLIT;

    if (two) {
        half.from = whole.to = n / 2;
        two = pthread_create(&t, NULL, lib_range, &half) == 0;
        if (!two)
            whole.to = n;
    }
    lib_range(&whole);
    if (two)
        pthread_join(t, NULL);
    return !atomic_load(&changed);
}

/* Whether every library file of the record at r still has its scan key.
 * False when the list does not decode. */
static bool library_same(project_t *p, const project_opts_t *opts, mpread_t *r)
{
    lib_rec_t *recs;
    uint32_t n;

    if (!lib_decode(p->arena, r, &recs, &n))
        return false;
    if (n == 0)
        return true;
    if (opts->lib_same == NULL && opts->lib_same_all == NULL)
        return false;
    if (opts->lib_same_all != NULL)
        return lib_same_remote(p->arena, opts, recs, n);
    return lib_check(opts, recs, n);
}

/* The record's library list is known unchanged from the read ahead: its
 * decoding got to where the ahead found the list, the ahead's stamps all
 * held, and this run checks library files by their stamps. */
static bool ahead_libs_same(const project_opts_t *opts, const mpread_t *r)
{
    const project_ahead_t *a = opts->ahead;

    return a != NULL && a->libs_same && r->pos == a->lib_pos && opts->lib_same != NULL &&
           opts->lib_same_all == NULL;
}

bool project_ahead_read(cas_t *cache, const digest_t *key, arena_t *a, project_ahead_t *out)
{
    project_ahead_t ahead = {.key = *key};
    size_t hits = 0;
    uint32_t n;
    lib_rec_t *recs;
    st_err_t ignored = {0};
    mpread_t r;

    *out = (project_ahead_t){0};
    /* not into the memory tier: this process reads it once */
    if (cache == NULL ||
        cas_get_many(cache, CAS_RESULTS, key, 1, a, &ahead.value, &hits, &ignored) != ST_OK ||
        hits != 1)
        return false;
    mpread_init(&r, ahead.value.ptr, ahead.value.len);
    if (mpread_array(&r, &n) != ST_OK || n != 2 || mpread_skip(&r) != ST_OK)
        return false;
    ahead.lib_pos = r.pos;
    ahead.libs_same = lib_decode(a, &r, &recs, &n) && r.pos == r.len && lib_check(NULL, recs, n);
    *out = ahead;
    return true;
}

/* Decodes what project__whole_pack wrote into the keyed files' diagnostics
 * (untrusted: a cached value); false, with nothing kept, when it does not
 * decode or a library file it read changed. ahead: v is opts->ahead's
 * value, whose library files may already be known unchanged.
 * Single-threaded. */
static bool whole_unpack(project_t *p, const project_opts_t *opts, span_t v, bool ahead)
{
    mpread_t r;
    uint32_t n;
    scan_diag_t **diags = st_calloc(p->n == 0 ? 1 : p->n, sizeof *diags);
    uint32_t *counts = st_calloc(p->n == 0 ? 1 : p->n, sizeof *counts);
    bool ok = false;

    mpread_init(&r, v.ptr, v.len);
    if (diags == NULL || counts == NULL || mpread_array(&r, &n) != ST_OK || n != 2 ||
        mpread_array(&r, &n) != ST_OK || n != p->n)
        goto done;
    for (size_t i = 0; i < p->n; i++) {
        size_t nd;
        if (scan_diags_read(&r, p->arena, &diags[i], &nd) != ST_OK ||
            (nd > 0 && !p->files[i].keyed))
            goto done;
        counts[i] = (uint32_t)nd;
    }
    if (ahead && ahead_libs_same(opts, &r))
        r.pos = r.len; /* decoded whole and stat'ed by the read ahead */
    else if (!library_same(p, opts, &r) || r.pos != r.len)
        goto done;
    for (size_t i = 0; i < p->n; i++) {
        pfile_t *f = &p->files[i];
        if (!f->keyed)
            continue;
        f->have = true;
        f->diags = diags[i];
        f->n_diags = counts[i];
        f->n_cdiags = f->n_drop = 0;
    }
    ok = true;
done:
    st_free(counts);
    st_free(diags);
    return ok;
}

/* A whole-run record from the team cache, its library files' stamps
 * replaced by this host's (taken now, kept where old enough to trust,
 * else zero), into b: stored as it came, the uploader's stamps (other
 * inodes, other times) would have every later run read and hash each
 * library file again. The record was decoded and checked already.
 * ST_ECORRUPT, ST_ENOMEM. */
static st_rc_t whole_restamp(span_t v, arena_t *a, buf_t *b)
{
    struct timespec now;
    mpread_t r;
    mpbuf_t w;
    lib_rec_t *recs;
    uint32_t n;
    size_t files_at, libs_at;

    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t now_ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
    mpread_init(&r, v.ptr, v.len);
    if (mpread_array(&r, &n) != ST_OK || n != 2)
        return ST_ECORRUPT;
    files_at = r.pos;
    if (mpread_skip(&r) != ST_OK)
        return ST_ECORRUPT;
    libs_at = r.pos;
    if (!lib_decode(a, &r, &recs, &n) || r.pos != r.len)
        return ST_ECORRUPT;
    mpbuf_init(&w, b);
    msgpack_pack_array(&w.pk, 2);
    if (buf_append(b, v.ptr + files_at, libs_at - files_at) != ST_OK)
        return ST_ENOMEM;
    msgpack_pack_array(&w.pk, n);
    for (uint32_t k = 0; k < n; k++) {
        file_stamp_t st = {0};
        struct stat sb;
        if (stat(recs[k].path, &sb) == 0) {
            file_stamp_of(&sb, &st);
            if (!file_stamp_trusted(&st, now_ns))
                st = (file_stamp_t){0};
        }
        pack_lib(&w.pk, recs[k].path, &recs[k].key, &st, recs[k].name);
    }
    return mpbuf_status(&w) != ST_OK || b->data == NULL ? ST_ENOMEM : ST_OK;
}

bool project_keyed(project_t *self, const project_opts_t *opts, const exec_keyed_t *keyed, size_t n)
{
    arena_t *a;
    span_t v;
    st_err_t ignored = {0};
    bool hit;

    if (opts->cache == NULL)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (keyed[i].id >= self->n)
            return false;
        self->files[keyed[i].id].keyed = keyed[i].ok;
        self->files[keyed[i].id].key_hashed = keyed[i].key;
    }
    if (!whole_key(self, opts, opts->env_key, &self->whole_key))
        return false;
    self->whole_keyed = true;
    if (opts->ahead != NULL && opts->ahead->value.ptr != NULL &&
        digest_eq(&opts->ahead->key, &self->whole_key)) {
        self->whole_hit = whole_unpack(self, opts, opts->ahead->value, true);
        self->whole_ahead = self->whole_hit;
        return self->whole_hit;
    }
    if ((a = arena_new(0)) == NULL)
        return false;
    hit = cas_get(opts->cache, CAS_RESULTS, &self->whole_key, a, &v, &ignored) == ST_OK &&
          whole_unpack(self, opts, v, false);
    if (!hit && opts->remote != NULL && !self->whole_remote_keyed) {
        char *made = NULL;
        const char *env = opts->env_key_remote;
        if (env == NULL && opts->env_key_remote_make != NULL)
            env = made = opts->env_key_remote_make(opts->env_key_remote_ctx);
        self->whole_remote_keyed =
            whole_key(self, opts, env != NULL ? env : opts->env_key, &self->whole_remote_key);
        st_free(made);
    }
    if (!hit && self->whole_remote_keyed &&
        rcache_get(opts->remote, &self->whole_remote_key, a, &v) &&
        whole_unpack(self, opts, v, false)) {
        buf_t b;
        hit = self->whole_remote = true;
        buf_init(&b);
        if (whole_restamp(v, a, &b) == ST_OK)
            (void)cas_put(opts->cache, CAS_RESULTS, &self->whole_key, b.data, b.len, false,
                          &ignored);
        buf_free(&b);
    }
    arena_destroy(&a);
    self->whole_hit = hit;
    return hit;
}

bool project_whole_key(const project_t *self, digest_t *key)
{
    if (!self->whole_keyed || (!self->whole_hit && !self->whole_stored))
        return false;
    *key = self->whole_key;
    return true;
}

void project_scan_failed(project_t *self)
{
    pthread_mutex_lock(&self->lock);
    self->scan_failed = true;
    pthread_mutex_unlock(&self->lock);
}

/* Every reported file's diagnostics into the report: the scan's (less the
 * settled F405s), the check's, and an E902 when its check job failed;
 * context files' never. */
st_rc_t project__fill_report(project_t *p, report_t *report, st_err_t *err)
{
    for (size_t i = 0; i < p->n; i++) {
        pfile_t *f = &p->files[i];
        size_t kept = 0;
        st_rc_t rc;

        if (f->context)
            continue;
        for (size_t k = 0; k < f->n_diags; k++) {
            bool dropped = false;
            if (strcmp(f->diags[k].code, "F405") == 0)
                for (size_t j = 0; j < f->n_drop && !dropped; j++)
                    dropped =
                        f->drop[j].line == f->diags[k].line && f->drop[j].col == f->diags[k].col;
            if (!dropped)
                f->diags[kept++] = f->diags[k];
        }
        if (kept > 0 && (rc = report_add(report, f->path, f->diags, kept, err)) != ST_OK)
            return rc;
        if (f->n_cdiags > 0 &&
            (rc = report_add(report, f->path, f->cdiags, f->n_cdiags, err)) != ST_OK)
            return rc;
        if (f->failed != NULL) {
            char message[E902_MESSAGE_MAX];
            scan_diag_t d =
                e902_diag(e902_textf(message, sizeof message, E902_CHECK_FAILED, f->failed));
            if ((rc = report_add(report, f->path, &d, 1, err)) != ST_OK)
                return rc;
        }
    }
    return ST_OK;
}
