/* clock.h - the one clock of the project: the monotonic clock in
 * nanoseconds and milliseconds (intervals), the wall clock in milliseconds
 * (dates, such as a cache entry's last use), and absolute deadlines for the
 * timed waits of pthreads (which take CLOCK_REALTIME unless the condition
 * variable says otherwise). Header only: each is a few lines. */
#ifndef STRATA_CLOCK_H
#define STRATA_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Nanoseconds of CLOCK_MONOTONIC: for intervals, never for dates. */
static inline uint64_t clock_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

/* Milliseconds of CLOCK_REALTIME: dates, which may jump. */
static inline uint64_t clock_wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Milliseconds of CLOCK_MONOTONIC: for intervals, never for dates. */
static inline uint64_t clock_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The time ms milliseconds from now on clock clk, as the timespec a timed
 * wait takes. */
static inline struct timespec clock_deadline(clockid_t clk, unsigned ms)
{
    struct timespec until;

    clock_gettime(clk, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    return until;
}

#endif
