/* checker.h - scope analysis and pyflakes' per-file checks over one tree.
 *
 * The checker follows Python's binding rules the way pyflakes does, so that
 * its findings agree with pyflakes line for line: module code is handled in
 * order, function and lambda bodies are deferred until the module is done
 * (they see the final module scope), class bodies run in place and are not
 * visible from methods, comprehensions get their own scope, and annotations
 * in strings or under `from __future__ import annotations` are deferred.
 * Each node of the tree is visited once; bindings and scopes live in the
 * scan's arena.
 *
 * While it walks, the checker also records what the file's local summary
 * needs (imports, definitions, __all__, uses of imported names); see
 * summary.h. */
#ifndef STRATA_CHECKER_H
#define STRATA_CHECKER_H

#include "common/arena.h"
#include "common/status.h"
#include "worker/python/diag.h"
#include "worker/python/lang.h"
#include "worker/python/summary.h"
#include "worker/scan_target.h"

#include <stdbool.h>
#include <tree_sitter/api.h>

/* Tree cursors for the checker's child loops, kept by the scanner across
 * files so that a scan allocates none once warm. Cursors sit in blocks
 * that never move (open loops hold pointers to them). One thread. */
#define CHECKER_CURSOR_BLOCK 64
#define CHECKER_CURSOR_BLOCKS 128

typedef struct {
    TSTreeCursor *blocks[CHECKER_CURSOR_BLOCKS];
    uint32_t made;
} checker_cursors_t;

/* Frees every cursor and block; the struct can be reused afterwards. */
void checker_cursors_free(checker_cursors_t *self);

typedef struct {
    const lang_t *lang;
    TSParser *parser; /* for string annotations; the tree is not its last parse */
    TSTree *tree;     /* a parse of src without errors */
    const char *src;  /* UTF-8 text the tree was parsed from */
    uint32_t len;
    bool is_init;               /* package __init__: __path__ is defined, no F822 */
    bool is_stub;               /* .pyi: forward references are fine everywhere */
    scan_target_t target;       /* stubs: the version and platform branches are decided for */
    arena_t *arena;             /* everything the checker allocates */
    diag_list_t *diags;         /* where findings go */
    summary_t *summary;         /* filled with the local summary, or NULL */
    uint32_t max_depth;         /* out: deepest nesting of nodes the walk saw */
    checker_cursors_t *cursors; /* the caller's cursor pool */
} checker_input_t;

/* Runs the analysis. ST_ENOMEM when the arena is exhausted (its cap);
 * ST_ELIMIT with a diagnostic already added when the tree nests deeper than
 * CPython's compiler accepts. Not thread-safe per input; independent inputs
 * run on any threads. */
st_rc_t checker_run(checker_input_t *in, st_err_t *err);

/* Whether name[0..len) is one of the builtins the checker knows. */
bool checker_is_builtin(const char *name, size_t len);

/* In a stub, whether a base written t[0..len) (a dotted name, without a
 * subscript) gives instances nothing: typing's Generic and Protocol. */
bool checker_stub_typing_base(const char *t, size_t len);

/* Whether a class decorator written t[0..len) (a dotted name; called:
 * the function of `@f(...)`) leaves the class's members and __init__
 * alone: zope.interface's implementer(...), functools' total_ordering
 * (it adds comparison dunders), and in a stub (stub true) typing's
 * final, runtime_checkable, type_check_only. */
bool checker_plain_class_decorator(const char *t, size_t len, bool called, bool stub);

/* Deepest nesting of tree nodes the checker follows (CPython's compiler
 * gives up near 3000 levels of AST recursion). */
#define CHECKER_MAX_DEPTH 3000

#endif
