/* lspdoc.c - an open document's text, LSP positions, didChange's edits.
 *
 * Positions are converted by walking the text from its start: the files a
 * person edits are small (tens of KB) and a walk of them costs microseconds,
 * less than keeping a line index right across every edit would. Bytes
 * that are not UTF-8 count as one character each, so that a hostile
 * buffer still maps every position to some offset. */
#include "cli/lspdoc.h"

#include "common/alloc.h"

#include <stdlib.h>
#include <string.h>

/* The length of the UTF-8 sequence that starts at s[0..n) (1 for a byte
 * that starts none, or a truncated one). */
static size_t char_len(const unsigned char *s, size_t n)
{
    size_t k = 1;

    if (s[0] >= 0xF0 && s[0] <= 0xF4)
        k = 4;
    else if (s[0] >= 0xE0)
        k = s[0] <= 0xEF ? 3 : 1;
    else if (s[0] >= 0xC2)
        k = 2;
    if (k > n)
        return 1;
    for (size_t i = 1; i < k; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 1;
    return k;
}

/* Units of one character of k bytes. */
static uint32_t char_units(size_t k, lspdoc_enc_t enc)
{
    if (enc == LSPDOC_UTF8)
        return (uint32_t)k;
    return k == 4 ? 2 : 1;
}

/* The end of the line starting at i (its first "\r" or "\n", or len). */
static size_t line_end(const char *text, size_t len, size_t i)
{
    while (i < len && text[i] != '\n' && text[i] != '\r')
        i++;
    return i;
}

/* Past the line break at i (text[i] is "\r" or "\n"). */
static size_t past_break(const char *text, size_t len, size_t i)
{
    if (text[i] == '\r' && i + 1 < len && text[i + 1] == '\n')
        return i + 2;
    return i + 1;
}

size_t lspdoc_offset(const char *text, size_t len, lspdoc_enc_t enc, lspdoc_pos_t pos)
{
    const unsigned char *u = (const unsigned char *)text;
    size_t i = 0, end;
    uint64_t units = 0;

    for (uint32_t line = 0; line < pos.line; line++) {
        i = line_end(text, len, i);
        if (i >= len)
            return len; /* past the last line: the end of the text */
        i = past_break(text, len, i);
    }
    end = line_end(text, len, i);
    while (i < end) {
        size_t k = char_len(u + i, end - i);
        uint32_t w = char_units(k, enc);

        if (units + w > pos.character)
            break; /* at or inside this character: its start */
        units += w;
        i += k;
    }
    return i;
}

lspdoc_pos_t lspdoc_position(const char *text, size_t len, lspdoc_enc_t enc, size_t off)
{
    lspdoc_pos_t pos = {0, 0};
    size_t start = 0, end;

    if (off > len)
        off = len;
    for (;;) {
        end = line_end(text, len, start);
        if (end >= len || off <= end)
            break;
        size_t next = past_break(text, len, end);
        if (off < next) /* between "\r" and "\n": the end of the line */
            break;
        start = next;
        pos.line++;
    }
    pos.character = lspdoc_units(text + start, end - start, enc, off - start);
    return pos;
}

lspdoc_point_t lspdoc_point(const char *text, size_t len, size_t off)
{
    lspdoc_point_t p = {0, 0};
    size_t start = 0;
    const char *nl;

    if (off > len)
        off = len;
    while ((nl = memchr(text + start, '\n', off - start)) != NULL) {
        start = (size_t)(nl - text) + 1;
        p.row++;
    }
    p.column = (uint32_t)(off - start);
    return p;
}

uint32_t lspdoc_units(const char *line, size_t n, lspdoc_enc_t enc, size_t col)
{
    const unsigned char *u = (const unsigned char *)line;
    uint32_t units = 0;
    size_t i = 0;

    if (col > n)
        col = n;
    while (i < col) {
        size_t k = char_len(u + i, n - i);

        if (i + k > col)
            break; /* a column inside a character: its start */
        units += char_units(k, enc);
        i += k;
    }
    return units;
}

/* Makes room for need bytes and the NUL. */
static st_rc_t reserve(lspdoc_t *d, size_t need, st_err_t *err)
{
    size_t cap = d->cap != 0 ? d->cap : 256;
    char *p;

    if (need > LSPDOC_MAX_BYTES)
        return st_fail(err, ST_ELIMIT, "document larger than %zu MB", LSPDOC_MAX_BYTES >> 20);
    if (need < d->cap)
        return ST_OK;
    while (cap <= need)
        cap *= 2;
    if ((p = st_realloc(d->text, cap)) == NULL)
        return st_fail(err, ST_ENOMEM, "out of memory for a document of %zu bytes", need);
    d->text = p;
    d->cap = cap;
    return ST_OK;
}

st_rc_t lspdoc_set(lspdoc_t *d, const char *s, size_t n, st_err_t *err)
{
    st_rc_t rc = reserve(d, n, err);

    if (rc != ST_OK)
        return rc;
    if (n > 0)
        memcpy(d->text, s, n);
    d->text[n] = '\0';
    d->len = n;
    return ST_OK;
}

st_rc_t lspdoc_apply(lspdoc_t *d, lspdoc_enc_t enc, lspdoc_pos_t from, lspdoc_pos_t to,
                     const char *s, size_t n, lspdoc_edit_t *edit, st_err_t *err)
{
    const char *text = d->text != NULL ? d->text : "";
    size_t a = lspdoc_offset(text, d->len, enc, from);
    size_t b = lspdoc_offset(text, d->len, enc, to);
    size_t need;
    lspdoc_edit_t e;
    st_rc_t rc;

    if (b < a)
        b = a;
    if (n > LSPDOC_MAX_BYTES || (need = d->len - (b - a) + n) > LSPDOC_MAX_BYTES)
        return st_fail(err, ST_ELIMIT, "document larger than %zu MB", LSPDOC_MAX_BYTES >> 20);
    e.start_byte = (uint32_t)a;
    e.old_end_byte = (uint32_t)b;
    e.new_end_byte = (uint32_t)(a + n);
    e.start_point = lspdoc_point(text, d->len, a);
    e.old_end_point = lspdoc_point(text, d->len, b);
    if ((rc = reserve(d, need, err)) != ST_OK)
        return rc;
    memmove(d->text + a + n, d->text + b, d->len - b);
    if (n > 0)
        memcpy(d->text + a, s, n);
    d->len = need;
    d->text[need] = '\0';
    e.new_end_point = e.start_point;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n') {
            e.new_end_point.row++;
            e.new_end_point.column = 0;
        } else {
            e.new_end_point.column++;
        }
    }
    if (edit != NULL)
        *edit = e;
    return ST_OK;
}

void lspdoc_free(lspdoc_t *d)
{
    st_free(d->text);
    memset(d, 0, sizeof *d);
}
