/* test_progress.c - the progress line: its text, its counters under
 * concurrent adds, and what the drawing thread writes. */
#include "test.h"

#include "run/progress.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

static void format(const size_t v[PROGRESS_N], unsigned width, char *out, size_t cap)
{
    progress_format("strata", v, width, out, cap);
}

TEST(progress_format_scanning)
{
    size_t v[PROGRESS_N] = {[PROGRESS_FILES] = 200, [PROGRESS_SCANNED] = 50};
    char line[256];

    format(v, 0, line, sizeof line);
    CHECK_STREQ(line, "strata [#####...............] 50/200 files");
    v[PROGRESS_CACHED] = 10;
    v[PROGRESS_WORKERS] = 1;
    format(v, 0, line, sizeof line);
    CHECK_STREQ(line, "strata [#####...............] 50/200 files (10 cached), 1 worker");
    v[PROGRESS_WORKERS] = 2;
    format(v, 0, line, sizeof line);
    CHECK(strstr(line, ", 2 workers") != NULL);
}

TEST(progress_format_checking)
{
    size_t v[PROGRESS_N] = {[PROGRESS_FILES] = 200,
                            [PROGRESS_SCANNED] = 200,
                            [PROGRESS_COMPS] = 40,
                            [PROGRESS_CHECKED] = 40};
    char line[256];

    format(v, 0, line, sizeof line);
    CHECK_STREQ(line, "strata [####################] 40/40 checks, 200 files");
}

TEST(progress_format_queued_and_untotalled_checks)
{
    size_t v[PROGRESS_N] = {[PROGRESS_FILES] = 10, [PROGRESS_SCANNED] = 10, [PROGRESS_CHECKED] = 3};
    char line[256];

    format(v, 0, line, sizeof line);
    CHECK_STREQ(line, "strata [####################] 10/10 files, 3 checks");
    v[PROGRESS_QUEUED] = 1;
    format(v, 0, line, sizeof line);
    CHECK_STREQ(line, "strata: waiting, 1 batch ahead");
    v[PROGRESS_QUEUED] = 2;
    format(v, 0, line, sizeof line);
    CHECK_STREQ(line, "strata: waiting, 2 batches ahead");
}

TEST(progress_format_odd_counts)
{
    /* more done than total (a recount) is a full bar; nothing to do is empty */
    size_t v[PROGRESS_N] = {[PROGRESS_FILES] = 3, [PROGRESS_SCANNED] = 7};
    size_t zero[PROGRESS_N] = {0};
    char line[256];

    format(v, 0, line, sizeof line);
    CHECK(strstr(line, "[####################] 7/3 files") != NULL);
    format(zero, 0, line, sizeof line);
    CHECK_STREQ(line, "strata [....................] 0/0 files");
}

TEST(progress_format_fits_width_and_buffer)
{
    size_t v[PROGRESS_N] = {[PROGRESS_FILES] = 123456,
                            [PROGRESS_SCANNED] = 1234,
                            [PROGRESS_CACHED] = 99,
                            [PROGRESS_WORKERS] = 64};
    char line[256], tiny[10];

    format(v, 30, line, sizeof line);
    CHECK_EQ_INT(strlen(line), 29);
    CHECK(strncmp(line, "strata [", 8) == 0);
    format(v, 0, tiny, sizeof tiny);
    CHECK_STREQ(tiny, "strata [.");
}

typedef struct {
    progress_t *p;
} adder_t;

static void *adder(void *arg)
{
    adder_t *a = arg;
    for (int i = 0; i < 10000; i++)
        progress_add(a->p, PROGRESS_SCANNED, 1);
    return NULL;
}

TEST(progress_counts_from_threads)
{
    progress_t *p = progress_new(NULL, "strata");
    pthread_t t[4];
    adder_t a = {.p = p};

    CHECK(p != NULL);
    for (int i = 0; i < 4; i++)
        CHECK_EQ_INT(pthread_create(&t[i], NULL, adder, &a), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    CHECK_EQ_INT(progress_get(p, PROGRESS_SCANNED), 40000);
    progress_set(p, PROGRESS_WORKERS, 3);
    CHECK_EQ_INT(progress_get(p, PROGRESS_WORKERS), 3);
    CHECK_EQ_INT(progress_get(p, PROGRESS_N), 0);
    progress_destroy(&p);
    CHECK(p == NULL);
    /* NULL is a progress that does nothing */
    progress_add(NULL, PROGRESS_FILES, 1);
    CHECK_EQ_INT(progress_get(NULL, PROGRESS_FILES), 0);
    progress_destroy(&p);
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static size_t slurp(FILE *f, char *out, size_t cap)
{
    size_t n;
    rewind(f);
    n = fread(out, 1, cap - 1, f);
    out[n] = '\0';
    return n;
}

TEST(progress_quick_run_draws_nothing)
{
    FILE *f = tmpfile();
    progress_t *p;
    char text[4096];

    CHECK(f != NULL);
    p = progress_new(f, "strata");
    progress_set(p, PROGRESS_FILES, 5);
    progress_destroy(&p);
    CHECK_EQ_INT(slurp(f, text, sizeof text), 0);
    fclose(f);
}

TEST(progress_draws_then_erases)
{
    FILE *f = tmpfile();
    progress_t *p;
    char text[16384];

    CHECK(f != NULL);
    p = progress_new(f, "strata");
    progress_set(p, PROGRESS_FILES, 4);
    progress_set(p, PROGRESS_SCANNED, 2);
    sleep_ms(PROGRESS_DELAY_MS + 3 * PROGRESS_TICK_MS);
    progress_destroy(&p);
    slurp(f, text, sizeof text);
    CHECK(strncmp(text, "\rstrata [##########..........] 2/4 files\033[K", 43) == 0);
    /* the last thing written erases the line */
    CHECK(strlen(text) >= 4 && strcmp(text + strlen(text) - 4, "\r\033[K") == 0);
    fclose(f);
    CHECK(!progress_wanted(NULL, false));
    CHECK(!progress_wanted(stderr, true));
}

TEST(progress_clear_erases_until_the_next_tick)
{
    FILE *f = tmpfile();
    progress_t *p;
    char text[16384];
    size_t len;

    CHECK(f != NULL);
    p = progress_new(f, "strata");
    progress_set(p, PROGRESS_FILES, 1);
    sleep_ms(PROGRESS_DELAY_MS + PROGRESS_TICK_MS / 2);
    progress_clear(p);
    len = slurp(f, text, sizeof text);
    CHECK(len >= 4 && strcmp(text + len - 4, "\r\033[K") == 0);
    sleep_ms(2 * PROGRESS_TICK_MS); /* drawn again */
    fseek(f, 0, SEEK_END);
    progress_destroy(&p);
    len = slurp(f, text, sizeof text);
    CHECK(strstr(text, "\r\033[K\rstrata [") != NULL);
    CHECK(strcmp(text + len - 4, "\r\033[K") == 0);
    progress_clear(NULL);
    fclose(f);
}
