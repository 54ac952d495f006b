/* stdlib_names.h - the top-level module names of Python's standard library.
 *
 * Internal to scheduler/ (resolve.c asks it; tests check the table). The
 * data is the union over Python 3.8 to 3.13 (sys.stdlib_module_names where
 * it exists, the installed library before), so a module that one supported
 * version has is never taken for a third-party one. Built-in modules (sys,
 * _io) and platform-only ones (winreg, _scproxy) are included; test-only
 * extension modules (_testcapi, xxsubtype) are not. */
#ifndef STRATA_STDLIB_NAMES_H
#define STRATA_STDLIB_NAMES_H

#include <stdbool.h>
#include <stddef.h>

/* Whether name[0..len) is exactly one of the names (a top-level name: no
 * dot is ever in the table). Pure, thread-safe; name may be NULL if len 0. */
bool stdlib_names_contains(const char *name, size_t len);

/* The table, sorted byte-wise and unique: count and the i-th name (NULL when
 * i >= count). Static strings. */
size_t stdlib_names_count(void);
const char *stdlib_names_at(size_t i);

#endif
