/* report.h - the diagnostics of a check, collected, sorted and printed.
 *
 * Jobs finish in any order on any thread, so the report copies what they
 * send (a job's memory goes back to its pool when the job ends) and sorts
 * it by (path, line, col, code, message) before printing: the output is the
 * same bytes whatever the number of threads or the scheduling. Paths compare
 * byte-wise. Rule selection (--select/--ignore) is applied as diagnostics
 * arrive, so filtered ones cost no memory.
 *
 * Formats (run/report_formats.h names them): the flake8/ruff line
 * `path:line:col: CODE message` (concise, formerly text), the same with
 * the source line and a caret (full), grouped per file, pylint's line,
 * GitHub workflow commands, and the documents CI tools read: JSON, JSON
 * lines, SARIF 2.1.0, GitLab Code Quality (all through jansson) and JUnit
 * XML (through libxml2). Paths are bytes, not necessarily UTF-8; the JSON
 * and XML writers replace each byte that is not part of valid UTF-8 with
 * U+FFFD so the documents stay valid. */
#ifndef STRATA_RUN_REPORT_H
#define STRATA_RUN_REPORT_H

#include "common/buf.h"
#include "common/status.h"
#include "worker/python/scan.h"

#include <stdio.h>

typedef struct report report_t;

/* The output formats of a report (DOT: the graph of `strata graph`). */
typedef enum {
    REPORT_FORMAT_TEXT = 0,
    REPORT_FORMAT_JSON = 1,
    REPORT_FORMAT_DOT = 2,
    REPORT_FORMAT_SARIF = 3,
    REPORT_FORMAT_FULL = 4,
    REPORT_FORMAT_GROUPED = 5,
    REPORT_FORMAT_JSON_LINES = 6,
    REPORT_FORMAT_GITHUB = 7,
    REPORT_FORMAT_GITLAB = 8,
    REPORT_FORMAT_JUNIT = 9,
    REPORT_FORMAT_PYLINT = 10
} report_format_t;

/* concise is the format once named text: the same bytes. */
#define REPORT_FORMAT_CONCISE REPORT_FORMAT_TEXT

/* Which rule codes are reported: prefixes from --select and --ignore. An
 * empty select list means every code (as `--select ALL`). "ALL" is stored as
 * the empty prefix. Strings are owned by the cli_check_t holding the rules. */
typedef struct {
    const char **select;
    size_t n_select;
    const char **ignore;
    size_t n_ignore;
} report_rules_t;

/* True when `code` is reported under `rules`: some select prefix matches it
 * and no ignore prefix at least as long as the longest matching select
 * prefix does (ruff's rule). Pure; thread-safe. */
bool report_rules_enabled(const report_rules_t *rules, const char *code);

/* A new, empty report keeping the codes enabled by rules (borrowed: they
 * must outlive the report). NULL when out of memory. Caller owns it. */
report_t *report_new(const report_rules_t *rules);

/* Replaces the report's rules by a filter: enabled(ctx, path, code) says
 * whether code is kept in the file at path (a configuration per directory,
 * per-file-ignores). Called under the report's lock, one call at a time.
 * Set before the first report_add. */
typedef bool (*report_filter_fn)(void *ctx, const char *path, const char *code);
void report_set_filter(report_t *self, report_filter_fn enabled, void *ctx);

/* Frees the report and everything copied into it; sets *self_p to NULL;
 * accepts NULL. */
void report_destroy(report_t **self_p);

/* Copies the diagnostics diags[0..n) of the file at path (strings and all)
 * into the report, dropping codes the rules disable. ST_ENOMEM or ST_ELIMIT:
 * nothing of this call was kept. Thread-safe (one lock per call). */
st_rc_t report_add(report_t *self, const char *path, const scan_diag_t *diags, size_t n,
                   st_err_t *err);

/* Sorts and writes every kept diagnostic to out in the format. Sets
 * *n_diags and *n_files (files with at least one). ST_EIO when out fails
 * (full disk, closed pipe); ST_ENOMEM. Call once, after every report_add. */
st_rc_t report_write(report_t *self, report_format_t format, FILE *out, size_t *n_diags,
                     size_t *n_files, st_err_t *err);

/* Like report_write, but writes the number of diagnostics per code, most
 * frequent first (ties by code), instead of the diagnostics: a JSON array of
 * {"code", "count"} for the JSON formats, else `COUNT<TAB>CODE` lines. */
st_rc_t report_write_statistics(report_t *self, report_format_t format, FILE *out, size_t *n_diags,
                                size_t *n_files, st_err_t *err);

/* Calls fn once per file with at least one kept diagnostic, in the order
 * report_write prints them (sorted by path, then line, col, code, message),
 * with that file's diagnostics (borrowed for the call). Stops at the first
 * error fn returns and returns it; ST_ENOMEM. Call after every report_add
 * (it sorts). */
typedef st_rc_t (*report_each_fn)(void *ctx, const char *path, const scan_diag_t *diags, size_t n,
                                  st_err_t *err);
st_rc_t report_each(report_t *self, report_each_fn fn, void *ctx, st_err_t *err);

/* Writes "Found N diagnostics in M files (K files checked)" (singular where
 * a count is 1) and a newline to out. */
void report_write_summary(FILE *out, size_t n_diags, size_t n_files, size_t n_checked);

/* The same when a cache was used: "... (K files checked, C from cache)". */
void report_write_summary_cached(FILE *out, size_t n_diags, size_t n_files, size_t n_checked,
                                 size_t n_cached);

/* Appends s[0..len) to b as a JSON string literal (jansson's encoding),
 * quotes included: '"', '\\' and control bytes escaped, valid UTF-8 copied,
 * every byte of an invalid sequence (overlong, surrogate, beyond U+10FFFF,
 * truncated) as U+FFFD. Errors as buf_append, ST_ENOMEM from jansson; on
 * error b may hold part of the string. */
st_rc_t report_json_string(buf_t *b, const char *s, size_t len);

#endif
