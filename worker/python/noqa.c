/* noqa.c - applies `# noqa` comments to a scan's diagnostics (see noqa.h).
 *
 * Most files have no noqa comment, so the text is first searched for one;
 * only then is the line index built, to map comments to lines. */
#include "noqa.h"

#include "common/lineidx.h"
#include "worker/python/tokens.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NOQA_MAX_CODES 16

typedef struct {
    uint32_t line;
    bool blanket;
    uint32_t n_codes;
    char codes[NOQA_MAX_CODES][12];
} noqa_t;

static bool word_at(const char *s, uint32_t len, uint32_t i, const char *w)
{
    size_t n = strlen(w);
    if (i + n > len)
        return false;
    for (size_t k = 0; k < n; k++)
        if (tolower((unsigned char)s[i + k]) != w[k])
            return false;
    return true;
}

static uint32_t skip_ws(const char *s, uint32_t len, uint32_t i)
{
    while (i < len && (s[i] == ' ' || s[i] == '\t'))
        i++;
    return i;
}

/* Reads the codes after `noqa:`; none read means a blanket noqa. */
static void read_codes(const char *s, uint32_t len, uint32_t i, noqa_t *q)
{
    q->blanket = true;
    q->n_codes = 0;
    if (i >= len || s[i] != ':')
        return;
    i++;
    for (;;) {
        uint32_t n = 0;
        i = skip_ws(s, len, i);
        while (i < len && isupper((unsigned char)s[i]) && n < 4)
            q->codes[q->n_codes][n++] = s[i++];
        if (n == 0 || i >= len || !isdigit((unsigned char)s[i]))
            break;
        while (i < len && isdigit((unsigned char)s[i]) && n < 11)
            q->codes[q->n_codes][n++] = s[i++];
        q->codes[q->n_codes][n] = '\0';
        q->blanket = false;
        if (++q->n_codes == NOQA_MAX_CODES)
            break;
        i = skip_ws(s, len, i);
        if (i < len && s[i] == ',')
            i++;
    }
}

/* Is the comment at s[i] (just after '#') a file-level exemption? */
static bool file_exempt(const char *s, uint32_t len, uint32_t i)
{
    uint32_t j;
    const char *tool[] = {"flake8", "ruff"};

    for (int t = 0; t < 2; t++) {
        if (!word_at(s, len, i, tool[t]))
            continue;
        j = i + (uint32_t)strlen(tool[t]);
        if (j < len && (s[j] == ':' || s[j] == '=')) {
            j = skip_ws(s, len, j + 1);
            if (word_at(s, len, j, "noqa") && (j + 4 >= len || s[j + 4] != ':'))
                return true;
        }
    }
    return false;
}

static bool suppressed(const noqa_t *q, size_t nq, const diag_t *d, const uint32_t *group,
                       size_t n_lines)
{
    uint32_t g = d->line >= 1 && d->line <= n_lines ? group[d->line - 1] : d->line;

    for (size_t i = 0; i < nq; i++) {
        if (q[i].line != g)
            continue;
        if (q[i].blanket)
            return true;
        for (uint32_t k = 0; k < q[i].n_codes; k++)
            if (strncmp(d->code, q[i].codes[k], strlen(q[i].codes[k])) == 0)
                return true;
    }
    return false;
}

/* The line index of text and each line's group, in arena a; false when a
 * is exhausted. */
static bool line_groups(const char *text, uint32_t len, arena_t *a, lineidx_t *idx,
                        uint32_t **group)
{
    if (lineidx_build(idx, (const uint8_t *)text, len, a) != ST_OK ||
        (*group = arena_alloc(a, (size_t)idx->count * sizeof(uint32_t))) == NULL)
        return false;
    tokens_line_groups(text, len, *group, idx->count);
    return true;
}

/* The first line of the group of the comment at byte offset off. */
static uint32_t comment_group(const lineidx_t *idx, const uint32_t *group, uint32_t off)
{
    uint32_t line = 1, col;
    lineidx_lookup(idx, off, &line, &col);
    return line >= 1 && line <= idx->count ? group[line - 1] : line;
}

static void apply(const char *text, uint32_t len, diag_list_t *d, noqa_t *q, size_t nq)
{
    lineidx_t idx;
    uint32_t *group;

    if (!line_groups(text, len, d->arena, &idx, &group)) {
        d->oom = true;
        return;
    }
    /* a comment counts for every line of its group */
    for (size_t i = 0; i < nq; i++)
        q[i].line = comment_group(&idx, group, q[i].line);
    for (size_t i = 0; i < d->count; i++)
        if (suppressed(q, nq, &d->items[i], group, idx.count))
            d->items[i].dead = 1;
}

/* The noqa comments of text, in a: q[i].line holds the byte offset of the
 * comment's '#'. *exempt when the file has a file-level exemption (then
 * nothing else is collected). False when a is exhausted. */
static bool collect(const char *text, uint32_t len, arena_t *a, noqa_t **qp, size_t *nqp,
                    bool *exempt)
{
    noqa_t *q = NULL;
    size_t nq = 0, cap = 0;
    const char *p = text, *end = text + len;

    *exempt = false;
    *qp = NULL;
    *nqp = 0;
    while ((p = memchr(p, '#', (size_t)(end - p))) != NULL) {
        uint32_t i = skip_ws(text, len, (uint32_t)(p - text) + 1);
        p++;
        if (file_exempt(text, len, i)) {
            *exempt = true;
            return true;
        }
        if (!word_at(text, len, i, "noqa"))
            continue;
        if (nq == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            noqa_t *nqv = arena_realloc(a, q, cap * sizeof *q, ncap * sizeof *q);
            if (nqv == NULL)
                return false;
            q = nqv;
            cap = ncap;
        }
        q[nq].line = (uint32_t)(p - 1 - text); /* an offset until mapped to a line */
        read_codes(text, len, i + 4, &q[nq]);
        nq++;
    }
    *qp = q;
    *nqp = nq;
    return true;
}

void noqa_apply(const char *text, uint32_t len, diag_list_t *d)
{
    noqa_t *q;
    size_t nq;
    bool exempt;

    if (d->count == 0)
        return;
    if (!collect(text, len, d->arena, &q, &nq, &exempt)) {
        d->oom = true;
        return;
    }
    if (exempt) {
        for (size_t k = 0; k < d->count; k++)
            d->items[k].dead = 1;
        return;
    }
    if (nq > 0)
        apply(text, len, d, q, nq);
}

/* ---- pylint's pragmas -------------------------------------------------------- */

/* The codes of the cross-module checks, which mirror pylint's messages: a
 * `# pylint: disable=...` comment silences them as pylint would. */
static const struct {
    const char *symbol, *code;
} pylint_names[] = {
    {"import-error", "E0401"},
    {"no-name-in-module", "E0611"},
    {"no-member", "E1101"},
    {"no-value-for-parameter", "E1120"},
    {"too-many-function-args", "E1121"},
    {"unexpected-keyword-arg", "E1123"},
    {"cyclic-import", "R0401"},
};

#define N_PYLINT_NAMES (sizeof pylint_names / sizeof pylint_names[0])

typedef struct {
    uint32_t first, last;
    bool blanket;
    uint32_t n_codes;
    char codes[NOQA_MAX_CODES][12];
} range_t;

typedef struct {
    range_t *v;
    size_t n, cap;
} ranges_t;

static range_t *range_push(ranges_t *r, arena_t *a)
{
    if (r->n == r->cap) {
        size_t ncap = r->cap ? r->cap * 2 : 8;
        range_t *nv = arena_realloc(a, r->v, r->cap * sizeof *nv, ncap * sizeof *nv);
        if (nv == NULL)
            return NULL;
        r->v = nv;
        r->cap = ncap;
    }
    r->v[r->n] = (range_t){0};
    return &r->v[r->n++];
}

/* Adds the pylint codes named in a comma-separated list at s[i..) (message
 * symbols, codes, or "all") to q; the others are not ours and are skipped. */
static void read_pylint_names(const char *s, uint32_t len, uint32_t i, range_t *q)
{
    for (;;) {
        uint32_t start = skip_ws(s, len, i), n;
        i = start;
        while (i < len && (isalnum((unsigned char)s[i]) || s[i] == '-' || s[i] == '_'))
            i++;
        n = i - start;
        if (n == 3 && word_at(s, len, start, "all")) {
            for (size_t k = 0; k < N_PYLINT_NAMES && q->n_codes < NOQA_MAX_CODES; k++)
                strcpy(q->codes[q->n_codes++], pylint_names[k].code);
        }
        for (size_t k = 0; k < N_PYLINT_NAMES && n > 0; k++) {
            const char *sym = pylint_names[k].symbol, *code = pylint_names[k].code;
            bool is_sym = strlen(sym) == n && strncmp(s + start, sym, n) == 0;
            bool is_code = strlen(code) == n && strncasecmp(s + start, code, n) == 0;
            if ((is_sym || is_code) && q->n_codes < NOQA_MAX_CODES)
                strcpy(q->codes[q->n_codes++], code);
        }
        i = skip_ws(s, len, i);
        if (i >= len || s[i] != ',')
            return;
        i++;
    }
}

/* The last line of the block a comment alone on its line, indented by
 * `indent` columns, sits in: the line before the next non-blank line
 * indented less (pylint's scope for such a `disable`). */
static uint32_t block_end(const char *text, uint32_t len, const lineidx_t *idx, uint32_t line,
                          uint32_t indent)
{
    if (indent == 0)
        return UINT32_MAX; /* module level: to the end of the file */
    for (uint32_t l = line + 1; l <= idx->count; l++) {
        uint32_t off = idx->starts[l - 1], col = 0;
        while (off + col < len && (text[off + col] == ' ' || text[off + col] == '\t'))
            col++;
        if (off + col >= len || text[off + col] == '\n' || text[off + col] == '\r' ||
            text[off + col] == '#')
            continue; /* blank or comment-only lines do not end a block */
        if (col < indent)
            return l - 1;
    }
    return UINT32_MAX;
}

/* The lines of the group line sits in (tokens_line_groups: joined by a
 * multi-line string or backslashes) into q. */
static void group_range(const lineidx_t *idx, const uint32_t *group, uint32_t line, range_t *q)
{
    q->first = q->last = line >= 1 && line <= idx->count ? group[line - 1] : line;
    while (q->last < idx->count && group[q->last] == q->first)
        q->last++;
}

/* `# pylint: disable=X` after code (that line), alone on a line (to the
 * end of its block), `# pylint: disable-next=X` (the next line). */
static bool collect_pylint(const char *text, uint32_t len, arena_t *a, const lineidx_t *idx,
                           const uint32_t *group, ranges_t *out)
{
    const char *p = text, *end = text + len;

    while ((p = memchr(p, '#', (size_t)(end - p))) != NULL) {
        uint32_t off = (uint32_t)(p - text), i = skip_ws(text, len, off + 1), line = 1, col = 0;
        bool next;
        range_t *q;

        p++;
        if (!word_at(text, len, i, "pylint"))
            continue;
        i = skip_ws(text, len, i + 6);
        if (i >= len || text[i] != ':')
            continue;
        i = skip_ws(text, len, i + 1);
        if (word_at(text, len, i, "disable-next")) {
            next = true;
            i += 12;
        } else if (word_at(text, len, i, "disable") && !word_at(text, len, i, "disable-")) {
            next = false;
            i += 7;
        } else {
            continue;
        }
        i = skip_ws(text, len, i);
        if (i >= len || text[i] != '=')
            continue;
        lineidx_lookup(idx, off, &line, &col);
        if ((q = range_push(out, a)) == NULL)
            return false;
        read_pylint_names(text, len, i + 1, q);
        if (q->n_codes == 0) {
            out->n--;
            continue;
        }
        bool alone = true;
        for (uint32_t k = idx->starts[line - 1]; k < off && alone; k++)
            alone = text[k] == ' ' || text[k] == '\t';
        if (next) {
            q->first = q->last = line + 1;
        } else if (alone) {
            q->first = line;
            q->last = block_end(text, len, idx, line, col);
        } else {
            group_range(idx, group, line, q);
        }
    }
    return true;
}

/* ---- type checkers' ignore comments ---------------------------------------- */

/* The codes `# type: ignore` and `# pyright: ignore` silence: the
 * cross-module checks pyright and mypy make too (not R0401, and never a
 * pyflakes code: pyflakes does not honour them). */
static const char *const ignore_codes[] = {"E0401", "E0611", "E1101", "E1120", "E1121", "E1123"};

#define N_IGNORE_CODES (sizeof ignore_codes / sizeof ignore_codes[0])

static bool exact_at(const char *s, uint32_t len, uint32_t i, const char *w)
{
    size_t n = strlen(w);
    return i + n <= len && memcmp(s + i, w, n) == 0;
}

/* Is the comment at s[off] (its '#') `# type: ignore` or `# pyright:
 * ignore`, optionally with [codes]? *is_type tells which. */
static bool is_ignore(const char *s, uint32_t len, uint32_t off, bool *is_type)
{
    uint32_t i = skip_ws(s, len, off + 1);

    if ((*is_type = exact_at(s, len, i, "type")))
        i += 4;
    else if (exact_at(s, len, i, "pyright"))
        i += 7;
    else
        return false;
    i = skip_ws(s, len, i);
    if (i >= len || s[i] != ':')
        return false;
    i = skip_ws(s, len, i + 1);
    if (!exact_at(s, len, i, "ignore"))
        return false;
    i += 6;
    return i >= len || s[i] == ' ' || s[i] == '\t' || s[i] == '[' || s[i] == '#' || s[i] == '\r' ||
           s[i] == '\n';
}

/* Only blank and comment lines before text[at] (PEP 484's place for a
 * `# type: ignore` that covers the whole file), the comment itself alone on
 * its line. */
static bool at_file_top(const char *text, uint32_t at)
{
    bool line_blank = true;

    for (uint32_t k = 0; k < at; k++) {
        char ch = text[k];
        if (ch == '\n') {
            line_blank = true;
        } else if (ch == '#' && line_blank) {
            const char *nl = memchr(text + k, '\n', at - k);
            if (nl == NULL)
                return false; /* the comment at `at` follows another on its line */
            k = (uint32_t)(nl - text) - 1;
        } else if (ch != ' ' && ch != '\t' && ch != '\r' && ch != '\f') {
            return false;
        }
    }
    return line_blank;
}

/* `# type: ignore` and `# pyright: ignore`: their line group, or the whole
 * file for a `# type: ignore` before any statement. */
static bool collect_ignores(const char *text, uint32_t len, arena_t *a, const lineidx_t *idx,
                            const uint32_t *group, ranges_t *out)
{
    const char *p = text, *end = text + len;
    bool is_type;

    while ((p = memchr(p, '#', (size_t)(end - p))) != NULL) {
        uint32_t off = (uint32_t)(p - text), line = 1, col = 0;
        range_t *q;

        p++;
        if (!is_ignore(text, len, off, &is_type))
            continue;
        if ((q = range_push(out, a)) == NULL)
            return false;
        for (size_t k = 0; k < N_IGNORE_CODES; k++)
            strcpy(q->codes[q->n_codes++], ignore_codes[k]);
        if (is_type && at_file_top(text, off)) {
            q->first = 1;
            q->last = UINT32_MAX;
            continue;
        }
        lineidx_lookup(idx, off, &line, &col);
        group_range(idx, group, line, q);
    }
    return true;
}

static int range_cmp(const void *pa, const void *pb)
{
    const range_t *a = pa, *b = pb;
    if (a->first != b->first)
        return a->first < b->first ? -1 : 1;
    return a->last < b->last ? -1 : a->last > b->last;
}

bool noqa_summarize(const char *text, uint32_t len, arena_t *a, summary_t *s)
{
    noqa_t *q;
    size_t nq;
    bool exempt;
    lineidx_t idx;
    uint32_t *group;
    ranges_t r = {0};

    if (!collect(text, len, a, &q, &nq, &exempt))
        return false;
    if (exempt) {
        summary_add_noqa(s, 1, UINT32_MAX, NULL, NULL, 0);
        return true;
    }
    if (nq == 0 && memmem(text, len, "pylint", 6) == NULL && memmem(text, len, "ignore", 6) == NULL)
        return true;
    if (!line_groups(text, len, a, &idx, &group))
        return false;
    for (size_t i = 0; i < nq; i++) {
        range_t *e = range_push(&r, a);
        uint32_t first = comment_group(&idx, group, q[i].line), last = first;
        if (e == NULL)
            return false;
        while (last < idx.count && group[last] == first) /* group[last] is line last + 1 */
            last++;
        e->first = first;
        e->last = last;
        e->blanket = q[i].blanket;
        e->n_codes = q[i].n_codes;
        memcpy(e->codes, q[i].codes, sizeof e->codes);
    }
    if (!collect_pylint(text, len, a, &idx, group, &r) ||
        !collect_ignores(text, len, a, &idx, group, &r))
        return false;
    if (r.n > 1)
        qsort(r.v, r.n, sizeof *r.v, range_cmp);
    for (size_t i = 0; i < r.n; i++) {
        const char *codes[NOQA_MAX_CODES];
        uint32_t lens[NOQA_MAX_CODES];
        for (uint32_t k = 0; k < r.v[i].n_codes; k++) {
            codes[k] = r.v[i].codes[k];
            lens[k] = (uint32_t)strlen(r.v[i].codes[k]);
        }
        summary_add_noqa(s, r.v[i].first, r.v[i].last, codes, lens,
                         r.v[i].blanket ? 0 : r.v[i].n_codes);
    }
    return true;
}
