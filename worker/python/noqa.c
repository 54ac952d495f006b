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

bool noqa_summarize(const char *text, uint32_t len, arena_t *a, summary_t *s)
{
    noqa_t *q;
    size_t nq;
    bool exempt;
    lineidx_t idx;
    uint32_t *group;

    if (!collect(text, len, a, &q, &nq, &exempt))
        return false;
    if (exempt) {
        summary_add_noqa(s, 1, UINT32_MAX, NULL, NULL, 0);
        return true;
    }
    if (nq == 0)
        return true;
    if (!line_groups(text, len, a, &idx, &group))
        return false;
    /* comments come in text order, so their groups' first lines ascend */
    for (size_t i = 0; i < nq; i++) {
        const char *codes[NOQA_MAX_CODES];
        uint32_t lens[NOQA_MAX_CODES], first = comment_group(&idx, group, q[i].line), last = first;
        while (last < idx.count && group[last] == first) /* group[last] is line last + 1 */
            last++;
        for (uint32_t k = 0; k < q[i].n_codes; k++) {
            codes[k] = q[i].codes[k];
            lens[k] = (uint32_t)strlen(q[i].codes[k]);
        }
        summary_add_noqa(s, first, last, codes, lens, q[i].blanket ? 0 : q[i].n_codes);
    }
    return true;
}
