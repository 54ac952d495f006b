/* test_metrics.c - counters, histogram precision and percentiles on known
 * distributions, the registry, dump format, OOM and concurrent recording. */
#include "test.h"

#include "common/alloc.h"
#include "common/metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

/* |got - want| <= rel * want */
static int near(uint64_t got, double want, double rel)
{
    return fabs((double)got - want) <= rel * want + 0.5;
}

TEST(metrics_single_value_precision)
{
    metrics_hist_t *h = metrics_hist_new();
    uint64_t v = 1;
    REQUIRE(h != NULL);
    /* values from 1 ns to ~1 h, a few per octave */
    for (int i = 0; v < UINT64_C(3600000000000); i++) {
        metrics_hist_reset(h);
        metrics_hist_record(h, v);
        metrics_hist_record(h, v + v / 100); /* within the bucket precision */
        CHECK(near(metrics_hist_percentile(h, 0.0), (double)v, 0.02));
        CHECK(metrics_hist_percentile(h, 1.0) <= v + v / 100);
        v = v * 13 / 10 + 1;
    }
    metrics_hist_destroy(&h);
    CHECK(h == NULL);
    metrics_hist_destroy(&h);
}

TEST(metrics_uniform_percentiles)
{
    metrics_hist_t *h = metrics_hist_new();
    metrics_summary_t s;
    REQUIRE(h != NULL);
    for (uint64_t v = 1; v <= 100000; v++)
        metrics_hist_record(h, v * 1000); /* 1 us .. 100 ms */
    metrics_hist_summary(h, &s);
    CHECK_EQ_INT(s.count, 100000);
    CHECK_EQ_INT(s.min, 1000);
    CHECK_EQ_INT(s.max, 100000000);
    CHECK(fabs(s.mean - 50000500.0) < 1.0);
    CHECK(near(s.p50, 50e6, 0.01));
    CHECK(near(s.p95, 95e6, 0.01));
    CHECK(near(s.p99, 99e6, 0.01));
    CHECK(near(metrics_hist_percentile(h, 0.10), 10e6, 0.01));
    metrics_hist_destroy(&h);
}

TEST(metrics_bimodal_and_exact_small)
{
    metrics_hist_t *h = metrics_hist_new();
    metrics_summary_t s;
    REQUIRE(h != NULL);
    for (int i = 0; i < 900; i++)
        metrics_hist_record(h, 1000);
    for (int i = 0; i < 100; i++)
        metrics_hist_record(h, 1000000);
    metrics_hist_summary(h, &s);
    CHECK(near(s.p50, 1000, 0.01));
    CHECK(near(metrics_hist_percentile(h, 0.90), 1000, 0.01));
    CHECK(near(metrics_hist_percentile(h, 0.901), 1e6, 0.01));
    CHECK_EQ_INT(s.p95, 1000000); /* clamped to the exact max */
    CHECK_EQ_INT(s.p99, 1000000);
    metrics_hist_reset(h);
    for (uint64_t v = 0; v < 100; v++) /* small values are exact */
        metrics_hist_record(h, v);
    CHECK_EQ_INT(metrics_hist_percentile(h, 0.5), 49);
    CHECK_EQ_INT(metrics_hist_percentile(h, 0.0), 0);
    CHECK_EQ_INT(metrics_hist_percentile(h, 1.0), 99);
    CHECK_EQ_INT(metrics_hist_percentile(h, 7.0), 99);
    metrics_hist_destroy(&h);
}

TEST(metrics_empty_and_huge)
{
    metrics_hist_t *h = metrics_hist_new();
    metrics_summary_t s;
    REQUIRE(h != NULL);
    metrics_hist_summary(h, &s);
    CHECK(s.count == 0 && s.min == 0 && s.max == 0 && s.p99 == 0 && s.mean == 0);
    CHECK_EQ_INT(metrics_hist_percentile(h, 0.5), 0);
    metrics_hist_record(h, UINT64_C(10000000000000)); /* beyond the range */
    metrics_hist_record(h, UINT64_MAX);
    metrics_hist_summary(h, &s);
    CHECK(s.count == 2 && s.min == UINT64_C(10000000000000) && s.max == UINT64_MAX);
    CHECK(s.p50 >= s.min && s.p99 <= s.max);
    metrics_hist_destroy(&h);
}

TEST(metrics_registry)
{
    metrics_counter_t *a = metrics_counter("test.reg.files"), *b;
    metrics_hist_t *h = metrics_hist("test.reg.files"), *h2;
    REQUIRE(a != NULL && h != NULL);
    b = metrics_counter("test.reg.files");
    h2 = metrics_hist("test.reg.files");
    CHECK(a == b);
    CHECK(h == h2);
    CHECK((void *)a != (void *)h);
    metrics_counter_add(a, 3);
    metrics_counter_add(b, 4);
    CHECK_EQ_INT(metrics_counter_get(a), 7);
    CHECK(metrics_counter(NULL) == NULL);
    CHECK(metrics_counter("") == NULL);
    CHECK(metrics_hist("") == NULL);
    /* NULL metrics are no-ops */
    metrics_counter_add(NULL, 1);
    CHECK_EQ_INT(metrics_counter_get(NULL), 0);
    metrics_hist_record(NULL, 5);
    metrics_hist_reset(NULL);
    CHECK_EQ_INT(metrics_hist_percentile(NULL, 0.5), 0);
}

TEST(metrics_registry_oom)
{
    for (long k = 0; k < 3; k++) {
        alloc_fail_after(k);
        CHECK(metrics_counter("test.oom.counter") == NULL);
        alloc_fail_after(k);
        CHECK(metrics_hist("test.oom.hist") == NULL);
    }
    alloc_fail_after(-1);
    CHECK(metrics_counter("test.oom.counter") != NULL);
    alloc_fail_after(0);
    CHECK(metrics_hist_new() == NULL);
}

TEST(metrics_dump_sorted)
{
    FILE *f = tmpfile();
    char line[256];
    int zeta = -1, alpha = -1, hist = -1, n = 0;
    REQUIRE(f != NULL);
    metrics_counter_add(metrics_counter("test.dump.zeta"), 2);
    metrics_counter_add(metrics_counter("test.dump.alpha"), 1);
    metrics_hist_record(metrics_hist("test.dump.lat"), 100);
    metrics_dump(f);
    rewind(f);
    while (fgets(line, sizeof line, f) != NULL) {
        if (strcmp(line, "counter test.dump.zeta 2\n") == 0)
            zeta = n;
        if (strcmp(line, "counter test.dump.alpha 1\n") == 0)
            alpha = n;
        if (strcmp(line, "hist test.dump.lat count=1 mean=100.0 min=100 p50=100 p95=100 "
                         "p99=100 max=100\n") == 0)
            hist = n;
        n++;
    }
    CHECK(alpha >= 0 && zeta > alpha && hist > zeta);
    fclose(f);
    metrics_reset_all();
    CHECK_EQ_INT(metrics_counter_get(metrics_counter("test.dump.zeta")), 0);
}

static void *record_worker(void *arg)
{
    metrics_hist_t *h = arg;
    metrics_counter_t *c = metrics_counter("test.threads.count");
    for (uint64_t i = 1; i <= 100000; i++) {
        metrics_hist_record(h, i);
        metrics_counter_add(c, 1);
    }
    return NULL;
}

TEST(metrics_threads)
{
    metrics_hist_t *h = metrics_hist("test.threads.lat");
    metrics_summary_t s;
    pthread_t th[4];
    uint64_t before = metrics_counter_get(metrics_counter("test.threads.count"));
    REQUIRE(h != NULL);
    for (int i = 0; i < 4; i++)
        REQUIRE(pthread_create(&th[i], NULL, record_worker, h) == 0);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    metrics_hist_summary(h, &s);
    CHECK_EQ_INT(s.count, 400000);
    CHECK(s.min == 1 && s.max == 100000);
    CHECK(near(s.p50, 50000, 0.01));
    CHECK_EQ_INT(metrics_counter_get(metrics_counter("test.threads.count")) - before, 400000);
}
