/* lspfix.c - the code actions of `strata lsp`: `# noqa: CODE` on a
 * diagnostic's line, an unused import removed (F401), and source.fixAll.
 *
 * An import is found from the document's tree (the one the last scan of
 * the buffer left), not from the text, so that parentheses, continuation
 * lines and aliases are what the grammar says they are. A statement whose
 * every name is unused goes whole (its lines, or `pass` when it was a
 * block's only statement); otherwise its list of names is written again
 * with the used ones, so one edit per statement covers any number of
 * unused names and the edits of fixAll never overlap. */
#include "cli/lsp_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NAMES 256 /* names of one import statement handled */

/* ---- text edits ------------------------------------------------------------------ */

static json_t *edit(const lsp_t *s, const lsp_doc_t *doc, size_t a, size_t b, const char *text)
{
    lspdoc_pos_t p = lspdoc_position(doc->buf.text, doc->buf.len, s->enc, a);
    lspdoc_pos_t q = lspdoc_position(doc->buf.text, doc->buf.len, s->enc, b);

    return json_pack("{s:{s:{s:I,s:I},s:{s:I,s:I}},s:s}", "range", "start", "line",
                     (json_int_t)p.line, "character", (json_int_t)p.character, "end", "line",
                     (json_int_t)q.line, "character", (json_int_t)q.character, "newText", text);
}

static json_t *action(const lsp_doc_t *doc, const char *title, const char *kind, json_t *edits,
                      json_t *diags)
{
    json_t *a = json_pack("{s:s,s:s,s:{s:{s:o}}}", "title", title, "kind", kind, "edit", "changes",
                          doc->uri, edits);

    if (diags != NULL)
        json_object_set_new(a, "diagnostics", diags);
    return a;
}

/* The byte offset of a diagnostic's place in the buffer. */
static size_t diag_offset(const lsp_doc_t *doc, const lsp_diag_t *d)
{
    lspdoc_pos_t p = {d->line > 0 ? d->line - 1 : 0, 0};
    size_t ls = lspdoc_offset(doc->buf.text, doc->buf.len, LSPDOC_UTF8, p);
    size_t col = d->col > 0 ? d->col - 1 : 0;

    return ls + col <= doc->buf.len ? ls + col : doc->buf.len;
}

/* ---- # noqa ------------------------------------------------------------------------- */

/* The edit that adds code to the noqa comment of line (0-based); NULL
 * when the line has a bare `# noqa` already (it covers every code). */
static json_t *noqa_edit(const lsp_t *s, const lsp_doc_t *doc, uint32_t line, const char *code)
{
    const char *t = doc->buf.text;
    size_t ls = lspdoc_offset(t, doc->buf.len, LSPDOC_UTF8, (lspdoc_pos_t){line, 0});
    size_t le = ls, i;
    char text[64];

    while (le < doc->buf.len && t[le] != '\n' && t[le] != '\r')
        le++;
    for (i = ls; i + 6 <= le; i++)
        if (t[i] == '#') {
            size_t j = i + 1;
            while (j < le && t[j] == ' ')
                j++;
            if (j + 4 <= le && strncasecmp(t + j, "noqa", 4) == 0)
                break;
        }
    if (i + 6 > le) { /* none: a new comment at the end of the line */
        snprintf(text, sizeof text, "  # noqa: %s", code);
        return edit(s, doc, le, le, text);
    }
    size_t j = i + 1;
    while (t[j] == ' ')
        j++;
    j += 4;
    if (j >= le || t[j] != ':')
        return NULL;
    j++;
    size_t end = j;
    while (j < le && (t[j] == ' ' || t[j] == ',' || (t[j] >= 'A' && t[j] <= 'Z') ||
                      (t[j] >= '0' && t[j] <= '9'))) {
        if (t[j] != ' ' && t[j] != ',')
            end = j + 1;
        j++;
    }
    snprintf(text, sizeof text, end > i + 6 && t[end - 1] != ':' ? ", %s" : " %s", code);
    return edit(s, doc, end, end, text);
}

/* ---- unused imports --------------------------------------------------------------- */

typedef struct {
    TSNode stmt;
    TSNode names[MAX_NAMES];
    char *labels[MAX_NAMES];
    bool unused[MAX_NAMES];
    size_t n;
} import_t;

static char *node_text(const lsp_doc_t *doc, TSNode n)
{
    uint32_t a = ts_node_start_byte(n), b = ts_node_end_byte(n);
    char *out;
    size_t k = 0;

    if (b > doc->buf.len || a > b || (out = malloc(b - a + 1)) == NULL)
        return NULL;
    for (uint32_t i = a; i < b; i++) /* as F401 names it: no blanks */
        if (doc->buf.text[i] != ' ' && doc->buf.text[i] != '\t' && doc->buf.text[i] != '\\' &&
            doc->buf.text[i] != '\n' && doc->buf.text[i] != '\r')
            out[k++] = doc->buf.text[i];
    out[k] = '\0';
    return out;
}

/* How F401 names the imported name n of statement st (malloc'd). */
static char *label_of(const lsp_doc_t *doc, TSNode st, TSNode n, bool from)
{
    bool aliased = strcmp(ts_node_type(n), "aliased_import") == 0;
    TSNode name = aliased ? ts_node_child_by_field_name(n, "name", 4) : n;
    char *nm = node_text(doc, name), *al = NULL, *mod = NULL, *out = NULL;
    size_t len;

    if (aliased)
        al = node_text(doc, ts_node_child_by_field_name(n, "alias", 5));
    if (from)
        mod = node_text(doc, ts_node_child_by_field_name(st, "module_name", 11));
    if (nm == NULL || (aliased && al == NULL) || (from && mod == NULL))
        goto out;
    len = strlen(nm) + (al != NULL ? strlen(al) + 4 : 0) + (mod != NULL ? strlen(mod) + 1 : 0) + 1;
    if ((out = malloc(len)) == NULL)
        goto out;
    snprintf(out, len, "%s%s%s%s%s", mod != NULL ? mod : "",
             mod != NULL && mod[0] != '\0' && mod[strlen(mod) - 1] != '.' ? "." : "", nm,
             al != NULL ? " as " : "", al != NULL ? al : "");
out:
    free(nm);
    free(al);
    free(mod);
    return out;
}

/* The import statement at byte off and its names; false when none. */
static bool find_import(const lsp_doc_t *doc, size_t off, import_t *imp)
{
    TSNode n = ts_node_descendant_for_byte_range(ts_tree_root_node(doc->tree), (uint32_t)off,
                                                 (uint32_t)off);
    bool from = false;

    while (!ts_node_is_null(n)) {
        const char *t = ts_node_type(n);
        if (strcmp(t, "import_statement") == 0)
            break;
        if (strcmp(t, "import_from_statement") == 0) {
            from = true;
            break;
        }
        n = ts_node_parent(n);
    }
    if (ts_node_is_null(n))
        return false;
    imp->stmt = n;
    imp->n = 0;
    TSTreeCursor c = ts_tree_cursor_new(n);
    bool whole = true;
    for (bool more = ts_tree_cursor_goto_first_child(&c); more;
         more = ts_tree_cursor_goto_next_sibling(&c)) {
        const char *f = ts_tree_cursor_current_field_name(&c);
        if (f == NULL || strcmp(f, "name") != 0)
            continue;
        if (imp->n == MAX_NAMES) { /* names not seen may be used: no edit */
            whole = false;
            break;
        }
        imp->names[imp->n] = ts_tree_cursor_current_node(&c);
        imp->labels[imp->n] = label_of(doc, n, imp->names[imp->n], from);
        imp->unused[imp->n] = false;
        imp->n++;
    }
    ts_tree_cursor_delete(&c);
    if (!whole) {
        for (size_t i = 0; i < imp->n; i++)
            free(imp->labels[i]);
        imp->n = 0;
    }
    return imp->n > 0;
}

static void import_free(import_t *imp)
{
    for (size_t i = 0; i < imp->n; i++)
        free(imp->labels[i]);
    imp->n = 0;
}

/* Marks the name d reports unused; false when d names none of imp's. */
static bool mark_unused(import_t *imp, const lsp_diag_t *d)
{
    const char *m = d->message;
    const char *q = m[0] == '\'' ? strchr(m + 1, '\'') : NULL;

    if (q == NULL)
        return false;
    for (size_t i = 0; i < imp->n; i++)
        if (imp->labels[i] != NULL && strlen(imp->labels[i]) == (size_t)(q - m - 1) &&
            strncmp(imp->labels[i], m + 1, (size_t)(q - m - 1)) == 0) {
            imp->unused[i] = true;
            return true;
        }
    return false;
}

/* The edit removing imp's unused names (whole statement when all are). */
static json_t *import_edit(const lsp_t *s, const lsp_doc_t *doc, const import_t *imp)
{
    const char *t = doc->buf.text;
    size_t kept = 0, len = 1;
    char *text;
    json_t *e;

    for (size_t i = 0; i < imp->n; i++)
        if (!imp->unused[i]) {
            kept++;
            len += ts_node_end_byte(imp->names[i]) - ts_node_start_byte(imp->names[i]) + 2;
        }
    if (kept == 0) {
        size_t a = ts_node_start_byte(imp->stmt), b = ts_node_end_byte(imp->stmt), ls = a;
        TSNode parent = ts_node_parent(imp->stmt);
        bool only = !ts_node_is_null(parent) && strcmp(ts_node_type(parent), "block") == 0 &&
                    ts_node_named_child_count(parent) == 1;

        while (ls > 0 && (t[ls - 1] == ' ' || t[ls - 1] == '\t'))
            ls--;
        if (only)
            return edit(s, doc, a, b, "pass");
        size_t e2 = b;
        while (e2 < doc->buf.len && (t[e2] == ' ' || t[e2] == '\t'))
            e2++;
        if (e2 < doc->buf.len && t[e2] == '#') /* its comment goes with it */
            while (e2 < doc->buf.len && t[e2] != '\n' && t[e2] != '\r')
                e2++;
        if ((ls == 0 || t[ls - 1] == '\n' || t[ls - 1] == '\r') &&
            (e2 == doc->buf.len || t[e2] == '\n' || t[e2] == '\r')) {
            if (e2 < doc->buf.len)
                e2 += t[e2] == '\r' && e2 + 1 < doc->buf.len && t[e2 + 1] == '\n' ? 2 : 1;
            return edit(s, doc, ls, e2, ""); /* its lines */
        }
        return edit(s, doc, a, b, "pass"); /* `import x; y()`: keep the line valid */
    }
    if ((text = malloc(len)) == NULL)
        return NULL;
    text[0] = '\0';
    size_t k = 0;
    for (size_t i = 0; i < imp->n; i++) {
        uint32_t a = ts_node_start_byte(imp->names[i]), b = ts_node_end_byte(imp->names[i]);
        if (imp->unused[i])
            continue;
        if (k > 0)
            memcpy(text + k, ", ", 2), k += 2;
        memcpy(text + k, t + a, b - a);
        k += b - a;
    }
    text[k] = '\0';
    e = edit(s, doc, ts_node_start_byte(imp->names[0]), ts_node_end_byte(imp->names[imp->n - 1]),
             text);
    free(text);
    return e;
}

/* ---- the actions ------------------------------------------------------------------- */

static bool wants(const json_t *only, const char *kind)
{
    size_t i;
    json_t *k;

    if (only == NULL)
        return true;
    json_array_foreach(only, i, k)
    {
        const char *v = json_string_value(k);
        size_t n = v != NULL ? strlen(v) : 0;
        if (v != NULL && strncmp(kind, v, n) == 0 && (kind[n] == '\0' || kind[n] == '.'))
            return true;
    }
    return false;
}

static json_t *diag_json(const lsp_t *s, const lsp_doc_t *doc, const lsp_diag_t *d)
{
    lsp_diags_t one = {(lsp_diag_t *)d, 1};
    json_t *arr = lsp__diag_array(s, doc->buf.text, doc->buf.len, &one, NULL, NULL);

    return arr;
}

/* Actions on one diagnostic: its noqa, and for F401 the import. */
static void actions_of(lsp_t *s, lsp_doc_t *doc, const lsp_diag_t *d, json_t *out)
{
    char title[256];
    json_t *e;
    import_t imp;

    if ((e = noqa_edit(s, doc, d->line - 1, d->code)) != NULL) {
        snprintf(title, sizeof title, "Ignore %s on this line (# noqa)", d->code);
        json_array_append_new(
            out, action(doc, title, "quickfix", json_pack("[o]", e), diag_json(s, doc, d)));
    }
    if (strcmp(d->code, "F401") != 0 || doc->tree == NULL ||
        !find_import(doc, diag_offset(doc, d), &imp))
        return;
    if (mark_unused(&imp, d) && (e = import_edit(s, doc, &imp)) != NULL) {
        snprintf(title, sizeof title, "Remove unused import: %.200s", d->message);
        json_t *a = action(doc, title, "quickfix", json_pack("[o]", e), diag_json(s, doc, d));
        json_object_set_new(a, "isPreferred", json_true());
        json_array_append_new(out, a);
    }
    import_free(&imp);
}

/* source.fixAll: every unused import, one edit per statement. */
static json_t *fix_all(lsp_t *s, lsp_doc_t *doc)
{
    json_t *edits = json_array();
    uint32_t done[MAX_NAMES];
    size_t n_done = 0;

    for (size_t i = 0; doc->tree != NULL && i < doc->local.n; i++) {
        import_t imp;
        bool seen = false;

        if (strcmp(doc->local.items[i].code, "F401") != 0 ||
            !find_import(doc, diag_offset(doc, &doc->local.items[i]), &imp))
            continue;
        for (size_t k = 0; k < n_done; k++)
            seen = seen || done[k] == ts_node_start_byte(imp.stmt);
        if (!seen && n_done < MAX_NAMES) {
            bool any = false;
            done[n_done++] = ts_node_start_byte(imp.stmt);
            for (size_t j = 0; j < doc->local.n; j++)
                if (strcmp(doc->local.items[j].code, "F401") == 0 &&
                    diag_offset(doc, &doc->local.items[j]) >= ts_node_start_byte(imp.stmt) &&
                    diag_offset(doc, &doc->local.items[j]) < ts_node_end_byte(imp.stmt))
                    any = mark_unused(&imp, &doc->local.items[j]) || any;
            json_t *e = any ? import_edit(s, doc, &imp) : NULL;
            if (e != NULL)
                json_array_append_new(edits, e);
        }
        import_free(&imp);
    }
    if (json_array_size(edits) == 0) {
        json_decref(edits);
        return NULL;
    }
    return action(doc, "Fix all: remove unused imports (strata)", "source.fixAll", edits, NULL);
}

json_t *lsp__code_actions(lsp_t *s, lsp_doc_t *doc, uint32_t first, uint32_t last,
                          const json_t *only)
{
    json_t *out = json_array(), *all;
    const lsp_diags_t *lists[2] = {&doc->local, &doc->xmod};

    if (doc->tree == NULL) /* dropped for memory (LSP_MAX_TREES): parsed again */
        lsp__scan_doc(s, doc);
    if (wants(only, "quickfix"))
        for (int k = 0; k < 2; k++)
            for (size_t i = 0; i < lists[k]->n; i++) {
                const lsp_diag_t *d = &lists[k]->items[i];
                if (d->line >= 1 && d->line - 1 >= first && d->line - 1 <= last)
                    actions_of(s, doc, d, out);
            }
    if (wants(only, "source.fixAll") && (all = fix_all(s, doc)) != NULL)
        json_array_append_new(out, all);
    return out;
}
