/* fuzz_project.c - the summaries as the coordinator reads them: the bytes
 * are the scan result of the one file of a project (as a worker would send
 * it), given to project_add_scan, then project_check resolves its imports
 * (summary_span, decode_imports), builds the graph and runs its check job.
 * The file is a package's __init__ so that relative imports resolve too.
 * Properties: project_check is ST_OK (a summary that does not decode is an
 * E902 on its file) or ST_ENOMEM, and the report writes. */
#include "fuzz.h"

#include "coordinator/project.h"
#include "coordinator/report.h"
#include "worker/python/scan.h"

#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const paths[] = {"fz/pkg/__init__.py"};
    static const char *const args[] = {"fz"};
    static const cli_rules_t rules = {0};
    arena_t *a = fuzz_arena();
    span_t doc = {.ptr = data, .len = size};
    scan_diag_t *diags = NULL;
    size_t n = 0, nd = 0, nf = 0;
    st_err_t err = {0};
    project_opts_t popts = {.args = args, .n_args = 1, .jobs = 1};
    project_t *p = project_new(paths, 1);
    report_t *r = report_new(&rules);
    exec_done_t done = {.id = 0, .path = paths[0], .result = doc};
    FILE *devnull = fopen("/dev/null", "w");
    st_rc_t rc;

    if (p == NULL || r == NULL || devnull == NULL)
        abort();
    /* exec hands over the diagnostics it decoded from the result; a result
     * that does not decode still reaches the project with none */
    if (scan_result_diags(doc, a, &diags, &n, &err) == ST_OK) {
        done.diags = diags;
        done.n_diags = n;
    }
    FUZZ_ASSERT(project_add_scan(p, &done, &err) == ST_OK);
    rc = project_check(p, &popts, r, NULL, &err);
    FUZZ_ASSERT(rc == ST_OK || rc == ST_ENOMEM);
    FUZZ_ASSERT(report_write(r, CLI_FORMAT_TEXT, devnull, &nd, &nf, &err) == ST_OK);
    fclose(devnull);
    project_destroy(&p);
    report_destroy(&r);
    return 0;
}
