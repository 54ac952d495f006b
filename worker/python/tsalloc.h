/* tsalloc.h - tree-sitter's memory, counted per thread, with a budget per
 * parse.
 *
 * tree-sitter cannot survive an allocator that returns NULL (it aborts), so
 * a file whose tree would need gigabytes cannot be refused by failing an
 * allocation. Instead every allocation of the library and of the grammar's
 * scanner goes through counting functions (ts_set_allocator, and the
 * grammar built with TREE_SITTER_REUSE_ALLOCATOR), each thread keeps the
 * bytes its current parse holds, and past the parse's budget the parser's
 * cancellation flag is raised: tree-sitter then stops at its next check and
 * returns no tree, the file gets an E902, and the process lives. The count
 * is per thread because each analysis thread owns its parser; allocations
 * outside a parse are counted but never cancel anything. */
#ifndef STRATA_TSALLOC_H
#define STRATA_TSALLOC_H

#include <stddef.h>

/* Routes tree-sitter's allocations through the counting functions. Once per
 * process, before any parser exists; later calls do nothing. Thread-safe. */
void tsalloc_install(void);

/* Starts a parse on this thread: from now, when the bytes allocated and not
 * freed on this thread since this call exceed budget, *cancel is set to 1
 * (the flag given to ts_parser_set_cancellation_flag; the caller clears it).
 * budget 0: no limit. */
void tsalloc_begin(size_t budget, size_t *cancel);

/* Ends the parse on this thread; returns the most it held at once (bytes)
 * and stops watching the budget. The tree still counts until freed. */
size_t tsalloc_end(void);

#endif
