/* prep.h - what a check opens besides its files: the cache and the Python
 * environment (its interpreter's answer, the finder of library modules,
 * the environment's key), and the whole-run record the same invocation
 * used last (read ahead, run/whole_hint.h). Each costs a few milliseconds,
 * which counts in a re-check the cache answers whole, and none depends on
 * the files: so they are opened on a second thread while the files are
 * walked. What
 * they would print (warnings, a --python that does not work) is kept and
 * printed by prep_finish, so the output does not depend on which ends
 * first; a check that stops before (a usage error in the walk) prints
 * none of it, as when they were opened after the walk. */
#ifndef STRATA_CLI_PREP_H
#define STRATA_CLI_PREP_H

#include "cli/options.h"
#include "common/cas/cas.h"
#include "run/env.h"
#include "run/libfind.h"
#include "run/project.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

typedef struct {
    /* after prep_finish; owned, freed by prep_free (the caller may close
     * the cache earlier with cas_close(&prep.cache)) */
    cas_t *cache;  /* NULL: --no-cache, or it could not be opened (said) */
    env_t env;     /* zero with --no-environment */
    libfind_t *lf; /* NULL: no environment, or no finder (said) */
    char *env_key; /* env_key_text; NULL without an environment */
    /* the whole-run hint of this invocation (run/whole_hint.h), and the
     * record it names read ahead (ahead.value.ptr NULL: none) */
    bool hint_id_ok; /* hint_id computed: a cache on disk */
    bool hinted;     /* hint_key read from the hint */
    digest_t hint_id, hint_key;
    project_ahead_t ahead;
    arena_t *ahead_arena; /* ahead's bytes */
    /* private */
    const cli_check_t *cfg_;
    bool env_ok_, threaded_, finished_;
    pthread_t thread_;
    FILE *msgs_;
    char *text_;
    size_t len_;
} prep_t;

/* Starts opening what cfg names (its per-run settings final: after the
 * configuration's were applied); cfg is borrowed until prep_finish or
 * prep_free. Without a thread (none could start) prep_finish does it. */
void prep_start(prep_t *p, const cli_check_t *cfg);

/* Waits for it, prints what it said on err; false when the check must
 * stop: a --python that does not work, or out of memory (said). */
bool prep_finish(prep_t *p, FILE *err);

/* Frees everything (waits first when prep_finish was not called: what it
 * said is dropped). Accepts a zeroed one. */
void prep_free(prep_t *p);

/* The user's shared cache of library scans (run.h's shared_dir) for cfg:
 * $STRATA_SHARED_CACHE_DIR when set (empty: none), else
 * $XDG_CACHE_HOME/strata, else $HOME/.cache/strata; NULL with --no-cache,
 * a memory-only cache, or no home. Borrowed (the environment, or static).
 * Reads the environment: call before starting threads. */
const char *prep_shared_dir(const cli_check_t *cfg);

/* The cache cfg names, or NULL: --no-cache, or it could not be opened (a
 * warning on warn; the run goes on without). */
cas_t *prep_open_cache(const cli_check_t *cfg, FILE *warn);

#endif
