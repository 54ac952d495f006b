/* statidx.h - the stat index: what each file looked like (size, times,
 * inode) when its content was last read and hashed, with that content's
 * SHA-256. A re-check then trusts the digest of every file whose stat is
 * unchanged and reads only the others, as git's index and Bazel's digest
 * cache do: an unchanged project costs a stat per file, not a read and a
 * hash.
 *
 * The rule of trust: an entry is used only when size, modification and
 * change times (nanoseconds), inode and device all equal the file's stat
 * now. The change time cannot be set back by tools that restore a
 * modification time (touch -d, rsync -t, a checkout), and an editor that
 * saves by renaming a new file into place changes the inode. A file that
 * changed less than STATIDX_RACY_NS before its stat was taken is not kept
 * (git's racy entries): an edit in the same clock tick as the one that
 * was hashed would not show in its times, so it is read again next time.
 *
 * One index per project (the id the caller derives from the working
 * directory and the roots) in a file of the cache directory, replaced
 * atomically (a temporary file, then rename), so concurrent runs and a
 * crash leave the old index or the new one. The file is untrusted input:
 * one that does not decode whole, is too large or is not a regular file is
 * an empty index (everything is read again), never an error. What a stat
 * cannot prove is that nobody rewrote the index itself: the cache directory
 * is trusted like the rest of the cache. */
#ifndef STRATA_RUN_STATIDX_H
#define STRATA_RUN_STATIDX_H

#include "common/digest.h"
#include "common/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#define STATIDX_RACY_NS 2000000000ull       /* 2 s */
#define STATIDX_MAX_FILE_BYTES (256u << 20) /* a larger index is not read */
#define STATIDX_DIR "stat"                  /* below the cache directory */

/* A file's stat as the index compares it. All zero: unknown. */
typedef struct {
    uint64_t size, mtime_ns, ctime_ns, ino, dev;
} file_stamp_t;

/* st's stamp. */
void file_stamp_of(const struct stat *st, file_stamp_t *out);

/* Whether stamp is known and old enough to be kept: its times are at least
 * STATIDX_RACY_NS before since_ns (the wall clock, in nanoseconds, taken
 * before the stat). */
bool file_stamp_trusted(const file_stamp_t *stamp, uint64_t since_ns);

/* One entry: a path (borrowed), its stamp and its content's SHA-256. */
typedef struct {
    const char *path;
    file_stamp_t stamp;
    digest_t content;
} statidx_entry_t;

typedef struct statidx statidx_t;

/* The index of project id in directory dir (the cache directory): an empty
 * one when there is none or it does not decode. NULL only when out of
 * memory. */
statidx_t *statidx_load(const char *dir, const digest_t *id);
void statidx_destroy(statidx_t **self_p);

/* The number of entries loaded. */
size_t statidx_count(const statidx_t *self);

/* The content digest of path when its entry's stamp equals now (which must
 * be known): true, *content set. Thread-safe (read only). */
bool statidx_find(const statidx_t *self, const char *path, const file_stamp_t *now,
                  digest_t *content);

/* Replaces the index of project id in dir with entries[0..n) (the caller
 * leaves out the untrusted ones) and the entries of old (may be NULL) for
 * other paths whose file still has the stamp they hold (a run that did not
 * read them keeps them; a file gone is dropped). ST_EIO naming the file;
 * ST_ENOMEM. */
st_rc_t statidx_save(const char *dir, const digest_t *id, const statidx_entry_t *entries, size_t n,
                     const statidx_t *old, st_err_t *err);

/* Removes what dir/stat holds: every project's index and every whole-run
 * hint (run/whole_hint.h), and the temporary files of writes that were cut
 * short; a name of another form is left alone. *removed counts the files
 * removed. A directory without stat/ is ST_OK. ST_EIO naming what could
 * not be removed. */
st_rc_t statidx_clear(const char *dir, size_t *removed, st_err_t *err);

/* Replaces dir/stat/name with data[0..len), making stat/ first: every
 * small file the cache directory keeps there (the stat indexes, the
 * whole-run hints, the team cache's tally) is written this way. ST_EIO
 * naming the file. */
st_rc_t statidx_write(const char *dir, const char *name, const void *data, size_t len,
                      st_err_t *err);

/* A digest of tag, the working directory, then args and roots in order:
 * the name of a file of this directory that belongs to one project or one
 * invocation (run/whole_hint.h). ST_ENOMEM. */
st_rc_t statidx_place_id(const char *tag, const char *const *args, size_t n_args,
                         const char *const *roots, size_t n_roots, digest_t *out);

/* The id of a project: a digest of the working directory and the roots the
 * run was given (their paths are relative to the former). ST_ENOMEM. */
st_rc_t statidx_project_id(const char *const *roots, size_t n_roots, digest_t *out);

#endif
