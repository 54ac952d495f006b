/* lineidx.c - line index built by two SIMD passes (count, then fill), which
 * is cheaper than growing an array as lines are found. */
#include "lineidx.h"

#include "alloc.h"
#include "simd.h"

st_rc_t lineidx_build(lineidx_t *idx, const uint8_t *s, size_t n, arena_t *a)
{
    size_t count, bytes;
    uint32_t *starts;

    if (n > UINT32_MAX)
        return ST_ELIMIT;
    count = simd_count_lines(s, n);
    if (!st_mul_size(count, sizeof *starts, &bytes))
        return ST_ELIMIT;
    starts = a != NULL ? arena_alloc(a, bytes) : st_malloc(bytes);
    if (starts == NULL)
        return ST_ENOMEM;
    simd_line_starts(s, n, starts, count);
    *idx = (lineidx_t){starts, (uint32_t)count, (uint32_t)n, a};
    return ST_OK;
}

st_rc_t lineidx_lookup(const lineidx_t *idx, uint32_t offset, uint32_t *line, uint32_t *col)
{
    uint32_t lo = 0, hi = idx->count; /* the answer is in [lo, hi) */

    if (offset > idx->len || idx->count == 0)
        return ST_EINVAL;
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (idx->starts[mid] <= offset)
            lo = mid;
        else
            hi = mid;
    }
    *line = lo + 1;
    *col = offset - idx->starts[lo];
    return ST_OK;
}

void lineidx_free(lineidx_t *idx)
{
    if (idx->arena == NULL)
        st_free(idx->starts);
    *idx = (lineidx_t){NULL, 0, 0, NULL};
}
