/* log.h - leveled diagnostics of strata itself on stderr.
 *
 * Logs say what failed, where, and what happens next. The level comes from
 * the STRATA_LOG environment variable (error, warn, info, debug, trace, off,
 * or 0-5; default warn), read on first use. The LOG_* macros test the level
 * before evaluating their arguments, so a disabled trace line in a hot loop
 * costs one relaxed atomic load and a branch. Lines are written whole under a
 * lock, so threads never interleave within a line:
 *     strata: warn: cache .strata-cache: no space, going on without */
#ifndef STRATA_LOG_H
#define STRATA_LOG_H

#include "common/status.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>

typedef enum {
    LOG_LEVEL_OFF = 0,
    LOG_LEVEL_ERROR = 1,
    LOG_LEVEL_WARN = 2,
    LOG_LEVEL_INFO = 3,
    LOG_LEVEL_DEBUG = 4,
    LOG_LEVEL_TRACE = 5
} log_level_t;

/* Private to log.c and the macros below: the level, -1 before first use. */
extern _Atomic int log__level;
int log__init_level(void);

/* True when messages of this level are written. Thread-safe. */
static inline bool log_enabled(log_level_t level)
{
    int cur = atomic_load_explicit(&log__level, memory_order_relaxed);

    if (cur < 0)
        cur = log__init_level();
    return (int)level <= cur && level != LOG_LEVEL_OFF;
}

/* Writes "strata: <level>: <message>\n" when level is enabled (a trailing
 * newline in fmt is not doubled; a line longer than 1 KiB is cut and ends in
 * "..."). Thread-safe. Prefer the macros, which skip argument evaluation. */
void log_msg(log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Macros, not functions, so that disabled levels do not evaluate arguments. */
#define LOG_AT(level, ...)                                                                         \
    do {                                                                                           \
        if (log_enabled(level))                                                                    \
            log_msg(level, __VA_ARGS__);                                                           \
    } while (0)
#define LOG_ERROR(...) LOG_AT(LOG_LEVEL_ERROR, __VA_ARGS__)
#define LOG_WARN(...) LOG_AT(LOG_LEVEL_WARN, __VA_ARGS__)
#define LOG_INFO(...) LOG_AT(LOG_LEVEL_INFO, __VA_ARGS__)
#define LOG_DEBUG(...) LOG_AT(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define LOG_TRACE(...) LOG_AT(LOG_LEVEL_TRACE, __VA_ARGS__)

/* Overrides the level (tests, --verbose). Values beyond TRACE are clamped.
 * Thread-safe. */
void log_set_level(log_level_t level);
log_level_t log_get_level(void);

/* Sends lines to f instead of stderr (NULL: back to stderr). f is borrowed: it
 * must stay open until replaced. Thread-safe. */
void log_set_output(FILE *f);

/* Parses a level name (case-insensitive; "warning" and "none" accepted) or a
 * digit 0-5. ST_EINVAL when s is none of them; *out untouched then. */
st_rc_t log_level_parse(const char *s, log_level_t *out);

/* "error", "warn", ...; static, never NULL. */
const char *log_level_name(log_level_t level);

#endif
