/* fuzz_check.c - the check job on arbitrary bytes: check_run on the bytes as
 * an input document (what a coordinator sends a worker), and
 * check_result_decode on the same bytes as a result document (what a worker
 * sends back, or the cache returns).
 * Properties: check_run is ST_OK, ST_ECORRUPT or ST_ENOMEM (an input can
 * ask for much work: its cost is capped by the arena); the result of a run
 * decodes; decoding arbitrary bytes is ST_OK or ST_ECORRUPT and takes at
 * most FUZZ_DECODE_BUDGET from its arena. */
#include "fuzz.h"

#include "worker/python/xmod.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    arena_t *a = fuzz_arena();
    span_t doc = {.ptr = data, .len = size}, out = {0};
    check_module_t *mods = NULL;
    size_t n = 0;
    st_err_t err = {0};
    st_rc_t rc = check_run(doc, a, &out, &err);

    FUZZ_ASSERT(rc == ST_OK || rc == ST_ECORRUPT || rc == ST_ENOMEM);
    if (rc == ST_OK) {
        rc = check_result_decode(out, a, &mods, &n, &err);
        FUZZ_ASSERT(rc == ST_OK || rc == ST_ENOMEM);
    }

    a = fuzz_arena();
    rc = check_result_decode(doc, a, &mods, &n, &err);
    FUZZ_ASSERT(rc == ST_OK || rc == ST_ECORRUPT);
    FUZZ_ASSERT(arena_used(a) <= FUZZ_DECODE_BUDGET(size));
    for (size_t i = 0; i < n && rc == ST_OK; i++)
        FUZZ_ASSERT(mods[i].iface.len <= size);
    return 0;
}
