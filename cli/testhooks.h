/* testhooks.h - the test hooks of the strata-test binary.
 *
 * The end-to-end and dispatch tests need a worker that crashes or hangs on
 * a chosen job, and check jobs started in a shuffled order; environment
 * variables ask for those. Only strata-test, built from the same sources
 * with STRATA_TEST_HOOKS=1 on testhooks.c alone, reads them: in the release
 * strata every hook is off whatever the environment says, and the
 * variables' names are not in the binary (a test checks). */
#ifndef STRATA_CLI_TESTHOOKS_H
#define STRATA_CLI_TESTHOOKS_H

/* The seed that shuffles the order of the ready check jobs; 0: none. */
unsigned testhooks_shuffle_seed(void);

/* A worker aborts on a job whose input contains this (a poison pill);
 * NULL: none. Borrowed from the environment. */
const char *testhooks_crash_on(void);

/* A worker's job hangs when its input contains this (a stuck job); NULL:
 * none. Borrowed from the environment. */
const char *testhooks_hang_on(void);

#endif
