/* statidx.c - the stat index (see statidx.h). The file is msgpack,
 * ["strata-statidx", 1, [[path, size, mtime_ns, ctime_ns, ino, dev,
 * sha256 bin32]...]], then 8 bytes: XXH3-64 of the msgpack, little-endian
 * (a flipped bit anywhere makes the file an empty index). The entries are
 * written sorted by path. Decoded with common/mpread.h's checks into an
 * array sorted by path (sorted again when the file was not), whose paths
 * point into the file's bytes, kept: loading allocates nothing per entry
 * (a hash map that copied every path was 2.7 ms of a 30 ms warm re-check
 * of 2,000 files), and a lookup is a binary search. A file that does not
 * decode whole, or names a path twice, is an empty index. */
#include "run/statidx.h"

#include "common/alloc.h"
#include "common/buf.h"
#include "common/file.h"
#include "common/hmap.h"
#include "common/mpbuf.h"
#include "common/mpread.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#define MAGIC "strata-statidx"
#define VERSION 1u
#define SUM_BYTES 8u
/* the smallest entry: array header, a 1-byte path, five 1-byte uints, a
 * 32-byte bin with its 2-byte header */
#define STATIDX_MIN_ENTRY_BYTES 42u

typedef struct {
    const char *path; /* into the file's bytes (or an entry's path) */
    uint32_t len;
    file_stamp_t stamp;
    digest_t content;
} slot_t;

struct statidx {
    uint8_t *data; /* the file, which the slots' paths point into */
    slot_t *slots; /* sorted by path (slot_cmp), no path twice */
    size_t n;
};

static int path_cmp(const char *a, uint32_t alen, const char *b, uint32_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);

    return c != 0 ? c : (alen > blen) - (alen < blen);
}

static int slot_cmp(const void *pa, const void *pb)
{
    const slot_t *a = pa, *b = pb;

    return path_cmp(a->path, a->len, b->path, b->len);
}

/* The slot of path[0..len) in self's sorted slots, or NULL. */
static const slot_t *slot_find(const statidx_t *self, const char *path, size_t len)
{
    size_t lo = 0, hi = self->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = path_cmp(path, (uint32_t)len, self->slots[mid].path, self->slots[mid].len);
        if (c == 0)
            return &self->slots[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

void file_stamp_of(const struct stat *st, file_stamp_t *out)
{
    *out = (file_stamp_t){
        .size = (uint64_t)st->st_size,
        .mtime_ns = (uint64_t)st->st_mtim.tv_sec * 1000000000u + (uint64_t)st->st_mtim.tv_nsec,
        .ctime_ns = (uint64_t)st->st_ctim.tv_sec * 1000000000u + (uint64_t)st->st_ctim.tv_nsec,
        .ino = (uint64_t)st->st_ino,
        .dev = (uint64_t)st->st_dev};
}

static bool stamp_known(const file_stamp_t *s)
{
    return s->mtime_ns != 0 || s->ctime_ns != 0 || s->ino != 0;
}

bool file_stamp_trusted(const file_stamp_t *stamp, uint64_t since_ns)
{
    return stamp_known(stamp) && stamp->mtime_ns + STATIDX_RACY_NS <= since_ns &&
           stamp->ctime_ns + STATIDX_RACY_NS <= since_ns;
}

static bool file_name(const char *dir, const digest_t *id, char *out, size_t cap)
{
    char hex[DIGEST_HEX_LEN + 1];

    digest_to_hex(id, hex);
    return dir != NULL && snprintf(out, cap, "%s/" STATIDX_DIR "/%s", dir, hex) < (int)cap;
}

/* Decodes the file's entries into self (sorted by path); false (self then
 * holds some of them: the caller empties it) when anything does not
 * decode or a path comes twice. */
static bool decode(statidx_t *self, const uint8_t *data, size_t len)
{
    mpread_t r;
    uint32_t n, tn, slen, blen;
    uint64_t version;
    const char *s;
    const uint8_t *b;
    uint64_t sum = 0;
    bool sorted = true;

    if (len < SUM_BYTES)
        return false;
    len -= SUM_BYTES;
    for (unsigned k = 0; k < SUM_BYTES; k++)
        sum |= (uint64_t)data[len + k] << (8 * k);
    if (sum != XXH3_64bits(data, len))
        return false;
    mpread_init(&r, data, len);
    if (mpread_array(&r, &n) != ST_OK || n != 3 || mpread_str(&r, &s, &slen) != ST_OK ||
        slen != sizeof MAGIC - 1 || memcmp(s, MAGIC, slen) != 0 ||
        mpread_uint(&r, &version) != ST_OK || version != VERSION ||
        mpread_array_min(&r, STATIDX_MIN_ENTRY_BYTES, &n) != ST_OK)
        return false;
    if ((self->slots = st_calloc(n == 0 ? 1 : n, sizeof *self->slots)) == NULL)
        return false;
    for (uint32_t k = 0; k < n; k++) {
        slot_t *slot = &self->slots[self->n];
        file_stamp_t *st = &slot->stamp;
        if (mpread_array(&r, &tn) != ST_OK || tn != 7 || mpread_str(&r, &s, &slen) != ST_OK ||
            slen == 0 || slen > PATH_MAX || memchr(s, '\0', slen) != NULL ||
            mpread_uint(&r, &st->size) != ST_OK || mpread_uint(&r, &st->mtime_ns) != ST_OK ||
            mpread_uint(&r, &st->ctime_ns) != ST_OK || mpread_uint(&r, &st->ino) != ST_OK ||
            mpread_uint(&r, &st->dev) != ST_OK || mpread_bin(&r, &b, &blen) != ST_OK ||
            blen != sizeof slot->content.b || !stamp_known(st))
            return false; /* an unknown stamp: not ours */
        memcpy(slot->content.b, b, blen);
        slot->path = s;
        slot->len = slen;
        sorted = sorted && (self->n == 0 || slot_cmp(slot - 1, slot) < 0);
        self->n++;
    }
    if (!sorted)
        qsort(self->slots, self->n, sizeof *self->slots, slot_cmp);
    for (size_t k = 1; !sorted && k < self->n; k++)
        if (slot_cmp(&self->slots[k - 1], &self->slots[k]) == 0)
            return false; /* a path twice: not ours */
    return r.pos == r.len;
}

statidx_t *statidx_load(const char *dir, const digest_t *id)
{
    statidx_t *self = st_calloc(1, sizeof *self);
    char path[PATH_MAX];
    uint8_t *data = NULL;
    size_t len = 0;

    if (self == NULL)
        return NULL;
    if (!file_name(dir, id, path, sizeof path) ||
        !file_read_all(path, STATIDX_MAX_FILE_BYTES, &data, &len))
        return self;
    if (decode(self, data, len)) {
        self->data = data;
        return self;
    }
    st_free(self->slots);
    self->slots = NULL;
    self->n = 0;
    st_free(data);
    return self;
}

void statidx_destroy(statidx_t **self_p)
{
    statidx_t *self = self_p != NULL ? *self_p : NULL;

    if (self == NULL)
        return;
    st_free(self->slots);
    st_free(self->data);
    st_free(self);
    *self_p = NULL;
}

size_t statidx_count(const statidx_t *self)
{
    return self != NULL ? self->n : 0;
}

bool statidx_find(const statidx_t *self, const char *path, const file_stamp_t *now,
                  digest_t *content)
{
    const slot_t *slot;
    size_t len;

    if (self == NULL || !stamp_known(now) || (len = strlen(path)) > PATH_MAX ||
        (slot = slot_find(self, path, len)) == NULL || memcmp(&slot->stamp, now, sizeof *now) != 0)
        return false;
    *content = slot->content;
    return true;
}

static void pack_entry(msgpack_packer *pk, const void *path, size_t len, const file_stamp_t *st,
                       const digest_t *content)
{
    msgpack_pack_array(pk, 7);
    mpbuf_str(pk, path, len);
    msgpack_pack_uint64(pk, st->size);
    msgpack_pack_uint64(pk, st->mtime_ns);
    msgpack_pack_uint64(pk, st->ctime_ns);
    msgpack_pack_uint64(pk, st->ino);
    msgpack_pack_uint64(pk, st->dev);
    mpbuf_bin(pk, content->b, sizeof content->b);
}

/* The entries of old kept: not among new's paths, file unchanged. keep[k]
 * (old->n of them) set for slot k, their count in *n_kept. */
static void old_kept(const statidx_t *old, const hmap_t *new, bool *keep, size_t *n_kept)
{
    char path[PATH_MAX + 1];

    *n_kept = 0;
    for (size_t k = 0; k < old->n; k++) {
        const slot_t *o = &old->slots[k];
        struct stat st;
        file_stamp_t now;
        if (o->len > PATH_MAX || hmap_get(new, o->path, o->len, NULL) == ST_OK)
            continue;
        memcpy(path, o->path, o->len);
        path[o->len] = '\0';
        if (stat(path, &st) != 0)
            continue;
        file_stamp_of(&st, &now);
        if (memcmp(&now, &o->stamp, sizeof now) == 0) {
            keep[k] = true;
            (*n_kept)++;
        }
    }
}

static st_rc_t encode(const statidx_entry_t *entries, size_t n, const statidx_t *old, buf_t *b)
{
    hmap_t *new = hmap_new(HMAP_BYTES);
    bool *keep = NULL;
    size_t n_kept = 0, n_out = 0;
    hmap_iter_t it = HMAP_ITER_INIT;
    slot_t *out = NULL;
    mpbuf_t w;
    msgpack_packer *pk = &w.pk;
    st_rc_t rc = new != NULL ? ST_OK : ST_ENOMEM;

    for (size_t i = 0; rc == ST_OK && i < n; i++) {
        size_t len = strlen(entries[i].path);
        rc = len == 0 || len > PATH_MAX ? ST_OK : hmap_put(new, entries[i].path, len, i);
    }
    if (rc == ST_OK && old != NULL && old->n > 0) {
        if ((keep = st_calloc(old->n, sizeof *keep)) == NULL)
            rc = ST_ENOMEM;
        else
            old_kept(old, new, keep, &n_kept);
    }
    if (rc == ST_OK && hmap_count(new) + n_kept > UINT32_MAX)
        rc = ST_ENOMEM;
    if (rc == ST_OK && (out = st_calloc(hmap_count(new) + n_kept + 1, sizeof *out)) == NULL)
        rc = ST_ENOMEM;
    if (rc == ST_OK) {
        /* a path given twice is packed once (its last entry) */
        while (hmap_next(new, &it))
            out[n_out++] = (slot_t){.path = (const char *)it.key.ptr,
                                    .len = (uint32_t)it.key.len,
                                    .stamp = entries[it.val].stamp,
                                    .content = entries[it.val].content};
        for (size_t k = 0; n_kept > 0 && k < old->n; k++)
            if (keep[k])
                out[n_out++] = old->slots[k];
        qsort(out, n_out, sizeof *out, slot_cmp);
        mpbuf_init(&w, b);
        msgpack_pack_array(pk, 3);
        mpbuf_cstr(pk, MAGIC);
        msgpack_pack_uint32(pk, VERSION);
        msgpack_pack_array(pk, (uint32_t)n_out);
        for (size_t k = 0; k < n_out; k++)
            pack_entry(pk, out[k].path, out[k].len, &out[k].stamp, &out[k].content);
        if (mpbuf_status(&w) != ST_OK || b->data == NULL)
            rc = ST_ENOMEM;
    }
    if (rc == ST_OK) {
        uint64_t sum = XXH3_64bits(b->data, b->len);
        uint8_t le[SUM_BYTES];
        for (unsigned k = 0; k < SUM_BYTES; k++)
            le[k] = (uint8_t)(sum >> (8 * k));
        rc = buf_append(b, le, sizeof le);
    }
    st_free(out);
    st_free(keep);
    hmap_destroy(&new);
    return rc;
}

st_rc_t statidx_write(const char *dir, const char *name, const void *data, size_t len,
                      st_err_t *err)
{
    char path[PATH_MAX], sub[PATH_MAX];

    if (dir == NULL || snprintf(sub, sizeof sub, "%s/" STATIDX_DIR, dir) >= (int)sizeof sub ||
        snprintf(path, sizeof path, "%s/%s", sub, name) >= (int)sizeof path)
        return st_fail(err, ST_EIO, "no room for the file name of %s in the cache directory", name);
    if (mkdir(sub, 0755) != 0 && errno != EEXIST)
        return st_fail(err, ST_EIO, "%s: %s", sub, strerror(errno));
    return file_replace(path, data, len, err);
}

st_rc_t statidx_save(const char *dir, const digest_t *id, const statidx_entry_t *entries, size_t n,
                     const statidx_t *old, st_err_t *err)
{
    char hex[DIGEST_HEX_LEN + 1];
    buf_t b;
    st_rc_t rc;

    if (n > UINT32_MAX)
        return st_fail(err, ST_ELIMIT, "too many files for the stat index");
    buf_init(&b);
    if ((rc = encode(entries, n, old, &b)) != ST_OK) {
        buf_free(&b);
        return st_fail(err, rc, "out of memory for the stat index");
    }
    digest_to_hex(id, hex);
    rc = statidx_write(dir, hex, b.data, b.len, err);
    buf_free(&b);
    return rc;
}

st_rc_t statidx_place_id(const char *tag, const char *const *args, size_t n_args,
                         const char *const *roots, size_t n_roots, digest_t *out)
{
    char cwd[PATH_MAX];
    digest_ctx_t *ctx = digest_ctx_new();
    st_rc_t rc;

    if (ctx == NULL)
        return ST_ENOMEM;
    digest_ctx_update_str(ctx, tag);
    digest_ctx_update_str(ctx, getcwd(cwd, sizeof cwd) != NULL ? cwd : "");
    digest_ctx_update_str(ctx, "args");
    for (size_t i = 0; i < n_args; i++)
        digest_ctx_update_str(ctx, args[i]);
    digest_ctx_update_str(ctx, "roots");
    for (size_t i = 0; i < n_roots; i++)
        digest_ctx_update_str(ctx, roots[i]);
    rc = digest_ctx_final(ctx, out);
    digest_ctx_destroy(&ctx);
    return rc;
}

st_rc_t statidx_project_id(const char *const *roots, size_t n_roots, digest_t *out)
{
    return statidx_place_id(MAGIC, NULL, 0, roots, n_roots, out);
}

/* Whether name[0..len) is 64 lowercase hex digits. */
static bool is_hex64(const char *name, size_t len)
{
    if (len != DIGEST_HEX_LEN)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
            return false;
    return true;
}

/* Whether name is one of the files this directory holds: an index
 * (<hex>), a whole-run hint (whole-<hex>), or either's temporary file
 * (a dot and six characters after it: mkostemp's). */
static bool ours(const char *name)
{
    size_t len = strlen(name);

    if (len > 7 && name[len - 7] == '.')
        len -= 7;
    if (len == 12 && memcmp(name, "remote-tally", 12) == 0) /* run/remote.h's tally */
        return true;
    if (len > 6 && memcmp(name, "whole-", 6) == 0)
        return is_hex64(name + 6, len - 6);
    return is_hex64(name, len);
}

st_rc_t statidx_clear(const char *dir, size_t *removed, st_err_t *err)
{
    char sub[PATH_MAX];
    struct dirent *de;
    DIR *d;
    int fd, failed = 0;

    *removed = 0;
    if (snprintf(sub, sizeof sub, "%s/" STATIDX_DIR, dir) >= (int)sizeof sub)
        return st_fail(err, ST_EIO, "%s: name too long", dir);
    if ((fd = open(sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
        return errno == ENOENT ? ST_OK : st_fail(err, ST_EIO, "%s: %s", sub, strerror(errno));
    if ((d = fdopendir(fd)) == NULL) {
        close(fd);
        return st_fail(err, ST_EIO, "%s: %s", sub, strerror(errno));
    }
    while ((de = readdir(d)) != NULL) {
        if (!ours(de->d_name))
            continue;
        if (unlinkat(dirfd(d), de->d_name, 0) == 0)
            (*removed)++;
        else if (errno != ENOENT)
            failed = errno; /* a directory planted under such a name, say */
    }
    closedir(d);
    if (failed != 0)
        return st_fail(err, ST_EIO, "%s: %s", sub, strerror(failed));
    return ST_OK;
}
