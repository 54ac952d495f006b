/* noqa.h - `# noqa` comments, as flake8 and ruff read them.
 *
 * `# noqa` on a line silences every diagnostic reported on that line;
 * `# noqa: F401,E501` (commas or spaces, any case, codes matched as
 * prefixes) silences only those codes. A line `# flake8: noqa` or
 * `# ruff: noqa` anywhere silences the whole file.
 *
 * For the cross-module checks (which run later, on the summary's ranges)
 * the summary also gets pylint's `# pylint: disable=` pragmas and the type
 * checkers' `# type: ignore` and `# pyright: ignore` (with or without
 * [codes]): these silence E0401, E0611, E1101, E1120, E1121 and E1123 on
 * their line group, or in the whole file for a `# type: ignore` alone
 * before any statement (PEP 484). They never silence a pyflakes code, as
 * pyflakes does not honour them. */
#ifndef STRATA_NOQA_H
#define STRATA_NOQA_H

#include "common/arena.h"
#include "worker/python/diag.h"
#include "worker/python/summary.h"

#include <stdbool.h>
#include <stdint.h>

/* Marks suppressed diagnostics of d as withdrawn (dead). Costs one memchr
 * pass when the text has no noqa comment. */
void noqa_apply(const char *text, uint32_t len, diag_list_t *d);

/* Adds to s the lines each noqa comment of text covers, exactly as
 * noqa_apply reads them (a comment covers its whole group of joined lines),
 * in order of first line; a file-level exemption is the one range
 * [1, UINT32_MAX] for every code. False when arena a is exhausted. */
bool noqa_summarize(const char *text, uint32_t len, arena_t *a, summary_t *s);

#endif
