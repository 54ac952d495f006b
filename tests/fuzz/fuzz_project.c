/* fuzz_project.c - the summaries as the coordinator reads them: the bytes
 * are the scan result (as a worker would send it) of two files of a small
 * project, the package fz/pkg/__init__.py and its module fz/pkg/mod.py,
 * beside a real scan of fz/use.py that imports both. project_add_scan takes
 * them, then project_check reads the summaries (summary_span,
 * decode_imports), resolves the imports (relative ones too: the package's
 * and the module's levels differ), builds the graph and runs the check jobs,
 * passing the interfaces made from the fuzzed summaries to use.py's job.
 * Properties: project_check is ST_OK (a summary that does not decode is an
 * E902 on its file) or ST_ENOMEM, and the report writes. */
#include "fuzz.h"

#include "run/project.h"
#include "run/report.h"
#include "worker/python/scan.h"

#include <stdio.h>
#include <string.h>

enum { N_FILES = 3, USE = 2 };

static const char use_src[] =
    "import pkg\nimport pkg.mod\nfrom pkg import f, g\nfrom pkg.mod import "
    "*\n\nf(1, 2, k=3)\npkg.mod.h()\npkg.x.y\nprint(g, z)\n";

/* The scan result of use.py, made once (into its own arena). */
static span_t use_result(void)
{
    static span_t out;
    static arena_t *keep;

    if (keep == NULL) {
        scanner_t *sc = scanner_new();
        scan_opts_t opts = {0};
        st_err_t err = {0};

        if (sc == NULL || (keep = arena_new(0)) == NULL ||
            scanner_run(sc, &opts, SCAN_KIND_PY, (const uint8_t *)use_src, strlen(use_src), keep,
                        &out, &err) != ST_OK)
            abort();
        scanner_destroy(&sc);
    }
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const paths[N_FILES] = {"fz/pkg/__init__.py", "fz/pkg/mod.py", "fz/use.py"};
    static const char *const args[] = {"fz"};
    static const report_rules_t rules = {0};
    arena_t *a = fuzz_arena();
    span_t results[N_FILES] = {
        {.ptr = data, .len = size}, {.ptr = data, .len = size}, use_result()};
    size_t nd = 0, nf = 0;
    st_err_t err = {0};
    project_opts_t popts = {.args = args, .n_args = 1, .jobs = 1};
    project_t *p = project_new(paths, N_FILES);
    report_t *r = report_new(&rules);
    FILE *devnull = fopen("/dev/null", "w");
    st_rc_t rc;

    if (p == NULL || r == NULL || devnull == NULL)
        abort();
    for (size_t i = 0; i < N_FILES; i++) {
        exec_done_t done = {.id = i, .path = paths[i], .result = results[i]};
        scan_diag_t *diags = NULL;
        size_t n = 0;

        /* exec hands over the diagnostics it decoded from the result; a
         * result that does not decode still reaches the project with none */
        if (scan_result_diags(results[i], a, &diags, &n, &err) == ST_OK) {
            done.diags = diags;
            done.n_diags = n;
        }
        FUZZ_ASSERT(project_add_scan(p, &done, &err) == ST_OK);
    }
    rc = project_check(p, &popts, r, NULL, &err);
    FUZZ_ASSERT(rc == ST_OK || rc == ST_ENOMEM);
    FUZZ_ASSERT(report_write(r, REPORT_FORMAT_TEXT, devnull, &nd, &nf, &err) == ST_OK);
    fclose(devnull);
    project_destroy(&p);
    report_destroy(&r);
    return 0;
}
