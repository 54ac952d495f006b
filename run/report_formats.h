/* report_formats.h - the names of the report's output formats.
 *
 * One parser for the name of a format, so that the command line
 * (--output-format and its alias --format) and the configuration file's
 * `output-format` key accept the same words and say the same thing about a
 * bad one. The writers themselves are behind report_write (run/report.h). */
#ifndef STRATA_RUN_REPORT_FORMATS_H
#define STRATA_RUN_REPORT_FORMATS_H

#include "run/report.h"

/* Reads a format name: full, concise, grouped, json, json-lines, sarif,
 * github, gitlab, junit, pylint, and text (the old name of concise).
 * ST_OK: *out set. ST_EINVAL: *out untouched, err->msg reads "invalid
 * output format 'NAME' (expected full, concise, ...)". Pure; thread-safe. */
st_rc_t report_format_parse(const char *name, report_format_t *out, st_err_t *err);

/* The valid names as a list for messages and usage: "full, concise, ...,
 * junit or pylint". Static. */
const char *report_format_names(void);

/* The name of a report format ("concise" for text); "dot" for DOT. */
const char *report_format_name(report_format_t format);

/* Whether text[0..len) is still the content of path that its diagnostics
 * were found in: full and gitlab read source lines back from the files when
 * the report is written, and a file that changed since shows none. */
typedef struct {
    bool (*same)(void *ctx, const char *path, const uint8_t *text, size_t len);
    void *ctx;
} report_source_check_t;

/* Where and how a report is written: the check options that say it. */
typedef struct {
    report_format_t format;
    bool format_given;            /* false: full when the report goes to a terminal, else concise */
    bool statistics;              /* counts per code instead of the diagnostics */
    const char *output_file;      /* NULL: the stream passed to report_output */
    report_source_check_t source; /* same NULL: any content is taken as unchanged */
} report_output_t;

/* Writes r as o says: to o->output_file (created or truncated) or else to
 * out, in o->format or the default, the diagnostics or the statistics.
 * Sets *n_diags and *n_files as report_write. ST_EIO with a message naming
 * the file when it cannot be opened or written; the errors of
 * report_write. Call once, after every report_add. */
st_rc_t report_output(report_t *r, const report_output_t *o, FILE *out, size_t *n_diags,
                      size_t *n_files, st_err_t *err);

#endif
