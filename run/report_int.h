/* report_int.h - what the report's writers share with the report model
 * (run/report.c): the sorted entries they print and the helpers every
 * family of formats uses (clean UTF-8, the source line of a diagnostic).
 *
 * The writers live in their own files, one per family (report_formats.c:
 * the line formats; report_json.c: the JSON documents through jansson;
 * report_junit.c: JUnit XML through libxml2), so report.c keeps the
 * collecting, sorting and rule selection. Internal to run/. */
#ifndef STRATA_RUN_REPORT_INT_H
#define STRATA_RUN_REPORT_INT_H

#include "run/report.h"
#include "run/report_formats.h"

#include <stdint.h>

/* One diagnostic as the report keeps it; strings live in its arena. */
typedef struct {
    const char *path;
    const char *code;
    const char *message;
    uint32_t line;
    uint32_t col;
} report_entry_t;

/* report_write, or report_write_statistics, with the source lines checked
 * by check (NULL: not checked). */
st_rc_t report__write(report_t *self, report_format_t format, bool statistics,
                      const report_source_check_t *check, FILE *out, size_t *n_diags,
                      size_t *n_files, st_err_t *err);

/* Writes items[0..n) (sorted by path, line, col, code, message) in format to
 * out, source lines checked by check (NULL: not). ST_EIO when out fails;
 * ST_ENOMEM; ST_EINVAL for DOT (not a report format). */
st_rc_t report__write_items(const report_entry_t *items, size_t n, report_format_t format,
                            const report_source_check_t *check, FILE *out, st_err_t *err);

/* The counts per code of items[0..n), most frequent first, as text or (for
 * the JSON formats) a JSON array. */
st_rc_t report__write_statistics(const report_entry_t *items, size_t n, report_format_t format,
                                 FILE *out, st_err_t *err);

/* The JSON family (report_json.c). */
st_rc_t report__write_json(const report_entry_t *items, size_t n, bool lines, buf_t *b, FILE *out,
                           st_err_t *err);
st_rc_t report__write_sarif(const report_entry_t *items, size_t n, buf_t *b, FILE *out,
                            st_err_t *err);
st_rc_t report__write_gitlab(const report_entry_t *items, size_t n,
                             const report_source_check_t *check, buf_t *b, FILE *out,
                             st_err_t *err);
typedef struct {
    const char *code;
    size_t count;
} report_code_count_t;
st_rc_t report__write_json_statistics(const report_code_count_t *counts, size_t n, buf_t *b,
                                      FILE *out, st_err_t *err);

/* JUnit XML (report_junit.c). */
st_rc_t report__write_junit(const report_entry_t *items, size_t n, FILE *out, st_err_t *err);

/* Appends s[0..len) to b as valid UTF-8: each byte that is not part of a
 * valid sequence (RFC 3629) becomes U+FFFD; with xml, so do the control
 * characters XML 1.0 forbids (all below 0x20 but tab, newline, return).
 * Errors as buf_append. */
st_rc_t report__utf8_clean(buf_t *b, const char *s, size_t len, bool xml);

/* Writes and empties b; ST_EIO when out fails. */
st_rc_t report__flush(buf_t *b, FILE *out, st_err_t *err);

/* The text of source lines, read from the files when the report is
 * written (the scans have long freed theirs). A file that is gone,
 * unreadable, larger than 4 GiB, or changed so that the line no longer
 * exists or is shorter than the column has no line: NULL. */
typedef struct {
    buf_t path;                         /* the file loaded; empty: none yet */
    buf_t text;                         /* its bytes */
    bool readable;                      /* text holds the file, unchanged */
    const report_source_check_t *check; /* NULL: not checked */
    uint32_t at_line;                   /* the line starting at offset at */
    size_t at;
} report_source_t;

/* An empty source cache whose files are checked by check (borrowed; NULL:
 * not checked); free it with report__source_free. */
void report__source_init(report_source_t *s, const report_source_check_t *check);

/* The text of line (1-based) of path without its line ending, *len its
 * length; borrowed until the next call or report__source_free. NULL when
 * there is no such line or col (1-based, bytes) lies beyond its end + 1. */
const char *report__source_line(report_source_t *s, const char *path, uint32_t line, uint32_t col,
                                size_t *len);
void report__source_free(report_source_t *s);

#endif
