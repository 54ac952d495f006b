/* noqa.h - `# noqa` comments, as flake8 and ruff read them.
 *
 * `# noqa` on a line silences every diagnostic reported on that line;
 * `# noqa: F401,E501` (commas or spaces, any case, codes matched as
 * prefixes) silences only those codes. A line `# flake8: noqa` or
 * `# ruff: noqa` anywhere silences the whole file. */
#ifndef STRATA_NOQA_H
#define STRATA_NOQA_H

#include "worker/python/diag.h"

#include <stdint.h>

/* Marks suppressed diagnostics of d as withdrawn (dead). Costs one memchr
 * pass when the text has no noqa comment. */
void noqa_apply(const char *text, uint32_t len, diag_list_t *d);

#endif
