/* daemon_metrics.c - the coordinator's /metrics, /healthz and /readyz
 * (coordinator/metricsd.h).
 *
 * The page is written on the endpoint's thread, but most of what it shows
 * belongs to the main thread alone: the dispatcher is single-threaded, the
 * queue and the message counts are the main loop's. So the main loop
 * copies them into dm->snap every 100 ms (a few kilobytes: the counts,
 * and the names and slots of 32 workers) under snap_lock, which it only ever tries: when the
 * page's thread holds it, the copy waits for the next turn, and the
 * dispatcher never waits for HTTP. The page copies the snapshot out under
 * the same lock and writes the text without it. What is thread-safe by
 * itself is read directly: the cache's counters (cas_counters: no table
 * scan) and the batch-time histogram (common/metrics.h, atomic). */
#include "coordinator/daemon_private.h"

#include "common/clock.h"
#include "common/metrics.h"
#include "common/prom.h"

#include <stdio.h>
#include <string.h>

#define SNAPSHOT_MS 100

/* The batch-time histogram's bounds (seconds): a re-submit answered from
 * the cache takes milliseconds, a cold project minutes. */
static const double batch_bounds[] = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                      2.5,  5,     10,   30,  60,   120, 300};
#define N_BATCH_BOUNDS (sizeof batch_bounds / sizeof batch_bounds[0])

static metrics_hist_t *batch_hist(void)
{
    return metrics_hist("coordinator.batch_ns");
}

void daemon__metrics_batch(uint64_t ms)
{
    metrics_hist_record(batch_hist(), ms * 1000000u);
}

void daemon__metrics_turn(daemon_t *dm)
{
    uint64_t now = clock_ms();
    daemon_snapshot_t *s = &dm->snap;
    dispatch_worker_t rest;
    size_t n;

    atomic_store(&dm->heartbeat_ms, now);
    if (dm->metricsd == NULL || (dm->snap.taken && now - dm->snap_ms < SNAPSHOT_MS) ||
        pthread_mutex_trylock(&dm->snap_lock) != 0)
        return;
    dm->snap_ms = now;
    s->taken = true;
    dispatch_stats(dm->d, &s->ds);
    s->batches_queued = dm->n_queue;
    s->batches_active = dm->n_active;
    s->client_dropped = dm->dropped;
    s->client_refused = dm->refused;
    s->client_bytes_in = dm->bytes_in;
    s->upload_bytes_in = dm->upload_bytes;
    n = dispatch_workers(dm->d, s->workers, DAEMON_METRICS_WORKERS, &rest);
    s->n_workers = n < DAEMON_METRICS_WORKERS ? n : DAEMON_METRICS_WORKERS;
    s->other_slots = rest.slots;
    s->other_busy = rest.busy;
    pthread_mutex_unlock(&dm->snap_lock);
}

/* ---- the page (the endpoint's thread) ---------------------------------------------- */

typedef struct {
    const char *name;
    prom_type_t type;
    const char *help;
    uint64_t value;
} scalar_t;

static st_rc_t scalars(buf_t *b, const scalar_t *t, size_t n)
{
    st_rc_t rc = ST_OK;

    for (size_t i = 0; i < n && rc == ST_OK; i++) {
        rc = prom_family(b, t[i].name, t[i].type, t[i].help);
        if (rc == ST_OK)
            rc = prom_sample(b, t[i].name, NULL, 0, t[i].value);
    }
    return rc;
}

static st_rc_t jobs_and_batches(buf_t *b, const daemon_snapshot_t *s)
{
    const dispatch_stats_t *d = &s->ds;
    const scalar_t t[] = {
        {"strata_jobs_dispatched_total", PROM_COUNTER,
         "Job attempts sent to workers (retries included).", d->dispatched},
        {"strata_jobs_completed_total", PROM_COUNTER, "Jobs a worker ran to a result.",
         d->completed},
        {"strata_jobs_retried_total", PROM_COUNTER,
         "Jobs sent again after their worker was lost or their attempt timed out.", d->retries},
        {"strata_jobs_failed_total", PROM_COUNTER,
         "Jobs that ended without a result: the analysis failed, or every retry was lost.",
         d->errors + d->lost},
        {"strata_jobs_timed_out_total", PROM_COUNTER,
         "Job attempts past the job timeout (--job-timeout).", d->timeouts},
        {"strata_jobs_queued", PROM_GAUGE, "Jobs waiting for a worker slot.", d->queued},
        {"strata_jobs_in_flight", PROM_GAUGE, "Jobs sent to workers and not answered yet.",
         d->in_flight},
        {"strata_batches_queued", PROM_GAUGE, "Client batches waiting for their turn.",
         s->batches_queued},
        {"strata_batches_active", PROM_GAUGE, "Client batches being served.", s->batches_active},
        {"strata_workers_connected", PROM_GAUGE, "Workers registered now.", d->workers},
        {"strata_workers_joined_total", PROM_COUNTER, "Workers registered since the start.",
         d->joined},
        {"strata_workers_dropped_total", PROM_COUNTER,
         "Workers dropped: silent, unreachable, or said goodbye.", d->dropped},
    };
    return scalars(b, t, sizeof t / sizeof t[0]);
}

static st_rc_t bytes(buf_t *b, const daemon_snapshot_t *s)
{
    const scalar_t t[] = {
        {"strata_client_received_bytes_total", PROM_COUNTER,
         "Bytes of the messages received from clients.", s->client_bytes_in},
        {"strata_client_uploaded_bytes_total", PROM_COUNTER,
         "Bytes of the uploads (file contents, compressed) received from clients.",
         s->upload_bytes_in},
        {"strata_worker_sent_bytes_total", PROM_COUNTER,
         "Bytes of the job messages sent to workers.", s->ds.bytes_out},
        {"strata_worker_received_bytes_total", PROM_COUNTER,
         "Bytes of the messages received from workers.", s->ds.bytes_in},
    };
    return scalars(b, t, sizeof t / sizeof t[0]);
}

static st_rc_t refused(buf_t *b, const daemon_snapshot_t *s)
{
    static const char name[] = "strata_messages_refused_total";
    const struct {
        const char *reason;
        uint64_t n;
    } t[] = {
        {"client_malformed", s->client_dropped},     {"client_over_limit", s->client_refused},
        {"worker_malformed", s->ds.malformed},       {"worker_refused", s->ds.refused},
        {"worker_unauthorized", s->ds.unauthorized}, {"worker_late_result", s->ds.late},
    };
    st_rc_t rc = prom_family(b, name, PROM_COUNTER,
                             "Messages dropped or refused, by reason (see the documentation).");

    for (size_t i = 0; i < sizeof t / sizeof t[0] && rc == ST_OK; i++)
        rc = prom_sample(b, name, &(prom_label_t){"reason", t[i].reason}, 1, t[i].n);
    return rc;
}

/* strata_worker_busy_slots and strata_worker_slots per worker. */
static st_rc_t per_worker(buf_t *b, const daemon_snapshot_t *s)
{
    static const char *const names[] = {"strata_worker_busy_slots", "strata_worker_slots"};
    static const char *const helps[] = {
        "Slots of a worker running a job, by worker (\"other\": the sum past the first 32).",
        "Slots (analysis threads) of a worker, by worker (\"other\": the sum past the first 32)."};
    st_rc_t rc = ST_OK;

    for (int k = 0; k < 2 && rc == ST_OK; k++) {
        rc = prom_family(b, names[k], PROM_GAUGE, helps[k]);
        for (size_t i = 0; i < s->n_workers && rc == ST_OK; i++)
            rc = prom_sample(b, names[k], &(prom_label_t){"worker", s->workers[i].name}, 1,
                             k == 0 ? s->workers[i].busy : s->workers[i].slots);
        if (rc == ST_OK && s->ds.workers > s->n_workers)
            rc = prom_sample(b, names[k], &(prom_label_t){"worker", "other"}, 1,
                             k == 0 ? s->other_busy : s->other_slots);
    }
    return rc;
}

static st_rc_t cache_and_batches(buf_t *b, cas_t *cache)
{
    cas_stats_t cs = {0};
    uint64_t bounds_ns[N_BATCH_BOUNDS], cumulative[N_BATCH_BOUNDS], count, sum_ns;
    st_rc_t rc;

    if (cache != NULL)
        cas_counters(cache, &cs);
    rc = prom_family(b, "strata_cache_hits_total", PROM_COUNTER,
                     "Cache lookups answered, by tier (memory, disk).");
    if (rc == ST_OK)
        rc = prom_sample(b, "strata_cache_hits_total", &(prom_label_t){"tier", "memory"}, 1,
                         cs.mem.hits);
    if (rc == ST_OK)
        rc = prom_sample(b, "strata_cache_hits_total", &(prom_label_t){"tier", "disk"}, 1,
                         cs.disk.hits);
    if (rc == ST_OK)
        rc = prom_family(b, "strata_cache_misses_total", PROM_COUNTER,
                         "Cache lookups a tier could not answer, by tier (memory, disk).");
    if (rc == ST_OK)
        rc = prom_sample(b, "strata_cache_misses_total", &(prom_label_t){"tier", "memory"}, 1,
                         cs.mem.misses);
    if (rc == ST_OK)
        rc = prom_sample(b, "strata_cache_misses_total", &(prom_label_t){"tier", "disk"}, 1,
                         cs.disk.misses);
    for (size_t i = 0; i < N_BATCH_BOUNDS; i++)
        bounds_ns[i] = (uint64_t)(batch_bounds[i] * 1e9);
    metrics_hist_cumulative(batch_hist(), bounds_ns, N_BATCH_BOUNDS, cumulative, &count, &sum_ns);
    if (rc == ST_OK)
        rc = prom_family(b, "strata_batch_duration_seconds", PROM_HISTOGRAM,
                         "Time from a batch's start to its answer.");
    if (rc == ST_OK)
        rc = prom_histogram(b, "strata_batch_duration_seconds", batch_bounds, cumulative,
                            N_BATCH_BOUNDS, count, (double)sum_ns / 1e9);
    return rc;
}

static bool render(void *ctx, buf_t *out)
{
    daemon_t *dm = ctx;
    daemon_snapshot_t s;
    st_rc_t rc;

    pthread_mutex_lock(&dm->snap_lock);
    s = dm->snap;
    pthread_mutex_unlock(&dm->snap_lock);
    rc = jobs_and_batches(out, &s);
    if (rc == ST_OK)
        rc = per_worker(out, &s);
    if (rc == ST_OK)
        rc = bytes(out, &s);
    if (rc == ST_OK)
        rc = refused(out, &s);
    if (rc == ST_OK)
        rc = cache_and_batches(out, dm->cache);
    return rc == ST_OK;
}

static bool alive(void *ctx)
{
    daemon_t *dm = ctx;

    return clock_ms() - atomic_load(&dm->heartbeat_ms) < METRICSD_STALE_MS;
}

static bool ready(void *ctx)
{
    daemon_t *dm = ctx;

    return atomic_load(&dm->ready) && !daemon__stopping(dm);
}

st_rc_t daemon__metrics_start(daemon_t *dm, st_err_t *err)
{
    metricsd_opts_t o = {.bind = dm->opts->metrics_bind,
                         .render = render,
                         .alive = alive,
                         .ready = ready,
                         .ctx = dm};

    if (dm->opts->metrics_bind == NULL)
        return ST_OK;
    atomic_store(&dm->heartbeat_ms, clock_ms());
    if ((dm->metricsd = metricsd_start(&o, err)) == NULL)
        return err != NULL && err->code != ST_OK ? err->code : ST_EIO;
    fprintf(dm->log, "strata coordinator: metrics on %s/metrics\n", metricsd_url(dm->metricsd));
    return ST_OK;
}

void daemon__metrics_stop(daemon_t *dm)
{
    atomic_store(&dm->ready, false);
    metricsd_stop(&dm->metricsd);
}
