/* decode.h - from the bytes of a file to the UTF-8 text the parser reads.
 *
 * Python source is UTF-8 unless a PEP 263 coding line on line 1 or 2 says
 * otherwise; a UTF-8 BOM is allowed (and then only a utf-8 declaration).
 * Whatever CPython would refuse here (undecodable bytes, an unknown
 * encoding, NUL bytes) becomes one diagnostic instead of a text; so does a
 * file over the size limit, or one that is binary rather than source. */
#ifndef STRATA_DECODE_H
#define STRATA_DECODE_H

#include "common/arena.h"
#include "worker/python/diag.h"

#include <stddef.h>
#include <stdint.h>

/* Hard cap: offsets in the tree and the summary are 32-bit. */
#define DECODE_MAX_BYTES ((size_t)1 << 30)

/* On success *text and *text_len hold UTF-8 without BOM (src itself when no
 * transcoding was needed, else a copy in a) and true is returned. On a
 * problem with the file, one diagnostic is added to diags and false is
 * returned. Sets diags->oom when a is exhausted. */
bool decode_source(const uint8_t *src, size_t len, size_t max_bytes, arena_t *a, diag_list_t *diags,
                   const char **text, uint32_t *text_len);

/* The encoding named by a PEP 263 line in the first two lines of src,
 * normalised as CPython does ("utf-8", "iso-8859-1", or as written, lower
 * case); writes "" when there is none. */
void decode_coding_name(const uint8_t *src, size_t len, char *out, size_t cap);

#endif
