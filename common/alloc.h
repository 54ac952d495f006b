/* alloc.h - the heap allocator of every long-lived object, with a fault hook.
 *
 * Long-lived objects (interner, maps, arena chunks, buffers not in an arena)
 * allocate through these wrappers rather than malloc so that a test can make
 * the Nth allocation fail and check that the code under test reports
 * ST_ENOMEM and leaves its objects unchanged (as sqlite's test_malloc.c does).
 * Per-job memory comes from arenas, whose chunks come from here too. */
#ifndef STRATA_ALLOC_H
#define STRATA_ALLOC_H

#include <stdbool.h>
#include <stddef.h>

/* malloc/calloc/realloc/free with the fault hook. A size of 0 is served as 1
 * byte so that a NULL result always means failure. st_calloc checks n*size for
 * overflow (NULL). st_realloc(NULL, n) is st_malloc(n); on failure it returns
 * NULL and p is untouched. Caller frees with st_free (which accepts NULL).
 * Thread-safe. */
void *st_malloc(size_t size);
void *st_calloc(size_t n, size_t size);
void *st_realloc(void *p, size_t size);
void st_free(void *p);

/* Room in the array *p (of *cap entries of size bytes) for entry n, n <=
 * *cap: when n == *cap, *p is grown to twice *cap entries (64 the first
 * time) and *cap set. False when out of memory or the size overflows, *p
 * and *cap untouched. Thread-safe as st_realloc. */
bool st_grow(void **p, size_t *cap, size_t n, size_t size);

/* Test hook: the next n allocations (st_malloc, st_calloc, st_realloc) succeed
 * and the one after fails, once; then the hook disarms itself. n = 0 fails the
 * very next allocation; n < 0 disarms. The counter is process-wide (atomic), so
 * use it from single-threaded tests. */
void alloc_fail_after(long n);

/* True while the hook is armed and has not fired yet (a test that sees it still
 * armed after an operation learns that the operation needed fewer
 * allocations). */
int alloc_fail_armed(void);

#endif
