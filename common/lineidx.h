/* lineidx.h - byte offset to (line, column) for one source text.
 *
 * Diagnostics are reported as path:line:col while the parser and the checks
 * work in byte offsets. The index keeps the start offset of every line
 * (computed by the SIMD line kernel) and maps an offset back by binary search.
 * Lines end as in Python: "\n", "\r\n" or a lone "\r". */
#ifndef STRATA_LINEIDX_H
#define STRATA_LINEIDX_H

#include "common/arena.h"
#include "common/status.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t *starts; /* starts[0] = 0, ascending: where each line begins */
    uint32_t count;   /* number of lines, >= 1 */
    uint32_t len;     /* bytes in the text */
    arena_t *arena;   /* where starts lives; NULL: the heap */
} lineidx_t;

/* Indexes s[0..n). The starts array comes from arena a (valid until a is
 * reset), or from the heap when a is NULL (release with lineidx_free).
 * ST_ELIMIT when n > UINT32_MAX; ST_ENOMEM when memory runs out; *idx is
 * untouched on error. Thread-safe (s and a are the caller's). */
st_rc_t lineidx_build(lineidx_t *idx, const uint8_t *s, size_t n, arena_t *a);

/* The 1-based line and 0-based byte column of offset (offset == len is the
 * end of the text, on the last line). ST_EINVAL when offset > len; *line and
 * *col untouched then. An offset inside a "\r\n" pair is on the line that the
 * pair ends. */
st_rc_t lineidx_lookup(const lineidx_t *idx, uint32_t offset, uint32_t *line, uint32_t *col);

/* Frees a heap index (an arena one is only forgotten); idx becomes empty. */
void lineidx_free(lineidx_t *idx);

#endif
