/* report_formats.c - the names of the output formats, the line formats
 * (concise, full, grouped, pylint, github), the statistics, and what every
 * writer shares (clean UTF-8, source lines).
 *
 * Every writer gets the entries already sorted, so the output is the same
 * bytes whatever the threads did. Lines are built in a buffer flushed every
 * 64 KiB: a million diagnostics cost no more memory than a few. The source
 * lines that full and gitlab show are read from the files when the report
 * is written, one file at a time, in the order the entries come: the scans
 * freed their text long ago, and with `strata submit` it never left the
 * client. A file that changed since may have lost the line; then the
 * diagnostic is shown without it. */
#include "run/report_formats.h"
#include "run/report_int.h"

#include "common/alloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FLUSH_AT 65536

static const struct {
    const char *name;
    report_format_t format;
} formats[] = {
    {"full", REPORT_FORMAT_FULL},
    {"concise", REPORT_FORMAT_CONCISE},
    {"grouped", REPORT_FORMAT_GROUPED},
    {"json", REPORT_FORMAT_JSON},
    {"json-lines", REPORT_FORMAT_JSON_LINES},
    {"sarif", REPORT_FORMAT_SARIF},
    {"github", REPORT_FORMAT_GITHUB},
    {"gitlab", REPORT_FORMAT_GITLAB},
    {"junit", REPORT_FORMAT_JUNIT},
    {"pylint", REPORT_FORMAT_PYLINT},
    {"text", REPORT_FORMAT_TEXT}, /* the old name of concise, last: not listed */
};

static const char format_names[] =
    "full, concise, grouped, json, json-lines, sarif, github, gitlab, junit or pylint";

st_rc_t report_format_parse(const char *name, report_format_t *out, st_err_t *err)
{
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        if (strcmp(formats[i].name, name) == 0) {
            *out = formats[i].format;
            return ST_OK;
        }
    }
    return st_fail(err, ST_EINVAL, "invalid output format '%s' (expected %s)", name, format_names);
}

const char *report_format_names(void)
{
    return format_names;
}

const char *report_format_name(report_format_t format)
{
    if (format == REPORT_FORMAT_DOT)
        return "dot";
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        if (formats[i].format == format)
            return formats[i].name;
    return "?";
}

st_rc_t report__flush(buf_t *b, FILE *out, st_err_t *err)
{
    if (b->len > 0 && fwrite(b->data, 1, b->len, out) != b->len)
        return st_fail(err, ST_EIO, "cannot write the report");
    buf_reset(b);
    return ST_OK;
}

/* Length of the valid UTF-8 sequence at s[0..n), or 0 (RFC 3629). */
static size_t utf8_len(const uint8_t *s, size_t n)
{
    uint8_t c = s[0], lo = 0x80, hi = 0xBF;
    size_t len;

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4;
    else
        return 0;
    /* The second byte's range excludes overlongs, surrogates, > U+10FFFF. */
    if (c == 0xE0)
        lo = 0xA0;
    else if (c == 0xED)
        hi = 0x9F;
    else if (c == 0xF0)
        lo = 0x90;
    else if (c == 0xF4)
        hi = 0x8F;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return len;
}

st_rc_t report__utf8_clean(buf_t *b, const char *s, size_t len, bool xml)
{
    const uint8_t *p = (const uint8_t *)s, *end = p + len;
    st_rc_t rc = buf_reserve(b, len);

    while (rc == ST_OK && p < end) {
        size_t n = utf8_len(p, (size_t)(end - p));

        if (n == 0 || (xml && *p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')) {
            rc = buf_append(b, "\xef\xbf\xbd", 3);
            p++;
        } else {
            rc = buf_append(b, p, n);
            p += n;
        }
    }
    return rc;
}

void report__source_init(report_source_t *s, const report_source_check_t *check)
{
    *s = (report_source_t){.check = check};
    buf_init(&s->path);
    buf_init(&s->text);
}

void report__source_free(report_source_t *s)
{
    buf_free(&s->path);
    buf_free(&s->text);
    *s = (report_source_t){0};
}

/* Reads path into s->text; false when it cannot be read whole. */
static bool load_source(report_source_t *s, const char *path)
{
    FILE *f = fopen(path, "rb");
    char chunk[65536];
    size_t got;
    bool ok = f != NULL;

    buf_reset(&s->text);
    while (ok && (got = fread(chunk, 1, sizeof chunk, f)) > 0)
        ok = s->text.len + got <= UINT32_MAX && buf_append(&s->text, chunk, got) == ST_OK;
    if (f != NULL && (ferror(f) || fclose(f) != 0))
        ok = false;
    return ok;
}

const char *report__source_line(report_source_t *s, const char *path, uint32_t line, uint32_t col,
                                size_t *len)
{
    const char *text, *nl;
    size_t n;

    if (s->path.data == NULL || strcmp((const char *)s->path.data, path) != 0) {
        buf_reset(&s->path);
        if (buf_append(&s->path, path, strlen(path) + 1) != ST_OK) {
            buf_reset(&s->path);
            return NULL;
        }
        s->readable = load_source(s, path) &&
                      (s->check == NULL || s->check->same == NULL ||
                       s->check->same(s->check->ctx, path, s->text.data, s->text.len));
        s->at_line = 1;
        s->at = 0;
    }
    if (!s->readable || line == 0)
        return NULL;
    text = (const char *)s->text.data;
    if (line < s->at_line) {
        s->at_line = 1;
        s->at = 0;
    }
    for (; s->at_line < line; s->at_line++) {
        if (s->at >= s->text.len || (nl = memchr(text + s->at, '\n', s->text.len - s->at)) == NULL)
            return NULL;
        s->at = (size_t)(nl - text) + 1;
    }
    nl = s->at < s->text.len ? memchr(text + s->at, '\n', s->text.len - s->at) : NULL;
    n = (nl != NULL ? (size_t)(nl - text) : s->text.len) - s->at;
    if (n > 0 && text[s->at + n - 1] == '\r')
        n--;
    if (col > n + 1)
        return NULL;
    *len = n;
    return text + s->at;
}

/* `path:line:col: CODE message`: the flake8/ruff line (concise). */
static st_rc_t concise_line(buf_t *b, const report_entry_t *e)
{
    return buf_printf(b, "%s:%u:%u: %s %s\n", e->path, e->line, e->col, e->code, e->message);
}

/* Digits of n in decimal. */
static int digits(uint32_t n)
{
    int d = 1;

    while (n >= 10) {
        n /= 10;
        d++;
    }
    return d;
}

/* The concise line, then the source line in a numbered gutter with a caret
 * under the column, then an empty line. The caret's indent copies the
 * line's tabs and counts a UTF-8 character as one column. */
static st_rc_t full_entry(buf_t *b, const report_entry_t *e, report_source_t *src)
{
    size_t len;
    const char *text = report__source_line(src, e->path, e->line, e->col, &len);
    int w = digits(e->line);
    st_rc_t rc = concise_line(b, e);

    if (rc == ST_OK && text != NULL) {
        rc = buf_printf(b, "%*s |\n%u | %.*s\n%*s | ", w, "", e->line, (int)len, text, w, "");
        for (size_t i = 0; rc == ST_OK && e->col > 0 && i < e->col - 1 && i < len; i++)
            if (((uint8_t)text[i] & 0xC0) != 0x80)
                rc = buf_append_byte(b, text[i] == '\t' ? '\t' : ' ');
        if (rc == ST_OK)
            rc = buf_append(b, "^\n", 2);
    }
    return rc != ST_OK ? rc : buf_append_byte(b, '\n');
}

/* The widths of line and column numbers in the file starting at items[i]. */
static size_t file_end(const report_entry_t *items, size_t n, size_t i, int *wl, int *wc)
{
    size_t j = i;

    *wl = *wc = 1;
    for (; j < n && strcmp(items[j].path, items[i].path) == 0; j++) {
        if (digits(items[j].line) > *wl)
            *wl = digits(items[j].line);
        if (digits(items[j].col) > *wc)
            *wc = digits(items[j].col);
    }
    return j;
}

/* `path:` then `  line:col CODE message` per diagnostic, numbers aligned,
 * and an empty line after each file (ruff's grouped). */
static st_rc_t grouped_file(buf_t *b, const report_entry_t *items, size_t n, size_t *i)
{
    int wl, wc;
    size_t end = file_end(items, n, *i, &wl, &wc);
    st_rc_t rc = buf_printf(b, "%s:\n", items[*i].path);

    for (; rc == ST_OK && *i < end; ++*i) {
        const report_entry_t *e = &items[*i];
        int pad = wc - digits(e->col);

        rc =
            buf_printf(b, "  %*u:%u%*s %s %s\n", wl, e->line, e->col, pad, "", e->code, e->message);
    }
    return rc != ST_OK ? rc : buf_append_byte(b, '\n');
}

/* A workflow command's data (escape %, CR, LF) or, with property, one of
 * its property values (also ':' and ','). */
static st_rc_t github_escaped(buf_t *b, const char *s, bool property)
{
    st_rc_t rc = ST_OK;

    for (; *s != '\0' && rc == ST_OK; s++) {
        if (*s == '%')
            rc = buf_append(b, "%25", 3);
        else if (*s == '\r')
            rc = buf_append(b, "%0D", 3);
        else if (*s == '\n')
            rc = buf_append(b, "%0A", 3);
        else if (property && *s == ':')
            rc = buf_append(b, "%3A", 3);
        else if (property && *s == ',')
            rc = buf_append(b, "%2C", 3);
        else
            rc = buf_append_byte(b, (uint8_t)*s);
    }
    return rc;
}

/* `::error file=PATH,line=L,col=C,title=CODE::MESSAGE`: a GitHub Actions
 * annotation on the line. */
static st_rc_t github_line(buf_t *b, const report_entry_t *e)
{
    st_rc_t rc = buf_append(b, "::error file=", 13);

    if (rc == ST_OK)
        rc = github_escaped(b, e->path, true);
    if (rc == ST_OK)
        rc = buf_printf(b, ",line=%u,col=%u,title=", e->line, e->col);
    if (rc == ST_OK)
        rc = github_escaped(b, e->code, true);
    if (rc == ST_OK)
        rc = buf_append(b, "::", 2);
    if (rc == ST_OK)
        rc = github_escaped(b, e->message, false);
    return rc != ST_OK ? rc : buf_append_byte(b, '\n');
}

/* The line formats: one entry (grouped: one file) at a time. */
static st_rc_t write_lines(const report_entry_t *items, size_t n, report_format_t format,
                           const report_source_check_t *check, buf_t *b, FILE *out, st_err_t *err)
{
    report_source_t src;
    st_rc_t rc = ST_OK;

    report__source_init(&src, check);
    for (size_t i = 0; i < n && rc == ST_OK;) {
        const report_entry_t *e = &items[i];

        if (format == REPORT_FORMAT_GROUPED) {
            rc = grouped_file(b, items, n, &i);
            continue;
        }
        if (format == REPORT_FORMAT_FULL)
            rc = full_entry(b, e, &src);
        else if (format == REPORT_FORMAT_PYLINT)
            rc = buf_printf(b, "%s:%u: [%s] %s\n", e->path, e->line, e->code, e->message);
        else if (format == REPORT_FORMAT_GITHUB)
            rc = github_line(b, e);
        else
            rc = concise_line(b, e);
        i++;
        if (rc == ST_OK && b->len >= FLUSH_AT && report__flush(b, out, err) != ST_OK) {
            report__source_free(&src);
            return ST_EIO;
        }
    }
    report__source_free(&src);
    if (rc != ST_OK)
        return st_fail(err, rc, "report: cannot format: %s", st_strerror(rc));
    return report__flush(b, out, err);
}

st_rc_t report__write_items(const report_entry_t *items, size_t n, report_format_t format,
                            const report_source_check_t *check, FILE *out, st_err_t *err)
{
    buf_t b;
    st_rc_t rc;

    buf_init(&b);
    switch (format) {
    case REPORT_FORMAT_JSON:
    case REPORT_FORMAT_JSON_LINES:
        rc = report__write_json(items, n, format == REPORT_FORMAT_JSON_LINES, &b, out, err);
        break;
    case REPORT_FORMAT_SARIF:
        rc = report__write_sarif(items, n, &b, out, err);
        break;
    case REPORT_FORMAT_GITLAB:
        rc = report__write_gitlab(items, n, check, &b, out, err);
        break;
    case REPORT_FORMAT_JUNIT:
        rc = report__write_junit(items, n, out, err);
        break;
    case REPORT_FORMAT_DOT:
        rc = st_fail(err, ST_EINVAL, "report: dot is not a report format");
        break;
    default:
        rc = write_lines(items, n, format, check, &b, out, err);
        break;
    }
    buf_free(&b);
    return rc;
}

static int cmp_code_ptrs(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Most frequent first; ties by code. */
static int cmp_counts(const void *pa, const void *pb)
{
    const report_code_count_t *a = pa, *b = pb;

    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    return strcmp(a->code, b->code);
}

/* The distinct codes of items[0..n) with their counts, sorted by
 * cmp_counts, into counts (caller frees with st_free); *n_out of them. */
static st_rc_t count_codes(const report_entry_t *items, size_t n, report_code_count_t **counts,
                           size_t *n_out, st_err_t *err)
{
    const char **codes = st_calloc(n == 0 ? 1 : n, sizeof *codes);
    report_code_count_t *c = st_calloc(n == 0 ? 1 : n, sizeof *c);
    size_t k = 0;

    if (codes == NULL || c == NULL) {
        st_free(codes);
        st_free(c);
        return st_fail(err, ST_ENOMEM, "report: out of memory");
    }
    for (size_t i = 0; i < n; i++)
        codes[i] = items[i].code;
    qsort(codes, n, sizeof *codes, cmp_code_ptrs);
    for (size_t i = 0; i < n; i++) {
        if (k == 0 || strcmp(c[k - 1].code, codes[i]) != 0)
            c[k++] = (report_code_count_t){.code = codes[i]};
        c[k - 1].count++;
    }
    st_free(codes);
    qsort(c, k, sizeof *c, cmp_counts);
    *counts = c;
    *n_out = k;
    return ST_OK;
}

st_rc_t report__write_statistics(const report_entry_t *items, size_t n, report_format_t format,
                                 FILE *out, st_err_t *err)
{
    report_code_count_t *c = NULL;
    size_t k = 0;
    buf_t b;
    st_rc_t rc;
    int w;

    if ((rc = count_codes(items, n, &c, &k, err)) != ST_OK)
        return rc;
    buf_init(&b);
    w = k > 0 ? digits((uint32_t)(c[0].count > UINT32_MAX ? UINT32_MAX : c[0].count)) : 1;
    if (format == REPORT_FORMAT_JSON || format == REPORT_FORMAT_JSON_LINES ||
        format == REPORT_FORMAT_SARIF || format == REPORT_FORMAT_GITLAB) {
        rc = report__write_json_statistics(c, k, &b, out, err);
    } else {
        for (size_t i = 0; i < k && rc == ST_OK; i++)
            rc = buf_printf(&b, "%*zu\t%s\n", w, c[i].count, c[i].code);
        rc = rc != ST_OK ? st_fail(err, rc, "report: cannot format: %s", st_strerror(rc))
                         : report__flush(&b, out, err);
    }
    buf_free(&b);
    st_free(c);
    return rc;
}

st_rc_t report_output(report_t *r, const report_output_t *o, FILE *out, size_t *n_diags,
                      size_t *n_files, st_err_t *err)
{
    FILE *f = out;
    report_format_t format = o->format;
    st_rc_t rc;

    if (o->output_file != NULL && (f = fopen(o->output_file, "w")) == NULL)
        return st_fail(err, ST_EIO, "cannot write %s: %s", o->output_file, strerror(errno));
    if (!o->format_given)
        format = isatty(fileno(f)) ? REPORT_FORMAT_FULL : REPORT_FORMAT_CONCISE;
    rc = report__write(r, format, o->statistics, &o->source, f, n_diags, n_files, err);
    if (f != out && fclose(f) != 0 && rc == ST_OK)
        rc = ST_EIO;
    if (rc == ST_EIO && f != out)
        st_fail(err, ST_EIO, "cannot write %s", o->output_file);
    return rc;
}
