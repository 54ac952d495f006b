/* scan.h - the per-file scan: bytes of one Python file in, msgpack out.
 *
 * The scan is a pure function of (options, file kind, content): it decodes
 * the file (UTF-8, BOM, PEP 263 coding line), parses it with tree-sitter,
 * runs the scope analysis and pyflakes' per-file checks, applies `# noqa`,
 * and extracts the file's local summary. Its result is a msgpack document,
 * so that the same bytes can go to a cache or over the wire unchanged; the
 * path of the file is not an input, so identical files share one result.
 *
 * Result document (a msgpack map):
 *   "v":     uint, SCAN_RESULT_VERSION
 *   "diags": array of [line, col, code, message] (common/mpdiag.h); line
 *            1-based, col 1-based in bytes of the UTF-8 text, sorted by
 *            (line, col, code)
 *   "summary": map, see summary.h (imports, definitions, __all__, ...)
 *   "transient": true, only when the parser gave up on its time limit:
 *            the result depends on how busy the machine was, not on the
 *            file alone, so it is reported but never cached (see
 *            scan_result_transient)
 *
 * A scanner holds one tree-sitter parser and is used by one thread at a time;
 * make one per thread. */
#ifndef STRATA_SCAN_H
#define STRATA_SCAN_H

#include "common/arena.h"
#include "common/mpread.h"
#include "common/status.h"
#include "worker/scan_target.h"

#include <tree_sitter/api.h>

#include <stdbool.h>

#define SCAN_RESULT_VERSION                                                                        \
    11 /* 7: E1101 for self.x in the scan; 8: self.m(...) calls; 9: "transient" (a result of a     \
         parse's time limit cached before must not be served); 10: classes' members and reads of   \
         self for the check job (bases from other modules); 11: a stub's classes too */
#define SCAN_DEFAULT_MAX_FILE_BYTES ((size_t)16 << 20)
/* The memory tree-sitter may hold while it parses one file; past it the
 * parse stops and the file gets an E902 (worker/python/tsalloc.h). Real
 * code needs 12 to 60 bytes per byte of source (the stdlib's largest file,
 * 9 MB for 740 KB); a 14 MB list literal needed 2.5 GB. */
#define SCAN_PARSE_BUDGET ((size_t)256 << 20)

typedef enum {
    SCAN_KIND_PY = 0,       /* module.py */
    SCAN_KIND_PYI = 1,      /* module.pyi: a stub */
    SCAN_KIND_INIT = 2,     /* package/__init__.py */
    SCAN_KIND_INIT_STUB = 3 /* package/__init__.pyi: a package's stub */
} scan_kind_t;

#define SCAN_N_KINDS 4

/* A stub (.pyi): its version and platform branches are decided for the
 * target, and the scan key includes the target. */
static inline bool scan_kind_is_stub(scan_kind_t k)
{
    return k == SCAN_KIND_PYI || k == SCAN_KIND_INIT_STUB;
}

/* A package's __init__.py or __init__.pyi. */
static inline bool scan_kind_is_package(scan_kind_t k)
{
    return k == SCAN_KIND_INIT || k == SCAN_KIND_INIT_STUB;
}

typedef struct {
    size_t max_file_bytes; /* larger files get one E902 diagnostic; 0: default */
    scan_target_t target;  /* what stubs' branches are decided for; zero: the default */
    /* the parser's time limit in microseconds; 0: 2 s plus 2 ms per KB of
     * the file. Tests set a tiny one; not part of any key (a result of the
     * limit is never cached: "transient") */
    uint64_t parse_timeout_us;
} scan_opts_t;

typedef struct scanner scanner_t;

/* A scanner with its own parser; NULL when out of memory or when the grammar
 * does not load (ABI mismatch). Caller owns it. */
scanner_t *scanner_new(void);
void scanner_destroy(scanner_t **self_p);

/* The parse budget of this scanner (bytes; SCAN_PARSE_BUDGET when new).
 * Tests set a small one; 0 means none. */
void scanner_set_parse_budget(scanner_t *self, size_t bytes);

/* Scans src[0..len). On ST_OK *out points into arena a (valid until a is
 * reset) and holds the result document. Problems of the file itself
 * (encoding, syntax, size) are diagnostics in the result, not errors: an
 * error (ST_ENOMEM when a's limit is hit, ST_EINTERNAL) means no result. */
st_rc_t scanner_run(scanner_t *self, const scan_opts_t *opts, scan_kind_t kind, const uint8_t *src,
                    size_t len, arena_t *a, span_t *out, st_err_t *err);

/* scanner_run for a buffer an editor changes a keystroke at a time: old
 * (NULL: none) is the tree this function gave for the previous text,
 * already told of the edits since (ts_tree_edit), and the parser reuses
 * what they left alone. The result is the same bytes as scanner_run's.
 * On ST_OK *tree_out gets the tree of src (caller owns it: ts_tree_delete;
 * old stays the caller's), or NULL when the parser read other bytes than
 * src's (a BOM, another encoding, bare CRs) or parsed nothing; tree_out
 * may be NULL. Errors as scanner_run, and then *tree_out is NULL. */
st_rc_t scanner_run_incremental(scanner_t *self, const scan_opts_t *opts, scan_kind_t kind,
                                const uint8_t *src, size_t len, const TSTree *old,
                                TSTree **tree_out, arena_t *a, span_t *out, st_err_t *err);

/* One diagnostic decoded from a result; strings point into the arena given
 * to scan_result_diags (NUL-terminated). */
typedef struct {
    uint32_t line;
    uint32_t col;
    const char *code;
    const char *message;
} scan_diag_t;

/* Decodes the "diags" of a result document. Untrusted input: a malformed or
 * oversized document is ST_ECORRUPT and nothing is returned. */
st_rc_t scan_result_diags(span_t result, arena_t *a, scan_diag_t **diags, size_t *count,
                          st_err_t *err);

/* Whether a result says it must not be cached ("transient": a parse that
 * ran out of time). A result that does not decode is not transient (it is
 * not cached for that other reason). */
bool scan_result_transient(span_t result);

#define SCAN_MAX_DIAGS (1u << 24) /* diagnostics in one list */

/* Reads a list of diagnostics (an array of mpdiag.h arrays, as in "diags";
 * the check result and the whole-run record hold the same) at r's position
 * into copies in arena a, strings NUL-terminated, and moves r past it.
 * ST_ECORRUPT when malformed or longer than SCAN_MAX_DIAGS, ST_ENOMEM when
 * a is exhausted; nothing is returned on error. */
st_rc_t scan_diags_read(mpread_t *r, arena_t *a, scan_diag_t **diags, size_t *count);

/* The bytes of the "summary" value of a result document (as they are, not
 * checked); len 0 when the document is no map or has no summary. */
span_t scan_result_summary(span_t result);

/* The scan kind of a path from its name: __init__.py, __init__.pyi, .pyi,
 * else .py. */
scan_kind_t scan_kind_of_path(const char *path);

#endif
