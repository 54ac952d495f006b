/* fuzz_scan.c - the scan of one source file: scanner_run on arbitrary bytes
 * as a module (.py), a stub (.pyi) and a package (__init__.py), with one
 * scanner kept across inputs as a worker thread keeps it.
 * Properties: a scan succeeds (a problem of the file is a diagnostic) or
 * runs out of its arena; its result decodes with scan_result_diags, and the
 * diagnostics come sorted by (line, col, code) at positions >= 1. */
#include "fuzz.h"

#include "worker/python/scan.h"

#include <string.h>

static int diag_cmp(const scan_diag_t *x, const scan_diag_t *y)
{
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    if (x->col != y->col)
        return x->col < y->col ? -1 : 1;
    return strcmp(x->code, y->code);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static scanner_t *sc;
    static const scan_kind_t kinds[] = {SCAN_KIND_PY, SCAN_KIND_PYI, SCAN_KIND_INIT};
    scan_opts_t opts = {0};

    if (sc == NULL && (sc = scanner_new()) == NULL)
        abort();
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        arena_t *a = fuzz_arena();
        span_t out = {0};
        scan_diag_t *diags = NULL;
        size_t n = 0;
        st_err_t err = {0};
        st_rc_t rc = scanner_run(sc, &opts, kinds[k], data, size, a, &out, &err);

        FUZZ_ASSERT(rc == ST_OK || rc == ST_ENOMEM);
        if (rc != ST_OK)
            continue;
        rc = scan_result_diags(out, a, &diags, &n, &err);
        FUZZ_ASSERT(rc == ST_OK || rc == ST_ENOMEM);
        if (rc != ST_OK)
            continue;
        for (size_t i = 0; i < n; i++) {
            FUZZ_ASSERT(diags[i].line >= 1 && diags[i].col >= 1);
            FUZZ_ASSERT(i == 0 || diag_cmp(&diags[i - 1], &diags[i]) <= 0);
        }
    }
    return 0;
}
