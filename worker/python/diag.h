/* diag.h - diagnostics of one scan, as the analysis produces them.
 *
 * A diagnostic is a position, a code and a message, all in the scan's arena;
 * the list grows in the arena too, so producing one costs no malloc. The
 * scan sorts, filters (# noqa) and encodes the list into its result. */
#ifndef STRATA_DIAG_H
#define STRATA_DIAG_H

#include "common/arena.h"
#include "common/status.h"

#include <stdint.h>

typedef struct {
    uint32_t line;    /* 1-based */
    uint32_t col;     /* 1-based, in bytes of the UTF-8 text */
    const char *code; /* static string such as "F401" */
    const char *msg;  /* in the arena */
    uint32_t name;    /* name id the diagnostic is about (F821), or UINT32_MAX */
    uint32_t dead;    /* withdrawn later (a `global` made the name defined) */
} diag_t;

typedef struct {
    arena_t *arena;
    diag_t *items;
    size_t count;
    size_t cap;
    bool oom; /* an allocation failed: the list is incomplete */
} diag_list_t;

void diag_list_init(diag_list_t *self, arena_t *a);

/* Appends a diagnostic with a printf-formatted message; on exhaustion sets
 * self->oom and drops it (the scan then fails its job with ST_ENOMEM). */
diag_t *diag_add(diag_list_t *self, uint32_t line, uint32_t col, const char *code, const char *fmt,
                 ...) __attribute__((format(printf, 5, 6)));

/* Sorts by (line, col, code, message) and drops withdrawn entries. */
void diag_list_sort(diag_list_t *self);

#endif
