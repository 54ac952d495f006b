/* scan.c - the per-file scan: decode, parse, check, noqa, encode.
 *
 * One function from bytes to bytes (see scan.h). Everything a scan allocates
 * comes from the caller's arena except tree-sitter's own trees, which are
 * freed before returning. When CPython would reject the file, the result holds
 * that one syntax error and nothing else, as pyflakes does. */
#include "scan.h"

#include "common/buf.h"
#include "common/mpbuf.h"
#include "common/mpdiag.h"
#include "common/mpread.h"
#include "worker/python/checker.h"
#include "worker/python/decode.h"
#include "worker/python/diag.h"
#include "worker/python/lang.h"
#include "worker/python/noqa.h"
#include "worker/python/selfattr.h"
#include "worker/python/summary.h"
#include "worker/python/tokens.h"
#include "worker/python/tsalloc.h"

#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

/* Parse time allowed per byte of input, on top of a fixed allowance: a
 * pathological input gives a diagnostic instead of holding a worker. */
#define PARSE_TIMEOUT_BASE_US 2000000ull
#define PARSE_TIMEOUT_PER_KB_US 2000ull

struct scanner {
    TSParser *parser;
    size_t cancel;       /* the parser's cancellation flag: set past the budget */
    size_t budget;       /* bytes tree-sitter may hold in one parse; 0: no limit */
    uint64_t timeout_us; /* the parse time limit; 0: the rule of parse() */
    bool timed_out;      /* a parse of this scan ran out of time */
    const lang_t *lang;
    checker_cursors_t cursors; /* reused by every scan of this scanner */
    /* scanner_run_incremental: the edited old tree of the text, and where
     * the new tree goes (NULL: a plain scan) */
    const TSTree *reuse;
    TSTree **keep;
};

scanner_t *scanner_new(void)
{
    const lang_t *L = lang_get();
    scanner_t *s;

    tsalloc_install(); /* before the first parser: its memory is counted */
    if (L == NULL || (s = calloc(1, sizeof *s)) == NULL)
        return NULL;
    s->lang = L;
    if ((s->parser = ts_parser_new()) == NULL || !ts_parser_set_language(s->parser, L->language)) {
        if (s->parser != NULL)
            ts_parser_delete(s->parser);
        free(s);
        return NULL;
    }
    s->budget = SCAN_PARSE_BUDGET;
    ts_parser_set_cancellation_flag(s->parser, &s->cancel);
    return s;
}

void scanner_set_parse_budget(scanner_t *self, size_t bytes)
{
    self->budget = bytes;
}

void scanner_destroy(scanner_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    ts_parser_delete((*self_p)->parser);
    checker_cursors_free(&(*self_p)->cursors);
    free(*self_p);
    *self_p = NULL;
}

scan_kind_t scan_kind_of_path(const char *path)
{
    const char *base = strrchr(path, '/');
    size_t n;

    base = base ? base + 1 : path;
    n = strlen(base);
    if (strcmp(base, "__init__.py") == 0)
        return SCAN_KIND_INIT;
    if (strcmp(base, "__init__.pyi") == 0)
        return SCAN_KIND_INIT_STUB;
    if (n >= 4 && strcmp(base + n - 4, ".pyi") == 0)
        return SCAN_KIND_PYI;
    return SCAN_KIND_PY;
}

/* ---- syntax errors ------------------------------------------------------ */

static void report_syntax_error(TSNode root, diag_list_t *d)
{
    TSTreeCursor cu = ts_tree_cursor_new(root);
    TSNode n = root;

    for (;;) {
        n = ts_tree_cursor_current_node(&cu);
        if (ts_node_symbol(n) == (TSSymbol)-1 || ts_node_is_missing(n))
            break;
        if (!ts_tree_cursor_goto_first_child(&cu))
            break;
        for (;;) {
            TSNode ch = ts_tree_cursor_current_node(&cu);
            if (ts_node_has_error(ch) || ts_node_is_missing(ch))
                break;
            if (!ts_tree_cursor_goto_next_sibling(&cu))
                break;
        }
    }
    ts_tree_cursor_delete(&cu);
    TSPoint p = ts_node_start_point(n);
    if (ts_node_is_missing(n))
        diag_add(d, p.row + 1, p.column + 1, "E999", "SyntaxError: expected '%s'", ts_node_type(n));
    else
        diag_add(d, p.row + 1, p.column + 1, "E999", "SyntaxError: invalid syntax");
}

/* When CPython rejects the file, only its first syntax error is kept. */
static void keep_first_syntax_error(diag_list_t *d)
{
    size_t first = SIZE_MAX;

    for (size_t i = 0; i < d->count; i++) {
        if (d->items[i].dead || strcmp(d->items[i].code, "E999") != 0)
            continue;
        if (first == SIZE_MAX || d->items[i].line < d->items[first].line ||
            (d->items[i].line == d->items[first].line && d->items[i].col < d->items[first].col))
            first = i;
    }
    if (first == SIZE_MAX)
        return;
    d->items[0] = d->items[first];
    d->count = 1;
}

/* ---- the result document ------------------------------------------------- */

static st_rc_t encode_result(const diag_list_t *d, const summary_t *sum, bool transient, arena_t *a,
                             span_t *out, st_err_t *err)
{
    buf_t b;
    mpbuf_t w;
    st_rc_t rc;

    buf_init_arena(&b, a);
    if (buf_reserve(&b, 256 + d->count * 64) != ST_OK)
        return st_fail(err, ST_ENOMEM, "arena exhausted encoding the result");
    mpbuf_init(&w, &b);
    msgpack_pack_map(&w.pk, transient ? 4 : 3);
    mpbuf_cstr(&w.pk, "v");
    msgpack_pack_uint32(&w.pk, SCAN_RESULT_VERSION);
    mpbuf_cstr(&w.pk, "diags");
    msgpack_pack_array(&w.pk, d->count);
    for (size_t i = 0; i < d->count; i++)
        mpdiag_pack_cstr(&w.pk, d->items[i].line, d->items[i].col, d->items[i].code,
                         d->items[i].msg);
    mpbuf_cstr(&w.pk, "summary");
    if (sum != NULL) {
        if ((rc = summary_pack(sum, &w.pk)) != ST_OK)
            return st_fail(err, rc, "arena exhausted building the summary");
    } else {
        msgpack_pack_nil(&w.pk);
    }
    if (transient) {
        mpbuf_cstr(&w.pk, "transient");
        msgpack_pack_true(&w.pk);
    }
    if (mpbuf_status(&w) != ST_OK || b.data == NULL || b.len == 0 || buf_reserve(&b, 0) != ST_OK)
        return st_fail(err, ST_ENOMEM, "arena exhausted encoding the result");
    out->ptr = b.data;
    out->len = b.len;
    return ST_OK;
}

/* ---- the scan ------------------------------------------------------------------ */

static TSTree *parse(scanner_t *self, const char *text, uint32_t len, const TSTree *old)
{
    TSTree *tree;

    ts_parser_set_timeout_micros(
        self->parser, self->timeout_us != 0
                          ? self->timeout_us
                          : PARSE_TIMEOUT_BASE_US + (uint64_t)len / 1024 * PARSE_TIMEOUT_PER_KB_US);
    self->cancel = 0;
    tsalloc_begin(self->budget, &self->cancel);
    tree = ts_parser_parse_string(self->parser, old, text, len);
    tsalloc_end();
    if (tree == NULL) {
        ts_parser_reset(self->parser);
        /* not the memory budget (deterministic): the clock */
        self->timed_out = self->timed_out || self->cancel == 0;
    }
    return tree;
}

/* tree-sitter's scanner takes a bracketed continuation line indented less
 * than its block for a dedent, and reports an error CPython does not. When
 * the first parse fails, such lines are padded in a copy and the copy is
 * parsed again; if that parses cleanly it is what gets checked (columns on
 * the padded lines are moved back afterwards). */
static bool reparse_padded(scanner_t *self, const char **text, uint32_t *len, arena_t *a,
                           diag_list_t *d, TSTree **tree, tokens_pads_t **pads_out)
{
    tokens_pads_t *pads = arena_alloc(a, sizeof *pads);
    uint32_t plen;
    char *padded;
    TSTree *t;

    if (pads == NULL)
        return false;
    pads->n = 0;
    if (!tokens_scan(*text, *len, d, pads) || pads->n == 0 ||
        (padded = tokens_pad(*text, *len, pads, a, &plen)) == NULL)
        return false;
    if ((t = parse(self, padded, plen, NULL)) == NULL)
        return false;
    if (ts_node_has_error(ts_tree_root_node(t))) {
        ts_tree_delete(t);
        return false;
    }
    ts_tree_delete(*tree);
    *tree = t;
    *text = padded;
    *len = plen;
    *pads_out = pads;
    return true;
}

/* Columns reported on padded lines, back to the file's own. */
static void unpad_columns(diag_list_t *d, const tokens_pads_t *pads)
{
    for (size_t i = 0; i < d->count; i++)
        for (uint32_t k = 0; k < pads->n; k++)
            if (pads->line[k] == d->items[i].line)
                d->items[i].col =
                    d->items[i].col > pads->width[k] ? d->items[i].col - pads->width[k] : 1;
}

static st_rc_t parse_and_check(scanner_t *self, const scan_opts_t *opts, scan_kind_t kind,
                               const char **text, uint32_t *len, arena_t *a, diag_list_t *d,
                               summary_t *sum, st_err_t *err)
{
    TSTree *tree;
    tokens_pads_t *pads = NULL;
    st_rc_t rc = ST_OK;

    if (!tokens_check(*text, *len, d))
        return ST_OK;
    if ((tree = parse(self, *text, *len, self->reuse)) == NULL) {
        if (self->cancel != 0) {
            diag_add(d, 1, 1, "E902",
                     "the parser needed more than %zu MB of memory for this file, not checked",
                     self->budget >> 20);
            return ST_OK;
        }
        diag_add(d, 1, 1, "E902", "the parser gave up on this file (time limit), not checked");
        return ST_OK;
    }
    /* the caller's copy is of the text as given, before any padding */
    if (self->keep != NULL)
        *self->keep = ts_tree_copy(tree);
    if (ts_node_has_error(ts_tree_root_node(tree)) &&
        !reparse_padded(self, text, len, a, d, &tree, &pads)) {
        report_syntax_error(ts_tree_root_node(tree), d);
    } else {
        checker_input_t in = {
            .lang = self->lang,
            .parser = self->parser,
            .tree = tree,
            .src = *text,
            .len = *len,
            .is_init = scan_kind_is_package(kind),
            .is_stub = scan_kind_is_stub(kind),
            .target = scan_target_resolve(opts != NULL ? &opts->target : NULL),
            .arena = a,
            .diags = d,
            .summary = sum,
            .cursors = &self->cursors,
        };
        rc = checker_run(&in, err);
        /* self.x and self.m(...) in the file's own classes; a stub's
           classes, for the check job */
        if (rc == ST_OK && selfattr_check(self->lang, ts_tree_root_node(tree), *text, in.is_stub, a,
                                          d, sum) != ST_OK)
            rc = st_fail(err, ST_ENOMEM, "arena exhausted checking instance attributes");
        if (rc == ST_ELIMIT) {
            d->count = 0;
            diag_add(d, 1, 1, "E999",
                     "SyntaxError: too deeply nested (CPython's compiler recursion limit)");
            rc = ST_OK;
        }
        if (pads != NULL) {
            unpad_columns(d, pads);
            if (sum != NULL)
                summary_unpad_columns(sum, pads->line, pads->width, pads->n);
        }
    }
    ts_tree_delete(tree);
    return rc;
}

/* The summary's pragmas (`# pylint: disable=...`, `# type: ignore`)
 * silence the scan's own reports of the cross-module codes as they silence
 * the check's; never an F code. */
static void pragmas_apply(const summary_t *sum, diag_list_t *d)
{
    static const char *const codes[] = {"E0401", "E0611", "E1101", "E1120", "E1121", "E1123"};

    for (size_t i = 0; i < d->count; i++)
        for (size_t k = 0; k < sizeof codes / sizeof codes[0]; k++)
            if (strcmp(d->items[i].code, codes[k]) == 0 &&
                summary_noqa_covers(sum, d->items[i].line, codes[k]))
                d->items[i].dead = 1;
}

st_rc_t scanner_run(scanner_t *self, const scan_opts_t *opts, scan_kind_t kind, const uint8_t *src,
                    size_t len, arena_t *a, span_t *out, st_err_t *err)
{
    diag_list_t d;
    summary_t *sum;
    const char *text;
    uint32_t tlen;
    size_t max =
        opts != NULL && opts->max_file_bytes ? opts->max_file_bytes : SCAN_DEFAULT_MAX_FILE_BYTES;
    st_rc_t rc;

    diag_list_init(&d, a);
    self->timed_out = false;
    self->timeout_us = opts != NULL ? opts->parse_timeout_us : 0;
    if ((sum = summary_new(a)) == NULL)
        return st_fail(err, ST_ENOMEM, "arena exhausted starting the scan");
    if (decode_source(src, len, max, a, &d, &text, &tlen)) {
        rc = parse_and_check(self, opts, kind, &text, &tlen, a, &d, sum, err);
        if (rc != ST_OK)
            return rc;
        keep_first_syntax_error(&d);
        noqa_apply(text, tlen, &d);
        pragmas_apply(sum, &d);
    }
    if (d.oom)
        return st_fail(err, ST_ENOMEM, "arena exhausted collecting diagnostics");
    diag_list_sort(&d);
    return encode_result(&d, sum, self->timed_out, a, out, err);
}

st_rc_t scanner_run_incremental(scanner_t *self, const scan_opts_t *opts, scan_kind_t kind,
                                const uint8_t *src, size_t len, const TSTree *old,
                                TSTree **tree_out, arena_t *a, span_t *out, st_err_t *err)
{
    TSTree *kept = NULL;
    const char *text;
    uint32_t tlen;
    diag_list_t probe;
    st_rc_t rc;

    /* The old tree is of src's bytes; the parser reads them unchanged only
       when decoding copies nothing (no BOM, UTF-8, no bare CR). */
    diag_list_init(&probe, a);
    bool same =
        len <= UINT32_MAX &&
        decode_source(src, len, opts != NULL ? opts->max_file_bytes : 0, a, &probe, &text, &tlen) &&
        text == (const char *)src;
    self->reuse = same ? old : NULL;
    self->keep = same ? &kept : NULL;
    rc = scanner_run(self, opts, kind, src, len, a, out, err);
    self->reuse = NULL;
    self->keep = NULL;
    if (rc != ST_OK && kept != NULL) {
        ts_tree_delete(kept);
        kept = NULL;
    }
    if (tree_out != NULL)
        *tree_out = kept;
    else if (kept != NULL)
        ts_tree_delete(kept);
    return rc;
}

/* ---- reading a result ---------------------------------------------------------- */

static st_rc_t copy_diag(arena_t *a, const mpdiag_t *m, scan_diag_t *d)
{
    d->line = m->line;
    d->col = m->col;
    if ((d->code = arena_strndup(a, m->code, m->code_len)) == NULL ||
        (d->message = arena_strndup(a, m->message, m->message_len)) == NULL)
        return ST_ENOMEM;
    return ST_OK;
}

st_rc_t scan_diags_read(mpread_t *r, arena_t *a, scan_diag_t **diags, size_t *count)
{
    uint32_t n;
    scan_diag_t *items = NULL;
    mpdiag_t m;
    st_rc_t rc;

    if (mpread_array(r, &n) != ST_OK || n > SCAN_MAX_DIAGS)
        return ST_ECORRUPT;
    if (n > 0 && (items = arena_alloc(a, (size_t)n * sizeof *items)) == NULL)
        return ST_ENOMEM;
    for (uint32_t i = 0; i < n; i++) {
        if (mpdiag_read(r, &m) != ST_OK)
            return ST_ECORRUPT;
        if ((rc = copy_diag(a, &m, &items[i])) != ST_OK)
            return rc;
    }
    *diags = items;
    *count = n;
    return ST_OK;
}

st_rc_t scan_result_diags(span_t result, arena_t *a, scan_diag_t **diags, size_t *count,
                          st_err_t *err)
{
    mpread_t r;
    uint32_t nkeys;
    uint64_t version = 0;
    scan_diag_t *items = NULL;
    size_t n = 0;
    bool seen = false;
    st_rc_t rc;

    mpread_init(&r, result.ptr, result.len);
    if (mpread_map(&r, &nkeys) != ST_OK)
        return st_fail(err, ST_ECORRUPT, "scan result: not a map");
    for (uint32_t k = 0; k < nkeys; k++) {
        if (mpread_key(&r, "v")) {
            if (mpread_uint(&r, &version) != ST_OK || version != SCAN_RESULT_VERSION)
                return st_fail(err, ST_ECORRUPT, "scan result: unknown version");
        } else if (mpread_key(&r, "diags")) {
            if ((rc = scan_diags_read(&r, a, &items, &n)) != ST_OK)
                return st_fail(err, rc, "scan result: %s diagnostics near byte %zu",
                               rc == ST_ENOMEM ? "arena exhausted decoding the" : "bad", r.pos);
            seen = true;
            if (version == SCAN_RESULT_VERSION)
                break; /* the rest (the summary) is not needed here */
        } else if (mpread_skip(&r) != ST_OK || mpread_skip(&r) != ST_OK) {
            return st_fail(err, ST_ECORRUPT, "scan result: malformed entry at byte %zu", r.pos);
        }
    }
    if (!seen || version != SCAN_RESULT_VERSION)
        return st_fail(err, ST_ECORRUPT, "scan result: missing version or diagnostics");
    *diags = items;
    *count = n;
    return ST_OK;
}

span_t scan_result_summary(span_t result)
{
    mpread_t r;
    uint32_t n;

    mpread_init(&r, result.ptr, result.len);
    if (result.len == 0 || mpread_map(&r, &n) != ST_OK)
        return (span_t){0};
    for (uint32_t i = 0; i < n; i++) {
        bool is_summary = mpread_key(&r, "summary");
        size_t start;

        if (!is_summary && mpread_skip(&r) != ST_OK)
            return (span_t){0};
        start = r.pos;
        if (is_summary && i + 1 == n) /* the last value: the rest (no walk) */
            return (span_t){.ptr = (const uint8_t *)result.ptr + start, .len = result.len - start};
        if (mpread_skip(&r) != ST_OK)
            return (span_t){0};
        if (is_summary)
            return (span_t){.ptr = (const uint8_t *)result.ptr + start, .len = r.pos - start};
    }
    return (span_t){0};
}

bool scan_result_transient(span_t result)
{
    mpread_t r;
    uint32_t n;
    bool v = false;

    mpread_init(&r, result.ptr, result.len);
    if (result.len == 0 || mpread_map(&r, &n) != ST_OK)
        return false;
    for (uint32_t i = 0; i < n; i++) {
        if (mpread_key(&r, "transient"))
            return mpread_bool(&r, &v) == ST_OK && v;
        if (mpread_skip(&r) != ST_OK || mpread_skip(&r) != ST_OK)
            return false;
    }
    return false;
}
