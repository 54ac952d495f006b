/* tokens.h - token-level facts about Python source that the tree does not give.
 *
 * tree-sitter's Python grammar is more forgiving than CPython's tokenizer:
 * it takes brackets nested past 200 levels, indentation past 100, an
 * unexpected indent or an unindent to no outer level, and tabs that
 * disagree with spaces. tokens_check finds these in one pass over the text.
 * Physical lines joined by a multi-line string or a backslash also act as
 * one line for `# noqa`; tokens_line_groups says which. */
#ifndef STRATA_TOKENS_H
#define STRATA_TOKENS_H

#include "common/arena.h"
#include "worker/python/diag.h"

#include <stdbool.h>
#include <stdint.h>

/* CPython's tokenizer limits (Parser/tokenizer.h: MAXINDENT, MAXLEVEL). */
#define PY_MAX_INDENT 100
#define PY_MAX_PAREN_LEVEL 200

/* False, with one E999 added to d, when CPython's tokenizer would refuse
 * text; true otherwise. Linear, allocates nothing. */
bool tokens_check(const char *text, uint32_t len, diag_list_t *d);

/* Bracketed continuation lines indented less than their block, which
 * tree-sitter's scanner mistakes for a dedent (`x = (1 +` then `2)` at
 * column 0 inside a function): where they are and how many spaces would
 * bring them to the block's indentation. */
#define TOKENS_MAX_PADS 1024

typedef struct {
    uint32_t n;
    uint32_t line[TOKENS_MAX_PADS];   /* 1-based */
    uint32_t offset[TOKENS_MAX_PADS]; /* byte offset of the line's start */
    uint32_t width[TOKENS_MAX_PADS];  /* spaces to insert there */
} tokens_pads_t;

/* tokens_check, also filling pads (when not NULL). */
bool tokens_scan(const char *text, uint32_t len, diag_list_t *d, tokens_pads_t *pads);

/* A copy of text with pads' spaces inserted, in arena a; NULL when a is
 * exhausted. Lines are unchanged; columns on padded lines move right. */
char *tokens_pad(const char *text, uint32_t len, const tokens_pads_t *pads, arena_t *a,
                 uint32_t *out_len);

/* For each 1-based line L (1..n_lines), group[L-1] is the first line of
 * the run of lines joined with it by a string literal or a backslash. */
void tokens_line_groups(const char *text, uint32_t len, uint32_t *group, uint32_t n_lines);

#endif
