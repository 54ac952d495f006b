/* clock.h - the monotonic clock in milliseconds, and absolute deadlines
 * for the timed waits of pthreads (which take CLOCK_REALTIME unless the
 * condition variable says otherwise). Header only: each is a few lines. */
#ifndef STRATA_CLOCK_H
#define STRATA_CLOCK_H

#include <stdint.h>
#include <time.h>

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
