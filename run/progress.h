/* progress.h - the progress line of a run on a terminal.
 *
 * A progress_t holds a run's counters (files, scans, cache hits, check
 * jobs, workers), updated from any thread with atomic adds. With a
 * terminal, a thread redraws one line on it every PROGRESS_TICK_MS once
 * the run has lasted PROGRESS_DELAY_MS (a quick run draws nothing), and
 * progress_destroy erases the line, so that the summary and the
 * diagnostics print on a clean screen. Without one, it only counts (the
 * coordinator daemon sends the counts to its clients).
 *
 * Every function accepts NULL for the progress_t and then does nothing:
 * callers need not test whether a line is shown. */
#ifndef STRATA_RUN_PROGRESS_H
#define STRATA_RUN_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define PROGRESS_TICK_MS 100
#define PROGRESS_DELAY_MS 200

typedef enum {
    PROGRESS_FILES,   /* files to scan */
    PROGRESS_SCANNED, /* of which have their results (scanned or cached) */
    PROGRESS_CACHED,  /* of which came from the cache */
    PROGRESS_COMPS,   /* components of the import graph to check */
    PROGRESS_CHECKED, /* of which are done */
    PROGRESS_WORKERS, /* worker processes connected */
    PROGRESS_QUEUED,  /* batches ahead of this one at a coordinator */
    PROGRESS_N
} progress_counter_t;

typedef struct progress progress_t;

/* True when a progress line belongs on f: a terminal, not --quiet, and
 * TERM is not "dumb". */
bool progress_wanted(FILE *f, bool quiet);

/* A progress line drawn on tty (NULL: counters only). NULL when out of
 * memory (the run goes on without one). */
progress_t *progress_new(FILE *tty, const char *label);

/* Stops the drawing thread and erases the line. */
void progress_destroy(progress_t **self_p);

/* Erases the line (it is drawn again at the next tick): call it before
 * writing a message to the same terminal. */
void progress_clear(progress_t *self);

void progress_add(progress_t *self, progress_counter_t c, size_t n);
void progress_set(progress_t *self, progress_counter_t c, size_t n);
size_t progress_get(const progress_t *self, progress_counter_t c);

/* The line for the counts v (without "\r" or erasing), at most cap - 1
 * bytes, for a terminal width columns wide (0: 80). Pure. */
void progress_format(const char *label, const size_t v[PROGRESS_N], unsigned width, char *out,
                     size_t cap);

#endif
