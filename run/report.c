/* report.c - collecting, sorting and formatting the diagnostics of a check.
 *
 * Entries are small fixed records in one heap array; their strings are
 * copied into an arena the report owns, so a run with a million diagnostics
 * makes a handful of allocations and frees them in one go. A mutex guards
 * both: jobs add a whole file's diagnostics per call, so the lock is taken
 * once per file, not once per diagnostic. The formats are written by
 * run/report_formats.c and its siblings (run/report_int.h). */
#include "run/report.h"
#include "run/report_int.h"

#include "common/alloc.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

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

/* Sorts the entries, writes them with write, and counts the files. */
st_rc_t report__write(report_t *self, report_format_t format, bool statistics,
                      const report_source_check_t *check, FILE *out, size_t *n_diags,
                      size_t *n_files, st_err_t *err)
{
    st_rc_t rc;
    size_t files = 0;

    if (self->n > 0)
        qsort(self->items, self->n, sizeof self->items[0], cmp_entries);
    rc = statistics ? report__write_statistics(self->items, self->n, format, out, err)
                    : report__write_items(self->items, self->n, format, check, out, err);
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

st_rc_t report_write(report_t *self, report_format_t format, FILE *out, size_t *n_diags,
                     size_t *n_files, st_err_t *err)
{
    return report__write(self, format, false, NULL, out, n_diags, n_files, err);
}

st_rc_t report_write_statistics(report_t *self, report_format_t format, FILE *out, size_t *n_diags,
                                size_t *n_files, st_err_t *err)
{
    return report__write(self, format, true, NULL, out, n_diags, n_files, err);
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
