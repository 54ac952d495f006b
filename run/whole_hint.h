/* whole_hint.h - the whole-run key an invocation used last.
 *
 * An unchanged re-check ends in one lookup of the whole run's record
 * (project.h), whose key needs every file's digest: it comes after the
 * walk, and then the record is read and every library file it names is
 * stat'ed (about 1,300 for what the standard library reaches: a quarter
 * of a warm run). A hint, kept in the stat index's directory of the cache
 * under a digest of the invocation (working directory, path arguments,
 * roots), names the key the same invocation's last run found or stored,
 * so that a check can read that record ahead on the thread that opens the
 * cache, while the files are walked (project_ahead_read).
 *
 * A hint is only a guess: the record is used only under the run's own key
 * (project_keyed compares them), so a stale, foreign or corrupt hint costs
 * a wasted read on the other thread, never a wrong answer. The file is
 * untrusted input; one that does not parse is no hint. */
#ifndef STRATA_RUN_WHOLE_HINT_H
#define STRATA_RUN_WHOLE_HINT_H

#include "common/digest.h"
#include "common/status.h"

#include <stdbool.h>
#include <stddef.h>

/* The invocation's id: the working directory, the path arguments and the
 * roots, in order. ST_ENOMEM. */
st_rc_t whole_hint_id(const char *const *args, size_t n_args, const char *const *roots,
                      size_t n_roots, digest_t *out);

/* The key the hint of id in dir (the cache directory) names: true, *key
 * set; false when there is none or it does not parse. */
bool whole_hint_load(const char *dir, const digest_t *id, digest_t *key);

/* Makes key the hint of id in dir. ST_EIO naming the file. */
st_rc_t whole_hint_save(const char *dir, const digest_t *id, const digest_t *key, st_err_t *err);

#endif
