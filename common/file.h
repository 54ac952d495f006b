/* file.h - small files of our own in the cache directory: read whole, and
 * replaced atomically.
 *
 * The stat index, the dispatch cost record, an interpreter's answer and
 * the whole-run hint are each one small file that a later run reads as
 * untrusted input and a run replaces. Replacing goes through a fresh file
 * of our own (mkostemp beside the target, mode 0644) renamed into place:
 * never written through a name someone planted, never seen half written;
 * concurrent writers leave one whole version. Reading refuses what is not
 * a regular file, a symbolic link, and anything over a size the caller
 * names. */
#ifndef STRATA_FILE_H
#define STRATA_FILE_H

#include "common/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Replaces path with data[0..len). ST_EIO naming the file (the temporary
 * one is removed). */
st_rc_t file_replace(const char *path, const void *data, size_t len, st_err_t *err);

/* The whole of path (a regular file, not a link, 1..max bytes) in *data
 * (st_malloc'd, the caller frees it), its length in *len. False, with
 * nothing allocated, when it is missing, of another kind, empty, too large
 * or not read whole. */
bool file_read_all(const char *path, size_t max, uint8_t **data, size_t *len);

#endif
