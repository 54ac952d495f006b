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

static void apply(const char *text, uint32_t len, diag_list_t *d, noqa_t *q, size_t nq)
{
    lineidx_t idx;
    uint32_t *group, col;

    if (lineidx_build(&idx, (const uint8_t *)text, len, d->arena) != ST_OK ||
        (group = arena_alloc(d->arena, (size_t)idx.count * sizeof(uint32_t))) == NULL) {
        d->oom = true;
        return;
    }
    tokens_line_groups(text, len, group, idx.count);
    /* a comment counts for every line of its group */
    for (size_t i = 0; i < nq; i++) {
        uint32_t line = 1;
        lineidx_lookup(&idx, q[i].line, &line, &col);
        q[i].line = group[line - 1];
    }
    for (size_t i = 0; i < d->count; i++)
        if (suppressed(q, nq, &d->items[i], group, idx.count))
            d->items[i].dead = 1;
}

void noqa_apply(const char *text, uint32_t len, diag_list_t *d)
{
    noqa_t *q = NULL;
    size_t nq = 0, cap = 0;
    const char *p = text, *end = text + len;

    if (d->count == 0)
        return;
    while ((p = memchr(p, '#', (size_t)(end - p))) != NULL) {
        uint32_t i = skip_ws(text, len, (uint32_t)(p - text) + 1);
        p++;
        if (file_exempt(text, len, i)) {
            for (size_t k = 0; k < d->count; k++)
                d->items[k].dead = 1;
            return;
        }
        if (!word_at(text, len, i, "noqa"))
            continue;
        if (nq == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            noqa_t *nqv = arena_realloc(d->arena, q, cap * sizeof *q, ncap * sizeof *q);
            if (nqv == NULL) {
                d->oom = true;
                return;
            }
            q = nqv;
            cap = ncap;
        }
        q[nq].line = (uint32_t)(p - 1 - text); /* an offset until apply() maps it */
        read_codes(text, len, i + 4, &q[nq]);
        nq++;
    }
    if (nq > 0)
        apply(text, len, d, q, nq);
}
