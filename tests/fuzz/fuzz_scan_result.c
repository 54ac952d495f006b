/* fuzz_scan_result.c - scan_result_diags on arbitrary bytes: the decoder of
 * a scan result document, which a worker sends and the cache hands back.
 * Properties: it returns ST_OK or ST_ECORRUPT (never ST_ENOMEM: what it
 * keeps is bounded by the bytes), takes at most FUZZ_DECODE_BUDGET from its
 * arena, and what it returns is usable (positions, NUL-terminated
 * strings). */
#include "fuzz.h"

#include "worker/python/scan.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    arena_t *a = fuzz_arena();
    span_t doc = {.ptr = data, .len = size};
    scan_diag_t *diags = NULL;
    size_t n = 0, total = 0;
    st_err_t err = {0};
    st_rc_t rc = scan_result_diags(doc, a, &diags, &n, &err);

    FUZZ_ASSERT(rc == ST_OK || rc == ST_ECORRUPT);
    FUZZ_ASSERT(arena_used(a) <= FUZZ_DECODE_BUDGET(size));
    if (rc != ST_OK)
        return 0;
    for (size_t i = 0; i < n; i++)
        total += strlen(diags[i].code) + strlen(diags[i].message);
    FUZZ_ASSERT(total <= size);
    return 0;
}
