/* test_log.c - levels, STRATA_LOG parsing, line format, redirection,
 * argument evaluation when disabled, whole lines from many threads. */
#include "test.h"

#include "common/log.h"

#include <pthread.h>
#include <stdlib.h>

/* Everything written to f since it was opened, NUL-terminated (caller frees). */
static char *slurp(FILE *f)
{
    long n;
    char *s;
    fflush(f);
    n = ftell(f);
    s = calloc(1, (size_t)n + 1);
    rewind(f);
    if (s != NULL && fread(s, 1, (size_t)n, f) != (size_t)n)
        s[0] = 0;
    return s;
}

static int evaluated;
static int side_effect(void)
{
    return ++evaluated;
}

TEST(log_levels_and_format)
{
    FILE *f = tmpfile();
    log_level_t saved = log_get_level();
    char *s;
    REQUIRE(f != NULL);
    log_set_output(f);
    log_set_level(LOG_LEVEL_WARN);
    LOG_ERROR("cache %s: no space, going on without", ".strata-cache");
    LOG_WARN("two\n");
    LOG_INFO("hidden %d", side_effect());
    LOG_TRACE("hidden %d", side_effect());
    CHECK_EQ_INT(evaluated, 0);
    log_set_level(LOG_LEVEL_TRACE);
    LOG_TRACE("shown %d", side_effect());
    CHECK_EQ_INT(evaluated, 1);
    log_set_level(LOG_LEVEL_OFF);
    LOG_ERROR("hidden");
    log_msg(LOG_LEVEL_OFF, "never");
    log_set_output(NULL);
    s = slurp(f);
    CHECK_STREQ(s, "strata: error: cache .strata-cache: no space, going on without\n"
                   "strata: warn: two\n"
                   "strata: trace: shown 1\n");
    free(s);
    fclose(f);
    log_set_level((log_level_t)42);
    CHECK(log_get_level() == LOG_LEVEL_TRACE);
    log_set_level(saved);
}

TEST(log_long_line_cut)
{
    FILE *f = tmpfile();
    log_level_t saved = log_get_level();
    char big[3000], *s;
    size_t len;
    REQUIRE(f != NULL);
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    log_set_output(f);
    log_set_level(LOG_LEVEL_WARN);
    LOG_WARN("%s", big);
    log_set_output(NULL);
    log_set_level(saved);
    s = slurp(f);
    REQUIRE(s != NULL);
    len = strlen(s);
    CHECK(len > 1000 && len < 1024);
    CHECK(strncmp(s, "strata: warn: xxx", 17) == 0);
    CHECK(memcmp(s + len - 4, "...\n", 4) == 0);
    free(s);
    fclose(f);
}

TEST(log_level_parse_all)
{
    log_level_t l = LOG_LEVEL_INFO;
    CHECK(log_level_parse("error", &l) == ST_OK && l == LOG_LEVEL_ERROR);
    CHECK(log_level_parse("WARN", &l) == ST_OK && l == LOG_LEVEL_WARN);
    CHECK(log_level_parse("warning", &l) == ST_OK && l == LOG_LEVEL_WARN);
    CHECK(log_level_parse("Info", &l) == ST_OK && l == LOG_LEVEL_INFO);
    CHECK(log_level_parse("debug", &l) == ST_OK && l == LOG_LEVEL_DEBUG);
    CHECK(log_level_parse("trace", &l) == ST_OK && l == LOG_LEVEL_TRACE);
    CHECK(log_level_parse("off", &l) == ST_OK && l == LOG_LEVEL_OFF);
    CHECK(log_level_parse("none", &l) == ST_OK && l == LOG_LEVEL_OFF);
    CHECK(log_level_parse("4", &l) == ST_OK && l == LOG_LEVEL_DEBUG);
    CHECK(log_level_parse("0", &l) == ST_OK && l == LOG_LEVEL_OFF);
    l = LOG_LEVEL_INFO;
    CHECK(log_level_parse("6", &l) == ST_EINVAL);
    CHECK(log_level_parse("45", &l) == ST_EINVAL);
    CHECK(log_level_parse("", &l) == ST_EINVAL);
    CHECK(log_level_parse("verbose", &l) == ST_EINVAL);
    CHECK(log_level_parse(NULL, &l) == ST_EINVAL);
    CHECK(l == LOG_LEVEL_INFO);
    CHECK_STREQ(log_level_name(LOG_LEVEL_DEBUG), "debug");
    CHECK_STREQ(log_level_name((log_level_t)9), "?");
}

/* Re-reads STRATA_LOG as at start-up (tests only: resets the private level). */
static log_level_t level_from_env(const char *value)
{
    if (value != NULL)
        setenv("STRATA_LOG", value, 1);
    else
        unsetenv("STRATA_LOG");
    atomic_store(&log__level, -1);
    return log_get_level();
}

TEST(log_env_variable)
{
    log_level_t saved = log_get_level();
    const char *old = getenv("STRATA_LOG");
    char *keep = old != NULL ? strdup(old) : NULL;
    FILE *f = tmpfile();
    char *s;
    REQUIRE(f != NULL);
    log_set_output(f);
    CHECK(level_from_env(NULL) == LOG_LEVEL_WARN);
    CHECK(level_from_env("debug") == LOG_LEVEL_DEBUG);
    CHECK(level_from_env("1") == LOG_LEVEL_ERROR);
    CHECK(level_from_env("loud") == LOG_LEVEL_WARN); /* bad value: default, said once */
    log_set_output(NULL);
    s = slurp(f);
    CHECK_STREQ(s, "strata: warn: STRATA_LOG=loud not understood, using warn\n");
    free(s);
    fclose(f);
    level_from_env(keep);
    free(keep);
    log_set_level(saved);
}

static void *log_worker(void *arg)
{
    for (int i = 0; i < 500; i++)
        LOG_WARN("thread %d line %d with some padding text", (int)(long)arg, i);
    return NULL;
}

TEST(log_threads_whole_lines)
{
    FILE *f = tmpfile();
    log_level_t saved = log_get_level();
    pthread_t th[4];
    char *s, *line, *save = NULL;
    int lines = 0, bad = 0;
    REQUIRE(f != NULL);
    log_set_output(f);
    log_set_level(LOG_LEVEL_WARN);
    for (long i = 0; i < 4; i++)
        REQUIRE(pthread_create(&th[i], NULL, log_worker, (void *)i) == 0);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    log_set_output(NULL);
    log_set_level(saved);
    s = slurp(f);
    REQUIRE(s != NULL);
    for (line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        int t, n;
        char tail[64];
        lines++;
        if (sscanf(line, "strata: warn: thread %d line %d with some padding %63s", &t, &n, tail) !=
                3 ||
            strcmp(tail, "text") != 0)
            bad++;
    }
    CHECK_EQ_INT(lines, 2000);
    CHECK_EQ_INT(bad, 0);
    free(s);
    fclose(f);
}
