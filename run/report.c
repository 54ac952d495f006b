/* report.c - collecting, sorting and formatting the diagnostics of a check.
 *
 * Entries are small fixed records in one heap array; their strings are
 * copied into an arena the report owns, so a run with a million diagnostics
 * makes a handful of allocations and frees them in one go. A mutex guards
 * both: jobs add a whole file's diagnostics per call, so the lock is taken
 * once per file, not once per diagnostic. */
#include "run/report.h"

#include "worker/jobkey.h"

#include "common/alloc.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *path;
    const char *code;
    const char *message;
    uint32_t line;
    uint32_t col;
} report_entry_t;

struct report {
    pthread_mutex_t lock;
    const report_rules_t *rules;
    report_filter_fn filter; /* NULL: rules decide */
    void *filter_ctx;
    arena_t *arena;
    report_entry_t *items;
    size_t n;
    size_t cap;
};

report_t *report_new(const report_rules_t *rules)
{
    report_t *self = st_calloc(1, sizeof *self);

    if (self == NULL)
        return NULL;
    if ((self->arena = arena_new(0)) == NULL || pthread_mutex_init(&self->lock, NULL) != 0) {
        arena_destroy(&self->arena);
        st_free(self);
        return NULL;
    }
    self->rules = rules;
    return self;
}

void report_set_filter(report_t *self, report_filter_fn enabled, void *ctx)
{
    self->filter = enabled;
    self->filter_ctx = ctx;
}

void report_destroy(report_t **self_p)
{
    report_t *self;

    if (self_p == NULL || (self = *self_p) == NULL)
        return;
    pthread_mutex_destroy(&self->lock);
    arena_destroy(&self->arena);
    st_free(self->items);
    st_free(self);
    *self_p = NULL;
}

/* Room for extra more entries. Called with the lock held. */
static st_rc_t reserve(report_t *self, size_t extra, st_err_t *err)
{
    size_t need, cap, bytes;
    report_entry_t *grown;

    if (!st_add_size(self->n, extra, &need))
        return st_fail(err, ST_ELIMIT, "report: too many diagnostics");
    if (need <= self->cap)
        return ST_OK;
    cap = self->cap == 0 ? 256 : self->cap;
    while (cap < need)
        if (!st_mul_size(cap, 2, &cap))
            return st_fail(err, ST_ELIMIT, "report: too many diagnostics");
    if (!st_mul_size(cap, sizeof *grown, &bytes))
        return st_fail(err, ST_ELIMIT, "report: too many diagnostics");
    if ((grown = st_realloc(self->items, bytes)) == NULL)
        return st_fail(err, ST_ENOMEM, "report: out of memory");
    self->items = grown;
    self->cap = cap;
    return ST_OK;
}

static char *copy_str(arena_t *a, const char *s)
{
    return arena_strndup(a, s, strlen(s));
}

/* Copies the enabled diagnostics; called with the lock held. Entries are
 * only counted (self->n) once all of them are copied. */
static st_rc_t add_locked(report_t *self, const char *path, const scan_diag_t *diags, size_t n,
                          st_err_t *err)
{
    const char *path_copy = NULL;
    size_t kept = 0;
    st_rc_t rc;

    if ((rc = reserve(self, n, err)) != ST_OK)
        return rc;
    for (size_t i = 0; i < n; i++) {
        report_entry_t *e = &self->items[self->n + kept];

        if (self->filter != NULL ? !self->filter(self->filter_ctx, path, diags[i].code)
                                 : !report_rules_enabled(self->rules, diags[i].code))
            continue;
        if (path_copy == NULL && (path_copy = copy_str(self->arena, path)) == NULL)
            return st_fail(err, ST_ENOMEM, "report: out of memory");
        e->path = path_copy;
        e->code = copy_str(self->arena, diags[i].code);
        e->message = copy_str(self->arena, diags[i].message);
        if (e->code == NULL || e->message == NULL)
            return st_fail(err, ST_ENOMEM, "report: out of memory");
        e->line = diags[i].line;
        e->col = diags[i].col;
        kept++;
    }
    self->n += kept;
    return ST_OK;
}

st_rc_t report_add(report_t *self, const char *path, const scan_diag_t *diags, size_t n,
                   st_err_t *err)
{
    st_rc_t rc;

    if (n == 0)
        return ST_OK;
    pthread_mutex_lock(&self->lock);
    rc = add_locked(self, path, diags, n, err);
    pthread_mutex_unlock(&self->lock);
    return rc;
}

static int cmp_u32(uint32_t a, uint32_t b)
{
    return a < b ? -1 : a > b;
}

/* (path, line, col, code, message): the message last, so that the order is
 * total and the output never depends on which thread added first. */
static int cmp_entries(const void *pa, const void *pb)
{
    const report_entry_t *a = pa, *b = pb;
    int c;

    if ((c = strcmp(a->path, b->path)) != 0)
        return c;
    if ((c = cmp_u32(a->line, b->line)) != 0)
        return c;
    if ((c = cmp_u32(a->col, b->col)) != 0)
        return c;
    if ((c = strcmp(a->code, b->code)) != 0)
        return c;
    return strcmp(a->message, b->message);
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

/* The JSON escape of a byte below 0x80 that needs one, or NULL. */
static const char *json_escape(uint8_t c, char tmp[8])
{
    switch (c) {
    case '"':
        return "\\\"";
    case '\\':
        return "\\\\";
    case '\n':
        return "\\n";
    case '\r':
        return "\\r";
    case '\t':
        return "\\t";
    case '\b':
        return "\\b";
    case '\f':
        return "\\f";
    default:
        break;
    }
    if (c >= 0x20)
        return NULL;
    snprintf(tmp, 8, "\\u%04x", c);
    return tmp;
}

st_rc_t report_json_string(buf_t *b, const char *s, size_t len)
{
    const uint8_t *p = (const uint8_t *)s, *end = p + len;
    st_rc_t rc = buf_append_byte(b, '"');

    while (rc == ST_OK && p < end) {
        size_t n = utf8_len(p, (size_t)(end - p));
        char tmp[8];
        const char *esc;

        if (n == 0) {
            rc = buf_append(b, "\\ufffd", 6);
            p++;
        } else if (n == 1 && (esc = json_escape(*p, tmp)) != NULL) {
            rc = buf_append(b, esc, strlen(esc));
            p++;
        } else {
            rc = buf_append(b, p, n);
            p += n;
        }
    }
    return rc != ST_OK ? rc : buf_append_byte(b, '"');
}

/* Appends one entry as a text line or a JSON object (without separator). */
static st_rc_t format_entry(buf_t *b, report_format_t format, const report_entry_t *e)
{
    st_rc_t rc;

    if (format == REPORT_FORMAT_TEXT)
        return buf_printf(b, "%s:%u:%u: %s %s\n", e->path, e->line, e->col, e->code, e->message);
    if ((rc = buf_append(b, "  {\"filename\": ", 15)) != ST_OK ||
        (rc = report_json_string(b, e->path, strlen(e->path))) != ST_OK ||
        (rc = buf_printf(b, ", \"line\": %u, \"column\": %u, \"code\": ", e->line, e->col)) !=
            ST_OK ||
        (rc = report_json_string(b, e->code, strlen(e->code))) != ST_OK ||
        (rc = buf_append(b, ", \"message\": ", 13)) != ST_OK ||
        (rc = report_json_string(b, e->message, strlen(e->message))) != ST_OK)
        return rc;
    return buf_append_byte(b, '}');
}

/* Writes and empties b; ST_EIO when out fails. */
static st_rc_t flush_buf(buf_t *b, FILE *out, st_err_t *err)
{
    if (b->len > 0 && fwrite(b->data, 1, b->len, out) != b->len)
        return st_fail(err, ST_EIO, "cannot write the report");
    buf_reset(b);
    return ST_OK;
}

/* A path as a SARIF artifact URI (a relative reference): bytes outside
 * RFC 3986's unreserved set and '/' are percent-encoded. */
static st_rc_t sarif_uri(buf_t *b, const char *path)
{
    static const char hex[] = "0123456789ABCDEF";
    st_rc_t rc = buf_append_byte(b, '"');

    for (const unsigned char *p = (const unsigned char *)path; *p != '\0' && rc == ST_OK; p++) {
        if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~' || *p == '/')
            rc = buf_append_byte(b, *p);
        else
            rc = buf_printf(b, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
    }
    return rc != ST_OK ? rc : buf_append_byte(b, '"');
}

static int cmp_codes(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* SARIF 2.1.0: one run, the distinct codes as rules, one result per entry
 * (E codes are errors, the others warnings). */
static st_rc_t write_sarif(const report_t *self, buf_t *b, FILE *out, st_err_t *err)
{
    const char **codes = st_calloc(self->n == 0 ? 1 : self->n, sizeof *codes);
    size_t n_codes = 0;
    st_rc_t rc;

    if (codes == NULL)
        return st_fail(err, ST_ENOMEM, "report: out of memory");
    for (size_t i = 0; i < self->n; i++)
        codes[n_codes++] = self->items[i].code;
    if (n_codes > 1)
        qsort(codes, n_codes, sizeof *codes, cmp_codes);
    rc = buf_printf(b,
                    "{\n  \"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\",\n"
                    "  \"version\": \"2.1.0\",\n  \"runs\": [{\n    \"tool\": {\"driver\": "
                    "{\"name\": \"strata\", \"version\": \"%s\", \"rules\": [",
                    STRATA_VERSION);
    for (size_t i = 0, k = 0; i < n_codes && rc == ST_OK; i++) {
        if (i > 0 && strcmp(codes[i], codes[i - 1]) == 0)
            continue;
        rc = buf_printf(b, "%s\n      {\"id\": ", k++ == 0 ? "" : ",");
        if (rc == ST_OK)
            rc = report_json_string(b, codes[i], strlen(codes[i]));
        if (rc == ST_OK)
            rc = buf_append_byte(b, '}');
    }
    st_free(codes);
    if (rc == ST_OK)
        rc = buf_printf(b, "]}},\n    \"results\": [");
    for (size_t i = 0; i < self->n && rc == ST_OK; i++) {
        const report_entry_t *e = &self->items[i];
        if ((rc = buf_printf(b, "%s\n      {\"ruleId\": ", i == 0 ? "" : ",")) != ST_OK ||
            (rc = report_json_string(b, e->code, strlen(e->code))) != ST_OK ||
            (rc = buf_printf(b, ", \"level\": \"%s\", \"message\": {\"text\": ",
                             e->code[0] == 'E' ? "error" : "warning")) != ST_OK ||
            (rc = report_json_string(b, e->message, strlen(e->message))) != ST_OK ||
            (rc = buf_printf(b, "%s",
                             "}, \"locations\": [{\"physicalLocation\": {\"artifactLocation\": "
                             "{\"uri\": ")) != ST_OK ||
            (rc = sarif_uri(b, e->path)) != ST_OK ||
            (rc = buf_printf(b, "}, \"region\": {\"startLine\": %u, \"startColumn\": %u}}}]}",
                             e->line, e->col)) != ST_OK)
            break;
        if (b->len >= 65536 && flush_buf(b, out, err) != ST_OK)
            return ST_EIO;
    }
    if (rc == ST_OK)
        rc = buf_printf(b, "%s", self->n > 0 ? "\n    ]\n  }]\n}\n" : "]\n  }]\n}\n");
    if (rc != ST_OK)
        return st_fail(err, rc, "report: cannot format: %s", st_strerror(rc));
    return flush_buf(b, out, err);
}

/* Formats every entry, flushing b every 64 KiB. */
static st_rc_t write_entries(const report_t *self, report_format_t format, buf_t *b, FILE *out,
                             st_err_t *err)
{
    if (format == REPORT_FORMAT_SARIF)
        return write_sarif(self, b, out, err);
    bool json = format == REPORT_FORMAT_JSON;
    st_rc_t rc = json ? buf_append(b, "[", 1) : ST_OK;

    for (size_t i = 0; i < self->n && rc == ST_OK; i++) {
        if (json)
            rc = buf_append(b, i == 0 ? "\n" : ",\n", i == 0 ? 1 : 2);
        if (rc == ST_OK)
            rc = format_entry(b, format, &self->items[i]);
        if (rc == ST_OK && b->len >= 65536 && flush_buf(b, out, err) != ST_OK)
            return ST_EIO;
    }
    if (rc == ST_OK && json)
        rc = buf_append(b, self->n > 0 ? "\n]\n" : "]\n", self->n > 0 ? 3 : 2);
    if (rc != ST_OK)
        return st_fail(err, rc, "report: cannot format: %s", st_strerror(rc));
    return flush_buf(b, out, err);
}

st_rc_t report_write(report_t *self, report_format_t format, FILE *out, size_t *n_diags,
                     size_t *n_files, st_err_t *err)
{
    buf_t b;
    st_rc_t rc;
    size_t files = 0;

    if (self->n > 0)
        qsort(self->items, self->n, sizeof self->items[0], cmp_entries);
    buf_init(&b);
    rc = write_entries(self, format, &b, out, err);
    buf_free(&b);
    if (rc == ST_OK && fflush(out) != 0)
        rc = st_fail(err, ST_EIO, "cannot write the report");
    if (rc != ST_OK)
        return rc;
    for (size_t i = 0; i < self->n; i++)
        if (i == 0 || strcmp(self->items[i].path, self->items[i - 1].path) != 0)
            files++;
    *n_diags = self->n;
    *n_files = files;
    return ST_OK;
}

st_rc_t report_each(report_t *self, report_each_fn fn, void *ctx, st_err_t *err)
{
    scan_diag_t *run = NULL;
    size_t cap = 0;
    st_rc_t rc = ST_OK;

    pthread_mutex_lock(&self->lock);
    if (self->n > 1)
        qsort(self->items, self->n, sizeof *self->items, cmp_entries);
    for (size_t i = 0, j; i < self->n && rc == ST_OK; i = j) {
        for (j = i + 1; j < self->n && strcmp(self->items[j].path, self->items[i].path) == 0; j++)
            ;
        if (j - i > cap) {
            scan_diag_t *grown = st_realloc(run, (j - i) * sizeof *run);
            if (grown == NULL) {
                rc = st_fail(err, ST_ENOMEM, "report: out of memory");
                break;
            }
            run = grown;
            cap = j - i;
        }
        for (size_t k = i; k < j; k++)
            run[k - i] = (scan_diag_t){.line = self->items[k].line,
                                       .col = self->items[k].col,
                                       .code = self->items[k].code,
                                       .message = self->items[k].message};
        rc = fn(ctx, self->items[i].path, run, j - i, err);
    }
    pthread_mutex_unlock(&self->lock);
    st_free(run);
    return rc;
}

void report_write_summary(FILE *out, size_t n_diags, size_t n_files, size_t n_checked)
{
    fprintf(out, "Found %zu diagnostic%s in %zu file%s (%zu file%s checked)\n", n_diags,
            n_diags == 1 ? "" : "s", n_files, n_files == 1 ? "" : "s", n_checked,
            n_checked == 1 ? "" : "s");
}

void report_write_summary_cached(FILE *out, size_t n_diags, size_t n_files, size_t n_checked,
                                 size_t n_cached)
{
    fprintf(out, "Found %zu diagnostic%s in %zu file%s (%zu file%s checked, %zu from cache)\n",
            n_diags, n_diags == 1 ? "" : "s", n_files, n_files == 1 ? "" : "s", n_checked,
            n_checked == 1 ? "" : "s", n_cached);
}

/* Length of the longest prefix in list that code starts with, or -1. */
static long longest_match(const char *const *list, size_t n, const char *code)
{
    long best = -1;

    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(list[i]);

        if ((long)len > best && strncmp(code, list[i], len) == 0)
            best = (long)len;
    }
    return best;
}

bool report_rules_enabled(const report_rules_t *rules, const char *code)
{
    long selected, ignored;

    selected = rules->n_select == 0 ? 0 : longest_match(rules->select, rules->n_select, code);
    if (selected < 0)
        return false;
    ignored = longest_match(rules->ignore, rules->n_ignore, code);
    return ignored < selected;
}
