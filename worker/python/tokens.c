/* tokens.c - a small Python tokenizer pass (see tokens.h). It knows only
 * what it must: strings (any prefix, single or triple quoted), comments,
 * backslash continuations, brackets and indentation. */
#include "tokens.h"

#include <string.h>

typedef struct {
    const char *s;
    uint32_t len, i, line, line_start;
} lex_t;

static void lex_newline(lex_t *x)
{
    if (x->s[x->i] == '\r' && x->i + 1 < x->len && x->s[x->i + 1] == '\n')
        x->i++;
    x->i++;
    x->line++;
    x->line_start = x->i;
}

/* Skips a string literal starting at the quote at x->i. */
static void lex_string(lex_t *x)
{
    char q = x->s[x->i];
    bool triple = x->i + 2 < x->len && x->s[x->i + 1] == q && x->s[x->i + 2] == q;

    x->i += triple ? 3 : 1;
    while (x->i < x->len) {
        char ch = x->s[x->i];
        if (ch == '\\' && x->i + 1 < x->len) {
            x->i++;
            if (x->s[x->i] == '\n' || x->s[x->i] == '\r')
                lex_newline(x);
            else
                x->i++;
            continue;
        }
        if (ch == q &&
            (!triple || (x->i + 2 < x->len && x->s[x->i + 1] == q && x->s[x->i + 2] == q))) {
            x->i += triple ? 3 : 1;
            return;
        }
        if (ch == '\n' || ch == '\r') {
            if (!triple)
                return;
            lex_newline(x);
            continue;
        }
        x->i++;
    }
}

/* Width of the indentation at the start of a logical line, tabs to 8
 * columns, and (*alt) tabs to 1, as CPython's tokenizer measures both to
 * find inconsistent tabs. */
static int lex_indent(lex_t *x, bool *blank, int *alt)
{
    int col = 0;

    *alt = 0;
    while (x->i < x->len) {
        char ch = x->s[x->i];
        if (ch == ' ') {
            col++;
            (*alt)++;
        } else if (ch == '\t') {
            col = (col / 8 + 1) * 8;
            (*alt)++;
        } else if (ch == '\f') {
            col = *alt = 0;
        } else {
            break;
        }
        x->i++;
    }
    *blank = x->i >= x->len || x->s[x->i] == '#' || x->s[x->i] == '\n' || x->s[x->i] == '\r' ||
             x->s[x->i] == '\\';
    return col;
}

/* CPython's indentation bookkeeping for one logical line: a new level
 * (only after a line ending in ':'), a return to an outer one, or an
 * IndentationError or TabError. */
typedef struct {
    int col[PY_MAX_INDENT + 1];
    int alt[PY_MAX_INDENT + 1];
    int depth;
} indent_t;

static bool indent_ok(indent_t *in, int col, int alt, bool opens, uint32_t line, uint32_t at,
                      diag_list_t *d)
{
    const char *msg;

    if (col > in->col[in->depth]) {
        if (!opens) {
            msg = "IndentationError: unexpected indent";
            goto fail;
        }
        if (alt <= in->alt[in->depth])
            goto tab_error;
        if (in->depth + 1 >= PY_MAX_INDENT) {
            msg = "IndentationError: too many levels of indentation";
            goto fail;
        }
        in->depth++;
        in->col[in->depth] = col;
        in->alt[in->depth] = alt;
        return true;
    }
    while (in->depth > 0 && col < in->col[in->depth])
        in->depth--;
    if (col != in->col[in->depth]) {
        msg = "IndentationError: unindent does not match any outer indentation level";
        goto fail;
    }
    if (alt != in->alt[in->depth])
        goto tab_error;
    return true;
tab_error:
    msg = "TabError: inconsistent use of tabs and spaces in indentation";
fail:
    diag_add(d, line, at, "E999", "%s", msg);
    return false;
}

/* One token-level pass for what CPython's tokenizer refuses and tree-sitter
 * takes: bracket nesting over 200, indentation over 100 levels, unexpected
 * or unmatched indentation, inconsistent tabs. Adds the E999 and returns
 * false when found. */
/* Records a bracketed continuation line indented less than the block it
 * belongs to (tree-sitter's scanner reads that as a dedent). */
static void note_shallow(const lex_t *x, const indent_t *in, tokens_pads_t *pads)
{
    uint32_t i = x->i;
    int col = 0;

    if (pads == NULL)
        return;
    while (i < x->len && (x->s[i] == ' ' || x->s[i] == '\t')) {
        col = x->s[i] == ' ' ? col + 1 : (col / 8 + 1) * 8;
        i++;
    }
    if (i >= x->len || x->s[i] == '\n' || x->s[i] == '\r' || x->s[i] == '#')
        return;
    if (col >= in->col[in->depth] || pads->n == TOKENS_MAX_PADS)
        return;
    pads->line[pads->n] = x->line;
    pads->offset[pads->n] = x->line_start;
    pads->width[pads->n] = (uint32_t)(in->col[in->depth] - col);
    pads->n++;
}

bool tokens_check(const char *s, uint32_t len, diag_list_t *d)
{
    return tokens_scan(s, len, d, NULL);
}

bool tokens_scan(const char *s, uint32_t len, diag_list_t *d, tokens_pads_t *pads)
{
    lex_t x = {s, len, 0, 1, 0};
    indent_t in;
    int level = 0;
    bool at_line_start = true;
    char last = 0; /* last significant character of the logical line */

    in.depth = 0;
    in.col[0] = in.alt[0] = 0;
    while (x.i < x.len) {
        if (at_line_start) {
            bool blank;
            int alt, col = lex_indent(&x, &blank, &alt);
            at_line_start = false;
            if (!blank) {
                if (!indent_ok(&in, col, alt, last == ':', x.line, x.i - x.line_start, d))
                    return false;
                last = 0;
            }
            continue;
        }
        char ch = s[x.i];
        switch (ch) {
        case '#':
            while (x.i < x.len && s[x.i] != '\n' && s[x.i] != '\r')
                x.i++;
            break;
        case '\'':
        case '"':
            lex_string(&x);
            last = ch;
            break;
        case '\\':
            x.i++;
            if (x.i < x.len && (s[x.i] == '\n' || s[x.i] == '\r'))
                lex_newline(&x);
            break;
        case '\n':
        case '\r':
            lex_newline(&x);
            at_line_start = level == 0;
            if (level > 0)
                note_shallow(&x, &in, pads);
            break;
        case '(':
        case '[':
        case '{':
            if (++level > PY_MAX_PAREN_LEVEL) {
                diag_add(d, x.line, x.i - x.line_start + 1, "E999",
                         "SyntaxError: too many nested parentheses");
                return false;
            }
            last = ch;
            x.i++;
            break;
        case ')':
        case ']':
        case '}':
            if (level > 0)
                level--;
            last = ch;
            x.i++;
            break;
        case ' ':
        case '\t':
        case '\f':
            x.i++;
            break;
        default:
            last = ch;
            x.i++;
        }
    }
    return true;
}

char *tokens_pad(const char *s, uint32_t len, const tokens_pads_t *pads, arena_t *a,
                 uint32_t *out_len)
{
    uint64_t total = len;
    char *out, *o;
    uint32_t from = 0;

    for (uint32_t k = 0; k < pads->n; k++)
        total += pads->width[k];
    if (total > UINT32_MAX || (out = arena_alloc(a, (size_t)total + 1)) == NULL)
        return NULL;
    o = out;
    for (uint32_t k = 0; k < pads->n; k++) {
        memcpy(o, s + from, pads->offset[k] - from);
        o += pads->offset[k] - from;
        memset(o, ' ', pads->width[k]);
        o += pads->width[k];
        from = pads->offset[k];
    }
    memcpy(o, s + from, len - from);
    o += len - from;
    *o = '\0';
    *out_len = (uint32_t)total;
    return out;
}

/* Joins lines [from, to] into one group. */
static void join(uint32_t *group, uint32_t n_lines, uint32_t from, uint32_t to)
{
    for (uint32_t l = from + 1; l <= to && l <= n_lines; l++)
        group[l - 1] = group[from - 1];
}

void tokens_line_groups(const char *s, uint32_t len, uint32_t *group, uint32_t n_lines)
{
    lex_t x = {s, len, 0, 1, 0};

    for (uint32_t l = 0; l < n_lines; l++)
        group[l] = l + 1;
    while (x.i < x.len) {
        char ch = s[x.i];
        uint32_t first = x.line;
        if (ch == '#') {
            while (x.i < x.len && s[x.i] != '\n' && s[x.i] != '\r')
                x.i++;
        } else if (ch == '\'' || ch == '"') {
            lex_string(&x);
            if (x.line > first && first <= n_lines)
                join(group, n_lines, first, x.line);
        } else if (ch == '\\') {
            x.i++;
            if (x.i < x.len && (s[x.i] == '\n' || s[x.i] == '\r')) {
                lex_newline(&x);
                if (first <= n_lines)
                    join(group, n_lines, first, x.line);
            }
        } else if (ch == '\n' || ch == '\r') {
            lex_newline(&x);
        } else {
            x.i++;
        }
    }
}
