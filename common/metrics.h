/* metrics.h - counters and latency histograms, by name.
 *
 * The benches and the coordinator report throughput and p50/p95/p99
 * latencies of every stage (parse, scan, cache get/put, dispatch). Recording
 * must be cheap enough for hot paths and safe from any thread without a lock,
 * so counters are atomic integers and a histogram is a fixed array of atomic
 * buckets: log-linear (HDR-style), 64 buckets per power of two, so every
 * value from 1 ns to about 73 minutes is kept within 1.6% (reported within
 * 0.8%). A registry finds or creates a metric by name; callers look it up once
 * and keep the pointer. */
#ifndef STRATA_METRICS_H
#define STRATA_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct metrics_counter metrics_counter_t;
typedef struct metrics_hist metrics_hist_t;

typedef struct {
    uint64_t count;
    double mean;            /* exact (from the sum), 0 when empty */
    uint64_t min, max;      /* exact */
    uint64_t p50, p95, p99; /* within 0.8%, clamped to [min, max] */
} metrics_summary_t;

/* The counter named name, created (zero) on first use. Borrowed: lives until
 * exit. NULL when out of memory or name is NULL or empty; every function below
 * accepts a NULL metric (no-op, reads 0), so a failed registration loses the
 * metric, not the program. Thread-safe. */
metrics_counter_t *metrics_counter(const char *name);

/* Adds n. Lock-free; thread-safe. */
void metrics_counter_add(metrics_counter_t *c, uint64_t n);
uint64_t metrics_counter_get(const metrics_counter_t *c);

/* The histogram named name, created empty on first use; as metrics_counter. */
metrics_hist_t *metrics_hist(const char *name);

/* An unregistered histogram (for a local measurement); caller frees with
 * metrics_hist_destroy (which sets *h_p to NULL, accepts NULL). NULL when out
 * of memory. */
metrics_hist_t *metrics_hist_new(void);
void metrics_hist_destroy(metrics_hist_t **h_p);

/* Records one value (nanoseconds, or any unit). Values beyond ~2^42 count in
 * the top bucket (max stays exact). Lock-free; thread-safe. */
void metrics_hist_record(metrics_hist_t *h, uint64_t ns);

/* The value below which a fraction q (0..1) of the records fall. 0 when
 * empty. Thread-safe; a snapshot taken while others record is approximate. */
uint64_t metrics_hist_percentile(const metrics_hist_t *h, double q);

/* count, mean, min, max, p50, p95, p99 (all 0 when empty). Thread-safe. */
void metrics_hist_summary(const metrics_hist_t *h, metrics_summary_t *out);

/* For a Prometheus histogram: *count and *sum of the records, and in
 * cumulative[i] how many were at most bounds[i] (n increasing bounds, in
 * the recorded unit). A bound inside a bucket counts that bucket whole, so
 * a count may include records up to 1.6% above its bound. Zeros when h is
 * NULL. Lock-free; thread-safe; a snapshot taken while others record may
 * have a bucket's count above *count (prom_histogram clamps). */
void metrics_hist_cumulative(const metrics_hist_t *h, const uint64_t *bounds, size_t n,
                             uint64_t *cumulative, uint64_t *count, uint64_t *sum);

/* Empties h. Not atomic with respect to concurrent records. */
void metrics_hist_reset(metrics_hist_t *h);

/* One line per registered metric, sorted by name:
 *     counter <name> <value>
 *     hist <name> count=N mean=X min=N p50=N p95=N p99=N max=N
 * Thread-safe. */
void metrics_dump(FILE *f);

/* Zeroes every registered metric (tests and per-run reports); pointers stay
 * valid. Thread-safe but not atomic with respect to concurrent updates. */
void metrics_reset_all(void);

#endif
