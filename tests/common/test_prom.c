/* test_prom.c - the Prometheus text writer: families, labels and their
 * escaping, real values, histograms (cumulative, clamped, +Inf, _sum,
 * _count), out of memory; and metrics_hist_cumulative, which feeds it. */
#include "test.h"

#include "common/alloc.h"
#include "common/metrics.h"
#include "common/prom.h"

#include <math.h>

/* b's text as a C string (b keeps a spare byte: buf_append_byte). */
static const char *text_of(buf_t *b)
{
    if (buf_append_byte(b, '\0') != ST_OK)
        return "";
    b->len--;
    return (const char *)b->data;
}

TEST(prom_family_and_samples)
{
    buf_t b;
    prom_label_t two[] = {{"tier", "disk"}, {"reason", "x"}};

    buf_init(&b);
    CHECK(prom_family(&b, "strata_jobs_total", PROM_COUNTER, "Jobs.\nAll of them \\ here.") ==
          ST_OK);
    CHECK(prom_sample(&b, "strata_jobs_total", NULL, 0, UINT64_C(18446744073709551615)) == ST_OK);
    CHECK(prom_sample(&b, "strata_jobs_total", two, 2, 7) == ST_OK);
    CHECK_STREQ(text_of(&b), "# HELP strata_jobs_total Jobs.\\nAll of them \\\\ here.\n"
                             "# TYPE strata_jobs_total counter\n"
                             "strata_jobs_total 18446744073709551615\n"
                             "strata_jobs_total{tier=\"disk\",reason=\"x\"} 7\n");
    buf_free(&b);
}

TEST(prom_label_escaping)
{
    buf_t b;

    buf_init(&b);
    CHECK(prom_sample(&b, "m", &(prom_label_t){"worker", "a\"b\\c\nd"}, 1, 1) == ST_OK);
    CHECK_STREQ(text_of(&b), "m{worker=\"a\\\"b\\\\c\\nd\"} 1\n");
    buf_free(&b);
}

TEST(prom_real_values)
{
    buf_t b;

    buf_init(&b);
    CHECK(prom_family(&b, "g", PROM_GAUGE, "") == ST_OK);
    CHECK(prom_sample_real(&b, "g", NULL, 0, 0.05) == ST_OK);
    CHECK(prom_sample_real(&b, "g", NULL, 0, 0.1 + 0.2) == ST_OK); /* needs 17 digits */
    CHECK(prom_sample_real(&b, "g", NULL, 0, NAN) == ST_OK);
    CHECK(prom_sample_real(&b, "g", NULL, 0, -INFINITY) == ST_OK);
    CHECK_STREQ(text_of(&b), "# HELP g \n# TYPE g gauge\ng 0.05\ng 0.30000000000000004\ng NaN\n"
                             "g -Inf\n");
    buf_free(&b);
}

TEST(prom_histogram_shape)
{
    buf_t b;
    const double bounds[] = {0.1, 1, 2.5};
    /* a snapshot torn by concurrent records: 5 then 4 (kept at 5), then
       past count (cut to 6) */
    const uint64_t cum[] = {5, 4, 9};

    buf_init(&b);
    CHECK(prom_family(&b, "d_seconds", PROM_HISTOGRAM, "Time.") == ST_OK);
    CHECK(prom_histogram(&b, "d_seconds", bounds, cum, 3, 6, 1.5) == ST_OK);
    CHECK_STREQ(text_of(&b), "# HELP d_seconds Time.\n# TYPE d_seconds histogram\n"
                             "d_seconds_bucket{le=\"0.1\"} 5\n"
                             "d_seconds_bucket{le=\"1\"} 5\n"
                             "d_seconds_bucket{le=\"2.5\"} 6\n"
                             "d_seconds_bucket{le=\"+Inf\"} 6\n"
                             "d_seconds_sum 1.5\n"
                             "d_seconds_count 6\n");
    buf_free(&b);
}

TEST(prom_histogram_name_too_long)
{
    buf_t b;
    char name[200];

    memset(name, 'a', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    buf_init(&b);
    CHECK(prom_histogram(&b, name, NULL, NULL, 0, 0, 0) == ST_EINVAL);
    buf_free(&b);
}

TEST(prom_out_of_memory)
{
    buf_t b;
    st_rc_t rc = ST_OK;

    buf_init(&b);
    alloc_fail_after(0);
    for (int i = 0; i < 1000 && rc == ST_OK; i++)
        rc = prom_sample(&b, "a_fairly_long_metric_name_to_fill_the_buffer", NULL, 0, 1);
    alloc_fail_after(-1);
    CHECK(rc == ST_ENOMEM);
    buf_free(&b);
}

TEST(metrics_hist_cumulative_counts)
{
    metrics_hist_t *h = metrics_hist_new();
    const uint64_t bounds[] = {10, 100, 1000000};
    uint64_t cum[3], count, sum;

    REQUIRE(h != NULL);
    metrics_hist_cumulative(h, bounds, 3, cum, &count, &sum);
    CHECK(count == 0 && sum == 0 && cum[0] == 0 && cum[2] == 0);
    metrics_hist_record(h, 5);
    metrics_hist_record(h, 10);
    metrics_hist_record(h, 50);
    metrics_hist_record(h, 500000);
    metrics_hist_record(h, 5000000);
    metrics_hist_cumulative(h, bounds, 3, cum, &count, &sum);
    CHECK_EQ_INT(count, 5);
    CHECK_EQ_INT(sum, 5 + 10 + 50 + 500000 + 5000000);
    CHECK_EQ_INT(cum[0], 2); /* exact below 128 */
    CHECK_EQ_INT(cum[1], 3);
    CHECK_EQ_INT(cum[2], 4);
    metrics_hist_cumulative(NULL, bounds, 3, cum, &count, &sum);
    CHECK(count == 0 && cum[1] == 0);
    metrics_hist_destroy(&h);
}
