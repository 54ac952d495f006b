/* prom.h - Prometheus's text exposition format (version 0.0.4), written
 * into a buf_t.
 *
 * The daemons' /metrics pages are this text: a `# HELP` and a `# TYPE`
 * line per metric family, then one sample per line, `name{label="v"}
 * value`. Prometheus parses it strictly (promtool check metrics lints it
 * further), so one writer owns the escaping of help texts and label
 * values, the rendering of numbers and the shape of a histogram (its
 * cumulative `_bucket{le=...}` lines ending with `+Inf`, `_sum`,
 * `_count`), and every page goes through it. Names are the caller's:
 * they must already be valid metric and label names, as in the tables
 * that call this; the writer does not check them. Nothing here knows
 * sockets or what the numbers mean. */
#ifndef STRATA_PROM_H
#define STRATA_PROM_H

#include "common/buf.h"
#include "common/status.h"

#include <stddef.h>
#include <stdint.h>

/* The Content-Type of a page in this format. */
#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

typedef enum { PROM_COUNTER, PROM_GAUGE, PROM_HISTOGRAM } prom_type_t;

/* A label of one sample: value is escaped (backslash, quote, newline). */
typedef struct {
    const char *name;
    const char *value;
} prom_label_t;

/* The `# HELP` and `# TYPE` lines of a family (help escaped). Call once
 * per family, before its samples. ST_ENOMEM (b may hold part of it). */
st_rc_t prom_family(buf_t *b, const char *name, prom_type_t type, const char *help);

/* One sample: name, the n labels (none when n is 0) and an integer value.
 * ST_ENOMEM. */
st_rc_t prom_sample(buf_t *b, const char *name, const prom_label_t *labels, size_t n,
                    uint64_t value);

/* One sample with a real value (NaN and infinities as Prometheus spells
 * them, others in the fewest digits, 15 or 17, that read back exactly). */
st_rc_t prom_sample_real(buf_t *b, const char *name, const prom_label_t *labels, size_t n,
                         double value);

/* A histogram family's samples (after prom_family(..., PROM_HISTOGRAM)):
 * n_bounds finite upper bounds (increasing, in the histogram's unit) with
 * the cumulative count of observations at most each, then +Inf with count,
 * name_sum with sum, name_count with count. A cumulative count above a later
 * one, or above count (a snapshot taken while others record), is clamped so
 * that the page stays monotonic, as Prometheus requires. ST_ENOMEM. */
st_rc_t prom_histogram(buf_t *b, const char *name, const double *bounds, const uint64_t *cumulative,
                       size_t n_bounds, uint64_t count, double sum);

#endif
