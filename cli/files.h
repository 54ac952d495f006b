/* files.h - the files of `strata check` and `strata graph`: the walk of the
 * arguments, the project's other files, standard input, --show-files.
 *
 * Kept apart from main.c so that what a check reads and what it reports
 * is decided in one place: the arguments' walk (run/walk.h: excludes and
 * git's ignore rules) names the files to report; for a check, the
 * project's other files under its roots join as context (run/scope.h);
 * `-` (or --stdin-filename PATH) puts standard input in place of a file. */
#ifndef STRATA_CLI_FILES_H
#define STRATA_CLI_FILES_H

#include "cli/config.h"
#include "cli/options.h"
#include "common/status.h"
#include "run/walk.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct {
    walk_list_t list; /* named files and context (entry.context), sorted */
    size_t n_named;   /* files not context */
    /* the path arguments module names are found from (scheduler/resolve.h):
     * cfg's, or standard input's name (borrowed from cfg or this struct:
     * do not copy it) */
    const char *const *args;
    size_t n_args;
    /* standard input, when the check reads it: the bytes (in the list's
     * arena; at most the file size limit + 1, so that a longer one gets its
     * E902) and the name they are checked as (a path of list.files) */
    bool has_stdin;
    const char *stdin_path;
    const uint8_t *stdin_data;
    size_t stdin_len;
    uint64_t stamped_since_ns; /* the wall clock before the walk's first stat */
} cli_files_t;

/* The files of cfg's paths; with context, the project's other files too
 * (a check; not for strata graph). Standard input is read when a path is
 * `-` or cfg->stdin_filename is set (then the only path may be `-` or the
 * default `.`). ST_EINVAL: a usage error (err says which); ST_EIO: standard
 * input could not be read; ST_ENOMEM. conf (may be NULL): the
 * configuration files, whose exclude and extend-exclude leave files out of
 * both walks. Free with cli_files_free. */
st_rc_t cli_files_gather(const cli_check_t *cfg, config_set_t *conf, bool context, cli_files_t *out,
                         st_err_t *err);

/* --show-files: the named files, one a line, sorted. */
void cli_files_show(const cli_files_t *files, FILE *out);

/* Frees; accepts a zeroed one. */
void cli_files_free(cli_files_t *files);

#endif
