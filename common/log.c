/* log.c - level from the environment, whole-line writes under a mutex.
 *
 * Each line is formatted into a stack buffer first and written with one
 * fputs under the lock, so the lock is held only for the write and a slow
 * formatter never blocks other threads. */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LINE_MAX_BYTES 1024
#define DEFAULT_LEVEL LOG_LEVEL_WARN

_Atomic int log__level = -1;

static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;
static FILE *out_file; /* NULL: stderr */

static const char *const names[] = {"off", "error", "warn", "info", "debug", "trace"};

const char *log_level_name(log_level_t level)
{
    if ((int)level < 0 || (size_t)level >= sizeof names / sizeof names[0])
        return "?";
    return names[level];
}

st_rc_t log_level_parse(const char *s, log_level_t *out)
{
    if (s == NULL)
        return ST_EINVAL;
    if (s[0] >= '0' && s[0] <= '5' && s[1] == '\0') {
        *out = (log_level_t)(s[0] - '0');
        return ST_OK;
    }
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(s, names[i]) == 0) {
            *out = (log_level_t)i;
            return ST_OK;
        }
    if (strcasecmp(s, "warning") == 0 || strcasecmp(s, "none") == 0) {
        *out = s[0] == 'n' || s[0] == 'N' ? LOG_LEVEL_OFF : LOG_LEVEL_WARN;
        return ST_OK;
    }
    return ST_EINVAL;
}

int log__init_level(void)
{
    const char *env = getenv("STRATA_LOG");
    log_level_t level = DEFAULT_LEVEL;
    int expected = -1;
    bool bad = env != NULL && *env != '\0' && log_level_parse(env, &level) != ST_OK;

    if (bad)
        level = DEFAULT_LEVEL;
    /* Only the first caller (or log_set_level) decides; racing callers agree. */
    atomic_compare_exchange_strong(&log__level, &expected, (int)level);
    if (bad)
        log_msg(LOG_LEVEL_WARN, "STRATA_LOG=%s not understood, using %s", env,
                log_level_name(DEFAULT_LEVEL));
    return atomic_load(&log__level);
}

void log_set_level(log_level_t level)
{
    if ((int)level < 0)
        level = LOG_LEVEL_OFF;
    if (level > LOG_LEVEL_TRACE)
        level = LOG_LEVEL_TRACE;
    atomic_store(&log__level, (int)level);
}

log_level_t log_get_level(void)
{
    int cur = atomic_load(&log__level);
    return (log_level_t)(cur < 0 ? log__init_level() : cur);
}

void log_set_output(FILE *f)
{
    pthread_mutex_lock(&out_mu);
    out_file = f;
    pthread_mutex_unlock(&out_mu);
}

void log_msg(log_level_t level, const char *fmt, ...)
{
    char line[LINE_MAX_BYTES];
    va_list ap;
    int head, n;
    size_t len;

    if (!log_enabled(level))
        return;
    head = snprintf(line, sizeof line, "strata: %s: ", log_level_name(level));
    va_start(ap, fmt);
    n = vsnprintf(line + head, sizeof line - (size_t)head, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = snprintf(line + head, sizeof line - (size_t)head, "(bad log format: %s)", fmt);
    len = strlen(line);
    if ((size_t)head + (size_t)n >= sizeof line - 1) { /* cut: mark it, keep room for \n */
        memcpy(line + sizeof line - 5, "...", 4);
        len = sizeof line - 2;
    }
    if (len > 0 && line[len - 1] == '\n')
        len--;
    line[len] = '\n';
    line[len + 1] = '\0';
    pthread_mutex_lock(&out_mu);
    fputs(line, out_file != NULL ? out_file : stderr);
    fflush(out_file != NULL ? out_file : stderr);
    pthread_mutex_unlock(&out_mu);
}
