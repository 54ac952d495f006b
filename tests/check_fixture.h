/* check_fixture.h - the check job input that the job, pool, dispatch and
 * calls tests all send: one module m, its summary as given, importing os
 * (stdlib) and nosuchmod (unresolved), written by the check module's own
 * encoder (worker/python/xmod.h), so the tests send what run/project_jobs.c
 * would. */
#ifndef STRATA_TEST_CHECK_FIXTURE_H
#define STRATA_TEST_CHECK_FIXTURE_H

#include "worker/python/xmod.h"

#include <stdbool.h>

/* Appends the input to in; false when summary is empty or a write failed. */
static inline bool check_fixture_input(buf_t *in, span_t summary)
{
    mpbuf_t w;

    mpbuf_init(&w, in);
    check_input_begin(&w, 1);
    check_input_module(&w, &(check_input_module_t){.name = "m", .export = true});
    check_input_summary(&w, summary);
    check_input_res(&w, 2);
    check_input_resolved(&w, 1, "os");
    check_input_resolved(&w, 3, "nosuchmod");
    check_input_ifaces(&w, 0);
    return summary.len > 0 && mpbuf_status(&w) == ST_OK;
}

#endif
