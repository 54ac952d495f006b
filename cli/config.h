/* config.h - configuration files: found, read, merged with the command
 * line, and asked per file.
 *
 * Found as ruff finds its own: the closest directory at or above a file
 * that holds `.strata.toml`, `strata.toml` or a `pyproject.toml` with a
 * `[tool.strata]` table (first of those three wins) governs that file, so
 * each project of a monorepo keeps its settings. `--config FILE` makes one
 * file govern everything, `--isolated` none. Keys are named as ruff names
 * them; `extend` reads a base file first. Settings fall in two kinds:
 * per file (rule selection, per-file-ignores, exclude), asked by the walk
 * and the report for every path, answered from a cache per directory so a
 * big tree costs one lookup per directory; and per run (jobs, cache, output
 * format, target version...), taken from the file governing the first PATH
 * where no flag was given. Rule selection only filters the report, so it
 * never changes what is scanned or checked, nor any cache key.
 *
 * An unknown key, a value of the wrong kind, an `extend` cycle, two target
 * versions in one run, or broken TOML is an error naming the file, line
 * and column; the caller exits 2. Not thread-safe, except as said. */
#ifndef STRATA_CLI_CONFIG_H
#define STRATA_CLI_CONFIG_H

#include "cli/options.h"
#include "common/status.h"

#include <stdbool.h>
#include <stdio.h>

typedef struct config_set config_set_t;

/* A new set for the run that cli describes (borrowed: it must outlive the
 * set), honouring cli's --config and --isolated; --config's file is read
 * now. ST_EINVAL: that file is bad (err says where); ST_ENOMEM. */
st_rc_t config_set_new(const cli_check_t *cli, config_set_t **out, st_err_t *err);

/* Frees the set and every file read; sets *self_p NULL; accepts NULL. */
void config_set_destroy(config_set_t **self_p);

/* Applies the per-run settings of the configuration governing cli's first
 * PATH to every field of cli whose flag was not given (rule selection
 * stays per file). ST_EINVAL: that configuration is bad. */
st_rc_t config_apply_run(config_set_t *self, cli_check_t *cli, st_err_t *err);

/* Finds (and reads, once per directory) the configuration governing path
 * (a file, or a directory's contents when is_dir). ST_EINVAL: a bad file,
 * or a target version other than the run's; err names it. */
st_rc_t config_lookup(config_set_t *self, const char *path, bool is_dir, st_err_t *err);

/* For walk_opts_t's skip hook: true when path (named name) matches the
 * `exclude` or `extend-exclude` of the configuration governing it. An error
 * reading a configuration is kept for config_error and the path is not
 * skipped. ctx is the set. */
bool config_skip(void *ctx, const char *path, const char *name);

/* For the report's filter: true when code is reported in the file at path
 * under the configuration governing it and the command line. ctx is the
 * set. Called under the report's lock: one caller at a time. */
bool config_enabled(void *ctx, const char *path, const char *code);

/* The first error config_skip or config_enabled met, as ST_EINVAL with its
 * message; ST_OK when none. */
st_rc_t config_error(const config_set_t *self, st_err_t *err);

/* True when some configuration file governs something in this run (so the
 * report needs the per-file filter). */
bool config_any(const config_set_t *self);

/* Prints the effective settings governing path, one `key = value  # from`
 * line each, in a fixed order; from is "default", FILE:LINE, or the flag.
 * ST_EINVAL: a bad configuration; ST_EIO when out fails. */
st_rc_t config_show(config_set_t *self, const char *path, FILE *out, st_err_t *err);

/* The usage text of `strata config`, static. */
const char *config_usage(void);

#endif
