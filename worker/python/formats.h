/* formats.h - pyflakes' checks of format strings against their arguments.
 *
 * `'%s %s' % (a,)` and `'{} {x}'.format(a)` can be checked without running
 * anything when the string is a literal: the placeholders are parsed the way
 * CPython parses them (printf-style conversions; str.format's fields with
 * their nested specs) and compared with the arguments given, as pyflakes
 * does (F501-F509, F521-F525). The checker finds the literal and describes
 * the arguments; this module knows nothing of trees. */
#ifndef STRATA_FORMATS_H
#define STRATA_FORMATS_H

#include "worker/python/diag.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The right operand of `'...' % rhs`, as far as pyflakes looks at it. */
typedef enum { FMT_RHS_OTHER, FMT_RHS_SEQUENCE, FMT_RHS_MAPPING } fmt_rhs_kind_t;

#define FMT_MAX_KEYS 64

typedef struct {
    fmt_rhs_kind_t kind;
    uint32_t count;  /* SEQUENCE: items (no starred item) */
    uint32_t n_keys; /* MAPPING whose keys are all str literals: the keys */
    const char *keys[FMT_MAX_KEYS];
    uint32_t key_lens[FMT_MAX_KEYS];
    bool keys_known; /* MAPPING: every key is a str literal (and fits) */
} fmt_rhs_t;

/* Checks `fmt % rhs` and reports at (line, col) (1-based). */
void formats_percent(const char *fmt, size_t len, const fmt_rhs_t *rhs, uint32_t line, uint32_t col,
                     diag_list_t *d);

/* The arguments of a `.format(...)` call. */
typedef struct {
    uint32_t positional;
    bool star, dstar; /* *args or **kwargs: no count checks */
    uint32_t n_keywords;
    const char *keywords[FMT_MAX_KEYS];
    uint32_t keyword_lens[FMT_MAX_KEYS];
    bool keywords_fit; /* false when there were more than FMT_MAX_KEYS */
} fmt_call_t;

/* Checks `fmt.format(...)` and reports at (line, col). */
void formats_dot_format(const char *fmt, size_t len, const fmt_call_t *call, uint32_t line,
                        uint32_t col, diag_list_t *d);

#endif
